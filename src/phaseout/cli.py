# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""phaseout's command line, on ansible-runner.

    phaseout discover [--wave GROUP] [--limit HOSTS] [--check]
    phaseout contain  --wave wave_pilot [--check --diff] [--release]
    phaseout preflight --wave wave_pilot
    phaseout replace  --wave wave_pilot --provider clamav [--serial 10] [--max-fail 5] [--check --diff]
    phaseout verify   --wave wave_pilot
    phaseout site                         # discover -> contain -> replace -> verify
    phaseout report [PHASE] [--format table|json|csv|html]
    phaseout runs [--json]

Runs the phase playbooks through ansible-runner (the engine AWX uses), shows
the progress per host as it goes, keeps ansible-runner's artifacts of every
run under <artifacts>/runs/<run_id>/, then prints the fleet summary of the
phase. The run id reaches the playbooks as the extra variable phaseout_run_id
and the environment variable PHASEOUT_RUN_ID.

Exit codes: 0 every host succeeded; 2 some hosts failed; 3 hosts unreachable;
4 a parser error; other non-zero codes are ansible-playbook's (1 error, 5 bad
options, 250 unexpected error); 64 bad command-line arguments; 66 no report
to show; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import secrets
import sys

PHASES = ('discover', 'contain', 'preflight', 'replace', 'verify', 'site')
REPORT_PHASES = ('discover', 'contain', 'preflight', 'replace', 'verify')
SITE_PHASES = ('discover', 'contain', 'replace', 'verify')
CHANGING_PHASES = ('contain', 'replace', 'site')  # never on every host by accident
PROVIDERS = ('clamav', 'mdatp', 'generic', 'defender')

EXIT_OK = 0
EXIT_USAGE = 64
EXIT_NO_INPUT = 66
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input: the message names the problem (exit code 64)."""


# --- where things are ---------------------------------------------------------------------------

def _is_project(path):
    return os.path.isfile(os.path.join(path, 'playbooks', 'site.yml')) and \
        os.path.isdir(os.path.join(path, 'plugins', 'module_utils'))


def project_dir():
    """The phaseout project whose playbooks run: $PHASEOUT_PROJECT, this checkout, or the installed collection."""
    explicit = os.environ.get('PHASEOUT_PROJECT')
    if explicit:
        if not _is_project(explicit):
            raise UsageError('PHASEOUT_PROJECT=%s is not a phaseout project (no playbooks/site.yml)' % explicit)
        return os.path.abspath(explicit)
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if _is_project(checkout):
        return checkout
    for entry in sys.path:
        candidate = os.path.join(entry or '.', 'ansible_collections', 'phaseout', 'antivirus')
        if _is_project(candidate):
            return os.path.abspath(candidate)
    raise UsageError('cannot find the phaseout playbooks: install phaseout (pip install .) or set PHASEOUT_PROJECT')


def is_checkout(root):
    return os.path.isfile(os.path.join(root, 'galaxy.yml')) and os.path.isdir(os.path.join(root, 'collections'))


def default_artifacts(root):
    if os.environ.get('PHASEOUT_ARTIFACTS'):
        return os.environ['PHASEOUT_ARTIFACTS']
    return os.path.join(root, 'artifacts') if is_checkout(root) else os.path.join(os.getcwd(), 'artifacts')


def default_inventory(root):
    if os.environ.get('PHASEOUT_INVENTORY'):
        return os.environ['PHASEOUT_INVENTORY']
    return os.path.join(root, 'inventories', 'lab', 'hosts.yml') if is_checkout(root) else None


def use_collection(root):
    """Make the project's collection importable as ansible_collections.phaseout.antivirus (a checkout's
    own copy first; an installed one is in site-packages already)."""
    collections = os.path.join(root, 'collections')
    if is_checkout(root) and collections not in sys.path:
        sys.path.insert(0, collections)


def _import_dashboard(root):
    """plugins/module_utils/dashboard.py of the project."""
    use_collection(root)
    from ansible_collections.phaseout.antivirus.plugins.module_utils import dashboard
    return dashboard


# --- arguments ----------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, '%s: error: %s\n' % (self.prog, message))


def validate_serial(value):
    """--serial: a positive whole number of hosts, or a percentage from 1% to 100%. Returns the value to pass."""
    try:  # one rule for the CLI, the playbooks and the AWX survey when the collection has it
        from ansible_collections.phaseout.antivirus.plugins.module_utils import rollout
        checker = getattr(rollout, 'validate_serial', None)
    except ImportError:
        checker = None
    text = str(value).strip()
    if checker is not None:
        try:
            checked = checker(text)
        except (ValueError, TypeError) as exc:
            raise UsageError('--serial %r: %s' % (value, exc))
        return checked if checked is not None else text
    match = re.fullmatch(r'(\d+)(%?)', text)
    if not match:
        raise UsageError('--serial %r: expected a positive whole number of hosts (10) or a percentage '
                         'from 1%% to 100%% (25%%)' % value)
    number = int(match.group(1))
    if match.group(2):
        if not 1 <= number <= 100:
            raise UsageError('--serial %r: a percentage must be from 1%% to 100%%' % value)
        return '%d%%' % number
    if number < 1:
        raise UsageError('--serial %r: the batch size must be at least 1 host' % value)
    return number


def validate_max_fail(value):
    """--max-fail: a whole percentage from 0 to 100."""
    try:
        from ansible_collections.phaseout.antivirus.plugins.module_utils import rollout
        checker = (getattr(rollout, 'validate_max_fail_percentage', None)
                   or getattr(rollout, 'validate_max_fail', None))
    except ImportError:
        checker = None
    text = str(value).strip().rstrip('%')
    if checker is not None:
        try:
            checked = checker(text)
        except (ValueError, TypeError) as exc:
            raise UsageError('--max-fail %r: %s' % (value, exc))
        return checked if checked is not None else int(text)
    if not re.fullmatch(r'\d+', text) or not 0 <= int(text) <= 100:
        raise UsageError('--max-fail %r: expected a whole percentage between 0 and 100' % value)
    return int(text)


def parse_args(argv, root=None):
    root = root or project_dir()
    use_collection(root)  # for the shared rollout rules (plugins/module_utils/rollout.py)
    parser = _Parser(prog='phaseout', description='Phase Kaspersky out of a fleet, safely.',
                     epilog='Exit codes: 0 every host succeeded, 2 some hosts failed, 3 hosts unreachable, '
                            '64 bad arguments, 66 no report, 130 interrupted; other codes are ansible-playbook\'s.')
    parser.add_argument('--inventory', '-i', default=default_inventory(root),
                        help='inventory file or directory (default: the built-in lab in a checkout)')
    parser.add_argument('--artifacts', default=default_artifacts(root),
                        help='controller directory of the fleet reports and runs (default: ./artifacts)')
    sub = parser.add_subparsers(dest='command', required=True, parser_class=_Parser)
    for phase in PHASES:
        run = sub.add_parser(phase, help='run the %s phase' % phase if phase != 'site' else
                             'run discover -> contain -> replace -> verify')
        run.add_argument('--wave', help='inventory group to run on (e.g. wave_pilot; "all" for every host); '
                                        'required for contain, replace and site')
        run.add_argument('--limit', '-l', help='further limit the hosts (ansible --limit pattern)')
        run.add_argument('--check', action='store_true', help='dry run: change nothing on any host')
        run.add_argument('--diff', action='store_true', help='show the changes (or planned changes)')
        run.add_argument('--provider', choices=PROVIDERS, help='replacement antivirus (default: phaseout_provider)')
        run.add_argument('--serial', help='batch size within the wave: hosts (10) or a percentage (1%%-100%%)')
        run.add_argument('--max-fail', help='stop the wave when more than this %% of hosts failed (0-100)')
        run.add_argument('--extra-var', '-e', action='append', default=[], metavar='KEY=VALUE',
                         help='extra variable (repeatable)')
        run.add_argument('--vault-password-file', help='Ansible Vault password file')
        run.add_argument('--verbose', '-v', action='count', default=0,
                         help='Ansible verbosity (implies --ansible-output)')
        run.add_argument('--quiet', '-q', action='store_true', help='print only failures and the fleet summary')
        run.add_argument('--ansible-output', action='store_true',
                         help="print Ansible's own output instead of the progress lines")
        if phase == 'contain':
            run.add_argument('--release', action='store_true',
                             help='undo the containment (contain_state=absent): firewall rules, hosts block, unit')
    report = sub.add_parser('report', help='print the last fleet report of a phase, or the dashboard page')
    report.add_argument('phase', nargs='?', default=None, choices=REPORT_PHASES)
    report.add_argument('--format', choices=('table', 'json', 'csv', 'html'), default='table',
                        help='html: the fleet dashboard (every phase) on standard output')
    runs = sub.add_parser('runs', help='list the runs kept under <artifacts>/runs/')
    runs.add_argument('--json', action='store_true', help='as JSON')
    args = parser.parse_args(argv)
    args.root = root
    return args


def parse_extra_vars(pairs):
    extravars = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise UsageError('bad --extra-var %r: expected KEY=VALUE' % pair)
        extravars[key] = value
    return extravars


def new_run_id(command, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return '%s-%s-%s' % (now.strftime('%Y%m%dT%H%M%SZ'), command, secrets.token_hex(3))


def run_kwargs(args, private_data_dir, run_id=None):
    """The ansible_runner.run() arguments for a phase command."""
    root = args.root
    if args.command in CHANGING_PHASES and not (args.wave or '').strip():
        raise UsageError('%s changes hosts and needs an explicit target: --wave GROUP (for example --wave '
                         'wave_pilot), or --wave all to run on every host on purpose' % args.command)
    serial = validate_serial(args.serial) if args.serial is not None else None
    max_fail = validate_max_fail(args.max_fail) if args.max_fail is not None else None
    if not args.inventory:
        raise UsageError('no inventory: give -i INVENTORY (or set PHASEOUT_INVENTORY)')
    inventory = os.path.abspath(args.inventory)
    if not os.path.exists(inventory):
        raise UsageError('inventory %s does not exist%s' % (
            inventory, ' (for the lab: make lab-up)' if 'inventories/lab' in inventory else ''))
    run_id = run_id or os.path.basename(os.path.normpath(private_data_dir))
    extravars = parse_extra_vars(args.extra_var)
    extravars['phaseout_artifacts_dir'] = os.path.abspath(args.artifacts)
    extravars['phaseout_run_id'] = run_id
    if args.wave:
        extravars['phaseout_targets'] = args.wave
    if args.provider:
        extravars['phaseout_provider'] = args.provider
    if serial is not None:
        extravars['phaseout_serial'] = serial
    if getattr(args, 'release', False):
        extravars['contain_state'] = 'absent'
    if max_fail is not None:
        extravars['phaseout_max_fail_percentage'] = max_fail
    cmdline = []
    if args.check:
        cmdline.append('--check')
    if args.diff:
        cmdline.append('--diff')
    if args.vault_password_file:
        cmdline += ['--vault-password-file', os.path.abspath(args.vault_password_file)]
    show_ansible = args.ansible_output or args.verbose > 0
    return {
        'private_data_dir': private_data_dir,
        'ident': 'ansible',
        'project_dir': root,
        'playbook': os.path.join(root, 'playbooks', '%s.yml' % args.command),
        'inventory': inventory,
        'extravars': extravars,
        'cmdline': ' '.join(cmdline) or None,
        'limit': args.limit,
        'verbosity': args.verbose or None,
        'quiet': not show_ansible,
        'envvars': {'ANSIBLE_CONFIG': os.path.join(root, 'ansible.cfg'), 'ANSIBLE_NOCOLOR': '1',
                    'PHASEOUT_RUN_ID': run_id},
    }


def count_hosts(inventory, pattern, limit=None):
    """How many hosts the run targets (for done/total); None when the inventory cannot be read here."""
    try:
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        manager = InventoryManager(loader=DataLoader(), sources=[inventory])
        if limit:
            manager.subset(limit)
        return len(manager.get_hosts(pattern or 'all'))
    except Exception:  # noqa: BLE001 - progress then counts the hosts it sees
        return None


# --- reports and runs ---------------------------------------------------------------------------

def load_summary(artifacts, phase):
    path = os.path.join(artifacts, phase, 'summary.json')
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        print('phaseout: %s is not valid JSON: %s' % (path, exc), file=sys.stderr)
        return None


def render(report, fmt, artifacts, phase):
    if fmt == 'json':
        return json.dumps(report, indent=2, sort_keys=True)
    if fmt == 'csv':
        with open(os.path.join(artifacts, phase, 'summary.csv'), encoding='utf-8') as handle:
            return handle.read().rstrip('\n')
    summary = report.get('summary', {})
    dry = ' [dry run]' if summary.get('check_mode') else ''
    lines = ['%s: %s host(s)%s, %s' % (phase, summary.get('hosts'), dry, summary.get('timestamp'))]
    for key in ('status', 'verdict', 'outcome', 'installed_products', 'removed_products'):
        if isinstance(summary.get(key), dict) and summary[key]:
            lines.append('  %-18s %s' % (key + ':', ', '.join('%s=%s' % kv for kv in summary[key].items())))
    if summary.get('needs_attention'):
        lines.append('  needs attention:   %s' % ' '.join(str(h) for h in summary['needs_attention']))
    return '\n'.join(lines)


def inventory_waves(inventory):
    """{host: wave} from the inventory's wave_* groups, for records that carry no wave."""
    if not inventory or not os.path.exists(inventory):
        return {}
    try:
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        manager = InventoryManager(loader=DataLoader(), sources=[inventory])
        groups = {name: [h.name for h in group.get_hosts()] for name, group in manager.groups.items()}
    except Exception:  # noqa: BLE001 - waves are a nicety of the page
        return {}
    from_groups = {}
    for name in sorted(groups):
        if name.startswith('wave'):
            for host in groups[name]:
                from_groups.setdefault(host, name)
    return from_groups


def command_report(args):
    artifacts = os.path.abspath(args.artifacts)
    if args.format == 'html':
        dashboard = _import_dashboard(args.root)
        if not os.path.isdir(artifacts):
            print('phaseout: no artifacts directory %s: run a phase first' % artifacts, file=sys.stderr)
            return EXIT_NO_INPUT
        sys.stdout.write(dashboard.render_dashboard(artifacts, waves=inventory_waves(args.inventory)))
        return EXIT_OK
    phases = [args.phase] if args.phase else list(REPORT_PHASES)
    shown = 0
    for phase in phases:
        report = load_summary(artifacts, phase)
        if report:
            print(render(report, args.format, artifacts, phase))
            shown += 1
    if not shown:
        print('phaseout: no report under %s yet: run a phase first' % artifacts, file=sys.stderr)
        return EXIT_NO_INPUT
    return EXIT_OK


def list_runs(artifacts, root):
    """The command line's runs and the ledger's (AWX's and plain ansible-playbook's too), newest first."""
    return _import_dashboard(root).load_runs(artifacts)


def command_runs(args):
    runs = list_runs(os.path.abspath(args.artifacts), args.root)
    if args.json:
        print(json.dumps(runs, indent=2, sort_keys=True))
        return EXIT_OK
    if not runs:
        print('phaseout: no run under %s yet' % os.path.join(os.path.abspath(args.artifacts), 'runs'),
              file=sys.stderr)
        return EXIT_NO_INPUT
    columns = ('run id', 'command', 'started', 'duration', 'status', 'rc', 'hosts', 'options / lost hosts')
    print('%-36s %-18s %-20s %8s  %-11s %4s %5s  %s' % columns)
    for run in runs:
        duration = run.get('duration_s')
        detail = ' '.join(str(o) for o in run.get('options') or [])
        if run.get('lost'):
            detail = (detail + '  lost: ' if detail else 'lost: ') + ' '.join(str(h) for h in run['lost'])
        print('%-36s %-18s %-20s %8s  %-11s %4s %5s  %s' % (
            run.get('run_id'), run.get('command') or '?', str(run.get('started') or '')[:19],
            '%.0f s' % duration if isinstance(duration, (int, float)) else '-', run.get('status') or '?',
            '-' if run.get('rc') is None else run.get('rc'), '-' if run.get('hosts') is None else run['hosts'],
            detail))
    return EXIT_OK


def _write_json(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write('\n')
    os.replace(tmp, path)


def command_run(args, argv):
    import ansible_runner  # imported late: `phaseout report` and `runs` work without it

    from phaseout.progress import Progress

    artifacts = os.path.abspath(args.artifacts)
    bindir = os.path.dirname(sys.executable)  # ansible-playbook of the same environment as this command
    if os.path.exists(os.path.join(bindir, 'ansible-playbook')) and \
            bindir not in os.environ.get('PATH', '').split(os.pathsep):
        os.environ['PATH'] = bindir + os.pathsep + os.environ.get('PATH', '')
    run_id = new_run_id(args.command)
    private = os.path.join(artifacts, 'runs', run_id)
    kwargs = run_kwargs(args, private, run_id)
    os.makedirs(private, mode=0o750, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    meta = {'run_id': run_id, 'command': args.command, 'options': [a for a in argv if a != args.command],
            'started': started.replace(microsecond=0).isoformat(), 'status': 'running', 'rc': None,
            'inventory': kwargs['inventory'], 'targets': args.wave, 'limit': args.limit, 'check_mode': args.check,
            'artifacts': os.path.join(private, 'artifacts', kwargs['ident'])}
    _write_json(os.path.join(private, 'phaseout-run.json'), meta)
    progress = None
    if kwargs['quiet'] and not args.quiet:
        progress = Progress(args.command, total=count_hosts(kwargs['inventory'], args.wave or 'all', args.limit),
                            playbook_dir=os.path.join(args.root, 'playbooks'))
        kwargs['event_handler'] = progress.handle
    print('phaseout %s: run %s (ansible-runner artifacts: %s)' % (args.command, run_id, meta['artifacts']))
    status, rc = 'failed', 1
    try:
        result = ansible_runner.run(**kwargs)
        status, rc = result.status, result.rc
    except KeyboardInterrupt:
        status, rc = 'interrupted', EXIT_INTERRUPTED
    finally:
        if progress:
            progress.close()
        finished = datetime.datetime.now(datetime.timezone.utc)
        meta.update(status=status, rc=rc, finished=finished.replace(microsecond=0).isoformat(),
                    duration_s=round((finished - started).total_seconds(), 1))
        _write_json(os.path.join(private, 'phaseout-run.json'), meta)
    page = os.path.join(artifacts, 'dashboard.html')
    if os.path.exists(page):  # again, now that the run is over and recorded as such
        try:
            _import_dashboard(args.root).write_dashboard(artifacts, waves=inventory_waves(kwargs['inventory']))
        except Exception as exc:  # noqa: BLE001 - the reports are written; the page is a view of them
            print('phaseout: the dashboard was not rewritten: %s' % exc, file=sys.stderr)
    phases = SITE_PHASES if args.command == 'site' else (args.command,)
    print()
    for phase in phases:
        report = load_summary(artifacts, phase)
        if report:
            print(render(report, 'table', artifacts, phase))
    if os.path.exists(page):
        print('dashboard: %s' % page)
    print('phaseout %s: %s (rc=%s), run %s' % (args.command, status, rc, run_id))
    return rc if isinstance(rc, int) else 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parse_args(argv)
        if args.command == 'report':
            return command_report(args)
        if args.command == 'runs':
            return command_runs(args)
        return command_run(args, argv)
    except UsageError as exc:
        print('phaseout: %s' % exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print('phaseout: interrupted', file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == '__main__':
    sys.exit(main())
