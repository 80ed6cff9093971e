# SPDX-License-Identifier: GPL-3.0-or-later
"""clamav_setup, clamav_verify and their host helpers, with the exact argv of every command.

The module logic runs against a fake AnsibleModule whose run_command answers
from a table of real-shaped outputs (the fixtures captured on lab hosts) and
records every argv; files are written under a temporary directory.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import provider_host
from ansible_collections.phaseout.antivirus.plugins.modules import clamav_setup, clamav_verify

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
UNITS = ['clamav-daemon.socket', 'clamav-daemon.service', 'clamav-clamonacc.service', 'clamav-freshclam.service']


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as handle:
        return handle.read()


def show(states):
    """systemctl show output for {unit: (load, active, enabled, pid)}."""
    blocks = []
    for unit, (load, active, enabled, pid) in states.items():
        blocks.append('Id=%s\nLoadState=%s\nActiveState=%s\nSubState=%s\nUnitFileState=%s\nMainPID=%d\n'
                      % (unit, load, active, 'running' if active == 'active' else 'dead', enabled, pid))
    return '\n'.join(blocks)


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, params, answers, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = True
        self.answers = answers  # [(predicate(argv), (rc, out, err))], first match wins
        self.argv = []

    def get_bin_path(self, name):
        return None  # no coreutils timeout wrapper: the argv are the commands themselves

    def run_command(self, argv, environ_update=None, data=None, binary_data=False):
        self.argv.append(list(argv))
        for match, answer in self.answers:
            if match(argv):
                return answer(argv) if callable(answer) else answer
        raise AssertionError('unexpected command %r' % (argv,))

    def fail_json(self, **kwargs):
        raise Failed(kwargs['msg'])

    def exit_json(self, **kwargs):
        raise AssertionError('not used here')


def setup_params(tmp_path, **overrides):
    params = dict(state='staged', packages=['clamav', 'clamav-daemon', 'clamav-freshclam', 'clamdscan'],
                  apt_cache_valid_time=0, lock_timeout=300, files=[], secret_values=[], directories=[],
                  database_copy_from='', database_dir=str(tmp_path / 'db'), user='root', group='root',
                  freshclam=False, freshclam_timeout=900, daemon_service=UNITS[1], daemon_socket=UNITS[0],
                  onaccess_service=UNITS[2], freshclam_service=UNITS[3], clamdscan='/usr/bin/clamdscan',
                  freshclam_command='/usr/bin/freshclam', activate_timeout=2, onaccess_include_paths=['/home'],
                  log_dir='/var/log/clamav')
    params.update(overrides)
    return params


def answers(units, installed=True):
    dpkg = fixture('dpkg-query-clamav.txt') if installed else ''
    return [
        (lambda a: a[0] == 'dpkg-query', (0 if installed else 1, dpkg, '')),
        (lambda a: a[:2] == ['systemctl', 'show'], lambda a: (0, show({u: units[u] for u in a[3:]}), '')),
        (lambda a: a[0] == 'systemctl', (0, '', '')),
        (lambda a: a[0] == 'apt-get', (0, 'Setting up clamav', '')),
        (lambda a: a[1:2] == ['--ping'], (0, 'PONG', '')),
    ]


def clamd_file(tmp_path, kind, content='LocalSocket /run/clamav/clamd.ctl\n'):
    return {'path': str(tmp_path / 'etc' / ('%s.conf' % kind)), 'content': content, 'owner': 'root',
            'group': 'root', 'mode': '0644', 'kind': kind}


# --- staged -------------------------------------------------------------------------------------

def test_staging_writes_what_differs_restarts_clamd_and_is_idempotent(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('chown to root needs root')
    units = {UNITS[0]: ('loaded', 'inactive', 'disabled', 0), UNITS[1]: ('loaded', 'inactive', 'disabled', 0),
             UNITS[2]: ('loaded', 'inactive', 'disabled', 0), UNITS[3]: ('loaded', 'inactive', 'disabled', 0)}
    params = setup_params(tmp_path, files=[clamd_file(tmp_path, 'clamd'), clamd_file(tmp_path, 'dropin', '[Unit]\n')])
    module = FakeModule(params, answers(units))
    setup = clamav_setup.Setup(module)
    assert setup.staged() is False
    assert setup.changed
    assert (tmp_path / 'etc' / 'clamd.conf').read_text() == 'LocalSocket /run/clamav/clamd.ctl\n'
    systemctl = [a for a in module.argv if a[0] == 'systemctl' and a[1] != 'show']
    assert ['systemctl', 'daemon-reload'] in systemctl, 'a drop-in changed: systemd reloads before clamd restarts'
    assert systemctl.index(['systemctl', 'daemon-reload']) < systemctl.index(['systemctl', 'restart', UNITS[1]])
    assert ['systemctl', 'enable', UNITS[0]] in systemctl and ['systemctl', 'start', UNITS[0]] in systemctl
    assert not any(UNITS[2] in a for a in systemctl), 'staging never starts or stops the on-access scanner'
    assert ['/usr/bin/clamdscan', '--ping', '60:2'] in module.argv
    assert {d['before_header'] for d in setup.diff} == {str(tmp_path / 'etc' / 'clamd.conf'),
                                                        str(tmp_path / 'etc' / 'dropin.conf')}

    # second run: files equal, units running and enabled -> nothing to do
    running = {u: ('loaded', 'active', 'enabled', 10 + i) for i, u in enumerate(UNITS)}
    running[UNITS[2]] = ('loaded', 'inactive', 'disabled', 0)
    running[UNITS[3]] = ('loaded', 'inactive', 'disabled', 0)
    module = FakeModule(params, answers(running))
    setup = clamav_setup.Setup(module)
    setup.staged()
    assert not setup.changed and setup.actions == []
    assert not any(a[0] == 'systemctl' and a[1] not in ('show',) for a in module.argv)


def test_staging_restarts_a_running_on_access_scanner_only_when_its_settings_changed(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('chown to root needs root')
    running = {u: ('loaded', 'active', 'enabled', 10 + i) for i, u in enumerate(UNITS)}
    params = setup_params(tmp_path, files=[clamd_file(tmp_path, 'clamd', 'OnAccessIncludePath /home\n')])
    module = FakeModule(params, answers(running))
    clamav_setup.Setup(module).staged()
    assert ['systemctl', 'restart', UNITS[2]] in module.argv
    assert ['systemctl', 'stop', UNITS[2]] not in module.argv


def test_freshclam_off_is_stopped_and_disabled(tmp_path):
    units = {u: ('loaded', 'active', 'enabled', 10 + i) for i, u in enumerate(UNITS)}
    module = FakeModule(setup_params(tmp_path), answers(units))
    clamav_setup.Setup(module).staged()
    assert ['systemctl', 'stop', UNITS[3]] in module.argv and ['systemctl', 'disable', UNITS[3]] in module.argv


def test_a_failed_first_download_names_the_settings_to_check(tmp_path):
    units = {u: ('loaded', 'inactive', 'disabled', 0) for u in UNITS}
    table = [(lambda a: a[0] == '/usr/bin/freshclam', (1, 'ERROR: Can\'t download daily.cvd\nfailed', ''))]
    module = FakeModule(setup_params(tmp_path, freshclam=True), table + answers(units))
    with pytest.raises(Failed) as failed:
        clamav_setup.Setup(module).staged()
    assert 'freshclam could not download the ClamAV databases' in str(failed.value)
    assert 'provider_clamav_database_source=local' in str(failed.value)


def test_check_mode_before_the_packages_announces_and_changes_nothing(tmp_path):
    units = {u: ('not-found', 'inactive', '', 0) for u in UNITS}
    params = setup_params(tmp_path, files=[clamd_file(tmp_path, 'clamd')])
    module = FakeModule(params, answers(units, installed=False), check_mode=True)
    setup = clamav_setup.Setup(module)
    assert setup.staged() is True, 'pending: the dependent steps are only announced'
    assert setup.actions == ['install clamav, clamav-daemon, clamav-freshclam, clamdscan']
    assert not any(a[0] == 'apt-get' for a in module.argv)
    assert not (tmp_path / 'etc').exists()


def test_installation_waits_for_the_package_lock(tmp_path):
    units = {u: ('loaded', 'active', 'enabled', 10) for u in UNITS}
    table = [(lambda a: a[0] == 'dpkg-query', (1, '', 'dpkg-query: no packages found matching clamav'))]
    module = FakeModule(setup_params(tmp_path, lock_timeout=120), table + answers(units))
    setup = clamav_setup.Setup(module)
    setup.staged()
    install = [a for a in module.argv if a[0] == 'apt-get'][0]
    assert 'DPkg::Lock::Timeout=120' in install and install[-4:] == ['clamav', 'clamav-daemon', 'clamav-freshclam',
                                                                     'clamdscan']
    assert setup.installed == ['clamav', 'clamav-daemon', 'clamav-freshclam', 'clamdscan']


def test_a_secret_file_diff_is_hidden(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('chown to root needs root')
    units = {u: ('loaded', 'active', 'enabled', 10) for u in UNITS}
    conf = clamd_file(tmp_path, 'freshclam', 'HTTPProxyPassword s3cret\n')
    module = FakeModule(setup_params(tmp_path, files=[conf], secret_values=['s3cret']), answers(units))
    setup = clamav_setup.Setup(module)
    setup.staged()
    assert 's3cret' not in repr(setup.diff)


# --- active -------------------------------------------------------------------------------------

def test_activation_refuses_a_host_that_is_not_staged(tmp_path):
    units = {u: ('not-found', 'inactive', '', 0) for u in UNITS}
    module = FakeModule(setup_params(tmp_path, state='active'), answers(units))
    with pytest.raises(Failed) as failed:
        clamav_setup.Setup(module).active()
    assert 'run the stage entry point of provider_clamav before activate' in str(failed.value)


def test_activation_waits_for_the_fanotify_marks_and_names_the_causes(tmp_path, monkeypatch):
    units = {u: ('loaded', 'active', 'enabled', 4242) for u in UNITS}
    units[UNITS[2]] = ('loaded', 'inactive', 'disabled', 0)
    module = FakeModule(setup_params(tmp_path, state='active', activate_timeout=0), answers(units))
    monkeypatch.setattr(clamav_setup.time, 'sleep', lambda s: None)
    with pytest.raises(Failed) as failed:
        clamav_setup.Setup(module).active()
    assert ['systemctl', 'start', UNITS[2]] in module.argv and ['systemctl', 'enable', UNITS[2]] in module.argv
    assert 'CAP_SYS_ADMIN' in str(failed.value) and '/home' in str(failed.value)


def test_activation_returns_once_the_marks_are_there(tmp_path, monkeypatch):
    units = {u: ('loaded', 'active', 'enabled', 4242) for u in UNITS}
    module = FakeModule(setup_params(tmp_path, state='active'), answers(units))
    monkeypatch.setattr(provider_host.Host, 'fanotify_marks',
                        staticmethod(lambda pid: provider_host.command_result(0, 'fanotify ino:1 sdev:2', '')))
    setup = clamav_setup.Setup(module)
    setup.active()
    assert not setup.changed, 'already running and enabled: nothing changed'


# --- helpers and verify --------------------------------------------------------------------------

def test_file_needs_reports_content_owner_and_mode(tmp_path):
    path = tmp_path / 'f'
    assert provider_host.file_needs(str(path), b'a', 'root', 'root', '0644') == ['created']
    path.write_bytes(b'a')
    os.chmod(path, 0o600)
    assert 'mode' in provider_host.file_needs(str(path), b'a', None, None, '0644')
    assert provider_host.file_needs(str(path), b'b', None, None, '0600') == ['content']
    assert provider_host.file_needs(str(path), b'a', 'no-such-user-phaseout', None, '0600') == ['owner']


def test_platform_error_names_the_host(tmp_path, monkeypatch):
    release = tmp_path / 'os-release'
    release.write_text('ID=rhel\nID_LIKE="fedora"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4"\n')
    error = provider_host.platform_error('provider_clamav', provider_host.os_release(str(release)), 'Use X.')
    assert error == 'provider_clamav supports Debian hosts with systemd; this host is Red Hat Enterprise Linux 9.4. Use X.'
    monkeypatch.setattr(provider_host.os.path, 'isdir', lambda p: True)
    assert provider_host.platform_error('p', {'ID': 'ubuntu', 'ID_LIKE': 'debian'}) is None


def test_eicar_tests_read_until_refused_and_leave_nothing(tmp_path, monkeypatch):
    watched = tmp_path / 'home'
    watched.mkdir()
    reads = []

    def cat(argv):
        reads.append(argv[-1])
        # the first read still sees the empty file's clean verdict; then on-access prevention refuses
        return (0, 'X5O!P%', '') if len(reads) == 1 else (1, '', 'cat: %s: Operation not permitted' % argv[-1])

    table = [(lambda a: a[0] == 'cat', cat),
             (lambda a: a[0] == '/usr/bin/clamdscan', (1, fixture('clamdscan-found.txt'), ''))]
    module = FakeModule({}, table)
    monkeypatch.setattr(clamav_verify.time, 'sleep', lambda s: None)
    params = {'scan_parent': str(tmp_path), 'clamdscan': '/usr/bin/clamdscan', 'onaccess_dir': '',
              'onaccess_include_paths': [str(watched)]}
    scan, access = clamav_verify.eicar_tests(provider_host.Host(module), params, realtime=True)
    assert scan['rc'] == 1 and 'FOUND' in scan['stdout']
    assert access['rc'] == 1 and access['stdout'] == '' and len(reads) == 2
    assert os.listdir(watched) == [] and os.listdir(tmp_path) == ['home'], 'the EICAR files are removed'
