#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: fleet_report
short_description: Write the fleet report of a phaseout phase on the controller
version_added: 0.1.0
description:
  - Collects one registered result per host, classifies each host as V(ok), V(failed), V(unreachable) or
    V(missing), and writes on the controller a JSON record per host, a fleet C(summary.json) and a
    C(summary.csv) under O(dest)/O(phase)/.
  - Hosts that were unreachable or failed appear in the report with their error; they are never silently
    missing. With O(run_id), a host lost during the run is reported from the controller's ledger with the step it
    was in (V(unreachable during handover - protection unknown)).
  - Hands the totals to the run's custom stats as M(ansible.builtin.set_stats) would (C(per_host=false)), under
    C(phaseout_<phase>); AWX keeps them as the job's artifacts.
  - This is an action plugin; it runs on the controller only and never contacts the hosts.
author:
  - phaseout maintainers (@phaseout)
options:
  phase:
    description: Name of the phase, used as the report sub-directory.
    type: str
    required: true
  result_var:
    description: Name of the per-host variable holding the registered result of the phase.
    type: str
    required: true
  hosts:
    description: Inventory hostnames to report on.
    type: list
    elements: str
    default: the play's C(ansible_play_hosts_all)
  dest:
    description: Artifacts directory on the controller.
    type: path
    required: true
  print_summary:
    description: Return a short human-readable table in C(msg).
    type: bool
    default: true
  run_id:
    description:
      - The run's id. A host in O(hosts) without a result (it became unreachable during the run and left the play) is
        then reported from the run's ledger (C(<dest>/ledger/<run_id>.jsonl), written by the
        C(phaseout.antivirus.ledger) callback) as V(unreachable) with the step it was in, never as merely missing.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Writes the report in check mode too (on the controller only) and marks it as a dry run.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: [posix]
'''

EXAMPLES = r'''
- name: Write the discovery report
  phaseout.antivirus.fleet_report:
    phase: discover
    result_var: discover_result
    dest: "{{ playbook_dir }}/../artifacts"
  run_once: true
  delegate_to: localhost
  register: discover_report
'''

RETURN = r'''
summary:
  description: Fleet totals by status, verdict, outcome and installed product, and the hosts needing attention.
  returned: always
  type: dict
  sample: {phase: discover, hosts: 3, status: {ok: 2, unreachable: 1}, verdict: {clean: 1, installed: 1}}
dashboard:
  description: Path of the fleet dashboard written next to the reports (C(<dest>/dashboard.html)), one self-contained
    HTML page over every phase's reports.
  returned: when it could be written
  type: str
run_id:
  description: The run id given, whose ledger filled in lost hosts and under which the run's summary was kept
    (C(<dest>/<phase>/runs/<run_id>/summary.json)).
  returned: when O(run_id) was given
  type: str
report_dir:
  description: Directory the report was written to (C(<dest>/<phase>), or C(<dest>/<phase>-dry-run) in check mode).
  returned: always
  type: str
files:
  description: Paths of the summary files.
  returned: always
  type: list
  elements: str
msg:
  description: Human-readable fleet table, one line per host.
  returned: when O(print_summary=true)
  type: list
  elements: str
'''
