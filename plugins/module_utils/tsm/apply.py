# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying pending changes, only when something is pending, and saying whether the server restarted;
discarding them; the apply that tsm_config runs after staging.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import TsmError

# Options of every module that applies (doc fragment trustops.tableau.tsm.apply documents them).
APPLY_ARGSPEC = dict(
    ignore_warnings=dict(type="bool", default=False),
    allow_restart=dict(type="bool", default=True),
)


# ---------------------------------------------------------------------------- apply

def apply_pending(client: Any, ignore_warnings: bool = False, allow_restart: bool = True, check_mode: bool = False,
                  result: dict | None = None) -> dict:
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
                           f"nothing was applied ({len(pending.changes)} change(s) pending)")
    if check_mode:
        result["applied"] = True
        result["restarted"] = pending.restart_required and result["server_status"] == "running"
        return result
    client.apply(ignore_warnings=ignore_warnings, ignore_prompt=True)
    after = client.pending()
    if after:
        raise TsmError(f"tsm pending-changes apply succeeded but {len(after.changes)} change(s) are still pending: "
                       + ", ".join(c.name for c in after.changes))
    result["applied"] = True
    result["restarted"] = pending.restart_required and result["server_status"] == "running"
    return result


def apply_staged(client: Any, staged: bool, check_mode: bool = False, ignore_warnings: bool = False,
                 allow_restart: bool = True) -> dict:
    """tsm_config's ``apply``: apply the pending changes when this task staged something (applied,
    restarted, pending). In check mode nothing was staged, so there is no pending list to read: it
    says the task would apply, and nothing restarts."""
    if not staged:
        return {}
    if check_mode:
        return {"applied": True}
    outcome = apply_pending(client, ignore_warnings=ignore_warnings, allow_restart=allow_restart)
    return {"applied": outcome["applied"], "restarted": outcome["restarted"], "pending": outcome["pending"]}


def settle_pending(client: Any, result: dict, state: str = "applied", ignore_warnings: bool = False,
                   allow_restart: bool = True, check_mode: bool = False, diff: bool = False) -> dict:
    """tsm_pending_changes: apply (:func:`apply_pending`) or discard the pending changes, only when there
    are some. Fills ``result`` as it goes (pending, restart_required, restarted, server_status, applied,
    discarded, changed, and ``diff`` when asked and something changed) and returns it."""
    result.update(pending=[], restart_required=False, restarted=False, server_status=None, applied=False,
                  discarded=False)
    if state == "discarded":
        pending = client.pending()
        result.update(pending=pending.as_list(), restart_required=pending.restart_required)
        if pending:
            if not check_mode:
                client.discard()
            result.update(changed=True, discarded=True)
    else:
        apply_pending(client, ignore_warnings=ignore_warnings, allow_restart=allow_restart, check_mode=check_mode,
                      result=result)
        result["changed"] = result["applied"]
    if diff and result.get("changed"):
        result["diff"] = pending_diff(result["pending"])
    return result


def pending_diff(pending: list[dict]) -> dict:
    """The --diff of applying or discarding: the pending changes before, nothing after."""
    before = "".join(f"{c['name']}: {c['value']}\n" for c in pending)
    return {"before_header": "pending changes", "after_header": "pending changes", "before": before, "after": ""}


def calls_summary(client: Any) -> dict:
    """tsm_calls / commands return values."""
    if client is None:
        return {"tsm_calls": 0, "commands": []}
    return {"tsm_calls": len(client.calls), "commands": [c.command for c in client.calls]}
