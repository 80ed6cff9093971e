# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Microsoft Defender Antivirus on Windows: state normalisation and every decision.

The remote modules (win_kaspersky_collect, win_defender_status) return Defender's raw
state (``Get-MpComputerStatus`` fields, the Windows-Defender feature, policy values,
``ForceDefenderPassiveMode``, the Sense service and MDE ``OnboardingState``). This module
decides what it means: is Defender healthy, which policy values keep it off, which
passive-mode value a phase wants, whether the feature must be installed. The
``phaseout.antivirus.defender_*`` filters expose these functions to the provider_defender
role. Facts: Microsoft's Defender documentation (docs/sources.md) [M1][M2][M4][M6][M10].
"""

from __future__ import annotations

import datetime

POLICY_ROOT = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender'
RTP_POLICY_KEY = POLICY_ROOT + '\\Real-Time Protection'
ATP_POLICY_KEY = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection'
PASSIVE_MODE_VALUE = 'ForceDefenderPassiveMode'

# Policy values that, set to 1, keep Defender (or a part of its real-time protection) off.
# "Turn off Microsoft Defender Antivirus" = DisableAntiSpyware [M2][M6].
DISABLING_POLICIES = (
    (POLICY_ROOT, 'DisableAntiSpyware'),
    (POLICY_ROOT, 'DisableAntiVirus'),
    (RTP_POLICY_KEY, 'DisableRealtimeMonitoring'),
    (RTP_POLICY_KEY, 'DisableBehaviorMonitoring'),
    (RTP_POLICY_KEY, 'DisableOnAccessProtection'),
    (RTP_POLICY_KEY, 'DisableIOAVProtection'),
)

# AntivirusSignatureAge is 65535 when signatures were never loaded.
NEVER_UPDATED_DAYS = 65535

_STATUS_FIELDS = {
    'AMRunningMode': 'am_running_mode',
    'AMServiceEnabled': 'am_service_enabled',
    'AntivirusEnabled': 'antivirus_enabled',
    'AntispywareEnabled': 'antispyware_enabled',
    'RealTimeProtectionEnabled': 'realtime_protection_enabled',
    'BehaviorMonitorEnabled': 'behavior_monitor_enabled',
    'OnAccessProtectionEnabled': 'on_access_protection_enabled',
    'IoavProtectionEnabled': 'ioav_protection_enabled',
    'AntivirusSignatureVersion': 'signature_version',
    'AntivirusSignatureLastUpdated': 'signature_last_updated',
    'AntivirusSignatureAge': 'signature_age_days',
    'DefenderSignaturesOutOfDate': 'signatures_out_of_date',
    'AMProductVersion': 'product_version',
    'AMEngineVersion': 'engine_version',
    'IsTamperProtected': 'tamper_protected',
}


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _service(services, name):
    for svc in services or ():
        if (svc.get('name') or '').lower() == name.lower():
            state = _lower(svc.get('state'))
            return {'name': svc.get('name'), 'state': state, 'start': svc.get('start'),
                    'running': state == 'running'}
    return None


def normalize(raw, raw_os=None):
    """Defender section of kaspersky_info (``windows.defender``) from the raw collector data."""
    raw = raw or {}
    raw_os = raw_os or {}
    status = raw.get('status') or {}
    result = {snake: status.get(field) for field, snake in _STATUS_FIELDS.items()}
    feature = raw.get('feature')
    windefend = _service(raw.get('services'), 'WinDefend')
    sense = _service(raw.get('services'), 'Sense')
    if feature is not None:
        feature_installed = bool(feature.get('installed'))
    else:
        # Clients have no Windows-Defender feature to remove: present when its service exists.
        feature_installed = windefend is not None
    policies = {}
    for item in raw.get('policies') or ():
        policies['%s\\%s' % (item.get('key'), item.get('name'))] = item.get('value')
    disabling = [{'key': key, 'name': name, 'value': policies['%s\\%s' % (key, name)]}
                 for key, name in DISABLING_POLICIES
                 if policies.get('%s\\%s' % (key, name)) not in (None, 0, '0')]
    passive = (raw.get('passive_mode') or {}).get(PASSIVE_MODE_VALUE)
    mde = raw.get('mde') or {}
    result.update({
        'is_server': raw_os.get('product_type') in (2, 3),
        'feature_installed': feature_installed,
        'feature': feature,
        'service': windefend,
        'running': bool(windefend and windefend['running']),
        'status_error': raw.get('status_error'),
        'force_passive_mode': passive,
        'policies': policies,
        'disabling_policies': disabling,
        'mde': {
            'onboarding_state': mde.get('onboarding_state'),
            'onboarded': mde.get('onboarding_state') == 1,
            'org_id': mde.get('org_id'),
            'sense': sense,
        },
    })
    return result


def _parse_time(value):
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace('Z', '+00:00')
    # .NET round-trip format has 7 fractional digits; Python's fromisoformat takes 6 (3.11 accepts any).
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def signature_age_hours(defender, now=None):
    """Age of the antivirus signatures in hours (float, one decimal), or None when unknown."""
    last = _parse_time(defender.get('signature_last_updated'))
    now_dt = _parse_time(now) if isinstance(now, str) else now
    if last is not None and now_dt is not None:
        return round(max((now_dt - last).total_seconds(), 0) / 3600.0, 1)
    days = defender.get('signature_age_days')
    if isinstance(days, int) and days != NEVER_UPDATED_DAYS:
        return float(days * 24)
    return None


# ERROR_VIRUS_INFECTED (225) and ERROR_VIRUS_DELETED (226), as Win32 codes and as HRESULTs.
VIRUS_HRESULTS = (225, 226, -2147024671, -2147024670, 0x800700E1, 0x800700E2)


def _virus_error(hresult, message):
    if hresult in VIRUS_HRESULTS:
        return True
    text = (message or '').lower()
    return 'virus' in text or 'potentially unwanted' in text


def eicar_outcome(eicar):
    """(detected, blocked) from the EICAR probe of win_defender_status; (None, None) if not run.

    Blocked: the write or the read failed with a virus error, or the file vanished.
    Detected: blocked, or Defender recorded a detection for the file.
    """
    if not eicar or not eicar.get('attempted'):
        return None, None
    write_blocked = _virus_error(eicar.get('write_hresult'), eicar.get('write_error')) \
        if eicar.get('write_error') else False
    read_blocked = _virus_error(eicar.get('read_hresult'), eicar.get('read_error')) \
        if eicar.get('read_error') else False
    blocked = bool(write_blocked or read_blocked or eicar.get('removed'))
    detected = blocked or bool(eicar.get('detected'))
    return detected, blocked


def realtime_active(defender):
    """Whether Defender's real-time protection is on right now (the journal's and the report's view).

    True: WinDefend runs, ``AMRunningMode`` is Normal, antivirus and real-time protection are enabled.
    False: WinDefend does not run, or it runs passive, disabled or with real-time protection off.
    None: WinDefend runs but its status could not be read (``Get-MpComputerStatus`` failed).
    """
    defender = defender or {}
    if not defender.get('running') or defender.get('am_service_enabled') is False:
        return False
    if defender.get('status_error') or defender.get('am_running_mode') is None:
        return None
    return defender.get('am_running_mode') == 'Normal' and defender.get('antivirus_enabled') is True and \
        defender.get('realtime_protection_enabled') is True


def health(defender, eicar=None, now=None, max_signature_age_hours=48, require_eicar=True,
           require_mde=False, expect_active=True):
    """The provider health contract (``phaseout_provider_health``) for Defender.

    ``defender`` is the normalized Defender state (``windows.defender`` of kaspersky_info or
    ``defender`` of win_defender_status); ``eicar`` the probe result; ``now`` the host's UTC
    time when the state was read (avoids controller/host clock skew).

    ``expect_active`` true (activate, verify): Defender must run in Normal mode with
    antivirus and real-time protection on. False (staged next to Kaspersky): Defender is
    passive (servers, onboarded clients) or switched off by Windows itself (clients [M1]), so
    only what would stop it coming back counts: the feature, the service, the policies;
    signatures are judged only when it runs.
    """
    defender = defender or {}
    issues = []
    installed = bool(defender.get('feature_installed')) and defender.get('service') is not None
    if not defender.get('feature_installed'):
        issues.append('the Windows-Defender feature is not installed')
    elif defender.get('service') is None:
        issues.append('the WinDefend service does not exist')
    running = installed and bool(defender.get('running')) and defender.get('am_service_enabled') is not False
    mode = defender.get('am_running_mode')
    av = defender.get('antivirus_enabled') is True
    rtp = defender.get('realtime_protection_enabled') is True
    realtime = running and av and rtp and mode == 'Normal'
    if expect_active:
        if installed and not running:
            issues.append('the WinDefend service is not running')
        if defender.get('status_error'):
            issues.append('Get-MpComputerStatus failed: %s' % defender['status_error'])
        if mode != 'Normal':
            issues.append('AMRunningMode is %s, expected Normal' % (mode or 'unknown'))
        if not av:
            issues.append('AntivirusEnabled is not true')
        if not rtp:
            issues.append('RealTimeProtectionEnabled is not true')
    for policy in defender.get('disabling_policies') or ():
        issues.append('policy %s\\%s=%s keeps Defender off' % (policy['key'], policy['name'], policy['value']))
    version = defender.get('signature_version')
    signatures_present = bool(version) and version != '0.0.0.0' and \
        defender.get('signature_age_days') != NEVER_UPDATED_DAYS
    age = signature_age_hours(defender, now) if signatures_present else None
    if expect_active or running:
        if not signatures_present:
            issues.append('no antivirus signatures are loaded')
        elif age is None:
            issues.append('the signature age is unknown')
        elif max_signature_age_hours and age > max_signature_age_hours:
            issues.append('signatures are %.1f hours old (limit %s)' % (age, max_signature_age_hours))
    detected, blocked = eicar_outcome(eicar)
    if require_eicar:
        if detected is None:
            issues.append('the EICAR test was not run')
        elif not blocked:
            issues.append('the EICAR test file was neither blocked nor removed')
    mde = defender.get('mde') or {}
    if require_mde:
        if not mde.get('onboarded'):
            issues.append('not onboarded to Defender for Endpoint (OnboardingState %s)'
                          % mde.get('onboarding_state'))
        sense = mde.get('sense') or {}
        if not sense.get('running'):
            issues.append('the Sense service is not running')
    return {
        'provider': 'defender',
        'installed': installed,
        'running': running,
        'realtime': realtime,
        'mode': mode,
        'signatures_present': signatures_present,
        'signature_age_hours': age,
        'signature_version': version,
        'eicar_detected': detected,
        'eicar_blocked': blocked,
        'mde_onboarded': bool(mde.get('onboarded')),
        'tamper_protected': defender.get('tamper_protected'),
        'healthy': not issues,
        'issues': issues,
    }


def policy_fixes(defender):
    """Registry values (``[{key, name}]``) to delete so no policy keeps Defender off."""
    return [{'key': p['key'], 'name': p['name']} for p in (defender or {}).get('disabling_policies') or ()]


def passive_mode_target(defender, phase, kaspersky_installed):
    """The ForceDefenderPassiveMode value a phase wants, or None to leave it alone.

    Servers do not switch Defender to passive by themselves [M1]: keep it passive (1)
    while Kaspersky is installed (stage), then active (0) on activate [M6]. Clients switch
    automatically; only a leftover 1 is reset on activate.
    """
    defender = defender or {}
    current = defender.get('force_passive_mode')
    if phase == 'stage':
        if defender.get('is_server') and kaspersky_installed:
            return None if current == 1 else 1
        return None
    if phase == 'activate':
        if kaspersky_installed:
            return None
        if current not in (None, 0):
            return 0
        return None
    raise ValueError('unknown phase %r (stage or activate)' % (phase,))


def needs_feature(defender):
    """True when the Windows-Defender feature must be installed (servers only)."""
    defender = defender or {}
    return bool(defender.get('is_server')) and not defender.get('feature_installed')


def needs_wdenable(defender):
    """True when ``MpCmdRun -wdenable`` should be run on activate: the feature is there but
    Defender is not running or not in Normal mode [M2][M6]."""
    defender = defender or {}
    if not defender.get('feature_installed'):
        return False
    return not defender.get('running') or defender.get('am_running_mode') != 'Normal' or \
        defender.get('antivirus_enabled') is False


def reboot_decision(results, allow_reboot):
    """Whether to reboot now, from task results that may ask for one.

    ``results`` are registered results of ansible.windows.win_feature (``reboot_required``,
    ``exitcode`` SuccessRestartRequired), kaspersky_uninstall (``reboot_required``) or any
    module returning ``reboot_required``; skipped or failed results do not count.
    Returns ``{'required', 'reboot', 'reasons'}``: ``reboot`` only when allowed.
    """
    reasons = []
    for result in results or ():
        if not isinstance(result, dict) or result.get('skipped') or result.get('failed'):
            continue
        if result.get('reboot_required') or result.get('exitcode') == 'SuccessRestartRequired':
            names = [f.get('id') or f.get('display_name') for f in result.get('feature_result') or ()
                     if f.get('reboot_required') or f.get('restart_needed')]
            if names:
                reasons.append('feature %s installed' % ', '.join(str(n) for n in names))
            elif result.get('removed') is not None or result.get('plan') is not None:
                reasons.append('Kaspersky removal (%s)' % ', '.join(result.get('removed') or ()) or 'residue')
            else:
                reasons.append(result.get('msg') or 'a change asks for a reboot')
    required = bool(reasons)
    return {'required': required, 'reboot': required and bool(allow_reboot), 'reasons': reasons}
