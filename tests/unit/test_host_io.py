# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The shared host-side mechanisms: the one atomic file replace, the one command timeout and the one way
to run a command."""
from __future__ import annotations

import os
import signal
import stat
import sys

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import (
    atomic_file, command_timeout, journal, linux, provider_host)
from ansible_collections.phaseout.antivirus.plugins.modules import (
    clamav_setup, clamav_verify, kaspersky_info, kaspersky_uninstall, mdatp_verify, preflight_check)


def test_replace_file_writes_content_and_mode_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 'file.conf'
    path.write_bytes(b'old\n')
    atomic_file.replace_file(str(path), b'new\n', 0o640)
    assert path.read_bytes() == b'new\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path) == ['file.conf']


def test_a_failed_rename_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / 'file.conf'
    path.write_bytes(b'old\n')

    def fail(src, dst):
        raise OSError('rename refused')

    monkeypatch.setattr(atomic_file.os, 'replace', fail)
    with pytest.raises(OSError, match='rename refused'):
        atomic_file.replace_file(str(path), b'new\n', 0o644)
    assert path.read_bytes() == b'old\n'
    assert os.listdir(tmp_path) == ['file.conf']


def test_provider_files_and_the_journal_go_through_it(tmp_path, monkeypatch):
    calls = []
    real = atomic_file.replace_file

    def spy(path, data, mode, **kwargs):
        calls.append((os.path.basename(path), mode))
        return real(path, data, mode, **kwargs)

    monkeypatch.setattr(provider_host, 'replace_file', spy)
    monkeypatch.setattr(journal, 'replace_file', spy)
    provider_host.write_file(str(tmp_path / 'clamd.conf'), b'LogSyslog true\n', None, None, '0644')
    store = journal.JournalStore(root=str(tmp_path))
    store.write(journal.new('run-1', 'clamav', 'linux'))
    assert calls == [('clamd.conf', 0o644), ('journal.json', 0o600)]
    assert (tmp_path / 'clamd.conf').read_bytes() == b'LogSyslog true\n'
    assert store.read()[0]['run_id'] == 'run-1'


class _Module:
    def __init__(self, timeout_tool, rc=0):
        self.timeout_tool, self.rc, self.calls = timeout_tool, rc, []

    def get_bin_path(self, name):
        return self.timeout_tool if name == 'timeout' else None

    def run_command(self, argv, **kwargs):
        self.calls.append(argv)
        return self.rc, 'out', ''


def test_provider_commands_run_under_the_same_timeout_as_detection_and_removal():
    module = _Module('/usr/bin/timeout')
    provider_host.Host(module).run(['systemctl', 'show', 'clamav-daemon.service'], timeout=60)
    assert module.calls == [linux.timed_argv(['systemctl', 'show', 'clamav-daemon.service'], 60,
                                             lambda name: '/usr/bin/timeout')]
    assert module.calls[0][:3] == ['/usr/bin/timeout', '--kill-after=5', '60s']
    stopped = provider_host.Host(_Module('/usr/bin/timeout', rc=124)).run(['clamdscan', 'x'], timeout=7)
    assert stopped['rc'] == 124 and 'clamdscan did not finish within 7s and was stopped' in stopped['stderr']
    without = _Module(None)
    provider_host.Host(without).run(['true'])
    assert without.calls == [['true']]


# -- command_timeout.run_command: what every module runs its commands with ------------------------------------


@pytest.fixture(params=['pidfd', 'polling'])
def run_command(request, monkeypatch):
    """The executor both ways: the command's end seen through a pidfd, and through polling (older kernels)."""
    if request.param == 'polling':
        monkeypatch.setattr(command_timeout, '_pidfd', lambda process: None)
    elif getattr(os, 'pidfd_open', None) is None:
        pytest.skip('no pidfd on this Python')
    return command_timeout.run_command


def test_it_returns_the_exit_code_and_both_outputs_as_text(run_command):
    assert run_command(['sh', '-c', 'printf "out\\n\\377"; echo err >&2; exit 3']) == (3, 'out\n\ufffd', 'err\n')


def test_input_goes_to_the_command_text_with_a_newline_bytes_as_they_are(run_command):
    assert run_command(['cat'], data='hello') == (0, 'hello\n', '')
    big = b'x' * 300000  # more than a pipe holds, both ways
    rc, out, _err = run_command(['cat'], data=big, binary_data=True)
    assert (rc, len(out)) == (0, len(big))
    assert run_command(['head', '-c', '5'], data=big, binary_data=True)[:2] == (0, 'xxxxx')


def test_without_input_the_command_reads_dev_null_not_the_modules_input(run_command):
    assert run_command(['readlink', '/proc/self/fd/0']) == (0, '/dev/null\n', '')


def test_a_command_that_cannot_be_started_answers_like_a_shell(run_command, tmp_path):
    rc, out, err = run_command([str(tmp_path / 'absent')])
    assert (rc, out) == (127, '') and 'absent' in err
    script = tmp_path / 'not-executable'
    script.write_text('#!/bin/sh\n')
    assert run_command([str(script)])[0] == 126


def test_it_returns_when_the_command_ends_though_a_daemon_it_started_holds_its_output(run_command):
    # A SysV init script whose daemon keeps the script's stdout and stderr: waiting for the pipes to close
    # would wait for the daemon (here up to 20 s, and it writes "late" before it goes).
    rc, out, _err = run_command(['sh', '-c', '(sleep 20; echo late) & echo $!; echo started'])
    try:
        assert rc == 0
        assert out.splitlines()[1:] == ['started']
    finally:
        os.kill(int(out.split()[0]), signal.SIGKILL)


def test_the_modules_payload_path_and_the_callers_environment(run_command, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', '/tmp/ansible_x/ansible_modlib.zip:/opt/site')
    assert run_command([sys.executable, '-c', 'import os; print(os.environ["PYTHONPATH"], os.environ["X"])'],
                       environ_update={'X': 'y'}) == (0, '/opt/site y\n', '')
    monkeypatch.setenv('PYTHONPATH', '/tmp/ansible_x/ansible_modlib.zip')
    assert run_command(['sh', '-c', 'echo "${PYTHONPATH-unset}"'])[1] == 'unset\n'


class _Stop(Exception):
    pass


def _fake_ansible_module(argument_spec, **_kwargs):
    """An AnsibleModule with the spec's defaults as parameters, as far as main() goes before its first command."""
    params = {name: spec.get('default') for name, spec in argument_spec.items()}
    return type('FakeAnsibleModule', (), {'params': params, 'check_mode': False, 'run_command': None,
                                          'get_bin_path': staticmethod(lambda name: None)})()


@pytest.mark.parametrize('module, seam', [(kaspersky_info, 'LinuxCollector'), (preflight_check, 'LinuxCollector'),
                                          (kaspersky_uninstall, 'run'), (clamav_setup, 'Host'),
                                          (clamav_verify, 'Host'), (mdatp_verify, 'Host')])
def test_detection_removal_and_the_provider_modules_run_their_commands_with_it(module, seam, monkeypatch):
    """main() hands command_timeout.run_command to the collector, the remover and the provider Host; the unit
    tests' fake modules answer AnsibleModule.run_command, which the classes fall back to."""
    seen = []

    def record(*args, **kwargs):
        seen.append(args[0] if seam == 'LinuxCollector' else kwargs.get('command_runner', kwargs.get('execute')))
        raise _Stop()

    monkeypatch.setattr(module, seam, record)
    monkeypatch.setattr(module, 'AnsibleModule', _fake_ansible_module)
    for name in ('platform_error',):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, lambda *args: None)
    if module is kaspersky_uninstall:
        monkeypatch.setattr(module.os, 'geteuid', lambda: 0)
    with pytest.raises(_Stop):
        module.main()
    assert seen == [command_timeout.run_command]


def test_the_provider_host_falls_back_to_the_modules_run_command():
    module = _Module(None)
    assert provider_host.Host(module).execute == module.run_command
    assert provider_host.Host(module, execute=command_timeout.run_command).execute is command_timeout.run_command
