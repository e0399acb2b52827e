# -*- coding: utf-8 -*-
"""Cost of the tls_probe chain reader against the naive baseline, a full ``ssl`` handshake.

Starts ``openssl s_server`` on an ephemeral loopback port with root -> intermediate -> leaf
(RSA 2048, chain served), then times, in the same run:

* parse   - HandshakeReader.feed() over the captured server flight (pure parsing, no network)
* reader  - read_served_chain(): TCP connect + ClientHello + read up to Certificate
* ssl     - the baseline: a full verifying handshake with ssl.create_default_context()
* probe   - the whole probe() (reader + referee handshake + analysis)

Usage: PYTHONPATH=<collections root> python bench/bench_tls_probe.py [ROUNDS]
"""

from __future__ import annotations

import datetime
import os
import queue
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import probe as tlsprobe
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import referee, wire

HOST = "tableau.example.test"


def issue(cn, issuer=None, ca=False, dns=()):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer[0].subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:  # a server certificate as iOS wants it: SAN and EKU serverAuth (else TLS-015)
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    return cert, key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def start_server(workdir):
    root = issue("Bench Root", ca=True)
    inter = issue("Bench Intermediate", root, ca=True)
    leaf = issue(HOST, inter, dns=(HOST,))
    for name, data in (("root.pem", pem(root[0])), ("inter.pem", pem(inter[0])), ("leaf.pem", pem(leaf[0])),
                       ("leaf.key", leaf[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))):
        with open(os.path.join(workdir, name), "wb") as handle:
            handle.write(data)
    proc = subprocess.Popen([shutil.which("openssl"), "s_server", "-accept", "127.0.0.1:0", "-www", "-cert", "leaf.pem",
                             "-key", "leaf.key", "-cert_chain", "inter.pem"], cwd=workdir,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in iter(proc.stdout.readline, b"")], daemon=True).start()
    while True:
        match = re.match(rb"ACCEPT 127\.0\.0\.1:(\d+)", lines.get(timeout=20))
        if match:
            port = int(match.group(1))
            socket.create_connection(("127.0.0.1", port), timeout=10).close()
            return proc, port


def timed(fn, rounds):
    samples = []
    for _round in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    workdir = tempfile.mkdtemp(prefix="bench-tls-probe-")
    proc, port = start_server(workdir)
    try:
        endpoint = wire.Endpoint(HOST, port, "127.0.0.1")
        ca_file = os.path.join(workdir, "root.pem")
        # capture the real flight once
        flight = bytearray()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(wire.client_hello(HOST))
            reader = wire.HandshakeReader()
            while not reader.done:
                data = sock.recv(65536)
                flight += data
                reader.feed(data)
        flight = bytes(flight)

        def parse():
            wire.HandshakeReader().feed(flight)

        def read():
            wire.read_served_chain(endpoint, HOST, 10)

        def baseline():
            res = referee.ssl_handshake(endpoint, HOST, cafile=ca_file, timeout=10)
            assert res.ok, res.verify_error or res.error

        def whole():
            r = tlsprobe.probe(HOST, port, address="127.0.0.1", ca_file=ca_file)
            assert r["ok"], r["findings"]

        results = [("parse", timed(parse, rounds * 10)), ("reader", timed(read, rounds)),
                   ("ssl", timed(baseline, rounds)), ("probe", timed(whole, max(10, rounds // 4)))]
        print(f"tls_probe bench: flight {len(flight)} bytes, {len(reader.certificates)} certificates, "
              f"{rounds} rounds; {ssl.OPENSSL_VERSION}, {sys.version.split()[0]}")
        print(f"{'what':<8} {'median ms':>10} {'p90 ms':>10} {'n':>10}")
        for name, samples in results:
            samples.sort()
            p90 = samples[int(len(samples) * 0.9) - 1]
            print(f"{name:<8} {statistics.median(samples) * 1e3:10.3f} {p90 * 1e3:10.3f} {len(samples):10d}")
        med = {name: statistics.median(s) for name, s in results}
        print(f"reader / ssl handshake (baseline): {med['reader'] / med['ssl']:.2f}")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
