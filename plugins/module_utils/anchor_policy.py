# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May this certificate become a trust anchor?  One policy for every trust store.

Pure Python, no Ansible imports.  :func:`check_anchor` returns ``ANCHOR-NNN`` findings (see
docs/anchor_policy.md, the one place the codes are documented); the callers are
``trust_anchor`` (Linux and macOS system stores, through truststore.py) and
``win_trust_anchor`` (Windows ``LocalMachine\\Root``, on the controller).  Broken policy
options (an unknown digest name, a negative key size) raise :class:`AnchorPolicyError`, which is
:class:`policy.PolicyError`: digests and key sizes are judged by :mod:`policy`, the one policy.

Codes, in the order they are reported:

=========== ============================================= ======================================
ANCHOR-001  not a CA (no basicConstraints CA:TRUE)         error; warning with ``allow_leaf``
ANCHOR-002  expired                                        error; warning with ``allow_expired``
ANCHOR-003  not yet valid                                  error; warning with ``allow_expired``
ANCHOR-004  an intermediate CA (CA, not self-signed)       warning
ANCHOR-005  RSA/DSA key under ``min_rsa_key_size``         error
ANCHOR-006  EC key under ``min_ec_key_size``               error
ANCHOR-007  Ed25519/Ed448 key                              warning
ANCHOR-008  signed with a blocklisted digest, not a root   error
ANCHOR-009  a self-signed root with a blocklisted digest   info (RFC 5280 6.1.1); or warning/error
                                                          with ``self_signed_digest_policy``
ANCHOR-010  a key type the policy cannot size (X448, ...)  warning
=========== ============================================= ======================================

``self_signed_digest_policy`` (default ``info``) is the one documented difference between
callers: ``mobile_trust_profile`` passes ``error`` (Apple requires SHA-2 for issuing CAs since
iOS 13 and names no exemption for roots).
"""

from __future__ import annotations

import datetime

from ansible_collections.trustops.tableau.plugins.module_utils import certs, policy
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding

#: The defaults of Tableau Server's own certificate keys (see :mod:`policy`, the one policy).
DEFAULT_BLOCKLISTED_DIGESTS = policy.DEFAULT_BLOCKLISTED_DIGESTS
DEFAULT_MIN_RSA_KEY_SIZE = policy.DEFAULT_MIN_RSA_KEY_SIZE
DEFAULT_MIN_EC_KEY_SIZE = policy.DEFAULT_MIN_EC_KEY_SIZE


def option_spec():
    """The policy options as an argument spec (a fresh dict), shared by both modules.

    Documented once in plugins/doc_fragments/anchor_policy.py; the defaults are the ones above.
    """
    spec = {
        "allow_leaf": {"type": "bool", "default": False},
        "allow_expired": {"type": "bool", "default": False},
    }
    spec.update(policy.argument_spec())
    return spec


def options_from(params):
    """check_anchor's keyword arguments from validated module parameters (missing: defaults)."""
    out = {}
    for name, spec in option_spec().items():
        value = params.get(name)
        out[name] = spec["default"] if value is None else value
    return out


#: The severities ``self_signed_digest_policy`` may give ANCHOR-009.
SELF_SIGNED_DIGEST_POLICIES = ("info", "warning", "error")

#: Every code this policy can report, with its meaning (docs/anchor_policy.md has the details).
CODES = {
    "ANCHOR-001": "not a CA certificate",
    "ANCHOR-002": "expired",
    "ANCHOR-003": "not yet valid",
    "ANCHOR-004": "an intermediate CA, not a self-signed root",
    "ANCHOR-005": "RSA or DSA key smaller than min_rsa_key_size",
    "ANCHOR-006": "EC key smaller than min_ec_key_size",
    "ANCHOR-007": "Ed25519 or Ed448 key",
    "ANCHOR-008": "signed with a blocklisted digest (not a self-signed root)",
    "ANCHOR-009": "a self-signed root signed with a blocklisted digest (not checked)",
    "ANCHOR-010": "a key type the policy cannot size (not RSA, DSA, EC, Ed25519, Ed448)",
}

#: Kept names: the policy itself lives in :mod:`policy` (one place).
AnchorPolicyError = policy.PolicyError
KNOWN_DIGESTS = policy.KNOWN_DIGESTS
normalize_digest = policy.normalize_digest
blocklist = policy.blocklist
size_option = policy.size_option


def blocked_digest(cert, rules):
    """The certificate's signature digest (lower case) if ``rules`` (a :class:`policy.Policy`) blocks it, else None."""
    digest = certs.signature_hash(cert)
    if digest is not None and rules.digest_blocked(digest):
        return digest
    return None


def check_anchor(cert, allow_leaf=False, allow_expired=False, blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS,
                 min_rsa_key_size=DEFAULT_MIN_RSA_KEY_SIZE, min_ec_key_size=DEFAULT_MIN_EC_KEY_SIZE, now=None,
                 self_signed_digest_policy="info"):
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

    def add(code, severity, message, remedy, **data):
        data.setdefault("subject", subject)
        found.append(Finding(code, severity, message, remedy, data))

    # --- what it is
    if not ca:
        if allow_leaf:
            add("ANCHOR-001", "warning",
                f"{subject} is not a CA certificate (no basicConstraints CA:TRUE); as a trust anchor it makes "
                "clients trust this one certificate only (allow_leaf)",
                "Prefer installing the CA that issued the Tableau Server certificate.",
                allow_leaf=True, self_signed=self_signed)
        else:
            add("ANCHOR-001", "error",
                f"{subject} is not a CA certificate (no basicConstraints CA:TRUE)",
                "Install the root CA that issued the Tableau Server certificate, or set "
                "allow_leaf=true to trust a self-signed server certificate directly.",
                allow_leaf=False, self_signed=self_signed)

    # --- when it is valid
    if info["expired"]:
        add("ANCHOR-002", "warning" if allow_expired else "error",
            "{} expired on {}".format(subject, info["not_after"]),
            "Clients build no chain through an expired anchor; install the renewed CA certificate."
            if allow_expired else
            "Obtain the renewed CA certificate; set allow_expired=true only to stage it knowingly.",
            not_after=info["not_after"], allow_expired=bool(allow_expired))
    elif info["not_yet_valid"]:
        add("ANCHOR-003", "warning" if allow_expired else "error",
            "{} is not valid before {}".format(subject, info["not_before"]),
            "Check the clocks of the issuing CA and of the clients; set allow_expired=true to stage "
            "it before it becomes valid.",
            not_before=info["not_before"], allow_expired=bool(allow_expired))

    # --- where it sits in a chain
    if ca and not self_signed:
        add("ANCHOR-004", "warning",
            f"{subject} is an intermediate CA (issued by {issuer}), not a self-signed root; as a trust anchor it "
            "is trusted itself",
            "Clients that do not accept partial chains (openssl verify, Python before 3.13, Java) "
            "still need the root: install the top (self-signed) root CA instead, or both, so that "
            "every platform trusts the same chains.",
            issuer=issuer)

    # --- its key
    key_type, key_size, curve = info["key_type"], info["key_size"], info["curve"]
    verdict = rules.key_verdict(key_type, key_size)
    if verdict.too_small and verdict.option == "min_rsa_key_size":
        add("ANCHOR-005", "error",
            "%s has a %d-bit %s key; the minimum is %d (min_rsa_key_size)%s" % (
                subject, key_size, key_type, min_rsa,
                "; OpenSSL at its default security level (Debian, RHEL) refuses CA keys under 2048 bits"
                if key_size < 2048 else ""),
            "Re-issue the CA with an RSA key of at least %d bits or an EC key, or lower "
            "min_rsa_key_size." % max(min_rsa, 2048),
            key_type=key_type, key_size=key_size, min_rsa_key_size=min_rsa)
    elif verdict.too_small and verdict.option == "min_ec_key_size":
        add("ANCHOR-006", "error",
            "%s has a %d-bit EC key (%s); the minimum is %d (min_ec_key_size)" % (
                subject, key_size, curve, min_ec),
            "Re-issue the CA on a curve of at least %d bits (P-256, P-384), or lower min_ec_key_size."
            % min_ec,
            key_type=key_type, key_size=key_size, curve=curve, min_ec_key_size=min_ec)
    elif key_type in ("Ed25519", "Ed448"):
        add("ANCHOR-007", "warning",
            f"{subject} has an {key_type} key; the Windows certificate chain engine and many TLS clients may not "
            "verify signatures made with it",
            "Prefer an RSA or ECDSA CA for clients of Tableau Server.",
            key_type=key_type)
    elif verdict.status == "unsized":
        add("ANCHOR-010", "warning",
            "{} has a {} key, which the policy cannot size (it sizes RSA, DSA and EC keys) and which "
            "clients of Tableau Server do not use to verify a chain".format(subject, key_type or "unknown"),
            "Install an RSA or ECDSA CA certificate instead.",
            key_type=key_type)

    # --- its signature
    digest = blocked_digest(cert, rules)
    if digest is not None:
        if self_signed and self_signed_digest_policy == "info":
            add("ANCHOR-009", "info",
                f"{subject} is self-signed with {digest.upper()}; a root's own signature is not checked when it is a "
                "trust anchor (RFC 5280 6.1.1)",
                "None needed for trust; re-issue the root with SHA-256 or better at its next renewal.",
                digest=digest, self_signed_digest_policy=self_signed_digest_policy)
        elif self_signed:
            add("ANCHOR-009", self_signed_digest_policy,
                f"{subject} is self-signed with blocklisted digest {digest.upper()}; RFC 5280 (6.1.1) does not check a root's "
                f"own signature, but this policy does (self_signed_digest_policy={self_signed_digest_policy})",
                f"Re-issue the root with SHA-256 or better, or remove {digest} from blocklisted_digests.",
                digest=digest, self_signed_digest_policy=self_signed_digest_policy)
        else:
            add("ANCHOR-008", "error",
                f"{subject} is signed with blocklisted digest {digest.upper()}",
                "Have the issuing CA re-sign it with SHA-256 or better (clients that build the chain "
                f"on to its issuer check this signature), or remove {digest} from blocklisted_digests.",
                digest=digest)
    return found
