# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAML rule registry: :data:`REGISTRY` (``SAML-NNN``), :class:`Seed` and the ``SAML-0NN`` rules.

Every checkable sentence of Tableau's "SAML Requirements" page (seed 002) is a :class:`Rule` with
a code, a severity, message and remedy templates, a short title, the sentence it enforces
(:class:`Seed`, verbatim) and, where Tableau has one, the TSM configuration key that relaxes it.
The rules of one layer are registered in one statement, ``<LAYER>_RULES = REGISTRY.register(...)``:
:data:`CONFIGURATION_RULES` here (``SAML-0NN``: SP certificate and key, IdP/SP metadata, URLs) and
``RESPONSE_RULES`` in :mod:`.response` (``SAML-1NN``: responses and assertions; importing
:mod:`.response` registers them).  The checks (:mod:`.sp`, :mod:`.metadata`, :mod:`.urls`,
:mod:`.response`) make their findings only through :func:`finding` (``REGISTRY.finding``), so a
code's text lives here once and the finding catalogue is generated from :data:`REGISTRY`.

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
finding = REGISTRY.finding


#: The one key-size/digest policy (:mod:`policy`): unknown digest names and negative sizes raise
#: ``policy.PolicyError`` (a TrustopsError).  No option of the SAML checks takes key type names.
Policy = policy.Policy
#: The digest of a name or an XML-DSig/XML-Enc algorithm URI: ``SHA-1``, ``RSA-SHA1`` and
#: ``http://www.w3.org/2000/09/xmldsig#rsa-sha1`` all give ``sha1`` (:func:`policy.digest_of_algorithm`).
normalize_digest = policy.digest_of_algorithm


def xml_cap(max_bytes: int | None) -> int:
    """The cap of the XML inputs of a module with a ``max_bytes`` option: that value, which may
    lower the collection's cap for XML (``reader.MAX_XML``, docs/inputs.md) but not raise it;
    anything else raises SamlError."""
    if max_bytes is None or max_bytes <= 0:
        raise SamlError(f"max_bytes: {max_bytes!r} is not a positive number of bytes")
    if max_bytes > reader.MAX_XML:
        raise SamlError(f"max_bytes: {max_bytes} is above the cap for XML inputs ({reader.MAX_XML} bytes, "
                        f"docs/inputs.md); give {reader.MAX_XML} or less")
    return max_bytes


#: argument_spec entries matching doc fragments trustops.tableau.policy and trustops.tableau.saml_policy
POLICY_ARGUMENT_SPEC = dict(policy.argument_spec(), fail_on={
    "type": "str", "choices": ["error", "warning", "never"], "default": "error"})


# --------------------------------------------------------------------------- the rules

BLOCKLIST_KEY = "wgserver.saml.blocklisted_digest_algorithms"
RSA_KEY = "wgserver.saml.min_allowed.rsa_key_size"
EC_KEY = "wgserver.saml.min_allowed.elliptic_curve_size"
AUTHCONTEXTS_KEY = "wgserver.saml.authcontexts"

#: How the ``seed`` of a rule begins when no sentence of the vendor article states it.
NOT_VENDOR = "Not a vendor rule:"


class Seed:
    """The sentences of Tableau's "SAML Requirements" page (seed 002) the SAML rules enforce,
    verbatim (white space folded; a unit test finds each one in the seed), for the rules of this
    module and of :mod:`.response`.  A rule's ``seed`` is one of them or several joined by a
    space; a rule that no sentence of the seed states has a ``seed`` starting with
    :data:`NOT_VENDOR` that says where it comes from instead."""

    CERT_FILE = ("Certificate file. A PEM-encoded x509 certificate file with a .crt extension. This "
                 "file is used by Tableau Server, not the IdP.")
    ONLY_CERT = ("Confirm that the certificate includes only the certificate that applies to Tableau "
                 "Server and not any other certificates or keys.")
    DIGEST = ("The certificate must use a secure signature algorithm, for example SHA-256. If you "
              "attempt to configure Tableau Server for SAML with a certificate that uses SHA-1 "
              "signature hash, Tableau Server will reject the certificate.")
    SIZES = ("The Tableau Server certificate must have an RSA key strength of 2048, and the IdP "
             "certificate must have either an RSA key strength of 2048 or ECDSA curve size of 256.")
    SIZES_RELAX = ("You can configure Tableau Server to accept the less-secure sizes by setting the "
                   "respective configuration keys, wgserver.saml.min_allowed.rsa_key_size and "
                   "wgserver.saml.min_allowed.elliptic_curve_size.")
    KEY_FILE = ("Certificate key file. An RSA or DSA private key file that has the .key extension. "
                "RSA keys must be in in PKCS#1 or PKCS#8 format.")
    PKCS1_PW = "The PKCS#1 RSA key file cannot be password protected."
    PKCS8_PW = ("To use a password-protected key file, you must configure SAML with a RSA PKCS#8 "
                "file. Note: A PKCS#8 file with a null password is not supported.")
    SITE_PW = "Password-protected key files are not supported in site-specific SAML deployments."
    PAIR = ("Tableau Server requires a certificate-key pair to sign the request that is sent to "
            "the IdP.")
    BINDINGS = ("Tableau Server supports HTTP POST and HTTP REDIRECT requests for SAML "
                "communications. In the SAML metadata XML document that is exported by the IdP, "
                "the Binding attribute can be set to HTTP-POST or HTTP-REDIRECT.")
    SSO = ("Verify that the metadata XML from the IdP includes a SingleSignOnService element, in "
           "which the binding is set to HTTP-POST")
    SLO = ("If this element is not in the IdP metadata, Tableau Server cannot negotiate a logout "
           "endpoint with the IdP and the SAML Logout feature will not be available within "
           "Tableau Server")
    IDP_XML = ("IdP provider that supports import and export of XML metadata. Although a manually "
               "created metadata file might work, Tableau Technical Support cannot assist with "
               "generating the file or troubleshooting it.")
    SAML2 = "IdP account that supports SAML 2.0 or later."
    VERIFY = ("Tableau Server verifies the AuthNResponse by using the signature produced by the "
              "IdP. The IdP certificate metadata is provided to Tableau Server as part of the "
              "initial SAML configuration process.")
    CASE = ("SAML configurations, both with the IdP and on Tableau Server, are case sensitive. For "
            "example, URLs configured with the IdP and on Tableau Server must match exactly.")
    LOGIN = ("For users to be able to sign in, your IdP must be configured with SAML Login "
             "endpoint that sends a POST request to the following URL: "
             "https://<tableauserver>/wg/saml/SSO/index.html.")
    LOGOUT = ("To enable users to sign out after signing in with SAML (single logout, or SLO), "
              "your IdP must be configured with a SAML Logout endpoint that sends a POST request "
              "to the following URL: https://<tableauserver>/wg/saml/SingleLogout/index.html.")
    SITE_ACS = "For Site SAML, the Location endpoint is /samlservice/public/sp/metadata?alias=<site alias>."
    ACS_ELEMENT = ("The element that specifies the URL that the IdP redirects to after successful "
                   "authentication. This is required in the Service Provider metadata, not the "
                   "Identity Provider metadata.")
    ENC_SERVER = ("Server-wide SAML: When Tableau Server is configured for server-wide SAML, Tableau "
                  "Server supports encrypted assertions from the IdP. Encryption assertions are "
                  "enabled by the certificate that you upload as part of the initial configuration "
                  "for server-wide SAML.")
    ENC_SITE = ("Site-specific SAML: When Tableau Server is configured for site-specific SAML, "
                "Tableau Server does not support encrypted assertions from the IdP.")
    SITE_HTTPS = ("However, all SAML requests and responses are sent over HTTPS to secure "
                  "communication with the IdP. HTTP requests and responses are not supported.")
    # the IdP's response (SAML-1NN, registered by .response)
    UTF8 = "Assertions encoding: Assertions must be UTF-8 encoded."
    VALIDATES = "Tableau Server validates the SAML response message returned from the IdP."
    SHA1 = ("IdP must sign SAML assertions with a secure signature algorithm. By default, Tableau "
            "Server will reject SAML assertions signed with the SHA-1 algorithm. You can configure "
            "Tableau Server to accept assertions signed with the less-secure SHA-1 hash by setting "
            "the tsm wgserver.saml.blocklisted_digest_algorithms configuration key.")
    USERNAME = ("Attribute named username: You must configure the IdP to return an assertion that "
                "includes the username attribute in the saml:AttributeStatement element.")
    MAP = ("To change the SAML attribute that passes the username value, run the following TSM "
           "command: tsm authentication saml map-assertions --user-name <USER-NAME>.")
    TYPE = "The assertion\u2019s attribute type must be xs:string (it should not be typed as xs:any)."
    MATCH = ("Matching usernames: The user name stored in Tableau Server must match the configured "
             "user name attribute sent by the IdP in the SAML assertion.")
    EMAIL = ("When using a local identity store, it is important that you use a username that has "
             "email address formatting.")
    AUTHN = ("When this attribute is set, Tableau Server validates that the SAML response contains "
             "at least one of the values listed. If the SAML response does not contain one of the "
             "configured values, authentication will be rejected, even if the user has successfully "
             "authenticated with the IdP.")
    AUTHN_SITE = ("This value is only evaluated for server-wide SAML. If site-SAML is configured, the "
                  "AuthNContextClassRef attribute will be ignored.")
    GROUPS = ("When configured, during user authentication, the IdP sends the SAML assertion that "
              "contains two custom group membership claims: group (https://tableau.com/groups) and "
              "group names (for example, \"Group1\" and \"Group2\") to assert the user into.")
    RELAY = ("If the user has signed in to Tableau Server from a Tableau client such as Tableau "
             "Desktop or Tableau Mobile, it\u2019s important that the RelayState value is returned "
             "within the IdP\u2019s SAML response back to Tableau.")


#: The ``seed`` of the return URL rules, which no sentence of seed 002 states.
_RETURN_URL = (NOT_VENDOR + " seed 002 has no sentence on the return URL (tsm authentication saml "
               "configure --idp-return-url); the collection checks that it is the absolute URL users "
               "reach Tableau Server at, as the URLs Tableau Server builds from it must match the "
               "IdP's exactly.")


CONFIGURATION_RULES = REGISTRY.register(
    # SP certificate
    Rule("SAML-001", "error", "{source}: the SAML certificate file name does not end in .crt",
         "Rename or copy the certificate to a file name ending in .crt before giving it to TSM "
         "(tsm authentication saml configure --cert-file <name>.crt)", seed=Seed.CERT_FILE,
         title="Certificate file name does not end in .crt"),
    Rule("SAML-002", "error", "{source}: not a PEM-encoded X.509 certificate ({detail})",
         "Give Tableau a PEM certificate (-----BEGIN CERTIFICATE-----); convert DER with "
         "openssl x509 -inform der -in {source} -out saml.crt", seed=Seed.CERT_FILE,
         title="Certificate is not a PEM X.509 certificate"),
    Rule("SAML-003", "error", "{source}: holds {count} certificates; the SAML certificate file must "
         "hold only the Tableau Server certificate",
         "Keep only the Tableau Server certificate in the .crt file (remove intermediate and root "
         "certificates)", seed=Seed.ONLY_CERT,
         title="Several certificates in the certificate file"),
    Rule("SAML-004", "error", "{source}: holds {labels} {where}",
         "Remove every block but the Tableau Server certificate from the .crt file; keep the "
         "private key in its own .key file", seed=Seed.ONLY_CERT,
         title="Other blocks in the certificate file"),
    Rule("SAML-005", "error", "{source}: the certificate is signed with {digest}, which Tableau "
         "Server rejects (blocklisted digests: {blocklist})",
         "Reissue the certificate with SHA-256 or stronger", tsm_key=BLOCKLIST_KEY, seed=Seed.DIGEST,
         title="SP certificate signed with a blocklisted digest"),
    Rule("SAML-006", "error", "{source}: the certificate has an RSA key of {size} bits; Tableau "
         "Server requires at least {minimum}",
         "Reissue the certificate with an RSA key of at least {minimum} bits", tsm_key=RSA_KEY,
         seed=Seed.SIZES,
         title="SP certificate RSA key too small"),
    Rule("SAML-007", "error", "{source}: the certificate has a {key_type} key{ec_size}; the Tableau "
         "Server SAML certificate must have an RSA (or DSA) key",
         "Reissue the certificate with an RSA 2048-bit (or larger) key", seed=Seed.SIZES + " " + Seed.KEY_FILE,
         title="SP certificate key is not RSA or DSA"),
    Rule("SAML-008", "error", "{source}: the certificate {state} ({when})",
         "Renew the SAML certificate and configure the new pair with TSM",
         seed=Seed.PAIR,
         title="SP certificate expired or not yet valid"),
    Rule("SAML-009", "warning", "{source}: the certificate expires in {days} days ({when})",
         "Renew the SAML certificate before it expires; the IdP must be given the new SP metadata",
         seed=Seed.PAIR,
         title="SP certificate expires soon"),
    # SP key
    Rule("SAML-010", "error", "{source}: the SAML key file name does not end in .key",
         "Rename or copy the key to a file name ending in .key before giving it to TSM "
         "(tsm authentication saml configure --key-file <name>.key)", seed=Seed.KEY_FILE,
         title="Key file name does not end in .key"),
    Rule("SAML-011", "error", "{source}: not a readable private key ({detail})",
         "Give the RSA private key of the SAML certificate, PEM, in PKCS#1 (or encrypted PKCS#8) "
         "format", seed=Seed.KEY_FILE,
         title="Key file is not a readable private key"),
    Rule("SAML-012", "error", "{source}: the key is {key_type}{ec_size}; Tableau Server accepts RSA or "
         "DSA SAML keys", "Tableau Server takes RSA (or DSA) SAML keys. {how_to}",
         seed=Seed.KEY_FILE,
         title="SP key is not RSA or DSA"),
    Rule("SAML-013", "error", "{source}: the key is in {format} format; Tableau Server reads PKCS#1 "
         "or PKCS#8 keys", "Tableau Server reads PEM keys in PKCS#1 or PKCS#8 format. {how_to}",
         seed=Seed.KEY_FILE,
         title="SP key is neither PKCS#1 nor PKCS#8"),
    Rule("SAML-014", "error", "{source}: the PKCS#1 {key_type} key is password protected; Tableau "
         "Server cannot use a password-protected PKCS#1 key",
         "A PKCS#1 key must not have a password. {how_to}",
         seed=Seed.PKCS1_PW,
         title="Password-protected PKCS#1 key"),
    Rule("SAML-015", "error", "{source}: the password-protected PKCS#8 key is {key_type}; a "
         "password-protected SAML key must be RSA PKCS#8",
         "A password-protected SAML key must be RSA PKCS#8. {how_to}",
         seed=Seed.PKCS8_PW,
         title="Password-protected PKCS#8 key is not RSA"),
    Rule("SAML-016", "error", "{source}: PKCS#8 key {how}; Tableau Server does not support a PKCS#8 "
         "key file with no or a null password",
         "Tableau Server takes a PKCS#8 key only with a non-empty password, and only for server-wide "
         "SAML. {how_to}",
         seed=Seed.PKCS8_PW,
         title="PKCS#8 key with no or an empty password"),
    Rule("SAML-017", "error", "{source}: the key is password protected, which site-specific SAML "
         "does not support", "Site SAML takes unencrypted keys only. {how_to}",
         seed=Seed.SITE_PW,
         title="Password-protected key for site SAML"),
    Rule("SAML-018", "error", "{source}: {detail}",
         "Give the passphrase of the key (it is needed by TSM as well: tsm authentication saml "
         "configure --key-file ... with the passphrase)", seed=Seed.PKCS8_PW,
         title="Wrong or missing key passphrase"),
    Rule("SAML-019", "error", "{source}: the private key does not belong to the certificate "
         "{subject} (certificate key {cert_key}, private key {key})",
         "Give the key the certificate was issued for; compare openssl x509 -noout -pubkey and "
         "openssl pkey -pubout", seed=Seed.PAIR,
         title="Key does not belong to the certificate"),
    # IdP metadata
    Rule("SAML-020", "error", "{source}: not SAML 2.0 metadata (root element {root})",
         "Export the metadata XML from the IdP (an md:EntityDescriptor)", seed=Seed.IDP_XML,
         title="Not SAML 2.0 metadata"),
    Rule("SAML-021", "error", "{source}: entity {entity_id} has no IDPSSODescriptor",
         "Give the IdP's metadata, not the SP's (it must contain md:IDPSSODescriptor)",
         seed=Seed.SSO,
         title="No IDPSSODescriptor"),
    Rule("SAML-022", "error", "{source}: holds {count} IdP entities ({entity_ids}); Tableau Server "
         "takes the metadata of one IdP",
         "Export the metadata of the one IdP (application) for Tableau, or set entity_id to choose "
         "one", seed=Seed.IDP_XML,
         title="Several IdP entities"),
    Rule("SAML-023", "error", "{source}: no IdP entity with entityID {entity_id} (found: {entity_ids})",
         "Check the entity_id (case sensitive)", seed=Seed.CASE,
         title="No IdP entity with the given entityID"),
    Rule("SAML-024", "error", "{source}: entity {entity_id} has {count} IDPSSODescriptor elements; "
         "the one Tableau would use is ambiguous",
         "Export metadata with one IDPSSODescriptor for the Tableau application", seed=Seed.IDP_XML,
         title="Several IDPSSODescriptor elements"),
    Rule("SAML-025", "error", "{source}: the IdP EntityDescriptor has no entityID",
         "Export the metadata from the IdP again; entityID is required", seed=Seed.IDP_XML,
         title="IdP entity without entityID"),
    Rule("SAML-026", "error", "{source}: the IDPSSODescriptor does not announce SAML 2.0 "
         "(protocolSupportEnumeration: {protocols})",
         "Use an IdP application that supports SAML 2.0", seed=Seed.SAML2,
         title="IdP does not announce SAML 2.0"),
    Rule("SAML-027", "error", "{source}: no SingleSignOnService with the HTTP-POST or HTTP-Redirect "
         "binding (offered: {bindings})",
         "Enable the HTTP-POST (or HTTP-Redirect) SSO binding on the IdP; Tableau cannot use "
         "SOAP or Artifact. Older Tableau troubleshooting pages say HTTP-POST only, so prefer "
         "HTTP-POST", seed=Seed.BINDINGS,
         title="No HTTP-POST or HTTP-Redirect sign-on binding"),
    Rule("SAML-028", "info", "{source}: SingleSignOnService offers HTTP-Redirect but not HTTP-POST",
         "Current Tableau Server supports both; older Tableau troubleshooting pages say HTTP-POST "
         "only, so if sign-in fails on an older release enable HTTP-POST on the IdP",
         seed=Seed.BINDINGS + " " + Seed.SSO,
         title="Sign-on over HTTP-Redirect only"),
    Rule("SAML-029", "error", "{source}: {element} with binding {binding} has {problem}",
         "Fix the Location of the endpoint in the IdP metadata (an absolute https URL)",
         seed=Seed.SSO,
         title="Endpoint without an absolute http(s) Location"),
    Rule("SAML-030", "warning", "{source}: no SingleLogoutService; single logout (SLO) will not be "
         "available in Tableau Server",
         "Enable single logout on the IdP and export the metadata again if users should be signed "
         "out of the IdP", seed=Seed.SLO,
         title="No single logout service"),
    Rule("SAML-031", "info", "{source}: SingleLogoutService is offered with {bindings}, not HTTP-POST",
         "Tableau's documented logout element uses the HTTP-POST binding; check that logout works",
         seed=Seed.SLO,
         title="Single logout not offered over HTTP-POST"),
    Rule("SAML-032", "error", "{source}: the IDPSSODescriptor has no signing certificate",
         "Export the metadata with the IdP's signing certificate (KeyDescriptor use=\"signing\")",
         seed=Seed.VERIFY,
         title="No IdP signing certificate"),
    Rule("SAML-033", "error", "{source}: signing certificate #{index} cannot be read ({detail})",
         "Export the metadata from the IdP again", seed=Seed.VERIFY,
         title="IdP signing certificate unreadable"),
    Rule("SAML-034", "error", "{source}: IdP signing certificate {subject} has an RSA key of {size} "
         "bits; Tableau Server requires at least {minimum}",
         "Have the IdP sign with an RSA key of at least {minimum} bits (or EC P-256)",
         tsm_key=RSA_KEY, seed=Seed.SIZES,
         title="IdP certificate RSA key too small"),
    Rule("SAML-035", "error", "{source}: IdP signing certificate {subject} uses the {size}-bit curve "
         "{curve}; Tableau Server requires at least {minimum}",
         "Have the IdP sign with EC P-256 or larger (or RSA 2048)", tsm_key=EC_KEY, seed=Seed.SIZES,
         title="IdP certificate EC curve too small"),
    Rule("SAML-036", "error", "{source}: IdP signing certificate {subject} has a {key_type} key; "
         "Tableau Server accepts RSA or ECDSA IdP certificates",
         "Have the IdP sign with RSA 2048 or EC P-256", seed=Seed.SIZES,
         title="IdP certificate key is not RSA or ECDSA"),
    Rule("SAML-037", "error", "{source}: IdP signing certificate {subject} is signed with {digest} "
         "(blocklisted digests: {blocklist})",
         "Have the IdP use a certificate signed with SHA-256 or stronger", tsm_key=BLOCKLIST_KEY,
         seed=Seed.DIGEST,
         title="IdP certificate signed with a blocklisted digest"),
    Rule("SAML-038", "warning", "{source}: IdP signing certificate {subject} {state} ({when})",
         "Renew the IdP signing certificate and import the new metadata into Tableau Server",
         seed=Seed.VERIFY,
         title="IdP certificate expired or not yet valid"),
    Rule("SAML-039", "warning", "{source}: the metadata was valid until {valid_until}",
         "Export fresh metadata from the IdP", seed=Seed.IDP_XML,
         title="Metadata past its validUntil"),
    # metadata signature
    Rule("SAML-040", "error", "{source}: a trusted signer was given but the metadata is not signed",
         "Export signed metadata from the IdP, or do not require a signature", seed=Seed.VERIFY,
         title="Metadata not signed"),
    Rule("SAML-041", "error", "{source}: the metadata signature does not verify with the trusted "
         "signer {signer} ({detail})",
         "Fetch the metadata again from the IdP and check which certificate signs it", seed=Seed.VERIFY,
         title="Metadata signature does not verify"),
    Rule("SAML-042", "error", "{source}: the metadata signature uses {algorithm} ({what}), which is "
         "blocklisted ({blocklist})", "Have the IdP sign its metadata with SHA-256",
         tsm_key=BLOCKLIST_KEY, seed=Seed.DIGEST,
         title="Metadata signed with a blocklisted algorithm"),
    Rule("SAML-043", "error", "{source}: the metadata signature does not cover the element that is "
         "read ({detail})",
         "Do not use this file: a signature that covers another element than the one read is "
         "what signature-wrapping attacks look like", seed=Seed.VERIFY,
         title="Metadata signature does not cover what is read"),
    Rule("SAML-044", "info", "{source}: the metadata is signed but the signature was not verified "
         "(no trusted signer given)",
         "Give trusted_signer (the certificate the IdP signs its metadata with) to verify it",
         seed=Seed.VERIFY,
         title="Metadata signature not verified"),
    Rule("SAML-045", "warning", "{source}: the metadata signature verifies with the trusted signer "
         "{signer}, whose certificate {state} ({when})",
         "Nothing blocks the import: the signature is valid, and SAML metadata practice (the SAML V2.0 "
         "Metadata Interoperability Profile) trusts the signer's key, not its certificate's dates. Ask "
         "the IdP or federation for its renewed signing certificate and give it as trusted_signer "
         "before the key is rotated", seed=Seed.VERIFY,
         title="Metadata signer's certificate expired"),
    Rule("SAML-046", "warning", "{source}: the X509Certificate of {where} holds base64 of PEM text, "
         "not of a DER certificate as XML-DSig requires",
         "Export the metadata from the IdP again, or put only the base64 body of the certificate (the "
         "lines between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----, which encode the DER "
         "certificate) in the X509Certificate element: Tableau Server's importer may not accept the "
         "PEM form", seed=Seed.IDP_XML,
         title="PEM text in a metadata X509Certificate"),
    # SP side: URLs and SP metadata
    Rule("SAML-050", "error", "{where}: the AssertionConsumerService URL is {actual!r}, expected "
         "{expected!r}: {difference}",
         "Configure exactly {expected} on the IdP (URLs are case sensitive)", seed=Seed.CASE + " " + Seed.LOGIN,
         title="ACS URL differs from the expected one"),
    Rule("SAML-051", "error", "return URL {url!r} ends with a slash",
         "Give the return URL without the trailing slash, e.g. {suggestion}", seed=_RETURN_URL,
         title="Return URL ends with a slash"),
    Rule("SAML-052", "error", "return URL {url!r} points to {host}; users and the IdP cannot reach "
         "the server there", "Use the name users type to reach Tableau Server", seed=_RETURN_URL,
         title="Return URL points to a loopback host"),
    Rule("SAML-053", "error", "return URL {url!r} is not an absolute http(s) URL with a host",
         "Give the URL users reach Tableau Server at, e.g. https://tableau.example.com",
         seed=_RETURN_URL,
         title="Return URL is not an absolute http(s) URL"),
    Rule("SAML-054", "error", "{where}: the site SAML endpoint is {actual!r}, expected "
         "{expected!r}: {difference}",
         "Configure exactly {expected} on the IdP for site {site_alias} (case sensitive)",
         seed=Seed.SITE_ACS + " " + Seed.CASE,
         title="Site SAML endpoint differs from the expected one"),
    Rule("SAML-055", "error", "{where}: {url!r} uses http; site-specific SAML works over HTTPS only",
         "Use https:// URLs for site SAML", seed=Seed.ENC_SITE + " " + Seed.SITE_HTTPS,
         title="Site SAML URL over http"),
    Rule("SAML-056", "error", "{source}: the SP metadata has no AssertionConsumerService with the "
         "HTTP-POST binding", "Export the SP metadata from Tableau Server (tsm authentication saml "
         "export-metadata) and give that file", seed=Seed.ACS_ELEMENT,
         title="SP metadata without an HTTP-POST ACS"),
    Rule("SAML-057", "warning", "{source}: the SP metadata has no SingleLogoutService; single "
         "logout will not be available", "Export the SP metadata from Tableau Server again",
         seed=Seed.LOGOUT,
         title="SP metadata without single logout"),
    Rule("SAML-058", "error", "{where}: the SingleLogoutService URL is {actual!r}, expected "
         "{expected!r}: {difference}",
         "Configure exactly {expected} as the logout endpoint on the IdP (case sensitive)",
         seed=Seed.LOGOUT + " " + Seed.CASE,
         title="Logout URL differs from the expected one"),
    Rule("SAML-059", "error", "{source}: no SPSSODescriptor; this is not Service Provider metadata",
         "Give the SP metadata exported from Tableau Server", seed=Seed.ACS_ELEMENT,
         title="Not SP metadata"),
)
