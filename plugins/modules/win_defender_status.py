#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is win_defender_status.ps1.

from __future__ import annotations

DOCUMENTATION = r'''
---
module: win_defender_status
short_description: Read Microsoft Defender's state on Windows and optionally run the EICAR test
version_added: 0.1.0
description:
  - Returns the raw Defender state (C(Get-MpComputerStatus) fields, the Windows-Defender feature on servers, the
    WinDefend and Sense services, Defender policy values, C(ForceDefenderPassiveMode) and the Defender for Endpoint
    C(OnboardingState)) and, with O(eicar=true), the outcome of writing the EICAR test file to a temporary folder.
  - Makes no decision; the P(phaseout.antivirus.defender_health#filter) filter turns this into the provider
    health contract.
  - The EICAR file is generated from hex at run time, deleted afterwards, and raises a (test) detection in
    Defender and Defender for Endpoint; tell the SOC.
author:
  - phaseout maintainers (@phaseout)
options:
  eicar:
    description: Write the EICAR test file and report whether Defender blocked or removed it.
    type: bool
    default: false
  eicar_wait_seconds:
    description: How long to wait for Defender to remove the file.
    type: int
    default: 10
  eicar_dir:
    description: Folder for the test file; the module's temporary folder by default.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the state; the EICAR test is skipped in check mode.
  diff_mode:
    support: none
  platform:
    platforms: [windows]
seealso:
  - module: phaseout.antivirus.kaspersky_info
'''

EXAMPLES = r'''
- name: Read Defender's state and test it with EICAR
  phaseout.antivirus.win_defender_status:
    eicar: true
  register: defender_status

- name: Decide whether Defender is healthy
  ansible.builtin.set_fact:
    phaseout_provider_health: >-
      {{ defender_status.defender | phaseout.antivirus.defender_health(
           eicar=defender_status.eicar, now=defender_status.collected_at, os=defender_status.os) }}
'''

RETURN = r'''
os:
  description: C(product_type) (1 workstation, 2 domain controller, 3 server), C(caption), C(version), C(build), C(architecture).
  returned: always
  type: dict
collected_at:
  description: Host UTC time of the read (ISO 8601).
  returned: always
  type: str
defender:
  description: Raw Defender state (status, status_error, feature, services, policies, passive_mode, mde).
  returned: always
  type: dict
eicar:
  description:
    - C(attempted); when attempted C(path), C(write_error), C(write_hresult), C(removed), C(read_error), C(read_hresult),
      C(detected) (a Defender detection recorded for the file), C(waited_seconds), C(cleanup_error).
  returned: always
  type: dict
'''
