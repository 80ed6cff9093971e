# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for driving the Windows side without Windows: fixtures of the collector's output,
a fake WinRM connection (PowerShell shell family) and a recording fake of _execute_module."""
from __future__ import annotations

import copy
import hashlib
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
JOURNAL = 'phaseout.antivirus.swap_journal'
JOURNAL_PATH = 'C:\\ProgramData\\phaseout\\journal.json'
ADMINS, SYSTEM, USERS = 'S-1-5-32-544', 'S-1-5-18', 'S-1-5-32-545'
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


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def protected_acl():
    """The ACL Set-PhaseoutJournalAcl gives the folder and the file."""
    return {'owner': ADMINS, 'protected': True,
            'rules': [{'sid': ADMINS, 'rights': 2032127, 'type': 'Allow', 'inherited': False, 'inherit_only': False},
                      {'sid': SYSTEM, 'rights': 2032127, 'type': 'Allow', 'inherited': False, 'inherit_only': False}]}


class FakeJournalFile:
    """%ProgramData%\\phaseout\\journal.json on the fake host, with PhaseoutJournal.psm1's semantics:
    Read-PhaseoutJournal's facts, and writes that are compare-and-swap on the SHA-256 of the file and give
    the folder and the file the protected ACL. ``writes`` keeps every text written (to check them)."""

    def __init__(self, text=None, acl=None, directory_acl=None, error=None):
        self.text = text
        self.acl = acl or protected_acl()
        self.directory_acl = directory_acl or protected_acl()
        self.error = error
        self.writes = []

    def facts(self):
        facts = {'path': JOURNAL_PATH, 'exists': self.text is not None or self.error is not None, 'text': None,
                 'sha256': '', 'error': None, 'acl': None, 'directory_acl': copy.deepcopy(self.directory_acl)}
        if self.error is not None:
            facts.update(error=self.error, sha256=None)
        elif self.text is not None:
            facts.update(text=self.text, sha256=sha256(self.text), acl=copy.deepcopy(self.acl))
        return facts

    def sha(self):
        return sha256(self.text) if self.text is not None else ''

    def write(self, text, expected, remove=False):
        """Write-PhaseoutJournal: raises (nothing written) when the file changed since it was read."""
        if self.error is not None:
            raise RuntimeError('Access to the path %s is denied.' % JOURNAL_PATH)
        if self.sha() != (expected or '').lower():
            raise RuntimeError('the journal %s changed since it was read (%s then, %s now): another run is writing it'
                               % (JOURNAL_PATH, expected or 'no journal', self.sha() or 'no journal'))
        self.text = None if remove else text
        self.acl, self.directory_acl = protected_acl(), protected_acl()
        self.writes.append(None if remove else text)
        return self.sha()

    def journal(self):
        return json.loads(self.text) if self.text is not None else None


class FakeRemote:
    """Stands in for ActionBase._execute_module and records every call (one call = one WinRM round trip).

    ``collector``: the successive outputs of the collector (the journal facts of ``journal_file`` are added
    when an output has none); ``packages``: product code -> rc (or a callable) for win_package;
    ``residue``: a callable(module_args) -> result; ``journal_file``: the host's journal file (a
    FakeJournalFile; none by default); ``before_call``: a callable(module_name) run first (to change the
    host between two calls).
    """

    def __init__(self, task, collector=(), packages=None, residue=None, linux=None, journal_file=None,
                 before_call=None):
        self.task = task
        self.collector = [copy.deepcopy(c) for c in collector]
        self.packages = packages or {}
        self.residue = residue
        self.linux = linux
        self.journal_file = journal_file if journal_file is not None else FakeJournalFile()
        self.before_call = before_call
        self.calls = []

    def _journal_module(self, module_args):
        """swap_journal.ps1: read, write, remove."""
        action = module_args.get('_journal_action', 'read')
        result = {'changed': False, 'written': False, 'journal_file': self.journal_file.facts()}
        if action == 'read':
            return result
        assert not self.task.check_mode, 'swap_journal was asked to write in check mode'
        try:
            result['sha256'] = self.journal_file.write(module_args.get('_journal_text'),
                                                       module_args.get('_journal_expected', ''),
                                                       remove=action == 'remove')
        except RuntimeError as exc:
            return dict(result, failed=True, msg='swap_journal: the journal could not be written: %s; the journal '
                                                 'is unchanged' % exc)
        return dict(result, changed=True, written=True)

    def _residue_module(self, module_args):
        """win_kaspersky_residue with its journal option: text first, the clean-up, done_text on success."""
        journal = module_args.get('journal')
        state = None
        if journal is not None:
            state = {'written': [], 'sha256': journal.get('expected', ''), 'error': None}
            if journal.get('text') is not None:
                try:
                    state['sha256'] = self.journal_file.write(journal['text'], journal.get('expected', ''))
                    state['written'].append('text')
                except RuntimeError as exc:
                    state['error'] = str(exc)
                    return {'failed': True, 'changed': False, 'journal_file': state, 'removed': [], 'skipped': [],
                            'errors': [], 'msg': 'refusing to clean up: the swap journal could not be written (%s); '
                                                 'nothing was changed' % exc}
        result = self.residue(module_args)
        if state is not None:
            if not result.get('failed') and journal.get('done_text') is not None:
                try:
                    state['sha256'] = self.journal_file.write(journal['done_text'], state['sha256'])
                    state['written'].append('done_text')
                except RuntimeError as exc:
                    state['error'] = str(exc)
            result = dict(result, journal_file=state)
        return result

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append({'module': module_name, 'args': copy.deepcopy(module_args),
                           'no_log': self.task.no_log, 'check_mode': self.task.check_mode})
        if self.before_call is not None:
            self.before_call(module_name)
        if module_name == COLLECTOR:
            out = copy.deepcopy(self.collector.pop(0) if len(self.collector) > 1 else self.collector[0])
            out.setdefault('journal', self.journal_file.facts())
            return out
        if module_name == JOURNAL and '_journal_action' in (module_args or {}):
            return self._journal_module(module_args)
        if module_name == WIN_PACKAGE:
            outcome = self.packages.get(module_args['product_id'], 0)
            if callable(outcome):
                return outcome(module_args)
            if outcome == 'absent':
                return win_package_result(module_args, rc=0, changed=False)
            return win_package_result(module_args, rc=outcome)
        if module_name == RESIDUE:
            return self._residue_module(module_args)
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
