# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The saml_metadata_check module, in-process through AnsibleModule, with metadata written by
pysaml2 and signed by xmlsec1."""

from __future__ import annotations

from pathlib import Path

import pytest
from module_runner import run_module

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.modules import saml_metadata_check

import saml_idp_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(fx.XMLSEC1 is None, reason="xmlsec1 (Debian package) signs the metadata")
HOST = fx.SERVER_HOST


def run(args, capsys):  # pylint: disable=unused-argument
    return run_module(saml_metadata_check.main, args)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("saml_md_module")
    idp = fx.idp(d, name="module-idp")
    paths = {"signed": d / "idp.xml", "soap": d / "soap.xml", "signer": d / "signer.crt",
             "sp": d / "sp.xml", "sp_bad": d / "sp-bad.xml", "xxe": d / "xxe.xml"}
    paths["signed"].write_bytes(idp.metadata(sign="sha256"))
    paths["soap"].write_bytes(idp.metadata(sso=("soap",), slo=()))
    paths["signer"].write_bytes(fx.pem(idp.cert))
    paths["sp"].write_bytes(fx.sp_metadata(d))
    paths["sp_bad"].write_bytes(fx.sp_metadata(d, acs_url=f"https://{HOST}/wg/saml/SSO/Index.html"))
    paths["xxe"].write_bytes(b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                             b'<m>&x;</m>')
    out = {k: str(v) for k, v in paths.items()}
    out["idp"] = idp
    return out


def test_signed_metadata_verified_with_facts(files, capsys):
    result = run({"src": files["signed"], "trusted_signer_src": files["signer"], "sp_src": files["sp"],
                  "server_host": HOST, "return_url": f"https://{HOST}"}, capsys)
    assert not result.get("failed") and result["ok"] is True and result["findings"] == []
    assert result["entity_id"] == fx.IDP_ENTITY_ID and result["bindings"] == ["HTTP-POST", "HTTP-Redirect"]
    assert result["idp"]["signature_verified"] is True
    assert result["idp"]["signing_certificates"][0]["sha256"] == certs.fingerprint(files["idp"].cert)
    assert result["sp"]["acs_services"][0]["binding"] == "HTTP-POST"
    assert result["urls"]["expected_acs_url"] == f"https://{HOST}/wg/saml/SSO/index.html"


def test_every_problem_in_one_run(files, capsys):
    result = run({"src": files["soap"], "sp_src": files["sp_bad"], "server_host": HOST,
                  "acs_url": f"https://{HOST}/wg/saml/sso/index.html", "return_url": "https://localhost/"}, capsys)
    assert result["failed"] is True and result["ok"] is False
    got = [f["code"] for f in result["findings"]]
    assert got == ["SAML-027", "SAML-030", "SAML-050", "SAML-050", "SAML-052", "SAML-051"]
    expected = f"https://{HOST}/wg/saml/SSO/index.html"
    assert expected.index("index.html") + 1 == 42
    assert "at 42: 'i' expected, 'I' found (differs in case only)" in result["findings"][2]["message"]
    result = run({"src": files["soap"], "fail_on": "never"}, capsys)
    assert not result.get("failed") and result["ok"] is False


def test_hostile_metadata_fails_with_a_clear_message(files, capsys):
    result = run({"src": files["xxe"]}, capsys)
    assert result["failed"] is True and "DOCTYPE" in result["msg"] and files["xxe"] in result["msg"]
    assert "findings" not in result


def test_content_and_size_limit(files, capsys):
    text = Path(files["signed"]).read_text()
    result = run({"content": text, "trusted_signer_content": Path(files["signer"]).read_text()}, capsys)
    assert result["idp"]["signature_verified"] is True
    result = run({"content": text, "max_bytes": 100}, capsys)
    assert result["failed"] is True and "more than the limit of 100 bytes" in result["msg"]


def test_wrong_trusted_signer(files, tmp_path, capsys):
    stranger = fx.idp(tmp_path, name="module-stranger")
    (tmp_path / "s.crt").write_bytes(fx.pem(stranger.cert))
    result = run({"src": files["signed"], "trusted_signer_src": str(tmp_path / "s.crt")}, capsys)
    assert result["failed"] is True and [f["code"] for f in result["findings"]] == ["SAML-041"]
    assert result["idp"]["signature_verified"] is False


def test_argument_errors(files, capsys):
    result = run({"server_host": HOST}, capsys)
    assert result["failed"] is True and "one of the following is required" in result["msg"]
    result = run({"return_url": "https://x.example", "scope": "site"}, capsys)
    assert result["failed"] is True and "site_alias" in result["msg"]
    result = run({"acs_url": "https://x.example/wg/saml/SSO/index.html"}, capsys)
    assert result["failed"] is True and "give server_host" in result["msg"]
    result = run({"acs_url": "https://x", "server_host": "https://x.example"}, capsys)
    assert result["failed"] is True and "server_host must be a host name" in result["msg"]
    result = run({"trusted_signer_src": files["signer"], "return_url": "https://x.example"}, capsys)
    assert result["failed"] is True and "give src or content" in result["msg"]
    result = run({"src": "/nonexistent/idp.xml"}, capsys)
    assert result["failed"] is True and "cannot read it" in result["msg"]


def test_site_scope(files, tmp_path, capsys):
    (tmp_path / "site-sp.xml").write_bytes(fx.sp_metadata(tmp_path, site_alias="finance"))
    result = run({"sp_src": str(tmp_path / "site-sp.xml"), "server_host": HOST, "scope": "site",
                  "site_alias": "finance"}, capsys)
    assert result["ok"] is True and result["findings"] == []
    assert result["urls"]["expected_acs_url"].endswith("/samlservice/public/sp/metadata?alias=finance")


def test_signxml_is_imported_only_to_verify_a_signature(files):
    """Issue 16: unsigned metadata is checked without importing signxml; signed metadata imports it
    and is verified (a fresh interpreter, the module's own import first)."""
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    code = (
        "import json, sys\n"
        "import ansible.module_utils.basic\n"
        "import ansible_collections.trustops.tableau.plugins.modules.saml_metadata_check\n"
        "from ansible_collections.trustops.tableau.plugins.module_utils.saml.metadata import check_configuration\n"
        "seen = ['signxml' in sys.modules]\n"
        "findings, facts = check_configuration(idp_data=open(sys.argv[1], 'rb').read())\n"
        "seen += ['signxml' in sys.modules, facts['idp']['signature_verified']]\n"
        "findings, facts = check_configuration(idp_data=open(sys.argv[2], 'rb').read(),\n"
        "                                      trusted_signer_data=open(sys.argv[3], 'rb').read())\n"
        "seen += ['signxml' in sys.modules, facts['idp']['signature_verified']]\n"
        "print(json.dumps(seen))\n")
    collections = os.path.abspath(os.path.join(os.path.dirname(saml_metadata_check.__file__), *[".."] * 5))
    proc = subprocess.run([sys.executable, "-c", code, files["soap"], files["signed"], files["signer"]],
                          env=dict(os.environ, PYTHONPATH=collections), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    after_import, after_unsigned, unsigned_verified, after_signed, signed_verified = json.loads(proc.stdout)
    assert (after_import, after_unsigned) == (False, False)
    assert unsigned_verified is not True
    assert (after_signed, signed_verified) == (True, True)
