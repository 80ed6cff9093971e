# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Windows removal: the plan, the msiexec arguments, exit codes and residue clean-up.

Pure functions over the kaspersky_info result (plugins/module_utils/windows.py); the
action plugin ``kaspersky_uninstall`` runs what they decide through
``ansible.windows.win_package`` (one call per MSI product) and the thin residue module
``win_kaspersky_residue``. Facts: the vendor's password protection, silent uninstall command lines, exit codes and leftovers
(docs/sources.md: [K20]-[K24], [K36], [K37], [K42], [K45], [K47], [M11], [G1], [G6], [G7]).
"""

from __future__ import annotations

import ntpath
import re

from ansible_collections.phaseout.antivirus.plugins.module_utils import catalog
from ansible_collections.phaseout.antivirus.plugins.module_utils import windows

WIN_PACKAGE = 'ansible.windows.win_package'
MASK = '********'

# Windows Installer exit codes [M11]
RC_SUCCESS = 0
RC_FATAL = 1603
RC_UNKNOWN_PRODUCT = 1605
RC_ALREADY_RUNNING = 1618
RC_REBOOT_INITIATED = 1641
RC_REBOOT_REQUIRED = 3010
# win_package must not fail on the codes we interpret ourselves.
EXPECTED_RETURN_CODES = [RC_SUCCESS, RC_FATAL, RC_UNKNOWN_PRODUCT, RC_REBOOT_INITIATED, RC_REBOOT_REQUIRED]

PASSWORD_ENCODINGS = ('utf16le_hex', 'ascii_hex')


class PlanError(Exception):
    """Input or host state that forbids a removal; nothing has been changed."""


# --------------------------------------------------------------------------- secrets


def encode_password(password, encoding):
    """Encode a password for an MSI property.

    ``utf16le_hex``: hex of the UTF-16LE bytes, what most scripts send as the Network
    Agent's KLUNINSTPASSWD (``[Text.Encoding]::Unicode.GetBytes()``, ``{0:X2}``) [G1];
    ``ascii_hex``: hex of the UTF-8 (ASCII) bytes, seen in one older script [GH-idx 32909857326];
    ``plain``: unchanged (KLPASSWD).
    """
    if encoding in (None, 'plain'):
        return password
    if encoding == 'utf16le_hex':
        return password.encode('utf-16-le').hex().upper()
    if encoding == 'ascii_hex':
        return password.encode('utf-8').hex().upper()
    raise ValueError('unknown password encoding %r' % (encoding,))


def secret_variants(*secrets):
    """Every form a secret can take in a command line or a log: plain, MSI-quoted, hex."""
    variants = set()
    for secret in secrets:
        if not secret:
            continue
        variants.add(secret)
        variants.add(msi_quote(secret))
        variants.add(secret.replace('"', '""'))
        for encoding in PASSWORD_ENCODINGS:
            encoded = encode_password(secret, encoding)
            variants.add(encoded)
            variants.add(encoded.lower())
    return sorted((v for v in variants if v), key=len, reverse=True)


def scrub(value, secrets):
    """Replace every secret variant in every string of ``value`` (recursively) by a mask."""
    variants = secret_variants(*secrets) if secrets else []
    if not variants:
        return value
    return _scrub(value, variants)


def _scrub(value, variants):
    if isinstance(value, str):
        for variant in variants:
            if variant in value:
                value = value.replace(variant, MASK)
        return value
    if isinstance(value, dict):
        return {_scrub(k, variants): _scrub(v, variants) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, variants) for v in value]
    return value


# --------------------------------------------------------------------------- msiexec


def msi_quote(value):
    """An MSI property value on the msiexec command line: quoted when needed, ``"`` doubled."""
    text = str(value)
    if text and re.match(r'^[A-Za-z0-9_.:\\/@+=-]+$', text):
        return text
    return '"%s"' % text.replace('"', '""')


def log_path(log_dir, product_id, product_code):
    if not log_dir:
        return None
    code = product_code.strip('{}')
    return ntpath.join(log_dir, 'phaseout-uninstall-%s-%s.log' % (product_id, code))


def msi_properties(product, params):
    """``[(NAME, value, secret)]`` for one product's uninstall, from the catalog and options."""
    spec = product['windows'].get('uninstall') or {}
    props = [('REBOOT', 'ReallySuppress', False)]
    password_option = spec.get('password_option')
    password = params.get(password_option) if password_option else None
    if password:
        login_option = spec.get('login_option')
        if login_option and spec.get('login_property'):
            props.append((spec['login_property'], params.get(login_option) or 'KLAdmin', False))
        encoding = spec.get('password_encoding', 'plain')
        if password_option == 'agent_password' and params.get('agent_password_encoding'):
            encoding = params['agent_password_encoding']
        props.append((spec['password_property'], encode_password(password, encoding), True))
    return props


def win_package_args(step, props):
    """Arguments of the ansible.windows.win_package call for one msi_uninstall step.

    win_package itself runs ``msiexec.exe /x {code} /L*V <log> /qn /norestart`` and appends
    ``arguments``; the registered UninstallString is never used (for the Network Agent it
    is ``/I``, a repair) [K47].
    """
    args = {
        'product_id': step['target'],
        'state': 'absent',
        'arguments': ' '.join('%s=%s' % (name, msi_quote(value)) for name, value, _secret in props),
        'expected_return_code': list(EXPECTED_RETURN_CODES),
    }
    if step.get('log_path'):
        args['log_path'] = step['log_path']
    return args


def display_command(step, props):
    """The msiexec command line win_package will run, with secrets masked (for the plan)."""
    parts = ['msiexec.exe', '/x', step['target']]
    if step.get('log_path'):
        parts.extend(['/L*V', '"%s"' % step['log_path']])
    parts.extend(['/qn', '/norestart'])
    parts.extend('%s=%s' % (name, MASK if secret else msi_quote(value)) for name, value, secret in props)
    return ' '.join(parts)


def interpret_rc(step, result, password_supplied):
    """Map a win_package result to an outcome.

    Returns ``{'outcome': removed|reboot|absent|password_rejected|error, 'rc', 'reboot_required',
    'msg'}``. 0 success; 1641/3010 success with a reboot; 1605, or win_package finding the
    product already gone, means absent; 1603 with a password is a rejected password [M11].
    """
    rc = result.get('rc')
    where = ' (msiexec log: %s)' % step['log_path'] if step.get('log_path') else ''
    name = '%s %s' % (step['product'], step['target'])
    if result.get('failed') and rc in (None, RC_SUCCESS):
        return {'outcome': 'error', 'rc': rc, 'reboot_required': False,
                'msg': 'removing %s failed: %s%s' % (name, result.get('msg', 'win_package failed'), where)}
    if rc in (None, RC_SUCCESS) and not result.get('changed'):
        return {'outcome': 'absent', 'rc': rc, 'reboot_required': False,
                'msg': '%s was already gone' % name}
    if rc in (None, RC_SUCCESS):
        return {'outcome': 'removed', 'rc': rc or 0, 'reboot_required': bool(result.get('reboot_required')),
                'msg': '%s removed' % name}
    if rc in (RC_REBOOT_REQUIRED, RC_REBOOT_INITIATED):
        return {'outcome': 'reboot', 'rc': rc, 'reboot_required': True,
                'msg': '%s removed; a reboot is required to finish (rc %s)' % (name, rc)}
    if rc == RC_UNKNOWN_PRODUCT:
        return {'outcome': 'absent', 'rc': rc, 'reboot_required': False,
                'msg': '%s was already gone (rc 1605)' % name}
    if rc == RC_FATAL and password_supplied:
        return {'outcome': 'password_rejected', 'rc': rc, 'reboot_required': False,
                'msg': 'removing %s: the uninstall password was rejected (msiexec rc 1603)%s; '
                       'check the %s option (and kes_login) against the password set in the Kaspersky policy'
                       % (name, where, step.get('password_option') or 'password')}
    if rc == RC_FATAL:
        hint = ''
        if step.get('password_option'):
            hint = '; if the product is password protected, supply %s' % step['password_option']
        return {'outcome': 'error', 'rc': rc, 'reboot_required': False,
                'msg': 'removing %s failed: msiexec rc 1603 (fatal error during removal)%s%s'
                       % (name, where, hint)}
    if rc == RC_ALREADY_RUNNING:
        return {'outcome': 'error', 'rc': rc, 'reboot_required': False,
                'msg': 'removing %s failed: another Windows Installer operation is in progress (rc 1618); '
                       'retry later%s' % (name, where)}
    return {'outcome': 'error', 'rc': rc, 'reboot_required': False,
            'msg': 'removing %s failed: msiexec rc %s%s' % (name, rc, where)}


# --------------------------------------------------------------------------- plan


_VERBS = {
    'msi_uninstall': 'uninstall %(display_name)s %(version)s (msiexec /x %(target)s)',
    'remove_filter': 'remove %(remove_text)s from %(target)s',
    'remove_driver': 'delete driver service %(target)s',
    'remove_service': 'delete service %(target)s',
    'remove_certificate': 'delete certificate %(target)s (%(subject)s) from %(store)s',
    'remove_security_center_entry': 'delete the SecurityCenter2 entry %(name)s',
    'remove_registry_key': 'delete registry key %(target)s',
    'remove_path': 'delete folder %(target)s',
}


def describe(step):
    """One line per step, like the Linux planner's."""
    values = dict(step)
    values['remove_text'] = ', '.join(step.get('remove') or ())
    for key in ('display_name', 'version', 'subject', 'store', 'name'):
        values.setdefault(key, '')
    return _VERBS[step['action']] % values


def select_products(info, products=None, exclude=(), force=False):
    """Installed products to remove, in removal order, plus warnings.

    Raises PlanError for an unknown id, a product that phaseout never removes
    (Administration Server, the catch-all), or one without a silent uninstall.
    """
    exclude = set(exclude or ())
    warnings = []
    known = set(catalog.product_ids(windows.PLATFORM))
    requested = list(products or ())
    unknown = sorted(set(requested) - known)
    if unknown:
        raise PlanError('unknown product id(s) %s; Windows products are: %s'
                        % (', '.join(unknown), ', '.join(sorted(known))))
    installed = {p['id']: p for p in info.get('products') or () if p['state'] == 'installed'}
    for pid in requested:
        if pid not in installed:
            warnings.append('%s is not installed' % pid)
    chosen = []
    for pid, entry in installed.items():
        if pid in exclude or (requested and pid not in requested):
            continue
        if not entry['removable']:
            if pid in requested:
                raise PlanError('%s (%s) is not removed by phaseout: a management server or an unknown product '
                                'needs its own decommissioning; exclude it' % (pid, entry['name']))
            warnings.append('%s (%s) is installed and left in place: phaseout does not remove it'
                            % (pid, entry['name']))
            continue
        chosen.append(entry)
    # The Network Agent of an Administration Server belongs to the server.
    if 'ksc_server' in installed and not force:
        for entry in [e for e in chosen if e['kind'] == 'agent']:
            chosen.remove(entry)
            warnings.append('%s is kept: it serves the Administration Server on this host (force to remove it)'
                            % entry['id'])
    for entry in chosen:
        msi = [pkg for pkg in entry['packages'] if pkg['manager'] == 'msi' and pkg['product_code']]
        if not msi:
            raise PlanError(no_silent_uninstall(entry))
    chosen.sort(key=lambda e: (e['removal_order'], e['id']))
    return chosen, warnings


def no_silent_uninstall(entry):
    """Why a product without any Windows Installer registration is refused, and what to do instead.

    MSI is decided from the WindowsInstaller value, an ``msiexec /x|/i {GUID}`` UninstallString and
    Windows Installer's own product list (windows.msi_evidence); none of them named a product code.
    Consumer products: their uninstaller (``avpui.exe /uninstall``) is interactive and no silent
    switch is documented; kavremover asks the user to validate its input [GH-idx 37727576658][K45].
    """
    shown = [p.get('uninstall_string') for p in entry.get('packages') or () if p.get('uninstall_string')]
    if entry.get('kind') == 'consumer':
        how = ('its own uninstaller is interactive (%s; "avpui.exe /uninstall" has no documented silent switch) and '
               'kavremover asks the user to confirm: remove it by hand (Safe Mode + kavremover when the password is '
               'lost, KLAPR) and reboot, or exclude it' % ('; '.join(shown) if shown else 'no UninstallString read'))
    else:
        how = ('remove it with a Kaspersky Security Center remote-uninstall task or kavremover, or exclude it'
               + ('; registered uninstaller: %s' % '; '.join(shown) if shown else ''))
    return ('%s (%s) has no Windows Installer registration (no WindowsInstaller value, no msiexec UninstallString, '
            'not in the Windows Installer product list), so it has no silent uninstall; %s' % (entry['id'], entry['name'], how))


def vendor_activity(info):
    """What of the vendor is active right now: running services, loaded drivers, running processes.

    Residue clean-up refuses to delete anything while this list is not empty (a product that still
    runs, an agent that was kept, a driver that waits for the reboot)."""
    active = []
    for product in info.get('products') or ():
        for svc in product.get('services') or ():
            if svc.get('active'):
                active.append('service %s (%s)' % (svc['name'], product['id']))
        for name, state in ((product.get('windows') or {}).get('driver_states') or {}).items():
            if state in ('running', 'start_pending', 'startpending'):
                active.append('driver %s (%s)' % (name, product['id']))
        for proc in product.get('processes') or ():
            active.append('process %s pid %s (%s)' % (proc['name'], proc.get('pid'), product['id']))
    for item in info.get('leftovers') or ():
        if item['type'] in ('service', 'driver') and item.get('active'):
            active.append('%s %s' % (item['type'], item['name']))
        elif item['type'] == 'process':
            active.append('process %s pid %s' % (item['name'], item.get('pid')))
    return active


def reboot_after(entry):
    """Kaspersky home products finish their removal at the next reboot [K44]."""
    return entry.get('kind') == 'consumer'


def plan_uninstall(info, params):
    """Ordered msi_uninstall steps (secrets masked) and the win_package calls that run them.

    Returns ``(steps, calls, warnings)``; ``calls[i]`` is ``(module_args, secret)`` for
    ``steps[i]``. Raises PlanError when encryption is detected and not allowed.
    """
    chosen, warnings = select_products(info, params.get('products'), params.get('exclude'), params.get('force'))
    encryption = (info.get('windows') or {}).get('encryption') or {}
    if chosen and encryption.get('detected') and not params.get('allow_encrypted'):
        raise PlanError('Kaspersky disk or file encryption is detected (%s): removing it could leave data '
                        'unreadable; decrypt the host first, or set allow_encrypted once you are sure'
                        % '; '.join(encryption.get('evidence') or ()))
    steps = []
    calls = []
    for entry in chosen:
        product = catalog.get_product(entry['id'])
        props = msi_properties(product, params)
        secret = any(s for _n, _v, s in props)
        spec = product['windows'].get('uninstall') or {}
        for pkg in entry['packages']:
            if pkg['manager'] != 'msi' or not pkg['product_code']:
                continue
            step = {
                'action': 'msi_uninstall',
                'product': entry['id'],
                'target': pkg['product_code'],
                'display_name': pkg['name'],
                'version': pkg['version'],
                'password_option': spec.get('password_option'),
                'password_supplied': secret,
                'log_path': log_path(params.get('log_dir'), entry['id'], pkg['product_code']),
                'reboot_after': reboot_after(entry),
            }
            step['command'] = display_command(step, props)
            step['description'] = describe(step)
            steps.append(step)
            calls.append((win_package_args(step, props), secret))
    return steps, calls, warnings


def _allowed_paths(vendor, raw_paths):
    """Expanded folders the residue step may delete: the catalog's, as the host expanded them."""
    templates = set(catalog.VENDORS[vendor].get('windows_common_paths', ()))
    for product in catalog.products(windows.PLATFORM, vendor):
        templates.update(product['windows'].get('install_paths', ()))
        templates.update(product['windows'].get('data_paths', ()))
    return {p['path'].lower() for p in raw_paths or () if p.get('path') and p.get('template') in templates}


def plan_residue(info, raw, vendor='kaspersky'):
    """Residue clean-up steps and the residue module's arguments, from a fresh state.

    Only traces of products that are no longer installed are touched; every item is
    re-checked against the catalog patterns, so nothing outside the vendor's footprint
    can be passed to the host. Running services and loaded drivers wait for a reboot.
    Returns ``(steps, module_args, skipped)``.
    """
    vendor_data = catalog.VENDORS[vendor]
    active = vendor_activity(info)
    if active:
        # Nothing is deleted while anything of the vendor runs: a folder or key of a running product is
        # not residue, and a loaded driver keeps its files until the reboot.
        return [], {}, [{'item': {'type': 'vendor', 'name': ', '.join(active[:5])},
                         'reason': 'residue clean-up refused: %s of the vendor is still active (%s); '
                                   'it waits until nothing of the vendor runs (after the uninstallers and a reboot)'
                                   % ('something' if not active else '%d item(s)' % len(active), '; '.join(active[:5]))}]
    service_rx = windows.combine(
        [rx for p in catalog.products(windows.PLATFORM, vendor)
         for rx in tuple(p['windows'].get('services', ())) + tuple(p['windows'].get('drivers', ()))]
        + list(vendor_data.get('windows_drivers', ())))
    filter_rx = vendor_data.get('windows_filter_drivers')
    cert_rx = vendor_data.get('windows_certificates')
    vendor_rx = vendor_data['windows_display_name']
    allowed_paths = _allowed_paths(vendor, raw.get('paths'))
    allowed_keys = {k.lower() for k in vendor_data.get('windows_registry_keys', ())}

    steps = []
    skipped = []
    filters = {}
    services = []
    certificates = []
    registry_keys = []
    paths = []
    security_center = []
    for item in info.get('leftovers') or ():
        kind = item['type']
        if kind in ('upper_filter', 'lower_filter'):
            if not re.search(filter_rx, item['name']):
                continue
            key = (item['key'], item['value'])
            entry = filters.setdefault(key, {'key': item['key'], 'value': item['value'],
                                             'remove': [], 'before': list(item['data'])})
            if item['name'] not in entry['remove']:
                entry['remove'].append(item['name'])
        elif kind in ('driver', 'service'):
            if not re.search(service_rx, item['name']):
                skipped.append({'item': item, 'reason': 'not in the catalog; remove it by hand'})
                continue
            if item.get('delete_pending'):
                skipped.append({'item': item, 'reason': 'already marked for deletion; goes at the next reboot'})
                continue
            if item.get('active'):
                skipped.append({'item': item, 'reason': 'still running; reboot first'})
                continue
            services.append(item['name'])
            steps.append({'action': 'remove_%s' % kind, 'product': item.get('product'), 'target': item['name']})
        elif kind == 'certificate':
            store = item.get('store') or ''
            if not store.lower().startswith('localmachine\\'):
                skipped.append({'item': item, 'reason': 'only LocalMachine stores are cleaned; remove it in the '
                                                        'user session'})
                continue
            if not re.search(cert_rx, item.get('name') or ''):
                skipped.append({'item': item, 'reason': 'subject does not name the vendor'})
                continue
            certificates.append({'store': store, 'thumbprint': item['thumbprint']})
            steps.append({'action': 'remove_certificate', 'product': None, 'target': item['thumbprint'],
                          'store': store, 'subject': item.get('name')})
        elif kind == 'registry':
            if item['path'].lower() not in allowed_keys:
                continue
            registry_keys.append(item['path'])
            steps.append({'action': 'remove_registry_key', 'product': item.get('product'), 'target': item['path']})
        elif kind == 'path':
            if item['path'].lower() not in allowed_paths:
                continue
            paths.append(item['path'])
            steps.append({'action': 'remove_path', 'product': item.get('product'), 'target': item['path']})
        elif kind == 'security_center':
            if not re.search(vendor_rx, item.get('name') or '') or not item.get('instance_guid'):
                continue
            security_center.append(item['instance_guid'])
            steps.append({'action': 'remove_security_center_entry', 'product': None,
                          'target': item['instance_guid'], 'name': item.get('name')})
        else:
            skipped.append({'item': item, 'reason': 'reported only; remove it by hand'})
    filter_args = []
    for entry in filters.values():
        after = [v for v in entry['before'] if v not in entry['remove']]
        filter_args.append({'key': entry['key'], 'value': entry['value'], 'remove': entry['remove']})
        # Filters first: a driver service must never go while a filter list still names it.
        steps.insert(0, {'action': 'remove_filter', 'product': None, 'target': '%s\\%s' % (entry['key'], entry['value']),
                         'remove': entry['remove'], 'before': entry['before'], 'after': after})
    # Paths and registry roots last (a folder may hold the image of a driver being deleted).
    order = {'remove_filter': 0, 'remove_driver': 1, 'remove_service': 1, 'remove_certificate': 2,
             'remove_security_center_entry': 3, 'remove_registry_key': 4, 'remove_path': 5}
    steps.sort(key=lambda s: order[s['action']])
    for step in steps:
        step['description'] = describe(step)
    module_args = {}
    if filter_args:
        module_args['filters'] = filter_args
    if services:
        module_args['services'] = services
    if certificates:
        module_args['certificates'] = certificates
    if security_center:
        module_args['security_center'] = security_center
    if registry_keys:
        module_args['registry_keys'] = registry_keys
    if paths:
        module_args['paths'] = paths
    return steps, module_args, skipped
