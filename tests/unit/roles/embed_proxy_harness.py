# -*- coding: utf-8 -*-
"""Helpers for the embed_proxy role tests: render the role's templates, run real servers.

The templates are rendered with Jinja2 configured as Ansible's ``template`` module does
(``trim_blocks``, the role's ``templates/`` directory on the search path, Ansible's core
filters and tests), with the role's ``defaults/main.yml`` overlaid by the test's variables.
The configurations are then checked and served by the real Debian nginx, apache2 and haproxy,
each started as a private instance on loopback ports of this area (19040-19079).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

import jinja2
import yaml
from ansible.plugins.filter.core import FilterModule
from ansible.plugins.test.core import TestModule

ROLE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "embed_proxy"))
ECHO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "support", "echo_upstream.py"))
APACHE_MODULES = "/usr/lib/apache2/modules"


_DEFAULTS = {}


def role_defaults():
    if _DEFAULTS:
        return dict(_DEFAULTS)
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["embed_proxy_server_name"] = "tableau.example.test"  # "{{ inventory_hostname }}" in the role
    _DEFAULTS.update(data)
    return dict(data)


def role_vars():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


_ENV = []


def _environment():
    if _ENV:
        return _ENV[0]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")),
                             trim_blocks=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    # Ansible's own filters and tests, except where it re-implements a Jinja builtin for its
    # templating engine (default, map, select, ...): those stay Jinja's.
    env.filters.update({k: v for k, v in FilterModule().filters().items() if k not in env.filters})
    env.tests.update({k: v for k, v in TestModule().tests().items() if k not in env.tests})
    _ENV.append(env)
    return env


def render(template, **variables):
    context = role_defaults()
    context.update(variables)
    return _environment().get_template(template).render(**context)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, **kw)


def wait_port(port, host="127.0.0.1", timeout=20.0):
    """Poll until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nothing listens on %s:%d after %.0fs" % (host, port, timeout))
            time.sleep(0.02)


def alive(pid):
    """True while ``pid`` runs; an exited process not yet reaped by its parent (a zombie:
    daemons are re-parented to init, which may reap late) counts as gone."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_pid_gone(pid, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.02)
    raise RuntimeError("process %d did not exit" % pid)


def read_pid(path, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, encoding="ascii") as handle:
                text = handle.read().strip()
            if text:
                return int(text.split()[0])
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no pid in {path}")
        time.sleep(0.02)


class Echo:
    """The echo upstream (tests/support/echo_upstream.py) as a child process."""

    def __init__(self, port):
        self.port = port
        self.proc = subprocess.Popen([sys.executable, ECHO, "--listen", "127.0.0.1:%d" % port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stderr.close()


class Server:
    """A private nginx/apache2/haproxy instance under ``workdir``."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.workdir = workdir
        self.pidfile = os.path.join(workdir, f"{kind}.pid")
        self.main = os.path.join(workdir, {"nginx": "nginx.conf", "apache": "apache2.conf",
                                           "haproxy": "haproxy.cfg"}[kind])
        self.pid = None
        os.makedirs(os.path.join(workdir, "conf.d"), exist_ok=True)
        os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)

    # -- configuration -----------------------------------------------------------------
    def write_main(self, body=""):
        """The main config: server-wide settings, every conf.d file, then ``body``."""
        w = self.workdir
        if self.kind == "nginx":
            text = (f"pid {self.pidfile};\nerror_log {w}/error.log notice;\nworker_processes 1;\nevents {{}}\n"
                    f"http {{\n  access_log off;\n  client_body_temp_path {w}/tmp;\n  proxy_temp_path {w}/tmp;\n"
                    f"  include {w}/conf.d/*.conf;\n{body}\n}}\n")
        elif self.kind == "apache":
            mods = ["mpm_event", "authz_core", "alias", "proxy", "proxy_http", "headers", "ssl"]
            text = "".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n" for m in mods)
            text += (f"ServerRoot {w}\nServerName localhost\nPidFile {self.pidfile}\nMutex file:{w} default\n"
                     f"ErrorLog {w}/error.log\nLogLevel warn\nUser www-data\nGroup www-data\n"
                     f"DefaultRuntimeDir {w}\nIncludeOptional {w}/conf.d/*.conf\n{body}\n")
        else:  # HAProxy reads this file, then every *.cfg of conf.d
            text = f"global\n    pidfile {self.pidfile}\n{body}"
        with open(self.main, "w", encoding="utf-8") as handle:
            handle.write(text)

    def check_command(self):
        if self.kind == "nginx":
            return ["nginx", "-t", "-q", "-c", self.main, "-p", self.workdir]
        if self.kind == "apache":
            return ["apache2", "-t", "-f", self.main, "-d", self.workdir]
        return ["haproxy", "-c", "-f", self.main, "-f", os.path.join(self.workdir, "conf.d")]

    def check(self):
        return run(self.check_command())

    # -- process -----------------------------------------------------------------------
    def start(self, ports):
        if self.kind == "nginx":
            argv = ["nginx", "-c", self.main, "-p", self.workdir]
        elif self.kind == "apache":
            argv = ["apache2", "-k", "start", "-f", self.main, "-d", self.workdir]
        else:
            argv = ["haproxy", "-D", "-f", self.main, "-f", os.path.join(self.workdir, "conf.d"), "-p", self.pidfile]
        result = run(argv)
        if result.returncode != 0:
            raise RuntimeError(f"{self.kind} did not start: {result.stdout}{result.stderr}")
        self.pid = read_pid(self.pidfile)
        for port in ports:
            wait_port(port)

    def stop(self):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        wait_pid_gone(self.pid)
        self.pid = None


def tls_context(ca_pem_path):
    ctx = ssl.create_default_context(cafile=ca_pem_path)
    return ctx


def request(port, target, method="GET", headers=None, body=None, tls=None, source=None,
            host="tableau.example.test"):
    """One HTTP/1.1 request on a fresh connection; returns (status, headers dict, body bytes).

    ``target`` is sent exactly as given (no normalisation by the client)."""
    if tls is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=tls,
                                           source_address=(source, 0) if source else None)
        conn._tunnel_host = None  # pylint: disable=protected-access
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                          source_address=(source, 0) if source else None)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        payload = body.encode("ascii") if isinstance(body, str) else body
        if payload is not None:
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
            conn.putheader("Content-Length", str(len(payload)))
        conn.endheaders(payload)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def upstream_saw(body):
    """The echo upstream's JSON, with headers as a case-insensitive dict (last value wins)."""
    doc = json.loads(body)
    doc["header"] = {k.lower(): v for k, v in doc["headers"]}
    return doc


def tool_missing():
    missing = [t for t in ("nginx", "apache2", "haproxy") if shutil.which(t) is None]
    return ", ".join(missing)
