# SPDX-License-Identifier: GPL-3.0-or-later
"""kaspersky_contain end to end over a fake host: the exact commands it runs, check mode, refusal."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.testing import patch_module_args

from ansible_collections.phaseout.antivirus.plugins.module_utils import contain as C
from ansible_collections.phaseout.antivirus.plugins.modules import kaspersky_contain

NO_TABLE = (1, '', 'Error: No such file or directory\nlist table inet phaseout_contain\n'
                   '                 ^^^^^^^^^^^^^^^^\n')


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
    for path in kaspersky_contain.ALL_PERSISTED:  # never read the real /etc
        assert path.startswith('/etc/')
    monkeypatch.setattr(kaspersky_contain, 'ALL_PERSISTED', [str(tmp_path / 'etc' / p.lstrip('/'))
                                                              for p in kaspersky_contain.ALL_PERSISTED])
    monkeypatch.setattr(C, 'UNIT_LINK', str(tmp_path / 'link'))
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
    assert calls == [('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain')], 'read-only in check mode'
    assert result['changed'] and result['backend'] == 'nftables'
    assert result['changes'][0] == 'hosts' and result['changes'][-1] == 'ruleset'
    assert result['ruleset'] == C.render_nft(C.build_rules())
    assert result['hosts_lines'] == C.hosts_block(['ds.kaspersky.com'])
    assert [r['text'].split(' counter')[0] for r in result['rules']][:2] == [
        'tcp dport { 13000, 14000, 13111, 17111 }', 'udp dport 15111']
    diff = {d['before_header']: d for d in result['diff']}
    assert diff[str(hosts)]['before'] == '127.0.0.1 localhost\n'
    assert diff[str(hosts)]['after'].endswith(C.HOSTS_END + '\n')
    assert hosts.read_text() == '127.0.0.1 localhost\n'


def test_up_to_date_host_reports_no_change(monkeypatch, tmp_path):
    rules = C.build_rules()
    listing = 'table inet phaseout_contain {\n' + ''.join(
        '\tchain %s {\n%s\t}\n' % (chain, ''.join('\t\t... comment "%s"\n' % c for c in comments))
        for chain, comments in C.signature(rules, 'nftables').items()) + '}\n'
    (tmp_path / 'hosts').write_text(C.merge_hosts('127.0.0.1 localhost\n', C.hosts_block(['ds.kaspersky.com'])))
    result, calls = run_module(
        monkeypatch, tmp_path, {'domains': ['ds.kaspersky.com'], 'persist': False}, ['nft'],
        {('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain'): (0, listing, '')})
    assert not result['failed'], result.get('msg')
    assert (result['changed'], result['changes']) == (False, [])
    assert 'diff' not in result


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
    assert result['backend'] == 'none' and result['changes'] == ['hosts'] and calls == []
    assert hosts.read_text() == '127.0.0.1 localhost\n' + '\n'.join(C.hosts_block(['ds.kaspersky.com'])) + '\n'


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
    assert result['backend'] == 'iptables' and result['changes'] == ['ruleset']
    assert [to_text(d) for d in state['restored']] == [C.render_iptables(rules, 'ip', jumps=True)]
    assert state['reads'] == 2, 'read before and after'


def test_bad_input_is_refused_before_anything_runs(monkeypatch, tmp_path):
    result, calls = run_module(monkeypatch, tmp_path, {'public_resolvers': ['dns.google']}, ['nft'], {})
    assert result['failed'] and 'not an IP address' in result['msg'] and calls == []


def test_result_is_json_serializable(monkeypatch, tmp_path):
    (tmp_path / 'hosts').write_text('')
    result, _calls = run_module(
        monkeypatch, tmp_path, {}, ['nft'],
        {('/usr/sbin/nft', 'list', 'table', 'inet', 'phaseout_contain'): NO_TABLE}, check_mode=True)
    json.dumps(result)
