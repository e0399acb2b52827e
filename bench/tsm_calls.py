# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TSM calls, applies and restarts: the saml + mutual_ssl roles next to a naive shell-task role.

A restart of Tableau Server costs minutes of downtime, so the number of ``tsm`` invocations,
applies and restarts is this capability's performance figure. Two simulated Tableau Servers
(the TSM simulator, tests/support/tsm, which counts every invocation and every restart):

* node A gets server-wide SAML - role ``trustops.tableau.saml`` (validation, then the TSM half)
* node B gets mutual SSL - role ``trustops.tableau.mutual_ssl`` (audit, then the TSM half);
  external SSL is already on there (mutual SSL needs it; SAML and mutual SSL exclude each other)

Each playbook runs twice with real ``ansible-playbook``: on a fresh server, then again on the
server it converged. The naive baseline, in the same run on servers prepared the same way, is
what public TSM automation does: a shell task per ``tsm`` command, every run, each followed by
``tsm pending-changes apply --ignore-prompt``. The roles run twice: with ``transport: cli`` (the
``tsm`` command on the node) and ``transport: api`` (the TSM API over HTTPS, the simulator's HTTPS
server): for the API the figures are HTTP requests, sign-ins, reads, staging requests, uploads.

Goals (issue 5): a converged run makes <= 2 tsm calls and 0 restarts; a fresh run applies once.
Goals (issue 15): through the API, a converged run is 1 sign-in and 1 read per server, no staging
request, no upload, no apply; a fresh run applies once and runs no tsm command.

Usage (repository root, venv active): python bench/tsm_calls.py [--keep DIR]
Needs ANSIBLE_COLLECTIONS_PATH (or .build/collections) with trustops.tableau, and for the SAML
fixtures pysaml2 + xmlsec1 (as the unit tests).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
sys.path.insert(0, os.path.join(REPO, "tests", "unit", "plugins", "module_utils"))

from tsm_sim.harness import API_PASSWORD, API_USER, SimServer  # noqa: E402  pylint: disable=wrong-import-position,import-error

HOST = "tableau.example.test"
URL = f"https://{HOST}"

OURS = """
- name: SAML on node A (role saml, validation then TSM)
  hosts: node_a
  gather_facts: false
  module_defaults:
    group/trustops.tableau.tsm:
      tsm_path: "{{ tsm_path }}"
  roles:
    - role: trustops.tableau.saml
      vars:
        saml_tsm_configure: true

- name: Mutual SSL on node B (role mutual_ssl, audit then TSM)
  hosts: node_b
  gather_facts: false
  module_defaults:
    group/trustops.tableau.tsm:
      tsm_path: "{{ tsm_path }}"
  roles:
    - role: trustops.tableau.mutual_ssl
      vars:
        mutual_ssl_tsm_configure: true
"""

API_CONNECTION = ('      transport: api\n      tsm_url: "{{ tsm_url }}"\n      ca_path: "{{ ca_path }}"\n'
                  '      username: "{{ tsm_username }}"\n      password: "{{ tsm_password }}"')
OURS_API = OURS.replace('      tsm_path: "{{ tsm_path }}"', API_CONNECTION)

NAIVE = """
- name: SAML on node A, the naive way
  hosts: node_a
  gather_facts: false
  tasks:
    - name: Run each tsm command and apply after each
      ansible.builtin.shell: |
        set -e
        tsm="{{ tsm_path }}"
        "$tsm" authentication saml configure --idp-entity-id {{ url }} --idp-return-url {{ url }} \\
          --idp-metadata {{ saml_idp_metadata_src }} --cert-file {{ saml_sp_cert_src }} --key-file {{ saml_sp_key_src }}
        "$tsm" pending-changes apply --ignore-prompt
        "$tsm" configuration set -k wgserver.saml.blocklisted_digest_algorithms -v SHA1 --force-keys
        "$tsm" pending-changes apply --ignore-prompt
        "$tsm" configuration set -k wgserver.saml.min_allowed.rsa_key_size -v 2048 --force-keys
        "$tsm" pending-changes apply --ignore-prompt
        "$tsm" configuration set -k wgserver.saml.min_allowed.elliptic_curve_size -v 256 --force-keys
        "$tsm" pending-changes apply --ignore-prompt
        "$tsm" authentication saml enable
        "$tsm" pending-changes apply --ignore-prompt
      changed_when: true

- name: Mutual SSL on node B, the naive way
  hosts: node_b
  gather_facts: false
  tasks:
    - name: Run each tsm command and apply after each
      ansible.builtin.shell: |
        set -e
        tsm="{{ tsm_path }}"
        "$tsm" authentication mutual-ssl configure --ca-cert {{ mutual_ssl_client_ca }} --user-name-mapping cn
        "$tsm" pending-changes apply --ignore-prompt
        "$tsm" authentication mutual-ssl enable
        "$tsm" pending-changes apply --ignore-prompt
      changed_when: true
"""


def fixtures(base):
    """SAML files the saml role accepts, client certificates the mutual_ssl audit accepts, SSL files."""
    import datetime

    import saml_idp_fixtures as fx  # pylint: disable=import-error
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    def write(name, data):
        path = os.path.join(base, "files", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def issue(cn, key, issuer=None, issuer_key=None, ca=False):
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=200))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(issuer_key or key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM), cert

    sp_key = fx.key("rsa", 2048, "bench-sp")
    os.makedirs(os.path.join(base, "idp"), exist_ok=True)
    idp = fx.Idp(os.path.join(base, "idp"), name="bench-idp")
    ca_key = fx.key("rsa", 2048, "bench-client-ca")
    ca_pem, ca_cert = issue("Bench Client CA", ca_key, ca=True)
    alice_pem, _cert = issue("alice", fx.key("rsa", 2048, "bench-alice"), ca_cert, ca_key)
    server_key = fx.key("rsa", 2048, "bench-server")
    server_pem, _cert = issue(HOST, server_key, ca_cert, ca_key)
    return {
        "saml_server_host": HOST,
        "saml_sp_cert_src": write("saml.crt", fx.pem(fx.self_signed(sp_key, HOST))),
        "saml_sp_key_src": write("saml.key", fx.key_file(sp_key, "pkcs1")),
        "saml_idp_metadata_src": write("idp.xml", idp.metadata(sign="sha256")),
        "saml_stage_dir": os.path.join(base, "staged", "saml"),
        "mutual_ssl_client_certs": [write("alice.crt", alice_pem)],
        "mutual_ssl_identity_store": "local",
        "mutual_ssl_mapping": "cn",
        "mutual_ssl_client_ca": write("client-ca.crt", ca_pem),
        "mutual_ssl_stage_dir": os.path.join(base, "staged", "mutual_ssl"),
        "server_cert": write("server.crt", server_pem),
        "server_key": write("server.key", server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption())),
    }


def fresh_servers(base, files):
    """Node A fresh; node B fresh but with external SSL applied; counters zeroed."""
    node_a = SimServer(os.path.join(base, "node_a"))
    node_b = SimServer(os.path.join(base, "node_b"))
    for args in (("security", "external-ssl", "enable", "--cert-file", files["server_cert"], "--key-file",
                  files["server_key"]), ("pending-changes", "apply", "--ignore-prompt")):
        proc = node_b.run(*args)
        if proc.returncode != 0:
            raise SystemExit(f"preparing node B failed: {proc.stderr}")
    for node in (node_a, node_b):
        proc = node.run("_sim", "reset-counters")
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
    return {"node_a": node_a, "node_b": node_b}


def collections_path():
    path = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, ".build", "collections")
    if not os.path.isdir(os.path.join(path.split(os.pathsep)[0], "ansible_collections", "trustops", "tableau")):
        raise SystemExit(f"trustops.tableau not found under {path}; set ANSIBLE_COLLECTIONS_PATH")
    return path


def run_playbook(base, name, text, servers, variables):  # pylint: disable=too-many-locals
    play = os.path.join(base, f"{name}.yml")
    with open(play, "w") as handle:
        handle.write(text)
    inventory = os.path.join(base, "hosts.json")
    hosts = {}
    for node, server in servers.items():
        hosts[node] = {"hosts": {node: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                        "tsm_path": server.tsm}}}
        if server.api_info:
            hosts[node]["hosts"][node].update(tsm_url=server.api_info["url"], ca_path=server.api_info["cafile"])
    with open(inventory, "w") as handle:
        json.dump(hosts, handle)
    extra = os.path.join(base, "vars.json")
    with open(extra, "w") as handle:
        json.dump(dict(variables, url=URL, tsm_username=API_USER, tsm_password=API_PASSWORD), handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=os.path.join(base, "ansible-home"), ANSIBLE_LOCALHOST_WARNING="0")
    env.pop("TSM_SIM_FAIL", None)
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    started = time.monotonic()
    proc = subprocess.run([playbook, "-i", inventory, play, "-e", "@" + extra], env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return seconds


API_KEYS = ("requests", "logins", "reads", "writes", "uploads")


def measure(servers, action):
    before = dict((n, s.counters()) for n, s in servers.items())
    seconds = action()
    row = {"seconds": seconds}
    for node, server in servers.items():
        after = server.counters()
        keys = ("invocations", "writes", "applies", "restarts")
        row[node] = dict((k, after[k] - before[node].get(k, 0)) for k in keys)
        row[node]["api"] = dict((k, after.get("api", {}).get(k, 0) - before[node].get("api", {}).get(k, 0))
                                for k in API_KEYS)
    return row


def main(argv):
    keep = None
    if argv[:1] == ["--keep"] and len(argv) > 1:
        keep = argv[1]
    base = keep or tempfile.mkdtemp(prefix="trustops-bench-tsm-")
    os.makedirs(base, exist_ok=True)
    started = []
    try:
        files = fixtures(base)
        rows = []
        for label, text, api in (("ours (roles saml + mutual_ssl)", OURS, False),
                                 ("api (the same roles, transport api)", OURS_API, True),
                                 ("naive shell tasks", NAIVE, False)):
            servers = fresh_servers(os.path.join(base, label.split()[0]), files)
            if api:
                for server in servers.values():
                    server.start_api()
                    started.append(server)
            work = os.path.join(base, label.split()[0])
            fresh = measure(servers, lambda w=work, t=text, s=servers: run_playbook(w, "fresh", t, s, files))
            converged = measure(servers, lambda w=work, t=text, s=servers: run_playbook(w, "converged", t, s, files))
            rows.append((label, fresh, converged))
    finally:
        for server in started:
            server.stop_api()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)

    print("TSM calls, applies and restarts per run (simulated servers: A = SAML, B = mutual SSL)")
    header = ("playbook", "server", "tsm calls", "changing", "applies", "restarts", "seconds")
    print("%-32s %-10s %12s %12s %12s %12s %8s" % header)
    for label, fresh, converged in rows:
        for run_name, row in (("fresh", fresh), ("converged", converged)):
            for node in ("node_a", "node_b"):
                figures = row[node]
                print("%-32s %-10s %12d %12d %12d %12d %8s" % (
                    f"{label.split()[0]}, {run_name}", node.replace("node_", "node "), figures["invocations"],
                    figures["writes"], figures["applies"], figures["restarts"],
                    "{:.1f}".format(row["seconds"]) if node == "node_a" else ""))
    print()
    print("TSM API (transport api): HTTP requests per run ('changing': staging, discard and apply requests)")
    header = ("playbook", "server", "requests", "sign-ins", "reads", "changing", "uploads", "applies")
    print("%-32s %-10s %9s %9s %9s %9s %9s %9s" % header)
    for label, fresh, converged in rows[1:2]:
        for run_name, row in (("fresh", fresh), ("converged", converged)):
            for node in ("node_a", "node_b"):
                figures = row[node]["api"]
                print("%-32s %-10s %9d %9d %9d %9d %9d %9d" % (
                    f"{label.split()[0]}, {run_name}", node.replace("node_", "node "), figures["requests"],
                    figures["logins"], figures["reads"], figures["writes"], figures["uploads"], row[node]["applies"]))
    ours_fresh, ours_converged = rows[0][1], rows[0][2]
    api_fresh, api_converged = rows[1][1], rows[1][2]
    nodes = ("node_a", "node_b")
    checks = [
        ("converged run <= 2 tsm calls per server", all(ours_converged[n]["invocations"] <= 2 for n in nodes)),
        ("converged run 0 restarts", all(ours_converged[n]["restarts"] == 0 for n in nodes)),
        ("converged run 0 applies", all(ours_converged[n]["applies"] == 0 for n in nodes)),
        ("fresh run exactly 1 apply per server", all(ours_fresh[n]["applies"] == 1 for n in nodes)),
        ("api: converged run 1 sign-in, 1 read per server",
         all((api_converged[n]["api"]["logins"], api_converged[n]["api"]["reads"]) == (1, 1) for n in nodes)),
        ("api: converged run 0 changing requests, 0 uploads",
         all(api_converged[n]["api"]["writes"] == api_converged[n]["api"]["uploads"] == 0 for n in nodes)),
        ("api: converged run 0 applies, 0 restarts",
         all(api_converged[n]["applies"] == api_converged[n]["restarts"] == 0 for n in nodes)),
        ("api: fresh run exactly 1 apply, 0 tsm calls",
         all(api_fresh[n]["applies"] == 1 and api_fresh[n]["invocations"] == 0 for n in nodes)),
    ]
    print()
    for text, ok in checks:
        print("goal: %-52s %s" % (text, "met" if ok else "NOT MET"))
    naive_converged = rows[2][2]
    print("naive converged run restarts the servers %d time(s); ours %d" % (
        sum(naive_converged[n]["restarts"] for n in ("node_a", "node_b")),
        sum(ours_converged[n]["restarts"] for n in ("node_a", "node_b"))))
    return 0 if all(ok for _text, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
