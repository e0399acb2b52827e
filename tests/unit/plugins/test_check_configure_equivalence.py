# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule, one verdict (issue 12): the check path and the configure path judge the same input alike.

The check path is saml_keypair_check / saml_metadata_check, the configure path tsm_saml against
the TSM simulator (check mode). Each row varies one input (the SP key file of every row of seed
002's key table, SP certificates of every key type and digest, IdP signing certificates, return
URLs) on top of a baseline that both paths accept, and asserts the same error codes on both
sides. The configure path may add the codes only it can know (:data:`TSM_ONLY`).
"""

from __future__ import annotations

import base64
import datetime
import os
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.modules import saml_keypair_check, saml_metadata_check, tsm_saml
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.rules import CONFIGURE_ONLY

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, os.path.join(HERE, "module_utils"))
import saml_idp_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position,import-error
from tsm_sim.harness import IDP_METADATA, SimServer, run_module, write  # noqa: E402  pylint: disable=wrong-import-position,import-error

#: Findings only the configure path can report: it sees the server (TSM-001 mutual SSL on, TSM-005
#: first configuration incomplete) and options the check modules do not take (TSM-004).
TSM_ONLY = frozenset(CONFIGURE_ONLY)  # the one list, in tsm.rules
URL = "https://tableau.example.test"
PASS = "Equivalence-Pass-7"
POLICY = {"blocklisted_digests": ["sha1"], "min_rsa_key_size": 2048, "min_ec_key_size": 256}


def _cert(private_key, digest, cn):
    if isinstance(private_key, ed25519.Ed25519PrivateKey):  # no separate digest: signed as Ed25519
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private_key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365)).sign(private_key, None))
    return fx.self_signed(private_key, cn, digest=digest)


def _key(kind):
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    algo, size = {"rsa1024": ("rsa", 1024), "rsa2048": ("rsa", 2048), "p256": ("ec", 256), "p384": ("ec", 384),
                  "dsa2048": ("dsa", 2048)}[kind]
    return fx.key(algo, size, "equivalence")


def _plain_key_file(private_key):
    """The key as its owner would give it: PKCS#1 (traditional) for RSA/DSA, PKCS#8 otherwise."""
    traditional = isinstance(private_key, (rsa.RSAPrivateKey, dsa.DSAPrivateKey))
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


KINDS = [("rsa1024", "sha256"), ("rsa2048", "sha256"), ("rsa2048", "sha1"), ("p256", "sha256"), ("p384", "sha256"),
         ("p256", "sha1"), ("dsa2048", "sha256"), ("dsa2048", "sha1"), ("ed25519", None)]
KEY_TABLE = [  # seed 002, "Summary of support" (server-wide SAML: tsm configures server-wide SAML)
    ("PKCS#8 RSA", "pkcs8", PASS),
    ("PKCS#8 (no/null password): no password", "pkcs8", None),
    ("PKCS#8 (no/null password): empty password", "pkcs8", ""),
    ("PKCS#1 RSA", "pkcs1", None),
    ("PKCS#1 RSA (password)", "pkcs1", PASS),
    ("PKCS#1 DSA (password)", "pkcs1", PASS),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A simulator and a baseline both paths accept: SP pair (RSA 2048, SHA-256, PKCS#1), IdP metadata."""
    d = tmp_path_factory.mktemp("equivalence")
    sp_key = fx.key("rsa", 2048, "equivalence-sp")
    idp_key = fx.key("rsa", 2048, "equivalence-idp")
    base = {
        "dir": d, "sim": SimServer(d / "server"), "sp_key": sp_key,
        "cert": write(d / "sp.crt", fx.pem(_cert(sp_key, "sha256", "tableau.example.test"))),
        "key": write(d / "sp.key", _plain_key_file(sp_key)),
        "idp": write(d / "idp.xml", _metadata(_cert(idp_key, "sha256", "idp.example.test"))),
    }
    return base


def _metadata(signing_cert):
    der = signing_cert.public_bytes(serialization.Encoding.DER)
    return IDP_METADATA.replace(b"%s", b"eq").replace(b"%c", base64.b64encode(der))


def configure_codes(world, **override):
    """Error codes of tsm_saml (check mode) on the baseline with ``override``; TSM-only codes apart."""
    args = {"tsm_path": world["sim"].tsm, "idp_entity_id": URL, "return_url": URL, "idp_metadata_file": world["idp"],
            "cert_file": world["cert"], "key_file": world["key"]}
    args.update(POLICY)
    args.update(override)
    result = run_module(tsm_saml.main, args, check=True)
    assert "findings" in result, result  # a refusal without findings would be a verdict of another kind
    codes = [f["code"] for f in result["findings"] if f["severity"] == "error"]
    return sorted(c for c in codes if c not in TSM_ONLY), sorted(c for c in codes if c in TSM_ONLY), result


def check_codes(main, **args):
    args.update(POLICY)
    result = run_module(main, args)
    assert "findings" in result, result
    return sorted(f["code"] for f in result["findings"] if f["severity"] == "error"), result


def test_the_baseline_passes_both_paths(world):
    checked, _r = check_codes(saml_keypair_check.main, cert_src=world["cert"], key_src=world["key"])
    metadata, _r = check_codes(saml_metadata_check.main, src=world["idp"], return_url=URL)
    configured, tsm_only, result = configure_codes(world)
    assert checked == metadata == configured == tsm_only == [], result
    assert not result.get("failed") and result["changed"], result


@pytest.mark.parametrize("row,fmt,passphrase", KEY_TABLE, ids=[r[0] for r in KEY_TABLE])
def test_key_table_rows(world, row, fmt, passphrase):
    private_key = fx.key("dsa", 2048, "equivalence-dsa") if "DSA" in row else world["sp_key"]
    cert = world["cert"]
    if "DSA" in row:
        cert = write(world["dir"] / "dsa.crt", fx.pem(_cert(private_key, "sha256", "tableau-dsa.example.test")))
    key = write(world["dir"] / (f"row-{KEY_TABLE.index((row, fmt, passphrase))}.key"),
                fx.key_file(private_key, fmt, passphrase))
    checked, check_result = check_codes(saml_keypair_check.main, cert_src=cert, key_src=key, passphrase=passphrase)
    configured, tsm_only, result = configure_codes(world, cert_file=cert, key_file=key, key_passphrase=passphrase)
    assert configured == checked and tsm_only == [], (row, check_result["findings"], result.get("findings"))
    supported = row in ("PKCS#8 RSA", "PKCS#1 RSA")
    assert (checked == []) is supported, (row, checked)


@pytest.mark.parametrize("kind,digest", KINDS, ids=["{}-{}".format(*k) for k in KINDS])
def test_sp_certificates_of_every_key_type_and_digest(world, kind, digest):
    private_key = _key(kind)
    stem = f"sp-{kind}-{digest}"
    cert = write(world["dir"] / (stem + ".crt"), fx.pem(_cert(private_key, digest, "tableau.example.test")))
    key = write(world["dir"] / (stem + ".key"), _plain_key_file(private_key))
    checked, check_result = check_codes(saml_keypair_check.main, cert_src=cert, key_src=key)
    configured, tsm_only, result = configure_codes(world, cert_file=cert, key_file=key)
    assert configured == checked and tsm_only == [], (kind, digest, check_result["findings"], result.get("findings"))
    assert (checked == []) is (kind in ("rsa2048", "dsa2048") and digest == "sha256"), (kind, digest, checked)  # seed: RSA or DSA


@pytest.mark.parametrize("kind,digest", KINDS, ids=["{}-{}".format(*k) for k in KINDS])
def test_idp_signing_certificates_of_every_key_type_and_digest(world, kind, digest):
    idp = write(world["dir"] / (f"idp-{kind}-{digest}.xml"), _metadata(_cert(_key(kind), digest, "idp.example.test")))
    checked, check_result = check_codes(saml_metadata_check.main, src=idp)
    configured, tsm_only, result = configure_codes(world, idp_metadata_file=idp)
    assert configured == checked and tsm_only == [], (kind, digest, check_result["findings"], result.get("findings"))
    accepted = kind in ("rsa2048", "p256", "p384") and digest == "sha256"
    assert (checked == []) is accepted, (kind, digest, checked)


HOSTS = st.sampled_from(["tableau.example.test", "TABLEAU.example.test", "localhost", "127.0.0.1", "[::1]",
                         "tableau.localhost", "10.0.0.5", "tableau.example.test:8443", ""])
URLS = st.builds(lambda scheme, host, path, slash: f"{scheme}{host}{path}{slash}",
                 st.sampled_from(["https://", "http://", "ftp://", "", "HTTPS://"]), HOSTS,
                 st.sampled_from(["", "/tableau", "/a/b"]), st.sampled_from(["", "/"])).filter(bool)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=URLS)
def test_return_urls(world, url):
    checked, check_result = check_codes(saml_metadata_check.main, return_url=url)
    configured, tsm_only, result = configure_codes(world, return_url=url)
    assert configured == checked and tsm_only == [], (url, check_result["findings"], result.get("findings"))
