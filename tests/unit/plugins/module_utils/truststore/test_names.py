# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""truststore.names: fingerprints, file names, and the anchor input (PEM, DER, PKCS#7).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

from .helpers import sha256


@pytest.mark.parametrize("text", [
    "ab" * 32, "AB" * 32, ":".join(["ab"] * 32), " ".join(["Ab"] * 32), "-".join(["aB"] * 32)])
def test_normalize_sha256_variants(text):
    assert names.normalize_fingerprint(text) == ("sha256", "AB" * 32)


def test_normalize_sha1():
    assert names.normalize_fingerprint("3b:1e:fd:3a:66:ea:28:b1:66:97:39:47:03:a7:2c:a3:40:a0:5b:d5") == (
        "sha1", "3B1EFD3A66EA28B16697394703A72CA340A05BD5")


@pytest.mark.parametrize("text,needle", [
    ("", "empty"), ("zz" * 32, "not hexadecimal"), ("ab" * 31, "62 hex digits"), ("ab" * 33, "66 hex digits")])
def test_normalize_rejects(text, needle):
    with pytest.raises(TrustopsError, match=needle):
        names.normalize_fingerprint(text)


def test_default_name_is_deterministic_and_safe(pki, cas):
    name = names.default_name(cas["root"].cert)
    assert name == "trustops-trustops-unit-root-{}".format(sha256(cas["root"])[:16].lower())
    assert names.default_name(cas["root"].cert) == name
    assert names.anchor_name(name) == name
    odd = pki.root(cn="Ünïcode / Root (Test) CA")
    assert names.anchor_name(names.default_name(odd.cert)).startswith("trustops-unicode-root-test-ca-")
    no_cn = pki._build("unused", None, odd.key, True, cn=False)
    assert names.default_name(no_cn.cert).startswith("trustops-trustops-test-")  # falls back to O=


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/b", ".hidden", "root.crt", "ROOT.PEM", "a b", "x" * 129])
def test_anchor_name_rejects(bad):
    with pytest.raises(TrustopsError, match="name"):
        names.anchor_name(bad)
    assert names.check_name is names.anchor_name  # the name of earlier releases


def test_load_anchor_pem_der_pkcs7(cas):
    root = cas["root"]
    p7 = pkcs7.serialize_certificates([root.cert], serialization.Encoding.DER)
    for data in (root.pem, root.der, p7, root.pem.decode("ascii")):
        assert names.cert_digests(names.load_anchor(data, "src"))[0] == sha256(root)


@pytest.mark.parametrize("what,needle", [
    ("two", "holds 2 certificates"), ("key", "private key"), ("garbage", "not PEM or DER"), ("empty", "empty")])
def test_load_anchor_refuses(cas, what, needle):
    data = {"two": cas["root"].pem + cas["other"].pem, "key": cas["root"].key_pem(),
            "garbage": b"this is not a certificate\n", "empty": b""}[what]
    with pytest.raises(certs.CertificateError, match=needle):
        names.load_anchor(data, "/tmp/in.crt")
