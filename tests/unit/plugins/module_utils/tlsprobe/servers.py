# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test servers and files for the tlsprobe tests: ``openssl s_server`` (an independent TLS stack)
on ephemeral loopback ports, and small socket servers in threads for the broken cases (closes at
once, not TLS, silent). Readiness is the ``ACCEPT`` line s_server prints after listen() plus one
TCP connect; nothing sleeps.
"""

from __future__ import annotations

import queue
import re
import shutil
import socket
import subprocess
import threading

OPENSSL = shutil.which("openssl")
HOST = "tableau.example.test"


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
