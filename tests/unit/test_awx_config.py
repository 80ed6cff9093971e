# SPDX-License-Identifier: GPL-3.0-or-later
"""awx/configure.yml and execution-environment.yml stay in step with the project (pure YAML inspection)."""
from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ARTIFACTS = ('phaseout_discover', 'phaseout_contain', 'phaseout_preflight', 'phaseout_replace', 'phaseout_verify')


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's !unsafe and !vault tags as plain strings."""


_Loader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))
_Loader.add_constructor('!vault', lambda loader, node: loader.construct_scalar(node))


def _load(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


@pytest.fixture(scope='module')
def play():
    plays = _load('awx', 'configure.yml')
    assert isinstance(plays, list) and len(plays) == 1
    return plays[0]


@pytest.fixture(scope='module')
def tasks(play):
    return {task['name']: task for task in play['tasks']}


@pytest.fixture(scope='module')
def templates(play):
    return {jt['name']: jt for jt in play['vars']['awx_phaseout_job_templates']}


@pytest.fixture(scope='module')
def nodes(play):
    return {node['identifier']: node for node in play['vars']['awx_phaseout_workflow_nodes']}


def _module(task):
    return next(key for key in task if key.startswith('awx.awx.') or key.startswith('ansible.builtin.'))


def _survey_vars(template):
    return {question['variable'] for question in template['survey']}


def _children(node):
    related = node.get('related') or {}
    return [child['identifier'] for kind in ('success_nodes', 'failure_nodes', 'always_nodes')
            for child in related.get(kind) or []]


# --- job templates ---------------------------------------------------------------------------------------

def test_every_playbook_has_a_job_template(templates):
    playbooks = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))
    assert playbooks, 'no playbooks found'
    covered = sorted(jt['playbook'] for jt in templates.values() if 'slices' not in jt)
    uncovered, unknown = sorted(set(playbooks) - set(covered)), sorted(set(covered) - set(playbooks))
    assert not uncovered, 'playbooks without a job template: %s' % uncovered
    assert not unknown, 'job templates of missing playbooks: %s' % unknown
    assert len(covered) == len(set(covered)), 'one (unsliced) job template per playbook'


def test_large_wave_templates_are_sliced_copies_of_the_phase_templates(play, tasks, templates, nodes):
    args = tasks['Create one job template per phase playbook']['awx.awx.job_template']
    assert args['job_slice_count'] == '{{ item.slices | default(1) | int }}', 'AWX job slicing, not a home-made one'
    slices = play['vars']['awx_phaseout_large_wave_slices']
    assert isinstance(slices, int) and slices > 1
    sliced = {name: jt for name, jt in templates.items() if 'slices' in jt}
    assert sorted(sliced) == ['phaseout %s (sliced)' % p for p in ('contain', 'preflight', 'replace', 'verify')]
    for name, template in sliced.items():
        plain = templates[name.replace(' (sliced)', '')]
        assert template['slices'] == '{{ awx_phaseout_large_wave_slices }}', name
        assert template['playbook'] == plain['playbook'], name
        assert template['survey'] == plain['survey'], 'a sliced template asks what its phase asks: %s' % name
        assert template.get('needs_secrets', False) == plain.get('needs_secrets', False), name
    for identifier, node in nodes.items():
        name = node['unified_job_template']['name']
        if identifier.startswith('wave_1-'):
            assert name.endswith(' (sliced)'), 'the large wave runs sliced: %s' % identifier
        else:
            assert not name.endswith(' (sliced)'), (
                'the discover, pilot and vital nodes run as one job, so the wave gate sees the whole wave: %s'
                % identifier)


def test_job_templates_are_created_with_their_survey_and_check_mode_prompt(tasks):
    task = tasks['Create one job template per phase playbook']
    args = task['awx.awx.job_template']
    assert task['loop'] == '{{ awx_phaseout_job_templates }}'
    assert args['playbook'] == '{{ item.playbook }}' and args['name'] == '{{ item.name }}'
    assert args['survey_enabled'] is True and args['survey_spec']['spec'] == '{{ item.survey }}'
    assert args['ask_job_type_on_launch'] is True, 'check mode is chosen at launch (job type)'
    assert args['ask_diff_mode_on_launch'] is True
    assert args['allow_simultaneous'] is False


def test_surveys_ask_what_the_playbooks_read(templates):
    for name, template in templates.items():
        with open(os.path.join(ROOT, template['playbook']), encoding='utf-8') as handle:
            text = handle.read()
        if 'import_playbook' in text:  # site.yml: the variables of the imported playbooks
            text += ''.join(open(os.path.join(ROOT, 'playbooks', m), encoding='utf-8').read()
                            for m in re.findall(r'import_playbook:\s*(\S+)', text))
        assert 'phaseout_targets' in _survey_vars(template), name
        role_options = set()  # the options of the roles the playbook runs
        for role in re.findall(r'(?:role|name): phaseout\.antivirus\.(\w+)', text):  # roles: or import_role
            for entry in _load('roles', role, 'meta', 'argument_specs.yml')['argument_specs'].values():
                role_options |= set(entry.get('options') or {})
        for variable in _survey_vars(template):
            used = (variable in text or variable in role_options
                    or variable in ('phaseout_provider',))  # read by the roles' defaults
            assert used, '%s asks for %s, which %s does not use' % (name, variable, template['playbook'])
    replace = templates['phaseout replace']
    assert _survey_vars(replace) == {'phaseout_targets', 'phaseout_provider', 'phaseout_serial',
                                     'phaseout_max_fail_percentage'}


def test_provider_choices_match_the_replace_role(templates):
    spec = _load('roles', 'replace', 'meta', 'argument_specs.yml')
    choices = spec['argument_specs']['main']['options']['replace_provider']['choices']
    for template in templates.values():
        for question in template['survey']:
            if question['variable'] == 'phaseout_provider':
                assert question['choices'] == choices
                assert not question['required'] and 'default' not in question, (
                    'an unanswered provider question must leave the inventory phaseout_provider alone')


def test_survey_questions_are_valid(play):
    questions = [q for jt in play['vars']['awx_phaseout_job_templates'] for q in jt['survey']]
    questions += play['vars']['awx_phaseout_workflow_survey']
    for question in questions:
        assert {'question_name', 'variable', 'type', 'required'} <= set(question), question
        assert question['type'] in ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice',
                                    'multiselect'), question
        if question['type'] == 'integer' and 'default' in question:
            assert question['min'] <= question['default'] <= question['max']


# --- the workflow -----------------------------------------------------------------------------------------

def test_every_workflow_node_references_an_existing_template(nodes, templates):
    for identifier, node in nodes.items():
        ujt = node['unified_job_template']
        if ujt['type'] == 'workflow_approval':
            assert ujt['name'] and 'timeout' in ujt, identifier
            assert not node.get('extra_data'), identifier
        else:
            assert ujt['type'] == 'job_template', identifier
            assert ujt['name'] in templates, '%s runs %r, which is not a job template' % (identifier, ujt['name'])


def test_workflow_edges_point_at_existing_nodes_and_form_one_chain(play, nodes):
    assert len(nodes) == len(play['vars']['awx_phaseout_workflow_nodes']), 'node identifiers must be unique'
    children = {identifier: _children(node) for identifier, node in nodes.items()}
    for identifier, targets in children.items():
        for target in targets:
            assert target in nodes, '%s links to unknown node %s' % (identifier, target)
    parents = {target for targets in children.values() for target in targets}
    roots = [identifier for identifier in nodes if identifier not in parents]
    assert roots == ['discover']
    seen, order, todo = set(), [], ['discover']
    while todo:
        current = todo.pop()
        assert current not in seen, 'cycle through %s' % current
        seen.add(current)
        order.append(current)
        todo.extend(children[current])
    assert seen == set(nodes), 'unreachable nodes: %s' % sorted(set(nodes) - seen)


def test_wave_1_and_the_vital_wave_are_behind_an_approval(nodes):
    approvals = {i for i, n in nodes.items() if n['unified_job_template']['type'] == 'workflow_approval'}
    assert len(approvals) == 2
    reachable, todo = set(), ['discover']
    while todo:  # what runs without anybody approving
        current = todo.pop()
        if current in reachable or current in approvals:
            continue
        reachable.add(current)
        todo.extend(_children(nodes[current]))
    assert {'pilot-contain', 'pilot-preflight', 'pilot-replace', 'pilot-verify'} <= reachable
    assert not any(i.startswith(('wave_1-', 'vital-')) for i in reachable)


def test_each_wave_is_preflight_replace_verify_on_the_same_targets(nodes, templates):
    for wave in ('pilot', 'wave_1', 'vital'):
        chain = ['%s-%s' % (wave, phase) for phase in ('preflight', 'replace', 'verify')]
        targets = {nodes[i]['extra_data']['phaseout_targets'] for i in chain}
        assert targets == {'{{ awx_phaseout_wave_targets.%s }}' % wave}
        suffix = ' (sliced)' if wave == 'wave_1' else ''
        assert [nodes[i]['unified_job_template']['name'] for i in chain] == [
            'phaseout preflight' + suffix, 'phaseout replace' + suffix, 'phaseout verify' + suffix]
        assert _children(nodes[chain[0]]) == [chain[1]] and _children(nodes[chain[1]]) == [chain[2]]
        assert not nodes[chain[1]]['related'].get('failure_nodes'), 'a failed wave stops the workflow'


def test_node_prompts_are_accepted_by_their_templates(play, nodes, templates):
    for identifier, node in nodes.items():
        ujt = node['unified_job_template']
        if ujt['type'] != 'job_template':
            continue
        extra = set(node.get('extra_data') or {})
        assert extra <= _survey_vars(templates[ujt['name']]), (
            '%s passes %s, which the template neither asks in its survey nor prompts for' % (identifier, extra))
    workflow_vars = {q['variable'] for q in play['vars']['awx_phaseout_workflow_survey']}
    assert 'phaseout_targets' not in workflow_vars, 'a workflow survey answer would override every wave target'


def test_the_workflow_task_uses_the_nodes_and_survey(tasks):
    args = tasks['Create the rollout workflow with its approvals']['awx.awx.workflow_job_template']
    assert args['workflow_nodes'] == '{{ awx_phaseout_workflow_nodes }}'
    assert args['survey_spec']['spec'] == '{{ awx_phaseout_workflow_survey }}'


def test_the_workflow_artifacts_are_what_the_roles_hand_to_set_stats():
    keys = set()  # fleet_report hands its totals over as phaseout_<phase>, like set_stats
    for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')):
        for task in _load(os.path.relpath(path, ROOT)) or []:
            data = (task.get('ansible.builtin.set_stats') or {}).get('data') or {}
            keys.update(data)
            report = task.get('phaseout.antivirus.fleet_report') or {}
            if report:
                keys.add('phaseout_%s' % report['phase'])
    assert set(ARTIFACTS) <= keys
    with open(os.path.join(ROOT, 'docs', 'awx.md'), encoding='utf-8') as handle:
        docs = handle.read()
    for artifact in ARTIFACTS:
        assert artifact in docs


def test_each_wave_is_contained_before_its_preflight(nodes, templates):
    assert templates['phaseout contain']['playbook'] == 'playbooks/contain.yml'
    assert _survey_vars(templates['phaseout contain']) == {'phaseout_targets'}
    for wave in ('pilot', 'wave_1', 'vital'):
        contain = nodes['%s-contain' % wave]
        suffix = ' (sliced)' if wave == 'wave_1' else ''
        assert contain['unified_job_template']['name'] == 'phaseout contain' + suffix
        assert contain['extra_data']['phaseout_targets'] == '{{ awx_phaseout_wave_targets.%s }}' % wave
        assert _children(contain) == ['%s-preflight' % wave], 'contain runs right before the wave is checked'
        parents = [i for i, n in nodes.items() if '%s-contain' % wave in _children(n)]
        expected = 'discover' if wave == 'pilot' else 'approve-%s' % wave
        assert parents == [expected], '%s-contain must follow %s, not %s' % (wave, expected, parents)
    assert _children(nodes['discover']) == ['pilot-contain']


# --- schedule, credentials, safety ------------------------------------------------------------------------

def test_nightly_discover_schedule(play, tasks, templates):
    args = tasks['Schedule the nightly discover (drift detection)']['awx.awx.schedule']
    assert args['unified_job_template'] in templates
    assert set(args['extra_data']) <= _survey_vars(templates[args['unified_job_template']])
    assert templates[args['unified_job_template']]['playbook'] == 'playbooks/discover.yml'
    assert 'RRULE:FREQ=DAILY' in play['vars']['awx_phaseout_discover_rrule']


def test_drift_alarm_schedule_fails_discover_on_the_migrated_waves(play, tasks, templates):
    args = tasks['Schedule the drift alarm on the migrated waves']['awx.awx.schedule']
    template = templates[args['unified_job_template']]
    assert template['playbook'] == 'playbooks/discover.yml'
    assert set(args['extra_data']) <= _survey_vars(template)
    assert args['extra_data']['phaseout_targets'] == '{{ awx_phaseout_drift_targets }}'
    question = {q['variable']: q for q in template['survey']}['discover_fail_on']
    assert question['type'] == 'multiselect'
    # the survey offers exactly what the role accepts, and the default alarm uses only those
    spec = _load('roles', 'discover', 'meta', 'argument_specs.yml')
    accepted = spec['argument_specs']['main']['options']['discover_fail_on']['choices']
    assert sorted(question['choices']) == sorted(accepted)
    assert set(play['vars']['awx_phaseout_drift_fail_on']) <= set(accepted)
    # no targets configured: the schedule is removed, never run against everything
    assert play['vars']['awx_phaseout_drift_targets'] == ''
    assert args['state'] == "{{ 'present' if awx_phaseout_drift_targets else 'absent' }}"


def test_secrets_credentials_inject_what_the_example_inventory_expects(tasks):
    example = _load('inventories', 'example', 'group_vars', 'windows', 'vault.yml.example')
    injected_by_type = {}
    for name in ('Create the custom credential type of the WinRM password',
                 'Create the custom credential type of the phaseout removal secrets'):
        args = tasks[name]['awx.awx.credential_type']
        injected = args['injectors']['extra_vars']
        fields = {field['id']: field for field in args['inputs']['fields']}
        for variable, template in injected.items():
            field = re.fullmatch(r'\{\{ (\w+) \}\}', template).group(1)
            assert fields[field]['secret'] is True, variable
        injected_by_type[name] = set(injected)
    assert set.union(*injected_by_type.values()) == set(example)
    assert not set.intersection(*injected_by_type.values()), 'each secret in one credential type only'
    assert injected_by_type['Create the custom credential type of the WinRM password'] == {
        'vault_phaseout_winrm_password'}


def _trusted(value):
    from ansible.template import trust_as_template
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


def _credentials_of_each_template(play, tasks, vault_password=''):
    """Render the job template task's credentials expression for each template, as Ansible would."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    variables = _trusted(play['vars'])
    variables['awx_phaseout_vault_password'] = vault_password
    expression = _trusted(tasks['Create one job template per phase playbook']['awx.awx.job_template']['credentials'])
    return {jt['name']: Templar(loader=DataLoader(), variables=dict(variables, item=_trusted(jt))).template(expression)
            for jt in play['vars']['awx_phaseout_job_templates']}


def test_removal_secrets_are_attached_only_to_the_jobs_that_remove_kaspersky(play, tasks, templates):
    credentials = _credentials_of_each_template(play, tasks)
    secrets = play['vars']['awx_phaseout_secrets_credential']
    winrm = play['vars']['awx_phaseout_winrm_credential']
    with_secrets = sorted(name for name, creds in credentials.items() if secrets in creds)
    assert with_secrets == ['phaseout replace', 'phaseout replace (sliced)', 'phaseout site']
    for name, creds in credentials.items():
        assert play['vars']['awx_phaseout_machine_credential'] in creds and winrm in creds, name
        assert len(creds) == len(set(creds)), name
    nightly = tasks['Schedule the nightly discover (drift detection)']['awx.awx.schedule']['unified_job_template']
    assert secrets not in credentials[nightly], 'the nightly read-only discover never gets the removal secrets'
    with_vault = _credentials_of_each_template(play, tasks, vault_password='x')
    assert all(play['vars']['awx_phaseout_vault_credential'] in creds for creds in with_vault.values())


def test_secret_fields_are_split_between_the_two_credentials(play, tasks):
    fields = set(play['vars']['awx_phaseout_secrets'])
    removal = set(play['vars']['__awx_phaseout_removal_secrets'])
    assert removal < fields and fields - removal == {'winrm_password'}
    for name in ('Create the WinRM credential (fill it in the controller)',
                 'Create the phaseout removal secrets credential (fill it in the controller)'):
        assert tasks[name].get('no_log') is True, name


def test_nightly_discover_only_reports_and_the_workflow_discover_fails_on_unread_hosts(play, tasks, templates, nodes):
    args = tasks['Schedule the nightly discover (drift detection)']['awx.awx.schedule']
    assert args['extra_data']['discover_report_only'] == 'true'
    question = {q['variable']: q for q in templates['phaseout discover']['survey']}['discover_report_only']
    assert question['type'] == 'multiplechoice' and question['default'] == 'false'
    assert 'discover_report_only' not in (nodes['discover'].get('extra_data') or {}), (
        'the rollout discover must fail when it cannot read a host')
    spec = _load('roles', 'discover', 'meta', 'argument_specs.yml')['argument_specs']
    assert spec['main']['options']['discover_report_only']['type'] == 'bool'
    assert 'finish' in spec
    with open(os.path.join(ROOT, 'playbooks', 'discover.yml'), encoding='utf-8') as handle:
        assert 'tasks_from: finish' in handle.read()


def test_batch_questions_agree_with_the_rollout_rules(play):
    from ansible_collections.phaseout.antivirus.plugins.module_utils import rollout
    questions = [q for jt in play['vars']['awx_phaseout_job_templates'] for q in jt['survey']]
    questions += play['vars']['awx_phaseout_workflow_survey']
    serial = [q for q in questions if q['variable'] == 'phaseout_serial']
    max_fail = [q for q in questions if q['variable'] == 'phaseout_max_fail_percentage']
    assert serial and max_fail
    for question in serial:
        assert rollout.check_serial(question['default']) == '100%'
        assert '1%' in question['question_description'] and '100%' in question['question_description']
    for question in max_fail:
        assert question['type'] == 'integer'
        assert rollout.check_max_fail(question['min']) == question['min'] == 0
        assert rollout.check_max_fail(question['max']) == question['max'] == 100
        rollout.check_max_fail(question['default'])
        for outside in (question['min'] - 1, question['max'] + 1):
            with pytest.raises(rollout.RolloutError):
                rollout.check_max_fail(outside)


def test_tasks_use_fqcn_and_credentials_with_secrets_are_no_log(play):
    for task in play['tasks']:
        module = _module(task)
        assert module.count('.') == 2, task['name']
        if module == 'awx.awx.credential':
            inputs = yaml.safe_dump(task[module]['inputs'])
            if 'password' in inputs or 'awx_phaseout_secrets' in inputs:
                assert task.get('no_log') is True, task['name']


def test_no_secret_values_in_the_playbook(play):
    text = open(os.path.join(ROOT, 'awx', 'configure.yml'), encoding='utf-8').read()
    assert 'CHANGE-ME' not in text
    for name, value in play['vars']['awx_phaseout_secrets'].items():
        assert value.startswith("{{ lookup('ansible.builtin.env', 'PHASEOUT_"), name
    assert play['vars']['awx_phaseout_update_secrets'] is False


# --- the execution environment ----------------------------------------------------------------------------

def _pins():
    pins = {}
    with open(os.path.join(ROOT, 'requirements.txt'), encoding='utf-8') as handle:
        for line in handle:
            line = line.split('#', 1)[0].strip()
            match = re.match(r'^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*)$', line)
            if match:
                pins[match.group(1).lower()] = match.group(2).replace(' ', '')
    return pins


def test_execution_environment_matches_requirements():
    ee = _load('execution-environment.yml')
    pins = _pins()
    assert ee['version'] == 3
    assert ee['images']['base_image']['name']
    deps = ee['dependencies']
    assert deps['galaxy'] == 'requirements.yml'
    assert os.path.exists(os.path.join(ROOT, deps['galaxy']))
    assert deps['ansible_core']['package_pip'] == 'ansible-core' + pins['ansible-core']
    assert deps['ansible_runner']['package_pip'] == 'ansible-runner' + pins['ansible-runner']
    python = {re.match(r'^([A-Za-z0-9_.-]+)', req).group(1).lower(): re.sub(r'^[A-Za-z0-9_.-]+(\[[^\]]*\])?', '', req)
              for req in deps['python']}
    assert python['pywinrm'] == pins['pywinrm']
    assert python['jinja2'] == pins['jinja2']
    assert not {'molecule', 'ansible-lint', 'pytest'} & set(python), 'test tools stay out of the EE'
