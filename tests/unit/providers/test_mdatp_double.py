# SPDX-License-Identifier: GPL-3.0-or-later
"""The mdatp TEST DOUBLE (lab/doubles/mdatp) speaks what provider_mdatp's filter reads.

The double's CLI output is parsed with the same filter the role uses, so the
double and the health contract cannot drift apart. Paths are redirected to a
temporary directory; no daemon is started.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os

import pytest

from ansible_collections.phaseout.antivirus.plugins.filter import provider_health as ph

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
DOUBLE = os.path.join(ROOT, 'lab', 'doubles', 'mdatp', 'opt', 'microsoft', 'mdatp', 'sbin', 'wdavdaemon')
ONBOARDING = {'onboardingInfo': json.dumps({'body': json.dumps({'orgId': 'org-1234'})})}


@pytest.fixture()
def double(tmp_path, monkeypatch):
    loader = importlib.machinery.SourceFileLoader('mdatp_double', DOUBLE)
    spec = importlib.util.spec_from_loader('mdatp_double', loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    state = tmp_path / 'var'
    monkeypatch.setattr(module, 'ONBOARD', str(tmp_path / 'mdatp_onboard.json'))
    monkeypatch.setattr(module, 'MANAGED', str(tmp_path / 'mdatp_managed.json'))
    monkeypatch.setattr(module, 'STATE_DIR', str(state))
    monkeypatch.setattr(module, 'STATE', str(state / 'state.json'))
    monkeypatch.setattr(module, 'LOCK', str(state / 'state.lock'))
    monkeypatch.setattr(module, 'QUARANTINE', str(state / 'quarantine'))
    monkeypatch.setattr(module, 'LOGFILE', str(tmp_path / 'core.log'))
    monkeypatch.setattr(module, 'daemon_pid', lambda: 4242)
    monkeypatch.setattr(module, 'process_conflicts', lambda: [])
    module.VERSION = '101.25032.0008'
    module.tmp = tmp_path
    with module.Locked() as data:
        data['definitions_updated'] = 1.0
    return module


def health(double, capsys, *args):
    assert double.client(['health', *args]) == 0
    return capsys.readouterr().out


def managed(double, level):
    with open(double.MANAGED, 'w', encoding='utf-8') as handle:
        json.dump({'antivirusEngine': {'enforcementLevel': level}}, handle)


def test_health_output_parses_into_the_documented_fields(double, capsys):
    fields = ph.mdatp_health_fields(health(double, capsys))
    for name in ('healthy', 'health_issues', 'licensed', 'org_id', 'app_version', 'engine_version',
                 'definitions_status', 'definitions_updated', 'definitions_updated_minutes_ago',
                 'definitions_version', 'real_time_protection_enabled', 'passive_mode_enabled',
                 'conflicting_applications', 'edr_machine_id', 'cloud_enabled'):
        assert name in fields, name
    assert fields['app_version'] == '101.25032.0008'
    assert fields['real_time_protection_enabled'] is False  # default passive
    assert fields['passive_mode_enabled'] is True
    assert fields['_managed'] == []


def test_licensed_only_with_the_onboarding_file(double, capsys):
    fields = ph.mdatp_health_fields(health(double, capsys))
    assert fields['licensed'] is False and fields['healthy'] is False
    assert fields['health_issues'] == ['no license found']
    with open(double.ONBOARD, 'w', encoding='utf-8') as handle:
        json.dump(ONBOARDING, handle)
    fields = ph.mdatp_health_fields(health(double, capsys))
    assert fields['licensed'] is True and fields['healthy'] is True
    assert fields['org_id'] == 'org-1234'


def test_managed_level_wins_and_is_marked(double, capsys):
    assert double.client(['config', 'real-time-protection', '--value', 'enabled']) == 0
    assert health(double, capsys, '--field', 'real_time_protection_enabled').split('\n')[-2] == 'true'
    managed(double, 'passive')
    assert health(double, capsys, '--field', 'real_time_protection_enabled') == 'false [managed]\n'
    assert double.client(['config', 'real-time-protection', '--value', 'enabled']) == 1
    assert 'managed by your administrator' in capsys.readouterr().err
    managed(double, 'real_time')
    fields = ph.mdatp_health_fields(health(double, capsys))
    assert fields['real_time_protection_enabled'] is True
    assert set(fields['_managed']) == {'real_time_protection_enabled', 'passive_mode_enabled'}


def test_scan_detects_and_quarantines_unless_passive(double, capsys):
    sample = double.tmp / 'eicar.com'
    sample.write_bytes(ph.eicar_test_string().encode('ascii'))
    (double.tmp / 'clean.txt').write_text('hello\n')
    managed(double, 'passive')
    assert double.client(['scan', 'custom', '--path', str(double.tmp)]) == 0
    out = capsys.readouterr().out
    assert '1 threat(s) detected' in out
    assert sample.exists()  # passive: detected, not remediated
    managed(double, 'real_time')
    assert double.client(['scan', 'custom', '--path', str(sample)]) == 0
    assert '1 threat(s) detected' in capsys.readouterr().out
    assert not sample.exists()
    assert double.client(['threat', 'list']) == 0
    threats = capsys.readouterr().out
    assert threats.count('Path: "%s"' % sample) == 2
    assert 'Status: "quarantined"' in threats and 'Status: "detected"' in threats


def test_realtime_sweep_quarantines_only_eicar(double, tmp_path):
    watched = tmp_path / 'watched' / 'sub'
    watched.mkdir(parents=True)
    (watched / 'eicar.com').write_bytes(ph.eicar_test_string().encode('ascii') + b'\r\n')
    (watched / 'longer.txt').write_bytes(ph.eicar_test_string().encode('ascii') + b' and more')
    double.WATCH = [str(tmp_path / 'watched')]
    double.sweep(set())
    assert not (watched / 'eicar.com').exists()
    assert (watched / 'longer.txt').exists()


def test_commands_fail_without_the_daemon(double, capsys, monkeypatch):
    monkeypatch.setattr(double, 'daemon_pid', lambda: None)
    assert double.client(['health']) == 1
    assert 'Could not connect to daemon' in capsys.readouterr().err
    assert double.client(['version']) == 0
