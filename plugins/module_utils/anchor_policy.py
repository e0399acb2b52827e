# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May this certificate become a trust anchor?  One policy for every trust store.

Pure Python, no Ansible imports.  :func:`check_anchor` returns ``ANCHOR-NNN`` findings, made only
through :data:`REGISTRY` (the rule table below: message and remedy templates, the seed sentence
of seeds 000/001 each rule enforces; docs/anchor_policy.md documents the codes for users).  The
callers are ``trust_anchor`` (Linux and macOS system stores, through the ``truststore/``
package), ``win_trust_anchor`` (Windows ``LocalMachine\\Root``, on the controller),
``mobile_trust_profile`` and ``tsm_mutual_ssl``.  Broken policy options (an unknown digest name,
a negative key size) raise :class:`AnchorPolicyError`, which is :class:`policy.PolicyError`:
digests and key sizes are judged by :mod:`policy`, the one policy.

``self_signed_digest_policy`` (default ``info``) is the one documented difference between
callers: ``mobile_trust_profile`` passes ``error`` (Apple requires SHA-2 for issuing CAs since
iOS 13 and names no exemption for roots).
"""

from __future__ import annotations

import datetime
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import certs, policy
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, Registry, Rule

#: The defaults of Tableau Server's own certificate keys (see :mod:`policy`, the one policy).
DEFAULT_BLOCKLISTED_DIGESTS = policy.DEFAULT_BLOCKLISTED_DIGESTS
DEFAULT_MIN_RSA_KEY_SIZE = policy.DEFAULT_MIN_RSA_KEY_SIZE
DEFAULT_MIN_EC_KEY_SIZE = policy.DEFAULT_MIN_EC_KEY_SIZE


def option_spec() -> dict[str, dict[str, Any]]:
    """The policy options as an argument spec (a fresh dict), shared by both modules.

    Documented once in plugins/doc_fragments/anchor_policy.py; the defaults are the ones above.
    """
    spec: dict[str, dict[str, Any]] = {
        "allow_leaf": {"type": "bool", "default": False},
        "allow_expired": {"type": "bool", "default": False},
    }
    spec.update(policy.argument_spec())
    return spec


def options_from(params: dict[str, Any]) -> dict[str, Any]:
    """check_anchor's keyword arguments from validated module parameters (missing: defaults)."""
    out = {}
    for name, spec in option_spec().items():
        value = params.get(name)
        out[name] = spec["default"] if value is None else value
    return out


#: The severities ``self_signed_digest_policy`` may give ANCHOR-009.
SELF_SIGNED_DIGEST_POLICIES = ("info", "warning", "error")

#: Kept names: the policy itself lives in :mod:`policy` (one place).
AnchorPolicyError = policy.PolicyError
KNOWN_DIGESTS = policy.KNOWN_DIGESTS
normalize_digest = policy.normalize_digest
blocklist = policy.blocklist
size_option = policy.size_option


# --------------------------------------------------------------------------- the rules

#: The trust-anchor rules (seeds 000 and 001: what clients of Tableau Server must trust).
REGISTRY = Registry("ANCHOR", "Client trust", "seeds 000 and 001")
RULES = REGISTRY.rules

# The vendor sentences (verbatim; seed 001 writes U+00A0 no-break spaces in its numbered steps).
_S_INTERNAL_CA = "Configure your mobile devices to trust that internal Certificate Authority."
_S_SERVER_CRT = ("In the Certificate Import Wizard, click\u00a0Next, and then click the\u00a0Browse\u00a0button to "
                 "navigate to the certificate (.crt) file used by Tableau Server.")
_S_UNTRUSTED = ("When a server uses an SSL certificate issued by an untrusted CA, Tableau Mobile cannot "
                "verify the certificate, so the app prevents you from connecting to the server.")
_S_ROOT_STORE = ("In the left pane of the console window, expand\u00a0Certificates (Local Computer)\u00a0>\u00a0"
                 "Trusted Root Certification Authorities.")
_S_WINDOWS_ERROR = "Internet communication error: The certificate authority is invalid or incorrect"

REGISTRY.register(
    Rule("ANCHOR-001", "error",
         "{subject} is not a CA certificate (no basicConstraints CA:TRUE){leaf_note}",
         "Install the root CA that issued the Tableau Server certificate; set allow_leaf=true only to "
         "trust a self-signed server certificate directly (clients then trust that one certificate).",
         seed=f"{_S_INTERNAL_CA} {_S_SERVER_CRT}", title="Not a CA certificate"),
    Rule("ANCHOR-002", "error", "{subject} expired on {not_after}",
         "Clients build no chain through an expired anchor: obtain and install the renewed CA "
         "certificate (allow_expired=true only stages the expired one knowingly).",
         seed=_S_UNTRUSTED, title="Expired anchor"),
    Rule("ANCHOR-003", "error", "{subject} is not valid before {not_before}",
         "Check the clocks of the issuing CA and of the clients; set allow_expired=true to stage it "
         "before it becomes valid.",
         seed=_S_UNTRUSTED, title="Anchor not yet valid"),
    Rule("ANCHOR-004", "warning",
         "{subject} is an intermediate CA (issued by {issuer}), not a self-signed root; as a trust "
         "anchor it is trusted itself",
         "Clients that do not accept partial chains (openssl verify, Python before 3.13, Java) still "
         "need the root: install the top (self-signed) root CA instead, or both, so that every "
         "platform trusts the same chains.",
         seed=_S_ROOT_STORE, title="Intermediate CA as anchor"),
    Rule("ANCHOR-005", "error",
         "{subject} has a {key_size}-bit {key_type} key; the minimum is {min_rsa_key_size} "
         "(min_rsa_key_size){openssl_note}",
         "Re-issue the CA with an RSA key of at least {advised_bits} bits or an EC key, or lower "
         "min_rsa_key_size.",
         seed=_S_UNTRUSTED, title="RSA or DSA key too small"),
    Rule("ANCHOR-006", "error",
         "{subject} has a {key_size}-bit EC key ({curve}); the minimum is {min_ec_key_size} (min_ec_key_size)",
         "Re-issue the CA on a curve of at least {min_ec_key_size} bits (P-256, P-384), or lower "
         "min_ec_key_size.",
         seed=_S_UNTRUSTED, title="EC key too small"),
    Rule("ANCHOR-007", "warning",
         "{subject} has an {key_type} key; the Windows certificate chain engine and many TLS clients "
         "may not verify signatures made with it",
         "Prefer an RSA or ECDSA CA for clients of Tableau Server.",
         seed=_S_WINDOWS_ERROR, title="Ed25519 or Ed448 key"),
    Rule("ANCHOR-008", "error", "{subject} is signed with blocklisted digest {digest_name}",
         "Have the issuing CA re-sign it with SHA-256 or better (clients that build the chain on to "
         "its issuer check this signature), or remove {digest} from blocklisted_digests.",
         seed=_S_UNTRUSTED, title="Blocklisted digest on an issued CA"),
    Rule("ANCHOR-009", "info",
         "{subject} is self-signed with {digest_name}; a root's own signature is not checked when it "
         "is a trust anchor (RFC 5280 6.1.1){policy_note}",
         "Nothing is needed for trust unless self_signed_digest_policy refuses it (here: "
         "{self_signed_digest_policy}); re-issue the root with SHA-256 or better (at its next renewal, "
         "or now when refused), or remove {digest} from blocklisted_digests.",
         seed=_S_ROOT_STORE, title="Blocklisted digest on a self-signed root"),
    Rule("ANCHOR-010", "warning",
         "{subject} has a {key_type} key, which the policy cannot size (it sizes RSA, DSA and EC keys) "
         "and which clients of Tableau Server do not use to verify a chain",
         "Install an RSA or ECDSA CA certificate instead.",
         seed=_S_UNTRUSTED, title="Key type the policy cannot size"),
)

#: Every code this policy can report, with its title (docs/anchor_policy.md has the details).
CODES = {rule.code: rule.title for rule in REGISTRY}


def finding(code: str, severity: str | None = None, wording: dict[str, str] | None = None,
            **facts: Any) -> Finding:
    """The Finding of rule ``code``: ``facts`` fill the templates and are its ``data``;
    ``wording`` fills the templates only (the clauses an option changes, such as ANCHOR-001's
    ``allow_leaf`` note), so ``data`` holds facts and never prose."""
    wording = wording or {}
    found = REGISTRY.finding(code, severity=severity, **facts, **wording)
    for key in wording:
        found.data.pop(key, None)
    return found


def blocked_digest(cert: certs.x509.Certificate, rules: policy.Policy) -> str | None:
    """The certificate's signature digest (lower case) if ``rules`` (a :class:`policy.Policy`) blocks it, else None."""
    digest = certs.signature_hash(cert)
    if digest is not None and rules.digest_blocked(digest):
        return digest
    return None


def check_anchor(cert: certs.x509.Certificate, allow_leaf: bool = False, allow_expired: bool = False,
                 blocklisted_digests: Any = DEFAULT_BLOCKLISTED_DIGESTS,
                 min_rsa_key_size: int = DEFAULT_MIN_RSA_KEY_SIZE, min_ec_key_size: int = DEFAULT_MIN_EC_KEY_SIZE,
                 now: datetime.datetime | None = None, self_signed_digest_policy: str = "info") -> list[Finding]:
    """Policy findings (``ANCHOR-NNN``) on a certificate that is to become a trust anchor.

    ``cert`` is a cryptography certificate; ``now`` (aware datetime) is the clock, default now.
    ``self_signed_digest_policy`` is the severity of ANCHOR-009 (a self-signed root signed with a
    blocklisted digest): ``info`` (default; its self-signature is never checked), ``warning`` or
    ``error`` (refuse it, for platforms that do).
    Returns every finding in code order; an ``error`` finding means: do not install it.
    Raises AnchorPolicyError for meaningless options, CertificateError for an unreadable name.
    """
    rules = policy.Policy(blocklisted_digests, min_rsa_key_size, min_ec_key_size)
    if self_signed_digest_policy not in SELF_SIGNED_DIGEST_POLICIES:
        raise AnchorPolicyError("self_signed_digest_policy: {!r} is not one of {}".format(
            self_signed_digest_policy, ", ".join(SELF_SIGNED_DIGEST_POLICIES)))
    min_rsa, min_ec = rules.min_rsa_key_size, rules.min_ec_key_size
    now = now or datetime.datetime.now(datetime.timezone.utc)
    info = certs.describe(cert, now)
    subject, issuer = info["subject"], info["issuer"]
    ca, self_signed = info["is_ca"], info["self_signed"]
    found = []

    def add(code: str, severity: str | None = None, wording: dict[str, str] | None = None, **facts: Any) -> None:
        found.append(finding(code, severity, wording, subject=subject, **facts))

    # --- what it is
    if not ca:
        add("ANCHOR-001", "warning" if allow_leaf else "error",
            {"leaf_note": "; as a trust anchor it makes clients trust this one certificate only (allow_leaf)"
             if allow_leaf else ""},
            allow_leaf=bool(allow_leaf), self_signed=self_signed)

    # --- when it is valid
    if info["expired"]:
        add("ANCHOR-002", "warning" if allow_expired else "error",
            not_after=info["not_after"], allow_expired=bool(allow_expired))
    elif info["not_yet_valid"]:
        add("ANCHOR-003", "warning" if allow_expired else "error",
            not_before=info["not_before"], allow_expired=bool(allow_expired))

    # --- where it sits in a chain
    if ca and not self_signed:
        add("ANCHOR-004", issuer=issuer)

    # --- its key
    key_type, key_size, curve = info["key_type"], info["key_size"], info["curve"]
    verdict = rules.key_verdict(key_type, key_size)
    if verdict.too_small and verdict.option == "min_rsa_key_size":
        add("ANCHOR-005",
            wording={"openssl_note": "; OpenSSL at its default security level (Debian, RHEL) refuses CA keys "
                                     "under 2048 bits" if key_size < 2048 else "",
                     "advised_bits": str(max(min_rsa, 2048))},
            key_type=key_type, key_size=key_size, min_rsa_key_size=min_rsa)
    elif verdict.too_small and verdict.option == "min_ec_key_size":
        add("ANCHOR-006", key_type=key_type, key_size=key_size, curve=curve, min_ec_key_size=min_ec)
    elif key_type in ("Ed25519", "Ed448"):
        add("ANCHOR-007", key_type=key_type)
    elif verdict.status == "unsized":
        add("ANCHOR-010", key_type=key_type or "unknown")

    # --- its signature
    digest = blocked_digest(cert, rules)
    if digest is not None:
        if self_signed and self_signed_digest_policy == "info":
            add("ANCHOR-009", "info", {"digest_name": digest.upper(), "policy_note": ""},
                digest=digest, self_signed_digest_policy=self_signed_digest_policy)
        elif self_signed:
            add("ANCHOR-009", self_signed_digest_policy,
                {"digest_name": f"blocklisted digest {digest.upper()}",
                 "policy_note": f", but this policy checks it (self_signed_digest_policy={self_signed_digest_policy})"},
                digest=digest, self_signed_digest_policy=self_signed_digest_policy)
        else:
            add("ANCHOR-008", wording={"digest_name": digest.upper()}, digest=digest)
    return found
