# SPDX-License-Identifier: GPL-3.0-or-later
"""The discover phase inside the execution environment (make ee; scripts/ee.sh builds the image first).

ansible-runner runs ansible-playbook in the EE image with process isolation (podman),
as AWX does: the project checkout mounted read-only, ansible-runner's private data
directory at /runner, the image's own user (uid 1000, not root), and the host's
network namespace so the lab's sshd on 127.0.0.1 is reachable. The lab is this
test's own (prefix ee, ports 2601-2602) and is removed afterwards.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
IMAGE = os.environ.get('PHASEOUT_EE_IMAGE', 'localhost/phaseout-ee:latest')
PREFIX, PORT_BASE, HOSTS = 'ee', 2601, 2
EE_UID = 1000  # ansible-builder's default `options.user`


def podman_env():
    env = dict(os.environ)
    env['CONTAINERS_CONF'] = os.path.join(ROOT, 'lab', 'containers.conf')
    return env


def lab(*args):
    subprocess.run([os.path.join(ROOT, 'lab', 'lab.sh'), *args], check=True, env=podman_env(), cwd=ROOT)


@pytest.fixture(scope='module')
def fleet():
    image = subprocess.run(['podman', 'image', 'exists', IMAGE], env=podman_env(), check=False)
    if image.returncode != 0:
        pytest.fail('%s is not built: run scripts/ee.sh (make ee)' % IMAGE)
    lab('up', '--hosts', str(HOSTS), '--prefix', PREFIX, '--port-base', str(PORT_BASE))
    try:
        yield os.path.join(ROOT, 'lab', '.state', '%s-hosts.yml' % PREFIX)
    finally:
        lab('down', '--prefix', PREFIX)


def test_discover_runs_inside_the_execution_environment(fleet, tmp_path):
    import ansible_runner

    work = tmp_path / 'ee'
    work.mkdir()
    # the EE's user reads the key and writes the reports, as in AWX (not root)
    key = work / 'id_ed25519'
    shutil.copy(os.path.join(ROOT, 'lab', '.state', 'id_ed25519'), key)
    with open(fleet, encoding='utf-8') as handle:
        inventory = yaml.safe_load(handle)
    inventory['all']['children']['lab']['vars']['ansible_ssh_private_key_file'] = str(key)
    artifacts = work / 'artifacts'
    private = work / 'runner'  # ansible-runner's private data directory, /runner in the container
    runner_artifacts = private / 'artifacts' / 'discover'  # where the container writes the job events
    for path in (artifacts, private, private / 'inventory', private / 'env', private / 'artifacts', runner_artifacts,
                 runner_artifacts / 'job_events', runner_artifacts / 'fact_cache'):
        path.mkdir()
        os.chown(path, EE_UID, EE_UID)
    (private / 'inventory' / 'hosts.yml').write_text(yaml.safe_dump(inventory))
    (private / 'env' / 'extravars').write_text(json.dumps({
        'phaseout_artifacts_dir': str(artifacts), 'phaseout_run_id': 'ee-test'}))
    for path in (work, key, artifacts, private, private / 'inventory', private / 'env',
                 private / 'inventory' / 'hosts.yml', private / 'env' / 'extravars'):
        os.chown(path, EE_UID, EE_UID)
    os.chmod(key, 0o600)
    os.chmod(tmp_path, 0o755)

    events = []
    os.environ['CONTAINERS_CONF'] = podman_env()['CONTAINERS_CONF']
    result = ansible_runner.run(
        private_data_dir=str(private), ident='discover',
        playbook=os.path.join(ROOT, 'playbooks', 'discover.yml'),
        envvars={'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'), 'PHASEOUT_RUN_ID': 'ee-test'},
        process_isolation=True, process_isolation_executable='podman', container_image=IMAGE,
        container_volume_mounts=['%s:%s:ro' % (ROOT, ROOT), '%s:%s' % (work, work)],
        container_options=['--network=host'],
        event_handler=lambda event: events.append(event) or True,
        quiet=True,
    )
    stdout = (private / 'artifacts' / 'discover' / 'stdout').read_text(errors='replace')
    assert result.status == 'successful', stdout[-3000:]
    command = json.loads((private / 'artifacts' / 'discover' / 'command').read_text())['command']
    assert command[0] == 'podman' and IMAGE in command, command  # it really ran in the image

    # the hosts were reached and read from inside the container, and the report written from there
    ok = {e['event_data']['host'] for e in events if e.get('event') == 'runner_on_ok'
          and e['event_data'].get('task_action') == 'phaseout.antivirus.kaspersky_info'}
    assert ok == {'%s%02d' % (PREFIX, i) for i in range(1, HOSTS + 1)}
    summary = json.loads((artifacts / 'discover' / 'summary.json').read_text())['summary']
    assert summary['hosts'] == HOSTS and summary['status'] == {'ok': HOSTS}
    assert summary['verdict'] == {'installed': HOSTS}  # the lab's first states: KESL 12 + agent, KESL 11
    assert os.stat(artifacts / 'discover' / 'summary.json').st_uid == EE_UID
    assert (artifacts / 'dashboard.html').read_text().startswith('<!DOCTYPE html>')
    # the versions inside the image are the pinned ones
    version = subprocess.run(['podman', 'run', '--rm', IMAGE, 'ansible', '--version'], capture_output=True,
                             text=True, env=podman_env(), check=True).stdout
    pins = open(os.path.join(ROOT, 'requirements.txt'), encoding='utf-8').read()
    core = version.split('[core ', 1)[1].split(']', 1)[0]
    assert 'ansible-core==%s' % core in pins
