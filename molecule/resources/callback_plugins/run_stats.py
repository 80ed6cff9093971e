# SPDX-License-Identifier: GPL-3.0-or-later
"""Molecule test helper: keep the play recap of every playbook run.

Enabled for every scenario by the shared base config
(.config/molecule/config.yml). At the end of each ansible-playbook run it
writes $MOLECULE_EPHEMERAL_DIRECTORY/run-stats/<n>-<playbook>[-check].json:

    {"playbook": "converge.yml", "check_mode": false,
     "stats": {"<host>": {"ok": 3, "changed": 0, "failures": 0, ...}}}

so a verify step can assert what a run reported (for a read-only phase: no
change on any host) without running the phase a second time.
"""

from __future__ import annotations

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: run_stats
type: aggregate
short_description: Write the play recap of each run to the Molecule ephemeral directory
description:
  - Test helper of the phaseout Molecule scenarios; writes nothing outside Molecule.
requirements:
  - MOLECULE_EPHEMERAL_DIRECTORY in the environment
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'run_stats'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._playbook = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_stats(self, stats):
        directory = os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY')
        if not directory or not self._playbook:
            return
        directory = os.path.join(directory, 'run-stats')
        os.makedirs(directory, exist_ok=True)
        check_mode = bool(context.CLIARGS.get('check'))
        hosts = sorted(set(stats.processed) | set(stats.failures) | set(stats.dark))
        record = {
            'playbook': self._playbook,
            'check_mode': check_mode,
            'stats': {host: stats.summarize(host) for host in hosts},
        }
        name = '%d-%s%s.json' % (time.time_ns(), os.path.splitext(self._playbook)[0], '-check' if check_mode else '')
        with open(os.path.join(directory, name), 'w', encoding='utf-8') as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
