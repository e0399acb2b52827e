# -*- coding: utf-8 -*-
"""Shared test fixtures: ``pki``, a factory of real certificates and keys, and a ``chain`` made with it.

The factory is tests/support/pki_factory.py (import ``make_key``, ``PKI`` from there, not from
this file).
"""

from __future__ import annotations

import pytest
# Issued and make_key stay importable from here for the tests that took them from conftest.
from pki_factory import PKI, Issued, make_key  # noqa: F401  pylint: disable=unused-import


@pytest.fixture(scope="session")
def pki():
    return PKI()


@pytest.fixture(scope="session")
def chain(pki):
    """A root -> intermediate -> leaf chain shared by read-only tests."""
    root = pki.root()
    inter = pki.intermediate(root)
    leaf = pki.leaf(inter, dns=("tableau.example.test", "*.apps.example.test"), ips=("127.0.0.1",))
    return {"root": root, "intermediate": inter, "leaf": leaf}
