# SPDX-License-Identifier: GPL-3.0-or-later
"""lab/lib/aptsources.py: the lab's Debian mirror comes from the machine's apt."""
from __future__ import annotations

import importlib.util
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPEC = importlib.util.spec_from_file_location('aptsources', os.path.join(ROOT, 'lab', 'lib', 'aptsources.py'))
aptsources = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(aptsources)


@pytest.fixture
def apt(tmp_path, monkeypatch):
    """A fake apt configuration: files under tmp_path, apt-config answers for them."""
    etc = tmp_path / 'etc' / 'apt'
    (etc / 'sources.list.d').mkdir(parents=True)
    config = {
        'Dir::Etc::sourcelist/f': str(etc / 'sources.list'),
        'Dir::Etc::sourceparts/d': str(etc / 'sources.list.d') + '/',
        'Acquire::http::Proxy': '',
        'Acquire::https::Proxy': '',
    }
    monkeypatch.setattr(aptsources, 'apt_config', lambda *names: [config.get(n, '') for n in names])
    monkeypatch.delenv('PHASEOUT_LAB_MIRROR', raising=False)
    monkeypatch.delenv('PHASEOUT_LAB_SECURITY_MIRROR', raising=False)
    return etc, config


def test_deb822_of_a_debian_machine(apt):
    etc, _config = apt
    (etc / 'sources.list.d' / 'debian.sources').write_text(
        'Types: deb\n# http://snapshot.example/archive/debian/20250520T000000Z\n'
        'URIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n'
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n'
        'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n'
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n')
    main, security = aptsources.resolve()
    assert main['uri'] == 'http://mirror.example/debian'
    assert security['uri'] == 'http://mirror.example/debian-security'
    assert aptsources.image_keyring(main, 'main') is None  # Debian's own key is in the image


def test_one_line_format_other_release_options_and_noise(apt):
    etc, _config = apt
    (etc / 'sources.list').write_text(
        '# a comment\n'
        'deb-src http://src.example/debian trixie main\n'
        'deb http://archive.ubuntu.example/ubuntu noble main\n'
        'deb [arch=amd64] http://corp.example/debian trixie-updates main contrib\n'
        'deb [arch=amd64] http://corp.example/debian trixie main contrib  # the release\n'
        'deb http://corp.example/security trixie-security main\n')
    (etc / 'sources.list.d' / 'vendor.list.disabled').write_text('deb http://ignored.example/debian bookworm main\n')
    (etc / 'sources.list.d' / 'off.sources').write_text(
        'Types: deb\nEnabled: no\nURIs: http://disabled.example/debian\nSuites: bookworm\nComponents: main\n')
    main, security = aptsources.resolve()
    # Ubuntu, deb-src, disabled entries and other file names are not used; the
    # release suite wins over -updates; bookworm is used whatever the machine runs
    assert main['uri'] == 'http://corp.example/debian'
    assert main['suite'] == 'trixie'
    assert security['uri'] == 'http://corp.example/security'


def test_sources_list_for_the_image_with_a_mirror_signed_by_another_key(apt, tmp_path, capsys, monkeypatch):
    etc, _config = apt
    key = tmp_path / 'corp-archive.gpg'
    key.write_bytes(b'key')
    (etc / 'sources.list').write_text('deb [signed-by=%s] http://corp.example/debian bookworm main\n' % key)
    monkeypatch.setattr('sys.argv', ['aptsources.py', 'sources-list'])
    aptsources.main()
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith('#')]
    assert lines == [
        'deb [signed-by=/etc/apt/keyrings/phaseout-lab-main.gpg] http://corp.example/debian bookworm main',
        'deb [signed-by=/etc/apt/keyrings/phaseout-lab-main.gpg] http://corp.example/debian bookworm-updates main',
    ]  # no security source on this machine: none in the image either
    monkeypatch.setattr('sys.argv', ['aptsources.py', 'keyrings'])
    aptsources.main()
    assert capsys.readouterr().out.split() == [str(key), 'phaseout-lab-main.gpg']


def test_proxy_from_apt(apt, capsys, monkeypatch):
    _etc, config = apt
    config['Acquire::http::Proxy'] = 'http://proxy.example:3128'
    monkeypatch.setattr('sys.argv', ['aptsources.py', 'proxy'])
    aptsources.main()
    assert capsys.readouterr().out.split() == ['http_proxy=http://proxy.example:3128',
                                               'https_proxy=http://proxy.example:3128']
    config['Acquire::http::Proxy'] = 'DIRECT'
    aptsources.main()
    assert capsys.readouterr().out.split() == []


def test_override_and_a_clear_error_without_any_debian_source(apt, capsys, monkeypatch):
    etc, _config = apt
    (etc / 'sources.list').write_text('deb http://archive.ubuntu.example/ubuntu noble main\n')
    with pytest.raises(SystemExit):
        aptsources.resolve()
    err = capsys.readouterr().err
    assert 'no Debian archive among the apt sources' in err and 'PHASEOUT_LAB_MIRROR' in err
    monkeypatch.setenv('PHASEOUT_LAB_MIRROR', 'http://given.example/debian')
    monkeypatch.setenv('PHASEOUT_LAB_SECURITY_MIRROR', 'none')
    main, security = aptsources.resolve()
    assert main['uri'] == 'http://given.example/debian' and security is None
