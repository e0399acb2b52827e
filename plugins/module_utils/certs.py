# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate core: load bundles, fingerprints, CA/leaf, host names, chains, private keys.

Everything is done with ``cryptography``; nothing shells out to openssl.  Broken input raises
:class:`CertificateError` (a :class:`TrustopsError`) naming the source and what was wrong;
no other exception type escapes the public functions for malformed data.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import math
import re
import shlex
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

CRYPTOGRAPHY_IMPORT_ERROR: str | None
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtensionOID, NameOID
except ImportError:  # pragma: no cover - reported by modules via missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None


class CertificateError(TrustopsError):
    """Malformed or unusable certificate/key input."""


_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 #]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL
)
_PEM_BEGIN = re.compile(rb"-----BEGIN [A-Z0-9 #]+-----")
_CERT_LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE")
_PKCS7_LABELS = (b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS")
_KEY_LABELS = (
    b"PRIVATE KEY",
    b"ENCRYPTED PRIVATE KEY",
    b"RSA PRIVATE KEY",
    b"DSA PRIVATE KEY",
    b"EC PRIVATE KEY",
    b"OPENSSH PRIVATE KEY",
)


def input_bytes(data: bytes | bytearray | memoryview | str, source: str = "<input>") -> bytes:
    """Bytes from bytes or text, the one decoder of certificate, key and CRL inputs.  Text is
    UTF-8 encoded (surrogate-escaped bytes come back as they were); UTF-16 with a byte order
    mark (what Windows PowerShell 5 writes with ``>``) is decoded first.  Anything else raises
    CertificateError naming the source."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise CertificateError(f"{source}: text holds characters that are not valid Unicode "
                                   "(lone surrogates); read the file as bytes")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
    else:
        raise CertificateError(f"{source}: expected bytes or text, got {type(data).__name__}")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # never the start of DER (0x30) or PEM
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeError:
            raise CertificateError(f"{source}: starts with a UTF-16 byte order mark but is not valid "
                                   "UTF-16 text")
    return data


#: The name of :func:`input_bytes` before it was public (kept for callers of earlier releases).
_to_bytes = input_bytes


def _normalize_text(data: bytes) -> bytes:
    """Unix line ends and no surrounding blanks on any line (indented YAML, mail, CR-only)."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return b"\n".join(line.strip() for line in data.split(b"\n"))


def pem_blocks(data: bytes | str, source: str = "<input>") -> list[tuple[bytes, bytes]]:
    """All PEM blocks in data as (label, block bytes), tolerant of CRLF/CR line ends,
    indented lines and text around the blocks.  Blocks are returned normalised (every line
    stripped, LF line ends) so that every cryptography version loads them alike."""
    data = _normalize_text(input_bytes(data, source))
    return [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(data)]


def _complete_pem_blocks(data: bytes, source: str) -> list[tuple[bytes, bytes]]:
    """pem_blocks, but a BEGIN line without its END (a cut-off bundle) is an error, not skipped."""
    blocks = pem_blocks(data, source)
    begins = len(_PEM_BEGIN.findall(data))
    if begins > len(blocks):
        raise CertificateError(f"{source}: truncated or damaged PEM: {begins} BEGIN lines but "
                               f"{len(blocks)} complete blocks")
    return blocks


# --------------------------------------------------------------------------- loading

def load_certificates(data: bytes | str, source: str = "<input>") -> list[x509.Certificate]:
    """Load every certificate from PEM (one or many blocks), DER, or PKCS#7 (PEM or DER).

    Order is preserved as found.  Raises CertificateError with the source name when no
    certificate can be read, including the specific case of a private key given instead.
    """
    data = input_bytes(data, source)
    if not data.strip():
        raise CertificateError(f"{source}: empty input, expected a PEM, DER or PKCS#7 certificate")
    blocks = _complete_pem_blocks(data, source)
    if blocks:
        certs: list[x509.Certificate] = []
        labels = []
        cert_blocks = 0
        for label, block in blocks:
            labels.append(label.decode("ascii", "replace"))
            if label in _CERT_LABELS:
                if label == b"TRUSTED CERTIFICATE":
                    raise CertificateError(
                        f"{source}: OpenSSL 'TRUSTED CERTIFICATE' blocks are not supported; export a plain "
                        "PEM certificate (openssl x509 -in IN -out OUT)")
                cert_blocks += 1
                certs.append(_load_one_pem(block, source, cert_blocks))
            elif label in _PKCS7_LABELS:
                certs.extend(_load_pkcs7(block, source, pem=True))
        if certs:
            return certs
        if any(label.encode() in _KEY_LABELS for label in labels):
            raise CertificateError(
                "{}: holds a private key ({}), not a certificate".format(source, ", ".join(labels)))
        raise CertificateError(
            "{}: no certificate in PEM blocks (found: {})".format(source, ", ".join(labels)))
    if b"-----BEGIN" in data:
        raise CertificateError(f"{source}: truncated or damaged PEM (BEGIN line without a matching END)")
    # DER: a single certificate, or a PKCS#7 SignedData.
    if not _asn1.starts_sequence(data):
        raise CertificateError(f"{source}: not PEM or DER (no PEM header, and not a DER SEQUENCE)")
    try:
        return [x509.load_der_x509_certificate(data)]
    except Exception:  # cryptography raises ValueError and friends for bad DER
        pass
    try:
        return _load_pkcs7(data, source, pem=False)
    except CertificateError:
        pass
    shape = _der_key_format(data)
    if shape == "pkcs12":
        raise CertificateError(_PKCS12_MESSAGE.format(source=source, what="certificates", file=_file_of(source),
                                                      option="-nokeys"))
    if shape is not None:
        raise CertificateError(f"{source}: holds a DER private key, not a certificate")
    raise CertificateError(f"{source}: not PEM or DER: DER data is neither an X.509 certificate nor PKCS#7")


def load_certificate(data: bytes | str, source: str = "<input>") -> x509.Certificate:
    """Exactly one certificate; more than one is an error naming how many were found."""
    certs = load_certificates(data, source)
    if len(certs) != 1:
        raise CertificateError(f"{source}: expected exactly one certificate, found {len(certs)}")
    return certs[0]


_PKCS12_MESSAGE = ("{source}: is a PKCS#12 archive (.pfx/.p12), not a PEM or DER file; extract the {what} "
                   "first, e.g. openssl pkcs12 -in {file} {option}")


def _file_of(source: str) -> str:
    """The file in a source label (``src /a b.p12`` -> ``'/a b.p12'``, shell-quoted) or ``FILE``.

    Labels are ``<path>``, ``<option> <path>`` or a bare option name; a command in a remedy must
    name the file alone, or a placeholder, so that it can be run as written."""
    text = str(source)
    if " /" in text:
        return shlex.quote(text[text.index(" /") + 1:])
    if " " not in text and not text.startswith("<") and ("." in text or "/" in text):
        return shlex.quote(text)
    return "FILE"


def _load_one_pem(block: bytes, source: str, index: int) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(block)
    except Exception as exc:
        raise CertificateError(f"{source}: certificate #{index} is not valid PEM/X.509 ({_short(exc)}); the file is "
                               "damaged: export the certificate again from its source (openssl x509 -in FILE "
                               "-noout must read it)")


_SIGNED_DATA_OID = b"\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"  # 1.2.840.113549.1.7.2


def _pkcs7_der_certificates(der: bytes) -> list[x509.Certificate] | None:
    """The certificates of a DER PKCS#7 SignedData in file order, or None when it is not one.

    ContentInfo { signedData OID, [0] SignedData { version, digestAlgorithms, encapContentInfo,
    [0] IMPLICIT certificates, ... } }.  Read by hand because cryptography returns the SET in
    its own order and warns (a future error) on the unsorted SETs openssl crl2pkcs7 writes.
    """
    try:
        start, end = _asn1.whole(der, _asn1.SEQUENCE)  # ContentInfo
        oid_start, oid_end = _asn1.expect(der, start, _asn1.OID, end)
        if der[oid_start:oid_end] != _SIGNED_DATA_OID:
            return None
        explicit, explicit_end = _asn1.expect(der, oid_end, _asn1.context(0), end)
        pos, signed_end = _asn1.expect(der, explicit, _asn1.SEQUENCE, explicit_end)
        for expected in (_asn1.INTEGER, _asn1.SET, _asn1.SEQUENCE):  # version, digestAlgorithms, encapContentInfo
            _start, pos = _asn1.expect(der, pos, expected, signed_end)
        found = []
        if pos < signed_end:
            tag, certs_start, certs_end = _asn1.tlv(der, pos, signed_end)
            if tag == _asn1.context(0):  # [0] IMPLICIT CertificateSet (absent: [1] crls or signerInfos)
                for choice, item_start, _content, item_end in _asn1.elements(der, certs_start, certs_end):
                    if choice == _asn1.SEQUENCE:  # a Certificate; other CertificateChoices are skipped
                        found.append(x509.load_der_x509_certificate(der[item_start:item_end]))
        return found
    except (ValueError, x509.InvalidVersion):  # DerError (a ValueError) from _asn1, or the X.509 parser
        return None  # (InvalidVersion is no ValueError: a certificate whose version is not 1 to 3)


def _load_pkcs7(data: bytes, source: str, pem: bool) -> list[x509.Certificate]:
    if pem:  # any label (PKCS7, CMS, PKCS #7 SIGNED DATA): the body is base64 DER
        body = b"".join(line for line in data.split(b"\n")[1:-1] if b":" not in line)
        try:
            data = base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise CertificateError(f"{source}: PKCS#7 block is not valid base64 ({_short(exc)})")
    certs = _pkcs7_der_certificates(data)
    if certs is None:  # BER and other shapes: cryptography's parser, without its BER warning
        # imported here, not at the top: its SMIME half pulls in the email package (~30 ms per task)
        from cryptography.hazmat.primitives.serialization import pkcs7  # pylint: disable=import-outside-toplevel

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                certs = pkcs7.load_der_pkcs7_certificates(data)
        except Exception as exc:
            raise CertificateError(f"{source}: not a valid PKCS#7 bundle ({_short(exc)})")
    if not certs:
        raise CertificateError(f"{source}: PKCS#7 bundle holds no certificate")
    return list(certs)


#: A library's reason longer than this is cut at a word boundary (marked " ...").
_REASON_LIMIT = 600


def _short(exc: BaseException) -> str:
    """The first line of a library's error, whole, or cut at a word boundary after _REASON_LIMIT."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    if len(text) <= _REASON_LIMIT:
        return text
    cut = text.rfind(" ", 0, _REASON_LIMIT)
    return text[:cut if cut > 0 else _REASON_LIMIT].rstrip() + " ..."


# --------------------------------------------------------------------------- facts

def fingerprint(cert: x509.Certificate, algorithm: str = "sha256", sep: str = ":") -> str:
    """Upper-case hex fingerprint of the DER certificate, bytes separated by ``sep``."""
    algos: dict[str, type[hashes.HashAlgorithm]] = {
        "sha256": hashes.SHA256, "sha1": hashes.SHA1, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
    if algorithm not in algos:
        raise ValueError("fingerprint algorithm must be one of {}, not {!r}".format(", ".join(sorted(algos)), algorithm))
    algo = algos[algorithm]()
    digest = cert.fingerprint(algo)
    return sep.join(f"{b:02X}" for b in digest)


def thumbprint(cert: x509.Certificate) -> str:
    """The Windows thumbprint: SHA-1 of the DER certificate, 40 upper-case hex digits."""
    return fingerprint(cert, "sha1", sep="")


def to_der(cert: x509.Certificate) -> bytes:
    """The certificate's DER encoding."""
    return cert.public_bytes(serialization.Encoding.DER)


def to_pem(cert: x509.Certificate) -> bytes:
    """The certificate as one PEM block."""
    return cert.public_bytes(serialization.Encoding.PEM)


def extension(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> Any:
    """The value of the certificate's extension ``oid``, None when absent; an unreadable extension
    section raises CertificateError naming the certificate.  The one place for this."""
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    except Exception as exc:
        raise CertificateError(f"certificate {subject_text(cert)}: unreadable extensions ({_short(exc)})")


def is_ca(cert: x509.Certificate) -> bool:
    """True when basicConstraints says CA:TRUE (the only thing trust stores and iOS accept)."""
    bc = extension(cert, ExtensionOID.BASIC_CONSTRAINTS)
    return bool(bc is not None and bc.ca)


def subject_text(cert: x509.Certificate, unreadable: str = "<unreadable subject>") -> str:
    """The subject as RFC 4514 text for messages, or ``unreadable`` when the name cannot be parsed
    (cryptography parses names lazily; a damaged one fails only here).  The one place for this."""
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return unreadable


def issuer_text(item: x509.Certificate | x509.CertificateRevocationList,
                unreadable: str = "<unreadable issuer>") -> str:
    """The issuer of a certificate or a CRL as RFC 4514 text for messages, or ``unreadable`` when
    the name cannot be parsed: :func:`subject_text`'s twin for the issuer."""
    try:
        return item.issuer.rfc4514_string()
    except Exception:
        return unreadable


def _label(cert: x509.Certificate) -> str:
    """A name for a certificate in messages, even when its subject cannot be parsed."""
    return subject_text(cert, "") or "with SHA-256 {}".format(fingerprint(cert, "sha256")[:23])


def _name(cert: x509.Certificate, which: str) -> x509.Name:
    """cert.subject or cert.issuer; an unparsable name raises CertificateError."""
    try:
        return getattr(cert, which)
    except Exception as exc:
        raise CertificateError(f"certificate {_label(cert)}: unreadable {which} name ({_short(exc)})")


def public_key(cert: x509.Certificate) -> Any:
    """The certificate's public key; an unsupported or damaged key raises CertificateError."""
    try:
        return cert.public_key()
    except Exception as exc:
        raise CertificateError(f"certificate {_label(cert)}: unsupported or damaged public key ({_short(exc)})")


def is_self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer and the signature verifies with the certificate's own key."""
    if _name(cert, "subject") != _name(cert, "issuer"):
        return False
    return issued_by(cert, cert)


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """True when parent's subject is child's issuer and parent's key verifies child's signature.

    A parent whose key cannot be read (unsupported or damaged) issued nothing we can verify.
    """
    if _name(child, "issuer") != _name(parent, "subject"):
        return False
    if not hasattr(child, "verify_directly_issued_by"):  # cryptography < 40 (Debian 12 has 38)
        return _verify_signature_by_hand(child, parent)
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, TypeError):
        return False
    except (ValueError, UnsupportedAlgorithm):
        # cryptography refuses some algorithms here (e.g. SHA-1); verify by hand so that
        # legacy chains are still recognised (policy findings flag SHA-1 separately).
        return _verify_signature_by_hand(child, parent)
    return True


_PSS_OID = b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a"  # 1.2.840.113549.1.1.10 RSASSA-PSS
_HASH_OIDS = {
    b"\x2b\x0e\x03\x02\x1a": "sha1",
    b"\x60\x86\x48\x01\x65\x03\x04\x02\x04": "sha224",
    b"\x60\x86\x48\x01\x65\x03\x04\x02\x01": "sha256",
    b"\x60\x86\x48\x01\x65\x03\x04\x02\x02": "sha384",
    b"\x60\x86\x48\x01\x65\x03\x04\x02\x03": "sha512",
}
_HASHES = {"sha1": "SHA1", "sha224": "SHA224", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}


def _pss_parameters(cert: x509.Certificate) -> tuple[str, str, int] | None:
    """(hash, MGF1 hash, salt length) of an RSASSA-PSS signed certificate, else None.

    Read from the DER because cryptography < 41 (Debian 12 has 38) neither names the hash of
    a PSS signature nor exposes its parameters.  RFC 4055 defaults: SHA-1, MGF1-SHA-1, 20.
    """
    try:
        der = to_der(cert)
        start, end = _asn1.whole(der, _asn1.SEQUENCE, "Certificate")
        _s, tbs_end = _asn1.expect(der, start, _asn1.SEQUENCE, end, "tbsCertificate")
        tag, alg_start, alg_end = _asn1.tlv(der, tbs_end, end)  # signatureAlgorithm
        if tag != _asn1.SEQUENCE:
            return None
        tag, oid_start, oid_end = _asn1.tlv(der, alg_start, alg_end)
        if tag != _asn1.OID or der[oid_start:oid_end] != _PSS_OID:
            return None
        digest, mgf_digest, salt = "sha1", "sha1", 20
        if oid_end < alg_end:
            tag, pos, params_end = _asn1.tlv(der, oid_end, alg_end)
            fields = _asn1.children(der, pos, params_end) if tag == _asn1.SEQUENCE else []
            for field, content, field_end in fields:
                if field == _asn1.context(0):  # [0] hashAlgorithm: AlgorithmIdentifier
                    alg, alg_end2 = _asn1.expect(der, content, _asn1.SEQUENCE, field_end)
                    o_start, o_end = _asn1.expect(der, alg, _asn1.OID, alg_end2)
                    digest = _HASH_OIDS[der[o_start:o_end]]
                elif field == _asn1.context(1):  # [1] maskGenAlgorithm: { id-mgf1, AlgorithmIdentifier }
                    mgf, mgf_end = _asn1.expect(der, content, _asn1.SEQUENCE, field_end)
                    _o, mgf_oid_end = _asn1.expect(der, mgf, _asn1.OID, mgf_end)
                    alg, alg_end2 = _asn1.expect(der, mgf_oid_end, _asn1.SEQUENCE, mgf_end)
                    o_start, o_end = _asn1.expect(der, alg, _asn1.OID, alg_end2)
                    mgf_digest = _HASH_OIDS[der[o_start:o_end]]
                elif field == _asn1.context(2):  # [2] saltLength INTEGER
                    i_start, i_end = _asn1.expect(der, content, _asn1.INTEGER, field_end)
                    salt = int.from_bytes(der[i_start:i_end], "big")
        return digest, mgf_digest, salt
    except (ValueError, KeyError):  # DerError is a ValueError
        return None


def _verify_signature_by_hand(child: x509.Certificate, parent: x509.Certificate) -> bool:
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key = parent.public_key()
        sig, tbs = child.signature, child.tbs_certificate_bytes
        pss = None if hasattr(child, "signature_algorithm_parameters") else _pss_parameters(child)
        if pss is not None and isinstance(key, rsa.RSAPublicKey):
            digest, mgf_digest, salt = pss
            key.verify(sig, tbs,
                       padding.PSS(mgf=padding.MGF1(getattr(hashes, _HASHES[mgf_digest])()), salt_length=salt),
                       getattr(hashes, _HASHES[digest])())
            return True
        if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(sig, tbs)
            return True
        algo = child.signature_hash_algorithm
        if algo is None:
            return False  # a digest-based key, but a signature algorithm without a digest
        if isinstance(key, rsa.RSAPublicKey):
            params = getattr(child, "signature_algorithm_parameters", None)
            pad = params if isinstance(params, padding.AsymmetricPadding) else padding.PKCS1v15()
            key.verify(sig, tbs, pad, algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, tbs, ec.ECDSA(algo))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(sig, tbs, algo)
        else:
            return False
    except Exception:
        return False
    return True


def signature_hash(cert: x509.Certificate) -> str | None:
    """Lower-case name of the signature digest (sha1, sha256, ...), or None (Ed25519/unknown)."""
    try:
        algo = cert.signature_hash_algorithm
    except Exception:  # UnsupportedAlgorithm; RSASSA-PSS with cryptography < 41
        pss = _pss_parameters(cert)
        return pss[0] if pss else None
    return algo.name.lower() if algo is not None else None


def public_key_info(key: Any) -> tuple[str, int | None, str | None]:
    """(type, size, curve) for a public or private key object."""
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA", key.key_size, None
    if isinstance(key, (dsa.DSAPublicKey, dsa.DSAPrivateKey)):
        return "DSA", key.key_size, None
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519", 256, None
    if isinstance(key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "Ed448", 456, None
    return type(key).__name__, None, None


def _utc(dt: datetime.datetime) -> datetime.datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=datetime.timezone.utc)


def not_before(cert: x509.Certificate) -> datetime.datetime:
    """The start of the validity, timezone-aware (UTC), on every cryptography version."""
    return _utc(getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before)


def not_after(cert: x509.Certificate) -> datetime.datetime:
    """The end of the validity, timezone-aware (UTC), on every cryptography version."""
    return _utc(getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after)


def days_left(cert: x509.Certificate, now: datetime.datetime | None = None) -> int:
    """Whole days until the certificate expires (negative once it has)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return int((not_after(cert) - now).total_seconds() // 86400)


def is_expired(cert: x509.Certificate, now: datetime.datetime | None = None) -> bool:
    """True when ``now`` (default: now) is after the end of the validity."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return not_after(cert) < now


def is_not_yet_valid(cert: x509.Certificate, now: datetime.datetime | None = None) -> bool:
    """True when ``now`` (default: now) is before the start of the validity."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return not_before(cert) > now


def common_names(cert: x509.Certificate) -> list[str]:
    """The subject's common names (an unreadable subject has none)."""
    try:
        values = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    except Exception:
        return []
    return [v for v in values if isinstance(v, str)]  # a CN is a string (only some attributes are bytes)


def san_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(dns_names, ip_addresses as strings) from subjectAltName; empty lists when absent."""
    san = extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is None:
        return [], []
    return (list(san.get_values_for_type(x509.DNSName)),
            [str(ip) for ip in san.get_values_for_type(x509.IPAddress)])


def describe(cert: x509.Certificate, now: datetime.datetime | None = None) -> dict[str, Any]:
    """A JSON-friendly dict of the facts modules return about a certificate."""
    key_type, key_size, curve = public_key_info(public_key(cert))
    dns, ips = san_names(cert)
    subject_name, issuer_name = _name(cert, "subject"), _name(cert, "issuer")
    try:
        subject, issuer = subject_name.rfc4514_string(), issuer_name.rfc4514_string()
    except Exception as exc:
        raise CertificateError(f"certificate {_label(cert)}: unreadable name ({_short(exc)})")
    return {
        "subject": subject,
        "issuer": issuer,
        "serial_number": f"{cert.serial_number:X}",
        "not_before": not_before(cert).isoformat(),
        "not_after": not_after(cert).isoformat(),
        "days_left": days_left(cert, now),
        "expired": is_expired(cert, now),
        "not_yet_valid": is_not_yet_valid(cert, now),
        "sha1": fingerprint(cert, "sha1"),
        "sha256": fingerprint(cert, "sha256"),
        "thumbprint": thumbprint(cert),
        "is_ca": is_ca(cert),
        "self_signed": is_self_signed(cert),
        "key_type": key_type,
        "key_size": key_size,
        "curve": curve,
        "signature_hash": signature_hash(cert),
        "common_names": common_names(cert),
        "dns_names": dns,
        "ip_addresses": ips,
    }


# --------------------------------------------------------------------------- host names

class HostMatch:
    """Result of matching a host name: ``matched``, ``via`` (san|cn-legacy|None), ``names``."""

    __slots__ = ("matched", "via", "names", "legacy_cn_only")

    def __init__(self, matched: bool, via: str | None, names: list[str], legacy_cn_only: bool = False) -> None:
        self.matched = matched
        self.via = via
        self.names = names
        self.legacy_cn_only = legacy_cn_only

    def as_dict(self) -> dict[str, Any]:
        return {"matched": self.matched, "via": self.via, "names": list(self.names),
                "legacy_cn_only": self.legacy_cn_only}


def _dns_match(pattern: str, host: str) -> bool:
    """RFC 6125: case-insensitive; a wildcard only as the whole left-most label, one label deep."""
    pattern = pattern.rstrip(".").lower()
    host = host.rstrip(".").lower()
    if not pattern or not host:
        return False
    if "*" not in pattern:
        return pattern == host
    p_labels = pattern.split(".")
    h_labels = host.split(".")
    if p_labels[0] != "*" or "*" in ".".join(p_labels[1:]) or len(p_labels) < 3:
        return False  # only "*.example.com"-style wildcards, never "*.com" or "f*o.example"
    if len(h_labels) != len(p_labels):
        return False
    return h_labels[1:] == p_labels[1:] and h_labels[0] != ""


def match_hostname(cert: x509.Certificate, host: str) -> HostMatch:
    """Match ``host`` (name or IP literal) against the certificate as modern clients do.

    SAN DNS/IP entries decide when present.  Only when the certificate has no SAN DNS or IP
    entries is the subject CN tried, and such a match is labelled ``cn-legacy``: Chrome and
    Apple platforms ignore the CN, so it is not a real match for them.
    """
    dns, ips = san_names(cert)
    names = dns + ips
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if any(ipaddress.ip_address(x) == ip for x in ips):
            return HostMatch(True, "san", names)
    elif any(_dns_match(d, host) for d in dns):
        return HostMatch(True, "san", names)
    if names:
        return HostMatch(False, None, names)
    cns = common_names(cert)
    if ip is None and any(_dns_match(cn, host) for cn in cns):
        return HostMatch(True, "cn-legacy", cns, legacy_cn_only=True)
    return HostMatch(False, None, cns, legacy_cn_only=bool(cns))


# --------------------------------------------------------------------------- chains

def order_chain(certs: Iterable[x509.Certificate]) -> list[list[x509.Certificate]]:
    """Order a pile of certificates into chains, leaf first.

    Returns a list of chains (each a list leaf -> ... -> top), one per certificate that issued
    nothing else in the pile.  Duplicates (same SHA-256) are dropped.  Chains stop at a
    self-signed certificate or where no issuer is in the pile.
    """
    unique = []
    seen = set()
    for c in certs:
        fp = c.fingerprint(hashes.SHA256())
        if fp not in seen:
            seen.add(fp)
            unique.append(c)
    issuers_of = {}
    for c in unique:
        issuers_of[id(c)] = [p for p in unique if p is not c and issued_by(c, p)]
    issued_something = set()
    for c in unique:
        for p in issuers_of[id(c)]:
            issued_something.add(id(p))
    ends = [c for c in unique if id(c) not in issued_something]
    if not ends:  # a cycle (cross-signed pair): start anywhere
        ends = unique[:1]
    chains = []
    for leaf in ends:
        chain = [leaf]
        current = leaf
        while not is_self_signed(current):
            nxt = [p for p in issuers_of.get(id(current), []) if p not in chain]
            if not nxt:
                break
            current = nxt[0]
            chain.append(current)
        chains.append(chain)
    return chains


def build_chain(leaf: x509.Certificate, pile: Sequence[x509.Certificate],
                anchors: Sequence[x509.Certificate] = ()) -> tuple[list[x509.Certificate], x509.Certificate | None]:
    """Build leaf -> ... as far as ``pile`` and ``anchors`` allow.

    Returns (chain, anchor) where anchor is the trust anchor from ``anchors`` that issued the
    last certificate of the chain (or the chain's own self-signed top when it is among the
    anchors), else None.
    """
    chain = [leaf]
    current = leaf
    anchor_fps = {a.fingerprint(hashes.SHA256()): a for a in anchors}
    for _step in range(16):
        if current.fingerprint(hashes.SHA256()) in anchor_fps:
            return chain, current
        for a in anchors:
            if issued_by(current, a):
                return chain, a
        if is_self_signed(current):
            return chain, None
        nxt = [p for p in pile if p not in chain and issued_by(current, p)]
        if not nxt:
            return chain, None
        current = nxt[0]
        chain.append(current)
    return chain, None


# --------------------------------------------------------------------------- revocation lists

_CRL_LABEL = b"X509 CRL"


def load_crls(data: bytes | str, source: str = "<input>") -> list[x509.CertificateRevocationList]:
    """Every certificate revocation list in ``data``: PEM (one or more ``X509 CRL`` blocks, in
    file order; other blocks beside them are ignored) or one DER CRL.

    Returns cryptography ``CertificateRevocationList`` objects.  Raises CertificateError naming
    ``source`` when there is no CRL, a block is damaged, or the PEM is cut off (a truncated file
    would lose revocations without a word).
    """
    data = input_bytes(data, source)
    if not data.strip():
        raise CertificateError(f"{source}: empty input, expected a certificate revocation list (PEM X509 CRL or DER)")
    if b"-----BEGIN" in data:
        blocks = _complete_pem_blocks(data, source)
        found = [block for label, block in blocks if label == _CRL_LABEL]
        if not found:
            labels = ", ".join(label.decode("ascii", "replace") for label, _block in blocks) or "a BEGIN line without END"
            raise CertificateError(f"{source}: not a certificate revocation list (PEM holds {labels}; expected X509 CRL)")
        crls = []
        for index, block in enumerate(found, 1):
            try:
                crls.append(x509.load_pem_x509_crl(block))
            except ValueError as exc:
                which = f" #{index}" if len(found) > 1 else ""
                raise CertificateError(f"{source}: damaged certificate revocation list{which} ({_short(exc)}); export it again from the CA "
                                       "(openssl crl -in FILE -noout must read it)")
        return crls
    try:
        return [x509.load_der_x509_crl(data)]
    except ValueError:
        pass
    if _is_der_certificate(data):
        what = "a DER certificate"
    elif _der_key_format(data) == "pkcs12":
        what = "a PKCS#12 archive"
    elif _der_key_format(data) is not None:
        what = "a DER private key"
    else:
        what = "neither a PEM X509 CRL nor DER"
    raise CertificateError(f"{source}: not a certificate revocation list ({what})")


def crl_signed_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    """True when ``ca`` issued ``crl``: the CRL names the CA's subject as its issuer and its
    signature verifies with the CA's public key.  A key type that cannot verify CRL signatures
    counts as not signed (it cannot be shown)."""
    if crl.issuer != ca.subject:
        return False
    try:
        return crl.is_signature_valid(public_key(ca))
    except (TypeError, ValueError, UnsupportedAlgorithm, CertificateError):
        return False


# --------------------------------------------------------------------------- private keys

class KeyInfo:
    """What a private-key file is: format, encryption, type, size, and the loaded key if any."""

    __slots__ = ("format", "encrypted", "key_type", "key_size", "curve", "key", "public", "pem_label")

    def __init__(self, fmt: str, encrypted: bool, pem_label: str | None = None) -> None:
        self.format = fmt  # pkcs1 | pkcs8 | sec1 | openssh
        self.encrypted = encrypted
        self.pem_label = pem_label
        self.key_type: str | None = None
        self.key_size: int | None = None
        self.curve: str | None = None
        self.key: Any = None  # the loaded private key (cryptography), None when not loaded
        self.public: Any = None  # its public key: set whenever the key was read (loaded or not)

    def as_dict(self) -> dict[str, Any]:
        return {"format": self.format, "encrypted": self.encrypted, "key_type": self.key_type,
                "key_size": self.key_size, "curve": self.curve, "pem_label": self.pem_label}


_TRADITIONAL = {b"RSA PRIVATE KEY": ("pkcs1", "RSA"), b"DSA PRIVATE KEY": ("pkcs1", "DSA"),
                b"EC PRIVATE KEY": ("sec1", "EC")}


def _looks_like_pkcs12(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }, DER or BER."""
    if not _asn1.starts_sequence(data):
        return False
    try:
        if data[1:2] == b"\x80":  # BER indefinite length, as some Java/Windows tools write
            pos = 2
        else:
            _tag, pos, _end = _asn1.tlv(data, 0)
        tag, start, end = _asn1.tlv(data, pos)  # version
    except _asn1.DerError:
        return False
    return tag == _asn1.INTEGER and data[start:end] == b"\x03" and data[end:end + 1] == b"\x30"


def _der_key_format(data: bytes) -> str | None:
    """Classify DER by its ASN.1 shape: pkcs8, pkcs8-encrypted, pkcs1, sec1, pkcs12, or None."""
    if _looks_like_pkcs12(data):
        return "pkcs12"
    try:
        start, end = _asn1.whole(data, _asn1.SEQUENCE)
        t1, _s1, e1 = _asn1.tlv(data, start, end)
        if t1 == _asn1.SEQUENCE:  # EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }
            t2, _s2, _e2 = _asn1.tlv(data, e1, end)
            return "pkcs8-encrypted" if t2 == _asn1.OCTET_STRING else None
        if t1 != _asn1.INTEGER:
            return None
        t2, _s2, _e2 = _asn1.tlv(data, e1, end)
        if t2 == _asn1.SEQUENCE:  # PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, OCTET STRING }
            return "pkcs8"
        if t2 == _asn1.INTEGER:  # RSAPrivateKey / DSA ::= SEQUENCE { version, INTEGER, INTEGER, ... }
            return "pkcs1"
        if t2 == _asn1.OCTET_STRING:  # ECPrivateKey ::= SEQUENCE { version, OCTET STRING, ... }
            return "sec1"
    except _asn1.DerError:
        return None
    return None


def _looks_like_der_key(data: bytes) -> bool:
    return _der_key_format(data) not in (None, "pkcs12")


def _openssh_encrypted(block: bytes) -> bool:
    """Whether an OPENSSH PRIVATE KEY block is encrypted: its cipher name is not "none".

    The body is base64 of "openssh-key-v1\\0", then string ciphername, string kdfname, ...
    """
    try:
        body = b"".join(line for line in block.split(b"\n")[1:-1])
        raw = base64.b64decode(body)
    except ValueError:
        return False  # the loader reports the damage
    magic = b"openssh-key-v1\x00"
    if not raw.startswith(magic) or len(raw) < len(magic) + 4:
        return False
    size = int.from_bytes(raw[len(magic):len(magic) + 4], "big")
    return raw[len(magic) + 4:len(magic) + 4 + size] != b"none"


#: The content of the AlgorithmIdentifier of an RSA PrivateKeyInfo: OID rsaEncryption (1.2.840.113549.1.1.1), NULL.
_RSA_ALGORITHM = bytes.fromhex("06092a864886f70d0101010500")


def _strong_probable_prime_base_2(m: int) -> bool:
    """One Miller-Rabin round with base 2 for an odd ``m`` >= 3: False means ``m`` is certainly
    composite (or even, or below 3: such a factor is left to OpenSSL's verdict)."""
    if m < 5 or not m & 1:
        return m == 3
    d = m - 1
    s = (d & -d).bit_length() - 1
    x = pow(2, d >> s, m)
    if x in (1, m - 1):
        return True
    for _round in range(s - 1):
        x = x * x % m
        if x == m - 1:
            return True
    return False


def rsa_private_numbers_problem(n: int, e: int, d: int, p: int, q: int, dp: int, dq: int, qinv: int) -> str | None:
    """Why the numbers of a two-prime RSA private key do not make a valid key, or None when they do.

    The checks of OpenSSL's ``RSA_check_key`` (which ``cryptography`` runs on every RSA key it
    loads), in its order, with one difference: the primality of ``p`` and ``q`` is one
    Miller-Rabin round with base 2 here, where OpenSSL 3 runs 64 rounds (35 to 50 ms on a fleet
    host).  Any damage to a key breaks ``n = p*q`` or a congruence below; a composite factor
    that passes one round exists only when it is built to pass it.
    """
    if e <= 1 or not e & 1:
        return "bad public exponent"
    if not _strong_probable_prime_base_2(p):
        return "p is not prime"
    if not _strong_probable_prime_base_2(q):
        return "q is not prime"
    if p * q != n:
        return "n is not p*q"
    p1, q1 = p - 1, q - 1
    lam = p1 * q1 // math.gcd(p1, q1)
    if d * e % lam != 1:
        return "d*e is not 1 modulo lcm(p-1, q-1)"
    if d % p1 != dp:
        return "dP is not d mod (p-1)"
    if d % q1 != dq:
        return "dQ is not d mod (q-1)"
    try:
        if pow(q, -1, p) != qinv:
            return "qInv is not the inverse of q modulo p"
    except ValueError:
        return "q has no inverse modulo p"
    return None


def _der_positive_integer(data: bytes, start: int, end: int) -> int | None:
    """The value of a minimally encoded positive INTEGER's content, None for any other encoding."""
    if end <= start or data[start] & 0x80 or (data[start] == 0 and end - start > 1 and not data[start + 1] & 0x80):
        return None
    return int.from_bytes(data[start:end], "big")


def _rsa_private_numbers(der: bytes, form: str) -> tuple[int, ...] | None:
    """``(n, e, d, p, q, dP, dQ, qInv)`` of a two-prime RSAPrivateKey (``form`` "pkcs1") or of an
    unencrypted PKCS#8 PrivateKeyInfo holding one, no attributes (``form`` "pkcs8"), in strict
    DER; None for anything else."""
    try:
        start, end = _asn1.whole(der, _asn1.SEQUENCE)
        items = _asn1.der_children(der, start, end)
        if (len(items) == 3 and items[1][0] == _asn1.SEQUENCE) != (form == "pkcs8"):
            return None
        if form == "pkcs8":  # PrivateKeyInfo
            (t0, s0, e0), (_t1, s1, e1), (t2, s2, e2) = items
            if t0 != _asn1.INTEGER or der[s0:e0] != b"\x00" or der[s1:e1] != _RSA_ALGORITHM \
                    or t2 != _asn1.OCTET_STRING:
                return None
            der = der[s2:e2]
            start, end = _asn1.whole(der, _asn1.SEQUENCE)
            items = _asn1.der_children(der, start, end)
        if len(items) != 9 or any(tag != _asn1.INTEGER for tag, _s, _e in items) \
                or der[items[0][1]:items[0][2]] != b"\x00":
            return None
    except _asn1.DerError:
        return None
    values = tuple(_der_positive_integer(der, s, e) for _tag, s, e in items[1:])
    return None if None in values else values


def _pem_body(block: bytes) -> bytes | None:
    """The DER of a PEM block written the usual way (64-character base64 lines, no headers), else None."""
    lines = block.split(b"\n")[1:-1]
    if not lines or any(len(line) != 64 for line in lines[:-1]) or not 0 < len(lines[-1]) <= 64 \
            or any(b":" in line for line in lines):
        return None
    try:
        return base64.b64decode(b"".join(lines), validate=True)
    except ValueError:
        return None


def _rsa_public_half(der: bytes | None, form: str) -> Any:
    """The public key of an unencrypted two-prime RSA private key whose numbers pass
    :func:`rsa_private_numbers_problem`, without loading the private key; None for any other key
    (the caller loads it with cryptography, which then gives the verdict)."""
    numbers = _rsa_private_numbers(der, form) if der else None
    if numbers is None or rsa_private_numbers_problem(*numbers) is not None:
        return None
    try:
        return rsa.RSAPublicNumbers(numbers[1], numbers[0]).public_key()
    except ValueError:
        return None


def _is_der_certificate(data: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(data)
    except Exception:
        return False
    return True


def inspect_private_key(data: bytes | str, passphrase: bytes | str | None = None,
                        source: str = "<input>", private: bool = True) -> KeyInfo:
    """Detect a private key's format and, when it can be read, its type, size and public key.

    ``private=False`` is for callers that need only the facts and ``KeyInfo.public`` (checks, TSM
    plans): an unencrypted two-prime RSA key (PKCS#1 or PKCS#8, PEM or DER) is then read by the
    DER layer and checked with :func:`rsa_private_numbers_problem` instead of being loaded, and
    ``KeyInfo.key`` stays None; every other key, and an RSA key that check refuses, is loaded as
    with ``private=True`` (so cryptography's error is the one reported).

    PEM labels tell PKCS#1 ("RSA/DSA PRIVATE KEY", encrypted when "Proc-Type: 4,ENCRYPTED"),
    SEC1 ("EC PRIVATE KEY"), PKCS#8 ("PRIVATE KEY") and encrypted PKCS#8 ("ENCRYPTED PRIVATE
    KEY"); DER is classified by its ASN.1 structure.  An encrypted key without a passphrase is
    described (format, encrypted) without being loaded.  A wrong passphrase raises
    CertificateError saying so.  A certificate or garbage raises CertificateError.
    """
    data = input_bytes(data, source)
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if not data.strip():
        raise CertificateError(f"{source}: empty input, expected a private key")
    blocks = _complete_pem_blocks(data, source)
    loader: Callable[..., Any]
    if blocks:
        keys = [(label, block) for label, block in blocks if label in _KEY_LABELS]
        if not keys:
            labels = ", ".join(label.decode("ascii", "replace") for label, _block in blocks)
            raise CertificateError(f"{source}: no private key in PEM blocks (found: {labels})")
        if len(keys) > 1:
            raise CertificateError(f"{source}: holds {len(keys)} private keys, expected one")
        label, block = keys[0]
        if label == b"OPENSSH PRIVATE KEY":
            info = KeyInfo("openssh", _openssh_encrypted(block), "OPENSSH PRIVATE KEY")
            loader = serialization.load_ssh_private_key
        elif label in _TRADITIONAL:
            fmt, _ktype = _TRADITIONAL[label]
            info = KeyInfo(fmt, b"Proc-Type: 4,ENCRYPTED" in block, label.decode())
            loader = serialization.load_pem_private_key
        else:
            info = KeyInfo("pkcs8", label == b"ENCRYPTED PRIVATE KEY", label.decode())
            loader = serialization.load_pem_private_key
        payload = block
    else:
        if b"-----BEGIN" in data:
            raise CertificateError(f"{source}: truncated or damaged PEM (BEGIN line without a matching END)")
        shape = _der_key_format(data)
        if shape == "pkcs12":
            raise CertificateError(_PKCS12_MESSAGE.format(source=source, what="private key", file=_file_of(source),
                                                          option="-nocerts"))
        if shape is None:
            if _is_der_certificate(data):
                raise CertificateError(f"{source}: holds a DER certificate, not a private key")
            raise CertificateError(f"{source}: not a PEM or DER private key")
        info = KeyInfo("pkcs8" if shape.startswith("pkcs8") else shape, shape == "pkcs8-encrypted")
        loader = serialization.load_der_private_key
        payload = data
    if info.encrypted and not passphrase:
        return info
    if not private and not info.encrypted and info.format in ("pkcs1", "pkcs8") \
            and info.pem_label in (None, "RSA PRIVATE KEY", "PRIVATE KEY"):
        public = _rsa_public_half(_pem_body(payload) if blocks else payload, info.format)
        if public is not None:
            info.public = public
            info.key_type, info.key_size, info.curve = "RSA", public.key_size, None
            return info
    try:
        key = loader(payload, password=passphrase if info.encrypted else None)
    except TypeError as exc:
        # cryptography: "Password was not given but private key is encrypted" and vice versa
        raise CertificateError(f"{source}: {_short(exc)}")
    except ValueError as exc:
        text = str(exc)
        if info.encrypted and ("password" in text.lower() or "decrypt" in text.lower() or "bad" in text.lower()):
            raise CertificateError(f"{source}: wrong passphrase for the encrypted private key")
        if info.encrypted:
            raise CertificateError(f"{source}: cannot decrypt the private key: wrong passphrase or damaged key ({_short(exc)})")
        raise CertificateError(f"{source}: damaged private key ({_short(exc)})")
    except UnsupportedAlgorithm as exc:
        raise CertificateError(f"{source}: unsupported key algorithm or encryption ({_short(exc)})")
    except Exception as exc:
        raise CertificateError(f"{source}: unreadable private key ({_short(exc)})")
    info.key = key
    info.public = key.public_key()
    info.key_type, info.key_size, info.curve = public_key_info(key)
    return info


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches_cert(key: Any, cert: x509.Certificate) -> bool:
    """True when ``key`` (a private key, or the public half ``KeyInfo.public``) is the certificate's key."""
    public = key.public_key() if callable(getattr(key, "public_key", None)) else key
    return _spki(public) == _spki(public_key(cert))
