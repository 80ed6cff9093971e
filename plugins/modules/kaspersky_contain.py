#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: kaspersky_contain
short_description: Cut Kaspersky off from KSN, its update servers and its Administration Server, reversibly
version_added: 0.1.0
description:
  - Linux. Contains Kaspersky on a host while it keeps protecting it, namely Kaspersky's services are not touched;
    what is cut is its traffic.
  - Adds a host firewall table of its own (nftables C(inet phaseout_contain), or the iptables/ip6tables chains
    C(PHASEOUT_CONTAIN_OUT) and C(PHASEOUT_CONTAIN_IN)) that drops outbound TCP 13000, 14000, 13111 and 17111 and
    UDP 15111 (Network Agent and KSN proxy connections to the Kaspersky Security Center Administration Server)
    and inbound UDP 15000 (the server's wake-up of the agent); with O(ports_scope=admin_server) only to and from
    the Administration Server's addresses.
  - With O(block_public_dns) (the default) it also drops outbound DNS (53) and DNS over TLS (853) to the public
    resolvers KES falls back to when the system's DNS cannot resolve Kaspersky's servers (8.8.8.8, 1.1.1.1,
    223.6.6.6, 9.9.9.9, 185.228.168.168), but only where O(kaspersky_verdict) is V(installed) or V(residue).
    B(Other software that uses these resolvers directly is cut off from them too.)
  - B(The host's own resolvers and forwarders are never blocked.) The module reads them from C(/etc/resolv.conf),
    systemd-resolved (C(/run/systemd/resolve/resolv.conf), C(resolved.conf) and its C(.d) directories, C(DNS=) and
    C(FallbackDNS=)), systemd-networkd and NetworkManager connection files, and a local DNS server's forwarders
    (dnsmasq C(server=) and C(resolv-file=), unbound C(forward-addr) and C(stub-addr), bind C(forwarders)),
    following their include directives. A public resolver the host itself uses is left out of the block and listed
    in RV(public_dns.kept) (O(resolver_conflict=exclude), the default), or the host is refused and nothing is
    changed (O(resolver_conflict=refuse)).
  - Answers Kaspersky's update, activation and KSN host names with C(0.0.0.0) and C(::) from a marked block in
    C(/etc/hosts). A hosts file cannot hold wildcards, so RV(suffixes_not_covered) (C(kaspersky.com),
    C(kaspersky-labs.com)) must be blocked at the DNS resolver or proxy as well.
  - The firewall rules are applied atomically with C(nft -f) when C(nft) is installed, else with
    C(iptables-restore) and C(ip6tables-restore). Without either the module fails and changes nothing, unless
    O(allow_hosts_only=true).
  - Persistence (O(persist)) is a oneshot systemd unit C(/etc/systemd/system/phaseout-contain.service), enabled
    in C(sysinit.target), that loads C(/etc/phaseout/contain.nft) (or C(contain-v4.rules) and
    C(contain-v6.rules)) at boot, after C(nftables.service), and again when C(nftables.service) is restarted or
    reloaded.
  - What was applied is recorded in C(/etc/phaseout/contain.json); O(state=query) compares the live ruleset, the
    hosts block and the boot unit with it and returns RV(containment) (V(intact), V(lapsed) with the reasons,
    V(none) or V(unknown)) without changing anything. M(phaseout.antivirus.kaspersky_info) can run the same check
    (C(probe_containment) in C(plugins/module_utils/contain_state.py)).
  - The hosts file is written with C(AnsibleModule.atomic_move), which keeps its owner, mode and SELinux context; a
    symlinked hosts file stays a symlink and its target is edited; a bind-mounted one (containers) is written in
    place when it cannot be replaced.
  - O(state=absent) removes the table or chains, the hosts block, the unit, the rules files and the state file, and
    nothing else.
  - Idempotence is decided from the rules' comments (C(phaseout-contain:<purpose>:<hash of the rule>)), the hosts
    block and the persisted files, so a second run with the same options reports no change.
author:
  - phaseout maintainers (@phaseout)
options:
  state:
    description:
      - V(present) contains the host; V(absent) undoes everything this module added.
      - V(query) changes nothing and returns RV(containment), whether the containment is still in force.
    type: str
    choices: [present, absent, query]
    default: present
  backend:
    description:
      - Firewall tool. V(auto) uses C(nft) when installed, else C(iptables) with C(iptables-restore).
    type: str
    choices: [auto, nftables, iptables]
    default: auto
  allow_hosts_only:
    description:
      - When no firewall tool is installed, apply only the C(/etc/hosts) block (with a warning) instead of failing.
      - The host then still reaches its Administration Server and the public resolvers.
    type: bool
    default: false
  ksc_tcp_ports:
    description: Outbound TCP ports to block (Administration Server 13000 and 14000, KSN proxy 13111 and 17111).
    type: list
    elements: int
    default: [13000, 14000, 13111, 17111]
  ksc_udp_ports:
    description: Outbound UDP ports to block (KSN proxy 15111).
    type: list
    elements: int
    default: [15111]
  agent_udp_ports:
    description: Inbound UDP ports to block (the Network Agent's 15000, which the server uses to wake it).
    type: list
    elements: int
    default: [15000]
  admin_servers:
    description:
      - Addresses or host names of the Administration Server (what M(phaseout.antivirus.kaspersky_info) reports
        as C(admin_server)). Host names are resolved on the host at each run.
      - Used only with O(ports_scope=admin_server).
    type: list
    elements: str
    default: []
  ports_scope:
    description:
      - V(any) blocks the KSC ports to and from any address (also a second server or a connection gateway).
      - V(admin_server) blocks them only to and from O(admin_servers); when none of them resolves, the module warns
        and blocks them to any address.
    type: str
    choices: [any, admin_server]
    default: any
  block_public_dns:
    description:
      - Block outbound 53 (TCP and UDP) and 853 to O(public_resolvers), the resolvers KES falls back to.
      - Trade-off, any other program that queries these resolvers directly loses them too; programs that use the
        system resolver are not affected.
    type: bool
    default: true
  public_resolvers:
    description: Public resolver addresses (or networks) to block (IPv4 or IPv6).
    type: list
    elements: str
    default: [8.8.8.8, 1.1.1.1, 223.6.6.6, 9.9.9.9, 185.228.168.168]
  kaspersky_verdict:
    description:
      - What M(phaseout.antivirus.kaspersky_info) found on the host (its C(verdict)). The public-DNS block applies
        only for V(installed) and V(residue); V(clean) removes it (the other rules stay).
    type: str
    choices: [installed, residue, clean]
    default: installed
  resolver_conflict:
    description:
      - What to do when the host itself resolves through, or forwards to, one of O(public_resolvers).
      - V(exclude) leaves those addresses out of the block (with a warning, listed in RV(public_dns.kept)); V(refuse)
        fails the host and changes nothing.
    type: str
    choices: [exclude, refuse]
    default: exclude
  keep_resolvers:
    description:
      - More resolver addresses never to block, in addition to those read from the host (for example the resolvers
        a DHCP lease may hand out later).
    type: list
    elements: str
    default: []
  domains:
    description:
      - Host names answered with C(0.0.0.0) and C(::) from the managed block of O(hosts_path). An empty list
        writes no block.
      - The default is the reference list of Kaspersky's activation, update (C(s00) to C(s19.upd.kaspersky.com)),
        KSN and download hosts, see C(plugins/module_utils/contain.py).
    type: list
    elements: str
  action:
    description: V(drop) silently, or V(reject) so that programs fail at once instead of timing out.
    type: str
    choices: [drop, reject]
    default: drop
  persist:
    description: Keep the rules across reboots with the C(phaseout-contain.service) unit (needs systemd).
    type: bool
    default: true
  hosts_path:
    description: The hosts file.
    type: path
    default: /etc/hosts
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Returns the exact ruleset, rules and hosts lines it would apply, and changes nothing. O(state=query) is
      read-only in any mode.
  diff_mode:
    support: full
    details: The diff shows the firewall ruleset, the hosts file and the persisted files before and after.
  platform:
    platforms: [posix]
notes:
  - Needs root. In a container it needs C(CAP_NET_ADMIN).
  - Reads the system directly and needs nothing beyond Python and the firewall tool (C(nft), or C(iptables)).
  - Windows hosts are contained by the P(phaseout.antivirus.contain#role) role with
    M(community.windows.win_firewall_rule) and M(ansible.windows.win_hosts), not by this module.
seealso:
  - module: phaseout.antivirus.kaspersky_info
  - module: phaseout.antivirus.kaspersky_uninstall
'''

EXAMPLES = r'''
- name: Cut Kaspersky off from its cloud, updates and Administration Server
  phaseout.antivirus.kaspersky_contain:
  register: contained

- name: Block the KSC ports only towards the agent's Administration Server
  phaseout.antivirus.kaspersky_contain:
    admin_servers: [ksc.corp.example]
    ports_scope: admin_server

- name: Keep the public resolvers reachable (other software depends on them)
  phaseout.antivirus.kaspersky_contain:
    block_public_dns: false

- name: Show what would be applied
  phaseout.antivirus.kaspersky_contain:
  check_mode: true
  register: plan

- name: Refuse hosts that resolve through a public resolver instead of leaving it unblocked
  phaseout.antivirus.kaspersky_contain:
    resolver_conflict: refuse

- name: Is the containment still in force?
  phaseout.antivirus.kaspersky_contain:
    state: query
  register: contained_now

- name: Undo the containment
  phaseout.antivirus.kaspersky_contain:
    state: absent
'''

RETURN = r'''
state:
  description: The state asked for.
  returned: always
  type: str
  sample: present
backend:
  description: The firewall tool used, V(nftables), V(iptables) or V(none) (hosts file only).
  returned: always
  type: str
  sample: nftables
changes:
  description: What differs (or differed) from the wanted state, a subset of C(hosts), C(persistence), C(ruleset).
  returned: always
  type: list
  elements: str
  sample: [hosts, persistence, ruleset]
rules:
  description:
    - The firewall rules, each with C(comment), C(purpose) (C(ksc) or C(public_dns)), C(direction), C(proto),
      C(ports), C(family) (C(ip), C(ip6) or null for both), C(addresses), C(description) and the rendered C(text).
    - Empty for O(state=absent).
  returned: always
  type: list
  elements: dict
ruleset:
  description: The exact ruleset applied (or that would be), as an C(nft -f) script or C(iptables-restore) files.
  returned: always
  type: str
hosts_lines:
  description: The managed block of the hosts file, markers included (empty for O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: ["# BEGIN phaseout contain: ...", "0.0.0.0 ds.kaspersky.com", ":: ds.kaspersky.com", "# END phaseout contain"]
suffixes_not_covered:
  description: Domain suffixes a hosts file cannot block; block them at the DNS resolver or proxy.
  returned: always
  type: list
  elements: str
  sample: [kaspersky.com, kaspersky-labs.com]
admin_server_addresses:
  description: The addresses O(admin_servers) resolved to on the host.
  returned: always
  type: list
  elements: str
ports_scope:
  description: The scope actually applied (V(any) when O(ports_scope=admin_server) but no address was known).
  returned: always
  type: str
persisted:
  description: Whether the rules are (or would be) loaded again at boot by the unit.
  returned: always
  type: bool
persistence:
  description: The unit, its C(sysinit.target) link and the rules files it loads.
  returned: always
  type: dict
  sample: {unit: /etc/systemd/system/phaseout-contain.service, files: [/etc/phaseout/contain.nft]}
live:
  description: The live ruleset as read after the run (before it in check mode), the ordered rule comments per chain.
  returned: always
  type: dict
public_dns:
  description:
    - The public-DNS decision, with C(block) (bool), C(resolvers) (the addresses blocked), C(kept) (the public
      resolvers left out because the host uses them, each with C(address) and C(source)) and C(reason).
  returned: always
  type: dict
  sample: {block: true, resolvers: [8.8.8.8, 1.1.1.1], kept: [{address: 9.9.9.9, source: /etc/resolv.conf}],
           reason: "not blocked, the host resolves through them: 9.9.9.9 (/etc/resolv.conf)"}
  contains:
    block:
      description: Whether any public resolver is blocked.
      returned: always
      type: bool
    resolvers:
      description: The public resolver addresses blocked.
      returned: always
      type: list
      elements: str
    kept:
      description: The public resolvers left out of the block because the host uses them, each with C(address) and C(source).
      returned: always
      type: list
      elements: dict
    reason:
      description: Why the public-DNS block is as it is, in words.
      returned: always
      type: str
host_resolvers:
  description: Every DNS server the host resolves through or forwards to, each with C(address) and C(source).
  returned: always
  type: list
  elements: dict
containment:
  description:
    - Whether the containment is in force, as read from the host after the run (before it in check mode), with the
      keys C(containment) (V(intact), V(lapsed), V(none) or V(unknown)), C(reasons), C(backend),
      C(public_dns_blocked) and C(resolvers_kept).
  returned: always
  type: dict
  sample: {containment: intact, reasons: [], backend: nftables, public_dns_blocked: [8.8.8.8], resolvers_kept: []}
'''

import glob
import os
import socket
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.phaseout.antivirus.plugins.module_utils import contain as C
from ansible_collections.phaseout.antivirus.plugins.module_utils import contain_state as S


ARGUMENT_SPEC = dict(
    state=dict(type='str', default='present', choices=['present', 'absent', 'query']),
    backend=dict(type='str', default='auto', choices=['auto', 'nftables', 'iptables']),
    allow_hosts_only=dict(type='bool', default=False),
    ksc_tcp_ports=dict(type='list', elements='int', default=list(C.DEFAULT_TCP_OUT)),
    ksc_udp_ports=dict(type='list', elements='int', default=list(C.DEFAULT_UDP_OUT)),
    agent_udp_ports=dict(type='list', elements='int', default=list(C.DEFAULT_UDP_IN)),
    admin_servers=dict(type='list', elements='str', default=[]),
    ports_scope=dict(type='str', default='any', choices=['any', 'admin_server']),
    block_public_dns=dict(type='bool', default=True),
    public_resolvers=dict(type='list', elements='str', default=list(C.DEFAULT_PUBLIC_RESOLVERS)),
    kaspersky_verdict=dict(type='str', default='installed', choices=['installed', 'residue', 'clean']),
    resolver_conflict=dict(type='str', default='exclude', choices=['exclude', 'refuse']),
    keep_resolvers=dict(type='list', elements='str', default=[]),
    domains=dict(type='list', elements='str'),
    action=dict(type='str', default='drop', choices=['drop', 'reject']),
    persist=dict(type='bool', default=True),
    hosts_path=dict(type='path', default='/etc/hosts'),
)

STATE_PATH = S.STATE_FILE
ALL_PERSISTED = [C.NFT_FILE, C.IPT_FILES['ip'], C.IPT_FILES['ip6'], C.UNIT_PATH, STATE_PATH]
# Where the resolver configuration is read from (tests point it at a directory tree).
FS_ROOT = '/'


def fs_path(path):
    return os.path.join(FS_ROOT, path.lstrip('/'))


class Host:
    """Reads and changes the host through run_command and plain file operations."""

    def __init__(self, module):
        self.module = module

    def fail(self, msg, rc=None, out='', err='', **extra):
        self.module.fail_json(msg='kaspersky_contain: ' + msg, rc=rc, stdout=out, stderr=err, **extra)

    def run(self, argv, what, data=None, ok=(0,)):
        rc, out, err = self.module.run_command(argv, data=data, binary_data=data is not None)
        if rc not in ok:
            self.fail('%s failed (%s): %s; run it by hand to see why (root and CAP_NET_ADMIN are needed)'
                      % (what, ' '.join(argv), (err or out).strip()), rc, out, err)
        return rc, out, err

    # --- firewall ---
    def nft_listing(self, nft):
        rc, out, err = self.module.run_command([nft, 'list', 'table', S.TABLE_FAMILY, S.TABLE_NAME])
        if rc == 0:
            return out
        if 'No such file or directory' in err or 'does not exist' in err:
            return None
        self.fail('cannot read the nftables ruleset: %s; the module needs root (and CAP_NET_ADMIN in a container)'
                  % err.strip(), rc, out, err)

    def ipt_listing(self, tool):
        rc, out, err = self.module.run_command([tool, '-w', '-S'])
        if rc != 0:
            self.fail('cannot read the %s ruleset: %s' % (tool, err.strip()), rc, out, err)
        return out

    def nft_apply(self, nft, script):
        fd, path = tempfile.mkstemp(prefix='phaseout-contain-', suffix='.nft', dir=self.module.tmpdir)
        with os.fdopen(fd, 'w') as handle:
            handle.write(script)
        try:
            self.run([nft, '-f', path], 'loading the ruleset')
        finally:
            os.unlink(path)

    def nft_delete(self, nft):
        self.run([nft, 'delete', 'table', S.TABLE_FAMILY, S.TABLE_NAME], 'deleting the table')

    def ipt_drop_jumps(self, tool):
        for hook_dir in ('out', 'in'):
            for _attempt in range(20):  # every duplicate
                rc, _out, _err = self.module.run_command(
                    [tool, '-w', '-D', S.IPT_HOOKS[hook_dir], '-j', S.IPT_CHAINS[hook_dir]])
                if rc != 0:
                    break

    def ipt_apply(self, tools, family, text):
        self.run([tools[('ip6tables' if family == 'ip6' else 'iptables') + '-restore'], '--noflush'],
                 'loading the %s rules' % family, data=text)

    def ipt_delete(self, tool, state):
        self.ipt_drop_jumps(tool)
        for chain in state['chains']:
            self.run([tool, '-w', '-F', chain], 'flushing %s' % chain)
            self.run([tool, '-w', '-X', chain], 'deleting %s' % chain)

    # --- files ---
    @staticmethod
    def read(path):
        try:
            with open(path, encoding='utf-8') as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def write(self, path, text, mode=0o644, unsafe_writes=False):
        """Atomic replace through AnsibleModule.atomic_move: owner, mode and SELinux context of an existing file are
        kept; a symlink stays a symlink (its target is written); ``unsafe_writes`` lets a bind-mounted file (a
        container's /etc/hosts, which cannot be renamed over) be written in place."""
        real = os.path.realpath(path)
        directory = os.path.dirname(real)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        creating = not os.path.exists(real)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.phaseout-contain-')
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as handle:
                handle.write(text)
            os.chmod(tmp, mode)
            try:
                self.module.atomic_move(tmp, real, unsafe_writes=unsafe_writes)
            except OSError:
                raise
            except Exception as exc:  # ansible-core raises a plain Exception when the move fails
                raise OSError(str(exc))
            if creating:
                os.chmod(real, mode)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def read_resolvers(self):
        def read(path):
            try:
                with open(fs_path(path), encoding='utf-8', errors='replace') as handle:
                    return handle.read()
            except (OSError, UnicodeError):
                return None

        def expand(pattern):
            root = fs_path('/')
            return sorted('/' + os.path.relpath(p, root) for p in glob.glob(fs_path(pattern)) if os.path.isfile(p))
        return C.read_resolvers(read, expand)


def resolve(names, warn):
    addresses = []
    for name in names:
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            warn('Administration Server %s does not resolve on the host (%s)' % (name, exc))
            continue
        for info in infos:
            address = info[4][0].split('%', 1)[0]
            if address not in addresses:
                addresses.append(address)
    return addresses


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    host = Host(module)
    if os.geteuid() != 0:
        module.fail_json(msg='kaspersky_contain must run as root to change the firewall and /etc/hosts: use become: true')
    which = module.get_bin_path

    def probe():
        return S.probe_containment(module.run_command, host.read, which, os.path.lexists,
                                   params['hosts_path'], STATE_PATH, S.UNIT_LINK)

    if params['state'] == 'query':
        module.exit_json(changed=False, state='query', containment=probe())

    present = params['state'] == 'present'
    warnings = []

    # --- what is wanted (pure) ---
    host_resolvers = host.read_resolvers() if present else []
    try:
        kept_by_option = C.check_addresses('keep_resolvers', params['keep_resolvers'])
        for address in kept_by_option['ip'] + kept_by_option['ip6']:
            host_resolvers.append({'address': address.split('/')[0], 'source': 'keep_resolvers',
                                   'sources': ['keep_resolvers']})
        domains = C.check_domains(C.DEFAULT_DOMAINS if params['domains'] is None else params['domains'])
        literal, names = C.split_servers(params['admin_servers'])
        admin_addresses = literal + resolve(names, warnings.append)
        admin = C.check_addresses('admin_servers', admin_addresses)
        scope = params['ports_scope']
        if scope == 'admin_server' and not any(admin.values()):
            warnings.append('ports_scope=admin_server but no Administration Server address is known: '
                            'the KSC ports are blocked to and from any address')
            scope = 'any'
        dns_plan = C.plan_public_dns(params['block_public_dns'], params['public_resolvers'],
                                     params['kaspersky_verdict'], host_resolvers, params['resolver_conflict'])
        if dns_plan['kept']:
            warnings.append('public resolvers left out of the DNS block because this host resolves through them: '
                            '%s. Kaspersky can still query them directly; block its suffixes there or at the '
                            'network edge' % ', '.join('%s (%s)' % (k['address'], k['source'])
                                                       for k in dns_plan['kept']))
        rules = C.build_rules(params['ksc_tcp_ports'], params['ksc_udp_ports'], params['agent_udp_ports'],
                              admin, scope, dns_plan['block'], dns_plan['resolvers'] or [], params['action'])
        if present:
            backend, tools, more = C.select_backend(params['backend'], which, params['allow_hosts_only'])
            warnings += more
        else:
            backend, tools = 'none', {}
    except C.ContainError as exc:
        module.fail_json(msg='kaspersky_contain: %s' % exc, host_resolvers=host_resolvers)
    for warning in warnings:
        module.warn(warning)

    nft = which('nft')
    ipt = {name: which(name) for name in ('iptables', 'ip6tables')}

    # --- what is there ---
    def read_live():
        live = {'nftables': None, 'iptables': {}}
        if nft and (backend == 'nftables' or not present):
            live['nftables'] = host.nft_listing(nft)
        if backend == 'iptables' or not present:
            for family, tool in (('ip', ipt['iptables']), ('ip6', ipt['ip6tables'])):
                if tool:
                    live['iptables'][family] = S.parse_iptables_s(host.ipt_listing(tool))
        return live

    def live_signature(live):
        if live['nftables'] is not None:
            return {'nftables': S.parse_nft_table(live['nftables'])}
        return {}

    def ruleset_text(live):
        text = live['nftables'] or ''
        for family in ('ip', 'ip6'):
            state = live['iptables'].get(family)
            if state and state['chains']:
                text += '# %s: chains %s, jumps %s\n' % (family, state['chains'], state['jumps'])
        return text

    hosts_path = params['hosts_path']
    hosts_before = host.read(hosts_path)
    if hosts_before is None:
        hosts_before = ''
    live_before = read_live()
    has_systemd = os.path.isdir('/run/systemd/system') and bool(which('systemctl'))

    families = []
    if backend == 'nftables':
        wanted_sig = C.signature(rules, 'nftables')
        current_sig = S.parse_nft_table(live_before['nftables'])
        ruleset = C.render_nft(rules, params['action'])
    elif backend == 'iptables':
        families = [f for f, t in (('ip', ipt['iptables']), ('ip6', ipt['ip6tables'])) if t]
        wanted_sig = {k: v for k, v in C.signature(rules, 'iptables').items() if k.split('/')[0] in families}
        current_sig = S.ipt_signature(live_before['iptables'])
        if not all(S.ipt_jumps_ok(live_before['iptables'][f]) for f in families):
            current_sig = dict(current_sig, jumps='missing or duplicated')
        ruleset = ''.join(C.render_iptables(rules, f, params['action'], jumps=True) for f in families)
    else:
        wanted_sig = None
        current_sig = None
        ruleset = ''
    if not present:
        current_sig = bool(live_before['nftables'] is not None
                           or any(s['chains'] or s['jumps'] for s in live_before['iptables'].values()))

    wanted_block = C.hosts_block(domains) if present else []
    try:
        hosts_after = C.merge_hosts(hosts_before, wanted_block)
    except C.ContainError as exc:
        module.fail_json(msg='kaspersky_contain: %s' % exc)

    wanted_files = C.persisted_files(backend, rules, params['action'], tools) if present else {}
    persist = present and params['persist'] and backend != 'none'
    if persist and not has_systemd:
        module.warn('systemd is not running: the rules are not persisted; load %s at boot with the init system'
                    % ', '.join(sorted(wanted_files)))
    wanted_unit = C.render_unit(backend, tools) if persist and has_systemd else None
    wanted_persistence = {path: None for path in ALL_PERSISTED}
    if persist:
        wanted_persistence.update(wanted_files)
        wanted_persistence[C.UNIT_PATH] = wanted_unit
    wanted_persistence['link'] = wanted_unit is not None
    if present:
        # what was applied, for the containment check of discover and verify (probe_containment)
        wanted_persistence[STATE_PATH] = C.state_record(backend, wanted_sig, hosts_path, wanted_block,
                                                        wanted_persistence['link'], dns_plan)
    current_persistence = {path: host.read(path) for path in ALL_PERSISTED}
    current_persistence['link'] = os.path.lexists(S.UNIT_LINK)

    changes = C.changes_needed(
        params['state'],
        {'ruleset': wanted_sig, 'hosts': wanted_block, 'persistence': wanted_persistence},
        {'ruleset': current_sig, 'hosts': S.hosts_block_of(hosts_before),
         'persistence': dict(current_persistence) if present
         else {k: v for k, v in current_persistence.items() if v}},
    )

    for rule in rules:
        if backend == 'iptables':
            rule['text'] = '\n'.join(C.ipt_rules([rule], 'ip', params['action'])
                                     + C.ipt_rules([rule], 'ip6', params['action']))
        else:
            rule['text'] = C.nft_rule(rule, params['action'])
    result = dict(
        changed=bool(changes), state=params['state'], backend=backend, changes=changes,
        rules=rules if present else [], ruleset=ruleset, hosts_lines=wanted_block,
        suffixes_not_covered=list(C.DOMAIN_SUFFIXES) if present else [],
        admin_server_addresses=admin_addresses, ports_scope=scope,
        persisted=bool(wanted_persistence['link']) if present else False,
        persistence={'unit': C.UNIT_PATH, 'link': S.UNIT_LINK,
                     'files': sorted(p for p, c in wanted_persistence.items() if c and p.startswith(S.PERSIST_DIR))},
        live=live_signature(live_before) if backend != 'iptables' else S.ipt_signature(live_before['iptables']),
        public_dns=dns_plan if present else {'block': False, 'resolvers': [], 'kept': [], 'reason': 'released'},
        host_resolvers=host_resolvers,
    )

    def diff(after_ruleset, after_hosts):
        before_files = ''.join('# %s\n%s' % (p, c) for p, c in sorted(current_persistence.items())
                               if p != 'link' and c)
        after_files = ''.join('# %s\n%s' % (p, c) for p, c in sorted(wanted_persistence.items())
                              if p != 'link' and c)
        return [
            dict(before_header='firewall: %s' % (S.TABLE if backend != 'iptables' else 'iptables chains'),
                 after_header='firewall: %s' % (S.TABLE if backend != 'iptables' else 'iptables chains'),
                 before=ruleset_text(live_before), after=after_ruleset),
            dict(before_header=hosts_path, after_header=hosts_path, before=hosts_before, after=after_hosts),
            dict(before_header='persistence', after_header='persistence', before=before_files, after=after_files),
        ]

    if not changes or module.check_mode:
        result['containment'] = probe()
        if changes:
            result['diff'] = diff(ruleset if present else '', hosts_after)
        module.exit_json(**result)

    # --- apply: the firewall first; a failure there leaves everything else untouched ---
    if 'ruleset' in changes:
        if not present:
            if live_before['nftables'] is not None:
                host.nft_delete(nft)
            for family, tool in (('ip', ipt['iptables']), ('ip6', ipt['ip6tables'])):
                state = live_before['iptables'].get(family)
                if tool and state and (state['chains'] or state['jumps']):
                    host.ipt_delete(tool, state)
        elif backend == 'nftables':
            host.nft_apply(nft, ruleset)
        elif backend == 'iptables':
            for family in families:
                tool = ipt['iptables' if family == 'ip' else 'ip6tables']
                jumps = S.ipt_jumps_ok(live_before['iptables'][family])
                if not jumps:
                    host.ipt_drop_jumps(tool)
                host.ipt_apply(tools, family, C.render_iptables(rules, family, params['action'], jumps=not jumps))

    if 'hosts' in changes:
        try:
            host.write(hosts_path, hosts_after, unsafe_writes=True)
        except OSError as exc:
            host.fail('cannot write %s: %s; the firewall rules are applied, fix the file and run again'
                      % (hosts_path, exc))

    if 'persistence' in changes:
        systemctl = which('systemctl')
        try:
            if current_persistence['link'] and not wanted_persistence['link'] and systemctl:
                host.run([systemctl, 'disable', '--now', S.UNIT_NAME], 'disabling %s' % S.UNIT_NAME)
            for path in ALL_PERSISTED:
                content = wanted_persistence[path]
                if content is None and current_persistence[path] is not None:
                    os.unlink(path)
                elif content is not None and content != current_persistence[path]:
                    host.write(path, content, mode=0o644)
            if os.path.isdir(S.PERSIST_DIR) and not os.listdir(S.PERSIST_DIR):
                os.rmdir(S.PERSIST_DIR)
        except OSError as exc:
            host.fail('cannot write the persistence files: %s; the live rules are applied, run again' % exc)
        if has_systemd and systemctl:
            host.run([systemctl, 'daemon-reload'], 'systemctl daemon-reload')
            if wanted_persistence['link']:
                host.run([systemctl, 'enable', S.UNIT_NAME], 'enabling %s' % S.UNIT_NAME)
                rc, _out, _err = module.run_command([systemctl, 'is-active', '--quiet', S.UNIT_NAME])
                if rc != 0:
                    host.run([systemctl, 'start', S.UNIT_NAME], 'starting %s' % S.UNIT_NAME)

    # --- read again and prove it ---
    live_after = read_live()
    hosts_now = host.read(hosts_path) or ''
    if present and backend == 'nftables':
        got = S.parse_nft_table(live_after['nftables'])
    elif present and backend == 'iptables':
        got = S.ipt_signature(live_after['iptables'])
        if not all(S.ipt_jumps_ok(live_after['iptables'][f]) for f in families):
            got = dict(got, jumps='missing or duplicated')
    elif present:
        got = None
    else:
        got = bool(live_after['nftables'] is not None
                   or any(s['chains'] or s['jumps'] for s in live_after['iptables'].values()))
        wanted_sig = False
    result['live'] = live_signature(live_after) if backend != 'iptables' else S.ipt_signature(live_after['iptables'])
    result['diff'] = diff(ruleset_text(live_after), hosts_now)
    result['containment'] = probe()
    if got != wanted_sig:
        host.fail('the live ruleset does not match what was applied (wanted %s, found %s): another firewall tool '
                  'may have changed it at the same time; run again' % (wanted_sig, got), **result)
    if S.hosts_block_of(hosts_now) != wanted_block:
        host.fail('%s does not hold the wanted block after writing it; check what else manages the file'
                  % hosts_path, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
