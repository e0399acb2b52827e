# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests: the certificate core never lets a stray exception escape on bad input.

For arbitrary bytes, arbitrary text and mutated valid PEM/DER/PKCS#7/key material,
``load_certificates`` and ``inspect_private_key`` either return a result or raise
``CertificateError`` whose message names the source.  Whatever they return must survive the
fact functions (``describe``, ``match_hostname``, ``order_chain``, ...) with at most a
``CertificateError``.  Regressions that hypothesis found are kept as explicit ``@example``s.
"""

from __future__ import annotations

import textwrap

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError

SRC = "src-7f3a.pem"
SETTINGS = dict(deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

LABELS = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "PKCS7", "CMS",
          "PKCS #7 SIGNED DATA", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY",
          "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PUBLIC KEY",
          "CERTIFICATE REQUEST", "X509 CRL", "PGP MESSAGE", "A", "CERT IFICATE"]


def _samples(pki):
    root = pki.root(cn="Prop Root")
    inter = pki.intermediate(root, cn="Prop Inter")
    leaf = pki.leaf(inter, dns=("prop.example.test", "*.prop.example.test"), ips=("10.0.0.1",))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    dsa_key = dsa.generate_private_key(key_size=2048)
    enc = serialization.BestAvailableEncryption(b"secret")
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    pk8, trad = serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL
    none = serialization.NoEncryption()
    return {
        "leaf_pem": leaf.pem,
        "bundle_pem": leaf.pem + inter.pem + root.pem,
        "leaf_der": leaf.der,
        "root_der": root.der,
        "p7_pem": pkcs7.serialize_certificates([leaf.cert, inter.cert], pem),
        "p7_der": pkcs7.serialize_certificates([leaf.cert, inter.cert], der),
        "rsa_pkcs1": leaf.key.private_bytes(pem, trad, none),
        "rsa_pkcs8": leaf.key.private_bytes(pem, pk8, none),
        "rsa_pkcs8_enc": leaf.key.private_bytes(pem, pk8, enc),
        "rsa_pkcs1_enc": leaf.key.private_bytes(pem, trad, enc),
        "rsa_der": leaf.key.private_bytes(der, trad, none),
        "rsa_der8_enc": leaf.key.private_bytes(der, pk8, enc),
        "ec_sec1": ec_key.private_bytes(pem, trad, none),
        "ec_der": ec_key.private_bytes(der, pk8, none),
        "dsa_pem": dsa_key.private_bytes(pem, trad, none),
        "cert_and_key": leaf.pem + leaf.key.private_bytes(pem, pk8, none),
        "ed25519_openssh": ed25519.Ed25519PrivateKey.generate().private_bytes(
            pem, serialization.PrivateFormat.OpenSSH, none),
    }


class _Samples(dict):
    """The sample material; a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self):
        return "<samples>"


@pytest.fixture(scope="module")
def samples(pki):
    return _Samples(_samples(pki))


def _exercise_cert(cert):
    """Every fact function on a loaded certificate: a result or a CertificateError."""
    for func in (certs.describe, certs.is_ca, certs.is_self_signed, certs.signature_hash,
                 certs.san_names, certs.common_names, certs.thumbprint, certs.to_pem,
                 lambda c: certs.match_hostname(c, "prop.example.test"),
                 lambda c: certs.match_hostname(c, "10.0.0.1"),
                 lambda c: certs.order_chain([c, c]),
                 lambda c: certs.build_chain(c, [c], [c])):
        try:
            func(cert)
        except CertificateError:
            pass


def _check(data, passphrase=None):
    """The property: a result, or CertificateError naming the source; nothing else."""
    try:
        loaded = certs.load_certificates(data, source=SRC)
    except CertificateError as exc:
        assert SRC in str(exc), str(exc)
    else:
        assert loaded and all(hasattr(c, "fingerprint") for c in loaded)
        for cert in loaded:
            _exercise_cert(cert)
    try:
        info = certs.inspect_private_key(data, passphrase=passphrase, source=SRC)
    except CertificateError as exc:
        assert SRC in str(exc), str(exc)
    else:
        assert info.format in ("pkcs1", "pkcs8", "sec1", "openssh")
        info.as_dict()


# --------------------------------------------------------------------------- arbitrary input

@settings(max_examples=300, **SETTINGS)
@given(st.binary(max_size=3000))
@example(b"\x30")
@example(b"\x30\x80")
@example(b"\x30\x84\xff\xff\xff\xff")
@example(b"\x30\x03\x02\x01\x03\x30\x00")  # PKCS#12-shaped (version 3)
@example(b"\xff\xfe")  # a UTF-16 byte order mark and nothing else
@example(b"\xff\xfe-\x00-\x00")
@example(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----")
@example(b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----")
@example(b"-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----")
@example(b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n-----END RSA PRIVATE KEY-----")
def test_arbitrary_bytes(data):
    _check(data)
    _check(data, passphrase=b"secret")


_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)


@settings(max_examples=200, **SETTINGS)
@given(st.lists(st.one_of(st.text(max_size=40), _SURROGATE,
                          st.sampled_from(["-----BEGIN ", "-----END ", "-----\n", "\r\n", "MII"])),
                max_size=40).map("".join))
@example("abc\udcff")  # a lone surrogate: str.encode('utf-8') raised UnicodeEncodeError
@example("\ud800")
def test_arbitrary_text(text):
    _check(text)
    _check(text, passphrase="secret")


def test_wrong_types_name_the_source():
    for value in (None, 12, 1.5, ["a"], {"a": 1}, object()):
        with pytest.raises(CertificateError, match=SRC):
            certs.load_certificates(value, source=SRC)
        with pytest.raises(CertificateError, match=SRC):
            certs.inspect_private_key(value, source=SRC)


# --------------------------------------------------------------------------- mutated input

NAMES = sorted(["leaf_pem", "bundle_pem", "leaf_der", "root_der", "p7_pem", "p7_der", "rsa_pkcs1",
                "rsa_pkcs8", "rsa_pkcs8_enc", "rsa_pkcs1_enc", "rsa_der", "rsa_der8_enc", "ec_sec1",
                "ec_der", "dsa_pem", "cert_and_key", "ed25519_openssh"])


# Flips are placed relative to DER landmarks, so that found regressions stay reproducible
# whatever random serial numbers and keys the samples got.
ANCHORS = {
    "start": b"",
    "rsa-key-oid": b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01",  # SPKI rsaEncryption
    "sig-oid": b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b",  # sha256WithRSAEncryption
    "cn": b"\x06\x03\x55\x04\x03",  # the first commonName (the issuer's)
    "basic-constraints": b"\x06\x03\x55\x1d\x13",
    "san": b"\x06\x03\x55\x1d\x11",
    "validity": b"\x17\x0d",  # UTCTime
}


@settings(max_examples=400, **SETTINGS)
@given(name=st.sampled_from(NAMES),
       flips=st.lists(st.tuples(st.sampled_from(sorted(ANCHORS)), st.integers(0, 1 << 16), st.integers(1, 255)),
                      min_size=1, max_size=4),
       passphrase=st.sampled_from([None, b"secret", b"wrong"]))
# found by hypothesis: an unknown SPKI algorithm made describe()/key_matches_cert() raise
# UnsupportedAlgorithm (cryptography 50) / ValueError
@example(name="leaf_der", flips=[("rsa-key-oid", 10, 0x70)], passphrase=None)
# found by the same search: an issuer CN tagged INTEGER loads, then subject/issuer access
# raised ValueError (cryptography 50) or KeyError (38) from is_self_signed/describe/order_chain
@example(name="leaf_der", flips=[("cn", 5, 0x0E)], passphrase=None)
@example(name="bundle_pem", flips=[("start", 3, 0x01)], passphrase=None)
def test_byte_flips(samples, name, flips, passphrase):
    data = bytearray(samples[name])
    for anchor, offset, xor in flips:
        base = max(bytes(data).find(ANCHORS[anchor]), 0)
        data[(base + offset) % len(data)] ^= xor
    _check(bytes(data), passphrase)


@settings(max_examples=200, **SETTINGS)
@given(name=st.sampled_from(NAMES), cut=st.floats(0, 1), from_start=st.booleans())
def test_truncation(samples, name, cut, from_start):
    data = samples[name]
    n = int(len(data) * cut)
    _check(data[n:] if from_start else data[:n], b"secret")


@settings(max_examples=300, **SETTINGS)
@given(name=st.sampled_from([n for n in NAMES if "der" not in n]),
       edits=st.lists(st.tuples(st.integers(0, 200),
                                st.sampled_from(["insert", "delete", "dup", "label", "indent", "crlf", "cr"]),
                                st.one_of(st.sampled_from(LABELS), st.text(max_size=30))),
                      min_size=1, max_size=5),
       passphrase=st.sampled_from([None, b"secret"]))
def test_line_edits(samples, name, edits, passphrase):
    lines = samples[name].decode("ascii").split("\n")
    for pos, op, arg in edits:
        i = pos % (len(lines) + 1)
        if op == "insert":
            lines.insert(i, arg)
        elif op == "delete" and lines:
            del lines[i % len(lines)]
        elif op == "dup" and lines:
            lines.insert(i, lines[i % len(lines)])
        elif op == "label" and lines:
            j = i % len(lines)
            if lines[j].startswith("-----"):
                word = "BEGIN" if "BEGIN" in lines[j] else "END"
                lines[j] = f"-----{word} {arg}-----"
        elif op == "indent":
            lines = textwrap.indent("\n".join(lines), arg[:4] if not arg.strip() else "  ").split("\n")
        elif op == "crlf":
            lines = [line + "\r" for line in lines]
        elif op == "cr":
            lines = ["\r".join(lines)]
    _check("\n".join(lines), passphrase)


@settings(max_examples=150, **SETTINGS)
@given(name=st.sampled_from(NAMES), junk=st.binary(min_size=1, max_size=64), where=st.floats(0, 1))
def test_inserted_junk_bytes(samples, name, junk, where):
    data = samples[name]
    i = int(len(data) * where)
    _check(data[:i] + junk + data[i:], b"secret")


# --------------------------------------------------------------------------- sanity of the inputs

def test_unmutated_samples_load(samples):
    """The property tests start from material that really loads (else they test nothing)."""
    for name in NAMES:
        data = samples[name]
        if "rsa" in name or "ec_" in name or "dsa" in name or "openssh" in name:
            info = certs.inspect_private_key(data, passphrase=b"secret", source=name)
            assert info.key is not None, name
        else:
            assert certs.load_certificates(data, source=name), name
