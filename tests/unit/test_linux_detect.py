# SPDX-License-Identifier: GPL-3.0-or-later
"""Linux detection: parsers over real-shaped output, and the classifier over fake hosts."""
from __future__ import annotations

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import linux
from fakehost import FakeHost, fixture

SHOW_PREFIX = ['/usr/bin/systemctl', 'show']


# --- parsers ---------------------------------------------------------------

def test_dpkg_status_states():
    packages = linux.parse_dpkg_status(fixture('linux', 'dpkg-status.txt'))
    assert packages['kesl']['state'] == 'installed'
    assert packages['kesl']['version'] == '12.1.0-1125'
    assert packages['kesl-gui']['state'] == 'config-files'
    assert packages['bash']['arch'] == 'amd64'
    # continuation lines (Conffiles, Description) never become packages
    assert set(packages) == {'bash', 'kesl', 'klnagent64', 'kesl-gui'}


def test_rpm_qa():
    packages = linux.parse_rpm_qa(fixture('linux', 'rpm-qa.txt'))
    assert packages['klnagent64'] == {'name': 'klnagent64', 'version': '15.4.0-8873', 'arch': 'x86_64',
                                      'status': 'installed', 'state': 'installed', 'manager': 'rpm'}


def test_systemctl_show_blocks():
    units = linux.parse_systemctl_show(fixture('linux', 'systemctl-show.txt'))
    assert units['kesl.service']['ActiveState'] == 'active'
    assert units['kesl-supervisor.service']['LoadState'] == 'not-found'
    assert units['klnagent64.service']['MainPID'] == '420'


@pytest.mark.parametrize('name', ['kesl-app-info-en.txt', 'kesl-app-info-ru.txt'])
def test_app_info_english_and_russian(name):
    info = linux.parse_app_info(fixture('linux', name))
    assert info['version'] == '12.1.0.1125'
    assert info['license_expiration'] == '2027-03-31 00:00:00'
    assert info['databases_release'] == '2026-11-27 04:31:00'


def test_klnagchk_admin_server():
    info = linux.parse_klnagchk(fixture('linux', 'klnagchk.txt'))
    assert info['admin_server'] == 'ksc.corp.example'
    assert info['last_sync'] == '2026-11-27 06:58:02'


# --- hosts -------------------------------------------------------------------

def debian_host(tmp_path):
    host = FakeHost(tmp_path)
    host.systemd()
    host.write('/var/lib/dpkg/status', '')
    host.write('/proc/modules', 'ext4 1003520 1 - Live 0x0000000000000000\n')
    return host


def kesl_agent_host(tmp_path):
    host = debian_host(tmp_path)
    host.write('/var/lib/dpkg/status', fixture('linux', 'dpkg-status.txt'))
    host.executable('/opt/kaspersky/kesl/bin/kesl-control')
    host.executable('/opt/kaspersky/kesl/sbin/kesl')
    host.write('/var/opt/kaspersky/kesl/common/kesl.ini', '[General]\n')
    host.write('/lib/systemd/system/kesl.service', '[Service]\n')
    host.executable('/opt/kaspersky/klnagent64/bin/klnagchk')
    host.executable('/opt/kaspersky/klnagent64/sbin/klnagent')
    host.write('/lib/systemd/system/klnagent64.service', '[Service]\n')
    host.mkdir('/var/opt/kaspersky/klnagent')
    host.process(412, '/opt/kaspersky/kesl/sbin/kesl', ['/opt/kaspersky/kesl/sbin/kesl', '--daemon'])
    host.process(420, '/opt/kaspersky/klnagent64/sbin/klnagent')
    host.process(1, '/usr/lib/systemd/systemd')
    host.respond(SHOW_PREFIX, out=fixture('linux', 'systemctl-show.txt'))
    host.respond(['/opt/kaspersky/kesl/bin/kesl-control', '--app-info'], out=fixture('linux', 'kesl-app-info-en.txt'))
    host.respond(['/opt/kaspersky/klnagent64/bin/klnagchk'], out=fixture('linux', 'klnagchk.txt'))
    return host


def run(host, **kwargs):
    collector = linux.LinuxCollector(host.run_command, root=host.root, which=host.which)
    return collector, linux.detect(collector, **kwargs)


def product(result, pid):
    return next(p for p in result['products'] if p['id'] == pid)


def test_kesl_and_agent_installed(tmp_path):
    host = kesl_agent_host(tmp_path)
    collector, result = run(host)
    assert result['verdict'] == 'installed'
    assert result['installed'] == ['kesl', 'klnagent']
    assert result['admin_server'] == 'ksc.corp.example'
    kesl = product(result, 'kesl')
    assert kesl['version'] == '12.1.0-1125'
    assert kesl['info']['databases_release'] == '2026-11-27 04:31:00'
    assert [s['name'] for s in kesl['services']] == ['kesl']
    assert kesl['services'][0]['active'] is True and kesl['services'][0]['enabled'] is True
    assert [p['pid'] for p in kesl['processes']] == [412]
    assert '/var/opt/kaspersky/kesl' in kesl['paths']
    assert result['realtime_protection_active'] is True
    # the removed GUI left its conffiles: residue of that product, reported as a leftover
    assert product(result, 'kesl_gui')['state'] == 'residue'
    assert {'type': 'package_config', 'name': 'kesl-gui', 'manager': 'dpkg', 'product': 'kesl_gui'} in result['leftovers']
    # vendor directories owned by installed products are not leftovers
    assert not [lo for lo in result['leftovers'] if lo['type'] == 'path']


def test_detection_runs_one_systemctl_call_and_the_cli_queries(tmp_path):
    host = kesl_agent_host(tmp_path)
    collector, _result = run(host)
    argvs = [argv for argv, _kw in host.calls]
    assert sum(1 for a in argvs if a[:2] == SHOW_PREFIX) == 1
    show = next(a for a in argvs if a[:2] == SHOW_PREFIX)
    assert show[-2:] == ['kesl.service', 'klnagent64.service']
    # product CLIs run with a fixed English locale for stable parsing
    cli_kwargs = [kw for argv, kw in host.calls if argv[0].endswith('kesl-control')]
    assert cli_kwargs == [{'environ_update': linux.CLI_ENV}]
    assert len(argvs) == 3


def test_query_cli_false_runs_no_product_cli(tmp_path):
    host = kesl_agent_host(tmp_path)
    _collector, result = run(host, query_cli=False)
    assert [argv[:2] for argv, _kw in host.calls] == [SHOW_PREFIX]
    assert result['admin_server'] is None
    assert result['verdict'] == 'installed'


def test_clean_host_runs_no_command(tmp_path):
    host = debian_host(tmp_path)
    host.process(1, '/usr/lib/systemd/systemd')
    _collector, result = run(host)
    assert result['verdict'] == 'clean'
    assert result['products'] == [] and result['leftovers'] == []
    assert host.calls == []


def test_stopped_and_disabled_services(tmp_path):
    host = kesl_agent_host(tmp_path)
    for pid in (412, 420):
        (tmp_path / 'proc' / str(pid) / 'cmdline').unlink()
    host.respond(SHOW_PREFIX, out=fixture('linux', 'systemctl-show.txt')
                 .replace('ActiveState=active', 'ActiveState=inactive')
                 .replace('SubState=running', 'SubState=dead')
                 .replace('UnitFileState=enabled', 'UnitFileState=disabled'))
    _collector, result = run(host, query_cli=False)
    kesl = product(result, 'kesl')
    assert kesl['state'] == 'installed'
    assert kesl['services'][0]['active'] is False
    assert kesl['services'][0]['enabled'] is False
    assert kesl['processes'] == []
    assert result['realtime_protection_active'] is False


def test_half_removed_host_is_residue(tmp_path):
    host = debian_host(tmp_path)
    host.write('/var/lib/dpkg/status', 'Package: kesl\nStatus: deinstall ok config-files\nVersion: 12.1.0-1125\n'
                                       'Architecture: amd64\n')
    host.mkdir('/var/opt/kaspersky/kesl/private')
    host.mkdir('/var/log/kaspersky')
    host.write('/etc/systemd/system/klnagent64.service', '[Service]\n')
    host.respond(SHOW_PREFIX, out='Id=klnagent64.service\nLoadState=loaded\nActiveState=inactive\n'
                                  'SubState=dead\nUnitFileState=disabled\nMainPID=0\n')
    _collector, result = run(host)
    assert result['verdict'] == 'residue'
    assert result['installed'] == []
    assert result['residue'] == ['kesl', 'klnagent']
    leftovers = result['leftovers']
    assert {'type': 'package_config', 'name': 'kesl', 'manager': 'dpkg', 'product': 'kesl'} in leftovers
    assert {'type': 'path', 'path': '/var/opt/kaspersky/kesl', 'product': 'kesl'} in leftovers
    assert {'type': 'unit', 'path': '/etc/systemd/system/klnagent64.service', 'product': 'klnagent'} in leftovers
    assert {'type': 'path', 'path': '/var/log/kaspersky', 'product': None} in leftovers
    # /var/opt/kaspersky is reported through its product subdirectory, not twice
    assert {'type': 'path', 'path': '/var/opt/kaspersky', 'product': None} not in leftovers


def test_rpm_host(tmp_path):
    host = FakeHost(tmp_path)
    host.mkdir('/var/lib/rpm')
    host.executable('/usr/bin/rpm')
    host.write('/proc/modules', '')
    host.executable('/opt/kaspersky/kesl/bin/kesl-control')
    host.respond(['/usr/bin/rpm', '-qa'], out=fixture('linux', 'rpm-qa.txt'))
    host.respond(['/opt/kaspersky/kesl/bin/kesl-control', '--app-info'], out=fixture('linux', 'kesl-app-info-ru.txt'))
    _collector, result = run(host)
    assert result['package_managers'] == ['rpm']
    assert result['installed'] == ['kesl_gui', 'kesl', 'klnagent']
    assert product(result, 'kesl')['packages'][0]['manager'] == 'rpm'
    assert product(result, 'kesl')['info']['version'] == '12.1.0.1125'


def test_rpm_failure_is_a_warning_not_a_crash(tmp_path):
    host = FakeHost(tmp_path)
    host.mkdir('/var/lib/rpm')
    host.executable('/usr/bin/rpm')
    host.respond(['/usr/bin/rpm', '-qa'], rc=1, err='error: rpmdb: BDB0113 Thread/process failed')
    collector, result = run(host)
    assert result['verdict'] == 'clean'
    assert collector.warnings and 'rpm -qa failed (rc=1)' in collector.warnings[0]


def test_unpackaged_running_product_counts_as_installed(tmp_path):
    host = debian_host(tmp_path)
    host.executable('/opt/kaspersky/kesl/sbin/kesl')
    host.process(77, '/usr/bin/python3', ['/usr/bin/python3', '/opt/kaspersky/kesl/sbin/kesl'])
    _collector, result = run(host, query_cli=False)
    assert result['installed'] == ['kesl']
    assert product(result, 'kesl')['processes'][0]['path'] == '/opt/kaspersky/kesl/sbin/kesl'


def test_kernel_module_and_repository_leftovers(tmp_path):
    host = debian_host(tmp_path)
    host.write('/proc/modules', 'redirfs 61440 1 kav4fs_oas, Live 0x0\nkav4fs_oas 372736 0 - Live 0x0\next4 1 1 - Live 0x0\n')
    host.write('/etc/apt/sources.list.d/corp.list',
               '# mirror\ndeb [signed-by=/usr/share/keyrings/k.gpg] https://repo.corp.example/kaspersky bookworm main\n')
    host.write('/usr/share/keyrings/kaspersky-archive.gpg', 'key')
    _collector, result = run(host)
    assert result['verdict'] == 'residue'
    assert result['kernel_modules'] == ['kav4fs_oas', 'redirfs']
    assert product(result, 'kav4fs')['state'] == 'residue'
    repos = [lo['path'] for lo in result['leftovers'] if lo['type'] == 'repository']
    assert repos == ['/etc/apt/sources.list.d/corp.list', '/usr/share/keyrings/kaspersky-archive.gpg']


def test_commented_repository_line_is_ignored(tmp_path):
    host = debian_host(tmp_path)
    host.write('/etc/apt/sources.list', '# deb https://repo.example/kaspersky bookworm main\n'
                                        'deb http://mirror.example.net/debian bookworm main\n')
    _collector, result = run(host)
    assert result['verdict'] == 'clean'


# --- what protects the host right now ------------------------------------------------

def detect_quiet(host):
    return linux.detect(linux.LinuxCollector(host.run_command, root=host.root, which=host.which), query_cli=False)


def test_protection_names_kaspersky_and_a_replacement_holding_fanotify_marks(tmp_path):
    host = kesl_agent_host(tmp_path)
    host.process(900, '/usr/sbin/clamonacc', ['/usr/sbin/clamonacc', '-F', '--fdpass'])
    host.write('/proc/900/fdinfo/5', 'pos:\t0\nflags:\t02\nfanotify flags:10 event-flags:8000\n'
                                     'fanotify ino:1234 sdev:800001 mflags:0 mask:10000 ignored_mask:0\n')
    result = detect_quiet(host)
    assert result['realtime_engines'] == [{
        'id': 'clamav', 'name': 'ClamAV on-access scanning (clamonacc)', 'realtime': True, 'pids': [900],
        'evidence': 'process /usr/sbin/clamonacc; fanotify marks held'}]
    assert result['protection'] == 'kaspersky+clamav'
    # the replacement's process is not a Kaspersky leftover
    assert all(lo.get('pid') != 900 for lo in result['leftovers'])


def test_clamonacc_without_marks_does_not_protect(tmp_path):
    host = debian_host(tmp_path)
    host.process(900, '/usr/sbin/clamonacc')
    result = detect_quiet(host)
    assert result['realtime_engines'][0]['realtime'] is False and result['protection'] == 'none'


@pytest.mark.parametrize('level, realtime, protection', [
    ('real_time', True, 'mdatp'), ('passive', False, 'none'), (None, None, 'mdatp?')])
def test_mdatp_real_time_from_its_managed_configuration(tmp_path, level, realtime, protection):
    host = debian_host(tmp_path)
    host.process(700, '/usr/bin/python3', ['/usr/bin/python3', '/opt/microsoft/mdatp/sbin/wdavdaemon'])
    if level:
        host.write('/etc/opt/microsoft/mdatp/managed/mdatp_managed.json',
                   '{"antivirusEngine": {"enforcementLevel": "%s"}}' % level)
    result = detect_quiet(host)
    assert result['realtime_engines'][0]['id'] == 'mdatp'
    assert result['realtime_engines'][0]['realtime'] is realtime and result['protection'] == protection


def test_mdatp_health_answers_when_there_is_no_managed_setting(tmp_path):
    host = debian_host(tmp_path)
    host.process(700, '/opt/microsoft/mdatp/sbin/wdavdaemon')
    host.executable('/usr/bin/mdatp')
    host.respond(['/usr/bin/mdatp', 'health', '--field', 'real_time_protection_enabled'], out='true\n')
    result = linux.detect(linux.LinuxCollector(host.run_command, root=host.root, which=host.which), query_cli=True)
    assert result['realtime_engines'][0]['realtime'] is True and result['protection'] == 'mdatp'


def test_the_journal_is_reported(tmp_path):
    from ansible_collections.phaseout.antivirus.plugins.module_utils import journal
    host = kesl_agent_host(tmp_path)
    assert detect_quiet(host)['journal'] is None
    j = journal.begin(journal.advance(journal.new('r1', 'clamav', 'linux'), 'kaspersky_stopped'), 'replacement_active')
    host.write(journal.LINUX_PATH, journal.dumps(j))
    summary = detect_quiet(host)['journal']
    assert summary['interrupted'] and summary['step'] == 'kaspersky_stopped'
    host.write(journal.LINUX_PATH, 'garbage')
    assert detect_quiet(host)['journal']['state'] == 'unreadable'


def test_product_cli_runs_under_a_timeout(tmp_path):
    host = kesl_agent_host(tmp_path)
    host.executable('/usr/bin/timeout')
    host.respond(['/usr/bin/timeout'], rc=124)
    host.respond(['/usr/bin/timeout', '--kill-after=5', '30s', '/usr/bin/systemctl'],
                 out=fixture('linux', 'systemctl-show.txt'))
    collector = linux.LinuxCollector(host.run_command, root=host.root, which=host.which)
    result = linux.detect(collector, query_cli=True)
    assert ['/usr/bin/timeout', '--kill-after=5', '30s', '/opt/kaspersky/klnagent64/bin/klnagchk'] in \
        [c[0] for c in host.calls]
    assert any('did not answer within 30s' in w for w in collector.warnings)
    assert result['verdict'] == 'installed'
