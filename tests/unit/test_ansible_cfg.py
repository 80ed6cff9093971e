# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible.cfg: production defaults (SSH control sockets in the user's home, pipelining, no fact gathering)."""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)


def _cfg():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(ROOT, 'ansible.cfg'), encoding='utf-8')
    return parser


def test_control_sockets_live_in_the_users_home_not_a_fixed_tmp_path():
    path = _cfg().get('ssh_connection', 'control_path_dir')
    assert path.startswith('~/'), 'a fixed path under /tmp can be created first by another local user: %s' % path
    assert '/tmp' not in path


def test_pipelining_on_and_facts_only_when_asked():
    cfg = _cfg()
    assert cfg.getboolean('ssh_connection', 'pipelining')
    assert cfg.get('defaults', 'gathering') == 'explicit'


@pytest.mark.skipif(not os.path.exists(os.path.join(BIN, 'ansible-config')), reason='ansible not in the venv')
def test_ansible_uses_it_and_the_ssh_plugin_expands_it_under_home(tmp_path):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), HOME=str(tmp_path))
    env.pop('ANSIBLE_SSH_CONTROL_PATH_DIR', None)
    run = subprocess.run([os.path.join(BIN, 'ansible-config'), 'dump', '-t', 'connection', '-f', 'json'],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    ssh = next(entry['ssh'] for entry in json.loads(run.stdout) if 'ssh' in entry)
    settings = {s['name']: s for s in ssh}
    configured = settings['control_path_dir']
    assert configured['origin'].endswith('ansible.cfg') and configured['value'].startswith('~/')
    from ansible.utils.path import unfrackpath  # what the ssh connection plugin applies to it
    old_home = os.environ.get('HOME')
    os.environ['HOME'] = str(tmp_path)
    try:
        assert unfrackpath(configured['value']).startswith(str(tmp_path) + '/')
    finally:
        os.environ['HOME'] = old_home
