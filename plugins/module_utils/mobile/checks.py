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

from typing import Any

import datetime
import hashlib

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy, certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import rules as mobile_rules
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.inputs import CA, MobileError
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.signing import Signer
from ansible_collections.trustops.tableau.plugins.module_utils.policy import KeyVerdict, Policy

try:
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


def _finding(code: str, cert: Any = None, severity: Any = None, data: Any = None, **fields: Any) -> Finding:
    """The registered rule ``code`` (:mod:`.rules`) filled with ``fields``; about ``cert`` (named
    by its subject in the message, and by subject and SHA-256 in ``data``) when given.  Fields that
    only choose wording (:data:`.rules.WORDING_FIELDS`) are not kept in ``data``."""
    if cert is not None:
        fields.setdefault("subject", certs.subject_text(cert))
    found = mobile_rules.finding(code, severity=severity, data=data, **fields)
    if cert is not None:
        found.data.setdefault("sha256", certs.fingerprint(cert, "sha256"))
    for name in mobile_rules.WORDING_FIELDS.intersection(found.data):
        del found.data[name]
    return found


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


def _device_finding(shared: Finding, ca: CA) -> Finding:
    """A shared ANCHOR-NNN finding as mobile reports it: same code, severity and decision; the
    source file, the device consequence and the SHA-256 added.  (The rule and its text are the
    trust-anchor policy's; only the device wording is mobile's.)"""
    message = f"{ca.source}: {shared.message}"
    if shared.code in _DEVICE_NOTES:
        message = f"{message}; {_DEVICE_NOTES[shared.code]}"
    data = dict(shared.data)
    data.setdefault("sha256", certs.fingerprint(ca.cert, "sha256"))
    data.setdefault("source", ca.source)
    return Finding(shared.code, shared.severity, message, _REMEDIES.get(shared.code, shared.remedy), data)


def _signer_policy_findings(cert, policy: Policy) -> list[Finding]:
    """The signer's key size and signature digest, judged by the one policy (:meth:`~policy.Policy.key_verdict`
    and :meth:`~policy.Policy.digest_blocked`) and reported as MOBILE-015 / MOBILE-014 with the
    signer's remedies.  A self-signed signer with a blocklisted digest is refused too (iOS does not
    exempt it)."""
    found: list[Finding] = []
    info = certs.describe(cert)
    verdict = policy.key_verdict(info["key_type"], info["key_size"])
    if verdict.too_small:
        found.append(_key_finding(cert, verdict, info["curve"], policy))
    digest = certs.signature_hash(cert)
    if digest is not None and policy.digest_blocked(digest):
        found.append(_finding("MOBILE-014", cert, digest=digest.upper(), data={"digest": digest}))
    return found


def _key_finding(cert, verdict: KeyVerdict, curve: str | None, policy: Policy) -> Finding:
    """MOBILE-015 for a too-small signer key: the policy's verdict with its threshold (``data``
    holds the option name and its value, and the curve of an EC key)."""
    data = {"key_type": verdict.key_type, "key_size": verdict.key_size, verdict.option: verdict.minimum}
    ec = verdict.option == "min_ec_key_size"
    if ec:
        data["curve"] = curve
    return _finding(
        "MOBILE-015", cert, key_size=verdict.key_size, key_type=verdict.key_type,
        key_detail=f" ({curve})" if ec else "", minimum=verdict.minimum, option=verdict.option,
        ios_note=mobile_rules.IOS_RSA_NOTE if not ec and verdict.key_size < 2048 else "",
        rsa_minimum=max(policy.min_rsa_key_size, 2048), data=data)


def ca_findings(
    cas: list[CA],
    duplicates=(),
    include_intermediates: bool = False,
    blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS,
    min_rsa_key_size: int = 2048,
    expiry_warning_days: int = 30,
    now: datetime.datetime | None = None,
    min_ec_key_size: int = 256,
) -> list[Finding]:
    """Policy findings on the CA certificates (all of them, in input order); ``duplicates`` are the
    ``(source, sha256 hex)`` of repeats :func:`.inputs.load_cas` dropped."""
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
    found: list[Finding] = []
    for ca in cas:
        cert = ca.cert
        shared = [f for f in anchor_policy.check_anchor(cert, **policy) if f.code not in SKIPPED_ANCHOR_CODES]
        found.extend(_device_finding(f, ca) for f in shared)
        valid_now = not (certs.is_expired(cert, now) or certs.is_not_yet_valid(cert, now))
        days_left = certs.days_left(cert, now)
        if valid_now and days_left < expiry_warning_days:
            found.append(_finding("MOBILE-006", cert, source=ca.source, days_left=days_left,
                                  not_after=certs.not_after(cert).isoformat()))
        if not certs.common_names(cert):
            found.append(_finding("MOBILE-007", cert, source=ca.source))
        if ca.role == "intermediate" and certs.is_ca(cert):
            if include_intermediates:
                found.append(_finding("MOBILE-008", cert, severity="info", source=ca.source,
                                      **mobile_rules.INTERMEDIATE_INSTALLED))
            else:
                found.append(_finding("MOBILE-008", cert, source=ca.source, **mobile_rules.INTERMEDIATE_LEFT_OUT))
    for source, digest in duplicates:
        colon = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()
        found.append(_finding("MOBILE-009", source=source, sha256=colon))
    return found


def selected(cas: list[CA], include_intermediates: bool) -> list[CA]:
    """The CAs that go into the artifacts: roots, and intermediates when asked."""
    return [ca for ca in cas if ca.role == "root" or include_intermediates]


def signer_findings(
    signer: Signer, cas: list[CA], blocklisted_digests=DEFAULT_BLOCKLISTED_DIGESTS, min_rsa_key_size: int = 2048,
    now: datetime.datetime | None = None, min_ec_key_size: int = 256,
) -> list[Finding]:
    """Policy on the signing identity: validity, digest, key, usage,
    and how iOS will judge it."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert = signer.cert
    found: list[Finding] = []
    if certs.is_expired(cert, now) or certs.is_not_yet_valid(cert, now):
        found.append(_finding("MOBILE-010", cert, not_before=certs.not_before(cert).isoformat(),
                              not_after=certs.not_after(cert).isoformat()))
    found.extend(_signer_policy_findings(cert, Policy(blocklisted_digests, min_rsa_key_size, min_ec_key_size)))
    usage = certs.extension(cert, ExtensionOID.KEY_USAGE)
    if usage is not None and not usage.digital_signature:
        found.append(_finding("MOBILE-016", cert))
    eku = certs.extension(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is not None:
        allowed = {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.CODE_SIGNING,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        }
        if not allowed.intersection(eku):
            found.append(_finding("MOBILE-017", cert))
    # Where does the signer's chain end?  iOS shows "Verified" only when it reaches a trusted root.
    chain, _anchor = certs.build_chain(cert, signer.chain)
    used = {certs.to_der(c) for c in chain}
    for extra in signer.chain:
        if certs.to_der(extra) not in used:
            found.append(_finding("MOBILE-011", extra))
    top = chain[-1]
    installed = {ca.sha256 for ca in cas}
    issuer = None
    if certs.is_self_signed(top):
        issuer = top
    else:
        for ca in cas:
            if certs.issued_by(top, ca.cert):
                issuer = ca.cert
                break
    if issuer is not None and hashlib.sha256(certs.to_der(issuer)).hexdigest() in installed:
        found.append(_finding("MOBILE-012", cert, issuer=certs.subject_text(issuer)))
    elif issuer is None:
        found.append(_finding("MOBILE-013", cert, chain_top=certs.subject_text(top), issuer=certs.issuer_text(top)))
    return found
