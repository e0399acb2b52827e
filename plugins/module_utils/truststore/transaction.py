# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``trust_anchor`` transaction: read the store, plan, snapshot, apply, verify, roll back.

:func:`converge` is the whole run of the module ``trust_anchor`` without Ansible: it reads the
certificate (through the collection's one reader), judges it with the trust-anchor policy, reads
the store, plans the change, and -- unless in check mode -- changes the anchors directory with a
snapshot of every file it touches (:class:`FileChanges`), runs the store's update command,
verifies the consolidated bundle, and on any failure restores the snapshot and runs the update
once more to resynchronise the store.

The host's side effects are given as callables (:class:`Host`): running a command, finding a
tool, warning, the atomic move of a written file.  The defaults are plain Python; the module
passes ``AnsibleModule``'s.  :func:`converge` returns the task's result fields, or raises
:class:`TransactionError` whose ``fields`` are the result as far as it got; it never exits.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError, failure_message, fails
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import macos
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import plan as planning
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import scan
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError

#: Where the stores' tools live when PATH (e.g. under sudo or cron) does not name them.
BIN_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin")


class TransactionError(TrustStoreError):
    """The task fails with this message; ``fields`` is the result as far as the run got."""

    def __init__(self, message: str, fields: dict) -> None:
        TrustStoreError.__init__(self, message)
        self.fields = fields


# --------------------------------------------------------------------------- the host's side effects

def _run(argv, env=None):
    environ = dict(os.environ, **(env or {}))
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, errors="replace", env=environ, check=False)
    except OSError as exc:
        return 127, "", f"{argv[0]}: {exc.strerror or exc}"
    return done.returncode, done.stdout, done.stderr


def _which(name):
    """The tool's path: BIN_DIRS first, then PATH (the order of AnsibleModule.get_bin_path)."""
    dirs = list(BIN_DIRS) + [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    for directory in dirs:
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class Host:
    """The side effects of a run on the managed host, as callables.

    ``run(argv, env=None) -> (rc, stdout, stderr)`` (``env`` is added to the environment);
    ``which(name) -> path or None``; ``warn(text)``; ``atomic_move(src, dst)``;
    ``system() -> platform.system()``.  Unset ones are plain Python (``subprocess``, a look-up
    in :data:`BIN_DIRS` and PATH, a list ``warnings``, ``os.replace``, ``platform.system``).
    """

    def __init__(self, run: Callable[..., tuple[int, str, str]] | None = None,
                 which: Callable[[str], str | None] | None = None, warn: Callable[[str], Any] | None = None,
                 atomic_move: Callable[[str, str], Any] | None = None,
                 system: Callable[[], str] | None = None) -> None:
        self.warnings: list[str] = []
        self.run = run or _run
        self.which = which or _which
        self.warn = warn or self.warnings.append
        self.atomic_move = atomic_move or os.replace
        self.system = system or platform.system


def _cmd(argv, rc, out, err):
    return {"argv": list(argv), "rc": rc, "stdout": out, "stderr": err}


def _os_reason(exc):
    """The reason of an OSError without the file name (callers name the file once themselves)."""
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------- snapshot and rollback

def snapshot(path: str) -> dict:
    """What is at ``path`` now (a symlink's target, or bytes, mode and owner), to restore it later."""
    st = os.lstat(path)
    if os.path.islink(path):
        return {"link": os.readlink(path)}
    with open(path, "rb") as handle:
        data = handle.read()
    return {"data": data, "mode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid}


def restore(path: str, previous: dict) -> None:
    """Put back what :func:`snapshot` saw at ``path`` (atomically, through a temporary file)."""
    if "link" in previous:
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(previous["link"], path)
        return
    fd, tmp = tempfile.mkstemp(prefix=".trustops-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(previous["data"])
        os.chmod(tmp, previous["mode"])
        try:
            os.chown(tmp, previous["uid"], previous["gid"])
        except OSError:
            pass
        os.rename(tmp, path)
    except OSError:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


class FileChanges:
    """Changes to the anchors directory, each with what undoes it (newest undone first)."""

    def __init__(self, atomic_move: Callable[[str, str], Any] = os.replace) -> None:
        self.atomic_move = atomic_move
        self.undo: list[tuple[str, str, dict | None]] = []
        self.created_dir: str | None = None

    def write_anchor(self, path: str, pem: bytes, replaces: object = None) -> None:
        """Write ``pem`` to ``path`` (mode 0644) atomically; ``replaces``: a file is overwritten."""
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
            os.chmod(directory, 0o755)
            self.created_dir = directory
        previous = snapshot(path) if replaces is not None else None
        fd, tmp = tempfile.mkstemp(prefix=".trustops-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            os.chmod(tmp, 0o644)
        except Exception:
            os.unlink(tmp)
            raise
        self.atomic_move(tmp, path)
        os.chmod(path, 0o644)
        self.undo.append(("restore", path, previous) if previous else ("unlink", path, None))

    def remove_anchor(self, path: str) -> None:
        previous = snapshot(path)
        os.unlink(path)
        self.undo.append(("restore", path, previous))

    def rollback(self) -> list[str]:
        """Undo the file changes, newest first; returns a list of problems (empty when clean)."""
        problems = []
        for action, path, previous in reversed(self.undo):
            try:
                if action == "unlink":
                    if os.path.lexists(path):
                        os.unlink(path)
                else:
                    restore(path, previous)
            except OSError as exc:
                problems.append(f"{path}: {_os_reason(exc)}")
        if self.created_dir and not problems:
            try:
                os.rmdir(self.created_dir)
            except OSError:
                pass
        self.undo = []
        return problems


# --------------------------------------------------------------------------- the run

def _facts(cert):
    if cert is None:
        return {"sha256": None, "sha1": None, "thumbprint": None, "subject": None, "not_after": None}
    info = certs.describe(cert)
    return {"sha256": info["sha256"], "sha1": info["sha1"], "thumbprint": info["thumbprint"],
            "subject": info["subject"], "not_after": info["not_after"]}


def converge(state: str = "present", platform_name: str = "auto", src: str | None = None,
             content: str | None = None, fingerprint: str | None = None, name: str | None = None,
             update: bool = True, policy: dict | None = None, check_mode: bool = False, diff: bool = False,
             host: Host | None = None, layout_for: Callable[[str], Any] = layouts.layout) -> dict:
    """The whole ``trust_anchor`` run; returns the result fields or raises :class:`TransactionError`.

    ``src`` (a path, read with the certificate cap), ``content`` (PEM text) or ``fingerprint``
    (state=absent) name the certificate; ``policy`` holds the trust-anchor policy options
    (:func:`anchor_policy.options_from`); ``platform_name`` is ``auto``, ``debian``, ``redhat`` or
    ``macos``; ``layout_for(store)`` gives the store's :class:`layouts.Layout`.
    Broken input and a refused certificate raise before anything is read or changed in the store,
    with ``"; nothing was changed"`` in the message.
    """
    host = host or Host()
    fields: dict[str, Any] = {"changed": False, "store": None, "path": None, "removed": [], "bundle": None,
                              "bundle_contains": False, "cmd": None, "findings": [], "reasons": []}
    fields.update(_facts(None))
    try:
        if state == "present" and fingerprint:
            raise TrustopsError("fingerprint identifies a certificate to remove (state=absent); "
                                "state=present needs src or content")
        store = platform_name
        if store == "auto":
            store = layouts.detect_store(host.system(), host.which)
        fields["store"] = store
        lay = layout_for(store)

        cert = None
        if src is not None:
            cert = names.load_anchor(reader.read_input(path=src, option="src", max_bytes=reader.MAX_CERTIFICATE),
                                     f"src {src}")
        elif content is not None:
            cert = names.load_anchor(reader.read_input(content=content, option="content",
                                                       max_bytes=reader.MAX_CERTIFICATE), "content")
        if cert is not None:
            kind, hexed = "sha256", names.cert_digests(cert)[0]
            fields.update(_facts(cert))
        else:
            kind, hexed = names.normalize_fingerprint(fingerprint)
            if kind == "sha1":
                fields.update(sha1=names.colon(hexed), thumbprint=hexed)
            else:
                fields.update(sha256=names.colon(hexed))

        if state == "present":
            if cert is None:
                raise TrustopsError("state=present needs src or content")
            findings = anchor_policy.check_anchor(cert, **anchor_policy.options_from(policy or {}))
            fields["findings"] = [f.as_dict() for f in findings]
            if fails(findings):
                # each failing code with its message and remedy (the one failure message of the collection)
                raise TransactionError(failure_message(f"refusing to trust {fields['subject']}", findings)
                                       + "; nothing was changed", fields)
            name = names.default_name(cert) if name is None else names.check_name(name)
            fields["name"] = name

        if store == "macos":
            _converge_macos(lay, state, cert, kind, hexed, check_mode, diff, host, fields)
        else:
            _converge_linux(lay, state, cert, kind, hexed, name, update, check_mode, diff, host, fields)
    except TransactionError:
        raise
    except TrustopsError as exc:
        raise TransactionError(f"{exc}; nothing was changed", fields) from None
    return fields


def _diff(lay, before_entries, after_entries, contains_before, contains_after):
    def text(entries, contains):
        return planning.listing(entries) + "# bundle {}: {} the certificate\n".format(
            lay.bundle, "includes" if contains else "lacks")
    return {"before_header": lay.anchors_dir, "after_header": lay.anchors_dir,
            "before": text(before_entries, contains_before), "after": text(after_entries, contains_after)}


def _converge_linux(lay, state, cert, kind, hexed, name, update, check_mode, diff, host, fields):
    entries, warnings = scan.scan_anchors(lay)
    for warning in warnings:
        host.warn(warning)
    bundle = scan.read_bundle(lay.bundle)
    others = scan.other_source_digests(lay) if state == "absent" else scan.DigestSet()
    if state == "present":
        plan = planning.plan_present(lay, cert, name, entries, bundle)
    else:
        plan = planning.plan_absent(lay, kind, hexed, entries, bundle, others)
        if cert is None:
            for entry in plan.remove:
                found = scan.certificate_in(entry.path, kind, hexed)
                if found is not None:
                    fields.update(_facts(found))
                    break
    for warning in plan.warnings:
        host.warn(warning)

    contains_before = bundle.contains(kind, hexed)
    will_update = plan.update and update
    if state == "present":
        contains_after = contains_before or will_update
    else:
        contains_after = (contains_before and not will_update) or others.contains(kind, hexed)
    fields.update(path=plan.path, removed=[e.path for e in plan.remove], reasons=list(plan.reasons),
                  bundle=lay.bundle, bundle_contains=contains_before,
                  changed=plan.changes_files or will_update)
    if diff:
        fields["diff"] = _diff(lay, entries, planning.entries_after(entries, plan, lay),
                               contains_before, contains_after)
    if plan.update and not update:
        if check_mode:
            host.warn("check mode: nothing was written; with update=false a real run would change the anchor "
                      "files but would not regenerate the store's bundle; after it, run {}".format(" ".join(plan.update_argv())))
        else:
            host.warn("update=false: the store's bundle was not regenerated; run {}".format(" ".join(plan.update_argv())))
    if check_mode or not fields["changed"]:
        return

    binary = None
    if will_update:
        binary = host.which(lay.command)
        if not binary:
            fields["changed"] = False
            raise TransactionError(f"{lay.command} not found on the managed host; nothing was changed", fields)

    changes = FileChanges(host.atomic_move)
    try:
        if plan.write:
            changes.write_anchor(plan.write[0], plan.write[1], plan.replaces)
        for entry in plan.remove:
            changes.remove_anchor(entry.path)
    except OSError as exc:
        problems = changes.rollback()
        fields["changed"] = bool(problems)
        raise TransactionError("changing the anchors directory failed ({}: {}); {}".format(
            exc.filename or lay.anchors_dir, _os_reason(exc),
            "restored it" if not problems else "could not restore: " + "; ".join(problems)), fields) from None

    if not will_update:
        return

    argv = plan.update_argv(binary)
    rc, out, err = host.run(argv, {"LC_ALL": "C"})
    fields["cmd"] = _cmd(argv, rc, out, err)
    failure = None
    if rc != 0:
        failure = "{} failed (rc={}): {}".format(" ".join(argv), rc, (err or out).strip()[-800:])
    else:
        try:
            after = scan.read_bundle(lay.bundle)
        except TrustopsError as exc:
            after = None
            failure = "{} ran, but {}".format(" ".join(argv), exc)
        if after is not None:
            if state == "present":
                ok = planning.verify_present(kind, hexed, after)
            else:
                ok = planning.verify_absent(kind, hexed, after, others)
            fields["bundle_contains"] = after.contains(kind, hexed)
            if not ok:
                failure = ("{} ran, but the bundle {} {} the certificate afterwards; is this really a {}-family "
                           "trust store?".format(" ".join(argv), lay.bundle,
                                                 "lacks" if state == "present" else "still holds", lay.store))
    if failure is None:
        return

    # Leave the previous state, and say what happened.
    problems = changes.rollback()
    if problems:
        fields["changed"] = True
        raise TransactionError("{}. Restoring the anchors directory FAILED ({}): the store is half-changed, "
                               "fix it by hand".format(failure, "; ".join(problems)), fields)
    resync_argv = layouts.update_argv(lay, removing=True, binary=binary)
    rc2, out2, err2 = host.run(resync_argv, {"LC_ALL": "C"})
    fields["resync_cmd"] = _cmd(resync_argv, rc2, out2, err2)
    try:
        fields["bundle_contains"] = scan.read_bundle(lay.bundle).contains(kind, hexed)
    except TrustopsError:
        fields["bundle_contains"] = False
    fields["changed"] = False
    if rc2 == 0:
        note = "the anchors directory was restored and the store regenerated from it; nothing changed"
    else:
        note = (f"the anchors directory was restored, but regenerating the store failed again (rc={rc2}): the "
                f"bundle may not match the anchors until {' '.join(resync_argv)} succeeds")
    raise TransactionError(f"{failure}; {note}", fields)


# --------------------------------------------------------------------------- macOS (not run here)

def _macos_trusted(host, security):
    """Admin trust settings as a set of SHA-1s, or None when they cannot be read."""
    tmpdir = tempfile.mkdtemp(prefix="trustops-")
    try:
        out_file = os.path.join(tmpdir, "admin-trust.plist")
        rc, out, err = host.run(macos.macos_trust_export_argv(out_file, security))
        if rc != 0:
            if "No Trust Settings" in (err + out):
                return set()
            host.warn(f"could not export admin trust settings ({(err or out).strip()}); presence is judged by keychain "
                      "membership only")
            return None
        data = reader.read_input(path=out_file, option="exported trust settings", max_bytes=reader.MAX_TABLE)
        return macos.parse_trust_settings(data)
    except TrustopsError as exc:
        host.warn(f"{exc}; presence is judged by keychain membership only")
        return None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _converge_macos(lay, state, cert, kind, hexed, check_mode, diff, host, fields):
    security = host.which("security")
    if not security:
        raise TrustStoreError("the 'security' tool was not found on the managed host")
    keychain = lay.keychain

    def read_keychain():
        argv = macos.macos_find_argv(keychain, security)
        rc, out, err = host.run(argv)
        if rc != 0:
            raise TransactionError("{} failed (rc={}): {}".format(" ".join(argv), rc, (err or out).strip()), fields)
        return macos.parse_find_certificate(out), _macos_trusted(host, security)

    items, trusted = read_keychain()
    s1 = names.cert_digests(cert)[1] if cert is not None else (hexed if kind == "sha1" else None)

    def trusted_now(items_, trusted_):
        hit = [i for i in items_ if i.holds(kind, hexed)]
        return bool(hit) and (trusted_ is None or any(i.sha1 in trusted_ for i in hit))

    if state == "present":
        steps = macos.plan_macos_present(cert, items, trusted)
    else:
        steps = macos.plan_macos_absent(kind, hexed, items, trusted, cert)
    was_in_keychain = any(i.holds(kind, hexed) for i in items)
    fields.update(path=keychain if state == "present" else None, bundle=keychain,
                  bundle_contains=trusted_now(items, trusted), changed=bool(steps),
                  removed=sorted(set(f"{keychain}#{st.sha1}" for st in steps if st.action == "delete")),
                  reasons=[f"security {st.action} {st.sha1}" for st in steps])
    if diff:
        label = (f"SHA-1 {names.colon(s1)}") if s1 else (f"SHA-256 {names.colon(hexed)}")

        def text(present):
            return "{}: {} {}\n".format(keychain, "trusts" if present else "does not trust", label)
        fields["diff"] = {"before": text(fields["bundle_contains"]), "after": text(state == "present")}
    if check_mode or not steps:
        return

    tmpdir = tempfile.mkdtemp(prefix="trustops-")
    try:
        for step in steps:
            cert_file = None
            if step.needs_file:
                cert_file = os.path.join(tmpdir, f"{step.sha1}.pem")
                with open(cert_file, "w") as handle:
                    handle.write(step.pem)
            argv = step.argv(keychain, cert_file, security)
            rc, out, err = host.run(argv)
            fields["cmd"] = _cmd(argv, rc, out, err)
            if rc != 0:
                msg = "{} failed (rc={}): {}".format(" ".join(argv), rc, (err or out).strip())
                if state == "present" and not was_in_keychain:
                    # add-trusted-cert adds to the keychain before it sets trust settings: undo the add
                    now_items, _trusted = read_keychain()
                    if any(i.sha1 == step.sha1 for i in now_items):
                        undo = macos.macos_delete_argv(step.sha1, keychain, security)
                        rc2, _out2, err2 = host.run(undo)
                        msg += (f"; the certificate was removed from {keychain} again" if rc2 == 0 else
                                f"; removing the certificate from {keychain} again FAILED ({err2.strip()}): it is in the keychain "
                                "without trust settings")
                    else:
                        msg += f"; {keychain} is unchanged"
                raise TransactionError(msg, fields)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    items, trusted = read_keychain()
    fields["bundle_contains"] = trusted_now(items, trusted)
    if fields["bundle_contains"] != (state == "present"):
        raise TransactionError(
            "the security commands succeeded, but {} {} the certificate afterwards".format(
                keychain, "does not trust" if state == "present" else "still holds"), fields)
