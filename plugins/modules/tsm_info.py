#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_info
short_description: Read Tableau Server's authentication state, managed keys and pending changes from TSM
version_added: 0.1.0
description:
  - Read-only facts from one C(tsm settings export) (the applied configuration), one
    C(tsm pending-changes list) (unless O(pending=false)), and C(tsm status) when O(status=true).
  - Reports SAML, mutual SSL, external SSL and trusted authentication by the option names of
    M(trustops.tableau.tsm_saml), M(trustops.tableau.tsm_mutual_ssl),
    M(trustops.tableau.tsm_external_ssl) and M(trustops.tableau.tsm_trusted_auth); the configuration
    keys those modules manage; and any O(keys) asked for.
  - Secrets (key passphrases, and any key whose name says it holds a password, passphrase, secret,
    credential or key material) are reported only as set or not set, or as C(********) in RV(keys);
    values TSM stores encrypted (C(ENC(...))) are never returned.
options:
  keys:
    description:
      - More configuration keys to report, in addition to the keys the C(tsm_*) modules manage.
    type: list
    elements: str
    default: []
  pending:
    description:
      - Also list the pending changes.
    type: bool
    default: true
  status:
    description:
      - Also read the server status (C(tsm status)).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
attributes:
  check_mode:
    support: full
    details: Read-only; the same calls in check mode.
  diff_mode:
    support: none
  platform:
    platforms: [posix]
seealso:
  - module: trustops.tableau.tsm_pending_changes
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: What does the server have?
  trustops.tableau.tsm_info:
    keys: [gateway.public.host]
  register: tsm_state

- name: SAML must be on
  ansible.builtin.assert:
    that: tsm_state.saml.enabled
"""

RETURN = r"""
saml:
  description: Applied SAML configuration by M(trustops.tableau.tsm_saml) option names; null where the server has no value.
  returned: always
  type: dict
  sample: {enabled: true, return_url: "https://tableau.example.com", idp_entity_id: "https://tableau.example.com",
           cert_file: /var/opt/tableau/tableau_server/data/saml/sp.crt, max_auth_age: 7200, user_name_attribute: username}
saml_keys:
  description: The SAML policy keys (seed 002) and whether a key passphrase is set.
  returned: always
  type: dict
  sample: {min_rsa_key_size: "2048", blocklisted_digest_algorithms: SHA1, key_passphrase_set: false}
mutual_ssl:
  description: Applied mutual SSL configuration by M(trustops.tableau.tsm_mutual_ssl) option names.
  returned: always
  type: dict
  sample: {enabled: false, user_name_mapping: upn, fallback_to_basic: false}
external_ssl:
  description: Applied external SSL configuration by M(trustops.tableau.tsm_external_ssl) option names.
  returned: always
  type: dict
  sample: {enabled: true, cert_file: /var/opt/tableau/ssl/server.crt, chain_file: "", passphrase_set: false}
trusted_auth:
  description: Trusted hosts, token length, unrestricted tickets.
  returned: always
  type: dict
  sample: {trusted_hosts: [webserv1], token_length: 24, unrestricted_tickets: false}
keys:
  description: Values of O(keys) and of the managed keys, as the server stores them; null for keys it does not have.
  returned: always
  type: dict
masked_keys:
  description: The keys of RV(keys) whose values are secret and shown as C(********).
  returned: always
  type: list
  elements: str
unknown_keys:
  description: The keys of RV(keys) the server does not have ("Unknown key").
  returned: always
  type: list
  elements: str
pending:
  description: Pending changes (section, name, value, restart).
  returned: when O(pending=true)
  type: list
  elements: dict
restart_required:
  description: Whether applying the pending changes needs a restart.
  returned: when O(pending=true)
  type: bool
server_status:
  description: C(running), C(stopped), ... from C(tsm status).
  returned: when O(status=true)
  type: str
tsm_calls:
  description: Number of C(tsm) invocations this task made; with O(transport=api), of HTTP requests.
  returned: always
  type: int
  sample: 2
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
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import argument_spec
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.info import read_info


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            keys=dict(type="list", elements="str", default=[], no_log=False),
            pending=dict(type="bool", default=True),
            status=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run(module, lambda client, result: read_info(client, params["keys"], pending=params["pending"],
                                                 status=params["status"], result=result), "TSM information")


if __name__ == "__main__":
    main()
