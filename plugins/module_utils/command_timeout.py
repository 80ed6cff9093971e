# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Every external command phaseout runs on a host: one way to bound it and one way to run it.

``timed_argv`` puts the command under coreutils' ``timeout``; ``run_command`` runs it and returns as soon
as it has ended. Used by detection and removal (module_utils/linux.py, linux_remove.py) and by the provider
modules (module_utils/provider_host.py); kept apart so the provider modules do not carry detection in their
payload.
"""

from __future__ import annotations

import errno
import os
import selectors
import subprocess

# what coreutils' timeout exits with when it stopped the command (TERM, then KILL after the grace period)
TIMED_OUT_RCS = (124, 137)

# what a shell answers for a command it could not find or could not execute
NOT_FOUND_RC, NOT_EXECUTABLE_RC = 127, 126


def timed_argv(argv, seconds, which):
    """``argv`` under ``timeout --kill-after=5 <seconds>s`` when coreutils' timeout exists."""
    tool = which('timeout') if which else None
    if not tool or not seconds:
        return list(argv)
    return [tool, '--kill-after=5', '%ds' % int(seconds)] + list(argv)


def _command_environment(environ_update):
    env = dict(os.environ)
    # the module's own payload path (AnsiballZ) is not for the commands it runs, some of which are Python
    if 'PYTHONPATH' in env:
        kept = [p for p in env['PYTHONPATH'].split(os.pathsep)
                if p and not p.endswith(('/ansible_modlib.zip', '/debug_dir'))]
        if kept:
            env['PYTHONPATH'] = os.pathsep.join(kept)
        else:
            del env['PYTHONPATH']
    env.update(environ_update or {})
    return env


def run_command(argv, data=None, binary_data=False, environ_update=None):
    """Run ``argv`` (a list, never a shell string); return ``(rc, stdout, stderr)`` as text.

    The call AnsibleModule.run_command answers (the same keywords), without the stall of its read loop:
    that loop looks at the process twice, and when the command ends between the two looks, after both
    of its pipes have closed, it waits out a one-second ``select`` on no pipe at all. On a lab host that
    happened to about one command in ten, a second each time. Here the command's end is itself an event
    (a pidfd where the kernel has them, else a look every 50 ms), so the call returns when the command
    has ended and its output is read, and still returns when the command leaves a daemon behind that
    holds its pipes open (a SysV init script that does not redirect its daemon's output).

    Standard input is /dev/null unless ``data`` is given: a command that asks a question gets end of
    file, not the module's own input. A command that cannot be started answers like a shell would
    (127 not found, 126 not executable) instead of failing the module: the caller decides.
    """
    argv = [str(a) for a in argv]
    payload = None
    if data is not None:
        payload = data if binary_data else data + '\n'
        if not isinstance(payload, bytes):
            payload = payload.encode('utf-8')
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE if payload is not None else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
                                   env=_command_environment(environ_update))
    except OSError as exc:
        rc = NOT_FOUND_RC if exc.errno == errno.ENOENT else NOT_EXECUTABLE_RC
        return rc, '', '%s: %s' % (argv[0] if argv else '(no command)', exc.strerror or exc)
    try:
        out, err = _collect(process, payload)
    finally:
        process.wait()
    return process.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def _pidfd(process):
    pidfd_open = getattr(os, 'pidfd_open', None)
    if pidfd_open is None:
        return None
    try:
        return pidfd_open(process.pid)
    except OSError:  # a kernel before 5.3, or a seccomp profile that refuses it
        return None


def _collect(process, payload):
    """Read stdout and stderr to their end, or until the process has ended and nothing more is there."""
    chunks = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    selector = selectors.PollSelector() if hasattr(selectors, 'PollSelector') else selectors.SelectSelector()
    for fd in chunks:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    stdin_fd = process.stdin.fileno() if payload is not None else None
    if stdin_fd is not None:
        os.set_blocking(stdin_fd, False)
        selector.register(stdin_fd, selectors.EVENT_WRITE)
    pidfd = _pidfd(process)
    if pidfd is not None:
        selector.register(pidfd, selectors.EVENT_READ)
    ended, written = False, 0
    try:
        while any(key.fd in chunks for key in selector.get_map().values()):
            # once the process has ended, only what is already in the pipes is read (timeout 0)
            events = selector.select(0 if ended else (None if pidfd is not None else 0.05))
            for key, _mask in events:
                if key.fd == pidfd:
                    ended = True
                    selector.unregister(pidfd)
                elif key.fd == stdin_fd:
                    try:
                        written += os.write(key.fd, payload[written:written + 65536])
                    except BlockingIOError:
                        continue
                    except OSError:  # the command closed its input early: what it read is what it gets
                        written = len(payload)
                    if written >= len(payload):
                        selector.unregister(key.fd)
                        process.stdin.close()
                else:
                    try:
                        chunk = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if chunk:
                        chunks[key.fd].append(chunk)
                    else:
                        selector.unregister(key.fd)
            if not events:
                if ended:
                    break  # ended, and what is left open belongs to something it started
                ended = pidfd is None and process.poll() is not None
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)
        if process.stdin and not process.stdin.closed:
            process.stdin.close()
    return b''.join(chunks[process.stdout.fileno()]), b''.join(chunks[process.stderr.fileno()])
