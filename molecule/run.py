#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run Molecule scenarios for `make molecule`: a time limit each, N at a time,
and the time of every step printed.

    molecule/run.py [--jobs N] [--timeout SECONDS] [--log-dir DIR] [--keep-going] SCENARIO...

Each scenario runs as `molecule test -s SCENARIO` under its lock
(/tmp/phaseout-molecule.SCENARIO.lock: platform names are machine-wide) and
under `timeout`: a scenario that hangs is killed after SECONDS (default 600,
or PHASEOUT_MOLECULE_TIMEOUT), reported with its name and the step it hung
in, and its lab hosts are removed (lab/lab.sh down --prefix m-<scenario>).
The full output of each scenario goes to DIR/<scenario>.log (default
artifacts/molecule); the console gets, per scenario, its result, its time and
the time of each Molecule step, the tail of the log when it failed, and a
summary at the end. Scenarios start in the order given; after a failure no
new one starts (unless --keep-going). Exit status: 0 when every scenario passed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
# molecule 26: "INFO     <scenario> ➜ <step>: Executing" / "...: Executed: Successful"
STEP = re.compile(r'INFO\s+(?P<scenario>\S+) \S+ (?P<step>[a-z_]+): (?P<what>Executing|Executed: (?P<result>\w+))')
TAIL_LINES = 80
PRINT_LOCK = threading.Lock()


def say(text=''):
    with PRINT_LOCK:
        print(text, flush=True)


def load():
    try:
        with open('/proc/loadavg', encoding='ascii') as handle:
            return ' '.join(handle.read().split()[:3])
    except OSError:
        return '?'


class Run:
    def __init__(self, scenario, timeout, log_dir):
        self.scenario = scenario
        self.timeout = timeout
        self.log_path = os.path.join(log_dir, scenario + '.log')
        self.steps = []        # (step, seconds, result)
        self.current = None    # (step, start)
        self.rc = None
        self.queued = self.started = self.finished = None
        self.load_start = self.load_end = None

    @property
    def seconds(self):
        return (self.finished or time.time()) - (self.started or time.time())

    @property
    def lock_wait(self):
        return (self.started or time.time()) - (self.queued or time.time())

    @property
    def timed_out(self):
        return self.rc in (124, 137)

    def command(self):
        lock = '/tmp/phaseout-molecule.%s.lock' % self.scenario
        return ['flock', lock, 'timeout', '--kill-after=30', str(self.timeout),
                os.path.join(os.path.dirname(sys.executable), 'molecule'), 'test', '-s', self.scenario]

    def run(self):
        self.queued = time.time()
        self.load_start = load()
        # line-buffered both ways: each line is timestamped when molecule writes it
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        with open(self.log_path, 'w', encoding='utf-8', buffering=1) as log:
            log.write('$ %s\n' % ' '.join(self.command()))
            proc = subprocess.Popen(self.command(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors='replace', bufsize=1, env=env)
            for line in proc.stdout:
                now = time.time()
                if self.started is None:  # molecule's first line: the lock is ours
                    self.started = now
                    self.load_start = load()
                log.write('%7.1f %s' % (now - self.started, line))
                match = STEP.search(ANSI.sub('', line))
                if not match:
                    continue
                if match.group('what') == 'Executing':
                    self.current = (match.group('step'), now)
                elif self.current and self.current[0] == match.group('step'):
                    self.steps.append((self.current[0], now - self.current[1], match.group('result')))
                    self.current = None
            self.rc = proc.wait()
            self.finished = time.time()
            if self.started is None:
                self.started = self.finished
            self.load_end = load()
            log.write('# exit status %d after %.0f s\n' % (self.rc, self.seconds))
        if self.rc != 0:
            # a killed run leaves its hosts behind; a failed one has run destroy already
            prefix = 'm-' + self.scenario.replace('_', '-')
            subprocess.run([os.path.join(REPO, 'lab', 'lab.sh'), 'down', '--prefix', prefix],
                           cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        self.report()

    def step_line(self):
        parts = ['%s %.0f s' % (step, seconds) for step, seconds, _result in self.steps]
        if self.current:
            parts.append('%s (unfinished) %.0f s' % (self.current[0], (self.finished or time.time()) - self.current[1]))
        return ' | '.join(parts)

    def report(self):
        lines = []
        waited = ' after waiting %.0f s for its lock' % self.lock_wait if self.lock_wait >= 2 else ''
        if self.rc == 0:
            lines.append('=== molecule test -s %s: passed in %.0f s%s (load %s -> %s)'
                         % (self.scenario, self.seconds, waited, self.load_start, self.load_end))
        elif self.timed_out:
            lines.append('=== molecule test -s %s: TIMED OUT after %.0f s (limit %d s) in step %s; its hosts were removed'
                         % (self.scenario, self.seconds, self.timeout, self.current[0] if self.current else '?'))
        else:
            lines.append('=== molecule test -s %s: FAILED (exit status %d) after %.0f s'
                         % (self.scenario, self.rc, self.seconds))
        lines.append('    steps: ' + (self.step_line() or '-'))
        if self.rc != 0:
            with open(self.log_path, encoding='utf-8', errors='replace') as handle:
                tail = handle.readlines()[-TAIL_LINES:]
            lines.append('    last %d lines of %s:' % (len(tail), os.path.relpath(self.log_path, REPO)))
            lines.extend('    | ' + ANSI.sub('', line.rstrip('\n')) for line in tail)
        say('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--jobs', type=int, default=int(os.environ.get('PHASEOUT_MOLECULE_JOBS', '1')))
    parser.add_argument('--timeout', type=int, default=int(os.environ.get('PHASEOUT_MOLECULE_TIMEOUT', '600')))
    parser.add_argument('--log-dir', default=os.path.join(REPO, 'artifacts', 'molecule'))
    parser.add_argument('--keep-going', action='store_true', help='start the other scenarios after a failure')
    parser.add_argument('scenarios', nargs='+')
    args = parser.parse_args()
    for scenario in args.scenarios:
        if not os.path.isfile(os.path.join(REPO, 'molecule', scenario, 'molecule.yml')):
            parser.error('no scenario %r (molecule/%s/molecule.yml)' % (scenario, scenario))
    os.makedirs(args.log_dir, exist_ok=True)

    runs = [Run(s, args.timeout, args.log_dir) for s in args.scenarios]
    pending = list(runs)
    active = []
    started = time.time()
    say('molecule: %d scenario(s), %d at a time, %d s limit each; logs in %s'
        % (len(runs), args.jobs, args.timeout, os.path.relpath(args.log_dir, REPO)))
    while pending or active:
        failed = not args.keep_going and any(r.rc not in (None, 0) for r in runs)
        while pending and len(active) < max(1, args.jobs) and not failed:
            run = pending.pop(0)
            say('--- starting %s (load %s)' % (run.scenario, load()))
            thread = threading.Thread(target=run.run, name=run.scenario)
            thread.start()
            active.append((run, thread))
        if failed and pending:
            pending.clear()
        for run, thread in list(active):
            if not thread.is_alive():
                thread.join()
                active.remove((run, thread))
        time.sleep(0.5)

    total = time.time() - started
    say('\nmolecule summary (%d at a time, %.0f s wall clock, load now %s):' % (args.jobs, total, load()))
    say('    %-18s %-10s %7s  %s' % ('scenario', 'result', 'time', 'steps'))
    for run in runs:
        if run.rc is None:
            result, seconds = 'not run', '-'
        else:
            result = 'passed' if run.rc == 0 else ('TIMEOUT' if run.timed_out else 'FAILED')
            seconds = '%.0f s' % run.seconds
        say('    %-18s %-10s %7s  %s' % (run.scenario, result, seconds, run.step_line()))
    return 0 if all(run.rc == 0 for run in runs) else 1


if __name__ == '__main__':
    sys.exit(main())
