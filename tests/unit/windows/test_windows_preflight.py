# SPDX-License-Identifier: GPL-3.0-or-later
"""preflight_check on Windows: one collector round trip, the decision on the controller."""
from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleActionFail

from conftest import COLLECTOR, load, make_action

from ansible_collections.phaseout.antivirus.plugins.action import preflight_check
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w
from ansible_collections.phaseout.antivirus.plugins.module_utils.preflight import evaluate_windows


def run(raw, args=None, check_mode=False):
    action, fake = make_action(preflight_check, args or {}, check_mode=check_mode, collector=[raw])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]  # one read-only round trip, in check mode too
    assert fake.calls[0]['args'] == w.collector_args('kaspersky')
    return result


@pytest.mark.parametrize('check_mode', [False, True])
def test_kes_and_agent_host_is_ready_with_the_detection(check_mode):
    result = run(load('kes11_en_na'), check_mode=check_mode)
    assert result['ready'] is True and result['blockers'] == []
    assert result['changed'] is False
    assert result['detection'] == w.classify(load('kes11_en_na'))
    assert result['detection']['installed']  # the report lists what is installed
    assert result['facts']['platform'] == 'windows'
    assert any('not checked on Windows' in warning for warning in result['warnings'])


def test_administration_server_is_blocked_and_named():
    result = run(load('ksc_server_console'))
    assert result['ready'] is False
    assert any('phaseout does not remove it' in b for b in result['blockers']), result['blockers']


def test_encrypted_host_is_blocked():
    result = run(load('kes_encrypted'))
    assert result['ready'] is False
    assert 'Kaspersky disk or file encryption detected: decrypt first' in result['blockers']


def test_do_not_touch_is_a_blocker():
    result = run(load('clean_win11'), {'do_not_touch': True})
    assert result['ready'] is False
    assert result['blockers'][0].startswith('host is marked do-not-touch')


def test_pending_reboot_is_a_warning_unless_refused():
    raw = copy.deepcopy(load('kes11_en_na'))
    raw['pending_reboot']['windows_update'] = True
    assert run(raw)['ready'] is True
    assert any('a reboot is already pending (windows_update)' in x for x in run(raw)['warnings'])
    refused = run(raw, {'allow_pending_reboot': False})
    assert refused['ready'] is False
    assert refused['blockers'] == ['a reboot is already pending (windows_update): reboot first']


def test_kaspersky_files_waiting_for_the_reboot_are_named():
    detection = {'products': [], 'windows': {'pending_reboot': {
        'pending': True, 'reasons': ['pending_file_rename'],
        'vendor_files': [r'\??\C:\Program Files (x86)\Kaspersky Lab\klif.sys']}}}
    decision = evaluate_windows(detection, allow_pending_reboot=False)
    assert decision['blockers'] == [
        r'a reboot is already pending (pending_file_rename); Kaspersky files wait for it: '
        r'\??\C:\Program Files (x86)\Kaspersky Lab\klif.sys: reboot first']


def test_bad_arguments_are_refused_before_any_call():
    action, fake = make_action(preflight_check, {'min_free_mb': 'lots'}, collector=[load('na_only')])
    with pytest.raises(AnsibleActionFail, match='min_free_mb'):
        action.run(task_vars={})
    assert fake.calls == []


def test_collector_failure_is_clear():
    action, _fake = make_action(preflight_check, {}, collector=[{'failed': True, 'msg': 'Access is denied'}])
    with pytest.raises(AnsibleActionFail, match='collector .* failed on the host: Access is denied'):
        action.run(task_vars={})


def test_linux_passes_through_to_the_module():
    linux_result = {'changed': False, 'ready': True, 'blockers': [], 'warnings': []}
    action, fake = make_action(preflight_check, {'min_free_mb': 100}, family='sh',
                               linux=lambda module, args: dict(linux_result))
    assert action.run(task_vars={}) == linux_result
    assert fake.calls == [{'module': 'phaseout.antivirus.preflight_check', 'args': {'min_free_mb': 100},
                           'no_log': False, 'check_mode': False}]


def test_options_match_the_module_documentation():
    import yaml
    from ansible_collections.phaseout.antivirus.plugins.modules import preflight_check as module
    doc = yaml.safe_load(module.DOCUMENTATION)
    linux_spec = {k: v for k, v in preflight_check.ARGUMENT_SPEC.items() if k not in preflight_check.WINDOWS_ONLY}
    # every option documented; the Windows-only ones may be (marked "Windows only" there)
    assert set(linux_spec) <= set(doc['options']) <= set(preflight_check.ARGUMENT_SPEC)
    for option in set(doc['options']) - set(linux_spec):
        assert 'Windows only' in ' '.join(doc['options'][option]['description'] if isinstance(
            doc['options'][option]['description'], list) else [doc['options'][option]['description']]), option
    for option, spec in ((k, preflight_check.ARGUMENT_SPEC[k]) for k in doc['options']):
        assert doc['options'][option].get('default') == spec.get('default'), option
        assert doc['options'][option]['type'] == spec['type'], option


def test_encryption_is_a_warning_when_allowed_and_linux_never_sees_the_option():
    result = run(load('kes_encrypted'), {'allow_encrypted': True})
    assert result['ready'] is True
    assert any('encryption detected' in x and 'allow_encrypted' in x for x in result['warnings'])
    assert result['facts']['encryption']['detected'] is True
    action, fake = make_action(preflight_check, {'allow_encrypted': True, 'min_free_mb': 100}, family='sh',
                               linux=lambda module, args: {'changed': False, 'ready': True, 'blockers': []})
    action.run(task_vars={})
    assert fake.calls[0]['args'] == {'min_free_mb': 100}


def test_what_the_windows_preflight_returns():
    result = run(load('kes11_en_na'))
    assert set(result) >= {'changed', 'ready', 'blockers', 'warnings', 'facts', 'detection'}
    assert set(result['facts']) == {'platform', 'os', 'pending_reboot', 'encryption', 'realtime_protection_active',
                                    'defender'}
    assert result['facts']['realtime_protection_active'] is True


def test_unknown_kaspersky_product_is_named_not_silently_blocked():
    raw = copy.deepcopy(load('clean_win11'))
    raw['uninstall'] = [{'key': '{00000000-0000-0000-0000-0000000000E1}', 'display_name': 'Kaspersky Hybrid Agent 9',
                         'display_version': '9.1', 'publisher': 'AO Kaspersky Lab', 'windows_installer': 1,
                         'uninstall_string': None}]
    result = run(raw)
    assert result['ready'] is False
    assert result['blockers'] == [
        'an unknown Kaspersky product is installed ("Kaspersky Hybrid Agent 9", 9.1, '
        '{00000000-0000-0000-0000-0000000000E1}, uninstall entry): phaseout removes only catalogued products; '
        'add it to the catalog or take this host out of the wave']
