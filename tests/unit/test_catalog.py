# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalog is data; these tests keep it consistent."""
from __future__ import annotations

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog


def test_ids_unique_and_known_vendor():
    ids = [p['id'] for p in catalog.PRODUCTS]
    assert len(ids) == len(set(ids))
    for product in catalog.PRODUCTS:
        assert product['vendor'] in catalog.VENDORS
        assert {'linux', 'windows'} & set(product), product['id']


def test_linux_packages_belong_to_one_product():
    seen = {}
    for product in catalog.products('linux'):
        for name in product['linux'].get('packages', ()):
            assert name not in seen, (name, seen.get(name), product['id'])
            seen[name] = product['id']


def test_documented_linux_removal_order():
    # GUI before the endpoint product before the Network Agent [K12][GH-idx 19445352875]
    order = {p['id']: p['removal_order'] for p in catalog.products('linux')}
    assert order['kesl_gui'] < order['kesl'] < order['klnagent']
    assert order['kav4fs'] < order['klnagent']
    assert order['ksc_server'] is None


def test_lookup_helpers():
    assert catalog.get_product('kesl')['name'] == 'Kaspersky Endpoint Security for Linux'
    assert 'kesl' in catalog.product_ids('linux')
    assert catalog.removable(catalog.get_product('klnagent'))
    assert not catalog.removable(catalog.get_product('ksc_server'))
