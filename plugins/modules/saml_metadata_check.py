#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: saml_metadata_check
short_description: Check IdP and SP SAML metadata and the SAML URLs against Tableau Server's requirements
version_added: 0.1.0
description:
  - Checks the identity provider's metadata XML before it is imported into Tableau Server, and
    optionally Tableau Server's own SP metadata and the URLs configured on the IdP, against the
    checkable sentences of Tableau's "SAML Requirements" page. Every problem is a finding
    C(SAML-0NN) (see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.saml)); all are returned, not only the first.
  - "IdP metadata: one IdP entity (several C(EntityDescriptor)s or C(IDPSSODescriptor)s are
    reported, never merged; O(entity_id) picks one); an C(entityID); SAML 2.0; a
    C(SingleSignOnService) with the HTTP-POST or HTTP-Redirect binding and a usable Location
    (SOAP or Artifact only is an error); a C(SingleLogoutService) (warning when absent: no
    single logout); signing certificates with RSA of at least O(min_rsa_key_size) bits or EC of
    at least O(min_ec_key_size) bits, signed with a digest that is not blocklisted; a signature
    of the metadata that does not use a blocklisted algorithm and, when O(trusted_signer_src) or
    O(trusted_signer_content) is given, verifies with it and covers the very element the
    facts are read from (signature wrapping is refused)."
  - "SP side: the AssertionConsumerService URL must be exactly
    C(https://<server_host>/wg/saml/SSO/index.html) (case-sensitive; the differing characters
    are reported), for site SAML C(https://<server_host>/samlservice/public/sp/metadata?alias=<site_alias>);
    the logout URL C(https://<server_host>/wg/saml/SingleLogout/index.html); the return URL has
    no trailing slash and is not localhost."
  - "XML is read with a hardened parser: a document with a DOCTYPE (XXE, entity expansion,
    external DTDs), more than O(max_bytes) bytes, or an encoding other than UTF-8/UTF-16 is
    refused and the task fails; nothing is ever fetched from disk or network while parsing."
  - Reads only; never changes anything. The role C(trustops.tableau.saml) runs it on the
    controller before any change.
options:
  src:
    description:
      - Path of the IdP metadata XML file where the module runs. Mutually exclusive with O(content).
    type: path
  content:
    description:
      - The IdP metadata XML as text, instead of O(src).
    type: str
  entity_id:
    description:
      - The C(entityID) of the IdP to check when the metadata holds several entities.
    type: str
  trusted_signer_src:
    description:
      - Path of a PEM/DER certificate (or several, PEM) trusted to sign the IdP metadata. When
        given, the metadata must carry a valid signature by one of them (C(SAML-040), C(SAML-041),
        C(SAML-043)), and everything is read from the element that was verified.
      - A signer is trusted for its key, as the SAML V2.0 Metadata Interoperability Profile says;
        a valid signature by a signer whose certificate has expired verifies, with warning
        C(SAML-045).
      - Read through the collection's one input reader, capped at 1 MiB (R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)).
    type: path
  trusted_signer_content:
    description:
      - The trusted signer certificate(s) as PEM text, instead of O(trusted_signer_src).
    type: str
  sp_src:
    description:
      - Path of Tableau Server's SP metadata (C(tsm authentication saml export-metadata)).
    type: path
  sp_content:
    description:
      - The SP metadata XML as text, instead of O(sp_src).
    type: str
  server_host:
    description:
      - The host name (and C(:port) if not 443) users reach Tableau Server at, e.g.
        C(tableau.example.com). Needed to compare URLs with the ones Tableau expects.
    type: str
  scope:
    description:
      - V(server) for server-wide SAML, V(site) for site-specific SAML.
    type: str
    choices: [server, site]
    default: server
  site_alias:
    description:
      - The site's URL name, for O(scope=site).
    type: str
  acs_url:
    description:
      - The AssertionConsumerService (SAML login) URL configured on the IdP for Tableau, compared
        case-sensitively with the one Tableau expects for O(server_host).
    type: str
  slo_url:
    description:
      - The logout URL configured on the IdP for Tableau, compared with
        C(https://<server_host>/wg/saml/SingleLogout/index.html).
    type: str
  return_url:
    description:
      - The return URL given to C(tsm authentication saml configure --return-url).
    type: str
  max_bytes:
    description:
      - Largest metadata document accepted, in bytes, for O(src)/O(content) and
        O(sp_src)/O(sp_content); the files are read through the collection's one input reader,
        which refuses a larger file before reading it.
      - At most 2000000, the collection's cap for XML inputs (R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a smaller
        value lowers it, a larger one fails the task.
    type: int
    default: 2000000
extends_documentation_fragment:
  - trustops.tableau.policy
  - trustops.tableau.saml_policy
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - trustops.tableau.in_process
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing about what it does.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - "Requires the python C(lxml) library where the module runs, and C(signxml) when a trusted
    signer is given. Run it on the controller (C(delegate_to: localhost)) where these are
    installed; Debian 12 hosts do not have them by default."
  - At least one of O(src), O(content), O(sp_src), O(sp_content), O(acs_url), O(slo_url),
    O(return_url) is required.
seealso:
  - module: trustops.tableau.saml_keypair_check
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Check the IdP metadata on the controller before importing it
  trustops.tableau.saml_metadata_check:
    src: files/saml/idp-metadata.xml
    server_host: tableau.example.com
    return_url: https://tableau.example.com
  delegate_to: localhost
  run_once: true

- name: Require a valid signature by the federation's metadata signing certificate
  trustops.tableau.saml_metadata_check:
    src: files/saml/federation.xml
    entity_id: https://idp.example.com/idp
    trusted_signer_src: files/saml/federation-signer.crt
  delegate_to: localhost

- name: Compare the URLs the IdP team configured with what Tableau expects
  trustops.tableau.saml_metadata_check:
    server_host: tableau.example.com
    acs_url: https://tableau.example.com/wg/saml/sso/index.html
    sp_src: files/saml/tableau-sp-metadata.xml
    fail_on: never
  register: saml_urls
  delegate_to: localhost
"""

RETURN = r"""
findings:
  description: Every finding (IdP metadata, SP metadata, URLs, in that order).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: C(SAML-0NN), see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.saml).
      type: str
      sample: SAML-050
    severity:
      description: V(info), V(warning) or V(error).
      type: str
      sample: error
    message:
      description: What is wrong.
      type: str
      sample: >-
        IdP configuration: the AssertionConsumerService URL is
        'https://tableau.example.com/wg/saml/sso/index.html', expected
        'https://tableau.example.com/wg/saml/SSO/index.html': at 38: 'SSO' expected, 'sso' found
        (differs in case only)
    remedy:
      description: What to do, and the TSM key that relaxes the rule where there is one.
      type: str
    data:
      description: The values in the message, and C(tsm_key) where a TSM key relaxes the rule.
      type: dict
ok:
  description: True when no finding is an error.
  returned: always
  type: bool
entity_id:
  description: The entityID of the IdP checked, or null.
  returned: always
  type: str
  sample: https://idp.example.com/idp
bindings:
  description: The bindings of the IdP's SingleSignOnService endpoints.
  returned: always
  type: list
  elements: str
  sample: [HTTP-POST, HTTP-Redirect]
idp:
  description: Facts about the IdP metadata; null when no IdP metadata was given.
  returned: always
  type: dict
  contains:
    entity_id:
      description: The entityID checked.
      type: str
    entity_ids:
      description: The entityIDs of every IdP entity in the file.
      type: list
      elements: str
    sso_services:
      description: SingleSignOnService endpoints (C(binding), C(location)).
      type: list
      elements: dict
    slo_services:
      description: SingleLogoutService endpoints (C(binding), C(location)).
      type: list
      elements: dict
    bindings:
      description: SSO bindings offered.
      type: list
      elements: str
    signing_certificates:
      description: Facts of each signing certificate (C(subject), C(sha256), C(sha1), C(key_type),
        C(key_size), C(curve), C(signature_hash), C(not_after), C(days_left), C(expired)).
      type: list
      elements: dict
    signed:
      description: Whether the metadata (or the IdP entity) carries a signature.
      type: bool
    signature_verified:
      description: True/false when a trusted signer was given, else null.
      type: bool
    signature:
      description: C(algorithm), C(digests), C(references) of the signature, C(signer_sha256) once verified.
      type: dict
    valid_until:
      description: The metadata's validUntil (ISO 8601), or null.
      type: str
    want_authn_requests_signed:
      description: The IdP's WantAuthnRequestsSigned.
      type: bool
sp:
  description: Facts about the SP metadata (C(sp_entity_id), C(acs_services), C(sp_slo_services)); null when none was given.
  returned: always
  type: dict
urls:
  description: C(expected_acs_url) and C(expected_slo_url) for O(server_host), when it is given.
  returned: always
  type: dict
  sample:
    expected_acs_url: https://tableau.example.com/wg/saml/SSO/index.html
    expected_slo_url: https://tableau.example.com/wg/saml/SingleLogout/index.html
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils._module import end
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.task import METADATA, run_metadata


def main():
    # the options and the whole check are in module_utils/saml/task.py, shared with the action
    # plugin of the same name that runs it in the controller's worker
    module = AnsibleModule(supports_check_mode=True, **METADATA)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    end(module, run_metadata(module.params))


if __name__ == "__main__":
    main()
