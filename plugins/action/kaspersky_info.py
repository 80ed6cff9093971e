# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""kaspersky_info on any host: the Linux module as is, or one Windows collector call
classified on the controller (see the module docs and plugins/module_utils/windows.py)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows

MODULE = 'phaseout.antivirus.kaspersky_info'

ARGUMENT_SPEC = {
    'vendor': {'type': 'str', 'default': 'kaspersky', 'choices': sorted(catalog.VENDORS)},
    # Ignored on Windows: the collector reads the registry, not the products' CLIs.
    'query_cli': {'type': 'bool', 'default': True},
}


def is_windows(connection):
    shell = getattr(connection, '_shell', None)
    return getattr(shell, 'SHELL_FAMILY', None) == 'powershell'


def collect(action, task_vars, vendor):
    """One read-only collector call; returns (raw, error message or None)."""
    raw = action._execute_module(module_name=windows.COLLECTOR_MODULE,
                                 module_args=windows.collector_args(vendor),
                                 task_vars=task_vars)
    if raw.get('failed') or raw.get('unreachable'):
        return raw, 'the Windows collector (%s) failed on the host: %s' % (
            windows.COLLECTOR_MODULE, raw.get('msg', 'no message'))
    return raw, None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        try:
            if not is_windows(self._connection):
                result.update(self._execute_module(module_name=MODULE, module_args=self._task.args,
                                                   task_vars=task_vars))
                return result
            _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
            raw, error = collect(self, task_vars, args['vendor'])
            if error:
                raise AnsibleActionFail(error, result={'rc': raw.get('rc'), 'exception': raw.get('exception')})
            result.update(windows.classify(raw, vendor=args['vendor']))
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
