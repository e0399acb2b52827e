# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.signing: signed profiles that ``openssl cms``/``openssl smime`` verify, the re-sign
decisions, and signer inputs.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    apple,
    cms,
    inputs,
    signing,
)

from .helpers import build, cas_of, key_pem, openssl, pem, signer_of, spec, write


def test_signed_profile_verifies_with_openssl_and_one_byte_breaks_it(world, tmp_path):
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signed = signing.sign_profile(plist, signer_of(world))
    root = write(tmp_path, "root.pem", pem(world["root"][0]))
    good = write(tmp_path, "good.mobileconfig", signed)
    res = openssl("cms", "-verify", "-inform", "DER", "-in", good, "-CAfile", root)
    assert res.returncode == 0 and b"Verification successful" in res.stderr, res.stderr
    assert res.stdout == plist
    res = openssl("smime", "-verify", "-inform", "DER", "-in", good, "-CAfile", root)
    assert res.returncode == 0 and res.stdout == plist
    # the chain is in the file: the signer and the intermediate, never the root
    listed = openssl("pkcs7", "-inform", "DER", "-in", good, "-print_certs", "-noout").stdout.decode()
    assert "subject=O = trustops mobile test, CN = Profile Signer" in listed
    assert "subject=O = trustops mobile test, CN = Mobile Test Issuing CA" in listed
    assert "CN = Mobile Test Root CA\n\nissuer" not in listed and listed.count("subject=") == 2
    # not verified against an unrelated root
    other = write(tmp_path, "other.pem", pem(world["other_root"][0]))
    assert openssl("cms", "-verify", "-inform", "DER", "-in", good, "-CAfile", other).returncode != 0
    # one byte of the property list changed: openssl and our reader both refuse it
    at = signed.index(b"<string>Configuration</string>") + len(b"<string>C")
    tampered = signed[:at] + b"K" + signed[at + 1 :]
    bad = write(tmp_path, "bad.mobileconfig", tampered)
    res = openssl("cms", "-verify", "-inform", "DER", "-in", bad, "-CAfile", root)
    assert res.returncode != 0 and b"Verification failure" in res.stderr
    got = cms.read_signed(tampered)
    assert not got.valid and "modified after signing" in got.problem
    # one byte of the signature changed
    tampered = signed[:-5] + bytes([signed[-5] ^ 0x01]) + signed[-4:]
    res = openssl(
        "cms", "-verify", "-inform", "DER", "-in", write(tmp_path, "sig.mobileconfig", tampered), "-CAfile", root
    )
    assert res.returncode != 0
    assert "does not verify" in cms.read_signed(tampered).problem


def test_ec_signer_verifies_too(world, tmp_path):
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signed = signing.sign_profile(plist, signer_of(world, "ec_signer", chain=()))
    res = openssl(
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        write(tmp_path, "ec.mobileconfig", signed),
        "-CAfile",
        write(tmp_path, "other.pem", pem(world["other_root"][0])),
    )
    assert res.returncode == 0 and res.stdout == plist, res.stderr
    got = cms.read_signed(signed)
    assert got.valid and got.digest == "sha256" and got.content == plist


def test_resign_decisions(world):
    cas = cas_of(world["root"])
    plist = apple.build_profile(spec(), cas)
    signer = signer_of(world)
    signed = signing.sign_profile(plist, signer)
    assert signing.signed_profile_current(signed, plist, signer) == (True, None)
    # a second signature differs byte-wise (signing time) but is just as current: no churn
    assert signing.signed_profile_current(signing.sign_profile(plist, signer), plist, signer) == (True, None)
    changed = apple.build_profile(spec(display_name="New name"), cas)
    assert signing.signed_profile_current(signed, changed, signer) == (False, "the profile content changed")
    assert signing.signed_profile_current(signed, plist, signer_of(world, "ec_signer", ())) == (
        False,
        "the signer changed",
    )
    assert signing.signed_profile_current(signed, plist, signer_of(world, chain=())) == (
        False,
        "the signer chain changed",
    )
    at = signed.index(b"<string>Configuration</string>") + 9
    current, why = signing.signed_profile_current(signed[:at] + b"X" + signed[at + 1 :], plist, signer)
    assert not current and why.startswith("the profile content changed")
    current, why = signing.signed_profile_current(plist, plist, signer)
    assert not current and "not a signed profile" in why
    current, why = signing.signed_profile_current(b"\x30\x03\x02\x01\x01", plist, signer)
    assert not current and "not a signed profile" in why
    for junk in (b"", b"\x30", b"\x30\x80\x00\x00", os.urandom(64)):
        assert not cms.read_signed(junk).valid


def test_signer_errors_are_clear(world, pki):
    cert, key = world["signer"]
    with pytest.raises(certs.CertificateError, match="wrong passphrase"):
        signing.load_signer(pem(cert), key_pem(key, b"right"), "wrong")
    with pytest.raises(inputs.MobileError, match="encrypted; give signer_key_passphrase"):
        signing.load_signer(pem(cert), key_pem(key, b"right"))
    signer = signing.load_signer(pem(cert), key_pem(key, b"right"), "right", [(pem(world["inter"][0]), "c")])
    assert signer.chain == [world["inter"][0]]
    with pytest.raises(inputs.MobileError, match="does not belong to signer_cert"):
        signing.load_signer(pem(cert), key_pem(world["root"][1]))
    with pytest.raises(inputs.MobileError, match="DSA key cannot sign"):
        dsa_key = dsa.generate_private_key(key_size=2048)
        signing.load_signer(pem(build("DSA signer", key=dsa_key, ca=False)[0]), key_pem(dsa_key))
    with pytest.raises(certs.CertificateError, match="not PEM or DER"):
        signing.load_signer(b"garbage", key_pem(key))
