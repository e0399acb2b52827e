# -*- coding: utf-8 -*-
"""The SSH test fleet: N real Linux hosts on this machine (see fleet.py and docs/fleet.md).

    from tests.support.fleet import Fleet
    with Fleet.up(3, tmp_path / "fleet") as fleet:
        run(["ansible", "all", "-i", str(fleet.inventory), "-m", "ansible.builtin.ping"])

Command line: ``python -m tests.support.fleet up --hosts N --dir D`` / ``down --dir D``.
"""

from __future__ import annotations

from .fleet import Fleet, FleetError, Host, down, registered, up
from .image import ensure_image

__all__ = ["Fleet", "FleetError", "Host", "down", "ensure_image", "registered", "up"]
