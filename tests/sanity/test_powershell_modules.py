# -*- coding: utf-8 -*-
# Copyright: (c) 2026, phaseout maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What validate-modules checks in a .ps1 module without pwsh.

ansible-test's validate-modules needs pwsh (PowerShell) to read a .ps1
module's argument spec and stops with an error without it, so make sanity runs
it without the .ps1 modules where pwsh cannot be installed (scripts/sanity.sh).
These are the checks of its ModuleValidator (ansible_test/_util/controller/
sanity/validate-modules/validate_modules/main.py) that need no pwsh, with the
same codes, so the modules stay clean where pwsh exists (upstream CI):
the interpreter line, the GPLv3 licence header, and a .py (or .yml) file
next to it that holds the documentation.
"""

from __future__ import annotations

import glob
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODULES = sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.ps1')))


def problems(path):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    found = []
    if not text.startswith('#!powershell\n'):
        found.append('missing-powershell-interpreter: Interpreter line is not "#!powershell"')
    header = '\n'.join(text.split('\n')[:20])
    if 'GNU General Public License' not in header or ('version 3' not in header and 'v3.0' not in header):
        found.append('missing-gplv3-license: GPLv3 license header not found in the first 20 lines of the module')
    if not any(os.path.isfile(path[:-len('.ps1')] + ext) for ext in ('.py', '.yml', '.yaml')):
        found.append('missing-documentation: No DOCUMENTATION provided (no .py or .yml file next to it)')
    return found


def test_there_are_powershell_modules():
    assert MODULES


@pytest.mark.parametrize('path', MODULES, ids=os.path.basename)
def test_powershell_module_passes_validate_modules_header_checks(path):
    assert not problems(path), '%s:\n%s' % (os.path.relpath(path, ROOT), '\n'.join(problems(path)))
