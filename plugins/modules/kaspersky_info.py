#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: kaspersky_info
short_description: Report every Kaspersky product, service, process and leftover on a host in one call
version_added: 0.1.0
description:
  - Reads the host once and reports every product of the phaseout catalog that is installed or has left
    traces behind, namely packages (dpkg and rpm), services with their active and enabled state, running processes,
    install and data paths, unit files and init scripts, loaded kernel modules, vendor repository entries and
    the Administration Server the Network Agent reports to.
  - Ends with one verdict per host, V(clean), V(installed) or V(residue).
  - What each product looks like is data in the collection's catalog (C(plugins/module_utils/catalog.py)),
    not code in this module.
  - On Linux the module reads the dpkg database, C(/proc) and the unit directories itself and needs nothing
    on the host beyond Python; C(systemctl) is asked once for the state of all matching units, C(rpm) once on
    rpm hosts.
  - On Windows the action plugin runs one read-only collector call and classifies its output on the
    controller into the same return shape.
  - The module never changes anything; it runs in check mode with full output.
author:
  - phaseout maintainers (@phaseout)
options:
  vendor:
    description:
      - The banned vendor whose products to look for.
    type: str
    default: kaspersky
    choices: [kaspersky]
  query_cli:
    description:
      - Also ask installed products' own read-only CLIs (C(kesl-control --app-info), C(klnagchk),
        C(kav4fs-control -S --app-info)) for version, licence, database date and Administration Server.
      - Disable to save a few hundred milliseconds per host when only presence matters.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module is read-only; check mode returns the same full data.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: [posix, windows]
notes:
  - Run it as root (C(become)) to see every process's executable and every unit's state.
seealso:
  - module: phaseout.antivirus.kaspersky_uninstall
'''

EXAMPLES = r'''
- name: Inventory Kaspersky on every host
  phaseout.antivirus.kaspersky_info:
  register: kaspersky

- name: Show the verdict
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: {{ kaspersky.verdict }} {{ kaspersky.installed }}"

- name: Presence only, without asking the products' CLIs
  phaseout.antivirus.kaspersky_info:
    query_cli: false
'''

RETURN = r'''
platform:
  description: Platform family the data was read from.
  returned: always
  type: str
  sample: linux
vendor:
  description: The vendor that was looked for.
  returned: always
  type: str
  sample: kaspersky
verdict:
  description:
    - V(installed) when at least one product is installed, V(residue) when nothing is installed but traces
      remain (dpkg C(rc) packages, directories, unit files, processes, kernel modules, repository entries),
      V(clean) otherwise.
  returned: always
  type: str
  sample: installed
installed:
  description: Catalog ids of the installed products.
  returned: always
  type: list
  elements: str
  sample: [kesl, klnagent]
residue:
  description: Catalog ids of products that are not installed but left traces.
  returned: always
  type: list
  elements: str
  sample: []
products:
  description: One entry per product found installed or as residue.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Catalog id of the product.
      type: str
      sample: kesl
    name:
      description: Product name.
      type: str
      sample: Kaspersky Endpoint Security for Linux
    vendor:
      description: Vendor id.
      type: str
    kind:
      description: Product kind (endpoint, gui, agent, fileserver, server, console, edr, consumer).
      type: str
    state:
      description: V(installed) or V(residue).
      type: str
    removable:
      description: Whether phaseout removes this product (management servers are only reported).
      type: bool
    removal_order:
      description: Position in the removal order; lower is removed first.
      type: int
    version:
      description: Installed version, from the package database or the product's CLI.
      type: str
      sample: 12.1.0-1125
    packages:
      description: Matching packages with name, version, arch, status, state and manager (dpkg or rpm).
      type: list
      elements: dict
    services:
      description: Matching services with unit_files, load, state, sub, active and enabled.
      type: list
      elements: dict
    processes:
      description: Running processes of the product (pid, exe, path, cmdline).
      type: list
      elements: dict
    paths:
      description: Existing install and data paths.
      type: list
      elements: str
    unit_files:
      description: Existing unit files and init scripts.
      type: list
      elements: str
    kernel_modules:
      description: Loaded kernel modules of the product.
      type: list
      elements: str
    info:
      description: Parsed output of the product's read-only CLI (version, license_expiration, databases_release,
        admin_server, and the raw C(fields)).
      type: dict
    admin_server:
      description: Administration Server the Network Agent reports to (agent only).
      type: str
leftovers:
  description:
    - Traces not owned by an installed product; each has a C(type) (package_config, path, unit, process,
      kernel_module, repository), the C(path) or C(name), and the C(product) id it belongs to (null when it is
      vendor-wide).
  returned: always
  type: list
  elements: dict
  sample: [{type: path, path: /var/opt/kaspersky/klnagent, product: klnagent}]
admin_server:
  description: Administration Server the Network Agent reports to, when an agent answered.
  returned: always
  type: str
  sample: ksc.corp.example
package_managers:
  description: Package databases that were read.
  returned: always
  type: list
  elements: str
  sample: [dpkg]
vendor_paths:
  description: Vendor-wide directories that exist (C(/opt/kaspersky), C(/var/opt/kaspersky)...).
  returned: always
  type: list
  elements: str
kernel_modules:
  description: Loaded kernel modules that belong to the vendor.
  returned: always
  type: list
  elements: str
realtime_protection_active:
  description: Whether an installed endpoint or file server product is running (its real-time protection
    may hold fanotify).
  returned: always
  type: bool
realtime_engines:
  description:
    - Other real-time engines running on the host (the replacement among them), each with C(id), C(name), C(realtime)
      (true when proven on, false when running without real-time protection, null when phaseout cannot tell), C(pids)
      and the C(evidence) read.
  returned: on Linux hosts
  type: list
  elements: dict
  sample: [{id: clamav, name: ClamAV on-access scanning (clamonacc), realtime: true, pids: [812]}]
protection:
  description: What protects the host right now, in one word, for reports (V(kaspersky), V(clamav), V(none),
    V(kaspersky+clamav) for two engines; a trailing C(?) when an engine runs whose real-time state is unknown).
  returned: on Linux hosts
  type: str
  sample: clamav
journal:
  description:
    - Summary of phaseout's swap journal on the host (C(/var/lib/phaseout/journal.json)), null when there is none.
      C(interrupted) is true when a swap did not finish; C(message) says at which step and what was under way, and
      C(past_point_of_no_return) whether the next run finishes forward.
  returned: always
  type: dict
  sample: {state: open, interrupted: true, step: kaspersky_stopped, doing: replacement_active,
           message: "interrupted at step kaspersky_stopped; replacement_active was under way (run 20261201T0102Z-1)"}
containment:
  description:
    - Whether the contain phase's blocking is still in force on the host, read in the same call (on Windows by
      win_kaspersky_collect, see docs/windows.md) -
      C(containment) is V(intact), V(lapsed) (another tool flushed the rules or rewrote the hosts file; C(reasons) say
      what is missing), V(none) (never contained, or released) or V(unknown); also C(backend), C(public_dns_blocked)
      and C(resolvers_kept). Needs root (Administrator) to list the firewall rules.
  returned: always
  type: dict
  sample: {containment: intact, reasons: [], backend: nftables, public_dns_blocked: true, resolvers_kept: []}
windows:
  description: Windows-only data (OS, Defender state, pending reboot, encryption); see the Windows docs.
  returned: on Windows hosts
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils.catalog import VENDORS
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import run_command
from ansible_collections.phaseout.antivirus.plugins.module_utils.contain_state import probe_containment
from ansible_collections.phaseout.antivirus.plugins.module_utils.linux import LinuxCollector, detect


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vendor=dict(type='str', default='kaspersky', choices=sorted(VENDORS)),
            query_cli=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    collector = LinuxCollector(run_command)
    result = detect(collector, vendor=module.params['vendor'], query_cli=module.params['query_cli'])
    # whether phaseout's containment (the contain phase) is still in force, in the same call
    result['containment'] = probe_containment(collector.run, collector.read, collector.which,
                                              collector.exists)
    for warning in collector.warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
