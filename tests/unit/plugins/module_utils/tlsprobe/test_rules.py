# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tlsprobe.rules: the TLS rule registry (TLS-NNN), its seed sentences, and findings made only through it.
"""

from __future__ import annotations

import ast
import datetime
import re
import string
from pathlib import Path

import pytest
from pki_factory import make_key
import seed_text

from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import rules
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.analysis import analyze

from .servers import HOST


#: Every file that makes TLS findings: the package's cores and the module.
TLS_CODE = sorted(Path(rules.__file__).parent.glob("*.py")) + [Path(rules.__file__).parents[2] / "modules" / "tls_probe.py"]


def seed_sentences():
    return seed_text.sentences_of(rules.Seed)


def _calls(tree, name):
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def test_the_registry_is_REGISTRY_of_tlsprobe_rules_with_every_code_once():
    assert rules.REGISTRY.prefix == "TLS" and rules.REGISTRY.topic == "Client trust"
    assert rules.REGISTRY.seeds == "seeds 000 and 001" and rules.RULES is rules.REGISTRY.rules
    assert list(rules.RULES) == [f"TLS-{n:03d}" for n in range(1, 19)]


@pytest.mark.parametrize("code", sorted(rules.RULES))
def test_every_rule_has_a_title_a_remedy_and_a_seed_made_of_seed_sentences(code):
    rule = rules.RULES[code]
    assert rule.title and len(rule.title) <= 60 and rule.title[0].isupper() and not rule.title.endswith(".")
    assert rule.message and rule.remedy and rule.severity in ("info", "warning", "error")
    assert rules.NOT_VENDOR == seed_text.NOT_VENDOR
    seed_text.assert_made_of_sentences(code, rule.seed, seed_sentences().values())


def test_titles_are_unique():
    titles = [rule.title for rule in rules.RULES.values()]
    assert len(set(titles)) == len(titles)


@seed_text.needs_articles("00[01]_*.txt", 2)
@pytest.mark.parametrize("name", sorted(seed_sentences()))
def test_seed_sentences_are_verbatim_from_seeds_000_and_001(name):
    assert seed_sentences()[name] in " ".join(seed_text.articles("00[01]_*.txt"))


def test_findings_are_made_only_through_the_registry():
    """No ``Finding(...)`` in the TLS code: every finding's text comes from its Rule."""
    made = {path.name: len(_calls(ast.parse(path.read_text(encoding="utf-8")), "Finding")) for path in TLS_CODE}
    assert len(made) == 8 and {name for name, count in made.items() if count} == set()


def test_every_code_the_tls_code_names_is_registered_and_every_rule_is_emitted():
    named = set()
    for path in TLS_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        definitions = {id(call.args[0]) for call in _calls(tree, "Rule") if call.args}
        named |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and isinstance(node.value, str) and re.fullmatch(r"TLS-\d{3}", node.value)
                  and id(node) not in definitions}
    assert sorted(named - set(rules.RULES)) == []  # a code nobody registered
    assert sorted(set(rules.RULES) - named) == []  # a rule no check makes


def test_findings_of_real_inputs_carry_their_rules_text_and_only_facts_as_data(pki, pki3):
    """Real certificates through the analysis: each finding's message and remedy are its rule's
    templates filled from its data (plus the wording cases), and no wording field is left in data."""
    inter, root = pki3["inter"], pki3["root"]
    now = datetime.datetime.now(datetime.timezone.utc)
    weak = pki.leaf(inter, dns=("other.example.test",), key=make_key("rsa", 1024))
    soon = pki.leaf(inter, dns=(HOST,), days=5)
    found = analyze([weak.cert, root.cert, inter.cert, inter.cert], "tableau", [root.cert])["findings"]
    found += analyze([soon.cert], "tableau", [pki3["other"].cert])["findings"]
    found += analyze([pki.self_signed_leaf(cn=HOST, dns=(HOST,)).cert], HOST, [], now=now)["findings"]
    assert {"TLS-001", "TLS-002", "TLS-003", "TLS-008", "TLS-009", "TLS-010", "TLS-012"} <= {f.code for f in found}
    for f in found:
        rule = rules.RULES[f.code]
        assert f.severity == rule.severity and not rules.WORDING_FIELDS & set(f.data), f
        fields = {name for _text, name, _spec, _conv in string.Formatter().parse(rule.message + rule.remedy) if name}
        facts = {name: f.data[name] for name in fields if name in f.data}
        if fields <= set(facts):  # no wording case: the whole text is the template
            assert f.message == rule.message.format(**facts) and f.remedy == rule.remedy.format(**facts)
        else:
            prefix = rule.message.split("{")[0]
            assert f.message.startswith(prefix), (f.message, prefix)
