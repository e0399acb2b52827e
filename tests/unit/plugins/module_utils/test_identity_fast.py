# -*- coding: utf-8 -*-
"""The fast reader of the mutual SSL audit (identity_fast) against the full cryptography path.

Every test compares the two: the CertIdentity fields of one certificate (``assert_same_identity``)
and whole audits, every certificate result and every finding (``audits_agree``, which runs
``audit(fast=True)`` and ``audit(fast=False)``).  The corpus: the shapes the identity tests use,
a hypothesis corpus built with cryptography's builders (odd characters, several CNs, multi-valued
RDNs, T61/BMP/Universal/UTF8 strings, UPN + e-mail SAN, missing SAN, unknown and critical
extensions, dates past 2049), malformed DER (bytes overwritten in a real certificate), PEM
variants, and the same comparison under Debian 12's python3 with cryptography 38.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils import identity, identity_fast

from identity_pki import ClientPKI, tlv, upn_other_name_der, utf8, with_extra_extension
from identity_equivalence import CHECKED, assert_same_identity, audits_agree, fast_fields

UPN = x509.ObjectIdentifier(identity.UPN_OID)
NOW = datetime.datetime.now(datetime.timezone.utc)
CA_KEY = ed25519.Ed25519PrivateKey.generate()
CLIENT_KEY = ed25519.Ed25519PrivateKey.generate()
CA_NAME = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops fast"),
                     x509.NameAttribute(NameOID.COMMON_NAME, "Fast Reader CA")])
CONFIGS = [("ad", "upn", "example.org"), ("ad", "cn", "example.org"), ("local", "upn", None), ("ad", "ldap", None)]
DEBIAN_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def cpki():
    return ClientPKI()


@pytest.fixture(scope="module")
def ca(cpki):
    return cpki.ca()


def build(subject=None, sans=None, eku=(ExtendedKeyUsageOID.CLIENT_AUTH,), key_usage=(True, False),
          extra=(), serial=4242, not_before=None, not_after=None):
    """A client certificate signed by the module's Ed25519 CA, or None when a builder refuses the
    values (hypothesis then draws others)."""
    try:
        builder = (x509.CertificateBuilder()
                   .subject_name(subject if subject is not None else x509.Name([
                       x509.NameAttribute(NameOID.COMMON_NAME, "jsmith")]))
                   .issuer_name(CA_NAME).public_key(CLIENT_KEY.public_key()).serial_number(serial)
                   .not_valid_before(not_before or NOW - datetime.timedelta(days=1))
                   .not_valid_after(not_after or NOW + datetime.timedelta(days=30)))
        if sans is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if key_usage is not None:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=key_usage[0], content_commitment=False, key_encipherment=not key_usage[0],
                data_encipherment=False, key_agreement=key_usage[1], key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        return builder.sign(CA_KEY, None)
    except (ValueError, TypeError):
        return None


def pem_of(cert):
    return cert.public_bytes(Encoding.PEM)


def der_of(cert):
    return cert.public_bytes(Encoding.DER)


def agree_everywhere(certs):
    """Each certificate read both ways, and the audit of all of them (PEM and DER inputs) both
    ways under every mapping configuration."""
    fast = sum(assert_same_identity(cert) for cert in certs)
    items = [(f"c{i}.pem", pem_of(cert)) for i, cert in enumerate(certs)]
    items += [(f"c{i}.der", der_of(cert)) for i, cert in enumerate(certs)]
    for store, mapping, default in CONFIGS:
        audits_agree(items, store, mapping=mapping, default_domain=default, client_ca=None)
    return fast


# --------------------------------------------------------------------------- the usual shapes


def test_the_identity_test_shapes_are_read_fast_and_the_same(cpki, ca):
    shapes = [
        dict(cn="jsmith"), dict(cn=None, upns=["jsmith@example.org"]),
        dict(cn="jsmith", upns=["jsmith@example.org"], emails=["jsmith@mail.example.org"]),
        dict(cn=["Users", "Jürgen Müller 山田"], upns=["jürgen@example.org", "x@example.com"]),
        dict(cn="jsmith", dcs=["org", "example"], dns=["host.example.org"]),
        dict(cn="example.org/jsmith", eku=(ExtendedKeyUsageOID.SERVER_AUTH,)),
        dict(cn="jsmith", key_usage=False, eku=()), dict(cn="expired", days=-1, start_days=-10),
        dict(cn="jsmith", upn_values=[tlv(0x16, b"jsmith@example.org")]),
        dict(cn="jsmith", upn_values=[b"\x0c\x02\xff\xfe"]), dict(cn="x", upns=[""]),
        dict(cn=" jsmith", upns=["a b@example.org "]), dict(cn=None, organisation=None),
    ]
    clients = [cpki.client(ca, **shape) for shape in shapes]
    for client in clients:  # learn the issuer-wide extensions once
        identity.extract_fast(client.cert, client.der, "learn")
    read_fast = [identity_fast.read(client.der) is not None for client in clients]
    # the odd names (leading space, escapes) go the full way; everything else is read fast
    assert read_fast.count(True) >= len(shapes) - 3, read_fast
    assert all(read_fast[:10])
    assert agree_everywhere([client.cert for client in clients]) >= len(shapes) - 3


def test_unusual_certificates_go_the_full_way_with_the_same_result(cpki, ca):
    bmp = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jsmith", _ASN1Type.BMPString)])
    multi = x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "a"),
                                                       x509.NameAttribute(NameOID.USER_ID, "b")])])
    escaped = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Smith, John+x")])
    odd = {
        "BMPString CN": build(subject=bmp),
        "multi-valued RDN": build(subject=multi),
        "CN that RFC 4514 escapes": build(subject=escaped),
        "critical unknown extension": build(extra=[(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.99999.7"), b"\x05\x00"), True)]),
        "directoryName in the SAN": build(sans=[x509.DirectoryName(CA_NAME), x509.OtherName(UPN, utf8("a@b.c"))]),
        "another otherName": build(sans=[x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.25.1"),
                                                        b"\x04\x02ab")]),
        "empty SAN": build(sans=[]),
        "registeredID": build(sans=[x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4"))]),
        "key usage the strict parser refuses": build(key_usage=None, extra=[(x509.UnrecognizedExtension(
            ExtensionOID.KEY_USAGE, b"\x03\x02\x01"), True)]),
    }
    certs = [cert for cert in odd.values() if cert is not None]
    assert len(certs) >= 8
    for name, cert in odd.items():
        if cert is not None:
            assert fast_fields(cert) is None, name
    dup = cpki.client(ca, cn="a", upns=["a@example.org"])
    certs.append(with_extra_extension(dup.cert, ca.key, b"\x55\x1d\x11", tlv(0x30, upn_other_name_der(utf8("b@x.org")))))
    assert fast_fields(certs[-1]) is None
    agree_everywhere(certs)
    result = audits_agree([("ku.pem", pem_of(odd["key usage the strict parser refuses"]))], "local")
    assert "SSL-003" in result.certificates[0]["codes"]


def test_dates_after_2049_and_big_serials_are_read_fast():
    cert = build(serial=2 ** 159 - 1, not_before=datetime.datetime(1999, 12, 31, 23, 59, 59),
                 not_after=datetime.datetime(2051, 2, 3, 4, 5, 6))
    assert assert_same_identity(cert)
    fields = identity_fast.read(der_of(cert))
    assert fields[0] == f"{2 ** 159 - 1:X}"
    assert identity.extract_fast(cert, der_of(cert)).not_after.isoformat() == "2051-02-03T04:05:06+00:00"
    agree_everywhere([cert])


def test_extensions_are_learnt_only_from_a_certificate_cryptography_parsed():
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.8"), b"\x0c\x01x")
    cert = build(extra=[(unknown, False)], eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,))
    identity_fast.forget()
    assert identity_fast.read(der_of(cert)) is None  # nothing learnt yet
    ident = identity.extract_fast(cert, der_of(cert), "first")
    assert "does not include clientAuth" in ident.client_auth_problem
    fields = identity_fast.read(der_of(cert))
    assert fields is not None and fields[8] == ident.client_auth_problem  # reused, not recomputed
    broken = build(key_usage=None, extra=[(x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x03\x02\x01"),
                                           False)])
    identity.extract_fast(broken, der_of(broken), "broken")
    assert identity_fast.read(der_of(broken)) is None  # cryptography refused it: never learnt


def test_pem_variants_give_the_same_audit():
    cert = build(sans=[x509.OtherName(UPN, utf8("jsmith@example.org"))])
    b64 = base64.b64encode(der_of(cert))
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    variants = {
        "crlf": b"-----BEGIN CERTIFICATE-----\r\n" + b"\r\n".join(lines) + b"\r\n-----END CERTIFICATE-----\r\n",
        "text before": b"subject=CN=jsmith\n" + pem_of(cert),
        "76 columns": b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(
            b64[i:i + 76] for i in range(0, len(b64), 76)) + b"\n-----END CERTIFICATE-----\n",
        "no final newline": pem_of(cert).rstrip(),
        "two blocks": pem_of(cert) + pem_of(build(serial=7)),
        "junk inside": pem_of(cert).replace(lines[1], lines[1][:10] + b"!" + lines[1][11:]),
        "bad padding": pem_of(cert).replace(b"\n-----END", b"=\n-----END"),
    }
    for name, data in variants.items():
        assert identity_fast.pem_der(data) in (None, der_of(cert)), name
        audits_agree([(name, data)], "ad", mapping="upn", default_domain="example.org")
    assert identity_fast.pem_der(variants["76 columns"]) == der_of(cert)
    assert identity_fast.pem_der(variants["crlf"]) is None  # left to cryptography's PEM reader


def test_the_fixture_checked_what_it_says():
    before = dict(CHECKED)
    agree_everywhere([build()])
    assert CHECKED["certificates"] == before["certificates"] + 1
    assert CHECKED["fast"] == before["fast"] + 1
    assert CHECKED["audits"] == before["audits"] + len(CONFIGS)


# --------------------------------------------------------------------------- hypothesis corpus

ODD = "aZ09 ,+\"\\#<>;=@./-_'()?:\x00\n\té山Ω\u200b\u00a0"
STRING_TYPES = [None, _ASN1Type.UTF8String, _ASN1Type.PrintableString, _ASN1Type.IA5String, _ASN1Type.T61String,
                _ASN1Type.BMPString, _ASN1Type.UniversalString]
ATTRS = [NameOID.COMMON_NAME, NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME,
         NameOID.DOMAIN_COMPONENT, NameOID.COUNTRY_NAME, NameOID.USER_ID, NameOID.EMAIL_ADDRESS,
         NameOID.SERIAL_NUMBER, x509.ObjectIdentifier("1.2.3.4.5")]
ASCII = st.text(alphabet="abcxyzJS0123456789.-_@", max_size=20)


@st.composite
def attribute(draw):
    oid = draw(st.sampled_from(ATTRS))
    value = draw(st.one_of(st.text(alphabet=ODD, max_size=12), ASCII, st.sampled_from(
        ["jsmith", "jsmith@example.org", "example.org/jsmith", "EXAMPLE\\jsmith", "org", "example", "US"])))
    return x509.NameAttribute(oid, value, draw(st.sampled_from(STRING_TYPES)), _validate=False)


@st.composite
def subject(draw):
    rdns = []
    for _number in range(draw(st.integers(0, 4))):
        attrs = draw(st.lists(attribute(), min_size=1, max_size=2, unique_by=lambda a: (a.oid, a.value)))
        rdns.append(x509.RelativeDistinguishedName(attrs))
    return x509.Name(rdns)


def _name(kind, value):
    """A GeneralName of ``kind``, or None when cryptography refuses the value."""
    try:
        return kind(value)
    except ValueError:
        return None


GENERAL_NAMES = st.one_of(
    st.builds(lambda v: x509.OtherName(UPN, utf8(v)), st.one_of(st.text(alphabet=ODD, max_size=12), ASCII)),
    st.builds(lambda v, t: x509.OtherName(UPN, tlv(t, v.encode())), ASCII, st.sampled_from([0x16, 0x13, 0x1E, 0x04])),
    st.builds(lambda v: _name(x509.RFC822Name, v), ASCII).filter(lambda n: n is not None),
    st.builds(lambda v: _name(x509.DNSName, v), ASCII).filter(lambda n: n is not None),
    st.builds(lambda v: _name(x509.UniformResourceIdentifier, "https://" + v), ASCII).filter(lambda n: n is not None),
    st.sampled_from([x509.IPAddress(ipaddress.ip_address("192.0.2.1")), x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
                     x509.DirectoryName(CA_NAME), x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4"))]),
    st.builds(lambda v: x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.25.1"), tlv(0x04, v.encode())), ASCII),
)
EKUS = st.one_of(st.none(), st.lists(st.sampled_from([
    ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE, x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.2")]),
    min_size=1, max_size=3, unique=True))
EXTRA = st.lists(st.tuples(st.sampled_from([
    x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
    x509.BasicConstraints(ca=False, path_length=None),
    x509.SubjectKeyIdentifier(b"\x01" * 20),
    x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.example/ca.crl")],
                                                       None, None, None)]),
    x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x02\x01\x00"),  # pathLen without cA
]), st.booleans()), max_size=2, unique_by=lambda e: e[0].oid)
DATES = st.sampled_from([datetime.datetime(1960, 1, 1), datetime.datetime(2049, 12, 31, 23, 59, 59),
                         datetime.datetime(2050, 1, 1), datetime.datetime(2100, 6, 1, 12), None])


@st.composite
def certificate(draw):
    sans = draw(st.one_of(st.none(), st.lists(GENERAL_NAMES, max_size=4)))
    cert = build(subject=draw(subject()), sans=sans, eku=draw(EKUS),
                 key_usage=draw(st.one_of(st.none(), st.tuples(st.booleans(), st.booleans()))),
                 extra=draw(EXTRA), serial=draw(st.integers(1, 2 ** 159)), not_before=draw(DATES),
                 not_after=draw(DATES))
    assume(cert is not None)
    return cert


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(certificate(), min_size=1, max_size=4))
def test_hypothesis_corpus_fast_equals_full(certs):
    agree_everywhere(certs)


# --------------------------------------------------------------------------- malformed DER


def _base_certificates():
    return [build(sans=[x509.OtherName(UPN, utf8("jsmith@example.org")), x509.RFC822Name("j@example.org")]),
            build(subject=x509.Name([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "org"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "jsmith")]),
                  sans=[x509.DNSName("host.example.org")], extra=[(x509.SubjectKeyIdentifier(b"\x02" * 20), False)])]


BASES = [der_of(cert) for cert in _base_certificates()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(BASES))), st.data())
def test_malformed_der_gives_the_same_verdicts(base, data):
    der = bytearray(BASES[base])
    for _number in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    der = bytes(der)
    try:
        cert = x509.load_der_x509_certificate(der)
    except Exception:  # pylint: disable=broad-exception-caught  # ValueError, InvalidVersion: not loadable
        cert = None
    if cert is not None:
        assert_same_identity(cert, der)
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    audits_agree([("m.der", der), ("m.pem", pem)], "ad", mapping="upn", default_domain="example.org")


def test_der_children_refuses_what_a_der_parser_refuses():
    from ansible_collections.trustops.tableau.plugins.module_utils import _asn1

    assert _asn1.der_children(b"\x30\x03\x02\x01\x05\x04\x00", 0, 7) == [(0x30, 2, 5), (0x04, 7, 7)]
    assert _asn1.der_children(b"\x04\x81\x80" + b"a" * 128, 0, 131) == [(0x04, 3, 131)]
    for bad in (b"\x04\x81\x05abcde", b"\x04\x82\x00\x05abcde", b"\x04\x80ab\x00\x00", b"\x1f\x01\x00", b"\x04\x05ab"):
        with pytest.raises(_asn1.DerError):
            _asn1.der_children(bad, 0, len(bad))
    for good in BASES:  # where tlv() reads DER, der_children reads the same
        start, end = _asn1.whole(good)
        assert _asn1.der_children(good, start, end) == _asn1.children(good, start, end)


# --------------------------------------------------------------------------- cryptography 38

_DEBIAN_SCRIPT = r"""
import json, sys, datetime, cryptography
from cryptography import x509
from ansible_collections.trustops.tableau.plugins.module_utils import identity, identity_fast
now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
items = [(path, open(path, "rb").read()) for path in sys.argv[1:]]
fast = full = 0
for path, data in items:
    try:
        cert = x509.load_der_x509_certificate(data)
    except Exception:
        continue
    identity._learn(cert, data)
    fields = identity_fast.read(data)
    if fields is None:
        continue
    fast += 1
    a = identity._fast_identity(cert, data, fields, path, None)
    b = identity.extract(cert, path)
    slots = [s for s in identity.CertIdentity.__slots__ if s != "cert"]
    if any(getattr(a, s, None) != getattr(b, s, None) for s in slots):
        print(json.dumps({"differs": path}))
        sys.exit(1)
same = True
for store, mapping in (("ad", "upn"), ("ad", "cn"), ("local", "upn")):
    r1 = identity.audit(items, store, mapping=mapping, default_domain="example.org", now=now).as_dict()
    r2 = identity.audit(items, store, mapping=mapping, default_domain="example.org", now=now, fast=False).as_dict()
    same = same and r1 == r2
print(json.dumps({"version": cryptography.__version__, "read_fast": fast, "files": len(items), "same": same}))
"""


@pytest.mark.skipif(not os.path.exists(DEBIAN_PYTHON), reason="no Debian python3")
def test_same_results_under_debian_python_and_cryptography_38(cpki, ca, tmp_path):
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import cryptography; print(cryptography.__version__)"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("Debian python3 has no cryptography")
    certs = _base_certificates() + [build(subject=x509.Name([x509.NameAttribute(
        NameOID.COMMON_NAME, "Jürgen 山田", _ASN1Type.UTF8String)]), sans=[x509.OtherName(UPN, utf8("j@example.com"))])]
    certs += [cpki.client(ca, cn=["a", "b"], upns=["x@example.org"], dcs=["org", "example"]).cert]
    certs += [build(subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jsmith", _ASN1Type.BMPString)]))]
    paths = []
    for number, cert in enumerate(certs):
        der = der_of(cert)
        for mutation, position in enumerate((None, len(der) // 3, len(der) // 2)):
            data = bytearray(der)
            if position is not None:
                data[position] ^= 0x01
            path = tmp_path / f"c{number}-{mutation}.der"
            path.write_bytes(bytes(data))
            paths.append(str(path))
    root = Path(identity.__file__).parents[5]  # the collections root (no resolve: it may be a symlink)
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([DEBIAN_PYTHON, "-c", _DEBIAN_SCRIPT] + paths, capture_output=True, text=True, env=env,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["same"] is True
    assert report["read_fast"] >= len(certs) - 1  # all but the BMPString certificate, unmutated
    assert report["files"] == len(paths)
    assert sys.version_info >= (3, 11)


def test_where_the_rules_live_names_functions_that_exist():
    """docs/mutual_ssl.md's "Where the rules live" table (the fast reader's rows included) names
    functions that exist."""
    import importlib
    import re

    docs = Path(__file__).parents[4] / "docs" / "mutual_ssl.md"
    section = docs.read_text(encoding="utf-8").split("## Where the rules live", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(identity|identity_fast|_asn1|certs|findings|_module)\.(\w+)`", section)
    assert {"extract_fast", "_usage_problems", "read", "pem_der"} <= {name for _m, name in named}
    assert "`der_children`" in section
    for module, name in named:
        mod = importlib.import_module("ansible_collections.trustops.tableau.plugins.module_utils." + module)
        assert hasattr(mod, name), f"docs/mutual_ssl.md names {module}.{name}, which does not exist"


def test_headers_read_once_serve_the_next_certificates():
    """An RDN or UPN otherName whose header bytes and length equal those of one _asn1 has read is
    not walked again (identity_fast's shape memo); the results stay the full path's."""
    identity_fast.forget()
    first = build(sans=[x509.OtherName(UPN, utf8("user1@example.org"))],
                  subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user1")]))
    assert assert_same_identity(first)
    assert identity_fast._RDN_SHAPES and identity_fast._UPN_SHAPES  # pylint: disable=protected-access
    same_shape = build(sans=[x509.OtherName(UPN, utf8("user2@example.org"))],
                       subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user2")]))
    other_types = build(sans=[x509.OtherName(UPN, tlv(0x16, b"user3@example.org"))],
                        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user3", _ASN1Type.BMPString)]))
    wrong_type = build(sans=[x509.OtherName(UPN, tlv(0x0C, b"user4@example.org\xff"))],
                       subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user4", _ASN1Type.IA5String)]))
    for cert in (same_shape, other_types, wrong_type):
        assert_same_identity(cert)
    assert identity.extract_fast(same_shape, der_of(same_shape)).upns == ["user2@example.org"]
    assert identity.extract_fast(wrong_type, der_of(wrong_type)).upn_problems
    agree_everywhere([first, same_shape, other_types, wrong_type])
