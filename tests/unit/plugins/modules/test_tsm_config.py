# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tsm_config run in-process against the TSM simulator, through both transports (cli and api)."""

from __future__ import annotations

import os
import sys

from ansible_collections.trustops.tableau.plugins.modules import tsm_config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import run_module  # noqa: E402  pylint: disable=wrong-import-position
from tsm_sim.harness import conn, sim, tsm_pool  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import  # fixtures: cli and api

KEYS = {"gateway.public.host": "tableau.example.test", "gateway.public.port": 443,
        "wgserver.saml.min_allowed.rsa_key_size": 2048, "wgserver.unrestricted_ticket": False}


def test_stages_only_differing_keys_in_one_import(conn, sim):
    result = run_module(tsm_config.main, conn.args(keys=KEYS), diff=True)
    assert result["changed"] and result["staged"] == ["settings import (gateway.public.host, gateway.public.port)"]
    assert [c["name"] for c in result["changes"]] == ["gateway.public.host", "gateway.public.port"]
    assert conn.reads_only(result, reads=2) and conn.since() == ["settings.export", "settings.import"]
    assert sim.pending()["configKeys"] == {"gateway.public.host": "tableau.example.test", "gateway.public.port": "443"}
    assert "gateway.public.host: localhost" in result["diff"]["before"]
    assert "gateway.public.host: tableau.example.test" in result["diff"]["after"]
    assert not result["applied"] and sim.counters()["applies"] == 0
    sim.run("pending-changes", "apply", "--ignore-prompt")
    again = run_module(tsm_config.main, conn.args(keys=KEYS))
    assert not again["changed"] and conn.reads_only(again)


def test_unknown_keys_are_refused_unless_forced(conn, sim):
    keys = {"wgserver.saml.authcontexts": "urn:x", "gateway.public.host": "t.example.test"}
    refused = run_module(tsm_config.main, conn.args(keys=keys))
    assert refused["failed"] and "TSM-050" in refused["msg"] and "nothing was changed" in refused["msg"]
    assert conn.writes() == []
    mark = conn.mark()
    forced = run_module(tsm_config.main, conn.args(keys=keys, force_keys=True))
    assert conn.since(mark) == ["settings.export", "settings.import", "settings.import"]
    assert conn.forced_imports(mark) == 1, "--force-keys only for the key the server does not have"
    assert forced["staged"] == ["settings import (gateway.public.host)",
                                "settings import --force-keys (wgserver.saml.authcontexts)"]


def test_check_mode_writes_nothing(conn, sim):
    before = sim.state_bytes()
    result = run_module(tsm_config.main, conn.args(keys=KEYS, apply=True), check=True)
    assert result["changed"] and result["applied"] and not result["restarted"]
    assert sim.state_bytes() == before and conn.writes() == []


def test_apply_true_applies_once_and_says_it_restarted(conn, sim):
    result = run_module(tsm_config.main, conn.args(keys=KEYS, apply=True))
    assert result["applied"] and result["restarted"]
    assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 1)
    assert sim.applied()["configKeys"]["gateway.public.host"] == "tableau.example.test"
    again = run_module(tsm_config.main, conn.args(keys=KEYS, apply=True))
    assert not again["changed"] and not again["applied"] and sim.counters()["applies"] == 1


def test_dynamic_key_applies_without_restart(conn, sim):
    result = run_module(tsm_config.main, conn.args(keys={"wgserver.session.idle_limit": 60}, apply=True,
                                                   allow_restart=False))
    assert result["applied"] and not result["restarted"] and sim.counters()["restarts"] == 0


def test_restart_not_allowed(conn, sim):
    result = run_module(tsm_config.main, conn.args(keys=KEYS, apply=True, allow_restart=False))
    assert result["failed"] and "allow_restart is false" in result["msg"]
    assert sim.counters()["applies"] == 0 and sim.pending()["configKeys"], "staged, not applied"
