# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The swap journal: what a host is in the middle of, kept on the host itself.

Before the first step that changes a host's protection, phaseout writes a
journal on the host (``/var/lib/phaseout/journal.json`` on Linux,
``%ProgramData%\\phaseout\\journal.json`` on Windows) and rewrites it
atomically (temporary file, fsync, rename) around every step of the swap:

    staged -> kaspersky_stopped -> replacement_active -> kaspersky_removed -> cleaned -> verified

On Windows the uninstaller stops and removes Kaspersky in one go, and Defender
takes over afterwards:

    staged -> kaspersky_removed -> replacement_active -> cleaned -> verified

Write-ahead: before a step starts, ``doing`` names it; when it is done,
``step`` becomes it and ``doing`` is cleared. A journal whose ``state`` is
``open`` after a run ended is an interrupted swap: ``step`` is the last step
that completed and ``doing`` the one that was under way.

The point of no return is the step after which phaseout stops rolling back and
finishes forward: on Linux ``replacement_active`` (the replacement confirmed
its real-time protection, it is enabled at boot and Kaspersky's services are
disabled), on Windows ``kaspersky_removed`` (an uninstaller ran; MSI removals
cannot be undone).

Everything here is pure (dicts in, dicts out) except ``JournalStore``, which
reads and writes the Linux file. The Windows side writes the same JSON from
PowerShell and uses these functions on the controller.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.phaseout.antivirus.plugins.module_utils.atomic_file import replace_file

SCHEMA = 1
LINUX_PATH = '/var/lib/phaseout/journal.json'
WINDOWS_DIR = '%ProgramData%\\phaseout'
WINDOWS_PATH = WINDOWS_DIR + '\\journal.json'

STEPS = {
    'linux': ('staged', 'kaspersky_stopped', 'replacement_active', 'kaspersky_removed', 'cleaned', 'verified'),
    'windows': ('staged', 'kaspersky_removed', 'replacement_active', 'cleaned', 'verified'),
}
POINT_OF_NO_RETURN = {'linux': 'replacement_active', 'windows': 'kaspersky_removed'}

# Journal states: open (a swap is under way or was interrupted), done (verified,
# or finished with a recorded outcome), rolled_back (the replacement did not
# come up and Kaspersky protects the host again).
STATES = ('open', 'done', 'rolled_back')

STEP_TEXT = {
    'staged': 'replacement staged',
    'kaspersky_stopped': 'Kaspersky stopped',
    'replacement_active': 'replacement active',
    'kaspersky_removed': 'Kaspersky removed',
    'cleaned': 'leftovers cleaned',
    'verified': 'verified',
}


class JournalError(Exception):
    """The journal file exists but cannot be used (unreadable, malformed, another tool's)."""


def now_iso(clock=None):
    stamp = clock() if clock else datetime.datetime.now(datetime.timezone.utc).timestamp()
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).isoformat(timespec='milliseconds')


def new(run_id, provider, platform, products=(), protecting=(), services=(), at=None):
    """A fresh journal at step ``staged`` (the replacement is staged; nothing changed protection yet)."""
    if platform not in STEPS:
        raise ValueError('unknown platform %r' % platform)
    at = at or now_iso()
    return {
        'schema': SCHEMA,
        'tool': 'phaseout',
        'platform': platform,
        'run_id': str(run_id or ''),
        'runs': [str(run_id or '')],
        'provider': str(provider or ''),
        'products': sorted(products),
        'protecting': sorted(protecting),
        # Kaspersky's services as they were before phaseout touched them: what a rollback restores,
        # even when the run that stopped them was interrupted.
        'services': [dict(s) for s in services],
        'state': 'open',
        'step': 'staged',
        'doing': None,
        'outcome': None,
        'error': '',
        'started_at': at,
        'updated_at': at,
        'finished_at': None,
        'history': [{'step': 'staged', 'at': at}],
    }


def validate(data):
    """Return ``data`` if it is a phaseout journal this code understands, else raise JournalError."""
    if not isinstance(data, dict) or data.get('tool') != 'phaseout':
        raise JournalError('not a phaseout journal')
    if data.get('schema') != SCHEMA:
        raise JournalError('journal schema %r is not supported (this phaseout writes schema %d)'
                           % (data.get('schema'), SCHEMA))
    platform = data.get('platform')
    if platform not in STEPS:
        raise JournalError('journal platform %r is unknown' % platform)
    if data.get('state') not in STATES:
        raise JournalError('journal state %r is unknown' % data.get('state'))
    steps = STEPS[platform]
    if data.get('step') not in steps:
        raise JournalError('journal step %r is unknown' % data.get('step'))
    if data.get('doing') is not None and data.get('doing') not in steps:
        raise JournalError('journal step under way %r is unknown' % data.get('doing'))
    for key in ('history', 'services', 'products', 'protecting', 'runs'):
        if not isinstance(data.get(key, []), list):
            raise JournalError('journal field %s is not a list' % key)
    return data


def parse(text):
    """Parse the journal file's text (JournalError when it is not valid JSON of the right shape)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise JournalError('journal is not valid JSON: %s' % exc) from None
    return validate(data)


def dumps(journal):
    return json.dumps(journal, indent=2, sort_keys=True) + '\n'


def index(journal, step):
    return STEPS[journal['platform']].index(step)


def reached(journal, step):
    """Whether ``step`` completed (the journal's step is it or a later one)."""
    return journal is not None and index(journal, journal['step']) >= index(journal, step)


def past_point_of_no_return(journal):
    return journal is not None and reached(journal, POINT_OF_NO_RETURN[journal['platform']])


def is_open(journal):
    return journal is not None and journal.get('state') == 'open'


def _copy(journal):
    return json.loads(json.dumps(journal))


def begin(journal, step, at=None):
    """Write-ahead: ``step`` is under way."""
    index(journal, step)  # ValueError for an unknown step
    out = _copy(journal)
    out['doing'] = step
    out['updated_at'] = at or now_iso()
    return out


def advance(journal, step, at=None, detail=None):
    """``step`` completed. Steps never go backwards: completing an earlier step again is recorded only."""
    at = at or now_iso()
    out = _copy(journal)
    if index(out, step) > index(out, out['step']):
        out['step'] = step
    out['doing'] = None
    out['updated_at'] = at
    entry = {'step': step, 'at': at}
    if detail:
        entry['detail'] = str(detail)[:500]
    out['history'].append(entry)
    return out


def note(journal, event, at=None, detail=None):
    """Record an event that is not a step (resumed, rolled back, error) in the history."""
    at = at or now_iso()
    out = _copy(journal)
    entry = {'event': event, 'at': at}
    if detail:
        entry['detail'] = str(detail)[:500]
    out['history'].append(entry)
    out['updated_at'] = at
    return out


def resume(journal, run_id, at=None):
    """A new run takes over an open journal: keep its history, record the new run."""
    out = note(journal, 'resumed', at=at, detail='run %s resumes at step %s%s' % (
        run_id, journal['step'], (' (%s was under way)' % journal['doing']) if journal.get('doing') else ''))
    out['run_id'] = str(run_id or '')
    if out['run_id'] not in out['runs']:
        out['runs'].append(out['run_id'])
    return out


def fail(journal, error, at=None):
    """A step failed; the journal stays open (the host is still in the middle of the swap)."""
    out = note(journal, 'error', at=at, detail=error)
    out['error'] = str(error)[:500]
    out['doing'] = None
    return out


def close(journal, state, outcome, at=None, error=''):
    """The swap ended: ``done`` (with its outcome) or ``rolled_back``."""
    if state not in ('done', 'rolled_back'):
        raise ValueError('a journal closes as done or rolled_back, not %r' % state)
    at = at or now_iso()
    out = note(journal, state, at=at, detail=outcome)
    out.update(state=state, outcome=outcome, doing=None, finished_at=at, error=str(error or '')[:500])
    return out


def summary(journal, error=None):
    """What discover, preflight and verify report about the journal (None: no journal at all)."""
    if error:
        return {'present': True, 'state': 'unreadable', 'interrupted': True, 'message': 'journal unreadable: %s' % error}
    if journal is None:
        return None
    interrupted = journal['state'] == 'open'
    step, doing = journal['step'], journal.get('doing')
    if interrupted:
        message = 'interrupted at step %s%s (run %s, last update %s)' % (
            step, ('; %s was under way' % doing) if doing else '', journal.get('run_id') or '?', journal.get('updated_at'))
        if journal.get('error'):
            message += ': ' + journal['error']
    elif journal['state'] == 'rolled_back':
        message = 'the last swap was rolled back (run %s, %s): %s' % (
            journal.get('run_id') or '?', journal.get('finished_at'), journal.get('error') or 'replacement failed')
    else:
        message = 'swap finished (%s, run %s, %s)' % (journal.get('outcome'), journal.get('run_id') or '?',
                                                      journal.get('finished_at'))
    return {
        'present': True,
        'state': journal['state'],
        'interrupted': interrupted,
        'step': step,
        'doing': doing,
        'run_id': journal.get('run_id'),
        'provider': journal.get('provider'),
        'outcome': journal.get('outcome'),
        'started_at': journal.get('started_at'),
        'updated_at': journal.get('updated_at'),
        'past_point_of_no_return': past_point_of_no_return(journal),
        'error': journal.get('error') or '',
        'message': message,
    }


# ---------------------------------------------------------------------------
# Resume: decide what a run does on a host, from its journal and its real state
# ---------------------------------------------------------------------------

FRESH = 'fresh'              # no open journal: a normal swap
HANDOVER = 'handover'        # hand over to the replacement (Kaspersky may already be stopped)
FINISH = 'finish_forward'    # the replacement protects the host: stop/disable Kaspersky, remove it
REACTIVATE = 'reactivate'    # past the point of no return and nothing runs: bring the replacement back
NOTHING = 'nothing'          # nothing of Kaspersky to hand over from (clean or residue only)


def decide(journal, kaspersky_active, kaspersky_installed, replacement_active):
    """Decide the swap from the replacement's and Kaspersky's real state, the journal breaking ties.

    - the replacement's real-time protection is on: finish forward, whatever the journal says (a
      crash after the confirmation but before the journal was written is the reason);
    - Kaspersky protects, or is installed and stopped before the point of no return: hand over
      (again); a failed activation then restores Kaspersky;
    - past the point of no return with nothing running: bring the replacement back; only when
      that fails does a protecting product that is still installed get restarted;
    - nothing of Kaspersky installed: nothing to hand over from.
    Returns (decision, reason).
    """
    open_journal = journal if is_open(journal) else None
    where = ''
    if open_journal:
        where = ' (journal: interrupted at step %s%s)' % (
            open_journal['step'], '; %s was under way' % open_journal['doing'] if open_journal.get('doing') else '')
    if replacement_active:
        if kaspersky_active or kaspersky_installed:
            return FINISH, 'the replacement protects the host; Kaspersky is stopped, disabled and removed' + where
        return FINISH if open_journal else FRESH, 'the replacement protects the host' + where
    if open_journal and past_point_of_no_return(open_journal) and not kaspersky_active:
        return REACTIVATE, 'past the point of no return and nothing protects the host: reactivate the replacement' + where
    if kaspersky_active or kaspersky_installed:
        return (HANDOVER if open_journal else FRESH), 'Kaspersky %s: hand over to the replacement%s' % (
            'protects the host' if kaspersky_active else 'is installed but stopped', where)
    return NOTHING, 'no protecting Kaspersky product is installed' + where


# ---------------------------------------------------------------------------
# The Linux file
# ---------------------------------------------------------------------------


class JournalStore:
    """Read and write the journal file atomically. ``root`` lets tests use a fake tree."""

    def __init__(self, root='/', path=LINUX_PATH):
        self.root = root
        self.rel = path
        self.path = os.path.join(root, path.lstrip('/'))

    def read(self):
        """Return (journal or None, error or None). A missing file is (None, None)."""
        try:
            with open(self.path, encoding='utf-8') as handle:
                text = handle.read()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, 'cannot read %s: %s' % (self.rel, exc.strerror or exc)
        try:
            return parse(text), None
        except JournalError as exc:
            return None, '%s: %s' % (self.rel, exc)

    def write(self, journal):
        """Atomically replace the file: temporary file in the same directory, fsync, rename, fsync the directory."""
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        replace_file(self.path, dumps(journal).encode('utf-8'), 0o600, prefix='.journal-')
        return journal

    def remove(self):
        try:
            os.unlink(self.path)
            return True
        except FileNotFoundError:
            return False
