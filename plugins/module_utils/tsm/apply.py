# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying pending changes, only when something is pending, and saying whether the server restarted.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import TsmError


# ---------------------------------------------------------------------------- apply

def apply_pending(client, ignore_warnings=False, allow_restart=True, check_mode=False, result=None):
    """Apply pending changes only if there are some; says whether the server restarted.

    Returns a dict (``result``, filled as it goes, so a failure still reports what was pending):
    applied, pending (list), restart_required, restarted, server_status.
    ``--ignore-prompt`` is always passed: it only suppresses the question (the restart happens
    anyway, as documented); without it tsm would wait for an answer on standard input.
    """
    pending = client.pending()
    result = {} if result is None else result
    result.update(applied=False, pending=pending.as_list(), restart_required=pending.restart_required,
                  restarted=False, server_status=None)
    if not pending:
        return result
    if pending.restart_required:
        result["server_status"] = client.status()
        if not allow_restart and result["server_status"] == "running":
            raise TsmError("the pending changes need a restart of the running server and allow_restart is false; "
                           "nothing was applied (%d change(s) pending)" % len(pending.changes))
    if check_mode:
        result["applied"] = True
        result["restarted"] = pending.restart_required and result["server_status"] == "running"
        return result
    client.apply(ignore_warnings=ignore_warnings, ignore_prompt=True)
    after = client.pending()
    if after:
        raise TsmError("tsm pending-changes apply succeeded but %d change(s) are still pending: %s" % (
            len(after.changes), ", ".join(c.name for c in after.changes)))
    result["applied"] = True
    result["restarted"] = pending.restart_required and result["server_status"] == "running"
    return result


def calls_summary(client):
    """tsm_calls / commands return values."""
    if client is None:
        return {"tsm_calls": 0, "commands": []}
    return {"tsm_calls": len(client.calls), "commands": [c.command for c in client.calls]}
