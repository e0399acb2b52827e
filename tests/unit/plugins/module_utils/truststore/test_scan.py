# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""truststore.scan: the anchors directory, the bundle and the CAs of other sources, on real directories.
"""

from __future__ import annotations

import os

from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import scan

from .helpers import debian_root, sha1, sha256, write


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
