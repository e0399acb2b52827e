# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule table itself: codes, templates, TSM keys, the registry, the policy, and that
docs/saml.md documents every SAML-0NN rule as the code has it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils.saml import rules
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding

DOCS = Path(rules.__file__).parents[3] / "docs" / "saml.md"
OWN = sorted(code for code in rules.RULES if re.match(r"^SAML-0\d\d$", code))
TSM_KEYS = {"wgserver.saml.blocklisted_digest_algorithms", "wgserver.saml.min_allowed.rsa_key_size",
            "wgserver.saml.min_allowed.elliptic_curve_size"}


def fields(template):
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


def test_codes_are_contiguous_groups():
    assert len(OWN) >= 50
    assert OWN[0] == "SAML-001"


@pytest.mark.parametrize("code", OWN)
def test_rule_is_complete_and_formats(code):
    rule = rules.RULES[code]
    assert rule.code == code and rule.severity in ("info", "warning", "error")
    assert rule.message and rule.remedy and rule.seed
    assert rule.tsm_key is None or rule.tsm_key in TSM_KEYS
    values = {name: f"V{name}" for name in fields(rule.message) | fields(rule.remedy)}
    found = rules.finding(code, **values)
    assert isinstance(found, Finding) and found.code == code and found.severity == rule.severity
    assert "{" not in found.message and "{" not in found.remedy
    if rule.tsm_key:
        assert found.data["tsm_key"] == rule.tsm_key and rule.tsm_key in found.remedy


@pytest.mark.parametrize("code", OWN)
def test_docs_document_every_rule(code):
    text = DOCS.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(f"| `{code}` |")]
    assert len(rows) == 1, f"docs/saml.md must have one table row for {code}"
    rule = rules.RULES[code]
    cells = [c.strip() for c in rows[0].strip("|").split(" | ")]
    assert cells[1] == rule.severity
    assert cells[3] == (f"`{rule.tsm_key}`" if rule.tsm_key else "—")
    assert rule.seed.split(".")[0][:40] in cells[4]


def test_finding_severity_override_and_data():
    found = rules.finding("SAML-030", severity="error", source="x.xml", data={"extra": 1})
    assert found.severity == "error" and found.data == {"source": "x.xml", "extra": 1}


def test_register_refuses_a_second_rule_with_the_same_code():
    with pytest.raises(ValueError, match="registered twice"):
        rules.register(rules.Rule("SAML-001", "error", "m", "r"))
    rules.register(rules.RULES["SAML-001"])  # the same object again is harmless


def test_rule_refuses_unknown_severity():
    with pytest.raises(ValueError):
        rules.Rule("SAML-999", "fatal", "m", "r")


@pytest.mark.parametrize("name,expected", [
    ("sha1", "sha1"), ("SHA-1", "sha1"), ("RSA-SHA1", "sha1"), ("sha_256", "sha256"),
    ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "sha1"),
    ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "sha256"),
    ("http://www.w3.org/2001/04/xmlenc#sha512", "sha512"),
    ("http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1", "sha3256"),
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-md5", "md5"),
])
def test_normalise_digest(name, expected):
    assert rules.normalise_digest(name) == expected


def test_policy():
    policy = rules.Policy(["SHA-1", "md5"], 3072, 384)
    assert policy.blocklisted_digests == ("md5", "sha1")
    assert policy.digest_blocked("http://www.w3.org/2000/09/xmldsig#sha1")
    assert not policy.digest_blocked("sha256") and not policy.digest_blocked(None)
    default = rules.Policy.from_params({})
    assert (default.blocklisted_digests, default.min_rsa_key_size, default.min_ec_key_size) == (("sha1",), 2048, 256)
    assert rules.Policy(blocklisted_digests=None).blocklisted_digests == ()


def test_every_rule_is_exercised_by_a_failing_input():
    """Each SAML-0NN code is asserted by at least one test that feeds an input breaking it
    (the same tests assert the passing inputs produce no finding)."""
    here = Path(__file__).parent
    text = "".join((here / name).read_text(encoding="utf-8")
                   for name in ("test_saml_keypair.py", "test_saml_metadata.py", "test_saml_hardening.py"))
    text += (here.parent / "modules" / "test_saml_metadata_check.py").read_text(encoding="utf-8")
    missing = [code for code in OWN if f'"{code}"' not in text]
    assert missing == []


def test_where_the_rules_live_names_functions_that_exist():
    """docs/saml.md's "Where the rules live" table names, for each code family, the function of
    the saml package that implements it; every one of them must exist."""
    import importlib
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Where the rules live", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(sp|metadata|urls|response|rules)\.(\w+)(?:\(\))?`", section)
    assert len(named) >= 12
    for module, name in named:
        mod = importlib.import_module("ansible_collections.trustops.tableau.plugins.module_utils.saml." + module)
        assert hasattr(mod, name), f"docs/saml.md names saml/{module}.py {name}, which does not exist"
