# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""One way to replace a file on a host so that a crash leaves the old file or the new one, never half of either.

Used by the swap journal (module_utils/journal.py) and by the provider modules' file writes
(module_utils/provider_host.py). Kept apart from both so that neither module pulls the other into its payload.
"""

from __future__ import annotations

import os
import tempfile


def replace_file(path, data, mode, prefix='.phaseout-', uid=-1, gid=-1):
    """Write ``data`` (bytes) to ``path`` atomically: a temporary file in the same directory, fsync, owner and mode,
    rename over ``path``, then fsync the directory so the rename itself survives a power cut. The temporary file is
    removed whatever fails; the directory must exist."""
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if uid != -1 or gid != -1:
            os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dirfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)
    except OSError:
        pass
    finally:
        os.close(dirfd)
