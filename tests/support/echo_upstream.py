# -*- coding: utf-8 -*-
"""Test-only stand-in for Tableau Server's web tier behind a reverse proxy.

It answers every request with ``200`` and a JSON document describing what it received:
``method``, ``target`` (the request target exactly as sent), ``path``, ``query``, ``headers``
(a list of ``[name, value]`` pairs in arrival order), ``header_map`` (lower-case name -> list of
values, for lookups that ignore the case proxies give header names) and ``body_length``. The embed_proxy tests
use it to see what the proxy forwarded (e.g. ``X-Forwarded-Proto: https``); it stands in for
nothing else.

Usage::

    python3 echo_upstream.py --listen 127.0.0.1:19000 [--pidfile FILE] [--daemon]

With ``--daemon`` the process detaches after the socket is listening, so the caller can start
it from a task runner and connect right away.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    """Echo method, target, headers and body length as JSON (HTTP/1.1, keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "trustops-echo-upstream/1"

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, sep, query = self.path.partition("?")
        header_map = {}
        for name, value in self.headers.items():
            header_map.setdefault(name.lower(), []).append(value)
        doc = {
            "method": self.command,
            "target": self.path,
            "path": path,
            "query": query if sep else None,
            "headers": [[k, v] for k, v in self.headers.items()],
            "header_map": header_map,
            "body_length": len(body),
        }
        payload = json.dumps(doc, sort_keys=True).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Echo-Upstream", "1")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _echo

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Stay quiet: the tests read responses, not logs."""


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def parse_listen(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _write_pidfile(path):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write("%d\n" % os.getpid())
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 19000))
    parser.add_argument("--pidfile")
    parser.add_argument("--daemon", action="store_true")
    args = parser.parse_args(argv)

    server = EchoServer(args.listen, EchoHandler)  # bind before detaching: errors reach the caller
    if args.daemon:
        if os.fork():
            os._exit(0)  # pylint: disable=protected-access
        os.setsid()
        if os.fork():
            os._exit(0)  # pylint: disable=protected-access
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    if args.pidfile:
        _write_pidfile(args.pidfile)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
