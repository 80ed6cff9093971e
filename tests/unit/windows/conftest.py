# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for driving the Windows side without Windows: fixtures of the collector's output,
a fake WinRM connection (PowerShell shell family) and a recording fake of _execute_module."""
from __future__ import annotations

import copy
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
COLLECTIONS = os.path.join(ROOT, 'collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')

COLLECTOR = 'phaseout.antivirus.win_kaspersky_collect'
RESIDUE = 'phaseout.antivirus.win_kaspersky_residue'
WIN_PACKAGE = 'ansible.windows.win_package'

KES_PASSWORD = 'Kes-Pa55 "w0rd"'
AGENT_PASSWORD = 'we1c0me!'


def load(name):
    with open(os.path.join(FIXTURES, name + '.json'), encoding='utf-8') as handle:
        return json.load(handle)


class FakeShell:
    def __init__(self, family):
        self.SHELL_FAMILY = family
        self.tmpdir = None


class FakeConnection:
    def __init__(self, family='powershell'):
        self._shell = FakeShell(family)
        self.socket_path = None


class FakeTask:
    def __init__(self, action, args, check_mode=False):
        self.action = action
        self.args = dict(args)
        self.check_mode = check_mode
        self.no_log = False
        self.async_val = 0
        self.diff = False
        self.environment = []


def win_package_result(module_args, rc=0, changed=True, failed=False):
    """What ansible.windows.win_package returns, including its echo of the arguments."""
    result = {
        'changed': changed,
        'rc': rc,
        'reboot_required': rc == 3010,
        'invocation': {'module_args': dict(module_args, chdir=None, creates_path=None, provider='auto')},
    }
    if failed:
        command = 'C:\\Windows\\System32\\msiexec.exe /x %s /L*V "%s" /qn /norestart %s' % (
            module_args['product_id'], module_args.get('log_path', ''), module_args.get('arguments', ''))
        result.update(failed=True, stdout='', stderr='',
                      msg="unexpected rc from '%s': see rc, stdout, and stderr for more details" % command,
                      log='=== Verbose logging started ===\r\nProperty(S): ProductCode = %s\r\n'
                          'Property(S): CMDLINE = %s\r\n' % (module_args['product_id'], module_args.get('arguments')))
    return result


class FakeRemote:
    """Stands in for ActionBase._execute_module and records every call (one call = one WinRM round trip).

    ``collector``: the successive outputs of the collector; ``packages``: product code -> rc
    (or a callable) for win_package; ``residue``: a callable(module_args) -> result.
    """

    def __init__(self, task, collector=(), packages=None, residue=None, linux=None):
        self.task = task
        self.collector = [copy.deepcopy(c) for c in collector]
        self.packages = packages or {}
        self.residue = residue
        self.linux = linux
        self.calls = []

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append({'module': module_name, 'args': copy.deepcopy(module_args),
                           'no_log': self.task.no_log, 'check_mode': self.task.check_mode})
        if module_name == COLLECTOR:
            if len(self.collector) > 1:
                return copy.deepcopy(self.collector.pop(0))
            return copy.deepcopy(self.collector[0])
        if module_name == WIN_PACKAGE:
            outcome = self.packages.get(module_args['product_id'], 0)
            if callable(outcome):
                return outcome(module_args)
            if outcome == 'absent':
                return win_package_result(module_args, rc=0, changed=False)
            return win_package_result(module_args, rc=outcome)
        if module_name == RESIDUE:
            return self.residue(module_args)
        if self.linux is not None:
            return self.linux(module_name, module_args)
        raise AssertionError('unexpected module call %s' % module_name)

    def modules(self):
        return [c['module'] for c in self.calls]


def residue_ok(module_args):
    """What win_kaspersky_residue returns when every item it was given existed and went."""
    removed = []
    for item in module_args.get('filters') or ():
        removed.append({'type': 'filter', 'target': '%s\\%s' % (item['key'], item['value'])})
    for name in module_args.get('services') or ():
        removed.append({'type': 'driver' if name.lower().startswith('kl') or name.lower() == 'kneps' else 'service',
                        'target': name})
    for cert in module_args.get('certificates') or ():
        removed.append({'type': 'certificate', 'target': cert['thumbprint']})
    for guid in module_args.get('security_center') or ():
        removed.append({'type': 'security_center_entry', 'target': guid})
    for key in module_args.get('registry_keys') or ():
        removed.append({'type': 'registry_key', 'target': key})
    for path in module_args.get('paths') or ():
        removed.append({'type': 'path', 'target': path})
    for log in module_args.get('logs') or ():
        removed.append({'type': 'log', 'target': log})
    return {'changed': bool(removed), 'removed': removed, 'skipped': [], 'errors': [],
            'diff': {'before': {}, 'after': {}}, 'invocation': {'module_args': module_args}}


def make_action(module, args, family='powershell', check_mode=False, **remote):
    """An action plugin instance wired to a fake connection and a recording fake remote."""
    task = FakeTask('phaseout.antivirus.%s' % module.__name__.rsplit('.', 1)[-1], args, check_mode=check_mode)
    action = module.ActionModule(task, FakeConnection(family), None, None, None, None)
    fake = FakeRemote(task, **remote)
    action._execute_module = fake
    return action, fake


@pytest.fixture
def fixture():
    return load
