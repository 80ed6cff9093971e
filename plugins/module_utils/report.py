# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Fleet report: per-host records, totals, and CSV, for every phase.

Pure functions: the fleet_report action plugin feeds them the registered
results of each host and writes what they return.
"""

from __future__ import annotations

import csv
import io

from ansible_collections.phaseout.antivirus.plugins.module_utils import report_safety

# Columns of the fleet CSV, in order. Every phase fills the ones it knows.
CSV_COLUMNS = (
    'host', 'phase', 'status', 'verdict', 'installed', 'removed', 'residue', 'admin_server',
    'provider', 'provider_healthy', 'outcome', 'protection', 'containment', 'unprotected_window_s', 'reboot_required',
    'failed_step', 'journal', 'error', 'timestamp',
)
# Outcomes and verdicts that put a host on the "needs attention" list.
ATTENTION_OUTCOMES = ('failed', 'fallback', 'unprotected', 'removal_incomplete', 'degraded', 'unreachable',
                      'interrupted', 'blocked')


def host_status(result):
    """Classify one host's registered result: ok, failed, unreachable, skipped or missing."""
    if result is None:
        return 'missing'
    if result.get('unreachable'):
        return 'unreachable'
    if result.get('failed'):
        return 'failed'
    if result.get('skipped'):
        return 'skipped'
    return 'ok'


def error_message(result):
    if not result:
        return 'no result: the host did not run the task (it failed or was unreachable earlier in the play)'
    msg = result.get('msg') or result.get('stderr') or ''
    return ' '.join(str(msg).split())[:500]


def discover_record(host, result, timestamp):
    status = host_status(result)
    record = {'host': host, 'phase': 'discover', 'status': status, 'timestamp': timestamp}
    if status != 'ok':
        record['error'] = error_message(result)
        record['verdict'] = 'unknown'
        return record
    record.update({
        'verdict': result.get('verdict'),
        'platform': result.get('platform'),
        'installed': list(result.get('installed', [])),
        'residue': list(result.get('residue', [])),
        'admin_server': result.get('admin_server'),
        'realtime_protection_active': result.get('realtime_protection_active'),
        # what protects the host right now, and an interrupted swap the host's journal records
        'protection': result.get('protection'),
        'realtime_engines': list(result.get('realtime_engines') or []),
        'journal': result.get('journal'),
        # the contain phase's blocking still in force (intact), flushed by another tool (lapsed), or none
        'containment': _containment(result.get('containment')),
        'containment_detail': result.get('containment') if isinstance(result.get('containment'), dict) else None,
        'products': [
            {k: p.get(k) for k in ('id', 'name', 'kind', 'state', 'version', 'removable')}
            for p in result.get('products', [])
        ],
        'leftovers': list(result.get('leftovers', [])),
        'detail': {k: result.get(k) for k in ('products', 'package_managers', 'kernel_modules', 'windows')
                   if result.get(k) is not None},
    })
    return record


def generic_record(host, phase, result, timestamp):
    """Records of phases whose roles already build their own record dict."""
    status = host_status(result)
    record = {'host': host, 'phase': phase, 'status': status, 'timestamp': timestamp}
    if status != 'ok':
        record['error'] = error_message(result)
        record['verdict'] = 'unknown'
        if isinstance(result, dict) and isinstance(result.get('record'), dict):
            record.update({k: v for k, v in result['record'].items() if k not in record})
        return record
    body = result.get('record', result) if isinstance(result, dict) else {}
    record.update({k: v for k, v in body.items() if k not in ('changed', 'failed', 'invocation')})
    record['status'] = body.get('status', status)
    return record


def _containment(value):
    """kaspersky_info's containment dict (or its one word) -> intact, lapsed, none, unknown or None."""
    if isinstance(value, dict):
        return value.get('containment')
    return value if isinstance(value, str) else None


def preflight_record(host, result, timestamp):
    status = host_status(result)
    record = {'host': host, 'phase': 'preflight', 'status': status, 'timestamp': timestamp}
    if status != 'ok':
        record.update(error=error_message(result), verdict='unknown')
        return record
    detection = result.get('detection') or {}
    record.update({
        'verdict': 'ready' if result.get('ready') else 'blocked',
        'blockers': list(result.get('blockers', [])),
        'warnings': list(result.get('warnings', [])),
        'installed': list(detection.get('installed', [])),
        'residue': list(detection.get('residue', [])),
        'error': '; '.join(result.get('blockers', [])),
        'facts': result.get('facts', {}),
        'protection': detection.get('protection'),
        'journal': detection.get('journal'),
    })
    return record


BUILDERS = {'discover': discover_record, 'preflight': preflight_record}


def build_record(host, phase, result, timestamp):
    builder = BUILDERS.get(phase)
    if builder:
        return builder(host, result, timestamp)
    return generic_record(host, phase, result, timestamp)


def summarize(phase, records, timestamp, check_mode=False):
    """Totals for set_stats and the fleet summary file."""
    by_status = {}
    by_verdict = {}
    by_outcome = {}
    by_product = {}
    for record in records:
        by_status[record['status']] = by_status.get(record['status'], 0) + 1
        verdict = record.get('verdict')
        if verdict:
            by_verdict[verdict] = by_verdict.get(verdict, 0) + 1
        outcome = record.get('outcome')
        if outcome:
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
        for product in record.get('installed') or record.get('removed') or []:
            by_product[product] = by_product.get(product, 0) + 1
    attention = sorted(
        (r['host'] for r in records
         if r['status'] not in ('ok', 'skipped') or r.get('verdict') in ('installed', 'residue', 'unprotected', 'blocked')
         or r.get('outcome') in ATTENTION_OUTCOMES or (r.get('journal') or {}).get('interrupted')
         or r.get('containment') == 'lapsed'),
    )
    return {
        'phase': phase,
        'timestamp': timestamp,
        'check_mode': bool(check_mode),
        'hosts': len(records),
        'status': dict(sorted(by_status.items())),
        'verdict': dict(sorted(by_verdict.items())),
        'outcome': dict(sorted(by_outcome.items())),
        # discover/preflight: what is installed; replace: what was removed
        'installed_products' if phase != 'replace' else 'removed_products': dict(sorted(by_product.items())),
        'needs_attention': attention,
    }


def to_csv(records):
    """The fleet CSV; every cell neutralized so a spreadsheet never runs one as a formula."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction='ignore', lineterminator='\n')
    writer.writeheader()
    for record in sorted(records, key=lambda r: str(r.get('host'))):
        row = {}
        for column in CSV_COLUMNS:
            value = record.get(column)
            if column == 'journal' and isinstance(value, dict):
                value = value.get('message') or value.get('state') or ''
            if isinstance(value, bool):
                value = 'yes' if value else 'no'
            row[column] = report_safety.csv_cell(value)
        writer.writerow(row)
    return buffer.getvalue()


def render_table(summary, records):
    """A short human-readable fleet summary for the console."""
    lines = ['phaseout %s: %d host(s)%s' % (summary['phase'], summary['hosts'],
                                            ' [dry run]' if summary['check_mode'] else '')]
    for title, key in (('status', 'status'), ('verdict', 'verdict'), ('outcome', 'outcome'),
                       ('installed', 'installed_products'), ('removed', 'removed_products')):
        if summary.get(key):
            lines.append('  %-9s %s' % (title + ':', ', '.join('%s=%s' % kv for kv in summary[key].items())))
    width = max([len(r['host']) for r in records] + [4])
    for record in sorted(records, key=lambda r: r['host']):
        detail = record.get('outcome') or record.get('verdict') or ''
        extra = ' '.join(record.get('installed') or record.get('removed') or record.get('residue') or [])
        if record.get('unprotected_window_s') is not None:
            extra += ' (unprotected %ss)' % record['unprotected_window_s']
        if record.get('error'):
            extra = record['error'][:120]
        journal = record.get('journal') if isinstance(record.get('journal'), dict) else {}
        if journal.get('interrupted'):
            # an unfinished swap on the host, and what protects it right now
            extra = ('swap %s; protection: %s. %s' % (
                journal.get('message') or 'interrupted', record.get('protection') or 'unknown', extra)).strip()[:200]
        lines.append('  %-*s  %-11s %-12s %s' % (width, record['host'], record['status'], detail, extra))
    return lines
