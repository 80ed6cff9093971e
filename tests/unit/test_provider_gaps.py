# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.filter.provider_gaps import provider_gaps

STAGED_OK = {'installed': True, 'running': True, 'signatures_present': True, 'eicar_detected': True,
             'realtime': False, 'eicar_blocked': None}


def test_staged_does_not_need_realtime():
    assert provider_gaps(STAGED_OK, 'staged') == []


def test_active_needs_realtime_and_blocking():
    assert provider_gaps(STAGED_OK, 'active') == ['real-time protection is off']
    blocked_failed = dict(STAGED_OK, realtime=True, eicar_blocked=False)
    assert provider_gaps(blocked_failed, 'active') == ['on-access scanning did not block the EICAR test file']
    assert provider_gaps(dict(STAGED_OK, realtime=True, eicar_blocked=True), 'active') == []


def test_every_missing_piece_is_named():
    gaps = provider_gaps({'installed': True, 'running': False, 'signatures_present': None}, 'staged')
    assert gaps == ['the replacement daemon is not running', 'no signatures are loaded',
                    'the on-demand scan did not detect the EICAR test file']
    assert provider_gaps({}, 'staged') == ['the provider reported no health (its verify step did not run)']


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match='expects the provider health dict'):
        provider_gaps(None)
    with pytest.raises(AnsibleFilterError, match="expect must be 'staged' or 'active'"):
        provider_gaps(STAGED_OK, 'half')
