# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trust_anchor module, run in-process through AnsibleModule against a relocated Debian store.

Nothing touches this machine's trust store: the module's layout seam (``_layout``) points it at
a Debian store inside a temporary directory, and this machine's real ``update-ca-certificates``
maintains that store.  ``openssl verify`` is the referee.  The macOS branch is not run here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest
from module_runner import run_module
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names
from ansible_collections.trustops.tableau.plugins.modules import trust_anchor

OPENSSL = shutil.which("openssl")
UPDATE_CA = shutil.which("update-ca-certificates", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


@pytest.fixture(scope="module")
def cas(pki):
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    root = pki.root(cn="Tableau Test Root")
    other = pki.root(cn="Tableau Other Root")
    system = pki.root(cn="Distro System Root")
    return {
        "root": root, "other": other, "system": system,
        "leaf": pki.leaf(root, cn="tableau.example.test", dns=("tableau.example.test",)),
        "other_leaf": pki.leaf(other, cn="other.example.test", dns=("other.example.test",)),
        "expired": pki.root(cn="Expired Root", days=-1, start_days=-40),
        "selfsigned": pki.self_signed_leaf(cn="tableau-ss.example.test", dns=("tableau-ss.example.test",)),
        "weak": pki.root(cn="Weak Root", key=make_key("rsa", 1024, fresh=True)),
    }


class Store:
    """A relocated Debian store the module manages, with helpers to look at it."""

    def __init__(self, tmp_path, cas, monkeypatch, store="debian"):
        assert UPDATE_CA, "update-ca-certificates (Debian package ca-certificates) is required by this test"
        assert OPENSSL, "openssl is required by this test (independent referee)"
        self.tmp = tmp_path
        self.lay = layouts.layout(store, str(tmp_path / "root"))
        if store == "debian":
            self._write(os.path.join(self.lay.certsdir, "distro", "Distro_System_Root.crt"), cas["system"].pem)
            self._write(self.lay.certsconf, b"distro/Distro_System_Root.crt\n")
            os.makedirs(self.lay.etccertsdir)
            os.makedirs(self.lay.anchors_dir)
            subprocess.run(layouts.update_argv(self.lay, binary=UPDATE_CA), check=True, capture_output=True)
        monkeypatch.setattr(trust_anchor, "_layout", lambda s: self.lay)
        # the module finds the tool by name; this machine's copy is the real Debian script
        monkeypatch.setenv("PATH", os.path.dirname(UPDATE_CA) + ":" + os.environ.get("PATH", ""))

    @staticmethod
    def _write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def put(self, name, data):
        return self._write(os.path.join(self.lay.anchors_dir, name), data)

    def snapshot(self):
        files = {}
        for dirpath, _dirs, filenames in os.walk(self.lay.anchors_dir):
            for n in filenames:
                p = os.path.join(dirpath, n)
                with open(p, "rb") as handle:
                    files[os.path.relpath(p, self.lay.anchors_dir)] = hashlib.sha256(handle.read()).hexdigest()
        bundle = None
        if self.lay.bundle and os.path.exists(self.lay.bundle):
            with open(self.lay.bundle, "rb") as handle:
                bundle = hashlib.sha256(handle.read()).hexdigest()
        return files, bundle

    def anchors(self):
        return sorted(self.snapshot()[0])

    def verifies(self, issued, capath=False):
        leaf = self._write(str(self.tmp / f"leaf-{id(issued)}.pem"), issued.pem)
        argv = [OPENSSL, "verify"]
        argv += ["-CApath", self.lay.etccertsdir, "-no-CAfile", "-no-CAstore"] if capath else \
            ["-CAfile", self.lay.bundle, "-no-CApath", "-no-CAstore"]
        return subprocess.run(argv + [leaf], capture_output=True, check=False).returncode == 0


@pytest.fixture
def store(tmp_path, cas, monkeypatch):
    return Store(tmp_path, cas, monkeypatch)


@pytest.fixture
def run():
    """trust_anchor's main() in this process, as a module (tests/support/module_runner.py)."""
    def _run(check=False, diff=False, **args):
        return run_module(trust_anchor.main, args, check=check, diff=diff)
    return _run


def warned(res, text):
    """A warning mentions text (2.19 returns warnings as structured events, older cores as strings)."""
    return text in json.dumps(res.get("warnings", []))


def pem(issued):
    return issued.pem.decode("ascii")


# --------------------------------------------------------------------------- install, converge, remove

def test_install_then_converged(store, run, cas):
    assert not store.verifies(cas["leaf"])
    res = run(content=pem(cas["root"]), platform="debian")
    assert res["changed"] and not res.get("failed"), res
    name = "trustops-tableau-test-root-" + names.cert_digests(cas["root"].cert)[0][:16].lower()
    assert res["name"] == name
    assert res["path"] == os.path.join(store.lay.anchors_dir, name + ".crt")
    assert oct(os.stat(res["path"]).st_mode & 0o777) == "0o644"
    with open(res["path"], "rb") as handle:
        assert handle.read() == cas["root"].pem
    assert res["bundle_contains"] is True
    assert res["cmd"]["rc"] == 0 and res["cmd"]["argv"][0].endswith("update-ca-certificates")
    assert "--fresh" not in res["cmd"]["argv"]
    assert res["sha256"] == names.colon(names.cert_digests(cas["root"].cert)[0])
    assert res["thumbprint"] == names.cert_digests(cas["root"].cert)[1]
    assert res["subject"] == "CN=Tableau Test Root,O=trustops test"
    assert res["findings"] == [] and res["store"] == "debian" and res["removed"] == []
    assert store.verifies(cas["leaf"]) and store.verifies(cas["leaf"], capath=True)

    before = store.snapshot()
    again = run(content=pem(cas["root"]), platform="debian")
    assert not again["changed"] and again["cmd"] is None and again["path"] == res["path"]
    assert store.snapshot() == before


def test_src_der_and_pkcs7_on_the_target(store, run, cas, tmp_path):
    der = store._write(str(tmp_path / "root.der"), cas["root"].der)
    res = run(src=der, platform="debian", name="corp-root")
    assert res["changed"] and res["path"].endswith("/corp-root.crt")
    p7 = store._write(str(tmp_path / "root.p7b"),
                      pkcs7.serialize_certificates([cas["root"].cert], serialization.Encoding.PEM))
    assert not run(src=p7, platform="debian", name="corp-root")["changed"]


def test_check_mode_changes_nothing_and_diff_has_no_pem(store, run, cas):
    before = store.snapshot()
    res = run(content=pem(cas["root"]), name="corp-root", platform="debian", check=True, diff=True)
    assert res["changed"] and res["cmd"] is None
    assert store.snapshot() == before
    assert res["path"].endswith("/corp-root.crt") and not os.path.exists(res["path"])
    assert res["bundle_contains"] is False
    diff = res["diff"]
    assert "corp-root.crt" not in diff["before"]
    assert "corp-root.crt  sha256={}".format(res["sha256"]) in diff["after"]
    assert "lacks the certificate" in diff["before"] and "includes the certificate" in diff["after"]
    assert "BEGIN" not in json.dumps(diff)


def test_check_mode_does_not_create_the_anchors_directory(store, run, cas):
    shutil.rmtree(store.lay.anchors_dir)
    res = run(content=pem(cas["root"]), platform="debian", check=True)
    assert res["changed"] and not os.path.exists(store.lay.anchors_dir)
    res = run(content=pem(cas["root"]), platform="debian")
    assert res["changed"] and oct(os.stat(store.lay.anchors_dir).st_mode & 0o777) == "0o755"
    assert store.verifies(cas["leaf"])


def test_same_certificate_under_another_name_is_present(store, run, cas):
    store.put("corp/legacy.crt", cas["root"].pem)
    run(content=pem(cas["root"]), platform="debian", name="legacy-seed")   # runs the update once
    res = run(content=pem(cas["root"]), platform="debian", name="something-else")
    assert not res["changed"]
    assert res["path"].endswith("/corp/legacy.crt")
    assert store.anchors() == ["corp/legacy.crt"]


def test_file_present_but_update_never_ran(store, run, cas):
    store.put("corp-root.crt", cas["root"].pem)
    assert not store.verifies(cas["leaf"])
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root")
    assert res["changed"] and res["cmd"]["rc"] == 0 and "never ran" in res["reasons"][0]
    assert store.anchors() == ["corp-root.crt"] and store.verifies(cas["leaf"])


def test_rotation_under_the_same_name(store, run, cas):
    run(content=pem(cas["root"]), platform="debian", name="corp-root")
    res = run(content=pem(cas["other"]), platform="debian", name="corp-root")
    assert res["changed"] and "--fresh" in res["cmd"]["argv"]
    assert warned(res, "replacing anchor")
    assert store.verifies(cas["other_leaf"], capath=True) and store.verifies(cas["other_leaf"])
    assert not store.verifies(cas["leaf"], capath=True) and not store.verifies(cas["leaf"])


def test_update_false_then_true(store, run, cas):
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root", update=False)
    assert res["changed"] and res["cmd"] is None and res["bundle_contains"] is False
    assert warned(res, "update=false")
    assert store.anchors() == ["corp-root.crt"] and not store.verifies(cas["leaf"])
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root")
    assert res["changed"] and res["bundle_contains"] and store.verifies(cas["leaf"])


def test_absent_by_certificate_and_by_fingerprints(store, run, cas):
    run(content=pem(cas["root"]), platform="debian", name="corp-root")
    store.put("sub/copy.crt", cas["root"].pem)
    garbage = store.put("notes.crt", b"keep me, I am not a certificate")
    res = run(content=pem(cas["root"]), platform="debian", state="absent")
    assert res["changed"] and "--fresh" in res["cmd"]["argv"]
    removed = sorted(os.path.relpath(p, store.lay.anchors_dir) for p in res["removed"])
    assert removed == ["corp-root.crt", "sub/copy.crt"]
    assert res["bundle_contains"] is False and res["path"] is None
    assert warned(res, "notes.crt")
    assert os.path.exists(garbage)
    assert not store.verifies(cas["leaf"]) and not store.verifies(cas["leaf"], capath=True)
    again = run(content=pem(cas["root"]), platform="debian", state="absent")
    assert not again["changed"] and again["removed"] == []

    # by SHA-1, colons and lower case; facts come from the anchor file
    run(content=pem(cas["root"]), platform="debian", name="corp-root")
    s256, s1 = names.cert_digests(cas["root"].cert)
    res = run(fingerprint=names.colon(s1).lower(), platform="debian", state="absent")
    assert res["changed"] and res["subject"] == "CN=Tableau Test Root,O=trustops test"
    assert res["sha256"] == names.colon(s256)
    # by SHA-256 when nothing holds it: ok, nothing to do
    res = run(fingerprint=s256, platform="debian", state="absent")
    assert not res["changed"] and res["subject"] is None


def test_absent_check_mode(store, run, cas):
    run(content=pem(cas["root"]), platform="debian", name="corp-root")
    before = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian", state="absent", check=True, diff=True)
    assert res["changed"] and res["removed"] and store.snapshot() == before
    assert "corp-root.crt" in res["diff"]["before"] and "corp-root.crt" not in res["diff"]["after"]


def test_absent_of_a_system_ca_changes_nothing(store, run, cas):
    res = run(content=pem(cas["system"]), platform="debian", state="absent")
    assert not res["changed"] and res["bundle_contains"] is True
    assert warned(res, "system CA")


def test_allow_leaf_trusts_a_self_signed_server_certificate(store, run, cas):
    res = run(content=pem(cas["selfsigned"]), platform="debian")
    assert res["failed"] and "not a CA" in res["msg"]
    res = run(content=pem(cas["selfsigned"]), platform="debian", allow_leaf=True)
    assert res["changed"] and [f["code"] for f in res["findings"]] == ["ANCHOR-001"]
    assert res["findings"][0]["severity"] == "warning"
    assert store.verifies(cas["selfsigned"])


# --------------------------------------------------------------------------- refused input changes nothing

@pytest.mark.parametrize("what,needle", [
    ("garbage", "not PEM or DER"),
    ("key", "private key"),
    ("expired", "expired"),
    ("leaf", "not a CA"),
    ("two", "holds 2 certificates"),
    ("name", "name 'bad/name'"),
    ("present-fingerprint", "state=present needs src or content"),
    ("missing-src", "No such file or directory"),
    ("bad-fingerprint", "hex digits"),
    ("weak", "1024-bit RSA key"),
    ("bad-digest", "blocklisted_digests: unknown digest 'shaa1'"),
])
def test_refused_input_changes_nothing(store, run, cas, what, needle, tmp_path):
    run(content=pem(cas["other"]), platform="debian", name="existing")
    before = store.snapshot()
    args = {
        "garbage": {"content": "this is not a certificate"},
        "key": {"content": cas["root"].key_pem().decode("ascii")},
        "expired": {"content": pem(cas["expired"])},
        "leaf": {"content": pem(cas["leaf"])},
        "two": {"content": pem(cas["root"]) + pem(cas["other"])},
        "name": {"content": pem(cas["root"]), "name": "bad/name"},
        "present-fingerprint": {"fingerprint": "ab" * 32},
        "missing-src": {"src": str(tmp_path / "nope.crt")},
        "bad-fingerprint": {"fingerprint": "abc", "state": "absent"},
        "weak": {"content": pem(cas["weak"])},
        "bad-digest": {"content": pem(cas["root"]), "blocklisted_digests": ["shaa1"]},
    }[what]
    res = run(platform="debian", **args)
    assert res["failed"] and not res["changed"], res
    assert needle in res["msg"], res["msg"]
    assert "Traceback" not in res["msg"]
    assert store.snapshot() == before
    if what in ("expired", "leaf", "weak"):
        assert any(f["severity"] == "error" for f in res["findings"])


@pytest.fixture(scope="module")
def sha1_intermediate(tmp_path_factory):
    """A CA certificate signed with SHA-1 by a root (openssl: cryptography no longer signs SHA-1)."""
    d = tmp_path_factory.mktemp("sha1")

    def ossl(*args):
        proc = subprocess.run([OPENSSL] + [str(a) for a in args], capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr

    (d / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    ossl("req", "-x509", "-sha256", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "root.key", "-out",
         d / "root.pem", "-days", "30", "-subj", "/CN=SHA1 Parent Root")
    ossl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "int.key", "-out", d / "int.csr",
         "-subj", "/CN=SHA1 Issued CA")
    ossl("x509", "-req", "-sha1", "-in", d / "int.csr", "-CA", d / "root.pem", "-CAkey", d / "root.key",
         "-set_serial", "9", "-out", d / "int.pem", "-days", "30", "-extfile", d / "ca.ext")
    return (d / "int.pem").read_text()


def test_policy_options_reach_the_store(store, run, cas, sha1_intermediate):
    """The shared policy's options decide; what they let through really lands in the store."""
    before = store.snapshot()
    res = run(content=sha1_intermediate, platform="debian")
    assert res["failed"] and not res["changed"] and "ANCHOR-008" in res["msg"]
    assert {(f["code"], f["severity"]) for f in res["findings"]} == {
        ("ANCHOR-004", "warning"), ("ANCHOR-008", "error")}
    # the refusal names the failing code with its remedy; the warning is a warning of the task too
    refused = [f for f in res["findings"] if f["code"] == "ANCHOR-008"][0]
    assert "error ANCHOR-008: " in res["msg"] and f"Remedy: {refused['remedy'][:40]}" in res["msg"], res["msg"]
    assert res["msg"].endswith("| also: warning ANCHOR-004; nothing was changed"), res["msg"]
    assert warned(res, "ANCHOR-004 (warning): "), res.get("warnings")
    assert store.snapshot() == before
    res = run(content=sha1_intermediate, platform="debian", blocklisted_digests=[])
    assert res["changed"] and not res.get("failed"), res
    assert [(f["code"], f["severity"]) for f in res["findings"]] == [("ANCHOR-004", "warning")]
    assert warned(res, "ANCHOR-004 (warning): "), res.get("warnings")
    assert res["bundle_contains"] is True
    res = run(content=pem(cas["weak"]), platform="debian", min_rsa_key_size=1024)
    assert res["changed"] and res["findings"] == [] and res["bundle_contains"] is True
    res = run(content=pem(cas["root"]), platform="debian", min_rsa_key_size=4096)
    assert res["failed"] and [f["code"] for f in res["findings"]] == ["ANCHOR-005"]
    assert "2048-bit RSA key; the minimum is 4096" in res["msg"]


def test_absent_refuses_to_split_a_multi_certificate_file(store, run, cas):
    store.put("both.crt", cas["root"].pem + cas["other"].pem)
    run(content=pem(cas["system"]), platform="debian", state="absent")   # settle
    before = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian", state="absent")
    assert res["failed"] and "both.crt" in res["msg"] and "split" in res["msg"]
    assert store.snapshot() == before


def test_expired_certificate_can_always_be_removed(store, run, cas):
    run(content=pem(cas["expired"]), platform="debian", name="old", allow_expired=True)
    res = run(content=pem(cas["expired"]), platform="debian", state="absent")
    assert res["changed"] and res["findings"] == []


# --------------------------------------------------------------------------- the update fails

def test_update_failure_restores_the_anchors_directory(store, run, cas):
    run(content=pem(cas["other"]), platform="debian", name="existing")
    files_before, _bundle = store.snapshot()
    os.rename(store.lay.etccertsdir, store.lay.etccertsdir + ".gone")   # the real tool cannot cd there
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root")
    assert res["failed"] and not res["changed"]
    assert "failed (rc=" in res["msg"] and "anchors directory was restored" in res["msg"]
    assert "regenerating the store failed again" in res["msg"] and res["resync_cmd"]["rc"] != 0
    assert store.snapshot()[0] == files_before
    # the same for a removal: the removed file comes back, byte for byte and with its mode
    os.chmod(os.path.join(store.lay.anchors_dir, "existing.crt"), 0o640)
    files_before, _bundle = store.snapshot()
    res = run(content=pem(cas["other"]), platform="debian", state="absent")
    assert res["failed"] and "restored" in res["msg"]
    assert store.snapshot()[0] == files_before
    assert oct(os.stat(os.path.join(store.lay.anchors_dir, "existing.crt")).st_mode & 0o777) == "0o640"


def test_bundle_not_reflecting_the_change_is_a_failure_and_rolled_back(store, run, cas, monkeypatch):
    # a layout whose bundle is not the file the tool writes: as on a host that is not Debian-like
    store.lay.bundle = os.path.join(store.lay.etccertsdir, "elsewhere.pem")
    files_before, bundle_before = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root")
    assert res["failed"] and "lacks the certificate afterwards" in res["msg"]
    assert "regenerated from it; nothing changed" in res["msg"] and res["resync_cmd"]["rc"] == 0
    assert store.snapshot()[0] == files_before
    store.lay.bundle = os.path.join(store.lay.etccertsdir, "ca-certificates.crt")
    assert not store.verifies(cas["leaf"])


def test_missing_update_tool_changes_nothing(store, run, cas):
    store.lay.update = ("no-such-update-tool",)
    before = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian")
    assert res["failed"] and not res["changed"]
    assert "no-such-update-tool not found on the managed host; nothing was changed" in res["msg"]
    assert store.snapshot() == before


def test_update_tool_failing_midway_is_rolled_back(store, run, cas, monkeypatch):
    # the real script without its helpers (sed, find, openssl): it fails part-way through
    monkeypatch.setenv("PATH", "/nonexistent")
    files_before, _bundle = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root")
    assert res["failed"] and not res["changed"] and "anchors directory was restored" in res["msg"]
    assert store.snapshot()[0] == files_before


# --------------------------------------------------------------------------- RHEL layout (check mode only: no update-ca-trust here)

def test_redhat_check_mode_scans_flat_directory_any_name(tmp_path, cas, monkeypatch, run):
    lay = layouts.layout("redhat", str(tmp_path / "rh"))
    monkeypatch.setattr(trust_anchor, "_layout", lambda s: lay)
    os.makedirs(lay.anchors_dir)
    with open(os.path.join(lay.anchors_dir, "corp.der"), "wb") as handle:
        handle.write(cas["root"].der)
    res = run(content=pem(cas["root"]), platform="redhat", check=True)
    # the DER file counts (p11-kit reads it), but the extracted bundle does not exist: update needed
    assert res["changed"] and res["path"].endswith("/corp.der") and res["cmd"] is None
    assert res["store"] == "redhat" and res["bundle"].endswith("extracted/pem/tls-ca-bundle.pem")
    res = run(content=pem(cas["other"]), platform="redhat", check=True)
    assert res["changed"] and res["path"] == os.path.join(lay.anchors_dir, names.default_name(cas["other"].cert) + ".crt")


# --------------------------------------------------------------------------- issue 11: names, truthful warnings, input

@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_empty_name_is_an_error_not_the_default(store, run, cas, name):
    """An empty (or blank) name is a mistake in the play, not a request for the default name."""
    before = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian", name=name)
    assert res.get("failed") and not res["changed"], res
    assert "name" in res["msg"] and "empty" in res["msg"], res["msg"]
    assert "leave name out" in res["msg"]
    assert store.snapshot() == before


def test_check_mode_warning_says_nothing_was_written(store, run, cas):
    """update=false in check mode: the warning must not claim that files were written."""
    before = store.snapshot()
    res = run(content=pem(cas["root"]), platform="debian", name="corp-root", update=False, check=True)
    assert res["changed"] and store.snapshot() == before
    # warnings of earlier tests in this process may linger: look at this store's only
    mine = [w for w in res.get("warnings", []) if store.lay.anchors_dir in json.dumps(w)]
    text = json.dumps(mine)
    assert mine and "was not regenerated" not in text, text
    assert "check mode: nothing was written" in text and "would not regenerate" in text, text
    real = run(content=pem(cas["root"]), platform="debian", name="corp-root", update=False)
    assert warned(real, "was not regenerated")


def test_src_that_is_a_socket_names_the_path_once(store, run, tmp_path):
    """A src the reader refuses (a socket) is named once, with what to do; nothing changes."""
    import socket

    path = str(tmp_path / "ca.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        before = store.snapshot()
        res = run(src=path, platform="debian")
    finally:
        sock.close()
    assert res.get("failed") and not res["changed"], res
    assert res["msg"].count(path) == 1, res["msg"]
    assert res["msg"].startswith(f"src {path}: ") and "[Errno" not in res["msg"], res["msg"]
    assert store.snapshot() == before


def test_src_over_the_certificate_cap_is_refused_before_reading(store, run, tmp_path):
    """src is read with the certificate cap (reader.MAX_CERTIFICATE), not a private larger one."""
    from ansible_collections.trustops.tableau.plugins.module_utils import reader

    path = str(tmp_path / "big.crt")
    with open(path, "wb") as handle:
        handle.truncate(reader.MAX_CERTIFICATE + 1)
    res = run(src=path, platform="debian")
    assert res.get("failed") and f"{reader.MAX_CERTIFICATE} bytes" in res["msg"], res["msg"]
    assert "docs/inputs.md" in res["msg"]


def test_min_ec_key_size_and_allow_expired_have_their_effect(store, run, cas, pki):
    """Every documented policy option has an effect at the module (issue 11's audit of options)."""
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    ec_root = pki.root(cn="EC Root", key=make_key("ec", 256, fresh=True))
    before = store.snapshot()
    res = run(content=ec_root.pem.decode("ascii"), platform="debian", min_ec_key_size=384)
    assert res.get("failed") and [f["code"] for f in res["findings"]] == ["ANCHOR-006"], res
    assert store.snapshot() == before
    res = run(content=ec_root.pem.decode("ascii"), platform="debian")
    assert res["changed"] and res["findings"] == [] and store.verifies(pki.leaf(ec_root))

    res = run(content=pem(cas["expired"]), platform="debian", name="old")
    assert res.get("failed") and res["findings"][0]["severity"] == "error"
    res = run(content=pem(cas["expired"]), platform="debian", name="old", allow_expired=True)
    assert res["changed"] and [(f["code"], f["severity"]) for f in res["findings"]] == [("ANCHOR-002", "warning")]
    assert "old.crt" in store.anchors()
