# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's ledger: reading it back, hosts lost or in flight, interrupted runs, the callback writing it."""
from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from ansible_collections.phaseout.antivirus.plugins.callback.ledger import CallbackModule, _step
from ansible_collections.phaseout.antivirus.plugins.module_utils import ledger

EVENTS = [
    {'event': 'run_start', 'playbook': 'replace.yml', 'at': '2026-12-01T01:00:00+00:00', 'check_mode': False},
    {'event': 'play_start', 'phase': 'replace'},
    {'event': 'task_start', 'host': 'a', 'task': 'Check readiness', 'step': 'readiness'},
    {'event': 'ok', 'host': 'a', 'task': 'Check readiness', 'step': 'readiness'},
    {'event': 'task_start', 'host': 'a', 'task': 'Hand over', 'step': 'handover'},
    {'event': 'task_start', 'host': 'b', 'task': 'Hand over', 'step': 'handover'},
    {'event': 'unreachable', 'host': 'b', 'task': 'Hand over', 'step': 'handover', 'msg': 'timed out'},
]


def write(path, events, torn=False):
    text = ''.join(json.dumps(e) + '\n' for e in events)
    if torn:
        text += '{"event": "ok", "host": "a", "ta'
    path.write_text(text)


def test_hosts_and_a_torn_last_line(tmp_path):
    path = tmp_path / 'r.jsonl'
    write(path, EVENTS, torn=True)
    events = ledger.read(str(path))
    assert len(events) == len(EVENTS) and not ledger.ended(events)
    hosts = ledger.hosts(events, phase='replace')
    assert hosts['a']['status'] == 'started' and hosts['a']['step'] == 'handover'
    assert hosts['b']['unreachable_during'] == 'handover'
    assert ledger.hosts(events, phase='discover') == {}


@pytest.mark.parametrize('entry, ended, status, text', [
    ({'unreachable_during': 'handover', 'step': 'handover', 'status': 'unreachable'}, True, 'unreachable',
     'unreachable during handover: protection unknown'),
    ({'unreachable_during': None, 'step': 'cleanup', 'status': 'started'}, False, 'interrupted',
     'run interrupted during cleanup'),
    ({'unreachable_during': None, 'step': 'staging', 'status': 'failed', 'msg': 'boom'}, True, 'failed',
     'no record: last seen failed in staging (boom)'),
    (None, True, 'missing', 'no record and no ledger entry'),
])
def test_lost_record(entry, ended, status, text):
    record = ledger.lost_record('h', entry, ended)
    assert record['status'] == status and text in record['error'] and record['protection'] == 'unknown'


def test_runs_lists_interrupted_runs_and_hosts_in_flight(tmp_path):
    directory = tmp_path / 'ledger'
    directory.mkdir()
    write(directory / 'r1.jsonl', EVENTS)
    write(directory / 'r2.jsonl', [dict(EVENTS[0], at='2026-12-01T02:00:00+00:00'), EVENTS[1],
                                   {'event': 'run_end', 'at': '2026-12-01T02:05:00+00:00'}])
    runs = ledger.runs(str(tmp_path))
    assert [r['run_id'] for r in runs] == ['r2', 'r1']
    assert runs[0]['interrupted'] is False and runs[1]['interrupted'] is True
    assert runs[1]['unreachable'] == ['b'] and runs[1]['in_flight'] == ['a'] and runs[1]['phases'] == ['replace']


@pytest.mark.parametrize('run_id, ok', [
    ('20261201T010000Z-ab12cd', True), ('awx-4711', True), ('../x', False), ('', False), ('a' * 200, False),
    ('a b', False)])
def test_run_ids_are_safe_file_names(run_id, ok):
    assert ledger.valid_run_id(run_id) is ok
    if not ok:
        with pytest.raises(ValueError):
            ledger.path_for('/tmp', run_id)


def test_the_step_comes_from_the_nearest_block_or_include():
    block = mock.Mock(vars={'phaseout_step': 'handover'}, _parent=None)
    task = mock.Mock(vars={}, _parent=block)
    assert _step(task) == 'handover'
    assert _step(mock.Mock(vars={'phaseout_step': '{{ templated }}'}, _parent=None)) is None


def test_the_callback_writes_as_it_goes_and_never_writes_no_log_messages(tmp_path, monkeypatch):
    monkeypatch.setenv('PHASEOUT_RUN_ID', 'run-7')
    callback = CallbackModule()
    # the option plumbing is Ansible's (env PHASEOUT_ARTIFACTS_DIR or ini); here only its value matters
    monkeypatch.setattr(callback, 'get_option', {'artifacts_dir': str(tmp_path)}.get)
    callback.v2_playbook_on_start(mock.Mock(_file_name='/x/playbooks/replace.yml'))
    play = mock.Mock(_variable_manager=mock.Mock(extra_vars={}))
    play.get_name.return_value = 'Replace'
    callback.v2_playbook_on_play_start(play)
    host = mock.Mock()
    host.get_name.return_value = 'h1'
    task = mock.Mock(vars={'phaseout_step': 'handover'}, _parent=None, no_log=False)
    task.get_name.return_value = 'Hand over'
    callback.v2_runner_on_start(host, task)
    path = tmp_path / 'ledger' / 'run-7.jsonl'
    assert [json.loads(line)['event'] for line in path.read_text().splitlines()] == ['run_start', 'play_start',
                                                                                     'task_start']
    secret = mock.Mock(_host=host, _task=mock.Mock(vars={}, _parent=None, no_log=True),
                       _result={'msg': 'password=hunter2', '_ansible_no_log': True})
    secret._task.get_name.return_value = 'Secret step'
    callback.v2_runner_on_failed(secret)
    stats = mock.Mock(processed={'h1': 1})
    stats.summarize.return_value = {'ok': 1}
    callback.v2_playbook_on_stats(stats)
    text = path.read_text()
    assert 'hunter2' not in text and '"msg": "(no_log)"' in text
    assert json.loads(text.splitlines()[-1])['event'] == 'run_end'
    assert os.environ['PHASEOUT_RUN_ID'] == 'run-7'
