#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is win_kaspersky_collect.ps1.

from __future__ import annotations

DOCUMENTATION = r'''
---
module: win_kaspersky_collect
short_description: Read the raw Kaspersky and Microsoft Defender state of a Windows host in one call
version_added: 0.1.0
description:
  - Read-only collector behind M(phaseout.antivirus.kaspersky_info) on Windows. The action plugin builds every
    pattern from the collection's catalog, calls this module once, and classifies the raw data on the controller
    (C(plugins/module_utils/windows.py)). Use M(phaseout.antivirus.kaspersky_info) rather than this module.
  - Reads the Uninstall entries of both registry views, the Windows Installer registrations and their features,
    the products related to given UpgradeCodes, services and driver services (from the registry, with their
    Service Control Manager state), device-class C(UpperFilters)/C(LowerFilters) values, root certificates,
    running processes, folders and registry roots, the SecurityCenter2 antivirus entries (clients), the
    Microsoft Defender state (C(Get-MpComputerStatus), the Windows-Defender feature on servers, policy values,
    C(ForceDefenderPassiveMode), Defender for Endpoint C(OnboardingState)), the OS product type, the
    pending-reboot flags and phaseout's swap journal file (its text, SHA-256 and ACLs; see RV(journal)).
  - Reads what the contain phase left, for the containment check of M(phaseout.antivirus.kaspersky_info) (see
    RV(contain)) - the record C(%ProgramData%\phaseout\contain.json), the enabled block rules of the firewall group
    O(contain_group) (C(Get-NetFirewallRule -PolicyStore ActiveStore), or the firewall's COM API
    C(HNetCfg.FwPolicy2) where the NetSecurity cmdlets are missing), and, only when the record exists, the firewall
    profiles that are off and the C(<address> <name>) entries of the hosts file Windows resolves with (the folder
    in the C(DataBasePath) value of C(HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters), by default
    C(%SystemRoot%\System32\drivers\etc)) for the names the record lists. No name is resolved.
  - Changes nothing; runs in check mode with full output.
author:
  - phaseout maintainers (@phaseout)
options:
  display_name_pattern:
    description: .NET regular expression matched against Uninstall C(DisplayName) and Windows Installer C(ProductName).
    type: str
    required: true
  publisher_pattern:
    description: Regular expression matched against the Uninstall C(Publisher).
    type: str
  service_pattern:
    description: Regular expression matched against service and driver names under C(HKLM:\SYSTEM\CurrentControlSet\Services).
    type: str
    required: true
  service_display_pattern:
    description: Regular expression matched against service display names.
    type: str
  filter_pattern:
    description: Regular expression for the filter driver names looked for in device-class C(UpperFilters)/C(LowerFilters).
    type: str
  certificate_pattern:
    description: Regular expression matched against certificate subjects and issuers.
    type: str
  certificate_stores:
    description: Certificate stores to search, as C(Location\Store).
    type: list
    elements: str
    default: ['LocalMachine\Root']
  process_names:
    description: Process names (without C(.exe)) to look for.
    type: list
    elements: str
    default: []
  upgrade_codes:
    description: Packed (Windows Installer compressed) UpgradeCodes whose related products to list.
    type: list
    elements: str
    default: []
  paths:
    description: Folders to test, with C(%VARIABLE%) references expanded on the host.
    type: list
    elements: str
    default: []
  registry_keys:
    description: Registry keys (C(HKLM:\...)) to test.
    type: list
    elements: str
    default: []
  contain_group:
    description: The Windows firewall group of the contain role's block rules.
    type: str
    default: phaseout contain
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only.
  diff_mode:
    support: none
  platform:
    platforms: [windows]
notes:
  - C(CurrentUser) certificate stores are those of the connecting account only.
  - Per-user (C(HKCU)) Uninstall entries are not read; Kaspersky products install per machine.
seealso:
  - module: phaseout.antivirus.kaspersky_info
'''

EXAMPLES = r'''
# Normally called by the kaspersky_info action plugin; a direct call needs the patterns:
- name: Read the raw state
  phaseout.antivirus.win_kaspersky_collect:
    display_name_pattern: '(?i)kaspersky'
    service_pattern: '(?i)^(avp|klnagent|klif)$'
  register: raw
'''

RETURN = r'''
collector_version:
  description: The version of the collector's answer (V(2) adds RV(contain)); the controller treats an answer
    without RV(contain) as not read (C(containment) V(unknown)).
  returned: always
  type: int
  sample: 2
collected_at:
  description: Host UTC time of the read (ISO 8601), used to age signatures without clock skew.
  returned: always
  type: str
os:
  description: C(product_type) (1 workstation, 2 domain controller, 3 server), C(caption), C(version), C(build), C(architecture).
  returned: always
  type: dict
uninstall:
  description: Matching Uninstall entries (key, hive, view, display_name, display_version, publisher, uninstall_string,
    quiet_uninstall_string, install_location, install_date, windows_installer, system_component).
  returned: always
  type: list
  elements: dict
msi_products:
  description: Matching Windows Installer registrations (packed_code, product_name, features with name and installed).
  returned: always
  type: list
  elements: dict
upgrade_codes:
  description: Packed UpgradeCode to the packed product codes related to it.
  returned: always
  type: dict
services:
  description: Matching services and drivers (name, display_name, type, start, group, image_path, delete_pending, state).
  returned: always
  type: list
  elements: dict
filters:
  description: Device classes whose UpperFilters/LowerFilters name a matching filter (key, class_guid, class, value, data).
  returned: always
  type: list
  elements: dict
certificates:
  description: Matching certificates (store, thumbprint, subject, issuer, not_after).
  returned: always
  type: list
  elements: dict
processes:
  description: Matching running processes (name, pid, path).
  returned: always
  type: list
  elements: dict
paths:
  description: Existing folders (template, path).
  returned: always
  type: list
  elements: dict
registry_keys:
  description: Existing registry keys among those given.
  returned: always
  type: list
  elements: str
security_center:
  description: SecurityCenter2 AntiVirusProduct entries (display_name, product_state, path, instance_guid); null on servers.
  returned: always
  type: list
  elements: dict
defender:
  description: Defender state (status from Get-MpComputerStatus, status_error, feature, services, policies, passive_mode, mde).
  returned: always
  type: dict
pending_reboot:
  description: Pending-reboot flags (component_based_servicing, windows_update, pending_file_rename, file_rename_entries,
    computer_rename).
  returned: always
  type: dict
journal:
  description:
    - phaseout's swap journal file C(%ProgramData%\phaseout\journal.json) as it is, judged on the controller
      (plugins/module_utils/windows_journal.py) - C(path), C(exists), C(text), C(sha256), C(error) (why it could not
      be read), C(acl) and C(directory_acl) (C(owner) SID, C(protected), C(rules) with C(sid), C(rights),
      C(type), C(inherited), C(inherit_only)).
  returned: always
  type: dict
contain:
  description:
    - What the contain phase left on the host, raw (judged on the controller, C(plugins/module_utils/windows.py)
      C(containment)). Each read that failed leaves its value null and says why in its C(*_error) key.
    - C(state_path), C(state_text) (the record's text, null when there is none), C(state_error).
    - C(firewall_group), C(firewall_source) (C(Get-NetFirewallRule) or C(HNetCfg.FwPolicy2)), C(firewall_rules)
      (the C(DisplayName) of each enabled block rule of the group), C(firewall_error).
    - With a record only (null otherwise) - C(firewall_profiles_off) (C(domain), C(private), C(public)),
      C(firewall_profiles_error), C(hosts_path) (the file Windows resolves with), C(default_hosts_path),
      C(hosts_entries) (C(<address> <name>), one per name of a line, for the names the record lists; every entry
      when the record cannot be parsed on the host), C(hosts_error).
  returned: always
  type: dict
  sample: {state_path: 'C:\ProgramData\phaseout\contain.json', state_text: '{"backend": "windows_firewall", ...}',
           state_error: null, firewall_group: phaseout contain, firewall_source: Get-NetFirewallRule,
           firewall_rules: [phaseout contain ksc-out-tcp], firewall_error: null, firewall_profiles_off: [],
           firewall_profiles_error: null, hosts_path: 'C:\Windows\System32\drivers\etc\hosts',
           default_hosts_path: 'C:\Windows\System32\drivers\etc\hosts', hosts_entries: [0.0.0.0 ds.kaspersky.com],
           hosts_error: null}
'''
