# SPDX-License-Identifier: GPL-3.0-or-later
"""Classification of the collector's raw output into the kaspersky_info result."""
from __future__ import annotations

import json
import re

import pytest

from conftest import load

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w

EXPECTED = {
    # fixture: (verdict, installed, residue)
    'kes11_en_na': ('installed', ['kes', 'klnagent'], []),
    'kes12_fr_na': ('installed', ['kes', 'klnagent'], []),
    'kes_protected': ('installed', ['kes', 'klnagent'], []),
    'ksws_server2019': ('installed', ['ksws', 'klnagent'], []),
    'na_only': ('installed', ['klnagent'], []),
    'ksc_server_console': ('installed', ['klnagent', 'ksc_console', 'ksc_server'], []),
    'endpoint_agent': ('installed', ['endpoint_agent', 'klnagent'], []),
    'consumer_kts': ('installed', ['kts', 'kaspersky_addons'], []),
    'clean_win11': ('clean', [], []),
    'residue_only': ('residue', [], ['kes']),
    'kes_encrypted': ('installed', ['kes', 'klnagent'], []),
    'kes11_en_na_after_msi': ('residue', [], []),
    'kes11_en_na_after_residue': ('clean', [], []),
}


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_verdicts(name):
    info = w.classify(load(name))
    verdict, installed, residue = EXPECTED[name]
    assert info['platform'] == 'windows'
    assert info['changed'] is False
    assert info['verdict'] == verdict
    assert info['installed'] == installed, 'products are listed in removal order'
    assert info['residue'] == residue
    assert info['admin_server'] is None
    json.dumps(info)  # the result is plain JSON


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_result_shape(name):
    info = w.classify(load(name))
    assert set(info) >= {'changed', 'platform', 'vendor', 'verdict', 'installed', 'residue', 'products',
                         'leftovers', 'admin_server', 'realtime_protection_active', 'windows'}
    assert set(info['windows']) >= {'os', 'defender', 'pending_reboot', 'encryption', 'security_center'}
    for product in info['products']:
        assert set(product) >= {'id', 'name', 'vendor', 'kind', 'state', 'version', 'removable', 'removal_order',
                                'packages', 'services', 'processes', 'paths', 'windows'}
        for pkg in product['packages']:
            assert pkg['manager'] in ('msi', 'exe')
        for svc in product['services']:
            assert set(svc) >= {'name', 'state', 'start_mode', 'enabled', 'active'}
    for leftover in info['leftovers']:
        assert 'type' in leftover and 'product' in leftover


def test_kes11_english_with_agent():
    info = w.classify(load('kes11_en_na'))
    kes, agent = info['products']
    assert kes['id'] == 'kes' and kes['version'] == '11.11.0.452'
    assert kes['packages'][0]['product_code'] == '{C9EF800D-54AA-4F60-AB96-5A3966550F53}'
    assert kes['packages'][0]['manager'] == 'msi'
    assert [s['name'] for s in kes['services']] == ['AVP']
    assert kes['services'][0]['active'] is True and kes['services'][0]['start_mode'] == 'auto'
    # the shared drivers, the device filters and the root certificate belong to KES while it is installed
    assert {'klif', 'klflt', 'klfltdev', 'kneps', 'klmouflt', 'klkbdflt'} <= set(kes['windows']['drivers'])
    assert sorted(kes['windows']['filters']) == ['klkbdflt', 'klmouflt']
    assert kes['windows']['certificates'] == ['7A3B1C4D5E6F708192A3B4C5D6E7F8091A2B3C4D']
    assert {p['name'] for p in kes['processes']} == {'avp.exe', 'avpui.exe'}
    assert agent['id'] == 'klnagent' and agent['removable'] is True
    # the upgrade code ties the agent's product code to the catalog
    assert agent['windows']['upgrade_code'] == '{B9518725-0B76-4793-A409-C6794442FB50}'
    assert agent['windows']['uninstall_string'].startswith('MsiExec.exe /I')  # a repair, never run
    assert info['leftovers'] == []
    assert info['realtime_protection_active'] is True
    assert info['windows']['os']['product_type'] == 'workstation'
    assert info['windows']['encryption'] == {'detected': False, 'evidence': []}
    sc = {e['display_name']: e for e in info['windows']['security_center']}
    assert sc['Kaspersky Endpoint Security 11 for Windows']['enabled'] is True
    assert sc['Windows Defender']['enabled'] is False


def test_kes12_french_localized_names():
    info = w.classify(load('kes12_fr_na'))
    by_id = {p['id']: p for p in info['products']}
    agent = by_id['klnagent']
    assert agent['windows']['display_name'] == "Agent d'administration de Kaspersky Security Center"
    assert agent['packages'][0]['product_code'] == '{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}'
    kes = by_id['kes']
    assert kes['version'] == '12.9.0.96'
    assert [s['name'] for s in kes['services']] == ['AVP.KES.12.9']
    # driver services with the product suffix of newer builds
    assert {'KLIF.KES-14-1', 'klflt.KES-14-1', 'klfltdev.KES-14-1'} <= set(kes['windows']['drivers'])
    assert info['windows']['os']['caption'] == 'Microsoft Windows 11 Professionnel'


def test_localized_agent_names_without_codes():
    products = catalog.products('windows')
    for name in ("Agent d'administration de Kaspersky Security Center 14",
                 'Kaspersky Security Center 13 Network Agent',
                 'Агент администрирования Kaspersky Security Center 14',
                 'Agente de red de Kaspersky Security Center 13'):
        entry = {'key': '{00000000-0000-0000-0000-000000000001}', 'display_name': name, 'publisher': 'AO Kaspersky Lab'}
        assert w.match_entry(entry, products, {})['id'] == 'klnagent', name
    for name, expected in (('Kaspersky Endpoint Security 10 for Windows', 'kes'),
                           ('Kaspersky Endpoint Security für Windows', 'kes'),
                           ('Console d\'administration de Kaspersky Security Center', 'ksc_console'),
                           ('Kaspersky Security Center 13 Administration Console', 'ksc_console'),
                           ('Kaspersky Security Center 13', 'ksc_server'),
                           ('Kaspersky Security Center 14 Web Console', 'ksc_server'),
                           ('Kaspersky Security 11 for Windows Server', 'ksws'),
                           ('Kaspersky Anti-Virus 8.0 for Windows Servers Enterprise Edition', 'ksws'),
                           ('Kaspersky Anti-Virus', 'kav'),
                           ('Kaspersky Small Office Security', 'ksos'),
                           ('Kaspersky Plus', 'kplus'),
                           ('Kaspersky Security for Virtualization 6.0 Light Agent', 'kaspersky_other')):
        entry = {'key': 'x', 'display_name': name, 'publisher': 'AO Kaspersky Lab'}
        assert w.match_entry(entry, products, {})['id'] == expected, name
    assert w.match_entry({'key': 'x', 'display_name': '7-Zip', 'publisher': 'Igor Pavlov'}, products, {}) is None


def test_password_protected_kes_is_detected_like_any_kes():
    info = w.classify(load('kes_protected'))
    kes = info['products'][0]
    assert kes['windows']['password_option'] == 'kes_password'
    assert kes['packages'][0]['product_code'] == '{04CF7FBD-E56C-446D-8FC9-DD444BDBEE8E}'


def test_ksws_on_server_2019_with_defender_removed():
    info = w.classify(load('ksws_server2019'))
    assert info['products'][0]['id'] == 'ksws'
    assert [s['name'] for s in info['products'][0]['services']] == ['KAVFS', 'KAVFSGT', 'kavfsslp']
    assert info['windows']['os'] == {'product_type': 'server', 'caption': 'Microsoft Windows Server 2019 Standard',
                                     'version': '10.0.17763', 'build': '17763', 'architecture': '64-bit',
                                     'is_server': True}
    defender = info['windows']['defender']
    assert defender['feature_installed'] is False
    assert defender['service'] is None
    assert 'not recognized' in defender['status_error']
    assert info['windows']['security_center'] == []


def test_agent_alone():
    info = w.classify(load('na_only'))
    assert [p['id'] for p in info['products']] == ['klnagent']
    assert info['realtime_protection_active'] is False
    assert info['windows']['defender']['am_running_mode'] == 'Normal'


def test_ksc_server_is_reported_not_removable():
    info = w.classify(load('ksc_server_console'))
    by_id = {p['id']: p for p in info['products']}
    assert by_id['ksc_server']['removable'] is False
    assert by_id['ksc_console']['removable'] is True
    server_pkgs = {p['name'] for p in by_id['ksc_server']['packages']}
    assert server_pkgs == {'Kaspersky Security Center 14.2 Administration Server',
                           'Kaspersky Security Center 14.2 Web Console'}
    assert {s['name'] for s in by_id['ksc_server']['services']} == {'kladminserver', 'ksnproxy', 'klactprx'}


def test_endpoint_agent():
    info = w.classify(load('endpoint_agent'))
    kea = info['products'][0]
    assert kea['id'] == 'endpoint_agent' and kea['kind'] == 'edr' and kea['removable']
    assert kea['paths'] == ['C:\\Program Files (x86)\\Kaspersky Lab\\Endpoint Agent']


def test_consumer_product_bundle_and_hidden_msi():
    info = w.classify(load('consumer_kts'))
    kts = info['products'][0]
    assert kts['id'] == 'kts' and kts['kind'] == 'consumer'
    managers = sorted(p['manager'] for p in kts['packages'])
    assert managers == ['exe', 'msi']
    assert kts['windows']['windows_installer'] is True
    assert kts['windows']['product_code'] == '{02B4C2D5-97A7-4A5B-B9A5-9E0BCA7C1A61}'
    assert [s['name'] for s in kts['services']] == ['AVP21.3']
    assert 'klupd_klif_arkmon' in kts['windows']['drivers']
    assert info['products'][1]['id'] == 'kaspersky_addons'
    assert info['leftovers'] == []


def test_clean_windows_11():
    info = w.classify(load('clean_win11'))
    assert info['products'] == [] and info['leftovers'] == []
    assert info['windows']['pending_reboot'] == {'pending': False, 'reasons': [], 'vendor_files': []}
    assert info['windows']['defender']['realtime_protection_enabled'] is True


def test_residue_only_host():
    info = w.classify(load('residue_only'))
    kinds = {}
    for lo in info['leftovers']:
        kinds.setdefault(lo['type'], []).append(lo.get('name') or lo.get('path'))
    assert kinds['service'] == ['AVP']
    assert sorted(kinds['driver']) == ['klfltdev', 'klif', 'klkbdflt', 'klmouflt', 'kneps']
    assert sorted(kinds['upper_filter']) == ['klfltdev', 'klkbdflt', 'klmouflt']
    assert len(kinds['certificate']) == 2
    assert kinds['registry'] == ['HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab']
    assert sorted(kinds['path']) == ['C:\\Program Files (x86)\\Kaspersky Lab', 'C:\\ProgramData\\Kaspersky Lab']
    assert kinds['security_center'] == ['Kaspersky Endpoint Security for Windows']
    kneps = next(lo for lo in info['leftovers'] if lo.get('name') == 'kneps')
    assert kneps['delete_pending'] is True
    mouse = next(lo for lo in info['leftovers'] if lo.get('name') == 'klmouflt' and lo['type'] == 'upper_filter')
    assert mouse['data'] == ['mouclass', 'klmouflt']
    pending = info['windows']['pending_reboot']
    assert pending['pending'] is True and pending['reasons'] == ['pending_file_rename']
    assert pending['vendor_files'] == ['\\??\\C:\\ProgramData\\Kaspersky Lab\\KES\\Data\\klif.dat']


def test_encrypted_host_evidence():
    info = w.classify(load('kes_encrypted'))
    enc = info['windows']['encryption']
    assert enc['detected'] is True
    assert any(e.startswith('msi feature FullDiskEncryption') for e in enc['evidence'])
    assert any(e.startswith('service klbg') for e in enc['evidence'])
    # absent features do not count
    assert not any('FileLevelEncryption' in e for e in enc['evidence'])


def test_assume_removed_predicts_residue():
    raw = load('kes11_en_na')
    predicted = w.classify(raw, assume_removed={'kes', 'klnagent'})
    assert predicted['installed'] == []
    types = sorted({lo['type'] for lo in predicted['leftovers']})
    # the uninstallers take their drivers and filters; the vendor folders and registry root stay
    assert types == ['path', 'registry']


def test_guid_packing():
    # Office 2010's well-known ProductCode and its packed form under Classes\Installer\Products
    assert w.pack_guid('{90140000-0011-0000-0000-0000000FF1CE}') == '00004109110000000000000000F01FEC'
    for guid in ('{B9518725-0B76-4793-A409-C6794442FB50}', '{83A28D53-EEDD-49E3-AE83-C806EB513388}'):
        assert w.unpack_guid(w.pack_guid(guid)) == guid
    assert w.normalize_guid('b9518725-0b76-4793-a409-c6794442fb50') == '{B9518725-0B76-4793-A409-C6794442FB50}'
    assert w.normalize_guid('InstallWIX_{X}') is None
    with pytest.raises(ValueError):
        w.pack_guid('nope')


def test_collector_args_come_from_the_catalog():
    args = w.collector_args()
    assert w.pack_guid('{B9518725-0B76-4793-A409-C6794442FB50}') in args['upgrade_codes']
    for key in ('display_name_pattern', 'service_pattern', 'filter_pattern', 'certificate_pattern'):
        re.compile(args[key])
    assert re.search(args['service_pattern'], 'KLIF.KES-14-1')
    assert re.search(args['service_pattern'], 'klnagent')
    assert not re.search(args['service_pattern'], 'WinDefend')
    assert re.search(args['filter_pattern'], 'klmouflt') and not re.search(args['filter_pattern'], 'mouclass')
    assert '%ProgramData%\\Kaspersky Lab' in args['paths']
    assert 'avp' in args['process_names'] and 'klnagent' in args['process_names']
    # .NET and Python regexes: no Python-only constructs
    for key in ('display_name_pattern', 'service_pattern'):
        assert '(?P<' not in args[key]
    json.dumps(args)


def test_every_windows_product_footprint_is_well_formed():
    keys = {'display_names', 'exclude_display_names', 'publishers', 'upgrade_codes', 'product_codes', 'services',
            'drivers', 'processes', 'install_paths', 'data_paths', 'owns_shared', 'uninstall', 'match_priority',
            'realtime_services', 'driver_suffixes', 'image_paths'}
    for product in catalog.products('windows'):
        win = product['windows']
        assert set(win) <= keys, product['id']
        for rx in tuple(win.get('display_names', ())) + tuple(win.get('services', ())):
            re.compile(rx)
        for code in tuple(win.get('upgrade_codes', ())) + tuple(win.get('product_codes', ())):
            assert w.is_guid(code), code
        spec = win.get('uninstall') or {}
        assert spec.get('method') in ('msi', None)
        if spec.get('password_option'):
            assert spec['password_option'] in ('kes_password', 'agent_password')
        if catalog.removable(product):
            assert spec.get('method') == 'msi', product['id']
