# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Why a host is not compliant, in words an operator can act on."""

from __future__ import annotations

DOCUMENTATION = r'''
---
name: attestation_reasons
short_description: List why a host fails its verify attestation
version_added: 0.1.0
description:
  - Takes the M(phaseout.antivirus.kaspersky_info) result and the provider health contract the verify phase
    collected and returns one line per reason the host is not compliant, for the fleet report's C(error)
    column and the attestation's C(reasons).
  - A swap the host's journal records as interrupted, and two real-time engines running at once, are reasons too.
  - An empty list means Kaspersky is gone and the replacement is healthy.
options:
  _input:
    description: The kaspersky_info result (or its O(phaseout.antivirus.detection_summary#filter:_input) short form).
    type: dict
    required: true
  health:
    description: The health contract of the replacement (C(phaseout_provider_health)); empty when it was not read.
    type: dict
    required: true
  provider:
    description: The provider name, prefixed to its issues.
    type: str
    default: replacement
  error:
    description: An error that stopped the checks, listed first.
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Explain a failed attestation
  ansible.builtin.debug:
    msg: "{{ kaspersky | phaseout.antivirus.attestation_reasons(phaseout_provider_health, 'clamav') }}"
'''

RETURN = r'''
_value:
  description: One human-readable reason per problem, empty when compliant.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError

MAX_LEFTOVERS = 3


def _leftover(item):
    if isinstance(item, dict):
        return item.get('path') or item.get('name') or '%s' % item.get('type', '?')
    return str(item).split(':', 1)[-1]


def attestation_reasons(kaspersky, health, provider='replacement', error=''):
    if kaspersky is not None and not isinstance(kaspersky, dict):
        raise AnsibleFilterError('attestation_reasons expects a kaspersky_info result (a dict), got %s'
                                 % type(kaspersky).__name__)
    if health is not None and not isinstance(health, dict):
        raise AnsibleFilterError('attestation_reasons expects the health contract (a dict) as health, got %s'
                                 % type(health).__name__)
    kaspersky, health = kaspersky or {}, health or {}
    reasons = [error] if error else []
    verdict = kaspersky.get('verdict')
    if not verdict:
        if not error:
            reasons.append('Kaspersky: the host could not be inspected')
    elif verdict != 'clean':
        products = list(kaspersky.get('installed') or []) + list(kaspersky.get('residue') or [])
        leftovers = [_leftover(item) for item in kaspersky.get('leftovers') or []]
        detail = ', '.join(products)
        if leftovers:
            shown = ', '.join(leftovers[:MAX_LEFTOVERS])
            more = len(leftovers) - MAX_LEFTOVERS
            detail += ('; ' if detail else '') + 'leftovers ' + shown + (' and %d more' % more if more > 0 else '')
        modules = list(kaspersky.get('kernel_modules') or [])
        if modules:
            detail += ('; ' if detail else '') + 'kernel modules ' + ', '.join(map(str, modules))
        reasons.append('Kaspersky %s: %s' % (verdict, detail or 'traces found'))
    journal = kaspersky.get('journal') or {}
    if journal.get('interrupted'):
        reasons.append('swap %s' % (journal.get('message') or 'interrupted'))
    protection = kaspersky.get('protection')
    if protection and '+' in str(protection):
        reasons.append('two real-time engines run: %s' % protection)
    if not health:
        if not error:
            reasons.append('%s: health not checked' % provider)
    elif not health.get('healthy'):
        issues = health.get('issues') or ['unhealthy (no reason given)']
        reasons.extend('%s: %s' % (provider, issue) for issue in issues)
    return reasons


class FilterModule:
    def filters(self):
        return {'attestation_reasons': attestation_reasons}
