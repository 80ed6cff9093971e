# SPDX-License-Identifier: GPL-3.0-or-later
"""kaspersky_contain end to end over a fake host: the exact commands it runs, check mode, refusal."""
from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.testing import patch_module_args

from ansible_collections.phaseout.antivirus.plugins.module_utils import contain as C
from ansible_collections.phaseout.antivirus.plugins.module_utils import contain_state as S
from ansible_collections.phaseout.antivirus.plugins.modules import kaspersky_contain

NO_TABLE = (1, '', 'Error: No such file or directory\nlist table inet phaseout_contain\n'
                   '                 ^^^^^^^^^^^^^^^^\n')


ORIGINAL_PERSISTED = list(kaspersky_contain.ALL_PERSISTED)


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result.get('msg'))
        self.result = result


def run_module(monkeypatch, tmp_path, args, tools, responses, check_mode=False, runner=None):
    """Run main(); ``responses`` maps an argv tuple to (rc, stdout, stderr). Returns (result, calls)."""
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(tuple(argv))
        if tuple(argv) not in responses:
            raise AssertionError('unexpected command %s' % (argv,))
        return responses[tuple(argv)]

    def exit_json(self, **result):
        raise Exit(dict(result, failed=False))

    def fail_json(self, msg, **result):
        raise Exit(dict(result, msg=msg, failed=True))

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', runner or run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                        lambda self, name, *a, **k: ('/usr/sbin/' + name) if name in tools else None)
    monkeypatch.setattr(kaspersky_contain.os, 'geteuid', lambda: 0)
    for path in ORIGINAL_PERSISTED:  # never read the real /etc
        assert path.startswith('/etc/')
    monkeypatch.setattr(kaspersky_contain, 'ALL_PERSISTED',
                        [str(tmp_path / 'etc' / p.lstrip('/')) for p in ORIGINAL_PERSISTED])
    monkeypatch.setattr(kaspersky_contain, 'STATE_PATH', kaspersky_contain.ALL_PERSISTED[-1])
    monkeypatch.setattr(S, 'UNIT_LINK', str(tmp_path / 'link'))
    root = tmp_path / 'root'  # the resolver configuration is read from here, never from the real /etc
    root.mkdir(exist_ok=True)
    monkeypatch.setattr(kaspersky_contain, 'FS_ROOT', str(root))
    args = dict(args, hosts_path=str(tmp_path / 'hosts'), _ansible_check_mode=check_mode)
    with patch_module_args(args):
        with pytest.raises(Exit) as caught:
            kaspersky_contain.main()
    return caught.value.result, calls


def test_check_mode_returns_the_exact_rules_and_changes_nothing(monkeypatch, tmp_path):
    hosts = tmp_path / 'hosts'
    hosts.write_text('127.0.0.1 localhost\n')
    result, calls = run_module(
        monkeypatch, tmp_path, {'domains': ['ds.kaspersky.com']}, ['nft'],
        {('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain'): NO_TABLE}, check_mode=True)
    assert not result['failed'], result.get('msg')
    assert set(calls) == {('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain')}, 'read-only in check mode'
    assert result['changed'] and result['backend'] == 'nftables'
    assert result['changes'] == ['hosts', 'persistence', 'ruleset']
    assert result['containment']['containment'] == 'none', 'the state before the (dry) run'
    assert not os.path.exists(kaspersky_contain.STATE_PATH)
    assert result['ruleset'] == C.render_nft(C.build_rules())
    assert result['hosts_lines'] == C.hosts_block(['ds.kaspersky.com'])
    assert [r['text'].split(' counter')[0] for r in result['rules']][:2] == [
        'tcp dport { 13000, 14000, 13111, 17111 }', 'udp dport 15111']
    diff = {d['before_header']: d for d in result['diff']}
    assert diff[str(hosts)]['before'] == '127.0.0.1 localhost\n'
    assert diff[str(hosts)]['after'].endswith(C.HOSTS_END + '\n')
    assert hosts.read_text() == '127.0.0.1 localhost\n'


def listing_of(rules):
    """What `nft list table inet phaseout_contain` prints for these rules (the parts the module reads)."""
    return 'table inet phaseout_contain {\n' + ''.join(
        '\tchain %s {\n%s\t}\n' % (chain, ''.join('\t\t... comment "%s"\n' % c for c in comments))
        for chain, comments in C.signature(rules, 'nftables').items()) + '}\n'


def state_path(tmp_path):
    return tmp_path / 'etc' / S.STATE_FILE.lstrip('/')


def write_state(tmp_path, rules, block, dns_plan, backend='nftables'):
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(C.state_record(backend, C.signature(rules, backend) if backend != 'none' else None,
                                   str(tmp_path / 'hosts'), block, False, dns_plan))


def test_up_to_date_host_reports_no_change(monkeypatch, tmp_path):
    rules = C.build_rules()
    block = C.hosts_block(['ds.kaspersky.com'])
    (tmp_path / 'hosts').write_text(C.merge_hosts('127.0.0.1 localhost\n', block))
    write_state(tmp_path, rules, block, C.plan_public_dns(True, None, 'installed', []))
    result, calls = run_module(
        monkeypatch, tmp_path, {'domains': ['ds.kaspersky.com'], 'persist': False}, ['nft'],
        {('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain'): (0, listing_of(rules), '')})
    assert not result['failed'], result.get('msg')
    assert (result['changed'], result['changes']) == (False, [])
    assert 'diff' not in result
    assert result['containment'] == {'containment': 'intact', 'reasons': [], 'backend': 'nftables',
                                     'public_dns_blocked': C.DEFAULT_PUBLIC_RESOLVERS, 'resolvers_kept': []}


def test_no_firewall_tool_fails_and_changes_nothing(monkeypatch, tmp_path):
    hosts = tmp_path / 'hosts'
    hosts.write_text('127.0.0.1 localhost\n')
    result, calls = run_module(monkeypatch, tmp_path, {}, [], {})
    assert result['failed']
    assert 'no firewall tool found' in result['msg'] and 'allow_hosts_only' in result['msg']
    assert calls == []
    assert hosts.read_text() == '127.0.0.1 localhost\n'


def test_hosts_only_when_allowed(monkeypatch, tmp_path):
    hosts = tmp_path / 'hosts'
    hosts.write_text('127.0.0.1 localhost\n')
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: None)
    result, calls = run_module(monkeypatch, tmp_path, {'allow_hosts_only': True, 'domains': ['ds.kaspersky.com']},
                               [], {})
    assert not result['failed'], result.get('msg')
    assert result['backend'] == 'none' and result['changes'] == ['hosts', 'persistence'] and calls == []
    assert hosts.read_text() == '127.0.0.1 localhost\n' + '\n'.join(C.hosts_block(['ds.kaspersky.com'])) + '\n'
    assert json.loads(state_path(tmp_path).read_text())['backend'] == 'none'
    assert result['containment']['containment'] == 'intact', result['containment']


def test_iptables_fallback_applies_with_iptables_restore(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    rules = C.build_rules()
    after = '\n'.join(['-N PHASEOUT_CONTAIN_OUT', '-N PHASEOUT_CONTAIN_IN', '-A OUTPUT -j PHASEOUT_CONTAIN_OUT',
                       '-A INPUT -j PHASEOUT_CONTAIN_IN'] + C.ipt_rules(rules, 'ip'))
    state = {'reads': 0}
    no_rule = (1, '', 'iptables: Bad rule (does a matching rule exist in that chain?).\n')
    responses = {('/usr/sbin/iptables-restore', '--noflush'): (0, '', ''),
                 ('/usr/sbin/iptables', '-w', '-D', 'OUTPUT', '-j', 'PHASEOUT_CONTAIN_OUT'): no_rule,
                 ('/usr/sbin/iptables', '-w', '-D', 'INPUT', '-j', 'PHASEOUT_CONTAIN_IN'): no_rule}

    def run_command(self, argv, data=None, **kwargs):
        if tuple(argv) == ('/usr/sbin/iptables', '-w', '-S'):
            state['reads'] += 1
            return (0, '-P OUTPUT ACCEPT\n', '') if state['reads'] == 1 else (0, after, '')
        if argv[-1] == '--noflush':
            state.setdefault('restored', []).append(data)
        return responses[tuple(argv)]

    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: None)
    result, _calls = run_module(monkeypatch, tmp_path, {'domains': [], 'persist': False},
                                ['iptables', 'iptables-restore'], responses, runner=run_command)
    assert not result['failed'], result.get('msg')
    assert result['backend'] == 'iptables' and result['changes'] == ['persistence', 'ruleset']
    assert [to_text(d) for d in state['restored']] == [C.render_iptables(rules, 'ip', jumps=True)]
    assert state['reads'] == 3, 'read before and after, then by the containment check'
    assert result['containment']['containment'] == 'intact', result['containment']


def test_bad_input_is_refused_before_anything_runs(monkeypatch, tmp_path):
    result, calls = run_module(monkeypatch, tmp_path, {'public_resolvers': ['dns.google']}, ['nft'], {})
    assert result['failed'] and 'not an IP address' in result['msg'] and calls == []


def test_result_is_json_serializable(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    result, _calls = run_module(
        monkeypatch, tmp_path, {}, ['nft'],
        {('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain'): NO_TABLE}, check_mode=True)
    json.dumps(result)


# --- the host's own resolvers are never blocked ---------------------------------------------------

NFT_LIST = ('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain')


def resolver_files(tmp_path, files):
    for path, text in files.items():
        full = tmp_path / 'root' / path.lstrip('/')
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)


def public_dns_addresses(result):
    return sorted({a for r in result['rules'] if r['purpose'] == 'public_dns' for a in r['addresses']})


def test_a_public_resolver_in_resolv_conf_is_left_out_of_the_block(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    resolver_files(tmp_path, {'/etc/resolv.conf': '# from DHCP\nnameserver 9.9.9.9\nnameserver 10.0.0.53\n'})
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    result, _calls = run_module(monkeypatch, tmp_path, {'domains': []}, ['nft'], {NFT_LIST: NO_TABLE},
                                check_mode=True)
    assert not result['failed'], result.get('msg')
    assert public_dns_addresses(result) == sorted(['8.8.8.8', '1.1.1.1', '223.6.6.6', '185.228.168.168'])
    assert '9.9.9.9' not in result['ruleset'] and '8.8.8.8' in result['ruleset']
    assert result['public_dns']['kept'] == [{'address': '9.9.9.9', 'source': '/etc/resolv.conf (resolv.conf nameserver)'}]
    assert [r['address'] for r in result['host_resolvers']] == ['9.9.9.9', '10.0.0.53']
    assert any('9.9.9.9' in w and 'left out of the DNS block' in w for w in warnings)


def test_a_local_dns_server_forwarding_to_a_public_resolver_keeps_it(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    resolver_files(tmp_path, {
        '/etc/resolv.conf': 'nameserver 127.0.0.1\n',
        '/etc/dnsmasq.conf': 'no-resolv\nconf-dir=/etc/dnsmasq.d/,*.conf\n',
        '/etc/dnsmasq.d/upstream.conf': 'server=1.1.1.1#53\nserver=/corp.example/10.0.0.53\n',
        '/etc/unbound/unbound.conf': 'forward-zone:\n  name: "."\n  forward-addr: 8.8.8.8@853#dns.google\n',
    })
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: None)
    result, _calls = run_module(monkeypatch, tmp_path, {'domains': []}, ['nft'], {NFT_LIST: NO_TABLE},
                                check_mode=True)
    assert public_dns_addresses(result) == sorted(['223.6.6.6', '9.9.9.9', '185.228.168.168'])
    assert [k['address'] for k in result['public_dns']['kept']] == ['8.8.8.8', '1.1.1.1']
    assert 'dnsmasq' in result['public_dns']['kept'][1]['source']


def test_refuse_fails_the_host_naming_the_resolver_and_changes_nothing(monkeypatch, tmp_path):
    hosts = tmp_path / 'hosts'
    hosts.write_text('127.0.0.1 localhost\n')
    resolver_files(tmp_path, {'/etc/systemd/resolved.conf': '[Resolve]\nDNS=8.8.8.8#dns.google\n'})
    result, calls = run_module(monkeypatch, tmp_path, {'resolver_conflict': 'refuse'}, ['nft'], {})
    assert result['failed']
    assert '8.8.8.8 (/etc/systemd/resolved.conf (systemd-resolved DNS=/FallbackDNS=))' in result['msg']
    assert 'nothing was changed' in result['msg']
    assert calls == [] and hosts.read_text() == '127.0.0.1 localhost\n'
    assert not state_path(tmp_path).exists()


def test_keep_resolvers_option_is_never_blocked(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: None)
    result, _calls = run_module(monkeypatch, tmp_path, {'domains': [], 'keep_resolvers': ['223.6.6.6']}, ['nft'],
                                {NFT_LIST: NO_TABLE}, check_mode=True)
    assert '223.6.6.6' not in public_dns_addresses(result)
    assert result['public_dns']['kept'] == [{'address': '223.6.6.6', 'source': 'keep_resolvers'}]


def test_no_public_dns_block_where_kaspersky_is_not_installed(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    result, _calls = run_module(monkeypatch, tmp_path, {'domains': [], 'kaspersky_verdict': 'clean'}, ['nft'],
                                {NFT_LIST: NO_TABLE}, check_mode=True)
    assert {r['purpose'] for r in result['rules']} == {'ksc'}
    assert result['public_dns']['block'] is False and 'not installed' in result['public_dns']['reason']
    residue, _calls = run_module(monkeypatch, tmp_path, {'domains': [], 'kaspersky_verdict': 'residue'}, ['nft'],
                                 {NFT_LIST: NO_TABLE}, check_mode=True)
    assert 'public_dns' in {r['purpose'] for r in residue['rules']}


# --- the hosts file: atomic_move, symlinks --------------------------------------------------------

def test_a_symlinked_hosts_file_stays_a_symlink_and_its_target_is_written(monkeypatch, tmp_path):
    target = tmp_path / 'real' / 'hosts'
    target.parent.mkdir()
    target.write_text('127.0.0.1 localhost\n')
    os.chmod(target, 0o640)
    moves = []
    original = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        moves.append((dest, unsafe_writes))
        return original(self, src, dest, unsafe_writes=unsafe_writes, keep_dest_attrs=keep_dest_attrs)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: None)
    run = {'n': 0}

    def run_command(self, argv, **kwargs):
        if tuple(argv) == NFT_LIST:
            run['n'] += 1
            return NO_TABLE if run['n'] == 1 else (0, listing_of(C.build_rules()), '')
        return (0, '', '')

    args = {'domains': ['ds.kaspersky.com'], 'persist': False}
    # run_module points hosts_path at tmp_path/hosts: make that the symlink
    os.symlink(target, tmp_path / 'hosts')
    result, _calls = run_module(monkeypatch, tmp_path, args, ['nft'], {}, runner=run_command)
    assert not result['failed'], result.get('msg')
    assert os.path.islink(tmp_path / 'hosts') and os.readlink(tmp_path / 'hosts') == str(target)
    assert target.read_text().startswith('127.0.0.1 localhost\n' + C.HOSTS_BEGIN)
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o640), 'the mode of the file is kept'
    assert (str(target), True) in moves, 'written through atomic_move on the link target'
    assert not [p for p in os.listdir(target.parent) if p.startswith('.phaseout-contain-')], 'no temp file left'


# --- state=query: is the containment still in force? ------------------------------------------------

def test_query_is_read_only_and_says_intact_lapsed_or_none(monkeypatch, tmp_path):
    hosts = tmp_path / 'hosts'
    hosts.write_text('127.0.0.1 localhost\n')
    result, calls = run_module(monkeypatch, tmp_path, {'state': 'query'}, ['nft'], {NFT_LIST: NO_TABLE})
    assert result['containment']['containment'] == 'none' and not result['changed']
    assert calls == [NFT_LIST]

    rules = C.build_rules()
    block = C.hosts_block(['ds.kaspersky.com'])
    hosts.write_text(C.merge_hosts('127.0.0.1 localhost\n', block))
    write_state(tmp_path, rules, block, C.plan_public_dns(True, None, 'installed', []))
    intact, _calls = run_module(monkeypatch, tmp_path, {'state': 'query'}, ['nft'],
                                {NFT_LIST: (0, listing_of(rules), '')})
    assert intact['containment']['containment'] == 'intact'

    flushed, _calls = run_module(monkeypatch, tmp_path, {'state': 'query'}, ['nft'], {NFT_LIST: NO_TABLE},
                                 check_mode=True)
    assert flushed['containment']['containment'] == 'lapsed'
    assert 'is gone' in flushed['containment']['reasons'][0]
    assert hosts.read_text() == C.merge_hosts('127.0.0.1 localhost\n', block), 'query changes nothing'
