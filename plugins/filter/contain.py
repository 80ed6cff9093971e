# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Filters of the contain phase: the Windows firewall rules, from the same decisions as the Linux module."""

from __future__ import annotations

DOCUMENTATION = r'''
---
name: contain_windows_rules
short_description: The Windows firewall rules of the contain phase
version_added: 0.1.0
description:
  - Builds the rules that the P(phaseout.antivirus.contain#role) role creates on Windows with
    M(community.windows.win_firewall_rule), from the same pure functions (C(plugins/module_utils/contain.py))
    that M(phaseout.antivirus.kaspersky_contain) uses on Linux, so both platforms block the same traffic.
  - Windows firewall rules need addresses, so only Administration Server entries that are IP addresses are used;
    with O(_input.ports_scope=admin_server) and no address the KSC ports are blocked to and from any address.
options:
  _input:
    description:
      - The options, with the keys C(ksc_tcp_ports), C(ksc_udp_ports), C(agent_udp_ports), C(admin_servers),
        C(ports_scope), C(block_public_dns) and C(public_resolvers) of M(phaseout.antivirus.kaspersky_contain).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show the rules
  ansible.builtin.debug:
    msg: "{{ {'admin_servers': ['10.0.0.5'], 'ports_scope': 'admin_server'} | phaseout.antivirus.contain_windows_rules }}"
'''

RETURN = r'''
_value:
  description: One dict per rule with name, description, direction, protocol, localport, remoteport, remoteip, action.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.module_utils import contain


def contain_windows_rules(options):
    if not isinstance(options, dict):
        raise AnsibleFilterError('contain_windows_rules expects a dict of options, got %s' % type(options).__name__)
    try:
        literal, _names = contain.split_servers(options.get('admin_servers') or [])
        admin = contain.check_addresses('admin_servers', literal)
        scope = options.get('ports_scope', 'any')
        if scope == 'admin_server' and not any(admin.values()):
            scope = 'any'
        rules = contain.build_rules(
            options.get('ksc_tcp_ports'), options.get('ksc_udp_ports'), options.get('agent_udp_ports'),
            admin, scope, bool(options.get('block_public_dns', True)), options.get('public_resolvers'))
    except contain.ContainError as exc:
        raise AnsibleFilterError('contain_windows_rules: %s' % exc)
    return contain.windows_rules(rules)


class FilterModule:
    def filters(self):
        return {'contain_windows_rules': contain_windows_rules}
