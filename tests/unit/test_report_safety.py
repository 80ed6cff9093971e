# SPDX-License-Identifier: GPL-3.0-or-later
"""report_safety: host names as file names, CSV cells, malformed records, dry-run report directories."""
from __future__ import annotations

import csv
import io
import os

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import report_safety as S


# --- file names ---------------------------------------------------------------------------------

@pytest.mark.parametrize('host', ['web01', 'web01.corp.example', 'db-2_a', '10.0.0.5'])
def test_ordinary_names_are_kept(host):
    assert S.safe_filename(host) == host + '.json'


@pytest.mark.parametrize('host', [
    '../../etc/cron.d/x', '..', '.', '.hidden', 'a/b', '/etc/passwd', 'a\\b', 'a\x00b', 'a\nb', 'web 01',
    'Ümlaut-host', 'CON', 'nul.corp', 'x' * 300, 'fe80::1%eth0',
])
def test_dangerous_names_stay_inside_and_are_distinct(host, tmp_path):
    name = S.safe_filename(host)
    assert '/' not in name and '\\' not in name and '\x00' not in name and not name.startswith('.')
    assert name not in ('.json', '..json') and len(name) <= S.MAX_NAME + len('.json')
    assert name.split('.')[0].upper() not in S._DEVICE_NAMES
    path = S.safe_path(str(tmp_path), host)
    assert os.path.dirname(path) == os.path.realpath(str(tmp_path))


def test_names_that_had_to_change_never_collide():
    names = {S.safe_filename(h) for h in ('a/b', 'a_b', 'a\\b', 'a b', 'a?b')}
    assert len(names) == 5 and 'a_b.json' in names


@pytest.mark.parametrize('host', ['', '   ', None, ['web01'], 42])
def test_unusable_names_are_refused(host):
    with pytest.raises(S.UnsafeName):
        S.safe_filename(host)


def test_a_symlink_planted_in_the_directory_is_refused(tmp_path):
    outside = tmp_path / 'outside'
    outside.write_text('precious')
    reports = tmp_path / 'hosts'
    reports.mkdir()
    os.symlink(outside, reports / 'web01.json')
    with pytest.raises(S.UnsafeName, match='symbolic link'):
        S.safe_path(str(reports), 'web01')
    assert outside.read_text() == 'precious'


# --- CSV ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, cell', [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ('+1+1', "'+1+1"), ('-2+3', "'-2+3"), ('@SUM(A1)', "'@SUM(A1)"), ('\t=1', "'\t=1"), ('\r=1', "'\r=1"),
    ('  =1+1', "'  =1+1"), ('web01', 'web01'), ('a=b', 'a=b'), ('', ''), (None, ''), (True, 'yes'), (False, 'no'),
    (3, 3), (-1.5, -1.5), (['kesl', '=evil'], "kesl '=evil"), (['-x'], "'-x"), ({'k': '=v'}, '{"k": "=v"}'),
])
def test_csv_cells_are_neutralized(value, cell):
    assert S.csv_cell(value) == cell


def test_a_written_csv_row_cannot_start_a_formula():
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=['host', 'error'], lineterminator='\n')
    writer.writerow(S.csv_row({'host': '=cmd|"/c calc"!A1', 'error': '@x, "quoted"'}, ['host', 'error']))
    row = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ['\'=cmd|"/c calc"!A1', '\'@x, "quoted"']
    assert all(cell[0] not in S.FORMULA_TRIGGERS for cell in row)


# --- malformed records --------------------------------------------------------------------------

def good():
    return {'host': 'web01', 'phase': 'replace', 'status': 'ok', 'outcome': 'replaced', 'installed': ['kesl'],
            'removed': ['kesl'], 'provider_healthy': True, 'unprotected_window_s': 1.2, 'timestamp': 't'}


def test_a_good_record_passes_unchanged():
    assert S.coerce_record(good()) == good()


def test_a_list_where_text_is_expected_makes_the_record_malformed_not_an_exception():
    record = dict(good(), error=['stderr line 1', 'line 2'], verdict={'x': 1}, reboot_required='yes')
    out = S.coerce_record(record)
    assert out['status'] == 'malformed' and out['malformed_fields'] == ['error', 'reboot_required', 'verdict']
    assert out['verdict'] == '{"x": 1}' and out['reboot_required'] is None
    assert 'error, reboot_required, verdict not of the expected type' in out['error']
    assert out['outcome'] == 'replaced', 'what the record said is kept for the reader'


@pytest.mark.parametrize('raw', [['a', 'list'], 'text', 42, None])
def test_a_non_record_becomes_a_malformed_record_of_its_host(raw):
    out = S.coerce_record(raw, 'web01', 'replace', 't')
    assert out == {'host': 'web01', 'phase': 'replace', 'timestamp': 't', 'status': 'malformed',
                   'verdict': 'malformed', 'outcome': 'malformed',
                   'error': 'malformed result: the host result is a %s, not a record' % type(raw).__name__}


def test_safe_build_keeps_the_other_hosts_when_one_builder_call_raises():
    def builder(host, phase, raw, timestamp):
        return {'host': host, 'phase': phase, 'status': 'ok', 'installed': list(raw['installed'])}
    records = [S.safe_build(builder, host, 'discover', raw, 't')
               for host, raw in (('ok1', {'installed': ['kesl']}), ('bad', {'installed': 5}), ('ok2', {'installed': []}))]
    assert [r['status'] for r in records] == ['ok', 'malformed', 'ok']
    assert records[1]['host'] == 'bad' and 'TypeError' in records[1]['error']


def test_wrong_number_and_list_items_are_caught():
    out = S.coerce_record(dict(good(), unprotected_window_s='1.2', installed=['kesl', {'id': 'x'}]))
    assert out['malformed_fields'] == ['installed', 'unprotected_window_s']
    assert out['unprotected_window_s'] is None and isinstance(out['installed'][0], str)


def test_a_record_without_host_takes_the_inventory_name():
    out = S.coerce_record({'status': 'ok'}, 'web01', 'verify', 't')
    assert out['host'] == 'web01' and out['status'] == 'malformed' and out['phase'] == 'verify'


# --- dry runs beside real runs ------------------------------------------------------------------

def test_a_dry_run_report_goes_beside_the_real_one():
    assert S.report_dir('/a', 'replace', False) == '/a/replace'
    assert S.report_dir('/a', 'replace', True) == '/a/replace-dry-run'
    with pytest.raises(S.UnsafeName):
        S.report_dir('/a', '../x', False)
