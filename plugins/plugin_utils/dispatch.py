# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Controller-side base of the action plugins that serve Linux and Windows hosts.

On a POSIX host the Python module of the same name runs as is (minus the
Windows-only options, so that group_vars shared by a mixed fleet do not break
Linux hosts). On a PowerShell host the arguments are validated here and
``run_windows`` does the work with as few remote calls as it can.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.phaseout.antivirus.plugins.module_utils import windows


def is_windows(connection):
    shell = getattr(connection, '_shell', None)
    return getattr(shell, 'SHELL_FAMILY', None) == 'powershell'


def collect(action, task_vars, vendor):
    """One read-only Windows collector call; returns (raw, error message or None)."""
    raw = action._execute_module(module_name=windows.COLLECTOR_MODULE,
                                 module_args=windows.collector_args(vendor),
                                 task_vars=task_vars)
    if raw.get('failed') or raw.get('unreachable'):
        return raw, 'the Windows collector (%s) failed on the host: %s' % (
            windows.COLLECTOR_MODULE, raw.get('msg', 'no message'))
    return raw, None


class LinuxOrWindowsAction(ActionBase):
    """Subclasses set MODULE, ARGUMENT_SPEC (and WINDOWS_ONLY) and implement run_windows."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    MODULE = ''
    ARGUMENT_SPEC = {}
    WINDOWS_ONLY = frozenset()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        try:
            if not is_windows(self._connection):
                module_args = {k: v for k, v in self._task.args.items() if k not in self.WINDOWS_ONLY}
                result.update(self._execute_posix_module(module_args, task_vars))
                return result
            _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
            return self.run_windows(result, args, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _execute_posix_module(self, module_args, task_vars):
        """Run the Python module of MODULE, never its PowerShell twin of the same name.

        A module name with both a .py and a .ps1 file (swap_journal) is otherwise resolved by whichever
        file the directory listing returns first: on a POSIX connection ask for the .py explicitly.
        """
        connection = self._connection
        saved = connection.__dict__.get('module_implementation_preferences')
        connection.module_implementation_preferences = ('.py', '')
        try:
            return self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            if saved is None:
                del connection.module_implementation_preferences
            else:
                connection.module_implementation_preferences = saved

    def run_windows(self, result, args, task_vars):
        raise NotImplementedError

    def detect_windows(self, task_vars, vendor):
        """One read-only collector call, classified here (kaspersky_info's Windows result)."""
        raw, error = collect(self, task_vars, vendor)
        if error:
            raise AnsibleActionFail(error, result={'rc': raw.get('rc'), 'exception': raw.get('exception')})
        return windows.classify(raw, vendor=vendor)
