# SPDX-License-Identifier: GPL-3.0-or-later
"""No secret reaches the WinRM connection plugin's own log, even at -vvvvv.

The real ``ansible.plugins.connection.winrm`` Connection runs with a fake transport (its three
pywinrm calls replaced): it logs ``WINRM RESULT <... out ...>`` at -vvvvv unless its play context
says no_log. win_package echoes the msiexec command line, KLPASSWD included, when msiexec fails; the
action plugin must set no_log on the play context before the connection reads it.
"""
from __future__ import annotations

import json

import pytest

pytest.importorskip('winrm')

from ansible.playbook.play_context import PlayContext  # noqa: E402
from ansible.plugins.connection import winrm as winrm_plugin  # noqa: E402
from ansible.plugins.loader import connection_loader  # noqa: E402

from conftest import AGENT_PASSWORD, COLLECTOR, KES_PASSWORD, WIN_PACKAGE, FakeTask, load, win_package_result  # noqa: E402

from ansible_collections.phaseout.antivirus.plugins.action import kaspersky_uninstall  # noqa: E402
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_uninstall as wu  # noqa: E402

KES117 = '{04CF7FBD-E56C-446D-8FC9-DD444BDBEE8E}'
NA2 = '{ED1C2D7E-5C7A-48D8-A697-57D1C080ABA7}'


@pytest.fixture
def log(monkeypatch):
    lines = []
    monkeypatch.setattr(winrm_plugin.display, 'verbosity', 5)
    monkeypatch.setattr(winrm_plugin.display, 'display', lambda msg, *a, **k: lines.append(msg))
    return lines


class FakeProtocol:
    """The pywinrm Protocol calls the plugin makes besides the three replaced below."""

    def cleanup_command(self, shell_id, command_id):
        return None


def winrm_connection(answer):
    """The real winrm connection plugin; the transport answers every command with ``answer(in_data)``."""
    play_context = PlayContext()
    conn = connection_loader.get('winrm', play_context, None)
    conn._winrm_host = 'win1.example.test'
    conn.protocol = FakeProtocol()
    conn.shell_id = 'shell-1'
    conn._connected = True
    pending = {}

    def run_command(command, args, console_mode_stdin=True):
        pending['stdin'] = b''
        return 'command-1'

    def write_stdin(command_id, stdin_iterator):
        pending['stdin'] = b''.join(chunk for chunk, _eof in stdin_iterator)

    def get_output(protocol, shell_id, command_id, try_once=False):
        return answer(pending['stdin']).encode('utf-8'), b'', 0

    conn._winrm_run_command = run_command
    conn._winrm_write_stdin = write_stdin
    conn._winrm_get_command_output = get_output
    return conn, play_context


def test_the_connection_logs_output_unless_no_log(log):
    """The control: this is the logging that would leak (so the test below can fail)."""
    echo = json.dumps(win_package_result({'product_id': KES117, 'arguments': 'KLPASSWD=%s' % KES_PASSWORD}, rc=1603,
                                         failed=True))
    conn, play_context = winrm_connection(lambda _stdin: echo)
    conn.exec_command('PowerShell -NoProfile -', in_data=b'{}')
    assert any('Kes-Pa55' in line for line in log)  # the password, JSON- and repr-escaped
    log.clear()
    play_context.no_log = True
    conn.exec_command('PowerShell -NoProfile -', in_data=b'{}')
    assert log and not any('Kes-Pa55' in line for line in log)
    assert any('censored due to no log' in line for line in log)


def test_kaspersky_uninstall_over_the_real_winrm_plugin_logs_no_password(log):
    collectors = [load('kes_protected'), load('kes11_en_na_after_msi'), load('kes11_en_na_after_residue')]
    seen_no_log = []

    def answer(_stdin):
        return '{}'

    conn, play_context = winrm_connection(answer)
    task = FakeTask('phaseout.antivirus.kaspersky_uninstall',
                    {'kes_password': KES_PASSWORD, 'agent_password': AGENT_PASSWORD, 'purge_leftovers': False})
    action = kaspersky_uninstall.ActionModule(task, conn, play_context, None, None, None)

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        # What ActionBase._execute_module does on the wire: one exec_command whose output the plugin logs.
        if module_name == COLLECTOR:
            result = collectors.pop(0) if len(collectors) > 1 else collectors[0]
        elif module_name == WIN_PACKAGE:
            rc = 1603 if module_args['product_id'] == KES117 else 0
            result = win_package_result(module_args, rc=rc, failed=rc != 0)
        else:
            raise AssertionError(module_name)
        seen_no_log.append((module_name, task.no_log, conn._play_context.no_log))
        conn._winrm_get_command_output = lambda *a, **k: (json.dumps(result).encode('utf-8'), b'', 0)
        rc, stdout, _stderr = conn.exec_command('PowerShell -NoProfile -EncodedCommand x', in_data=b'{"payload": 1}')
        return json.loads(stdout)

    action._execute_module = execute_module
    result = action.run(task_vars={})
    assert result['failed'] is True and 'password was rejected' in result['msg']
    # the collector's output is logged (logging is really on) ...
    assert any('WINRM RESULT' in line and 'uninstall' in line for line in log)
    # ... the win_package call ran with no_log on the task and on the connection's play context ...
    assert (WIN_PACKAGE, True, True) in seen_no_log
    assert (COLLECTOR, False, False) in seen_no_log
    # ... so no form of either password is in the connection's log or the result
    text = '\n'.join(log) + json.dumps(result)
    for secret in wu.secret_variants(KES_PASSWORD, AGENT_PASSWORD) + ['Kes-Pa55', 'we1c0me']:
        assert secret not in text, secret
    assert play_context.no_log is False and task.no_log is False  # restored
