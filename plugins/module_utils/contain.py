# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Contain: cut Kaspersky off from KSN, its update servers and its Administration Server.

Pure functions only. ``kaspersky_contain`` (Linux) reads the host, feeds what it
read to these functions and applies what they return; the Windows tasks of the
contain role get their firewall rules from ``windows_rules`` through a filter.

What is blocked, from Kaspersky's documentation of the KSC ports and the KES endpoints:
  * outbound TCP 13000 (agent, TLS), 14000 (agent, legacy), 13111 (KSN proxy),
    17111 (KSN proxy HTTPS) and UDP 15111 (KSN proxy); inbound UDP 15000 (the
    server's wake-up of the agent). Optionally only to/from the Administration
    Server's addresses.
  * outbound DNS (53) and DNS over TLS (853) to the public resolvers KES falls
    back to when system DNS cannot resolve Kaspersky's servers: only where
    Kaspersky is installed or residue, and never to the host's own resolvers
    and forwarders (read_resolvers, windows_resolvers, plan_public_dns).
  * Kaspersky's update, activation and KSN host names, answered 0.0.0.0 / :: from
    a marked block in /etc/hosts. A hosts file cannot hold wildcards, so the
    suffixes (DOMAIN_SUFFIXES) need a DNS or proxy policy as well.

What was applied is recorded on the host (contain_state.STATE_FILE); contain_state.containment_status and
probe_containment tell discover and verify whether it is still intact or lapsed.

Every rule carries a comment ``phaseout-contain:<purpose>:<hash>`` where the hash
covers the rule's content: comparing the ordered comments of the live ruleset
with the wanted ones decides idempotence without depending on how a given
nft/iptables version prints rules.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re

# shared with the containment check that detection carries (contain_state.py)
from ansible_collections.phaseout.antivirus.plugins.module_utils.contain_state import (
    COMMENT_PREFIX, HOSTS_MARK, IPT_CHAINS, IPT_HOOKS, PERSIST_DIR, STATE_VERSION, TABLE, UNIT_NAME, UNIT_WANTED_BY,
    sha256_lines)

NFT_CHAINS = {'out': 'output', 'in': 'input'}

# Reference section 4.1 (sourced ports only).
DEFAULT_TCP_OUT = [13000, 14000, 13111, 17111]
DEFAULT_UDP_OUT = [15111]
DEFAULT_UDP_IN = [15000]
# Reference section 4.2: KES falls back to these, in this order, when system DNS fails.
DEFAULT_PUBLIC_RESOLVERS = ['8.8.8.8', '1.1.1.1', '223.6.6.6', '9.9.9.9', '185.228.168.168']
DNS_PORTS = [53, 853]
# Reference section 4.2: update, activation, KSN and download hosts.
DEFAULT_DOMAINS = (
    ['activation-v2.kaspersky.com', 'downloads.upd.kaspersky.com', 'cm.k.kaspersky-labs.com']
    + ['s%02d.upd.kaspersky.com' % i for i in range(20)]
    + ['ds.kaspersky.com', 'dc1-file.ksn.kaspersky-labs.com', 'downloads.kaspersky-labs.com',
       'dnl-01.geo.kaspersky.com', 'products.s.kaspersky-labs.com', 'touch.kaspersky.com']
)
# What a hosts file cannot block (no wildcards): block these at the DNS resolver or proxy.
DOMAIN_SUFFIXES = ['kaspersky.com', 'kaspersky-labs.com']
BLACKHOLE_ADDRESSES = ('0.0.0.0', '::')

HOSTS_BEGIN = '# BEGIN phaseout contain: Kaspersky domains blackholed (phaseout.antivirus.kaspersky_contain; do not edit)'
HOSTS_END = '# END phaseout contain'

NFT_FILE = PERSIST_DIR + '/contain.nft'
IPT_FILES = {'ip': PERSIST_DIR + '/contain-v4.rules', 'ip6': PERSIST_DIR + '/contain-v6.rules'}
UNIT_PATH = '/etc/systemd/system/' + UNIT_NAME

MULTIPORT_MAX = 15
_HOSTNAME = re.compile(r'^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$')


class ContainError(Exception):
    """Bad input or a host that cannot be contained; the message says what to do."""


# --- input ----------------------------------------------------------------------------------

def check_ports(name, ports):
    out = []
    for port in ports or []:
        try:
            value = int(port)
        except (TypeError, ValueError):
            raise ContainError('%s: %r is not a port number' % (name, port))
        if isinstance(port, bool) or not 1 <= value <= 65535 or str(port).strip() != str(value):
            raise ContainError('%s: %r is not a port number between 1 and 65535' % (name, port))
        if value not in out:
            out.append(value)
    return out


def check_addresses(name, addresses):
    """IP addresses (or networks) -> {'ip': [...], 'ip6': [...]}, normalized, order kept."""
    families = {'ip': [], 'ip6': []}
    for address in addresses or []:
        try:
            net = ipaddress.ip_network(str(address).strip(), strict=False)
        except ValueError:
            raise ContainError('%s: %r is not an IP address or network' % (name, address))
        text = str(net.network_address) if net.num_addresses == 1 else str(net)
        family = 'ip' if net.version == 4 else 'ip6'
        if text not in families[family]:
            families[family].append(text)
    return families


def check_domains(domains):
    out = []
    for domain in domains or []:
        name = str(domain).strip().lower().rstrip('.')
        if name.startswith('*.'):
            raise ContainError('domains: %r: a hosts file cannot hold wildcards; list host names '
                               '(block the suffix at the DNS resolver or proxy)' % domain)
        if not _HOSTNAME.match(name):
            raise ContainError('domains: %r is not a host name' % domain)
        if name not in out:
            out.append(name)
    return out


def split_servers(servers):
    """Administration Server entries -> (IP addresses, host names to resolve)."""
    addresses, names = [], []
    for server in servers or []:
        text = str(server).strip()
        if not text:
            continue
        # klnagchk may print "host:port"; an IPv6 literal has several colons
        if text.count(':') == 1:
            text = text.split(':', 1)[0]
        text = text.strip('[]')
        try:
            ipaddress.ip_address(text)
            addresses.append(text)
        except ValueError:
            if not _HOSTNAME.match(text.lower()) and not re.match(r'^[a-z0-9-]{1,63}$', text.lower()):
                raise ContainError('admin_servers: %r is neither an IP address nor a host name' % server)
            names.append(text.lower())
    return addresses, names


# --- the rules ------------------------------------------------------------------------------

def _rule(purpose, direction, proto, ports, family=None, addresses=None, description=''):
    rule = {'purpose': purpose, 'direction': direction, 'proto': proto, 'ports': list(ports),
            'family': family, 'addresses': list(addresses or []), 'description': description}
    return rule


def _sign(rule, action):
    body = json.dumps([rule['purpose'], rule['direction'], rule['proto'], rule['ports'], rule['family'],
                       rule['addresses'], action], sort_keys=True)
    rule['action'] = action
    rule['comment'] = '%s:%s:%s' % (COMMENT_PREFIX, rule['purpose'], hashlib.sha256(body.encode()).hexdigest()[:10])
    return rule


def build_rules(tcp_out=None, udp_out=None, udp_in=None, admin_addresses=None, scope='any',
                block_public_dns=True, public_resolvers=None, action='drop', keep=None):
    """The ordered list of firewall rules (dicts), each signed with its comment.

    ``admin_addresses`` is {'ip': [...], 'ip6': [...]} (check_addresses); with
    ``scope='admin_server'`` and at least one address, the KSC rules match only
    those addresses (callers fall back to ``any`` with a warning otherwise).
    ``keep`` lists addresses the DNS rules must never match (the host's own
    resolvers and forwarders, see plan_public_dns): they are cut out of
    ``public_resolvers``, networks included.
    """
    if action not in ('drop', 'reject'):
        raise ContainError('action must be drop or reject, got %r' % (action,))
    if scope not in ('any', 'admin_server'):
        raise ContainError('ports_scope must be any or admin_server, got %r' % (scope,))
    tcp_out = check_ports('ksc_tcp_ports', DEFAULT_TCP_OUT if tcp_out is None else tcp_out)
    udp_out = check_ports('ksc_udp_ports', DEFAULT_UDP_OUT if udp_out is None else udp_out)
    udp_in = check_ports('agent_udp_ports', DEFAULT_UDP_IN if udp_in is None else udp_in)
    admin_addresses = admin_addresses or {'ip': [], 'ip6': []}
    scoped = scope == 'admin_server' and any(admin_addresses.values())
    rules = []
    for proto, direction, ports, what in (
            ('tcp', 'out', tcp_out, 'Network Agent and KSN proxy connections to the Administration Server'),
            ('udp', 'out', udp_out, 'KSN proxy requests (UDP) to the Administration Server'),
            ('udp', 'in', udp_in, "the Administration Server's wake-up of the Network Agent")):
        if not ports:
            continue
        if scoped:
            for family in ('ip', 'ip6'):
                if admin_addresses.get(family):
                    rules.append(_rule('ksc', direction, proto, ports, family, admin_addresses[family], what))
        else:
            rules.append(_rule('ksc', direction, proto, ports, None, None, what))
    if block_public_dns:
        resolvers = check_addresses('public_resolvers',
                                    DEFAULT_PUBLIC_RESOLVERS if public_resolvers is None else public_resolvers)
        resolvers, _kept = exclude_addresses(resolvers, keep or [])
        for family in ('ip', 'ip6'):
            if resolvers[family]:
                for proto in ('udp', 'tcp'):
                    rules.append(_rule('public_dns', 'out', proto, DNS_PORTS, family, resolvers[family],
                                       'DNS and DNS over TLS to the public resolvers KES falls back to'))
    return [_sign(rule, action) for rule in rules]


def _nft_set(values):
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else '{ %s }' % ', '.join(values)


def nft_rule(rule, action=None):
    action = action or rule.get('action', 'drop')
    parts = []
    if rule['family']:
        parts.append('%s %s %s' % (rule['family'], 'daddr' if rule['direction'] == 'out' else 'saddr',
                                   _nft_set(rule['addresses'])))
    parts.append('%s dport %s' % (rule['proto'], _nft_set(rule['ports'])))
    parts.append('counter %s comment "%s"' % (action, rule['comment']))
    return ' '.join(parts)


def render_nft(rules, action=None):
    """An nft script that replaces the table atomically (``nft -f``), whatever was there."""
    lines = [
        '#!/usr/sbin/nft -f',
        '# phaseout contain: written by phaseout.antivirus.kaspersky_contain; do not edit.',
        '# Undo: state=absent, or by hand: nft delete table %s' % TABLE,
        'table %s' % TABLE,
        'delete table %s' % TABLE,
        'table %s {' % TABLE,
    ]
    for direction in ('out', 'in'):
        lines.append('\tchain %s {' % NFT_CHAINS[direction])
        lines.append('\t\ttype filter hook %s priority 0; policy accept;' % NFT_CHAINS[direction])
        for rule in rules:
            if rule['direction'] == direction:
                lines.append('\t\t' + nft_rule(rule, action))
        lines.append('\t}')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _chunks(values, size):
    return [values[i:i + size] for i in range(0, len(values), size)] or [[]]


def ipt_rules(rules, family, action=None):
    """iptables -A lines of one family ('ip' or 'ip6'); one line per address and per 15 ports."""
    lines = []
    for rule in rules:
        target = 'REJECT' if (action or rule.get('action')) == 'reject' else 'DROP'
        if rule['family'] not in (None, family):
            continue
        addresses = rule['addresses'] if rule['family'] else [None]
        for address in addresses:
            for ports in _chunks(rule['ports'], MULTIPORT_MAX):
                words = ['-A', IPT_CHAINS[rule['direction']]]
                if address:
                    words += ['-d' if rule['direction'] == 'out' else '-s', address]
                words += ['-p', rule['proto']]
                if len(ports) == 1:
                    words += ['--dport', str(ports[0])]
                else:
                    words += ['-m', 'multiport', '--dports', ','.join(str(p) for p in ports)]
                words += ['-m', 'comment', '--comment', rule['comment'], '-j', target]
                lines.append(' '.join(words))
    return lines


def render_iptables(rules, family, action=None, jumps=True):
    """An iptables-restore --noflush file: declaring the chains flushes them, then fills them."""
    lines = ['# phaseout contain (%s): written by phaseout.antivirus.kaspersky_contain; do not edit.'
             % ('IPv4' if family == 'ip' else 'IPv6'), '*filter']
    lines += [':%s - [0:0]' % IPT_CHAINS[d] for d in ('out', 'in')]
    lines += ipt_rules(rules, family, action)
    if jumps:
        lines += ['-I %s 1 -j %s' % (IPT_HOOKS[d], IPT_CHAINS[d]) for d in ('out', 'in')]
    lines.append('COMMIT')
    return '\n'.join(lines) + '\n'


def signature(rules, backend):
    """What the live ruleset must look like: the ordered rule comments per chain."""
    if backend == 'nftables':
        return {NFT_CHAINS[d]: [r['comment'] for r in rules if r['direction'] == d] for d in ('out', 'in')}
    sig = {}
    for family in ('ip', 'ip6'):
        for direction in ('out', 'in'):
            sig['%s/%s' % (family, IPT_CHAINS[direction])] = [
                line.split('--comment ', 1)[1].split()[0]
                for line in ipt_rules(rules, family) if line.split()[1] == IPT_CHAINS[direction]]
    return sig


# --- reading the live ruleset ------------------------------------------------------------------

# --- the tool ---------------------------------------------------------------------------------

def select_backend(requested, which, allow_hosts_only=False):
    """Pick the firewall tool: nft first, then iptables; ``which(name)`` -> path or None.

    Returns (backend, tools, warnings) with backend 'nftables', 'iptables' or 'none'.
    Raises ContainError when no tool fits and hosts-file-only is not allowed.
    """
    warnings = []
    nft = which('nft')
    ipt = {name: which(name) for name in ('iptables', 'iptables-restore', 'ip6tables', 'ip6tables-restore')}
    have_ipt = bool(ipt['iptables'] and ipt['iptables-restore'])
    if requested not in ('auto', 'nftables', 'iptables'):
        raise ContainError('backend must be auto, nftables or iptables, got %r' % (requested,))
    if requested in ('auto', 'nftables') and nft:
        return 'nftables', {'nft': nft}, warnings
    if requested in ('auto', 'iptables') and have_ipt:
        tools = {k: v for k, v in ipt.items() if v}
        if not (ipt['ip6tables'] and ipt['ip6tables-restore']):
            warnings.append('ip6tables is not installed: the IPv6 part of the containment is not applied')
        return 'iptables', tools, warnings
    wanted = {'auto': 'nft or iptables (with iptables-restore)', 'nftables': 'nft',
              'iptables': 'iptables and iptables-restore'}[requested]
    if allow_hosts_only:
        warnings.append('no firewall tool found (%s): only the /etc/hosts block is applied; Kaspersky can still '
                        'reach its Administration Server and the public resolvers' % wanted)
        return 'none', {}, warnings
    raise ContainError('no firewall tool found on the host (%s is not installed): nothing was changed; install '
                       'nftables (or iptables), or set allow_hosts_only=true to accept the /etc/hosts block alone'
                       % wanted)


# --- /etc/hosts -------------------------------------------------------------------------------

def hosts_block(domains):
    """The managed block (with its markers), or [] when there is nothing to blackhole."""
    if not domains:
        return []
    lines = [HOSTS_BEGIN]
    for domain in domains:
        lines += ['%s %s' % (address, domain) for address in BLACKHOLE_ADDRESSES]
    lines.append(HOSTS_END)
    return lines


def merge_hosts(text, block):
    """Put ``block`` in place of the managed block of ``text`` (appended when absent, removed when empty).

    Everything outside the markers is kept byte for byte. A BEGIN marker without
    its END (or the reverse) is refused rather than guessed at.
    """
    lines = text.split('\n') if text else []
    trailing = text.endswith('\n')
    if trailing:
        lines = lines[:-1]
    kept, position, inside = [], None, False
    for number, line in enumerate(lines, 1):
        match = HOSTS_MARK.match(line)
        if match and match.group(1) == 'BEGIN':
            if inside:
                raise ContainError('/etc/hosts line %d: a second BEGIN phaseout contain marker inside the block; '
                                   'fix the file by hand' % number)
            inside = True
            if position is None:
                position = len(kept)
            continue
        if match and match.group(1) == 'END':
            if not inside:
                raise ContainError('/etc/hosts line %d: END phaseout contain marker without its BEGIN; '
                                   'fix the file by hand' % number)
            inside = False
            continue
        if not inside:
            kept.append(line)
    if inside:
        raise ContainError('/etc/hosts: BEGIN phaseout contain marker without its END; fix the file by hand')
    if block:
        if position is None:
            position = len(kept)
        kept[position:position] = block
    if not kept:
        return ''
    return '\n'.join(kept) + ('\n' if trailing or block else '')


# --- persistence ------------------------------------------------------------------------------

def render_unit(backend, tools):
    """A oneshot unit that loads the persisted rules at boot (and after nftables.service restarts)."""
    head = [
        '# phaseout contain: written by phaseout.antivirus.kaspersky_contain; removed with state=absent.',
        '[Unit]',
        'Description=phaseout contain: keep Kaspersky cut off from KSN, its updates and its Administration Server',
        'Documentation=file://%s' % (NFT_FILE if backend == 'nftables' else IPT_FILES['ip']),
        'DefaultDependencies=no',
        'Wants=network-pre.target',
        'Before=network-pre.target shutdown.target',
        'After=local-fs.target nftables.service netfilter-persistent.service iptables.service ip6tables.service '
        'firewalld.service',
        'PartOf=nftables.service',
        'ReloadPropagatedFrom=nftables.service',
        'Conflicts=shutdown.target',
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
    ]
    body = []
    if backend == 'nftables':
        body += ['ExecStart=%s -f %s' % (tools['nft'], NFT_FILE), 'ExecReload=%s -f %s' % (tools['nft'], NFT_FILE)]
    else:
        for family, cmd in (('ip', 'iptables'), ('ip6', 'ip6tables')):
            if not (tools.get(cmd) and tools.get(cmd + '-restore')):
                continue
            for direction in ('out', 'in'):
                # the restore file inserts the jumps; drop any first so a restart does not double them
                body.append('ExecStartPre=-%s -D %s -j %s' % (tools[cmd], IPT_HOOKS[direction], IPT_CHAINS[direction]))
            body.append('ExecStart=%s --noflush %s' % (tools[cmd + '-restore'], IPT_FILES[family]))
    tail = ['', '[Install]', 'WantedBy=%s' % UNIT_WANTED_BY]
    return '\n'.join(head + body + tail) + '\n'


def persisted_files(backend, rules, action, tools):
    """{path: content} of the rules files the unit loads."""
    if backend == 'nftables':
        return {NFT_FILE: render_nft(rules, action)}
    if backend == 'iptables':
        files = {IPT_FILES['ip']: render_iptables(rules, 'ip', action, jumps=True)}
        if tools.get('ip6tables') and tools.get('ip6tables-restore'):
            files[IPT_FILES['ip6']] = render_iptables(rules, 'ip6', action, jumps=True)
        return files
    return {}


# --- decisions --------------------------------------------------------------------------------

def changes_needed(state, wanted, current):
    """Which parts differ: a sorted subset of ['hosts', 'persistence', 'ruleset'].

    ``wanted`` and ``current`` each hold 'ruleset' (a signature, or None for
    nothing), 'hosts' (the managed block lines) and 'persistence' ({path:
    content} plus 'link': bool).
    """
    changes = []
    if state == 'absent':
        if current.get('ruleset'):
            changes.append('ruleset')
        if current.get('hosts'):
            changes.append('hosts')
        if any(current.get('persistence', {}).values()):
            changes.append('persistence')
        return changes
    if wanted.get('ruleset') is not None and current.get('ruleset') != wanted['ruleset']:
        changes.append('ruleset')
    if current.get('hosts', []) != wanted.get('hosts', []):
        changes.append('hosts')
    if wanted.get('persistence') is not None and current.get('persistence') != wanted['persistence']:
        changes.append('persistence')
    return sorted(changes)


# --- Windows ------------------------------------------------------------------------------------

def windows_rules(rules, prefix='phaseout contain'):
    """Rules for community.windows.win_firewall_rule, one per rule and family."""
    out = []
    for rule in rules:
        addresses = ','.join(rule['addresses']) if rule['family'] else 'any'
        out.append({
            'name': '%s %s' % (prefix, rule['comment'].split(':', 1)[1]),
            'description': '%s (%s)' % (rule['description'], rule['comment']),
            'direction': 'out' if rule['direction'] == 'out' else 'in',
            'protocol': rule['proto'],
            'localport': ','.join(str(p) for p in rule['ports']) if rule['direction'] == 'in' else 'any',
            'remoteport': ','.join(str(p) for p in rule['ports']) if rule['direction'] == 'out' else 'any',
            'remoteip': addresses,
            'action': 'block',
        })
    return out


# --- the host's own resolvers: never blocked --------------------------------------------------------
#
# KES falls back to public resolvers when the system's DNS cannot resolve its
# servers; contain blocks DNS to those. A host (or the site's DNS server) that
# itself resolves through one of them would lose name resolution, and with it
# SSSD/AD logins. So contain reads what the host resolves through and forwards
# to, and never blocks those addresses (plan_public_dns).

# Files read on Linux, by kind. Globs are expanded by the caller's ``glob``.
RESOLVER_FILES = (
    ('resolv.conf', '/etc/resolv.conf'),
    ('resolv.conf', '/run/systemd/resolve/resolv.conf'),     # systemd-resolved's upstream servers
    ('resolv.conf', '/run/NetworkManager/no-stub-resolv.conf'),
    ('resolv.conf', '/run/resolvconf/resolv.conf'),
    ('systemd-resolved', '/etc/systemd/resolved.conf'),
    ('systemd-resolved', '/etc/systemd/resolved.conf.d/*.conf'),
    ('systemd-resolved', '/run/systemd/resolved.conf.d/*.conf'),
    ('systemd-resolved', '/usr/lib/systemd/resolved.conf.d/*.conf'),
    ('systemd-networkd', '/etc/systemd/network/*.network'),
    ('systemd-networkd', '/run/systemd/network/*.network'),
    ('NetworkManager', '/etc/NetworkManager/system-connections/*.nmconnection'),
    ('NetworkManager', '/run/NetworkManager/system-connections/*.nmconnection'),
    ('dnsmasq', '/etc/dnsmasq.conf'),
    ('dnsmasq', '/etc/dnsmasq.d/*'),
    ('dnsmasq', '/etc/NetworkManager/dnsmasq.d/*'),
    ('unbound', '/etc/unbound/unbound.conf'),
    ('bind', '/etc/bind/named.conf'),
    ('bind', '/etc/named.conf'),
)
_MAX_INCLUDE_DEPTH = 4


def normalize_resolver(token):
    """One resolver as the configuration files write it -> its IP address text, or None.

    Accepts ``1.1.1.1``, ``1.1.1.1:53``, ``1.1.1.1#dns.name``, ``1.1.1.1@853``,
    ``[2606:4700::1111]:53%eth0#name``, ``fe80::1%eth0`` and ``2001:db8::1``.
    """
    text = str(token or '').strip().strip('"\'').strip()
    if not text:
        return None
    text = text.split('#', 1)[0]           # systemd-resolved/unbound server name, dnsmasq port
    text = text.split('@', 1)[0]           # unbound port, dnsmasq interface
    if text.startswith('['):               # [v6]:port%iface
        text = text[1:].split(']', 1)[0]
    elif text.count(':') == 1:             # v4:port
        text = text.split(':', 1)[0]
    text = text.split('%', 1)[0]           # scope id
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _strip_comment(line, marks=('#', ';')):
    for mark in marks:
        if mark in line:
            line = line.split(mark, 1)[0]
    return line.strip()


def parse_resolv_conf(text):
    """``nameserver`` lines of a resolv.conf -> addresses."""
    found = []
    for line in (text or '').splitlines():
        words = _strip_comment(line).split()
        if len(words) >= 2 and words[0] == 'nameserver':
            found.append(words[1])
    return found


def parse_ini_dns(text, keys=('DNS', 'FallbackDNS'), sections=None):
    """DNS=/FallbackDNS= of resolved.conf and .network files, dns= of .nmconnection files -> addresses.

    ``sections``: only these [sections] count (None: any). Values are
    whitespace-separated (systemd) or semicolon-separated (NetworkManager).
    """
    found, section = [], None
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line[0] in '#;':
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition('=')
        if not sep or key.strip() not in keys or (sections and section not in sections):
            continue
        found.extend(v for v in re.split(r'[\s;,]+', value.strip()) if v)
    return found


def parse_dnsmasq(text):
    """dnsmasq configuration -> (upstream addresses, {kind: [paths to read too]})."""
    found, includes = [], {'dnsmasq': [], 'resolv.conf': []}
    for line in (text or '').splitlines():
        line = line.strip()
        if line.startswith('#'):
            continue
        key, sep, value = line.partition('=')
        key, value = key.strip(), value.strip()
        if not sep:
            continue
        if key in ('server', 'rev-server'):
            if key == 'rev-server':        # rev-server=<network>,<server>
                value = value.split(',', 1)[-1]
            if value.startswith('/'):      # server=/domain/.../address
                value = value.rsplit('/', 1)[-1]
            found.append(value.split('#', 1)[0].split('@', 1)[0])
        elif key == 'resolv-file':
            includes['resolv.conf'].append(value)
        elif key == 'conf-file':
            includes['dnsmasq'].append(value)
        elif key == 'conf-dir':
            directory = value.split(',', 1)[0].rstrip('/')
            includes['dnsmasq'].append(directory + '/*')
    return found, includes


def parse_unbound(text):
    """unbound.conf -> (forward-addr and stub-addr addresses, {'unbound': [include globs]})."""
    found, includes = [], {'unbound': []}
    for line in (text or '').splitlines():
        # '#' starts a comment at the line start or after a blank; "addr@853#name" is a TLS server name
        line = re.sub(r'(^|\s)#.*$', '', line).strip()
        key, sep, value = line.partition(':')
        key, value = key.strip(), value.strip().strip('"')
        if not sep:
            continue
        if key in ('forward-addr', 'stub-addr'):
            found.append(value)
        elif key in ('include', 'include-toplevel'):
            includes['unbound'].append(value)
    return found, includes


_BIND_COMMENTS = re.compile(r'/\*.*?\*/|//[^\n]*|#[^\n]*', re.S)
_BIND_FORWARDERS = re.compile(r'\bforwarders\s*(?:port\s+\d+\s*)?(?:tls\s+\S+\s*)?\{([^}]*)\}', re.S)
_BIND_INCLUDE = re.compile(r'\binclude\s+"([^"]+)"\s*;')


def parse_bind(text):
    """named.conf -> (forwarders of every options/zone block, {'bind': [included files]})."""
    text = _BIND_COMMENTS.sub('', text or '')
    found = []
    for block in _BIND_FORWARDERS.findall(text):
        for entry in block.split(';'):
            words = entry.split()
            if words:
                found.append(words[0])
    return found, {'bind': _BIND_INCLUDE.findall(text)}


def _add_resolver(found, token, source):
    address = normalize_resolver(token)
    if address is None:
        return
    for entry in found:
        if entry['address'] == address:
            if source not in entry['sources']:
                entry['sources'].append(source)
            return
    found.append({'address': address, 'source': source, 'sources': [source]})


def read_resolvers(read, glob):
    """Every DNS server the host resolves through or forwards to, with where it was read.

    ``read(path)`` returns the text or None; ``glob(pattern)`` the sorted
    matching paths. Returns [{'address', 'source', 'sources'}], first source
    first, each address once.
    """
    found, seen = [], set()
    todo = [(kind, pattern, 0) for kind, pattern in RESOLVER_FILES]
    while todo:
        kind, pattern, depth = todo.pop(0)
        paths = glob(pattern) if any(c in pattern for c in '*?[') else [pattern]
        for path in paths:
            if (kind, path) in seen:
                continue
            seen.add((kind, path))
            text = read(path)
            if text is None:
                continue
            includes = {}
            if kind == 'resolv.conf':
                values, what = parse_resolv_conf(text), 'nameserver'
            elif kind == 'systemd-resolved':
                values, what = parse_ini_dns(text, sections=('Resolve',)), 'DNS=/FallbackDNS='
            elif kind == 'systemd-networkd':
                values, what = parse_ini_dns(text, keys=('DNS',), sections=('Network',)), 'DNS='
            elif kind == 'NetworkManager':
                values, what = parse_ini_dns(text, keys=('dns',), sections=('ipv4', 'ipv6')), 'dns='
            elif kind == 'dnsmasq':
                (values, includes), what = parse_dnsmasq(text), 'server='
            elif kind == 'unbound':
                (values, includes), what = parse_unbound(text), 'forward-addr'
            else:
                (values, includes), what = parse_bind(text), 'forwarders'
            for value in values:
                _add_resolver(found, value, '%s (%s %s)' % (path, kind, what))
            if depth < _MAX_INCLUDE_DEPTH:
                for include_kind, patterns in includes.items():
                    todo.extend((include_kind, p, depth + 1) for p in patterns)
    return found


def windows_resolvers(collected):
    """The DNS servers a Windows host uses and forwards to, from the contain role's read-only PowerShell read.

    ``collected`` holds ``adapters`` ([{alias, addresses}]: Get-DnsClientServerAddress),
    ``forwarders`` ([addresses]: Get-DnsServerForwarder, DNS Server role only) and
    ``conditional_forwarders`` ([{zone, addresses}]: forwarder zones). Returns
    [{'address', 'source'}] in the shape of read_resolvers.
    """
    found = []
    collected = collected if isinstance(collected, dict) else {}
    for adapter in _as_list(collected.get('adapters')):
        if not isinstance(adapter, dict):
            continue
        for address in _as_list(adapter.get('addresses')):
            _add_resolver(found, address, 'adapter %s' % adapter.get('alias', '?'))
    for address in _as_list(collected.get('forwarders')):
        _add_resolver(found, address, 'DNS Server forwarders')
    for zone in _as_list(collected.get('conditional_forwarders')):
        if not isinstance(zone, dict):
            continue
        for address in _as_list(zone.get('addresses')):
            _add_resolver(found, address, 'DNS Server conditional forwarder %s' % zone.get('zone', '?'))
    return found


def _as_list(value):
    """PowerShell's ConvertTo-Json makes a one-element array a scalar: accept both."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def exclude_addresses(families, keep):
    """Cut the addresses in ``keep`` out of {'ip': [...], 'ip6': [...]}.

    A listed address equal to a kept one is dropped; a listed network that
    holds a kept address is split around it. Returns (families, kept) where
    kept lists the kept addresses that were actually in the list.
    """
    protected = []
    for address in keep or []:
        text = normalize_resolver(address)
        if text:
            protected.append(ipaddress.ip_address(text))
    out, kept = {'ip': [], 'ip6': []}, []
    for family in ('ip', 'ip6'):
        for entry in families.get(family, []):
            networks = [ipaddress.ip_network(entry, strict=False)]
            for address in protected:
                split = []
                for net in networks:
                    if net.version == address.version and address in net:
                        if str(address) not in kept:
                            kept.append(str(address))
                        split.extend(net.address_exclude(ipaddress.ip_network(address)))
                    else:
                        split.append(net)
                networks = split
            for net in sorted(networks) if len(networks) > 1 else networks:
                text = str(net.network_address) if net.num_addresses == 1 else str(net)
                if text not in out[family]:
                    out[family].append(text)
    return out, kept


DNS_BLOCK_VERDICTS = ('installed', 'residue')


def plan_public_dns(block_public_dns, public_resolvers, verdict, host_resolvers, on_conflict='exclude'):
    """Decide the public-DNS block of one host.

    * Only where Kaspersky is installed or left as residue (``verdict``): a
      clean host has nothing that could fall back to public DNS.
    * Never the host's own resolvers and forwarders (``host_resolvers``,
      read_resolvers or windows_resolvers): with ``on_conflict='exclude'`` they
      are left out of the block and listed under ``kept``; with ``'refuse'``
      the host is refused (ContainError) and nothing is changed.

    Returns {'block': bool, 'resolvers': [addresses blocked], 'kept':
    [{'address', 'source'}], 'reason': str}.
    """
    if on_conflict not in ('exclude', 'refuse'):
        raise ContainError('resolver_conflict must be exclude or refuse, got %r' % (on_conflict,))
    if verdict not in ('installed', 'residue', 'clean'):
        raise ContainError("kaspersky_verdict must be installed, residue or clean, got %r" % (verdict,))
    listed = check_addresses('public_resolvers',
                             DEFAULT_PUBLIC_RESOLVERS if public_resolvers is None else public_resolvers)
    plan = {'block': False, 'resolvers': [], 'kept': [], 'reason': ''}
    if not block_public_dns:
        plan['reason'] = 'the public-DNS block is turned off (block_public_dns=false)'
        return plan
    if verdict not in DNS_BLOCK_VERDICTS:
        plan['reason'] = 'Kaspersky is not installed here (verdict %s): no public-DNS block' % verdict
        return plan
    sources = {}
    for entry in host_resolvers or []:
        sources.setdefault(entry['address'], entry.get('source', 'the host'))
    remaining, kept = exclude_addresses(listed, list(sources))
    if kept and on_conflict == 'refuse':
        raise ContainError(
            'this host resolves through %s, which the public-DNS block would cut off: nothing was changed. '
            'Point the host at internal resolvers, drop the address from public_resolvers, or set '
            'resolver_conflict=exclude to contain it without blocking that resolver'
            % ', '.join('%s (%s)' % (a, sources[a]) for a in kept))
    plan['kept'] = [{'address': a, 'source': sources[a]} for a in kept]
    plan['resolvers'] = remaining['ip'] + remaining['ip6']
    plan['block'] = bool(plan['resolvers'])
    if kept:
        plan['reason'] = ('not blocked, the host resolves through them: %s'
                          % ', '.join('%s (%s)' % (a, sources[a]) for a in kept))
    return plan


# --- the containment record on the host, and its check ---------------------------------------------
#
# kaspersky_contain writes STATE_FILE with what it applied; discover and verify
# compare the live state with it (containment_status), so a containment that
# another tool flushed shows as `lapsed`.

def state_record(backend, signature_, hosts_path, hosts_lines, persisted, dns_plan):
    """The content of STATE_FILE (deterministic: the same containment gives the same bytes)."""
    record = {
        'version': STATE_VERSION,
        'backend': backend,
        'signature': signature_,
        'hosts_path': hosts_path,
        'hosts_block_sha256': sha256_lines(hosts_lines) if hosts_lines else None,
        'persisted': bool(persisted),
        'public_dns_blocked': list(dns_plan.get('resolvers') or []),
        'resolvers_kept': [k['address'] for k in dns_plan.get('kept') or []],
    }
    return json.dumps(record, indent=1, sort_keys=True) + '\n'


def windows_state_record(rules, hosts_lines, dns_plan):
    """The record the contain role writes on Windows (%ProgramData%\\phaseout\\contain.json)."""
    return json.dumps({
        'version': STATE_VERSION,
        'backend': 'windows_firewall',
        'rules': sorted(rule['name'] for rule in rules),
        'hosts_lines': sorted(hosts_lines),
        'public_dns_blocked': list(dns_plan.get('resolvers') or []),
        'resolvers_kept': [k['address'] for k in dns_plan.get('kept') or []],
    }, indent=1, sort_keys=True) + '\n'


def windows_containment_status(state_text, firewall_rules, hosts_lines):
    """containment_status for Windows: ``firewall_rules`` are the enabled block rules (DisplayName) of the
    group ``phaseout contain``; ``hosts_lines`` the ``<address> <name>`` entries of the hosts file."""
    result = {'containment': 'none', 'reasons': [], 'backend': None, 'public_dns_blocked': [],
              'resolvers_kept': []}
    rules = set(_as_list(firewall_rules))
    if state_text is None:
        if rules:
            result.update(containment='lapsed', reasons=['phaseout contain firewall rules are present without '
                                                         'their state file: run the contain phase again'])
        return result
    try:
        state = json.loads(state_text)
        if not isinstance(state, dict):
            raise ValueError('not an object')
    except ValueError as exc:
        result.update(containment='lapsed', reasons=['the contain state file is unreadable (%s)' % exc])
        return result
    result.update(backend=state.get('backend'), public_dns_blocked=list(state.get('public_dns_blocked') or []),
                  resolvers_kept=list(state.get('resolvers_kept') or []))
    missing = sorted(set(state.get('rules') or []) - rules)
    if missing:
        result['reasons'].append('%d of the phaseout firewall rules are missing or disabled: %s'
                                 % (len(missing), ', '.join(missing[:5])))
    present = {' '.join(str(line).split()) for line in _as_list(hosts_lines)}
    gone = [line for line in state.get('hosts_lines') or [] if ' '.join(line.split()) not in present]
    if gone:
        result['reasons'].append('%d phaseout hosts-file entries are gone' % len(gone))
    result['containment'] = 'lapsed' if result['reasons'] else 'intact'
    return result
