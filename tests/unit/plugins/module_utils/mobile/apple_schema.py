# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's profile schema, as data, and the checks the mobile tests run every profile through.
"""

from __future__ import annotations

import datetime
import re
import uuid


# From apple/device-management (branch release), mdm/profiles/TopLevel.yaml,
# mdm/profiles/CommonPayloadKeys.yaml, mdm/profiles/com.apple.security.root.yaml and
# mdm/profiles/com.apple.security.pkcs1.yaml: key -> (plist type, presence, rangelist or None).
# Types are the schema's <string>/<integer>/<boolean>/<data>/<array>/<dictionary>/<date>/<real>.
TOP_LEVEL = {
    "PayloadIdentifier": ("string", "required", None),
    "PayloadUUID": ("string", "required", None),
    "PayloadType": ("string", "required", ["Configuration"]),
    "PayloadVersion": ("integer", "required", [1]),
    "PayloadContent": ("array", "required", None),
    "IsEncrypted": ("boolean", "optional", None),
    "EncryptedPayloadContent": ("data", "optional", None),
    "PayloadDescription": ("string", "optional", None),
    "PayloadDisplayName": ("string", "optional", None),
    "HasRemovalPasscode": ("boolean", "optional", None),
    "PayloadOrganization": ("string", "optional", None),
    "PayloadRemovalDisallowed": ("boolean", "optional", None),
    "PayloadScope": ("string", "optional", ["System", "User"]),
    "RemovalDate": ("date", "optional", None),
    "DurationUntilRemoval": ("real", "optional", None),
    "PayloadExpirationDate": ("date", "optional", None),
    "TargetDeviceType": ("integer", "optional", [0, 1, 2, 3, 4, 5]),
    "ConsentText": ("dictionary", "optional", None),  # subkeys: BCP 47 language or 'default' -> <string>
}

COMMON_PAYLOAD = {
    "PayloadIdentifier": ("string", "required", None),
    "PayloadUUID": ("string", "required", None),
    "PayloadType": ("string", "required", None),
    "PayloadVersion": ("integer", "required", [1]),
    "PayloadDescription": ("string", "optional", None),
    "PayloadDisplayName": ("string", "optional", None),
    "PayloadOrganization": ("string", "optional", None),
}

CERT_PAYLOAD = {  # identical key lists in com.apple.security.root.yaml and com.apple.security.pkcs1.yaml
    "PayloadCertificateFileName": ("string", "optional", None),
    "PayloadContent": ("data", "required", None),
}

PLIST_TYPES = {"string": str, "integer": int, "boolean": bool, "data": bytes, "array": list,
               "dictionary": dict, "date": datetime.datetime, "real": float}

UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")


def check_keys(item, table, where):
    """Every key known with its schema type (bool is not an integer here), required keys present."""
    problems = []
    for key, value in item.items():
        if key not in table:
            problems.append(f"{where}: {key} is not a key of the schema")
            continue
        kind, _presence, allowed = table[key]
        pytype = PLIST_TYPES[kind]
        ok = isinstance(value, pytype) and not (kind == "integer" and isinstance(value, bool))
        if not ok:
            problems.append(f"{where}: {key} is {type(value).__name__}, the schema says <{kind}>")
        if allowed is not None and value not in allowed:
            problems.append(f"{where}: {key}={value!r} not in {allowed!r}")
    for key, (_kind, presence, _allowed) in table.items():
        if presence == "required" and key not in item:
            problems.append(f"{where}: required key {key} missing")
    return problems


def identity_problems(profile):
    """Apple's identity rules for a whole profile (TopLevel.yaml, CommonPayloadKeys.yaml): every
    PayloadUUID "globally unique" (so never twice in one profile, top level included), each an
    RFC 4122 UUID string; every payload's PayloadIdentifier "unique within the profile" (and not
    the profile's own)."""
    problems = []
    items = [("TopLevel", profile)] + [(f"PayloadContent[{i}]", p)
                                       for i, p in enumerate(profile.get("PayloadContent") or [])
                                       if isinstance(p, dict)]
    seen = {}
    for where, item in items:
        value = item.get("PayloadUUID")
        if not isinstance(value, str):
            continue
        try:
            uuid.UUID(value)
        except ValueError:
            problems.append(f"{where}: PayloadUUID {value!r} is not a UUID")
        key = value.upper()
        if key in seen:
            problems.append(f"{where}: PayloadUUID {value} is also the PayloadUUID of {seen[key]}")
        seen.setdefault(key, where)
    idents = {}
    for where, item in items:
        value = item.get("PayloadIdentifier")
        if not isinstance(value, str):
            continue
        if value in idents:
            problems.append(f"{where}: PayloadIdentifier {value} is also the PayloadIdentifier of {idents[value]}")
        idents.setdefault(value, where)
    return problems


def schema_problems(profile):
    problems = check_keys(profile, TOP_LEVEL, "TopLevel") + identity_problems(profile)
    consent = profile.get("ConsentText")
    for lang, text in (consent.items() if isinstance(consent, dict) else ()):
        if not isinstance(text, str) or not re.match(r"^(default|[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*)$", lang):
            problems.append(f"ConsentText: {lang!r} -> {text!r}")
    for index, payload in enumerate(profile.get("PayloadContent", [])):
        table = dict(COMMON_PAYLOAD)
        table.update(CERT_PAYLOAD)  # the payload's own PayloadContent (data) overrides nothing common
        where = f"PayloadContent[{index}] ({payload.get('PayloadType')})"
        if payload.get("PayloadType") not in ("com.apple.security.root", "com.apple.security.pkcs1"):
            problems.append(f"{where}: unexpected payload type")
        problems += check_keys(payload, table, where)
    return problems
