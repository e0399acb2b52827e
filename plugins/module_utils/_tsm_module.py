# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of the tsm_* modules: stage a plan, then finish through ``_module.finish``.

Every tsm_* module is ``run(module, body, label)`` where ``body(client, result)`` reads the
server, builds a plan and calls :func:`stage`. The findings of the plan end the task through the
one findings-to-result path of the collection (:func:`_module.finish`: warnings for findings
that do not fail, a failure message with each failing finding's code, message and remedy);
broken input and failed tsm calls (exceptions of the cores) become ``fail_json`` here, with the
command, exit code and output of the call that failed. No core calls ``exit_json``/``fail_json``.
"""

from __future__ import annotations

import traceback

from ansible_collections.trustops.tableau.plugins.module_utils._module import finish
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.apply import calls_summary
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import client_from_params
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import TsmError
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.plans import execute


def mask(module, values):
    """Mask secret values in the module's whole result, ``invocation`` included (no_log_values)."""
    for value in values or ():
        if value not in (None, "") and hasattr(module, "no_log_values"):
            module.no_log_values.add(str(value))


def stage(module, client, plan, result):
    """Report a plan (changes, diff, findings, warnings) and stage it unless check mode.

    Error findings refuse the whole plan before any call that changes something (the task then
    fails in :func:`run` through ``_module.finish``). Returns the plan.
    """
    mask(module, plan.secret_values)
    result["findings"] = list(plan.findings)
    result["changes"] = list(plan.changes)
    result["staged"] = []
    result["masked_keys"] = sorted(plan.masked_keys)
    for warning in plan.warnings:
        module.warn(warning)
    if getattr(module, "_diff", False):
        result["diff"] = plan.diff()
    if any(f.severity == "error" for f in plan.findings):
        result["refused"] = plan.title
        return plan
    result["changed"] = plan.changed
    if plan.changed and not module.check_mode:
        execute(client, plan, result["staged"])
    return plan


def run(module, body, label="tsm"):
    """Run ``body(client, result)``; finish with the findings it staged (``result['findings']``).

    A :class:`TsmError` fails with the command, exit code and output; other broken input fails
    saying whether anything was staged. The TSM session this task opened is closed either way.
    """
    result = {"changed": False, "findings": []}
    client = None
    failure = None
    try:
        client = client_from_params(module.params)
        body(client, result)
    except TsmError as exc:
        failure = dict(msg=str(exc), rc=exc.rc, cmd=exc.command, stdout=exc.stdout, stderr=exc.stderr)
    except TrustopsError as exc:
        wrote = bool(client and client.writes)
        failure = dict(msg="{}; {}".format(exc, "nothing was changed" if not wrote
                                       else "see staged and commands for what was staged"))
    except Exception as exc:  # pylint: disable=broad-exception-caught  # a bug: report it without a raw traceback
        failure = dict(msg=f"unexpected error: {exc}", exception=traceback.format_exc())
    finally:
        if client is not None and getattr(client, "session", False):
            try:
                client.logout()
            except TsmError:
                pass
    result.update(calls_summary(client))
    findings = result.pop("findings")
    refused = result.pop("refused", None)
    if failure is not None:
        # changed only when a state-changing call really succeeded (a failed import stages nothing)
        result["changed"] = bool(client and client.writes)
        result["findings"] = [f.as_dict() for f in findings]
        module.fail_json(**dict(result, **failure))
    if refused:
        label = f"refusing to change {refused}, nothing was changed"
    finish(module, findings, result, label, "error", changed=result.pop("changed"))
