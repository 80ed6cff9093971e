# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Vendor commands of the provider_generic role: one shape, checked, with a label that never holds an argument.

A command is an argv list (run without a shell), or a dict ``{argv, secret,
creates}``. ``secret: true`` marks a command whose arguments hold a secret (a
registration token, a password): the role runs it with no_log and reports a
failure by its position and program name only. The label (``stage command 1
(acmectl)``) is what loop output shows: never the arguments, secret or not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

_KEYS = frozenset(('argv', 'secret', 'creates'))


def _command(value, name, what, needs_creates=False, allow_empty=False):
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - _KEYS)
        if unknown:
            raise AnsibleFilterError('%s: unknown key(s) %s: a command is an argv list or a dict with argv, secret '
                                     'and creates' % (name, ', '.join(unknown)))
        argv = value.get('argv')
        try:
            secret = boolean(value.get('secret', False), strict=True)
        except TypeError:
            raise AnsibleFilterError('%s: secret must be true or false, got %r' % (name, value.get('secret')))
        creates = value.get('creates')
    else:
        argv, secret, creates = value, False, None
    if argv is None and allow_empty:
        argv = []
    if isinstance(argv, str) or not isinstance(argv, (list, tuple)):
        raise AnsibleFilterError('%s: the command must be a list of arguments (argv, run without a shell), got %s'
                                 % (name, type(argv).__name__))
    if any(isinstance(arg, (Mapping, list, tuple, bool)) or arg is None for arg in argv):
        raise AnsibleFilterError('%s: every argument must be a string or a number' % name)
    argv = [str(arg) for arg in argv]
    if not argv and not allow_empty:
        raise AnsibleFilterError('%s: the command is empty' % name)
    if needs_creates and not creates:
        raise AnsibleFilterError('%s: needs "creates" (the path that shows it already ran), so that it runs once'
                                 % name)
    command = {'argv': argv, 'secret': secret,
               'label': '%s (%s)' % (what, os.path.basename(argv[0])) if argv else what}
    if creates:
        command['creates'] = str(creates)
    return command


def vendor_command(value, name='command', what='command'):
    """One command (may be empty: not configured) -> {argv, secret, label}."""
    return _command(value, name, what, allow_empty=True)


def vendor_commands(values, name='commands', what='command', needs_creates=False):
    """A list of commands -> [{argv, secret, label[, creates]}], labelled '<what> <n> (<program>)'."""
    if values is None:
        return []
    if isinstance(values, (str, Mapping)) or not isinstance(values, (list, tuple)):
        raise AnsibleFilterError('%s must be a list of commands, got %s' % (name, type(values).__name__))
    return [_command(value, '%s[%d]' % (name, index), '%s %d' % (what, index + 1), needs_creates=needs_creates)
            for index, value in enumerate(values)]


def vendor_result(result, secret):
    """A registered command result as it may be shown or recorded: a secret command keeps only its rc."""
    if not secret or not isinstance(result, Mapping):
        return result
    hidden = {key: result[key] for key in ('rc', 'skipped', 'changed', 'failed') if key in result}
    hidden.update(stdout='', stderr='', stdout_lines=[], stderr_lines=[], secret=True)
    return hidden


class FilterModule:
    def filters(self):
        return {'vendor_command': vendor_command, 'vendor_commands': vendor_commands, 'vendor_result': vendor_result}
