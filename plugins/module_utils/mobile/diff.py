# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``--diff`` shows: plists, JSON and XML as they are; DER and CMS summarised (no secrets anyway)."""

from __future__ import annotations

import hashlib

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.cms import looks_signed, read_signed
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.signing import Signer
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.writer import Artifact

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


def describe_bytes(kind: str, data: bytes | None) -> str:
    """A text for --diff: plists and JSON/XML as they are, DER and CMS summarised (no secrets anyway)."""
    if data is None:
        return ""
    if kind == "der":
        try:
            cert = x509.load_der_x509_certificate(data)
            return f"DER certificate {certs.subject_text(cert)}\nSHA-256 {certs.fingerprint(cert, 'sha256')}\n"
        except Exception:
            return f"not a DER certificate ({len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()})\n"
    if kind == "profile" and looks_signed(data):
        got = read_signed(data)
        if got.content is None:
            return f"unreadable signed data ({got.problem}), {len(data)} bytes\n"
        head = "# CMS SignedData, signer {} (SHA-256 {}), signature {}\n".format(
            certs.subject_text(got.signer) if got.signer is not None else "?",
            certs.fingerprint(got.signer, "sha256") if got.signer is not None else "?",
            "valid" if got.valid else f"INVALID: {got.problem}")
        return head + _text(got.content)
    return _text(data)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary, {len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()}\n"


def diff_entries(artifacts: list[Artifact], signer: Signer | None = None) -> list[dict]:
    """One Ansible diff dict per changed artifact.  A profile still to be signed shows its plist."""
    out = []
    for art in artifacts:
        if art.action == "keep":
            continue
        after = describe_bytes(art.kind, art.data)
        if art.resign and signer is not None and not looks_signed(art.data):
            after = "# CMS SignedData, signer {} (SHA-256 {}), new signature\n{}".format(
                certs.subject_text(signer.cert), certs.fingerprint(signer.cert, "sha256"), _text(art.data))
        out.append({"before_header": art.path, "after_header": art.path,
                    "before": describe_bytes(art.kind, art.before), "after": after})
    return out
