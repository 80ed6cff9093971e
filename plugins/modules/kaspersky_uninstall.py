#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers

from __future__ import annotations

DOCUMENTATION = r'''
---
module: kaspersky_uninstall
short_description: Remove Kaspersky products and their leftovers, in the documented order
version_added: 0.1.0
description:
  - Detects what is on the host (the same detection as M(phaseout.antivirus.kaspersky_info)), plans the
    removal and runs it step by step.
  - On Linux the order is, stop and disable the services (the Network Agent first, so the Administration
    Server cannot push a task mid-removal), remove the packages through the host's package manager in the
    documented order (GUI, endpoint product, file server product, Network Agent), stop processes that
    outlived their package, then purge the documented leftovers (data directories, unit files and init
    scripts, kernel modules, Kaspersky repository entries and keys).
  - Vendor-wide directories and repository entries are purged only when no Kaspersky product stays installed,
    so O(exclude=[klnagent]) keeps everything the agent still needs.
  - Reports whether a reboot is needed (a Kaspersky kernel module is still loaded).
  - In check mode it returns the exact plan without touching anything. A failure part-way leaves a host that
    the next run, which plans again from a fresh detection, can finish.
  - On Windows the action plugin plans in Python and removes each product through
    M(ansible.windows.win_package) by product code; see the Windows options.
author:
  - phaseout maintainers
options:
  vendor:
    description: The banned vendor whose products to remove.
    type: str
    default: kaspersky
    choices: [kaspersky]
  products:
    description:
      - Catalog ids of the products to remove, for example V(kesl) or V(klnagent).
      - Default is every removable product found installed or as residue.
      - A product that is not removed by phaseout (the Administration Server) is refused with an error.
    type: list
    elements: str
    default: []
  exclude:
    description: Catalog ids to keep, for example V(klnagent) to keep the Network Agent until last.
    type: list
    elements: str
    default: []
  force:
    description:
      - When a package's maintainer scripts fail, remove it without them (dpkg, the C(prerm) and C(postrm)
        scripts are set aside, then C(dpkg --purge --force-remove-reinstreq); rpm, C(rpm -e --noscripts)).
      - Off by default; use it only after reading the error of a normal run.
    type: bool
    default: false
  purge_leftovers:
    description: Delete leftover directories, unit files and kernel modules after the packages are gone.
    type: bool
    default: true
  purge_repositories:
    description: Remove Kaspersky apt and yum repository files and keys (or comment out their lines in shared files).
    type: bool
    default: true
  stop_services:
    description: Stop and disable the products' services before removing the packages.
    type: bool
    default: true
  activate:
    description:
      - Linux only. The replacement's activation, run inside this module right after Kaspersky's services are
        stopped and before any package is removed, so the host is unprotected only for as long as the replacement
        takes to start (RV(unprotected_window_s)).
      - If the activation or its check fails, the services this run stopped are started again and the module
        fails with nothing removed; the host stays protected by Kaspersky.
      - The replace role fills this from the provider (for ClamAV, starting clamonacc and waiting for its fanotify marks).
    type: dict
    suboptions:
      command:
        description: Command (argv list) that turns the replacement's real-time protection on.
        type: list
        elements: str
        required: true
      check:
        description: Command (argv list) polled until it exits 0, confirming real-time protection is on.
        type: list
        elements: str
      timeout:
        description: Seconds to wait for O(activate.check) to succeed.
        type: int
        default: 60
  kes_password:
    description:
      - Windows only. Password of the KES password-protection account (C(KLPASSWD)).
    type: str
  kes_login:
    description: Windows only. Account name of KES password protection (C(KLLOGIN)).
    type: str
    default: KLAdmin
  agent_password:
    description: Windows only. Network Agent uninstall password (C(KLUNINSTPASSWD)).
    type: str
  agent_password_encoding:
    description:
      - Windows only. How O(agent_password) is encoded into C(KLUNINSTPASSWD).
      - V(utf16le_hex) is what most documented scripts use; V(ascii_hex) is the older variant.
    type: str
    choices: [utf16le_hex, ascii_hex]
    default: utf16le_hex
  log_dir:
    description: Windows only. Directory on the host for the msiexec logs (C(/l*v)).
    type: str
    default: C:\Windows\Temp
  allow_encrypted:
    description: Windows only. Remove even when Kaspersky disk or file encryption is detected.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Returns the plan and changes nothing.
  diff_mode:
    support: full
    details: The diff shows the verdict, installed products and leftovers before and after.
  platform:
    platforms: [posix, windows]
notes:
  - Needs root on Linux.
  - Expect SIEM alerts while Kaspersky is stopped (for example the Sigma rule for a stopped KESL).
seealso:
  - module: phaseout.antivirus.kaspersky_info
'''

EXAMPLES = r'''
- name: Remove every Kaspersky product and its leftovers
  phaseout.antivirus.kaspersky_uninstall:
  register: removal

- name: Remove the endpoint product but keep the Network Agent for now
  phaseout.antivirus.kaspersky_uninstall:
    exclude: [klnagent]

- name: Remove the Network Agent last
  phaseout.antivirus.kaspersky_uninstall:
    products: [klnagent]

- name: Show what a removal would do
  phaseout.antivirus.kaspersky_uninstall:
  check_mode: true
  register: plan
'''

RETURN = r'''
plan:
  description: The ordered steps, each with C(action), C(product), C(target) and a human-readable C(description).
  returned: always
  type: list
  elements: dict
  sample: [{action: stop_service, product: klnagent, target: klnagent64, description: stop service klnagent64}]
executed:
  description: The steps that ran (all of them on success; the completed ones on failure).
  returned: always
  type: list
  elements: dict
removed:
  description: Catalog ids of the products removed (or that would be removed in check mode).
  returned: always
  type: list
  elements: str
  sample: [kesl, klnagent]
reboot_required:
  description: Whether a reboot is needed to finish (a Kaspersky kernel module is still loaded).
  returned: always
  type: bool
reboot_reasons:
  description: Why a reboot is needed.
  returned: always
  type: list
  elements: str
before:
  description: Verdict, installed products, residue and leftovers before the run.
  returned: always
  type: dict
after:
  description: The same after the run (equal to RV(before) in check mode).
  returned: always
  type: dict
detection:
  description: The full detection result after the run, as M(phaseout.antivirus.kaspersky_info) returns it.
  returned: always
  type: dict
failed_step:
  description: The step that failed.
  returned: on failure
  type: dict
was_protected:
  description: Whether a Kaspersky endpoint or file server product was running before the run.
  returned: always
  type: bool
unprotected_window_s:
  description:
    - Seconds (host clock) from stopping Kaspersky's real-time protection to the replacement's confirmed activation,
      when O(activate) was given and Kaspersky was protecting the host; null otherwise.
  returned: always
  type: float
  sample: 1.84
rolled_back:
  description: The activation failed and Kaspersky's stopped services were started again.
  returned: on failure
  type: bool
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils.catalog import VENDORS
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux import LinuxCollector, detect
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux_remove import (
    Remover, RemovalError, describe, plan_removal, protecting, rollback_steps, summarize_state,
)


ARGUMENT_SPEC = dict(
    vendor=dict(type='str', default='kaspersky', choices=sorted(VENDORS)),
    products=dict(type='list', elements='str', default=[]),
    exclude=dict(type='list', elements='str', default=[]),
    force=dict(type='bool', default=False),
    purge_leftovers=dict(type='bool', default=True),
    purge_repositories=dict(type='bool', default=True),
    stop_services=dict(type='bool', default=True),
    kes_password=dict(type='str', no_log=True),
    kes_login=dict(type='str', default='KLAdmin'),
    agent_password=dict(type='str', no_log=True),
    activate=dict(type='dict', options=dict(
        command=dict(type='list', elements='str', required=True),
        check=dict(type='list', elements='str'),
        timeout=dict(type='int', default=60),
    )),
    agent_password_encoding=dict(type='str', default='utf16le_hex', choices=['utf16le_hex', 'ascii_hex'], no_log=False),
    log_dir=dict(type='str', default='C:\\Windows\\Temp'),
    allow_encrypted=dict(type='bool', default=False),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    if os.geteuid() != 0:
        module.fail_json(msg='kaspersky_uninstall must run as root to remove packages: use become: true')

    def fresh_detection():
        collector = LinuxCollector(module.run_command)
        return detect(collector, vendor=params['vendor'], query_cli=False)

    before_detection = fresh_detection()
    before = summarize_state(before_detection)
    try:
        plan, warnings = plan_removal(
            before_detection, products=params['products'], exclude=params['exclude'], force=params['force'],
            purge_leftovers=params['purge_leftovers'], purge_repositories=params['purge_repositories'],
            stop_services=params['stop_services'], activate=params['activate'],
        )
    except ValueError as exc:
        module.fail_json(msg='kaspersky_uninstall: %s' % exc, before=before)
    for warning in warnings:
        module.warn(warning)
    for step in plan:
        step['description'] = describe(step)
    removed = sorted({s['product'] for s in plan if s['product']})
    was_protected = bool(before_detection.get('realtime_protection_active'))
    result = dict(changed=False, plan=plan, executed=[], removed=removed, reboot_required=False,
                  reboot_reasons=[], before=before, after=before, detection=before_detection,
                  was_protected=was_protected, unprotected_window_s=None)

    if not plan:
        module.exit_json(**result)
    if module.check_mode:
        result['changed'] = True
        result['diff'] = dict(before=before, after={'verdict': 'planned', 'plan': [s['description'] for s in plan]})
        module.exit_json(**result)

    remover = Remover(module.run_command, which=lambda name: module.get_bin_path(name))
    changed = False
    stopped_at = active_at = None
    for step in plan:
        if stopped_at is None and was_protected and protecting(before_detection, step):
            stopped_at = time.time()
        try:
            changed = remover.execute(step) or changed
        except (RemovalError, OSError) as exc:
            msg = 'kaspersky_uninstall: step "%s" failed: %s' % (step['description'], exc)
            if step['action'] == 'activate_replacement':
                restored = []
                for back in rollback_steps(result['executed']):
                    try:
                        remover.execute(back)
                        restored.append(back['target'])
                    except (RemovalError, OSError) as back_exc:
                        msg += '; restarting %s failed too: %s' % (back['target'], back_exc)
                result['rolled_back'] = True
                msg += ('; nothing was removed and Kaspersky\'s services (%s) were started again'
                        % ', '.join(sorted(set(restored))) if restored else '; nothing was removed')
            after_detection = fresh_detection()
            result.update(changed=True, after=summarize_state(after_detection), detection=after_detection,
                          failed_step=step, reboot_reasons=remover.reboot_reasons)
            extra = {}
            if isinstance(exc, RemovalError):
                extra = dict(rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
            else:
                msg += '; check permissions and that the path is not in use'
            module.fail_json(msg=msg + ' (completed steps are in "executed"; rerun to continue)', **dict(result, **extra))
        if step['action'] == 'activate_replacement':
            active_at = time.time()
        result['executed'].append(step)

    if stopped_at is not None and active_at is not None:
        result['unprotected_window_s'] = round(max(active_at - stopped_at, 0.0), 3)

    after_detection = fresh_detection()
    after = summarize_state(after_detection)
    reasons = list(remover.reboot_reasons)
    if after_detection.get('kernel_modules') and not reasons:
        reasons.append('kernel modules still loaded: %s' % ', '.join(after_detection['kernel_modules']))
    result.update(changed=changed or before != after, after=after, detection=after_detection,
                  reboot_required=bool(reasons), reboot_reasons=reasons,
                  diff=dict(before=before, after=after))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
