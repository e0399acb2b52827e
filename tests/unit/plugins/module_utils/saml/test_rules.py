# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule table itself: codes, templates, TSM keys, the registry, the policy, and that
docs/saml.md documents every SAML-0NN rule as the code has it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
import seed_text

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
        rules.REGISTRY.register(rules.Rule("SAML-001", "error", "m", "r"))
    rules.REGISTRY.register(rules.RULES["SAML-001"])  # the same object again is harmless


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
def test_normalize_digest(name, expected):
    assert rules.normalize_digest(name) == expected


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
                   for name in ("test_sp.py", "test_metadata.py", "test_hardening.py"))
    text += (here.parent.parent / "modules" / "test_saml_metadata_check.py").read_text(encoding="utf-8")
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


# ------------------------------------------------------------------ the registry (issue 13's catalogue)

from ansible_collections.trustops.tableau.plugins.module_utils.saml import response  # noqa: E402  registers SAML-1NN

ALL = sorted(rules.RULES)
PLUGINS = Path(rules.__file__).parents[2]
#: Every file that makes SAML findings: the package's cores and the three check modules.
SAML_CODE = sorted(Path(rules.__file__).parent.glob("*.py")) + sorted((PLUGINS / "modules").glob("saml_*.py"))


def seed_sentences():
    return seed_text.sentences_of(rules.Seed)


def test_both_layers_register_into_the_one_registry_in_code_order():
    assert rules.REGISTRY.prefix == "SAML" and rules.RULES is rules.REGISTRY.rules
    configuration = [r.code for r in rules.CONFIGURATION_RULES]
    answers = [r.code for r in response.RESPONSE_RULES]
    assert configuration == OWN and answers == sorted(c for c in ALL if c.startswith("SAML-1"))
    assert list(rules.RULES) == configuration + answers  # registration order is code order
    assert all(rules.REGISTRY.rule(code) is rule for code, rule in rules.RULES.items())


@pytest.mark.parametrize("code", ALL)
def test_every_rule_has_a_title_and_a_seed_made_of_seed_sentences(code):
    rule = rules.RULES[code]
    assert rule.title and len(rule.title) <= 60 and not rule.title.endswith("."), rule.title
    assert rule.title[0].isupper() or rule.title.split()[0] in ("username", "authcontexts")
    assert rules.NOT_VENDOR == seed_text.NOT_VENDOR
    seed_text.assert_made_of_sentences(code, rule.seed, seed_sentences().values())


def test_titles_are_unique():
    titles = [rule.title for rule in rules.RULES.values()]
    assert len(set(titles)) == len(titles)


@seed_text.needs_articles("002_*.txt")
@pytest.mark.parametrize("name", sorted(seed_sentences()))
def test_seed_sentences_are_verbatim_from_seed_002(name):
    assert seed_sentences()[name] in seed_text.articles("002_*.txt")[0]


def _calls(tree, name):
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def test_findings_are_made_only_through_the_registry():
    """No ``Finding(...)`` in the SAML code: every finding's text comes from its Rule."""
    made = {path.name: len(_calls(ast.parse(path.read_text(encoding="utf-8")), "Finding")) for path in SAML_CODE}
    assert len(made) >= 10 and {name for name, count in made.items() if count} == set()


def test_every_code_the_saml_code_names_is_registered_and_every_rule_is_emitted():
    named = set()
    for path in SAML_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        definitions = {id(call.args[0]) for call in _calls(tree, "Rule") if call.args}
        named |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and isinstance(node.value, str) and re.fullmatch(r"SAML-\d{3}", node.value)
                  and id(node) not in definitions}
    assert sorted(named - set(rules.RULES)) == []  # a code nobody registered
    assert sorted(set(rules.RULES) - named) == []  # a rule no check makes


@pytest.fixture(scope="module")
def real_findings(tmp_path_factory):
    """Findings of real inputs: an openssl SHA-1 RSA 1024 certificate with an unencrypted PKCS#8
    EC key, pysaml2 IdP metadata (SOAP only, no logout, RSA 1024, SHA-1 certificate), wrong URLs,
    and a pysaml2 response with the wrong attribute type, signed with SHA-1 by RSA 1024."""
    import saml_idp_fixtures as fx  # pylint: disable=import-error
    import saml_response_fixtures as rx  # pylint: disable=import-error
    from ansible_collections.trustops.tableau.plugins.module_utils.saml import metadata, sp, urls
    work = tmp_path_factory.mktemp("real")
    weak = fx.key("rsa", 1024, "rules-weak")
    found, _facts = sp.check_keypair(fx.pem(fx.self_signed(weak, digest="sha1")),
                                     fx.key_file(fx.key("ec", 256, "rules-ec"), "pkcs8"),
                                     cert_filename="saml.pem", key_filename="saml.txt")
    idp = fx.Idp(work, "rsa", 1024, "sha1", name="rules-idp")
    found += metadata.check_idp_metadata(idp.metadata(sso=("soap",), slo=()))[0]
    found += metadata.check_sp_metadata(fx.sp_metadata(work, slo=False, acs_url="https://Tableau.example.test/x"),
                                        server_host=fx.SERVER_HOST)[0]
    found += urls.check_sp_urls(fx.SERVER_HOST, "site", "finance", acs_url="http://tableau.example.test/x",
                                return_url="http://localhost/")[0]
    answer = rx.Idp(work / "idp", kind="rsa", size=1024)
    report = response.check_response(answer.response(username_type="xs:anyType", sign_alg="sha1", digest_alg="sha1"),
                                     idp_metadata=answer.metadata(), acs_url=rx.ACS_URL, authcontexts=["urn:x"])
    return found + report.findings


def test_findings_of_real_inputs_carry_their_rules_text(real_findings):
    codes = {f.code for f in real_findings}
    for expected in ("SAML-001", "SAML-005", "SAML-006", "SAML-010", "SAML-012", "SAML-016", "SAML-027",
                     "SAML-030", "SAML-034", "SAML-037", "SAML-050", "SAML-052", "SAML-055", "SAML-057",
                     "SAML-111", "SAML-120", "SAML-126", "SAML-130"):
        assert expected in codes, expected
    for found in real_findings:
        rule = rules.RULES[found.code]
        values = {name: found.data[name] for name in fields(rule.message) | fields(rule.remedy)}
        assert found.severity == rule.severity
        assert found.message == rule.message.format(**values)
        assert found.remedy.startswith(rule.remedy.format(**values))
