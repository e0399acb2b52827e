# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast reader of client certificates for the mutual SSL audit: names, serial, SAN and the
key-usage facts read from the DER with the collection's one DER layer (``_asn1``).

:mod:`identity` reads a certificate with ``cryptography`` objects (subject and issuer ``Name``
objects, ``cert.extensions``), which costs more than loading it; an audit of a whole fleet reads
tens of thousands.  :func:`read` gives the same fields from the bytes, and **only** for the
certificates it fully recognises; it returns ``None`` for anything else, and :mod:`identity`
then reads that certificate the full way.  (The dates are not read here: ``cryptography`` gives
them for less than Python spends reading them, through ``certs.not_before``/``not_after``.)  It changes how fields are read, never a rule: the
mapping rules, the SSL-NNN findings and the texts of the problems stay in :mod:`identity`.

What it recognises (anything else is ``None``, the full path):

* the certificate was loaded by ``cryptography`` first (the caller's job): the structure up to
  the extension values and the dates is already checked by a strict parser;
* the serial number: a positive INTEGER;
* the subject: single-valued RDNs whose attribute type is one of :data:`NAME_ATTRIBUTES` and
  whose value is a UTF8String, PrintableString or IA5String that needs no RFC 4514 escaping and
  has no control or other non-printing character (the text is then the same on every
  ``cryptography`` version); RDNs other than CN are remembered by their bytes (``O=...`` repeats);
* the extensions, each OID once (a duplicate is ``cryptography``'s error, so the full path's):

  - subjectAltName, parsed here as strictly as a DER parser: otherName with the UPN type
    (1.3.6.1.4.1.311.20.2.3) holding exactly one element, rfc822Name, dNSName and URI in ASCII,
    iPAddress of 4 or 16 bytes; minimal DER lengths, nothing trailing; any other name form or
    otherName type, and an empty SAN, go the full way;
  - subjectKeyIdentifier: exactly one OCTET STRING (its value is never read);
  - every other extension (extended and plain key usage, basic constraints, authority key
    identifier, CRL distribution points, ...) only when exactly the same extension bytes have
    already been parsed by ``cryptography`` in a certificate of this process whose
    extensions all parsed (:func:`learn`, called by :mod:`identity` after a full read).  What it
    contributes to the client-authentication check (the problem texts of the extended and plain
    key usage) was computed then by :mod:`identity`'s one function and is reused as it is.

So strict extension parsing is kept: an extension this reader does not parse itself has been
parsed, byte for byte, by ``cryptography`` before (issuer-wide extensions such as key usage,
CRL distribution points or policies repeat in every certificate of a CA, so only the first
certificate of each CA goes the full way).  A malformed extension is never learnt: every
certificate holding it goes the full way, where ``cryptography`` refuses it and the audit says so
(SSL-003).  Nor is a critical extension ``cryptography`` does not know: it always goes the full
way.  Header bytes that ``_asn1`` has read (an RDN's, a UPN otherName's, a subjectAltName's, the
certificate's) are remembered with the length that completes them: the same bytes and length are
the same structure, so it is not walked again (the values inside are still checked each time).
The caches hold bytes and texts only and are bounded (:data:`_LIMIT` entries each).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import binascii
import re

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    pass

_SAN = b"\x55\x1d\x11"  # 2.5.29.17
_SKI = b"\x55\x1d\x0e"  # 2.5.29.14
_UPN = b"\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03"  # 1.3.6.1.4.1.311.20.2.3
_UPN_TLV = b"\x06\x0a" + _UPN

#: The subject attribute types this reader knows (NameOID attribute names); the text of each in
#: an RFC 4514 string is taken from ``cryptography`` once (:func:`_attribute_names`).
NAME_ATTRIBUTES = ("COMMON_NAME", "COUNTRY_NAME", "LOCALITY_NAME", "STATE_OR_PROVINCE_NAME", "STREET_ADDRESS",
                   "ORGANIZATION_NAME", "ORGANIZATIONAL_UNIT_NAME", "SERIAL_NUMBER", "SURNAME", "GIVEN_NAME",
                   "TITLE", "USER_ID", "DOMAIN_COMPONENT", "EMAIL_ADDRESS")
_KIND = {"COMMON_NAME": "cn", "DOMAIN_COMPONENT": "dc"}
# characters RFC 4514 escapes anywhere or at an end (and '=' / '#' to be safe), NUL included
_UNSAFE = re.compile(r'[\\"+,;<>#=\x00]|^ | $')
_PRINTABLE_STRING = re.compile(rb"[A-Za-z0-9 '()\-./:?]+")
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----\n"
_PEM_END = b"-----END CERTIFICATE-----"

_LIMIT = 65536  # entries per cache; a cache that reaches it starts again (memory stays bounded)
_RDNS: dict[bytes, tuple[str, str | None, str]] = {}  # RDN content -> (text, cn|dc|None, value)
# Header bytes of structures _asn1 has read, with the length that completes them: the same bytes
# and the same length are the same structure, read without walking it again.  The first 9 bytes
# of an RDN's content (SEQUENCE, the OID, the value's tag and length) -> (its length, _TABLE
# entry, value tag); the first 16 of a UPN otherName's content (OID, [0], the value's tag and
# length) -> its length; the first 9 of a subjectAltName extension's content (OID, OCTET STRING,
# SEQUENCE, not critical) -> its length.
_RDN_SHAPES: dict[bytes, tuple[int, tuple[str, str | None], int]] = {}
_UPN_SHAPES: dict[bytes, int] = {}
_SAN_SHAPES: dict[bytes, int] = {}
_TOP_SHAPES: dict[bytes, tuple[int, int, int]] = {}  # a certificate's first 8 bytes -> (its length, TBS content)
_LEARNT: dict[bytes, tuple[bytes, str | None, str | None]] = {}  # extension content -> (OID, EKU problem, KU problem)
_NAMES: dict[bytes, tuple[str, str | None] | None] = {}  # attribute type OID content -> _TABLE entry or None
_TABLE: dict[str, tuple[str, str | None]] = {}  # OID dotted -> ("CN=", cn|dc|None), made once


def pem_der(data: bytes) -> bytes | None:
    """The DER of ``data`` when it is exactly one PEM CERTIFICATE block (LF line ends, strict
    base64, nothing but white space after it), else None (the caller loads it the full way)."""
    if not data.startswith(_PEM_BEGIN):
        return None
    end = data.find(_PEM_END, 28)
    if end < 0 or data.find(b"-----", 28, end) >= 0 or data[end + 25:].strip():
        return None
    try:
        return binascii.a2b_base64(data[28:end].replace(b"\n", b""), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _attribute_names():
    """OID dotted text -> (``NAME=``, cn|dc|None): the attribute's name in RFC 4514 text as this
    ``cryptography`` writes it, and whether the audit reads it."""
    names = {}
    for attribute in NAME_ATTRIBUTES:
        oid = getattr(NameOID, attribute, None)
        if oid is None:
            continue
        text = x509.NameAttribute(oid, "xx").rfc4514_string()
        names[oid.dotted_string] = (text[:-2], _KIND.get(attribute))  # "CN=": the value follows
    return names


def _attribute(oid):
    """("NAME=", cn|dc|None) of the attribute type with OID content ``oid``, or None."""
    try:
        return _NAMES[oid]
    except KeyError:
        pass
    if not _TABLE:
        _TABLE.update(_attribute_names())
    try:
        named = _TABLE.get(_asn1.oid_text(oid))
    except _asn1.DerError:
        named = None
    _NAMES[oid] = named
    return named


def _rdn(der, start, end):
    """(text, cn|dc|None, value) of one RDN (a SET's content) met for the first time, or None when
    it is not one this reader knows."""
    head = der[start:start + 9]  # SEQUENCE, OID 2.5.4.x, the value's tag and length, all short
    shape = _RDN_SHAPES.get(head)
    if shape is not None and end - start == shape[0]:
        # the same header bytes and length as an RDN _asn1 has read: the same structure
        named, tag, vstart, vend = shape[1], shape[2], start + 9, end
    else:
        inner = _asn1.der_children(der, start, end)
        if len(inner) != 1 or inner[0][0] != _asn1.SEQUENCE:
            return None
        parts = _asn1.der_children(der, inner[0][1], inner[0][2])
        if len(parts) != 2 or parts[0][0] != _asn1.OID:
            return None
        oid = der[parts[0][1]:parts[0][2]]
        named = _NAMES[oid] if oid in _NAMES else _attribute(oid)
        if named is None:
            return None
        tag, vstart, vend = parts[1]
        if vstart == start + 9 and vend == end and len(_RDN_SHAPES) < _LIMIT:
            _RDN_SHAPES[head] = (end - start, named, tag)
    raw = der[vstart:vend]
    if tag == 0x13:  # PrintableString
        if not _PRINTABLE_STRING.fullmatch(raw):
            return None
    elif tag == 0x16:  # IA5String
        if not raw.isascii():
            return None
    elif tag != _asn1.UTF8_STRING:
        return None
    value = raw.decode("utf-8")  # UnicodeDecodeError (a ValueError): the full path says why
    if not value.isalnum() and (not value or not value.isprintable() or _UNSAFE.search(value)):
        return None  # letters and digits alone need no look (most CNs of a fleet)
    known = (named[0] + value, named[1], value)
    if named[1] != "cn":  # O, OU, DC, C... repeat in every certificate of a fleet; a CN names one user
        if len(_RDNS) >= _LIMIT:
            _RDNS.clear()
        _RDNS[der[start:end]] = known
    return known


def _san(der, start, end, upn_values, emails, dns_names):
    """Read the GeneralNames content ``der[start:end]`` of a subjectAltName into the lists; False
    when it holds what this reader leaves to the full path."""
    names = _asn1.der_children(der, start, end)
    if not names:
        return False
    for tag, nstart, nend in names:
        if tag == 0xA0:  # otherName {type-id, [0] EXPLICIT value}: the UPN type only
            head = der[nstart:nstart + 16]  # the UPN OID, [0] and the value's tag and length, all short
            if _UPN_SHAPES.get(head) == nend - nstart:  # the headers of an otherName _asn1 has read
                upn_values.append(der[nstart + 14:nend])
                continue
            if not der.startswith(_UPN_TLV, nstart):
                return False
            value = _asn1.der_children(der, nstart + 12, nend)
            if len(value) != 1 or value[0][0] != 0xA0:
                return False
            inner = _asn1.der_children(der, value[0][1], value[0][2])
            if len(inner) != 1:
                return False
            if inner[0][1] == nstart + 16 and inner[0][2] == nend and len(_UPN_SHAPES) < _LIMIT:
                _UPN_SHAPES[head] = nend - nstart
            upn_values.append(der[value[0][1]:value[0][2]])
        elif tag in (0x81, 0x82, 0x86):  # rfc822Name, dNSName, URI: IA5String
            raw = der[nstart:nend]
            if not raw.isascii():
                return False
            if tag == 0x81:
                emails.append(raw.decode("ascii"))
            elif tag == 0x82:
                dns_names.append(raw.decode("ascii"))
        elif tag == 0x87:  # iPAddress
            if nend - nstart not in (4, 16):
                return False
        else:
            return False
    return True


def _extensions(der, start, end):
    """[(OID content, extension content, value start, value end)] of an [3] Extensions element."""
    outer = _asn1.der_children(der, start, end)
    if len(outer) != 1 or outer[0][0] != _asn1.SEQUENCE:
        return None
    out = []
    for tag, xstart, xend in _asn1.der_children(der, outer[0][1], outer[0][2]):
        if tag != _asn1.SEQUENCE:
            return None
        parts = _asn1.der_children(der, xstart, xend)
        if len(parts) == 3 and parts[1][0] == _asn1.BOOLEAN:
            del parts[1]
        if len(parts) != 2 or parts[0][0] != _asn1.OID or parts[1][0] != _asn1.OCTET_STRING:
            return None
        out.append((der[parts[0][1]:parts[0][2]], der[xstart:xend], parts[1][1], parts[1][2]))
    return out


def read(der: bytes) -> tuple | None:
    """The fields :mod:`identity` needs from a certificate ``cryptography`` has loaded from ``der``::

        (serial hex, issuer Name content bytes, subject RFC 4514 text, common names, DC values,
         UPN otherName values, rfc822Names, dNSNames, extended key usage problem, key usage problem)

    or None when the certificate holds anything this reader does not recognise (see the module
    docstring): the caller then reads it with ``cryptography`` alone.
    """
    try:
        return _read(der)
    except ValueError:  # _asn1.DerError, UnicodeDecodeError, a date out of range
        return None


def _read(der):
    # Certificate and tbsCertificate headers: cryptography has parsed this structure already
    head = der[:8]
    known = _TOP_SHAPES.get(head)
    if known is not None and known[0] == len(der):
        start, end = known[1], known[2]
    else:
        _tag, start, _end = _asn1.tlv(der)
        tag, start, end = _asn1.tlv(der, start)
        if tag != _asn1.SEQUENCE:
            return None
        if start == 8 and len(_TOP_SHAPES) < _LIMIT:
            _TOP_SHAPES[head] = (len(der), start, end)
    tbs = _asn1.der_children(der, start, end)
    first = 1 if tbs and tbs[0][0] == 0xA0 else 0  # [0] EXPLICIT version
    if len(tbs) < first + 6:
        return None
    (stag, sstart, send), _alg, (itag, istart, iend), _validity, (ntag, nstart, nend) = tbs[first:first + 5]
    if stag != _asn1.INTEGER or sstart == send or der[sstart] & 0x80 or itag != _asn1.SEQUENCE \
            or ntag != _asn1.SEQUENCE:
        return None
    serial = der[sstart:send].hex().upper().lstrip("0") or "0"  # as f"{cert.serial_number:X}"

    pieces, cns, dcs = [], [], []
    rdns = _RDNS
    for tag, rstart, rend in _asn1.der_children(der, nstart, nend):
        rdn = rdns.get(der[rstart:rend]) if tag == 0x31 else None
        if rdn is None:
            if tag != 0x31:
                return None
            rdn = _rdn(der, rstart, rend)
            if rdn is None:
                return None
        pieces.append(rdn[0])
        if rdn[1] is not None:
            (cns if rdn[1] == "cn" else dcs).append(rdn[2])
    pieces.reverse()  # RFC 4514 writes the most specific RDN first

    upn_values, emails, dns_names = [], [], []
    eku_problem = ku_problem = None
    for tag, xstart, xend in tbs[first + 6:]:
        if tag != 0xA3:
            continue  # [1]/[2] issuer/subject unique identifiers: not read by the audit
        outer = _asn1.der_children(der, xstart, xend)
        if len(outer) != 1 or outer[0][0] != _asn1.SEQUENCE:
            return None
        exts = _asn1.der_children(der, outer[0][1], outer[0][2])
        seen = set()
        for etag, estart, eend in exts:
            content = der[estart:eend]
            facts = _LEARNT.get(content)
            if facts is not None:  # these very bytes parsed by cryptography before
                oid = facts[0]
                eku_problem = facts[1] or eku_problem
                ku_problem = facts[2] or ku_problem
            elif etag != _asn1.SEQUENCE:
                return None
            elif _SAN_SHAPES.get(der[estart:estart + 9]) == eend - estart:
                # the headers of a subjectAltName _asn1 has read: its GeneralNames start 9 bytes in
                if not _san(der, estart + 9, eend, upn_values, emails, dns_names):
                    return None
                oid = _SAN
            else:
                parts = _asn1.der_children(der, estart, eend)
                if len(parts) == 3 and parts[1][0] == _asn1.BOOLEAN:
                    del parts[1]
                if len(parts) != 2 or parts[0][0] != _asn1.OID or parts[1][0] != _asn1.OCTET_STRING:
                    return None
                oid = der[parts[0][1]:parts[0][2]]
                if oid == _SAN:
                    outer = _asn1.der_children(der, parts[1][1], parts[1][2])
                    if len(outer) != 1 or outer[0][0] != _asn1.SEQUENCE:
                        return None
                    if not _san(der, outer[0][1], outer[0][2], upn_values, emails, dns_names):
                        return None
                    if outer[0][1] == estart + 9 and outer[0][2] == eend and len(_SAN_SHAPES) < _LIMIT:
                        _SAN_SHAPES[der[estart:estart + 9]] = eend - estart
                elif oid == _SKI:
                    inner = _asn1.der_children(der, parts[1][1], parts[1][2])
                    if len(inner) != 1 or inner[0][0] != _asn1.OCTET_STRING:
                        return None
                else:
                    return None  # not learnt yet: the full path parses it (and teaches it)
            if oid in seen:
                return None  # a duplicate extension: cryptography's error, the full path's finding
            seen.add(oid)
        if not seen:
            return None  # an empty Extensions SEQUENCE: the full path decides
    return (serial, der[istart:iend], ",".join(pieces), cns, dcs, upn_values, emails, dns_names, eku_problem,
            ku_problem)


def learn(der: bytes, facts: dict[str, tuple[str | None, str | None]]) -> None:
    """Remember the extensions of a certificate whose extensions ``cryptography`` parsed: ``facts``
    maps each extension's OID (dotted) to its (extended key usage problem, key usage problem) as
    :mod:`identity` computed them.  A later certificate holding exactly the same extension bytes
    is then read by :func:`read` without ``cryptography``."""
    try:
        top = _asn1.der_children(der, 0, len(der))
        cert = _asn1.der_children(der, top[0][1], top[0][2])
        tbs = _asn1.der_children(der, cert[0][1], cert[0][2])
        exts: list[tuple[bytes, bytes, int, int]] = []
        for tag, xstart, xend in tbs:
            if tag == _asn1.context(3):
                exts = _extensions(der, xstart, xend) or []
        for oid, content, _start, _end in exts:
            if oid in (_SAN, _SKI):
                continue
            fact = facts.get(_asn1.oid_text(oid))
            if fact is not None:
                if len(_LEARNT) >= _LIMIT:
                    _LEARNT.clear()
                _LEARNT[content] = (oid,) + fact
    except (ValueError, IndexError):  # not readable here: nothing learnt, the full path stays
        return


def forget() -> None:
    """Empty the caches (tests; a long-lived process that wants its memory back)."""
    _RDNS.clear()
    _LEARNT.clear()
    _RDN_SHAPES.clear()
    _UPN_SHAPES.clear()
    _SAN_SHAPES.clear()
    _TOP_SHAPES.clear()
