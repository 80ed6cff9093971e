#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: swap_journal
short_description: Read, advance or close phaseout's swap journal on a host
version_added: 0.2.0
description:
  - phaseout keeps a journal of each swap on the host it changes (C(/var/lib/phaseout/journal.json) on Linux,
    C(%ProgramData%\phaseout\journal.json) on Windows). M(phaseout.antivirus.kaspersky_uninstall) opens it and writes
    the steps it runs itself (V(staged), V(kaspersky_stopped), V(replacement_active), V(kaspersky_removed),
    V(cleaned)); this module records the steps the replace role runs around it (a replacement activated by its role,
    V(verified)) and closes the journal with the run's outcome.
  - O(state=present) without O(step) only reads the journal. O(state=absent) removes it (for an operator who has
    reconciled a host by hand).
  - The file is rewritten atomically (a temporary file in the same directory, fsync, rename).
author:
  - phaseout maintainers (@phaseout)
options:
  state:
    description:
      - V(present) records O(step) (or only reads the journal when O(step) is not given).
      - V(closed) records O(step) when given, then closes an open journal as done with O(outcome).
      - V(absent) removes the journal.
    type: str
    choices: [present, closed, absent]
    default: present
  step:
    description: The step that completed. Steps never go backwards; an earlier step is only added to the history.
    type: str
    choices: [staged, kaspersky_stopped, replacement_active, kaspersky_removed, cleaned, verified]
  outcome:
    description: The outcome of the swap recorded when the journal closes (V(replaced), V(compliant), V(fallback)...).
    type: str
  error:
    description: What went wrong, when the journal closes on a failure.
    type: str
    default: ''
  run_id:
    description: The run recording the step. A different run than the journal's is recorded as resuming it.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Returns the journal as it would be and writes nothing.
  diff_mode:
    support: full
    details: The diff shows the journal's state and step before and after.
  platform:
    support: full
    platforms: [posix, windows]
notes:
  - A host without a journal (nothing was ever swapped there, or the swap had nothing to change) is left alone; the
    module says so in RV(msg).
seealso:
  - module: phaseout.antivirus.kaspersky_uninstall
  - module: phaseout.antivirus.kaspersky_info
'''

EXAMPLES = r'''
- name: Close the swap journal once the replacement is verified
  phaseout.antivirus.swap_journal:
    state: closed
    step: verified
    outcome: replaced
    run_id: "{{ phaseout_run_id }}"

- name: Read the journal
  phaseout.antivirus.swap_journal:
  register: journal

- name: Forget a journal after reconciling the host by hand
  phaseout.antivirus.swap_journal:
    state: absent
'''

RETURN = r'''
journal:
  description: The summary of the journal after the call (state, step, doing, run_id, outcome, message); null when
    there is none.
  returned: always
  type: dict
  sample: {state: done, step: verified, interrupted: false, outcome: replaced, message: "swap finished (replaced, ...)"}
path:
  description: Where the journal lives on the host.
  returned: always
  type: str
  sample: /var/lib/phaseout/journal.json
msg:
  description: What was done.
  returned: always
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal

ARGUMENT_SPEC = dict(
    state=dict(type='str', default='present', choices=['present', 'closed', 'absent']),
    step=dict(type='str', choices=list(swap_journal.STEPS['linux'])),
    outcome=dict(type='str'),
    error=dict(type='str', default=''),
    run_id=dict(type='str'),
)


def plan(current, params, at=None):
    """(new journal or None, changed, message) for the parameters, from the current journal."""
    state, step = params['state'], params['step']
    if state == 'absent':
        return None, current is not None, 'journal removed' if current is not None else 'no journal'
    if current is None:
        return None, False, 'no journal on this host: nothing was swapped here'
    new = current
    if params['run_id'] and swap_journal.is_open(current) and current.get('run_id') != params['run_id']:
        new = swap_journal.resume(new, params['run_id'], at=at)
    if step and swap_journal.is_open(new):
        if step in swap_journal.STEPS[new['platform']]:
            new = swap_journal.advance(new, step, at=at)
        else:
            raise ValueError('step %s is not a %s step' % (step, new['platform']))
    if state == 'closed':
        if not params['outcome']:
            raise ValueError('state=closed needs the outcome of the swap')
        if swap_journal.is_open(new):
            new = swap_journal.close(new, 'done', params['outcome'], at=at, error=params['error'])
        else:
            return current, False, 'journal already closed (%s)' % current.get('state')
    changed = new is not current
    return new, changed, ('journal at step %s (%s)' % (new['step'], new['state'])) if changed else 'journal unchanged'


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    store = swap_journal.JournalStore()
    current, error = store.read()
    if error:
        if module.params['state'] != 'absent':
            module.fail_json(msg='swap_journal: %s; read it, reconcile the host, then remove it with state=absent'
                             % error, path=store.path)
        if not module.check_mode:
            store.remove()
        module.exit_json(changed=True, msg='unreadable journal removed (%s)' % error, path=store.path, journal=None)
    try:
        new, changed, msg = plan(current, module.params)
    except ValueError as exc:
        module.fail_json(msg='swap_journal: %s' % exc, path=store.path, journal=swap_journal.summary(current))
    before = swap_journal.summary(current) or {}
    after = swap_journal.summary(new) or {}
    if changed and not module.check_mode:
        if module.params['state'] == 'absent':
            store.remove()
        else:
            if os.geteuid() != 0:
                module.fail_json(msg='swap_journal must run as root to write %s: use become: true' % store.path)
            store.write(new)
    module.exit_json(changed=changed, msg=msg, path=store.path, journal=after or None,
                     diff=dict(before={k: before.get(k) for k in ('state', 'step', 'outcome')},
                               after={k: after.get(k) for k in ('state', 'step', 'outcome')}))


if __name__ == '__main__':
    main()
