# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad files for every file option of mobile_trust_profile: a clear error naming the option, and
the artifacts already in ``dest`` unchanged (bytes, mode, owner, inode, mtime).

Every file option is read through the shared reader (plugins/module_utils/reader.py) with the
cap of its kind (docs/inputs.md): certificates MAX_CERTIFICATE, keys MAX_KEY.  The files are
real: a 50 MB sparse file, a directory, a PKCS#12 archive made with cryptography, random bytes.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from module_runner import run_in_process

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import apple, inputs, signing, writer
from ansible_collections.trustops.tableau.plugins.modules import mobile_trust_profile

IDENT = "com.example.tableau.inputs"
PASSPHRASE = "Inputs-9d2e4b-Passphrase"
MIB = 1024 * 1024
KEY_BODY = []  # the base64 lines of every private key made here: never in a result


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


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Good inputs, a converged signed dest to copy, and one bad file of each kind."""
    d = tmp_path_factory.mktemp("mobile-bad-inputs")
    root = _issue("Inputs Root CA")
    inter = _issue("Inputs Issuing CA", root)
    signer = _issue("Inputs Profile Signer", inter, ca=False, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    key_pem = signer[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(PASSPHRASE.encode()))
    files = {}

    def put(name, data):
        (d / name).write_bytes(data)
        files[name] = str(d / name)

    put("root.pem", _pem(root[0]))
    put("inter.pem", _pem(inter[0]))
    put("signer.pem", _pem(signer[0]))
    put("signer.key", key_pem)
    KEY_BODY.extend(line for line in key_pem.decode().splitlines() if "-----" not in line)
    cert_pem = _pem(root[0])
    plain_key = root[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    KEY_BODY.extend(line for line in plain_key.decode().splitlines() if "-----" not in line)
    bad = {
        "empty": b"",
        "random bytes": random.Random(11).randbytes(4096),
        "truncated PEM": None,  # per option: half of a good file of its kind
        "PKCS#12": pkcs12.serialize_key_and_certificates(b"x", root[1], root[0], None,
                                                         serialization.BestAvailableEncryption(b"pw")),
        "a private key as the CA": plain_key,
        "a certificate as the key": cert_pem,
    }
    for kind, data in bad.items():
        if data is not None:
            put(kind.replace(" ", "_").replace("#", ""), data)
    put("truncated_cert.pem", cert_pem[:len(cert_pem) // 2])
    put("truncated_key.pem", key_pem[:len(key_pem) // 2])
    with open(str(d / "huge"), "wb") as handle:
        handle.truncate(50 * MIB)  # 50 MB, sparse: costs nothing unless somebody reads it
    files["huge"] = str(d / "huge")
    os.mkdir(str(d / "a_directory"))
    files["a_directory"] = str(d / "a_directory")
    # one byte over the cap of its kind, made of a real PEM plus comment text (PEM allows text around blocks)
    put("cert_over_cap.pem", cert_pem + b"#" * (reader.MAX_CERTIFICATE + 1 - len(cert_pem)))
    put("key_over_cap.pem", key_pem + b"#" * (reader.MAX_KEY + 1 - len(key_pem)))
    return {"dir": d, "files": files}


def _run(args, check=False):
    """The module's result (in process); neither the passphrase nor a key line is in its output."""
    run = run_in_process(mobile_trust_profile.main, args, check=check)
    assert PASSPHRASE not in run.output
    assert not any(line in run.output for line in KEY_BODY), "key material in the result"
    return run.result


def good_args(world, dest):
    f = world["files"]
    return dict(src=[f["root.pem"]], identifier=IDENT, dest=str(dest), signer_cert_src=f["signer.pem"],
                signer_key_src=f["signer.key"], signer_key_passphrase=PASSPHRASE, signer_chain_src=[f["inter.pem"]])


@pytest.fixture(scope="module")
def golden(world, tmp_path_factory):
    """A converged signed dest (profile, .crt, .onc, network_security_config.xml), copied for each test."""
    f = world["files"]
    dest = str(tmp_path_factory.mktemp("golden") / "out")
    cas, _dups = inputs.load_cas([(open(f["root.pem"], "rb").read(), f["root.pem"])])
    with open(f["signer.pem"], "rb") as cert, open(f["signer.key"], "rb") as key, open(f["inter.pem"], "rb") as chain:
        signer = signing.load_signer(cert.read(), key.read(), PASSPHRASE, [(chain.read(), f["inter.pem"])])
    arts = writer.build_artifacts(apple.ProfileSpec(IDENT), cas, ["ios", "android"])
    writer.write(dest, writer.finalize(writer.plan(dest, arts, signer), signer))
    assert len(os.listdir(dest)) == 4
    return dest


def state(dest):
    """Everything a refused run must leave alone: names, bytes, mode, owner, inode, mtime."""
    out = {}
    for name in sorted(os.listdir(dest)):
        st = os.lstat(os.path.join(dest, name))
        with open(os.path.join(dest, name), "rb") as handle:
            out[name] = (handle.read(), st.st_mode, st.st_uid, st.st_gid, st.st_ino, st.st_mtime_ns)
    return out


CERT_OPTIONS = ("src", "signer_cert_src", "signer_chain_src")
KINDS = [
    ("empty", "empty", r"the file is empty"),
    ("random bytes", "random_bytes", r"not PEM or DER|not a PEM or DER|not valid|unreadable|no private key"),
    ("truncated PEM", None, r"truncated or damaged PEM"),
    ("50 MB sparse file", "huge", rf"52428800 bytes, more than the limit of ({reader.MAX_CERTIFICATE}|{reader.MAX_KEY}) bytes"),
    ("directory", "a_directory", r"is a directory, not a file"),
    ("PKCS#12", "PKCS12", r"is a PKCS#12 archive \(\.pfx/\.p12\)"),
    ("a private key as the CA", "a_private_key_as_the_CA", r"holds a private key \(PRIVATE KEY\), not a certificate"),
    ("a certificate as the key", "a_certificate_as_the_key", r"no private key in PEM blocks \(found: CERTIFICATE\)"),
    ("one byte over the cap", None, rf"more than the limit of ({reader.MAX_CERTIFICATE}|{reader.MAX_KEY}) bytes for this input"),
]
CASES = ([(option, kind) for option in CERT_OPTIONS for kind in KINDS if kind[0] != "a certificate as the key"]
         + [("signer_key_src", kind) for kind in KINDS if kind[0] != "a private key as the CA"])


def bad_file(world, option, kind):
    name, fixed = kind[0], kind[1]
    if fixed is not None:
        return world["files"][fixed]
    is_key = option == "signer_key_src"
    if name == "truncated PEM":
        return world["files"]["truncated_key.pem" if is_key else "truncated_cert.pem"]
    return world["files"]["key_over_cap.pem" if is_key else "cert_over_cap.pem"]


@pytest.mark.parametrize("option,kind", CASES, ids=[f"{o}-{k[0]}" for o, k in CASES])
def test_bad_file_is_refused_naming_the_option_and_dest_is_unchanged(world, golden, tmp_path, option, kind):
    path = bad_file(world, option, kind)
    dest = tmp_path / "out"
    shutil.copytree(str(golden), str(dest))
    args = good_args(world, dest)
    if option == "src":
        args["src"] = [world["files"]["root.pem"], path]  # a good file first: the bad one still fails it all
    elif option == "signer_chain_src":
        args["signer_chain_src"] = [world["files"]["inter.pem"], path]
    else:
        args[option] = path
    args["display_name"] = "would change the profile"  # so that a run that got through would write
    before = state(str(dest))
    for check in (True, False):
        res = _run(args, check=check)
        msg = res["msg"]
        assert res.get("failed") and res.get("changed") is not True, res
        assert msg.startswith(f"{option} {path}: "), "the message names the option and the path first: " + msg
        # the path once; a PKCS#12 message repeats it only in the command that extracts the file
        assert msg.count(path) == (2 if kind[0] == "PKCS#12" else 1), msg
        if kind[0] == "PKCS#12":
            assert f"openssl pkcs12 -in {path} " in msg
        assert re.search(kind[2], msg), msg
        assert "Traceback" not in msg and "Traceback" not in json.dumps(res)
        assert state(str(dest)) == before, f"{option} ({kind[0]}) changed the existing artifacts"
    fresh = tmp_path / "fresh"
    res = _run(dict(args, dest=str(fresh)))
    assert res.get("failed") and not fresh.exists(), "not even dest is created"


INLINE = [
    ("content", "", r"^content: the value is empty"),
    ("content", "-----BEGIN CERTIFICATE-----\nMIIB\n", r"^content: truncated or damaged PEM"),
    ("content", "x" * (reader.MAX_CERTIFICATE + 1), rf"^content: {reader.MAX_CERTIFICATE + 1} bytes, more than the limit of {reader.MAX_CERTIFICATE} bytes"),
    ("signer_chain_content", "  \n", r"^signer_chain_content: the value is empty"),
    ("signer_cert_content", "not a certificate", r"^signer_cert_content: not PEM or DER"),
    ("signer_key_content", "x" * (reader.MAX_KEY + 1), rf"^signer_key_content: {reader.MAX_KEY + 1} bytes, more than the limit of {reader.MAX_KEY}"),
]


@pytest.mark.parametrize("option,value,message", INLINE, ids=[f"{o}-{i}" for i, (o, _v, _m) in enumerate(INLINE)])
def test_bad_inline_value_is_refused_through_the_same_reader(world, golden, tmp_path, option, value, message):
    dest = tmp_path / "out"
    shutil.copytree(str(golden), str(dest))
    args = good_args(world, dest)
    if option.startswith("signer_cert") or option.startswith("signer_key"):
        args.pop(option.replace("_content", "_src"))
    args[option] = value
    before = state(str(dest))
    res = _run(args)
    assert res.get("failed") and re.search(message, res["msg"]), res["msg"]
    assert state(str(dest)) == before


def test_oversized_or_special_existing_artifact_is_refused_not_lost(world, golden, tmp_path):
    """An existing file at an artifact's path is read back through the shared reader: a huge one is
    refused (it is no artifact of ours) instead of being replaced and lost, a FIFO is never opened
    for a blocking read."""
    dest = tmp_path / "out"
    shutil.copytree(str(golden), str(dest))
    onc = dest / (IDENT + ".onc")
    onc.unlink()
    with open(str(onc), "wb") as handle:
        handle.truncate(reader.MAX_BUNDLE + 1)
    before = state(str(dest))
    args = dict(good_args(world, dest), display_name="would change the profile")
    res = _run(args)
    assert res.get("failed") and res["changed"] is False
    assert res["msg"].startswith(f"dest {onc}: {reader.MAX_BUNDLE + 1} bytes, more than the limit of "
                                 f"{reader.MAX_BUNDLE} bytes"), res["msg"]
    assert state(str(dest)) == before
    onc.unlink()
    os.mkfifo(str(onc))
    res = _run(args)
    assert res.get("failed") and res["msg"].startswith(f"dest {onc}: is not a regular file"), res["msg"]
    assert os.path.exists(str(onc)) and not os.path.isfile(str(onc))
