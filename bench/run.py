#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""phaseout's benchmark: every phase at every lab size, side by side, with the CPU split.

    bench/run.py [--sizes 10,100,250] [--phases ping,discover,discover-nocli,naive,replace,rerun,verify]
                 [--phases-at 250=ping,discover] [--runs 3] [--provider clamav] [--prefix bench] [--port-base 4001] [--out DIR]

For each size it starts a lab of that many hosts (lab/lab.sh up, the default
state mix of lab/manifest.yml), runs the phases in order and measures each one:

- wall time; the machine's load average (1 min) before and after;
- the controller's CPU: every measured command runs in a cpuacct cgroup of its
  own, which its ansible workers and its SSH connections (the ControlPersist
  masters too) inherit; its memory: the peak RSS of the same processes
  (a memory cgroup under this process's own, sampled every 0.5 s);
- the hosts' CPU: the lab containers are cgroups, read before and after
  (cpuacct.usage of each container); their memory after the phase;
- task results per host (what the PLAY RECAP counts: ok, failed, skipped,
  unreachable) and the events an AWX job would store per host
  (bench/callback_plugins/bench_events.py);
- for replace: the outcomes and the unprotected window (median, max) that
  kaspersky_uninstall measured on each host.

discover-nocli is discover without the products' own CLIs (discover_query_cli=false):
the difference between the two is what kesl-control and klnagchk cost, the
difference between it and ping what phaseout's detection costs. ping and the two
discovers are the median of --runs runs, taken in turns (ping, discover,
discover-nocli, ping, ...) after one warm-up ping that opens the SSH connections
the same way for all; the others run once. It
prints the figures side by side and writes them to OUT/bench-<time>.json and
.md. It asserts nothing: figures only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPUACCT = '/sys/fs/cgroup/cpuacct'
MEMORY = '/sys/fs/cgroup/memory'
PHASES = ('ping', 'discover', 'discover-nocli', 'naive', 'replace', 'rerun', 'verify')
REPEATED = ('ping', 'discover', 'discover-nocli')  # the median of --runs runs, taken in turns
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)')


def log(message):
    sys.stderr.write('[bench %s] %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stderr.flush()


def loadavg():
    with open('/proc/loadavg', encoding='ascii') as handle:
        return float(handle.read().split()[0])


def read_int(path):
    try:
        with open(path, encoding='ascii') as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- the controller's cgroups ------------------------------------------------------------------

class ControllerCgroup:
    """A cpuacct cgroup (and a memory cgroup under ours) that the measured commands run in."""

    def __init__(self):
        name = 'phaseout-bench-%d' % os.getpid()
        self.cpu = os.path.join(CPUACCT, name)
        own = ''
        with open('/proc/self/cgroup', encoding='ascii') as handle:
            for line in handle:
                parts = line.strip().split(':', 2)
                if len(parts) == 3 and 'memory' in parts[1].split(','):
                    own = parts[2]
        self.mem = os.path.join(MEMORY, own.lstrip('/'), name)
        self.ok = True
        for path in (self.cpu, self.mem):
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                log('no cgroup %s (%s): controller CPU and memory will not be measured' % (path, exc))
                self.ok = False

    def wrap(self, argv):
        """argv run inside the cgroups (the shell moves itself in, then execs)."""
        if not self.ok:
            return argv
        return ['/bin/sh', '-c', 'echo $$ > %s/cgroup.procs && echo $$ > %s/cgroup.procs && exec "$@"'
                % (self.cpu, self.mem), 'sh'] + list(argv)

    def cpu_seconds(self):
        value = read_int(os.path.join(self.cpu, 'cpuacct.usage')) if self.ok else None
        return value / 1e9 if value is not None else None

    def rss(self):
        try:
            with open(os.path.join(self.mem, 'memory.stat'), encoding='ascii') as handle:
                for line in handle:
                    if line.startswith('total_rss '):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def pids(self):
        pids = []
        for path in (os.path.join(self.cpu, 'cgroup.procs'), os.path.join(self.mem, 'cgroup.procs')):
            try:
                with open(path, encoding='ascii') as handle:
                    pids += [int(p) for p in handle.read().split()]
            except OSError:
                pass
        return sorted(set(pids))

    def close(self):
        """End what is left in the cgroups (the SSH masters the measured commands started), then remove them."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.time() + 10
        while self.pids() and time.time() < deadline:
            time.sleep(0.5)
        for path in (self.cpu, self.mem):
            try:
                os.rmdir(path)
            except OSError:
                pass


class PeakSampler(threading.Thread):
    def __init__(self, cgroup):
        super().__init__(daemon=True)
        self.cgroup = cgroup
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            value = self.cgroup.rss()
            if value:
                self.peak = max(self.peak, value)
            self.stop.wait(0.5)


# --- the lab's cgroups -------------------------------------------------------------------------

def lab_containers(prefix):
    out = subprocess.run(['podman', 'ps', '-q', '--no-trunc', '--filter', 'label=phaseout.lab.prefix=%s' % prefix],
                         capture_output=True, text=True, check=False).stdout.split()
    return out


def hosts_cpu(ids):
    total = 0
    for cid in ids:
        value = read_int(os.path.join(CPUACCT, 'libpod_parent', 'libpod-%s' % cid, 'cpuacct.usage'))
        if value is None:
            return None
        total += value
    return total / 1e9


def hosts_memory(ids):
    """Sum of the containers' RSS and of their page cache, in bytes."""
    rss = cache = 0
    for cid in ids:
        try:
            with open(os.path.join(MEMORY, 'libpod_parent', 'libpod-%s' % cid, 'memory.stat'), encoding='ascii') as h:
                stat = dict(line.split() for line in h if line.strip())
        except OSError:
            return None
        rss += int(stat.get('total_rss', 0)) + int(stat.get('total_shmem', 0))
        cache += int(stat.get('total_cache', 0)) - int(stat.get('total_shmem', 0))
    return {'rss': rss, 'cache': cache}


# --- one measured command ------------------------------------------------------------------------

def measure(name, argv, env, cgroup, ids, hosts, logdir):
    events = os.path.join(logdir, '%s.events.json' % name)
    env = dict(env, PHASEOUT_BENCH_EVENTS=events)
    logfile = os.path.join(logdir, '%s.log' % name)
    sampler = PeakSampler(cgroup)
    load0, cpu0, host0 = loadavg(), cgroup.cpu_seconds(), hosts_cpu(ids)
    sampler.start()
    start = time.time()
    with open(logfile, 'w', encoding='utf-8') as out:
        rc = subprocess.run(cgroup.wrap(argv), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            check=False).returncode
    wall = time.time() - start
    sampler.stop.set()
    sampler.join()
    load1, cpu1, host1 = loadavg(), cgroup.cpu_seconds(), hosts_cpu(ids)
    result = {'phase': name, 'rc': rc, 'wall_s': round(wall, 2), 'load_before': load0, 'load_after': load1,
              'controller_cpu_s': round(cpu1 - cpu0, 2) if cpu0 is not None and cpu1 is not None else None,
              'controller_peak_rss_mb': round(sampler.peak / 2 ** 20, 1) if sampler.peak else None,
              'hosts_cpu_s': round(host1 - host0, 2) if host0 is not None and host1 is not None else None,
              'log': logfile}
    mem = hosts_memory(ids)
    if mem:
        result['hosts_rss_mb_per_host'] = round(mem['rss'] / 2 ** 20 / max(hosts, 1), 1)
        result['hosts_cache_mb_per_host'] = round(mem['cache'] / 2 ** 20 / max(hosts, 1), 1)
    recap = {}
    with open(logfile, encoding='utf-8', errors='replace') as handle:
        for line in handle:
            match = RECAP.match(line)
            if match:
                ok, _changed, unreachable, failed, skipped = (int(x) for x in match.groups()[1:])
                recap[match.group(1)] = ok + unreachable + failed + skipped
    if recap:
        counts = sorted(recap.values())
        result['results_per_host'] = round(sum(counts) / len(counts), 2)
        result['results_per_host_median'] = statistics.median(counts)
        result['results_max_host'] = counts[-1]
    try:
        with open(events, encoding='utf-8') as handle:
            data = json.load(handle)
        result['job_events'] = sum(data['total'].values())
        result['job_events_per_host'] = round(result['job_events'] / max(hosts, 1), 2)
    except (OSError, ValueError, KeyError):
        pass
    if rc != 0:
        log('%s exited %s (log: %s)' % (name, rc, logfile))
    return result


def median_of(name, samples):
    samples = sorted(samples, key=lambda r: r['wall_s'])
    best = dict(samples[(len(samples) - 1) // 2])
    best['phase'] = name
    best['samples_wall_s'] = [s['wall_s'] for s in samples]
    return best


def replace_figures(summary_path):
    try:
        with open(summary_path, encoding='utf-8') as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        return {}
    windows = [h['unprotected_window_s'] for h in report.get('hosts', []) if h.get('unprotected_window_s') is not None]
    summary = report.get('summary', {})
    figures = {'outcomes': summary.get('outcome') or summary.get('verdict') or {}}
    if windows:
        figures.update(window_hosts=len(windows), window_median_s=round(statistics.median(windows), 2),
                       window_max_s=round(max(windows), 2))
    return figures


def artifact_sizes(artifacts, phase, hosts):
    """What the run wrote on the controller: the ledger (all runs so far) and the phase's host records."""
    sizes = {}
    ledger = os.path.join(artifacts, 'ledger')
    if os.path.isdir(ledger):
        files = [os.path.join(ledger, f) for f in os.listdir(ledger)]
        newest = max(files, key=os.path.getmtime) if files else None
        if newest:
            sizes['ledger_kb_per_host'] = round(os.path.getsize(newest) / 1024 / max(hosts, 1), 2)
    name = {'rerun': 'replace'}.get(phase, phase)
    records = os.path.join(artifacts, name, 'hosts')
    if phase not in ('ping', 'naive') and os.path.isdir(records):
        total = sum(os.path.getsize(os.path.join(records, f)) for f in os.listdir(records))
        sizes['record_kb_per_host'] = round(total / 1024 / max(len(os.listdir(records)), 1), 2)
    return sizes


# --- one lab size ----------------------------------------------------------------------------------

def run_size(size, args, cgroup, env, outdir):
    logdir = os.path.join(outdir, 'logs-%d' % size)
    os.makedirs(logdir, exist_ok=True)
    inventory = os.path.join(ROOT, 'lab', '.state', '%s-hosts.yml' % args.prefix)
    log('lab of %d hosts (prefix %s, ports %d-%d)' % (size, args.prefix, args.port_base, args.port_base + size - 1))
    start = time.time()
    up = subprocess.run([os.path.join(ROOT, 'lab', 'lab.sh'), 'up', '--hosts', str(size), '--prefix', args.prefix,
                         '--port-base', str(args.port_base)], cwd=ROOT, capture_output=True, text=True, check=False)
    lab_up = {'phase': 'lab-up', 'wall_s': round(time.time() - start, 1), 'rc': up.returncode}
    if up.returncode != 0:
        log('lab up failed:\n%s' % up.stderr[-3000:])
        return {'size': size, 'lab_up': lab_up, 'phases': {}}
    ids = lab_containers(args.prefix)
    artifacts = tempfile.mkdtemp(prefix='phaseout-bench-artifacts-')
    env = dict(env, PHASEOUT_ARTIFACTS_DIR=artifacts)  # the ledger of every run, naive's included
    bin_ = os.path.join(ROOT, '.venv', 'bin')
    common = ['-i', inventory, '-e', 'phaseout_artifacts_dir=%s' % artifacts]
    playbook = os.path.join(bin_, 'ansible-playbook')
    commands = {
        'ping': [os.path.join(bin_, 'ansible'), '-i', inventory, 'all', '-m', 'ansible.builtin.ping'],
        'discover': [playbook] + common + ['playbooks/discover.yml', '-e', 'discover_print_summary=false'],
        # the same detection without the products' own CLIs (kesl-control, klnagchk): what phaseout costs
        'discover-nocli': [playbook] + common + ['playbooks/discover.yml', '-e', 'discover_print_summary=false',
                                                 '-e', 'discover_query_cli=false'],
        'naive': [playbook, '-i', inventory, 'bench/naive-discover.yml'],
        'replace': [playbook] + common + ['-e', '@inventories/lab/group_vars/all.yml', 'playbooks/replace.yml',
                                          '-e', 'phaseout_targets=all', '-e', 'phaseout_provider=%s' % args.provider]
        + sum((['-e', e] for e in args.extra), []),
        'verify': [playbook] + common + ['-e', '@inventories/lab/group_vars/all.yml', 'playbooks/verify.yml',
                                         '-e', 'phaseout_targets=all', '-e', 'phaseout_provider=%s' % args.provider],
    }
    commands['rerun'] = commands['replace']
    # the same warm start for ping and discover: one ping opens the SSH connections
    subprocess.run(cgroup.wrap(commands['ping']), cwd=ROOT, env=env, capture_output=True, check=False)
    wanted = args.phases_at.get(size, args.phases)
    # ping and the discovers in turns (ping, discover, discover-nocli, ping, ...): the load of a lab that has
    # just started drifts for minutes, and each of them sees the same drift
    repeated = [p for p in wanted if p in REPEATED] if args.runs > 1 else []
    samples = {p: [] for p in repeated}
    for i in range(args.runs if repeated else 0):
        for phase in repeated:
            log('%d hosts: %s, run %d of %d' % (size, phase, i + 1, args.runs))
            samples[phase].append(measure('%s-%d' % (phase, i + 1), commands[phase], env, cgroup, ids, size, logdir))
    phases = {}
    for phase in wanted:
        if phase in samples:
            phases[phase] = median_of(phase, samples[phase])
        else:
            log('%d hosts: %s' % (size, phase))
            phases[phase] = measure(phase, commands[phase], env, cgroup, ids, size, logdir)
        if phase in ('replace', 'rerun'):
            phases[phase].update(replace_figures(os.path.join(artifacts, 'replace', 'summary.json')))
        if phase == 'verify':
            phases[phase].update(replace_figures(os.path.join(artifacts, 'verify', 'summary.json')))
        phases[phase].update(artifact_sizes(artifacts, phase, size))
        log('%d hosts: %s %s' % (size, phase, json.dumps({k: v for k, v in phases[phase].items()
                                                           if k not in ('log', 'samples_wall_s')})))
    shutil.rmtree(artifacts, ignore_errors=True)
    return {'size': size, 'lab_up': lab_up, 'phases': phases, 'containers': len(ids)}


# --- the report ------------------------------------------------------------------------------------

def fmt(value, spec='%.1f'):
    return '-' if value is None else spec % value


def table(results, phases):
    sizes = [r['size'] for r in results]
    rows = []
    header = '| phase | figure | ' + ' | '.join('%d hosts' % s for s in sizes) + ' |'
    rows.append(header)
    rows.append('|' + '---|' * (2 + len(sizes)))
    lines = [
        ('wall time (s)', 'wall_s', '%.1f'),
        ('controller CPU (s)', 'controller_cpu_s', '%.1f'),
        ('hosts CPU (s)', 'hosts_cpu_s', '%.1f'),
        ('controller CPU per host (ms)', None, None),
        ('controller peak RSS (MB)', 'controller_peak_rss_mb', '%.0f'),
        ('task results per host', 'results_per_host', '%.2f'),
        ('job events per host', 'job_events_per_host', '%.1f'),
        ('load average before / after', None, None),
    ]
    for phase in phases:
        for label, key, spec in lines:
            cells = []
            for r in results:
                p = r['phases'].get(phase)
                if not p:
                    cells.append('-')
                elif key:
                    cells.append(fmt(p.get(key), spec))
                elif label.startswith('controller CPU per host'):
                    cells.append(fmt(p['controller_cpu_s'] * 1000 / r['size'], '%.0f')
                                 if p.get('controller_cpu_s') is not None else '-')
                else:
                    cells.append('%.1f / %.1f' % (p['load_before'], p['load_after']))
            rows.append('| %s | %s | %s |' % (phase, label, ' | '.join(cells)))
        if phase in ('replace', 'rerun', 'verify'):
            cells = []
            for r in results:
                p = r['phases'].get(phase) or {}
                text = ', '.join('%s %s' % (k, v) for k, v in sorted((p.get('outcomes') or {}).items())) or '-'
                if p.get('window_hosts'):
                    text += '; window median %.2f s, max %.2f s (%d hosts)' % (
                        p['window_median_s'], p['window_max_s'], p['window_hosts'])
                cells.append(text)
            rows.append('| %s | outcomes | %s |' % (phase, ' | '.join(cells)))
    ratio_rows = []
    for label, a, b in (('discover / ping', 'discover', 'ping'), ('discover-nocli / ping', 'discover-nocli', 'ping'),
                        ('naive / discover', 'naive', 'discover'), ('rerun / discover', 'rerun', 'discover')):
        cells = []
        for r in results:
            pa, pb = r['phases'].get(a), r['phases'].get(b)
            cells.append('%.2f' % (pa['wall_s'] / pb['wall_s']) if pa and pb and pb['wall_s'] else '-')
        ratio_rows.append('| %s | wall-time ratio | %s |' % (label, ' | '.join(cells)))
    for label, a, b in (('discover / ping', 'discover', 'ping'), ('discover-nocli / ping', 'discover-nocli', 'ping')):
        cells = []
        for r in results:
            pa, pb = r['phases'].get(a), r['phases'].get(b)
            cpu = [(p.get('controller_cpu_s'), p.get('hosts_cpu_s')) for p in (pa, pb) if p]
            usable = len(cpu) == 2 and all(x is not None for pair in cpu for x in pair) and sum(cpu[1])
            cells.append('%.2f' % (sum(cpu[0]) / sum(cpu[1])) if usable else '-')
        ratio_rows.append('| %s | CPU ratio (controller + hosts) | %s |' % (label, ' | '.join(cells)))
    lab_row = '| lab up | wall time (s) | %s |' % ' | '.join(fmt(r['lab_up']['wall_s']) for r in results)
    return '\n'.join(rows + ratio_rows + [lab_row])


def machine():
    mem = 0
    with open('/proc/meminfo', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('MemTotal:'):
                mem = int(line.split()[1]) // 1024 // 1024
    podman = subprocess.run(['podman', '--version'], capture_output=True, text=True, check=False).stdout.strip()
    forks = ''
    with open(os.path.join(ROOT, 'ansible.cfg'), encoding='utf-8') as handle:
        match = re.search(r'^forks\s*=\s*(\d+)', handle.read(), re.M)
        forks = match.group(1) if match else '?'
    return '%d cores, %d GiB, Linux %s, %s, forks %s' % (os.cpu_count(), mem, os.uname().release, podman, forks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='10,100,250')
    parser.add_argument('--phases', default=','.join(PHASES))
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--provider', default='clamav')
    parser.add_argument('--prefix', default='bench')
    parser.add_argument('--port-base', type=int, default=4001)
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results'))
    parser.add_argument('--phases-at', action='append', default=[], metavar='SIZE=PHASES',
                        help='other phases at one size (250=ping,discover,naive: the big lab without replace)')
    parser.add_argument('--keep-lab', action='store_true', help='leave the last lab up')
    parser.add_argument('-e', dest='extra', action='append', default=[], help='extra vars of the replace runs')
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(',') if s]
    args.phases = [p for p in args.phases.split(',') if p]
    args.phases_at = dict((int(size), [p for p in phases.split(',') if p])
                          for size, phases in (item.split('=', 1) for item in args.phases_at))
    unknown = [p for p in args.phases + sum(args.phases_at.values(), []) if p not in PHASES]
    if unknown:
        parser.error('unknown phase(s) %s; known: %s' % (', '.join(unknown), ', '.join(PHASES)))
    os.makedirs(args.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S')
    args.phases = [p for p in PHASES if p in args.phases or any(p in v for v in args.phases_at.values())]
    cgroup = ControllerCgroup()
    control_dir = tempfile.mkdtemp(prefix='phaseout-bench-cp-')
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'bench', 'callback_plugins'),
               ANSIBLE_CALLBACKS_ENABLED='phaseout.antivirus.ledger,bench_events',
               ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir, ANSIBLE_NOCOLOR='1')
    results = []
    try:
        for size in args.sizes:
            results.append(run_size(size, args, cgroup, env, args.out))
            data = {'machine': machine(), 'started': stamp, 'provider': args.provider, 'results': results}
            with open(os.path.join(args.out, 'bench-%s.json' % stamp), 'w', encoding='utf-8') as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
    finally:
        cgroup.close()
        shutil.rmtree(control_dir, ignore_errors=True)
        if not args.keep_lab:
            subprocess.run([os.path.join(ROOT, 'lab', 'lab.sh'), 'down', '--prefix', args.prefix], cwd=ROOT,
                           capture_output=True, check=False)
    text = ('machine: %s\nprovider: %s; ping and the discovers: median of %d runs taken in turns; other phases: one run\n\n%s\n'
            % (machine(), args.provider, args.runs, table(results, args.phases)))
    with open(os.path.join(args.out, 'bench-%s.md' % stamp), 'w', encoding='utf-8') as handle:
        handle.write(text)
    print(text)
    print('figures: %s' % os.path.join(args.out, 'bench-%s.json' % stamp))


if __name__ == '__main__':
    main()
