# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way tests run a module: in this process, or for real through ``ansible`` / ``ansible-playbook``.

In process (fast; the module's ``main`` with patched arguments, its JSON result captured)::

    from module_runner import run_module, run_in_process
    result = run_module(tls_probe.main, {"host": "h", "port": 70000})          # the result dict
    status, result, output = run_in_process(tls_probe.main, args, check=True)  # + status, raw JSON

As a subprocess (slow; what a user runs, with the target interpreter of your choice)::

    from module_runner import DEBIAN_PYTHON, run_adhoc, run_playbook
    status, result, output = run_adhoc("tls_probe", args, tmp_path, python=DEBIAN_PYTHON)
    rc, output = run_playbook(tmp_path, PLAY, {"var": 1})

``status`` is Ansible's word for the host: ``SUCCESS``, ``CHANGED`` or ``FAILED!``, both ways.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

#: Debian 12's interpreter (Python 3.11, python3-cryptography 38): what a bookworm node runs modules with.
DEBIAN_PYTHON = "/usr/bin/python3"
#: The executables of the Ansible that runs the tests (the venv's).
ANSIBLE = str(Path(sys.executable).with_name("ansible"))
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
#: What run_playbook writes itself into its directory (inputs of the run, not its output).
OWN_FILES = ("play.yml", "vars.json", "hosts.json")
COLLECTION = "trustops.tableau"
_HOST_LINE = re.compile(r"^(?P<host>\S+) \| (?P<status>SUCCESS|FAILED!|CHANGED) => (?P<result>\{.*?^\})\s*$",
                        re.S | re.M)


class Run(NamedTuple):
    """One module run: Ansible's status word for the host, the result dict, the raw output."""

    status: str
    result: dict
    output: str


def collections_path() -> str:
    """The directory holding ``ansible_collections/trustops/tableau`` (this checkout) for ``ansible``.

    The first entry of ANSIBLE_COLLECTIONS_PATH when set (scripts/test sets it), else the one
    the collection is imported from in this process.
    """
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    if configured:
        return os.path.abspath(configured)
    from ansible_collections.trustops.tableau.plugins.module_utils import findings  # pylint: disable=import-outside-toplevel
    # .../ansible_collections/trustops/tableau/plugins/module_utils/findings.py -> the directory above
    return str(Path(findings.__file__).parents[5])


def target_pythons() -> list[str]:
    """The interpreters a module must work with: this one, and Debian 12's when it is installed."""
    return [sys.executable] + ([DEBIAN_PYTHON] if os.path.exists(DEBIAN_PYTHON) else [])


def _status(result: dict) -> str:
    if result.get("failed"):
        return "FAILED!"
    return "CHANGED" if result.get("changed") else "SUCCESS"


# ------------------------------------------------------------------------------------ in process

@contextlib.contextmanager
def _module_args(args: dict):
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
        from ansible.module_utils.common.text.converters import to_bytes  # pylint: disable=import-outside-toplevel
        old = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))  # pylint: disable=protected-access
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old  # pylint: disable=protected-access
    else:
        with patch_module_args(args):
            yield


@contextlib.contextmanager
def _as_a_module():
    """Module mode for module_utils, whatever else this process imported.

    ansible-core 2.19 switches module_utils to "controller" mode once controller code (an action
    plugin, a callback) is imported into the process; warnings then go to the display instead of
    the result. A module runs on its target: make it look so for the duration of the run.
    """
    try:
        from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        _internal = None
    if _internal is None or not hasattr(_internal, "is_controller"):
        yield
        return
    saved = _internal.is_controller
    _internal.is_controller = False
    try:
        yield
    finally:
        _internal.is_controller = saved


def run_in_process(main, args: dict, check: bool = False, diff: bool = False) -> Run:
    """Run a module's ``main()`` here with ``args``; its exit_json/fail_json output is the result.

    A module that returns without exit_json/fail_json, or prints anything but its JSON result,
    fails the test with what it printed. Exceptions other than the exit propagate (a traceback
    is a bug the test must show).
    """
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    out = io.StringIO()
    exited = False
    with _module_args(args), _as_a_module(), contextlib.redirect_stdout(out):
        try:
            main()
        except SystemExit:
            exited = True
    output = out.getvalue()
    assert exited, f"the module returned without exit_json/fail_json; it printed: {output!r}"
    try:
        result = json.loads(output)
    except ValueError:
        raise AssertionError(f"the module printed more than its JSON result: {output!r}") from None
    return Run(_status(result), result, output)


def run_module(main, args: dict, check: bool = False, diff: bool = False) -> dict:
    """The result dict of ``run_in_process`` (for tests that only need the result)."""
    return run_in_process(main, args, check=check, diff=diff).result


def warned(result: dict, text: str) -> bool:
    """A module warning mentions text (2.19 returns structured warnings, older cores strings)."""
    return text in json.dumps(result.get("warnings", []))


# ------------------------------------------------------------------------------------ subprocess

def _environment(home: str, temp: str, env: dict | None) -> dict:
    """This process' environment for an ansible run: our collections, no colour, files under one place.

    ``env`` adds variables; a value of None removes one.
    """
    environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOME=home, ANSIBLE_LOCAL_TEMP=temp, ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    environ.pop("TSM_SIM_FAIL", None)  # a simulator failure injection is for the test that sets it
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


def run_adhoc(module: str, args: dict, tmp_path, python: str | None = None, check: bool = False,
              diff: bool = False, env: dict | None = None, timeout: int = 120) -> Run:
    """``ansible localhost -m trustops.tableau.MODULE -a ARGS`` with ``python`` as the target interpreter.

    ``module`` is the short or the fully qualified name; Ansible's home and temporary directories
    are under ``tmp_path``. Returns the host's status, its result and everything ansible printed;
    output that holds no host result fails the test with that output.
    """
    tmp_path = Path(tmp_path)
    name = module if "." in module else f"{COLLECTION}.{module}"
    cmd = [ANSIBLE, "localhost", "-m", name, "-a", json.dumps(args),
           "-e", f"ansible_python_interpreter={python or sys.executable}"]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    environ = _environment(str(tmp_path / "ansible-home"), str(tmp_path / "ansible-local"), env)
    proc = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=timeout, check=False)
    output = proc.stdout + proc.stderr
    match = _HOST_LINE.search(proc.stdout)
    assert match, f"unexpected ansible output:\n{proc.stdout}\n{proc.stderr}"
    return Run(match.group("status"), json.loads(match.group("result")), output)


def local_host(python: str | None = None, **variables) -> dict:
    """Inventory variables of a host that runs modules here, with ``python`` (default: this one)."""
    return dict(variables, ansible_connection="local", ansible_python_interpreter=python or sys.executable)


def run_playbook(directory, play: str, variables: dict | None = None, options=(), env: dict | None = None,
                 hosts: dict | None = None, python: str | None = None, timeout: int = 600) -> tuple[int, str]:
    """(exit code, stdout + stderr) of ``ansible-playbook OPTIONS play.yml`` run in ``directory``.

    The play, its variables (``-e @vars.json``) and the inventory (``hosts``: {group: {"hosts":
    {name: vars}}}, default one ``localhost``) are written into ``directory``; a host runs
    locally with ``python`` (default: this interpreter) unless its own variables say otherwise. Ansible's home and temporary
    directories (and TMPDIR) are inside ``directory``, so every file a run leaves is under it.
    ``env`` adds variables to the run's environment; a value of None removes one.
    """
    directory = str(directory)
    for name in ("ansible_home", "ansible_tmp"):
        os.makedirs(os.path.join(directory, name), exist_ok=True)
    inventory = json.loads(json.dumps(hosts or {"all": {"hosts": {"localhost": {}}}}))
    for group in inventory.values():
        for host, host_vars in group["hosts"].items():
            group["hosts"][host] = dict(local_host(python), **(host_vars or {}))
    for name, text in zip(OWN_FILES, (play, json.dumps(variables or {}), json.dumps(inventory)), strict=True):
        with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    temp = os.path.join(directory, "ansible_tmp")
    environ = _environment(os.path.join(directory, "ansible_home"), temp,
                           dict({"ANSIBLE_REMOTE_TEMP": temp, "TMPDIR": temp, "ANSIBLE_DEPRECATION_WARNINGS": "0",
                                 "ANSIBLE_KEEP_REMOTE_FILES": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0"}, **(env or {})))
    argv = [PLAYBOOK] + list(options) + ["-i", os.path.join(directory, "hosts.json"),
                                         os.path.join(directory, "play.yml"),
                                         "-e", "@" + os.path.join(directory, "vars.json")]
    proc = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=directory)
    return proc.returncode, proc.stdout + "\n" + proc.stderr
