# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The analysis: what Tableau clients will say about a served chain, as findings ``TLS-0NN``.

Pure functions over ``cryptography`` certificates, no network and no Ansible imports.
:func:`analyze` checks trust and completeness (TLS-001/002), the name users type (TLS-003/004,
seed 001's short name), every certificate on the path the clients build (digest TLS-005 and key
TLS-009, judged by the one policy :class:`policy.Policy`; validity TLS-006/007/008), issuers that
are no CAs (TLS-018), Apple's rules for TLS server certificates (TLS-011/015/016) and what the
server sends besides its chain (TLS-010/012/013).
"""

from __future__ import annotations

import datetime
import ipaddress

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
    match_hostname,
    not_after,
    not_before,
    public_key_info,
    signature_hash,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.policy import Policy

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - certs.HAS_CRYPTOGRAPHY reports it
    pass

__all__ = ["SYMPTOM", "DESKTOP_UNTRUSTED", "MOBILE_UNTRUSTED", "REMEDY_INSTALL_CA", "REMEDY_CHAIN_FILE",
           "subject_text", "analyze"]

#: Apple's TLS server certificate rules (iOS 13 / macOS 10.15) apply to certificates issued
#: on or after this date: EKU with id-kp-serverAuth, validity of 825 days or fewer.
APPLE_RULES_FROM = datetime.datetime(2019, 7, 1, tzinfo=datetime.timezone.utc)
APPLE_MAX_VALIDITY_DAYS = 825

DESKTOP_UNTRUSTED = ('Tableau Desktop: "Internet communication error: The certificate authority is '
                     'invalid or incorrect" / "Invalid certificate error"')
MOBILE_UNTRUSTED = ('Tableau Mobile: "the certificate provided by the server is untrusted" '
                    '(the app offers only http or the web browser)')
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


def subject_text(cert):
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return "<unreadable subject>"


def _ref(cert, position=None):
    ref = {"subject": subject_text(cert), "sha256": fingerprint(cert, "sha256")}
    if position is not None:
        ref["position"] = position
    return ref


def _served_path(served):
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


def _eku(cert):
    """The ExtendedKeyUsage OIDs, or None when the extension is absent."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    except x509.ExtensionNotFound:
        return None
    except Exception:
        return None
    return list(ext.value)


def _short_name_fqdn(host, names):
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


def _weak_key(cert, rules):
    """``(why, key type, key size)`` when TLS-009 applies to ``cert``'s key, else None.

    Sizes are the one policy's verdict (:meth:`policy.Policy.key_verdict`: RSA under
    ``min_rsa_key_size``, EC under ``min_ec_key_size``); DSA is refused whatever its size, because
    TLS clients (browsers, Apple, Android, TLS 1.3) no longer accept DSA server certificates.
    """
    key_type, key_size, _curve = public_key_info(cert.public_key())
    if key_type == "DSA":
        return "DSA, which TLS clients no longer accept", key_type, key_size
    verdict = rules.key_verdict(key_type, key_size)
    if verdict.too_small:
        return "%s %d bits, under %s %d" % (key_type, key_size, verdict.option, verdict.minimum), key_type, key_size
    return None


def analyze(served, host, anchors, now=None, min_days_left=30, min_rsa_key_size=2048,
            blocklisted_digests=("sha1",), chain_known=True, min_ec_key_size=256):
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
    rules = Policy(blocklisted_digests or (), min_rsa_key_size, min_ec_key_size)
    findings = []
    leaf = served[0]
    path_idx = _served_path(served)
    path = [served[i] for i in path_idx]
    top = path[-1]

    # --- trust and completeness
    chain, anchor = build_chain(leaf, served, anchors)
    trusted = anchor is not None
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
        if top is leaf:
            msg = f"the server's certificate {subject_text(leaf)} is self-signed and not among the trust anchors"
            data = dict(_ref(top))
        elif is_self_signed(top):
            msg = f"the served chain ends at the root {subject_text(top)}, which is not among the trust anchors"
            data = dict(_ref(top))
        else:
            root = top.issuer.rfc4514_string()
            msg = (f"the certificate is not trusted: the served chain ends at {subject_text(top)}, issued by {root}, which is not "
                   f"among the trust anchors (if {root} is itself an intermediate CA, the server must send it too)")
            data = dict(_ref(top), missing_issuer=root)
        data["symptom"] = SYMPTOM
        findings.append(Finding("TLS-001", "error", msg, REMEDY_INSTALL_CA, data))
    if complete is False:
        missing = top.issuer.rfc4514_string()
        if trusted:
            msg = (
                f"the served chain is incomplete: {subject_text(top)} is issued by "
            f"{subject_text(anchor) if anchor is not None else missing}, which the server does not send; "
                "it is trusted here only because the trust anchors hold that intermediate CA"
            )
        else:
            msg = (
                "the served chain does not reach a trust anchor: the server sends only its own "
                f"certificate, issued by {missing}, which is not a trust anchor. Either the server omits the "
                f"intermediate CA certificate(s), or {missing} is a root CA these clients do not trust"
            )
        remedy = REMEDY_CHAIN_FILE + (
            " If the issuer is a private root CA: " + REMEDY_INSTALL_CA if not trusted else ""
        )
        findings.append(
            Finding("TLS-002", "error", msg, remedy, dict(_ref(top), missing_issuer=missing, symptom=SYMPTOM))
        )

    # --- host name
    hm = match_hostname(leaf, host)
    if hm.matched and hm.via == "cn-legacy":
        findings.append(
            Finding(
                "TLS-004",
                "error",
                "{} matches only the legacy subject CN {}; the certificate has no subjectAltName, which "
                "Apple platforms (Tableau Mobile on iOS), Chrome and Android require".format(host, ", ".join(hm.names)),
                f"Reissue the certificate with a subjectAltName DNS entry for every name users type (e.g. DNS:{host}).",
                dict(names=list(hm.names), symptom=SYMPTOM),
            )
        )
    elif not hm.matched:
        fqdn = _short_name_fqdn(host, hm.names)
        issued_to = ", ".join(hm.names) if hm.names else "(no names)"
        if fqdn:  # seed 001: a short name where the certificate holds the FQDN
            findings.append(
                Finding(
                    "TLS-003",
                    "error",
                    f"the certificate is not issued to {host}: {host} is a short name and the certificate is issued "
                    f"to {issued_to}. Use the FQDN {fqdn}",
                    f'Sign in to Tableau Server as https://{fqdn} (the name in the certificate\'s "Issued to"), '
                    f"not the short name; or reissue the certificate with a SAN for {host}.",
                    dict(names=list(hm.names), fqdn=fqdn, short_name=True, symptom=SYMPTOM),
                )
            )
        else:
            findings.append(
                Finding(
                    "TLS-003",
                    "error",
                    f"the certificate is not issued to {host}; it is issued to {issued_to}",
                    "Connect with one of the names the certificate is issued to, or reissue it with a "
                    f"subjectAltName for {host} (and every other name users type).",
                    dict(names=list(hm.names), fqdn=None, short_name=False, symptom=SYMPTOM),
                )
            )

    # --- per-certificate checks on the chain the clients build (served path, plus the anchor)
    checked = [(served[i], i) for i in path_idx]
    if anchor is not None and fingerprint(anchor, "sha256") not in [fingerprint(c, "sha256") for c, _pos in checked]:
        checked.append((anchor, None))
    for cert, pos in checked:
        is_root = is_self_signed(cert) and cert is not leaf
        where = "trust anchor" if pos is None else ("leaf" if pos == 0 else "served #%d" % pos)
        ref = dict(_ref(cert, pos), role=where)
        if not is_root:
            digest = signature_hash(cert)
            if digest and rules.digest_blocked(digest):
                findings.append(
                    Finding(
                        "TLS-005",
                        "error",
                        f"{subject_text(cert)} ({where}) is signed with {digest.upper()}, a blocklisted digest",
                        "Reissue it signed with SHA-256 or stronger (Tableau's default "
                        "wgserver.saml.blocklisted_digest_algorithms lists SHA1; modern clients reject "
                        "SHA-1 signatures).",
                        dict(ref, digest=digest, symptom=SYMPTOM),
                    )
                )
        if is_root and pos is not None:
            continue  # a served root is never used from the wire; the anchor copy counts
        if is_expired(cert, now):
            findings.append(
                Finding(
                    "TLS-006",
                    "error",
                    f"{subject_text(cert)} ({where}) expired on {not_after(cert).date().isoformat()}",
                    "Renew it and install the new certificate (tsm security external-ssl enable ...) or trust anchor.",
                    dict(ref, not_after=not_after(cert).isoformat(), symptom=SYMPTOM),
                )
            )
        elif is_not_yet_valid(cert, now):
            findings.append(
                Finding(
                    "TLS-007",
                    "error",
                    f"{subject_text(cert)} ({where}) is not valid before {not_before(cert).isoformat()}",
                    "Check the clock of the server and the clients, or wait until the certificate is valid.",
                    dict(ref, not_before=not_before(cert).isoformat(), symptom=SYMPTOM),
                )
            )
        elif days_left(cert, now) < min_days_left:
            findings.append(
                Finding(
                    "TLS-008",
                    "warning",
                    "%s (%s) expires in %d days (on %s), under min_days_left %d"
                    % (
                        subject_text(cert),
                        where,
                        days_left(cert, now),
                        not_after(cert).date().isoformat(),
                        min_days_left,
                    ),
                    "Renew it before it expires.",
                    dict(ref, days_left=days_left(cert, now), not_after=not_after(cert).isoformat()),
                )
            )
        weak = _weak_key(cert, rules)
        if weak:
            findings.append(
                Finding(
                    "TLS-009",
                    "error",
                    f"{subject_text(cert)} ({where}) has a weak key: {weak[0]}",
                    "Reissue it with an RSA key of at least %d bits or an EC key of at least %d bits (P-256, P-384)."
                    % (rules.min_rsa_key_size, rules.min_ec_key_size),
                    dict(ref, key_type=weak[1], key_size=weak[2], symptom=SYMPTOM),
                )
            )

    # --- issuers must be CAs (basicConstraints CA:TRUE); self-signed v1 roots are accepted
    for pos in path_idx[1:]:
        cert = served[pos]
        if not is_ca(cert) and not is_self_signed(cert):
            findings.append(
                Finding(
                    "TLS-018",
                    "error",
                    "%s (served #%d) issues %s but is not a CA certificate (basicConstraints CA:TRUE missing)"
                    % (subject_text(cert), pos, subject_text(served[path_idx[path_idx.index(pos) - 1]])),
                    "Reissue the intermediate with basicConstraints critical CA:TRUE and keyUsage keyCertSign, "
                    "then reissue the server certificate from it.",
                    dict(_ref(cert, pos), symptom=SYMPTOM),
                )
            )

    # --- leaf profile (Apple's rules for TLS server certificates, iOS 13+)
    if is_ca(leaf):
        findings.append(
            Finding(
                "TLS-011",
                "warning",
                f"the server's certificate {subject_text(leaf)} is a CA certificate (basicConstraints CA:TRUE)",
                "Issue the server an end-entity certificate (CA:FALSE) from the CA; do not serve the CA "
                "certificate itself.",
                _ref(leaf, 0),
            )
        )
    eku = _eku(leaf)
    if eku is not None and ExtendedKeyUsageOID.SERVER_AUTH not in eku:
        findings.append(
            Finding(
                "TLS-015",
                "error",
                f"the server's certificate {subject_text(leaf)} has an ExtendedKeyUsage without serverAuth",
                "Reissue it with extendedKeyUsage = serverAuth (TLS Web Server Authentication).",
                dict(_ref(leaf, 0), symptom=SYMPTOM),
            )
        )
    elif eku is None and not_before(leaf) >= APPLE_RULES_FROM and not is_self_signed(leaf):
        findings.append(
            Finding(
                "TLS-015",
                "error",
                f"the server's certificate {subject_text(leaf)} has no ExtendedKeyUsage; iOS 13+/macOS 10.15+ require "
                "serverAuth in certificates issued after 2019-07-01",
                "Reissue it with extendedKeyUsage = serverAuth.",
                dict(_ref(leaf, 0), symptom=MOBILE_UNTRUSTED),
            )
        )
    validity = (not_after(leaf) - not_before(leaf)).days
    if not_before(leaf) >= APPLE_RULES_FROM and validity > APPLE_MAX_VALIDITY_DAYS:
        findings.append(
            Finding(
                "TLS-016",
                "error",
                "the server's certificate %s is valid for %d days; iOS 13+/macOS 10.15+ reject TLS server "
                "certificates valid for more than %d days" % (subject_text(leaf), validity, APPLE_MAX_VALIDITY_DAYS),
                "Reissue it with a validity of %d days or fewer (398 for publicly trusted CAs)."
                % APPLE_MAX_VALIDITY_DAYS,
                dict(_ref(leaf, 0), validity_days=validity, symptom=MOBILE_UNTRUSTED),
            )
        )

    # --- what the server sends besides the chain
    if chain_known:
        if path_idx != list(range(len(path_idx))):
            findings.append(
                Finding(
                    "TLS-010",
                    "warning",
                    "the served chain is out of order: the certificates chain in the served order {}".format(
                        " -> ".join("#%d" % i for i in path_idx)
                    ),
                    "Order the chain file leaf's issuer first, then its issuer, up to (optionally) the "
                    "root; TLS 1.2 requires each certificate to certify the one before it.",
                    {"path": list(path_idx)},
                )
            )
        on_path = set(fingerprint(served[i], "sha256") for i in path_idx)
        extras = [(i, c) for i, c in enumerate(served) if i not in path_idx]
        if extras:
            described = []
            for i, c in extras:
                kind = "duplicate" if fingerprint(c, "sha256") in on_path else "not on the chain"
                described.append(dict(_ref(c, i), kind=kind))
            findings.append(
                Finding(
                    "TLS-012",
                    "warning",
                    "the server sends %d certificate(s) that are not part of its chain: %s"
                    % (
                        len(extras),
                        "; ".join("#%d %s (%s)" % (d["position"], d["subject"], d["kind"]) for d in described),
                    ),
                    "Remove unrelated and duplicate certificates from the chain file.",
                    {"extra": described},
                )
            )
    elif complete is None:
        findings.append(
            Finding(
                "TLS-013",
                "warning",
                "only the server's certificate could be read (the server refuses TLS 1.2 and this "
                "Python cannot show a TLS 1.3 peer chain): whether it serves its intermediates is unknown",
                "Run the probe with Python 3.10+ on the target, or check the chain file given to "
                "tsm security external-ssl enable --chain-file.",
                {},
            )
        )

    names = list(hm.names)
    return {
        "findings": findings,
        "chain_complete": complete,
        "trusted": trusted,
        "anchor": anchor,
        "chain": chain,
        "name_matched": bool(hm.matched),
        "matched_via": hm.via,
        "names": names,
        "path": path_idx,
        "common_names": common_names(leaf),
    }
