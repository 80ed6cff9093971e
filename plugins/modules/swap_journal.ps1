#!powershell
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutJournal

# The Windows side of phaseout.antivirus.swap_journal. The action plugin (plugins/action/swap_journal.py)
# reads the journal with one call of this module, decides the new journal on the controller with the same
# code as the Linux module (plugins/modules/swap_journal.py: plan(), plugins/module_utils/journal.py) and
# writes it with a second call: this module only reads and writes the text it is given (compare-and-swap,
# atomic, Administrators and SYSTEM only; plugins/module_utils/PhaseoutJournal.psm1). kaspersky_uninstall's
# action plugin uses the same two calls for the journal writes it cannot fold into the residue call.
#
# It takes the public options of swap_journal (state, step, outcome, error, run_id) so that its option spec
# is the documented one; the decisions they ask for are made on the controller. The options starting with an
# underscore are set by the action plugins only.

$spec = @{
    options = @{
        state = @{ type = 'str'; default = 'present'; choices = @('present', 'closed', 'absent') }
        step = @{
            type = 'str'
            choices = @('staged', 'kaspersky_stopped', 'replacement_active', 'kaspersky_removed', 'cleaned', 'verified')
        }
        outcome = @{ type = 'str' }
        error = @{ type = 'str'; default = '' }
        run_id = @{ type = 'str' }
        _journal_action = @{ type = 'str'; default = 'read'; choices = @('read', 'write', 'remove') }
        _journal_text = @{ type = 'str' }
        _journal_expected = @{ type = 'str'; default = '' }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$params = $module.Params
$module.Result.changed = $false
$module.Result.written = $false

try {
    $action = $params._journal_action
    $file = Read-PhaseoutJournal
    $module.Result.journal_file = $file
    if ($action -eq 'write' -and $null -eq $params._journal_text) {
        $module.FailJson('swap_journal: _journal_action=write needs _journal_text (set by the action plugin)')
    }
    if ($action -ne 'read') {
        $module.Result.changed = $true
        if (-not $module.CheckMode) {
            $written = Write-PhaseoutJournal -Text ([String]$params._journal_text) -Expected $params._journal_expected -Remove:($action -eq 'remove')
            $module.Result.sha256 = $written.sha256
            $module.Result.written = $true
        }
    }
}
catch {
    $module.FailJson("swap_journal: the journal could not be $(if ($action -eq 'read') { 'read' } else { 'written' }): $($_.Exception.Message); the journal is unchanged", $_)
}

$module.ExitJson()
