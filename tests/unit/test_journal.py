# SPDX-License-Identifier: GPL-3.0-or-later
"""The swap journal: its steps, the point of no return, the resume decision, the file."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import journal

SERVICES = [{'name': 'kesl', 'product': 'kesl', 'protecting': True, 'was_active': True, 'was_enabled': True}]


def fresh(platform='linux'):
    return journal.new('run-1', 'clamav', platform, products=['kesl', 'klnagent'], protecting=['kesl'],
                       services=SERVICES, at='2026-12-01T00:00:00.000+00:00')


def test_a_new_journal_is_open_at_staged_and_not_past_the_point_of_no_return():
    j = fresh()
    assert journal.validate(j) is j
    assert (j['state'], j['step'], j['doing']) == ('open', 'staged', None)
    assert not journal.past_point_of_no_return(j)
    assert j['history'] == [{'step': 'staged', 'at': '2026-12-01T00:00:00.000+00:00'}]


def test_write_ahead_then_advance():
    j = journal.begin(fresh(), 'kaspersky_stopped', at='t1')
    assert (j['step'], j['doing']) == ('staged', 'kaspersky_stopped')
    j = journal.advance(j, 'kaspersky_stopped', at='t2')
    assert (j['step'], j['doing'], j['updated_at']) == ('kaspersky_stopped', None, 't2')
    assert not journal.past_point_of_no_return(j)
    j = journal.advance(j, 'replacement_active', at='t3')
    assert journal.past_point_of_no_return(j)


def test_steps_never_go_backwards_but_history_keeps_everything():
    j = journal.advance(fresh(), 'kaspersky_removed', at='t1')
    j = journal.advance(j, 'replacement_active', at='t2')
    assert j['step'] == 'kaspersky_removed'
    assert [h.get('step') for h in j['history']] == ['staged', 'kaspersky_removed', 'replacement_active']


def test_windows_point_of_no_return_is_the_removal():
    j = fresh('windows')
    assert not journal.past_point_of_no_return(j)
    assert journal.past_point_of_no_return(journal.advance(j, 'kaspersky_removed'))
    with pytest.raises(ValueError):
        journal.begin(j, 'kaspersky_stopped')  # not a Windows step


def test_functions_do_not_mutate_their_input():
    j = fresh()
    before = json.dumps(j, sort_keys=True)
    journal.advance(j, 'kaspersky_stopped')
    journal.close(j, 'done', 'replaced')
    journal.resume(j, 'run-2')
    assert json.dumps(j, sort_keys=True) == before


def test_close_and_summary():
    j = journal.close(journal.advance(fresh(), 'verified', at='t9'), 'done', 'replaced', at='t9')
    s = journal.summary(j)
    assert s['state'] == 'done' and not s['interrupted'] and s['outcome'] == 'replaced'
    assert 'swap finished (replaced' in s['message']
    with pytest.raises(ValueError):
        journal.close(j, 'open', 'x')


def test_summary_of_an_interrupted_swap_names_the_step_and_what_was_under_way():
    j = journal.begin(journal.advance(fresh(), 'kaspersky_stopped', at='t1'), 'replacement_active', at='t2')
    s = journal.summary(j)
    assert s['interrupted'] and s['step'] == 'kaspersky_stopped' and s['doing'] == 'replacement_active'
    assert s['message'].startswith('interrupted at step kaspersky_stopped; replacement_active was under way')
    assert journal.summary(None) is None
    assert journal.summary(None, error='bad json')['state'] == 'unreadable'


def test_rolled_back_summary():
    j = journal.close(fresh(), 'rolled_back', 'failed', error='clamonacc did not start')
    s = journal.summary(j)
    assert not s['interrupted'] and 'rolled back' in s['message'] and 'clamonacc did not start' in s['message']


def test_resume_records_the_new_run_and_keeps_the_old_one():
    j = journal.resume(fresh(), 'run-2', at='t5')
    assert j['run_id'] == 'run-2' and j['runs'] == ['run-1', 'run-2']
    assert j['history'][-1]['event'] == 'resumed' and 'resumes at step staged' in j['history'][-1]['detail']


def test_fail_keeps_the_journal_open_with_the_error():
    j = journal.fail(journal.advance(fresh(), 'replacement_active'), 'dpkg prerm failed')
    assert j['state'] == 'open' and j['error'] == 'dpkg prerm failed'
    assert journal.summary(j)['message'].endswith(': dpkg prerm failed')


@pytest.mark.parametrize('data, message', [
    ([], 'not a phaseout journal'),
    ({'tool': 'other'}, 'not a phaseout journal'),
    ({'tool': 'phaseout', 'schema': 99}, 'schema 99 is not supported'),
    ({'tool': 'phaseout', 'schema': 1, 'platform': 'aix'}, "platform 'aix' is unknown"),
    ({'tool': 'phaseout', 'schema': 1, 'platform': 'linux', 'state': 'odd'}, "state 'odd' is unknown"),
    ({'tool': 'phaseout', 'schema': 1, 'platform': 'linux', 'state': 'open', 'step': 'x'}, "step 'x' is unknown"),
    ({'tool': 'phaseout', 'schema': 1, 'platform': 'linux', 'state': 'open', 'step': 'staged', 'doing': 'y'},
     "under way 'y' is unknown"),
    ({'tool': 'phaseout', 'schema': 1, 'platform': 'linux', 'state': 'open', 'step': 'staged', 'history': {}},
     'history is not a list'),
])
def test_validate_rejects_what_it_cannot_trust(data, message):
    with pytest.raises(journal.JournalError, match=message):
        journal.validate(data)


def test_parse_rejects_broken_json():
    with pytest.raises(journal.JournalError, match='not valid JSON'):
        journal.parse('{"tool": "phaseout",')


# --- the resume decision -------------------------------------------------------

def at(step, doing=None):
    j = fresh()
    if step != 'staged':
        j = journal.advance(j, step)
    return journal.begin(j, doing) if doing else j


@pytest.mark.parametrize('journal_, k_active, k_installed, r_active, expected', [
    # no journal: a normal run
    (None, True, True, False, journal.FRESH),
    (None, False, False, False, journal.NOTHING),
    (None, False, False, True, journal.FRESH),
    # the replacement protects the host: finish forward, whatever the journal says
    (at('kaspersky_stopped', 'replacement_active'), False, True, True, journal.FINISH),
    (at('staged', 'kaspersky_stopped'), True, True, True, journal.FINISH),
    (at('replacement_active', 'kaspersky_removed'), False, True, True, journal.FINISH),
    # crashed after stopping Kaspersky, before the replacement came up: hand over again
    (at('kaspersky_stopped', 'replacement_active'), False, True, False, journal.HANDOVER),
    # rebooted inside the hand-over: Kaspersky came back at boot
    (at('kaspersky_stopped', 'replacement_active'), True, True, False, journal.HANDOVER),
    # past the point of no return and nothing runs: bring the replacement back
    (at('replacement_active', 'kaspersky_removed'), False, True, False, journal.REACTIVATE),
    (at('kaspersky_removed'), False, False, False, journal.REACTIVATE),
    # past the point of no return but Kaspersky runs again (re-enabled by someone): hand over again
    (at('replacement_active'), True, True, False, journal.HANDOVER),
    # a closed journal is history, not a reason to resume
    (journal.close(at('verified'), 'done', 'replaced'), True, True, False, journal.FRESH),
])
def test_decide(journal_, k_active, k_installed, r_active, expected):
    decision, reason = journal.decide(journal_, k_active, k_installed, r_active)
    assert decision == expected, reason
    if journal.is_open(journal_):
        assert 'journal: interrupted at step' in reason


# --- the file -------------------------------------------------------------------

def test_store_round_trip_is_atomic_and_private(tmp_path):
    store = journal.JournalStore(root=str(tmp_path))
    assert store.read() == (None, None)
    j = fresh()
    store.write(j)
    path = tmp_path / 'var/lib/phaseout/journal.json'
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    assert oct(os.stat(path.parent).st_mode & 0o777) == '0o700'
    assert store.read() == (j, None)
    assert [p.name for p in path.parent.iterdir()] == ['journal.json']  # no temporary file left
    assert store.remove() and not store.remove()


def test_store_reports_an_unreadable_journal(tmp_path):
    store = journal.JournalStore(root=str(tmp_path))
    (tmp_path / 'var/lib/phaseout').mkdir(parents=True)
    (tmp_path / 'var/lib/phaseout/journal.json').write_text('{"tool": "other"}')
    data, error = store.read()
    assert data is None and 'not a phaseout journal' in error


def test_store_write_failure_leaves_the_old_journal(tmp_path, monkeypatch):
    store = journal.JournalStore(root=str(tmp_path))
    old = fresh()
    store.write(old)

    def broken_replace(src, dst):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(journal.os, 'replace', broken_replace)
    with pytest.raises(OSError):
        store.write(journal.advance(old, 'kaspersky_stopped'))
    monkeypatch.undo()
    assert store.read() == (old, None)
    assert [p.name for p in (tmp_path / 'var/lib/phaseout').iterdir()] == ['journal.json']


# --- the swap_journal module's decision -------------------------------------------

from ansible_collections.phaseout.antivirus.plugins.modules import swap_journal as module  # noqa: E402


def args(**kw):
    base = {'state': 'present', 'step': None, 'outcome': None, 'error': '', 'run_id': None}
    base.update(kw)
    return base


def test_module_closes_an_open_journal_at_verified():
    current = journal.advance(fresh(), 'cleaned')
    new, changed, msg = module.plan(current, args(state='closed', step='verified', outcome='replaced', run_id='run-1'))
    assert changed and new['state'] == 'done' and new['step'] == 'verified' and new['outcome'] == 'replaced'
    assert msg == 'journal at step verified (done)'


def test_module_reads_without_changing_and_leaves_hosts_without_journal_alone():
    current = fresh()
    assert module.plan(current, args()) == (current, False, 'journal unchanged')
    assert module.plan(None, args(state='closed', outcome='x')) == (None, False,
                                                                    'no journal on this host: nothing was swapped here')


def test_module_does_not_reclose_and_needs_an_outcome():
    done = journal.close(fresh(), 'done', 'replaced')
    assert module.plan(done, args(state='closed', outcome='replaced'))[1] is False
    with pytest.raises(ValueError, match='needs the outcome'):
        module.plan(fresh(), args(state='closed'))


def test_module_records_another_run_as_resuming():
    new, changed, _msg = module.plan(fresh(), args(step='replacement_active', run_id='run-9'))
    assert changed and new['runs'] == ['run-1', 'run-9'] and new['step'] == 'replacement_active'


def test_module_refuses_a_step_of_the_other_platform():
    with pytest.raises(ValueError, match='kaspersky_stopped is not a windows step'):
        module.plan(fresh('windows'), args(step='kaspersky_stopped'))


def test_module_absent():
    assert module.plan(fresh(), args(state='absent'))[1] is True
    assert module.plan(None, args(state='absent'))[1] is False


def test_posix_hosts_run_the_python_module_even_with_a_powershell_twin():
    """swap_journal has a .py and a .ps1 of the same name: on POSIX the .py must be asked for by extension."""
    from unittest import mock
    from ansible_collections.phaseout.antivirus.plugins.plugin_utils.dispatch import LinuxOrWindowsAction

    class Connection:
        module_implementation_preferences = ('',)

    seen = []
    action = mock.Mock(spec=LinuxOrWindowsAction, MODULE='phaseout.antivirus.swap_journal', _connection=Connection())
    action._execute_module.side_effect = lambda **kw: seen.append(action._connection.module_implementation_preferences) or {}
    LinuxOrWindowsAction._execute_posix_module(action, {}, {})
    assert seen == [('.py', '')]
    assert action._connection.module_implementation_preferences == ('',)  # restored
