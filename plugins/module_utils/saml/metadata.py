# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IdP and SP metadata (seed 002): bindings, endpoints, entities, signing certificates, the metadata
signature (verified with :mod:`xmlsig`, wrapping refused).

Entry point for every path: :func:`check_idp_metadata` (``data`` bytes and a ``source`` label;
callers read files through ``reader.read_input``); :func:`check_sp_metadata` for Tableau's own
(SP) metadata; :func:`check_configuration`, the one call of ``saml_metadata_check`` (IdP and SP
metadata and the URLs configured on the IdP).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CertificateError,
    fingerprint,
    load_certificates,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding
from ansible_collections.trustops.tableau.plugins.module_utils.xml import (
    DEFAULT_MAX_BYTES,
    NS,
    parse_xml,
    qname,
)
from ansible_collections.trustops.tableau.plugins.module_utils import xmlsig
from ansible_collections.trustops.tableau.plugins.module_utils.saml.common import (
    cert_facts,
    cert_label,
    cert_subject,
    short_error,
    utcnow,
    validity_state,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import (
    Policy,
    SamlError,
    SignatureCoverageError,
    SignatureInvalid,
    finding,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.urls import (
    check_sp_urls,
    compare_url,
    expected_acs_url,
    expected_slo_url,
    split_url,
)

if TYPE_CHECKING:  # cryptography may be missing where only the names are needed
    from cryptography import x509


# --------------------------------------------------------------------------- metadata

SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
BINDINGS = {
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST": "HTTP-POST",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect": "HTTP-Redirect",
    "urn:oasis:names:tc:SAML:2.0:bindings:SOAP": "SOAP",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact": "HTTP-Artifact",
    "urn:oasis:names:tc:SAML:2.0:bindings:PAOS": "PAOS",
    "urn:oasis:names:tc:SAML:2.0:bindings:URI": "URI",
}
_USABLE_SSO = ("HTTP-POST", "HTTP-Redirect")
#: The findings of :func:`check_idp_metadata` that mean "not IdP metadata Tableau Server can use at all"
#: (not SAML 2.0 metadata, no or several IdPs, no entityID, no usable SSO binding); the others are policy.
STRUCTURE_CODES = ("SAML-020", "SAML-021", "SAML-022", "SAML-024", "SAML-025", "SAML-026", "SAML-027")


def _md(tag):
    return "{{{}}}{}".format(NS["md"], tag)


def _ds(tag):
    return "{{{}}}{}".format(NS["ds"], tag)


def binding_name(uri: str | None) -> str:
    """Short name of a SAML binding URI (HTTP-POST, HTTP-Redirect, SOAP, ...) or the URI."""
    return BINDINGS.get((uri or "").strip(), uri or "(none)")


def _endpoints(descriptor, tag):
    out = []
    for element in descriptor.findall(_md(tag)):
        entry = {"binding": binding_name(element.get("Binding")), "location": element.get("Location")}
        if element.get("index") is not None:
            entry["index"] = element.get("index")
        if element.get("isDefault") is not None:
            entry["is_default"] = element.get("isDefault") in ("true", "1")
        out.append(entry)
    return out


def read_metadata(data: bytes | str, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Any, list[Finding]]:
    """``(root element, findings)`` of a metadata document: ``SAML-020`` when the root is not an
    ``md:EntityDescriptor`` or ``md:EntitiesDescriptor``; XmlError for broken or hostile XML."""
    root = parse_xml(data, source, max_bytes=max_bytes)
    if root.tag not in (_md("EntityDescriptor"), _md("EntitiesDescriptor")):
        return root, [finding("SAML-020", source=source, root=_qname(root))]
    return root, []


def _qname(element):
    return qname(element)


def _entities(root):
    if root.tag == _md("EntityDescriptor"):
        return [root]
    return list(root.iter(_md("EntityDescriptor")))


def select_entity(root: Any, role: str, entity_id: str | None, source: str) -> tuple[Any, list[str], list[Finding]]:
    """The metadata entity Tableau Server would take: ``(entity or None, [entityIDs of the
    entities with the ``role`` descriptor], findings)``.

    ``entity_id`` chooses among the entities (``SAML-023`` when none has it); without it, the
    one entity with ``role`` is taken (``SAML-022`` when there are several; the first entity when
    none has it).  The one entity selection of every SAML path (:func:`check_idp_metadata`,
    :func:`check_sp_metadata`, ``response.idp_from_metadata``).
    """
    entities = _entities(root)
    with_role = [e for e in entities if e.find(_md(role)) is not None]
    ids = [e.get("entityID") or "(no entityID)" for e in with_role]
    if entity_id is not None:
        chosen = [e for e in entities if e.get("entityID") == entity_id]
        if not chosen:
            return None, ids, [finding("SAML-023", source=source, entity_id=entity_id,
                                       entity_ids=", ".join(ids) or "none")]
        return chosen[0], ids, []
    if len(with_role) > 1:
        return None, ids, [finding("SAML-022", source=source, count=len(with_role), entity_ids=", ".join(ids))]
    if with_role:
        return with_role[0], ids, []
    return (entities[0] if entities else None), ids, []


def _parse_datetime(text):
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _signature_of(element):
    """The ds:Signature that is a direct child of element, or None."""
    return element.find(_ds("Signature"))


def _signature_facts(signature):
    info = signature.find(_ds("SignedInfo"))
    method = info.find(_ds("SignatureMethod")) if info is not None else None
    refs = info.findall(_ds("Reference")) if info is not None else []
    return {
        "algorithm": method.get("Algorithm") if method is not None else None,
        "digests": [d.get("Algorithm") for r in refs for d in r.findall(_ds("DigestMethod"))],
        "references": [r.get("URI") for r in refs],
    }


def verify_enveloped_signature(element: Any, trusted_certs: Iterable[x509.Certificate],
                               source: str = "<input>") -> tuple[Any, x509.Certificate]:
    """Verify the ds:Signature that is a direct child of ``element`` with one of
    ``trusted_certs``; return ``(signed element, signer cert)``.

    The verification is :func:`xmlsig.verify_signature` (signxml, then the covered element bound
    to the document: unique ID, canonical form equal to the signed bytes).  Metadata's policy on
    top: exactly one reference, pointing at ``element`` itself (``URI=""`` on the document
    element or ``#`` + its ``ID``), so the element that was verified is the element the caller
    reads (no signature wrapping).  The returned element is the copy that signxml verified (what
    was signed); callers read from it.  Raises SignatureCoverageError when the signature does not
    cover ``element``, SignatureInvalid when it does not verify with a trusted certificate
    (changed content, another signer, a broken signature) and SamlError when signxml is missing.
    """
    if not xmlsig.HAS_SIGNXML:
        raise SamlError("verifying XML signatures needs the python signxml library (pip install signxml)")
    signature = _signature_of(element)
    if signature is None:
        raise SignatureInvalid("no signature")
    refs = xmlsig.references(signature)
    element_id = element.get("ID")
    if len(refs) != 1:
        raise SignatureCoverageError(f"the signature has {len(refs)} references, expected exactly one")
    if refs[0] not in ("", f"#{element_id}") or (refs[0] and not element_id):
        raise SignatureCoverageError(f"the signature references {refs[0]!r}, not the signed element (ID {element_id!r})")
    root = element.getroottree().getroot()
    embedded = _embedded_certificates(signature)
    check = xmlsig.verify_signature(root, signature, list(trusted_certs), embedded=embedded)
    if check.problem == xmlsig.WRAPPING:
        raise SignatureCoverageError(check.reason)
    if not check.valid:
        raise SignatureInvalid(check.reason or "no trusted certificate")
    if check.covered is not element:
        raise SignatureCoverageError("the verified data is not the signed element")
    return check.signed_xml, check.signer


def _embedded_certificates(signature):
    """The certificates a ds:Signature carries in KeyInfo (to name a foreign signer)."""
    out = []
    for node in signature.iterfind("{}/{}/{}".format(_ds("KeyInfo"), _ds("X509Data"), _ds("X509Certificate"))):
        try:
            out.append(xmlsig.x509_certificate(node.text, "KeyInfo certificate")[0])
        except xmlsig.X509CertificateError:
            continue
    return out


def _signature_policy(signature, policy, source, rule):
    facts = _signature_facts(signature)
    findings = []
    algos = [("signature method", facts["algorithm"])] + [("digest method", d) for d in facts["digests"]]
    for what, algorithm in algos:
        if algorithm and policy.digest_blocked(algorithm):
            findings.append(finding(rule, source=source, algorithm=algorithm, what=what,
                                    blocklist=", ".join(policy.blocklisted_digests)))
    return facts, findings


def _check_signing_cert(der_b64, index, source, policy, now):
    findings = []
    try:
        cert, encoding = xmlsig.x509_certificate(der_b64, f"{source} signing certificate #{index}")
        facts = cert_facts(cert, now)
    except (ValueError, CertificateError) as exc:
        return [finding("SAML-033", source=source, index=index, detail=short_error(exc))], None, None
    if encoding == xmlsig.PEM:
        findings.append(finding("SAML-046", source=source, where=f"signing certificate #{index}"))
    subject = cert_label(facts)
    if facts["key_type"] == "RSA":
        if facts["key_size"] < policy.min_rsa_key_size:
            findings.append(finding("SAML-034", source=source, subject=subject, size=facts["key_size"],
                                    minimum=policy.min_rsa_key_size))
    elif facts["key_type"] == "EC":
        if facts["key_size"] < policy.min_ec_key_size:
            findings.append(finding("SAML-035", source=source, subject=subject, size=facts["key_size"],
                                    curve=facts["curve"], minimum=policy.min_ec_key_size))
    else:
        findings.append(finding("SAML-036", source=source, subject=subject, key_type=facts["key_type"]))
    if policy.digest_blocked(facts["signature_hash"]):
        findings.append(finding("SAML-037", source=source, subject=subject,
                                digest=(facts["signature_hash"] or "").upper(),
                                blocklist=", ".join(policy.blocklisted_digests)))
    state = validity_state(cert, now)
    if state:
        findings.append(finding("SAML-038", source=source, subject=subject, state=state[0], when=state[1]))
    return findings, facts, cert


def signing_key_infos(descriptor: Any) -> list[str]:
    """The base64 texts of the ``X509Certificate`` elements of the ``KeyDescriptor`` entries of
    ``descriptor`` whose ``use`` is ``signing`` or absent (the IdP's signing certificates)."""
    out = []
    for kd in descriptor.findall(_md("KeyDescriptor")):
        if kd.get("use") not in (None, "", "signing"):
            continue
        for x509_cert in kd.iter(_ds("X509Certificate")):
            out.append(x509_cert.text or "")
    return out


def _load_trusted(trusted):
    """Certificates from PEM/DER data or certificate objects."""
    certs = []
    for item in trusted or ():
        if isinstance(item, (bytes, str)):
            certs.extend(load_certificates(item, "trusted signer"))
        else:
            certs.append(item)
    return certs


def check_idp_metadata(data: bytes | str, source: str = "<idp metadata>", policy: Policy | None = None,
                       trusted_signers: Iterable[bytes | str | x509.Certificate] | None = None,
                       entity_id: str | None = None, now: datetime.datetime | None = None,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Finding], dict]:
    """Check IdP metadata against Tableau's rules; returns ``(findings, facts)``.

    ``trusted_signers``: certificates (objects or PEM/DER data) of which one must have signed
    the metadata; when given, the facts and rules are read from the element signxml verified.
    Broken or hostile XML raises XmlError.
    """
    policy = policy or Policy()
    now = utcnow(now)
    trusted = _load_trusted(trusted_signers)
    root, findings = read_metadata(data, source, max_bytes)
    facts: dict[str, Any] = {"entity_id": None, "entity_ids": [], "sso_services": [], "slo_services": [],
                             "bindings": [], "signing_certificates": [], "signed": False,
                             "signature_verified": None, "signature": None, "valid_until": None}
    if findings:
        return findings, facts
    entity, ids, select_findings = select_entity(root, "IDPSSODescriptor", entity_id, source)
    facts["entity_ids"] = ids
    findings.extend(select_findings)
    # the signature: on the whole document, or on the chosen entity
    signed_element = root if _signature_of(root) is not None else (
        entity if entity is not None and _signature_of(entity) is not None else None)
    if signed_element is not None:
        facts["signed"] = True
        sig_facts, sig_findings = _signature_policy(_signature_of(signed_element), policy, source, "SAML-042")
        facts["signature"] = sig_facts
        findings.extend(sig_findings)
        for node in _signature_of(signed_element).iter(_ds("X509Certificate")):
            try:
                _cert, encoding = xmlsig.x509_certificate(node.text, "the metadata signature's KeyInfo")
            except xmlsig.X509CertificateError:
                continue  # only names a foreign signer; never trusted
            if encoding == xmlsig.PEM:
                findings.append(finding("SAML-046", source=source, where="the metadata signature's KeyInfo"))
    if trusted:
        facts["signature_verified"] = False
        if signed_element is None:
            findings.append(finding("SAML-040", source=source))
        else:
            try:
                verified, signer = verify_enveloped_signature(signed_element, trusted, source)
            except (SignatureInvalid, SignatureCoverageError) as exc:
                code = "SAML-043" if isinstance(exc, SignatureCoverageError) else "SAML-041"
                findings.append(finding(code, source=source, detail=str(exc),
                                        signer=", ".join(cert_subject(c) for c in trusted)))
            else:
                facts["signature_verified"] = True
                facts["signature"]["signer_sha256"] = fingerprint(signer)
                expired = validity_state(signer, now)
                if expired:
                    findings.append(finding("SAML-045", source=source, signer=cert_subject(signer),
                                            state=expired[0], when=expired[1]))
                if signed_element is root:
                    root = verified
                    entity, _ids, _f = select_entity(root, "IDPSSODescriptor", entity_id, source)
                else:
                    entity = verified
    elif signed_element is not None:
        findings.append(finding("SAML-044", source=source))
    if entity is None:
        if not select_findings:
            findings.append(finding("SAML-021", source=source, entity_id="(none)"))
        return findings, facts
    facts["entity_id"] = entity.get("entityID")
    if not (entity.get("entityID") or "").strip():
        findings.append(finding("SAML-025", source=source))
    for holder in (root, entity):
        valid_until = _parse_datetime(holder.get("validUntil"))
        if valid_until is not None:
            facts["valid_until"] = valid_until.isoformat()
            if valid_until < now:
                findings.append(finding("SAML-039", source=source, valid_until=valid_until.isoformat()))
                break
    descriptors = entity.findall(_md("IDPSSODescriptor"))
    if not descriptors:
        findings.append(finding("SAML-021", source=source, entity_id=facts["entity_id"] or "(no entityID)"))
        return findings, facts
    if len(descriptors) > 1:
        findings.append(finding("SAML-024", source=source, entity_id=facts["entity_id"], count=len(descriptors)))
    idp = descriptors[0]
    protocols = (idp.get("protocolSupportEnumeration") or "").split()
    if SAML2_PROTOCOL not in protocols:
        findings.append(finding("SAML-026", source=source, protocols=" ".join(protocols) or "(none)"))
    facts["want_authn_requests_signed"] = idp.get("WantAuthnRequestsSigned") in ("true", "1")
    sso = _endpoints(idp, "SingleSignOnService")
    slo = _endpoints(idp, "SingleLogoutService")
    facts["sso_services"], facts["slo_services"] = sso, slo
    facts["bindings"] = sorted({s["binding"] for s in sso})
    usable = [s for s in sso if s["binding"] in _USABLE_SSO]
    if not usable:
        findings.append(finding("SAML-027", source=source, bindings=", ".join(facts["bindings"]) or "none"))
    elif not any(s["binding"] == "HTTP-POST" for s in usable):
        findings.append(finding("SAML-028", source=source))
    for kind, services in (("SingleSignOnService", usable),
                           ("SingleLogoutService", [s for s in slo if s["binding"] in _USABLE_SSO])):
        for service in services:
            problem = _location_problem(service["location"])
            if problem:
                findings.append(finding("SAML-029", source=source, element=kind,
                                        binding=service["binding"], problem=problem))
    if not slo:
        findings.append(finding("SAML-030", source=source))
    elif not any(s["binding"] == "HTTP-POST" for s in slo):
        findings.append(finding("SAML-031", source=source, bindings=", ".join(sorted({s["binding"] for s in slo}))))
    encoded = signing_key_infos(idp)
    if not encoded:
        findings.append(finding("SAML-032", source=source))
    for index, text in enumerate(encoded, 1):
        cert_findings, cert_facts, _cert = _check_signing_cert(text, index, source, policy, now)
        findings.extend(cert_findings)
        if cert_facts:
            facts["signing_certificates"].append(cert_facts)
    return findings, facts


def _location_problem(location):
    if location is None or not location.strip():
        return "no Location"
    parts = split_url(location)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the Location {location!r}, which is not an absolute http(s) URL"
    return None


def check_sp_metadata(data: bytes | str, source: str = "<sp metadata>", server_host: str | None = None,
                      scope: str = "server", site_alias: str | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Finding], dict]:
    """Check the SP (Tableau Server) metadata: ACS with HTTP-POST, its URL, SLO.
    Returns ``(findings, facts)``; broken XML raises XmlError."""
    root, findings = read_metadata(data, source, max_bytes)
    facts: dict[str, Any] = {"sp_entity_id": None, "acs_services": [], "sp_slo_services": []}
    if findings:
        return findings, facts
    entity, _ids, select_findings = select_entity(root, "SPSSODescriptor", None, source)
    findings.extend(select_findings)
    sp = entity.find(_md("SPSSODescriptor")) if entity is not None else None
    if sp is None:
        if not select_findings:
            findings.append(finding("SAML-059", source=source))
        return findings, facts
    facts["sp_entity_id"] = entity.get("entityID")
    acs = _endpoints(sp, "AssertionConsumerService")
    slo = _endpoints(sp, "SingleLogoutService")
    facts["acs_services"], facts["sp_slo_services"] = acs, slo
    post = [a for a in acs if a["binding"] == "HTTP-POST"]
    if not post:
        findings.append(finding("SAML-056", source=source))
    if not slo:
        findings.append(finding("SAML-057", source=source))
    if server_host is not None:
        expected = expected_acs_url(server_host, scope, site_alias)
        locations = [a["location"] or "" for a in post]
        if post and expected not in locations:
            closest = max(locations, key=lambda loc: difflib.SequenceMatcher(None, expected, loc).ratio())
            code = "SAML-054" if scope == "site" else "SAML-050"
            extra = {"site_alias": site_alias} if scope == "site" else {}
            findings.extend(compare_url(code, source, expected, closest, **extra))
        if scope == "server" and slo:
            expected_slo = expected_slo_url(server_host)
            slo_locations = [s["location"] or "" for s in slo]
            if expected_slo not in slo_locations:
                closest = max(slo_locations, key=lambda loc: difflib.SequenceMatcher(None, expected_slo, loc).ratio())
                findings.extend(compare_url("SAML-058", source, expected_slo, closest))
    if scope == "site":
        for service in acs:
            if (service["location"] or "").lower().startswith("http://"):
                findings.append(finding("SAML-055", where=source, url=service["location"]))
    return findings, facts


def check_configuration(idp_data: bytes | str | None = None, idp_source: str = "<idp metadata>",
                        sp_data: bytes | str | None = None, sp_source: str = "<sp metadata>",
                        trusted_signer_data: bytes | str | None = None,
                        trusted_signer_source: str = "<trusted signer>", entity_id: str | None = None,
                        server_host: str | None = None, scope: str = "server", site_alias: str | None = None,
                        acs_url: str | None = None, slo_url: str | None = None, return_url: str | None = None,
                        policy: Policy | None = None,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Finding], dict[str, Any]]:
    """The SAML configuration exchanged with the IdP, as ``saml_metadata_check`` reports it: the IdP
    metadata (:func:`check_idp_metadata`, verified with the certificates of ``trusted_signer_data``
    when given), Tableau Server's SP metadata (:func:`check_sp_metadata`) and the URLs configured on
    the IdP (``urls.check_sp_urls``), each only when given, findings in that order.

    Returns ``(findings, facts)``, facts ``{"entity_id", "bindings", "idp", "sp", "urls"}`` (the
    first two from the IdP metadata).  Broken input raises a TrustopsError (XmlError, SamlError,
    CertificateError for an unreadable trusted signer).
    """
    findings: list[Finding] = []
    facts: dict[str, Any] = {"entity_id": None, "bindings": [], "idp": None, "sp": None, "urls": {}}
    if idp_data is not None:
        signers = (load_certificates(trusted_signer_data, trusted_signer_source)
                   if trusted_signer_data is not None else None)
        idp_findings, facts["idp"] = check_idp_metadata(idp_data, idp_source, policy, trusted_signers=signers,
                                                        entity_id=entity_id, max_bytes=max_bytes)
        findings.extend(idp_findings)
        facts["entity_id"], facts["bindings"] = facts["idp"]["entity_id"], facts["idp"]["bindings"]
    if sp_data is not None:
        sp_findings, facts["sp"] = check_sp_metadata(sp_data, sp_source, server_host, scope, site_alias,
                                                     max_bytes=max_bytes)
        findings.extend(sp_findings)
    url_findings, facts["urls"] = check_sp_urls(server_host, scope, site_alias, acs_url=acs_url, slo_url=slo_url,
                                                return_url=return_url)
    findings.extend(url_findings)
    return findings, facts
