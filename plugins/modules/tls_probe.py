#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_probe
short_description: Report what Tableau Desktop and Tableau Mobile will say about a server's certificate
version_added: 0.1.0
description:
  - Connects from the target to O(host):O(port) and reads the certificate chain exactly as the
    server sends it (a minimal TLS 1.2 handshake reader; no openssl binary is used).
  - Checks it the way Tableau clients do, against the trust anchors of the target (its system
    store, or O(ca_file)) and for the exact name users type (O(host)). Each problem is a finding
    C(TLS-0NN) with a severity, a message, a remedy and the client symptom; every code is
    explained in R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.tls).
  - Also runs a real verifying handshake with Python's C(ssl) (OpenSSL) against the same trust
    anchors as an independent referee, reported as RV(verified) and RV(verify_error).
  - When the server refuses TLS 1.2 (TLS 1.3 only), the chain is read through Python's peer-chain
    interface where available (Python 3.10+), otherwise only the server's own certificate is
    known and finding C(TLS-013) says so.
  - Connection problems (name resolution, connection refused, timeout, a service that does not
    speak TLS, a server that closes the connection) fail the task with a message naming host,
    port and reason.
  - Read-only; never reports changed.
author:
  - trustops maintainers (@trustops)
requirements:
  - cryptography on the target (tested with 38, as in Debian 12, and 50)
options:
  host:
    description:
      - The server name exactly as users type it in Tableau Desktop or Tableau Mobile, for example
        the short name V(tableau) or the FQDN V(tableau.example.com). The certificate is checked
        for this name.
      - Also the address connected to, unless O(address) is given.
    type: str
    required: true
  port:
    description: TCP port of the TLS service.
    type: int
    default: 443
  address:
    description:
      - Connect to this address (IP or name) instead of resolving O(host), for example V(127.0.0.1)
        to probe the local Tableau Server under its public name.
    type: str
  server_name:
    description:
      - The TLS SNI name sent. Defaults to O(host). An empty string sends no SNI.
      - IP literals are never sent as SNI (RFC 6066).
      - The referee checks the host name only when the SNI name is O(host); the
        name match of the analysis (RV(name_matched)) always uses O(host).
    type: str
  ca_file:
    description:
      - PEM (or DER/PKCS#7) file on the target with the trust anchors to check against.
      - Read through the collection's one input reader with the CA bundle cap (4 MiB, see
        R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); a missing file, a directory, an empty file or a larger file fails the
        task with a message naming O(ca_file).
      - Default is the system trust store of the target, the first existing of the
        C(ssl.get_default_verify_paths()) bundle, C(/etc/ssl/certs/ca-certificates.crt),
        C(/etc/pki/tls/certs/ca-bundle.crt), C(/etc/ssl/ca-bundle.pem), C(/etc/ssl/cert.pem),
        else the hashed certificate directory.
      - O(ca_content) adds to these anchors.
    type: path
  ca_content:
    description:
      - PEM text of CA certificates to trust for this probe, B(in addition to) the anchors of O(ca_file)
        or of the system trust store; for example the CA a play is about to install as a trust anchor,
        so that a run in check mode reports the verdict the probe will give once that CA is installed.
      - Both the analysis and the referee (RV(verified)) trust these certificates. Read by the
        collection's one input reader with the CA bundle cap (4 MiB); an empty value, a private key or
        text without a certificate fails the task with a message naming O(ca_content).
      - On a target without a system trust store (and without O(ca_file)), these certificates are the
        only trust anchors.
    type: str
  timeout:
    description: Seconds allowed for each connection and handshake.
    type: float
    default: 10
  min_days_left:
    description: A certificate of the chain that expires in fewer days is a warning (C(TLS-008)).
    type: int
    default: 30
  fail_on:
    description:
      - Fail the task when a finding reaches this severity. V(never) only reports, which suits a
        probe whose job is to tell; use RV(ok) in an assertion, or V(error) to stop a play.
    type: str
    choices: [error, warning, never]
    default: never
extends_documentation_fragment:
  - trustops.tableau.policy
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
notes:
  - "Policy options for the probe: a certificate of the chain the clients build (the served path and the
    trust anchor it reaches) whose key is under O(min_rsa_key_size) (RSA) or O(min_ec_key_size) (EC curve
    size) is an error C(TLS-009); a DSA key is C(TLS-009) whatever its size (TLS clients refuse DSA server
    certificates). A signature with a digest of O(blocklisted_digests) is an error C(TLS-005) on every
    certificate of that chain except the self-signature of a root. An unknown digest name or a negative size
    fails the task before any connection."
  - Runs on the target, so the system store and the network view are those of the target. Probe
    from a client-like host (or with O(ca_file) holding the clients' anchors) to see what users see.
  - Tableau Desktop on Windows uses the Windows store (see M(trustops.tableau.win_trust_anchor));
    Android's Tableau Mobile does not download missing intermediate certificates.
seealso:
  - module: trustops.tableau.trust_anchor
  - module: trustops.tableau.win_trust_anchor
  - module: trustops.tableau.mobile_trust_profile
"""

EXAMPLES = r"""
- name: Check the certificate users see under the short name
  trustops.tableau.tls_probe:
    host: tableau
    address: 127.0.0.1
  register: probe

- name: Require a trusted, complete chain for the FQDN, against the company root
  trustops.tableau.tls_probe:
    host: tableau.example.com
    ca_file: /etc/pki/company-root.pem
    fail_on: error

- name: In check mode, what users will see once the company root is installed (nothing is installed)
  trustops.tableau.tls_probe:
    host: tableau.example.com
    ca_content: "{{ lookup('ansible.builtin.file', 'files/company-root.pem') }}"
  check_mode: true

- name: Assert on the result
  ansible.builtin.assert:
    that:
      - probe.ok
      - probe.chain_complete
    fail_msg: "{{ probe.findings | map(attribute='message') | list }}"
"""

RETURN = r"""
host:
  description: The O(host) checked.
  returned: always
  type: str
  sample: tableau
port:
  description: The O(port) connected to.
  returned: always
  type: int
  sample: 443
address:
  description: Where the probe connected (O(address), else O(host)).
  returned: always
  type: str
  sample: 127.0.0.1
server_name:
  description: The SNI name sent, or null when none was sent.
  returned: always
  type: str
  sample: tableau
findings:
  description: Every finding, in check order.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: C(TLS-0NN), see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.tls).
      type: str
      sample: TLS-003
    severity:
      description: V(info), V(warning) or V(error).
      type: str
      sample: error
    message:
      description: What is wrong.
      type: str
      sample: >-
        the certificate is not issued to tableau: tableau is a short name and the certificate is issued
        to tableau.example.com. Use the FQDN tableau.example.com
    remedy:
      description: What to do about it.
      type: str
    data:
      description: Details (certificate subject and SHA-256, names, C(symptom) in the Tableau clients).
      type: dict
ok:
  description: True when no finding is an error.
  returned: always
  type: bool
verified:
  description: The referee (Python C(ssl), same trust anchors) accepted the connection.
  returned: always
  type: bool
verify_error:
  description: OpenSSL's reason when RV(verified) is false, else null.
  returned: always
  type: str
  sample: unable to get local issuer certificate
verify_code:
  description: OpenSSL's X509 verify code when the referee rejected the certificate, else null.
  returned: always
  type: int
  sample: 20
verify_hostname_checked:
  description: Whether the referee also checked the host name (it does when the SNI name is O(host)).
  returned: always
  type: bool
served_chain:
  description: The certificates in the order the server sent them.
  returned: always
  type: list
  elements: dict
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
    thumbprint:
      description: SHA-1 thumbprint as Windows shows it.
      type: str
    not_after:
      description: End of validity (ISO 8601, UTC).
      type: str
    days_left:
      description: Whole days until it expires.
      type: int
    dns_names:
      description: subjectAltName DNS entries.
      type: list
      elements: str
  sample:
    - subject: CN=tableau.example.com
      issuer: CN=Example Issuing CA
chain_source:
  description: >-
    How the chain was read: V(tls12-reader) (exactly as served), V(ssl-peer-chain) (server refuses
    TLS 1.2; as served over TLS 1.3), V(leaf-only) (only the server's certificate is known).
  returned: always
  type: str
  sample: tls12-reader
chain_complete:
  description: >-
    The served chain reaches a self-signed root or a certificate issued by a self-signed trust anchor,
    so no client needs to have or fetch an intermediate. Null when only the leaf could be read.
  returned: always
  type: bool
trusted:
  description: The chain leads to one of the trust anchors.
  returned: always
  type: bool
name_matched:
  description: O(host) matches the certificate (see RV(matched_via)).
  returned: always
  type: bool
matched_via:
  description: V(san), V(cn-legacy) (subject CN only, rejected by Apple and Chrome), or null.
  returned: always
  type: str
names:
  description: The names the certificate is issued to (subjectAltName DNS and IP entries, or the subject CN without them).
  returned: always
  type: list
  elements: str
  sample: [tableau.example.com]
tls_version:
  description: Protocol negotiated by a default Python client.
  returned: always
  type: str
  sample: TLSv1.3
cipher:
  description: Cipher negotiated by a default Python client.
  returned: always
  type: str
  sample: TLS_AES_256_GCM_SHA384
tls12:
  description: Version and cipher the server chose for the TLS 1.2 reader; null when it refused TLS 1.2.
  returned: always
  type: dict
anchor:
  description: The trust anchor the chain leads to (C(subject), C(sha256)), or null.
  returned: always
  type: dict
trust_store:
  description: >-
    The anchors used: C(path) (O(ca_file), the system store, or null when only O(ca_content) is trusted),
    C(count) (every anchor), C(skipped) (unreadable entries of a system bundle), C(ca_content) (the
    certificates of O(ca_content), 0 without it).
  returned: always
  type: dict
  sample: {path: /etc/ssl/certs/ca-certificates.crt, count: 143, skipped: 0, ca_content: 1}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils import policy
from ansible_collections.trustops.tableau.plugins.module_utils._module import finish
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.probe import probe


def main():
    argument_spec = dict(
        host=dict(type="str", required=True),
        port=dict(type="int", default=443),
        address=dict(type="str"),
        server_name=dict(type="str"),
        ca_file=dict(type="path"),
        ca_content=dict(type="str"),
        timeout=dict(type="float", default=10.0),
        min_days_left=dict(type="int", default=30),
        fail_on=dict(type="str", choices=["error", "warning", "never"], default="never"),
    )
    argument_spec.update(policy.argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    try:
        result = probe(
            p["host"], port=p["port"], address=p["address"], server_name=p["server_name"],
            ca_file=p["ca_file"], ca_content=p["ca_content"], timeout=p["timeout"],
            min_days_left=p["min_days_left"], min_rsa_key_size=p["min_rsa_key_size"],
            blocklisted_digests=p["blocklisted_digests"], min_ec_key_size=p["min_ec_key_size"])
    except TrustopsError as exc:
        module.fail_json(msg=str(exc))
    finish(module, result.finding_objects, result, f"tls_probe {result['host']}:{result['port']}", p["fail_on"])


if __name__ == "__main__":
    main()
