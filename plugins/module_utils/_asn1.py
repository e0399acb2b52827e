# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one DER (TLV) reader of the collection, for what ``cryptography`` does not expose.

``cryptography`` parses certificates, keys, CRLs and CMS; a few facts still need the raw
structure: the file order of a PKCS#7 bundle's certificates, whether a DER blob is a PKCS#8
EncryptedPrivateKeyInfo or a PKCS#12 file, the PBES2 parameters of an encrypted key, the raw
otherName values of a SubjectAltName, a CMS SignedData's signer.  Every such reader walks the
bytes with the functions below and nothing else, so that "what is a DER element" has one answer.

Strict DER on purpose: one-byte tags only (X.509, PKCS and CMS use no high tag numbers), no
indefinite length (that is BER), a length field of at most 4 bytes, and no element that runs
past its container.  Anything else raises :class:`DerError` (a ``ValueError``), and callers turn
it into their own message ("not a PKCS#7 bundle", ...).

Pure Python, no Ansible imports, no third-party imports.
"""

from __future__ import annotations


class DerError(ValueError):
    """The bytes are not well-formed DER (truncated, BER, overrunning length)."""


#: Universal tags used by the readers of this collection.
SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C


def starts_sequence(data) -> bool:
    """True when ``data`` is bytes that begin like DER of a certificate, key, CRL or CMS blob (a
    SEQUENCE tag): the one sniff between PEM text and DER bytes; :func:`whole` then decides."""
    return isinstance(data, (bytes, bytearray)) and data[:1] == b"\x30"


def context(number, constructed=True):
    """The tag byte of ``[number]`` (context-specific), constructed (EXPLICIT / SEQUENCE-like) or not."""
    return 0x80 | (0x20 if constructed else 0) | number


def tlv(data, pos=0, end=None):
    """``(tag, content_start, content_end)`` of the DER element that starts at ``pos``.

    ``end`` bounds the element (default: the end of ``data``); the element must lie inside it.
    """
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise DerError("truncated: %d byte(s) left, a DER element needs at least 2" % max(end - pos, 0))
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tag 0x%02x at offset %d (not used by X.509/PKCS/CMS)" % (tag, pos))
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise DerError("indefinite length at offset %d (BER, not DER)" % (pos - 2))
        if count > 4 or pos + count > end:
            raise DerError("length field at offset %d runs past the end" % (pos - 2))
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise DerError("element at offset %d: length %d runs past the end by %d byte(s)" % (
            pos, length, pos + length - end))
    return tag, pos, pos + length


def children(data, start, end):
    """Every ``(tag, content_start, content_end)`` directly inside ``data[start:end]``, in order."""
    out = []
    pos = start
    while pos < end:
        tag, s, e = tlv(data, pos, end)
        out.append((tag, s, e))
        pos = e
    return out


def expect(data, pos, tag, end=None, what=None):
    """``(content_start, content_end)`` of the element at ``pos``, which must have ``tag``."""
    found, s, e = tlv(data, pos, end)
    if found != tag:
        raise DerError("%s: expected tag 0x%02x, found 0x%02x at offset %d" % (what or "DER", tag, found, pos))
    return s, e


def whole(data, tag=SEQUENCE, what=None):
    """``(content_start, content_end)`` of ``data`` when it is exactly one element with ``tag``."""
    s, e = expect(data, 0, tag, what=what)
    if e != len(data):
        raise DerError("%s: %d trailing byte(s) after the element" % (what or "DER", len(data) - e))
    return s, e


def oid_text(content):
    """The dotted text of an OBJECT IDENTIFIER's content bytes (``2a864886f70d010701`` -> ``1.2.840.113549.1.7.1``)."""
    if not content:
        raise DerError("empty OBJECT IDENTIFIER")
    arcs = []
    value = 0
    for i, byte in enumerate(content):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
        elif i == len(content) - 1:
            raise DerError("OBJECT IDENTIFIER ends inside an arc")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])
