# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""swap_journal on any host.

Linux: the module runs as is (plugins/modules/swap_journal.py). Windows: one call of the thin
swap_journal.ps1 reads the journal file (text, SHA-256, ACLs), the new journal is decided here with the
Linux module's own ``plan()`` and the journal functions (plugins/module_utils/journal.py), and a second
call writes it (atomic, compare-and-swap on the SHA-256 read, Administrators and SYSTEM only). Nothing to
change, or check mode: the read only.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_journal
from ansible_collections.phaseout.antivirus.plugins.modules import swap_journal as journal_module
from ansible_collections.phaseout.antivirus.plugins.plugin_utils.dispatch import LinuxOrWindowsAction

ARGUMENT_SPEC = journal_module.ARGUMENT_SPEC
_DIFF_KEYS = ('state', 'step', 'outcome')


class ActionModule(LinuxOrWindowsAction):
    MODULE = 'phaseout.antivirus.swap_journal'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def _call(self, module_args, task_vars):
        raw = dict(self._execute_module(module_name=windows_journal.JOURNAL_MODULE, module_args=module_args,
                                        task_vars=task_vars))
        raw.pop('invocation', None)
        return raw

    def _write(self, task_vars, action, expected, text=None):
        if expected is None:
            raise AnsibleActionFail('swap_journal: the journal %s exists but could not be read, so it is not changed; '
                                    'fix its permissions or remove it by hand' % windows_journal.PATH)
        args = {'_journal_action': action, '_journal_expected': expected}
        if text is not None:
            args['_journal_text'] = text
        res = self._call(args, task_vars)
        if res.get('failed') or not res.get('written'):
            raise AnsibleActionFail(res.get('msg') or 'swap_journal: the journal was not written',
                                    result={'path': windows_journal.PATH})
        return res

    def run_windows(self, result, args, task_vars):
        read = self._call({'_journal_action': 'read'}, task_vars)
        if read.get('failed') or read.get('unreachable'):
            raise AnsibleActionFail('swap_journal: the journal could not be read on the host: %s'
                                    % read.get('msg', 'no message'))
        facts = read.get('journal_file') or {}
        path = facts.get('path') or windows_journal.PATH
        current, error, sha = windows_journal.read(facts)
        check = self._task.check_mode
        if error:
            if args['state'] != 'absent':
                raise AnsibleActionFail('swap_journal: %s; read it, reconcile the host, then remove it with state=absent'
                                        % error, result={'path': path})
            if not check:
                self._write(task_vars, 'remove', sha)
            result.update(changed=True, msg='unreadable journal removed (%s)' % error, path=path, journal=None)
            return result
        try:
            new, changed, msg = journal_module.plan(current, args)
        except ValueError as exc:
            raise AnsibleActionFail('swap_journal: %s' % exc,
                                    result={'path': path, 'journal': swap_journal.summary(current)}) from None
        before = swap_journal.summary(current) or {}
        after = swap_journal.summary(new) or {}
        if changed and not check:
            if args['state'] == 'absent':
                self._write(task_vars, 'remove', sha)
            else:
                self._write(task_vars, 'write', sha, swap_journal.dumps(new))
        result.update(changed=changed, msg=msg, path=path, journal=after or None,
                      diff={'before': {k: before.get(k) for k in _DIFF_KEYS},
                            'after': {k: after.get(k) for k in _DIFF_KEYS}})
        return result
