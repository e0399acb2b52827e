#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_config
short_description: Set Tableau Server configuration keys with TSM, staging only the keys that differ
version_added: 0.1.0
description:
  - Reads the applied configuration once (C(tsm settings export)), compares each key of O(keys)
    with it, and stages only the keys whose value differs, all in one C(tsm settings import).
  - A key the server has never had (C(tsm configuration get) answers "Unknown key") is refused,
    unless O(force_keys=true); then such keys go in a second import with C(--force-keys), so that
    C(--force-keys) never covers a key the server already knows.
  - Staged keys are pending changes. With O(apply=true) the task applies them (and anything else
    pending) right away, C(tsm pending-changes apply --ignore-prompt); usually leave O(apply=false) and
    apply once at the end of the play with M(trustops.tableau.tsm_pending_changes) in a handler.
  - A second run with the same keys makes no change and calls C(tsm) once.
options:
  keys:
    description:
      - Configuration keys and their values, for example C(gateway.public.host) or
        C(wgserver.saml.min_allowed.rsa_key_size). Keys are case-sensitive.
      - Booleans are written V(true)/V(false), numbers as text, lists joined with commas. Values
        compare as TSM stores them (V(2048) equals V("2048"), V(True) equals V("true")).
      - A list item holding a comma, semicolon, whitespace or starting with C(-) is refused (TSM would
        split the joined list, so the key would be staged on every run); so is a value with a newline.
      - A dictionary, or a list of lists or dictionaries, is refused before anything is staged, because TSM
        configuration keys hold text, numbers and booleans (C(settings import) JSON), and such a value
        would otherwise be staged as Python text.
      - A key whose value is null is not managed.
      - Secret keys (names with C(password), C(passphrase), C(secret), C(credential), key material, and
        C(wgserver.saml.key.passphrase)) are masked everywhere in the result (C(changes), C(diff),
        C(invocation)), listed in RV(masked_keys), and staged only through the import file (mode 0600),
        never on a command line. TSM stores them encrypted (C(ENC(...))), which is never returned; see
        O(update_secrets). Prefer the module that owns a secret (for example
        O(trustops.tableau.tsm_saml#module:key_passphrase)).
    type: dict
    required: true
  force_keys:
    description:
      - Add keys the server does not have yet (C(--force-keys)). A misspelled key is added as well, so
        check the names.
    type: bool
    default: false
  update_secrets:
    description:
      - Secret keys are stored encrypted and cannot be compared, so by default a secret key is staged
        only when the server has no value for it. V(true) stages every secret key given, on every run
        (the task then always reports a change).
    type: bool
    default: false
  apply:
    description:
      - Apply the pending changes after staging (only when this task staged something).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
  - trustops.tableau.tsm.apply
attributes:
  check_mode:
    support: full
    details: Reads the configuration (one C(tsm) call) and reports what would be staged; stages nothing.
  diff_mode:
    support: full
    details: Shows the managed keys before (applied) and after.
  platform:
    platforms: [posix]
seealso:
  - module: trustops.tableau.tsm_pending_changes
  - module: trustops.tableau.tsm_info
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Reverse proxy in front of Tableau Server (seed 002, SSL off-loading)
  trustops.tableau.tsm_config:
    keys:
      gateway.public.host: tableau.example.com
      gateway.public.port: 443
      gateway.trusted: [10.0.0.5, 10.0.0.6]
  notify: Apply pending TSM changes

- name: A key the server has never had
  trustops.tableau.tsm_config:
    keys:
      wgserver.saml.authcontexts: urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport
    force_keys: true
    tsm_user: tableau

- name: Stage and apply in one task (restarts the server if the keys need it)
  trustops.tableau.tsm_config:
    keys:
      wgserver.session.idle_limit: 120
    apply: true
"""

RETURN = r"""
changes:
  description: The keys that differ, with the applied value and the new one.
  returned: always
  type: list
  elements: dict
  sample: [{name: gateway.public.host, before: localhost, after: tableau.example.com}]
staged:
  description: The staging calls that ran (empty in check mode and when nothing differs).
  returned: always
  type: list
  elements: str
  sample: ["settings import (gateway.public.host)"]
masked_keys:
  description: The secret keys among O(keys), whose values are masked in the whole result.
  returned: always
  type: list
  elements: str
  sample: [wgserver.saml.key.passphrase]
findings:
  description: Problems found (C(TSM-050) unknown keys without O(force_keys)).
  returned: always
  type: list
  elements: dict
applied:
  description: Whether this task applied pending changes (in check mode, whether it would).
  returned: always
  type: bool
restarted:
  description: Whether applying restarted Tableau Server.
  returned: always
  type: bool
pending:
  description: With O(apply=true), the pending changes that were applied (name, value, restart).
  returned: when O(apply=true) and something was staged
  type: list
  elements: dict
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
from ansible_collections.trustops.tableau.plugins.module_utils._tsm_module import configure, mask
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import apply, plans
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import argument_spec
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import is_secret_key
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.settings import secret_values

OPTIONS = dict(
    keys=dict(type="dict", required=True, no_log=False),
    force_keys=dict(type="bool", default=False),
    update_secrets=dict(type="bool", default=False),
    apply=dict(type="bool", default=False),
    **apply.APPLY_ARGSPEC,
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True)
    params = module.params
    mask(module, secret_values(params["keys"]))

    def then_apply(client, plan):
        return apply.apply_staged(client, params["apply"] and plan.changed, check_mode=module.check_mode,
                                  ignore_warnings=params["ignore_warnings"], allow_restart=params["allow_restart"])

    configure(module, "TSM configuration keys", plans.plan_config, params["keys"], force_keys=params["force_keys"],
              update_secrets=params["update_secrets"], then=then_apply,
              returns=dict(applied=False, restarted=False,
                           masked_keys=sorted(k for k in params["keys"] if is_secret_key(k))))


if __name__ == "__main__":
    main()
