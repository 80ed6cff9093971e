# SPDX-License-Identifier: GPL-3.0-or-later
"""Microsoft Defender decisions: health contract, policy fixes, passive mode, feature, reboot."""
from __future__ import annotations

import hashlib
import os
import re

import pytest

from conftest import ROOT, load

from ansible_collections.phaseout.antivirus.plugins.filter import defender_health as filters
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender as wd

NOW = '2026-03-02T09:30:00.1234567Z'
EICAR_REMOVED = {'attempted': True, 'path': 'C:\\Windows\\Temp\\phaseout-eicar-1.txt', 'write_error': None,
                 'write_hresult': None, 'removed': True, 'read_error': None, 'read_hresult': None,
                 'detected': True, 'waited_seconds': 1}
EICAR_WRITE_BLOCKED = {'attempted': True, 'path': 'C:\\Windows\\Temp\\phaseout-eicar-2.txt',
                       'write_error': 'Operation did not complete successfully because the file contains a virus or '
                                      'potentially unwanted software.',
                       'write_hresult': -2147024671, 'removed': False, 'read_error': None, 'read_hresult': None,
                       'detected': True, 'waited_seconds': 0}
EICAR_IGNORED = {'attempted': True, 'path': 'C:\\Windows\\Temp\\phaseout-eicar-3.txt', 'write_error': None,
                 'write_hresult': None, 'removed': False, 'read_error': None, 'read_hresult': None,
                 'detected': False, 'waited_seconds': 10}


def defender_of(name):
    return w.classify(load(name))['windows']['defender']


def test_clean_client_is_healthy():
    health = wd.health(defender_of('clean_win11'), eicar=EICAR_REMOVED, now=NOW)
    assert health == {
        'provider': 'defender', 'installed': True, 'running': True, 'realtime': True, 'mode': 'Normal',
        'signatures_present': True, 'signature_age_hours': 3.8, 'signature_version': '1.445.212.0',
        'eicar_detected': True, 'eicar_blocked': True, 'mde_onboarded': False, 'tamper_protected': True,
        'healthy': True, 'issues': []}


def test_eicar_outcomes():
    assert wd.eicar_outcome(EICAR_WRITE_BLOCKED) == (True, True)
    assert wd.eicar_outcome(EICAR_IGNORED) == (False, False)
    assert wd.eicar_outcome({'attempted': False, 'reason': 'check mode'}) == (None, None)
    read_blocked = dict(EICAR_IGNORED, read_error='Access denied: virus', read_hresult=-2147024671)
    assert wd.eicar_outcome(read_blocked) == (True, True)
    health = wd.health(defender_of('clean_win11'), eicar=EICAR_IGNORED, now=NOW)
    assert not health['healthy'] and health['issues'] == ['the EICAR test file was neither blocked nor removed']
    health = wd.health(defender_of('clean_win11'), eicar=None, now=NOW, require_eicar=False)
    assert health['healthy'] and health['eicar_detected'] is None


def test_kaspersky_client_has_defender_off():
    health = wd.health(defender_of('kes11_en_na'), eicar=None, now=NOW)
    assert not health['healthy']
    assert 'the WinDefend service is not running' in health['issues']
    assert any('0x800106ba' in x for x in health['issues'])
    assert 'AMRunningMode is unknown, expected Normal' in health['issues']


def test_server_without_the_feature():
    defender = defender_of('ksws_server2019')
    health = wd.health(defender, eicar=None, now=NOW)
    assert health['installed'] is False
    assert health['issues'][0] == 'the Windows-Defender feature is not installed'
    assert wd.needs_feature(defender) is True
    assert wd.needs_feature(defender_of('ksc_server_console')) is False
    assert wd.needs_feature(defender_of('clean_win11')) is False  # clients have no feature to install
    assert wd.needs_wdenable(defender) is False  # install the feature first


def test_stale_signatures_and_policies():
    raw = load('clean_win11')
    raw['defender']['status']['AntivirusSignatureLastUpdated'] = '2026-02-25T09:30:00.0000000Z'
    raw['defender']['policies'] = [
        {'key': wd.POLICY_ROOT, 'name': 'DisableAntiSpyware', 'value': 1},
        {'key': wd.RTP_POLICY_KEY, 'name': 'DisableRealtimeMonitoring', 'value': 1},
        {'key': wd.RTP_POLICY_KEY, 'name': 'DisableBehaviorMonitoring', 'value': 0},
        {'key': wd.POLICY_ROOT, 'name': 'PUAProtection', 'value': 1},
    ]
    defender = w.classify(raw)['windows']['defender']
    health = wd.health(defender, eicar=EICAR_REMOVED, now=NOW, max_signature_age_hours=48)
    assert health['signature_age_hours'] == 120.0
    assert 'signatures are 120.0 hours old (limit 48)' in health['issues']
    assert wd.policy_fixes(defender) == [
        {'key': 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender', 'name': 'DisableAntiSpyware'},
        {'key': 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Real-Time Protection',
         'name': 'DisableRealtimeMonitoring'}]
    assert any('DisableAntiSpyware=1 keeps Defender off' in x for x in health['issues'])


def test_signature_age_falls_back_to_days_and_never_updated():
    assert wd.signature_age_hours({'signature_age_days': 2}) == 48.0
    assert wd.signature_age_hours({'signature_age_days': 65535}) is None
    health = wd.health(dict(defender_of('clean_win11'), signature_version='0.0.0.0'), eicar=EICAR_REMOVED, now=NOW)
    assert health['signatures_present'] is False and 'no antivirus signatures are loaded' in health['issues']


def test_passive_mode_decisions():
    server = defender_of('ksc_server_console')
    assert wd.passive_mode_target(server, 'stage', kaspersky_installed=True) == 1
    assert wd.passive_mode_target(dict(server, force_passive_mode=1), 'stage', True) is None
    assert wd.passive_mode_target(dict(server, force_passive_mode=1), 'activate', False) == 0
    assert wd.passive_mode_target(dict(server, force_passive_mode=1), 'activate', True) is None
    assert wd.passive_mode_target(server, 'activate', False) is None
    client = defender_of('clean_win11')
    assert wd.passive_mode_target(client, 'stage', True) is None  # clients switch by themselves
    with pytest.raises(ValueError):
        wd.passive_mode_target(client, 'verify', False)


def test_passive_mode_is_acceptable_while_staging():
    defender = dict(defender_of('clean_win11'), am_running_mode='Passive Mode', force_passive_mode=1)
    assert wd.health(defender, eicar=None, now=NOW, require_eicar=False, expect_active=False)['healthy']
    assert not wd.health(defender, eicar=None, now=NOW, require_eicar=False)['healthy']
    assert wd.needs_wdenable(defender) is True


def test_mde_onboarding_required():
    raw = load('clean_win11')
    health = wd.health(w.classify(raw)['windows']['defender'], eicar=EICAR_REMOVED, now=NOW, require_mde=True)
    assert 'not onboarded to Defender for Endpoint (OnboardingState None)' in health['issues']
    raw['defender']['mde'] = {'onboarding_state': 1, 'org_id': 'b6f1c3a2-0000-4e1f-9a51-3c6f3e1b2a90'}
    raw['defender']['services'].append({'name': 'Sense', 'state': 'Running', 'start': 2})
    health = wd.health(w.classify(raw)['windows']['defender'], eicar=EICAR_REMOVED, now=NOW, require_mde=True)
    assert health['healthy'] and health['mde_onboarded']


def test_filters_accept_the_raw_state_of_win_defender_status():
    raw = load('clean_win11')
    status = {'defender': raw['defender'], 'os': raw['os'], 'collected_at': NOW, 'eicar': EICAR_REMOVED}
    health = filters.defender_health(status['defender'], eicar=status['eicar'], now=status['collected_at'],
                                     os=status['os'], max_signature_age_hours='48')
    assert health['healthy'] is True
    server = load('ksws_server2019')
    assert filters.defender_needs_feature(server['defender'], os=server['os']) is True
    assert filters.defender_passive_mode(server['defender'], 'stage', True, os=server['os']) == 1
    assert filters.defender_policy_fixes(raw['defender'], os=raw['os']) == []
    assert set(filters.FilterModule().filters()) == {
        'defender_health', 'defender_policy_fixes', 'defender_passive_mode', 'defender_needs_feature',
        'defender_needs_wdenable', 'defender_reboot_decision'}


# Real-shaped results of ansible.windows.win_feature / win_reboot / kaspersky_uninstall
WIN_FEATURE_RESTART = {
    'changed': True, 'exitcode': 'SuccessRestartRequired', 'reboot_required': True, 'success': True,
    'feature_result': [{'display_name': 'Microsoft Defender Antivirus', 'id': 1035, 'message': [],
                        'reboot_required': True, 'restart_needed': True, 'skip_reason': 'NotSkipped',
                        'success': True}]}
WIN_FEATURE_PRESENT = {'changed': False, 'exitcode': 'NoChangeNeeded', 'reboot_required': False, 'success': True,
                       'feature_result': []}
WIN_REBOOT = {'changed': True, 'elapsed': 71, 'rebooted': True, 'unreachable': False}


def test_reboot_decision():
    assert wd.reboot_decision([WIN_FEATURE_PRESENT], True) == {'required': False, 'reboot': False, 'reasons': []}
    decision = wd.reboot_decision([WIN_FEATURE_RESTART, {'skipped': True}], allow_reboot=False)
    assert decision == {'required': True, 'reboot': False, 'reasons': ['feature 1035 installed']}
    assert wd.reboot_decision([WIN_FEATURE_RESTART], allow_reboot=True)['reboot'] is True
    removal = {'changed': True, 'removed': ['kes'], 'plan': [], 'reboot_required': True}
    assert wd.reboot_decision([removal], True)['reasons'] == ['Kaspersky removal (kes)']
    assert wd.reboot_decision([dict(removal, failed=True)], True)['required'] is False
    assert filters.defender_reboot_decision(WIN_FEATURE_RESTART, True)['reboot'] is True
    assert wd.reboot_decision([WIN_REBOOT], True)['required'] is False  # a done reboot asks for none


def test_eicar_hex_in_the_status_module_is_the_standard_test_file():
    with open(os.path.join(ROOT, 'plugins', 'modules', 'win_defender_status.ps1'), encoding='utf-8') as handle:
        text = handle.read()
    block = re.search(r'\$hex = @\((.*?)\) -join', text, re.S).group(1)
    data = bytes.fromhex(''.join(re.findall(r"'([0-9a-f]+)'", block)))
    assert len(data) == 68
    assert hashlib.md5(data).hexdigest() == '44d88612fea8a8f36de82e1278abb02f'
    assert data.decode('ascii') not in text  # the file itself is no test file


def test_staged_defender_next_to_kaspersky():
    # a client with KES: Windows switched Defender off by itself; nothing stops it coming back
    staged = wd.health(defender_of('kes11_en_na'), eicar=None, now=NOW, require_eicar=False, expect_active=False)
    assert staged['healthy'] is True and staged['running'] is False and staged['realtime'] is False
    # a server whose feature was removed is not staged
    staged = wd.health(defender_of('ksws_server2019'), eicar=None, now=NOW, require_eicar=False,
                       expect_active=False)
    assert staged['issues'] == ['the Windows-Defender feature is not installed']
    # a disabling policy blocks staging too
    raw = load('kes11_en_na')
    raw['defender']['policies'] = [{'key': wd.POLICY_ROOT, 'name': 'DisableAntiSpyware', 'value': 1}]
    defender = w.classify(raw)['windows']['defender']
    assert not wd.health(defender, now=NOW, require_eicar=False, expect_active=False)['healthy']
