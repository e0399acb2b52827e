# -*- coding: utf-8 -*-
"""Mutual TLS for real: nginx with ``ssl_verify_client on`` and the test client CA, curl presenting
each client certificate, and the module's predictions checked against what the server saw.

A private nginx runs on loopback (a port in 19100-19199) with ``ssl_verify_client on`` and the
test client CA; it returns ``$ssl_client_verify``, ``$ssl_client_s_dn``, ``$ssl_client_fingerprint``
and ``$ssl_client_escaped_cert`` -- the certificate it verified -- and logs why it refused one.
The module (run through ``ansible``) predicts each certificate's Tableau user and findings first.
Then curl presents every certificate: for each one nginx accepted, the certificate nginx returns
is re-parsed and mapped again, and must be the very certificate presented and map exactly as the
module predicted; nginx must refuse exactly the certificates the module flagged as unusable
(SSL-003 malformed, SSL-013 expired, SSL-014 not yet valid, SSL-015 other CA, SSL-019 not for
client authentication).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import certs as certs_core
from ansible_collections.trustops.tableau.plugins.module_utils import identity

from identity_pki import Client, ClientPKI, tlv, upn_other_name_der, utf8, with_extra_extension
from identity_equivalence import fast_path_agrees  # noqa: F401  pylint: disable=unused-import  # autouse: fast == full

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
CURL = shutil.which("curl")
OPENSSL = shutil.which("openssl")
ANSIBLE = str(Path(sys.executable).with_name("ansible"))
COLLECTIONS = str(Path(identity.__file__).parents[5])
PORT_RANGE = range(19100, 19200)  # this area's loopback ports
HOST = "mtls.trustops.test"
REFUSAL_CODES = {"SSL-003", "SSL-013", "SSL-014", "SSL-015", "SSL-019"}
CONFIGS = {  # the Tableau configurations predicted and checked
    "ad-upn": {"identity_store": "ad", "mapping": "upn", "default_domain": "example.org"},
    "ad-cn": {"identity_store": "ad", "mapping": "cn", "default_domain": "example.org"},
    "local-upn": {"identity_store": "local", "mapping": "upn"},
}

pytestmark = pytest.mark.skipif(NGINX is None or CURL is None or OPENSSL is None or not os.path.exists(ANSIBLE),
                                reason="needs nginx, curl, openssl and the ansible CLI")


def _free_ports(count):
    ports = []
    for port in PORT_RANGE:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise AssertionError(f"no {count} free loopback ports in {PORT_RANGE[0]}-{PORT_RANGE[-1]}")


def _server_cert(d):
    """A server CA and a certificate for HOST, so curl verifies the server too."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mTLS test server CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=5))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=5))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "server_ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "server.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (d / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))


def _client_certs():
    """The test CA's client certificates (name -> Client), and the CA."""
    p = ClientPKI()
    ca = p.ca()
    impostor = p.ca()  # same subject name as the real CA, another key
    multi_rdn = [
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops test")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "kim"),
                                        x509.NameAttribute(NameOID.USER_ID, "k1")]),
    ]
    made = {
        "upn_only": p.client(ca, cn=None, upns=["jsmith@example.org"]),
        "cn_only": p.client(ca, cn="alee"),
        "both_disagree": p.client(ca, cn="John Smith", upns=["jsmith@example.org"]),
        "no_domain": p.client(ca, cn="bob", upns=["bob"]),
        "jdoe_org": p.client(ca, cn="jdoe", upns=["jdoe@example.org"]),
        "jdoe_com": p.client(ca, cn="jdoe", upns=["jdoe@example.com"]),
        "slash": p.client(ca, cn="ann", upns=["example.com/ann"]),
        "non_ascii": p.client(ca, cn="Jürgen Müller", upns=["jürgen@example.org"]),
        "multi_rdn": p.client(ca, rdns=multi_rdn),
        "dc_com": p.client(ca, cn="carol", dcs=["com", "example"]),
        "two_upns": p.client(ca, cn="dan", upns=["dan@example.org", "dan@example.com"]),
        "upn_ia5": p.client(ca, cn="eve", upn_values=[tlv(0x16, b"eve@example.org")]),
        "upn_bad_utf8": p.client(ca, cn="mallory", upn_values=[tlv(0x0C, b"mal\xffory@example.org")]),
        "expired": p.client(ca, cn="old", upns=["old@example.org"], start_days=-30, days=-1),
        "not_yet_valid": p.client(ca, cn="new", upns=["new@example.org"], start_days=2, days=30),
        "other_ca": p.client(impostor, cn="jsmith", upns=["jsmith@example.org"]),
        "server_eku": p.client(ca, cn="srv", upns=["srv@example.org"], eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        "san_bad_der": p.client(ca, cn="zed",
                                raw_san=tlv(0x30, upn_other_name_der(b"\x0c\x0azed") + tlv(0x81, b"zed@example.org"))),
    }
    dup = p.client(ca, cn="dup", upns=["dup@example.org"])
    made["san_twice"] = Client(with_extra_extension(dup.cert, ca.key, b"\x55\x1d\x11",
                                                    tlv(0x30, upn_other_name_der(utf8("other@example.org")))), dup.key)
    return ca, made


NGINX_CONF = """
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type text/plain;
    ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key;
    ssl_client_certificate {d}/client_ca.pem;
    ssl_verify_depth 1;
    server {{
        listen 127.0.0.1:{on} ssl;
        server_name {host};
        ssl_verify_client on;
        location / {{
            return 200 "$ssl_client_verify\\n$ssl_client_s_dn\\n$ssl_client_fingerprint\\n$ssl_client_escaped_cert\\n";
        }}
    }}
}}
"""


def _wait_listening(proc, ports, d, timeout=20.0):
    deadline = time.monotonic() + timeout
    pending = set(ports)
    while pending:
        if proc.poll() is not None:
            log = (d / "error.log").read_text() if (d / "error.log").exists() else ""
            raise AssertionError(f"nginx exited with {proc.returncode}: {log}")
        for port in list(pending):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                pending.discard(port)
            except OSError:
                pass
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"nginx not listening on {sorted(pending)} after {timeout}s")
        if pending:
            time.sleep(0.05)  # poll interval while waiting for the listen sockets


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("mtls")
    for sub in ("tmp", "certs", "keys"):
        (d / sub).mkdir()
    _server_cert(d)
    ca, made = _client_certs()
    (d / "client_ca.pem").write_bytes(ca.pem)
    for name, client in made.items():
        (d / "certs" / (f"{name}.pem")).write_bytes(client.pem)
        (d / "keys" / (f"{name}.key")).write_bytes(client.key_pem)
    (on,) = _free_ports(1)
    (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, on=on, host=HOST))
    proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(proc, (on,), d)
        yield {"dir": d, "made": made, "on": on}
    finally:
        proc.terminate()
        proc.wait(20)
        proc.stderr.close()


def _curl(site, name, port):
    d = site["dir"]
    proc = subprocess.run([CURL, "-sS", "--max-time", "20", "--cacert", str(d / "server_ca.pem"),
                           "--resolve", f"{HOST}:{port}:127.0.0.1",
                           "--cert", str(d / "certs" / (f"{name}.pem")), "--key", str(d / "keys" / (f"{name}.key")),
                           "-w", "\n%{http_code}", f"https://{HOST}:{port}/"],
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode == 58:  # curl (OpenSSL) would not even load the certificate to present it
        return None, proc.stderr
    assert proc.returncode == 0, f"curl {name}: {proc.stderr}"
    body, _sep, status = proc.stdout.rpartition("\n")
    return int(status), body


def _nginx_reason(site, mark):
    """nginx's "client SSL certificate verify error: (N:reason)" logged since ``mark``; polled, as
    nginx may write the line just after answering."""
    deadline = time.monotonic() + 10
    while True:
        with open(site["dir"] / "error.log", "rb") as handle:
            handle.seek(mark)
            text = handle.read().decode("utf-8", "replace")
        found = re.search(r"client SSL certificate verify error: \((\d+:[^)]*)\)", text)
        if found:
            return found.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no verify error in the nginx log: {text}")
        time.sleep(0.05)  # poll interval while the log line is written


def _openssl_verify(site, name):
    """What OpenSSL's verification as a TLS server does with it (purpose sslclient, the client CA)."""
    d = site["dir"]
    proc = subprocess.run([OPENSSL, "verify", "-purpose", "sslclient", "-CAfile", str(d / "client_ca.pem"),
                           str(d / "certs" / (f"{name}.pem"))], capture_output=True, text=True, timeout=60,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _predict(site, config, tmp_path):
    """Run the module through ansible over every client certificate; predictions by SHA-256."""
    d = site["dir"]
    args = dict(config, certs=[str(d / "certs" / "*.pem")], client_ca=str(d / "client_ca.pem"), fail_on="never")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_HOME=str(tmp_path / "h"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "t"))
    proc = subprocess.run([ANSIBLE, "localhost", "-m", "trustops.tableau.client_cert_identity", "-a", json.dumps(args),
                           "-e", f"ansible_python_interpreter={sys.executable}"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r"^localhost \| SUCCESS => (\{.*\})\s*$", proc.stdout, re.S | re.M)
    assert match, proc.stdout + proc.stderr
    result = json.loads(match.group(1))
    return {c["sha256"]: c for c in result["certificates"]}, result


def _dn_values(dn, attr):
    """Values of ``attr`` in an OpenSSL RFC 2253 DN (nginx's $ssl_client_s_dn), unescaped."""
    parts = re.split(r"(?<!\\)[,+]", dn)
    out = []
    for part in parts:
        key, _eq, value = part.partition("=")
        if key.strip() != attr:
            continue
        raw = re.sub(rb"\\([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                     re.sub(r"\\([^0-9A-Fa-f])", r"\1", value).encode("utf-8"))
        out.append(raw.decode("utf-8"))
    return out


MAPPED_KEYS = ("upns", "common_names", "emails", "dc_domain", "mapping_field", "mapping_value", "user", "domain",
               "domain_source", "name_format", "mapped_name", "predictable", "subject", "issuer", "serial_number")


def test_nginx_sees_what_the_module_predicted(site, tmp_path):
    predictions = {name: _predict(site, config, tmp_path) for name, config in CONFIGS.items()}
    seen = {}
    for name, client in sorted(site["made"].items()):
        log_mark = (site["dir"] / "error.log").stat().st_size
        status, body = _curl(site, name, site["on"])
        by_sha = predictions["ad-upn"][0]
        flagged = sorted(REFUSAL_CODES.intersection(by_sha[client.sha256]["codes"]))
        if status is None:
            # curl refuses to load it as a client certificate; a client that does present it is refused
            # by OpenSSL's verification on the server side
            assert "invalid certificate" in body, (name, body)
            rc, out = _openssl_verify(site, name)
            assert rc != 0 and "invalid certificate" in out, (name, out)
            assert flagged, f"OpenSSL refuses {name} but the module flagged nothing"
            seen[name] = ("refused", "client: invalid certificate", flagged)
            continue
        if status != 200:
            # refused: the module must have said why; nginx logs its reason (info level)
            assert status == 400 and "The SSL certificate error" in body, (name, status, body)
            reason = _nginx_reason(site, log_mark)
            assert flagged, f"nginx refused {name} ({reason}) but the module flagged nothing"
            seen[name] = ("refused", reason.strip(), flagged)
            continue
        assert flagged == [], f"nginx accepted {name} but the module flagged {flagged}"
        verify, s_dn, sha1, escaped = body.split("\n")[:4]
        assert verify == "SUCCESS"
        pem = urllib.parse.unquote(escaped)
        served = certs_core.load_certificate(pem, "nginx")
        assert certs_core.fingerprint(served) == client.sha256  # the very certificate presented
        assert sha1.upper() == certs_core.thumbprint(served)
        ident = identity.extract(served, "nginx")
        assert sorted(_dn_values(s_dn, "CN")) == sorted(ident.common_names), (name, s_dn)
        for config_name, config in CONFIGS.items():
            mine = identity.audit([("nginx", pem.encode())], **config).certificates[0]
            predicted = predictions[config_name][0][client.sha256]
            assert {k: mine[k] for k in MAPPED_KEYS} == {k: predicted[k] for k in MAPPED_KEYS}, (name, config_name)
        seen[name] = ("accepted", predictions["ad-upn"][0][client.sha256]["mapped_name"],
                      predictions["ad-cn"][0][client.sha256]["mapped_name"],
                      predictions["local-upn"][0][client.sha256]["mapped_name"])

    # what the scenario is about, spelled out: (ad upn, ad cn, local upn) users as nginx saw them
    accepted = {k: v[1:] for k, v in seen.items() if v[0] == "accepted"}
    assert accepted == {
        "upn_only": ("jsmith@example.org", None, "jsmith@example.org"),
        "cn_only": (None, "alee@example.org", None),
        "both_disagree": ("jsmith@example.org", "John Smith@example.org", "jsmith@example.org"),
        "no_domain": ("bob@example.org", "bob@example.org", "bob"),
        "jdoe_org": ("jdoe@example.org", "jdoe@example.org", "jdoe@example.org"),
        "jdoe_com": ("jdoe@example.com", "jdoe@example.org", "jdoe@example.com"),
        "slash": ("ann@example.com", "ann@example.org", "example.com/ann"),
        "non_ascii": ("jürgen@example.org", "Jürgen Müller@example.org", "jürgen@example.org"),
        "multi_rdn": (None, "kim@example.org", None),
        "dc_com": (None, "carol@example.org", None),
        "two_upns": (None, "dan@example.org", None),
        "upn_ia5": (None, "eve@example.org", None),
        "upn_bad_utf8": (None, "mallory@example.org", None),
    }, accepted
    refused = {k: (v[1], v[2]) for k, v in seen.items() if v[0] == "refused"}
    assert {k: v[1] for k, v in refused.items()} == {
        "expired": ["SSL-013"], "not_yet_valid": ["SSL-014"], "other_ca": ["SSL-015"], "server_eku": ["SSL-019"],
        "san_bad_der": ["SSL-003"], "san_twice": ["SSL-003"]}, refused
    assert refused["expired"][0] == "10:certificate has expired"
    assert refused["not_yet_valid"][0] == "9:certificate is not yet valid"
    assert refused["server_eku"][0] == "26:unsuitable certificate purpose"
    assert refused["other_ca"][0] == "21:unable to verify the first certificate"
    assert refused["san_bad_der"][0] == refused["san_twice"][0] == "client: invalid certificate"

    # the audit findings over the same certificates (ad, cn): the seed's danger is found
    ad_cn = predictions["ad-cn"][1]
    collisions = [f for f in ad_cn["findings"] if f["code"] == "SSL-010"]
    assert len(collisions) == 1 and collisions[0]["data"]["mapped_name"] == "jdoe@example.org"
    cn_codes = {Path(c["source"]).stem: c["codes"] for c in ad_cn["certificates"]}
    assert "SSL-011" in cn_codes["jdoe_com"] and "SSL-011" in cn_codes["dc_com"]
    assert "SSL-007" in cn_codes["no_domain"]
