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

from collections.abc import Iterator


class DerError(ValueError):
    """The bytes are not well-formed DER (truncated, BER, overrunning length)."""


#: Universal tags used by the readers of this collection.
SEQUENCE = 0x30
SET = 0x31
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C


def starts_sequence(data: object) -> bool:
    """True when ``data`` is bytes that begin like DER of a certificate, key, CRL or CMS blob (a
    SEQUENCE tag): the one sniff between PEM text and DER bytes; :func:`whole` then decides."""
    return isinstance(data, (bytes, bytearray)) and data[:1] == b"\x30"


def context(number: int, constructed: bool = True) -> int:
    """The tag byte of ``[number]`` (context-specific), constructed (EXPLICIT / SEQUENCE-like) or not."""
    return 0x80 | (0x20 if constructed else 0) | number


def tlv(data: bytes, pos: int = 0, end: int | None = None) -> tuple[int, int, int]:
    """``(tag, content_start, content_end)`` of the DER element that starts at ``pos``.

    ``end`` bounds the element (default: the end of ``data``); the element must lie inside it.
    """
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise DerError(f"truncated: {max(end - pos, 0)} byte(s) left, a DER element needs at least 2")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError(f"multi-byte tag 0x{tag:02x} at offset {pos} (not used by X.509/PKCS/CMS)")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise DerError(f"indefinite length at offset {pos - 2} (BER, not DER)")
        if count > 4 or pos + count > end:
            raise DerError(f"length field at offset {pos - 2} runs past the end")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise DerError(f"element at offset {pos}: length {length} runs past the end by "
                       f"{pos + length - end} byte(s)")
    return tag, pos, pos + length


def elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """``(tag, element_start, content_start, end)`` of every element directly inside
    ``data[start:end]``, in order, where ``element_start`` is where the element's tag byte is (a
    reader that needs an element's whole encoding, such as a Name or CMS signedAttrs, slices
    ``data[element_start:end]``) and ``end`` is where its content (and so the element) ends.

    A generator: each element is checked (strict DER, inside ``end``) when it is reached, so a
    malformed element raises :class:`DerError` only after the well-formed ones before it.
    """
    pos = start
    while pos < end:
        tag, content_start, content_end = tlv(data, pos, end)
        yield tag, pos, content_start, content_end
        pos = content_end


def children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """Every ``(tag, content_start, content_end)`` directly inside ``data[start:end]``, in order."""
    return [(tag, s, e) for tag, _pos, s, e in elements(data, start, end)]


def expect(data: bytes, pos: int, tag: int, end: int | None = None,
           what: str | None = None) -> tuple[int, int]:
    """``(content_start, content_end)`` of the element at ``pos``, which must have ``tag``."""
    found, s, e = tlv(data, pos, end)
    if found != tag:
        raise DerError(f"{what or 'DER'}: expected tag 0x{tag:02x}, found 0x{found:02x} at offset {pos}")
    return s, e


def whole(data: bytes, tag: int = SEQUENCE, what: str | None = None) -> tuple[int, int]:
    """``(content_start, content_end)`` of ``data`` when it is exactly one element with ``tag``."""
    s, e = expect(data, 0, tag, what=what)
    if e != len(data):
        raise DerError(f"{what or 'DER'}: {len(data) - e} trailing byte(s) after the element")
    return s, e


def oid_text(content: bytes) -> str:
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


def der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """:func:`children` for readers that must refuse what a strict DER parser refuses: every
    ``(tag, content_start, content_end)`` directly inside ``data[start:end]``, where each length
    must also be in its shortest form (the long form only from 128 on, no leading zero byte).

    One call per container, the header of each element read in one loop (the fast reader of
    client certificates walks tens of thousands of them); raises :class:`DerError` for anything
    :func:`tlv` refuses and for a length that is not minimal.
    """
    if end > len(data):
        raise DerError(f"container ends at {end}, past the {len(data)} bytes of data")
    out: list[tuple[int, int, int]] = []
    append = out.append
    pos = start
    while pos < end:
        if pos + 2 > end:
            raise DerError(f"truncated: {end - pos} byte(s) left, a DER element needs at least 2")
        tag = data[pos]
        length = data[pos + 1]
        if tag & 0x1F == 0x1F:
            raise DerError(f"multi-byte tag 0x{tag:02x} at offset {pos} (not used by X.509/PKCS/CMS)")
        if length < 0x80:
            pos += 2
        elif length == 0x81:
            if pos + 3 > end or data[pos + 2] < 0x80:
                raise DerError(f"length at offset {pos} is not in its shortest form or runs past the end")
            length = data[pos + 2]
            pos += 3
        elif length == 0x82:
            if pos + 4 > end or data[pos + 2] == 0:
                raise DerError(f"length at offset {pos} is not in its shortest form or runs past the end")
            length = (data[pos + 2] << 8) | data[pos + 3]
            pos += 4
        else:
            count = length & 0x7F
            if count == 0:
                raise DerError(f"indefinite length at offset {pos} (BER, not DER)")
            if count > 4 or pos + 2 + count > end:
                raise DerError(f"length field at offset {pos} runs past the end")
            length = int.from_bytes(data[pos + 2:pos + 2 + count], "big")
            if length >> (8 * (count - 1)) == 0:
                raise DerError(f"length at offset {pos} is not in its shortest form (BER, not DER)")
            pos += 2 + count
        if pos + length > end:
            raise DerError(f"element at offset {pos}: length {length} runs past the end by "
                           f"{pos + length - end} byte(s)")
        append((tag, pos, pos + length))
        pos += length
    return out
