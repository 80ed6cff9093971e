# SPDX-License-Identifier: GPL-3.0-or-later
"""The PowerShell module_utils (plugins/module_utils/*.psm1) parse, and the Windows modules that load them
with ``#AnsibleRequires -PowerShell`` name utils that exist and call only functions those utils export.

No PowerShell here: the checks read the tree-sitter-powershell syntax tree. Ansible imports each util as
its own PowerShell module (New-Module | Import-Module), so a function a module calls from a util is only
there if the util's Export-ModuleMember names it; that is what this test guards."""
from __future__ import annotations

import fnmatch
import glob
import importlib.util
import os
import re

import pytest

from conftest import ROOT

tree_sitter = pytest.importorskip('tree_sitter')
tree_sitter_powershell = pytest.importorskip('tree_sitter_powershell')

MODULES_DIR = os.path.join(ROOT, 'plugins', 'modules')
UTILS_DIR = os.path.join(ROOT, 'plugins', 'module_utils')
COLLECTION = 'phaseout.antivirus'

# What Ansible's module_manifest accepts (ansible/executor/powershell/module_manifest.py, _re_ps_module).
REQUIRES = re.compile(r'^#\s*ansiblerequires\s+-powershell\s+(\S+?)(\s+-optional)?\s*$', re.I | re.M)
# Our own helpers are named Verb-Phaseout<Noun>.
OURS = re.compile(r'^[a-z]+-phaseout', re.I)


def _parse_test():
    """tests/unit/test_powershell_parse.py, loaded by path: one parser and one notion of 'parses'."""
    path = os.path.join(ROOT, 'tests', 'unit', 'test_powershell_parse.py')
    spec = importlib.util.spec_from_file_location('phaseout_powershell_parse', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PARSE = _parse_test()


def psm1_files():
    return sorted(glob.glob(os.path.join(UTILS_DIR, '*.psm1')))


def module_files():
    return sorted(glob.glob(os.path.join(MODULES_DIR, '*.ps1')))


def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def _walk(node, kind):
    stack = [node]
    while stack:
        node = stack.pop()
        if node.type == kind:
            yield node
        stack.extend(reversed(node.children))


def _text(node):
    return node.text.decode('utf-8', 'replace')


class Script:
    """The facts of one PowerShell file this test needs, read from its syntax tree."""

    def __init__(self, source):
        if isinstance(source, str):
            source = source.encode('utf-8')
        self.source = source
        root = PARSE._parser().parse(source).root_node
        self.requires = [m.group(1) for m in REQUIRES.finditer(source.decode('utf-8', 'replace'))]
        self.defined = {}
        for function in _walk(root, 'function_statement'):
            for child in function.children:
                if child.type == 'function_name':
                    self.defined[_text(child).lower()] = _text(child)
        self.calls = {}
        for command in _walk(root, 'command'):
            for child in command.children:
                if child.type in ('command_name', 'command_name_expr'):
                    self.calls.setdefault(_text(child).lower(), _text(child))
        self.variables = set()
        for variable in _walk(root, 'variable'):
            name = _text(variable).lstrip('$').strip('{}').lower()
            self.variables.add(name.split(':', 1)[-1])
        self.export_patterns = []
        self.has_export = False
        for command in _walk(root, 'command'):
            names = [c for c in command.children if c.type == 'command_name']
            if not names or _text(names[0]).lower() != 'export-modulemember':
                continue
            self.has_export = True
            self.export_patterns.extend(self._function_arguments(command))

    @staticmethod
    def _function_arguments(command):
        """The names given to -Function (bare words or quoted strings, wildcards allowed)."""
        out = []
        for elements in (c for c in command.children if c.type == 'command_elements'):
            parameter = None
            for child in elements.children:
                if child.type == 'command_parameter':
                    parameter = _text(child).lower()
                elif parameter is not None and '-function'.startswith(parameter) and len(parameter) > 1:
                    if child.type == 'generic_token':
                        out.append(_text(child))
                    for literal in _walk(child, 'string_literal'):
                        out.append(_text(literal)[1:-1])
        return out

    @property
    def exported(self):
        """Lower-cased name -> name of the functions Export-ModuleMember makes visible."""
        return {key: name for key, name in self.defined.items()
                if any(fnmatch.fnmatchcase(key, pattern.lower()) for pattern in self.export_patterns)}


def util_path(ref, utils_dir=UTILS_DIR):
    """The file an ``#AnsibleRequires -PowerShell`` reference names in this collection, or None when it
    points elsewhere (another collection, an unknown form)."""
    own = 'ansible_collections.%s.plugins.module_utils.' % COLLECTION
    for prefix in (own, '..module_utils.'):
        if ref.startswith(prefix):
            return os.path.join(utils_dir, *ref[len(prefix):].split('.')) + '.psm1'
    return None


def builtin_util_exists(ref):
    import ansible.module_utils.powershell as builtin
    return os.path.isfile(os.path.join(os.path.dirname(builtin.__file__), ref + '.psm1'))


def problems(module_source, load_util):
    """What is wrong with the util imports of one module, as sentences (empty: nothing).

    ``load_util(ref)`` returns the util's source (bytes or str) or None when the reference names
    no file; builtin ``Ansible.ModuleUtils.*`` utils only have to exist."""
    found = []
    module = Script(module_source)
    exported = {}
    pending, seen = list(module.requires), set()
    while pending:  # utils are imported globally, so a util's own requirements are visible too
        ref = pending.pop(0)
        if ref in seen:
            continue
        seen.add(ref)
        if ref.startswith('Ansible.ModuleUtils.'):
            if not builtin_util_exists(ref):
                found.append('requires %s, which ansible-core does not ship' % ref)
            continue
        source = load_util(ref)
        if source is None:
            found.append('requires %s, which is no module_util of %s' % (ref, COLLECTION))
            continue
        util = Script(source)
        if not util.has_export:
            found.append('%s has no Export-ModuleMember' % ref)
        for pattern in util.export_patterns:
            if not any(fnmatch.fnmatchcase(key, pattern.lower()) for key in util.defined):
                found.append('%s exports %s, which it does not define' % (ref, pattern))
        for key, name in util.exported.items():
            exported.setdefault(key, (name, ref))
        pending.extend(util.requires)
    for key, name in sorted(module.calls.items()):
        if key in module.defined:
            continue
        if key in exported or OURS.match(key):
            if key not in exported:
                found.append('calls %s, which no util it requires exports' % name)
    for key, name in sorted(module.defined.items()):
        if key in exported:
            found.append('defines %s again although %s exports it' % (name, exported[key][1]))
    return found


def _load_repo_util(ref):
    path = util_path(ref)
    if path is None or not os.path.isfile(path):
        return None
    return _read(path)


# --- the repository


def test_there_is_a_shared_util_and_modules_use_it():
    assert 'PhaseoutDefender.psm1' in [os.path.basename(p) for p in psm1_files()]
    users = [os.path.basename(p) for p in module_files() if Script(_read(p)).requires]
    assert {'win_defender_status.ps1', 'win_kaspersky_collect.ps1'} <= set(users)


@pytest.mark.parametrize('path', psm1_files(), ids=os.path.basename)
def test_util_parses(path):
    assert os.path.relpath(path, ROOT) in PARSE.powershell_files()  # the repository-wide parse test sees it
    found = PARSE.problems(_read(path))
    assert not found, '%s does not parse: %s' % (path, found[:5])


@pytest.mark.parametrize('path', psm1_files(), ids=os.path.basename)
def test_util_is_a_util(path):
    source = _read(path).decode('utf-8')
    assert not source.startswith('#!'), 'a module_util has no shebang'
    util = Script(source)
    # it gets what it needs as parameters, never from the calling module's variables
    assert not util.variables & {'module', 'params', 'spec'}, util.variables
    assert util.has_export and util.exported
    assert problems(source, _load_repo_util) == []  # its own calls resolve too


def test_variable_reading():
    assert {'module', 'x', 'y'} <= Script('# $spec\n$module.Result.x = ${x} + $script:y\n').variables
    assert 'spec' not in Script('# $spec\n$a = 1\n').variables


@pytest.mark.parametrize('path', module_files(), ids=os.path.basename)
def test_module_requires_and_calls_resolve(path):
    assert problems(_read(path), _load_repo_util) == []


def test_the_defender_collection_is_shared():
    collect = Script(_read(os.path.join(MODULES_DIR, 'win_kaspersky_collect.ps1')))
    status = Script(_read(os.path.join(MODULES_DIR, 'win_defender_status.ps1')))
    util = Script(_read(os.path.join(UTILS_DIR, 'PhaseoutDefender.psm1')))
    for module in (collect, status):
        assert {'get-phaseoutoperatingsystem', 'get-phaseoutdefenderstate'} <= set(module.calls)
        assert not {'get-mpcomputerstatus', 'get-windowsfeature'} & set(module.calls)
        assert 'Win32_OperatingSystem' not in module.source.decode('utf-8')
    assert set(util.exported) == {'get-phaseoutregistryvalue', 'convertto-phaseoututcstring',
                                  'get-phaseoutoperatingsystem', 'get-phaseoutdefenderstate'}


# --- the checker itself can fail

UTIL = """
Function Get-PhaseoutThing { param([String]$Name) return $Name }
Function Get-PhaseoutHidden { return 1 }
Export-ModuleMember -Function 'Get-PhaseoutThing'
"""
REQ = '#AnsibleRequires -PowerShell ansible_collections.phaseout.antivirus.plugins.module_utils.Thing\n'


def _fake(ref):
    return {'ansible_collections.phaseout.antivirus.plugins.module_utils.Thing': UTIL}.get(ref)


def test_checker_accepts_a_good_module():
    good = REQ + '$a = Get-PhaseoutThing -Name x\n$b = @(Get-ChildItem | Where-Object { Get-PhaseoutThing $_ })\n'
    assert problems(good, _fake) == []
    assert problems('#AnsibleRequires -PowerShell Ansible.ModuleUtils.Legacy\n$x = 1\n', _fake) == []


def test_checker_finds_an_unexported_function():
    assert problems(REQ + '$a = Get-PhaseoutHidden\n', _fake) == [
        'calls Get-PhaseoutHidden, which no util it requires exports']


def test_checker_finds_a_missing_require_line():
    assert problems('$a = Get-PhaseoutThing -Name x\n', _fake) == [
        'calls Get-PhaseoutThing, which no util it requires exports']


def test_checker_finds_a_util_that_does_not_exist():
    found = problems(REQ.replace('.Thing', '.Nothing') + '$a = 1\n', _fake)
    assert found == ['requires ansible_collections.phaseout.antivirus.plugins.module_utils.Nothing, '
                     'which is no module_util of phaseout.antivirus']
    assert problems('#AnsibleRequires -PowerShell Ansible.ModuleUtils.Nope\n', _fake) == [
        'requires Ansible.ModuleUtils.Nope, which ansible-core does not ship']
    assert problems('#AnsibleRequires -PowerShell ansible_collections.other.coll.plugins.module_utils.X\n',
                    _fake) != []


def test_checker_finds_a_bad_export_list_and_a_redefinition():
    def broken(ref):
        return UTIL.replace("'Get-PhaseoutThing'", "'Get-PhaseoutThing', 'Get-PhaseoutTypo'")
    assert problems(REQ, broken) == [
        'ansible_collections.phaseout.antivirus.plugins.module_utils.Thing exports Get-PhaseoutTypo, '
        'which it does not define']
    assert problems(REQ + 'Function Get-PhaseoutThing { 2 }\n$a = Get-PhaseoutThing\n', _fake) == [
        'defines Get-PhaseoutThing again although '
        'ansible_collections.phaseout.antivirus.plugins.module_utils.Thing exports it']
    assert problems(REQ, lambda ref: UTIL.split('Export-ModuleMember', maxsplit=1)[0]) == [
        'ansible_collections.phaseout.antivirus.plugins.module_utils.Thing has no Export-ModuleMember']


def test_util_path_forms():
    assert util_path('ansible_collections.phaseout.antivirus.plugins.module_utils.PhaseoutDefender') == \
        os.path.join(UTILS_DIR, 'PhaseoutDefender.psm1')
    assert util_path('..module_utils.PhaseoutDefender') == os.path.join(UTILS_DIR, 'PhaseoutDefender.psm1')
    assert util_path('ansible_collections.ansible.windows.plugins.module_utils.Process') is None
