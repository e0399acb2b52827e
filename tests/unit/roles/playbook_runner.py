# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moved to tests/support/module_runner.py (the one runner); kept for the tests that still import
``playbook_runner`` (tests/unit/plugins/modules/test_findings_visible.py). Import module_runner.
"""

from __future__ import annotations

from module_runner import OWN_FILES, PLAYBOOK, run_playbook  # noqa: F401  pylint: disable=unused-import
