# -*- coding: utf-8 -*-
"""client_cert_identity is glue: options, one core call (identity.audit_inputs), the result through
_module.show. The same inputs give the core's verdict; findings that do not fail the task are
warnings; a failure names every failing finding."""

from __future__ import annotations

import json

import pytest
from module_runner import run_module, warned

from ansible_collections.trustops.tableau.plugins.module_utils import identity
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.modules import client_cert_identity

from identity_pki import ClientPKI  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("glue")
    p = ClientPKI()
    ca = p.ca()
    (d / "ca.pem").write_bytes(ca.pem)
    (d / "jdoe_org.pem").write_bytes(p.client(ca, cn="jdoe", upns=["jdoe@example.org"]).pem)
    (d / "jdoe_com.pem").write_bytes(p.client(ca, cn="jdoe", upns=["jdoe@example.com"]).pem)
    (d / "users.json").write_text(json.dumps(["jdoe@example.org"]))
    return d


def test_core_audit_inputs_reads_options_as_given(site):
    result = identity.audit_inputs([str(site / "jdoe_org.pem")], "ad", mapping="upn", default_domain="example.org",
                                   known_users=["example.org\\other"], known_users_file=str(site / "users.json"),
                                   client_ca=(site / "ca.pem").read_text())
    assert [f.code for f in result.findings] == [] and result.counts["certificates"] == 1
    by_path = identity.audit_inputs([str(site / "jdoe_org.pem")], "ad", mapping="upn", default_domain="example.org",
                                    client_ca=str(site / "ca.pem"))
    assert by_path.certificates == result.certificates


@pytest.mark.parametrize("kwargs,words", [
    ({"certs": []}, "certs must name at least one"),
    ({"known_users_file": "/nonexistent/users.csv"}, "known_users_file"),
    ({"client_ca": "/nonexistent/ca.pem"}, "client_ca"),
])
def test_core_broken_options_raise_naming_the_option(site, kwargs, words):
    args = dict({"certs": [str(site / "jdoe_org.pem")], "identity_store": "ad"}, **kwargs)
    with pytest.raises(TrustopsError, match=words):
        identity.audit_inputs(**args)


def test_module_result_is_the_core_result(site):
    args = {"certs": [str(site / "*.pem")], "identity_store": "ad", "mapping": "cn", "default_domain": "example.org",
            "fail_on": "never"}
    r = run_module(client_cert_identity.main, args)
    core = identity.audit_inputs([str(site / "*.pem")], "ad", mapping="cn", default_domain="example.org").as_dict()
    assert r["certificates"] == core["certificates"] and r["findings"] == core["findings"]
    assert r["counts"] == core["counts"] and r["changed"] is False and r["ok"] is False


def test_findings_that_do_not_fail_are_warnings(site):
    """An unmatched pattern (SSL-020, a warning) beside a clean certificate: the task passes, and
    a plain run must still show the finding."""
    r = run_module(client_cert_identity.main, {"certs": [str(site / "jdoe_org.pem"), str(site / "nothing-*.pem")],
                                               "identity_store": "ad", "mapping": "upn"})
    assert not r.get("failed"), r
    assert [f["code"] for f in r["findings"] if f["severity"] != "info"] == ["SSL-020"] and r["counts"]["certificates"] == 1
    assert warned(r, "SSL-020 (warning)"), r.get("warnings")


def test_failure_names_every_failing_code_and_warns_the_rest(site):
    r = run_module(client_cert_identity.main, {"certs": [str(site / "jdoe_org.pem"), str(site / "jdoe_com.pem")],
                                               "identity_store": "ad", "mapping": "cn", "default_domain": "example.org"})
    assert r["failed"] and r["msg"].startswith("client_cert_identity: ")
    failing = [f for f in r["findings"] if f["severity"] == "error"]
    assert failing
    for f in failing:
        assert "{} {}".format(f["severity"], f["code"]) in r["msg"]
    for f in r["findings"]:
        if f["severity"] != "error":
            assert warned(r, "{} ({})".format(f["code"], f["severity"])), (f, r.get("warnings"))
