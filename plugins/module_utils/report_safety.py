# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Reports that cannot be poisoned: safe file names, neutral CSV cells, malformed results, dry runs beside real runs.

Pure functions for the controller-side report writer (fleet_report):

* ``safe_filename(host)`` / ``safe_path(directory, host)``: an inventory host
  name becomes a file name that cannot leave the report directory (``../``,
  ``/``, a leading dot, control characters, device names); a name that still
  resolves outside the directory (a symlink planted in it) is refused.
* ``csv_cell(value)``: a cell a spreadsheet will not run as a formula (OWASP
  "CSV Injection": text starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return is prefixed with a single quote).
* ``coerce_record(record)`` / ``safe_build(builder, ...)``: one malformed host
  result (a list where text is expected, a builder that raises) becomes a
  ``malformed`` record that says why, and the fleet report is still written
  for every other host.
* ``report_dir(base, phase, check_mode)``: a dry run writes beside the real
  report of the phase, never over it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

# --- file names ---------------------------------------------------------------------------------

MAX_NAME = 120
_UNSAFE = re.compile(r'[^A-Za-z0-9._-]')
# Names Windows refuses as files, whatever the extension (an auditor may unpack the report there).
_DEVICE_NAMES = frozenset(['CON', 'PRN', 'AUX', 'NUL'] + ['COM%d' % i for i in range(1, 10)]
                          + ['LPT%d' % i for i in range(1, 10)])


class UnsafeName(ValueError):
    """A host name that cannot be made into a file name inside the report directory."""


def safe_filename(host, suffix='.json'):
    """The file name of a host's record: ``[A-Za-z0-9._-]`` only, never hidden, never ``.`` or ``..``.

    A name that had to be changed gets a short hash of the original, so two
    hosts never share a file (``a/b`` and ``a_b``). Raises UnsafeName for an
    empty or non-text host.
    """
    if not isinstance(host, str) or not host.strip():
        raise UnsafeName('host name %r cannot name a report file' % (host,))
    name = _UNSAFE.sub('_', host)
    if name.startswith('.'):
        name = '_' + name[1:]
    if name.split('.')[0].upper() in _DEVICE_NAMES:
        name = '_' + name
    if name != host or len(name) > MAX_NAME:
        digest = hashlib.sha256(host.encode('utf-8', 'surrogatepass')).hexdigest()[:10]
        name = '%s-%s' % (name[:MAX_NAME - 11], digest)
    return name + suffix


def safe_path(directory, host, suffix='.json'):
    """The full path of a host's record under ``directory``; refused (UnsafeName) if it resolves elsewhere.

    A symlink at that path, or anywhere that makes the path resolve outside the
    directory, is refused rather than followed.
    """
    name = safe_filename(host, suffix)
    base = os.path.realpath(directory)
    path = os.path.join(base, name)
    if os.path.islink(path):
        raise UnsafeName('%s is a symbolic link: refusing to write the record of %r through it' % (path, host))
    resolved = os.path.realpath(path)
    if os.path.dirname(resolved) != base:
        raise UnsafeName('the record of %r would be written outside %s (%s)' % (host, base, resolved))
    return path


# --- CSV ----------------------------------------------------------------------------------------

FORMULA_TRIGGERS = ('=', '+', '-', '@', '\t', '\r')


def csv_cell(value):
    """One CSV cell as text that a spreadsheet shows and never evaluates.

    Lists become space-separated text, dicts JSON, booleans yes/no, None an
    empty cell; numbers stay numbers. Text whose first character (or first
    character after spaces) is ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading ``'``. Quoting is left to the csv module.
    """
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple, set)):
        text = ' '.join(str(csv_cell(v)) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = str(value)
    if text and (text[0] in FORMULA_TRIGGERS or text.lstrip(' ')[:1] in FORMULA_TRIGGERS[:4]):
        return "'" + text
    return text


def csv_row(record, columns):
    """{column: csv_cell(record[column])} for a csv.DictWriter."""
    return {column: csv_cell(record.get(column)) for column in columns}


# --- malformed records --------------------------------------------------------------------------

# The fields every phase's record may hold, and what each must be. A field of
# the wrong type makes the record `malformed` (and is kept as text for the
# reader), never an exception that stops the fleet report.
TEXT_FIELDS = ('host', 'phase', 'status', 'verdict', 'outcome', 'error', 'timestamp', 'admin_server', 'provider',
               'platform', 'failed_step', 'wave')
LIST_FIELDS = ('installed', 'removed', 'residue', 'blockers', 'warnings', 'leftovers')
FLAG_FIELDS = ('provider_healthy', 'reboot_required', 'check_mode', 'realtime_protection_active')
NUMBER_FIELDS = ('unprotected_window_s',)
MALFORMED = 'malformed'


def _describe(value):
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:197] + '...'


def malformed_record(host, phase, timestamp, why):
    return {'host': host if isinstance(host, str) else _describe(host), 'phase': phase, 'timestamp': timestamp,
            'status': MALFORMED, 'verdict': MALFORMED, 'outcome': MALFORMED,
            'error': 'malformed result: %s' % why}


def coerce_record(record, host=None, phase=None, timestamp=None):
    """Check a built record's field types; a wrong one makes it ``malformed``, naming the fields. Never raises.

    Returns a new dict. A non-dict becomes a malformed record of ``host``.
    Wrong fields are kept as text (JSON) so the reader sees what arrived.
    """
    if not isinstance(record, dict):
        return malformed_record(host, phase, timestamp, 'the host result is a %s, not a record'
                                % type(record).__name__)
    out = dict(record)
    bad = []
    for field in TEXT_FIELDS:
        value = out.get(field)
        if value is not None and not isinstance(value, str):
            bad.append(field)
            out[field] = _describe(value)
    for field in LIST_FIELDS:
        value = out.get(field)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            bad.append(field)
            out[field] = [_describe(value)]
    for field in FLAG_FIELDS:
        value = out.get(field)
        if value is not None and not isinstance(value, bool):
            bad.append(field)
            out[field] = None
    for field in NUMBER_FIELDS:
        value = out.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            bad.append(field)
            out[field] = None
    if not out.get('host'):
        bad.append('host')
        out['host'] = host if isinstance(host, str) else _describe(host)
    for key, default in (('phase', phase), ('timestamp', timestamp)):
        if out.get(key) is None:
            out[key] = default
    if bad:
        fields = sorted(set(bad))
        out['malformed_fields'] = fields
        out['error'] = 'malformed result: %s not of the expected type (%s)%s' % (
            ', '.join(fields), '; '.join('%s: %s' % (f, _describe(record.get(f))) for f in fields),
            ('; ' + out['error']) if isinstance(out.get('error'), str) and out.get('error') else '')
        out['status'] = MALFORMED
        out.setdefault('outcome', MALFORMED)
    return out


def safe_build(builder, host, phase, raw, timestamp):
    """``builder(host, phase, raw, timestamp)`` (report.build_record), then coerce_record; any exception of the
    builder becomes a malformed record of that host, so the report of the other hosts is still written."""
    try:
        record = builder(host, phase, raw, timestamp)
    except Exception as exc:  # noqa: BLE001 - one host's bad data must not stop the fleet report
        return malformed_record(host, phase, timestamp, '%s: %s' % (type(exc).__name__, exc))
    return coerce_record(record, host, phase, timestamp)


# --- dry runs beside real runs ------------------------------------------------------------------

DRY_RUN_SUFFIX = '-dry-run'


def report_dir(base, phase, check_mode):
    """``<base>/<phase>`` for a real run, ``<base>/<phase>-dry-run`` for a dry run (never over the real report)."""
    if not isinstance(phase, str) or not re.match(r'^[a-z][a-z0-9_]*$', phase):
        raise UnsafeName('phase %r cannot name a report directory' % (phase,))
    return os.path.join(base, phase + (DRY_RUN_SUFFIX if check_mode else ''))
