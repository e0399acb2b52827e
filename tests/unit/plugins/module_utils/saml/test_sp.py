# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SP certificate and key rules (SAML-001..019), with real keys in every format of the seed's
support table.  Encrypted PKCS#1 keys and the empty-password PKCS#8 key are written by
``openssl``, which also confirms each file's shape and that it opens with its passphrase."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

import saml_idp_fixtures as fx

from ansible_collections.trustops.tableau.plugins.module_utils.saml import rules, sp
from ansible_collections.trustops.tableau.plugins.module_utils.findings import fails

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl is the referee of these tests")


def codes(findings):
    return sorted(f.code for f in findings)


def make_key(kind="rsa", size=2048):
    """Keys cached per (kind, size), from the SAML fixtures: ``from conftest import make_key``
    breaks when another directory's conftest.py is imported first under that module name."""
    return fx.key(kind, size, "keypair")


@pytest.fixture(scope="module")
def rsa_pair(pki):
    root = pki.root(cn="SAML Test Root")
    return pki.leaf(root, cn="tableau.example.test", key=make_key("rsa", 2048))


@pytest.fixture(scope="module")
def dsa_pair():
    key = fx.key("dsa", 2048, "sp-dsa")
    return key, fx.self_signed(key, "tableau-dsa.example.test")


# --------------------------------------------------------------------------- the support table

# (row of the seed's table, key type, format, passphrase) -> (server-wide, site-level) support
SUPPORT_TABLE = [
    ("PKCS#8 RSA", "rsa", "pkcs8", "s3cret pass", True, False),
    ("PKCS#8 (no/null password): no password", "rsa", "pkcs8", None, False, False),
    ("PKCS#8 (no/null password): empty password", "rsa", "pkcs8", "", False, False),
    ("PKCS#1 RSA", "rsa", "pkcs1", None, True, True),
    ("PKCS#1 RSA (password)", "rsa", "pkcs1", "s3cret pass", False, False),
    ("PKCS#1 DSA (password)", "dsa", "pkcs1", "s3cret pass", False, False),
]
EXPECTED_CODES = {
    ("PKCS#8 RSA", "server"): [],
    ("PKCS#8 RSA", "site"): ["SAML-017"],
    ("PKCS#8 (no/null password): no password", "server"): ["SAML-016"],
    ("PKCS#8 (no/null password): no password", "site"): ["SAML-016"],
    ("PKCS#8 (no/null password): empty password", "server"): ["SAML-016"],
    ("PKCS#8 (no/null password): empty password", "site"): ["SAML-016", "SAML-017"],
    ("PKCS#1 RSA", "server"): [],
    ("PKCS#1 RSA", "site"): [],
    ("PKCS#1 RSA (password)", "server"): ["SAML-014"],
    ("PKCS#1 RSA (password)", "site"): ["SAML-014", "SAML-017"],
    ("PKCS#1 DSA (password)", "server"): ["SAML-014"],
    ("PKCS#1 DSA (password)", "site"): ["SAML-014", "SAML-017"],
}


@pytest.mark.parametrize("scope", ["server", "site"])
@pytest.mark.parametrize("row,kind,fmt,passphrase,server_ok,site_ok", SUPPORT_TABLE,
                         ids=[r[0] for r in SUPPORT_TABLE])
def test_support_table(row, kind, fmt, passphrase, server_ok, site_ok, scope, rsa_pair, dsa_pair, tmp_path):
    if kind == "rsa":
        private_key, cert = rsa_pair.key, rsa_pair.cert
    else:
        private_key, cert = dsa_pair
    key_pem = fx.key_file(private_key, fmt, passphrase)
    findings, facts = sp.check_keypair(
        fx.pem(cert), key_pem, passphrase=passphrase, scope=scope,
        cert_filename=str(tmp_path / "saml.crt"), key_filename=str(tmp_path / "saml.key"))
    supported = server_ok if scope == "server" else site_ok
    assert (not fails(findings)) is supported, [f.message for f in findings]
    assert codes(findings) == EXPECTED_CODES[(row, scope)], [f.message for f in findings]
    assert facts["key"]["format"] == fmt
    assert facts["key"]["encrypted"] is (passphrase is not None)
    if passphrase:  # decrypted with the passphrase: the pair is verified
        assert facts["key"]["matches_certificate"] is True
        assert facts["key"]["key_type"] == kind.upper()
    for f in findings:
        assert f.remedy and f.data["source"].endswith("saml.key")


def test_table_rows_are_what_openssl_says(rsa_pair, dsa_pair):
    """The referee: openssl reads each file as the format the row names."""
    rows = {
        "pkcs8-enc": fx.key_file(rsa_pair.key, "pkcs8", "pw"),
        "pkcs1-rsa-enc": fx.key_file(rsa_pair.key, "pkcs1", "pw"),
        "pkcs1-dsa-enc": fx.key_file(dsa_pair[0], "pkcs1", "pw"),
    }
    assert rows["pkcs8-enc"].startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert b"DEK-Info: AES-256-CBC" in rows["pkcs1-rsa-enc"]
    assert rows["pkcs1-dsa-enc"].startswith(b"-----BEGIN DSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED")
    for pem in rows.values():
        wrong = subprocess.run([OPENSSL, "pkey", "-passin", "pass:nope", "-noout"], input=pem,
                               capture_output=True, check=False)
        assert wrong.returncode != 0


def test_empty_password_pkcs8_is_detected_without_the_password(rsa_pair):
    empty = fx.key_file(rsa_pair.key, "pkcs8", "")
    real = fx.key_file(rsa_pair.key, "pkcs8", "x")
    assert sp.pkcs8_opens_with_empty_password(sp._pkcs8_der(empty)) is True
    assert sp.pkcs8_opens_with_empty_password(sp._pkcs8_der(real)) is False
    # given a (wrong) passphrase, the empty password is still named
    findings, _facts = sp.check_sp_key(empty, "k.key", passphrase="guess")
    assert codes(findings) == ["SAML-016", "SAML-018"]


def test_pbes2_with_sha1_prf_and_3des(rsa_pair):
    out = subprocess.run([OPENSSL, "pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1", "-passout", "pass:"],
                         input=rsa_pair.key_pem("pkcs8"), capture_output=True, check=True).stdout
    assert sp.pkcs8_opens_with_empty_password(sp._pkcs8_der(out)) is True


def test_unknown_pbe_scheme_is_not_guessed(rsa_pair):
    out = subprocess.run([OPENSSL, "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-passout", "pass:"],
                         input=rsa_pair.key_pem("pkcs8"), capture_output=True, check=False)
    if out.returncode != 0:  # OpenSSL builds without legacy PBE: nothing to check
        assert b"unsupported" in out.stderr.lower() or b"error" in out.stderr.lower()
        return
    assert sp.pkcs8_opens_with_empty_password(sp._pkcs8_der(out.stdout)) is None


# --------------------------------------------------------------------------- other key rules

def test_wrong_passphrase_is_a_clear_finding(rsa_pair):
    pem = fx.key_file(rsa_pair.key, "pkcs8", "right")
    findings, facts = sp.check_keypair(rsa_pair.pem, pem, passphrase="wrong")
    assert codes(findings) == ["SAML-018"]
    assert "wrong passphrase" in findings[0].message
    assert facts["key"]["matches_certificate"] is None and facts["key"]["key_type"] is None


def test_encrypted_key_without_passphrase(rsa_pair):
    pem = fx.key_file(rsa_pair.key, "pkcs8", "right")
    findings, facts = sp.check_sp_key(pem, "saml.key")
    assert codes(findings) == ["SAML-018"]
    assert "no passphrase was given" in findings[0].message
    assert facts["encrypted"] is True and facts["passphrase_given"] is False


def test_encrypted_pkcs8_dsa_must_be_rsa(dsa_pair):
    pem = fx.key_file(dsa_pair[0], "pkcs8", "pw")
    findings, facts = sp.check_keypair(fx.pem(dsa_pair[1]), pem, passphrase="pw")
    assert codes(findings) == ["SAML-015"]
    assert facts["key"]["matches_certificate"] is True


def test_unencrypted_pkcs1_dsa_is_accepted(dsa_pair):
    pem = fx.key_file(dsa_pair[0], "pkcs1")
    findings, facts = sp.check_keypair(fx.pem(dsa_pair[1]), pem)
    assert findings == []
    assert facts["key"]["key_type"] == "DSA" and facts["certificate"]["key_type"] == "DSA"


@pytest.mark.parametrize("fmt,expected", [
    ("sec1", ["SAML-012", "SAML-013"]),
    ("pkcs8", ["SAML-012", "SAML-016"]),
    ("openssh", ["SAML-012", "SAML-013"]),
])
def test_ec_keys_are_refused(fmt, expected):
    key = make_key("ec", 256)
    formats = {"sec1": serialization.PrivateFormat.TraditionalOpenSSL, "pkcs8": serialization.PrivateFormat.PKCS8,
               "openssh": serialization.PrivateFormat.OpenSSH}
    pem = key.private_bytes(serialization.Encoding.PEM, formats[fmt], serialization.NoEncryption())
    findings, facts = sp.check_sp_key(pem, "ec.key")
    assert codes(findings) == expected
    assert facts["key_type"] == "EC"


def test_key_must_belong_to_the_certificate(rsa_pair, pki):
    other = make_key("rsa", 3072)
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption())
    findings, facts = sp.check_keypair(rsa_pair.pem, pem)
    assert codes(findings) == ["SAML-019"]
    assert "RSA 2048" in findings[0].message and "RSA 3072" in findings[0].message
    assert facts["key"]["matches_certificate"] is False
    good = rsa_pair.key_pem("pkcs1")
    findings, facts = sp.check_keypair(rsa_pair.pem, good)
    assert findings == [] and facts["key"]["matches_certificate"] is True


@pytest.mark.parametrize("data,detail", [
    (b"", "empty input"),
    (b"garbage", "not a PEM or DER private key"),
    (b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n", "truncated"),
])
def test_unreadable_keys(data, detail):
    findings, facts = sp.check_sp_key(data, "saml.key")
    assert codes(findings) == ["SAML-011"] and detail in findings[0].message
    assert facts == {}


def test_certificate_given_as_key(rsa_pair):
    findings, _facts = sp.check_sp_key(rsa_pair.pem, "saml.key")
    assert codes(findings) == ["SAML-011"] and "no private key" in findings[0].message


@pytest.mark.parametrize("name,expected", [("saml.key", []), ("saml.pem", ["SAML-010"]),
                                           ("/etc/x.key/saml.KEY", ["SAML-010"]), ("C:\\saml\\tableau.key", [])])
def test_key_extension(rsa_pair, name, expected):
    findings, _facts = sp.check_sp_key(rsa_pair.key_pem("pkcs1"), name, filename=name)
    assert codes(findings) == expected


def test_key_content_without_filename_skips_the_extension_rule(rsa_pair):
    findings, _facts = sp.check_sp_key(rsa_pair.key_pem("pkcs1").decode(), "key_content")
    assert findings == []


def test_bad_scope():
    with pytest.raises(rules.SamlError, match="scope"):
        sp.check_sp_key(b"x", scope="tenant")


# --------------------------------------------------------------------------- certificate rules

def test_good_certificate_facts(rsa_pair):
    findings, facts, cert = sp.check_sp_certificate(rsa_pair.pem, "c", filename="saml.crt")
    assert findings == [] and cert == rsa_pair.cert
    assert facts["key_type"] == "RSA" and facts["key_size"] == 2048
    assert facts["sha256"] == ":".join(f"{b:02X}" for b in rsa_pair.cert.fingerprint(hashes.SHA256()))
    assert facts["certificates_in_file"] == 1 and facts["signature_hash"] == "sha256"


@pytest.mark.parametrize("name,expected", [("saml.crt", []), ("saml.pem", ["SAML-001"]), ("saml.cer", ["SAML-001"])])
def test_certificate_extension(rsa_pair, name, expected):
    findings, _facts, _cert = sp.check_sp_certificate(rsa_pair.pem, name, filename=name)
    assert codes(findings) == expected


def test_der_and_pkcs7_are_not_pem(rsa_pair):
    findings, facts, cert = sp.check_sp_certificate(rsa_pair.der, "saml.crt")
    assert codes(findings) == ["SAML-002"] and "DER or PKCS#7" in findings[0].message
    assert cert is not None and facts["key_size"] == 2048  # still analysed
    p7 = pkcs7.serialize_certificates([rsa_pair.cert], serialization.Encoding.PEM)
    findings, facts, cert = sp.check_sp_certificate(p7, "saml.crt")
    assert codes(findings) == ["SAML-002", "SAML-004"]
    assert "a PKCS#7 bundle" in [f for f in findings if f.code == "SAML-002"][0].message


def test_garbage_certificate():
    findings, facts, cert = sp.check_sp_certificate(b"hello", "saml.crt")
    assert codes(findings) == ["SAML-002"] and cert is None and facts == {}


def test_only_the_certificate(rsa_pair, pki):
    root = pki.root(cn="Extra Root")
    findings, facts, _cert = sp.check_sp_certificate(rsa_pair.pem + root.pem, "saml.crt")
    assert codes(findings) == ["SAML-003"] and "2 certificates" in findings[0].message
    assert facts["certificates_in_file"] == 2
    findings, _facts, _cert = sp.check_sp_certificate(rsa_pair.pem + rsa_pair.key_pem("pkcs1"), "saml.crt")
    assert codes(findings) == ["SAML-004"] and "RSA PRIVATE KEY" in findings[0].message
    findings, _facts, cert = sp.check_sp_certificate(rsa_pair.key_pem("pkcs8"), "saml.crt")
    assert codes(findings) == ["SAML-002", "SAML-004"] and cert is None


def test_sha1_certificate_and_the_tsm_key_that_relaxes_it():
    key = fx.key("rsa", 2048, "sha1-sp")
    cert = fx.self_signed(key, "tableau.example.test", digest="sha1")
    findings, _facts, _cert = sp.check_sp_certificate(fx.pem(cert), "saml.crt")
    assert codes(findings) == ["SAML-005"]
    assert findings[0].data["tsm_key"] == "wgserver.saml.blocklisted_digest_algorithms"
    assert "wgserver.saml.blocklisted_digest_algorithms" in findings[0].remedy
    relaxed = rules.Policy(blocklisted_digests=[])
    assert sp.check_sp_certificate(fx.pem(cert), "saml.crt", relaxed)[0] == []


def test_rsa_size_and_the_tsm_key_that_relaxes_it(pki):
    small = pki.self_signed_leaf(key=make_key("rsa", 1024))
    findings, _facts, _cert = sp.check_sp_certificate(small.pem, "saml.crt")
    assert codes(findings) == ["SAML-006"] and "1024 bits" in findings[0].message
    assert findings[0].data["tsm_key"] == "wgserver.saml.min_allowed.rsa_key_size"
    assert sp.check_sp_certificate(small.pem, "saml.crt", rules.Policy(min_rsa_key_size=1024))[0] == []


def test_ec_certificate_is_not_an_sp_certificate(pki):
    ec_leaf = pki.self_signed_leaf(key=make_key("ec", 256))
    findings, _facts, _cert = sp.check_sp_certificate(ec_leaf.pem, "saml.crt")
    assert codes(findings) == ["SAML-007"]


def test_validity(pki):
    expired = pki.self_signed_leaf(days=-1, start_days=-30)
    future = pki.self_signed_leaf(start_days=3, days=300)
    soon = pki.self_signed_leaf(days=10)
    f, _x, _c = sp.check_sp_certificate(expired.pem, "saml.crt")
    assert codes(f) == ["SAML-008"] and "has expired" in f[0].message
    f, _x, _c = sp.check_sp_certificate(future.pem, "saml.crt")
    assert codes(f) == ["SAML-008"] and "not valid yet" in f[0].message
    f, x, _c = sp.check_sp_certificate(soon.pem, "saml.crt")
    assert codes(f) == ["SAML-009"] and f[0].severity == "warning" and x["days_left"] in (9, 10)
    assert sp.check_sp_certificate(soon.pem, "saml.crt", expiry_warn_days=5)[0] == []
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=20)
    f, _x, _c = sp.check_sp_certificate(soon.pem, "saml.crt", now=later)
    assert codes(f) == ["SAML-008"]


def test_everything_is_reported_at_once(pki, tmp_path):
    """One pass lists every problem of a bad pair, certificate and key."""
    small = pki.self_signed_leaf(key=make_key("rsa", 1024), days=-1, start_days=-10)
    other = fx.key_file(make_key("rsa", 2048), "pkcs1", "pw")
    findings, _facts = sp.check_keypair(small.pem + small.pem, other, passphrase="pw", scope="site",
                                        cert_filename="saml.pem", key_filename="saml.txt")
    assert codes(findings) == ["SAML-001", "SAML-003", "SAML-006", "SAML-008", "SAML-010", "SAML-014",
                               "SAML-017", "SAML-019"]


# --------------------------------------------------------------------------- PBES2 parameters (the one DER reader)

def _asn1parse(der):
    """``openssl asn1parse`` of ``der``: the referee for the parameters read by sp.pbes2_parameters."""
    out = subprocess.run([OPENSSL, "asn1parse", "-inform", "DER"], input=der, capture_output=True, check=True)
    return out.stdout.decode("ascii")


@pytest.mark.parametrize("cipher,prf,iterations,key_length", [
    ("aes-128-cbc", "hmacWithSHA512", 4321, 16),
    ("aes-256-cbc", "hmacWithSHA256", 2048, 32),
    ("des3", "hmacWithSHA1", 1000, 24),
])
def test_pbes2_parameters_agree_with_openssl_asn1parse(rsa_pair, cipher, prf, iterations, key_length):
    pem = subprocess.run([OPENSSL, "pkcs8", "-topk8", "-v2", cipher, "-v2prf", prf, "-iter", str(iterations),
                          "-passout", "pass:x"], input=rsa_pair.key_pem("pkcs8"), capture_output=True,
                         check=True).stdout
    der = sp._pkcs8_der(pem)
    params = sp.pbes2_parameters(der)
    parsed = _asn1parse(der)
    octets = [line.split("[HEX DUMP]:")[1].strip().lower() for line in parsed.splitlines()
              if "OCTET STRING" in line and "[HEX DUMP]:" in line]
    assert params["salt"].hex() == octets[0] and params["iv"].hex() == octets[1]
    assert params["iterations"] == iterations
    integers = [int(line.rsplit(":", 1)[1], 16) for line in parsed.splitlines() if "prim: INTEGER" in line]
    assert integers[0] == iterations
    assert params["prf"] == prf[len("hmacWith"):].upper()
    assert params["cipher"] == ("3DES" if cipher == "des3" else "AES") and params["key_length"] == key_length


def test_pbes2_reader_is_strict_der(rsa_pair):
    """The SP key's PBES2 reader is _asn1 (strict DER): BER and elements that run past their
    container are refused with _asn1.DerError, which check_sp_key treats as "does not open"."""
    from ansible_collections.trustops.tableau.plugins.module_utils import _asn1
    pem = subprocess.run([OPENSSL, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:"],
                         input=rsa_pair.key_pem("pkcs8"), capture_output=True, check=True).stdout
    der = sp._pkcs8_der(pem)
    assert sp.pbes2_parameters(der)["cipher"] == "AES"
    # the outer SEQUENCE in BER's indefinite-length form (same content, then end-of-contents)
    _tag, start, end = _asn1.tlv(der)
    ber = b"\x30\x80" + der[start:end] + b"\x00\x00"
    with pytest.raises(_asn1.DerError, match="indefinite length"):
        sp.pbes2_parameters(ber)
    # the algorithm SEQUENCE claims one byte more than its container holds
    alg_start = start
    bad = bytearray(der)
    bad[alg_start + 1] += 1
    with pytest.raises(_asn1.DerError):
        sp.pbes2_parameters(bytes(bad))
    assert sp.pkcs8_opens_with_empty_password(ber) is False


def test_saml_package_has_no_der_reader_of_its_own():
    """One DER reader in the collection (_asn1): no TLV walker in the SAML package."""
    from pathlib import Path
    package = Path(sp.__file__).parent
    for path in sorted(package.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "def _der_tlv" not in text and "def _der_children" not in text, path.name
        assert "& 0x80" not in text and "& 0x7F" not in text, f"{path.name} decodes DER lengths itself"
