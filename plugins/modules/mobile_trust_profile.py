#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mobile_trust_profile
short_description: Make iOS/iPadOS/macOS configuration profiles and Android CA files for an internal CA
version_added: 0.1.0
description:
  - Tableau Mobile refuses a Tableau Server whose certificate chains to a CA the device does not
    trust, and lets nobody override it. This module produces what an MDM team or a device user
    needs to make devices trust the internal CA, reproducibly, from the CA certificate(s).
  - "iOS/iPadOS/macOS (O(platforms) V(ios)): C(<name>.mobileconfig), a configuration profile
    (C(PayloadType Configuration)) with one C(com.apple.security.root) payload per root CA and, with
    O(include_intermediates), one C(com.apple.security.pkcs1) payload per intermediate CA, the
    certificate as DER data in C(PayloadContent)."
  - "Android (O(platforms) V(android)): one DER C(<CN>-<SHA-256 prefix>.crt) per CA (what
    Settings > Security > Install a certificate > CA certificate takes); C(<name>.onc), an Open
    Network Configuration with one C(Authority) certificate per CA for MDMs that take ONC; and
    C(network_security_config.xml) for in-house apps that must trust user-installed CAs."
  - Identifiers and UUIDs are derived from O(identifier) and each certificate's SHA-256
    (uuid5), and every file is serialised with sorted keys, so the same inputs give
    byte-identical unsigned files.
  - With a signer (O(signer_cert_src) or O(signer_cert_content)), the profile is a CMS SignedData
    (DER, content attached, SHA-256, signer certificate and O(signer_chain_src) included), which iOS
    shows as Verified when the signer chains to a root the device trusts. A signature embeds a
    signing time, so the module re-signs only when the profile content, the signer certificate or
    the chain changed, or the existing signature does not verify; otherwise the file is left alone.
  - Every file is written atomically, and only when its content changed. Either all changed files
    are written or none (files already moved are restored when a later one fails, with their previous
    content, owner, group, mode and modification time). Refused input
    writes nothing.
  - "B(Run it on the controller or an artifact host), not on the devices or the Tableau Servers
    (C(delegate_to: localhost), as the role C(trustops.tableau.mobile_trust) does). Paths are read on
    the host the module runs on; the signing key stays there."
options:
  src:
    description:
      - Files with the CA certificates, PEM (one or more), DER or PKCS#7, on the host the module runs on.
      - At least one of O(src) and O(content) is needed; both may be given.
      - Each file is read through the collection's one input reader, at most 1 MiB (C(MAX_CERTIFICATE),
        see R(input size caps,ansible_collections.trustops.tableau.docsite.inputs)); an empty, unreadable or oversized file, a directory, or content that is
        not a certificate (a private key, PKCS#12, truncated PEM) fails the task naming the option and
        the path, and nothing is written.
    type: list
    elements: path
  content:
    description:
      - CA certificates as PEM text (one or more blocks). Checked like a file of O(src) (same 1 MiB cap);
        an empty value is an error.
    type: str
  identifier:
    description:
      - The profile's C(PayloadIdentifier), reverse-DNS style, for example C(com.example.tableau.ca-trust).
      - A profile with the same identifier replaces an installed one, so keep it stable across CA rotations.
      - Payload identifiers are C(<identifier>.ca.<first 16 hex digits of the SHA-256>).
    type: str
    required: true
  name:
    description:
      - Base name of the profile (C(<name>.mobileconfig)) and ONC (C(<name>.onc)) files.
      - Defaults to O(identifier).
    type: str
  dest:
    description:
      - Directory for the files; created (mode 0755) when missing. Files are written with mode 0644
        when new; an existing file keeps its owner, group and mode.
      - Other files in the directory are left alone, including C(.crt) files of CAs no longer given.
    type: path
    required: true
  platforms:
    description:
      - Which artifacts to produce.
    type: list
    elements: str
    choices: [ios, android]
    default: [ios, android]
  display_name:
    description:
      - C(PayloadDisplayName) of the profile, shown in Settings on the device.
    type: str
    default: Tableau Server certificate authorities
  organization:
    description:
      - C(PayloadOrganization) of the profile and of each payload. Omitted when not set.
    type: str
  description:
    description:
      - C(PayloadDescription) of the profile, shown on the profile's detail screen.
      - Defaults to a sentence saying that the profile makes Tableau Mobile and Safari trust the server.
    type: str
  consent_text:
    description:
      - C(ConsentText) the user must accept before installing. Either a text (stored under the
        C(default) key) or a dictionary of BCP 47 language tags (and C(default)) to texts, as
        Apple's schema requires.
    type: raw
  removal_disallowed:
    description:
      - C(PayloadRemovalDisallowed). Honoured only on supervised devices.
    type: bool
    default: false
  include_intermediates:
    description:
      - Also install the intermediate (not self-signed) CAs given, as C(com.apple.security.pkcs1)
        payloads and Android files. Without it they are left out with a warning (C(MOBILE-008)).
      - On Android every user-installed CA is a trust anchor, intermediates included.
    type: bool
    default: false
  android_domains:
    description:
      - Host names for a C(<domain-config>) in C(network_security_config.xml), so an in-house app trusts
        user-installed CAs only for these hosts. Without it the snippet uses C(<base-config>).
    type: list
    elements: str
    default: []
  signer_cert_src:
    description:
      - Certificate that signs the profile (PEM/DER file on the host the module runs on).
      - Mutually exclusive with O(signer_cert_content). Needs O(signer_key_src) or O(signer_key_content).
      - At most 1 MiB (C(MAX_CERTIFICATE)), like O(signer_cert_content).
    type: path
  signer_cert_content:
    description:
      - The signer certificate as PEM text.
    type: str
  signer_key_src:
    description:
      - Private key of the signer certificate (PEM or DER; PKCS#8, PKCS#1 or SEC1; RSA or EC), on the host the
        module runs on. Never leaves it.
      - At most 64 KiB (C(MAX_KEY)), like O(signer_key_content).
      - The key is read, decrypted and checked against the signer certificate only when a profile is
        signed (created, or re-signed because its content, signer or chain changed), in check mode too; a
        run that leaves the signed profile as it is does not read it.
    type: path
  signer_key_content:
    description:
      - The signer's private key as PEM text.
    type: str
  signer_key_passphrase:
    description:
      - Passphrase of an encrypted signer key.
    type: str
  signer_chain_src:
    description:
      - Files with the intermediate CAs between the signer and its root, included in the signature so
        that devices can build the chain. The root itself is not needed.
      - Each file at most 1 MiB (C(MAX_CERTIFICATE)), like O(signer_chain_content).
    type: list
    elements: path
  signer_chain_content:
    description:
      - The signer chain as PEM text.
    type: str
  fail_on:
    description:
      - Fail, writing nothing, when a finding reaches this severity.
      - V(never) writes the files whatever the findings say (for example a self-signed server certificate
        instead of a CA); the findings are still returned.
    type: str
    choices: [error, warning, never]
    default: error
  expiry_warning_days:
    description:
      - Warn (C(MOBILE-006)) when a CA expires within this many days.
    type: int
    default: 30
extends_documentation_fragment:
  - trustops.tableau.policy
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the existing files and reports which would change and why; writes and signs nothing.
  diff_mode:
    support: full
    details: One entry per changed file. Property lists, ONC and XML as text; DER certificates as subject and
      SHA-256; a signed profile as its signer, signature status and the property list inside. Never key material.
  platform:
    platforms: posix
notes:
  - Requires the Python C(cryptography) library (Debian C(python3-cryptography) 38 or later).
  - "Policy options for mobile: O(blocklisted_digests) refuses CA certificates (C(ANCHOR-008), C(ANCHOR-009)) and the
    signer certificate (C(MOBILE-014)) signed with a listed digest; O(min_rsa_key_size) (RSA, DSA) and
    O(min_ec_key_size) (curve size) bound the CA keys (C(ANCHOR-005), C(ANCHOR-006)) and the signer key
    (C(MOBILE-015)). iOS 13 and macOS 10.15 refuse RSA keys under 2048 bits in TLS chains."
  - "The CA certificates are judged by the same trust-anchor policy as M(trustops.tableau.trust_anchor) with one
    difference, a parameter of that policy: a self-signed root signed with a blocklisted digest is refused
    (C(ANCHOR-009) is an error here, info there), because Apple requires SHA-2 for issuing CAs since iOS 13;
    set O(blocklisted_digests=[]) to accept it."
  - Whether a CA may become a trust anchor is decided by the shared trust-anchor policy (codes C(ANCHOR-001) to
    C(ANCHOR-010) except C(ANCHOR-004), see
    R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.anchor)); the mobile-specific findings have codes
    C(MOBILE-006) to C(MOBILE-017) (see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.mobile)).
  - Tableau Mobile uses the device's trust store; it has no certificate setting of its own. Whether its
    Android build trusts user-installed CAs (a C(network_security_config) with C(src="user")) is not
    documented by Tableau; test on a device, or push the CA through the MDM. See R(the mobile guide,ansible_collections.trustops.tableau.docsite.mobile).
  - A root CA from a profile installed by hand on iOS is trusted for TLS only after the user enables it under
    Settings > General > About > Certificate Trust Settings. Profiles installed by MDM do not need this.
seealso:
  - module: trustops.tableau.trust_anchor
  - module: trustops.tableau.tls_probe
  - name: Apple device-management schema (TopLevel, com.apple.security.root)
    description: The keys and types the profile follows.
    link: https://github.com/apple/device-management/tree/release/mdm/profiles
author:
  - trustops maintainers (@trustops)
"""

EXAMPLES = r"""
- name: Profiles and Android files for the corporate root CA
  trustops.tableau.mobile_trust_profile:
    src: [/etc/trustops/corp-root-ca.pem]
    identifier: com.example.tableau.ca-trust
    organization: Example Corp
    dest: /srv/mdm/tableau
  delegate_to: localhost
  run_once: true

- name: The same, signed, with consent text in two languages
  trustops.tableau.mobile_trust_profile:
    src: [/etc/trustops/corp-root-ca.pem]
    identifier: com.example.tableau.ca-trust
    dest: /srv/mdm/tableau
    consent_text:
      default: Installs the Example Corp root CA so Tableau Mobile can connect.
      de: Installiert die Root-CA von Example Corp, damit Tableau Mobile sich verbinden kann.
    signer_cert_src: /etc/trustops/profile-signer.crt
    signer_key_src: /etc/trustops/profile-signer.key
    signer_key_passphrase: "{{ vault_profile_signer_passphrase }}"
    signer_chain_src: [/etc/trustops/corp-issuing-ca.crt]
  delegate_to: localhost
  run_once: true

- name: Android only, network security config limited to the Tableau Server host
  trustops.tableau.mobile_trust_profile:
    content: "{{ lookup('ansible.builtin.file', 'files/corp-root-ca.pem') }}"
    identifier: com.example.tableau.ca-trust
    platforms: [android]
    android_domains: [tableau.example.com]
    dest: "{{ playbook_dir }}/artifacts"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
dest:
  description: The directory holding the files.
  returned: always, except when an input file cannot be read at all (then only C(msg))
  type: str
  sample: /srv/mdm/tableau
files:
  description: Every file produced (or that would be produced in check mode), changed or not.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: Path of the file.
      type: str
    kind:
      description: C(profile), C(der), C(onc) or C(nsc).
      type: str
    platform:
      description: C(ios) or C(android).
      type: str
    changed:
      description: Whether the file was (or would be) written.
      type: bool
    action:
      description: C(keep), C(create) or C(update).
      type: str
    sha256:
      description: SHA-256 (hex) of the file content after the task; for a profile still to be signed in
        check mode, of the unsigned property list.
      type: str
  sample:
    - {path: /srv/mdm/tableau/com.example.tableau.ca-trust.mobileconfig, kind: profile, platform: ios,
       changed: false, action: keep, sha256: 0f1e...}
profile:
  description: The configuration profile, or null when V(ios) is not in O(platforms).
  returned: success
  type: dict
  contains:
    path:
      description: Path of the C(.mobileconfig) file.
      type: str
    identifier:
      description: C(PayloadIdentifier).
      type: str
    uuid:
      description: C(PayloadUUID) of the profile.
      type: str
    signed:
      description: Whether the profile is signed.
      type: bool
    resigned:
      description: Whether a new signature was (or, in check mode, would be) made in this run.
      type: bool
    signer:
      description: Subject and SHA-256 of the signer certificate, or null when unsigned.
      type: dict
  sample: {path: /srv/mdm/tableau/com.example.tableau.ca-trust.mobileconfig, identifier: com.example.tableau.ca-trust,
           uuid: 1DA253A8-6A19-5310-9AA9-0CA959A27642, signed: true, resigned: false,
           signer: {subject: "CN=Profile Signer,O=Example", sha256: "AB:CD:..."}}
android:
  description: The Android files, or null when V(android) is not in O(platforms).
  returned: success
  type: dict
  contains:
    crt_paths:
      description: One DER certificate file per CA.
      type: list
      elements: str
    onc_path:
      description: The Open Network Configuration file.
      type: str
    network_security_config_path:
      description: The C(network_security_config.xml) snippet for in-house apps.
      type: str
certificates:
  description: The CA certificates put into the artifacts, in order.
  returned: when the certificates could be read
  type: list
  elements: dict
  contains:
    subject:
      description: Subject, RFC 4514.
      type: str
    common_name:
      description: The subject's first common name (what devices list), or null.
      type: str
    issuer:
      description: Issuer, RFC 4514.
      type: str
    sha256:
      description: SHA-256 fingerprint, colon separated, upper case.
      type: str
    sha1:
      description: SHA-1 fingerprint, colon separated, upper case.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    role:
      description: C(root) (self-signed) or C(intermediate).
      type: str
    source:
      description: Where the certificate came from (a path or C(content)).
      type: str
    payload_type:
      description: C(com.apple.security.root) or C(com.apple.security.pkcs1).
      type: str
    payload_identifier:
      description: The payload's C(PayloadIdentifier).
      type: str
    payload_uuid:
      description: The payload's C(PayloadUUID).
      type: str
    onc_guid:
      description: The certificate's C(GUID) in the ONC file.
      type: str
    android_file:
      description: Base name of the DER file.
      type: str
    raw_resource:
      description: Android resource name to use when bundling the file in an app's C(res/raw).
      type: str
signer:
  description: Facts about the signer certificate, or null.
  returned: when a signer was given and could be loaded
  type: dict
  sample: {subject: "CN=Profile Signer,O=Example", sha256: "AB:CD:...", not_after: "2027-01-01T00:00:00+00:00"}
reasons:
  description: Why each changed file changed, one line per file.
  returned: always, except when an input file cannot be read at all
  type: list
  elements: str
  sample: ["/srv/mdm/tableau/com.example.tableau.ca-trust.mobileconfig: the profile content changed"]
findings:
  description: Policy findings (C(ANCHOR-NNN) from the shared trust-anchor policy, C(MOBILE-NNN)) on the CA and signer
    certificates, all of them, also when failing.
  returned: always, except when an input file cannot be read at all
  type: list
  elements: dict
  contains:
    code:
      description: Finding code.
      type: str
      sample: ANCHOR-001
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
      description: Machine-readable details (subject, SHA-256, ...).
      type: dict
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload  # noqa: F401  pylint: disable=unused-import  # first: one compile per file
from ansible_collections.trustops.tableau.plugins.module_utils import _module, certs, policy, reader
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import apple, checks, identifiers, inputs, signing, writer
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError


#: The cap of each input option, by its kind (the shared reader's caps; docs/inputs.md lists them).
CAPS = {
    "src": reader.MAX_CERTIFICATE, "content": reader.MAX_CERTIFICATE,
    "signer_cert_src": reader.MAX_CERTIFICATE, "signer_cert_content": reader.MAX_CERTIFICATE,
    "signer_chain_src": reader.MAX_CERTIFICATE, "signer_chain_content": reader.MAX_CERTIFICATE,
    "signer_key_src": reader.MAX_KEY, "signer_key_content": reader.MAX_KEY,
}


def _files(module, option):
    """(data, path, option) for each path of a list option, read through the shared reader."""
    return [(_module.read_file(module, path, option, CAPS[option]), path, option)
            for path in module.params[option] or []]


def _inline(module, option):
    """[(text, option, option)] for an inline option given beside files, checked by the same reader
    and cap as its file twin (empty or too large: InputError, a TrustopsError); [] when not set."""
    value = module.params[option]
    if value is None:
        return []
    reader.read_input(content=value, option=option, max_bytes=CAPS[option])
    return [(value, option, option)]


def _pair(module, name):
    """(data, source, option) of a ``<name>_src`` / ``<name>_content`` pair (mutually exclusive)."""
    src, content = name + "_src", name + "_content"
    data, source = _module.read_input(module, src, content, CAPS[src])
    return data, source, (src if module.params[src] is not None else content)


def _signer(module):
    params = module.params
    cert_given = params["signer_cert_src"] or params["signer_cert_content"]
    key_given = params["signer_key_src"] or params["signer_key_content"]
    if not cert_given and not key_given:
        if params["signer_chain_src"] or params["signer_chain_content"]:
            raise TrustopsError("signer_chain given without a signer certificate and key")
        return None
    if not (cert_given and key_given):
        raise TrustopsError("signing needs both the signer certificate (signer_cert_src/_content) and its key "
                            "(signer_key_src/_content)")
    cert_data, cert_source, cert_option = _pair(module, "signer_cert")
    chain = _files(module, "signer_chain_src") + _inline(module, "signer_chain_content")
    # the key is read and checked only when a profile is signed (writer.plan): a converged run never reads it
    if params["signer_key_src"] is not None:
        key_option = "signer_key_src"
        key_source = f"{key_option} {params[key_option]}"

        def key_data():
            return reader.read_input(path=params["signer_key_src"], option="signer_key_src",
                                     max_bytes=CAPS["signer_key_src"])
    else:
        key_option = key_source = "signer_key_content"
        _inline(module, key_option)  # empty or too large: refused now (nothing is parsed)

        def key_data():
            return params["signer_key_content"]
    return signing.load_signer(cert_data, key_data, params["signer_key_passphrase"], chain, cert_source, key_source,
                               cert_option, key_option)


def run(module, result):
    params = module.params
    dest = params["dest"]
    spec = apple.ProfileSpec(params["identifier"], params["display_name"], params["organization"],
                             params["description"], params["consent_text"], params["removal_disallowed"])
    name = inputs.check_basename(params["name"] or spec.identifier)
    platforms = list(dict.fromkeys(params["platforms"] or writer.PLATFORMS))
    if not platforms:
        raise TrustopsError("platforms is empty: choose ios, android or both")
    inputs.check_domains(params["android_domains"])

    cas, duplicates = inputs.load_cas(_files(module, "src") + _inline(module, "content"))
    thresholds = policy.Policy.from_params(params).as_dict()
    findings = checks.ca_findings(cas, duplicates, params["include_intermediates"],
                                  expiry_warning_days=params["expiry_warning_days"], **thresholds)
    chosen = checks.selected(cas, params["include_intermediates"])
    result["certificates"] = [writer.cert_facts(ca, spec.identifier) for ca in chosen]

    signer = _signer(module)
    if signer is not None:
        info = certs.describe(signer.cert)
        result["signer"] = {"subject": info["subject"], "issuer": info["issuer"], "sha256": info["sha256"],
                            "not_after": info["not_after"], "chain": [certs.fingerprint(c) for c in signer.chain]}
        if "ios" in platforms:
            findings += checks.signer_findings(signer, chosen, **thresholds)
        else:
            module.warn("a signer was given but ios is not in platforms: nothing is signed")
    result["findings"] = [f.as_dict() for f in findings]
    # findings below fail_on are warnings; a refusal names each failing code with its remedy
    if _module.show(module, findings, params["fail_on"]):
        _module.fail(module, findings, result, "refusing to build the mobile trust files", params["fail_on"],
                     "; nothing was written")

    artifacts = writer.build_artifacts(spec, chosen, platforms, name, params["android_domains"])
    writer.plan(dest, artifacts, signer if "ios" in platforms else None)
    result["reasons"] = [f"{a.path}: {a.reason}" for a in artifacts if a.action != "keep"]
    result["changed"] = any(a.action != "keep" for a in artifacts)
    if module._diff:
        from ansible_collections.trustops.tableau.plugins.module_utils.mobile import diff  # pylint: disable=import-outside-toplevel

        result["diff"] = diff.diff_entries(artifacts, signer)
    if not module.check_mode and result["changed"]:
        writer.finalize(artifacts, signer)
        writer.write(dest, artifacts, move=module.atomic_move)

    result["files"] = [a.as_dict() for a in artifacts]
    profile = [a for a in artifacts if a.kind == "profile"]
    if profile:
        sha256s = [ca.sha256 for ca in chosen]
        result["profile"] = {
            "path": profile[0].path, "identifier": spec.identifier,
            "uuid": identifiers.profile_uuid(spec.identifier, sha256s), "signed": profile[0].signed,
            "resigned": profile[0].resign,
            "signer": ({"subject": result["signer"]["subject"], "sha256": result["signer"]["sha256"]}
                       if profile[0].signed else None)}
    if "android" in platforms:
        result["android"] = {
            "crt_paths": [a.path for a in artifacts if a.kind == "der"],
            "onc_path": [a.path for a in artifacts if a.kind == "onc"][0],
            "network_security_config_path": [a.path for a in artifacts if a.kind == "nsc"][0]}


def _policy_spec():
    """The one policy's options (policy.argument_spec(), doc fragment trustops.tableau.policy); sizes, not secrets."""
    spec = policy.argument_spec()
    for name in ("min_rsa_key_size", "min_ec_key_size"):
        spec[name]["no_log"] = False
    return spec


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="list", elements="path"),
            content=dict(type="str"),
            identifier=dict(type="str", required=True),
            name=dict(type="str"),
            dest=dict(type="path", required=True),
            platforms=dict(type="list", elements="str", choices=["ios", "android"], default=["ios", "android"]),
            display_name=dict(type="str", default=apple.DEFAULT_DISPLAY_NAME),
            organization=dict(type="str"),
            description=dict(type="str"),
            consent_text=dict(type="raw"),
            removal_disallowed=dict(type="bool", default=False),
            include_intermediates=dict(type="bool", default=False),
            android_domains=dict(type="list", elements="str", default=[]),
            signer_cert_src=dict(type="path"),
            signer_cert_content=dict(type="str"),
            signer_key_src=dict(type="path", no_log=False),
            signer_key_content=dict(type="str", no_log=True),
            signer_key_passphrase=dict(type="str", no_log=True),
            signer_chain_src=dict(type="list", elements="path"),
            signer_chain_content=dict(type="str"),
            fail_on=dict(type="str", default="error", choices=["error", "warning", "never"]),
            expiry_warning_days=dict(type="int", default=30),
            **_policy_spec()
        ),
        required_one_of=[("src", "content")],
        mutually_exclusive=[("signer_cert_src", "signer_cert_content"), ("signer_key_src", "signer_key_content")],
        supports_check_mode=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    result = {"changed": False, "dest": module.params["dest"], "findings": [], "reasons": [],
              "profile": None, "android": None, "signer": None}
    try:
        run(module, result)
    except writer.WriteError as exc:
        result["changed"] = "could NOT restore" in to_native(exc)
        module.fail_json(msg=to_native(exc), **result)
    except TrustopsError as exc:
        result["changed"] = False
        module.fail_json(msg=f"{to_native(exc)}; nothing was written", **result)
    except Exception as exc:  # pragma: no cover - a bug; report it without a raw traceback
        module.fail_json(msg=f"unexpected error: {to_native(exc)}", exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
