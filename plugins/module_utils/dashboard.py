# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The fleet dashboard: one self-contained HTML page built from the phase reports.

Controller-side only (the fleet_report action plugin and the phaseout command
line call it; nothing here runs on a managed host). Pure Python plus Jinja2:

    load_reports(artifacts_dir) -> reports      read <artifacts>/<phase>/**/summary.json
                                               and <artifacts>/<phase>/**/hosts/*.json
    build_model(reports)        -> model       per wave and phase counts, attention list,
                                               window histogram, attestations, progress
    render_html(model)          -> str         the page (autoescaped; no external resource)
    write_dashboard(artifacts_dir)             <artifacts>/dashboard.html, atomically

Records of the same host found in several places (a summary.json and the
hosts/ directory, the records of AWX job slices, earlier waves) are merged:
the newest record of each host and phase wins, so the page shows the fleet as
the reports left it, whatever ran them. Dry-run records (from a summary with
check_mode true, or a record with check_mode true) are counted apart and never
change a host's state. Nothing in a report can stop the page from being
written: a file that cannot be read or a record of the wrong shape is listed
under "report problems" and the rest is shown.
"""

from __future__ import annotations

import base64
import datetime
import glob
import hashlib
import json
import math
import os
import re
import tempfile

PHASES = ('discover', 'contain', 'preflight', 'replace', 'verify')
DASHBOARD_FILE = 'dashboard.html'
DRY_RUN_SUFFIX = '-dry-run'  # dry-run reports are written beside the real ones: <artifacts>/<phase>-dry-run/
RUNS_DIR = 'runs'
RUN_META = 'phaseout-run.json'

# Host states: key, label, colour, needs attention. The order is the order of
# the columns and of the bar segments.
STATES = (
    ('on_kaspersky', 'still on Kaspersky', '#b45309', False),
    ('residue', 'Kaspersky residue', '#f59e0b', False),
    ('clean', 'no Kaspersky', '#94a3b8', False),
    ('contained', 'contained', '#2563eb', False),
    ('released', 'containment released', '#93c5fd', False),
    ('lapsed', 'containment lapsed', '#db2777', True),
    ('ready', 'ready', '#0891b2', False),
    ('planned', 'planned (dry run)', '#a78bfa', False),
    ('replaced', 'replaced', '#16a34a', False),
    ('compliant', 'compliant', '#166534', False),
    ('removal_incomplete', 'removal incomplete', '#0d9488', True),
    ('degraded', 'replacement degraded', '#c2410c', True),
    ('fallback', 'fallback provider', '#ca8a04', True),
    ('blocked', 'blocked', '#ea580c', True),
    ('noncompliant', 'not compliant', '#be123c', True),
    ('failed', 'failed', '#dc2626', True),
    ('interrupted', 'interrupted', '#9333ea', True),
    ('unreachable', 'unreachable', '#7c2d12', True),
    ('unprotected', 'UNPROTECTED', '#111827', True),
    ('skipped', 'skipped', '#d1d5db', False),
    ('malformed', 'malformed record', '#6b7280', True),
)
STATE_LABEL = {state[0]: state[1] for state in STATES}
STATE_COLOUR = {state[0]: state[2] for state in STATES}
ATTENTION_STATES = frozenset(state[0] for state in STATES if state[3])
STATE_ORDER = {state[0]: index for index, state in enumerate(STATES)}

# Raw outcome/verdict words of the phase records, mapped onto the states above.
_WORDS = {
    'installed': 'on_kaspersky', 'residue': 'residue', 'clean': 'clean',
    'contained': 'contained', 'released': 'released', 'lapsed': 'lapsed', 'intact': 'contained',
    'ready': 'ready', 'blocked': 'blocked', 'planned': 'planned',
    'replaced': 'replaced', 'compliant': 'compliant', 'fallback': 'fallback',
    'noncompliant': 'noncompliant', 'non-compliant': 'noncompliant', 'not compliant': 'noncompliant',
    'failed': 'failed', 'incomplete': 'failed', 'error': 'failed',
    'interrupted': 'interrupted', 'unreachable': 'unreachable', 'missing': 'unreachable',
    'unprotected': 'unprotected', 'skipped': 'skipped', 'excluded': 'skipped', 'do_not_touch': 'skipped',
    'removal_incomplete': 'removal_incomplete', 'degraded': 'degraded',
}
# The fleet state of a host comes from its most advanced phase.
PHASE_RANK = {phase: index for index, phase in enumerate(PHASES)}
DONE_STATES = frozenset(('replaced', 'compliant'))
WINDOW_BINS = (0.5, 1, 2, 5, 10, 30, 60, 300)
MAX_TEXT = 500


# --- helpers ------------------------------------------------------------------------------------

def _text(value, limit=MAX_TEXT):
    """Any value as one line of text (escaping is the template's job)."""
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        value = '; '.join(_text(v, limit) for v in value if v not in (None, ''))
    elif isinstance(value, dict):
        value = json.dumps(value, sort_keys=True, default=str)
    text = ' '.join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1] + '\u2026'


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_time(value):
    """An ISO 8601 timestamp as an aware datetime (UTC when no zone is given), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace('Z', '+00:00'))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def _sort_time(record):
    moment = parse_time(record.get('finished_at')) or parse_time(record.get('timestamp'))
    return moment.timestamp() if moment else float('-inf')


def _wave_key(name):
    """wave_pilot first, then wave_1, wave_2 ... in number order, then other names, then no wave."""
    if name is None:
        return (3, 0, '')
    if name in ('wave_pilot', 'pilot'):
        return (0, 0, name)
    match = re.search(r'(\d+)$', name)
    if match:
        return (1, int(match.group(1)), name)
    return (2, 0, name)


def _natural(text):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', text)]


def record_wave(record, waves=None):
    """The rollout wave of a host: the record's wave, its wave_* group, or the given mapping."""
    wave = record.get('wave')
    if isinstance(wave, str) and wave:
        return wave
    for key in ('groups', 'group_names'):
        groups = record.get(key)
        if isinstance(groups, (list, tuple)):
            found = sorted((g for g in groups if isinstance(g, str) and g.startswith('wave')), key=_wave_key)
            if found:
                return found[0]
    if waves and isinstance(record.get('host'), str):
        wave = waves.get(record['host'])
        if isinstance(wave, str) and wave:
            return wave
    return None


def waves_from_groups(groups):
    """{host: wave} from an inventory's {group: [hosts]} (Ansible's `groups`): the wave_* groups.

    A host in several wave groups gets the first in rollout order (pilot, then by number)."""
    waves = {}
    if not isinstance(groups, dict):
        return waves
    for group in sorted((g for g in groups if isinstance(g, str) and g.startswith('wave')), key=_wave_key):
        members = groups.get(group)
        if isinstance(members, (list, tuple)):
            for host in members:
                if isinstance(host, str):
                    waves.setdefault(host, group)
    return waves


def host_state(phase, record):
    """The state key of one phase record (see STATES); unknown words are kept as they are."""
    if not isinstance(record, dict):
        return 'malformed'
    status = record.get('status')
    words = [record.get(key) for key in ('outcome', 'verdict', 'state_word')]
    words = [w.strip().lower() for w in words if isinstance(w, str) and w.strip()]
    if status == 'skipped' or 'skipped' in words:
        return 'skipped'
    if record.get('interrupted') or any(w.startswith('interrupted') for w in words):
        return 'interrupted'
    if status in ('unreachable', 'missing') or any(w.startswith('unreachable') for w in words):
        return 'unreachable'
    if any(w.startswith('would') for w in words):  # would_replace, would_install (dry runs)
        return 'planned'
    if phase == 'contain' and record.get('containment') == 'lapsed':
        return 'lapsed'
    for word in words:
        if word in _WORDS and not (word == 'unknown'):
            return _WORDS[word]
    if words and words[0] != 'unknown':
        # an outcome this page does not know yet: shown as it is (and as needing attention
        # when the record's status is not ok, see needs_attention)
        return re.sub(r'[^a-z0-9_-]+', '_', words[0])[:40]
    if status == 'failed':
        return 'failed'
    if status == 'ok':
        return {'discover': 'clean', 'contain': 'contained', 'preflight': 'ready',
                'replace': 'replaced', 'verify': 'compliant'}.get(phase, 'ok')
    return 'malformed'


def needs_attention(state, record):
    """A known attention state, or an unknown state of a record whose status is not ok."""
    if state in ATTENTION_STATES:
        return True
    return state not in STATE_LABEL and isinstance(record, dict) and record.get('status') not in ('ok', 'skipped')


def attention_reason(record):
    """Why a record needs attention, in one line."""
    if not isinstance(record, dict):
        return 'the record is not an object: %s' % type(record).__name__
    for key in ('error', 'reasons', 'blockers', 'msg'):
        text = _text(record.get(key))
        if text:
            step = _text(record.get('failed_step'))
            return '%s: %s' % (step, text) if step and step not in text else text
    step = _text(record.get('failed_step'))
    if step:
        return 'failed at step %s' % step
    return _text(record.get('outcome') or record.get('verdict') or record.get('status')) or 'no reason recorded'


# --- reading the reports ------------------------------------------------------------------------

def _load_json(path, problems):
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append('%s: cannot be read: %s' % (path, exc))
    except ValueError as exc:
        problems.append('%s: not valid JSON: %s' % (path, exc))
    return None


def _take(store, host, record):
    """Keep the newest record of each host (later files win a tie: hosts/ after the summary)."""
    current = store.get(host)
    if current is None or _sort_time(record) >= _sort_time(current):
        store[host] = record


def load_reports(artifacts_dir):
    """Every phase's records found under artifacts_dir, merged per host.

    Returns {'phases': {phase: {'records': {host: record}, 'dry_run': {host: record},
    'summaries': [summary...]}}, 'runs': [run...], 'problems': [text...], 'source': dir}.
    """
    problems = []
    phases = {}
    for phase in PHASES:
        base = os.path.join(artifacts_dir, phase)
        beside = base + DRY_RUN_SUFFIX
        records, dry_run, summaries = {}, {}, []
        if not os.path.isdir(base) and not os.path.isdir(beside):
            continue
        check_dirs = {}  # directory -> timestamps of its dry-run summaries
        summary_paths = sorted(glob.glob(os.path.join(glob.escape(base), '**', 'summary.json'), recursive=True))
        beside_paths = sorted(glob.glob(os.path.join(glob.escape(beside), '**', '*.json'), recursive=True))
        for path in beside_paths:  # everything there is a dry run
            data = _load_json(path, problems)
            if os.path.basename(path) == 'summary.json' and isinstance(data, dict):
                summary = dict(data.get('summary') or {}) if isinstance(data.get('summary'), dict) else {}
                summary.update(_path=os.path.relpath(path, artifacts_dir), check_mode=True)
                summaries.append(summary)
                hosts = data.get('hosts', [])
                for index, record in enumerate(hosts if isinstance(hosts, list) else []):
                    _add_record(phase, record, '%s#%d' % (path, index), True, records, dry_run, problems)
            elif os.path.basename(os.path.dirname(path)) == 'hosts' and data is not None:
                if isinstance(data, dict) and not isinstance(data.get('host'), str):
                    data = dict(data, host=os.path.splitext(os.path.basename(path))[0])
                _add_record(phase, data, path, True, records, dry_run, problems)
        for path in summary_paths:
            data = _load_json(path, problems)
            if data is None:
                continue
            if not isinstance(data, dict) or not isinstance(data.get('summary', {}), dict):
                problems.append('%s: not a phaseout summary (expected an object with summary and hosts)' % path)
                continue
            summary = dict(data.get('summary') or {})
            summary['_path'] = os.path.relpath(path, artifacts_dir)
            summaries.append(summary)
            is_check = bool(summary.get('check_mode'))
            if is_check:
                check_dirs.setdefault(os.path.dirname(path), set()).add(summary.get('timestamp'))
            hosts = data.get('hosts', [])
            if not isinstance(hosts, list):
                problems.append('%s: hosts is %s, expected a list' % (path, type(hosts).__name__))
                continue
            for index, record in enumerate(hosts):
                _add_record(phase, record, '%s#%d' % (path, index), is_check, records, dry_run, problems)
        host_paths = sorted(glob.glob(os.path.join(glob.escape(base), '**', 'hosts', '*.json'), recursive=True))
        for path in host_paths:
            record = _load_json(path, problems)
            if record is None:
                continue
            # a dry run written over a real report: its records are the ones with its timestamp
            is_check = isinstance(record, dict) and record.get('timestamp') in check_dirs.get(
                os.path.dirname(os.path.dirname(path)), ())
            if isinstance(record, dict) and not isinstance(record.get('host'), str):
                record = dict(record, host=os.path.splitext(os.path.basename(path))[0])
            _add_record(phase, record, path, is_check, records, dry_run, problems)
        summaries.sort(key=lambda s: (parse_time(s.get('timestamp')) or datetime.datetime.min.replace(
            tzinfo=datetime.timezone.utc)))
        phases[phase] = {'records': records, 'dry_run': dry_run, 'summaries': summaries}
    return {'phases': phases, 'runs': load_runs(artifacts_dir, problems), 'problems': problems,
            'source': artifacts_dir}


def _add_record(phase, record, where, is_check, records, dry_run, problems):
    if not isinstance(record, dict):
        problems.append('%s: a %s record is %s, expected an object' % (where, phase, type(record).__name__))
        return
    host = record.get('host')
    if not isinstance(host, str) or not host:
        problems.append('%s: a %s record without a host name' % (where, phase))
        return
    if is_check or record.get('check_mode') is True:
        _take(dry_run, host, record)
    else:
        _take(records, host, record)


def load_runs(artifacts_dir, problems=None):
    """Every run, newest first: the command line's (<artifacts>/runs/<run_id>/phaseout-run.json) merged by
    run id with the controller's ledger (<artifacts>/ledger/<run_id>.jsonl, every run, AWX's and plain
    ansible-playbook's too), which tells the interrupted runs and the hosts lost in them."""
    problems = [] if problems is None else problems
    by_id = {}
    for path in glob.glob(os.path.join(glob.escape(artifacts_dir), RUNS_DIR, '*', RUN_META)):
        meta = _load_json(path, problems)
        if isinstance(meta, dict):
            meta.setdefault('run_id', os.path.basename(os.path.dirname(path)))
            by_id[str(meta['run_id'])] = meta
        elif meta is not None:
            problems.append('%s: not an object' % path)
    try:
        from ansible_collections.phaseout.antivirus.plugins.module_utils import ledger
        ledger_runs = ledger.runs(artifacts_dir)
    except Exception as exc:  # noqa: BLE001 - the ledger is optional here; a broken one is reported
        ledger_runs = []
        if not isinstance(exc, ImportError):
            problems.append('%s: the ledger cannot be read: %s' % (os.path.join(artifacts_dir, 'ledger'), exc))
    for entry in ledger_runs:
        if not isinstance(entry, dict) or not entry.get('run_id'):
            continue
        run = by_id.setdefault(str(entry['run_id']), {'run_id': entry['run_id']})
        run.setdefault('command', ', '.join(entry.get('phases') or []) or os.path.basename(
            str(entry.get('playbook') or '')))
        run.setdefault('started', entry.get('started_at'))
        if entry.get('ended_at'):
            run.setdefault('finished', entry.get('ended_at'))
        run['hosts'] = entry.get('hosts')
        lost = list(entry.get('unreachable') or []) + list(entry.get('in_flight') or [])
        run['lost'] = lost
        if entry.get('interrupted') and run.get('status') in (None, 'running', 'interrupted'):
            run['status'] = 'interrupted'
        run.setdefault('status', 'finished')
    runs = list(by_id.values())
    runs.sort(key=lambda r: _text(r.get('started') or r.get('run_id')), reverse=True)
    return runs


# --- the model ----------------------------------------------------------------------------------

def _percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * (len(sorted_values) - 1)))))
    return sorted_values[index]


def _bar(counts, total):
    """Segments of a 100-wide stacked bar: (state, x, width, count)."""
    segments, x = [], 0.0
    for state in sorted(counts, key=lambda s: (STATE_ORDER.get(s, len(STATE_ORDER)), s)):
        width = 100.0 * counts[state] / total if total else 0
        segments.append({'state': state, 'x': round(x, 3), 'width': round(width, 3), 'count': counts[state],
                         'label': STATE_LABEL.get(state, state), 'colour': state_colour(state)})
        x += width
    return segments


def state_colour(state):
    if state in STATE_COLOUR:
        return STATE_COLOUR[state]
    digest = hashlib.sha1(state.encode('utf-8')).hexdigest()
    return '#%s' % digest[:6]


def _fleet_state(phase_states):
    """(state, phase) of a host from its newest record of the most advanced phase.

    A newer discover that finds Kaspersky installed again overrides it (drift)."""
    best = None
    for phase in PHASES:
        if phase in phase_states:
            best = phase
    if best is None:
        return 'malformed', None
    state, record = phase_states[best]
    if best == 'verify' and state != 'compliant' and 'replace' in phase_states:
        # not compliant because the swap did not happen: say why (blocked, failed, unprotected ...)
        replaced, replace_record = phase_states['replace']
        if needs_attention(replaced, replace_record) or replaced == 'skipped':
            state, record, best = replaced, replace_record, 'replace'
    if best != 'discover' and 'discover' in phase_states:
        discovered, discover_record = phase_states['discover']
        if discovered == 'on_kaspersky' and _sort_time(discover_record) > _sort_time(record):
            return 'on_kaspersky', 'discover'
    return state, best


def _histogram(values):
    edges = [0.0] + list(WINDOW_BINS)
    bins = []
    for index, low in enumerate(edges):
        high = edges[index + 1] if index + 1 < len(edges) else None
        count = sum(1 for v in values if v >= low and (high is None or v < high))
        label = ('%g-%g s' % (low, high)) if high is not None else ('%g s +' % low)
        bins.append({'label': label, 'count': count})
    peak = max([b['count'] for b in bins] + [1])
    width = 600.0 / len(bins)
    for index, item in enumerate(bins):
        height = 150.0 * item['count'] / peak
        item.update(x=round(index * width + 4, 2), width=round(width - 8, 2), y=round(170 - height, 2),
                    height=round(height, 2), cx=round(index * width + width / 2, 2))
    return bins


def _progress(phases):
    """Cumulative hosts replaced and attested compliant, one point per report time (>= 2 points)."""
    events = []
    for phase, wanted in (('replace', DONE_STATES), ('verify', frozenset(('compliant',)))):
        for record in phases.get(phase, {}).get('records', {}).values():
            moment = parse_time(record.get('timestamp'))
            if moment is not None:
                events.append((moment, phase, host_state(phase, record) in wanted))
    times = sorted({event[0] for event in events})
    if len(times) < 2:
        return None
    points = []
    for moment in times:
        replaced = sum(1 for m, p, ok in events if p == 'replace' and ok and m <= moment)
        attested = sum(1 for m, p, ok in events if p == 'verify' and ok and m <= moment)
        points.append({'time': moment.strftime('%Y-%m-%d %H:%M'), 'replaced': replaced, 'attested': attested})
    peak = max([max(p['replaced'], p['attested']) for p in points] + [1])
    span = len(points) - 1
    for index, point in enumerate(points):
        point['x'] = round(50 + 530.0 * index / span, 2)
        point['y_replaced'] = round(180 - 160.0 * point['replaced'] / peak, 2)
        point['y_attested'] = round(180 - 160.0 * point['attested'] / peak, 2)
    return {'points': points, 'peak': peak,
            'replaced_line': ' '.join('%s,%s' % (p['x'], p['y_replaced']) for p in points),
            'attested_line': ' '.join('%s,%s' % (p['x'], p['y_attested']) for p in points)}


def build_model(reports, generated=None):
    """Everything the page shows, from load_reports()' result. Pure: no I/O."""
    phases = reports.get('phases', {})
    problems = list(reports.get('problems', []))
    generated = generated or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    hosts = {}
    for phase in PHASES:
        for host, record in phases.get(phase, {}).get('records', {}).items():
            entry = hosts.setdefault(host, {'host': host, 'phases': {}, 'wave': None, '_wave_time': None})
            state = host_state(phase, record)
            entry['phases'][phase] = (state, record)
            wave = record_wave(record, reports.get('waves'))
            if wave and (entry['_wave_time'] is None or _sort_time(record) >= entry['_wave_time']):
                entry['wave'], entry['_wave_time'] = wave, _sort_time(record)

    # dry-run-only hosts still appear in the table (state: planned)
    for phase in PHASES:
        for host, record in phases.get(phase, {}).get('dry_run', {}).items():
            if host not in hosts:
                hosts[host] = {'host': host, 'phases': {}, 'wave': record_wave(record, reports.get('waves')),
                               '_wave_time': None, 'dry_run_only': True}

    waves = sorted({h['wave'] for h in hosts.values()}, key=_wave_key)
    rows = []
    attention = []
    windows = []
    attestations = {'compliant': 0, 'noncompliant': 0, 'other': 0, 'latest': None, 'earliest': None}
    fleet_counts = {}
    wave_counts = {wave: {} for wave in waves}

    for host in sorted(hosts, key=_natural):
        entry = hosts[host]
        if entry['phases']:
            state, phase = _fleet_state(entry['phases'])
        else:
            state, phase = 'planned', None
        fleet_counts[state] = fleet_counts.get(state, 0) + 1
        counts = wave_counts[entry['wave']]
        counts[state] = counts.get(state, 0) + 1

        cells = {}
        for name in PHASES:
            if name in entry['phases']:
                phase_state, record = entry['phases'][name]
                cells[name] = {'state': phase_state, 'label': STATE_LABEL.get(phase_state, phase_state),
                               'time': _text(record.get('timestamp'), 40)}
        window = None
        replace = entry['phases'].get('replace')
        if replace:
            window = _number(replace[1].get('unprotected_window_s'))
            if window is not None and window >= 0:
                windows.append((window, host))
            elif window is not None:
                problems.append('replace record of %s: negative unprotected window %s' % (host, window))
                window = None
        attested = None
        verify = entry['phases'].get('verify')
        if verify:
            verify_state, record = verify
            moment = _text(record.get('finished_at') or record.get('timestamp'), 40)
            attested = {'state': verify_state, 'time': moment}
            key = verify_state if verify_state in ('compliant', 'noncompliant') else 'other'
            attestations[key] += 1
            parsed = parse_time(moment)
            if parsed and (attestations['latest'] is None or parsed > attestations['latest']):
                attestations['latest'] = parsed
            if parsed and (attestations['earliest'] is None or parsed < attestations['earliest']):
                attestations['earliest'] = parsed

        reasons = []
        for name in PHASES:
            if name in entry['phases']:
                phase_state, record = entry['phases'][name]
                if needs_attention(phase_state, record):
                    reasons.append((name, phase_state, attention_reason(record)))
                elif name == 'replace' and record.get('reboot_required') is True:
                    reasons.append((name, phase_state, 'reboot required to finish the removal'))
                elif record.get('containment') == 'lapsed':
                    reasons.append((name, 'lapsed', 'containment lapsed: the contain rules are no longer in place'))
        # a later phase that went well settles an earlier failure (a re-run replaced the host)
        settled = [PHASE_RANK[n] for n in entry['phases'] if not needs_attention(*entry['phases'][n])]
        reasons = [r for r in reasons if not any(rank > PHASE_RANK[r[0]] for rank in settled)
                   or r[1] == 'unprotected']
        if phase and needs_attention(state, entry['phases'][phase][1]) and not any(r[0] == phase for r in reasons):
            reasons.append((phase or '-', state, attention_reason(entry['phases'][phase][1]) if phase else ''))
        reason_text = ' | '.join('%s: %s' % (reason[0], reason[2]) for reason in reasons)
        if reasons:
            attention.append({'host': host, 'wave': entry['wave'], 'state': state,
                              'label': STATE_LABEL.get(state, state), 'phase': phase or '',
                              'reasons': [{'phase': n, 'state': s, 'label': STATE_LABEL.get(s, s), 'text': t}
                                          for n, s, t in reasons]})
        rows.append({'host': host, 'wave': entry['wave'], 'state': state, 'label': STATE_LABEL.get(state, state),
                     'phase': phase or '', 'cells': cells, 'window': window, 'attested': attested,
                     'reason': reason_text, 'dry_run_only': entry.get('dry_run_only', False)})

    attention.sort(key=lambda a: (0 if a['state'] == 'unprotected' else 1,
                                  STATE_ORDER.get(a['state'], 99), _natural(a['host'])))

    phase_tables = []
    for phase in PHASES:
        data = phases.get(phase)
        if not data:
            continue
        per_wave = {}
        states = set()
        for host, record in data['records'].items():
            wave = hosts[host]['wave']
            state = host_state(phase, record)
            states.add(state)
            per_wave.setdefault(wave, {})
            per_wave[wave][state] = per_wave[wave].get(state, 0) + 1
        total = {}
        for counts in per_wave.values():
            for state, count in counts.items():
                total[state] = total.get(state, 0) + count
        dry = {}
        for record in data['dry_run'].values():
            state = host_state(phase, record)
            dry[state] = dry.get(state, 0) + 1
        ordered = sorted(states, key=lambda s: (STATE_ORDER.get(s, len(STATE_ORDER)), s))
        last = data['summaries'][-1] if data['summaries'] else {}
        real = [s for s in data['summaries'] if not s.get('check_mode')]
        phase_tables.append({
            'phase': phase, 'states': [{'key': s, 'label': STATE_LABEL.get(s, s), 'colour': state_colour(s)}
                                       for s in ordered],
            'waves': [{'wave': w, 'counts': per_wave[w], 'total': sum(per_wave[w].values()),
                       'bar': _bar(per_wave[w], sum(per_wave[w].values()))}
                      for w in sorted(per_wave, key=_wave_key)],
            'total': total, 'hosts': sum(total.values()), 'bar': _bar(total, sum(total.values())),
            'dry_run': dry, 'dry_run_hosts': sum(dry.values()),
            'last_run': _text(last.get('timestamp'), 40), 'last_run_hosts': last.get('hosts'),
            'last_run_dry': bool(last.get('check_mode')), 'reports': len(real),
            'last_real_hosts': real[-1].get('hosts') if real else None,
        })

    values = sorted(window for window, _host in windows)
    window_model = None
    if values:
        window_model = {
            'count': len(values), 'min': values[0], 'median': _percentile(values, 0.5),
            'p95': _percentile(values, 0.95), 'max': values[-1], 'bins': _histogram(values),
            'longest': [{'host': h, 'window': w} for w, h in sorted(windows, key=lambda x: (-x[0], x[1]))[:5]],
        }

    total_hosts = len(rows)
    fleet_states = sorted(fleet_counts, key=lambda s: (STATE_ORDER.get(s, len(STATE_ORDER)), s))
    return {
        'generated': generated.isoformat(),
        'source': reports.get('source', ''),
        'total_hosts': total_hosts,
        'done': sum(fleet_counts.get(s, 0) for s in DONE_STATES),
        'fleet_states': [{'key': s, 'label': STATE_LABEL.get(s, s), 'colour': state_colour(s),
                          'count': fleet_counts[s], 'attention': s in ATTENTION_STATES} for s in fleet_states],
        'fleet_bar': _bar(fleet_counts, total_hosts),
        'wave_rows': [{'wave': w, 'counts': wave_counts[w], 'total': sum(wave_counts[w].values()),
                       'bar': _bar(wave_counts[w], sum(wave_counts[w].values()))} for w in waves],
        'phase_tables': phase_tables,
        'attention': attention,
        'window': window_model,
        'attestations': dict(attestations,
                             latest=attestations['latest'].isoformat() if attestations['latest'] else None,
                             earliest=attestations['earliest'].isoformat() if attestations['earliest'] else None,
                             total=attestations['compliant'] + attestations['noncompliant'] + attestations['other']),
        'progress': _progress(phases),
        'runs': [{'run_id': _text(r.get('run_id'), 80), 'command': _text(r.get('command'), 200),
                  'started': _text(r.get('started'), 40), 'finished': _text(r.get('finished'), 40),
                  'status': _text(r.get('status'), 40), 'rc': _text(r.get('rc'), 10),
                  'hosts': _text(r.get('hosts'), 10), 'lost': _text(r.get('lost'), 300)}
                 for r in reports.get('runs', [])[:50] if isinstance(r, dict)],
        'rows': rows,
        'problems': problems,
        'phases': list(PHASES),
        'state_legend': [{'key': state[0], 'label': state[1], 'colour': state[2]} for state in STATES],
    }


# --- the page -----------------------------------------------------------------------------------

SCRIPT = r"""
(function () {
  'use strict';
  var table = document.getElementById('hosts');
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var search = document.getElementById('search');
  var stateFilter = document.getElementById('state-filter');
  var shown = document.getElementById('shown');
  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
    var state = stateFilter.value;
    var count = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute('data-search');
      var ok = words.every(function (w) { return text.indexOf(w) !== -1; }) &&
               (state === '' || row.getAttribute('data-state') === state);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = String(count);
  }
  search.addEventListener('input', apply);
  stateFilter.addEventListener('change', apply);
  rows.forEach(function (row) {
    var text = [];
    Array.prototype.forEach.call(row.cells, function (cell) { text.push(cell.textContent); });
    row.setAttribute('data-search', text.join(' ').toLowerCase());
  });
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (th, index) {
    var button = th.querySelector('button');
    if (!button) { return; }
    button.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(headers, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var numeric = th.getAttribute('data-type') === 'number';
      var keyed = rows.map(function (row) {
        var cell = row.cells[index];
        var key = cell.getAttribute('data-sort');
        if (key === null) { key = cell.textContent.trim(); }
        if (numeric) { key = key === '' ? -Infinity : parseFloat(key); }
        return [key, row];
      });
      keyed.sort(function (a, b) {
        var result = numeric ? a[0] - b[0] : a[0].localeCompare(b[0], undefined, {numeric: true});
        return ascending ? result : -result;
      });
      keyed.forEach(function (pair) { body.appendChild(pair[1]); });
      rows = keyed.map(function (pair) { return pair[1]; });
    });
  });
  apply();
})();
"""

STYLE = r"""
:root { --fg: #111827; --muted: #4b5563; --line: #d1d5db; --bg: #ffffff; --soft: #f3f4f6; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; padding: 16px 24px; max-width: 1400px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-left: 6px solid var(--c); border-radius: 4px; padding: 6px 12px; min-width: 120px; }
.card .n { font-size: 22px; font-weight: 700; display: block; } .card.attention { background: #fef2f2; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort=ascending] button::after { content: " \25B2"; } th[aria-sort=descending] button::after { content: " \25BC"; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
.state { white-space: nowrap; }
.bar { width: 100%; height: 14px; display: block; min-width: 160px; }
.zero { color: #c0c4cc; }
.host { font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.reason { max-width: 48em; }
.tools { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
.tools input { font: inherit; padding: 4px 8px; min-width: 22em; border: 1px solid var(--line); border-radius: 4px; }
.tools select { font: inherit; padding: 3px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--muted); font-size: 12px; }
.chart { max-width: 640px; width: 100%; height: auto; }
.chart text { font-size: 11px; fill: var(--muted); }
.problems li { color: #991b1b; }
.ok { color: #166534; } .bad { color: #b91c1c; font-weight: 600; }
.dry { color: var(--muted); font-style: italic; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 0 24px; }
.grid > * { min-width: 0; overflow-x: auto; }
.phase table { font-size: 12px; } .phase th { white-space: normal; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .tools, .noprint { display: none !important; }
  tr[hidden] { display: table-row !important; }
  h2 { break-after: avoid; } table { break-inside: auto; } tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .grid { display: block; } .grid > * { overflow: visible; }
  .card.attention { background: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '{{ script_hash }}'">
<meta name="generator" content="phaseout">
<title>phaseout fleet dashboard</title>
<style>{{ style }}</style>
</head>
<body>
{%- macro swatch(state) -%}<span class="swatch" style="background:{{ colour(state) }}"></span>{%- endmacro -%}
{%- macro bar(segments) -%}
<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img"
 aria-label="{% for s in segments %}{{ s.label }} {{ s.count }}{% if not loop.last %}, {% endif %}
{% endfor %}">
{%- for s in segments %}<rect x="{{ s.x }}" y="0" width="{{ s.width }}" height="10"
 fill="{{ s.colour }}"><title>{{ s.label }}: {{ s.count }}</title></rect>{% endfor -%}
</svg>
{%- endmacro -%}
<header>
<h1>phaseout fleet dashboard</h1>
<p class="meta">Generated {{ m.generated }} from <span class="host">{{ m.source }}</span>.
<span id="total-hosts" data-count="{{ m.total_hosts }}">{{ m.total_hosts }}</span> host(s) in the reports;
{{ m.done }} replaced or compliant.</p>
</header>

{% if not m.total_hosts %}
<p id="empty">No phase report found yet: run a phase (discover first), then open this page again.</p>
{% endif %}

<section id="fleet">
<h2>Fleet state</h2>
<p class="meta">Each host counted once, in the state of its most advanced phase (a later discover that finds Kaspersky again overrides it).</p>
<div class="cards">
{%- for s in m.fleet_states %}
<div class="card{% if s.attention %} attention{% endif %}" style="--c:{{ s.colour }}"
 data-state="{{ s.key }}" data-count="{{ s.count }}"><span class="n">{{ s.count }}</span>{{ s.label }}</div>
{%- endfor %}
</div>
{% if m.total_hosts %}{{ bar(m.fleet_bar) }}{% endif %}

{% if m.wave_rows %}
<h3>Per wave</h3>
<table id="waves">
<thead><tr><th>wave</th><th class="n">hosts</th>{% for s in m.fleet_states %}<th class="n">{{ swatch(s.key) }}{{ s.label }}</th>{% endfor %}
<th class="noprint">share</th></tr></thead>
<tbody>
{%- for w in m.wave_rows %}
<tr data-wave="{{ w.wave or '' }}"><td>{{ w.wave or '(no wave)' }}</td><td class="n">{{ w.total }}</td>
{%- for s in m.fleet_states %}{% set n = w.counts.get(s.key, 0) %}<td class="n{% if not n %} zero{% endif %}" data-state="{{ s.key }}">{{ n }}</td>
{% endfor %}
<td class="noprint">{{ bar(w.bar) }}</td></tr>
{%- endfor %}
</tbody>
</table>
{% endif %}
</section>

{% if m.phase_tables %}
<section id="phases">
<h2>Per phase</h2>
<p class="meta">Each phase counts the newest record of every host it has seen (all waves, all AWX job slices). Dry runs are counted apart.</p>
<div class="grid">
{%- for p in m.phase_tables %}
<div class="phase" id="phase-{{ p.phase }}" data-phase="{{ p.phase }}" data-hosts="{{ p.hosts }}">
<h3>{{ p.phase }} <span class="meta">&middot; {{ p.hosts }} host(s)
{%- if p.last_run %} &middot; last report {{ p.last_run }}{% if p.last_run_dry %} (dry run){% endif %}
{% endif %}{% if p.reports > 1 %} &middot; {{ p.reports }} reports merged{% endif %}</span></h3>
{{ bar(p.bar) }}
<table>
<thead><tr><th>wave</th>{% for s in p.states %}<th class="n">{{ swatch(s.key) }}{{ s.label }}</th>{% endfor %}<th class="n">hosts</th></tr></thead>
<tbody>
{%- for w in p.waves %}
<tr><td>{{ w.wave or '(no wave)' }}</td>{% for s in p.states %}{% set n = w.counts.get(s.key, 0) %}
<td class="n{% if not n %} zero{% endif %}">{{ n }}</td>{% endfor %}<td class="n">{{ w.total }}</td></tr>
{%- endfor %}
<tr class="total"><th>all waves</th>{% for s in p.states %}
<th class="n" data-phase="{{ p.phase }}" data-state="{{ s.key }}" data-count="{{ p.total.get(s.key, 0) }}">{{ p.total.get(s.key, 0) }}</th>
{% endfor %}<th class="n" data-phase="{{ p.phase }}" data-state="all" data-count="{{ p.hosts }}">{{ p.hosts }}</th></tr>
</tbody>
</table>
{% if p.dry_run_hosts %}<p class="dry">Last dry run: {% for k, n in p.dry_run|dictsort %}{{ label(k) }} {{ n }}{% if not loop.last %}, {% endif %}
{% endfor %} ({{ p.dry_run_hosts }} host(s)).</p>{% endif %}
</div>
{%- endfor %}
</div>
</section>
{% endif %}

<section id="attention">
<h2>Needs attention <span class="meta">({{ m.attention|length }})</span></h2>
{% if m.attention %}
<table id="attention-table">
<thead><tr><th>host</th><th>wave</th><th>state</th><th>phase: why</th></tr></thead>
<tbody>
{%- for a in m.attention %}
<tr data-state="{{ a.state }}"><td class="host">{{ a.host }}</td><td>{{ a.wave or '' }}</td><td class="state">{{ swatch(a.state) }}{{ a.label }}</td>
<td class="reason">{% for r in a.reasons %}<div><b>{{ r.phase }}</b> ({{ r.label }}): {{ r.text }}</div>{% endfor %}</td></tr>
{%- endfor %}
</tbody>
</table>
{% else %}
<p class="ok">No host needs attention.</p>
{% endif %}
</section>

<div class="grid">
<section id="window">
<h2>Unprotected window</h2>
{% if m.window %}
<p>{{ m.window.count }} host(s) swapped with a measured window: min {{ '%.2f'|format(m.window.min) }} s,
median {{ '%.2f'|format(m.window.median) }} s, 95th percentile {{ '%.2f'|format(m.window.p95) }} s, max <b>{{ '%.2f'|format(m.window.max) }} s</b>.</p>
<svg class="chart" viewBox="0 0 600 200" role="img" aria-label="Histogram of the unprotected window">
<line x1="0" y1="170" x2="600" y2="170" stroke="#9ca3af"/>
{%- for b in m.window.bins %}
<rect x="{{ b.x }}" y="{{ b.y }}" width="{{ b.width }}" height="{{ b.height }}" fill="#2563eb"><title>{{ b.label }}: {{ b.count }} host(s)</title></rect>
<text x="{{ b.cx }}" y="186" text-anchor="middle">{{ b.label }}</text>
{% if b.count %}<text x="{{ b.cx }}" y="{{ b.y - 4 }}" text-anchor="middle">{{ b.count }}</text>{% endif %}
{%- endfor %}
</svg>
<p class="meta">Longest:
{% for l in m.window.longest %}<span class="host">{{ l.host }}</span> {{ '%.2f'|format(l.window) }} s{% if not loop.last %}, {% endif %}
{% endfor %}</p>
{% else %}
<p class="meta">No replace record with a measured window yet.</p>
{% endif %}
</section>

<section id="attestation">
<h2>Attestation</h2>
{% set at = m.attestations %}
{% if at.total %}
<p><span class="ok" id="attested-compliant" data-count="{{ at.compliant }}">{{ at.compliant }} compliant</span>,
<span class="{% if at.noncompliant %}bad{% endif %}" id="attested-noncompliant"
 data-count="{{ at.noncompliant }}">{{ at.noncompliant }} not compliant</span>{% if at.other %}, {{ at.other }} other{% endif %}
of {{ at.total }} attested host(s).</p>
<p class="meta">Attestations from {{ at.earliest }} to {{ at.latest }}; each host's own timestamp is in the host table.
{% if m.total_hosts > at.total %}{{ m.total_hosts - at.total }} host(s) have no attestation yet.{% endif %}</p>
{% else %}
<p class="meta">No verify report yet: no host is attested.</p>
{% endif %}
</section>
</div>

{% if m.progress %}
<section id="progress">
<h2>Rollout progress</h2>
<svg class="chart" viewBox="0 0 600 210" role="img" aria-label="Hosts replaced and attested over time">
<line x1="50" y1="180" x2="580" y2="180" stroke="#9ca3af"/><line x1="50" y1="20" x2="50" y2="180" stroke="#9ca3af"/>
<text x="44" y="24" text-anchor="end">{{ m.progress.peak }}</text><text x="44" y="182" text-anchor="end">0</text>
<polyline points="{{ m.progress.replaced_line }}" fill="none" stroke="#16a34a" stroke-width="2"/>
<polyline points="{{ m.progress.attested_line }}" fill="none" stroke="#166534" stroke-width="2" stroke-dasharray="5 3"/>
{%- for p in m.progress.points %}
<circle cx="{{ p.x }}" cy="{{ p.y_replaced }}" r="3" fill="#16a34a"><title>{{ p.time }}: {{ p.replaced }} replaced, {{ p.attested }} attested</title></circle>
{%- endfor %}
<text x="50" y="200">{{ m.progress.points[0].time }}</text><text x="580" y="200" text-anchor="end">{{ m.progress.points[-1].time }}</text>
</svg>
<p class="legend"><span><span class="swatch" style="background:#16a34a"></span>replaced or compliant (cumulative)</span>
<span><span class="swatch" style="background:#166534"></span>attested compliant (dashed)</span></p>
</section>
{% endif %}

{% if m.runs %}
<section id="runs">
<h2>Runs</h2>
<table>
<thead><tr><th>run id</th><th>command</th><th>started</th><th>finished</th><th>status</th><th class="n">rc</th><th class="n">hosts</th>
<th>lost (unreachable or in flight)</th></tr></thead>
<tbody>{% for r in m.runs %}<tr data-status="{{ r.status }}"><td class="host">{{ r.run_id }}</td><td>{{ r.command }}</td><td>{{ r.started }}</td>
<td>{{ r.finished }}</td><td class="{% if r.status in ('interrupted', 'failed') %}bad{% endif %}">{{ r.status }}</td><td class="n">{{ r.rc }}</td>
<td class="n">{{ r.hosts }}</td><td class="host">{{ r.lost }}</td></tr>{% endfor %}</tbody>
</table>
</section>
{% endif %}

<section id="host-list">
<h2>Hosts</h2>
<div class="tools">
<input id="search" type="search" placeholder="Search hosts, waves, states, reasons" aria-label="Search the host table" autocomplete="off">
<select id="state-filter" aria-label="Show only one state"><option value="">every state</option>
{%- for s in m.fleet_states %}<option value="{{ s.key }}">{{ s.label }} ({{ s.count }})</option>{% endfor %}</select>
<span><span id="shown">{{ m.rows|length }}</span> of {{ m.rows|length }} shown</span>
</div>
<table id="hosts">
<thead><tr><th><button type="button">host</button></th><th><button type="button">wave</button></th><th><button type="button">state</button></th>
{%- for p in m.phases %}<th><button type="button">{{ p }}</button></th>{% endfor %}
<th class="n" data-type="number"><button type="button">window (s)</button></th><th><button type="button">attested</button></th>
<th><button type="button">why</button></th></tr></thead>
<tbody>
{%- for r in m.rows %}
<tr data-state="{{ r.state }}"><td class="host">{{ r.host }}</td>
<td data-sort="{{ '%d-%s'|format(wave_rank(r.wave), r.wave or '') }}">{{ r.wave or '' }}</td>
<td class="state" data-sort="{{ '%03d'|format(state_rank(r.state)) }}">{{ swatch(r.state) }}{{ r.label }}</td>
{%- for p in m.phases %}{% set c = r.cells.get(p) %}
<td class="state"{% if c %} title="{{ c.time }}"{% endif %}>{% if c %}{{ c.label }}{% endif %}</td>{% endfor %}
<td class="n" data-sort="{{ r.window if r.window is not none else '' }}">{% if r.window is not none %}{{ '%.2f'|format(r.window) }}{% endif %}</td>
<td>{% if r.attested %}<span
 class="{{ 'ok' if r.attested.state == 'compliant' else 'bad' }}">{{ label(r.attested.state) }}</span> {{ r.attested.time }}{% endif %}</td>
<td class="reason">{{ r.reason }}</td></tr>
{%- endfor %}
</tbody>
</table>
</section>

{% if m.problems %}
<section id="problems">
<h2>Report problems <span class="meta">({{ m.problems|length }})</span></h2>
<p class="meta">Files or records that could not be used; everything else is shown above.</p>
<ul class="problems">{% for p in m.problems[:200] %}<li>{{ p }}</li>{% endfor %}</ul>
{% if m.problems|length > 200 %}<p class="meta">... and {{ m.problems|length - 200 }} more.</p>{% endif %}
</section>
{% endif %}

<footer class="legend">{% for s in m.state_legend %}<span>{{ swatch(s.key) }}{{ s.label }}</span>{% endfor %}</footer>
<script>{{ script }}</script>
</body>
</html>
"""


def _environment():
    import jinja2  # a controller-side dependency of ansible-core

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                                     trim_blocks=False, lstrip_blocks=False)
    environment.globals.update(
        colour=state_colour, label=lambda s: STATE_LABEL.get(s, s),
        wave_rank=lambda w: _wave_key(w)[0] * 1000 + _wave_key(w)[1],
        state_rank=lambda s: STATE_ORDER.get(s, 99))
    return environment


def render_html(model):
    """The page for a model from build_model(). Every value is autoescaped."""
    import markupsafe

    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode('utf-8')).digest()).decode('ascii')
    template = _environment().from_string(TEMPLATE)
    return template.render(m=model, style=markupsafe.Markup(STYLE), script=markupsafe.Markup(SCRIPT),
                           script_hash='sha256-%s' % digest)


def render_dashboard(artifacts_dir, waves=None, generated=None):
    """load_reports + build_model + render_html."""
    reports = load_reports(artifacts_dir)
    if waves:
        reports['waves'] = waves
    return render_html(build_model(reports, generated=generated))


def write_dashboard(artifacts_dir, waves=None, dest=None):
    """Write <artifacts>/dashboard.html (atomically); returns its path.

    waves: optional {host: wave} for records that carry no wave of their own."""
    artifacts_dir = os.path.expanduser(artifacts_dir)
    page = render_dashboard(artifacts_dir, waves=waves)
    path = dest or os.path.join(artifacts_dir, DASHBOARD_FILE)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.dashboard-')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(page)
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
