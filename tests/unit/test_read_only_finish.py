# SPDX-License-Identifier: GPL-3.0-or-later
"""discover and preflight fail the job for hosts they could not read, after the report; report-only opts out.

Real ansible-playbook runs of playbooks/discover.yml and playbooks/preflight.yml
against hosts that cannot be reached (SSH to a closed port on 127.0.0.1), so no
host is read or changed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)

INVENTORY = '''all:
  vars:
    ansible_connection: ssh
    ansible_host: 127.0.0.1
    ansible_port: 1
    ansible_user: nobody
  hosts:
    gone01: {}
    vital01: {phaseout_do_not_touch: true}
'''

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, 'ansible-playbook')),
                                reason='ansible not in the venv')


def _run(tmp_path, playbook, *extra):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_SSH_ARGS='-o ConnectTimeout=3 -o BatchMode=yes', ANSIBLE_TIMEOUT='5')
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory),
                          os.path.join(ROOT, 'playbooks', playbook), '-e', 'phaseout_artifacts_dir=%s' % tmp_path]
                         + list(extra), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    return run.returncode, run.stdout + run.stderr


def _summary(tmp_path, phase):
    with open(tmp_path / phase / 'summary.json', encoding='utf-8') as handle:
        return json.load(handle)


def test_discover_fails_unreadable_hosts_after_writing_the_report(tmp_path):
    rc, output = _run(tmp_path, 'discover.yml')
    assert rc == 2, output[-3000:]
    assert 'gone01 could not be read (unreachable)' in output
    assert 'discover_report_only=true' in output
    assert _summary(tmp_path, 'discover')['summary']['hosts'] == 2, 'the report came first and lists every host'


def test_discover_report_only_stays_green(tmp_path):
    rc, output = _run(tmp_path, 'discover.yml', '-e', 'discover_report_only=true')
    assert rc == 0, output[-3000:]
    assert _summary(tmp_path, 'discover')['summary']['status'] == {'unreachable': 2}


def test_preflight_fails_unreachable_hosts_but_never_do_not_touch_ones(tmp_path):
    rc, output = _run(tmp_path, 'preflight.yml')
    assert rc == 2, output[-3000:]
    assert 'gone01: unreachable' in output
    assert 'vital01: unreachable' not in output, 'a do-not-touch host is a deliberate exclusion'
    recap = {line.split()[0]: line for line in output.splitlines() if ' : ok=' in line}
    assert 'failed=1' in recap['gone01'] and 'failed=0' in recap['vital01'], recap
    assert _summary(tmp_path, 'preflight')['summary']['hosts'] == 2


def test_preflight_report_only_stays_green(tmp_path):
    rc, output = _run(tmp_path, 'preflight.yml', '-e', 'preflight_report_only=true')
    assert rc == 0, output[-3000:]
