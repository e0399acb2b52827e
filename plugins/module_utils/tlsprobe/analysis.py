# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The analysis: what Tableau clients will say about a served chain, as findings ``TLS-0NN``.

Pure functions over ``cryptography`` certificates, no network and no Ansible imports.
:func:`analyze` checks trust and completeness (TLS-001/002), the name users type (TLS-003/004,
seed 001's short name), every certificate on the path the clients build (digest TLS-005 and key
TLS-009, judged by the one policy :class:`policy.Policy`; validity TLS-006/007/008), issuers that
are no CAs (TLS-018), Apple's rules for TLS server certificates (TLS-011/015/016) and what the
server sends besides its chain (TLS-010/012/013).  Every finding is made by the rule registry
:mod:`.rules`, where the codes' texts live.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    build_chain,
    common_names,
    days_left,
    fingerprint,
    is_ca,
    is_expired,
    is_not_yet_valid,
    is_self_signed,
    issued_by,
    issuer_text,
    match_hostname,
    not_after,
    not_before,
    public_key_info,
    signature_hash,
    subject_text,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.policy import Policy
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import rules
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.rules import (  # noqa: F401 (re-exported)
    DESKTOP_UNTRUSTED,
    MOBILE_UNTRUSTED,
    REMEDY_CHAIN_FILE,
    REMEDY_INSTALL_CA,
    SYMPTOM,
)

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID
except ImportError:  # pragma: no cover - certs.HAS_CRYPTOGRAPHY reports it
    pass

__all__ = ["SYMPTOM", "DESKTOP_UNTRUSTED", "MOBILE_UNTRUSTED", "REMEDY_INSTALL_CA", "REMEDY_CHAIN_FILE",
           "APPLE_RULES_FROM", "APPLE_MAX_VALIDITY_DAYS", "analyze"]

#: Apple's TLS server certificate rules (iOS 13 / macOS 10.15) apply to certificates issued
#: on or after this date: EKU with id-kp-serverAuth, validity of 825 days or fewer.
APPLE_RULES_FROM = datetime.datetime(2019, 7, 1, tzinfo=datetime.timezone.utc)
APPLE_MAX_VALIDITY_DAYS = 825


def _ref(cert: x509.Certificate, position: int | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"subject": subject_text(cert), "sha256": fingerprint(cert, "sha256")}
    if position is not None:
        ref["position"] = position
    return ref


def _served_path(served: Sequence[x509.Certificate]) -> list[int]:
    """Indices of served certificates that chain from served[0] upwards, following issuers."""
    path = [0]
    current = served[0]
    for _step in range(len(served)):
        if is_self_signed(current):
            break
        nxt = None
        for i, cand in enumerate(served):
            if i not in path and issued_by(current, cand):
                nxt = i
                break
        if nxt is None:
            break
        path.append(nxt)
        current = served[nxt]
    return path


def _eku(cert: x509.Certificate) -> list | None:
    """The ExtendedKeyUsage OIDs, or None when the extension is absent."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return None
    except Exception:
        return None
    return list(ext.value)


def _short_name_fqdn(host: str, names: Iterable[str]) -> str | None:
    """For a dot-less host name, the certificate name that is ``host.<domain>`` (seed 001)."""
    if not host or "." in host.rstrip("."):
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    prefix = host.rstrip(".").lower() + "."
    for name in names:
        if name.lower().startswith(prefix):
            return name
    return None


def _weak_key(cert: x509.Certificate, policy: Policy) -> tuple[str, str, int] | None:
    """``(why, key type, key size)`` when TLS-009 applies to ``cert``'s key, else None.

    Sizes are the one policy's verdict (:meth:`policy.Policy.key_verdict`: RSA under
    ``min_rsa_key_size``, EC under ``min_ec_key_size``); DSA is refused whatever its size, because
    TLS clients (browsers, Apple, Android, TLS 1.3) no longer accept DSA server certificates.
    """
    key_type, key_size, _curve = public_key_info(cert.public_key())
    if key_type == "DSA":
        return "DSA, which TLS clients no longer accept", key_type, key_size
    verdict = policy.key_verdict(key_type, key_size)
    if verdict.too_small:
        return f"{key_type} {key_size} bits, under {verdict.option} {verdict.minimum}", key_type, key_size
    return None


def _trust_finding(leaf: x509.Certificate, top: x509.Certificate) -> Finding:
    """TLS-001 for a complete served chain that reaches no trust anchor: which case it is."""
    if top is leaf:
        reason = rules.UNTRUSTED_SELF_SIGNED_REASON.format(subject=subject_text(leaf))
        data = _ref(top)
    elif is_self_signed(top):
        reason = rules.UNTRUSTED_ROOT_REASON.format(subject=subject_text(top))
        data = _ref(top)
    else:
        root = issuer_text(top)
        reason = rules.UNTRUSTED_ISSUER_REASON.format(subject=subject_text(top), issuer=root)
        data = dict(_ref(top), missing_issuer=root)
    return rules.finding("TLS-001", reason=reason, chain_remedy="", data=dict(data, symptom=SYMPTOM))


def _completeness_finding(top: x509.Certificate, anchor: x509.Certificate | None, trusted: bool | None) -> Finding:
    """TLS-002: the served chain stops before a self-signed trust anchor."""
    missing = issuer_text(top)
    if trusted:
        reason = rules.INCOMPLETE_TRUSTED_REASON.format(
            subject=subject_text(top), issuer=subject_text(anchor) if anchor is not None else missing)
    else:
        reason = rules.INCOMPLETE_UNTRUSTED_REASON.format(issuer=missing)
    return rules.finding("TLS-002", reason=reason, root_remedy="" if trusted else rules.INCOMPLETE_ROOT_REMEDY,
                         data=dict(_ref(top), missing_issuer=missing, symptom=SYMPTOM))


def _name_findings(leaf: x509.Certificate, host: str, hm: Any) -> list[Finding]:
    """TLS-003 (not the name users type; seed 001's short name) and TLS-004 (legacy CN only)."""
    if hm.matched and hm.via == "cn-legacy":
        return [rules.finding("TLS-004", host=host, cn=", ".join(hm.names),
                              data={"names": list(hm.names), "symptom": SYMPTOM})]
    if hm.matched:
        return []
    fqdn = _short_name_fqdn(host, hm.names)
    issued_to = ", ".join(hm.names) if hm.names else "(no names)"
    if fqdn:  # seed 001: a short name where the certificate holds the FQDN
        reason = rules.SHORT_NAME_REASON.format(host=host, issued_to=issued_to, fqdn=fqdn)
        connect = rules.SHORT_NAME_CONNECT.format(fqdn=fqdn)
    else:
        reason = rules.OTHER_NAME_REASON.format(issued_to=issued_to)
        connect = rules.OTHER_NAME_CONNECT
    return [rules.finding("TLS-003", host=host, reason=reason, connect=connect,
                          data={"names": list(hm.names), "fqdn": fqdn, "short_name": bool(fqdn), "symptom": SYMPTOM})]


def _certificate_findings(cert: x509.Certificate, pos: int | None, leaf: x509.Certificate, now: datetime.datetime,
                          min_days_left: int, policy: Policy) -> list[Finding]:
    """TLS-005 to TLS-009 for one certificate of the chain the clients build (``pos`` None: the anchor)."""
    findings = []
    is_root = is_self_signed(cert) and cert is not leaf
    role = "trust anchor" if pos is None else ("leaf" if pos == 0 else f"served #{pos}")
    ref = dict(_ref(cert, pos), role=role)
    subject = subject_text(cert)
    if not is_root:
        digest = signature_hash(cert)
        if digest and policy.digest_blocked(digest):
            findings.append(rules.finding("TLS-005", subject=subject, role=role, algorithm=digest.upper(),
                                          data=dict(ref, digest=digest, symptom=SYMPTOM)))
    if is_root and pos is not None:
        return findings  # a served root is never used from the wire; the anchor copy counts
    if is_expired(cert, now):
        findings.append(rules.finding("TLS-006", subject=subject, role=role, date=not_after(cert).date().isoformat(),
                                      data=dict(ref, not_after=not_after(cert).isoformat(), symptom=SYMPTOM)))
    elif is_not_yet_valid(cert, now):
        findings.append(rules.finding("TLS-007", subject=subject, role=role, not_before=not_before(cert).isoformat(),
                                      data=dict(ref, symptom=SYMPTOM)))
    elif days_left(cert, now) < min_days_left:
        findings.append(rules.finding("TLS-008", subject=subject, role=role, days_left=days_left(cert, now),
                                      date=not_after(cert).date().isoformat(), min_days_left=min_days_left,
                                      data=dict(ref, not_after=not_after(cert).isoformat())))
    weak = _weak_key(cert, policy)
    if weak:
        findings.append(rules.finding("TLS-009", subject=subject, role=role, why=weak[0],
                                      min_rsa_key_size=policy.min_rsa_key_size, min_ec_key_size=policy.min_ec_key_size,
                                      data=dict(ref, key_type=weak[1], key_size=weak[2], symptom=SYMPTOM)))
    return findings


def _leaf_profile_findings(leaf: x509.Certificate) -> list[Finding]:
    """Apple's rules for TLS server certificates (iOS 13+): TLS-011, TLS-015, TLS-016."""
    findings = []
    subject = subject_text(leaf)
    if is_ca(leaf):
        findings.append(rules.finding("TLS-011", subject=subject, data=_ref(leaf, 0)))
    eku = _eku(leaf)
    if eku is not None and ExtendedKeyUsageOID.SERVER_AUTH not in eku:
        findings.append(rules.finding("TLS-015", subject=subject, problem=rules.EKU_WITHOUT_SERVER_AUTH,
                                      data=dict(_ref(leaf, 0), symptom=SYMPTOM)))
    elif eku is None and not_before(leaf) >= APPLE_RULES_FROM and not is_self_signed(leaf):
        findings.append(rules.finding("TLS-015", subject=subject, problem=rules.EKU_MISSING,
                                      data=dict(_ref(leaf, 0), symptom=MOBILE_UNTRUSTED)))
    validity = (not_after(leaf) - not_before(leaf)).days
    if not_before(leaf) >= APPLE_RULES_FROM and validity > APPLE_MAX_VALIDITY_DAYS:
        findings.append(rules.finding("TLS-016", subject=subject, validity_days=validity,
                                      max_days=APPLE_MAX_VALIDITY_DAYS,
                                      data=dict(_ref(leaf, 0), symptom=MOBILE_UNTRUSTED)))
    return findings


def _served_extras_findings(served: Sequence[x509.Certificate], path_idx: list[int]) -> list[Finding]:
    """What the server sends besides its chain: TLS-010 (order), TLS-012 (extras, duplicates)."""
    findings = []
    if path_idx != list(range(len(path_idx))):
        findings.append(rules.finding("TLS-010", order=" -> ".join(f"#{i}" for i in path_idx),
                                      data={"path": list(path_idx)}))
    on_path = {fingerprint(served[i], "sha256") for i in path_idx}
    described = []
    for i, cert in enumerate(served):
        if i not in path_idx:
            kind = "duplicate" if fingerprint(cert, "sha256") in on_path else "not on the chain"
            described.append(dict(_ref(cert, i), kind=kind))
    if described:
        extras = "; ".join(f"#{d['position']} {d['subject']} ({d['kind']})" for d in described)
        findings.append(rules.finding("TLS-012", count=len(described), extras=extras, data={"extra": described}))
    return findings


def analyze(served: Sequence[x509.Certificate], host: str, anchors: Sequence[x509.Certificate],
            now: datetime.datetime | None = None, min_days_left: int = 30, min_rsa_key_size: int = 2048,
            blocklisted_digests: Iterable[str] | None = ("sha1",), chain_known: bool = True,
            min_ec_key_size: int = 256) -> dict[str, Any]:
    """Check a served chain (``served``: cryptography certificates, leaf first, as sent).

    ``anchors`` are the trust anchors of the client (certificates).  ``chain_known`` False
    means only the leaf could be read (completeness then is ``None``).  Returns a dict with
    ``findings`` (list of :class:`Finding`), ``chain_complete`` (bool or None), ``trusted``
    (bool, or None when it cannot be told from the leaf alone), ``anchor`` (certificate or
    None), ``name_matched``, ``matched_via``, ``names``, ``path`` (served indices on the chain).
    """
    if not served:
        raise TrustopsError("the server sent no certificate")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    policy = Policy(blocklisted_digests or (), min_rsa_key_size, min_ec_key_size)
    findings: list[Finding] = []
    leaf = served[0]
    path_idx = _served_path(served)
    top = served[path_idx[-1]]

    # --- trust and completeness
    chain, anchor = build_chain(leaf, served, anchors)
    trusted: bool | None = anchor is not None
    complete: bool | None
    if is_self_signed(top):
        complete = True
    elif any(issued_by(top, a) and is_self_signed(a) for a in anchors):
        complete = True
    elif anchor is None and top is not leaf and is_ca(top):
        # The server sends its intermediate(s); the issuer of the last one is unknown here.
        # Taken as the root these clients lack (TLS-001); a further missing intermediate cannot
        # be told apart without that certificate, so the message names both.
        complete = True
    else:
        complete = False
    if not chain_known and not complete:
        # Only the leaf is known and it does not reach an anchor by itself: the server may or
        # may not send the intermediates.  The caller asks OpenSSL whether a chain was built.
        complete = None
        if not trusted:
            trusted = None

    if trusted is False and complete:
        findings.append(_trust_finding(leaf, top))
    if complete is False:
        findings.append(_completeness_finding(top, anchor, trusted))

    # --- host name
    hm = match_hostname(leaf, host)
    findings.extend(_name_findings(leaf, host, hm))

    # --- per-certificate checks on the chain the clients build (served path, plus the anchor)
    checked: list[tuple[x509.Certificate, int | None]] = [(served[i], i) for i in path_idx]
    if anchor is not None and fingerprint(anchor, "sha256") not in [fingerprint(c, "sha256") for c, _pos in checked]:
        checked.append((anchor, None))
    for cert, pos in checked:
        findings.extend(_certificate_findings(cert, pos, leaf, now, min_days_left, policy))

    # --- issuers must be CAs (basicConstraints CA:TRUE); self-signed v1 roots are accepted
    for step, pos in enumerate(path_idx[1:]):
        cert = served[pos]
        if not is_ca(cert) and not is_self_signed(cert):
            findings.append(rules.finding("TLS-018", subject=subject_text(cert), position=pos,
                                          issued=subject_text(served[path_idx[step]]),
                                          data=dict(_ref(cert, pos), symptom=SYMPTOM)))

    # --- leaf profile (Apple's rules for TLS server certificates, iOS 13+)
    findings.extend(_leaf_profile_findings(leaf))

    # --- what the server sends besides the chain
    if chain_known:
        findings.extend(_served_extras_findings(served, path_idx))
    elif complete is None:
        findings.append(rules.finding("TLS-013"))

    return {
        "findings": findings,
        "chain_complete": complete,
        "trusted": trusted,
        "anchor": anchor,
        "chain": chain,
        "name_matched": bool(hm.matched),
        "matched_via": hm.via,
        "names": list(hm.names),
        "path": path_idx,
        "common_names": common_names(leaf),
    }
