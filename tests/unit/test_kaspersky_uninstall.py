# SPDX-License-Identifier: GPL-3.0-or-later
"""kaspersky_uninstall's main path on a simulated host: hand-over, window, journal, rollback, resume.

Each test runs the module's ``run`` (everything ``main`` does after AnsibleModule
has parsed the arguments) against swaphost.SwapHost and checks the host's end
state, the journal on its disk and the module's result.
"""
from __future__ import annotations

import itertools
import json
import os

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.modules import kaspersky_uninstall as module_file
from swaphost import ACTIVATE, CHECK, DPKG, SYSTEMCTL, FakeModule, ModuleExit, SwapHost


def params(**overrides):
    base = {name: spec.get('default') for name, spec in module_file.ARGUMENT_SPEC.items()}
    base.update(activate=dict(ACTIVATE), journal={'run_id': 'run-1', 'provider': 'clamav'})
    base.update(overrides)
    return base


def clock():
    ticks = itertools.count(1000.0, 0.5)
    return lambda: next(ticks)


def run(host, check_mode=False, **overrides):
    module = FakeModule(host, check_mode=check_mode)
    with pytest.raises(ModuleExit) as done:
        module_file.run(module, params(**overrides), root=host.root, clock=clock(), sleep=lambda s: None,
                        kill=lambda pid, sig: None)
    return done.value, module


def journal_of(host):
    path = host.path(swap_journal.LINUX_PATH)
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def engines(host):
    """Real-time engines active on the simulated host (Kaspersky's endpoint counts, its agent does not)."""
    active = []
    if host.units.get('kesl', {}).get('active'):
        active.append('kesl')
    if host.units['clamav-clamonacc']['active']:
        active.append('clamav')
    return active


def boot_engines(host):
    """What would run after a reboot: the units enabled at boot."""
    enabled = []
    if host.units.get('kesl', {}).get('enabled') and 'kesl' in host.installed:
        enabled.append('kesl')
    if host.units['clamav-clamonacc']['enabled']:
        enabled.append('clamav')
    return enabled


def test_check_mode_plans_with_checkpoints_and_changes_nothing(tmp_path):
    host = SwapHost(tmp_path)
    done, _module = run(host, check_mode=True)
    assert not done.failed and done.result['changed']
    descriptions = [s['description'] for s in done.result['plan']]
    assert 'checkpoint: replacement active (point of no return: from here on phaseout finishes forward)' in descriptions
    assert done.result['removed'] == ['kesl', 'klnagent']
    assert journal_of(host) is None
    assert [c for c in host.log if c[0] == DPKG or c[1:2] in (['stop'], ['start'], ['enable'], ['disable'])] == []
    assert engines(host) == ['kesl']


def test_swap_hands_over_removes_and_journals_every_step(tmp_path):
    host = SwapHost(tmp_path)
    done, _module = run(host)
    result = done.result
    assert not done.failed, result.get('msg')
    assert result['decision'] == 'fresh' and result['past_point_of_no_return']
    assert result['removed'] == ['kesl', 'klnagent'] and result['after']['verdict'] == 'clean'
    assert engines(host) == ['clamav'] and boot_engines(host) == ['clamav']
    # the window: from stopping kesl (not the agent) to the confirmed activation, on the host clock
    assert result['was_protected'] and result['unprotected_window_s'] > 0
    # Kaspersky was disabled only after the replacement was confirmed and enabled at boot
    order = [c for c in host.log if c[0] == SYSTEMCTL and c[1] in ('stop', 'start', 'enable', 'disable')]
    assert order.index([SYSTEMCTL, 'enable', 'clamav-clamonacc.service']) < \
        order.index([SYSTEMCTL, 'disable', 'kesl.service'])
    assert order.index([SYSTEMCTL, 'stop', 'kesl.service']) < order.index([SYSTEMCTL, 'start', 'clamav-clamonacc.service'])
    journal = journal_of(host)
    assert journal['state'] == 'open' and journal['step'] == 'cleaned' and journal['doing'] is None
    assert [h['step'] for h in journal['history'] if 'step' in h] == [
        'staged', 'kaspersky_stopped', 'replacement_active', 'kaspersky_removed', 'cleaned']
    assert {s['name']: s['was_active'] for s in journal['services']} == {'kesl': True, 'klnagent64': True}
    assert result['journal']['step'] == 'cleaned'


def test_activation_that_never_confirms_rolls_back_completely(tmp_path):
    host = SwapHost(tmp_path)
    host.activation_fails = True
    done, _module = run(host)
    result = done.result
    assert done.failed and result['rolled_back'] and not result['past_point_of_no_return']
    assert 'did not confirm real-time protection' in result['msg'] and 'rolled back: nothing was removed' in result['msg']
    # exactly one engine, now and at boot: Kaspersky, re-enabled and running; the replacement off and disabled
    assert engines(host) == ['kesl'] and boot_engines(host) == ['kesl']
    assert host.units['klnagent64'] == {'active': True, 'enabled': True}
    assert host.units['clamav-clamonacc'] == {'active': False, 'enabled': False}
    assert result['removed'] == [] and sorted(host.installed) == ['kesl', 'klnagent64']
    journal = journal_of(host)
    assert journal['state'] == 'rolled_back' and journal['outcome'] == 'failed'


def test_failing_maintainer_script_after_the_point_of_no_return_keeps_the_replacement(tmp_path):
    host = SwapHost(tmp_path)
    host.fail_prerm.add('kesl')
    done, _module = run(host)
    result = done.result
    assert done.failed and not result['rolled_back'] and result['past_point_of_no_return']
    assert 'pre-removal script' in result['msg'] and 'past the point of no return' in result['msg']
    # one engine: the replacement; Kaspersky stopped and disabled, still installed, and said so truthfully
    assert engines(host) == ['clamav'] and boot_engines(host) == ['clamav']
    assert 'kesl' in result['after']['installed'] and 'kesl' not in result['removed']
    assert result['failed_step']['target'] == 'kesl'
    journal = journal_of(host)
    assert journal['state'] == 'open' and journal['step'] == 'replacement_active'
    assert 'pre-removal script' in journal['error']


def test_rerun_after_the_failed_removal_finishes_forward(tmp_path):
    host = SwapHost(tmp_path)
    host.fail_prerm.add('kesl')
    run(host)
    host.fail_prerm.clear()
    done, _module = run(host, journal={'run_id': 'run-2', 'provider': 'clamav'})
    result = done.result
    assert not done.failed, result.get('msg')
    assert result['decision'] == 'finish_forward' and result['replacement_was_active']
    assert result['unprotected_window_s'] is None  # Kaspersky was not protecting any more
    assert engines(host) == ['clamav'] and host.installed == {}
    journal = journal_of(host)
    assert journal['runs'] == ['run-1', 'run-2'] and journal['step'] == 'cleaned'
    assert any(h.get('event') == 'resumed' for h in journal['history'])


def test_interrupted_after_stopping_kaspersky_resumes_and_rolls_back_what_the_first_run_stopped(tmp_path):
    # the first run stopped kesl and the agent, then died (killed host-side) before activating anything
    host = SwapHost(tmp_path)
    first = swap_journal.new('run-1', 'clamav', 'linux', products=['kesl', 'klnagent'], protecting=['kesl'],
                             services=[{'name': 'kesl', 'product': 'kesl', 'protecting': True, 'was_active': True,
                                        'was_enabled': True},
                                       {'name': 'klnagent64', 'product': 'klnagent', 'protecting': False,
                                        'was_active': True, 'was_enabled': True}])
    first = swap_journal.begin(swap_journal.advance(first, 'kaspersky_stopped'), 'replacement_active')
    swap_journal.JournalStore(root=host.root).write(first)
    host.systemctl(['stop', 'kesl.service', 'klnagent64.service'])
    assert engines(host) == []
    host.activation_fails = True
    done, _module = run(host, journal={'run_id': 'run-2', 'provider': 'clamav'})
    result = done.result
    assert result['decision'] == 'handover' and result['journal']['state'] == 'rolled_back'
    # no stop step was planned (nothing ran), yet the rollback restarts what the first run had stopped
    assert engines(host) == ['kesl'] and host.units['klnagent64']['active']


def test_interrupted_past_the_point_of_no_return_reactivates_the_replacement(tmp_path):
    host = SwapHost(tmp_path)
    host.fail_prerm.add('kesl')
    run(host)
    host.systemctl(['stop', 'clamav-clamonacc.service'])  # the replacement crashed meanwhile
    assert engines(host) == []
    host.fail_prerm.clear()
    done, _module = run(host, journal={'run_id': 'run-2', 'provider': 'clamav'})
    assert not done.failed, done.result.get('msg')
    assert done.result['decision'] == 'reactivate'
    assert engines(host) == ['clamav'] and host.installed == {}


def test_a_service_that_will_not_stop_restarts_what_was_stopped(tmp_path):
    host = SwapHost(tmp_path)
    host.stop_fails.add('kesl')
    done, _module = run(host)
    assert done.failed and done.result['rolled_back']
    assert host.units['klnagent64']['active'] and engines(host) == ['kesl']
    assert host.units['clamav-clamonacc'] == {'active': False, 'enabled': False}


def test_without_a_journal_nothing_is_written(tmp_path):
    host = SwapHost(tmp_path)
    done, _module = run(host, journal=None)
    assert not done.failed and done.result['journal'] is None and journal_of(host) is None
    assert engines(host) == ['clamav']


def test_clean_host_with_an_open_journal_is_marked_cleaned(tmp_path):
    host = SwapHost(tmp_path, packages=())
    journal = swap_journal.advance(swap_journal.new('run-1', 'clamav', 'linux'), 'kaspersky_removed')
    swap_journal.JournalStore(root=host.root).write(journal)
    done, _module = run(host, activate=None)
    assert not done.failed and done.result['changed'] and journal_of(host)['step'] == 'cleaned'


def test_unreadable_journal_is_reported_and_the_real_state_decides(tmp_path):
    host = SwapHost(tmp_path)
    host.write(swap_journal.LINUX_PATH, '{broken')
    done, module = run(host)
    assert not done.failed and 'journal is not valid JSON' in module.warnings[0]
    assert journal_of(host)['step'] == 'cleaned'


def test_unknown_product_fails_before_anything_changes(tmp_path):
    host = SwapHost(tmp_path)
    done, _module = run(host, exclude=['mcafee'])
    assert done.failed and "unknown product 'mcafee'" in done.result['msg']
    assert engines(host) == ['kesl'] and journal_of(host) is None
    assert CHECK in host.log and not any(c[1:2] == ['stop'] for c in host.log if c[0] == SYSTEMCTL)
