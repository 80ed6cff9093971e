# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Benchmark-only callback: count the events an AWX job would store, per host.

AWX (through ansible-runner) stores one job event per callback of the run:
playbook_on_play_start and playbook_on_task_start per task (and per host for a
meta task, which Ansible announces once per host), runner_on_start per host and
task, and one result event (runner_on_ok, _failed, _skipped, _unreachable,
runner_item_on_*) per host and task, plus a few per run. This callback counts
them and writes the counts to $PHASEOUT_BENCH_EVENTS (JSON) at the end, with the
task results per host as the PLAY RECAP counts them. It changes nothing and is
enabled only by scripts/bench-*.sh (bench/run.py).
"""

from __future__ import annotations

import collections
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: bench_events
type: aggregate
short_description: Count the job events of a run (benchmarks only)
description:
  - Writes the number of events an AWX job would store, in total and per host, to E(PHASEOUT_BENCH_EVENTS).
options: {}
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.total = collections.Counter()
        self.per_host = collections.defaultdict(collections.Counter)

    def _count(self, kind, host=None):
        self.total[kind] += 1
        if host is not None:
            self.per_host[host][kind] += 1

    def v2_playbook_on_start(self, playbook):
        self._count('playbook_on_start')

    def v2_playbook_on_play_start(self, play):
        self._count('playbook_on_play_start')

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._count('playbook_on_task_start')

    def v2_playbook_on_include(self, included_file):
        self._count('playbook_on_include')

    def v2_runner_on_start(self, host, task):
        self._count('runner_on_start', host.get_name())

    def v2_runner_on_ok(self, result):
        self._count('runner_on_ok', result._host.get_name())

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count('runner_on_failed', result._host.get_name())

    def v2_runner_on_skipped(self, result):
        self._count('runner_on_skipped', result._host.get_name())

    def v2_runner_on_unreachable(self, result):
        self._count('runner_on_unreachable', result._host.get_name())

    def v2_runner_item_on_ok(self, result):
        self._count('runner_item_on_ok', result._host.get_name())

    def v2_runner_item_on_failed(self, result):
        self._count('runner_item_on_failed', result._host.get_name())

    def v2_runner_item_on_skipped(self, result):
        self._count('runner_item_on_skipped', result._host.get_name())

    def v2_playbook_on_stats(self, stats):
        self._count('playbook_on_stats')
        path = os.environ.get('PHASEOUT_BENCH_EVENTS')
        if not path:
            return
        recap = {}
        for host in sorted(stats.processed):
            counts = stats.summarize(host)
            recap[host] = {k: counts.get(k, 0) for k in ('ok', 'changed', 'failed', 'skipped', 'unreachable',
                                                          'rescued', 'ignored')}
        data = {'total': dict(self.total), 'per_host': {h: dict(c) for h, c in self.per_host.items()},
                'recap': recap}
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
