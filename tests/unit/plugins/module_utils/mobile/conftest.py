# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the mobile tests.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from .helpers import build


@pytest.fixture(scope="module")
def world():
    """root -> intermediate -> profile signer (emailProtection), plus a second root and its signer."""
    root = build("Mobile Test Root CA", key_usage=["key_cert_sign"])
    inter = build("Mobile Test Issuing CA", root, key_usage=["key_cert_sign"])
    signer = build(
        "Profile Signer", inter, ca=False, key_usage=["digital_signature"], eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION]
    )
    other_root = build("Other Root CA", key_usage=["key_cert_sign"])
    ec_signer = build(
        "EC Profile Signer",
        other_root,
        ca=False,
        key=ec.generate_private_key(ec.SECP256R1()),
        key_usage=["digital_signature"],
    )
    return {"root": root, "inter": inter, "signer": signer, "other_root": other_root, "ec_signer": ec_signer}
