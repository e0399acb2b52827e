# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the trust store tests: a private root, another one, a distribution CA, their leaves.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def cas(pki):
    root = pki.root(cn="Trustops Unit Root")
    other = pki.root(cn="Trustops Other Root")
    system = pki.root(cn="Distro System Root")
    return {
        "root": root,
        "other": other,
        "system": system,
        "leaf": pki.leaf(root, cn="tableau.example.test", dns=("tableau.example.test",)),
        "other_leaf": pki.leaf(other, cn="other.example.test", dns=("other.example.test",)),
        "system_leaf": pki.leaf(system, cn="sys.example.test", dns=("sys.example.test",)),
    }
