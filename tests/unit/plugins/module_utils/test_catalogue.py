# -*- coding: utf-8 -*-
"""The finding catalogue's source: every area's registry, every code registered, emitted and documented."""

from __future__ import annotations

import ast
import os
import re
import string

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import catalogue, findings

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PLUGINS = os.path.join(ROOT, "plugins")
CODE = re.compile(r"\b([A-Z]+)-([0-9]{3})\b")
#: ``[A-Z]+-[0-9]{3}`` that are not finding codes: digest and curve names (SHA-256, P-256).
NOT_CODES = {"SHA", "P"}
ORDER = ["SAML", "TSM", "TLS", "MOBILE", "ANCHOR", "SSL"]


def _plugin_files():
    for base, dirs, files in os.walk(PLUGINS):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield os.path.join(base, name)


def _literals():
    """{code: [where, ...]} of every code-shaped literal anywhere in plugins/ (code, docs, strings)."""
    found = {}
    for path in _plugin_files():
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                for match in CODE.finditer(line):
                    if match.group(1) not in NOT_CODES:
                        found.setdefault(match.group(0), []).append(f"{os.path.relpath(path, ROOT)}:{number}")
    return found


def _is_rule_definition(call):
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    return name == "Rule"


def _emitted():
    """The codes used as a whole string constant in plugins/ Python code anywhere but as the code of a
    ``Rule(...)`` definition: the calls that make findings (``finding("SAML-016", ...)``) and the code
    tables they read."""
    used = set()
    for path in _plugin_files():
        if not path.endswith(".py"):
            continue
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
        definitions = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_rule_definition(node):
                if node.args:
                    definitions.add(id(node.args[0]))
                definitions.update(id(k.value) for k in node.keywords if k.arg == "code")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value)
                    and id(node) not in definitions):
                used.add(node.value)
    return used


def test_registries_in_catalogue_order():
    registries = catalogue.registries()
    assert [registry.prefix for registry in registries] == ORDER
    for registry in registries:
        assert isinstance(registry, findings.Registry) and len(registry) > 0, registry.prefix
        assert registry.topic and registry.seeds, registry.prefix
        assert all(code.startswith(registry.prefix + "-") for code in registry.rules)
    # saml.response registers the SAML-1NN rules into the SAML registry
    saml = registries[0].rules
    assert any(int(code[5:]) < 100 for code in saml) and any(int(code[5:]) >= 100 for code in saml)
    assert [rule.code for rule in catalogue.rules()] == [code for registry in registries for code in registry.rules]


def test_rule_lookup_and_anchor():
    first = catalogue.rules()[0]
    assert catalogue.rule(first.code) is first
    with pytest.raises(KeyError):
        catalogue.rule("NOPE-001")
    assert catalogue.anchor("SAML-016") == "saml-016"


def test_a_registry_of_the_wrong_area_is_refused(monkeypatch):
    areas = list(catalogue.AREAS)
    areas[0], areas[1] = (areas[0][0], areas[1][1]), (areas[1][0], areas[0][1])
    monkeypatch.setattr(catalogue, "AREAS", tuple(areas))
    with pytest.raises(ValueError, match="holds TSM rules, not SAML"):
        catalogue.registries()


def test_every_code_in_plugins_is_registered():
    registered = {rule.code for rule in catalogue.rules()}
    retired = catalogue.retired()
    literals = _literals()
    assert literals, "no code found in plugins/: the scan is broken"
    missing = {code: where[:3] for code, where in literals.items() if code not in registered and code not in retired}
    assert not missing, f"codes named in plugins/ but registered by no area (nor in its RETIRED table): {missing}"


def test_retired_codes_point_at_registered_rules():
    registered = {rule.code for rule in catalogue.rules()}
    retired = catalogue.retired()
    for old, new in retired.items():
        assert CODE.fullmatch(old) and old not in registered, old
        assert new and set(new) <= registered, (old, new)


def test_every_registered_code_is_emitted():
    emitted = _emitted()
    never = [rule.code for rule in catalogue.rules() if rule.code not in emitted]
    assert not never, f"registered codes no check emits: {never}"


def test_emitted_scan_sees_through_rule_definitions(tmp_path):
    """The scan that proves emission ignores a code that is only defined (its own control)."""
    tree = ast.parse('Rule("XY-001", "error", "m", "r")\nREGISTRY.finding("XY-002")\n')
    definitions = {id(n.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_rule_definition(n)}
    used = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in definitions
            and CODE.fullmatch(str(n.value))}
    assert used == {"XY-002"}


@pytest.mark.parametrize("rule", catalogue.rules(), ids=lambda rule: rule.code)
def test_rule_is_documented(rule):
    assert rule.title.strip(), "no title"
    assert rule.seed.strip(), "no seed sentence"
    assert rule.remedy.strip(), "no remedy"
    # a remedy must say something itself: the catalogue shows the template, not a run's values
    literal = "".join(part[0] for part in string.Formatter().parse(rule.remedy))
    assert literal.strip(" .;:,()"), f"the remedy is only placeholders: {rule.remedy!r}"
    assert rule.severity in findings.SEVERITIES
    if rule.tsm_key:
        assert re.fullmatch(r"[a-z][A-Za-z0-9_.]+", rule.tsm_key), rule.tsm_key
