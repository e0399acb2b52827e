# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the tlsprobe tests: every TLS finding is made by its registered Rule (autouse),
certificate files in tmp_path, and a root -> intermediate -> leaf PKI for tableau.example.test.
"""

from __future__ import annotations

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, Rule
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import rules

from .servers import HOST, Files


@pytest.fixture(autouse=True)
def findings_made_by_rules(monkeypatch):
    """Every TLS finding a test meets (real servers, real certificates) is made by a registered Rule:
    a ``Finding("TLS-...")`` made any other way, or an unregistered code, fails the test."""
    made = []
    inside = []
    finding_init, rule_finding = Finding.__init__, Rule.finding

    def init(self, code, *args, **kwargs):
        finding_init(self, code, *args, **kwargs)
        made.append((code, bool(inside)))

    def through_rule(self, *args, **kwargs):
        inside.append(self.code)
        try:
            return rule_finding(self, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(Finding, "__init__", init)
    monkeypatch.setattr(Rule, "finding", through_rule)
    yield made
    tls = [(code, by_rule) for code, by_rule in made if code.startswith("TLS-")]
    assert [code for code, by_rule in tls if not by_rule] == [], "TLS findings made without their Rule"
    assert sorted({code for code, _by_rule in tls} - set(rules.RULES)) == []


@pytest.fixture
def files(tmp_path):
    return Files(tmp_path)


@pytest.fixture(scope="module")
def pki3(pki):
    """root -> intermediate -> leaf for tableau.example.test, plus an unrelated CA."""
    root = pki.root(cn="Probe Root CA")
    inter = pki.intermediate(root, cn="Probe Intermediate CA")
    leaf = pki.leaf(inter, cn=HOST, dns=(HOST,))
    other = pki.root(cn="Unrelated Root CA")
    return {"root": root, "inter": inter, "leaf": leaf, "other": other}
