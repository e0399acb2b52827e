# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.diff: what --diff shows (plist text, certificate facts), never key material.
"""

from __future__ import annotations

import json

from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    diff,
    writer,
)

from .helpers import cas_of, signer_of, spec

RENAMED = "Renamed profile (v2)"


def test_diff_shows_plist_and_never_key_material(world, tmp_path):
    signer = signer_of(world)
    arts = writer.plan(str(tmp_path), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"]), signer)
    entries = diff.diff_entries(arts, signer)
    assert len(entries) == 4 and all(e["before"] == "" for e in entries)
    assert entries[0]["after"].startswith("# CMS SignedData, signer CN=Profile Signer,O=trustops mobile test")
    assert "<key>PayloadType</key>" in entries[0]["after"]
    assert entries[1]["after"].startswith("DER certificate CN=Mobile Test Root CA,O=trustops mobile test")
    text = json.dumps(entries)
    assert "PRIVATE KEY" not in text
    writer.write(str(tmp_path), writer.finalize(arts, signer))
    arts = writer.plan(
        str(tmp_path), writer.build_artifacts(spec(display_name=RENAMED), cas_of(world["root"]), ["ios"]), signer
    )
    entry = diff.diff_entries(arts, signer)[0]
    assert "signature valid" in entry["before"] and "Tableau Server certificate authorities" in entry["before"]
    # the whole plist element: spaces and parentheses never occur in base64 <data>, so this
    # cannot be matched by chance inside certificate or signature bytes
    renamed = f"<string>{RENAMED}</string>"
    assert renamed in entry["after"] and renamed not in entry["before"]
