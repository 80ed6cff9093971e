# SPDX-License-Identifier: GPL-3.0-or-later
"""Contain: ruleset generation, the hosts block, idempotence decisions, tool selection, bad input."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.phaseout.antivirus.plugins.module_utils import contain as C
from ansible_collections.phaseout.antivirus.plugins.module_utils import contain_state as S

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def admin(*addresses):
    return C.check_addresses('admin_servers', list(addresses))


# --- the rules --------------------------------------------------------------------------------

def test_default_rules_block_the_reference_ports_and_resolvers():
    rules = C.build_rules()
    summary = [(r['purpose'], r['direction'], r['proto'], r['ports'], r['family'], r['addresses']) for r in rules]
    assert summary == [
        ('ksc', 'out', 'tcp', [13000, 14000, 13111, 17111], None, []),
        ('ksc', 'out', 'udp', [15111], None, []),
        ('ksc', 'in', 'udp', [15000], None, []),
        ('public_dns', 'out', 'udp', [53, 853], 'ip', C.DEFAULT_PUBLIC_RESOLVERS),
        ('public_dns', 'out', 'tcp', [53, 853], 'ip', C.DEFAULT_PUBLIC_RESOLVERS),
    ]
    assert C.DEFAULT_PUBLIC_RESOLVERS == ['8.8.8.8', '1.1.1.1', '223.6.6.6', '9.9.9.9', '185.228.168.168']


def test_nft_script_replaces_the_table_atomically_with_exact_rules():
    script = C.render_nft(C.build_rules())
    lines = [line.strip() for line in script.splitlines()]
    # create-if-missing, delete, recreate: one nft -f transaction whatever was there
    assert lines[3:6] == ['table inet phaseout_contain', 'delete table inet phaseout_contain',
                          'table inet phaseout_contain {']
    assert 'type filter hook output priority 0; policy accept;' in lines
    assert 'type filter hook input priority 0; policy accept;' in lines
    rules = [line for line in lines if 'comment "phaseout-contain:' in line]
    assert [r.split(' counter ')[0] for r in rules] == [
        'tcp dport { 13000, 14000, 13111, 17111 }',
        'udp dport 15111',
        'ip daddr { 8.8.8.8, 1.1.1.1, 223.6.6.6, 9.9.9.9, 185.228.168.168 } udp dport { 53, 853 }',
        'ip daddr { 8.8.8.8, 1.1.1.1, 223.6.6.6, 9.9.9.9, 185.228.168.168 } tcp dport { 53, 853 }',
        'udp dport 15000',
    ]
    assert all(' counter drop comment ' in r for r in rules)
    # the inbound rule sits in the input chain, after the output chain closed
    assert lines.index('chain input {') < lines.index(rules[-1])


def test_scoped_to_the_admin_server_per_family_and_direction():
    rules = C.build_rules(admin_addresses=admin('10.0.0.5', 'fd00::5'), scope='admin_server',
                          block_public_dns=False)
    texts = [C.nft_rule(r) for r in rules]
    assert texts[0].startswith('ip daddr 10.0.0.5 tcp dport { 13000, 14000, 13111, 17111 }')
    assert texts[1].startswith('ip6 daddr fd00::5 tcp dport')
    assert any(t.startswith('ip saddr 10.0.0.5 udp dport 15000') for t in texts)
    assert any(t.startswith('ip6 saddr fd00::5 udp dport 15000') for t in texts)
    assert not any('53' in t.split('comment')[0] for t in texts)


def test_scope_admin_server_without_addresses_blocks_any():
    rules = C.build_rules(admin_addresses=admin(), scope='admin_server')
    assert rules[0]['family'] is None and rules[0]['addresses'] == []


def test_reject_and_custom_ports_change_the_signature():
    base = C.signature(C.build_rules(), 'nftables')
    assert C.signature(C.build_rules(), 'nftables') == base, 'signatures are deterministic'
    assert C.signature(C.build_rules(action='reject'), 'nftables') != base
    assert C.signature(C.build_rules(tcp_out=[13000]), 'nftables') != base
    assert 'counter reject comment' in C.render_nft(C.build_rules(action='reject'))
    assert C.ipt_rules(C.build_rules(action='reject'), 'ip')[0].endswith(' -j REJECT')


def test_empty_port_lists_drop_their_rules():
    rules = C.build_rules(tcp_out=[], udp_out=[], udp_in=[], block_public_dns=False)
    assert rules == []
    assert 'dport' not in C.render_nft(rules)


def test_ipv6_resolvers_get_ip6_rules():
    rules = C.build_rules(public_resolvers=['2001:4860:4860::8888'], tcp_out=[], udp_out=[], udp_in=[])
    assert {r['family'] for r in rules} == {'ip6'}
    assert 'ip6 daddr 2001:4860:4860::8888 udp dport { 53, 853 }' in C.render_nft(rules)


def test_iptables_restore_files_per_family():
    rules = C.build_rules(admin_addresses=admin('10.0.0.5'), scope='admin_server')
    v4 = C.render_iptables(rules, 'ip').splitlines()
    v6 = C.render_iptables(rules, 'ip6', jumps=False).splitlines()
    assert v4[1:4] == ['*filter', ':PHASEOUT_CONTAIN_OUT - [0:0]', ':PHASEOUT_CONTAIN_IN - [0:0]']
    assert v4[-3:] == ['-I OUTPUT 1 -j PHASEOUT_CONTAIN_OUT', '-I INPUT 1 -j PHASEOUT_CONTAIN_IN', 'COMMIT']
    assert v4[4].startswith('-A PHASEOUT_CONTAIN_OUT -d 10.0.0.5 -p tcp -m multiport --dports 13000,14000,13111,17111 '
                            '-m comment --comment phaseout-contain:ksc:')
    assert v4[4].endswith(' -j DROP')
    # one rule per resolver address, udp and tcp
    assert sum('--dports 53,853' in line for line in v4) == 10
    # no IPv6 server address and only IPv4 resolvers: the IPv6 chains stay empty, no jumps asked for
    assert [line for line in v6 if line.startswith('-')] == []


def test_iptables_multiport_is_split_at_15_ports():
    ports = list(range(20000, 20020))
    lines = C.ipt_rules(C.build_rules(tcp_out=ports, udp_out=[], udp_in=[], block_public_dns=False), 'ip')
    assert len(lines) == 2
    assert lines[0].count(',') == 14 and lines[1].count(',') == 4


def test_windows_rules_match_the_linux_rules():
    rules = C.build_rules(admin_addresses=admin('10.0.0.5'), scope='admin_server')
    win = C.windows_rules(rules)
    assert len(win) == len(rules)
    assert win[0]['direction'] == 'out' and win[0]['remoteport'] == '13000,14000,13111,17111'
    assert win[0]['remoteip'] == '10.0.0.5' and win[0]['localport'] == 'any'
    inbound = [w for w in win if w['direction'] == 'in']
    assert inbound == [dict(inbound[0], localport='15000', remoteport='any', remoteip='10.0.0.5')]
    assert len({w['name'] for w in win}) == len(win), 'names identify the rules'


# --- reading the live ruleset -------------------------------------------------------------------

NFT_LISTING = '''table inet phaseout_contain {
\tchain output {
\t\ttype filter hook output priority filter; policy accept;
\t\ttcp dport { 13000, 14000, 13111, 17111 } counter packets 3 bytes 180 drop comment "%s"
\t}
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tudp dport 15000 counter packets 0 bytes 0 drop comment "%s"
\t}
}
'''


def test_parse_nft_listing_and_compare_with_the_wanted_signature():
    rules = C.build_rules(udp_out=[], block_public_dns=False)
    listing = NFT_LISTING % (rules[0]['comment'], rules[1]['comment'])
    assert S.parse_nft_table(listing) == C.signature(rules, 'nftables')
    assert S.parse_nft_table(None) is None
    other = C.build_rules(block_public_dns=False)
    assert S.parse_nft_table(listing) != C.signature(other, 'nftables')


IPT_S = '''-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N PHASEOUT_CONTAIN_IN
-N PHASEOUT_CONTAIN_OUT
-A INPUT -j PHASEOUT_CONTAIN_IN
-A OUTPUT -j PHASEOUT_CONTAIN_OUT
-A OUTPUT -j PHASEOUT_CONTAIN_OUT
-A PHASEOUT_CONTAIN_IN -p udp -m udp --dport 15000 -m comment --comment %s -j DROP
-A PHASEOUT_CONTAIN_OUT -p tcp -m multiport --dports 13000,14000,13111,17111 -m comment --comment "%s" -j DROP
-A PHASEOUT_CONTAIN_OUT -p tcp --dport 1 -j ACCEPT
'''


def test_parse_iptables_s_counts_jumps_and_foreign_rules():
    rules = C.build_rules(udp_out=[], block_public_dns=False)
    state = S.parse_iptables_s(IPT_S % (rules[1]['comment'], rules[0]['comment']))
    assert state['jumps'] == {'INPUT': 1, 'OUTPUT': 2}
    assert not S.ipt_jumps_ok(state), 'a duplicated jump must be repaired'
    assert state['chains']['PHASEOUT_CONTAIN_OUT'] == [rules[0]['comment'], '(foreign rule)']
    assert state['chains']['PHASEOUT_CONTAIN_IN'] == [rules[1]['comment']]
    assert S.parse_iptables_s('') == {'chains': {}, 'jumps': {}}


def test_iptables_signature_round_trip():
    rules = C.build_rules(udp_out=[], block_public_dns=False)
    text = '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN', '-A OUTPUT -j PHASEOUT_CONTAIN_OUT',
                      '-A INPUT -j PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip'))
    states = {'ip': S.parse_iptables_s(text), 'ip6': S.parse_iptables_s(
        '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip6')))}
    assert S.ipt_signature(states) == C.signature(rules, 'iptables')
    assert S.ipt_jumps_ok(states['ip'])


# --- tool selection -----------------------------------------------------------------------------

def which_of(*present):
    return lambda name: '/usr/sbin/%s' % name if name in present else None


def test_nft_is_preferred():
    backend, tools, warnings = C.select_backend('auto', which_of('nft', 'iptables', 'iptables-restore'))
    assert (backend, tools, warnings) == ('nftables', {'nft': '/usr/sbin/nft'}, [])


def test_iptables_fallback_warns_without_ip6tables():
    backend, tools, warnings = C.select_backend('auto', which_of('iptables', 'iptables-restore'))
    assert backend == 'iptables' and set(tools) == {'iptables', 'iptables-restore'}
    assert warnings and 'IPv6' in warnings[0]
    backend, _tools, warnings = C.select_backend('auto', which_of('iptables', 'iptables-restore', 'ip6tables',
                                                                  'ip6tables-restore'))
    assert backend == 'iptables' and warnings == []


def test_no_tool_fails_with_a_clear_message_unless_hosts_only_is_allowed():
    with pytest.raises(C.ContainError, match='no firewall tool found.*nothing was changed.*allow_hosts_only'):
        C.select_backend('auto', which_of())
    with pytest.raises(C.ContainError, match='iptables-restore'):
        C.select_backend('auto', which_of('iptables'))  # iptables without iptables-restore is not enough
    backend, tools, warnings = C.select_backend('auto', which_of(), allow_hosts_only=True)
    assert (backend, tools) == ('none', {}) and 'only the /etc/hosts block' in warnings[0]


def test_an_explicit_backend_is_honoured():
    with pytest.raises(C.ContainError, match=r'\(nft is not installed\)'):
        C.select_backend('nftables', which_of('iptables', 'iptables-restore'))
    assert C.select_backend('iptables', which_of('nft', 'iptables', 'iptables-restore'))[0] == 'iptables'


# --- /etc/hosts ---------------------------------------------------------------------------------

HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n10.88.0.5\tlab01\n'


def test_hosts_block_is_appended_and_the_rest_kept_byte_for_byte():
    block = C.hosts_block(['ds.kaspersky.com', 's00.upd.kaspersky.com'])
    assert block == [C.HOSTS_BEGIN, '0.0.0.0 ds.kaspersky.com', ':: ds.kaspersky.com',
                     '0.0.0.0 s00.upd.kaspersky.com', ':: s00.upd.kaspersky.com', C.HOSTS_END]
    merged = C.merge_hosts(HOSTS, block)
    assert merged == HOSTS + '\n'.join(block) + '\n'
    assert S.hosts_block_of(merged) == block


def test_hosts_merge_is_idempotent_and_replaces_in_place():
    block = C.hosts_block(['ds.kaspersky.com'])
    once = C.merge_hosts(HOSTS, block)
    assert C.merge_hosts(once, block) == once
    with_tail = once + '192.0.2.1 added-later\n'
    other = C.hosts_block(['ds.kaspersky.com', 'touch.kaspersky.com'])
    replaced = C.merge_hosts(with_tail, other)
    assert replaced.endswith('192.0.2.1 added-later\n'), 'the block keeps its place'
    assert S.hosts_block_of(replaced) == other


def test_hosts_block_removal_restores_the_original():
    block = C.hosts_block(['ds.kaspersky.com'])
    assert C.merge_hosts(C.merge_hosts(HOSTS, block), []) == HOSTS
    assert C.merge_hosts(HOSTS, []) == HOSTS
    assert C.merge_hosts('', block) == '\n'.join(block) + '\n'
    no_newline = '127.0.0.1 localhost'
    assert C.merge_hosts(C.merge_hosts(no_newline, block), []) == no_newline + '\n'


@pytest.mark.parametrize('text, message', [
    (HOSTS + C.HOSTS_BEGIN + '\n0.0.0.0 x.kaspersky.com\n', 'without its END'),
    (HOSTS + C.HOSTS_END + '\n', 'without its BEGIN'),
    (C.HOSTS_BEGIN + '\n' + C.HOSTS_BEGIN + '\n' + C.HOSTS_END + '\n', 'second BEGIN'),
])
def test_broken_markers_are_refused(text, message):
    with pytest.raises(C.ContainError, match=message):
        C.merge_hosts(text, C.hosts_block(['ds.kaspersky.com']))


def test_no_domains_no_block():
    assert C.hosts_block([]) == []


# --- idempotence decisions ----------------------------------------------------------------------

def wanted_state():
    rules = C.build_rules()
    files = C.persisted_files('nftables', rules, 'drop', {'nft': '/usr/sbin/nft'})
    persistence = dict(files, **{C.UNIT_PATH: C.render_unit('nftables', {'nft': '/usr/sbin/nft'}), 'link': True})
    return {'ruleset': C.signature(rules, 'nftables'), 'hosts': C.hosts_block(['ds.kaspersky.com']),
            'persistence': persistence}


def test_nothing_to_do_when_everything_matches():
    wanted = wanted_state()
    assert C.changes_needed('present', wanted, dict(wanted)) == []


def test_each_difference_is_named():
    wanted = wanted_state()
    assert C.changes_needed('present', wanted, {'ruleset': None, 'hosts': [], 'persistence': {}}) == [
        'hosts', 'persistence', 'ruleset']
    drifted = dict(wanted, ruleset=dict(wanted['ruleset'], output=wanted['ruleset']['output'][:-1]))
    assert C.changes_needed('present', wanted, drifted) == ['ruleset']
    unlinked = dict(wanted, persistence=dict(wanted['persistence'], link=False))
    assert C.changes_needed('present', wanted, unlinked) == ['persistence']


def test_hosts_only_backend_ignores_the_ruleset():
    wanted = dict(wanted_state(), ruleset=None)
    assert C.changes_needed('present', wanted, dict(wanted, ruleset={'output': ['x']})) == []


def test_absent_changes_only_what_is_there():
    assert C.changes_needed('absent', {}, {'ruleset': False, 'hosts': [], 'persistence': {}}) == []
    assert C.changes_needed('absent', {}, {'ruleset': True, 'hosts': ['x'], 'persistence': {'/etc/x': 'y'}}) == [
        'ruleset', 'hosts', 'persistence']


# --- persistence --------------------------------------------------------------------------------

def test_nft_unit_loads_the_persisted_file_after_nftables_service():
    unit = C.render_unit('nftables', {'nft': '/usr/sbin/nft'})
    assert 'ExecStart=/usr/sbin/nft -f /etc/phaseout/contain.nft' in unit
    assert 'PartOf=nftables.service' in unit and 'WantedBy=sysinit.target' in unit
    assert 'After=local-fs.target nftables.service' in unit
    assert S.UNIT_LINK == '/etc/systemd/system/sysinit.target.wants/phaseout-contain.service'


def test_iptables_unit_drops_jumps_before_restoring():
    tools = {'iptables': '/sbin/iptables', 'iptables-restore': '/sbin/iptables-restore'}
    unit = C.render_unit('iptables', tools).splitlines()
    assert unit.index('ExecStartPre=-/sbin/iptables -D OUTPUT -j PHASEOUT_CONTAIN_OUT') < unit.index(
        'ExecStart=/sbin/iptables-restore --noflush /etc/phaseout/contain-v4.rules')
    assert not any(line.startswith('Exec') and 'ip6tables' in line for line in unit)
    files = C.persisted_files('iptables', C.build_rules(), 'drop', tools)
    assert list(files) == ['/etc/phaseout/contain-v4.rules']


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize('kwargs, message', [
    ({'tcp_out': [0]}, 'between 1 and 65535'),
    ({'tcp_out': [70000]}, 'between 1 and 65535'),
    ({'udp_in': ['http']}, 'not a port number'),
    ({'public_resolvers': ['dns.google']}, 'not an IP address'),
    ({'action': 'accept'}, 'drop or reject'),
    ({'scope': 'everything'}, 'any or admin_server'),
])
def test_bad_rule_input_is_named(kwargs, message):
    with pytest.raises(C.ContainError, match=message):
        C.build_rules(**kwargs)


@pytest.mark.parametrize('domains, message', [
    (['*.kaspersky.com'], 'cannot hold wildcards'),
    (['bad domain.com'], 'not a host name'),
    (['-x.kaspersky.com'], 'not a host name'),
])
def test_bad_domains_are_refused(domains, message):
    with pytest.raises(C.ContainError, match=message):
        C.check_domains(domains)


def test_domains_are_normalized_and_deduplicated():
    assert C.check_domains(['DS.Kaspersky.com.', 'ds.kaspersky.com']) == ['ds.kaspersky.com']


def test_admin_servers_split_addresses_names_and_ports():
    assert C.split_servers(['10.0.0.5', 'ksc.corp.example:13000', '[fd00::5]', 'fd00::6', '']) == (
        ['10.0.0.5', 'fd00::5', 'fd00::6'], ['ksc.corp.example'])
    with pytest.raises(C.ContainError, match='neither an IP address nor a host name'):
        C.split_servers(['ksc corp'])


# --- the role stays in step with the module -----------------------------------------------------

def test_role_defaults_match_the_module_constants():
    with open(os.path.join(ROOT, 'roles', 'contain', 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle)
    assert defaults['contain_domains'] == C.DEFAULT_DOMAINS
    assert defaults['contain_public_resolvers'] == C.DEFAULT_PUBLIC_RESOLVERS
    assert defaults['contain_ksc_tcp_ports'] == C.DEFAULT_TCP_OUT
    assert defaults['contain_ksc_udp_ports'] == C.DEFAULT_UDP_OUT
    assert defaults['contain_agent_udp_ports'] == C.DEFAULT_UDP_IN
    assert len(C.DEFAULT_DOMAINS) == len(set(C.DEFAULT_DOMAINS)) == 29


# --- the host's own resolvers -----------------------------------------------------------------------

@pytest.mark.parametrize('token, address', [
    ('1.1.1.1', '1.1.1.1'),
    ('1.1.1.1:53', '1.1.1.1'),
    ('1.1.1.1#cloudflare-dns.com', '1.1.1.1'),
    ('8.8.8.8@853#dns.google', '8.8.8.8'),
    ('[2606:4700::1111]:53%eth0#cloudflare-dns.com', '2606:4700::1111'),
    ('fe80::1%eth0', 'fe80::1'),
    ('2001:4860:4860:0000::8888', '2001:4860:4860::8888'),
    ('"9.9.9.9"', '9.9.9.9'),
    ('dns.google', None),
    ('', None),
    ('#', None),
])
def test_resolver_tokens_are_normalized(token, address):
    assert C.normalize_resolver(token) == address


def test_resolv_conf_nameservers():
    text = '# generated\nsearch corp.example\nnameserver 10.0.0.53\n;nameserver 8.8.8.8\nnameserver  fe80::1%eth0 \n'
    assert C.parse_resolv_conf(text) == ['10.0.0.53', 'fe80::1%eth0']


def test_resolved_networkd_and_networkmanager_files():
    resolved = '[Resolve]\nDNS=1.1.1.1#cloudflare-dns.com 10.0.0.53\n#DNS=8.8.8.8\nFallbackDNS=9.9.9.9\n[Other]\nDNS=6.6.6.6\n'
    assert C.parse_ini_dns(resolved, sections=('Resolve',)) == ['1.1.1.1#cloudflare-dns.com', '10.0.0.53', '9.9.9.9']
    network = '[Match]\nName=eth0\n[Network]\nDHCP=no\nDNS=8.8.4.4\nDNS=[2001:4860:4860::8844]:53\n'
    assert C.parse_ini_dns(network, keys=('DNS',), sections=('Network',)) == ['8.8.4.4', '[2001:4860:4860::8844]:53']
    nm = '[connection]\nid=eth0\n[ipv4]\nmethod=manual\ndns=8.8.8.8;1.1.1.1;\n[ipv6]\ndns=2620:fe::fe;\n'
    assert C.parse_ini_dns(nm, keys=('dns',), sections=('ipv4', 'ipv6')) == ['8.8.8.8', '1.1.1.1', '2620:fe::fe']


def test_dnsmasq_servers_and_includes():
    text = ('# upstreams\nno-resolv\nserver=1.1.1.1\nserver=/corp.example/10.0.0.53#5353\nserver=8.8.8.8@eth0\n'
            'server=/local/\nrev-server=10.0.0.0/8,10.0.0.53\nresolv-file=/etc/resolv.dnsmasq\n'
            'conf-dir=/etc/dnsmasq.d/,*.conf\nconf-file=/etc/dnsmasq.more\n')
    found, includes = C.parse_dnsmasq(text)
    assert [C.normalize_resolver(v) for v in found] == ['1.1.1.1', '10.0.0.53', '8.8.8.8', None, '10.0.0.53']
    assert includes == {'dnsmasq': ['/etc/dnsmasq.d/*', '/etc/dnsmasq.more'], 'resolv.conf': ['/etc/resolv.dnsmasq']}


def test_unbound_forwarders_and_includes():
    text = ('server:\n  # forward-addr: 6.6.6.6\n  include: "/etc/unbound/extra.conf"\n'
            'include-toplevel: "/etc/unbound/unbound.conf.d/*.conf"\n'
            'forward-zone:\n  name: "."\n  forward-addr: 1.1.1.1@853#cloudflare-dns.com  # DoT\n'
            '  forward-addr: 2606:4700:4700::1111@853#cloudflare-dns.com\nstub-zone:\n  stub-addr: 10.0.0.53\n')
    found, includes = C.parse_unbound(text)
    assert [C.normalize_resolver(v) for v in found] == ['1.1.1.1', '2606:4700:4700::1111', '10.0.0.53']
    assert includes == {'unbound': ['/etc/unbound/extra.conf', '/etc/unbound/unbound.conf.d/*.conf']}


def test_bind_forwarders_and_includes():
    text = ('include "/etc/bind/named.conf.options";\n'
            'options {\n  directory "/var/cache/bind";\n  // forwarders { 6.6.6.6; };\n'
            '  forwarders port 53 {\n    8.8.8.8;\n    1.1.1.1 port 853; /* DoT */\n  };\n};\n'
            'zone "corp.example" { type forward; forwarders { 10.0.0.53; }; };\n')
    found, includes = C.parse_bind(text)
    assert found == ['8.8.8.8', '1.1.1.1', '10.0.0.53']
    assert includes == {'bind': ['/etc/bind/named.conf.options']}


def fake_fs(files):
    def read(path):
        return files.get(path)

    def glob(pattern):
        import fnmatch
        return sorted(p for p in files if fnmatch.fnmatch(p, pattern))
    return read, glob


def test_read_resolvers_follows_includes_and_names_each_source():
    read, glob = fake_fs({
        '/etc/resolv.conf': 'nameserver 127.0.0.53\n',
        '/run/systemd/resolve/resolv.conf': 'nameserver 10.0.0.53\nnameserver 9.9.9.9\n',
        '/etc/systemd/resolved.conf.d/corp.conf': '[Resolve]\nDNS=10.0.0.53\nFallbackDNS=1.1.1.1\n',
        '/etc/bind/named.conf': 'include "/etc/bind/named.conf.options";\n',
        '/etc/bind/named.conf.options': 'options { forwarders { 8.8.8.8; }; };\n',
        '/etc/dnsmasq.conf': 'resolv-file=/etc/resolv.upstream\n',
        '/etc/resolv.upstream': 'nameserver 208.67.222.222\n',
    })
    found = C.read_resolvers(read, glob)
    assert [f['address'] for f in found] == ['127.0.0.53', '10.0.0.53', '9.9.9.9', '1.1.1.1', '208.67.222.222',
                                             '8.8.8.8']
    by_address = {f['address']: f for f in found}
    assert by_address['10.0.0.53']['sources'] == [
        '/run/systemd/resolve/resolv.conf (resolv.conf nameserver)',
        '/etc/systemd/resolved.conf.d/corp.conf (systemd-resolved DNS=/FallbackDNS=)']
    assert by_address['8.8.8.8']['source'] == '/etc/bind/named.conf.options (bind forwarders)'
    assert by_address['208.67.222.222']['source'] == '/etc/resolv.upstream (resolv.conf nameserver)'


def test_read_resolvers_survives_include_loops():
    read, glob = fake_fs({'/etc/unbound/unbound.conf': 'include: "/etc/unbound/unbound.conf"\nforward-addr: 1.1.1.1\n'})
    assert [f['address'] for f in C.read_resolvers(read, glob)] == ['1.1.1.1']


def test_windows_adapters_and_dns_server_forwarders():
    found = C.windows_resolvers({
        'adapters': [{'alias': 'Ethernet0', 'addresses': ['10.0.0.53', '8.8.8.8']},
                     {'alias': 'vEthernet', 'addresses': 'fec0:0:0:ffff::1%1'}],
        'forwarders': '1.1.1.1',
        'conditional_forwarders': [{'zone': 'partner.example', 'addresses': ['9.9.9.9']}],
    })
    assert [(f['address'], f['source']) for f in found] == [
        ('10.0.0.53', 'adapter Ethernet0'), ('8.8.8.8', 'adapter Ethernet0'), ('fec0:0:0:ffff::1', 'adapter vEthernet'),
        ('1.1.1.1', 'DNS Server forwarders'), ('9.9.9.9', 'DNS Server conditional forwarder partner.example')]
    assert C.windows_resolvers(None) == [] and C.windows_resolvers({'adapters': 'bad'}) == []


def test_exclude_addresses_drops_and_splits_networks():
    families = C.check_addresses('x', ['8.8.8.8', '1.1.1.0/30', '2001:4860:4860::8888'])
    out, kept = C.exclude_addresses(families, ['8.8.8.8', '1.1.1.1', '[2001:4860:4860::8888]:53', 'junk'])
    assert out == {'ip': ['1.1.1.0', '1.1.1.2/31'], 'ip6': []}
    assert kept == ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888']
    assert C.exclude_addresses(families, []) == (families, [])


def test_build_rules_never_matches_a_kept_resolver():
    rules = C.build_rules(keep=['9.9.9.9', '1.1.1.1'])
    dns = [r for r in rules if r['purpose'] == 'public_dns']
    assert dns and all(r['addresses'] == ['8.8.8.8', '223.6.6.6', '185.228.168.168'] for r in dns)
    assert C.build_rules(keep=C.DEFAULT_PUBLIC_RESOLVERS, tcp_out=[], udp_out=[], udp_in=[]) == []


def test_plan_public_dns_blocks_only_where_kaspersky_is_and_keeps_the_hosts_resolvers():
    own = [{'address': '9.9.9.9', 'source': '/etc/resolv.conf (resolv.conf nameserver)'}]
    plan = C.plan_public_dns(True, None, 'installed', own)
    assert plan['block'] and plan['resolvers'] == ['8.8.8.8', '1.1.1.1', '223.6.6.6', '185.228.168.168']
    assert plan['kept'] == [{'address': '9.9.9.9', 'source': '/etc/resolv.conf (resolv.conf nameserver)'}]
    assert '9.9.9.9 (/etc/resolv.conf' in plan['reason']
    assert C.plan_public_dns(True, None, 'residue', [])['resolvers'] == C.DEFAULT_PUBLIC_RESOLVERS
    clean = C.plan_public_dns(True, None, 'clean', own)
    assert (clean['block'], clean['resolvers'], clean['kept']) == (False, [], [])
    assert 'not installed' in clean['reason']
    off = C.plan_public_dns(False, None, 'installed', own)
    assert not off['block'] and 'turned off' in off['reason']
    every = C.plan_public_dns(True, ['9.9.9.9'], 'installed', own)
    assert not every['block'] and every['kept'], 'nothing left to block'


def test_plan_public_dns_refuse_names_the_resolver_and_its_source():
    own = [{'address': '8.8.8.8', 'source': '/etc/bind/named.conf.options (bind forwarders)'}]
    with pytest.raises(C.ContainError, match=r'resolves through 8\.8\.8\.8 \(/etc/bind/named\.conf\.options '
                                             r'\(bind forwarders\)\).*nothing was changed'):
        C.plan_public_dns(True, None, 'installed', own, 'refuse')
    assert C.plan_public_dns(True, None, 'installed', [], 'refuse')['block'], 'no conflict: no refusal'
    assert not C.plan_public_dns(True, None, 'clean', own, 'refuse')['block'], 'no block: no conflict'
    with pytest.raises(C.ContainError, match='exclude or refuse'):
        C.plan_public_dns(True, None, 'installed', [], 'ignore')
    with pytest.raises(C.ContainError, match='installed, residue or clean'):
        C.plan_public_dns(True, None, 'unknown', [])


# --- containment: intact | lapsed | none ------------------------------------------------------------

def nft_listing(rules):
    return 'table inet phaseout_contain {\n' + ''.join(
        '\tchain %s {\n%s\t}\n' % (chain, ''.join('\t\t... comment "%s"\n' % c for c in comments))
        for chain, comments in C.signature(rules, 'nftables').items()) + '}\n'


def contained(persisted=True, backend='nftables'):
    rules = C.build_rules()
    block = C.hosts_block(['ds.kaspersky.com'])
    plan = C.plan_public_dns(True, None, 'installed', [{'address': '9.9.9.9', 'source': 'x'}])
    sig = C.signature(rules, backend) if backend != 'none' else None
    state = C.state_record(backend, sig, '/etc/hosts', block, persisted, plan)
    return rules, block, state


def test_containment_intact_when_everything_is_in_place():
    rules, block, state = contained()
    assert C.state_record('nftables', C.signature(rules, 'nftables'), '/etc/hosts', block, True,
                          C.plan_public_dns(True, None, 'installed', [{'address': '9.9.9.9', 'source': 'x'}])) == state
    status = S.containment_status(state, nft_listing(rules), {}, C.merge_hosts(HOSTS, block), True)
    assert status == {'containment': 'intact', 'reasons': [], 'backend': 'nftables',
                      'public_dns_blocked': ['8.8.8.8', '1.1.1.1', '223.6.6.6', '185.228.168.168'],
                      'resolvers_kept': ['9.9.9.9']}


@pytest.mark.parametrize('change, reason', [
    ({'nft': None}, 'table inet phaseout_contain is gone'),
    ({'nft': 'other'}, 'differ from what contain applied'),
    ({'hosts': HOSTS}, 'block of /etc/hosts is gone'),
    ({'hosts': 'edited'}, 'block of /etc/hosts was changed'),
    ({'linked': False}, 'no longer enabled'),
    ({'state': '{not json'}, 'unreadable'),
])
def test_containment_lapses_are_named(change, reason):
    rules, block, state = contained()
    listing = nft_listing(rules)
    hosts = C.merge_hosts(HOSTS, block)
    if 'nft' in change:
        listing = None if change['nft'] is None else nft_listing(rules[:-1])
    if 'hosts' in change:
        hosts = change['hosts'] if change['hosts'] != 'edited' else C.merge_hosts(HOSTS, C.hosts_block(['x.kaspersky.com']))
    status = S.containment_status(change.get('state', state), listing, {}, hosts, change.get('linked', True))
    assert status['containment'] == 'lapsed'
    assert len(status['reasons']) == 1 and reason in status['reasons'][0], status['reasons']


def test_containment_none_unknown_and_leftovers_without_state():
    assert S.containment_status(None, None, {}, HOSTS, False)['containment'] == 'none'
    rules, block, _state = contained()
    leftover = S.containment_status(None, nft_listing(rules), {}, HOSTS, False)
    assert leftover['containment'] == 'lapsed' and 'without /etc/phaseout/contain.json' in leftover['reasons'][0]
    unknown = S.containment_status(None, read_error='Operation not permitted')
    assert unknown['containment'] == 'unknown' and 'Operation not permitted' in unknown['reasons'][0]


def test_containment_hosts_only_and_not_persisted():
    _rules, block, state = contained(persisted=False, backend='none')
    assert S.containment_status(state, None, {}, C.merge_hosts(HOSTS, block), False)['containment'] == 'intact'


def test_containment_iptables():
    rules, block, state = contained(backend='iptables')
    text = '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN', '-A OUTPUT -j PHASEOUT_CONTAIN_OUT',
                      '-A INPUT -j PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip'))
    text6 = '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN', '-A OUTPUT -j PHASEOUT_CONTAIN_OUT',
                       '-A INPUT -j PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip6'))
    states = {'ip': S.parse_iptables_s(text), 'ip6': S.parse_iptables_s(text6)}
    hosts = C.merge_hosts(HOSTS, block)
    assert S.containment_status(state, None, states, hosts, True)['containment'] == 'intact'
    gone = S.containment_status(state, None, {'ip': S.parse_iptables_s(''), 'ip6': S.parse_iptables_s('')}, hosts, True)
    assert gone['containment'] == 'lapsed' and 'chains' in gone['reasons'][0] and 'gone' in gone['reasons'][0]
    nojump = {'ip': S.parse_iptables_s(text.replace('-A OUTPUT -j PHASEOUT_CONTAIN_OUT\n', '')), 'ip6': states['ip6']}
    assert 'jumps' in S.containment_status(state, None, nojump, hosts, True)['reasons'][0]


def test_probe_containment_reads_the_host_read_only():
    rules, block, state = contained()
    files = {S.STATE_FILE: state, '/etc/hosts': C.merge_hosts(HOSTS, block)}
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, nft_listing(rules), ''

    status = S.probe_containment(run, files.get, which_of('nft'), lambda path: path == S.UNIT_LINK)
    assert status['containment'] == 'intact'
    assert calls == [['/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain']]
    denied = S.probe_containment(lambda argv: (1, '', 'Error: Operation not permitted\n'), files.get, which_of('nft'),
                                 lambda path: True)
    assert denied['containment'] == 'unknown'
    gone = S.probe_containment(lambda argv: (1, '', 'Error: No such file or directory\n'), files.get, which_of('nft'),
                               lambda path: True)
    assert gone['containment'] == 'lapsed'


def test_windows_containment_status():
    rules = C.windows_rules(C.build_rules())
    lines = ['0.0.0.0 ds.kaspersky.com', ':: ds.kaspersky.com']
    state = C.windows_state_record(rules, lines, C.plan_public_dns(True, None, 'installed', []))
    names = [r['name'] for r in rules]
    assert C.windows_containment_status(state, names, ['0.0.0.0   ds.kaspersky.com', ':: ds.kaspersky.com'])[
        'containment'] == 'intact'
    lapsed = C.windows_containment_status(state, names[1:], lines[:1])
    assert lapsed['containment'] == 'lapsed' and len(lapsed['reasons']) == 2
    assert C.windows_containment_status(None, [], [])['containment'] == 'none'
    assert C.windows_containment_status(None, names[:1], [])['containment'] == 'lapsed'


# --- Windows: the filters the role uses ---------------------------------------------------------

def test_windows_filters_leave_the_hosts_dns_servers_out_and_follow_the_verdict():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.phaseout.antivirus.plugins.filter import contain as F
    options = {'kaspersky_verdict': 'installed', 'keep_resolvers': ['223.6.6.6'],
               'windows_dns': {'adapters': {'alias': 'Ethernet0', 'addresses': ['10.0.0.53', '8.8.8.8']},
                               'forwarders': ['1.1.1.1']}}
    rules = F.contain_windows_rules(options)
    dns = [r for r in rules if r['remoteport'] == '53,853']
    assert dns and all(r['remoteip'] == '9.9.9.9,185.228.168.168' for r in dns)
    plan = F.contain_dns_plan(options)
    assert [k['address'] for k in plan['kept']] == ['8.8.8.8', '1.1.1.1', '223.6.6.6']
    assert plan['kept'][0]['source'] == 'adapter Ethernet0'
    clean = F.contain_windows_rules(dict(options, kaspersky_verdict='clean'))
    assert not [r for r in clean if r['remoteport'] == '53,853']
    with pytest.raises(AnsibleFilterError, match='resolves through 8.8.8.8 .adapter Ethernet0.'):
        F.contain_windows_rules(dict(options, resolver_conflict='refuse'))
    state = F.contain_windows_state(options, ['0.0.0.0 ds.kaspersky.com'])
    status = F.contain_windows_status(state, [r['name'] for r in rules], ['0.0.0.0 ds.kaspersky.com'])
    assert status['containment'] == 'intact' and status['resolvers_kept'] == ['8.8.8.8', '1.1.1.1', '223.6.6.6']
    assert F.contain_windows_status('', [], [])['containment'] == 'none'


def test_probe_containment_lists_only_the_backend_it_needs():
    rules, block, state = contained(backend='iptables')
    files = {S.STATE_FILE: state, '/etc/hosts': C.merge_hosts(HOSTS, block)}
    text = '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN', '-A OUTPUT -j PHASEOUT_CONTAIN_OUT',
                      '-A INPUT -j PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip'))
    text6 = '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN', '-A OUTPUT -j PHASEOUT_CONTAIN_OUT',
                       '-A INPUT -j PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip6'))
    calls = []

    def run(argv):
        calls.append(argv[0])
        if argv[0].endswith('/nft'):
            return 1, '', 'Error: No such file or directory\n'
        return 0, (text if argv[0].endswith('/iptables') else text6), ''

    which = which_of('nft', 'iptables', 'ip6tables')
    status = S.probe_containment(run, files.get, which, lambda path: True)
    assert status['containment'] == 'intact', status
    assert calls == ['/usr/sbin/iptables', '/usr/sbin/ip6tables'], 'no nft listing for an iptables containment'
    calls.clear()
    assert S.probe_containment(run, {}.get, which, lambda path: False)['containment'] == 'none'
    assert calls == ['/usr/sbin/nft'], 'nothing recorded: one look for leftovers with the preferred tool'
