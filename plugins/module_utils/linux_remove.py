# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Linux removal: plan from a detection result, then execute step by step.

``plan_removal`` is pure: it takes what ``linux.detect`` returned and the
operator's choices and returns the ordered list of steps. ``Remover`` runs
one step at a time through ``run_command`` (every command under a timeout)
and plain file operations; ``execute`` runs a whole plan with its journal,
its rollback and its point of no return.

Order, from the vendor's documented removal procedure:
  1. stop the services (Network Agent first, so the Administration Server
     cannot push a policy or task mid-removal, then the products in removal
     order);
  2. when a replacement is handed over to (``activate``): start it, wait until
     its real-time protection is confirmed, enable it at boot, and only then
     disable Kaspersky's services: the point of no return. Until then a
     failure deactivates the replacement and restores Kaspersky exactly as it
     was (services re-enabled and started, systemd and SysV alike);
  3. remove the packages in removal order (GUI, endpoint, file server, agent),
     waiting (bounded) for the package manager's lock;
  4. stop processes that outlived their package, re-checking each is still the
     same process (pid and start time) before signalling it;
  5. purge leftovers: data directories, unit files and init scripts, kernel
     modules, vendor repository entries and keys; vendor-wide directories only
     when no product of the vendor stays installed.
With a journal (``checkpoint`` steps), each group is bracketed on the host:
kaspersky_stopped, replacement_active, kaspersky_removed, cleaned.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import time

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import TIMED_OUT_RCS, timed_argv
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux import parse_proc_stat

PROTECTING_KINDS = ('endpoint', 'fileserver')

# The package managers' lock files (fcntl locks): dpkg's front-end and database locks, rpm's
# transaction lock. A removal waits for them, bounded by ``lock_timeout``.
PACKAGE_LOCKS = {
    'dpkg': ('/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock'),
    'rpm': ('/var/lib/rpm/.rpm.lock', '/usr/lib/sysimage/rpm/.rpm.lock'),
}
LOCK_ERRORS = ('dpkg frontend lock', 'dpkg status database is locked', 'could not get lock',
               'lock-frontend', 'waiting for transaction lock', 'can\'t create transaction lock')


class RemovalError(Exception):
    """A step failed; ``step`` says which, the message says why and what to do."""

    def __init__(self, message, step=None, rc=None, stdout='', stderr=''):
        super().__init__(message)
        self.step = step
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


def select_targets(detection, products=None, exclude=None):
    """Return (target product entries, warnings). Raises ValueError on bad input."""
    exclude = list(exclude or [])
    known = set(catalog.product_ids('linux'))
    for name in list(products or []) + exclude:
        if name not in known:
            raise ValueError("unknown product '%s'; known Linux products: %s" % (name, ', '.join(sorted(known))))
    warnings = []
    found = {p['id']: p for p in detection['products']}
    targets = []
    if products:
        for name in products:
            product = catalog.get_product(name)
            if not catalog.removable(product):
                raise ValueError("product '%s' (%s) is not removed by phaseout: remove it by hand or exclude it"
                                 % (name, product['name']))
    for entry in sorted(detection['products'], key=lambda p: (p.get('removal_order') or 999, p['id'])):
        if entry['id'] in exclude:
            continue
        if products and entry['id'] not in products:
            continue
        if not entry.get('removable'):
            warnings.append("%s is %s on this host and is not removed by phaseout: remove it by hand"
                            % (entry['name'], entry['state']))
            continue
        targets.append(entry)
    if products:
        missing = [p for p in products if p not in found]
        if missing:
            warnings.append('not present on this host: %s' % ', '.join(missing))
    return targets, warnings


def _checkpoint(step):
    return {'action': 'checkpoint', 'product': None, 'target': step}


def plan_removal(detection, products=None, exclude=None, force=False, purge_leftovers=True,
                 purge_repositories=True, stop_services=True, activate=None, checkpoints=False):
    """Return (steps, warnings). Each step is a dict with at least action, product and target.

    ``activate`` ({command, check, timeout, persist, deactivate}) is the
    replacement's activation: it runs right after Kaspersky's services are
    stopped and before any is disabled or any package removed, so the
    unprotected window is only as long as that start takes, and a failed
    activation can restore Kaspersky exactly. ``checkpoints`` adds the journal
    steps (shown in the plan, so a dry run shows the point of no return).
    """
    targets, warnings = select_targets(detection, products, exclude)
    target_ids = {t['id'] for t in targets}
    steps = []
    staying = [p for p in detection['products'] if p['state'] == 'installed' and p['id'] not in target_ids]

    # 1. stop the services: the agent first, then the rest in removal order
    ordered = sorted(targets, key=lambda p: (p['kind'] != 'agent', p.get('removal_order') or 999))
    stops, disables = [], []
    if stop_services:
        for product in ordered:
            for service in product['services']:
                if service.get('active'):
                    stops.append({'action': 'stop_service', 'product': product['id'], 'target': service['name']})
                if service.get('enabled'):
                    disables.append({'action': 'disable_service', 'product': product['id'],
                                     'target': service['name']})
    steps += stops

    # 2. hand over: the replacement starts and is confirmed before anything of Kaspersky is disabled
    if activate and targets:
        if checkpoints and stops:
            steps.append(_checkpoint('kaspersky_stopped'))
        steps.append({'action': 'activate_replacement', 'product': None, 'target': ' '.join(activate['command']),
                      'command': list(activate['command']), 'check': list(activate.get('check') or []),
                      'persist': list(activate.get('persist') or []),
                      'deactivate': list(activate.get('deactivate') or []),
                      'timeout': int(activate.get('timeout') or 60)})
        steps += disables
        if checkpoints:
            steps.append(_checkpoint('replacement_active'))
    else:
        steps += disables
        if checkpoints and stops and any(p['kind'] in PROTECTING_KINDS for p in targets):
            steps.append(_checkpoint('kaspersky_stopped'))

    # 3. packages, in removal order (installed or conffiles-only)
    removal = []
    for product in targets:
        for package in product['packages']:
            removal.append({'action': 'remove_package', 'product': product['id'], 'target': package['name'],
                            'manager': package['manager'], 'state': package['state'], 'force': bool(force)})
    # 4. processes that belong to targeted products (they outlive their package only when something broke)
    for product in targets:
        for proc in product['processes']:
            removal.append({'action': 'stop_process', 'product': product['id'], 'target': proc['pid'],
                            'path': proc['path'], 'starttime': proc.get('starttime')})
    steps += removal
    if checkpoints and removal and not any(p['kind'] in PROTECTING_KINDS for p in staying):
        steps.append(_checkpoint('kaspersky_removed'))

    leftovers = []
    if purge_leftovers:
        # 5a. product paths, unit files and kernel modules of the targets
        for product in targets:
            for path in product['paths']:
                leftovers.append({'action': 'remove_path', 'product': product['id'], 'target': path})
            for path in product['unit_files']:
                leftovers.append({'action': 'remove_unit', 'product': product['id'], 'target': path})
            for module in product['kernel_modules']:
                leftovers.append({'action': 'unload_kernel_module', 'product': product['id'], 'target': module})
        # 5b. vendor-wide traces, only when nothing of the vendor stays installed
        if staying:
            if any(lo['product'] is None for lo in detection['leftovers']):
                warnings.append('vendor-wide leftovers kept while %s stays installed'
                                % ', '.join(p['id'] for p in staying))
        else:
            for path in detection.get('vendor_paths', ()):
                leftovers.append({'action': 'remove_path', 'product': None, 'target': path})
            for leftover in detection['leftovers']:
                if leftover['product'] is not None:
                    continue
                kind = leftover['type']
                if kind == 'path':
                    leftovers.append({'action': 'remove_path', 'product': None, 'target': leftover['path']})
                elif kind == 'process':
                    leftovers.append({'action': 'stop_process', 'product': None, 'target': leftover['pid'],
                                      'path': leftover['path'], 'starttime': leftover.get('starttime')})
                elif kind == 'kernel_module':
                    leftovers.append({'action': 'unload_kernel_module', 'product': None, 'target': leftover['name']})
                elif kind == 'repository' and purge_repositories:
                    leftovers.append({'action': 'remove_repository', 'product': None, 'target': leftover['path'],
                                      'mode': 'comment' if leftover.get('reason') == 'entry' and
                                      not _vendor_named(leftover['path']) else 'delete'})
        if any(s['action'] in ('remove_unit', 'disable_service') for s in steps + leftovers):
            leftovers.append({'action': 'daemon_reload', 'product': None, 'target': 'systemd'})
    steps += leftovers
    if checkpoints and purge_leftovers and not staying and (removal or leftovers):
        steps.append(_checkpoint('cleaned'))

    # drop duplicates (a path can be both a product path and a leftover), keep order
    unique = []
    seen = set()
    for step in steps:
        key = (step['action'], str(step['target']))
        if key not in seen:
            seen.add(key)
            unique.append(step)
    # a plan of checkpoints only changes nothing
    if all(s['action'] == 'checkpoint' for s in unique):
        unique = []
    return unique, warnings


def _vendor_named(path):
    return 'kaspersky' in os.path.basename(path).lower()


def describe(step):
    """One line per step, for the plan shown in check mode and diffs."""
    if step['action'] == 'checkpoint':
        text = 'checkpoint: %s' % swap_journal.STEP_TEXT.get(step['target'], step['target'])
        if step['target'] == swap_journal.POINT_OF_NO_RETURN['linux']:
            text += ' (point of no return: from here on phaseout finishes forward)'
        return text
    verbs = {
        'stop_service': 'stop service %(target)s',
        'disable_service': 'disable service %(target)s',
        'remove_package': 'remove package %(target)s (%(manager)s)',
        'stop_process': 'stop process %(target)s (%(path)s)',
        'remove_path': 'delete %(target)s',
        'remove_unit': 'delete unit file %(target)s',
        'unload_kernel_module': 'unload kernel module %(target)s',
        'remove_repository': 'remove repository entry %(target)s',
        'daemon_reload': 'reload systemd',
        'activate_replacement': 'activate the replacement: %(target)s',
        'deactivate_replacement': 'deactivate the replacement: %(target)s',
        'start_service': 'restart service %(target)s',
        'enable_service': 're-enable service %(target)s',
    }
    return verbs[step['action']] % dict(step, manager=step.get('manager', ''), path=step.get('path', ''))


class Remover:
    """Execute planned steps. ``root`` lets tests run against a fake tree.

    Every external command runs under coreutils' ``timeout`` (``command_timeout``
    seconds; a product's uninstaller can hang on its management server).
    """

    DPKG_SCRIPTS = ('prerm', 'postrm')

    def __init__(self, run_command, root='/', which=None, sleep=time.sleep, kill=os.kill, clock=time.time,
                 command_timeout=600, lock_timeout=300, pidfd=None):
        self.clock = clock
        self.run_command = run_command
        self.root = root
        self.which = which
        self.sleep = sleep
        self.kill = kill
        self.command_timeout = command_timeout
        self.lock_timeout = lock_timeout
        # pidfd pins the process between the identity check and the signal (Linux 5.3+, Python 3.9+)
        self.pidfd = (root == '/' and hasattr(os, 'pidfd_open')) if pidfd is None else pidfd
        self.commands = []
        self.reboot_reasons = []
        self.notes = []

    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _tool(self, name):
        return self.which(name) if self.which else None

    def run(self, argv, step, what, timeout=None):
        self.commands.append(list(argv))
        seconds = timeout or self.command_timeout
        rc, out, err = self.run_command(timed_argv(argv, seconds, self._tool))
        if rc in TIMED_OUT_RCS and self._tool('timeout'):
            raise RemovalError('%s did not finish within %ss and was stopped' % (what, seconds),
                               step=step, rc=rc, stdout=out, stderr=err)
        if rc != 0:
            raise RemovalError('%s failed (rc=%s): %s' % (what, rc, (err or out).strip()[:400]),
                               step=step, rc=rc, stdout=out, stderr=err)
        return out

    def tool(self, name):
        found = self._tool(name)
        if not found:
            raise RemovalError('%s is not available on this host; it is needed to %s' % (name, 'remove packages'))
        return found

    def execute(self, step):
        """Run one step; return whether it changed the host."""
        return getattr(self, '_' + step['action'])(step) is not False

    def _systemd(self):
        systemctl = self._tool('systemctl')
        return systemctl if systemctl and os.path.isdir(self.path('/run/systemd/system')) else None

    # -- services -----------------------------------------------------------
    def _stop_service(self, step):
        systemctl = self._systemd()
        if systemctl:
            self.run([systemctl, 'stop', '%s.service' % step['target']], step, 'stopping %s' % step['target'])
        else:
            self.run(['/etc/init.d/%s' % step['target'], 'stop'], step, 'stopping %s' % step['target'])

    def _start_service(self, step):
        systemctl = self._systemd()
        if systemctl:
            self.run([systemctl, 'start', '%s.service' % step['target']], step, 'restarting %s' % step['target'])
        else:
            self.run(['/etc/init.d/%s' % step['target'], 'start'], step, 'restarting %s' % step['target'])

    def _enable_service(self, step):
        name = step['target']
        systemctl = self._tool('systemctl')
        if systemctl and os.path.isdir(self.path('/run/systemd/system')):
            self.run([systemctl, 'enable', '%s.service' % name], step, 're-enabling %s' % name)
            return True
        update_rc, chkconfig = self._tool('update-rc.d'), self._tool('chkconfig')
        if update_rc:
            self.run([update_rc, name, 'defaults'], step, 're-enabling %s' % name)
        elif chkconfig:
            self.run([chkconfig, name, 'on'], step, 're-enabling %s' % name)
        else:
            raise RemovalError('cannot re-enable %s: no systemctl, update-rc.d or chkconfig on this host' % name,
                               step=step)
        return True

    def _disable_service(self, step):
        name = step['target']
        systemctl = self._tool('systemctl')
        if systemctl and os.path.isdir(self.path('/run/systemd/system')):
            self.run([systemctl, 'disable', '%s.service' % name], step, 'disabling %s' % name)
            return True
        update_rc, chkconfig = self._tool('update-rc.d'), self._tool('chkconfig')
        if update_rc:
            self.run([update_rc, '-f', name, 'remove'], step, 'disabling %s' % name)
        elif chkconfig:
            self.run([chkconfig, name, 'off'], step, 'disabling %s' % name)
        else:
            return False
        return True

    # -- the replacement ------------------------------------------------------
    def check_replacement(self, check):
        """Whether the replacement's real-time protection is on right now (its check exits 0)."""
        if not check:
            return False
        self.commands.append(list(check))
        rc, _out, _err = self.run_command(timed_argv(check, 30, self._tool))
        return rc == 0

    def _activate_replacement(self, step):
        step['already_active'] = self.check_replacement(step.get('check'))
        if not step['already_active']:
            self.run(step['command'], step, 'activating the replacement (%s)' % ' '.join(step['command']),
                     timeout=step.get('timeout', 60) + 30)
            if step.get('check'):
                self._wait_for_check(step)
        if step.get('persist'):
            self.run(step['persist'], step, 'enabling the replacement at boot (%s)' % ' '.join(step['persist']))
        return True

    def _wait_for_check(self, step):
        deadline = self.clock() + step.get('timeout', 60)
        while True:
            self.commands.append(list(step['check']))
            rc, out, err = self.run_command(timed_argv(step['check'], 30, self._tool))
            if rc == 0:
                return
            if self.clock() >= deadline:
                raise RemovalError('the replacement did not confirm real-time protection within %ss (%s: rc=%s %s)'
                                   % (step.get('timeout', 60), ' '.join(step['check']), rc, (err or out).strip()[:200]),
                                   step=step, rc=rc, stdout=out, stderr=err)
            self.sleep(0.2)

    def _deactivate_replacement(self, step):
        if not step.get('command'):
            return False
        self.run(step['command'], step, 'deactivating the replacement (%s)' % ' '.join(step['command']))
        return True

    # -- packages -------------------------------------------------------------
    def lock_holder(self, manager):
        """Who holds the package manager's lock: None when it is free, else a description."""
        for lock in PACKAGE_LOCKS.get(manager, ()):
            full = self.path(lock)
            try:
                fd = os.open(full, os.O_RDWR)
            except OSError:
                continue
            try:
                import fcntl  # pylint: disable=import-outside-toplevel
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.EACCES):
                        return '%s is held by %s' % (lock, self._lock_owner(full) or 'another process')
                    raise
                fcntl.lockf(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        return None

    def _lock_owner(self, full):
        """pid and command of the process holding a POSIX lock on ``full`` (from /proc/locks)."""
        try:
            inode = os.stat(full).st_ino
            with open(self.path('/proc/locks'), encoding='ascii', errors='replace') as handle:
                lines = handle.read().splitlines()
        except OSError:
            return None
        for line in lines:
            fields = line.split()
            if len(fields) >= 6 and fields[5].rsplit(':', 1)[-1] == str(inode):
                pid = fields[4]
                try:
                    with open(self.path('/proc/%s/comm' % pid), encoding='utf-8', errors='replace') as handle:
                        return 'process %s (%s)' % (pid, handle.read().strip())
                except OSError:
                    return 'process %s' % pid
        return None

    def wait_for_lock(self, manager, step):
        deadline = self.clock() + self.lock_timeout
        holder = self.lock_holder(manager)
        if holder:
            self.notes.append('waiting for the package manager: %s' % holder)
        while holder:
            if self.clock() >= deadline:
                raise RemovalError('the package manager stayed locked for more than %ss (%s); Kaspersky was not '
                                   'removed: let the other package operation finish, then rerun'
                                   % (self.lock_timeout, holder), step=step)
            self.sleep(1.0)
            holder = self.lock_holder(manager)

    def _package_command(self, argv, step, what, manager):
        """Run a package command once the lock is free; retry while it still loses the lock race."""
        deadline = self.clock() + self.lock_timeout
        while True:
            self.wait_for_lock(manager, step)
            try:
                return self.run(argv, step, what)
            except RemovalError as exc:
                text = ('%s %s' % (exc.stderr, exc.stdout)).lower()
                if not any(marker in text for marker in LOCK_ERRORS) or self.clock() >= deadline:
                    raise
                self.sleep(1.0)

    def _remove_package(self, step):
        name = step['target']
        if step['manager'] == 'dpkg':
            dpkg = self.tool('dpkg')
            try:
                self._package_command([dpkg, '--purge', name], step, 'removing package %s with dpkg' % name, 'dpkg')
            except RemovalError as exc:
                if not step.get('force'):
                    exc.args = (str(exc) + '; its maintainer scripts may be failing: fix the cause, or rerun with'
                                ' force=true to remove the package without them',)
                    raise
                self._disable_dpkg_scripts(name)
                self._package_command([dpkg, '--purge', '--force-remove-reinstreq', '--force-depends', name], step,
                                      'force-removing package %s with dpkg (maintainer scripts disabled)' % name,
                                      'dpkg')
        elif step['manager'] == 'rpm':
            rpm = self.tool('rpm')
            try:
                self._package_command([rpm, '-e', name], step, 'removing package %s with rpm' % name, 'rpm')
            except RemovalError as exc:
                if not step.get('force'):
                    exc.args = (str(exc) + '; its scriptlets may be failing: fix the cause, or rerun with'
                                ' force=true to remove the package with --noscripts',)
                    raise
                self._package_command([rpm, '-e', '--noscripts', '--nodeps', name], step,
                                      'force-removing package %s with rpm --noscripts' % name, 'rpm')
        else:
            raise RemovalError('unsupported package manager %s for %s' % (step['manager'], name), step=step)

    def _disable_dpkg_scripts(self, name):
        for script in self.DPKG_SCRIPTS:
            for candidate in ('/var/lib/dpkg/info/%s.%s' % (name, script),
                              '/var/lib/dpkg/info/%s:amd64.%s' % (name, script)):
                full = self.path(candidate)
                if os.path.exists(full):
                    os.replace(full, full + '.phaseout-disabled')

    # -- processes ------------------------------------------------------------
    def starttime(self, pid):
        """The process's start time (clock ticks since boot), or None when there is no such process."""
        try:
            with open(self.path('/proc/%d/stat' % pid), encoding='utf-8', errors='replace') as handle:
                return parse_proc_stat(handle.read())[1]
        except OSError:
            return None

    def _stop_process(self, step):
        """Signal the process only if it is still the one detection saw (same pid and start time)."""
        pid = int(step['target'])
        expected = step.get('starttime')
        current = self.starttime(pid)
        if current is None and not os.path.exists(self.path('/proc/%d' % pid)):
            return False  # already gone
        if expected is not None and current is not None and current != expected:
            self.notes.append('process %d is not %s any more (pid reused): left alone' % (pid, step.get('path')))
            return False
        pidfd = None
        if self.pidfd:
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                return False  # exited meanwhile
            if expected is not None and self.starttime(pid) != expected:
                os.close(pidfd)
                self.notes.append('process %d is not %s any more (pid reused): left alone' % (pid, step.get('path')))
                return False
        try:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
                try:
                    if pidfd is not None:
                        signal.pidfd_send_signal(pidfd, sig)
                    else:
                        self.kill(pid, sig)
                except ProcessLookupError:
                    return True
                waited = 0.0
                while waited < wait:
                    now = self.starttime(pid)
                    if now is None or (current is not None and now != current):
                        return True
                    self.sleep(0.1)
                    waited += 0.1
        finally:
            if pidfd is not None:
                os.close(pidfd)
        raise RemovalError('process %d (%s) did not stop after SIGKILL' % (pid, step.get('path')), step=step)

    # -- files ------------------------------------------------------------------
    def _remove_path(self, step):
        full = self.path(step['target'])
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        elif os.path.lexists(full):
            os.unlink(full)
        else:
            return False
        return True

    def _remove_unit(self, step):
        full = self.path(step['target'])
        changed = False
        if os.path.lexists(full):
            os.unlink(full)
            changed = True
        dropins = full + '.d'
        if os.path.isdir(dropins):
            shutil.rmtree(dropins)
            changed = True
        return changed

    def _unload_kernel_module(self, step):
        modprobe = self._tool('modprobe')
        rmmod = self._tool('rmmod')
        tool = modprobe or rmmod
        if tool:
            argv = [tool, '-r', step['target']] if tool == modprobe else [tool, step['target']]
            self.commands.append(argv)
            rc, _out, _err = self.run_command(timed_argv(argv, 60, self._tool))
            if rc == 0:
                return True
        # still loaded (in use, or no tool): only a reboot clears it
        self.reboot_reasons.append('kernel module %s is still loaded' % step['target'])
        return False

    def _remove_repository(self, step):
        full = self.path(step['target'])
        if not os.path.lexists(full):
            return False
        if step.get('mode') != 'comment':
            os.unlink(full)
            return True
        with open(full, encoding='utf-8', errors='replace') as handle:
            lines = handle.read().splitlines(True)
        with open(full, 'w', encoding='utf-8') as handle:
            for line in lines:
                if 'kaspersky' in line.lower() and not line.lstrip().startswith('#'):
                    line = '# disabled by phaseout: ' + line
                handle.write(line)
        return True

    def _daemon_reload(self, step):
        systemctl = self._systemd()
        if systemctl:
            self.run([systemctl, 'daemon-reload'], step, 'reloading systemd')
            self.commands.append([systemctl, 'reset-failed'])
            self.run_command(timed_argv([systemctl, 'reset-failed'], 60, self._tool))


def summarize_state(detection):
    """The part of a detection result that diffs and records show."""
    return {
        'verdict': detection['verdict'],
        'installed': list(detection['installed']),
        'residue': list(detection['residue']),
        'leftovers': sorted(
            '%s:%s' % (lo['type'], lo.get('path') or lo.get('name') or lo.get('pid')) for lo in detection['leftovers']
        ),
        'kernel_modules': list(detection.get('kernel_modules', [])),
    }


def service_records(detection, targets=None):
    """Kaspersky's services as they are now, for the journal: what a rollback restores."""
    kinds = {p['id']: p['kind'] for p in detection['products']}
    records = []
    for product in detection['products']:
        if targets is not None and product['id'] not in targets:
            continue
        for service in product['services']:
            records.append({'name': service['name'], 'product': product['id'],
                            'protecting': kinds[product['id']] in PROTECTING_KINDS,
                            'was_active': bool(service.get('active')), 'was_enabled': bool(service.get('enabled'))})
    return records


def rollback_steps(executed, services=(), activation=None):
    """Steps that give Kaspersky its protection back after a failed hand-over.

    The replacement is deactivated first (real-time off, not enabled at boot), then
    every service this run or an interrupted earlier run (``services``, from the
    journal) disabled is enabled again, and every one that was running is started.
    Used only while no package of a protecting product has been removed.
    """
    steps = []
    if activation is not None and activation.get('deactivate'):
        steps.append({'action': 'deactivate_replacement', 'product': None,
                      'target': ' '.join(activation['deactivate']), 'command': list(activation['deactivate'])})
    enable, start = [], []
    for step in executed:
        if step['action'] == 'disable_service' and (step['product'], step['target']) not in enable:
            enable.append((step['product'], step['target']))
    for service in services:
        if service.get('was_enabled') and (service['product'], service['name']) not in enable:
            enable.append((service['product'], service['name']))
    for step in executed:
        if step['action'] == 'stop_service' and (step['product'], step['target']) not in start:
            start.append((step['product'], step['target']))
    for service in services:
        if service.get('was_active') and (service['product'], service['name']) not in start:
            start.append((service['product'], service['name']))
    steps += [{'action': 'enable_service', 'product': p, 'target': t} for p, t in enable]
    # the agent last: the protecting products come back first
    kinds = {s['product']: s.get('protecting') for s in services}
    start.sort(key=lambda pt: not kinds.get(pt[0], True))
    steps += [{'action': 'start_service', 'product': p, 'target': t} for p, t in start]
    return steps


def protecting(detection, step):
    """Whether ``step`` stops the real-time protection of a Kaspersky product."""
    if step['action'] not in ('stop_service', 'remove_package', 'stop_process'):
        return False
    kinds = {p['id']: p['kind'] for p in detection['products']}
    return kinds.get(step['product']) in PROTECTING_KINDS


# ---------------------------------------------------------------------------
# Running a whole plan: journal, window, rollback, point of no return
# ---------------------------------------------------------------------------


class SwapFailed(Exception):
    """A step failed; ``result`` holds what ran, whether it rolled back and where the host stands."""

    def __init__(self, message, result, error):
        super().__init__(message)
        self.result = result
        self.error = error


class JournalWriter:
    """The swap journal of one run on this host: write-ahead, checkpoints, failure, close.

    ``store`` is None when the run keeps no journal (the methods then do nothing).
    """

    def __init__(self, store, journal, clock=time.time):
        self.store = store
        self.journal = journal
        self.clock = clock

    @property
    def services(self):
        return list((self.journal or {}).get('services') or [])

    def _write(self, journal):
        self.journal = journal
        if self.store is not None:
            self.store.write(journal)

    def _at(self):
        return swap_journal.now_iso(self.clock)

    def begin(self, step):
        if self.journal is not None and self.journal.get('doing') != step and \
                not swap_journal.reached(self.journal, step):
            self._write(swap_journal.begin(self.journal, step, at=self._at()))

    def checkpoint(self, step, detail=None):
        if self.journal is not None:
            self._write(swap_journal.advance(self.journal, step, at=self._at(), detail=detail))

    def fail(self, error):
        if self.journal is not None:
            self._write(swap_journal.fail(self.journal, error, at=self._at()))

    def close(self, state, outcome, error=''):
        if self.journal is not None:
            self._write(swap_journal.close(self.journal, state, outcome, at=self._at(), error=error))


def _next_checkpoint(plan, index):
    for step in plan[index:]:
        if step['action'] == 'checkpoint':
            return step['target']
    return None


def execute(plan, remover, detection, journal=None, clock=time.time):
    """Run ``plan`` and return what happened; raise SwapFailed when a step fails.

    Before the point of no return (the ``replacement_active`` checkpoint), and
    while no package of a protecting product has been removed, a failure rolls
    back: the replacement is deactivated and Kaspersky's services are enabled
    and started again as they were (from the journal when an interrupted run
    stopped them). After it, nothing is rolled back: the replacement keeps
    protecting the host and the failure names the step that did not finish.
    """
    journal = journal or JournalWriter(None, None, clock)
    was_protected = bool(detection.get('realtime_protection_active'))
    activation = next((s for s in plan if s['action'] == 'activate_replacement'), None)
    point_of_no_return = swap_journal.POINT_OF_NO_RETURN['linux']
    done = {'executed': [], 'changed': False, 'past_point_of_no_return': swap_journal.past_point_of_no_return(
        journal.journal), 'protecting_removed': False, 'unprotected_window_s': None, 'rolled_back': False}
    stopped_at = active_at = None

    for index, step in enumerate(plan):
        if step['action'] == 'checkpoint':
            journal.checkpoint(step['target'])
            if step['target'] == point_of_no_return:
                done['past_point_of_no_return'] = True
            done['executed'].append(step)
            continue
        upcoming = _next_checkpoint(plan, index)
        if upcoming:
            journal.begin(upcoming)
        if stopped_at is None and was_protected and protecting(detection, step):
            stopped_at = clock()
        try:
            done['changed'] = remover.execute(step) or done['changed']
        except (RemovalError, OSError) as exc:
            _fail(exc, step, remover, journal, done, activation)
        if step is activation:
            active_at = clock()
            if step.get('already_active') and was_protected:
                stopped_at = active_at  # the replacement protected the host before Kaspersky stopped
        if step['action'] == 'remove_package' and protecting(detection, step):
            done['protecting_removed'] = True
        done['executed'].append(step)

    if stopped_at is not None and active_at is not None:
        done['unprotected_window_s'] = round(max(active_at - stopped_at, 0.0), 3)
    return done


def _fail(exc, step, remover, journal, done, activation):
    """Record a failed step, roll back while that is still possible, and raise SwapFailed."""
    msg = 'kaspersky_uninstall: step "%s" failed: %s' % (describe(step), exc)
    if not isinstance(exc, RemovalError):
        msg += ' (check permissions and that the path is not in use)'
    done['failed_step'] = step
    stopped_anything = any(s['action'] in ('stop_service', 'disable_service') for s in done['executed']) or \
        step['action'] in ('stop_service', 'disable_service', 'activate_replacement') or \
        any(s.get('was_active') for s in journal.services)
    if not done['past_point_of_no_return'] and not done['protecting_removed'] and \
            (stopped_anything or activation is not None):
        restored, errors = [], []
        for back in rollback_steps(done['executed'] + [step], journal.services, activation):
            try:
                remover.execute(back)
                restored.append(back)
            except (RemovalError, OSError) as back_exc:
                errors.append('%s failed: %s' % (describe(back), back_exc))
        done['rolled_back'] = not errors
        done['rollback'] = [describe(s) for s in restored]
        done['rollback_errors'] = errors
        started = sorted({s['target'] for s in restored if s['action'] == 'start_service'})
        if errors:
            msg += '; ROLLBACK INCOMPLETE: %s' % '; '.join(errors)
            journal.fail(msg)
        else:
            msg += '; rolled back: nothing was removed%s%s' % (
                ', the replacement was deactivated' if activation and activation.get('deactivate') else '',
                (' and Kaspersky\'s services (%s) were started again' % ', '.join(started)) if started else '')
            journal.close('rolled_back', 'failed', error=msg)
    else:
        if done['past_point_of_no_return']:
            msg += ('; past the point of no return: the replacement stays active and Kaspersky stays stopped and '
                    'disabled; rerun to finish the removal')
        journal.fail(msg)
    raise SwapFailed(msg, done, exc)
