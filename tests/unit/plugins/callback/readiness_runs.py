# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real playbook runs with the readiness callback enabled (helpers and the main-run fixture of the report tests).

Not a ``conftest.py``: other test directories import the top-level ``conftest`` by name, and a second
``conftest`` module would shadow it. The test modules import the ``main_run`` fixture from here.

Everything is real: certificates and keys made with the ``openssl`` command, the collection's own
modules run by the venv's ``ansible-playbook`` on several inventory hosts (local connection
aliases, and one SSH host on a closed port that is unreachable), and Ansible's
``ansible.posix.json`` stdout callback as the independent record of what the modules returned.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
CALLBACK = "trustops.tableau.readiness"
#: The secrets given to the run; none may appear in any report file.
PASSPHRASE = "Tr0ub4dor-passphrase-7731"
SECRET = "s3cret-token-9f2d41"
#: A path component that is HTML: the modules put file paths in their messages.
XSS_DIR = "<script>window.pwned=1<"
XSS_TEXT = "<script>window.pwned=1</script>"

MAIN_PLAY = r"""
- name: Readiness of the Tableau fleet
  hosts: all
  gather_facts: false
  tasks:
    - name: SAML SP certificate and key (report only)
      trustops.tableau.saml_keypair_check:
        cert_src: "{{ pki }}/{{ xss_dir }}/script>weak-sp.crt"
        key_src: "{{ pki }}/weak-sp.key"
        fail_on: never
      when: inventory_hostname == 'tab-weak'

    - name: SAML SP certificate and key, protected key
      trustops.tableau.saml_keypair_check:
        cert_src: "{{ pki }}/good-sp.crt"
        key_src: "{{ pki }}/good-sp-enc.key"
        passphrase: "{{ passphrase }}"
      when: inventory_hostname == 'tab-good'

    - name: Client certificate identities per batch
      trustops.tableau.client_cert_identity:
        certs: "{{ item.certs }}"
        identity_store: ad
        mapping: cn
        default_domain: east.example.org
        domains: [east.example.org, west.example.org]
        fail_on: never
      loop:
        - {name: batch-1, certs: ["{{ pki }}/alice.crt"]}
        - {name: batch-2, certs: ["{{ pki }}/bob.crt"]}
      loop_control:
        label: "{{ item.name }}"
      when: inventory_hostname == 'tab-ambiguous'

    - name: SAML SP certificate and key (fails on errors)
      trustops.tableau.saml_keypair_check:
        cert_src: "{{ pki }}/{{ xss_dir }}/script>weak-sp.crt"
        key_src: "{{ pki }}/weak-sp.key"
      when: inventory_hostname == 'tab-fail'

    - name: Stage the server settings
      ansible.builtin.copy:
        content: "staged for {{ inventory_hostname }}\n"
        dest: "{{ work }}/staged-{{ inventory_hostname }}.txt"
        mode: "0644"
      when: inventory_hostname in ['tab-weak', 'tab-good', 'tab-gone']

    - name: Use a token
      ansible.builtin.command: "echo {{ token }}"
      no_log: true
      when: inventory_hostname == 'tab-good'
"""

MAIN_HOSTS = ("tab-ambiguous", "tab-fail", "tab-gone", "tab-good", "tab-weak")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_pki(directory):
    """The certificates and keys of the run, made with the openssl command."""
    os.makedirs(directory, exist_ok=True)
    os.makedirs(os.path.join(directory, XSS_DIR), exist_ok=True)
    # A SAML SP pair Tableau refuses: SHA-1, RSA 1024, unencrypted PKCS#8, expiring in 20 days.
    openssl("req", "-x509", "-newkey", "rsa:1024", "-sha1", "-nodes", "-keyout", "weak-sp.key",
            "-out", os.path.join(XSS_DIR, "script>weak-sp.crt"), "-days", "20", "-subj", "/CN=sp.weak.example.org",
            cwd=directory)
    # A good one: SHA-256, RSA 2048, PKCS#8 encrypted with a passphrase (server-wide SAML accepts it).
    openssl("req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-keyout", "good-sp.key",
            "-out", "good-sp.crt", "-days", "400", "-subj", "/CN=sp.good.example.org", cwd=directory)
    openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "good-sp.key", "-out", "good-sp-enc.key",
            "-passout", "pass:" + PASSPHRASE, cwd=directory)
    # Client certificates whose names have no domain while two domains are in play (seed 004).
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "365",
            "-subj", "/CN=Client CA", "-addext", "basicConstraints=critical,CA:TRUE", cwd=directory)
    for user in ("alice", "bob"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", user + ".key", "-out", user + ".csr",
                "-subj", "/CN=" + user, cwd=directory)
        openssl("x509", "-req", "-in", user + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-out", user + ".crt",
                "-days", "100", cwd=directory)
    return directory


def run_playbook(directory, play, hosts, env=None, options=(), cwd=None):
    """Run ``ansible-playbook`` with the readiness callback; (exit code, stdout, stderr).

    ``env`` adds variables to the run's environment; a value of None removes one.
    """
    os.makedirs(directory, exist_ok=True)
    for name in ("ansible_home", "ansible_tmp"):
        os.makedirs(os.path.join(directory, name), exist_ok=True)
    with open(os.path.join(directory, "play.yml"), "w", encoding="utf-8") as handle:
        handle.write(play)
    with open(os.path.join(directory, "hosts.json"), "w", encoding="utf-8") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)
    temp = os.path.join(directory, "ansible_tmp")
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("TRUSTOPS_READINESS_", "ANSIBLE_")) and key != "AWX_ISOLATED_DATA_DIR"}
    environ.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_CALLBACKS_ENABLED=CALLBACK, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOME=os.path.join(directory, "ansible_home"), ANSIBLE_LOCAL_TEMP=temp,
                   ANSIBLE_REMOTE_TEMP=temp, TMPDIR=temp, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOST_KEY_CHECKING="0",
                   ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_FORKS="5")
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    argv = [PLAYBOOK, "-i", os.path.join(directory, "hosts.json"), os.path.join(directory, "play.yml")] + list(options)
    proc = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=600, check=False,
                          cwd=cwd or directory)
    return proc.returncode, proc.stdout, proc.stderr


def local(**variables):
    return dict(variables, ansible_connection="local", ansible_python_interpreter=sys.executable)


def main_hosts(pki, work):
    common = dict(pki=pki, work=work, xss_dir=XSS_DIR, passphrase=PASSPHRASE, token=SECRET)
    hosts = {name: local(**common) for name in MAIN_HOSTS if name != "tab-gone"}
    # Unreachable: SSH to a closed port of this machine (refused at once, no network needed).
    hosts["tab-gone"] = dict(common, ansible_connection="ssh", ansible_host="127.0.0.1", ansible_port=1,
                             ansible_ssh_common_args="-o ConnectTimeout=5 -o BatchMode=yes")
    return hosts


class MainRun:
    """The main run: its directory, exit code, report files and Ansible's own JSON record."""

    def __init__(self, directory):
        self.directory = directory
        self.pki = os.path.join(directory, "pki")
        self.out = os.path.join(directory, "report")
        self.html = os.path.join(self.out, "readiness.html")
        self.json = os.path.join(self.out, "readiness.json")
        self.junit = os.path.join(self.out, "readiness.junit.xml")

    def run(self):
        make_pki(self.pki)
        work = os.path.join(self.directory, "work")
        os.makedirs(work, exist_ok=True)
        rc, stdout, stderr = run_playbook(
            os.path.join(self.directory, "run"), MAIN_PLAY, main_hosts(self.pki, work),
            env=dict(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", TRUSTOPS_READINESS_DIR=self.out,
                     TRUSTOPS_READINESS_CONSOLE="false"))
        with open(os.path.join(self.directory, "result.json"), "w", encoding="utf-8") as handle:
            json.dump(dict(rc=rc, stdout=stdout, stderr=stderr), handle)

    def load(self):
        with open(os.path.join(self.directory, "result.json"), encoding="utf-8") as handle:
            data = json.load(handle)
        self.rc, self.stdout, self.stderr = data["rc"], data["stdout"], data["stderr"]
        return self

    def report(self):
        with open(self.json, encoding="utf-8") as handle:
            return json.load(handle)

    def ansible_record(self):
        """Ansible's own JSON record of the run (the ansible.posix.json stdout callback)."""
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def main_run(tmp_path_factory, worker_id):
    """Run the main playbook once per test session, also when pytest-xdist splits the tests.

    The run is made by the first worker that needs it, under a file lock; the others (and the second
    module that imports this fixture) load its recorded result.
    """
    if worker_id == "master":
        base = tmp_path_factory.getbasetemp()
    else:
        base = tmp_path_factory.getbasetemp().parent
    directory = str(base / "readiness-main")
    os.makedirs(directory, exist_ok=True)
    run = MainRun(directory)
    with open(os.path.join(directory, ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.path.exists(os.path.join(directory, "result.json")):
                run.run()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return run.load()
