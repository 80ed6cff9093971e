# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The outcomes of the replace phase, and how a failure is classified from the host's real state.

When anything in the swap fails, the replace role reads the host again
(``kaspersky_info``: Kaspersky's real-time state and every other real-time
engine running) and asks ``after_failure`` what it means. The rule is: never
two engines, never silently none.

- the host was lost: ``unreachable`` (protection unknown; the journal on the host
  lets the next run reconcile it);
- Kaspersky protects it (rolled back): ``failed``;
- the replacement protects it and a later step (removal, clean-up) failed:
  ``removal_incomplete``, naming the step; no fallback, no second engine;
- the replacement runs but fails its health contract: ``degraded``; no second
  engine either;
- two engines run: ``failed``, said loudly;
- nothing protects it: the fallback provider, if there is one (``fallback``), else
  ``unprotected``.
"""

from __future__ import annotations

# outcome -> (status the wave gate and the job see, one-line meaning)
OUTCOMES = {
    'replaced': ('ok', 'Kaspersky removed, the replacement active and healthy'),
    'compliant': ('ok', 'nothing of Kaspersky to remove, the replacement healthy'),
    'skipped': ('skipped', 'deliberately excluded (do-not-touch)'),
    'would_replace': ('ok', 'dry run: Kaspersky would be replaced'),
    'would_install': ('ok', 'dry run: the replacement would be installed (no Kaspersky)'),
    'blocked': ('failed', 'not ready or staging failed; Kaspersky untouched'),
    'failed': ('failed', 'the swap failed and was rolled back; Kaspersky protects the host'),
    'removal_incomplete': ('failed', 'the replacement protects the host; Kaspersky\'s removal did not finish'),
    'degraded': ('failed', 'the replacement runs but fails its health contract'),
    'fallback': ('failed', 'the replacement failed with Kaspersky gone; the fallback provider protects the host'),
    'unprotected': ('failed', 'NOTHING protects the host'),
    'unreachable': ('unreachable', 'the host was lost; protection unknown until the next run reads its journal'),
    'interrupted': ('interrupted', 'the run was interrupted; protection unknown until the next run reads the host'),
}

# The replace providers' real-time engines, as kaspersky_info names them (realtime_engines[].id).
PROVIDER_ENGINES = {'clamav': 'clamav', 'mdatp': 'mdatp', 'defender': 'defender'}


def status_of(outcome):
    return OUTCOMES.get(outcome, ('failed', ''))[0]


def engine_active(detection, provider):
    """Whether ``provider``'s real-time engine is on according to kaspersky_info (None: cannot tell)."""
    engine = PROVIDER_ENGINES.get(provider)
    if engine is None:
        return None
    # Linux and Windows detections carry the same realtime_engines list (Windows: Defender only when it runs in
    # normal mode with real-time protection on; passive mode is not protection)
    for found in (detection or {}).get('realtime_engines') or ():
        if found.get('id') == engine:
            return found.get('realtime')
    return False


def after_failure(detection, provider, failed_step='', error='', lost_during='', replacement_active=None,
                  fallback_provider='none', verification_failed=False, installed_after=None):
    """Classify a failed swap from the host's state after the failure.

    ``detection`` is kaspersky_info's result after the failure (None or unreachable when the
    host could not be read); ``replacement_active`` overrides what the detection says of the
    provider (a provider kaspersky_info does not know, such as a generic vendor, is checked by
    its own command). Returns {outcome, error, fallback, engines}.
    """
    error = ' '.join(str(error or '').split())
    step = failed_step or 'the swap'
    if lost_during or not isinstance(detection, dict) or detection.get('unreachable') or detection.get('failed'):
        where = lost_during or step
        return {'outcome': 'unreachable', 'fallback': False, 'engines': 'unknown',
                'error': 'unreachable during %s: protection unknown; the next run reconciles the host from its '
                         'journal%s' % (where, (' (%s)' % error) if error else '')}
    kaspersky = bool(detection.get('realtime_protection_active'))
    replacement = engine_active(detection, provider) if replacement_active is None else replacement_active
    others = sorted(e['id'] for e in detection.get('realtime_engines') or ()
                    if e.get('realtime') and e.get('id') != PROVIDER_ENGINES.get(provider))
    engines = '+'.join((['kaspersky'] if kaspersky else []) + ([provider] if replacement else []) + others) or 'none'
    still = sorted(installed_after if installed_after is not None else detection.get('installed') or [])
    if kaspersky and (replacement or others):
        return {'outcome': 'failed', 'fallback': False, 'engines': engines,
                'error': 'TWO REAL-TIME ENGINES (%s) after %s failed: %s; stop one of them now' % (engines, step, error)}
    if kaspersky:
        return {'outcome': 'failed', 'fallback': False, 'engines': engines,
                'error': '%s: %s (Kaspersky still protects the host)' % (step, error)}
    if replacement and verification_failed:
        return {'outcome': 'degraded', 'fallback': False, 'engines': engines,
                'error': '%s runs but fails its health contract (%s): %s; no second engine was installed'
                         % (provider, step, error)}
    if replacement:
        return {'outcome': 'removal_incomplete', 'fallback': False, 'engines': engines,
                'error': '%s protects the host; Kaspersky\'s removal did not finish at %s: %s%s' % (
                    provider, step, error, ('; still installed: %s' % ', '.join(still)) if still else '')}
    if others:
        return {'outcome': 'failed', 'fallback': False, 'engines': engines,
                'error': '%s failed (%s: %s); %s protects the host, not the chosen replacement'
                         % (provider, step, error, ', '.join(others))}
    if fallback_provider and fallback_provider != 'none':
        return {'outcome': 'fallback', 'fallback': True, 'engines': 'none',
                'error': '%s failed with Kaspersky gone (%s: %s); %s protects the host instead' % (
                    provider, step, error, fallback_provider)}
    return {'outcome': 'unprotected', 'fallback': False, 'engines': 'none',
            'error': 'UNPROTECTED: %s failed with Kaspersky gone (%s: %s) and no fallback provider is configured'
                     % (provider, step, error)}


def dry_run(detection, provider):
    """What a dry run says a real run would do on a host (from the read-only detection)."""
    if (detection or {}).get('verdict') in ('installed', 'residue'):
        return 'would_replace'
    if engine_active(detection, provider):
        return 'compliant'
    return 'would_install'
