# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""The replacement-provider health filters.

The logic lives in module_utils/provider_health.py, where the modules that
probe a provider on the host in one call (clamav_verify, mdatp_verify) use it
too; see there for the health dictionary and the probes each filter reads.
"""

from __future__ import annotations

# pylint: disable=unused-import
from ansible_collections.phaseout.antivirus.plugins.module_utils.provider_health import (  # noqa: F401
    _package_installed,
    clamav_health,
    eicar_test_string,
    generic_health,
    installed_packages,
    mdatp_health,
    mdatp_health_fields,
    systemd_units,
)


class FilterModule:
    """phaseout.antivirus provider health filters."""

    def filters(self):
        return {
            'clamav_health': clamav_health,
            'mdatp_health': mdatp_health,
            'mdatp_health_fields': mdatp_health_fields,
            'generic_health': generic_health,
            'eicar_test_string': eicar_test_string,
            'installed_packages': installed_packages,
            'systemd_units': systemd_units,
        }
