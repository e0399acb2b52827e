# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the win_trust_anchor action plugin.

No Windows host exists here, so the tests are contracts around the two ends we control:

1. What we hand to ansible.windows.win_certificate_store is accepted by that module as it is
   installed: its DOCUMENTATION and its PowerShell argument spec are read from the installed
   collection, not restated here.
2. The controller-side decisions (load, policy findings, thumbprint, DER, module arguments)
   with real certificates from the ``pki`` fixture and from openssl (SHA-1, which
   cryptography no longer signs), and openssl as the referee for thumbprints and DER.
3. The real action plugin run by real ansible-playbook:
   - against a Windows inventory host that cannot be reached: a bad certificate fails with
     our message (validation happens on the controller before any connection), a good one
     gets as far as the connection.
No stand-in replaces ansible.windows.win_certificate_store here (the project allows a
stand-in only for Tableau's tsm): the store side is covered by the contract tests above and
by the windows_trust molecule scenario on a real Windows host.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ansible_collections.trustops.tableau.plugins.action import win_trust_anchor as wta
from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import windows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "module_utils"))
from identity_pki import ed25519_root  # noqa: E402  pylint: disable=wrong-import-position,import-error

REPO_ROOT = Path(__file__).resolve().parents[4]
STORE_MODULE_FILE = ("ansible_collections", "ansible", "windows", "plugins", "modules")

DEFAULTS = {name: spec.get("default") for name, spec in wta.ARGUMENT_SPEC.items()}


def params(**kw):
    out = dict(DEFAULTS)
    out.update(kw)
    return out


def openssl(*args, data=None):
    proc = subprocess.run(["openssl"] + list(args), input=data, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def openssl_sha1_thumbprint(pem):
    out = openssl("x509", "-noout", "-fingerprint", "-sha1", data=pem).decode()
    return out.strip().split("=", 1)[1].replace(":", "").upper()


def codes(findings):
    return {(f.code, f.severity) for f in findings}


def read_doc(path, name="DOCUMENTATION"):
    """A module's DOCUMENTATION/RETURN, or a doc fragment's (inside its ModuleDocFragment class)."""
    tree = ast.parse(Path(path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path} has no {name}")


def installed_store_module(ext=".py"):
    """The installed ansible.windows win_certificate_store file (a declared dependency)."""
    for entry in sys.path:
        candidate = Path(entry, *STORE_MODULE_FILE) / ("win_certificate_store" + ext)
        if candidate.is_file():
            return candidate
    pytest.fail("ansible.windows is not installed: it is a dependency in galaxy.yml and the "
                "contract tests read win_certificate_store from it")


# ============================================================================ 1. contract

def ps1_spec(path):
    """Option names and choices from the module's PowerShell $spec (what Ansible.Basic enforces)."""
    text = path.read_text()
    block = text[text.index("options = @{") + len("options = @{"):text.index("required_if")]
    options = {}
    for m in re.finditer(r"^\s*(\w+) = @\{([^}]*)\}", block, re.M):
        body = m.group(2)
        choices = re.search(r'choices = ((?:"\w+",?\s*)+)', body)
        options[m.group(1)] = {
            "type": re.search(r'type = "(\w+)"', body).group(1),
            "choices": re.findall(r'"(\w+)"', choices.group(1)) if choices else None,
        }
    return options, "supports_check_mode = $true" in text


@pytest.fixture(scope="module")
def store_doc():
    return read_doc(installed_store_module(".py"))


@pytest.mark.parametrize("state,kw", [
    ("present", {"path": "C:\\Users\\ansible\\AppData\\Local\\Temp\\x\\trust-anchor.cer"}),
    ("absent", {"thumbprint": "3b1efd3a66ea28b16697394703a72ca340a05bd5"}),
])
def test_store_args_exist_in_installed_documentation(store_doc, state, kw):
    args = windows.store_module_args(state, **kw)
    options = store_doc["options"]
    for name, value in args.items():
        assert name in options, f"{name} is not an option of win_certificate_store"
        spec = options[name]
        expected_type = {"str": str, "path": str, "bool": bool}[spec.get("type", "str")]
        assert isinstance(value, expected_type), (name, value)
        if "choices" in spec:
            assert value in spec["choices"], (name, value, spec["choices"])
    # the documented store name and location are the ones the vendor article names
    assert "C(Root): The X.509 certificate store for trusted root" in " ".join(options["store_name"]["description"])
    assert "LocalMachine" in " ".join(options["store_location"]["description"])
    assert args["store_name"] == "Root" and args["store_location"] == "LocalMachine"
    # required_if of the module: present needs path; absent needs path or thumbprint
    assert ("path" in args) if state == "present" else ("thumbprint" in args)
    assert "file_type" not in args, "file_type is only read by win_certificate_store for state=exported"


@pytest.mark.parametrize("state,kw", [
    ("present", {"path": "C:\\t\\a.cer"}),
    ("absent", {"thumbprint": "A" * 40}),
])
def test_store_args_accepted_by_installed_powershell_spec(state, kw):
    options, check_mode = ps1_spec(installed_store_module(".ps1"))
    assert check_mode, "win_certificate_store no longer supports check mode; our pass-through relies on it"
    args = windows.store_module_args(state, **kw)
    for name, value in args.items():
        assert name in options, f"{name} is not in the module's PowerShell spec"
        if options[name]["choices"]:
            assert value in options[name]["choices"], (name, value)
    # the documentation we check above and the runtime spec agree on option names
    doc = read_doc(installed_store_module(".py"))
    assert set(options) == set(doc["options"])


def test_file_type_is_documented_for_export_only(store_doc):
    """Why we do not pass file_type: the module only reads it for state=exported."""
    text = " ".join(store_doc["options"]["file_type"]["description"])
    assert "when C(state=exported)" in text
    ps1 = installed_store_module(".ps1").read_text()
    present_branch = ps1[ps1.rindex("else {\n        $certs = Get-CertFile"):]
    assert "$file_type" not in present_branch


def test_our_argument_spec_matches_our_documentation():
    """validate-modules cannot see an action plugin's argument spec: check it here."""
    doc = read_doc(REPO_ROOT / "plugins" / "modules" / "win_trust_anchor.py")
    assert doc["module"] == "win_trust_anchor"
    assert str(doc["version_added"]) == "0.1.0"
    # the policy options are documented once, in the shared fragment this module extends
    assert "trustops.tableau.anchor_policy" in doc["extends_documentation_fragment"]
    fragment = read_doc(REPO_ROOT / "plugins" / "doc_fragments" / "anchor_policy.py")["options"]
    assert not set(fragment) & set(doc["options"]), "an option is documented twice"
    options = dict(doc["options"], **fragment)
    assert set(options) == set(wta.ARGUMENT_SPEC)
    for name, spec in wta.ARGUMENT_SPEC.items():
        opt = options[name]
        assert opt.get("type", "str") == spec["type"], name
        assert opt.get("default") == spec.get("default"), name
        assert opt.get("choices") == spec.get("choices"), name
        assert opt.get("elements") == spec.get("elements"), name
    documented = set(re.findall(r"ANCHOR-\d{3}", Path(REPO_ROOT, "docs", "anchor_policy.md").read_text()))
    used = set(re.findall(r"ANCHOR-\d{3}", Path(anchor_policy.__file__).read_text()))
    assert used and used <= documented, used - documented
    assert "anchor_policy.check_anchor" in Path(windows.__file__).read_text()
    returned = read_doc(REPO_ROOT / "plugins" / "modules" / "win_trust_anchor.py", "RETURN")
    assert {"thumbprint", "sha256", "subject", "not_after", "store", "findings"} <= set(returned)


# ============================================================================ 2. pure logic

@pytest.fixture(scope="module")
def sha1_pki(tmp_path_factory):
    """A self-signed root and an intermediate, both signed with SHA-1, made by openssl."""
    d = tmp_path_factory.mktemp("sha1")
    ext = d / "ca.ext"
    ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    openssl("req", "-x509", "-sha1", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "root.key"),
            "-out", str(d / "root.pem"), "-days", "30", "-subj", "/O=trustops test/CN=SHA1 Root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "int.key"),
            "-out", str(d / "int.csr"), "-subj", "/O=trustops test/CN=SHA1 Intermediate")
    openssl("x509", "-req", "-sha1", "-in", str(d / "int.csr"), "-CA", str(d / "root.pem"),
            "-CAkey", str(d / "root.key"), "-set_serial", "4660", "-out", str(d / "int.pem"),
            "-days", "30", "-extfile", str(ext))
    return {"root": (d / "root.pem").read_bytes(), "intermediate": (d / "int.pem").read_bytes()}


def test_root_ca_is_accepted_with_openssl_agreeing(pki):
    root = pki.root(cn="Tableau Root CA")
    decided = windows.plan(params(), root.pem, "root.pem")
    assert not decided["failed"], decided["msg"]
    assert [f for f in decided["findings"] if f.severity != "info"] == []
    assert decided["thumbprint"] == openssl_sha1_thumbprint(root.pem)
    assert decided["der"] == openssl("x509", "-outform", "DER", data=root.pem)
    sha256 = openssl("x509", "-noout", "-fingerprint", "-sha256", data=root.pem).decode().strip().split("=", 1)[1]
    assert decided["facts"]["sha256"] == sha256
    assert decided["facts"]["subject"] == "CN=Tableau Root CA,O=trustops test"
    assert decided["facts"]["not_after"] == root.cert.not_valid_after_utc.isoformat()


def test_leaf_is_refused_unless_allowed(pki, chain):
    leaf = pki.self_signed_leaf()
    refused = windows.plan(params(), leaf.pem, "server.crt")
    assert refused["failed"] and refused["der"] is None
    assert ("ANCHOR-001", "error") in codes(refused["findings"])
    # the failure names the code with its message and the remedy (findings.failure_message)
    assert refused["msg"].startswith("server.crt: refused as a Windows trust anchor: ")
    assert "ANCHOR-001" in refused["msg"] and "Remedy:" in refused["msg"]
    allowed = windows.plan(params(allow_leaf=True), leaf.pem, "server.crt")
    assert not allowed["failed"]
    assert ("ANCHOR-001", "warning") in codes(allowed["findings"])
    assert allowed["der"] == leaf.der
    # a CA-issued leaf with allow_leaf: still only a warning, and it names the subject
    issued = windows.plan(params(allow_leaf=True), chain["leaf"].pem)
    assert not issued["failed"]
    assert "CN=tableau.example.test" in issued["findings"][0].message


def test_expired_is_refused_unless_allowed(pki):
    old = pki.root(cn="Old Root", days=-1, start_days=-400)
    refused = windows.plan(params(), old.pem)
    assert refused["failed"]
    assert ("ANCHOR-002", "error") in codes(refused["findings"])
    allowed = windows.plan(params(allow_expired=True), old.pem)
    assert not allowed["failed"]
    assert ("ANCHOR-002", "warning") in codes(allowed["findings"])


def test_not_yet_valid_is_refused_unless_allowed(pki):
    """Was a warning (WINTRUST-003); the shared policy refuses it like an expired one."""
    future = pki.root(cn="Future Root", start_days=2, days=400)
    refused = windows.plan(params(), future.pem)
    assert refused["failed"] and refused["der"] is None
    assert codes(refused["findings"]) == {("ANCHOR-003", "error")}
    allowed = windows.plan(params(allow_expired=True), future.pem)
    assert not allowed["failed"] and allowed["der"] == future.der
    assert codes(allowed["findings"]) == {("ANCHOR-003", "warning")}


def test_sha1_self_signed_root_is_informational(sha1_pki):
    decided = windows.plan(params(), sha1_pki["root"], "sha1-root.pem")
    assert not decided["failed"], decided["msg"]
    assert codes(decided["findings"]) == {("ANCHOR-009", "info")}
    assert decided["thumbprint"] == openssl_sha1_thumbprint(sha1_pki["root"])


def test_sha1_signed_intermediate_is_refused(sha1_pki):
    decided = windows.plan(params(), sha1_pki["intermediate"], "sha1-int.pem")
    assert decided["failed"]
    assert ("ANCHOR-008", "error") in codes(decided["findings"])
    assert ("ANCHOR-004", "warning") in codes(decided["findings"])   # was WINTRUST-009, info
    assert "SHA1" in decided["msg"]
    # the blocklist is the option: empty accepts it, and spellings are normalised
    assert not windows.plan(params(blocklisted_digests=[]), sha1_pki["intermediate"])["failed"]
    assert windows.plan(params(blocklisted_digests=["SHA-1"]), sha1_pki["intermediate"])["failed"]


def test_sha256_blocklisted_on_request(pki):
    inter = pki.intermediate(pki.root())
    decided = windows.plan(params(blocklisted_digests=["sha256"]), inter.pem)
    assert ("ANCHOR-008", "error") in codes(decided["findings"])


def test_rsa_key_size(pki):
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    small = pki.root(cn="Small Root", key=make_key("rsa", 1024, fresh=True))
    decided = windows.plan(params(), small.pem)
    assert decided["failed"]
    assert ("ANCHOR-005", "error") in codes(decided["findings"])
    assert "1024-bit RSA" in decided["msg"]
    assert not windows.plan(params(min_rsa_key_size=1024), small.pem)["failed"]


def test_ec_curve_size(pki):
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    p256 = pki.root(cn="EC Root", key=make_key("ec", 256, fresh=True))
    assert not windows.plan(params(), p256.pem)["failed"]
    decided = windows.plan(params(min_ec_key_size=384), p256.pem)
    assert ("ANCHOR-006", "error") in codes(decided["findings"])
    assert "secp256r1" in decided["msg"]


def test_ed25519_is_a_warning():
    decided = windows.plan(params(), ed25519_root())
    assert not decided["failed"]
    assert ("ANCHOR-007", "warning") in codes(decided["findings"])


def test_warnings_lead_and_the_delegated_modules_follow():
    """The action's warnings: the findings that do not refuse the certificate, one line each, before
    any warning of ansible.windows.win_certificate_store; none when there is nothing to say."""
    decided = windows.plan(params(), ed25519_root(), "ed.pem")
    lines = wta.warning_lines(wta.failing(decided["findings"], "error")[1])
    assert lines and lines[0].startswith("ANCHOR-007 (warning): ")
    result = wta._warned(dict(windows.task_result(decided), warnings=["from the store module"]), lines)  # pylint: disable=protected-access
    assert result["warnings"] == lines + ["from the store module"]
    assert "warnings" not in wta._warned(windows.task_result(decided), [])  # pylint: disable=protected-access


def test_meaningless_policy_option_is_an_input_error(pki):
    root = pki.root(cn="Option Root")
    with pytest.raises(TrustopsError, match=re.escape("blocklisted_digests: unknown digest 'shaa1'")):
        windows.plan(params(blocklisted_digests=["shaa1"]), root.pem)
    with pytest.raises(TrustopsError, match="min_rsa_key_size: -2048 is negative"):
        windows.plan(params(min_rsa_key_size=-2048), root.pem)
    # removal applies no policy, so its options cannot stop it
    assert not windows.plan(params(state="absent", blocklisted_digests=["shaa1"]), root.pem)["failed"]


def test_all_findings_are_reported_in_one_pass(tmp_path):
    """A leaf that is expired, SHA-1 signed by a CA and 1024-bit: every problem at once."""
    d = tmp_path
    openssl("req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", str(d / "l.key"),
            "-out", str(d / "l.csr"), "-subj", "/CN=bad.example.test")
    # issued by a throw-away CA so that the leaf is not self-signed
    openssl("req", "-x509", "-sha256", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "ca.key"),
            "-out", str(d / "ca.pem"), "-days", "5", "-subj", "/CN=Throwaway CA")
    openssl("x509", "-req", "-sha1", "-in", str(d / "l.csr"), "-CA", str(d / "ca.pem"), "-CAkey",
            str(d / "ca.key"), "-set_serial", "7", "-out", str(d / "l.pem"), "-days", "30")
    # expired: judged a year from now (plan takes the clock as an argument)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365)
    decided = windows.plan(params(), (d / "l.pem").read_bytes(), "bad.pem", now=later)
    assert decided["failed"]
    assert {"ANCHOR-001", "ANCHOR-002", "ANCHOR-008", "ANCHOR-005"} <= {
        f.code for f in decided["findings"] if f.severity == "error"}
    for code in ("ANCHOR-001", "ANCHOR-002", "ANCHOR-008", "ANCHOR-005"):
        assert code in decided["msg"]


def test_inputs_pem_der_pkcs7_agree(pki, tmp_path):
    root = pki.root(cn="Format Root")
    p7_pem = pkcs7.serialize_certificates([root.cert], serialization.Encoding.PEM)
    p7_der = pkcs7.serialize_certificates([root.cert], serialization.Encoding.DER)
    (tmp_path / "r.pem").write_bytes(root.pem)
    p7_openssl = openssl("crl2pkcs7", "-nocrl", "-certfile", str(tmp_path / "r.pem"))
    crlf_with_text = b"Subject: Format Root\r\n" + root.pem.replace(b"\n", b"\r\n")
    inputs = [root.pem, root.der, p7_pem, p7_der, p7_openssl, crlf_with_text, root.pem.decode()]
    results = [windows.plan(params(), data) for data in inputs]
    assert {r["thumbprint"] for r in results} == {openssl_sha1_thumbprint(root.pem)}
    assert {r["der"] for r in results} == {root.der}


@pytest.mark.parametrize("data,expected", [
    (b"", "cert.pem: empty input"),
    (b"this is not a certificate\n", "cert.pem: not PEM or DER"),
    (b"\x30\x03\x02\x01\x00", "cert.pem: not PEM or DER"),
    (b"-----BEGIN CERTIFICATE-----\nMIIB\n", "cert.pem: truncated or damaged PEM"),
])
def test_garbage_is_a_clear_error(data, expected):
    with pytest.raises(CertificateError, match=re.escape(expected)):
        windows.plan(params(), data, "cert.pem")


def test_private_key_and_bundles_are_clear_errors(pki, chain):
    with pytest.raises(CertificateError, match="cert.pem: holds a private key"):
        windows.plan(params(), chain["root"].key_pem(), "cert.pem")
    bundle = chain["root"].pem + chain["intermediate"].pem
    with pytest.raises(CertificateError, match="cert.pem: expected exactly one certificate, found 2"):
        windows.plan(params(), bundle, "cert.pem")
    p7 = pkcs7.serialize_certificates([chain["root"].cert, chain["intermediate"].cert],
                                      serialization.Encoding.DER)
    with pytest.raises(CertificateError, match="found 2"):
        windows.plan(params(state="absent"), p7, "cert.pem")


def test_absent_applies_no_policy(sha1_pki, pki):
    """Removal must work for exactly the certificates one wants gone."""
    expired_leaf = pki.self_signed_leaf(days=-1, start_days=-30)
    for data in (expired_leaf.pem, sha1_pki["intermediate"]):
        decided = windows.plan(params(state="absent"), data)
        assert not decided["failed"] and decided["findings"] == [] and decided["der"] is None
        assert decided["thumbprint"] == openssl_sha1_thumbprint(data)


@pytest.mark.parametrize("given", [
    "3b1efd3a66ea28b16697394703a72ca340a05bd5",
    "3B:1E:FD:3A:66:EA:28:B1:66:97:39:47:03:A7:2C:A3:40:A0:5B:D5",
    "\u200e3b 1e fd 3a 66 ea 28 b1 66 97 39 47 03 a7 2c a3 40 a0 5b d5",
    "3B1EFD3A-66EA28B1-66973947-03A72CA3-40A05BD5",
])
def test_absent_by_thumbprint_forms(given):
    decided = windows.plan(params(state="absent", thumbprint=given), None)
    assert decided["thumbprint"] == "3B1EFD3A66EA28B16697394703A72CA340A05BD5"
    assert decided["facts"] == {"sha256": None, "subject": None, "not_after": None}
    args = windows.store_module_args("absent", thumbprint=given)
    assert args["thumbprint"] == "3B1EFD3A66EA28B16697394703A72CA340A05BD5"


@pytest.mark.parametrize("bad", ["", "3b1efd3a", "Z" * 40, "A" * 64, "3B1EFD3A66EA28B1669739470;A72CA340A05BD5"])
def test_bad_thumbprints(bad):
    with pytest.raises(TrustopsError, match="not a SHA-1 thumbprint"):
        windows.normalize_thumbprint(bad)


def test_store_module_args_refuse_incomplete_calls():
    with pytest.raises(TrustopsError, match="needs the remote path"):
        windows.store_module_args("present")
    with pytest.raises(TrustopsError, match="needs a thumbprint"):
        windows.store_module_args("absent")
    with pytest.raises(TrustopsError, match="present or absent"):
        windows.store_module_args("exported", path="x")
    with pytest.raises(TrustopsError, match="certificate .src or content. is needed"):
        windows.plan(params(), None)


def test_diff_tells_presence_before_and_after():
    t = "A" * 40
    assert windows.diff_for("present", t, True)["before"] == "absent\n"
    assert windows.diff_for("present", t, True, "CN=x")["after"] == "present (CN=x)\n"
    assert windows.diff_for("present", t, False)["before"] == "present\n"
    assert windows.diff_for("absent", t, True)["before"] == "present\n"
    assert windows.diff_for("absent", t, True)["after"] == "absent\n"
    assert windows.diff_for("absent", t, False) == {
        "before_header": "LocalMachine\\Root\\" + t, "after_header": "LocalMachine\\Root\\" + t,
        "before": "absent\n", "after": "absent\n"}


# ============================================================================ 3. ansible-playbook

def ansible_playbook():
    exe = Path(sys.executable).parent / "ansible-playbook"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("ansible-playbook")
    assert found, f"ansible-playbook is not installed next to {sys.executable} nor on PATH"
    return [found]


def collections_dir(tmp_path):
    """ansible_collections/ with this collection (ansible.windows comes from the venv)."""
    root = tmp_path / "collections" / "ansible_collections"
    (root / "trustops").mkdir(parents=True)
    (root / "trustops" / "tableau").symlink_to(REPO_ROOT)
    return tmp_path / "collections"


def run_playbook(tmp_path, playbook, inventory, extra_env=None, args=()):
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    (tmp_path / "pb.yml").write_text(textwrap.dedent(playbook))
    (tmp_path / "inventory.ini").write_text(textwrap.dedent(inventory))
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections_dir(tmp_path)),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local-tmp"),
        "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "PYTHONPATH": "",
    })
    env.update(extra_env or {})
    cmd = ansible_playbook() + ["-i", str(tmp_path / "inventory.ini"), str(tmp_path / "pb.yml")] + list(args)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc, time.monotonic() - started


UNREACHABLE_INVENTORY = """
[windows]
win-winrm ansible_connection=winrm ansible_port=5986 ansible_password=x
win-ssh ansible_connection=ssh ansible_shell_type=powershell

[windows:vars]
ansible_host=192.0.2.1
ansible_user=Administrator
ansible_winrm_connection_timeout=3
ansible_winrm_read_timeout_sec=4
ansible_winrm_operation_timeout_sec=3
ansible_ssh_timeout=3
ansible_ssh_common_args='-o ConnectTimeout=3 -o BatchMode=yes'
"""


def test_bad_certificate_fails_on_the_controller_before_any_connection(pki, sha1_pki, tmp_path):
    leaf = pki.self_signed_leaf()
    (tmp_path / "leaf.pem").write_bytes(leaf.pem)
    (tmp_path / "sha1-int.pem").write_bytes(sha1_pki["intermediate"])
    (tmp_path / "garbage.crt").write_bytes(b"not a certificate")
    (tmp_path / "adir").mkdir()
    with open(tmp_path / "huge.crt", "wb") as handle:
        handle.truncate(reader.MAX_CERTIFICATE + 1)
    proc, elapsed = run_playbook(tmp_path, """
        - hosts: windows
          gather_facts: false
          tasks:
            - name: policy refusal
              trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/leaf.pem"
              register: refused
              ignore_errors: true
            - name: policy refusal beside a warning
              trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/sha1-int.pem"
              register: warned
              ignore_errors: true
            - name: broken input
              trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/garbage.crt"
              register: broken
              ignore_errors: true
            - name: missing file
              trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/missing.crt"
              register: missing
              ignore_errors: true
            - name: a directory
              trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/adir"
              register: directory
              ignore_errors: true
            - name: over the certificate cap
              trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/huge.crt"
              register: huge
              ignore_errors: true
            - name: wrong option combination
              trustops.tableau.win_trust_anchor:
                thumbprint: "{{ 'A' * 40 }}"
              register: combo
              ignore_errors: true
            - name: report
              ansible.builtin.copy:
                content: "{{ {'refused': refused, 'broken': broken, 'missing': missing, 'combo': combo,
                              'directory': directory, 'huge': huge, 'warned': warned} | to_json }}"
                dest: "{{ playbook_dir }}/out-{{ inventory_hostname }}.json"
              delegate_to: localhost
        """, UNREACHABLE_INVENTORY)
    out = proc.stdout + proc.stderr
    assert "UNREACHABLE" not in out, out
    assert re.search(r"\[WARNING\]: ANCHOR-004 \(warning\): ", out), out  # a plain run shows it
    for host in ("win-winrm", "win-ssh"):
        res = json.loads((tmp_path / (f"out-{host}.json")).read_text())
        assert res["refused"]["failed"]
        assert res["refused"]["msg"].startswith(
            f"src {tmp_path}/leaf.pem: refused as a Windows trust anchor: ")
        assert ("error ANCHOR-001: CN=selfsigned.example.test,O=trustops test is not a CA certificate "
                "(no basicConstraints CA:TRUE)") in res["refused"]["msg"]
        assert "warnings" not in res["refused"]  # its one finding refuses it: nothing else to warn about
        # the finding that does not refuse the certificate is a warning of the task, beside the refusal
        assert res["warned"]["failed"] and "ANCHOR-008" in res["warned"]["msg"]
        assert [w for w in res["warned"]["warnings"] if "ANCHOR-004 (warning): " in json.dumps(w)], res["warned"]
        assert [f["code"] for f in res["refused"]["findings"]] == ["ANCHOR-001"]
        assert res["refused"]["thumbprint"] == openssl_sha1_thumbprint(leaf.pem)
        assert "garbage.crt: not PEM or DER" in res["broken"]["msg"]
        assert "missing.crt" in res["missing"]["msg"]
        # the one reader (issue 11): the path once, the cap of a certificate, a directory said so
        assert res["directory"]["msg"] == f"src {tmp_path}/adir: is a directory, not a file", res["directory"]
        assert res["huge"]["msg"].startswith(f"src {tmp_path}/huge.crt: {reader.MAX_CERTIFICATE + 1} bytes, "
                                             f"more than the limit of {reader.MAX_CERTIFICATE} bytes")
        assert res["combo"]["msg"] == "state is present but any of the following are missing: src, content"
        for r in res.values():
            assert not r.get("unreachable") and "winrm or requests" not in r["msg"], r
    # nothing waited for the (unroutable) hosts' connection timeouts
    assert elapsed < 60, elapsed


def test_good_certificate_goes_on_to_the_connection(pki, tmp_path):
    """The counterpart: with a valid CA the same hosts are contacted (and fail to connect)."""
    root = pki.root(cn="Reach Root")
    (tmp_path / "root.pem").write_bytes(root.pem)
    proc, _elapsed = run_playbook(tmp_path, """
        - hosts: windows
          gather_facts: false
          tasks:
            - trustops.tableau.win_trust_anchor:
                src: "{{ playbook_dir }}/root.pem"
        """, UNREACHABLE_INVENTORY)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "ANCHOR-" not in out
    # ssh: unreachable; winrm: unreachable, or pywinrm missing on this controller
    assert re.search(r"win-ssh.*UNREACHABLE", out), out
    assert re.search(r"win-winrm.*(UNREACHABLE|winrm or requests is not installed)", out), out


def test_ansible_doc_renders(tmp_path):
    exe = Path(ansible_playbook()[0]).parent / "ansible-doc"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_dir(tmp_path)), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(exe), "trustops.tableau.win_trust_anchor"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "LocalMachine\\Root" in proc.stdout and "ANCHOR-001" in proc.stdout
    # the shared fragment's options are rendered as this module's
    assert "blocklisted_digests" in proc.stdout and "min_ec_key_size" in proc.stdout
    assert "This module has a corresponding action plugin" in proc.stdout
    assert "[WARNING]" not in proc.stderr, proc.stderr
