#!powershell
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutDefender
#AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutJournal

# Read-only collector behind phaseout.antivirus.kaspersky_info on Windows. It is told what to
# look for (patterns built on the controller from the catalog) and returns raw data; every
# decision is made on the controller (plugins/module_utils/windows.py).

$spec = @{
    options = @{
        display_name_pattern = @{ type = 'str'; required = $true }
        publisher_pattern = @{ type = 'str' }
        service_pattern = @{ type = 'str'; required = $true }
        service_display_pattern = @{ type = 'str' }
        filter_pattern = @{ type = 'str' }
        certificate_pattern = @{ type = 'str' }
        certificate_stores = @{ type = 'list'; elements = 'str'; default = @('LocalMachine\Root') }
        process_names = @{ type = 'list'; elements = 'str'; default = @() }
        upgrade_codes = @{ type = 'list'; elements = 'str'; default = @() }
        paths = @{ type = 'list'; elements = 'str'; default = @() }
        registry_keys = @{ type = 'list'; elements = 'str'; default = @() }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$params = $module.Params
Add-Type -AssemblyName System.ServiceProcess
$module.Result.changed = $false
$module.Result.collector_version = 1
$module.Result.collected_at = [DateTime]::UtcNow.ToString('o')

Function Test-PhaseoutMatch {
    param([String]$Text, [String]$Pattern)
    if (-not $Pattern -or -not $Text) {
        return $false
    }
    return [bool]($Text -match $Pattern)
}

try {
    # --- operating system
    $module.Result.os = Get-PhaseoutOperatingSystem

    # --- Uninstall entries, both registry views (one view on a 32-bit OS)
    $views = @([Microsoft.Win32.RegistryView]::Default)
    if ([Environment]::Is64BitOperatingSystem) {
        $views = @([Microsoft.Win32.RegistryView]::Registry64, [Microsoft.Win32.RegistryView]::Registry32)
    }
    $uninstall = [System.Collections.Generic.List[Object]]@()
    foreach ($view in $views) {
        $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $view)
        try {
            $root = $base.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall')
            if ($null -eq $root) {
                continue
            }
            foreach ($name in $root.GetSubKeyNames()) {
                $key = $root.OpenSubKey($name)
                if ($null -eq $key) {
                    continue
                }
                try {
                    $display = [String]$key.GetValue('DisplayName', '')
                    $publisher = [String]$key.GetValue('Publisher', '')
                    $hit = (Test-PhaseoutMatch -Text $display -Pattern $params.display_name_pattern) -or
                    (Test-PhaseoutMatch -Text $publisher -Pattern $params.publisher_pattern)
                    if ($hit) {
                        $uninstall.Add(@{
                                key = $name
                                hive = 'HKLM'
                                view = $(if ($view -eq [Microsoft.Win32.RegistryView]::Registry32) { '32' } else { '64' })
                                display_name = $display
                                display_version = $key.GetValue('DisplayVersion', $null)
                                publisher = $publisher
                                uninstall_string = $key.GetValue('UninstallString', $null)
                                quiet_uninstall_string = $key.GetValue('QuietUninstallString', $null)
                                install_location = $key.GetValue('InstallLocation', $null)
                                install_date = $key.GetValue('InstallDate', $null)
                                windows_installer = $key.GetValue('WindowsInstaller', $null)
                                system_component = $key.GetValue('SystemComponent', $null)
                            })
                    }
                }
                finally {
                    $key.Dispose()
                }
            }
            $root.Dispose()
        }
        finally {
            $base.Dispose()
        }
    }
    $module.Result.uninstall = $uninstall

    # --- Windows Installer registrations (packed product codes) and their features
    $msiProducts = [System.Collections.Generic.List[Object]]@()
    $productsRoot = 'HKLM:\SOFTWARE\Classes\Installer\Products'
    if (Test-Path -LiteralPath $productsRoot) {
        foreach ($item in (Get-ChildItem -LiteralPath $productsRoot -ErrorAction SilentlyContinue)) {
            $productName = [String]$item.GetValue('ProductName', '')
            if (-not (Test-PhaseoutMatch -Text $productName -Pattern $params.display_name_pattern)) {
                continue
            }
            $features = [System.Collections.Generic.List[Object]]@()
            $featureKey = Get-Item -LiteralPath "HKLM:\SOFTWARE\Classes\Installer\Features\$($item.PSChildName)" -ErrorAction SilentlyContinue
            if ($null -ne $featureKey) {
                foreach ($featureName in $featureKey.GetValueNames()) {
                    $data = [String]$featureKey.GetValue($featureName, '')
                    # Data starting with char 2 marks an absent feature (inferred from MSI's registry layout).
                    $features.Add(@{ name = $featureName; installed = -not $data.StartsWith([String][char]2) })
                }
            }
            $msiProducts.Add(@{
                    packed_code = $item.PSChildName
                    product_name = $productName
                    features = $features
                })
        }
    }
    $module.Result.msi_products = $msiProducts

    # --- products related to the catalog's upgrade codes (packed on the controller)
    $upgrade = @{}
    foreach ($packed in $params.upgrade_codes) {
        $upgradeKey = Get-Item -LiteralPath "HKLM:\SOFTWARE\Classes\Installer\UpgradeCodes\$packed" -ErrorAction SilentlyContinue
        if ($null -ne $upgradeKey) {
            $upgrade[$packed] = @($upgradeKey.GetValueNames() | Where-Object { $_ })
        }
    }
    $module.Result.upgrade_codes = $upgrade

    # --- services and drivers (registry, so removed-but-registered ones show too) + SCM state
    $scm = @{}
    foreach ($controller in @([System.ServiceProcess.ServiceController]::GetServices()) + @([System.ServiceProcess.ServiceController]::GetDevices())) {
        $scm[$controller.ServiceName] = $controller.Status.ToString()
    }
    $services = [System.Collections.Generic.List[Object]]@()
    foreach ($item in (Get-ChildItem -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Services' -ErrorAction SilentlyContinue)) {
        $name = $item.PSChildName
        $serviceDisplay = [String]$item.GetValue('DisplayName', '')
        $hit = (Test-PhaseoutMatch -Text $name -Pattern $params.service_pattern) -or
        (Test-PhaseoutMatch -Text $serviceDisplay -Pattern $params.service_display_pattern)
        if (-not $hit) {
            continue
        }
        $state = $null
        if ($scm.ContainsKey($name)) {
            $state = $scm[$name]
        }
        $services.Add(@{
                name = $name
                display_name = $serviceDisplay
                type = $item.GetValue('Type', $null)
                start = $item.GetValue('Start', $null)
                group = $item.GetValue('Group', $null)
                image_path = $item.GetValue('ImagePath', $null)
                delete_pending = ($item.GetValue('DeleteFlag', 0) -eq 1)
                state = $state
            })
    }
    $module.Result.services = $services

    # --- device-class UpperFilters / LowerFilters that name a vendor filter driver
    $filters = [System.Collections.Generic.List[Object]]@()
    if ($params.filter_pattern) {
        foreach ($class in (Get-ChildItem -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Class' -ErrorAction SilentlyContinue)) {
            foreach ($valueName in @('UpperFilters', 'LowerFilters')) {
                $data = @($class.GetValue($valueName, @()))
                $named = @($data | Where-Object { Test-PhaseoutMatch -Text $_ -Pattern $params.filter_pattern })
                if ($named.Count -gt 0) {
                    $filters.Add(@{
                            key = "HKLM:\SYSTEM\CurrentControlSet\Control\Class\$($class.PSChildName)"
                            class_guid = $class.PSChildName
                            class = $class.GetValue('Class', $null)
                            value = $valueName
                            data = [String[]]$data
                        })
                }
            }
        }
    }
    $module.Result.filters = $filters

    # --- root certificates
    $certificates = [System.Collections.Generic.List[Object]]@()
    if ($params.certificate_pattern) {
        foreach ($store in $params.certificate_stores) {
            foreach ($cert in (Get-ChildItem -LiteralPath "Cert:\$store" -ErrorAction SilentlyContinue)) {
                $hit = (Test-PhaseoutMatch -Text $cert.Subject -Pattern $params.certificate_pattern) -or
                (Test-PhaseoutMatch -Text $cert.Issuer -Pattern $params.certificate_pattern)
                if ($hit) {
                    $certificates.Add(@{
                            store = $store
                            thumbprint = $cert.Thumbprint
                            subject = $cert.Subject
                            issuer = $cert.Issuer
                            not_after = ConvertTo-PhaseoutUtcString -Value $cert.NotAfter
                        })
                }
            }
        }
    }
    $module.Result.certificates = $certificates

    # --- running processes
    $processes = [System.Collections.Generic.List[Object]]@()
    if ($params.process_names.Count -gt 0) {
        foreach ($process in @(Get-Process -Name ([String[]]$params.process_names) -ErrorAction SilentlyContinue)) {
            $processPath = $null
            try {
                $processPath = $process.Path
            }
            catch {
                $processPath = $null
            }
            $processes.Add(@{ name = $process.ProcessName; pid = $process.Id; path = $processPath })
        }
    }
    $module.Result.processes = $processes

    # --- folders (variables expanded here) and registry roots
    $paths = [System.Collections.Generic.List[Object]]@()
    foreach ($template in $params.paths) {
        $expanded = [Environment]::ExpandEnvironmentVariables($template)
        if ($expanded.Contains('%')) {
            continue
        }
        if (Test-Path -LiteralPath $expanded) {
            $paths.Add(@{ template = $template; path = $expanded })
        }
    }
    $module.Result.paths = $paths
    $module.Result.registry_keys = @($params.registry_keys | Where-Object { Test-Path -LiteralPath $_ })

    # --- SecurityCenter2 (clients only; the namespace does not exist on servers)
    $securityCenter = $null
    try {
        $securityCenter = [System.Collections.Generic.List[Object]]@()
        foreach ($product in @(Get-CimInstance -Namespace 'root/SecurityCenter2' -ClassName AntiVirusProduct -ErrorAction Stop)) {
            $securityCenter.Add(@{
                    display_name = $product.displayName
                    product_state = $product.productState
                    path = $product.pathToSignedProductExe
                    instance_guid = $product.instanceGuid
                })
        }
    }
    catch {
        $securityCenter = $null
    }
    $module.Result.security_center = $securityCenter

    # --- Microsoft Defender (shared with win_defender_status: module_utils/PhaseoutDefender.psm1)
    $module.Result.defender = Get-PhaseoutDefenderState -ProductType $module.Result.os.product_type -ServiceState $scm

    # --- phaseout's swap journal: the raw text, its SHA-256 and ACLs (parsed and judged on the controller)
    $module.Result.journal = Read-PhaseoutJournal

    # --- pending reboot
    $sessionManager = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
    $renames = @(Get-PhaseoutRegistryValue -Path $sessionManager -Name 'PendingFileRenameOperations' | Where-Object { $_ })
    $active = Get-PhaseoutRegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName' -Name 'ComputerName'
    $pendingName = Get-PhaseoutRegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName' -Name 'ComputerName'
    $module.Result.pending_reboot = @{
        component_based_servicing = Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
        windows_update = Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
        pending_file_rename = ($renames.Count -gt 0)
        file_rename_entries = @($renames | Where-Object { Test-PhaseoutMatch -Text $_ -Pattern $params.display_name_pattern })
        computer_rename = ($null -ne $pendingName -and $active -ne $pendingName)
    }
}
catch {
    $module.FailJson("failed to collect the Kaspersky and Defender state: $($_.Exception.Message)", $_)
}

$module.ExitJson()
