# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""macOS System keychain: the argv of every ``security`` call, parsers of its output and the
plans of steps (not run here: no macOS host in CI; see docs/trust_anchor.md).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.names import cert_digests, digests_of_der


# --------------------------------------------------------------------------- macOS (not run here)

class KeychainItem:
    """One certificate of a keychain: its SHA-1 (always), SHA-256 and PEM (when ``-p`` printed it)."""

    __slots__ = ("sha1", "sha256", "pem")

    def __init__(self, sha1: str, sha256: str | None = None, pem: str | None = None) -> None:
        self.sha1 = sha1
        self.sha256 = sha256
        self.pem = pem

    def holds(self, kind: str, hexed: str) -> bool:
        return (self.sha1 if kind == "sha1" else self.sha256) == hexed


def macos_find_argv(keychain: str, binary: str = "security") -> list[str]:
    return [binary, "find-certificate", "-a", "-Z", "-p", keychain]


def macos_add_argv(keychain: str, cert_file: str, binary: str = "security") -> list[str]:
    return [binary, "add-trusted-cert", "-d", "-r", "trustRoot", "-k", keychain, cert_file]


def macos_remove_trust_argv(cert_file: str, binary: str = "security") -> list[str]:
    return [binary, "remove-trusted-cert", "-d", cert_file]


def macos_delete_argv(sha1: str, keychain: str, binary: str = "security") -> list[str]:
    return [binary, "delete-certificate", "-Z", sha1, keychain]


def macos_trust_export_argv(out_file: str, binary: str = "security") -> list[str]:
    return [binary, "trust-settings-export", "-d", out_file]


_SHA1_LINE = re.compile(r"^SHA-1 hash:\s*([0-9A-Fa-f]{40})\s*$", re.MULTILINE)


def parse_find_certificate(text: str | bytes) -> list[KeychainItem]:
    """Keychain items from ``security find-certificate -a -Z -p`` output.

    Each item's digests are computed from its PEM block; ``SHA-1 hash:`` lines without a PEM
    block (should ``-p`` print nothing for an item) still count, by SHA-1 only.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    items = []
    seen_sha1 = set()
    for match in re.finditer(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.DOTALL):
        pem = match.group(0)
        body = re.sub(r"\s+", "", pem[len("-----BEGIN CERTIFICATE-----"):-len("-----END CERTIFICATE-----")])
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue
        s256, s1 = digests_of_der(der)
        seen_sha1.add(s1)
        items.append(KeychainItem(s1, s256, pem + "\n"))
    for s1 in _SHA1_LINE.findall(text):
        if s1.upper() not in seen_sha1:
            seen_sha1.add(s1.upper())
            items.append(KeychainItem(s1.upper()))
    return items


def parse_trust_settings(data: bytes) -> set[str]:
    """SHA-1 digests (upper-case hex) listed in an exported trust-settings plist.

    The exported plist keeps per-certificate settings under ``trustList``, keyed by the hex SHA-1
    of the certificate.  Unconfirmed on a real Mac here; see docs/trust_anchor.md.
    """
    # imported here: only a macOS task parses a plist, a Linux task does not load plistlib
    import plistlib  # pylint: disable=import-outside-toplevel

    try:
        doc = plistlib.loads(data)
    except Exception as exc:
        raise TrustStoreError(f"cannot parse the exported trust settings: {exc}")
    trust_list = doc.get("trustList", {}) if isinstance(doc, dict) else {}
    result = set()
    for key in trust_list:
        hexed = re.sub(r"[^0-9A-Fa-f]", "", str(key)).upper()
        if len(hexed) == 40:
            result.add(hexed)
    return result


class MacStep:
    """One ``security`` call of a macOS plan; ``needs_file`` when argv needs a PEM file path."""

    __slots__ = ("action", "sha1", "pem", "needs_file")

    def __init__(self, action: str, sha1: str, pem: str | None = None, needs_file: bool = False) -> None:
        self.action = action        # add | remove-trust | delete
        self.sha1 = sha1
        self.pem = pem
        self.needs_file = needs_file

    def argv(self, keychain: str, cert_file: str | None = None, binary: str = "security") -> list[str]:
        if self.action in ("add", "remove-trust") and not cert_file:
            raise TrustStoreError(f"security {self.action} needs the certificate as a file")
        if self.action == "add":
            return macos_add_argv(keychain, str(cert_file), binary)
        if self.action == "remove-trust":
            return macos_remove_trust_argv(str(cert_file), binary)
        return macos_delete_argv(self.sha1, keychain, binary)


def plan_macos_present(cert: certs.x509.Certificate, items: Sequence[KeychainItem],
                       trusted: set[str] | None) -> list[MacStep]:
    """Steps to make ``cert`` trusted in the System keychain; [] when it already is.

    ``trusted`` is the set of SHA-1s with admin trust settings, or None when unknown (then
    keychain membership alone decides).
    """
    _s256, s1 = cert_digests(cert)
    in_keychain = any(i.sha1 == s1 for i in items)
    has_trust = True if trusted is None else s1 in trusted
    if in_keychain and has_trust:
        return []
    return [MacStep("add", s1, certs.to_pem(cert).decode("ascii"), needs_file=True)]


def plan_macos_absent(kind: str, hexed: str, items: Sequence[KeychainItem], trusted: set[str] | None,
                      cert: certs.x509.Certificate | None = None) -> list[MacStep]:
    """Steps to remove the certificate's admin trust settings and its System keychain items.

    Trust settings are removed first (``remove-trusted-cert -d`` needs the certificate as a
    file: taken from the keychain's PEM or from ``cert``), then the keychain item is deleted
    by SHA-1.  Trust settings left behind without a keychain item are removed too when the
    certificate is known.
    """
    pem = certs.to_pem(cert).decode("ascii") if cert is not None else None
    matches = [i for i in items if i.holds(kind, hexed)]
    steps = []
    for item in matches:
        body = item.pem or pem
        if body and (trusted is None or item.sha1 in trusted):
            steps.append(MacStep("remove-trust", item.sha1, body, needs_file=True))
        steps.append(MacStep("delete", item.sha1))
    if not matches and cert is not None and trusted:
        s1 = cert_digests(cert)[1]
        if s1 in trusted:
            steps.append(MacStep("remove-trust", s1, pem, needs_file=True))
    return steps
