# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One enveloped XML-signature verification, shared by SAML metadata and SAML responses.

:func:`verify_signature` verifies one ``ds:Signature`` element of a document with signxml
against candidate certificates and returns a :class:`SignatureCheck` that says

* which candidate verified it (``signer``, ``trusted``),
* why it did not: ``tampered`` (digest mismatch: the signed content changed after signing),
  ``foreign-signer`` (it verifies with the certificate it carries in KeyInfo, which is not a
  candidate), ``wrapping`` (the signed ID is carried by several elements, or the document
  element with that ID is not what was signed) or ``invalid`` (anything else),
* what the reason is, in this module's own words (never a library's text or its API hints),
* and which element of the document it covers (``covered``): the element with the referenced
  ``ID`` (or the document root for ``URI=""``), which must be unique and whose exclusive
  canonical form, minus the enveloped signature, must equal the bytes signxml verified
  (``signed_xml``).  Callers read facts only from ``covered`` (or ``signed_xml``) and decide
  themselves whether that is the element they expected (their wrapping policy).

A candidate certificate is trusted for its *key*: the signature is verified as of a moment
inside the certificate's validity, for metadata (the SAML V2.0 Metadata Interoperability
Profile trusts the key, not the certificate's dates) and responses (a configured IdP key is
trusted because it was configured) alike.  Whether an expired signer deserves a finding is the
caller's policy, reported under its own code, never as "does not verify".

:func:`x509_certificate` decodes a ``ds:X509Certificate`` element's text and says whether it
held base64 of DER (what XML-DSig requires) or of PEM text.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import re
import traceback
from collections.abc import Sequence
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.xml import NS, etree

#: signxml's names and what this module derives from them, filled on first need by :func:`_signxml`
_SIGNXML: dict[str, Any] = {}
#: the module attributes that import signxml when first read (see :func:`__getattr__`)
_LAZY = ("HAS_SIGNXML", "SIGNXML_IMPORT_ERROR", "ALL_METHODS", "ALL_DIGESTS")

DS = NS["ds"]
SIGNATURE = f"{{{DS}}}Signature"

#: why a signature is not valid
TAMPERED = "tampered"
FOREIGN_SIGNER = "foreign-signer"
WRAPPING = "wrapping"
INVALID = "invalid"


def _signxml() -> dict[str, Any]:
    """signxml, imported on first need and kept: ``HAS_SIGNXML``, ``SIGNXML_IMPORT_ERROR`` and, when
    it imports, its classes, ``ALL_METHODS``, ``ALL_DIGESTS`` and ``ERRORS`` (what a verification may
    raise).  An unsigned document never needs it, so a check of one does not pay for its import
    (about 10 ms on top of lxml and cryptography; issue 16)."""
    if not _SIGNXML:
        try:
            from signxml import (  # pylint: disable=import-outside-toplevel
                DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier)
            from signxml.exceptions import (  # pylint: disable=import-outside-toplevel
                InvalidDigest, InvalidInput, SignXMLException)
        except (ImportError, AttributeError):  # pragma: no cover - reported by the callers
            _SIGNXML.update(HAS_SIGNXML=False, SIGNXML_IMPORT_ERROR=traceback.format_exc())
        else:
            _SIGNXML.update(
                HAS_SIGNXML=True, SIGNXML_IMPORT_ERROR=None, SignatureConfiguration=SignatureConfiguration,
                XMLVerifier=XMLVerifier, InvalidDigest=InvalidDigest, InvalidInput=InvalidInput,
                ALL_METHODS=frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC")),
                ALL_DIGESTS=frozenset(DigestAlgorithm),
                ERRORS=(SignXMLException, etree.LxmlError, ValueError, KeyError, TypeError, AttributeError,
                        certs.UnsupportedAlgorithm, certs.InvalidSignature))
    return _SIGNXML


def __getattr__(name: str) -> Any:
    """``HAS_SIGNXML`` (bool), ``SIGNXML_IMPORT_ERROR`` (the import's traceback, or None),
    ``ALL_METHODS``, ``ALL_DIGESTS``: reading one imports signxml (once)."""
    if name in _LAZY and name in _signxml():
        return _SIGNXML[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_signature_methods() -> tuple[frozenset, frozenset]:
    """``(signature methods, digest algorithms)`` accepted: every one signxml knows but HMAC
    (a blocklist is a policy finding of the caller, not a verification failure)."""
    names = _signxml()
    return names["ALL_METHODS"], names["ALL_DIGESTS"]


def references(signature: Any) -> list[str | None]:
    """The ``URI`` of every ``ds:Reference`` of a ``ds:Signature`` element."""
    info = signature.find(f"{{{DS}}}SignedInfo")
    return [r.get("URI") for r in info.findall(f"{{{DS}}}Reference")] if info is not None else []


class SignatureCheck:
    """The verdict on one ``ds:Signature``.

    ``valid``: True / False; ``problem``: None or one of ``tampered``, ``foreign-signer``,
    ``wrapping``, ``invalid``; ``reason``: text; ``signer``: the certificate that verified it
    (a candidate, or the KeyInfo certificate for a foreign signer or when no candidate was
    given); ``trusted``: the signer is a candidate; ``covers``: the referenced ID (None for
    ``URI=""``); ``signed_xml``: the element signxml rebuilt from the signed bytes;
    ``covered``: the document element proven to be that content (None unless valid).
    """

    __slots__ = ("node", "valid", "problem", "reason", "signer", "trusted", "covers", "signed_xml",
                 "covered")

    def __init__(self, node: Any) -> None:
        self.node = node
        self.valid: bool | None = None
        self.problem: str | None = None
        self.reason: str | None = None
        self.signer: certs.x509.Certificate | None = None
        self.trusted = False
        self.covers: str | None = None
        self.signed_xml: Any = None
        self.covered: Any = None

    def _fail(self, problem: str, reason: str) -> SignatureCheck:
        self.valid, self.problem, self.reason, self.covered = False, problem, reason, None
        return self


def _location(root: Any, parent: Any) -> str:
    if parent is root:
        return "./"
    return "./" + root.getroottree().getelementpath(parent) + "/"


def _midlife(cert: certs.x509.Certificate) -> datetime.datetime:
    """A moment inside the certificate's validity (its dates are then not held against it)."""
    start, end = certs.not_before(cert), certs.not_after(cert)
    return start + (end - start) / 2


def _signxml_verify(root: Any, location: str, cert: certs.x509.Certificate) -> Any:
    names = _signxml()
    config = names["SignatureConfiguration"](
        location=location, expect_references=1, signature_methods=names["ALL_METHODS"],
        digest_algorithms=names["ALL_DIGESTS"], verification_time=_midlife(cert), ignore_ambiguous_key_info=True)
    return names["XMLVerifier"]().verify(root, x509_cert=cert, expect_config=config, id_attribute="ID")


#: our words for the verifier's structural complaints (first words of its message -> reason)
_INPUT_REASONS = (
    ("Expected to find", "the signature does not have the expected structure (one reference, SignedInfo, "
                         "SignatureValue)"),
    ("Unable to resolve reference", "the reference does not point at an element of the document"),
    ("References without URIs", "a reference has no URI"),
    ("XPointer", "a reference uses an XPointer, which is not accepted"),
    ("External URI", "a reference points outside the document"),
    ("Unsupported signature algorithm", "the signature method is not supported"),
    ("DER encoded key value", "the key in KeyInfo does not fit the signature method"),
)


def _failure(exc: BaseException) -> tuple[str, str]:
    """``(problem, reason)`` for a verifier exception, in our words: the library's own text (and
    its API hints such as ``SignatureConfiguration(...)``) never reaches a message."""
    text = str(exc).strip()
    names = _signxml()
    if isinstance(exc, names["InvalidDigest"]):
        return TAMPERED, "digest mismatch: the signed content was changed after signing"
    if isinstance(exc, names["InvalidInput"]) and text.startswith("Ambiguous reference"):
        return WRAPPING, "several elements carry the signed ID"
    if isinstance(exc, names["InvalidInput"]):
        for start, reason in _INPUT_REASONS:
            if text.startswith(start):
                return INVALID, reason
        return INVALID, "the signature is malformed"
    if isinstance(exc, (certs.InvalidSignature,)) or "Signature verification failed" in text:
        return INVALID, "the signature value does not verify with the certificate's key"
    if isinstance(exc, etree.LxmlError):
        return INVALID, "the signed content cannot be canonicalised"
    return INVALID, f"the signature cannot be verified ({type(exc).__name__})"


def _accept(check: SignatureCheck, result: Any, cert: certs.x509.Certificate, trusted: bool) -> SignatureCheck:
    check.valid, check.signer, check.trusted = True, cert, trusted
    check.signed_xml = result.signed_xml
    refs = references(check.node)
    check.covers = ((refs[0] if refs else "") or "").lstrip("#") or None
    return check


def verify_signature(root: Any, node: Any, candidates: Sequence[certs.x509.Certificate],
                     embedded: Sequence[certs.x509.Certificate] = ()) -> SignatureCheck:
    """Verify the enveloped ``ds:Signature`` ``node`` of the document ``root`` with each
    certificate of ``candidates`` and bind it to the element it covers; returns a
    :class:`SignatureCheck`.

    When no candidate verifies, the certificates the signature carries (``embedded``) tell a
    foreign signer from a changed document; without candidates a signature that verifies with
    its own certificate is valid but not ``trusted``.  Certificates are trusted for their key:
    their dates are not held against them (see the module text).  Needs signxml
    (:data:`HAS_SIGNXML`).
    """
    check = SignatureCheck(node)
    location = _location(root, node.getparent())
    # the key was right (or the ID is ambiguous) when the digest or the binding fails: another key will not help
    signer, result, last = _first_verifying(root, location, candidates, final=(TAMPERED, WRAPPING))
    if signer is not None:
        _accept(check, result, signer, True)
        return _bind(root, check)
    if last is not None and last[0] in (TAMPERED, WRAPPING):
        return check._fail(*last)
    # no candidate verifies it (or there is none): is it sound with the certificate it carries?
    carried, result, embedded_failure = _first_verifying(root, location, embedded)
    if carried is not None:
        _accept(check, result, carried, False)
        _bind(root, check)
        if check.valid and candidates:
            check.valid, check.problem = False, FOREIGN_SIGNER
            check.reason = (f"signed by the certificate in KeyInfo ({certs.fingerprint(carried)}), which is not a "
                            "trusted signing certificate")
        elif check.valid:
            check.reason = "verified only with the certificate the signature carries"
        return check
    none = (INVALID, "no trusted certificate given and the signature carries none")
    return check._fail(*(last or embedded_failure or none))


def _first_verifying(root: Any, location: str, certificates: Sequence[certs.x509.Certificate],
                     final: tuple[str, ...] = ()) -> tuple[Any, Any, tuple[str, str] | None]:
    """``(certificate, signxml's result, None)`` for the first of ``certificates`` whose key verifies
    the signature, else ``(None, None, (problem, reason))`` of the last failure (None without
    certificates); a failure whose problem is in ``final`` ends the search."""
    failure = None
    errors = _signxml()["ERRORS"]
    for cert in certificates:
        try:
            return cert, _signxml_verify(root, location, cert), None
        except errors as exc:
            failure = _failure(exc)
            if failure[0] in final:
                break
    return None, None, failure


def _bind(root: Any, check: SignatureCheck) -> SignatureCheck:
    """Find the document element ``check`` covers and prove it is what was signed: unique ID and
    canonical form (minus the enveloped signature, as the transform does) equal to signxml's
    signed bytes rebuilt.  Sets ``check.covered``; a mismatch is signature wrapping."""
    if check.covers is None:
        matches = [root]
    else:
        matches = root.xpath("//*[@ID=$value]", value=check.covers)
    if len(matches) != 1:
        return check._fail(WRAPPING, f"{len(matches)} elements carry the signed ID {check.covers!r}")
    if check.signed_xml is None or c14n_without(matches[0], check.node) != c14n(check.signed_xml):
        return check._fail(WRAPPING, f"the element with ID {check.covers!r} differs from the content that was signed")
    check.covered = matches[0]
    return check


def c14n(element: Any) -> bytes:
    """Exclusive canonical XML of ``element``, without comments."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def c14n_without(element: Any, node: Any) -> bytes:
    """Exclusive c14n of ``element`` with ``node`` (a descendant) removed, keeping its tail
    text, which is what the enveloped-signature transform does."""
    indices = []
    walk = node
    while walk is not None and walk is not element:
        parent = walk.getparent()
        if parent is None:
            return c14n(element)
        indices.append(parent.index(walk))
        walk = parent
    if walk is None or not indices:
        return c14n(element)
    clone = copy.deepcopy(element)
    target = clone
    for index in reversed(indices):
        target = target[index]
    parent, tail = target.getparent(), target.tail
    previous = target.getprevious()
    parent.remove(target)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    return c14n(clone)


# --------------------------------------------------------------------------- ds:X509Certificate

#: how a ds:X509Certificate element was encoded
DER = "der"
PEM = "pem"


class X509CertificateError(ValueError):
    """A ds:X509Certificate element whose text is not base64 of a certificate."""


def x509_certificate(text: str | None, what: str = "X509Certificate") -> tuple[certs.x509.Certificate, str]:
    """``(certificate, encoding)`` of a ``ds:X509Certificate`` element's text.

    XML-DSig (section 4.4.4) requires base64 of the DER certificate: ``encoding`` is ``der``
    then, and ``pem`` when the base64 decodes to PEM text (``-----BEGIN CERTIFICATE-----``)
    instead; that certificate is read all the same and the caller reports the deviation.
    Raises :class:`X509CertificateError` (naming ``what``) for text that is not base64 of a
    certificate, and for a key type the cryptography library cannot use.
    """
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", text or ""), validate=True)
    except (binascii.Error, ValueError):
        raise X509CertificateError(f"{what}: not base64")
    if not raw:
        raise X509CertificateError(f"{what}: empty")
    encoding = PEM if raw.lstrip()[:11] == b"-----BEGIN " else DER
    try:
        cert = certs.load_certificate(raw, what)
        cert.public_key()
    except (certs.CertificateError, ValueError, certs.UnsupportedAlgorithm) as exc:
        raise X509CertificateError(str(exc).splitlines()[0][:200] if str(exc).strip() else
                                   f"{what}: not a certificate")
    return cert, encoding
