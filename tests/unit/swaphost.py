# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated Linux host for the swap: systemd units, the dpkg database and a replacement.

It answers the commands kaspersky_uninstall runs (systemctl show/stop/start/
enable/disable, dpkg --purge, the replacement's activation, check, persist and
deactivate commands) by changing its own state, so a whole run of the module
can be followed and its end state checked. Faults are switched on per test:
a failing maintainer script, a replacement that never confirms, a service that
will not stop.

The real-host behaviour of the same code is tested on lab containers by the
Molecule scenarios and the fault-injection suite (tests/faults/).
"""
from __future__ import annotations

import os
import shutil

from fakehost import FakeHost

SYSTEMCTL = '/usr/bin/systemctl'
DPKG = '/usr/bin/dpkg'
CHECK = ['/bin/sh', '-c', 'check clamonacc']
ACTIVATE = {'command': [SYSTEMCTL, 'start', 'clamav-clamonacc.service'], 'check': CHECK,
            'persist': [SYSTEMCTL, 'enable', 'clamav-clamonacc.service'],
            'deactivate': [SYSTEMCTL, 'disable', '--now', 'clamav-clamonacc.service'], 'timeout': 3}

PACKAGES = {
    'kesl': {
        'version': '12.1.0-1125',
        'files': ['/opt/kaspersky/kesl/sbin/kesl', '/lib/systemd/system/kesl.service', '/opt/kaspersky/kesl/bin/kesl-control'],
        'data': ['/var/opt/kaspersky/kesl/common/kesl.ini'], 'service': 'kesl', 'pid': 412},
    'klnagent64': {
        'version': '15.1.0-20748',
        'files': ['/opt/kaspersky/klnagent64/sbin/klnagent', '/lib/systemd/system/klnagent64.service',
                  '/opt/kaspersky/klnagent64/bin/klnagchk'],
        'data': ['/var/opt/kaspersky/klnagent/state'], 'service': 'klnagent64', 'pid': 420},
}


class SwapHost(FakeHost):
    def __init__(self, root, packages=('kesl', 'klnagent64')):
        super().__init__(root)
        self.systemd()
        self.executable(DPKG)
        self.write('/proc/modules', 'ext4 1003520 1 - Live 0x0000000000000000\n')
        self.installed = {}
        self.units = {'clamav-clamonacc': {'active': False, 'enabled': False}}
        self.fail_prerm = set()
        self.activation_fails = False
        self.stop_fails = set()
        self.log = []
        for name in packages:
            self.install(name)
        self.responses = {(): self.answer}

    # -- state --------------------------------------------------------------
    def install(self, name):
        spec = PACKAGES[name]
        self.installed[name] = spec['version']
        for path in spec['files']:
            self.executable(path) if '/bin/' in path or '/sbin/' in path else self.write(path, '[Service]\n')
        for path in spec['data']:
            self.write(path, 'x')
        self.units[spec['service']] = {'active': True, 'enabled': True}
        self._start_process(spec)
        self._write_status()

    def _start_process(self, spec):
        pid = spec['pid']
        if not os.path.exists(self.path('/proc/%d/cmdline' % pid)):
            exe = spec['files'][0]
            self.process(pid, exe)
            self.write('/proc/%d/stat' % pid, '%d (x) S 1 1 1 0 -1 0 %s %d 0\n' % (pid, ' '.join(['0'] * 12), 1000 + pid))

    def _stop_process(self, spec):
        pid = self.path('/proc/%d' % spec['pid'])
        if os.path.isdir(pid):
            shutil.rmtree(pid)

    def _write_status(self):
        stanzas = ['Package: bash\nStatus: install ok installed\nVersion: 5.2\nArchitecture: amd64\n']
        for name, version in sorted(self.installed.items()):
            stanzas.append('Package: %s\nStatus: install ok installed\nVersion: %s\nArchitecture: amd64\n'
                           % (name, version))
        self.write('/var/lib/dpkg/status', '\n'.join(stanzas))

    def service_of(self, name):
        for spec in PACKAGES.values():
            if spec['service'] == name:
                return spec
        return None

    # -- commands -------------------------------------------------------------
    def answer(self, argv):
        self.log.append(list(argv))
        if argv == CHECK:
            return (0, '', '') if self.units['clamav-clamonacc']['active'] else (1, '', 'no fanotify marks')
        if argv[0] == SYSTEMCTL:
            return self.systemctl(argv[1:])
        if argv[0] == DPKG and argv[1] == '--purge':
            return self.purge(argv[-1])
        raise AssertionError('unexpected command: %r' % (argv,))

    def systemctl(self, args):
        verb, rest = args[0], args[1:]
        if verb == 'show':
            blocks = []
            for unit in [u for u in rest if u.endswith('.service')]:
                name = unit[:-len('.service')]
                state = self.units.get(name)
                if state is None or (name in ('kesl', 'klnagent64') and
                                     not os.path.exists(self.path('/lib/systemd/system/%s.service' % name))):
                    blocks.append('Id=%s\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\n'
                                  % unit)
                    continue
                blocks.append('Id=%s\nLoadState=loaded\nActiveState=%s\nSubState=%s\nUnitFileState=%s\n' % (
                    unit, 'active' if state['active'] else 'inactive', 'running' if state['active'] else 'dead',
                    'enabled' if state['enabled'] else 'disabled'))
            return 0, '\n'.join(blocks), ''
        if verb in ('daemon-reload', 'reset-failed'):
            return 0, '', ''
        now = '--now' in rest
        for unit in [u for u in rest if u.endswith('.service')]:
            name = unit[:-len('.service')]
            state = self.units.setdefault(name, {'active': False, 'enabled': False})
            spec = self.service_of(name)
            if verb == 'stop' or (verb == 'disable' and now):
                if name in self.stop_fails:
                    return 1, '', 'Job for %s failed' % unit
                state['active'] = False
                if spec:
                    self._stop_process(spec)
            if verb == 'start':
                if name == 'clamav-clamonacc' and self.activation_fails:
                    state['active'] = False  # starts, but never places its marks
                else:
                    state['active'] = True
                    if spec:
                        self._start_process(spec)
            if verb == 'enable':
                state['enabled'] = True
            if verb == 'disable':
                state['enabled'] = False
        return 0, '', ''

    def purge(self, name):
        if name in self.fail_prerm:
            return 1, '', ('dpkg: error processing package %s (--purge):\n installed %s package pre-removal script '
                           'subprocess returned error exit status 1\n' % (name, name))
        if name not in self.installed:
            return 0, '', ''
        spec = PACKAGES[name]
        del self.installed[name]
        self.units[spec['service']] = {'active': False, 'enabled': False}
        self._stop_process(spec)
        for path in spec['files']:
            if os.path.lexists(self.path(path)):
                os.unlink(self.path(path))
        self._write_status()
        return 0, '', ''


class ModuleExit(Exception):
    def __init__(self, failed, result):
        super().__init__(result.get('msg', ''))
        self.failed = failed
        self.result = result


class FakeModule:
    """The part of AnsibleModule that kaspersky_uninstall.run uses."""

    def __init__(self, host, check_mode=False):
        self.host = host
        self.check_mode = check_mode
        self.warnings = []

    def run_command(self, argv, **kwargs):
        return self.host.run_command(argv, **kwargs)

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        raise ModuleExit(False, result)

    def fail_json(self, **result):
        raise ModuleExit(True, result)
