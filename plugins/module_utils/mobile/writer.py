# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which artifacts to produce, and for each: keep, create or update; then the atomic write.

:func:`build_artifacts` makes the unsigned artifacts, :func:`plan` compares them with what ``dest``
holds (read back through the shared reader), :func:`finalize` signs what needs a new signature,
:func:`write` writes every change atomically, all or nothing.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable

from ansible_collections.trustops.tableau.plugins.module_utils import certs, reader
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.android import NSC_FILE, ONC_SUFFIX, build_network_security_config, build_onc
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.apple import PROFILE_SUFFIX, ProfileSpec, build_profile, payload_type
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.cms import looks_signed
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.identifiers import onc_guid, payload_identifier, payload_uuid
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.inputs import CA, MobileError, cert_basename, raw_resource_name, valid_basename
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.signing import Signer, sign_profile, signed_profile_current


class WriteError(MobileError):
    """Writing the files failed; the message says whether the previous files were restored."""


#: The cap for reading back an existing artifact (reader.MAX_BUNDLE: a file of CA certificates; a
#: profile of thousands of CAs stays under it).  A bigger file at an artifact's path is no artifact of
#: ours: it is refused, not replaced, so that nothing is lost (docs/inputs.md).
MAX_EXISTING = reader.MAX_BUNDLE
PLATFORMS = ("ios", "android")


class Artifact:
    """One file to produce in dest."""

    __slots__ = ("name", "kind", "platform", "data", "path", "before", "action", "reason", "signed",
                 "resign")

    def __init__(self, name: str, kind: str, platform: str, data: bytes) -> None:
        self.name = name
        self.kind = kind  # profile | der | onc | nsc
        self.platform = platform
        self.data = data
        self.path: str = ""
        self.before: bytes | None = None  # existing bytes or None
        self.action: str | None = None  # keep | create | update
        self.reason: str | None = None
        self.signed = False
        self.resign = False

    def as_dict(self) -> dict:
        content = self.before if self.action == "keep" else self.data  # a kept signed profile: the file's bytes
        return {"path": self.path, "kind": self.kind, "platform": self.platform,
                "changed": self.action != "keep", "action": self.action,
                "sha256": hashlib.sha256(content).hexdigest() if content is not None else None}


def build_artifacts(spec: ProfileSpec, cas: list[CA], platforms: Iterable[str] | None, name: str | None = None,
                    domains: Iterable[str] = ()) -> list[Artifact]:
    """The artifacts for the selected platforms (unsigned; see plan())."""
    platforms = list(platforms or PLATFORMS)
    for platform in platforms:
        if platform not in PLATFORMS:
            raise MobileError("platforms: {!r} is not one of {}".format(platform, ", ".join(PLATFORMS)))
    name = valid_basename(name or spec.identifier)
    if not cas:
        raise MobileError("no CA certificate left to distribute (intermediates are left out unless "
                          "include_intermediates is set)")
    out = []
    if "ios" in platforms:
        out.append(Artifact(name + PROFILE_SUFFIX, "profile", "ios", build_profile(spec, cas)))
    if "android" in platforms:
        for ca in cas:
            out.append(Artifact(cert_basename(ca.cert, ca.sha256) + ".crt", "der", "android", ca.der))
        out.append(Artifact(name + ONC_SUFFIX, "onc", "android", build_onc(spec.identifier, cas)))
        out.append(Artifact(NSC_FILE, "nsc", "android", build_network_security_config(spec.identifier, cas,
                                                                                      domains)))
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise MobileError(
            "two artifacts would have the same file name ({}); choose another name".format(
                ", ".join(sorted(set(n for n in names if names.count(n) > 1)))
            )
        )
    return out


def read_existing(path: str) -> bytes | None:
    """The bytes of an existing artifact, None when there is none; read back through the shared
    reader (a directory, FIFO or device is refused unread, a file over MAX_EXISTING is refused:
    it is no artifact of ours, and replacing it would lose it)."""
    if not os.path.lexists(path):
        return None
    try:
        return reader.read_input(path=path, option="dest", max_bytes=MAX_EXISTING, allow_empty=True)
    except reader.InputError as exc:
        raise MobileError(f"{exc}; move it away or choose another dest or name")


def plan(dest: str, artifacts: list[Artifact], signer: Signer | None = None) -> list[Artifact]:
    """Decide per artifact: keep, create or update (with a reason).  Signs nothing yet.

    A profile that needs a new signature needs the signer's key: it is read and checked here (in
    check mode too, so that check mode fails where the real run would); a converged run never
    touches it."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise MobileError(f"dest {dest} exists and is not a directory")
    for art in artifacts:
        art.path = os.path.join(dest, art.name)
        art.before = read_existing(art.path)
        art.signed = art.kind == "profile" and signer is not None
        if art.before is None:
            art.action, art.reason = "create", "new file"
            art.resign = art.signed
        elif art.signed:
            current, why = signed_profile_current(art.before, art.data, signer)
            art.action, art.reason, art.resign = ("keep", None, False) if current else ("update", why, True)
        elif art.before == art.data:
            art.action = "keep"
        else:
            art.action = "update"
            art.reason = (
                "the profile was signed; signing is off now"
                if art.kind == "profile" and looks_signed(art.before)
                else "content changed"
            )
        if art.resign and signer is not None:
            signer.load_key()
    return artifacts


def finalize(artifacts: list[Artifact], signer: Signer | None = None) -> list[Artifact]:
    """Sign the profiles that need a new signature (after plan(); not in check mode)."""
    for art in artifacts:
        if art.resign:
            art.data = sign_profile(art.data, signer)
    return artifacts


def _existing_stat(path: str) -> os.stat_result | None:
    """os.stat of the file a write replaces (mode, owner, times), or None when there is none."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _give_metadata(path: str, old: os.stat_result) -> None:
    """Give ``path`` the owner, group and permission bits of
    ``old`` (an os.stat result).  Owner first: chown may clear set-id bits that chmod then sets.
    Only root can give a file away; any other user's files are its own already."""
    if os.geteuid() == 0:
        os.chown(path, old.st_uid, old.st_gid)
    os.chmod(path, stat.S_IMODE(old.st_mode))


def _temp_file(dest: str, data: bytes, mode: int, old: os.stat_result | None = None) -> str:
    """A temporary file in dest holding data: with the metadata of ``old`` (the file it replaces),
    or ``mode`` for a new file."""
    fd, tmp = tempfile.mkstemp(prefix=".trustops-", suffix=".tmp", dir=dest)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if old is None:
            os.chmod(tmp, mode)
        else:
            _give_metadata(tmp, old)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _restore(dest: str, art: Artifact, old: os.stat_result | None) -> None:
    """Put the previous file back: its bytes, owner, group, mode and times (a rollback)."""
    if art.before is None:
        os.unlink(art.path)
        return
    tmp = _temp_file(dest, art.before, 0o600, old)
    try:
        if old is not None:
            os.utime(tmp, ns=(old.st_atime_ns, old.st_mtime_ns))
        os.replace(tmp, art.path)
    except BaseException:
        os.unlink(tmp)
        raise


def write(dest: str, artifacts: list[Artifact], move: Callable[[str, str], object] | None = None,
          mode: int = 0o644) -> list[str]:
    """Write every changed artifact atomically; all or nothing.

    Each file is first written to a temporary file in dest (a replaced file's owner, group and mode
    carried over; ``mode`` for a new file), then all are moved into place (``move(src, dst)``,
    default os.replace; modules pass AnsibleModule.atomic_move).  When any step fails, the files
    already moved are restored as they were (bytes, owner, group, mode, atime/mtime), new files
    are removed with the temporary files, and WriteError says what happened.  Returns the list of
    paths written.
    """
    move = move or os.replace
    changes = [a for a in artifacts if a.action != "keep"]
    if not changes:
        return []
    created_dest = False
    if not os.path.isdir(dest):
        try:
            os.makedirs(dest, 0o755)
        except OSError as exc:
            raise WriteError(f"dest {dest}: cannot create the directory ({exc}); nothing was written")
        created_dest = True
    temps, moved, olds = {}, [], {}
    try:
        for art in changes:
            olds[art.path] = _existing_stat(art.path) if art.before is not None else None
            temps[art.path] = _temp_file(dest, art.data, mode, olds[art.path])
        for art in changes:
            move(temps[art.path], art.path)
            del temps[art.path]
            moved.append(art)
    except BaseException as exc:  # AnsibleModule.atomic_move fails with SystemExit: undo, then re-raise
        problems = []
        for tmp in temps.values():
            try:
                os.unlink(tmp)
            except OSError:
                pass
        for art in reversed(moved):
            try:
                _restore(dest, art, olds[art.path])
            except OSError as undo_exc:
                problems.append(f"{art.path}: {undo_exc}")
        if created_dest and not problems:
            try:
                os.rmdir(dest)
            except OSError:
                pass
        if not isinstance(exc, Exception):
            raise
        detail = "restored the previous files" if not problems else "could NOT restore: " + "; ".join(problems)
        raise WriteError("writing to {} failed ({}); {}".format(dest, getattr(exc, "strerror", None) or exc, detail))
    return [a.path for a in changes]


def cert_facts(ca: CA, identifier: str) -> dict:
    """What the module returns about one CA (``certificates``): facts, names and identifiers."""
    info = certs.describe(ca.cert)
    base = cert_basename(ca.cert, ca.sha256)
    return {
        "subject": info["subject"],
        "common_name": (info["common_names"] or [None])[0],
        "issuer": info["issuer"],
        "sha256": info["sha256"],
        "sha1": info["sha1"],
        "not_after": info["not_after"],
        "role": ca.role,
        "source": ca.source,
        "payload_type": payload_type(ca),
        "payload_identifier": payload_identifier(identifier, ca.sha256),
        "payload_uuid": payload_uuid(identifier, ca.sha256),
        "onc_guid": onc_guid(identifier, ca.sha256),
        "android_file": base + ".crt",
        "raw_resource": raw_resource_name(base),
    }
