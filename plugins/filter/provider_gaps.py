# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""What a replacement still lacks for a stage of the swap."""

from __future__ import annotations

DOCUMENTATION = r'''
---
name: provider_gaps
short_description: List what a replacement provider still lacks before the next step of the swap
version_added: 0.1.0
description:
  - Takes the health contract a provider role's C(verify) entry point sets (C(phaseout_provider_health)) and
    returns the list of unmet requirements for O(expect).
  - V(staged), before Kaspersky is touched, requires the provider installed, its daemon running, signatures
    present and the EICAR test file detected on demand; real-time protection may still be off.
  - V(active), after Kaspersky is gone, also requires real-time protection on and the EICAR file blocked on
    access (when the provider reports that test).
  - An empty list means the requirement is met.
options:
  _input:
    description: The health dict (installed, running, realtime, signatures_present, eicar_detected, eicar_blocked, issues).
    type: dict
    required: true
  expect:
    description: The stage to check for.
    type: str
    choices: [staged, active]
    default: staged
'''

EXAMPLES = r'''
- name: Refuse to touch Kaspersky until the replacement can detect
  ansible.builtin.assert:
    that: phaseout_provider_health | phaseout.antivirus.provider_gaps('staged') | length == 0
'''

RETURN = r'''
_value:
  description: Human-readable unmet requirements, empty when ready.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError

STAGED = (
    ('installed', 'the replacement is not installed'),
    ('running', 'the replacement daemon is not running'),
    ('signatures_present', 'no signatures are loaded'),
    ('eicar_detected', 'the on-demand scan did not detect the EICAR test file'),
)
ACTIVE = STAGED + (
    ('realtime', 'real-time protection is off'),
)


def provider_gaps(health, expect='staged'):
    if not isinstance(health, dict):
        raise AnsibleFilterError('provider_gaps expects the provider health dict, got %s' % type(health).__name__)
    if expect not in ('staged', 'active'):
        raise AnsibleFilterError("provider_gaps: expect must be 'staged' or 'active', got %r" % (expect,))
    if not health:
        return ['the provider reported no health (its verify step did not run)']
    gaps = [message for key, message in (STAGED if expect == 'staged' else ACTIVE) if health.get(key) is not True]
    if expect == 'active' and health.get('eicar_blocked') is False:
        gaps.append('on-access scanning did not block the EICAR test file')
    return gaps


class FilterModule:
    def filters(self):
        return {'provider_gaps': provider_gaps}
