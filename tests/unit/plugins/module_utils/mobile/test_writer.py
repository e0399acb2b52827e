# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.writer: plan, write and converge; all or nothing; modes, owners and rollback; facts.
"""

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    android,
    inputs,
    signing,
    writer,
)

from .helpers import IDENT, cas_of, key_pem, pem, signer_of, spec, write


def listing(path):
    return {name: (path / name).read_bytes() for name in sorted(os.listdir(path))}


def test_plan_write_converge(world, tmp_path):
    dest = tmp_path / "out"
    signer = signer_of(world)
    arts = writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"])
    writer.plan(str(dest), arts, signer)
    assert [a.action for a in arts] == ["create"] * 4 and arts[0].resign
    writer.finalize(arts, signer)
    written = writer.write(str(dest), arts)
    assert sorted(os.path.basename(p) for p in written) == sorted(os.listdir(dest))
    assert all(oct(os.stat(p).st_mode & 0o777) == "0o644" for p in written)
    before = listing(dest)
    again = writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"]), signer)
    assert [a.action for a in again] == ["keep"] * 4 and not any(a.resign for a in again)
    assert writer.write(str(dest), again) == [] and listing(dest) == before
    # signing switched off: the profile is rewritten unsigned, with the reason
    unsigned = writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"]))
    assert unsigned[0].action == "update" and unsigned[0].reason == "the profile was signed; signing is off now"


def test_write_is_all_or_nothing(world, tmp_path):
    dest = tmp_path / "out"
    first = writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"])
    writer.write(str(dest), writer.plan(str(dest), first))
    before = listing(dest)
    two = cas_of(world["root"], world["other_root"])
    arts = writer.plan(str(dest), writer.build_artifacts(spec(display_name="v2"), two, ["ios", "android"]))
    assert [a.action for a in arts] == ["update", "keep", "create", "update", "update"]
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        os.replace(src, dst)

    with pytest.raises(writer.WriteError, match="No space left on device.*restored the previous files"):
        writer.write(str(dest), arts, move=flaky)
    assert len(calls) == 3
    assert listing(dest) == before, "the previous files are back and nothing half-written stays"


NOBODY = pwd.getpwnam("nobody")

PAST_NS = 1500000000 * 10**9  # 2017-07-14: an mtime no write of this test can produce by accident


def file_state(path):
    """What a rollback must give back: bytes, type and permission bits, owner, group, mtime."""
    st = os.stat(path)
    with open(path, "rb") as handle:
        data = handle.read()
    return {"data": data, "mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "mtime_ns": st.st_mtime_ns}


def as_nobody_0600(path):
    assert os.geteuid() == 0, "this test gives files to nobody, which needs root (the test machines run as root)"
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    os.chmod(path, 0o600)
    os.utime(path, ns=(PAST_NS, PAST_NS))


def test_rollback_restores_content_mode_owner_and_mtime(world, tmp_path):
    """Issue 11: a later rename fails; the files already moved must come back as they were
    (0600, nobody, old mtime), not just with their old bytes (they came back 0644/root)."""
    dest = tmp_path / "out"
    writer.write(
        str(dest), writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"]))
    )
    os.unlink(str(dest / android.NSC_FILE))
    for name in os.listdir(dest):
        as_nobody_0600(str(dest / name))
    before = {name: file_state(str(dest / name)) for name in sorted(os.listdir(dest))}
    two = cas_of(world["root"], world["other_root"])
    arts = writer.plan(str(dest), writer.build_artifacts(spec(display_name="v2"), two, ["ios", "android"]))
    assert [a.action for a in arts] == ["update", "keep", "create", "update", "create"]
    # a real failing rename: the last target becomes a directory after the plan was made
    os.mkdir(str(dest / android.NSC_FILE))
    with pytest.raises(writer.WriteError, match="restored the previous files"):
        writer.write(str(dest), arts)
    after = {name: file_state(str(dest / name)) for name in sorted(os.listdir(dest)) if name != android.NSC_FILE}
    assert after == before, "profile and ONC were moved, then must be back byte for byte with mode, owner, mtime"
    assert sorted(os.listdir(dest)) == sorted(list(before) + [android.NSC_FILE]), "no new or temporary file stays"


def test_update_keeps_mode_and_owner_of_the_existing_file(world, tmp_path):
    """The documented 'an existing file keeps its mode', whatever move function writes it."""
    dest = tmp_path / "out"
    writer.write(str(dest), writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"])))
    (profile,) = os.listdir(dest)
    as_nobody_0600(str(dest / profile))
    arts = writer.plan(str(dest), writer.build_artifacts(spec(display_name="v2"), cas_of(world["root"]), ["ios"]))
    assert [a.action for a in arts] == ["update"]
    writer.write(str(dest), arts)
    state = file_state(str(dest / profile))
    assert (state["mode"], state["uid"], state["gid"]) == (oct(0o100600), NOBODY.pw_uid, NOBODY.pw_gid)
    assert state["data"] == arts[0].data and state["mtime_ns"] != PAST_NS
    new = tmp_path / "new"
    arts = writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"])
    written = writer.write(str(new), writer.plan(str(new), arts))
    assert oct(os.stat(written[0]).st_mode) == oct(0o100644), "a new file is 0644"


def test_bad_input_leaves_no_partial_files(world, tmp_path):
    dest = tmp_path / "new"
    with pytest.raises(inputs.MobileError, match="exists and is not a directory"):
        writer.plan(str(write(tmp_path, "afile", b"x")), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"]))
    with pytest.raises(inputs.MobileError, match="no CA certificate left"):
        writer.build_artifacts(spec(), [], ["ios"])
    with pytest.raises(inputs.MobileError, match="not one of"):
        writer.build_artifacts(spec(), cas_of(world["root"]), ["windows"])
    assert not dest.exists()


def test_cert_facts(world):
    ca = cas_of(world["root"])[0]
    facts = writer.cert_facts(ca, IDENT)
    assert facts["sha256"] == certs.fingerprint(world["root"][0]) and facts["role"] == "root"
    assert facts["common_name"] == "Mobile Test Root CA"
    assert facts["payload_type"] == "com.apple.security.root"
    assert facts["android_file"] == f"mobile-test-root-ca-{ca.sha256[:16]}.crt"
    assert facts["onc_guid"].strip("{}").upper() != facts["payload_uuid"]


def test_the_signing_key_is_read_only_when_a_profile_is_signed(world, tmp_path):
    """plan() reads and checks the key (through load_signer's key reader) only for a profile it must
    (re-)sign; a converged plan never calls the reader; a wrong passphrase fails the plan, before any write."""
    cert, key = world["signer"]
    reads = []

    def lazy(passphrase="right"):
        def read():
            reads.append(passphrase)
            return key_pem(key, b"right")
        return signing.load_signer(pem(cert), read, passphrase, [(pem(world["inter"][0]), "chain")])

    dest = tmp_path / "out"
    signer = lazy()
    assert not signer.key_loaded and reads == []
    arts = writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"]), signer)
    assert arts[0].resign and signer.key_loaded and reads == ["right"]
    writer.write(str(dest), writer.finalize(arts, signer))
    before = listing(dest)
    # converged: neither read nor checked, whatever the reader would say
    for passphrase in ("right", "wrong"):
        again = lazy(passphrase)
        kept = writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"]), again)
        assert kept[0].action == "keep" and not again.key_loaded
    assert reads == ["right"] and listing(dest) == before
    # a needed re-sign with the wrong passphrase: the plan fails clearly and nothing is written
    wrong = lazy("wrong")
    with pytest.raises(certs.CertificateError, match="wrong passphrase"):
        writer.plan(str(dest), writer.build_artifacts(spec(organization="Changed"), cas_of(world["root"]), ["ios"]), wrong)
    assert reads == ["right", "wrong"] and listing(dest) == before
