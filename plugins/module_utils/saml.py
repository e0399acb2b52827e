# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tableau Server's SAML requirements as data, and the checks that apply them.

Every checkable sentence of Tableau's "SAML Requirements" page is a :class:`Rule` with a code
(``SAML-0NN`` for the SP certificate, SP key, IdP/SP metadata and URLs; ``SAML-1NN`` for
assertions and responses, registered by ``saml_response``), a severity, a message template,
a remedy and, where Tableau has one, the TSM configuration key that relaxes it.  Checks return
:class:`Finding` lists; broken input (unreadable files, malformed XML) raises
:class:`TrustopsError` subclasses.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import base64
import datetime
import difflib
import ipaddress
import re
import shlex

from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    Finding,
    TrustopsError,
)
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CertificateError,
    days_left,
    fingerprint,
    inspect_private_key,
    is_expired,
    is_not_yet_valid,
    key_matches_cert,
    load_certificate,
    load_certificates,
    not_after,
    not_before,
    pem_blocks,
    public_key,
    public_key_info,
    signature_hash,
)
from ansible_collections.trustops.tableau.plugins.module_utils.xml import (
    DEFAULT_MAX_BYTES,
    NS,
    parse_xml,
)
from ansible_collections.trustops.tableau.plugins.module_utils import policy, xmlsig


class SamlError(TrustopsError):
    """SAML input that cannot be checked at all (as opposed to a policy finding)."""


class SignatureInvalid(SamlError):
    """An XML signature that does not verify with any trusted certificate."""


class SignatureCoverageError(SamlError):
    """An XML signature that does not cover the element that is read (wrapping, duplicate IDs)."""


class Rule(object):
    """One requirement: ``code``, default ``severity``, ``message`` and ``remedy`` templates
    (``str.format`` with named fields), the relaxing ``tsm_key`` (or None) and the ``seed``
    sentence of Tableau's documentation it comes from."""

    __slots__ = ("code", "severity", "message", "remedy", "tsm_key", "seed")

    def __init__(self, code, severity, message, remedy, tsm_key=None, seed=""):
        Finding(code, severity, message)  # validates the severity
        self.code = code
        self.severity = severity
        self.message = message
        self.remedy = remedy
        self.tsm_key = tsm_key
        self.seed = seed

    def finding(self, severity=None, data=None, **fmt):
        """A Finding of this rule; ``fmt`` fills the templates and is kept in ``data``."""
        values = dict(fmt)
        message = self.message.format(**values)
        remedy = self.remedy.format(**values)
        if self.tsm_key and "TSM key" not in remedy:
            remedy = "%s (TSM key %s relaxes this rule)" % (remedy, self.tsm_key) if remedy else \
                "TSM key %s relaxes this rule" % self.tsm_key
        payload = {}
        for key, value in values.items():
            if isinstance(value, (str, int, float, bool, type(None))):
                payload[key] = value
            elif isinstance(value, (list, tuple)):
                payload[key] = [v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
                                for v in value]
            else:
                payload[key] = str(value)
        payload.update(data or {})
        if self.tsm_key:
            payload.setdefault("tsm_key", self.tsm_key)
        return Finding(self.code, severity or self.severity, message, remedy, payload)

    def as_dict(self):
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "remedy": self.remedy, "tsm_key": self.tsm_key, "seed": self.seed}

    def __repr__(self):
        return "Rule(%s, %s)" % (self.code, self.severity)


RULES = {}


def register(*rules):
    """Add rules to :data:`RULES`; a code registered twice is a programming error."""
    for rule in rules:
        if rule.code in RULES and RULES[rule.code] is not rule:
            raise ValueError("rule %s registered twice" % rule.code)
        RULES[rule.code] = rule
    return rules


def finding(code, severity=None, data=None, **fmt):
    """The Finding of rule ``code`` (see :data:`RULES`) with its templates filled from ``fmt``."""
    return RULES[code].finding(severity=severity, data=data, **fmt)


#: The one key-size/digest policy (:mod:`policy`): unknown digest names and negative sizes raise
#: ``policy.PolicyError`` (a TrustopsError).  No option of the SAML checks takes key type names.
Policy = policy.Policy
#: ``SHA-1``, ``RSA-SHA1`` and ``http://www.w3.org/2000/09/xmldsig#rsa-sha1`` all give ``sha1``.
normalise_digest = policy.digest_of_algorithm


def xml_cap(max_bytes):
    """The cap of the XML inputs of a module with a ``max_bytes`` option: that value, which may
    lower the collection's cap for XML (``reader.MAX_XML``, docs/inputs.md) but not raise it;
    anything else raises SamlError."""
    from ansible_collections.trustops.tableau.plugins.module_utils import reader
    if max_bytes is None or max_bytes <= 0:
        raise SamlError("max_bytes: %r is not a positive number of bytes" % (max_bytes,))
    if max_bytes > reader.MAX_XML:
        raise SamlError("max_bytes: %d is above the cap for XML inputs (%d bytes, docs/inputs.md); give %d "
                        "or less" % (max_bytes, reader.MAX_XML, reader.MAX_XML))
    return max_bytes


#: argument_spec entries matching doc fragments trustops.tableau.policy and trustops.tableau.saml_policy
POLICY_ARGUMENT_SPEC = dict(policy.argument_spec(), fail_on={
    "type": "str", "choices": ["error", "warning", "never"], "default": "error"})


# --------------------------------------------------------------------------- the rules

_BLOCKLIST_KEY = "wgserver.saml.blocklisted_digest_algorithms"
_RSA_KEY = "wgserver.saml.min_allowed.rsa_key_size"
_EC_KEY = "wgserver.saml.min_allowed.elliptic_curve_size"

_S_CERT_FILE = ("Certificate file. A PEM-encoded x509 certificate file with a .crt extension. This "
                "file is used by Tableau Server, not the IdP.")
_S_ONLY_CERT = ("Confirm that the certificate includes only the certificate that applies to Tableau "
                "Server and not any other certificates or keys.")
_S_DIGEST = ("The certificate must use a secure signature algorithm, for example SHA-256. If you "
             "attempt to configure Tableau Server for SAML with a certificate that uses SHA-1 "
             "signature hash, Tableau Server will reject the certificate.")
_S_SIZES = ("The Tableau Server certificate must have an RSA key strength of 2048, and the IdP "
            "certificate must have either an RSA key strength of 2048 or ECDSA curve size of 256.")
_S_KEY_FILE = ("Certificate key file. An RSA or DSA private key file that has the .key extension. "
               "RSA keys must be in in PKCS#1 or PKCS#8 format.")
_S_PKCS1_PW = "The PKCS#1 RSA key file cannot be password protected."
_S_PKCS8_PW = ("To use a password-protected key file, you must configure SAML with a RSA PKCS#8 "
               "file. Note: A PKCS#8 file with a null password is not supported.")
_S_TABLE = "Summary of support: PKCS#8 (no/null password): Server-Wide No, Site-Level No."
_S_SITE_PW = "Password-protected key files are not supported in site-specific SAML deployments."
_S_PAIR = ("Tableau Server requires a certificate-key pair to sign the request that is sent to "
           "the IdP.")
_S_BINDINGS = ("Tableau Server supports HTTP POST and HTTP REDIRECT requests for SAML "
               "communications. In the SAML metadata XML document that is exported by the IdP, "
               "the Binding attribute can be set to HTTP-POST or HTTP-REDIRECT.")
_S_SSO = ("Verify that the metadata XML from the IdP includes a SingleSignOnService element, in "
          "which the binding is set to HTTP-POST")
_S_SLO = ("If this element is not in the IdP metadata, Tableau Server cannot negotiate a logout "
          "endpoint with the IdP and the SAML Logout feature will not be available within "
          "Tableau Server")
_S_IDP_XML = ("IdP provider that supports import and export of XML metadata. Although a manually "
              "created metadata file might work, Tableau Technical Support cannot assist with "
              "generating the file or troubleshooting it.")
_S_SAML2 = "IdP account that supports SAML 2.0 or later."
_S_VERIFY = ("Tableau Server verifies the AuthNResponse by using the signature produced by the "
             "IdP. The IdP certificate metadata is provided to Tableau Server as part of the "
             "initial SAML configuration process.")
_S_CASE = ("SAML configurations, both with the IdP and on Tableau Server, are case sensitive. For "
           "example, URLs configured with the IdP and on Tableau Server must match exactly.")
_S_LOGIN = ("For users to be able to sign in, your IdP must be configured with SAML Login "
            "endpoint that sends a POST request to the following URL: "
            "https://<tableauserver>/wg/saml/SSO/index.html.")
_S_LOGOUT = ("To enable users to sign out after signing in with SAML (single logout, or SLO), "
             "your IdP must be configured with a SAML Logout endpoint that sends a POST request "
             "to the following URL: https://<tableauserver>/wg/saml/SingleLogout/index.html.")
_S_SITE_ACS = "For Site SAML, the Location endpoint is /samlservice/public/sp/metadata?alias=<site alias>."
_S_SITE_HTTPS = ("Site-specific SAML: ... all SAML requests and responses are sent over HTTPS to "
                 "secure communication with the IdP. HTTP requests and responses are not supported.")
_S_ACS_ELEMENT = ("The element that specifies the URL that the IdP redirects to after successful "
                  "authentication. This is required in the Service Provider metadata, not the "
                  "Identity Provider metadata.")
_S_RETURN = ("SAML configurations ... are case sensitive (return URL: tsm authentication saml "
             "configure --return-url, the Tableau Server URL users reach)")

register(
    # SP certificate
    Rule("SAML-001", "error", "{source}: the SAML certificate file name does not end in .crt",
         "Rename or copy the certificate to a file name ending in .crt before giving it to TSM "
         "(tsm authentication saml configure --cert-file <name>.crt)", seed=_S_CERT_FILE),
    Rule("SAML-002", "error", "{source}: not a PEM-encoded X.509 certificate ({detail})",
         "Give Tableau a PEM certificate (-----BEGIN CERTIFICATE-----); convert DER with "
         "openssl x509 -inform der -in {source} -out saml.crt", seed=_S_CERT_FILE),
    Rule("SAML-003", "error", "{source}: holds {count} certificates; the SAML certificate file must "
         "hold only the Tableau Server certificate",
         "Keep only the Tableau Server certificate in the .crt file (remove intermediate and root "
         "certificates)", seed=_S_ONLY_CERT),
    Rule("SAML-004", "error", "{source}: holds {labels} {where}",
         "Remove every block but the Tableau Server certificate from the .crt file; keep the "
         "private key in its own .key file", seed=_S_ONLY_CERT),
    Rule("SAML-005", "error", "{source}: the certificate is signed with {digest}, which Tableau "
         "Server rejects (blocklisted digests: {blocklist})",
         "Reissue the certificate with SHA-256 or stronger", tsm_key=_BLOCKLIST_KEY, seed=_S_DIGEST),
    Rule("SAML-006", "error", "{source}: the certificate has an RSA key of {size} bits; Tableau "
         "Server requires at least {minimum}",
         "Reissue the certificate with an RSA key of at least {minimum} bits", tsm_key=_RSA_KEY,
         seed=_S_SIZES),
    Rule("SAML-007", "error", "{source}: the certificate has a {key_type} key{ec_size}; the Tableau "
         "Server SAML certificate must have an RSA (or DSA) key",
         "Reissue the certificate with an RSA 2048-bit (or larger) key", seed=_S_SIZES + " " + _S_KEY_FILE),
    Rule("SAML-008", "error", "{source}: the certificate {state} ({when})",
         "Renew the SAML certificate and configure the new pair with TSM",
         seed=_S_PAIR),
    Rule("SAML-009", "warning", "{source}: the certificate expires in {days} days ({when})",
         "Renew the SAML certificate before it expires; the IdP must be given the new SP metadata",
         seed=_S_PAIR),
    # SP key
    Rule("SAML-010", "error", "{source}: the SAML key file name does not end in .key",
         "Rename or copy the key to a file name ending in .key before giving it to TSM "
         "(tsm authentication saml configure --key-file <name>.key)", seed=_S_KEY_FILE),
    Rule("SAML-011", "error", "{source}: not a readable private key ({detail})",
         "Give the RSA private key of the SAML certificate, PEM, in PKCS#1 (or encrypted PKCS#8) "
         "format", seed=_S_KEY_FILE),
    Rule("SAML-012", "error", "{source}: the key is {key_type}{ec_size}; Tableau Server accepts RSA or "
         "DSA SAML keys", "{how_to}", seed=_S_KEY_FILE),
    Rule("SAML-013", "error", "{source}: the key is in {format} format; Tableau Server reads PKCS#1 "
         "or PKCS#8 keys", "{how_to}", seed=_S_KEY_FILE),
    Rule("SAML-014", "error", "{source}: the PKCS#1 {key_type} key is password protected; Tableau "
         "Server cannot use a password-protected PKCS#1 key", "{how_to}", seed=_S_PKCS1_PW),
    Rule("SAML-015", "error", "{source}: the password-protected PKCS#8 key is {key_type}; a "
         "password-protected SAML key must be RSA PKCS#8", "{how_to}", seed=_S_PKCS8_PW),
    Rule("SAML-016", "error", "{source}: PKCS#8 key {how}; Tableau Server does not support a PKCS#8 "
         "key file with no or a null password", "{how_to}", seed=_S_PKCS8_PW + " " + _S_TABLE),
    Rule("SAML-017", "error", "{source}: the key is password protected, which site-specific SAML "
         "does not support", "{how_to}", seed=_S_SITE_PW),
    Rule("SAML-018", "error", "{source}: {detail}",
         "Give the passphrase of the key (it is needed by TSM as well: tsm authentication saml "
         "configure --key-file ... with the passphrase)", seed=_S_PKCS8_PW),
    Rule("SAML-019", "error", "{source}: the private key does not belong to the certificate "
         "{subject} (certificate key {cert_key}, private key {key})",
         "Give the key the certificate was issued for; compare openssl x509 -noout -pubkey and "
         "openssl pkey -pubout", seed=_S_PAIR),
    # IdP metadata
    Rule("SAML-020", "error", "{source}: not SAML 2.0 metadata (root element {root})",
         "Export the metadata XML from the IdP (an md:EntityDescriptor)", seed=_S_IDP_XML),
    Rule("SAML-021", "error", "{source}: entity {entity_id} has no IDPSSODescriptor",
         "Give the IdP's metadata, not the SP's (it must contain md:IDPSSODescriptor)",
         seed=_S_SSO),
    Rule("SAML-022", "error", "{source}: holds {count} IdP entities ({entity_ids}); Tableau Server "
         "takes the metadata of one IdP",
         "Export the metadata of the one IdP (application) for Tableau, or set entity_id to choose "
         "one", seed=_S_IDP_XML),
    Rule("SAML-023", "error", "{source}: no IdP entity with entityID {entity_id} (found: {entity_ids})",
         "Check the entity_id (case sensitive)", seed=_S_CASE),
    Rule("SAML-024", "error", "{source}: entity {entity_id} has {count} IDPSSODescriptor elements; "
         "the one Tableau would use is ambiguous",
         "Export metadata with one IDPSSODescriptor for the Tableau application", seed=_S_IDP_XML),
    Rule("SAML-025", "error", "{source}: the IdP EntityDescriptor has no entityID",
         "Export the metadata from the IdP again; entityID is required", seed=_S_IDP_XML),
    Rule("SAML-026", "error", "{source}: the IDPSSODescriptor does not announce SAML 2.0 "
         "(protocolSupportEnumeration: {protocols})",
         "Use an IdP application that supports SAML 2.0", seed=_S_SAML2),
    Rule("SAML-027", "error", "{source}: no SingleSignOnService with the HTTP-POST or HTTP-Redirect "
         "binding (offered: {bindings})",
         "Enable the HTTP-POST (or HTTP-Redirect) SSO binding on the IdP; Tableau cannot use "
         "SOAP or Artifact. Older Tableau troubleshooting pages say HTTP-POST only, so prefer "
         "HTTP-POST", seed=_S_BINDINGS),
    Rule("SAML-028", "info", "{source}: SingleSignOnService offers HTTP-Redirect but not HTTP-POST",
         "Current Tableau Server supports both; older Tableau troubleshooting pages say HTTP-POST "
         "only, so if sign-in fails on an older release enable HTTP-POST on the IdP",
         seed=_S_BINDINGS + " " + _S_SSO),
    Rule("SAML-029", "error", "{source}: {element} with binding {binding} has {problem}",
         "Fix the Location of the endpoint in the IdP metadata (an absolute https URL)",
         seed=_S_SSO),
    Rule("SAML-030", "warning", "{source}: no SingleLogoutService; single logout (SLO) will not be "
         "available in Tableau Server",
         "Enable single logout on the IdP and export the metadata again if users should be signed "
         "out of the IdP", seed=_S_SLO),
    Rule("SAML-031", "info", "{source}: SingleLogoutService is offered with {bindings}, not HTTP-POST",
         "Tableau's documented logout element uses the HTTP-POST binding; check that logout works",
         seed=_S_SLO),
    Rule("SAML-032", "error", "{source}: the IDPSSODescriptor has no signing certificate",
         "Export the metadata with the IdP's signing certificate (KeyDescriptor use=\"signing\")",
         seed=_S_VERIFY),
    Rule("SAML-033", "error", "{source}: signing certificate #{index} cannot be read ({detail})",
         "Export the metadata from the IdP again", seed=_S_VERIFY),
    Rule("SAML-034", "error", "{source}: IdP signing certificate {subject} has an RSA key of {size} "
         "bits; Tableau Server requires at least {minimum}",
         "Have the IdP sign with an RSA key of at least {minimum} bits (or EC P-256)",
         tsm_key=_RSA_KEY, seed=_S_SIZES),
    Rule("SAML-035", "error", "{source}: IdP signing certificate {subject} uses the {size}-bit curve "
         "{curve}; Tableau Server requires at least {minimum}",
         "Have the IdP sign with EC P-256 or larger (or RSA 2048)", tsm_key=_EC_KEY, seed=_S_SIZES),
    Rule("SAML-036", "error", "{source}: IdP signing certificate {subject} has a {key_type} key; "
         "Tableau Server accepts RSA or ECDSA IdP certificates",
         "Have the IdP sign with RSA 2048 or EC P-256", seed=_S_SIZES),
    Rule("SAML-037", "error", "{source}: IdP signing certificate {subject} is signed with {digest} "
         "(blocklisted digests: {blocklist})",
         "Have the IdP use a certificate signed with SHA-256 or stronger", tsm_key=_BLOCKLIST_KEY,
         seed=_S_DIGEST),
    Rule("SAML-038", "warning", "{source}: IdP signing certificate {subject} {state} ({when})",
         "Renew the IdP signing certificate and import the new metadata into Tableau Server",
         seed=_S_VERIFY),
    Rule("SAML-039", "warning", "{source}: the metadata was valid until {valid_until}",
         "Export fresh metadata from the IdP", seed=_S_IDP_XML),
    # metadata signature
    Rule("SAML-040", "error", "{source}: a trusted signer was given but the metadata is not signed",
         "Export signed metadata from the IdP, or do not require a signature", seed=_S_VERIFY),
    Rule("SAML-041", "error", "{source}: the metadata signature does not verify with the trusted "
         "signer {signer} ({detail})",
         "Fetch the metadata again from the IdP and check which certificate signs it", seed=_S_VERIFY),
    Rule("SAML-042", "error", "{source}: the metadata signature uses {algorithm} ({what}), which is "
         "blocklisted ({blocklist})", "Have the IdP sign its metadata with SHA-256",
         tsm_key=_BLOCKLIST_KEY, seed=_S_DIGEST),
    Rule("SAML-043", "error", "{source}: the metadata signature does not cover the element that is "
         "read ({detail})",
         "Do not use this file: a signature that covers another element than the one read is "
         "what signature-wrapping attacks look like", seed=_S_VERIFY),
    Rule("SAML-044", "info", "{source}: the metadata is signed but the signature was not verified "
         "(no trusted signer given)",
         "Give trusted_signer (the certificate the IdP signs its metadata with) to verify it",
         seed=_S_VERIFY),
    Rule("SAML-045", "warning", "{source}: the metadata signature verifies with the trusted signer "
         "{signer}, whose certificate {state} ({when})",
         "Nothing blocks the import: the signature is valid, and SAML metadata practice (the SAML V2.0 "
         "Metadata Interoperability Profile) trusts the signer's key, not its certificate's dates. Ask "
         "the IdP or federation for its renewed signing certificate and give it as trusted_signer "
         "before the key is rotated", seed=_S_VERIFY),
    Rule("SAML-046", "warning", "{source}: the X509Certificate of {where} holds base64 of PEM text, "
         "not of a DER certificate as XML-DSig requires",
         "Export the metadata from the IdP again, or put only the base64 body of the certificate (the "
         "lines between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----, which encode the DER "
         "certificate) in the X509Certificate element: Tableau Server's importer may not accept the "
         "PEM form", seed=_S_IDP_XML + " (XML-DSig 4.4.4: X509Certificate holds a base64-encoded "
         "[X509v3] certificate, i.e. DER; not a sentence of the seed)"),
    # SP side: URLs and SP metadata
    Rule("SAML-050", "error", "{where}: the AssertionConsumerService URL is {actual!r}, expected "
         "{expected!r}: {difference}",
         "Configure exactly {expected} on the IdP (URLs are case sensitive)", seed=_S_CASE + " " + _S_LOGIN),
    Rule("SAML-051", "error", "return URL {url!r} ends with a slash",
         "Give the return URL without the trailing slash, e.g. {suggestion}", seed=_S_RETURN),
    Rule("SAML-052", "error", "return URL {url!r} points to {host}; users and the IdP cannot reach "
         "the server there", "Use the name users type to reach Tableau Server", seed=_S_RETURN),
    Rule("SAML-053", "error", "return URL {url!r} is not an absolute http(s) URL with a host",
         "Give the URL users reach Tableau Server at, e.g. https://tableau.example.com",
         seed=_S_RETURN),
    Rule("SAML-054", "error", "{where}: the site SAML endpoint is {actual!r}, expected "
         "{expected!r}: {difference}",
         "Configure exactly {expected} on the IdP for site {site_alias} (case sensitive)",
         seed=_S_SITE_ACS + " " + _S_CASE),
    Rule("SAML-055", "error", "{where}: {url!r} uses http; site-specific SAML works over HTTPS only",
         "Use https:// URLs for site SAML", seed=_S_SITE_HTTPS),
    Rule("SAML-056", "error", "{source}: the SP metadata has no AssertionConsumerService with the "
         "HTTP-POST binding", "Export the SP metadata from Tableau Server (tsm authentication saml "
         "export-metadata) and give that file", seed=_S_ACS_ELEMENT),
    Rule("SAML-057", "warning", "{source}: the SP metadata has no SingleLogoutService; single "
         "logout will not be available", "Export the SP metadata from Tableau Server again",
         seed=_S_LOGOUT),
    Rule("SAML-058", "error", "{where}: the SingleLogoutService URL is {actual!r}, expected "
         "{expected!r}: {difference}",
         "Configure exactly {expected} as the logout endpoint on the IdP (case sensitive)",
         seed=_S_LOGOUT + " " + _S_CASE),
    Rule("SAML-059", "error", "{source}: no SPSSODescriptor; this is not Service Provider metadata",
         "Give the SP metadata exported from Tableau Server", seed=_S_ACS_ELEMENT),
)


# --------------------------------------------------------------------------- helpers

def _utcnow(now=None):
    return now or datetime.datetime.now(datetime.timezone.utc)


def _short(exc):
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _basename(path):
    return re.split(r"[\\/]", path)[-1] if path else path


def _cert_facts(cert, now=None):
    """The JSON-friendly facts returned for a certificate (no PEM body)."""
    key_type, key_size, curve = public_key_info(public_key(cert))
    try:
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
    except Exception:  # unparsable names: report by fingerprint
        subject = issuer = None
    return {
        "subject": subject,
        "issuer": issuer,
        "sha256": fingerprint(cert, "sha256"),
        "sha1": fingerprint(cert, "sha1"),
        "key_type": key_type,
        "key_size": key_size,
        "curve": curve,
        "signature_hash": signature_hash(cert),
        "not_after": not_after(cert).isoformat(),
        "days_left": days_left(cert, now),
        "expired": is_expired(cert, now),
    }


def _label(facts):
    return facts.get("subject") or "SHA-256 " + facts["sha256"][:23]


def _validity_state(cert, now):
    """(state, when) for an expired or not yet valid certificate, else None."""
    if is_expired(cert, now):
        return "has expired", "not after %s" % not_after(cert).isoformat()
    if is_not_yet_valid(cert, now):
        return "is not valid yet", "not before %s" % not_before(cert).isoformat()
    return None


# --------------------------------------------------------------------------- SP certificate

_CERT_LABEL = b"CERTIFICATE"


def check_sp_certificate(data, source="<input>", policy=None, filename=None, now=None,
                         expiry_warn_days=30):
    """Check the SAML certificate Tableau Server signs its requests with.

    Returns ``(findings, facts, cert)``; ``cert`` is None when no certificate could be read.
    ``filename`` (the path given to TSM) enables the .crt extension rule.
    """
    policy = policy or Policy()
    now = _utcnow(now)
    findings = []
    name = filename if (filename and str(source).startswith("<")) else source  # a label beats a placeholder
    if filename is not None and not _basename(filename).endswith(".crt"):
        findings.append(finding("SAML-001", source=name))
    try:
        blocks = pem_blocks(data, name)
    except CertificateError as exc:
        findings.append(finding("SAML-002", source=name, detail=_short(exc)))
        return findings, {}, None
    cert = None
    if not blocks:
        try:
            certs = load_certificates(data, name)
        except CertificateError as exc:
            findings.append(finding("SAML-002", source=name, detail=_short(exc)))
            return findings, {}, None
        findings.append(finding("SAML-002", source=name,
                                detail="DER or PKCS#7 with %d certificate(s), not PEM" % len(certs)))
        if len(certs) > 1:
            findings.append(finding("SAML-003", source=name, count=len(certs)))
        cert = certs[0]
    else:
        cert_blocks = [block for label, block in blocks if label == _CERT_LABEL]
        others = sorted({label.decode("ascii", "replace") for label, _block in blocks
                         if label != _CERT_LABEL})
        if others:
            findings.append(finding("SAML-004", source=name, labels=", ".join(others),
                                    where="besides the certificate" if cert_blocks else "and no certificate"))
        if not cert_blocks:
            detail = "no CERTIFICATE block; found %s" % ", ".join(others)
            if any("PKCS7" in o or "PKCS #7" in o or o == "CMS" for o in others):
                detail = "a PKCS#7 bundle, not a PEM certificate"
            findings.append(finding("SAML-002", source=name, detail=detail))
            return findings, {}, None
        if len(cert_blocks) > 1:
            findings.append(finding("SAML-003", source=name, count=len(cert_blocks)))
        try:
            cert = load_certificate(cert_blocks[0], name)
        except CertificateError as exc:
            findings.append(finding("SAML-002", source=name, detail=_short(exc)))
            return findings, {}, None
    try:
        facts = _cert_facts(cert, now)
    except CertificateError as exc:
        findings.append(finding("SAML-002", source=name, detail=_short(exc)))
        return findings, {}, None
    facts["certificates_in_file"] = max(1, len([b for b in blocks if b[0] == _CERT_LABEL]))
    if policy.digest_blocked(facts["signature_hash"]):
        findings.append(finding("SAML-005", source=name, digest=facts["signature_hash"].upper(),
                                blocklist=", ".join(policy.blocklisted_digests)))
    if facts["key_type"] == "RSA":
        if facts["key_size"] < policy.min_rsa_key_size:
            findings.append(finding("SAML-006", source=name, size=facts["key_size"],
                                    minimum=policy.min_rsa_key_size))
    elif facts["key_type"] != "DSA":
        findings.append(finding("SAML-007", source=name, key_type=facts["key_type"],
                                ec_size=_ec_size(facts["key_type"], facts["key_size"], facts["curve"], policy)))
    state = _validity_state(cert, now)
    if state:
        findings.append(finding("SAML-008", source=name, state=state[0], when=state[1]))
    elif facts["days_left"] < expiry_warn_days:
        findings.append(finding("SAML-009", source=name, days=facts["days_left"],
                                when="not after %s" % facts["not_after"]))
    return findings, facts, cert


# --------------------------------------------------------------------------- SP key

def _der_tlv(data, pos):
    """(tag, start, end) of the DER element at pos; ValueError when malformed."""
    if pos + 2 > len(data):
        raise ValueError("short DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER overrun")
    return tag, pos, pos + length


def _der_children(data, start, end):
    out = []
    pos = start
    while pos < end:
        tag, s, e = _der_tlv(data, pos)
        out.append((tag, s, e))
        pos = e
    return out


_OID_PBES2 = bytes.fromhex("2a864886f70d01050d")
_OID_PBKDF2 = bytes.fromhex("2a864886f70d01050c")
_PRFS = {bytes.fromhex("2a864886f70d0207"): "SHA1", bytes.fromhex("2a864886f70d0208"): "SHA224",
         bytes.fromhex("2a864886f70d0209"): "SHA256", bytes.fromhex("2a864886f70d020a"): "SHA384",
         bytes.fromhex("2a864886f70d020b"): "SHA512"}
_CIPHERS = {bytes.fromhex("608648016503040102"): ("AES", 16), bytes.fromhex("608648016503040116"): ("AES", 24),
            bytes.fromhex("60864801650304012a"): ("AES", 32), bytes.fromhex("2a864886f70d0307"): ("3DES", 24)}


def pkcs8_opens_with_empty_password(der):
    """True when an encrypted PKCS#8 (PBES2/PBKDF2, AES or 3DES) decrypts with the empty
    password to a private key, False when it does not, None when the scheme is not one we can
    try.  Done by hand because cryptography refuses an empty password outright."""
    opened = _open_pkcs8_with_empty_password(der)
    return opened if opened in (False, None) else True


def _open_pkcs8_with_empty_password(der):
    """The private key of an encrypted PKCS#8 that opens with the empty password, else False
    (it does not) or None (a scheme we cannot try)."""
    try:
        from cryptography.hazmat.primitives import hashes, padding, serialization
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
        _t, s, e = _der_tlv(der, 0)
        (alg_t, alg_s, alg_e), (data_t, data_s, data_e) = _der_children(der, s, e)[:2]
        alg = _der_children(der, alg_s, alg_e)
        if der[alg[0][1]:alg[0][2]] != _OID_PBES2:
            return None
        kdf, scheme = _der_children(der, alg[1][1], alg[1][2])[:2]
        kdf_parts = _der_children(der, kdf[1], kdf[2])
        if der[kdf_parts[0][1]:kdf_parts[0][2]] != _OID_PBKDF2:
            return None
        params = _der_children(der, kdf_parts[1][1], kdf_parts[1][2])
        salt = der[params[0][1]:params[0][2]]
        iterations = int.from_bytes(der[params[1][1]:params[1][2]], "big")
        prf = "SHA1"
        for tag, ps, pe in params[2:]:
            if tag == 0x30:
                prf = _PRFS.get(der[_der_children(der, ps, pe)[0][1]:_der_children(der, ps, pe)[0][2]])
                if prf is None:
                    return None
        scheme_parts = _der_children(der, scheme[1], scheme[2])
        cipher_oid = der[scheme_parts[0][1]:scheme_parts[0][2]]
        if cipher_oid not in _CIPHERS or data_t != 0x04 or alg_t != 0x30:
            return None
        iv = der[scheme_parts[1][1]:scheme_parts[1][2]]
        name, key_len = _CIPHERS[cipher_oid]
        key = PBKDF2HMAC(getattr(hashes, prf)(), key_len, salt, iterations).derive(b"")
        if name == "AES":
            algo = algorithms.AES(key)
        else:
            try:  # cryptography >= 43 keeps 3DES among the "decrepit" ciphers
                from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
            except ImportError:
                TripleDES = algorithms.TripleDES
            algo = TripleDES(key)
        decryptor = Cipher(algo, modes.CBC(iv)).decryptor()
        plain = decryptor.update(der[data_s:data_e]) + decryptor.finalize()
        unpadder = padding.PKCS7(algo.block_size).unpadder()
        plain = unpadder.update(plain) + unpadder.finalize()
        return serialization.load_der_private_key(plain, password=None)
    except (ValueError, IndexError, TypeError):
        return False
    except Exception:  # UnsupportedAlgorithm and friends: we cannot tell
        return None


def _pkcs8_der(data):
    """DER of an ENCRYPTED PRIVATE KEY (PEM or DER input), or None."""
    for label, block in pem_blocks(data):
        if label == b"ENCRYPTED PRIVATE KEY":
            body = b"".join(line for line in block.split(b"\n")[1:-1])
            try:
                return base64.b64decode(body)
            except ValueError:
                return None
    return data if isinstance(data, bytes) and data[:1] == b"\x30" else None


# --------------------------------------------------------------------------- key remedies
# The seed's key table, as commands: which form of each key type Tableau Server can use and the
# command that writes it.  RSA: unencrypted PKCS#1, or (server-wide only) encrypted PKCS#8.
# DSA: unencrypted only ("An RSA or DSA private key file"; every password-protected form is
# refused: PKCS#1 with a password, and PKCS#8 with a password must be RSA).  Other key types
# cannot be converted into something Tableau takes: the key (and its certificate) must be
# replaced.  Every command here is run by the tests on a real key of its type, and its output
# is checked again by check_sp_key.

_OUT = "saml.key"
_REPLACE = ("No conversion makes {what} usable: Tableau Server takes RSA (or DSA) SAML keys, so the "
            "key and its certificate must be replaced by an RSA pair of 2048 bits or more, e.g. "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout saml.key -out saml.crt -subj "
            "/CN=<tableau host>, or one issued by your CA")


def _unencrypted_command(key_type, source, fmt=None):
    """The command that writes ``source`` as an unencrypted PKCS#1 (traditional) key, or None."""
    src = shlex.quote(source)
    if fmt == "openssh":
        if key_type == "RSA":  # asks for the old passphrase, then the new one: leave it empty
            return "cp %s %s && chmod 600 %s && ssh-keygen -p -m PEM -f %s" % (src, _OUT, _OUT, _OUT)
        return None
    if key_type == "RSA":
        return "openssl rsa -in %s -traditional -out %s" % (src, _OUT)
    if key_type == "DSA":
        return "openssl dsa -in %s -out %s" % (src, _OUT)
    return None


def _encrypted_pkcs8_command(key_type, source):
    """The command that writes ``source`` as encrypted PKCS#8 (server-wide SAML), RSA only."""
    if key_type != "RSA":
        return None
    return "openssl pkcs8 -topk8 -v2 aes-256-cbc -in %s -out %s" % (shlex.quote(source), _OUT)


def key_remedy(code, key_type, source, fmt=None, scope="server"):
    """``(remedy text, commands)`` for a key-table finding (``SAML-012``..``SAML-017``) on a key
    of ``key_type`` (``RSA``, ``DSA``, ``EC``, ..., or None when it could not be read).

    ``commands`` are the exact commands the text gives (they prompt for passphrases); each
    writes ``saml.key`` in a form Tableau Server accepts for ``scope``.  When the key type has
    no such form the text says plainly that the key must be replaced and ``commands`` is empty.
    """
    if key_type is None:  # an encrypted key not opened: say what to do for each usable type
        texts, commands = [], []
        for kind in ("RSA", "DSA"):
            text, cmds = key_remedy(code, kind, source, fmt, scope)
            texts.append("if it is a%s %s key: %s" % ("n" if kind == "RSA" else "", kind, text[0].lower() + text[1:]))
            commands.extend(cmds)
        return "; ".join(texts) + "; any other key type must be replaced by an RSA key", commands
    plain = _unencrypted_command(key_type, source, fmt)
    if fmt == "openssh" and plain is None and key_type in ("RSA", "DSA"):
        return ("Convert the OpenSSH key to a PEM %s key, or replace the pair with RSA (no tested "
                "command converts an OpenSSH %s key here)" % (key_type, key_type)), []
    if plain is None:
        return _REPLACE.format(what="a %s key" % key_type), []
    pkcs8 = _encrypted_pkcs8_command(key_type, source) if scope == "server" else None
    if code == "SAML-013":
        return ("Convert it to a PEM PKCS#1 key: %s (when ssh-keygen asks for the new passphrase, "
                "leave it empty: a password-protected PKCS#1 key is not supported)" % plain), [plain]
    if key_type == "DSA":
        return ("Remove the password: %s. An unencrypted DSA key is the only DSA form Tableau "
                "Server takes (\"An RSA or DSA private key file\"; a password-protected key must be "
                "RSA PKCS#8). To keep a password, replace the pair with an RSA key" % plain), [plain]
    if code == "SAML-017":
        return "Remove the password for site SAML (unencrypted PKCS#1): %s" % plain, [plain]
    if code == "SAML-016":
        first = "Convert it to an unencrypted PKCS#1 key: %s" % plain
        second = "encrypt it with a non-empty passphrase: %s" % pkcs8
    else:
        first = "Either remove the password: %s" % plain
        second = "convert it to encrypted PKCS#8: %s" % pkcs8
    if pkcs8 is None:
        return first, [plain]
    return "%s; or, for server-wide SAML, %s" % (first, second), [plain, pkcs8]


def _key_finding(code, kind, name, fmt, scope, **fmt_args):
    """``name`` is (label, path): the message names the label, the commands the file's path."""
    label, path = name
    text, commands = key_remedy(code, kind, path, fmt, scope)
    return finding(code, source=label, how_to=text, data={"commands": commands}, **fmt_args)


def _ec_size(key_type, size, curve, policy):
    """`` (P-192, 192 bits, below min_ec_key_size 256)`` for an EC key, else ``""``."""
    if key_type != "EC" or size is None:
        return ""
    below = (", below min_ec_key_size %d as well" % policy.min_ec_key_size) if size < policy.min_ec_key_size else ""
    return " (%s, %d bits%s)" % (curve or "unnamed curve", size, below)


_LABEL_TYPES = {"RSA PRIVATE KEY": "RSA", "DSA PRIVATE KEY": "DSA", "EC PRIVATE KEY": "EC"}


def check_sp_key(data, source="<input>", passphrase=None, scope="server", filename=None, cert=None, policy=None):
    """Check the SAML private key against the seed's support table.

    Returns ``(findings, facts)``.  ``scope`` is ``server`` (server-wide SAML) or ``site``.
    ``cert`` (a cryptography certificate) enables the key/certificate match rule.  The remedies
    of the key-table findings are commands for the key type at hand (:func:`key_remedy`).
    """
    if scope not in ("server", "site"):
        raise SamlError("scope must be server or site, not %r" % (scope,))
    policy = policy or Policy()
    findings = []
    name = filename if (filename and str(source).startswith("<")) else source  # a label beats a placeholder
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if filename is not None and not _basename(filename).endswith(".key"):
        findings.append(finding("SAML-010", source=name))
    try:
        info = inspect_private_key(data, None, name)
    except CertificateError as exc:
        findings.append(finding("SAML-011", source=name, detail=_short(exc)))
        return findings, {}
    facts = {"format": info.format, "encrypted": info.encrypted, "key_type": None, "key_size": None,
             "curve": None, "matches_certificate": None, "passphrase_given": bool(passphrase)}
    # open it first (passphrase, or the empty password of PKCS#8) so every remedy knows the key type
    decrypt_error = None
    empty_password = False
    if info.encrypted and passphrase:
        try:
            info = inspect_private_key(data, passphrase, name)
        except CertificateError as exc:
            decrypt_error = _short(exc)
    if info.encrypted and info.key is None and info.format == "pkcs8":
        empty_password = _open_pkcs8_with_empty_password(_pkcs8_der(data) or b"")
    if info.key is not None:
        key_type = info.key_type
    elif empty_password not in (False, None):
        key_type = public_key_info(empty_password)[0]
    else:
        key_type = _LABEL_TYPES.get(info.pem_label or "")
    fmt = info.format
    if fmt not in ("pkcs1", "pkcs8"):
        findings.append(_key_finding("SAML-013", key_type, (name, filename or source), fmt, scope, format=fmt.upper()))
    if info.encrypted:
        if fmt == "pkcs1":
            findings.append(_key_finding("SAML-014", key_type, (name, filename or source), fmt, scope, key_type=key_type or "RSA"))
        if scope == "site":
            findings.append(_key_finding("SAML-017", key_type, (name, filename or source), fmt, scope))
        if decrypt_error is not None:
            findings.append(finding("SAML-018", source=name, detail=decrypt_error[len(name) + 2:]
                                    if decrypt_error.startswith(name + ": ") else decrypt_error))
        if empty_password:
            findings.append(_key_finding("SAML-016", key_type, (name, filename or source), fmt, scope,
                                         how="is encrypted with an empty password"))
        elif not passphrase:
            findings.append(finding("SAML-018", source=name,
                                    detail="the key is password protected and no passphrase was given"))
    elif fmt == "pkcs8":
        findings.append(_key_finding("SAML-016", key_type, (name, filename or source), fmt, scope, how="has no password"))
    if info.key is not None:
        facts.update(key_type=info.key_type, key_size=info.key_size, curve=info.curve)
        if info.key_type not in ("RSA", "DSA"):
            findings.append(_key_finding("SAML-012", info.key_type, (name, filename or source), fmt, scope, key_type=info.key_type,
                                         ec_size=_ec_size(info.key_type, info.key_size, info.curve, policy)))
        if info.encrypted and fmt == "pkcs8" and info.key_type != "RSA":
            findings.append(_key_finding("SAML-015", info.key_type, (name, filename or source), fmt, scope, key_type=info.key_type))
        if cert is not None:
            facts["matches_certificate"] = key_matches_cert(info.key, cert)
            if not facts["matches_certificate"]:
                ktype, ksize, _c = public_key_info(public_key(cert))
                findings.append(finding(
                    "SAML-019", source=name, subject=_cert_subject(cert),
                    cert_key="%s %s" % (ktype, ksize), key="%s %s" % (info.key_type, info.key_size)))
    return findings, facts


def _cert_subject(cert):
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return "SHA-256 " + fingerprint(cert)[:23]


def check_keypair(cert_data=None, key_data=None, passphrase=None, scope="server", policy=None,
                  cert_source="<certificate>", key_source="<key>", cert_filename=None,
                  key_filename=None, now=None, expiry_warn_days=30):
    """Both checks together; returns ``(findings, facts)`` with ``certificate`` and ``key``."""
    findings = []
    facts = {"certificate": None, "key": None, "scope": scope}
    cert = None
    if cert_data is not None:
        cert_findings, cert_facts, cert = check_sp_certificate(
            cert_data, cert_source, policy, cert_filename, now, expiry_warn_days)
        findings.extend(cert_findings)
        facts["certificate"] = cert_facts or None
    if key_data is not None:
        key_findings, key_facts = check_sp_key(key_data, key_source, passphrase, scope,
                                               key_filename, cert, policy)
        findings.extend(key_findings)
        facts["key"] = key_facts or None
    return findings, facts


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
SP_ACS_PATH = "/wg/saml/SSO/index.html"
SP_SLO_PATH = "/wg/saml/SingleLogout/index.html"
SITE_SP_PATH = "/samlservice/public/sp/metadata?alias="
_USABLE_SSO = ("HTTP-POST", "HTTP-Redirect")


def _md(tag):
    return "{%s}%s" % (NS["md"], tag)


def _ds(tag):
    return "{%s}%s" % (NS["ds"], tag)


def binding_name(uri):
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


def _read_metadata(data, source, max_bytes):
    """Root element of a metadata document; XmlError for broken or hostile XML."""
    root = parse_xml(data, source, max_bytes=max_bytes)
    if root.tag not in (_md("EntityDescriptor"), _md("EntitiesDescriptor")):
        return root, [finding("SAML-020", source=source, root=_qname(root))]
    return root, []


def _qname(element):
    from ansible_collections.trustops.tableau.plugins.module_utils.xml import qname
    return qname(element)


def _entities(root):
    if root.tag == _md("EntityDescriptor"):
        return [root]
    return list(root.iter(_md("EntityDescriptor")))


def _select_entity(root, role, entity_id, source):
    """(entity or None, [entityIDs of entities with the role], findings)."""
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


def verify_enveloped_signature(element, trusted_certs, source="<input>"):
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
        raise SignatureCoverageError("the signature has %d references, expected exactly one" % len(refs))
    if refs[0] not in ("", "#%s" % element_id) or (refs[0] and not element_id):
        raise SignatureCoverageError("the signature references %r, not the signed element (ID %r)" % (refs[0], element_id))
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
    for node in signature.iterfind("%s/%s/%s" % (_ds("KeyInfo"), _ds("X509Data"), _ds("X509Certificate"))):
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
        cert, encoding = xmlsig.x509_certificate(der_b64, "%s signing certificate #%d" % (source, index))
        facts = _cert_facts(cert, now)
    except (ValueError, CertificateError) as exc:
        return [finding("SAML-033", source=source, index=index, detail=_short(exc))], None, None
    if encoding == xmlsig.PEM:
        findings.append(finding("SAML-046", source=source, where="signing certificate #%d" % index))
    subject = _label(facts)
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
    state = _validity_state(cert, now)
    if state:
        findings.append(finding("SAML-038", source=source, subject=subject, state=state[0], when=state[1]))
    return findings, facts, cert


def _signing_key_infos(descriptor):
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


def check_idp_metadata(data, source="<idp metadata>", policy=None, trusted_signers=None,
                       entity_id=None, now=None, max_bytes=DEFAULT_MAX_BYTES):
    """Check IdP metadata against Tableau's rules; returns ``(findings, facts)``.

    ``trusted_signers``: certificates (objects or PEM/DER data) of which one must have signed
    the metadata; when given, the facts and rules are read from the element signxml verified.
    Broken or hostile XML raises XmlError.
    """
    policy = policy or Policy()
    now = _utcnow(now)
    trusted = _load_trusted(trusted_signers)
    root, findings = _read_metadata(data, source, max_bytes)
    facts = {"entity_id": None, "entity_ids": [], "sso_services": [], "slo_services": [],
             "bindings": [], "signing_certificates": [], "signed": False,
             "signature_verified": None, "signature": None, "valid_until": None}
    if findings:
        return findings, facts
    entity, ids, select_findings = _select_entity(root, "IDPSSODescriptor", entity_id, source)
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
                                        signer=", ".join(_cert_subject(c) for c in trusted)))
            else:
                facts["signature_verified"] = True
                facts["signature"]["signer_sha256"] = fingerprint(signer)
                expired = _validity_state(signer, now)
                if expired:
                    findings.append(finding("SAML-045", source=source, signer=_cert_subject(signer),
                                            state=expired[0], when=expired[1]))
                if signed_element is root:
                    root = verified
                    entity, _ids, _f = _select_entity(root, "IDPSSODescriptor", entity_id, source)
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
    encoded = _signing_key_infos(idp)
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
    parts = _urlsplit(location)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return "the Location %r, which is not an absolute http(s) URL" % location
    return None


def _urlsplit(url):
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return parts


# --------------------------------------------------------------------------- SP side

_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)(:[0-9]{1,5})?$")


def check_server_host(host):
    """The host (and optional :port) users type for Tableau Server; SamlError when it is a
    URL or not a host name."""
    if not isinstance(host, str) or not _HOST_RE.match(host.strip()) or host != host.strip():
        raise SamlError("server_host must be a host name with an optional :port (no scheme or path), "
                        "not %r" % (host,))
    return host


def expected_acs_url(server_host, scope="server", site_alias=None):
    """``https://<host>/wg/saml/SSO/index.html``, or the site SAML endpoint for ``scope=site``."""
    check_server_host(server_host)
    if scope == "site":
        if not site_alias:
            raise SamlError("site SAML needs site_alias (the site's URL name)")
        return "https://%s%s%s" % (server_host, SITE_SP_PATH, site_alias)
    return "https://%s%s" % (server_host, SP_ACS_PATH)


def expected_slo_url(server_host):
    check_server_host(server_host)
    return "https://%s%s" % (server_host, SP_SLO_PATH)


def describe_difference(expected, actual, limit=5):
    """Where two strings differ, character by character: ``at 27: 'S' expected, 's' found
    (case only)``; positions count from 1 in ``actual``."""
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    parts = []
    for op, e1, e2, a1, a2 in matcher.get_opcodes():
        if op == "equal":
            continue
        want, got = expected[e1:e2], actual[a1:a2]
        if op == "replace":
            text = "at %d: %r expected, %r found" % (a1 + 1, want, got)
            if want.lower() == got.lower():
                text += " (differs in case only)"
        elif op == "delete":
            text = "at %d: %r missing" % (a1 + 1, want)
        else:
            text = "at %d: %r extra" % (a1 + 1, got)
        parts.append(text)
    if not parts:
        return "identical"
    more = len(parts) - limit
    return "; ".join(parts[:limit]) + ("; and %d more" % more if more > 0 else "")


def _compare_url(code, where, expected, actual, **extra):
    if actual == expected:
        return []
    return [finding(code, where=where, expected=expected, actual=actual,
                    difference=describe_difference(expected, actual), **extra)]


def check_return_url(url):
    """Findings for the return URL (tsm --return-url): absolute, not localhost, no trailing /."""
    parts = _urlsplit(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return [finding("SAML-053", url=url)]
    findings = []
    host = parts.hostname.lower().rstrip(".")
    loopback = host == "localhost" or host.endswith(".localhost")
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        pass
    if loopback:
        findings.append(finding("SAML-052", url=url, host=parts.hostname))
    if url.endswith("/"):
        findings.append(finding("SAML-051", url=url, suggestion=url.rstrip("/")))
    return findings


def check_sp_urls(server_host=None, scope="server", site_alias=None, acs_url=None, slo_url=None,
                  return_url=None):
    """The URLs configured on the IdP (``acs_url``, ``slo_url``) against what Tableau Server
    expects for ``server_host``, and the return URL.  Returns ``(findings, facts)``."""
    findings = []
    facts = {}
    if server_host is not None:
        facts["expected_acs_url"] = expected_acs_url(server_host, scope, site_alias)
        facts["expected_slo_url"] = expected_slo_url(server_host)
    if acs_url is not None:
        if server_host is None:
            raise SamlError("acs_url is compared with the URL expected for server_host; give server_host")
        if scope == "site":
            findings.extend(_compare_url("SAML-054", "IdP configuration", facts["expected_acs_url"],
                                         acs_url, site_alias=site_alias))
            if acs_url.lower().startswith("http://"):
                findings.append(finding("SAML-055", where="IdP configuration", url=acs_url))
        else:
            findings.extend(_compare_url("SAML-050", "IdP configuration", facts["expected_acs_url"], acs_url))
    if slo_url is not None:
        if server_host is None:
            raise SamlError("slo_url is compared with the URL expected for server_host; give server_host")
        findings.extend(_compare_url("SAML-058", "IdP configuration", facts["expected_slo_url"], slo_url))
    if return_url is not None:
        findings.extend(check_return_url(return_url))
        if scope == "site" and return_url.lower().startswith("http://"):
            findings.append(finding("SAML-055", where="return URL", url=return_url))
    return findings, facts


def check_sp_metadata(data, source="<sp metadata>", server_host=None, scope="server", site_alias=None,
                      max_bytes=DEFAULT_MAX_BYTES):
    """Check the SP (Tableau Server) metadata: ACS with HTTP-POST, its URL, SLO.
    Returns ``(findings, facts)``; broken XML raises XmlError."""
    root, findings = _read_metadata(data, source, max_bytes)
    facts = {"sp_entity_id": None, "acs_services": [], "sp_slo_services": []}
    if findings:
        return findings, facts
    entity, _ids, select_findings = _select_entity(root, "SPSSODescriptor", None, source)
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
            findings.extend(_compare_url(code, source, expected, closest, **extra))
        if scope == "server" and slo:
            expected_slo = expected_slo_url(server_host)
            slo_locations = [s["location"] or "" for s in slo]
            if expected_slo not in slo_locations:
                closest = max(slo_locations, key=lambda loc: difflib.SequenceMatcher(None, expected_slo, loc).ratio())
                findings.extend(_compare_url("SAML-058", source, expected_slo, closest))
    if scope == "site":
        for service in acs:
            if (service["location"] or "").lower().startswith("http://"):
                findings.append(finding("SAML-055", where=source, url=service["location"]))
    return findings, facts
