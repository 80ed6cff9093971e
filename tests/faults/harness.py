#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Fault injection for the replace phase: kill the swap at each step and check the host ends whole.

    .venv/bin/python tests/faults/harness.py                 # the fast cells (make test)
    .venv/bin/python tests/faults/harness.py --cells all     # the whole matrix (make faults)
    .venv/bin/python tests/faults/harness.py --cells freeze@removal,sigkill@stopped
    .venv/bin/python tests/faults/harness.py --list

Each cell runs the real `playbooks/replace.yml` on a lab host (a Debian 12
container with systemd and sshd, Kaspersky's test doubles, Debian's ClamAV) in
the state `kesl12_agent`, injects one fault at one step of the swap, and checks:

1. after the fault, the host has exactly one active real-time engine, or none
   with a record saying so: the host's journal is open (interrupted) and the
   controller has a record of the host (its report line, or the ledger);
2. a rerun of replace, without the fault, converges: outcome replaced, ClamAV's
   on-access scanner is the only engine, nothing of Kaspersky is installed, the
   journal is closed at `verified`.

Faults are made with the host's and the controller's real mechanisms: the
container frozen (cgroup freezer) or its sshd killed, the controller's process
group sent SIGINT or SIGKILL, the container restarted (systemd stops and boots
again), Kaspersky's maintainer script made to fail or hang (a wrapper around
the installed prerm), the dpkg lock held by another process, ClamAV's on-access
unit made slow or unable to confirm (systemd drop-ins). Steps are reached by
watching the host's journal, the maintainer scripts and the controller's
ledger; the step each fault really landed at is printed with the result.

The matrix is printed and, with --write-docs, written between the markers of
docs/reliability.md. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
DOC = os.path.join(ROOT, 'docs', 'reliability.md')
BEGIN, END = '<!-- BEGIN fault matrix -->', '<!-- END fault matrix -->'
JOURNAL = '/var/lib/phaseout/journal.json'
CLAMONACC_DROPIN = '/etc/systemd/system/clamav-clamonacc.service.d/phaseout-fault.conf'
LOCK_PIDFILE = '/run/phaseout-fault-lock.pid'
MARKER_DIR = '/run/phaseout-fault'
# A module Ansible runs on the host: with pipelining it is `/bin/sh -c '/usr/bin/python3 && sleep 0'` reading the
# module from stdin, without it an AnsiballZ file. The brackets keep the pattern from matching pgrep's own shell.
MODULE_PATTERN = "'[p]ython3 && sleep 0|[A]nsiballZ'"
KNOB_DIR = '/etc/phaseout-fault'

STEPS = (
    ('staged', 'after staging'),
    ('stopped', 'after stopping Kaspersky'),
    ('active', 'after activation'),
    ('removal', 'during package removal'),
    ('cleanup', 'during leftover clean-up'),
    ('reboot', 'during the reboot'),
)
FAULTS = (
    ('freeze', 'connection lost (host frozen)'),
    ('sshd', 'connection lost (sshd killed)'),
    ('sigint', 'controller interrupted (SIGINT)'),
    ('sigkill', 'controller killed (SIGKILL)'),
    ('restart', 'host restarted'),
    ('nostart', 'replacement fails to start'),
    ('prerm', 'maintainer script fails'),
    ('lock', 'package lock held'),
    ('died', 'replacement dies after activation'),
)
# The cells of the matrix. Faults that exist at one step only have one cell.
CELLS = [f + '@' + s for f in ('freeze', 'sshd', 'sigint', 'sigkill', 'restart')
         for s in ('staged', 'stopped', 'active', 'removal', 'cleanup', 'reboot')]
CELLS += ['nostart@stopped', 'prerm@removal', 'prerm@cleanup', 'lock@active', 'died@removal']
# `make test` runs these: one per mechanism (host-side finish after the controller dies, rollback,
# finish forward after a failed removal, a lost host recorded and reconciled, a restart mid-hand-over).
FAST = ['sigkill@stopped', 'nostart@stopped', 'prerm@removal', 'freeze@removal', 'restart@stopped']

GROUP_VARS = {
    'phaseout_provider': 'clamav',
    'phaseout_fallback_provider': 'none',
    'phaseout_max_fail_percentage': 100,
    'provider_clamav_database_source': 'none',
    'provider_clamav_apt_cache_valid_time': 0,
    'provider_clamav_extra_signatures': [
        {'name': 'local-eicar.hdb', 'content': '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature-local\n'}],
    'provider_clamav_onaccess_include_paths': ['/home'],
    'replace_activation_timeout': 20,
    'replace_lock_timeout': 20,
    # containers share the host kernel's boot id: PID 1's start time tells a restart
    'phaseout_reboot_boot_time_command': "awk '{print $22}' /proc/1/stat",
}


def log(text):
    stamp = datetime.datetime.now().strftime('%H:%M:%S')
    print('[%s] %s' % (stamp, text), flush=True)


# ---------------------------------------------------------------------------
# The lab host
# ---------------------------------------------------------------------------


class Host:
    def __init__(self, name, container, port):
        self.name = name
        self.container = container
        self.port = port
        self.restart_on_exit = threading.Event()  # the "firmware": start the container again after a reboot
        self._watch = None
        self.fresh = True  # just made by lab.sh in the starting state: the first cell needs no reset

    def podman(self, *args, timeout=120, check=False):
        proc = subprocess.run(['podman'] + list(args), capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError('podman %s failed: %s' % (' '.join(args), proc.stderr.strip()))
        return proc

    def sh(self, script, timeout=120, check=False):
        try:
            proc = self.podman('exec', self.container, 'sh', '-c', script, timeout=timeout)
        except subprocess.TimeoutExpired:
            if check:
                raise RuntimeError('%s: `%s` did not answer within %ss' % (self.name, script[:80], timeout)) from None
            return subprocess.CompletedProcess([], 124, '', 'timed out')
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip()[-400:]
            raise RuntimeError('%s: `%s` failed (%s): %s' % (self.name, script[:80], proc.returncode, detail))
        return proc

    def running(self):
        out = self.podman('inspect', '--format', '{{.State.Status}}', self.container).stdout.strip()
        return out

    def journal(self):
        proc = self.sh('cat %s 2>/dev/null' % JOURNAL, timeout=60)
        try:
            return json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
        except ValueError:
            return {'state': 'unreadable'}

    def exists(self, path):
        return self.sh('test -e %s' % shlex.quote(path), timeout=60).returncode == 0

    def engines(self):
        """Real-time engines active right now, read independently of phaseout's own code."""
        script = r'''
k=no; c=no
systemctl is-active --quiet kesl.service && k=yes
pgrep -f '^/usr/bin/python3 /opt/kaspersky/kesl/sbin/kesl' >/dev/null && k=yes
pid=$(systemctl show --property=MainPID --value clamav-clamonacc.service 2>/dev/null)
[ "${pid:-0}" -gt 0 ] && grep -rqsE '^fanotify (ino|mnt_id|sdev):' /proc/$pid/fdinfo && c=yes
ek=$(systemctl is-enabled kesl.service 2>/dev/null); ec=$(systemctl is-enabled clamav-clamonacc.service 2>/dev/null)
dpkg-query -W -f='${db:Status-Abbrev}${Package} ' kesl klnagent64 2>/dev/null | grep -o 'ii *[a-z0-9]*' | tr -d ' ' | tr '\n' ','
echo "|$k|$c|$ek|$ec"
'''
        proc = self.sh(script, timeout=30)
        if proc.stdout.count('|') != 4:  # the host is down (mid-reboot) or did not answer: not "no engine"
            return {'active': [], 'at_boot': [], 'installed': [], 'readable': False}
        installed, kesl, clam, kesl_enabled, clam_enabled = proc.stdout.strip().split('|')
        active = (['kaspersky'] if kesl == 'yes' else []) + (['clamav'] if clam == 'yes' else [])
        at_boot = (['kaspersky'] if kesl_enabled == 'enabled' else []) + (['clamav'] if clam_enabled == 'enabled' else [])
        return {'active': active, 'at_boot': at_boot, 'readable': True,
                'installed': sorted(p[2:] for p in installed.split(',') if p.startswith('ii'))}

    def modules_running(self):
        return self.sh('pgrep -f %s >/dev/null' % MODULE_PATTERN, timeout=60).returncode == 0

    def wait_ready(self, seconds=120):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.running() == 'running':
                st = self.sh('systemctl is-system-running', timeout=20).stdout.strip()
                if st in ('running', 'degraded'):
                    return True
            time.sleep(0.5)
        return False

    # -- the firmware: a container whose systemd rebooted exits; start it again, as a machine does
    def watch(self):
        def loop():
            while self.restart_on_exit.is_set():
                if self.running() in ('exited', 'stopped'):
                    log('%s: the host rebooted (container exited); starting it again' % self.name)
                    self.podman('start', self.container)
                time.sleep(0.5)
        self.restart_on_exit.set()
        self._watch = threading.Thread(target=loop, daemon=True)
        self._watch.start()

    def unwatch(self):
        self.restart_on_exit.clear()
        if self._watch:
            self._watch.join(timeout=5)

    # -- state ---------------------------------------------------------------------
    def busy(self):
        """A phaseout module, dpkg or apt still runs on the host (a run the controller lost finishes on its own)."""
        script = "pgrep -f %s || pgrep -x dpkg || pgrep -x apt-get" % MODULE_PATTERN
        return self.sh(script + ' >/dev/null', timeout=60).returncode == 0

    def reset(self):
        """Back to KESL 12 + Network Agent, nothing of phaseout or ClamAV, no fault armed."""
        if self.running() == 'paused':
            self.podman('unpause', self.container)
        if self.running() != 'running':
            self.podman('start', self.container)
        self.wait_ready()
        self.sh('rm -rf %s' % KNOB_DIR, timeout=60)  # a hanging maintainer script lets go
        self.release_dpkg_lock()
        deadline = time.time() + 300
        while time.time() < deadline and self.busy():
            time.sleep(1.0)
        self.sh('systemctl start ssh.service; [ -f {lock} ] && kill $(cat {lock}); rm -rf {lock} {markers} {knobs} '
                '/var/lib/phaseout /etc/systemd/system/clamav-clamonacc.service '
                '/etc/systemd/system/clamav-clamonacc.service.d; '
                'for f in /var/lib/dpkg/info/*.prerm.phaseout-fault; do [ -e "$f" ] && mv "$f" "${{f%.phaseout-fault}}"; done; '
                'systemctl daemon-reload; true'.format(lock=LOCK_PIDFILE, markers=MARKER_DIR, knobs=KNOB_DIR),
                timeout=60)
        # an interrupted dpkg (a killed maintainer script) is finished the way an operator would
        self.sh('dpkg --configure -a >/dev/null 2>&1; true', timeout=300)
        self.sh('/usr/local/sbin/phaseout-lab-state --force kesl12_agent', timeout=600, check=True)

    # -- fault kit -------------------------------------------------------------------
    def prerm(self, package, mode):
        """Wrap the installed package's prerm: ``fail`` exits 1, ``hang`` waits until the knob goes."""
        knob = '%s/%s.prerm' % (KNOB_DIR, package)
        wrapper = '''#!/bin/sh
# phaseout fault harness: wraps the package's own prerm (lab only)
knob={knob}
if [ -f "$knob" ]; then
  case "$(cat "$knob")" in
    fail) echo "{package} prerm: failing on purpose (phaseout fault harness)" >&2; exit 1 ;;
    hang) mkdir -p {markers}; touch {markers}/{package}.prerm; i=0
          while [ -f "$knob" ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i+1)); done ;;
  esac
fi
exec /var/lib/dpkg/info/{package}.prerm.phaseout-fault "$@"
'''.format(knob=knob, package=package, markers=MARKER_DIR)
        info = '/var/lib/dpkg/info/%s.prerm' % package
        self.sh('mkdir -p {k} && echo {mode} > {knob} && mv {info} {info}.phaseout-fault && cat > {info} <<"EOF"\n'
                '{wrapper}EOF\nchmod 0755 {info}'.format(k=KNOB_DIR, mode=mode, knob=knob, info=info, wrapper=wrapper),
                check=True)

    def release_prerm(self, package):
        self.sh('rm -f %s/%s.prerm' % (KNOB_DIR, package))

    def clamonacc_dropin(self, content):
        script = 'mkdir -p %s && printf %%s %s > %s' % (os.path.dirname(CLAMONACC_DROPIN), shlex.quote(content),
                                                        CLAMONACC_DROPIN)
        self.sh(script, check=True)

    def hold_dpkg_lock(self):
        code = ('import fcntl, os, time; fd = os.open("/var/lib/dpkg/lock-frontend", os.O_RDWR | os.O_CREAT); '
                'fcntl.lockf(fd, fcntl.LOCK_EX); open("%s", "w").write(str(os.getpid())); time.sleep(3600)'
                % LOCK_PIDFILE)
        self.podman('exec', '-d', self.container, 'python3', '-c', code)
        deadline = time.time() + 20
        while time.time() < deadline and not self.exists(LOCK_PIDFILE):
            time.sleep(0.2)

    def release_dpkg_lock(self):
        self.sh('[ -f {p} ] && kill $(cat {p}); rm -f {p}; true'.format(p=LOCK_PIDFILE))


# ---------------------------------------------------------------------------
# One run of replace
# ---------------------------------------------------------------------------


class Run:
    def __init__(self, cell, host, inventory, workdir, name, extra=()):
        self.host = host
        self.run_id = '%s-%s-%s' % (cell.replace('@', '-at-'), name, datetime.datetime.now().strftime('%H%M%S'))
        self.artifacts = os.path.join(workdir, 'artifacts')
        self.logfile = os.path.join(workdir, '%s.log' % name)
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), PHASEOUT_RUN_ID=self.run_id,
                   PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
                   # a frozen host is declared lost after ~10 s instead of 60 s
                   ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=60s -o PreferredAuthentications=publickey '
                                    '-o ServerAliveInterval=5 -o ServerAliveCountMax=2',
                   ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(workdir, 'cp-' + name),
                   ANSIBLE_NOCOLOR='1')
        argv = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, 'playbooks/replace.yml'),
                '-l', host.name, '-e', 'phaseout_targets=lab', '-e', 'phaseout_artifacts_dir=' + self.artifacts,
                '-e', 'phaseout_run_id=' + self.run_id]
        for item in extra:
            argv += ['-e', item]
        self.handle = open(self.logfile, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(argv, stdout=self.handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                     start_new_session=True)

    def wait(self, seconds):
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.proc.wait()
        finally:
            self.handle.close()

    def signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def ledger(self):
        path = os.path.join(self.artifacts, 'ledger', self.run_id + '.jsonl')
        events = []
        try:
            with open(path, encoding='utf-8') as handle:
                for line in handle:
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass
        except OSError:
            pass
        return events

    def record(self):
        try:
            with open(os.path.join(self.artifacts, 'replace', 'hosts', self.host.name + '.json'), encoding='utf-8') as h:
                return json.load(h)
        except (OSError, ValueError):
            return None


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------

HANDOVER_TASK = 'Stop Kaspersky, hand over to the replacement, remove Kaspersky'


def wait_for(description, condition, seconds, run=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if run is not None and run.proc.poll() is not None:
            raise RuntimeError('the run ended (rc=%s) before %s' % (run.proc.returncode, description))
        if condition():
            return True
        time.sleep(0.15)
    raise RuntimeError('timed out after %ss waiting for %s' % (seconds, description))


def ledger_has(run, kind, task):
    # a role's task is named "<role> : <task>" in the ledger
    return any(e.get('event') == kind and str(e.get('task', '')).rsplit(' : ', maxsplit=1)[-1] == task for e in run.ledger())


def journal_at(host, step=None, doing=None):
    journal = host.journal()
    if not journal:
        return False
    return (step is None or journal.get('step') == step) and (doing is None or journal.get('doing') == doing)


def arm(cell, host):
    """Prepare the host so that the swap pauses (or breaks) at the cell's step."""
    fault, step = cell.split('@')
    extra = []
    if step == 'stopped' or fault == 'nostart':
        # the on-access scanner starts slowly: the swap sits between "Kaspersky stopped" and "active"
        if fault == 'nostart':
            host.clamonacc_dropin('[Service]\nExecStart=\nExecStart=/bin/sleep infinity\n')
        else:
            host.clamonacc_dropin('[Service]\nExecStartPre=/bin/sleep 12\n')
    if step == 'active' or fault == 'lock':
        host.clamonacc_dropin('[Service]\nExecStartPre=/bin/sleep 6\n')  # time to take the dpkg lock mid-swap
    if step == 'removal' and fault != 'prerm':
        host.prerm('kesl', 'hang')
    if fault == 'prerm':
        host.prerm('kesl' if step == 'removal' else 'klnagent64', 'fail')
    if step == 'cleanup' and fault != 'prerm':
        host.prerm('klnagent64', 'hang')
    if step == 'reboot':
        extra.append('phaseout_reboot_linux=always')
        host.watch()
    return extra


def reach(cell, host, run):
    """Wait until the swap is at the cell's step; return where the host's journal says it is."""
    fault, step = cell.split('@')
    if step == 'staged':
        staged = 'Refuse to touch Kaspersky until the replacement can detect'
        wait_for('staging to finish', lambda: ledger_has(run, 'ok', staged), 600, run)
    elif step == 'stopped':
        wait_for('Kaspersky stopped', lambda: journal_at(host, 'kaspersky_stopped', 'replacement_active'), 600, run)
    elif step == 'active':
        wait_for('the hand-over under way', lambda: journal_at(host, 'kaspersky_stopped', 'replacement_active'),
                 600, run)
        host.hold_dpkg_lock()
        wait_for('the replacement active (point of no return)', lambda: journal_at(host, 'replacement_active'), 120,
                 run)
    elif step == 'removal':
        if fault in ('prerm', 'died'):
            wait_for('the point of no return', lambda: journal_at(host, 'replacement_active'), 600, run)
        else:
            wait_for('the maintainer script running', lambda: host.exists(MARKER_DIR + '/kesl.prerm'), 600, run)
    elif step == 'cleanup':
        if fault == 'prerm':
            # the Network Agent's removal follows the protecting product's in the same call: its failing script
            # is the fault; the point of no return is where it can land
            wait_for('the point of no return', lambda: journal_at(host, 'replacement_active'), 600, run)
        else:
            wait_for('the agent\'s maintainer script running', lambda: host.exists(MARKER_DIR + '/klnagent64.prerm'),
                     600, run)
    elif step == 'reboot':
        wait_for('the reboot task', lambda: ledger_has(run, 'task_start', 'Reboot the Linux host'), 900, run)
        time.sleep(1.0)
    journal = host.journal() or {}
    return '%s%s' % (journal.get('step') or 'no journal', (' > ' + journal['doing']) if journal.get('doing') else '')


def inject(cell, host, run):
    fault = cell.split('@')[0]
    if fault == 'freeze':
        host.podman('pause', host.container)
    elif fault == 'sshd':
        host.sh('systemctl stop ssh.socket ssh.service >/dev/null 2>&1; pkill -KILL -x sshd; true')
    elif fault == 'sigint':
        run.signal(signal.SIGINT)
    elif fault == 'sigkill':
        run.signal(signal.SIGKILL)
    elif fault == 'restart':
        host.podman('restart', '-t', '10', host.container, timeout=180)
    elif fault == 'died':
        host.sh('pkill -KILL -x clamonacc; true')
    # nostart, prerm, lock: the armed fault is the fault


def unblock(cell, host):
    """Let the swap go on after the fault (a frozen host is unblocked only once its run is over)."""
    fault, _step = cell.split('@')
    if fault in ('freeze', 'restart'):
        return
    host.sh('rm -f %s/*.prerm' % KNOB_DIR, timeout=30)
    if fault != 'lock':
        host.release_dpkg_lock()


def release(cell, host):
    """Undo what made the swap pause, once the faulty run is over (a hang never outlives its run)."""
    fault, _step = cell.split('@')
    if host.running() == 'paused':
        host.podman('unpause', host.container)
    # a host caught rebooting is still stopping: let it go down, then start it (the firmware's job)
    deadline = time.time() + 120
    while time.time() < deadline and host.running() not in ('running', 'exited', 'stopped', 'configured', 'created'):
        time.sleep(0.5)
    if host.running() != 'running':
        host.podman('start', host.container)
    host.wait_ready()
    if fault == 'sshd':
        host.sh('systemctl start ssh.service')
    # the operator fixes the cause before rerunning: no fault left, systemd told about it
    host.sh('rm -rf %s %s; systemctl daemon-reload' % (KNOB_DIR, CLAMONACC_DROPIN), timeout=60)
    host.release_dpkg_lock()


def settle(host, seconds=180):
    """Wait until no phaseout module runs on the host any more (it finishes the swap on its own)."""
    deadline = time.time() + seconds
    while time.time() < deadline and host.modules_running():
        time.sleep(1.0)


def controller_record(run):
    """What the controller knows of the host: its report record, else its last ledger entry."""
    record = run.record()
    if record is not None:
        return '%s: %s' % (record.get('status'), record.get('outcome')), record
    last = None
    for event in run.ledger():
        if event.get('host') == run.host.name:
            last = event
    if last:
        return 'ledger: %s %s' % (last.get('event'), last.get('step') or last.get('task')), None
    return None, None


def run_cell(cell, host, inventory, workroot):
    workdir = os.path.join(workroot, cell.replace('@', '-at-'))
    os.makedirs(workdir, exist_ok=True)
    result = {'cell': cell, 'host': host.name, 'ok': False, 'problems': []}
    started = time.time()
    try:
        if not host.fresh:
            host.reset()
        host.fresh = False
        extra = arm(cell, host)
        run = Run(cell, host, inventory, workdir, 'faulty', extra)
        result['landed'] = reach(cell, host, run)
        inject(cell, host, run)
        unblock(cell, host)
        result['rc'] = run.wait(600)
        release(cell, host)
        after = host.engines()
        result['right_after'] = ('+'.join(after['active']) or 'none') if after['readable'] else 'down'
        # a host caught mid-reboot is read once it is up again (the firmware starts it), never while down
        host.wait_ready(300)
        settle(host)
        after = host.engines()
        if not after['readable']:
            result['problems'].append('the host could not be read after the fault (down or not answering)')
        journal = host.journal() or {}
        said, record = controller_record(run)
        result.update(
            engines=after['active'], at_boot=after['at_boot'], installed=after['installed'],
            journal='%s/%s' % (journal.get('state', 'none'), journal.get('step', '-')) if journal else 'none',
            controller=said or 'nothing')
        if record is not None:
            result['outcome'] = record.get('outcome')
            result['error'] = (record.get('error') or '')[:200]
        recorded = journal.get('state') == 'open' and said is not None
        if len(after['active']) > 1:
            result['problems'].append('two engines after the fault: %s' % after['active'])
        if not after['active'] and not recorded:
            result['problems'].append('no engine and no record (journal %s, controller %s)' % (result['journal'], said))
        if said is None:
            result['problems'].append('the controller has no record of the host')
        if after['active'] and sorted(after['active']) != sorted(after['at_boot']) and journal.get('state') != 'open':
            result['problems'].append('what runs (%s) is not what starts at boot (%s)'
                                      % (after['active'], after['at_boot']))
        rerun = Run(cell, host, inventory, workdir, 'rerun')
        result['rerun_rc'] = rerun.wait(900)
        final = host.engines()
        journal = host.journal() or {}
        record = rerun.record() or {}
        result.update(rerun_outcome=record.get('outcome'), final=final['active'], final_installed=final['installed'],
                      final_journal='%s/%s' % (journal.get('state'), journal.get('step')))
        if result['rerun_rc'] != 0 or record.get('outcome') not in ('replaced', 'compliant'):
            result['problems'].append('the rerun did not converge: rc %s, outcome %s (%s)' % (
                result['rerun_rc'], record.get('outcome'), (record.get('error') or '')[:200]))
        if final['active'] != ['clamav'] or final['installed'] or final['at_boot'] != ['clamav']:
            result['problems'].append('after the rerun: engines %s, at boot %s, Kaspersky installed %s'
                                      % (final['active'], final['at_boot'], final['installed']))
        if journal.get('state') != 'done' or journal.get('step') != 'verified':
            result['problems'].append('after the rerun the journal is %s' % result['final_journal'])
        result['ok'] = not result['problems']
    except Exception as exc:  # pylint: disable=broad-except
        result['problems'].append('harness: %s' % exc)
        try:
            if 'run' in locals() and run.proc.poll() is None:
                run.signal(signal.SIGKILL)
            release(cell, host)
            settle(host)
        except Exception:  # pylint: disable=broad-except
            pass
    host.unwatch()
    result['seconds'] = round(time.time() - started)
    log('%s on %s: %s (%ss)%s' % (cell, host.name, 'PASS' if result['ok'] else 'FAIL', result['seconds'],
                                  ''.join('\n    - ' + p for p in result['problems'])))
    return result


# ---------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------


def short(result):
    if result is None:
        return ''
    mark = 'PASS' if result['ok'] else 'FAIL'
    engines = '+'.join(result.get('engines') or []) or 'none (recorded)'
    return '%s: %s, rerun %s' % (mark, engines, result.get('rerun_outcome') or '?')


def matrix(results):
    by_cell = {r['cell']: r for r in results}
    lines = ['| fault \\ step | ' + ' | '.join(text for _k, text in STEPS) + ' |',
             '|---|' + '---|' * len(STEPS)]
    for fault, text in FAULTS:
        cells = [short(by_cell.get('%s@%s' % (fault, step))) for step, _t in STEPS]
        if any(cells):
            lines.append('| %s | %s |' % (text, ' | '.join(c or '' for c in cells)))
    lines += ['', 'Each cell: whether it passed, the real-time engine(s) on the host once the fault settled, and the '
                  'outcome of the rerun without the fault.', '',
              '| cell | landed at (journal) | rc | right after | settled | at boot | journal | controller | rerun |',
              '|---|---|---|---|---|---|---|---|---|']
    for r in results:
        lines.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            r['cell'], r.get('landed', '?'), r.get('rc', '?'), r.get('right_after', '?'),
            '+'.join(r.get('engines') or []) or 'none', '+'.join(r.get('at_boot') or []) or 'none',
            r.get('journal', '?'), (r.get('controller') or '?').replace('|', '/'),
            '%s (%s)' % (r.get('rerun_outcome') or '?', 'PASS' if r['ok'] else 'FAIL: ' + '; '.join(
                ' '.join(p.split())[:300] for p in r['problems']))))
    return '\n'.join(lines)


def write_docs(results, cells, seconds):
    with open(DOC, encoding='utf-8') as handle:
        text = handle.read()
    if BEGIN not in text or END not in text:
        raise SystemExit('%s has no fault-matrix markers' % DOC)
    body = '\n'.join([
        BEGIN,
        '<!-- Written by tests/faults/harness.py --write-docs; do not edit by hand. -->',
        '',
        'Run of %s: %d cell(s), %d passed, %d s on this machine (%s).' % (
            datetime.date.today().isoformat(), len(results), sum(r['ok'] for r in results), seconds,
            ', '.join('%s' % c for c in cells) if len(cells) <= 6 else 'the whole matrix'),
        '',
        matrix(results),
        END])
    text = text[:text.index(BEGIN)] + body + text[text.index(END) + len(END):]
    with open(DOC, 'w', encoding='utf-8') as handle:
        handle.write(text)


def lab_up(prefix, port_base, count):
    subprocess.run([os.path.join(ROOT, 'lab', 'lab.sh'), 'up', '--hosts', str(count), '--prefix', prefix,
                    '--port-base', str(port_base), '--states', 'kesl12_agent'], check=True, cwd=ROOT)
    plan = os.path.join(ROOT, 'lab', '.state', '%s.plan' % prefix)
    hosts = []
    with open(plan, encoding='utf-8') as handle:
        for line in handle:
            name, container, port = line.split()[:3]
            hosts.append(Host(name, container, int(port)))
    return hosts, os.path.join(ROOT, 'lab', '.state', '%s-hosts.yml' % prefix)


def make_inventory(hosts_file, directory):
    import yaml  # the project venv has it
    os.makedirs(os.path.join(directory, 'group_vars'), exist_ok=True)
    with open(hosts_file, encoding='utf-8') as src, open(os.path.join(directory, 'hosts.yml'), 'w',
                                                         encoding='utf-8') as dst:
        dst.write(src.read())
    with open(os.path.join(directory, 'group_vars', 'all.yml'), 'w', encoding='utf-8') as handle:
        yaml.safe_dump(GROUP_VARS, handle)
    return directory


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--cells', default='fast', help='fast (default), all, or a comma-separated list')
    parser.add_argument('--parallel', type=int, default=0, help='lab hosts used at once (default: min(cells, 3))')
    parser.add_argument('--prefix', default='fault')
    parser.add_argument('--port-base', type=int, default=2801)
    parser.add_argument('--write-docs', action='store_true', help='write the matrix into docs/reliability.md')
    parser.add_argument('--keep', action='store_true', help='keep the lab hosts afterwards')
    parser.add_argument('--list', action='store_true', help='list the cells and exit')
    args = parser.parse_args(argv)
    if args.list:
        for cell in CELLS:
            print(cell + ('  (fast)' if cell in FAST else ''))
        return 0
    cells = FAST if args.cells == 'fast' else CELLS if args.cells == 'all' else args.cells.split(',')
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        raise SystemExit('unknown cell(s): %s (see --list)' % ', '.join(unknown))
    parallel = args.parallel or min(len(cells), 3)
    started = time.time()
    hosts, hosts_file = lab_up(args.prefix, args.port_base, parallel)
    workroot = tempfile.mkdtemp(prefix='phaseout-faults-')
    inventory = make_inventory(hosts_file, os.path.join(workroot, 'inventory'))
    log('%d cell(s) on %d host(s); logs under %s' % (len(cells), len(hosts), workroot))
    queue = list(cells)
    lock = threading.Lock()
    results = []

    def worker(host):
        while True:
            with lock:
                if not queue:
                    return
                cell = queue.pop(0)
            results.append(run_cell(cell, host, inventory, workroot))

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            list(pool.map(worker, hosts))
    finally:
        if not args.keep:
            subprocess.run([os.path.join(ROOT, 'lab', 'lab.sh'), 'down', '--prefix', args.prefix], cwd=ROOT,
                           check=False)
    results.sort(key=lambda r: cells.index(r['cell']))
    seconds = round(time.time() - started)
    print()
    print(matrix(results))
    print('\n%d of %d cell(s) passed in %d s (logs: %s)' % (sum(r['ok'] for r in results), len(results), seconds,
                                                            workroot))
    with open(os.path.join(workroot, 'results.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    if args.write_docs:
        write_docs(results, cells, seconds)
    return 0 if all(r['ok'] for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
