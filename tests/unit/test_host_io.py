# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The shared host-side mechanisms: the one atomic file replace and the one command timeout."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import atomic_file, journal, linux, provider_host


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
