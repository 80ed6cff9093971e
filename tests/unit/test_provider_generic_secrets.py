# SPDX-License-Identifier: GPL-3.0-or-later
"""provider_generic: a token given in a vendor command's argv never reaches the output, at any verbosity.

Runs the role's real task files (activate, verify, and the command file that
stage uses) with ansible-playbook -vvvv on localhost: vendor commands that
print the token on stdout, fail with it on stderr, and a health command that
fails with it. With ``secret: true`` the token must appear nowhere, including
the rescue's ansible_failed_result and the health issues; the same run with
``secret: false`` shows it (the test can fail).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
TOKEN = 'Reg-T0ken-4b9d1e77c3'

PRINTS = ['sh', '-c', 'echo "registered with $1"', 'sh']
FAILS = ['sh', '-c', 'echo "bad token $1" >&2; exit 3', 'sh']
OFF = ['sh', '-c', 'echo "rtp off for $1"; exit 1', 'sh']


def playbook(secret):
    def cmd(argv):
        return {'argv': argv + ['{{ vendor_token }}'], 'secret': secret}
    return [{
        'name': 'Vendor commands with a token in their arguments',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars_files': ['token.yml'],
        'vars': {'provider_generic_name': 'testav', 'provider_generic_package_name': 'phaseout-no-such-package'},
        'tasks': [
            {'name': 'Run the stage command file the way stage does',
             'ansible.builtin.include_role': {'name': 'phaseout.antivirus.provider_generic', 'tasks_from': 'command'},
             'loop': "{{ [stage] | phaseout.antivirus.vendor_commands('provider_generic_stage_commands', "
                     "'stage command', true) }}",
             'loop_control': {'loop_var': '__provider_generic_command', 'label': '{{ __provider_generic_command.label }}'},
             'vars': {'stage': dict(cmd(PRINTS), creates='/nonexistent/phaseout-test-marker')}},
            {'name': 'Activate with a failing secret command',
             'block': [{'name': 'Include activate',
                        'ansible.builtin.include_role': {'name': 'phaseout.antivirus.provider_generic',
                                                         'tasks_from': 'activate'},
                        'vars': {'provider_generic_realtime_command': cmd(OFF),
                                 'provider_generic_activate_commands': [cmd(PRINTS), cmd(FAILS), cmd(PRINTS)]}}],
             'rescue': [{'name': 'Show what failed', 'ansible.builtin.debug': {'var': 'ansible_failed_result'}},
                        {'name': 'Show the failed task', 'ansible.builtin.debug': {'var': 'ansible_failed_task.name'}}]},
            {'name': 'Verify with a failing secret health command',
             'ansible.builtin.include_role': {'name': 'phaseout.antivirus.provider_generic', 'tasks_from': 'verify'},
             'vars': {'provider_generic_health_command': cmd(FAILS), 'provider_generic_realtime_command': cmd(OFF),
                      'provider_generic_eicar_scan_command': cmd(FAILS),
                      'provider_generic_verify_fail_on_unhealthy': False, 'provider_generic_verify_eicar': True,
                      'provider_generic_verify_expect_realtime': False}},
            {'name': 'Show the health issues as a report would hold them',
             'ansible.builtin.debug': {'var': 'phaseout_provider_health'}},
        ],
    }]


@pytest.mark.skipif(not os.path.exists(os.path.join(BIN, 'ansible-playbook')), reason='ansible not in the venv')
@pytest.mark.parametrize('secret', [True, False], ids=['secret', 'control-not-secret'])
def test_a_token_in_argv_never_reaches_the_output(tmp_path, secret):
    (tmp_path / 'token.yml').write_text(yaml.safe_dump({'vendor_token': TOKEN}))
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(playbook(secret), sort_keys=False))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-vvvv', '-i', 'localhost,', '-c', 'local',
                          str(tmp_path / 'play.yml')], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    # the run did what it was meant to: the stage command ran, activation stopped at its second command
    # (the third never ran), the health command failed
    assert 'stage command 1 (sh)' in output
    assert 'activation command 2 (sh) failed with rc 3' in output
    assert 'activation command 3 (sh)' not in output.split('Show what failed')[0].split('activation command 2 (sh)')[-1]
    assert 'the health command failed (rc 3)' in output
    if secret:
        leak = output.find(TOKEN)
        assert leak < 0, 'the token leaked: ...%s...' % output[max(0, leak - 300):leak + 100]
        assert 'its arguments and output are hidden (secret: true)' in output
    else:
        assert TOKEN in output, 'the control run must show the token, or this test could not fail'


def test_every_command_task_of_the_role_hides_secret_commands():
    """Static guard: every command task of provider_generic runs a labelled, no_log-aware command."""
    tasks_dir = os.path.join(ROOT, 'roles', 'provider_generic', 'tasks')
    checked = 0
    for name in sorted(os.listdir(tasks_dir)):
        with open(os.path.join(tasks_dir, name), encoding='utf-8') as handle:
            tasks = yaml.safe_load(handle) or []
        stack = list(tasks)
        while stack:
            task = stack.pop()
            for key in ('block', 'rescue', 'always'):
                stack.extend(task.get(key) or [])
            command = task.get('ansible.builtin.command')
            vendor = ('__provider_generic_command', '__provider_generic_realtime', '__provider_generic_health',
                      '__provider_generic_scan', 'provider_generic_realtime_command', 'provider_generic_health_command',
                      'provider_generic_eicar_scan_command', 'provider_generic_activate_commands',
                      'provider_generic_stage_commands', 'item')
            argv = str((command or {}).get('argv', ''))
            if command and any(v in argv for v in vendor) and not argv.startswith("['dd'"):
                assert 'no_log' in task and 'secret' in str(task['no_log']), '%s: %s' % (name, task['name'])
                checked += 1
            label = (task.get('loop_control') or {}).get('label', '')
            assert 'argv' not in label and 'join' not in label, '%s: %s labels with the argv' % (name, task['name'])
    assert checked >= 6
