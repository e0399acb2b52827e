# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a read-only check in the controller's worker instead of starting its module there.

The SAML checks run on the controller (the ``saml`` role delegates them to localhost).  There, a
module costs a Python start, ``ansible.module_utils.basic`` and AnsiballZ (about 130 ms of a
delegated ``stat``) plus our third-party imports (cryptography, lxml, signxml: ~40 ms), on every
task.  The worker is that same Python, with those libraries already imported once per run.

:class:`InProcessCheck` is the action plugin of such a check.  It runs the check's one task
function (``module_utils/saml/task.py``) in the worker **only when the module would run in this
very process's interpreter, as this user, with this environment**; any doubt runs the module as
Ansible always does (``normal`` action), so nothing a user relies on changes:

* connection ``local`` (``localhost``, ``delegate_to: localhost``, ``connection: local``), no
  ``become``, no ``environment:``, not ``async``, not ``ANSIBLE_KEEP_REMOTE_FILES``;
* the interpreter Ansible would start is exactly this one (``sys.executable``): true for the
  implicit localhost; an inventory ``localhost`` whose interpreter is discovered, or another
  Python, runs the module, which may lack a library this one has, and then fails as it should;
* the libraries the check needs are importable here;
* ``trustops_tableau_in_process`` is not false (a variable: ``-e trustops_tableau_in_process=false``
  runs every such check as a module).

In the worker it does what ``AnsibleModule`` does with the same spec: validates a copy of the
arguments with ``ArgumentSpecValidator`` (the same messages, ``Unsupported parameters for
(<action>) module``), masks ``no_log`` values in the result, adds ``invocation``; relative paths
mean the playbook's directory, where the local connection starts the module.  Warnings are
returned in ``warnings``, as a module returns them.  ``-vvv`` says which path ran and why.
"""

from __future__ import annotations

import json
import sys
import typing as t

from ansible import constants as C
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display

try:  # ansible-core 2.19+: a failed result reads "Module failed: ..." as the module's does
    from ansible._internal._errors._captured import AnsibleModuleCapturedError as _ModuleCaptured
except ImportError:  # 2.17, 2.18: the result is shown as it is
    _ModuleCaptured = None  # type: ignore[assignment,misc]

try:
    from ansible.executor.module_common import _get_shebang
except ImportError:  # a core without it: always the module
    _get_shebang = None  # type: ignore[assignment]

display = Display()

#: The variable that turns the in-process path off (``false``): every check then runs as a module.
SWITCH = "trustops_tableau_in_process"
#: The interpreter name Ansible resolves for Python modules.
_PYTHON = "/usr/bin/python"


class InProcessCheck(NormalAction):
    """The action plugin of a read-only check; subclasses set :attr:`SPEC`, :attr:`RUN` and
    :attr:`LIBRARIES`."""

    #: The keyword arguments of the module's ``AnsibleModule`` (argument_spec, mutually_exclusive, ...).
    SPEC: t.ClassVar[dict] = {}
    #: The check: ``RUN(params, base_dir) -> findings.Outcome``, the function the module's main() calls.
    RUN: t.ClassVar[t.Callable[..., t.Any]]
    #: ``(name, importable here)`` of each library the check needs; a missing one runs the module
    #: (which fails with Ansible's missing-library message where it runs).
    LIBRARIES: t.ClassVar[tuple[tuple[str, bool], ...]] = ()

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars if task_vars is not None else {}
        try:
            why = self._module_needed(task_vars)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # any doubt: the module
            why = f"cannot tell whether it may run here ({exc})"
        if why:
            display.vvv(f"{self._task.action}: runs as a module: {why}", host=self._host_label(task_vars))
            return super().run(tmp, task_vars)
        display.vvv(f"{self._task.action}: runs in the controller's worker (no module process); "
                    f"{SWITCH}=false runs it as a module", host=self._host_label(task_vars))
        result = ActionBase.run(self, tmp, task_vars)  # the async and check-mode gates; no temp dir
        try:
            result.update(self._check_here())
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a check only reads: run it again as a module
            display.vvv(f"{self._task.action}: in the worker it raised {type(exc).__name__}: {exc}; runs as a module",
                        host=self._host_label(task_vars))
            return super().run(tmp, task_vars)
        return result

    def _host_label(self, task_vars: dict) -> str | None:
        return task_vars.get("inventory_hostname")

    def _module_needed(self, task_vars: dict) -> str | None:
        """Why the module must run (a reason for ``-vvv``), or None when the worker may run the check."""
        if not boolean(self._templar.template(task_vars.get(SWITCH, True)), strict=True):
            return f"{SWITCH} is false"
        if self._connection.transport != "local":
            return f"connection {self._connection.transport}"
        if self._connection.become is not None:
            return "become"
        environment: dict = {}
        self._compute_environment_string(environment)
        if environment:
            return "environment is set"
        if self._task.async_val:
            return "async"
        if C.DEFAULT_KEEP_REMOTE_FILES:
            return "ANSIBLE_KEEP_REMOTE_FILES"
        for name, present in self.LIBRARIES:
            if not present:
                return f"{name} is not importable in the controller's Python"
        if _get_shebang is None:
            return "this ansible-core cannot say which interpreter it would start"
        use_vars = task_vars
        if self._task.delegate_to:
            use_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to)
            if use_vars is None:
                return "no variables for the delegated host"
        try:
            interpreter = _get_shebang(_PYTHON, use_vars, self._templar)[1]
        except Exception as exc:  # pylint: disable=broad-exception-caught  # InterpreterDiscoveryRequiredError
            return f"its interpreter is to be discovered ({type(exc).__name__})"
        if interpreter != sys.executable:
            return f"interpreter {interpreter} is not the controller's {sys.executable}"
        return None

    def _check_here(self) -> dict:
        """The check's result, as its module would return it."""
        # what the module gets: the arguments as JSON (plain str, int, list, dict; vaulted text
        # decrypted), so that types, and messages that name them, are the same
        args = json.loads(json.dumps(dict(self._task.args), default=str))
        validation = ArgumentSpecValidator(**self.SPEC).validate(args)
        params = dict(args)
        params.update(validation.validated_parameters)
        errors = validation.errors
        first = errors.errors[0] if errors.errors else None  # as AnsibleModule reads it
        if first is not None:
            msg = errors.msg
            if isinstance(first, UnsupportedError):
                msg = f"Unsupported parameters for ({self._task.action}) module: {msg}"
            result: dict = {"failed": True, "msg": msg}
        else:
            outcome = type(self).RUN(params, self._loader.get_basedir())
            result = dict(outcome.out)
            if outcome.failed:
                result.update(failed=True, msg=outcome.msg)
                if outcome.exception:
                    result["exception"] = outcome.exception
            else:
                result = dict(msg=outcome.msg, **result)
            if outcome.warnings:
                result["warnings"] = list(outcome.warnings)
        result["invocation"] = {"module_args": params}
        # as AnsibleModule ends: no_log values masked everywhere, booleans and None kept
        kept = {key: value for key, value in result.items() if value is None or isinstance(value, bool)}
        result = remove_values(result, validation._no_log_values)  # pylint: disable=protected-access
        result.update(kept)
        if result.get("failed") and _ModuleCaptured is not None:
            _ModuleCaptured.normalize_result_exception(result)
        return result
