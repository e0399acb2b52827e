# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.rules: the MOBILE registry, every rule reached by real inputs, seed 000 verbatim, docs.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    checks,
    inputs,
    signing,
)
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import rules as mobile_rules

from .helpers import build, cas_of, openssl_sha1, pem, signer_of

CHECKOUT = Path(mobile_rules.__file__).resolve().parents[3]  # the repository root is the collection root


SEED_000 = sorted((CHECKOUT.parent / "shared" / "seeds").glob("000_*.txt"))  # shared/ beside the checkout


def emitted_findings(world, tmp_path):
    """Every finding the mobile core gives for real inputs that reach every MOBILE rule: CAs
    (soon expiring, no CN, intermediate with and without include_intermediates, given twice) and
    signers (the usual chain, no chain, a stray chain certificate, expired, no digitalSignature,
    serverAuth only, weak RSA and EC keys, SHA-1 made by openssl)."""
    found = []
    for cert in (build("Short Root", days=10)[0], build("x", with_cn=False)[0], world["inter"][0]):
        cas, dups = inputs.load_cas([(pem(cert), "a.pem"), (pem(cert), "b.pem")])
        for include in (False, True):
            found += checks.ca_findings(cas, dups, include_intermediates=include)
    cas, other = cas_of(world["root"]), cas_of(world["other_root"])
    full = [world["inter"][0], world["root"][0]]
    signers = [signer_of(world), signer_of(world, chain=()), signer_of(world, chain=("inter", "root", "other_root"))]
    odd = [
        build("Expired signer", world["inter"], ca=False, days=-1, start_days=-10, key_usage=["digital_signature"]),
        build("Encipher only", world["inter"], ca=False, key_usage=["key_encipherment"]),
        build("TLS server", world["inter"], ca=False, key_usage=["digital_signature"],
              eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        build("Weak RSA signer", world["inter"], ca=False, key_usage=["digital_signature"],
              key=rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        build("P-192 signer", world["inter"], ca=False, key_usage=["digital_signature"],
              key=ec.generate_private_key(ec.SECP192R1())),
        openssl_sha1(tmp_path, "SHA-1 signer", issuer=world["inter"], ca=False),
    ]
    signers += [signing.Signer(cert, key, full) for cert, key in odd]
    for signer in signers:
        for judged_cas in (cas, other):
            found += checks.signer_findings(signer, judged_cas)
    return found


def test_every_mobile_code_emitted_is_registered_and_every_rule_is_reached(world, tmp_path):
    found = [f for f in emitted_findings(world, tmp_path) if f.code.startswith("MOBILE-")]
    assert {f.code for f in found} == set(mobile_rules.RULES)  # no stray code, no unreachable rule
    for f in found:
        rule = mobile_rules.RULES[f.code]
        # MOBILE-008 is info when the intermediate is installed on purpose; every other code keeps its severity
        assert f.severity == rule.severity or (f.code, f.severity) == ("MOBILE-008", "info"), f
        assert "{" not in f.message and "}" not in f.message and f.remedy, f
        # the template's fixed words are in the message: the text comes from the registry
        fixed = [text.strip() for text, *_rest in string.Formatter().parse(rule.message) if len(text.strip()) > 8]
        assert fixed and all(part in f.message for part in fixed), (f.code, fixed, f.message)
        # wording choices stay out of data; the certificate's facts are in it
        assert not mobile_rules.WORDING_FIELDS.intersection(f.data), f.data
        if f.code != "MOBILE-009":
            assert f.data["subject"] in f.message and len(f.data["sha256"]) == 95
    by_code = {f.code: f for f in found}
    assert by_code["MOBILE-014"].data["digest"] == "sha1" and " SHA1," in by_code["MOBILE-014"].message
    weak = [f for f in found if f.code == "MOBILE-015"]
    assert {f.data["key_type"] for f in weak} == {"RSA", "EC"}
    assert all(("iOS 13" in f.message) == (f.data["key_type"] == "RSA") for f in weak)


def test_mobile_registry_rules_are_complete():
    assert mobile_rules.REGISTRY.prefix == "MOBILE" and mobile_rules.REGISTRY.seeds == "seed 000"
    assert sorted(mobile_rules.RULES) == [f"MOBILE-{n:03d}" for n in range(6, 18)]
    for code, rule in mobile_rules.RULES.items():
        assert rule.code == code and rule.title and rule.message and rule.remedy and rule.seed, code
        assert rule.tsm_key is None  # no TSM key relaxes a device-side rule
        names = {name for _t, name, _s, _c in string.Formatter().parse(rule.message + rule.remedy) if name}
        made = mobile_rules.finding(code, **{name: f"<{name}>" for name in names})
        assert made.code == code and "{" not in made.message + made.remedy


@pytest.mark.skipif(not SEED_000, reason="shared/seeds is not beside this checkout")
def test_mobile_seed_sentences_are_seed_000_verbatim():
    seed = " ".join(SEED_000[0].read_text(encoding="utf-8").split())
    for code, rule in mobile_rules.RULES.items():
        if rule.seed.startswith("Not a vendor rule:"):
            continue
        assert " ".join(rule.seed.split()) in seed, code


def test_docs_table_has_every_mobile_rule_with_its_severity():
    text = (CHECKOUT / "docs" / "mobile.md").read_text(encoding="utf-8")
    for code, rule in mobile_rules.RULES.items():
        rows = [line for line in text.splitlines() if line.startswith(f"| {code} |")]
        assert len(rows) == 1, code
        assert rows[0].split("|")[2].strip().startswith(rule.severity), rows[0]
