# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The swap journal on a Windows host, decided on the controller.

The file is ``%ProgramData%\\phaseout\\journal.json``: the same JSON schema and step names as on
Linux (``plugins/module_utils/journal.py``, platform ``windows``), with the Windows step order

    staged -> kaspersky_removed -> replacement_active -> cleaned -> verified

and the point of no return at ``kaspersky_removed`` (an MSI uninstaller ran; it cannot be undone).

PowerShell only reads the file (text, SHA-256, the ACLs of the file and its folder) and writes the
text it is given (``PhaseoutJournal.psm1``: atomic, compare-and-swap on the SHA-256, Administrators
and SYSTEM only). Everything else is here, where the unit tests reach it: whether the file can be
trusted, what it says, what the run decides from it and the host's real state, and the next content.
"""

from __future__ import annotations

import hashlib

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender

PLATFORM = 'windows'
JOURNAL_MODULE = 'phaseout.antivirus.swap_journal'
PATH = swap_journal.WINDOWS_PATH

# Well-known SIDs allowed to change the journal: SYSTEM, BUILTIN\Administrators, TrustedInstaller.
TRUSTED_SIDS = {
    'S-1-5-18': 'SYSTEM',
    'S-1-5-32-544': 'Administrators',
    'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464': 'TrustedInstaller',
}
# FileSystemRights bits that let an account change or replace the file: WriteData/CreateFiles,
# AppendData/CreateDirectories, WriteExtendedAttributes, DeleteSubdirectoriesAndFiles,
# WriteAttributes, Delete, ChangePermissions, TakeOwnership, and the generic GENERIC_ALL / GENERIC_WRITE.
WRITE_RIGHTS = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000


class JournalWriteError(Exception):
    """The journal could not be written on the host (nothing after it may run)."""


# --------------------------------------------------------------------------- reading


def acl_problems(acl, what):
    """Why ``acl`` (owner + access rules as the host read them) lets someone else change the journal."""
    if not acl:
        return []
    problems = []
    owner = acl.get('owner')
    if owner and owner not in TRUSTED_SIDS:
        problems.append('%s is owned by %s' % (what, owner))
    for rule in acl.get('rules') or ():
        if rule.get('type') != 'Allow' or rule.get('inherit_only') or rule.get('sid') in TRUSTED_SIDS:
            continue
        try:
            rights = int(rule.get('rights') or 0) & 0xFFFFFFFF
        except (TypeError, ValueError):
            rights = WRITE_RIGHTS
        if rights & WRITE_RIGHTS:
            problems.append('%s lets %s change it (rights 0x%08X)' % (what, rule.get('sid'), rights))
    return problems


def read(facts):
    """What the host's journal file says: ``(journal or None, error or None, sha256 or None)``.

    ``facts`` is what ``Read-PhaseoutJournal`` returned (from the collector or swap_journal's read call);
    None when the host did not say (then there is no known file: sha256 ''). The error is set when the file
    exists but cannot be used: unreadable, not a phaseout journal of this schema, another platform's, or
    changeable by accounts other than Administrators and SYSTEM (its content is then not trusted). The
    sha256 is what a write must expect ('' for no file, None when the file could not even be read).
    """
    if not facts:
        return None, None, ''
    path = facts.get('path') or PATH
    sha = facts.get('sha256')
    if facts.get('error'):
        return None, 'cannot read %s: %s' % (path, facts['error']), sha or None
    if not facts.get('exists'):
        return None, None, ''
    problems = acl_problems(facts.get('directory_acl'), 'its folder') + acl_problems(facts.get('acl'), 'the file')
    if problems:
        return None, '%s is not protected (%s): its content is not trusted' % (path, '; '.join(problems)), sha
    try:
        journal = swap_journal.parse(facts.get('text') or '')
    except swap_journal.JournalError as exc:
        return None, '%s: %s' % (path, exc), sha
    if journal['platform'] != PLATFORM:
        return None, '%s: a %s journal on a Windows host' % (path, journal['platform']), sha
    return journal, None, sha


def summary(facts):
    """The journal summary kaspersky_info and preflight_check return (None: no journal)."""
    journal, error, _sha = read(facts)
    return swap_journal.summary(journal, error=error)


def text_sha256(text):
    """The SHA-256 of the bytes PhaseoutJournal.psm1 writes for ``text`` (UTF-8, no BOM)."""
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


# --------------------------------------------------------------------------- the host's real state


def protecting(product_id):
    """Whether a catalog product has real-time protection of its own (endpoint, file server, consumer AV)."""
    try:
        product = catalog.get_product(product_id)
    except KeyError:
        return False
    return bool((product.get(PLATFORM) or {}).get('realtime_services'))


def protecting_installed(detection):
    """Installed products with real-time protection (the ones the point of no return is about)."""
    return sorted(p['id'] for p in detection.get('products') or () if p['state'] == 'installed' and protecting(p['id']))


def replacement_active(detection, provider):
    """Whether the replacement's real-time protection is on: Defender's, read by the collector.

    Other providers on Windows are not read by phaseout: False (the journal decides)."""
    if provider != 'defender':
        return False
    defender = ((detection or {}).get('windows') or {}).get('defender') or {}
    return windows_defender.realtime_active(defender) is True


def reconcile(journal, detection, at=None):
    """An open journal whose protecting products are all gone now: the interrupted run's uninstallers
    finished (the journal still said ``kaspersky_removed`` was under way), so the point of no return is
    passed. Returns the journal advanced to ``kaspersky_removed``, or as it was."""
    if swap_journal.is_open(journal) and journal.get('protecting') and not protecting_installed(detection) and \
            not swap_journal.reached(journal, 'kaspersky_removed'):
        return swap_journal.advance(journal, 'kaspersky_removed', at=at,
                                    detail='the uninstallers of an interrupted run finished: %s gone'
                                           % ', '.join(journal['protecting']))
    return journal


def decide(journal, detection, provider):
    """journal.decide with the Windows facts: Kaspersky's real-time state, a protecting product installed,
    Defender's real-time protection, and the journal as the host's real state completes it (``reconcile``).

    On Windows the decisions lead to: ``fresh``/``handover``/``finish_forward``: remove what is installed
    (a product already gone is not planned again); ``reactivate``: past the point of no return with nothing
    running, remove what is left and let the provider's activation follow; ``nothing``: no protecting
    product to remove. Returns (decision, reason)."""
    return swap_journal.decide(reconcile(journal, detection), bool(detection.get('realtime_protection_active')),
                               bool(protecting_installed(detection)), replacement_active(detection, provider))


def service_records(detection, targets=None):
    """Kaspersky's services as they were before the run (for the record; MSI removals are not rolled back)."""
    records = []
    for product in detection.get('products') or ():
        if targets is not None and product['id'] not in targets:
            continue
        for service in product.get('services') or ():
            records.append({'name': service['name'], 'product': product['id'], 'protecting': protecting(product['id']),
                            'was_active': bool(service.get('active')), 'was_enabled': bool(service.get('enabled'))})
    return records


def opened(existing, run_id, provider, detection, at=None):
    """The journal a run writes before its first change: a new one at ``staged``, or the open one, resumed
    and reconciled with the host's real state (``reconcile``)."""
    # every Kaspersky service found, kept or not: the record of how the host was (nothing is restored from it
    # on Windows) and, later, no new entry to write when the kept products go in a second call
    services = service_records(detection)
    if swap_journal.is_open(existing):
        journal = existing
        if journal.get('run_id') != run_id:
            journal = swap_journal.resume(journal, run_id, at=at)
        known = {(s.get('product'), s.get('name')) for s in journal['services']}
        added = [s for s in services if (s['product'], s['name']) not in known]
        if added:
            journal = dict(journal, services=journal['services'] + added)
        return reconcile(journal, detection, at=at)
    return swap_journal.new(run_id, provider, PLATFORM,
                            products=[p['id'] for p in detection.get('products') or ()],
                            protecting=protecting_installed(detection), services=services, at=at)


# --------------------------------------------------------------------------- writing


class WindowsJournal:
    """The journal of one run on a Windows host: content decided here, written by thin remote calls.

    ``call(module_args)`` runs the swap_journal module on the host (one WinRM round trip) and returns its
    result. A change stays pending until it rides on the next residue call (``carry``/``carried``) or is
    written by ``flush``. ``store`` False (no ``journal`` option, check mode): nothing is written. Every
    content is scrubbed of the run's secrets before it leaves the controller.
    """

    def __init__(self, call, journal, sha, store=True, scrub=None, clock=None):
        self.call = call
        self.journal = journal
        self.sha = sha
        self.store = store
        self.scrub = scrub or (lambda value: value)
        self.clock = clock
        self.dirty = False
        self.writes = 0

    def _at(self):
        return swap_journal.now_iso(self.clock)

    def _set(self, journal):
        if not self.store:
            return
        journal = self.scrub(journal)
        if journal != self.journal:
            self.journal = journal
            self.dirty = True

    def open(self, run_id, provider, detection):
        self._set(opened(self.journal, run_id, provider, detection, at=self._at()))

    def begin(self, step):
        if self.journal is not None and self.journal.get('doing') != step and \
                not swap_journal.reached(self.journal, step):
            self._set(swap_journal.begin(self.journal, step, at=self._at()))

    def checkpoint(self, step, detail=None):
        if self.journal is not None and (not swap_journal.reached(self.journal, step) or
                                         self.journal.get('doing') == step):
            self._set(swap_journal.advance(self.journal, step, at=self._at(), detail=detail))

    def fail(self, error):
        if self.journal is not None:
            self._set(swap_journal.fail(self.journal, error, at=self._at()))

    def close(self, state, outcome, error=''):
        if self.journal is not None:
            self._set(swap_journal.close(self.journal, state, outcome, at=self._at(), error=error))

    def reached(self, step):
        return swap_journal.reached(self.journal, step)

    def summary(self):
        return swap_journal.summary(self.journal)

    def _expect(self):
        if self.sha is None:
            raise JournalWriteError('the journal %s exists but could not be read, so it is not overwritten; fix its '
                                    'permissions or remove it by hand' % PATH)
        return self.sha

    def flush(self):
        """Write the pending content with a dedicated call (one round trip); nothing when nothing is pending."""
        if not (self.store and self.dirty):
            return False
        text = swap_journal.dumps(self.journal)
        res = self.call({'_journal_action': 'write', '_journal_text': text, '_journal_expected': self._expect()})
        if res.get('failed') or not res.get('written'):
            raise JournalWriteError(res.get('msg') or 'the journal was not written')
        self.sha = res.get('sha256') or text_sha256(text)
        self.dirty = False
        self.writes += 1
        return True

    def carry(self, done_step=None, detail=None):
        """The ``journal`` option of the residue module: the pending content, written before anything is
        deleted, and the content with ``done_step`` completed, written when the clean-up succeeded."""
        if not self.store or self.journal is None:
            return None
        args = {'expected': self._expect()}
        if self.dirty:
            args['text'] = swap_journal.dumps(self.journal)
        if done_step:
            args['done_text'] = swap_journal.dumps(self.scrub(
                swap_journal.advance(self.journal, done_step, at=self._at(), detail=detail)))
        if len(args) == 1:
            return None
        return args

    def carried(self, args, result):
        """Take in what the residue call wrote (``journal_file.written``: text, done_text)."""
        if not args:
            return
        state = (result or {}).get('journal_file') or {}
        written = state.get('written') or ()
        if 'text' in written:
            self.dirty = False
            self.sha = text_sha256(args['text'])
            self.writes += 1
        if 'done_text' in written:
            self.journal = swap_journal.parse(args['done_text'])
            self.dirty = False
            self.sha = text_sha256(args['done_text'])
            self.writes += 1
        if state.get('sha256'):
            self.sha = state['sha256']
