# -*- coding: utf-8 -*-
"""The mutual SSL identity core: extraction, the mapped Tableau user, and the audit.

Certificates are real (issued by a test CA with ``cryptography``); broken encodings are built
byte by byte.  ``openssl x509`` is the independent referee for what a certificate holds.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils import identity
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

from identity_pki import ClientPKI, tlv, upn_other_name_der, utf8, with_extra_extension
from identity_equivalence import fast_path_agrees  # noqa: F401  pylint: disable=unused-import  # autouse: fast == full

OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def cpki():
    return ClientPKI()


@pytest.fixture(scope="module")
def ca(cpki):
    return cpki.ca()


def run(items, **kw):
    kw.setdefault("identity_store", "ad")
    return identity.audit(items, **kw)


def item(client, name=None):
    return (name or f"cert-{client.sha256[:8]}", client.pem)


def codes_of(result, source=None):
    return sorted(f.code for f in result.findings if source is None or f.data.get("source") == source)


def finding(result, code):
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, f"expected one {code} in {result.findings!r}"
    return found[0]


def one(result):
    assert len(result.certificates) == 1
    return result.certificates[0]


# --------------------------------------------------------------------------- extraction

def test_upn_only_certificate_without_subject_cn(cpki, ca):
    c = cpki.client(ca, cn=None, upns=["jsmith@example.org"])
    ident = identity.extract(c.cert, "a.pem")
    assert ident.upns == ["jsmith@example.org"] and ident.common_names == []
    assert ident.upn_problems == [] and ident.problems == []
    assert ident.subject == "O=trustops test" and ident.sha256 == c.sha256


def test_cn_only_certificate_without_san(cpki, ca):
    c = cpki.client(ca, cn="jsmith")
    ident = identity.extract(c.cert)
    assert ident.common_names == ["jsmith"] and ident.upns == [] and ident.emails == []


def test_all_cns_in_der_order_multi_valued_rdns_and_non_ascii(cpki, ca):
    rdns = [
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "org")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "example")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "Users")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "Jürgen Müller"),
                                        x509.NameAttribute(NameOID.USER_ID, "jmuller")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "山田"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, "yamada")]),
    ]
    ident = identity.extract(cpki.client(ca, rdns=rdns).cert)
    # a multi-valued RDN is a DER SET: stored sorted by encoding, so "yamada" (shorter) comes first
    assert ident.common_names == ["Users", "Jürgen Müller", "yamada", "山田"]
    assert ident.dc_domain == "example.org"


def test_emails_dns_and_several_upns(cpki, ca):
    c = cpki.client(ca, cn=None, upns=["a@example.org", "b@example.com"], emails=["a@mail.example.org"],
                    dns=["host.example.org"])
    ident = identity.extract(c.cert)
    assert ident.upns == ["a@example.org", "b@example.com"]
    assert ident.emails == ["a@mail.example.org"] and ident.dns_names == ["host.example.org"]


@pytest.mark.parametrize("value, problem", [
    (tlv(0x16, b"jsmith@example.org"), "is a IA5String, not a UTF8String (reads 'jsmith@example.org')"),
    (tlv(0x04, b"jsmith@example.org"), "is a OCTET STRING, not a UTF8String"),
    (tlv(0x02, b"\x01"), "is a INTEGER, not a UTF8String"),
    (tlv(0x0C, b"js\xffmith"), "is a UTF8String that is not valid UTF-8 (byte 2)"),
    (utf8("jsmith") + b"\x00", "has 1 byte(s) after the value"),
    (b"\x0c\x20jsmith", "is not valid DER (element at offset 2: length 32 runs past the end by 26 byte(s))"),
    (b"\x0c", "is not valid DER (truncated"),
    (b"\x0c\x80jsmith\x00\x00", "is not valid DER (indefinite length at offset 0 (BER, not DER))"),
])
def test_decode_upn_value_says_what_is_wrong(value, problem):
    text, got = identity.decode_upn_value(value)
    assert text is None and got.startswith(problem)


def test_wrong_asn1_type_upn_is_a_problem_not_a_crash(cpki, ca):
    c = cpki.client(ca, cn="jsmith", upn_values=[tlv(0x16, b"jsmith@example.org")], upns=["ok@example.org"])
    ident = identity.extract(c.cert)
    assert ident.upns == ["ok@example.org"]
    assert ident.upn_problems == ["UPN otherName #2 is a IA5String, not a UTF8String (reads 'jsmith@example.org')"]


def test_malformed_san_der_is_read_leniently(cpki, ca):
    """A UTF8String whose length overruns its [0] wrapper: cryptography rejects the whole
    extension; the lenient reader still finds the e-mail and reports the UPN and the damage."""
    broken_upn = upn_other_name_der(b"\x0c\x0ajsmith")
    raw = tlv(0x30, broken_upn + tlv(0x81, b"jsmith@example.org") + tlv(0x82, b"h.example.org"))
    c = cpki.client(ca, cn="jsmith", raw_san=raw)
    with pytest.raises(ValueError):
        c.cert.extensions  # noqa: B018  pylint: disable=pointless-statement
    ident = identity.extract(c.cert, "bad.pem")
    assert ident.emails == ["jsmith@example.org"] and ident.dns_names == ["h.example.org"]
    assert ident.upns == [] and ident.upn_problems == [
        "UPN otherName #1 is not valid DER (element at offset 2: length 10 runs past the end by 4 byte(s))"]
    assert [code for code, _text in ident.problems] == ["SSL-003"]
    assert "strict X.509 parser" in ident.problems[0][1]


def test_truncated_general_names_report_the_entry(cpki, ca):
    raw = tlv(0x30, tlv(0x81, b"a@example.org") + b"\x82\x30short")
    ident = identity.extract(cpki.client(ca, cn="a", raw_san=raw).cert)
    assert ident.emails == ["a@example.org"]
    assert [text for _c, text in ident.problems][1] == (
        "subjectAltName entry #2 at byte 17: element at offset 19: length 48 runs past the end by 43 byte(s)")


def test_duplicate_san_extensions_are_a_problem(cpki, ca):
    c = cpki.client(ca, cn="a", upns=["a@example.org"])
    second = tlv(0x30, upn_other_name_der(utf8("b@example.org")))
    cert = with_extra_extension(c.cert, ca.key, b"\x55\x1d\x11", second)
    with pytest.raises(x509.DuplicateExtension):
        cert.extensions  # noqa: B018  pylint: disable=pointless-statement
    ident = identity.extract(cert)
    assert ident.upns == ["a@example.org", "b@example.org"]
    assert "2 subjectAltName extensions (one is allowed)" in [t for _c, t in ident.problems]


@pytest.mark.skipif(OPENSSL is None, reason="openssl referee")
def test_openssl_referee_reads_the_same_names(cpki, ca, tmp_path):
    c = cpki.client(ca, cn=["Users", "Jürgen Müller 山田"], upns=["jürgen@example.org", "x@example.com"],
                    emails=["j@example.org"], dcs=["org", "example"])
    path = tmp_path / "c.pem"
    path.write_bytes(c.pem)
    out = subprocess.run([OPENSSL, "x509", "-in", str(path), "-noout", "-subject", "-nameopt",
                          "utf8,sep_comma_plus", "-ext", "subjectAltName"],
                         capture_output=True, text=True, check=True).stdout
    ident = identity.extract(c.cert)
    assert re.findall(r"othername: ?UPN::?([^,\n]+)", out) == ident.upns
    assert re.findall(r"email:([^,\n]+)", out) == ident.emails
    assert re.findall(r"CN=([^,\n]+)", out) == ident.common_names


# --------------------------------------------------------------------------- names and mapping

@pytest.mark.parametrize("value, expected", [
    ("jsmith", ("jsmith", None, "username")),
    ("jsmith@example.org", ("jsmith", "example.org", "username@domain")),
    ("example.org/jsmith", ("jsmith", "example.org", "domain/username")),
    ("JSmith@Example.ORG.", ("JSmith", "example.org", "username@domain")),
])
def test_split_name_documented_formats(value, expected):
    assert identity.split_name(value) == expected


@pytest.mark.parametrize("value, why", [
    ("EXAMPLE\\jsmith", "DOMAIN\\username"),
    ("a@b@example.org", "2 separators"),
    ("example.org/jsmith@example.org", "2 separators"),
    ("@example.org", "empty user part"),
    ("jsmith@", "empty domain part"),
    ("example.org/", "empty user part"),
    (" jsmith", "leading or trailing white space"),
    ("jsmith @example.org", "white space around the separator"),
    ("js\u200bmith", "non-printing characters"), ("js\u00a0mith", "non-printing characters"),
])
def test_split_name_rejects_undocumented_shapes(value, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        identity.split_name(value)


def test_default_mapping_follows_the_identity_store():
    assert identity.default_mapping("ad") == "ldap"
    assert identity.default_mapping("local") == "upn"
    with pytest.raises(TrustopsError):
        identity.default_mapping("kerberos")


def mapped(cpki, ca, mapping, store, default=None, **kw):
    return identity.map_identity(identity.extract(cpki.client(ca, **kw).cert), mapping, store, default)


def test_ad_upn_forms_map_to_one_user(cpki, ca):
    a = mapped(cpki, ca, "upn", "ad", "example.org", cn=None, upns=["JSmith@Example.org"])
    b = mapped(cpki, ca, "cn", "ad", "example.org", cn="example.org/jsmith")
    c = mapped(cpki, ca, "cn", "ad", "example.org", cn="jsmith")
    assert a.key == b.key == c.key == ("jsmith", "example.org")
    assert (a.mapped_name, a.domain_source, a.name_format) == ("JSmith@example.org", "certificate", "username@domain")
    assert (b.mapped_name, b.name_format) == ("jsmith@example.org", "domain/username")
    assert (c.mapped_name, c.domain_source, c.name_format) == ("jsmith@example.org", "default_domain", "username")
    assert a.predictable and b.predictable and c.predictable and not (a.findings or b.findings or c.findings)


def test_local_store_takes_the_name_as_it_is(cpki, ca):
    m = mapped(cpki, ca, "upn", "local", "ignored.example", cn=None, upns=["jsmith@example.org"])
    assert (m.mapped_name, m.user, m.domain, m.name_format) == ("jsmith@example.org", "jsmith@example.org", None,
                                                                "local")
    m = mapped(cpki, ca, "cn", "local", cn="EXAMPLE\\jsmith")
    assert m.mapped_name == "EXAMPLE\\jsmith" and m.findings == []


def test_ldap_mapping_predicts_nothing(cpki, ca):
    m = mapped(cpki, ca, "ldap", "ad", "example.org", cn="jsmith", upns=["jsmith@example.org"])
    assert m.mapped_name is None and m.field is None and m.predictable is False


def test_missing_and_multiple_mapping_fields(cpki, ca):
    m = mapped(cpki, ca, "upn", "ad", "example.org", cn="jsmith")
    assert [f.code for f in m.findings] == ["SSL-004"] and "user-name mapping cn would read that" in m.findings[0].message
    m = mapped(cpki, ca, "cn", "ad", "example.org", cn=None, upns=["jsmith@example.org"])
    assert [f.code for f in m.findings] == ["SSL-004"] and m.mapped_name is None
    m = mapped(cpki, ca, "upn", "ad", "example.org", cn=None, upns=["a@example.org", "b@example.org"])
    assert [f.code for f in m.findings] == ["SSL-005"]
    assert m.findings[0].data["candidates"] == ["a@example.org", "b@example.org"]
    m = mapped(cpki, ca, "upn", "ad", "example.org", cn=None, upns=["a@example.org", "a@example.org"])
    assert m.findings == [] and m.mapped_name == "a@example.org"
    m = mapped(cpki, ca, "upn", "ad", "example.org", cn=None, upns=[""])
    assert [f.code for f in m.findings] == ["SSL-004"] and "has an empty UPN" in m.findings[0].message


# --------------------------------------------------------------------------- audit

def test_single_domain_domainless_name_is_info_only(cpki, ca):
    r = run([item(cpki.client(ca, cn="jsmith"))], mapping="cn", default_domain="example.org")
    assert codes_of(r) == ["SSL-008"] and one(r)["mapped_name"] == "jsmith@example.org"
    assert r.domains_in_play == ["example.org"]


def test_ambiguous_when_several_domains_are_in_play(cpki, ca):
    plain = cpki.client(ca, cn=None, upns=["jsmith"])
    other = cpki.client(ca, cn=None, upns=["jsmith@example.com"])
    r = run([item(plain, "plain.pem"), item(other, "other.pem")], mapping="upn", default_domain="example.org")
    f = finding(r, "SSL-007")
    assert f.severity == "error" and f.data["source"] == "plain.pem"
    assert f.data["domains_in_play"] == ["example.com", "example.org"]
    assert f.data["same_user_in_domains"] == ["example.com"]
    assert "jsmith also exists in example.com" in f.message
    assert codes_of(r, "other.pem") == []


def test_explicit_domains_decide_what_is_in_play(cpki, ca):
    c = cpki.client(ca, cn="jsmith")
    r = run([item(c)], mapping="cn", default_domain="example.org", domains=["example.org", "EXAMPLE.com"])
    assert codes_of(r) == ["SSL-007"] and r.domains_in_play == ["example.com", "example.org"]


def test_no_default_domain_is_a_warning_and_unpredictable(cpki, ca):
    r = run([item(cpki.client(ca, cn="jsmith"))], mapping="cn")
    assert codes_of(r) == ["SSL-009"] and one(r)["predictable"] is False and one(r)["mapped_name"] == "jsmith"


def test_collision_two_domains_same_user_part(cpki, ca):
    """The seed's case: jsmith@example.org and jsmith@example.com both carry CN=jsmith."""
    org = cpki.client(ca, cn="jsmith", upns=["jsmith@example.org"])
    com = cpki.client(ca, cn="jsmith", upns=["jsmith@example.com"])
    r = run([item(org, "org.pem"), item(com, "com.pem")], mapping="cn", default_domain="example.org")
    col = finding(r, "SSL-010")
    assert col.data["mapped_name"] == "jsmith@example.org"
    assert col.data["claimed_domains"] == ["example.com", "example.org"]
    assert {c["source"] for c in col.data["certificates"]} == {"org.pem", "com.pem"}
    wrong = finding(r, "SSL-011")
    assert wrong.severity == "error" and wrong.data["source"] == "com.pem" and wrong.data["evidence"] == "upn"
    assert "Reissue it with jsmith@example.com" == wrong.remedy
    assert codes_of(r, "org.pem") == ["SSL-007"] and codes_of(r, "com.pem") == ["SSL-007", "SSL-011"]
    assert [c["codes"] for c in r.certificates] == [["SSL-007", "SSL-010"], ["SSL-007", "SSL-011", "SSL-010"]]
    # under upn mapping the .com certificate would be another user
    assert [c["other_mapping_name"] for c in r.certificates] == [None, "jsmith@example.com"]
    assert finding(r, "SSL-018").data["count"] == 1
    assert r.counts["collisions"] == 1
    # the same certificates under upn mapping name two different users: no collision
    r = run([item(org, "org.pem"), item(com, "com.pem")], mapping="upn", default_domain="example.org")
    assert codes_of(r) == ["SSL-018"] and [c["mapped_name"] for c in r.certificates] == ["jsmith@example.org",
                                                                                         "jsmith@example.com"]


def test_renewed_certificate_of_the_same_user_is_no_collision(cpki, ca):
    old = cpki.client(ca, cn="jsmith", upns=["jsmith@example.org"], days=5)
    new = cpki.client(ca, cn="jsmith", upns=["jsmith@example.org"], days=300)
    r = run([item(old), item(new)], mapping="upn", default_domain="example.org")
    assert codes_of(r) == [] and r.counts == {"certificates": 2, "unreadable": 0, "unmatched_patterns": 0,
                                              "predictable": 2, "mapped_users": 1, "collisions": 0}


def test_dc_components_and_email_are_evidence_of_origin(cpki, ca):
    dc = cpki.client(ca, cn="jsmith", dcs=["com", "example"])
    mail = cpki.client(ca, cn="jsmith", emails=["jsmith@example.com"])
    r = run([item(dc, "dc.pem")], mapping="cn", default_domain="example.org")
    assert finding(r, "SSL-011").severity == "error" and finding(r, "SSL-011").data["evidence"] == "subject-dc"
    r = run([item(mail, "mail.pem")], mapping="cn", default_domain="example.org")
    assert finding(r, "SSL-011").severity == "warning" and finding(r, "SSL-011").data["evidence"] == "email"


def test_same_certificate_twice_is_audited_once(cpki, ca):
    c = cpki.client(ca, cn=None, upns=["a@example.org"])
    r = run([("one.pem", c.pem), ("two.der", c.der)], mapping="upn", default_domain="example.org")
    assert len(r.certificates) == 1 and r.certificates[0]["sources"] == ["one.pem", "two.der"]
    assert codes_of(r) == []


def test_bundle_entries_are_numbered(cpki, ca):
    a = cpki.client(ca, cn=None, upns=["a@example.org"])
    b = cpki.client(ca, cn=None, upns=["b@example.org"])
    r = run([("bundle.pem", a.pem + b.pem)], mapping="upn", default_domain="example.org")
    assert [c["source"] for c in r.certificates] == ["bundle.pem#1", "bundle.pem#2"]


def test_unknown_users_from_csv_and_json(cpki, ca):
    a = cpki.client(ca, cn=None, upns=["alice@example.org"])
    b = cpki.client(ca, cn=None, upns=["bob@example.com"])
    items = [item(a, "a.pem"), item(b, "b.pem")]
    csv_users = identity.load_known_users("name,domain\nALICE,example.org\nbob,example.org\n")
    r = run(items, mapping="upn", default_domain="example.org", known_users=csv_users)
    f = finding(r, "SSL-012")
    assert f.data["source"] == "b.pem" and f.data["mapped_name"] == "bob@example.com"
    json_users = identity.load_known_users(json.dumps(
        {"users": {"user": [{"name": "alice", "domain": {"name": "example.org"}},
                            {"name": "bob", "domain": {"name": "EXAMPLE.COM"}}]}}))
    assert codes_of(run(items, mapping="upn", default_domain="example.org", known_users=json_users)) == []
    # Tableau's import CSV: no header, user name first; DOMAIN\user and user@domain forms
    tableau_csv = identity.load_known_users("example.org\\alice,pw,Alice,Viewer\nbob@example.com,pw,Bob,Viewer\n")
    assert tableau_csv[0] == ("example.org\\alice", None)
    assert codes_of(run(items, mapping="upn", default_domain="example.org", known_users=tableau_csv)) == []


def test_unknown_local_users(cpki, ca):
    c = cpki.client(ca, cn=None, upns=["Alice@example.org"])
    known = identity.load_known_users(json.dumps(["alice@example.org"]))
    assert codes_of(run([item(c)], identity_store="local", known_users=known)) == []
    known = identity.load_known_users(json.dumps(["alice"]))
    assert codes_of(run([item(c)], identity_store="local", known_users=known)) == ["SSL-012"]


@pytest.mark.parametrize("text, fmt, message", [
    ("{not json", "auto", "not valid JSON"),
    ("[1, 2]", "json", "user #1 is neither a name"),
    ('{"users": 3}', "json", "expected a JSON list"),
    ("name,domain\n,example.org\n", "csv", "row 1 has no user name"),
    (b"\xff\xfe\x00", "csv", "not UTF-8 text"),
    ("x", "yaml", "format must be auto, csv or json"),
])
def test_bad_known_users_raise_clear_errors(text, fmt, message):
    with pytest.raises(TrustopsError, match=re.escape(message)):
        identity.load_known_users(text, "users.x", fmt)


def test_bad_known_user_name_is_an_error():
    with pytest.raises(TrustopsError, match="known user 'a@b@c'"):
        identity.known_user_keys([("a@b@c", None)], "ad", "example.org")


def test_validity_and_client_ca(cpki, ca):
    expired = cpki.client(ca, cn=None, upns=["e@example.org"], start_days=-30, days=-1)
    future = cpki.client(ca, cn=None, upns=["f@example.org"], start_days=2, days=30)
    impostor_ca = cpki.ca(cn=ca.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)  # same name
    forged = cpki.client(impostor_ca, cn=None, upns=["g@example.org"])
    good = cpki.client(ca, cn=None, upns=["h@example.org"])
    r = run([item(expired, "expired.pem"), item(future, "future.pem"), item(forged, "forged.pem"),
             item(good, "good.pem")], mapping="upn", default_domain="example.org", client_ca=[ca.cert])
    assert codes_of(r, "expired.pem") == ["SSL-013"] and codes_of(r, "future.pem") == ["SSL-014"]
    assert codes_of(r, "forged.pem") == ["SSL-015"] and codes_of(r, "good.pem") == []
    assert forged.cert.issuer == ca.cert.subject  # the name alone would not tell


def test_key_usage_that_forbids_client_auth(cpki, ca):
    server_only = cpki.client(ca, cn=None, upns=["a@example.org"], eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    any_eku = cpki.client(ca, cn=None, upns=["b@example.org"], eku=[x509.ObjectIdentifier("2.5.29.37.0")])
    no_eku = cpki.client(ca, cn=None, upns=["c@example.org"], eku=None, key_usage=False)
    r = run([item(server_only, "s.pem"), item(any_eku, "any.pem"), item(no_eku, "none.pem")], mapping="upn",
            default_domain="example.org")
    f = finding(r, "SSL-019")
    assert f.data["source"] == "s.pem" and "(serverAuth) does not include clientAuth" in f.message


def test_ldap_mapping_findings(cpki, ca):
    c = cpki.client(ca, cn="jsmith", upns=["jsmith@example.org"])
    r = run([item(c)], mapping=None, default_domain="example.org")
    assert r.mapping == "ldap" and codes_of(r) == ["SSL-016"] and one(r)["predictable"] is False
    r = run([item(c)], identity_store="local", mapping="ldap")
    assert codes_of(r) == ["SSL-017"] and finding(r, "SSL-017").severity == "error"


def test_upn_and_cn_disagree_is_one_info_for_the_audit(cpki, ca):
    a = cpki.client(ca, cn="John Smith", upns=["jsmith@example.org"])
    b = cpki.client(ca, cn="Ann Lee", upns=["alee@example.org"])
    same = cpki.client(ca, cn="bob", upns=["BOB@example.org"])
    r = run([item(a, "a.pem"), item(b, "b.pem"), item(same, "same.pem")], mapping="upn",
            default_domain="example.org")
    f = finding(r, "SSL-018")
    assert f.severity == "info" and f.data["count"] == 2 and f.data["other_field"] == "cn"
    assert f.data["examples"][0] == {"source": "a.pem", "mapped_name": "jsmith@example.org",
                                     "other_mapped_name": "John Smith@example.org"}
    assert [c["other_mapping_name"] for c in r.certificates] == ["John Smith@example.org", "Ann Lee@example.org",
                                                                 None]
    assert codes_of(r) == ["SSL-018"]


def test_malformed_upn_findings_depend_on_the_mapping(cpki, ca):
    c = cpki.client(ca, cn="jsmith", upn_values=[tlv(0x16, b"jsmith@example.org")])
    r = run([item(c)], mapping="upn", default_domain="example.org")
    assert codes_of(r) == ["SSL-002", "SSL-004"] and one(r)["mapped_name"] is None
    assert "its UPN cannot be read" in finding(r, "SSL-004").message
    r = run([item(c)], mapping="cn", default_domain="example.org")
    assert codes_of(r) == ["SSL-002", "SSL-008"] and finding(r, "SSL-002").severity == "warning"
    assert one(r)["mapped_name"] == "jsmith@example.org"


def test_bad_input_yields_findings_and_loses_nothing(cpki, ca, tmp_path):
    good = cpki.client(ca, cn=None, upns=["a@example.org"])
    items = [
        ("key.pem", good.key_pem),
        ("truncated.der", good.der[:-40]),
        ("garbage.bin", b"\x00\x01 not a certificate"),
        ("cut.pem", good.pem[:-30]),
        ("empty.pem", b""),
        ("good.pem", good.pem),
    ]
    r = run(items, mapping="upn", default_domain="example.org")
    bad = [f for f in r.findings if f.code == "SSL-001"]
    assert [f.data["source"] for f in bad] == ["key.pem", "truncated.der", "garbage.bin", "cut.pem", "empty.pem"]
    assert "holds a private key" in bad[0].message and all(f.severity == "error" for f in bad)
    assert [c["source"] for c in r.certificates] == ["good.pem"] and r.counts["unreadable"] == 5


def test_read_sources_paths_globs_and_content(cpki, ca, tmp_path):
    a = cpki.client(ca, cn=None, upns=["a@example.org"])
    b = cpki.client(ca, cn=None, upns=["b@example.org"])
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "a.pem").write_bytes(a.pem)
    (tmp_path / "certs" / "b.der").write_bytes(b.der)
    (tmp_path / "certs" / "sub").mkdir()
    items = identity.read_sources([str(tmp_path / "certs" / "*"), a.pem.decode(),
                                   str(tmp_path / "missing.pem"), str(tmp_path / "none-*.pem")])
    assert [s for s, _d in items] == [str(tmp_path / "certs" / "a.pem"), str(tmp_path / "certs" / "b.der"),
                                      "certs[2]", str(tmp_path / "missing.pem"), str(tmp_path / "none-*.pem")]
    r = run(items, mapping="upn", default_domain="example.org")
    assert [(f.code, f.severity) for f in r.findings] == [("SSL-001", "error"), ("SSL-020", "warning")]
    assert [c["sources"] for c in r.certificates] == [[str(tmp_path / "certs" / "a.pem"), "certs[2]"],
                                                      [str(tmp_path / "certs" / "b.der")]]


def test_every_counter_counts_what_its_name_says(cpki, ca, tmp_path):
    """Issue 11: a missing file is as unreadable as a garbage file, and a pattern matching nothing
    is counted too; every counter is the number of what its name says."""
    a = cpki.client(ca, cn="jsmith", upns=["jsmith@example.org"])
    twin = cpki.client(ca, cn="jsmith", upns=["jsmith@example.com"])   # the seed's collision under cn
    local = cpki.client(ca, cn=None, upns=["x@example.org"])           # no CN: unpredictable under cn
    (tmp_path / "garbage.pem").write_bytes(b"not a certificate at all")
    (tmp_path / "a.pem").write_bytes(a.pem)
    (tmp_path / "twin.pem").write_bytes(twin.pem)
    (tmp_path / "local.pem").write_bytes(local.pem)
    (tmp_path / "dir.pem").mkdir()
    items = identity.read_sources([str(tmp_path / "garbage.pem"), str(tmp_path / "missing.pem"),
                                   str(tmp_path / "dir.pem"), str(tmp_path / "none-*.pem"),
                                   str(tmp_path / "a.pem"), str(tmp_path / "a.pem"), str(tmp_path / "twin.pem"),
                                   str(tmp_path / "local.pem")])
    r = run(items, mapping="cn", default_domain="example.org", domains=["example.org", "example.com"])
    unreadable = [f.data["source"] for f in r.findings if f.code == "SSL-001"]
    assert unreadable == [str(tmp_path / n) for n in ("garbage.pem", "missing.pem", "dir.pem")], r.findings
    assert r.counts["unreadable"] == len(unreadable) == 3
    assert r.counts["unmatched_patterns"] == 1 == len([f for f in r.findings if f.code == "SSL-020"])
    # distinct certificates (a.pem twice is one), predictable mappings, distinct mapped users, collisions
    assert r.counts["certificates"] == len(r.certificates) == 3
    assert r.counts["predictable"] == sum(1 for c in r.certificates if c["predictable"]) == 2
    mapped = set(c["mapped_name"] for c in r.certificates if c["mapped_name"])
    assert r.counts["mapped_users"] == len(mapped) == 1
    assert r.counts["collisions"] == len([f for f in r.findings if f.code == "SSL-010"]) == 1
    missing = [f for f in r.findings if f.code == "SSL-001" and "missing.pem" in f.message][0]
    assert missing.message.count(str(tmp_path / "missing.pem")) == 1, missing.message


def test_certificate_files_are_read_with_the_certificate_cap(tmp_path):
    from ansible_collections.trustops.tableau.plugins.module_utils import reader

    big = tmp_path / "big.pem"
    with open(big, "wb") as handle:
        handle.truncate(reader.MAX_CERTIFICATE + 1)
    r = run(identity.read_sources([str(big)]), mapping="upn")
    assert r.counts["unreadable"] == 1
    assert f"limit of {reader.MAX_CERTIFICATE} bytes" in r.findings[0].message


def test_user_name_for_one_certificate(cpki, ca):
    c = cpki.client(ca, cn="jsmith", upns=["example.org/JSmith"])
    assert identity.user_name(c.pem, "upn", "ad", "example.com") == "JSmith@example.org"
    assert identity.user_name(c.pem, "cn", "ad", "example.com") == "jsmith@example.com"
    assert identity.user_name(c.pem, None, "local") == "example.org/JSmith"
    with pytest.raises(TrustopsError, match="Active Directory maps the certificate"):
        identity.user_name(c.pem, "ldap", "ad")
    with pytest.raises(TrustopsError, match="has no UPN"):
        identity.user_name(cpki.client(ca, cn="x").pem, "upn", "local")
    with pytest.raises(TrustopsError, match="holds a private key"):
        identity.user_name(c.key_pem, "upn", "local")


def test_as_dict_is_json_serialisable(cpki, ca):
    c = cpki.client(ca, cn="jsmith", upns=["jsmith"], emails=["jsmith@example.com"])
    d = run([item(c)], mapping="upn", default_domain="example.org").as_dict()
    json.dumps(d)
    assert d["certificates"][0]["codes"] == ["SSL-008", "SSL-011"]
    assert [f["severity"] for f in d["findings"]] == ["info", "warning"]


# --------------------------------------------------------------------------- properties

_USER = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="._-"),
                min_size=1, max_size=20)
_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_DOMAIN = st.lists(_LABEL, min_size=2, max_size=3).map(".".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user=_USER, domain=_DOMAIN, form=st.sampled_from(["at", "slash"]))
def test_property_upn_round_trip_and_both_forms_agree(cpki, ca, user, domain, form):
    value = f"{user}@{domain}" if form == "at" else f"{domain}/{user}"
    c = cpki.client(ca, cn=None, upns=[value])
    ident = identity.extract(c.cert)
    assert ident.upns == [value]
    m = identity.map_identity(ident, "upn", "ad", "default.example")
    assert m.key == (identity.user_key(user), domain) and m.mapped_name == f"{user}@{domain}"


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=40))
def test_property_decode_upn_value_never_raises(data):
    text, problem = identity.decode_upn_value(data)
    assert (text is None) != (problem is None)
    if text is not None:
        assert tlv(0x0C, text.encode("utf-8")) == data


def test_audit_uses_now_for_validity(cpki, ca):
    c = cpki.client(ca, cn=None, upns=["a@example.org"], days=10)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=11)
    assert codes_of(run([item(c)], mapping="upn", default_domain="example.org", now=later)) == ["SSL-013"]


def test_long_upn_uses_the_long_length_form(cpki, ca):
    value = "u" * 300 + "@example.org"  # 312 bytes: a two-byte DER length
    ident = identity.extract(cpki.client(ca, cn=None, upns=[value]).cert)
    assert ident.upns == [value] and ident.upn_problems == []
    assert identity.decode_upn_value(b"\x0c\x82\x01\x38" + value.encode()) == (value, None)


@pytest.mark.parametrize("data", [b"-----BEGIN CERTIFICATE-----\nMIIB\n", b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
                                  b"\n  -----BEGIN RSA PRIVATE KEY-----\n"])
def test_known_users_file_holding_pem_is_refused(data):
    """Issue 11 (bad-file class): a certificate or key given as the user list is an error, not a
    list of users named '-----BEGIN CERTIFICATE-----'."""
    with pytest.raises(TrustopsError, match=r"^known_users_file u\.csv: holds PEM \(.*\), not a list of users"):
        identity.load_known_users(data, "known_users_file u.csv")
