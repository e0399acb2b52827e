# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store layouts of Linux (Debian and RHEL families) and macOS: where anchors live, which files
the store's update tool reads, the bundle it writes, the update command, and which store a host has.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.truststore.errors import TrustStoreError

STORES = ("debian", "redhat", "macos")


# --------------------------------------------------------------------------- layouts

_LAYOUTS: dict[str, dict[str, Any]] = {
    "debian": {
        "anchors_dir": "usr/local/share/ca-certificates",
        "recursive": True,
        "suffix": ".crt",
        "only_suffix": True,    # update-ca-certificates reads only *.crt
        "der_ok": False,        # ...and appends them verbatim: PEM only
        "bundle": "etc/ssl/certs/ca-certificates.crt",
        "update": ("update-ca-certificates",),
        "fresh": ("--fresh",),
        "certsconf": "etc/ca-certificates.conf",
        "certsdir": "usr/share/ca-certificates",
        "etccertsdir": "etc/ssl/certs",
        "hooksdir": "etc/ca-certificates/update.d",
        "detect": ("update-ca-certificates", "etc/ca-certificates.conf"),
    },
    "redhat": {
        "anchors_dir": "etc/pki/ca-trust/source/anchors",
        "recursive": False,     # p11-kit loads the files directly in the directory
        "suffix": ".crt",
        "only_suffix": False,   # ...whatever their name
        "der_ok": True,         # ...in PEM or DER
        "bundle": "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "update": ("update-ca-trust", "extract"),
        "fresh": (),
        "other_dirs": ("usr/share/pki/ca-trust-source", "etc/pki/ca-trust/source"),
        "detect": ("update-ca-trust", "etc/pki/ca-trust/source/anchors"),
    },
    "macos": {
        "keychain": "Library/Keychains/System.keychain",
        "update": ("security",),
        "detect": ("security", None),
    },
}


class Layout:
    """Where one store keeps its anchors and bundle, and how it is updated.

    ``root`` relocates every path (default ``/``).  A relocated Debian layout passes the
    directories to ``update-ca-certificates`` (``--certsconf``, ``--certsdir``,
    ``--localcertsdir``, ``--etccertsdir``, ``--hooksdir``) so the real tool can run on it.
    """

    def __init__(self, store: str, root: str = "/") -> None:
        if store not in _LAYOUTS:
            raise TrustStoreError("unknown trust store {!r} (expected one of {})".format(store, ", ".join(STORES)))
        data = _LAYOUTS[store]
        self.store = store
        self.root = root or "/"
        self.relocated = os.path.abspath(self.root) != "/"

        def p(rel: str | None) -> str | None:
            return os.path.join(self.root, rel) if rel else None

        self.anchors_dir = p(data.get("anchors_dir"))
        self.recursive = data.get("recursive", False)
        self.suffix = data.get("suffix", "")
        self.only_suffix = data.get("only_suffix", False)
        self.der_ok = data.get("der_ok", True)
        self.bundle = p(data.get("bundle"))
        self.keychain = p(data.get("keychain"))
        self.certsconf = p(data.get("certsconf"))
        self.certsdir = p(data.get("certsdir"))
        self.etccertsdir = p(data.get("etccertsdir"))
        self.hooksdir = p(data.get("hooksdir"))
        self.other_dirs = tuple(p(d) for d in data.get("other_dirs", ()))
        self.update = tuple(data["update"])
        self.fresh = tuple(data.get("fresh", ()))
        self.detect = data["detect"]

    @property
    def command(self) -> str:
        """Name of the store's tool (looked up on the target's PATH by the module)."""
        return self.update[0]

    def __repr__(self) -> str:
        return f"Layout({self.store}, root={self.root!r})"


def layout(store: str, root: str = "/") -> Layout:
    """The :class:`Layout` of ``store`` (debian, redhat, macos) below ``root``."""
    return Layout(store, root)


def detect_store(system: str, which: Callable[[str], str | None],
                 exists: Callable[[str], bool] = os.path.exists) -> str:
    """Pick the store from the OS name and the tools present, without facts.

    ``system`` is ``platform.system()``; ``which(name)`` returns a path or None; ``exists``
    tests a path.  Debian needs ``update-ca-certificates`` and ``/etc/ca-certificates.conf``
    (so that SUSE's different tool of the same name is not mistaken for it); RHEL needs
    ``update-ca-trust`` and ``/etc/pki/ca-trust/source/anchors``.
    """
    if system == "Darwin":
        if which("security"):
            return "macos"
        raise TrustStoreError("macOS detected, but the 'security' tool was not found on PATH")
    looked = []
    for store in ("debian", "redhat"):
        tool, marker = _LAYOUTS[store]["detect"]
        found_tool = which(tool)
        found_marker = exists("/" + marker)
        if found_tool and found_marker:
            return store
        looked.append("{} ({}: {}, /{}: {})".format(
            store, tool, "found" if found_tool else "missing", marker, "found" if found_marker else "missing"))
    raise TrustStoreError(
        "cannot tell which system trust store this {} host uses: looked for {}; install the "
        "ca-certificates package or set platform explicitly".format(system or "unknown", "; ".join(looked)))


def update_argv(lay: Layout, removing: bool = False, binary: str | None = None) -> list[str]:
    """argv of the store's update command.  ``removing`` adds Debian's ``--fresh``."""
    if lay.store == "macos":
        raise TrustStoreError("macOS has no separate update command; use the macos_* argv builders")
    argv = [binary or lay.update[0]] + list(lay.update[1:])
    if removing:
        argv += list(lay.fresh)
    if lay.store == "debian" and lay.relocated:
        argv += ["--certsconf", lay.certsconf, "--certsdir", lay.certsdir,
                 "--localcertsdir", lay.anchors_dir, "--etccertsdir", lay.etccertsdir,
                 "--hooksdir", lay.hooksdir]
    return argv
