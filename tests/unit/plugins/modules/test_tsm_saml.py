# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tsm_saml run in-process against the TSM simulator, with real certificates and keys."""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible_collections.trustops.tableau.plugins.modules import tsm_saml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import SimServer, idp_metadata, run_module, warned, write  # noqa: E402  pylint: disable=wrong-import-position

URL = "https://tableau.example.test"
PASSPHRASE = "Saml-Key-Passphrase-42"


@pytest.fixture
def sim(tmp_path):
    return SimServer(tmp_path / "server")


@pytest.fixture
def files(tmp_path, pki):
    root = pki.root(cn="SAML Module Root")
    sp = pki.leaf(root, cn="tableau.example.test")
    other = pki.leaf(root, cn="tableau.example.test", key=None, days=200)
    d = tmp_path / "staged"
    return {
        "root": root, "sp": sp, "other": other,
        "cert": write(d / "sp.crt", sp.pem), "key": write(d / "sp.key", sp.key_pem()),
        "key_enc": write(d / "sp-enc.key", sp.key_pem("pkcs8", PASSPHRASE.encode())),
        "key_pkcs1_enc": write(d / "sp-pkcs1-enc.key", sp.key_pem("pkcs1", PASSPHRASE.encode())),
        "idp": write(d / "idp.xml", idp_metadata("a")),
        "der": write(d / "sp.der", sp.der),
        "wrong_key": write(d / "wrong.key", pki.root(cn="unrelated", key=None).key_pem()),
    }


def args(sim, files, **extra):
    base = {"tsm_path": sim.tsm, "idp_entity_id": URL, "return_url": URL, "idp_metadata_file": files["idp"],
            "cert_file": files["cert"], "key_file": files["key"], "user_name_attribute": "username",
            "min_rsa_key_size": 2048, "max_auth_age": 3600}
    base.update(extra)
    return base


def apply(sim):
    proc = sim.run("pending-changes", "apply", "--ignore-prompt")
    assert proc.returncode == 0, proc.stderr


def test_fresh_server_is_configured_and_enabled_then_converged(sim, files):
    first = run_module(tsm_saml.main, args(sim, files))
    assert first["changed"] and not first.get("failed"), first
    assert first["staged"][0].startswith("authentication saml configure (")
    assert first["staged"][-1] == "authentication saml enable"
    saml = sim.pending()["configEntities"]["samlSettings"]
    assert saml["enabled"] is True and saml["returnUrl"] == URL and saml["maxAuthenticationAge"] == 3600
    with open(saml["certFile"], "rb") as handle:
        assert handle.read() == files["sp"].pem
    assert sim.counters()["applies"] == 0, "modules stage; they never apply"
    apply(sim)

    calls_before = len(sim.calls())
    second = run_module(tsm_saml.main, args(sim, files))
    assert not second["changed"] and second["staged"] == [] and second["changes"] == []
    assert second["tsm_calls"] == 1 and [c["command"] for c in sim.calls()[calls_before:]] == ["settings.export"]
    assert sim.pending() == {"configKeys": {}, "configEntities": {}}


def test_check_mode_writes_nothing_and_diff_shows_the_change(sim, files):
    before = sim.state_bytes()
    result = run_module(tsm_saml.main, args(sim, files, key_file=files["key_enc"], key_passphrase=PASSPHRASE),
                        check=True, diff=True)
    assert result["changed"] and result["staged"] == []
    assert sim.state_bytes() == before and sim.write_calls() == []
    assert "samlSettings.enabled: false" in result["diff"]["before"]
    assert "samlSettings.enabled: true" in result["diff"]["after"]
    assert "wgserver.saml.key.passphrase: ********" in result["diff"]["after"]
    assert PASSPHRASE not in json.dumps(result)


def test_a_second_run_before_apply_stages_again_and_the_next_apply_finishes(sim, files):
    """A failed apply leaves changes pending; export shows the applied state, so the next run re-stages."""
    run_module(tsm_saml.main, args(sim, files))
    again = run_module(tsm_saml.main, args(sim, files))
    assert again["changed"], "the applied configuration still differs"
    apply(sim)
    assert not run_module(tsm_saml.main, args(sim, files))["changed"]


def test_same_certificate_in_another_encoding_and_path_is_no_change(sim, files):
    run_module(tsm_saml.main, args(sim, files))
    apply(sim)
    result = run_module(tsm_saml.main, args(sim, files, cert_file=files["der"]))
    assert not result["changed"], result["changes"]


def test_a_new_certificate_reconfigures_only_the_files(sim, files, tmp_path):
    run_module(tsm_saml.main, args(sim, files, key_file=files["key_enc"], key_passphrase=PASSPHRASE))
    apply(sim)
    new_cert = write(tmp_path / "staged" / "sp2.crt", files["other"].pem)
    new_key = write(tmp_path / "staged" / "sp2.key", files["other"].key_pem("pkcs8", PASSPHRASE.encode()))
    result = run_module(tsm_saml.main, args(sim, files, cert_file=new_cert, key_file=new_key,
                                            key_passphrase=PASSPHRASE))
    assert result["changed"]
    assert result["staged"] == ["authentication saml configure (cert_file, key_file)",
                                "settings import (wgserver.saml.key.passphrase)"]
    # the passphrase is not re-staged while the key file is unchanged
    apply(sim)
    again = run_module(tsm_saml.main, args(sim, files, cert_file=new_cert, key_file=new_key,
                                           key_passphrase=PASSPHRASE))
    assert not again["changed"]


def test_policy_keys_force_only_keys_never_set(sim, files):
    result = run_module(tsm_saml.main, args(sim, files, min_rsa_key_size=3072, authcontexts=["urn:a", "urn:b"],
                                            ignore_domain_in_username=True, blocklisted_digest_algorithms=["SHA1"]))
    assert "settings import (wgserver.saml.min_allowed.rsa_key_size)" in result["staged"]
    assert ("settings import --force-keys (wgserver.ignore_domain_in_username_for_matching, "
            "wgserver.saml.authcontexts)") in result["staged"]
    forced = [c for c in sim.calls() if c["command"] == "settings.import" and "--force-keys" in c["argv"]]
    assert len(forced) == 1
    assert [f["code"] for f in result["findings"]] == ["TSM-004"]
    assert warned(result, "TSM-004") and warned(result, "alice@example.com")
    assert sim.pending()["configKeys"] == {"wgserver.saml.min_allowed.rsa_key_size": "3072",
                                           "wgserver.saml.authcontexts": "urn:a,urn:b",
                                           "wgserver.ignore_domain_in_username_for_matching": "true"}


def test_refuses_saml_next_to_mutual_ssl(sim, files):
    sim.run("security", "external-ssl", "enable", "--cert-file", files["cert"], "--key-file", files["key"])
    sim.run("authentication", "mutual-ssl", "configure", "--ca-cert", files["cert"])
    sim.run("authentication", "mutual-ssl", "enable")
    before = sim.state_bytes()
    pending_only = run_module(tsm_saml.main, args(sim, files))
    assert pending_only["failed"] and "TSM-001" in pending_only["msg"] and "nothing was changed" in pending_only["msg"]
    assert sim.state_bytes() == before
    apply(sim)
    applied = run_module(tsm_saml.main, args(sim, files))
    assert applied["failed"] and "mutual SSL and SAML together" in applied["msg"]
    assert [f["code"] for f in applied["findings"]] == ["TSM-001"]
    assert sim.write_calls(0)[-1]["command"] == "pending-changes.apply", "nothing staged after the last apply"


@pytest.mark.parametrize("url,code", [(URL + "/", "TSM-002"), ("http://localhost", "TSM-003"),
                                      ("tableau.example.test", "TSM-003")])
def test_return_url_rules(sim, files, url, code):
    result = run_module(tsm_saml.main, args(sim, files, return_url=url))
    assert result["failed"] and code in [f["code"] for f in result["findings"]]
    assert sim.write_calls() == []


def test_first_configuration_needs_all_five(sim, files):
    result = run_module(tsm_saml.main, {"tsm_path": sim.tsm, "return_url": URL, "cert_file": files["cert"],
                                        "key_file": files["key"]})
    assert result["failed"] and [f["code"] for f in result["findings"]] == ["TSM-005"]
    assert result["findings"][0]["data"]["missing"] == ["idp_entity_id", "idp_metadata_file"]
    assert sim.write_calls() == []


@pytest.mark.parametrize("key,passphrase,code", [("wrong_key", None, "TSM-006"), ("key_pkcs1_enc", PASSPHRASE, "TSM-007"),
                                                 ("key_enc", None, "TSM-008")])
def test_key_checks_refuse_before_staging(sim, files, key, passphrase, code):
    result = run_module(tsm_saml.main, args(sim, files, key_file=files[key], key_passphrase=passphrase))
    assert result["failed"] and code in [f["code"] for f in result["findings"]], result
    assert sim.write_calls() == []


def test_wrong_passphrase_is_a_clear_error(sim, files):
    result = run_module(tsm_saml.main, args(sim, files, key_file=files["key_enc"], key_passphrase="not-it"))
    assert result["failed"] and "wrong passphrase" in result["msg"] and "nothing was changed" in result["msg"]
    assert "not-it" not in json.dumps(result) and sim.write_calls() == []


def test_missing_file_is_a_clear_error(sim, files, tmp_path):
    result = run_module(tsm_saml.main, args(sim, files, idp_metadata_file=str(tmp_path / "missing.xml"),
                                            validate_key=False))
    assert result["failed"] and "missing.xml" in result["msg"] and "nothing was changed" in result["msg"]


def test_disable_only_disables(sim, files):
    run_module(tsm_saml.main, args(sim, files))
    apply(sim)
    result = run_module(tsm_saml.main, {"tsm_path": sim.tsm, "state": "disabled"})
    assert result["changed"] and result["staged"] == ["authentication saml disable"]
    apply(sim)
    assert sim.applied()["configEntities"]["samlSettings"]["enabled"] is False
    assert sim.applied()["configEntities"]["samlSettings"]["returnUrl"] == URL
    assert not run_module(tsm_saml.main, {"tsm_path": sim.tsm, "state": "disabled"})["changed"]


def test_tsm_failure_reports_command_exit_code_and_stderr(sim, files, monkeypatch):
    monkeypatch.setenv("TSM_SIM_FAIL", "authentication.saml.enable:exit=7")
    result = run_module(tsm_saml.main, args(sim, files))
    assert result["failed"] and result["rc"] == 7 and "injected by TSM_SIM_FAIL" in result["stderr"]
    assert "authentication saml enable" in result["cmd"]
    assert "Staged before the failure (pending, not applied): authentication saml configure" in result["msg"]
    assert result["changed"], "something was staged"
