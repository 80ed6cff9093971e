# SPDX-License-Identifier: GPL-3.0-or-later
"""The corpus: Windows host records built only from published real output (see each record's
``source``), classified the way a real host must be. ``observed`` lists what the source shows,
``filled`` what was added to make a complete collector answer; the loader fills the collector
sections a record does not mention with empty values (nothing found)."""
from __future__ import annotations

import copy
import glob
import json
import os
import re

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w

CORPUS = os.path.join(os.path.dirname(__file__), 'corpus')
EMPTY = {
    'changed': False, 'collector_version': 1, 'collected_at': None, 'os': None, 'uninstall': [], 'msi_products': [],
    'upgrade_codes': {}, 'services': [], 'filters': [], 'certificates': [], 'processes': [], 'paths': [],
    'registry_keys': [], 'security_center': [], 'defender': None,
    'pending_reboot': {'component_based_servicing': False, 'windows_update': False, 'pending_file_rename': False,
                       'file_rename_entries': [], 'computer_rename': False},
}


def records():
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, '*.json'))):
        with open(path, encoding='utf-8') as handle:
            out.append(json.load(handle))
    return out


def raw_of(record):
    raw = copy.deepcopy(EMPTY)
    raw.update(copy.deepcopy(record['raw']))
    return raw


RECORDS = {r['id']: r for r in records()}


def test_corpus_size_and_shape():
    assert len(RECORDS) >= 30
    clean = [r for r in RECORDS.values() if r['expect']['verdict'] == 'clean']
    assert len(clean) >= 10, 'negative cases: other vendors and K/KL look-alikes'
    for record in RECORDS.values():
        source = record['source']
        assert source.get('url') or source.get('index_id'), record['id']
        assert source['excerpt'] and source['kind'], record['id']
        assert record['observed'] and isinstance(record['filled'], list), record['id']
        assert set(record['raw']) <= set(EMPTY), record['id']


@pytest.mark.parametrize('rid', sorted(RECORDS))
def test_record_is_classified_right(rid):
    record = RECORDS[rid]
    expect = record['expect']
    info = w.classify(raw_of(record))
    assert info['verdict'] == expect['verdict'], (rid, info['verdict'], info['installed'], info['residue'])
    assert sorted(info['installed']) == sorted(expect['installed']), rid
    assert sorted(info['residue']) == sorted(expect['residue']), rid
    if 'realtime' in expect:
        assert info['realtime_protection_active'] is expect['realtime'], rid
    for name, owner in (expect.get('owners') or {}).items():
        found = [p['id'] for p in info['products']
                 if name in [s['name'] for s in p['services']] + list(p['windows'].get('drivers') or ())]
        assert found == [owner], (rid, name, found)
    for pid, codes in (expect.get('msi') or {}).items():
        product = next(p for p in info['products'] if p['id'] == pid)
        assert [k['product_code'] for k in product['packages'] if k['manager'] == 'msi'] == codes, rid
    if 'leftovers' in expect:
        assert w.summary(info)['leftovers'] == expect['leftovers'], rid
    if 'pending_reboot' in expect:
        assert info['windows']['pending_reboot']['pending'] is expect['pending_reboot']
    json.dumps(info)


def test_collector_patterns_skip_the_look_alikes():
    """What the collector is told to look for does not return other vendors' K names."""
    args = w.collector_args()
    for name in ('KslD', 'kbdclass', 'kbdhid', 'KSecDD', 'KSecPkg', 'ksthunk', 'K7RTScan', 'K7TSMngr', 'kavsvc', 'msdl',
                 'KtmRm', 'KeyIso', 'kdnic', 'avast! Antivirus', 'MBAMChameleon'):
        assert not re.search(args['service_pattern'], name), name
    for name in ('mouclass', 'kbdclass'):
        assert not re.search(args['filter_pattern'], name)
    for name in ('K-Lite Codec Pack 18.4.5 Full', 'Avast Free Antivirus', 'adaware antivirus'):
        assert not re.search(args['display_name_pattern'], name)
    assert not {'kavsvc', 'kavstart', 'kavkrn', 'kavgui', 'k7rtscan'} & set(args['process_names'])
    for name in ('klids.K4W-21-25', 'KLIF.K4W-21-24', 'klupd_K4W-21-25_arkmon', 'kldisk', 'kltap', 'klkbdflt2',
                 'avpsus.KES.14.1', 'AVP.KES.14.1', 'klvssbridge64_21.25', 'AVP21.2'):
        assert re.search(args['service_pattern'], name), name
