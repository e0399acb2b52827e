# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trust anchors the probe checks against: ``ca_file`` (strict) or the target's system store,
plus the CAs of ``ca_content`` (PEM text) when it is given.

Every file and the inline text are read through the one input reader (:func:`reader.read_input`,
CA bundle cap).  No Ansible imports.
"""

from __future__ import annotations

import os
import re
import ssl
import warnings
from collections.abc import Iterable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CertificateError,
    fingerprint,
    load_certificates,
    pem_blocks,
    to_pem,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - certs.HAS_CRYPTOGRAPHY reports it
    pass

__all__ = ["SYSTEM_BUNDLES", "TrustStore", "system_store_candidates", "load_anchors"]

#: Bundle files tried, after ``ssl.get_default_verify_paths()``, for the target's system store.
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, Fedora, Rocky, Amazon Linux
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL (the file behind the link)
    "/etc/ssl/ca-bundle.pem",  # SUSE
    "/etc/ssl/cert.pem",  # macOS, FreeBSD
)


class TrustStore:
    """Trust anchors and where they came from: ``cafile`` or ``capath`` for the referee, and
    ``cadata``, the PEM text of the anchors added by ``ca_content`` (``added`` of them)."""

    def __init__(self, anchors: list[x509.Certificate], path: str | None, cafile: str | None = None,
                 capath: str | None = None, skipped: int = 0) -> None:
        self.anchors = anchors
        self.path = path
        self.cafile = cafile
        self.capath = capath
        self.skipped = skipped
        self.cadata: str | None = None
        self.added = 0

    def add(self, extra: list[x509.Certificate]) -> None:
        """Trust ``extra`` too (the CAs of ``ca_content``): the analysis and the referee both see them."""
        known = {fingerprint(c, "sha256") for c in self.anchors}
        self.anchors = self.anchors + [c for c in _unique(extra) if fingerprint(c, "sha256") not in known]
        self.cadata = "".join(to_pem(c).decode("ascii") for c in extra)
        self.added = len(extra)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "count": len(self.anchors), "skipped": self.skipped, "ca_content": self.added}


def _tolerant_load(data: bytes, source: str) -> tuple[list[x509.Certificate], int]:
    """Every parseable certificate of a system bundle; unparseable entries are counted, not fatal."""
    anchors: list[x509.Certificate] = []
    skipped = 0
    with warnings.catch_warnings():
        # a few roots in distribution bundles have non-positive serials: cryptography warns
        warnings.simplefilter("ignore")
        for label, block in pem_blocks(data):
            if label not in (b"CERTIFICATE", b"X509 CERTIFICATE"):
                continue
            try:
                anchors.extend(load_certificates(block, source))
            except CertificateError:
                skipped += 1
    return anchors, skipped


def system_store_candidates() -> tuple[list[str], list[str]]:
    """(bundle files, hashed directories) where this host's system store may be, in order."""
    paths = ssl.get_default_verify_paths()
    files = [paths.cafile, paths.openssl_cafile] + list(SYSTEM_BUNDLES)
    dirs = [paths.capath, paths.openssl_capath]
    return [f for f in files if f], [d for d in dirs if d]


def load_anchors(ca_file: str | None = None, ca_content: str | bytes | None = None) -> TrustStore:
    """Trust anchors from ``ca_file`` (strict) or the system store of this host (tolerant), plus
    the certificates of ``ca_content`` (strict; PEM text, as :func:`certs.load_certificates` reads).

    ``ca_content`` is what this host would trust once that CA is installed (the client_trust role
    probes with it in check mode); with it, a host without a system store trusts ``ca_content``
    alone.  The system store is the first existing bundle among ``ssl.get_default_verify_paths()``
    and :data:`SYSTEM_BUNDLES`, else the hashed certificate directory.  Raises TrustopsError
    when ``ca_file`` or ``ca_content`` is unusable or holds no certificate, or when no system store
    is found and no ``ca_content`` is given.
    """
    extra = None
    if ca_content is not None:
        data = reader.read_input(content=ca_content, option="ca_content", max_bytes=reader.MAX_BUNDLE)
        extra = load_certificates(data, "ca_content")
    if ca_file:
        data = reader.read_input(path=ca_file, option="ca_file", max_bytes=reader.MAX_BUNDLE)
        store = TrustStore(load_certificates(data, f"ca_file {ca_file}"), ca_file, cafile=ca_file)
    else:
        try:
            store = _system_store()
        except TrustopsError:
            if extra is None:
                raise
            store = TrustStore([], None)
    if extra is not None:
        store.add(extra)
    return store


def _system_store() -> TrustStore:
    """The first system store found (bundle files first, then hashed directories); TrustopsError when none."""
    files, dirs = system_store_candidates()
    for path in files:
        if os.path.isfile(path):
            data = reader.read_input(path=path, option="system trust store", max_bytes=reader.MAX_BUNDLE)
            anchors, skipped = _tolerant_load(data, path)
            if anchors:
                return TrustStore(anchors, path, cafile=path, skipped=skipped)
    for directory in dirs:
        if not os.path.isdir(directory):
            continue
        anchors = []
        skipped = 0
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            if not os.path.isfile(full) or not re.search(r"(\.pem|\.crt|\.[0-9]+)$", name):
                continue
            try:
                found, bad = _tolerant_load(reader.read_input(path=full, option="system trust store",
                                                              max_bytes=reader.MAX_BUNDLE), full)
            except reader.InputError:
                skipped += 1
                continue
            anchors.extend(found)
            skipped += bad
        if anchors:
            return TrustStore(_unique(anchors), directory, capath=directory, skipped=skipped)
    raise TrustopsError("no system trust store found on this host (looked at {}); give ca_file or ca_content".format(", ".join(files + dirs)))


def _unique(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen, out = set(), []
    for c in certs:
        fp = fingerprint(c, "sha256")
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out
