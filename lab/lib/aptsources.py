#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helper of lab/lab.sh: the Debian mirror of the lab, from the controller's apt.

The lab image is Debian 12 (bookworm). Its mirror is not written anywhere in
the repository: it is the one this machine's apt already uses, so a site's
internal mirror or proxy works on an air-gapped admin station as it is.

    aptsources.py mirror          the Debian mirror URI for debootstrap
    aptsources.py keyring         the keyring file that signs it (empty: apt's default)
    aptsources.py keyrings        "SOURCE NAME" lines: keyrings to copy into the
                                  image's /etc/apt/keyrings (mirrors signed by
                                  another key than Debian's)
    aptsources.py sources-list    the image's /etc/apt/sources.list (bookworm,
                                  bookworm-updates, bookworm-security, main)
    aptsources.py proxy           KEY=VALUE lines for the environment of
                                  debootstrap and `podman build` (http_proxy,
                                  https_proxy) from apt's Acquire::http(s)::Proxy
    aptsources.py describe        a human-readable summary

Where apt's sources are: `apt-config` (Dir::Etc::sourcelist and
Dir::Etc::sourceparts, so an APT_CONFIG override is honoured); both the
one-line format (*.list) and deb822 (*.sources) are read, disabled entries
(Enabled: no) and deb-src lines are skipped.

Which entries are Debian's: an entry whose suite is a Debian code name or
alias (bookworm, trixie, stable, ... with -updates/-backports) is the main
archive; an entry whose suite ends in -security is the security archive.
The lab uses those URIs with the bookworm suites, whatever release the
controller itself runs. Overrides: PHASEOUT_LAB_MIRROR (main archive URI),
PHASEOUT_LAB_SECURITY_MIRROR (security archive URI, or "none").
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys

SUITE = 'bookworm'
DEBIAN_CODENAMES = {
    'buzz', 'rex', 'bo', 'hamm', 'slink', 'potato', 'woody', 'sarge', 'etch', 'lenny', 'squeeze', 'wheezy',
    'jessie', 'stretch', 'buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid',
    'stable', 'oldstable', 'oldoldstable', 'testing', 'unstable', 'experimental',
}
MAIN_SUITE = re.compile(r'^(?P<name>[a-z]+)(-(updates|backports|proposed-updates|backports-sloppy))?$')
SECURITY_SUITE = re.compile(r'^(?P<name>[a-z]+)[-/]security$|^(?P<old>[a-z]+)/updates$')


def fail(message):
    sys.stderr.write('aptsources: %s\n' % message)
    sys.exit(1)


def apt_config(*names):
    """Values of apt configuration items (item/f and item/d give full paths)."""
    args = ['apt-config', 'shell']
    for index, name in enumerate(names):
        args += ['V%d' % index, name]
    try:
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        fail('cannot read the apt configuration with apt-config (%s); set PHASEOUT_LAB_MIRROR' % err)
    values = {}
    for line in out.splitlines():
        key, _, value = line.partition('=')
        words = shlex.split(value) if value else ['']
        values[int(key[1:])] = words[0] if words else ''
    return [values.get(index, '') for index in range(len(names))]


def parse_one_line(path, text):
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        options = {}
        match = re.match(r'^(\S+)\s+\[([^\]]*)\]\s+(.*)$', line)
        if match:
            kind, opts, rest = match.group(1), match.group(2), match.group(3)
            for opt in opts.split():
                key, _, value = opt.partition('=')
                options[key.lower()] = value
        else:
            kind, _, rest = line.partition(' ')
        words = rest.split()
        if kind != 'deb' or len(words) < 2:
            continue
        entries.append({'uri': words[0], 'suites': [words[1]], 'components': words[2:],
                        'signed_by': options.get('signed-by', ''), 'origin': '%s:%d' % (path, number)})
    return entries


def parse_deb822(path, text):
    entries = []
    stanzas, current, key = [], {}, None
    for raw in text.splitlines() + ['']:
        if raw.startswith('#'):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
            continue
        if raw[0] in ' \t' and key:
            current[key] += '\n' + raw.strip()
            continue
        key, _, value = raw.partition(':')
        key = key.strip().lower()
        current[key] = value.strip()
    for stanza in stanzas:
        if stanza.get('enabled', 'yes').lower() == 'no' or 'deb' not in stanza.get('types', '').split():
            continue
        signed_by = stanza.get('signed-by', '')
        if '\n' in signed_by or 'BEGIN PGP' in signed_by:
            signed_by = ''  # an embedded key: apt's default keyrings are used in the image
        for uri in stanza.get('uris', '').split():
            entries.append({'uri': uri, 'suites': stanza.get('suites', '').split(),
                            'components': stanza.get('components', '').split(),
                            'signed_by': signed_by.split()[0] if signed_by else '', 'origin': path})
    return entries


def read_entries():
    sourcelist, sourceparts = apt_config('Dir::Etc::sourcelist/f', 'Dir::Etc::sourceparts/d')
    entries = []
    files = []
    if sourcelist and os.path.isfile(sourcelist):
        files.append(sourcelist)
    if sourceparts and os.path.isdir(sourceparts):
        files += sorted(glob.glob(os.path.join(sourceparts, '*.list')) + glob.glob(os.path.join(sourceparts, '*.sources')))
    for path in files:
        try:
            with open(path, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
        except OSError:
            continue
        entries += parse_deb822(path, text) if path.endswith('.sources') else parse_one_line(path, text)
    return entries, files


def classify(entries):
    """(main entry, security entry) of Debian's archives, or None each."""
    main = security = None
    for entry in entries:
        for suite in entry['suites']:
            sec = SECURITY_SUITE.match(suite)
            if sec and (sec.group('name') or sec.group('old')) in DEBIAN_CODENAMES:
                if security is None or (suite.startswith(SUITE) and not security['suite'].startswith(SUITE)):
                    security = dict(entry, suite=suite)
                continue
            plain = MAIN_SUITE.match(suite)
            if plain and plain.group('name') in DEBIAN_CODENAMES:
                # prefer the lab's own suite, then the release itself over -updates
                better = main is None or (suite == SUITE and main['suite'] != SUITE) or (
                    main['suite'] != SUITE and '-' in main['suite'] and '-' not in suite)
                if better:
                    main = dict(entry, suite=suite)
    return main, security


def resolve():
    entries, files = read_entries()
    main, security = classify(entries)
    override = os.environ.get('PHASEOUT_LAB_MIRROR', '').strip()
    if override:
        main = {'uri': override, 'suite': SUITE, 'signed_by': '', 'origin': 'PHASEOUT_LAB_MIRROR'}
    sec_override = os.environ.get('PHASEOUT_LAB_SECURITY_MIRROR', '').strip()
    if sec_override:
        security = None if sec_override == 'none' else {
            'uri': sec_override, 'suite': SUITE + '-security', 'signed_by': '', 'origin': 'PHASEOUT_LAB_SECURITY_MIRROR'}
    if main is None:
        fail('no Debian archive among the apt sources of this machine (%s); the lab image is Debian %s: '
             'add a Debian source to apt, or set PHASEOUT_LAB_MIRROR=<URI of a Debian mirror>'
             % (', '.join(files) or 'none found', SUITE))
    return main, security


def keyring_path(entry):
    path = entry.get('signed_by') or ''
    return path if path.startswith('/') and os.path.isfile(path) else ''


def image_keyring(entry, role):
    """(source path, name in /etc/apt/keyrings) of a non-Debian keyring, or None."""
    path = keyring_path(entry)
    if not path or os.path.basename(path).startswith('debian-archive'):
        return None  # Debian's own keys are in the image already (debian-archive-keyring)
    return path, 'phaseout-lab-%s%s' % (role, os.path.splitext(path)[1] or '.gpg')


def proxies():
    http, https = apt_config('Acquire::http::Proxy', 'Acquire::https::Proxy')
    lines = []
    for name, value in (('http_proxy', http), ('https_proxy', https or http)):
        value = value.strip()
        if value and value.upper() != 'DIRECT':
            lines.append('%s=%s' % (name, value))
    return lines


def main():
    if len(sys.argv) != 2:
        fail('usage: aptsources.py mirror|keyring|keyrings|sources-list|proxy|describe')
    command = sys.argv[1]
    if command == 'proxy':
        print('\n'.join(proxies()))
        return
    main_entry, security = resolve()
    if command == 'mirror':
        print(main_entry['uri'])
    elif command == 'keyring':
        print(keyring_path(main_entry))
    elif command == 'keyrings':
        for entry, role in ((main_entry, 'main'), (security, 'security')):
            keyring = image_keyring(entry, role) if entry else None
            if keyring:
                print('%s %s' % keyring)
    elif command == 'sources-list':
        print('# Written by lab/lab.sh from the apt sources of the machine that built the image.')
        for entry, role, suites in ((main_entry, 'main', (SUITE, SUITE + '-updates')),
                                    (security, 'security', (SUITE + '-security',))):
            if entry is None:
                continue
            keyring = image_keyring(entry, role)
            options = '[signed-by=/etc/apt/keyrings/%s] ' % keyring[1] if keyring else ''
            for suite in suites:
                print('deb %s%s %s main' % (options, entry['uri'], suite))
    elif command == 'describe':
        print('Debian mirror: %s (from %s)' % (main_entry['uri'], main_entry['origin']))
        print('security:      %s' % ('%s (from %s)' % (security['uri'], security['origin']) if security else 'none found'))
        print('proxy:         %s' % (', '.join(proxies()) or 'none'))
    else:
        fail('unknown command %r' % command)


if __name__ == '__main__':
    main()
