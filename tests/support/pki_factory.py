# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small PKI factory that makes real certificates and keys with ``cryptography``.

No fixtures on disk: every test controls exactly what it checks (key types and sizes, digests,
validity, SANs, chains). tests/unit/conftest.py serves it as the ``pki`` and ``chain`` fixtures;
tests that need a key outside a fixture import it: ``from pki_factory import make_key``.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_KEY_CACHE = {}


def make_key(kind="rsa", size=2048, fresh=False):
    """RSA/DSA/EC keys; cached per (kind, size) to keep the suite fast unless fresh=True."""
    cache_key = (kind, size)
    if not fresh and cache_key in _KEY_CACHE:
        return _KEY_CACHE[cache_key]
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=size)
    elif kind == "dsa":
        key = dsa.generate_private_key(key_size=size)
    elif kind == "ec":
        curve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1(), 192: ec.SECP192R1()}[size]
        key = ec.generate_private_key(curve)
    else:
        raise ValueError(kind)
    if not fresh:
        _KEY_CACHE[cache_key] = key
    return key


class Issued:
    """A certificate with its private key."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    def key_pem(self, fmt="pkcs8", passphrase=None):
        formats = {"pkcs8": serialization.PrivateFormat.PKCS8,
                   "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL}
        enc = (serialization.BestAvailableEncryption(passphrase) if passphrase
               else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, formats[fmt], enc)


class PKI:
    """Factory: ``root()``, ``intermediate(root)``, ``leaf(issuer, dns=[...])``."""

    def __init__(self):
        self.now = datetime.datetime.now(datetime.timezone.utc)

    def _build(self, subject_cn, issuer, key, ca, dns=None, ips=None, days=365, start_days=-1,
               digest=None, path_length=None, eku_server=True, cn=True, extra_names=None):
        name_attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops test")]
        if cn:
            name_attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, subject_cn))
        name_attrs.extend(extra_names or [])
        subject = x509.Name(name_attrs)
        issuer_name = issuer.cert.subject if issuer else subject
        signing_key = issuer.key if issuer else key
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(issuer_name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self.now + datetime.timedelta(days=start_days))
                   .not_valid_after(self.now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
                                  critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if issuer:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True,
                              crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        elif eku_server:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False)
        alt = [x509.DNSName(d) for d in (dns or [])]
        alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in (ips or [])]
        if alt:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        if digest is None:
            digest = hashes.SHA256()
        return Issued(builder.sign(signing_key, digest), key)

    def root(self, cn="Test Root CA", key=None, **kw):
        return self._build(cn, None, key or make_key("rsa", 2048, fresh=True), True, **kw)

    def intermediate(self, issuer, cn="Test Intermediate CA", key=None, **kw):
        return self._build(cn, issuer, key or make_key("rsa", 2048, fresh=True), True, **kw)

    def leaf(self, issuer, cn="tableau.example.test", dns=("tableau.example.test",), key=None, **kw):
        return self._build(cn, issuer, key or make_key("rsa", 2048), False, dns=list(dns), **kw)

    def self_signed_leaf(self, cn="selfsigned.example.test", dns=("selfsigned.example.test",), key=None, **kw):
        return self._build(cn, None, key or make_key("rsa", 2048), False, dns=list(dns), **kw)
