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
        ('stop_service', 'klnagent64'), ('disable_service', 'klnagent64'),
        ('stop_service', 'kesl'), ('disable_service', 'kesl'),
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
    run = Recorder({('/usr/bin/dpkg', '--purge'): (1, '', "dpkg: error processing package kesl (--purge):\n"
                                                           " installed kesl package pre-removal script subprocess"
                                                           " returned error exit status 1\n")})
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
    host.write('/etc/apt/sources.list', 'deb http://deb.debian.org/debian bookworm main\n'
                                        'deb https://mirror.example/kaspersky bookworm main\n')
    host.write('/etc/apt/keyrings/kaspersky.gpg', 'k')
    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=which)
    for step in ({'action': 'remove_path', 'target': '/var/opt/kaspersky/kesl'},
                 {'action': 'remove_path', 'target': '/var/opt/kaspersky/absent'},
                 {'action': 'remove_unit', 'target': '/etc/systemd/system/klnagent64.service'},
                 {'action': 'remove_repository', 'target': '/etc/apt/sources.list', 'mode': 'comment'},
                 {'action': 'remove_repository', 'target': '/etc/apt/keyrings/kaspersky.gpg', 'mode': 'delete'}):
        step['product'] = None
        assert remover.execute(step) is True
    assert not os.path.exists(host.path('/var/opt/kaspersky/kesl'))
    assert not os.path.exists(host.path('/etc/systemd/system/klnagent64.service.d'))
    assert not os.path.exists(host.path('/etc/apt/keyrings/kaspersky.gpg'))
    sources = open(host.path('/etc/apt/sources.list')).read()
    assert sources == ('deb http://deb.debian.org/debian bookworm main\n'
                       '# disabled by phaseout: deb https://mirror.example/kaspersky bookworm main\n')


def test_stop_process_escalates_to_sigkill(tmp_path):
    host = FakeHost(tmp_path)
    host.mkdir('/proc/77')
    sent = []

    def kill(pid, sig):
        sent.append(sig)
        if sig == signal.SIGKILL:
            os.rmdir(host.path('/proc/77'))

    remover = linux_remove.Remover(Recorder(), root=str(tmp_path), which=which, sleep=lambda s: None, kill=kill)
    remover.execute({'action': 'stop_process', 'product': 'kesl', 'target': 77, 'path': '/opt/kaspersky/kesl/sbin/kesl'})
    assert sent == [signal.SIGTERM, signal.SIGKILL]


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


ACTIVATE = {'command': ['/usr/bin/systemctl', 'enable', '--now', 'clamav-clamonacc.service'],
            'check': ['/bin/sh', '-c', 'grep -qs fanotify /proc/$(pidof clamonacc)/fdinfo/*'], 'timeout': 5}


def test_activation_runs_after_the_services_stop_and_before_any_removal(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(full_host(tmp_path)), activate=ACTIVATE)
    names = [s['action'] for s in steps]
    position = names.index('activate_replacement')
    assert names[:position] == ['stop_service', 'disable_service', 'stop_service', 'disable_service']
    assert names[position + 1] == 'remove_package'
    assert steps[position]['command'] == ACTIVATE['command'] and steps[position]['timeout'] == 5


def test_no_activation_step_when_nothing_is_removed(tmp_path):
    steps, _w = linux_remove.plan_removal(detection_of(debian_host(tmp_path)), activate=ACTIVATE)
    assert steps == []


def test_rollback_restarts_only_what_this_run_stopped(tmp_path):
    detection = detection_of(full_host(tmp_path))
    steps, _w = linux_remove.plan_removal(detection, activate=ACTIVATE)
    executed = steps[:4]
    assert actions(linux_remove.rollback_steps(executed)) == [
        ('enable_service', 'klnagent64'), ('enable_service', 'kesl'),
        ('start_service', 'klnagent64'), ('start_service', 'kesl'),
    ]
    # the agent's stop does not end protection; KESL's does
    assert [linux_remove.protecting(detection, s) for s in steps[:4]] == [False, False, True, False]


def test_activation_polls_its_check_until_it_passes(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), 'run', 'systemd', 'system'))
    run = Recorder({('/bin/sh',): [(1, '', ''), (1, '', ''), (0, '', '')]})
    naps = []
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which, sleep=naps.append)
    step = {'action': 'activate_replacement', 'product': None, 'target': 'x', 'command': ACTIVATE['command'],
            'check': ACTIVATE['check'], 'timeout': 5}
    assert remover.execute(step) is True
    assert run.calls[0] == ACTIVATE['command'] and run.calls.count(ACTIVATE['check']) == 3
    assert naps == [0.2, 0.2]


def test_activation_that_never_confirms_times_out_with_the_reason(tmp_path):
    ticks = iter(range(0, 1000, 2))
    run = Recorder({('/bin/sh',): (1, '', 'no fanotify marks')})
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which, sleep=lambda s: None,
                                   clock=lambda: next(ticks))
    step = {'action': 'activate_replacement', 'product': None, 'target': 'x', 'command': ACTIVATE['command'],
            'check': ACTIVATE['check'], 'timeout': 5}
    with pytest.raises(linux_remove.RemovalError, match='did not confirm real-time protection within 5s.*no fanotify'):
        remover.execute(step)


def test_restart_steps_use_systemctl(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), 'run', 'systemd', 'system'))
    run = Recorder()
    remover = linux_remove.Remover(run, root=str(tmp_path), which=which)
    remover.execute({'action': 'enable_service', 'product': 'kesl', 'target': 'kesl'})
    remover.execute({'action': 'start_service', 'product': 'kesl', 'target': 'kesl'})
    assert run.calls == [['/usr/bin/systemctl', 'enable', 'kesl.service'], ['/usr/bin/systemctl', 'start', 'kesl.service']]
