# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a playbook with the venv's real ansible-playbook on localhost, everything in one directory.

The role tests write the play, its variables (JSON) and an inventory of local hosts into ``directory``
and run ``ansible-playbook`` there, with Ansible's home and temporary directories (and TMPDIR)
inside it, so that every file a run leaves behind is under ``directory``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

COLLECTIONS = os.path.abspath(os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0] or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", ".build", "collections"))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
#: The files run_playbook writes itself (inputs of the run, not its output).
OWN_FILES = ("play.yml", "vars.json", "hosts.json")


def run_playbook(directory, play, variables, options=(), env=None, hosts=None, timeout=600):
    """(exit code, stdout + stderr) of ``ansible-playbook OPTIONS play.yml`` run in ``directory``."""
    directory = str(directory)
    for name in ("ansible_home", "ansible_tmp"):
        os.makedirs(os.path.join(directory, name), exist_ok=True)
    inventory = hosts or {"all": {"hosts": {"localhost": {}}}}
    for group in inventory.values():
        for host in group["hosts"].values():
            host.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    for name, text in zip(OWN_FILES, (play, json.dumps(variables), json.dumps(inventory))):
        with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    temp = os.path.join(directory, "ansible_tmp")
    environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOME=os.path.join(directory, "ansible_home"), ANSIBLE_LOCAL_TEMP=temp,
                   ANSIBLE_REMOTE_TEMP=temp, TMPDIR=temp, ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_KEEP_REMOTE_FILES="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    environ.pop("TSM_SIM_FAIL", None)
    environ.update(env or {})
    argv = [PLAYBOOK] + list(options) + ["-i", os.path.join(directory, "hosts.json"),
                                         os.path.join(directory, "play.yml"),
                                         "-e", "@" + os.path.join(directory, "vars.json")]
    proc = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=directory)
    return proc.returncode, proc.stdout + "\n" + proc.stderr
