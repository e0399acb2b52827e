# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Referee helper for the mobile_trust scenario (standard library only).

  inspect_profile.py plist PATH       print the property list's keys, types and payloads as JSON
  inspect_profile.py tamper SRC DST   copy SRC to DST with one byte of the signed content changed
"""

from __future__ import annotations

import hashlib
import json
import plistlib
import sys

TYPES = {str: "string", int: "integer", bool: "boolean", bytes: "data", list: "array", dict: "dictionary",
         float: "real"}


def kinds(item):
    return {key: TYPES.get(type(value), type(value).__name__) for key, value in sorted(item.items())}


def inspect(path):
    with open(path, "rb") as handle:
        profile = plistlib.load(handle)
    return {
        "keys": kinds(profile),
        "PayloadType": profile.get("PayloadType"),
        "PayloadVersion": profile.get("PayloadVersion"),
        "PayloadIdentifier": profile.get("PayloadIdentifier"),
        "PayloadUUID": profile.get("PayloadUUID"),
        "ConsentText": profile.get("ConsentText"),
        "payloads": [{"keys": kinds(p), "PayloadType": p.get("PayloadType"),
                      "PayloadIdentifier": p.get("PayloadIdentifier"), "PayloadUUID": p.get("PayloadUUID"),
                      "sha256": hashlib.sha256(p.get("PayloadContent", b"")).hexdigest()}
                     for p in profile.get("PayloadContent", [])],
    }


def tamper(src, dst):
    with open(src, "rb") as handle:
        data = bytearray(handle.read())
    at = data.index(b"<string>Configuration</string>") + len(b"<string>")
    data[at] ^= 0x20  # "Configuration" -> "configuration": one byte, still a valid plist
    with open(dst, "wb") as handle:
        handle.write(bytes(data))
    return {"offset": at}


if __name__ == "__main__":
    if sys.argv[1] == "plist":
        print(json.dumps(inspect(sys.argv[2])))
    else:
        print(json.dumps(tamper(sys.argv[2], sys.argv[3])))
