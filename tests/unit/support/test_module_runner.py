# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/support/module_runner.py, the one module runner: in process and through real ansible runs."""

from __future__ import annotations

import json
import os
import sys

import pytest
from ansible.module_utils.basic import AnsibleModule
from module_runner import (
    DEBIAN_PYTHON,
    OWN_FILES,
    Run,
    run_adhoc,
    run_in_process,
    run_module,
    run_playbook,
    target_pythons,
    warned,
)

from ansible_collections.trustops.tableau.plugins.modules import tls_probe


def echo_main():
    """A module that returns what it was given, how it was run, and one warning."""
    module = AnsibleModule(argument_spec={"x": {"type": "int", "required": True}}, supports_check_mode=True)
    module.warn("echo warns")
    module.exit_json(changed=module.params["x"] > 0, x=module.params["x"], check=module.check_mode,
                     diff=module._diff)  # pylint: disable=protected-access


def test_in_process_status_result_and_output_agree():
    run = run_in_process(echo_main, {"x": 3}, check=True, diff=True)
    assert isinstance(run, Run) and run.status == "CHANGED"
    assert run.result["x"] == 3 and run.result["check"] is True and run.result["diff"] is True
    assert json.loads(run.output) == run.result
    status, result, _output = run_in_process(echo_main, {"x": 0})
    assert status == "SUCCESS" and result["check"] is False and result["diff"] is False
    assert run_module(echo_main, {"x": 0}) == result


def test_in_process_failure_of_a_real_module():
    status, result, _output = run_in_process(tls_probe.main, {"host": "tableau.example.test", "port": 70000})
    assert status == "FAILED!" and result["msg"] == "port must be 1-65535, not 70000"
    status, result, _output = run_in_process(echo_main, {})
    assert status == "FAILED!" and result["msg"] == "missing required arguments: x"


def test_in_process_warnings_stay_in_the_result_in_controller_mode(monkeypatch):
    """Once controller code is imported, ansible-core 2.19 sends module warnings to the display;
    the runner runs the module as a module and restores the mode afterwards."""
    from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    if not hasattr(_internal, "is_controller"):
        pytest.skip("ansible-core < 2.19 has no controller mode")
    monkeypatch.setattr(_internal, "is_controller", True)
    result = run_module(echo_main, {"x": 1})
    assert warned(result, "echo warns") and not warned(result, "something else")
    assert _internal.is_controller is True


def test_in_process_a_module_that_does_not_exit_or_prints_more_fails_the_test():
    with pytest.raises(AssertionError, match="returned without exit_json/fail_json; it printed: 'hello'"):
        run_in_process(lambda: print("hello", end=""), {})

    def chatty():
        print("debug line")
        echo_main()

    with pytest.raises(AssertionError, match="printed more than its JSON result: 'debug line"):
        run_in_process(chatty, {"x": 1})


def test_target_pythons_are_this_one_and_debian_when_installed():
    assert target_pythons()[0] == sys.executable
    assert (DEBIAN_PYTHON in target_pythons()) is os.path.exists(DEBIAN_PYTHON)


@pytest.mark.parametrize("python", target_pythons())
def test_adhoc_runs_the_module_with_the_chosen_interpreter(tmp_path, python):
    status, result, output = run_adhoc("ansible.builtin.setup", {"gather_subset": ["!all", "!min", "python"]},
                                       tmp_path, python=python)
    assert status == "SUCCESS", output
    assert result["ansible_facts"]["ansible_python"]["executable"] == python
    # a module of this collection by its short name; a failure is a status, not an exception
    status, result, output = run_adhoc("tls_probe", {"host": "tableau.example.test", "port": 70000}, tmp_path,
                                       python=python)
    assert status == "FAILED!" and result["msg"] == "port must be 1-65535, not 70000", output
    assert os.path.isdir(tmp_path / "ansible-home")  # Ansible's files stay under tmp_path


def test_playbook_run_writes_its_inputs_and_runs_each_host_with_its_interpreter(tmp_path):
    play = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.setup:
        gather_subset: ["!all", "!min", "python"]
    - ansible.builtin.copy:
        content: "{{ greeting }} {{ ansible_facts.python.executable }} {{ lookup('env', 'RUNNER_TEST') }}\\n"
        dest: "{{ out }}/{{ inventory_hostname }}.txt"
        mode: "0644"
"""
    hosts = {"all": {"hosts": {"one": {}, "two": {"ansible_python_interpreter": sys.executable}}}}
    rc, output = run_playbook(tmp_path / "run", play, {"greeting": "hello", "out": str(tmp_path)}, hosts=hosts,
                              python=DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable,
                              env={"RUNNER_TEST": "set"})
    assert rc == 0, output
    first = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    assert (tmp_path / "one.txt").read_text() == f"hello {first} set\n"
    assert (tmp_path / "two.txt").read_text() == f"hello {sys.executable} set\n"
    assert sorted(set(OWN_FILES) & set(os.listdir(tmp_path / "run"))) == sorted(OWN_FILES)
    assert hosts["all"]["hosts"]["one"] == {}, "the caller's inventory is not modified"
