# SPDX-License-Identifier: GPL-3.0-or-later
"""The swap journal on Windows: read and judged on the controller, decided with journal.py's functions,
written by thin calls (swap_journal.ps1, folded into the residue call where one is made anyway).

The host is the fake of conftest: real-shaped collector outputs (fixtures/), a recording _execute_module
(one call = one WinRM round trip) and a journal file with PhaseoutJournal.psm1's semantics (compare-and-swap
on the SHA-256, protected ACL). Nothing here runs PowerShell: the .ps1/.psm1 are parsed by
tests/unit/test_powershell_parse.py and test_powershell_utils.py."""
from __future__ import annotations

import copy
import json

import pytest

from ansible.errors import AnsibleActionFail

from conftest import (ADMINS, COLLECTOR, JOURNAL, KES_PASSWORD, AGENT_PASSWORD, RESIDUE, USERS, WIN_PACKAGE,
                      FakeJournalFile, load, make_action, protected_acl, residue_ok, sha256, win_package_result)

from ansible_collections.phaseout.antivirus.plugins.action import kaspersky_info, kaspersky_uninstall, preflight_check
from ansible_collections.phaseout.antivirus.plugins.action import swap_journal as swap_journal_action
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows as w
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender as wd
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_journal as wj
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_uninstall as wu
from ansible_collections.phaseout.antivirus.plugins.modules import swap_journal as journal_module

KES11 = '{C9EF800D-54AA-4F60-AB96-5A3966550F53}'
NA = '{0F05E4E5-5A89-482C-9A62-47CC58643788}'
KES117 = '{04CF7FBD-E56C-446D-8FC9-DD444BDBEE8E}'
NA2 = '{ED1C2D7E-5C7A-48D8-A697-57D1C080ABA7}'
SECRET_FORMS = wu.secret_variants(KES_PASSWORD, AGENT_PASSWORD)
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


def uninstall(args, check_mode=False, **remote):
    return make_action(kaspersky_uninstall, args, check_mode=check_mode, **remote)


def role_args(run_id='run-1', **kw):
    args = {'journal': {'run_id': run_id, 'provider': 'defender'}}
    args.update(kw)
    return args


def assert_no_secret(*values):
    text = json.dumps(values)
    for form in SECRET_FORMS:
        assert form not in text, form


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
    # preflight warns, as on Linux: the interrupted swap and what protects the host now
    assert any(x.startswith('the last swap was journal unreadable') and 'protection now: defender' in x
               for x in result['warnings'])
    action, fake = make_action(preflight_check, {}, collector=[defender_off(load('residue_only'))], journal_file=host)
    result = action.run(task_vars={})
    assert result['ready'] is True
    assert any('interrupted at step kaspersky_removed' in x and 'replace resumes from it (protection now: none)' in x
               for x in result['warnings'])
    both = load('kes11_en_na')
    both['defender'] = load('clean_win11')['defender']
    action, fake = make_action(preflight_check, {}, collector=[both])
    result = action.run(task_vars={})
    assert 'two real-time engines run at once (kaspersky+defender): replace stops Kaspersky first' in result['warnings']
    # no journal at all: None, like Linux
    action, _fake = make_action(kaspersky_info, {}, collector=[load('clean_win11')])
    assert action.run(task_vars={})['journal'] is None


# --------------------------------------------------------------------------- a whole swap, as the replace role runs it


def test_a_windows_swap_writes_the_journal_at_every_step_and_counts_its_round_trips():
    host = FakeJournalFile()
    calls = []
    # 1. "Stop Kaspersky, hand over ...": the protecting product goes first (the Network Agent is kept)
    action, fake = uninstall(role_args(exclude=['klnagent']), collector=[load('kes11_en_na'), load('na_only')],
                             packages={KES11: 0}, residue=residue_ok, journal_file=host)
    first = action.run(task_vars={})
    calls.append(fake.modules())
    assert fake.modules() == [COLLECTOR, JOURNAL, WIN_PACKAGE, COLLECTOR, RESIDUE]
    assert 'failed' not in first and first['decision'] == 'fresh'
    ahead = written(host.writes[0])
    # write-ahead, before the uninstaller
    assert ahead['step'] == 'staged' and ahead['doing'] == 'kaspersky_removed' and ahead['platform'] == 'windows'
    assert ahead['protecting'] == ['kes'] and ahead['products'] == ['kes', 'klnagent']
    assert {s['name'] for s in ahead['services']} >= {'AVP'} and ahead['run_id'] == 'run-1'
    assert fake.calls[1]['args'] == {'_journal_action': 'write', '_journal_text': host.writes[0],
                                     '_journal_expected': ''}
    # kaspersky_removed rode on the residue call (the msiexec log deletion), compare-and-swap on the first write
    assert fake.calls[4]['args']['journal'] == {'expected': sha256(host.writes[0]), 'text': host.writes[1]}
    assert written(host.writes[1])['step'] == 'kaspersky_removed' and written(host.writes[1])['doing'] is None
    assert first['journal']['step'] == 'kaspersky_removed' and first['journal']['past_point_of_no_return'] is True
    assert first['past_point_of_no_return'] is True and first['detection']['journal'] == first['journal']

    # 2. the provider activated Defender; the role records it
    action, fake = make_action(swap_journal_action, {'step': 'replacement_active', 'run_id': 'run-1'},
                               journal_file=host)
    recorded = action.run(task_vars={})
    calls.append(fake.modules())
    assert fake.modules() == [JOURNAL, JOURNAL] and recorded['changed'] is True
    assert recorded['journal']['step'] == 'replacement_active'

    # 3. "Remove what is left": the Network Agent, then the leftovers; "cleaned" rides on the residue call
    action, fake = uninstall(role_args(), collector=[load('na_only'), load('na_only_after')], packages={NA: 0},
                             residue=residue_ok, journal_file=host)
    rest = action.run(task_vars={})
    calls.append(fake.modules())
    assert fake.modules() == [COLLECTOR, WIN_PACKAGE, COLLECTOR, RESIDUE]
    assert set(fake.calls[3]['args']['journal']) == {'expected', 'done_text'}
    assert rest['journal']['step'] == 'cleaned' and host.journal()['step'] == 'cleaned'

    # 4. verified: the role closes the journal
    action, fake = make_action(swap_journal_action, {'state': 'closed', 'step': 'verified', 'outcome': 'replaced',
                                                     'run_id': 'run-1'}, journal_file=host)
    closed = action.run(task_vars={})
    calls.append(fake.modules())
    assert closed['journal']['state'] == 'done' and closed['journal']['outcome'] == 'replaced'
    final = host.journal()
    assert [h.get('step') or h.get('event') for h in final['history']] == [
        'staged', 'kaspersky_removed', 'replacement_active', 'cleaned', 'verified', 'done']
    assert final['runs'] == ['run-1']
    # the round trips of a Windows swap (KES + Network Agent, no reboot), journal included
    assert [len(c) for c in calls] == [5, 2, 4, 2]
    print('WinRM round trips of a Windows swap with the journal: %d (%s)'
          % (sum(map(len, calls)), ' + '.join(str(len(c)) for c in calls)))

    # a rerun changes nothing and writes nothing
    action, fake = uninstall(role_args(), collector=[load('na_only_after')], journal_file=host)
    again = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR] and again['changed'] is False and len(host.writes) == 5


def test_check_mode_reads_the_journal_and_writes_nothing():
    host = FakeJournalFile(interrupted())
    action, fake = uninstall(role_args(run_id='run-2'), check_mode=True, collector=[load('kes11_en_na')],
                             journal_file=host)
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]
    assert host.writes == [] and result['decision'] == 'handover'
    assert result['journal']['interrupted'] is True and result['changed'] is True


def test_a_reboot_pending_removal_still_records_kaspersky_removed():
    host = FakeJournalFile()
    action, fake = uninstall(role_args(exclude=['klnagent']), collector=[load('kes11_en_na'), load('na_only')],
                             packages={KES11: 3010}, residue=residue_ok, journal_file=host)
    result = action.run(task_vars={})
    assert result['reboot_required'] is True
    assert fake.modules() == [COLLECTOR, JOURNAL, WIN_PACKAGE, COLLECTOR, RESIDUE]  # the logs, with the journal
    assert host.journal()['step'] == 'kaspersky_removed'
    assert host.journal()['history'][-1]['detail'] == 'removed kes (reboot pending)'


# --------------------------------------------------------------------------- resume


def test_interrupted_before_any_uninstaller_resumes_as_a_normal_swap():
    host = FakeJournalFile(interrupted())  # write-ahead done, then the run was lost
    states = [load('kes11_en_na'), load('kes11_en_na_after_msi'), load('kes11_en_na_after_residue')]
    action, fake = uninstall(role_args(run_id='run-2'), collector=states,
                             packages={KES11: 0, NA: 0}, residue=residue_ok, journal_file=host)
    result = action.run(task_vars={})
    assert result['decision'] == 'handover' and 'failed' not in result
    assert fake.modules() == [COLLECTOR, JOURNAL, WIN_PACKAGE, WIN_PACKAGE, COLLECTOR, RESIDUE, COLLECTOR]
    resumed = written(host.writes[0])
    assert resumed['runs'] == ['run-1', 'run-2'] and resumed['run_id'] == 'run-2'
    assert resumed['history'][-1]['event'] == 'resumed' and resumed['doing'] == 'kaspersky_removed'
    assert host.journal()['step'] == 'kaspersky_removed'
    assert host.journal()['started_at'] == AT  # the interrupted run's journal, continued


@pytest.mark.parametrize('defender,decision', [(True, 'finish_forward'), (False, 'reactivate')])
def test_interrupted_after_one_of_two_uninstallers_continues_with_the_second(defender, decision):
    host = FakeJournalFile(interrupted())
    after_kes = load('na_only') if defender else defender_off(load('na_only'))
    action, fake = uninstall(role_args(run_id='run-2'), collector=[after_kes, load('na_only_after')],
                             packages={KES11: 0, NA: 0}, residue=residue_ok, journal_file=host)
    result = action.run(task_vars={})
    # KES is gone: its uninstaller is not run again, only the Network Agent's
    assert [c['args']['product_id'] for c in fake.calls if c['module'] == WIN_PACKAGE] == [NA]
    assert fake.modules() == [COLLECTOR, JOURNAL, WIN_PACKAGE, COLLECTOR, RESIDUE]
    assert result['decision'] == decision and result['past_point_of_no_return'] is True
    reconciled = written(host.writes[0])
    assert reconciled['step'] == 'kaspersky_removed' and reconciled['doing'] is None
    assert 'uninstallers of an interrupted run finished: kes gone' in reconciled['history'][-1]['detail']
    if not defender:
        assert any('activation must follow' in x for x in result['warnings'])


def test_interrupted_after_removal_before_defender_is_active_reactivates():
    host = FakeJournalFile(interrupted(step='kaspersky_removed', doing=None))
    raw = defender_off(load('residue_only'))
    action, fake = uninstall(role_args(run_id='run-2', exclude=['klnagent']),
                             collector=[raw, defender_off(load('residue_only_after'))], residue=residue_ok,
                             journal_file=host)
    result = action.run(task_vars={})
    assert result['decision'] == 'reactivate'
    assert 'past the point of no return and nothing protects the host' in result['decision_reason']
    assert any('activation must follow (the replace role runs it next)' in x for x in result['warnings'])
    assert WIN_PACKAGE not in fake.modules()  # nothing is uninstalled again
    # the resume rides on the residue call; "cleaned" waits for the replacement
    assert fake.modules() == [COLLECTOR, RESIDUE, COLLECTOR]
    assert set(fake.calls[1]['args']['journal']) == {'expected', 'text'}
    assert host.journal()['runs'] == ['run-1', 'run-2'] and host.journal()['step'] == 'kaspersky_removed'
    # the provider's activation follows in the role, then it records the step: the resumed journal goes on
    action, fake = make_action(swap_journal_action, {'step': 'replacement_active', 'run_id': 'run-2'},
                               journal_file=host)
    assert action.run(task_vars={})['journal']['step'] == 'replacement_active'
    assert host.journal()['state'] == 'open'


def test_a_rerun_on_a_clean_host_records_the_clean_up():
    j = journal.advance(written(interrupted(step='kaspersky_removed', doing=None)), 'replacement_active', at=AT)
    host = FakeJournalFile(journal.dumps(j))
    action, fake = uninstall(role_args(run_id='run-2'), collector=[load('clean_win11')], journal_file=host)
    result = action.run(task_vars={})
    assert fake.modules() == [COLLECTOR, JOURNAL]
    assert result['changed'] is True and host.journal()['step'] == 'cleaned'
    assert result['decision'] == 'finish_forward'


def test_an_unreadable_journal_warns_and_the_run_decides_from_the_real_state():
    host = FakeJournalFile('{"tool": "phaseout", "schema": 1, "state": "op')  # cut short
    action, fake = uninstall(role_args(exclude=['klnagent']), collector=[load('kes11_en_na'), load('na_only')],
                             packages={KES11: 0}, residue=residue_ok, journal_file=host)
    result = action.run(task_vars={})
    assert any('not valid JSON' in x and 'decides from the host\'s real state' in x for x in result['warnings'])
    assert result['decision'] == 'fresh' and 'failed' not in result
    # the new journal replaces the unreadable one (compare-and-swap on what was read)
    assert fake.calls[1]['args']['_journal_expected'] == sha256('{"tool": "phaseout", "schema": 1, "state": "op')
    assert host.journal()['step'] == 'kaspersky_removed' and host.journal()['runs'] == ['run-1']


def test_an_untrusted_journal_is_ignored_and_replaced_with_a_protected_one():
    loose = protected_acl()
    loose['rules'].append({'sid': USERS, 'rights': 2032127, 'type': 'Allow', 'inherited': False, 'inherit_only': False})
    forged = journal.dumps(journal.close(written(interrupted()), 'done', 'replaced', at=AT))
    host = FakeJournalFile(forged, acl=loose)
    action, fake = uninstall(role_args(exclude=['klnagent']), collector=[load('kes11_en_na'), load('na_only')],
                             packages={KES11: 0}, residue=residue_ok, journal_file=host)
    result = action.run(task_vars={})
    assert any('not protected' in x for x in result['warnings'])
    assert host.acl['owner'] == ADMINS and host.journal()['step'] == 'kaspersky_removed'


def test_a_journal_that_cannot_be_read_stops_the_run_before_any_change():
    host = FakeJournalFile(error='Access to the path is denied.')
    action, fake = uninstall(role_args(), collector=[load('kes11_en_na')], packages={KES11: 0}, journal_file=host)
    with pytest.raises(AnsibleActionFail, match='could not be read, so it is not overwritten.*nothing was changed'):
        action.run(task_vars={})
    assert fake.modules() == [COLLECTOR]


def test_another_run_writing_the_journal_stops_this_one_before_any_uninstaller():
    host = FakeJournalFile()

    def another_run(module_name):
        if module_name == JOURNAL:
            host.text = interrupted(run_id='run-other')

    action, fake = uninstall(role_args(), collector=[load('kes11_en_na')], packages={KES11: 0}, journal_file=host,
                             before_call=another_run)
    with pytest.raises(AnsibleActionFail, match='changed since it was read.*another run.*nothing was changed'):
        action.run(task_vars={})
    assert WIN_PACKAGE not in fake.modules()
    assert host.journal()['run_id'] == 'run-other'


# --------------------------------------------------------------------------- failures and secrets


def test_a_failure_after_an_uninstaller_ran_keeps_the_journal_open_with_the_error():
    host = FakeJournalFile()
    action, fake = uninstall(role_args(), collector=[load('kes11_en_na'), load('na_only')],
                             packages={KES11: 0, NA: 1603}, journal_file=host)
    result = action.run(task_vars={})
    assert result['failed'] is True and result['past_point_of_no_return'] is True
    # no residue call on a failure: the error gets its own write
    assert fake.modules() == [COLLECTOR, JOURNAL, WIN_PACKAGE, WIN_PACKAGE, COLLECTOR, JOURNAL]
    j = host.journal()
    assert j['state'] == 'open' and j['step'] == 'kaspersky_removed'
    assert 'msiexec rc 1603' in j['error'] and j['history'][-1]['event'] == 'error'
    assert result['journal']['interrupted'] is True and 'msiexec rc 1603' in result['journal']['message']


def test_a_rejected_password_closes_the_journal_rolled_back_and_no_secret_is_recorded():
    def echoing(module_args):
        # win_package failing with its command line (KLPASSWD in it) in msg
        return win_package_result(module_args, rc=0, failed=True)

    host = FakeJournalFile()
    action, fake = uninstall(role_args(kes_password=KES_PASSWORD, agent_password=AGENT_PASSWORD),
                             collector=[load('kes_protected')], packages={KES117: echoing, NA2: 0},
                             journal_file=host)
    result = action.run(task_vars={})
    assert result['failed'] is True and result['past_point_of_no_return'] is False
    assert fake.modules() == [COLLECTOR, JOURNAL, WIN_PACKAGE, COLLECTOR, JOURNAL]
    j = host.journal()
    assert j['state'] == 'rolled_back' and j['outcome'] == 'failed'
    assert 'Kaspersky still protects the host' in j['error'] and wu.MASK in j['error']
    assert_no_secret(host.writes, result, [c['args'] for c in fake.calls if c['module'] == JOURNAL])


def test_the_journal_scrubs_secrets_itself():
    recorded = []

    def call(module_args):
        recorded.append(module_args['_journal_text'])
        return {'written': True, 'sha256': sha256(module_args['_journal_text'])}

    jw = wj.WindowsJournal(call, written(interrupted()), sha256(interrupted()),
                           scrub=lambda v: wu.scrub(v, [KES_PASSWORD, AGENT_PASSWORD]))
    jw.fail('msiexec /x {X} KLPASSWD=%s KLUNINSTPASSWD=%s' % (wu.msi_quote(KES_PASSWORD),
                                                              wu.encode_password(AGENT_PASSWORD, 'utf16le_hex')))
    assert jw.flush() is True
    assert_no_secret(recorded, jw.journal)
    assert jw.journal['error'].count(wu.MASK) == 2 and jw.journal['history'][-1]['detail'].count(wu.MASK) == 2


def test_a_residue_failure_is_recorded_and_cleaned_is_not():
    j = journal.advance(written(interrupted(step='kaspersky_removed', doing=None)), 'replacement_active', at=AT)
    host = FakeJournalFile(journal.dumps(j))

    def residue_fails(module_args):
        out = residue_ok(module_args)
        out.update(failed=True, msg='residue clean-up incomplete: path C:\\ProgramData\\Kaspersky Lab: in use',
                   errors=['path C:\\ProgramData\\Kaspersky Lab: in use'])
        return out

    action, fake = uninstall(role_args(), collector=[load('residue_only'), load('residue_only_after')],
                             residue=residue_fails, journal_file=host)
    result = action.run(task_vars={})
    assert result['failed'] is True
    assert fake.modules() == [COLLECTOR, RESIDUE, COLLECTOR, JOURNAL]
    assert host.journal()['step'] == 'replacement_active' and 'in use' in host.journal()['error']


# --------------------------------------------------------------------------- swap_journal on Windows


def swap(args, host, check_mode=False):
    return make_action(swap_journal_action, args, check_mode=check_mode, journal_file=host)


def test_swap_journal_decides_with_the_linux_modules_plan():
    host = FakeJournalFile(interrupted(step='kaspersky_removed', doing=None))
    current = host.journal()
    action, fake = swap({'step': 'replacement_active', 'run_id': 'run-1'}, host)
    result = action.run(task_vars={})
    assert fake.modules() == [JOURNAL, JOURNAL]
    assert fake.calls[0]['args'] == {'_journal_action': 'read'}
    assert fake.calls[1]['args']['_journal_expected'] == sha256(interrupted(step='kaspersky_removed', doing=None))
    expected, changed, msg = journal_module.plan(current, {'state': 'present', 'step': 'replacement_active',
                                                           'outcome': None, 'error': '', 'run_id': 'run-1'})
    got = host.journal()
    assert changed and result['msg'] == msg
    assert {k: v for k, v in got.items() if k not in ('updated_at', 'history')} == \
        {k: v for k, v in expected.items() if k not in ('updated_at', 'history')}
    assert result['diff'] == {'before': {'state': 'open', 'step': 'kaspersky_removed', 'outcome': None},
                              'after': {'state': 'open', 'step': 'replacement_active', 'outcome': None}}


def test_swap_journal_reads_only_when_nothing_changes_or_in_check_mode():
    host = FakeJournalFile(interrupted())
    action, fake = swap({}, host)
    result = action.run(task_vars={})
    assert fake.modules() == [JOURNAL] and result['changed'] is False and result['journal']['step'] == 'staged'
    action, fake = swap({'step': 'kaspersky_removed'}, host, check_mode=True)
    result = action.run(task_vars={})
    assert fake.modules() == [JOURNAL] and result['changed'] is True and host.writes == []
    action, fake = swap({'state': 'closed', 'outcome': 'replaced'}, FakeJournalFile())
    result = action.run(task_vars={})
    assert result['changed'] is False and result['journal'] is None and 'nothing was swapped here' in result['msg']


def test_swap_journal_refuses_bad_steps_unreadable_journals_and_concurrent_writers():
    action, fake = swap({'step': 'kaspersky_stopped'}, FakeJournalFile(interrupted()))
    with pytest.raises(AnsibleActionFail, match='kaspersky_stopped is not a windows step'):
        action.run(task_vars={})
    action, fake = swap({'step': 'bogus'}, FakeJournalFile(interrupted()))
    with pytest.raises(AnsibleActionFail, match='step'):
        action.run(task_vars={})
    assert fake.calls == []
    action, fake = swap({'step': 'cleaned'}, FakeJournalFile('not json'))
    with pytest.raises(AnsibleActionFail, match='not valid JSON.*remove it with state=absent'):
        action.run(task_vars={})
    host = FakeJournalFile('not json')
    action, fake = swap({'state': 'absent'}, host)
    assert action.run(task_vars={})['changed'] is True and host.text is None
    assert fake.calls[1]['args'] == {'_journal_action': 'remove', '_journal_expected': sha256('not json')}

    host = FakeJournalFile(interrupted())

    def another_run(module_name):
        if len(fake.calls) == 2:
            host.text = interrupted(run_id='run-other')

    action, fake = make_action(swap_journal_action, {'step': 'kaspersky_removed'}, journal_file=host,
                               before_call=another_run)
    with pytest.raises(AnsibleActionFail, match='changed since it was read'):
        action.run(task_vars={})
    assert host.journal()['run_id'] == 'run-other'


def test_swap_journal_on_linux_runs_the_module():
    action, fake = make_action(swap_journal_action, {'step': 'verified'}, family='sh',
                               linux=lambda module, args: {'changed': False, 'msg': 'journal unchanged'})
    assert action.run(task_vars={}) == {'changed': False, 'msg': 'journal unchanged'}
    assert fake.calls[0]['module'] == 'phaseout.antivirus.swap_journal'
    assert fake.calls[0]['args'] == {'step': 'verified'}


def test_swap_journal_action_options_are_the_modules():
    import yaml
    doc = yaml.safe_load(journal_module.DOCUMENTATION)
    assert set(doc['options']) == set(swap_journal_action.ARGUMENT_SPEC)
