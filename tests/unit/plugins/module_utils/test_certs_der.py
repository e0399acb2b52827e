# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdicts of certs that rest on reading DER by structure (PKCS#7 file order, PKCS#12 and
key-format detection, BER vs DER), pinned on files made by the real ``openssl`` so that moving
certs onto the one DER reader (``_asn1``) changes none of them.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1, certs
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError

OPENSSL = shutil.which("openssl")


def openssl(*args):
    assert OPENSSL, "the openssl command makes the files of these tests; install it"
    proc = subprocess.run([OPENSSL] + [str(a) for a in args], capture_output=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("openssl {} failed: {}".format(" ".join(map(str, args)), proc.stderr.decode()))
    return proc.stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("der")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "a.key", "-subj", "/CN=A", "-days", "3",
            "-out", d / "a.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d / "b.key",
            "-subj", "/CN=B", "-days", "3", "-out", d / "b.pem")
    (d / "ab.pem").write_bytes((d / "a.pem").read_bytes() + (d / "b.pem").read_bytes())
    openssl("crl2pkcs7", "-nocrl", "-certfile", d / "ab.pem", "-outform", "DER", "-out", d / "ab.p7b")
    openssl("pkcs12", "-export", "-in", d / "a.pem", "-inkey", d / "a.key", "-passout", "pass:x", "-out", d / "a.p12")
    openssl("pkcs8", "-topk8", "-in", d / "a.key", "-outform", "DER", "-passout", "pass:x", "-out", d / "a.p8e")
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", d / "b.key", "-outform", "DER", "-out", d / "b.p8")
    openssl("ec", "-in", d / "b.key", "-outform", "DER", "-out", d / "b.sec1")
    openssl("rsa", "-in", d / "a.key", "-traditional", "-outform", "DER", "-out", d / "a.pkcs1")
    return {name: (d / name).read_bytes() for name in ("ab.p7b", "a.p12", "a.p8e", "b.p8", "b.sec1", "a.pkcs1")}


def cns(certificates):
    return [c.subject.rfc4514_string() for c in certificates]


def ber(der):
    """The same element with an indefinite length (BER), as some Java and Windows tools write."""
    _tag, start, end = _asn1.tlv(der, 0)
    return der[:1] + b"\x80" + der[start:end] + b"\x00\x00"


# =========================================================================== PKCS#7

def test_pkcs7_der_is_read_in_file_order_by_our_reader(made):
    der = made["ab.p7b"]
    assert cns(certs._pkcs7_der_certificates(der)) == ["CN=A", "CN=B"]
    assert cns(certs.load_certificates(der)) == ["CN=A", "CN=B"]


def test_pkcs7_indefinite_length_is_not_ours_and_cryptography_reads_it(made):
    indefinite = ber(made["ab.p7b"])
    assert certs._pkcs7_der_certificates(indefinite) is None
    assert sorted(cns(certs.load_certificates(indefinite))) == ["CN=A", "CN=B"]


@pytest.mark.parametrize("cut", ["ber-truncated", "ber-without-end-of-contents", "der-truncated"])
def test_pkcs7_cut_off_is_refused_the_same_way(made, cut):
    data = {"ber-truncated": ber(made["ab.p7b"])[:-40], "ber-without-end-of-contents": ber(made["ab.p7b"])[:-2],
            "der-truncated": made["ab.p7b"][:-10]}[cut]
    assert certs._pkcs7_der_certificates(data) is None
    with pytest.raises(CertificateError, match=r"^x\.p7b: not PEM or DER: DER data is neither an X\.509 certificate nor PKCS#7$"):
        certs.load_certificates(data, "x.p7b")


def test_pkcs7_with_trailing_bytes_is_left_to_cryptography(made):
    data = made["ab.p7b"] + b"\x00"
    assert certs._pkcs7_der_certificates(data) is None
    assert sorted(cns(certs.load_certificates(data))) == ["CN=A", "CN=B"]


# =========================================================================== PKCS#12 and key formats

@pytest.mark.parametrize("name,shape", [("a.p12", "pkcs12"), ("a.p8e", "pkcs8-encrypted"), ("b.p8", "pkcs8"),
                                        ("b.sec1", "sec1"), ("a.pkcs1", "pkcs1")])
def test_der_shapes(made, name, shape):
    assert certs._der_key_format(made[name]) == shape
    assert certs._looks_like_pkcs12(made[name]) == (shape == "pkcs12")


def test_pkcs12_detection_ber_trailing_and_truncated(made):
    p12 = made["a.p12"]
    assert certs._looks_like_pkcs12(ber(p12))
    assert certs._looks_like_pkcs12(p12 + b"\x00")  # the PFX header is what counts
    with pytest.raises(CertificateError, match=r"is a PKCS#12 archive.*-nocerts"):
        certs.inspect_private_key(p12 + b"\x00", source="x")
    assert not certs._looks_like_pkcs12(p12[:200])
    with pytest.raises(CertificateError, match=r"^x: not a PEM or DER private key$"):
        certs.inspect_private_key(p12[:200], source="x")


def test_der_key_with_trailing_bytes_is_not_a_key(made):
    assert certs._der_key_format(made["a.p8e"] + b"\x00") is None
    with pytest.raises(CertificateError, match=r"^x: not a PEM or DER private key$"):
        certs.inspect_private_key(made["a.p8e"] + b"\x00", source="x")
    info = certs.inspect_private_key(made["a.p8e"], source="x")
    assert (info.format, info.encrypted) == ("pkcs8", True)


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x80", b"\x30\x85\x00\x00\x00\x00\x01\x00", b"\x3f\x81\x02\x00\x00",
                                  b"\x30\x03\x02\x01", b"\x30\x06\x02\x01\x00\x30\x09\x00"])
def test_malformed_der_is_no_shape_and_no_crash(data):
    assert certs._der_key_format(data) is None
    assert certs._pkcs7_der_certificates(data) is None


# =========================================================================== subject text (the one helper)

def test_subject_text_is_what_openssl_prints_in_rfc2253(tmp_path):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            tmp_path / "k.pem", "-subj", "/C=DE/O=Example, Inc./CN=J\u00fcrgen", "-utf8", "-days", "3",
            "-out", tmp_path / "c.pem")
    cert = certs.load_certificate((tmp_path / "c.pem").read_bytes())
    referee = openssl("x509", "-in", tmp_path / "c.pem", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb")
    assert "subject=" + certs.subject_text(cert) == referee.decode("utf-8").strip()
    assert certs._label(cert) == certs.subject_text(cert)


def test_issuer_text_of_a_certificate_and_a_crl_is_what_openssl_prints(pki, tmp_path):
    root = pki.root(cn="Issuer \u00c4 Root")
    leaf = pki.leaf(root, cn="issued.example.test")
    (tmp_path / "leaf.pem").write_bytes(leaf.pem)
    referee = openssl("x509", "-in", tmp_path / "leaf.pem", "-noout", "-issuer", "-nameopt", "RFC2253,-esc_msb")
    assert "issuer=" + certs.issuer_text(leaf.cert) == referee.decode("utf-8").strip()
    assert certs.issuer_text(leaf.cert) == certs.subject_text(root.cert) != certs.subject_text(leaf.cert)
    now = datetime.datetime.now(datetime.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.cert.subject).last_update(now)
           .next_update(now + datetime.timedelta(days=1)).sign(root.key, hashes.SHA256()))
    assert certs.issuer_text(crl) == certs.subject_text(root.cert)


def test_pkcs7_holding_a_certificate_of_an_unknown_version_is_a_clear_error(made):
    """A certificate whose version field says 4 (v3 is 2) makes cryptography raise InvalidVersion,
    which is no ValueError: the PKCS#7 reader refuses it with a CertificateError all the same (found
    by test_certs_properties.test_byte_flips), and so does the CMS reader of signed profiles."""
    from ansible_collections.trustops.tableau.plugins.module_utils.mobile import cms  # pylint: disable=import-outside-toplevel

    data = bytearray(made["ab.p7b"])
    version = data.find(bytes.fromhex("a003020102"))
    assert version > 0
    data[version + 4] = 3
    with pytest.raises(CertificateError, match="ab.p7b"):
        certs.load_certificates(bytes(data), "ab.p7b")
    signed = cms.read_signed(bytes(data))
    assert signed.valid is not True and signed.problem
