# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Per-host progress of a phase from ansible-runner's job events.

On a terminal: one status line, rewritten in place (hosts done/total, the
current step, failures so far), with each failure printed above it as it
happens. In a pipe or CI log: plain lines, one per step and one per failure,
never a carriage return or an escape sequence.

A host is done when the play reaches the fleet report (the fleet_report task,
or the play's own tasks after its roles: post_tasks) for the batch the host was
in, or when the play ends; it has failed when a task failed
on it without ignore_errors or it was unreachable.
"""

from __future__ import annotations

import os
import sys
import time

RESULT_EVENTS = ('runner_on_ok', 'runner_on_failed', 'runner_on_skipped', 'runner_on_unreachable')


def _one_line(text, limit=160):
    text = ' '.join(str(text or '').split())
    return text if len(text) <= limit else text[:limit - 1] + '\u2026'


class Progress:
    """An ansible-runner event_handler: Progress(...).handle(event) for every job event."""

    def __init__(self, command, total=None, stream=None, tty=None, playbook_dir=None, clock=time.monotonic):
        self.command = command
        self.total = total
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.playbook_dir = os.path.abspath(playbook_dir) if playbook_dir else None
        self.clock = clock
        self.started = clock()
        self.play = None
        self.step = None
        self.steps = 0
        self.seen = set()        # hosts that ran a task in this play
        self.batch = set()       # hosts of the current batch (serial) not yet done
        self.done = set()
        self.failed = {}         # host -> (step, message)
        self.all_failed = {}
        self._status_shown = False
        self._in_roles = False

    # --- output ---
    def _write(self, line):
        if self.tty and self._status_shown:
            self.stream.write('\r\x1b[K')
            self._status_shown = False
        self.stream.write(line + '\n')
        self.stream.flush()

    def _counts(self):
        total = self.total if self.total is not None else len(self.seen)
        return 'done %d/%d, failed %d' % (len(self.done), total, len(self.failed))

    def _status(self):
        if not self.tty:
            return
        width = 120
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, AttributeError, ValueError):
            pass
        line = '[%s] %s | %s' % (self.play or self.command, self._counts(), self.step or 'starting')
        self.stream.write('\r\x1b[K' + line[:max(20, width - 1)])
        self.stream.flush()
        self._status_shown = True

    # --- events ---
    def handle(self, event):
        """ansible-runner event_handler: returns True so the event is kept in the run's artifacts."""
        try:
            self._handle(event)
        except Exception as exc:  # noqa: BLE001 - progress must never break a run
            self._write('phaseout: progress display error: %s' % exc)
        return True

    def _handle(self, event):
        kind = event.get('event')
        data = event.get('event_data') or {}
        if kind == 'playbook_on_play_start':
            self._finish_play()
            self.play = _one_line(data.get('name') or data.get('play') or self.command, 80)
            self.steps = 0
            self.step = None
            self._write('phaseout %s: play "%s" on %s host(s)' % (
                self.command, self.play, self.total if self.total is not None else '?'))
        elif kind == 'playbook_on_task_start':
            self.steps += 1
            self.step = _one_line(data.get('task') or data.get('name'), 100)
            if data.get('role'):
                self._in_roles = True
            elif self._in_roles and self._is_post_task(data.get('task_path')):
                # the play's own tasks after its roles: its post_tasks (the report), for this batch
                self._batch_done()
                self._in_roles = False
            if str(data.get('task_action', '')).endswith('fleet_report'):
                self._batch_done()
            if self.tty:
                self._status()
            else:
                self._write('phaseout %s: [%s] step %d: %s (%s)'
                            % (self.command, self.play, self.steps, self.step, self._counts()))
        elif kind in RESULT_EVENTS or kind == 'runner_on_start':
            host = data.get('host')
            if not host:
                return
            if host not in self.seen:
                self.seen.add(host)
            if host not in self.done:
                self.batch.add(host)
            if kind == 'runner_on_unreachable' or (kind == 'runner_on_failed' and not data.get('ignore_errors')):
                result = data.get('res') or {}
                message = _one_line(result.get('msg') or result.get('stderr') or kind)
                if host not in self.failed:
                    self.failed[host] = (self.step, message)
                    self._write('phaseout %s: %s %s at "%s": %s (%s)' % (
                        self.command, host, 'unreachable' if kind == 'runner_on_unreachable' else 'failed',
                        self.step, message, self._counts()))
            self._status()
        elif kind == 'playbook_on_stats':
            self._finish_play()

    def _is_post_task(self, task_path):
        if not task_path or not self.playbook_dir:
            return False
        path = task_path.rsplit(':', 1)[0]
        return os.path.dirname(os.path.abspath(path)) == self.playbook_dir

    def _batch_done(self):
        self.done.update(self.batch)
        self.batch.clear()

    def _finish_play(self):
        if self.play is None:
            return
        self._batch_done()
        self.done.update(self.seen)
        self._write('phaseout %s: [%s] finished: %s, %s' % (
            self.command, self.play, self._counts(), '%.0f s' % (self.clock() - self.started)))
        self.all_failed.update(self.failed)
        self.seen, self.batch, self.done, self.failed = set(), set(), set(), {}
        self.play = None

    def close(self):
        self._finish_play()
        if self.tty and self._status_shown:
            self.stream.write('\n')
            self.stream.flush()
            self._status_shown = False
