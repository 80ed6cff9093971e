#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
  - When O(activate) is given, Kaspersky's services are stopped, the replacement is started and its real-time
    protection confirmed, the replacement is enabled at boot, and only then are Kaspersky's services disabled (the
    point of no return). A failure before it rolls back (the replacement deactivated, Kaspersky's services
    re-enabled and started as they were, on systemd and SysV hosts alike); a failure after it keeps the replacement
    active and Kaspersky stopped and disabled, and names the step that did not finish.
  - With O(journal), the host keeps a journal of the swap in C(/var/lib/phaseout/journal.json), rewritten
    atomically around every step (V(staged), V(kaspersky_stopped), V(replacement_active), V(kaspersky_removed),
    V(cleaned)). A run
    on a host whose journal is open (an interrupted swap) resumes from it, deciding from the real state of Kaspersky
    and of the replacement (RV(decision)); the services an interrupted run stopped are restored from the journal.
  - Once the swap starts, the module ignores SIGHUP, SIGINT and SIGPIPE, so a killed controller or a lost connection
    does not stop it between stopping Kaspersky and confirming the replacement.
  - Every command runs under a timeout (O(command_timeout)); package removals first wait, up to O(lock_timeout),
    for the package manager's lock; a process is signalled only after checking it is still the one detection saw
    (same pid and start time; through a pidfd where the kernel has them).
  - In check mode it returns the exact plan, checkpoints and the point of no return included, without touching
    anything. A failure part-way leaves a host that the next run, which plans again from a fresh detection, can
    finish.
  - On Windows the action plugin plans in Python and removes each product through
    M(ansible.windows.win_package) by product code; see the Windows options.
author:
  - phaseout maintainers (@phaseout)
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
      persist:
        description: Command (argv list) that makes the replacement's real-time protection start at boot, run once
          it is confirmed and before Kaspersky's services are disabled.
        type: list
        elements: str
      deactivate:
        description:
          - Command (argv list) that turns the replacement's real-time protection off again and keeps it off at boot,
            run by a rollback before Kaspersky's services are started again.
        type: list
        elements: str
      timeout:
        description: Seconds to wait for O(activate.check) to succeed.
        type: int
        default: 60
  journal:
    description:
      - Keep the swap journal on the host (C(/var/lib/phaseout/journal.json) on Linux,
        C(%ProgramData%\\phaseout\\journal.json) on Windows) and resume an interrupted swap from it. The replace role
        always sets it.
    type: dict
    suboptions:
      run_id:
        description: Identifier of the run (the controller's ledger uses the same one).
        type: str
        required: true
      provider:
        description: The replacement provider (V(clamav), V(mdatp), ...), recorded in the journal.
        type: str
        required: true
  command_timeout:
    description: Linux only. Seconds any one command (a service stop, a package removal) may take before it is stopped.
    type: int
    default: 600
  lock_timeout:
    description: Linux only. Seconds to wait for the package manager's lock (another apt, dpkg or rpm run) before
      failing with the name of the process that holds it.
    type: int
    default: 300
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
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Returns the plan and changes nothing.
  diff_mode:
    support: full
    details: The diff shows the verdict, installed products and leftovers before and after.
  platform:
    support: full
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
  description: Catalog ids of the products that were on the host before the run and are gone after it, read from the
    host (in check mode, the products the plan would remove).
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
  description: A step before the point of no return failed; the replacement was deactivated and Kaspersky's services
    were enabled and started again as they were.
  returned: on failure
  type: bool
rollback:
  description: The rollback steps that ran.
  returned: on failure
  type: list
  elements: str
rollback_errors:
  description: Rollback steps that failed (the host may be unprotected; the message says so).
  returned: on failure
  type: list
  elements: str
past_point_of_no_return:
  description: The replacement was confirmed active, enabled at boot, and Kaspersky's services disabled; from there on
    nothing is rolled back.
  returned: always
  type: bool
decision:
  description:
    - How this run started, decided from the real state and the journal. V(fresh) (no open journal), V(handover)
      (resuming an interrupted swap before the point of no return), V(finish_forward) (the replacement already
      protects the host), V(reactivate) (past the point of no return and nothing running) or V(nothing).
  returned: always
  type: str
decision_reason:
  description: Why, in words.
  returned: always
  type: str
replacement_was_active:
  description: Whether O(activate.check) passed before anything was done.
  returned: always
  type: bool
journal:
  description: Summary of the host's swap journal after the run (state, step, doing, run_id, message); null without one.
  returned: always
  type: dict
notes:
  description: Things the run noticed and worked around (waiting for the package lock, a reused pid left alone).
  returned: when the swap ran
  type: list
  elements: str
'''

import os
import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.module_utils.catalog import VENDORS
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import run_command
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux import LinuxCollector, detect
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux_remove import (
    PROTECTING_KINDS, JournalWriter, Remover, SwapFailed, describe, execute, plan_removal, select_targets,
    service_records, summarize_state,
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
        persist=dict(type='list', elements='str'),
        deactivate=dict(type='list', elements='str'),
        timeout=dict(type='int', default=60),
    )),
    journal=dict(type='dict', options=dict(
        run_id=dict(type='str', required=True),
        provider=dict(type='str', required=True),
    )),
    command_timeout=dict(type='int', default=600),
    lock_timeout=dict(type='int', default=300),
    agent_password_encoding=dict(type='str', default='utf16le_hex', choices=['utf16le_hex', 'ascii_hex'], no_log=False),
    log_dir=dict(type='str', default='C:\\Windows\\Temp'),
    allow_encrypted=dict(type='bool', default=False),
)


def shield_from_the_controller():
    """Finish (or roll back) the swap even when the controller or the connection goes away.

    A Ctrl-C on the controller, a killed ansible-playbook or a dropped SSH
    connection must not stop this process between stopping Kaspersky and
    confirming the replacement; the journal on the host records where it is.
    """
    for name in ('SIGHUP', 'SIGINT', 'SIGPIPE'):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)


def protecting_installed(detection):
    return any(p['state'] == 'installed' and p['kind'] in PROTECTING_KINDS for p in detection['products'])


def gone_products(before, after):
    """Catalog ids that were on the host before and are not any more (what was really removed)."""
    present_after = set(after['installed']) | set(after['residue'])
    return sorted((set(before['installed']) | set(before['residue'])) - present_after)


def open_journal(store, existing, params, detection, clock):
    """The journal this run writes: a fresh one at ``staged``, or the interrupted one, resumed."""
    run_id, provider = params['journal']['run_id'], params['journal']['provider']
    targets, _warnings = select_targets(detection, params['products'], params['exclude'])
    services = service_records(detection, {t['id'] for t in targets})
    at = swap_journal.now_iso(clock)
    if swap_journal.is_open(existing):
        journal = existing
        if journal.get('run_id') != run_id:
            journal = swap_journal.resume(journal, run_id, at=at)
        known = {(s['product'], s['name']) for s in journal['services']}
        journal['services'] += [s for s in services if (s['product'], s['name']) not in known]
    else:
        journal = swap_journal.new(run_id, provider, 'linux',
                                   products=[p['id'] for p in detection['products']],
                                   protecting=[p['id'] for p in detection['products']
                                               if p['kind'] in PROTECTING_KINDS and p['state'] == 'installed'],
                                   services=services, at=at)
    store.write(journal)
    return JournalWriter(store, journal, clock)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    if os.geteuid() != 0:
        module.fail_json(msg='kaspersky_uninstall must run as root to remove packages: use become: true')
    run(module, params, command_runner=run_command)


def run(module, params, root='/', clock=time.time, sleep=time.sleep, kill=os.kill, store=None, command_runner=None):
    """The module's work, separated from AnsibleModule's set-up so that tests drive it on a fake host."""
    which = module.get_bin_path if root == '/' else None
    # main() passes command_timeout.run_command; the tests' fake module answers run_command itself
    command_runner = command_runner or module.run_command

    def fresh_detection():
        collector = LinuxCollector(command_runner, root=root, **({'which': which} if which else {}))
        return detect(collector, vendor=params['vendor'], query_cli=False)

    remover = Remover(command_runner, root=root, which=which or _tree_which(root), sleep=sleep, kill=kill,
                      clock=clock, command_timeout=params['command_timeout'], lock_timeout=params['lock_timeout'])
    before_detection = fresh_detection()
    before = summarize_state(before_detection)

    existing = None
    if params['journal']:
        store = store or swap_journal.JournalStore(root=root)
        existing, journal_error = store.read()
        if journal_error:
            module.warn('%s; phaseout starts a new journal and decides from the host\'s real state' % journal_error)
    activate = params['activate']
    replacement_active = remover.check_replacement((activate or {}).get('check'))
    decision, reason = swap_journal.decide(existing, bool(before_detection.get('realtime_protection_active')),
                                           protecting_installed(before_detection), replacement_active)
    try:
        plan, warnings = plan_removal(
            before_detection, products=params['products'], exclude=params['exclude'], force=params['force'],
            purge_leftovers=params['purge_leftovers'], purge_repositories=params['purge_repositories'],
            stop_services=params['stop_services'], activate=activate, checkpoints=True,
        )
    except ValueError as exc:
        module.fail_json(msg='kaspersky_uninstall: %s' % exc, before=before)
    for warning in warnings:
        module.warn(warning)
    for step in plan:
        step['description'] = describe(step)
    planned = sorted({s['product'] for s in plan if s['product']})
    was_protected = bool(before_detection.get('realtime_protection_active'))
    result = dict(changed=False, plan=plan, executed=[], removed=planned if module.check_mode else [],
                  reboot_required=False, reboot_reasons=[], before=before, after=before, detection=before_detection,
                  was_protected=was_protected, unprotected_window_s=None, decision=decision, decision_reason=reason,
                  replacement_was_active=replacement_active,
                  past_point_of_no_return=swap_journal.past_point_of_no_return(existing),
                  journal=swap_journal.summary(existing))

    if not plan:
        if params['journal'] and swap_journal.is_open(existing) and not module.check_mode and \
                before_detection['verdict'] == 'clean' and not params['exclude'] and not params['products']:
            writer = JournalWriter(store, existing, clock)
            writer.checkpoint('cleaned', detail='nothing of Kaspersky is left')
            result.update(changed=True, journal=swap_journal.summary(writer.journal))
        module.exit_json(**result)
    if module.check_mode:
        result['changed'] = True
        result['diff'] = dict(before=before, after={'verdict': 'planned', 'plan': [s['description'] for s in plan]})
        module.exit_json(**result)

    shield_from_the_controller()
    writer = open_journal(store, existing, params, before_detection, clock) if params['journal'] \
        else JournalWriter(None, None, clock)
    try:
        done = execute(plan, remover, before_detection, journal=writer, clock=clock)
    except SwapFailed as failure:
        done = failure.result
        after_detection = fresh_detection()
        result.update(changed=True, executed=done['executed'], after=summarize_state(after_detection),
                      detection=after_detection, failed_step=done['failed_step'],
                      removed=gone_products(before, summarize_state(after_detection)),
                      reboot_reasons=remover.reboot_reasons, rolled_back=done['rolled_back'],
                      rollback=done.get('rollback', []), rollback_errors=done.get('rollback_errors', []),
                      past_point_of_no_return=done['past_point_of_no_return'],
                      journal=swap_journal.summary(writer.journal), notes=remover.notes)
        exc = failure.error
        extra = dict(rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr) if hasattr(exc, 'rc') else {}
        module.fail_json(msg=str(failure) + ' (completed steps are in "executed")', **dict(result, **extra))

    after_detection = fresh_detection()
    after = summarize_state(after_detection)
    reasons = list(remover.reboot_reasons)
    if after_detection.get('kernel_modules') and not reasons:
        reasons.append('kernel modules still loaded: %s' % ', '.join(after_detection['kernel_modules']))
    result.update(changed=done['changed'] or before != after, executed=done['executed'], after=after,
                  detection=after_detection, removed=gone_products(before, after),
                  reboot_required=bool(reasons), reboot_reasons=reasons,
                  unprotected_window_s=done['unprotected_window_s'] if was_protected else None,
                  past_point_of_no_return=done['past_point_of_no_return'],
                  journal=swap_journal.summary(writer.journal), notes=remover.notes,
                  diff=dict(before=before, after=after))
    module.exit_json(**result)


def _tree_which(root):
    def which(name):
        for directory in ('/usr/bin', '/bin', '/usr/sbin', '/sbin'):
            candidate = os.path.join(directory, name)
            if os.access(os.path.join(root, candidate.lstrip('/')), os.X_OK):
                return candidate
        return None
    return which


if __name__ == '__main__':
    main()
