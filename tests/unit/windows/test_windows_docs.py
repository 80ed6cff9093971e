# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-doc renders every Windows-facing module and filter; each .ps1 module has its doc stub
and declares the options its stub documents."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

BIN = os.path.dirname(sys.executable)
MODULES = ('win_kaspersky_collect', 'win_kaspersky_residue', 'win_defender_status', 'kaspersky_info', 'swap_journal')
FILTERS = ('defender_health', 'defender_policy_fixes', 'defender_passive_mode', 'defender_needs_feature',
           'defender_needs_wdenable', 'defender_reboot_decision')


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    return subprocess.run([os.path.join(BIN, 'ansible-doc')] + list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(not os.path.exists(os.path.join(BIN, 'ansible-doc')), reason='ansible-doc not in the venv')
def test_ansible_doc_renders():
    run = ansible_doc('--json', *['phaseout.antivirus.%s' % m for m in MODULES])
    assert run.returncode == 0, run.stderr
    for module in MODULES:
        assert 'phaseout.antivirus.%s' % module in run.stdout
    run = ansible_doc('-t', 'filter', '--json', *['phaseout.antivirus.%s' % f for f in FILTERS])
    assert run.returncode == 0, run.stderr
    assert '[WARNING]' not in run.stderr and '[ERROR]' not in run.stderr


@pytest.mark.parametrize('module', ['win_kaspersky_collect', 'win_kaspersky_residue', 'win_defender_status',
                                    'swap_journal'])
def test_ps1_spec_matches_its_documentation(module):
    """The options a .ps1 declares are the documented ones; those starting with an underscore are set by the
    collection's action plugins only (as ansible.windows.win_copy's _copy_mode) and stay undocumented."""
    base = os.path.join(ROOT, 'plugins', 'modules', module)
    with open(base + '.ps1', encoding='utf-8') as handle:
        ps1 = handle.read()
    namespace = {}
    with open(base + '.py', encoding='utf-8') as handle:
        exec(compile(handle.read(), base + '.py', 'exec'), namespace)  # noqa: S102 - our own doc stub
    doc = yaml.safe_load(namespace['DOCUMENTATION'])
    options_block = ps1.split('options = @{', 1)[1].split('supports_check_mode', 1)[0]
    top_level = set(re.findall(r'^        (\w+) = @\{', options_block, re.M))
    assert {o for o in top_level if not o.startswith('_')} == set(doc['options'])
    assert '#AnsibleRequires -CSharpUtil Ansible.Basic' in ps1
    assert 'supports_check_mode = $true' in ps1
    assert doc['attributes']['check_mode']['support'] == 'full'


BUILD_SCRIPT = """
import sys
from ansible import context
from ansible.executor import module_common
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, module_loader
from ansible.template import Templar

context.CLIARGS = ImmutableDict()
init_plugin_loader([sys.argv[1]])
for name in sys.argv[2:]:
    path = module_loader.find_plugin('phaseout.antivirus.' + name, mod_type='.ps1')
    assert path and path.endswith(name + '.ps1'), (name, path)
    built = module_common.modify_module(module_name='phaseout.antivirus.' + name, module_path=path, module_args={},
                                        templar=Templar(loader=DataLoader()), task_vars={}, environment={})
    assert built.module_style == 'new' and len(built.b_module_data) > 10000, name
    utils = [b'ansible_collections.phaseout.antivirus.plugins.module_utils.%s.psm1' % u
             for u in (b'PhaseoutDefender', b'PhaseoutJournal')]
    print(name, len(built.b_module_data), *[u in built.b_module_data for u in utils])
"""


def test_powershell_payloads_build():
    """Ansible can wrap each module for WinRM (its #AnsibleRequires utilities resolve, and the shared
    PowerShell utils travel with the modules that load them: PhaseoutDefender.psm1 with the collector and
    win_defender_status, PhaseoutJournal.psm1 with the collector, the residue module and swap_journal).

    Runs in a subprocess: the plugin loader installs a global collection finder."""
    modules = ['win_kaspersky_collect', 'win_kaspersky_residue', 'win_defender_status', 'swap_journal']
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    run = subprocess.run([sys.executable, '-c', BUILD_SCRIPT, os.path.join(ROOT, 'collections')] + modules,
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [line.split()[0] for line in run.stdout.splitlines()] == modules
    embeds = {line.split()[0]: tuple(word == 'True' for word in line.split()[2:]) for line in run.stdout.splitlines()}
    # (PhaseoutDefender, PhaseoutJournal)
    assert embeds == {'win_kaspersky_collect': (True, True), 'win_kaspersky_residue': (False, True),
                      'win_defender_status': (True, False), 'swap_journal': (False, True)}
