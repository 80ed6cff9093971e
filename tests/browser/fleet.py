# SPDX-License-Identifier: GPL-3.0-or-later
"""Report trees for the dashboard tests, written the way the fleet_report action writes them.

The raw per-host results are shaped like what the phase roles register
(kaspersky_info for discover, the contain/replace/verify records, preflight_check),
and go through the real plugins/module_utils/report.py (build_record, summarize,
to_csv) into <artifacts>/<phase>/summary.json, summary.csv and hosts/<host>.json.

    lab_fleet(artifacts)             the 10-host lab after discover -> contain -> replace -> verify,
                                     with a hostile host name
    synthetic_fleet(artifacts, n)    n hosts, three waves replaced on three days, every outcome
"""
from __future__ import annotations

import datetime
import json
import os
import random
import sys
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTIONS = os.path.join(ROOT, 'collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.phaseout.antivirus.plugins.module_utils import report  # noqa: E402

HOSTILE = '<script>window.__pwned=1</script>"\'&amp;x'


def host_file_name(host):
    """The record's file name: the collection's safe name (report_safety) when it has one, else a quoted one."""
    try:
        from ansible_collections.phaseout.antivirus.plugins.module_utils import report_safety
        return report_safety.safe_filename(host)
    except ImportError:
        return urllib.parse.quote(host, safe='') + '.json'


def write_phase(artifacts, phase, results, timestamp, check_mode=False, waves=None, subdir=None, beside=False):
    """Records from raw results {host: result} through report.py, written like fleet_report does.

    beside: a dry run goes to <phase>-dry-run/ (as report_safety.report_dir has it), else over the real one."""
    records = []
    for host, raw in results.items():
        record = report.build_record(host, phase, raw, timestamp)
        if waves and host in waves:
            record['groups'] = ['lab', waves[host]]
        records.append(record)
    summary = report.summarize(phase, records, timestamp, check_mode=check_mode)
    base = os.path.join(artifacts, phase + ('-dry-run' if check_mode and beside else ''), subdir or '')
    os.makedirs(os.path.join(base, 'hosts'), exist_ok=True)
    for record in records:
        name = host_file_name(record['host'])
        if not name.endswith('.json'):
            name += '.json'
        with open(os.path.join(base, 'hosts', name), 'w', encoding='utf-8') as handle:
            json.dump(record, handle, indent=2, sort_keys=True)
    with open(os.path.join(base, 'summary.json'), 'w', encoding='utf-8') as handle:
        json.dump({'summary': summary, 'hosts': records}, handle, indent=2, sort_keys=True)
    with open(os.path.join(base, 'summary.csv'), 'w', encoding='utf-8') as handle:
        handle.write(report.to_csv(records))
    return summary


# --- raw results, shaped like the roles' ---------------------------------------------------------

def discover_result(state):
    installed = {'kesl12_agent': ['kesl', 'klnagent'], 'kesl11': ['kesl'], 'agent_only': ['klnagent'],
                 'stopped': ['kesl', 'klnagent'], 'kav4fs': ['kav4fs'], 'kesl12_gui': ['kesl', 'kesl-gui', 'klnagent']
                 }.get(state, [])
    residue = ['kesl'] if state == 'half_removed' else []
    verdict = 'installed' if installed else 'residue' if residue else 'clean'
    return {'changed': False, 'verdict': verdict, 'platform': 'linux', 'installed': installed, 'residue': residue,
            'admin_server': 'ksc.lab.example' if 'klnagent' in installed else None,
            'realtime_protection_active': bool(installed) and state != 'stopped',
            'products': [{'id': p, 'name': p.upper(), 'kind': 'endpoint', 'state': 'installed', 'version': '12.1',
                          'removable': True} for p in installed],
            'leftovers': ['/var/opt/kaspersky'] if residue else []}


def contain_result(installed, outcome='contained', error=''):
    return {'status': 'ok' if outcome in ('contained', 'skipped', 'planned') else 'failed', 'outcome': outcome,
            'verdict': outcome, 'state': 'present', 'check_mode': False, 'backend': 'nftables',
            'rule_count': 7 if outcome == 'contained' else 0, 'installed': installed, 'failed_step': '',
            'error': error}


def replace_result(outcome, removed=(), window=None, error='', failed_step='', reboot=False):
    ok = outcome in ('replaced', 'compliant')
    return {'status': 'ok' if ok else 'failed', 'outcome': outcome, 'verdict': outcome,
            'provider': 'clamav' if outcome != 'fallback' else 'clamav', 'provider_healthy': ok or None,
            'removed': list(removed), 'unprotected_window_s': window,
            'unprotected_window_clock': 'host', 'was_protected': window is not None, 'reboot_required': reboot,
            'blockers': [error] if outcome == 'blocked' and error else [], 'failed_step': failed_step,
            'error': error}


def verify_result(compliant, started, reasons=()):
    finished = (started + datetime.timedelta(seconds=6)).isoformat()
    return {'status': 'ok' if compliant else 'failed', 'verdict': 'compliant' if compliant else 'noncompliant',
            'compliant': compliant, 'started_at': started.isoformat(), 'finished_at': finished,
            'kaspersky_absent': compliant, 'provider': 'clamav', 'provider_healthy': compliant,
            'reasons': list(reasons), 'error': '' if compliant else '; '.join(reasons)}


def preflight_result(ready, blockers=()):
    return {'changed': False, 'ready': ready, 'blockers': list(blockers), 'warnings': [],
            'detection': {'installed': ['kesl'], 'residue': []}, 'facts': {'disk_free_mb': 2048}}


UNREACHABLE = {'unreachable': True, 'changed': False,
               'msg': 'Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 2205: '
                      'Connection refused'}

LAB_STATES = ('kesl12_agent', 'kesl11', 'agent_only', 'stopped', 'half_removed', 'kav4fs', 'clamav',
              'kesl12_gui', 'clean')


def lab_fleet(artifacts, start=None):
    """The lab of lab/manifest.yml after `make demo`, plus a hostile host name. Returns the host list."""
    start = start or datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)
    hosts = ['lab%02d' % i for i in range(1, 10)] + [HOSTILE]
    states = dict(zip(hosts, LAB_STATES + ('kesl11',)))
    waves = {h: 'wave_pilot' if i < 2 else 'wave_1' for i, h in enumerate(hosts)}
    stamp = [start + datetime.timedelta(minutes=m) for m in (0, 2, 4, 9)]
    write_phase(artifacts, 'discover', {h: discover_result(states[h]) for h in hosts}, stamp[0].isoformat(),
                waves=waves)
    contain = {}
    for host in hosts:
        found = discover_result(states[host])
        contain[host] = contain_result(found['installed'], 'contained' if found['installed'] else 'skipped')
    write_phase(artifacts, 'contain', contain, stamp[1].isoformat(), waves=waves)
    replace = {}
    for index, host in enumerate(hosts):
        found = discover_result(states[host])
        if host == HOSTILE:
            replace[host] = replace_result('failed', error='stop kesl: <b>rc=1</b> "quoted" & more',
                                           failed_step='kaspersky_stopped')
        elif states[host] == 'kav4fs':
            replace[host] = replace_result('fallback', removed=['kav4fs'], window=3.4,
                                           error='clamonacc did not start', failed_step='activate')
        elif found['installed']:
            window = None if states[host] == 'stopped' else round(0.8 + 0.37 * index, 2)
            replace[host] = replace_result('replaced', removed=found['installed'], window=window)
        else:
            replace[host] = replace_result('compliant', removed=found['residue'])
    write_phase(artifacts, 'replace', replace, stamp[2].isoformat(), waves=waves)
    verify = {}
    for host in hosts:
        if replace[host]['outcome'] in ('replaced', 'compliant'):
            verify[host] = verify_result(True, stamp[3])
        else:
            verify[host] = verify_result(False, stamp[3], reasons=['Kaspersky still installed: kesl'])
    write_phase(artifacts, 'verify', verify, stamp[3].isoformat(), waves=waves)
    return hosts


def synthetic_fleet(artifacts, count=1000, seed=11, slices=None):
    """count hosts in three waves, replaced on three days (one report per wave), with every outcome.

    slices: write the replace report of the last wave as that many AWX job slices
    (each under replace/slices/<n>/, each with its own summary), as sliced jobs do."""
    rng = random.Random(seed)
    day0 = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.timezone.utc)
    hosts = ['srv-%s-%04d.corp.example' % (rng.choice(('web', 'db', 'app', 'fs', 'ws')), i)
             for i in range(1, count + 1)]
    pilot, first = max(1, count // 20), max(2, count * 2 // 5)
    waves = {h: ('wave_pilot' if i < pilot else 'wave_1' if i < first else 'wave_vital') for i, h in enumerate(hosts)}
    states = {h: rng.choice(LAB_STATES[:6] + ('kesl12_agent',) * 6 + ('clamav', 'clean')) for h in hosts}
    write_phase(artifacts, 'discover', {h: (UNREACHABLE if rng.random() < 0.01 else discover_result(states[h]))
                                        for h in hosts}, day0.isoformat(), waves=waves)
    outcomes = {}
    for day, wave in enumerate(('wave_pilot', 'wave_1', 'wave_vital')):
        members = [h for h in hosts if waves[h] == wave]
        when = day0 + datetime.timedelta(days=day + 1)
        preflight, replace, verify = {}, {}, {}
        for host in members:
            roll = rng.random()
            if roll < 0.03:
                preflight[host] = preflight_result(False, ['less than 500 MB free on /var'])
                replace[host] = replace_result('blocked', error='less than 500 MB free on /var',
                                               failed_step='preflight')
            elif roll < 0.05:
                preflight[host] = preflight_result(True)
                replace[host] = replace_result('failed', error='clamd did not become ready in 120 s; '
                                               'Kaspersky restarted', failed_step='activate')
            elif roll < 0.06:
                preflight[host] = preflight_result(True)
                replace[host] = replace_result('fallback', removed=['kesl'], window=round(rng.uniform(2, 9), 2),
                                               error='mdatp health: real_time_protection_enabled false',
                                               failed_step='verify')
            elif roll < 0.065:
                preflight[host] = preflight_result(True)
                replace[host] = UNREACHABLE
            elif roll < 0.067:
                preflight[host] = preflight_result(True)
                replace[host] = replace_result('unprotected', removed=['kesl'], window=None,
                                               error='fallback clamav failed: apt lock held', failed_step='fallback')
            else:
                preflight[host] = preflight_result(True)
                found = discover_result(states[host])['installed']
                if found:
                    replace[host] = replace_result('replaced', removed=found,
                                                   window=round(rng.lognormvariate(0.2, 0.6), 2),
                                                   reboot=rng.random() < 0.01)
                else:
                    replace[host] = replace_result('compliant')
            outcomes[host] = replace[host].get('outcome', 'unreachable')
            ok = outcomes[host] in ('replaced', 'compliant') and rng.random() > 0.01
            verify[host] = verify_result(ok, when + datetime.timedelta(hours=1),
                                         reasons=() if ok else ['replacement not healthy: clamonacc not running'])
        write_phase(artifacts, 'preflight', preflight, (when - datetime.timedelta(hours=1)).isoformat(), waves=waves,
                    subdir=None)
        if slices and wave == 'wave_vital':
            names = sorted(replace)
            for number in range(slices):
                part = {h: replace[h] for h in names[number::slices]}
                write_phase(artifacts, 'replace', part, (when + datetime.timedelta(minutes=number)).isoformat(),
                            waves=waves, subdir=os.path.join('slices', str(number + 1)))
        else:
            write_phase(artifacts, 'replace', replace, when.isoformat(), waves=waves)
        write_phase(artifacts, 'verify', verify, (when + datetime.timedelta(hours=1)).isoformat(), waves=waves)
    return hosts
