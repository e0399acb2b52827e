# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 11, the TSM parts: secrets, bad files, typed values, option injection, truthful results.

Every module runs for real (in-process, or through ansible-playbook -vvv --diff) against the TSM
simulator, with real certificates, keys, CRLs and PKCS#12 files made by cryptography, through both
transports (the tsm command line and the TSM API over HTTPS, issue 15).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.trustops.tableau.plugins.module_utils.tsm import api as tsm_api
from ansible_collections.trustops.tableau.plugins.modules import (tsm_config, tsm_external_ssl, tsm_info,
                                                                  tsm_mutual_ssl, tsm_pending_changes, tsm_saml,
                                                                  tsm_trusted_auth)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import (API_PASSWORD, idp_metadata, make_crl, run_module,  # noqa: E402  pylint: disable=wrong-import-position
                             write)
from tsm_sim.harness import conn, sim, tsm_pool  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import  # fixtures: cli and api

COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0] or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "..", ".build", "collections")
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
URL = "https://tableau.example.test"
SAML_PASS = "Saml-Pass-Zq81x"
SSL_PASS = "Ssl-Pass-Kw27y"
TSM_PASS = "Tsm-Admin-Pw-Jd55v"
OTHER_SECRET = "Oidc-Client-Secret-Hb30u"


@pytest.fixture
def files(tmp_path, pki):
    root = pki.root(cn="Hardening Root")
    leaf = pki.leaf(root, cn="tableau.example.test")
    clients = pki.root(cn="Hardening Client CA")
    client_leaf = pki.leaf(clients, cn="alice")
    d = tmp_path / "in"
    p12 = pkcs12.serialize_key_and_certificates(b"x", leaf.key, leaf.cert, None,
                                                serialization.BestAvailableEncryption(b"p12-pass"))
    big = str(d / "huge.bin")
    write(big, b"")
    os.truncate(big, 50 * 1024 * 1024)  # 50 MB (sparse): the reader refuses it by its size, unread
    os.makedirs(str(d / "a-directory"))
    return {
        "root": root, "leaf": leaf, "clients": clients,
        "cert": write(d / "sp.crt", leaf.pem), "key": write(d / "sp.key", leaf.key_pem("pkcs1")),
        "key_enc": write(d / "sp-enc.key", leaf.key_pem("pkcs8", SAML_PASS.encode())),
        "ssl_key_enc": write(d / "ssl-enc.key", leaf.key_pem("pkcs8", SSL_PASS.encode())),
        "chain": write(d / "chain.crt", root.pem), "idp": write(d / "idp.xml", idp_metadata("h")),
        "client_ca": write(d / "clients.crt", clients.pem), "client_leaf": write(d / "alice.crt", client_leaf.pem),
        "crl": write(d / "clients.crl", make_crl(clients, [5])),
        "crl_der": write(d / "clients-der.crl", make_crl(clients, [6], der=True)),
        "crl_other": write(d / "other.crl", make_crl(root, [7])),
        # bad inputs
        "empty": write(d / "empty.pem", b""),
        "random": write(d / "random.bin", bytes(range(256)) * 16),
        "truncated": write(d / "truncated.pem", leaf.pem[:len(leaf.pem) // 2]),
        "truncated_key": write(d / "truncated.key", leaf.key_pem()[:200]),
        "huge": big, "directory": str(d / "a-directory"),
        "p12": write(d / "bundle.p12", p12),
        "key_as_cert": write(d / "key-as-cert.pem", leaf.key_pem()),
        "cert_as_key": write(d / "cert-as-key.key", leaf.pem),
    }


def saml_args(conn, files, **extra):
    base = {"idp_entity_id": URL, "return_url": URL, "idp_metadata_file": files["idp"],
            "cert_file": files["cert"], "key_file": files["key"]}
    base.update(extra)
    return conn.args(**base)


def ssl_args(conn, files, **extra):
    base = {"cert_file": files["cert"], "key_file": files["key"], "chain_file": files["chain"]}
    base.update(extra)
    return conn.args(**base)


def mutual_args(conn, files, **extra):
    base = {"ca_cert": files["client_ca"], "revocation_file": files["crl"],
            "user_name_mapping": "upn", "state": "configured"}
    base.update(extra)
    return conn.args(**base)


def apply(sim):
    proc = sim.run("pending-changes", "apply", "--ignore-prompt")
    assert proc.returncode == 0, proc.stderr


def no_secret_anywhere(sim, text, *secrets):
    """No secret in ``text`` (a result or an output), in any argv tsm was started with, in the simulator's
    logs (calls.log; api.log: every API request as received, the login password masked there only)."""
    logs = json.dumps([sim.calls(), sim.api_log()])
    for secret in secrets:
        assert secret not in text
        assert all(secret not in arg for argv in sim.argv_log() for arg in argv), f"{secret} on a command line"
        assert secret not in logs, f"{secret} in the simulator's logs"


# ------------------------------------------------------------------------------------- 1. secrets masked

def test_tsm_config_masks_every_secret_key_in_changes_diff_and_invocation(conn, sim):
    keys = {"wgserver.saml.key.passphrase": SAML_PASS, "vizportal.openid.client_secret": OTHER_SECRET,
            "gateway.public.host": "tableau.example.test"}
    first = run_module(tsm_config.main, {**conn.args(), "keys": keys, "force_keys": True}, diff=True)
    assert first["changed"] and not first.get("failed"), first
    dumped = json.dumps(first)
    no_secret_anywhere(sim, dumped, SAML_PASS, OTHER_SECRET)
    assert "invocation" in first and first["masked_keys"] == ["vizportal.openid.client_secret",
                                                              "wgserver.saml.key.passphrase"]
    assert "wgserver.saml.key.passphrase: ********" in first["diff"]["after"]
    assert sim.pending()["configKeys"]["wgserver.saml.key.passphrase"].startswith("ENC(")
    apply(sim)
    second = run_module(tsm_config.main, {**conn.args(), "keys": keys, "force_keys": True}, diff=True)
    dumped = json.dumps(second)
    no_secret_anywhere(sim, dumped, SAML_PASS, OTHER_SECRET)
    assert "ENC(" not in dumped, "the stored encrypted value is never returned"
    assert not second["changed"], "an encrypted secret cannot be compared: not re-staged on every run"
    forced = run_module(tsm_config.main, {**conn.args(), "keys": keys, "update_secrets": True}, diff=True)
    assert forced["changed"] and "ENC(" not in json.dumps(forced) and SAML_PASS not in json.dumps(forced)


def test_tsm_info_and_pending_changes_never_return_secrets(conn, sim):
    run_module(tsm_config.main, {**conn.args(), "keys": {"svc.smtp.password": OTHER_SECRET},
                                 "force_keys": True})
    pending = run_module(tsm_pending_changes.main, conn.args(), check=True, diff=True)
    assert OTHER_SECRET not in json.dumps(pending) and "ENC(" not in json.dumps(pending)
    apply(sim)
    info = run_module(tsm_info.main, {**conn.args(), "keys": ["svc.smtp.password"]})
    assert info["keys"]["svc.smtp.password"] == "********" and info["masked_keys"] == ["svc.smtp.password"]
    assert "ENC(" not in json.dumps(info)


def test_ssl_and_saml_passphrases_are_masked_and_never_on_a_command_line(conn, sim, files):
    saml = run_module(tsm_saml.main, saml_args(conn, files, key_file=files["key_enc"], key_passphrase=SAML_PASS),
                      diff=True)
    assert saml["changed"] and not saml.get("failed"), saml
    assert saml["masked_keys"] == ["wgserver.saml.key.passphrase"]
    ssl = run_module(tsm_external_ssl.main, ssl_args(conn, files, key_file=files["ssl_key_enc"], passphrase=SSL_PASS),
                     diff=True)
    assert ssl["changed"] and not ssl.get("failed"), ssl
    no_secret_anywhere(sim, json.dumps([saml, ssl]), SAML_PASS, SSL_PASS)
    assert sim.pending()["configEntities"]["mutualSSLSettings"]["keyPassphrase"].startswith("ENC(")


# ----------------------------------------------------------------------------- 2. password off argv

@pytest.mark.parametrize("conn", ["cli"], indirect=True)
def test_tsm_password_goes_to_the_login_prompt_not_argv(conn, sim):
    sim.init(f"--require-login=admin:{TSM_PASS}")
    result = run_module(tsm_config.main, {**conn.args(), "username": "admin", "password": TSM_PASS,
                                          "keys": {"gateway.public.host": "t.example.test"}}, diff=True)
    assert result["changed"] and not result.get("failed"), result
    assert [c["command"] for c in sim.calls()] == ["login", "settings.export", "settings.import", "logout"]
    no_secret_anywhere(sim, json.dumps(result), TSM_PASS)
    assert not sim.state()["auth"]["session"], "the module ends the session it opened"
    wrong = run_module(tsm_config.main, {**conn.args(), "username": "admin", "password": "Wrong-Pw-Xx9",
                                         "keys": {"gateway.public.host": "u.example.test"}})
    assert wrong["failed"] and "Authentication failed" in wrong["msg"] and not wrong["changed"]
    no_secret_anywhere(sim, json.dumps(wrong), "Wrong-Pw-Xx9")


@pytest.mark.parametrize("conn", ["api"], indirect=True)
def test_api_password_only_in_the_sign_in_request_and_one_session_per_task(conn, sim):
    """Transport api: the password is in the body of POST /login, once per task, and nowhere else (the
    simulator logs every request as received, masking only that field); the task signs out."""
    sim.init(f"--account=admin:{TSM_PASS}")
    result = run_module(tsm_config.main, conn.args(username="admin", password=TSM_PASS,
                                                   keys={"gateway.public.host": "t.example.test"}), diff=True)
    assert result["changed"] and not result.get("failed"), result
    log = sim.api_log()
    assert [r["command"] for r in log] == ["login", "settings.export", "settings.import", "logout"]
    assert log[0]["body"] == {"authentication": {"name": "admin", "password": "********"}}
    assert all(r["headers"].get("Cookie") == "AUTH_COOKIE=(session)" for r in log[1:]), "the session cookie"
    no_secret_anywhere(sim, json.dumps(result), TSM_PASS)
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert sim.state()["api_sessions"] == {}, "the module ends the session it opened"
    assert sim.argv_log() == [], "no tsm process at all"
    wrong = run_module(tsm_config.main, conn.args(username="admin", password="Wrong-Pw-Xx9",
                                                  keys={"gateway.public.host": "u.example.test"}))
    assert wrong["failed"] and "signing in to the TSM API as admin failed (HTTP 401)" in wrong["msg"]
    assert "tsmadmin group" in wrong["msg"] and not wrong["changed"]
    no_secret_anywhere(sim, json.dumps(wrong), "Wrong-Pw-Xx9")
    assert API_PASSWORD not in json.dumps(sim.api_log())


CONNECTION = {  # the play's module_defaults per transport
    "cli": ('      tsm_path: "{{ tsm_path }}"\n'
            '      username: admin\n'
            '      password: "{{ tsm_password }}"'),
    "api": ('      transport: api\n'
            '      tsm_url: "{{ tsm_url }}"\n'
            '      ca_path: "{{ ca_path }}"\n'
            '      username: admin\n'
            '      password: "{{ tsm_password }}"'),
}
PLAY = f"""
- name: Every tsm module that takes a secret, at -vvv with --diff
  hosts: node
  gather_facts: false
  module_defaults:
    group/trustops.tableau.tsm:
%(connection)s
  tasks:
    - name: SAML with an encrypted key
      trustops.tableau.tsm_saml:
        idp_entity_id: "{URL}"
        return_url: "{URL}"
        idp_metadata_file: "{{{{ idp }}}}"
        cert_file: "{{{{ cert }}}}"
        key_file: "{{{{ saml_key }}}}"
        key_passphrase: "{{{{ saml_pass }}}}"
        state: configured
    - name: External SSL with an encrypted key
      trustops.tableau.tsm_external_ssl:
        cert_file: "{{{{ cert }}}}"
        key_file: "{{{{ ssl_key }}}}"
        chain_file: "{{{{ chain }}}}"
        passphrase: "{{{{ ssl_pass }}}}"
    - name: Secret keys
      trustops.tableau.tsm_config:
        keys:
          vizportal.openid.client_secret: "{{{{ other_secret }}}}"
        force_keys: true
    - name: Apply
      trustops.tableau.tsm_pending_changes:
    - name: Read back
      trustops.tableau.tsm_info:
        keys: [vizportal.openid.client_secret, wgserver.saml.key.passphrase]
      register: info
    - name: Secret keys again (converged)
      trustops.tableau.tsm_config:
        keys:
          vizportal.openid.client_secret: "{{{{ other_secret }}}}"
"""


def test_vvv_diff_playbook_run_shows_no_secret(conn, sim, files, tmp_path):
    sim.init(f"--require-login=admin:{TSM_PASS}")
    variables = {"tsm_path": sim.tsm, "tsm_password": TSM_PASS, "idp": files["idp"], "cert": files["cert"],
                 "saml_key": files["key_enc"], "saml_pass": SAML_PASS, "ssl_key": files["ssl_key_enc"],
                 "ssl_pass": SSL_PASS, "chain": files["chain"], "other_secret": OTHER_SECRET}
    if conn.api:
        variables.update(tsm_url=sim.api_info["url"], ca_path=sim.api_info["cafile"])
    hosts = {"node": {"hosts": {"node": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
    (tmp_path / "hosts.json").write_text(json.dumps(hosts))
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.yml").write_text(PLAY.replace("%(connection)s", CONNECTION[conn.transport]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "h"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "t"), ANSIBLE_LOCALHOST_WARNING="0")
    env.pop("TSM_SIM_FAIL", None)
    proc = subprocess.run([PLAYBOOK, "-vvv", "--diff", "-i", str(tmp_path / "hosts.json"), str(tmp_path / "play.yml"),
                           "-e", "@%s" % (tmp_path / "vars.json")], env=env, capture_output=True, text=True,
                          timeout=240, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "failed=0" in out and sim.counters()["applies"] == 1
    # the complete output, every tsm command line, and every file the modules handed to TSM
    kept = b"".join(sim.staged_files().values())
    for secret in (TSM_PASS, SAML_PASS, SSL_PASS, OTHER_SECRET):
        assert out.count(secret) == 0, secret
        assert secret.encode() not in kept, secret
    no_secret_anywhere(sim, out, TSM_PASS, SAML_PASS, SSL_PASS, OTHER_SECRET)
    assert "ENC(" not in out


# ------------------------------------------------------------------------ 3. bad files, refused before staging

BAD = ["empty", "random", "truncated", "huge", "directory", "p12"]
FILE_OPTIONS = [
    (tsm_saml, saml_args, "idp_metadata_file", BAD + ["key_as_cert"]),
    (tsm_saml, saml_args, "cert_file", BAD + ["key_as_cert"]),
    (tsm_saml, saml_args, "key_file", [b for b in BAD if b != "truncated"] + ["truncated_key", "cert_as_key"]),
    (tsm_external_ssl, ssl_args, "cert_file", BAD + ["key_as_cert"]),
    (tsm_external_ssl, ssl_args, "key_file", [b for b in BAD if b != "truncated"] + ["truncated_key", "cert_as_key"]),
    (tsm_external_ssl, ssl_args, "chain_file", BAD + ["key_as_cert"]),
    (tsm_mutual_ssl, mutual_args, "ca_cert", BAD + ["key_as_cert", "client_leaf"]),
    (tsm_mutual_ssl, mutual_args, "revocation_file", BAD + ["key_as_cert", "cert", "crl_other"]),
]
CASES = [(m, a, o, b) for m, a, o, bads in FILE_OPTIONS for b in bads]


@pytest.mark.parametrize("module,make_args,option,bad", CASES,
                         ids=["{}-{}-{}".format(m.__name__.rsplit(".", 1)[-1], o, b) for m, a, o, b in CASES])
def test_bad_file_is_refused_naming_the_option_before_anything_is_staged(conn, sim, files, module, make_args, option, bad):
    state, kept = sim.state_bytes(), sim.staged_files()
    result = run_module(module.main, make_args(conn, files, **{option: files[bad]}))
    assert result.get("failed"), result
    assert option in result["msg"], result["msg"]
    assert "Traceback" not in json.dumps(result) and not result["changed"]
    assert conn.writes() == [] and sim.state_bytes() == state and sim.staged_files() == kept


def test_good_files_in_every_form_are_accepted(conn, sim, files):
    der_crl = run_module(tsm_mutual_ssl.main, mutual_args(conn, files, revocation_file=files["crl_der"]))
    assert der_crl["changed"] and not der_crl.get("failed"), der_crl
    pem = run_module(tsm_external_ssl.main, ssl_args(conn, files))
    assert pem["changed"] and not pem.get("failed"), pem


def test_every_crl_of_a_revocation_file_is_read_and_judged(conn, sim, files, tmp_path):
    """A revocation file may hold several CRLs, and TSM hands all of them to the server: a cut-off
    or damaged CRL after a good one is refused (it would lose revocations without a word), and a
    CRL of another CA beside the client CA's is TSM-013 (certs.load_crls, the one CRL loader)."""
    with open(files["crl"], "rb") as handle:
        good = handle.read()
    with open(files["crl_other"], "rb") as handle:
        other = handle.read()
    lines = other.splitlines(True)
    damaged = b"".join(lines[:1] + [b"A" * (len(lines[1]) - 1) + b"\n"] + lines[2:])
    for name, content in (("cut", good + other[:len(other) // 2]), ("damaged", good + damaged)):
        path = write(tmp_path / "in" / (f"{name}.crl"), content)
        state = sim.state_bytes()
        result = run_module(tsm_mutual_ssl.main, mutual_args(conn, files, revocation_file=path))
        assert result.get("failed") and f"revocation_file {path}" in result["msg"], (name, result)
        assert "Traceback" not in json.dumps(result) and not result["changed"], (name, result)
        assert conn.writes() == [] and sim.state_bytes() == state, name
    mixed = write(tmp_path / "in" / "mixed.crl", good + other)
    result = run_module(tsm_mutual_ssl.main, mutual_args(conn, files, revocation_file=mixed))
    assert result.get("failed") and [f["code"] for f in result["findings"]] == ["TSM-013"], result
    assert "Hardening Root" in result["findings"][0]["message"] and conn.writes() == []
    two = write(tmp_path / "in" / "two.crl", good + make_crl(files["clients"], [8]))
    result = run_module(tsm_mutual_ssl.main, mutual_args(conn, files, revocation_file=two))
    assert result["changed"] and not result.get("failed") and result["findings"] == [], result


# ------------------------------------------------------------------------------- 4. typed values

@pytest.mark.parametrize("module,make_args,option,value", [
    (tsm_trusted_auth, None, "trusted_hosts", ["a.example.com,b.example.com"]),
    (tsm_trusted_auth, None, "trusted_hosts", ["web 1.example.com"]),
    (tsm_trusted_auth, None, "trusted_hosts", ["web1.example.com\nweb2"]),
    (tsm_trusted_auth, None, "trusted_hosts", ["not_a_host!"]),
    (tsm_saml, saml_args, "authcontexts", ["urn:a,urn:b"]),
    (tsm_saml, saml_args, "authcontexts", ["urn:a urn:b"]),
    (tsm_saml, saml_args, "blocklisted_digests", ["SHA1,MD5"]),
    (tsm_config, None, "keys", {"gateway.trusted": ["10.0.0.5,10.0.0.6"]}),
    (tsm_config, None, "keys", {"gateway.public.host": "a.example.com\nb"}),
])
def test_values_tsm_would_split_are_refused(conn, sim, files, module, make_args, option, value):
    args = make_args(conn, files, **{option: value}) if make_args else {**conn.args(), option: value}
    if module is tsm_config:
        args["force_keys"] = True  # refused for its value, not as an unknown key
    result = run_module(module.main, args)
    assert result.get("failed") and option.split(".")[0] in result["msg"], result
    assert conn.writes() == []


def test_comma_in_a_trusted_host_no_longer_restages_forever(conn, sim):
    bad = run_module(tsm_trusted_auth.main, {**conn.args(), "trusted_hosts": ["a.example.com,b.example.com"]})
    assert bad["failed"] and "own list item" in bad["msg"] and conn.writes() == []
    good = {**conn.args(), "trusted_hosts": ["a.example.com", "b.example.com", "10.0.0.7", "2001:db8::1"]}
    assert run_module(tsm_trusted_auth.main, good)["changed"]
    apply(sim)
    again = run_module(tsm_trusted_auth.main, good)
    assert not again["changed"] and conn.reads_only(again)


# ----------------------------------------------------------------------------- 5. option injection

INJECTION = [
    (tsm_trusted_auth, "trusted_hosts", ["-t"]),
    (tsm_trusted_auth, "trusted_hosts", ["web1.example.com", "--token-length"]),
    (tsm_saml, "user_name_attribute", "--force-keys"),
    (tsm_saml, "domain_attribute", "-o"),
    (tsm_saml, "idp_entity_id", "--idp-return-url"),
    (tsm_saml, "return_url", "-r"),
    (tsm_saml, "signout_url", "-so"),
    (tsm_saml, "idp_metadata_file", "-i"),
    (tsm_saml, "cert_file", "--cert-file"),
    (tsm_saml, "key_file", "-kf"),
    (tsm_external_ssl, "cert_file", "-c"),
    (tsm_external_ssl, "key_file", "--force-keys"),
    (tsm_external_ssl, "chain_file", "--passphrase"),
    (tsm_external_ssl, "protocols", "-SSLv2"),
    (tsm_mutual_ssl, "ca_cert", "-cf"),
    (tsm_mutual_ssl, "revocation_file", "-rf"),
    (tsm_config, "username", "--force-keys"),
    (tsm_config, "tsm_user", "-x"),
]


@pytest.mark.parametrize("module,option,value", INJECTION,
                         ids=["{}-{}-{}".format(m.__name__.rsplit(".", 1)[-1], o, v) for m, o, v in INJECTION])
def test_values_starting_with_a_dash_never_reach_tsm_as_options(conn, sim, files, module, option, value):
    base = {tsm_saml: saml_args, tsm_external_ssl: ssl_args, tsm_mutual_ssl: mutual_args}.get(module)
    args = base(conn, files) if base else conn.args()
    if module is tsm_config:
        args["keys"] = {"gateway.public.host": "t.example.test"}
    if module is tsm_trusted_auth:
        args["token_length"] = 30
    args[option] = value
    result = run_module(module.main, args)
    if conn.api and option == "tsm_user":  # an option of transport cli: refused as such before anything
        assert result.get("failed") and "tsm_user belongs to transport cli" in result["msg"], result
        return
    assert result.get("failed") and "starts with '-'" in result["msg"] and option in result["msg"], result
    assert conn.writes() == [] and sim.pending() == {"configKeys": {}, "configEntities": {}}
    assert [argv[:2] for argv in sim.argv_log()] in ([], [["settings", "export"]]), "only the read, if anything"


# ------------------------------------------------------------------------------- 6. dict / list values

@pytest.mark.parametrize("value", [{"a": 1}, [["a", "b"]], [{"a": 1}]])
def test_tsm_config_refuses_dicts_and_nested_lists(conn, sim, value):
    result = run_module(tsm_config.main, {**conn.args(), "keys": {"gateway.public.host": value}})
    assert result["failed"] and "keys.gateway.public.host" in result["msg"] and "nothing was staged" in result["msg"]
    assert conn.writes() == [] and "{'a': 1}" not in json.dumps(sim.pending())


# ------------------------------------------------------------------------------ 7. results tell the truth

def test_failed_import_with_nothing_pending_is_not_a_change(conn, sim, monkeypatch):
    conn.inject(monkeypatch, "settings.import")
    result = run_module(tsm_config.main, {**conn.args(), "keys": {"gateway.public.host": "t.example.test"}})
    assert result["failed"] and result["staged"] == [] and result["changed"] is False, result
    assert "Staged before the failure (pending, not applied): nothing" in result["msg"]
    assert sim.pending() == {"configKeys": {}, "configEntities": {}}


def test_failed_saml_enable_reports_exactly_what_was_staged(conn, sim, files, monkeypatch):
    if conn.api:  # every step is a requestedChanges request: the server fails from the enable request on
        original = tsm_api.ApiClient.saml_enable

        def failing(self, enabled):
            sim.fail("settings.import")
            return original(self, enabled)

        monkeypatch.setattr(tsm_api.ApiClient, "saml_enable", failing)
    else:
        monkeypatch.setenv("TSM_SIM_FAIL", "authentication.saml.enable")
    result = run_module(tsm_saml.main, saml_args(conn, files, min_rsa_key_size=1024))  # the 2048-bit SP cert must pass it
    assert result["failed"] and result["changed"] is True, result
    assert result["staged"] == [s for s in result["staged"] if s != "authentication saml enable"]
    assert result["staged"] and result["staged"][0].startswith("authentication saml configure (")
    before, after = result["msg"].split("Staged before the failure (pending, not applied): ")[1].split(". Not staged: ")
    assert before.split("; ") == result["staged"]
    assert after.startswith("authentication saml enable")
    assert "samlSettings" in sim.pending()["configEntities"] and "enabled" not in sim.pending()["configEntities"][
        "samlSettings"]
