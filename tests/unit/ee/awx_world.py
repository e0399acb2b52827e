# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host per group of playbooks/site.yml on this machine, for the ansible-runner (AWX) test.

Every host uses Ansible's ``local`` connection, but none shares the state the collection changes
with this machine or with another host:

- ``mdm-artifacts`` (mdm_artifacts): writes the mobile profiles into its own directory.
- ``tsm-saml`` and ``tsm-mssl`` (tableau_servers): each its own TSM simulator (tests/support/tsm_sim,
  the project's one stand-in), found as ``tsm`` on the PATH that the host's Python wrapper sets, as
  on a Tableau Server node. SAML on the first, mutual SSL on the second (Tableau Server does not
  support both on one server, seed 002); the second has external SSL enabled before the run.
- ``proxy-nginx`` (tableau_proxies): a private Debian nginx on a loopback port, serving TLS with a
  leaf of the test CA in front of the echo upstream (tests/support/echo_upstream.py); the role
  replaces the operator's site file and reloads it.
- ``client-1`` (tableau_clients): Debian's python3 (cryptography 38) in a mount
  namespace of its own (``unshare``) where /usr/local/share/ca-certificates, /etc/ssl/certs and
  /etc/ca-certificates/update.d are bind mounts of the host's own copies, so trust_anchor and
  update-ca-certificates change that host's store and nothing of this machine's.

The PKI is made by the openssl command (root -> intermediate -> server leaf, the SAML SP key pair,
a client CA and a client certificate); nothing here is simulated but ``tsm``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

import yaml
from tsm_sim.harness import SimServer, idp_metadata, write

SUPPORT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "support"))
HOST_PYTHON = "/usr/bin/python3"  # Debian 12's python3 + python3-cryptography 38: the managed-node Python
SERVER = "tableau.example.test"
STORE_DIRS = {"local": "/usr/local/share/ca-certificates", "certs": "/etc/ssl/certs",
              "hooks": "/etc/ca-certificates/update.d"}


def run(argv, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def binary(name):
    """The absolute path of a tool the hosts need (bindep.txt installs them); missing: the test fails."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        raise RuntimeError(f"{name} is not installed (see bindep.txt)")
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


# ------------------------------------------------------------------------------------------ PKI
def _ext(path, text):
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)
    return path


def _issue(pki, name, subject, issuer, extensions, key="ec"):
    """A key and a certificate for ``name``, signed by ``issuer`` (None: self-signed)."""
    key_path, csr, crt = (os.path.join(pki, name + suffix) for suffix in (".key", ".csr", ".crt"))
    if key == "ec":
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key_path])
    else:  # the SAML SP key: RSA 2048, PKCS#1 (the format Tableau Server takes for server-wide SAML)
        run(["openssl", "genrsa", "-traditional", "-out", key_path, "2048"])
    run(["openssl", "req", "-new", "-key", key_path, "-subj", subject, "-out", csr])
    ext = _ext(os.path.join(pki, name + ".ext"), extensions)
    sign = (["-signkey", key_path] if issuer is None else
            ["-CA", os.path.join(pki, issuer + ".crt"), "-CAkey", os.path.join(pki, issuer + ".key"), "-CAcreateserial"])
    run(["openssl", "x509", "-req", "-in", csr, "-out", crt, "-days", "60", "-sha256", "-extfile", ext] + sign)
    return crt


def make_pki(pki):
    os.makedirs(pki, exist_ok=True)
    ca = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
    _issue(pki, "root", "/O=AWX Test/CN=AWX Test Root CA", None, ca)
    _issue(pki, "intermediate", "/O=AWX Test/CN=AWX Test Issuing CA", "root",
           ca.replace("CA:TRUE", "CA:TRUE,pathlen:0") + "authorityKeyIdentifier=keyid\n")
    _issue(pki, "server", f"/O=AWX Test/CN={SERVER}", "intermediate",
           f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
           f"subjectAltName=DNS:{SERVER}\nauthorityKeyIdentifier=keyid\n")
    _issue(pki, "saml-sp", f"/O=AWX Test/CN={SERVER}", None,
           "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n", key="rsa")
    _issue(pki, "client-ca", "/O=AWX Test/CN=AWX Test Client CA", None, ca)
    _issue(pki, "alice", "/O=AWX Test/CN=alice", "client-ca",
           "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    with open(os.path.join(pki, "fullchain.crt"), "wb") as out:
        for name in ("server", "intermediate"):
            with open(os.path.join(pki, name + ".crt"), "rb") as handle:
                out.write(handle.read())
    write(os.path.join(pki, "idp-metadata.xml"), idp_metadata("awx"), 0o644)
    return {name: os.path.join(pki, name) for name in os.listdir(pki)}


# ------------------------------------------------------------------------------------ processes
NGINX_CONF = """pid {d}/nginx.pid;
error_log {d}/error.log notice;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/conf.d/*.conf;
}}
"""
# The operator's TLS site before the role manages it: a plain reverse proxy, the UI loads.
SITE_BEFORE = """server {{
    listen 127.0.0.1:{port} ssl;
    server_name {server};
    ssl_certificate {pki}/fullchain.crt;
    ssl_certificate_key {pki}/server.key;
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
}}
"""


class World:
    """The hosts, their state, the processes they need and the ansible-runner private data dir."""

    def __init__(self, root, collections):
        self.root = str(root)
        self.collections = collections
        self.pki = make_pki(os.path.join(self.root, "pki"))
        self.pki_dir = os.path.join(self.root, "pki")
        self.processes = []
        self.nginx_dir = os.path.join(self.root, "proxy-nginx")
        self.proxy_port = free_port()
        self.upstream_port = free_port()
        self.sims = {"tsm-saml": SimServer(os.path.join(self.root, "tsm-saml")),
                     "tsm-mssl": SimServer(os.path.join(self.root, "tsm-mssl"))}
        self._external_ssl(self.sims["tsm-mssl"])
        self.stores = {name: self._store(name) for name in ("client-1",)}
        self.mobile_dir = os.path.join(self.root, "mdm-artifacts", "mobile")
        self.private_data_dir = os.path.join(self.root, "runner")
        try:
            self._start_proxy()
            self._write_private_data_dir()
        except BaseException:
            self.stop()
            raise

    # -- hosts
    def _external_ssl(self, sim):
        """A Tableau Server with SSL for external traffic already on (what mutual SSL requires)."""
        for args in (("security", "external-ssl", "enable", "--cert-file", self.pki["server.crt"],
                      "--key-file", self.pki["server.key"]),
                     ("pending-changes", "apply", "--ignore-prompt"), ("_sim", "reset-counters")):
            proc = sim.run(*args)
            assert proc.returncode == 0, proc.stderr

    def _python(self, name, script):
        path = os.path.join(self.root, "python", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\n" + script)
        os.chmod(path, 0o755)
        return path

    def tsm_python(self, name):
        """The node's Python: Debian's python3 with the node's own ``tsm`` first on the PATH."""
        bin_dir = os.path.dirname(self.sims[name].tsm)
        return self._python(name, f"PATH='{bin_dir}':\"$PATH\"\nexport PATH\nexec {HOST_PYTHON} \"$@\"\n")

    def _store(self, name):
        """The client's own copy of this machine's trust store (anchors, bundle and hash links), no hooks."""
        store = os.path.join(self.root, name, "store")
        shutil.copytree(STORE_DIRS["local"], os.path.join(store, "local"), symlinks=True)
        shutil.copytree(STORE_DIRS["certs"], os.path.join(store, "certs"), symlinks=True)
        os.makedirs(os.path.join(store, "hooks"))
        return store

    def client_python(self, name):
        """Debian's python3 in a mount namespace where the trust store is the client's own."""
        mount = binary("mount")
        mounts = " && ".join(f'{mount} --bind "$0/{key}" {target}' for key, target in STORE_DIRS.items())
        return self._python(name, f"exec {binary('unshare')} --mount --propagation private /bin/sh -c "
                                  f"'{mounts} && exec {HOST_PYTHON} \"$@\"' '{self.stores[name]}' \"$@\"\n")

    # -- the proxy
    def _spawn(self, argv):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.processes.append(proc)
        return proc

    def nginx(self, *args):
        return [binary("nginx"), "-c", os.path.join(self.nginx_dir, "nginx.conf"), "-p", self.nginx_dir] + list(args)

    def _start_proxy(self):
        self._spawn([sys.executable, os.path.join(SUPPORT, "echo_upstream.py"),
                     "--listen", f"127.0.0.1:{self.upstream_port}"])
        for sub in ("conf.d", "tmp"):
            os.makedirs(os.path.join(self.nginx_dir, sub), exist_ok=True)
        with open(os.path.join(self.nginx_dir, "nginx.conf"), "w", encoding="ascii") as handle:
            handle.write(NGINX_CONF.format(d=self.nginx_dir))
        with open(self.site_file, "w", encoding="ascii") as handle:
            handle.write(SITE_BEFORE.format(port=self.proxy_port, server=SERVER, pki=self.pki_dir,
                                            upstream=self.upstream_port))
        run(self.nginx())  # daemonizes; stopped by stop()
        wait_port(self.upstream_port)
        wait_port(self.proxy_port)

    @property
    def site_file(self):
        return os.path.join(self.nginx_dir, "conf.d", "trustops_embed.conf")

    def https_status(self, path):
        """(status, body) of GET path through the proxy, its certificate verified with the test root CA."""
        import http.client  # pylint: disable=import-outside-toplevel
        context = ssl.create_default_context(cafile=self.pki["root.crt"])
        conn = http.client.HTTPSConnection(SERVER, self.proxy_port, context=context, timeout=10)
        conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", self.proxy_port), timeout=10),
                                        server_hostname=SERVER)
        try:
            conn.request("GET", path, headers={"Host": SERVER})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self):
        pid_file = os.path.join(self.nginx_dir, "nginx.pid")
        if os.path.exists(pid_file):
            subprocess.run(self.nginx("-s", "stop"), capture_output=True, timeout=30, check=False)
            deadline = time.monotonic() + 10
            while os.path.exists(pid_file) and time.monotonic() < deadline:
                time.sleep(0.05)
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)

    # -- the inventory and the runner's private data dir
    def inventory(self):
        local = {"ansible_connection": "local"}
        mdm = dict(local, ansible_python_interpreter=HOST_PYTHON, mobile_trust_artifact_host="mdm-artifacts",
                   mobile_trust_dest=self.mobile_dir, mobile_trust_ca_files=[self.pki["root.crt"]],
                   mobile_trust_identifier="test.example.awx.tableau-trust",
                   mobile_trust_organization="AWX Test", mobile_trust_server_url=f"https://{SERVER}")
        saml = dict(local, ansible_python_interpreter=self.tsm_python("tsm-saml"), tableau_saml=True,
                    saml_tsm_configure=True, saml_sp_cert_src=self.pki["saml-sp.crt"],
                    saml_sp_key_src=self.pki["saml-sp.key"], saml_idp_metadata_src=self.pki["idp-metadata.xml"],
                    saml_server_host=SERVER, saml_user_name_attribute="email",
                    # the SP certificate is valid for 60 days: one warning finding (SAML-009) for the report
                    saml_expiry_warn_days=90,
                    saml_stage_dir=os.path.join(self.root, "tsm-saml", "staged"))
        mssl = dict(local, ansible_python_interpreter=self.tsm_python("tsm-mssl"), tableau_mutual_ssl=True,
                    mutual_ssl_tsm_configure=True, mutual_ssl_client_certs=[self.pki["alice.crt"]],
                    mutual_ssl_identity_store="local", mutual_ssl_mapping="cn",
                    mutual_ssl_client_ca=self.pki["client-ca.crt"],
                    mutual_ssl_stage_dir=os.path.join(self.root, "tsm-mssl", "staged"))
        proxy = dict(local, ansible_python_interpreter=sys.executable, embed_proxy_server="nginx",
                     embed_proxy_mode="site", embed_proxy_listen_address="127.0.0.1",
                     embed_proxy_listen_port=self.proxy_port, embed_proxy_server_name=SERVER,
                     embed_proxy_upstream_host="127.0.0.1", embed_proxy_upstream_port=self.upstream_port,
                     embed_proxy_tls_certificate=self.pki["fullchain.crt"], embed_proxy_tls_key=self.pki["server.key"],
                     embed_proxy_config_path=self.site_file, embed_proxy_check_command=self.nginx("-t", "-q"),
                     embed_proxy_reload_command=self.nginx("-s", "reload"),
                     embed_proxy_state_dir=os.path.join(self.root, "proxy-nginx", "state"))
        clients = {name: dict(local, ansible_python_interpreter=self.client_python(name)) for name in self.stores}
        client_vars = {"client_trust_ca_certificates": [{"name": "awx-test-root", "src": self.pki["root.crt"]}],
                       "client_trust_probe_targets": [{"host": SERVER, "port": self.proxy_port,
                                                       "address": "127.0.0.1"}]}
        return {"all": {"children": {
            "mdm_artifacts": {"hosts": {"mdm-artifacts": mdm}},
            "tableau_servers": {"hosts": {"tsm-saml": saml, "tsm-mssl": mssl}},
            "tableau_proxies": {"hosts": {"proxy-nginx": proxy}},
            "tableau_clients": {"hosts": clients, "vars": client_vars},
        }}}

    def envvars(self):
        """What the job's environment holds under AWX: the readiness callback enabled, and pipelining
        (ansible.cfg or the job settings of a fleet job; the modules must work with it); here also the
        collection (an EE has it installed) and this venv's ansible-playbook first on PATH."""
        tmp = os.path.join(self.root, "ansible")
        return {
            "ANSIBLE_CALLBACKS_ENABLED": "trustops.tableau.readiness",
            "ANSIBLE_COLLECTIONS_PATH": self.collections,
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "ANSIBLE_HOME": os.path.join(tmp, "home"),
            "ANSIBLE_LOCAL_TEMP": os.path.join(tmp, "local"),
            "ANSIBLE_REMOTE_TEMP": os.path.join(tmp, "remote"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
        }

    def _write_private_data_dir(self):
        pdd = self.private_data_dir
        for sub in ("project", "inventory", "env"):
            os.makedirs(os.path.join(pdd, sub), exist_ok=True)
        # An AWX project's playbook: the collection's fleet playbook, by name.
        with open(os.path.join(pdd, "project", "site.yml"), "w", encoding="utf-8") as handle:
            handle.write("---\n- name: The trustops.tableau fleet playbook\n"
                         "  ansible.builtin.import_playbook: trustops.tableau.site\n")
        with open(os.path.join(pdd, "inventory", "hosts.yml"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.inventory(), handle, sort_keys=False)
        with open(os.path.join(pdd, "env", "envvars"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.envvars(), handle)
