# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The saml_keypair_check module: in-process through AnsibleModule, and once for real with
``ansible localhost -m`` under Debian 12's /usr/bin/python3 (cryptography 38) as a target
runs it, checking that the passphrase never appears in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from module_runner import run_in_process

from ansible_collections.trustops.tableau.plugins.module_utils.saml import sp
from ansible_collections.trustops.tableau.plugins.modules import saml_keypair_check

import saml_idp_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position

SECRET = "Correct-Horse-9f3b"
ANSIBLE = str(Path(sys.executable).with_name("ansible"))
COLLECTIONS = str(Path(sp.__file__).parents[6])
DEBIAN_PYTHON = "/usr/bin/python3"


def run(args, capsys):  # pylint: disable=unused-argument
    ran = run_in_process(saml_keypair_check.main, args)
    return ran.result, ran.output


@pytest.fixture(scope="module")
def files(tmp_path_factory, pki):
    d = tmp_path_factory.mktemp("saml_pair")
    root = pki.root(cn="SAML Module Root")
    leaf = pki.leaf(root, cn="tableau.example.test")
    paths = {
        "crt": d / "saml.crt", "pkcs1": d / "saml.key", "pkcs1_enc": d / "enc-pkcs1.key",
        "pkcs8_enc": d / "enc-pkcs8.key", "pkcs8_empty": d / "empty.key", "pem": d / "saml.pem",
    }
    paths["crt"].write_bytes(leaf.pem)
    paths["pem"].write_bytes(leaf.pem)
    paths["pkcs1"].write_bytes(fx.key_file(leaf.key, "pkcs1"))
    paths["pkcs1_enc"].write_bytes(fx.key_file(leaf.key, "pkcs1", SECRET))
    paths["pkcs8_enc"].write_bytes(fx.key_file(leaf.key, "pkcs8", SECRET))
    paths["pkcs8_empty"].write_bytes(fx.key_file(leaf.key, "pkcs8", ""))
    return {k: str(v) for k, v in paths.items()}


def test_good_pair(files, capsys):
    result, _out = run({"cert_src": files["crt"], "key_src": files["pkcs1"]}, capsys)
    assert not result.get("failed") and result["ok"] is True and result["changed"] is False
    assert result["findings"] == []
    assert result["certificate"]["key_size"] == 2048 and result["key"]["matches_certificate"] is True
    assert result["scope"] == "server"


def test_encrypted_pkcs8_server_ok_site_refused(files, capsys):
    result, out = run({"cert_src": files["crt"], "key_src": files["pkcs8_enc"], "passphrase": SECRET}, capsys)
    assert result["ok"] is True and not result.get("failed")
    assert SECRET not in out
    result, out = run({"cert_src": files["crt"], "key_src": files["pkcs8_enc"], "passphrase": SECRET,
                       "scope": "site"}, capsys)
    assert result["failed"] is True and [f["code"] for f in result["findings"]] == ["SAML-017"]
    assert "SAML-017" in result["msg"] and SECRET not in out


def test_all_findings_and_fail_on(files, capsys):
    args = {"cert_src": files["pem"], "key_src": files["pkcs1_enc"], "passphrase": SECRET, "scope": "site"}
    result, out = run(args, capsys)
    assert result["failed"] is True and result["ok"] is False
    assert [f["code"] for f in result["findings"]] == ["SAML-001", "SAML-014", "SAML-017"]
    for code in ("SAML-001", "SAML-014", "SAML-017"):
        assert code in result["msg"]
    assert SECRET not in out
    result, _out = run(dict(args, fail_on="never"), capsys)
    assert not result.get("failed") and result["ok"] is False and len(result["findings"]) == 3


def test_fail_on_warning(pki, tmp_path, capsys):
    soon = pki.self_signed_leaf(days=5)
    (tmp_path / "soon.crt").write_bytes(soon.pem)
    result, _out = run({"cert_src": str(tmp_path / "soon.crt")}, capsys)
    assert not result.get("failed") and [f["code"] for f in result["findings"]] == ["SAML-009"]
    result, _out = run({"cert_src": str(tmp_path / "soon.crt"), "fail_on": "warning"}, capsys)
    assert result["failed"] is True and result["ok"] is True


def test_wrong_passphrase_is_reported_and_not_echoed(files, capsys):
    result, out = run({"cert_src": files["crt"], "key_src": files["pkcs8_enc"], "passphrase": "Wrong-Guess-77"},
                      capsys)
    assert result["failed"] is True and [f["code"] for f in result["findings"]] == ["SAML-018"]
    assert "wrong passphrase" in result["findings"][0]["message"]
    assert "Wrong-Guess-77" not in out


def test_content_options_and_policy(files, capsys):
    key_text = Path(files["pkcs1"]).read_text()
    result, out = run({"cert_content": Path(files["crt"]).read_text(), "key_content": key_text,
                       "min_rsa_key_size": 4096}, capsys)
    assert [f["code"] for f in result["findings"]] == ["SAML-006"]
    assert result["findings"][0]["data"]["tsm_key"] == "wgserver.saml.min_allowed.rsa_key_size"
    assert key_text.splitlines()[1] not in out  # key_content is no_log


def test_missing_file(tmp_path, capsys):
    result, _out = run({"cert_src": str(tmp_path / "nope.crt")}, capsys)
    assert result["failed"] is True and "nope.crt: cannot read it" in result["msg"]


def test_argument_errors(files, capsys):
    result, _out = run({"cert_src": files["crt"], "cert_content": "x"}, capsys)
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    result, _out = run({}, capsys)
    assert result["failed"] is True and "one of the following is required" in result["msg"]


@pytest.mark.skipif(not os.path.exists(DEBIAN_PYTHON), reason="Debian's /usr/bin/python3 is the target interpreter here")
def test_real_run_with_debian_python(files, tmp_path):
    """ansible localhost -m ... with Debian 12's python3 (cryptography 38) as the target."""
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import cryptography; print(cryptography.__version__)"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    args = {"cert_src": files["crt"], "key_src": files["pkcs8_empty"], "passphrase": SECRET}
    cmd = [ANSIBLE, "localhost", "-m", "trustops.tableau.saml_keypair_check", "-a", json.dumps(args),
           "-e", f"ansible_python_interpreter={DEBIAN_PYTHON}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert SECRET not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["failed"] is True, proc.stdout
    assert [f["code"] for f in result["findings"]] == ["SAML-018", "SAML-016"]
    assert result["key"]["format"] == "pkcs8" and result["key"]["encrypted"] is True
    args = {"cert_src": files["crt"], "key_src": files["pkcs8_enc"], "passphrase": SECRET}
    cmd[5] = json.dumps(args)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["ok"] is True and result["key"]["matches_certificate"] is True, proc.stdout
    assert SECRET not in proc.stdout + proc.stderr
