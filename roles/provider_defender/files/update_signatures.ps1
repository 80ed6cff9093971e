# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# Run by ansible.windows.win_powershell from provider_defender: update Defender's security
# intelligence online or from a file share, and report a change only when the version moved.
[CmdletBinding()]
param (
    [ValidateSet('online', 'file_share')]
    [String]$Source = 'online',

    [String]$Share = ''
)

$ErrorActionPreference = 'Stop'
$before = (Get-MpComputerStatus).AntivirusSignatureVersion
if ($Source -eq 'file_share') {
    if (-not $Share) {
        throw 'a file_share update needs the share path'
    }
    $current = (Get-MpPreference).SignatureDefinitionUpdateFileSharesSources
    if ($current -ne $Share) {
        Set-MpPreference -SignatureDefinitionUpdateFileSharesSources $Share
    }
    Update-MpSignature -UpdateSource FileShares
}
else {
    Update-MpSignature
}
$after = (Get-MpComputerStatus).AntivirusSignatureVersion
$Ansible.Changed = ($before -ne $after)
@{
    source = $Source
    version_before = $before
    version_after = $after
}
