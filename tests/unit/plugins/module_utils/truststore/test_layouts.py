# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""truststore.layouts: which store a host has, and the argv of its update command.
"""

from __future__ import annotations

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError


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
