# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""UPN otherName values in odd encodings: what identity reads, refuses, and says, pinned so that
moving identity onto the one DER reader (``_asn1``) keeps every verdict."""

from __future__ import annotations

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import identity

from identity_pki import ClientPKI, tlv, upn_other_name_der, utf8
from identity_equivalence import fast_path_agrees  # noqa: F401  pylint: disable=unused-import  # autouse: fast == full


@pytest.fixture(scope="module")
def cpki():
    return ClientPKI()


@pytest.fixture(scope="module")
def ca(cpki):
    return cpki.ca()


@pytest.mark.parametrize("value,text", [
    (b"\x0c\x06jsmith", "jsmith"),
    (b"\x0c\x81\x06jsmith", "jsmith"),  # long-form length (BER habit): the value is still readable
    (b"\x0c\x84\x00\x00\x00\x06jsmith", "jsmith"),  # a 4-byte length field, the most the reader takes
    (b"\x0c\x00", ""),  # empty: read as empty, the mapping reports an empty name
    (utf8("j\u00f6rg@example.org"), "j\u00f6rg@example.org"),
])
def test_readable_upn_values(value, text):
    assert identity.decode_upn_value(value) == (text, None)


@pytest.mark.parametrize("value,words", [
    (b"", ("truncated",)),
    (b"\x0c\x85\x00\x00\x00\x00\x06jsmith", ("length field",)),  # a 5-byte length field
    (b"\x1f\x81\x06jsmith", ("multi-byte tag 0x1f",)),
    (b"\x0c\x80jsmith\x00\x00", ("indefinite length", "BER")),
    (b"\x0c\x07jsmith", ("length 7 runs past the end by 1 byte(s)",)),
])
def test_unreadable_upn_values_are_not_valid_der(value, words):
    text, problem = identity.decode_upn_value(value)
    assert text is None and problem.startswith("is not valid DER ("), problem
    for word in words:
        assert word in problem, problem


@pytest.mark.parametrize("value,problem", [
    (b"\x2c\x08\x0c\x06jsmith", "is a tag 0x2c, not a UTF8String"),  # constructed UTF8String (BER only)
    (tlv(0x1E, "jsmith".encode("utf-16-be")), "is a BMPString, not a UTF8String"),
    (tlv(0x13, b"jsmith"), "is a PrintableString, not a UTF8String (reads 'jsmith')"),
    (utf8("jsmith") + utf8("other"), "has 7 byte(s) after the value"),
])
def test_other_encodings_say_what_they_are(value, problem):
    assert identity.decode_upn_value(value) == (None, problem)


def test_lenient_reader_reports_an_indefinite_length_san(cpki, ca):
    """A SAN SEQUENCE with an indefinite length: cryptography refuses the extension; the lenient
    reader reports it and reads no name from it."""
    inner = upn_other_name_der(utf8("jsmith@example.org")) + tlv(0x81, b"jsmith@example.org")
    raw = b"\x30\x80" + inner + b"\x00\x00"
    ident = identity.extract(cpki.client(ca, cn="jsmith", raw_san=raw).cert, "ber.pem")
    assert ident.upns == [] and ident.emails == []
    texts = [text for code, text in ident.problems]
    assert [code for code, _t in ident.problems] == ["SSL-003", "SSL-003"]
    assert texts[1].startswith("subjectAltName ") and "indefinite length" in texts[1], texts


def test_lenient_reader_reads_the_good_upn_beside_a_bad_other_name(cpki, ca):
    bad = tlv(0xA0, tlv(0x04, b"not an OID") + tlv(0xA0, utf8("x")))
    raw = tlv(0x30, bad + upn_other_name_der(b"\x0c\x0ajsmith") + upn_other_name_der(utf8("ok@example.org")))
    ident = identity.extract(cpki.client(ca, cn="jsmith", raw_san=raw).cert, "mixed.pem")
    assert ident.upns == ["ok@example.org"]
    assert "subjectAltName otherName #1: type-id is a OCTET STRING, not an OID" in [t for _c, t in ident.problems]
    assert len(ident.upn_problems) == 1 and ident.upn_problems[0].startswith("UPN otherName #1 is not valid DER (")
