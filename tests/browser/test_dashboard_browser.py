# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet dashboard in a real browser: Debian's Chromium, headless, driven over the DevTools protocol.

Two report trees written through report.py (tests/browser/fleet.py): the lab after
discover -> contain -> replace -> verify with a hostile host name, and 1,000 hosts
in three waves whose last replace ran as three AWX job slices. For each page:
no console error, exception or CSP violation; the counts match the reports; search
and the state filter filter the table; sorting sorts; the hostile name is text and
its script never runs; the print layout hides the controls and prints. A screenshot
of each goes to docs/images/ (PHASEOUT_SCREENSHOT_DIR moves them).
"""
from __future__ import annotations

import collections
import datetime
import glob
import json
import os
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import cdp  # noqa: E402
import fleet  # noqa: E402
from ansible_collections.phaseout.antivirus.plugins.module_utils import dashboard  # noqa: E402

GENERATED = datetime.datetime(2026, 3, 6, 8, 0, tzinfo=datetime.timezone.utc)
SHOTS = os.environ.get('PHASEOUT_SCREENSHOT_DIR') or os.path.join(ROOT, 'docs', 'images')

pytestmark = pytest.mark.skipif(cdp.find_chromium() is None and not os.environ.get('CI'),
                                reason='no chromium (scripts/setup-system.sh installs it)')


def render(artifacts, name):
    """The page as fleet_report writes it, with a fixed clock and source so screenshots are stable."""
    reports = dashboard.load_reports(artifacts)
    reports['source'] = 'artifacts/'
    path = os.path.join(os.path.dirname(artifacts), name)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(dashboard.render_html(dashboard.build_model(reports, generated=GENERATED)))
    return path


@pytest.fixture(scope='module')
def browser():
    with cdp.Browser() as instance:
        yield instance


@pytest.fixture(scope='module')
def lab(tmp_path_factory, browser):
    base = tmp_path_factory.mktemp('lab')
    artifacts = str(base / 'artifacts')
    hosts = fleet.lab_fleet(artifacts)
    page = browser.new_page(width=1400, height=900)
    page.goto('file://' + render(artifacts, 'dashboard.html'))
    return {'page': page, 'artifacts': artifacts, 'hosts': hosts}


@pytest.fixture(scope='module')
def big(tmp_path_factory, browser):
    base = tmp_path_factory.mktemp('big')
    artifacts = str(base / 'artifacts')
    hosts = fleet.synthetic_fleet(artifacts, 1000, slices=3)
    page = browser.new_page(width=1400, height=900)
    page.goto('file://' + render(artifacts, 'dashboard.html'))
    return {'page': page, 'artifacts': artifacts, 'hosts': hosts}


def counts(page, phase):
    return page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll(
        'th[data-phase="%s"][data-state]')).map(c => [c.dataset.state, Number(c.dataset.count)]))""" % phase)


def visible_rows(page):
    return page.evaluate("document.querySelectorAll('#hosts tbody tr:not([hidden])').length")


def search(page, text):
    page.evaluate("document.getElementById('search').value = ''")
    if text:
        page.type_into('#search', text)
    else:
        page.evaluate("document.getElementById('search').dispatchEvent(new Event('input'))")
    return visible_rows(page)


def png_size(data):
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    return struct.unpack('>II', data[16:24])


def summary(artifacts, phase):
    with open(os.path.join(artifacts, phase, 'summary.json'), encoding='utf-8') as handle:
        return json.load(handle)['summary']


# --- the lab --------------------------------------------------------------------------------------

def test_lab_renders_without_errors(lab):
    page = lab['page']
    assert page.evaluate('document.title') == 'phaseout fleet dashboard'
    assert page.errors == []


def test_lab_counts_match_the_summaries(lab):
    page, artifacts = lab['page'], lab['artifacts']
    assert page.evaluate("Number(document.getElementById('total-hosts').dataset.count)") == len(lab['hosts'])
    # the raw words of each report and the states the page shows them as
    expected = {
        'discover': ('verdict', {'installed': 'on_kaspersky', 'residue': 'residue', 'clean': 'clean'}),
        'contain': ('outcome', {'contained': 'contained', 'skipped': 'skipped'}),
        'replace': ('outcome', {'replaced': 'replaced', 'compliant': 'compliant', 'failed': 'failed',
                                'fallback': 'fallback'}),
        'verify': ('verdict', {'compliant': 'compliant', 'noncompliant': 'noncompliant'}),
    }
    for phase, (key, words) in expected.items():
        shown = counts(page, phase)
        report = summary(artifacts, phase)
        assert shown.pop('all') == report['hosts'], phase
        assert shown == {words[word]: number for word, number in report[key].items()}, phase
    assert page.evaluate("Number(document.getElementById('attested-compliant').dataset.count)") == \
        summary(artifacts, 'verify')['verdict']['compliant']


def test_lab_hostile_host_name_is_text(lab):
    page = lab['page']
    assert page.evaluate('window.__pwned') is None
    assert page.evaluate('document.scripts.length') == 1
    names = page.evaluate("Array.from(document.querySelectorAll('#hosts td.host')).map(c => c.textContent)")
    assert fleet.HOSTILE in names
    reasons = page.evaluate("document.getElementById('attention-table').textContent")
    assert 'stop kesl: <b>rc=1</b> "quoted" & more' in reasons
    assert page.evaluate("document.querySelectorAll('#attention-table b').length") == \
        page.evaluate("document.querySelectorAll('#attention-table td.reason > div').length")  # only our <b>


def test_lab_search_filters_the_table(lab):
    page = lab['page']
    assert search(page, 'wave_pilot') == 2
    assert page.evaluate("document.getElementById('shown').textContent") == '2'
    assert search(page, '<script>') == 1
    assert search(page, 'no such host anywhere') == 0
    assert search(page, '') == len(lab['hosts'])


def test_lab_screenshot(lab):
    os.makedirs(SHOTS, exist_ok=True)
    width, height = png_size(lab['page'].screenshot(os.path.join(SHOTS, 'dashboard-lab.png')))
    assert width == 1400 and height > 900


def test_lab_prints(lab):
    page = lab['page']
    assert search(page, 'lab01') == 1
    page.call('Emulation.setEmulatedMedia', {'media': 'print'})
    try:
        assert page.evaluate("getComputedStyle(document.querySelector('.tools')).display") == 'none'
        # rows hidden by a search still print: an auditor gets the whole table
        assert page.evaluate("getComputedStyle(document.querySelector('#hosts tbody tr[hidden]')).display") \
            == 'table-row'
    finally:
        search(page, '')
        page.call('Emulation.setEmulatedMedia', {'media': ''})
    pdf = page.pdf()
    assert pdf.startswith(b'%PDF') and pdf.count(b'/Type /Page') >= 2
    assert page.errors == []


# --- 1,000 hosts -----------------------------------------------------------------------------------

def tally(artifacts, phase, key):
    """Newest record per host straight from the files, counted by one raw field."""
    newest = {}
    for path in glob.glob(os.path.join(artifacts, phase, '**', 'hosts', '*.json'), recursive=True):
        with open(path, encoding='utf-8') as handle:
            record = json.load(handle)
        if record['host'] not in newest or record['timestamp'] >= newest[record['host']]['timestamp']:
            newest[record['host']] = record
    return collections.Counter(r.get(key) for r in newest.values()), newest


def test_big_renders_without_errors(big):
    assert big['page'].errors == []
    assert big['page'].evaluate("document.querySelectorAll('#hosts tbody tr').length") == 1000


def test_big_counts_match_the_reports(big):
    page, artifacts = big['page'], big['artifacts']
    shown = counts(page, 'discover')
    report = summary(artifacts, 'discover')  # discover ran once over the whole fleet
    assert shown['all'] == report['hosts'] == 1000
    assert shown['on_kaspersky'] == report['verdict']['installed']
    assert shown['unreachable'] == report['status']['unreachable']
    # replace ran per wave, the last wave in three slices: the page merges every record
    outcomes, newest = tally(artifacts, 'replace', 'outcome')
    shown = counts(page, 'replace')
    assert shown.pop('all') == len(newest) == 1000
    unreachable = outcomes.pop(None, 0) + outcomes.pop('unknown', 0)
    assert shown.pop('unreachable', 0) == unreachable
    assert shown == dict(outcomes)
    slices = [json.load(open(p, encoding='utf-8'))['summary']['hosts']
              for p in glob.glob(os.path.join(artifacts, 'replace', 'slices', '*', 'summary.json'))]
    vital = page.evaluate("""Array.from(document.querySelectorAll('#phase-replace tbody tr')).filter(
        r => r.cells[0].textContent === 'wave_vital').map(r => Number(r.cells[r.cells.length - 1].textContent))[0]""")
    assert len(slices) == 3 and sum(slices) == vital == 600
    verdicts = tally(artifacts, 'verify', 'verdict')[0]
    assert page.evaluate("Number(document.getElementById('attested-noncompliant').dataset.count)") == \
        verdicts['noncompliant']


def test_big_search_state_filter_and_sort(big):
    page = big['page']
    assert search(page, 'srv-db') == sum(1 for h in big['hosts'] if h.startswith('srv-db'))
    vital_db = sum(1 for i, h in enumerate(big['hosts']) if h.startswith('srv-db') and i >= 400)
    assert search(page, 'wave_vital srv-db') == vital_db
    search(page, '')
    page.evaluate("""(() => { const s = document.getElementById('state-filter'); s.value = 'unprotected';
                              s.dispatchEvent(new Event('change')); })()""")
    unprotected = page.evaluate("Number(document.querySelector('.card[data-state=\"unprotected\"]').dataset.count)")
    assert unprotected >= 1 and visible_rows(page) == unprotected
    page.evaluate("""(() => { const s = document.getElementById('state-filter'); s.value = '';
                              s.dispatchEvent(new Event('change')); })()""")
    # sort by the unprotected window, twice: descending
    for _click in range(2):
        page.evaluate("""Array.from(document.querySelectorAll('#hosts th button')).find(
            b => b.textContent === 'window (s)').click()""")
    windows = page.evaluate("""Array.from(document.querySelectorAll('#hosts tbody tr')).slice(0, 50).map(
        r => r.cells[r.cells.length - 3].textContent).filter(t => t !== '').map(Number)""")
    assert len(windows) == 50 and windows == sorted(windows, reverse=True)
    assert page.errors == []


def test_big_screenshot(big):
    os.makedirs(SHOTS, exist_ok=True)
    page = big['page']
    page.evaluate('window.scrollTo(0, 0)')
    width, height = png_size(page.screenshot(os.path.join(SHOTS, 'dashboard-1000.png'), max_height=2000))
    assert width == 1400 and height == 2000


def test_cli_prints_the_same_page(big, tmp_path):
    """phaseout report --format html, opened in the browser: the same counts and no error."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, 'bin', 'phaseout'), '--artifacts', big['artifacts'],
                          'report', '--format', 'html'], capture_output=True, text=True, check=True).stdout
    path = tmp_path / 'printed.html'
    path.write_text(out, encoding='utf-8')
    page = big['page'].browser.new_page()
    page.goto('file://%s' % path)
    assert page.errors == []
    assert counts(page, 'replace') == counts(big['page'], 'replace')
