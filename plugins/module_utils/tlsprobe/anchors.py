# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trust anchors the probe checks against: ``ca_file`` (strict) or the target's system store.

Every file is read through the one input reader (:func:`reader.read_input`, CA bundle cap).
No Ansible imports.
"""

from __future__ import annotations

import os
import re
import ssl
import warnings

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CertificateError,
    fingerprint,
    load_certificates,
    pem_blocks,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

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
    """Trust anchors and where they came from (``cafile`` or ``capath`` for the referee)."""

    def __init__(self, anchors, path, cafile=None, capath=None, skipped=0):
        self.anchors = anchors
        self.path = path
        self.cafile = cafile
        self.capath = capath
        self.skipped = skipped

    def as_dict(self):
        return {"path": self.path, "count": len(self.anchors), "skipped": self.skipped}


def _tolerant_load(data, source):
    """Every parseable certificate of a system bundle; unparseable entries are counted, not fatal."""
    anchors, skipped = [], 0
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


def system_store_candidates():
    paths = ssl.get_default_verify_paths()
    files = [paths.cafile, paths.openssl_cafile] + list(SYSTEM_BUNDLES)
    dirs = [paths.capath, paths.openssl_capath]
    return [f for f in files if f], [d for d in dirs if d]


def load_anchors(ca_file=None):
    """Trust anchors from ``ca_file`` (strict) or the system store of this host (tolerant).

    The system store is the first existing bundle among ``ssl.get_default_verify_paths()``
    and :data:`SYSTEM_BUNDLES`, else the hashed certificate directory.  Raises TrustopsError
    when ``ca_file`` is unreadable or holds no certificate, or when no system store is found.
    """
    if ca_file:
        data = reader.read_input(path=ca_file, option="ca_file", max_bytes=reader.MAX_BUNDLE)
        anchors = load_certificates(data, f"ca_file {ca_file}")
        return TrustStore(anchors, ca_file, cafile=ca_file)
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
        anchors, skipped = [], 0
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
    raise TrustopsError("no system trust store found on this host (looked at {}); give ca_file".format(", ".join(files + dirs)))


def _unique(certs):
    seen, out = set(), []
    for c in certs:
        fp = fingerprint(c, "sha256")
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out
