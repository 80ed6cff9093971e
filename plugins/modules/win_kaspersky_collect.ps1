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
        contain_group = @{ type = 'str'; default = 'phaseout contain' }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$params = $module.Params
Add-Type -AssemblyName System.ServiceProcess
$module.Result.changed = $false
$module.Result.collector_version = 2
$module.Result.collected_at = [DateTime]::UtcNow.ToString('o')

Function Test-PhaseoutMatch {
    param([String]$Text, [String]$Pattern)
    if (-not $Pattern -or -not $Text) {
        return $false
    }
    return [bool]($Text -match $Pattern)
}

Function Get-PhaseoutContainFact {
    <#
    .SYNOPSIS
    What the contain phase left on the host, raw and read-only: its record %ProgramData%\phaseout\contain.json,
    the enabled block rules of its firewall group and, with a record, the firewall profiles that are off and the
    hosts-file entries of the names the record lists. Never throws: what could not be read has its error.
    Judged on the controller (plugins/module_utils/windows.py: containment).
    #>
    param([String]$Group)

    $root = [Environment]::GetFolderPath('CommonApplicationData')
    $result = @{
        state_path = [System.IO.Path]::Combine([System.IO.Path]::Combine($root, 'phaseout'), 'contain.json')
        state_text = $null
        state_error = $null
        firewall_group = $Group
        firewall_source = $null
        firewall_rules = $null
        firewall_error = $null
        firewall_profiles_off = $null
        firewall_profiles_error = $null
        hosts_path = $null
        default_hosts_path = [System.IO.Path]::Combine($env:SystemRoot, 'System32\drivers\etc\hosts')
        hosts_entries = $null
        hosts_error = $null
    }

    # The record the contain role writes (win_copy): a small JSON file, read as UTF-8 (a BOM is dropped).
    try {
        if (Test-Path -LiteralPath $result.state_path -PathType Leaf) {
            $length = (Get-Item -LiteralPath $result.state_path -Force).Length
            if ($length -gt 1048576) {
                throw "the file is $length bytes long, more than a contain record ever is"
            }
            $utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
            $result.state_text = [System.IO.File]::ReadAllText($result.state_path, $utf8)
        }
    }
    catch {
        $result.state_error = $_.Exception.Message
    }

    # The enabled block rules of the group, in the active (effective) policy. Hosts without the NetSecurity
    # cmdlets: the firewall's COM API, which community.windows.win_firewall_rule itself uses.
    $netSecurity = [bool](Get-Command -Name 'Get-NetFirewallRule' -ErrorAction SilentlyContinue)
    try {
        if ($netSecurity) {
            $result.firewall_source = 'Get-NetFirewallRule'
            $ruleErrors = $null
            $rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Group $Group -ErrorAction SilentlyContinue -ErrorVariable ruleErrors)
            # "No MSFT_NetFirewallRule objects found" is an empty group, not a failure.
            $failures = @($ruleErrors | Where-Object { $_.CategoryInfo.Category -ne [System.Management.Automation.ErrorCategory]::ObjectNotFound })
            if ($failures.Count -gt 0) {
                throw $failures[0].Exception
            }
            $result.firewall_rules = @($rules | Where-Object { $_.Enabled -eq 'True' -and $_.Action -eq 'Block' } |
                ForEach-Object { [String]$_.DisplayName })
        }
        else {
            $result.firewall_source = 'HNetCfg.FwPolicy2'
            $policy = New-Object -ComObject HNetCfg.FwPolicy2
            # NET_FW_ACTION_BLOCK = 0
            $result.firewall_rules = @($policy.Rules | Where-Object { $_.Grouping -eq $Group -and $_.Enabled -and $_.Action -eq 0 } |
                ForEach-Object { [String]$_.Name })
        }
    }
    catch {
        $result.firewall_rules = $null
        $result.firewall_error = $_.Exception.Message
    }
    if ($null -eq $result.state_text) {
        # Never contained (or released): the profiles and the hosts file say nothing more; not read.
        return $result
    }

    try {
        if ($netSecurity) {
            $result.firewall_profiles_off = @(Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction Stop |
                Where-Object { $_.Enabled -eq 'False' } | ForEach-Object { $_.Name.ToString().ToLowerInvariant() })
        }
        else {
            $policy = New-Object -ComObject HNetCfg.FwPolicy2
            # NET_FW_PROFILE2_DOMAIN = 1, _PRIVATE = 2, _PUBLIC = 4
            $profiles = [ordered]@{ domain = 1; private = 2; public = 4 }
            $result.firewall_profiles_off = @($profiles.Keys | Where-Object { -not $policy.FirewallEnabled($profiles[$_]) })
        }
    }
    catch {
        $result.firewall_profiles_off = $null
        $result.firewall_profiles_error = $_.Exception.Message
    }

    # The hosts file Windows resolves with (Tcpip DataBasePath), as "<address> <name>" pairs (one per name of a
    # line, comments dropped), only for the names the record lists: a hosts file of many thousand lines stays
    # a small answer. No name is looked up.
    try {
        $hostsPath = $result.default_hosts_path
        $folder = Get-PhaseoutRegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters' -Name 'DataBasePath'
        if ($folder) {
            $hostsPath = [System.IO.Path]::Combine([Environment]::ExpandEnvironmentVariables([String]$folder), 'hosts')
        }
        $result.hosts_path = $hostsPath
        $names = $null
        try {
            $names = New-Object -TypeName 'System.Collections.Generic.HashSet[String]' -ArgumentList ([StringComparer]::OrdinalIgnoreCase)
            foreach ($recordedLine in @((ConvertFrom-Json -InputObject $result.state_text).hosts_lines)) {
                $fields = @(([String]$recordedLine).Trim() -split '\s+')
                if ($fields.Count -ge 2) {
                    [void]$names.Add($fields[1])
                }
            }
        }
        catch {
            # A record PowerShell cannot parse: every entry is returned (the controller says why it lapsed).
            $names = $null
        }
        $entries = [System.Collections.Generic.List[String]]@()
        if (($null -eq $names -or $names.Count -gt 0) -and (Test-Path -LiteralPath $hostsPath -PathType Leaf)) {
            $lines = [System.IO.File]::ReadAllLines($hostsPath)
            if ($null -ne $names) {
                # a quick first pass in .NET: only lines that mention a recorded name are split
                $lines = @($lines -match (@($names | ForEach-Object { [Regex]::Escape($_) }) -join '|'))
            }
            foreach ($line in $lines) {
                $text = $line
                $hash = $text.IndexOf('#')
                if ($hash -ge 0) {
                    $text = $text.Substring(0, $hash)
                }
                $fields = @($text.Trim() -split '\s+')
                for ($i = 1; $i -lt $fields.Count; $i++) {
                    if ($null -eq $names -or $names.Contains($fields[$i].TrimEnd([char]'.'))) {
                        $entries.Add("$($fields[0]) $($fields[$i])")
                    }
                }
            }
        }
        $result.hosts_entries = $entries
    }
    catch {
        $result.hosts_entries = $null
        $result.hosts_error = $_.Exception.Message
    }
    return $result
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

    # --- the contain phase's record, firewall rules and hosts entries (judged on the controller: containment)
    $module.Result.contain = Get-PhaseoutContainFact -Group $params.contain_group

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
