# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 11 on the three SAML check modules, run in-process through AnsibleModule:

* policy names: a misspelt digest fails the task with the known names, in every module;
* every file option reads through the shared reader with the cap of its kind, and bad files
  (empty, binary, PKCS#12, a key where a certificate belongs and the reverse, a directory,
  oversize) give a clear error or the right finding, never a traceback;
* every documented option has an effect: changing it from its default changes the result.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from module_runner import run_in_process
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.modules import (
    saml_keypair_check,
    saml_metadata_check,
    saml_response_check,
)

import saml_idp_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position
import saml_response_fixtures as rfx  # noqa: E402  pylint: disable=wrong-import-position

MODULES = {"keypair": saml_keypair_check, "metadata": saml_metadata_check, "response": saml_response_check}


def run(name, args, capsys):  # pylint: disable=unused-argument
    ran = run_in_process(MODULES[name].main, args)
    return ran.result, ran.output


def codes(result):
    return sorted(f["code"] for f in result.get("findings") or [])


@pytest.fixture(scope="module")
def f(tmp_path_factory, pki):
    """Real inputs on disk: an SP pair, pysaml2 IdP metadata (signed and not), a pysaml2
    response, and the bad files."""
    d = tmp_path_factory.mktemp("saml_mod_hardening")
    root = pki.root(cn="SAML Hardening Root")
    leaf = pki.leaf(root, cn="tableau.example.test")
    idp = fx.idp(d, name="mod-hardening")
    ridp = rfx.Idp(d / "ridp")
    paths = {}

    def put(name, data):
        paths[name] = str(d / name)
        (d / name).write_bytes(data)

    put("saml.crt", leaf.pem)
    put("saml.key", fx.key_file(leaf.key, "pkcs1"))
    put("idp.xml", idp.metadata())
    put("signed.xml", idp.metadata(sign="sha256"))
    put("signer.crt", fx.pem(idp.cert))
    sp = fx.sp_metadata(d)
    put("sp.xml", sp if isinstance(sp, bytes) else sp.encode("utf-8"))
    put("response.xml", ridp.response())
    put("ridp.xml", ridp.metadata())
    put("ridp.crt", rfx.pem(ridp.cert))
    put("empty", b"")
    put("binary", bytes(range(256)) * 8)
    put("bundle.p12", pkcs12.serialize_key_and_certificates(
        b"x", leaf.key, leaf.cert, None, serialization.BestAvailableEncryption(b"pw")))
    put("key-as-cert.crt", fx.key_file(leaf.key, "pkcs1"))
    put("cert-as-key.key", leaf.pem)
    put("huge-xml", b"<x>" + b" " * reader.MAX_XML + b"</x>")
    put("huge-key", b"-----BEGIN RSA PRIVATE KEY-----\n" + b"A" * reader.MAX_KEY + b"\n-----END RSA PRIVATE KEY-----\n")
    put("huge-cert", b"-----BEGIN CERTIFICATE-----\n" + b"A" * reader.MAX_CERTIFICATE + b"\n-----END CERTIFICATE-----\n")
    paths["dir"] = str(d)
    paths["idp"], paths["ridp"], paths["leaf"] = idp, ridp, leaf
    return paths


# --------------------------------------------------------------------------- policy names

BASE = {
    "keypair": lambda f: {"cert_src": f["saml.crt"], "key_src": f["saml.key"]},
    "metadata": lambda f: {"src": f["idp.xml"]},
    "response": lambda f: {"src": f["response.xml"], "idp_metadata_src": f["ridp.xml"]},
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_misspelt_digest_fails_every_module_with_the_known_names(name, f, capsys):
    result, out = run(name, dict(BASE[name](f), blocklisted_digests=["shaone"]), capsys)
    assert result["failed"] is True
    assert "blocklisted_digests: unknown digest 'shaone'" in result["msg"]
    assert "sha1" in result["msg"] and "sha256" in result["msg"]
    assert "Traceback" not in out and "exception" not in result
    good, _out = run(name, dict(BASE[name](f), blocklisted_digests=["SHA-1", "md5"]), capsys)
    assert not good.get("failed"), good.get("msg")


# --------------------------------------------------------------------------- file options

# module, option, cap, the other options the run needs
FILE_OPTIONS = [
    ("keypair", "cert_src", reader.MAX_CERTIFICATE, {}),
    ("keypair", "key_src", reader.MAX_KEY, {}),
    ("metadata", "src", reader.MAX_XML, {}),
    ("metadata", "sp_src", reader.MAX_XML, {}),
    ("metadata", "trusted_signer_src", reader.MAX_CERTIFICATE, {"src": "signed.xml"}),
    ("response", "src", reader.MAX_XML, {}),
    ("response", "idp_metadata_src", reader.MAX_XML, {"src": "response.xml"}),
    ("response", "idp_cert_src", reader.MAX_CERTIFICATE, {"src": "response.xml"}),
]
HUGE = {reader.MAX_XML: "huge-xml", reader.MAX_KEY: "huge-key", reader.MAX_CERTIFICATE: "huge-cert"}
IDS = [f"{m}-{o}" for m, o, _c, _e in FILE_OPTIONS]


def _args(f, option, bad, extra):
    args = {key: f[value] for key, value in extra.items()}
    args[option] = f[bad]
    return args


@pytest.mark.parametrize("name,option,cap,extra", FILE_OPTIONS, ids=IDS)
def test_an_oversize_file_is_refused_before_it_is_read(name, option, cap, extra, f, capsys):
    result, out = run(name, _args(f, option, HUGE[cap], extra), capsys)
    assert result["failed"] is True and "Traceback" not in out
    assert result["msg"].startswith(f"{option} {f[HUGE[cap]]}: ")
    assert f"more than the limit of {cap} bytes" in result["msg"], result["msg"]
    assert "findings" not in result  # refused before any check ran


BAD_FILES = ["empty", "binary", "bundle.p12", "key-as-cert.crt", "cert-as-key.key", "dir"]
CERT_OPTIONS = ("cert_src", "trusted_signer_src", "idp_cert_src")
#: every bad file for every option, except a certificate for a certificate option and a key for the key
BAD_CASES = [(m, o, c, e, bad) for m, o, c, e in FILE_OPTIONS for bad in BAD_FILES
             if not (o in CERT_OPTIONS and bad == "cert-as-key.key") and not (o == "key_src" and bad == "key-as-cert.crt")]


@pytest.mark.parametrize("name,option,cap,extra,bad", BAD_CASES, ids=[f"{c[0]}-{c[1]}-{c[4]}" for c in BAD_CASES])
def test_bad_files_give_a_clear_error_or_the_right_finding(name, option, cap, extra, bad, f, capsys):
    result, out = run(name, _args(f, option, bad, extra), capsys)
    assert "Traceback" not in out and "exception" not in result, out
    assert result["failed"] is True, result
    text = result["msg"] + " ".join(x["message"] for x in result.get("findings") or [])
    if bad in ("empty", "dir"):
        assert result["msg"].startswith(f"{option} {f[bad]}: ")
        assert ("is empty" if bad == "empty" else "is a directory") in result["msg"]
        return
    if name == "keypair":  # the content is judged by the rules: the right finding
        expected = {"cert_src": "SAML-002", "key_src": "SAML-011"}[option]
        assert expected in codes(result), result
        if bad == "bundle.p12":
            assert "PKCS#12" in text
    else:
        assert f[bad] in text or bad in text or option in text, text  # the message names the input
    assert cap  # the cap itself is asserted by the oversize test


def test_max_bytes_lowers_the_cap_and_cannot_raise_it(f, capsys):
    size = os.path.getsize(f["idp.xml"])
    result, _out = run("metadata", {"src": f["idp.xml"], "max_bytes": size - 1}, capsys)
    assert result["failed"] is True and f"more than the limit of {size - 1} bytes" in result["msg"]
    for name in ("metadata", "response"):
        result, _out = run(name, dict(BASE[name](f), max_bytes=reader.MAX_XML + 1), capsys)
        assert result["failed"] is True and "above the cap for XML inputs" in result["msg"]


# --------------------------------------------------------------------------- every option has an effect

def _ec_sp(f, tmp_path):
    key = fx.key("ec", 256, "mod-ec-sp")
    cert = fx.self_signed(key, "tableau-ec.example.test")
    (tmp_path / "ec.crt").write_bytes(fx.pem(cert))
    return str(tmp_path / "ec.crt")


def _soon(pki, tmp_path):
    soon = pki.self_signed_leaf(days=20)
    (tmp_path / "soon.crt").write_bytes(soon.pem)
    return str(tmp_path / "soon.crt")


def _effect(name, base, changed, capsys):
    a, _out = run(name, base, capsys)
    b, _out = run(name, dict(base, **changed), capsys)
    strip = ("invocation",)
    return {k: v for k, v in a.items() if k not in strip} != {k: v for k, v in b.items() if k not in strip}, a, b


def test_every_keypair_option_has_an_effect(f, pki, tmp_path, capsys):
    base = BASE["keypair"](f)
    key_text = Path(f["saml.key"]).read_text()
    enc = tmp_path / "enc.key"
    enc.write_bytes(fx.key_file(f["leaf"].key, "pkcs8", "pw"))
    cases = {
        "cert_content": ({"key_src": f["saml.key"]}, {"cert_content": Path(f["saml.crt"]).read_text()}),
        "key_content": ({"cert_src": f["saml.crt"]}, {"key_content": key_text}),
        "passphrase": ({"cert_src": f["saml.crt"], "key_src": str(enc)}, {"passphrase": "pw"}),
        "scope": ({"cert_src": f["saml.crt"], "key_src": str(enc), "passphrase": "pw"}, {"scope": "site"}),
        "expiry_warn_days": ({"cert_src": _soon(pki, tmp_path)}, {"expiry_warn_days": 10}),
        "blocklisted_digests": (base, {"blocklisted_digests": ["sha256"]}),
        "min_rsa_key_size": (base, {"min_rsa_key_size": 4096}),
        "min_ec_key_size": ({"cert_src": _ec_sp(f, tmp_path)}, {"min_ec_key_size": 384}),
        "fail_on": ({"cert_src": _soon(pki, tmp_path)}, {"fail_on": "warning"}),
    }
    documented = set(saml_keypair_check.main.__globals__["POLICY_ARGUMENT_SPEC"]) | {
        "cert_src", "key_src", "cert_content", "key_content", "passphrase", "scope", "expiry_warn_days"}
    assert documented - {"cert_src", "key_src"} == set(cases)
    for option, (args, changed) in cases.items():
        differs, a, b = _effect("keypair", args, changed, capsys)
        assert differs, (option, a, b)
    _d, a, b = _effect("keypair", {"cert_src": _ec_sp(f, tmp_path)}, {"min_ec_key_size": 384}, capsys)
    assert "below min_ec_key_size 384" in json.dumps(b["findings"]) and "below" not in json.dumps(a["findings"])


def test_every_metadata_option_has_an_effect(f, capsys):
    base = {"src": f["idp.xml"]}
    signed = {"src": f["signed.xml"]}
    host = {"server_host": fx.SERVER_HOST}
    cases = {
        "content": ({"acs_url": "https://x.example.test/", "server_host": "x.example.test"},
                    {"content": Path(f["idp.xml"]).read_text()}),
        "entity_id": (base, {"entity_id": "https://other.example.test/idp"}),
        "trusted_signer_src": (signed, {"trusted_signer_src": f["signer.crt"]}),
        "trusted_signer_content": (signed, {"trusted_signer_content": Path(f["signer.crt"]).read_text()}),
        "sp_src": (base, {"sp_src": f["sp.xml"]}),
        "sp_content": (base, {"sp_content": Path(f["sp.xml"]).read_text()}),
        "server_host": ({"acs_url": "https://a/"}, {"server_host": fx.SERVER_HOST}),
        "scope": (dict(host, acs_url=f"https://{fx.SERVER_HOST}/wg/saml/SSO/index.html", site_alias="s"),
                  {"scope": "site"}),
        "site_alias": (dict(host, scope="site", site_alias="a", acs_url="https://x/"), {"site_alias": "b"}),
        "acs_url": (dict(base, **host), {"acs_url": f"https://{fx.SERVER_HOST}/wg/saml/sso/index.html"}),
        "slo_url": (dict(base, **host), {"slo_url": f"https://{fx.SERVER_HOST}/wg/saml/singlelogout/index.html"}),
        "return_url": (base, {"return_url": "https://localhost/"}),
        "max_bytes": (base, {"max_bytes": 100}),
        "blocklisted_digests": (base, {"blocklisted_digests": ["sha256"]}),
        "min_rsa_key_size": (base, {"min_rsa_key_size": 4096}),
        "min_ec_key_size": ({"src": _ec_idp(f)}, {"min_ec_key_size": 384}),
        "fail_on": ({"src": _slo_less(f)}, {"fail_on": "warning"}),
    }
    spec = _spec(saml_metadata_check)
    assert spec - {"src"} == set(cases)
    for option, (args, changed) in cases.items():
        differs, a, b = _effect("metadata", args, changed, capsys)
        assert differs, (option, a, b)


def test_every_response_option_has_an_effect(f, capsys):
    base = BASE["response"](f)
    ridp = f["ridp"]
    other_user = ridp.response(username="bob", username_attribute="email")
    path = Path(f["dir"]) / "email.xml"
    path.write_bytes(other_user)
    cases = {
        "content": ({"content": Path(f["response.xml"]).read_text()}, {"content": other_user.decode("utf-8")}),
        "idp_metadata_src": ({"src": f["response.xml"]}, {"idp_metadata_src": f["ridp.xml"]}),
        "idp_metadata_content": ({"src": f["response.xml"]}, {"idp_metadata_content": Path(f["ridp.xml"]).read_text()}),
        "idp_cert_src": ({"src": f["response.xml"]}, {"idp_cert_src": f["ridp.crt"]}),
        "idp_cert_content": ({"src": f["response.xml"]}, {"idp_cert_content": Path(f["ridp.crt"]).read_text()}),
        "username_attribute": (dict(base, src=str(path)), {"username_attribute": "email"}),
        "acs_url": (base, {"acs_url": rfx.ACS_URL.upper()}),
        "sp_entity_id": (base, {"sp_entity_id": "https://someone-else.example.test"}),
        "authcontexts": (base, {"authcontexts": [rfx.X509_CLASS]}),
        "scope": (dict(base, authcontexts=[rfx.X509_CLASS]), {"scope": "site"}),
        "max_bytes": (base, {"max_bytes": 100}),
        "blocklisted_digests": (base, {"blocklisted_digests": ["sha256"]}),
        "min_rsa_key_size": (base, {"min_rsa_key_size": 4096}),
        "min_ec_key_size": (_ec_response(f), {"min_ec_key_size": 384}),
        "fail_on": ({"src": f["response.xml"]}, {"fail_on": "warning"}),  # SAML-125, a warning
    }
    spec = _spec(saml_response_check)
    assert spec - {"src"} == set(cases)
    for option, (args, changed) in cases.items():
        differs, a, b = _effect("response", args, changed, capsys)
        assert differs, (option, a, b)


def _spec(module):
    """The option names of a module, from its DOCUMENTATION (with the policy fragments)."""
    import yaml
    doc = yaml.safe_load(module.DOCUMENTATION)
    from ansible_collections.trustops.tableau.plugins.doc_fragments import policy, saml_policy
    return set(doc["options"]).union(*(yaml.safe_load(frag.ModuleDocFragment.DOCUMENTATION)["options"]
                                       for frag in (policy, saml_policy)))


def _ec_idp(f):
    idp = fx.idp(Path(f["dir"]), "ec", 256, name="mod-ec")
    path = Path(f["dir"]) / "ec-idp.xml"
    path.write_bytes(idp.metadata())
    return str(path)


def _slo_less(f):
    path = Path(f["dir"]) / "no-slo.xml"
    path.write_bytes(f["idp"].metadata(slo=()))
    return str(path)


def _ec_response(f):
    ridp = rfx.Idp(Path(f["dir"]) / "ec-ridp", kind="ec", size=256)
    (Path(f["dir"]) / "ec-response.xml").write_bytes(ridp.response())
    (Path(f["dir"]) / "ec-ridp.xml").write_bytes(ridp.metadata())
    return {"src": str(Path(f["dir"]) / "ec-response.xml"), "idp_metadata_src": str(Path(f["dir"]) / "ec-ridp.xml")}
