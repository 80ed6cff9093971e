# SPDX-License-Identifier: GPL-3.0-or-later
"""The swap journal on Windows: read in the collector's single call, judged and summarized on the controller,
reported by kaspersky_info and preflight_check with what protects the host now.

The host is the fake of conftest: real-shaped collector outputs (fixtures/), a recording _execute_module
(one call = one WinRM round trip) and a journal file with PhaseoutJournal.psm1's semantics (compare-and-swap
on the SHA-256, protected ACL). Nothing here runs PowerShell: the .ps1/.psm1 are parsed by
tests/unit/test_powershell_parse.py and test_powershell_utils.py."""
from __future__ import annotations

import copy

import pytest

from conftest import COLLECTOR, USERS, FakeJournalFile, load, make_action, protected_acl, sha256

from ansible_collections.phaseout.antivirus.plugins.action import kaspersky_info, preflight_check
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender as wd
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_journal as wj

AT = '2026-03-02T06:00:00.000+00:00'


def defender_off(raw):
    """The same host with Defender not running (Kaspersky gone, Defender not activated yet)."""
    raw = copy.deepcopy(raw)
    for svc in raw['defender']['services']:
        if svc['name'] in ('WinDefend', 'WdNisSvc'):
            svc['state'] = 'Stopped'
    raw['defender']['status'] = None
    raw['defender']['status_error'] = 'Operation failed with the following error: 0x800106ba.'
    return raw


def written(text):
    """A journal as the host holds it: the exact text a write sent."""
    return journal.parse(text)


def interrupted(step='staged', doing='kaspersky_removed', run_id='run-1', protecting=('kes',), products=None):
    """The journal an interrupted run left on the host."""
    j = journal.new(run_id, 'defender', 'windows', products=products or ['kes', 'klnagent'],
                    protecting=list(protecting), at=AT)
    if step != 'staged':
        j = journal.advance(j, step, at=AT)
    if doing:
        j = journal.begin(j, doing, at=AT)
    return journal.dumps(j)


# --------------------------------------------------------------------------- reading and judging the file


def test_read_no_file_a_journal_and_every_unusable_file():
    assert wj.read(None) == (None, None, '')
    assert wj.read(FakeJournalFile().facts()) == (None, None, '')
    good = interrupted()
    j, error, sha = wj.read(FakeJournalFile(good).facts())
    assert error is None and j['step'] == 'staged' and j['doing'] == 'kaspersky_removed' and sha == sha256(good)

    j, error, sha = wj.read(FakeJournalFile('{"tool": "phaseout", "schema": 1').facts())
    assert j is None and 'not valid JSON' in error and sha == sha256('{"tool": "phaseout", "schema": 1')
    linux = journal.dumps(journal.new('r', 'clamav', 'linux'))
    j, error, _sha = wj.read(FakeJournalFile(linux).facts())
    assert j is None and 'a linux journal on a Windows host' in error
    j, error, sha = wj.read(FakeJournalFile(error='Access to the path is denied.').facts())
    assert j is None and 'cannot read' in error and 'denied' in error and sha is None


def test_a_journal_others_can_change_is_not_trusted():
    users_write = protected_acl()
    users_write['rules'].append({'sid': USERS, 'rights': 0x116, 'type': 'Allow', 'inherited': True,
                                 'inherit_only': False})
    j, error, _sha = wj.read(FakeJournalFile(interrupted(), directory_acl=users_write).facts())
    assert j is None and 'not protected' in error and 'S-1-5-32-545' in error
    foreign_owner = dict(protected_acl(), owner='S-1-5-21-1-2-3-1001')
    j, error, _sha = wj.read(FakeJournalFile(interrupted(), acl=foreign_owner).facts())
    assert j is None and 'owned by S-1-5-21-1-2-3-1001' in error
    # reading is harmless; CREATOR OWNER's inherit-only entry and a Deny never count; GENERIC_WRITE does
    fine = protected_acl()
    fine['rules'] += [{'sid': USERS, 'rights': 0x120089, 'type': 'Allow', 'inherited': False, 'inherit_only': False},
                      {'sid': 'S-1-3-0', 'rights': 2032127, 'type': 'Allow', 'inherited': False, 'inherit_only': True},
                      {'sid': USERS, 'rights': 2032127, 'type': 'Deny', 'inherited': False, 'inherit_only': False}]
    assert wj.read(FakeJournalFile(interrupted(), acl=fine).facts())[1] is None
    generic = protected_acl()
    generic['rules'].append({'sid': USERS, 'rights': 0x40000000, 'type': 'Allow', 'inherited': False,
                             'inherit_only': False})
    assert 'not protected' in wj.read(FakeJournalFile(interrupted(), acl=generic).facts())[1]


def test_defender_realtime_truth_table():
    assert wd.realtime_active(w.classify(load('clean_win11'))['windows']['defender']) is True
    assert wd.realtime_active(w.classify(load('kes11_en_na'))['windows']['defender']) is False
    passive = load('clean_win11')
    passive['defender']['status']['AMRunningMode'] = 'Passive Mode'
    assert wd.realtime_active(w.classify(passive)['windows']['defender']) is False
    unknown = load('clean_win11')
    unknown['defender']['status'] = None
    unknown['defender']['status_error'] = '0x800106ba'
    assert wd.realtime_active(w.classify(unknown)['windows']['defender']) is None


@pytest.mark.parametrize('name,protection', [
    ('kes11_en_na', 'kaspersky'), ('clean_win11', 'defender'), ('residue_only', 'none'), ('na_only', 'defender'),
    ('ksws_server2019', 'kaspersky'), ('kes11_en_na_after_msi', 'defender')])
def test_protection_says_what_protects_the_host_now(name, protection):
    info = w.classify(load(name))
    assert info['protection'] == protection
    assert [e['id'] for e in info['realtime_engines']] == (['defender'] if 'defender' in protection else [])


def test_protection_two_engines_unknown_defender_and_other_vendors():
    both = load('kes11_en_na')
    both['defender'] = load('clean_win11')['defender']
    assert w.classify(both)['protection'] == 'kaspersky+defender'
    unknown = load('clean_win11')
    unknown['defender']['status'] = None
    unknown['defender']['status_error'] = '0x800106ba'
    assert w.classify(unknown)['protection'] == 'defender?'
    other = defender_off(load('residue_only'))
    other['security_center'] = [{'display_name': 'ESET Security', 'product_state': 266240, 'path': 'C:\\eset.exe',
                                 'instance_guid': '{1}'},
                                {'display_name': 'Windows Defender', 'product_state': 397568,
                                 'path': 'windowsdefender://', 'instance_guid': '{2}'}]
    info = w.classify(other)
    assert info['protection'] == 'eset_security'
    assert info['realtime_engines'][0]['evidence'].startswith('SecurityCenter2')


def test_kaspersky_info_and_preflight_report_an_unfinished_journal_with_what_protects_the_host():
    host = FakeJournalFile(interrupted(step='kaspersky_removed', doing=None))
    action, fake = make_action(kaspersky_info, {}, collector=[defender_off(load('residue_only'))], journal_file=host)
    info = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]  # read in the same single call
    assert info['journal']['interrupted'] is True and info['journal']['step'] == 'kaspersky_removed'
    assert info['journal']['past_point_of_no_return'] is True
    assert info['journal']['message'].startswith('interrupted at step kaspersky_removed (run run-1')
    assert info['protection'] == 'none'

    action, fake = make_action(preflight_check, {}, collector=[load('na_only')],
                               journal_file=FakeJournalFile('garbage'))
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert result['detection']['journal']['state'] == 'unreadable'
    assert result['detection']['journal']['interrupted'] is True
    assert result['detection']['protection'] == 'defender'
    from ansible_collections.phaseout.antivirus.plugins.module_utils import report
    record = report.preflight_record('win1', result, AT)
    assert record['journal']['state'] == 'unreadable' and record['protection'] == 'defender'
    # no journal at all: None, like Linux
    action, _fake = make_action(kaspersky_info, {}, collector=[load('clean_win11')])
    assert action.run(task_vars={})['journal'] is None
