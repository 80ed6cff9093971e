# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight: facts read from a fake tree, and the readiness decision."""
from __future__ import annotations

import subprocess
import sys

from ansible_collections.phaseout.antivirus.plugins.module_utils import preflight

GOOD = {'free_mb': {'/': 5000, '/var': 5000, '/opt': 5000, '/tmp': 100}, 'mem_available_mb': 2048,
        'locks_held': [], 'reboot_required': False, 'fanotify': True, 'euid': 0}
KESL = {'products': [{'id': 'kesl', 'name': 'KESL', 'state': 'installed', 'removable': True}]}


def test_ready_host():
    assert preflight.evaluate(GOOD, KESL) == {'ready': True, 'blockers': [], 'warnings': []}


def test_each_blocker_names_the_fix():
    facts = dict(GOOD, free_mb={'/': 120, '/var': 5000}, locks_held=['/var/lib/dpkg/lock-frontend'],
                 euid=1000, fanotify=False)
    detection = {'products': [{'id': 'ksc_server', 'name': 'Kaspersky Security Center Administration Server',
                               'state': 'installed', 'removable': False}],
                 'windows': {'encryption': {'detected': True}}}
    result = preflight.evaluate(facts, detection, do_not_touch=True)
    assert result['ready'] is False
    text = '\n'.join(result['blockers'])
    for expected in ('do-not-touch', 'become: true', 'only 120 MB free on /', 'lock-frontend is held',
                     'no fanotify', 'Administration Server is installed', 'decrypt first'):
        assert expected in text
    assert len(result['blockers']) == 7


def test_soft_problems_are_warnings_unless_asked():
    facts = dict(GOOD, mem_available_mb=100, reboot_required=True)
    result = preflight.evaluate(facts, KESL)
    assert result['ready'] is True and len(result['warnings']) == 2
    strict = preflight.evaluate(facts, KESL, allow_pending_reboot=False)
    assert strict['ready'] is False and 'reboot first' in strict['blockers'][0]


def test_lock_detection_with_a_real_lock(tmp_path):
    lock = tmp_path / 'lock-frontend'
    lock.write_text('')
    assert preflight.lock_held(str(lock)) is False
    holder = subprocess.Popen([sys.executable, '-c', (
        'import fcntl,os,sys,time\n'
        'fd=os.open(%r,os.O_RDWR)\nfcntl.lockf(fd,fcntl.LOCK_EX)\nprint("locked",flush=True)\ntime.sleep(30)\n'
    ) % str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        assert preflight.lock_held(str(lock)) is True
    finally:
        holder.kill()
        holder.wait()
    assert preflight.lock_held(str(tmp_path / 'absent')) is False


def test_gather_reads_a_fake_tree(tmp_path):
    (tmp_path / 'proc' / 'sys' / 'kernel').mkdir(parents=True)
    (tmp_path / 'proc' / 'sys' / 'kernel' / 'osrelease').write_text('6.1.0-28-amd64\n')
    (tmp_path / 'proc' / 'meminfo').write_text('MemTotal: 2000000 kB\nMemAvailable: 1048576 kB\n')
    (tmp_path / 'boot').mkdir()
    (tmp_path / 'boot' / 'config-6.1.0-28-amd64').write_text('CONFIG_FANOTIFY=y\n# CONFIG_FANOTIFY_ACCESS_PERMISSIONS is not set\n')
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'reboot-required').write_text('')
    facts = preflight.gather(root=str(tmp_path))
    assert facts['kernel'] == '6.1.0-28-amd64'
    assert facts['mem_available_mb'] == 1024
    assert facts['fanotify'] is True and facts['fanotify_access_permissions'] is False
    assert facts['reboot_required'] is True
    assert facts['free_mb']['/'] > 0


def test_an_interrupted_swap_and_two_engines_are_warnings_not_blockers():
    from ansible_collections.phaseout.antivirus.plugins.module_utils import preflight
    detection = {'products': [], 'protection': 'kaspersky+clamav',
                 'journal': {'interrupted': True, 'message': 'interrupted at step kaspersky_stopped'}}
    decision = preflight.evaluate({'euid': 0}, detection)
    assert decision['ready'] and decision['blockers'] == []
    assert decision['warnings'] == [
        'the last swap was interrupted at step kaspersky_stopped; replace resumes from it (protection now: '
        'kaspersky+clamav)', 'two real-time engines run at once (kaspersky+clamav): replace stops Kaspersky first']
