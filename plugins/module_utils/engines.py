# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""Real-time engines other than the banned vendor's: data, like the product catalog."""

from __future__ import annotations

# Real-time engines phaseout recognises on a Linux host besides the banned vendor's own: the
# replacements it installs, and other vendors' agents that would make a second engine. Used to
# report what protects a host right now and to refuse to install a second engine next to a
# working one. ``processes`` are executable path prefixes (argv[0] or argv[1] for interpreters);
# ``fanotify`` means real-time is proven by the process holding fanotify marks; ``managed_config``
# is a JSON file whose antivirusEngine.enforcementLevel says whether real-time is on.
REALTIME_ENGINES = (
    {'id': 'clamav', 'name': 'ClamAV on-access scanning (clamonacc)',
     'linux': {'processes': ('/usr/sbin/clamonacc', '/usr/bin/clamonacc', '/usr/local/sbin/clamonacc'),
               'fanotify': True}},
    {'id': 'mdatp', 'name': 'Microsoft Defender for Endpoint',
     'linux': {'processes': ('/opt/microsoft/mdatp/sbin/wdavdaemon',),
               'managed_config': '/etc/opt/microsoft/mdatp/managed/mdatp_managed.json',
               'cli': ('/usr/bin/mdatp', 'health', '--field', 'real_time_protection_enabled')}},
    {'id': 'crowdstrike', 'name': 'CrowdStrike Falcon sensor', 'linux': {'processes': ('/opt/CrowdStrike/',)}},
    {'id': 'sentinelone', 'name': 'SentinelOne agent', 'linux': {'processes': ('/opt/sentinelone/',)}},
    {'id': 'sophos', 'name': 'Sophos Protection for Linux', 'linux': {'processes': ('/opt/sophos-spl/', '/opt/sophos-av/')}},
    {'id': 'eset', 'name': 'ESET Server Security / Endpoint Antivirus', 'linux': {'processes': ('/opt/eset/',)}},
    {'id': 'trendmicro', 'name': 'Trend Micro Deep Security agent', 'linux': {'processes': ('/opt/ds_agent/',)}},
    {'id': 'trellix', 'name': 'Trellix (McAfee) Endpoint Security', 'linux': {'processes': ('/opt/McAfee/', '/opt/isec/')}},
    {'id': 'bitdefender', 'name': 'Bitdefender GravityZone', 'linux': {'processes': ('/opt/bitdefender-security-tools/',)}},
)
