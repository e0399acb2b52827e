# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM halves of the saml and mutual_ssl roles, through ansible-playbook, against two simulated servers.

The validation/audit halves belong to their own tests; here the roles' tasks/configure.yml runs
(include_role tasks_from) with the tsm_apply handler: a fresh run stages the files 0600 and applies
exactly once per server; a converged run calls tsm once per server and applies nothing. Both
transports: the tsm command line, and the TSM API over HTTPS (one sign-in and one read per server).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import API_PASSWORD, API_USER, TRANSPORTS, SimServer, idp_metadata, make_crl, write  # noqa: E402,E501  pylint: disable=wrong-import-position

COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0] or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "..", ".build", "collections")
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

CONNECTION = {  # module_defaults of each play, per transport
    "cli": '      tsm_path: "{{ tsm_path }}"',
    "api": ('      transport: api\n      tsm_url: "{{ tsm_url }}"\n      ca_path: "{{ ca_path }}"\n'
            '      username: "{{ tsm_username }}"\n      password: "{{ tsm_password }}"'),
}
PLAY = """
- name: SAML on node A
  hosts: node_a
  gather_facts: false
  module_defaults:
    group/trustops.tableau.tsm:
%(connection)s
  tasks:
    - name: The TSM half of the saml role
      ansible.builtin.include_role:
        name: trustops.tableau.saml
        tasks_from: configure.yml

- name: Mutual SSL on node B
  hosts: node_b
  gather_facts: false
  module_defaults:
    group/trustops.tableau.tsm:
%(connection)s
  tasks:
    - name: The TSM half of the mutual_ssl role
      ansible.builtin.include_role:
        name: trustops.tableau.mutual_ssl
        tasks_from: configure.yml
"""


@pytest.fixture(params=TRANSPORTS)
def fleet(request, tmp_path, pki):
    transport = request.param
    root = pki.root(cn="Roles Root")
    sp = pki.leaf(root, cn="tableau.example.test")
    clients = pki.root(cn="Roles Client CA")
    node_a = SimServer(tmp_path / "node_a")
    node_b = SimServer(tmp_path / "node_b")
    for args in (("security", "external-ssl", "enable", "--cert-file", write(tmp_path / "in" / "server.crt", sp.pem),
                  "--key-file", write(tmp_path / "in" / "server.key", sp.key_pem())),
                 ("pending-changes", "apply", "--ignore-prompt"), ("_sim", "reset-counters")):
        assert node_b.run(*args).returncode == 0
    variables = {
        "saml_sp_cert_src": write(tmp_path / "ctl" / "saml.crt", sp.pem),
        "saml_sp_key_src": write(tmp_path / "ctl" / "saml.key", sp.key_pem("pkcs8", b"Role-Key-Pass-9")),
        "saml_sp_key_passphrase": "Role-Key-Pass-9",
        "saml_idp_metadata_src": write(tmp_path / "ctl" / "idp.xml", idp_metadata()),
        "saml_server_host": "tableau.example.test", "saml_stage_dir": str(tmp_path / "stage" / "saml"),
        "saml_user_name_attribute": "email",
        "mutual_ssl_client_ca": clients.pem.decode("ascii"), "mutual_ssl_mapping": "cn",
        "mutual_ssl_stage_dir": str(tmp_path / "stage" / "mutual_ssl"),
        "mutual_ssl_revocation_src": write(tmp_path / "ctl" / "clients.crl.pem", make_crl(clients, [77])),
    }
    hosts = {"node_a": {"hosts": {"node_a": {"tsm_path": node_a.tsm}}},
             "node_b": {"hosts": {"node_b": {"tsm_path": node_b.tsm}}}}
    if transport == "api":
        for name, node in (("node_a", node_a), ("node_b", node_b)):
            info = node.start_api()
            hosts[name]["hosts"][name].update(tsm_url=info["url"], ca_path=info["cafile"])
        variables.update(tsm_username=API_USER, tsm_password=API_PASSWORD)
    for group in hosts.values():
        for host in group["hosts"].values():
            host.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (tmp_path / "hosts.json").write_text(json.dumps(hosts))
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.yml").write_text(PLAY.replace("%(connection)s", CONNECTION[transport]))
    yield {"dir": tmp_path, "a": node_a, "b": node_b, "transport": transport}
    node_a.stop_api()
    node_b.stop_api()


def run(fleet):
    tmp = fleet["dir"]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=str(tmp / "h"),
               ANSIBLE_LOCAL_TEMP=str(tmp / "t"), ANSIBLE_LOCALHOST_WARNING="0")
    env.pop("TSM_SIM_FAIL", None)
    proc = subprocess.run([PLAYBOOK, "-i", str(tmp / "hosts.json"), str(tmp / "play.yml"), "-e",
                           "@%s" % (tmp / "vars.json")], env=env, capture_output=True, text=True, timeout=240,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_roles_apply_once_then_only_read(fleet):
    rc, out = run(fleet)
    assert rc == 0, out
    for node in (fleet["a"], fleet["b"]):
        counters = node.counters()
        assert (counters["applies"], counters["restarts"], counters["prompts"]) == (1, 1, 0), counters
    saml = fleet["a"].applied()["configEntities"]["samlSettings"]
    assert saml["enabled"] and saml["returnUrl"] == "https://tableau.example.test"
    assert saml["idpUsernameAttribute"] == "email"
    assert fleet["a"].applied()["configKeys"]["wgserver.saml.key.passphrase"].startswith("ENC(")
    mssl = fleet["b"].applied()["configEntities"]["mutualSSLSettings"]
    assert mssl["clientCertRequired"] and mssl["userNameMapping"] == "cn" and mssl["revocationFile"]
    crl = [n for n in os.listdir(str(fleet["dir"] / "stage" / "mutual_ssl")) if n.startswith("revocation-")]
    assert len(crl) == 1 and crl[0].endswith(".pem")
    staged = sorted(os.listdir(str(fleet["dir"] / "stage" / "saml")))
    assert [name.split("-")[0] for name in staged] == ["idp", "sp", "sp"] and len(staged) == 3
    for name in staged + ["../mutual_ssl/" + n for n in os.listdir(str(fleet["dir"] / "stage" / "mutual_ssl"))]:
        mode = stat.S_IMODE(os.stat(str(fleet["dir"] / "stage" / "saml" / name)).st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert "Role-Key-Pass-9" not in out and API_PASSWORD not in out

    calls = [(len(node.calls()), len(node.api_log())) for node in (fleet["a"], fleet["b"])]
    rc, out = run(fleet)
    assert rc == 0, out
    assert "changed=0" in out and "changed=1" not in out, out
    for node, (cli, api) in zip((fleet["a"], fleet["b"]), calls, strict=True):
        if fleet["transport"] == "api":
            assert [r["command"] for r in node.api_log()[api:]] == ["login", "settings.export", "logout"]
        else:
            assert [c["command"] for c in node.calls()[cli:]] == ["settings.export"]
        assert (node.counters()["applies"], node.counters()["restarts"]) == (1, 1)
