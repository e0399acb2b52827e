# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user guide, the finding catalogue and the warning gate of the docs site (scripts/docs).

    python scripts/lib/docsite.py guide REPO_ROOT SITE_RST_DIR
        Put the user guide (docs/*.md, copied to rst/guide/ by scripts/docs) into the site: the
        finding catalogue generated from the rules (rst/guide/catalogue.md), rst/guide/index.md's
        toctree (every guide page), the guide in the site's root toctree, and a Sphinx label per
        page, catalogue area and code for R() in plugin docs (LABEL). Links in the guide
        that leave docs/ (../plugins/..., ../roles/...) become plain text: the site holds only
        docs/. Fails when the checked-in docs/catalogue.md differs from the generated page.
    python scripts/lib/docsite.py catalogue REPO_ROOT [--check]
        Write docs/catalogue.md from the rules (or, with --check, only say whether it is current).
    python scripts/lib/docsite.py warnings SITE_RST_DIR WARNINGS_FILE
        The Sphinx warning gate: every line of WARNINGS_FILE must be one of ALLOWED_LABELS in the
        generated reference (rst/collections/); anything else is printed and fails.
    python scripts/lib/docsite.py verify HTML_DIR
        After the build: every finding code has its anchor in guide/catalogue.html, and every
        link between guide pages that names an anchor finds it.

The catalogue's rules come from ``plugins/module_utils/catalogue.py``; the ``guide`` and
``catalogue`` commands need ``ansible_collections.trustops.tableau`` on ``sys.path``
(PYTHONPATH=.build/collections, as scripts/docs sets it).
"""

from __future__ import annotations

import html.parser
import os
import re
import string
import sys
import zlib

LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)\s]+)\)")

#: The only Sphinx warnings the site may have: references to labels of docs.ansible.com (intersphinx
#: is off: no network here or in CI) that antsibull-docs writes into the generated reference
#: (rst/collections/). Exact labels, each with where it comes from; a new one is a decision.
ALLOWED_LABELS = {
    "common_return_values": "the 'Common return values' link under every module's RETURN",
    "ansible_configuration_settings": "environment_variables.rst (the env index antsibull-docs writes)",
    "callback_plugins": "readiness_callback.rst (the callback plugin type)",
    "action_plugins": "win_trust_anchor_module.rst (an action plugin)",
    "ansible_collections.ansible.builtin.file_module": "input_file lookup docs (M(ansible.builtin.file))",
    "ansible_collections.ansible.builtin.copy_module": "win_trust_anchor docs (M(ansible.builtin.copy))",
    "ansible_collections.ansible.windows.win_certificate_store_module": "win_trust_anchor/trust_anchor docs",
    "ansible_collections.ansible.windows.win_certificate_info_module": "win_trust_anchor docs (SEE ALSO)",
}

CATALOGUE_PAGE = "catalogue.md"
CATALOGUE_COMMAND = "scripts/docs catalogue"


# ------------------------------------------------------------------------------- the catalogue
_ESCAPE = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown (CommonMark/MyST) inline text on one line."""
    return " ".join(_ESCAPE.sub(r"\\\1", str(text)).split())


def readable(template: str) -> str:
    """A ``str.format`` template as Markdown: the text escaped, each field as ‹its name›
    (``{key_type}`` -> ``‹key type›``, ``{actual!r}`` -> ``‹actual›``)."""
    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        parts.append(_ESCAPE.sub(r"\\\1", literal))
        if field is not None:
            name = field.replace("_", " ").strip() or "value"
            parts.append(f"‹{name}›")
    return " ".join("".join(parts).split())


def placeholders_only(template: str) -> bool:
    """True when a template says nothing but its fields (``"{how_to}"``)."""
    return not "".join(literal for literal, *_rest in string.Formatter().parse(template)).strip(" .;:,()")


NOT_VENDOR = "Not a vendor rule:"


def rule_markdown(rule) -> list[str]:
    """The catalogue entry of one rule (a heading that is the code, so its anchor is the code)."""
    lines = [f"### {rule.code}", ""]
    head = f"**{md_escape(rule.title)}**" if rule.title else "**(no title)**"
    head += f" · severity **{rule.severity}**"
    if rule.tsm_key:
        head += f" · relaxed by the TSM key `{rule.tsm_key}`"
    lines += [head, ""]
    seed = " ".join((rule.seed or "").split())
    if seed.startswith(NOT_VENDOR):
        lines += [f"*{NOT_VENDOR}* {md_escape(seed[len(NOT_VENDOR):])}", ""]
    elif seed:
        lines += [f"> {md_escape(seed)}", ""]
    else:
        lines += ["(no seed sentence)", ""]
    lines += [f"**Meaning:** {readable(rule.message)}", ""]
    remedy = readable(rule.remedy) if rule.remedy else "(none)"
    lines += [f"**Remedy:** {remedy}", ""]
    return lines


def area_heading(registry) -> str:
    return f"{registry.prefix} codes"


def heading_anchor(text: str) -> str:
    """The anchor of a heading as MyST (myst_heading_anchors) and GitHub make it."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return slug.replace(" ", "-")


RETIRED_HEADING = "Retired codes"


def catalogue_markdown(registries, retired=None) -> str:
    """The finding catalogue page (Markdown) of ``registries`` (catalogue.registries()) and the
    ``retired`` codes ({old code: (codes that report the rule now, ...)}, catalogue.retired())."""
    registries = list(registries)
    retired = dict(retired or {})
    total = sum(len(registry) for registry in registries)
    lines = [
        "# Finding catalogue",
        "",
        "<!-- Generated from the rules by scripts/docs (plugins/module_utils/catalogue.py); do not edit.",
        f"     Regenerate with: {CATALOGUE_COMMAND} -->",
        "",
        f"Every finding code of the collection ({total} codes), generated from the rules themselves: each area "
        "keeps its rules in one registry next to its checks, and a test fails when this page differs from "
        "them. For each code: its title, its default severity, the vendor sentence it enforces (the *seed*), "
        "what it means (the finding's message; the parts that vary are in ‹angle quotes›), the remedy, and "
        "the TSM configuration key that relaxes the rule where Tableau has one. The anchor of a code is the "
        "code in lower case (`#saml-016`); the readiness report links each finding here.",
        "",
        "Options can change a finding's effect but not its meaning: `fail_on` decides which severities fail "
        "a task, and the policy options (`min_rsa_key_size`, `blocklisted_digests`, ...) move the thresholds "
        "as the TSM keys named here do on Tableau Server.",
        "",
        "The error messages Tableau Desktop and Tableau Mobile show, and the codes that find their cause: "
        "[Troubleshooting: the certificate errors Tableau shows](troubleshooting.md).",
        "",
        "| Codes | Topic | Vendor articles | Rules |",
        "| --- | --- | --- | --- |",
    ]
    for registry in registries:
        heading = area_heading(registry)
        lines.append(f"| [{registry.prefix}-NNN](#{heading_anchor(heading)}) | {md_escape(registry.topic)} | "
                     f"{md_escape(registry.seeds)} | {len(registry)} |")
    if retired:
        lines.append(f"| [Retired](#{heading_anchor(RETIRED_HEADING)}) | codes of earlier releases | | {len(retired)} |")
    lines.append("")
    for registry in registries:
        lines += [f"## {area_heading(registry)}", ""]
        lines += [f"Topic: {md_escape(registry.topic)}. From: {md_escape(registry.seeds)}.", ""]
        lines += ["| Code | Severity | Title |", "| --- | --- | --- |"]
        for rule in registry:
            lines.append(f"| [{rule.code}](#{rule.code.lower()}) | {rule.severity} | {md_escape(rule.title)} |")
        lines.append("")
        for rule in registry:
            lines += rule_markdown(rule)
    if retired:
        lines += [f"## {RETIRED_HEADING}", "",
                  "Codes of earlier releases. No check reports them any more; the rule is reported under the "
                  "code(s) named (the retired TSM codes are also named in the new finding's `data.alias` for "
                  "one release).", ""]
        for old, new in retired.items():
            now = ", ".join(f"[{code}](#{code.lower()})" for code in new)
            lines += [f"### {old}", "", f"Retired: now reported as {now}.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


#: ansible-test's no-smart-quotes sanity test refuses typographic quotes in the repository; the
#: vendor sentences quoted by the rules keep theirs, the page shows them as ASCII quotes.
ASCII_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def generated_catalogue() -> str:
    from ansible_collections.trustops.tableau.plugins.module_utils import catalogue
    return catalogue_markdown(catalogue.registries(), catalogue.retired()).translate(ASCII_QUOTES)


def write_catalogue(repo: str, check: bool = False) -> int:
    """docs/catalogue.md from the rules; with ``check``, 1 (and a message) when it is not current."""
    path = os.path.join(repo, "docs", CATALOGUE_PAGE)
    text = generated_catalogue()
    current = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
    if current == text:
        return 0
    if check:
        print(f"docs/{CATALOGUE_PAGE} is not what the rules say; run {CATALOGUE_COMMAND}", file=sys.stderr)
        return 1
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote docs/{CATALOGUE_PAGE}")
    return 0


# ----------------------------------------------------------------------------------- the guide
#: Sphinx labels of the guide in the site, for R() in plugin docs: every page is
#: ``<LABEL>.<page>`` (``...docsite.tls_probe``); in the catalogue every area ``<LABEL>.catalogue.<prefix>``
#: (``...docsite.catalogue.tls``) and every code ``<LABEL>.catalogue.<code>`` (``...docsite.catalogue.tls-001``).
LABEL = "ansible_collections.trustops.tableau.docsite"
_AREA_HEADING = re.compile(r"^## ([A-Z]+) codes\n\n", re.M)
_CODE_HEADING = re.compile(r"^### ([A-Z]+-[0-9]{3})\n\n", re.M)


def add_labels(name: str, text: str) -> str:
    """``text`` of guide page ``name`` with its Sphinx labels (MyST targets). In the catalogue an area's
    or a code's label marks the first paragraph under its heading, so the heading keeps its anchor
    (``#saml-016``, the one the readiness report and the pages link) as the section's own id."""
    if name == "catalogue":
        text = _AREA_HEADING.sub(lambda m: f"{m.group(0)}({LABEL}.catalogue.{m.group(1).lower()})=\n", text)
        text = _CODE_HEADING.sub(lambda m: f"{m.group(0)}({LABEL}.catalogue.{m.group(1).lower()})=\n", text)
    return f"({LABEL}.{name})=\n\n{text}"


def guide(repo: str, rst: str) -> int:
    guide_dir = os.path.join(rst, "guide")
    catalogue_text = generated_catalogue()
    checked_in = os.path.join(repo, "docs", CATALOGUE_PAGE)
    stale = not os.path.exists(checked_in)
    if not stale:
        with open(checked_in, encoding="utf-8") as handle:
            stale = handle.read() != catalogue_text
    # the site always gets the page the rules make
    with open(os.path.join(guide_dir, CATALOGUE_PAGE), "w", encoding="utf-8") as handle:
        handle.write(catalogue_text)
    pages = sorted(name[:-3] for name in os.listdir(guide_dir) if name.endswith(".md"))
    pages.remove("index")
    for name in pages + ["index"]:
        path = os.path.join(guide_dir, name + ".md")
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        # a link out of docs/ names a file of the repository: keep the words, show the path
        text = LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)[3:]}`)", text)
        text = add_labels(name, text)
        if name == "index":
            text = text + "\n\n```{toctree}\n:hidden:\n:maxdepth: 1\n\n" + "\n".join(pages) + "\n```\n"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    root = os.path.join(rst, "index.rst")
    with open(root, encoding="utf-8") as handle:
        text = handle.read()
    text = text.replace("Welcome to my Ansible collection documentation\n==============================================",
                        "trustops.tableau\n================")
    marker = ".. toctree::\n   :maxdepth: 2\n   :caption: Collections:"
    guide_tree = (".. toctree::\n   :maxdepth: 1\n   :caption: User guide:\n\n   guide/index\n   guide/catalogue\n"
                  "   guide/troubleshooting\n\n")
    if "guide/index" not in text:
        text = text.replace(marker, guide_tree + marker)
    with open(root, "w", encoding="utf-8") as handle:
        handle.write(text)
    if stale:
        print(f"docs/{CATALOGUE_PAGE} is not what the rules say (the site has the generated page); "
              f"run {CATALOGUE_COMMAND} and commit it", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------------- the warnings
def classify_warnings(rst: str, lines) -> tuple[list[str], dict[str, int]]:
    """(the lines that fail the build, {allowed label: count}) of Sphinx's warning file lines."""
    collections = re.escape(os.path.join(os.path.abspath(rst), "collections") + os.sep)
    allowed = re.compile(r"^" + collections + r"[^:]+\.rst:[0-9]+: WARNING: undefined label: '([^']+)' \[ref\.ref\]$")
    bad: list[str] = []
    seen: dict[str, int] = {}
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        match = allowed.match(line)
        if match and match.group(1) in ALLOWED_LABELS:
            seen[match.group(1)] = seen.get(match.group(1), 0) + 1
        else:
            bad.append(line)
    return bad, seen


def warnings(rst: str, path: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as handle:
        bad, seen = classify_warnings(rst, handle)
    for line in bad:
        print(line, file=sys.stderr)
    unused = sorted(set(ALLOWED_LABELS) - set(seen))
    if unused:
        print("docs: allowed labels no longer referenced (remove them from ALLOWED_LABELS in "
              "scripts/lib/docsite.py): " + ", ".join(unused), file=sys.stderr)
    if bad:
        print(f"docs: {len(bad)} warning line(s) not allowed (above; {path})", file=sys.stderr)
        return 1
    print(f"{sum(seen.values())} reference(s) to {len(seen)} docs.ansible.com label(s) left unresolved "
          "(intersphinx is off); no other warning")
    return 0


# ----------------------------------------------------------------------------------- the html
class _Anchors(html.parser.HTMLParser):
    """The ids of a page (each with the id of the innermost <section> holding it) and its links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.section_of = {}
        self.links = []
        self._sections = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._sections.append(attrs.get("id"))
        if attrs.get("id"):
            self.ids.add(attrs["id"])
            self.section_of[attrs["id"]] = self._sections[-1] if self._sections else None
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "section" and self._sections:
            self._sections.pop()


def _parse(path: str) -> _Anchors:
    parser = _Anchors()
    with open(path, encoding="utf-8") as handle:
        parser.feed(handle.read())
    return parser


def inventory_labels(html_dir: str) -> dict[str, str] | None:
    """{Sphinx label: its page#anchor} of the site's objects.inv (what R() resolves to), or None
    when there is no inventory."""
    path = os.path.join(html_dir, "objects.inv")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        data = handle.read()
    body = data.split(b"\n", 4)[4]  # four header lines, then zlib
    labels = {}
    for line in zlib.decompress(body).decode("utf-8").splitlines():
        match = re.match(r"(\S+)\s+std:label\s+-?\d+\s+(\S+)", line)
        if match:
            uri = match.group(2)
            labels[match.group(1)] = uri[:-1] + match.group(1) if uri.endswith("$") else uri
    return labels


def verify(html_dir: str, codes=None) -> list[str]:
    """Problems of the built guide: codes without their anchor in guide/catalogue.html, links between
    guide pages whose page or anchor does not exist, a guide page the index does not reach."""
    problems = []
    guide_dir = os.path.join(html_dir, "guide")
    pages = {name: _parse(os.path.join(guide_dir, name)) for name in sorted(os.listdir(guide_dir))
             if name.endswith(".html")}
    if codes is None:
        from ansible_collections.trustops.tableau.plugins.module_utils import catalogue
        codes = [rule.code for rule in catalogue.rules()] + list(catalogue.retired())
    if "catalogue.html" not in pages:
        return ["guide/catalogue.html was not built"]
    for code in codes:
        if code.lower() not in pages["catalogue.html"].ids:
            problems.append(f"guide/catalogue.html: no anchor #{code.lower()} for {code}")
    for name, page in pages.items():
        for href in page.links:
            if "://" in href or href.startswith(("mailto:", "../")):
                continue
            target, _hash, fragment = href.partition("#")
            target_name = target or name
            if target_name not in pages:
                if target.endswith(".html"):
                    problems.append(f"guide/{name}: link to {href}: no such guide page")
                continue
            if fragment and fragment not in pages[target_name].ids:
                problems.append(f"guide/{name}: link to {href}: no anchor #{fragment} in guide/{target_name}")
    # R(..., <LABEL>.catalogue.<code>) in plugin docs lands in the code's entry
    labels = inventory_labels(html_dir) or {}
    for code in codes if labels else ():
        label = f"{LABEL}.catalogue.{code.lower()}"
        uri = labels.get(label)
        where, _hash, target = (uri or "").partition("#")
        if where != "guide/catalogue.html" or pages["catalogue.html"].section_of.get(target) != code.lower():
            problems.append(f"objects.inv: label {label} ({uri}) is not in the entry of {code}")
    index_links = {href.partition("#")[0] for href in pages.get("index.html", _Anchors()).links}
    for name in ("catalogue.html", "troubleshooting.html"):
        if name not in pages:
            problems.append(f"guide/{name} was not built")
        elif name not in index_links:
            problems.append(f"guide/index.html does not link {name}")
    return problems


def main(argv) -> int:
    if len(argv) >= 3 and argv[0] == "guide":
        return guide(argv[1], argv[2])
    if len(argv) >= 2 and argv[0] == "catalogue":
        return write_catalogue(argv[1], check="--check" in argv[2:])
    if len(argv) == 3 and argv[0] == "warnings":
        return warnings(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "verify":
        problems = verify(argv[1])
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
