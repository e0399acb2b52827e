# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """A read-only check whose action plugin runs it in the controller's worker when its module
    would run in that same Python (plugins/plugin_utils/in_process.py)."""

    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    details: Runs the check in the controller's worker instead of starting the module when the module would
      run in that same Python (see the notes).
  async:
    support: full
    details: An C(async) task always starts the module.
  bypass_host_loop:
    support: none
notes:
  - "Runs without starting a module on the controller: when the task runs there (C(delegate_to: localhost),
    C(connection: local)) and its module would run in the very Python that runs C(ansible-playbook)
    (the implicit localhost, or C(ansible_python_interpreter) set to C({{ ansible_playbook_python }})),
    with no C(become), no C(environment), not C(async), the collection's action plugin runs the same
    check in Ansible's worker process. Result, messages, warnings, validation and C(no_log) masking
    are the same; C(-vvv) says which way a task ran and why. Anywhere else the module runs as usual.
    Set the variable C(trustops_tableau_in_process=false) to always start the module."
  - "A relative path means the playbook's directory on the controller, both ways (where a local
    connection starts the module)."
"""
