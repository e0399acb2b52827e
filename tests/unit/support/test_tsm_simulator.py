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
from tsm_sim.harness import API_PASSWORD, API_USER, SimServer, api_login, api_request, idp_metadata, write  # noqa: E402,E501  pylint: disable=wrong-import-position

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


# ---------------------------------------------------------------------------- the HTTPS API
# tests/support/tsm_sim/api.py: a real HTTPS server on 127.0.0.1 with its own self-signed certificate,
# on the same state as the CLI. Its header names the vendor page behind each behaviour.

@pytest.fixture
def api(sim):
    info = sim.start_api()
    yield info
    sim.stop_api()


def wait_job(info, cookie, job_id, limit=15):
    deadline = time.time() + limit
    while time.time() < deadline:
        status, body, _headers = api_request(info, "GET", f"/api/0.5/asyncJobs/{job_id}", cookie=cookie)
        assert status == 200, body
        if body["asyncJob"]["status"] in ("Succeeded", "Failed"):
            return body["asyncJob"]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_api_is_https_with_a_self_signed_certificate(sim, api):
    import ssl
    with pytest.raises(ssl.SSLCertVerificationError):
        api_request(api, "GET", "/api/0.5/status", cafile=None)  # the system's trust store does not know it
    status, body, _headers = api_request(api, "GET", "/api/0.5/status")
    assert status == 401 and "POST /login" in body["error"]["message"], "verified, then refused: no session"
    with open(api["cafile"], "rb") as handle:
        pem = handle.read()
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.issuer == cert.subject, "self-signed, as TSM's default certificate"


def test_api_sign_in_cookie_and_sign_out(sim, api):
    status, body, _headers = api_request(api, "POST", "/api/0.5/login", {"authentication": {
        "name": API_USER, "password": "wrong"}})
    assert status == 401 and "Authentication failed" in body["error"]["message"]
    status, _body, _headers = api_request(api, "POST", "/api/0.5/login", {"user": API_USER})
    assert status == 400
    cookie = api_login(api, version="1.0")
    assert cookie.startswith("AUTH_COOKIE=") and len(cookie) > 30
    status, body, _headers = api_request(api, "GET", "/api/0.5/status", cookie=cookie)
    assert status == 200 and body["clusterStatus"]["rollupStatus"] == "Running"
    assert len(sim.state()["api_sessions"]) == 1 and API_PASSWORD not in sim.state_bytes().decode()
    assert api_request(api, "POST", "/api/0.5/logout", cookie=cookie)[0] == 204
    assert api_request(api, "GET", "/api/0.5/status", cookie=cookie)[0] == 401, "the session ended"
    assert sim.state()["api_sessions"] == {}
    counters = sim.api_counters()
    assert (counters["logins"], counters["logouts"], counters["reads"]) == (1, 1, 1)


def test_api_and_cli_share_one_state(sim, api):
    cookie = api_login(api)
    status, body, _headers = api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges",
                                         {"configKeys": {RSA: "3072"}}, cookie=cookie)
    assert status == 204, body
    listed = sim.run("pending-changes", "list")
    assert f"{RSA}: 3072" in listed.stdout, "staged through the API, seen by the CLI"
    assert sim.run("configuration", "set", "-k", "gateway.public.host", "-v", "t.example.test").returncode == 0
    status, body, _headers = api_request(api, "GET", "/api/0.5/pendingChanges", cookie=cookie)
    names = [c["name"] for c in body["pendingChanges"]["changes"]]
    assert status == 200 and names == ["gateway.public.host", RSA] and body["pendingChanges"]["restartRequired"]
    status, body, _headers = api_request(api, "GET", "/api/0.5/configurations/current", cookie=cookie)
    assert body["configKeys"][RSA] == 2048, "the applied configuration, not the pending one"
    assert sim.run("pending-changes", "apply", "--ignore-prompt").returncode == 0
    status, body, _headers = api_request(api, "GET", "/api/0.5/configurations/current", cookie=cookie)
    assert body["configKeys"][RSA] == "3072" and body["configKeys"]["gateway.public.host"] == "t.example.test"
    assert body["configEntities"]["samlSettings"]["_type"] == "samlSettingsType"


def test_api_unknown_keys_need_force_keys_and_imports_are_all_or_nothing(sim, api):
    cookie = api_login(api)
    path = "/api/0.5/configurations/requestedChanges"
    status, body, _headers = api_request(api, "PATCH", path, {"configKeys": {AUTHCTX: "urn:x", RSA: "3072"}},
                                         cookie=cookie)
    assert status == 400 and "Unknown keys: " + AUTHCTX in body["error"]["message"]
    assert sim.pending()["configKeys"] == {}
    status, body, _headers = api_request(api, "PATCH", path + "?forceKeys=true",
                                         {"configKeys": {AUTHCTX: "urn:x", RSA: "3072"}}, cookie=cookie)
    assert status == 204 and sim.pending()["configKeys"] == {AUTHCTX: "urn:x", RSA: "3072"}
    status, body, _headers = api_request(api, "PATCH", path, {"configEntities": {"samlSettings": {"enabled": True}}},
                                         cookie=cookie)
    assert status == 400 and "_type" in body["error"]["message"]


def test_api_apply_is_an_async_job_that_restarts_once(sim, api):
    cookie = api_login(api)
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    status, body, _headers = api_request(api, "POST", "/api/0.5/pendingChanges/apply?deploymentsTimeoutSeconds=600",
                                         cookie=cookie)
    assert status == 202 and body["asyncJob"]["status"] in ("Created", "Running") and body["asyncJob"]["jobTimeout"] == 600
    job = wait_job(api, cookie, body["asyncJob"]["id"])
    assert job["status"] == "Succeeded" and job["progress"] == 100 and job["completedAt"]
    steps = [(n["step"], n["status"]) for n in job["detailedProgress"]["progressNotes"] if n["status"] != "Running"]
    assert steps == [("ValidatePendingChanges", "Succeeded"), ("StopServer", "Succeeded"),
                     ("DeployConfiguration", "Succeeded"), ("StartServer", "Succeeded")]
    assert sim.applied()["configKeys"][RSA] == "3072" and sim.pending()["configKeys"] == {}
    assert (sim.counters()["applies"], sim.counters()["restarts"], sim.api_counters()["applies"]) == (1, 1, 1)
    status, body, _headers = api_request(api, "GET", "/api/0.5/asyncJobs?status=Succeeded", cookie=cookie)
    assert [j["id"] for j in body["asyncJobs"]] == [job["id"]]
    # a dynamic key on a stopped server: no restart steps
    sim.run("stop")
    sim.run("configuration", "set", "-k", IDLE, "-v", "60")
    _status, body, _headers = api_request(api, "POST", "/api/0.5/pendingChanges/apply", cookie=cookie)
    job = wait_job(api, cookie, body["asyncJob"]["id"])
    steps = [n["step"] for n in job["detailedProgress"]["progressNotes"]][::2]
    assert steps == ["ValidatePendingChanges", "DeployConfiguration"]
    assert sim.counters()["restarts"] == 1


def test_api_apply_failures_are_failed_jobs_that_change_nothing(sim, api):
    cookie = api_login(api)
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    sim.fail("pending-changes.apply")
    _status, body, _headers = api_request(api, "POST", "/api/0.5/pendingChanges/apply", cookie=cookie)
    job = wait_job(api, cookie, body["asyncJob"]["id"])
    assert job["status"] == "Failed" and "injected by TSM_SIM_FAIL" in job["statusMessage"]
    assert job["detailedProgress"]["progressNotes"][-1]["step"] == "DeployConfiguration"
    assert job["detailedProgress"]["progressNotes"][-1]["status"] == "Failed"
    assert sim.applied()["configKeys"][RSA] == 2048 and sim.pending()["configKeys"] == {RSA: "3072"}
    assert sim.counters()["applies"] == 0
    sim.fail()
    sim.run("pending-changes", "discard")
    sim.run("authentication", "saml", "enable")  # refused by the CLI: not configured
    api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges", {"configEntities": {"samlSettings": {
        "_type": "samlSettingsType", "enabled": True}}}, cookie=cookie)
    _status, body, _headers = api_request(api, "POST", "/api/0.5/pendingChanges/apply", cookie=cookie)
    job = wait_job(api, cookie, body["asyncJob"]["id"])
    assert job["status"] == "Failed" and "SAML is enabled but not configured" in job["statusMessage"]
    assert job["detailedProgress"]["progressNotes"][-1]["step"] == "ValidatePendingChanges"
    assert sim.applied()["configEntities"]["samlSettings"]["enabled"] is False


def test_api_injected_request_failure_and_discard(sim, api):
    cookie = api_login(api)
    sim.fail("settings.import:exit=2")
    status, body, _headers = api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges",
                                         {"configKeys": {RSA: "3072"}}, cookie=cookie)
    assert status == 500 and "injected by TSM_SIM_FAIL" in body["error"]["message"]
    assert sim.pending()["configKeys"] == {}
    sim.fail()
    api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges", {"configKeys": {RSA: "3072"}}, cookie=cookie)
    assert api_request(api, "DELETE", "/api/0.5/pendingChanges", cookie=cookie)[0] == 204
    assert sim.pending()["configKeys"] == {} and sim.applied()["configKeys"][RSA] == 2048


def test_api_uploads_and_entities_that_point_to_them(sim, api, saml_files):
    cookie = api_login(api)
    with open(saml_files["cert"], "rb") as handle:
        pem = handle.read()
    status, body, _headers = api_request(api, "POST", "/api/0.5/fileUploads?fileName=sp.crt", raw=pem, cookie=cookie,
                                         headers={"Content-Type": "application/octet-stream"})
    assert status == 201 and body["fileUpload"]["size"] == len(pem)
    assert api_request(api, "POST", "/api/0.5/fileUploads?fileName=../x", raw=b"x", cookie=cookie)[0] == 400
    status, body, _headers = api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges", {"configEntities": {
        "mutualSSLSettings": {"_type": "mutualSSLSettingsType", "caCertFile": body["fileUpload"]["path"]}}},
        cookie=cookie)
    assert status == 204
    kept = sim.pending()["configEntities"]["mutualSSLSettings"]["caCertFile"]
    with open(kept, "rb") as handle:
        assert handle.read() == pem, "TSM keeps its own copy, as for the CLI"


def test_api_request_log_masks_the_login_password_and_secret_values_only(sim, api):
    cookie = api_login(api)
    api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges?forceKeys=true", {"configKeys": {
        "wgserver.saml.key.passphrase": "Log-Secret-7"}}, cookie=cookie)
    api_request(api, "GET", "/api/0.5/status?password=" + API_PASSWORD, cookie=cookie)  # a sloppy client
    log = sim.api_log()
    assert log[0]["body"] == {"authentication": {"name": API_USER, "password": "********"}}
    assert log[1]["body"] == {"configKeys": {"wgserver.saml.key.passphrase": "********"}}
    assert "Log-Secret-7" not in json.dumps(log) and "AUTH_COOKIE=(session)" == log[1]["headers"]["Cookie"]
    assert API_PASSWORD in log[2]["query"], "a password anywhere else is logged as received, so a test finds it"
    assert [r["command"] for r in log] == ["login", "settings.import", "status"]


def test_api_and_cli_calls_are_serialised(sim, api):
    cookie = api_login(api)

    def api_set(i):
        return api_request(api, "PATCH", "/api/0.5/configurations/requestedChanges?forceKeys=true",
                           {"configKeys": {f"sim.api.key{i}": str(i)}}, cookie=cookie)[0]

    def cli_set(i):
        return sim.run("configuration", "set", "-k", f"sim.cli.key{i}", "-v", str(i), "--force-keys").returncode

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        api_codes = list(pool.map(api_set, range(6)))
        cli_codes = list(pool.map(cli_set, range(6)))
    assert api_codes == [204] * 6 and cli_codes == [0] * 6
    assert len(sim.pending()["configKeys"]) == 12, "no lost update between the API and the CLI"
