# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Host-side helpers of the provider modules (clamav_setup, clamav_verify, mdatp_verify).

Each of those modules does on the host, in one call, what a provider role
used to do in a dozen tasks (a round trip and a job event each): read the
packages and units, write files, start services, run the EICAR tests. The
helpers here keep the results in the shape of Ansible's registered command
results ({rc, stdout, stderr}), so module_utils/provider_health.py decides
the health contract from them exactly as the filters do from registered
results. Every external command runs under coreutils' ``timeout``.
"""

from __future__ import annotations

import glob
import os
import pwd
import grp
import stat

from ansible_collections.phaseout.antivirus.plugins.module_utils.atomic_file import replace_file
from ansible_collections.phaseout.antivirus.plugins.module_utils.command_timeout import TIMED_OUT_RCS, timed_argv

DPKG_FORMAT = '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n'
UNIT_PROPERTIES = 'Id,LoadState,ActiveState,SubState,UnitFileState,MainPID'


def command_result(rc, stdout, stderr):
    """A command result as Ansible registers it (the shape provider_health reads)."""
    return {'rc': rc, 'stdout': stdout or '', 'stderr': stderr or ''}


class Host:
    """Commands and files on the managed host, with a timeout on every command."""

    def __init__(self, module, timeout=120, execute=None):
        self.module = module
        # command_timeout.run_command from the modules' main(); the module's own run_command otherwise (tests)
        self.execute = execute or module.run_command
        self.timeout = timeout
        self.commands = []
        self._which = {'timeout': module.get_bin_path('timeout')}.get  # looked up once

    def run(self, argv, timeout=None, environ=None, data=None):
        """Run argv (a list, never a shell string); return {rc, stdout, stderr}."""
        argv = [str(a) for a in argv]
        self.commands.append(argv)
        seconds = int(timeout or self.timeout)
        rc, out, err = self.execute(timed_argv(argv, seconds, self._which), environ_update=environ or {},
                                    data=data, binary_data=data is not None)
        if rc in TIMED_OUT_RCS and self._which('timeout'):
            err = ('%s\n' % err if err else '') + '%s did not finish within %ss and was stopped' % (argv[0], seconds)
        return command_result(rc, out, err)

    # -- reading ---------------------------------------------------------------
    def dpkg(self, names):
        """dpkg-query of the package names (the shape the installed_packages filter reads)."""
        return self.run(['dpkg-query', '--show', '--showformat=' + DPKG_FORMAT] + list(names), timeout=60)

    def units(self, names):
        """systemctl show of the units (the shape the systemd_units filter reads)."""
        return self.run(['systemctl', 'show', '--property=' + UNIT_PROPERTIES] + list(names), timeout=60)

    @staticmethod
    def fanotify_marks(pid):
        """The fanotify mark lines in /proc/<pid>/fdinfo (what `grep -rh ^fanotify` prints)."""
        lines = []
        if not pid:
            return command_result(1, '', 'no process')
        base = '/proc/%d/fdinfo' % int(pid)
        try:
            names = os.listdir(base)
        except OSError as exc:
            return command_result(2, '', str(exc))
        for name in names:
            try:
                with open(os.path.join(base, name), encoding='utf-8', errors='replace') as handle:
                    lines.extend(line.rstrip('\n') for line in handle if line.startswith('fanotify'))
            except OSError:
                continue  # the fd closed meanwhile
        return command_result(0 if lines else 1, '\n'.join(lines), '')

    @staticmethod
    def find_files(directory, patterns):
        """[{path, mtime}] of the files matching the glob patterns (what the find module returns)."""
        found = {}
        for pattern in patterns:
            for path in glob.glob(os.path.join(directory, pattern)):
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found[path] = {'path': path, 'mtime': st.st_mtime, 'size': st.st_size}
        return [found[p] for p in sorted(found)]


def os_release(path='/etc/os-release'):
    """{ID, ID_LIKE, PRETTY_NAME, ...} of the host."""
    data = {}
    try:
        with open(path, encoding='utf-8') as handle:
            for line in handle:
                key, sep, value = line.strip().partition('=')
                if sep:
                    data[key] = value.strip().strip('"\'')
    except OSError:
        pass
    return data


def debian_family(release):
    ids = [release.get('ID', '')] + release.get('ID_LIKE', '').split()
    return 'debian' in ids or 'ubuntu' in ids


def platform_error(role, release, advice=''):
    """The message a provider role gives on a platform it does not support (None when supported)."""
    if debian_family(release) and os.path.isdir('/run/systemd/system'):
        return None
    what = release.get('PRETTY_NAME') or release.get('ID') or 'an unknown system'
    if debian_family(release):
        what += ' without systemd running'
    return '%s supports Debian hosts with systemd; this host is %s.%s' % (role, what, (' ' + advice) if advice else '')


# -- files -----------------------------------------------------------------------
def _ids(owner, group):
    uid = pwd.getpwnam(owner).pw_uid if owner else -1
    gid = grp.getgrnam(group).gr_gid if group else -1
    return uid, gid


def file_state(path):
    """(content bytes or None, st or None) of a file."""
    try:
        st = os.stat(path)
        with open(path, 'rb') as handle:
            return handle.read(), st
    except FileNotFoundError:
        return None, None


def file_needs(path, content, owner, group, mode):
    """What writing ``content`` with that owner, group and mode would change: a list of words (empty: nothing)."""
    current, st = file_state(path)
    if current is None:
        return ['created']
    changes = []
    if current != content:
        changes.append('content')
    try:
        uid, gid = _ids(owner, group)
    except KeyError:
        return changes + ['owner']  # the user does not exist yet (check mode before the package)
    if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
        changes.append('owner')
    if mode is not None and stat.S_IMODE(st.st_mode) != int(mode, 8):
        changes.append('mode')
    return changes


def write_file(path, content, owner, group, mode):
    """Write atomically (module_utils/atomic_file.py) with owner, group and mode."""
    uid, gid = _ids(owner, group)
    replace_file(path, content, int(mode, 8) if mode else 0o644, uid=uid, gid=gid)


def ensure_dir(path, mode=0o755):
    """Create a root-owned directory (and its parents); return whether it was created."""
    if os.path.isdir(path):
        return False
    os.makedirs(path, mode)
    os.chmod(path, mode)
    return True


def text_diff(path, before, after, hide=False):
    """One entry of an Ansible diff list for a file."""
    if hide:
        before = '(hidden: the file holds a secret)\n' if before else ''
        after = '(hidden: the file holds a secret)\n'
    return {'before_header': path, 'after_header': path,
            'before': (before or b'').decode('utf-8', 'replace') if isinstance(before, bytes) else (before or ''),
            'after': after.decode('utf-8', 'replace') if isinstance(after, bytes) else after}
