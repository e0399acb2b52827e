# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.apple (and the identifiers it uses): the .mobileconfig profile against Apple's schema and
identity rules, byte-stable output, and the same bytes from Debian 12's ``/usr/bin/python3``
(cryptography 38).
"""

from __future__ import annotations

import hashlib
import json
import os
import plistlib
import subprocess
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    android,
    apple,
    identifiers,
    inputs,
    signing,
    writer,
)

from .apple_schema import UUID_RE, schema_problems
from .helpers import COLLECTIONS, DEBIAN_PYTHON, IDENT, cas_of, key_pem, openssl, pem, signer_of, spec, write


def test_profile_matches_apples_schema(world):
    cas = cas_of(world["root"], world["inter"], include_intermediates=True)
    data = apple.build_profile(
        spec(organization="Example Corp", consent_text={"default": "Agree?", "de": "OK?"}, removal_disallowed=True), cas
    )
    profile = plistlib.loads(data)
    assert schema_problems(profile) == []
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    assert profile["PayloadIdentifier"] == IDENT and profile["PayloadRemovalDisallowed"] is True
    assert profile["ConsentText"] == {"default": "Agree?", "de": "OK?"}
    assert profile["PayloadOrganization"] == "Example Corp"
    types = [p["PayloadType"] for p in profile["PayloadContent"]]
    assert types == ["com.apple.security.root", "com.apple.security.pkcs1"]
    for payload, issued in zip(profile["PayloadContent"], (world["root"], world["inter"]), strict=True):
        der = issued[0].public_bytes(serialization.Encoding.DER)
        assert payload["PayloadContent"] == der
        assert certs.fingerprint(x509.load_der_x509_certificate(payload["PayloadContent"])) == certs.fingerprint(
            issued[0]
        )
        assert payload["PayloadCertificateFileName"].endswith(".cer")
        assert payload["PayloadIdentifier"].startswith(IDENT + ".ca.")
        assert UUID_RE.match(payload["PayloadUUID"])
    assert UUID_RE.match(profile["PayloadUUID"])
    ids = [p["PayloadIdentifier"] for p in profile["PayloadContent"]] + [IDENT]
    assert len(set(ids)) == len(ids), "payload identifiers must be unique within the profile"


def test_schema_check_catches_what_it_should():
    """The table check itself can fail: a pymobileconfig-style key, a wrong type, a missing key."""
    bad = {
        "PayloadType": "Configuration",
        "PayloadVersion": True,
        "PayloadIdentifier": "x.y",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.security.root",
                "PayloadVersion": 1,
                "PayloadIdentifier": "x.y.z",
                "PayloadUUID": "U",
                "PayloadCertificateData": b"...",
            }
        ],
        "ConsentText": "plain string",
    }
    problems = schema_problems(bad)
    assert any("PayloadUUID missing" in p and p.startswith("TopLevel") for p in problems)
    assert any("PayloadVersion is bool" in p for p in problems)
    assert any("ConsentText is str" in p for p in problems)
    assert any("PayloadCertificateData is not a key" in p for p in problems)
    assert any("required key PayloadContent missing" in p for p in problems)


def test_optional_keys_are_omitted_not_empty(world):
    profile = plistlib.loads(apple.build_profile(spec(), cas_of(world["root"])))
    assert "ConsentText" not in profile and "PayloadOrganization" not in profile
    assert "PayloadOrganization" not in profile["PayloadContent"][0]
    assert profile["PayloadDisplayName"] == apple.DEFAULT_DISPLAY_NAME
    assert profile["PayloadRemovalDisallowed"] is False
    assert schema_problems(profile) == []


def test_uuids_are_uuid5_of_identifier_role_and_sha256(world):
    cas = cas_of(world["root"], world["other_root"])
    profile = plistlib.loads(apple.build_profile(spec(), cas))
    namespace = uuid.uuid5(uuid.NAMESPACE_DNS, "mobile.trustops.tableau")
    digests = [
        hashlib.sha256(c[0].public_bytes(serialization.Encoding.DER)).hexdigest()
        for c in (world["root"], world["other_root"])
    ]
    onc = json.loads(android.build_onc(IDENT, cas))
    for payload, entry, digest in zip(profile["PayloadContent"], onc["Certificates"], digests, strict=True):
        assert payload["PayloadUUID"] == str(uuid.uuid5(namespace, f"{IDENT}/payload/{digest}")).upper()
        assert payload["PayloadIdentifier"] == f"{IDENT}.ca.{digest[:16]}"
        assert entry["GUID"] == "{{{}}}".format(uuid.uuid5(namespace, f"{IDENT}/onc/{digest}"))
    assert (
        profile["PayloadUUID"] == str(uuid.uuid5(namespace, "{}/profile/{}".format(IDENT, ",".join(digests)))).upper()
    )
    other = plistlib.loads(apple.build_profile(apple.ProfileSpec("com.example.other"), cas))
    assert {p["PayloadUUID"] for p in other["PayloadContent"]}.isdisjoint(
        {p["PayloadUUID"] for p in profile["PayloadContent"]}
    )


def test_one_ca_profile_has_distinct_stable_uuids(world):
    """Issue 11: one CA gave the profile, its only payload and the ONC certificate the same UUID."""
    cas = cas_of(world["root"])
    data = apple.build_profile(spec(), cas)
    profile = plistlib.loads(data)
    assert schema_problems(profile) == []
    (payload,) = profile["PayloadContent"]
    onc_guid = json.loads(android.build_onc(IDENT, cas))["Certificates"][0]["GUID"]
    values = [profile["PayloadUUID"], payload["PayloadUUID"], onc_guid.strip("{}").upper()]
    assert len(set(values)) == 3, values
    # stable across runs: a second build (fresh objects, same inputs) gives the same values and bytes
    again = cas_of(world["root"])
    assert apple.build_profile(spec(), again) == data
    assert json.loads(android.build_onc(IDENT, again))["Certificates"][0]["GUID"] == onc_guid
    facts = writer.cert_facts(again[0], IDENT)
    assert facts["payload_uuid"] == payload["PayloadUUID"] and facts["onc_guid"] == onc_guid
    assert identifiers.profile_uuid(IDENT, [again[0].sha256]) == profile["PayloadUUID"]


def test_many_ca_profiles_pass_apples_identity_rules(world):
    cas = cas_of(world["root"], world["inter"], world["other_root"], include_intermediates=True)
    for count in range(1, len(cas) + 1):
        profile = plistlib.loads(apple.build_profile(spec(organization="Example"), cas[:count]))
        assert schema_problems(profile) == [], count
        uuids = [profile["PayloadUUID"]] + [p["PayloadUUID"] for p in profile["PayloadContent"]]
        guids = [
            e["GUID"].strip("{}").upper() for e in json.loads(android.build_onc(IDENT, cas[:count]))["Certificates"]
        ]
        assert len(set(uuids + guids)) == len(uuids) + len(guids)


def test_identity_checker_catches_duplicates(world):
    """The checker itself fails on the profile issue 11 describes, and on repeated identifiers."""
    profile = plistlib.loads(apple.build_profile(spec(), cas_of(world["root"])))
    profile["PayloadContent"][0]["PayloadUUID"] = profile["PayloadUUID"].lower()
    problems = schema_problems(profile)
    assert problems == [
        "PayloadContent[0]: PayloadUUID {} is also the PayloadUUID of TopLevel".format(profile["PayloadUUID"].lower())
    ]
    two = plistlib.loads(apple.build_profile(spec(), cas_of(world["root"], world["other_root"])))
    two["PayloadContent"][1]["PayloadIdentifier"] = two["PayloadContent"][0]["PayloadIdentifier"]
    two["PayloadContent"][0]["PayloadUUID"] = "not-a-uuid"
    problems = schema_problems(two)
    assert any("PayloadContent[1]: PayloadIdentifier" in p and "PayloadContent[0]" in p for p in problems)
    assert any("'not-a-uuid' is not a UUID" in p for p in problems)


def test_same_inputs_give_identical_bytes_and_a_new_ca_changes_them(world):
    one = apple.build_profile(spec(consent_text="Agree"), cas_of(world["root"]))
    assert one == apple.build_profile(spec(consent_text="Agree"), cas_of(world["root"]))
    assert one != apple.build_profile(spec(consent_text="Agree"), cas_of(world["other_root"]))
    onc = android.build_onc(IDENT, cas_of(world["root"]))
    assert onc == android.build_onc(IDENT, cas_of(world["root"]))


def test_debian_python_and_cryptography_38_give_the_same_bytes_and_sign(world, tmp_path):
    """Module code runs on Debian 12 targets: same profile bytes there, and a signature openssl accepts."""
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"no {DEBIAN_PYTHON} on this machine")
    root = write(tmp_path, "root.pem", pem(world["root"][0]))
    signer = write(tmp_path, "signer.pem", pem(world["signer"][0]))
    key = write(tmp_path, "signer.key", key_pem(world["signer"][1]))
    inter = write(tmp_path, "inter.pem", pem(world["inter"][0]))
    script = (
        "import sys, cryptography\n"
        "from ansible_collections.trustops.tableau.plugins.module_utils.mobile import apple, inputs, signing\n"
        "cas, _d = inputs.load_cas([(open({!r},'rb').read(), 'root')])\n"
        "s = apple.ProfileSpec({!r}, consent_text='Agree', organization='Example')\n"
        "plist = apple.build_profile(s, cas)\n"
        "signer = signing.load_signer(open({!r},'rb').read(), open({!r},'rb').read(), None, [(open({!r},'rb').read(), 'i')])\n"
        "open({!r},'wb').write(plist); open({!r},'wb').write(signing.sign_profile(plist, signer))\n"
        "print(cryptography.__version__)\n"
    ).format(root, IDENT, signer, key, inter, str(tmp_path / "deb.plist"), str(tmp_path / "deb.mobileconfig"))
    proc = subprocess.run(
        [DEBIAN_PYTHON, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=COLLECTIONS),
    )
    if proc.returncode != 0 and "No module named 'cryptography'" in proc.stderr:
        pytest.skip(f"{DEBIAN_PYTHON} has no cryptography")
    assert proc.returncode == 0, proc.stderr
    cas, _d = inputs.load_cas([(pem(world["root"][0]), "root")])
    ours = apple.build_profile(apple.ProfileSpec(IDENT, consent_text="Agree", organization="Example"), cas)
    assert (tmp_path / "deb.plist").read_bytes() == ours
    res = openssl("cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "deb.mobileconfig"), "-CAfile", root)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ours
    # and what Debian signed counts as current here: no re-sign on the controller's newer cryptography
    current, why = signing.signed_profile_current((tmp_path / "deb.mobileconfig").read_bytes(), ours, signer_of(world))
    assert current, why
