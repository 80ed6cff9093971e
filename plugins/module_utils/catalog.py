# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The product catalog: what each banned product looks like on a host.

This file is *data*. Detection, planning and removal code reads it and never
names a product itself, so a new product, a new package name or another
vendor is an entry here, not a branch in code.

Every fact comes from shared/reference/kaspersky.md (the source keys in the
comments, e.g. [K1], point there). Windows entries are used by the Windows
classifier (plugins/module_utils/windows.py); Linux entries by
plugins/module_utils/linux.py.

Shape of one product (all keys optional except id/name/vendor/kind):

    id              stable identifier used in results, options and reports
    name            human readable product name
    vendor          vendor id (see VENDORS)
    kind            endpoint | gui | agent | fileserver | server | console | edr | consumer
    removal_order   lower is removed first (GUI, endpoint, file server, EDR,
                    agent, console, server); detection-only products have None
    linux:
      packages      package names (deb and rpm use the same names here)
      services      systemd unit or SysV init script names (without .service)
      processes     executable paths whose running processes belong to it
      install_paths directories or files the package installs
      data_paths    directories the product writes and leaves behind
      unit_files    unit files / init scripts it installs
      info_cli      {argv, parser}: read-only CLI query for version/server
      kernel_modules regexes for kernel modules it loads
    windows:        see plugins/module_utils/windows.py
"""

from __future__ import annotations

VENDORS = {
    'kaspersky': {
        'name': 'Kaspersky',
        # Directories any Kaspersky product may leave on Linux [K16][GH-idx 10470740976]
        'linux_common_paths': (
            '/opt/kaspersky',
            '/var/opt/kaspersky',
            '/etc/opt/kaspersky',
            '/var/log/kaspersky',
            '/var/run/kaspersky',
            '/run/kaspersky',
        ),
        # apt / yum repository files and keys that point at the vendor.
        'linux_repo_markers': ('kaspersky',),
        'linux_repo_dirs': (
            '/etc/apt/sources.list.d',
            '/etc/yum.repos.d',
            '/etc/apt/keyrings',
            '/etc/apt/trusted.gpg.d',
            '/usr/share/keyrings',
        ),
        'linux_repo_files': ('/etc/apt/sources.list',),
        # Processes whose executable lives under these prefixes are the vendor's.
        'linux_process_prefixes': ('/opt/kaspersky/',),
        # Kernel modules of old and current products [GH-idx 36470503809]
        'linux_kernel_modules': (r'^kav4fs', r'^redirfs', r'^kesl', r'^klif'),
        'windows_publisher': r'(?i)kaspersky',
    },
}

PRODUCTS = (
    {
        'id': 'kesl_gui',
        'name': 'Kaspersky Endpoint Security for Linux graphical interface',
        'vendor': 'kaspersky',
        'kind': 'gui',
        # The GUI depends on the application package: remove it first [K12].
        'removal_order': 10,
        'linux': {
            'packages': ('kesl-gui', 'kesl-gui-astra'),
            'services': (),
            'processes': ('/opt/kaspersky/kesl/bin/kesl-gui',),
            'install_paths': ('/opt/kaspersky/kesl/bin/kesl-gui',),
            'data_paths': (),
            'unit_files': (),
        },
    },
    {
        'id': 'kesl',
        'name': 'Kaspersky Endpoint Security for Linux',
        'vendor': 'kaspersky',
        'kind': 'endpoint',
        'removal_order': 20,
        'linux': {
            # [K1][K2][K3][GH-idx 19445352875]
            'packages': ('kesl', 'kesl-astra'),
            # kesl.service (11/12), kesl-supervisor (10) [G2][G4]
            'services': ('kesl', 'kesl-supervisor'),
            'processes': ('/opt/kaspersky/kesl/',),
            'install_paths': ('/opt/kaspersky/kesl', '/usr/bin/kesl-control'),
            'data_paths': ('/var/opt/kaspersky/kesl', '/etc/opt/kaspersky/kesl', '/var/log/kaspersky/kesl'),
            'unit_files': (
                '/lib/systemd/system/kesl.service',
                '/usr/lib/systemd/system/kesl.service',
                '/etc/systemd/system/kesl.service',
                '/etc/init.d/kesl',
                '/etc/init.d/kesl-supervisor',
            ),
            # `kesl-control --app-info`, EN or RU keys [G2][GH-idx 20121975605]
            'info_cli': {
                'argv': ('/opt/kaspersky/kesl/bin/kesl-control', '--app-info'),
                'parser': 'kesl_app_info',
            },
            'kernel_modules': (r'^kesl', r'^klif'),
        },
    },
    {
        'id': 'kav4fs',
        'name': 'Kaspersky Anti-Virus for Linux File Server',
        'vendor': 'kaspersky',
        'kind': 'fileserver',
        'removal_order': 30,
        'linux': {
            'packages': ('kav4fs',),
            'services': ('kav4fs-supervisor',),
            'processes': ('/opt/kaspersky/kav4fs/',),
            'install_paths': ('/opt/kaspersky/kav4fs',),
            'data_paths': ('/var/opt/kaspersky/kav4fs', '/etc/opt/kaspersky/kav4fs'),
            'unit_files': ('/etc/init.d/kav4fs-supervisor',),
            # `kav4fs-control -S --app-info` [G13]
            'info_cli': {
                'argv': ('/opt/kaspersky/kav4fs/bin/kav4fs-control', '-S', '--app-info'),
                'parser': 'kesl_app_info',
            },
            'kernel_modules': (r'^kav4fs', r'^redirfs'),
        },
    },
    {
        'id': 'klnagent',
        'name': 'Kaspersky Security Center Network Agent',
        'vendor': 'kaspersky',
        'kind': 'agent',
        # Keep the agent until the endpoint product is gone [K17].
        'removal_order': 80,
        'linux': {
            'packages': ('klnagent64', 'klnagent'),
            'services': ('klnagent64', 'klnagent'),
            'processes': ('/opt/kaspersky/klnagent64/', '/opt/kaspersky/klnagent/'),
            'install_paths': ('/opt/kaspersky/klnagent64', '/opt/kaspersky/klnagent'),
            # left behind after removal [GH-idx 19445352875]
            'data_paths': ('/var/opt/kaspersky/klnagent', '/etc/opt/kaspersky/klnagent'),
            'unit_files': (
                '/lib/systemd/system/klnagent64.service',
                '/usr/lib/systemd/system/klnagent64.service',
                '/etc/systemd/system/klnagent64.service',
                '/etc/init.d/klnagent64',
                '/etc/init.d/klnagent',
            ),
            # `klnagchk` names the Administration Server [GH-idx 40721871364]
            'info_cli': {
                'argv': ('/opt/kaspersky/klnagent64/bin/klnagchk',),
                'parser': 'klnagchk',
            },
        },
    },
    {
        'id': 'kics',
        'name': 'Kaspersky Industrial CyberSecurity for Linux Nodes',
        'vendor': 'kaspersky',
        'kind': 'endpoint',
        'removal_order': 25,
        'linux': {
            'packages': ('kics',),
            'services': ('kics',),
            'processes': ('/opt/kaspersky/kics/',),
            'install_paths': ('/opt/kaspersky/kics',),
            'data_paths': ('/var/opt/kaspersky/kics',),
            'unit_files': ('/etc/init.d/kics',),
        },
    },
    {
        'id': 'kess',
        'name': 'Kaspersky Embedded Systems Security for Linux',
        'vendor': 'kaspersky',
        'kind': 'endpoint',
        'removal_order': 26,
        'linux': {
            'packages': ('kess',),
            'services': ('kess',),
            'processes': ('/opt/kaspersky/kess/',),
            'install_paths': ('/opt/kaspersky/kess',),
            'data_paths': ('/var/opt/kaspersky/kess',),
            'unit_files': ('/etc/init.d/kess',),
        },
    },
    {
        'id': 'ksc_server',
        'name': 'Kaspersky Security Center Administration Server',
        'vendor': 'kaspersky',
        'kind': 'server',
        # Removing a management server is a project of its own (databases,
        # web console): phaseout detects it and refuses to remove it.
        'removal_order': None,
        'linux': {
            'packages': ('ksc64', 'ksc-web-console'),
            'services': (
                'kladminserver_srv', 'klnagent_srv', 'kliam_srv', 'klwebsrv_srv',
                'klactprx_srv', 'klcssnmp_srv', 'KSCWebConsole', 'ksc-web-console',
            ),
            'processes': ('/opt/kaspersky/ksc64/',),
            'install_paths': ('/opt/kaspersky/ksc64', '/var/opt/kaspersky/klnagent_srv'),
            'data_paths': (),
            'unit_files': (),
        },
    },
)


def products(platform=None, vendor=None):
    """Return catalog products, optionally only those with a footprint on ``platform``."""
    result = []
    for product in PRODUCTS:
        if platform and platform not in product:
            continue
        if vendor and product['vendor'] != vendor:
            continue
        result.append(product)
    return result


def product_ids(platform=None):
    return [p['id'] for p in products(platform)]


def get_product(product_id):
    for product in PRODUCTS:
        if product['id'] == product_id:
            return product
    raise KeyError(product_id)


def removable(product):
    return product.get('removal_order') is not None
