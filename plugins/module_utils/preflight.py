# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Readiness checks before anything is changed: the facts, and the decision.

``gather`` reads the host (disk, memory, package-manager locks, pending reboot,
fanotify support) with no helper packages; ``evaluate`` turns those facts,
the detection result and the operator's requirements into blockers and
warnings. Blockers stop the replace phase before Kaspersky is touched.
"""

from __future__ import annotations

import errno
import fcntl
import os

from ansible_collections.phaseout.antivirus.plugins.module_utils.catalog import VENDORS

LOCK_FILES = (
    '/var/lib/dpkg/lock-frontend',
    '/var/lib/dpkg/lock',
    '/var/lib/rpm/.rpm.lock',
)


def lock_held(path):
    """True when another process holds ``path`` (dpkg and rpm use fcntl locks)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EACCES, errno.EAGAIN)
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def free_mb(path):
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize // (1024 * 1024)


def mem_available_mb(meminfo_text):
    for line in meminfo_text.splitlines():
        if line.startswith('MemAvailable:'):
            return int(line.split()[1]) // 1024
    return None


def kernel_config_has(config_text, option):
    return ('%s=y' % option) in config_text.splitlines()


def gather(root='/'):
    """Read the facts ``evaluate`` needs."""

    def path(p):
        return os.path.join(root, p.lstrip('/'))

    def read(p):
        try:
            with open(path(p), encoding='utf-8', errors='replace') as handle:
                return handle.read()
        except OSError:
            return None

    facts = {
        'free_mb': {p: free_mb(path(p)) for p in ('/', '/var', '/opt', '/tmp')},
        'mem_available_mb': mem_available_mb(read('/proc/meminfo') or ''),
        'locks_held': [p for p in LOCK_FILES if lock_held(path(p))],
        'reboot_required': os.path.exists(path('/var/run/reboot-required')) or
        os.path.exists(path('/run/reboot-required')),
        'fanotify': os.path.exists(path('/proc/sys/fs/fanotify')) or None,
        'systemd': os.path.isdir(path('/run/systemd/system')),
        'euid': os.geteuid(),
    }
    release = read('/proc/sys/kernel/osrelease')
    facts['kernel'] = release.strip() if release else None
    if facts['kernel']:
        config = read('/boot/config-%s' % facts['kernel'])
        if config:
            facts['fanotify'] = kernel_config_has(config, 'CONFIG_FANOTIFY')
            facts['fanotify_access_permissions'] = kernel_config_has(config, 'CONFIG_FANOTIFY_ACCESS_PERMISSIONS')
    return facts


DO_NOT_TOUCH = 'host is marked do-not-touch (phaseout_do_not_touch): remove the mark to include it'


def _pending_reboot(message, allow, blockers, warnings):
    """A reboot already pending is a warning, or a blocker when it is not allowed."""
    if allow:
        warnings.append(message)
    else:
        blockers.append(message + ': reboot first')


def evaluate(facts, detection, min_free_mb=500, min_mem_mb=256, allow_pending_reboot=True,
             do_not_touch=False, required_realtime=True):
    """Return {'ready': bool, 'blockers': [...], 'warnings': [...]}; each message names the fix."""
    blockers = []
    warnings = []
    if do_not_touch:
        blockers.append(DO_NOT_TOUCH)
    if facts.get('euid', 0) != 0:
        blockers.append('not running as root: set become: true for this host')
    for mount, free in sorted((facts.get('free_mb') or {}).items()):
        if free is not None and free < min_free_mb and mount in ('/', '/var', '/opt'):
            blockers.append('only %d MB free on %s (need %d MB): free some space' % (free, mount, min_free_mb))
    mem = facts.get('mem_available_mb')
    if mem is not None and mem < min_mem_mb:
        warnings.append('only %d MB of memory available: the replacement scanner may be killed (OOM)' % mem)
    for lock in facts.get('locks_held') or []:
        blockers.append('package manager lock %s is held by another process (apt, dnf or unattended-upgrades):'
                        ' retry when it finishes' % lock)
    if facts.get('reboot_required'):
        _pending_reboot('a reboot is already pending (/var/run/reboot-required)', allow_pending_reboot,
                        blockers, warnings)
    if required_realtime and facts.get('fanotify') is False:
        blockers.append('the kernel has no fanotify (CONFIG_FANOTIFY): the replacement cannot scan on access')
    if required_realtime and facts.get('fanotify_access_permissions') is False:
        warnings.append('the kernel lacks CONFIG_FANOTIFY_ACCESS_PERMISSIONS: on-access scanning can notify '
                        'but not block')
    blockers.extend(detection_blockers(detection))
    warnings.extend(detection_warnings(detection))
    return {'ready': not blockers, 'blockers': blockers, 'warnings': warnings}


def detection_warnings(detection):
    """What the operator should know before a swap: an interrupted one, two engines running."""
    warnings = []
    journal = (detection or {}).get('journal') or {}
    if journal.get('interrupted'):
        warnings.append('the last swap was %s; replace resumes from it (protection now: %s)'
                        % (journal.get('message') or 'interrupted', (detection or {}).get('protection') or 'unknown'))
    protection = (detection or {}).get('protection') or ''
    if '+' in protection:
        warnings.append('two real-time engines run at once (%s): replace stops Kaspersky first' % protection)
    return warnings


def detection_blockers(detection):
    """Blockers that come from what is installed, on any platform."""
    blockers = []
    for product in (detection or {}).get('products', []):
        if product['state'] == 'installed' and not product.get('removable'):
            blockers.append('%s is installed: phaseout does not remove it; take this host out of the wave'
                            % product['name'])
    windows = (detection or {}).get('windows') or {}
    if (windows.get('encryption') or {}).get('detected'):
        blockers.append('Kaspersky disk or file encryption detected: decrypt first')
    return blockers


def evaluate_windows(detection, allow_pending_reboot=True, do_not_touch=False, allow_encrypted=False):
    """evaluate() for a Windows host, from one collector call (kaspersky_info's Windows detection).

    Blockers: the do-not-touch mark, a product phaseout does not remove (the Administration Server;
    an unknown Kaspersky product, named with what is known of it), Kaspersky encryption (a warning
    with ``allow_encrypted``), a pending reboot (a warning unless ``allow_pending_reboot`` is false).
    The collector does not read free disk space or memory: those are left to the installers (a
    warning says so)."""
    blockers = []
    warnings = ['free disk space and memory are not checked on Windows: the installers check their own']
    if do_not_touch:
        blockers.append(DO_NOT_TOUCH)
    detection = detection or {}
    pending = (detection.get('windows') or {}).get('pending_reboot') or {}
    if pending.get('pending'):
        message = 'a reboot is already pending (%s)' % ', '.join(pending.get('reasons') or ['reason unknown'])
        if pending.get('vendor_files'):
            message += '; Kaspersky files wait for it: %s' % ', '.join(pending['vendor_files'][:3])
        _pending_reboot(message, allow_pending_reboot, blockers, warnings)
    for product in detection.get('products', []):
        if product['state'] != 'installed' or product.get('removable'):
            continue
        if product['id'] == 'kaspersky_other':
            win = product.get('windows') or {}
            known = ', '.join(x for x in (
                win.get('display_name') and '"%s"' % win['display_name'], product.get('version'),
                win.get('product_code'), ', '.join(product.get('signals') or ()),
                win.get('drivers') and 'drivers %s' % ', '.join(win['drivers'][:5])) if x)
            blockers.append('an unknown Kaspersky product is installed (%s): phaseout removes only catalogued '
                            'products; add it to the catalog or take this host out of the wave' % (known or 'no details'))
        else:
            blockers.append('%s is installed: phaseout does not remove it; take this host out of the wave'
                            % product['name'])
    encryption = (detection.get('windows') or {}).get('encryption') or {}
    if encryption.get('detected'):
        message = 'Kaspersky disk or file encryption detected (%s)' % '; '.join(encryption.get('evidence') or ())
        if allow_encrypted:
            warnings.append(message + ': allowed (allow_encrypted), make sure the data is decrypted')
        else:
            blockers.append('Kaspersky disk or file encryption detected: decrypt first')
    # an interrupted swap (the journal in %ProgramData%\phaseout) and two engines, as on Linux
    warnings.extend(detection_warnings(detection))
    return {'ready': not blockers, 'blockers': blockers, 'warnings': warnings}


# Options of the preflight_check module and of its action plugin (Windows hosts).
ARGUMENT_SPEC = {
    'vendor': {'type': 'str', 'default': 'kaspersky', 'choices': sorted(VENDORS)},
    'min_free_mb': {'type': 'int', 'default': 500},
    'min_mem_mb': {'type': 'int', 'default': 256},
    'allow_pending_reboot': {'type': 'bool', 'default': True},
    'do_not_touch': {'type': 'bool', 'default': False},
    'required_realtime': {'type': 'bool', 'default': True},
    # Windows only: encryption is a warning instead of a blocker (accepted, and ignored, on Linux).
    'allow_encrypted': {'type': 'bool', 'default': False},
}
