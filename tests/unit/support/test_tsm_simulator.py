# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM simulator as a referee: its CLI does what the vendor pages say (see its header)."""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from tsm_sim.harness import SimServer, idp_metadata, write  # noqa: E402  pylint: disable=wrong-import-position

RSA = "wgserver.saml.min_allowed.rsa_key_size"
AUTHCTX = "wgserver.saml.authcontexts"
IDLE = "wgserver.session.idle_limit"  # a dynamic key in the simulator


@pytest.fixture
def sim(tmp_path):
    return SimServer(tmp_path / "server")


@pytest.fixture
def saml_files(tmp_path, pki):
    root = pki.root(cn="SAML Test Root")
    leaf = pki.leaf(root, cn="tableau.example.test")
    return {"cert": write(tmp_path / "in" / "sp.crt", leaf.pem), "key": write(tmp_path / "in" / "sp.key", leaf.key_pem()),
            "idp": write(tmp_path / "in" / "idp.xml", idp_metadata()), "ca": write(tmp_path / "in" / "ca.crt", root.pem)}


def test_get_prints_only_the_value_and_unknown_keys_fail(sim):
    ok = sim.run("configuration", "get", "-k", RSA)
    assert (ok.returncode, ok.stdout) == (0, "2048\n")
    unknown = sim.run("configuration", "get", "-k", AUTHCTX)
    assert unknown.returncode == 1 and f"Unknown key: {AUTHCTX}" in unknown.stderr and unknown.stdout == ""
    wrong_case = sim.run("configuration", "get", "-k", RSA.upper())
    assert wrong_case.returncode == 1, "keys are case-sensitive"
    null = sim.run("configuration", "get", "-k", "wgserver.domain.fqdn")
    assert (null.returncode, null.stdout) == (0, "null\n")


def test_set_needs_force_keys_for_a_key_never_set_and_get_shows_the_applied_value(sim):
    refused = sim.run("configuration", "set", "-k", AUTHCTX, "-v", "urn:x")
    assert refused.returncode == 1 and "--force-keys" in refused.stderr
    assert sim.pending()["configKeys"] == {}
    assert sim.run("configuration", "set", "-k", AUTHCTX, "-v", "urn:x", "--force-keys").returncode == 0
    assert sim.run("configuration", "set", "-k", RSA, "-v", "3072").returncode == 0
    assert sim.run("configuration", "get", "-k", RSA).stdout == "2048\n", "get shows the applied value until apply"
    assert sim.run("configuration", "get", "-k", AUTHCTX).returncode == 1
    # a key already pending needs no --force-keys for a second set
    assert sim.run("configuration", "set", "-k", AUTHCTX, "-v", "urn:y").returncode == 0
    assert sim.run("pending-changes", "apply", "--ignore-prompt").returncode == 0
    assert sim.run("configuration", "get", "-k", RSA).stdout == "3072\n"
    assert sim.run("configuration", "get", "-k", AUTHCTX).stdout == "urn:y\n"
    assert sim.run("configuration", "set", "-k", RSA, "-d").returncode == 0
    assert sim.pending()["configKeys"] == {RSA: 2048}


def test_set_without_value_prompts_and_gives_up_at_end_of_input(sim):
    proc = sim.run("configuration", "set", "-k", RSA)
    assert proc.returncode == 1 and "Enter a value" in proc.stdout and "No value" in proc.stderr
    assert sim.pending()["configKeys"] == {}
    proc = sim.run("configuration", "set", "-k", RSA, stdin="4096\n")
    assert proc.returncode == 0 and sim.pending()["configKeys"] == {RSA: "4096"}


def test_export_shows_the_applied_configuration_not_the_pending_one(sim, tmp_path):
    sim.run("configuration", "set", "-k", RSA, "-v", "4096")
    out = tmp_path / "export.json"
    proc = sim.run("settings", "export", "--output-config-file", out)
    assert proc.returncode == 0
    doc = json.loads(out.read_text())
    assert doc["configKeys"][RSA] == 2048
    assert doc["configEntities"]["samlSettings"]["_type"] == "samlSettingsType"
    assert doc["configEntities"]["mutualSSLSettings"]["clientCertRequired"] is False
    short = sim.run("settings", "export", "-f", tmp_path / "nodir" / "x.json")
    assert short.returncode == 1 and "Cannot write" in short.stderr


def test_import_is_all_or_nothing(sim, tmp_path, saml_files):
    path = write(tmp_path / "import.json", json.dumps({"configKeys": {RSA: "3072", AUTHCTX: "urn:a"}}))
    refused = sim.run("settings", "import", "-f", path)
    assert refused.returncode == 1 and AUTHCTX in refused.stderr and "Nothing was imported" in refused.stderr
    assert sim.pending()["configKeys"] == {}, "the known key was not staged either"
    assert sim.run("settings", "import", "-f", path, "--force-keys").returncode == 0
    assert sim.pending()["configKeys"] == {RSA: "3072", AUTHCTX: "urn:a"}

    for doc, text in (({"configEntities": {"SamlSettings": {"_type": "samlSettingsType"}}}, "case-sensitive"),
                      ({"configEntities": {"samlSettings": {"enabled": True}}}, "_type"),
                      ({"configEntities": {"samlSettings": {"_type": "samlSettingsType", "Enabled": True}}},
                       "Unknown option"),
                      ({"configEntities": {"samlSettings": {"_type": "samlSettingsType", "enabled": True},
                                           "mutualSSLSettings": {"_type": "mutualSSLSettingsType",
                                                                 "clientCertRequired": True}}},
                       "cannot be enabled together"),
                      ({"topologyVersion": {}}, "topology")):
        bad = write(tmp_path / "bad.json", json.dumps(doc))
        proc = sim.run("settings", "import", "-f", bad)
        assert proc.returncode == 1 and text in proc.stderr, (doc, proc.stderr)
    garbage = write(tmp_path / "garbage.json", "{not json")
    proc = sim.run("settings", "import", "-f", garbage)
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr
    assert sim.pending()["configEntities"] == {}

    entity = write(tmp_path / "entity.json", json.dumps({"configEntities": {"samlSettings": {
        "_type": "samlSettingsType", "certFile": saml_files["cert"], "returnUrl": "https://t.example.test"}}}))
    assert sim.run("settings", "import", "-f", entity).returncode == 0
    kept = sim.pending()["configEntities"]["samlSettings"]["certFile"]
    assert kept.startswith(os.path.join(sim.home, "files")) and open(kept, "rb").read() == open(saml_files["cert"], "rb").read()


def test_pending_list_marks_changes_that_need_no_restart(sim):
    assert sim.run("pending-changes", "list").stdout == "There are no pending changes.\n"
    sim.run("configuration", "set", "-k", IDLE, "-v", "60")
    text = sim.run("pending-changes", "list").stdout
    assert f"{IDLE}: 60 (does not require a restart)" in text
    assert "do not require a server restart" in text
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    text = sim.run("pending-changes", "list").stdout
    assert f"{RSA}: 3072\n" in text and "require a server restart" in text and "do not" not in text


def test_apply_without_ignore_prompt_asks_and_gives_up_at_end_of_input(sim):
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    proc = sim.run("pending-changes", "apply")  # stdin is /dev/null: end of input
    assert proc.returncode == 1
    assert "Are you sure" in proc.stdout and "end of input" in proc.stderr
    assert sim.applied()["configKeys"][RSA] == 2048 and sim.pending()["configKeys"] == {RSA: "3072"}
    assert sim.counters()["applies"] == 0 and sim.counters()["restarts"] == 0 and sim.counters()["prompts"] == 1
    no = sim.run("pending-changes", "apply", stdin="n\n")
    assert no.returncode == 1 and sim.counters()["applies"] == 0
    yes = sim.run("pending-changes", "apply", stdin="y\n")
    assert yes.returncode == 0 and sim.applied()["configKeys"][RSA] == "3072"
    assert sim.counters()["applies"] == 1 and sim.counters()["restarts"] == 1


def test_ignore_prompt_only_suppresses_the_question(sim):
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    proc = sim.run("pending-changes", "apply", "--ignore-prompt")
    assert proc.returncode == 0 and "Are you sure" not in proc.stdout
    counters = sim.counters()
    assert (counters["applies"], counters["restarts"], counters["prompts"]) == (1, 1, 0)
    assert sim.pending() == {"configKeys": {}, "configEntities": {}}
    again = sim.run("pending-changes", "apply", "--ignore-prompt")
    assert again.returncode == 0 and "no pending changes" in again.stdout
    assert sim.counters()["applies"] == 1, "nothing pending: nothing applied"


def test_dynamic_changes_apply_without_prompt_or_restart(sim):
    sim.run("configuration", "set", "-k", IDLE, "-v", "60")
    proc = sim.run("pending-changes", "apply")
    assert proc.returncode == 0 and "Are you sure" not in proc.stdout
    assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 0)


def test_stopped_server_prompts_but_does_not_restart(sim):
    sim.run("stop")
    assert sim.run("status").stdout == "Status: STOPPED\n"
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    assert sim.run("pending-changes", "apply").returncode == 1, "the prompt appears even when stopped"
    assert sim.run("pending-changes", "apply", "--ignore-prompt").returncode == 0
    assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 0)


def test_discard(sim):
    assert "no pending changes" in sim.run("pending-changes", "discard").stdout
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    assert sim.run("pending-changes", "discard").returncode == 0
    assert sim.pending()["configKeys"] == {} and sim.applied()["configKeys"][RSA] == 2048


def test_saml_configure_enable_and_the_mutual_ssl_conflict(sim, saml_files):
    first = sim.run("authentication", "saml", "configure", "-e", "https://t.example.test")
    assert first.returncode == 1 and "--idp-metadata" in first.stderr and "--cert-file" in first.stderr
    assert sim.run("authentication", "saml", "enable").returncode == 1, "not configured yet"
    missing = sim.run("authentication", "saml", "configure", "-e", "https://t.example.test", "-r",
                      "https://t.example.test", "-i", "/nonexistent.xml", "-cf", saml_files["cert"], "-kf",
                      saml_files["key"])
    assert missing.returncode == 1 and "/nonexistent.xml" in missing.stderr
    ok = sim.run("authentication", "saml", "configure", "--idp-entity-id", "https://t.example.test",
                 "--idp-return-url", "https://t.example.test", "--idp-metadata", saml_files["idp"],
                 "--cert-file", saml_files["cert"], "--key-file", saml_files["key"], "-a", "3600", "-d", "disable")
    assert ok.returncode == 0
    pending = sim.pending()["configEntities"]["samlSettings"]
    assert pending["maxAuthenticationAge"] == 3600 and pending["desktopAccessEnabled"] is False
    assert "certFile-" in os.path.basename(pending["certFile"])
    # later configure calls may give any subset
    assert sim.run("authentication", "saml", "configure", "-a", "7200").returncode == 0
    assert sim.run("authentication", "saml", "map-assertions", "--user-name", "upn").returncode == 0
    assert sim.run("authentication", "saml", "enable").returncode == 0
    assert sim.run("pending-changes", "apply", "--ignore-prompt").returncode == 0
    saml = sim.applied()["configEntities"]["samlSettings"]
    assert saml["enabled"] is True and saml["idpUsernameAttribute"] == "upn" and saml["maxAuthenticationAge"] == 7200

    # mutual SSL: needs external SSL, and not with SAML
    assert sim.run("authentication", "mutual-ssl", "configure", "--ca-cert", saml_files["ca"], "-m", "cn").returncode == 0
    no_ssl = sim.run("authentication", "mutual-ssl", "enable")
    assert no_ssl.returncode == 1 and "external" in no_ssl.stderr
    assert sim.run("security", "external-ssl", "enable", "--cert-file", saml_files["cert"], "--key-file",
                   saml_files["key"]).returncode == 0
    conflict = sim.run("authentication", "mutual-ssl", "enable")
    assert conflict.returncode == 1 and "SAML" in conflict.stderr
    assert sim.run("authentication", "saml", "disable").returncode == 0
    assert sim.run("authentication", "mutual-ssl", "enable").returncode == 0, "SAML disable is pending"
    back = sim.run("authentication", "saml", "enable")
    assert back.returncode == 1 and "mutual SSL" in back.stderr
    assert sim.run("pending-changes", "apply", "--ignore-prompt").returncode == 0
    mssl = sim.applied()["configEntities"]["mutualSSLSettings"]
    assert mssl["clientCertRequired"] is True and mssl["userNameMapping"] == "cn" and mssl["sslEnabled"] is True
    assert sim.run("security", "external-ssl", "disable").returncode == 1, "mutual SSL sits on external SSL"


def test_apply_validates_the_merged_configuration(sim, tmp_path, saml_files):
    doc = {"configEntities": {"mutualSSLSettings": {"_type": "mutualSSLSettingsType", "clientCertRequired": True}}}
    assert sim.run("settings", "import", "-f", write(tmp_path / "m.json", json.dumps(doc))).returncode == 0
    proc = sim.run("pending-changes", "apply", "--ignore-prompt")
    assert proc.returncode == 1 and "external SSL" in proc.stderr and "Nothing was applied" in proc.stderr
    assert sim.applied()["configEntities"]["mutualSSLSettings"]["clientCertRequired"] is False
    assert sim.counters()["applies"] == 0


def test_trusted_hosts_in_the_documented_form(sim):
    proc = sim.run("authentication", "trusted", "configure", "-th", "webserv1,", "webserv2", "-t", "32")
    assert proc.returncode == 0
    assert sim.pending()["configEntities"]["trustedAuthenticationSettings"] == {
        "trustedHosts": ["webserv1", "webserv2"], "tokenLength": 32}
    assert sim.run("authentication", "trusted", "configure", "-t", "8").returncode == 1
    assert sim.run("authentication", "trusted", "configure", "-t", "256").returncode == 1


@pytest.mark.parametrize("spec,rc", [("pending-changes.apply", 1), ("pending-changes.apply:exit=3", 3), ("*", 1)])
def test_injected_failure_at_apply_changes_nothing(sim, spec, rc):
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    before = sim.state_bytes()
    proc = sim.run("pending-changes", "apply", "--ignore-prompt", env={"TSM_SIM_FAIL": spec})
    assert proc.returncode == rc and "injected by TSM_SIM_FAIL" in proc.stderr
    assert sim.state_bytes() == before
    assert sim.counters()["applies"] == 0 and sim.counters()["failures"] == 1
    # other commands are not affected by a targeted injection
    if spec != "*":
        assert sim.run("pending-changes", "list", env={"TSM_SIM_FAIL": spec}).returncode == 0


def test_injected_timeout_and_hang(sim):
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    before = sim.state_bytes()
    proc = sim.run("pending-changes", "apply", "--ignore-prompt", "--request-timeout", "60",
                   env={"TSM_SIM_FAIL": "pending-changes.apply:timeout"})
    assert proc.returncode == 1 and "timed out after 60 seconds" in proc.stderr
    assert sim.state_bytes() == before
    started = time.monotonic()
    hung = sim.run("pending-changes", "list", env={"TSM_SIM_FAIL": "pending-changes.list:hang=0.3"})
    assert hung.returncode == 0 and time.monotonic() - started >= 0.3


def test_secrets_never_stored_or_logged_in_clear(sim, saml_files, tmp_path):
    secret = "s3cr3t-Passphrase"
    sim.run("configuration", "set", "-k", "wgserver.saml.key.passphrase", "-v", secret, "--force-keys")
    sim.run("security", "external-ssl", "enable", "--cert-file", saml_files["cert"], "--key-file", saml_files["key"],
            "--passphrase", secret)
    listed = sim.run("pending-changes", "list").stdout
    sim.run("pending-changes", "apply", "--ignore-prompt")
    first = sim.run("configuration", "get", "-k", "wgserver.saml.key.passphrase").stdout
    sim.run("configuration", "set", "-k", "wgserver.saml.key.passphrase", "-v", secret)
    sim.run("pending-changes", "apply", "--ignore-prompt")
    second = sim.run("configuration", "get", "-k", "wgserver.saml.key.passphrase").stdout
    assert first.startswith("ENC(") and second.startswith("ENC(") and first != second
    sim.run("settings", "export", "-f", tmp_path / "e.json")
    for name in ("state.json", "counters.json", "calls.log"):
        assert secret not in open(os.path.join(sim.home, name)).read(), name
    assert secret not in (tmp_path / "e.json").read_text() and secret not in listed
    assert any(c["argv"][-1] == "********" for c in sim.calls() if c["command"] == "security.external-ssl.enable")


def test_sign_in_with_username_and_password(sim):
    sim.init("--require-login=admin:pw")
    denied = sim.run("status")
    assert denied.returncode == 1 and "not signed in" in denied.stderr
    wrong = sim.run("status", "-u", "admin", "-p", "nope")
    assert wrong.returncode == 1 and "Authentication failed" in wrong.stderr
    ok = sim.run("status", "--username", "admin", "--password", "pw")
    assert ok.returncode == 0 and ok.stdout == "Status: RUNNING\n"
    assert all("pw" not in c["argv"] and "nope" not in c["argv"] for c in sim.calls())


def test_concurrent_invocations_are_serialised(sim):
    keys = ["trustops.test.k%d" % i for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        procs = list(pool.map(lambda k: sim.run("configuration", "set", "-k", k, "-v", k, "--force-keys"), keys))
    assert all(p.returncode == 0 for p in procs)
    assert sim.pending()["configKeys"] == dict((k, k) for k in keys)
    counters = sim.counters()
    assert counters["invocations"] == 12 and counters["commands"] == {"configuration.set": 12}
    assert counters["writes"] == 12 and len(sim.calls()) == 12


def test_usage_errors(sim):
    assert sim.run("configuration").returncode == 2
    assert sim.run("nonsense").returncode == 2
    assert sim.run("pending-changes", "apply", "--bogus").returncode == 2
    assert sim.counters()["failures"] == 3
