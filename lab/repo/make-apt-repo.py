#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make a signed flat apt repository from .deb files (LAB ONLY).

    lab/repo/make-apt-repo.py --out DIR [--sign] [--gnupghome DIR] DEB...

Writes DIR/<the .debs>, DIR/Packages, DIR/Packages.gz and DIR/Release; with
--sign also DIR/InRelease, DIR/Release.gpg and DIR/repo-key.asc, the public
key to give apt as the source's signed-by keyring. The signing key is a
throw-away lab key kept in --gnupghome (created on first use, default
DIR/../.gnupg-lab-repo), so rebuilding the repository keeps the same key.

A host uses it as a flat repository, for example (deb822):

    Types: deb
    URIs: file:///opt/phaseout-lab/repo/mdatp
    Suites: ./
    Signed-By: /etc/apt/keyrings/phaseout-lab.asc

Pure Python (ar and tar from the standard library), so it needs neither
dpkg-dev nor dpkg-deb; only --sign needs gpg. The Molecule scenario
provider_mdatp serves the mdatp test double (lab/doubles/mdatp) this way.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import time

CONTROL_ORDER = ('Package', 'Version', 'Architecture', 'Maintainer', 'Installed-Size', 'Depends',
                 'Pre-Depends', 'Recommends', 'Suggests', 'Conflicts', 'Breaks', 'Replaces',
                 'Provides', 'Section', 'Priority', 'Homepage', 'Description')
KEY_UID = 'phaseout lab repository (TEST KEY, lab only) <phaseout-lab@example.invalid>'


def ar_members(data):
    """Yield (name, bytes) of an ar archive (the .deb container)."""
    if not data.startswith(b'!<arch>\n'):
        raise ValueError('not an ar archive (.deb)')
    offset = 8
    while offset + 60 <= len(data):
        header = data[offset:offset + 60]
        name = header[:16].decode('ascii').strip().rstrip('/')
        size = int(header[48:58].decode('ascii').strip())
        start = offset + 60
        yield name, data[start:start + size]
        offset = start + size + (size % 2)


def control_text(deb_path):
    """The DEBIAN/control text of a .deb."""
    with open(deb_path, 'rb') as handle:
        data = handle.read()
    for name, payload in ar_members(data):
        if not name.startswith('control.tar'):
            continue
        if name.endswith('.xz'):
            payload = lzma.decompress(payload)
        elif name.endswith('.gz'):
            payload = gzip.decompress(payload)
        elif name != 'control.tar':
            return subprocess.run(['dpkg-deb', '--field', deb_path], check=True,
                                  capture_output=True, text=True).stdout
        with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
            for member in tar.getmembers():
                if member.name in ('./control', 'control'):
                    return tar.extractfile(member).read().decode('utf-8')
    raise ValueError('%s: no control member' % deb_path)


def parse_control(text):
    fields, key = {}, None
    for line in text.splitlines():
        if line[:1] in (' ', '\t') and key:
            fields[key] += '\n' + line
        elif ':' in line:
            key, value = line.split(':', 1)
            fields[key] = value.strip()
    return fields


def digests(path):
    with open(path, 'rb') as handle:
        data = handle.read()
    return len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # nosec: apt index fields


def packages_stanza(deb_path, filename):
    fields = parse_control(control_text(deb_path))
    size, md5, sha256 = digests(deb_path)
    lines = []
    for key in CONTROL_ORDER:
        if key in fields and key != 'Description':
            lines.append('%s: %s' % (key, fields[key]))
    for key, value in fields.items():
        if key not in CONTROL_ORDER:
            lines.append('%s: %s' % (key, value))
    lines += ['Filename: ./%s' % filename, 'Size: %d' % size, 'MD5sum: %s' % md5, 'SHA256: %s' % sha256]
    if 'Description' in fields:
        lines.append('Description: %s' % fields['Description'])
    return '\n'.join(lines) + '\n'


def gpg(gnupghome, *args, **kwargs):
    return subprocess.run(['gpg', '--batch', '--quiet', '--homedir', gnupghome, *args], check=True, **kwargs)


def ensure_key(gnupghome):
    os.makedirs(gnupghome, mode=0o700, exist_ok=True)
    listed = subprocess.run(['gpg', '--batch', '--homedir', gnupghome, '--list-secret-keys', KEY_UID],
                            capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        gpg(gnupghome, '--passphrase', '', '--quick-gen-key', KEY_UID, 'ed25519', 'sign', '2y')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True, help='repository directory (recreated)')
    parser.add_argument('--sign', action='store_true', help='sign with the lab key (gpg)')
    parser.add_argument('--gnupghome', help='keyring of the lab signing key')
    parser.add_argument('--origin', default='phaseout-lab')
    parser.add_argument('debs', nargs='+')
    args = parser.parse_args(argv)

    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    stanzas = []
    for deb in sorted(args.debs):
        name = os.path.basename(deb)
        shutil.copyfile(deb, os.path.join(out, name))
        stanzas.append(packages_stanza(os.path.join(out, name), name))
    packages = '\n'.join(stanzas).encode('utf-8')
    with open(os.path.join(out, 'Packages'), 'wb') as handle:
        handle.write(packages)
    with open(os.path.join(out, 'Packages.gz'), 'wb') as handle:
        handle.write(gzip.compress(packages, mtime=0))

    index = ['Packages', 'Packages.gz']
    release = ['Origin: %s' % args.origin, 'Label: %s' % args.origin,
               'Date: %s' % time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime()),
               'Description: phaseout lab flat repository (TEST DOUBLES, lab only)']
    for title, position in (('MD5Sum', 1), ('SHA256', 2)):
        release.append('%s:' % title)
        for name in index:
            info = digests(os.path.join(out, name))
            release.append(' %s %d %s' % (info[position], info[0], name))
    release_path = os.path.join(out, 'Release')
    with open(release_path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(release) + '\n')

    if args.sign:
        if not shutil.which('gpg'):
            sys.exit('make-apt-repo.py: --sign needs gpg (apt-get install gnupg)')
        gnupghome = os.path.abspath(args.gnupghome or os.path.join(out, '..', '.gnupg-lab-repo'))
        ensure_key(gnupghome)
        gpg(gnupghome, '--yes', '--local-user', KEY_UID, '--clearsign',
            '--output', os.path.join(out, 'InRelease'), release_path)
        gpg(gnupghome, '--yes', '--local-user', KEY_UID, '--armor', '--detach-sign',
            '--output', os.path.join(out, 'Release.gpg'), release_path)
        gpg(gnupghome, '--yes', '--armor', '--export', '--output', os.path.join(out, 'repo-key.asc'), KEY_UID)
    print('repository %s: %d package(s)%s' % (out, len(stanzas), ', signed' if args.sign else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
