#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_mutual_ssl
short_description: Configure and enable mutual (two-way) SSL authentication on Tableau Server with TSM
version_added: 0.1.0
description:
  - Reads the applied configuration once (C(tsm settings export)) and compares the
    C(mutualSSLSettings) entity with the options; the CA certificate and revocation files by content
    fingerprint. Only what differs is staged, C(tsm authentication mutual-ssl configure) with the
    differing options, then C(enable) or C(disable).
  - Refuses to enable mutual SSL while SAML is enabled or pending (seed 002, Tableau Server does not
    support mutual SSL and SAML together; configure mutual SSL at the IdP instead), finding C(TSM-001);
    and when SSL for external traffic is neither enabled nor pending (C(TSM-010)); nothing is staged then.
  - O(user_name_mapping) chooses how a client certificate maps to a user (seed 004) - V(ldap) (Active
    Directory), V(upn) or V(cn). Audit the organisation's certificates for ambiguous names first (the
    C(trustops.tableau.mutual_ssl) role does).
  - Changes are pending until applied; notify a handler running M(trustops.tableau.tsm_pending_changes).
options:
  state:
    description:
      - V(enabled) configures and enables mutual SSL; V(disabled) disables it (and configures what is given);
        V(configured) only configures.
    type: str
    choices: [enabled, disabled, configured]
    default: enabled
  ca_cert:
    description:
      - C(--ca-cert), the CA certificate(s) that issue client certificates (PEM) on the node (cap 1 MiB).
      - Refused before staging when it holds no certificate (a private key, PKCS#12, random bytes, truncated PEM,
        an empty file, a directory). Each certificate is judged by the shared trust-anchor policy
        (R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.anchor)); a leaf (not a CA), an expired CA
        or a weak key is an C(ANCHOR-NNN) error finding.
    type: path
  revocation_file:
    description:
      - C(--revocation-file), a certificate revocation list (C(.pem) or C(.der)) on the node (cap 16 MiB).
      - Parsed as an X.509 CRL (PEM or DER) before staging; anything else is refused. With O(ca_cert), the CRL must
        be issued and signed by that CA (error finding C(TSM-013)).
    type: path
  fallback_to_basic:
    description: C(--fallback-to-basic), let users without a certificate sign in with a password (warning C(TSM-012)).
    type: bool
  user_name_mapping:
    description: C(--user-name-mapping), how a client certificate maps to a user name.
    type: str
    choices: [ldap, upn, cn]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
attributes:
  check_mode:
    support: full
    details: Reads the configuration (and the pending list when it would enable mutual SSL); stages nothing.
  diff_mode:
    support: full
    details: The managed fields, applied and desired; files as path and fingerprint.
  platform:
    platforms: [posix]
requirements:
  - cryptography on the node, for certificate fingerprints
seealso:
  - module: trustops.tableau.tsm_external_ssl
  - module: trustops.tableau.tsm_pending_changes
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Mutual SSL with the user name in the certificate's CN
  trustops.tableau.tsm_mutual_ssl:
    ca_cert: /var/opt/trustops/mutual_ssl/clients-ca-5be1f0.crt
    user_name_mapping: cn
  notify: Apply pending TSM changes
"""

RETURN = r"""
changes:
  description: The fields that differ (applied value, desired value).
  returned: always
  type: list
  elements: dict
  sample: [{name: mutualSSLSettings.userNameMapping, before: upn, after: cn}]
staged:
  description: The staging calls that ran, in order.
  returned: always
  type: list
  elements: str
  sample: ["authentication mutual-ssl configure (user_name_mapping)"]
findings:
  description: Findings C(TSM-001), C(TSM-010) to C(TSM-013), C(ANCHOR-NNN) on the CA; any error refuses the task before anything is staged.
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
    state=dict(type="str", default="enabled", choices=["enabled", "disabled", "configured"]),
    ca_cert=dict(type="path"),
    revocation_file=dict(type="path"),
    fallback_to_basic=dict(type="bool"),
    user_name_mapping=dict(type="str", choices=["ldap", "upn", "cn"]),
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True)
    configure(module, "mutual SSL", plans.plan_mutual_ssl, desired(module.params, OPTIONS), pending=True)


if __name__ == "__main__":
    main()
