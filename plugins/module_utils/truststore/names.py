# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fingerprints, anchor names and the certificate given to install (one, and only one).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_HEX_RE = re.compile(r"^[0-9A-F]+$")


# --------------------------------------------------------------------------- fingerprints and names

def normalize_fingerprint(text: object) -> tuple[str, str]:
    """(kind, HEX) from a SHA-256 or SHA-1 fingerprint; colons, spaces, dashes and case ignored."""
    if not isinstance(text, str) or not text.strip():
        raise TrustStoreError("fingerprint: empty; give a SHA-256 (64 hex digits) or SHA-1 (40 hex digits)")
    hexed = re.sub(r"[\s:\-]", "", text).upper()
    if not _HEX_RE.match(hexed):
        raise TrustStoreError(f"fingerprint {text!r}: not hexadecimal")
    if len(hexed) == 64:
        return "sha256", hexed
    if len(hexed) == 40:
        return "sha1", hexed
    raise TrustStoreError(
        f"fingerprint {text!r}: {len(hexed)} hex digits; a SHA-256 fingerprint has 64 and a SHA-1 fingerprint 40")


def colon(hexed: str) -> str:
    """AB:CD:... from ABCD..."""
    return ":".join(hexed[i:i + 2] for i in range(0, len(hexed), 2))


def digests_of_der(der: bytes) -> tuple[str, str]:
    """(sha256 HEX, sha1 HEX) of DER bytes, no separators."""
    return hashlib.sha256(der).hexdigest().upper(), hashlib.sha1(der).hexdigest().upper()


def cert_digests(cert: certs.x509.Certificate) -> tuple[str, str]:
    """(sha256 HEX, sha1 HEX) of a certificate, no separators."""
    return digests_of_der(certs.to_der(cert))


def _slug(text: str | None) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:40].strip("-")


def default_name(cert: certs.x509.Certificate) -> str:
    """Deterministic anchor name: ``trustops-<slug of CN>-<first 16 hex of SHA-256>``."""
    names: list[str] = certs.common_names(cert)
    if not names:
        try:
            names = [str(a.value) for a in cert.subject.get_attributes_for_oid(certs.NameOID.ORGANIZATION_NAME)]
        except Exception:
            names = []
    slug = _slug(names[0] if names else "") or "ca"
    return f"trustops-{slug}-{cert_digests(cert)[0][:16].lower()}"


def anchor_name(name: object) -> str:
    """``name`` when it can name an anchor file (a plain file name without extension), else
    TrustStoreError.

    An empty or blank name is an error, never a silent fall-back to the default name.
    """
    if isinstance(name, str) and not name.strip():
        raise TrustStoreError(
            f"name {name!r}: empty; give a file name (letters, digits, '.', '_', '+', '-'), or leave name out "
            "to use the default trustops-<CN>-<fingerprint> name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise TrustStoreError(
            f"name {name!r}: use 1 to 128 characters of letters, digits, '.', '_', '+' or '-', starting with "
            "a letter or digit (a file name without directory and without extension)")
    if name.lower().endswith((".crt", ".pem", ".cer")):
        raise TrustStoreError(f"name {name!r}: give the name without extension; the store's extension is added")
    return name


#: The name of :func:`anchor_name` before 0.1.0 (a ``check_*`` name in this collection returns findings).
check_name = anchor_name


# --------------------------------------------------------------------------- input

def load_anchor(data: bytes | str, source: str) -> certs.x509.Certificate:
    """The one certificate of an input; CertificateError for garbage, keys, or several certs."""
    found = certs.load_certificates(data, source)
    if len(found) != 1:
        subjects = ", ".join(certs.describe(c)["subject"] for c in found[:5]) + (", ..." if len(found) > 5 else "")
        raise certs.CertificateError(
            f"{source}: holds {len(found)} certificates ({subjects}); trust_anchor installs exactly one: give the CA "
            "certificate alone")
    return found[0]
