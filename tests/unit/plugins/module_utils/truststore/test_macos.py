# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""truststore.macos: the ``security`` argv, its output parsed, the trust settings plist (data
only: no macOS host runs them here).
"""

from __future__ import annotations

import plistlib

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import macos
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError

from .helpers import sha1, sha256


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
