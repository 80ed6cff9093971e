# -*- coding: utf-8 -*-
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""phaseout's own code raises no Ansible deprecation warning.

Three cheap runs, each with deprecation warnings on and the project's
ansible.cfg, that fail on any deprecation, naming where it came from:
- deprecations.yml (next to this file): the controller-side plugins on this
  machine over the local connection, read-only: the kaspersky_info and
  preflight_check action plugins with their Linux modules, the
  detection_summary filter and the fleet_report action plugin. A module that
  passes ``warnings`` to ``exit_json`` shows up here;
- ansible-doc --metadata-dump of the collection: the documentation of every
  module, filter and role (deprecated doc fragments, markup, loader routing);
- ansible-playbook --syntax-check of every phase playbook: the playbooks and
  the roles and argument specs they load.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'deprecations.yml')
MARK = '[DEPRECATION WARNING]'


def run(argv, tmp_path, **env):
    """Run an ansible command from an empty directory with deprecation warnings on."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    clean.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        ANSIBLE_DEPRECATION_WARNINGS='true',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'),
        **env
    )
    proc = subprocess.run([os.path.join(BIN, argv[0])] + argv[1:], cwd=str(tmp_path), env=clean,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, '%s failed (rc=%s):\n%s\n%s' % (
        ' '.join(argv), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def printed_deprecations(text):
    """The [DEPRECATION WARNING] paragraphs of Ansible's output, each as one string."""
    found = []
    for block in text.split('\n['):
        if block.startswith(MARK) or block.startswith(MARK[1:]):
            found.append(' '.join(block.split()))
    return found


def test_controller_plugins_raise_no_deprecation(tmp_path):
    artifacts = tmp_path / 'artifacts'
    proc = run(['ansible-playbook', '-i', 'localhost,', '--check', '-e', 'sanity_artifacts=%s' % artifacts,
                PLAYBOOK], tmp_path, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
    report = json.loads(proc.stdout)
    ran, deprecations, written = [], [], []
    for play in report['plays']:
        for task in play['tasks']:
            result = task['hosts'].get('localhost', {})
            if not result.get('skipped') and not result.get('failed'):
                ran.append(task['task']['name'])
            for item in result.get('deprecations') or []:
                deprecations.append('%s: %s' % (task['task']['name'], item.get('msg', item)))
            written += result.get('files') or []
    deprecations += printed_deprecations(proc.stderr)
    assert not deprecations, 'deprecation warnings from phaseout code:\n' + '\n'.join(deprecations)
    # the test can only pass if every task of the playbook ran and fleet_report wrote its files
    assert len(ran) == 4, ran
    assert written and all(os.path.isfile(path) and path.startswith(str(artifacts)) for path in written), written


def test_docs_raise_no_deprecation(tmp_path):
    proc = run(['ansible-doc', '--metadata-dump', 'phaseout.antivirus'], tmp_path)
    dumped = json.loads(proc.stdout)['all']
    assert dumped['module'] and dumped['filter'] and dumped['role'], sorted(dumped)
    deprecations = printed_deprecations(proc.stderr)
    assert not deprecations, 'deprecation warnings from phaseout docs:\n' + '\n'.join(deprecations)


def test_playbooks_raise_no_deprecation(tmp_path):
    playbooks = sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))
    assert playbooks
    # phaseout_targets: the phases that insist on an explicit target get one
    proc = run(['ansible-playbook', '-i', 'localhost,', '-e', 'phaseout_targets=all', '--syntax-check'] + playbooks,
               tmp_path)
    deprecations = printed_deprecations(proc.stderr + proc.stdout)
    assert not deprecations, 'deprecation warnings from phaseout playbooks:\n' + '\n'.join(deprecations)
