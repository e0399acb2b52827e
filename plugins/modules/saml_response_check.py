#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: saml_response_check
short_description: Check a SAML Response from the IdP against Tableau Server's requirements
version_added: 0.1.0
description:
  - Checks one SAML Response (or a bare Assertion) as the IdP posts it to Tableau Server, for
    example captured from a browser trace, against the checkable sentences of Tableau's "SAML
    Requirements" page. Every problem is a finding C(SAML-1NN) (documented in
    R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.saml)); all are returned, not only the first.
  - "Input: the XML, the base64 C(SAMLResponse) form value as a browser trace shows it, the
    whole form body (C(SAMLResponse=...&RelayState=...), URL-encoded or not) or the deflated
    HTTP-Redirect value; the form is detected and decoded (RV(input_format))."
  - "Checks: UTF-8 encoding; the IdP status; a C(username) attribute (or O(username_attribute))
    in the AttributeStatement, typed C(xs:string) (not C(xs:any)/C(xs:anyType), not untyped);
    signature and digest algorithms not in O(blocklisted_digests); the signature valid against
    the IdP's signing certificates from O(idp_metadata_src)/O(idp_metadata_content) or
    O(idp_cert_src)/O(idp_cert_content), with the key sizes of O(min_rsa_key_size) and
    O(min_ec_key_size); the AuthnContextClassRef in O(authcontexts) when set; a bearer
    SubjectConfirmation with SubjectConfirmationData carrying Recipient and NotOnOrAfter (SAML
    2.0 profiles 4.1.4.2, whatever O(acs_url)) whose Recipient (and the Response Destination) is
    exactly O(acs_url);
    the audience O(sp_entity_id); the issuer is the metadata's entityID; encrypted assertions
    by O(scope); dynamic group claims (C(https://tableau.com/groups)) are listed."
  - Signature wrapping is refused. The attributes are read only from the element a verified
    signature covers (proven equal to what signxml verified), and when the assertion a plain
    reader takes (the first Assertion of the Response) is not that element, finding C(SAML-124)
    says where the signed element really is.
  - XML is read with the collection's hardened parser (no DTD, no entities, no network, size
    limit O(max_bytes)); hostile or malformed XML fails the task with a clear message.
  - Reads only; never changes anything.
options:
  src:
    description:
      - Path of the captured response where the module runs (XML, base64 or form body).
        Mutually exclusive with O(content).
    type: path
  content:
    description:
      - The captured response as text (XML, base64 or form body), instead of O(src).
    type: str
  idp_metadata_src:
    description:
      - Path of the IdP metadata XML; its signing certificates (C(KeyDescriptor) with C(use)
        C(signing) or no C(use)) verify the response, and its entityID must be the issuer.
    type: path
  idp_metadata_content:
    description:
      - The IdP metadata XML as text, instead of O(idp_metadata_src).
    type: str
  idp_cert_src:
    description:
      - Path of the IdP signing certificate(s) (PEM, DER or PKCS#7), trusted in addition to the
        metadata's. Read through the collection's one input reader, capped at 1 MiB
        (R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)).
    type: path
  idp_cert_content:
    description:
      - The IdP signing certificate(s) as PEM text, instead of O(idp_cert_src).
    type: str
  username_attribute:
    description:
      - Name of the attribute that carries the user name, as set with
        C(tsm authentication saml map-assertions --user-name). Case-sensitive.
    type: str
    default: username
  acs_url:
    description:
      - Tableau Server's AssertionConsumerService URL, e.g.
        C(https://tableau.example.com/wg/saml/SSO/index.html). When given, the bearer
        SubjectConfirmation's Recipient and the Response's Destination must be exactly this
        (case-sensitive; differing characters are reported).
    type: str
  sp_entity_id:
    description:
      - Tableau Server's SP entity ID; when given the assertion's audience must include it.
    type: str
  authcontexts:
    description:
      - The allowed AuthnContextClassRef values, as set in the TSM key
        C(wgserver.saml.authcontexts) (a list, or one comma-separated string). Empty means any.
    type: list
    elements: str
  scope:
    description:
      - V(server) for server-wide SAML (encrypted assertions supported, O(authcontexts)
        evaluated) or V(site) for site-specific SAML (encrypted assertions not supported,
        O(authcontexts) ignored).
    type: str
    choices: [server, site]
    default: server
  max_bytes:
    description:
      - Largest document accepted, in bytes; checked before parsing (and before inflating).
        O(src)/O(content) and O(idp_metadata_src)/O(idp_metadata_content) are read through the
        collection's one input reader with this cap (a base64 or form capture counts its encoded
        size), which refuses a larger file before reading it.
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
  - "Requires the python libraries C(lxml), C(cryptography) and, to verify signatures,
    C(signxml) where the module runs. Run it on the controller (C(delegate_to: localhost))
    where these are installed; Debian 12 hosts lack signxml. Without signxml the response is
    still checked and finding C(SAML-125) says the signature was not verified."
  - Encrypted assertions cannot be decrypted here (that needs Tableau's SP key); their
    attributes are not checked.
  - A captured response has usually expired (C(SAML-145), info); that is expected.
seealso:
  - module: trustops.tableau.saml_metadata_check
  - module: trustops.tableau.saml_keypair_check
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Check a SAMLResponse value copied from the browser's developer tools
  trustops.tableau.saml_response_check:
    src: files/saml/captured-response.txt
    idp_metadata_src: files/saml/idp-metadata.xml
    acs_url: https://tableau.example.com/wg/saml/SSO/index.html
    sp_entity_id: https://tableau.example.com
  delegate_to: localhost
  run_once: true

- name: Report only, with a mapped user name attribute and an allowed authentication context
  trustops.tableau.saml_response_check:
    content: "{{ lookup('ansible.builtin.file', 'files/saml/response.xml') }}"
    idp_cert_src: files/saml/idp-signing.crt
    username_attribute: email
    authcontexts: urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport
    fail_on: never
  register: saml_response
  delegate_to: localhost

- name: Show who would sign in
  ansible.builtin.debug:
    msg: "{{ saml_response.username }} in {{ saml_response.groups }}"
"""

RETURN = r"""
findings:
  description: Every finding, in check order.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: C(SAML-1NN), see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.saml).
      type: str
      sample: SAML-111
    severity:
      description: V(info), V(warning) or V(error).
      type: str
      sample: error
    message:
      description: What is wrong.
      type: str
      sample: the 'username' attribute value is typed xs:anyType, not xs:string
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
input_format:
  description: How the input was given, V(xml), V(base64), V(form) or V(deflate-base64).
  returned: always
  type: str
  sample: base64
encoding:
  description: The document's character encoding (C(utf-8) is the only one Tableau accepts); null when undecodable.
  returned: always
  type: str
  sample: utf-8
root:
  description: V(Response) or V(Assertion); null when the document could not be decoded.
  returned: always
  type: str
status:
  description: The Response's top-level StatusCode.
  returned: always
  type: str
  sample: urn:oasis:names:tc:SAML:2.0:status:Success
response_id:
  description: The Response's ID.
  returned: always
  type: str
destination:
  description: The Response's Destination.
  returned: always
  type: str
in_response_to:
  description: The Response's InResponseTo (absent for IdP-initiated sign-ins).
  returned: always
  type: str
issuer:
  description: The issuer (the Response's, else the assertion's).
  returned: always
  type: str
  sample: https://idp.example.com/idp
idp_entity_id:
  description: The entityID of the IdP metadata used, or null.
  returned: always
  type: str
assertion_id:
  description: The ID of the assertion the facts are read from.
  returned: always
  type: str
assertion_count:
  description: How many plain assertions the Response carries.
  returned: always
  type: int
encrypted:
  description: Whether the Response carries an EncryptedAssertion.
  returned: always
  type: bool
read_from:
  description: >-
    V(signed-element) when the facts come from the element a verified signature covers,
    V(unverified) when no signature could vouch for them (then do not trust them).
  returned: always
  type: str
name_id:
  description: The Subject's NameID.
  returned: always
  type: str
  sample: alice@example.com
name_id_format:
  description: The NameID Format.
  returned: always
  type: str
username:
  description: The first value of the user name attribute, or null.
  returned: always
  type: str
  sample: alice@example.com
username_type:
  description: The xsi:type of that value as written, or null when untyped.
  returned: always
  type: str
  sample: xs:string
attributes:
  description: Every attribute of the AttributeStatement, name -> list of values.
  returned: always
  type: dict
  sample: {"username": ["alice@example.com"], "https://tableau.com/groups": ["Sales"]}
groups:
  description: The values of the dynamic group claim C(https://tableau.com/groups).
  returned: always
  type: list
  elements: str
  sample: [Sales, Finance]
signatures:
  description: >-
    Each ds:Signature enveloped in the Response or an Assertion: C(element) (response|assertion),
    C(id), C(path), C(algorithm), C(algorithm_uri), C(digest), C(digest_uri), C(references),
    C(valid), C(trusted) (verified with an IdP certificate), C(reason), C(covers) (the ID
    verified), C(certificate_sha256), C(embedded_certificate_sha256).
  returned: always
  type: list
  elements: dict
signed_element:
  description: V(response), V(assertion) or V(both) when the element read is covered by a verified signature, else null.
  returned: always
  type: str
  sample: assertion
signature_verified:
  description: True when the element read is covered by a signature verified with an IdP certificate and nothing is wrapped.
  returned: always
  type: bool
signature_algorithm:
  description: The signature method (RSA-SHA256, ECDSA-SHA256, RSA-SHA1, ...) of the main signature.
  returned: always
  type: str
  sample: RSA-SHA256
signature_digest:
  description: Its reference digest (sha256, sha1, ...).
  returned: always
  type: str
  sample: sha256
signing_certificate:
  description: C(subject), C(sha256), C(not_after), C(days_left), C(key_type), C(key_size), C(curve) of the signer.
  returned: always
  type: dict
authn_contexts:
  description: The AuthnContextClassRef values of the assertion.
  returned: always
  type: list
  elements: str
subject_confirmations:
  description: >-
    C(method), C(has_data) (whether it has a SubjectConfirmationData), C(recipient),
    C(not_on_or_after), C(in_response_to) of each SubjectConfirmation.
  returned: always
  type: list
  elements: dict
audiences:
  description: The Audience values of the Conditions.
  returned: always
  type: list
  elements: str
not_before:
  description: The Conditions' NotBefore as written.
  returned: always
  type: str
not_on_or_after:
  description: The Conditions' NotOnOrAfter as written.
  returned: always
  type: str
  sample: "2026-11-25T15:42:16Z"
relay_state:
  description: The RelayState of a form body input, else null.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils._module import end
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.task import RESPONSE, run_response


def main():
    # the options and the whole check are in module_utils/saml/task.py, shared with the action
    # plugin of the same name that runs it in the controller's worker
    module = AnsibleModule(supports_check_mode=True, **RESPONSE)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    end(module, run_response(module.params))


if __name__ == "__main__":
    main()
