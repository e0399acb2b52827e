# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one DER reader, against DER written by cryptography and read back by openssl asn1parse."""

from __future__ import annotations

import datetime
import itertools
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings, strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1


def _cert():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"asn1.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_walks_a_certificate_like_openssl(tmp_path):
    der = _cert()
    path = tmp_path / "c.der"
    path.write_bytes(der)
    out = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in", str(path)],
                         check=True, capture_output=True, text=True).stdout
    # openssl's depth-1 elements: tbsCertificate, signatureAlgorithm, signature
    top = [line for line in out.splitlines() if re.search(r"\bd=1\b", line)]
    start, end = _asn1.whole(der, what="certificate")
    kids = _asn1.children(der, start, end)
    assert [t for t, _s, _e in kids] == [0x30, 0x30, 0x03]
    assert len(top) == 3
    # every offset openssl prints for depth 1 is where our elements start (header included)
    offsets = [int(line.split(":")[0]) for line in top]
    pos = start
    for (tag, _s, e), off in zip(kids, offsets, strict=True):
        assert pos == off
        assert _asn1.tlv(der, pos)[0] == tag
        pos = e
    assert pos == end == len(der)


def test_oid_text_matches_openssl_for_real_oids():
    der = _cert()
    start, end = _asn1.whole(der)
    _t, s, e = _asn1.children(der, start, end)[1]  # signatureAlgorithm
    oid_s, oid_e = _asn1.expect(der, s, _asn1.OID, e)
    assert _asn1.oid_text(der[oid_s:oid_e]) == "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
    assert _asn1.oid_text(bytes.fromhex("2a864886f70d010701")) == "1.2.840.113549.1.7.1"


@pytest.mark.parametrize("data, problem", [
    (b"\x30", "truncated"),
    (b"\x30\x80\x00\x00", "indefinite"),
    (b"\x30\x85\x00\x00\x00\x00\x01\x00", "length field"),
    (b"\x30\x03\x02\x01", "runs past the end"),
    (b"\x1f\x01\x00", "multi-byte tag"),
])
def test_malformed_der_is_refused_with_the_reason(data, problem):
    with pytest.raises(_asn1.DerError, match=problem):
        _asn1.tlv(data)


def test_child_may_not_overrun_its_container():
    data = b"\x30\x03\x04\x05abc" + b"xx"
    s, e = _asn1.expect(data, 0, 0x30)
    with pytest.raises(_asn1.DerError):
        _asn1.children(data, s, e)


def test_expect_and_whole_name_what_was_wrong():
    with pytest.raises(_asn1.DerError, match="PKCS#7: expected tag 0x30, found 0x04"):
        _asn1.expect(b"\x04\x00", 0, 0x30, what="PKCS#7")
    with pytest.raises(_asn1.DerError, match="1 trailing byte"):
        _asn1.whole(b"\x30\x00\x00")


def test_der_error_is_a_value_error():
    assert issubclass(_asn1.DerError, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_never_anything_but_der_error_on_random_bytes(data):
    try:
        tag, s, e = _asn1.tlv(data)
    except _asn1.DerError:
        return
    assert 0 <= s <= e <= len(data)
    assert tag == data[0]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([0x04, 0x30, 0x0C]))
def test_round_trip_of_lengths(content, tag):
    if len(content) < 0x80:
        header = bytes([tag, len(content)])
    elif len(content) < 0x100:
        header = bytes([tag, 0x81, len(content)])
    else:
        header = bytes([tag, 0x82]) + len(content).to_bytes(2, "big")
    data = header + content
    assert _asn1.tlv(data) == (tag, len(header), len(data))
    assert _asn1.context(0) == 0xA0 and _asn1.context(2, constructed=False) == 0x82


@pytest.mark.parametrize("data, expected", [
    (b"\x30\x03\x02\x01\x01", True),
    (bytearray(b"\x30\x00"), True),
    (b"-----BEGIN CERTIFICATE-----", False),
    (b"", False),
    ("0abc", False),
    (None, False),
])
def test_starts_sequence_tells_der_from_text(data, expected):
    assert _asn1.starts_sequence(data) is expected


def _ca_cert():
    """A CA certificate: its critical BasicConstraints extension carries DER BOOLEANs."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "asn1 CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(9).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def _asn1parse(tmp_path, der):
    """openssl's reading of ``der``: (offset, depth, header length, content length, tag name) per element."""
    path = tmp_path / "x.der"
    path.write_bytes(der)
    out = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in", str(path)],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*(\d+):d=\s*(\d+)\s+hl=\s*(\d+)\s+l=\s*(\d+)\s+(?:prim|cons):\s*(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), int(m[3]), int(m[4]), m[5]))
    return rows


def test_elements_give_element_and_content_offsets_like_openssl(tmp_path):
    der = _ca_cert()
    rows = _asn1parse(tmp_path, der)
    by_offset = {row[0]: row for row in rows}
    start, end = _asn1.whole(der, what="certificate")
    seen = 0

    def walk(s, e, depth):
        nonlocal seen
        for tag, pos, c_start, c_end in _asn1.elements(der, s, e):
            offset, d, hl, length, _name = by_offset[pos]  # openssl saw an element exactly here
            assert (d, c_start, c_end) == (depth, pos + hl, pos + hl + length)
            assert der[pos] == tag
            seen += 1
            if tag & 0x20:  # constructed: walk inside, as openssl does
                walk(c_start, c_end, depth + 1)

    walk(start, end, 1)
    # every element openssl lists below the top one, each met once (OCTET STRING contents aside)
    assert seen == len([r for r in rows if r[1] >= 1]) > 20


def test_elements_is_what_children_reads():
    der = _cert()
    start, end = _asn1.whole(der)
    items = list(_asn1.elements(der, start, end))
    assert [(t, s, e) for t, _p, s, e in items] == _asn1.children(der, start, end)
    assert items[0][1] == start and items[-1][3] == end
    # consecutive: each element starts where the one before it ends
    assert all(a[3] == b[1] for a, b in itertools.pairwise(items))


def test_elements_yields_the_good_elements_before_the_bad_one():
    data = b"\x02\x01\x05" + b"\x04\x02ab" + b"\x04\x05ab"  # INTEGER 5, OCTET STRING 'ab', overrun
    walker = _asn1.elements(data, 0, len(data))
    assert next(walker) == (_asn1.INTEGER, 0, 2, 3)
    assert next(walker) == (_asn1.OCTET_STRING, 3, 5, 7)
    with pytest.raises(_asn1.DerError, match="runs past the end"):
        next(walker)
    assert list(_asn1.elements(data, 3, 3)) == []  # an empty range holds no element


def test_elements_refuse_ber_like_the_rest():
    data = b"\x30\x80\x02\x01\x01\x00\x00"
    with pytest.raises(_asn1.DerError, match="indefinite"):
        list(_asn1.elements(data, 0, len(data)))


def test_boolean_is_the_tag_openssl_names_boolean(tmp_path):
    der = _ca_cert()
    booleans = [row for row in _asn1parse(tmp_path, der) if row[4] == "BOOLEAN"]
    assert len(booleans) == 1  # critical=TRUE (cA=TRUE is inside the extension's OCTET STRING)
    for offset, _d, hl, length, _name in booleans:
        assert der[offset] == _asn1.BOOLEAN == 0x01
        assert (hl, length) == (2, 1) and der[offset + hl] == 0xFF  # DER TRUE
