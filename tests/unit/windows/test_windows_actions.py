# SPDX-License-Identifier: GPL-3.0-or-later
"""kaspersky_info and kaspersky_uninstall driven end to end with a fake WinRM host.

Every _execute_module call is one WinRM round trip; the fake records them with their
arguments, and whether _ansible_no_log would be set (task.no_log at call time)."""
from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleActionFail

from conftest import (AGENT_PASSWORD, COLLECTOR, KES_PASSWORD, RESIDUE, WIN_PACKAGE, load, make_action,
                      residue_ok, win_package_result)

from ansible_collections.phaseout.antivirus.plugins.action import kaspersky_info, kaspersky_uninstall
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_uninstall as wu

KES11 = '{C9EF800D-54AA-4F60-AB96-5A3966550F53}'
NA = '{0F05E4E5-5A89-482C-9A62-47CC58643788}'
KES117 = '{04CF7FBD-E56C-446D-8FC9-DD444BDBEE8E}'
NA2 = '{ED1C2D7E-5C7A-48D8-A697-57D1C080ABA7}'
SECRET_FORMS = wu.secret_variants(KES_PASSWORD, AGENT_PASSWORD)


def assert_no_secret(result):
    text = json.dumps(result)
    for form in SECRET_FORMS:
        assert form not in text, form


# --------------------------------------------------------------------------- kaspersky_info


@pytest.mark.parametrize('name', ['kes11_en_na', 'kes12_fr_na', 'ksws_server2019', 'clean_win11', 'residue_only',
                                  'consumer_kts', 'ksc_server_console', 'endpoint_agent', 'na_only',
                                  'kes_encrypted', 'kes_protected'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_info_is_one_round_trip(name, check_mode):
    action, fake = make_action(kaspersky_info, {}, check_mode=check_mode, collector=[load(name)])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert fake.calls[0]['args'] == w.collector_args('kaspersky')
    assert result == dict(w.classify(load(name)))
    assert result['changed'] is False


def test_info_accepts_query_cli_and_ignores_it_on_windows():
    action, fake = make_action(kaspersky_info, {'query_cli': False}, collector=[load('na_only')])
    assert action.run(task_vars={})['installed'] == ['klnagent']
    assert len(fake.calls) == 1


def test_info_rejects_bad_arguments():
    action, fake = make_action(kaspersky_info, {'vendor': 'eset'}, collector=[load('na_only')])
    with pytest.raises(AnsibleActionFail, match='vendor'):
        action.run(task_vars={})
    action, fake = make_action(kaspersky_info, {'bogus': 1}, collector=[load('na_only')])
    with pytest.raises(AnsibleActionFail, match='Invalid options'):
        action.run(task_vars={})
    assert fake.calls == []


def test_info_collector_failure_is_clear():
    action, _fake = make_action(kaspersky_info, {}, collector=[{'failed': True, 'msg': 'Access is denied'}])
    with pytest.raises(AnsibleActionFail, match='collector .* failed on the host: Access is denied'):
        action.run(task_vars={})


def test_info_on_linux_passes_through():
    linux_result = {'changed': False, 'platform': 'linux', 'verdict': 'clean'}
    action, fake = make_action(kaspersky_info, {'query_cli': False}, family='sh',
                               linux=lambda module, args: dict(linux_result))
    assert action.run(task_vars={}) == linux_result
    assert fake.calls == [{'module': 'phaseout.antivirus.kaspersky_info', 'args': {'query_cli': False},
                           'no_log': False, 'check_mode': False}]


# --------------------------------------------------------------------------- kaspersky_uninstall


def uninstall(args, check_mode=False, **remote):
    action, fake = make_action(kaspersky_uninstall, args, check_mode=check_mode, **remote)
    return action, fake


def test_full_removal_kes_and_agent_then_residue():
    action, fake = uninstall({}, collector=[load('kes11_en_na'), load('kes11_en_na_after_msi'),
                                            load('kes11_en_na_after_residue')],
                             packages={KES11: 0, NA: 0}, residue=residue_ok)
    result = action.run(task_vars={})
    # collector, KES, agent, collector, residue, collector
    assert fake.modules() == [COLLECTOR, WIN_PACKAGE, WIN_PACKAGE, COLLECTOR, RESIDUE, COLLECTOR]
    assert [c['args']['product_id'] for c in fake.calls if c['module'] == WIN_PACKAGE] == [KES11, NA]
    assert fake.calls[1]['args'] == {
        'product_id': KES11, 'state': 'absent', 'arguments': 'REBOOT=ReallySuppress',
        'expected_return_code': [0, 1603, 1605, 1641, 3010],
        'log_path': 'C:\\Windows\\Temp\\phaseout-uninstall-kes-C9EF800D-54AA-4F60-AB96-5A3966550F53.log'}
    residue_args = fake.calls[4]['args']
    assert residue_args['filters'] == [{'key': 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Class\\'
                                               '{4D36E96F-E325-11CE-BFC1-08002BE10318}',
                                        'value': 'UpperFilters', 'remove': ['klmouflt']}]
    assert residue_args['certificates'] == [{'store': 'LocalMachine\\Root',
                                             'thumbprint': '7A3B1C4D5E6F708192A3B4C5D6E7F8091A2B3C4D'}]
    assert residue_args['registry_keys'] == ['HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab']
    assert residue_args['paths'] == ['C:\\ProgramData\\Kaspersky Lab', 'C:\\ProgramData\\KasperskyLab']
    assert residue_args['filter_pattern'] and residue_args['service_pattern'] and residue_args['name_pattern']
    assert result['changed'] is True
    assert 'failed' not in result
    assert result['removed'] == ['kes', 'klnagent']
    assert result['reboot_required'] is False
    assert [s['outcome'] for s in result['executed']] == ['removed'] * 2 + ['removed'] * 5
    assert result['before']['verdict'] == 'installed'
    assert result['after'] == {'verdict': 'clean', 'installed': [], 'residue': [], 'leftovers': []}
    assert result['diff'] == {'before': result['before'], 'after': result['after']}
    assert result['detection']['verdict'] == 'clean'
    assert result['msg'] == 'removed kes, klnagent; host is now clean'


def test_check_mode_returns_the_plan_and_changes_nothing():
    action, fake = uninstall({'kes_password': KES_PASSWORD, 'agent_password': AGENT_PASSWORD}, check_mode=True,
                             collector=[load('kes_protected')])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]  # no changing call at all
    assert result['changed'] is True
    assert [(s['action'], s['product']) for s in result['plan']] == [
        ('msi_uninstall', 'kes'), ('msi_uninstall', 'klnagent'), ('remove_registry_key', None),
        ('remove_path', None), ('remove_path', None), ('remove_path', None)]
    assert result['executed'] == []
    assert result['removed'] == ['kes', 'klnagent']
    assert result['plan'][0]['command'].endswith('KLLOGIN=KLAdmin KLPASSWD=********')
    assert result['diff']['after']['verdict'] == 'residue'
    assert any('prediction' in x for x in result['warnings'])
    assert_no_secret(result)


def test_check_mode_residue_only_plans_residue():
    action, fake = uninstall({}, check_mode=True, collector=[load('residue_only')])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert result['plan'][0]['action'] == 'remove_filter'
    assert result['removed'] == []


def test_idempotent_second_run():
    action, fake = uninstall({}, collector=[load('kes11_en_na_after_residue')])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert result['changed'] is False
    assert result['plan'] == [] and result['executed'] == [] and result['removed'] == []
    assert 'diff' in result and result['diff']['before'] == result['diff']['after']


def test_passwords_are_passed_only_through_no_log_calls_and_never_returned():
    def kes_removed(module_args):
        return win_package_result(module_args, rc=0)

    action, fake = uninstall({'kes_password': KES_PASSWORD, 'agent_password': AGENT_PASSWORD},
                             collector=[load('kes_protected'), load('kes11_en_na_after_msi'),
                                        load('kes11_en_na_after_residue')],
                             packages={KES117: kes_removed, NA2: 0}, residue=residue_ok)
    result = action.run(task_vars={})
    calls = [c for c in fake.calls if c['module'] == WIN_PACKAGE]
    assert calls[0]['args']['arguments'] == 'REBOOT=ReallySuppress KLLOGIN=KLAdmin KLPASSWD="Kes-Pa55 ""w0rd"""'
    assert calls[1]['args']['arguments'] == 'REBOOT=ReallySuppress KLUNINSTPASSWD=770065003100630030006D0065002100'
    # the calls carrying a secret run with _ansible_no_log (no event-log record of their arguments)
    assert [c['no_log'] for c in fake.calls] == [False, True, True, False, False, False]
    assert action._task.no_log is False  # restored
    assert result['removed'] == ['kes', 'klnagent']
    assert_no_secret(result)  # win_package's invocation echo was dropped


def test_rejected_password_stops_with_nothing_else_changed():
    action, fake = uninstall({'kes_password': 'wrong', 'agent_password': AGENT_PASSWORD},
                             collector=[load('kes_protected')], packages={KES117: 1603, NA2: 0})
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR, WIN_PACKAGE, COLLECTOR]  # the agent is not touched
    assert result['failed'] is True
    assert 'the uninstall password was rejected' in result['msg']
    assert 'phaseout-uninstall-kes-04CF7FBD-E56C-446D-8FC9-DD444BDBEE8E.log' in result['msg']
    assert result['changed'] is False
    assert result['removed'] == []
    assert result['failed_step']['outcome'] == 'password_rejected'
    assert result['after']['installed'] == ['kes', 'klnagent']
    assert_no_secret(result)
    assert 'wrong' not in json.dumps(result)


def test_unexpected_rc_is_a_clear_error_and_hides_the_echoed_command():
    def failing(module_args):
        return win_package_result(module_args, rc=1619, failed=True)

    action, fake = uninstall({'kes_password': KES_PASSWORD}, collector=[load('kes_protected')],
                             packages={KES117: failing})
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert 'msiexec rc 1619' in result['msg'] and 'msiexec log' in result['msg']
    assert 'log' not in result['failed_step']
    assert_no_secret(result)


def test_reboot_required_defers_the_residue():
    action, fake = uninstall({}, collector=[load('kes11_en_na'), load('kes11_en_na_after_msi')],
                             packages={KES11: 3010, NA: 0}, residue=residue_ok)
    result = action.run(task_vars={})
    # the residue waits; only the msiexec logs of the two successful uninstalls are deleted
    assert fake.modules() == [COLLECTOR, WIN_PACKAGE, WIN_PACKAGE, COLLECTOR, RESIDUE]
    residue_args = fake.calls[-1]['args']
    assert set(residue_args) - {'service_pattern', 'filter_pattern', 'certificate_pattern', 'name_pattern',
                                'process_names'} == {'logs'}
    assert len(residue_args['logs']) == 2
    assert result['reboot_required'] is True
    assert result['reboot_reasons'] == ['kes: msiexec rc 3010']
    assert [s['outcome'] for s in result['executed']] == ['reboot', 'removed']
    assert any('waits for the reboot' in x for x in result['warnings'])
    assert result['msg'].endswith('a reboot is required')


def test_second_pass_after_reboot_cleans_residue():
    action, fake = uninstall({}, collector=[load('kes11_en_na_after_msi'), load('kes11_en_na_after_residue')],
                             residue=residue_ok)
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR, RESIDUE, COLLECTOR]
    assert result['changed'] is True and result['removed'] == []
    assert result['after']['verdict'] == 'clean'


def test_already_gone_products_are_not_changes():
    action, fake = uninstall({}, collector=[load('na_only'), load('na_only_after')],
                             packages={NA: 1605})
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR, WIN_PACKAGE, COLLECTOR]
    assert result['executed'][0]['outcome'] == 'absent'
    assert result['changed'] is False
    action, fake = uninstall({}, collector=[load('na_only'), load('na_only_after')], packages={NA: 'absent'})
    assert action.run(task_vars={})['executed'][0]['outcome'] == 'absent'


def test_encrypted_host_is_refused_before_any_change():
    action, fake = uninstall({}, collector=[load('kes_encrypted')])
    with pytest.raises(AnsibleActionFail, match='encryption is detected') as err:
        action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert err.value.result['changed'] is False
    action, fake = uninstall({'allow_encrypted': True}, check_mode=True, collector=[load('kes_encrypted')])
    assert [s['product'] for s in action.run(task_vars={})['plan'][:2]] == ['kes', 'klnagent']


def test_server_refusal_and_agent_kept():
    action, fake = uninstall({'products': ['ksc_server']}, collector=[load('ksc_server_console')])
    with pytest.raises(AnsibleActionFail, match='not removed by phaseout'):
        action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    action, fake = uninstall({}, check_mode=True, collector=[load('ksc_server_console')])
    result = action.run(task_vars={})
    assert [s['product'] for s in result['plan']] == ['ksc_console']


def test_ksws_and_agent_on_server():
    action, fake = uninstall({}, collector=[load('ksws_server2019'), load('na_only_after')],
                             packages={'{6A3B7E25-0C4D-4B51-9E8A-3F2D1C0B9A87}': 0, NA: 0}, residue=residue_ok)
    result = action.run(task_vars={})
    # nothing left to clean but the two msiexec logs: one residue call, no extra collector call
    assert fake.modules() == [COLLECTOR, WIN_PACKAGE, WIN_PACKAGE, COLLECTOR, RESIDUE]
    assert fake.calls[-1]['args']['logs'] == [
        'C:\\Windows\\Temp\\phaseout-uninstall-klnagent-0F05E4E5-5A89-482C-9A62-47CC58643788.log',
        'C:\\Windows\\Temp\\phaseout-uninstall-ksws-6A3B7E25-0C4D-4B51-9E8A-3F2D1C0B9A87.log']
    assert [c['args']['product_id'] for c in fake.calls if c['module'] == WIN_PACKAGE] == [
        '{6A3B7E25-0C4D-4B51-9E8A-3F2D1C0B9A87}', NA]
    assert result['removed'] == ['ksws', 'klnagent']


def test_residue_failure_is_reported():
    def residue_fails(module_args):
        out = residue_ok(module_args)
        out.update(failed=True, msg="residue clean-up incomplete: path C:\\ProgramData\\Kaspersky Lab: in use",
                   errors=['path C:\\ProgramData\\Kaspersky Lab: in use'])
        return out

    action, fake = uninstall({}, collector=[load('residue_only'), load('residue_only_after')], residue=residue_fails)
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert 'residue clean-up failed' in result['msg']
    assert result['failed_step']['errors'] == ['path C:\\ProgramData\\Kaspersky Lab: in use']
    # kneps was already marked for deletion: the host still needs a reboot
    assert result['reboot_required'] is True


def test_uninstall_validates_arguments():
    action, fake = uninstall({'agent_password_encoding': 'base64'}, collector=[load('na_only')])
    with pytest.raises(AnsibleActionFail, match='agent_password_encoding'):
        action.run(task_vars={})
    assert fake.calls == []


def test_uninstall_on_linux_passes_through_without_windows_only_options():
    action, fake = uninstall({'kes_password': KES_PASSWORD, 'log_dir': 'C:\\x', 'agent_password_encoding': 'ascii_hex',
                              'stop_services': False},
                             linux=lambda module, args: {'changed': False, 'plan': []})
    action._connection._shell.SHELL_FAMILY = 'sh'
    assert action.run(task_vars={}) == {'changed': False, 'plan': []}
    assert fake.calls[0]['module'] == 'phaseout.antivirus.kaspersky_uninstall'
    assert fake.calls[0]['args'] == {'kes_password': KES_PASSWORD, 'stop_services': False}


def test_action_options_match_the_module_documentation():
    import yaml
    from ansible_collections.phaseout.antivirus.plugins.modules import kaspersky_info as info_module
    doc = yaml.safe_load(info_module.DOCUMENTATION)
    assert set(doc['options']) == set(kaspersky_info.ARGUMENT_SPEC)
    for option, spec in kaspersky_info.ARGUMENT_SPEC.items():
        assert doc['options'][option].get('default') == spec.get('default')
