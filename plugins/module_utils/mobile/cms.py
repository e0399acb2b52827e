# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reader of an existing signed profile: a CMS SignedData (DER, content attached, one signer).

:func:`read_signed` walks the SignedData with the collection's one DER reader (:mod:`_asn1`),
takes out the content, the certificates and the signer, and verifies the signature by hand
(``cryptography`` builds PKCS#7 but does not verify it).  Malformed bytes never raise: the result
says what is wrong and where (``problem``).  No Ansible imports.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1, certs

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtensionOID
    #: What a damaged certificate or key inside well-formed DER raises.
    _UNREADABLE: tuple[type[Exception], ...] = (
        ValueError, TypeError, IndexError, UnsupportedAlgorithm, x509.InvalidVersion)
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    _UNREADABLE = (ValueError, TypeError, IndexError)

_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_DIGESTS = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
            "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
_RSA_SIG = {"1.2.840.113549.1.1.1": None, "1.2.840.113549.1.1.5": "sha1", "1.2.840.113549.1.1.14": "sha224",
            "1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384", "1.2.840.113549.1.1.13": "sha512"}
_EC_SIG = {"1.2.840.10045.2.1": None, "1.2.840.10045.4.1": "sha1", "1.2.840.10045.4.3.1": "sha224",
           "1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512"}
_OCTETS_CONSTRUCTED = 0x20 | _asn1.OCTET_STRING


class _Bad(Exception):
    """Well-formed DER that is not a CMS SignedData this reader understands."""


def _oid(data: bytes, element: tuple[int, int, int, int]) -> str:
    if element[0] != _asn1.OID:
        raise _Bad(f"expected an OBJECT IDENTIFIER at offset {element[1]}")
    return _asn1.oid_text(data[element[2]:element[3]])


def _octets(data: bytes, tag: int, start: int, end: int) -> bytes:
    """An OCTET STRING, primitive (DER) or constructed of primitive pieces (BER, definite lengths)."""
    if tag == _asn1.OCTET_STRING:
        return data[start:end]
    if tag == _OCTETS_CONSTRUCTED:
        return b"".join(_octets(data, t, s, e) for t, _p, s, e in _asn1.elements(data, start, end))
    raise _Bad("expected an OCTET STRING")


class SignedProfile:
    """What an existing signed profile holds, and whether its signature verifies."""

    __slots__ = ("content", "certificates", "signer", "digest", "valid", "problem")

    def __init__(self) -> None:
        self.content: bytes | None = None
        self.certificates: list[x509.Certificate] = []
        self.signer: x509.Certificate | None = None
        self.digest: str | None = None
        self.valid = False
        self.problem: str | None = None


def looks_signed(data: bytes) -> bool:
    """DER SignedData starts with a SEQUENCE; an XML or binary plist does not."""
    return _asn1.starts_sequence(data)


def read_signed(data: bytes) -> SignedProfile:
    """Parse a CMS SignedData profile and verify its (single) signature.

    Returns a SignedProfile; ``valid`` is True only when the content digest and the signature
    verify with the signer certificate carried in the file.  ``problem`` says why not (for bytes
    that are not DER, the DER reader's words: what and at which offset).  Data that is not CMS
    SignedData at all gives ``content`` None.
    """
    out = SignedProfile()
    try:
        start, end = _asn1.whole(data, _asn1.SEQUENCE, what="CMS ContentInfo")
        items = list(_asn1.elements(data, start, end))
        if len(items) < 2 or _oid(data, items[0]) != _OID_SIGNED_DATA:
            raise _Bad("not a CMS SignedData")
        if items[1][0] != _asn1.context(0):
            raise _Bad("SignedData content missing")
        sd = list(_asn1.elements(data, items[1][2], items[1][3]))
        if not sd or sd[0][0] != _asn1.SEQUENCE:
            raise _Bad("SignedData is not a SEQUENCE")
        fields = list(_asn1.elements(data, sd[0][2], sd[0][3]))
        if len(fields) < 4:
            raise _Bad("SignedData too short")
        encap = list(_asn1.elements(data, fields[2][2], fields[2][3]))
        if not encap or _oid(data, encap[0]) != _OID_DATA:
            raise _Bad("encapsulated content is not id-data")
        if len(encap) < 2 or encap[1][0] != _asn1.context(0):
            raise _Bad("detached signature: no encapsulated content")
        inner = list(_asn1.elements(data, encap[1][2], encap[1][3]))
        if len(inner) != 1:
            raise _Bad("encapsulated content is not one OCTET STRING")
        content = out.content = _octets(data, inner[0][0], inner[0][2], inner[0][3])
        rest = fields[3:]
        if rest and rest[0][0] == _asn1.context(0):
            for choice, pos, _s, c_end in list(_asn1.elements(data, rest[0][2], rest[0][3])):
                if choice == _asn1.SEQUENCE:
                    out.certificates.append(x509.load_der_x509_certificate(data[pos:c_end]))
            rest = rest[1:]
        if rest and rest[0][0] == _asn1.context(1):  # CRLs
            rest = rest[1:]
        if not rest or rest[0][0] != _asn1.SET:
            raise _Bad("no signerInfos")
        signer_infos = list(_asn1.elements(data, rest[0][2], rest[0][3]))
        if len(signer_infos) != 1:
            raise _Bad(f"{len(signer_infos)} signers (expected 1)")
        _verify_signer_info(data, signer_infos[0], content, out)
    except (_Bad, _asn1.DerError, certs.CertificateError) as exc:
        out.problem = str(exc)
    except _UNREADABLE as exc:
        out.problem = f"unreadable: {exc}"
    return out


def _signer_certificate(data: bytes, sid: tuple[int, int, int, int],
                        out: SignedProfile) -> x509.Certificate | None:
    """The certificate the SignerIdentifier names, among those the file carries, or None."""
    sid_tag, _sid_pos, sid_start, sid_end = sid
    if sid_tag == _asn1.SEQUENCE:  # IssuerAndSerialNumber
        name, serial = list(_asn1.elements(data, sid_start, sid_end))[:2]
        issuer_der = data[name[1]:name[3]]
        serial_no = int.from_bytes(data[serial[2]:serial[3]], "big", signed=True)
        candidates = [c for c in out.certificates if c.serial_number == serial_no]
        exact = [c for c in candidates if c.issuer.public_bytes() == issuer_der]
        return exact[0] if exact else candidates[0] if candidates else None
    if sid_tag == _asn1.context(0, constructed=False):  # [0] SubjectKeyIdentifier
        ski = data[sid_start:sid_end]
        for cert in out.certificates:
            ext = certs.extension(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
            if ext is not None and ext.digest == ski:
                return cert
    return None


def _verify_signer_info(data: bytes, info: tuple[int, int, int, int], content: bytes, out: SignedProfile) -> None:
    """Find the signer, check the signed attributes against ``content``, verify the signature;
    sets ``out.signer``, ``out.digest`` and ``out.valid`` (a problem raises :class:`_Bad`)."""
    parts = list(_asn1.elements(data, info[2], info[3]))
    if len(parts) < 5:
        raise _Bad("SignerInfo too short")
    out.signer = _signer_certificate(data, parts[1], out)
    if out.signer is None:
        raise _Bad("the signer's certificate is not in the file")
    alg = list(_asn1.elements(data, parts[2][2], parts[2][3]))
    out.digest = _DIGESTS.get(_oid(data, alg[0]))
    if out.digest is None:
        raise _Bad("unknown digest algorithm")
    algo = getattr(hashes, out.digest.upper())()
    idx = 3
    signed_bytes = content
    if parts[idx][0] == _asn1.context(0):  # signedAttrs, [0] IMPLICIT SET OF Attribute: signed as a SET
        attrs_raw = data[parts[idx][1]:parts[idx][3]]
        signed_bytes = bytes((_asn1.SET,)) + attrs_raw[1:]
        digest_value = content_type = None
        for _t, _p, a_start, a_end in _asn1.elements(data, parts[idx][2], parts[idx][3]):
            attr = list(_asn1.elements(data, a_start, a_end))
            oid = _oid(data, attr[0])
            values = list(_asn1.elements(data, attr[1][2], attr[1][3]))
            if oid == _OID_MESSAGE_DIGEST and values and values[0][0] == _asn1.OCTET_STRING:
                digest_value = data[values[0][2]:values[0][3]]
            elif oid == _OID_CONTENT_TYPE and values and values[0][0] == _asn1.OID:
                content_type = _oid(data, values[0])
        hasher = hashes.Hash(algo)
        hasher.update(content)
        if digest_value != hasher.finalize():
            raise _Bad("the content does not match the signed message digest (modified after signing)")
        if content_type != _OID_DATA:
            raise _Bad("signed content type is not id-data")
        idx += 1
    sig_alg = list(_asn1.elements(data, parts[idx][2], parts[idx][3]))
    sig_oid = _oid(data, sig_alg[0])
    if parts[idx + 1][0] != _asn1.OCTET_STRING:
        raise _Bad("signature is not an OCTET STRING")
    signature = data[parts[idx + 1][2]:parts[idx + 1][3]]
    key = out.signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and sig_oid in _RSA_SIG:
            key.verify(signature, signed_bytes, padding.PKCS1v15(), algo)
        elif isinstance(key, ec.EllipticCurvePublicKey) and sig_oid in _EC_SIG:
            key.verify(signature, signed_bytes, ec.ECDSA(algo))
        else:
            raise _Bad(f"unsupported signature algorithm {sig_oid}")
    except InvalidSignature:
        raise _Bad("the signature does not verify with the signer's certificate")
    out.valid = True
