# SPDX-License-Identifier: GPL-3.0-or-later
"""bin/phaseout: arguments to ansible-runner, and the report command."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def load_cli():
    loader = importlib.machinery.SourceFileLoader('phaseout_cli', os.path.join(ROOT, 'bin', 'phaseout'))
    spec = importlib.util.spec_from_loader('phaseout_cli', loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


cli = load_cli()


def test_replace_arguments(tmp_path):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text('all: {}\n')
    args = cli.parse_args(['-i', str(inventory), '--artifacts', str(tmp_path / 'a'), 'replace', '--wave',
                           'wave_pilot', '--provider', 'mdatp', '--serial', '10%', '--max-fail', '5', '--check',
                           '--diff', '-e', 'replace_reboot_allowed=false', '-l', 'lab01'])
    kwargs = cli.run_kwargs(args, str(tmp_path / 'private'))
    assert kwargs['playbook'] == os.path.join(ROOT, 'playbooks', 'replace.yml')
    assert kwargs['inventory'] == str(inventory)
    assert kwargs['extravars'] == {
        'phaseout_artifacts_dir': str(tmp_path / 'a'), 'phaseout_targets': 'wave_pilot',
        'phaseout_provider': 'mdatp', 'phaseout_serial': '10%', 'phaseout_max_fail_percentage': 5,
        'replace_reboot_allowed': 'false',
    }
    assert kwargs['cmdline'] == '--check --diff'
    assert kwargs['limit'] == 'lab01'
    assert kwargs['envvars']['ANSIBLE_CONFIG'] == os.path.join(ROOT, 'ansible.cfg')


@pytest.mark.parametrize('argv, message', [
    (['discover', '-e', 'novalue'], 'expected KEY=VALUE'),
    (['replace', '--max-fail', '150'], 'between 0 and 100'),
])
def test_bad_arguments_are_named(tmp_path, argv, message):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text('all: {}\n')
    args = cli.parse_args(['-i', str(inventory)] + argv)
    with pytest.raises(SystemExit, match=message):
        cli.run_kwargs(args, str(tmp_path))


def test_missing_inventory_is_named(tmp_path):
    args = cli.parse_args(['-i', str(tmp_path / 'nope.yml'), 'discover'])
    with pytest.raises(SystemExit, match='nope.yml does not exist'):
        cli.run_kwargs(args, str(tmp_path))


def test_unknown_provider_is_refused():
    with pytest.raises(SystemExit):
        cli.parse_args(['replace', '--provider', 'kaspersky'])


def test_report_command(tmp_path, capsys):
    (tmp_path / 'discover').mkdir()
    (tmp_path / 'discover' / 'summary.json').write_text(json.dumps({'summary': {
        'hosts': 3, 'timestamp': 'T', 'check_mode': False, 'status': {'ok': 2, 'unreachable': 1},
        'verdict': {'installed': 2}, 'needs_attention': ['a', 'b']}, 'hosts': []}))
    assert cli.main(['--artifacts', str(tmp_path), 'report', 'discover']) == 0
    out = capsys.readouterr().out
    assert 'discover: 3 host(s)' in out and 'unreachable=1' in out and 'needs attention:   a b' in out
    assert cli.main(['--artifacts', str(tmp_path / 'empty'), 'report']) == 1


def test_contain_arguments_and_release(tmp_path):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text('all: {}\n')
    args = cli.parse_args(['-i', str(inventory), '--artifacts', str(tmp_path / 'a'), 'contain', '--wave',
                           'wave_pilot', '--check', '--diff'])
    kwargs = cli.run_kwargs(args, str(tmp_path / 'private'))
    assert kwargs['playbook'] == os.path.join(ROOT, 'playbooks', 'contain.yml')
    assert os.path.exists(kwargs['playbook'])
    assert kwargs['extravars'] == {'phaseout_artifacts_dir': str(tmp_path / 'a'), 'phaseout_targets': 'wave_pilot'}
    assert kwargs['cmdline'] == '--check --diff'
    released = cli.run_kwargs(cli.parse_args(['-i', str(inventory), 'contain', '--release']), str(tmp_path))
    assert released['extravars']['contain_state'] == 'absent'
    with pytest.raises(SystemExit):
        cli.parse_args(['replace', '--release'])  # only contain can be released


def test_report_lists_the_contain_phase(tmp_path, capsys):
    (tmp_path / 'contain').mkdir()
    (tmp_path / 'contain' / 'summary.json').write_text(json.dumps({'summary': {
        'hosts': 2, 'timestamp': 'T', 'check_mode': True, 'status': {'ok': 2}, 'outcome': {'planned': 2},
        'verdict': {'planned': 2}}, 'hosts': []}))
    assert cli.main(['--artifacts', str(tmp_path), 'report']) == 0
    out = capsys.readouterr().out
    assert 'contain: 2 host(s) [dry run]' in out and 'planned=2' in out
