# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the SAML checks: the clock, short error texts, certificate facts.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    days_left,
    fingerprint,
    is_expired,
    is_not_yet_valid,
    issuer_text,
    not_after,
    not_before,
    public_key,
    public_key_info,
    signature_hash,
    subject_text,
)

if TYPE_CHECKING:  # cryptography may be missing where only the names are needed
    from cryptography import x509


def utcnow(now: datetime.datetime | None = None) -> datetime.datetime:
    return now or datetime.datetime.now(datetime.timezone.utc)


def short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def basename(path: str | None) -> str | None:
    return re.split(r"[\\/]", path)[-1] if path else path


def cert_facts(cert: x509.Certificate, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The JSON-friendly facts returned for a certificate (no PEM body); an unparsable subject or
    issuer is None (:func:`cert_label` then names the certificate by fingerprint)."""
    key_type, key_size, curve = public_key_info(public_key(cert))
    return {
        "subject": subject_text(cert, "") or None,
        "issuer": issuer_text(cert, "") or None,
        "sha256": fingerprint(cert, "sha256"),
        "sha1": fingerprint(cert, "sha1"),
        "key_type": key_type,
        "key_size": key_size,
        "curve": curve,
        "signature_hash": signature_hash(cert),
        "not_after": not_after(cert).isoformat(),
        "days_left": days_left(cert, now),
        "expired": is_expired(cert, now),
    }


def cert_label(facts: dict[str, Any]) -> str:
    return facts.get("subject") or "SHA-256 " + facts["sha256"][:23]


def validity_state(cert: x509.Certificate, now: datetime.datetime | None) -> tuple[str, str] | None:
    """(state, when) for an expired or not yet valid certificate, else None."""
    if is_expired(cert, now):
        return "has expired", f"not after {not_after(cert).isoformat()}"
    if is_not_yet_valid(cert, now):
        return "is not valid yet", f"not before {not_before(cert).isoformat()}"
    return None


def cert_subject(cert: x509.Certificate) -> str:
    """The subject for messages (:func:`certs.subject_text`), or the certificate's SHA-256
    fingerprint when the subject cannot be parsed."""
    return subject_text(cert, "") or "SHA-256 " + fingerprint(cert)[:23]
