#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tsm_saml
short_description: Configure and enable server-wide SAML on Tableau Server with TSM, idempotently
version_added: 0.1.0
description:
  - Reads the applied configuration once (C(tsm settings export)) and compares it with the options,
    the C(samlSettings) entity field by field, and the certificate, key and IdP metadata files by
    content fingerprint (the file the server has at the path it recorded against the file given
    here). Only what differs is staged, so a converged server gets no call but the read.
  - C(tsm authentication saml configure) with only the differing options (all five of O(idp_entity_id),
    O(return_url), O(idp_metadata_file), O(cert_file), O(key_file) the first time);
    C(tsm authentication saml map-assertions) when the attribute names differ; one C(tsm settings import)
    for the policy keys of seed 002 and the key passphrase (keys the server never had in a second import
    with C(--force-keys)); C(tsm authentication saml enable) or C(disable) when that differs.
  - Changes are pending until applied; notify a handler running
    M(trustops.tableau.tsm_pending_changes) once at the end of the play.
  - Refuses to enable SAML while mutual SSL is enabled or pending (seed 002, Tableau Server does not
    support mutual SSL and SAML together), finding C(TSM-001), nothing staged.
  - Before staging, checks what TSM itself does not check well (a report says TSM accepted a key in an
    unsupported format) with the same core checks and codes as M(trustops.tableau.saml_keypair_check) and
    M(trustops.tableau.saml_metadata_check) - the SP certificate and the key table of seed 002 for server-wide
    SAML (C(SAML-001) to C(SAML-019) - PEM C(.crt), digest and key size, key format and password, key matches
    the certificate, passphrase), the IdP metadata (C(SAML-020) to C(SAML-046)) and the return URL
    (C(SAML-051) to C(SAML-053)). They are judged by the policy being configured (O(blocklisted_digests),
    O(min_rsa_key_size), O(min_ec_key_size), else the server's current keys, else Tableau's defaults).
    O(ignore_domain_in_username=true) warns with the seed's caution (C(TSM-004)).
  - The codes C(TSM-002), C(TSM-003), C(TSM-006), C(TSM-007) and C(TSM-008) of earlier releases are reported as
    C(SAML-051), C(SAML-052)/C(SAML-053), C(SAML-019), C(SAML-014) and C(SAML-018); the finding's C(data.alias)
    names the old code for one release.
  - The key passphrase is stored by TSM encrypted and cannot be compared; it is staged when the key file
    changes or when the server has none.
  - Stage the files on the node under names that change with their content (the C(saml) role does), so
    that a new certificate is a new path whatever TSM records.
options:
  state:
    description:
      - V(enabled) configures and enables server-wide SAML; V(disabled) disables it (and configures what is
        given); V(configured) only configures and leaves the enabled state as it is.
    type: str
    choices: [enabled, disabled, configured]
    default: enabled
  idp_entity_id:
    description: C(--idp-entity-id), the entity ID Tableau Server presents (usually its URL).
    type: str
  return_url:
    description: C(--idp-return-url), the URL users type to reach Tableau Server, without a trailing slash.
    type: str
  idp_metadata_file:
    description:
      - C(--idp-metadata), the IdP's metadata XML file on the node.
      - Read with the shared reader (cap 2000000 bytes) and checked before anything is staged by the hardened
        XML parser (no DTD, entities or network) and the metadata core of M(trustops.tableau.saml_metadata_check);
        it must be SAML 2.0 metadata with one IdP entity that has an entityID and a usable HTTP-POST or
        HTTP-Redirect SingleSignOnService (codes C(SAML-020) to C(SAML-022) and C(SAML-024) to C(SAML-027)); needs lxml
        on the node.
    type: path
  cert_file:
    description:
      - C(--cert-file), the SP certificate (PEM, C(.crt)) on the node, exactly one certificate (cap 1 MiB);
        anything else (empty, not a certificate, truncated PEM, PKCS#12, a key) is refused before staging.
    type: path
  key_file:
    description:
      - C(--key-file), the SP private key (C(.key)) on the node (cap 64 KiB); a file that is not a private key is
        refused before staging.
      - Server-wide SAML takes an unencrypted PKCS#1 RSA key or a password-protected PKCS#8 RSA key (with
        O(key_passphrase)); a PKCS#8 key with no or an empty password (C(SAML-016)) and a password-protected
        PKCS#1 key (C(SAML-014)) are refused (seed 002's key table), as by M(trustops.tableau.saml_keypair_check).
    type: path
  key_passphrase:
    description:
      - Passphrase of an encrypted PKCS#8 O(key_file), set as C(wgserver.saml.key.passphrase) through
        C(tsm settings import) (a 0600 file), never on a command line. Never logged; masked in the whole result.
    type: str
  max_auth_age:
    description: C(--max-auth-age), seconds since the IdP authentication that Tableau accepts (TSM default 7200).
    type: int
  desktop_access:
    description: C(--desktop-access), SAML sign-in from Tableau Desktop.
    type: bool
  mobile_access:
    description: C(--mobile-access), SAML sign-in from Tableau Mobile (ignored by recent app versions).
    type: bool
  signout:
    description: C(--signout), SAML single logout.
    type: bool
  signout_url:
    description: C(--signout-url), page shown after sign-out, absolute (C(https://...)) or relative (C(/...)).
    type: str
  user_name_attribute:
    description:
      - C(map-assertions --user-name), the assertion attribute holding the user name (Tableau's default V(username)).
      - This and the other free-text options that go on C(tsm)'s command line (O(idp_entity_id), O(return_url),
        O(signout_url), O(domain_attribute), the file paths) are refused when they start with C(-) (C(tsm) would
        read them as an option) or hold a newline.
    type: str
  domain_attribute:
    description: C(map-assertions --domain), the assertion attribute holding the domain.
    type: str
  blocklisted_digests:
    description:
      - C(wgserver.saml.blocklisted_digest_algorithms); TSM's default blocks V(SHA1). An empty list allows SHA-1 (not recommended).
      - One digest name per item (V(SHA1), V(sha256), ...); an unknown name, or an item with a comma, whitespace or a leading
        C(-), is refused. Staged as given; unset leaves the key as it is.
      - Also the digest policy the certificate and IdP metadata of this task are checked with.
      - The name C(blocklisted_digest_algorithms) is a deprecated alias (removed in 1.0.0).
    type: list
    elements: str
    aliases: [blocklisted_digest_algorithms]
  min_rsa_key_size:
    description:
      - C(wgserver.saml.min_allowed.rsa_key_size) (TSM default 2048); unset leaves the key as it is.
      - Also the RSA size the certificate and IdP metadata of this task are checked with.
    type: int
  min_ec_key_size:
    description:
      - C(wgserver.saml.min_allowed.elliptic_curve_size) (TSM default 256); unset leaves the key as it is.
      - Also the curve size the IdP signing certificates of this task are checked with.
      - The name C(min_ec_size) is a deprecated alias (removed in 1.0.0).
    type: int
    aliases: [min_ec_size]
  authcontexts:
    description:
      - C(wgserver.saml.authcontexts), AuthNContextClassRef values of which the SAML response must hold one.
      - One value per item; an item with a comma, whitespace or a leading C(-) is refused (TSM stores the list
        joined with commas, so such an item would be staged again on every run).
    type: list
    elements: str
  ignore_domain_in_username:
    description:
      - C(wgserver.ignore_domain_in_username_for_matching). V(true) raises warning C(TSM-004) (unintended sign-in when
        user names repeat across the IdP's domains; legacy identity mode only).
    type: bool
  validate_key:
    description:
      - Check the key with the key table of seed 002 (C(SAML-010) to C(SAML-019)) before staging; V(false) only checks
        that O(key_file) holds a private key.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - trustops.tableau.tsm
attributes:
  check_mode:
    support: full
    details: Reads the configuration (and the pending list when it would enable SAML); stages nothing.
  diff_mode:
    support: full
    details: The managed fields and keys, applied and desired; files as path and fingerprint; secrets masked.
  platform:
    platforms: [posix]
requirements:
  - cryptography on the node, for the certificate and key checks and fingerprints
seealso:
  - module: trustops.tableau.tsm_pending_changes
  - module: trustops.tableau.tsm_mutual_ssl
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Server-wide SAML
  trustops.tableau.tsm_saml:
    idp_entity_id: https://tableau.example.com
    return_url: https://tableau.example.com
    idp_metadata_file: /var/opt/trustops/saml/idp-metadata-3f2a9c.xml
    cert_file: /var/opt/trustops/saml/sp-8c1d22.crt
    key_file: /var/opt/trustops/saml/sp-8c1d22.key
    key_passphrase: "{{ vault_saml_key_passphrase }}"
    user_name_attribute: username
    min_rsa_key_size: 2048
    tsm_user: tableau
  notify: Apply pending TSM changes

- name: Turn SAML off, keep its configuration
  trustops.tableau.tsm_saml:
    state: disabled
  notify: Apply pending TSM changes
"""

RETURN = r"""
changes:
  description: The fields and keys that differ (applied value, desired value; files as path and fingerprint; secrets masked).
  returned: always
  type: list
  elements: dict
  sample: [{name: samlSettings.enabled, before: "false", after: "true"}]
staged:
  description: The staging calls that ran, in order (empty in check mode or when converged).
  returned: always
  type: list
  elements: str
  sample: ["authentication saml configure (cert_file, key_file)", "authentication saml enable"]
findings:
  description:
    - Findings C(TSM-001), C(TSM-004), C(TSM-005) and the C(SAML-NNN) findings of the SAML checks; any error refuses the
      task before anything is staged.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Finding code.
      type: str
      sample: SAML-016
    severity:
      description: C(info), C(warning) or C(error).
      type: str
    message:
      description: What was found.
      type: str
    remedy:
      description: How to fix it.
      type: str
    data:
      description: Details.
      type: dict
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
from ansible_collections.trustops.tableau.plugins.module_utils._tsm_module import configure, desired, policy_options
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import plans
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import argument_spec

OPTIONS = dict(
    state=dict(type="str", default="enabled", choices=["enabled", "disabled", "configured"]),
    idp_entity_id=dict(type="str"),
    return_url=dict(type="str"),
    idp_metadata_file=dict(type="path"),
    cert_file=dict(type="path"),
    key_file=dict(type="path", no_log=False),
    key_passphrase=dict(type="str", no_log=True),
    max_auth_age=dict(type="int"),
    desktop_access=dict(type="bool"),
    mobile_access=dict(type="bool"),
    signout=dict(type="bool"),
    signout_url=dict(type="str"),
    user_name_attribute=dict(type="str"),
    domain_attribute=dict(type="str"),
    authcontexts=dict(type="list", elements="str"),
    ignore_domain_in_username=dict(type="bool"),
    validate_key=dict(type="bool", default=True),
    **policy_options(),
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True)
    params = module.params
    configure(module, "SAML", plans.plan_saml, desired(params, OPTIONS, skip=["validate_key"]), pending=True,
              check_key=params["validate_key"])


if __name__ == "__main__":
    main()
