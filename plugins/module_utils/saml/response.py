# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tableau Server's rules for the SAML Response and Assertion an IdP sends (codes ``SAML-1NN``).

Input is a Response (or a bare Assertion) as an IdP posts it to
``https://<tableauserver>/wg/saml/SSO/index.html``: the XML itself, the base64 ``SAMLResponse``
form value a browser trace shows, the whole form body, or the deflated HTTP-Redirect form.

Signatures are verified with signxml against the IdP's signing certificates (from its
metadata, or given directly), and the attributes are read *only* from the element the
verified signature covers: signxml returns that subtree rebuilt from the signed bytes.  When the
Assertion a plain reader would take (the first ``saml:Assertion`` child of the Response) is
not that element, the response is a signature-wrapping (XSW) attempt and says so (SAML-124).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import (
    AUTHCONTEXTS_KEY,
    BLOCKLIST_KEY,
    EC_KEY,
    REGISTRY,
    RSA_KEY,
    Policy,
    Rule,
    SamlError,
    Seed,
    finding,
    normalize_digest,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml import metadata
from ansible_collections.trustops.tableau.plugins.module_utils.saml.urls import describe_difference
from ansible_collections.trustops.tableau.plugins.module_utils.xml import (
    DEFAULT_MAX_BYTES,
    NS,
    XmlError,
    etree,
    parse_xml,
    sniff_encoding,
)
from ansible_collections.trustops.tableau.plugins.module_utils import xmlsig
from ansible_collections.trustops.tableau.plugins.module_utils.xmlsig import HAS_SIGNXML

if TYPE_CHECKING:  # cryptography may be missing where only the names are needed
    from cryptography import x509

SAML = NS["saml"]
SAMLP = NS["samlp"]
DS = NS["ds"]
XSI_TYPE = "{{{}}}type".format(NS["xsi"])
XS = NS["xs"]
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
GROUPS_CLAIM = "https://tableau.com/groups"
SCOPES = ("server", "site")

_MAP_USER = "tsm authentication saml map-assertions --user-name <attribute>"
_IDP_DESCRIPTOR = "IDPSSODescriptor"
_IDP_DESCRIPTOR_TAG = "{{{}}}{}".format(NS["md"], _IDP_DESCRIPTOR)

# --------------------------------------------------------------------------- the rules
# Each rule quotes the sentence of Tableau's "SAML Requirements" page (seed 002) it enforces
# (rules.Seed, shared with the SAML-0NN rules).

RESPONSE_RULES = REGISTRY.register(
    Rule("SAML-101", "error", "{source}: the response is {problem}; Tableau Server requires UTF-8",
         "Configure the IdP to send UTF-8 encoded assertions (most IdPs do by default; check a custom "
         "template or a proxy that re-encodes)", seed=Seed.UTF8,
         title="Response is not UTF-8"),
    Rule("SAML-102", "error", "the IdP answered with status {status}{detail}, not Success",
         "Fix the sign-in on the IdP side first (the status message says why); Tableau Server signs "
         "nobody in from a failed response", seed=Seed.VALIDATES,
         title="IdP status is not Success"),
    Rule("SAML-103", "error", "the response carries no assertion",
         "Configure the IdP to return a signed assertion for the Tableau Server SP", seed=Seed.USERNAME,
         title="Response without an assertion"),
    Rule("SAML-104", "warning", "the response carries {count} assertions ({ids}); Tableau Server reads one",
         "Send exactly one assertion per response; extra assertions are also how signature-wrapping "
         "attacks are built", seed=Seed.VERIFY,
         title="Several assertions in one response"),
    Rule("SAML-110", "error", "the assertion has no {attribute!r} attribute in its AttributeStatement{hint}",
         "Release an attribute named {attribute!r} for the Tableau Server SP on the IdP, or map the "
         "attribute the IdP sends with " + _MAP_USER + " (names are case-sensitive)",
         seed=Seed.USERNAME + " " + Seed.MAP,
         title="No username attribute"),
    Rule("SAML-111", "error", "the {attribute!r} attribute value is {found}, not xs:string",
         "Type the attribute as xs:string on the IdP (xsi:type=\"xs:string\"); xs:any/xs:anyType or an "
         "untyped value is refused", seed=Seed.TYPE,
         title="username attribute is not xs:string"),
    Rule("SAML-112", "error", "the {attribute!r} attribute is empty",
         "Release the user's name in the {attribute!r} attribute; it must match the user name stored in "
         "Tableau Server", seed=Seed.MATCH,
         title="Empty username attribute"),
    Rule("SAML-113", "warning", "the {attribute!r} attribute has {count} values ({values}); Tableau Server "
         "matches one user name", "Send a single value", seed=Seed.MATCH,
         title="Several username values"),
    Rule("SAML-114", "info", "the user name {username!r} is not in email address format",
         "With a local identity store use full email addresses as user names on both sides, so that "
         "names stay unique across email domains", seed=Seed.EMAIL,
         title="User name is not an email address"),
    Rule("SAML-120", "error", "the {element} is signed with {algorithm} (digest {digest}); {blocked} is "
         "blocklisted", "Configure the IdP to sign with RSA-SHA256 (or stronger) and a SHA-256 digest",
         tsm_key=BLOCKLIST_KEY, seed=Seed.SHA1,
         title="Response signed with a blocklisted algorithm"),
    Rule("SAML-121", "error", "neither the Response nor the assertion is signed",
         "Configure the IdP to sign the assertion (or the whole response) with its metadata signing "
         "certificate", seed=Seed.VERIFY,
         title="Response not signed"),
    Rule("SAML-122", "error", "the {element} signature does not verify: {reason}",
         "The document was changed after the IdP signed it, or it was not signed with this key: capture "
         "it again unmodified (a proxy or copy-paste may have altered it)", seed=Seed.VERIFY,
         title="Response signature does not verify"),
    Rule("SAML-123", "error", "the {element} is signed by a certificate that is not the IdP's signing "
         "certificate: signed by {signer}, expected {expected}",
         "Import the IdP's current metadata into Tableau Server (tsm authentication saml configure "
         "--idp-metadata), or make the IdP sign with the certificate its metadata publishes",
         seed=Seed.VERIFY,
         title="Signed by another certificate than the IdP's"),
    Rule("SAML-124", "error", "signature wrapping: {detail}",
         "Do not trust this response: the element whose attributes are read must be the very element "
         "the IdP's signature covers. Investigate where it came from", seed=Seed.VERIFY,
         title="Signature wrapping"),
    Rule("SAML-125", "warning", "the signature was not checked against the IdP: {reason}",
         "Give the IdP metadata (or its signing certificate) to check who signed the response",
         seed=Seed.VERIFY,
         title="Signature not checked against the IdP"),
    Rule("SAML-126", "error", "the response is signed with an RSA {key_size}-bit key; the minimum is "
         "{minimum}", "Use an IdP signing certificate with an RSA key of at least 2048 bits",
         tsm_key=RSA_KEY, seed=Seed.SIZES + " " + Seed.SIZES_RELAX,
         title="Response signing RSA key too small"),
    Rule("SAML-127", "error", "the response is signed with an EC key on {curve} ({key_size} bits); the "
         "minimum is {minimum}", "Use an IdP signing certificate on P-256 or a larger curve",
         tsm_key=EC_KEY, seed=Seed.SIZES + " " + Seed.SIZES_RELAX,
         title="Response signing EC curve too small"),
    Rule("SAML-128", "warning", "{where}: the X509Certificate holds base64 of PEM text, not of a DER "
         "certificate as XML-DSig requires",
         "Configure the IdP to put only the base64 body of its certificate (the lines between -----BEGIN "
         "CERTIFICATE----- and -----END CERTIFICATE-----, which encode the DER certificate) in "
         "X509Certificate: Tableau Server's SAML library may not accept the PEM form", seed=Seed.VERIFY,
         title="PEM text in a response X509Certificate"),
    Rule("SAML-130", "error", "the authentication context {found} is not one of the allowed {allowed}",
         "Make the IdP authenticate with one of the allowed contexts, or change the allowed list",
         tsm_key=AUTHCONTEXTS_KEY, seed=Seed.AUTHN,
         title="Authentication context not allowed"),
    Rule("SAML-131", "info", "authcontexts are ignored for site-specific SAML",
         "Nothing to do for site SAML; the list applies to server-wide SAML only",
         tsm_key=AUTHCONTEXTS_KEY, seed=Seed.AUTHN_SITE,
         title="authcontexts ignored for site SAML"),
    Rule("SAML-140", "error", "the assertion has no bearer SubjectConfirmation{detail}",
         "Configure the IdP for the SAML 2.0 Web Browser SSO profile (POST binding, bearer "
         "confirmation)", seed=Seed.VALIDATES,
         title="No bearer SubjectConfirmation"),
    Rule("SAML-141", "error", "the SubjectConfirmation Recipient {found!r} is not the ACS URL {expected!r} "
         "({difference})", "Configure the IdP with exactly {expected} (case-sensitive){offload}",
         seed=Seed.LOGIN + " " + Seed.CASE,
         title="Recipient is not the ACS URL"),
    Rule("SAML-142", "error", "the Response Destination {found!r} is not the ACS URL {expected!r} "
         "({difference})", "Configure the IdP with exactly {expected} (case-sensitive){offload}",
         seed=Seed.LOGIN + " " + Seed.CASE,
         title="Destination is not the ACS URL"),
    Rule("SAML-143", "error", "the assertion's audience {found} does not include the SP entity ID "
         "{expected!r}", "Configure the IdP application with Tableau Server's entity ID exactly "
         "(case-sensitive)", seed=Seed.CASE,
         title="Audience lacks the SP entity ID"),
    Rule("SAML-144", "error", "the response issuer {found!r} is not the IdP's entityID {expected!r}",
         "Check that the response comes from the IdP whose metadata Tableau Server has", seed=Seed.CASE,
         title="Issuer is not the IdP's entityID"),
    Rule("SAML-145", "info", "the assertion expired at {not_on_or_after} ({ago} ago); a captured "
         "response cannot be replayed", "Nothing to do for a captured trace", seed=Seed.VALIDATES,
         title="Assertion expired"),
    Rule("SAML-146", "warning", "the assertion is not valid before {not_before} ({ahead} from now)",
         "Synchronise the clocks of the IdP and Tableau Server (NTP)", seed=Seed.VALIDATES,
         title="Assertion not yet valid"),
    Rule("SAML-147", "error", "no bearer SubjectConfirmation has {missing}; the SAML 2.0 Web Browser "
         "SSO profile requires it whatever the ACS URL",
         "Configure the IdP for the SAML 2.0 Web Browser SSO profile: its bearer SubjectConfirmation "
         "must carry SubjectConfirmationData with Recipient (Tableau Server's ACS URL, "
         "https://<tableauserver>/wg/saml/SSO/index.html) and NotOnOrAfter", seed=Seed.VALIDATES + " " + Seed.LOGIN,
         title="Bearer confirmation without Recipient or NotOnOrAfter"),
    Rule("SAML-150", "info", "dynamic group claims ({claim}): {groups}",
         "Tableau Server 2024.2+ asserts the user into these groups when the capability is enabled",
         seed=Seed.GROUPS,
         title="Dynamic group claims"),
    Rule("SAML-160", "info", "the assertion is encrypted; server-wide SAML supports encrypted "
         "assertions (its attributes cannot be checked here without the SP key)",
         "Make sure the IdP encrypts for the SAML certificate uploaded to Tableau Server",
         seed=Seed.ENC_SERVER,
         title="Encrypted assertion (server-wide SAML)"),
    Rule("SAML-161", "error", "the assertion is encrypted; site-specific SAML does not support "
         "encrypted assertions", "Turn off assertion encryption for this site's IdP application",
         seed=Seed.ENC_SITE,
         title="Encrypted assertion on site SAML"),
    Rule("SAML-170", "info", "the captured form has no RelayState",
         "For sign-ins from Tableau Desktop or Tableau Mobile the IdP (and every proxy) must return "
         "the RelayState, or users land on the web home page", seed=Seed.RELAY,
         title="Form without RelayState"),
)

# --------------------------------------------------------------------------- input forms

_XML_START = re.compile(br"^(\xef\xbb\xbf|\xff\xfe|\xfe\xff|\x00<|<\x00)?\s*<")
_B64_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")
_DECL_ENCODING = re.compile(r"""^(\ufeff?\s*<\?xml\s[^>]*?)\s+encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\2""")


def _looks_like_xml(data):
    return bool(_XML_START.match(data[:64]))


def decode_input(data: bytes | bytearray | memoryview | str, source: str = "<input>",
                 max_bytes: int | None = DEFAULT_MAX_BYTES) -> tuple[bytes | str, str, str | None]:
    """``(document, input_format, relay_state)`` from what a user pasted or captured.

    ``input_format`` is ``xml`` (the document itself), ``base64`` (the SAMLResponse form value),
    ``form`` (a whole ``SAMLResponse=...&RelayState=...`` form body, URL-encoded or not) or
    ``deflate-base64`` (the HTTP-Redirect binding's value).  ``relay_state`` is the RelayState of
    a form body (``""`` when the form has none), else None.  Raises SamlError for anything else.
    """
    if isinstance(data, str):
        if data.lstrip("\ufeff \t\r\n").startswith("<"):
            return data, "xml", None
        try:
            raw = data.strip().encode("ascii")
        except UnicodeEncodeError:
            raise SamlError(f"{source}: neither XML nor a base64 SAMLResponse value (non-ASCII text)")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if _looks_like_xml(raw):
            return raw, "xml", None
        raw = raw.strip()
    else:
        raise SamlError(f"{source}: expected text or bytes, got {type(data).__name__}")
    if not raw:
        raise SamlError(f"{source}: empty input, expected a SAML Response")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise SamlError(f"{source}: neither XML nor a base64 SAMLResponse value")
    input_format, relay_state = "base64", None
    if "SAMLResponse=" in text or "SAMLResponse%3D" in text:
        from urllib.parse import parse_qs, unquote
        if "SAMLResponse=" not in text:
            text = unquote(text)
        fields = parse_qs(text.strip().lstrip("?"), keep_blank_values=True)
        if not (fields.get("SAMLResponse") or [""])[0].strip():
            raise SamlError(f"{source}: a form without a SAMLResponse value")
        # a pasted, not URL-encoded value has '+' where parse_qs now sees spaces
        text = fields["SAMLResponse"][0].replace(" ", "+")
        relay_state = (fields.get("RelayState") or [""])[0]
        input_format = "form"
    elif "%" in text:
        from urllib.parse import unquote
        text = unquote(text)
    compact = re.sub(r"\s+", "", text)
    if not compact or not _B64_CHARS.match(compact):
        raise SamlError(f"{source}: neither XML nor a base64 SAMLResponse value")
    if max_bytes is not None and len(compact) * 3 // 4 > max_bytes:
        raise SamlError(f"{source}: the base64 value decodes to more than the limit of {max_bytes} bytes")
    compact += "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            decoded = base64.urlsafe_b64decode(compact)
        else:
            decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SamlError(f"{source}: neither XML nor a base64 SAMLResponse value (not valid base64: {exc})")
    if _looks_like_xml(decoded):
        return decoded, input_format, relay_state
    inflater = zlib.decompressobj(-15)
    try:
        limit = (max_bytes or DEFAULT_MAX_BYTES) + 1
        inflated = inflater.decompress(decoded, limit)
    except zlib.error:
        inflated = b""
    if max_bytes is not None and len(inflated) > max_bytes:
        raise SamlError(f"{source}: the deflated value inflates to more than the limit of {max_bytes} bytes")
    if inflated and _looks_like_xml(inflated):
        return inflated, ("form" if input_format == "form" else "deflate-base64"), relay_state
    raise SamlError(f"{source}: the base64 value is not an XML document (nor deflated XML)")


def read_document(data: bytes | str, source: str = "<input>",
                  max_bytes: int | None = DEFAULT_MAX_BYTES) -> tuple[Any, str | None, list[Finding]]:
    """``(root or None, encoding, findings)``: parse with the hardened parser of xml.py.

    A document in another encoding than UTF-8 is still read (and SAML-101 says so) when its
    encoding is known; bytes that are not valid UTF-8 give SAML-101 and no root.  Hostile or
    malformed XML raises XmlError.
    """
    findings = []
    if isinstance(data, str):
        text = data
        match = _DECL_ENCODING.match(text[:300])
        encoding = "utf-8"
        if match:
            encoding = _codec_name(match.group(3), source)
            if encoding != "utf-8":
                findings.append(finding("SAML-101", source=source, problem=f"declared as {match.group(3)}",
                                        encoding=encoding))
    else:
        data = bytes(data)
        if max_bytes is not None and len(data) > max_bytes:
            raise XmlError(f"{source}: {len(data)} bytes is more than the limit of {max_bytes} bytes for an XML "
                           "document")
        encoding = sniff_encoding(data, source)
        if encoding == "utf-8":
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                findings.append(finding(
                    "SAML-101", source=source, encoding=None, offset=exc.start,
                    problem=f"not valid UTF-8 (byte 0x{data[exc.start]:02X} at offset {exc.start}; a "
                    "Latin-1/Windows-1252 export?)"))
                return None, None, findings
        else:
            findings.append(finding("SAML-101", source=source, problem=f"encoded as {encoding.upper()}",
                                    encoding=encoding))
            codec = "utf-16" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else encoding
            codec = "utf-32" if encoding == "utf-32" else codec
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise XmlError(f"{source}: not valid {encoding.upper()} at byte {exc.start} ({exc.reason})")
    # the encoding was handled above: drop the pseudo-attribute so the parser reads the text
    text = _DECL_ENCODING.sub(r"\1", text.lstrip("\ufeff"), count=1)
    return parse_xml(text, source, max_bytes=max_bytes), encoding, findings


def _codec_name(name, source):
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise XmlError(f"{source}: declares the unknown encoding {name!r}; SAML documents must be UTF-8")


# --------------------------------------------------------------------------- IdP certificates

def idp_from_metadata(data: bytes | str, source: str = "<metadata>", issuer: str | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES, pem: list[str] | None = None) -> tuple[str | None, list[x509.Certificate]]:
    """``(entity_id, [signing certificates])`` of the IdP in a metadata document.

    The document and the entity are read as :mod:`.metadata` reads them (``read_metadata``,
    ``select_entity``: the one IdP entity, or with several the one whose entityID is ``issuer``;
    without a match that is an error naming the entityIDs); the signing certificates are its
    ``signing_key_infos`` (``KeyDescriptor`` entries whose ``use`` is ``signing`` or absent).
    Metadata that cannot give them raises SamlError.  ``pem``: a list that receives the name of
    each certificate written as base64 of PEM instead of DER.
    """
    root, problems = metadata.read_metadata(data, source, max_bytes)
    if problems:  # SAML-020: not metadata at all
        raise SamlError(problems[0].message)
    entity, ids, problems = metadata.select_entity(root, _IDP_DESCRIPTOR, None, source)
    if problems:  # SAML-022: several IdP entities, the one that issued the response is taken
        entity = metadata.select_entity(root, _IDP_DESCRIPTOR, issuer, source)[0] if issuer else None
        if entity is None or entity.find(_IDP_DESCRIPTOR_TAG) is None:
            raise SamlError(f"{source}: {len(ids)} IdP entities ({', '.join(ids)}) and none is the response "
                            f"issuer {issuer!r}")
    descriptors = entity.findall(_IDP_DESCRIPTOR_TAG) if entity is not None else []
    if not descriptors:
        raise SamlError(f"{source}: no IDPSSODescriptor: this is not IdP metadata")
    found: list[x509.Certificate] = []
    for descriptor in descriptors:
        for text in metadata.signing_key_infos(descriptor):
            what = f"{source}: signing certificate {len(found) + 1}"
            try:
                cert, encoding = xmlsig.x509_certificate(text, what)
            except xmlsig.X509CertificateError as exc:
                raise SamlError(str(exc))
            if encoding == xmlsig.PEM and pem is not None:
                pem.append(what)
            found.append(cert)
    if not found:
        raise SamlError(f"{source}: the IdP descriptor publishes no signing certificate")
    return entity.get("entityID"), found


# --------------------------------------------------------------------------- signatures

def _q(ns, tag):
    return f"{{{ns}}}{tag}"


_RESPONSE = _q(SAMLP, "Response")
_ASSERTION = _q(SAML, "Assertion")
_SIGNATURE = _q(DS, "Signature")

_ALGORITHM_NAMES = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": "RSA-SHA1",
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1": "DSA-SHA1",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": "RSA-SHA256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": "RSA-SHA384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": "RSA-SHA512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": "ECDSA-SHA1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": "ECDSA-SHA256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": "ECDSA-SHA384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": "ECDSA-SHA512",
}


def algorithm_name(uri: str | None) -> str | None:
    """Short name of an XML-DSig SignatureMethod URI (RSA-SHA256, ...), else the URI."""
    if uri is None:
        return None
    return _ALGORITHM_NAMES.get(uri, uri.rsplit("#", 1)[-1].upper() if "#" in uri else uri)


class Signature:
    """One ds:Signature of the document, enveloped in a Response or an Assertion."""

    def __init__(self, node: Any, root: Any) -> None:
        self.node = node
        self.parent = node.getparent()
        self.element = "response" if self.parent.tag == _RESPONSE else "assertion"
        self.parent_id = self.parent.get("ID")
        tree = root.getroottree()
        self.path = _path(root, self.parent)
        self.location = "./" if self.parent is root else "./" + tree.getelementpath(self.parent) + "/"
        signed_info = node.find(_q(DS, "SignedInfo"))
        method = signed_info.find(_q(DS, "SignatureMethod")) if signed_info is not None else None
        self.algorithm_uri = method.get("Algorithm") if method is not None else None
        references = signed_info.findall(_q(DS, "Reference")) if signed_info is not None else []
        self.references = [r.get("URI") for r in references]
        self.digest_uris = []
        for reference in references:
            digest = reference.find(_q(DS, "DigestMethod"))
            self.digest_uris.append(digest.get("Algorithm") if digest is not None else None)
        self.embedded = []
        self.pem_certificates = 0    # KeyInfo X509Certificate elements holding PEM, not DER
        for cert_node in node.iterfind("{}/{}/{}".format(_q(DS, "KeyInfo"), _q(DS, "X509Data"), _q(DS, "X509Certificate"))):
            try:  # a key type cryptography cannot use is as good as no certificate
                cert, encoding = xmlsig.x509_certificate(cert_node.text, "KeyInfo certificate")
            except xmlsig.X509CertificateError:
                continue
            self.pem_certificates += encoding == xmlsig.PEM
            self.embedded.append(cert)
        self.valid: bool | None = None            # True / False / None (not checked)
        self.reason: str | None = None
        self.problem: str | None = None          # None or xmlsig.TAMPERED, FOREIGN_SIGNER, WRAPPING, INVALID
        self.trusted = False         # verified with an IdP certificate (not only the embedded one)
        self.signed_xml: Any = None       # the element rebuilt from the signed bytes
        self.covers: str | None = None           # the ID the verified reference points at
        self.signer: Any = None           # the certificate that verified it
        self.covered: Any = None          # the document element proven to be the signed one

    @property
    def algorithm(self) -> str | None:
        return algorithm_name(self.algorithm_uri)

    @property
    def digest(self) -> str | None:
        return normalize_digest(self.digest_uris[0]) if self.digest_uris and self.digest_uris[0] else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "id": self.parent_id,
            "path": self.path,
            "algorithm": self.algorithm,
            "algorithm_uri": self.algorithm_uri,
            "digest": self.digest,
            "digest_uri": self.digest_uris[0] if self.digest_uris else None,
            "references": list(self.references),
            "valid": self.valid,
            "trusted": self.trusted,
            "reason": self.reason,
            "covers": self.covers,
            "certificate_sha256": certs.fingerprint(self.signer) if self.signer is not None else None,
            "embedded_certificate_sha256": [certs.fingerprint(c) for c in self.embedded],
        }


def verify_signature(root: Any, sig: Signature, trusted_certs: list[x509.Certificate]) -> Signature:
    """Verify ``sig`` with each trusted certificate (:func:`xmlsig.verify_signature`) and bind it
    to the document element it covers; when none verifies, the result says why (changed content,
    a different signing certificate, a duplicated ID). Updates and returns ``sig``."""
    check = xmlsig.verify_signature(root, sig.node, trusted_certs, embedded=sig.embedded)
    sig.valid, sig.problem, sig.reason = check.valid, check.problem, check.reason
    sig.trusted, sig.signer, sig.covers = check.trusted, check.signer, check.covers
    sig.signed_xml, sig.covered = check.signed_xml, check.covered
    return sig


# --------------------------------------------------------------------------- reading an assertion

def _text(element):
    return "".join(element.itertext()) if element is not None else None


def _xsi_type(value):
    """(as written, (namespace, local) or None) of an AttributeValue's xsi:type."""
    written = value.get(XSI_TYPE)
    if written is None:
        return None, None
    prefix, _sep, local = written.strip().rpartition(":")
    namespace = value.nsmap.get(prefix or None)
    return written, (namespace, local)


def read_assertion(assertion: Any) -> dict[str, Any]:
    """The facts of one (plain) Assertion element."""
    out = {"id": assertion.get("ID"), "issuer": _text(assertion.find(_q(SAML, "Issuer")))}
    subject = assertion.find(_q(SAML, "Subject"))
    name_id = subject.find(_q(SAML, "NameID")) if subject is not None else None
    out["name_id"] = _text(name_id)
    out["name_id_format"] = name_id.get("Format") if name_id is not None else None
    confirmations = []
    for confirmation in subject.findall(_q(SAML, "SubjectConfirmation")) if subject is not None else []:
        data = confirmation.find(_q(SAML, "SubjectConfirmationData"))
        confirmations.append({
            "method": confirmation.get("Method"),
            "has_data": data is not None,
            "recipient": data.get("Recipient") if data is not None else None,
            "not_on_or_after": data.get("NotOnOrAfter") if data is not None else None,
            "in_response_to": data.get("InResponseTo") if data is not None else None,
        })
    out["subject_confirmations"] = confirmations
    conditions = assertion.find(_q(SAML, "Conditions"))
    out["not_before"] = conditions.get("NotBefore") if conditions is not None else None
    out["not_on_or_after"] = conditions.get("NotOnOrAfter") if conditions is not None else None
    out["audiences"] = [(_text(a) or "").strip() for a in conditions.iterfind(
        "{}/{}".format(_q(SAML, "AudienceRestriction"), _q(SAML, "Audience")))] if conditions is not None else []
    contexts = []
    for statement in assertion.findall(_q(SAML, "AuthnStatement")):
        for ref in statement.iterfind("{}/{}".format(_q(SAML, "AuthnContext"), _q(SAML, "AuthnContextClassRef"))):
            contexts.append((_text(ref) or "").strip())
    out["authn_contexts"] = contexts
    attributes = []
    for statement in assertion.findall(_q(SAML, "AttributeStatement")):
        for attribute in statement.findall(_q(SAML, "Attribute")):
            values = []
            for value in attribute.findall(_q(SAML, "AttributeValue")):
                written, resolved = _xsi_type(value)
                values.append({"value": (_text(value) or "").strip(), "type": written, "resolved": resolved})
            attributes.append({"name": attribute.get("Name"), "name_format": attribute.get("NameFormat"),
                               "friendly_name": attribute.get("FriendlyName"), "values": values})
    out["attributes"] = attributes
    return out


def _parse_time(text):
    if not text:
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _span(delta):
    seconds = int(abs(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 7200:
        return f"{seconds // 3600} hours"
    if seconds >= 120:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def _offload_hint(found, expected):
    if found and expected and found.split(":", 1)[-1] == expected.split(":", 1)[-1] and found != expected:
        return ("; only the scheme differs: behind an SSL off-loading proxy set X-Forwarded-Proto: https "
                "(see the reverse proxy configuration)")
    return ""


# --------------------------------------------------------------------------- the check

class ResponseReport:
    """``findings`` (list of Finding) and ``facts`` (JSON-friendly dict) of one response; unpacks
    as ``findings, facts = check_response(...)``, the shape of every other SAML ``check_*``."""

    def __init__(self, findings: list[Finding], facts: dict[str, Any]) -> None:
        self.findings = findings
        self.facts = facts

    def __iter__(self) -> Iterator[Any]:
        return iter((self.findings, self.facts))

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.facts)
        out["findings"] = [f.as_dict() for f in self.findings]
        out["ok"] = self.ok
        return out


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

FACT_KEYS = ("input_format", "encoding", "root", "response_id", "destination", "in_response_to", "status",
             "issuer", "assertion_id", "assertion_count", "encrypted", "name_id", "name_id_format",
             "username", "username_type", "attributes", "groups", "signatures", "signed_element",
             "signature_verified", "signature_algorithm", "signature_digest", "signing_certificate",
             "authn_contexts", "subject_confirmations", "audiences", "not_before", "not_on_or_after",
             "relay_state", "idp_entity_id", "read_from")


def check_response(data: bytes | str, source: str = "<response>", idp_metadata: bytes | str | None = None,
                   idp_certs: Iterable[bytes | str | x509.Certificate] | None = None,
                   username_attribute: str = "username", acs_url: str | None = None,
                   sp_entity_id: str | None = None, authcontexts: str | Iterable[str] | None = None,
                   scope: str = "server", policy: Policy | None = None, now: datetime.datetime | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES, metadata_source: str = "<idp metadata>") -> ResponseReport:
    """Check one SAML Response (or bare Assertion) against Tableau Server's rules.

    ``data``: the document, the base64 SAMLResponse value or the form body (text or bytes).
    ``idp_metadata``: IdP metadata (text/bytes) whose signing certificates are trusted;
    ``idp_certs``: certificates (objects, PEM or DER bytes) trusted in addition.
    Returns a :class:`ResponseReport`.  Raises SamlError/XmlError for input that cannot be
    read (not a response, malformed or hostile XML), CertificateError for a broken certificate.
    """
    if scope not in SCOPES:
        raise SamlError(f"scope must be server or site, not {scope!r}")
    policy = policy or Policy()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    allowed = _split_list(authcontexts)
    facts: dict[str, Any] = dict.fromkeys(FACT_KEYS)
    facts.update(attributes={}, groups=[], signatures=[], authn_contexts=[], subject_confirmations=[],
                 audiences=[], encrypted=False, assertion_count=0, signature_verified=False)
    findings: list[Finding] = []

    document, facts["input_format"], facts["relay_state"] = decode_input(data, source, max_bytes)
    root, facts["encoding"], read_findings = read_document(document, source, max_bytes)
    findings.extend(read_findings)
    if root is None:
        return ResponseReport(findings, facts)
    if root.tag not in (_RESPONSE, _ASSERTION):
        local = etree.QName(root).localname
        hint = " (that is metadata: use saml_metadata_check)" if local.endswith("Descriptor") else ""
        raise SamlError(f"{source}: the root element is {local}, not a SAML samlp:Response or saml:Assertion{hint}")
    facts["root"] = "Response" if root.tag == _RESPONSE else "Assertion"
    if facts["input_format"] == "form" and not facts["relay_state"]:
        findings.append(finding("SAML-170"))

    # the IdP's signing certificates
    trusted = [_as_cert(c, f"idp_cert {i + 1}") for i, c in enumerate(idp_certs or [])]
    response_issuer = _text(root.find(_q(SAML, "Issuer"))) if root.tag == _RESPONSE else None
    visible = _visible_assertions(root)
    issuer_hint = (response_issuer or (_text(visible[0].find(_q(SAML, "Issuer"))) if visible else None))
    if idp_metadata is not None:
        pem_in_metadata: list[str] = []
        facts["idp_entity_id"], from_metadata = idp_from_metadata(
            idp_metadata, metadata_source, issuer=(issuer_hint or "").strip() or None, max_bytes=max_bytes,
            pem=pem_in_metadata)
        trusted.extend(from_metadata)
        findings.extend(finding("SAML-128", where=what) for what in pem_in_metadata)

    # Response-level facts
    if root.tag == _RESPONSE:
        facts["response_id"] = root.get("ID")
        facts["destination"] = root.get("Destination")
        facts["in_response_to"] = root.get("InResponseTo")
        status = root.find("{}/{}".format(_q(SAMLP, "Status"), _q(SAMLP, "StatusCode")))
        code = status.get("Value") if status is not None else None
        facts["status"] = code
        if code is not None and code != SUCCESS:
            inner = status.find(_q(SAMLP, "StatusCode"))
            message = _text(root.find("{}/{}".format(_q(SAMLP, "Status"), _q(SAMLP, "StatusMessage"))))
            detail = (" / {}".format(inner.get("Value").rsplit(":", 1)[-1])) if inner is not None else ""
            detail += (f" ({message.strip()})") if message and message.strip() else ""
            findings.append(finding("SAML-102", status=code.rsplit(":", 1)[-1], detail=detail))
        encrypted = root.findall(_q(SAML, "EncryptedAssertion"))
        if encrypted:
            facts["encrypted"] = True
            findings.append(finding("SAML-161" if scope == "site" else "SAML-160", scope=scope))
    facts["assertion_count"] = len(visible)
    if len(visible) > 1:
        findings.append(finding("SAML-104", count=len(visible), ids=", ".join(a.get("ID") or "?" for a in visible)))

    # signatures: every ds:Signature enveloped in a Response or an Assertion, anywhere
    signatures = [Signature(node, root) for node in root.iter(_SIGNATURE)
                  if node.getparent() is not None and node.getparent().tag in (_RESPONSE, _ASSERTION)]
    can_verify = HAS_SIGNXML and (trusted or any(s.embedded for s in signatures))
    for sig in signatures:
        if can_verify:
            verify_signature(root, sig, trusted)
    source_assertion, signed_element, wrap_detail = _choose(root, visible, signatures)
    facts["signatures"] = [s.as_dict() for s in signatures]
    facts["signed_element"] = signed_element

    # signature findings
    for sig in signatures:
        if sig.pem_certificates:
            findings.append(finding("SAML-128", where=f"the {sig.element} signature's KeyInfo",
                                    data={"id": sig.parent_id}))
        blocked = [d for d in [normalize_digest(sig.algorithm_uri or "")] + [normalize_digest(u or "") for u in sig.digest_uris]
                   if d and policy.digest_blocked(d)]
        if blocked:
            findings.append(finding("SAML-120", element=sig.element, algorithm=sig.algorithm, digest=sig.digest,
                                    blocked=sorted(set(blocked))[0].upper().replace("SHA", "SHA-"),
                                    data={"id": sig.parent_id}))
        if sig.valid is False and sig.problem == xmlsig.FOREIGN_SIGNER:
            findings.append(finding("SAML-123", element=sig.element, signer=certs.fingerprint(sig.signer),
                                    expected=", ".join(certs.fingerprint(c) for c in trusted),
                                    data={"signer_subject": certs.subject_text(sig.signer)}))
        elif sig.valid is False and sig.problem == xmlsig.WRAPPING:
            findings.append(finding("SAML-124", detail=f"the {sig.element} signature at {sig.path}: {sig.reason}"))
        elif sig.valid is False:
            findings.append(finding("SAML-122", element=sig.element, reason=sig.reason, data={"id": sig.parent_id}))
    if not signatures and (visible or root.tag == _ASSERTION):
        findings.append(finding("SAML-121"))
    if wrap_detail:
        findings.append(finding("SAML-124", detail=wrap_detail))
    covering = [s for s in signatures if s.valid and s.covered is not None]
    facts["signature_verified"] = bool(covering) and all(s.trusted for s in covering) and signed_element is not None \
        and not wrap_detail
    if signatures and (not trusted or not HAS_SIGNXML):
        reason = "no IdP metadata or certificate given" if HAS_SIGNXML else \
            "the python signxml library is missing where the check runs"
        findings.append(finding("SAML-125", reason=reason))
    main_sig = next((s for s in signatures if s.valid), signatures[0] if signatures else None)
    if main_sig is not None:
        facts["signature_algorithm"] = main_sig.algorithm
        facts["signature_digest"] = main_sig.digest
        signer = main_sig.signer or (main_sig.embedded[0] if main_sig.embedded else None)
        if signer is not None:
            facts["signing_certificate"] = _cert_summary(signer, now)
            key_type, key_size, curve = certs.public_key_info(signer.public_key())
            if key_type == "RSA" and key_size < policy.min_rsa_key_size:
                findings.append(finding("SAML-126", key_size=key_size, minimum=policy.min_rsa_key_size))
            elif key_type == "EC" and key_size < policy.min_ec_key_size:
                findings.append(finding("SAML-127", key_size=key_size, curve=curve, minimum=policy.min_ec_key_size))

    if source_assertion is None:
        if not facts["encrypted"] and root.tag == _RESPONSE and not visible and facts["status"] in (None, SUCCESS):
            findings.append(finding("SAML-103"))
        _authcontext_findings(findings, [], allowed, scope, facts["encrypted"])
        return ResponseReport(findings, facts)

    facts["read_from"] = "signed-element" if any(s.covered is source_assertion or (
        s.covered is not None and source_assertion.getparent() is s.covered) for s in signatures) else "unverified"
    assertion = read_assertion(source_assertion)
    facts["issuer"] = (response_issuer or assertion["issuer"] or "").strip() or None
    for key in ("name_id", "name_id_format", "subject_confirmations", "audiences", "not_before",
                "not_on_or_after", "authn_contexts"):
        facts[key] = assertion[key]
    facts["assertion_id"] = assertion["id"]
    facts["attributes"] = {}
    for attribute in assertion["attributes"]:
        facts["attributes"].setdefault(attribute["name"], []).extend(v["value"] for v in attribute["values"])
    facts["groups"] = list(facts["attributes"].get(GROUPS_CLAIM, []))

    findings.extend(_username_findings(assertion["attributes"], username_attribute, facts))
    if facts["groups"]:
        findings.append(finding("SAML-150", claim=GROUPS_CLAIM, groups=", ".join(facts["groups"]),
                                data={"group_list": list(facts["groups"])}))
    _authcontext_findings(findings, assertion["authn_contexts"], allowed, scope, False)
    findings.extend(_subject_findings(assertion["subject_confirmations"], acs_url))
    if acs_url and facts["destination"] is not None and facts["destination"] != acs_url:
        findings.append(finding("SAML-142", found=facts["destination"], expected=acs_url,
                                difference=describe_difference(acs_url, facts["destination"]),
                                offload=_offload_hint(facts["destination"], acs_url)))
    if sp_entity_id and sp_entity_id not in assertion["audiences"]:
        findings.append(finding("SAML-143", found=assertion["audiences"] or "(none)", expected=sp_entity_id))
    issuers = {i.strip() for i in (response_issuer, assertion["issuer"]) if i and i.strip()}
    if facts["idp_entity_id"] and issuers and issuers != {facts["idp_entity_id"]}:
        findings.append(finding("SAML-144", found=", ".join(sorted(issuers)), expected=facts["idp_entity_id"]))
    not_after = _parse_time(assertion["not_on_or_after"])
    if not_after is not None and not_after <= now:
        findings.append(finding("SAML-145", not_on_or_after=assertion["not_on_or_after"], ago=_span(now - not_after)))
    not_before = _parse_time(assertion["not_before"])
    if not_before is not None and not_before > now + datetime.timedelta(minutes=3):
        findings.append(finding("SAML-146", not_before=assertion["not_before"], ahead=_span(not_before - now)))
    return ResponseReport(findings, facts)


def _split_list(value):
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else [i for v in value for i in str(v).split(",")]
    return [i.strip() for i in items if i.strip()]


def _as_cert(value, source):
    if certs.HAS_CRYPTOGRAPHY and isinstance(value, certs.x509.Certificate):
        return value
    return certs.load_certificate(value, source)


def _cert_summary(cert, now):
    key_type, key_size, curve = certs.public_key_info(cert.public_key())
    return {"subject": certs.subject_text(cert), "sha256": certs.fingerprint(cert),
            "not_after": certs.not_after(cert).isoformat(), "days_left": certs.days_left(cert, now),
            "key_type": key_type, "key_size": key_size, "curve": curve}


def _visible_assertions(root):
    """The plain assertions a reader takes: the Response's Assertion children (or the root)."""
    if root.tag == _ASSERTION:
        return [root]
    return root.findall(_ASSERTION)


def _choose(root, visible, signatures):
    """``(assertion element to read, signed_element, wrapping detail or None)``.

    Only a document element that a verified signature covers is read (its canonical form was
    compared with signxml's rebuilt signed bytes by :func:`xmlsig.verify_signature`); the visible assertion (the
    one a plain reader takes) must be that very element, else it is signature wrapping.
    """
    first = visible[0] if visible else None
    sound = [s for s in signatures if s.valid and s.covered is not None]
    response_sigs = [s for s in sound if s.element == "response" and s.parent is root]
    for sig in response_sigs:
        if sig.covered is not root:
            return (_covered_assertion(sound), None,
                    "the Response signature covers the element with ID {!r} at {}, not the Response that is "
                    "read (ID {!r})".format(sig.covers, _path(root, sig.covered), root.get("ID")))
    own = [s for s in sound if first is not None and s.covered is first]
    if response_sigs and root.tag == _RESPONSE:
        return first, ("both" if own else "response"), None
    if own:
        return first, "assertion", None
    if sound:
        return _covered_assertion(sound), None, _moved(root, sound, first)
    return first, None, None


def _covered_assertion(sound):
    """The first assertion (document element) a sound signature covers, or None."""
    for sig in sound:
        if sig.covered.tag == _ASSERTION:
            return sig.covered
        inner = sig.covered.find(_ASSERTION)
        if inner is not None:
            return inner
    return None


def _path(root, element):
    """``/saml:Assertion[2]``-style path of ``element`` for messages."""
    if element is root:
        return "/"
    path = root.getroottree().getelementpath(element)
    for prefix, uri in NS.items():
        path = path.replace(f"{{{uri}}}", prefix + ":")
    return "/" + path


def _moved(root, sound, first):
    sig = sound[0]
    where = _path(root, sig.covered)
    if first is None:
        return f"the signed {sig.element} (ID {sig.covers!r} at {where}) is not where the assertion is read"
    username = _username_of(first)
    return ("the assertion that is read (ID {!r}{}) is not signed; the IdP's signature covers the element with ID "
            "{!r} at {}".format(first.get("ID"), (f", username {username!r}") if username else "", sig.covers, where))


def _username_of(assertion, attribute="username"):
    for node in assertion.iterfind("{}/{}".format(_q(SAML, "AttributeStatement"), _q(SAML, "Attribute"))):
        if node.get("Name") == attribute:
            value = node.find(_q(SAML, "AttributeValue"))
            return (_text(value) or "").strip()
    return None


def _username_findings(attributes, name, facts):
    out = []
    matches = [a for a in attributes if a["name"] == name]
    if not matches:
        near = [a["name"] for a in attributes if (a["name"] or "").lower() == name.lower()
                or (a["friendly_name"] or "") == name]
        hint = ""
        if near:
            hint = " (there is {}: names are case-sensitive; map it with {})".format(
                ", ".join(repr(n) for n in near), _MAP_USER.replace("<attribute>", near[0]))
        elif attributes:
            hint = " (attributes sent: {})".format(", ".join(
                repr(a["name"]) + (" (FriendlyName {!r})".format(a["friendly_name"]) if a["friendly_name"] else "")
                for a in attributes))
        out.append(finding("SAML-110", attribute=name, hint=hint, data={"sent": [a["name"] for a in attributes]}))
        return out
    values = [v for a in matches for v in a["values"]]
    facts["username"] = values[0]["value"] if values else None
    facts["username_type"] = values[0]["type"] if values else None
    for value in values:
        if value["resolved"] != (XS, "string"):
            found = "untyped (no xsi:type)" if value["type"] is None else "typed {}".format(value["type"])
            if value["type"] is not None and value["resolved"][0] is None:
                found += " with an undeclared prefix"
            out.append(finding("SAML-111", attribute=name, found=found, type=value["type"]))
            break
    nonempty = [v["value"] for v in values if v["value"]]
    if not nonempty:
        out.append(finding("SAML-112", attribute=name))
    elif len(values) > 1:
        out.append(finding("SAML-113", attribute=name, count=len(values), values=", ".join(v["value"] for v in values)))
    if nonempty and not _EMAIL.match(nonempty[0]):
        out.append(finding("SAML-114", username=nonempty[0]))
    return out


def _authcontext_findings(findings, contexts, allowed, scope, encrypted):
    if not allowed:
        return
    if scope == "site":
        findings.append(finding("SAML-131", allowed=allowed))
        return
    if encrypted:
        return
    if not any(c in allowed for c in contexts):
        findings.append(finding("SAML-130", found=", ".join(contexts) or "(none)", allowed=", ".join(allowed)))


def _subject_findings(confirmations, acs_url):
    """SAML-140 (no bearer confirmation), SAML-147 (no bearer confirmation carries the
    SubjectConfirmationData with Recipient and NotOnOrAfter that the profile requires, checked
    whether or not ``acs_url`` is known) and SAML-141 (a Recipient that is not ``acs_url``)."""
    bearers = [c for c in confirmations if c["method"] == BEARER]
    if not bearers:
        detail = (" (methods: {})".format(", ".join(c["method"] or "?" for c in confirmations))) if confirmations else ""
        return [finding("SAML-140", detail=detail)]
    out = []
    if not any(c["recipient"] and c["not_on_or_after"] for c in bearers):
        with_data = [c for c in bearers if c["has_data"]]
        if not with_data:
            missing = "a SubjectConfirmationData (so no Recipient and no NotOnOrAfter)"
        else:
            best = max(with_data, key=lambda c: bool(c["recipient"]) + bool(c["not_on_or_after"]))
            lacks = [name for name, key in (("Recipient", "recipient"), ("NotOnOrAfter", "not_on_or_after"))
                     if not best[key]]
            missing = "a SubjectConfirmationData with {}".format(" and ".join(lacks))
        out.append(finding("SAML-147", missing=missing))
    if not acs_url:
        return out
    recipients = [c["recipient"] for c in bearers if c["recipient"]]
    if not recipients or acs_url in recipients:
        return out  # no Recipient at all is SAML-147
    found = recipients[0]
    out.append(finding("SAML-141", found=found, expected=acs_url, difference=describe_difference(acs_url, found),
                       offload=_offload_hint(found, acs_url)))
    return out
