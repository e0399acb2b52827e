# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tsm_mutual_ssl and tsm_external_ssl against the TSM simulator, through both transports."""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible_collections.trustops.tableau.plugins.modules import tsm_external_ssl, tsm_mutual_ssl

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import idp_metadata, make_crl, run_module, warned, write  # noqa: E402  pylint: disable=wrong-import-position
from tsm_sim.harness import conn, sim, tsm_pool  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import  # fixtures: cli and api

PASS = "Ssl-Key-Passphrase-7"


@pytest.fixture
def files(tmp_path, pki):
    root = pki.root(cn="Server Root")
    inter = pki.intermediate(root, cn="Server Intermediate")
    leaf = pki.leaf(inter, cn="tableau.example.test")
    clients = pki.root(cn="Client CA")
    d = tmp_path / "staged"
    return {
        "cert": write(d / "server.crt", leaf.pem), "key": write(d / "server.key", leaf.key_pem("pkcs1")),
        "key_enc": write(d / "server-enc.key", leaf.key_pem("pkcs8", PASS.encode())),
        "chain": write(d / "chain.crt", inter.pem + root.pem), "client_ca": write(d / "clients.crt", clients.pem),
        "crl": write(d / "revoked.pem", make_crl(clients, [1234])), "clients": clients,
        "wrong_key": write(d / "wrong.key", pki.root(cn="other").key_pem()),
        "idp": write(d / "idp.xml", idp_metadata()), "leaf": leaf,
    }


def ssl_args(conn, files, **extra):
    base = {"cert_file": files["cert"], "key_file": files["key"], "chain_file": files["chain"]}
    base.update(extra)
    return conn.args(**base)


def apply(sim):
    proc = sim.run("pending-changes", "apply", "--ignore-prompt")
    assert proc.returncode == 0, proc.stderr


def test_external_ssl_then_mutual_ssl_in_one_play_then_converged(conn, sim, files):
    ssl = run_module(tsm_external_ssl.main, ssl_args(conn, files))
    assert ssl["changed"] and ssl["staged"] == ["security external-ssl enable (cert_file, chain_file, key_file)"]
    # mutual SSL sees external SSL pending (the pending list is read only because it enables)
    mutual = run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"],
                                              "user_name_mapping": "cn", "revocation_file": files["crl"]})
    assert mutual["changed"], mutual
    assert mutual["staged"] == ["authentication mutual-ssl configure (ca_cert, revocation_file, user_name_mapping)",
                                "authentication mutual-ssl enable"]
    if conn.api:  # sign-in, export, pending list, the CA and the CRL uploaded, two requestedChanges, sign-out
        assert mutual["tsm_calls"] == 8
        assert conn.since()[-4:] == ["settings.export", "pending-changes.list", "settings.import", "settings.import"]
    else:
        assert mutual["tsm_calls"] == 4
    apply(sim)
    assert sim.counters()["applies"] == 1
    mssl = sim.applied()["configEntities"]["mutualSSLSettings"]
    assert mssl["clientCertRequired"] and mssl["sslEnabled"] and mssl["userNameMapping"] == "cn"

    mark = conn.mark()
    assert not run_module(tsm_external_ssl.main, ssl_args(conn, files))["changed"]
    again = run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"],
                                             "user_name_mapping": "cn", "revocation_file": files["crl"]})
    assert not again["changed"] and conn.reads_only(again)
    assert conn.since(mark) == ["settings.export", "settings.export"]


def test_only_the_mapping_changes(conn, sim, files):
    run_module(tsm_external_ssl.main, ssl_args(conn, files))
    run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"], "user_name_mapping": "upn"})
    apply(sim)
    result = run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"],
                                              "user_name_mapping": "ldap"}, diff=True)
    assert result["staged"] == ["authentication mutual-ssl configure (user_name_mapping)"]
    assert "mutualSSLSettings.userNameMapping: upn" in result["diff"]["before"]
    assert "mutualSSLSettings.userNameMapping: ldap" in result["diff"]["after"]


def test_mutual_ssl_needs_external_ssl(conn, sim, files):
    result = run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"]})
    assert result["failed"] and [f["code"] for f in result["findings"]] == ["TSM-010"]
    assert conn.writes() == []


def test_mutual_ssl_refused_next_to_saml(conn, sim, files):
    run_module(tsm_external_ssl.main, ssl_args(conn, files))
    sim.run("authentication", "saml", "configure", "-e", "https://t.example.test", "-r", "https://t.example.test",
            "-i", files["idp"], "-cf", files["cert"], "-kf", files["key"])
    sim.run("authentication", "saml", "enable")
    mark = conn.mark()
    result = run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"]})
    assert result["failed"] and "TSM-001" in result["msg"] and "SAML" in result["msg"]
    assert conn.writes(mark) == [], "nothing staged"
    configured_only = run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"],
                                                       "state": "configured"})
    assert configured_only["changed"] and configured_only["staged"] == ["authentication mutual-ssl configure (ca_cert)"]


def test_fallback_warns(conn, sim, files):
    result = run_module(tsm_mutual_ssl.main, {**conn.args(), "fallback_to_basic": True, "state": "configured"})
    assert warned(result, "TSM-012") and result["staged"] == ["authentication mutual-ssl configure (fallback_to_basic)"]


def test_external_ssl_checks(conn, sim, files):
    mismatch = run_module(tsm_external_ssl.main, ssl_args(conn, files, key_file=files["wrong_key"]))
    assert mismatch["failed"] and "TSM-032" in [f["code"] for f in mismatch["findings"]]
    no_pass = run_module(tsm_external_ssl.main, ssl_args(conn, files, key_file=files["key_enc"]))
    assert no_pass["failed"] and "TSM-033" in [f["code"] for f in no_pass["findings"]]
    wrong_pass = run_module(tsm_external_ssl.main, ssl_args(conn, files, key_file=files["key_enc"], passphrase="x"))
    assert wrong_pass["failed"] and "wrong passphrase" in wrong_pass["msg"]
    assert conn.writes() == []
    no_chain = run_module(tsm_external_ssl.main, ssl_args(conn, files, chain_file=None), check=True)
    assert warned(no_chain, "TSM-030") and "Android" in json.dumps(no_chain["findings"])


def test_external_ssl_passphrase_is_masked(conn, sim, files):
    result = run_module(tsm_external_ssl.main, ssl_args(conn, files, key_file=files["key_enc"], passphrase=PASS))
    assert result["changed"] and [f["code"] for f in result["findings"]] == ["TSM-031"]
    assert PASS not in json.dumps(result) and "--passphrase" not in " ".join(result["commands"])
    assert "mutualSSLSettings.keyPassphrase" in result["masked_keys"]
    assert all(PASS not in arg for argv in sim.argv_log() for arg in argv), "never on a command line"
    if conn.api:  # one request with the files and the passphrase; the simulator logs secret values masked
        staged = [r for r in sim.api_log() if r["command"] == "settings.import"]
        assert len(staged) == 1 and staged[0]["body"]["configEntities"]["mutualSSLSettings"]["keyPassphrase"] == "********"
        assert PASS not in json.dumps(sim.api_log()) and all(PASS not in c for c in result["commands"])
    else:
        assert result["commands"][-1].split(" ", 1)[1].startswith("settings import --import-config-file")
    assert sim.pending()["configEntities"]["mutualSSLSettings"]["keyPassphrase"].startswith("ENC(")


def test_external_ssl_disable(conn, sim, files):
    run_module(tsm_external_ssl.main, ssl_args(conn, files))
    apply(sim)
    result = run_module(tsm_external_ssl.main, {**conn.args(), "state": "disabled"})
    assert result["staged"] == ["security external-ssl disable"]
    apply(sim)
    assert not run_module(tsm_external_ssl.main, {**conn.args(), "state": "disabled"})["changed"]


def test_external_ssl_cannot_be_disabled_under_mutual_ssl(conn, sim, files):
    run_module(tsm_external_ssl.main, ssl_args(conn, files))
    run_module(tsm_mutual_ssl.main, {**conn.args(), "ca_cert": files["client_ca"]})
    apply(sim)
    result = run_module(tsm_external_ssl.main, {**conn.args(), "state": "disabled"})
    assert result["failed"] and "TSM-034" in result["msg"]
