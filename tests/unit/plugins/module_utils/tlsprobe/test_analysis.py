# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tlsprobe.analysis, offline: the verdicts on a served chain made by the ``pki`` fixture (no server).
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pki_factory import make_key

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.analysis import analyze

from .servers import HOST

NOW = datetime.datetime.now(datetime.timezone.utc)


def test_cn_only_certificate_is_a_legacy_match(pki, pki3):
    leaf = pki.leaf(pki3["inter"], cn=HOST, dns=())
    a = analyze([leaf.cert, pki3["inter"].cert], HOST, [pki3["root"].cert])
    assert [f.code for f in a["findings"]] == ["TLS-004"]
    assert a["name_matched"] is True and a["matched_via"] == "cn-legacy" and a["names"] == [HOST]


def test_weak_keys(pki, pki3):
    rsa1024 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("rsa", 1024))
    a = analyze([rsa1024.cert, pki3["inter"].cert], HOST, [pki3["root"].cert])
    assert [f.code for f in a["findings"]] == ["TLS-009"]
    assert a["findings"][0].data["key_size"] == 1024
    assert analyze([rsa1024.cert, pki3["inter"].cert], HOST, [pki3["root"].cert],
                   min_rsa_key_size=1024)["findings"] == []
    rsa3072 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("rsa", 3072))
    strict = analyze([rsa3072.cert, pki3["inter"].cert], HOST, [pki3["root"].cert], min_rsa_key_size=4096)
    assert [(f.code, f.data["role"]) for f in strict["findings"]] == [
        ("TLS-009", "leaf"), ("TLS-009", "served #1"), ("TLS-009", "trust anchor")]
    ec192 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 192))
    assert [f.code for f in analyze([ec192.cert, pki3["inter"].cert], HOST,
                                    [pki3["root"].cert])["findings"]] == ["TLS-009"]


def test_ec_keys_follow_min_ec_key_size_of_the_one_policy(pki, pki3):
    """TLS-009 for EC keys is the policy's verdict (min_ec_key_size, vendor default 256), not a fixed 256."""
    p256 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 256))
    chain, anchors = [p256.cert, pki3["inter"].cert], [pki3["root"].cert]
    assert analyze(chain, HOST, anchors)["findings"] == []  # the default changes no verdict
    strict = analyze(chain, HOST, anchors, min_ec_key_size=384)
    assert [(f.code, f.data["role"], f.data["key_type"], f.data["key_size"]) for f in strict["findings"]] == [
        ("TLS-009", "leaf", "EC", 256)]
    assert "EC 256 bits, under min_ec_key_size 384" in strict["findings"][0].message
    assert "EC key of at least 384 bits" in strict["findings"][0].remedy
    ec192 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 192))
    assert analyze([ec192.cert, pki3["inter"].cert], HOST, anchors, min_ec_key_size=0)["findings"] == []
    with pytest.raises(TrustopsError, match="^min_ec_key_size: -1 is negative"):
        analyze(chain, HOST, anchors, min_ec_key_size=-1)


def test_dsa_is_refused_whatever_the_size_options(pki, pki3):
    """DSA server certificates are refused by TLS clients: TLS-009 even when the size options check nothing."""
    from cryptography.hazmat.primitives.asymmetric import dsa
    dsa_leaf = pki.leaf(pki3["inter"], dns=(HOST,), key=dsa.generate_private_key(2048))
    found = analyze([dsa_leaf.cert, pki3["inter"].cert], HOST, [pki3["root"].cert], min_rsa_key_size=0,
                    min_ec_key_size=0)["findings"]
    assert [(f.code, f.data["key_type"]) for f in found] == [("TLS-009", "DSA")]
    assert "DSA, which TLS clients no longer accept" in found[0].message


def test_not_yet_valid(pki, pki3):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), start_days=3, days=100)
    a = analyze([leaf.cert, pki3["inter"].cert], HOST, [pki3["root"].cert])
    assert [f.code for f in a["findings"]] == ["TLS-007"]


def test_expired_trust_anchor(pki):
    old_root = pki.root(cn="Old Root", start_days=-400, days=-1)
    leaf = pki.leaf(old_root, dns=(HOST,))
    a = analyze([leaf.cert], HOST, [old_root.cert])
    assert [(f.code, f.data["role"]) for f in a["findings"]] == [("TLS-006", "trust anchor")]


def _custom_leaf(issuer, eku=True, days=365, start=None):
    key = issuer.key
    start = start or NOW - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
               .issuer_name(issuer.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False))
    if eku == "client":
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    elif eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


def test_apple_server_certificate_rules(pki3):
    anchors = [pki3["root"].cert]
    inter = pki3["inter"]
    assert analyze([_custom_leaf(inter), inter.cert], HOST, anchors)["findings"] == []
    client_only = analyze([_custom_leaf(inter, eku="client"), inter.cert], HOST, anchors)
    assert [f.code for f in client_only["findings"]] == ["TLS-015"]
    no_eku = analyze([_custom_leaf(inter, eku=False), inter.cert], HOST, anchors)
    assert [f.code for f in no_eku["findings"]] == ["TLS-015"]
    long_lived = analyze([_custom_leaf(inter, days=826), inter.cert], HOST, anchors)
    assert [f.code for f in long_lived["findings"]] == ["TLS-016"]
    assert analyze([_custom_leaf(inter, days=825), inter.cert], HOST, anchors)["findings"] == []
    old_start = datetime.datetime(2019, 6, 1, tzinfo=datetime.timezone.utc)
    before_rules = _custom_leaf(inter, eku=False, days=3000, start=old_start)
    assert analyze([before_rules, inter.cert], HOST, anchors)["findings"] == []


def test_empty_served_chain_is_an_error():
    with pytest.raises(TrustopsError):
        analyze([], HOST, [])
