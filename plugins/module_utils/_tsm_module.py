# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of the tsm_* modules: connect, read, plan, stage, finish through ``_module.finish``.

A staging module (tsm_config, tsm_saml, tsm_mutual_ssl, tsm_trusted_auth, tsm_external_ssl) is its
options and one :func:`configure` call naming its planner (``tsm.plans.plan_*``); a reading module
(tsm_info, tsm_pending_changes) is :func:`run` with one core call. :func:`run` connects (the
connection options of every module), runs the task, closes the TSM session, and ends it through the
one findings-to-result path of the collection (:func:`_module.finish`: warnings for findings that
do not fail, a failure message with each failing finding's code, message and remedy); broken input
and failed tsm calls (exceptions of the cores) become ``fail_json`` here, with the command, exit
code and output of the call that failed. No core calls ``exit_json``/``fail_json``.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import policy
from ansible_collections.trustops.tableau.plugins.module_utils._module import finish
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.apply import calls_summary
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import client_from_params
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import TsmError
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.plans import Plan, execute


#: ``state`` -> the ``enabled`` of a feature's desired state; ``configured`` (absent): not managed.
ENABLED_BY_STATE = {"enabled": True, "disabled": False}


def desired(params: Mapping[str, Any], options: Iterable[str], skip: Iterable[str] = ()) -> dict:
    """A feature's desired state from the module's parameters: each of ``options`` (None: not
    managed) but ``state`` and ``skip``, and ``enabled`` from ``state`` when the module has one."""
    skipped = set(skip) | {"state"}
    values = {name: params[name] for name in options if name not in skipped}
    if "state" in params:
        values["enabled"] = ENABLED_BY_STATE.get(params["state"])
    return values


def policy_options() -> dict:
    """The key-size/digest policy options (``policy.argument_spec``, doc fragment trustops.tableau.policy)
    of a module that configures the policy: no default (unset: the key is not managed), and the names of
    earlier releases as deprecated aliases (removed in 1.0.0)."""
    spec = policy.argument_spec(aliases=True)
    for option in spec.values():
        option.pop("default", None)
        option["deprecated_aliases"] = [dict(name=old, version="1.0.0", collection_name="trustops.tableau")
                                        for old in option.get("aliases", [])]
    return spec


def mask(module: Any, values: Iterable[Any] | None) -> None:
    """Mask secret values in the module's whole result, ``invocation`` included (no_log_values)."""
    for value in values or ():
        if value not in (None, "") and hasattr(module, "no_log_values"):
            module.no_log_values.add(str(value))


def stage(module: Any, client: Any, plan: Plan, result: dict) -> Plan:
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


def run(module: Any, body: Callable[[Any, dict], Any], label: str = "tsm") -> None:
    """Run ``body(client, result)``; finish with the findings it staged (``result['findings']``).

    A :class:`TsmError` fails with the command, exit code and output; other broken input fails
    saying whether anything was staged. The TSM session this task opened is closed either way.
    """
    result: dict[str, Any] = {"changed": False, "findings": []}
    client = None
    failure = None
    try:
        client = client_from_params(module.params)
        for warning in client.warnings:
            module.warn(warning)
        body(client, result)
    except TsmError as exc:
        failure = dict(msg=str(exc), rc=exc.rc, cmd=exc.command, stdout=exc.stdout, stderr=exc.stderr)
    except TrustopsError as exc:
        wrote = bool(client and client.writes)
        outcome = "see staged and commands for what was staged" if wrote else "nothing was changed"
        failure = dict(msg=f"{exc}; {outcome}")
    except Exception as exc:  # pylint: disable=broad-exception-caught  # a bug: report it without a raw traceback
        failure = dict(msg=f"unexpected error: {exc}", exception=traceback.format_exc())
    finally:
        logout = getattr(client, "logout", None) if getattr(client, "session", False) else None
        if logout is not None:
            try:
                logout()
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


def configure(module: Any, label: str, planner: Callable, wanted: Any, *, pending: bool = False,
              returns: Mapping[str, Any] | None = None, then: Callable | None = None, **options) -> None:
    """The whole task of a staging module: read the applied configuration once (``settings export``),
    plan with ``planner(settings, wanted, **options)`` (and ``pending_reader=client.pending`` when
    ``pending``: the plan reads the pending list only if it needs it), stage the plan (:func:`stage`),
    then, unless the plan was refused, merge ``then(client, plan)`` (a dict) into the result; finish
    through :func:`run`. ``returns``: result keys every outcome carries (``masked_keys`` by default).
    """
    accepts = inspect.signature(planner).parameters

    def body(client, result):
        result.update({"masked_keys": []}, **dict(returns or {}))
        if pending:
            options["pending_reader"] = client.pending
        if "read_server" in accepts:  # how files compare depends on the transport (tsm.client.TsmClient)
            options.update(read=client.read_local, read_server=client.read_server)
        plan = stage(module, client, planner(client.export_settings(), wanted, **options), result)
        if then is not None and "refused" not in result:
            result.update(then(client, plan))

    run(module, body, label)
