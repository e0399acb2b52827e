# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the trust store tests: digests, files, a relocated Debian store and its real tool
(``update-ca-certificates``), and ``openssl verify`` as the referee.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import names

UPDATE_CA = shutil.which("update-ca-certificates", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
OPENSSL = shutil.which("openssl")


def require_tools():
    # Not a skip: these tests are the proof that the Debian store really works.
    assert UPDATE_CA, "update-ca-certificates (Debian package ca-certificates) is required by this test"
    assert OPENSSL, "openssl is required by this test (independent referee)"


def sha256(issued):
    return names.cert_digests(issued.cert)[0]


def sha1(issued):
    return names.cert_digests(issued.cert)[1]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def debian_root(tmp_path, cas):
    """A relocated Debian store with one distribution CA enabled in ca-certificates.conf."""
    root = str(tmp_path / "deb")
    lay = layouts.layout("debian", root)
    write(os.path.join(lay.certsdir, "distro", "Distro_System_Root.crt"), cas["system"].pem)
    write(lay.certsconf, b"# comment\ndistro/Distro_System_Root.crt\n")
    os.makedirs(lay.etccertsdir)
    os.makedirs(lay.anchors_dir)
    return lay


def run_update(lay, removing=False):
    argv = layouts.update_argv(lay, removing=removing, binary=UPDATE_CA)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc


def openssl_verify(leaf, cafile=None, capath=None, tmp_path=None):
    path = os.path.join(str(tmp_path), f"leaf-{sha256(leaf)[:8]}.pem")
    write(path, leaf.pem)
    argv = [OPENSSL, "verify"]
    if cafile:
        argv += ["-CAfile", cafile]
    if capath:
        argv += ["-CApath", capath]
    # no default store: only what we point at may be trusted
    argv += ["-no-CAstore", "-no-CAfile"] if capath and not cafile else []
    argv += ["-no-CApath"] if cafile and not capath else []
    argv.append(path)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr
