# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Every external command phaseout runs on a host runs under coreutils' ``timeout``: one way to wrap it.

Used by detection and removal (module_utils/linux.py, linux_remove.py) and by the provider modules
(module_utils/provider_host.py); kept apart so the provider modules do not carry detection in their payload.
"""

from __future__ import annotations

# what coreutils' timeout exits with when it stopped the command (TERM, then KILL after the grace period)
TIMED_OUT_RCS = (124, 137)


def timed_argv(argv, seconds, which):
    """``argv`` under ``timeout --kill-after=5 <seconds>s`` when coreutils' timeout exists."""
    tool = which('timeout') if which else None
    if not tool or not seconds:
        return list(argv)
    return [tool, '--kill-after=5', '%ds' % int(seconds)] + list(argv)
