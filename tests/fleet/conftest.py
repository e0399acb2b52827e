# -*- coding: utf-8 -*-
"""tests/fleet: the SSH test fleet's own tests (not collected by the unit stage)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[2])
if REPO not in sys.path:  # `from tests.support.fleet import ...` however pytest is started
    sys.path.insert(0, REPO)
