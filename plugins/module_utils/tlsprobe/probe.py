# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe: connect, read the served chain, run the referee and the analysis, one result.

:func:`probe` is the one entry point of the ``tls_probe`` module.  Raises ``TlsProbeError`` when
no certificate can be obtained at all, ``TrustopsError`` (``PolicyError``) for an unusable
``ca_file``/``ca_content`` or meaningless options, before anything connects.  The findings only
the whole probe can tell (the referee's verdict: TLS-001 for a leaf-only chain, TLS-014, TLS-017)
are made here, through the rule registry :mod:`.rules`.  No Ansible imports.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    HAS_CRYPTOGRAPHY,
    CertificateError,
    describe,
    fingerprint,
    load_certificates,
    subject_text,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.policy import Policy
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import rules
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.analysis import analyze
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.anchors import load_anchors
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.referee import CHAIN_VERIFY_CODES, ssl_handshake
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.wire import (
    ConnectError,
    Endpoint,
    NotTlsError,
    ReadTimeoutError,
    TlsProbeError,
    read_served_chain,
    sni_bytes,
)

__all__ = ["probe", "ProbeResult"]


def _parse_served(ders: Iterable[bytes], endpoint: Endpoint) -> list:
    certs = []
    for i, der in enumerate(ders):
        try:
            certs.extend(load_certificates(bytes(der), f"{endpoint}: served certificate #{i}"))
        except CertificateError as exc:
            raise TlsProbeError(str(exc))
    return certs


def probe(host: str, port: int = 443, address: str | None = None, server_name: str | None = None,
          ca_file: str | None = None, timeout: float = 10.0, min_days_left: int = 30,
          min_rsa_key_size: int = 2048, blocklisted_digests: Iterable[str] | None = ("sha1",),
          now: datetime.datetime | None = None, use_chain_api: bool = True, min_ec_key_size: int = 256,
          ca_content: str | bytes | None = None) -> ProbeResult:
    """Connect, read the served chain, run the referee and the analysis; return a result dict.

    ``host`` is the name users type (surrounding blanks ignored).  ``server_name`` None means
    "the host"; "" disables SNI.  ``ca_content`` (PEM text) is trusted in addition to ``ca_file``
    or the system store.  ``use_chain_api`` False forbids reading a TLS 1.3 chain through Python's
    (private before 3.13) chain API, as on Pythons without it.  Raises :class:`TlsProbeError` when
    no certificate can be obtained at all, TrustopsError for unusable ``ca_file``/``ca_content``
    or arguments.
    """
    if not HAS_CRYPTOGRAPHY:
        raise TrustopsError("the cryptography Python library is required")
    host = (host or "").strip()
    if not host:
        raise TrustopsError("host must not be empty")
    if not 0 < int(port) < 65536:
        raise TrustopsError(f"port must be 1-65535, not {port}")
    if timeout is None or timeout <= 0:
        raise TrustopsError("timeout must be a positive number of seconds")
    endpoint = Endpoint(host, int(port), address)
    sni = host if server_name is None else server_name
    sni_bytes(sni)  # validate early: a bad server_name is an input error
    # the policy options, through the one parser, before anything connects
    Policy(blocklisted_digests or (), min_rsa_key_size, min_ec_key_size)
    store = load_anchors(ca_file, ca_content)

    reader, reader_error = None, None
    try:
        reader = read_served_chain(endpoint, sni, timeout)
    except (ConnectError, ReadTimeoutError, NotTlsError):
        raise
    except TlsProbeError as exc:  # alert, closed, reset, malformed: let ssl try
        reader_error = exc

    # The referee: real OpenSSL, same anchors, checks the host name when SNI is the host.
    ip_host = _is_ip(host)
    hostname_check = bool(sni) and sni.rstrip(".").lower() == host.rstrip(".").lower()
    # clients match names without the root's trailing dot (OpenSSL's X509_check_host does not)
    ref_name = host.rstrip(".") if hostname_check else (sni.rstrip(".") or None)
    if not sni and ip_host:
        ref_name, hostname_check = host, True  # IP literals never go into SNI anyway
    need_chain = reader is None and use_chain_api
    ref = ssl_handshake(endpoint, ref_name, cafile=store.cafile, capath=store.capath, cadata=store.cadata,
                        verify=True, check_hostname=hostname_check, timeout=timeout, want_chain=need_chain)
    plain = ref
    if not ref.ok and (ref.verify_error is not None or reader is None):
        plain = ssl_handshake(endpoint, sni or None, verify=False, timeout=timeout, want_chain=need_chain)
        if not plain.ok and reader is None:
            why = [reader_error.reason] if reader_error is not None else []
            why.append(f"ssl: {plain.error or ref.error}")
            raise TlsProbeError("{}: TLS handshake failed: {}".format(endpoint, "; ".join(why)))

    if reader is not None:
        ders, chain_source, chain_known = reader.certificates, "tls12-reader", True
    elif plain.chain:
        ders, chain_source, chain_known = plain.chain, "ssl-peer-chain", True
    else:
        ders, chain_source, chain_known = [plain.leaf], "leaf-only", False
    if not ders or not ders[0]:
        raise TlsProbeError(f"{endpoint}: the server sent an empty certificate list")
    served = _parse_served(ders, endpoint)

    result = analyze(served, host, store.anchors, now=now, min_days_left=min_days_left,
                     min_rsa_key_size=min_rsa_key_size, blocklisted_digests=blocklisted_digests,
                     min_ec_key_size=min_ec_key_size,
                     chain_known=chain_known)
    findings = result["findings"]
    if result["trusted"] is None:  # leaf only: let OpenSSL's chain building decide
        result["trusted"] = bool(ref.ok or (ref.verify_code is not None
                                            and ref.verify_code not in CHAIN_VERIFY_CODES))
        if not result["trusted"]:
            findings.insert(0, rules.finding("TLS-001", reason=ref.verify_error or ref.error,
                                             chain_remedy=" " + rules.REMEDY_CHAIN_FILE,
                                             data={"symptom": rules.SYMPTOM}))
    if reader is None and reader_error is not None:
        findings.append(rules.finding("TLS-014", refusal=reader_error.reason, tls_version=plain.version))
    verify_error = None
    if not ref.ok:
        verify_error = ref.verify_error or ref.error
        if not any(f.severity == "error" for f in findings):
            findings.append(rules.finding("TLS-017", verify_error=verify_error,
                                          data={"verify_code": ref.verify_code, "symptom": rules.SYMPTOM}))

    anchor = result["anchor"]
    tls_version = (ref.version or plain.version or (reader.tls_version if reader else None))
    cipher = (ref.cipher or plain.cipher or (reader.cipher if reader else None))
    return ProbeResult({
        "host": host,
        "port": endpoint.port,
        "address": endpoint.target,
        "server_name": sni or None,
        "findings": [f.as_dict() for f in findings],
        "ok": not any(f.severity == "error" for f in findings),
        "verified": bool(ref.ok),
        "verify_error": verify_error,
        "verify_code": ref.verify_code,
        "verify_hostname_checked": hostname_check,
        "served_chain": [describe(c, now) for c in served],
        "chain_source": chain_source,
        "chain_complete": result["chain_complete"],
        "trusted": result["trusted"],
        "name_matched": result["name_matched"],
        "matched_via": result["matched_via"],
        "names": result["names"],
        "tls_version": tls_version,
        "cipher": cipher,
        "tls12": ({"version": reader.tls_version, "cipher": reader.cipher} if reader else None),
        "anchor": ({"subject": subject_text(anchor), "sha256": fingerprint(anchor, "sha256")}
                   if anchor is not None else None),
        "trust_store": store.as_dict(),
    }, findings)


class ProbeResult(dict):
    """The JSON-friendly result of :func:`probe`; ``finding_objects`` holds the Findings."""

    def __init__(self, data: dict[str, Any], findings: Iterable[Finding]) -> None:
        super().__init__(data)
        self.finding_objects = list(findings)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False
