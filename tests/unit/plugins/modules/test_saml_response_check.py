# -*- coding: utf-8 -*-
"""The saml_response_check module run for real: ``ansible localhost -m trustops.tableau.saml_response_check``.

The responses come from pysaml2's IdP signed by xmlsec1 (tests/unit/plugins/module_utils/
saml_response_fixtures.py); the module reads them from files or from ``content`` the way a
user passes a browser trace.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


import saml_response_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.trustops.tableau.plugins.module_utils import certs  # noqa: E402
from ansible_collections.trustops.tableau.plugins.module_utils.saml import response  # noqa: E402

ANSIBLE = str(Path(sys.executable).with_name("ansible"))
# .../ansible_collections/trustops/tableau/plugins/module_utils/saml/response.py -> collections root
COLLECTIONS = str(Path(response.__file__).parents[6])
DEBIAN_PYTHON = "/usr/bin/python3"
MODULE = "trustops.tableau.saml_response_check"

pytestmark = pytest.mark.skipif(fx.XMLSEC1 is None or not os.path.exists(ANSIBLE),
                                reason="needs xmlsec1 (pysaml2's backend) and the ansible CLI")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("saml_response_check")
    idp = fx.Idp(d / "idp")
    good = idp.response(groups=("Sales",))
    (d / "metadata.xml").write_bytes(idp.metadata())
    (d / "idp.crt").write_bytes(idp.cert_pem)
    (d / "trace.txt").write_text(fx.form_value(good, urlencode=True))
    (d / "good.xml").write_bytes(good)
    (d / "anytype.xml").write_bytes(idp.response(username_type="xs:anyType", sign_alg="sha1", digest_alg="sha1"))
    (d / "wrapped.xml").write_bytes(fx.xsw_assertion_sibling(idp.response()))
    return {"dir": d, "idp": idp, "good": good}


def run_module(tmp_path, args, python=None, check=False):
    """Run the module ad hoc on localhost; return (host status, result dict, raw output)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"), ANSIBLE_HOME=str(tmp_path / "ansible-home"))
    cmd = [ANSIBLE, "localhost", "-m", MODULE, "-a", json.dumps(args)]
    cmd += ["-e", "ansible_python_interpreter=%s" % (python or sys.executable)]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r"^localhost \| (SUCCESS|FAILED!|CHANGED) => (\{.*\})\s*$", proc.stdout, re.S | re.M)
    assert match, f"unexpected ansible output:\n{proc.stdout}\n{proc.stderr}"
    return match.group(1), json.loads(match.group(2)), proc.stdout + proc.stderr


def codes(result):
    return [f["code"] for f in result["findings"]]


def test_browser_trace_from_a_file_passes_with_facts(files, tmp_path):
    d = files["dir"]
    status, r, out = run_module(tmp_path, {"src": str(d / "trace.txt"), "idp_metadata_src": str(d / "metadata.xml"),
                                           "acs_url": fx.ACS_URL, "sp_entity_id": fx.SP_ENTITY_ID})
    assert status == "SUCCESS", out
    assert r["changed"] is False and r["ok"] is True and codes(r) == ["SAML-150"]
    assert r["input_format"] == "form" and r["relay_state"] == "/views/home"
    assert r["username"] == "alice@example.test" and r["groups"] == ["Sales"]
    assert r["signed_element"] == "assertion" and r["signature_verified"] is True
    assert r["signing_certificate"]["sha256"] == certs.fingerprint(files["idp"].cert)
    assert r["issuer"] == fx.IDP_ENTITY_ID and r["idp_entity_id"] == fx.IDP_ENTITY_ID
    assert r["msg"].startswith("info SAML-150")


def test_fail_on_error_fails_with_every_finding(files, tmp_path):
    d = files["dir"]
    status, r, out = run_module(tmp_path, {"src": str(d / "anytype.xml"), "idp_cert_src": str(d / "idp.crt")})
    assert status == "FAILED!", out
    assert codes(r) == ["SAML-120", "SAML-111"] and r["ok"] is False
    assert "SAML-120" in r["msg"] and "SAML-111" in r["msg"]
    assert r["signature_verified"] is True and r["username_type"] == "xs:anyType"


def test_wrapped_signature_reported_with_fail_on_never(files, tmp_path):
    d = files["dir"]
    status, r, out = run_module(tmp_path, {"content": (d / "wrapped.xml").read_text(), "fail_on": "never",
                                           "idp_cert_content": files["idp"].cert_pem.decode("ascii")})
    assert status == "SUCCESS", out
    assert "SAML-124" in codes(r) and r["ok"] is False and r["signature_verified"] is False
    assert r["username"] == "alice@example.test" and r["read_from"] == "signed-element"


def test_authcontexts_and_scope(files, tmp_path):
    d = files["dir"]
    args = {"src": str(d / "good.xml"), "idp_metadata_src": str(d / "metadata.xml"),
            "authcontexts": "urn:example:mfa,urn:example:smartcard"}
    status, r, out = run_module(tmp_path, args)
    assert status == "FAILED!" and "SAML-130" in codes(r), out
    assert "urn:example:mfa, urn:example:smartcard" in r["msg"]
    status, r, out = run_module(tmp_path, dict(args, scope="site"))
    assert status == "SUCCESS" and "SAML-131" in codes(r) and "SAML-130" not in codes(r), out


def test_check_mode_reports_the_same(files, tmp_path):
    d = files["dir"]
    args = {"src": str(d / "good.xml"), "idp_metadata_src": str(d / "metadata.xml")}
    _status, normal, _out = run_module(tmp_path, args)
    status, checked, out = run_module(tmp_path, args, check=True)
    assert status == "SUCCESS", out
    assert checked["findings"] == normal["findings"] and checked["changed"] is False
    assert checked["username"] == normal["username"] == "alice@example.test"


def test_hostile_and_missing_input_fail_clearly(files, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>')
    status, r, out = run_module(tmp_path, {"content": xxe})
    assert status == "FAILED!" and "DOCTYPE" in r["msg"], out
    assert "TOP-SECRET" not in out and "Traceback" not in out
    status, r, _out = run_module(tmp_path, {"src": str(tmp_path / "nope.xml")})
    assert status == "FAILED!" and r["msg"].startswith("src %s: cannot read it" % (tmp_path / "nope.xml"))
    status, r, _out = run_module(tmp_path, {"content": "hello"})
    assert status == "FAILED!" and "neither XML nor a base64 SAMLResponse value" in r["msg"]
    status, r, _out = run_module(tmp_path, {"content": files["good"].decode(), "idp_cert_content": "not a cert"})
    assert status == "FAILED!" and r["msg"].startswith("idp_cert_content:")
    status, r, _out = run_module(tmp_path, {"src": "a", "content": "b"})
    assert status == "FAILED!" and "mutually exclusive" in r["msg"]


def test_debian_python_without_lxml_fails_with_the_requirement(files, tmp_path):
    """Debian 12's python3 (cryptography 38, no lxml/signxml): a clear message, not a traceback."""
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"no {DEBIAN_PYTHON} on this machine")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import lxml"], capture_output=True, check=False)
    status, r, out = run_module(tmp_path, {"src": str(files["dir"] / "good.xml")}, python=DEBIAN_PYTHON)
    if probe.returncode == 0:
        assert status == "SUCCESS", out  # lxml installed there: the check runs (SAML-125 without signxml)
        assert r["username"] == "alice@example.test"
    else:
        assert status == "FAILED!", out
        assert "lxml" in r["msg"] and "Traceback" not in r["msg"]
