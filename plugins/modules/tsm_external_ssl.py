#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_external_ssl
short_description: Enable SSL for external traffic on Tableau Server with TSM, with the chain clients need
version_added: 0.1.0
description:
  - Reads the applied configuration once and compares the certificate, key and chain files the server has
    (by content fingerprint) and the protocols with the options. When anything differs, or SSL is off,
    stages one C(tsm security external-ssl enable) with all the files; with O(state=disabled),
    C(tsm security external-ssl disable) when it is on.
  - Checks before staging that the key matches the certificate (C(TSM-032)), that an encrypted key has its
    O(passphrase) (C(TSM-033); a wrong one fails), and warns when there is no O(chain_file) (C(TSM-030)),
    because Tableau Mobile on Android does not fetch missing intermediate certificates (seed 000). A
    passphrase-protected key cannot also be used for SAML (C(TSM-031), info).
  - The passphrase is stored by TSM encrypted and cannot be compared; it is sent whenever the files are.
  - Changes are pending until applied; notify a handler running M(trustops.tableau.tsm_pending_changes).
options:
  state:
    description: V(enabled) or V(disabled).
    type: str
    choices: [enabled, disabled]
    default: enabled
  cert_file:
    description:
      - C(--cert-file), the server certificate (PEM, C(.crt)) on the node. Required with O(state=enabled).
      - Read with the shared reader (cap 1 MiB) and parsed before anything is staged; empty files, random bytes,
        truncated PEM, PKCS#12 archives, keys and directories are refused with a message naming the option.
    type: path
  key_file:
    description:
      - C(--key-file), its private key on the node (cap 64 KiB). Required with O(state=enabled). Refused before
        staging when it is not a private key (or the passphrase is wrong).
    type: path
  chain_file:
    description: C(--chain-file), the intermediate CA certificates (PEM, C(.crt)) on the node (cap 1 MiB, must hold certificates).
    type: path
  passphrase:
    description:
      - Passphrase of an encrypted O(key_file). Never logged; masked in the whole result.
      - Not passed as C(--passphrase) (which other local users could see in the process list); it is staged as
        the documented C(mutualSSLSettings.keyPassphrase) entity field through C(tsm settings import) (a 0600
        file) right after C(tsm security external-ssl enable). That TSM accepts the enable call without
        C(--passphrase) for an encrypted key when the passphrase follows in the same pending changes is not
        confirmed by the vendor's pages (see R(the TSM guide,ansible_collections.trustops.tableau.docsite.tsm)).
    type: str
  protocols:
    description:
      - C(--protocols), for example V(all, -SSLv2, -SSLv3, -TLSv1, -TLSv1.1). A value starting with C(-) is refused
        (C(tsm) would read it as an option).
    type: str
  validate_key:
    description: Check the key against the certificate and the passphrase before staging.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
attributes:
  check_mode:
    support: full
    details: Reads the configuration; stages nothing.
  diff_mode:
    support: full
    details: Files as path and fingerprint, protocols and the enabled state, applied and desired.
  platform:
    platforms: [posix]
requirements:
  - cryptography on the node
seealso:
  - module: trustops.tableau.tsm_mutual_ssl
  - module: trustops.tableau.tls_probe
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: SSL with the full chain for Tableau Mobile
  trustops.tableau.tsm_external_ssl:
    cert_file: /var/opt/trustops/ssl/tableau-9a0c11.crt
    key_file: /var/opt/trustops/ssl/tableau-9a0c11.key
    chain_file: /var/opt/trustops/ssl/chain-77d0e2.crt
  notify: Apply pending TSM changes
"""

RETURN = r"""
changes:
  description: The settings that differ (applied value, desired value; files as path and fingerprint).
  returned: always
  type: list
  elements: dict
staged:
  description: The staging calls that ran, in order.
  returned: always
  type: list
  elements: str
findings:
  description: Findings C(TSM-030) to C(TSM-034); any error refuses the task before anything is staged.
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
    state=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
    cert_file=dict(type="path"),
    key_file=dict(type="path", no_log=False),
    chain_file=dict(type="path"),
    passphrase=dict(type="str", no_log=True),
    protocols=dict(type="str"),
    validate_key=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True,
                           required_if=[("state", "enabled", ("cert_file", "key_file"))])
    params = module.params
    configure(module, "external SSL", plans.plan_external_ssl, desired(params, OPTIONS, skip=["validate_key"]),
              check_key=params["validate_key"])


if __name__ == "__main__":
    main()
