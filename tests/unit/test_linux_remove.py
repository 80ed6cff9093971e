# SPDX-License-Identifier: GPL-3.0-or-later
"""Linux removal: the planner over detections of fake hosts, the executor over a fake tree."""
from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog, linux, linux_remove
from fakehost import FakeHost, fixture
from test_linux_detect import SHOW_PREFIX, debian_host, kesl_agent_host


def detection_of(host):
    return linux.detect(linux.LinuxCollector(host.run_command, root=host.root, which=host.which), query_cli=False)


def actions(steps):
    return [(s['action'], s['target']) for s in steps]


def full_host(tmp_path):
    """KESL 12 + GUI + agent installed and running, with an apt repository of the vendor."""
    host = kesl_agent_host(tmp_path)
    status = fixture('linux', 'dpkg-status.txt').replace('Status: deinstall ok config-files', 'Status: install ok installed')
    host.write('/var/lib/dpkg/status', status)
    host.write('/etc/apt/sources.list.d/kaspersky.list', 'deb https://repo.corp.example/kaspersky bookworm main\n')
    return host


def test_plan_order_agent_stopped_first_packages_in_catalog_order(tmp_path):
    steps, warnings = linux_remove.plan_removal(detection_of(full_host(tmp_path)))
    assert warnings == []
    assert actions(steps) == [
        ('stop_service', 'klnagent64'), ('stop_service', 'kesl'),
        ('disable_service', 'klnagent64'), ('disable_service', 'kesl'),
        ('remove_package', 'kesl-gui'), ('remove_package', 'kesl'), ('remove_package', 'klnagent64'),
        ('stop_process', 412), ('stop_process', 420),
        ('remove_path', '/opt/kaspersky/kesl'), ('remove_path', '/var/opt/kaspersky/kesl'),
        ('remove_unit', '/lib/systemd/system/kesl.service'),
        ('remove_path', '/opt/kaspersky/klnagent64'), ('remove_path', '/var/opt/kaspersky/klnagent'),
        ('remove_unit', '/lib/systemd/system/klnagent64.service'),
        ('remove_path', '/opt/kaspersky'), ('remove_path', '/var/opt/kaspersky'),
        ('remove_repository', '/etc/apt/sources.list.d/kaspersky.list'),
        ('daemon_reload', 'systemd'),
    ]


def test_every_removable_catalog_product_is_ordered_before_the_agent():
    order = [p['id'] for p in sorted(catalog.products('linux'), key=lambda p: p['removal_order'] or 999)
             if catalog.removable(p)]
    assert order[0] == 'kesl_gui' and order[-1] == 'klnagent'


def test_exclude_agent_keeps_agent_and_vendor_paths(tmp_path):
    steps, warnings = linux_remove.plan_removal(detection_of(full_host(tmp_path)), exclude=['klnagent'])
    targets = [t for _a, t in actions(steps)]
    assert 'klnagent64' not in targets and 420 not in targets
    assert '/var/opt/kaspersky/klnagent' not in targets and '/opt/kaspersky' not in targets
    assert '/etc/apt/sources.list.d/kaspersky.list' not in targets
    assert warnings == ['vendor-wide leftovers kept while klnagent stays installed']


def test_only_agent(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(full_host(tmp_path)), products=['klnagent'])
    assert {s['product'] for s in steps} <= {'klnagent', None}
    assert ('remove_package', 'klnagent64') in actions(steps)
    # kesl stays installed, so vendor-wide traces stay too
    assert ('remove_path', '/opt/kaspersky') not in actions(steps)


def test_clean_host_has_empty_plan(tmp_path):
    steps, warnings = linux_remove.plan_removal(detection_of(debian_host(tmp_path)))
    assert steps == [] and warnings == []


def test_residue_host_plan_purges_config_and_leftovers(tmp_path):
    host = debian_host(tmp_path)
    host.write('/var/lib/dpkg/status', 'Package: kesl\nStatus: deinstall ok config-files\nVersion: 12\n')
    host.mkdir('/var/opt/kaspersky/kesl')
    host.write('/etc/systemd/system/klnagent64.service', '[Service]\n')
    host.respond(SHOW_PREFIX, out='Id=klnagent64.service\nActiveState=inactive\nUnitFileState=disabled\n')
    steps, _w = linux_remove.plan_removal(detection_of(host))
    assert actions(steps) == [
        ('remove_package', 'kesl'), ('remove_path', '/var/opt/kaspersky/kesl'),
        ('remove_unit', '/etc/systemd/system/klnagent64.service'), ('remove_path', '/var/opt/kaspersky'),
        ('daemon_reload', 'systemd'),
    ]


@pytest.mark.parametrize('products, exclude, message', [
    (['kesl', 'mcafee'], [], "unknown product 'mcafee'"),
    ([], ['nope'], "unknown product 'nope'"),
    (['ksc_server'], [], 'is not removed by phaseout'),
])
def test_bad_product_names_fail_before_anything(tmp_path, products, exclude, message):
    with pytest.raises(ValueError, match=message):
        linux_remove.plan_removal(detection_of(full_host(tmp_path)), products=products, exclude=exclude)


def test_detected_server_is_reported_not_removed(tmp_path):
    host = debian_host(tmp_path)
    host.write('/var/lib/dpkg/status', 'Package: ksc64\nStatus: install ok installed\nVersion: 15.1\n')
    steps, warnings = linux_remove.plan_removal(detection_of(host))
    assert steps == []
    assert 'not removed by phaseout' in warnings[0]


# --- the executor ------------------------------------------------------------

class Recorder:
    def __init__(self, answers=None):
        self.calls = []
        self.answers = answers or {}

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        for prefix, answer in self.answers.items():
            if tuple(argv[:len(prefix)]) == prefix:
                return answer.pop(0) if isinstance(answer, list) else answer
        return 0, '', ''


def which(name):
    return {'dpkg': '/usr/bin/dpkg', 'rpm': '/usr/bin/rpm', 'systemctl': '/usr/bin/systemctl'}.get(name)


def test_dpkg_purge_then_failing_maintainer_script_without_force(tmp_path):
    failure = ("dpkg: error processing package kesl (--purge):\n"
               " installed kesl package pre-removal script subprocess returned error exit status 1\n")
    run = Recorder({('/usr/bin/dpkg', '--purge'): (1, '', failure)})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which)
    step = {'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'dpkg', 'force': False}
    with pytest.raises(linux_remove.RemovalError) as err:
        remover.execute(step)
    assert 'pre-removal script' in str(err.value) and 'force=true' in str(err.value)
    assert run.calls == [['/usr/bin/dpkg', '--purge', 'kesl']]


def test_dpkg_force_sets_scripts_aside_and_retries(tmp_path):
    host = FakeHost(tmp_path)
    host.write('/var/lib/dpkg/info/kesl.prerm', '#!/bin/sh\nexit 1\n', 0o755)
    run = Recorder({('/usr/bin/dpkg', '--purge'): [(1, '', 'pre-removal script failed'), (0, '', '')]})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which)
    remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'dpkg', 'force': True})
    assert run.calls[1] == ['/usr/bin/dpkg', '--purge', '--force-remove-reinstreq', '--force-depends', 'kesl']
    assert os.path.exists(host.path('/var/lib/dpkg/info/kesl.prerm.phaseout-disabled'))
    assert not os.path.exists(host.path('/var/lib/dpkg/info/kesl.prerm'))


def test_rpm_remove_and_forced_noscripts(tmp_path):
    run = Recorder({('/usr/bin/rpm', '-e', 'kesl'): (1, '', 'error: %preun(kesl-12.1.0-1125.x86_64) scriptlet failed')})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which)
    remover.execute({'action': 'remove_package', 'product': 'klnagent', 'target': 'klnagent64', 'manager': 'rpm'})
    remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'rpm', 'force': True})
    assert run.calls == [['/usr/bin/rpm', '-e', 'klnagent64'], ['/usr/bin/rpm', '-e', 'kesl'],
                         ['/usr/bin/rpm', '-e', '--noscripts', '--nodeps', 'kesl']]


def test_missing_package_tool_is_a_clear_error(tmp_path):
    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=lambda name: None)
    with pytest.raises(linux_remove.RemovalError, match='rpm is not available on this host'):
        remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'rpm'})


def test_paths_units_repositories(tmp_path):
    host = FakeHost(tmp_path)
    host.write('/var/opt/kaspersky/kesl/common/kesl.ini', 'x')
    host.write('/etc/systemd/system/klnagent64.service', 'x')
    host.write('/etc/systemd/system/klnagent64.service.d/override.conf', 'x')
    host.write('/etc/apt/sources.list', 'deb http://mirror.example.net/debian bookworm main\n'
                                        'deb https://mirror.example/kaspersky bookworm main\n')
    host.write('/etc/apt/keyrings/kaspersky.gpg', 'k')
    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=which)
    for step, changed in (({'action': 'remove_path', 'target': '/var/opt/kaspersky/kesl'}, True),
                          ({'action': 'remove_path', 'target': '/var/opt/kaspersky/absent'}, False),
                          ({'action': 'remove_unit', 'target': '/etc/systemd/system/klnagent64.service'}, True),
                          ({'action': 'remove_unit', 'target': '/etc/systemd/system/klnagent64.service'}, False),
                          ({'action': 'remove_repository', 'target': '/etc/apt/sources.list', 'mode': 'comment'}, True),
                          ({'action': 'remove_repository', 'target': '/etc/apt/keyrings/kaspersky.gpg',
                            'mode': 'delete'}, True)):
        step['product'] = None
        assert remover.execute(step) is changed, step
    assert not os.path.exists(host.path('/var/opt/kaspersky/kesl'))
    assert not os.path.exists(host.path('/etc/systemd/system/klnagent64.service.d'))
    assert not os.path.exists(host.path('/etc/apt/keyrings/kaspersky.gpg'))
    sources = open(host.path('/etc/apt/sources.list')).read()
    assert sources == ('deb http://mirror.example.net/debian bookworm main\n'
                       '# disabled by phaseout: deb https://mirror.example/kaspersky bookworm main\n')


def proc_stat(pid, comm, starttime):
    # /proc/<pid>/stat: pid (comm) state ppid ... field 22 is the start time in clock ticks since boot
    return '%d (%s) S 1 %d %d 0 -1 4194560 %s %d 0 0 0\n' % (pid, comm, pid, pid, ' '.join(['0'] * 12), starttime)


def test_proc_stat_parser_survives_odd_command_names():
    assert linux.parse_proc_stat(proc_stat(77, 'kesl (x) y', 4242)) == ('S', 4242)
    assert linux.parse_proc_stat('') == (None, None)


def test_stop_process_escalates_to_sigkill(tmp_path):
    host = FakeHost(tmp_path)
    host.write('/proc/77/stat', proc_stat(77, 'kesl', 5000))
    sent = []

    def kill(pid, sig):
        sent.append(sig)
        if sig == signal.SIGKILL:
            os.unlink(host.path('/proc/77/stat'))
            os.rmdir(host.path('/proc/77'))

    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=which, sleep=lambda s: None, kill=kill)
    assert remover.execute({'action': 'stop_process', 'product': 'kesl', 'target': 77,
                            'path': '/opt/kaspersky/kesl/sbin/kesl', 'starttime': 5000}) is True
    assert sent == [signal.SIGTERM, signal.SIGKILL]


def test_stop_process_leaves_a_reused_pid_alone(tmp_path):
    host = FakeHost(tmp_path)
    host.write('/proc/77/stat', proc_stat(77, 'sshd', 9999))  # pid 77 is now someone else
    sent = []
    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=which, sleep=lambda s: None,
                                   kill=lambda pid, sig: sent.append(sig))
    assert remover.execute({'action': 'stop_process', 'product': 'kesl', 'target': 77,
                            'path': '/opt/kaspersky/kesl/sbin/kesl', 'starttime': 5000}) is False
    assert sent == [] and 'pid reused' in remover.notes[0]


def test_stop_process_that_is_gone_changes_nothing(tmp_path):
    sent = []
    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=which, kill=lambda p, s: sent.append(s))
    assert remover.execute({'action': 'stop_process', 'product': None, 'target': 4321, 'path': '/opt/kaspersky/x',
                            'starttime': 1}) is False
    assert sent == []


def test_kernel_module_that_will_not_unload_requires_reboot(tmp_path):
    run = Recorder({('/sbin/modprobe',): (1, '', 'modprobe: FATAL: Module kav4fs_oas is in use.')})
    remover = linux_remove.Remover(run, root=str(tmp_path),
                                   which=lambda n: '/sbin/modprobe' if n == 'modprobe' else None)
    changed = remover.execute({'action': 'unload_kernel_module', 'product': 'kav4fs', 'target': 'kav4fs_oas'})
    assert changed is False
    assert remover.reboot_reasons == ['kernel module kav4fs_oas is still loaded']


def test_describe_every_action(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(full_host(tmp_path)))
    lines = [linux_remove.describe(s) for s in steps]
    assert lines[0] == 'stop service klnagent64'
    assert 'remove package kesl-gui (dpkg)' in lines
    assert lines[-1] == 'reload systemd'


ACTIVATE = {'command': ['/usr/bin/systemctl', 'start', 'clamav-clamonacc.service'],
            'check': ['/bin/sh', '-c', 'grep -qs fanotify /proc/$(pidof clamonacc)/fdinfo/*'],
            'persist': ['/usr/bin/systemctl', 'enable', 'clamav-clamonacc.service'],
            'deactivate': ['/usr/bin/systemctl', 'disable', '--now', 'clamav-clamonacc.service'], 'timeout': 5}


def test_activation_runs_after_the_services_stop_and_before_any_is_disabled(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(full_host(tmp_path)), activate=ACTIVATE, checkpoints=True)
    assert actions(steps)[:8] == [
        ('stop_service', 'klnagent64'), ('stop_service', 'kesl'),
        ('checkpoint', 'kaspersky_stopped'),
        ('activate_replacement', ' '.join(ACTIVATE['command'])),
        # Kaspersky is disabled only once the replacement is confirmed and enabled at boot
        ('disable_service', 'klnagent64'), ('disable_service', 'kesl'),
        ('checkpoint', 'replacement_active'),
        ('remove_package', 'kesl-gui'),
    ]
    names = [s['action'] for s in steps]
    assert names.index('checkpoint', 7) < len(names) - 1
    assert [s['target'] for s in steps if s['action'] == 'checkpoint'] == [
        'kaspersky_stopped', 'replacement_active', 'kaspersky_removed', 'cleaned']
    activation = steps[3]
    assert activation['persist'] == ACTIVATE['persist'] and activation['deactivate'] == ACTIVATE['deactivate']
    assert activation['timeout'] == 5
    assert 'point of no return' in linux_remove.describe(steps[6])


def test_checkpoints_with_the_agent_kept_stop_at_kaspersky_removed(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(full_host(tmp_path)), exclude=['klnagent'], activate=ACTIVATE,
                                          checkpoints=True)
    assert [s['target'] for s in steps if s['action'] == 'checkpoint'] == [
        'kaspersky_stopped', 'replacement_active', 'kaspersky_removed']


def test_no_activation_step_when_nothing_is_removed(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(debian_host(tmp_path)), activate=ACTIVATE)
    assert steps == []


def test_rollback_deactivates_the_replacement_and_restores_what_this_run_stopped(tmp_path):
    detection = detection_of(full_host(tmp_path))
    steps, _w = linux_remove.plan_removal(detection, activate=ACTIVATE, checkpoints=True)
    executed = steps[:6]
    services = linux_remove.service_records(detection)
    assert actions(linux_remove.rollback_steps(executed, services, steps[3])) == [
        ('deactivate_replacement', ' '.join(ACTIVATE['deactivate'])),
        ('enable_service', 'klnagent64'), ('enable_service', 'kesl'),
        # the protecting product comes back before the agent
        ('start_service', 'kesl'), ('start_service', 'klnagent64'),
    ]
    # the agent's stop does not end protection; KESL's does
    assert [linux_remove.protecting(detection, s) for s in steps[:2]] == [False, True]


def test_rollback_after_an_interrupted_run_restores_from_the_journal():
    # the run that stopped kesl was killed; this run found it stopped and planned no stop step
    services = [{'name': 'kesl', 'product': 'kesl', 'protecting': True, 'was_active': True, 'was_enabled': True},
                {'name': 'klnagent64', 'product': 'klnagent', 'protecting': False, 'was_active': False,
                 'was_enabled': True}]
    assert actions(linux_remove.rollback_steps([], services)) == [
        ('enable_service', 'kesl'), ('enable_service', 'klnagent64'), ('start_service', 'kesl')]


def test_activation_polls_its_check_until_it_passes_then_persists(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), 'run', 'systemd', 'system'))
    run = Recorder({('/bin/sh',): [(1, '', ''), (1, '', ''), (1, '', ''), (0, '', '')]})
    naps = []
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which, sleep=naps.append)
    step = dict(ACTIVATE, action='activate_replacement', product=None, target='x')
    assert remover.execute(step) is True
    # asked first whether it already protects the host, then started, polled, and enabled at boot
    assert run.calls[0] == ACTIVATE['check'] and run.calls[1] == ACTIVATE['command']
    assert run.calls.count(ACTIVATE['check']) == 4 and run.calls[-1] == ACTIVATE['persist']
    assert naps == [0.2, 0.2] and step['already_active'] is False


def test_activation_of_a_replacement_that_already_protects_only_persists(tmp_path):
    run = Recorder({('/bin/sh',): (0, '', '')})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which)
    step = dict(ACTIVATE, action='activate_replacement', product=None, target='x')
    remover.execute(step)
    assert run.calls == [ACTIVATE['check'], ACTIVATE['persist']] and step['already_active'] is True


def test_activation_that_never_confirms_times_out_with_the_reason(tmp_path):
    ticks = iter(range(0, 1000, 2))
    run = Recorder({('/bin/sh',): (1, '', 'no fanotify marks')})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which, sleep=lambda s: None,
                                   clock=lambda: next(ticks))
    step = dict(ACTIVATE, action='activate_replacement', product=None, target='x')
    with pytest.raises(linux_remove.RemovalError, match='did not confirm real-time protection within 5s.*no fanotify'):
        remover.execute(step)
    assert ACTIVATE['persist'] not in run.calls


def test_restart_steps_use_systemctl(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), 'run', 'systemd', 'system'))
    run = Recorder()
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which)
    remover.execute({'action': 'enable_service', 'product': 'kesl', 'target': 'kesl'})
    remover.execute({'action': 'start_service', 'product': 'kesl', 'target': 'kesl'})
    assert run.calls == [['/usr/bin/systemctl', 'enable', 'kesl.service'], ['/usr/bin/systemctl', 'start', 'kesl.service']]


# --- races and timeouts ----------------------------------------------------------

def test_every_command_runs_under_a_timeout_when_coreutils_has_one(tmp_path):
    run = Recorder({('/usr/bin/timeout',): (124, '', '')})
    remover = linux_remove.Remover(run, root=str(tmp_path), command_timeout=42,
                                   which={'timeout': '/usr/bin/timeout', 'dpkg': '/usr/bin/dpkg'}.get)
    with pytest.raises(linux_remove.RemovalError, match='did not finish within 42s and was stopped'):
        remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'dpkg'})
    assert run.calls[0] == ['/usr/bin/timeout', '--kill-after=5', '42s', '/usr/bin/dpkg', '--purge', 'kesl']


def hold_lock(path):
    """Another process holding an fcntl write lock on ``path`` (as dpkg does), until killed."""
    import subprocess
    import sys
    code = ('import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); '
            'fcntl.lockf(fd, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(60)')
    child = subprocess.Popen([sys.executable, '-c', code, path], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == 'locked'
    return child


def test_removal_waits_for_the_package_lock_and_names_who_holds_it(tmp_path):
    host = FakeHost(tmp_path)
    lock = host.write('/var/lib/dpkg/lock-frontend', '')
    child = hold_lock(lock)
    ticks = iter(range(0, 1000))
    run = Recorder()
    remover = linux_remove.Remover(run, root='/', which=which, sleep=lambda s: None, clock=lambda: next(ticks),
                                   lock_timeout=5)
    try:
        # the lock file of the fake tree, read through the real /proc/locks
        remover.path = lambda p: host.path(p) if p.startswith('/var/lib') else p
        with pytest.raises(linux_remove.RemovalError, match=r'stayed locked for more than 5s .*process %d' % child.pid):
            remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'dpkg'})
        assert run.calls == []  # dpkg never ran while the lock was held
        assert 'waiting for the package manager' in remover.notes[0]
    finally:
        child.kill()
        child.wait()
    assert remover.lock_holder('dpkg') is None
    remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'dpkg'})
    assert run.calls == [['/usr/bin/dpkg', '--purge', 'kesl']]


def test_package_command_that_loses_the_lock_race_is_retried(tmp_path):
    run = Recorder({('/usr/bin/dpkg', '--purge'): [
        (2, '', 'dpkg: error: dpkg frontend lock was locked by another process with pid 3411'), (0, '', '')]})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which, sleep=lambda s: None)
    remover.execute({'action': 'remove_package', 'product': 'kesl', 'target': 'kesl', 'manager': 'dpkg'})
    assert run.calls == [['/usr/bin/dpkg', '--purge', 'kesl']] * 2


def test_sysv_hosts_disable_and_reenable_with_update_rc_d(tmp_path):
    run = Recorder()
    tools = {'update-rc.d': '/usr/sbin/update-rc.d'}
    remover = linux_remove.Remover(run, root=str(tmp_path), which=tools.get)
    remover.execute({'action': 'disable_service', 'product': 'kav4fs', 'target': 'kav4fs-supervisor'})
    remover.execute({'action': 'enable_service', 'product': 'kav4fs', 'target': 'kav4fs-supervisor'})
    remover.execute({'action': 'start_service', 'product': 'kav4fs', 'target': 'kav4fs-supervisor'})
    assert run.calls == [['/usr/sbin/update-rc.d', '-f', 'kav4fs-supervisor', 'remove'],
                         ['/usr/sbin/update-rc.d', 'kav4fs-supervisor', 'defaults'],
                         ['/etc/init.d/kav4fs-supervisor', 'start']]


def test_chkconfig_hosts_reenable_with_chkconfig(tmp_path):
    run = Recorder()
    remover = linux_remove.Remover(run, root=str(tmp_path), which={'chkconfig': '/sbin/chkconfig'}.get)
    remover.execute({'action': 'enable_service', 'product': 'kesl', 'target': 'kesl'})
    assert run.calls == [['/sbin/chkconfig', 'kesl', 'on']]


def test_reenable_without_any_tool_is_a_clear_error(tmp_path):
    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=lambda n: None)
    with pytest.raises(linux_remove.RemovalError, match='no systemctl, update-rc.d or chkconfig'):
        remover.execute({'action': 'enable_service', 'product': 'kesl', 'target': 'kesl'})


def test_sysv_service_state_comes_from_the_init_script(tmp_path):
    host = debian_host(tmp_path)
    os.rmdir(host.path('/run/systemd/system'))
    host.executable('/etc/init.d/kav4fs-supervisor')
    host.respond(['/etc/init.d/kav4fs-supervisor', 'status'], rc=0)
    collector = linux.LinuxCollector(host.run_command, root=host.root, which=host.which)
    assert collector.services(['kav4fs-supervisor'])['kav4fs-supervisor']['active'] is True
    host.respond(['/etc/init.d/kav4fs-supervisor', 'status'], rc=3)
    assert collector.services(['kav4fs-supervisor'])['kav4fs-supervisor']['active'] is False
