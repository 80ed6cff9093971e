# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake Linux host: a directory tree standing in for / plus scripted commands.

Tests build the tree with the same files a real host has (dpkg status,
/proc/<pid>/cmdline and exe links, unit files, /proc/modules) and answer
commands with fixtures captured from real tools.
"""
from __future__ import annotations

import os

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def fixture(*parts):
    with open(os.path.join(FIXTURES, *parts), encoding='utf-8') as handle:
        return handle.read()


class FakeHost:
    def __init__(self, root):
        self.root = str(root)
        self.responses = {}   # tuple(argv prefix) -> (rc, out, err) or callable
        self.calls = []
        os.makedirs(os.path.join(self.root, 'proc'), exist_ok=True)

    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def write(self, path, text='', mode=0o644):
        full = self.path(path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.chmod(full, mode)
        return full

    def mkdir(self, path):
        os.makedirs(self.path(path), exist_ok=True)

    def executable(self, path, text='#!/bin/sh\n'):
        return self.write(path, text, 0o755)

    def process(self, pid, exe, argv=None):
        argv = argv or [exe]
        self.write('/proc/%d/cmdline' % pid, '\0'.join(argv) + '\0')
        os.symlink(exe, self.path('/proc/%d/exe' % pid))

    def systemd(self):
        self.mkdir('/run/systemd/system')
        self.executable('/usr/bin/systemctl')

    def respond(self, argv_prefix, rc=0, out='', err=''):
        self.responses[tuple(argv_prefix)] = (rc, out, err)

    def run_command(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs))
        best = None
        for prefix, answer in self.responses.items():
            if tuple(argv[:len(prefix)]) == prefix and (best is None or len(prefix) > len(best[0])):
                best = (prefix, answer)
        if best is None:
            raise AssertionError('unexpected command: %r' % (argv,))
        answer = best[1]
        return answer(argv) if callable(answer) else answer

    def which(self, name):
        for directory in ('/usr/bin', '/bin', '/usr/sbin', '/sbin'):
            candidate = os.path.join(directory, name)
            if os.access(self.path(candidate), os.X_OK):
                return candidate
        return None
