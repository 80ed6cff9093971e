#!powershell
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutDefender

# Read Microsoft Defender's state and, optionally, run the EICAR test. Returns raw facts only;
# the health decision is made on the controller (phaseout.antivirus.defender_health filter).

$spec = @{
    options = @{
        eicar = @{ type = 'bool'; default = $false }
        eicar_wait_seconds = @{ type = 'int'; default = 10 }
        eicar_dir = @{ type = 'path' }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$params = $module.Params
Add-Type -AssemblyName System.ServiceProcess
$module.Result.changed = $false

Function Get-PhaseoutHResult {
    param([System.Management.Automation.ErrorRecord]$Record)
    $exception = $Record.Exception
    while ($null -ne $exception.InnerException) {
        $exception = $exception.InnerException
    }
    return $exception.HResult
}

try {
    $module.Result.os = Get-PhaseoutOperatingSystem

    $scm = @{}
    foreach ($controller in @([System.ServiceProcess.ServiceController]::GetServices())) {
        $scm[$controller.ServiceName] = $controller.Status.ToString()
    }
    $module.Result.defender = Get-PhaseoutDefenderState -ProductType $module.Result.os.product_type -ServiceState $scm
    $module.Result.collected_at = [DateTime]::UtcNow.ToString('o')
}
catch {
    $module.FailJson("failed to read the Defender state: $($_.Exception.Message)", $_)
}

# --- EICAR test: write the standard test file to a temp folder and see whether Defender
# blocks the write, removes the file, or blocks reading it. The string is kept as hex so
# this file is not itself a test file for scanners.
$eicar = @{ attempted = $false }
if ($params.eicar -and $module.CheckMode) {
    $eicar.reason = 'check mode'
}
elseif ($params.eicar) {
    $hex = @(
        '58354f2150254041505b345c505a583534',
        '28505e2937434329377d2445494341522d',
        '5354414e444152442d414e544956495255',
        '532d544553542d46494c452124482b482a'
    ) -join ''
    $bytes = New-Object -TypeName byte[] -ArgumentList ($hex.Length / 2)
    for ($i = 0; $i -lt $bytes.Length; $i++) {
        $bytes[$i] = [Convert]::ToByte($hex.Substring($i * 2, 2), 16)
    }
    $dir = $params.eicar_dir
    if (-not $dir) {
        $dir = $module.Tmpdir
    }
    $path = Join-Path -Path $dir -ChildPath ('phaseout-eicar-{0}.txt' -f [Guid]::NewGuid().ToString('N'))
    $start = [DateTime]::Now
    $eicar.attempted = $true
    $eicar.path = $path
    $eicar.write_error = $null
    $eicar.write_hresult = $null
    $eicar.read_error = $null
    $eicar.read_hresult = $null
    $eicar.removed = $false
    $eicar.detected = $false
    $written = $false
    try {
        [System.IO.File]::WriteAllBytes($path, $bytes)
        $written = $true
    }
    catch {
        $eicar.write_error = $_.Exception.Message
        $eicar.write_hresult = Get-PhaseoutHResult -Record $_
    }
    $waited = 0
    if ($written) {
        while ($waited -lt $params.eicar_wait_seconds) {
            if (-not (Test-Path -LiteralPath $path)) {
                $eicar.removed = $true
                break
            }
            Start-Sleep -Seconds 1
            $waited++
        }
        if (-not $eicar.removed) {
            try {
                $null = [System.IO.File]::ReadAllBytes($path)
            }
            catch {
                $eicar.read_error = $_.Exception.Message
                $eicar.read_hresult = Get-PhaseoutHResult -Record $_
            }
        }
    }
    $eicar.waited_seconds = $waited
    try {
        $name = Split-Path -Path $path -Leaf
        $hits = @(Get-MpThreatDetection -ErrorAction Stop | Where-Object {
                $_.InitialDetectionTime -ge $start.AddSeconds(-5) -and (($_.Resources -join ';') -like "*$name*")
            })
        $eicar.detected = ($hits.Count -gt 0)
    }
    catch {
        $eicar.detection_error = $_.Exception.Message
    }
    if (Test-Path -LiteralPath $path) {
        try {
            Remove-Item -LiteralPath $path -Force
        }
        catch {
            $eicar.cleanup_error = $_.Exception.Message
        }
    }
}
$module.Result.eicar = $eicar

$module.ExitJson()
