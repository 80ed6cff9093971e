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
        C(ports_scope), C(block_public_dns), C(public_resolvers), C(kaspersky_verdict), C(resolver_conflict) and
        C(keep_resolvers) of M(phaseout.antivirus.kaspersky_contain), and C(windows_dns), the host's DNS servers as
        the contain role reads them (C(adapters), C(forwarders), C(conditional_forwarders)).
      - The public-DNS rules follow the same decision as on Linux (P(phaseout.antivirus.contain_dns_plan#filter)),
        only where Kaspersky is installed or residue, and never towards the host's own resolvers and forwarders.
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


def _plan(options):
    """The public-DNS decision and the rules of a Windows host, from the filter options."""
    if not isinstance(options, dict):
        raise AnsibleFilterError('contain filters expect a dict of options, got %s' % type(options).__name__)
    try:
        literal, _names = contain.split_servers(options.get('admin_servers') or [])
        admin = contain.check_addresses('admin_servers', literal)
        scope = options.get('ports_scope', 'any')
        if scope == 'admin_server' and not any(admin.values()):
            scope = 'any'
        resolvers = contain.windows_resolvers(options.get('windows_dns'))
        keep = contain.check_addresses('keep_resolvers', options.get('keep_resolvers') or [])
        resolvers += [{'address': a, 'source': 'keep_resolvers'} for a in keep['ip'] + keep['ip6']]
        plan = contain.plan_public_dns(
            bool(options.get('block_public_dns', True)), options.get('public_resolvers'),
            options.get('kaspersky_verdict', 'installed'), resolvers, options.get('resolver_conflict', 'exclude'))
        rules = contain.build_rules(
            options.get('ksc_tcp_ports'), options.get('ksc_udp_ports'), options.get('agent_udp_ports'),
            admin, scope, plan['block'], plan['resolvers'] or [])
    except contain.ContainError as exc:
        raise AnsibleFilterError('contain: %s' % exc)
    plan['host_resolvers'] = resolvers
    return plan, rules


def contain_windows_rules(options):
    return contain.windows_rules(_plan(options)[1])


def contain_dns_plan(options):
    return _plan(options)[0]


def contain_windows_state(options, hosts_lines):
    """The state record the contain role writes on a Windows host (its containment check reads it)."""
    plan, rules = _plan(options)
    return contain.windows_state_record(contain.windows_rules(rules), list(hosts_lines or []), plan)


def contain_windows_status(state_text, firewall_rules, hosts_lines):
    """containment (intact, lapsed, none) of a Windows host from what its read-only collector returns."""
    return contain.windows_containment_status(state_text or None, firewall_rules, hosts_lines)


class FilterModule:
    def filters(self):
        return {
            'contain_windows_rules': contain_windows_rules,
            'contain_dns_plan': contain_dns_plan,
            'contain_windows_state': contain_windows_state,
            'contain_windows_status': contain_windows_status,
        }
