# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15: the two transports on one simulated server. A server configured through the TSM API reads
back the same through the tsm command line (and the reverse), and a converged run through the API costs
one sign-in and one read per module: no write, no apply."""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible_collections.trustops.tableau.plugins.modules import (tsm_config, tsm_external_ssl, tsm_info,
                                                                  tsm_mutual_ssl, tsm_pending_changes, tsm_saml,
                                                                  tsm_trusted_auth)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import API_PASSWORD, Connection, SimServer, idp_metadata, make_crl, run_module, write  # noqa: E402  pylint: disable=wrong-import-position

URL = "https://tableau.example.test"
KEYS = {"gateway.public.host": "tableau.example.test", "gateway.public.port": 443}


@pytest.fixture
def sim(tmp_path):
    server = SimServer(tmp_path / "server")
    server.start_api()
    yield server
    server.stop_api()


@pytest.fixture
def files(tmp_path, pki):
    root = pki.root(cn="Parity Root")
    leaf = pki.leaf(root, cn="tableau.example.test")
    clients = pki.root(cn="Parity Client CA")
    d = tmp_path / "in"
    return {"cert": write(d / "sp.crt", leaf.pem), "key": write(d / "sp.key", leaf.key_pem("pkcs1")),
            "idp": write(d / "idp.xml", idp_metadata("p")), "chain": write(d / "chain.crt", root.pem),
            "client_ca": write(d / "clients.crt", clients.pem), "crl": write(d / "clients.pem", make_crl(clients, [3]))}


def saml(files, **extra):
    return dict({"idp_entity_id": URL, "return_url": URL, "idp_metadata_file": files["idp"], "cert_file": files["cert"],
                 "key_file": files["key"], "max_auth_age": 3600, "authcontexts": ["urn:a"]}, **extra)


def info(conn):
    result = run_module(tsm_info.main, conn.args(keys=list(KEYS)))
    assert not result.get("failed"), result
    return {k: result[k] for k in ("saml", "saml_keys", "mutual_ssl", "external_ssl", "trusted_auth", "keys")}


def test_configured_through_the_api_reads_back_the_same_through_the_cli(sim, files):
    api, cli = Connection(sim, "api"), Connection(sim, "cli")
    for module, options in ((tsm_config, {"keys": KEYS}), (tsm_saml, saml(files)),
                            (tsm_trusted_auth, {"trusted_hosts": ["portal.example.test"], "token_length": 40})):
        result = run_module(module.main, api.args(**options))
        assert result["changed"] and not result.get("failed"), result
    assert run_module(tsm_pending_changes.main, api.args())["applied"]
    assert sim.counters()["invocations"] == 0, "no tsm command ran"
    through_cli, through_api = info(cli), info(api)
    assert through_cli == through_api
    assert through_cli["saml"]["enabled"] and through_cli["saml"]["return_url"] == URL
    assert through_cli["saml"]["max_auth_age"] == 3600 and through_cli["keys"]["gateway.public.port"] == "443"
    assert through_cli["trusted_auth"] == {"trusted_hosts": ["portal.example.test"], "token_length": 40,
                                           "unrestricted_tickets": False}
    with open(through_cli["saml"]["cert_file"], "rb") as handle, open(files["cert"], "rb") as given:
        assert handle.read() == given.read(), "the file TSM keeps is the one uploaded"
    # the command line finds the server converged: the files it can read are the ones the API uploaded
    for module, options in ((tsm_config, {"keys": KEYS}), (tsm_saml, saml(files)),
                            (tsm_trusted_auth, {"trusted_hosts": ["portal.example.test"], "token_length": 40})):
        again = run_module(module.main, cli.args(**options))
        assert not again["changed"] and again["tsm_calls"] == 1, again


def test_configured_through_the_cli_reads_back_the_same_through_the_api(sim, files):
    api, cli = Connection(sim, "api"), Connection(sim, "cli")
    ssl = {"cert_file": files["cert"], "key_file": files["key"], "chain_file": files["chain"]}
    mutual = {"ca_cert": files["client_ca"], "revocation_file": files["crl"], "user_name_mapping": "cn"}
    for module, options in ((tsm_config, {"keys": KEYS}), (tsm_external_ssl, ssl), (tsm_mutual_ssl, mutual)):
        assert run_module(module.main, cli.args(**options))["changed"]
    assert run_module(tsm_pending_changes.main, cli.args())["applied"]
    assert sim.api_counters()["requests"] == 0, "no API request"
    through_api, through_cli = info(api), info(cli)
    assert through_api == through_cli
    assert through_api["mutual_ssl"]["enabled"] and through_api["mutual_ssl"]["user_name_mapping"] == "cn"
    assert through_api["external_ssl"]["enabled"]
    # keys compare by value: converged through the API at once
    keys = run_module(tsm_config.main, api.args(keys=KEYS))
    assert not keys["changed"] and api.reads_only(keys)
    # files the API did not upload cannot be read from where it runs: uploaded once, then converged
    first = run_module(tsm_mutual_ssl.main, api.args(**mutual))
    assert first["staged"] == ["authentication mutual-ssl configure (ca_cert, revocation_file)"], first
    assert "(not readable here)" in json.dumps(run_module(tsm_mutual_ssl.main, api.args(**mutual), check=True,
                                                          diff=True)["diff"])
    assert run_module(tsm_pending_changes.main, api.args())["applied"]
    assert not run_module(tsm_mutual_ssl.main, api.args(**mutual))["changed"]


def test_a_converged_api_run_is_one_sign_in_and_one_read_per_module(sim, files):
    api = Connection(sim, "api")
    tasks = [(tsm_config, {"keys": KEYS}), (tsm_saml, saml(files)),
             (tsm_trusted_auth, {"trusted_hosts": ["portal.example.test"], "token_length": 40})]
    for module, options in tasks:
        run_module(module.main, api.args(**options))
    run_module(tsm_pending_changes.main, api.args())
    state = sim.state_bytes()
    for module, options in tasks + [(tsm_pending_changes, {})]:
        before = dict(sim.api_counters())
        result = run_module(module.main, api.args(**options))
        after = sim.api_counters()
        names = ("requests", "logins", "reads", "writes", "uploads", "applies", "logouts")
        delta = {k: after[k] - before[k] for k in names}
        assert not result["changed"], (module.__name__, result)
        assert delta == {"requests": 3, "logins": 1, "reads": 1, "writes": 0, "uploads": 0, "applies": 0,
                         "logouts": 1}, (module.__name__, delta)
        assert result["tsm_calls"] == 3 and result["commands"][0] == "POST /api/0.5/login"
    assert json.loads(sim.state_bytes())["applied"] == json.loads(state)["applied"]
    assert sim.pending() == {"configKeys": {}, "configEntities": {}}
    assert sim.counters()["applies"] == 1 and sim.counters()["restarts"] == 1
    assert API_PASSWORD not in json.dumps(sim.api_log())
