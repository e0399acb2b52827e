# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Apple configuration profile (iOS/iPadOS/macOS): ``com.apple.security.root`` per CA.

See Apple's device-management schema (TopLevel.yaml, com.apple.security.root.yaml).
"""

from __future__ import annotations

import plistlib

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.identifiers import payload_identifier, payload_uuid, profile_uuid
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.inputs import (
    CA,
    MobileError,
    cert_basename,
    consent_dict,
    normalize_text,
    valid_identifier,
)

PROFILE_SUFFIX = ".mobileconfig"
DEFAULT_DISPLAY_NAME = "Tableau Server certificate authorities"
DEFAULT_DESCRIPTION = ("Installs the certificate authorities that issued the Tableau Server certificates, "
                       "so that Tableau Mobile and Safari trust the server.")


class ProfileSpec:
    """The texts and flags of a configuration profile."""

    __slots__ = ("identifier", "display_name", "organization", "description", "consent_text",
                 "removal_disallowed")

    def __init__(self, identifier: str, display_name: str | None = DEFAULT_DISPLAY_NAME,
                 organization: str | None = None, description: str | None = DEFAULT_DESCRIPTION,
                 consent_text: str | dict | None = None, removal_disallowed: bool = False) -> None:
        self.identifier = valid_identifier(identifier)
        self.display_name = normalize_text(display_name or DEFAULT_DISPLAY_NAME, "display_name")
        self.organization = normalize_text(organization or None, "organization")
        self.description = normalize_text(description or DEFAULT_DESCRIPTION, "description")
        self.consent_text = consent_dict(consent_text)
        self.removal_disallowed = bool(removal_disallowed)


def payload_type(ca: CA) -> str:
    """The payload type of a CA: ``com.apple.security.root`` for a root, ``pkcs1`` for an intermediate."""
    return "com.apple.security.root" if ca.role == "root" else "com.apple.security.pkcs1"


def profile_dict(spec: ProfileSpec, cas: list[CA]) -> dict:
    """The profile as a dictionary (see Apple's TopLevel.yaml and com.apple.security.root.yaml)."""
    if not cas:
        raise MobileError("no CA certificate left to put in the profile (intermediates are left out unless "
                          "include_intermediates is set)")
    payloads = []
    for ca in cas:
        names = certs.common_names(ca.cert)
        item = {
            "PayloadType": payload_type(ca),
            "PayloadVersion": 1,
            "PayloadIdentifier": payload_identifier(spec.identifier, ca.sha256),
            "PayloadUUID": payload_uuid(spec.identifier, ca.sha256),
            "PayloadDisplayName": normalize_text(names[0] if names else certs.subject_text(ca.cert), "certificate name"),
            "PayloadDescription": "Adds the {} CA {}".format("root" if ca.role == "root" else "intermediate",
                                                             normalize_text(certs.subject_text(ca.cert), "subject")),
            "PayloadContent": ca.der,
            "PayloadCertificateFileName": cert_basename(ca.cert, ca.sha256) + ".cer",
        }
        if spec.organization:
            item["PayloadOrganization"] = spec.organization
        payloads.append(item)
    top = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": spec.identifier,
        "PayloadUUID": profile_uuid(spec.identifier, [ca.sha256 for ca in cas]),
        "PayloadDisplayName": spec.display_name,
        "PayloadDescription": spec.description,
        "PayloadRemovalDisallowed": spec.removal_disallowed,
        "PayloadContent": payloads,
    }
    if spec.organization:
        top["PayloadOrganization"] = spec.organization
    if spec.consent_text:
        top["ConsentText"] = dict(spec.consent_text)
    return top


def build_profile(spec: ProfileSpec, cas: list[CA]) -> bytes:
    """The unsigned profile: an XML property list, keys sorted, byte-stable."""
    return plistlib.dumps(profile_dict(spec, cas), fmt=plistlib.FMT_XML, sort_keys=True)
