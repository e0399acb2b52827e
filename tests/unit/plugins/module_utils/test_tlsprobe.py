# -*- coding: utf-8 -*-
"""tlsprobe: the TLS 1.2 reader, the ssl referee and the analysis, against REAL TLS servers.

Servers are ``openssl s_server`` processes (an independent TLS stack) on ephemeral loopback
ports, or small socket servers in threads for the broken cases (closes at once, not TLS, silent).
Readiness is the ``ACCEPT`` line s_server prints after listen() plus one TCP connect; nothing
sleeps.  Certificates come from the ``pki`` fixture (and ``openssl x509 -req`` for a SHA-1
intermediate, which cryptography no longer signs).
"""

from __future__ import annotations

import ast
import datetime
import os
import queue
import random
import re
import shutil
import socket
import string
import struct
import subprocess
import threading
import types
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, Rule, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import anchors as tlsprobe_anchors
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import rules
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.analysis import analyze
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.anchors import load_anchors
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.probe import probe
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.wire import (
    HandshakeReader,
    NotTlsError,
    TlsAlertError,
    TlsProbeError,
    client_hello,
)

OPENSSL = shutil.which("openssl")
HOST = "tableau.example.test"

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is the test referee")


# --------------------------------------------------------------------------- every finding through the registry

@pytest.fixture(autouse=True)
def findings_made_by_rules(monkeypatch):
    """Every TLS finding a test meets (real servers, real certificates) is made by a registered Rule:
    a ``Finding("TLS-...")`` made any other way, or an unregistered code, fails the test."""
    made = []
    inside = []
    finding_init, rule_finding = Finding.__init__, Rule.finding

    def init(self, code, *args, **kwargs):
        finding_init(self, code, *args, **kwargs)
        made.append((code, bool(inside)))

    def through_rule(self, *args, **kwargs):
        inside.append(self.code)
        try:
            return rule_finding(self, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(Finding, "__init__", init)
    monkeypatch.setattr(Rule, "finding", through_rule)
    yield made
    tls = [(code, by_rule) for code, by_rule in made if code.startswith("TLS-")]
    assert [code for code, by_rule in tls if not by_rule] == [], "TLS findings made without their Rule"
    assert sorted({code for code, _ in tls} - set(rules.RULES)) == []


# --------------------------------------------------------------------------- servers

class OpenSSLServer:
    """``openssl s_server -www`` on 127.0.0.1:<ephemeral>, serving files from a directory."""

    def __init__(self, workdir, cert, key, chain=None, args=()):
        self.workdir = workdir
        self.cmd = [OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-www",
                    "-cert", str(cert), "-key", str(key)]
        if chain is not None:
            self.cmd += ["-cert_chain", str(chain)]
        self.cmd += list(args)
        self.proc = None
        self.port = None
        self.output = []

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, cwd=str(self.workdir), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines = queue.Queue()

        def pump():
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                self.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        while self.port is None:
            try:
                line = lines.get(timeout=20)
            except queue.Empty:
                self.__exit__()
                raise AssertionError("openssl s_server did not start: {}".format("".join(self.output)))
            if line is None:
                raise AssertionError("openssl s_server exited: {}".format("".join(self.output)))
            match = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
        socket.create_connection(("127.0.0.1", self.port), timeout=10).close()  # ready
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.proc is not None:
            self.proc.stdout.close()


class TcpServer:
    """A plain TCP listener whose ``handler(conn)`` runs for every connection, in a thread."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            if self.stop.is_set():  # the wake-up connection of __exit__
                conn.close()
                return
            try:
                self.handler(conn, self.stop)
            except OSError:
                pass
            finally:
                conn.close()

    def __enter__(self):
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        try:  # wake the accept() of the thread
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        except OSError:
            pass
        self.thread.join(10)
        self.sock.close()
        assert not self.thread.is_alive()


def write(path, *blobs):
    path.write_bytes(b"".join(blobs))
    return path


class Files:
    """Writes certificates and keys of ``Issued`` objects to tmp_path."""

    def __init__(self, tmp_path):
        self.dir = tmp_path

    def cert(self, name, *issued):
        return write(self.dir / name, *[i.pem for i in issued])

    def key(self, name, issued):
        return write(self.dir / name, issued.key_pem())


@pytest.fixture
def files(tmp_path):
    return Files(tmp_path)


@pytest.fixture(scope="module")
def pki3(pki):
    """root -> intermediate -> leaf for tableau.example.test, plus an unrelated CA."""
    root = pki.root(cn="Probe Root CA")
    inter = pki.intermediate(root, cn="Probe Intermediate CA")
    leaf = pki.leaf(inter, cn=HOST, dns=(HOST,))
    other = pki.root(cn="Unrelated Root CA")
    return {"root": root, "inter": inter, "leaf": leaf, "other": other}


def serve(files, leaf, chain=(), args=(), tag="srv"):
    cert = files.cert(f"{tag}-leaf.pem", leaf)
    key = files.key(f"{tag}-leaf.key", leaf)
    chain_file = files.cert(f"{tag}-chain.pem", *chain) if chain else None
    return OpenSSLServer(files.dir, cert, key, chain_file, args)


def codes(result):
    return [f["code"] for f in result["findings"]]


def by_code(result, code):
    found = [f for f in result["findings"] if f["code"] == code]
    assert found, "no {} in {}".format(code, result["findings"])
    return found[0]


# --------------------------------------------------------------------------- ClientHello

def parse_client_hello(record):
    """An independent little parser of our ClientHello: returns (suites, {ext type: data})."""
    assert record[0] == 22 and record[1:3] == b"\x03\x01"
    assert int.from_bytes(record[3:5], "big") == len(record) - 5
    hs = record[5:]
    assert hs[0] == 1 and int.from_bytes(hs[1:4], "big") == len(hs) - 4
    body = hs[4:]
    assert body[0:2] == b"\x03\x03"
    pos = 2 + 32
    pos += 1 + body[pos]
    n = int.from_bytes(body[pos:pos + 2], "big")
    suites = [int.from_bytes(body[pos + 2 + i:pos + 4 + i], "big") for i in range(0, n, 2)]
    pos += 2 + n
    pos += 1 + body[pos]
    ext_len = int.from_bytes(body[pos:pos + 2], "big")
    pos += 2
    assert pos + ext_len == len(body)
    exts = {}
    while pos < len(body):
        etype = int.from_bytes(body[pos:pos + 2], "big")
        elen = int.from_bytes(body[pos + 2:pos + 4], "big")
        exts[etype] = body[pos + 4:pos + 4 + elen]
        pos += 4 + elen
    return suites, exts


def test_client_hello_carries_sni_and_the_usual_extensions():
    suites, exts = parse_client_hello(client_hello("Tableau.Example.Test."))
    assert 0xC02F in suites and 0x002F in suites
    sni = exts[0]
    assert sni[2] == 0 and sni[5:] == b"Tableau.Example.Test"
    assert set(exts) >= {0x000A, 0x000B, 0x000D, 0xFF01}


@pytest.mark.parametrize("name", [None, "", "127.0.0.1", "::1"])
def test_client_hello_sends_no_sni_for_none_or_ip_literals(name):
    _suites, exts = parse_client_hello(client_hello(name))
    assert 0 not in exts


def test_client_hello_encodes_idn_as_a_label():
    _suites, exts = parse_client_hello(client_hello(u"b\u00fccher.example"))
    assert exts[0][5:] == b"xn--bcher-kva.example"


# --------------------------------------------------------------------------- the reader, offline

def capture_flight(port, server_name):
    """The server's real bytes up to its Certificate message, as received."""
    reader = HandshakeReader()
    got = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(client_hello(server_name))
        while not reader.done:
            data = sock.recv(65536)
            assert data, "server closed early"
            got += data
            reader.feed(data)
    return bytes(got), reader


@pytest.fixture(scope="module")
def flight(pki3, tmp_path_factory):
    """A real server flight whose Certificate spans several records (-max_send_frag 512)."""
    files = Files(tmp_path_factory.mktemp("flight"))
    with serve(files, pki3["leaf"], [pki3["inter"]], args=["-max_send_frag", "512"]) as srv:
        data, reader = capture_flight(srv.port, HOST)
    return data, reader


def test_reader_reads_certificate_split_over_records(flight, pki3):
    _data, reader = flight
    assert reader.certificates == [pki3["leaf"].der, pki3["inter"].der]
    assert reader.messages[:1] == [2] and reader.messages[-1] == 11
    assert reader.records > len(reader.messages)  # handshake messages really were split
    assert reader.tls_version == "TLSv1.2" and reader.cipher.startswith("ECDHE-RSA-")


@pytest.mark.parametrize("seed", range(5))
def test_reader_same_result_for_any_split_of_the_reads(flight, seed):
    data, whole = flight
    rng = random.Random(seed)
    reader = HandshakeReader()
    pos = 0
    while pos < len(data):
        step = 1 if seed == 0 else rng.randint(1, 700)
        reader.feed(data[pos:pos + step])
        pos += step
    assert reader.done and reader.certificates == whole.certificates


def test_reader_stops_at_certificate_and_ignores_what_follows(flight):
    data, whole = flight
    reader = HandshakeReader()
    assert reader.feed(data + b"\x16\x03\x03\x00\x04\x0e\x00\x00\x00") is True
    assert reader.certificates == whole.certificates


def record(ctype, body, version=b"\x03\x03"):
    return bytes([ctype]) + version + len(body).to_bytes(2, "big") + body


def server_hello(suite=0xC02F):
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
    return b"\x02" + len(body).to_bytes(3, "big") + body


def certificate_msg(*ders):
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    body = len(entries).to_bytes(3, "big") + entries
    return b"\x0b" + len(body).to_bytes(3, "big") + body


def test_reader_fatal_alert_is_reported_by_name():
    with pytest.raises(TlsAlertError) as err:
        HandshakeReader().feed(record(21, b"\x02\x28"))
    assert err.value.name == "handshake_failure" and "handshake_failure (40)" in str(err.value)


def test_reader_warning_alert_is_recorded_and_reading_goes_on(pki3):
    data = record(21, b"\x01\x70") + record(22, server_hello() + certificate_msg(pki3["leaf"].der))
    reader = HandshakeReader()
    assert reader.feed(data)
    assert reader.warnings == ["unrecognized_name"] and reader.certificates == [pki3["leaf"].der]


@pytest.mark.parametrize("answer, shown", [
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    (b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-OpenSSH_9.2p1"),
    (b"\x16\x02\x00", "0x160200"),
])
def test_reader_recognises_non_tls_answers(answer, shown):
    with pytest.raises(NotTlsError) as err:
        HandshakeReader().feed(answer)
    assert "not a TLS service" in str(err.value) and shown in str(err.value)


@pytest.mark.parametrize("data, text", [
    (record(22, certificate_msg(b"\x30\x00")), "before ServerHello"),
    (record(22, server_hello() + b"\x0e\x00\x00\x00"), "without sending a certificate"),
    (record(22, server_hello() + b"\x0b\x00\x00\x04\x00\x00\x09\x00"), "does not match"),
    (record(22, server_hello() + b"\x0b\x00\x00\x06\x00\x00\x03\x00\x00\x00"), "bad certificate entry"),
    (record(20, b"\x01"), "ChangeCipherSpec"),
    (record(22, b""), "empty handshake record"),
    (b"\x16\x03\x03\x50\x00", "not a TLS service"),
])
def test_reader_rejects_malformed_flights(data, text):
    with pytest.raises(TlsProbeError) as err:
        HandshakeReader().feed(data)
    assert text in str(err.value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_reader_never_fails_other_than_with_probe_errors(data, chunk):
    reader = HandshakeReader(max_bytes=4096)
    try:
        for pos in range(0, len(data), chunk):
            reader.feed(data[pos:pos + chunk])
    except TlsProbeError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_reader_handles_any_record_and_message_split(data):
    ders = [bytes([0x30, 0x03, 0x02, 0x01, n]) for n in range(data.draw(st.integers(1, 4)))]
    stream = server_hello() + certificate_msg(*ders)
    # split the handshake stream into records of arbitrary sizes, then the bytes into reads
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=8))))
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)], strict=True)]
    wire = b"".join(record(22, p) for p in pieces)
    reads = sorted(set(data.draw(st.lists(st.integers(1, len(wire) - 1), max_size=8))))
    reader = HandshakeReader()
    for a, b in zip([0] + reads, reads + [len(wire)], strict=True):
        reader.feed(wire[a:b])
    assert reader.done and reader.certificates == ders


# --------------------------------------------------------------------------- probing real servers

def test_complete_chain_trusted_with_ca_file(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert r["findings"] == [] and r["ok"] is True
    assert r["verified"] is True and r["verify_error"] is None
    assert r["trusted"] is True and r["chain_complete"] is True
    assert r["name_matched"] is True and r["matched_via"] == "san" and r["names"] == [HOST]
    assert r["chain_source"] == "tls12-reader"
    assert [c["sha256"] for c in r["served_chain"]] == [
        pki3["leaf"].cert.fingerprint(hashes.SHA256()).hex(":").upper(),
        pki3["inter"].cert.fingerprint(hashes.SHA256()).hex(":").upper()]
    assert r["anchor"]["subject"] == "CN=Probe Root CA,O=trustops test"
    assert r["tls_version"] in ("TLSv1.2", "TLSv1.3") and r["cipher"]
    assert r["tls12"]["version"] == "TLSv1.2"
    assert r["trust_store"] == {"path": str(root), "count": 1, "skipped": 0, "ca_content": 0}


def test_private_root_untrusted_by_the_system_store(files, pki3):
    with serve(files, pki3["leaf"], [pki3["inter"], pki3["root"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1")
    assert codes(r) == ["TLS-001"]
    assert "Probe Root CA" in by_code(r, "TLS-001")["message"]
    assert "trustops.tableau.win_trust_anchor" in by_code(r, "TLS-001")["remedy"]
    assert r["trusted"] is False and r["chain_complete"] is True and r["verified"] is False
    assert r["verify_code"] == 19  # self-signed certificate in certificate chain
    assert r["trust_store"]["count"] > 10  # the real system bundle of this host


def test_private_root_not_served_untrusted_by_the_system_store(files, pki3):
    """The usual case: leaf + intermediate served, the private root not installed."""
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1")
    assert codes(r) == ["TLS-001"] and r["chain_complete"] is True and r["trusted"] is False
    f = r["findings"][0]
    assert f["data"]["missing_issuer"] == "CN=Probe Root CA,O=trustops test"
    assert "ends at CN=Probe Intermediate CA" in f["message"] and "must send it too" in f["message"]
    assert r["verified"] is False and r["verify_code"] == 20 and r["name_matched"] is True


def test_self_signed_server_certificate(files, pki):
    own = pki.self_signed_leaf(cn=HOST, dns=(HOST,))
    with serve(files, own) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1")
    assert codes(r) == ["TLS-001"] and "self-signed" in r["findings"][0]["message"]
    assert r["verify_code"] == 18 and r["ok"] is False


def test_missing_intermediate(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-002"]
    f = by_code(r, "TLS-002")
    assert f["data"]["missing_issuer"] == "CN=Probe Intermediate CA,O=trustops test"
    assert "--chain-file" in f["remedy"] and "Android" in f["remedy"]
    assert r["chain_complete"] is False and r["trusted"] is False
    assert r["verified"] is False and r["verify_code"] == 20
    assert len(r["served_chain"]) == 1


def test_missing_intermediate_trusted_only_through_the_anchor_file(files, pki3):
    bundle = files.cert("bundle.pem", pki3["inter"], pki3["root"])
    with serve(files, pki3["leaf"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(bundle))
    assert codes(r) == ["TLS-002"]
    assert "trusted here only because" in r["findings"][0]["message"]
    assert r["trusted"] is True and r["chain_complete"] is False and r["verified"] is True


@pytest.mark.parametrize("host, code, fqdn", [
    ("tableau", "TLS-003", HOST),
    ("TABLEAU", "TLS-003", HOST),
    ("reports.example.test", "TLS-003", None),
    ("tableau.example.test.", None, None),
    ("Tableau.Example.Test", None, None),
])
def test_name_the_user_types(files, pki3, host, code, fqdn):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(host, srv.port, address="127.0.0.1", ca_file=str(root))
    assert r["names"] == [HOST]
    if code is None:
        assert r["findings"] == [] and r["verified"] is True
        return
    assert codes(r) == [code] and r["name_matched"] is False and r["matched_via"] is None
    assert r["verified"] is False and "Hostname mismatch" in r["verify_error"]
    assert r["trusted"] is True  # only the name is wrong
    f = r["findings"][0]
    assert HOST in f["message"]
    assert f["data"]["fqdn"] == fqdn and f["data"]["short_name"] is bool(fqdn)
    if fqdn:
        assert f["message"].endswith(f"is a short name and the certificate is issued to {HOST}. Use the FQDN {fqdn}")


def test_wildcard_certificate(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], cn="*.example.test", dns=("*.example.test",))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        ok = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        deep = probe("a.tableau.example.test", srv.port, address="127.0.0.1", ca_file=str(root))
        short = probe("tableau", srv.port, address="127.0.0.1", ca_file=str(root))
    assert ok["findings"] == [] and ok["verified"] is True and ok["matched_via"] == "san"
    assert codes(deep) == ["TLS-003"] and deep["verified"] is False
    assert codes(short) == ["TLS-003"]  # no name starts with "tableau.": no FQDN to suggest


def test_ip_address_host(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), ips=("127.0.0.1",))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe("127.0.0.1", srv.port, ca_file=str(root))
    assert r["findings"] == [] and r["verified"] is True and r["server_name"] == "127.0.0.1"


def test_sni_selects_the_certificate(files, pki3, pki):
    """s_server answers SNI tableau.example.test with cert2 and anything else with its default."""
    # both issued by the root itself: s_server has no chain option for its second certificate
    default = pki.leaf(pki3["root"], cn="default.example.test", dns=("default.example.test",))
    named = pki.leaf(pki3["root"], cn=HOST, dns=(HOST,))
    root = files.cert("root.pem", pki3["root"])
    cert2 = files.cert("c2.pem", named)
    key2 = files.key("c2.key", named)
    args = ["-servername", HOST, "-cert2", str(cert2), "-key2", str(key2)]
    with serve(files, default, args=args) as srv:
        with_sni = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        no_sni = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), server_name="")
    assert with_sni["findings"] == [] and with_sni["names"] == [HOST]
    assert with_sni["verify_hostname_checked"] is True
    assert no_sni["server_name"] is None and no_sni["names"] == ["default.example.test"]
    assert codes(no_sni) == ["TLS-003"]
    assert no_sni["verify_hostname_checked"] is False and no_sni["verified"] is True


def make_sha1_intermediate(files, root):
    """An intermediate signed with SHA-1 by ``openssl x509 -req`` (cryptography refuses SHA-1)."""
    root_pem = files.cert("sha1-root.pem", root)
    root_key = files.key("sha1-root.key", root)
    ext = files.dir / "ca.ext"
    ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                   "subjectKeyIdentifier=hash\n")
    key = files.dir / "sha1-inter.key"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(key)], check=True, capture_output=True)
    csr = subprocess.run([OPENSSL, "req", "-new", "-key", str(key), "-subj",
                          "/O=trustops test/CN=SHA1 Intermediate CA"], check=True, capture_output=True).stdout
    pem = subprocess.run([OPENSSL, "x509", "-req", "-sha1", "-days", "365", "-set_serial", "4242",
                          "-CA", str(root_pem), "-CAkey", str(root_key), "-extfile", str(ext)],
                         input=csr, check=True, capture_output=True).stdout
    issued = types.SimpleNamespace(cert=x509.load_pem_x509_certificate(pem),
                                   key=serialization.load_pem_private_key(key.read_bytes(), None))
    assert issued.cert.signature_hash_algorithm.name == "sha1"
    return issued, pem


def test_sha1_intermediate(files, pki3, pki):
    inter, inter_pem = make_sha1_intermediate(files, pki3["root"])
    leaf = pki.leaf(inter, dns=(HOST,))
    root = files.cert("root.pem", pki3["root"])
    chain = write(files.dir / "sha1-chain.pem", inter_pem)
    with OpenSSLServer(files.dir, files.cert("l.pem", leaf), files.key("l.key", leaf), chain,
                       args=["-cipher", "DEFAULT@SECLEVEL=0"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        allowed = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), blocklisted_digests=[])
    assert codes(r) == ["TLS-005"]
    f = r["findings"][0]
    assert f["data"]["subject"] == "CN=SHA1 Intermediate CA,O=trustops test" and f["data"]["position"] == 1
    assert r["trusted"] is True and r["chain_complete"] is True
    # the referee (OpenSSL at the host's security level) refuses SHA-1 CA signatures as well
    assert r["verified"] is False and "too weak" in r["verify_error"]
    # without the blocklist nothing of ours explains OpenSSL's refusal: TLS-017 says so
    assert codes(allowed) == ["TLS-017"] and "too weak" in allowed["findings"][0]["message"]
    assert allowed["ok"] is False


def test_expired_server_certificate(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), start_days=-30, days=-2)
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-006"] and r["findings"][0]["data"]["role"] == "leaf"
    assert r["served_chain"][0]["expired"] is True
    assert r["verified"] is False and r["verify_code"] == 10


def test_expiring_soon_is_a_warning(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), days=10)
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        relaxed = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), min_days_left=5)
    assert codes(r) == ["TLS-008"] and r["ok"] is True and r["findings"][0]["severity"] == "warning"
    assert r["findings"][0]["data"]["days_left"] in (9, 10)
    assert relaxed["findings"] == []


def test_tls13_only_server_chain_through_the_ssl_module(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"]], args=["-tls1_3"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        leaf_only = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), use_chain_api=False)
    assert r["tls12"] is None and r["tls_version"] == "TLSv1.3"
    if r["chain_source"] == "ssl-peer-chain":  # Python 3.10+ (all supported targets)
        assert codes(r) == ["TLS-014"] and len(r["served_chain"]) == 2 and r["chain_complete"] is True
    assert "protocol_version" in by_code(r, "TLS-014")["message"]
    assert leaf_only["chain_source"] == "leaf-only" and len(leaf_only["served_chain"]) == 1
    assert codes(leaf_only) == ["TLS-013", "TLS-014"] and leaf_only["ok"] is True
    assert leaf_only["chain_complete"] is None
    assert leaf_only["trusted"] is True  # decided by OpenSSL, which got the whole chain


def test_tls13_only_server_missing_intermediate_leaf_only(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], args=["-tls1_3"]) as srv:
        full = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        leaf_only = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), use_chain_api=False)
    assert codes(full) == ["TLS-002", "TLS-014"] and full["chain_complete"] is False
    assert leaf_only["trusted"] is False and leaf_only["chain_complete"] is None
    assert codes(leaf_only) == ["TLS-001", "TLS-013", "TLS-014"]
    assert "unable to get local issuer certificate" in leaf_only["findings"][0]["message"]


def test_chain_served_out_of_order_with_extras(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["root"], pki3["other"], pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-010", "TLS-012"]
    assert by_code(r, "TLS-010")["data"]["path"] == [0, 3, 1]
    extra = by_code(r, "TLS-012")["data"]["extra"]
    assert [(e["position"], e["kind"]) for e in extra] == [(2, "not on the chain")]
    assert "Unrelated Root CA" in extra[0]["subject"]
    assert r["ok"] is True and r["trusted"] is True and r["verified"] is True


def test_duplicate_certificate_is_an_extra(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"], pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-012"]
    assert r["findings"][0]["data"]["extra"][0]["kind"] == "duplicate"


def test_ec_server_certificate_and_ecdsa_suites(files, pki3, pki):
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 256))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]], args=["-no_tls1_3"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert r["findings"] == [] and r["verified"] is True
    assert r["tls12"]["cipher"].startswith("ECDHE-ECDSA-") and r["tls_version"] == "TLSv1.2"


def test_issuer_that_is_not_a_ca(files, pki3, pki):
    not_ca = pki.leaf(pki3["root"], cn="Not A CA", dns=())
    leaf = pki.leaf(not_ca, dns=(HOST,))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [not_ca]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-018"] and r["findings"][0]["data"]["position"] == 1
    assert r["verified"] is False and r["verify_code"] == 79  # invalid CA certificate
    assert r["trusted"] is True and r["chain_complete"] is True


def test_leaf_that_is_a_ca(files, pki3, pki):
    leaf = pki.intermediate(pki3["inter"], cn=HOST, dns=[HOST])
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert "TLS-011" in codes(r)


# --------------------------------------------------------------------------- connection failures

def test_closed_port_is_a_clear_error():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = holder.getsockname()[1]
    try:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, port, address="127.0.0.1", ca_file=None)
    finally:
        holder.close()
    assert str(err.value) == (f"{HOST}:{port} (connecting to 127.0.0.1): connection refused "
                              f"(nothing listens on port {port})")


def test_unresolvable_name_is_a_clear_error():
    with pytest.raises(TlsProbeError) as err:
        probe("tableau.nonexistent.invalid", 443)
    assert str(err.value).startswith("tableau.nonexistent.invalid:443: cannot resolve")


def http_400(conn, _stop):
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def ssh_banner(conn, _stop):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    conn.recv(4096)


def close_at_once(conn, _stop):
    # abortive close (SO_LINGER 0): a reset, whether or not the ClientHello has arrived yet
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_then_close(conn, _stop):
    conn.recv(4096)
    conn.close()  # an orderly close (FIN) without a word


def silent(conn, stop):
    conn.recv(4096)
    stop.wait(30)


@pytest.mark.parametrize("handler, text", [
    (http_400, "not a TLS service: it answered 'HTTP/1.1 400 Bad Request"),
    (ssh_banner, "not a TLS service: it answered 'SSH-2.0-OpenSSH_9.2p1"),
    # the reset reaches the client during connect() or during the handshake, as timing has it
    (close_at_once, "the server reset the connection"),
    (read_then_close, "TLS handshake failed: the server closed the connection without answering "
                      "the TLS ClientHello; ssl:"),
])
def test_non_tls_services_are_clear_errors(handler, text):
    with TcpServer(handler) as srv:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, srv.port, address="127.0.0.1")
    assert str(err.value).startswith(f"{HOST}:{srv.port} (connecting to 127.0.0.1): ")
    assert text in str(err.value)


def test_silent_service_times_out_with_a_clear_error():
    with TcpServer(silent) as srv:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, srv.port, address="127.0.0.1", timeout=0.5)
    assert "no answer to the TLS ClientHello within 0.5s" in str(err.value)


def test_server_without_common_cipher_is_reported(files, pki, pki3):
    """A DSA-only server shares no suite with us or with OpenSSL's defaults: a clear error."""
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("dsa", 2048))
    with serve(files, leaf, [pki3["inter"]], args=["-cipher", "DEFAULT@SECLEVEL=0", "-no_tls1_3"]) as srv:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, srv.port, address="127.0.0.1")
    assert "handshake_failure" in str(err.value) and "ssl:" in str(err.value)


# --------------------------------------------------------------------------- trust anchors

def test_ca_file_errors_are_clear(tmp_path, pki3):
    with pytest.raises(TrustopsError) as err:
        load_anchors(str(tmp_path / "missing.pem"))
    assert "missing.pem: cannot read" in str(err.value)
    keyfile = write(tmp_path / "key.pem", pki3["leaf"].key_pem())
    with pytest.raises(CertificateError) as err:
        load_anchors(str(keyfile))
    assert "holds a private key" in str(err.value)


def test_system_store_is_found():
    store = load_anchors(None)
    assert store.cafile and len(store.anchors) > 10


def test_bad_server_name_is_an_input_error():
    with pytest.raises(TrustopsError):
        probe(HOST, 443, server_name="a" * 300)


# --------------------------------------------------------------------------- analysis, offline

NOW = datetime.datetime.now(datetime.timezone.utc)


def test_cn_only_certificate_is_a_legacy_match(pki, pki3):
    leaf = pki.leaf(pki3["inter"], cn=HOST, dns=())
    a = analyze([leaf.cert, pki3["inter"].cert], HOST, [pki3["root"].cert])
    assert [f.code for f in a["findings"]] == ["TLS-004"]
    assert a["name_matched"] is True and a["matched_via"] == "cn-legacy" and a["names"] == [HOST]


def test_weak_keys(pki, pki3):
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    rsa1024 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("rsa", 1024))
    a = analyze([rsa1024.cert, pki3["inter"].cert], HOST, [pki3["root"].cert])
    assert [f.code for f in a["findings"]] == ["TLS-009"]
    assert a["findings"][0].data["key_size"] == 1024
    assert analyze([rsa1024.cert, pki3["inter"].cert], HOST, [pki3["root"].cert],
                   min_rsa_key_size=1024)["findings"] == []
    rsa3072 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("rsa", 3072))
    strict = analyze([rsa3072.cert, pki3["inter"].cert], HOST, [pki3["root"].cert], min_rsa_key_size=4096)
    assert [(f.code, f.data["role"]) for f in strict["findings"]] == [
        ("TLS-009", "leaf"), ("TLS-009", "served #1"), ("TLS-009", "trust anchor")]
    ec192 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 192))
    assert [f.code for f in analyze([ec192.cert, pki3["inter"].cert], HOST,
                                    [pki3["root"].cert])["findings"]] == ["TLS-009"]


def test_ec_keys_follow_min_ec_key_size_of_the_one_policy(pki, pki3):
    """TLS-009 for EC keys is the policy's verdict (min_ec_key_size, vendor default 256), not a fixed 256."""
    make_key = type(pki).root.__globals__["make_key"]
    p256 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 256))
    chain, anchors = [p256.cert, pki3["inter"].cert], [pki3["root"].cert]
    assert analyze(chain, HOST, anchors)["findings"] == []  # the default changes no verdict
    strict = analyze(chain, HOST, anchors, min_ec_key_size=384)
    assert [(f.code, f.data["role"], f.data["key_type"], f.data["key_size"]) for f in strict["findings"]] == [
        ("TLS-009", "leaf", "EC", 256)]
    assert "EC 256 bits, under min_ec_key_size 384" in strict["findings"][0].message
    assert "EC key of at least 384 bits" in strict["findings"][0].remedy
    ec192 = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 192))
    assert analyze([ec192.cert, pki3["inter"].cert], HOST, anchors, min_ec_key_size=0)["findings"] == []
    with pytest.raises(TrustopsError, match="^min_ec_key_size: -1 is negative"):
        analyze(chain, HOST, anchors, min_ec_key_size=-1)


def test_dsa_is_refused_whatever_the_size_options(pki, pki3):
    """DSA server certificates are refused by TLS clients: TLS-009 even when the size options check nothing."""
    from cryptography.hazmat.primitives.asymmetric import dsa
    dsa_leaf = pki.leaf(pki3["inter"], dns=(HOST,), key=dsa.generate_private_key(2048))
    found = analyze([dsa_leaf.cert, pki3["inter"].cert], HOST, [pki3["root"].cert], min_rsa_key_size=0,
                    min_ec_key_size=0)["findings"]
    assert [(f.code, f.data["key_type"]) for f in found] == [("TLS-009", "DSA")]
    assert "DSA, which TLS clients no longer accept" in found[0].message


def test_not_yet_valid(pki, pki3):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), start_days=3, days=100)
    a = analyze([leaf.cert, pki3["inter"].cert], HOST, [pki3["root"].cert])
    assert [f.code for f in a["findings"]] == ["TLS-007"]


def test_expired_trust_anchor(pki):
    old_root = pki.root(cn="Old Root", start_days=-400, days=-1)
    leaf = pki.leaf(old_root, dns=(HOST,))
    a = analyze([leaf.cert], HOST, [old_root.cert])
    assert [(f.code, f.data["role"]) for f in a["findings"]] == [("TLS-006", "trust anchor")]


def _custom_leaf(issuer, eku=True, days=365, start=None):
    key = issuer.key
    start = start or NOW - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
               .issuer_name(issuer.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False))
    if eku == "client":
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    elif eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


def test_apple_server_certificate_rules(pki3):
    anchors = [pki3["root"].cert]
    inter = pki3["inter"]
    assert analyze([_custom_leaf(inter), inter.cert], HOST, anchors)["findings"] == []
    client_only = analyze([_custom_leaf(inter, eku="client"), inter.cert], HOST, anchors)
    assert [f.code for f in client_only["findings"]] == ["TLS-015"]
    no_eku = analyze([_custom_leaf(inter, eku=False), inter.cert], HOST, anchors)
    assert [f.code for f in no_eku["findings"]] == ["TLS-015"]
    long_lived = analyze([_custom_leaf(inter, days=826), inter.cert], HOST, anchors)
    assert [f.code for f in long_lived["findings"]] == ["TLS-016"]
    assert analyze([_custom_leaf(inter, days=825), inter.cert], HOST, anchors)["findings"] == []
    old_start = datetime.datetime(2019, 6, 1, tzinfo=datetime.timezone.utc)
    before_rules = _custom_leaf(inter, eku=False, days=3000, start=old_start)
    assert analyze([before_rules, inter.cert], HOST, anchors)["findings"] == []


def test_empty_served_chain_is_an_error():
    with pytest.raises(TrustopsError):
        analyze([], HOST, [])


# --------------------------------------------------------------------------- ca_content: the CA about to be installed

def test_ca_content_gives_the_verdict_once_the_ca_is_installed(files, pki3):
    """The system store does not trust the private root (TLS-001); with the root as ca_content the
    same server is trusted by the analysis and by the referee, the system store still counted."""
    root_pem = pki3["root"].pem.decode("ascii")
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        before = probe(HOST, srv.port, address="127.0.0.1")
        after = probe(HOST, srv.port, address="127.0.0.1", ca_content=root_pem)
    assert codes(before) == ["TLS-001"] and before["verified"] is False
    assert after["findings"] == [] and after["ok"] is True
    assert after["verified"] is True and after["trusted"] is True and after["chain_complete"] is True
    assert after["anchor"]["subject"] == "CN=Probe Root CA,O=trustops test"
    system = before["trust_store"]
    assert system["ca_content"] == 0 and system["count"] > 10
    assert after["trust_store"] == dict(system, count=system["count"] + 1, ca_content=1)


def test_ca_content_adds_to_ca_file(files, pki3):
    other = files.cert("other.pem", pki3["other"])
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        unrelated = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(other),
                          ca_content=pki3["other"].pem.decode("ascii"))
        both = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(other), ca_content=pki3["root"].pem)
    assert codes(unrelated) == ["TLS-001"] and unrelated["verified"] is False
    assert unrelated["trust_store"] == {"path": str(other), "count": 1, "skipped": 0, "ca_content": 1}  # same CA once
    assert both["findings"] == [] and both["verified"] is True
    assert both["trust_store"] == {"path": str(other), "count": 2, "skipped": 0, "ca_content": 1}


def test_ca_content_intermediate_is_trusted_by_the_referee_too(files, pki3):
    """A leaf-only server, the intermediate and root given as ca_content: OpenSSL builds the chain
    from cadata (verified), and the analysis still says the server omits its intermediate (TLS-002)."""
    with serve(files, pki3["leaf"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_content=(pki3["inter"].pem + pki3["root"].pem).decode())
    assert codes(r) == ["TLS-002"] and "trusted here only because" in r["findings"][0]["message"]
    assert r["verified"] is True and r["trusted"] is True and r["chain_complete"] is False
    assert r["trust_store"]["ca_content"] == 2


def test_ca_content_alone_on_a_host_without_a_system_store(files, pki3, monkeypatch, tmp_path):
    monkeypatch.setattr(tlsprobe_anchors, "system_store_candidates",
                        lambda: ([str(tmp_path / "no-bundle.pem")], [str(tmp_path / "no-dir")]))
    with pytest.raises(TrustopsError) as err:
        load_anchors()
    assert "no system trust store found" in str(err.value) and "give ca_file or ca_content" in str(err.value)
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_content=pki3["root"].pem)
    assert r["findings"] == [] and r["verified"] is True
    assert r["trust_store"] == {"path": None, "count": 1, "skipped": 0, "ca_content": 1}


def test_ca_content_errors_name_the_option(pki3):
    with pytest.raises(reader.InputError) as err:
        load_anchors(ca_content=" \n")
    assert str(err.value) == "ca_content: the value is empty; give the ca_content itself"
    with pytest.raises(CertificateError) as err:
        load_anchors(ca_content=pki3["leaf"].key_pem().decode())
    assert str(err.value).startswith("ca_content: holds a private key")
    with pytest.raises(reader.InputError) as err:
        load_anchors(ca_content="x" * (reader.MAX_BUNDLE + 1))
    assert str(err.value).startswith("ca_content: ") and f"limit of {reader.MAX_BUNDLE} bytes" in str(err.value)
    with pytest.raises(CertificateError) as err:
        load_anchors(ca_content="-----BEGIN CERTIFICATE-----\nAAAA\n")
    assert str(err.value).startswith("ca_content: truncated or damaged PEM")


# --------------------------------------------------------------------------- the TLS rule registry

#: Every file that makes TLS findings: the package's cores and the module.
TLS_CODE = sorted(Path(rules.__file__).parent.glob("*.py")) + [Path(rules.__file__).parents[2] / "modules" / "tls_probe.py"]
#: The vendor articles (outside the collection: the text is Tableau's); TRUSTOPS_SEEDS overrides.
SEEDS = Path(os.environ.get("TRUSTOPS_SEEDS", "/work/shared/seeds"))


def folded(text):
    return " ".join(text.split())


def seed_sentences():
    return {name: folded(value) for name, value in vars(rules.Seed).items() if not name.startswith("_")}


def _calls(tree, name):
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def test_the_registry_is_REGISTRY_of_tlsprobe_rules_with_every_code_once():
    assert rules.REGISTRY.prefix == "TLS" and rules.REGISTRY.topic == "Client trust"
    assert rules.REGISTRY.seeds == "seeds 000 and 001" and rules.RULES is rules.REGISTRY.rules
    assert list(rules.RULES) == [f"TLS-{n:03d}" for n in range(1, 19)]


@pytest.mark.parametrize("code", sorted(rules.RULES))
def test_every_rule_has_a_title_a_remedy_and_a_seed_made_of_seed_sentences(code):
    rule = rules.RULES[code]
    assert rule.title and len(rule.title) <= 60 and rule.title[0].isupper() and not rule.title.endswith(".")
    assert rule.message and rule.remedy and rule.severity in ("info", "warning", "error")
    if rule.seed.startswith(rules.NOT_VENDOR):
        assert len(rule.seed) > len(rules.NOT_VENDOR) + 40  # says what it protects instead
        return
    rest = folded(rule.seed)
    sentences = sorted(seed_sentences().values(), key=len, reverse=True)
    while rest:  # the seed is Seed sentences joined by spaces, nothing else
        head = next((s for s in sentences if rest == s or rest.startswith(s + " ")), None)
        assert head is not None, f"{code}: {rest[:80]!r} is not a sentence of rules.Seed"
        rest = rest[len(head):].lstrip()


def test_titles_are_unique():
    titles = [rule.title for rule in rules.RULES.values()]
    assert len(set(titles)) == len(titles)


@pytest.mark.skipif(len(list(SEEDS.glob("00[01]_*.txt"))) < 2, reason=f"seeds 000/001 are not in {SEEDS} (set TRUSTOPS_SEEDS)")
@pytest.mark.parametrize("name", sorted(seed_sentences()))
def test_seed_sentences_are_verbatim_from_seeds_000_and_001(name):
    articles = " ".join(folded(path.read_text(encoding="utf-8")) for path in sorted(SEEDS.glob("00[01]_*.txt")))
    assert seed_sentences()[name] in articles


def test_findings_are_made_only_through_the_registry():
    """No ``Finding(...)`` in the TLS code: every finding's text comes from its Rule."""
    made = {path.name: len(_calls(ast.parse(path.read_text(encoding="utf-8")), "Finding")) for path in TLS_CODE}
    assert len(made) == 8 and {name for name, count in made.items() if count} == set()


def test_every_code_the_tls_code_names_is_registered_and_every_rule_is_emitted():
    named = set()
    for path in TLS_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        definitions = {id(call.args[0]) for call in _calls(tree, "Rule") if call.args}
        named |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and isinstance(node.value, str) and re.fullmatch(r"TLS-\d{3}", node.value)
                  and id(node) not in definitions}
    assert sorted(named - set(rules.RULES)) == []  # a code nobody registered
    assert sorted(set(rules.RULES) - named) == []  # a rule no check makes


def test_findings_of_real_inputs_carry_their_rules_text_and_only_facts_as_data(pki, pki3):
    """Real certificates through the analysis: each finding's message and remedy are its rule's
    templates filled from its data (plus the wording cases), and no wording field is left in data."""
    inter, root = pki3["inter"], pki3["root"]
    now = datetime.datetime.now(datetime.timezone.utc)
    weak = pki.leaf(inter, dns=("other.example.test",), key=type(pki).root.__globals__["make_key"]("rsa", 1024))
    soon = pki.leaf(inter, dns=(HOST,), days=5)
    found = analyze([weak.cert, root.cert, inter.cert, inter.cert], "tableau", [root.cert])["findings"]
    found += analyze([soon.cert], "tableau", [pki3["other"].cert])["findings"]
    found += analyze([pki.self_signed_leaf(cn=HOST, dns=(HOST,)).cert], HOST, [], now=now)["findings"]
    assert {"TLS-001", "TLS-002", "TLS-003", "TLS-008", "TLS-009", "TLS-010", "TLS-012"} <= {f.code for f in found}
    for f in found:
        rule = rules.RULES[f.code]
        assert f.severity == rule.severity and not rules.WORDING_FIELDS & set(f.data), f
        fields = {name for _text, name, _spec, _conv in string.Formatter().parse(rule.message + rule.remedy) if name}
        facts = {name: f.data[name] for name in fields if name in f.data}
        if fields <= set(facts):  # no wording case: the whole text is the template
            assert f.message == rule.message.format(**facts) and f.remedy == rule.remedy.format(**facts)
        else:
            prefix = rule.message.split("{")[0]
            assert f.message.startswith(prefix), (f.message, prefix)
