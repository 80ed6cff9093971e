# SPDX-License-Identifier: GPL-3.0-or-later
"""Role READMEs are generated from meta/argument_specs.yml (scripts/gen-role-docs.py) and kept current."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROLES = os.path.join(ROOT, 'roles')
SCRIPT = os.path.join(ROOT, 'scripts', 'gen-role-docs.py')


def _load_generator():
    spec = importlib.util.spec_from_file_location('gen_role_docs', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()

ROLE_NAMES = sorted(d for d in os.listdir(ROLES) if os.path.isdir(os.path.join(ROLES, d)))

SPEC = {
    'argument_specs': {
        'stage': {
            'short_description': 'Stage C(demo).',
            'options': {'demo_packages': {'type': 'list', 'elements': 'str', 'default': ['a', 'b'],
                                          'description': 'Packages.'}},
        },
        'main': {
            'short_description': 'Do the O(demo_mode=fast) thing with M(phaseout.antivirus.kaspersky_info).',
            'description': ['First paragraph,\n  folded.', 'Second I(paragraph).'],
            'options': {
                'demo_mode': {'type': 'str', 'default': 'fast', 'choices': ['fast', 'slow'],
                              'description': 'Mode; a | pipe.'},
                'demo_name': {'type': 'str', 'required': True, 'description': ['Name.', 'V(x) or B(y).']},
                'demo_password': {'type': 'str', 'no_log': True, 'description': 'Secret.'},
                'demo_flag': {'type': 'bool', 'default': False, 'description': 'A flag.'},
                'demo_empty': {'default': '', 'description': 'No type given.'},
                'demo_map': {'type': 'dict', 'default': {}, 'description': 'A dict.'},
                'demo_items': {
                    'type': 'list', 'elements': 'dict', 'default': [],
                    'description': 'Items.',
                    'options': {'name': {'type': 'str', 'required': True, 'description': 'Item name.'}},
                },
            },
        },
        'copy': {
            'short_description': 'Same options as stage.',
            'options': {'demo_packages': {'type': 'list', 'elements': 'str', 'default': ['a', 'b'],
                                          'description': 'Packages.'}},
        },
    },
}


# --- the repository -----------------------------------------------------------------------------

@pytest.mark.parametrize('role', ROLE_NAMES)
def test_every_role_has_an_argument_spec_with_a_main_entry_point(role):
    path = os.path.join(ROLES, role, 'meta', 'argument_specs.yml')
    assert os.path.isfile(path), 'roles/%s has no meta/argument_specs.yml' % role
    with open(path, encoding='utf-8') as handle:
        specs = yaml.safe_load(handle)
    assert isinstance(specs, dict) and isinstance(specs.get('argument_specs'), dict), path
    assert 'main' in specs['argument_specs'], 'roles/%s/meta/argument_specs.yml has no main entry point' % role
    main = specs['argument_specs']['main'] or {}
    assert main.get('short_description'), 'roles/%s: the main entry point needs a short_description' % role


def test_every_role_readme_is_current():
    run = subprocess.run([sys.executable, SCRIPT, '--check'], capture_output=True, text=True, check=False)
    assert run.returncode == 0, (
        'role READMEs are stale; run .venv/bin/python scripts/gen-role-docs.py\n' + run.stdout + run.stderr)


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_every_readme_has_one_generated_block(role):
    with open(os.path.join(ROLES, role, 'README.md'), encoding='utf-8') as handle:
        text = handle.read()
    assert text.count(gen.BEGIN) == 1 and text.count(gen.END) == 1
    assert text.index(gen.BEGIN) < text.index(gen.END)
    assert text.startswith('# phaseout.antivirus.%s' % role)


# --- the renderer ------------------------------------------------------------------------------

def test_markup_is_rendered_as_markdown():
    assert gen.markup('C(a) O(b=c) V(d) M(ns.coll.mod) E(ENV) RV(ret)') == '`a` `b=c` `d` `ns.coll.mod` `ENV` `ret`'
    assert gen.markup('I(it) B(bold) U(https://x.invalid) L(text, https://y.invalid)') == (
        '*it* **bold** <https://x.invalid> [text](https://y.invalid)')
    assert gen.markup('P(phaseout.antivirus.defender_health#filter)') == '`phaseout.antivirus.defender_health`'


def test_values_are_rendered_as_yaml_in_code():
    assert gen.render_value('') == '`""`'
    assert gen.render_value(True) == '`true`'
    assert gen.render_value([]) == '`[]`'
    assert gen.render_value({}) == '`{}`'
    assert gen.render_value(['a', 'b']) == '`[a, b]`'
    assert gen.render_value(15) == '`15`'
    assert gen.render_value('{{ playbook_dir }}/x') == '`{{ playbook_dir }}/x`'
    assert gen.render_value('a`b') == '``a`b``'


def test_block_renders_every_entry_point_main_first():
    block = gen.render_block('demo', SPEC)
    lines = block.splitlines()
    assert lines[0] == gen.BEGIN and lines[-1] == gen.END
    headings = [line for line in lines if line.startswith('### ')]
    assert headings == ['### Entry point `main`', '### Entry point `stage`', '### Entry point `copy`']
    assert 'Do the `demo_mode=fast` thing with `phaseout.antivirus.kaspersky_info`.' in lines
    assert '- First paragraph, folded.' in lines
    assert '- Second *paragraph*.' in lines
    assert 'Options: the same as entry point `stage`.' in lines


def test_option_rows_carry_type_default_required_choices_no_log_and_description():
    rows = gen.option_rows(SPEC['argument_specs']['main']['options'])
    assert rows[0] == '| `demo_mode` | str | `fast` |  | `fast`, `slow` | Mode; a \\| pipe. |'
    assert rows[1] == '| `demo_name` | str |  | yes |  | Name.<br>`x` or **y**. |'
    assert rows[2] == '| `demo_password` (no_log) | str |  |  |  | Secret. |'
    assert rows[3] == '| `demo_flag` | bool | `false` |  |  | A flag. |'
    assert rows[4] == '| `demo_empty` | str | `""` |  |  | No type given. |'
    assert rows[5] == '| `demo_map` | dict | `{}` |  |  | A dict. |'
    assert rows[6] == '| `demo_items` | list of dict | `[]` |  |  | Items. |'
    assert rows[7] == '| `demo_items[].name` | str |  | yes |  | Item name. |'
    for row in rows:
        assert row.count(' | ') == 5, row


def test_readme_text_outside_the_markers_is_kept(tmp_path):
    role = _demo_role(tmp_path)
    current = '# phaseout.antivirus.demo\n\nIntro.\n\n%s\nstale text\n%s\n\nOutro.\n' % (gen.BEGIN, gen.END)
    wanted = gen.render_readme(str(role), current)
    assert wanted.startswith('# phaseout.antivirus.demo\n\nIntro.\n\n' + gen.BEGIN)
    assert wanted.endswith(gen.END + '\n\nOutro.\n')
    assert 'stale text' not in wanted
    assert gen.render_readme(str(role), wanted) == wanted


def test_readme_without_markers_gets_the_block_appended(tmp_path):
    role = _demo_role(tmp_path)
    wanted = gen.render_readme(str(role), '# phaseout.antivirus.demo\n\nHand-written.\n')
    assert wanted.startswith('# phaseout.antivirus.demo\n\nHand-written.\n\n' + gen.BEGIN)
    assert wanted.endswith(gen.END + '\n')


def test_missing_readme_is_created_with_an_intro_and_an_fqcn_example(tmp_path):
    role = _demo_role(tmp_path)
    wanted = gen.render_readme(str(role), None)
    assert wanted.startswith('# phaseout.antivirus.demo\n\n%s\n\nA demo role.\n' % gen.STUB_NOTICE)
    assert '- `main`: Do the `demo_mode=fast` thing' in wanted
    assert '      ansible.builtin.include_role:\n        name: phaseout.antivirus.demo\n' in wanted
    assert '        tasks_from: copy\n' in wanted and 'tasks_from: main' not in wanted
    assert wanted.count(gen.BEGIN) == 1


def test_a_single_marker_is_an_error(tmp_path):
    role = _demo_role(tmp_path)
    with pytest.raises(ValueError, match='only one of the markers'):
        gen.render_readme(str(role), 'intro\n%s\n' % gen.BEGIN)


def test_check_mode_names_the_stale_readme_and_writes_nothing(tmp_path, capsys):
    role = _demo_role(tmp_path)
    readme = role / 'README.md'
    assert gen.main(['--check', '--roles-dir', str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith('stale: ') and 'demo/README.md (missing)' in out
    assert not readme.exists()
    assert gen.main(['--roles-dir', str(tmp_path)]) == 0
    assert readme.exists()
    assert gen.main(['--check', '--roles-dir', str(tmp_path)]) == 0
    readme.write_text(readme.read_text().replace('Packages.', 'Edited by hand.'))
    assert gen.main(['--check', '--roles-dir', str(tmp_path)]) == 1
    assert 'out of date' in capsys.readouterr().out


def test_default_mismatches_are_listed(tmp_path):
    role = _demo_role(tmp_path)
    (role / 'defaults').mkdir()
    (role / 'defaults' / 'main.yml').write_text(
        'demo_mode: slow\ndemo_packages: [a, b]\ndemo_flag: false\ndemo_empty: ""\ndemo_map: {}\n'
        'demo_items: []\ndemo_undocumented: 1\n')
    found = {name: (entries, spec_default, actual)
             for entries, name, spec_default, actual in gen.default_mismatches(str(role))}
    assert found['demo_mode'] == ('main', 'fast', 'slow')
    assert found['demo_undocumented'][1] == '<not in argument_specs.yml>'
    assert 'demo_packages' not in found and 'demo_flag' not in found


def _demo_role(tmp_path):
    role = tmp_path / 'demo'
    (role / 'meta').mkdir(parents=True)
    (role / 'meta' / 'argument_specs.yml').write_text(yaml.safe_dump(SPEC, sort_keys=False))
    (role / 'meta' / 'main.yml').write_text(yaml.safe_dump({'galaxy_info': {'description': 'A demo role.'}}))
    return role
