# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet dashboard: states, merging, counts, escaping and malformed reports."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import sys

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import dashboard

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'browser'))
import fleet  # noqa: E402  (tests/browser/fleet.py: report trees written through report.py)


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    artifacts = tmp_path_factory.mktemp('lab')
    hosts = fleet.lab_fleet(str(artifacts))
    return str(artifacts), hosts


def summary(artifacts, phase, *parts):
    with open(os.path.join(artifacts, phase, *parts, 'summary.json'), encoding='utf-8') as handle:
        return json.load(handle)


@pytest.mark.parametrize('phase, record, state', [
    ('discover', {'status': 'ok', 'verdict': 'installed'}, 'on_kaspersky'),
    ('discover', {'status': 'ok', 'verdict': 'residue'}, 'residue'),
    ('discover', {'status': 'unreachable', 'verdict': 'unknown'}, 'unreachable'),
    ('discover', {'status': 'failed', 'verdict': 'unknown'}, 'failed'),
    ('contain', {'status': 'ok', 'outcome': 'contained'}, 'contained'),
    ('contain', {'status': 'ok', 'outcome': 'contained', 'containment': 'lapsed'}, 'lapsed'),
    ('preflight', {'status': 'ok', 'verdict': 'blocked'}, 'blocked'),
    ('replace', {'status': 'ok', 'outcome': 'replaced'}, 'replaced'),
    ('replace', {'status': 'failed', 'outcome': 'incomplete'}, 'failed'),
    ('replace', {'status': 'failed', 'outcome': 'unreachable during swap: protection unknown'}, 'unreachable'),
    ('replace', {'status': 'failed', 'outcome': 'interrupted', 'failed_step': 'kaspersky_stopped'}, 'interrupted'),
    ('replace', {'status': 'ok', 'outcome': 'would replace'}, 'planned'),
    ('replace', {'status': 'skipped', 'outcome': 'skipped'}, 'skipped'),
    ('replace', {'status': 'failed', 'outcome': 'unprotected'}, 'unprotected'),
    ('replace', {'status': 'failed', 'outcome': 'kept_replacement'}, 'kept_replacement'),
    ('verify', {'status': 'failed', 'verdict': 'noncompliant'}, 'noncompliant'),
    ('verify', ['not', 'a', 'record'], 'malformed'),
    ('verify', {}, 'malformed'),
])
def test_host_state(phase, record, state):
    assert dashboard.host_state(phase, record) == state


def test_waves_from_records_and_inventory_groups():
    assert dashboard.record_wave({'wave': 'wave_2'}) == 'wave_2'
    assert dashboard.record_wave({'groups': ['linux', 'wave_3', 'wave_pilot']}) == 'wave_pilot'
    assert dashboard.record_wave({'host': 'a'}, {'a': 'wave_1'}) == 'wave_1'
    assert dashboard.record_wave({'host': 'a', 'groups': 'wave_1'}) is None
    groups = {'all': ['a', 'b', 'c'], 'wave_10': ['c'], 'wave_2': ['b', 'c'], 'wave_pilot': ['a'], 'web': ['a']}
    assert dashboard.waves_from_groups(groups) == {'a': 'wave_pilot', 'b': 'wave_2', 'c': 'wave_2'}
    assert dashboard.waves_from_groups(None) == {}


def test_counts_match_each_phase_summary(lab):
    artifacts, hosts = lab
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    tables = {t['phase']: t for t in model['phase_tables']}
    assert set(tables) == {'discover', 'contain', 'replace', 'verify'}
    assert model['total_hosts'] == len(hosts) == 10
    for phase in tables:
        assert tables[phase]['hosts'] == summary(artifacts, phase)['summary']['hosts']
    replace = summary(artifacts, 'replace')['summary']['outcome']
    assert tables['replace']['total'] == replace
    verify = summary(artifacts, 'verify')['summary']['verdict']
    assert tables['verify']['total'] == verify
    discover = summary(artifacts, 'discover')['summary']['verdict']
    assert tables['discover']['total'] == {'on_kaspersky': discover['installed'], 'residue': discover['residue'],
                                           'clean': discover['clean']}
    # per wave: the lab's pilot is its first two hosts
    waves = {w['wave']: w['total'] for w in tables['replace']['waves']}
    assert waves == {'wave_pilot': 2, 'wave_1': 8}
    # the fleet states add up to the fleet
    assert sum(s['count'] for s in model['fleet_states']) == 10
    # window statistics from the records themselves
    windows = sorted(r['unprotected_window_s'] for r in summary(artifacts, 'replace')['hosts']
                     if r.get('unprotected_window_s') is not None)
    assert model['window']['count'] == len(windows) and model['window']['max'] == windows[-1]
    assert sum(b['count'] for b in model['window']['bins']) == len(windows)
    assert model['attestations']['compliant'] == verify['compliant']


def test_attention_lists_each_failing_host_with_its_reason(lab):
    artifacts = lab[0]
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    by_host = {a['host']: a for a in model['attention']}
    hostile = by_host[fleet.HOSTILE]
    # verify says "not compliant", the failed swap says why: both kept, the fleet state is the specific one
    assert hostile['state'] == 'failed'
    texts = {r['phase']: r['text'] for r in hostile['reasons']}
    assert texts['replace'] == 'kaspersky_stopped: stop kesl: <b>rc=1</b> "quoted" & more'
    assert 'Kaspersky still installed' in texts['verify']
    assert by_host['lab06']['state'] == 'fallback'
    assert 'lab01' not in by_host


def test_page_escapes_host_derived_text(lab):
    artifacts = lab[0]
    page = dashboard.render_dashboard(artifacts)
    assert '<script>window.__pwned' not in page
    assert '<b>rc=1</b>' not in page
    assert html.escape('<script>window.__pwned=1</script>', quote=True) in page
    assert '&lt;b&gt;rc=1&lt;/b&gt; &#34;quoted&#34; &amp; more' in page
    # exactly one script element, ours, and the Content-Security-Policy allows only it (by hash)
    scripts = re.findall(r'<script>(.*?)</script>', page, re.S)
    assert len(scripts) == 1 and len(re.findall(r'<script', page)) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode('utf-8')).digest()).decode()
    assert "script-src 'sha256-%s'" % digest in page


def test_page_loads_nothing_from_outside(lab):
    page = dashboard.render_dashboard(lab[0])
    for pattern in (r'\bsrc=', r'\bhref=', r'url\(', r'@import', r'https?://', r'<link', r'<iframe', r'<img'):
        assert not re.search(pattern, page), pattern
    assert "default-src 'none'" in page


def test_merges_waves_slices_and_keeps_the_newest_record(tmp_path):
    artifacts = str(tmp_path)
    hosts = fleet.synthetic_fleet(artifacts, 200, slices=3)
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    tables = {t['phase']: t for t in model['phase_tables']}
    # replace ran per wave and the last wave as three slices: every host is counted once
    assert tables['replace']['hosts'] == len(hosts) == 200
    # the pilot's summary.json was overwritten by wave_1's; the three slices each have their own
    assert len(dashboard.load_reports(artifacts)['phases']['replace']['summaries']) == 4
    assert os.path.isdir(os.path.join(artifacts, 'replace', 'slices', '3'))
    # the last summary covers one slice only, the dashboard all of them
    assert summary(artifacts, 'replace')['summary']['hosts'] < 200
    progress = model['progress']
    assert progress and len(progress['points']) >= 5
    assert progress['points'][-1]['replaced'] == sum(tables['replace']['total'].get(s, 0)
                                                     for s in ('replaced', 'compliant'))


def test_newest_record_wins_and_dry_runs_are_apart(tmp_path):
    artifacts = str(tmp_path)
    fleet.write_phase(artifacts, 'replace', {'a': fleet.replace_result('failed', error='boom')},
                      '2026-03-01T10:00:00+00:00')
    fleet.write_phase(artifacts, 'replace', {'a': fleet.replace_result('replaced', removed=['kesl'], window=1.5)},
                      '2026-03-02T10:00:00+00:00', subdir='rerun')
    fleet.write_phase(artifacts, 'replace', {'a': fleet.replace_result('planned'), 'b': fleet.replace_result('planned')},
                      '2026-03-03T10:00:00+00:00', check_mode=True, subdir='check')
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    table = model['phase_tables'][0]
    assert table['total'] == {'replaced': 1}
    assert table['dry_run'] == {'planned': 2}
    rows = {r['host']: r for r in model['rows']}
    assert rows['a']['state'] == 'replaced' and rows['a']['window'] == 1.5
    assert rows['b']['dry_run_only'] and rows['b']['state'] == 'planned'
    assert model['attention'] == []


def test_drift_found_by_a_later_discover_overrides(tmp_path):
    artifacts = str(tmp_path)
    fleet.write_phase(artifacts, 'verify', {'a': fleet.verify_result(True, fleet.datetime.datetime(
        2026, 3, 1, tzinfo=fleet.datetime.timezone.utc))}, '2026-03-01T00:00:00+00:00')
    fleet.write_phase(artifacts, 'discover', {'a': fleet.discover_result('kesl11')}, '2026-03-09T00:00:00+00:00')
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    assert model['rows'][0]['state'] == 'on_kaspersky'


def test_malformed_reports_are_listed_and_the_rest_is_shown(tmp_path):
    artifacts = str(tmp_path)
    fleet.write_phase(artifacts, 'verify', {'good': fleet.verify_result(True, fleet.datetime.datetime(
        2026, 3, 1, tzinfo=fleet.datetime.timezone.utc))}, '2026-03-01T00:00:00+00:00')
    (tmp_path / 'discover').mkdir()
    (tmp_path / 'discover' / 'summary.json').write_text('{"summary": {"hosts": 1}, "hosts": [')
    (tmp_path / 'contain').mkdir()
    (tmp_path / 'contain' / 'summary.json').write_text(json.dumps({'summary': {}, 'hosts': {'x': 1}}))
    (tmp_path / 'preflight' / 'hosts').mkdir(parents=True)
    (tmp_path / 'preflight' / 'hosts' / 'listy.json').write_text('["a", "b"]')
    nameless = {'host': 7, 'verdict': 'ready', 'status': 'ok'}
    (tmp_path / 'preflight' / 'hosts' / 'nameless.json').write_text(json.dumps(nameless))
    (tmp_path / 'preflight' / 'hosts' / 'bin.json').write_bytes(b'\xff\xfe\x00garbage')
    (tmp_path / 'replace' / 'hosts').mkdir(parents=True)
    (tmp_path / 'replace' / 'hosts' / 'w.json').write_text(json.dumps({
        'host': 'w', 'status': 'ok', 'outcome': 'replaced', 'unprotected_window_s': 'soon', 'timestamp': 5,
        'error': ['a', {'b': 1}], 'groups': 'wave_1'}))
    (tmp_path / 'replace' / 'hosts' / 'neg.json').write_text(json.dumps({
        'host': 'neg', 'status': 'ok', 'outcome': 'replaced', 'unprotected_window_s': -3}))
    reports = dashboard.load_reports(artifacts)
    model = dashboard.build_model(reports)
    problems = '\n'.join(model['problems'])
    assert 'discover/summary.json: not valid JSON' in problems
    assert 'hosts is dict, expected a list' in problems
    assert 'listy.json: a preflight record is list' in problems
    assert 'bin.json: cannot be read' in problems or 'bin.json: not valid JSON' in problems
    assert 'negative unprotected window -3' in problems
    rows = {r['host']: r for r in model['rows']}
    # the nameless record takes its file's name; a non-numeric window is no window
    assert rows['nameless']['cells']['preflight']['state'] == 'ready'
    assert rows['w']['window'] is None and rows['neg']['window'] is None
    assert rows['good']['state'] == 'compliant'
    page = dashboard.render_html(model)
    assert 'Report problems' in page and 'good' in page


def test_empty_artifacts_directory(tmp_path):
    page = dashboard.render_dashboard(str(tmp_path / 'nothing-here'))
    assert 'No phase report found yet' in page


def test_write_dashboard_is_atomic_and_private(lab, tmp_path):
    path = dashboard.write_dashboard(lab[0], dest=str(tmp_path / 'out' / 'd.html'))
    assert path == str(tmp_path / 'out' / 'd.html')
    assert oct(os.stat(path).st_mode & 0o777) == '0o640'
    assert [p.name for p in (tmp_path / 'out').iterdir()] == ['d.html']
    with open(path, encoding='utf-8') as handle:
        assert handle.read().startswith('<!DOCTYPE html>')


def test_a_dry_run_written_over_a_real_report_keeps_the_real_records(tmp_path):
    artifacts = str(tmp_path)
    fleet.write_phase(artifacts, 'replace', {'a': fleet.replace_result('replaced', removed=['kesl'], window=1.0),
                                             'b': fleet.replace_result('failed', error='boom')},
                      '2026-03-01T10:00:00+00:00')
    fleet.write_phase(artifacts, 'replace', {'b': fleet.replace_result('planned')}, '2026-03-02T10:00:00+00:00',
                      check_mode=True)
    # b's real record was overwritten on disk by the dry run (same file); a's is still real and counted
    table = dashboard.build_model(dashboard.load_reports(artifacts))['phase_tables'][0]
    assert table['total'] == {'replaced': 1} and table['dry_run'] == {'planned': 1}


def test_a_lapsed_containment_seen_by_discover_needs_attention(tmp_path):
    artifacts = str(tmp_path)
    result = dict(fleet.discover_result('kesl11'), containment='lapsed')
    fleet.write_phase(artifacts, 'discover', {'a': result}, '2026-03-01T00:00:00+00:00')
    record_path = os.path.join(artifacts, 'discover', 'hosts', 'a.json')
    with open(record_path, encoding='utf-8') as handle:
        record = json.load(handle)
    record['containment'] = 'lapsed'  # the field discover adds for contained hosts (issue 10)
    with open(record_path, 'w', encoding='utf-8') as handle:
        json.dump(record, handle)
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    assert [r['text'] for r in model['attention'][0]['reasons']] == [
        'containment lapsed: the contain rules are no longer in place']


def test_dry_runs_written_beside_the_real_reports(tmp_path):
    artifacts = str(tmp_path)
    fleet.write_phase(artifacts, 'replace', {'a': fleet.replace_result('failed', error='boom')},
                      '2026-03-01T10:00:00+00:00')
    fleet.write_phase(artifacts, 'replace', {'a': dict(fleet.replace_result('planned'), outcome='would_replace'),
                                             'b': dict(fleet.replace_result('planned'), outcome='would_install')},
                      '2026-03-02T10:00:00+00:00', check_mode=True, beside=True)
    assert os.path.isdir(os.path.join(artifacts, 'replace-dry-run', 'hosts'))
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    table = model['phase_tables'][0]
    assert table['total'] == {'failed': 1} and table['dry_run'] == {'planned': 2}
    assert table['last_run_dry'] and table['last_real_hosts'] == 1
    assert [r['host'] for r in model['attention']] == ['a']


@pytest.mark.parametrize('outcome', ['removal_incomplete', 'degraded', 'interrupted', 'unreachable'])
def test_the_swap_outcomes_of_the_journal_need_attention(tmp_path, outcome):
    artifacts = str(tmp_path)
    fleet.write_phase(artifacts, 'replace', {'a': dict(fleet.replace_result('failed', error='cleanup: rc 1'),
                                                       outcome=outcome, verdict=outcome)},
                      '2026-03-01T10:00:00+00:00')
    model = dashboard.build_model(dashboard.load_reports(artifacts))
    assert model['rows'][0]['state'] == outcome and model['attention'][0]['host'] == 'a'


def test_runs_merge_the_command_line_and_the_ledger(tmp_path):
    runs = tmp_path / 'runs' / 'R1'
    runs.mkdir(parents=True)
    (runs / 'phaseout-run.json').write_text(json.dumps({
        'run_id': 'R1', 'command': 'replace', 'started': '2026-03-01T10:00:00+00:00', 'status': 'running', 'rc': None}))
    ledger = tmp_path / 'ledger'
    ledger.mkdir()
    lines = [{'event': 'run_start', 'at': '2026-03-01T10:00:01+00:00', 'playbook': 'replace.yml'},
             {'event': 'play_start', 'phase': 'replace', 'at': '2026-03-01T10:00:02+00:00'},
             {'event': 'task_start', 'host': 'web1', 'task': 'Swap', 'step': 'kaspersky_stopped',
              'at': '2026-03-01T10:00:03+00:00'}]
    (ledger / 'R1.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in lines))
    # a run of plain ansible-playbook (AWX), only in the ledger, that ended
    other = [{'event': 'run_start', 'at': '2026-03-02T10:00:00+00:00', 'playbook': '/p/verify.yml'},
             {'event': 'play_start', 'phase': 'verify'},
             {'event': 'ok', 'host': 'web1', 'task': 'Attest', 'at': '2026-03-02T10:00:01+00:00'},
             {'event': 'run_end', 'at': '2026-03-02T10:00:05+00:00'}]
    (ledger / 'R2.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in other))
    found = dashboard.load_runs(str(tmp_path))
    assert [r['run_id'] for r in found] == ['R2', 'R1']
    assert found[1]['status'] == 'interrupted' and found[1]['lost'] == ['web1'] and found[1]['command'] == 'replace'
    assert found[0]['status'] == 'finished' and found[0]['command'] == 'verify' and found[0]['hosts'] == 1
    page = dashboard.render_dashboard(str(tmp_path))
    assert '<tr data-status="interrupted"><td class="host">R1</td>' in page
