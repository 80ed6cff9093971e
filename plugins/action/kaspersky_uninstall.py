# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""kaspersky_uninstall on any host.

Linux: the module runs as is (Windows-only options are dropped). Windows: one collector
call (which also reads the swap journal), the plan made here
(plugins/module_utils/windows_uninstall.py), then one ansible.windows.win_package call
per MSI product in removal order, then, when the removal needs no reboot, one call of
the residue module with an explicit list. With ``journal``, the host's swap journal is
decided here (plugins/module_utils/windows_journal.py) and written before the first
uninstaller (one call of swap_journal.ps1) and, folded into the residue call, after
the uninstallers and after the clean-up. Check mode returns the plan after the single
collector call and changes nothing.
"""

from __future__ import annotations

import contextlib

from ansible.errors import AnsibleActionFail

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_journal as wj
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_uninstall as wu
from ansible_collections.phaseout.antivirus.plugins.plugin_utils.dispatch import LinuxOrWindowsAction, collect

ARGUMENT_SPEC = {
    'vendor': {'type': 'str', 'default': 'kaspersky', 'choices': sorted(catalog.VENDORS)},
    'products': {'type': 'list', 'elements': 'str', 'default': []},
    'exclude': {'type': 'list', 'elements': 'str', 'default': []},
    'force': {'type': 'bool', 'default': False},
    'purge_leftovers': {'type': 'bool', 'default': True},
    # Linux only (accepted so one task serves a mixed fleet; ignored on Windows).
    'purge_repositories': {'type': 'bool', 'default': True},
    'stop_services': {'type': 'bool', 'default': True},
    'activate': {'type': 'dict', 'options': {
        'command': {'type': 'list', 'elements': 'str', 'required': True},
        'check': {'type': 'list', 'elements': 'str'},
        'persist': {'type': 'list', 'elements': 'str'},
        'deactivate': {'type': 'list', 'elements': 'str'},
        'timeout': {'type': 'int', 'default': 60},
    }},
    'journal': {'type': 'dict', 'options': {
        'run_id': {'type': 'str', 'required': True},
        'provider': {'type': 'str', 'required': True},
    }},
    'command_timeout': {'type': 'int', 'default': 600},
    'lock_timeout': {'type': 'int', 'default': 300},
    # Windows only.
    'kes_login': {'type': 'str', 'default': 'KLAdmin'},
    'kes_password': {'type': 'str', 'no_log': True},
    'agent_password': {'type': 'str', 'no_log': True},
    'agent_password_encoding': {'type': 'str', 'default': 'utf16le_hex', 'choices': list(wu.PASSWORD_ENCODINGS)},
    'allow_encrypted': {'type': 'bool', 'default': False},
    'log_dir': {'type': 'str', 'default': 'C:\\Windows\\Temp'},
}
# Options the Linux module does not take: dropped before it runs, so group_vars shared by a
# mixed fleet do not break the Linux hosts.
WINDOWS_ONLY = frozenset(('agent_password_encoding', 'log_dir'))


class ActionModule(LinuxOrWindowsAction):
    MODULE = 'phaseout.antivirus.kaspersky_uninstall'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    WINDOWS_ONLY = WINDOWS_ONLY
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run_windows(self, result, args, task_vars):
        secrets = [s for s in (args.get('kes_password'), args.get('agent_password')) if s]
        try:
            result.update(self._run_windows(args, task_vars, secrets))
        except AnsibleActionFail as exc:
            raise AnsibleActionFail(wu.scrub(exc.message, secrets),
                                    result=wu.scrub(exc.result, secrets)) from None
        return wu.scrub(result, secrets)

    # ------------------------------------------------------------------ remote calls

    @contextlib.contextmanager
    def _secret_call(self, secret):
        """Run a call with no_log everywhere it is read, set before the call starts.

        The task's no_log becomes the module's _ansible_no_log (the host's event log does not record
        its arguments); the play context's no_log is what the connection plugins read when they log
        a command's output at -vvvvv (winrm's "WINRM RESULT ... out ..."; win_package echoes the
        msiexec command line with KLPASSWD when msiexec fails). The play context was built from the
        task before this action ran, so it is set here too, on the action's and the connection's.
        """
        if not secret:
            yield
            return
        contexts = [c for c in (self._play_context, getattr(self._connection, '_play_context', None)) if c is not None]
        saved = [(c, c.no_log) for c in {id(c): c for c in contexts}.values()]
        previous = self._task.no_log
        self._task.no_log = True
        for context, _old in saved:
            context.no_log = True
        try:
            yield
        finally:
            self._task.no_log = previous
            for context, old in saved:
                context.no_log = old

    def _remote(self, module_name, module_args, task_vars, secrets, secret=False):
        with self._secret_call(secret):
            raw = self._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        raw = dict(raw)
        raw.pop('invocation', None)
        if secret:
            # win_package echoes the command line (and the msiexec log) when msiexec fails.
            raw.pop('log', None)
        return wu.scrub(raw, secrets)

    def _collect(self, task_vars, vendor, secrets):
        raw, error = collect(self, task_vars, vendor)
        if error:
            raise AnsibleActionFail(wu.scrub(error, secrets))
        return raw

    # ------------------------------------------------------------------ Windows flow

    def _journal_call(self, task_vars, secrets):
        def call(module_args):
            return self._remote(wj.JOURNAL_MODULE, module_args, task_vars, secrets)
        return call

    def _run_windows(self, args, task_vars, secrets):
        vendor = args['vendor']
        journal_args = args.get('journal') or {}
        raw = self._collect(task_vars, vendor, secrets)
        before = windows.classify(raw, vendor=vendor)
        before_summary = windows.summary(before)
        # The journal an earlier run left, and what protects the host now, decide how this run starts.
        existing, journal_error, journal_sha = wj.read(raw.get('journal'))
        warnings = []
        if journal_error:
            warnings.append('%s; phaseout starts a new journal and decides from the host\'s real state' % journal_error)
        decision, reason = wj.decide(existing, before, journal_args.get('provider'))
        if decision == swap_journal.REACTIVATE:
            warnings.append('%s; the replacement\'s activation must follow (the replace role runs it next)' % reason)
        base = {'changed': False, 'plan': [], 'executed': [], 'removed': [], 'reboot_required': False,
                'reboot_reasons': [], 'before': before_summary, 'after': before_summary, 'detection': before,
                'decision': decision, 'decision_reason': reason,
                'replacement_was_active': wj.replacement_active(before, journal_args.get('provider')),
                'was_protected': bool(before.get('realtime_protection_active')),
                # Windows: the uninstaller and the provider's activation are separate tasks (docs/windows.md)
                'unprotected_window_s': None,
                'past_point_of_no_return': swap_journal.past_point_of_no_return(wj.reconcile(existing, before)),
                'journal': before.get('journal')}
        try:
            steps, calls, plan_warnings = wu.plan_uninstall(before, args)
        except wu.PlanError as exc:
            raise AnsibleActionFail('kaspersky_uninstall: %s' % exc, result=_with_warnings(base, warnings)) from None
        warnings.extend(plan_warnings)

        residue_steps, residue_args, skipped = [], {}, []
        predicted = before
        if args['purge_leftovers']:
            if steps:
                predicted = windows.classify(raw, vendor=vendor, assume_removed={s['product'] for s in steps})
                residue_steps, _unused, skipped = wu.plan_residue(predicted, raw, vendor)
            else:
                residue_steps, residue_args, skipped = wu.plan_residue(before, raw, vendor)
        warnings.extend(_skipped_warnings(skipped))

        plan = steps + residue_steps
        result = dict(base, plan=plan, removed=sorted({s['product'] for s in steps}))
        journal = wj.WindowsJournal(self._journal_call(task_vars, secrets), existing, journal_sha,
                                    store=bool(journal_args) and not self._task.check_mode,
                                    scrub=lambda value: wu.scrub(value, secrets))
        if not plan:
            result.update(removed=[], diff={'before': before_summary, 'after': before_summary})
            if journal.store and swap_journal.is_open(existing) and before['verdict'] == 'clean' and \
                    not args['exclude'] and not args['products']:
                # nothing of Kaspersky is left: a rerun (or the run's last removal call) records the clean-up
                journal.open(journal_args['run_id'], journal_args['provider'], before)
                if journal.reached('replacement_active'):
                    journal.checkpoint('cleaned', detail='nothing of Kaspersky is left')
                try:
                    journal.flush()
                except wj.JournalWriteError as exc:
                    raise AnsibleActionFail('kaspersky_uninstall: the swap journal could not be written: %s' % exc,
                                            result=_with_warnings(result, warnings)) from None
                result.update(changed=journal.writes > 0, journal=journal.summary(),
                              detection=dict(before, journal=journal.summary()))
            return _with_warnings(result, warnings)
        if self._task.check_mode:
            if steps:
                warnings.append('check mode: the residue steps are a prediction; the real run reads the host again '
                                'after the uninstallers')
            result.update(changed=True, after=windows.summary(predicted),
                          diff={'before': before_summary, 'after': windows.summary(predicted)})
            return _with_warnings(result, warnings)

        # Write-ahead: the journal names the run, the products and services found and, when the protecting
        # products go, "kaspersky_removed under way", before the first uninstaller runs (its own round trip;
        # a residue-only run folds it into the residue call).
        protecting_before = wj.protecting_installed(before)
        if journal.store:
            journal.open(journal_args['run_id'], journal_args['provider'], before)
            if protecting_before and set(protecting_before) <= {s['product'] for s in steps}:
                journal.begin('kaspersky_removed')
        if steps:
            try:
                journal.flush()
            except wj.JournalWriteError as exc:
                raise AnsibleActionFail('kaspersky_uninstall: the swap journal could not be written before the first '
                                        'uninstaller: %s; nothing was changed' % exc,
                                        result=_with_warnings(result, warnings)) from None

        executed = []
        removed = []
        reasons = []
        failure = None
        failed_step = None
        for step, (module_args, secret) in zip(steps, calls):
            res = self._remote(wu.WIN_PACKAGE, module_args, task_vars, secrets, secret=secret)
            outcome = wu.interpret_rc(step, res, step['password_supplied'])
            done = dict(step, outcome=outcome['outcome'], rc=outcome['rc'], msg=outcome['msg'])
            executed.append(done)
            if outcome['outcome'] in ('removed', 'reboot') and step['product'] not in removed:
                removed.append(step['product'])
            if outcome['reboot_required']:
                reasons.append('%s: msiexec rc %s' % (step['product'], outcome['rc']))
            elif outcome['outcome'] == 'removed' and step.get('reboot_after'):
                reasons.append('%s: Kaspersky home products finish their removal at the next reboot' % step['product'])
            if outcome['outcome'] in ('password_rejected', 'error'):
                failure, failed_step = outcome['msg'], done
                for key in ('stdout', 'stderr'):
                    if res.get(key):
                        done[key] = res[key]
                break

        state_raw, state = raw, before
        if executed:
            state_raw = self._collect(task_vars, vendor, secrets)
            state = windows.classify(state_raw, vendor=vendor)

        # The journal after the uninstallers: kaspersky_removed when no protecting product is left (an
        # uninstaller that asked for a reboot has done its part); a failure before any protecting product
        # went, with Kaspersky protecting again, closes it as rolled back; any other failure keeps it open.
        removed_protecting = sorted({s['product'] for s in executed
                                     if s['outcome'] in ('removed', 'reboot') and wj.protecting(s['product'])})
        protecting_left = sorted(set(wj.protecting_installed(state)) - set(removed_protecting))
        journal_failed = False
        if failure is not None and not removed_protecting and state.get('realtime_protection_active') and \
                not swap_journal.past_point_of_no_return(journal.journal):
            journal.close('rolled_back', 'failed', error='%s; Kaspersky still protects the host' % failure)
            journal_failed = True
        elif not protecting_left:
            journal.checkpoint('kaspersky_removed', detail=(
                ('removed %s%s' % (', '.join(removed_protecting), ' (reboot pending)' if reasons else ''))
                if removed_protecting else 'no protecting product is installed'))

        if failure is None and args['purge_leftovers']:
            if reasons:
                warnings.append('residue clean-up waits for the reboot: run the removal again once the host '
                                'has restarted')
                residue_args, residue_steps = {}, []
            elif executed:
                residue_steps, residue_args, skipped = wu.plan_residue(state, state_raw, vendor)
                warnings.extend(_skipped_warnings(skipped))
            logs = sorted({s['log_path'] for s in executed if s.get('log_path') and s.get('outcome') in ('removed', 'reboot')})
            if logs:
                # msiexec logs may hold property values: removed once the uninstallers succeeded.
                residue_args = dict(residue_args, logs=logs)
            only_logs = set(residue_args) == {'logs'}
            # "cleaned": nothing of the vendor installed or waiting for a reboot, the replacement recorded active
            cleaned = journal.reached('replacement_active') and state.get('verdict') != 'installed' and not reasons \
                and not any('reboot' in item['reason'] for item in skipped)
            if residue_args:
                residue_args.update(_guards(vendor))
                try:
                    carried = journal.carry('cleaned' if cleaned else None, detail='leftovers cleaned')
                except wj.JournalWriteError as exc:
                    done_so_far = 'the uninstallers ran, nothing was cleaned' if executed else 'nothing was changed'
                    raise AnsibleActionFail('kaspersky_uninstall: the swap journal could not be written before the '
                                            'clean-up: %s; %s' % (exc, done_so_far),
                                            result=_with_warnings(dict(result, executed=executed, removed=removed),
                                                                  warnings)) from None
                if carried:
                    residue_args['journal'] = carried
                res = self._remote(windows.RESIDUE_MODULE, residue_args, task_vars, secrets)
                journal.carried(carried, res)
                done_targets = {(r.get('type'), r.get('target')) for r in res.get('removed') or ()}
                for step in residue_steps:
                    kind = step['action'][len('remove_'):]
                    hit = (kind, step['target']) in done_targets
                    executed.append(dict(step, outcome='removed' if hit else 'absent'))
                if res.get('failed'):
                    failure = 'residue clean-up failed: %s' % res.get('msg', 'no message')
                    failed_step = {'action': 'residue', 'errors': res.get('errors') or []}
                elif cleaned and not journal.reached('cleaned'):
                    journal.checkpoint('cleaned', detail='leftovers cleaned')
                if not only_logs:
                    state_raw = self._collect(task_vars, vendor, secrets)
                    state = windows.classify(state_raw, vendor=vendor)
            elif cleaned:
                journal.checkpoint('cleaned', detail='nothing left to clean')

        if failure is not None and not journal_failed:
            journal.fail(failure)
        try:
            journal.flush()
        except wj.JournalWriteError as exc:
            failure = ('%s; the swap journal could not be written either: %s' % (failure, exc)) if failure \
                else 'the swap journal could not be written: %s' % exc
            failed_step = failed_step or {'action': 'journal'}

        after = state
        for lo in after.get('leftovers') or ():
            if lo['type'] == 'driver' and (lo.get('active') or lo.get('delete_pending')):
                still = 'loaded' if lo.get('active') else 'marked for deletion'
                reasons.append('driver %s is still %s' % (lo['name'], still))
        if journal.store:
            after = dict(after, journal=journal.summary())
        after_summary = windows.summary(after)
        result.update({
            'changed': any(s.get('outcome') in ('removed', 'reboot') for s in executed) or journal.writes > 0,
            'executed': executed,
            'removed': removed,
            'reboot_required': bool(reasons),
            'reboot_reasons': reasons,
            'after': after_summary,
            'detection': after,
            'diff': {'before': before_summary, 'after': after_summary},
            'journal': after.get('journal'),
            'past_point_of_no_return': bool(swap_journal.past_point_of_no_return(journal.journal)
                                            or removed_protecting or result['past_point_of_no_return']),
        })
        if failure:
            result.update(failed=True, failed_step=failed_step,
                          msg='kaspersky_uninstall: %s (completed steps are in "executed"; rerun to continue)'
                              % failure)
        else:
            result['msg'] = _summary_msg(removed, after, bool(reasons))
        return _with_warnings(result, warnings)


def _skipped_warnings(skipped):
    return ['left in place: %s %s (%s)' % (item['item']['type'],
                                           item['item'].get('name') or item['item'].get('path'), item['reason'])
            for item in skipped]


def _guards(vendor):
    """Patterns the residue module re-checks every item against (defence in depth)."""
    vendor_data = catalog.VENDORS[vendor]
    services = [rx for p in catalog.products(windows.PLATFORM, vendor)
                for rx in tuple(p['windows'].get('services', ())) + tuple(p['windows'].get('drivers', ()))]
    services.extend(vendor_data.get('windows_drivers', ()))
    processes = sorted({p.lower()[:-4] if p.lower().endswith('.exe') else p.lower()
                        for product in catalog.products(windows.PLATFORM, vendor)
                        for p in product['windows'].get('processes', ())})
    return {
        'process_names': processes,
        'service_pattern': windows.combine(services),
        'filter_pattern': vendor_data['windows_filter_drivers'],
        'certificate_pattern': vendor_data['windows_certificates'],
        'name_pattern': vendor_data['windows_display_name'],
    }


def _with_warnings(result, warnings):
    if warnings:
        result['warnings'] = list(warnings)
    return result


def _summary_msg(removed, after, reboot):
    text = 'removed %s' % (', '.join(removed) if removed else 'nothing')
    text += '; host is now %s' % after.get('verdict')
    if reboot:
        text += '; a reboot is required'
    return text
