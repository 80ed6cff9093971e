# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Windows detection: turn the collector's raw data into the kaspersky_info result.

The remote side (``plugins/modules/win_kaspersky_collect.ps1``) is a thin, read-only
collector: it is told *what* to look for (patterns built here from the catalog) and
returns raw registry, service, certificate and Defender data. Every decision, which
product an Uninstall entry belongs to, whether a driver is residue, what the verdict is,
is made here, on the controller, where the unit tests reach it.

Windows footprint keys of a catalog product (``product['windows']``)
--------------------------------------------------------------------
display_names          regexes (``re.search``) for the Uninstall ``DisplayName``, any locale
exclude_display_names  regexes that veto a display-name match (Network Agent vs KES...)
publishers             regexes for the Uninstall ``Publisher`` (used by the catch-all only)
upgrade_codes          MSI UpgradeCodes ``{GUID}``; a product related to one is decisive
product_codes          known MSI ProductCodes ``{GUID}``; decisive
services               regexes for Win32 service names (SCM / ``HKLM\\SYSTEM\\...\\Services``)
drivers                regexes for kernel / file-system driver service names of this product only
processes              image names (``avp.exe``), compared case-insensitively
install_paths          folders, with ``%ProgramFiles%``-style variables expanded on the host
data_paths             folders the product writes and leaves behind
owns_shared            True when the vendor-wide drivers, device filters and root certificates
                       belong to this product while it is installed (KES, KSWS, consumer)
uninstall              ``{'method': 'msi' | None, ...}``; for password-protected products:
                       ``password_option`` (the module option holding the secret: kes_password,
                       agent_password), ``password_property`` (KLPASSWD, KLUNINSTPASSWD),
                       ``password_encoding`` (``plain`` default, ``utf16le_hex``), and optionally
                       ``login_option`` / ``login_property`` (kes_login / KLLOGIN)
match_priority         when several products match one display name the highest wins
                       (catch-all ``kaspersky_other`` is 0)

The product-level ``removal_order`` (lower first) and ``kind`` are shared with Linux:
endpoint products first, then the Endpoint Agent, then the Network Agent, then the
console; a product whose removal_order is None (Administration Server, the catch-all) is
reported and never removed.

Vendor keys (``VENDORS[vendor]``) used on Windows
-------------------------------------------------
windows_display_name / windows_publisher  regex naming the vendor in an Uninstall entry,
                                          a service display name or a SecurityCenter2 entry
windows_drivers            regexes of kernel drivers shared by the vendor's products
windows_filter_drivers     regex of the values the products add to device-class
                           UpperFilters / LowerFilters
windows_certificates       regex for the subject or issuer of the vendor's root certificates
windows_certificate_stores stores searched (``LocalMachine\\Root``...)
windows_common_paths       folders any product may leave behind
windows_registry_keys      registry roots the products write
windows_encryption         ``service_display_names`` / ``msi_features`` regexes that reveal
                           the vendor's disk or file encryption
"""

from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import contain

PLATFORM = 'windows'
COLLECTOR_MODULE = 'phaseout.antivirus.win_kaspersky_collect'
RESIDUE_MODULE = 'phaseout.antivirus.win_kaspersky_residue'
DEFENDER_STATUS_MODULE = 'phaseout.antivirus.win_defender_status'
# The firewall group of the contain role's Windows rules (roles/contain/vars/main.yml, __contain_windows_group);
# the collector lists its enabled block rules for the containment check.
CONTAIN_FIREWALL_GROUP = 'phaseout contain'
# The contain role's record on the host, as the collector resolves it (%ProgramData% read on the host).
CONTAIN_STATE_FILE = '%ProgramData%\\phaseout\\contain.json'

_GUID_RE = re.compile(r'^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$')
_PACKED_RE = re.compile(r'^[0-9A-Fa-f]{32}$')

# Registry service Type values: 1 kernel driver, 2 file-system driver, 8 recognizer driver.
DRIVER_TYPES = (1, 2, 8)
START_MODES = {0: 'boot', 1: 'system', 2: 'auto', 3: 'manual', 4: 'disabled'}
PRODUCT_TYPES = {1: 'workstation', 2: 'dc', 3: 'server'}


# --------------------------------------------------------------------------- GUIDs


def is_guid(value):
    return bool(value) and bool(_GUID_RE.match(value))


def normalize_guid(value):
    """Return ``{XXXXXXXX-...}`` upper-case, or None when ``value`` is not a GUID."""
    if not value:
        return None
    text = value.strip()
    if not text.startswith('{'):
        text = '{%s}' % text
    return text.upper() if is_guid(text) else None


def pack_guid(guid):
    """Windows Installer's "packed" (compressed) form of a GUID, as used under
    ``HKLM\\SOFTWARE\\Classes\\Installer``: the first three groups reversed, then every
    byte of the last two groups with its nibbles swapped."""
    norm = normalize_guid(guid)
    if not norm:
        raise ValueError('not a GUID: %r' % (guid,))
    hexa = norm.strip('{}').replace('-', '')
    parts = [hexa[0:8][::-1], hexa[8:12][::-1], hexa[12:16][::-1]]
    parts.extend(hexa[i:i + 2][::-1] for i in range(16, 32, 2))
    return ''.join(parts)


def unpack_guid(packed):
    """Inverse of :func:`pack_guid`."""
    if not packed or not _PACKED_RE.match(packed):
        raise ValueError('not a packed GUID: %r' % (packed,))
    text = packed.upper()
    rest = ''.join(text[i:i + 2][::-1] for i in range(16, 32, 2))
    return '{%s-%s-%s-%s-%s}' % (text[0:8][::-1], text[8:12][::-1], text[12:16][::-1], rest[0:4], rest[4:16])


# --------------------------------------------------------------------------- patterns


def _strip_flags(pattern):
    return pattern[4:] if pattern.startswith('(?i)') else pattern


def combine(patterns):
    """One case-insensitive alternation of ``patterns`` (valid for Python and .NET)."""
    patterns = [p for p in patterns if p]
    if not patterns:
        return None
    return '(?i)' + '|'.join('(?:%s)' % _strip_flags(p) for p in patterns)


def _search_any(patterns, text):
    if not text:
        return False
    return any(re.search(rx, text) for rx in patterns)


def _windows_products(vendor):
    return catalog.products(PLATFORM, vendor)


def collector_args(vendor='kaspersky'):
    """Module arguments of the collector: what to look for, all derived from the catalog."""
    vendor_data = catalog.VENDORS[vendor]
    products = _windows_products(vendor)
    names = [vendor_data['windows_display_name']]
    services = list(vendor_data.get('windows_drivers', ()))
    processes = set()
    paths = list(vendor_data.get('windows_common_paths', ()))
    upgrade_codes = set()
    for product in products:
        win = product[PLATFORM]
        names.extend(win.get('display_names', ()))
        services.extend(win.get('services', ()))
        services.extend(win.get('drivers', ()))
        processes.update(p.lower() for p in win.get('processes', ()))
        for path in tuple(win.get('install_paths', ())) + tuple(win.get('data_paths', ())):
            if path not in paths:
                paths.append(path)
        upgrade_codes.update(normalize_guid(c) for c in win.get('upgrade_codes', ()))
    return {
        'display_name_pattern': combine(names),
        'publisher_pattern': vendor_data.get('windows_publisher'),
        'service_pattern': combine(services),
        'service_display_pattern': vendor_data['windows_display_name'],
        'filter_pattern': vendor_data.get('windows_filter_drivers'),
        'certificate_pattern': vendor_data.get('windows_certificates'),
        'certificate_stores': list(vendor_data.get('windows_certificate_stores', ())),
        'process_names': sorted(p[:-4] if p.endswith('.exe') else p for p in processes),
        'upgrade_codes': sorted(pack_guid(c) for c in upgrade_codes if c),
        'paths': paths,
        'registry_keys': list(vendor_data.get('windows_registry_keys', ())),
        'contain_group': CONTAIN_FIREWALL_GROUP,
    }


# --------------------------------------------------------------------------- classification


def _entry_code(entry):
    return normalize_guid(entry.get('key'))


_MSIEXEC_RE = re.compile(r'(?i)msiexec(\.exe)?"?\s+.*?/[xi]\s*"?(\{[0-9A-F-]{36}\})')


def _text_hits(patterns, *texts):
    return any(_search_any(patterns, t) for t in texts if t)


def match_entry(entry, products, upgrade_of, msi_codes=()):
    """Return the catalog product an Uninstall entry (or a SecurityCenter2 / MSI registration shaped
    like one) belongs to, or None.

    Order of trust: the MSI ProductCode, the UpgradeCode it is related to, the product folder in its
    install location or uninstall string, the display name (any locale), the publisher (catch-all).
    """
    code = _entry_code(entry)
    if code:
        for product in products:
            known = {normalize_guid(c) for c in product[PLATFORM].get('product_codes', ())}
            if code in known:
                return product
        upgrade = upgrade_of.get(code)
        if upgrade:
            for product in products:
                known = {normalize_guid(c) for c in product[PLATFORM].get('upgrade_codes', ())}
                if upgrade in known:
                    return product
    name = entry.get('display_name') or ''
    publisher = entry.get('publisher') or ''
    located = [p for p in products
               if _text_hits(p[PLATFORM].get('image_paths', ()), entry.get('install_location'),
                             entry.get('uninstall_string'), entry.get('path'))]
    if len(located) == 1:
        return located[0]
    candidates = []
    for product in products:
        win = product[PLATFORM]
        hit = _search_any(win.get('display_names', ()), name) or _search_any(win.get('publishers', ()), publisher)
        if hit and not _search_any(win.get('exclude_display_names', ()), name):
            candidates.append(product)
    if not candidates:
        return located[0] if located else None
    return max(candidates, key=lambda p: p[PLATFORM].get('match_priority', 50))


def msi_evidence(entry, msi_codes=()):
    """(is MSI, product code, why) of an Uninstall entry, in order of trust: the WindowsInstaller value,
    an ``msiexec /x|/i {GUID}`` UninstallString, Windows Installer's own product list."""
    code = _entry_code(entry)
    if entry.get('windows_installer') in (1, True, '1') and code:
        return True, code, 'WindowsInstaller'
    match = _MSIEXEC_RE.search(entry.get('uninstall_string') or '')
    if match:
        return True, normalize_guid(match.group(2)), 'UninstallString'
    if code and code in msi_codes:
        return True, code, 'Windows Installer product list'
    return False, code, None


def _service_record(raw):
    start = raw.get('start')
    state = raw.get('state')
    return {
        'name': raw.get('name'),
        'display_name': raw.get('display_name'),
        'state': state.lower() if isinstance(state, str) else None,
        'start_mode': START_MODES.get(start, str(start) if start is not None else None),
        'enabled': start is not None and start != 4,
        'active': isinstance(state, str) and state.lower() in ('running', 'start_pending', 'startpending'),
        'driver': raw.get('type') in DRIVER_TYPES,
        'type': raw.get('type'),
        'image_path': raw.get('image_path'),
        'delete_pending': bool(raw.get('delete_pending')),
    }


def _claims(product, svc):
    win = product[PLATFORM]
    return (_search_any(win.get('services', ()), svc['name']) or _search_any(win.get('drivers', ()), svc['name'])
            or _search_any(win.get('driver_suffixes', ()), svc['name']))


def _owner_of_service(svc, products, established=()):
    """The product a service or driver belongs to: the product folder in its image path, the product
    suffix of its name (KLIF.KES-14-1, klids.K4W-21-25), its display name, then its name (an
    established product first: ``AVP21.3`` fits every consumer product)."""
    if isinstance(svc, str):
        svc = {'name': svc}
    located = [p for p in products if _text_hits(p[PLATFORM].get('image_paths', ()), svc.get('image_path'))]
    if len(located) == 1:
        return located[0]
    suffixed = [p for p in products if _search_any(p[PLATFORM].get('driver_suffixes', ()), svc['name'] or '')]
    if suffixed:
        return suffixed[0]
    claims = [p for p in products if _claims(p, svc)]
    named = [p for p in claims if _search_any(p[PLATFORM].get('display_names', ()), svc.get('display_name') or '')
             and not _search_any(p[PLATFORM].get('exclude_display_names', ()), svc.get('display_name') or '')]
    for group in (named, claims):
        for product in group:
            if product['id'] in established:
                return product
        if group:
            return group[0]
    return None


def _path_owner(template, products):
    for product in products:
        win = product[PLATFORM]
        if template in tuple(win.get('install_paths', ())) + tuple(win.get('data_paths', ())):
            return product
    return None


def security_center_state(product_state):
    """Decode a SecurityCenter2 ``productState``: (enabled, up_to_date)."""
    if product_state is None:
        return None, None
    state = int(product_state)
    realtime = (state >> 8) & 0xFF
    signatures = state & 0xFF
    return realtime in (0x10, 0x11), signatures == 0x00


def _os_info(raw_os):
    raw_os = raw_os or {}
    product_type = raw_os.get('product_type')
    return {
        'product_type': PRODUCT_TYPES.get(product_type, 'unknown'),
        'caption': raw_os.get('caption'),
        'version': raw_os.get('version'),
        'build': raw_os.get('build'),
        'architecture': raw_os.get('architecture'),
        'is_server': product_type in (2, 3),
    }


def pending_reboot(raw_pending, vendor='kaspersky'):
    raw_pending = raw_pending or {}
    reasons = []
    for key in ('component_based_servicing', 'windows_update', 'pending_file_rename', 'computer_rename'):
        if raw_pending.get(key):
            reasons.append(key)
    vendor_rx = catalog.VENDORS[vendor]['windows_display_name']
    vendor_files = [f for f in raw_pending.get('file_rename_entries') or () if re.search(vendor_rx, f or '')]
    return {'pending': bool(reasons), 'reasons': reasons, 'vendor_files': vendor_files}


def encryption_evidence(raw, vendor='kaspersky'):
    """Signs that the vendor's disk or file encryption is in use."""
    vendor_data = catalog.VENDORS[vendor]
    enc = vendor_data.get('windows_encryption') or {}
    vendor_rx = vendor_data['windows_display_name']
    evidence = []
    svc_rx = enc.get('service_display_names')
    for svc in raw.get('services') or ():
        text = svc.get('display_name') or ''
        if svc_rx and re.search(svc_rx, text) and re.search(vendor_rx, text):
            evidence.append('service %s (%s)' % (svc.get('name'), text))
    feat_rx = enc.get('msi_features')
    for product in raw.get('msi_products') or ():
        for feature in product.get('features') or ():
            name = feature.get('name') if isinstance(feature, dict) else feature
            installed = feature.get('installed', True) if isinstance(feature, dict) else True
            if feat_rx and name and installed and re.search(feat_rx, name):
                evidence.append('msi feature %s of %s' % (name, product.get('product_name')))
    return {'detected': bool(evidence), 'evidence': evidence}


def vendor_service_patterns(vendor='kaspersky'):
    """Every service and driver name pattern of the vendor (products and vendor-wide drivers)."""
    patterns = list(catalog.VENDORS[vendor].get('windows_drivers', ()))
    for product in _windows_products(vendor):
        win = product[PLATFORM]
        patterns.extend(win.get('services', ()))
        patterns.extend(win.get('drivers', ()))
    return patterns


def _is_vendor_service(raw_svc, vendor_data, service_rx):
    """Re-check a service the collector returned: its name is the vendor's, or its display name or
    image path names the vendor. Anything else (another vendor's agent) is ignored."""
    return (_search_any(service_rx, raw_svc.get('name') or '')
            or bool(re.search(vendor_data['windows_display_name'], raw_svc.get('display_name') or ''))
            or bool(re.search(vendor_data['windows_image_path'], raw_svc.get('image_path') or '')))


def _unpacked_upgrades(raw):
    upgrade_of = {}
    for packed_upgrade, packed_products in (raw.get('upgrade_codes') or {}).items():
        try:
            upgrade = unpack_guid(packed_upgrade)
        except ValueError:
            continue
        for packed in packed_products or ():
            try:
                upgrade_of[unpack_guid(packed)] = upgrade
            except ValueError:
                continue
    return upgrade_of


def _msi_registrations(raw):
    out = []
    for msi in raw.get('msi_products') or ():
        try:
            code = unpack_guid(msi.get('packed_code'))
        except ValueError:
            continue
        out.append(dict(msi, product_code=code))
    return out


def classify(raw, vendor='kaspersky', assume_removed=()):
    """Classify the collector's output into the kaspersky_info result.

    Every signal counts: Uninstall entries, Windows Installer's own registrations, services and
    drivers (name, display name, image path, state), device-class filters, running processes,
    SecurityCenter2 products, folders. A product is ``installed`` when anything of it is active
    (a running service, a loaded driver, a running process, an enabled SecurityCenter2 entry) or
    registered as installed (an Uninstall entry or a Windows Installer registration); ``residue``
    when traces are left and nothing of it runs or registers it. Attribution: product or upgrade
    code first, then the product folder in an image path and the display name, then the name.

    ``assume_removed`` lists product ids to treat as already uninstalled: used to predict the
    residue a removal leaves (the uninstaller takes its own services, drivers and filters;
    vendor-wide traces stay when nothing of the vendor remains installed).
    """
    from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender, windows_journal
    from ansible_collections.phaseout.antivirus.plugins.module_utils.linux import protection_summary

    vendor_data = catalog.VENDORS[vendor]
    products = _windows_products(vendor)
    by_id = {p['id']: p for p in products}
    assume_removed = set(assume_removed or ())
    upgrade_of = _unpacked_upgrades(raw)
    registrations = _msi_registrations(raw)
    msi_codes = {r['product_code'] for r in registrations}
    vendor_rx = vendor_data['windows_display_name']
    service_rx = vendor_service_patterns(vendor)

    # --- Uninstall entries -> products
    entries_by_product = {}
    seen = set()
    for entry in raw.get('uninstall') or ():
        identity = (entry.get('key'), entry.get('display_name'))
        if identity in seen:
            continue
        seen.add(identity)
        product = match_entry(entry, products, upgrade_of)
        if product is not None:
            entries_by_product.setdefault(product['id'], []).append(entry)
    uninstall_codes = set()
    for entries in entries_by_product.values():
        for entry in entries:
            uninstall_codes.add(msi_evidence(entry, msi_codes)[1])

    # --- Windows Installer registrations without an Uninstall entry (hidden or broken entry)
    registered_by_product = {}
    for msi in registrations:
        if msi['product_code'] in uninstall_codes:
            continue
        product = match_entry({'key': msi['product_code'], 'display_name': msi.get('product_name')}, products, upgrade_of)
        if product is not None and product['id'] != 'kaspersky_other':
            registered_by_product.setdefault(product['id'], []).append(msi)

    # --- SecurityCenter2
    security_center = []
    sc_by_product = {}
    for item in raw.get('security_center') or ():
        enabled, up_to_date = security_center_state(item.get('product_state'))
        record = {
            'display_name': item.get('display_name'),
            'product_state': item.get('product_state'),
            'enabled': enabled,
            'up_to_date': up_to_date,
            'path': item.get('path'),
            'instance_guid': item.get('instance_guid'),
            'vendor': bool(re.search(vendor_rx, item.get('display_name') or '')),
        }
        security_center.append(record)
        if record['vendor'] and enabled:
            product = match_entry({'display_name': record['display_name'], 'path': record['path']}, products, {})
            if product is not None:
                sc_by_product.setdefault(product['id'], []).append(record)

    established = set(entries_by_product) | set(registered_by_product) | set(sc_by_product)

    # --- services and drivers (re-checked: other vendors' agents are ignored)
    services_by_product = {}
    vendor_drivers = []
    unowned_services = []
    shared_driver_rx = vendor_data.get('windows_drivers', ())
    for raw_svc in raw.get('services') or ():
        if not _is_vendor_service(raw_svc, vendor_data, service_rx):
            continue
        svc = _service_record(raw_svc)
        owner = _owner_of_service(svc, products, established)
        if owner is not None:
            services_by_product.setdefault(owner['id'], []).append(svc)
            if svc['active']:
                established.add(owner['id'])
        elif _search_any(shared_driver_rx, svc['name']):
            vendor_drivers.append(svc)
        else:
            unowned_services.append(svc)

    # --- processes: the product already established first, then the folder of the image, then the name
    processes_by_product = {}
    unowned_processes = []
    for proc in raw.get('processes') or ():
        image = (proc.get('name') or '').lower()
        if not image.endswith('.exe'):
            image += '.exe'
        record = {'pid': proc.get('pid'), 'name': image, 'path': proc.get('path')}
        listing = [p for p in products if image in {x.lower() for x in p[PLATFORM].get('processes', ())}]
        if not listing:
            continue
        owner = next((p for p in listing if p['id'] in established), None)
        if owner is None:
            owner = next((p for p in listing if _text_hits(p[PLATFORM].get('image_paths', ()), record['path'])), None)
        if owner is None:
            owner = next((p for p in listing if services_by_product.get(p['id'])), listing[0])
        processes_by_product.setdefault(owner['id'], []).append(record)
        established.add(owner['id'])

    # --- paths
    paths_by_product = {}
    vendor_paths = []
    for item in raw.get('paths') or ():
        owner = _path_owner(item.get('template'), products)
        if owner is None:
            vendor_paths.append(item['path'])
        else:
            paths_by_product.setdefault(owner['id'], []).append(item['path'])

    filters = _filter_hits(raw.get('filters') or (), vendor_data.get('windows_filter_drivers'))
    filter_owner = {}
    for hit in filters:
        owner = next((p for p in products if _search_any(p[PLATFORM].get('driver_suffixes', ()), hit['name'])), None)
        if owner is not None:
            filter_owner.setdefault(owner['id'], []).append(hit)

    # Vendor-wide drivers that run while no product claims them: an unknown Kaspersky product runs.
    shared_active = [s for s in vendor_drivers if s['active']]

    def state_of(pid):
        svcs = services_by_product.get(pid, [])
        active = (any(s['active'] for s in svcs) or processes_by_product.get(pid) or sc_by_product.get(pid)
                  or any(_filter_driver_active(h, svcs) for h in filter_owner.get(pid, ())))
        registered = entries_by_product.get(pid) or registered_by_product.get(pid)
        if active or registered:
            return 'installed'
        if svcs or paths_by_product.get(pid) or filter_owner.get(pid):
            return 'residue'
        return None

    states = {p['id']: state_of(p['id']) for p in products}
    installed_ids = [pid for pid, st in states.items() if st == 'installed' and pid not in assume_removed]
    if shared_active and not any(by_id[pid][PLATFORM].get('owns_shared') for pid in installed_ids) \
            and not any(by_id[pid][PLATFORM].get('owns_shared') for pid in assume_removed if states.get(pid) == 'installed'):
        states['kaspersky_other'] = 'installed'
        installed_ids.append('kaspersky_other')
    installed_products = [p for p in products if p['id'] in installed_ids]
    shared_owner = next((p for p in sorted(installed_products, key=lambda p: p.get('removal_order') or 999)
                         if p[PLATFORM].get('owns_shared')), None)
    if shared_owner is None and 'kaspersky_other' in installed_ids and shared_active:
        shared_owner = by_id['kaspersky_other']
    vendor_installed = bool(installed_ids)
    removed_shared_owner = any(by_id[pid][PLATFORM].get('owns_shared')
                               for pid in assume_removed if states.get(pid) == 'installed')

    # --- products
    result_products = []
    leftovers = []
    for product in products:
        pid = product['id']
        if pid in assume_removed or not states.get(pid):
            continue
        state = states[pid]
        win = product[PLATFORM]
        entries = entries_by_product.get(pid, [])
        svcs = services_by_product.get(pid, [])
        procs = processes_by_product.get(pid, [])
        paths = paths_by_product.get(pid, [])
        packages = []
        for e in entries:
            is_msi, code, why = msi_evidence(e, msi_codes)
            packages.append({
                'name': e.get('display_name'),
                'version': e.get('display_version'),
                'manager': 'msi' if is_msi else 'exe',
                'product_code': code,
                'msi_evidence': why,
                'upgrade_code': upgrade_of.get(code),
                'publisher': e.get('publisher'),
                'view': e.get('view'),
                'system_component': bool(e.get('system_component')),
                'uninstall_string': e.get('uninstall_string'),
            })
        for msi in registered_by_product.get(pid, []):
            packages.append({
                'name': msi.get('product_name'), 'version': None, 'manager': 'msi',
                'product_code': msi['product_code'], 'msi_evidence': 'Windows Installer product list',
                'upgrade_code': upgrade_of.get(msi['product_code']), 'publisher': None, 'view': None,
                'system_component': True, 'uninstall_string': None,
            })
        msi_packages = [k for k in packages if k['manager'] == 'msi' and k['product_code']]
        primary = next((e for e in entries if msi_evidence(e, msi_codes)[0]), entries[0] if entries else {})
        drivers = [s['name'] for s in svcs if s['driver']]
        driver_states = {s['name']: s['state'] for s in svcs if s['driver']}
        if shared_owner is not None and pid == shared_owner['id']:
            drivers.extend(s['name'] for s in vendor_drivers)
            driver_states.update((s['name'], s['state']) for s in vendor_drivers)
        signals = []
        if entries:
            signals.append('uninstall entry')
        if registered_by_product.get(pid):
            signals.append('windows installer registration')
        if any(s['active'] for s in svcs):
            signals.append('running service or driver')
        if procs:
            signals.append('running process')
        if sc_by_product.get(pid):
            signals.append('security center')
        version = primary.get('display_version') if primary else None
        entry = dict(catalog.entry_header(product, state), **{
            'version': version,
            'packages': packages,
            'services': [s for s in svcs if not s['driver']],
            'processes': procs,
            'paths': paths,
            'signals': signals,
            'windows': {
                'display_name': (primary.get('display_name') if primary else None)
                or next((r['display_name'] for r in sc_by_product.get(pid, [])), None),
                'product_code': msi_packages[0]['product_code'] if msi_packages else (_entry_code(primary) if primary else None),
                'upgrade_code': msi_packages[0]['upgrade_code'] if msi_packages else None,
                'uninstall_string': primary.get('uninstall_string') if primary else None,
                'install_location': primary.get('install_location') if primary else None,
                'windows_installer': bool(msi_packages),
                'drivers': drivers,
                'driver_states': driver_states,
                'uninstall_method': (win.get('uninstall') or {}).get('method'),
                'password_option': (win.get('uninstall') or {}).get('password_option'),
            },
        })
        if state == 'residue':
            for svc in svcs:
                leftovers.append(_service_leftover(svc, pid))
            for path in paths:
                leftovers.append({'type': 'path', 'path': path, 'product': pid})
        result_products.append(entry)

    # --- vendor-wide traces: owned while an owning product is installed (or being removed by
    # its uninstaller); leftovers otherwise.
    shared_taken = shared_owner is not None or removed_shared_owner
    certificates = [c for c in raw.get('certificates') or ()
                    if _cert_matches(c, vendor_data.get('windows_certificates'))]
    owned_filters = {id(h) for hits in filter_owner.values() for h in hits}
    if not shared_taken:
        for svc in vendor_drivers:
            leftovers.append(_service_leftover(svc, None))
        for hit in filters:
            if id(hit) not in owned_filters or not vendor_installed:
                leftovers.append(hit)
    if shared_owner is not None:
        shared_entry = next(p for p in result_products if p['id'] == shared_owner['id'])
        shared_entry['windows']['filters'] = [h['name'] for h in filters]
        shared_entry['windows']['certificates'] = [c.get('thumbprint') for c in certificates]
    if not vendor_installed:
        for svc in unowned_services:
            leftovers.append(_service_leftover(svc, None))
        for proc in unowned_processes:
            leftovers.append({'type': 'process', 'name': proc['name'], 'pid': proc['pid'],
                              'path': proc['path'], 'product': None})
        if not removed_shared_owner:
            for cert in certificates:
                leftovers.append({'type': 'certificate', 'store': cert.get('store'),
                                  'thumbprint': cert.get('thumbprint'), 'name': cert.get('subject'),
                                  'product': None})
            for item in security_center:
                if item['vendor']:
                    leftovers.append({'type': 'security_center', 'name': item['display_name'],
                                      'instance_guid': item['instance_guid'], 'product': None})
        for key in raw.get('registry_keys') or ():
            leftovers.append({'type': 'registry', 'path': key, 'product': None})
        for path in vendor_paths:
            leftovers.append({'type': 'path', 'path': path, 'product': None})
        removed_codes = _codes_of(assume_removed, entries_by_product) | {
            m['product_code'] for pid in assume_removed for m in registered_by_product.get(pid, ())}
        for msi in registrations:
            code = msi['product_code']
            if code not in uninstall_codes and code not in removed_codes:
                leftovers.append({'type': 'msi_registration', 'product_code': code,
                                  'name': msi.get('product_name'), 'product': None})

    result_products.sort(key=lambda p: (p['removal_order'] if p['removal_order'] is not None else 999, p['id']))
    installed, residue, verdict = catalog.verdict(result_products, leftovers)
    realtime_rx = vendor_data.get('windows_realtime_drivers')
    realtime = []
    for entry in result_products:
        if entry['state'] != 'installed' or entry['kind'] not in ('endpoint', 'fileserver', 'consumer', 'other'):
            continue
        win = by_id[entry['id']][PLATFORM]
        svcs = services_by_product.get(entry['id'], [])
        if any(s['active'] and _search_any(win.get('realtime_services', ()), s['name']) for s in svcs):
            realtime.append('%s: real-time service running' % entry['id'])
        elif any(p['name'] in ('avp.exe', 'kavfs.exe') for p in entry['processes']):
            realtime.append('%s: protection process running' % entry['id'])
        elif any(r['enabled'] for r in sc_by_product.get(entry['id'], ())):
            realtime.append('%s: SecurityCenter2 reports real-time protection on' % entry['id'])
    for svc in [s for sv in services_by_product.values() for s in sv] + vendor_drivers:
        if svc['active'] and realtime_rx and re.search(realtime_rx, svc['name'] or '') \
                and any(p['state'] == 'installed' for p in result_products):
            realtime.append('file-system interceptor %s loaded' % svc['name'])

    defender = windows_defender.normalize(raw.get('defender'), raw.get('os'))
    engines = realtime_engines(defender, security_center)
    return {
        'changed': False,
        'platform': PLATFORM,
        'vendor': vendor,
        'verdict': verdict,
        'installed': installed,
        'residue': residue,
        'products': result_products,
        'leftovers': leftovers,
        'admin_server': None,
        'realtime_protection_active': bool(realtime),
        'realtime_evidence': realtime,
        # what protects the host right now besides Kaspersky, and the swap journal an interrupted run left
        'realtime_engines': engines,
        'protection': protection_summary(vendor if realtime else None, engines),
        'journal': windows_journal.summary(raw.get('journal')),
        # whether the contain phase's blocking is still in force (intact | lapsed | none | unknown), as on Linux
        'containment': containment(raw),
        'windows': {
            'os': _os_info(raw.get('os')),
            'defender': defender,
            'pending_reboot': pending_reboot(raw.get('pending_reboot'), vendor),
            'encryption': encryption_evidence(raw, vendor),
            'security_center': security_center,
            'collected_at': raw.get('collected_at'),
        },
    }


# SecurityCenter2 names Defender itself like this (clients); it is reported from its own state instead.
_DEFENDER_SC_RE = re.compile(r'(?i)^(windows|microsoft) defender')


def realtime_engines(defender, security_center=()):
    """Real-time engines other than the banned vendor's that run on the host, in the Linux shape.

    Defender when its service runs (``realtime`` from windows_defender.realtime_active: None when its
    status could not be read), and every other antivirus SecurityCenter2 reports enabled (clients only).
    """
    from ansible_collections.phaseout.antivirus.plugins.module_utils import windows_defender

    engines = []
    if (defender or {}).get('running'):
        engines.append({
            'id': 'defender', 'name': 'Microsoft Defender Antivirus',
            'realtime': windows_defender.realtime_active(defender),
            'evidence': 'WinDefend running; AMRunningMode %s; AntivirusEnabled %s; RealTimeProtectionEnabled %s%s' % (
                defender.get('am_running_mode'), defender.get('antivirus_enabled'),
                defender.get('realtime_protection_enabled'),
                ('; Get-MpComputerStatus failed: %s' % defender['status_error']) if defender.get('status_error') else ''),
        })
    for item in security_center or ():
        name = item.get('display_name') or ''
        if item.get('vendor') or not item.get('enabled') or _DEFENDER_SC_RE.search(name) or \
                (item.get('path') or '').lower().startswith('windowsdefender:'):
            continue
        engines.append({'id': re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_') or 'unknown', 'name': name,
                        'realtime': True,
                        'evidence': 'SecurityCenter2 reports real-time protection on (productState %s)'
                                    % item.get('product_state')})
    return engines


# --------------------------------------------------------------------------- containment


def _as_list(value):
    """ConvertTo-Json makes a one-element array a scalar: accept both (None is no element)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _recorded(state_text):
    """The contain record as a dict, or None when there is none or it cannot be parsed."""
    if state_text is None:
        return None
    try:
        state = json.loads(state_text)
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def _hosts_key(entry):
    """``<address> <name>`` compared the way the resolver does: any notation of the same address, any case."""
    fields = str(entry).split()
    if len(fields) != 2:
        return None
    try:
        address = ipaddress.ip_address(fields[0]).compressed
    except ValueError:
        address = fields[0].lower()
    return address, fields[1].lower().rstrip('.')


def _hosts_entries(live, recorded):
    """The live ``<address> <name>`` entries, each written as the record spells it when it is the same entry
    (``0:0::0 DS.Kaspersky.com`` is ``:: ds.kaspersky.com``), so contain.windows_containment_status finds it."""
    spelling = {}
    for line in _as_list((recorded or {}).get('hosts_lines')):
        key = _hosts_key(line)
        if key is not None:
            spelling.setdefault(key, ' '.join(str(line).split()))
    out = []
    for entry in _as_list(live):
        key = _hosts_key(entry)
        out.append(spelling.get(key, ' '.join(str(entry).split())))
    return out


def containment(raw):
    """Whether the contain phase's blocking is still in force on a Windows host, in the Linux shape
    (contain_state.containment_status): ``containment`` (intact | lapsed | none | unknown), ``reasons``, ``backend``,
    ``public_dns_blocked``, ``resolvers_kept``.

    From the collector's ``contain`` facts (one call with everything else): the record the contain role wrote
    (``state_text``), the enabled block rules of the firewall group (``firewall_rules``), the firewall profiles
    that are off (``firewall_profiles_off``) and the hosts-file entries of the names the record lists
    (``hosts_entries``), each with its read error. The comparison is contain.windows_containment_status's; here:

    * a collector without these facts (an older win_kaspersky_collect) read nothing: ``unknown``, never ``none``,
      which would claim the host was never contained;
    * a record that exists but cannot be read: ``unknown``;
    * a firewall or hosts file that cannot be read is taken as recorded: a lapse the rest shows is still
      ``lapsed`` (with what could not be read among the reasons), otherwise ``unknown``;
    * a firewall profile that is off leaves the rules unenforced on networks of that profile: ``lapsed``;
    * the hosts file read is the one Windows resolves with (Tcpip ``DataBasePath``); when it is not the default
      one, where ansible.windows.win_hosts writes, a reason says so.
    """
    facts = raw.get('contain') if isinstance(raw, dict) else None
    result = {'containment': 'unknown', 'reasons': [], 'backend': None, 'public_dns_blocked': [],
              'resolvers_kept': []}
    if not isinstance(facts, dict):
        result['reasons'].append('not read: the Windows collector (collector_version %s) predates the containment '
                                 'check' % (raw.get('collector_version') if isinstance(raw, dict) else None))
        return result
    state_path = facts.get('state_path') or CONTAIN_STATE_FILE
    if facts.get('state_error'):
        result['reasons'].append('cannot read the contain record %s: %s' % (state_path, facts['state_error']))
        return result
    state_text = facts.get('state_text')
    recorded = _recorded(state_text)
    unread = []
    rules = facts.get('firewall_rules')
    if rules is None:
        unread.append('cannot read the firewall rules of the group "%s" (%s): %s' % (
            facts.get('firewall_group') or CONTAIN_FIREWALL_GROUP, facts.get('firewall_source') or 'no source',
            facts.get('firewall_error') or 'no answer'))
        rules = (recorded or {}).get('rules') or []
    hosts = facts.get('hosts_entries')
    if hosts is None and state_text is not None:
        unread.append('cannot read the hosts file %s: %s' % (facts.get('hosts_path') or 'hosts',
                                                             facts.get('hosts_error') or 'no answer'))
        hosts = (recorded or {}).get('hosts_lines') or []
    result = contain.windows_containment_status(state_text, rules, _hosts_entries(hosts, recorded))
    if recorded and recorded.get('rules'):
        off = sorted(str(p).lower() for p in _as_list(facts.get('firewall_profiles_off')))
        if off:
            result['reasons'].append('the Windows Firewall is off for the %s profile%s: the phaseout block rules are '
                                     'not enforced on networks of %s (turn it on; running contain again does not)'
                                     % (', '.join(off), 's' if len(off) > 1 else '', 'those' if len(off) > 1 else 'it'))
    hosts_path, default_path = facts.get('hosts_path'), facts.get('default_hosts_path')
    if recorded and any('hosts-file entries are gone' in r for r in result['reasons']) and hosts_path \
            and default_path and hosts_path.lower() != default_path.lower():
        result['reasons'].append('Windows resolves with %s (Tcpip DataBasePath), not %s where the contain role '
                                 'writes its entries' % (hosts_path, default_path))
    if result['reasons']:
        result['containment'] = 'lapsed'
    if unread:
        if result['containment'] == 'lapsed':
            result['reasons'].extend(unread)
        else:
            result.update(containment='unknown', reasons=unread)
    return result


def _filter_driver_active(hit, services):
    return any(s['active'] and (s['name'] or '').lower() == (hit['name'] or '').lower() for s in services)


def _codes_of(product_ids, entries_by_product):
    codes = set()
    for pid in product_ids:
        for entry in entries_by_product.get(pid, ()):
            code = _entry_code(entry)
            if code:
                codes.add(code)
    return codes


def _service_leftover(svc, product_id):
    return {
        'type': 'driver' if svc['driver'] else 'service',
        'name': svc['name'],
        'state': svc['state'],
        'start_mode': svc['start_mode'],
        'active': svc['active'],
        'delete_pending': svc['delete_pending'],
        'image_path': svc['image_path'],
        'product': product_id,
    }


def _filter_hits(filters, pattern):
    hits = []
    if not pattern:
        return hits
    for item in filters:
        for name in item.get('data') or ():
            if re.search(pattern, name or ''):
                value = item.get('value') or 'UpperFilters'
                hits.append({
                    'type': 'upper_filter' if value.lower() == 'upperfilters' else 'lower_filter',
                    'name': name,
                    'key': item.get('key'),
                    'value': value,
                    'class_guid': item.get('class_guid'),
                    'class': item.get('class'),
                    'data': list(item.get('data') or ()),
                    'product': None,
                })
    return hits


def _cert_matches(cert, pattern):
    if not pattern:
        return False
    return bool(re.search(pattern, cert.get('subject') or '') or re.search(pattern, cert.get('issuer') or ''))


def summary(info):
    """Short form of an info result, for diffs and reports."""
    if not info:
        return {}
    return {
        'verdict': info.get('verdict'),
        'installed': list(info.get('installed') or ()),
        'residue': list(info.get('residue') or ()),
        'leftovers': sorted(
            '%s:%s' % (lo['type'], lo.get('name') or lo.get('path') or lo.get('thumbprint') or lo.get('product_code'))
            for lo in info.get('leftovers') or ()),
    }
