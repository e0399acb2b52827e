# -*- coding: utf-8 -*-
"""The docs site's own parts: the generated finding catalogue, the warning gate, the built-guide checks,
the troubleshooting page and the `docs` stage of scripts/test."""

from __future__ import annotations

import importlib.util
import os
import re
import string
import zlib

import pytest
from markdown_it import MarkdownIt  # CommonMark, the parser MyST builds on (installed with rich)

from ansible_collections.trustops.tableau.plugins.callback import readiness
from ansible_collections.trustops.tableau.plugins.module_utils import catalogue
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Registry, Rule

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_SPEC = importlib.util.spec_from_file_location("docsite", os.path.join(ROOT, "scripts", "lib", "docsite.py"))
docsite = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docsite)


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


# ------------------------------------------------------------------------------- the catalogue
def test_checked_in_catalogue_is_what_the_rules_say():
    generated = docsite.generated_catalogue()
    assert _read("docs", "catalogue.md") == generated, "docs/catalogue.md is stale: run scripts/docs catalogue"


def test_catalogue_has_one_heading_per_code_whose_anchor_is_the_code():
    text = _read("docs", "catalogue.md")
    codes = [rule.code for rule in catalogue.rules()] + list(catalogue.retired())
    headings = re.findall(r"^### (.+)$", text, re.M)
    assert headings == codes
    for code in codes:
        assert docsite.heading_anchor(code) == catalogue.anchor(code) == code.lower()
    # the area index links every area heading
    for registry in catalogue.registries():
        assert f"](#{docsite.heading_anchor(docsite.area_heading(registry))})" in text


def _tokens_text(source):
    """The plain text CommonMark makes of one paragraph, and whether it made any markup."""
    tokens = MarkdownIt("commonmark").parseInline(source)[0].children
    kinds = {token.type for token in tokens} - {"text", "softbreak"}
    return "".join(token.content for token in tokens), kinds


def test_rendered_entry_reads_as_the_rule_says():
    rule = Rule("XY-001", "warning", "{source}: holds <b>{count}</b> *certs* in [x](y) | `z` {{literal}} {actual!r}",
                "Use a_b_c or \\\\share\\path; see <https://x.test>", tsm_key="wgserver.x.y",
                seed="Use https://<tableauserver>/wg/saml/SSO/index.html.", title="A *bold* | title")
    lines = docsite.rule_markdown(rule)
    assert lines[0] == "### XY-001"
    meaning = next(line for line in lines if line.startswith("**Meaning:** "))
    text, markup = _tokens_text(meaning[len("**Meaning:** "):])
    assert markup == set()
    assert text == "‹source›: holds <b>‹count›</b> *certs* in [x](y) | `z` {literal} ‹actual›"
    remedy = next(line for line in lines if line.startswith("**Remedy:** "))
    assert _tokens_text(remedy[len("**Remedy:** "):]) == ("Use a_b_c or \\\\share\\path; see <https://x.test>", set())
    quote = next(line for line in lines if line.startswith("> "))
    assert _tokens_text(quote[2:]) == ("Use https://<tableauserver>/wg/saml/SSO/index.html.", set())
    head = lines[2]
    assert "`wgserver.x.y`" in head and "severity **warning**" in head
    assert _tokens_text(head)[0].startswith("A *bold* | title")


def test_not_a_vendor_rule_is_said_not_quoted():
    rule = Rule("XY-002", "info", "m", "r", seed="Not a vendor rule: guards our own tooling.", title="t")
    lines = docsite.rule_markdown(rule)
    assert "*Not a vendor rule:* guards our own tooling." in lines
    assert not any(line.startswith(">") for line in lines)


def test_page_tables_and_retired_codes():
    registry = Registry("XY", "Topic", "seed 009")
    registry.register(Rule("XY-001", "error", "m {a}", "fix it", title="One | pipe"))
    page = docsite.catalogue_markdown([registry], {"XY-000": ("XY-001",)})
    assert "| [XY-001](#xy-001) | error | One \\| pipe |" in page
    assert "| [XY-NNN](#xy-codes) | Topic | seed 009 | 1 |" in page
    assert "### XY-000\n\nRetired: now reported as [XY-001](#xy-001).\n" in page
    assert page.endswith("\n") and not page.endswith("\n\n")


def test_placeholders_only():
    assert docsite.placeholders_only("{how_to}") and docsite.placeholders_only("({advice}).")
    assert not docsite.placeholders_only("Renew it: {how_to}")


def test_readiness_links_every_catalogue_family():
    assert readiness.CATALOGUE_FAMILIES == tuple(registry.prefix for registry in catalogue.registries())
    assert readiness.CATALOGUE_PAGE == docsite.CATALOGUE_PAGE
    for rule in catalogue.rules():
        assert readiness.catalogue_link("docs", rule.code) == f"docs/catalogue.md#{rule.code.lower()}"


# --------------------------------------------------------------------------------- the warnings
RST = "/site/rst"


def test_warning_gate_allows_only_the_listed_labels_in_the_reference():
    ok = [f"{RST}/collections/trustops/tableau/tls_probe_module.rst:685: WARNING: undefined label: "
          "'common_return_values' [ref.ref]",
          f"{RST}/collections/environment_variables.rst:11: WARNING: undefined label: "
          "'ansible_configuration_settings' [ref.ref]"]
    bad = [
        # an allowed label, but in the user guide: a broken link of ours
        f"{RST}/guide/tsm.md:3: WARNING: undefined label: 'common_return_values' [ref.ref]",
        # another label of docs.ansible.com nobody decided to allow
        f"{RST}/collections/trustops/tableau/x_module.rst:9: WARNING: undefined label: "
        "'ansible_collections.community.general.foo_module' [ref.ref]",
        f"{RST}/guide/catalogue.md:12: WARNING: local id not found in document 'guide/tls_probe': 'tls-099' [myst.xref_missing]",
        f"{RST}/collections/index.rst:1: ERROR: Unknown directive type",
        "    a continuation line of a multi-line warning",
    ]
    failing, seen = docsite.classify_warnings(RST, ok + [""] + bad)
    assert failing == bad
    assert seen == {"common_return_values": 1, "ansible_configuration_settings": 1}


def test_warning_gate_exit_status(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text(f"{RST}/collections/a.rst:1: WARNING: undefined label: 'callback_plugins' [ref.ref]\n", encoding="utf-8")
    assert docsite.main(["warnings", RST, str(good)]) == 0
    assert "no other warning" in capsys.readouterr().out
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{RST}/guide/index.md:1: WARNING: toctree contains reference to nonexisting document\n",
                   encoding="utf-8")
    assert docsite.main(["warnings", RST, str(bad)]) == 1
    assert "nonexisting document" in capsys.readouterr().err


# ------------------------------------------------------------------------------ the built guide
def _site(tmp_path, catalogue_ids, troubleshooting_links, index_links=("catalogue.html", "troubleshooting.html")):
    guide = tmp_path / "guide"
    guide.mkdir(parents=True)
    (guide / "catalogue.html").write_text(
        "<html><body>" + "".join(f'<section id="{i}"><h3>{i}</h3></section>' for i in catalogue_ids) + "</body></html>",
        encoding="utf-8")
    (guide / "troubleshooting.html").write_text(
        "<html><body>" + "".join(f'<a href="{h}">x</a>' for h in troubleshooting_links)
        + '<a href="https://example.org/#x">out</a><a href="../index.html">up</a></body></html>', encoding="utf-8")
    (guide / "index.html").write_text("".join(f'<a href="{h}">x</a>' for h in index_links), encoding="utf-8")
    return str(tmp_path)


def test_verify_finds_missing_anchors_and_broken_guide_links(tmp_path):
    good = _site(tmp_path / "a", ["xy-001", "xy-002"], ["catalogue.html#xy-001", "#xy-none"])
    # a fragment of the page itself is checked too
    assert docsite.verify(good, codes=["XY-001", "XY-002"]) == [
        "guide/troubleshooting.html: link to #xy-none: no anchor #xy-none in guide/troubleshooting.html"]
    bad = _site(tmp_path / "b", ["xy-001"], ["catalogue.html#xy-009", "nothere.html#a"], index_links=("catalogue.html",))
    assert docsite.verify(bad, codes=["XY-001", "XY-002"]) == [
        "guide/catalogue.html: no anchor #xy-002 for XY-002",
        "guide/troubleshooting.html: link to catalogue.html#xy-009: no anchor #xy-009 in guide/catalogue.html",
        "guide/troubleshooting.html: link to nothere.html#a: no such guide page",
        "guide/index.html does not link troubleshooting.html",
    ]
    clean = _site(tmp_path / "c", ["xy-001"], ["catalogue.html#xy-001"])
    assert docsite.verify(clean, codes=["XY-001"]) == []


# ----------------------------------------------------------------------------- troubleshooting
#: The messages seeds 000 and 001 quote (verbatim, the seed's own apostrophe).
VENDOR_MESSAGES = {
    "M1": "The URL you provided specifies an encrypted (https) connection, but the certificate provided by the "
          "server is untrusted. Tableau Mobile can connect to this server only over a non-secure (http) "
          "connection, or you can sign in through the web browser. How would you like to connect?",
    "M2": "Tableau Mobile cannot connect to this server. The URL you have provided specifies an encrypted (https) "
          "connection, but the server\u2019s certificate is untrusted. You can sign in through the web browser "
          "instead. How would you like to proceed?",
    "D1": "Internet communication error: The certificate authority is invalid or incorrect",
    "D2": "Invalid certificate error",
}


def _table(text, header):
    lines = text[text.index(header):].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def test_troubleshooting_maps_every_vendor_message_to_codes_and_a_fix():
    text = _read("docs", "troubleshooting.md")
    messages = {row[0]: row[1] for row in _table(text, "| | Message (verbatim) |")}
    # verbatim but for typographic quotes, which the repository keeps as ASCII (no-smart-quotes sanity)
    assert messages == {label: f'"{message}"'.translate(docsite.ASCII_QUOTES) for label, message in VENDOR_MESSAGES.items()}
    causes = _table(text, "| Message | Cause | Found by | Fix |")
    covered = set()
    registered = {rule.code for rule in catalogue.rules()}
    for labels, cause, found_by, fix in causes:
        named = {label.strip() for label in re.sub(r"\(.*?\)", "", labels).split(",")}
        covered |= named
        codes = re.findall(r"\[([A-Z]+-[0-9]{3})\]\(catalogue\.md#([a-z]+-[0-9]{3})\)", found_by)
        assert codes and cause and fix, (labels, cause)
        for code, anchor in codes:
            assert code in registered and anchor == code.lower(), code
    assert set(VENDOR_MESSAGES) <= covered
    # every catalogue link on the page names a registered code by its own anchor
    for code, anchor in re.findall(r"\[([A-Z]+-[0-9]{3})\]\(catalogue\.md#([^)]+)\)", text):
        assert code in registered and anchor == code.lower(), code


def test_index_links_the_catalogue_and_troubleshooting():
    index = _read("docs", "index.md")
    assert "[catalogue.md](catalogue.md)" in index and "[troubleshooting.md](troubleshooting.md)" in index


# ------------------------------------------------------------------------------ scripts/test docs
def test_docs_stage_runs_before_molecule_and_the_readme_lists_every_stage():
    script = _read("scripts", "test")
    stages = re.search(r"^ALL_STAGES=\(([^)]*)\)", script, re.M).group(1).split()
    assert "docs" in stages and stages.index("docs") < stages.index("molecule")
    assert re.search(r"^stage_docs\(\)", script, re.M)
    readme = _read("README.md")
    testing = readme[readme.index("## Testing"):]
    listed = re.findall(r"^\| `([a-z]+)` \|", testing, re.M)
    assert listed == stages


@pytest.mark.parametrize("template, expected", [
    ("{source}: the key is {key_type}{ec_size}", "‹source›: the key is ‹key type›‹ec size›"),
    ("expires in {days:d} days", "expires in ‹days› days"),
    ("a {{b}} c", "a {b} c"),
])
def test_readable(template, expected):
    assert docsite.readable(template) == expected
    assert list(string.Formatter().parse(template))  # the template is one str.format accepts


# ------------------------------------------------------------------------ Sphinx labels for R()
def test_labels_mark_pages_areas_and_codes_without_moving_the_anchors():
    page = docsite.catalogue_markdown(catalogue.registries(), catalogue.retired())
    labelled = docsite.add_labels("catalogue", page)
    label = docsite.LABEL
    assert labelled.startswith(f"({label}.catalogue)=\n\n# Finding catalogue\n")
    first = catalogue.rules()[0]
    # the target follows the heading (it marks the entry's first paragraph): the heading keeps its own id
    assert f"\n### {first.code}\n\n({label}.catalogue.{first.code.lower()})=\n**" in labelled
    assert f"\n## SAML codes\n\n({label}.catalogue.saml)=\nTopic: " in labelled
    assert labelled.count(f"({label}.catalogue.") == len(catalogue.rules()) + len(catalogue.retired()) + len(catalogue.registries())
    assert docsite.add_labels("tls_probe", "# TLS probe\n") == f"({label}.tls_probe)=\n\n# TLS probe\n"


def test_inventory_labels_and_the_entry_check(tmp_path):
    entries = (f"{docsite.LABEL}.catalogue.xy-001 std:label -1 guide/catalogue.html#label-xy-001 XY\n"
               f"{docsite.LABEL}.catalogue.xy-002 std:label -1 guide/catalogue.html#label-xy-002 XY\n"
               "some.py.object py:function 1 api.html#$ -\n")
    header = b"# Sphinx inventory version 2\n# Project: p\n# Version: \n# The remainder of this file is compressed using zlib.\n"
    site = _site(tmp_path, ["xy-001", "xy-002"], ["catalogue.html#xy-001"])
    (tmp_path / "objects.inv").write_bytes(header + zlib.compress(entries.encode()))
    assert docsite.inventory_labels(site)[f"{docsite.LABEL}.catalogue.xy-001"] == "guide/catalogue.html#label-xy-001"
    # the label ids must sit inside the code's own section
    catalogue_html = tmp_path / "guide" / "catalogue.html"
    catalogue_html.write_text('<section id="xy-001"><h3>XY-001</h3><p id="label-xy-001">t</p></section>'
                              '<section id="xy-002"><h3>XY-002</h3></section><p id="label-xy-002">t</p>', encoding="utf-8")
    assert docsite.verify(site, codes=["XY-001", "XY-002"]) == [
        f"objects.inv: label {docsite.LABEL}.catalogue.xy-002 (guide/catalogue.html#label-xy-002) is not in the entry of XY-002"]


def test_catalogue_page_has_only_ascii_quotes():
    # ansible-test's no-smart-quotes sanity test refuses typographic quotes; the rules keep the
    # vendor's sentences verbatim, the page shows their quotes as ASCII
    raw = docsite.catalogue_markdown(catalogue.registries(), catalogue.retired())
    assert any(q in raw for q in "\u2018\u2019\u201c\u201d"), "no vendor sentence with typographic quotes left"
    assert not any(q in _read("docs", "catalogue.md") for q in "\u2018\u2019\u201c\u201d")
