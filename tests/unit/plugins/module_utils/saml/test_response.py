# -*- coding: utf-8 -*-
"""SAML Response/Assertion checks (SAML-1NN) against responses from a real IdP implementation.

Every response is made by pysaml2's IdP (``saml2.server.Server``) and signed by Debian's
xmlsec1 (see saml_response_fixtures.py); the damaged and hostile variants are made from them
after signing.  Each rule gets an input that fails it and one that passes it.
"""

from __future__ import annotations

import base64
import datetime
import re
import socket
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

import saml_response_fixtures as fx
from saml2 import samlp

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.saml import response as sr
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import RULES, Policy, SamlError
from ansible_collections.trustops.tableau.plugins.module_utils.xml import XmlError

pytestmark = pytest.mark.skipif(fx.XMLSEC1 is None, reason="needs Debian's xmlsec1 for pysaml2")


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    return fx.Idp(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="module")
def metadata(idp):
    return idp.metadata()


@pytest.fixture(scope="module")
def good(idp):
    return idp.response(groups=("Sales", "Finance"))


@pytest.fixture(scope="module")
def sp_cert():
    return fx.self_signed(fx.signing_key("rsa", 2048), cn="tableau.example.test", serial=7)


def check(data, metadata, **kwargs):
    kwargs.setdefault("acs_url", fx.ACS_URL)
    kwargs.setdefault("sp_entity_id", fx.SP_ENTITY_ID)
    return sr.check_response(data, idp_metadata=metadata, **kwargs)


def codes(report):
    return [f.code for f in report.findings]


def one(report, code):
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, (code, report.findings)
    return found[0]


def attr(data, name):
    """An attribute of the first assertion as the raw document says (independent reader)."""
    root = etree.fromstring(data)
    return root.find(f"{{{fx.SAML}}}Assertion").get(name) if name == "ID" else root.get(name)


# ------------------------------------------------------------------ the good path


def test_assertion_signed_response_passes_with_all_facts(idp, metadata, good):
    report = check(good, metadata)
    assert report.ok and codes(report) == ["SAML-150"]
    f = report.facts
    assert f["username"] == "alice@example.test" and f["username_type"] == "xs:string"
    assert f["signed_element"] == "assertion" and f["signature_verified"] is True
    assert f["read_from"] == "signed-element"
    assert f["signature_algorithm"] == "RSA-SHA256" and f["signature_digest"] == "sha256"
    assert f["issuer"] == fx.IDP_ENTITY_ID == f["idp_entity_id"]
    assert f["name_id"] == "alice@example.test"
    assert f["authn_contexts"] == [fx.PPT]
    assert f["groups"] == ["Sales", "Finance"]
    assert f["attributes"]["username"] == ["alice@example.test"]
    assert f["audiences"] == [fx.SP_ENTITY_ID]
    assert f["signing_certificate"]["sha256"] == certs.fingerprint(idp.cert)
    assert f["signing_certificate"]["key_type"] == "RSA" and f["signing_certificate"]["key_size"] == 2048
    # the facts are the document's values (read here with a plain lxml walk)
    root = etree.fromstring(good)
    conditions = root.find(f".//{{{fx.SAML}}}Conditions")
    assert f["not_on_or_after"] == conditions.get("NotOnOrAfter") and f["not_before"] == conditions.get("NotBefore")
    assert f["assertion_id"] == attr(good, "ID") and f["response_id"] == root.get("ID")
    assert f["subject_confirmations"][0]["recipient"] == fx.ACS_URL
    assert f["subject_confirmations"][0]["method"] == sr.BEARER
    sig = f["signatures"][0]
    assert sig["valid"] is True and sig["trusted"] is True and sig["element"] == "assertion"
    assert sig["covers"] == f["assertion_id"] and sig["path"] == "/saml:Assertion"


@pytest.mark.parametrize("sign, element", [("response", "response"), ("both", "both"), ("assertion", "assertion")])
def test_response_and_assertion_level_signatures(idp, metadata, sign, element):
    report = check(idp.response(sign=sign), metadata)
    assert report.ok, report.findings
    assert report.facts["signed_element"] == element and report.facts["signature_verified"] is True
    assert len(report.facts["signatures"]) == (2 if sign == "both" else 1)
    assert all(s["valid"] and s["trusted"] for s in report.facts["signatures"])


def test_ec_p256_signed_response_passes(tmp_path):
    ec_idp = fx.Idp(tmp_path, kind="ec", size=256)
    report = check(ec_idp.response(sign="both"), ec_idp.metadata())
    assert report.ok and codes(report) == []
    assert report.facts["signature_algorithm"] == "ECDSA-SHA256" and report.facts["signature_verified"]
    assert report.facts["signing_certificate"]["curve"] == "secp256r1"


# ------------------------------------------------------------------ SAML-101 encoding


def test_101_latin1_response_is_refused_but_still_read(idp, metadata):
    data = fx.reencode(idp.response(username="jösé@example.test"), "ISO-8859-1")
    assert b"j\xf6s\xe9" in data  # really Latin-1 bytes
    report = check(data, metadata)
    assert not report.ok and codes(report) == ["SAML-101"]
    assert "ISO8859-1" in one(report, "SAML-101").message
    # XML-DSig signs characters, not bytes: the signature still verifies and the name is right
    assert report.facts["signature_verified"] and report.facts["username"] == "jösé@example.test"


def test_101_utf16_and_declared_encoding_in_text(idp, metadata):
    report = check(fx.reencode(idp.response(), "UTF-16"), metadata)
    assert codes(report) == ["SAML-101"] and report.facts["encoding"].startswith("utf-16")
    text = fx.reencode(idp.response(), "ISO-8859-1").decode("latin-1")
    report = check(text, metadata)
    assert codes(report) == ["SAML-101"] and "declared as ISO-8859-1" in report.findings[0].message


def test_101_undeclared_latin1_bytes_stop_with_the_offset(idp, metadata):
    data = idp.response(username="jösé@example.test", sign="none").replace("jösé".encode(), b"j\xf6s\xe9")
    report = check(data, metadata)
    assert codes(report) == ["SAML-101"] and not report.ok
    offset = data.index(b"\xf6")
    assert f"byte 0xF6 at offset {offset}" in report.findings[0].message
    assert report.facts["username"] is None and report.facts["encoding"] is None


def test_101_passes_for_utf8_with_non_ascii_name(idp, metadata):
    report = check(idp.response(username="jösé@example.test"), metadata)
    assert report.ok and report.facts["encoding"] == "utf-8" and report.facts["username"] == "jösé@example.test"


# ------------------------------------------------------------------ SAML-102/103/104 structure


def test_102_failed_status(idp, metadata):
    report = check(idp.error_response(samlp.STATUS_AUTHN_FAILED, "wrong password"), metadata)
    f = one(report, "SAML-102")
    assert "Responder / AuthnFailed (wrong password)" in f.message and not report.ok
    assert "SAML-103" not in codes(report)  # no assertion is expected in a failed response
    assert report.facts["status"] == samlp.STATUS_RESPONDER


def test_103_no_assertion(idp, metadata):
    root = etree.fromstring(idp.response(sign="none"))
    root.remove(root.find(f"{{{fx.SAML}}}Assertion"))
    report = check(etree.tostring(root), metadata)
    assert codes(report) == ["SAML-103"]


def test_104_two_assertions_and_one(idp, metadata, good):
    root = etree.fromstring(idp.response(sign="none"))
    root.append(etree.fromstring(etree.tostring(root.find(f"{{{fx.SAML}}}Assertion"))))
    report = check(etree.tostring(root), metadata)
    assert "SAML-104" in codes(report) and report.facts["assertion_count"] == 2
    assert "SAML-104" not in codes(check(good, metadata))


# ------------------------------------------------------------------ username (SAML-110..114)


def test_110_missing_username_names_what_was_sent(idp, metadata):
    report = check(idp.response(username=None, attributes={"mail": ["alice@example.test"]}), metadata)
    f = one(report, "SAML-110")
    assert "'urn:mace:dir:attribute-def:mail' (FriendlyName 'mail')" in f.message
    assert not report.ok and report.facts["username"] is None
    near = check(idp.response(username=None, attributes={"UserName": ["alice@example.test"]}), metadata)
    assert "case-sensitive" in one(near, "SAML-110").message
    assert "--user-name UserName" in one(near, "SAML-110").message


def test_110_mapped_attribute_passes(idp, metadata):
    data = idp.response(username="alice@example.test", username_attribute="tableau_user")
    assert "SAML-110" in codes(check(data, metadata))
    report = check(data, metadata, username_attribute="tableau_user")
    assert report.ok and report.facts["username"] == "alice@example.test"


@pytest.mark.parametrize("typ, found", [("xs:anyType", "typed xs:anyType"), ("xs:any", "typed xs:any"),
                                        (None, "untyped (no xsi:type)"), ("xs:base64Binary", "typed xs:base64Binary")])
def test_111_username_not_xs_string(idp, metadata, typ, found):
    report = check(idp.response(username_type=typ), metadata)
    f = one(report, "SAML-111")
    assert f.message == f"the 'username' attribute value is {found}, not xs:string"
    assert not report.ok and report.facts["signature_verified"]


def test_111_passes_for_xs_string(idp, metadata):
    report = check(idp.response(username_type="xs:string"), metadata)
    assert "SAML-111" not in codes(report) and report.facts["username_type"] == "xs:string"


def test_112_empty_username_and_113_several_values(idp, metadata):
    assert codes(check(idp.response(username=""), metadata)) == ["SAML-112"]
    report = check(idp.response(username=None, attributes={"username": ["alice@example.test", "bob@example.test"]}),
                   metadata)
    assert codes(report) == ["SAML-113"] and report.ok  # a warning
    assert "alice@example.test, bob@example.test" in report.findings[0].message


def test_114_username_without_email_format_is_info(idp, metadata):
    report = check(idp.response(username="alice"), metadata)
    assert codes(report) == ["SAML-114"] and report.ok and report.findings[0].severity == "info"


# ------------------------------------------------------------------ signature (SAML-120..127)


def test_120_sha1_signature_and_digest(idp, metadata):
    report = check(idp.response(sign_alg="sha1", digest_alg="sha1"), metadata)
    f = one(report, "SAML-120")
    assert "RSA-SHA1" in f.message and "SHA-1 is blocklisted" in f.message
    assert f.data["tsm_key"] == "wgserver.saml.blocklisted_digest_algorithms"
    assert report.facts["signature_verified"]  # verified, then refused by policy
    digest_only = check(idp.response(sign_alg="sha256", digest_alg="sha1"), metadata)
    assert "SAML-120" in codes(digest_only) and "digest sha1" in one(digest_only, "SAML-120").message


def test_120_relaxed_by_the_blocklist(idp, metadata):
    report = check(idp.response(sign_alg="sha1", digest_alg="sha1"), metadata, policy=Policy(blocklisted_digests=[]))
    assert report.ok and codes(report) == [] and report.facts["signature_algorithm"] == "RSA-SHA1"


def test_121_unsigned(idp, metadata):
    report = check(idp.response(sign="none"), metadata)
    assert codes(report) == ["SAML-121"] and report.facts["read_from"] == "unverified"
    assert report.facts["signature_verified"] is False


def test_122_one_changed_letter_after_signing(idp, metadata):
    data = fx.tamper(idp.response(), b">alice@example.test</ns1:AttributeValue>", b">alicf@example.test</ns1:AttributeValue>")
    report = check(data, metadata)
    f = one(report, "SAML-122")
    assert "digest mismatch" in f.message and not report.ok
    assert report.facts["signature_verified"] is False and report.facts["read_from"] == "unverified"


def test_122_detected_without_metadata_too(idp):
    data = fx.tamper(idp.response(), b">alice@example.test</ns1:AttributeValue>", b">alicf@example.test</ns1:AttributeValue>")
    report = sr.check_response(data)
    assert "SAML-122" in codes(report) and "SAML-125" in codes(report)


def test_123_signed_by_another_certificate(tmp_path, idp, metadata):
    stranger = fx.Idp(tmp_path, key=fx.signing_key("rsa", 3072), entity_id=fx.IDP_ENTITY_ID)
    report = check(stranger.response(), metadata)
    f = one(report, "SAML-123")
    assert certs.fingerprint(stranger.cert) in f.message and certs.fingerprint(idp.cert) in f.message
    assert report.facts["signature_verified"] is False
    # the same response against the stranger's own certificate (given directly) passes
    ok = sr.check_response(stranger.response(), idp_certs=[stranger.cert_pem], acs_url=fx.ACS_URL)
    assert ok.ok and ok.facts["signature_verified"] and codes(ok) == []


def test_124_wrapped_signatures_never_yield_the_evil_user(idp, metadata):
    signed_assertion = idp.response()
    variants = {
        "sibling": fx.xsw_assertion_sibling(signed_assertion),
        "moved": fx.xsw_assertion_moved(signed_assertion),
        "same-id": fx.xsw_assertion_sibling(signed_assertion, same_id=True),
        "response": fx.xsw_response_wrapped(idp.response(sign="response")),
        "response-both": fx.xsw_response_wrapped(idp.response(sign="both")),
    }
    for name, data in variants.items():
        assert b"mallory@example.test" in data
        # the plain reader's view: the first assertion of the response names mallory
        first = etree.fromstring(data).find(f"{{{fx.SAML}}}Assertion")
        assert b"mallory@example.test" in etree.tostring(first), name
        report = check(data, metadata)
        assert "SAML-124" in codes(report), (name, report.findings)
        assert not report.ok and report.facts["signature_verified"] is False, name
        if report.facts["read_from"] == "signed-element":
            assert report.facts["username"] == "alice@example.test", name
    sibling = check(variants["sibling"], metadata)
    assert "'mallory@example.test'" in one(sibling, "SAML-124").message
    assert "/saml:Assertion[2]" in one(sibling, "SAML-124").message
    assert "/samlp:Extensions/saml:Assertion" in one(check(variants["moved"], metadata), "SAML-124").message


def test_124_comment_inside_signed_name_is_read_whole(idp, metadata):
    data = idp.response()
    data = data.replace(b">alice@example.test</ns1:AttributeValue>", b">alice@example.test<!-- x -->.evil.test</ns1:AttributeValue>")
    # the comment and the extra text changed the signed text: refused
    assert "SAML-122" in codes(check(data, metadata))
    data = idp.response().replace(b">alice@example.test</ns1:AttributeValue>", b">alice@<!---->example.test</ns1:AttributeValue>")
    report = check(data, metadata)  # a comment alone is not signed content (exclusive c14n)
    assert report.ok and report.facts["username"] == "alice@example.test"


def test_125_no_idp_certificate_is_a_warning(idp, good, metadata):
    report = sr.check_response(good, acs_url=fx.ACS_URL)
    assert one(report, "SAML-125").severity == "warning" and report.ok
    assert report.facts["signature_verified"] is False
    assert report.facts["signatures"][0]["valid"] is True and report.facts["signatures"][0]["trusted"] is False
    assert "SAML-125" not in codes(check(good, metadata))


def test_126_rsa_1024_and_127_small_curve(tmp_path):
    small = fx.Idp(tmp_path / "rsa", size=1024)
    report = check(small.response(), small.metadata())
    assert codes(report) == ["SAML-126"] and "1024-bit" in report.findings[0].message
    assert report.findings[0].data["tsm_key"] == "wgserver.saml.min_allowed.rsa_key_size"
    assert check(small.response(), small.metadata(), policy=Policy(min_rsa_key_size=1024)).ok
    p192 = fx.Idp(tmp_path / "ec", kind="ec", size=192)
    report = check(p192.response(), p192.metadata())
    assert codes(report) == ["SAML-127"] and "secp192r1" in report.findings[0].message
    assert check(p192.response(), p192.metadata(), policy=Policy(min_ec_key_size=192)).ok


# ------------------------------------------------------------------ authn context (SAML-130/131)


def test_130_authcontext_not_allowed_and_allowed(idp, metadata, good):
    report = check(good, metadata, authcontexts="urn:oasis:names:tc:SAML:2.0:ac:classes:X509,urn:example:mfa")
    f = one(report, "SAML-130")
    assert fx.PPT in f.message and "urn:example:mfa" in f.message and not report.ok
    assert f.data["tsm_key"] == "wgserver.saml.authcontexts"
    assert check(good, metadata, authcontexts=["urn:example:mfa", fx.PPT]).ok
    assert check(idp.response(authn_class=fx.X509_CLASS), metadata, authcontexts=fx.X509_CLASS + ", urn:x").ok


def test_131_site_scope_ignores_authcontexts(good, metadata):
    report = check(good, metadata, authcontexts="urn:example:mfa", scope="site")
    assert "SAML-130" not in codes(report) and "SAML-131" in codes(report) and report.ok


# ------------------------------------------------------------------ subject, destination, audience, issuer


def test_140_no_bearer_confirmation(idp, metadata):
    def no_confirmation(assertion):
        assertion.subject.subject_confirmation = []

    assert "SAML-140" in codes(check(idp.response(edit_assertion=no_confirmation), metadata))

    def holder_of_key(assertion):
        assertion.subject.subject_confirmation[0].method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"

    report = check(idp.response(edit_assertion=holder_of_key), metadata)
    assert "holder-of-key" in one(report, "SAML-140").message and report.facts["signature_verified"]


def test_141_142_recipient_and_destination_compared_case_sensitively(idp, metadata, good):
    report = check(good, metadata, acs_url=fx.ACS_URL.replace("/SSO/", "/sso/"))
    recipient, destination = one(report, "SAML-141"), one(report, "SAML-142")
    at = fx.ACS_URL.index("/SSO/") + 2
    assert f"(at {at}: 'sso' expected, 'SSO' found (differs in case only))" in recipient.message
    assert destination.data["found"] == fx.ACS_URL
    http = check(good, metadata, acs_url=fx.ACS_URL.replace("https:", "http:"))
    assert "X-Forwarded-Proto" in one(http, "SAML-141").remedy
    longer = check(good, metadata, acs_url=fx.ACS_URL + "/")
    assert f"(at {len(fx.ACS_URL) + 1}: '/' missing)" in one(longer, "SAML-141").message
    assert "SAML-141" not in codes(check(good, metadata)) and "SAML-142" not in codes(check(good, metadata))


def test_142_only_destination_differs(idp, metadata):
    def recipient_ok(assertion):
        assertion.subject.subject_confirmation[0].subject_confirmation_data.recipient = fx.ACS_URL

    data = idp.response(destination="https://tableau.example.test/wg/saml/SSO/index.htm", edit_assertion=recipient_ok)
    report = check(data, metadata)
    assert codes(report) == ["SAML-142"] and "'l' missing" in report.findings[0].message


def test_143_audience(good, metadata):
    report = check(good, metadata, sp_entity_id="https://Tableau.example.test")
    assert codes(report) == ["SAML-150", "SAML-143"] and not report.ok
    assert check(good, metadata, sp_entity_id=fx.SP_ENTITY_ID).ok


def test_144_issuer_is_not_the_metadata_entity(tmp_path, idp, metadata):
    same_key_other_name = fx.Idp(tmp_path, key=idp.key, cert=idp.cert, entity_id="https://idp.example.test/other")
    report = check(same_key_other_name.response(), metadata)
    assert codes(report) == ["SAML-144"] and report.facts["signature_verified"]
    assert "https://idp.example.test/other" in report.findings[0].message


def test_145_expired_and_146_not_yet_valid(good, metadata):
    now = datetime.datetime.now(datetime.timezone.utc)
    late = check(good, metadata, now=now + datetime.timedelta(days=3, hours=1))
    assert codes(late) == ["SAML-150", "SAML-145"] and late.ok and "3 days ago" in one(late, "SAML-145").message
    early = check(good, metadata, now=now - datetime.timedelta(hours=5, minutes=30))
    assert "SAML-146" in codes(early) and "5 hours from now" in one(early, "SAML-146").message
    assert codes(check(good, metadata, now=now)) == ["SAML-150"]


# ------------------------------------------------------------------ groups, encryption, relay state


def test_150_groups_listed_only_when_present(idp, metadata, good):
    f = one(check(good, metadata), "SAML-150")
    assert f.data["group_list"] == ["Sales", "Finance"] and f.severity == "info"
    report = check(idp.response(), metadata)
    assert "SAML-150" not in codes(report) and report.facts["groups"] == []


def test_160_161_encrypted_assertion_by_scope(tmp_path, sp_cert, metadata):
    enc_idp = fx.Idp(tmp_path, sp_enc_cert=sp_cert)
    data = enc_idp.response(encrypt_cert=sp_cert)
    assert b"EncryptedAssertion" in data and b"alice@example.test" not in data
    server = check(data, enc_idp.metadata())
    assert codes(server) == ["SAML-160"] and server.ok and server.facts["encrypted"] is True
    site = check(data, enc_idp.metadata(), scope="site")
    assert codes(site) == ["SAML-161"] and not site.ok
    assert "SAML-160" not in codes(check(enc_idp.response(), enc_idp.metadata()))


def test_170_relay_state_from_a_form(good, metadata):
    with_relay = check(fx.form_value(good, urlencode=True), metadata)
    assert with_relay.facts["input_format"] == "form" and with_relay.facts["relay_state"] == "/views/home"
    assert "SAML-170" not in codes(with_relay)
    without = check("SAMLResponse=" + base64.b64encode(good).decode("ascii"), metadata)
    assert "SAML-170" in codes(without) and without.facts["username"] == "alice@example.test"


# ------------------------------------------------------------------ input forms


def test_input_forms_are_detected(good, metadata):
    b64 = fx.form_value(good)
    wrapped = "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
    deflated = base64.b64encode(zlib.compress(good)[2:-4]).decode("ascii")
    for data, form in ((good, "xml"), (good.decode("utf-8"), "xml"), (b64, "base64"), (wrapped, "base64"),
                       (b64.encode("ascii"), "base64"), (fx.form_value(good, urlencode=True), "form"),
                       ("SAMLResponse=" + b64 + "&RelayState=x", "form"), (deflated, "deflate-base64")):
        report = check(data, metadata)
        assert report.facts["input_format"] == form and report.facts["signature_verified"], form
        assert report.facts["username"] == "alice@example.test"


@pytest.mark.parametrize("data, message", [
    ("", "empty input"),
    ("not a response at all", "neither XML nor a base64 SAMLResponse value"),
    ("SAMLResponse=&RelayState=x", "a form without a SAMLResponse value"),
    (base64.b64encode(b"hello world").decode(), "not an XML document"),
    ("PHNhbWxwOlJlc3BvbnNl!!", "neither XML nor a base64"),
])
def test_unreadable_input_is_a_clear_error(metadata, data, message):
    with pytest.raises(SamlError, match=re.escape(message)):
        check(data, metadata)


def test_metadata_given_as_response_and_malformed_xml(metadata):
    with pytest.raises(SamlError, match="EntityDescriptor, not a SAML samlp:Response.*saml_metadata_check"):
        check(metadata, metadata)
    with pytest.raises(XmlError, match="not well-formed"):
        check(b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'>", metadata)


def test_the_report_unpacks_as_findings_and_facts_like_every_check(good, metadata):
    report = check(good, metadata, sp_entity_id="https://other.example.test")
    findings, facts = report
    assert findings is report.findings and facts is report.facts
    assert "SAML-143" in [f.code for f in findings] and facts["username"] == "alice@example.test"


def test_bare_assertion_document(idp, metadata):
    root = etree.fromstring(idp.response())
    assertion = etree.tostring(root.find(f"{{{fx.SAML}}}Assertion"))
    report = check(assertion, metadata)
    assert report.facts["root"] == "Assertion" and report.facts["signed_element"] == "assertion"
    assert report.ok and report.facts["username"] == "alice@example.test"


def test_metadata_with_several_idps_is_matched_by_issuer(tmp_path, idp, metadata, good):
    other = fx.Idp(tmp_path, key=fx.signing_key("rsa", 3072), entity_id="https://other.example.test/idp")
    both = (b'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
            + other.metadata() + re.sub(rb"^<\?xml[^>]*>", b"", metadata) + b"</md:EntitiesDescriptor>")
    report = check(good, both)
    assert report.ok and report.facts["idp_entity_id"] == fx.IDP_ENTITY_ID
    assert report.facts["signing_certificate"]["sha256"] == certs.fingerprint(idp.cert)
    stranger = fx.Idp(tmp_path / "s", entity_id="https://third.example.test/idp")
    with pytest.raises(SamlError, match="2 IdP entities .* none is the response issuer"):
        check(stranger.response(), both)


def test_broken_certificate_inputs(good):
    with pytest.raises(certs.CertificateError):
        sr.check_response(good, idp_certs=[b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
    with pytest.raises(SamlError, match="no IDPSSODescriptor"):
        sr.check_response(good, idp_metadata=fx.sp_metadata())


# ------------------------------------------------------------------ hostile XML


def test_xxe_pointing_at_a_local_file_is_refused_unread(tmp_path, metadata):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doc = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a">&x;</samlp:Response>')
    for data in (doc, base64.b64encode(doc.encode()).decode()):
        with pytest.raises(XmlError, match="DOCTYPE") as err:
            check(data, metadata)
        assert "TOP-SECRET" not in str(err.value)


def test_billion_laughs_is_refused_fast(metadata):
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doc = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{entities}]>'
           '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&l9;</samlp:Response>')
    start = time.monotonic()
    with pytest.raises(XmlError, match="DOCTYPE|ENTITY"):
        check(doc, metadata)
    assert time.monotonic() - start < 1.0


def test_external_dtd_url_is_never_fetched(metadata, good):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    doc = (f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/evil.dtd">'
           '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>')
    try:
        with pytest.raises(XmlError, match="DOCTYPE"):
            check(doc, metadata)
        with pytest.raises(XmlError, match="DOCTYPE"):  # hostile IdP metadata
            sr.check_response(good, idp_metadata=doc.encode())
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()


def test_size_limit_before_parsing(good, metadata):
    with pytest.raises(XmlError, match="more than the limit"):
        check(good, metadata, max_bytes=1000)
    with pytest.raises(SamlError, match="more than the limit"):
        check(fx.form_value(good), metadata, max_bytes=1000)
    bomb = base64.b64encode(zlib.compress(b"<" + b"a" * 5000000)[2:-4]).decode("ascii")
    with pytest.raises(SamlError, match="inflates to more than the limit"):
        check(bomb, metadata)


# ------------------------------------------------------------------ rules and helpers


def test_every_response_rule_is_registered_with_its_seed_sentence():
    response_codes = sorted(c for c in RULES if c.startswith("SAML-1"))
    assert response_codes == sorted(r.code for r in sr.RESPONSE_RULES)
    for rule in sr.RESPONSE_RULES:
        assert rule.seed, rule.code
    assert RULES["SAML-120"].tsm_key == "wgserver.saml.blocklisted_digest_algorithms"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=17), letter=st.sampled_from("qxzQXZ019"))
def test_any_changed_character_of_the_signed_name_is_detected(tamper_base, position, letter):
    data, metadata = tamper_base
    name = b"alice@example.test"
    changed = name[:position] + letter.encode() + name[position + 1:]
    if changed == name:
        return
    report = check(data.replace(b">%s<" % name, b">%s<" % changed), metadata)
    assert "SAML-122" in codes(report) and report.facts["signature_verified"] is False


@pytest.fixture(scope="module")
def tamper_base(idp, metadata):
    return idp.response(), metadata


def test_without_signxml_nothing_is_claimed_verified(monkeypatch, good, metadata):
    """Where signxml is missing (a Debian 12 host) the check still runs and says so."""
    monkeypatch.setattr(sr, "HAS_SIGNXML", False)
    report = check(good, metadata)
    assert "signxml library is missing" in one(report, "SAML-125").message
    assert report.facts["signature_verified"] is False and report.facts["read_from"] == "unverified"
    assert all(s["valid"] is None for s in report.facts["signatures"])
    assert report.facts["username"] == "alice@example.test"


def test_the_user_guide_documents_every_code_with_its_tsm_key():
    from pathlib import Path
    guide = (Path(__file__).resolve().parents[5] / "docs" / "saml_response.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in guide.splitlines() if line.startswith("| SAML-1")}
    assert sorted(rows) == sorted(r.code for r in sr.RESPONSE_RULES)
    for rule in sr.RESPONSE_RULES:
        assert f"| {rule.severity} |" in rows[rule.code], rule.code
        if rule.tsm_key:
            assert rule.tsm_key in rows[rule.code], rule.code


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True),
                                st.sampled_from(["delete", "insert", "replace"]),
                                st.sampled_from([b"<", b">", b"/", b'"', b"ds:", b"ns1:", b"=", b"&", b"\x00",
                                                 b"\xff", b"ID", b"#", b" ", b"Signature", b"Assertion", b"X"])),
                      min_size=1, max_size=3))
def test_damaged_responses_never_crash_nor_verify_another_user(signed_both, edits):
    """Any damage gives a report or a TrustopsError (never a traceback), and a report that says
    'verified' names the signed user, never a changed one."""
    data, metadata = signed_both
    data = bytearray(data)
    for where, op, token in edits:
        pos = int(where * len(data))
        if op == "delete":
            del data[pos:pos + 8]
        elif op == "insert":
            data[pos:pos] = token
        else:
            data[pos:pos + len(token)] = token
    try:
        report = sr.check_response(bytes(data), idp_metadata=metadata)
    except TrustopsError:
        return
    if report.facts["signature_verified"]:
        assert report.facts["username"] in ("alice@example.test", None)
        assert report.facts["read_from"] == "signed-element"


@pytest.fixture(scope="module")
def signed_both(idp, metadata):
    return idp.response(sign="both"), metadata
