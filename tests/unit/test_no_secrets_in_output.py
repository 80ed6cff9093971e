# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets given through Vault and no_log parameters never reach the output, even at -vvv."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
KES_PASSWORD = 'Kes-S3cret-7f1e9a'
AGENT_PASSWORD = 'Agent-S3cret-0c44d2'


@pytest.mark.skipif(not os.path.exists(os.path.join(BIN, 'ansible-playbook')), reason='ansible not in the venv')
@pytest.mark.skipif(os.geteuid() != 0, reason='kaspersky_uninstall needs root, even to plan')
def test_vaulted_passwords_never_printed(tmp_path):
    play_dir = tmp_path / 'play'
    shutil.copytree(os.path.join(ROOT, 'tests', 'secrets'), play_dir)
    vault_pass = tmp_path / 'vault-pass'
    vault_pass.write_text('test-only-vault-password\n')
    plain = play_dir / 'secrets.vault.yml'
    plain.write_text('vault_kes_password: %s\nvault_agent_password: %s\n' % (KES_PASSWORD, AGENT_PASSWORD))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    subprocess.run([os.path.join(BIN, 'ansible-vault'), 'encrypt', '--vault-password-file', str(vault_pass),
                    str(plain)], check=True, env=env, cwd=ROOT, capture_output=True)
    assert KES_PASSWORD not in plain.read_text()

    run = subprocess.run(
        [os.path.join(BIN, 'ansible-playbook'), '-vvv', '-i', 'localhost,', '-c', 'local',
         '--vault-password-file', str(vault_pass), str(play_dir / 'playbook.yml')],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    # the run did use the secrets and did fail the validation it was meant to fail
    assert 'kaspersky_uninstall' in output
    assert 'not-a-provider' in output and 'rescued=1' in output
    for secret in (KES_PASSWORD, AGENT_PASSWORD):
        assert secret not in output


SECRET_WORDS = ('password', 'passwd', 'token', 'secret', 'onboarding')


def test_every_secret_option_is_no_log():
    """Static guard: any module or action option named like a secret is declared no_log."""
    import importlib
    import pkgutil

    from ansible_collections.phaseout.antivirus.plugins import action as actions
    from ansible_collections.phaseout.antivirus.plugins import modules

    checked = 0
    for package in (modules, actions):
        for info in pkgutil.iter_modules(package.__path__):
            mod = importlib.import_module('%s.%s' % (package.__name__, info.name))
            specs = [getattr(mod, name) for name in ('ARGUMENT_SPEC', 'ARGS_SPEC', 'ARGUMENT_SPECS')
                     if isinstance(getattr(mod, name, None), dict)]
            for spec in specs:
                for option, definition in spec.items():
                    secret_like = any(word in option.lower() for word in SECRET_WORDS)
                    if secret_like and definition.get('type', 'str') == 'str' and 'choices' not in definition:
                        assert definition.get('no_log') is True, '%s.%s must be no_log' % (info.name, option)
                        checked += 1
    assert checked >= 2  # at least kaspersky_uninstall's two passwords were seen
