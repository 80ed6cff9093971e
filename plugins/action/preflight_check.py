# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""preflight_check on any host: the Linux module as is, or one Windows collector call
decided on the controller (plugins/module_utils/preflight.py: evaluate_windows)."""

from __future__ import annotations

from ansible_collections.phaseout.antivirus.plugins.module_utils.preflight import ARGUMENT_SPEC, evaluate_windows
from ansible_collections.phaseout.antivirus.plugins.plugin_utils.dispatch import LinuxOrWindowsAction


class ActionModule(LinuxOrWindowsAction):
    MODULE = 'phaseout.antivirus.preflight_check'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run_windows(self, result, args, task_vars):
        detection = self.detect_windows(task_vars, args['vendor'])
        decision = evaluate_windows(detection, allow_pending_reboot=args['allow_pending_reboot'],
                                    do_not_touch=args['do_not_touch'])
        facts = {'platform': 'windows', 'os': detection['windows']['os'],
                 'pending_reboot': detection['windows']['pending_reboot']}
        result.update(changed=False, facts=facts, detection=detection, **decision)
        if decision['warnings']:
            result['warnings'] = list(result.get('warnings', [])) + decision['warnings']
        return result
