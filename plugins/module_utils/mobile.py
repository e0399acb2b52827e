# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mobile trust artifacts: iOS/iPadOS/macOS configuration profiles and Android CA files.

Pure Python (``plistlib``, ``json``, ``cryptography``), no Ansible imports.  Everything is
deterministic: the same certificates and texts give byte-identical unsigned artifacts, because
identifiers and UUIDs are derived from the profile identifier, what they identify and each
certificate's SHA-256 (:func:`derived_uuid`) and every serialisation sorts its keys.

Signing makes a CMS SignedData (DER, content attached, signer certificate and chain included)
with cryptography's PKCS#7 builder.  A signature carries a signing time, so a new signature is
never byte-identical to the old one: :func:`read_signed` parses an existing signed profile,
verifies its signature by hand, and :func:`signed_profile_current` says whether its content and
signer are still the wanted ones, so a converged run keeps the file untouched.

Broken input raises :class:`MobileError` (a TrustopsError); policy is reported as Findings.
Whether a CA may become a trust anchor is decided by the shared policy,
:func:`anchor_policy.check_anchor` (codes ``ANCHOR-NNN``, docs/anchor_policy.md), called with
mobile's one documented difference (``self_signed_digest_policy="error"``); the mobile-specific
checks keep codes ``MOBILE-006`` and up (docs/mobile.md).  Meaningless policy options raise
:class:`anchor_policy.AnchorPolicyError`.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import plistlib
import re
import stat
import tempfile
import uuid

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy, certs, reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


class MobileError(TrustopsError):
    """Broken input for the mobile artifacts (not policy)."""


class WriteError(MobileError):
    """Writing the files failed; the message says whether the previous files were restored."""


#: Namespace of every UUID this module derives (itself uuid5(NAMESPACE_DNS, ...), so anyone can
#: recompute it): see :func:`derived_uuid`.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "mobile.trustops.tableau")
#: What a derived UUID identifies; part of the derived name, so no two roles share a UUID.
UUID_ROLES = ("profile", "payload", "onc")

#: The cap for reading back an existing artifact (reader.MAX_BUNDLE: a file of CA certificates; a
#: profile of thousands of CAs stays under it).  A bigger file at an artifact's path is no artifact of
#: ours: it is refused, not replaced, so that nothing is lost (docs/inputs.md).
MAX_EXISTING = reader.MAX_BUNDLE
PROFILE_SUFFIX = ".mobileconfig"
ONC_SUFFIX = ".onc"
NSC_FILE = "network_security_config.xml"
PLATFORMS = ("ios", "android")
DEFAULT_DISPLAY_NAME = "Tableau Server certificate authorities"
DEFAULT_DESCRIPTION = ("Installs the certificate authorities that issued the Tableau Server certificates, "
                       "so that Tableau Mobile and Safari trust the server.")

_IDENTIFIER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_BASENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LANGUAGE = re.compile(r"^(?:default|[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                     r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# XML 1.0 allows TAB, LF, CR and everything from U+0020 except surrogates and U+FFFE/U+FFFF.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- inputs

def check_identifier(identifier):
    """A reverse-DNS profile identifier (at least two labels, letters/digits/hyphens)."""
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier or ""):
        raise MobileError("identifier %r is not a reverse-DNS name such as com.example.tableau.ca-trust "
                          "(labels of letters, digits and hyphens, separated by dots)" % (identifier,))
    return identifier


def check_basename(name):
    """A file base name for the profile and ONC files: no directory, no leading dot."""
    if not isinstance(name, str) or not _BASENAME.match(name) or ".." in name:
        raise MobileError("name %r must be a plain file name (letters, digits, '.', '_', '-'; no "
                          "directory, no leading dot)" % (name,))
    return name


def check_text(value, what):
    """A text shown to users: must survive XML (no control characters).  CR and CRLF become LF,
    as every XML parser (plistlib included) would read them back."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MobileError("%s must be text, not %s" % (what, type(value).__name__))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _XML_BAD.search(value)
    if bad:
        raise MobileError("%s holds the control character U+%04X, which a property list cannot carry"
                          % (what, ord(bad.group(0))))
    return value


def consent_dict(value):
    """ConsentText is a dictionary (BCP 47 language or ``default`` -> text); a string is the default."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        value = {"default": value}
    if not isinstance(value, dict):
        raise MobileError("consent_text must be a text or a dictionary of language -> text, not %s"
                          % type(value).__name__)
    out = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            raise MobileError("consent_text: %r is not a BCP 47 language tag (en, de, pt-BR) or 'default'" % (lang,))
        if not isinstance(text, str) or not text.strip():
            raise MobileError("consent_text[%s] must be a non-empty text" % lang)
        out[lang] = check_text(text, "consent_text[%s]" % lang)
    return out


def check_domains(domains):
    out = []
    for domain in domains or []:
        if not isinstance(domain, str) or not _DOMAIN.match(domain.rstrip(".")):
            raise MobileError("android_domains: %r is not a host or domain name" % (domain,))
        out.append(domain.rstrip(".").lower())
    return out


class CA(object):
    """One certificate authority to install: the certificate and what is derived from it."""

    __slots__ = ("cert", "source", "der", "sha256", "role")

    def __init__(self, cert, source, role):
        self.cert = cert
        self.source = source
        self.der = certs.to_der(cert)
        self.sha256 = hashlib.sha256(self.der).hexdigest()
        self.role = role  # root | intermediate


def _subject(cert):
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return "<unreadable subject>"


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")[:40].strip("-")


def cert_basename(cert, sha256hex):
    """``<slug of CN>-<first 16 hex of SHA-256>``: readable, unique, stable."""
    names = certs.common_names(cert)
    return "%s-%s" % (_slug(names[0] if names else "") or "ca", sha256hex[:16])


def raw_resource_name(basename):
    """An Android resource name (lower-case letters, digits, underscores; starts with a letter)."""
    name = re.sub(r"[^a-z0-9_]", "_", basename.lower())
    return name if name[:1].isalpha() else "ca_" + name


def _named(exc, option, source):
    """A loader's error (``<source>: what is wrong``) naming the option first, as the shared reader
    does (``<option> <path>: ...``); unchanged when the source already is the option."""
    if _names_option(option, source):
        return exc
    return MobileError("%s %s" % (option, exc))


def _names_option(option, source):
    """True when ``source`` already names ``option`` (``option`` itself, or ``"<option> <path>"``
    as the shared reader labels a file)."""
    return not option or option == source or str(source).startswith(option + " ")


def _load_certificates(data, source, option=None):
    try:
        return certs.load_certificates(data, source)
    except certs.CertificateError as exc:
        raise _named(exc, option, source)


def load_cas(blobs):
    """Certificates from (data, source) or (data, source, option) tuples, in order, duplicates dropped.

    ``option`` (the module option the data came from) is named in the error for broken input.
    Returns (cas, duplicates) where duplicates lists (source, sha256) of dropped repeats.
    """
    cas, seen, duplicates = [], set(), []
    if not blobs:
        raise MobileError("no CA certificate given: set src or content")
    for blob in blobs:
        data, source = blob[0], blob[1]
        for cert in _load_certificates(data, source, blob[2] if len(blob) > 2 else None):
            der = certs.to_der(cert)
            digest = hashlib.sha256(der).hexdigest()
            if digest in seen:
                duplicates.append((source, digest))
                continue
            seen.add(digest)
            role = "root" if certs.is_self_signed(cert) else "intermediate"
            cas.append(CA(cert, source, role))
    return cas, duplicates


# --------------------------------------------------------------------------- policy

def _finding(code, severity, message, remedy, cert=None, **data):
    if cert is not None:
        data.setdefault("subject", _subject(cert))
        data.setdefault("sha256", certs.fingerprint(cert, "sha256"))
    return Finding(code, severity, message, remedy, data)


#: mobile_trust_profile's documented default (the same as the shared policy's: SHA-1).
DEFAULT_BLOCKLISTED_DIGESTS = ("sha1",)

#: Mobile refuses a self-signed root signed with a blocklisted digest (ANCHOR-009 as an error):
#: Apple's iOS 13 / macOS 10.15 rules require SHA-2 for issuing CAs and exempt no root.
SELF_SIGNED_DIGEST_POLICY = "error"

#: ANCHOR-004 (an intermediate becomes an anchor) is not reported: MOBILE-008 says what happens
#: to an intermediate here (left out, or installed as a chain certificate).
SKIPPED_ANCHOR_CODES = frozenset(("ANCHOR-004",))

#: What the shared findings mean on devices, appended to their messages.
_DEVICE_NOTES = {
    "ANCHOR-001": "iOS does not offer it under Certificate Trust Settings and Android installs it without "
                  "using it as an anchor",
    "ANCHOR-005": "iOS 13+ and macOS 10.15+ refuse RSA keys shorter than 2048 bits in a TLS chain",
    "ANCHOR-009": "Apple requires SHA-2 for issuing CAs since iOS 13 / macOS 10.15, roots included",
}

#: Remedies replaced where the shared one names options this module does not have (allow_leaf,
#: allow_expired): mobile files are never staged, and a leaf is never a device anchor.
_REMEDIES = {
    "ANCHOR-001": "Give the root CA that issued the Tableau Server certificate, not the server certificate; "
                  "a self-signed server certificate should be replaced by one from an internal CA "
                  "(fail_on=never writes it anyway)",
    "ANCHOR-002": "Renew the CA (and reissue what it signed) before distributing it to devices",
    "ANCHOR-003": "Check the CA's validity dates and the clock of the machine that issued it",
}


def _device_finding(shared, ca):
    """A shared ANCHOR-NNN finding as mobile reports it: same code, severity and decision; the
    source file, the device consequence and the SHA-256 added."""
    message = "%s: %s" % (ca.source, shared.message)
    if shared.code in _DEVICE_NOTES:
        message = "%s; %s" % (message, _DEVICE_NOTES[shared.code])
    data = dict(shared.data)
    data.setdefault("sha256", certs.fingerprint(ca.cert, "sha256"))
    data.setdefault("source", ca.source)
    return Finding(shared.code, shared.severity, message, _REMEDIES.get(shared.code, shared.remedy), data)


#: The shared policy's findings on the signer certificate that mobile reports, as its own codes:
#: the key rule (ANCHOR-005/006 -> MOBILE-015) and the digest rule (ANCHOR-008/009 -> MOBILE-014).
_SIGNER_CODES = {"ANCHOR-005": "MOBILE-015", "ANCHOR-006": "MOBILE-015",
                 "ANCHOR-008": "MOBILE-014", "ANCHOR-009": "MOBILE-014"}


def _signer_policy_findings(cert, label, now, **policy):
    """The signer's key size and signature digest, judged by the shared trust-anchor policy (one
    rule for every caller) and reported as MOBILE-015 / MOBILE-014 with the signer's remedies.
    A self-signed signer with a blocklisted digest is refused too (iOS does not exempt it)."""
    found = []
    shared = anchor_policy.check_anchor(cert, allow_leaf=True, allow_expired=True, now=now,
                                        self_signed_digest_policy="error", **policy)
    for item in shared:
        code = _SIGNER_CODES.get(item.code)
        if code is None:
            continue
        data = dict(item.data)
        if code == "MOBILE-014":
            message = "%s is signed with %s, which is blocklisted (blocklisted_digests)" % (
                label, item.data["digest"].upper())
            remedy = "Use a signing certificate with a SHA-256 signature"
        else:
            message = "%s has %s" % (label, _key_message(item))
            remedy = ("Sign with a certificate whose key is RSA of at least %d bits or EC P-256/P-384"
                      % max(item.data.get("min_rsa_key_size") or 0, 2048))
        found.append(_finding(code, "error", message, remedy, cert, **data))
    return found


def _key_message(shared):
    """The shared key finding's facts, worded for a signer (iOS's own limit added for RSA/DSA)."""
    data = shared.data
    if data["key_type"] == "EC":
        return "a %d-bit EC key (%s); the minimum is %d (min_ec_key_size)" % (
            data["key_size"], data["curve"], data["min_ec_key_size"])
    ios = ("; iOS 13+ and macOS 10.15+ refuse RSA keys shorter than 2048 bits in a TLS chain"
           if data["key_size"] < 2048 else "")
    return "a %d-bit %s key; the minimum is %d (min_rsa_key_size)%s" % (
        data["key_size"], data["key_type"], data["min_rsa_key_size"], ios)


def ca_findings(cas, duplicates=(), include_intermediates=False, blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS,
                min_rsa_key_size=2048, expiry_warning_days=30, now=None, min_ec_key_size=256):
    """Policy findings on the CA certificates (all of them, in input order)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    policy = dict(blocklisted_digests=blocklisted_digests, min_rsa_key_size=min_rsa_key_size,
                  min_ec_key_size=min_ec_key_size, self_signed_digest_policy=SELF_SIGNED_DIGEST_POLICY, now=now)
    anchor_policy.blocklist(blocklisted_digests)  # options are checked even when no CA is given
    anchor_policy.size_option("min_rsa_key_size", min_rsa_key_size)
    anchor_policy.size_option("min_ec_key_size", min_ec_key_size)
    if not isinstance(expiry_warning_days, int) or isinstance(expiry_warning_days, bool) or expiry_warning_days < 0:
        raise MobileError("expiry_warning_days must be a number of days, 0 or more, not %r" % (expiry_warning_days,))
    warn_days = expiry_warning_days
    found = []
    for ca in cas:
        cert, label = ca.cert, "%s (%s)" % (_subject(ca.cert), ca.source)
        shared = [f for f in anchor_policy.check_anchor(cert, **policy) if f.code not in SKIPPED_ANCHOR_CODES]
        found.extend(_device_finding(f, ca) for f in shared)
        valid_now = not (certs.is_expired(cert, now) or certs.is_not_yet_valid(cert, now))
        if valid_now and certs.days_left(cert, now) < warn_days:
            found.append(_finding(
                "MOBILE-006", "warning", "%s expires in %d days (%s)" % (
                    label, certs.days_left(cert, now), certs.not_after(cert).isoformat()),
                "Plan the CA rotation: profiles and Android files must be redistributed with the new CA", cert,
                days_left=certs.days_left(cert, now)))
        if not certs.common_names(cert):
            found.append(_finding(
                "MOBILE-007", "warning", "%s has no common name (CN); iOS reportedly lists a root under "
                "Certificate Trust Settings only when it has one" % label,
                "Reissue the CA with a CN, or check on a device that it appears under Certificate Trust Settings",
                cert))
        if ca.role == "intermediate" and certs.is_ca(cert):
            if include_intermediates:
                found.append(_finding(
                    "MOBILE-008", "info", "%s is an intermediate CA: the profile carries it as "
                    "com.apple.security.pkcs1 (a chain certificate); on Android a user-installed CA is an "
                    "anchor whatever its place in the chain" % label,
                    "Tableau Server should still send its intermediates (Android does not fetch them)", cert))
            else:
                found.append(_finding(
                    "MOBILE-008", "warning", "%s is an intermediate CA (not self-signed) and is left out; "
                    "only root CAs are installed unless include_intermediates is set" % label,
                    "Give the root CA at the top of the chain, or set include_intermediates to install the "
                    "intermediate too", cert))
    for source, digest in duplicates:
        colon = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()
        found.append(Finding("MOBILE-009", "info", "%s: certificate SHA-256 %s was given more than once; it is "
                             "installed once" % (source, colon), "", {"sha256": colon}))
    return found


def selected(cas, include_intermediates):
    """The CAs that go into the artifacts: roots, and intermediates when asked."""
    return [ca for ca in cas if ca.role == "root" or include_intermediates]


# --------------------------------------------------------------------------- identifiers

def derived_uuid(identifier, role, sha256s):
    """The one UUID derivation: uuid5(NAMESPACE, "<identifier>/<role>/<sha256 hex>[,<sha256 hex>...]"),
    upper case as Apple's tools write UUIDs.

    ``role`` names what the UUID identifies (``profile``, ``payload``, ``onc``), so the profile,
    its payloads and the ONC certificates never share a value, even for a single CA (Apple:
    every PayloadUUID is globally unique), while each stays the same on every run.
    """
    if role not in UUID_ROLES:
        raise ValueError("unknown UUID role %r" % (role,))
    return str(uuid.uuid5(NAMESPACE, "%s/%s/%s" % (identifier, role, ",".join(s.lower() for s in sha256s)))).upper()


def payload_uuid(identifier, sha256hex):
    """The PayloadUUID of the certificate payload for one CA."""
    return derived_uuid(identifier, "payload", [sha256hex])


def profile_uuid(identifier, sha256s):
    """The top-level PayloadUUID: over the identifier and every certificate's SHA-256, in order."""
    return derived_uuid(identifier, "profile", sha256s)


def payload_identifier(identifier, sha256hex):
    return "%s.ca.%s" % (identifier, sha256hex[:16].lower())


def onc_guid(identifier, sha256hex):
    """The ONC ``GUID`` of one CA's certificate: its own derived UUID, braced, lower case."""
    return "{%s}" % derived_uuid(identifier, "onc", [sha256hex]).lower()


# --------------------------------------------------------------------------- Apple profile

class ProfileSpec(object):
    """The texts and flags of a configuration profile."""

    __slots__ = ("identifier", "display_name", "organization", "description", "consent_text",
                 "removal_disallowed")

    def __init__(self, identifier, display_name=DEFAULT_DISPLAY_NAME, organization=None,
                 description=DEFAULT_DESCRIPTION, consent_text=None, removal_disallowed=False):
        self.identifier = check_identifier(identifier)
        self.display_name = check_text(display_name or DEFAULT_DISPLAY_NAME, "display_name")
        self.organization = check_text(organization or None, "organization")
        self.description = check_text(description or DEFAULT_DESCRIPTION, "description")
        self.consent_text = consent_dict(consent_text)
        self.removal_disallowed = bool(removal_disallowed)


def payload_type(ca):
    return "com.apple.security.root" if ca.role == "root" else "com.apple.security.pkcs1"


def profile_dict(spec, cas):
    """The profile as a dictionary (see Apple's TopLevel.yaml and com.apple.security.root.yaml)."""
    if not cas:
        raise MobileError("no CA certificate left to put in the profile (intermediates are left out unless "
                          "include_intermediates is set)")
    payloads = []
    for ca in cas:
        names = certs.common_names(ca.cert)
        item = {
            "PayloadType": payload_type(ca),
            "PayloadVersion": 1,
            "PayloadIdentifier": payload_identifier(spec.identifier, ca.sha256),
            "PayloadUUID": payload_uuid(spec.identifier, ca.sha256),
            "PayloadDisplayName": check_text(names[0] if names else _subject(ca.cert), "certificate name"),
            "PayloadDescription": ("Adds the root CA %s" if ca.role == "root" else
                                   "Adds the intermediate CA %s") % check_text(_subject(ca.cert), "subject"),
            "PayloadContent": ca.der,
            "PayloadCertificateFileName": cert_basename(ca.cert, ca.sha256) + ".cer",
        }
        if spec.organization:
            item["PayloadOrganization"] = spec.organization
        payloads.append(item)
    top = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": spec.identifier,
        "PayloadUUID": profile_uuid(spec.identifier, [ca.sha256 for ca in cas]),
        "PayloadDisplayName": spec.display_name,
        "PayloadDescription": spec.description,
        "PayloadRemovalDisallowed": spec.removal_disallowed,
        "PayloadContent": payloads,
    }
    if spec.organization:
        top["PayloadOrganization"] = spec.organization
    if spec.consent_text:
        top["ConsentText"] = dict(spec.consent_text)
    return top


def build_profile(spec, cas):
    """The unsigned profile: an XML property list, keys sorted, byte-stable."""
    return plistlib.dumps(profile_dict(spec, cas), fmt=plistlib.FMT_XML, sort_keys=True)


# --------------------------------------------------------------------------- Android

def build_onc(identifier, cas):
    """Open Network Configuration with one ``Authority`` certificate per CA.

    Roots get ``TrustBits: ["Web"]`` (trusted for TLS); intermediates are chain certificates
    without trust bits.  ``X509`` is the base64 DER; ``GUID`` is deterministic.
    """
    entries = []
    for ca in cas:
        entry = {"GUID": onc_guid(identifier, ca.sha256), "Type": "Authority",
                 "X509": base64.b64encode(ca.der).decode("ascii")}
        if ca.role == "root":
            entry["TrustBits"] = ["Web"]
        entries.append(entry)
    doc = {"Type": "UnencryptedConfiguration", "NetworkConfigurations": [], "Certificates": entries}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _xml_comment(text):
    return text.replace("--", "- -")


def build_network_security_config(identifier, cas, domains=()):
    """A res/xml/network_security_config.xml for in-house Android apps (API 24+)."""
    domains = check_domains(domains)
    raws = [raw_resource_name(cert_basename(ca.cert, ca.sha256)) for ca in cas]
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<!-- %s -->" % _xml_comment(
            "Generated by trustops.tableau.mobile_trust_profile for %s. For in-house Android apps "
            "(Android 7 / API 24 and later trust only the system CAs unless told otherwise). Save as "
            "res/xml/network_security_config.xml and set android:networkSecurityConfig=\"@xml/"
            "network_security_config\" on <application> in AndroidManifest.xml. Tableau Mobile is "
            "Tableau's app: this file does not configure it." % identifier),
        "<network-security-config>",
    ]
    if domains:
        lines.append("  <domain-config>")
        lines.extend('    <domain includeSubdomains="false">%s</domain>' % d for d in domains)
        indent = "    "
    else:
        lines.append("  <base-config>")
        indent = "    "
    lines.append(indent + "<trust-anchors>")
    lines.append(indent + '  <certificates src="system"/>')
    lines.append(indent + "  <!-- %s -->" % _xml_comment(
        "CAs the user (Settings > Security > Install a certificate) or the MDM installed"))
    lines.append(indent + '  <certificates src="user"/>')
    lines.append(indent + "  <!-- %s -->" % _xml_comment(
        "Or bundle the CA with the app instead of trusting every user-installed CA: copy "
        + ", ".join("%s.crt to res/raw/%s.crt" % (cert_basename(ca.cert, ca.sha256), raw)
                    for ca, raw in zip(cas, raws))
        + ", remove the line above and use: "
        + " ".join('<certificates src="@raw/%s"/>' % raw for raw in raws)))
    lines.append(indent + "</trust-anchors>")
    lines.append("  </domain-config>" if domains else "  </base-config>")
    lines.append("</network-security-config>")
    return ("\n".join(lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- signing

class Signer(object):
    """The identity that signs profiles: certificate, private key, chain (no root needed)."""

    __slots__ = ("cert", "key", "chain", "sha256")

    def __init__(self, cert, key, chain=()):
        self.cert = cert
        self.key = key
        self.chain = [c for c in chain if certs.to_der(c) != certs.to_der(cert)]
        self.sha256 = hashlib.sha256(certs.to_der(cert)).hexdigest()

    def chain_ders(self):
        return [certs.to_der(c) for c in self.chain]


def _label(option, source):
    return source if _names_option(option, source) else "%s %s" % (option, source)


def load_signer(cert_data, key_data, passphrase=None, chain_blobs=(), cert_source="signer_cert",
                key_source="signer_key", cert_option=None, key_option=None):
    """Load and check the signing identity.  Wrong passphrase, a key that does not match the
    certificate, or a key type the PKCS#7 builder cannot use raise MobileError (or CertificateError).

    ``chain_blobs`` are (data, source) or (data, source, option) tuples; ``cert_option`` and
    ``key_option`` name the module options in errors.  The passphrase is never part of a message.
    """
    try:
        cert = certs.load_certificate(cert_data, cert_source)
    except certs.CertificateError as exc:
        raise _named(exc, cert_option, cert_source)
    try:
        info = certs.inspect_private_key(key_data, passphrase, key_source)
    except certs.CertificateError as exc:
        raise _named(exc, key_option, key_source)
    key_label = _label(key_option, key_source)
    if info.key is None:
        raise MobileError("%s: the private key is encrypted; give signer_key_passphrase" % key_label)
    if not isinstance(info.key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise MobileError("%s: a %s key cannot sign profiles here (RSA and EC keys can)" % (key_label, info.key_type))
    if not certs.key_matches_cert(info.key, cert):
        raise MobileError("%s does not belong to %s (%s): the public keys differ" % (
            key_label, _label(cert_option, cert_source), _subject(cert)))
    chain = []
    for blob in chain_blobs:
        chain.extend(_load_certificates(blob[0], blob[1], blob[2] if len(blob) > 2 else None))
    return Signer(cert, info.key, chain)


def signer_findings(signer, cas, blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS, min_rsa_key_size=2048, now=None,
                    min_ec_key_size=256):
    """Policy on the signing identity: validity, digest, key, usage, and how iOS will judge it."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert, label = signer.cert, "signer %s" % _subject(signer.cert)
    found = []
    if certs.is_expired(cert, now) or certs.is_not_yet_valid(cert, now):
        found.append(_finding(
            "MOBILE-010", "error", "%s is not valid now (%s to %s): iOS shows the profile as Not Verified" % (
                label, certs.not_before(cert).isoformat(), certs.not_after(cert).isoformat()),
            "Sign with a currently valid certificate", cert))
    found.extend(_signer_policy_findings(cert, label, now, blocklisted_digests=blocklisted_digests,
                                         min_rsa_key_size=min_rsa_key_size, min_ec_key_size=min_ec_key_size))
    usage = _ext(cert, ExtensionOID.KEY_USAGE)
    if usage is not None and not usage.digital_signature:
        found.append(_finding("MOBILE-016", "error", "%s has a keyUsage without digitalSignature; CMS "
                              "verifiers (openssl, iOS) reject signatures made with it" % label,
                              "Use a certificate whose keyUsage includes digitalSignature", cert))
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is not None:
        allowed = {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING,
                   ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
        if not allowed.intersection(eku):
            found.append(_finding("MOBILE-017", "warning", "%s has an extendedKeyUsage without emailProtection "
                                  "or codeSigning; openssl cms -verify refuses it by default and devices may too"
                                  % label, "Sign with a certificate for emailProtection or codeSigning", cert))
    # Where does the signer's chain end?  iOS shows "Verified" only when it reaches a trusted root.
    chain, _anchor = certs.build_chain(cert, signer.chain)
    used = set(certs.to_der(c) for c in chain)
    for extra in signer.chain:
        if certs.to_der(extra) not in used:
            found.append(_finding("MOBILE-011", "warning", "signer chain certificate %s is not on the signer's "
                                  "path; it is included in the signature but helps nothing" % _subject(extra),
                                  "Give only the intermediates between the signer and its root", extra))
    top = chain[-1]
    installed = dict((ca.sha256, ca) for ca in cas)
    issuer = None
    if certs.is_self_signed(top):
        issuer = top
    else:
        for ca in cas:
            if certs.issued_by(top, ca.cert):
                issuer = ca.cert
                break
    if issuer is not None and hashlib.sha256(certs.to_der(issuer)).hexdigest() in installed:
        found.append(_finding(
            "MOBILE-012", "warning", "%s chains to %s, a CA this very profile installs: a manually installed "
            "profile shows Not Verified until that CA is trusted (MDM-installed profiles are not affected)"
            % (label, _subject(issuer)),
            "Sign with an identity from a CA devices already trust (a public CA or your MDM's), or accept "
            "Not Verified for manual installs", cert))
    elif issuer is None:
        found.append(_finding(
            "MOBILE-013", "info", "%s: the included chain ends at %s; devices show Verified only when they "
            "trust its issuer %s" % (label, _subject(top), top.issuer.rfc4514_string()),
            "Include every intermediate in signer_chain", cert))
    return found


def _ext(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    except Exception as exc:
        raise MobileError("certificate %s: unreadable extensions (%s)" % (_subject(cert), exc))


def sign_profile(plist, signer):
    """CMS SignedData, DER, content attached, SHA-256, signer certificate and chain included."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(plist).add_signer(signer.cert, signer.key, hashes.SHA256())
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


# --------------------------------------------------------------------------- reading CMS

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


class _Bad(Exception):
    """The bytes are not a CMS SignedData this reader understands."""


def _tlv(data, pos, end=None):
    """(tag, start of content, end of content, end of element) of the DER element at pos."""
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise _Bad("truncated")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first == 0x80:
        raise _Bad("indefinite length (BER)")
    if first & 0x80:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > end:
            raise _Bad("bad length")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    else:
        length = first
    if pos + length > end:
        raise _Bad("element overruns its container")
    return tag, pos, pos + length


def _children(data, start, end):
    out, pos = [], start
    while pos < end:
        tag, c_start, c_end = _tlv(data, pos, end)
        out.append((tag, pos, c_start, c_end))
        pos = c_end
    return out


def _oid(body):
    if not body:
        raise _Bad("empty OID")
    first = body[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _octets(data, tag, start, end):
    """An OCTET STRING, primitive (DER) or constructed of primitive pieces (BER, definite lengths)."""
    if tag == 0x04:
        return data[start:end]
    if tag == 0x24:
        return b"".join(_octets(data, t, s, e) for t, _p, s, e in _children(data, start, end))
    raise _Bad("expected an OCTET STRING")


class SignedProfile(object):
    """What an existing signed profile holds, and whether its signature verifies."""

    __slots__ = ("content", "certificates", "signer", "digest", "valid", "problem")

    def __init__(self):
        self.content = None
        self.certificates = []
        self.signer = None
        self.digest = None
        self.valid = False
        self.problem = None


def looks_signed(data):
    """DER SignedData starts with a SEQUENCE; an XML or binary plist does not."""
    return data[:1] == b"\x30"


def read_signed(data):
    """Parse a CMS SignedData profile and verify its (single) signature.

    Returns a SignedProfile; ``valid`` is True only when the content digest and the signature
    verify with the signer certificate carried in the file.  ``problem`` says why not.  Data
    that is not CMS SignedData at all gives ``content`` None.
    """
    out = SignedProfile()
    try:
        tag, start, end = _tlv(data, 0)
        if tag != 0x30 or end != len(data):
            raise _Bad("not a single DER SEQUENCE")
        items = _children(data, start, end)
        if len(items) < 2 or items[0][0] != 0x06 or _oid(data[items[0][2]:items[0][3]]) != _OID_SIGNED_DATA:
            raise _Bad("not a CMS SignedData")
        if items[1][0] != 0xA0:
            raise _Bad("SignedData content missing")
        sd = _children(data, items[1][2], items[1][3])
        if not sd or sd[0][0] != 0x30:
            raise _Bad("SignedData is not a SEQUENCE")
        fields = _children(data, sd[0][2], sd[0][3])
        if len(fields) < 4:
            raise _Bad("SignedData too short")
        encap = _children(data, fields[2][2], fields[2][3])
        if not encap or _oid(data[encap[0][2]:encap[0][3]]) != _OID_DATA:
            raise _Bad("encapsulated content is not id-data")
        if len(encap) < 2 or encap[1][0] != 0xA0:
            raise _Bad("detached signature: no encapsulated content")
        inner = _children(data, encap[1][2], encap[1][3])
        if len(inner) != 1:
            raise _Bad("encapsulated content is not one OCTET STRING")
        out.content = _octets(data, inner[0][0], inner[0][2], inner[0][3])
        rest = fields[3:]
        if rest and rest[0][0] == 0xA0:
            for choice, pos, _s, c_end in _children(data, rest[0][2], rest[0][3]):
                if choice == 0x30:
                    out.certificates.append(x509.load_der_x509_certificate(data[pos:c_end]))
            rest = rest[1:]
        if rest and rest[0][0] == 0xA1:  # CRLs
            rest = rest[1:]
        if not rest or rest[0][0] != 0x31:
            raise _Bad("no signerInfos")
        signer_infos = _children(data, rest[0][2], rest[0][3])
        if len(signer_infos) != 1:
            raise _Bad("%d signers (expected 1)" % len(signer_infos))
        _verify_signer_info(data, signer_infos[0], out)
    except _Bad as exc:
        out.problem = str(exc)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        out.problem = "unreadable: %s" % exc
    return out


def _verify_signer_info(data, info, out):
    parts = _children(data, info[2], info[3])
    if len(parts) < 5:
        raise _Bad("SignerInfo too short")
    sid_tag, sid_pos, sid_start, sid_end = parts[1]
    if sid_tag == 0x30:  # IssuerAndSerialNumber
        name, serial = _children(data, sid_start, sid_end)[:2]
        issuer_der = data[name[1]:name[3]]
        serial_no = int.from_bytes(data[serial[2]:serial[3]], "big", signed=True)
        candidates = [c for c in out.certificates if c.serial_number == serial_no]
        exact = [c for c in candidates if c.issuer.public_bytes() == issuer_der]
        out.signer = (exact or candidates or [None])[0]
    elif sid_tag == 0x80:  # [0] SubjectKeyIdentifier
        ski = data[sid_start:sid_end]
        for cert in out.certificates:
            ext = _ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
            if ext is not None and ext.digest == ski:
                out.signer = cert
    if out.signer is None:
        raise _Bad("the signer's certificate is not in the file")
    alg = _children(data, parts[2][2], parts[2][3])
    out.digest = _DIGESTS.get(_oid(data[alg[0][2]:alg[0][3]]))
    if out.digest is None:
        raise _Bad("unknown digest algorithm")
    algo = getattr(hashes, out.digest.upper())()
    idx = 3
    signed_bytes = out.content
    if parts[idx][0] == 0xA0:  # signedAttrs, [0] IMPLICIT SET OF Attribute: signed as a SET (0x31)
        attrs_raw = data[parts[idx][1]:parts[idx][3]]
        signed_bytes = b"\x31" + attrs_raw[1:]
        digest_value = content_type = None
        for _t, _p, a_start, a_end in _children(data, parts[idx][2], parts[idx][3]):
            attr = _children(data, a_start, a_end)
            oid = _oid(data[attr[0][2]:attr[0][3]])
            values = _children(data, attr[1][2], attr[1][3])
            if oid == _OID_MESSAGE_DIGEST and values and values[0][0] == 0x04:
                digest_value = data[values[0][2]:values[0][3]]
            elif oid == _OID_CONTENT_TYPE and values and values[0][0] == 0x06:
                content_type = _oid(data[values[0][2]:values[0][3]])
        hasher = hashes.Hash(algo)
        hasher.update(out.content)
        if digest_value != hasher.finalize():
            raise _Bad("the content does not match the signed message digest (modified after signing)")
        if content_type != _OID_DATA:
            raise _Bad("signed content type is not id-data")
        idx += 1
    sig_alg = _children(data, parts[idx][2], parts[idx][3])
    sig_oid = _oid(data[sig_alg[0][2]:sig_alg[0][3]])
    if parts[idx + 1][0] != 0x04:
        raise _Bad("signature is not an OCTET STRING")
    signature = data[parts[idx + 1][2]:parts[idx + 1][3]]
    key = out.signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and sig_oid in _RSA_SIG:
            key.verify(signature, signed_bytes, padding.PKCS1v15(), algo)
        elif isinstance(key, ec.EllipticCurvePublicKey) and sig_oid in _EC_SIG:
            key.verify(signature, signed_bytes, ec.ECDSA(algo))
        else:
            raise _Bad("unsupported signature algorithm %s" % sig_oid)
    except InvalidSignature:
        raise _Bad("the signature does not verify with the signer's certificate")
    out.valid = True


def signed_profile_current(existing, plist, signer):
    """(True, None) when the existing signed profile already is what signing plist would give:
    same content, same signer certificate, same chain, SHA-256, valid signature.  Else
    (False, reason)."""
    got = read_signed(existing)
    if got.content is None:
        return False, "the existing file is not a signed profile (%s)" % got.problem
    if got.content != plist:
        return False, "the profile content changed"
    if got.signer is None or certs.to_der(got.signer) != certs.to_der(signer.cert):
        return False, "the signer changed"
    carried = sorted(certs.to_der(c) for c in got.certificates if certs.to_der(c) != certs.to_der(signer.cert))
    if carried != sorted(signer.chain_ders()):
        return False, "the signer chain changed"
    if not got.valid:
        return False, "the existing signature is invalid (%s)" % got.problem
    if got.digest != "sha256":
        return False, "the existing signature uses %s" % got.digest
    return True, None


# --------------------------------------------------------------------------- plan and write

class Artifact(object):
    """One file to produce in dest."""

    __slots__ = ("name", "kind", "platform", "data", "path", "before", "action", "reason", "signed",
                 "resign")

    def __init__(self, name, kind, platform, data):
        self.name = name
        self.kind = kind  # profile | der | onc | nsc
        self.platform = platform
        self.data = data
        self.path = None
        self.before = None  # existing bytes or None
        self.action = None  # keep | create | update
        self.reason = None
        self.signed = False
        self.resign = False

    def as_dict(self):
        content = self.before if self.action == "keep" else self.data  # a kept signed profile: the file's bytes
        return {"path": self.path, "kind": self.kind, "platform": self.platform,
                "changed": self.action != "keep", "action": self.action,
                "sha256": hashlib.sha256(content).hexdigest() if content is not None else None}


def build_artifacts(spec, cas, platforms, name=None, domains=()):
    """The artifacts for the selected platforms (unsigned; see plan())."""
    platforms = list(platforms or PLATFORMS)
    for platform in platforms:
        if platform not in PLATFORMS:
            raise MobileError("platforms: %r is not one of %s" % (platform, ", ".join(PLATFORMS)))
    name = check_basename(name or spec.identifier)
    if not cas:
        raise MobileError("no CA certificate left to distribute (intermediates are left out unless "
                          "include_intermediates is set)")
    out = []
    if "ios" in platforms:
        out.append(Artifact(name + PROFILE_SUFFIX, "profile", "ios", build_profile(spec, cas)))
    if "android" in platforms:
        for ca in cas:
            out.append(Artifact(cert_basename(ca.cert, ca.sha256) + ".crt", "der", "android", ca.der))
        out.append(Artifact(name + ONC_SUFFIX, "onc", "android", build_onc(spec.identifier, cas)))
        out.append(Artifact(NSC_FILE, "nsc", "android", build_network_security_config(spec.identifier, cas,
                                                                                      domains)))
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise MobileError("two artifacts would have the same file name (%s); choose another name"
                          % ", ".join(sorted(set(n for n in names if names.count(n) > 1))))
    return out


def read_existing(path):
    """The bytes of an existing artifact, None when there is none; read back through the shared
    reader (a directory, FIFO or device is refused unread, a file over MAX_EXISTING is refused:
    it is no artifact of ours, and replacing it would lose it)."""
    if not os.path.lexists(path):
        return None
    try:
        return reader.read_input(path=path, option="dest", max_bytes=MAX_EXISTING, allow_empty=True)
    except reader.InputError as exc:
        raise MobileError("%s; move it away or choose another dest or name" % exc)


def plan(dest, artifacts, signer=None):
    """Decide per artifact: keep, create or update (with a reason).  Signs nothing yet."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise MobileError("dest %s exists and is not a directory" % dest)
    for art in artifacts:
        art.path = os.path.join(dest, art.name)
        art.before = read_existing(art.path)
        art.signed = art.kind == "profile" and signer is not None
        if art.before is None:
            art.action, art.reason = "create", "new file"
            art.resign = art.signed
        elif art.signed:
            current, why = signed_profile_current(art.before, art.data, signer)
            art.action, art.reason, art.resign = ("keep", None, False) if current else ("update", why, True)
        elif art.before == art.data:
            art.action = "keep"
        else:
            art.action = "update"
            art.reason = ("the profile was signed; signing is off now" if art.kind == "profile"
                          and looks_signed(art.before) else "content changed")
    return artifacts


def finalize(artifacts, signer=None):
    """Sign the profiles that need a new signature (after plan(); not in check mode)."""
    for art in artifacts:
        if art.resign:
            art.data = sign_profile(art.data, signer)
    return artifacts


def _existing_stat(path):
    """os.stat of the file a write replaces (mode, owner, times), or None when there is none."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _give_metadata(path, old):
    """Give ``path`` the owner, group and permission bits of
    ``old`` (an os.stat result).  Owner first: chown may clear set-id bits that chmod then sets.
    Only root can give a file away; any other user's files are its own already."""
    if os.geteuid() == 0:
        os.chown(path, old.st_uid, old.st_gid)
    os.chmod(path, stat.S_IMODE(old.st_mode))


def _temp_file(dest, data, mode, old=None):
    """A temporary file in dest holding data: with the metadata of ``old`` (the file it replaces),
    or ``mode`` for a new file."""
    fd, tmp = tempfile.mkstemp(prefix=".trustops-", suffix=".tmp", dir=dest)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if old is None:
            os.chmod(tmp, mode)
        else:
            _give_metadata(tmp, old)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _restore(dest, art, old):
    """Put the previous file back: its bytes, owner, group, mode and times (a rollback)."""
    if art.before is None:
        os.unlink(art.path)
        return
    tmp = _temp_file(dest, art.before, 0o600, old)
    try:
        if old is not None:
            os.utime(tmp, ns=(old.st_atime_ns, old.st_mtime_ns))
        os.replace(tmp, art.path)
    except BaseException:
        os.unlink(tmp)
        raise


def write(dest, artifacts, move=None, mode=0o644):
    """Write every changed artifact atomically; all or nothing.

    Each file is first written to a temporary file in dest (a replaced file's owner, group and mode
    carried over; ``mode`` for a new file), then all are moved into place (``move(src, dst)``,
    default os.replace; modules pass AnsibleModule.atomic_move).  When any step fails, the files
    already moved are restored as they were (bytes, owner, group, mode, atime/mtime), new files
    are removed with the temporary files, and WriteError says what happened.  Returns the list of
    paths written.
    """
    move = move or os.replace
    changes = [a for a in artifacts if a.action != "keep"]
    if not changes:
        return []
    created_dest = False
    if not os.path.isdir(dest):
        try:
            os.makedirs(dest, 0o755)
        except OSError as exc:
            raise WriteError("dest %s: cannot create the directory (%s); nothing was written" % (dest, exc))
        created_dest = True
    temps, moved, olds = {}, [], {}
    try:
        for art in changes:
            olds[art.path] = _existing_stat(art.path) if art.before is not None else None
            temps[art.path] = _temp_file(dest, art.data, mode, olds[art.path])
        for art in changes:
            move(temps[art.path], art.path)
            del temps[art.path]
            moved.append(art)
    except BaseException as exc:  # AnsibleModule.atomic_move fails with SystemExit: undo, then re-raise
        problems = []
        for tmp in temps.values():
            try:
                os.unlink(tmp)
            except OSError:
                pass
        for art in reversed(moved):
            try:
                _restore(dest, art, olds[art.path])
            except OSError as undo_exc:
                problems.append("%s: %s" % (art.path, undo_exc))
        if created_dest and not problems:
            try:
                os.rmdir(dest)
            except OSError:
                pass
        if not isinstance(exc, Exception):
            raise
        detail = "restored the previous files" if not problems else "could NOT restore: " + "; ".join(problems)
        raise WriteError("writing to %s failed (%s); %s" % (dest, getattr(exc, "strerror", None) or exc, detail))
    return [a.path for a in changes]


# --------------------------------------------------------------------------- diff

def describe_bytes(kind, data):
    """A text for --diff: plists and JSON/XML as they are, DER and CMS summarised (no secrets anyway)."""
    if data is None:
        return ""
    if kind == "der":
        try:
            cert = x509.load_der_x509_certificate(data)
            return "DER certificate %s\nSHA-256 %s\n" % (_subject(cert), certs.fingerprint(cert, "sha256"))
        except Exception:
            return "not a DER certificate (%d bytes, SHA-256 %s)\n" % (len(data), hashlib.sha256(data).hexdigest())
    if kind == "profile" and looks_signed(data):
        got = read_signed(data)
        if got.content is None:
            return "unreadable signed data (%s), %d bytes\n" % (got.problem, len(data))
        head = "# CMS SignedData, signer %s (SHA-256 %s), signature %s\n" % (
            _subject(got.signer) if got.signer is not None else "?",
            certs.fingerprint(got.signer, "sha256") if got.signer is not None else "?",
            "valid" if got.valid else "INVALID: %s" % got.problem)
        return head + _text(got.content)
    return _text(data)


def _text(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary, %d bytes, SHA-256 %s\n" % (len(data), hashlib.sha256(data).hexdigest())


def diff_entries(artifacts, signer=None):
    """One Ansible diff dict per changed artifact.  A profile still to be signed shows its plist."""
    out = []
    for art in artifacts:
        if art.action == "keep":
            continue
        after = describe_bytes(art.kind, art.data)
        if art.resign and not looks_signed(art.data):
            after = "# CMS SignedData, signer %s (SHA-256 %s), new signature\n%s" % (
                _subject(signer.cert), certs.fingerprint(signer.cert, "sha256"), _text(art.data))
        out.append({"before_header": art.path, "after_header": art.path,
                    "before": describe_bytes(art.kind, art.before), "after": after})
    return out


def cert_facts(ca, identifier):
    info = certs.describe(ca.cert)
    base = cert_basename(ca.cert, ca.sha256)
    return {"subject": info["subject"], "common_name": (info["common_names"] or [None])[0],
            "issuer": info["issuer"], "sha256": info["sha256"], "sha1": info["sha1"],
            "not_after": info["not_after"], "role": ca.role, "source": ca.source,
            "payload_type": payload_type(ca), "payload_identifier": payload_identifier(identifier, ca.sha256),
            "payload_uuid": payload_uuid(identifier, ca.sha256), "onc_guid": onc_guid(identifier, ca.sha256),
            "android_file": base + ".crt", "raw_resource": raw_resource_name(base)}
