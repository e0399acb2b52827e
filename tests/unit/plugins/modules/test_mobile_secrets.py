# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets scan: mobile_trust_profile run by ansible-playbook with -vvv --diff on localhost.

The signer key passphrase, the PEM bodies of the signer keys (encrypted file and inline
unencrypted key) and the key's DER in base64 must appear nowhere: not in the complete output
of check, create, change and failing runs (registered results printed with debug), and not in
any file the runs leave behind (dest, Ansible's home and temporary directories).
"""

from __future__ import annotations

import base64
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from module_runner import run_playbook

PASSPHRASE = "Mobile-Secret-c41f0e2b97"


def _issue(cn, issuer=None, ca=True, eku=None):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer[0].subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def _secrets(key, encrypted_pem, plain_pem):
    """Every string that would betray the key: the passphrase, each base64 line of both PEM forms,
    and the whole DER in one base64 string (as a JSON dump of the bytes would show it)."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    lines = [line for pem in (encrypted_pem, plain_pem) for line in pem.decode().splitlines() if "-----" not in line]
    return [PASSPHRASE, base64.b64encode(der).decode()] + [line for line in lines if len(line) >= 16]


def test_no_secret_in_vvv_diff_output_or_written_files(tmp_path):
    root = _issue("Secrets Root CA")
    signer = _issue("Secrets Profile Signer", root, ca=False, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    other = _issue("Secrets Other Signer", root, ca=False, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    encrypted = signer[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.BestAvailableEncryption(PASSPHRASE.encode()))
    plain = signer[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "root.pem").write_bytes(root[0].public_bytes(serialization.Encoding.PEM))
    (inputs / "signer.pem").write_bytes(signer[0].public_bytes(serialization.Encoding.PEM))
    (inputs / "other.pem").write_bytes(other[0].public_bytes(serialization.Encoding.PEM))
    (inputs / "signer.key").write_bytes(encrypted)
    (inputs / "plain.key").write_bytes(plain)
    (inputs / "vault.yml").write_text(f"passphrase: {PASSPHRASE}\n")  # what a vault file would hold
    work = tmp_path / "work"
    dest = work / "dest"
    common = ("      src: [{}]\n      identifier: com.example.tableau.secrets\n      dest: {}\n"
              "      signer_cert_src: {}\n".format(inputs / "root.pem", dest, inputs / "signer.pem"))
    play = (
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        # the encrypted key file and its passphrase
        "  - trustops.tableau.mobile_trust_profile:\n"
        + common
        + "      signer_key_src: %s\n      signer_key_passphrase: '{{ passphrase }}'\n      display_name: '{{ name }}'\n"
        % (inputs / "signer.key")
        + "    register: by_file\n  - ansible.builtin.debug: {var: by_file}\n"
        # the key inline (unencrypted PEM text), with a passphrase given anyway
        "  - trustops.tableau.mobile_trust_profile:\n"
        + common
        + "      signer_key_content: \"{{ lookup('ansible.builtin.file', '%s') }}\"\n"
        "      signer_key_passphrase: '{{ passphrase }}'\n      display_name: '{{ name }} inline'\n"
        % (inputs / "plain.key")
        + "    register: inline\n  - ansible.builtin.debug: {{var: inline}}\n"
        # a failing run: the key does not belong to the certificate (messages name files, never the key)
        "  - trustops.tableau.mobile_trust_profile:\n      src: [{}]\n      identifier: com.example.tableau.secrets\n"
        "      dest: {}\n      signer_cert_src: {}\n      signer_key_src: {}\n      signer_key_passphrase: '{{{{ passphrase }}}}'\n".format(
            inputs / "root.pem", dest, inputs / "other.pem", inputs / "signer.key"
        )
        + "    register: failing\n    ignore_errors: true\n  - ansible.builtin.debug: {var: failing}\n"
    )
    # Ansible's home, temporary directories and log are under work/, which is scanned below
    env = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_LOG_PATH": str(work / "ansible.log"),
           "ANSIBLE_STDOUT_CALLBACK": "default"}
    outputs = []
    runs = [("check", ["--check"], "v1"), ("create", [], "v1"), ("change", [], "v2"), ("converged", [], "v2")]
    for label, extra, name in runs:
        rc, text = run_playbook(work, play, {"name": name}, env=env, timeout=300,
                                options=["-vvv", "--diff", "-e", f"@{inputs / 'vault.yml'}"] + extra)
        assert rc == 0, (label, text[-4000:])
        outputs.append((label, text))
    create, change = outputs[1][1], outputs[2][1]
    # the runs did what they should, so the scan looked at real results and diffs
    assert len(os.listdir(str(dest))) == 4, "the profile and the Android files were written"
    assert "does not belong to" in create and "signer_key_src %s" % (inputs / "signer.key") in create
    assert "+++ after: %s" % (dest / "com.example.tableau.secrets.mobileconfig") in change
    assert "# CMS SignedData, signer CN=Secrets Profile Signer" in change
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in create  # the inline key and passphrase, masked
    secrets = _secrets(signer[1], encrypted, plain)
    for label, text in outputs:
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{label} run printed key material or the passphrase: {leaked[:3]}"
    # every file the runs wrote or left behind, and the playbook (inputs excepted: they hold the key by design)
    scanned = 0
    for top in (work,):
        for folder, _dirs, names in os.walk(str(top)):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as handle:
                    data = handle.read()
                scanned += 1
                leaked = [s for s in secrets if s.encode() in data]
                assert not leaked, f"{path} holds key material or the passphrase"
    assert scanned >= 5, "dest (4 files), the playbook and the log were scanned"
    assert os.path.getsize(str(work / "ansible.log")) > 0
