# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""kaspersky_info on any host: the Linux module as is, or one Windows collector call
classified on the controller (see the module docs and plugins/module_utils/windows.py)."""

from __future__ import annotations

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.plugin_utils.dispatch import LinuxOrWindowsAction

ARGUMENT_SPEC = {
    'vendor': {'type': 'str', 'default': 'kaspersky', 'choices': sorted(catalog.VENDORS)},
    # Ignored on Windows: the collector reads the registry, not the products' CLIs.
    'query_cli': {'type': 'bool', 'default': True},
}


class ActionModule(LinuxOrWindowsAction):
    MODULE = 'phaseout.antivirus.kaspersky_info'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run_windows(self, result, args, task_vars):
        result.update(self.detect_windows(task_vars, args['vendor']))
        return result
