# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permanent bad-file class (issue 11): every file option of every module x bad contents.

For each file option of each module (found by reading every module's argument_spec; the table
``FILE_OPTIONS`` below is checked against the argument specs by the first test) and each bad
content (empty, random binary, truncated PEM, a 50 MB sparse file, a directory, a PKCS#12 file
made by openssl, a private key where a certificate is expected, a certificate where a key is
expected), the module must fail with a clear message that names the option (for an entry of a
list option: the entry's path), without "Traceback" or "Exception" in it, and leave its target
unchanged: the trust store files (trust_anchor), the written artifacts (mobile_trust_profile),
the TSM simulator's state and its write calls (tsm_*), no connection at all (tls_probe,
win_trust_anchor). Modules run in-process (module_runner.run_module); win_trust_anchor, an
action plugin, runs in one real ansible-playbook (module_runner.run_playbook) against an
unreachable host.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from module_runner import run_module, run_playbook
from pki_factory import make_key
from tsm_sim.harness import SimServer, idp_metadata, write

from ansible_collections.trustops.tableau.plugins.modules import (
    client_cert_identity,
    mobile_trust_profile,
    saml_keypair_check,
    saml_metadata_check,
    saml_response_check,
    tls_probe,
    trust_anchor,
    tsm_external_ssl,
    tsm_mutual_ssl,
    tsm_saml,
)
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts

OPENSSL = shutil.which("openssl")
MODULES_DIR = Path(trust_anchor.__file__).parent
ACTION = Path(trust_anchor.__file__).parents[1] / "action" / "win_trust_anchor.py"
HUGE = 50 * 1024 * 1024

#: (module, option, kind). ``kind`` says what the option expects: cert (one certificate or a chain),
#: bundle (CA certificates), key, xml, crl, table (known users). ``list`` marks options whose
#: value is a list of paths (the message may name the entry's path instead of the option).
FILE_OPTIONS = [
    ("trust_anchor", "src", "cert"),
    ("win_trust_anchor", "src", "cert"),
    ("tls_probe", "ca_file", "bundle"),
    ("client_cert_identity", "certs", "cert"),
    ("client_cert_identity", "client_ca", "bundle"),
    ("client_cert_identity", "known_users_file", "table"),
    ("mobile_trust_profile", "src", "cert"),
    ("mobile_trust_profile", "signer_cert_src", "cert"),
    ("mobile_trust_profile", "signer_key_src", "key"),
    ("mobile_trust_profile", "signer_chain_src", "cert"),
    ("saml_keypair_check", "cert_src", "cert"),
    ("saml_keypair_check", "key_src", "key"),
    ("saml_metadata_check", "src", "xml"),
    ("saml_metadata_check", "trusted_signer_src", "cert"),
    ("saml_metadata_check", "sp_src", "xml"),
    ("saml_response_check", "src", "xml"),
    ("saml_response_check", "idp_metadata_src", "xml"),
    ("saml_response_check", "idp_cert_src", "cert"),
    ("tsm_saml", "idp_metadata_file", "xml"),
    ("tsm_saml", "cert_file", "cert"),
    ("tsm_saml", "key_file", "key"),
    ("tsm_external_ssl", "cert_file", "cert"),
    ("tsm_external_ssl", "key_file", "key"),
    ("tsm_external_ssl", "chain_file", "cert"),
    ("tsm_mutual_ssl", "ca_cert", "bundle"),
    ("tsm_mutual_ssl", "revocation_file", "crl"),
]
LIST_OPTIONS = {("client_cert_identity", "certs"), ("mobile_trust_profile", "src"),
                ("mobile_trust_profile", "signer_chain_src")}
#: Options of type path that are not file inputs (where to write, or which tsm executable to run).
NOT_INPUTS = {"dest", "tsm_path"}
#: Options that take a file path though their type is str (list elements or "path or content").
STR_FILE_OPTIONS = {("client_cert_identity", "certs"), ("client_cert_identity", "client_ca")}

BAD = ["empty", "binary", "truncated_pem", "huge", "directory", "pkcs12", "key_for_cert", "cert_for_key"]


def bad_contents_for(kind):
    """The bad contents that are wrong for an option of this kind (a key is right for a key option)."""
    return [b for b in BAD if not (b == "cert_for_key" and kind != "key") and not (b == "key_for_cert" and kind == "key")]


ROWS = [(m, o, k, b) for m, o, k in FILE_OPTIONS for b in bad_contents_for(k)]


def row_id(row):
    return f"{row[0]}.{row[1]}-{row[3]}"


# --------------------------------------------------------------------------- real inputs, good and bad

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(cn, key, issuer=None, ca=False, eku=None, days=365):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(cn))
               .issuer_name(issuer[0].subject if issuer else _name(cn)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Good companion files and every bad content, made with cryptography and openssl."""
    assert OPENSSL, "openssl makes the PKCS#12 file of this test (an independent tool)"
    d = tmp_path_factory.mktemp("bad-file-inputs")
    root = _issue("Bad Input Root CA", make_key("rsa", 2048, fresh=True), ca=True)
    inter = _issue("Bad Input Issuing CA", make_key("rsa", 2048, fresh=True), root, ca=True)
    server = _issue("tableau.example.test", make_key("rsa", 2048, fresh=True), inter,
                    eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    signer = _issue("Bad Input Profile Signer", make_key("rsa", 2048, fresh=True), inter,
                    eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    client = _issue("jsmith", make_key("rsa", 2048, fresh=True), root, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root[0].subject)
           .last_update(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1))
           .next_update(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30))
           .sign(root[1], hashes.SHA256()))
    good = {
        "root": write(d / "good" / "root.pem", _pem(root[0])),
        "inter": write(d / "good" / "inter.pem", _pem(inter[0])),
        "chain": write(d / "good" / "chain.pem", _pem(inter[0]) + _pem(root[0])),
        "server_cert": write(d / "good" / "server.crt", _pem(server[0])),
        "server_key": write(d / "good" / "server.key", _key_pem(server[1])),
        # server-wide SAML takes an unencrypted key only as PKCS#1 (seed 002's key table: SAML-016 otherwise)
        "sp_key": write(d / "good" / "sp.key", server[1].private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())),
        "signer_cert": write(d / "good" / "signer.pem", _pem(signer[0])),
        "signer_key": write(d / "good" / "signer.key", _key_pem(signer[1])),
        "client": write(d / "good" / "client.pem", _pem(client[0])),
        "crl": write(d / "good" / "revoked.crl", crl.public_bytes(serialization.Encoding.PEM)),
        "idp": write(d / "good" / "idp.xml", idp_metadata("bad-inputs")),
        "response": write(d / "good" / "response.xml", RESPONSE),
        "users": write(d / "good" / "users.csv", b"jsmith,pw,John Smith,Viewer\n"),
    }
    half = _pem(server[0])
    bad = {
        "empty": write(d / "bad" / "empty.pem", b""),
        "binary": write(d / "bad" / "random.bin", random.Random(11).randbytes(4096)),
        "truncated_pem": write(d / "bad" / "truncated.pem", half[:len(half) // 2]),
        "key_for_cert": write(d / "bad" / "a-key.pem", _key_pem(server[1])),
        "cert_for_key": write(d / "bad" / "a-cert.key", _pem(server[0])),
    }
    huge = d / "bad" / "huge.pem"
    with open(huge, "wb") as handle:
        handle.truncate(HUGE)       # sparse: 50 MB of size, no blocks
    bad["huge"] = str(huge)
    (d / "bad" / "a-directory.pem").mkdir()
    bad["directory"] = str(d / "bad" / "a-directory.pem")
    proc = subprocess.run([OPENSSL, "pkcs12", "-export", "-in", good["server_cert"], "-inkey", good["server_key"],
                           "-out", str(d / "bad" / "server.p12"), "-passout", "pass:p12-test-pass"],
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    bad["pkcs12"] = str(d / "bad" / "server.p12")
    return {"dir": d, "good": good, "bad": bad}


RESPONSE = b"""<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
    ID="_r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="https://tableau.example.test/wg/saml/SSO/index.html">
  <saml:Issuer>https://idp.example.test/bad-inputs</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
    <saml:Issuer>https://idp.example.test/bad-inputs</saml:Issuer>
    <saml:Subject><saml:NameID>jsmith</saml:NameID></saml:Subject>
    <saml:AttributeStatement><saml:Attribute Name="username">
      <saml:AttributeValue>jsmith</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>
"""


# --------------------------------------------------------------------------- targets and their snapshots

def tree_digest(top):
    """Every file, link and directory below ``top`` with its bytes' digest and mode."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(str(top)):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            out[os.path.relpath(path, str(top))] = (st.st_mode, digest)
    return out


class Target:
    """What a module could change, snapshotted before and compared after."""

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.before = snapshot()

    def unchanged(self):
        return self.snapshot() == self.before


def run_against(main, args, target=None):
    """The module's result, and whether ``target`` (when there is one) is unchanged."""
    result = run_module(main, args)
    return result, (target.unchanged() if target else True)


def _trust_anchor(ctx, option, path, monkeypatch):
    lay = layouts.layout("debian", str(ctx["tmp"] / "root"))
    os.makedirs(lay.anchors_dir)
    write(os.path.join(lay.anchors_dir, "existing.crt"), open(ctx["good"]["inter"], "rb").read(), 0o644)
    write(lay.bundle, open(ctx["good"]["root"], "rb").read(), 0o644)
    monkeypatch.setattr(trust_anchor, "_layout", lambda store: lay)
    target = Target(lambda: tree_digest(lay.root))
    return run_against(trust_anchor.main, {option: path, "platform": "debian"}, target)


def _tls_probe(ctx, option, path, monkeypatch):
    del monkeypatch
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        result = run_module(tls_probe.main, {"host": "tableau.example.test", "address": "127.0.0.1",
                                             "port": listener.getsockname()[1], option: path, "timeout": 5})
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            connected = True
        except BlockingIOError:
            connected = False
    finally:
        listener.close()
    return result, not connected


def _client_cert_identity(ctx, option, path, monkeypatch):
    del monkeypatch
    args = {"certs": [ctx["good"]["client"]], "identity_store": "local", "mapping": "cn"}
    args[option] = [path] if option == "certs" else path
    return run_against(client_cert_identity.main, args)


def _mobile(ctx, option, path, monkeypatch):
    del monkeypatch
    good = ctx["good"]
    args = {"src": [good["root"]], "identifier": "test.example.bad-inputs", "dest": str(ctx["tmp"] / "out"),
            "signer_cert_src": good["signer_cert"], "signer_key_src": good["signer_key"],
            "signer_chain_src": [good["inter"]]}
    first = run_module(mobile_trust_profile.main, args)
    assert not first.get("failed"), "the good run that makes the artifacts failed: {}".format(first.get("msg"))
    target = Target(lambda: tree_digest(ctx["tmp"] / "out"))
    args[option] = [path] if option in ("src", "signer_chain_src") else path
    if option == "signer_key_src":
        args["display_name"] = "a changed profile"  # a converged run never reads the key; a re-sign does
    return run_against(mobile_trust_profile.main, args, target)


def _saml_keypair(ctx, option, path, monkeypatch):
    del monkeypatch
    args = {"cert_src": ctx["good"]["server_cert"], "key_src": ctx["good"]["server_key"]}
    args[option] = path
    return run_against(saml_keypair_check.main, args)


def _saml_metadata(ctx, option, path, monkeypatch):
    del monkeypatch
    args = {"src": ctx["good"]["idp"]}
    args[option] = path
    return run_against(saml_metadata_check.main, args)


def _saml_response(ctx, option, path, monkeypatch):
    del monkeypatch
    args = {"src": ctx["good"]["response"], "fail_on": "never"}
    args[option] = path
    return run_against(saml_response_check.main, args)


def _tsm(main, base):
    def runner(ctx, option, path, monkeypatch):
        del monkeypatch
        sim = SimServer(ctx["tmp"] / "server")
        args = dict(base(ctx["good"]), tsm_path=sim.tsm)
        args[option] = path
        calls = len(sim.calls()) if os.path.exists(os.path.join(sim.home, "calls.log")) else 0
        state = sim.state_bytes()
        result = run_module(main, args)
        writes = sim.write_calls(calls) if os.path.exists(os.path.join(sim.home, "calls.log")) else []
        return result, sim.state_bytes() == state and not writes
    return runner


#: The good companion arguments of each tsm_* module (each bad row replaces one of them).
TSM_BASES = {
    "tsm_saml": (tsm_saml.main, lambda g: {
        "idp_entity_id": "https://tableau.example.test", "return_url": "https://tableau.example.test",
        "idp_metadata_file": g["idp"], "cert_file": g["server_cert"], "key_file": g["sp_key"]}),
    "tsm_external_ssl": (tsm_external_ssl.main, lambda g: {
        "cert_file": g["server_cert"], "key_file": g["server_key"], "chain_file": g["chain"]}),
    "tsm_mutual_ssl": (tsm_mutual_ssl.main, lambda g: {
        "ca_cert": g["root"], "revocation_file": g["crl"], "user_name_mapping": "upn", "state": "configured"}),
}

RUNNERS = {
    "trust_anchor": _trust_anchor,
    "tls_probe": _tls_probe,
    "client_cert_identity": _client_cert_identity,
    "mobile_trust_profile": _mobile,
    "saml_keypair_check": _saml_keypair,
    "saml_metadata_check": _saml_metadata,
    "saml_response_check": _saml_response,
}
RUNNERS.update((name, _tsm(main, base)) for name, (main, base) in TSM_BASES.items())


# --------------------------------------------------------------------------- the assertions, one place

def clear_failure(module, option, path, result):
    """The problems with a result (empty when it is a clear failure naming the option)."""
    problems = []
    msg = result.get("msg") or ""
    if not result.get("failed"):
        problems.append("did not fail (changed={}, msg={!r})".format(result.get("changed"), msg[:300]))
    if "Traceback" in msg or "Exception" in msg:
        problems.append(f"traceback or exception in msg: {msg[:300]!r}")
    named = re.search(rf"(?<![\w.]){re.escape(option)}(?![\w])", msg) is not None
    if not named and (module, option) in LIST_OPTIONS:
        named = path in msg
    if result.get("failed") and not named:
        problems.append(f"msg does not name {option}: {msg[:300]!r}")
    return problems


def test_the_table_holds_every_file_option_of_every_module():
    """FILE_OPTIONS is complete: every path option (and list of paths) of every module is in it."""
    import ast

    found = set()
    for path in sorted(MODULES_DIR.glob("*.py")) + [ACTION]:
        module = path.stem
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and isinstance(node.value, ast.Call) and \
                    getattr(node.value.func, "id", None) == "dict":
                spec = dict((k.arg, getattr(k.value, "value", None)) for k in node.value.keywords)
                if "path" in (spec.get("type"), spec.get("elements")) and node.arg not in NOT_INPUTS:
                    found.add((module, node.arg))
    # the SAML checks' options live in module_utils/saml/task.py (shared with their action plugins)
    from ansible_collections.trustops.tableau.plugins.module_utils.saml import task
    for module, spec in (("saml_metadata_check", task.METADATA), ("saml_response_check", task.RESPONSE)):
        found.update((module, name) for name, option in spec["argument_spec"].items()
                     if "path" in (option.get("type"), option.get("elements")) and name not in NOT_INPUTS)
    listed = set((m, o) for m, o, _k in FILE_OPTIONS)
    assert found - listed == set(), "file options missing from FILE_OPTIONS"
    assert listed - found - STR_FILE_OPTIONS == set(), "FILE_OPTIONS names options that are not path options"


@pytest.mark.parametrize("module", sorted(TSM_BASES))
def test_tsm_good_companion_files_alone_are_accepted(module, inputs, tmp_path):
    """The control of the tsm_* rows: with only good files the module stages its change, so each
    bad row fails for its bad file, not for a companion file the module refuses anyway."""
    main, base = TSM_BASES[module]
    sim = SimServer(tmp_path / "server")
    result = run_module(main, dict(base(inputs["good"]), tsm_path=sim.tsm))
    assert not result.get("failed") and result["changed"], "{}: {}".format(module, result.get("msg"))


@pytest.mark.parametrize("row", [r for r in ROWS if r[0] != "win_trust_anchor"], ids=row_id)
def test_bad_file_fails_clearly_and_changes_nothing(row, inputs, tmp_path, monkeypatch):
    module, option, _kind, bad = row
    path = inputs["bad"][bad]
    ctx = {"tmp": tmp_path, "good": inputs["good"]}
    result, unchanged = RUNNERS[module](ctx, option, path, monkeypatch)
    problems = clear_failure(module, option, path, result)
    if not unchanged:
        problems.append("the target changed")
    assert not problems, "{} {}={}: {}".format(module, option, bad, "; ".join(problems))


# --------------------------------------------------------------------------- win_trust_anchor (action plugin)

#: A Windows host that cannot be reached (TEST-NET-1): win_trust_anchor must fail before it tries.
UNREACHABLE = {"windows": {"hosts": {"win-ssh": {
    "ansible_connection": "ssh", "ansible_shell_type": "powershell", "ansible_host": "192.0.2.1",
    "ansible_user": "Administrator", "ansible_ssh_timeout": 3,
    "ansible_ssh_common_args": "-o ConnectTimeout=3 -o BatchMode=yes"}}}}


@pytest.fixture(scope="module")
def win_results(inputs, tmp_path_factory):
    """One ansible-playbook: a task per bad content against an unreachable Windows host."""
    d = tmp_path_factory.mktemp("win-bad-inputs")
    tasks = []
    for bad in bad_contents_for("cert"):
        tasks.append(textwrap.dedent("""\
            - name: {bad}
              trustops.tableau.win_trust_anchor:
                src: "{path}"
              register: r_{bad}
              ignore_errors: true
            """).format(bad=bad, path=inputs["bad"][bad]))
    report = ", ".join(f"'{b}': r_{b}" for b in bad_contents_for("cert"))
    tasks.append(textwrap.dedent("""\
        - name: report
          ansible.builtin.copy:
            content: "{{{{ {{{report}}} | to_json }}}}"
            dest: "{out}"
          delegate_to: localhost
        """).format(report=report, out=d / "out.json"))
    play = "- hosts: windows\n  gather_facts: false\n  tasks:\n" + textwrap.indent("".join(tasks), "    ")
    _rc, out = run_playbook(d, play, hosts=UNREACHABLE, timeout=300,
                            env={"ANSIBLE_CONFIG": str(d / "none.cfg"), "ANSIBLE_HOST_KEY_CHECKING": "False",
                                 "PYTHONPATH": ""})
    assert (d / "out.json").exists(), out
    return json.loads((d / "out.json").read_text()), out


@pytest.mark.parametrize("row", [r for r in ROWS if r[0] == "win_trust_anchor"], ids=row_id)
def test_win_trust_anchor_bad_file_fails_on_the_controller(row, inputs, win_results):
    module, option, _kind, bad = row
    results, out = win_results
    result = results[bad]
    problems = clear_failure(module, option, inputs["bad"][bad], result)
    if result.get("unreachable") or "UNREACHABLE" in out:
        problems.append("the host was contacted (the target was not left alone)")
    assert not problems, "{} {}={}: {}".format(module, option, bad, "; ".join(problems))
