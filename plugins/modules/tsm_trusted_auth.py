#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_trusted_auth
short_description: Configure Tableau Server trusted authentication (trusted tickets) with TSM
version_added: 0.1.0
description:
  - Reads the applied configuration once and stages only what differs,
    C(tsm authentication trusted configure) with the trusted hosts and/or token length, and the key
    C(wgserver.unrestricted_ticket) in one C(tsm settings import).
  - Trusted hosts compare as a set (order does not matter); TSM replaces the whole list, so give all of them.
  - Unrestricted tickets start a full session (seed 003), warning C(TSM-020) suggests keeping them
    restricted or blocking the URI C(/) at the reverse proxy.
  - Changes are pending until applied; notify a handler running M(trustops.tableau.tsm_pending_changes).
options:
  trusted_hosts:
    description:
      - Web servers allowed to request trusted tickets, host names or IP addresses (C(-th)), one per item.
      - Each item must be a host name or an IPv4/IPv6 address; an item with a comma, whitespace or a leading
        C(-) is refused before anything is staged (it would be staged again on every run, or read as an option).
    type: list
    elements: str
  token_length:
    description: Characters in each ticket, 9 to 255 (C(-t), TSM default 24).
    type: int
  unrestricted_tickets:
    description: C(wgserver.unrestricted_ticket). V(true) lets a redeemed ticket open the whole server UI.
    type: bool
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
attributes:
  check_mode:
    support: full
    details: Reads the configuration; stages nothing.
  diff_mode:
    support: full
    details: Trusted hosts, token length and the unrestricted-ticket key, applied and desired.
  platform:
    platforms: [posix]
seealso:
  - module: trustops.tableau.tsm_pending_changes
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: The portal's web servers may request tickets
  trustops.tableau.tsm_trusted_auth:
    trusted_hosts: [webserv1.example.com, 10.0.0.21]
    token_length: 32
    unrestricted_tickets: false
  notify: Apply pending TSM changes
"""

RETURN = r"""
changes:
  description: The settings that differ (applied value, desired value).
  returned: always
  type: list
  elements: dict
staged:
  description: The staging calls that ran, in order.
  returned: always
  type: list
  elements: str
findings:
  description: Findings C(TSM-020) (unrestricted tickets), C(TSM-021) (token length out of range).
  returned: always
  type: list
  elements: dict
masked_keys:
  description: Configuration keys and entity fields holding secrets in this task; their values are masked in the whole result.
  returned: always
  type: list
  elements: str
tsm_calls:
  description: Number of C(tsm) invocations this task made (1 on a converged server); with O(transport=api), of
    HTTP requests (3 on a converged server, namely sign-in, one read and sign-out).
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
from ansible_collections.trustops.tableau.plugins.module_utils._tsm_module import configure, desired
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import plans
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import argument_spec

OPTIONS = dict(
    trusted_hosts=dict(type="list", elements="str"),
    token_length=dict(type="int", no_log=False),
    unrestricted_tickets=dict(type="bool"),
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True,
                           required_one_of=[("trusted_hosts", "token_length", "unrestricted_tickets")])
    configure(module, "trusted authentication", plans.plan_trusted_auth, desired(module.params, OPTIONS))


if __name__ == "__main__":
    main()
