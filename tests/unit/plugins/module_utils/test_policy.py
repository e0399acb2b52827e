# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one key-size/digest policy: names, verdicts, refusals, and its doc fragment."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.trustops.tableau.plugins.module_utils import policy

REPO_ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("name, expected", [
    ("SHA-1", "sha1"), (" Sha_256 ", "sha256"), ("sha3-256", "sha3256"),
    ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "sha1"),
    ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "sha256"),
    ("sha1WithRSAEncryption", "sha1"), ("RSA-SHA512", "sha512"),
])
def test_digest_names_and_algorithms(name, expected):
    assert policy.digest_of_algorithm(name) == expected


def test_unknown_digest_names_are_refused_with_the_option_name():
    with pytest.raises(policy.PolicyError, match=r"blocklisted_digests: unknown digest 'shaone'"):
        policy.Policy(["sha1", "shaone"])
    with pytest.raises(policy.PolicyError, match=r"min_ec_key_size: -1 is negative"):
        policy.Policy(min_ec_key_size=-1)
    with pytest.raises(policy.PolicyError, match="not a number of bits"):
        policy.Policy(min_rsa_key_size=True)


@pytest.mark.parametrize("key_type, size, status, option", [
    ("RSA", 1024, "too_small", "min_rsa_key_size"), ("RSA", 2048, "ok", "min_rsa_key_size"),
    ("DSA", 1024, "too_small", "min_rsa_key_size"), ("EC", 192, "too_small", "min_ec_key_size"),
    ("EC", 256, "ok", "min_ec_key_size"), ("Ed25519", 256, "ok", None), ("Ed448", 456, "ok", None),
    ("X448PublicKey", None, "unsized", None), ("RSA", None, "unsized", "min_rsa_key_size"),
])
def test_key_verdicts(key_type, size, status, option):
    verdict = policy.Policy().key_verdict(key_type, size)
    assert verdict.status == status
    if status == "too_small":
        assert verdict.option == option and verdict.minimum in (2048, 256)


def test_zero_checks_nothing_and_empty_blocklist_blocks_nothing():
    lax = policy.Policy([], 0, 0)
    assert lax.key_verdict("RSA", 512).status == "ok"
    assert not lax.digest_blocked("sha1")
    assert policy.Policy().digest_blocked("SHA1") and not policy.Policy().digest_blocked(None)


def test_from_params_takes_defaults_for_missing_or_none():
    assert policy.Policy.from_params({"min_rsa_key_size": None}).as_dict() == {
        "blocklisted_digests": ["sha1"], "min_rsa_key_size": 2048, "min_ec_key_size": 256}


def test_argument_spec_matches_its_doc_fragment_and_aliases():
    spec = policy.argument_spec()
    tree = ast.parse((REPO_ROOT / "plugins" / "doc_fragments" / "policy.py").read_text())
    text = [n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
            and any(getattr(t, "id", None) == "DOCUMENTATION" for t in n.targets)][0]
    documented = yaml.safe_load(text)["options"]
    assert set(documented) == set(spec)
    for name, option in spec.items():
        assert documented[name]["type"] == option["type"]
        assert documented[name]["default"] == option["default"]
    aliased = policy.argument_spec(aliases=True)
    assert aliased["min_ec_key_size"]["aliases"] == ["min_ec_size"]
    assert aliased["blocklisted_digests"]["aliases"] == ["blocklisted_digest_algorithms"]
    assert "aliases" not in policy.argument_spec()["min_ec_key_size"], "argument_spec must return a copy"


#: ansible-test validate-modules' pattern of option names that "could be a secret" (no-log-needed)
SECRET_LOOKING = re.compile(r"(?:pass(?!ive)|secret|token|key)", re.I)


@pytest.mark.parametrize("aliases", [False, True])
def test_size_options_say_they_are_no_secret(aliases):
    """min_rsa_key_size and min_ec_key_size contain "key": without an explicit no_log=False,
    validate-modules fails every module that takes the policy (no-log-needed)."""
    spec = policy.argument_spec(aliases=aliases)
    looking = [name for name in spec if SECRET_LOOKING.search(name)]
    assert looking == ["min_rsa_key_size", "min_ec_key_size"]
    for name in looking:
        assert spec[name]["no_log"] is False, name
    assert "no_log" not in spec["blocklisted_digests"]
