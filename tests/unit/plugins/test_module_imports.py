# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lighter modules per host (issue 16): a module imports the heavy libraries only where they are used.

Each module is imported in a fresh interpreter (this venv's, and Debian 12's /usr/bin/python3 with
cryptography 38 when it is there) and must not have loaded what its converged run does not need: the
TSM modules on the CLI transport neither ``ssl`` nor ``urllib.request``/``http.client`` (the API
transport imports them), no certificate module cryptography's PKCS#7 half (signing, PKCS#7 bundles).
The API transport still follows no redirect (it builds its handler where it imports ``urllib``).
"""

from __future__ import annotations

import http.server
import json
import os
import ssl
import subprocess
import sys
import threading

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import transport

COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(certs.__file__), "..", "..", "..", "..", ".."))
DEBIAN_PYTHON = "/usr/bin/python3"

PKCS7 = "cryptography.hazmat.primitives.serialization.pkcs7"
HTTP = ("ssl", "urllib.request", "http.client")
#: module -> what importing it must not load
NOT_LOADED = {
    "tsm_config": HTTP, "tsm_saml": HTTP, "tsm_info": HTTP, "tsm_mutual_ssl": HTTP, "tsm_trusted_auth": HTTP,
    "tsm_external_ssl": HTTP, "tsm_pending_changes": HTTP,
    "mobile_trust_profile": (PKCS7, "ansible_collections.trustops.tableau.plugins.module_utils.mobile.diff"),
    "trust_anchor": (PKCS7, "ssl", "plistlib"), "saml_keypair_check": (PKCS7, "ssl"),
}
#: what each must still load (so that the probe sees real imports, not a broken path)
LOADED = {"mobile_trust_profile": ("cryptography.x509", "plistlib"), "trust_anchor": ("cryptography.x509",),
          "saml_keypair_check": ("cryptography.x509",)}

PROBE = """
import json, sys
import ansible.module_utils.basic
import ansible_collections.trustops.tableau.plugins.modules.{name}
print(json.dumps(sorted(sys.modules)))
"""


def _ansible_only(tmp_path_factory):
    """A directory with only the ansible package and the collection, for Debian's python (whose own
    cryptography must be the one imported, not this venv's)."""
    import ansible  # pylint: disable=import-outside-toplevel

    base = tmp_path_factory.mktemp("ansible-only")
    os.symlink(os.path.dirname(ansible.__file__), base / "ansible")
    os.symlink(os.path.join(COLLECTIONS, "ansible_collections"), base / "ansible_collections")
    return str(base)


@pytest.fixture(scope="module")
def interpreters(tmp_path_factory):
    found = [(sys.executable, COLLECTIONS)]
    if os.path.exists(DEBIAN_PYTHON):
        found.append((DEBIAN_PYTHON, _ansible_only(tmp_path_factory)))
    return found


def _loaded(python, path, name):
    env = dict(os.environ, PYTHONPATH=path)
    proc = subprocess.run([python, "-c", PROBE.format(name=name)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


@pytest.mark.parametrize("name", sorted(NOT_LOADED))
def test_a_module_imports_only_what_its_converged_run_uses(interpreters, name):
    for python, path in interpreters:
        loaded = _loaded(python, path, name)
        assert f"ansible_collections.trustops.tableau.plugins.modules.{name}" in loaded
        assert [m for m in LOADED.get(name, ()) if m not in loaded] == [], (python, name)
        assert [m for m in NOT_LOADED[name] if m in loaded] == [], (python, name)


def test_api_transport_follows_no_redirect(chain, tmp_path):
    """A 302 from the TSM API is an answer (status 302), not a request to somewhere else."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "https://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            del args

    (tmp_path / "leaf.pem").write_bytes(chain["leaf"].pem + chain["intermediate"].pem)
    (tmp_path / "leaf.key").write_bytes(chain["leaf"].key_pem())
    (tmp_path / "root.pem").write_bytes(chain["root"].pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "leaf.pem"), str(tmp_path / "leaf.key"))
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        api = transport.ApiTransport(f"https://127.0.0.1:{server.server_address[1]}", ca_path=str(tmp_path / "root.pem"),
                                     timeout=10)
        status, headers, _body, _seconds = api.request("GET", "/status")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 302 and headers["location"] == "https://127.0.0.1:1/elsewhere"
    assert seen == ["/api/0.5/status"]
