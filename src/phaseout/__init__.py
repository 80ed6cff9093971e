# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""phaseout's command line: the phase playbooks through ansible-runner, progress, runs and reports."""

__version__ = '0.1.0'
