# -*- coding: utf-8 -*-
"""The tls_probe module run for real: ``ansible localhost -m trustops.tableau.tls_probe``.

Against an ``openssl s_server`` on an ephemeral loopback port, once with the controller's
Python and once with Debian 12's ``/usr/bin/python3`` (Python 3.11, cryptography 38) as the
target interpreter, which is what a bookworm Tableau host or client runs the module with.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import threading

import pytest
from module_runner import ANSIBLE, DEBIAN_PYTHON, run_adhoc, run_module

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.modules import tls_probe

OPENSSL = shutil.which("openssl")
HOST = "tableau.example.test"

pytestmark = pytest.mark.skipif(OPENSSL is None or not os.path.exists(ANSIBLE),
                                reason="needs the openssl referee and the ansible CLI")


@pytest.fixture(scope="module")
def site(pki, tmp_path_factory):
    """Two s_servers: full chain, and leaf only (missing intermediate)."""
    d = tmp_path_factory.mktemp("tls_probe_module")
    root = pki.root(cn="Module Root CA")
    inter = pki.intermediate(root, cn="Module Intermediate CA")
    leaf = pki.leaf(inter, dns=(HOST,))
    (d / "root.pem").write_bytes(root.pem)
    (d / "inter.pem").write_bytes(inter.pem)
    (d / "leaf.pem").write_bytes(leaf.pem)
    (d / "leaf.key").write_bytes(leaf.key_pem())
    procs, ports = [], {}
    try:
        for name, extra in (("full", ["-cert_chain", "inter.pem"]), ("leaf_only", [])):
            proc = subprocess.Popen([OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-www", "-cert", "leaf.pem",
                                     "-key", "leaf.key"] + extra, cwd=str(d), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            procs.append(proc)
            ports[name] = _accept_port(proc)
            socket.create_connection(("127.0.0.1", ports[name]), timeout=10).close()
        yield {"dir": d, "ca_file": str(d / "root.pem"), "ports": ports}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()


def _accept_port(proc):
    """Wait for s_server's ACCEPT line (printed after listen), then keep draining its output."""
    lines = queue.Queue()

    def pump():
        for raw in iter(proc.stdout.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen = []
    while True:
        line = lines.get(timeout=20)
        if line is None:
            raise AssertionError("openssl s_server exited: {}".format("".join(seen)))
        seen.append(line)
        match = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))


def adhoc(tmp_path, args, **options):
    """``ansible localhost -m trustops.tableau.tls_probe``: (host status, result dict, raw output)."""
    return run_adhoc("tls_probe", args, tmp_path, **options)


def codes(result):
    return [f["code"] for f in result["findings"]]


def test_short_name_and_missing_intermediate_are_reported_not_failed(site, tmp_path):
    status, r, out = adhoc(tmp_path, {"host": "tableau", "port": site["ports"]["leaf_only"],
                                      "address": "127.0.0.1", "ca_file": site["ca_file"]})
    assert status == "SUCCESS", out
    assert codes(r) == ["TLS-002", "TLS-003"] and r["ok"] is False and r["changed"] is False
    assert r["findings"][1]["message"].endswith(f"Use the FQDN {HOST}")
    assert r["chain_complete"] is False and r["trusted"] is False and r["verified"] is False
    assert r["names"] == [HOST] and r["chain_source"] == "tls12-reader"
    assert len(r["served_chain"]) == 1 and r["served_chain"][0]["dns_names"] == [HOST]


def test_fail_on_error_fails_with_every_finding(site, tmp_path):
    status, r, out = adhoc(tmp_path, {"host": "tableau", "port": site["ports"]["full"],
                                      "address": "127.0.0.1", "ca_file": site["ca_file"],
                                      "fail_on": "error"})
    assert status == "FAILED!", out
    assert codes(r) == ["TLS-003"] and "TLS-003" in r["msg"] and f"Use the FQDN {HOST}" in r["msg"]


def test_connection_refused_is_a_clear_failure(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    try:
        status, r, out = adhoc(tmp_path, {"host": HOST, "port": port, "address": "127.0.0.1"})
    finally:
        holder.close()
    assert status == "FAILED!"
    assert r["msg"] == f"{HOST}:{port} (connecting to 127.0.0.1): connection refused (nothing listens on port {port})"
    assert "Traceback" not in out and "findings" not in r


def test_bad_arguments_fail_clearly(tmp_path):
    status, r, _out = adhoc(tmp_path, {"host": HOST, "port": 70000})
    assert status == "FAILED!" and r["msg"] == "port must be 1-65535, not 70000"
    status, r, _out = adhoc(tmp_path, {"host": HOST, "ca_file": str(tmp_path / "nope.pem")})
    assert status == "FAILED!" and "nope.pem: cannot read" in r["msg"]


def test_debian_python_and_cryptography_38_in_check_mode(site, tmp_path):
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"no {DEBIAN_PYTHON} on this machine")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import sys, cryptography; print(sys.version_info[:2], "
                            "cryptography.__version__)"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"{DEBIAN_PYTHON} has no cryptography")
    status, r, out = adhoc(tmp_path, {"host": HOST, "port": site["ports"]["full"], "address": "127.0.0.1",
                                      "ca_file": site["ca_file"]}, python=DEBIAN_PYTHON, check=True)
    assert status == "SUCCESS", out
    assert r["findings"] == [] and r["ok"] is True and r["changed"] is False
    assert r["verified"] is True and r["trusted"] is True and r["chain_complete"] is True
    assert r["anchor"]["subject"] == "CN=Module Root CA,O=trustops test"
    assert [c["subject"] for c in r["served_chain"]] == [
        f"CN={HOST},O=trustops test", "CN=Module Intermediate CA,O=trustops test"]
    status, r, out = adhoc(tmp_path, {"host": "tableau", "port": site["ports"]["leaf_only"],
                                      "address": "127.0.0.1", "ca_file": site["ca_file"]},
                           python=DEBIAN_PYTHON)
    assert status == "SUCCESS", out
    assert codes(r) == ["TLS-002", "TLS-003"]
    # ca_content (cadata for the referee) on the same interpreter: the root added to the system store
    status, r, out = adhoc(tmp_path, {"host": HOST, "port": site["ports"]["full"], "address": "127.0.0.1",
                                      "ca_content": (site["dir"] / "root.pem").read_text(encoding="ascii")},
                           python=DEBIAN_PYTHON, check=True)
    assert status == "SUCCESS", out
    assert r["findings"] == [] and r["verified"] is True and r["trust_store"]["ca_content"] == 1


# --------------------------------------------------------------------------- issue 11: policy names, the one reader
# In process (module_runner.run_module): these fail before any connection is made.

def _inproc(args):
    return run_module(tls_probe.main, args)


@pytest.mark.parametrize("digests", [["shaone"], ["sha1", "sha-257"], ["md6"]])
def test_unknown_blocklisted_digest_is_an_error(digests):
    """A misspelt digest would switch the SHA-1 check off: it is refused by policy.blocklist()."""
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "blocklisted_digests": digests})
    assert r.get("failed"), r
    assert r["msg"].startswith("blocklisted_digests: unknown digest"), r["msg"]
    assert "sha256" in r["msg"]     # lists the known names


@pytest.mark.parametrize("value", [-1, -2048])
def test_negative_min_rsa_key_size_is_an_error(value):
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "min_rsa_key_size": value})
    assert r.get("failed") and r["msg"].startswith(f"min_rsa_key_size: {value} is negative"), r


@pytest.mark.parametrize("value", [-1, -256])
def test_min_ec_key_size_is_the_policy_option(value):
    """tls_probe takes the one policy's option set (policy.argument_spec), min_ec_key_size included."""
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "min_ec_key_size": value})
    assert r.get("failed") and r["msg"].startswith(f"min_ec_key_size: {value} is negative"), r


def test_ca_file_is_read_with_the_bundle_cap(tmp_path):
    big = tmp_path / "huge.pem"
    with open(big, "wb") as handle:
        handle.truncate(reader.MAX_BUNDLE + 1)
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "ca_file": str(big)})
    assert r.get("failed") and f"limit of {reader.MAX_BUNDLE} bytes" in r["msg"], r
    assert r["msg"].startswith(f"ca_file {big}: ") and r["msg"].count(str(big)) == 1
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "ca_file": str(tmp_path)})
    assert r.get("failed") and r["msg"] == f"ca_file {tmp_path}: is a directory, not a file", r


# --------------------------------------------------------------------------- issue 13: ca_content, the CA about to be installed

def test_ca_content_in_check_mode_reports_the_verdict_after_the_install(site, tmp_path):
    """What the client_trust role asks in check mode: the system store does not trust the private
    root (TLS-001); with the root's PEM as ca_content the probe says what it will say once it is."""
    root_pem = (site["dir"] / "root.pem").read_text(encoding="ascii")
    args = {"host": HOST, "port": site["ports"]["full"], "address": "127.0.0.1"}
    status, before, out = adhoc(tmp_path, args, check=True)
    assert status == "SUCCESS", out
    assert codes(before) == ["TLS-001"] and before["ok"] is False and before["trust_store"]["ca_content"] == 0
    status, after, out = adhoc(tmp_path, dict(args, ca_content=root_pem), check=True)
    assert status == "SUCCESS", out
    assert after["findings"] == [] and after["ok"] is True and after["changed"] is False
    assert after["verified"] is True and after["trusted"] is True
    assert after["anchor"]["subject"] == "CN=Module Root CA,O=trustops test"
    assert after["trust_store"]["ca_content"] == 1
    assert after["trust_store"]["count"] == before["trust_store"]["count"] + 1


def test_bad_ca_content_fails_naming_the_option(site):
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "ca_content": "   "})
    assert r.get("failed") and r["msg"] == "ca_content: the value is empty; give the ca_content itself", r
    key = (site["dir"] / "leaf.key").read_text(encoding="ascii")
    r = _inproc({"host": HOST, "port": 9, "address": "127.0.0.1", "ca_content": key})
    assert r.get("failed") and r["msg"].startswith("ca_content: holds a private key"), r
    assert "BEGIN" not in r["msg"]
