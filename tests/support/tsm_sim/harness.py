# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helpers around the TSM simulator: a simulated server in a directory, its files, a wrapper.

Tests add ``tests/support`` to ``sys.path`` and ``from tsm_sim.harness import SimServer``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SUPPORT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TSM = os.path.join(SUPPORT, "tsm")
WRITE_COMMANDS_EXCLUDED = ("status", "version", "configuration.get", "configuration.list-dynamic-keys",
                           "settings.export", "pending-changes.list", "security.external-ssl.list", "login", "logout")
TRANSPORTS = ("cli", "api")
# The TSM account of every simulated server the harness makes (the API always signs in with it; the CLI
# needs it only with --require-login).
API_USER = "tsmadmin"
API_PASSWORD = "Api-Pa55word-Never-Logged"


class SimServer:
    """One simulated Tableau Server: ``home`` holds its state; ``tsm`` is a wrapper bound to it."""

    def __init__(self, home, *init_options):
        self.home = str(home)
        os.makedirs(self.home, exist_ok=True)
        self.tsm = os.path.join(self.home, "bin", "tsm")
        os.makedirs(os.path.dirname(self.tsm), exist_ok=True)
        with open(self.tsm, "w") as handle:
            handle.write(f"#!/bin/sh\nTSM_SIM_HOME='{self.home}'\nexport TSM_SIM_HOME\nTSM_SIM_PYTHON='{sys.executable}'\nexport TSM_SIM_PYTHON\n"
                         f"exec '{TSM}' \"$@\"\n")
        os.chmod(self.tsm, 0o755)
        self.init(*init_options)

    def env(self, **extra):
        env = dict(os.environ)
        env.pop("TSM_SIM_FAIL", None)
        env.update(extra)
        return env

    def run(self, *args, stdin=None, env=None, timeout=60):
        """Run the simulator (through its wrapper) and return the CompletedProcess (text)."""
        return subprocess.run([self.tsm] + [str(a) for a in args], input=stdin, capture_output=True, text=True,
                              env=self.env(**(env or {})), timeout=timeout, check=False,
                              stdin=None if stdin is not None else subprocess.DEVNULL)

    def init(self, *options):
        """A fresh server (what ``tsm _sim init`` does, without starting a process); it has the account
        API_USER/API_PASSWORD unless ``options`` give one."""
        from tsm_sim import simulator  # pylint: disable=import-outside-toplevel
        if not any(o.startswith(("--account=", "--require-login=")) for o in options):
            options = options + (f"--account={API_USER}:{API_PASSWORD}",)
        simulator.init_home(self.home, options)

    # ---- the HTTPS API (tests/support/tsm_sim/api.py)
    api_info = None

    def start_api(self):
        """Start this server's HTTPS API (a separate process, what ``tsm _sim api start`` does); returns its
        info (url, cafile, pid)."""
        from tsm_sim import api  # pylint: disable=import-outside-toplevel
        self.api_info = api.start(self.home, python=sys.executable)
        return self.api_info

    def stop_api(self):
        if self.api_info:
            from tsm_sim import api  # pylint: disable=import-outside-toplevel
            api.stop_server(self.home)
            self.api_info = None

    def api_args(self, **extra):
        """Connection options of a tsm_* module for transport api against this server."""
        args = {"transport": "api", "tsm_url": self.api_info["url"], "ca_path": self.api_info["cafile"],
                "username": API_USER, "password": API_PASSWORD}
        args.update(extra)
        return args

    def api_log(self):
        """Every API request as the simulator received it (api.log)."""
        path = os.path.join(self.home, "api.log")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def api_counters(self):
        return self.counters().get("api", {})

    def fail(self, spec=None):
        """Inject failures for the CLI and the running API (``tsm _sim fail SPEC``); None clears."""
        proc = self.run("_sim", "fail", *([spec] if spec else []))
        assert proc.returncode == 0, proc.stderr

    def _json(self, name, default):
        path = os.path.join(self.home, name)
        if not os.path.exists(path):
            return default
        with open(path) as handle:
            return json.load(handle)

    def state(self):
        return self._json("state.json", {})

    def counters(self):
        return self._json("counters.json", {})

    def calls(self):
        path = os.path.join(self.home, "calls.log")
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def argv_log(self):
        """Every command line the simulator was started with, unmasked (what ``ps`` showed)."""
        path = os.path.join(self.home, "argv.log")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line)["argv"] for line in handle if line.strip()]

    def staged_files(self):
        """{relative path: bytes} of the files the simulated server keeps (what TSM was given)."""
        out = {}
        root = os.path.join(self.home, "files")
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    out[os.path.relpath(path, root)] = handle.read()
        return out

    def write_calls(self, since=0):
        """Calls after the first ``since`` that may change the configuration."""
        return [c for c in self.calls()[since:] if c["command"] not in WRITE_COMMANDS_EXCLUDED]

    def applied(self):
        return self.state()["applied"]

    def pending(self):
        return self.state()["pending"]

    def state_bytes(self):
        with open(os.path.join(self.home, "state.json"), "rb") as handle:
            return handle.read()


class SimPool:
    """One simulated server for a whole test module, made fresh (``init``) for every test: its HTTPS API
    is started once, at the first test that uses transport api, and stopped by :meth:`close`."""

    def __init__(self, base):
        self.sim = SimServer(os.path.join(str(base), "server"))

    def connection(self, transport, *init_options):
        self.sim.init(*init_options)
        return Connection(self.sim, transport)

    def close(self):
        self.sim.stop_api()


def _transport_fixtures():
    """The pytest fixtures of the module tests that run for both transports; a test module imports
    them: ``tsm_pool`` (one :class:`SimPool` per test module), ``conn`` (a :class:`Connection`,
    parametrized ``cli``/``api``, on a fresh server) and ``sim`` (its :class:`SimServer`). A test for
    one transport only: ``@pytest.mark.parametrize("conn", ["cli"], indirect=True)``."""
    import pytest  # pylint: disable=import-outside-toplevel  # the benchmark imports this file without pytest

    @pytest.fixture(scope="module")
    def tsm_pool(tmp_path_factory, request):
        servers = SimPool(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
        yield servers
        servers.close()

    @pytest.fixture(params=TRANSPORTS)
    def conn(request, tsm_pool):  # pylint: disable=redefined-outer-name
        return tsm_pool.connection(request.param)

    @pytest.fixture
    def sim(conn):  # pylint: disable=redefined-outer-name
        return conn.sim

    return tsm_pool, conn, sim


try:
    tsm_pool, conn, sim = _transport_fixtures()
except ImportError:  # no pytest (bench/tsm_calls.py)
    pass


class Connection:
    """How a test reaches a simulated server: ``cli`` (the tsm wrapper) or ``api`` (HTTPS), with the
    transport-neutral views the parametrized module tests assert on."""

    def __init__(self, sim, transport):
        self.sim = sim
        self.transport = transport
        if transport == "api" and not sim.api_info:
            sim.start_api()

    @property
    def api(self):
        return self.transport == "api"

    def inject(self, monkeypatch, spec):
        """A failure for the module's next calls: ``TSM_SIM_FAIL`` of the tsm the module runs (cli), or the
        running API server's (``tsm _sim fail``, cleared by the next init)."""
        if self.api:
            self.sim.fail(spec)
        else:
            monkeypatch.setenv("TSM_SIM_FAIL", spec)

    def clear(self, monkeypatch):
        if self.api:
            self.sim.fail()
        else:
            monkeypatch.delenv("TSM_SIM_FAIL", raising=False)

    def args(self, **extra):
        """The module's connection options plus ``extra``."""
        if self.transport == "api":
            return self.sim.api_args(**extra)
        return dict({"tsm_path": self.sim.tsm}, **extra)

    def mark(self):
        """A point in the server's logs; :meth:`since` lists the operations after it."""
        return (len(self.sim.calls()), len(self.sim.api_log()))

    def since(self, mark=(0, 0)):
        """The operations (CLI command names; API requests by the CLI command they stand for, without
        sign-in, sign-out and job polls) made after ``mark``."""
        if self.transport == "api":
            return [r["command"] for r in self.sim.api_log()[mark[1]:]
                    if r["command"] not in ("login", "logout", "jobs.get", "jobs.list", "files.upload")]
        return [c["command"] for c in self.sim.calls()[mark[0]:] if c["command"] not in ("login", "logout")]

    def writes(self, mark=(0, 0)):
        """The operations after ``mark`` that may change the configuration."""
        return [c for c in self.since(mark) if c not in WRITE_COMMANDS_EXCLUDED]

    def reads_only(self, result, reads=1):
        """The task's own call count when it only read ``reads`` times: ``reads`` tsm calls, or over HTTPS
        the reads between one sign-in and one sign-out."""
        return result["tsm_calls"] == reads + (2 if self.api else 0)

    def forced_imports(self, mark=(0, 0)):
        """How many staging calls after ``mark`` added keys the server did not have (--force-keys)."""
        if self.api:
            return len([r for r in self.sim.api_log()[mark[1]:]
                        if r["command"] == "settings.import" and "forceKeys=true" in r["query"]])
        return len([c for c in self.sim.calls()[mark[0]:]
                    if c["command"] == "settings.import" and "--force-keys" in c["argv"]])


def api_request(info, method, path, body=None, cookie=None, raw=None, cafile=True, headers=None):
    """One HTTPS request to a simulated server's API (``info`` of :meth:`SimServer.start_api`), verifying
    its certificate with the cafile it wrote (``cafile=None``: the system's trust store); returns
    (status, JSON body or None, headers)."""
    import http.client
    import ssl
    context = ssl.create_default_context(cafile=info["cafile"] if cafile is True else cafile)
    connection = http.client.HTTPSConnection("127.0.0.1", info["port"], context=context, timeout=30)
    sent = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        sent.setdefault("Content-Type", "application/json")
    if cookie:
        sent["Cookie"] = cookie
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        payload = response.read()
        return response.status, (json.loads(payload) if payload else None), dict(response.getheaders())
    finally:
        connection.close()


def api_login(info, user=None, password=None, version="0.5"):
    """Sign in; returns the cookie header value to send back (``AUTH_COOKIE=...``)."""
    status, body, headers = api_request(info, "POST", f"/api/{version}/login", {"authentication": {
        "name": user or API_USER, "password": password or API_PASSWORD}})
    assert status == 204, body
    return headers["Set-Cookie"].split(";", 1)[0]


def write(path, data, mode=0o600):
    """Write bytes or text to path with mode; returns the path as str."""
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    os.chmod(path, mode)
    return path


IDP_METADATA = b"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.test/%s">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>%c</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
                            Location="https://idp.example.test/sso"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
                            Location="https://idp.example.test/slo"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""
_IDP_SIGNERS = {}


def idp_signing_certificate(key_type="rsa2048", digest="sha256"):
    """A real self-signed IdP signing certificate (DER), one per (key type, digest) per process.

    Seed 002: the IdP certificate must be RSA 2048 or EC P-256, signed with SHA-256 or stronger by
    default; metadata without a signing certificate is not metadata Tableau Server can use.
    """
    if (key_type, digest) not in _IDP_SIGNERS:
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.x509.oid import NameOID
        if key_type.startswith("rsa"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
        else:
            key = ec.generate_private_key({"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}[key_type])
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.test signing")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .sign(key, {"sha256": hashes.SHA256(), "sha1": hashes.SHA1(), "sha384": hashes.SHA384()}[digest]))
        _IDP_SIGNERS[(key_type, digest)] = cert.public_bytes(serialization.Encoding.DER)
    return _IDP_SIGNERS[(key_type, digest)]


def idp_metadata(tag="a", key_type="rsa2048", digest="sha256"):
    """IdP metadata for entity ``https://idp.example.test/<tag>`` with a real signing certificate."""
    import base64
    return IDP_METADATA.replace(b"%s", tag.encode("ascii")).replace(
        b"%c", base64.b64encode(idp_signing_certificate(key_type, digest)))


def make_crl(issuer, revoked_serials=(), der=False):
    """A real CRL signed by ``issuer`` (an Issued from the pki fixture)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
               .last_update(now - datetime.timedelta(days=1)).next_update(now + datetime.timedelta(days=7)))
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build())
    crl = builder.sign(issuer.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM)


# One module runner for every test (tests/support/module_runner.py): in process, as a module,
# failing the test when a module returns without exit_json/fail_json or prints more than its JSON.
from module_runner import run_module, warned  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
