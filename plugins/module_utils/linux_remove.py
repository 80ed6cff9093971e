# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Linux removal: plan from a detection result, then execute step by step.

``plan_removal`` is pure: it takes what ``linux.detect`` returned and the
operator's choices and returns the ordered list of steps. ``Remover`` runs
one step at a time through ``run_command`` and plain file operations, so a
failure part-way leaves a host that the next run (a fresh detection and a
fresh plan) can finish.

Order, from shared/reference/kaspersky.md section 1.4:
  1. stop and disable the services (Network Agent first, so the
     Administration Server cannot push a policy or task mid-removal, then the
     products in removal order);
  2. remove the packages in removal order (GUI, endpoint, file server, agent);
  3. stop processes that outlived their package;
  4. purge leftovers: data directories, unit files and init scripts, kernel
     modules, vendor repository entries and keys; vendor-wide directories only
     when no product of the vendor stays installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import time

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog


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


PROTECTING_KINDS = ('endpoint', 'fileserver')


def plan_removal(detection, products=None, exclude=None, force=False, purge_leftovers=True,
                 purge_repositories=True, stop_services=True, activate=None):
    """Return (steps, warnings). Each step is a dict with at least action, product and target.

    ``activate`` ({command, check, timeout}) is the replacement's activation: it
    runs right after Kaspersky's services are stopped and before any package is
    removed, so the unprotected window is only as long as that start takes,
    and a failed activation can restart Kaspersky's services.
    """
    targets, warnings = select_targets(detection, products, exclude)
    target_ids = {t['id'] for t in targets}
    steps = []

    # 1. services: the agent first, then the rest in removal order
    if stop_services:
        ordered = sorted(targets, key=lambda p: (p['kind'] != 'agent', p.get('removal_order') or 999))
        for product in ordered:
            for service in product['services']:
                if service.get('active'):
                    steps.append({'action': 'stop_service', 'product': product['id'], 'target': service['name']})
                if service.get('enabled'):
                    steps.append({'action': 'disable_service', 'product': product['id'], 'target': service['name']})

    # 1b. the replacement takes over before anything is removed
    if activate and targets:
        steps.append({'action': 'activate_replacement', 'product': None, 'target': ' '.join(activate['command']),
                      'command': list(activate['command']), 'check': list(activate.get('check') or []),
                      'timeout': int(activate.get('timeout') or 60)})

    # 2. packages, in removal order (installed or conffiles-only)
    for product in targets:
        for package in product['packages']:
            steps.append({'action': 'remove_package', 'product': product['id'], 'target': package['name'],
                          'manager': package['manager'], 'state': package['state'], 'force': bool(force)})

    # 3. processes that belong to targeted products (they outlive their package only when something broke)
    for product in targets:
        for proc in product['processes']:
            steps.append({'action': 'stop_process', 'product': product['id'], 'target': proc['pid'],
                          'path': proc['path']})

    if purge_leftovers:
        # 4a. product paths, unit files and kernel modules of the targets
        for product in targets:
            for path in product['paths']:
                steps.append({'action': 'remove_path', 'product': product['id'], 'target': path})
            for path in product['unit_files']:
                steps.append({'action': 'remove_unit', 'product': product['id'], 'target': path})
            for module in product['kernel_modules']:
                steps.append({'action': 'unload_kernel_module', 'product': product['id'], 'target': module})
        # 4b. vendor-wide traces, only when nothing of the vendor stays installed
        staying = [p['id'] for p in detection['products'] if p['state'] == 'installed' and p['id'] not in target_ids]
        if staying:
            if any(lo['product'] is None for lo in detection['leftovers']):
                warnings.append('vendor-wide leftovers kept while %s stays installed' % ', '.join(staying))
        else:
            for path in detection.get('vendor_paths', ()):
                steps.append({'action': 'remove_path', 'product': None, 'target': path})
            for leftover in detection['leftovers']:
                if leftover['product'] is not None:
                    continue
                kind = leftover['type']
                if kind == 'path':
                    steps.append({'action': 'remove_path', 'product': None, 'target': leftover['path']})
                elif kind == 'process':
                    steps.append({'action': 'stop_process', 'product': None, 'target': leftover['pid'],
                                  'path': leftover['path']})
                elif kind == 'kernel_module':
                    steps.append({'action': 'unload_kernel_module', 'product': None, 'target': leftover['name']})
                elif kind == 'repository' and purge_repositories:
                    steps.append({'action': 'remove_repository', 'product': None, 'target': leftover['path'],
                                  'mode': 'comment' if leftover.get('reason') == 'entry' and
                                  not _vendor_named(leftover['path']) else 'delete'})
        if any(s['action'] in ('remove_unit', 'disable_service') for s in steps):
            steps.append({'action': 'daemon_reload', 'product': None, 'target': 'systemd'})

    # drop duplicates (a path can be both a product path and a leftover), keep order
    unique = []
    seen = set()
    for step in steps:
        key = (step['action'], str(step['target']))
        if key not in seen:
            seen.add(key)
            unique.append(step)
    return unique, warnings


def _vendor_named(path):
    return 'kaspersky' in os.path.basename(path).lower()


def describe(step):
    """One line per step, for the plan shown in check mode and diffs."""
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
        'start_service': 'restart service %(target)s',
        'enable_service': 're-enable service %(target)s',
    }
    return verbs[step['action']] % dict(step, manager=step.get('manager', ''), path=step.get('path', ''))


class Remover:
    """Execute planned steps. ``root`` lets tests run against a fake tree."""

    DPKG_SCRIPTS = ('prerm', 'postrm')

    def __init__(self, run_command, root='/', which=None, sleep=time.sleep, kill=os.kill, clock=time.time):
        self.clock = clock
        self.run_command = run_command
        self.root = root
        self.which = which
        self.sleep = sleep
        self.kill = kill
        self.commands = []
        self.reboot_reasons = []

    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def run(self, argv, step, what):
        self.commands.append(list(argv))
        rc, out, err = self.run_command(list(argv))
        if rc != 0:
            raise RemovalError('%s failed (rc=%s): %s' % (what, rc, (err or out).strip()[:400]),
                               step=step, rc=rc, stdout=out, stderr=err)
        return out

    def tool(self, name):
        found = self.which(name) if self.which else None
        if not found:
            raise RemovalError('%s is not available on this host; it is needed to %s' % (name, 'remove packages'))
        return found

    def execute(self, step):
        """Run one step; return whether it changed the host."""
        return getattr(self, '_' + step['action'])(step) is not False

    # -- steps ------------------------------------------------------------
    def _stop_service(self, step):
        systemctl = self.which('systemctl') if self.which else None
        if systemctl and os.path.isdir(self.path('/run/systemd/system')):
            self.run([systemctl, 'stop', '%s.service' % step['target']], step, 'stopping %s' % step['target'])
        else:
            script = '/etc/init.d/%s' % step['target']
            self.run([script, 'stop'], step, 'stopping %s' % step['target'])

    def _start_service(self, step):
        systemctl = self.which('systemctl') if self.which else None
        if systemctl and os.path.isdir(self.path('/run/systemd/system')):
            self.run([systemctl, 'start', '%s.service' % step['target']], step, 'restarting %s' % step['target'])
        else:
            self.run(['/etc/init.d/%s' % step['target'], 'start'], step, 'restarting %s' % step['target'])

    def _enable_service(self, step):
        systemctl = self.which('systemctl') if self.which else None
        if systemctl:
            self.run([systemctl, 'enable', '%s.service' % step['target']], step, 're-enabling %s' % step['target'])

    def _activate_replacement(self, step):
        self.run(step['command'], step, 'activating the replacement (%s)' % ' '.join(step['command']))
        if not step.get('check'):
            return True
        deadline = self.clock() + step.get('timeout', 60)
        while True:
            self.commands.append(list(step['check']))
            rc, out, err = self.run_command(list(step['check']))
            if rc == 0:
                return True
            if self.clock() >= deadline:
                raise RemovalError('the replacement did not confirm real-time protection within %ss (%s: rc=%s %s)'
                                   % (step.get('timeout', 60), ' '.join(step['check']), rc, (err or out).strip()[:200]),
                                   step=step, rc=rc, stdout=out, stderr=err)
            self.sleep(0.2)

    def _disable_service(self, step):
        systemctl = self.which('systemctl') if self.which else None
        if systemctl:
            self.run([systemctl, 'disable', '%s.service' % step['target']], step, 'disabling %s' % step['target'])
        else:
            update_rc = self.which('update-rc.d') if self.which else None
            if update_rc:
                self.run([update_rc, '-f', step['target'], 'remove'], step, 'disabling %s' % step['target'])

    def _remove_package(self, step):
        name = step['target']
        if step['manager'] == 'dpkg':
            dpkg = self.tool('dpkg')
            try:
                self.run([dpkg, '--purge', name], step, 'removing package %s with dpkg' % name)
            except RemovalError as exc:
                if not step.get('force'):
                    exc.args = (str(exc) + '; its maintainer scripts may be failing: fix the cause, or rerun with'
                                ' force=true to remove the package without them',)
                    raise
                self._disable_dpkg_scripts(name)
                self.run([dpkg, '--purge', '--force-remove-reinstreq', '--force-depends', name], step,
                         'force-removing package %s with dpkg (maintainer scripts disabled)' % name)
        elif step['manager'] == 'rpm':
            rpm = self.tool('rpm')
            argv = [rpm, '-e', name]
            try:
                self.run(argv, step, 'removing package %s with rpm' % name)
            except RemovalError as exc:
                if not step.get('force'):
                    exc.args = (str(exc) + '; its scriptlets may be failing: fix the cause, or rerun with'
                                ' force=true to remove the package with --noscripts',)
                    raise
                self.run([rpm, '-e', '--noscripts', '--nodeps', name], step,
                         'force-removing package %s with rpm --noscripts' % name)
        else:
            raise RemovalError('unsupported package manager %s for %s' % (step['manager'], name), step=step)

    def _disable_dpkg_scripts(self, name):
        for script in self.DPKG_SCRIPTS:
            for candidate in ('/var/lib/dpkg/info/%s.%s' % (name, script),
                              '/var/lib/dpkg/info/%s:amd64.%s' % (name, script)):
                full = self.path(candidate)
                if os.path.exists(full):
                    os.replace(full, full + '.phaseout-disabled')

    def _stop_process(self, step):
        pid = int(step['target'])
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
            try:
                self.kill(pid, sig)
            except ProcessLookupError:
                return
            waited = 0.0
            while waited < wait:
                if not os.path.exists(self.path('/proc/%d' % pid)):
                    return
                self.sleep(0.1)
                waited += 0.1
        raise RemovalError('process %d (%s) did not stop after SIGKILL' % (pid, step.get('path')), step=step)

    def _remove_path(self, step):
        full = self.path(step['target'])
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        elif os.path.lexists(full):
            os.unlink(full)

    def _remove_unit(self, step):
        full = self.path(step['target'])
        if os.path.lexists(full):
            os.unlink(full)
        dropins = full + '.d'
        if os.path.isdir(dropins):
            shutil.rmtree(dropins)

    def _unload_kernel_module(self, step):
        modprobe = self.which('modprobe') if self.which else None
        rmmod = self.which('rmmod') if self.which else None
        tool = modprobe or rmmod
        if tool:
            argv = [tool, '-r', step['target']] if tool == modprobe else [tool, step['target']]
            self.commands.append(argv)
            rc, _out, _err = self.run_command(argv)
            if rc == 0:
                return True
        # still loaded (in use, or no tool): only a reboot clears it
        self.reboot_reasons.append('kernel module %s is still loaded' % step['target'])
        return False

    def _remove_repository(self, step):
        full = self.path(step['target'])
        if not os.path.lexists(full):
            return
        if step.get('mode') != 'comment':
            os.unlink(full)
            return
        with open(full, encoding='utf-8', errors='replace') as handle:
            lines = handle.read().splitlines(True)
        with open(full, 'w', encoding='utf-8') as handle:
            for line in lines:
                if 'kaspersky' in line.lower() and not line.lstrip().startswith('#'):
                    line = '# disabled by phaseout: ' + line
                handle.write(line)

    def _daemon_reload(self, step):
        systemctl = self.which('systemctl') if self.which else None
        if systemctl and os.path.isdir(self.path('/run/systemd/system')):
            self.run([systemctl, 'daemon-reload'], step, 'reloading systemd')
            self.commands.append([systemctl, 'reset-failed'])
            self.run_command([systemctl, 'reset-failed'])


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


def rollback_steps(executed):
    """Steps that give Kaspersky its protection back after a failed activation.

    Only services this run stopped or disabled are restarted; nothing is
    reinstalled. Used while no Kaspersky package has been removed yet.
    """
    steps = []
    for step in executed:
        if step['action'] == 'disable_service':
            steps.append({'action': 'enable_service', 'product': step['product'], 'target': step['target']})
    for step in executed:
        if step['action'] == 'stop_service':
            steps.append({'action': 'start_service', 'product': step['product'], 'target': step['target']})
    return steps


def protecting(detection, step):
    """Whether ``step`` stops the real-time protection of a Kaspersky product."""
    if step['action'] not in ('stop_service', 'remove_package', 'stop_process'):
        return False
    kinds = {p['id']: p['kind'] for p in detection['products']}
    return kinds.get(step['product']) in PROTECTING_KINDS
