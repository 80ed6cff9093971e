#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is win_kaspersky_residue.ps1.

from __future__ import annotations

DOCUMENTATION = r'''
---
module: win_kaspersky_residue
short_description: Remove an explicit list of Kaspersky leftovers from a Windows host
version_added: 0.1.0
description:
  - Thin executor used by M(phaseout.antivirus.kaspersky_uninstall) after the uninstallers ran. The action plugin
    decides on the controller what is residue and passes the exact items; this module removes those and nothing else.
  - Removes only the named values from device-class C(UpperFilters)/C(LowerFilters) multi-strings (never the whole
    value while others remain, since a wrong edit kills mouse or keyboard input), then leftover driver and service
    registrations, vendor root certificates from C(LocalMachine) stores, stale SecurityCenter2 entries, vendor
    registry roots and vendor folders, in that order.
  - Every item is checked again on the host against the vendor patterns and refused when it does not match.
  - Idempotent (an item already gone is skipped).
  - Refuses to delete anything of the vendor, and fails with nothing changed, while a service or driver matching
    O(service_pattern) runs or a process named in O(process_names) runs (the controller refuses first; this is the
    host-side guard).
  - Never follows reparse points. A junction or symbolic link inside a vendor folder is removed as a link, its
    target is not entered; a vendor folder that is itself a reparse point is refused.
  - O(logs) are the msiexec logs of the uninstallers that succeeded; only C(phaseout-uninstall-*.log) files are
    deleted, whether or not the vendor still runs.
author:
  - phaseout maintainers (@phaseout)
options:
  filters:
    description: Filter values to remove.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Device-class key, C(HKLM:\SYSTEM\CurrentControlSet\Control\Class\{GUID}).
        type: str
        required: true
      value:
        description: The multi-string value.
        type: str
        default: UpperFilters
        choices: [UpperFilters, LowerFilters]
      remove:
        description: Filter names to take out of the list.
        type: list
        elements: str
        required: true
  services:
    description: Service or driver names to delete (through Win32_BaseService.Delete, or the registry key when the SCM no longer knows them).
    type: list
    elements: str
    default: []
  certificates:
    description: Certificates to delete.
    type: list
    elements: dict
    default: []
    suboptions:
      store:
        description: C(LocalMachine\<store>).
        type: str
        required: true
      thumbprint:
        description: Certificate thumbprint.
        type: str
        required: true
  security_center:
    description: SecurityCenter2 AntiVirusProduct instance GUIDs to delete.
    type: list
    elements: str
    default: []
  registry_keys:
    description: Registry keys under C(HKLM:\SOFTWARE) to delete recursively.
    type: list
    elements: str
    default: []
  paths:
    description: Folders to delete recursively.
    type: list
    elements: str
    default: []
  logs:
    description: msiexec log files of successful uninstalls to delete (file names C(phaseout-uninstall-*.log)).
    type: list
    elements: str
    default: []
  process_names:
    description: Vendor process names (without C(.exe)); while one runs nothing of the vendor is deleted.
    type: list
    elements: str
    default: []
  service_pattern:
    description: Every service name must match this regular expression; while a matching service or driver runs,
      nothing of the vendor is deleted.
    type: str
    required: true
  filter_pattern:
    description: Every filter name must match this regular expression.
    type: str
    required: true
  certificate_pattern:
    description: Every certificate's subject or issuer must match this regular expression.
    type: str
    required: true
  name_pattern:
    description: Registry keys, folders and SecurityCenter2 entries must match this regular expression.
    type: str
    required: true
  journal:
    description:
      - The swap journal writes M(phaseout.antivirus.kaspersky_uninstall) folds into this call, so they cost no round
        trip of their own. The file is C(%ProgramData%\phaseout\journal.json); its content is decided on the
        controller.
      - O(journal.text) is written before anything is deleted or checked, as it records what already happened (the
        uninstallers); the module fails with nothing changed when it cannot be written.
      - O(journal.done_text) is written only when the clean-up succeeded.
      - Each write is atomic (temporary file in the same folder, flushed, then C([System.IO.File]::Replace)) and
        compare-and-swap, so the journal on the host must still have the SHA-256 O(journal.expected) (V('') for
        none), else nothing is written; the folder and the file allow Administrators and SYSTEM only.
    type: dict
    suboptions:
      expected:
        description: SHA-256 (hex) of the journal the controller decided from; V('') when there was none.
        type: str
        default: ''
      text:
        description: Journal content written before the clean-up.
        type: str
      done_text:
        description: Journal content written after a successful clean-up.
        type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be removed (C(-WhatIf)).
  diff_mode:
    support: full
  platform:
    platforms: [windows]
seealso:
  - module: phaseout.antivirus.kaspersky_uninstall
'''

EXAMPLES = r'''
# Normally called by the kaspersky_uninstall action plugin.
- name: Take the Kaspersky mouse filter out of the mouse class
  phaseout.antivirus.win_kaspersky_residue:
    filters:
      - key: HKLM:\SYSTEM\CurrentControlSet\Control\Class\{4D36E96F-E325-11CE-BFC1-08002BE10318}
        value: UpperFilters
        remove: [klmouflt]
    services: [klmouflt]
    service_pattern: '(?i)^klmouflt$'
    filter_pattern: '(?i)^klmouflt$'
    certificate_pattern: '(?i)kaspersky'
    name_pattern: '(?i)kaspersky'
'''

RETURN = r'''
removed:
  description: Items removed (or that would be, in check mode), each with C(type) and C(target).
  returned: always
  type: list
  elements: dict
  sample: [{type: filter, target: 'HKLM:\SYSTEM\CurrentControlSet\Control\Class\{4D36E96F-E325-11CE-BFC1-08002BE10318}\UpperFilters'}]
skipped:
  description: Items left alone, each with C(type), C(target) and C(reason) (already gone, running...).
  returned: always
  type: list
  elements: dict
errors:
  description: Items that could not be removed; the module fails when there is any.
  returned: always
  type: list
  elements: str
journal_file:
  description: What happened to the journal, with O(journal) given. C(written) lists V(text) and V(done_text) as
    they were written, C(sha256) is the journal's SHA-256 after them, C(error) why the last write failed.
  returned: when O(journal) is given
  type: dict
  sample: {written: [text, done_text], sha256: 3f0c..., error: null}
'''
