# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The one atomic file replace the journal and the provider modules share."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.phaseout.antivirus.plugins.module_utils import atomic_file, journal, provider_host


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
