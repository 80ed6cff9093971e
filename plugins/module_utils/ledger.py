# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The controller's ledger: every host's task results, written as they happen.

The ``phaseout.antivirus.ledger`` callback appends one JSON line per event to
``<artifacts>/ledger/<run id>.jsonl``: the run starting, each play, each task
starting and ending on each host (with the phaseout step it belongs to), and
the run's end. A run that was interrupted (the controller killed, the machine
lost) has no ``run_end`` line, and each host's last line says where it was.

The functions here read a ledger back; the fleet report uses them for hosts
that have no record of their own (lost during the run), and the CLI and the
dashboard to list interrupted runs.
"""

from __future__ import annotations

import datetime
import json
import os
import re

LEDGER_DIR = 'ledger'
# Run ids become file names: letters, digits, dot, dash, underscore and colon only.
RUN_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$')


def new_run_id(clock=None):
    now = datetime.datetime.fromtimestamp(clock(), datetime.timezone.utc) if clock else \
        datetime.datetime.now(datetime.timezone.utc)
    return '%s-%s' % (now.strftime('%Y%m%dT%H%M%SZ'), os.urandom(3).hex())


def valid_run_id(run_id):
    return bool(run_id) and bool(RUN_ID.match(str(run_id)))


def path_for(artifacts_dir, run_id):
    if not valid_run_id(run_id):
        raise ValueError('invalid run id %r: use letters, digits, ".", "-", "_" or ":"' % (run_id,))
    return os.path.join(artifacts_dir, LEDGER_DIR, '%s.jsonl' % run_id)


def read(path):
    """The ledger's events, skipping a torn last line (the controller died mid-write)."""
    events = []
    try:
        with open(path, encoding='utf-8') as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    events.append(event)
    except OSError:
        return []
    return events


def hosts(events, phase=None):
    """Per host: the last task and step it started or finished, and how that ended.

    ``status`` is ``started`` when the last thing known is a task that began and
    never reported back (the controller died, or still runs), ``unreachable``,
    ``failed``, ``ok`` or ``skipped`` otherwise.
    """
    state = {}
    current_phase = None
    for event in events:
        kind = event.get('event')
        if kind == 'play_start':
            current_phase = event.get('phase')
            continue
        host = event.get('host')
        if not host or (phase and current_phase and current_phase != phase):
            continue
        entry = state.setdefault(host, {'host': host, 'status': None, 'task': None, 'step': None, 'at': None,
                                        'msg': '', 'unreachable_during': None})
        if kind == 'task_start':
            entry.update(status='started', task=event.get('task'), step=event.get('step') or entry['step'],
                         at=event.get('at'))
        elif kind in ('ok', 'failed', 'unreachable', 'skipped'):
            entry.update(status=kind, task=event.get('task'), step=event.get('step') or entry['step'],
                         at=event.get('at'), msg=event.get('msg') or '')
            if kind == 'unreachable' and not entry['unreachable_during']:
                entry['unreachable_during'] = event.get('step') or event.get('task')
    return state


def ended(events):
    return any(e.get('event') == 'run_end' for e in events)


def lost_record(host, entry, run_ended):
    """What the report says of a host that has no record of its own, from the ledger."""
    step = (entry or {}).get('unreachable_during') or (entry or {}).get('step') or (entry or {}).get('task')
    if entry and entry.get('unreachable_during'):
        outcome, status = 'unreachable', 'unreachable'
        error = 'unreachable during %s: protection unknown' % step
    elif entry and not run_ended:
        outcome, status = 'interrupted', 'interrupted'
        error = 'run interrupted during %s: protection unknown until the next run reads the host' % (step or 'start')
    elif entry:
        outcome, status = 'failed', 'failed'
        error = 'no record: last seen %s in %s (%s)' % (entry.get('status'), step, entry.get('msg') or 'no message')
    else:
        outcome, status = 'missing', 'missing'
        error = 'no record and no ledger entry: the host did not run this phase'
    record = {'host': host, 'status': status, 'outcome': outcome, 'verdict': outcome, 'error': error,
              'protection': 'unknown'}
    if step:
        record['failed_step'] = step
    if entry and entry.get('msg'):
        record['detail'] = entry['msg'][:300]
    return record


def runs(artifacts_dir):
    """Every run in the ledger directory, newest first: run id, phase(s), start, end, hosts and what was lost."""
    directory = os.path.join(artifacts_dir, LEDGER_DIR)
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith('.jsonl'))
    except OSError:
        return []
    found = []
    for name in names:
        events = read(os.path.join(directory, name))
        start = next((e for e in events if e.get('event') == 'run_start'), {})
        end = next((e for e in events if e.get('event') == 'run_end'), None)
        per_host = hosts(events)
        found.append({
            'run_id': name[:-len('.jsonl')],
            'playbook': start.get('playbook'),
            'phases': sorted({e.get('phase') for e in events if e.get('event') == 'play_start' and e.get('phase')}),
            'check_mode': start.get('check_mode'),
            'started_at': start.get('at'),
            'ended_at': (end or {}).get('at'),
            'interrupted': end is None,
            'hosts': len(per_host),
            'unreachable': sorted(h for h, e in per_host.items() if e['unreachable_during']),
            'in_flight': sorted(h for h, e in per_host.items() if e['status'] == 'started') if end is None else [],
        })
    found.sort(key=lambda r: r['started_at'] or '', reverse=True)
    return found
