# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to change in a Linux store (:func:`plan_present`, :func:`plan_absent`), how to verify it
afterwards, and the diff text (anchor paths and SHA-256 fingerprints, never PEM).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.layouts import Layout, update_argv
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.names import cert_digests, colon
from ansible_collections.trustops.tableau.plugins.module_utils.truststore.scan import AnchorFile, DigestSet


# --------------------------------------------------------------------------- planning

class Plan:
    """What to change in a Linux store: a file to write, files to remove, the update to run."""

    def __init__(self, lay: Layout) -> None:
        self.layout = lay
        self.path: str | None = None                    # the anchor file that holds (or will hold) the certificate
        self.write: tuple[str, bytes] | None = None     # (path, pem bytes)
        self.replaces: AnchorFile | None = None         # AnchorFile overwritten by ``write``
        self.remove: list[AnchorFile] = []
        self.update = False         # the store's update command must run
        self.fresh = False          # ...with --fresh (Debian), because a file went or changed
        self.reasons: list[str] = []
        self.warnings: list[str] = []

    @property
    def changes_files(self) -> bool:
        return bool(self.write or self.remove)

    @property
    def changed(self) -> bool:
        return self.changes_files or self.update

    def update_argv(self, binary: str | None = None) -> list[str]:
        return update_argv(self.layout, removing=self.fresh, binary=binary)


def _matching(entries: Sequence[AnchorFile], kind: str, hexed: str) -> list[AnchorFile]:
    return [e for e in entries if e.holds(kind, hexed)]


def plan_present(lay: Layout, cert: certs.x509.Certificate, name: str, entries: Sequence[AnchorFile],
                 bundle: DigestSet) -> Plan:
    """Plan to make ``cert`` an anchor: nothing, run the update, or write ``<name><suffix>``."""
    s256, _s1 = cert_digests(cert)
    plan = Plan(lay)
    wanted = name + lay.suffix
    holders = [e for e in _matching(entries, "sha256", s256) if e.usable]
    if holders:
        own = [e for e in holders if os.path.basename(e.path) == wanted]
        plan.path = (own or holders)[0].path
        if not bundle.contains("sha256", s256):
            plan.update = True
            plan.reasons.append(f"{plan.path} holds the certificate but the bundle {bundle.path} lacks it (the update "
                                "never ran after the file was placed)")
        return plan
    target = os.path.join(lay.anchors_dir, wanted)
    if os.path.islink(target):
        raise TrustStoreError(f"{target} is a symbolic link; it is left alone: choose another name")
    if os.path.lexists(target) and not os.path.isfile(target):
        raise TrustStoreError(f"{target} exists and is not a regular file; it is left alone: choose another name")
    existing = [e for e in entries if e.path == target]
    if existing:
        old = existing[0]
        if old.error:
            raise TrustStoreError(f"{target} exists and is not a certificate file ({old.error}); it is left alone: choose "
                                  "another name")
        if old.count > 1:
            raise TrustStoreError(f"{target} exists and holds {old.count} certificates; it is left alone: choose "
                                  "another name")
        plan.replaces = old
        plan.fresh = True
        if old.sha256[0] == s256:
            plan.reasons.append(f"{target} holds the certificate as DER, which the store ignores; rewriting it as PEM")
        else:
            plan.reasons.append(f"{target} held another certificate ({old.subjects[0]}, SHA-256 {colon(old.sha256[0])}); it is replaced")
            plan.warnings.append(f"replacing anchor {target}: it held {old.subjects[0]} (SHA-256 {colon(old.sha256[0])})")
    elif os.path.lexists(target):
        # a file the scan did not read (e.g. a hidden temp pattern): never overwrite blindly
        raise TrustStoreError(f"{target} exists but was not read as an anchor; it is left alone: choose another name")
    plan.path = target
    plan.write = (target, certs.to_pem(cert))
    plan.update = True
    plan.reasons.append(f"write {target}")
    return plan


def plan_absent(lay: Layout, kind: str, hexed: str, entries: Sequence[AnchorFile], bundle: DigestSet,
                others: DigestSet) -> Plan:
    """Plan to stop trusting the certificate with this digest as one of our anchors.

    Every anchor file holding it is removed.  A file that holds it among other certificates is
    not split: that is an error naming the file, and nothing is changed.  When no anchor holds
    it but the bundle still does and no system source explains it, the update runs (a file was
    removed by hand without it).
    """
    plan = Plan(lay)
    holders = _matching(entries, kind, hexed)
    shared = [e for e in holders if e.count > 1]
    if shared:
        one = len(shared) == 1
        raise TrustStoreError(
            f"{', '.join(e.path for e in shared)} hold{'s' if one else ''} the certificate together with other "
            f"certificates; removing {'it' if one else 'them'} would also distrust them, so nothing was changed: "
            f"split the file{'' if one else 's'} by hand")
    if holders:
        plan.remove = holders
        plan.update = True
        plan.fresh = True
        plan.reasons.extend(f"remove {e.path}" for e in holders)
    elif bundle.contains(kind, hexed) and not others.contains(kind, hexed):
        plan.update = True
        plan.fresh = True
        plan.reasons.append(f"no anchor holds the certificate but the bundle {bundle.path} still does (the update "
                            "never ran after a removal)")
    if others.contains(kind, hexed):
        source = lay.certsconf if lay.store == "debian" else ", ".join(d for d in lay.other_dirs if d)
        plan.warnings.append(f"the certificate is also a system CA of this host ({source}); it stays trusted "
                             "through that source, which this module does not manage")
    return plan


def verify_present(kind: str, hexed: str, bundle_after: DigestSet) -> bool:
    """After the update: the bundle holds the certificate."""
    return bundle_after.contains(kind, hexed)


def verify_absent(kind: str, hexed: str, bundle_after: DigestSet, others: DigestSet) -> bool:
    """After the update: the bundle no longer holds it, or a system source still explains it."""
    return (not bundle_after.contains(kind, hexed)) or others.contains(kind, hexed)


def listing(entries: Sequence[AnchorFile]) -> str:
    """Diff text: one line per certificate per anchor file (path and SHA-256), never PEM."""
    lines = []
    for e in sorted(entries, key=lambda x: x.path):
        if e.error:
            lines.append(f"{e.path}  (unreadable, left alone: {e.error})")
            continue
        note = "" if e.usable else "  (DER, ignored by the store)"
        for h in e.sha256:
            lines.append(f"{e.path}  sha256={colon(h)}{note}")
    return "\n".join(lines) + ("\n" if lines else "")


def entries_after(entries: Sequence[AnchorFile], plan: Plan, lay: Layout) -> list[AnchorFile]:
    """The anchor entries as they will be once ``plan`` is applied (for the diff)."""
    gone = set(e.path for e in plan.remove)
    if plan.write:
        gone.add(plan.write[0])
    after = [e for e in entries if e.path not in gone]
    if plan.write:
        new = AnchorFile(plan.write[0])
        cert = certs.load_certificate(plan.write[1], plan.write[0])
        s256, s1 = cert_digests(cert)
        new.sha256, new.sha1, new.encoding, new.usable = [s256], [s1], "pem", True
        new.subjects = [certs.subject_text(cert)]
        after.append(new)
    return after
