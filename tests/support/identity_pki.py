# -*- coding: utf-8 -*-
"""Client-certificate factory for the mutual SSL tests: a test CA issuing certificates with
UPN otherNames (well-formed or deliberately broken), CNs (also multi-valued RDNs and non-ASCII),
rfc822Names, DC components, chosen key usages and validity.

Used by test_identity.py, test_identity_mtls.py, test_client_cert_identity.py and
test_tableau_user_name.py (the latter two add this directory to sys.path).
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1

UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
UPN_OID_DER = b"\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03"


def der_len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def utf8(text):
    return tlv(0x0C, text.encode("utf-8"))


def upn_other_name_der(value_tlv):
    """A GeneralName otherName [0] { UPN OID, [0] EXPLICIT value_tlv } as raw DER bytes."""
    return tlv(0xA0, tlv(0x06, UPN_OID_DER) + tlv(0xA0, value_tlv))


class Client:
    """A certificate with its key, in the shapes the tests need."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self):
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    @property
    def sha256(self):
        return ":".join(f"{b:02X}" for b in self.cert.fingerprint(hashes.SHA256()))


class ClientPKI:
    """One EC key for every client certificate (fast); a CA per call to ``ca()``."""

    def __init__(self):
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.client_key = ec.generate_private_key(ec.SECP256R1())
        self._serial = 1000

    def ca(self, cn="Mutual SSL Test CA"):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(self.now - datetime.timedelta(days=1))
                .not_valid_after(self.now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return Client(cert, key)

    def client(self, ca, cn=None, upns=(), upn_values=(), emails=(), dns=(), dcs=(), rdns=None, days=30,
               start_days=-1, eku=(ExtendedKeyUsageOID.CLIENT_AUTH,), key_usage=True, raw_san=None,
               organisation="trustops test"):
        """A client certificate issued by ``ca``.

        ``cn``: a string or a list (several CN RDNs); ``rdns``: a full list of RDN sets instead.
        ``upns``: UPNs as UTF8String; ``upn_values``: raw DER TLVs for the UPN value (wrong types,
        invalid UTF-8).  ``raw_san``: the subjectAltName extension value as raw bytes (malformed DER).
        ``dcs``: DC components most significant first (["org", "example"]).
        """
        if rdns is None:
            rdns = [x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, dc)]) for dc in dcs]
            if organisation:
                rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                                               organisation)]))
            for one in ([cn] if isinstance(cn, str) else list(cn or [])):
                rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, one)]))
        self._serial += 1
        builder = (x509.CertificateBuilder().subject_name(x509.Name(rdns)).issuer_name(ca.cert.subject)
                   .public_key(self.client_key.public_key()).serial_number(self._serial)
                   .not_valid_before(self.now + datetime.timedelta(days=start_days))
                   .not_valid_after(self.now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                                  critical=False))
        if key_usage:
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False), critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        names = [x509.OtherName(UPN_OID, utf8(u)) for u in upns]
        names += [x509.OtherName(UPN_OID, v) for v in upn_values]
        names += [x509.RFC822Name(e) for e in emails]
        names += [x509.DNSName(d) for d in dns]
        if raw_san is not None:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, raw_san), critical=False)
        elif names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return Client(builder.sign(ca.key, hashes.SHA256()), self.client_key)


def _elements(der):
    """Top-level (tag, whole element bytes, content bytes) of a DER SEQUENCE's content, read with
    the collection's one DER reader."""
    start, end = _asn1.whole(der)
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend = _asn1.tlv(der, pos, end)
        out.append((tag, der[pos:cend], der[cstart:cend]))
        pos = cend
    return out


def with_extra_extension(cert, ca_key, oid_der, value_der):
    """The certificate with one more extension appended (even a duplicate, which builders refuse),
    re-signed by the (EC) CA key: a structurally valid certificate a strict parser rejects."""
    from cryptography.hazmat.primitives.asymmetric import ec as _ec

    cert_der = cert.public_bytes(serialization.Encoding.DER)
    top = _elements(cert_der)  # tbsCertificate, signatureAlgorithm, signatureValue
    tbs_parts = _elements(top[0][1])
    rebuilt = b""
    for tag, whole, content in tbs_parts:
        if tag == 0xA3:
            exts = _elements(content)
            extra = tlv(0x30, tlv(0x06, oid_der) + tlv(0x04, value_der))
            whole = tlv(0xA3, tlv(0x30, b"".join(e[1] for e in exts) + extra))
        rebuilt += whole
    tbs = tlv(0x30, rebuilt)
    signature = ca_key.sign(tbs, _ec.ECDSA(hashes.SHA256()))
    der = tlv(0x30, tbs + top[1][1] + tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def ed25519_root(cn="Ed25519 Root"):
    """PEM of a self-signed CA with an Ed25519 key: a trust anchor the shared policy only warns about
    (ANCHOR-007)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, None))
    return cert.public_bytes(serialization.Encoding.PEM)
