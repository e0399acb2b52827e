# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tsm_pending_changes against the TSM simulator: apply once, only when pending; failures leave nothing half-applied."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils.tsm import client as tsm_client
from ansible_collections.trustops.tableau.plugins.modules import tsm_pending_changes

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import SimServer, run_module  # noqa: E402  pylint: disable=wrong-import-position

RSA = "wgserver.saml.min_allowed.rsa_key_size"


@pytest.fixture
def sim(tmp_path):
    server = SimServer(tmp_path / "server")
    return server


def stage(sim):
    assert sim.run("configuration", "set", "-k", RSA, "-v", "3072").returncode == 0


def test_nothing_pending_is_no_change_and_one_call(sim):
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert not result["changed"] and not result["applied"] and result["tsm_calls"] == 1
    assert sim.counters()["applies"] == 0


def test_applies_pending_changes_and_reports_the_restart(sim):
    stage(sim)
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm}, diff=True)
    assert result["changed"] and result["applied"] and result["restart_required"] and result["restarted"]
    assert result["pending"] == [{"section": "configKeys", "name": RSA, "value": "3072", "restart": True}]
    assert result["diff"]["before"] == f"{RSA}: 3072\n"
    assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 1)
    assert "--ignore-prompt" in [c for c in sim.calls() if c["command"] == "pending-changes.apply"][0]["argv"]
    again = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert not again["changed"] and sim.counters()["applies"] == 1


def test_check_mode_applies_nothing(sim):
    stage(sim)
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm}, check=True)
    assert result["changed"] and result["applied"] and result["restarted"]
    assert sim.counters()["applies"] == 0 and sim.pending()["configKeys"] == {RSA: "3072"}


def test_discard(sim):
    assert not run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm, "state": "discarded"})["changed"]
    stage(sim)
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm, "state": "discarded"})
    assert result["changed"] and result["discarded"] and sim.pending()["configKeys"] == {}
    assert sim.applied()["configKeys"][RSA] == 2048


def test_stopped_server_is_not_restarted(sim):
    sim.run("stop")
    stage(sim)
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert result["applied"] and result["restart_required"] and not result["restarted"]
    assert result["server_status"] == "stopped" and sim.counters()["restarts"] == 0


def test_injected_failure_at_apply_fails_clearly_and_the_next_run_finishes(sim, monkeypatch):
    stage(sim)
    monkeypatch.setenv("TSM_SIM_FAIL", "pending-changes.apply:exit=4")
    failed = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert failed["failed"] and failed["rc"] == 4
    assert "pending-changes apply --ignore-prompt" in failed["msg"] and "injected by TSM_SIM_FAIL" in failed["msg"]
    assert failed["pending"][0]["name"] == RSA and failed["restart_required"] and not failed["applied"]
    assert sim.applied()["configKeys"][RSA] == 2048, "nothing half-applied"
    assert sim.pending()["configKeys"] == {RSA: "3072"} and sim.counters()["applies"] == 0
    monkeypatch.delenv("TSM_SIM_FAIL")
    done = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert done["applied"] and sim.applied()["configKeys"][RSA] == "3072" and sim.counters()["applies"] == 1


def test_timeout_fails_clearly(sim, monkeypatch):
    stage(sim)
    monkeypatch.setenv("TSM_SIM_FAIL", "pending-changes.apply:hang=30")
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm, "request_timeout": 1})
    assert result["failed"] and "did not finish within 1 s" in result["msg"]
    assert sim.counters()["applies"] == 0 and sim.pending()["configKeys"] == {RSA: "3072"}


def test_a_module_that_forgets_ignore_prompt_fails(sim, monkeypatch):
    """The referee at work: a variant of this module without --ignore-prompt cannot apply a restart."""
    original = tsm_client.CliClient.apply

    def forgetful(self, ignore_warnings=False, ignore_prompt=True):
        return original(self, ignore_warnings=ignore_warnings, ignore_prompt=False)

    monkeypatch.setattr(tsm_client.CliClient, "apply", forgetful)
    stage(sim)
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert result["failed"] and "end of input while waiting for confirmation" in result["msg"]
    assert sim.counters()["prompts"] == 1 and sim.counters()["applies"] == 0
    assert sim.applied()["configKeys"][RSA] == 2048


def test_apply_that_leaves_changes_pending_fails(sim, monkeypatch):
    """If tsm said it applied but the list is not empty afterwards, the task fails."""
    stage(sim)
    monkeypatch.setattr(tsm_client.CliClient, "apply", lambda self, **kw: self.run(["pending-changes", "list"]))
    result = run_module(tsm_pending_changes.main, {"tsm_path": sim.tsm})
    assert result["failed"] and "still pending" in result["msg"]
