#!powershell
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutJournal

# Thin executor of the residue clean-up that kaspersky_uninstall computes on the controller.
# It removes exactly the items it is given, re-checks each one against the vendor patterns,
# is idempotent (an item already gone is skipped), honours check mode and returns a diff.
# kaspersky_uninstall folds its swap journal writes into this call (option journal): the content it
# decided is written before anything is deleted, and the content that records the clean-up once it
# succeeded (plugins/module_utils/windows_journal.py decides both; PhaseoutJournal.psm1 writes them).

$spec = @{
    options = @{
        filters = @{
            type = 'list'
            elements = 'dict'
            default = @()
            options = @{
                key = @{ type = 'str'; required = $true }
                value = @{ type = 'str'; default = 'UpperFilters'; choices = @('UpperFilters', 'LowerFilters') }
                remove = @{ type = 'list'; elements = 'str'; required = $true }
            }
        }
        services = @{ type = 'list'; elements = 'str'; default = @() }
        certificates = @{
            type = 'list'
            elements = 'dict'
            default = @()
            options = @{
                store = @{ type = 'str'; required = $true }
                thumbprint = @{ type = 'str'; required = $true }
            }
        }
        security_center = @{ type = 'list'; elements = 'str'; default = @() }
        registry_keys = @{ type = 'list'; elements = 'str'; default = @() }
        paths = @{ type = 'list'; elements = 'str'; default = @() }
        logs = @{ type = 'list'; elements = 'str'; default = @() }
        process_names = @{ type = 'list'; elements = 'str'; default = @() }
        service_pattern = @{ type = 'str'; required = $true }
        filter_pattern = @{ type = 'str'; required = $true }
        certificate_pattern = @{ type = 'str'; required = $true }
        name_pattern = @{ type = 'str'; required = $true }
        journal = @{
            type = 'dict'
            options = @{
                expected = @{ type = 'str'; default = '' }
                text = @{ type = 'str' }
                done_text = @{ type = 'str' }
            }
        }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
Add-Type -AssemblyName System.ServiceProcess
$params = $module.Params
$check = $module.CheckMode

$module.Result.changed = $false
$removed = [System.Collections.Generic.List[Object]]@()
$skipped = [System.Collections.Generic.List[Object]]@()
$errors = [System.Collections.Generic.List[String]]@()
$before = @{ filters = @{}; services = @(); certificates = @(); security_center = @(); registry_keys = @(); paths = @() }
$after = @{ filters = @{}; services = @(); certificates = @(); security_center = @(); registry_keys = @(); paths = @() }

Function Add-PhaseoutRemoved {
    param([String]$Type, [String]$Target)
    $removed.Add(@{ type = $Type; target = $Target })
    $module.Result.changed = $true
}

Function Add-PhaseoutSkipped {
    param([String]$Type, [String]$Target, [String]$Reason)
    $skipped.Add(@{ type = $Type; target = $Target; reason = $Reason })
}

Function Remove-PhaseoutTree {
    <#
    Deletes a folder tree without ever following a reparse point (junction, symbolic link, mount point):
    a reparse point is removed as a link, never entered. Remove-Item -Recurse follows junctions on
    Windows PowerShell 5.1.
    #>
    param([String]$LiteralPath)
    $item = Get-Item -LiteralPath $LiteralPath -Force
    if ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
        if ($item.PSIsContainer) {
            [System.IO.Directory]::Delete($item.FullName, $false)
        }
        else {
            [System.IO.File]::Delete($item.FullName)
        }
        return
    }
    if ($item.PSIsContainer) {
        foreach ($child in @(Get-ChildItem -LiteralPath $item.FullName -Force)) {
            Remove-PhaseoutTree -LiteralPath $child.FullName
        }
        [System.IO.Directory]::Delete($item.FullName, $false)
    }
    else {
        $item.Attributes = [System.IO.FileAttributes]::Normal
        [System.IO.File]::Delete($item.FullName)
    }
}

# --- 0a. the swap journal first: it records what already happened (the uninstallers), whatever follows
$journalState = $null
if ($null -ne $params.journal) {
    $journalState = @{ written = [System.Collections.Generic.List[String]]@(); sha256 = $params.journal.expected; error = $null }
    $module.Result.journal_file = $journalState
    if ($null -ne $params.journal.text -and -not $check) {
        try {
            $journalState.sha256 = (Write-PhaseoutJournal -Text $params.journal.text -Expected $params.journal.expected).sha256
            $journalState.written.Add('text')
        }
        catch {
            $journalState.error = $_.Exception.Message
            $module.FailJson("refusing to clean up: the swap journal could not be written ($($_.Exception.Message)); nothing was changed", $_)
        }
    }
}

# --- 0b. host-side guard: nothing of the vendor is deleted while anything of it runs
$vendorItems = @($params.filters).Count + @($params.services).Count + @($params.certificates).Count +
@($params.security_center).Count + @($params.registry_keys).Count + @($params.paths).Count
if ($vendorItems -gt 0) {
    $activeVendor = [System.Collections.Generic.List[String]]@()
    foreach ($controller in @([System.ServiceProcess.ServiceController]::GetServices()) + @([System.ServiceProcess.ServiceController]::GetDevices())) {
        $running = $controller.Status -in @('Running', 'StartPending', 'ContinuePending', 'PausePending', 'Paused')
        if ($running -and $controller.ServiceName -match $params.service_pattern) {
            $activeVendor.Add("service or driver $($controller.ServiceName) ($($controller.Status))")
        }
    }
    if ($params.process_names.Count -gt 0) {
        foreach ($process in @(Get-Process -Name ([String[]]$params.process_names) -ErrorAction SilentlyContinue)) {
            $activeVendor.Add("process $($process.ProcessName) pid $($process.Id)")
        }
    }
    if ($activeVendor.Count -gt 0) {
        $module.Result.active = $activeVendor
        $module.FailJson("refusing to delete anything: the vendor is still active ($($activeVendor -join '; ')); nothing was changed")
    }
}

# --- 1. filter values first: a driver must never be deleted while a filter list names it
foreach ($filter in $params.filters) {
    $target = "$($filter.key)\$($filter.value)"
    try {
        if ($filter.key -notmatch '^HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Class\\\{[0-9A-Fa-f-]{36}\}$') {
            throw "'$($filter.key)' is not a device-class key"
        }
        $item = Get-Item -LiteralPath $filter.key -ErrorAction SilentlyContinue
        if ($null -eq $item) {
            Add-PhaseoutSkipped -Type 'filter' -Target $target -Reason 'class key not found'
            continue
        }
        $current = @($item.GetValue($filter.value, @()))
        $drop = @($filter.remove | Where-Object { $_ -match $params.filter_pattern })
        if ($drop.Count -ne @($filter.remove).Count) {
            throw "refusing to remove a filter that is not the vendor's from $target"
        }
        $new = @($current | Where-Object { $name = $_; -not ($drop | Where-Object { $_ -ieq $name }) })
        if ($new.Count -eq $current.Count) {
            Add-PhaseoutSkipped -Type 'filter' -Target $target -Reason 'already clean'
            continue
        }
        $before.filters[$target] = [String[]]$current
        $after.filters[$target] = [String[]]$new
        if ($new.Count -eq 0) {
            Remove-ItemProperty -LiteralPath $filter.key -Name $filter.value -WhatIf:$check
        }
        else {
            New-ItemProperty -LiteralPath $filter.key -Name $filter.value -PropertyType MultiString -Value ([String[]]$new) -Force -WhatIf:$check | Out-Null
        }
        Add-PhaseoutRemoved -Type 'filter' -Target $target
    }
    catch {
        $errors.Add("filter ${target}: $($_.Exception.Message)")
    }
}

# --- 2. leftover driver and service registrations
foreach ($name in $params.services) {
    $key = "HKLM:\SYSTEM\CurrentControlSet\Services\$name"
    try {
        if ($name -notmatch $params.service_pattern) {
            throw "refusing to delete service '$name': it does not match the vendor's services"
        }
        if (-not (Test-Path -LiteralPath $key)) {
            Add-PhaseoutSkipped -Type 'service' -Target $name -Reason 'already gone'
            continue
        }
        $type = Get-ItemPropertyValue -LiteralPath $key -Name 'Type' -ErrorAction SilentlyContinue
        $kind = 'service'
        if ($type -in @(1, 2, 8)) {
            $kind = 'driver'
        }
        $escaped = $name.Replace("'", "\'")
        $service = Get-CimInstance -ClassName Win32_BaseService -Filter "Name='$escaped'" -ErrorAction SilentlyContinue
        if ($null -ne $service -and $service.State -eq 'Running') {
            Add-PhaseoutSkipped -Type $kind -Target $name -Reason 'running; reboot first'
            continue
        }
        $before.services += $name
        if (-not $check) {
            if ($null -ne $service) {
                $ret = Invoke-CimMethod -InputObject $service -MethodName Delete
                # 1072: already marked for deletion
                if ($ret.ReturnValue -notin @(0, 1072)) {
                    throw "Win32_BaseService.Delete returned $($ret.ReturnValue)"
                }
            }
            else {
                Remove-Item -LiteralPath $key -Recurse -Force
            }
        }
        Add-PhaseoutRemoved -Type $kind -Target $name
    }
    catch {
        $errors.Add("service ${name}: $($_.Exception.Message)")
    }
}

# --- 3. root certificates (LocalMachine stores only: CurrentUser deletions prompt)
foreach ($cert in $params.certificates) {
    $target = $cert.thumbprint
    try {
        if ($cert.store -notmatch '^LocalMachine\\') {
            throw "only LocalMachine stores are cleaned, not '$($cert.store)'"
        }
        $certPath = "Cert:\$($cert.store)\$($cert.thumbprint)"
        $found = Get-Item -LiteralPath $certPath -ErrorAction SilentlyContinue
        if ($null -eq $found) {
            Add-PhaseoutSkipped -Type 'certificate' -Target $target -Reason 'already gone'
            continue
        }
        if (($found.Subject -notmatch $params.certificate_pattern) -and ($found.Issuer -notmatch $params.certificate_pattern)) {
            throw "refusing to delete certificate $target ($($found.Subject)): not the vendor's"
        }
        $before.certificates += "$($cert.store)\$target"
        Remove-Item -LiteralPath $certPath -WhatIf:$check
        Add-PhaseoutRemoved -Type 'certificate' -Target $target
    }
    catch {
        $errors.Add("certificate ${target}: $($_.Exception.Message)")
    }
}

# --- 4. stale SecurityCenter2 registrations
foreach ($guid in $params.security_center) {
    try {
        $entry = @(Get-CimInstance -Namespace 'root/SecurityCenter2' -ClassName AntiVirusProduct -ErrorAction Stop |
                Where-Object { $_.instanceGuid -eq $guid })
        if ($entry.Count -eq 0) {
            Add-PhaseoutSkipped -Type 'security_center_entry' -Target $guid -Reason 'already gone'
            continue
        }
        if ($entry[0].displayName -notmatch $params.name_pattern) {
            throw "refusing to delete SecurityCenter2 entry '$($entry[0].displayName)': not the vendor's"
        }
        $before.security_center += $entry[0].displayName
        if (-not $check) {
            $entry | Remove-CimInstance
        }
        Add-PhaseoutRemoved -Type 'security_center_entry' -Target $guid
    }
    catch {
        $errors.Add("SecurityCenter2 entry ${guid}: $($_.Exception.Message)")
    }
}

# --- 5. registry roots and folders last
foreach ($regKey in $params.registry_keys) {
    try {
        if ($regKey -notmatch '^HKLM:\\SOFTWARE\\' -or $regKey -notmatch $params.name_pattern) {
            throw "refusing to delete registry key '$regKey': not the vendor's"
        }
        if (-not (Test-Path -LiteralPath $regKey)) {
            Add-PhaseoutSkipped -Type 'registry_key' -Target $regKey -Reason 'already gone'
            continue
        }
        $before.registry_keys += $regKey
        Remove-Item -LiteralPath $regKey -Recurse -Force -WhatIf:$check
        Add-PhaseoutRemoved -Type 'registry_key' -Target $regKey
    }
    catch {
        $errors.Add("registry key ${regKey}: $($_.Exception.Message)")
    }
}
foreach ($path in $params.paths) {
    try {
        # A vendor folder (or one inside it) at least two levels below a drive root.
        $segments = @($path.TrimEnd('\').Split('\') | Where-Object { $_ })
        $vendorSegment = @($segments | Select-Object -Skip 1 | Where-Object { $_ -match $params.name_pattern })
        if ($segments.Count -lt 3 -or $vendorSegment.Count -eq 0 -or $path -notmatch '^[A-Za-z]:\\') {
            throw "refusing to delete '$path': not a folder of the vendor"
        }
        if (-not (Test-Path -LiteralPath $path)) {
            Add-PhaseoutSkipped -Type 'path' -Target $path -Reason 'already gone'
            continue
        }
        $top = Get-Item -LiteralPath $path -Force
        if ($top.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
            throw "refusing to delete '$path': it is a junction or symbolic link, not the vendor's folder"
        }
        $before.paths += $path
        if (-not $check) {
            Remove-PhaseoutTree -LiteralPath $path
        }
        Add-PhaseoutRemoved -Type 'path' -Target $path
    }
    catch {
        $errors.Add("path ${path}: $($_.Exception.Message)")
    }
}

# --- 6. msiexec logs of the uninstallers that succeeded (they may hold property values)
foreach ($log in $params.logs) {
    try {
        if ([System.IO.Path]::GetFileName($log) -notmatch '^phaseout-uninstall-[A-Za-z0-9_]+-[0-9A-Fa-f-]{36}\.log$') {
            throw "refusing to delete '$log': not a phaseout msiexec log"
        }
        if (-not (Test-Path -LiteralPath $log -PathType Leaf)) {
            Add-PhaseoutSkipped -Type 'log' -Target $log -Reason 'already gone'
            continue
        }
        Remove-Item -LiteralPath $log -Force -WhatIf:$check
        Add-PhaseoutRemoved -Type 'log' -Target $log
    }
    catch {
        $errors.Add("log ${log}: $($_.Exception.Message)")
    }
}

$module.Result.removed = $removed
$module.Result.skipped = $skipped
$module.Result.errors = $errors
$module.Diff.before = $before
$module.Diff.after = $after

if ($errors.Count -gt 0) {
    $module.FailJson("residue clean-up incomplete: $($errors -join '; ')")
}
# --- 7. the clean-up succeeded: the journal records it (a failure here leaves it to the controller)
if ($null -ne $journalState -and $null -ne $params.journal.done_text -and -not $check) {
    try {
        $journalState.sha256 = (Write-PhaseoutJournal -Text $params.journal.done_text -Expected $journalState.sha256).sha256
        $journalState.written.Add('done_text')
    }
    catch {
        $journalState.error = $_.Exception.Message
    }
}
$module.ExitJson()
