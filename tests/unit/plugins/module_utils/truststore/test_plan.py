# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""truststore.plan: what to write, remove and update for ``present`` and ``absent``; then the plans
carried out with Debian's real ``update-ca-certificates`` on a relocated store, ``openssl verify``
(-CAfile and -CApath) as the referee.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from pki_factory import make_key

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import plan as planning
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import scan
from ansible_collections.trustops.tableau.plugins.module_utils.anchor_policy import check_anchor
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

from .helpers import OPENSSL, debian_root, openssl_verify, require_tools, run_update, sha1, sha256, write


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
    require_tools()
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
    require_tools()
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


def test_weak_root_in_the_debian_store_verifies_nothing(tmp_path, cas, pki):
    """Why ANCHOR-005 is an error: installed by the real tool, a 1024-bit root is in the bundle,
    yet OpenSSL at security level 2 (Debian's TLS default) verifies nothing through it."""
    require_tools()
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
    assert [(f.code, f.severity) for f in check_anchor(weak.cert)] == [("ANCHOR-005", "error")]
    assert check_anchor(cas["root"].cert) == []
