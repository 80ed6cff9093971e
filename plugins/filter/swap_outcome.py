# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""What a failed swap means for a host's protection, decided from its real state."""

from __future__ import annotations

DOCUMENTATION = r'''
---
name: swap_outcome
short_description: Classify a failed swap from the host's real state (never two engines, never silently none)
version_added: 0.2.0
description:
  - Takes M(phaseout.antivirus.kaspersky_info)'s result read after a failure and returns the replace outcome, the
    reason, the real-time engines that run, and whether the fallback provider may be installed.
  - V(unreachable) when the host was lost; V(failed) when Kaspersky protects it (or, loudly, when two engines run);
    V(removal_incomplete) when the replacement protects it and a later step failed; V(degraded) when the replacement
    runs but fails its health contract; V(fallback) (with C(fallback=true)) when nothing protects it and a fallback
    provider is configured; V(unprotected) otherwise.
  - The fallback is allowed only when nothing protects the host.
options:
  _input:
    description: kaspersky_info's result after the failure (may be unreachable).
    type: dict
    required: true
  provider:
    description: The replacement provider of the swap.
    type: str
    required: true
  failed_step:
    description: The name of the step that failed.
    type: str
    default: ''
  error:
    description: The failure's message.
    type: str
    default: ''
  lost_during:
    description: The step during which the host became unreachable, if it did.
    type: str
    default: ''
  replacement_active:
    description: The provider's own real-time check, for providers kaspersky_info does not know (null otherwise).
    type: bool
  fallback_provider:
    description: The configured fallback provider (V(none) for none).
    type: str
    default: none
  verification_failed:
    description: Whether the failure is the replacement's health contract after it was activated.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Decide what the failure means for this host
  ansible.builtin.set_fact:
    decision: "{{ after | phaseout.antivirus.swap_outcome('clamav', failed_step='remove', error=msg) }}"
'''

RETURN = r'''
_value:
  description: The decision.
  type: dict
  contains:
    outcome:
      description: The replace outcome.
      type: str
    error:
      description: Why, in words.
      type: str
    fallback:
      description: Whether the fallback provider may be installed (nothing protects the host).
      type: bool
    engines:
      description: The real-time engines running (V(none), V(unknown), V(clamav), V(kaspersky+clamav)...).
      type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.module_utils import outcome
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal


def swap_outcome(detection, provider, failed_step='', error='', lost_during='', replacement_active=None,
                 fallback_provider='none', verification_failed=False):
    if detection is not None and not isinstance(detection, dict):
        raise AnsibleFilterError('swap_outcome expects the kaspersky_info result (a dict), got %s'
                                 % type(detection).__name__)
    return outcome.after_failure(detection, provider, failed_step=failed_step, error=error, lost_during=lost_during,
                                 replacement_active=replacement_active, fallback_provider=fallback_provider,
                                 verification_failed=bool(verification_failed))


def outcome_status(name):
    return outcome.status_of(str(name))


def dry_run_outcome(detection, provider):
    return outcome.dry_run(detection if isinstance(detection, dict) else {}, provider)


def journal_summary(journal):
    """The report's view of a raw swap journal (swap_journal's ``journal``); anything else is returned as it is."""
    if isinstance(journal, dict) and 'state' in journal and 'step' in journal and 'interrupted' not in journal:
        return swap_journal.summary(journal)
    return journal


class FilterModule:
    def filters(self):
        return {'swap_outcome': swap_outcome, 'outcome_status': outcome_status, 'dry_run_outcome': dry_run_outcome,
                'journal_summary': journal_summary}
