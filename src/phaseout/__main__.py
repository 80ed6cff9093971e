# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m phaseout"""
import sys

from phaseout.cli import main

sys.exit(main())
