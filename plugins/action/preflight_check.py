# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""preflight_check on any host: the Linux module as is, or one Windows collector call
decided on the controller (plugins/module_utils/preflight.py: evaluate_windows)."""

from __future__ import annotations

from ansible_collections.phaseout.antivirus.plugins.module_utils import preflight
from ansible_collections.phaseout.antivirus.plugins.module_utils.preflight import evaluate_windows
from ansible_collections.phaseout.antivirus.plugins.plugin_utils.dispatch import LinuxOrWindowsAction

# Windows only (dropped before the Linux module runs): encryption becomes a warning, as
# kaspersky_uninstall's allow_encrypted lets the removal go on.
WINDOWS_ONLY = frozenset(('allow_encrypted',))
ARGUMENT_SPEC = dict(preflight.ARGUMENT_SPEC, allow_encrypted={'type': 'bool', 'default': False})


class ActionModule(LinuxOrWindowsAction):
    MODULE = 'phaseout.antivirus.preflight_check'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    WINDOWS_ONLY = WINDOWS_ONLY
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run_windows(self, result, args, task_vars):
        detection = self.detect_windows(task_vars, args['vendor'])
        decision = evaluate_windows(detection, allow_pending_reboot=args['allow_pending_reboot'],
                                    do_not_touch=args['do_not_touch'], allow_encrypted=args['allow_encrypted'])
        defender = detection['windows']['defender']
        facts = {'platform': 'windows', 'os': detection['windows']['os'],
                 'pending_reboot': detection['windows']['pending_reboot'],
                 'encryption': detection['windows']['encryption'],
                 'realtime_protection_active': detection['realtime_protection_active'],
                 'defender': {k: defender.get(k) for k in ('am_running_mode', 'antivirus_enabled',
                                                           'realtime_protection_enabled', 'feature_installed',
                                                           'running', 'is_server')}}
        result.update(changed=False, facts=facts, detection=detection, **decision)
        if decision['warnings']:
            result['warnings'] = list(result.get('warnings', [])) + decision['warnings']
        return result
