# SPDX-License-Identifier: GPL-3.0-or-later
"""Rollout settings: targets, batch size and failure threshold, in the module_utils, the filters and the play headers."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.filter import rollout as F
from ansible_collections.phaseout.antivirus.plugins.module_utils import rollout as R

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)


# --- targets ------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('wave_pilot', 'wave_pilot'), (' all ', 'all'), ('wave_1:&linux', 'wave_1:&linux'), ('web01,web02', 'web01,web02'),
])
def test_targets_accepted(value, expected):
    assert R.check_targets(value) == expected


@pytest.mark.parametrize('value, message', [
    (None, 'needs an explicit target'), ('', 'needs an explicit target'), ('   ', 'needs an explicit target'),
    ('wave_1::wave_2', 'empty part'), ('wave_1,', 'empty part'), (['wave_1'], 'must be a host pattern'),
])
def test_targets_refused(value, message):
    with pytest.raises(R.RolloutError, match=message):
        R.check_targets(value, 'contain')


def test_targets_error_names_the_phase_and_how_to_say_all():
    with pytest.raises(ValueError) as caught:
        R.check_targets('', 'replace')
    assert str(caught.value).startswith('replace needs an explicit target') and '"all"' in str(caught.value)


# --- serial -------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    (1, 1), ('10', 10), (' 25 % ', '25%'), ('100%', '100%'), ('1%', '1%'),
    ('1,10%,100%', [1, '10%', '100%']), ([1, '50%'], [1, '50%']),
])
def test_serial_accepted(value, expected):
    assert R.check_serial(value) == expected


@pytest.mark.parametrize('value, message', [
    (0, 'at least one host'), ('0', 'at least one host'), (-1, 'not a batch size'), ('-1', 'not a batch size'),
    ('abc', 'not a batch size'), ('0%', 'from 1% to 100%'), ('101%', 'from 1% to 100%'), ('1.5', 'not a batch size'),
    (True, 'not a boolean'), (None, 'empty'), ('', 'empty'), ([], 'empty list'), ('1,,2', 'not a batch size'),
    (2.5, 'expected a positive number'),
])
def test_serial_refused(value, message):
    with pytest.raises(R.RolloutError, match=message):
        R.check_serial(value)


# --- max_fail_percentage ------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [(0, 0), ('5', 5), ('5%', 5), (100, 100), (' 30 ', 30)])
def test_max_fail_accepted(value, expected):
    assert R.check_max_fail(value) == expected


@pytest.mark.parametrize('value', [-1, '101', 101, 'abc', True, None, '', '1.5'])
def test_max_fail_refused(value):
    with pytest.raises(R.RolloutError, match='phaseout_max_fail_percentage'):
        R.check_max_fail(value)


def test_the_names_the_cli_looks_for():
    assert R.validate_serial('10%') == '10%' and R.validate_max_fail_percentage('5') == 5
    assert R.validate_max_fail is R.check_max_fail and R.validate_targets('all') == 'all'


def test_filters_raise_a_filter_error_with_the_same_message():
    assert F.rollout_targets('wave_1', 'contain') == 'wave_1'
    assert F.rollout_serial('10') == 10 and F.rollout_max_fail('0') == 0
    with pytest.raises(AnsibleFilterError, match='contain needs an explicit target'):
        F.rollout_targets('', 'contain')
    with pytest.raises(AnsibleFilterError, match="phaseout_serial 'abc'"):
        F.rollout_serial('abc')
    with pytest.raises(AnsibleFilterError, match='from 0 to 100'):
        F.rollout_max_fail(101)


# --- the play headers, on a real ansible-playbook run ----------------------------------------------

INVENTORY = '''all:
  hosts:
    h1: {ansible_connection: local}
    h2: {ansible_connection: local}
  children:
    wave_1:
      hosts: {h1: {}}
'''


def _run(tmp_path, playbook, *extra):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory),
                          os.path.join(ROOT, 'playbooks', playbook)] + list(extra),
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    return run.returncode, run.stdout + run.stderr


needs_ansible = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, 'ansible-playbook')),
                                   reason='ansible not in the venv')


@needs_ansible
@pytest.mark.parametrize('playbook, phase', [('contain.yml', 'contain'), ('site.yml', 'site')])
def test_phases_that_change_hosts_refuse_to_run_without_a_target(tmp_path, playbook, phase):
    rc, output = _run(tmp_path, playbook)
    assert rc != 0
    assert '%s needs an explicit target' % phase in output
    assert 'TASK [' not in output, 'nothing ran'


@needs_ansible
@pytest.mark.parametrize('extra, message', [
    (['-e', 'phaseout_serial=0'], 'a batch must hold at least one host'),
    (['-e', 'phaseout_serial=abc'], "phaseout_serial 'abc' is not a batch size"),
    (['-e', 'phaseout_max_fail_percentage=101'], 'expected a percentage from 0 to 100'),
])
def test_site_checks_batch_settings_before_any_phase(tmp_path, extra, message):
    rc, output = _run(tmp_path, 'site.yml', '-e', 'phaseout_targets=wave_1', *extra)
    assert rc != 0 and message in output
    assert 'TASK [' not in output, 'nothing ran, discover included'


@needs_ansible
def test_read_only_phases_refuse_an_empty_target(tmp_path):
    rc, output = _run(tmp_path, 'discover.yml', '-e', 'phaseout_targets=')
    assert rc != 0 and 'discover needs an explicit target' in output
