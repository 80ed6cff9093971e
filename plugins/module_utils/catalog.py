# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The product catalog: what each banned product looks like on a host.

This file is *data*. Detection, planning and removal code reads it and never
names a product itself, so a new product, a new package name or another
vendor is an entry here, not a branch in code.

Every fact comes from a public source listed in docs/sources.md (the source keys in the
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
        # --- Windows (keys documented in plugins/module_utils/windows.py) ---
        # Any Uninstall entry, service display name or SecurityCenter2 entry naming the vendor.
        'windows_display_name': r'(?i)kaspersky',
        # Kernel drivers shared by KES, KSWS and the consumer products [GH-idx 18017466307]
        # [GH-idx 8424200291]; newer builds suffix them, e.g. KLIF.KES-14-1 [GH-idx 71065198716].
        # klhk, klgse, klbackup*, klupd_* are inferred (seen on hosts, not in a source).
        'windows_drivers': (
            r'(?i)^(klif|klflt|klfltdev|kl1|kl2|klelam|klim5|klim6|klwfp|kltdi|kneps|klpd|klmouflt|klkbdflt)(\..+)?$',
            # kldisk (Virtual Disk), kltap (TAP-Windows adapter), klkbdflt2 (Light Keyboard Device Filter), klids,
            # klgse, klhk: consumer 21.x [Antivirus Artifacts III]; klbackup*, klwtp, klpnpflt with K4W-21-25 suffixes
            # in a published driver list (tests/unit/windows/corpus/k4w21_25_driver_set_loaded.json).
            r'(?i)^(klhk|klgse|klbackupdisk|klbackupflt|klwtp|klids|klpnpflt|kldisk|kltap|klkbdflt2|cm_km)(\..+)?$',
            r'(?i)^klupd_',
            # Kaspersky Volume Shadow Copy Service Bridge 21.x (klvssbridge64_21.25) [corpus: kts21_vpn_services_only]
            r'(?i)^klvssbridge',
        ),
        # The file-system interceptor: while it is loaded, real-time file protection runs [GH-idx 71065198716].
        'windows_realtime_drivers': r'(?i)^klif(\..+)?$',
        # A Kaspersky folder in an image path, install location or uninstall string.
        'windows_image_path': r'(?i)\\kaspersky lab\\|\\kasperskylab\\',
        # Values the products add to the device-class UpperFilters/LowerFilters multi-strings:
        # mouse, keyboard and PnP device filters [GH-idx 18017466307].
        'windows_filter_drivers': r'(?i)^(klmouflt|klkbdflt2?|klfltdev|klpnpflt)(\..+)?$',
        # Root certificates for encrypted-connection scanning [GH-idx 70211245452] (subject or issuer).
        'windows_certificates': r'(?i)kaspersky',
        'windows_certificate_stores': ('LocalMachine\\Root', 'LocalMachine\\AuthRoot', 'CurrentUser\\Root'),
        # Folders any product may leave behind [GH-idx 18017466307]; environment variables are
        # expanded on the host.
        'windows_common_paths': (
            '%ProgramData%\\Kaspersky Lab',
            '%ProgramData%\\Kaspersky Lab Setup Files',
            '%ProgramFiles%\\Kaspersky Lab',
            '%ProgramFiles(x86)%\\Kaspersky Lab',
            '%ProgramFiles%\\Common Files\\Kaspersky Lab',
            '%ProgramFiles(x86)%\\Common Files\\Kaspersky Lab',
            '%ProgramData%\\KasperskyLab',
        ),
        # Registry roots the products write [G3][GH-idx 18017466307].
        'windows_registry_keys': (
            'HKLM:\\SOFTWARE\\KasperskyLab',
            'HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab',
        ),
        # Signs of Kaspersky disk or file encryption (FDE/FLE) [K42][K49]. The names are inferred:
        # a Kaspersky service or driver whose display name speaks of encryption, or an installed MSI
        # feature of a Kaspersky product named like an encryption component.
        'windows_encryption': {
            'service_display_names': r'(?i)(encrypt|chiffr|verschl|cifrad|шифр)',
            'msi_features': r'(?i)(^|[_\W])(fde|fle)([_\W]|$)|encrypt|fulldisk|filelevel',
        },
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
        'windows': {
            # EN, FR [G1][GH-idx 66248117251]; ZH seen on a host [corpus: kes14_zh_agent16]; JA and the DE term in
            # Kaspersky's own documentation [corpus: agent_ja_vendor_name][KSC 15.1 de-DE 202480]; ES, IT, NL, PT and
            # the RU form are inferred. The upgrade code, the klnagent service and klnagent.exe decide before any name.
            'display_names': (
                r'(?i)kaspersky security center.*\bnetwork agent\b',
                r'(?i)\bnetwork agent\b.*kaspersky',
                r"(?i)\bagent d.administration\b.*kaspersky",
                r'(?i)\bagente de (red|administraci[oó]n)\b.*kaspersky',
                r'(?i)kaspersky.*\b(administrations|netzwerk)agent\b|\b(administrations|netzwerk)agent\b.*kaspersky',
                r'(?i)\bagente di rete\b.*kaspersky|kaspersky.*\bagente di rete\b',
                r'(?i)\bnetwerkagent\b.*kaspersky|kaspersky.*\bnetwerkagent\b',
                r'(?i)\bagente de rede\b.*kaspersky|kaspersky.*\bagente de rede\b',
                r'(?i)агент администрирования.*kaspersky|kaspersky.*агент администрирования',
                r'(?i)kaspersky security center\s*(\d+(\.\d+)*)?\s*网络代理',
                r'(?i)kaspersky security center\s*(\d+(\.\d+)*)?\s*ネットワークエージェント',
            ),
            'image_paths': (r'(?i)\\networkagent\\',),
            'exclude_display_names': (r'(?i)\bconsole\b',),
            # KLACDT_NAGENT_MSI_UPGRCODE [GH-idx 48344747848]
            'upgrade_codes': ('{B9518725-0B76-4793-A409-C6794442FB50}',),
            # [GH-idx 6748148902][GH-idx 43229711059][GH-idx 32909857326]; the second is French [G1]
            'product_codes': (
                '{0F05E4E5-5A89-482C-9A62-47CC58643788}',
                '{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}',
                '{ED1C2D7E-5C7A-48D8-A697-57D1C080ABA7}',
                '{1A7B331A-ABBE-4230-995E-BCD99C5A18CF}',
            ),
            'services': (r'(?i)^klnagent$',),
            'drivers': (),
            'processes': ('klnagent.exe', 'vapm.exe'),
            'install_paths': (
                '%ProgramFiles(x86)%\\Kaspersky Lab\\NetworkAgent',
                '%ProgramFiles%\\Kaspersky Lab\\NetworkAgent',
            ),
            'data_paths': ('%ProgramData%\\KasperskyLab\\adminkit',),
            # The registered UninstallString is `MsiExec.exe /I{...}` (a repair) [K47]: always build /x.
            # KLUNINSTPASSWD, hex of UTF-16LE; ASCII hex in one older script [G1][GH-idx 32909857326].
            'uninstall': {
                'method': 'msi',
                'password_option': 'agent_password',
                'password_property': 'KLUNINSTPASSWD',
                'password_encoding': 'utf16le_hex',
            },
            'match_priority': 90,
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
        'windows': {
            # EN name inferred, FR/RU inferred; the upgrade code is sourced and decisive.
            'display_names': (
                r'(?i)^kaspersky security center(\s+\d+(\.\d+)*)?(\s+administration server)?$',
                r'(?i)\badministration server\b.*kaspersky|kaspersky.*\badministration server\b',
                r"(?i)\bserveur d.administration\b.*kaspersky",
                r'(?i)сервер администрирования.*kaspersky',
                r'(?i)kaspersky security center.*\bweb console\b',
            ),
            'exclude_display_names': (r'(?i)\bnetwork agent\b', r'(?i)\bagent\b'),
            # KLACDT_AK_UPGRCODE, product "1093" [GH-idx 48344747848]
            'upgrade_codes': ('{83A28D53-EEDD-49E3-AE83-C806EB513388}',),
            'product_codes': (),
            # kladminserver* and the KSN proxy ksnproxy [GH-idx 68691362272][K27]; the others inferred.
            'services': (r'(?i)^kladminserver', r'(?i)^ksnproxy$', r'(?i)^klactprx$', r'(?i)^klwebsrv',
                         r'(?i)^klcssnmp', r'(?i)^kliam', r'(?i)^KSCWebConsole'),
            'drivers': (),
            'processes': ('klserver.exe', 'klcsweb.exe', 'ksnproxy.exe', 'klactprx.exe'),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Security Center',),
            'data_paths': (),
            'uninstall': {'method': None},
            'match_priority': 80,
        },
    },
    # ---------------------------------------------------------------- Windows-only products
    {
        'id': 'kes',
        'name': 'Kaspersky Endpoint Security for Windows',
        'vendor': 'kaspersky',
        'kind': 'endpoint',
        'removal_order': 20,
        'windows': {
            # `*Kaspersky Endpoint Security*` minus agent/console/light agent [K22][G6]; any version, any
            # language ("for Windows", "pour Windows", "für Windows", "для Windows").
            'display_names': (r'(?i)^kaspersky endpoint security\b',),
            'exclude_display_names': (
                r'(?i)\bnetwork agent\b', r'(?i)\bsecurity center\b', r'(?i)\blight agent\b',
                r'(?i)\bendpoint agent\b', r'(?i)\bfor (linux|mac)\b',
            ),
            'upgrade_codes': (),
            # KES 12.9 documentation example and two community codes [K22][GH-idx 6748148902][GH-idx 14653831246]
            'product_codes': (
                '{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}',
                '{C9EF800D-54AA-4F60-AB96-5A3966550F53}',
                '{04CF7FBD-E56C-446D-8FC9-DD444BDBEE8E}',
            ),
            # AVP [GH-idx 70233407126]; AVP.KES.14.1 and the updater avpsus.KES.14.1 [corpus: kes14_avp_stopped...].
            'services': (r'(?i)^avp(\.kes.*)?$', r'(?i)^avpsus(\.kes.*)?$'),
            'realtime_services': (r'(?i)^avp(\.kes.*)?$',),
            # Driver services with the product suffix of newer builds: KLIF.KES-14-1 [GH-idx 71065198716].
            'driver_suffixes': (r'(?i)\.kes[-.]\d',),
            'image_paths': (r'(?i)\\kaspersky endpoint security',),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe', 'avpsus.exe', 'kavtray.exe'),
            'install_paths': (
                '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Endpoint Security for Windows',
                '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Endpoint Security 11',
                '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Endpoint Security 12',
                '%ProgramFiles%\\Kaspersky Lab\\Kaspersky Endpoint Security for Windows',
            ),
            'data_paths': (),
            # The shared kernel drivers, device filters and root certificates belong to it while installed.
            'owns_shared': True,
            # msiexec /x {code} KLLOGIN=<user> KLPASSWD=<password> [K22][G1]
            'uninstall': {
                'method': 'msi',
                'password_option': 'kes_password',
                'login_option': 'kes_login',
                'login_property': 'KLLOGIN',
                'password_property': 'KLPASSWD',
            },
            'match_priority': 50,
        },
    },
    {
        'id': 'ksws',
        'name': 'Kaspersky Security for Windows Server',
        'vendor': 'kaspersky',
        'kind': 'fileserver',
        'removal_order': 30,
        'windows': {
            # Names inferred: "Kaspersky Security 11 for Windows Server", "Kaspersky Anti-Virus 8.0 for
            # Windows Servers Enterprise Edition", "Kaspersky Embedded Systems Security".
            'display_names': (
                r'(?i)^kaspersky (security|anti-virus)\b.*\bwindows servers?\b',
                r'(?i)^kaspersky embedded systems security\b',
            ),
            # The separately installed console is "... for Windows Server Administration Tools" [corpus: ksws11_with_admin_tools_and_agent].
            'exclude_display_names': (r'(?i)\bconsole\b', r'(?i)\bkonsole\b', r'(?i)\badministration tools\b'),
            # KAVFS6, KAVFSEE 6, Fileserver 5 [GH-idx 48344747848]
            'upgrade_codes': (
                '{30100296-AE0A-455D-874F-F4B417F578C3}',
                '{53650C4C-C3AF-4AF1-A8D3-1D4669750322}',
                '{0C60718E-84F0-4BE1-BA71-978235450926}',
            ),
            'product_codes': (),
            # [GH-idx 51857628934][GH-idx 55452101496][GH-idx 61302432969]
            'services': (r'(?i)^(kavfs|kavfsgt|kavfsslp|kavfsmui|kavfsrcn|kavfswh)$',),
            # Kaspersky Security Service (KAVFS) [K: KSWS 11.0.1 146612]
            'realtime_services': (r'(?i)^kavfs$',),
            'image_paths': (r'(?i)\\kaspersky security for windows server\\', r'(?i)\\kaspersky embedded systems security\\'),
            'drivers': (),
            'processes': ('kavfs.exe', 'kavfswp.exe', 'kavfsgt.exe', 'kavfswh.exe', 'kavfsslp.exe',
                          'kavfsrcn.exe', 'kavtray.exe'),
            'install_paths': (
                '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Security for Windows Server',
                '%ProgramFiles%\\Kaspersky Lab\\Kaspersky Security for Windows Server',
            ),
            'data_paths': (),
            'owns_shared': True,
            # The KSWS uninstall-password property was not found [K39]: a protected KSWS fails with 1603.
            'uninstall': {'method': 'msi'},
            'match_priority': 60,
        },
    },
    {
        'id': 'endpoint_agent',
        'name': 'Kaspersky Endpoint Agent',
        'vendor': 'kaspersky',
        'kind': 'edr',
        'removal_order': 60,
        'windows': {
            'display_names': (r'(?i)^kaspersky endpoint agent\b',),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            # Its service name was not found in a source; the Uninstall entry and folder identify it.
            'services': (),
            'drivers': (),
            'processes': (),
            # [K41]
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Endpoint Agent',),
            'image_paths': (r'(?i)\\kaspersky lab\\endpoint agent\\',),
            'data_paths': (),
            # msiexec /x {GUID} /quiet /norestart [G8]
            'uninstall': {'method': 'msi'},
            'match_priority': 70,
        },
    },
    {
        'id': 'ksc_console',
        'name': 'Kaspersky Security Center Administration Console',
        'vendor': 'kaspersky',
        'kind': 'console',
        'removal_order': 90,
        'windows': {
            # `*Console*Kaspersky Security Center*` [G1]; EN/RU word orders inferred.
            'display_names': (
                r'(?i)\bconsole\b.*kaspersky security center',
                r'(?i)kaspersky security center.*\b(administration )?console\b',
                r'(?i)консоль администрирования.*kaspersky',
            ),
            'exclude_display_names': (r'(?i)\bweb console\b',),
            'upgrade_codes': (),
            # French console [G1]
            'product_codes': ('{5D35D57A-30B9-493B-819F-C6C2181A0A1A}',),
            'services': (),
            'drivers': (),
            'processes': (),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Security Center Console',),
            'data_paths': (),
            'uninstall': {'method': 'msi'},
            'match_priority': 85,
        },
    },
    {
        'id': 'ksws_console',
        'name': 'Kaspersky Security for Windows Server Administration Tools',
        'vendor': 'kaspersky',
        'kind': 'console',
        'removal_order': 90,
        'windows': {
            # Installed apart from KSWS [corpus: ksws11_with_admin_tools_and_agent]; an MSI like the server product.
            'display_names': (r'(?i)^kaspersky (security|anti-virus)\b.*\bwindows servers?\b.*\b(administration tools|console)\b',),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            'services': (),
            'drivers': (),
            'processes': (),
            'install_paths': (),
            'data_paths': (),
            'uninstall': {'method': 'msi'},
            'match_priority': 65,
        },
    },
    # Consumer products: names per [K19][K43]; exact DisplayName strings inferred, so matched loosely.
    # Old workstation upgrade codes WKS5/WKS6/WKS4.6 and SOS6 [GH-idx 48344747848].
    {
        'id': 'kav',
        'name': 'Kaspersky Anti-Virus',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 40,
        'windows': {
            'display_names': (r'(?i)^kaspersky anti-virus\b',),
            'exclude_display_names': (r'(?i)\bwindows servers?\b', r'(?i)\bfile ?servers?\b'),
            'upgrade_codes': (
                '{05986875-CEDD-4E38-B2C6-359E2ED96860}',
                '{0C73B606-17D8-4EFC-A8FB-9C37F35402BE}',
                '{7AA5BE00-0A3C-4D6A-98CA-5A365D064DF5}',
            ),
            'product_codes': (),
            # AVP<version>, e.g. AVP21.3 (inferred)
            'services': (r'(?i)^avp\d+(\.\d+)*$',),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe'),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Anti-Virus',),
            'data_paths': (),
            'realtime_services': (r'(?i)^avp\d+(\.\d+)*$',),
            # The install folder in an image path (services, processes, Uninstall entries) [Antivirus Artifacts III].
            'image_paths': (r'(?i)\\kaspersky anti-virus( \d+(\.\d+)*)?\\',),
            'owns_shared': True,
            'uninstall': {'method': 'msi'},
            'match_priority': 40,
        },
    },
    {
        'id': 'kis',
        'name': 'Kaspersky Internet Security',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 40,
        'windows': {
            'display_names': (r'(?i)^kaspersky internet security\b',),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            'services': (r'(?i)^avp\d+(\.\d+)*$',),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe'),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Internet Security',),
            'data_paths': (),
            'realtime_services': (r'(?i)^avp\d+(\.\d+)*$',),
            # The install folder in an image path (services, processes, Uninstall entries) [Antivirus Artifacts III].
            'image_paths': (r'(?i)\\kaspersky internet security( \d+(\.\d+)*)?\\',),
            'owns_shared': True,
            'uninstall': {'method': 'msi'},
            'match_priority': 40,
        },
    },
    {
        'id': 'kts',
        'name': 'Kaspersky Total Security',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 40,
        'windows': {
            'display_names': (r'(?i)^kaspersky total security\b',),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            'services': (r'(?i)^avp\d+(\.\d+)*$',),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe'),
            # [GH-idx 37727576658]
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Total Security',),
            'data_paths': (),
            'realtime_services': (r'(?i)^avp\d+(\.\d+)*$',),
            # The install folder in an image path (services, processes, Uninstall entries) [Antivirus Artifacts III].
            'image_paths': (r'(?i)\\kaspersky total security( \d+(\.\d+)*)?\\',),
            'owns_shared': True,
            'uninstall': {'method': 'msi'},
            'match_priority': 40,
        },
    },
    {
        'id': 'kscloud',
        'name': 'Kaspersky Security Cloud / Kaspersky Free',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 40,
        'windows': {
            'display_names': (r'(?i)^kaspersky security cloud\b', r'(?i)^kaspersky free\b'),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            'services': (r'(?i)^avp\d+(\.\d+)*$',),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe'),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Security Cloud',
                              '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Free'),
            'data_paths': (),
            'realtime_services': (r'(?i)^avp\d+(\.\d+)*$',),
            # The install folder in an image path (services, processes, Uninstall entries) [Antivirus Artifacts III].
            'image_paths': (r'(?i)\\kaspersky (security cloud|free)( \d+(\.\d+)*)?\\',),
            'owns_shared': True,
            'uninstall': {'method': 'msi'},
            'match_priority': 40,
        },
    },
    {
        'id': 'ksos',
        'name': 'Kaspersky Small Office Security',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 40,
        'windows': {
            'display_names': (r'(?i)^kaspersky small office security\b',),
            'exclude_display_names': (),
            'upgrade_codes': ('{E1712E93-464B-4199-BF1B-72F8E407A312}',),
            'product_codes': (),
            'services': (r'(?i)^avp\d+(\.\d+)*$', r'(?i)^ksos'),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe'),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Small Office Security',),
            'data_paths': (),
            'realtime_services': (r'(?i)^avp\d+(\.\d+)*$',),
            # The install folder in an image path (services, processes, Uninstall entries) [Antivirus Artifacts III].
            'image_paths': (r'(?i)\\kaspersky small office security( \d+(\.\d+)*)?\\',),
            'owns_shared': True,
            'uninstall': {'method': 'msi'},
            'match_priority': 40,
        },
    },
    {
        'id': 'kplus',
        'name': 'Kaspersky Standard / Plus / Premium',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 40,
        'windows': {
            'display_names': (r'(?i)^kaspersky (basic|standard|plus|premium)\b',),
            # Kaspersky for Windows 21.x builds suffix every driver K4W-21-<n> (KLIF.K4W-21-24, klids.K4W-21-25)
            # [corpus: k4w21_*, kstandard_k4w21_26_arkmon: "Kaspersky Standard: K4W-21-26"].
            'driver_suffixes': (r'(?i)k4w-21',),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            'services': (r'(?i)^avp\d+(\.\d+)*$',),
            'drivers': (),
            'processes': ('avp.exe', 'avpui.exe'),
            'install_paths': ('%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Plus',
                              '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Standard',
                              '%ProgramFiles(x86)%\\Kaspersky Lab\\Kaspersky Premium'),
            'data_paths': (),
            'realtime_services': (r'(?i)^avp\d+(\.\d+)*$',),
            # The install folder in an image path (services, processes, Uninstall entries) [Antivirus Artifacts III].
            'image_paths': (r'(?i)\\kaspersky (basic|standard|plus|premium)( \d+(\.\d+)*)?\\',),
            'owns_shared': True,
            'uninstall': {'method': 'msi'},
            'match_priority': 40,
        },
    },
    {
        'id': 'kaspersky_addons',
        'name': 'Kaspersky consumer add-ons (Secure Connection / VPN, Password Manager, Safe Kids)',
        'vendor': 'kaspersky',
        'kind': 'consumer',
        'removal_order': 45,
        'windows': {
            'display_names': (
                r'(?i)^kaspersky (vpn )?secure connection\b',
                r'(?i)^kaspersky password manager\b',
                r'(?i)^kaspersky safe kids\b',
            ),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            # ksde / ksdeui: Secure Connection (inferred)
            'services': (r'(?i)^ksde\d*(\.\d+)*$',),
            'drivers': (),
            'processes': ('ksde.exe', 'ksdeui.exe', 'kpm.exe'),
            'image_paths': (r'(?i)\\kaspersky (vpn|secure connection|password manager|safe kids)( \d+(\.\d+)*)?\\',),
            'install_paths': (),
            'data_paths': (),
            'uninstall': {'method': 'msi'},
            'match_priority': 45,
        },
    },
    {
        # Catch-all so an unknown Kaspersky product (Light Agent, a new brand name...) is reported as
        # installed instead of being missed. phaseout never removes it: add a catalog entry first.
        'id': 'kaspersky_other',
        'name': 'Other Kaspersky product',
        'vendor': 'kaspersky',
        'kind': 'other',
        'removal_order': None,
        'windows': {
            'display_names': (r'(?i)kaspersky',),
            'publishers': (r'(?i)kaspersky',),
            'exclude_display_names': (),
            'upgrade_codes': (),
            'product_codes': (),
            'services': (),
            'drivers': (),
            'processes': (),
            'install_paths': (),
            'data_paths': (),
            'uninstall': {'method': None},
            'match_priority': 0,
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


def verdict(entries, leftovers):
    """(installed ids, residue ids, verdict) of a host from its product entries and leftovers."""
    installed = [e['id'] for e in entries if e['state'] == 'installed']
    residue = [e['id'] for e in entries if e['state'] == 'residue']
    if installed:
        return installed, residue, 'installed'
    if residue or leftovers:
        return installed, residue, 'residue'
    return installed, residue, 'clean'


def entry_header(product, state):
    """The keys every detected product entry starts with, on every platform."""
    return {
        'id': product['id'],
        'name': product['name'],
        'vendor': product['vendor'],
        'kind': product['kind'],
        'state': state,
        'removable': removable(product),
        'removal_order': product.get('removal_order'),
    }
