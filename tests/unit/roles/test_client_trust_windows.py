# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""client_trust on Windows hosts: the probe runs on the controller, or the run says why not.

No Windows host exists here (extensions/molecule/windows_trust is not run), so two honest parts:

- the controller-side probe task file (``tasks_from: probe_controller``) run on its own, through
  the real ansible-playbook, against a real ``openssl s_server`` whose chain leads to a real CA;
- the role's Windows branch on a host whose platform fact says Windows, with no CA to install
  (installing one would need a real Windows host): the run says, without -v, why it cannot probe.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading

import pytest

from module_runner import run_playbook

HOST = "tableau.example.test"
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs openssl s_server as the TLS server")

PROBE_PLAY = """
- name: The controller probe of a Windows client
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe as the role does for a Windows host
      ansible.builtin.include_role:
        name: trustops.tableau.client_trust
        tasks_from: probe_controller
    - name: Keep the probe results for the test
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ client_trust_probes | default({}) | to_json }}"
        mode: "0600"
      check_mode: false
"""

WINDOWS_PLAY = """
- name: A Tableau client whose platform fact says Windows
  hosts: localhost
  gather_facts: false
  pre_tasks:
    - name: Make the host look like Windows to the role
      ansible.builtin.set_fact:
        ansible_facts: {os_family: Windows}
  roles:
    - role: trustops.tableau.client_trust
"""


@pytest.fixture(scope="module")
def server(pki, tmp_path_factory):
    """openssl s_server serving leaf + intermediate; the root is the CA a client must trust."""
    d = tmp_path_factory.mktemp("client_trust_windows")
    root = pki.root(cn="Client Trust Windows Root")
    inter = pki.intermediate(root, cn="Client Trust Windows Intermediate")
    leaf = pki.leaf(inter, dns=(HOST,))
    for name, data in (("root.pem", root.pem), ("root.der", root.der), ("inter.pem", inter.pem),
                       ("leaf.pem", leaf.pem), ("leaf.key", leaf.key_pem())):
        (d / name).write_bytes(data)
    other = pki.root(cn="Client Trust Unrelated Root")
    (d / "other.pem").write_bytes(other.pem)
    proc = subprocess.Popen([OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-www", "-cert", "leaf.pem",
                             "-key", "leaf.key", "-cert_chain", "inter.pem"], cwd=str(d),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield {"dir": d, "port": _accept_port(proc), "root_pem": root.pem.decode("ascii")}
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def _accept_port(proc):
    """The port of s_server's ACCEPT line (printed once it listens); its output is drained afterwards."""
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


def _leftovers(directory):
    """Anchor bundles the controller probe left anywhere under the run's directory."""
    return [os.path.join(top, f) for top, _dirs, files in os.walk(str(directory)) for f in files
            if f.endswith(".client_trust.pem")]


def _probe(tmp_path, server, cas, options=(), fail_on="error"):
    variables = {
        "out": str(tmp_path / "probes.json"),
        "client_trust_ca_certificates": cas,
        "client_trust_probe_targets": [{"host": HOST, "address": "127.0.0.1", "port": server["port"]}],
        "client_trust_probe_fail_on": fail_on,
        "client_trust_allow_leaf": False,
    }
    rc, out = run_playbook(tmp_path, PROBE_PLAY, variables, options)
    probes = json.loads((tmp_path / "probes.json").read_text()) if (tmp_path / "probes.json").exists() else None
    return rc, out, probes


@pytest.mark.parametrize("options", [(), ("--check", "--diff")], ids=["run", "check-diff"])
@pytest.mark.parametrize("source", ["content", "src"])
def test_controller_probe_trusts_the_server_through_the_ca_just_installed(tmp_path, server, options, source):
    ca = {"name": "corp-root"}
    ca.update({"content": server["root_pem"]} if source == "content" else {"src": str(server["dir"] / "root.pem")})
    rc, out, probes = _probe(tmp_path, server, [ca], options)
    assert rc == 0, out
    (result,) = probes["results"]
    # the same verdict with and without --check: the anchors are the CAs the role installs
    assert result["trusted"] and result["verified"] and result["chain_complete"] and result["name_matched"], result
    assert result["anchor"]["subject"].startswith("CN=Client Trust Windows Root,")
    assert result["trust_store"]["count"] == 1
    assert "(from the controller)" in out
    # the CA's PEM body is not shown by --diff, and the anchor bundle is removed afterwards
    assert server["root_pem"].splitlines()[1] not in out
    assert _leftovers(tmp_path) == []


def test_controller_probe_fails_when_the_server_does_not_chain_to_the_ca(tmp_path, server):
    rc, out, probes = _probe(tmp_path, server, [{"name": "unrelated", "src": str(server["dir"] / "other.pem")}],
                             ("--check",))
    assert rc != 0
    assert "TLS-001" in out
    assert probes is None  # the play stopped at the probe
    assert _leftovers(tmp_path) == []


def test_controller_probe_uses_only_cas_that_stay_trusted(tmp_path, server):
    """A CA being removed is no anchor: with the right CA absent, only the unrelated one is left."""
    cas = [{"name": "corp-root", "content": server["root_pem"], "state": "absent"},
           {"name": "unrelated", "src": str(server["dir"] / "other.pem")}]
    rc, out, probes = _probe(tmp_path, server, cas, fail_on="never")
    assert rc == 0, out
    (result,) = probes["results"]
    assert not result["trusted"] and result["trust_store"]["count"] == 1
    assert "TLS-001" in [f["code"] for f in result["findings"]]


def test_controller_probe_says_why_a_der_ca_is_not_probed(tmp_path, server):
    rc, out, probes = _probe(tmp_path, server, [{"name": "corp-root-der", "src": str(server["dir"] / "root.der")}])
    assert rc == 0, out
    assert re.search(r"skipped: corp-root-der is not PEM text \(DER or binary PKCS#7\)", out), out
    assert probes["skipped"] if "results" not in probes else all(r["skipped"] for r in probes["results"])
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("options", [(), ("--check", "--diff")], ids=["run", "check-diff"])
def test_windows_host_without_ca_says_why_it_is_not_probed(tmp_path, server, options):
    """The role on a host that looks like Windows, no CA given: a visible line, without -v."""
    variables = {
        "client_trust_ca_certificates": [],
        "client_trust_probe_targets": [{"host": HOST, "address": "127.0.0.1", "port": server["port"]}],
    }
    rc, out = run_playbook(tmp_path, WINDOWS_PLAY, variables, options)
    assert rc == 0, out
    assert re.search(rf"client_trust: probe of {re.escape(HOST)} for the Windows host localhost skipped: no CA certificate with "
                     r"state present is given, and the controller cannot read the Windows store",
                     out), out
    assert _leftovers(tmp_path) == []
