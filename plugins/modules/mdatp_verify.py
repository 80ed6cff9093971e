#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: mdatp_verify
short_description: Check Microsoft Defender for Endpoint against phaseout's health contract on the host in one call
version_added: 0.3.0
description:
  - Reads, on the host, everything the health contract needs, namely the C(mdatp) package, the C(mdatp) unit,
    C(mdatp health) and, when asked, C(mdatp connectivity test); then runs the EICAR tests, an on-demand
    C(mdatp scan custom) of an EICAR file and, when real-time protection is expected, waits for real-time protection to
    remove a second EICAR file, and lists the threats mdatp detected.
  - Decides the health with the same Python as the P(phaseout.antivirus.mdatp_health#filter) filter and returns it as
    RV(health) (the provider roles' shared C(phaseout_provider_health)).
  - One call replaces the dozen tasks the check took as separate tasks; the role C(phaseout.antivirus.provider_mdatp)
    runs it in its C(verify) entry point.
  - The EICAR files are written in place in a fresh scratch directory (never staged elsewhere first, where real-time
    protection would remove them) and removed again, or quarantined by mdatp.
author:
  - phaseout maintainers (@phaseout)
options:
  package_name:
    description: The Defender for Endpoint package.
    type: str
    default: mdatp
  service:
    description: The mdatp daemon unit.
    type: str
    default: mdatp.service
  cli:
    description: Path of the mdatp command-line tool.
    type: path
    default: /usr/bin/mdatp
  expect_realtime:
    description: Real-time protection must be on. False checks a staged host, next to Kaspersky.
    type: bool
    default: true
  eicar:
    description: Run the EICAR tests (never in check mode).
    type: bool
    default: true
  connectivity:
    description: Run C(mdatp connectivity test) (the Defender cloud must answer).
    type: bool
    default: true
  max_signature_age_hours:
    description: Oldest acceptable definitions in hours (0, no limit).
    type: int
    default: 0
  verify_dir:
    description: Parent directory of the EICAR scratch directory.
    type: path
    default: /tmp
  onaccess_timeout:
    description: Seconds real-time protection gets to remove the on-access EICAR file.
    type: int
    default: 15
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
  - module: phaseout.antivirus.clamav_verify
'''

EXAMPLES = r'''
- name: Check Defender for Endpoint's real-time protection and detection
  phaseout.antivirus.mdatp_verify:
    connectivity: false
  register: mdatp
'''

RETURN = r'''
health:
  description: The health contract's answer, as every provider role gives it (C(phaseout_provider_health)); the keys
    of M(phaseout.antivirus.clamav_verify)'s RV(phaseout.antivirus.clamav_verify#module:health), with provider V(mdatp).
  returned: always
  type: dict
  sample: {provider: mdatp, installed: true, running: true, realtime: true, signatures_present: true,
           signature_age_hours: 0.1, eicar_detected: true, eicar_blocked: true, healthy: true, issues: []}
msg:
  description: One line, the contract met or the issues.
  returned: always
  type: str
fields:
  description: The fields of C(mdatp health), parsed (empty when it did not answer).
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
from ansible_collections.phaseout.antivirus.plugins.module_utils.provider_host import Host, os_release, platform_error

EICAR_NAME = 'phaseout-eicar.com'


def _stat(path):
    """What ansible.builtin.stat registers, reduced to what the health contract reads."""
    return {'stat': {'exists': os.path.lexists(path)}}


def eicar_tests(host, params, realtime):
    """(scan, scan_path, onaccess, threats); the scratch directory is removed."""
    content = provider_health.eicar_test_string().encode('ascii')
    scratch = tempfile.mkdtemp(prefix='phaseout-eicar-', dir=params['verify_dir'])
    try:
        ondemand = os.path.join(scratch, 'on-demand-' + EICAR_NAME)
        onaccess_path = os.path.join(scratch, 'on-access-' + EICAR_NAME)
        for path in [ondemand] + ([onaccess_path] if realtime else []):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(content)
        scan = host.run([params['cli'], 'scan', 'custom', '--path', ondemand], timeout=300)
        onaccess = None
        if realtime:
            deadline = time.time() + params['onaccess_timeout']
            while os.path.lexists(onaccess_path) and time.time() < deadline:
                time.sleep(1)
            onaccess = _stat(onaccess_path)
        threats = host.run([params['cli'], 'threat', 'list'], timeout=60)
        return scan, ondemand, onaccess, threats
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            package_name=dict(type='str', default='mdatp'),
            service=dict(type='str', default='mdatp.service'),
            cli=dict(type='path', default='/usr/bin/mdatp'),
            expect_realtime=dict(type='bool', default=True),
            eicar=dict(type='bool', default=True),
            connectivity=dict(type='bool', default=True),
            max_signature_age_hours=dict(type='int', default=0),
            verify_dir=dict(type='path', default='/tmp'),
            onaccess_timeout=dict(type='int', default=15),
            fail_on_unhealthy=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    error = platform_error('provider_mdatp', os_release())
    if error:
        module.fail_json(msg=error)

    host = Host(module, execute=run_command)
    health_probe = host.run([params['cli'], 'health'], timeout=60) if os.path.exists(params['cli']) else None
    probes = {
        'packages': host.dpkg([params['package_name']]),
        'services': host.units([params['service']]),
        'package_name': params['package_name'],
        'service': params['service'],
        'health': health_probe,
    }
    answered = bool(health_probe) and health_probe['rc'] == 0
    if params['connectivity'] and answered:
        probes['connectivity'] = host.run([params['cli'], 'connectivity', 'test'], timeout=300)
    run_eicar = params['eicar'] and not module.check_mode
    if run_eicar and answered:
        probes['scan'], probes['scan_path'], probes['onaccess'], probes['threats'] = \
            eicar_tests(host, params, params['expect_realtime'])
    health = provider_health.mdatp_health(probes, {
        'realtime': params['expect_realtime'],
        'eicar': run_eicar,
        'max_signature_age_hours': params['max_signature_age_hours'],
    })
    msg = ('mdatp meets the health contract.' if health['healthy']
           else 'mdatp is not healthy: %s' % '; '.join(health['issues']))
    fields = provider_health.mdatp_health_fields(health_probe['stdout']) if answered else {}
    result = dict(changed=False, health=health, msg=msg, fields=fields, commands=host.commands)
    if not health['healthy'] and params['fail_on_unhealthy'] and not module.check_mode:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
