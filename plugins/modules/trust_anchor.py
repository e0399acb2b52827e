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
    digest); any C(error) finding fails the task and changes nothing.
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
        C(docs/inputs.md)); a missing file, a directory, an empty or larger file fails the task with
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
    message. The macOS path is not tested in this collection's CI; see C(docs/trust_anchor.md).
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
    - Policy findings on the certificate (C(ANCHOR-NNN), see C(docs/anchor_policy.md)), all of them,
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

import os
import platform as _platform
import shutil
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import macos
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import plan as planning
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import scan
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError, fails, summary

_BIN_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"]


def _layout(store):
    """The store layout (a seam: unit tests relocate it into a temporary directory)."""
    return layouts.layout(store)


def _cmd(argv, rc, out, err):
    return {"argv": list(argv), "rc": rc, "stdout": out, "stderr": err}


class Runner(object):
    """Applies a plan with AnsibleModule I/O; remembers how to undo each file change."""

    def __init__(self, module, lay):
        self.module = module
        self.lay = lay
        self.undo = []
        self.created_dir = None

    def write_anchor(self, path, pem, replaces):
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
            os.chmod(directory, 0o755)
            self.created_dir = directory
        previous = self._snapshot(path) if replaces is not None else None
        fd, tmp = tempfile.mkstemp(prefix=".trustops-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            os.chmod(tmp, 0o644)
        except Exception:
            os.unlink(tmp)
            raise
        self.module.atomic_move(tmp, path)
        os.chmod(path, 0o644)
        self.undo.append(("restore", path, previous) if previous else ("unlink", path, None))

    def remove_anchor(self, path):
        previous = self._snapshot(path)
        os.unlink(path)
        self.undo.append(("restore", path, previous))

    @staticmethod
    def _snapshot(path):
        st = os.lstat(path)
        if os.path.islink(path):
            return {"link": os.readlink(path)}
        with open(path, "rb") as handle:
            data = handle.read()
        return {"data": data, "mode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid}

    def rollback(self):
        """Undo the file changes, newest first; returns a list of problems (empty when clean)."""
        problems = []
        for action, path, previous in reversed(self.undo):
            try:
                if action == "unlink":
                    if os.path.lexists(path):
                        os.unlink(path)
                elif "link" in previous:
                    if os.path.lexists(path):
                        os.unlink(path)
                    os.symlink(previous["link"], path)
                else:
                    fd, tmp = tempfile.mkstemp(prefix=".trustops-", suffix=".tmp", dir=os.path.dirname(path))
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(previous["data"])
                    os.chmod(tmp, previous["mode"])
                    try:
                        os.chown(tmp, previous["uid"], previous["gid"])
                    except OSError:
                        pass
                    os.rename(tmp, path)
            except OSError as exc:
                problems.append("%s: %s" % (path, _os_reason(exc)))
        if self.created_dir and not problems:
            try:
                os.rmdir(self.created_dir)
            except OSError:
                pass
        self.undo = []
        return problems


def _os_reason(exc):
    """The reason of an OSError without the file name (callers name the file once themselves)."""
    return exc.strerror or to_native(exc)


def _which(module):
    return lambda name: module.get_bin_path(name, required=False, opt_dirs=_BIN_DIRS)


def _read_src(src):
    """The bytes of ``src`` on the managed host, through the collection's one input reader."""
    return reader.read_input(path=src, option="src", max_bytes=reader.MAX_CERTIFICATE)


def _facts(cert):
    if cert is None:
        return {"sha256": None, "sha1": None, "thumbprint": None, "subject": None, "not_after": None}
    info = certs.describe(cert)
    return {"sha256": info["sha256"], "sha1": info["sha1"], "thumbprint": info["thumbprint"],
            "subject": info["subject"], "not_after": info["not_after"]}


def _cert_from_holder(entry, kind, hexed):
    """The certificate with this digest from an anchor file (for facts when given a fingerprint)."""
    try:
        with open(entry.path, "rb") as handle:
            found = certs.load_certificates(handle.read(), entry.path)
    except (IOError, OSError, TrustopsError):
        return None
    for cert in found:
        s256, s1 = names.cert_digests(cert)
        if (s256 if kind == "sha256" else s1) == hexed:
            return cert
    return None


def _diff(lay, before_entries, after_entries, contains_before, contains_after):
    def text(entries, contains):
        return planning.listing(entries) + "# bundle %s: %s the certificate\n" % (
            lay.bundle, "includes" if contains else "lacks")
    return {"before_header": lay.anchors_dir, "after_header": lay.anchors_dir,
            "before": text(before_entries, contains_before), "after": text(after_entries, contains_after)}


def run_linux(module, lay, state, cert, kind, hexed, name, result):
    params = module.params
    entries, warnings = scan.scan_anchors(lay)
    for warning in warnings:
        module.warn(warning)
    bundle = scan.read_bundle(lay.bundle)
    others = scan.other_source_digests(lay) if state == "absent" else scan.DigestSet()
    if state == "present":
        plan = planning.plan_present(lay, cert, name, entries, bundle)
    else:
        plan = planning.plan_absent(lay, kind, hexed, entries, bundle, others)
        if cert is None:
            for entry in plan.remove:
                found = _cert_from_holder(entry, kind, hexed)
                if found is not None:
                    result.update(_facts(found))
                    break
    for warning in plan.warnings:
        module.warn(warning)

    contains_before = bundle.contains(kind, hexed)
    will_update = plan.update and params["update"]
    if state == "present":
        contains_after = contains_before or will_update
    else:
        contains_after = (contains_before and not will_update) or others.contains(kind, hexed)
    result.update(path=plan.path, removed=[e.path for e in plan.remove], reasons=list(plan.reasons),
                  bundle=lay.bundle, bundle_contains=contains_before,
                  changed=plan.changes_files or will_update)
    if module._diff:
        result["diff"] = _diff(lay, entries, planning.entries_after(entries, plan, lay),
                               contains_before, contains_after)
    if plan.update and not params["update"]:
        if module.check_mode:
            module.warn("check mode: nothing was written; with update=false a real run would change the anchor "
                        "files but would not regenerate the store's bundle; after it, run %s"
                        % " ".join(plan.update_argv()))
        else:
            module.warn("update=false: the store's bundle was not regenerated; run %s"
                        % " ".join(plan.update_argv()))
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)

    binary = None
    if will_update:
        binary = module.get_bin_path(lay.command, required=False, opt_dirs=_BIN_DIRS)
        if not binary:
            result["changed"] = False
            module.fail_json(msg="%s not found on the managed host; nothing was changed" % lay.command, **result)

    runner = Runner(module, lay)
    try:
        if plan.write:
            runner.write_anchor(plan.write[0], plan.write[1], plan.replaces)
        for entry in plan.remove:
            runner.remove_anchor(entry.path)
    except (IOError, OSError) as exc:
        problems = runner.rollback()
        result["changed"] = bool(problems)
        module.fail_json(msg="changing the anchors directory failed (%s: %s); %s" % (
            exc.filename or lay.anchors_dir, _os_reason(exc), "restored it" if not problems else "could not restore: " + "; ".join(problems)),
            **result)

    if not will_update:
        module.exit_json(**result)

    argv = plan.update_argv(binary)
    rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
    result["cmd"] = _cmd(argv, rc, out, err)
    failure = None
    if rc != 0:
        failure = "%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip()[-800:])
    else:
        try:
            after = scan.read_bundle(lay.bundle)
        except TrustopsError as exc:
            after = None
            failure = "%s ran, but %s" % (" ".join(argv), to_native(exc))
        if after is not None:
            if state == "present":
                ok = planning.verify_present(kind, hexed, after)
            else:
                ok = planning.verify_absent(kind, hexed, after, others)
            result["bundle_contains"] = after.contains(kind, hexed)
        if after is not None and not ok:
            failure = ("%s ran, but the bundle %s %s the certificate afterwards; is this really a %s-family "
                       "trust store?" % (" ".join(argv), lay.bundle,
                                         "lacks" if state == "present" else "still holds", lay.store))
    if failure is None:
        module.exit_json(**result)

    # Leave the previous state, and say what happened.
    problems = runner.rollback()
    if problems:
        result["changed"] = True
        module.fail_json(msg="%s. Restoring the anchors directory FAILED (%s): the store is half-changed, "
                             "fix it by hand" % (failure, "; ".join(problems)), **result)
    resync_argv = layouts.update_argv(lay, removing=True, binary=binary)
    rc2, out2, err2 = module.run_command(resync_argv, environ_update={"LC_ALL": "C"})
    result["resync_cmd"] = _cmd(resync_argv, rc2, out2, err2)
    try:
        result["bundle_contains"] = scan.read_bundle(lay.bundle).contains(kind, hexed)
    except TrustopsError:
        result["bundle_contains"] = False
    result["changed"] = False
    if rc2 == 0:
        note = "the anchors directory was restored and the store regenerated from it; nothing changed"
    else:
        note = ("the anchors directory was restored, but regenerating the store failed again (rc=%d): the "
                "bundle may not match the anchors until %s succeeds" % (rc2, " ".join(resync_argv)))
    module.fail_json(msg="%s; %s" % (failure, note), **result)


def _macos_trusted(module, security):
    """Admin trust settings as a set of SHA-1s, or None when they cannot be read."""
    tmpdir = tempfile.mkdtemp(prefix="trustops-")
    try:
        out_file = os.path.join(tmpdir, "admin-trust.plist")
        rc, out, err = module.run_command(macos.macos_trust_export_argv(out_file, security))
        if rc != 0:
            if "No Trust Settings" in (err + out):
                return set()
            module.warn("could not export admin trust settings (%s); presence is judged by keychain "
                        "membership only" % (err or out).strip())
            return None
        with open(out_file, "rb") as handle:
            return macos.parse_trust_settings(handle.read())
    except TrustopsError as exc:
        module.warn("%s; presence is judged by keychain membership only" % exc)
        return None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def run_macos(module, lay, state, cert, kind, hexed, result):
    security = module.get_bin_path("security", required=True)
    keychain = lay.keychain

    def scan():
        argv = macos.macos_find_argv(keychain, security)
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip()), **result)
        return macos.parse_find_certificate(out), _macos_trusted(module, security)

    items, trusted = scan()
    s1 = names.cert_digests(cert)[1] if cert is not None else (hexed if kind == "sha1" else None)

    def trusted_now(items_, trusted_):
        hit = [i for i in items_ if i.holds(kind, hexed)]
        return bool(hit) and (trusted_ is None or any(i.sha1 in trusted_ for i in hit))

    if state == "present":
        steps = macos.plan_macos_present(cert, items, trusted)
    else:
        steps = macos.plan_macos_absent(kind, hexed, items, trusted, cert)
    was_in_keychain = any(i.holds(kind, hexed) for i in items)
    result.update(path=keychain if state == "present" else None, bundle=keychain,
                  bundle_contains=trusted_now(items, trusted), changed=bool(steps),
                  removed=sorted(set("%s#%s" % (keychain, st.sha1) for st in steps if st.action == "delete")),
                  reasons=["security %s %s" % (st.action, st.sha1) for st in steps])
    if module._diff:
        label = ("SHA-1 %s" % names.colon(s1)) if s1 else ("SHA-256 %s" % names.colon(hexed))

        def text(present):
            return "%s: %s %s\n" % (keychain, "trusts" if present else "does not trust", label)
        result["diff"] = {"before": text(result["bundle_contains"]), "after": text(state == "present")}
    if module.check_mode or not steps:
        module.exit_json(**result)

    tmpdir = tempfile.mkdtemp(prefix="trustops-")
    try:
        for step in steps:
            cert_file = None
            if step.needs_file:
                cert_file = os.path.join(tmpdir, "%s.pem" % step.sha1)
                with open(cert_file, "w") as handle:
                    handle.write(step.pem)
            argv = step.argv(keychain, cert_file, security)
            rc, out, err = module.run_command(argv)
            result["cmd"] = _cmd(argv, rc, out, err)
            if rc != 0:
                msg = "%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip())
                if state == "present" and not was_in_keychain:
                    # add-trusted-cert adds to the keychain before it sets trust settings: undo the add
                    now_items, _trusted = scan()
                    if any(i.sha1 == step.sha1 for i in now_items):
                        undo = macos.macos_delete_argv(step.sha1, keychain, security)
                        rc2, _out2, err2 = module.run_command(undo)
                        msg += ("; the certificate was removed from %s again" % keychain if rc2 == 0 else
                                "; removing the certificate from %s again FAILED (%s): it is in the keychain "
                                "without trust settings" % (keychain, err2.strip()))
                    else:
                        msg += "; %s is unchanged" % keychain
                module.fail_json(msg=msg, **result)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    items, trusted = scan()
    result["bundle_contains"] = trusted_now(items, trusted)
    if result["bundle_contains"] != (state == "present"):
        module.fail_json(msg="the security commands succeeded, but %s %s the certificate afterwards"
                         % (keychain, "does not trust" if state == "present" else "still holds"), **result)
    module.exit_json(**result)


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
    state = params["state"]
    result = {"changed": False, "store": None, "path": None, "removed": [], "bundle": None,
              "bundle_contains": False, "cmd": None, "findings": [], "reasons": []}
    result.update(_facts(None))
    try:
        if state == "present" and params["fingerprint"]:
            raise TrustopsError("fingerprint identifies a certificate to remove (state=absent); "
                                "state=present needs src or content")
        store = params["platform"]
        if store == "auto":
            store = layouts.detect_store(_platform.system(), _which(module))
        result["store"] = store
        lay = _layout(store)

        cert = None
        if params["src"] is not None:
            cert = names.load_anchor(_read_src(params["src"]), "src %s" % params["src"])
        elif params["content"] is not None:
            cert = names.load_anchor(reader.read_input(content=params["content"], option="content",
                                                            max_bytes=reader.MAX_CERTIFICATE), "content")
        if cert is not None:
            kind, hexed = "sha256", names.cert_digests(cert)[0]
            result.update(_facts(cert))
        else:
            kind, hexed = names.normalize_fingerprint(params["fingerprint"])
            if kind == "sha1":
                result.update(sha1=names.colon(hexed), thumbprint=hexed)
            else:
                result.update(sha256=names.colon(hexed))

        name = None
        if state == "present":
            findings = anchor_policy.check_anchor(cert, **anchor_policy.options_from(params))
            result["findings"] = [f.as_dict() for f in findings]
            if fails(findings):
                errors = [f for f in findings if f.severity == "error"]
                module.fail_json(msg="refusing to trust %s: %s; nothing was changed"
                                 % (result["subject"], summary(errors)), **result)
            name = names.default_name(cert) if params["name"] is None else names.check_name(params["name"])
            result["name"] = name

        if store == "macos":
            run_macos(module, lay, state, cert, kind, hexed, result)
        else:
            run_linux(module, lay, state, cert, kind, hexed, name, result)
    except TrustopsError as exc:
        module.fail_json(msg="%s; nothing was changed" % to_native(exc), **result)
    except Exception as exc:  # pragma: no cover - a bug; report it without a raw traceback
        module.fail_json(msg="unexpected error: %s" % to_native(exc), exception=traceback.format_exc(), **result)


if __name__ == "__main__":
    main()
