#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: clamav_verify
short_description: Check ClamAV against phaseout's health contract on the host in one call
version_added: 0.3.0
description:
  - Reads, on the host, everything the health contract needs, namely the ClamAV packages (C(dpkg-query)), the clamd and
    on-access scanner units (C(systemctl show)), the signature databases, clamd's version and database date
    (C(clamdscan --version)) and the fanotify marks the on-access scanner holds; then runs the EICAR tests,
    an on-demand scan by clamd of an EICAR file outside the watched paths and, when real-time protection is
    expected, a read of an EICAR file in a watched directory, which on-access prevention must refuse.
  - Decides the health with the same Python as the P(phaseout.antivirus.clamav_health#filter) filter and returns
    it as RV(health) (the provider roles' shared C(phaseout_provider_health)).
  - One call replaces the dozen tasks (each a round trip and a job event) the check took as separate tasks; the
    role C(phaseout.antivirus.provider_clamav) runs it in its C(verify) entry point.
  - The EICAR files are written to fresh scratch paths and removed again, so the host ends as it was.
author:
  - phaseout maintainers (@phaseout)
options:
  packages:
    description: The ClamAV packages that must be installed.
    type: list
    elements: str
    default: [clamav, clamav-daemon, clamav-freshclam, clamdscan]
  daemon_service:
    description: The clamd unit.
    type: str
    default: clamav-daemon.service
  onaccess_service:
    description: The on-access scanner (clamonacc) unit.
    type: str
    default: clamav-clamonacc.service
  database_dir:
    description: Directory of the signature databases.
    type: path
    default: /var/lib/clamav
  signature_patterns:
    description: File name patterns of the files clamd loads as signatures.
    type: list
    elements: str
    default: ['*.cvd', '*.cld', '*.cud', '*.hdb', '*.hsb', '*.hdu', '*.hsu', '*.mdb', '*.msb', '*.mdu', '*.msu', '*.ndb',
              '*.ndu', '*.ldb', '*.ldu', '*.cdb', '*.yar', '*.yara']
  clamdscan:
    description: Path of clamdscan.
    type: path
    default: /usr/bin/clamdscan
  expect_realtime:
    description: Real-time (on-access) protection must be on. False checks a staged host, next to Kaspersky.
    type: bool
    default: true
  eicar:
    description: Run the EICAR tests (never in check mode).
    type: bool
    default: true
  max_signature_age_hours:
    description: Oldest acceptable signatures in hours (0, no limit).
    type: int
    default: 0
  scan_parent:
    description: Directory for the on-demand test's scratch directory; it must not lie under a watched path.
    type: path
    default: /run
  onaccess_include_paths:
    description: The paths clamonacc watches (C(OnAccessIncludePath)); O(scan_parent) is checked against them.
    type: list
    elements: path
    default: [/home, /tmp, /var/tmp]
  onaccess_dir:
    description: Watched directory for the on-access test (empty, the first of O(onaccess_include_paths)).
    type: path
    default: ''
  fail_on_unhealthy:
    description: Fail when the contract is not met (never in check mode). The health is returned either way.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads everything; the EICAR tests are not run and an unhealthy result does not fail.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Needs root. Debian hosts with systemd; any other host fails with a message naming it.
seealso:
  - module: phaseout.antivirus.clamav_setup
'''

EXAMPLES = r'''
- name: Check ClamAV's real-time protection and detection
  phaseout.antivirus.clamav_verify:
    onaccess_include_paths: [/home, /srv]
  register: clamav

- name: Check a staged ClamAV (clamonacc still off next to Kaspersky), without failing
  phaseout.antivirus.clamav_verify:
    expect_realtime: false
    fail_on_unhealthy: false
  register: staged
'''

RETURN = r'''
health:
  description: The health contract's answer, as every provider role gives it (C(phaseout_provider_health)).
  returned: always
  type: dict
  contains:
    provider:
      description: V(clamav).
      type: str
    installed:
      description: Every package of O(packages) is installed.
      type: bool
    running:
      description: clamd runs.
      type: bool
    realtime:
      description: clamonacc runs and holds fanotify marks.
      type: bool
    signatures_present:
      description: A signature database is present.
      type: bool
    signature_age_hours:
      description: Age of the newest signatures; null when unknown.
      type: float
    eicar_detected:
      description: clamd detected the EICAR file; null when the test did not run.
      type: bool
    eicar_blocked:
      description: On-access prevention refused the EICAR file; null when the test did not run.
      type: bool
    healthy:
      description: No issue was found.
      type: bool
    issues:
      description: What is wrong, one sentence each.
      type: list
      elements: str
  sample: {provider: clamav, installed: true, running: true, realtime: true, signatures_present: true,
           signature_age_hours: 2.5, eicar_detected: true, eicar_blocked: true, healthy: true, issues: []}
msg:
  description: One line, the contract met or the issues.
  returned: always
  type: str
units:
  description: The clamd and clamonacc units as read (load, active, sub, enabled, main_pid).
  returned: always
  type: dict
'''

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils import provider_health
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import run_command
from ansible_collections.phaseout.antivirus.plugins.module_utils.provider_host import (
    Host, command_result, os_release, platform_error)

EICAR_NAME = 'phaseout-eicar.com'
PACKAGES = ('clamav', 'clamav-daemon', 'clamav-freshclam', 'clamdscan')
SIGNATURE_PATTERNS = ['*.cvd', '*.cld', '*.cud', '*.hdb', '*.hsb', '*.hdu', '*.hsu', '*.mdb', '*.msb', '*.mdu', '*.msu',
                      '*.ndb', '*.ndu', '*.ldb', '*.ldu', '*.cdb', '*.yar', '*.yara']


def _under(path, parent):
    return (path.rstrip('/') + '/').startswith(parent.rstrip('/') + '/')


def eicar_tests(host, params, realtime):
    """(scan, access): the on-demand scan and the on-access read, as command results; the files are removed."""
    content = provider_health.eicar_test_string().encode('ascii')
    scan = access = None
    scratch = watched = None
    try:
        scratch = tempfile.mkdtemp(prefix='phaseout-eicar-', dir=params['scan_parent'])
        target = os.path.join(scratch, EICAR_NAME)
        with open(target, 'wb') as handle:
            handle.write(content)
        os.chmod(target, 0o600)
        scan = host.run([params['clamdscan'], '--fdpass', '--no-summary', target], timeout=120,
                        environ={'LC_ALL': 'C'})
        if realtime:
            directory = params['onaccess_dir'] or params['onaccess_include_paths'][0]
            fd, watched = tempfile.mkstemp(prefix='phaseout-eicar-', suffix='.com', dir=directory)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(content)
            os.chmod(watched, 0o600)
            # clamonacc may still hold the empty file's clean verdict for a moment: read until refused (5 s)
            for attempt in range(5):
                access = host.run(['cat', watched], timeout=30, environ={'LC_ALL': 'C'})
                if access['rc'] != 0:
                    break
                if attempt < 4:
                    time.sleep(1)
            access['stdout'] = ''  # never return the test file's content
    except OSError as exc:
        # a test that could not run is reported as not run (an issue of the contract), never as passed
        host.commands.append(['# the EICAR test could not be prepared: %s' % exc])
        if scan is None:
            scan = command_result(2, '', 'the on-demand EICAR test could not be prepared: %s' % exc)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        if watched:
            try:
                os.unlink(watched)
            except OSError:
                pass
    return scan, access


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', default=list(PACKAGES)),
            daemon_service=dict(type='str', default='clamav-daemon.service'),
            onaccess_service=dict(type='str', default='clamav-clamonacc.service'),
            database_dir=dict(type='path', default='/var/lib/clamav'),
            signature_patterns=dict(type='list', elements='str',
                                    default=SIGNATURE_PATTERNS),
            clamdscan=dict(type='path', default='/usr/bin/clamdscan'),
            expect_realtime=dict(type='bool', default=True),
            eicar=dict(type='bool', default=True),
            max_signature_age_hours=dict(type='int', default=0),
            scan_parent=dict(type='path', default='/run'),
            onaccess_include_paths=dict(type='list', elements='path', default=['/home', '/tmp', '/var/tmp']),
            onaccess_dir=dict(type='path', default=''),
            fail_on_unhealthy=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['onaccess_include_paths']:
        module.fail_json(msg='clamav_verify: onaccess_include_paths is empty; name the paths clamonacc watches')
    for path in params['onaccess_include_paths']:
        if _under(params['scan_parent'], path):
            module.fail_json(msg='scan_parent (%s) lies under the on-access include path %s: clamonacc would block '
                                 'the on-demand scan of the EICAR file; choose a directory outside the watched paths '
                                 '(provider_clamav_verify_scan_parent)' % (params['scan_parent'], path))
    error = platform_error('provider_clamav', os_release(),
                           "Use provider_generic with the vendor's package for this platform.")
    if error:
        module.fail_json(msg=error)

    host = Host(module, execute=run_command)
    names = [params['daemon_service'], params['onaccess_service']]
    units_probe = host.units(names)
    units = provider_health.systemd_units(units_probe)
    onaccess = units.get(params['onaccess_service']) or {}
    run_eicar = params['eicar'] and not module.check_mode
    probes = {
        'packages': host.dpkg(params['packages']),
        'services': units_probe,
        'package_names': params['packages'],
        'daemon_service': params['daemon_service'],
        'onaccess_service': params['onaccess_service'],
        'fanotify': host.fanotify_marks(onaccess.get('main_pid')),
        'database_files': host.find_files(params['database_dir'], params['signature_patterns']),
        'version': host.run([params['clamdscan'], '--version'], timeout=60, environ={'LC_ALL': 'C'}),
        'now': time.time(),
    }
    if run_eicar:
        probes['scan'], probes['access'] = eicar_tests(host, params, params['expect_realtime'])
    health = provider_health.clamav_health(probes, {
        'realtime': params['expect_realtime'],
        'eicar': run_eicar,
        'max_signature_age_hours': params['max_signature_age_hours'],
    })
    msg = ('ClamAV meets the health contract.' if health['healthy']
           else 'ClamAV is not healthy: %s' % '; '.join(health['issues']))
    result = dict(changed=False, health=health, msg=msg, units=units, commands=host.commands)
    if not health['healthy'] and params['fail_on_unhealthy'] and not module.check_mode:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
