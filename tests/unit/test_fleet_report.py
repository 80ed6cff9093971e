# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet report: host classification, totals, CSV, and the action plugin writing files."""
from __future__ import annotations

import csv
import io
import json
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext

from ansible_collections.phaseout.antivirus.plugins.action.fleet_report import ActionModule
from ansible_collections.phaseout.antivirus.plugins.module_utils import report

INSTALLED = {
    'changed': False, 'verdict': 'installed', 'platform': 'linux', 'installed': ['kesl', 'klnagent'],
    'residue': [], 'admin_server': 'ksc.corp.example', 'realtime_protection_active': True,
    'products': [{'id': 'kesl', 'name': 'KESL', 'kind': 'endpoint', 'state': 'installed',
                  'version': '12.1.0-1125', 'removable': True}],
    'leftovers': [],
}
UNREACHABLE = {'unreachable': True, 'changed': False, 'msg': 'Failed to connect to the host via ssh: Connection refused'}
FAILED = {'failed': True, 'msg': 'MODULE FAILURE\nSee stdout/stderr for the exact error', 'rc': 1}


@pytest.mark.parametrize('result, status', [
    (INSTALLED, 'ok'), (UNREACHABLE, 'unreachable'), (FAILED, 'failed'), (None, 'missing'),
    ({'skipped': True}, 'skipped'),
])
def test_host_status(result, status):
    assert report.host_status(result) == status


def test_discover_record_keeps_product_summary_and_errors():
    ok = report.build_record('web1', 'discover', INSTALLED, 'T')
    assert ok['status'] == 'ok' and ok['verdict'] == 'installed'
    assert ok['products'][0] == {'id': 'kesl', 'name': 'KESL', 'kind': 'endpoint', 'state': 'installed',
                                 'version': '12.1.0-1125', 'removable': True}
    down = report.build_record('web2', 'discover', UNREACHABLE, 'T')
    assert down['status'] == 'unreachable' and 'Connection refused' in down['error']
    failed = report.build_record('web3', 'discover', FAILED, 'T')
    assert failed['error'] == 'MODULE FAILURE See stdout/stderr for the exact error'


def test_summary_counts_and_attention():
    records = [report.build_record(h, 'discover', r, 'T') for h, r in
               (('a', INSTALLED), ('b', UNREACHABLE), ('c', dict(INSTALLED, verdict='clean', installed=[])))]
    summary = report.summarize('discover', records, 'T')
    assert summary['hosts'] == 3
    assert summary['status'] == {'ok': 2, 'unreachable': 1}
    assert summary['verdict'] == {'clean': 1, 'installed': 1, 'unknown': 1}
    assert summary['installed_products'] == {'kesl': 1, 'klnagent': 1}
    assert summary['needs_attention'] == ['a', 'b']


def test_csv_rows():
    records = [report.build_record('a', 'discover', INSTALLED, 'T')]
    rows = list(csv.DictReader(io.StringIO(report.to_csv(records))))
    assert rows[0]['installed'] == 'kesl klnagent'
    assert rows[0]['admin_server'] == 'ksc.corp.example'
    assert list(rows[0]) == list(report.CSV_COLUMNS)


class FakeHostvars(dict):
    pass


def make_action(args, check_mode=False):
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.async_val = 0
    connection = mock.MagicMock()
    action = ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    return action


def test_action_writes_every_host_including_unreachable(tmp_path):
    hostvars = {'a': {'r': INSTALLED}, 'b': {'r': UNREACHABLE}, 'c': {}}
    action = make_action({'phase': 'discover', 'result_var': 'r', 'dest': str(tmp_path)})
    result = action.run(task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': ['a', 'b', 'c']})
    assert result['summary']['status'] == {'missing': 1, 'ok': 1, 'unreachable': 1}
    for host in 'abc':
        record = json.loads((tmp_path / 'discover' / 'hosts' / ('%s.json' % host)).read_text())
        assert record['host'] == host
    summary = json.loads((tmp_path / 'discover' / 'summary.json').read_text())
    assert [h['host'] for h in summary['hosts']] == ['a', 'b', 'c']
    assert (tmp_path / 'discover' / 'summary.csv').read_text().count('\n') == 4
    assert any('unreachable' in line for line in result['msg'])


@pytest.mark.parametrize('phase', ['discover', 'contain', 'preflight', 'replace', 'verify'])
def test_action_hands_the_totals_to_the_custom_stats_as_set_stats_would(tmp_path, phase):
    action = make_action({'phase': phase, 'result_var': 'r', 'dest': str(tmp_path)})
    result = action.run(task_vars={'hostvars': {'a': {'r': INSTALLED}}, 'ansible_play_hosts_all': ['a']})
    assert result['ansible_stats'] == {'data': {'phaseout_%s' % phase: result['summary']},
                                       'per_host': False, 'aggregate': True}


def test_action_marks_dry_run(tmp_path):
    action = make_action({'phase': 'discover', 'result_var': 'r', 'dest': str(tmp_path)}, check_mode=True)
    result = action.run(task_vars={'hostvars': {'a': {'r': INSTALLED}}, 'ansible_play_hosts_all': ['a']})
    assert result['summary']['check_mode'] is True
    assert '[dry run]' in result['msg'][0]


@pytest.mark.parametrize('args, message', [
    ({'result_var': 'r', 'dest': '/tmp'}, 'phase is required'),
    ({'phase': 'discover', 'dest': '/tmp'}, 'result_var is required'),
    ({'phase': 'discover', 'result_var': 'r'}, 'dest is required'),
    ({'phase': 'discover', 'result_var': 'r', 'dest': '/tmp', 'hosts': 'web1'}, 'hosts must be a list'),
])
def test_action_rejects_bad_arguments(args, message):
    with pytest.raises(AnsibleActionFail, match=message):
        make_action(args).run(task_vars={'hostvars': {}})


def test_action_reports_unwritable_destination(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    action = make_action({'phase': 'discover', 'result_var': 'r', 'dest': str(blocker)})
    with pytest.raises(AnsibleActionFail, match='cannot write the report'):
        action.run(task_vars={'hostvars': {'a': {'r': INSTALLED}}, 'ansible_play_hosts_all': ['a']})


def test_preflight_record_lists_blockers():
    result = {'ready': False, 'blockers': ['only 120 MB free on /'], 'warnings': [],
              'detection': {'installed': ['kesl'], 'residue': []}, 'facts': {'euid': 0}}
    record = report.build_record('db1', 'preflight', result, 'T')
    assert record['verdict'] == 'blocked' and record['error'] == 'only 120 MB free on /'
    assert report.summarize('preflight', [record], 'T')['needs_attention'] == ['db1']
    ready = report.build_record('db2', 'preflight', dict(result, ready=True, blockers=[]), 'T')
    assert ready['verdict'] == 'ready' and ready['installed'] == ['kesl']


def test_replace_summary_counts_removed_products_and_shows_the_window():
    records = [report.build_record('a', 'replace', {'record': {
        'status': 'ok', 'outcome': 'replaced', 'verdict': 'replaced', 'removed': ['kesl', 'klnagent'],
        'unprotected_window_s': 3.2}}, 'T')]
    summary = report.summarize('replace', records, 'T')
    assert summary['removed_products'] == {'kesl': 1, 'klnagent': 1}
    assert 'installed_products' not in summary
    assert summary['outcome'] == {'replaced': 1}
    assert any('(unprotected 3.2s)' in line for line in report.render_table(summary, records))
    row = list(csv.DictReader(io.StringIO(report.to_csv(records))))[0]
    assert row['removed'] == 'kesl klnagent' and row['unprotected_window_s'] == '3.2'


# --- reports that cannot be poisoned, hosts lost during the run ---------------------------------

def test_action_keeps_hostile_host_names_inside_the_report(tmp_path):
    hostvars = {'../../etc/evil': {'r': INSTALLED}, 'ok': {'r': INSTALLED}}
    action = make_action({'phase': 'discover', 'result_var': 'r', 'dest': str(tmp_path / 'art')})
    action.run(task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': list(hostvars)})
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob('*.json'))
    assert all(p.startswith('art/discover/') for p in written), written
    assert not (tmp_path / 'etc').exists()
    summary = json.loads((tmp_path / 'art' / 'discover' / 'summary.json').read_text())
    assert sorted(h['host'] for h in summary['hosts']) == ['../../etc/evil', 'ok']


def test_action_csv_cells_are_never_formulas(tmp_path):
    hostvars = {'=HYPERLINK("http://x")': {'r': dict(INSTALLED, admin_server='+cmd|calc')}}
    action = make_action({'phase': 'discover', 'result_var': 'r', 'dest': str(tmp_path)})
    action.run(task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': list(hostvars)})
    rows = list(csv.DictReader(io.StringIO((tmp_path / 'discover' / 'summary.csv').read_text())))
    assert rows[0]['host'] == '\'=HYPERLINK("http://x")' and rows[0]['admin_server'] == "'+cmd|calc"


def test_action_reports_a_malformed_result_and_still_writes_the_others(tmp_path):
    hostvars = {'bad': {'r': dict(INSTALLED, installed=[{'nested': 'dict'}], admin_server=['a', 'list'])},
                'good': {'r': INSTALLED}}
    action = make_action({'phase': 'discover', 'result_var': 'r', 'dest': str(tmp_path)})
    result = action.run(task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': ['bad', 'good']})
    assert result['summary']['status'] == {'malformed': 1, 'ok': 1}
    bad = json.loads((tmp_path / 'discover' / 'hosts' / 'bad.json').read_text())
    assert bad['status'] == 'malformed' and 'admin_server' in bad['error'] and 'installed' in bad['error']
    assert 'bad' in result['summary']['needs_attention']


def test_action_dry_run_writes_beside_the_real_report(tmp_path):
    real = make_action({'phase': 'replace', 'result_var': 'r', 'dest': str(tmp_path)})
    real.run(task_vars={'hostvars': {'a': {'r': {'status': 'ok', 'outcome': 'replaced'}}}, 'ansible_play_hosts_all': ['a']})
    dry = make_action({'phase': 'replace', 'result_var': 'r', 'dest': str(tmp_path)}, check_mode=True)
    dry.run(task_vars={'hostvars': {'a': {'r': {'status': 'ok', 'outcome': 'would_replace'}}},
                       'ansible_play_hosts_all': ['a']})
    assert json.loads((tmp_path / 'replace' / 'hosts' / 'a.json').read_text())['outcome'] == 'replaced'
    assert json.loads((tmp_path / 'replace-dry-run' / 'hosts' / 'a.json').read_text())['outcome'] == 'would_replace'


def test_action_reports_a_host_lost_during_the_run_from_the_ledger(tmp_path):
    ledger_dir = tmp_path / 'ledger'
    ledger_dir.mkdir()
    events = [
        {'event': 'run_start', 'run_id': 'r1'}, {'event': 'play_start', 'phase': 'replace'},
        {'event': 'task_start', 'host': 'gone', 'task': 'Stop Kaspersky...', 'step': 'handover'},
        {'event': 'unreachable', 'host': 'gone', 'task': 'Stop Kaspersky...', 'step': 'handover',
         'msg': 'Connection timed out'},
    ]
    (ledger_dir / 'r1.jsonl').write_text(''.join(json.dumps(e) + '\n' for e in events))
    hostvars = {'gone': {}, 'fine': {'r': {'status': 'ok', 'outcome': 'replaced'}}}
    action = make_action({'phase': 'replace', 'result_var': 'r', 'dest': str(tmp_path), 'run_id': 'r1'})
    result = action.run(task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': ['gone', 'fine']})
    gone = json.loads((tmp_path / 'replace' / 'hosts' / 'gone.json').read_text())
    assert gone['status'] == 'unreachable' and gone['outcome'] == 'unreachable'
    assert gone['error'] == 'unreachable during handover: protection unknown'
    assert result['summary']['needs_attention'] == ['gone'] and result['run_id'] == 'r1'
    assert (tmp_path / 'replace' / 'runs' / 'r1' / 'summary.json').exists()
    with pytest.raises(AnsibleActionFail, match='not a valid run id'):
        make_action({'phase': 'replace', 'result_var': 'r', 'dest': str(tmp_path), 'run_id': '../x'}).run(
            task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': ['gone']})


def test_the_console_table_names_an_interrupted_swap_and_what_protects_the_host():
    result = dict(INSTALLED, protection='none',
                  journal={'interrupted': True, 'message': 'interrupted at step kaspersky_stopped'})
    records = [report.build_record('web1', 'discover', result, 'T')]
    summary = report.summarize('discover', records, 'T')
    line = report.render_table(summary, records)[-1]
    assert 'swap interrupted at step kaspersky_stopped; protection: none.' in line
    assert summary['needs_attention'] == ['web1']


def test_a_lapsed_containment_is_reported_and_needs_attention():
    result = dict(INSTALLED, containment={'containment': 'lapsed', 'reasons': ['nftables table phaseout_contain missing']})
    records = [report.build_record('web1', 'discover', result, 'T')]
    assert records[0]['containment'] == 'lapsed' and records[0]['containment_detail']['reasons']
    rows = list(csv.DictReader(io.StringIO(report.to_csv(records))))
    assert rows[0]['containment'] == 'lapsed'
    clean = report.build_record('web2', 'discover', dict(INSTALLED, verdict='clean', installed=[],
                                                         containment={'containment': 'intact'}), 'T')
    assert report.summarize('discover', records + [clean], 'T')['needs_attention'] == ['web1']
