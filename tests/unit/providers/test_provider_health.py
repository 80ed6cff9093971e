# SPDX-License-Identifier: GPL-3.0-or-later
"""The provider health contract: raw probe results (real-shaped) -> health dict."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

from ansible_collections.phaseout.antivirus.plugins.filter import provider_health as ph

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
NOW = 1_800_000_000.0
CONTRACT_KEYS = {'provider', 'installed', 'running', 'realtime', 'signatures_present',
                 'signature_age_hours', 'eicar_detected', 'eicar_blocked', 'healthy', 'issues'}


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as handle:
        return handle.read()


def ran(rc, stdout='', stderr=''):
    """A registered command result, as Ansible returns it."""
    return {'changed': False, 'rc': rc, 'stdout': stdout, 'stderr': stderr,
            'stdout_lines': stdout.splitlines(), 'stderr_lines': stderr.splitlines()}


SKIPPED = {'changed': False, 'skipped': True, 'skip_reason': 'Conditional result was False'}


# --- EICAR -----------------------------------------------------------------

def test_eicar_string_is_the_standard_68_byte_file():
    content = ph.eicar_test_string().encode('ascii')
    assert len(content) == 68
    assert hashlib.md5(content).hexdigest() == '44d88612fea8a8f36de82e1278abb02f'  # nosec: test vector


def test_filters_are_registered():
    names = set(ph.FilterModule().filters())
    assert names == {'clamav_health', 'mdatp_health', 'mdatp_health_fields', 'generic_health', 'eicar_test_string',
                     'installed_packages', 'systemd_units'}


# --- ClamAV ------------------------------------------------------------------

# dpkg-query over four ClamAV packages, mdatp removed (rc) and an unknown name: rc 1.
CLAMAV_PACKAGES = ran(1, fixture('dpkg-query-clamav.txt'), 'dpkg-query: no packages found matching nosuchpkg')
PACKAGE_NAMES = ['clamav', 'clamav-daemon', 'clamav-freshclam', 'clamdscan']


# --- package probes ----------------------------------------------------------

def test_installed_packages_from_dpkg_query():
    assert ph.installed_packages(CLAMAV_PACKAGES) == {
        'clamav': '1.4.6+dfsg-0+deb12u1', 'clamav-daemon': '1.4.6+dfsg-0+deb12u1',
        'clamav-freshclam': '1.4.6+dfsg-0+deb12u1', 'clamdscan': '1.4.6+dfsg-0+deb12u1'}


def test_installed_packages_from_rpm_query():
    out = 'acme-av\tii \t2.0-1.el9\npackage acme-gui is not installed\n'
    assert ph.installed_packages(ran(1, out)) == {'acme-av': '2.0-1.el9'}


def test_installed_packages_skipped_or_missing():
    assert ph.installed_packages(SKIPPED) == {}
    assert ph.installed_packages(None) == {}


def test_package_facts_are_accepted_too():
    facts = {'clamav': [{'name': 'clamav', 'version': '1.4.6', 'source': 'apt'}]}
    assert ph._package_installed(facts, ['clamav']) is True
    assert ph._package_installed(facts, ['clamav', 'clamdscan']) is False


def services(**states):
    return {name: {'name': name, 'state': state, 'status': 'enabled', 'source': 'systemd'}
            for name, state in states.items()}


# systemctl show over the ClamAV units, as the role probes them.
CLAMAV_RUNNING = ran(0, fixture('systemctl-show-clamav-active.txt'))
CLAMAV_STAGED = ran(0, fixture('systemctl-show-clamav-staged.txt'))
FDINFO = fixture('clamonacc-fdinfo.txt')
SCAN_FOUND = ran(1, fixture('clamdscan-found.txt'))
CAT_BLOCKED = ran(1, '', 'cat: /srv/watch/tmp.x1/eicar.com: Operation not permitted')
DB_FILES = [{'path': '/var/lib/clamav/local-eicar.hdb', 'mtime': NOW - 1800, 'size': 43}]


def clamav_probes(**override):
    probes = {
        'packages': CLAMAV_PACKAGES, 'services': CLAMAV_RUNNING, 'package_names': PACKAGE_NAMES,
        'daemon_service': 'clamav-daemon.service', 'onaccess_service': 'clamav-clamonacc.service',
        'fanotify': ran(0, FDINFO), 'database_files': DB_FILES,
        'version': ran(0, fixture('clamdscan-version-custom-db.txt')),
        'scan': SCAN_FOUND, 'access': CAT_BLOCKED, 'now': NOW,
    }
    probes.update(override)
    return probes


def test_clamav_fully_healthy():
    health = ph.clamav_health(clamav_probes())
    assert set(health) == CONTRACT_KEYS
    assert health['issues'] == []
    assert health['healthy'] is True
    assert health['provider'] == 'clamav'
    assert health['realtime'] is True
    assert health['eicar_detected'] is True and health['eicar_blocked'] is True
    # no daily database: the age comes from the newest database file
    assert health['signature_age_hours'] == 0.5


def test_clamav_age_from_daily_database_date():
    built = time.strftime('%a %b %d %H:%M:%S %Y', time.localtime(NOW - 10 * 3600))
    version = ran(0, 'ClamAV 1.4.6/27474/%s\n' % built)
    health = ph.clamav_health(clamav_probes(version=version))
    assert health['signature_age_hours'] == 10.0
    old = ph.clamav_health(clamav_probes(version=version), {'max_signature_age_hours': 6})
    assert old['healthy'] is False
    assert old['issues'] == ['signatures are 10.0 hours old (limit 6)']


def test_clamav_staged_is_healthy_without_realtime():
    health = ph.clamav_health(clamav_probes(services=CLAMAV_STAGED, fanotify=SKIPPED, access=SKIPPED),
                              {'realtime': False})
    assert health['healthy'] is True
    assert health['realtime'] is False
    assert health['eicar_blocked'] is None


def test_clamav_staged_fails_the_enforcing_contract():
    health = ph.clamav_health(clamav_probes(services=CLAMAV_STAGED, fanotify=SKIPPED, access=SKIPPED))
    assert health['healthy'] is False
    assert health['issues'] == ['real-time protection is off', 'the on-access EICAR test was not run']


def test_clamav_onaccess_without_marks_is_named():
    health = ph.clamav_health(clamav_probes(fanotify=ran(0, 'fanotify flags:10 event-flags:0\n')))
    assert health['realtime'] is False
    assert health['issues'][0].startswith('clamonacc is running but holds no fanotify marks')


def test_clamav_read_not_blocked():
    health = ph.clamav_health(clamav_probes(access=ran(0, ph.eicar_test_string())))
    assert health['eicar_blocked'] is False
    assert health['issues'] == ['on-access protection did not block the EICAR test file']


def test_clamav_scan_not_detected_and_scan_errors():
    clean = ph.clamav_health(clamav_probes(scan=ran(0, '/tmp/x/eicar.com: OK\n')))
    assert clean['eicar_detected'] is False
    assert 'the on-demand scan did not detect the EICAR test file' in clean['issues']
    error = ph.clamav_health(clamav_probes(scan=ran(2, '', fixture('clamdscan-no-daemon.txt'))))
    assert error['eicar_detected'] is False
    assert error['issues'][0].startswith('clamdscan failed (rc 2): ERROR: Could not connect to clamd')


def test_clamav_nothing_installed_in_check_mode():
    """A dry run on a fresh host: probes skipped or empty, nothing crashes."""
    health = ph.clamav_health({'packages': ran(1, '', 'dpkg-query: no packages found matching clamav'),
                               'services': {}, 'package_names': PACKAGE_NAMES,
                               'fanotify': SKIPPED, 'database_files': [], 'version': SKIPPED,
                               'scan': SKIPPED, 'access': SKIPPED}, {'eicar': False})
    assert health['installed'] is False and health['running'] is False
    assert health['signatures_present'] is False and health['signature_age_hours'] is None
    assert health['issues'] == ['clamav is not installed', 'real-time protection is off',
                                'no signature database is present']


def test_clamav_onaccess_unit_failed():
    failed = ran(0, fixture('systemctl-show-clamonacc-failed.txt'))
    health = ph.clamav_health(clamav_probes(services=failed, fanotify=SKIPPED, access=SKIPPED))
    assert health['running'] is True and health['realtime'] is False
    assert 'real-time protection is off' in health['issues']


def test_clamav_service_facts_are_accepted_too():
    facts = services(**{'clamav-daemon.service': 'running', 'clamav-clamonacc.service': 'running'})
    assert ph.clamav_health(clamav_probes(services=facts))['healthy'] is True


def test_systemd_units_from_systemctl_show():
    units = ph.systemd_units(CLAMAV_STAGED)
    assert units['clamav-daemon.service'] == {'load': 'loaded', 'active': 'active', 'sub': 'running',
                                              'enabled': 'enabled', 'main_pid': 3919}
    assert units['clamav-clamonacc.service']['active'] == 'inactive'
    assert units['nosuch.service']['load'] == 'not-found'
    assert ph.systemd_units(SKIPPED) == {}


def test_clamav_daemon_stopped():
    stopped = services(**{'clamav-daemon.service': 'inactive'})
    health = ph.clamav_health(clamav_probes(services=stopped, fanotify=SKIPPED, scan=SKIPPED, access=SKIPPED),
                              {'realtime': False, 'eicar': False})
    assert health['issues'] == ['the clamav daemon is not running']


def test_clamav_none_probes():
    health = ph.clamav_health(None, None)
    assert health['healthy'] is False
    assert set(health) == CONTRACT_KEYS


# --- mdatp -------------------------------------------------------------------

MDATP_PACKAGES = ran(0, 'mdatp\tii \t101.24072.0001\n')
MDATP_RUNNING = services(**{'mdatp.service': 'running'})
SCAN_PATH = '/tmp/ansible.abc/eicar.com'
MDATP_SCAN_FOUND = ran(0, fixture('mdatp-scan-found.txt'))
MDATP_THREATS = ran(0, fixture('mdatp-threat-list.txt'))
GONE = {'changed': False, 'stat': {'exists': False}}
STILL_THERE = {'changed': False, 'stat': {'exists': True, 'size': 68}}


def mdatp_probes(**override):
    probes = {'packages': MDATP_PACKAGES, 'services': MDATP_RUNNING, 'package_name': 'mdatp',
              'service': 'mdatp.service', 'health': ran(0, fixture('mdatp-health-realtime.txt')),
              'scan': MDATP_SCAN_FOUND, 'scan_path': SCAN_PATH, 'threats': MDATP_THREATS, 'onaccess': GONE}
    probes.update(override)
    return probes


def test_mdatp_health_fields_parse_types_and_managed():
    fields = ph.mdatp_health_fields(fixture('mdatp-health-realtime.txt'))
    assert fields['healthy'] is True
    assert fields['health_issues'] == []
    assert fields['definitions_updated_minutes_ago'] == 95
    assert fields['definitions_version'] == '1.415.229.0'
    assert fields['real_time_protection_enabled'] is True
    assert fields['product_expiration'] == 'Oct 23, 2025 at 12:00:00 AM'
    assert fields['edr_group_ids'] == ''
    assert fields['_managed'] == ['passive_mode_enabled', 'real_time_protection_enabled']


def test_mdatp_single_field_output():
    assert ph.mdatp_health_fields('') == {'_managed': []}
    # `mdatp health --field x` prints the bare value: not a key line
    assert ph.mdatp_health_fields('true\n') == {'_managed': []}


def test_mdatp_fully_healthy():
    health = ph.mdatp_health(mdatp_probes())
    assert set(health) == CONTRACT_KEYS
    assert health['issues'] == []
    assert health['healthy'] is True
    assert health['signature_age_hours'] == 1.6
    assert health['eicar_detected'] is True and health['eicar_blocked'] is True


def test_mdatp_detection_by_realtime_before_the_scan():
    """RTP quarantined the file first: the scan saw nothing, the threat list has it."""
    health = ph.mdatp_health(mdatp_probes(scan=ran(0, fixture('mdatp-scan-clean.txt'))))
    assert health['eicar_detected'] is True
    missed = ph.mdatp_health(mdatp_probes(scan=ran(0, fixture('mdatp-scan-clean.txt')), threats=ran(0, '')))
    assert missed['eicar_detected'] is False


def test_mdatp_passive_staging():
    probes = mdatp_probes(health=ran(0, fixture('mdatp-health-passive.txt')), onaccess=SKIPPED)
    assert ph.mdatp_health(probes, {'realtime': False})['healthy'] is True
    enforcing = ph.mdatp_health(probes)
    assert enforcing['issues'] == ['real-time protection is off', 'the on-access EICAR test was not run']


def test_mdatp_unlicensed_with_kaspersky_running():
    probes = mdatp_probes(health=ran(0, fixture('mdatp-health-unlicensed-conflict.txt')), onaccess=STILL_THERE)
    health = ph.mdatp_health(probes)
    assert health['healthy'] is False
    assert health['issues'] == [
        'mdatp reports unhealthy: no license found',
        'mdatp is not licensed (onboarding file missing or invalid)',
        'conflicting applications: name:kesl, pid:412, path:/opt/kaspersky/kesl/libexec/kesl',
        'real-time protection is off',
        'on-access protection did not block the EICAR test file',
    ]


def test_mdatp_staged_next_to_kaspersky_the_conflict_is_expected():
    conflict = fixture('mdatp-health-unlicensed-conflict.txt').replace(
        'healthy                                     : false', 'healthy                                     : true').replace(
        'health_issues                               : ["no license found"]', 'health_issues                               : []').replace(
        'licensed                                    : false', 'licensed                                    : true')
    probes = mdatp_probes(health=ran(0, conflict), onaccess=SKIPPED)
    assert ph.mdatp_health(probes, {'realtime': False})['issues'] == []
    assert 'conflicting applications' in ph.mdatp_health(probes)['issues'][0]


def test_mdatp_daemon_down():
    probes = mdatp_probes(services=services(**{'mdatp.service': 'failed'}),
                          health=ran(1, '', 'ERROR: Could not connect to daemon'),
                          scan=SKIPPED, threats=SKIPPED, onaccess=SKIPPED)
    health = ph.mdatp_health(probes, {'eicar': False})
    assert health['running'] is False
    assert health['issues'][:2] == ['the mdatp daemon is not running',
                                    'mdatp health failed (rc 1): ERROR: Could not connect to daemon']


def test_mdatp_not_installed_check_mode():
    removed = ran(0, 'mdatp\trc \t101.25032.0008\n')
    health = ph.mdatp_health({'packages': removed, 'services': {}, 'health': SKIPPED, 'scan': SKIPPED,
                              'threats': SKIPPED, 'onaccess': SKIPPED}, {'eicar': False})
    assert health['issues'][0] == 'mdatp is not installed'
    assert health['eicar_detected'] is None and health['eicar_blocked'] is None


def test_mdatp_connectivity_failure_is_an_issue():
    probes = mdatp_probes(connectivity=ran(1, 'Testing connection with https://x.cp.wd.microsoft.com/api/report ... '
                                              '[ERROR, Could not resolve host]'))
    health = ph.mdatp_health(probes)
    assert health['healthy'] is False
    assert health['issues'][0].startswith('mdatp connectivity test failed (rc 1): Testing connection')
    assert ph.mdatp_health(mdatp_probes(connectivity=ran(0, 'ok')))['healthy'] is True


def test_mdatp_onaccess_not_removed():
    health = ph.mdatp_health(mdatp_probes(onaccess=STILL_THERE))
    assert health['issues'] == ['on-access protection did not block the EICAR test file']


# --- generic -----------------------------------------------------------------

GENERIC_PACKAGES = ran(0, 'acme-av\tii \t2.0-1\n')


def generic_probes(**override):
    probes = {'provider': 'acme-av', 'packages': GENERIC_PACKAGES, 'package_name': 'acme-av',
              'services': services(**{'acme-av.service': 'running'}), 'service': 'acme-av.service',
              'health': ran(0, 'ok'), 'realtime': ran(0), 'signature_files': DB_FILES,
              'scan': ran(1, 'infected'), 'detected_rcs': [1], 'onaccess': GONE, 'now': NOW}
    probes.update(override)
    return probes


def test_generic_healthy():
    health = ph.generic_health(generic_probes())
    assert health['provider'] == 'acme-av'
    assert health['issues'] == []
    assert health['signature_age_hours'] == 0.5


def test_generic_health_command_fails_and_custom_rcs():
    health = ph.generic_health(generic_probes(health=ran(3, '', 'engine not loaded'), scan=ran(50),
                                              detected_rcs=[50, 51]))
    assert health['eicar_detected'] is True
    assert health['issues'] == ['the health command failed (rc 3): engine not loaded']


def test_generic_unconfigured_probes_are_unknown_not_failures():
    health = ph.generic_health(generic_probes(signature_files=None, health=SKIPPED, realtime=SKIPPED,
                                              onaccess=SKIPPED), {'realtime': False})
    assert health['signatures_present'] is None
    assert health['realtime'] is False
    assert health['healthy'] is True


def test_generic_without_signature_paths_the_health_command_stands_for_them():
    healthy = ph.generic_health(generic_probes(signature_files=None))
    assert healthy['signatures_present'] is True and healthy['signature_age_hours'] is None
    failing = ph.generic_health(generic_probes(signature_files=None, health=ran(1, '', 'no engine')))
    assert failing['signatures_present'] is False


def test_generic_without_realtime_command_the_onaccess_test_decides():
    health = ph.generic_health(generic_probes(realtime=SKIPPED))
    assert health['realtime'] is True and health['healthy'] is True


def test_generic_blocked_read_counts_as_blocked():
    blocked = ph.generic_health(generic_probes(onaccess=STILL_THERE,
                                               access=ran(1, '', 'cat: x: Permission denied')))
    assert blocked['eicar_blocked'] is True
    readable = ph.generic_health(generic_probes(onaccess=STILL_THERE, access=ran(0, 'X5O')))
    assert readable['eicar_blocked'] is False
    assert readable['issues'] == ['on-access protection did not block the EICAR test file']


@pytest.mark.parametrize('scan_rc, detected', [(0, False), (1, True), (2, False)])
def test_generic_default_detected_rc(scan_rc, detected):
    probes = generic_probes(scan=ran(scan_rc))
    del probes['detected_rcs']
    assert ph.generic_health(probes)['eicar_detected'] is detected


def test_generic_realtime_removed_the_file_before_the_scan():
    probes = generic_probes(scan=ran(2, '', 'scan: no such file'), ondemand=GONE)
    assert ph.generic_health(probes)['eicar_detected'] is True
    probes = generic_probes(scan=ran(0, 'clean'), ondemand=STILL_THERE)
    assert ph.generic_health(probes)['eicar_detected'] is False


def test_generic_without_service_uses_package():
    health = ph.generic_health(generic_probes(service=None, services={}), {'realtime': True})
    assert health['running'] is True
