# SPDX-License-Identifier: GPL-3.0-or-later
"""The phaseout command line: arguments to ansible-runner, validation, progress, runs, reports, the install."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'src'))

from phaseout import cli  # noqa: E402
from phaseout.progress import Progress  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, 'tests', 'browser'))
import fleet  # noqa: E402


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / 'hosts.yml'
    path.write_text('all:\n  children:\n    wave_pilot:\n      hosts:\n        a: {}\n        b: {}\n'
                    '    wave_1:\n      hosts:\n        c: {}\n')
    return path


def test_replace_arguments(tmp_path, inventory):
    args = cli.parse_args(['-i', str(inventory), '--artifacts', str(tmp_path / 'a'), 'replace', '--wave',
                           'wave_pilot', '--provider', 'mdatp', '--serial', '10%', '--max-fail', '5', '--check',
                           '--diff', '-e', 'replace_reboot_allowed=false', '-l', 'lab01'])
    kwargs = cli.run_kwargs(args, str(tmp_path / 'runs' / 'RUN1'))
    assert kwargs['playbook'] == os.path.join(ROOT, 'playbooks', 'replace.yml')
    assert kwargs['inventory'] == str(inventory)
    assert kwargs['extravars'] == {
        'phaseout_artifacts_dir': str(tmp_path / 'a'), 'phaseout_targets': 'wave_pilot',
        'phaseout_provider': 'mdatp', 'phaseout_serial': '10%', 'phaseout_max_fail_percentage': 5,
        'replace_reboot_allowed': 'false', 'phaseout_run_id': 'RUN1',
    }
    assert kwargs['cmdline'] == '--check --diff'
    assert kwargs['limit'] == 'lab01'
    assert kwargs['envvars']['ANSIBLE_CONFIG'] == os.path.join(ROOT, 'ansible.cfg')
    assert kwargs['envvars']['PHASEOUT_RUN_ID'] == 'RUN1'
    # the runner's artifacts stay in the run's directory, and the progress display replaces Ansible's output
    assert kwargs['private_data_dir'] == str(tmp_path / 'runs' / 'RUN1') and kwargs['quiet'] is True
    verbose = cli.run_kwargs(cli.parse_args(['-i', str(inventory), 'discover', '-vv']), str(tmp_path / 'r'))
    assert verbose['quiet'] is False and verbose['verbosity'] == 2


@pytest.mark.parametrize('value, expected', [('10', 10), ('1', 1), ('25%', '25%'), ('100%', '100%'), (' 3 ', 3)])
def test_serial_accepts_hosts_and_percentages(value, expected):
    assert cli.validate_serial(value) == expected


@pytest.mark.parametrize('value', ['0', '-1', 'abc', '0%', '150%', '1.5', ''])
def test_serial_refuses_what_ansible_would_misread(value):
    # the rule is plugins/module_utils/rollout.py's when the collection has it, the CLI's own otherwise
    with pytest.raises(cli.UsageError) as error:
        cli.validate_serial(value)
    message = str(error.value)
    assert message.startswith('--serial %r: ' % value) and ('host' in message or '%' in message)


@pytest.mark.parametrize('value, expected', [('0', 0), ('5', 5), ('100', 100), ('20%', 20)])
def test_max_fail_accepts_percentages(value, expected):
    assert cli.validate_max_fail(value) == expected


@pytest.mark.parametrize('value', ['-1', '101', 'x', '2.5', ''])
def test_max_fail_refuses_the_rest(value):
    with pytest.raises(cli.UsageError, match=r'^--max-fail .*0 (and|to) 100'):
        cli.validate_max_fail(value)


@pytest.mark.parametrize('argv, message', [
    (['discover', '-e', 'novalue'], 'expected KEY=VALUE'),
    (['replace', '--wave', 'wave_1', '--max-fail', '150'], "--max-fail '150'"),
    (['replace', '--wave', 'wave_1', '--serial', '0'], "--serial '0'"),
    (['replace'], 'replace changes hosts and needs an explicit target'),
    (['contain', '--wave', ' '], 'contain changes hosts and needs an explicit target'),
])
def test_bad_arguments_are_named_with_exit_code_64(tmp_path, inventory, capsys, argv, message):
    assert cli.main(['-i', str(inventory), '--artifacts', str(tmp_path)] + argv) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'runs').exists()  # refused before anything ran


def test_argparse_errors_exit_64(capsys):
    with pytest.raises(SystemExit) as error:
        cli.parse_args(['replace', '--provider', 'kaspersky'])
    assert error.value.code == cli.EXIT_USAGE
    with pytest.raises(SystemExit) as error:
        cli.parse_args(['replace', '--release'])  # only contain can be released
    assert error.value.code == cli.EXIT_USAGE


def test_missing_inventory_is_named(tmp_path):
    args = cli.parse_args(['-i', str(tmp_path / 'nope.yml'), 'discover'])
    with pytest.raises(cli.UsageError, match='nope.yml does not exist'):
        cli.run_kwargs(args, str(tmp_path))


def test_contain_arguments_and_release(tmp_path, inventory):
    args = cli.parse_args(['-i', str(inventory), '--artifacts', str(tmp_path / 'a'), 'contain', '--wave',
                           'wave_pilot', '--check', '--diff'])
    kwargs = cli.run_kwargs(args, str(tmp_path / 'R'))
    assert kwargs['playbook'] == os.path.join(ROOT, 'playbooks', 'contain.yml')
    assert os.path.exists(kwargs['playbook'])
    assert kwargs['extravars'] == {'phaseout_artifacts_dir': str(tmp_path / 'a'), 'phaseout_targets': 'wave_pilot',
                                   'phaseout_run_id': 'R'}
    released = cli.run_kwargs(cli.parse_args(['-i', str(inventory), 'contain', '--wave', 'all', '--release']),
                              str(tmp_path))
    assert released['extravars']['contain_state'] == 'absent'


def test_run_ids_are_unique_and_sortable():
    first = cli.new_run_id('replace')
    assert first.split('-')[1] == 'replace' and first[8] == 'T' and first != cli.new_run_id('replace')


def test_count_hosts_reads_the_inventory(inventory):
    assert cli.count_hosts(str(inventory), 'wave_pilot') == 2
    assert cli.count_hosts(str(inventory), 'all', limit='c') == 1
    assert cli.inventory_waves(str(inventory)) == {'a': 'wave_pilot', 'b': 'wave_pilot', 'c': 'wave_1'}


def test_a_run_keeps_its_artifacts_and_is_listed(tmp_path, inventory, monkeypatch, capsys):
    """command_run with ansible_runner.run replaced: the run directory, its metadata and `phaseout runs`."""
    seen = {}

    class Result:
        status, rc = 'failed', 2

    def fake_run(**kwargs):
        seen.update(kwargs)
        os.makedirs(os.path.join(kwargs['private_data_dir'], 'artifacts', kwargs['ident']))
        # what fleet_report does during the run: the report and the page (the run still "running")
        fleet.write_phase(str(artifacts), 'discover', {'a': fleet.UNREACHABLE}, '2026-03-01T00:00:00+00:00')
        (artifacts / 'dashboard.html').write_text('written during the run')
        for event in ({'event': 'playbook_on_play_start', 'event_data': {'name': 'Discover'}},
                      {'event': 'runner_on_unreachable', 'event_data': {'host': 'a', 'res': {'msg': 'down'}}}):
            kwargs['event_handler'](event)
        return Result()

    import ansible_runner
    monkeypatch.setattr(ansible_runner, 'run', fake_run)
    artifacts = tmp_path / 'artifacts'
    rc = cli.main(['-i', str(inventory), '--artifacts', str(artifacts), 'discover', '--wave', 'wave_pilot'])
    assert rc == 2
    run_id = seen['extravars']['phaseout_run_id']
    run_dir = artifacts / 'runs' / run_id
    assert seen['private_data_dir'] == str(run_dir) and seen['envvars']['PHASEOUT_RUN_ID'] == run_id
    meta = json.loads((run_dir / 'phaseout-run.json').read_text())
    assert meta['status'] == 'failed' and meta['rc'] == 2 and meta['command'] == 'discover'
    assert meta['options'] == ['-i', str(inventory), '--artifacts', str(artifacts), '--wave', 'wave_pilot']
    # the page is written again once the run is over: it lists the run as finished
    page = (artifacts / 'dashboard.html').read_text()
    assert run_id in page and '>failed<' in page and '>running<' not in page
    out = capsys.readouterr().out
    assert 'a unreachable at "None": down (done 0/2, failed 1)' in out
    assert cli.main(['--artifacts', str(artifacts), 'runs']) == 0
    listing = capsys.readouterr().out
    assert run_id in listing and 'discover' in listing and 'failed' in listing
    assert cli.main(['--artifacts', str(artifacts), 'runs', '--json']) == 0
    assert json.loads(capsys.readouterr().out)[0]['run_id'] == run_id


def test_report_command(tmp_path, capsys):
    (tmp_path / 'discover').mkdir()
    (tmp_path / 'discover' / 'summary.json').write_text(json.dumps({'summary': {
        'hosts': 3, 'timestamp': 'T', 'check_mode': False, 'status': {'ok': 2, 'unreachable': 1},
        'verdict': {'installed': 2}, 'needs_attention': ['a', 'b']}, 'hosts': []}))
    assert cli.main(['--artifacts', str(tmp_path), 'report', 'discover']) == 0
    out = capsys.readouterr().out
    assert 'discover: 3 host(s)' in out and 'unreachable=1' in out and 'needs attention:   a b' in out
    assert cli.main(['--artifacts', str(tmp_path / 'empty'), 'report']) == cli.EXIT_NO_INPUT


def test_report_lists_the_contain_phase(tmp_path, capsys):
    (tmp_path / 'contain').mkdir()
    (tmp_path / 'contain' / 'summary.json').write_text(json.dumps({'summary': {
        'hosts': 2, 'timestamp': 'T', 'check_mode': True, 'status': {'ok': 2}, 'outcome': {'planned': 2},
        'verdict': {'planned': 2}}, 'hosts': []}))
    assert cli.main(['--artifacts', str(tmp_path), 'report']) == 0
    out = capsys.readouterr().out
    assert 'contain: 2 host(s) [dry run]' in out and 'planned=2' in out


def test_report_html_prints_the_dashboard_with_inventory_waves(tmp_path, inventory, capsys):
    fleet.write_phase(str(tmp_path), 'discover', {h: fleet.discover_result('kesl11') for h in 'abc'},
                      '2026-03-01T00:00:00+00:00')
    assert cli.main(['-i', str(inventory), '--artifacts', str(tmp_path), 'report', '--format', 'html']) == 0
    page = capsys.readouterr().out
    assert page.startswith('<!DOCTYPE html>') and 'data-wave="wave_pilot"' in page and 'data-wave="wave_1"' in page
    assert not (tmp_path / 'dashboard.html').exists()  # printed, not written
    assert cli.main(['--artifacts', str(tmp_path / 'none'), 'report', '--format', 'html']) == cli.EXIT_NO_INPUT


# --- progress -----------------------------------------------------------------------------------

PLAYBOOKS = os.path.join(ROOT, 'playbooks')


def task(name, path='roles/replace/tasks/main.yml:3', role='replace'):
    return {'event': 'playbook_on_task_start', 'event_data': {'task': name, 'task_path': path, 'role': role}}


def host(kind, name, **data):
    return {'event': kind, 'event_data': dict(host=name, **data)}


def events():
    return [
        {'event': 'playbook_on_play_start', 'event_data': {'name': 'Replace Kaspersky'}},
        # a role's argument validation carries the play's path, but is not a post task
        task('Validating arguments', os.path.join(PLAYBOOKS, 'replace.yml') + ':10'),
        task('Check readiness'),
        host('runner_on_ok', 'a'), host('runner_on_ok', 'b'),
        host('runner_on_failed', 'c', ignore_errors=True, res={'msg': 'ignored'}),
        task('Validating arguments stage', os.path.join(PLAYBOOKS, 'replace.yml') + ':10', role='provider_clamav'),
        task('Stop Kaspersky and activate'),
        host('runner_on_ok', 'a'),
        host('runner_on_failed', 'b', ignore_errors=False, res={'msg': 'clamd\ndid not start'}),
        task('Write the fleet report', os.path.join(PLAYBOOKS, 'replace.yml') + ':18', role=None),
        host('runner_on_ok', 'a'),
        {'event': 'playbook_on_stats', 'event_data': {}},
    ]


def test_progress_in_a_pipe_prints_plain_lines():
    out = io.StringIO()
    progress = Progress('replace', total=3, stream=out, tty=False, playbook_dir=PLAYBOOKS, clock=lambda: 0)
    for event in events():
        assert progress.handle(event) is True
    progress.close()
    text = out.getvalue()
    assert '\r' not in text and '\x1b' not in text
    lines = text.splitlines()
    assert lines[0] == 'phaseout replace: play "Replace Kaspersky" on 3 host(s)'
    assert 'phaseout replace: [Replace Kaspersky] step 2: Check readiness (done 0/3, failed 0)' in lines
    assert 'phaseout replace: b failed at "Stop Kaspersky and activate": clamd did not start (done 0/3, failed 1)' \
        in lines
    # the post_tasks' report step: the batch (a, b and c) is done
    assert 'phaseout replace: [Replace Kaspersky] step 5: Write the fleet report (done 3/3, failed 1)' in lines
    assert 'phaseout replace: [Replace Kaspersky] step 3: Validating arguments stage (done 0/3, failed 0)' in lines
    assert lines[-1] == 'phaseout replace: [Replace Kaspersky] finished: done 3/3, failed 1, 0 s'
    assert not any('ignored' in line for line in lines)


def test_progress_on_a_terminal_rewrites_one_status_line():
    out = io.StringIO()
    progress = Progress('replace', total=3, stream=out, tty=True, playbook_dir=PLAYBOOKS, clock=lambda: 0)
    for event in events():
        progress.handle(event)
    progress.close()
    text = out.getvalue()
    assert '\r\x1b[K[Replace Kaspersky] done 0/3, failed 0 | Check readiness' in text
    assert '\r\x1b[K[Replace Kaspersky] done 3/3, failed 1 | Write the fleet report' in text
    # a failure is printed on its own line, the status line is cleared first
    assert '\r\x1b[Kphaseout replace: b failed at "Stop Kaspersky and activate"' in text
    assert text.endswith('\n')


def test_progress_never_breaks_a_run():
    progress = Progress('discover', stream=io.StringIO(), tty=False)
    assert progress.handle({'event': 'runner_on_failed', 'event_data': {'host': 'x', 'res': 'not a dict'}}) is True


# --- the install --------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(out),
                    ROOT], check=True, cwd=str(out))
    (path,) = out.glob('phaseout-*.whl')
    return path


def test_the_wheel_holds_the_cli_and_the_collection(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ('phaseout/cli.py', 'phaseout/progress.py',
                 'ansible_collections/phaseout/antivirus/playbooks/site.yml',
                 'ansible_collections/phaseout/antivirus/plugins/module_utils/dashboard.py',
                 'ansible_collections/phaseout/antivirus/roles/replace/tasks/main.yml',
                 'ansible_collections/phaseout/antivirus/meta/runtime.yml',
                 'ansible_collections/phaseout/antivirus/ansible.cfg'):
        assert name in names, name
    assert not [n for n in names if '/tests/' in n or '/lab/' in n or '.venv' in n or '__pycache__' in n]
    entry_points = [n for n in names if n.endswith('entry_points.txt')]
    text = zipfile.ZipFile(wheel).read(entry_points[0]).decode()
    assert 'phaseout = phaseout.cli:main' in text


def test_pip_install_puts_a_working_phaseout_on_path(wheel, tmp_path):
    target = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', '--target', str(target),
                    str(wheel)], check=True)
    env = dict(os.environ, PYTHONPATH=str(target), PHASEOUT_PROJECT='')
    env.pop('PHASEOUT_PROJECT')
    artifacts = tmp_path / 'artifacts'
    fleet.write_phase(str(artifacts), 'verify', {'h1': fleet.verify_result(True, fleet.datetime.datetime(
        2026, 3, 1, tzinfo=fleet.datetime.timezone.utc))}, '2026-03-01T00:00:00+00:00')
    script = target / 'bin' / 'phaseout'
    assert script.exists()
    run = subprocess.run([sys.executable, str(script), '--artifacts', str(artifacts), 'report', '--format', 'html'],
                         env=env, cwd=str(tmp_path), capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert '<!DOCTYPE html>' in run.stdout and 'h1' in run.stdout
    # outside a checkout the playbooks are the installed collection's; without -i it says what is missing
    probe = subprocess.run([sys.executable, '-c', 'from phaseout import cli; print(cli.project_dir())'],
                           env=env, cwd=str(tmp_path), capture_output=True, text=True, check=False)
    assert probe.stdout.strip() == str(target / 'ansible_collections' / 'phaseout' / 'antivirus'), probe.stderr
    missing = subprocess.run([sys.executable, str(script), 'discover'], env=env, cwd=str(tmp_path),
                             capture_output=True, text=True, check=False)
    assert missing.returncode == cli.EXIT_USAGE and 'no inventory: give -i' in missing.stderr


def test_progress_counts_hosts_done_at_the_fleet_report_task():
    out = io.StringIO()
    progress = Progress('discover', total=2, stream=out, tty=False, clock=lambda: 0)
    for event in ({'event': 'playbook_on_play_start', 'event_data': {'name': 'Discover'}},
                  {'event': 'playbook_on_task_start', 'event_data': {'task': 'Detect'}},
                  {'event': 'runner_on_ok', 'event_data': {'host': 'a'}},
                  {'event': 'runner_on_ok', 'event_data': {'host': 'b'}},
                  {'event': 'playbook_on_task_start', 'event_data': {
                      'task': 'Write the report', 'task_action': 'phaseout.antivirus.fleet_report'}}):
        progress.handle(event)
    assert out.getvalue().splitlines()[-1] == 'phaseout discover: [Discover] step 2: Write the report (done 2/2, failed 0)'
