# SPDX-License-Identifier: GPL-3.0-or-later
"""containment on Windows: whether the contain phase's blocking is still in force, read in the collector's
single call (win_kaspersky_collect's ``contain`` facts) and decided on the controller (windows.containment,
with contain.windows_containment_status), in the Linux shape, for kaspersky_info, preflight_check, discover
and verify.

Fixtures (``fixtures/contain_*.json``) hold the collector's ``contain`` facts: ``contain_intact`` was made with
the contain role's own filters and defaults (contain_windows_rules, contain_windows_state, the role's domains and
blackhole addresses) for a host whose adapter resolves through 8.8.8.8; ``contain_lapsed`` is that host after a
rule was disabled, another deleted and the hosts file rewritten with its IPv4 entries only; ``contain_none`` a
host never contained. The other fixtures are answers of the collector before it read the containment
(collector_version 1)."""
from __future__ import annotations

import copy
import csv
import io
import os
import re

import pytest
import yaml

from conftest import COLLECTOR, ROOT, load, make_action

from ansible_collections.phaseout.antivirus.plugins.action import kaspersky_info, preflight_check
from ansible_collections.phaseout.antivirus.plugins.filter import contain as contain_filters
from ansible_collections.phaseout.antivirus.plugins.module_utils import report
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w

KEYS = {'containment', 'reasons', 'backend', 'public_dns_blocked', 'resolvers_kept'}
PUBLIC_BLOCKED = ['1.1.1.1', '223.6.6.6', '9.9.9.9', '185.228.168.168']


def host(contain_fixture, base='kes11_en_na', **changes):
    """A collector answer of the current version: ``base`` with the ``contain`` facts of a fixture."""
    raw = copy.deepcopy(load(base))
    raw['collector_version'] = 2
    raw['contain'] = copy.deepcopy(load(contain_fixture)['contain'])
    raw['contain'].update(changes)
    return raw


def info(raw, check_mode=False):
    action, fake = make_action(kaspersky_info, {}, check_mode=check_mode, collector=[raw])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR], 'the containment is read in the one collector call'
    assert fake.calls[0]['args'] == w.collector_args('kaspersky')
    return result


# --------------------------------------------------------------------------- the four answers


@pytest.mark.parametrize('check_mode', [False, True])
def test_intact(check_mode):
    result = info(host('contain_intact'), check_mode=check_mode)
    assert result['containment'] == {'containment': 'intact', 'reasons': [], 'backend': 'windows_firewall',
                                     'public_dns_blocked': PUBLIC_BLOCKED, 'resolvers_kept': ['8.8.8.8']}
    assert result['verdict'] == 'installed' and result['changed'] is False


def test_lapsed_names_the_rules_and_the_hosts_entries():
    status = info(host('contain_lapsed'))['containment']
    assert status['containment'] == 'lapsed'
    assert set(status) == KEYS
    rules, hosts = status['reasons']
    assert rules.startswith('2 of the phaseout firewall rules are missing or disabled: ')
    assert 'phaseout contain ksc:11cf3deae1' in rules and 'phaseout contain public_dns:719ee3b607' in rules
    assert hosts == '29 phaseout hosts-file entries are gone'  # the 29 "::" entries


@pytest.mark.parametrize('change, reason', [
    ({'firewall_rules': []}, '5 of the phaseout firewall rules are missing or disabled'),
    ({'hosts_entries': []}, '58 phaseout hosts-file entries are gone'),
])
def test_every_rule_flushed_or_every_entry_gone_is_a_lapse(change, reason):
    status = w.containment(host('contain_intact', **change))
    assert status['containment'] == 'lapsed' and status['reasons'][0].startswith(reason), status


def test_none_when_never_contained():
    assert info(host('contain_none'))['containment'] == {
        'containment': 'none', 'reasons': [], 'backend': None, 'public_dns_blocked': [], 'resolvers_kept': []}


def test_rules_left_without_the_record_are_a_lapse():
    rules = load('contain_intact')['contain']['firewall_rules']
    status = w.containment(host('contain_none', firewall_rules=rules[:1]))
    assert status['containment'] == 'lapsed' and 'without their state file' in status['reasons'][0]


@pytest.mark.parametrize('name', ['kes11_en_na', 'clean_win11', 'na_only'])
def test_an_older_collector_is_unknown_not_none(name):
    """An answer without ``contain`` (collector_version 1) read nothing about the containment: ``unknown``.
    ``none`` would say the host was never contained, which nobody checked."""
    raw = load(name)
    assert 'contain' not in raw and raw['collector_version'] == 1
    status = info(raw)['containment']
    assert status['containment'] == 'unknown' and set(status) == KEYS
    assert status['reasons'] == ['not read: the Windows collector (collector_version 1) predates the containment '
                                 'check']


# --------------------------------------------------------------------------- what the collector could not read


def test_a_record_that_cannot_be_read_is_unknown():
    status = w.containment(host('contain_intact', state_text=None, state_error='Access to the path is denied.'))
    assert status['containment'] == 'unknown'
    assert status['reasons'] == ['cannot read the contain record C:\\ProgramData\\phaseout\\contain.json: Access to '
                                 'the path is denied.']


def test_a_record_that_does_not_parse_is_a_lapse():
    status = w.containment(host('contain_intact', state_text='{"backend": "windows_firewall", "rules": ['))
    assert status['containment'] == 'lapsed' and 'unreadable' in status['reasons'][0]


def test_firewall_unreadable_is_unknown_unless_the_hosts_file_shows_a_lapse():
    unread = {'firewall_rules': None, 'firewall_error': 'The RPC server is unavailable.'}
    status = w.containment(host('contain_intact', **unread))
    assert status['containment'] == 'unknown'
    assert status['reasons'] == ['cannot read the firewall rules of the group "phaseout contain" '
                                 '(Get-NetFirewallRule): The RPC server is unavailable.']
    lapsed = w.containment(host('contain_lapsed', **unread))
    assert lapsed['containment'] == 'lapsed'
    assert lapsed['reasons'][0] == '29 phaseout hosts-file entries are gone'
    assert lapsed['reasons'][1].startswith('cannot read the firewall rules')
    never = w.containment(host('contain_none', **unread))
    assert never['containment'] == 'unknown', 'rules left behind cannot be ruled out'


def test_hosts_file_unreadable_is_unknown_unless_the_firewall_shows_a_lapse():
    unread = {'hosts_entries': None, 'hosts_error': 'The process cannot access the file because it is being used'}
    status = w.containment(host('contain_intact', **unread))
    assert status['containment'] == 'unknown'
    assert status['reasons'] == ['cannot read the hosts file C:\\Windows\\System32\\drivers\\etc\\hosts: The process '
                                 'cannot access the file because it is being used']
    lapsed = w.containment(host('contain_lapsed', **unread))
    assert lapsed['containment'] == 'lapsed' and lapsed['reasons'][0].startswith('2 of the phaseout firewall rules')
    assert lapsed['reasons'][-1].startswith('cannot read the hosts file')


# --------------------------------------------------------------------------- the firewall itself, the hosts file


def test_a_firewall_profile_that_is_off_is_a_lapse():
    status = w.containment(host('contain_intact', firewall_profiles_off=['public']))
    assert status['containment'] == 'lapsed'
    assert status['reasons'] == ['the Windows Firewall is off for the public profile: the phaseout block rules are '
                                 'not enforced on networks of it (turn it on; running contain again does not)']
    both = w.containment(host('contain_intact', firewall_profiles_off=['domain', 'private']))
    assert 'off for the domain, private profiles' in both['reasons'][0]
    # a scalar (ConvertTo-Json's one-element array) and an unread profile list
    assert w.containment(host('contain_intact', firewall_profiles_off='Domain'))['containment'] == 'lapsed'
    unread = w.containment(host('contain_intact', firewall_profiles_off=None, firewall_profiles_error='denied'))
    assert unread['containment'] == 'intact'
    assert w.containment(host('contain_none', firewall_profiles_off=['public']))['containment'] == 'none'


def test_hosts_entries_compare_as_the_resolver_does():
    """Any notation of the same address, any case, a trailing dot: the same entry."""
    entries = load('contain_intact')['contain']['hosts_entries']
    spelled = [e.upper() if i % 2 else e for i, e in enumerate(entries)]          # DS.KASPERSKY.COM
    spelled = [re.sub(r'^:: ', '0:0:0:0:0:0:0:0 ', e) for e in spelled]             # :: written out
    spelled = [e + '.' if e.lower().endswith('ds.kaspersky.com') else e for e in spelled]  # a trailing dot
    assert spelled != entries
    assert w.containment(host('contain_intact', hosts_entries=spelled))['containment'] == 'intact'
    other = [e.replace('0.0.0.0 ', '127.0.0.1 ') for e in entries]
    assert w.containment(host('contain_intact', hosts_entries=other))['reasons'] == [
        '29 phaseout hosts-file entries are gone']


def test_a_moved_hosts_file_is_named():
    """Windows resolves with the hosts file in Tcpip's DataBasePath; win_hosts writes the default one."""
    moved = {'hosts_path': 'D:\\netconf\\hosts', 'hosts_entries': []}
    status = w.containment(host('contain_intact', **moved))
    assert status['containment'] == 'lapsed'
    assert status['reasons'] == ['58 phaseout hosts-file entries are gone',
                                 'Windows resolves with D:\\netconf\\hosts (Tcpip DataBasePath), not '
                                 'C:\\Windows\\System32\\drivers\\etc\\hosts where the contain role writes its entries']
    assert w.containment(host('contain_intact', hosts_path='D:\\netconf\\hosts'))['containment'] == 'intact'


# --------------------------------------------------------------------------- the contain role, end to end


def _role():
    with open(os.path.join(ROOT, 'roles', 'contain', 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle)
    with open(os.path.join(ROOT, 'roles', 'contain', 'vars', 'main.yml'), encoding='utf-8') as handle:
        private = yaml.safe_load(handle)
    return defaults, private


def test_the_collector_looks_where_the_contain_role_writes():
    _defaults, private = _role()
    assert w.CONTAIN_FIREWALL_GROUP == private['__contain_windows_group']
    assert w.collector_args()['contain_group'] == private['__contain_windows_group']
    assert private['__contain_windows_state_file'].lower().endswith('\\phaseout\\contain.json')
    with open(os.path.join(ROOT, 'plugins', 'modules', 'win_kaspersky_collect.ps1'), encoding='utf-8') as handle:
        ps1 = handle.read()
    assert "contain_group = @{ type = 'str'; default = '%s' }" % w.CONTAIN_FIREWALL_GROUP in ps1
    assert "[System.IO.Path]::Combine($root, 'phaseout'), 'contain.json')" in ps1


@pytest.mark.parametrize('verdict', ['installed', 'clean'])
def test_what_the_contain_role_writes_today_reads_intact(verdict):
    """The record and the rules from the role's own filters and defaults, the hosts lines it writes with
    win_hosts (``<address> <name> ``, a trailing space) as the collector pairs them: intact; then lapsed."""
    defaults, private = _role()
    options = {'ksc_tcp_ports': defaults['contain_ksc_tcp_ports'], 'ksc_udp_ports': defaults['contain_ksc_udp_ports'],
               'agent_udp_ports': defaults['contain_agent_udp_ports'], 'admin_servers': ['10.1.2.3'],
               'ports_scope': 'admin_server', 'block_public_dns': defaults['contain_block_public_dns'],
               'public_resolvers': defaults['contain_public_resolvers'], 'kaspersky_verdict': verdict,
               'resolver_conflict': defaults['contain_resolver_conflict'], 'keep_resolvers': [],
               'windows_dns': {'adapters': {'alias': 'Ethernet0', 'addresses': '10.20.0.53'}}}
    lines = ['%s %s' % (a, d) for a in private['__contain_blackhole_addresses'] for d in defaults['contain_domains']]
    rules = [r['name'] for r in contain_filters.contain_windows_rules(options)]
    facts = dict(load('contain_intact')['contain'], state_text=contain_filters.contain_windows_state(options, lines),
                 firewall_rules=rules, hosts_entries=['%s ' % line for line in lines])
    raw = dict(load('clean_win11'), collector_version=2, contain=facts)
    status = w.classify(raw)['containment']
    assert status['containment'] == 'intact', status
    assert status['public_dns_blocked'] == (defaults['contain_public_resolvers'] if verdict == 'installed' else [])
    raw['contain'] = dict(facts, firewall_rules=rules[1:])
    assert w.classify(raw)['containment']['containment'] == 'lapsed'


# --------------------------------------------------------------------------- preflight, discover, verify


def test_preflight_check_carries_it_in_its_detection():
    action, fake = make_action(preflight_check, {}, collector=[host('contain_lapsed')])
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert result['detection']['containment']['containment'] == 'lapsed'


@pytest.mark.parametrize('fixture, word, attention', [
    ('contain_intact', 'intact', False),
    ('contain_lapsed', 'lapsed', True),
    ('contain_none', 'none', False),
])
def test_discover_reports_it_as_on_linux(fixture, word, attention):
    """report.discover_record takes kaspersky_info's containment as it comes from Linux; a lapse needs attention."""
    result = info(host(fixture, base='clean_win11'))
    record = report.discover_record('win01', result, 'T')
    assert record['containment'] == word
    assert record['containment_detail'] == result['containment']
    summary = report.summarize('discover', [record], 'T')
    assert ('win01' in summary['needs_attention']) is attention, summary['needs_attention']
    rows = list(csv.DictReader(io.StringIO(report.to_csv([record]))))
    assert rows[0]['containment'] == word


def test_verify_reads_the_same_word():
    """roles/verify records ``kaspersky_info``'s containment.containment (the expression it uses)."""
    with open(os.path.join(ROOT, 'roles', 'verify', 'tasks', 'main.yml'), encoding='utf-8') as handle:
        assert '.containment | default({})).containment' in handle.read()
    assert info(host('contain_lapsed'))['containment']['containment'] == 'lapsed'


# --------------------------------------------------------------------------- the collector stays small and read-only


def test_the_collector_reads_the_containment_without_writing_or_resolving():
    from test_powershell_utils import Script

    path = os.path.join(ROOT, 'plugins', 'modules', 'win_kaspersky_collect.ps1')
    with open(path, 'rb') as handle:
        source = handle.read()
    script = Script(source)
    assert 'get-phaseoutcontainfact' in script.defined
    assert '$module.Result.contain = Get-PhaseoutContainFact -Group $params.contain_group' in source.decode()
    read_verbs = ('get-', 'test-', 'read-', 'convertfrom-', 'convertto-', 'where-object', 'foreach-object',
                  'add-type', 'new-object')
    assert all(name.startswith(read_verbs) for name in script.calls), sorted(script.calls)
    text = source.decode('utf-8').lower()
    for forbidden in ('resolve-dnsname', 'system.net.dns', 'test-connection', 'test-netconnection', 'nslookup',
                      '::write', '::delete', '::move', '::replace', '::appendall', 'set-netfirewall',
                      'new-netfirewall', 'remove-netfirewall', 'enable-netfirewall', 'disable-netfirewall'):
        assert forbidden not in text, forbidden
