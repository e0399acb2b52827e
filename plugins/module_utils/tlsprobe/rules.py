# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS rule registry: :data:`REGISTRY` and the ``TLS-0NN`` codes of the probe.

What Tableau Desktop (seed 001, "The certificate authority is invalid or incorrect") and Tableau
Mobile (seed 000, "the certificate provided by the server is untrusted") will say about a server's
certificate, one :class:`~findings.Rule` per code: severity, message and remedy templates, the
vendor sentence it enforces and a short title.  The checks (:func:`.analysis.analyze` and
:func:`.probe.probe`) make their findings only through :data:`REGISTRY`, so a code's text lives
here once; the finding catalogue is generated from it.

Where one code has several cases (TLS-001's self-signed server certificate, private root or
unknown issuer; TLS-003's short name), the case's sentence is a template here too (``*_REASON``,
``*_CONNECT``), filled by the check and passed as a field of the rule's message.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, Registry, Rule

__all__ = [
    "REGISTRY", "RULES", "finding",
    "DESKTOP_UNTRUSTED", "MOBILE_UNTRUSTED", "SYMPTOM", "REMEDY_INSTALL_CA", "REMEDY_CHAIN_FILE",
]

#: The TLS rules (seeds 000 and 001, as the clients see the server's certificate).
REGISTRY = Registry("TLS", "Client trust", "seeds 000 and 001")
RULES = REGISTRY.rules
register = REGISTRY.register

#: Template fields that only choose wording (a case of a message or remedy, below); they are not
#: facts and are left out of a finding's ``data``.
WORDING_FIELDS = frozenset(("reason", "connect", "chain_remedy", "root_remedy", "problem"))


def finding(code: str, severity: str | None = None, data: dict | None = None, **fields: Any) -> Finding:
    """The Finding of rule ``code`` (:meth:`Registry.finding`), its ``data`` without the wording fields."""
    result = REGISTRY.finding(code, severity=severity, data=data, **fields)
    for name in WORDING_FIELDS.intersection(fields).difference(data or {}):
        del result.data[name]
    return result


# --------------------------------------------------------------------------- what the clients say

DESKTOP_UNTRUSTED = ('Tableau Desktop: "Internet communication error: The certificate authority is '
                     'invalid or incorrect" / "Invalid certificate error"')
MOBILE_UNTRUSTED = ('Tableau Mobile: "the certificate provided by the server is untrusted" '
                    '(the app offers only http or the web browser)')
#: ``data.symptom`` of a finding that both clients show.
SYMPTOM = DESKTOP_UNTRUSTED + "; " + MOBILE_UNTRUSTED

REMEDY_INSTALL_CA = (
    "Install the issuing root CA as a trust anchor on every client: "
    "trustops.tableau.trust_anchor (Linux/macOS), trustops.tableau.win_trust_anchor (Windows "
    "LocalMachine\\Root, what Tableau Desktop uses) and trustops.tableau.mobile_trust_profile "
    "(iOS/Android); or use a certificate from a CA the devices already trust.")
REMEDY_CHAIN_FILE = (
    "Serve the full chain: tsm security external-ssl enable --cert-file <server.crt> "
    "--key-file <server.key> --chain-file <intermediates.crt>, then tsm pending-changes apply. "
    "Tableau Mobile on Android does not fetch missing intermediate certificates.")

# --------------------------------------------------------------------------- the seed sentences

#: How the ``seed`` of a rule begins when no sentence of the vendor articles states it.
NOT_VENDOR = "Not a vendor rule:"


class Seed:
    """The sentences of seeds 000 ("Connecting Tableau Mobile to Tableau Server Using SSL") and 001
    ("Internet communication error: The certificate authority is invalid or incorrect") the TLS
    rules enforce, verbatim (a unit test finds each one in its seed).  A rule's ``seed`` is one of
    them or several joined by a space; a rule that guards the probe itself has a ``seed`` starting
    with :data:`NOT_VENDOR` that says what it protects instead."""

    # seed 000: what Tableau Mobile does with a certificate it cannot verify
    UNTRUSTED_CA = ("When a server uses an SSL certificate issued by an untrusted CA, Tableau Mobile "
                    "cannot verify the certificate, so the app prevents you from connecting to the "
                    "server.")
    DIALOG = ("The URL you provided specifies an encrypted (https) connection, but the certificate "
              "provided by the server is untrusted.")
    CHAIN_FILE = ("Install the certificate chain file on the SSL tab in the Configure Tableau Server "
                  "utility.")
    # seed 001: what Tableau Desktop says, and its two causes
    CA_INVALID = "Internet communication error: The certificate authority is invalid or incorrect"
    INVALID_CERTIFICATE = "Invalid certificate error"
    NOT_TRUSTED = ("The SSL certificate is not signed by a trusted authority or is not installed in "
                   "your browser.")
    SHORT_NAME = ("You are trying to connect to Tableau Server using a short name or a URL that is "
                  "not the common name on the SSL certificate.")
    ISSUED_TO = ("When accessing Tableau Server, use the name listed in the \u201cIssued to\u201d "
                 "section of the certificate rather than the short name you used previously.")


#: A certificate the clients refuse, as each app says it (seed 000's dialog, seed 001's error).
_REFUSED = Seed.DIALOG + " " + Seed.INVALID_CERTIFICATE

# --------------------------------------------------------------------------- the cases of a code

#: TLS-001 ``reason``: the served chain ends at the server's own self-signed certificate.
UNTRUSTED_SELF_SIGNED_REASON = "the server's certificate {subject} is self-signed and not among the trust anchors"
#: TLS-001 ``reason``: the served chain ends at a (served) root that is no trust anchor.
UNTRUSTED_ROOT_REASON = "the served chain ends at the root {subject}, which is not among the trust anchors"
#: TLS-001 ``reason``: the served chain ends at an intermediate whose issuer is no trust anchor.
UNTRUSTED_ISSUER_REASON = ("the served chain ends at {subject}, issued by {issuer}, which is not among the trust "
                           "anchors (if {issuer} is itself an intermediate CA, the server must send it too)")
#: TLS-002 ``reason``: the chain is trusted on this host only because its anchors hold the intermediate.
INCOMPLETE_TRUSTED_REASON = ("{subject} is issued by {issuer}, which the server does not send; it is trusted "
                             "here only because the trust anchors hold that intermediate CA")
#: TLS-002 ``reason``: only the server's certificate is served and its issuer is no trust anchor.
INCOMPLETE_UNTRUSTED_REASON = ("the server sends only its own certificate, issued by {issuer}, which is not a "
                               "trust anchor. Either the server omits the intermediate CA certificate(s), or "
                               "{issuer} is a root CA these clients do not trust")
#: TLS-002 ``root_remedy`` when the missing issuer may be an untrusted root.
INCOMPLETE_ROOT_REMEDY = " If the issuer is a private root CA: " + REMEDY_INSTALL_CA
#: TLS-003 ``reason`` and ``connect`` for a short name whose FQDN is in the certificate (seed 001).
SHORT_NAME_REASON = "{host} is a short name and the certificate is issued to {issued_to}. Use the FQDN {fqdn}"
SHORT_NAME_CONNECT = ('Sign in to Tableau Server as https://{fqdn} (the name in the certificate\'s "Issued '
                      'to"), not the short name')
#: TLS-003 ``reason`` and ``connect`` for any other name.
OTHER_NAME_REASON = "it is issued to {issued_to}"
OTHER_NAME_CONNECT = "Connect with one of the names the certificate is issued to"
#: TLS-015 ``problem``: an EKU without serverAuth, or none at all (Apple's rule).
EKU_WITHOUT_SERVER_AUTH = "an ExtendedKeyUsage without serverAuth"
EKU_MISSING = ("no ExtendedKeyUsage; iOS 13+/macOS 10.15+ require serverAuth in certificates issued "
               "after 2019-07-01")

#: The ``seed`` of the rules that guard the probe itself (no sentence of seeds 000/001 states them).
_LEAF_ONLY = (NOT_VENDOR + " says that the probe could not read the served chain, so that an unknown "
              "completeness (TLS-002) is not taken for a complete one.")
_NO_TLS12 = (NOT_VENDOR + " says how the probe read the certificate when the server refuses its TLS 1.2 "
             "handshake (TLS 1.3 only, or no common cipher suite).")
_REFEREE = (NOT_VENDOR + " guards the probe itself; when OpenSSL, the independent referee, refuses a "
            "connection that no other check explains, the result is not green.")

# --------------------------------------------------------------------------- the rules

register(
    Rule("TLS-001", "error", "the certificate is not trusted: {reason}",
         REMEDY_INSTALL_CA + "{chain_remedy}",
         seed=Seed.CA_INVALID + " " + Seed.NOT_TRUSTED + " " + Seed.UNTRUSTED_CA, title="Untrusted root"),
    Rule("TLS-002", "error", "the served chain is incomplete: {reason}",
         REMEDY_CHAIN_FILE + "{root_remedy}",
         seed=Seed.CHAIN_FILE + " " + Seed.UNTRUSTED_CA, title="Incomplete chain (missing intermediate)"),
    Rule("TLS-003", "error", "the certificate is not issued to {host}: {reason}",
         "{connect}; or reissue the certificate with a subjectAltName for {host} (and every other name "
         "users type).",
         seed=Seed.SHORT_NAME + " " + Seed.ISSUED_TO, title="Not the name users type (short name)"),
    Rule("TLS-004", "error", "{host} matches only the legacy subject CN {cn}; the certificate has "
         "no subjectAltName, which Apple platforms (Tableau Mobile on iOS), Chrome and Android require",
         "Reissue the certificate with a subjectAltName DNS entry for every name users type (e.g. DNS:{host}).",
         seed=Seed.DIALOG + " " + Seed.SHORT_NAME, title="Name only in the legacy subject CN"),
    Rule("TLS-005", "error", "{subject} ({role}) is signed with {algorithm}, a blocklisted digest",
         "Reissue it signed with SHA-256 or stronger (Tableau's default "
         "wgserver.saml.blocklisted_digest_algorithms lists SHA1; modern clients reject SHA-1 signatures).",
         seed=_REFUSED, title="Blocklisted signature digest"),
    Rule("TLS-006", "error", "{subject} ({role}) expired on {date}",
         "Renew it and install the new certificate (tsm security external-ssl enable ...) or trust anchor.",
         seed=_REFUSED, title="Expired certificate"),
    Rule("TLS-007", "error", "{subject} ({role}) is not valid before {not_before}",
         "Check the clock of the server and the clients, or wait until the certificate is valid.",
         seed=_REFUSED, title="Certificate not yet valid"),
    Rule("TLS-008", "warning", "{subject} ({role}) expires in {days_left} days (on {date}), under "
         "min_days_left {min_days_left}", "Renew it before it expires.",
         seed=_REFUSED, title="Certificate about to expire"),
    Rule("TLS-009", "error", "{subject} ({role}) has a weak key: {why}",
         "Reissue it with an RSA key of at least {min_rsa_key_size} bits or an EC key of at least "
         "{min_ec_key_size} bits (P-256, P-384).",
         seed=_REFUSED, title="Weak key"),
    Rule("TLS-010", "warning", "the served chain is out of order: the certificates chain in the served order "
         "{order}",
         "Order the chain file leaf's issuer first, then its issuer, up to (optionally) the root; TLS 1.2 "
         "requires each certificate to certify the one before it.",
         seed=Seed.CHAIN_FILE, title="Chain served out of order"),
    Rule("TLS-011", "warning", "the server's certificate {subject} is a CA certificate (basicConstraints CA:TRUE)",
         "Issue the server an end-entity certificate (CA:FALSE) from the CA; do not serve the CA certificate "
         "itself.",
         seed=Seed.DIALOG, title="Server certificate is a CA"),
    Rule("TLS-012", "warning", "the server sends {count} certificate(s) that are not part of its chain: {extras}",
         "Remove unrelated and duplicate certificates from the chain file.",
         seed=Seed.CHAIN_FILE, title="Extra certificates served"),
    Rule("TLS-013", "warning", "only the server's certificate could be read (the server refuses TLS 1.2 and "
         "this Python cannot show a TLS 1.3 peer chain): whether it serves its intermediates is unknown",
         "Run the probe with Python 3.10+ on the target, or check the chain file given to tsm security "
         "external-ssl enable --chain-file.",
         seed=_LEAF_ONLY,
         title="Served chain unknown (leaf only)"),
    Rule("TLS-014", "info", "the server refused the probe's TLS 1.2 ClientHello ({refusal}); the certificate "
         "was read over {tls_version}",
         "If the server speaks TLS 1.3 only, there is nothing to do for current clients, but devices without TLS 1.3 "
         "(Android 9 and older) cannot connect. If the certificate was read over TLS 1.2 or older, check the "
         "server's cipher suites: it accepts none of the common ECDHE/DHE/RSA AES-GCM, ChaCha20 or AES-CBC "
         "suites.",
         seed=_NO_TLS12,
         title="Server refuses TLS 1.2"),
    Rule("TLS-015", "error", "the server's certificate {subject} has {problem}",
         "Reissue it with extendedKeyUsage = serverAuth (TLS Web Server Authentication).",
         seed=Seed.DIALOG, title="No serverAuth ExtendedKeyUsage"),
    Rule("TLS-016", "error", "the server's certificate {subject} is valid for {validity_days} days; iOS "
         "13+/macOS 10.15+ reject TLS server certificates valid for more than {max_days} days",
         "Reissue it with a validity of {max_days} days or fewer (398 for publicly trusted CAs).",
         seed=Seed.DIALOG, title="Validity too long for Apple clients"),
    Rule("TLS-017", "error", "OpenSSL rejects the connection although no check above explains it: "
         "{verify_error}",
         "Clients built on the same TLS libraries will refuse it too: fix what OpenSSL names (e.g. a "
         "protocol version or an algorithm the client policy forbids).",
         seed=_REFEREE,
         title="Refused by OpenSSL (the referee)"),
    Rule("TLS-018", "error", "{subject} (served #{position}) issues {issued} but is not a CA certificate "
         "(basicConstraints CA:TRUE missing)",
         "Reissue the intermediate with basicConstraints critical CA:TRUE and keyUsage keyCertSign, then "
         "reissue the server certificate from it.",
         seed=Seed.NOT_TRUSTED + " " + Seed.DIALOG, title="Issuer is not a CA"),
)
