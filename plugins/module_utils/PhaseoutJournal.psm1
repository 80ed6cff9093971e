# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers

# The swap journal file on a Windows host: %ProgramData%\phaseout\journal.json. Loaded by
# win_kaspersky_collect (read), win_kaspersky_residue and swap_journal (read and write) with
#   #AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutJournal
# Thin on purpose: it reads the raw text and the ACL, and writes the text it is given. What the journal
# says, whether its ACL can be trusted and what to write next are decided on the controller
# (plugins/module_utils/journal.py and windows_journal.py).
#
# Writes are atomic and compare-and-swap: the caller passes the SHA-256 of the file it decided from
# ('' when there was none); a file that changed since (another run writing it) is left alone and the
# write throws. The new text goes to a temporary file in the same folder, is flushed to the disk and
# replaces the journal in one step ([System.IO.File]::Replace, or Move when there is none yet). The
# folder and the file get an ACL of their own (inheritance off): Administrators and SYSTEM, full
# control, owner Administrators. The well-known SIDs are used, never the (localized) account names.

$script:PhaseoutJournalMaxBytes = 1048576
$script:PhaseoutAdministrators = 'S-1-5-32-544'
$script:PhaseoutSystem = 'S-1-5-18'

Function Get-PhaseoutJournalPath {
    <#
    .SYNOPSIS
    %ProgramData%\phaseout\journal.json, resolved on the host (never taken from a parameter).
    #>
    [CmdletBinding()]
    param ()

    $root = [Environment]::GetFolderPath('CommonApplicationData')
    return [System.IO.Path]::Combine([System.IO.Path]::Combine($root, 'phaseout'), 'journal.json')
}

Function Get-PhaseoutSha256 {
    param([Byte[]]$Bytes)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $hash = $sha.ComputeHash($Bytes)
    }
    finally {
        $sha.Dispose()
    }
    return ([System.BitConverter]::ToString($hash) -replace '-', '').ToLowerInvariant()
}

Function Get-PhaseoutAclFact {
    <#
    .SYNOPSIS
    The owner and the access rules of a file or folder, as SIDs and numbers (raw; judged on the controller).
    #>
    param([String]$LiteralPath)
    $acl = Get-Acl -LiteralPath $LiteralPath
    $sidType = [System.Security.Principal.SecurityIdentifier]
    $rules = [System.Collections.Generic.List[Object]]@()
    foreach ($rule in $acl.GetAccessRules($true, $true, $sidType)) {
        $inheritOnly = [bool]($rule.PropagationFlags -band [System.Security.AccessControl.PropagationFlags]::InheritOnly)
        $rules.Add(@{
                sid = $rule.IdentityReference.Value
                rights = [Int64][Int32]$rule.FileSystemRights
                type = $rule.AccessControlType.ToString()
                inherited = $rule.IsInherited
                inherit_only = $inheritOnly
            })
    }
    return @{
        owner = $acl.GetOwner($sidType).Value
        protected = $acl.AreAccessRulesProtected
        rules = $rules
    }
}

Function Read-PhaseoutJournal {
    <#
    .SYNOPSIS
    The journal file as it is: whether it exists, its text, its SHA-256, the ACLs of the file and of its
    folder, or the error that kept it from being read. Never throws.
    #>
    [CmdletBinding()]
    param ()

    $path = Get-PhaseoutJournalPath
    $folder = [System.IO.Path]::GetDirectoryName($path)
    $result = @{
        path = $path
        exists = $false
        text = $null
        sha256 = ''
        error = $null
        acl = $null
        directory_acl = $null
    }
    try {
        if (Test-Path -LiteralPath $folder -PathType Container) {
            $result.directory_acl = Get-PhaseoutAclFact -LiteralPath $folder
        }
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
            return $result
        }
        $result.exists = $true
        $result.sha256 = $null
        $length = (Get-Item -LiteralPath $path -Force).Length
        if ($length -gt $script:PhaseoutJournalMaxBytes) {
            throw "the file is $length bytes long, more than a journal ever is ($($script:PhaseoutJournalMaxBytes))"
        }
        $bytes = [System.IO.File]::ReadAllBytes($path)
        $result.sha256 = Get-PhaseoutSha256 -Bytes $bytes
        $result.text = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false).GetString($bytes)
        $result.acl = Get-PhaseoutAclFact -LiteralPath $path
    }
    catch {
        $result.error = $_.Exception.Message
    }
    return $result
}

Function Set-PhaseoutJournalAcl {
    <#
    .SYNOPSIS
    Administrators and SYSTEM only, full control, inheritance off, owner Administrators. Applied to the folder
    on every write, so a folder someone else created first (ProgramData lets users create folders) is taken back.
    #>
    param([String]$LiteralPath, [Switch]$Folder)
    $administrators = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $script:PhaseoutAdministrators
    $system = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $script:PhaseoutSystem
    if ($Folder) {
        $acl = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
        $inheritance = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
    }
    else {
        $acl = New-Object -TypeName System.Security.AccessControl.FileSecurity
        $inheritance = [System.Security.AccessControl.InheritanceFlags]::None
    }
    $acl.SetAccessRuleProtection($true, $false)
    $acl.SetOwner($administrators)
    foreach ($sid in @($administrators, $system)) {
        $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $sid,
            [System.Security.AccessControl.FileSystemRights]::FullControl,
            $inheritance,
            [System.Security.AccessControl.PropagationFlags]::None,
            [System.Security.AccessControl.AccessControlType]::Allow
        )
        $acl.AddAccessRule($rule)
    }
    Set-Acl -LiteralPath $LiteralPath -AclObject $acl
}

Function Write-PhaseoutJournal {
    <#
    .SYNOPSIS
    Replace the journal with Text, atomically, if its SHA-256 is still Expected ('' = no journal yet).
    With -Remove, delete it under the same condition. Returns @{ path; sha256 } of what is on disk after.
    Throws, with nothing written, when the journal changed since it was read or cannot be written.
    #>
    [CmdletBinding()]
    param (
        [AllowEmptyString()][String]$Text,
        [AllowEmptyString()][String]$Expected,
        [Switch]$Remove
    )

    $path = Get-PhaseoutJournalPath
    $folder = [System.IO.Path]::GetDirectoryName($path)
    $current = ''
    if (Test-Path -LiteralPath $path -PathType Leaf) {
        $current = Get-PhaseoutSha256 -Bytes ([System.IO.File]::ReadAllBytes($path))
    }
    if ($current -ne $Expected.ToLowerInvariant()) {
        $was = $(if ($Expected) { "SHA-256 $Expected" } else { 'no journal' })
        $now = $(if ($current) { "SHA-256 $current" } else { 'no journal' })
        throw "the journal $path changed since it was read ($was then, $now now): another run is writing it"
    }
    if ($Remove) {
        if ($current) {
            [System.IO.File]::Delete($path)
        }
        return @{ path = $path; sha256 = '' }
    }

    if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
        [System.IO.Directory]::CreateDirectory($folder) | Out-Null
    }
    Set-PhaseoutJournalAcl -LiteralPath $folder -Folder

    $bytes = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false).GetBytes($Text)
    $temporary = [System.IO.Path]::Combine($folder, ".journal-$([Guid]::NewGuid().ToString('N')).tmp")
    try {
        $stream = New-Object -TypeName System.IO.FileStream -ArgumentList @(
            $temporary,
            [System.IO.FileMode]::CreateNew,
            [System.IO.FileAccess]::Write,
            [System.IO.FileShare]::None,
            4096,
            [System.IO.FileOptions]::WriteThrough
        )
        try {
            $stream.Write($bytes, 0, $bytes.Length)
            $stream.Flush($true)
        }
        finally {
            $stream.Dispose()
        }
        Set-PhaseoutJournalAcl -LiteralPath $temporary
        if (Test-Path -LiteralPath $path -PathType Leaf) {
            [System.IO.File]::Replace($temporary, $path, $null)
        }
        else {
            [System.IO.File]::Move($temporary, $path)
        }
        # Replace keeps the replaced file's security descriptor: make sure it is ours.
        Set-PhaseoutJournalAcl -LiteralPath $path
    }
    finally {
        if (Test-Path -LiteralPath $temporary) {
            Remove-Item -LiteralPath $temporary -Force -ErrorAction SilentlyContinue
        }
    }
    return @{ path = $path; sha256 = (Get-PhaseoutSha256 -Bytes $bytes) }
}

Export-ModuleMember -Function 'Get-PhaseoutJournalPath', 'Read-PhaseoutJournal', 'Write-PhaseoutJournal'
