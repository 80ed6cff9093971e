# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Rollout settings: the target of a phase, its batch size and its failure threshold.

Pure Python with no Ansible import, so that every place that takes these
values checks them the same way: the play headers (through the
phaseout.antivirus.rollout_* filters), the AWX survey defaults (a unit test)
and the command line (bin/phaseout imports this file).

* A phase that changes hosts (contain, replace, site) never runs on every
  host by accident: its target must be given, and ``all`` must be said.
* ``serial`` is a positive number of hosts or a percentage from 1% to 100%
  (Ansible silently treats 0 and negative numbers as "the whole wave", and
  crashes on text); a list of them makes growing batches (1, 10%, 100%).
* ``max_fail_percentage`` is a percentage from 0 to 100.
"""

from __future__ import annotations

import re

CHANGING_PHASES = ('contain', 'replace', 'site')
_SERIAL = re.compile(r'^\s*(\d+)\s*(%?)\s*$')
_PATTERN_SEPARATORS = re.compile(r'[:,]')


class RolloutError(ValueError):
    """A rollout setting that cannot be used; the message names the setting, the value and what is accepted."""


def check_targets(value, phase='this phase'):
    """The host pattern a phase runs on: required, non-empty; ``all`` only when said.

    Returns the pattern, stripped. Raises RolloutError for None, an empty or
    blank value, a pattern with empty parts (``wave_1::``), or a non-string.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RolloutError(
            '%s needs an explicit target: set phaseout_targets to an inventory group or host pattern '
            '(for example -e phaseout_targets=wave_pilot), or to "all" to run on every host on purpose' % phase)
    if not isinstance(value, str):
        raise RolloutError('phaseout_targets must be a host pattern (text), got %s %r'
                           % (type(value).__name__, value))
    text = value.strip()
    if any(not part.strip() for part in _PATTERN_SEPARATORS.split(text)):
        raise RolloutError('phaseout_targets %r has an empty part: write groups or hosts separated by ":" or ","'
                           % value)
    return text


def _one_serial(value, raw):
    if isinstance(value, bool):
        raise RolloutError('phaseout_serial %r: a batch size is a number of hosts or a percentage, not a boolean'
                           % (raw,))
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise RolloutError('phaseout_serial %r: expected a positive number of hosts (10) or a percentage '
                           'from 1%% to 100%% (25%%)' % (raw,))
    match = _SERIAL.match(text)
    if not match:
        raise RolloutError('phaseout_serial %r is not a batch size: expected a positive number of hosts (10) or a '
                           'percentage from 1%% to 100%% (25%%)' % (raw,))
    number, percent = int(match.group(1)), bool(match.group(2))
    if percent:
        if not 1 <= number <= 100:
            raise RolloutError('phaseout_serial %r: a percentage must be from 1%% to 100%%' % (raw,))
        return '%d%%' % number
    if number < 1:
        raise RolloutError('phaseout_serial %r: a batch must hold at least one host (0 would not mean "none" but '
                           '"the whole wave" to Ansible)' % (raw,))
    return number


def check_serial(value):
    """Normalize a batch size: 10 -> 10, ' 25 % ' -> '25%', '1,10%,100%' or [1, '10%'] -> [1, '10%', '100%'].

    Raises RolloutError for 0, negative numbers, 0% or more than 100%, text,
    booleans and empty values.
    """
    raw = value
    if isinstance(value, str) and ',' in value:
        value = value.split(',')
    if isinstance(value, (list, tuple)):
        if not value:
            raise RolloutError('phaseout_serial: an empty list of batch sizes')
        return [_one_serial(item, raw) for item in value]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RolloutError('phaseout_serial is empty: expected a positive number of hosts (10) or a percentage '
                           'from 1% to 100% (25%)')
    return _one_serial(value, raw)


def check_max_fail(value):
    """Normalize a failure threshold: an integer percentage from 0 to 100 ('5', 5 and '5%' -> 5)."""
    if isinstance(value, bool) or value is None:
        raise RolloutError('phaseout_max_fail_percentage %r: expected a percentage from 0 to 100' % (value,))
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.match(r'^\s*-?\d+\s*%?\s*$', value):
        number = int(value.strip().rstrip('%').strip())
    else:
        raise RolloutError('phaseout_max_fail_percentage %r is not a percentage: expected a whole number from 0 '
                           'to 100' % (value,))
    if not 0 <= number <= 100:
        raise RolloutError('phaseout_max_fail_percentage %r: expected a percentage from 0 to 100 (0: the first '
                           'failed host stops the wave)' % (value,))
    return number


# The names bin/phaseout looks for (src/phaseout/cli.py).
validate_targets = check_targets
validate_serial = check_serial
validate_max_fail = validate_max_fail_percentage = check_max_fail
