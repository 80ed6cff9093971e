# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers

# Shared by the Windows modules win_kaspersky_collect and win_defender_status, which load it with
#   #AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutDefender
# Ansible imports it as a module of its own (New-Module | Import-Module), so it cannot see the calling
# module's variables: everything it needs is passed as a parameter, and it never touches $module.
# Raw facts only; every decision is made on the controller (plugins/module_utils/windows_defender.py).
# The shape of the Defender state is read there and by plugins/module_utils/windows.py: keep it stable.

Function Get-PhaseoutRegistryValue {
    param([String]$Path, [String]$Name)
    $item = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $null
    }
    try {
        return $item.GetValue($Name, $null)
    }
    finally {
        $item.Dispose()
    }
}

Function ConvertTo-PhaseoutUtcString {
    param([Object]$Value)
    if ($null -eq $Value) {
        return $null
    }
    try {
        return ([DateTime]$Value).ToUniversalTime().ToString('o')
    }
    catch {
        return [String]$Value
    }
}

Function Get-PhaseoutOperatingSystem {
    <#
    .SYNOPSIS
    The Win32_OperatingSystem facts both modules return as 'os'. Its product_type decides whether
    Get-PhaseoutDefenderState reads the Windows-Defender feature. Throws when CIM cannot be read.
    #>
    [CmdletBinding()]
    param ()

    $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
    return @{
        product_type = [int]$os.ProductType
        caption = [String]$os.Caption
        version = [String]$os.Version
        build = [String]$os.BuildNumber
        architecture = [String]$os.OSArchitecture
    }
}

Function Get-PhaseoutDefenderState {
    <#
    .SYNOPSIS
    Collects Microsoft Defender's raw state: Get-MpComputerStatus fields, the Windows-Defender
    feature (servers only), the Defender services, the Defender policy values, the passive-mode
    policy and the Defender for Endpoint onboarding state.

    .PARAMETER ProductType
    Win32_OperatingSystem.ProductType of the host (1 = workstation); the Windows-Defender feature
    is read on servers only.

    .PARAMETER ServiceState
    Service name -> SCM status string (ServiceController.Status), as the calling module read it.
    A Defender service registered in the registry but absent from this table gets state $null.

    .OUTPUTS
    A hashtable: status, status_error, feature, feature_error (only on failure), services,
    policies, passive_mode, mde.
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]
        [Int32]
        $ProductType,

        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [Hashtable]
        $ServiceState
    )

    $defender = @{
        status = $null
        status_error = $null
        feature = $null
        services = [System.Collections.Generic.List[Object]]@()
        policies = [System.Collections.Generic.List[Object]]@()
        passive_mode = @{}
        mde = @{}
    }
    try {
        $mp = Get-MpComputerStatus -ErrorAction Stop
        $defender.status = @{
            AMRunningMode = $mp.AMRunningMode
            AMServiceEnabled = $mp.AMServiceEnabled
            AntivirusEnabled = $mp.AntivirusEnabled
            AntispywareEnabled = $mp.AntispywareEnabled
            RealTimeProtectionEnabled = $mp.RealTimeProtectionEnabled
            BehaviorMonitorEnabled = $mp.BehaviorMonitorEnabled
            OnAccessProtectionEnabled = $mp.OnAccessProtectionEnabled
            IoavProtectionEnabled = $mp.IoavProtectionEnabled
            AntivirusSignatureVersion = $mp.AntivirusSignatureVersion
            AntivirusSignatureLastUpdated = ConvertTo-PhaseoutUtcString -Value $mp.AntivirusSignatureLastUpdated
            AntivirusSignatureAge = $mp.AntivirusSignatureAge
            DefenderSignaturesOutOfDate = $mp.DefenderSignaturesOutOfDate
            AMProductVersion = $mp.AMProductVersion
            AMEngineVersion = $mp.AMEngineVersion
            IsTamperProtected = $mp.IsTamperProtected
        }
    }
    catch {
        $defender.status_error = $_.Exception.Message
    }
    if ($ProductType -ne 1) {
        try {
            $feature = Get-WindowsFeature -Name 'Windows-Defender' -ErrorAction Stop
            if ($null -ne $feature) {
                $defender.feature = @{
                    name = 'Windows-Defender'
                    installed = [bool]$feature.Installed
                    install_state = [String]$feature.InstallState
                }
            }
        }
        catch {
            $defender.feature_error = $_.Exception.Message
        }
    }
    foreach ($serviceName in @('WinDefend', 'WdNisSvc', 'Sense', 'SecurityHealthService', 'wscsvc')) {
        $regKey = "HKLM:\SYSTEM\CurrentControlSet\Services\$serviceName"
        if (Test-Path -LiteralPath $regKey) {
            $state = $null
            if ($ServiceState.ContainsKey($serviceName)) {
                $state = $ServiceState[$serviceName]
            }
            $defender.services.Add(@{
                    name = $serviceName
                    state = $state
                    start = Get-PhaseoutRegistryValue -Path $regKey -Name 'Start'
                })
        }
    }
    foreach ($policyKey in @(
            'HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender',
            'HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender\Real-Time Protection'
        )) {
        $item = Get-Item -LiteralPath $policyKey -ErrorAction SilentlyContinue
        if ($null -ne $item) {
            foreach ($valueName in $item.GetValueNames()) {
                if ($valueName) {
                    $defender.policies.Add(@{ key = $policyKey; name = $valueName; value = $item.GetValue($valueName, $null) })
                }
            }
        }
    }
    $atpPolicy = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection'
    $defender.passive_mode.ForceDefenderPassiveMode = Get-PhaseoutRegistryValue -Path $atpPolicy -Name 'ForceDefenderPassiveMode'
    $atpStatus = 'HKLM:\SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
    $defender.mde.onboarding_state = Get-PhaseoutRegistryValue -Path $atpStatus -Name 'OnboardingState'
    $defender.mde.org_id = Get-PhaseoutRegistryValue -Path $atpStatus -Name 'OrgId'
    return $defender
}

# Only these functions are visible to the modules. The names are quoted: tree-sitter-powershell (the parse test)
# does not accept a bare comma-separated list, which PowerShell itself would.
Export-ModuleMember -Function 'Get-PhaseoutRegistryValue', 'ConvertTo-PhaseoutUtcString', 'Get-PhaseoutOperatingSystem',
    'Get-PhaseoutDefenderState'
