# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tableau_user_name
short_description: The Tableau Server user a client certificate maps to with mutual SSL
version_added: 0.1.0
author:
  - trustops maintainers (@trustops)
description:
  - Given one client certificate (PEM or DER), returns the user name Tableau Server maps it to with
    mutual SSL, following the same rules as M(trustops.tableau.client_cert_identity).
  - "With Active Directory the result is C(user@domain): the domain from the name (C(username@domain)
    or C(domain/username)), else O(default_domain). Without a default domain, a name without a domain
    is returned as it is."
  - With a local identity store the name is returned as it is in the field.
  - Fails with a message when the name cannot be told (no such field, several different values, an
    undocumented format, a malformed UPN encoding, V(ldap) mapping, not a certificate). For many
    certificates and the ambiguity audit, use the module.
options:
  _input:
    description: One certificate, PEM text (or DER bytes).
    type: raw
    required: true
  mapping:
    description:
      - The user-name mapping, V(upn) or V(cn). V(ldap) cannot be predicted and fails.
      - Default is Tableau's installation default for O(identity_store) (V(upn) for a local store; for
        Active Directory it is V(ldap), so give V(upn) or V(cn) explicitly).
    type: str
    choices: [ldap, upn, cn]
  default_domain:
    description: The AD domain that names without a domain fall into.
    type: str
  identity_store:
    description:
      - V(ad) or V(local). Default is V(ad) when O(default_domain) is given, otherwise V(local).
    type: str
    choices: [ad, local]
seealso:
  - module: trustops.tableau.client_cert_identity
"""

EXAMPLES = r"""
- name: The user each certificate logs in as (Active Directory, UPN mapping)
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'jsmith.pem') | trustops.tableau.tableau_user_name(mapping='upn', default_domain='example.org') }}"

- name: Local identity store, CN mapping
  ansible.builtin.set_fact:
    tableau_user: "{{ client_pem | trustops.tableau.tableau_user_name(mapping='cn', identity_store='local') }}"
"""

RETURN = r"""
_value:
  description: The Tableau user name, C(user@domain) for Active Directory, the field value for a local store.
  type: str
  sample: jsmith@example.org
"""

from ansible.errors import AnsibleFilterError

try:
    from ansible_collections.trustops.tableau.plugins.module_utils.certs import HAS_CRYPTOGRAPHY
    from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
    from ansible_collections.trustops.tableau.plugins.module_utils.identity import user_name
except ImportError:  # pragma: no cover - only without the collection's module_utils
    HAS_CRYPTOGRAPHY = False


def tableau_user_name(data, mapping=None, default_domain=None, identity_store=None):
    if not HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("tableau_user_name needs the Python library cryptography on the controller")
    if not isinstance(data, (str, bytes)):
        raise AnsibleFilterError(f"tableau_user_name expects a certificate as PEM text, not {type(data).__name__}")
    if identity_store is None:
        identity_store = "ad" if default_domain else "local"
    try:
        return user_name(str(data) if isinstance(data, str) else data, mapping, identity_store, default_domain,
                         source="certificate")
    except TrustopsError as exc:
        raise AnsibleFilterError(f"tableau_user_name: {exc}")


class FilterModule:
    """trustops.tableau filters for mutual SSL."""

    def filters(self):
        return {"tableau_user_name": tableau_user_name}
