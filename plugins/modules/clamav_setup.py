#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: clamav_setup
short_description: Stage or activate ClamAV on a host in one call
version_added: 0.3.0
description:
  - O(state=staged) installs the packages (C(apt-get), waiting for the package manager's lock), writes the
    configuration files the role rendered (C(clamd.conf), C(freshclam.conf), the on-access unit, drop-ins, extra
    signatures), copies a local signature directory, downloads the first official signatures with C(freshclam) when
    that is the source, and starts and enables clamd and its socket, waiting until clamd answers. The on-access
    scanner is never started here (Kaspersky's own fanotify scanning may still run); one that an earlier activation
    left running is restarted when its settings changed, never stopped.
  - O(state=active) starts and enables clamd and the on-access scanner and waits until clamonacc holds its fanotify
    marks (real-time protection on). It refuses a host that is not staged.
  - Only what differs is changed; what a file change needs follows from its O(files[].kind) (a unit or drop-in
    reloads systemd, C(clamd.conf) restarts clamd and a running clamonacc, a signature file reloads clamd's
    databases, C(freshclam.conf) restarts freshclam).
  - One call replaces the two dozen tasks (each a round trip and a job event) staging took as separate tasks; the
    role C(phaseout.antivirus.provider_clamav) renders the files and runs it in its C(stage) and C(activate) entry
    points.
author:
  - phaseout maintainers (@phaseout)
options:
  state:
    description: V(staged) installs, configures and starts clamd only; V(active) turns on-access scanning on.
    type: str
    choices: [staged, active]
    default: staged
  packages:
    description: Debian packages to install (O(state=staged)).
    type: list
    elements: str
    default: [clamav, clamav-daemon, clamav-freshclam, clamdscan]
  apt_cache_valid_time:
    description: Refresh the apt cache first when it is older than this many seconds (0, never), only when a package
      is missing.
    type: int
    default: 3600
  lock_timeout:
    description: Seconds C(apt-get) waits for another package operation's lock.
    type: int
    default: 300
  files:
    description: Files to write (O(state=staged)), each only when its content, owner, group or mode differs.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; missing parent directories are created (root, 0755).
        type: path
        required: true
      content:
        description: The file's content.
        type: str
        required: true
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
      mode:
        description: Octal mode, for example V('0644').
        type: str
        default: '0644'
      kind:
        description: What the file is, which decides what a change restarts.
        type: str
        choices: [clamd, freshclam, unit, dropin, signature, other]
        default: other
  secret_values:
    description: Values to hide in every output (the proxy password in C(freshclam.conf)).
    type: list
    elements: str
    default: []
  directories:
    description: Directories to create (for example the quarantine directory), each with its mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Octal mode.
        type: str
        default: '0755'
  database_copy_from:
    description: A directory on the host whose signature databases are copied into O(database_dir) (owned by
      O(user)); empty, none.
    type: path
    default: ''
  database_dir:
    description: ClamAV's database directory.
    type: path
    default: /var/lib/clamav
  user:
    description: clamd's user (owner of the databases).
    type: str
    default: clamav
  group:
    description: clamd's group.
    type: str
    default: clamav
  freshclam:
    description: The signatures come from freshclam (official or private mirrors). The first download runs in the
      foreground when the official C(main) and C(daily) databases are missing; then the freshclam daemon runs. When
      false the freshclam daemon is stopped and disabled.
    type: bool
    default: true
  freshclam_timeout:
    description: Seconds the first freshclam download may take.
    type: int
    default: 900
  daemon_service:
    description: The clamd unit.
    type: str
    default: clamav-daemon.service
  daemon_socket:
    description: The clamd socket unit.
    type: str
    default: clamav-daemon.socket
  onaccess_service:
    description: The on-access scanner unit.
    type: str
    default: clamav-clamonacc.service
  freshclam_service:
    description: The freshclam daemon unit.
    type: str
    default: clamav-freshclam.service
  clamdscan:
    description: Path of clamdscan (asks clamd whether it answers).
    type: path
    default: /usr/bin/clamdscan
  freshclam_command:
    description: Path of freshclam.
    type: path
    default: /usr/bin/freshclam
  activate_timeout:
    description: Seconds clamonacc gets to hold its fanotify marks (O(state=active)).
    type: int
    default: 60
  onaccess_include_paths:
    description: The watched paths, named in the failure message of O(state=active).
    type: list
    elements: path
    default: []
  log_dir:
    description: ClamAV's log directory, named in the failure message of O(state=active).
    type: path
    default: /var/log/clamav
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what would change and changes nothing; before the packages are installed the configuration and
      service steps that depend on them are only announced.
  diff_mode:
    support: full
    details: One diff per file that would change (values of O(secret_values) hidden).
  platform:
    support: full
    platforms: posix
notes:
  - Needs root. Debian hosts with systemd; any other host fails before anything changes, with a message naming it.
seealso:
  - module: phaseout.antivirus.clamav_verify
'''

EXAMPLES = r'''
- name: Stage ClamAV (clamd running, on-access scanning configured but not started)
  phaseout.antivirus.clamav_setup:
    state: staged
    freshclam: false
    files:
      - path: /etc/clamav/clamd.conf
        content: "{{ lookup('ansible.builtin.template', 'clamd.conf.j2') }}"
        kind: clamd
      - path: /var/lib/clamav/local.hdb
        content: "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature-local\n"
        owner: clamav
        group: clamav
        kind: signature

- name: Turn on-access scanning on
  phaseout.antivirus.clamav_setup:
    state: active
    onaccess_include_paths: [/home]
'''

RETURN = r'''
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["install clamav, clamav-daemon, clamav-freshclam, clamdscan", "write /etc/clamav/clamd.conf (created)",
           "reload systemd", "start clamav-daemon.service"]
installed:
  description: The packages installed by this run.
  returned: always
  type: list
  elements: str
pending:
  description: Check mode only, the packages are missing, so the steps that need them were only announced.
  returned: always
  type: bool
units:
  description: The ClamAV units at the end (load, active, sub, enabled, main_pid).
  returned: always
  type: dict
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils import provider_health
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import run_command
from ansible_collections.phaseout.antivirus.plugins.module_utils.provider_host import (
    Host, ensure_dir, file_needs, file_state, os_release, platform_error, text_diff, write_file)

OFFICIAL = ('main', 'daily')
PACKAGES = ('clamav', 'clamav-daemon', 'clamav-freshclam', 'clamdscan')
DB_SUFFIXES = ('.cvd', '.cld', '.cud', '.hdb', '.hsb', '.hdu', '.hsu', '.mdb', '.msb', '.mdu', '.msu', '.ndb', '.ndu',
               '.ldb', '.ldu', '.cdb', '.yar', '.yara', '.fp', '.sfp', '.ign', '.ign2', '.wdb', '.pdb', '.gdb', '.ftm',
               '.cbc', '.info', '.dat')


class Setup:
    def __init__(self, module, execute=None):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.host = Host(module, timeout=300, execute=execute)
        self.actions = []
        self.diff = []
        self.changed = False
        self.installed = []

    # -- helpers ---------------------------------------------------------------
    def fail(self, msg, result=None):
        data = dict(actions=self.actions, commands=self.host.commands, installed=self.installed, pending=False)
        if result:
            data.update(rc=result['rc'], stdout=result['stdout'], stderr=result['stderr'])
        self.module.fail_json(msg=msg, **data)

    def act(self, text):
        self.actions.append(text)
        self.changed = True

    def must(self, argv, what, timeout=None, environ=None):
        result = self.host.run(argv, timeout=timeout, environ=environ)
        if result['rc'] != 0:
            self.fail('%s failed (rc=%s): %s' % (what, result['rc'], (result['stderr'] or result['stdout']).strip()[-600:]),
                      result)
        return result

    def units(self):
        p = self.params
        return provider_health.systemd_units(self.host.units(
            [p['daemon_socket'], p['daemon_service'], p['onaccess_service'], p['freshclam_service']]))

    def systemctl(self, verb, unit):
        self.act('%s %s' % (verb, unit))
        if not self.check:
            self.must(['systemctl', verb, unit], 'systemctl %s %s' % (verb, unit))

    def ensure_running(self, units, unit, enable=True):
        state = units.get(unit) or {}
        if state.get('load') != 'loaded' and not self.check:
            self.fail('%s is not installed on this host' % unit)
        if enable and state.get('enabled') not in ('enabled', 'static', 'alias', 'enabled-runtime', 'indirect'):
            self.systemctl('enable', unit)
        if state.get('active') != 'active':
            self.systemctl('start', unit)

    # -- staged ----------------------------------------------------------------
    def packages(self):
        p = self.params
        have = provider_health.installed_packages(self.host.dpkg(p['packages']))
        missing = [name for name in p['packages'] if name not in have]
        if not missing:
            return True
        self.act('install %s' % ', '.join(missing))
        if self.check:
            return False
        environ = {'DEBIAN_FRONTEND': 'noninteractive', 'LC_ALL': 'C'}
        lock = ['-o', 'DPkg::Lock::Timeout=%d' % p['lock_timeout']]
        if p['apt_cache_valid_time'] > 0 and self._cache_age() > p['apt_cache_valid_time']:
            self.actions.append('refresh the apt cache')
            self.must(['apt-get', '-q'] + lock + ['update'], 'apt-get update', timeout=600, environ=environ)
        options = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold']
        self.must(['apt-get', '-q', '-y'] + lock + options + ['install'] + missing,
                  'installing %s' % ', '.join(missing), timeout=p['lock_timeout'] + 900, environ=environ)
        self.installed = missing
        return True

    @staticmethod
    def _cache_age():
        for path in ('/var/lib/apt/periodic/update-success-stamp', '/var/lib/apt/lists'):
            try:
                return time.time() - os.stat(path).st_mtime
            except OSError:
                continue
        return float('inf')

    def write_files(self):
        """Write what differs; return the set of kinds that changed."""
        changed = set()
        secret = bool(self.params['secret_values'])
        for item in self.params['files']:
            path = item['path']
            content = item['content'].encode('utf-8')
            needs = file_needs(path, content, item['owner'], item['group'], item['mode'])
            if not needs:
                continue
            before, _st = file_state(path)
            self.act('write %s (%s)' % (path, ', '.join(needs)))
            if 'content' in needs or 'created' in needs:
                self.diff.append(text_diff(path, before, content, hide=secret and item['kind'] == 'freshclam'))
            changed.add(item['kind'])
            if not self.check:
                try:
                    if ensure_dir(os.path.dirname(path)):
                        self.actions.append('create %s' % os.path.dirname(path))
                    write_file(path, content, item['owner'], item['group'], item['mode'])
                except (OSError, KeyError) as exc:
                    self.fail('cannot write %s: %s' % (path, exc))
        return changed

    def directories(self):
        for item in self.params['directories']:
            path, mode = item['path'], int(item['mode'], 8)
            if os.path.isdir(path) and (os.stat(path).st_mode & 0o7777) == mode:
                continue
            self.act('create %s (mode %s)' % (path, item['mode']))
            if not self.check:
                ensure_dir(path, mode)
                os.chmod(path, mode)

    def copy_databases(self):
        p = self.params
        source = p['database_copy_from']
        if not source:
            return False
        if not os.path.isdir(source):
            if self.check:
                self.actions.append('copy the signature databases from %s (not there yet in this dry run)' % source)
                return False
            self.fail('the local signature directory %s does not exist on this host' % source)
        copied = False
        for name in sorted(os.listdir(source)):
            src = os.path.join(source, name)
            if not (os.path.isfile(src) and name.endswith(DB_SUFFIXES)):
                continue
            with open(src, 'rb') as handle:
                content = handle.read()
            dest = os.path.join(p['database_dir'], name)
            needs = file_needs(dest, content, p['user'], p['group'], '0644')
            if needs:
                self.act('copy %s to %s (%s)' % (src, dest, ', '.join(needs)))
                copied = True
                if not self.check:
                    write_file(dest, content, p['user'], p['group'], '0644')
        return copied

    def official_databases_present(self):
        names = {os.path.splitext(name)[0] for name in os.listdir(self.params['database_dir'])
                 if name.endswith(('.cvd', '.cld'))} if os.path.isdir(self.params['database_dir']) else set()
        return all(name in names for name in OFFICIAL)

    def freshclam(self, units, conf_changed):
        p = self.params
        unit = p['freshclam_service']
        state = units.get(unit) or {}
        if not p['freshclam']:
            if state.get('active') == 'active':
                self.systemctl('stop', unit)
            if state.get('enabled') == 'enabled':
                self.systemctl('disable', unit)
            return
        if not self.official_databases_present():
            if state.get('active') == 'active':
                self.systemctl('stop', unit)  # it would hold the database lock
                state = dict(state, active='inactive')
            self.act('download the first signatures with freshclam')
            if not self.check:
                result = self.host.run([p['freshclam_command'], '--stdout'], timeout=p['freshclam_timeout'])
                if result['rc'] != 0:
                    tail = ' / '.join(result['stdout'].strip().splitlines()[-3:]) or result['stderr'].strip()
                    self.fail('freshclam could not download the ClamAV databases (%s). Check '
                              'provider_clamav_freshclam_database_mirrors / _private_mirrors and the proxy settings, or '
                              'use provider_clamav_database_source=local on an air-gapped host.' % tail, result)
        elif conf_changed and state.get('active') == 'active':
            self.systemctl('restart', unit)
            state = dict(state, active='active')
        self.ensure_running({unit: state}, unit)

    def staged(self):
        p = self.params
        if not self.packages():
            return True  # check mode before the packages exist: nothing further can be simulated
        units = self.units()
        onaccess_was_active = (units.get(p['onaccess_service']) or {}).get('active') == 'active'
        if not p['freshclam']:
            self.freshclam(units, False)
        kinds = self.write_files()
        signatures = self.copy_databases()
        self.directories()
        if kinds & {'unit', 'dropin'}:
            self.act('reload systemd')
            if not self.check:
                self.must(['systemctl', 'daemon-reload'], 'systemctl daemon-reload')
        if p['freshclam']:
            self.freshclam(units, 'freshclam' in kinds)
        daemon = units.get(p['daemon_service']) or {}
        restarted = False
        if kinds & {'clamd', 'dropin'}:
            self.systemctl('restart', p['daemon_service'])
            restarted = True
        elif (signatures or 'signature' in kinds) and daemon.get('active') == 'active':
            self.systemctl('reload', p['daemon_service'])
        if onaccess_was_active and kinds & {'clamd', 'unit'}:
            self.systemctl('restart', p['onaccess_service'])
        units = units if self.check else self.units()
        if restarted and self.check:
            units[p['daemon_service']] = dict(daemon, active='active')
        self.ensure_running(units, p['daemon_socket'])
        self.ensure_running(units, p['daemon_service'])
        if not self.check:
            self.must([p['clamdscan'], '--ping', '60:2'], 'waiting for clamd to answer (clamdscan --ping)', timeout=150)
        return False

    # -- active ----------------------------------------------------------------
    def active(self):
        p = self.params
        units = self.units()
        onaccess = units.get(p['onaccess_service']) or {}
        if onaccess.get('load') != 'loaded':
            if self.check:
                self.actions.append('%s is not installed: run the stage entry point first' % p['onaccess_service'])
                return
            self.fail('%s is not installed on this host: run the stage entry point of provider_clamav before activate.'
                      % p['onaccess_service'])
        self.ensure_running(units, p['daemon_service'])
        self.ensure_running(units, p['onaccess_service'])
        if self.check:
            return
        deadline = time.time() + p['activate_timeout']
        while True:
            pid = (self.units().get(p['onaccess_service']) or {}).get('main_pid')
            if pid and self.host.fanotify_marks(pid)['rc'] == 0:
                return
            if time.time() >= deadline:
                self.fail('clamonacc is not watching %s after %s s. It needs CAP_SYS_ADMIN and a kernel with '
                          'CONFIG_FANOTIFY_ACCESS_PERMISSIONS; see %s/clamonacc.log and `journalctl -u %s`.'
                          % (', '.join(p['onaccess_include_paths']) or 'its paths', p['activate_timeout'],
                             p['log_dir'], p['onaccess_service']))
            time.sleep(0.25)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['staged', 'active'], default='staged'),
            packages=dict(type='list', elements='str', default=list(PACKAGES)),
            apt_cache_valid_time=dict(type='int', default=3600),
            lock_timeout=dict(type='int', default=300),
            files=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                content=dict(type='str', required=True),
                owner=dict(type='str', default='root'),
                group=dict(type='str', default='root'),
                mode=dict(type='str', default='0644'),
                kind=dict(type='str', choices=['clamd', 'freshclam', 'unit', 'dropin', 'signature', 'other'],
                          default='other'),
            )),
            secret_values=dict(type='list', elements='str', default=[], no_log=True),
            directories=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                mode=dict(type='str', default='0755'),
            )),
            database_copy_from=dict(type='path', default=''),
            database_dir=dict(type='path', default='/var/lib/clamav'),
            user=dict(type='str', default='clamav'),
            group=dict(type='str', default='clamav'),
            freshclam=dict(type='bool', default=True),
            freshclam_timeout=dict(type='int', default=900),
            daemon_service=dict(type='str', default='clamav-daemon.service'),
            daemon_socket=dict(type='str', default='clamav-daemon.socket'),
            onaccess_service=dict(type='str', default='clamav-clamonacc.service'),
            freshclam_service=dict(type='str', default='clamav-freshclam.service'),
            clamdscan=dict(type='path', default='/usr/bin/clamdscan'),
            freshclam_command=dict(type='path', default='/usr/bin/freshclam'),
            activate_timeout=dict(type='int', default=60),
            onaccess_include_paths=dict(type='list', elements='path', default=[]),
            log_dir=dict(type='path', default='/var/log/clamav'),
        ),
        supports_check_mode=True,
    )
    for item in module.params['files']:
        if not os.path.isabs(item['path']):
            module.fail_json(msg='clamav_setup: files[].path must be absolute, got %r' % item['path'])
        try:
            int(item['mode'], 8)
        except ValueError:
            module.fail_json(msg='clamav_setup: files[].mode must be octal like 0644, got %r' % item['mode'])
    error = platform_error('provider_clamav', os_release(),
                           "Use provider_generic with the vendor's package for this platform.")
    if error:
        module.fail_json(msg=error)

    setup = Setup(module, execute=run_command)
    pending = False
    if module.params['state'] == 'staged':
        pending = setup.staged()
        if pending:
            setup.actions.append('check mode: the configuration, signature and service steps that need the packages '
                                 '(user clamav, /etc/clamav, the units) are skipped in this dry run')
    else:
        setup.active()
    result = dict(changed=setup.changed, actions=setup.actions, installed=setup.installed, pending=pending,
                  units=setup.units(), commands=setup.host.commands)
    if module._diff and setup.diff:
        result['diff'] = setup.diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
