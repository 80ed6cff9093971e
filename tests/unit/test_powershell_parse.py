# SPDX-License-Identifier: GPL-3.0-or-later
"""Every PowerShell file of the repository parses (tree-sitter-powershell; no pwsh needed)."""
from __future__ import annotations

import os

import pytest

tree_sitter = pytest.importorskip('tree_sitter')
tree_sitter_powershell = pytest.importorskip('tree_sitter_powershell')

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SKIP_DIRS = {'.git', '.venv', 'collections', 'node_modules', '.cache', 'artifacts', '.pytest_cache', '__pycache__'}
EXTENSIONS = ('.ps1', '.psm1', '.psd1')


def _parser():
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def powershell_files():
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.lower().endswith(EXTENSIONS):
                found.append(os.path.relpath(os.path.join(top, name), ROOT))
    return found


def problems(source):
    """ERROR and MISSING nodes of the parse tree, as (kind, line, column, text)."""
    tree = _parser().parse(source)
    out = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == 'ERROR' or node.is_missing:
            out.append(('MISSING ' + node.type if node.is_missing else 'ERROR', node.start_point[0] + 1,
                        node.start_point[1] + 1, node.text[:60].decode('utf-8', 'replace')))
        stack.extend(node.children)
    return sorted(out, key=lambda p: (p[1], p[2]))


def test_the_parser_catches_broken_powershell():
    assert problems(b'$a = @{ x = 1; y = 2 }\nforeach ($i in $a.Keys) { Write-Output $i }\n') == []
    assert problems(b'if ($x -eq 1 {\n  $y = (1 + \n}\n')


def test_there_are_powershell_files():
    assert any(path.endswith('win_kaspersky_collect.ps1') for path in powershell_files())


@pytest.mark.parametrize('path', powershell_files())
def test_powershell_parses(path):
    with open(os.path.join(ROOT, path), 'rb') as handle:
        source = handle.read()
    found = problems(source)
    assert not found, '%s does not parse: %s' % (path, found[:5])
