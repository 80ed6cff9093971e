# SPDX-License-Identifier: GPL-3.0-or-later
"""What a failed swap means for the host's protection: never two engines, never silently none."""
from __future__ import annotations

import pytest

from ansible_collections.phaseout.antivirus.plugins.filter.swap_outcome import (
    dry_run_outcome, journal_summary, outcome_status, swap_outcome)
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.module_utils import outcome


def host(kaspersky=False, engines=(), installed=()):
    return {'platform': 'linux', 'realtime_protection_active': kaspersky, 'installed': list(installed),
            'verdict': 'installed' if installed else 'clean',
            'realtime_engines': [{'id': e, 'realtime': r} for e, r in engines]}


@pytest.mark.parametrize('detection, kwargs, expected, fallback, text', [
    (None, {'lost_during': 'the hand-over'}, 'unreachable', False, 'unreachable during the hand-over: protection unknown'),
    ({'unreachable': True}, {}, 'unreachable', False, 'protection unknown'),
    (host(kaspersky=True, installed=['kesl']), {}, 'failed', False, 'Kaspersky still protects the host'),
    (host(kaspersky=True, engines=[('clamav', True)], installed=['kesl']), {}, 'failed', False, 'TWO REAL-TIME ENGINES'),
    (host(engines=[('clamav', True)], installed=['kesl']), {'failed_step': 'remove kesl'}, 'removal_incomplete', False,
     "clamav protects the host; Kaspersky's removal did not finish at remove kesl: boom; still installed: kesl"),
    (host(engines=[('clamav', True)]), {'verification_failed': True}, 'degraded', False, 'no second engine'),
    (host(engines=[('sophos', True)]), {}, 'failed', False, 'sophos protects the host'),
    (host(), {'fallback_provider': 'clamav'}, 'fallback', True, 'clamav protects the host instead'),
    # the same provider as fallback: a second attempt, allowed only because nothing protects the host
    (host(engines=[('clamav', False)]), {'fallback_provider': 'clamav'}, 'fallback', True, ''),
    (host(), {'fallback_provider': 'none'}, 'unprotected', False, 'UNPROTECTED'),
    # a provider kaspersky_info does not know answers through its own check
    (host(), {'replacement_active': True}, 'removal_incomplete', False, 'protects the host'),
])
def test_after_failure(detection, kwargs, expected, fallback, text):
    kwargs.setdefault('error', 'boom')
    decision = swap_outcome(detection, 'clamav', **kwargs)
    assert decision['outcome'] == expected and decision['fallback'] is fallback
    assert text in decision['error']


def test_the_fallback_never_runs_next_to_a_working_engine():
    for engines in ([('clamav', True)], [('mdatp', True)], [('crowdstrike', True)]):
        assert not outcome.after_failure(host(engines=engines), 'clamav', fallback_provider='mdatp')['fallback']


def test_windows_defender_counts_only_when_really_on():
    windows = {'platform': 'windows', 'realtime_protection_active': False, 'installed': [],
               'realtime_engines': [{'id': 'defender', 'realtime': False}]}
    assert outcome.engine_active(windows, 'defender') is False
    windows['realtime_engines'][0]['realtime'] = True
    assert swap_outcome(windows, 'defender')['outcome'] == 'removal_incomplete'


@pytest.mark.parametrize('name, status', [('replaced', 'ok'), ('compliant', 'ok'), ('skipped', 'skipped'),
                                          ('would_install', 'ok'), ('removal_incomplete', 'failed'),
                                          ('unreachable', 'unreachable'), ('nonsense', 'failed')])
def test_status_of_every_outcome(name, status):
    assert outcome_status(name) == status


def test_dry_run_says_what_would_happen():
    assert dry_run_outcome(host(installed=['kesl']), 'clamav') == 'would_replace'
    assert dry_run_outcome(host(), 'clamav') == 'would_install'
    assert dry_run_outcome(host(engines=[('clamav', True)]), 'clamav') == 'compliant'


def test_a_closed_journal_is_reported_as_finished_not_interrupted():
    opened = swap_journal.new('run-1', 'clamav', 'linux', products=['kesl'], at='2026-12-01T00:00:00Z')
    for step in ('staged', 'kaspersky_stopped', 'replacement_active', 'kaspersky_removed', 'cleaned'):
        opened = swap_journal.advance(opened, step, at='2026-12-01T00:00:01Z')
    assert journal_summary(opened)['interrupted'] is True
    closed = swap_journal.close(opened, 'done', 'replaced', at='2026-12-01T00:00:02Z')
    summary = journal_summary(closed)
    assert summary['interrupted'] is False and summary['state'] == 'done'
    assert summary['message'].startswith('swap finished (replaced')
    # a summary, none, or anything else passes through unchanged
    assert journal_summary(summary) is summary
    assert journal_summary(None) is None
    assert journal_summary('text') == 'text'
