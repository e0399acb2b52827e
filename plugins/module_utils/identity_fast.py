# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast reader of client certificates for the mutual SSL audit: names, dates, SAN and the
key-usage facts read from the DER with the collection's one DER layer (``_asn1``).

:mod:`identity` reads a certificate with ``cryptography`` objects (subject and issuer ``Name``
objects, ``cert.extensions``), which costs more than loading it; an audit of a whole fleet reads
tens of thousands.  :func:`read` gives the same fields from the bytes, and **only** for the
certificates it fully recognises; it returns ``None`` for anything else, and :mod:`identity`
then reads that certificate the full way.  It changes how fields are read, never a rule: the
mapping rules, the SSL-NNN findings and the texts of the problems stay in :mod:`identity`.

What it recognises (anything else is ``None``, the full path):

* the certificate was loaded by ``cryptography`` first (the caller's job): the structure up to
  the extension values and the dates is already checked by a strict parser;
* the serial number: a positive INTEGER;
* the dates: UTCTime ``YYMMDDHHMMSSZ`` or GeneralizedTime ``YYYYMMDDHHMMSSZ``;
* the subject: single-valued RDNs whose attribute type is one of :data:`NAME_ATTRIBUTES` and
  whose value is a UTF8String, PrintableString or IA5String that needs no RFC 4514 escaping and
  has no control or other non-printing character (the text is then the same on every
  ``cryptography`` version); the RDNs are remembered by their bytes (``O=...`` repeats);
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
certificate of each CA goes the full way), and a malformed or unknown one (a critical one
included) goes the full way, where ``cryptography`` refuses it and the audit says so (SSL-003).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import binascii
import datetime
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
_UTC = datetime.timezone.utc

_LIMIT = 65536  # entries per cache; a cache that reaches it starts again (memory stays bounded)
_RDNS: dict[bytes, tuple[str, str | None, str]] = {}  # RDN content -> (text, cn|dc|None, value)
_LEARNT: dict[bytes, tuple[str | None, str | None]] = {}  # extension content -> (EKU problem, KU problem)
_NAMES: dict[bytes, tuple[str, str | None] | None] = {}  # attribute type OID content -> _TABLE entry or None
_TABLE: dict[str, tuple[str, str | None]] = {}  # OID dotted -> (RFC 4514 name, cn|dc|None), made once


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
    """OID dotted text -> the attribute's name in RFC 4514 text, as this ``cryptography`` writes it."""
    names = {}
    for attribute in NAME_ATTRIBUTES:
        oid = getattr(NameOID, attribute, None)
        if oid is None:
            continue
        text = x509.NameAttribute(oid, "xx").rfc4514_string()
        names[oid.dotted_string] = (text[:-3], _KIND.get(attribute))
    return names


def _attribute(oid):
    """(RFC 4514 name, cn|dc|None) of the attribute type with OID content ``oid``, or None."""
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
    """(text, cn|dc|None, value) of one RDN, or None when it is not one this reader knows."""
    key = der[start:end]
    known = _RDNS.get(key)
    if known is not None:
        return known
    inner = _asn1.der_children(der, start, end)
    if len(inner) != 1 or inner[0][0] != _asn1.SEQUENCE:
        return None
    parts = _asn1.der_children(der, inner[0][1], inner[0][2])
    if len(parts) != 2 or parts[0][0] != _asn1.OID:
        return None
    named = _attribute(der[parts[0][1]:parts[0][2]])
    if named is None:
        return None
    tag, vstart, vend = parts[1]
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
    if not value or not value.isprintable() or _UNSAFE.search(value):
        return None
    known = (f"{named[0]}={value}", named[1], value)
    if len(_RDNS) >= _LIMIT:
        _RDNS.clear()
    _RDNS[key] = known
    return known


def _time(der, tag, start, end):
    raw = der[start:end]
    if tag == 0x17 and len(raw) == 13 and raw[12] == 0x5A and raw[:12].isdigit():
        text = ("19" if raw[0] >= 0x35 else "20") + raw[:12].decode("ascii")
    elif tag == 0x18 and len(raw) == 15 and raw[14] == 0x5A and raw[:14].isdigit():
        text = raw[:14].decode("ascii")
    else:
        return None
    return datetime.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]),
                             int(text[10:12]), int(text[12:14]), tzinfo=_UTC)


def _san(der, start, end, upn_values, emails, dns_names):
    """Read a subjectAltName value into the lists; False when it holds what this reader leaves
    to the full path."""
    outer = _asn1.der_children(der, start, end)
    if len(outer) != 1 or outer[0][0] != _asn1.SEQUENCE:
        return False
    names = _asn1.der_children(der, outer[0][1], outer[0][2])
    if not names:
        return False
    for tag, nstart, nend in names:
        if tag == 0xA0:  # otherName {type-id, [0] EXPLICIT value}
            parts = _asn1.der_children(der, nstart, nend)
            if len(parts) != 2 or parts[0][0] != _asn1.OID or der[parts[0][1]:parts[0][2]] != _UPN:
                return False
            if parts[1][0] != 0xA0 or len(_asn1.der_children(der, parts[1][1], parts[1][2])) != 1:
                return False
            upn_values.append(der[parts[1][1]:parts[1][2]])
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

        (serial hex, issuer Name content bytes, not_before, not_after, subject RFC 4514 text,
         common names, DC values, UPN otherName values, rfc822Names, dNSNames,
         extended key usage problem, key usage problem)

    or None when the certificate holds anything this reader does not recognise (see the module
    docstring): the caller then reads it with ``cryptography`` alone.
    """
    try:
        return _read(der)
    except ValueError:  # _asn1.DerError, UnicodeDecodeError, a date out of range
        return None


def _read(der):
    top = _asn1.der_children(der, 0, len(der))
    if len(top) != 1 or top[0][0] != _asn1.SEQUENCE:
        return None
    cert = _asn1.der_children(der, top[0][1], top[0][2])
    if len(cert) != 3 or cert[0][0] != _asn1.SEQUENCE:
        return None
    tbs = _asn1.der_children(der, cert[0][1], cert[0][2])
    first = 1 if tbs and tbs[0][0] == _asn1.context(0) else 0
    if len(tbs) < first + 6:
        return None
    (stag, sstart, send), _alg, (itag, istart, iend), (vtag, vstart, vend), (ntag, nstart, nend) = \
        tbs[first:first + 5]
    if stag != _asn1.INTEGER or sstart == send or der[sstart] & 0x80 or itag != _asn1.SEQUENCE \
            or vtag != _asn1.SEQUENCE or ntag != _asn1.SEQUENCE:
        return None
    serial = f"{int.from_bytes(der[sstart:send], 'big'):X}"
    validity = _asn1.der_children(der, vstart, vend)
    if len(validity) != 2:
        return None
    not_before = _time(der, *validity[0])
    not_after = _time(der, *validity[1])
    if not_before is None or not_after is None:
        return None

    pieces, cns, dcs = [], [], []
    for tag, rstart, rend in _asn1.der_children(der, nstart, nend):
        if tag != _asn1.SET:
            return None
        rdn = _rdn(der, rstart, rend)
        if rdn is None:
            return None
        pieces.append(rdn[0])
        if rdn[1] == "cn":
            cns.append(rdn[2])
        elif rdn[1] == "dc":
            dcs.append(rdn[2])
    pieces.reverse()  # RFC 4514 writes the most specific RDN first

    upn_values, emails, dns_names = [], [], []
    eku_problem = ku_problem = None
    for tag, xstart, xend in tbs[first + 6:]:
        if tag != _asn1.context(3):
            continue  # issuer/subject unique identifiers: not read by the audit
        exts = _extensions(der, xstart, xend)
        if not exts or len({ext[0] for ext in exts}) != len(exts):
            return None  # none (an empty SEQUENCE) or a duplicate: the full path decides
        for oid, content, value_start, value_end in exts:
            if oid == _SAN:
                if not _san(der, value_start, value_end, upn_values, emails, dns_names):
                    return None
            elif oid == _SKI:
                inner = _asn1.der_children(der, value_start, value_end)
                if len(inner) != 1 or inner[0][0] != _asn1.OCTET_STRING:
                    return None
            else:
                facts = _LEARNT.get(content)
                if facts is None:
                    return None
                eku_problem = facts[0] or eku_problem
                ku_problem = facts[1] or ku_problem
    return (serial, der[istart:iend], not_before, not_after, ",".join(pieces), cns, dcs, upn_values, emails,
            dns_names, eku_problem, ku_problem)


def learn(der: bytes, facts: dict[str, tuple[str | None, str | None]]) -> None:
    """Remember the extensions of a certificate whose extensions ``cryptography`` parsed: ``facts``
    maps each extension's OID (dotted) to its (extended key usage problem, key usage problem) as
    :mod:`identity` computed them.  A later certificate holding exactly the same extension bytes
    is then read by :func:`read` without ``cryptography``."""
    try:
        top = _asn1.der_children(der, 0, len(der))
        cert = _asn1.der_children(der, top[0][1], top[0][2])
        tbs = _asn1.der_children(der, cert[0][1], cert[0][2])
        exts = []
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
                _LEARNT[content] = fact
    except (ValueError, IndexError):  # not readable here: nothing learnt, the full path stays
        return


def forget() -> None:
    """Empty the caches (tests; a long-lived process that wants its memory back)."""
    _RDNS.clear()
    _LEARNT.clear()
