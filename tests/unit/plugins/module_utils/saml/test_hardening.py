# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 11, the SAML parts, on the cores: policy names through the shared trust-anchor policy,
remedies that work (run with real openssl / ssh-keygen on real keys and checked again), an
expired trusted metadata signer, bearer confirmation data, PEM inside X509Certificate and the
one XML cap.  Metadata and responses come from pysaml2 with Debian's xmlsec1."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

import saml_idp_fixtures as fx
import saml_response_fixtures as rfx

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy, reader, xml, xmlsig
from ansible_collections.trustops.tableau.plugins.module_utils.saml import metadata, rules, sp
from ansible_collections.trustops.tableau.plugins.module_utils.saml import response as sr
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

OPENSSL = shutil.which("openssl")
SSH_KEYGEN = shutil.which("ssh-keygen")
DS = "{http://www.w3.org/2000/09/xmldsig#}"
NSMAP = {"saml": rfx.SAML, "samlp": rfx.SAMLP, "ds": rfx.DS}
LIBRARY_WORDS = ("SignatureConfiguration", "verification_time", "Use verify(", "Digest mismatch for reference",
                 "Signature verification failed", "InvalidCertificate", "signxml")


def codes(findings):
    return sorted(f.code for f in findings)


def make_key(kind, size):
    """Keys from the SAML fixtures (not ``from conftest import``: another conftest.py may shadow it)."""
    return fx.key(kind, size, "hardening")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("saml_hardening")


# --------------------------------------------------------------------------- 1. policy names

@pytest.mark.parametrize("names", [["shaone"], ["sha1", "sha-one"], ["rsa-sha1x"]])
def test_unknown_digest_names_are_errors_listing_the_known_names(names):
    with pytest.raises(TrustopsError) as raised:
        rules.Policy(blocklisted_digests=names)
    text = str(raised.value)
    assert "blocklisted_digests" in text and "unknown digest" in text
    assert "sha1" in text and "sha256" in text  # the known names are listed
    assert isinstance(raised.value, anchor_policy.AnchorPolicyError)


def test_the_policy_spells_digests_as_the_trust_anchor_policy_does():
    policy = rules.Policy(["SHA-1", " Sha_256 ", "sha3-256"])
    assert policy.blocklisted_digests == tuple(sorted(anchor_policy.blocklist(["SHA-1", " Sha_256 ", "sha3-256"])))
    assert policy.digest_blocked("http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    assert policy.digest_blocked("http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1")
    assert not policy.digest_blocked("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512")


@pytest.mark.parametrize("option", ["min_rsa_key_size", "min_ec_key_size"])
def test_negative_sizes_are_errors(option):
    with pytest.raises(anchor_policy.AnchorPolicyError, match=option):
        rules.Policy(**{option: -1})


# --------------------------------------------------------------------------- 2. min_ec_key_size on the SP side

def _ec_pair(size):
    key = make_key("ec", size)
    return key, fx.self_signed(key, f"tableau-ec{size}.example.test")


@pytest.mark.parametrize("size,minimum,below", [(256, 384, True), (256, 256, False), (384, 384, False)])
def test_min_ec_key_size_is_reported_on_an_ec_sp_certificate_and_key(size, minimum, below):
    key, cert = _ec_pair(size)
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    findings, _facts = sp.check_keypair(fx.pem(cert), pem_key, policy=rules.Policy(min_ec_key_size=minimum))
    by_code = {f.code: f for f in findings}
    assert {"SAML-007", "SAML-012"} <= set(by_code)
    for code in ("SAML-007", "SAML-012"):
        message = by_code[code].message
        assert f"{size} bits" in message
        assert (f"below min_ec_key_size {minimum}" in message) is below, message


# --------------------------------------------------------------------------- 3. remedies that work

PASS_IN = "Old-pass-7"
PASS_OUT = "New-pass-8"


def _key_of(kind):
    if kind == "rsa":
        key = make_key("rsa", 2048)
    elif kind == "dsa":
        key = fx.key("dsa", 2048, "sp-dsa")
    else:
        key = make_key("ec", 256)
    return key, fx.self_signed(key, f"tableau-{kind}.example.test")


def _write(path, private_key, fmt, passphrase):
    if fmt == "openssh":
        data = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                         serialization.NoEncryption())
    elif fmt == "sec1":
        data = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption())
    else:
        data = fx.key_file(private_key, fmt, passphrase)
    path.write_bytes(data)
    return data


def _run_remedy(command, workdir, encrypted_input):
    """Run one remedy command as a user would, answering the prompts with options: the old
    passphrase for an encrypted input, a new one for encrypted PKCS#8, an empty one for ssh-keygen."""
    if command.startswith("cp "):
        command += " -P %s -N ''" % (PASS_IN if encrypted_input else "''")
    else:  # an empty (or no) password is asked for and answered with Enter
        command += " -passin pass:%s" % (PASS_IN if encrypted_input else "")
        if " -topk8 " in command:
            command += f" -passout pass:{PASS_OUT}"
    result = subprocess.run(["bash", "-c", command], cwd=workdir, capture_output=True, check=False)
    assert result.returncode == 0, (command, result.stderr.decode())
    return (workdir / "saml.key").read_bytes()


# (kind, format, passphrase of the input, scope) -> the finding whose remedy is run
REMEDY_CASES = [
    ("rsa", "pkcs1", PASS_IN, "server", "SAML-014"),
    ("rsa", "pkcs1", PASS_IN, "site", "SAML-014"),
    ("dsa", "pkcs1", PASS_IN, "server", "SAML-014"),
    ("dsa", "pkcs1", PASS_IN, "site", "SAML-014"),
    ("dsa", "pkcs8", PASS_IN, "server", "SAML-015"),
    ("rsa", "pkcs8", None, "server", "SAML-016"),
    ("rsa", "pkcs8", "", "server", "SAML-016"),
    ("dsa", "pkcs8", None, "server", "SAML-016"),
    ("dsa", "pkcs8", None, "site", "SAML-016"),
    ("rsa", "pkcs8", PASS_IN, "site", "SAML-017"),
    ("rsa", "openssh", None, "server", "SAML-013"),
]


@pytest.mark.skipif(OPENSSL is None or SSH_KEYGEN is None, reason="openssl and ssh-keygen run the remedies")
@pytest.mark.parametrize("kind,fmt,passphrase,scope,code", REMEDY_CASES,
                         ids=["-".join(str(p) for p in c) for c in REMEDY_CASES])
def test_every_remedy_command_yields_a_key_the_check_accepts(kind, fmt, passphrase, scope, code, tmp_path):
    key, cert = _key_of(kind)
    source = tmp_path / "in dir" / ("given.key" if fmt != "openssh" else "id_given")
    source.parent.mkdir()
    _write(source, key, fmt, passphrase)
    findings, _facts = sp.check_sp_key(source.read_bytes(), str(source), passphrase=passphrase or None,
                                       scope=scope, cert=cert)
    finding = next((f for f in findings if f.code == code), None)
    assert finding is not None, [f.message for f in findings]
    commands = finding.data["commands"]
    assert commands, finding.remedy
    if kind == "dsa":  # the issue: RSA commands for a DSA key
        assert not any("openssl rsa" in c or "-topk8" in c for c in commands), finding.remedy
    for command in commands:
        assert command in finding.remedy
        run_dir = tmp_path / f"run{commands.index(command)}"
        run_dir.mkdir()
        out = _run_remedy(command, run_dir, encrypted_input=bool(passphrase))
        new_pass = PASS_OUT if "-topk8" in command else None
        # what it wrote, checked again: accepted for the scope (encrypted PKCS#8 is server-wide)
        recheck, facts = sp.check_sp_key(out, "saml.key", passphrase=new_pass, scope=scope, cert=cert)
        assert recheck == [], (command, [f.message for f in recheck])
        assert facts["matches_certificate"] is True and facts["key_type"] == kind.upper()


def test_the_dsa_remedy_is_not_the_rsa_one(tmp_path):
    """The reported failure: `openssl rsa ... -traditional` on a password-protected PKCS#1 DSA key
    fails with "Not an RSA key" (run here to show it), and the remedy no longer says it."""
    key, _cert = _key_of("dsa")
    source = tmp_path / "dsa.key"
    _write(source, key, "pkcs1", PASS_IN)
    failing = subprocess.run([OPENSSL, "rsa", "-in", str(source), "-traditional", "-out", str(tmp_path / "x"),
                              "-passin", "pass:" + PASS_IN], capture_output=True, check=False)
    assert failing.returncode != 0 and b"Not an RSA key" in failing.stderr
    findings, _facts = sp.check_sp_key(source.read_bytes(), str(source))
    remedy = next(f for f in findings if f.code == "SAML-014").remedy
    assert "openssl dsa -in" in remedy and "openssl rsa" not in remedy and "pkcs8 -topk8" not in remedy
    assert "replace" in remedy.lower()


@pytest.mark.parametrize("fmt", ["sec1", "pkcs8", "openssh"])
def test_a_key_type_tableau_cannot_use_says_it_must_be_replaced(fmt, tmp_path):
    key, _cert = _key_of("ec")
    source = tmp_path / "ec.key"
    _write(source, key, fmt, None)
    findings, _facts = sp.check_sp_key(source.read_bytes(), str(source))
    assert "SAML-012" in codes(findings)
    for f in findings:
        if f.code in ("SAML-012", "SAML-013", "SAML-016"):
            assert f.data["commands"] == [] and "must be replaced" in f.remedy, (f.code, f.remedy)


def test_an_encrypted_key_of_unknown_type_gets_remedies_per_type(tmp_path):
    key, _cert = _key_of("rsa")
    source = tmp_path / "enc.key"
    _write(source, key, "pkcs8", PASS_IN)
    findings, _facts = sp.check_sp_key(source.read_bytes(), str(source), scope="site")
    f = next(f for f in findings if f.code == "SAML-017")
    assert "if it is an RSA key" in f.remedy and "if it is a DSA key" in f.remedy
    rsa_command, dsa_command = f.data["commands"]
    assert rsa_command.startswith("openssl rsa ") and dsa_command.startswith("openssl dsa ")
    out = _run_remedy(rsa_command, tmp_path, encrypted_input=True)
    assert sp.check_sp_key(out, "saml.key", scope="site", cert=_cert)[0] == []


def test_a_private_key_given_as_the_certificate_is_not_said_to_be_besides_one():
    key, _cert = _key_of("rsa")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    findings, _facts, cert = sp.check_sp_certificate(pem, "saml.crt")
    assert cert is None
    four = next(f for f in findings if f.code == "SAML-004")
    assert "besides the certificate" not in four.message
    assert "RSA PRIVATE KEY and no certificate" in four.message
    # with a certificate in the file, it is still "besides the certificate"
    _key, real = _key_of("rsa")
    findings, _facts, _cert = sp.check_sp_certificate(fx.pem(real) + pem, "saml.crt")
    assert "besides the certificate" in next(f for f in findings if f.code == "SAML-004").message


# --------------------------------------------------------------------------- 4. expired metadata signer

@pytest.fixture(scope="module")
def expired_idp(work):
    return fx.idp(work, name="expired-signer", days=-1, start_days=-400)


def test_metadata_signed_by_an_expired_trusted_signer_verifies_with_its_own_finding(expired_idp):
    signed = expired_idp.metadata(sign="sha256")
    findings, facts = metadata.check_idp_metadata(signed, "idp.xml", trusted_signers=[expired_idp.cert])
    assert "SAML-041" not in codes(findings), [f.message for f in findings]
    assert facts["signature_verified"] is True
    expired = [f for f in findings if f.code == "SAML-045"]
    assert len(expired) == 1 and expired[0].severity == "warning"
    assert "has expired" in expired[0].message and "verifies" in expired[0].message
    for f in findings:
        assert not any(word in f.message or word in f.remedy for word in LIBRARY_WORDS), f.message


def test_a_changed_document_by_an_expired_signer_still_does_not_verify(expired_idp):
    signed = expired_idp.metadata(sign="sha256")
    evil = signed.replace(b"https://idp.example.test/sso/post", b"https://evil.example.test/sso/post")
    findings, facts = metadata.check_idp_metadata(evil, "idp.xml", trusted_signers=[expired_idp.cert])
    assert "SAML-041" in codes(findings) and "SAML-045" not in codes(findings)
    assert facts["signature_verified"] is False


def test_the_response_path_verifies_an_expired_signer_the_same_way(work, expired_idp):
    """One verifier: a response signed with the expired key verifies as metadata does."""
    idp = rfx.Idp(work / "expired-response", key=expired_idp.key, cert=expired_idp.cert)
    report = sr.check_response(idp.response(), "r.xml", idp_certs=[expired_idp.cert])
    assert report.facts["signature_verified"] is True
    assert not {"SAML-122", "SAML-123"} & set(codes(report.findings))


@pytest.mark.parametrize("damage", ["wrong-signer", "tampered"])
def test_verifier_reasons_are_our_words(work, damage):
    idp = fx.idp(work, name="words")
    signed = idp.metadata(sign="sha256")
    trusted = [idp.cert]
    if damage == "wrong-signer":
        trusted = [fx.idp(work, name="stranger2").cert]
    else:
        signed = signed.replace(b"https://idp.example.test/sso/post", b"https://idp.example.test/sso/POST")
    findings, _facts = metadata.check_idp_metadata(signed, "idp.xml", trusted_signers=trusted)
    bad = [f for f in findings if f.code == "SAML-041"]
    assert bad
    for f in bad:
        assert not any(word in f.message for word in LIBRARY_WORDS), f.message


# --------------------------------------------------------------------------- 5. bearer confirmation data

@pytest.fixture(scope="module")
def ridp(work):
    return rfx.Idp(work / "bearer")


def _drop_confirmation_data(assertion):
    for confirmation in assertion.subject.subject_confirmation:
        confirmation.subject_confirmation_data = None


def _drop_not_on_or_after(assertion):
    for confirmation in assertion.subject.subject_confirmation:
        confirmation.subject_confirmation_data.not_on_or_after = None


@pytest.mark.parametrize("acs_url", [None, rfx.ACS_URL], ids=["no-acs_url", "acs_url"])
def test_bearer_without_confirmation_data_from_the_idp_library(ridp, acs_url):
    data = ridp.response(edit_assertion=_drop_confirmation_data)
    assert b"SubjectConfirmationData" not in data and b"cm:bearer" in data
    report = sr.check_response(data, "r.xml", idp_metadata=ridp.metadata(), acs_url=acs_url)
    assert report.facts["signature_verified"] is True
    found = [f for f in report.findings if f.code == "SAML-147"]
    assert len(found) == 1 and found[0].severity == "error"
    assert "no Recipient and no NotOnOrAfter" in found[0].message
    assert "SAML-141" not in codes(report.findings)  # one finding for one problem


def test_bearer_without_not_on_or_after(ridp):
    data = ridp.response(edit_assertion=_drop_not_on_or_after)
    report = sr.check_response(data, "r.xml", idp_metadata=ridp.metadata())
    found = [f for f in report.findings if f.code == "SAML-147"]
    assert len(found) == 1 and found[0].message.startswith("no bearer SubjectConfirmation has a "
                                                           "SubjectConfirmationData with NotOnOrAfter")


def test_a_complete_bearer_confirmation_has_no_finding(ridp):
    report = sr.check_response(ridp.response(), "r.xml", idp_metadata=ridp.metadata())
    assert "SAML-147" not in codes(report.findings)


def _resign_assertion(idp, data):
    """Sign the (edited) assertion again with the IdP's key, with xmlsec1 through pysaml2."""
    root = etree.fromstring(data)
    assertion = root.find("saml:Assertion", NSMAP)
    return idp.server.sec.sign_statement(etree.tostring(root).decode("utf-8"),
                                         "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                                         node_id=assertion.get("ID")).encode("utf-8")


def test_bearer_confirmation_data_removed_and_signed_again(ridp):
    root = etree.fromstring(ridp.response())
    for data in root.iter(f"{{{rfx.SAML}}}SubjectConfirmationData"):
        data.getparent().remove(data)
    edited = etree.tostring(root)
    unsigned_again = sr.check_response(edited, "r.xml", idp_metadata=ridp.metadata())
    assert "SAML-122" in codes(unsigned_again.findings)  # the edit broke the signature
    resigned = _resign_assertion(ridp, edited)
    report = sr.check_response(resigned, "r.xml", idp_metadata=ridp.metadata())
    assert report.facts["signature_verified"] is True and "SAML-122" not in codes(report.findings)
    assert "SAML-147" in codes(report.findings)


# --------------------------------------------------------------------------- 6. PEM in X509Certificate

def _pem_instead_of_der(text):
    der = base64.b64decode(re.sub(r"\s+", "", text))
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    return base64.b64encode(pem).decode("ascii")


def test_x509_certificate_decoder_tells_der_from_pem():
    _key, cert = _key_of("rsa")
    der_text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
    assert xmlsig.x509_certificate(der_text)[1] == xmlsig.DER
    decoded, encoding = xmlsig.x509_certificate(_pem_instead_of_der(der_text))
    assert encoding == xmlsig.PEM and decoded == cert
    for bad in ("not base64!", base64.b64encode(b"garbage").decode()):
        with pytest.raises(xmlsig.X509CertificateError):
            xmlsig.x509_certificate(bad)


def test_metadata_signing_certificate_in_pem_form_is_a_finding(work):
    idp = fx.idp(work, name="pem-md")
    root = etree.fromstring(idp.metadata())
    for node in root.iter(DS + "X509Certificate"):
        node.text = _pem_instead_of_der(node.text)
    findings, facts = metadata.check_idp_metadata(etree.tostring(root), "idp.xml")
    pem = [f for f in findings if f.code == "SAML-046"]
    assert pem and all(f.severity == "warning" for f in pem)
    assert "signing certificate #1" in pem[0].message
    assert facts["signing_certificates"][0]["subject"] == "CN=pem-md.example.test"  # still read
    clean, _facts = metadata.check_idp_metadata(idp.metadata(), "idp.xml")
    assert "SAML-046" not in codes(clean)


def test_response_keyinfo_and_metadata_certificates_in_pem_form_are_findings(ridp):
    root = etree.fromstring(ridp.response())
    for node in root.iter(DS + "X509Certificate"):
        node.text = _pem_instead_of_der(node.text)
    data = etree.tostring(root)
    report = sr.check_response(data, "r.xml", idp_metadata=ridp.metadata())
    assert report.facts["signature_verified"] is True  # KeyInfo is outside what is signed
    found = [f for f in report.findings if f.code == "SAML-128"]
    assert [f.message for f in found] == ["the assertion signature's KeyInfo: the X509Certificate holds base64 "
                                          "of PEM text, not of a DER certificate as XML-DSig requires"]
    md = etree.fromstring(ridp.metadata())
    for node in md.iter(DS + "X509Certificate"):
        node.text = _pem_instead_of_der(node.text)
    report = sr.check_response(ridp.response(), "r.xml", idp_metadata=etree.tostring(md), metadata_source="md.xml")
    assert report.facts["signature_verified"] is True
    assert [f.data["where"] for f in report.findings if f.code == "SAML-128"] == ["md.xml: signing certificate 1"]


# --------------------------------------------------------------------------- 7. one XML cap

def test_the_xml_cap_is_the_readers():
    assert xml.DEFAULT_MAX_BYTES == reader.MAX_XML
    assert sr.DEFAULT_MAX_BYTES == reader.MAX_XML


def test_an_oversize_document_is_refused_before_parsing():
    huge = b"<md:EntityDescriptor " + b" " * reader.MAX_XML + b"/>"
    with pytest.raises(xml.XmlError, match=f"more than the limit of {reader.MAX_XML} bytes"):
        metadata.check_idp_metadata(huge, "big.xml")


def test_max_bytes_may_lower_the_xml_cap_but_not_raise_it():
    assert rules.xml_cap(1000) == 1000
    for bad in (0, -5, reader.MAX_XML + 1):
        with pytest.raises(rules.SamlError, match="max_bytes"):
            rules.xml_cap(bad)
