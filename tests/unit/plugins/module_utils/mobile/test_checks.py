# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.checks: the CA and signer decisions (MOBILE-NNN and the shared anchor policy), with
openssl making the SHA-1 certificates cryptography no longer signs.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pki_factory import make_key

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    checks,
    inputs,
    signing,
)

from .helpers import build, cas_of, codes, openssl_sha1, pem, signer_of


def test_intermediates_are_left_out_unless_asked(world):
    cas, _d = inputs.load_cas([(pem(world["root"][0]) + pem(world["inter"][0]), "bundle.pem")])
    assert [c.role for c in cas] == ["root", "intermediate"]
    assert [c.role for c in checks.selected(cas, False)] == ["root"]
    findings = checks.ca_findings(cas, include_intermediates=False)
    assert [(f.code, f.severity) for f in findings] == [("MOBILE-008", "warning")]
    assert "include_intermediates" in findings[0].message
    findings = checks.ca_findings(cas, include_intermediates=True)
    assert [(f.code, f.severity) for f in findings] == [("MOBILE-008", "info")]


def ed25519_root(cn):
    """A self-signed Ed25519 CA (EdDSA signs without a separate digest, so build() cannot)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )


def test_policy_refuses_leaf_expired_sha1_weak_and_warns(world, pki, tmp_path):
    """The trust-anchor decisions come from the shared policy (ANCHOR-NNN), the rest is mobile's own."""
    leaf = pki.leaf(pki.root())
    cases = {
        "leaf": (leaf.cert, ["ANCHOR-001"]),
        "expired": (build("Old Root", days=-1, start_days=-30)[0], ["ANCHOR-002"]),
        "future": (build("Future Root", days=90, start_days=10)[0], ["ANCHOR-003"]),
        # mobile's one difference: a SHA-1 self-signed root is refused (the shared default: info)
        "sha1": (openssl_sha1(tmp_path, "SHA1 Root")[0], ["ANCHOR-009"]),
        "weak": (
            build("Weak Root", key=rsa.generate_private_key(public_exponent=65537, key_size=1024))[0],
            ["ANCHOR-005"],
        ),
        "soon": (build("Short Root", days=10)[0], ["MOBILE-006"]),
        "nocn": (build("x", with_cn=False)[0], ["MOBILE-007"]),
        "eddsa": (ed25519_root("Ed25519 Root"), ["ANCHOR-007"]),
    }
    for name, (cert, expected) in cases.items():
        cas, _d = inputs.load_cas([(pem(cert), name)])
        found = checks.ca_findings(cas)
        assert codes(found) == expected, (name, found)
        assert all(name in f.message for f in found)
        assert all(f.data["sha256"] == certs.fingerprint(cert) for f in found)
        assert all(f.data["subject"] == cert.subject.rfc4514_string() for f in found)
    severities = {
        f.code: f.severity
        for name in cases
        for f in checks.ca_findings(inputs.load_cas([(pem(cases[name][0]), name)])[0])
    }
    assert severities == {
        "ANCHOR-001": "error",
        "ANCHOR-002": "error",
        "ANCHOR-003": "error",
        "ANCHOR-009": "error",
        "ANCHOR-005": "error",
        "MOBILE-006": "warning",
        "MOBILE-007": "warning",
        "ANCHOR-007": "warning",
    }
    # the device consequences are said, and no remedy names an option this module does not have
    by_name = {
        name: checks.ca_findings(inputs.load_cas([(pem(cert), name)])[0])[0] for name, (cert, _e) in cases.items()
    }
    assert "Certificate Trust Settings" in by_name["leaf"].message
    assert "iOS 13" in by_name["weak"].message and "iOS 13" in by_name["sha1"].message
    assert by_name["sha1"].data["self_signed_digest_policy"] == "error"
    for finding in by_name.values():
        assert "allow_leaf" not in finding.remedy and "allow_expired" not in finding.remedy, finding


def sub(path, name):
    (path / name).mkdir(exist_ok=True)
    return path / name


def test_ca_decisions_are_the_shared_policy(world, pki, tmp_path):
    """For every CA, mobile's ANCHOR findings are exactly check_anchor's with self_signed_digest_policy=error
    (minus ANCHOR-004, which MOBILE-008 replaces): one implementation, not a copy."""
    certs_to_judge = [
        pki.leaf(pki.root()).cert,
        build("Old Root", days=-1, start_days=-30)[0],
        openssl_sha1(tmp_path, "SHA1 Root")[0],
        openssl_sha1(sub(tmp_path, "i"), "SHA1 Inter", issuer=world["root"])[0],
        build("Weak Root", key=rsa.generate_private_key(public_exponent=65537, key_size=1024))[0],
        build("P-192 Root", key=ec.generate_private_key(ec.SECP192R1()))[0],
        world["root"][0],
        world["inter"][0],
    ]
    for cert in certs_to_judge:
        for kw in ({}, {"blocklisted_digests": []}, {"min_rsa_key_size": 4096, "min_ec_key_size": 384}):
            cas = inputs.load_cas([(pem(cert), "c")])[0]
            ours = [
                (f.code, f.severity)
                for f in checks.ca_findings(cas, include_intermediates=True, **kw)
                if f.code.startswith("ANCHOR-")
            ]
            judged = anchor_policy.check_anchor(cert, self_signed_digest_policy="error", **kw)
            shared = [(f.code, f.severity) for f in judged if f.code != "ANCHOR-004"]
            assert ours == shared, (cert.subject, kw)
    # the SHA-1 intermediate is ANCHOR-008 (issued with SHA-1) next to MOBILE-008, never ANCHOR-004
    inter = inputs.load_cas([(pem(openssl_sha1(sub(tmp_path, "j"), "SHA1 Inter", issuer=world["root"])[0]), "i")])[0]
    assert codes(checks.ca_findings(inter)) == ["ANCHOR-008", "MOBILE-008"]


def test_policy_options_move_the_thresholds(tmp_path):
    sha1 = inputs.load_cas([(pem(openssl_sha1(tmp_path, "SHA1 Root")[0]), "s")])[0]
    assert codes(checks.ca_findings(sha1, blocklisted_digests=[])) == []
    assert codes(checks.ca_findings(sha1, blocklisted_digests=["SHA-1"])) == ["ANCHOR-009"]
    ok = inputs.load_cas([(pem(build("Root")[0]), "r")])[0]
    assert codes(checks.ca_findings(ok, min_rsa_key_size=3072)) == ["ANCHOR-005"]
    assert codes(checks.ca_findings(ok, expiry_warning_days=400)) == ["MOBILE-006"]
    small_ec = inputs.load_cas([(pem(build("P-192 Root", key=ec.generate_private_key(ec.SECP192R1()))[0]), "e")])[0]
    found = checks.ca_findings(small_ec)
    assert codes(found) == ["ANCHOR-006"] and "192-bit EC key (secp192r1)" in found[0].message
    assert found[0].severity == "error"
    assert codes(checks.ca_findings(small_ec, min_ec_key_size=192)) == []
    p256 = inputs.load_cas([(pem(build("P-256 Root", key=ec.generate_private_key(ec.SECP256R1()))[0]), "e")])[0]
    assert codes(checks.ca_findings(p256)) == []
    with pytest.raises(anchor_policy.AnchorPolicyError, match="unknown digest 'shaa1'"):
        checks.ca_findings(ok, blocklisted_digests=["shaa1"])
    with pytest.raises(anchor_policy.AnchorPolicyError, match="min_rsa_key_size: -1 is negative"):
        checks.ca_findings(ok, min_rsa_key_size=-1)
    with pytest.raises(anchor_policy.AnchorPolicyError, match="unknown digest 'shaa1'"):
        checks.ca_findings([], blocklisted_digests=["shaa1"])
    with pytest.raises(inputs.MobileError, match="expiry_warning_days must be a number of days"):
        checks.ca_findings(ok, expiry_warning_days=-1)
    assert codes(checks.ca_findings(sha1, blocklisted_digests=["SHA_1", "md5"])) == ["ANCHOR-009"]


def test_duplicates_are_installed_once(world):
    cas, dups = inputs.load_cas([(pem(world["root"][0]), "a.pem"), (pem(world["root"][0]), "b.pem")])
    assert len(cas) == 1 and len(dups) == 1
    found = checks.ca_findings(cas, dups)
    assert codes(found) == ["MOBILE-009"] and "b.pem" in found[0].message


def test_signer_findings(world, tmp_path):
    cas = cas_of(world["root"])
    assert codes(checks.signer_findings(signer_of(world), cas)) == ["MOBILE-012"]
    other = cas_of(world["other_root"])
    # the chain up to the root is included: nothing to say
    assert codes(checks.signer_findings(signer_of(world, chain=("inter", "root")), other)) == []
    # the usual case (root left out) and a missing intermediate both name where the chain stops
    found = checks.signer_findings(signer_of(world), other)
    assert codes(found) == ["MOBILE-013"] and found[0].severity == "info"
    assert (
        "ends at CN=Mobile Test Issuing CA" in found[0].message and "issuer CN=Mobile Test Root CA" in found[0].message
    )
    found = checks.signer_findings(signer_of(world, chain=()), other)
    assert codes(found) == ["MOBILE-013"] and "issuer CN=Mobile Test Issuing CA" in found[0].message
    # a stray certificate in the chain
    assert codes(checks.signer_findings(signer_of(world, chain=("inter", "root", "other_root")), other)) == [
        "MOBILE-011"
    ]
    full = [world["inter"][0], world["root"][0]]

    def judged(cert_key):
        return checks.signer_findings(signing.Signer(*cert_key, chain=full), other)

    expired = build(
        "Expired signer", world["inter"], ca=False, days=-1, start_days=-10, key_usage=["digital_signature"]
    )
    assert codes(judged(expired)) == ["MOBILE-010"]
    no_sig = build("Encipher only", world["inter"], ca=False, key_usage=["key_encipherment"])
    assert codes(judged(no_sig)) == ["MOBILE-016"]
    server = build(
        "TLS server", world["inter"], ca=False, key_usage=["digital_signature"], eku=[ExtendedKeyUsageOID.SERVER_AUTH]
    )
    found = judged(server)
    assert codes(found) == ["MOBILE-017"] and found[0].severity == "warning"
    weak = build(
        "Weak signer",
        world["inter"],
        ca=False,
        key_usage=["digital_signature"],
        key=rsa.generate_private_key(public_exponent=65537, key_size=1024),
    )
    assert codes(judged(weak)) == ["MOBILE-015"]
    sha1 = openssl_sha1(tmp_path, "SHA-1 signer", issuer=world["inter"], ca=False)
    assert codes(judged(sha1)) == ["MOBILE-014"]
    assert codes(checks.signer_findings(signing.Signer(*sha1, chain=full), other, blocklisted_digests=[])) == []


SIGNER_KEYS = [("rsa", 1024), ("rsa", 2048), ("ec", 192), ("ec", 256), ("ec", 384)]


@pytest.mark.parametrize("min_rsa,min_ec", [(2048, 256), (3072, 384), (0, 0)])
def test_signer_key_decisions_are_the_shared_policy(world, pki, min_rsa, min_ec):
    """MOBILE-015 is the shared policy's key rule (ANCHOR-005/006) applied to the signer, with the
    threshold it was judged by; no second copy of the rule decides differently."""
    other = cas_of(world["other_root"])
    full = [world["inter"][0], world["root"][0]]
    for kind, size in SIGNER_KEYS:

        cert, key = build(
            f"{kind}-{size} signer",
            world["inter"],
            ca=False,
            key_usage=["digital_signature"],
            key=make_key(kind, size),
        )
        shared = [
            f
            for f in anchor_policy.check_anchor(cert, allow_leaf=True, min_rsa_key_size=min_rsa, min_ec_key_size=min_ec)
            if f.code in ("ANCHOR-005", "ANCHOR-006")
        ]
        found = [
            f
            for f in checks.signer_findings(
                signing.Signer(cert, key, full), other, min_rsa_key_size=min_rsa, min_ec_key_size=min_ec
            )
            if f.code == "MOBILE-015"
        ]
        assert len(found) == len(shared), (kind, size, min_rsa, min_ec)
        for mine, theirs in zip(found, shared, strict=True):
            assert mine.severity == theirs.severity == "error"
            threshold = "min_rsa_key_size" if kind == "rsa" else "min_ec_key_size"
            assert mine.data[threshold] == theirs.data[threshold] == (min_rsa if kind == "rsa" else min_ec)
            assert f"({threshold})" in mine.message and mine.message.startswith("signer CN=")
