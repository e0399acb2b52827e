# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tsm_trusted_auth and tsm_info against the TSM simulator, through both transports."""

from __future__ import annotations

import json
import os
import sys

from ansible_collections.trustops.tableau.plugins.modules import tsm_info, tsm_trusted_auth

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import run_module, warned  # noqa: E402  pylint: disable=wrong-import-position
from tsm_sim.harness import conn, sim, tsm_pool  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import  # fixtures: cli and api


def apply(sim):
    assert sim.run("pending-changes", "apply", "--ignore-prompt").returncode == 0


def test_trusted_hosts_token_length_and_unrestricted_tickets(conn, sim):
    args = conn.args(trusted_hosts=["webserv1", "10.0.0.21"], token_length=32, unrestricted_tickets=True)
    result = run_module(tsm_trusted_auth.main, args)
    assert result["staged"] == ["authentication trusted configure (hosts, token_length)",
                                "settings import (wgserver.unrestricted_ticket)"]
    assert warned(result, "TSM-020")
    if conn.api:
        staged = [r["body"] for r in sim.api_log() if r["command"] == "settings.import"][0]
        assert staged == {"configEntities": {"trustedAuthenticationSettings": {
            "_type": "trustedAuthenticationSettingsType", "trustedHosts": ["webserv1", "10.0.0.21"], "tokenLength": 32}}}
    else:
        configure = [c for c in sim.calls() if c["command"] == "authentication.trusted.configure"][0]
        assert configure["argv"][3:] == ["--hosts", "webserv1,", "10.0.0.21", "--token-length", "32"]
    apply(sim)
    trusted = sim.applied()["configEntities"]["trustedAuthenticationSettings"]
    assert trusted == {"trustedHosts": ["webserv1", "10.0.0.21"], "tokenLength": 32}
    reordered = dict(args, trusted_hosts=["10.0.0.21", "webserv1"])
    again = run_module(tsm_trusted_auth.main, reordered)
    assert not again["changed"] and conn.reads_only(again)
    fewer = run_module(tsm_trusted_auth.main, dict(args, trusted_hosts=["webserv1"]))
    assert fewer["staged"] == ["authentication trusted configure (hosts)"]


def test_token_length_out_of_range(conn, sim):
    result = run_module(tsm_trusted_auth.main, conn.args(token_length=8))
    assert result["failed"] and [f["code"] for f in result["findings"]] == ["TSM-021"]
    assert conn.writes() == []


def test_info_reports_state_and_masks_secrets(conn, sim):
    sim.run("configuration", "set", "-k", "wgserver.saml.key.passphrase", "-v", "Info-Secret-1", "--force-keys")
    sim.run("authentication", "trusted", "configure", "-th", "web1", "-t", "40")
    apply(sim)
    sim.run("configuration", "set", "-k", "gateway.public.host", "-v", "t.example.test")
    mark = conn.mark()
    result = run_module(tsm_info.main, conn.args(keys=["gateway.public.host", "no.such.key"], status=True))
    assert conn.reads_only(result, reads=3) and not result["changed"]
    assert result["saml"]["enabled"] is False and result["saml"]["max_auth_age"] == 7200
    assert result["saml_keys"]["key_passphrase_set"] is True and result["saml_keys"]["min_rsa_key_size"] == 2048
    assert result["trusted_auth"] == {"trusted_hosts": ["web1"], "token_length": 40, "unrestricted_tickets": False}
    assert result["keys"]["gateway.public.host"] == "localhost", "applied value, not the pending one"
    assert result["keys"]["wgserver.saml.key.passphrase"] == "********"
    assert "no.such.key" in result["unknown_keys"] and result["keys"]["no.such.key"] is None
    assert result["pending"] == [{"section": "configKeys", "name": "gateway.public.host", "value": "t.example.test",
                                  "restart": True}]
    assert result["server_status"] == "running" and result["mutual_ssl"]["user_name_mapping"] == "upn"
    assert "Info-Secret-1" not in json.dumps(result)
    assert conn.since(mark) == ["settings.export", "pending-changes.list", "status"]
