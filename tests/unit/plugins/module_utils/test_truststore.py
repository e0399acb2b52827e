# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trust store core against real directories, real certificates and the real Debian tool.

Debian: ``update-ca-certificates`` (this machine's, from the ca-certificates package) runs on a
relocated store in a temporary directory, and ``openssl verify`` is the referee for both the
bundle (-CAfile) and the hashed directory (-CApath).  RHEL and macOS: layouts, scanning and the
argv of their commands are checked as data; their tools are NOT run here (no RHEL or macOS host).
"""

from __future__ import annotations

import datetime
import os
import plistlib
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import macos
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import plan as planning
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import scan
from ansible_collections.trustops.tableau.plugins.module_utils.anchor_policy import check_anchor
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError

UPDATE_CA = shutil.which("update-ca-certificates", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
OPENSSL = shutil.which("openssl")


def _require_tools():
    # Not a skip: these tests are the proof that the Debian store really works.
    assert UPDATE_CA, "update-ca-certificates (Debian package ca-certificates) is required by this test"
    assert OPENSSL, "openssl is required by this test (independent referee)"


def sha256(issued):
    return names.cert_digests(issued.cert)[0]


def sha1(issued):
    return names.cert_digests(issued.cert)[1]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def cas(pki):
    root = pki.root(cn="Trustops Unit Root")
    other = pki.root(cn="Trustops Other Root")
    system = pki.root(cn="Distro System Root")
    return {
        "root": root,
        "other": other,
        "system": system,
        "leaf": pki.leaf(root, cn="tableau.example.test", dns=("tableau.example.test",)),
        "other_leaf": pki.leaf(other, cn="other.example.test", dns=("other.example.test",)),
        "system_leaf": pki.leaf(system, cn="sys.example.test", dns=("sys.example.test",)),
    }


def debian_root(tmp_path, cas):
    """A relocated Debian store with one distribution CA enabled in ca-certificates.conf."""
    root = str(tmp_path / "deb")
    lay = layouts.layout("debian", root)
    write(os.path.join(lay.certsdir, "distro", "Distro_System_Root.crt"), cas["system"].pem)
    write(lay.certsconf, b"# comment\ndistro/Distro_System_Root.crt\n")
    os.makedirs(lay.etccertsdir)
    os.makedirs(lay.anchors_dir)
    return lay


def run_update(lay, removing=False):
    argv = layouts.update_argv(lay, removing=removing, binary=UPDATE_CA)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc


def openssl_verify(leaf, cafile=None, capath=None, tmp_path=None):
    path = os.path.join(str(tmp_path), f"leaf-{sha256(leaf)[:8]}.pem")
    write(path, leaf.pem)
    argv = [OPENSSL, "verify"]
    if cafile:
        argv += ["-CAfile", cafile]
    if capath:
        argv += ["-CApath", capath]
    # no default store: only what we point at may be trusted
    argv += ["-no-CAstore", "-no-CAfile"] if capath and not cafile else []
    argv += ["-no-CApath"] if cafile and not capath else []
    argv.append(path)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- fingerprints, names, input

@pytest.mark.parametrize("text", [
    "ab" * 32, "AB" * 32, ":".join(["ab"] * 32), " ".join(["Ab"] * 32), "-".join(["aB"] * 32)])
def test_normalize_sha256_variants(text):
    assert names.normalize_fingerprint(text) == ("sha256", "AB" * 32)


def test_normalize_sha1():
    assert names.normalize_fingerprint("3b:1e:fd:3a:66:ea:28:b1:66:97:39:47:03:a7:2c:a3:40:a0:5b:d5") == (
        "sha1", "3B1EFD3A66EA28B16697394703A72CA340A05BD5")


@pytest.mark.parametrize("text,needle", [
    ("", "empty"), ("zz" * 32, "not hexadecimal"), ("ab" * 31, "62 hex digits"), ("ab" * 33, "66 hex digits")])
def test_normalize_rejects(text, needle):
    with pytest.raises(TrustopsError, match=needle):
        names.normalize_fingerprint(text)


def test_default_name_is_deterministic_and_safe(pki, cas):
    name = names.default_name(cas["root"].cert)
    assert name == "trustops-trustops-unit-root-{}".format(sha256(cas["root"])[:16].lower())
    assert names.default_name(cas["root"].cert) == name
    assert names.anchor_name(name) == name
    odd = pki.root(cn="Ünïcode / Root (Test) CA")
    assert names.anchor_name(names.default_name(odd.cert)).startswith("trustops-unicode-root-test-ca-")
    no_cn = pki._build("unused", None, odd.key, True, cn=False)
    assert names.default_name(no_cn.cert).startswith("trustops-trustops-test-")  # falls back to O=


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/b", ".hidden", "root.crt", "ROOT.PEM", "a b", "x" * 129])
def test_anchor_name_rejects(bad):
    with pytest.raises(TrustopsError, match="name"):
        names.anchor_name(bad)
    assert names.check_name is names.anchor_name  # the name of earlier releases


def test_load_anchor_pem_der_pkcs7(cas):
    root = cas["root"]
    p7 = pkcs7.serialize_certificates([root.cert], serialization.Encoding.DER)
    for data in (root.pem, root.der, p7, root.pem.decode("ascii")):
        assert names.cert_digests(names.load_anchor(data, "src"))[0] == sha256(root)


@pytest.mark.parametrize("what,needle", [
    ("two", "holds 2 certificates"), ("key", "private key"), ("garbage", "not PEM or DER"), ("empty", "empty")])
def test_load_anchor_refuses(cas, what, needle):
    data = {"two": cas["root"].pem + cas["other"].pem, "key": cas["root"].key_pem(),
            "garbage": b"this is not a certificate\n", "empty": b""}[what]
    with pytest.raises(certs.CertificateError, match=needle):
        names.load_anchor(data, "/tmp/in.crt")


# --------------------------------------------------------------------------- policy findings
# The policy is anchor_policy.check_anchor (shared with win_trust_anchor; every code is tested in
# test_anchor_policy.py).  These are the trust store's own cases, same inputs and verdicts as
# before the policy was shared, except ANCHOR-005, now an error (was a warning): the Debian
# store below shows why.

def codes(findings):
    return {f.code: f.severity for f in findings}


def test_findings_root_is_clean(cas):
    assert check_anchor(cas["root"].cert) == []


def test_findings_leaf(cas, pki):
    assert codes(check_anchor(cas["leaf"].cert)) == {"ANCHOR-001": "error"}
    assert codes(check_anchor(cas["leaf"].cert, allow_leaf=True)) == {"ANCHOR-001": "warning"}
    selfsigned = pki.self_signed_leaf()
    assert "not a CA" in check_anchor(selfsigned.cert)[0].message


def test_findings_validity(pki):
    expired = pki.root(cn="Old Root", days=-2, start_days=-30)
    future = pki.root(cn="Future Root", days=60, start_days=5)
    assert codes(check_anchor(expired.cert)) == {"ANCHOR-002": "error"}
    assert "expired" in check_anchor(expired.cert)[0].message
    assert codes(check_anchor(expired.cert, allow_expired=True)) == {"ANCHOR-002": "warning"}
    assert codes(check_anchor(future.cert)) == {"ANCHOR-003": "error"}
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10)
    assert check_anchor(future.cert, now=later) == []


def test_findings_intermediate_and_weak_key(pki, cas):
    inter = pki.intermediate(cas["root"])
    assert codes(check_anchor(inter.cert)) == {"ANCHOR-004": "warning"}
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    weak = pki.root(cn="Weak Root", key=make_key("rsa", 1024, fresh=True))
    assert codes(check_anchor(weak.cert)) == {"ANCHOR-005": "error"}
    assert check_anchor(weak.cert, min_rsa_key_size=1024) == []


def test_weak_root_in_the_debian_store_verifies_nothing(tmp_path, cas, pki):
    """Why ANCHOR-005 is an error: installed by the real tool, a 1024-bit root is in the bundle,
    yet OpenSSL at security level 2 (Debian's TLS default) verifies nothing through it."""
    _require_tools()
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    weak = pki.root(cn="Weak Store Root", key=make_key("rsa", 1024, fresh=True))
    weak_leaf = pki.leaf(weak, cn="weak.example.test", dns=("weak.example.test",))
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "weak.crt"), weak.pem)
    write(os.path.join(lay.anchors_dir, "good.crt"), cas["root"].pem)
    run_update(lay)
    bundle = scan.read_bundle(lay.bundle)
    assert bundle.contains("sha256", sha256(weak)) and bundle.contains("sha256", sha256(cas["root"]))
    leaf_path = write(str(tmp_path / "weak-leaf.pem"), weak_leaf.pem)
    good_path = write(str(tmp_path / "good-leaf.pem"), cas["leaf"].pem)
    base = [OPENSSL, "verify", "-auth_level", "2", "-CAfile", lay.bundle, "-no-CApath", "-no-CAstore"]
    weak_run = subprocess.run(base + [leaf_path], capture_output=True, text=True, check=False)
    assert weak_run.returncode != 0 and "CA certificate key too weak" in weak_run.stdout + weak_run.stderr
    good_run = subprocess.run(base + [good_path], capture_output=True, text=True, check=False)
    assert good_run.returncode == 0, good_run.stdout + good_run.stderr
    assert codes(check_anchor(weak.cert)) == {"ANCHOR-005": "error"}
    assert check_anchor(cas["root"].cert) == []


# --------------------------------------------------------------------------- detection and commands

def test_detect_store():
    tools = {"update-ca-certificates": "/usr/sbin/update-ca-certificates", "update-ca-trust": "/usr/bin/update-ca-trust",
             "security": "/usr/bin/security"}

    def which(present):
        return lambda name: tools[name] if name in present else None

    def exists(present):
        return lambda path: path in present

    assert layouts.detect_store("Darwin", which({"security"})) == "macos"
    assert layouts.detect_store("Linux", which({"update-ca-certificates"}), exists({"/etc/ca-certificates.conf"})) == "debian"
    assert layouts.detect_store("Linux", which({"update-ca-trust"}),
                                exists({"/etc/pki/ca-trust/source/anchors"})) == "redhat"
    # SUSE ships a different update-ca-certificates and no /etc/ca-certificates.conf
    with pytest.raises(TrustopsError, match="update-ca-certificates: found, /etc/ca-certificates.conf: missing"):
        layouts.detect_store("Linux", which({"update-ca-certificates"}), exists(set()))
    with pytest.raises(TrustopsError, match="'security' tool was not found"):
        layouts.detect_store("Darwin", which(set()))


def test_update_argv():
    deb = layouts.layout("debian")
    assert layouts.update_argv(deb) == ["update-ca-certificates"]
    assert layouts.update_argv(deb, removing=True, binary="/usr/sbin/update-ca-certificates") == [
        "/usr/sbin/update-ca-certificates", "--fresh"]
    rh = layouts.layout("redhat")
    # RHEL: not run here (no update-ca-trust on this machine); the argv is the documented one.
    assert layouts.update_argv(rh) == ["update-ca-trust", "extract"]
    assert layouts.update_argv(rh, removing=True) == ["update-ca-trust", "extract"]
    assert rh.anchors_dir == "/etc/pki/ca-trust/source/anchors"
    assert rh.bundle == "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
    assert deb.anchors_dir == "/usr/local/share/ca-certificates"
    assert deb.bundle == "/etc/ssl/certs/ca-certificates.crt"
    with pytest.raises(TrustopsError):
        layouts.update_argv(layouts.layout("macos"))
    with pytest.raises(TrustopsError, match="unknown trust store"):
        layouts.layout("suse")


def test_relocated_debian_argv_names_every_directory(tmp_path):
    lay = layouts.layout("debian", str(tmp_path))
    argv = layouts.update_argv(lay, removing=True)
    assert argv[:2] == ["update-ca-certificates", "--fresh"]
    opts = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert opts == {"--certsconf": str(tmp_path / "etc/ca-certificates.conf"),
                    "--certsdir": str(tmp_path / "usr/share/ca-certificates"),
                    "--localcertsdir": str(tmp_path / "usr/local/share/ca-certificates"),
                    "--etccertsdir": str(tmp_path / "etc/ssl/certs"),
                    "--hooksdir": str(tmp_path / "etc/ca-certificates/update.d")}


# --------------------------------------------------------------------------- scanning

def test_scan_debian(tmp_path, cas):
    lay = layouts.layout("debian", str(tmp_path))
    d = lay.anchors_dir
    write(os.path.join(d, "a.crt"), cas["root"].pem)
    write(os.path.join(d, "sub", "deeper", "b.crt"), cas["other"].pem)       # recursive
    write(os.path.join(d, "der.crt"), cas["system"].der)                      # DER: not usable on Debian
    write(os.path.join(d, "garbage.crt"), b"nonsense")
    write(os.path.join(d, "key.crt"), cas["root"].key_pem())
    write(os.path.join(d, "ignored.pem"), cas["other"].pem)                   # not *.crt
    write(os.path.join(d, "bundle.crt"), cas["root"].pem + cas["other"].pem)
    write(os.path.join(d, ".trustops-abc.tmp"), cas["root"].pem)              # our temp file
    entries, warnings = scan.scan_anchors(lay)
    by = {os.path.relpath(e.path, d): e for e in entries}
    assert sorted(by) == ["a.crt", "bundle.crt", "der.crt", "garbage.crt", "key.crt", "sub/deeper/b.crt"]
    assert by["a.crt"].usable and by["a.crt"].sha256 == [sha256(cas["root"])]
    assert by["sub/deeper/b.crt"].holds("sha1", sha1(cas["other"]))
    assert by["der.crt"].encoding == "der" and not by["der.crt"].usable and by["der.crt"].error is None
    assert "not PEM or DER" in by["garbage.crt"].error
    assert "private key" in by["key.crt"].error
    assert by["bundle.crt"].count == 2
    assert any("der.crt is DER" in w for w in warnings)
    assert any("garbage.crt" in w and "left alone" in w and w.count("garbage.crt") == 1 for w in warnings)


def test_scan_debian_follows_directory_symlinks_without_looping(tmp_path, cas):
    lay = layouts.layout("debian", str(tmp_path))
    write(os.path.join(lay.anchors_dir, "corp", "a.crt"), cas["root"].pem)
    os.symlink(os.path.join(lay.anchors_dir, "corp"), os.path.join(lay.anchors_dir, "corp", "loop"))
    entries, _w = scan.scan_anchors(lay)
    assert [os.path.basename(e.path) for e in entries] == ["a.crt"]


def test_scan_redhat_flat_any_name_der_ok(tmp_path, cas):
    lay = layouts.layout("redhat", str(tmp_path))
    d = lay.anchors_dir
    write(os.path.join(d, "a.pem"), cas["root"].pem)
    write(os.path.join(d, "b.der"), cas["other"].der)
    write(os.path.join(d, "sub", "c.crt"), cas["system"].pem)   # p11-kit does not recurse
    entries, warnings = scan.scan_anchors(lay)
    assert sorted(os.path.basename(e.path) for e in entries) == ["a.pem", "b.der"]
    assert all(e.usable for e in entries)
    assert warnings == []


def test_scan_missing_directory_is_empty(tmp_path):
    assert scan.scan_anchors(layouts.layout("debian", str(tmp_path))) == ([], [])


def test_read_bundle_and_others_debian(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(lay.bundle, b"# a comment\n" + cas["system"].pem + cas["root"].pem.replace(b"\n", b"\r\n"))
    bundle = scan.read_bundle(lay.bundle)
    assert bundle.count == 2 and bundle.contains("sha256", sha256(cas["root"]))
    assert bundle.contains("sha1", sha1(cas["system"]))
    others = scan.other_source_digests(lay)
    assert others.contains("sha256", sha256(cas["system"])) and not others.contains("sha256", sha256(cas["root"]))
    # a deselected (!) system CA is not a source
    write(lay.certsconf, b"!distro/Distro_System_Root.crt\n")
    assert not scan.other_source_digests(lay).contains("sha256", sha256(cas["system"]))
    assert scan.read_bundle(str(tmp_path / "missing.pem")).exists is False


def test_others_redhat(tmp_path, cas):
    lay = layouts.layout("redhat", str(tmp_path))
    p11kit = b"[p11-kit-object-v1]\nlabel: \"Distro\"\ntrusted: true\n" + cas["system"].pem
    write(os.path.join(str(tmp_path), "usr/share/pki/ca-trust-source/ca-bundle.trust.p11-kit"), p11kit)
    write(os.path.join(str(tmp_path), "etc/pki/ca-trust/source/blocklist/bad.crt"), cas["other"].pem)
    write(os.path.join(lay.anchors_dir, "ours.crt"), cas["root"].pem)
    others = scan.other_source_digests(lay)
    assert others.contains("sha256", sha256(cas["system"]))
    assert not others.contains("sha256", sha256(cas["other"]))   # blocklisted is not a source
    assert not others.contains("sha256", sha256(cas["root"]))    # our anchors are not "other"


# --------------------------------------------------------------------------- planning

def test_plan_present_writes_new_file(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    plan = planning.plan_present(lay, cas["root"].cert, "corp-root", [], scan.read_bundle(lay.bundle))
    assert plan.write[0] == os.path.join(lay.anchors_dir, "corp-root.crt")
    assert certs.load_certificate(plan.write[1]).subject == cas["root"].cert.subject
    assert plan.update and not plan.fresh and plan.changed
    after = planning.listing(planning.entries_after([], plan, lay))
    assert "corp-root.crt  sha256={}".format(names.colon(sha256(cas["root"]))) in after
    assert "BEGIN" not in after


def test_plan_present_same_cert_other_name_is_present(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "corp", "legacy-name.crt"), cas["root"].pem)
    run_update(lay)
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_present(lay, cas["root"].cert, "corp-root", entries, scan.read_bundle(lay.bundle))
    assert not plan.changed
    assert plan.path.endswith("corp/legacy-name.crt")


def test_plan_present_update_only_when_bundle_lacks_it(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "corp-root.crt"), cas["root"].pem)   # placed, update never ran
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_present(lay, cas["root"].cert, "corp-root", entries, scan.read_bundle(lay.bundle))
    assert plan.update and not plan.changes_files
    assert "never ran" in plan.reasons[0]


def test_plan_present_replaces_other_cert_of_same_name(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "corp-root.crt"), cas["other"].pem)
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_present(lay, cas["root"].cert, "corp-root", entries, scan.read_bundle(lay.bundle))
    assert plan.replaces is not None and plan.fresh and plan.write
    assert "replacing anchor" in plan.warnings[0] and "Trustops Other Root" in plan.warnings[0]


def test_plan_present_rewrites_der_as_pem_on_debian(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "corp-root.crt"), cas["root"].der)
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_present(lay, cas["root"].cert, "corp-root", entries, scan.read_bundle(lay.bundle))
    assert plan.write and plan.fresh and "as DER" in plan.reasons[0]


@pytest.mark.parametrize("what,needle", [
    ("garbage", "not a certificate file"), ("two", "holds 2 certificates"), ("symlink", "symbolic link"),
    ("dir", "not a regular file")])
def test_plan_present_never_overwrites_foreign_files(tmp_path, cas, what, needle):
    lay = debian_root(tmp_path, cas)
    target = os.path.join(lay.anchors_dir, "corp-root.crt")
    if what == "garbage":
        write(target, b"keep me")
    elif what == "two":
        write(target, cas["other"].pem + cas["system"].pem)
    elif what == "symlink":
        os.symlink(os.path.join(lay.certsdir, "distro", "Distro_System_Root.crt"), target)
    else:
        os.makedirs(target)
    entries, _w = scan.scan_anchors(lay)
    with pytest.raises(TrustopsError, match=needle):
        planning.plan_present(lay, cas["root"].cert, "corp-root", entries, scan.read_bundle(lay.bundle))


def test_plan_absent_removes_every_holder_and_skips_garbage(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "one.crt"), cas["root"].pem)
    write(os.path.join(lay.anchors_dir, "sub", "two.crt"), cas["root"].pem)
    write(os.path.join(lay.anchors_dir, "der.crt"), cas["root"].der)
    write(os.path.join(lay.anchors_dir, "garbage.crt"), b"keep me")
    write(os.path.join(lay.anchors_dir, "other.crt"), cas["other"].pem)
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_absent(lay, "sha1", sha1(cas["root"]), entries, scan.read_bundle(lay.bundle),
                                scan.other_source_digests(lay))
    assert sorted(os.path.relpath(e.path, lay.anchors_dir) for e in plan.remove) == ["der.crt", "one.crt",
                                                                                     "sub/two.crt"]
    assert plan.update and plan.fresh


def test_plan_absent_refuses_to_split_a_bundle_file(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "both.crt"), cas["root"].pem + cas["other"].pem)
    entries, _w = scan.scan_anchors(lay)
    with pytest.raises(TrustopsError, match="both.crt holds the certificate together with other"):
        planning.plan_absent(lay, "sha256", sha256(cas["root"]), entries, scan.read_bundle(lay.bundle),
                             scan.other_source_digests(lay))


def test_plan_absent_stale_bundle_and_system_ca(tmp_path, cas):
    lay = debian_root(tmp_path, cas)
    run_update(lay)
    others = scan.other_source_digests(lay)
    # the distribution's CA: in the bundle, not ours: nothing to do, and a warning says why
    plan = planning.plan_absent(lay, "sha256", sha256(cas["system"]), [], scan.read_bundle(lay.bundle), others)
    assert not plan.changed and "system CA" in plan.warnings[0]
    # a bundle that still holds a cert no anchor holds: the update must run
    write(lay.bundle, open(lay.bundle, "rb").read() + cas["root"].pem)
    plan = planning.plan_absent(lay, "sha256", sha256(cas["root"]), [], scan.read_bundle(lay.bundle), others)
    assert plan.update and plan.fresh and not plan.changes_files
    # not anywhere: nothing
    plan = planning.plan_absent(lay, "sha256", sha256(cas["other"]), [], scan.read_bundle(lay.bundle), others)
    assert not plan.changed


# --------------------------------------------------------------------------- the real Debian tool

def test_debian_lifecycle_with_real_update_ca_certificates(tmp_path, cas):
    """Add, re-run, rotate, remove: the bundle and the hash directory as openssl sees them."""
    _require_tools()
    lay = debian_root(tmp_path, cas)
    run_update(lay)
    ok, out = openssl_verify(cas["system_leaf"], cafile=lay.bundle, tmp_path=tmp_path)
    assert ok, out
    ok, _out = openssl_verify(cas["leaf"], cafile=lay.bundle, tmp_path=tmp_path)
    assert not ok   # not trusted yet

    # add
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_present(lay, cas["root"].cert, "corp-root", entries, scan.read_bundle(lay.bundle))
    write(plan.write[0], plan.write[1])
    run_update(lay, removing=plan.fresh)
    bundle = scan.read_bundle(lay.bundle)
    assert planning.verify_present("sha256", sha256(cas["root"]), bundle)
    for kw in ({"cafile": lay.bundle}, {"capath": lay.etccertsdir}):
        ok, out = openssl_verify(cas["leaf"], tmp_path=tmp_path, **kw)
        assert ok, (kw, out)

    # converged: a second plan changes nothing
    entries, _w = scan.scan_anchors(lay)
    assert not planning.plan_present(lay, cas["root"].cert, "corp-root", entries, bundle).changed

    # rotate: the same name now holds another CA; --fresh is what fixes the hash links
    entries, _w = scan.scan_anchors(lay)
    plan = planning.plan_present(lay, cas["other"].cert, "corp-root", entries, bundle)
    assert plan.fresh
    write(plan.write[0], plan.write[1])
    run_update(lay, removing=plan.fresh)
    ok, out = openssl_verify(cas["other_leaf"], capath=lay.etccertsdir, tmp_path=tmp_path)
    assert ok, out
    ok, _out = openssl_verify(cas["leaf"], capath=lay.etccertsdir, tmp_path=tmp_path)
    assert not ok

    # remove
    entries, _w = scan.scan_anchors(lay)
    others = scan.other_source_digests(lay)
    plan = planning.plan_absent(lay, "sha256", sha256(cas["other"]), entries, scan.read_bundle(lay.bundle), others)
    assert [os.path.basename(e.path) for e in plan.remove] == ["corp-root.crt"]
    for e in plan.remove:
        os.unlink(e.path)
    run_update(lay, removing=plan.fresh)
    after = scan.read_bundle(lay.bundle)
    assert planning.verify_absent("sha256", sha256(cas["other"]), after, others)
    assert after.contains("sha256", sha256(cas["system"]))     # the system CA was not touched
    for kw in ({"cafile": lay.bundle}, {"capath": lay.etccertsdir}):
        ok, _out = openssl_verify(cas["other_leaf"], tmp_path=tmp_path, **kw)
        assert not ok, kw
        ok, out = openssl_verify(cas["system_leaf"], tmp_path=tmp_path, **kw)
        assert ok, (kw, out)
    # --fresh left no dangling links behind
    dangling = [n for n in os.listdir(lay.etccertsdir) if not os.path.exists(os.path.join(lay.etccertsdir, n))]
    assert dangling == []


def test_debian_replacing_without_fresh_leaves_stale_hash_links(tmp_path, cas):
    """Why plan.fresh exists: the tool itself does not re-hash a file whose content changed."""
    _require_tools()
    lay = debian_root(tmp_path, cas)
    write(os.path.join(lay.anchors_dir, "corp-root.crt"), cas["root"].pem)
    run_update(lay)
    write(os.path.join(lay.anchors_dir, "corp-root.crt"), cas["other"].pem)
    run_update(lay, removing=False)
    ok, _out = openssl_verify(cas["other_leaf"], capath=lay.etccertsdir, tmp_path=tmp_path)
    assert not ok      # stale: the directory still hashes the old subject
    run_update(lay, removing=True)
    ok, out = openssl_verify(cas["other_leaf"], capath=lay.etccertsdir, tmp_path=tmp_path)
    assert ok, out


# --------------------------------------------------------------------------- macOS (data only, not run here)

def _find_output(items):
    """Text shaped like ``security find-certificate -a -Z -p`` output (synthetic, for the parser)."""
    chunks = []
    for issued in items:
        chunks.append(
            'SHA-256 hash: {}\nSHA-1 hash: {}\nkeychain: "/Library/Keychains/System.keychain"\n'
            'version: 512\nclass: 0x80001000\nattributes:\n    "alis"<blob>="{}"\n{}'.format(
                sha256(issued), sha1(issued), issued.cert.subject.rfc4514_string(), issued.pem.decode("ascii")
            )
        )
    return "".join(chunks)


def test_macos_argv():
    kc = layouts.layout("macos").keychain
    assert kc == "/Library/Keychains/System.keychain"
    assert macos.macos_find_argv(kc) == ["security", "find-certificate", "-a", "-Z", "-p", kc]
    assert macos.macos_add_argv(kc, "/tmp/x.pem", "/usr/bin/security") == [
        "/usr/bin/security",
        "add-trusted-cert",
        "-d",
        "-r",
        "trustRoot",
        "-k",
        kc,
        "/tmp/x.pem",
    ]
    assert macos.macos_remove_trust_argv("/tmp/x.pem") == ["security", "remove-trusted-cert", "-d", "/tmp/x.pem"]
    assert macos.macos_delete_argv("AB" * 20, kc) == ["security", "delete-certificate", "-Z", "AB" * 20, kc]
    assert macos.macos_trust_export_argv("/tmp/t.plist") == ["security", "trust-settings-export", "-d", "/tmp/t.plist"]


def test_macos_parse_and_plan(cas):
    items = macos.parse_find_certificate(_find_output([cas["system"], cas["root"]]))
    assert [i.sha1 for i in items] == [sha1(cas["system"]), sha1(cas["root"])]
    assert items[1].sha256 == sha256(cas["root"]) and "BEGIN CERTIFICATE" in items[1].pem
    # hash lines without PEM still count by SHA-1
    only_hash = macos.parse_find_certificate("SHA-1 hash: {}\n".format(sha1(cas["other"]).lower()))
    assert only_hash[0].sha1 == sha1(cas["other"]) and only_hash[0].sha256 is None

    trusted = {sha1(cas["root"])}
    assert macos.plan_macos_present(cas["root"].cert, items, trusted) == []
    # in the keychain without admin trust settings: add-trusted-cert again (it accepts duplicates)
    steps = macos.plan_macos_present(cas["system"].cert, items, trusted)
    assert [s.action for s in steps] == ["add"]
    steps = macos.plan_macos_present(cas["other"].cert, items, None)
    assert [s.action for s in steps] == ["add"] and steps[0].needs_file
    kc = "/Library/Keychains/System.keychain"
    assert steps[0].argv(kc, "/tmp/f.pem") == macos.macos_add_argv(kc, "/tmp/f.pem")

    steps = macos.plan_macos_absent("sha256", sha256(cas["root"]), items, trusted)
    assert [(s.action, s.sha1) for s in steps] == [("remove-trust", sha1(cas["root"])), ("delete", sha1(cas["root"]))]
    assert steps[1].argv(kc) == macos.macos_delete_argv(sha1(cas["root"]), kc)
    # a step that needs the certificate as a file never runs without one (no None in an argv)
    with pytest.raises(TrustStoreError, match="remove-trust needs the certificate as a file"):
        steps[0].argv(kc)
    assert macos.plan_macos_absent("sha1", sha1(cas["other"]), items, trusted) == []
    # trust settings left without a keychain item are removed when the certificate is known
    steps = macos.plan_macos_absent("sha256", sha256(cas["other"]), items, {sha1(cas["other"])}, cas["other"].cert)
    assert [s.action for s in steps] == ["remove-trust"]


def test_macos_trust_settings_plist(cas):
    doc = {"trustVersion": 1, "trustList": {sha1(cas["root"]): {"trustSettings": []}, "not-a-hash": {}}}
    assert macos.parse_trust_settings(plistlib.dumps(doc, fmt=plistlib.FMT_BINARY)) == {sha1(cas["root"])}
    assert macos.parse_trust_settings(plistlib.dumps({"trustList": {}})) == set()
    with pytest.raises(TrustopsError, match="cannot parse"):
        macos.parse_trust_settings(b"not a plist")
