# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' controller reads: ansible.builtin.file's text, under the collection's caps (real ansible-playbook)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import reader

BIN = os.path.dirname(sys.executable)
PASSWORD = "lookup-vault-pw-7c1f"


def play(tmp_path, expr):
    """Run one debug task printing ``expr`` as JSON; (rc, text)."""
    book = tmp_path / "play.yml"
    book.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.copy:\n        dest: {}\n        content: \"{{{{ ({}) | to_json }}}}\"\n".format(tmp_path / "out.json", expr), encoding="utf-8")
    pw = tmp_path / "vault-pw"
    pw.write_text(PASSWORD, encoding="utf-8")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_VAULT_PASSWORD_FILE=str(pw))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(book)],
                          capture_output=True, text=True, env=env, timeout=240, check=False)
    out = tmp_path / "out.json"
    value = json.loads(out.read_text(encoding="utf-8")) if proc.returncode == 0 else None
    return proc.returncode, proc.stdout + proc.stderr, value


def test_same_text_as_builtin_file_and_vault_is_decrypted(tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\n  \n")
    der = tmp_path / "crl.der"
    der.write_bytes(bytes(range(1, 256)) + b"\x00\xff\x80")
    secret = tmp_path / "key.vault"
    secret.write_text("-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n", encoding="utf-8")
    (tmp_path / "pw0").write_text(PASSWORD, encoding="utf-8")
    subprocess.run([os.path.join(BIN, "ansible-vault"), "encrypt", "--vault-password-file", str(tmp_path / "pw0"),
                    str(secret)], check=True, capture_output=True)
    assert secret.read_bytes().startswith(b"$ANSIBLE_VAULT")
    expr = (f"[lookup('trustops.tableau.input_file', '{pem}', kind='certificate'), lookup('ansible.builtin.file', '{pem}'),"
            f" lookup('trustops.tableau.input_file', '{der}', kind='crl') | hash('sha256'),"
            f" lookup('ansible.builtin.file', '{der}') | hash('sha256'),"
            f" lookup('trustops.tableau.input_file', '{secret}', kind='key'), lookup('ansible.builtin.file', '{secret}')]")
    rc, text, value = play(tmp_path, expr)
    assert rc == 0, text
    assert value[0] == value[1] == "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
    assert value[2] == value[3]  # staged names derived from either are the same: no re-stage on upgrade
    assert value[4] == value[5] == "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----"


@pytest.mark.parametrize("case", ["huge", "over-by-one", "empty", "directory", "missing", "fifo"])
def test_refused_before_reading_with_the_option_named(tmp_path, case):
    target = tmp_path / "input"
    if case == "huge":
        with open(target, "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
        expected = "52428800 bytes, more than the limit of %d bytes" % reader.MAX_CRL
    elif case == "over-by-one":
        target.write_bytes(b"x" * (reader.MAX_CRL + 1))
        expected = "%d bytes, more than the limit of %d bytes" % (reader.MAX_CRL + 1, reader.MAX_CRL)
    elif case == "empty":
        target.write_bytes(b" \n")
        expected = "the file is empty"
    elif case == "directory":
        target.mkdir()
        expected = "is a directory"
    elif case == "missing":
        expected = "cannot read it"
    else:
        os.mkfifo(target)
        expected = "not a regular file"
    rc, text, _value = play(tmp_path, f"lookup('trustops.tableau.input_file', '{target}', kind='crl', option='mutual_ssl_revocation_src')")
    assert rc != 0
    assert "mutual_ssl_revocation_src" in text and expected in text, text
    assert "Traceback" not in text


def test_vault_file_within_twice_the_cap_decrypts_to_within_the_cap(tmp_path):
    # a key of 40 KiB vaults to ~166 KB on disk, above MAX_KEY, and is still accepted
    secret = tmp_path / "big.key"
    secret.write_text("K" * (40 * 1024), encoding="utf-8")
    pw = tmp_path / "pw0"
    pw.write_text(PASSWORD, encoding="utf-8")
    subprocess.run([os.path.join(BIN, "ansible-vault"), "encrypt", "--vault-password-file", str(pw), str(secret)],
                   check=True, capture_output=True)
    assert os.path.getsize(secret) > reader.MAX_KEY
    rc, text, value = play(tmp_path, f"lookup('trustops.tableau.input_file', '{secret}', kind='key') | length")
    assert rc == 0, text
    assert value == 40 * 1024
    # the same size in plain text is refused (no vault slack for plain files)
    plain = tmp_path / "plain.key"
    plain.write_bytes(b"K" * (reader.MAX_KEY + 10))
    rc, text, _value = play(tmp_path, f"lookup('trustops.tableau.input_file', '{plain}', kind='key')")
    assert rc != 0 and "more than the limit of %d bytes" % reader.MAX_KEY in text, text
