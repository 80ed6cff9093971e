# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
name: ledger
type: notification
short_description: Write every host's task results to phaseout's ledger as they happen
version_added: 0.2.0
description:
  - Appends one JSON line per event to C(<artifacts>/ledger/<run id>.jsonl) on the controller, flushed at once, so a
    run that is interrupted (Ctrl-C, the controller killed, the connection lost) still leaves a record of where each
    host was. Events are C(run_start), C(play_start), C(task_start) per host, C(ok), C(failed), C(unreachable),
    C(skipped) per host, and C(run_end); each host event names its task and, for the phaseout roles, the swap step
    (C(phaseout_step)).
  - The run id comes from the extra variable C(phaseout_run_id), else the environment variable E(PHASEOUT_RUN_ID),
    else it is made up when the run starts and exported as E(PHASEOUT_RUN_ID) so the roles record the same id in
    each host's journal.
  - Messages of tasks with C(no_log) are never written; other messages are cut to 300 characters.
  - The fleet report reads the ledger for hosts that have no record of their own (lost during the run).
author:
  - phaseout maintainers (@phaseout)
requirements:
  - enabled in C(callbacks_enabled) (phaseout's ansible.cfg does it)
options:
  artifacts_dir:
    description:
      - The controller directory of phaseout's reports; the ledger goes to its C(ledger/) subdirectory.
      - Default is the extra variable C(phaseout_artifacts_dir), else C(artifacts/) next to the playbooks directory.
    type: path
    env:
      - name: PHASEOUT_ARTIFACTS_DIR
    ini:
      - section: phaseout
        key: artifacts_dir
'''

import datetime
import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.phaseout.antivirus.plugins.module_utils import ledger

PHASES = ('discover', 'contain', 'preflight', 'replace', 'verify', 'site')


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds')


def _step(task):
    """The ``phaseout_step`` var of the task or of the nearest block or include around it."""
    node, depth = task, 0
    while node is not None and depth < 30:
        value = (getattr(node, 'vars', None) or {}).get('phaseout_step')
        if isinstance(value, str) and '{' not in value:
            return value
        node = getattr(node, '_parent', None)
        depth += 1
    return None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'phaseout.antivirus.ledger'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._handle = None
        self._run_id = None
        self._playbook = None
        self._pending = []

    # -- the file ---------------------------------------------------------------
    def _write(self, event):
        event = dict(event, at=_now())
        line = json.dumps(event, sort_keys=True, default=str) + '\n'
        if self._handle is None:
            self._pending.append(line)
            return
        self._handle.write(line)
        self._handle.flush()

    def _open(self, play):
        extra = {}
        manager = getattr(play, '_variable_manager', None)
        if manager is not None:
            try:
                extra = dict(manager.extra_vars)
            except Exception:  # pylint: disable=broad-except
                extra = {}
        run_id = str(extra.get('phaseout_run_id') or os.environ.get('PHASEOUT_RUN_ID') or self._run_id or '')
        if not ledger.valid_run_id(run_id):
            if run_id:
                self._display.warning('phaseout ledger: run id %r is not usable as a file name; using a new one'
                                      % run_id)
            run_id = ledger.new_run_id()
        self._run_id = run_id
        os.environ['PHASEOUT_RUN_ID'] = run_id
        directory = self.get_option('artifacts_dir') or extra.get('phaseout_artifacts_dir')
        if not directory:
            base = os.path.dirname(os.path.abspath(self._playbook or '.'))
            directory = os.path.join(os.path.dirname(base), 'artifacts')
        path = ledger.path_for(os.path.expanduser(str(directory)), run_id)
        try:
            os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
            self._handle = open(path, 'a', encoding='utf-8')  # pylint: disable=consider-using-with
        except OSError as exc:
            self._display.warning('phaseout ledger: cannot write %s: %s; this run has no ledger' % (path, exc))
            self._handle = None
            self._pending = []
            return
        for line in self._pending:
            self._handle.write(line)
        self._pending = []
        self._handle.flush()

    # -- events -------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook = getattr(playbook, '_file_name', None)
        run_id = os.environ.get('PHASEOUT_RUN_ID')
        self._run_id = run_id if ledger.valid_run_id(run_id) else ledger.new_run_id()
        os.environ['PHASEOUT_RUN_ID'] = self._run_id
        self._write({'event': 'run_start', 'playbook': os.path.basename(self._playbook or ''),
                     'check_mode': bool(context.CLIARGS.get('check', False)), 'run_id': self._run_id})

    def v2_playbook_on_play_start(self, play):
        if self._handle is None:
            self._open(play)
        name = os.path.splitext(os.path.basename(self._playbook or ''))[0]
        self._write({'event': 'play_start', 'play': play.get_name(), 'phase': name if name in PHASES else None,
                     'run_id': self._run_id})

    def v2_runner_on_start(self, host, task):
        self._write({'event': 'task_start', 'host': host.get_name(), 'task': task.get_name(), 'step': _step(task)})

    def _result(self, kind, result):
        data = result._result if hasattr(result, '_result') else {}
        event = {'event': kind, 'host': result._host.get_name(), 'task': result._task.get_name(),
                 'step': _step(result._task), 'changed': bool(data.get('changed'))}
        if kind in ('failed', 'unreachable'):
            if data.get('_ansible_no_log') or result._task.no_log:
                event['msg'] = '(no_log)'
            else:
                event['msg'] = ' '.join(str(data.get('msg') or '').split())[:300]
        self._write(event)

    def v2_runner_on_ok(self, result):
        self._result('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('failed', result)

    def v2_runner_on_unreachable(self, result):
        self._result('unreachable', result)

    def v2_runner_on_skipped(self, result):
        self._result('skipped', result)

    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed):
            summary[host] = stats.summarize(host)
        self._write({'event': 'run_end', 'run_id': self._run_id, 'stats': summary})
        if self._handle is not None:
            self._handle.close()
            self._handle = None
