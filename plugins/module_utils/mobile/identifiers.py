# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one derivation of every identifier the artifacts carry: UUIDs, payload identifiers, ONC GUIDs.

Derived from the profile identifier, what they identify and each certificate's SHA-256, so the
same inputs give the same values on every run (see :func:`derived_uuid`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

#: Namespace of every UUID this module derives (itself uuid5(NAMESPACE_DNS, ...), so anyone can
#: recompute it): see :func:`derived_uuid`.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "mobile.trustops.tableau")
#: What a derived UUID identifies; part of the derived name, so no two roles share a UUID.
UUID_ROLES = ("profile", "payload", "onc")


def derived_uuid(identifier: str, role: str, sha256s: Iterable[str]) -> str:
    """The one UUID derivation: uuid5(NAMESPACE, "<identifier>/<role>/<sha256 hex>[,<sha256 hex>...]"),
    upper case as Apple's tools write UUIDs.

    ``role`` names what the UUID identifies (``profile``, ``payload``, ``onc``), so the profile,
    its payloads and the ONC certificates never share a value, even for a single CA (Apple:
    every PayloadUUID is globally unique), while each stays the same on every run.
    """
    if role not in UUID_ROLES:
        raise ValueError(f"unknown UUID role {role!r}")
    return str(uuid.uuid5(NAMESPACE, "{}/{}/{}".format(identifier, role, ",".join(s.lower() for s in sha256s)))).upper()


def payload_uuid(identifier: str, sha256hex: str) -> str:
    """The PayloadUUID of the certificate payload for one CA."""
    return derived_uuid(identifier, "payload", [sha256hex])


def profile_uuid(identifier: str, sha256s: Iterable[str]) -> str:
    """The top-level PayloadUUID: over the identifier and every certificate's SHA-256, in order."""
    return derived_uuid(identifier, "profile", sha256s)


def payload_identifier(identifier: str, sha256hex: str) -> str:
    """The PayloadIdentifier of one CA's payload: ``<identifier>.ca.<first 16 hex of SHA-256>``."""
    return f"{identifier}.ca.{sha256hex[:16].lower()}"


def onc_guid(identifier: str, sha256hex: str) -> str:
    """The ONC ``GUID`` of one CA's certificate: its own derived UUID, braced, lower case."""
    return "{{{}}}".format(derived_uuid(identifier, "onc", [sha256hex]).lower())
