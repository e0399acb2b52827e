# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAML rule registry: :class:`Rule`, :data:`RULES`, :func:`finding` and the ``SAML-0NN`` codes.

Every checkable sentence of Tableau's "SAML Requirements" page (seed 002) is a :class:`Rule` with
a code (``SAML-0NN`` for the SP certificate, SP key, IdP/SP metadata and URLs, registered here;
``SAML-1NN`` for assertions and responses, registered by :mod:`.response`), a severity, a message
template, a remedy and, where Tableau has one, the TSM configuration key that relaxes it.  The
checks (:mod:`.sp`, :mod:`.metadata`, :mod:`.urls`, :mod:`.response`) make their findings only
through :func:`finding`, so a code's text lives here once.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils.findings import (  # noqa: F401 (Rule: re-exported for the SAML checks)
    Registry,
    Rule,
    TrustopsError,
)
from ansible_collections.trustops.tableau.plugins.module_utils import policy, reader


class SamlError(TrustopsError):
    """SAML input that cannot be checked at all (as opposed to a policy finding)."""


class SignatureInvalid(SamlError):
    """An XML signature that does not verify with any trusted certificate."""


class SignatureCoverageError(SamlError):
    """An XML signature that does not cover the element that is read (wrapping, duplicate IDs)."""


#: The SAML rules (``SAML-0NN`` here, ``SAML-1NN`` registered by :mod:`.response`).
REGISTRY = Registry("SAML", "SAML", "seed 002 (SAML Requirements)")
RULES = REGISTRY.rules
register = REGISTRY.register
finding = REGISTRY.finding


#: The one key-size/digest policy (:mod:`policy`): unknown digest names and negative sizes raise
#: ``policy.PolicyError`` (a TrustopsError).  No option of the SAML checks takes key type names.
Policy = policy.Policy
#: ``SHA-1``, ``RSA-SHA1`` and ``http://www.w3.org/2000/09/xmldsig#rsa-sha1`` all give ``sha1``.
normalise_digest = policy.digest_of_algorithm


def xml_cap(max_bytes):
    """The cap of the XML inputs of a module with a ``max_bytes`` option: that value, which may
    lower the collection's cap for XML (``reader.MAX_XML``, docs/inputs.md) but not raise it;
    anything else raises SamlError."""
    if max_bytes is None or max_bytes <= 0:
        raise SamlError(f"max_bytes: {max_bytes!r} is not a positive number of bytes")
    if max_bytes > reader.MAX_XML:
        raise SamlError("max_bytes: %d is above the cap for XML inputs (%d bytes, docs/inputs.md); give %d "
                        "or less" % (max_bytes, reader.MAX_XML, reader.MAX_XML))
    return max_bytes


#: argument_spec entries matching doc fragments trustops.tableau.policy and trustops.tableau.saml_policy
POLICY_ARGUMENT_SPEC = dict(policy.argument_spec(), fail_on={
    "type": "str", "choices": ["error", "warning", "never"], "default": "error"})


# --------------------------------------------------------------------------- the rules

BLOCKLIST_KEY = "wgserver.saml.blocklisted_digest_algorithms"
RSA_KEY = "wgserver.saml.min_allowed.rsa_key_size"
EC_KEY = "wgserver.saml.min_allowed.elliptic_curve_size"

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
         "Reissue the certificate with SHA-256 or stronger", tsm_key=BLOCKLIST_KEY, seed=_S_DIGEST),
    Rule("SAML-006", "error", "{source}: the certificate has an RSA key of {size} bits; Tableau "
         "Server requires at least {minimum}",
         "Reissue the certificate with an RSA key of at least {minimum} bits", tsm_key=RSA_KEY,
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
         tsm_key=RSA_KEY, seed=_S_SIZES),
    Rule("SAML-035", "error", "{source}: IdP signing certificate {subject} uses the {size}-bit curve "
         "{curve}; Tableau Server requires at least {minimum}",
         "Have the IdP sign with EC P-256 or larger (or RSA 2048)", tsm_key=EC_KEY, seed=_S_SIZES),
    Rule("SAML-036", "error", "{source}: IdP signing certificate {subject} has a {key_type} key; "
         "Tableau Server accepts RSA or ECDSA IdP certificates",
         "Have the IdP sign with RSA 2048 or EC P-256", seed=_S_SIZES),
    Rule("SAML-037", "error", "{source}: IdP signing certificate {subject} is signed with {digest} "
         "(blocklisted digests: {blocklist})",
         "Have the IdP use a certificate signed with SHA-256 or stronger", tsm_key=BLOCKLIST_KEY,
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
         tsm_key=BLOCKLIST_KEY, seed=_S_DIGEST),
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
