# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mobile_trust_profile module: in-process through AnsibleModule, and once through ansible itself.

``openssl cms -verify`` judges the signed profiles; ``plistlib`` and ``json`` read the rest back.
Refused input must leave ``dest`` exactly as it was (or absent).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys

import pytest
from module_runner import run_in_process
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.modules import mobile_trust_profile

OPENSSL = shutil.which("openssl")
ANSIBLE = shutil.which("ansible") or os.path.join(os.path.dirname(sys.executable), "ansible")
DEBIAN_PYTHON = "/usr/bin/python3"
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(certs.__file__), "..", "..", "..", "..", ".."))
IDENT = "com.example.tableau.ca-trust"
PASSPHRASE = "Sesame-7f3a1c-open"


def _issue(cn, issuer=None, ca=True, days=365, start_days=-1, eku=None):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops module test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer[0].subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=start_days))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mobile-inputs")
    root = _issue("Module Mobile Root CA")
    inter = _issue("Module Mobile Issuing CA", root)
    signer = _issue("Module Profile Signer", inter, ca=False, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    leaf = _issue("tableau.example.test", inter, ca=False, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    expired = _issue("Module Expired Root", days=-1, start_days=-20)
    out = {"dir": d, "root_cert": root[0], "signer_cert": signer[0]}

    def put(name, data):
        (d / name).write_bytes(data)
        out[name] = str(d / name)

    put("root.pem", root[0].public_bytes(serialization.Encoding.PEM))
    put("root.der", root[0].public_bytes(serialization.Encoding.DER))
    put("inter.pem", inter[0].public_bytes(serialization.Encoding.PEM))
    put("signer.pem", signer[0].public_bytes(serialization.Encoding.PEM))
    put("signer.key", signer[1].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    put("other.key", root[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    put("leaf.pem", leaf[0].public_bytes(serialization.Encoding.PEM))
    put("expired.pem", expired[0].public_bytes(serialization.Encoding.PEM))
    put("garbage.pem", b"-- this is not a certificate --\n")
    # a SHA-1 self-signed root: cryptography refuses to sign one, openssl still does
    res = subprocess.run([OPENSSL, "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-sha1", "-days", "400",
                          "-keyout", str(d / "sha1root.key"), "-out", str(d / "sha1root.pem"),
                          "-subj", "/CN=Module SHA-1 Root", "-addext", "basicConstraints=critical,CA:TRUE"],
                         capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    out["sha1root.pem"] = str(d / "sha1root.pem")
    return out


@pytest.fixture
def run():
    """mobile_trust_profile's main() in this process, as a module (tests/support/module_runner.py)."""
    def _run(check=False, diff=False, **args):
        out = run_in_process(mobile_trust_profile.main, args, check=check, diff=diff).output
        assert PASSPHRASE not in out, "the key passphrase leaked into the result"
        assert "PRIVATE KEY" not in out
        return json.loads(out)
    return _run


def signed_args(files, dest, **extra):
    args = dict(src=[files["root.pem"]], identifier=IDENT, dest=str(dest), organization="Example Corp",
                consent_text={"default": "Install the Example root CA?", "de": "Root-CA installieren?"},
                signer_cert_src=files["signer.pem"], signer_key_src=files["signer.key"],
                signer_key_passphrase=PASSPHRASE, signer_chain_src=[files["inter.pem"]])
    args.update(extra)
    return args


def snapshot(dest):
    if not os.path.exists(dest):
        return None
    out = {}
    for name in sorted(os.listdir(dest)):
        st = os.stat(os.path.join(dest, name))
        with open(os.path.join(dest, name), "rb") as handle:
            out[name] = (handle.read(), st.st_ino, st.st_mtime_ns)
    return out


def openssl_verify(path, ca_file):
    return subprocess.run([OPENSSL, "cms", "-verify", "-inform", "DER", "-in", path, "-CAfile", ca_file],
                          capture_output=True, check=False)


def test_signed_run_then_converged_run_touches_nothing(files, run, tmp_path):
    dest = tmp_path / "out"
    res = run(**signed_args(files, dest))
    assert res["changed"] and not res.get("failed"), res
    # the signer chains to the very root the profile installs: "Not Verified" until trusted by hand
    assert [f["code"] for f in res["findings"]] == ["MOBILE-012"]
    profile = res["profile"]
    assert profile["signed"] and profile["resigned"] and profile["identifier"] == IDENT
    assert profile["path"] == str(dest / (IDENT + ".mobileconfig"))
    assert profile["signer"]["sha256"] == certs.fingerprint(files["signer_cert"])
    assert sorted(os.listdir(dest)) == sorted(os.path.basename(f["path"]) for f in res["files"])
    assert [f["action"] for f in res["files"]] == ["create"] * 4
    verified = openssl_verify(profile["path"], files["root.pem"])
    assert verified.returncode == 0, verified.stderr
    content = plistlib.loads(verified.stdout)
    assert content["PayloadUUID"] == profile["uuid"]
    assert content["ConsentText"]["de"] == "Root-CA installieren?"
    assert content["PayloadContent"][0]["PayloadContent"] == files["root_cert"].public_bytes(
        serialization.Encoding.DER)
    (cert,) = res["certificates"]
    assert cert["sha256"] == certs.fingerprint(files["root_cert"]) and cert["role"] == "root"
    with open(os.path.join(dest, cert["android_file"]), "rb") as handle:
        assert x509.load_der_x509_certificate(handle.read()) == files["root_cert"]
    assert res["android"]["crt_paths"] == [str(dest / cert["android_file"])]
    with open(res["android"]["onc_path"]) as handle:
        onc = json.load(handle)
    assert onc["Certificates"][0]["GUID"] == cert["onc_guid"]

    before = snapshot(str(dest))
    again = run(**signed_args(files, dest))
    assert not again["changed"] and again["reasons"] == [], again
    assert again["profile"]["resigned"] is False and again["profile"]["signed"] is True
    assert [f["action"] for f in again["files"]] == ["keep"] * 4
    for entry in again["files"]:  # the reported SHA-256 is the file's, also for the kept signed profile
        with open(entry["path"], "rb") as handle:
            assert entry["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert snapshot(str(dest)) == before, "a converged run rewrote a file (same inode and mtime expected)"


def test_content_change_resigns_the_profile_only(files, run, tmp_path):
    dest = tmp_path / "out"
    run(**signed_args(files, dest))
    before = snapshot(str(dest))
    res = run(**signed_args(files, dest, display_name="Example Tableau trust v2"))
    assert res["changed"] and res["profile"]["resigned"]
    changed = [f for f in res["files"] if f["changed"]]
    assert [f["kind"] for f in changed] == ["profile"]
    assert res["reasons"] == ["{}: the profile content changed".format(res["profile"]["path"])]
    after = snapshot(str(dest))
    assert {k for k in after if after[k] != before[k]} == {IDENT + ".mobileconfig"}
    verified = openssl_verify(res["profile"]["path"], files["root.pem"])
    assert verified.returncode == 0 and b"Example Tableau trust v2" in verified.stdout


def test_tampered_profile_is_resigned(files, run, tmp_path):
    dest = tmp_path / "out"
    first = run(**signed_args(files, dest))
    path = first["profile"]["path"]
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    data[-3] ^= 0x55  # inside the signature
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    assert openssl_verify(path, files["root.pem"]).returncode != 0
    res = run(**signed_args(files, dest))
    assert res["changed"] and res["profile"]["resigned"]
    assert "the existing signature is invalid" in res["reasons"][0]
    assert openssl_verify(path, files["root.pem"]).returncode == 0


def test_check_mode_and_diff_write_nothing(files, run, tmp_path):
    dest = tmp_path / "out"
    res = run(check=True, diff=True, **signed_args(files, dest))
    assert res["changed"] and not os.path.exists(dest)
    assert res["profile"]["resigned"] is True
    diffs = res["diff"]
    assert [d["after_header"] for d in diffs] == [f["path"] for f in res["files"]]
    assert diffs[0]["after"].startswith("# CMS SignedData, signer CN=Module Profile Signer")
    assert "<string>com.apple.security.root</string>" in diffs[0]["after"]
    # converged: check mode says no change, and the diff is empty
    run(**signed_args(files, dest))
    before = snapshot(str(dest))
    res = run(check=True, diff=True, **signed_args(files, dest, organization="Renamed Corp"))
    assert res["changed"] and [d["after_header"] for d in res["diff"]] == [str(dest / (IDENT + ".mobileconfig"))]
    assert "Renamed Corp" in res["diff"][0]["after"] and "Renamed Corp" not in res["diff"][0]["before"]
    assert "signature valid" in res["diff"][0]["before"]
    assert snapshot(str(dest)) == before
    res = run(check=True, diff=True, **signed_args(files, dest))
    assert not res["changed"] and res["diff"] == []


def test_converged_signed_run_never_reads_the_key(files, run, tmp_path):
    """The key is read only when a profile is (re-)signed: a converged run succeeds with the key file
    gone; a needed re-sign (check mode too) reads it and fails clearly when it cannot be read or
    decrypted, leaving dest as it was."""
    dest = tmp_path / "out"
    key = tmp_path / "signer.key"
    shutil.copy(files["signer.key"], key)
    assert run(**signed_args(files, dest, signer_key_src=str(key)))["changed"]
    before = snapshot(str(dest))
    key.rename(tmp_path / "away.key")
    for check in (False, True):
        res = run(check=check, diff=check, **signed_args(files, dest, signer_key_src=str(key)))
        assert not res.get("failed") and not res["changed"] and res["profile"]["signed"], res
        assert res["signer"]["subject"] == "CN=Module Profile Signer,O=trustops module test"
        assert snapshot(str(dest)) == before
    for check in (True, False):
        res = run(check=check, **signed_args(files, dest, signer_key_src=str(key), organization="Re-signed Corp"))
        assert res["failed"] and res["msg"] == f"signer_key_src {key}: cannot read it (No such file or directory); nothing was written", res
        assert snapshot(str(dest)) == before
    (tmp_path / "away.key").rename(key)
    for check in (True, False):
        res = run(check=check, **signed_args(files, dest, signer_key_src=str(key), organization="Re-signed Corp",
                                             signer_key_passphrase="not-the-passphrase"))
        assert res["failed"] and re.search(rf"^signer_key_src {re.escape(str(key))}: .*wrong passphrase", res["msg"]), res
        assert snapshot(str(dest)) == before
    res = run(**signed_args(files, dest, signer_key_src=str(key), organization="Re-signed Corp"))
    assert res["changed"] and res["profile"]["resigned"] and openssl_verify(res["profile"]["path"], files["root.pem"]).returncode == 0


BAD = [
    ("a leaf certificate", {"src": ["leaf.pem"]}, r"error ANCHOR-001: .*leaf\.pem: .*not a CA certificate"),
    ("garbage", {"src": ["garbage.pem"]}, r"garbage\.pem: not PEM or DER"),
    ("an expired CA", {"src": ["expired.pem"]}, r"error ANCHOR-002: .*expired\.pem: .*expired"),
    ("a wrong key passphrase", {"signer_key_passphrase": "not-the-passphrase"}, r"wrong passphrase"),
    ("a key of another certificate", {"signer_key_src": "other.key", "signer_key_passphrase": None},
     r"other\.key does not belong to .*signer\.pem"),
    ("a missing CA file", {"src": ["missing.pem"]}, r"^src .*missing\.pem: cannot read it \(No such file or directory\)$"),
    ("a bad identifier", {"identifier": "not reverse dns"}, r"not a reverse-DNS name"),
    ("an unknown digest name", {"blocklisted_digests": ["sha-one"]}, r"unknown digest 'sha-one'"),
    ("a misspelt digest [shaone]", {"blocklisted_digests": ["shaone"]},
     r"^blocklisted_digests: unknown digest 'shaone' \(known: .*sha1.*\); nothing was written$"),
    ("a misspelt digest among good ones", {"blocklisted_digests": ["sha1", "md5", "sha_one"]},
     r"^blocklisted_digests: unknown digest 'sha_one'"),
    ("a negative EC size", {"min_ec_key_size": -256}, r"min_ec_key_size: -256 is negative"),
    ("a SHA-1 self-signed root", {"src": ["sha1root.pem"]},
     r"error ANCHOR-009: .*sha1root\.pem: .*self-signed with blocklisted digest SHA1.* Remedy: .*SHA-256"),
    ("a negative key size", {"min_rsa_key_size": -1}, r"min_rsa_key_size: -1 is negative"),
]


@pytest.mark.parametrize("what,change,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_fails_clearly_and_leaves_dest_alone(files, run, tmp_path, what, change, message):
    for key in ("src", "signer_key_src"):
        if key in change:
            value = change[key]
            change = dict(change, **{key: [os.path.join(str(files["dir"]), v) for v in value]
                                     if isinstance(value, list) else os.path.join(str(files["dir"]), value)})
    fresh = tmp_path / "fresh"
    res = run(**signed_args(files, fresh, **change))
    assert res["failed"] and re.search(message, res["msg"]), (what, res["msg"])
    assert res.get("changed") is not True and "Traceback" not in res["msg"]
    assert not os.path.exists(fresh), f"no partial files (not even the directory) after {what}"
    # an existing, converged directory is left exactly as it was
    dest = tmp_path / "existing"
    run(**signed_args(files, dest))
    before = snapshot(str(dest))
    if any(key.startswith("signer_key") for key in change):
        # a converged run does not need the key: it neither reads nor checks it, and succeeds
        res = run(**signed_args(files, dest, **change))
        assert not res.get("failed") and not res["changed"] and snapshot(str(dest)) == before, res
        change = dict(change, organization="Changed Corp")  # now the profile must be re-signed: the key is needed
    res = run(**signed_args(files, dest, **change))
    assert res["failed"] and re.search(message, res["msg"]) and snapshot(str(dest)) == before, res


def test_fail_on_never_writes_a_self_signed_leaf_with_findings(files, run, tmp_path, pki):
    selfsigned = pki.self_signed_leaf()
    res = run(content=selfsigned.pem.decode(), identifier=IDENT, dest=str(tmp_path / "o"), fail_on="never",
              platforms=["ios"])
    assert res["changed"] and not res.get("failed")
    assert [(f["code"], f["severity"]) for f in res["findings"]] == [("ANCHOR-001", "error")]
    assert "allow_leaf" not in res["findings"][0]["remedy"]
    assert res["android"] is None and res["profile"]["signed"] is False
    with open(res["profile"]["path"], "rb") as handle:
        assert plistlib.load(handle)["PayloadContent"][0]["PayloadType"] == "com.apple.security.root"


def test_sha1_root_is_accepted_only_when_sha1_is_not_blocklisted(files, run, tmp_path):
    """Mobile's one difference from the shared trust-anchor policy, end to end through the module."""
    args = dict(src=[files["sha1root.pem"]], identifier=IDENT, dest=str(tmp_path / "o"), platforms=["ios"])
    res = run(**args)
    assert res["failed"] and not os.path.exists(tmp_path / "o")
    assert [(f["code"], f["severity"]) for f in res["findings"]] == [("ANCHOR-009", "error")]
    assert res["findings"][0]["data"]["digest"] == "sha1" and "iOS 13" in res["findings"][0]["message"]
    res = run(blocklisted_digests=[], **args)
    assert res["changed"] and not res.get("failed") and res["findings"] == []


def test_warning_threshold_and_intermediates(files, run, tmp_path):
    args = dict(src=[files["root.pem"], files["inter.pem"]], identifier=IDENT, dest=str(tmp_path / "o"))
    res = run(fail_on="warning", **args)
    assert res["failed"] and "warning MOBILE-008: " in res["msg"] and not os.path.exists(tmp_path / "o")
    assert "Remedy: " in res["msg"] and res["msg"].endswith("; nothing was written"), res["msg"]
    res = run(**args)  # below fail_on, the same finding is a warning of a task that writes the files
    assert res["changed"] and "MOBILE-008 (warning): " in json.dumps(res.get("warnings", [])), res.get("warnings")
    shutil.rmtree(tmp_path / "o")
    res = run(include_intermediates=True, **args)
    assert res["changed"] and [c["role"] for c in res["certificates"]] == ["root", "intermediate"]
    assert [c["payload_type"] for c in res["certificates"]] == ["com.apple.security.root",
                                                                "com.apple.security.pkcs1"]
    assert len(res["android"]["crt_paths"]) == 2


def test_android_only_with_domains_and_der_source(files, run, tmp_path):
    res = run(src=[files["root.der"]], identifier=IDENT, name="tableau-ca", dest=str(tmp_path / "o"),
              platforms=["android"], android_domains=["tableau.example.test"],
              signer_cert_src=files["signer.pem"], signer_key_src=files["signer.key"],
              signer_key_passphrase=PASSPHRASE)
    assert res["changed"] and res["profile"] is None
    assert sorted(os.listdir(tmp_path / "o")) == sorted(
        [res["certificates"][0]["android_file"], "tableau-ca.onc", "network_security_config.xml"])
    assert "ios is not in platforms" in json.dumps(res.get("warnings", []))
    with open(res["android"]["network_security_config_path"]) as handle:
        assert '<domain includeSubdomains="false">tableau.example.test</domain>' in handle.read()


def test_signer_needs_cert_and_key(files, run, tmp_path):
    res = run(src=[files["root.pem"]], identifier=IDENT, dest=str(tmp_path / "o"), signer_cert_src=files["signer.pem"])
    assert res["failed"] and "needs both the signer certificate" in res["msg"]
    res = run(src=[files["root.pem"]], identifier=IDENT, dest=str(tmp_path / "o"), signer_key_src=files["signer.key"],
              signer_key_passphrase=PASSPHRASE)
    assert res["failed"] and "needs both the signer certificate" in res["msg"] and PASSPHRASE not in res["msg"]
    assert not os.path.exists(tmp_path / "o")


def test_through_ansible_with_debian_python(files, tmp_path):
    """The real module path: ansible runs it with Debian 12's python3 (cryptography 38), twice."""
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"no {DEBIAN_PYTHON} on this machine")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"), ANSIBLE_HOME=str(tmp_path / "ansible-home"))
    args = signed_args(files, tmp_path / "deb")
    results = []
    for _round in range(2):
        proc = subprocess.run([ANSIBLE, "localhost", "-m", "trustops.tableau.mobile_trust_profile", "-a",
                               json.dumps(args), "-e", f"ansible_python_interpreter={DEBIAN_PYTHON}", "-v"],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert PASSPHRASE not in proc.stdout + proc.stderr
        match = re.search(r"^localhost \| (SUCCESS|FAILED!|CHANGED) => (\{.*\})\s*$", proc.stdout, re.S | re.M)
        assert match, proc.stdout + proc.stderr
        results.append((match.group(1), json.loads(match.group(2))))
    (status1, first), (status2, second) = results
    assert status1 == "CHANGED" and first["profile"]["resigned"], first
    assert status2 == "SUCCESS" and not second["changed"] and not second["profile"]["resigned"], second
    assert openssl_verify(first["profile"]["path"], files["root.pem"]).returncode == 0
