#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: saml_keypair_check
short_description: Check a Tableau Server SAML certificate and key against Tableau's requirements
version_added: 0.1.0
description:
  - Checks the certificate and private key that Tableau Server signs its SAML requests with,
    before they are given to C(tsm authentication saml configure), against every checkable
    sentence of Tableau's "SAML Requirements" page. Each problem is a finding C(SAML-0NN) with
    a remedy and, where Tableau has one, the TSM key that relaxes the rule; all of them are
    returned, not only the first. Each code is explained in R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.saml).
  - "Certificate: a PEM-encoded X.509 file with a C(.crt) extension holding only that certificate
    (no chain, no key); signature digest not blocklisted; RSA of at least O(min_rsa_key_size)
    bits; valid now, with a warning O(expiry_warn_days) before it expires."
  - "Key: RSA or DSA with a C(.key) extension; PKCS#1 or PKCS#8. Tableau's support table:
    encrypted PKCS#8 RSA is supported for server-wide SAML only; PKCS#8 with no or an empty
    password is not supported; unencrypted PKCS#1 RSA is supported; a password-protected PKCS#1
    key (RSA or DSA) is not supported. Password-protected keys are not supported for site SAML
    (O(scope=site)). The key must belong to the certificate; a wrong passphrase is a finding."
  - "Reads only; never changes anything. Runs where the task runs; use C(delegate_to: localhost)
    for files on the controller. The role C(trustops.tableau.saml) runs it on the controller
    before any change."
options:
  cert_src:
    description:
      - Path of the SAML certificate file. The C(.crt) extension rule applies to this name.
      - Read through the collection's one input reader, capped at 1 MiB (R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a
        larger file, an empty file or a directory fails the task before anything is read.
      - Mutually exclusive with O(cert_content).
    type: path
  cert_content:
    description:
      - The certificate as text, instead of O(cert_src). The extension rule is not applied. Same
        cap as O(cert_src).
    type: str
  key_src:
    description:
      - Path of the SAML private key file. The C(.key) extension rule applies to this name.
      - Read through the collection's one input reader, capped at 64 KiB (R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)).
      - The remedies of the key findings are commands for the key type at hand (RSA, DSA; other
        types must be replaced), listed in the finding's C(data.commands).
      - Mutually exclusive with O(key_content).
    type: path
  key_content:
    description:
      - The private key as text, instead of O(key_src). The extension rule is not applied. Same
        cap as O(key_src).
    type: str
  passphrase:
    description:
      - Passphrase of an encrypted key. Needed to check that the key belongs to the certificate.
    type: str
  scope:
    description:
      - V(server) for server-wide SAML, V(site) for site-specific SAML (no password-protected keys).
    type: str
    choices: [server, site]
    default: server
  expiry_warn_days:
    description:
      - Warn (C(SAML-009)) when the certificate expires within this many days.
    type: int
    default: 30
extends_documentation_fragment:
  - trustops.tableau.policy
  - trustops.tableau.saml_policy
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing about what it does.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Requires the python C(cryptography) library where the module runs (Debian 12's
    C(python3-cryptography) 38 is enough).
  - At least one of O(cert_src), O(cert_content), O(key_src), O(key_content) is required.
seealso:
  - module: trustops.tableau.saml_metadata_check
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Check the SAML certificate and key on the controller before configuring TSM
  trustops.tableau.saml_keypair_check:
    cert_src: files/saml/tableau-saml.crt
    key_src: files/saml/tableau-saml.key
    passphrase: "{{ vault_saml_key_passphrase }}"
  delegate_to: localhost
  run_once: true

- name: Site SAML needs an unencrypted PKCS#1 key
  trustops.tableau.saml_keypair_check:
    cert_content: "{{ saml_cert_pem }}"
    key_content: "{{ saml_key_pem }}"
    scope: site

- name: Report only, never fail (e.g. to print the findings)
  trustops.tableau.saml_keypair_check:
    cert_src: /var/opt/tableau/saml/saml.crt
    key_src: /var/opt/tableau/saml/saml.key
    fail_on: never
  register: saml_pair

- name: Mirror a server where SHA-1 certificates were allowed with TSM
  trustops.tableau.saml_keypair_check:
    cert_src: files/saml/legacy.crt
    key_src: files/saml/legacy.key
    blocklisted_digests: []
"""

RETURN = r"""
findings:
  description: Every finding, certificate first, then key.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: C(SAML-0NN), see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.saml).
      type: str
      sample: SAML-016
    severity:
      description: V(info), V(warning) or V(error).
      type: str
      sample: error
    message:
      description: What is wrong.
      type: str
      sample: "saml.key: PKCS#8 key has no password; Tableau Server does not support a PKCS#8 key file with no or a null password"
    remedy:
      description: What to do, and the TSM key that relaxes the rule where there is one.
      type: str
    data:
      description: >-
        The values in the message, and C(tsm_key) where a TSM key relaxes the rule. The key
        findings C(SAML-012) to C(SAML-017) carry C(commands), the exact commands of the remedy
        (empty when the key type must be replaced).
      type: dict
ok:
  description: True when no finding is an error.
  returned: always
  type: bool
certificate:
  description: Facts about the certificate, or null when none was given or it could not be read.
  returned: always
  type: dict
  contains:
    subject:
      description: RFC 4514 subject.
      type: str
    issuer:
      description: RFC 4514 issuer.
      type: str
    sha256:
      description: SHA-256 fingerprint, colon separated.
      type: str
    sha1:
      description: SHA-1 fingerprint, colon separated.
      type: str
    key_type:
      description: V(RSA), V(DSA), V(EC), V(Ed25519).
      type: str
    key_size:
      description: Key size in bits.
      type: int
    curve:
      description: Curve name of an EC key, else null.
      type: str
    signature_hash:
      description: Digest of the certificate's signature (V(sha256), V(sha1), ...).
      type: str
    not_after:
      description: End of validity (ISO 8601, UTC).
      type: str
    days_left:
      description: Whole days until it expires (negative when expired).
      type: int
    expired:
      description: Whether it has expired.
      type: bool
    certificates_in_file:
      description: How many certificates the file holds.
      type: int
  sample:
    subject: CN=tableau.example.com
    sha256: "6B:86:B2:73:..."
    key_type: RSA
    key_size: 2048
key:
  description: Facts about the key, or null when none was given or it could not be read.
  returned: always
  type: dict
  contains:
    format:
      description: V(pkcs1), V(pkcs8), V(sec1) or V(openssh).
      type: str
    encrypted:
      description: Whether the key file is password protected.
      type: bool
    key_type:
      description: V(RSA), V(DSA), V(EC), ...; null when the key could not be decrypted.
      type: str
    key_size:
      description: Key size in bits; null when the key could not be decrypted.
      type: int
    curve:
      description: Curve of an EC key.
      type: str
    matches_certificate:
      description: Whether the key belongs to the certificate; null when not both could be read.
      type: bool
    passphrase_given:
      description: Whether a non-empty passphrase was given.
      type: bool
  sample:
    format: pkcs1
    encrypted: false
    key_type: RSA
    key_size: 2048
    matches_certificate: true
scope:
  description: The O(scope) checked against.
  returned: always
  type: str
  sample: server
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils._module import finish, read_input
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    TrustopsError,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import (
    POLICY_ARGUMENT_SPEC,
    Policy,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.sp import check_keypair


def main():
    argument_spec = dict(
        cert_src=dict(type="path"),
        cert_content=dict(type="str"),
        key_src=dict(type="path"),
        key_content=dict(type="str", no_log=True),
        passphrase=dict(type="str", no_log=True),
        scope=dict(type="str", choices=["server", "site"], default="server"),
        expiry_warn_days=dict(type="int", default=30),
    )
    argument_spec.update(POLICY_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["cert_src", "cert_content"], ["key_src", "key_content"]],
        required_one_of=[["cert_src", "cert_content", "key_src", "key_content"]],
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    try:
        policy = Policy.from_params(p)
    except TrustopsError as exc:
        module.fail_json(msg=str(exc))
    cert_data, cert_source = read_input(module, "cert_src", "cert_content", max_bytes=reader.MAX_CERTIFICATE)
    key_data, key_source = read_input(module, "key_src", "key_content", max_bytes=reader.MAX_KEY)
    try:
        findings, facts = check_keypair(
            cert_data, key_data, passphrase=p["passphrase"], scope=p["scope"], policy=policy,
            cert_source=cert_source or "cert_content", key_source=key_source or "key_content",
            cert_filename=p["cert_src"], key_filename=p["key_src"],
            expiry_warn_days=p["expiry_warn_days"])
    except TrustopsError as exc:
        module.fail_json(msg=str(exc))
    out = dict(certificate=facts["certificate"], key=facts["key"], scope=p["scope"])
    finish(module, findings, out, "SAML certificate/key", p["fail_on"])


if __name__ == "__main__":
    main()
