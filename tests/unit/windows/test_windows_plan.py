# SPDX-License-Identifier: GPL-3.0-or-later
"""The Windows removal plan: order, msiexec arguments, passwords, exit codes, refusals, residue."""
from __future__ import annotations

import copy
import re

import pytest

from conftest import AGENT_PASSWORD, KES_PASSWORD, load

from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_uninstall as wu

PARAMS = {'products': [], 'exclude': [], 'force': False, 'kes_login': 'KLAdmin', 'kes_password': None,
          'agent_password': None, 'agent_password_encoding': 'utf16le_hex', 'allow_encrypted': False,
          'log_dir': 'C:\\Windows\\Temp'}


def params(**kw):
    out = dict(PARAMS)
    out.update(kw)
    return out


def test_password_encodings():
    # hex of UTF-16LE, as the community scripts send KLUNINSTPASSWD [G1]
    assert wu.encode_password('we1c0me!', 'utf16le_hex') == '770065003100630030006D0065002100'
    # the ASCII-hex variant of the older script: we1c0me! -> 77653163306d6521 [GH-idx 32909857326]
    assert wu.encode_password('we1c0me!', 'ascii_hex') == '77653163306D6521'
    assert wu.encode_password('pw', 'plain') == 'pw'
    assert wu.encode_password('é', 'utf16le_hex') == 'E900'
    with pytest.raises(ValueError):
        wu.encode_password('x', 'rot13')


def test_msi_quoting():
    assert wu.msi_quote('KLAdmin') == 'KLAdmin'
    assert wu.msi_quote('two words') == '"two words"'
    assert wu.msi_quote('say "hi"') == '"say ""hi"""'
    assert wu.msi_quote('') == '""'


def test_plan_order_and_arguments_without_passwords():
    info = w.classify(load('kes11_en_na'))
    steps, calls, warnings = wu.plan_uninstall(info, params())
    assert [(s['action'], s['product']) for s in steps] == [('msi_uninstall', 'kes'), ('msi_uninstall', 'klnagent')]
    assert warnings == []
    kes_args, kes_secret = calls[0]
    assert kes_args == {
        'product_id': '{C9EF800D-54AA-4F60-AB96-5A3966550F53}',
        'state': 'absent',
        'arguments': 'REBOOT=ReallySuppress',
        'expected_return_code': [0, 1603, 1605, 1641, 3010],
        'log_path': 'C:\\Windows\\Temp\\phaseout-uninstall-kes-C9EF800D-54AA-4F60-AB96-5A3966550F53.log',
    }
    assert kes_secret is False
    assert steps[0]['command'] == (
        'msiexec.exe /x {C9EF800D-54AA-4F60-AB96-5A3966550F53} '
        '/L*V "C:\\Windows\\Temp\\phaseout-uninstall-kes-C9EF800D-54AA-4F60-AB96-5A3966550F53.log" '
        '/qn /norestart REBOOT=ReallySuppress')
    # never the registered UninstallString (the agent's is /I, a repair)
    for args, _secret in calls:
        assert '/I' not in args['arguments']
    assert steps[1]['description'].startswith('uninstall Kaspersky Security Center Network Agent 13.2.0.1511')


def test_plan_with_passwords():
    info = w.classify(load('kes_protected'))
    steps, calls, _warnings = wu.plan_uninstall(info, params(kes_password=KES_PASSWORD, agent_password=AGENT_PASSWORD))
    (kes_args, kes_secret), (na_args, na_secret) = calls
    assert kes_args['arguments'] == 'REBOOT=ReallySuppress KLLOGIN=KLAdmin KLPASSWD="Kes-Pa55 ""w0rd"""'
    assert na_args['arguments'] == 'REBOOT=ReallySuppress KLUNINSTPASSWD=770065003100630030006D0065002100'
    assert kes_secret and na_secret
    assert all(s['password_supplied'] for s in steps)
    # the plan shows the command with the secrets masked
    for step in steps:
        assert KES_PASSWORD not in repr(step) and AGENT_PASSWORD not in repr(step)
        assert '770065003100630030006D0065002100' not in repr(step)
    assert steps[0]['command'].endswith('KLLOGIN=KLAdmin KLPASSWD=********')
    assert steps[1]['command'].endswith('KLUNINSTPASSWD=********')


def test_agent_password_ascii_hex_and_custom_login():
    info = w.classify(load('kes_protected'))
    _steps, calls, _warnings = wu.plan_uninstall(info, params(kes_password='x', kes_login='SecAdmin',
                                                              agent_password=AGENT_PASSWORD,
                                                              agent_password_encoding='ascii_hex'))
    assert calls[0][0]['arguments'] == 'REBOOT=ReallySuppress KLLOGIN=SecAdmin KLPASSWD=x'
    assert calls[1][0]['arguments'] == 'REBOOT=ReallySuppress KLUNINSTPASSWD=77653163306D6521'


def test_products_and_exclude():
    info = w.classify(load('kes11_en_na'))
    steps, _calls, _warnings = wu.plan_uninstall(info, params(exclude=['klnagent']))
    assert [s['product'] for s in steps] == ['kes']
    steps, _calls, _warnings = wu.plan_uninstall(info, params(products=['klnagent']))
    assert [s['product'] for s in steps] == ['klnagent']
    steps, _calls, warnings = wu.plan_uninstall(info, params(products=['ksws']))
    assert steps == [] and warnings == ['ksws is not installed']
    with pytest.raises(wu.PlanError, match='unknown product id'):
        wu.plan_uninstall(info, params(products=['kesl_for_windows']))


def test_order_endpoint_agent_console():
    info = w.classify(load('endpoint_agent'))
    steps, _c, _w = wu.plan_uninstall(info, params())
    assert [s['product'] for s in steps] == ['endpoint_agent', 'klnagent']
    info = w.classify(load('ksc_server_console'))
    steps, _c, warnings = wu.plan_uninstall(info, params(force=True))
    # endpoint products, then Endpoint Agent, then Network Agent, then console; the server never
    assert [s['product'] for s in steps] == ['klnagent', 'ksc_console']
    assert any('ksc_server' in x and 'left in place' in x for x in warnings)


def test_server_refuses_and_keeps_its_agent():
    info = w.classify(load('ksc_server_console'))
    with pytest.raises(wu.PlanError, match='ksc_server .* is not removed by phaseout'):
        wu.plan_uninstall(info, params(products=['ksc_server']))
    steps, _c, warnings = wu.plan_uninstall(info, params())
    assert [s['product'] for s in steps] == ['ksc_console']
    assert any('klnagent is kept' in x for x in warnings)


def test_product_without_windows_installer_is_refused():
    raw = load('consumer_kts')
    raw['uninstall'] = [e for e in raw['uninstall'] if e['key'].startswith('InstallWIX_') or 'VPN' in e['display_name']]
    # with Windows Installer's own product list the hidden MSI is still found ...
    info = w.classify(raw)
    kts = next(p for p in info['products'] if p['id'] == 'kts')
    assert [(k['product_code'], k['msi_evidence']) for k in kts['packages'] if k['manager'] == 'msi'] == [
        ('{02B4C2D5-97A7-4A5B-B9A5-9E0BCA7C1A61}', 'Windows Installer product list')]
    # ... without it there is no silent uninstall: the interactive uninstaller is named, nothing is run
    raw['msi_products'] = [m for m in raw['msi_products'] if 'Total' not in (m.get('product_name') or '')]
    info = w.classify(raw)
    with pytest.raises(wu.PlanError, match='kts .* no Windows Installer registration .* interactive') as err:
        wu.plan_uninstall(info, params())
    assert 'InstallWIX_' not in str(err.value) or 'avpui.exe /uninstall' in str(err.value)
    steps, _c, _w = wu.plan_uninstall(info, params(exclude=['kts']))
    assert [s['product'] for s in steps] == ['kaspersky_addons']


def test_consumer_uses_the_hidden_msi():
    info = w.classify(load('consumer_kts'))
    steps, calls, _w = wu.plan_uninstall(info, params())
    assert [(s['product'], s['target']) for s in steps] == [
        ('kts', '{02B4C2D5-97A7-4A5B-B9A5-9E0BCA7C1A61}'),
        ('kaspersky_addons', '{8D6C5B4A-3F2E-4D1C-9B0A-8F7E6D5C4B3A}')]


def test_encryption_refuses_unless_allowed():
    info = w.classify(load('kes_encrypted'))
    with pytest.raises(wu.PlanError, match='encryption is detected .*FullDiskEncryption'):
        wu.plan_uninstall(info, params())
    steps, _c, _w = wu.plan_uninstall(info, params(allow_encrypted=True))
    assert [s['product'] for s in steps] == ['kes', 'klnagent']


STEP = {'product': 'kes', 'target': '{C9EF800D-54AA-4F60-AB96-5A3966550F53}', 'password_option': 'kes_password',
        'log_path': 'C:\\Windows\\Temp\\x.log'}


@pytest.mark.parametrize('result,password,outcome,reboot', [
    ({'changed': True, 'rc': 0}, False, 'removed', False),
    ({'changed': True, 'rc': 3010, 'reboot_required': True}, False, 'reboot', True),
    ({'changed': True, 'rc': 1641}, False, 'reboot', True),
    ({'changed': True, 'rc': 1605}, False, 'absent', False),
    ({'changed': False, 'rc': 0}, False, 'absent', False),
    ({'changed': True, 'rc': 1603}, True, 'password_rejected', False),
    ({'changed': True, 'rc': 1603}, False, 'error', False),
    ({'changed': True, 'rc': 1618}, False, 'error', False),
    ({'failed': True, 'rc': 1619, 'msg': 'unexpected rc'}, False, 'error', False),
])
def test_exit_codes(result, password, outcome, reboot):
    got = wu.interpret_rc(STEP, result, password)
    assert got['outcome'] == outcome
    assert got['reboot_required'] is reboot
    if outcome == 'password_rejected':
        assert 'the uninstall password was rejected' in got['msg']
        assert 'C:\\Windows\\Temp\\x.log' in got['msg']
    if outcome == 'error':
        assert 'C:\\Windows\\Temp\\x.log' in got['msg']
    if result.get('rc') == 1603 and not password:
        assert 'supply kes_password' in got['msg']


def test_residue_plan_on_residue_only_host():
    raw = load('residue_only')
    info = w.classify(raw)
    steps, args, skipped = wu.plan_residue(info, raw)
    actions = [s['action'] for s in steps]
    # filters first, drivers/services next, then certificates, WSC entry, registry, folders
    assert actions == ['remove_filter'] * 3 + ['remove_service'] + ['remove_driver'] * 4 + [
        'remove_certificate', 'remove_security_center_entry', 'remove_registry_key', 'remove_path', 'remove_path']
    keyboard = '{4D36E96B-E325-11CE-BFC1-08002BE10318}'
    kbd = next(s for s in steps if s['action'] == 'remove_filter' and keyboard in s['target'])
    assert kbd['before'] == ['kbdclass', 'klkbdflt'] and kbd['after'] == ['kbdclass']
    assert args['filters'][0] == {'key': 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Class\\' + keyboard,
                                  'value': 'UpperFilters', 'remove': ['klkbdflt']}
    assert sorted(args['services']) == ['AVP', 'klfltdev', 'klif', 'klkbdflt', 'klmouflt']
    assert args['certificates'] == [{'store': 'LocalMachine\\Root',
                                     'thumbprint': '7A3B1C4D5E6F708192A3B4C5D6E7F8091A2B3C4D'}]
    assert args['registry_keys'] == ['HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab']
    assert sorted(args['paths']) == ['C:\\Program Files (x86)\\Kaspersky Lab', 'C:\\ProgramData\\Kaspersky Lab']
    assert args['security_center'] == ['{C0D5AE8A-91B7-F2D3-0D8E-F1A71B2C5E6F}']
    reasons = {(s['item']['type'], s['item'].get('name')): s['reason'] for s in skipped}
    assert 'marked for deletion' in reasons[('driver', 'kneps')]
    root = 'CN=Kaspersky Anti-Virus Personal Root Certificate, O=AO Kaspersky Lab'
    assert 'LocalMachine' in reasons[('certificate', root)]


def test_residue_plan_never_touches_foreign_items():
    raw = load('residue_only')
    raw['paths'].append({'template': '%SystemRoot%', 'path': 'C:\\Windows'})
    raw['filters'][0]['data'].append('SomeOtherFilter')
    info = w.classify(raw)
    # a forged leftover outside the vendor footprint
    info['leftovers'].append({'type': 'path', 'path': 'C:\\Windows', 'product': None})
    info['leftovers'].append({'type': 'registry', 'path': 'HKLM:\\SOFTWARE\\Microsoft', 'product': None})
    info['leftovers'].append({'type': 'driver', 'name': 'disk', 'active': False, 'delete_pending': False,
                              'product': None})
    _steps, args, skipped = wu.plan_residue(info, raw)
    assert 'C:\\Windows' not in args['paths']
    assert 'HKLM:\\SOFTWARE\\Microsoft' not in args['registry_keys']
    assert 'disk' not in args['services']
    assert any(s['item'].get('name') == 'disk' for s in skipped)
    for entry in args['filters']:
        assert all(re.match(r'(?i)^kl', name) for name in entry['remove'])


def test_residue_clean_up_refuses_while_a_driver_of_the_vendor_runs():
    raw = load('residue_only')
    assert wu.plan_residue(w.classify(raw), raw)[1]['paths']  # the folders would go ...
    for svc in raw['services']:
        if svc['name'] == 'klif':
            svc['state'] = 'Running'
    info = w.classify(raw)
    # ... but a loaded Kaspersky driver means something of the vendor is still there
    assert info['verdict'] == 'installed' and info['installed'] == ['kaspersky_other']
    assert info['realtime_protection_active'] is True
    steps, args, skipped = wu.plan_residue(info, raw)
    assert steps == [] and args == {}
    assert 'refused' in skipped[0]['reason'] and 'driver klif' in skipped[0]['reason']


@pytest.mark.parametrize('what', ['service', 'process', 'leftover_driver'])
def test_residue_clean_up_refuses_while_anything_of_the_vendor_is_active(what):
    """The issue's case: services and drivers run but no Uninstall entry; folders must not go."""
    raw = load('residue_only')
    if what == 'service':
        next(s for s in raw['services'] if s['name'] == 'AVP')['state'] = 'Running'
    elif what == 'process':
        raw['processes'] = [{'name': 'avp', 'pid': 4100, 'path': 'C:\\Program Files (x86)\\Kaspersky Lab\\avp.exe'}]
    info = w.classify(raw)
    if what == 'leftover_driver':
        info = copy.deepcopy(info)
        info['leftovers'].append({'type': 'driver', 'name': 'klflt', 'active': True, 'product': None})
    assert wu.vendor_activity(info)
    steps, args, skipped = wu.plan_residue(info, raw)
    assert steps == [] and args == {} and 'refused' in skipped[0]['reason']


def test_no_residue_while_a_product_is_installed():
    raw = load('kes11_en_na')
    steps, args, _skipped = wu.plan_residue(w.classify(raw), raw)
    assert steps == [] and args == {}


def test_scrub_every_form_of_a_secret():
    text = {'msg': 'KLPASSWD="Kes-Pa55 ""w0rd""" KLUNINSTPASSWD=770065003100630030006d0065002100 Kes-Pa55 "w0rd"',
            'list': ['77653163306D6521', 5, None]}
    clean = wu.scrub(copy.deepcopy(text), [KES_PASSWORD, AGENT_PASSWORD])
    flat = repr(clean)
    for secret in wu.secret_variants(KES_PASSWORD, AGENT_PASSWORD):
        assert secret not in flat
    assert clean['list'][1:] == [5, None]
    assert wu.scrub('nothing', []) == 'nothing'
