#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: preflight_check
short_description: Decide whether a host is ready for the swap, in one read-only call
version_added: 0.1.0
description:
  - Detects Kaspersky (as M(phaseout.antivirus.kaspersky_info) does) and reads the readiness facts of the
    host in the same call (free disk space, available memory, package-manager locks, a pending reboot,
    fanotify support, root), then decides.
  - Returns V(ready) with the list of C(blockers) (the replace phase leaves Kaspersky untouched when there is
    any) and C(warnings); every message names what to do about it.
  - Reads files only (C(/proc), C(statvfs), lock files); needs no helper package on the host.
  - On Windows hosts (WinRM, PSRP) the action plugin makes one call of the read-only collector of
    M(phaseout.antivirus.kaspersky_info) and decides on the controller from do-not-touch, the products phaseout
    does not remove (the Security Center Administration Server), Kaspersky encryption and a pending reboot.
    Free disk space and memory are not read there (a warning says so); O(min_free_mb), O(min_mem_mb) and
    O(required_realtime) apply to Linux only.
author:
  - phaseout maintainers (@phaseout)
options:
  vendor:
    description: The banned vendor to detect.
    type: str
    default: kaspersky
    choices: [kaspersky]
  min_free_mb:
    description: Free space needed on C(/), C(/var) and C(/opt), in MB.
    type: int
    default: 500
  min_mem_mb:
    description: Available memory below which a warning is given, in MB.
    type: int
    default: 256
  allow_pending_reboot:
    description: Accept a host with a reboot already pending (a warning instead of a blocker).
    type: bool
    default: true
  do_not_touch:
    description: The host is marked do-not-touch (for example a vital system outside its window); always a blocker.
    type: bool
    default: false
  required_realtime:
    description: The replacement needs fanotify for on-access scanning; a kernel without it is a blocker.
    type: bool
    default: true
  allow_encrypted:
    description:
      - Windows only. Kaspersky disk or file encryption is a warning instead of a blocker (decrypt first, or accept
        the removal knowingly). Ignored on Linux.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; returns the same data in check mode.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: [posix, windows]
'''

EXAMPLES = r'''
- name: Check readiness before the swap
  phaseout.antivirus.preflight_check:
    min_free_mb: 1000
  register: preflight

- name: Stop here when the host is not ready
  ansible.builtin.fail:
    msg: "{{ preflight.blockers | join('; ') }}"
  when: not preflight.ready
'''

RETURN = r'''
ready:
  description: True when there is no blocker.
  returned: always
  type: bool
blockers:
  description: Reasons the host must not be changed now, each naming the fix.
  returned: always
  type: list
  elements: str
  sample: ["package manager lock /var/lib/dpkg/lock-frontend is held by another process ..."]
warnings:
  description: Soft problems worth knowing (also shown as Ansible warnings).
  returned: when there are any
  type: list
  elements: str
facts:
  description: The readiness facts that were read (free_mb per mount, mem_available_mb, locks_held,
    reboot_required, fanotify, systemd, kernel, euid).
  returned: always
  type: dict
detection:
  description: The detection result, as M(phaseout.antivirus.kaspersky_info) returns it.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import run_command
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux import LinuxCollector, detect
from ansible_collections.phaseout.antivirus.plugins.module_utils.preflight import ARGUMENT_SPEC, evaluate, gather


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    collector = LinuxCollector(run_command)
    detection = detect(collector, vendor=params['vendor'], query_cli=False)
    facts = gather()
    decision = evaluate(facts, detection, min_free_mb=params['min_free_mb'], min_mem_mb=params['min_mem_mb'],
                        allow_pending_reboot=params['allow_pending_reboot'], do_not_touch=params['do_not_touch'],
                        required_realtime=params['required_realtime'])
    for warning in collector.warnings + decision.pop('warnings'):
        module.warn(warning)
    module.exit_json(changed=False, facts=facts, detection=detection, **decision)


if __name__ == '__main__':
    main()
