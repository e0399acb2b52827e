# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tsm_config run in-process against the TSM simulator."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.trustops.tableau.plugins.modules import tsm_config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import SimServer, run_module  # noqa: E402  pylint: disable=wrong-import-position

KEYS = {"gateway.public.host": "tableau.example.test", "gateway.public.port": 443,
        "wgserver.saml.min_allowed.rsa_key_size": 2048, "wgserver.unrestricted_ticket": False}


@pytest.fixture
def sim(tmp_path):
    return SimServer(tmp_path / "server")


def test_stages_only_differing_keys_in_one_import(sim):
    result = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": KEYS}, diff=True)
    assert result["changed"] and result["staged"] == ["settings import (gateway.public.host, gateway.public.port)"]
    assert [c["name"] for c in result["changes"]] == ["gateway.public.host", "gateway.public.port"]
    assert result["tsm_calls"] == 2 and [c["command"] for c in sim.calls()] == ["settings.export", "settings.import"]
    assert sim.pending()["configKeys"] == {"gateway.public.host": "tableau.example.test", "gateway.public.port": "443"}
    assert "gateway.public.host: localhost" in result["diff"]["before"]
    assert "gateway.public.host: tableau.example.test" in result["diff"]["after"]
    assert not result["applied"] and sim.counters()["applies"] == 0
    sim.run("pending-changes", "apply", "--ignore-prompt")
    again = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": KEYS})
    assert not again["changed"] and again["tsm_calls"] == 1


def test_unknown_keys_are_refused_unless_forced(sim):
    keys = {"wgserver.saml.authcontexts": "urn:x", "gateway.public.host": "t.example.test"}
    refused = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": keys})
    assert refused["failed"] and "TSM-050" in refused["msg"] and "nothing was changed" in refused["msg"]
    assert sim.write_calls() == []
    forced = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": keys, "force_keys": True})
    imports = [c["argv"] for c in sim.calls() if c["command"] == "settings.import"]
    assert len(imports) == 2 and "--force-keys" not in imports[0] and "--force-keys" in imports[1]
    assert forced["staged"] == ["settings import (gateway.public.host)",
                                "settings import --force-keys (wgserver.saml.authcontexts)"]


def test_check_mode_writes_nothing(sim):
    before = sim.state_bytes()
    result = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": KEYS, "apply": True}, check=True)
    assert result["changed"] and result["applied"] and not result["restarted"]
    assert sim.state_bytes() == before and sim.write_calls() == []


def test_apply_true_applies_once_and_says_it_restarted(sim):
    result = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": KEYS, "apply": True})
    assert result["applied"] and result["restarted"]
    assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 1)
    assert sim.applied()["configKeys"]["gateway.public.host"] == "tableau.example.test"
    again = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": KEYS, "apply": True})
    assert not again["changed"] and not again["applied"] and sim.counters()["applies"] == 1


def test_dynamic_key_applies_without_restart(sim):
    result = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": {"wgserver.session.idle_limit": 60},
                                          "apply": True, "allow_restart": False})
    assert result["applied"] and not result["restarted"] and sim.counters()["restarts"] == 0


def test_restart_not_allowed(sim):
    result = run_module(tsm_config.main, {"tsm_path": sim.tsm, "keys": KEYS, "apply": True, "allow_restart": False})
    assert result["failed"] and "allow_restart is false" in result["msg"]
    assert sim.counters()["applies"] == 0 and sim.pending()["configKeys"], "staged, not applied"
