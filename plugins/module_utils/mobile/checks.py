# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy findings on the CAs to distribute and on the profile signer.

Whether a CA may become a trust anchor is decided by the shared trust-anchor policy,
:func:`anchor_policy.check_anchor` (codes ``ANCHOR-NNN``, docs/anchor_policy.md), called with
mobile's one documented difference (``self_signed_digest_policy="error"``); the signer's key size
and digest are the one policy's verdicts (:meth:`policy.Policy.key_verdict`,
:meth:`policy.Policy.digest_blocked`), reported as ``MOBILE-015``/``MOBILE-014``; the
mobile-specific checks keep codes ``MOBILE-006`` and up (docs/mobile.md).  Meaningless policy
options raise :class:`policy.PolicyError`.
"""

from __future__ import annotations

import datetime
import hashlib

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy, certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.inputs import MobileError, extension, subject_text
from ansible_collections.trustops.tableau.plugins.module_utils.policy import Policy

try:
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


def _finding(code, severity, message, remedy, cert=None, **data):
    if cert is not None:
        data.setdefault("subject", subject_text(cert))
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
    message = f"{ca.source}: {shared.message}"
    if shared.code in _DEVICE_NOTES:
        message = f"{message}; {_DEVICE_NOTES[shared.code]}"
    data = dict(shared.data)
    data.setdefault("sha256", certs.fingerprint(ca.cert, "sha256"))
    data.setdefault("source", ca.source)
    return Finding(shared.code, shared.severity, message, _REMEDIES.get(shared.code, shared.remedy), data)


def _signer_policy_findings(cert, label, rules):
    """The signer's key size and signature digest, judged by the one policy (``rules``, a
    :class:`policy.Policy`: :meth:`~policy.Policy.key_verdict` and :meth:`~policy.Policy.digest_blocked`)
    and reported as MOBILE-015 / MOBILE-014 with the signer's remedies.  A self-signed signer with
    a blocklisted digest is refused too (iOS does not exempt it)."""
    found = []
    info = certs.describe(cert)
    verdict = rules.key_verdict(info["key_type"], info["key_size"])
    if verdict.too_small:
        data = {"key_type": verdict.key_type, "key_size": verdict.key_size, verdict.option: verdict.minimum}
        if verdict.option == "min_ec_key_size":
            data["curve"] = info["curve"]
        found.append(_finding(
            "MOBILE-015", "error", "{} has {}".format(label, _key_message(verdict, info["curve"])),
            "Sign with a certificate whose key is RSA of at least %d bits or EC P-256/P-384"
            % max(rules.min_rsa_key_size, 2048), cert, **data))
    digest = certs.signature_hash(cert)
    if digest is not None and rules.digest_blocked(digest):
        found.append(
            _finding(
                "MOBILE-014",
                "error",
                f"{label} is signed with {digest.upper()}, which is blocklisted (blocklisted_digests)",
                "Use a signing certificate with a SHA-256 signature",
                cert,
                digest=digest,
            )
        )
    return found


def _key_message(verdict, curve):
    """The policy's key verdict, worded for a signer (iOS's own limit added for RSA/DSA)."""
    if verdict.option == "min_ec_key_size":
        return "a %d-bit EC key (%s); the minimum is %d (min_ec_key_size)" % (verdict.key_size, curve, verdict.minimum)
    ios = (
        "; iOS 13+ and macOS 10.15+ refuse RSA keys shorter than 2048 bits in a TLS chain"
        if verdict.key_size < 2048
        else ""
    )
    return "a %d-bit %s key; the minimum is %d (min_rsa_key_size)%s" % (
        verdict.key_size,
        verdict.key_type,
        verdict.minimum,
        ios,
    )


def ca_findings(
    cas,
    duplicates=(),
    include_intermediates=False,
    blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS,
    min_rsa_key_size=2048,
    expiry_warning_days=30,
    now=None,
    min_ec_key_size=256,
):
    """Policy findings on the CA certificates (all of them, in input order)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    policy = dict(
        blocklisted_digests=blocklisted_digests,
        min_rsa_key_size=min_rsa_key_size,
        min_ec_key_size=min_ec_key_size,
        self_signed_digest_policy=SELF_SIGNED_DIGEST_POLICY,
        now=now,
    )
    Policy(blocklisted_digests, min_rsa_key_size, min_ec_key_size)  # options are checked even when no CA is given
    if not isinstance(expiry_warning_days, int) or isinstance(expiry_warning_days, bool) or expiry_warning_days < 0:
        raise MobileError(f"expiry_warning_days must be a number of days, 0 or more, not {expiry_warning_days!r}")
    warn_days = expiry_warning_days
    found = []
    for ca in cas:
        cert, label = ca.cert, f"{subject_text(ca.cert)} ({ca.source})"
        shared = [f for f in anchor_policy.check_anchor(cert, **policy) if f.code not in SKIPPED_ANCHOR_CODES]
        found.extend(_device_finding(f, ca) for f in shared)
        valid_now = not (certs.is_expired(cert, now) or certs.is_not_yet_valid(cert, now))
        if valid_now and certs.days_left(cert, now) < warn_days:
            found.append(
                _finding(
                    "MOBILE-006",
                    "warning",
                    "%s expires in %d days (%s)"
                    % (label, certs.days_left(cert, now), certs.not_after(cert).isoformat()),
                    "Plan the CA rotation: profiles and Android files must be redistributed with the new CA",
                    cert,
                    days_left=certs.days_left(cert, now),
                )
            )
        if not certs.common_names(cert):
            found.append(
                _finding(
                    "MOBILE-007",
                    "warning",
                    f"{label} has no common name (CN); iOS reportedly lists a root under "
                    "Certificate Trust Settings only when it has one",
                    "Reissue the CA with a CN, or check on a device that it appears under Certificate Trust Settings",
                    cert,
                )
            )
        if ca.role == "intermediate" and certs.is_ca(cert):
            if include_intermediates:
                found.append(
                    _finding(
                        "MOBILE-008",
                        "info",
                        f"{label} is an intermediate CA: the profile carries it as "
                        "com.apple.security.pkcs1 (a chain certificate); on Android a user-installed CA is an "
                        "anchor whatever its place in the chain",
                        "Tableau Server should still send its intermediates (Android does not fetch them)",
                        cert,
                    )
                )
            else:
                found.append(
                    _finding(
                        "MOBILE-008",
                        "warning",
                        f"{label} is an intermediate CA (not self-signed) and is left out; "
                        "only root CAs are installed unless include_intermediates is set",
                        "Give the root CA at the top of the chain, or set include_intermediates to install the "
                        "intermediate too",
                        cert,
                    )
                )
    for source, digest in duplicates:
        colon = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()
        found.append(
            Finding(
                "MOBILE-009",
                "info",
                f"{source}: certificate SHA-256 {colon} was given more than once; it is installed once",
                "",
                {"sha256": colon},
            )
        )
    return found


def selected(cas, include_intermediates):
    """The CAs that go into the artifacts: roots, and intermediates when asked."""
    return [ca for ca in cas if ca.role == "root" or include_intermediates]


def signer_findings(
    signer, cas, blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS, min_rsa_key_size=2048, now=None, min_ec_key_size=256
):
    """Policy on the signing identity: validity, digest, key, usage, and how iOS will judge it."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert, label = signer.cert, f"signer {subject_text(signer.cert)}"
    found = []
    if certs.is_expired(cert, now) or certs.is_not_yet_valid(cert, now):
        found.append(
            _finding(
                "MOBILE-010",
                "error",
                f"{label} is not valid now ({certs.not_before(cert).isoformat()} to "
                f"{certs.not_after(cert).isoformat()}): iOS shows the profile as Not Verified",
                "Sign with a currently valid certificate",
                cert,
            )
        )
    found.extend(_signer_policy_findings(cert, label, Policy(blocklisted_digests, min_rsa_key_size, min_ec_key_size)))
    usage = extension(cert, ExtensionOID.KEY_USAGE)
    if usage is not None and not usage.digital_signature:
        found.append(
            _finding(
                "MOBILE-016",
                "error",
                f"{label} has a keyUsage without digitalSignature; CMS "
                "verifiers (openssl, iOS) reject signatures made with it",
                "Use a certificate whose keyUsage includes digitalSignature",
                cert,
            )
        )
    eku = extension(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is not None:
        allowed = {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.CODE_SIGNING,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        }
        if not allowed.intersection(eku):
            found.append(
                _finding(
                    "MOBILE-017",
                    "warning",
                    f"{label} has an extendedKeyUsage without emailProtection "
                    "or codeSigning; openssl cms -verify refuses it by default and devices may too",
                    "Sign with a certificate for emailProtection or codeSigning",
                    cert,
                )
            )
    # Where does the signer's chain end?  iOS shows "Verified" only when it reaches a trusted root.
    chain, _anchor = certs.build_chain(cert, signer.chain)
    used = set(certs.to_der(c) for c in chain)
    for extra in signer.chain:
        if certs.to_der(extra) not in used:
            found.append(
                _finding(
                    "MOBILE-011",
                    "warning",
                    f"signer chain certificate {subject_text(extra)} is not on the signer's "
                    "path; it is included in the signature but helps nothing",
                    "Give only the intermediates between the signer and its root",
                    extra,
                )
            )
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
        found.append(
            _finding(
                "MOBILE-012",
                "warning",
                f"{label} chains to {subject_text(issuer)}, a CA this very profile installs: a manually installed "
                "profile shows Not Verified until that CA is trusted (MDM-installed profiles are not affected)",
                "Sign with an identity from a CA devices already trust (a public CA or your MDM's), or accept "
                "Not Verified for manual installs",
                cert,
            )
        )
    elif issuer is None:
        found.append(
            _finding(
                "MOBILE-013",
                "info",
                f"{label}: the included chain ends at {subject_text(top)}; devices show Verified only when they "
                f"trust its issuer {top.issuer.rfc4514_string()}",
                "Include every intermediate in signer_chain",
                cert,
            )
        )
    return found
