# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main readiness run, made once per test session (also under pytest-xdist)."""

from __future__ import annotations

import fcntl
import os

import pytest

from readiness_runs import MainRun


@pytest.fixture(scope="session")
def main_run(tmp_path_factory, worker_id):
    """Run the main playbook once per test session, also when pytest-xdist splits the tests."""
    if worker_id == "master":
        base = tmp_path_factory.getbasetemp()
    else:
        base = tmp_path_factory.getbasetemp().parent
    directory = str(base / "readiness-main")
    os.makedirs(directory, exist_ok=True)
    run = MainRun(directory)
    with open(os.path.join(directory, ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.path.exists(os.path.join(directory, "result.json")):
                run.run()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return run.load()
