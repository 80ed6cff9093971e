# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Why a host fails verify: the reasons in the fleet report."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.phaseout.antivirus.plugins.filter.attestation_reasons import attestation_reasons

HEALTHY = {'healthy': True, 'issues': []}


def test_compliant_host_has_no_reason():
    assert attestation_reasons({'verdict': 'clean', 'installed': [], 'residue': []}, HEALTHY, 'clamav') == []


def test_installed_products_and_unhealthy_provider_are_both_listed():
    reasons = attestation_reasons(
        {'verdict': 'installed', 'installed': ['kesl', 'klnagent'], 'residue': []},
        {'healthy': False, 'issues': ['real-time protection is off', 'no signature database is present']},
        'clamav')
    assert reasons == [
        'Kaspersky installed: kesl, klnagent',
        'clamav: real-time protection is off',
        'clamav: no signature database is present',
    ]


def test_residue_names_a_few_leftovers_and_counts_the_rest():
    leftovers = [{'type': 'path', 'path': '/opt/kaspersky/kesl%d' % i} for i in range(5)]
    reasons = attestation_reasons({'verdict': 'residue', 'installed': [], 'residue': ['kesl'],
                                   'leftovers': leftovers, 'kernel_modules': ['kav4fs_oas']}, HEALTHY)
    assert reasons == ['Kaspersky residue: kesl; leftovers /opt/kaspersky/kesl0, /opt/kaspersky/kesl1, '
                       '/opt/kaspersky/kesl2 and 2 more; kernel modules kav4fs_oas']


def test_summary_form_leftovers_are_accepted():
    reasons = attestation_reasons({'verdict': 'residue', 'residue': [], 'leftovers': ['path:/var/opt/kaspersky']},
                                  HEALTHY)
    assert reasons == ['Kaspersky residue: leftovers /var/opt/kaspersky']


def test_error_comes_first_and_replaces_the_unknowns():
    reasons = attestation_reasons({}, {}, 'mdatp', error='Look for any trace of Kaspersky: unreachable')
    assert reasons == ['Look for any trace of Kaspersky: unreachable']


def test_unread_parts_are_reasons_without_an_error():
    assert attestation_reasons(None, None, 'mdatp') == [
        'Kaspersky: the host could not be inspected', 'mdatp: health not checked']


def test_unhealthy_without_issues_still_says_so():
    assert attestation_reasons({'verdict': 'clean'}, {'healthy': False}, 'testav') == [
        'testav: unhealthy (no reason given)']


def test_wrong_types_are_clear_errors():
    with pytest.raises(AnsibleFilterError, match='kaspersky_info result'):
        attestation_reasons('clean', HEALTHY)
    with pytest.raises(AnsibleFilterError, match='health contract'):
        attestation_reasons({'verdict': 'clean'}, ['healthy'])


def test_an_interrupted_swap_and_two_engines_are_reasons():
    from ansible_collections.phaseout.antivirus.plugins.filter.attestation_reasons import attestation_reasons
    kaspersky = {'verdict': 'clean', 'protection': 'kaspersky+clamav',
                 'journal': {'interrupted': True, 'message': 'interrupted at step kaspersky_stopped'}}
    reasons = attestation_reasons(kaspersky, {'healthy': True}, 'clamav')
    assert reasons == ['swap interrupted at step kaspersky_stopped', 'two real-time engines run: kaspersky+clamav']
    assert attestation_reasons({'verdict': 'clean', 'protection': 'clamav', 'journal': {'interrupted': False}},
                               {'healthy': True}, 'clamav') == []
