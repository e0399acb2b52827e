#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_pending_changes
short_description: Apply or discard Tableau Server's pending TSM changes, only when there are some
version_added: 0.1.0
description:
  - Lists the pending changes (C(tsm pending-changes list)). When nothing is pending the task
    reports no change and makes no other call, so a converged play never applies and never restarts.
  - With O(state=applied), applies them with C(tsm pending-changes apply --ignore-prompt). The flag only
    suppresses TSM's confirmation question; as documented, the restart happens anyway when a change
    needs one. Without the flag C(tsm) would wait for an answer that an automated run cannot give.
  - Returns whether the changes needed a restart and whether Tableau Server was restarted (a restart
    is needed and the server was running; when the server is stopped nothing restarts).
  - Afterwards the list is read again; changes still pending fail the task.
  - With O(state=discarded), discards them (C(tsm pending-changes discard)).
  - Meant for a handler that runs once at the end of the play, notified by the C(tsm_*) modules; the
    role C(trustops.tableau.tsm_apply) provides one.
options:
  state:
    description:
      - V(applied) applies pending changes; V(discarded) drops them.
    type: str
    choices: [applied, discarded]
    default: applied
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
  - trustops.tableau.tsm.apply
attributes:
  check_mode:
    support: full
    details: Lists the pending changes (and reads the server status when a restart is needed); applies nothing.
  diff_mode:
    support: full
    details: The pending changes before, and an empty list after.
  platform:
    platforms: [posix]
seealso:
  - module: trustops.tableau.tsm_config
  - module: trustops.tableau.tsm_saml
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
# handlers/main.yml
- name: Apply pending TSM changes
  trustops.tableau.tsm_pending_changes:
    state: applied
  listen: trustops.tableau.tsm_apply

- name: Apply only if that needs no restart
  trustops.tableau.tsm_pending_changes:
    allow_restart: false

- name: Drop what a failed run staged
  trustops.tableau.tsm_pending_changes:
    state: discarded
"""

RETURN = r"""
pending:
  description: The pending changes found before applying or discarding.
  returned: always
  type: list
  elements: dict
  contains:
    section:
      description: C(configKeys), C(configEntities) or C(topology).
      type: str
    name:
      description: Key, or C(entity.field).
      type: str
    value:
      description: The pending value as TSM lists it (secrets masked by TSM).
      type: str
    restart:
      description: Whether this change needs a restart.
      type: bool
  sample: [{section: configEntities, name: samlSettings.enabled, value: "true", restart: true}]
restart_required:
  description: Whether applying the pending changes needs a restart.
  returned: always
  type: bool
restarted:
  description: Whether Tableau Server was restarted (in check mode, whether it would be).
  returned: always
  type: bool
server_status:
  description: C(tsm status) before applying (C(running), C(stopped), ...), read only when a restart is needed.
  returned: always
  type: str
  sample: running
applied:
  description: Whether pending changes were applied (in check mode, whether they would be).
  returned: always
  type: bool
discarded:
  description: Whether pending changes were discarded (in check mode, whether they would be).
  returned: always
  type: bool
tsm_calls:
  description: Number of C(tsm) invocations this task made; with O(transport=api), of HTTP requests.
  returned: always
  type: int
  sample: 1
commands:
  description: The C(tsm) command lines this task ran, in order, secrets masked; with O(transport=api), the HTTP
    request lines (C(METHOD /api/0.5/endpoint?query), never a body).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils._tsm_module import run
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import apply
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import argument_spec


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            state=dict(type="str", default="applied", choices=["applied", "discarded"]),
            **apply.APPLY_ARGSPEC,
        ),
        supports_check_mode=True,
    )
    params = module.params
    run(module, lambda client, result: apply.settle_pending(
        client, result, state=params["state"], ignore_warnings=params["ignore_warnings"],
        allow_restart=params["allow_restart"], check_mode=module.check_mode, diff=module._diff), "pending changes")


if __name__ == "__main__":
    main()
