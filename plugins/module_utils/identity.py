# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mutual SSL: which Tableau user a client certificate becomes, and where that is ambiguous.

Tableau Server maps a client certificate to a user by Active Directory (``ldap``: AD maps the
certificate itself, names in it are ignored), by the user principal name (``upn``: SAN
otherName 1.3.6.1.4.1.311.20.2.3, a UTF8String) or by the subject common name (``cn``).  The
default follows the identity store: ``ad`` -> ``ldap``, ``local`` -> ``upn``.  With AD and
``upn``/``cn`` the name is ``username``, ``domain/username`` or ``username@domain``; a name
without a domain falls into the default domain, which in a multi-domain organisation can give
one user another user's identity.  With a local identity store the name is taken as it is and
must equal a user name on the server.

This module extracts the names (``extract``), predicts the mapped user (``map_identity``) and
audits many certificates at once (``audit``): ambiguous names, collisions, unknown users,
empty mapping fields, validity, issuer, key usage.  Every problem is a ``Finding`` ``SSL-0NN``
(documented in docs/mutual_ssl.md).  Pure Python, no Ansible imports; one pass over the
certificates plus one over the mapped names, so the audit is linear in the number of
certificates.
"""

from __future__ import annotations

import csv
import datetime
import functools
import gc
import glob
import hashlib
import io
import itertools
import json
import os
import time
import unicodedata
from collections.abc import Iterable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, Registry, Rule, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils import _asn1
from ansible_collections.trustops.tableau.plugins.module_utils import certs as _certs
from ansible_collections.trustops.tableau.plugins.module_utils import identity_fast as _fast
from ansible_collections.trustops.tableau.plugins.module_utils import reader as _reader

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtensionOID, NameOID
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    pass

MAPPINGS = ("ldap", "upn", "cn")
IDENTITY_STORES = ("local", "ad")
UPN_OID = "1.3.6.1.4.1.311.20.2.3"
_CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2"
_ANY_EKU_OID = "2.5.29.37.0"

# DER bytes of the OIDs the lenient reader looks for
_SAN_OID_DER = b"\x55\x1d\x11"  # 2.5.29.17
_UPN_OID_DER = b"\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03"  # 1.3.6.1.4.1.311.20.2.3

_TAG_NAMES = {
    0x01: "BOOLEAN", 0x02: "INTEGER", 0x03: "BIT STRING", 0x04: "OCTET STRING", 0x05: "NULL",
    0x06: "OBJECT IDENTIFIER", 0x0C: "UTF8String", 0x12: "NumericString", 0x13: "PrintableString",
    0x14: "TeletexString", 0x16: "IA5String", 0x17: "UTCTime", 0x18: "GeneralizedTime",
    0x1A: "VisibleString", 0x1C: "UniversalString", 0x1E: "BMPString", 0x30: "SEQUENCE", 0x31: "SET",
}


# --------------------------------------------------------------------------- the rules (SSL-0NN)
# The sentences of seed 004 ("Mapping a Client Certificate to a User During Mutual Authentication")
# each rule enforces, verbatim.  Codes marked TLS in docs/mutual_ssl.md come from how TLS client
# authentication works, which the article presupposes (its first sentence).

_S_PRESENTS = ("When you use mutual (two-way) SSL authentication, the client presents its certificate to "
               "Tableau Server as part of the authentication process.")
_S_KNOW = ("To understand how the mapping happens and whether you need to change it, you must know how "
           "client certificates are structured in your organisation.")
_S_AD = ("If Tableau Server is configured to use Active Directory for user authentication, when Tableau "
         "Server receives a client certificate, it passes the certificate to Active Directory, which maps "
         "the certificate to an Active Directory identity. Any explicit user name information in the "
         "certificate is ignored.")
_S_UPN_FIELD = "A client certificate can be configured to store the user name in the user principal name field."
_S_UPN_READ = "Tableau Server reads the UPN value and maps it to a user in Active Directory or to a local user."
_S_CN_FIELD = ("A client certificate can be configured to store the user name in the common name field of "
               "the certificate.")
_S_FORMATS = ("If you configure the server for Active Directory authentication and UPN or CN user-name "
              "mapping, put the user name in one of the following formats: username, domain/username or "
              "username@domain.")
_S_LOCAL = ("If the server uses local authentication, the format of the name in the UPN or CN fields is not "
            "predetermined, but the name in the field must match a user name on the server.")
_S_VALUES = "Possible values are ldap for Active Directory mapping, upn for UPN mapping, or cn for CN mapping."
_S_CHANGE = ("If the default behaviour for how Tableau Server maps a user name to an identity is not correct "
             "for your server configuration, run the following set of commands to change the mapping to use "
             "the CN value:")
_S_DEFAULT_DOMAIN = ("For example, if Tableau Server is presented with a user name that does not include a "
                     "domain, the server maps the user name to an identity using the default domain.")
_S_WRONG_USER = ("This can cause an incorrect user-name mapping, potentially assigning a user a different "
                 "user\u2019s identity and permissions.")
_S_SAME_NAME = ("Some users have the same user name but different domains. For example, jsmith@example.org and "
                "jsmith@example.com.")
_S_NO_DOMAIN = ("The user name in the certificate\u2019s UPN or CN fields does not include the domain as part of "
                "the user name \u2013 for example, it shows jsmith.")

_FQ = "jsmith@example.org or example.org/jsmith"
_REISSUE = "Reissue the certificate with a well-formed subject and subjectAltName; OpenSSL-based servers refuse it"

#: The mutual SSL rules.  Per-certificate messages get the certificate's source in front
#: (``certs[2]: ...``) when :func:`audit` attaches them to the certificate.
REGISTRY = Registry("SSL", "Mutual SSL", "seed 004 (Mapping a Client Certificate to a User During Mutual "
                    "Authentication)")
RULES = REGISTRY.rules
finding = REGISTRY.finding

REGISTRY.register(
    Rule("SSL-001", "error", "{problem}",
         "Give readable PEM, DER or PKCS#7 certificate files (a private key or a damaged file is not a certificate)",
         seed=_S_PRESENTS, title="Input is not a certificate"),
    Rule("SSL-002", "error", "{problems}{effect}",
         "Encode the UPN (SAN otherName 1.3.6.1.4.1.311.20.2.3) as a UTF8String",
         seed=_S_UPN_FIELD, title="Malformed UPN encoding"),
    Rule("SSL-003", "error", "{problem}", _REISSUE, seed=_S_PRESENTS, title="Certificate a strict parser cannot read"),
    Rule("SSL-004", "error", "the certificate {state} {field}, which user-name mapping {mapping} reads{why}",
         "Issue the certificate with the user name in the {field}, or change the mapping "
         "(tsm authentication mutual-ssl configure -m)",
         seed=_S_UPN_READ, title="The mapped field is missing or empty"),
    Rule("SSL-005", "error", "the certificate has {count} different {field}s ({values}); which one Tableau Server "
         "reads is not documented", "Issue client certificates with exactly one {field}",
         seed=_S_CN_FIELD, title="Several values in the mapped field"),
    Rule("SSL-006", "error", "the {field} {value!r} {problem}; {requirement}",
         "Issue the certificate with the exact user name (with Active Directory: " + _FQ + ")",
         seed=_S_FORMATS, title="Name in an undocumented format"),
    Rule("SSL-007", "error", "the {field} {value!r} has no domain while {count} domains are in play ({domains}): "
         "Tableau Server maps it to {mapped_name} in the default domain{elsewhere}",
         "Issue client certificates with fully qualified user names: jsmith@example.org or example.org/jsmith",
         seed=_S_DEFAULT_DOMAIN + " " + _S_WRONG_USER, title="Name without a domain, several domains in play"),
    Rule("SSL-008", "info", "the {field} {value!r} has no domain: it maps to {mapped_name} in the default domain",
         "Prefer fully qualified user names before a second domain arrives",
         seed=_S_DEFAULT_DOMAIN, title="Name without a domain, one domain"),
    Rule("SSL-009", "warning", "the {field} {value!r} has no domain and no default domain is given: the user "
         "depends on the server's default domain",
         "Give default_domain, and issue certificates with fully qualified names",
         seed=_S_DEFAULT_DOMAIN, title="Name without a domain, default domain unknown"),
    Rule("SSL-010", "error", "{count} certificates from different domains ({domains}) map to the same Tableau user "
         "{mapped_name}: one user gets another user's identity and permissions",
         "Reissue the certificates with fully qualified names (" + _FQ + ")",
         seed=_S_SAME_NAME, title="Certificates of different domains map to one user"),
    Rule("SSL-011", "error", "the certificate belongs to {claimed_domain} (by its {evidence}) but its {field} "
         "{value!r} maps into the default domain, to {mapped_name}", "Reissue it with {user}@{claimed_domain}",
         seed=_S_NO_DOMAIN, title="Certificate of another domain maps into the default domain"),
    Rule("SSL-012", "error", "maps to {mapped_name}, which is not a user on the server",
         "Add the user to Tableau Server, or fix the name in the certificate",
         seed=_S_LOCAL, title="Unknown user"),
    Rule("SSL-013", "error", "expired on {not_after}", "Renew the client certificate",
         seed=_S_PRESENTS, title="Expired client certificate"),
    Rule("SSL-014", "error", "not valid before {not_before}", "Wait, or check the clocks of the issuing CA",
         seed=_S_PRESENTS, title="Client certificate not yet valid"),
    Rule("SSL-015", "error", "not issued by the configured client CA (issuer {issuer})",
         "Issue the certificate from the CA given to tsm authentication mutual-ssl configure --ca-cert",
         seed=_S_PRESENTS, title="Not issued by the client CA"),
    Rule("SSL-016", "info", "user-name mapping ldap: Active Directory maps each certificate to an account; the user "
         "names in the certificates are ignored, so the mapped users cannot be predicted from the certificates",
         "Publish each client certificate on its user's Active Directory account; the audit still checks "
         "validity, issuer and key usage", seed=_S_AD, title="ldap mapping: Active Directory decides"),
    Rule("SSL-017", "error", "user-name mapping ldap passes the certificate to Active Directory, but the identity "
         "store is local",
         "Use mapping upn or cn with a local identity store (tsm authentication mutual-ssl configure -m upn)",
         seed=_S_VALUES, title="ldap mapping with a local identity store"),
    Rule("SSL-018", "info", "{count} of {total} certificates name another user in the {other_label} than in the "
         "{label} (e.g. {label}: {example}, {other_label}: {other_example}): changing the user-name mapping to "
         "{other_field} changes who they are",
         "Keep the mapping, or make UPN and CN name the same user before changing it",
         seed=_S_CHANGE, title="The other mapping names other users"),
    Rule("SSL-019", "error", "{problem}: the TLS server refuses it as a client certificate",
         "Issue client certificates with extended key usage clientAuth and key usage digitalSignature",
         seed=_S_PRESENTS, title="Key usage unfit for TLS client authentication"),
    Rule("SSL-020", "warning", "{pattern}: the pattern matches no file", "Check the path or pattern",
         seed="Not a vendor rule: a pattern in certs that matches no file leaves certificates out of the audit "
              "unnoticed.", title="Pattern matches no file"),
    Rule("SSL-021", "warning", "nothing was audited: none of the {entries} input(s) of certs held a client "
         "certificate", "Point certs at the client certificates (paths, glob patterns or PEM content)",
         seed=_S_KNOW, title="No certificate audited"),
)
#: The rules met on most certificates of a big audit, called directly (no look-up by code).
_NO_DOMAIN = {code: RULES[code] for code in ("SSL-007", "SSL-008", "SSL-009", "SSL-011")}


def default_mapping(identity_store: str) -> str:
    """The mapping Tableau Server sets at installation: AD -> ``ldap``, local -> ``upn``."""
    _check_store(identity_store)
    return "ldap" if identity_store == "ad" else "upn"


def _either(values):
    """``a, b or c``: the allowed values, as a person reads them in a message."""
    values = list(values)
    return values[0] if len(values) == 1 else "{} or {}".format(", ".join(values[:-1]), values[-1])


def _check_store(identity_store):
    if identity_store not in IDENTITY_STORES:
        raise TrustopsError(f"identity_store must be {_either(sorted(IDENTITY_STORES))}, not {identity_store!r}")


def _check_mapping(mapping):
    if mapping not in MAPPINGS:
        raise TrustopsError(f"mapping must be {_either(MAPPINGS)}, not {mapping!r}")


@functools.lru_cache(maxsize=4096)  # a few domains, met again on almost every certificate
def normalize_domain(domain: str | None) -> str | None:
    """Domains compare case-insensitively and without a trailing dot (``Example.ORG.`` -> ``example.org``)."""
    if domain is None:
        return None
    domain = unicodedata.normalize("NFC", domain.strip()).rstrip(".").casefold()
    return domain or None


#: The former name (British spelling), kept for callers outside the collection.
normalise_domain = normalize_domain


def user_key(user: str) -> str:
    """User names compare case-insensitively after Unicode NFC normalisation (as AD does)."""
    return unicodedata.normalize("NFC", user).casefold()


# --------------------------------------------------------------------------- DER (read through _asn1)

def _tag_name(tag):
    if tag in _TAG_NAMES:
        return _TAG_NAMES[tag]
    if tag & 0xC0 == 0x80:
        return f"context tag [{tag & 0x1F}]"
    return f"tag 0x{tag:02x}"


def decode_upn_value(value: bytes) -> tuple[str | None, str | None]:
    """The UPN from an otherName value (the DER of the ``[0] EXPLICIT`` content).

    Returns (text, problem): text is the UPN when the value is exactly one well-formed
    UTF8String holding valid UTF-8, else None and problem says what is wrong.  A readable
    value of another string type is returned in the problem text so people can see it.
    """
    try:
        tag, start, end = _asn1.tlv(value)
    except _asn1.DerError as exc:
        return None, f"is not valid DER ({exc})"
    if end != len(value):
        return None, f"has {len(value) - end} byte(s) after the value"
    raw = value[start:end]
    if tag != _asn1.UTF8_STRING:
        shown = ""
        if tag in (0x12, 0x13, 0x14, 0x16, 0x1A, 0x04):
            shown = " (reads {!r})".format(raw.decode("latin-1"))
        return None, f"is a {_tag_name(tag)}, not a UTF8String{shown}"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"is a UTF8String that is not valid UTF-8 (byte {exc.start})"


def _raw_extensions(tbs):
    """[(oid DER, value DER)] read from a tbsCertificate by hand; raises _asn1.DerError."""
    start, end = _asn1.expect(tbs, 0, _asn1.SEQUENCE, what="tbsCertificate")
    pos = start
    while pos < end:
        tag, content, stop = _asn1.tlv(tbs, pos, end)
        if tag == _asn1.context(3):  # [3] EXPLICIT Extensions
            epos, eend = _asn1.expect(tbs, content, _asn1.SEQUENCE, stop, "extensions")
            out = []
            for _t, xpos, xend in _asn1.children(tbs, epos, eend):
                otag, ostart, oend = _asn1.tlv(tbs, xpos, xend)
                vtag, vstart, vend = _asn1.tlv(tbs, oend, xend)
                if vtag == 0x01:  # critical BOOLEAN
                    vtag, vstart, vend = _asn1.tlv(tbs, vend, xend)
                if otag != _asn1.OID or vtag != _asn1.OCTET_STRING:
                    raise _asn1.DerError(f"extension at byte {xpos} is not {{OID, [critical], OCTET STRING}}")
                out.append((tbs[ostart:oend], tbs[vstart:vend]))
            return out
        pos = stop
    return []


def _raw_general_names(value, into, problems):
    """Read a GeneralNames DER leniently into ``into`` (upns/emails/dns); damage -> problems."""
    try:
        tag, pos, end = _asn1.tlv(value)
        if tag != _asn1.SEQUENCE:
            raise _asn1.DerError(f"is a {_tag_name(tag)}, not a SEQUENCE")
    except _asn1.DerError as exc:
        problems.append(f"subjectAltName {exc}")
        return
    index = 0
    while pos < end:
        index += 1
        try:
            tag, start, stop = _asn1.tlv(value, pos, end)
        except _asn1.DerError as exc:
            problems.append(f"subjectAltName entry #{index} at byte {pos}: {exc}")
            return
        if tag == _asn1.context(0):  # otherName { type-id OID, [0] EXPLICIT value }
            try:
                otag, ostart, oend = _asn1.tlv(value, start, stop)
                if otag != _asn1.OID:
                    raise _asn1.DerError(f"type-id is a {_tag_name(otag)}, not an OID")
                vtag, vstart, vend = _asn1.tlv(value, oend, stop)
                if vtag != _asn1.context(0):
                    raise _asn1.DerError(f"value is a {_tag_name(vtag)}, not [0] EXPLICIT")
            except _asn1.DerError as exc:
                problems.append(f"subjectAltName otherName #{index}: {exc}")
            else:
                if value[ostart:oend] == _UPN_OID_DER:
                    into["upn_values"].append(value[vstart:vend])
        elif tag == _asn1.context(1, constructed=False):  # rfc822Name
            into["emails"].append(value[start:stop].decode("ascii", "replace"))
        elif tag == _asn1.context(2, constructed=False):  # dNSName
            into["dns_names"].append(value[start:stop].decode("ascii", "replace"))
        pos = stop


# --------------------------------------------------------------------------- extraction

class CertIdentity:
    """The names a client certificate carries, and what could not be read."""

    __slots__ = ("cert", "source", "sources", "sha256", "subject", "issuer", "serial_number", "common_names",
                 "upns", "emails", "dns_names", "dc_domain", "not_before", "not_after", "problems",
                 "upn_problems", "client_auth_problem")
    cert: Any
    source: str
    sha256: str
    subject: str
    issuer: str
    serial_number: str
    not_before: datetime.datetime
    not_after: datetime.datetime

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.common_names: list[str] = []
        self.upns: list[str] = []
        self.emails: list[str] = []
        self.dns_names: list[str] = []
        self.problems: list[tuple[str, str]] = []  # (code, message) for unreadable parts other than the UPN
        self.upn_problems: list[str] = []  # messages about malformed UPN otherNames
        self.client_auth_problem: str | None = None
        self.dc_domain: str | None = None


def _subject_names(ident, cert):
    try:
        subject = cert.subject
        ident.subject = subject.rfc4514_string()
    except Exception as exc:  # an unparsable Name
        ident.subject = "<unreadable subject>"
        ident.problems.append(("SSL-003", f"the subject name cannot be read ({_certs._short(exc)})"))
        return
    cns, dcs = [], []
    for rdn in subject.rdns:  # DER order, most significant first; multi-valued RDNs included
        for attr in rdn:
            if attr.oid == NameOID.COMMON_NAME:
                cns.append(attr.value)
            elif attr.oid == NameOID.DOMAIN_COMPONENT:
                dcs.append(attr.value)
    ident.common_names = cns
    ident.dc_domain = _dc_domain(dcs)


def _dc_domain(dcs):
    """The domain the subject's DC components name: DC=org, DC=example (DER order) -> example.org."""
    return normalize_domain(".".join(reversed(dcs))) if dcs else None


def _extension_names(ident, cert):
    upn_values = []
    try:
        exts = cert.extensions
    except Exception as exc:  # malformed or duplicate extensions: read the SAN by hand
        ident.problems.append(("SSL-003", f"the extensions cannot be read by a strict X.509 parser ({_certs._short(exc)}); "
                               "names were read from the subjectAltName by a lenient reader"))
        into = {"upn_values": upn_values, "emails": ident.emails, "dns_names": ident.dns_names}
        damage = []
        try:
            raw = _raw_extensions(cert.tbs_certificate_bytes)
        except ValueError as err:  # _asn1.DerError is a ValueError
            damage.append(f"extensions: {err}")
            raw = []
        sans = [value for oid, value in raw if oid == _SAN_OID_DER]
        if len(sans) > 1:
            damage.append(f"{len(sans)} subjectAltName extensions (one is allowed)")
        for value in sans:
            _raw_general_names(value, into, damage)
        ident.problems.extend(("SSL-003", text) for text in damage)
    else:
        upn_oid = _OIDS()[0]
        eku_problem = ku_problem = None
        for ext in exts:
            if ext.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
                for name in ext.value:
                    kind = type(name)
                    if kind is x509.OtherName:
                        if name.type_id == upn_oid:
                            upn_values.append(name.value)
                    elif kind is x509.RFC822Name:
                        ident.emails.append(name.value)
                    elif kind is x509.DNSName:
                        ident.dns_names.append(name.value)
            else:
                eku, ku = _usage_problems(ext)
                eku_problem = eku or eku_problem
                ku_problem = ku or ku_problem
        ident.client_auth_problem = _client_auth_problem(eku_problem, ku_problem)
    _decode_upns(ident, upn_values)


def _usage_problems(ext):
    """(extended key usage problem, key usage problem) one parsed extension gives the client
    authentication check (SSL-019), each None when it gives none.  The one reading of these two
    extensions: the fast reader reuses what it returned for the same extension bytes."""
    oid = ext.oid
    if oid == ExtensionOID.EXTENDED_KEY_USAGE:
        _upn, client_auth, any_eku = _OIDS()
        usages = list(ext.value)
        if client_auth not in usages and any_eku not in usages:
            return ("its extended key usage ({}) does not include clientAuth".format(
                ", ".join(sorted(_eku_name(u) for u in usages))), None)
    elif oid == ExtensionOID.KEY_USAGE:
        ku = ext.value
        if not (ku.digital_signature or ku.key_agreement):
            return None, "its key usage allows neither digitalSignature nor keyAgreement"
    return None, None


def _client_auth_problem(eku_problem, ku_problem):
    """What unfits a certificate for TLS client authentication: the extended key usage's problem
    first, else the key usage's (a certificate has each extension at most once)."""
    return eku_problem or ku_problem


def _decode_upns(ident, upn_values):
    """The UPN otherName values (DER) into ``ident.upns``, or ``ident.upn_problems`` saying why not."""
    for number, value in enumerate(upn_values, 1):
        text, problem = decode_upn_value(value)
        if problem:
            ident.upn_problems.append(f"UPN otherName #{number} {problem}")
        else:
            ident.upns.append(text)


@functools.lru_cache(maxsize=1)
def _OIDS():  # pylint: disable=invalid-name
    """The ObjectIdentifiers compared on every certificate (made once, after the import check)."""
    return (
        x509.ObjectIdentifier(UPN_OID),
        x509.ObjectIdentifier(_CLIENT_AUTH_OID),
        x509.ObjectIdentifier(_ANY_EKU_OID),
    )


def _eku_name(oid):
    name = getattr(oid, "_name", None)
    return name if name and name != "Unknown OID" else oid.dotted_string


def extract(cert: Any, source: str = "<input>", digest: bytes | None = None) -> CertIdentity:
    """A :class:`CertIdentity` for a loaded certificate; unreadable parts become problems.

    ``digest``: the certificate's SHA-256 digest when the caller already has it.
    """
    ident = CertIdentity()
    ident.cert = cert
    ident.source = source
    ident.sources.append(source)
    ident.sha256 = (digest or cert.fingerprint(hashes.SHA256())).hex(":").upper()  # as certs.fingerprint()
    _subject_names(ident, cert)
    ident.issuer = _certs.issuer_text(cert)
    ident.serial_number = f"{cert.serial_number:X}"
    ident.not_before = _certs.not_before(cert)
    ident.not_after = _certs.not_after(cert)
    _extension_names(ident, cert)
    return ident


def extract_fast(cert: Any, der: bytes, source: str = "<input>", digest: bytes | None = None) -> CertIdentity:
    """:func:`extract` for a certificate ``cryptography`` loaded from exactly the bytes ``der``,
    the names, dates, SAN and extensions read from the DER (:mod:`identity_fast`) when the fast
    reader recognises everything in it, else by :func:`extract` itself.  The result is the same
    either way (tests/unit/plugins/module_utils/test_identity_fast.py compares every field).
    ``digest``: the SHA-256 of ``der`` when the caller has it.
    """
    fields = _fast.read(der)
    if fields is None:
        ident = extract(cert, source, digest or hashlib.sha256(der).digest())
        _learn(cert, der)
        return ident
    return _fast_identity(cert, der, fields, source, digest)


def _fast_identity(cert, der, fields, source, digest):
    """The :class:`CertIdentity` of what :func:`identity_fast.read` gave for ``der``."""
    ident = CertIdentity.__new__(CertIdentity)  # every slot is set here: no lists made only to be replaced
    ident.cert = cert
    ident.source = source
    ident.sources = [source]
    ident.sha256 = (digest or hashlib.sha256(der).digest()).hex(":").upper()  # as certs.fingerprint()
    (ident.serial_number, issuer, ident.subject, ident.common_names, dcs, upn_values, ident.emails, ident.dns_names,
     eku_problem, ku_problem) = fields
    ident.not_before = _certs.not_before(cert)
    ident.not_after = _certs.not_after(cert)
    ident.dc_domain = _dc_domain(dcs)
    ident.problems = []
    ident.upns = []
    ident.upn_problems = []
    text = _ISSUERS.get(issuer)
    if text is None:
        if len(_ISSUERS) >= 4096:
            _ISSUERS.clear()
        text = _ISSUERS[issuer] = _certs.issuer_text(cert)
    ident.issuer = text
    ident.client_auth_problem = _client_auth_problem(eku_problem, ku_problem)
    if upn_values:
        _decode_upns(ident, upn_values)
    return ident


_ISSUERS: dict[bytes, str] = {}  # issuer Name content (DER) -> certs.issuer_text(): a few CAs issue them all


def _learn(cert, der):
    """Tell the fast reader what this certificate's extensions give the client authentication
    check, once ``cryptography`` has parsed them all (nothing when it could not)."""
    try:
        exts = cert.extensions
    except Exception:  # pylint: disable=broad-exception-caught  # the full path reported it (SSL-003)
        return
    # a critical extension cryptography does not know is never learnt: it always goes the full way
    _fast.learn(der, {ext.oid.dotted_string: _usage_problems(ext) for ext in exts
                      if ext.oid != ExtensionOID.SUBJECT_ALTERNATIVE_NAME
                      and not (ext.critical and isinstance(ext.value, x509.UnrecognizedExtension))})


# --------------------------------------------------------------------------- mapping


class Mapping:
    """What Tableau Server makes of one certificate under a mapping configuration."""

    __slots__ = (
        "field",
        "value",
        "user",
        "domain",
        "domain_source",
        "name_format",
        "mapped_name",
        "key",
        "predictable",
        "findings",
    )

    def __init__(self, field):
        self.field = field  # upn | cn | None (ldap)
        self.value = None  # the raw value read from the field
        self.user = None
        self.domain = None
        self.domain_source = None  # certificate | default_domain | None
        self.name_format = None  # username | domain/username | username@domain | local
        self.mapped_name = None
        self.key = None  # what identifies the Tableau user: (user_key, domain) or (user_key,)
        self.predictable = False
        self.findings = []  # Findings without the certificate's source: the audit adds it


def split_name(value: str) -> tuple[str, str | None, str]:
    """Split an AD-style name into (user, domain, format) or raise ValueError saying why.

    Documented formats only: ``username``, ``domain/username``, ``username@domain``.
    """
    if value != value.strip():
        raise ValueError("has leading or trailing white space")
    if not value.isprintable():
        raise ValueError("holds control, format or other non-printing characters")
    if "\\" in value:
        raise ValueError("uses DOMAIN\\username, which is not one of the documented formats")
    ats, slashes = value.count("@"), value.count("/")
    if ats + slashes > 1:
        raise ValueError(f"has {ats + slashes} separators ('@' or '/'); a name has at most one")
    if ats:
        user, domain = value.split("@")
        fmt = "username@domain"
    elif slashes:
        domain, user = value.split("/")
        fmt = "domain/username"
    else:
        return value, None, "username"
    if not user.strip() or not domain.strip():
        raise ValueError("has an empty %s part" % ("user" if not user.strip() else "domain"))
    if user != user.strip() or domain != domain.strip():
        raise ValueError("has white space around the separator")
    return user, normalize_domain(domain), fmt


def _local_name_problem(value):
    if value != value.strip():
        return "has leading or trailing white space"
    if not value.isprintable():
        return "holds control, format or other non-printing characters"
    return None


def map_identity(ident: CertIdentity, mapping: str, identity_store: str, default_domain: str | None = None) -> Mapping:
    """The user Tableau Server would map ``ident`` to, as a :class:`Mapping` with its findings."""
    if mapping not in MAPPINGS:
        _check_mapping(mapping)
    if identity_store not in IDENTITY_STORES:
        _check_store(identity_store)
    if mapping == "ldap":
        return Mapping(None)  # AD maps the certificate; nothing in it predicts the user
    result = Mapping(mapping)
    values = ident.upns if mapping == "upn" else ident.common_names
    label = "UPN" if mapping == "upn" else "CN"
    if not values:
        why = ""
        if mapping == "upn" and ident.upn_problems:
            why = "; its UPN cannot be read ({})".format("; ".join(ident.upn_problems))
        elif mapping == "upn" and ident.common_names:
            why = f"; it has a CN ({ident.common_names[0]}): user-name mapping cn would read that"
        elif mapping == "cn" and ident.upns:
            why = f"; it has a UPN ({ident.upns[0]}): user-name mapping upn would read that"
        result.findings.append(finding("SSL-004", state="has no", field=label, mapping=mapping, why=why))
        return result
    distinct = []
    for v in values:
        if v not in distinct:
            distinct.append(v)
    if len(distinct) > 1:
        result.findings.append(finding("SSL-005", data={"candidates": distinct}, count=len(distinct), field=label,
                                       values=", ".join(distinct)))
        return result
    value = result.value = distinct[0]
    if value == "":
        result.findings.append(finding("SSL-004", state="has an empty", field=label, mapping=mapping, why=""))
        return result
    if identity_store == "local":
        problem = _local_name_problem(value)
        if problem:
            result.findings.append(finding("SSL-006", field=label, value=value, problem=problem,
                                           requirement="it cannot equal a user name on the server"))
            return result
        result.user = value
        result.name_format = "local"
        result.mapped_name = value
        result.key = (user_key(value),)
        result.predictable = True
        return result
    try:
        user, domain, fmt = split_name(value)
    except ValueError as exc:
        result.findings.append(finding("SSL-006", field=label, value=value, problem=str(exc),
                                       requirement="with Active Directory the name must be username, "
                                                   "domain/username or username@domain"))
        return result
    result.user = user
    result.name_format = fmt
    if domain is not None:
        result.domain = domain
        result.domain_source = "certificate"
    else:
        result.domain = normalize_domain(default_domain)
        result.domain_source = "default_domain" if result.domain else None
    result.mapped_name = f"{user}@{result.domain}" if result.domain else user
    result.key = (user_key(user), result.domain)
    result.predictable = result.domain is not None
    return result


def origin_domain(ident: CertIdentity, mapped: Mapping | None) -> tuple[str | None, str | None]:
    """(domain, evidence) the certificate itself claims, whatever the mapping makes of it.

    The mapped field's own domain first, then a UPN's domain, the subject's DC components,
    an e-mail address's domain.  (None, None) when the certificate names no domain.
    """
    if mapped is not None and mapped.domain_source == "certificate":
        return mapped.domain, mapped.field
    for upn in ident.upns:
        if "@" in upn:
            domain = normalize_domain(upn.rsplit("@", 1)[1])
            if domain:
                return domain, "upn"
    if ident.dc_domain:
        return ident.dc_domain, "subject-dc"
    for email in ident.emails:
        if "@" in email:
            domain = normalize_domain(email.rsplit("@", 1)[1])
            if domain:
                return domain, "email"
    return None, None


# --------------------------------------------------------------------------- inputs

_PEM_CERT_BEGIN = b"-----BEGIN CERTIFICATE-----"


def _load(data, source):
    """certs.load_certificates(), with a fast path for the common file holding exactly one PEM or
    DER certificate.  Anything else, and every error, goes through certs.load_certificates so the
    result and the messages are the same."""
    if isinstance(data, bytes):
        try:
            if _asn1.starts_sequence(data):
                return [x509.load_der_x509_certificate(data)]
            if data.count(b"-----BEGIN") == 1 and data.count(_PEM_CERT_BEGIN) == 1:
                return [x509.load_pem_x509_certificate(data)]
        except Exception:  # not that simple: the full loader decides and explains
            pass
    return _certs.load_certificates(data, source)


def _load_der(data, source):
    """:func:`_load` with each certificate's DER: [(certificate, DER or None)].  A file that is one
    DER certificate, or one PEM certificate block in strict base64 (identity_fast.pem_der), is
    loaded by ``cryptography`` from those very bytes; anything else goes through :func:`_load`
    (DER None: the certificate is read the full way)."""
    if isinstance(data, bytes):
        der = data if _asn1.starts_sequence(data) else _fast.pem_der(data)
        if der is not None:
            try:
                return [(x509.load_der_x509_certificate(der), der)]
            except Exception:  # pylint: disable=broad-exception-caught  # the full loader explains
                pass
    return [(cert, None) for cert in _load(data, source)]


class SourceProblem:
    """An entry of ``certs`` that yields no bytes: a file that cannot be read (``SSL-001``, ``message``
    says why) or a pattern that matches nothing (``SSL-020``, ``message`` is the pattern).
    :func:`audit` reports and counts it in input order."""

    __slots__ = ("code", "message")

    def __init__(self, code, message):
        self.code = code
        self.message = message


def read_sources(specs: Iterable[str | bytes]) -> list[tuple[str, bytes | SourceProblem]]:
    """Expand ``certs`` entries (PEM content, paths, globs) into (source, bytes or SourceProblem).

    An entry holding ``-----BEGIN`` is content; one with ``*``, ``?`` or ``[`` is a glob
    (sorted, directories skipped); anything else is a path.  Files and content are read by the
    collection's one reader with the certificate cap (docs/inputs.md).  A missing or unreadable
    file, and a glob that matches nothing, become a :class:`SourceProblem` in its place, which
    :func:`audit` reports (SSL-001, SSL-020) and counts: the rest is audited.
    """
    items: list[tuple[str, bytes | SourceProblem]] = []
    for number, spec in enumerate(specs, 1):
        label = f"certs[{number}]"
        if isinstance(spec, bytes):
            items.append((label, spec))
            continue
        if "-----BEGIN" in spec:
            try:
                items.append(
                    (
                        label,
                        _reader.read_input(
                            content=spec.encode("utf-8", "surrogateescape"),
                            option=label,
                            max_bytes=_reader.MAX_CERTIFICATE,
                        ),
                    )
                )
            except _reader.InputError as exc:
                items.append((label, SourceProblem("SSL-001", str(exc))))
            continue
        if any(ch in spec for ch in "*?["):
            paths = sorted(p for p in glob.glob(os.path.expanduser(spec)) if not os.path.isdir(p))
            if not paths:
                items.append((spec, SourceProblem("SSL-020", spec)))
        else:
            paths = [os.path.expanduser(spec)]
        for path in paths:
            try:
                items.append((path, _reader.read_input(path=path, option=path, max_bytes=_reader.MAX_CERTIFICATE)))
            except _reader.InputError as exc:
                items.append((path, SourceProblem("SSL-001", str(exc))))
    return items


def read_client_ca(value: str) -> list:
    """The client CA certificates from ``value``: PEM content (holds ``-----BEGIN``) or a file path,
    read through the one reader with the CA bundle cap.  Raises TrustopsError naming ``client_ca``."""
    if "-----BEGIN" in value:
        data = _reader.read_input(content=value, option="client_ca", max_bytes=_reader.MAX_BUNDLE)
        return _certs.load_certificates(data, "client_ca")
    data = _reader.read_input(path=value, option="client_ca", max_bytes=_reader.MAX_BUNDLE)
    return _certs.load_certificates(data, f"client_ca {value}")


def read_known_users(names: Iterable[str] | None = None, path: str | None = None) -> list[tuple[str, str | None]] | None:
    """(name, domain) pairs from a list of names and/or a CSV/JSON file (:func:`load_known_users`),
    or None when neither is given (unknown users are then not judged)."""
    if names is None and path is None:
        return None
    users: list[tuple[str, str | None]] = [(name, None) for name in (names or [])]
    if path is not None:
        data = _reader.read_input(path=path, option="known_users_file", max_bytes=_reader.MAX_TABLE)
        users.extend(load_known_users(data, f"known_users_file {path}"))
    return users


def audit_inputs(
    certs: list[str],
    identity_store: str,
    mapping: str | None = None,
    default_domain: str | None = None,
    domains: list[str] | None = None,
    known_users: list[str] | None = None,
    known_users_file: str | None = None,
    client_ca: str | None = None,
    now: datetime.datetime | None = None,
) -> AuditResult:
    """The audit from the options as a user gives them (the module's one call): ``certs`` entries
    (:func:`read_sources`), known users as names and/or a file, the client CA as content or a path.

    Broken options (no ``certs``, an unreadable known-users file or client CA) raise TrustopsError;
    broken certificates are findings of the returned :class:`AuditResult`.
    """
    if not certs:
        raise TrustopsError("certs must name at least one certificate, file or pattern")
    ca = read_client_ca(client_ca) if client_ca else None
    known = read_known_users(known_users, known_users_file)
    return audit(
        read_sources(certs),
        identity_store,
        mapping=mapping,
        default_domain=default_domain,
        domains=domains,
        known_users=known,
        client_ca=ca,
        now=now,
    )


_NAME_HEADERS = ("name", "username", "user name", "user_name", "user", "samaccountname", "userprincipalname")


def load_known_users(data: str | bytes, source: str = "<known users>", fmt: str = "auto") -> list[tuple[str, str | None]]:
    """User names from CSV (Tableau's user import file: the first column is the user name; or a
    header row with a ``name``/``username`` column and an optional ``domain`` column) or JSON (a
    list of names or of objects with ``name`` and ``domain``, as the REST API returns them, also
    wrapped as ``{"users": {"user": [...]}}``).  Returns a list of (name, domain or None).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TrustopsError(f"{source}: not UTF-8 text (byte {exc.start})")
    if data.lstrip().startswith("-----BEGIN"):
        label = data.lstrip().split("\n", 1)[0].strip("- \r")
        raise TrustopsError(
            "{}: holds PEM ({}), not a list of users; give a CSV or JSON file of user names".format(
                source, label[6:] if label.startswith("BEGIN ") else label
            )
        )
    if fmt == "auto":
        fmt = "json" if data.lstrip()[:1] in ("[", "{") else "csv"
    if fmt == "json":
        return _known_users_json(data, source)
    if fmt == "csv":
        return _known_users_csv(data, source)
    raise TrustopsError(f"{source}: known users format must be auto, csv or json, not {fmt!r}")


def _known_users_json(data, source):
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise TrustopsError(f"{source}: not valid JSON ({exc})")
    if isinstance(doc, dict) and "users" in doc:
        doc = doc["users"]
        if isinstance(doc, dict) and "user" in doc:
            doc = doc["user"]
    if not isinstance(doc, list):
        raise TrustopsError(f'{source}: expected a JSON list of users (or {{"users": ...}})')
    out = []
    for number, entry in enumerate(doc, 1):
        if isinstance(entry, str):
            out.append((entry, None))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            domain = entry.get("domain")
            if isinstance(domain, dict):
                domain = domain.get("name")
            if domain is not None and not isinstance(domain, str):
                raise TrustopsError(f"{source}: user #{number}: domain must be text")
            out.append((entry["name"], domain or None))
        else:
            raise TrustopsError(f'{source}: user #{number} is neither a name nor an object with a "name"')
    return out


def _known_users_csv(data, source):
    try:
        rows = [row for row in csv.reader(io.StringIO(data)) if row and any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise TrustopsError(f"{source}: not valid CSV ({exc})")
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    name_col, domain_col = 0, None
    if any(h in _NAME_HEADERS for h in header):
        name_col = next(i for i, h in enumerate(header) if h in _NAME_HEADERS)
        domain_col = header.index("domain") if "domain" in header else None
        rows = rows[1:]
    out = []
    for number, row in enumerate(rows, 1):
        if name_col >= len(row) or not row[name_col].strip():
            raise TrustopsError(f"{source}: row {number} has no user name")
        domain = row[domain_col].strip() if domain_col is not None and domain_col < len(row) else None
        out.append((row[name_col].strip(), domain or None))
    return out


def known_user_keys(users: Iterable[tuple[str, str | None]], identity_store: str,
                    default_domain: str | None = None) -> tuple[set[tuple], set[str]]:
    """The set of keys (as Mapping.key) of known users, and the domains they name."""
    keys: set[tuple] = set()
    domains: set[str] = set()
    default = normalize_domain(default_domain)
    for name, domain in users:
        if identity_store == "local":
            keys.add((user_key(name),))
            continue
        user, found = name, None
        if "\\" in name and name.count("\\") == 1:  # DOMAIN\user as user lists often write it
            found, user = name.split("\\")
        else:
            try:
                user, found, _fmt = split_name(name)
            except ValueError as exc:
                raise TrustopsError(f"known user {name!r} {exc}")
        dom = normalize_domain(domain) or normalize_domain(found) or default
        keys.add((user_key(user), dom))
        if dom:
            domains.add(dom)
    return keys, domains


# --------------------------------------------------------------------------- audit


class AuditResult:
    """Per-certificate results (dicts), all findings (Finding objects), and the configuration."""

    __slots__ = (
        "certificates",
        "findings",
        "mapping",
        "identity_store",
        "default_domain",
        "domains_in_play",
        "counts",
        "timings",
    )
    certificates: list[dict]
    findings: list[Finding]
    mapping: str
    identity_store: str
    default_domain: str | None
    domains_in_play: list[str]
    counts: dict[str, int]
    timings: dict[str, float]

    def as_dict(self, findings: bool = True) -> dict:
        """The result as plain data.  ``findings=False`` leaves the findings out, for a caller that
        turns them into dicts itself (the module: ``_module.finish`` does), so that each of them is
        made once."""
        out = {
            "certificates": self.certificates,
            "mapping": self.mapping,
            "identity_store": self.identity_store,
            "default_domain": self.default_domain,
            "domains_in_play": self.domains_in_play,
            "counts": dict(self.counts),
        }
        if findings:
            out["findings"] = [f.as_dict() for f in self.findings]
        return out


_SEVERE = {"error": 2, "warning": 1, "info": 0}


def audit(
    items: Iterable[tuple[str, bytes | str | SourceProblem]],
    identity_store: str,
    mapping: str | None = None,
    default_domain: str | None = None,
    domains: Iterable[str] | None = None,
    known_users: Iterable[tuple[str, str | None]] | None = None,
    client_ca: list | None = None,
    now: datetime.datetime | None = None,
    fast: bool = True,
) -> AuditResult:
    """Audit client certificates for mutual SSL.

    ``items``: (source, bytes) pairs, each PEM/DER/PKCS#7 holding one or more certificates, or
    (source, :class:`SourceProblem`) for an input that yielded no bytes (see :func:`read_sources`).  ``mapping`` defaults to the seed's default for the store.
    ``domains``: the organisation's AD domains when known; otherwise the domains in play are
    the default domain, the domains of mapped names and UPNs, and those of known users.
    ``known_users``: (name, domain) pairs (see :func:`load_known_users`).  ``client_ca``: CA
    certificates the server trusts for client certificates (tsm ``--ca-cert``).  ``fast``: read
    each certificate that is one PEM block or DER file with :func:`extract_fast` (the default; the
    results are the same); False reads every certificate with :func:`extract` (``cryptography``
    objects only), the reference the fast reader is tested and measured against.
    """
    # Tens of thousands of small objects and no reference cycles: the cyclic garbage collector
    # would only rescan the growing heap again and again (the audit ran 1.5-2.5 times slower).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _audit(items, identity_store, mapping, default_domain, domains, known_users, client_ca, now, fast)
    finally:
        if enabled:
            gc.enable()


def _audit(items, identity_store, mapping, default_domain, domains, known_users, client_ca, now, fast):
    _check_store(identity_store)
    mapping = mapping or default_mapping(identity_store)
    _check_mapping(mapping)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    default = normalize_domain(default_domain)
    findings = []
    res = AuditResult()
    res.mapping, res.identity_store, res.default_domain = mapping, identity_store, default

    if mapping == "ldap" and identity_store == "local":
        findings.append(finding("SSL-017", data={"mapping": mapping, "identity_store": identity_store}))
    elif mapping == "ldap":
        findings.append(finding("SSL-016", data={"mapping": mapping}))

    known = None
    known_domains = set()
    if known_users is not None:
        known, known_domains = known_user_keys(known_users, identity_store, default)

    # pass 1: load, deduplicate, extract, map -- linear in the number of certificates
    entries = []  # (ident, mapped, cert_findings list)
    by_sha = {}
    unreadable = unmatched = 0
    items_seen = 0
    for source, data in items:
        items_seen += 1
        if isinstance(data, SourceProblem):
            if data.code == "SSL-020":
                unmatched += 1
                findings.append(finding("SSL-020", data={"source": source}, pattern=source))
            else:
                unreadable += 1
                findings.append(finding("SSL-001", data={"source": source}, problem=data.message))
            continue
        try:
            loaded = _load_der(data, source) if fast else [(cert, None) for cert in _load(data, source)]
        except TrustopsError as exc:
            unreadable += 1
            findings.append(finding("SSL-001", data={"source": source}, problem=str(exc)))
            continue
        for number, (cert, der) in enumerate(loaded, 1):
            name = source if len(loaded) == 1 else f"{source}#{number}"
            sha = cert.fingerprint(hashes.SHA256()) if der is None else hashlib.sha256(der).digest()
            seen = by_sha.get(sha)
            if seen is not None:
                seen[0].sources.append(name)
                continue
            ident = extract(cert, name, sha) if der is None else extract_fast(cert, der, name, sha)
            mapped = map_identity(ident, mapping, identity_store, default)
            entry = (ident, mapped, [])
            by_sha[sha] = entry
            entries.append(entry)

    # the domains in play
    if domains:
        in_play = {normalize_domain(d) for d in domains if normalize_domain(d)}
    else:
        in_play = set(known_domains)
        if default:
            in_play.add(default)
        for ident, mapped, _f in entries:
            if mapped.domain_source == "certificate":
                in_play.add(mapped.domain)
            for upn in ident.upns:
                if "@" in upn:
                    in_play.add(normalize_domain(upn.rsplit("@", 1)[1]))
    in_play.discard(None)
    res.domains_in_play = sorted(in_play)
    in_play_text = ", ".join(res.domains_in_play)
    multi = len(in_play) > 1

    # users by name part, to say where a domain-less name also exists
    domains_of_user = {}
    if identity_store == "ad" and mapping != "ldap":
        for _ident, mapped, _f in entries:
            if mapped.key is not None and mapped.domain_source == "certificate":
                domains_of_user.setdefault(mapped.key[0], set()).add(mapped.domain)
        if known is not None:
            for key in known:
                if key[1]:
                    domains_of_user.setdefault(key[0], set()).add(key[1])

    ca_list = list(client_ca or [])
    keyed = []  # certificates with a mapped user, for the collision pass
    other_names = {}  # id(ident) -> the user the other name field (cn for upn, upn for cn) names
    for ident, mapped, own in entries:
        for code, text in ident.problems:
            own.append(finding(code, problem=text))
        if ident.upn_problems and mapping != "upn":
            own.append(finding("SSL-002", "warning" if mapping == "cn" else "info",
                               problems="; ".join(ident.upn_problems),
                               effect=f" (not used by user-name mapping {mapping})"))
        elif ident.upn_problems:
            own.append(finding("SSL-002", problems="; ".join(ident.upn_problems),
                               effect="; Tableau Server cannot be expected to read it"))
        own.extend(mapped.findings)
        org_domain, org_source = origin_domain(ident, mapped)
        if mapped.key is not None and identity_store == "ad" and mapped.domain_source != "certificate":
            _domainless(
                own, mapped, multi, res.domains_in_play, in_play_text, default, org_domain, org_source, domains_of_user
            )
        if mapping != "ldap" and mapped.key is not None:
            other = _other_field_name(ident, mapping, mapped, identity_store, default)
            if other is not None:
                other_names[id(ident)] = other
        if known is not None and mapped.key is not None and mapped.predictable and mapped.key not in known:
            own.append(finding("SSL-012", mapped_name=mapped.mapped_name))
        if _certs.is_expired(ident.cert, now):  # the one validity rule (certs)
            own.append(finding("SSL-013", not_after=ident.not_after.isoformat()))
        if _certs.is_not_yet_valid(ident.cert, now):
            own.append(finding("SSL-014", not_before=ident.not_before.isoformat()))
        if ca_list and not any(_certs.issued_by(ident.cert, ca) for ca in ca_list):
            own.append(finding("SSL-015", issuer=ident.issuer))
        if ident.client_auth_problem:
            own.append(finding("SSL-019", problem=ident.client_auth_problem))
        if mapped.key is not None:
            keyed.append((ident, mapped, own, org_domain, org_source))
        ident.cert = None  # every check that needs the certificate is done: free it (~10 kB each)

    # pass 2: collisions -- one dict over the mapped users, linear
    started = time.perf_counter()
    groups = {}
    for member in keyed:
        groups.setdefault(member[1].key, []).append(member)
    collisions = []
    for _key, members in groups.items():
        if len(members) < 2:
            continue
        claimed = {}
        for ident, _mapped, _own, org_domain, _org_source in members:
            if org_domain:
                claimed.setdefault(org_domain, []).append(ident)
        if len(claimed) < 2:
            continue
        mapped_name = members[0][1].mapped_name
        data = {
            "mapped_name": mapped_name,
            "certificates": [
                {
                    "source": m[0].source,
                    "sha256": m[0].sha256,
                    "subject": m[0].subject,
                    "claimed_domain": m[3],
                    "evidence": m[4],
                }
                for m in members
            ],
            "claimed_domains": sorted(claimed),
        }
        collisions.append(finding("SSL-010", data=data, count=len(members), domains=", ".join(sorted(claimed)),
                                  mapped_name=mapped_name))
        for member in members:
            member[2].append("SSL-010")  # the code joins the certificate's list; the finding is the audit's

    res.timings = {"collisions": time.perf_counter() - started}
    certificates = []
    for ident, mapped, own in entries:
        codes = []
        for found in own:
            if found.__class__ is str:  # an audit-wide finding's code (SSL-010)
                codes.append(found)
                continue
            codes.append(found.code)
            # as the audit reports it: the certificate's source in front of the message, and in data
            found.message = f"{ident.source}: {found.message}"
            data = found.data
            data["source"], data["sha256"], data["subject"] = ident.source, ident.sha256, ident.subject
            findings.append(found)
        certificates.append(_result(ident, mapped, codes, other_names.get(id(ident))))
    findings.extend(collisions)
    if other_names:
        other_field = "cn" if mapping == "upn" else "upn"
        examples = list(itertools.islice((
            {"source": ident.source, "mapped_name": mapped.mapped_name, "other_mapped_name": other_names[id(ident)]}
            for ident, mapped, _own in entries
            if id(ident) in other_names), 5))  # the first five, without a dict for every other certificate
        findings.append(finding(
            "SSL-018", data={"count": len(other_names), "other_field": other_field, "examples": examples},
            count=len(other_names), total=len(entries), other_label=other_field.upper(), label=mapping.upper(),
            example=examples[0]["mapped_name"], other_example=examples[0]["other_mapped_name"],
            other_field=other_field))
    if not entries:
        findings.append(finding("SSL-021", entries=items_seen))
    res.certificates = certificates
    res.findings = findings
    res.counts = {
        "certificates": len(entries),
        "unreadable": unreadable,
        "unmatched_patterns": unmatched,
        "predictable": sum(1 for _i, m, _f in entries if m.predictable),
        "mapped_users": len(groups),
        "collisions": len(collisions),
    }
    return res


def _domainless(own, mapped, multi, in_play, in_play_text, default, org_domain, org_source, domains_of_user):
    """Findings for an AD name without a domain (SSL-007/008/009/011).  ``in_play``: the sorted
    domains in play (shared by every finding, never changed), ``in_play_text`` them joined."""
    known = domains_of_user.get(mapped.key[0])
    elsewhere = sorted(d for d in known if d != default) if known else []
    data = {
        "user": mapped.user,
        "default_domain": default,
        "domains_in_play": in_play,
        "same_user_in_domains": elsewhere,
    }
    field, value = mapped.field.upper(), mapped.value
    if default is None:
        own.append(_NO_DOMAIN["SSL-009"].finding(data=data, field=field, value=value))
    elif multi:
        extra = ""
        if elsewhere:
            extra = "; {} also exists in {}".format(mapped.user, ", ".join(elsewhere))
        own.append(_NO_DOMAIN["SSL-007"].finding(data=data, field=field, value=value, count=len(in_play),
                                                 domains=in_play_text, mapped_name=mapped.mapped_name, elsewhere=extra))
    else:
        own.append(_NO_DOMAIN["SSL-008"].finding(data=data, field=field, value=value, mapped_name=mapped.mapped_name))
    if default is not None and org_domain and org_domain != default:
        # claimed_domain and evidence join data as template fields
        own.append(_NO_DOMAIN["SSL-011"].finding("warning" if org_source == "email" else None, data=data,
                                                 field=field, value=value, mapped_name=mapped.mapped_name,
                                                 user=mapped.user, claimed_domain=org_domain, evidence=org_source))


def _other_field_name(ident, mapping, mapped, identity_store, default):
    """The user the other name field (CN under upn mapping, UPN under cn) names, when it differs."""
    other_values = ident.common_names if mapping == "upn" else ident.upns
    if len(other_values) != 1:
        return None
    value = other_values[0]
    if value == mapped.value or not value:
        return None
    if identity_store == "local":
        if _local_name_problem(value) or user_key(value) == mapped.key[0]:
            return None
        return value
    try:
        user, domain, _fmt = split_name(value)
    except ValueError:
        return None
    domain = domain or normalize_domain(default)
    if (user_key(user), domain) == mapped.key:
        return None
    return f"{user}@{domain}" if domain else user


def _result(ident, mapped, codes, other_name):
    return {
        "source": ident.source,
        "sources": ident.sources,
        "subject": ident.subject,
        "issuer": ident.issuer,
        "serial_number": ident.serial_number,
        "sha256": ident.sha256,
        "not_before": ident.not_before.isoformat(),
        "not_after": ident.not_after.isoformat(),
        "common_names": ident.common_names,  # the identity is not used after this: no copies
        "upns": ident.upns,
        "emails": ident.emails,
        "dns_names": ident.dns_names,
        "dc_domain": ident.dc_domain,
        "mapping_field": mapped.field,
        "mapping_value": mapped.value,
        "user": mapped.user,
        "domain": mapped.domain,
        "domain_source": mapped.domain_source,
        "name_format": mapped.name_format,
        "mapped_name": mapped.mapped_name,
        "predictable": mapped.predictable,
        "other_mapping_name": other_name,
        "codes": codes,
    }


# --------------------------------------------------------------------------- one certificate


def user_name(data: str | bytes, mapping: str | None = None, identity_store: str = "local",
              default_domain: str | None = None, source: str = "<input>") -> str:
    """The Tableau user name one certificate maps to, or TrustopsError saying why it cannot be told.

    With a local identity store: the field value as it is.  With AD: ``user@domain`` (the
    domain from the name, else the default domain), or the bare user when no default domain
    is known.  ``ldap`` mapping raises: Active Directory decides, not the certificate.
    """
    _check_store(identity_store)
    mapping = mapping or default_mapping(identity_store)
    _check_mapping(mapping)
    if mapping == "ldap":
        raise TrustopsError(
            f"{source}: user-name mapping ldap: Active Directory maps the certificate; the user name "
            "cannot be read from it"
        )
    cert = _certs.load_certificate(data, source)
    ident = extract(cert, source)
    mapped = map_identity(ident, mapping, identity_store, default_domain)
    if mapped.mapped_name is None:
        reasons = [f.message for f in mapped.findings]
        if mapping == "upn" and ident.upn_problems and not reasons:
            reasons = ident.upn_problems
        raise TrustopsError("{}: no user name: {}".format(source, "; ".join(reasons) or "mapping field unreadable"))
    return mapped.mapped_name
