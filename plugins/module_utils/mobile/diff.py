# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``--diff`` shows: plists, JSON and XML as they are; DER and CMS summarised (no secrets anyway)."""

from __future__ import annotations

import hashlib

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.cms import looks_signed, read_signed
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.inputs import subject_text

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


def describe_bytes(kind, data):
    """A text for --diff: plists and JSON/XML as they are, DER and CMS summarised (no secrets anyway)."""
    if data is None:
        return ""
    if kind == "der":
        try:
            cert = x509.load_der_x509_certificate(data)
            return "DER certificate {}\nSHA-256 {}\n".format(subject_text(cert), certs.fingerprint(cert, "sha256"))
        except Exception:
            return "not a DER certificate (%d bytes, SHA-256 %s)\n" % (len(data), hashlib.sha256(data).hexdigest())
    if kind == "profile" and looks_signed(data):
        got = read_signed(data)
        if got.content is None:
            return "unreadable signed data (%s), %d bytes\n" % (got.problem, len(data))
        head = "# CMS SignedData, signer {} (SHA-256 {}), signature {}\n".format(
            subject_text(got.signer) if got.signer is not None else "?",
            certs.fingerprint(got.signer, "sha256") if got.signer is not None else "?",
            "valid" if got.valid else f"INVALID: {got.problem}")
        return head + _text(got.content)
    return _text(data)


def _text(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary, %d bytes, SHA-256 %s\n" % (len(data), hashlib.sha256(data).hexdigest())


def diff_entries(artifacts, signer=None):
    """One Ansible diff dict per changed artifact.  A profile still to be signed shows its plist."""
    out = []
    for art in artifacts:
        if art.action == "keep":
            continue
        after = describe_bytes(art.kind, art.data)
        if art.resign and not looks_signed(art.data):
            after = "# CMS SignedData, signer {} (SHA-256 {}), new signature\n{}".format(
                subject_text(signer.cert), certs.fingerprint(signer.cert, "sha256"), _text(art.data))
        out.append({"before_header": art.path, "after_header": art.path,
                    "before": describe_bytes(art.kind, art.before), "after": after})
    return out
