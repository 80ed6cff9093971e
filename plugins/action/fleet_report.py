# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Write the fleet report of a phase on the controller (see the module docs)."""

from __future__ import annotations

import datetime
import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.phaseout.antivirus.plugins.module_utils import dashboard, ledger, report, report_safety


def _atomic_write(path, text):
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


def _plain(value):
    """Round-trip through JSON so tagged/lazy template values become plain data."""
    return json.loads(json.dumps(value, default=to_text))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('phase', 'result_var', 'hosts', 'dest', 'print_summary', 'run_id'))
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        phase = args.get('phase')
        result_var = args.get('result_var')
        dest = args.get('dest')
        if not phase or not isinstance(phase, str):
            raise AnsibleActionFail('fleet_report: phase is required (discover, contain, preflight, replace or verify)')
        if not result_var or not isinstance(result_var, str):
            raise AnsibleActionFail('fleet_report: result_var is required: the name of the per-host registered result')
        if not dest or not isinstance(dest, str):
            raise AnsibleActionFail('fleet_report: dest is required: the artifacts directory on the controller')
        hosts = args.get('hosts') or task_vars.get('ansible_play_hosts_all') or []
        if not isinstance(hosts, list):
            raise AnsibleActionFail('fleet_report: hosts must be a list of inventory hostnames, got %s'
                                    % type(hosts).__name__)

        timestamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        hostvars = task_vars.get('hostvars', {})
        lost = self._ledger(args.get('run_id'), dest, phase)
        records = []
        for host in hosts:
            try:
                raw = hostvars[host].get(result_var)
            except KeyError:
                raw = None
            raw = _plain(raw) if raw is not None else None
            if raw is None and lost is not None:
                # lost during the run (unreachable): the ledger says where it was
                record = ledger.lost_record(host, lost.get(host), run_ended=True)
                record.update(phase=phase, timestamp=timestamp)
                records.append(report_safety.coerce_record(record, host, phase, timestamp))
                continue
            # one malformed host result is reported as such; it never stops the report of the others
            records.append(report_safety.safe_build(report.build_record, host, phase, raw, timestamp))

        waves = dashboard.waves_from_groups(task_vars.get('groups'))
        for record in records:  # the rollout wave, so the dashboard can merge waves and AWX job slices
            if waves.get(record['host']):
                record['wave'] = waves[record['host']]
        summary = report.summarize(phase, records, timestamp, check_mode=self._task.check_mode)
        run_id = args.get('run_id')
        if run_id:
            summary['run_id'] = run_id
        try:
            # a dry run writes beside the phase's real report (<phase>-dry-run), never over it
            base = report_safety.report_dir(os.path.expanduser(dest), phase, self._task.check_mode)
        except report_safety.UnsafeName as exc:
            raise AnsibleActionFail('fleet_report: %s' % exc)
        try:
            for record in records:
                try:
                    path = report_safety.safe_path(os.path.join(base, 'hosts'), record['host'])
                except report_safety.UnsafeName as exc:
                    record['error'] = ('%s; ' % record['error'] if record.get('error') else '') + str(exc)
                    continue  # in summary.json and summary.csv, with the reason, but no file of its own
                _atomic_write(path, json.dumps(record, indent=2, sort_keys=True) + '\n')
            text = json.dumps({'summary': summary, 'hosts': records}, indent=2, sort_keys=True) + '\n'
            _atomic_write(os.path.join(base, 'summary.json'), text)
            if run_id and ledger.valid_run_id(run_id):
                # each run (an AWX job slice is a run of its own) keeps its summary; the dashboard merges them
                _atomic_write(os.path.join(base, 'runs', run_id, 'summary.json'), text)
            _atomic_write(os.path.join(base, 'summary.csv'), report.to_csv(records))
        except OSError as exc:
            raise AnsibleActionFail('fleet_report: cannot write the report under %s: %s; '
                                    'set a writable artifacts directory' % (base, exc))

        try:  # the fleet dashboard next to the reports (docs/dashboard.md), never at the cost of the report
            result['dashboard'] = dashboard.write_dashboard(os.path.expanduser(dest), waves=waves)
        except Exception as exc:  # noqa: BLE001
            self._display.warning('fleet_report: the dashboard was not written: %s' % exc)
        result.update(
            changed=False,
            summary=summary,
            report_dir=base,
            files=[os.path.join(base, 'summary.json'), os.path.join(base, 'summary.csv')],
            # what ansible.builtin.set_stats returns: AWX keeps it as the job's artifact phaseout_<phase>
            ansible_stats={'data': {'phaseout_%s' % phase: summary}, 'per_host': False, 'aggregate': True},
        )
        if run_id:
            result['run_id'] = run_id
        if args.get('print_summary', True):
            result['msg'] = report.render_table(summary, records)
        return result

    @staticmethod
    def _ledger(run_id, dest, phase):
        """Per-host ledger state of this run (None without a run id or a ledger)."""
        if not run_id:
            return None
        if not ledger.valid_run_id(run_id):
            raise AnsibleActionFail('fleet_report: run_id %r is not a valid run id' % (run_id,))
        events = ledger.read(ledger.path_for(os.path.expanduser(dest), run_id))
        return ledger.hosts(events, phase=phase) if events else {}
