# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a store holds: the anchor files (by fingerprint), the consolidated bundle and the sources
this package does not manage (system CAs).  Every file is read through the collection's one reader.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1, certs, reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.layouts import Layout
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.names import cert_digests, colon, digests_of_der

_PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


# --------------------------------------------------------------------------- scanning

class AnchorFile:
    """One file in the anchors directory and the certificates in it (or why it is unreadable)."""

    __slots__ = ("path", "sha256", "sha1", "subjects", "encoding", "error", "usable", "size")

    def __init__(self, path: str) -> None:
        self.path = path
        self.sha256: list[str] = []
        self.sha1: list[str] = []
        self.subjects: list[str] = []
        self.encoding: str | None = None    # pem | der
        self.error: str | None = None       # why it could not be read as certificates
        self.usable = False     # the store's update tool takes its certificates
        self.size = 0

    @property
    def count(self) -> int:
        return len(self.sha256)

    def holds(self, kind: str, hexed: str) -> bool:
        return self.error is None and hexed in (self.sha256 if kind == "sha256" else self.sha1)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": [colon(h) for h in self.sha256],
                "subjects": list(self.subjects), "encoding": self.encoding,
                "usable": self.usable, "error": self.error}

    def __repr__(self) -> str:
        return f"AnchorFile({self.path!r}, {self.count} certs{', ' + self.error if self.error else ''})"


def _read_store_file(path: str, what: str, max_bytes: int = reader.MAX_BUNDLE, allow_empty: bool = False) -> bytes:
    """A file of the store through the collection's one reader (docs/inputs.md: the bundle cap).

    Raises reader.InputError; ``reason(exc)`` is its message without the leading label.
    """
    return reader.read_input(path=path, option=what, max_bytes=max_bytes, allow_empty=allow_empty)


def _reason(exc: Exception, path: str) -> str:
    """An InputError's message without its ``<label> <path>: `` prefix (the caller names the file)."""
    text = str(exc)
    marker = f"{path}: "
    return text[text.index(marker) + len(marker):] if marker in text else text


def read_anchor_file(path: str, lay: Layout) -> AnchorFile:
    """One anchor file: its certificates' digests and subjects, or why it cannot be read."""
    entry = AnchorFile(path)
    try:
        data = _read_store_file(path, "anchor file")
    except reader.InputError as exc:
        entry.error = f"unreadable ({_reason(exc, path)})"
        return entry
    entry.size = len(data)
    entry.encoding = "pem" if b"-----BEGIN" in data else "der"
    try:
        found = certs.load_certificates(data, path)
    except certs.CertificateError as exc:
        text = str(exc)
        entry.error = text[len(path) + 2:] if text.startswith(path + ": ") else text
        return entry
    for cert in found:
        s256, s1 = cert_digests(cert)
        entry.sha256.append(s256)
        entry.sha1.append(s1)
        entry.subjects.append(certs.subject_text(cert))
    entry.usable = entry.encoding == "pem" or lay.der_ok
    return entry


def certificate_in(path: str, kind: str, hexed: str) -> certs.x509.Certificate | None:
    """The certificate with this digest from an anchor file, or None (also when it cannot be read)."""
    try:
        found = certs.load_certificates(_read_store_file(path, "anchor file"), path)
    except TrustopsError:
        return None
    for cert in found:
        s256, s1 = cert_digests(cert)
        if (s256 if kind == "sha256" else s1) == hexed:
            return cert
    return None


def _candidate_files(lay: Layout) -> list[str]:
    top = lay.anchors_dir
    if not top or not os.path.isdir(top):
        return []
    found = []
    if lay.recursive:
        seen = set()
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:        # a symlink loop: find -L stops too
                dirnames[:] = []
                continue
            seen.add(real)
            dirnames.sort()
            for fname in sorted(filenames):
                found.append(os.path.join(dirpath, fname))
    else:
        for fname in sorted(os.listdir(top)):
            path = os.path.join(top, fname)
            if not os.path.isdir(path):
                found.append(path)
    result = []
    for path in found:
        base = os.path.basename(path)
        if lay.only_suffix and not base.endswith(lay.suffix):
            continue
        if base.startswith(".trustops-") and base.endswith(".tmp"):
            continue        # our own temporary file of an interrupted run
        result.append(path)
    return result


def scan_anchors(lay: Layout) -> tuple[list[AnchorFile], list[str]]:
    """(entries, warnings): every anchor file the store's tool reads, with its fingerprints.

    Unreadable or unparseable files are returned with ``error`` set and named in a warning;
    they are never planned for removal.  On Debian a DER ``*.crt`` is readable but not
    ``usable`` (the tool would append the binary verbatim), and a warning says so.
    """
    entries = []
    warnings = []
    for path in _candidate_files(lay):
        entry = read_anchor_file(path, lay)
        entries.append(entry)
        if entry.error:
            warnings.append(f"skipped {path}: {entry.error}; it is left alone")
        elif not entry.usable:
            warnings.append(
                f"{path} is DER; update-ca-certificates copies *.crt files verbatim into the bundle, so "
                "it does not make its certificate trusted (convert it to PEM)")
    return entries, warnings


class DigestSet:
    """SHA-256 and SHA-1 digests of the certificates of a bundle or a set of sources."""

    __slots__ = ("path", "exists", "sha256", "sha1", "count")

    def __init__(self, path: str | None = None, exists: bool = False) -> None:
        self.path = path
        self.exists = exists
        self.sha256: set[str] = set()
        self.sha1: set[str] = set()
        self.count = 0

    def add_der(self, der: bytes) -> None:
        s256, s1 = digests_of_der(der)
        self.sha256.add(s256)
        self.sha1.add(s1)
        self.count += 1

    def add_pem_blocks(self, data: bytes) -> None:
        for body in _PEM_CERT_RE.findall(data):
            try:
                der = base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
            except (binascii.Error, ValueError):
                continue
            self.add_der(der)

    def contains(self, kind: str, hexed: str) -> bool:
        return hexed in (self.sha256 if kind == "sha256" else self.sha1)


def read_bundle(path: str | None) -> DigestSet:
    """Digests of every PEM certificate in a consolidated bundle (absent file: empty set)."""
    result = DigestSet(path, exists=bool(path) and os.path.isfile(path or ""))
    if path and result.exists:
        try:
            result.add_pem_blocks(_read_store_file(path, "bundle", allow_empty=True))
        except reader.InputError as exc:
            raise TrustStoreError(f"cannot read the bundle {path}: {_reason(exc, path)}")
    return result


def _add_file(result: DigestSet, path: str) -> None:
    try:
        data = _read_store_file(path, "system CA file")
    except reader.InputError:
        return
    if b"-----BEGIN" in data:
        result.add_pem_blocks(data)
    elif _asn1.starts_sequence(data):
        result.add_der(data)


def other_source_digests(lay: Layout) -> DigestSet:
    """Digests of the certificates the store trusts from sources this module does not manage.

    Debian: the system CAs enabled in ``/etc/ca-certificates.conf``.  RHEL: everything under
    ``/usr/share/pki/ca-trust-source`` and ``/etc/pki/ca-trust/source`` except our anchors
    directory and the blocklists.  macOS: none.
    """
    result = DigestSet()
    if lay.store == "debian" and lay.certsconf and os.path.isfile(lay.certsconf):
        try:
            data = _read_store_file(lay.certsconf, "certsconf", max_bytes=reader.MAX_TEXT, allow_empty=True)
        except reader.InputError as exc:
            raise TrustStoreError(f"cannot read {lay.certsconf}: {_reason(exc, lay.certsconf)}")
        lines = data.decode("utf-8", "replace").splitlines()
        for line in lines:
            line = line.strip()
            if not line or line[0] in "#!":
                continue
            _add_file(result, os.path.join(lay.certsdir, line))
    elif lay.store == "redhat":
        skip = {os.path.realpath(lay.anchors_dir)}
        for top in lay.other_dirs:
            if not os.path.isdir(top):
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in sorted(dirnames)
                               if d not in ("blocklist", "blacklist")
                               and os.path.realpath(os.path.join(dirpath, d)) not in skip]
                for fname in sorted(filenames):
                    _add_file(result, os.path.join(dirpath, fname))
    return result
