# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The replacement-provider health contract, decided in Python (shared by the filters and the modules).

Raw probe results from the host (the registered results of read-only
commands, in Ansible's shape, or the same dicts built by the modules
phaseout.antivirus.clamav_verify and mdatp_verify on the host itself) are
turned here into the one health dictionary every provider answers:

    provider              provider id (clamav, mdatp, or the vendor name)
    installed             the provider's package is installed
    running               its daemon is running
    realtime              real-time (on-access) protection is on
    signatures_present    a signature database is present
    signature_age_hours   age of the newest signatures (None: unknown)
    eicar_detected        the on-demand scanner detected the EICAR file
                          (None: the test was not run)
    eicar_blocked         on-access protection blocked/removed the EICAR
                          file (None: the test was not run)
    healthy               no issue was found
    issues                list of human-readable problems

What is *required* for healthy is given by ``expect``:

    realtime                  real-time protection must be on (default true;
                              false while staging next to Kaspersky)
    eicar                     the EICAR tests must have run and passed
                              (default true; false in check mode)
    max_signature_age_hours   oldest acceptable signatures (0/None: no limit)

Functions (also filters in the phaseout.antivirus namespace, plugins/filter/provider_health.py):

    clamav_health(probes, expect)      ClamAV (clamd + clamonacc)
    mdatp_health(probes, expect)       Microsoft Defender for Endpoint
    generic_health(probes, expect)     any vendor package
    mdatp_health_fields(stdout)        parse `mdatp health` output
    installed_packages(result)         parse a dpkg-query / rpm -q probe
    systemd_units(result)              parse a systemctl show probe
    eicar_test_string(_)               the 68-byte EICAR test file content

A registered command result that was skipped (check mode, or the test was
not applicable) is a dict without ``rc``; every filter treats it, ``None``
and a missing key alike as "not run", so a dry run never crashes here.
"""

from __future__ import annotations

import binascii
import json
import re
import time

# The EICAR anti-malware test file, hex-encoded so that no file of this
# repository contains the literal string (scanners on developer machines
# would quarantine it). 68 bytes, MD5 44d88612fea8a8f36de82e1278abb02f.
_EICAR_HEX = (
    '58354f2150254041505b345c505a58353428505e2937434329377d24'
    '45494341522d5354414e444152442d414e544956495255532d544553'
    '542d46494c452124482b482a'
)

# `mdatp health` prints `name   : value [managed]` lines.
_MDATP_LINE = re.compile(r'^(?P<key>[a-z0-9_]+)\s+:\s?(?P<value>.*?)\s*$')
_MANAGED_SUFFIX = ' [managed]'

# clamd's version answer: "ClamAV 1.4.6/27474/Mon Nov 25 09:39:01 2024".
_CLAMAV_VERSION = re.compile(
    r'^ClamAV (?P<engine>[^/\s]+)(?:/(?P<db_version>\d+)/(?P<db_time>.+?))?\s*$')

# `mdatp scan custom` summary line: "        1 threat(s) detected".
_MDATP_THREATS = re.compile(r'(\d+)\s+threat\(s\)\s+detected')

_DEFAULT_EXPECT = {
    'realtime': True,
    'eicar': True,
    'max_signature_age_hours': 0,
}


def eicar_test_string(_value=None):
    """Return the 68-byte EICAR test file content (the input is ignored)."""
    return binascii.unhexlify(_EICAR_HEX).decode('ascii')


def _ran(result):
    """True when a registered command result exists and actually ran."""
    return isinstance(result, dict) and not result.get('skipped') and 'rc' in result


def _text(result, key='stdout'):
    if not isinstance(result, dict):
        return ''
    value = result.get(key)
    return value if isinstance(value, str) else ''


def _expect(expect):
    merged = dict(_DEFAULT_EXPECT)
    merged.update({k: v for k, v in (expect or {}).items() if v is not None})
    return merged


def installed_packages(result):
    """{name: version} of the installed packages in a package probe.

    The probe is the registered result of
    ``dpkg-query --show --showformat='${Package}\\t${db:Status-Abbrev}\\t${Version}\\n' NAME...``
    or ``rpm -q --queryformat '%{NAME}\\tii \\t%{VERSION}-%{RELEASE}\\n' NAME...``;
    either exits non-zero when a name is unknown and still lists the others.
    Packages dpkg knows but has removed (status ``rc``, ``un``) are not installed.
    """
    packages = {}
    for line in _text(result).splitlines():
        fields = line.split('\t')
        if len(fields) == 3 and fields[1].startswith('ii'):
            packages[fields[0].split(':')[0]] = fields[2]
    return packages


def systemd_units(result):
    """{unit: {load, active, sub, enabled, main_pid}} from a systemctl show probe.

    The probe is the registered result of
    ``systemctl show --property=Id,LoadState,ActiveState,SubState,UnitFileState,MainPID UNIT...``:
    one block of ``Key=Value`` lines per unit, blocks separated by an empty line.
    A unit systemd does not know has ``load: not-found``.
    """
    units = {}
    for block in _text(result).split('\n\n'):
        props = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
        if props.get('Id'):
            units[props['Id']] = {
                'load': props.get('LoadState', ''),
                'active': props.get('ActiveState', ''),
                'sub': props.get('SubState', ''),
                'enabled': props.get('UnitFileState', ''),
                'main_pid': int(props['MainPID']) if props.get('MainPID', '').isdigit() else 0,
            }
    return units


def _package_installed(packages, names):
    """packages: a package probe result, or ansible_facts.packages."""
    if isinstance(packages, dict) and ('rc' in packages or packages.get('skipped')):
        packages = installed_packages(packages)
    packages = packages or {}
    return bool(names) and all(packages.get(name) for name in names)


def _service_state(services, name):
    """'running' etc. from a systemctl show probe, or from ansible_facts.services."""
    if isinstance(services, dict) and ('rc' in services or services.get('skipped')):
        unit = systemd_units(services).get(name) or {}
        return 'running' if (unit.get('active'), unit.get('sub')) == ('active', 'running') else unit.get('active')
    service = (services or {}).get(name) or {}
    return service.get('state')


def _hours_since(epoch, now):
    return round(max(0.0, now - float(epoch)) / 3600.0, 1)


def _stat_ran(result):
    """True when a registered stat result exists and actually ran."""
    return isinstance(result, dict) and not result.get('skipped') and 'stat' in result


def _gone(stat_result):
    """True when a registered stat result shows the file no longer exists."""
    return _stat_ran(stat_result) and not stat_result['stat'].get('exists', True)


def _finish(provider, expect, issues, *, installed, running, realtime, signatures_present,
            signature_age_hours, eicar_detected, eicar_blocked):
    """Apply the common contract rules and return the health dict."""
    facts = {
        'installed': installed,
        'running': running,
        'realtime': realtime,
        'signatures_present': signatures_present,
        'signature_age_hours': signature_age_hours,
        'eicar_detected': eicar_detected,
        'eicar_blocked': eicar_blocked,
    }
    expect = _expect(expect)
    issues = list(issues)
    if not facts['installed']:
        issues.insert(0, '%s is not installed' % provider)
    elif not facts['running']:
        issues.insert(0, 'the %s daemon is not running' % provider)
    if expect['realtime'] and not facts['realtime']:
        issues.append('real-time protection is off')
    if facts['signatures_present'] is False:
        issues.append('no signature database is present')
    age = facts['signature_age_hours']
    limit = expect['max_signature_age_hours']
    if limit and age is not None and age > limit:
        issues.append('signatures are %s hours old (limit %s)' % (age, limit))
    if expect['eicar']:
        if facts['eicar_detected'] is None:
            issues.append('the on-demand EICAR test was not run')
        elif not facts['eicar_detected']:
            issues.append('the on-demand scan did not detect the EICAR test file')
        if expect['realtime']:
            if facts['eicar_blocked'] is None:
                issues.append('the on-access EICAR test was not run')
            elif not facts['eicar_blocked']:
                issues.append('on-access protection did not block the EICAR test file')
    health = {'provider': provider}
    health.update(facts)
    health['issues'] = issues
    health['healthy'] = not issues
    return health


def clamav_health(probes, expect=None):
    """Decide ClamAV's health from raw probes.

    probes keys: packages (a dpkg-query probe result, or
    ansible_facts.packages), services (a systemctl show probe result, or
    ansible_facts.services), package_names,
    daemon_service, onaccess_service, fanotify (grep of clamonacc's
    /proc/PID/fdinfo), database_files (find module ``files``), version
    (``clamdscan --version``), scan (``clamdscan`` of the EICAR file),
    access (``cat`` of the EICAR file in a watched directory), now (epoch;
    default: the controller's clock).
    """
    probes = probes or {}
    now = float(probes.get('now') or time.time())
    issues = []

    installed = _package_installed(probes.get('packages'), probes.get('package_names') or [])
    daemon_state = _service_state(probes.get('services'), probes.get('daemon_service', 'clamav-daemon.service'))
    running = daemon_state == 'running'

    onaccess_state = _service_state(probes.get('services'), probes.get('onaccess_service', 'clamav-clamonacc.service'))
    marks = [line for line in _text(probes.get('fanotify')).splitlines()
             if line.startswith(('fanotify ino:', 'fanotify mnt_id:', 'fanotify sdev:'))]
    realtime = onaccess_state == 'running' and bool(marks)
    if onaccess_state == 'running' and not marks:
        issues.append('clamonacc is running but holds no fanotify marks (check OnAccessIncludePath and CAP_SYS_ADMIN)')

    db_files = probes.get('database_files') or []
    signatures_present = bool(db_files)
    age = None
    match = _CLAMAV_VERSION.match(_text(probes.get('version')).strip())
    if match and match.group('db_time'):
        try:
            built = time.mktime(time.strptime(match.group('db_time'), '%a %b %d %H:%M:%S %Y'))
            age = _hours_since(built, now)
        except ValueError:
            age = None
    if age is None and db_files:
        age = _hours_since(max(float(f.get('mtime', 0)) for f in db_files), now)

    scan = probes.get('scan')
    eicar_detected = None
    if _ran(scan):
        eicar_detected = scan['rc'] == 1 and ' FOUND' in _text(scan)
        if scan['rc'] not in (0, 1):
            issues.append('clamdscan failed (rc %s): %s' % (
                scan['rc'], (_text(scan, 'stderr') or _text(scan)).strip()[:200]))

    access = probes.get('access')
    eicar_blocked = None
    if _ran(access):
        eicar_blocked = access['rc'] != 0 and 'Operation not permitted' in _text(access, 'stderr')

    return _finish('clamav', expect, issues, installed=installed, running=running, realtime=realtime,
                   signatures_present=signatures_present, signature_age_hours=age,
                   eicar_detected=eicar_detected, eicar_blocked=eicar_blocked)


def _mdatp_value(raw):
    raw = raw.strip()
    if raw in ('true', 'false'):
        return raw == 'true'
    if raw.startswith(('[', '"')):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.strip('"')
    if re.fullmatch(r'-?\d+', raw):
        return int(raw)
    return raw


def mdatp_health_fields(stdout):
    """Parse `mdatp health` output into {field: value}.

    Booleans, numbers, quoted strings and JSON lists are converted; the
    ``[managed]`` suffix (a value set by mdatp_managed.json) is removed and
    the field name is listed under the ``_managed`` key.
    """
    fields = {'_managed': []}
    for line in (stdout or '').splitlines():
        match = _MDATP_LINE.match(line)
        if not match:
            continue
        key, value = match.group('key'), match.group('value')
        if value.endswith(_MANAGED_SUFFIX):
            value = value[:-len(_MANAGED_SUFFIX)]
            fields['_managed'].append(key)
        fields[key] = _mdatp_value(value)
    return fields


def mdatp_health(probes, expect=None):
    """Decide Defender for Endpoint's health from raw probes.

    probes keys: packages, services, package_name, service, health (``mdatp
    health``), connectivity (``mdatp connectivity test``; None: not run),
    scan (``mdatp scan custom --path`` of the EICAR file), scan_path,
    onaccess (``stat`` of the on-access EICAR file after the wait), threats
    (``mdatp threat list``).
    """
    probes = probes or {}
    issues = []
    installed = _package_installed(probes.get('packages'), [probes.get('package_name', 'mdatp')])
    service_running = _service_state(probes.get('services'), probes.get('service', 'mdatp.service')) == 'running'

    health = probes.get('health')
    fields = {}
    if _ran(health):
        if health['rc'] == 0:
            fields = mdatp_health_fields(_text(health))
        elif installed:
            issues.append('mdatp health failed (rc %s): %s' % (
                health['rc'], (_text(health, 'stderr') or _text(health)).strip()[:200]))
    running = service_running and bool(fields)

    realtime = fields.get('real_time_protection_enabled') is True
    if fields:
        if fields.get('healthy') is not True:
            reported = fields.get('health_issues') or []
            issues.append('mdatp reports unhealthy: %s' % (', '.join(map(str, reported)) or 'no reason given'))
        if fields.get('licensed') is not True:
            issues.append('mdatp is not licensed (onboarding file missing or invalid)')
        # While staging next to Kaspersky a conflict is expected; it matters
        # once mdatp is to enforce.
        conflicts = fields.get('conflicting_applications') or []
        if conflicts and _expect(expect)['realtime']:
            issues.append('conflicting applications: %s' % ', '.join(map(str, conflicts)))

    connectivity = probes.get('connectivity')
    if _ran(connectivity) and connectivity['rc'] != 0:
        issues.append('mdatp connectivity test failed (rc %s): %s' % (
            connectivity['rc'], (_text(connectivity, 'stderr') or _text(connectivity)).strip()[-200:]))

    definitions = fields.get('definitions_status')
    signatures_present = None
    if fields:
        signatures_present = bool(fields.get('definitions_version')) and definitions not in ('unavailable', None)
    minutes = fields.get('definitions_updated_minutes_ago')
    age = round(minutes / 60.0, 1) if isinstance(minutes, int) else None

    scan = probes.get('scan')
    threats = _text(probes.get('threats'))
    scan_path = probes.get('scan_path') or ''
    eicar_detected = None
    if _ran(scan):
        found = _MDATP_THREATS.search(_text(scan))
        # With real-time protection on, the daemon may quarantine the file
        # before the on-demand scan reaches it: the threat list then shows
        # the detection instead of the scan summary.
        eicar_detected = bool(found and int(found.group(1)) > 0) or bool(scan_path and scan_path in threats)

    onaccess = probes.get('onaccess')
    eicar_blocked = None
    if _stat_ran(onaccess):
        eicar_blocked = _gone(onaccess)

    return _finish('mdatp', expect, issues, installed=installed, running=running, realtime=realtime,
                   signatures_present=bool(signatures_present), signature_age_hours=age,
                   eicar_detected=eicar_detected, eicar_blocked=eicar_blocked)


def generic_health(probes, expect=None):
    """Decide a generic vendor's health from raw probes.

    probes keys: provider (vendor name), packages, services, package_name,
    service, health (health command; rc 0 = healthy), realtime (real-time
    command; rc 0 = on; None/skipped = not configured, then the on-access
    test decides), signature_files (find ``files``; None = not configured,
    then the health command's verdict stands for them),
    scan (EICAR scan command), detected_rcs (scan return codes meaning
    "detected"), ondemand (``stat`` of the scanned file after the scan: gone
    means real-time protection got it first), onaccess (``stat`` of the on-access EICAR file after the
    wait), access (``cat`` of that file when it is still there), now.
    """
    probes = probes or {}
    now = float(probes.get('now') or time.time())
    provider = probes.get('provider') or 'generic'
    issues = []
    installed = _package_installed(probes.get('packages'), [probes.get('package_name')] if probes.get('package_name') else [])
    service = probes.get('service')
    running = _service_state(probes.get('services'), service) == 'running' if service else installed

    health = probes.get('health')
    if _ran(health) and health['rc'] != 0:
        issues.append('the health command failed (rc %s): %s' % (
            health['rc'], (_text(health, 'stderr') or _text(health)).strip()[:200]))

    realtime_probe = probes.get('realtime')
    realtime = None
    if _ran(realtime_probe):
        realtime = realtime_probe['rc'] == 0

    signature_files = probes.get('signature_files')
    signatures_present = None
    age = None
    if signature_files is not None:
        signatures_present = bool(signature_files)
        if signature_files:
            age = _hours_since(max(float(f.get('mtime', 0)) for f in signature_files), now)
    elif _ran(health):
        # No signature paths configured: the vendor's own health verdict
        # stands for its signatures (their age stays unknown).
        signatures_present = health['rc'] == 0

    scan = probes.get('scan')
    eicar_detected = None
    if _ran(scan):
        # With real-time protection on, the vendor may remove the file before
        # the on-demand scanner reaches it: that is a detection too.
        eicar_detected = scan['rc'] in (probes.get('detected_rcs') or [1]) or _gone(probes.get('ondemand'))

    onaccess = probes.get('onaccess')
    access = probes.get('access')
    eicar_blocked = None
    if _stat_ran(onaccess):
        # Removed by the vendor, or still there but its reading refused.
        eicar_blocked = _gone(onaccess) or (_ran(access) and access['rc'] != 0)
    if realtime is None:
        # The vendor cannot tell: the on-access test is the evidence.
        realtime = bool(eicar_blocked)

    return _finish(provider, expect, issues, installed=installed, running=running, realtime=realtime,
                   signatures_present=signatures_present, signature_age_hours=age,
                   eicar_detected=eicar_detected, eicar_blocked=eicar_blocked)
