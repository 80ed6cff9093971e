# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Filters for the play headers: validate the target, batch size and failure threshold before any host is touched.

Play keywords (hosts, serial, max_fail_percentage) are templated before any
task runs, so a filter in the header is the only place that can stop a bad
value before Ansible acts on it. The rules live in
plugins/module_utils/rollout.py (also used by bin/phaseout and the tests).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.module_utils import rollout


def _plain(value):
    """Template results may be tagged str/int subclasses: hand plain values to the pure functions."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def rollout_targets(value, phase='this phase'):
    try:
        return rollout.check_targets(_plain(value), str(phase))
    except rollout.RolloutError as exc:
        raise AnsibleFilterError(str(exc))


def rollout_serial(value):
    try:
        return rollout.check_serial(_plain(value))
    except rollout.RolloutError as exc:
        raise AnsibleFilterError(str(exc))


def rollout_max_fail(value):
    try:
        return rollout.check_max_fail(_plain(value))
    except rollout.RolloutError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {
            'rollout_targets': rollout_targets,
            'rollout_serial': rollout_serial,
            'rollout_max_fail': rollout_max_fail,
        }
