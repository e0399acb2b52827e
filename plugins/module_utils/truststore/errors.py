# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trust-store package's error: a store this package may not change, or a name it cannot use.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError


class TrustStoreError(TrustopsError):
    """The store is not in a state this module may change, or input names a thing it cannot."""
