# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor articles (seeds) as the rule tests read them: one place for the folding, the lookup of
the articles and the check that a rule's ``seed`` is made of verbatim seed sentences.

The articles stay outside the collection (the text is Tableau's); ``TRUSTOPS_SEEDS`` names the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SEEDS = Path(os.environ.get("TRUSTOPS_SEEDS", "/work/shared/seeds"))
NOT_VENDOR = "Not a vendor rule:"


def folded(text: str) -> str:
    """White space folded to single spaces (the articles wrap lines; the rules do not)."""
    return " ".join(text.split())


def sentences_of(seed_class) -> dict[str, str]:
    """The folded sentences of a rules module's ``Seed`` class, by attribute name."""
    return {name: folded(value) for name, value in vars(seed_class).items() if not name.startswith("_")}


def articles(pattern: str) -> list[str]:
    """The folded text of every seed article whose file name matches ``pattern`` (sorted)."""
    return [folded(path.read_text(encoding="utf-8")) for path in sorted(SEEDS.glob(pattern))]


def needs_articles(pattern: str, count: int = 1):
    """Skip marker for a test that reads the articles themselves (``scripts/test`` fails a skipped test)."""
    found = len(list(SEEDS.glob(pattern)))
    return pytest.mark.skipif(found < count, reason=f"{count} seed article(s) {pattern} are not in {SEEDS} (set TRUSTOPS_SEEDS)")


def assert_made_of_sentences(code: str, seed: str, sentences) -> None:
    """``seed`` is a vendor rule's seed: the given sentences joined by spaces, nothing else. A seed that
    starts with NOT_VENDOR must instead say what it protects."""
    if seed.startswith(NOT_VENDOR):
        assert len(seed) > len(NOT_VENDOR) + 40, f"{code}: say where the rule comes from"
        return
    assert NOT_VENDOR not in seed, code
    rest = folded(seed)
    ordered = sorted(sentences, key=len, reverse=True)
    while rest:
        head = next((s for s in ordered if rest == s or rest.startswith(s + " ")), None)
        assert head is not None, f"{code}: {rest[:80]!r} is not a sentence of rules.Seed"
        rest = rest[len(head):].lstrip()
