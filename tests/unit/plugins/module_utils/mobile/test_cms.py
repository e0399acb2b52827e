# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.cms: the CMS SignedData reader, on what we sign and on what openssl signs (the
independent implementation in the other direction).
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    apple,
    cms,
    signing,
)

from .helpers import cas_of, key_pem, openssl, pem, signer_of, spec, write


def test_cms_reader_is_the_one_der_reader(world):
    """read_signed walks the SignedData with _asn1 (the one DER reader): a broken file's problem is the
    DER reader's own words, saying what is wrong and at which offset; the reader never raises."""
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signed = signing.sign_profile(plist, signer_of(world))
    assert cms.read_signed(signed).valid
    for broken in (
        signed + b"\x00\x00",  # trailing bytes after the ContentInfo
        b"\x30\x80" + signed[4:] + b"\x00\x00",  # BER indefinite length
        signed[: len(signed) // 2],
    ):  # truncated
        with pytest.raises(_asn1.DerError) as raised:
            _asn1.whole(broken, _asn1.SEQUENCE, what="CMS ContentInfo")
        expected = str(raised.value)
        got = cms.read_signed(broken)
        assert got.content is None and not got.valid
        assert got.problem == expected, got.problem
        assert "offset" in expected or "trailing byte" in expected, expected
    # a multi-byte tag inside the SignedData is refused by the one reader, not misread as a length
    at = signed.index(b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01")  # id-data in encapContentInfo
    odd = signed[:at] + b"\x1f" + signed[at + 1 :]
    got = cms.read_signed(odd)
    assert not got.valid and "multi-byte tag 0x1f" in got.problem, got.problem


@pytest.mark.parametrize("flags", [[], ["-noattr"], ["-nosmimecap"], ["-keyid"]])
def test_reader_accepts_what_openssl_signs(world, tmp_path, flags):
    """Our CMS reader against an independent producer, with and without signed attributes."""
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    src = write(tmp_path, "p.plist", plist)
    out = str(tmp_path / "p.mobileconfig")
    res = openssl(
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-md",
        "sha256",
        "-in",
        src,
        "-outform",
        "DER",
        "-out",
        out,
        "-signer",
        write(tmp_path, "s.pem", pem(world["signer"][0])),
        "-inkey",
        write(tmp_path, "s.key", key_pem(world["signer"][1])),
        "-certfile",
        write(tmp_path, "i.pem", pem(world["inter"][0])),
        *flags,
    )
    assert res.returncode == 0, res.stderr
    with open(out, "rb") as handle:
        signed = handle.read()
    got = cms.read_signed(signed)
    assert got.valid, got.problem
    assert got.content == plist and got.signer == world["signer"][0]
    assert signing.signed_profile_current(signed, plist, signer_of(world)) == (True, None)


def test_a_carried_certificate_with_unreadable_extensions_is_a_problem_not_a_crash(world, pki, tmp_path):
    """openssl signs with a key-identifier signer id and carries a certificate whose extensions
    cryptography refuses (basicConstraints twice): the reader says so (it never raises), and the
    module re-signs instead of failing."""
    from identity_pki import with_extra_extension

    key = ec.generate_private_key(ec.SECP256R1())
    twice = with_extra_extension(pki.root(cn="Twice Constrained", key=key).cert, key, b"\x55\x1d\x13",
                                 b"\x30\x03\x01\x01\xff")
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    out = str(tmp_path / "p.mobileconfig")
    res = openssl("cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-keyid", "-in",
                  write(tmp_path, "p.plist", plist), "-outform", "DER", "-out", out,
                  "-signer", write(tmp_path, "s.pem", pem(world["signer"][0])),
                  "-inkey", write(tmp_path, "s.key", key_pem(world["signer"][1])),
                  "-certfile", write(tmp_path, "t.pem", pem(twice)))
    assert res.returncode == 0, res.stderr
    with open(out, "rb") as handle:
        signed = handle.read()
    got = cms.read_signed(signed)
    assert not got.valid and got.content == plist
    assert got.problem.startswith("certificate CN=Twice Constrained") and "unreadable extensions" in got.problem
    current, reason = signing.signed_profile_current(signed, plist, signer_of(world))
    assert current is False and reason.startswith("the existing signature is invalid (certificate CN=Twice")


def test_signature_by_a_tampered_but_consistent_file_is_caught(world):
    """Content swapped together with the messageDigest attribute: only the signature check catches it."""
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signer = signer_of(world)
    signed = signing.sign_profile(plist, signer)
    old_digest = hashlib.sha256(plist).digest()
    other = plist.replace(b"Configuration", b"Configuratiom")
    forged = signed.replace(plist, other).replace(old_digest, hashlib.sha256(other).digest())
    assert forged != signed
    got = cms.read_signed(forged)
    assert got.content == other and not got.valid and "does not verify" in got.problem
    assert signing.signed_profile_current(forged, other, signer)[0] is False
