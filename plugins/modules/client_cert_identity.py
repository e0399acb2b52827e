#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
---
module: client_cert_identity
short_description: Predict which Tableau user each client certificate becomes under mutual SSL, and find ambiguity
version_added: 0.1.0
description:
  - Reads client certificates and tells, for each, the Tableau Server user it maps to with mutual
    (two-way) SSL, following Tableau's rules for the user-name mapping V(ldap), V(upn) or V(cn).
  - "V(upn): the user principal name (subjectAltName otherName C(1.3.6.1.4.1.311.20.2.3), a
    UTF8String). V(cn): the subject common name. V(ldap): Active Directory maps the certificate to
    an account and ignores the names in it, so the user cannot be predicted from the certificate
    (finding C(SSL-016))."
  - "With O(identity_store=ad) the name is C(username), C(domain/username) or C(username@domain);
    a name without a domain falls into the default domain. In an organisation with several domains
    this can give one user another user's identity: the audit reports such names (C(SSL-007)),
    certificates from different domains that map to the same user (C(SSL-010)), and certificates
    whose own UPN, DC components or e-mail name another domain than the one they map into
    (C(SSL-011))."
  - With O(identity_store=local) the name is taken as it is and must equal a user name on the server.
  - Also reports empty or ambiguous mapping fields, names in undocumented formats, unknown users
    (with O(known_users) or O(known_users_file)), expired or not yet valid certificates, certificates
    not issued by O(client_ca), key usages that make TLS servers refuse the certificate, and broken
    input (a key instead of a certificate, truncated DER, malformed UPN encodings) as findings
    C(SSL-0NN), documented in R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.ssl). Unreadable files do not stop
    the audit of the others.
  - Read-only; never reports changed.
author:
  - trustops maintainers (@trustops)
requirements:
  - cryptography on the host that runs the module (tested with 38, as in Debian 12, and 50)
options:
  certs:
    description:
      - Client certificates. Each entry is PEM content (holds C(-----BEGIN)), a glob pattern (holds
        C(*), C(?) or C([); sorted matches, directories skipped) or a path. Files are PEM (one or many
        certificates), DER or PKCS#7, on the host that runs the module.
      - The same certificate found twice is audited once and lists every source.
      - Each file and each PEM content is read through the collection's one input reader with the
        certificate cap (1 MiB per file, see R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)). A missing, unreadable, empty or
        larger file, or a directory, is finding C(SSL-001) and counted in C(unreadable) of RV(counts); a
        pattern that matches nothing is C(SSL-020) and counted in C(unmatched_patterns) of RV(counts).
      - When no entry yields a certificate, nothing was audited and the audit says so (C(SSL-021), a
        warning), rather than passing silently.
    type: list
    elements: str
    required: true
  identity_store:
    description:
      - The identity store of Tableau Server, V(ad) (Active Directory) or V(local).
    type: str
    choices: [ad, local]
    required: true
  mapping:
    description:
      - The user-name mapping (C(tsm authentication mutual-ssl configure -m)).
      - Default is what Tableau Server sets at installation, V(ldap) for O(identity_store=ad) and
        V(upn) for O(identity_store=local).
    type: str
    choices: [ldap, upn, cn]
  default_domain:
    description:
      - The Active Directory domain into which Tableau Server puts names without a domain, for example
        V(example.org). Ignored for O(identity_store=local).
      - Without it, names without a domain cannot be resolved to a user (C(SSL-009)).
    type: str
  domains:
    description:
      - The organisation's Active Directory domains. More than one makes names without a domain an
        error (C(SSL-007)).
      - Default is the domains in play in the audit, O(default_domain), the domains of the UPNs and
        mapped names and those of the known users.
    type: list
    elements: str
  known_users:
    description:
      - User names that exist on the server, as C(username), C(username@domain), C(domain/username) or
        C(DOMAIN\\username) (AD) or as they are (local). Certificates that map to another user are
        errors (C(SSL-012)).
    type: list
    elements: str
  known_users_file:
    description:
      - A CSV or JSON file of users on the server, added to O(known_users).
      - Read with the table cap (16 MiB, see R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a missing,
        empty or larger file fails the task.
      - "CSV: Tableau's user import format (no header, the user name first), or a header row with a
        C(name) (or C(username)) column and an optional C(domain) column. JSON: a list of names, or of
        objects with C(name) and C(domain) (a string or C({name: ...})), also wrapped as
        C({users: {user: [...]}}) as the Tableau REST API returns it."
    type: path
  client_ca:
    description:
      - The CA certificates Tableau Server trusts for client certificates (the file given to
        C(tsm authentication mutual-ssl configure --ca-cert)), as a path or PEM content. A certificate
        not issued by one of them (signature checked, not only the name) is an error (C(SSL-015)).
      - Read with the CA bundle cap (4 MiB, see R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a file or content that is not
        certificates (a private key, garbage, a PKCS#12 archive) fails the task.
    type: str
  fail_on:
    description:
      - Fail the task when a finding reaches this severity; the result still holds every certificate
        and every finding. V(never) only reports.
      - Every finding that does not fail the task is shown as a warning (code, severity, one-line message,
        at most ten per task), so that a plain run shows it.
      - A failing task's message names each failing code once, with how many certificates have it, the
        first message and its remedy (at most five codes; the others are counted), so it stays short
        however many certificates repeat a code.
    type: str
    choices: [error, warning, never]
    default: error
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
notes:
  - The module reads files on the host that runs it. To audit certificates kept on the controller,
    delegate it to V(localhost), as the role C(trustops.tableau.mutual_ssl) does.
  - Domains compare case-insensitively and textually; a NetBIOS domain name (V(EXAMPLE/jsmith)) is
    not resolved to its DNS name.
  - When a certificate holds several CNs or several different UPNs, which one Tableau Server reads
    is not documented; the audit does not guess (C(SSL-005)).
seealso:
  - plugin: trustops.tableau.tableau_user_name
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Audit the client certificates before enabling UPN mapping with Active Directory
  trustops.tableau.client_cert_identity:
    certs:
      - /srv/pki/clients/*.pem
    identity_store: ad
    mapping: upn
    default_domain: example.org
    known_users_file: /srv/pki/tableau-users.csv
    client_ca: /srv/pki/client-ca.pem
  delegate_to: localhost
  run_once: true
  register: identity_audit

- name: Show who each certificate becomes
  ansible.builtin.debug:
    msg: "{{ identity_audit.certificates | map(attribute='mapped_name') | list }}"

- name: Report only, for a local identity store
  trustops.tableau.client_cert_identity:
    certs: "{{ lookup('ansible.builtin.fileglob', 'certs/*.crt', wantlist=True) }}"
    identity_store: local
    fail_on: never
"""

RETURN = r"""
certificates:
  description: One entry per distinct certificate, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    source:
      description: Where the certificate was found first (path, C(path#N) in a bundle, or C(certs[N]) for content).
      type: str
    sources:
      description: Every place the same certificate was found.
      type: list
      elements: str
    subject:
      description: RFC 4514 subject.
      type: str
      sample: CN=jsmith,O=Example
    issuer:
      description: RFC 4514 issuer.
      type: str
    serial_number:
      description: Serial number, upper-case hex.
      type: str
    sha256:
      description: SHA-256 fingerprint, colon separated.
      type: str
    not_before:
      description: Start of validity (ISO 8601, UTC).
      type: str
    not_after:
      description: End of validity (ISO 8601, UTC).
      type: str
    common_names:
      description: Every subject CN in DER order, including those in multi-valued RDNs.
      type: list
      elements: str
    upns:
      description: Every readable UPN (UTF8String otherName) in the subjectAltName.
      type: list
      elements: str
    emails:
      description: subjectAltName rfc822Name entries.
      type: list
      elements: str
    dns_names:
      description: subjectAltName DNS entries.
      type: list
      elements: str
    dc_domain:
      description: The domain spelled by the subject's DC components (C(DC=example,DC=org) gives V(example.org)), or null.
      type: str
    mapping_field:
      description: V(upn) or V(cn), the field the mapping reads; null for V(ldap).
      type: str
    mapping_value:
      description: The value read from that field, or null.
      type: str
    user:
      description: The user part of the name (the whole name for a local store), or null.
      type: str
    domain:
      description: The domain of the mapped user (AD), or null.
      type: str
    domain_source:
      description: V(certificate) when the name carries its domain, V(default_domain) when it falls into it, else null.
      type: str
    name_format:
      description: V(username), V(domain/username), V(username@domain) (AD) or V(local).
      type: str
    mapped_name:
      description: >-
        The Tableau user the certificate maps to, C(user@domain) for AD and the name as it is for a local store;
        null when it cannot be predicted (ldap mapping, missing, ambiguous or malformed field).
      type: str
      sample: jsmith@example.org
    predictable:
      description: Whether RV(certificates[].mapped_name) names one user for certain.
      type: bool
    other_mapping_name:
      description: The user the other field (CN under upn mapping, UPN under cn mapping) would give when it is another user, else null.
      type: str
    codes:
      description: The finding codes that concern this certificate.
      type: list
      elements: str
      sample: [SSL-007, SSL-010]
findings:
  description: Every finding; per-certificate ones name the source in the message and in C(data).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: C(SSL-0NN), documented in R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.ssl).
      type: str
      sample: SSL-007
    severity:
      description: V(info), V(warning) or V(error).
      type: str
    message:
      description: What is wrong.
      type: str
    remedy:
      description: What to do about it.
      type: str
    data:
      description: Details (source, sha256, subject, names and domains involved).
      type: dict
mapping:
  description: The mapping used (O(mapping) or its default).
  returned: always
  type: str
  sample: upn
identity_store:
  description: O(identity_store).
  returned: always
  type: str
default_domain:
  description: O(default_domain), normalised (lower case, no trailing dot), or null.
  returned: always
  type: str
domains_in_play:
  description: The domains the audit considered (O(domains), or those found).
  returned: always
  type: list
  elements: str
counts:
  description:
    - C(certificates), distinct certificates audited (the same certificate found twice counts once).
    - C(unreadable), inputs (files or contents) that yielded no certificate, each with an C(SSL-001) finding
      (missing, unreadable, a directory, empty, too large, a key, garbage).
    - C(unmatched_patterns), glob patterns in O(certs) that matched no file (C(SSL-020)).
    - C(predictable), certificates whose RV(certificates[].mapped_name) names one user for certain.
    - C(mapped_users), distinct users the predictable certificates map to.
    - C(collisions), users that certificates from different domains map to (C(SSL-010)).
  returned: always
  type: dict
  sample: {certificates: 120, unreadable: 0, unmatched_patterns: 0, predictable: 118, mapped_users: 117, collisions: 1}
ok:
  description: True when no finding is an error.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils import _module, identity
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            certs=dict(type="list", elements="str", required=True),
            identity_store=dict(type="str", choices=["ad", "local"], required=True),
            mapping=dict(type="str", choices=["ldap", "upn", "cn"]),
            default_domain=dict(type="str"),
            domains=dict(type="list", elements="str"),
            known_users=dict(type="list", elements="str"),
            known_users_file=dict(type="path"),
            client_ca=dict(type="str"),
            fail_on=dict(type="str", choices=["error", "warning", "never"], default="error"),
        ),
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    try:
        result = identity.audit_inputs(p["certs"], p["identity_store"], mapping=p["mapping"],
                                       default_domain=p["default_domain"], domains=p["domains"],
                                       known_users=p["known_users"], known_users_file=p["known_users_file"],
                                       client_ca=p["client_ca"])
    except TrustopsError as exc:
        module.fail_json(msg=str(exc))
    # finish() makes the findings' dicts: the result's own without them, so each is made once
    _module.finish(module, result.findings, result.as_dict(findings=False), "client_cert_identity", p["fail_on"])


if __name__ == "__main__":
    main()
