# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Filters over kaspersky_info results."""

from __future__ import annotations

DOCUMENTATION = r'''
---
name: detection_summary
short_description: The short form of a kaspersky_info result used in records and diffs
version_added: 0.1.0
description:
  - Reduces a M(phaseout.antivirus.kaspersky_info) result to its verdict, installed products, residue and
    leftovers (as C(type:path) strings).
options:
  _input:
    description: A kaspersky_info result.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show the short form
  ansible.builtin.debug:
    msg: "{{ kaspersky | phaseout.antivirus.detection_summary }}"
'''

RETURN = r'''
_value:
  description: verdict, installed, residue, leftovers, kernel_modules.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.module_utils.linux_remove import summarize_state


def detection_summary(detection):
    if not isinstance(detection, dict):
        raise AnsibleFilterError('detection_summary expects a kaspersky_info result (a dict), got %s'
                                 % type(detection).__name__)
    if not detection or 'verdict' not in detection:
        return {}
    return summarize_state({
        'verdict': detection['verdict'],
        'installed': detection.get('installed', []),
        'residue': detection.get('residue', []),
        'leftovers': detection.get('leftovers', []),
        'kernel_modules': detection.get('kernel_modules', []),
    })


class FilterModule:
    def filters(self):
        return {'detection_summary': detection_summary}
