# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Filters over Microsoft Defender's state; the decisions live in module_utils/windows_defender.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender as wd


def _state(defender, os=None):
    """Accept the raw state of win_defender_status / the collector or the normalized one of kaspersky_info."""
    if not isinstance(defender, dict):
        raise AnsibleFilterError('defender filters expect a dict (the defender state), got %s' % type(defender).__name__)
    if 'am_running_mode' in defender or 'feature_installed' in defender:
        return defender
    return wd.normalize(defender, os or {})


def defender_health(defender, eicar=None, now=None, os=None, max_signature_age_hours=48, require_eicar=True,
                    require_mde=False, expect_active=True):
    """The provider health contract (phaseout_provider_health) for Defender."""
    return wd.health(_state(defender, os), eicar=eicar, now=now,
                     max_signature_age_hours=int(max_signature_age_hours), require_eicar=bool(require_eicar),
                     require_mde=bool(require_mde), expect_active=bool(expect_active))


def defender_policy_fixes(defender, os=None):
    """Policy values ([{key, name}]) to delete so nothing keeps Defender off."""
    return wd.policy_fixes(_state(defender, os))


def defender_passive_mode(defender, phase, kaspersky_installed, os=None):
    """ForceDefenderPassiveMode value a phase wants (1, 0) or None to leave it."""
    try:
        return wd.passive_mode_target(_state(defender, os), phase, bool(kaspersky_installed))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


def defender_needs_feature(defender, os=None):
    """True when the Windows-Defender feature must be installed (servers)."""
    return wd.needs_feature(_state(defender, os))


def defender_needs_wdenable(defender, os=None):
    """True when MpCmdRun -wdenable should run."""
    return wd.needs_wdenable(_state(defender, os))


def defender_reboot_decision(results, allow_reboot=False):
    """Whether to reboot now, from results (win_feature, kaspersky_uninstall...) that may ask for one."""
    if isinstance(results, dict):
        results = [results]
    return wd.reboot_decision(results, allow_reboot)


class FilterModule:
    def filters(self):
        return {
            'defender_health': defender_health,
            'defender_policy_fixes': defender_policy_fixes,
            'defender_passive_mode': defender_passive_mode,
            'defender_needs_feature': defender_needs_feature,
            'defender_needs_wdenable': defender_needs_wdenable,
            'defender_reboot_decision': defender_reboot_decision,
        }
