# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permanent secrets scan: no secret ever leaves a run (docs/secrets.md).

Every role, and every module that takes a secret, runs through the real ``ansible-playbook -vvv
--diff`` of the venv, on localhost, in a temporary directory: in check mode, for real, and in a
run where a task fails (wrong passphrase, wrong TSM password, a TSM command that fails, a server
check that refuses the configuration). The TSM modules run against the TSM simulator
(tests/support/tsm), the only stand-in of the project.

Afterwards the scan greps, for every secret value (passphrases, passwords, a secret TSM key's
value, the wrong passphrases of the failing runs) and for every base64 body line of every private
key (as written, and its unencrypted PKCS#1/PKCS#8 forms; lines that only carry public-key bytes
are left out, the certificate shows those):

- the complete output of the run (stdout and stderr);
- every file the run wrote under the temporary directory (staged files, generated artifacts,
  rendered configurations, leftovers in TMPDIR and in Ansible's temporary directories), except
  the key files the user asked for: a file whose bytes are exactly those of a private key input
  (the staged SAML key, Tableau Server's stored copy). The simulated server's own state stands
  for Tableau Server's internal storage and is not a file the run wrote;
- the command lines of every ``tsm`` process (what ``ps`` shows to every user of the host),
  recorded by a wrapper in front of the simulator.

Zero hits everywhere. A hit is reported with where it was found and the task it came from.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from embed_proxy_harness import Server, wait_port
from module_runner import OWN_FILES, run_playbook
from tsm_sim.harness import SimServer, write

import saml_idp_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position,import-error


# Distinctive values: none of them can occur by chance in Ansible's output.
SAML_PASS = "ScanSamlPass-4f1a9c"
TSM_PASS = "ScanTsmPass-8b2e7d"
SSL_PASS = "ScanSslPass-3c9d0e"
SIGNER_PASS = "ScanSignerPass-6a5f1b"
CONFIG_SECRET = "ScanConfigSecret-9e8d7c"
# Wrong values for the failing runs, one per secret so that a hit names the right one.
WRONG = {"saml": "ScanWrongSaml-1d2c3b", "tsm": "ScanWrongTsm-2e3d4c", "signer": "ScanWrongSigner-3f4e5d",
         "ssl": "ScanWrongSsl-4a5f6e"}
TSM_USER = "scanadmin"

MODES = ("check", "real", "fail")


# ------------------------------------------------------------------------------ markers

def key_markers(private_key, written=None):
    """Base64 body lines of a private key that carry private bytes.

    The key as written (``written``, e.g. an encrypted PKCS#8 file) and its unencrypted PKCS#8 and
    PKCS#1 forms; a line whose 48 bytes are all inside the public key is left out.
    """
    public = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    forms = [private_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
             for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL)]
    if written:
        forms.append(written)
    lines = set()
    for pem in forms:
        for line in pem.decode("ascii").splitlines():
            line = line.strip()
            if len(line) < 40 or line.startswith("-----") or ":" in line:
                continue
            if base64.b64decode(line) in public:
                continue
            lines.add(line)
    return lines


def _task_of(text, index):
    """The TASK/HANDLER/PLAY header that precedes index in the output."""
    found = None
    for match in re.finditer(r"^(?:TASK|RUNNING HANDLER|PLAY) \[[^\n]*", text[:index], re.M):
        found = match.group(0)
    return found or "(before the first task)"


def scan(world, output):
    """Every place where a secret appears, one line per (place, secret, task) with a count."""
    hits = {}
    markers = sorted(world["secrets"].items())

    def look(where, text, with_task):
        for label, values in markers:
            for value in sorted(values):
                start = text.find(value)
                while start >= 0:
                    place = (where, label, _task_of(text, start) if with_task else "")
                    if place not in hits:
                        hits[place] = [0, text[max(0, start - 60):start + len(value) + 20].replace("\n", "\\n")]
                    hits[place][0] += 1
                    start = text.find(value, start + 1)

    look("output", output, True)
    skip = set(os.path.realpath(p) for p in world["not_written"])
    key_bytes = set(world["key_files"])
    for top, dirs, files in os.walk(world["dir"]):
        dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(top, d)) not in skip]
        for name in files:
            path = os.path.join(top, name)
            if os.path.realpath(path) in skip or os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            if data in key_bytes:
                continue  # a private key file the user asked for
            look("file " + os.path.relpath(path, str(world["dir"])), data.decode("utf-8", "replace"), False)
    ps_log = world["dir"] / "in" / "ps.log"
    if ps_log.exists():
        look("tsm command line (ps)", ps_log.read_text(), False)
    return ["%s: %s (%d time(s))%s: ...%s..." % (where, label, count, " in " + task if task else "", context)
            for (where, label, task), (count, context) in sorted(hits.items())]


# ------------------------------------------------------------------------------ the runs

def _free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class World(dict):
    """The temporary directory of one case: inputs, inventory, secrets, the files not to scan."""


def _world(tmp_path):
    world = World(dir=tmp_path, secrets={}, key_files=[], not_written=[], cleanup=[])
    inputs = tmp_path / "in"
    inputs.mkdir()
    world["not_written"].append(str(inputs))
    return world


def _private_key(world, label, key, fmt="pkcs8", passphrase=None, name=None):
    data = fx.key_file(key, fmt, passphrase)
    path = write(world["dir"] / "in" / (name or re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".key"), data)
    world["secrets"]["private key " + label] = key_markers(key, data)
    world["key_files"].append(data)
    return path


def _secret(world, label, value):
    world["secrets"].setdefault(label, set()).add(value)
    return value


def _tsm_server(world, name, *init):
    """A simulated server whose tsm is reached through a wrapper that records every argv (ps)."""
    server = SimServer(world["dir"] / ("sim_" + name), *init)
    world["not_written"].append(server.home)
    wrapper = world["dir"] / "in" / ("tsm-" + name)
    wrapper.write_text("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n".format(world["dir"] / "in" / "ps.log", server.tsm))
    wrapper.chmod(0o755)
    return server, str(wrapper)


def _external_ssl_on(world, server, pki):
    """SSL for external traffic already enabled (mutual SSL needs it): the server as the run finds it."""
    cert = pki.leaf(pki.root(cn="Scan Server Root"), cn="tableau.example.test")
    key = _private_key(world, "server TLS (already on the server)", cert.key, "pkcs8")
    for args in (("login", "--username", TSM_USER, "--password", TSM_PASS),
                 ("security", "external-ssl", "enable", "--cert-file", write(world["dir"] / "in" / "server.crt", cert.pem),
                  "--key-file", key), ("pending-changes", "apply", "--ignore-prompt"), ("logout",)):
        result = server.run(*args)
        assert result.returncode == 0, (args, result.stderr)


def _run(world, playbook, variables, mode, env=None, hosts=None):
    world["not_written"].extend(str(world["dir"] / name) for name in OWN_FILES)
    options = ["-vvv", "--diff"] + (["--check"] if mode == "check" else [])
    return run_playbook(world["dir"], playbook, variables, options, env=env, hosts=hosts)


TSM_DEFAULTS = f"""
  module_defaults:
    group/trustops.tableau.tsm:
      tsm_path: "{{{{ tsm_path }}}}"
      username: "{TSM_USER}"
      password: "{{{{ tsm_password }}}}"
"""


def case_saml(world, mode, pki):  # pylint: disable=unused-argument
    """The saml role, both halves: validation on the controller, then staging and TSM (tsm_apply)."""
    inputs = world["dir"] / "in"
    sp_key = fx.key("rsa", 2048, "scan-sp")
    sp_cert = fx.self_signed(sp_key, fx.SERVER_HOST)
    idp = fx.Idp(inputs, name="scan-idp")
    tsm = _tsm_server(world, "saml", f"--require-login={TSM_USER}:{TSM_PASS}")[1]
    variables = {
        "tsm_path": tsm, "tsm_password": _secret(world, "TSM password", TSM_PASS),
        "saml_sp_cert_src": write(inputs / "saml.crt", fx.pem(sp_cert)),
        "saml_sp_key_src": _private_key(world, "SAML SP", sp_key, "pkcs8", SAML_PASS),
        "saml_sp_key_passphrase": _secret(world, "SAML key passphrase", SAML_PASS),
        "saml_idp_metadata_src": write(inputs / "idp.xml", idp.metadata()),
        "saml_server_host": fx.SERVER_HOST,
        "saml_tsm_configure": True,
        "saml_stage_dir": str(world["dir"] / "stage" / "saml"),
    }
    env = None
    if mode == "fail":  # TSM refuses the staging: the staged files and the passphrase are in flight
        env = {"TSM_SIM_FAIL": "authentication.saml.configure"}
    play = f"""
- name: SAML on a Tableau Server
  hosts: localhost
  gather_facts: false
{TSM_DEFAULTS}
  roles:
    - role: trustops.tableau.saml
"""
    return play, variables, env, None


def case_saml_plain_key(world, mode, pki):  # pylint: disable=unused-argument
    """The saml role with an unencrypted PKCS#1 key (the --diff of the staged key, issue 11)."""
    inputs = world["dir"] / "in"
    sp_key = fx.key("rsa", 2048, "scan-sp-plain")
    sp_cert = fx.self_signed(sp_key, fx.SERVER_HOST)
    idp = fx.Idp(inputs, name="scan-idp")
    tsm = _tsm_server(world, "saml", f"--require-login={TSM_USER}:{TSM_PASS}")[1]
    variables = {
        "tsm_path": tsm, "tsm_password": _secret(world, "TSM password", TSM_PASS if mode != "fail" else WRONG["tsm"]),
        "saml_sp_cert_src": write(inputs / "saml.crt", fx.pem(sp_cert)),
        "saml_sp_key_src": _private_key(world, "SAML SP (PKCS#1, no passphrase)", sp_key, "pkcs1"),
        "saml_idp_metadata_src": write(inputs / "idp.xml", idp.metadata()),
        "saml_server_host": fx.SERVER_HOST,
        "saml_tsm_configure": True,
        "saml_stage_dir": str(world["dir"] / "stage" / "saml"),
    }
    play = f"""
- name: SAML on a Tableau Server
  hosts: localhost
  gather_facts: false
{TSM_DEFAULTS}
  roles:
    - role: trustops.tableau.saml
"""
    return play, variables, None, None


def case_mutual_ssl(world, mode, pki):
    """The mutual_ssl role: the audit on the controller, then staging and TSM with a TSM password."""
    inputs = world["dir"] / "in"
    clients = pki.root(cn="Scan Client CA")
    alice = pki.leaf(clients, cn="alice", dns=())
    server, tsm = _tsm_server(world, "mssl", f"--require-login={TSM_USER}:{TSM_PASS}")
    _external_ssl_on(world, server, pki)
    variables = {
        "tsm_path": tsm,
        "tsm_password": _secret(world, "TSM password", TSM_PASS if mode != "fail" else WRONG["tsm"]),
        "mutual_ssl_client_certs": [write(inputs / "alice.crt", alice.pem)],
        "mutual_ssl_identity_store": "local", "mutual_ssl_mapping": "cn",
        "mutual_ssl_client_ca": write(inputs / "client-ca.crt", clients.pem),
        "mutual_ssl_tsm_configure": True,
        "mutual_ssl_stage_dir": str(world["dir"] / "stage" / "mutual_ssl"),
    }
    play = f"""
- name: Mutual SSL on a Tableau Server
  hosts: localhost
  gather_facts: false
{TSM_DEFAULTS}
  roles:
    - role: trustops.tableau.mutual_ssl
"""
    return play, variables, None, None


def case_mobile_trust(world, mode, pki):
    """The mobile_trust role, signing with an encrypted signer key."""
    inputs = world["dir"] / "in"
    root = pki.root(cn="Scan Mobile Root")
    signer = pki.leaf(root, cn="Scan Profile Signer", dns=())
    variables = {
        "mobile_trust_dest": str(world["dir"] / "mobile"),
        "mobile_trust_ca_files": [write(inputs / "root.crt", root.pem)],
        "mobile_trust_identifier": "test.trustops.scan",
        "mobile_trust_signer_cert_file": write(inputs / "signer.crt", signer.pem),
        "mobile_trust_signer_key_file": _private_key(world, "profile signer", signer.key, "pkcs8", SIGNER_PASS),
        "mobile_trust_signer_key_passphrase": _secret(world, "signer key passphrase",
                                                      SIGNER_PASS if mode != "fail" else WRONG["signer"]),
    }
    play = """
- name: Mobile trust files
  hosts: localhost
  gather_facts: false
  roles:
    - role: trustops.tableau.mobile_trust
"""
    return play, variables, None, None


def case_embed_proxy(world, mode, pki):
    """The embed_proxy role in site mode (TLS key on the target), checked by the real nginx."""
    inputs = world["dir"] / "in"
    root = pki.root(cn="Scan Proxy Root")
    leaf = pki.leaf(root, cn=fx.SERVER_HOST)
    other = pki.leaf(root, cn=fx.SERVER_HOST, key=pki.root(cn="Scan Other Key").key)
    nginx = Server("nginx", str(world["dir"] / "nginx"))
    nginx.write_main()
    check = nginx.check_command()
    variables = {
        "embed_proxy_server": "nginx", "embed_proxy_mode": "site",
        "embed_proxy_config_path": str(world["dir"] / "nginx" / "conf.d" / "trustops_embed.conf"),
        "embed_proxy_check_command": check,
        # a reload of a server that is not running here: the same check (the scan is about output)
        "embed_proxy_reload_command": check,
        "embed_proxy_state_dir": str(world["dir"] / "state"),
        "embed_proxy_listen_address": "127.0.0.1", "embed_proxy_listen_port": _free_port(),
        "embed_proxy_server_name": fx.SERVER_HOST, "embed_proxy_upstream_host": "127.0.0.1",
        # the failing run: a key that does not belong to the certificate, refused by nginx -t
        "embed_proxy_tls_certificate": write(inputs / "proxy.crt", (leaf if mode != "fail" else other).pem),
        "embed_proxy_tls_key": _private_key(world, "proxy TLS", leaf.key, "pkcs8"),
    }
    play = """
- name: Embedded-only access at the proxy
  hosts: localhost
  gather_facts: false
  roles:
    - role: trustops.tableau.embed_proxy
"""
    return play, variables, None, None


def case_client_trust(world, mode, pki):
    """The client_trust role probing a real TLS server (openssl s_server) whose key is the secret."""
    inputs = world["dir"] / "in"
    root = pki.root(cn="Scan Client Trust Root")
    leaf = pki.leaf(root, cn=fx.SERVER_HOST)
    port = _free_port()
    key = _private_key(world, "Tableau Server TLS", leaf.key, "pkcs8")
    proc = subprocess.Popen(["openssl", "s_server", "-quiet", "-www", "-accept", "127.0.0.1:%d" % port,
                             "-cert", write(inputs / "server.crt", leaf.pem), "-key", key],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    world["cleanup"].append(proc)
    wait_port(port)
    variables = {
        # no CA certificates: installing one would change this machine's trust store
        "client_trust_ca_certificates": [],
        "client_trust_probe_targets": [{"host": fx.SERVER_HOST, "address": "127.0.0.1", "port": port}],
        # the CA is not trusted here (TLS-001): reported, or, in the failing run, an error
        "client_trust_probe_fail_on": "never" if mode != "fail" else "error",
    }
    play = """
- name: Tableau clients
  hosts: localhost
  gather_facts: false
  roles:
    - role: trustops.tableau.client_trust
"""
    return play, variables, None, None


MODULES_PLAY = f"""
- name: Every module that takes a secret
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/trustops.tableau.tsm:
      username: "{TSM_USER}"
      password: "{{{{ tsm_password }}}}"
  tasks:
    - name: saml_keypair_check with a key file and its passphrase
      trustops.tableau.saml_keypair_check:
        cert_src: "{{{{ cert }}}}"
        key_src: "{{{{ key }}}}"
        passphrase: "{{{{ passphrase }}}}"
        fail_on: error
      ignore_errors: "{{{{ failing }}}}"

    - name: saml_keypair_check with the key inline
      trustops.tableau.saml_keypair_check:
        cert_src: "{{{{ cert }}}}"
        key_content: "{{{{ lookup('ansible.builtin.file', key) }}}}"
        passphrase: "{{{{ passphrase }}}}"
        fail_on: error
      ignore_errors: "{{{{ failing }}}}"

    - name: mobile_trust_profile signed with an encrypted key
      trustops.tableau.mobile_trust_profile:
        src: ["{{{{ ca }}}}"]
        identifier: test.trustops.scan
        dest: "{{{{ out }}}}/mobile"
        signer_cert_src: "{{{{ signer_cert }}}}"
        signer_key_src: "{{{{ signer_key }}}}"
        signer_key_passphrase: "{{{{ signer_passphrase }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: mobile_trust_profile with the signer key inline
      trustops.tableau.mobile_trust_profile:
        src: ["{{{{ ca }}}}"]
        identifier: test.trustops.scan
        dest: "{{{{ out }}}}/mobile2"
        signer_cert_src: "{{{{ signer_cert }}}}"
        signer_key_content: "{{{{ lookup('ansible.builtin.file', signer_key) }}}}"
        signer_key_passphrase: "{{{{ signer_passphrase }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_config with secret keys
      trustops.tableau.tsm_config:
        tsm_path: "{{{{ tsm_config_path }}}}"
        keys:
          wgserver.saml.key.passphrase: "{{{{ config_secret }}}}"
          trustops.scan.password: "{{{{ config_secret }}}}"
        force_keys: true
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_pending_changes applies the secret keys
      trustops.tableau.tsm_pending_changes:
        tsm_path: "{{{{ tsm_config_path }}}}"
        state: applied
        password: "{{{{ mssl_password }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_info reads the secret keys back
      trustops.tableau.tsm_info:
        tsm_path: "{{{{ tsm_config_path }}}}"
        keys: [wgserver.saml.key.passphrase, trustops.scan.password]
        password: "{{{{ mssl_password }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_trusted_auth with the TSM password
      trustops.tableau.tsm_trusted_auth:
        tsm_path: "{{{{ tsm_config_path }}}}"
        trusted_hosts: [web.example.test]
        password: "{{{{ mssl_password }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_saml with an encrypted key and its passphrase
      trustops.tableau.tsm_saml:
        tsm_path: "{{{{ tsm_saml_path }}}}"
        idp_entity_id: https://tableau.example.test
        return_url: https://tableau.example.test
        cert_file: "{{{{ cert }}}}"
        key_file: "{{{{ key }}}}"
        key_passphrase: "{{{{ passphrase }}}}"
        idp_metadata_file: "{{{{ idp }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_external_ssl with an encrypted key and its passphrase
      trustops.tableau.tsm_external_ssl:
        tsm_path: "{{{{ tsm_config_path }}}}"
        cert_file: "{{{{ ssl_cert }}}}"
        key_file: "{{{{ ssl_key }}}}"
        passphrase: "{{{{ ssl_passphrase }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_mutual_ssl with the TSM password
      trustops.tableau.tsm_mutual_ssl:
        tsm_path: "{{{{ tsm_ssl_path }}}}"
        ca_cert: "{{{{ ca }}}}"
        user_name_mapping: cn
        password: "{{{{ mssl_password }}}}"
      ignore_errors: "{{{{ failing }}}}"

    - name: tsm_pending_changes with the TSM password
      trustops.tableau.tsm_pending_changes:
        tsm_path: "{{{{ tsm_ssl_path }}}}"
        state: applied
        password: "{{{{ mssl_password }}}}"
      ignore_errors: "{{{{ failing }}}}"
"""


def case_modules(world, mode, pki):
    """Each module that takes a secret, once; in the failing run every task fails (and is ignored)."""
    inputs = world["dir"] / "in"
    failing = mode == "fail"
    sp_key = fx.key("rsa", 2048, "scan-modules-sp")
    root = pki.root(cn="Scan Modules Root")
    signer = pki.leaf(root, cn="Scan Modules Signer", dns=())
    ssl = pki.leaf(root, cn=fx.SERVER_HOST, key=pki.root(cn="Scan SSL Key").key)
    config_tsm = _tsm_server(world, "config", f"--require-login={TSM_USER}:{TSM_PASS}")[1]
    saml_tsm = _tsm_server(world, "saml", f"--require-login={TSM_USER}:{TSM_PASS}")[1]
    ssl_server, ssl_tsm = _tsm_server(world, "ssl", f"--require-login={TSM_USER}:{TSM_PASS}")
    _external_ssl_on(world, ssl_server, pki)
    wrong = dict(WRONG) if failing else dict.fromkeys(WRONG)
    variables = {
        "failing": failing, "out": str(world["dir"] / "out"),
        "tsm_password": _secret(world, "TSM password", TSM_PASS),
        "mssl_password": _secret(world, "TSM password", wrong["tsm"] or TSM_PASS),
        "tsm_config_path": config_tsm, "tsm_saml_path": saml_tsm, "tsm_ssl_path": ssl_tsm,
        "cert": write(inputs / "saml.crt", fx.pem(fx.self_signed(sp_key, fx.SERVER_HOST))),
        "key": _private_key(world, "SAML SP", sp_key, "pkcs8", SAML_PASS),
        "passphrase": _secret(world, "SAML key passphrase", wrong["saml"] or SAML_PASS),
        "idp": write(inputs / "idp.xml", fx.Idp(inputs, name="scan-modules-idp").metadata()),
        "ca": write(inputs / "root.crt", root.pem),
        "signer_cert": write(inputs / "signer.crt", signer.pem),
        "signer_key": _private_key(world, "profile signer", signer.key, "pkcs8", SIGNER_PASS),
        "signer_passphrase": _secret(world, "signer key passphrase", wrong["signer"] or SIGNER_PASS),
        "config_secret": _secret(world, "secret TSM key value", CONFIG_SECRET),
        "ssl_cert": write(inputs / "ssl.crt", ssl.pem),
        "ssl_key": _private_key(world, "external SSL", ssl.key, "pkcs8", SSL_PASS),
        "ssl_passphrase": _secret(world, "external SSL passphrase", wrong["ssl"] or SSL_PASS),
    }
    # the failing run: wrong passphrases and TSM password, and TSM refusing the settings import
    env = {"TSM_SIM_FAIL": "settings.import"} if failing else None
    return MODULES_PLAY, variables, env, None


CASES = {
    "saml": case_saml,
    "saml_plain_key": case_saml_plain_key,
    "mutual_ssl": case_mutual_ssl,
    "mobile_trust": case_mobile_trust,
    "embed_proxy": case_embed_proxy,
    "client_trust": case_client_trust,
    "modules": case_modules,
}
MODULE_TASKS = MODULES_PLAY.count("ignore_errors:")


@pytest.fixture
def world(tmp_path):
    made = _world(tmp_path)
    yield made
    for proc in made["cleanup"]:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_no_secret_leaves_the_run(world, pki, case, mode):
    play, variables, env, hosts = CASES[case](world, mode, pki)
    rc, output = _run(world, play, variables, mode, env=env, hosts=hosts)
    hits = scan(world, output)
    assert not hits, "%d place(s) where a secret left the run:\n%s" % (len(hits), "\n".join(hits))
    # the run went where it should: the whole way, or to the failure it was given
    if mode == "fail" and case == "modules":
        assert rc == 0 and re.search(r"ignored=%d\b" % MODULE_TASKS, output), \
            "every module task should have failed (and been ignored):\n" + output[-5000:]
    elif mode == "fail":
        assert rc != 0, "the failing run did not fail:\n" + output[-3000:]
    else:
        assert rc == 0, "the run failed:\n" + output[-5000:]
