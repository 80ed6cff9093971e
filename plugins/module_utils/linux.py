# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Linux detection: read the host, match it against the catalog, classify.

The functions here are pure where they can be (parsers take text, classifiers
take dicts) and the collector takes a ``run_command`` callable and a file
system ``root`` so that unit tests drive it with fixtures and a fake tree.

Nothing here needs a helper package on the managed host: the dpkg database is
read as a file, processes come from /proc, kernel modules from /proc/modules.
Only ``rpm`` (on rpm hosts), ``systemctl`` (when systemd runs) and the
products' own read-only CLIs are executed.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import TIMED_OUT_RCS, timed_argv
from ansible_collections.phaseout.antivirus.plugins.module_utils import engines as engine_catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import journal as swap_journal

UNIT_DIRS = (
    '/etc/systemd/system',
    '/run/systemd/system',
    '/lib/systemd/system',
    '/usr/lib/systemd/system',
)
CLI_ENV = {'LANG': 'en_US.UTF-8', 'LC_ALL': 'en_US.UTF-8', 'LANGUAGE': 'en_US'}
# Every external command runs under coreutils' timeout: a product CLI that talks to
# its management server (klnagchk) or a hung init script must not hold a run.
CLI_TIMEOUT = 30


def parse_proc_stat(text):
    """(state, starttime) of a /proc/<pid>/stat line; the command name may hold spaces and parentheses."""
    rest = text.rpartition(')')[2].split()
    if len(rest) < 20:
        return None, None
    return rest[0], int(rest[19])

# ---------------------------------------------------------------------------
# Parsers (text in, data out)
# ---------------------------------------------------------------------------


def parse_dpkg_status(text):
    """Parse /var/lib/dpkg/status into {name: {version, arch, status, state}}.

    ``state`` is ``installed`` (``install ok installed``), ``config-files``
    (removed, conffiles left: dpkg's ``rc``), or the raw third status word.
    """
    packages = {}
    for stanza in re.split(r'\n\s*\n', text):
        fields = {}
        key = None
        for line in stanza.splitlines():
            if not line:
                continue
            if line[0] in ' \t' and key:
                continue  # continuation lines (descriptions, conffiles)
            key, sep, value = line.partition(':')
            if sep:
                fields[key.strip()] = value.strip()
        name = fields.get('Package')
        if not name:
            continue
        status = fields.get('Status', '')
        words = status.split()
        state = words[2] if len(words) == 3 else 'unknown'
        arch = fields.get('Architecture', '')
        packages[name] = {
            'name': name,
            'version': fields.get('Version', ''),
            'arch': arch,
            'status': status,
            'state': state,
            'manager': 'dpkg',
        }
    return packages


def parse_rpm_qa(text):
    """Parse ``rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'``."""
    packages = {}
    for line in text.splitlines():
        parts = line.strip().split('\t')
        if len(parts) < 2 or not parts[0]:
            continue
        name = parts[0]
        packages[name] = {
            'name': name,
            'version': parts[1],
            'arch': parts[2] if len(parts) > 2 else '',
            'status': 'installed',
            'state': 'installed',
            'manager': 'rpm',
        }
    return packages


def parse_systemctl_show(text):
    """Parse ``systemctl show -p ... unit...`` output: blank-line separated blocks."""
    units = {}
    for block in re.split(r'\n\s*\n', text.strip()):
        props = {}
        for line in block.splitlines():
            key, sep, value = line.partition('=')
            if sep:
                props[key] = value
        unit_id = props.get('Id')
        if unit_id:
            units[unit_id] = props
    return units


# Localised keys of `kesl-control --app-info` / `kav4fs-control -S --app-info`
# mapped to stable names [G2][GH-idx 20121975605][GH-idx 9432485627].
APP_INFO_KEYS = {
    'name': ('name', 'название', 'application name'),
    'version': ('version', 'версия', 'application version'),
    'license_expiration': (
        'license expiration date',
        'дата окончания срока действия лицензии',
        'license expiration',
    ),
    'databases_release': (
        'last release date of databases',
        'дата выпуска баз',
        'дата выпуска последних баз',
        'databases release date',
    ),
    'databases_loaded': ('application databases loaded', 'базы программы загружены'),
    'file_threat_protection': ('file threat protection', 'защита от файловых угроз'),
}


def parse_app_info(text):
    """Parse ``Key: value`` lines of a Kaspersky ``--app-info`` query.

    Returns ``{'fields': {raw key: value}, <stable name>: value, ...}``; keys
    are matched case-insensitively in English and Russian.
    """
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(':')
        if not sep or not key.strip():
            continue
        fields[key.strip()] = value.strip()
    result = {'fields': fields}
    lowered = {k.lower(): v for k, v in fields.items()}
    for stable, aliases in APP_INFO_KEYS.items():
        for alias in aliases:
            if alias in lowered:
                result[stable] = lowered[alias]
                break
    return result


# `klnagchk` output [GH-idx 40721871364][GH-idx 9377173332]
KLNAGCHK_SERVER = re.compile(r'^\s*Administration Server address\s*:\s*(?P<server>\S.*?)\s*$', re.M | re.I)
KLNAGCHK_SYNC = re.compile(r'^\s*Date/time of the last request for synchronization\s*:\s*(?P<sync>.*?)\s*$', re.M | re.I)


def parse_klnagchk(text):
    result = {'fields': {}}
    for line in text.splitlines():
        key, sep, value = line.partition(':')
        if sep and key.strip():
            result['fields'][key.strip()] = value.strip()
    match = KLNAGCHK_SERVER.search(text)
    if match:
        result['admin_server'] = match.group('server')
    match = KLNAGCHK_SYNC.search(text)
    if match:
        result['last_sync'] = match.group('sync')
    return result


PARSERS = {
    'kesl_app_info': parse_app_info,
    'klnagchk': parse_klnagchk,
}


def parse_proc_modules(text):
    return [line.split()[0] for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# The collector: reads the host once
# ---------------------------------------------------------------------------


class LinuxCollector:
    """Collect the raw facts the classifier needs, in as few commands as possible."""

    def __init__(self, run_command, root='/', which=None):
        self.run_command = run_command
        self.root = root
        self.which = which or self._which
        self.commands = []  # argv of every command run (for tests and debugging)
        self.warnings = []

    # -- helpers ----------------------------------------------------------
    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def exists(self, path):
        return os.path.lexists(self.path(path))

    def read(self, path, default=None):
        try:
            with open(self.path(path), 'rb') as handle:
                return handle.read().decode('utf-8', errors='replace')
        except OSError:
            return default

    def _which(self, name):
        for directory in ('/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'):
            candidate = os.path.join(directory, name)
            if os.access(self.path(candidate), os.X_OK):
                return candidate
        return None

    def run(self, argv, timeout=CLI_TIMEOUT, **kwargs):
        """Run a read-only command under a timeout; rc 124/137 means it was stopped."""
        self.commands.append(list(argv))
        rc, out, err = self.run_command(timed_argv(argv, timeout, self.which), **kwargs)
        if timeout and rc in TIMED_OUT_RCS and self.which('timeout'):
            err = ('%s did not answer within %ss and was stopped' % (argv[0], timeout)) + (': ' + err if err else '')
        return rc, out, err

    # -- package managers -------------------------------------------------
    def packages(self, names):
        """Return (manager, {name: pkg}) for the catalog package ``names``."""
        wanted = set(names)
        found = {}
        managers = []
        status = self.read('/var/lib/dpkg/status')
        if status is not None:
            managers.append('dpkg')
            found.update({n: p for n, p in parse_dpkg_status(status).items() if n in wanted})
        rpm = self.which('rpm')
        if rpm and (self.exists('/var/lib/rpm') or self.exists('/usr/lib/sysimage/rpm')):
            managers.append('rpm')
            rc, out, err = self.run([rpm, '-qa', '--qf', r'%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n'])
            if rc == 0:
                found.update({n: p for n, p in parse_rpm_qa(out).items() if n in wanted})
            else:
                self.warnings.append('rpm -qa failed (rc=%s): %s' % (rc, err.strip()))
        return managers, found

    # -- services ---------------------------------------------------------
    def systemd_running(self):
        return self.exists('/run/systemd/system')

    def unit_files(self, name):
        files = []
        for directory in UNIT_DIRS:
            candidate = '%s/%s.service' % (directory, name)
            if self.exists(candidate):
                files.append(candidate)
        if self.exists('/etc/init.d/%s' % name):
            files.append('/etc/init.d/%s' % name)
        return files

    def services(self, names):
        """Return {name: {unit_files, load, active, sub, enabled}} for names with any trace."""
        present = {}
        for name in names:
            files = self.unit_files(name)
            if files:
                present[name] = {'name': name, 'unit_files': files}
        if not present:
            return present
        systemctl = self.which('systemctl')
        if systemctl and self.systemd_running():
            argv = [systemctl, 'show', '--no-pager',
                    '--property=Id,LoadState,ActiveState,SubState,UnitFileState,MainPID', '--']
            argv += ['%s.service' % n for n in sorted(present)]
            rc, out, err = self.run(argv)
            if rc == 0:
                shown = parse_systemctl_show(out)
                for name, service in present.items():
                    props = shown.get('%s.service' % name, {})
                    service['load'] = props.get('LoadState', 'unknown')
                    service['state'] = props.get('ActiveState', 'unknown')
                    service['sub'] = props.get('SubState', 'unknown')
                    service['active'] = props.get('ActiveState') in ('active', 'activating', 'reloading')
                    unit_file_state = props.get('UnitFileState', '')
                    service['unit_file_state'] = unit_file_state
                    service['enabled'] = self._enabled(name, unit_file_state)
                return present
            self.warnings.append('systemctl show failed (rc=%s): %s' % (rc, err.strip()))
        for name, service in present.items():
            service.update({'load': 'unknown', 'state': 'unknown', 'sub': 'unknown',
                            'active': self._init_script_active(name), 'enabled': self._enabled(name, '')})
        return present

    def _init_script_active(self, name):
        """Without systemd: ask the LSB init script (``status`` exits 0 when running, 3 when stopped)."""
        script = '/etc/init.d/%s' % name
        if not os.access(self.path(script), os.X_OK):
            return None
        rc, _out, _err = self.run([script, 'status'], timeout=15)
        if rc == 0:
            return True
        if rc in (1, 2, 3):
            return False
        return None

    def _enabled(self, name, unit_file_state):
        """Whether the service starts at boot.

        Native units answer through UnitFileState; units generated from SysV
        init scripts report ``generated``, so their rc?.d links decide.
        """
        if unit_file_state in ('enabled', 'enabled-runtime', 'static', 'alias'):
            return True
        if unit_file_state not in ('', 'generated'):
            return False
        for level in ('2', '3', '5'):
            directory = self.path('/etc/rc%s.d' % level)
            try:
                if any(entry.startswith('S') and entry[3:] == name for entry in os.listdir(directory)):
                    return True
            except OSError:
                continue
        return False

    # -- processes --------------------------------------------------------
    def processes(self, prefixes):
        prefixes = tuple(prefixes)
        found = []
        proc = self.path('/proc')
        try:
            pids = [p for p in os.listdir(proc) if p.isdigit()]
        except OSError:
            return found
        for pid in sorted(pids, key=int):
            cmdline = self.read('/proc/%s/cmdline' % pid, '') or ''
            argv = [a for a in cmdline.split('\0') if a]
            if not argv:
                continue  # kernel thread or gone
            try:
                exe = os.readlink(os.path.join(proc, pid, 'exe'))
            except OSError:
                exe = ''
            exe = exe.replace(' (deleted)', '')
            # interpreters (python3, sh) running a vendor script: look at argv too
            candidates = [exe] + argv[:2]
            match = next((c for c in candidates if c.startswith(prefixes)), None)
            if match:
                _state, starttime = parse_proc_stat(self.read('/proc/%s/stat' % pid, '') or '')
                found.append({'pid': int(pid), 'exe': exe, 'path': match, 'cmdline': ' '.join(argv)[:512],
                              'starttime': starttime})
        return found

    def fanotify_marks(self, pid):
        """Whether process ``pid`` holds fanotify marks (an on-access scanner that watches something)."""
        base = self.path('/proc/%d/fdinfo' % pid)
        try:
            entries = os.listdir(base)
        except OSError:
            return False
        for entry in entries:
            text = self.read('/proc/%d/fdinfo/%s' % (pid, entry), '') or ''
            if re.search(r'^fanotify (ino|mnt_id|sdev):', text, re.M):
                return True
        return False

    def journal(self):
        """The swap journal's summary (None when there is none)."""
        text = self.read(swap_journal.LINUX_PATH)
        if text is None:
            return None
        try:
            return swap_journal.summary(swap_journal.parse(text))
        except swap_journal.JournalError as exc:
            return swap_journal.summary(None, error=str(exc))

    def kernel_modules(self):
        text = self.read('/proc/modules', '')
        return parse_proc_modules(text or '')

    def repositories(self, markers, dirs, files):
        found = []
        markers = tuple(m.lower() for m in markers)
        candidates = list(files)
        for directory in dirs:
            try:
                entries = sorted(os.listdir(self.path(directory)))
            except OSError:
                continue
            candidates += ['%s/%s' % (directory, entry) for entry in entries]
        for candidate in candidates:
            name = os.path.basename(candidate).lower()
            if any(m in name for m in markers):
                found.append({'type': 'repository', 'path': candidate, 'reason': 'file name'})
                continue
            if candidate.endswith(('.list', '.repo', '.sources')) or candidate in files:
                text = (self.read(candidate, '') or '').lower()
                lines = [line for line in text.splitlines()
                         if not line.lstrip().startswith('#') and any(m in line for m in markers)]
                if lines:
                    found.append({'type': 'repository', 'path': candidate, 'reason': 'entry', 'lines': lines})
        return found

    def cli(self, spec):
        argv = list(spec['argv'])
        if not os.access(self.path(argv[0]), os.X_OK):
            return None
        rc, out, err = self.run(argv, environ_update=CLI_ENV)
        if rc != 0:
            self.warnings.append('%s exited %s: %s' % (' '.join(argv), rc, (err or out).strip()[:200]))
            return {'rc': rc}
        parsed = PARSERS[spec['parser']](out)
        parsed['rc'] = rc
        return parsed


# ---------------------------------------------------------------------------
# Classification (data in, verdict out)
# ---------------------------------------------------------------------------


def detect(collector, vendor='kaspersky', query_cli=True):
    """Run every probe once and classify the host. Returns the module result dict."""
    vendor_data = catalog.VENDORS[vendor]
    products = catalog.products('linux', vendor)

    all_packages = [n for p in products for n in p['linux'].get('packages', ())]
    all_services = []
    for p in products:
        for name in p['linux'].get('services', ()):
            if name not in all_services:
                all_services.append(name)
    prefixes = set(vendor_data.get('linux_process_prefixes', ()))
    for p in products:
        prefixes.update(p['linux'].get('processes', ()))

    managers, packages = collector.packages(all_packages)
    services = collector.services(all_services)
    engine_prefixes = {p for e in engine_catalog.REALTIME_ENGINES for p in e['linux'].get('processes', ())}
    every_process = collector.processes(sorted(prefixes | engine_prefixes))
    processes = [p for p in every_process if p['path'].startswith(tuple(prefixes))]
    modules = collector.kernel_modules()
    repos = collector.repositories(vendor_data.get('linux_repo_markers', ()),
                                   vendor_data.get('linux_repo_dirs', ()),
                                   vendor_data.get('linux_repo_files', ()))

    result_products = []
    leftovers = []
    claimed_paths = set()
    claimed_pids = set()
    admin_server = None

    for product in products:
        linux = product['linux']
        pkgs = [packages[n] for n in linux.get('packages', ()) if n in packages]
        installed_pkgs = [p for p in pkgs if p['state'] in ('installed', 'half-configured', 'unpacked',
                                                            'half-installed', 'triggers-awaited',
                                                            'triggers-pending')]
        config_pkgs = [p for p in pkgs if p['state'] == 'config-files']
        svc = [services[n] for n in linux.get('services', ()) if n in services]
        install_paths = [p for p in linux.get('install_paths', ()) if collector.exists(p)]
        data_paths = [p for p in linux.get('data_paths', ()) if collector.exists(p)]
        unit_files = sorted({f for s in svc for f in s['unit_files']} |
                            {f for f in linux.get('unit_files', ()) if collector.exists(f)})
        procs = [p for p in processes if p['path'].startswith(tuple(linux.get('processes', ())))]
        kmods = [m for m in modules if any(re.search(rx, m) for rx in linux.get('kernel_modules', ()))]

        if installed_pkgs:
            state = 'installed'
        elif install_paths and (procs or any(s.get('active') for s in svc)):
            state = 'installed'  # running but unpackaged (tarball install, broken dpkg db)
        elif config_pkgs or install_paths or data_paths or unit_files or procs or kmods:
            state = 'residue'
        else:
            continue

        entry = dict(catalog.entry_header(product, state), **{
            'version': installed_pkgs[0]['version'] if installed_pkgs else None,
            'packages': pkgs,
            'services': svc,
            'processes': procs,
            'paths': install_paths + data_paths,
            'unit_files': unit_files,
            'kernel_modules': kmods,
            'info': {},
        })
        claimed_pids.update(p['pid'] for p in procs)
        spec = linux.get('info_cli')
        if query_cli and spec and state == 'installed':
            info = collector.cli(spec)
            if info:
                entry['info'] = info
                if info.get('version') and not entry['version']:
                    entry['version'] = info['version']
                if info.get('admin_server'):
                    admin_server = info['admin_server']
                    entry['admin_server'] = admin_server
        if state == 'installed':
            claimed_paths.update(install_paths + data_paths + unit_files)
            claimed_paths.update(_parents(install_paths + data_paths))
        else:
            for pkg in config_pkgs:
                leftovers.append({'type': 'package_config', 'name': pkg['name'], 'manager': pkg['manager'],
                                  'product': product['id']})
            for path in install_paths + data_paths:
                leftovers.append({'type': 'path', 'path': path, 'product': product['id']})
            for path in unit_files:
                leftovers.append({'type': 'unit', 'path': path, 'product': product['id']})
            for proc in procs:
                leftovers.append({'type': 'process', 'pid': proc['pid'], 'path': proc['exe'], 'product': product['id'],
                                  'starttime': proc.get('starttime')})
            for mod in kmods:
                leftovers.append({'type': 'kernel_module', 'name': mod, 'product': product['id']})
        result_products.append(entry)

    # Vendor-wide traces not claimed by an installed product.
    for path in vendor_data.get('linux_common_paths', ()):
        if collector.exists(path) and path not in claimed_paths and \
                not any(lo.get('path', '').startswith(path + '/') for lo in leftovers):
            leftovers.append({'type': 'path', 'path': path, 'product': None})
    for proc in processes:
        if proc['pid'] not in claimed_pids:
            leftovers.append({'type': 'process', 'pid': proc['pid'], 'path': proc['exe'], 'product': None,
                              'starttime': proc.get('starttime')})
    product_mods = {m for p in result_products for m in p['kernel_modules']}
    for mod in modules:
        if mod not in product_mods and any(re.search(rx, mod) for rx in vendor_data.get('linux_kernel_modules', ())):
            leftovers.append({'type': 'kernel_module', 'name': mod, 'product': None})
    for repo in repos:
        repo['product'] = None
        leftovers.append(repo)

    installed, residue, verdict = catalog.verdict(result_products, leftovers)
    kaspersky_realtime = any(
        p['state'] == 'installed' and p['kind'] in ('endpoint', 'fileserver') and
        (p['processes'] or any(s.get('active') for s in p['services']))
        for p in result_products)
    engines = realtime_engines(collector, every_process, query_cli=query_cli)
    loaded_kernel_modules = sorted({m['name'] for m in leftovers if m['type'] == 'kernel_module'} | product_mods)
    vendor_paths = [p for p in vendor_data.get('linux_common_paths', ()) if collector.exists(p)]
    return {
        'platform': 'linux',
        'vendor': vendor,
        'verdict': verdict,
        'installed': installed,
        'residue': residue,
        'products': result_products,
        'leftovers': leftovers,
        'admin_server': admin_server,
        'package_managers': managers,
        'vendor_paths': vendor_paths,
        'kernel_modules': loaded_kernel_modules,
        'realtime_protection_active': kaspersky_realtime,
        'realtime_engines': engines,
        'protection': protection_summary(vendor if kaspersky_realtime else None, engines),
        'journal': collector.journal(),
    }


def realtime_engines(collector, processes, query_cli=True):
    """Other real-time engines that run on the host (the replacement among them).

    ``realtime`` is True when the engine is proven on (clamonacc holding fanotify marks, mdatp's
    managed or reported real-time setting), False when it runs without real-time protection
    (mdatp passive, clamonacc not watching yet) and None when phaseout cannot tell.
    """
    found = []
    for engine in engine_catalog.REALTIME_ENGINES:
        spec = engine['linux']
        procs = [p for p in processes if p['path'].startswith(tuple(spec.get('processes', ())))]
        if not procs:
            continue
        realtime = None
        evidence = 'process %s' % ', '.join(sorted({p['path'] for p in procs}))
        if spec.get('fanotify'):
            realtime = any(collector.fanotify_marks(p['pid']) for p in procs)
            evidence += '; fanotify marks %s' % ('held' if realtime else 'not held')
        if spec.get('managed_config'):
            level = _managed_enforcement(collector.read(spec['managed_config']))
            if level:
                realtime = level == 'real_time'
                evidence += '; managed enforcementLevel %s' % level
            elif query_cli and spec.get('cli') and collector.exists(spec['cli'][0]):
                rc, out, _err = collector.run(list(spec['cli']), timeout=15, environ_update=CLI_ENV)
                if rc == 0 and out.strip():
                    realtime = out.strip().split()[0] == 'true'
                    evidence += '; %s says %s' % (' '.join(spec['cli'][1:]), out.strip())
        found.append({'id': engine['id'], 'name': engine['name'], 'realtime': realtime,
                      'pids': sorted(p['pid'] for p in procs), 'evidence': evidence})
    return found


def _managed_enforcement(text):
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    level = (data.get('antivirusEngine') or {}).get('enforcementLevel') if isinstance(data, dict) else None
    return level if isinstance(level, str) else None


def protection_summary(vendor, engines):
    """One word for the report: which real-time engines protect the host right now."""
    names = ([vendor] if vendor else []) + [e['id'] for e in engines if e['realtime']]
    unsure = [e['id'] + '?' for e in engines if e['realtime'] is None]
    return '+'.join(names + unsure) or 'none'


def _parents(paths):
    parents = set()
    for path in paths:
        head = os.path.dirname(path.rstrip('/'))
        while head and head != '/':
            parents.add(head)
            head = os.path.dirname(head)
    return parents
