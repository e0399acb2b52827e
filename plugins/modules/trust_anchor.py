#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: trust_anchor
short_description: Install or remove a CA certificate in the system trust store of Linux or macOS
version_added: 0.1.0
description:
  - Makes a Linux or macOS host trust the certificate authority of a Tableau Server, so that
    Tableau Desktop, browsers, C(curl) and other clients of the host verify the server's SSL
    certificate.
  - "Debian family: writes C(/usr/local/share/ca-certificates/<name>.crt) (PEM, mode 0644) and
    runs C(update-ca-certificates), which rebuilds C(/etc/ssl/certs/ca-certificates.crt)."
  - "RHEL family: writes C(/etc/pki/ca-trust/source/anchors/<name>.crt) and runs
    C(update-ca-trust extract), which rebuilds C(/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem)."
  - "macOS: C(security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain)."
  - Idempotent by fingerprint. An anchor file of any name that holds the same certificate counts
    as present, and no second file is written. If the anchor file is there but the consolidated
    bundle lacks the certificate (the update never ran), only the update runs.
  - Before the store is read or changed, the certificate is checked against the trust-anchor
    policy shared with M(trustops.tableau.win_trust_anchor) (CA, validity, key size, signature
    digest); any C(error) finding fails the task and changes nothing, with a message naming each
    failing code, its message and its remedy. Findings that do not fail the task (a C(warning) such
    as C(ANCHOR-004), a certificate expiring soon) are shown as warnings of the task.
  - With O(state=absent), every anchor file holding the certificate is removed and the update
    runs. System CAs shipped by the distribution are never touched. Unreadable files in the
    anchors directory are skipped with a warning and never deleted.
  - If the update command fails, or the bundle does not reflect the change afterwards, the
    anchors directory is restored to what it was, the update runs once more to resynchronise
    the store, and the task fails saying so.
options:
  src:
    description:
      - Path on the managed host of a file with exactly one certificate, PEM, DER or PKCS#7.
      - Read through the collection's one input reader with the certificate cap (1 MiB, see
        R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a missing file, a directory, an empty or larger file fails the task with
        a message naming O(src), and nothing changes. O(content) has the same cap.
      - Mutually exclusive with O(content) and O(fingerprint).
    type: path
  content:
    description:
      - The certificate as PEM text, instead of O(src).
      - Mutually exclusive with O(src) and O(fingerprint).
    type: str
  fingerprint:
    description:
      - SHA-256 (64 hex digits) or SHA-1 (40 hex digits) fingerprint of the certificate to remove,
        only with O(state=absent). Colons, spaces and dashes are ignored, as is case.
      - Mutually exclusive with O(src) and O(content).
    type: str
  name:
    description:
      - Base name of the anchor file, without directory and extension (C(.crt) is added).
      - Defaults to C(trustops-<CN>-<first 16 hex digits of the SHA-256 fingerprint>), so re-runs
        and other hosts use the same name.
      - A file of this name that holds another single certificate is replaced (a CA rotation),
        with a warning. A file of this name that is not a certificate, or holds several, is left
        alone and the task fails.
      - An empty or blank name fails the task; leave O(name) out for the default.
      - Not used on macOS and with O(state=absent), where the fingerprint decides.
    type: str
  state:
    description:
      - V(present) makes the certificate a trust anchor; V(absent) removes it from the anchors.
    type: str
    choices: [present, absent]
    default: present
  platform:
    description:
      - The trust store to manage. V(auto) picks V(macos) on Darwin (with the C(security) tool),
        V(debian) where C(update-ca-certificates) and C(/etc/ca-certificates.conf) exist, and
        V(redhat) where C(update-ca-trust) and C(/etc/pki/ca-trust/source/anchors) exist.
    type: str
    choices: [auto, debian, redhat, macos]
    default: auto
  update:
    description:
      - Run the store's update command when something changed (Linux).
      - With V(false) only the anchor files change; run C(update-ca-certificates --fresh) or
        C(update-ca-trust extract) yourself, for example once in a handler after many anchors.
      - Ignored on macOS, where the keychain change is the update.
    type: bool
    default: true
extends_documentation_fragment:
  - trustops.tableau.anchor_policy
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the store and reports what would change; writes nothing and runs no command.
  diff_mode:
    support: full
    details: Lists the anchor files (path and SHA-256 of each certificate) before and after, and
      whether the bundle includes the certificate. Never PEM bodies.
  platform:
    platforms: [debian, rhel, macos]
notes:
  - Requires the Python C(cryptography) library on the managed host (Debian C(python3-cryptography),
    RHEL C(python3-cryptography)). Run with C(become) as root.
  - On macOS, setting admin trust settings needs an authorization that recent macOS versions may
    refuse to a non-interactive session (C(The authorization was denied since no user interaction
    was possible)). The module then removes the certificate it added and fails with the tool's
    message. The macOS path is not tested in this collection's CI; see R(the trust_anchor guide,ansible_collections.trustops.tableau.docsite.trust_anchor).
  - Debian removal uses C(update-ca-certificates --fresh); without it the tool leaves stale
    hash links in C(/etc/ssl/certs).
seealso:
  - module: trustops.tableau.win_trust_anchor
  - module: ansible.windows.win_certificate_store
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Trust the internal root CA that issued the Tableau Server certificate
  trustops.tableau.trust_anchor:
    src: /tmp/tableau-root-ca.crt
  become: true

- name: Trust it from PEM text on the controller, under a fixed name
  trustops.tableau.trust_anchor:
    content: "{{ lookup('ansible.builtin.file', 'files/tableau-root-ca.pem') }}"
    name: tableau-root-ca
  become: true

- name: Trust a self-signed Tableau Server certificate directly
  trustops.tableau.trust_anchor:
    content: "{{ lookup('ansible.builtin.file', 'files/tableau-selfsigned.pem') }}"
    allow_leaf: true
  become: true

- name: Stage many anchors, then update the store once
  trustops.tableau.trust_anchor:
    content: "{{ item }}"
    update: false
  loop: "{{ my_ca_pems }}"
  notify: Update the CA store
  become: true

- name: Remove a retired root by fingerprint
  trustops.tableau.trust_anchor:
    fingerprint: "6B:86:B2:73:FF:34:FC:E1:9D:6B:80:4E:FF:5A:3F:57:47:AD:A4:EA:A2:2F:1D:49:C0:1E:52:DD:B7:87:5B:4B"
    state: absent
  become: true
"""

RETURN = r"""
sha256:
  description: SHA-256 fingerprint of the certificate, colon separated, upper case.
  returned: always; null when only O(fingerprint) was given and no anchor holds it
  type: str
  sample: "6B:86:B2:73:FF:34:FC:E1:9D:6B:80:4E:FF:5A:3F:57:47:AD:A4:EA:A2:2F:1D:49:C0:1E:52:DD:B7:87:5B:4B"
sha1:
  description: SHA-1 fingerprint of the certificate, colon separated, upper case.
  returned: always; null when only O(fingerprint) was given and no anchor holds it
  type: str
  sample: "3B:1E:FD:3A:66:EA:28:B1:66:97:39:47:03:A7:2C:A3:40:A0:5B:D5"
thumbprint:
  description: SHA-1 fingerprint without separators, as Windows and macOS C(security -Z) show it.
  returned: always; null when only O(fingerprint) was given and no anchor holds it
  type: str
  sample: 3B1EFD3A66EA28B16697394703A72CA340A05BD5
subject:
  description: Subject of the certificate, RFC 4514.
  returned: always; null when only O(fingerprint) was given and no anchor holds it
  type: str
  sample: CN=Example Root CA,O=Example
not_after:
  description: End of the certificate's validity, ISO 8601 in UTC.
  returned: always; null when only O(fingerprint) was given and no anchor holds it
  type: str
  sample: "2035-01-01T00:00:00+00:00"
name:
  description: Anchor name used for a new file (O(name) or the derived default).
  returned: when O(state=present)
  type: str
  sample: trustops-example-root-ca-6b86b273ff34fce1
path:
  description:
    - The anchor file that holds the certificate (an existing file of another name when that
      already held it), or the file that would be written in check mode.
    - On macOS, the keychain path.
    - Null with O(state=absent).
  returned: always
  type: str
  sample: /usr/local/share/ca-certificates/trustops-example-root-ca-6b86b273ff34fce1.crt
removed:
  description:
    - Anchor files removed (or that would be removed in check mode). On macOS, entries
      C(<keychain>#<SHA-1>).
  returned: always
  type: list
  elements: str
  sample: [/usr/local/share/ca-certificates/old-root.crt]
store:
  description: The trust store managed.
  returned: always
  type: str
  sample: debian
bundle:
  description: The consolidated bundle checked (on macOS, the keychain).
  returned: always
  type: str
  sample: /etc/ssl/certs/ca-certificates.crt
bundle_contains:
  description:
    - Whether the consolidated bundle includes the certificate after the task (on macOS, whether
      the System keychain holds it with admin trust settings).
    - In check mode, and with O(update=false), the state as found, before any change.
  returned: always
  type: bool
  sample: true
cmd:
  description: The update command that ran, or null when none ran. On macOS the last C(security) call.
  returned: always
  type: dict
  contains:
    argv:
      description: The command line.
      type: list
      elements: str
    rc:
      description: Exit status.
      type: int
    stdout:
      description: Standard output.
      type: str
    stderr:
      description: Standard error.
      type: str
  sample: {argv: [/usr/sbin/update-ca-certificates], rc: 0, stdout: "1 added, 0 removed; done.", stderr: ""}
resync_cmd:
  description:
    - After a failed update (or a bundle that did not reflect the change), the update that ran again
      once the anchors directory was restored. Same keys as RV(cmd).
  returned: when the update failed and the anchors directory was restored
  type: dict
  sample: {argv: [/usr/sbin/update-ca-certificates, --fresh], rc: 0, stdout: "0 added, 0 removed; done.", stderr: ""}
reasons:
  description: Why the task changed (or would change) something, one line per change.
  returned: always
  type: list
  elements: str
  sample: ["write /usr/local/share/ca-certificates/tableau-root-ca.crt"]
findings:
  description:
    - Policy findings on the certificate
      (C(ANCHOR-NNN), see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.anchor)), all of them,
      also when the task fails.
    - Empty with O(state=absent); removal is never refused by policy.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Finding code.
      type: str
      sample: ANCHOR-001
    severity:
      description: C(info), C(warning) or C(error); any C(error) fails the task before anything changes.
      type: str
    message:
      description: What was found.
      type: str
    remedy:
      description: How to fix it.
      type: str
    data:
      description: Machine-readable details.
      type: dict
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils import _module
from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import from_dicts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import transaction


def _layout(store):
    """The store layout (a seam: unit tests relocate it into a temporary directory)."""
    return layouts.layout(store)


def main():
    argument_spec = anchor_policy.option_spec()
    argument_spec.update(
        src=dict(type="path"),
        content=dict(type="str"),
        fingerprint=dict(type="str"),
        name=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        platform=dict(type="str", default="auto", choices=["auto", "debian", "redhat", "macos"]),
        update=dict(type="bool", default=True),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("src", "content", "fingerprint")],
        required_one_of=[("src", "content", "fingerprint")],
        supports_check_mode=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    params = module.params
    host = transaction.Host(
        run=lambda argv, env=None: module.run_command(argv, environ_update=env),
        which=lambda name: module.get_bin_path(name, required=False, opt_dirs=list(transaction.BIN_DIRS)),
        warn=module.warn,
        atomic_move=module.atomic_move,
    )
    try:
        result = transaction.converge(
            state=params["state"], platform_name=params["platform"], src=params["src"], content=params["content"],
            fingerprint=params["fingerprint"], name=params["name"], update=params["update"], policy=params,
            check_mode=module.check_mode, diff=module._diff, host=host, layout_for=_layout)
    except transaction.TransactionError as exc:
        # a refusal's message names each failing code with its remedy; the other findings are warnings
        _module.show(module, from_dicts(exc.fields["findings"]), "error")
        module.fail_json(msg=to_native(exc), **exc.fields)
    except Exception as exc:  # pragma: no cover - a bug; report it without a raw traceback
        module.fail_json(msg=f"unexpected error: {to_native(exc)}", exception=traceback.format_exc())
    else:
        _module.show(module, from_dicts(result["findings"]), "error")  # findings that do not refuse: warnings
        module.exit_json(**result)


if __name__ == "__main__":
    main()
