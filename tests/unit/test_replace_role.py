# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The replace role's structure where it carries a safety rule.

The behaviour itself is tested in Molecule and by the fault-injection harness on
real Linux hosts; Windows has no host here, so these guard its path through the
role: the same readiness call as Linux, every removal call with the journal and
the Windows options, the fallback decided from the host's real state.
"""
from __future__ import annotations

import os

import yaml

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'replace')
REMOVAL_OPTIONS = {'journal', 'force', 'command_timeout', 'lock_timeout', 'kes_login', 'kes_password',
                   'agent_password', 'agent_password_encoding', 'log_dir', 'allow_encrypted', 'exclude'}


def tasks(name):
    with open(os.path.join(ROLE, 'tasks', name), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def walk(items):
    for item in items or []:
        yield item
        for key in ('block', 'rescue', 'always'):
            yield from walk(item.get(key))


def named(name, *files):
    found = [t for f in files for t in walk(tasks(f)) if t.get('name') == name]
    assert len(found) == 1, 'expected one task named %r in %s, found %d' % (name, files, len(found))
    return found[0]


def test_windows_and_linux_share_one_readiness_call():
    calls = [t for t in walk(tasks('preflight.yml')) if 'phaseout.antivirus.preflight_check' in t]
    assert len(calls) == 1
    call = calls[0]
    # no platform branch: the Administration Server, do-not-touch, encryption and pending-reboot rules apply to both
    assert 'when' not in call
    args = call['phaseout.antivirus.preflight_check']
    assert args['do_not_touch'] == '{{ replace_do_not_touch }}'
    assert args['allow_encrypted'] == '{{ replace_allow_encrypted }}'
    assert args['allow_pending_reboot'] == '{{ replace_allow_pending_reboot }}'
    assert call.get('ignore_unreachable') is True, 'an unreachable host is recorded, not dropped'


def test_do_not_touch_is_skipped_before_any_blocker_and_never_staged():
    decide = named('Keep what was found before any change and decide the way on', 'preflight.yml')
    outcome = decide['ansible.builtin.set_fact']['__replace_outcome']
    assert outcome.index("'skipped' if replace_do_not_touch") < outcome.index("'blocked'")
    assert 'not replace_do_not_touch' in decide['ansible.builtin.set_fact']['__replace_fast']
    migrate = named('Stage the replacement, then swap Kaspersky for it', 'main.yml')
    assert "__replace_outcome == 'incomplete'" in migrate['when']


def test_every_removal_call_keeps_the_journal_and_passes_the_windows_options():
    calls = [t for name in ('swap.yml', 'fallback.yml') for t in walk(tasks(name))
             if 'phaseout.antivirus.kaspersky_uninstall' in t]
    assert len(calls) == 4, [c['name'] for c in calls]
    for call in calls:
        args = call['phaseout.antivirus.kaspersky_uninstall']
        assert set(args['journal']) == {'run_id', 'provider'}, call['name']
        missing = REMOVAL_OPTIONS - set(args)
        assert not missing, '%s does not pass %s' % (call['name'], sorted(missing))
    for name in ('Stop Kaspersky, hand over to the replacement, remove Kaspersky',
                 'Remove what is left (the Network Agent, leftovers)'):
        assert named(name, 'swap.yml').get('ignore_unreachable') is True, name


def test_only_the_hand_over_is_throttled():
    throttled = [t['name'] for f in ('main.yml', 'preflight.yml', 'migrate.yml', 'stage.yml', 'swap.yml',
                                     'fallback.yml', 'record.yml')
                 for t in walk(tasks(f)) if 'throttle' in t]
    assert throttled == ['Stop Kaspersky, hand over to the replacement, remove Kaspersky']


def test_the_fallback_is_decided_from_the_real_state_before_anything_is_installed():
    steps = list(walk(tasks('fallback.yml')))
    names = [t.get('name') for t in steps]
    read = names.index('Read what protects the host now')
    decide = names.index("Decide what the failure means for this host's protection")
    install = names.index('Install the fallback provider')
    assert read < decide < install
    assert 'swap_outcome' in steps[decide]['ansible.builtin.set_fact']['__replace_decision']
    block = named('Nothing protects the host; bring up the fallback provider', 'fallback.yml')
    assert block['when'] == '__replace_decision.fallback | bool'


def test_windows_reboots_only_when_required_and_linux_never_by_default():
    with open(os.path.join(ROLE, 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle)
    assert defaults['replace_reboot_linux'] == "{{ phaseout_reboot_linux | default('never') }}"
    assert defaults['replace_reboot_windows'] == "{{ phaseout_reboot_windows | default('when_required') }}"
    win = named('Reboot the Windows host', 'swap.yml')
    assert 'ansible.windows.win_reboot' in win and win['when'] == '__replace_windows'


def test_the_record_reports_the_journal_as_this_run_closed_it():
    closes = [t for f in ('swap.yml', 'fallback.yml') for t in walk(tasks(f))
              if t.get('phaseout.antivirus.swap_journal', {}).get('state') == 'closed']
    assert len(closes) == 2
    assert all(t.get('register') == '__replace_journal' for t in closes), [t['name'] for t in closes]
    record = named('Build the record of this host', 'record.yml')['ansible.builtin.set_fact']['replace_record']
    assert record['journal'].strip().startswith('{{ (__replace_journal.journal | phaseout.antivirus.journal_summary)')
