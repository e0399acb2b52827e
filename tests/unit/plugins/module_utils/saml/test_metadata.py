# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IdP metadata rules (SAML-020..044) against metadata written by a real IdP implementation
(pysaml2, signed by Debian's xmlsec1), and the SP side (SAML-050..059).

Shapes pysaml2 does not write (no entityID, SAML 1.1 only, a relative Location, an old
validUntil, a damaged certificate) are derived from its output with lxml, each named so.
"""

from __future__ import annotations

import base64
import copy
import datetime

import pytest
from lxml import etree

import saml_idp_fixtures as fx

from ansible_collections.trustops.tableau.plugins.module_utils import certs, xmlsig
from ansible_collections.trustops.tableau.plugins.module_utils.saml import metadata, rules, sp, urls
from ansible_collections.trustops.tableau.plugins.module_utils.findings import fails
from ansible_collections.trustops.tableau.plugins.module_utils.xml import NS, XmlError

pytestmark = pytest.mark.skipif(fx.XMLSEC1 is None, reason="xmlsec1 (Debian package) signs the metadata")

MD = "{{{}}}".format(NS["md"])
DS = "{{{}}}".format(NS["ds"])
HOST = fx.SERVER_HOST


def codes(findings):
    return sorted(f.code for f in findings)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("saml_idp")


@pytest.fixture(scope="module")
def idp(work):
    return fx.idp(work)


@pytest.fixture(scope="module")
def signed(idp):
    return idp.metadata(sign="sha256")


def edit(document, change):
    """Derived metadata: parse pysaml2's output, apply ``change(root)``, serialise."""
    root = etree.fromstring(document)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def check(document, **kw):
    return metadata.check_idp_metadata(document, "idp.xml", **kw)


# --------------------------------------------------------------------------- bindings and SLO

def test_post_and_redirect_metadata_passes_with_facts(idp):
    findings, facts = check(idp.metadata())
    assert findings == []
    assert facts["entity_id"] == fx.IDP_ENTITY_ID and facts["entity_ids"] == [fx.IDP_ENTITY_ID]
    assert facts["bindings"] == ["HTTP-POST", "HTTP-Redirect"]
    assert {"binding": "HTTP-POST", "location": fx.IDP_BASE + "/sso/post"} in facts["sso_services"]
    assert facts["slo_services"] == [{"binding": "HTTP-POST", "location": fx.IDP_BASE + "/slo/post"}]
    (cert,) = facts["signing_certificates"]
    assert cert["sha256"] == certs.fingerprint(idp.cert) and cert["key_type"] == "RSA" and cert["key_size"] == 2048
    assert facts["signed"] is False and facts["signature_verified"] is None


def test_redirect_only_is_supported_with_a_note(idp):
    findings, facts = check(idp.metadata(sso=("redirect",)))
    assert codes(findings) == ["SAML-028"] and findings[0].severity == "info"
    assert not fails(findings) and facts["bindings"] == ["HTTP-Redirect"]
    assert "older Tableau" in findings[0].remedy


@pytest.mark.parametrize("sso,offered", [(("soap",), "SOAP"), (("artifact",), "HTTP-Artifact"),
                                         (("soap", "artifact"), "HTTP-Artifact, SOAP")])
def test_soap_or_artifact_only_is_an_error(idp, sso, offered):
    findings, facts = check(idp.metadata(sso=sso))
    assert codes(findings) == ["SAML-027"] and fails(findings)
    assert offered in findings[0].message
    assert "HTTP-POST only" in findings[0].remedy  # the older troubleshooting pages, as a remedy


def test_post_only_passes(idp):
    assert check(idp.metadata(sso=("post",)))[0] == []


def test_no_slo_is_a_warning(idp):
    findings, facts = check(idp.metadata(slo=()))
    assert codes(findings) == ["SAML-030"] and findings[0].severity == "warning"
    assert not fails(findings) and fails(findings, "warning")
    assert facts["slo_services"] == []


def test_slo_without_post_is_noted(idp):
    findings, _facts = check(idp.metadata(slo=("redirect",)))
    assert codes(findings) == ["SAML-031"] and findings[0].severity == "info"


@pytest.mark.parametrize("location,problem", [(None, "no Location"), ("/idp/sso", "not an absolute"),
                                              ("https://", "not an absolute")])
def test_post_endpoint_needs_a_location(idp, location, problem):
    def change(root):
        sso = root.find(f".//{MD}SingleSignOnService")
        if location is None:
            del sso.attrib["Location"]
        else:
            sso.set("Location", location)
    findings, _facts = check(edit(idp.metadata(sso=("post",)), change))
    assert codes(findings) == ["SAML-029"] and problem in findings[0].message


# --------------------------------------------------------------------------- entities

def test_several_idps_are_reported_not_merged(work, idp):
    other = fx.idp(work, name="idp2", entity_id="https://idp2.example.test/idp")
    both = fx.entities_metadata([idp, other])
    findings, facts = check(both)
    assert codes(findings) == ["SAML-022"]
    assert facts["entity_ids"] == [fx.IDP_ENTITY_ID, "https://idp2.example.test/idp"]
    assert facts["entity_id"] is None and facts["sso_services"] == []  # nothing merged
    findings, facts = check(both, entity_id="https://idp2.example.test/idp")
    assert findings == [] and facts["entity_id"] == "https://idp2.example.test/idp"
    assert facts["signing_certificates"][0]["sha256"] == certs.fingerprint(other.cert)
    findings, _facts = check(both, entity_id="https://IDP2.example.test/idp")
    assert codes(findings) == ["SAML-023"]


def test_several_idp_descriptors_in_one_entity(idp):
    findings, _facts = check(fx.duplicate_idp_descriptor(idp.metadata()))
    assert codes(findings) == ["SAML-024"]


def test_sp_metadata_is_not_idp_metadata(work):
    findings, _facts = check(fx.sp_metadata(work))
    assert codes(findings) == ["SAML-021"]


def test_not_metadata_at_all():
    findings, _facts = check(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>')
    assert codes(findings) == ["SAML-020"] and "samlp:Response" in findings[0].message


def test_entity_id_required(idp):
    findings, _facts = check(edit(idp.metadata(), lambda r: r.attrib.pop("entityID")))
    assert codes(findings) == ["SAML-025"]


def test_saml2_protocol_required(idp):
    def change(root):
        root.find(MD + "IDPSSODescriptor").set("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:1.1:protocol")
    findings, _facts = check(edit(idp.metadata(), change))
    assert codes(findings) == ["SAML-026"] and "SAML:1.1" in findings[0].message


def test_valid_until(idp):
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    findings, facts = check(edit(idp.metadata(), lambda r: r.set("validUntil", past)))
    assert codes(findings) == ["SAML-039"]
    findings, facts = check(edit(idp.metadata(), lambda r: r.set("validUntil", future)))
    assert findings == [] and facts["valid_until"].startswith(future[:10])


# --------------------------------------------------------------------------- signing certificates

@pytest.mark.parametrize("kind,size,digest,expected,relax", [
    ("rsa", 2048, "sha256", [], None),
    ("rsa", 1024, "sha256", ["SAML-034"], {"min_rsa_key_size": 1024}),
    ("ec", 256, "sha256", [], None),
    ("ec", 192, "sha256", ["SAML-035"], {"min_ec_key_size": 192}),
    ("rsa", 2048, "sha1", ["SAML-037"], {"blocklisted_digests": []}),
    ("rsa", 1024, "sha1", ["SAML-034", "SAML-037"], {"min_rsa_key_size": 1024, "blocklisted_digests": []}),
])
def test_signing_certificate_policy(work, kind, size, digest, expected, relax):
    idp = fx.idp(work, kind, size, digest, name=f"sig-{kind}{size}{digest}")
    findings, facts = check(idp.metadata())
    assert codes(findings) == expected
    assert facts["signing_certificates"][0]["key_type"] == kind.upper()
    assert facts["signing_certificates"][0]["signature_hash"] == digest
    for f in findings:
        assert f.data["tsm_key"].startswith("wgserver.saml.")
    if relax:
        assert check(idp.metadata(), policy=rules.Policy(**relax))[0] == []


def test_dsa_signing_certificate_is_refused(work):
    idp = fx.idp(work, "dsa", 2048, name="sp-dsa")  # the DSA key the key-pair tests also use
    findings, facts = check(idp.metadata())
    assert codes(findings) == ["SAML-036"] and "DSA" in findings[0].message
    assert facts["signing_certificates"][0]["key_type"] == "DSA"


def test_expired_signing_certificate_is_a_warning(work):
    idp = fx.idp(work, name="expired-idp", days=-1, start_days=-60)
    findings, _facts = check(idp.metadata())
    assert codes(findings) == ["SAML-038"] and findings[0].severity == "warning"


def test_no_signing_certificate(idp):
    def change(root):
        for kd in root.iter(MD + "KeyDescriptor"):
            kd.getparent().remove(kd)
    assert codes(check(edit(idp.metadata(), change))[0]) == ["SAML-032"]


def test_encryption_only_key_is_not_a_signing_certificate(idp):
    assert codes(check(edit(idp.metadata(), lambda r: r.find(".//" + MD + "KeyDescriptor").set("use", "encryption")))[0]) \
        == ["SAML-032"]


def test_damaged_signing_certificate(idp):
    def change(root):
        node = root.find(f".//{DS}X509Certificate")
        node.text = base64.b64encode(b"\x30\x03\x02\x01\x00").decode()
    findings, _facts = check(edit(idp.metadata(), change))
    assert codes(findings) == ["SAML-033"]
    findings, _facts = check(edit(idp.metadata(), lambda r: setattr(r.find(f".//{DS}X509Certificate"), "text", "!!")))
    assert codes(findings) == ["SAML-033"]


# --------------------------------------------------------------------------- metadata signature

def test_signed_sha256_verified(idp, signed):
    findings, facts = check(signed, trusted_signers=[fx.pem(idp.cert)])
    assert findings == []
    assert facts["signed"] is True and facts["signature_verified"] is True
    assert facts["signature"]["signer_sha256"] == certs.fingerprint(idp.cert)
    assert facts["signature"]["algorithm"].endswith("rsa-sha256")


def test_signed_but_no_trusted_signer(signed):
    findings, facts = check(signed)
    assert codes(findings) == ["SAML-044"] and findings[0].severity == "info"
    assert facts["signature_verified"] is None


def test_signed_ec_metadata(work):
    idp = fx.idp(work, "ec", 256, name="ec-signer")
    findings, facts = check(idp.metadata(sign="sha256"), trusted_signers=[idp.cert])
    assert findings == [] and facts["signature_verified"] is True
    assert facts["signature"]["algorithm"].endswith("ecdsa-sha256")


def test_sha1_signed_metadata(idp):
    findings, facts = check(idp.metadata(sign="sha1"), trusted_signers=[fx.pem(idp.cert)])
    assert codes(findings) == ["SAML-042", "SAML-042"]  # signature method and digest method
    assert facts["signature_verified"] is True  # valid, but SHA-1
    assert {f.data["what"] for f in findings} == {"signature method", "digest method"}
    relaxed = check(idp.metadata(sign="sha1"), trusted_signers=[idp.cert], policy=rules.Policy(blocklisted_digests=[]))
    assert relaxed[0] == []


def test_wrong_signer(work, signed):
    stranger = fx.idp(work, name="stranger")
    findings, facts = check(signed, trusted_signers=[stranger.cert])
    assert codes(findings) == ["SAML-041"] and facts["signature_verified"] is False
    assert "stranger.example.test" in findings[0].message


def test_one_of_several_trusted_signers(work, idp, signed):
    stranger = fx.idp(work, name="stranger")
    findings, facts = check(signed, trusted_signers=[fx.pem(stranger.cert) + fx.pem(idp.cert)])
    assert findings == [] and facts["signature_verified"] is True


def test_unsigned_metadata_with_trusted_signer(idp):
    findings, facts = check(idp.metadata(), trusted_signers=[idp.cert])
    assert codes(findings) == ["SAML-040"] and facts["signature_verified"] is False


def test_tampered_metadata(idp, signed):
    evil = signed.replace(b"https://idp.example.test/sso/post", b"https://evil.example.test/sso/post")
    assert evil != signed
    findings, facts = check(evil, trusted_signers=[idp.cert])
    assert codes(findings) == ["SAML-041"] and facts["signature_verified"] is False


def _wrapped(signed, same_id):
    """Signature wrapping: an attacker's EntityDescriptor at the root carries the genuine
    signature, whose reference still points at the genuine entity, now hidden (without its
    signature, exactly as it was digested) in the attacker's Extensions."""
    genuine = etree.fromstring(signed)
    signature = genuine.find(DS + "Signature")
    genuine.remove(signature)
    evil = copy.deepcopy(genuine)
    for sso in evil.iter(MD + "SingleSignOnService"):
        sso.set("Location", "https://evil.example.test/sso")
    if not same_id:
        del evil.attrib["ID"]
    evil.insert(0, signature)
    evil.find(MD + "Extensions").append(genuine)
    return etree.tostring(evil)


@pytest.mark.parametrize("same_id", [False, True])
def test_signature_wrapping_is_refused(idp, signed, same_id):
    wrapped = _wrapped(signed, same_id)
    findings, facts = check(wrapped, trusted_signers=[idp.cert])
    assert "SAML-043" in codes(findings), [f.message for f in findings]
    assert facts["signature_verified"] is False
    # what was read is the evil root (unverified), and it is reported as not verified
    assert all("evil" in s["location"] for s in facts["sso_services"])


def test_wrapping_fools_a_naive_verifier(idp, signed):
    """The wrapped document is a real attack: signxml without our checks accepts it, and the
    data it verified is not the root an application would read."""
    from signxml import XMLVerifier
    methods, digests = xmlsig.all_signature_methods()
    from signxml import SignatureConfiguration
    root = etree.fromstring(_wrapped(signed, False))
    result = XMLVerifier().verify(root, x509_cert=idp.cert, id_attribute="ID", expect_config=SignatureConfiguration(
        signature_methods=methods, digest_algorithms=digests, location="./"))
    assert b"evil" not in etree.tostring(result.signed_xml)
    assert b"evil" in etree.tostring(root)


def test_entity_level_signature_inside_entities(work, idp):
    """An EntitiesDescriptor whose IdP entity carries its own signature: the entity is verified
    and read."""
    entity = idp.metadata(sign="sha256")
    other = fx.idp(work, name="idp3", entity_id="https://idp3.example.test/idp")
    # spliced as text, as aggregators do (lxml would rename the entity's prefixes on a move,
    # which changes its canonical form)
    wrapper = fx.entities_metadata([other])
    body = entity[entity.index(b"?>") + 2:] if entity.startswith(b"<?xml") else entity
    close = wrapper.rindex(b"</")
    federation = wrapper[:close] + body.strip() + wrapper[close:]
    findings, facts = check(federation, trusted_signers=[idp.cert], entity_id=fx.IDP_ENTITY_ID)
    assert findings == [] and facts["signature_verified"] is True and facts["entity_id"] == fx.IDP_ENTITY_ID


def test_signed_entities_descriptor(work, idp):
    other = fx.idp(work, name="idp4", entity_id="https://idp4.example.test/idp")
    federation = fx.entities_metadata([idp, other], sign_with=idp, name="fed")
    findings, facts = check(federation, trusted_signers=[idp.cert], entity_id="https://idp4.example.test/idp")
    assert findings == [] and facts["signature_verified"] is True
    tampered = federation.replace(b"https://idp.example.test/sso/post", b"https://idp.example.test/sso/POST")
    findings, facts = check(tampered, trusted_signers=[idp.cert], entity_id="https://idp4.example.test/idp")
    assert codes(findings) == ["SAML-041"]


def test_hostile_metadata_raises(idp):
    doc = idp.metadata().replace(b"<?xml version='1.0' encoding='UTF-8'?>", b"").replace(
        b'<?xml version="1.0"?>', b"")
    doc = b'<!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + doc
    with pytest.raises(XmlError, match="DOCTYPE"):
        check(doc)


def test_unreadable_trusted_signer(signed):
    with pytest.raises(certs.CertificateError):
        check(signed, trusted_signers=[b"not a certificate"])


# --------------------------------------------------------------------------- SP metadata and URLs

def test_sp_metadata_from_pysaml2_passes(work):
    findings, facts = metadata.check_sp_metadata(fx.sp_metadata(work), "sp.xml", HOST)
    assert findings == []
    assert facts["acs_services"][0]["location"] == f"https://{HOST}/wg/saml/SSO/index.html"


def test_acs_url_case_difference_is_pinpointed(work):
    sp = fx.sp_metadata(work, acs_url=f"https://{HOST}/wg/saml/sso/index.html")
    findings, _facts = metadata.check_sp_metadata(sp, "sp.xml", HOST)
    assert codes(findings) == ["SAML-050"]
    assert "at 38: 'SSO' expected, 'sso' found (differs in case only)" in findings[0].message
    assert findings[0].data["expected"] == f"https://{HOST}/wg/saml/SSO/index.html"


def test_sp_metadata_other_problems(work):
    findings, _facts = metadata.check_sp_metadata(fx.sp_metadata(work, slo=False), "sp.xml", HOST)
    assert codes(findings) == ["SAML-057"]
    sp = fx.sp_metadata(work, slo_url=f"https://{HOST}/wg/saml/singlelogout/index.html")
    findings, _facts = metadata.check_sp_metadata(sp, "sp.xml", HOST)
    assert codes(findings) == ["SAML-058"]
    sp = fx.sp_metadata(work, acs_binding=fx.BINDING_ARTIFACT)
    findings, _facts = metadata.check_sp_metadata(sp, "sp.xml", HOST)
    assert codes(findings) == ["SAML-056"]
    findings, _facts = metadata.check_sp_metadata(fx.idp(work).metadata(), "sp.xml", HOST)
    assert codes(findings) == ["SAML-059"]


def test_site_sp_metadata(work):
    sp = fx.sp_metadata(work, site_alias="finance")
    assert metadata.check_sp_metadata(sp, "sp.xml", HOST, "site", "finance")[0] == []
    findings, _facts = metadata.check_sp_metadata(sp, "sp.xml", HOST, "site", "Finance")
    assert codes(findings) == ["SAML-054"] and "differs in case only" in findings[0].message
    server = fx.sp_metadata(work)
    assert codes(metadata.check_sp_metadata(server, "sp.xml", HOST, "site", "finance")[0]) == ["SAML-054"]
    http = fx.sp_metadata(work, acs_url=f"http://{HOST}/samlservice/public/sp/metadata?alias=finance")
    assert codes(metadata.check_sp_metadata(http, "sp.xml", HOST, "site", "finance")[0]) == ["SAML-054", "SAML-055"]


def test_the_configuration_check_is_the_three_checks_in_order(work, idp, signed):
    """metadata.check_configuration (saml_metadata_check's one call): the IdP metadata verified
    with its signer, the SP metadata and the URLs, each check's findings in that order."""
    sp_xml = fx.sp_metadata(work, slo=False)
    signer = fx.pem(idp.cert)
    findings, facts = metadata.check_configuration(
        signed, "idp.xml", sp_xml, "sp.xml", signer, "signer.crt", server_host=HOST,
        acs_url=f"https://{HOST}/wg/saml/sso/index.html", return_url=f"https://{HOST}/")
    idp_part = check(signed, trusted_signers=[signer])
    sp_part = metadata.check_sp_metadata(sp_xml, "sp.xml", HOST)
    url_part = urls.check_sp_urls(HOST, acs_url=f"https://{HOST}/wg/saml/sso/index.html", return_url=f"https://{HOST}/")
    assert [f.code for f in findings] == [f.code for part in (idp_part, sp_part, url_part) for f in part[0]]
    assert [f.code for f in findings] == ["SAML-057", "SAML-050", "SAML-051"]
    assert facts["entity_id"] == fx.IDP_ENTITY_ID and facts["idp"]["signature_verified"] is True
    assert facts["sp"]["sp_entity_id"] == f"https://{HOST}" and facts["urls"] == url_part[1]
    only_urls = metadata.check_configuration(return_url="http://localhost")
    assert [f.code for f in only_urls[0]] == ["SAML-052"] and only_urls[1]["idp"] is None
    with pytest.raises(certs.CertificateError, match="signer.crt"):
        metadata.check_configuration(signed, trusted_signer_data=b"not a certificate", trusted_signer_source="signer.crt")


@pytest.mark.parametrize("acs_url,expected", [
    ("https://tableau.example.test/wg/saml/SSO/index.html", []),
    ("https://Tableau.example.test/wg/saml/SSO/index.html", ["SAML-050"]),
    ("https://tableau.example.test/wg/saml/SSO/index.html/", ["SAML-050"]),
    ("http://tableau.example.test/wg/saml/SSO/index.html", ["SAML-050"]),
])
def test_acs_url_exact(acs_url, expected):
    findings, facts = urls.check_sp_urls(HOST, acs_url=acs_url)
    assert codes(findings) == expected
    assert facts["expected_acs_url"] == "https://tableau.example.test/wg/saml/SSO/index.html"
    assert facts["expected_slo_url"] == "https://tableau.example.test/wg/saml/SingleLogout/index.html"


def test_site_acs_url():
    good = "https://tableau.example.test/samlservice/public/sp/metadata?alias=finance"
    assert urls.check_sp_urls(HOST, "site", "finance", acs_url=good)[0] == []
    findings, _f = urls.check_sp_urls(HOST, "site", "finance", acs_url=good.replace("https", "http"))
    assert codes(findings) == ["SAML-054", "SAML-055"]
    with pytest.raises(rules.SamlError, match="site_alias"):
        urls.check_sp_urls(HOST, "site", None, acs_url=good)


@pytest.mark.parametrize("url,expected", [
    ("https://tableau.example.test", []),
    ("https://tableau.example.test:8443/tableau", []),
    ("https://tableau.example.test/", ["SAML-051"]),
    ("https://localhost", ["SAML-052"]),
    ("http://127.0.0.1:8000/", ["SAML-051", "SAML-052"]),
    ("https://[::1]", ["SAML-052"]),
    ("https://app.localhost", ["SAML-052"]),
    ("tableau.example.test", ["SAML-053"]),
    ("ftp://tableau.example.test", ["SAML-053"]),
    ("https://tableau.example.test:99999", ["SAML-053"]),
])
def test_return_url(url, expected):
    assert codes(urls.check_sp_urls(return_url=url)[0]) == expected


def test_slo_url():
    assert urls.check_sp_urls(HOST, slo_url="https://tableau.example.test/wg/saml/SingleLogout/index.html")[0] == []
    assert codes(urls.check_sp_urls(HOST, slo_url="https://tableau.example.test/wg/saml/SLO")[0]) == ["SAML-058"]


@pytest.mark.parametrize("host", ["https://tableau.example.test", "tableau.example.test/x", "", " tableau",
                                  "tab leau"])
def test_server_host_must_be_a_host(host):
    with pytest.raises(rules.SamlError, match="server_host"):
        urls.check_sp_urls(host, acs_url="https://x")


def test_urls_need_server_host():
    with pytest.raises(rules.SamlError, match="give server_host"):
        urls.check_sp_urls(acs_url="https://x")


@pytest.mark.parametrize("expected,actual,text", [
    ("abc", "abc", "identical"),
    ("/wg/saml/SSO/", "/wg/saml/sso/", "at 10: 'SSO' expected, 'sso' found (differs in case only)"),
    ("https://h/x", "https://h/x/", "at 12: '/' extra"),
    ("https://h/x", "http://h/x", "at 5: 's' missing"),
    ("abcdef", "abXdef", "at 3: 'c' expected, 'X' found"),
])
def test_describe_difference(expected, actual, text):
    assert urls.describe_difference(expected, actual) == text


# --------------------------------------------------------------------------- robustness

from hypothesis import HealthCheck, given, settings  # noqa: E402  pylint: disable=wrong-import-position
from hypothesis import strategies as st  # noqa: E402  pylint: disable=wrong-import-position


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_real_metadata_gives_findings_or_a_clear_error(idp, signed, data):
    """Any byte of signed pysaml2 metadata replaced: findings, or XmlError; never a traceback,
    and never a verified signature over changed content."""
    pos = data.draw(st.integers(0, len(signed) - 1))
    byte = data.draw(st.integers(0, 255))
    damaged = signed[:pos] + bytes([byte]) + signed[pos + 1:]
    try:
        findings, facts = check(damaged, trusted_signers=[idp.cert])
    except (XmlError, rules.SamlError) as exc:
        assert str(exc).startswith("idp.xml: ") or "signxml" in str(exc)
        return
    if facts["signature_verified"] and damaged != signed:
        # only bytes the signature does not cover (whitespace in the prolog, the signature's
        # own base64 line breaks) may change without breaking it
        assert codes(findings) == codes(check(signed, trusted_signers=[idp.cert])[0])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.binary(max_size=400))
def test_arbitrary_key_pair_bytes_give_findings(cert_data, key_data):
    findings, _facts = sp.check_keypair(cert_data, key_data, cert_filename="x.crt", key_filename="x.key")
    assert {"SAML-002", "SAML-011"} <= {f.code for f in findings}
