#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module. The work is done on the controller by the action plugin
# plugins/action/win_trust_anchor.py, which delegates the store change to
# ansible.windows.win_certificate_store.

from __future__ import annotations

DOCUMENTATION = r"""
module: win_trust_anchor
short_description: Install or remove a CA certificate in the Windows LocalMachine Trusted Root store
version_added: 0.1.0
description:
  - "Makes Windows hosts trust the certificate authority of a Tableau Server: the fix for
    Tableau Desktop's C(Internet communication error: The certificate authority is invalid or
    incorrect) after a new SSL certificate was installed on the server."
  - This is the automated form of the vendor's manual procedure (mmc, Certificates snap-in,
    Computer account, Trusted Root Certification Authorities, Import).
  - The certificate is read and validated on the controller (exactly one certificate, then the
    trust-anchor policy shared with M(trustops.tableau.trust_anchor), that is a CA unless
    O(allow_leaf=true), valid now unless O(allow_expired=true), signature digest and key size),
    converted to DER, copied to the target's temporary directory, and
    imported by M(ansible.windows.win_certificate_store) into C(LocalMachine\Root). The
    temporary directory is removed afterwards, also when the import fails.
  - A certificate that breaks the policy is refused before any connection to the target is
    made; the task fails with the list of O(ignore:findings) so everything can be fixed in one pass.
  - Idempotence is by SHA-1 thumbprint, as in M(ansible.windows.win_certificate_store).
  - With O(state=absent) the certificate is removed by thumbprint, taken from O(src),
    O(content) or O(thumbprint). No policy applies to removal, so expired or SHA-1 anchors
    can always be removed.
options:
  src:
    description:
      - Path on the controller of the certificate file, PEM, DER or PKCS#7 (C(.crt), C(.cer),
        C(.pem), C(.p7b)) holding exactly one certificate.
      - A relative path is searched like M(ansible.builtin.copy) does (the role's or
        playbook's C(files/) directory). Vault-encrypted files are decrypted.
      - Read through the collection's one input reader with the certificate cap (1 MiB, see
        R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a directory, an empty file or a larger file fails the task on the
        controller with a message naming O(src), before any connection. O(content) has the same cap.
      - Mutually exclusive with O(content) and O(thumbprint).
    type: path
  content:
    description:
      - The certificate as PEM text (a C(CERTIFICATE) or C(PKCS7) block), instead of O(src).
      - Mutually exclusive with O(src) and O(thumbprint).
    type: str
  thumbprint:
    description:
      - SHA-1 thumbprint of the certificate to remove, only with O(state=absent).
      - Spaces, colons and dashes between the hex digits are ignored, as is case.
      - Mutually exclusive with O(src) and O(content).
    type: str
  state:
    description:
      - V(present) installs the certificate into C(LocalMachine\Root).
      - V(absent) removes it from C(LocalMachine\Root).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - trustops.tableau.anchor_policy
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Passed through to M(ansible.windows.win_certificate_store), which reports what it would change.
  diff_mode:
    support: full
    details: Shows the presence of the thumbprint in C(LocalMachine\Root) before and after.
  platform:
    platforms: windows
  vault:
    description: Can automatically decrypt Ansible vaulted files.
    support: full
    details: A vault-encrypted O(src) is decrypted on the controller.
notes:
  - Requires the C(ansible.windows) collection and the Python C(cryptography) library on the
    controller. Nothing beyond a Windows host reachable by Ansible (WinRM, PSRP or SSH) with
    rights to change C(LocalMachine\Root) (an administrator) is needed on the target.
  - Only C(LocalMachine\Root) is managed; this is the store the vendor's procedure imports to,
    and the one Tableau Desktop and browsers use for all users of the host.
seealso:
  - module: ansible.windows.win_certificate_store
  - module: ansible.windows.win_certificate_info
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Trust the CA of the Tableau Server on all Windows desktops
  trustops.tableau.win_trust_anchor:
    src: files/tableau-root-ca.crt

- name: Trust a self-signed Tableau Server certificate (as in the vendor's manual procedure)
  trustops.tableau.win_trust_anchor:
    content: "{{ lookup('ansible.builtin.file', 'tableau-selfsigned.pem') }}"
    allow_leaf: true

- name: Accept an old CA signed with SHA-1 by a parent CA (not recommended)
  trustops.tableau.win_trust_anchor:
    src: legacy-issuing-ca.cer
    blocklisted_digests: []

- name: Remove a retired root by thumbprint
  trustops.tableau.win_trust_anchor:
    thumbprint: "3B 1E FD 3A 66 EA 28 B1 66 97 39 47 03 A7 2C A3 40 A0 5B D5"
    state: absent

- name: Remove the root that a file holds
  trustops.tableau.win_trust_anchor:
    src: files/tableau-root-ca.crt
    state: absent
"""

RETURN = r"""
thumbprint:
  description: SHA-1 thumbprint of the certificate, 40 upper-case hex digits, as Windows shows it.
  returned: always
  type: str
  sample: 3B1EFD3A66EA28B16697394703A72CA340A05BD5
sha256:
  description: SHA-256 fingerprint of the certificate, colon separated.
  returned: always; null when only O(thumbprint) was given
  type: str
  sample: "6B:86:B2:73:FF:34:FC:E1:9D:6B:80:4E:FF:5A:3F:57:47:AD:A4:EA:A2:2F:1D:49:C0:1E:52:DD:B7:87:5B:4B"
subject:
  description: Subject of the certificate, RFC 4514.
  returned: always; null when only O(thumbprint) was given
  type: str
  sample: CN=Example Root CA,O=Example
not_after:
  description: End of the certificate's validity, ISO 8601 in UTC.
  returned: always; null when only O(thumbprint) was given
  type: str
  sample: "2035-01-01T00:00:00+00:00"
store:
  description: The Windows certificate store managed.
  returned: always
  type: str
  sample: LocalMachine\Root
findings:
  description:
    - Policy findings on the certificate, all of them, also when the task fails.
    - Empty for O(state=absent).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Finding code, C(ANCHOR-NNN) (see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.anchor)).
      type: str
      sample: ANCHOR-001
    severity:
      description: C(info), C(warning) or C(error); any C(error) fails the task.
      type: str
      sample: error
    message:
      description: What was found.
      type: str
    remedy:
      description: What to do about it.
      type: str
    data:
      description: Details as a dictionary.
      type: dict
store_result:
  description: The result of M(ansible.windows.win_certificate_store) when it failed.
  returned: when the Windows module failed
  type: dict
"""
