# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the mobile tests: certificates with exactly the extensions a test needs (and SHA-1
ones from openssl, which cryptography no longer signs), the profile inputs, openssl as the referee.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    apple,
    checks,
    inputs,
    signing,
)

OPENSSL = shutil.which("openssl")
DEBIAN_PYTHON = "/usr/bin/python3"
# .../ansible_collections/trustops/tableau/plugins/module_utils/mobile/inputs.py -> the collections directory
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(inputs.__file__), "..", "..", "..", "..", "..", ".."))
IDENT = "com.example.tableau.ca-trust"


def build(cn, issuer=None, key=None, ca=True, days=365, start_days=-1, digest=None, with_cn=True,
          key_usage=None, eku=None):
    """A certificate with exactly the extensions a test needs (conftest's pki covers the usual)."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops mobile test")]
    if with_cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    name = x509.Name(attrs)
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer[0].subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=start_days))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if key_usage is not None:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature="digital_signature" in key_usage, content_commitment=False,
            key_encipherment="key_encipherment" in key_usage, data_encipherment=False, key_agreement=False,
            key_cert_sign="key_cert_sign" in key_usage, crl_sign="key_cert_sign" in key_usage,
            encipher_only=False, decipher_only=False), critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    cert = builder.sign(issuer[1] if issuer else key, digest or hashes.SHA256())
    return cert, key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, passphrase=None):
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def openssl_sha1(tmp_path, cn, issuer=None, ca=True):
    """A SHA-1 signed certificate: cryptography refuses to make one, openssl still does."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / (f"{abs(hash(cn))}.key")
    key_file.write_bytes(key_pem(key))
    ext = tmp_path / "sha1.ext"
    ext.write_text("basicConstraints=critical,CA:{}\nkeyUsage=critical,{}\n".format(
        "TRUE" if ca else "FALSE", "keyCertSign,cRLSign" if ca else "digitalSignature"))
    out = tmp_path / (f"{abs(hash(cn))}.pem")
    subj = f"/O=trustops mobile test/CN={cn}"
    if issuer is None:
        argv = [
            "req",
            "-x509",
            "-new",
            "-key",
            str(key_file),
            "-sha1",
            "-days",
            "400",
            "-subj",
            subj,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-out",
            str(out),
        ]
    else:
        csr = tmp_path / "sha1.csr"
        res = openssl("req", "-new", "-key", str(key_file), "-subj", subj, "-out", str(csr))
        assert res.returncode == 0, res.stderr
        ca_file = tmp_path / "sha1-issuer.pem"
        ca_file.write_bytes(pem(issuer[0]))
        ca_key = tmp_path / "sha1-issuer.key"
        ca_key.write_bytes(key_pem(issuer[1]))
        argv = [
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca_file),
            "-CAkey",
            str(ca_key),
            "-sha1",
            "-set_serial",
            "77",
            "-days",
            "400",
            "-extfile",
            str(ext),
            "-out",
            str(out),
        ]
    res = openssl(*argv)
    assert res.returncode == 0, res.stderr
    cert = certs.load_certificate(out.read_bytes())
    assert certs.signature_hash(cert) == "sha1"
    return cert, key


def cas_of(*pairs, include_intermediates=False):
    blob = b"".join(pem(p[0]) for p in pairs)
    cas, _dups = inputs.load_cas([(blob, "test.pem")])
    return checks.selected(cas, include_intermediates)


def spec(**kw):
    return apple.ProfileSpec(IDENT, **kw)


def signer_of(world, name="signer", chain=("inter",)):
    cert, key = world[name]
    return signing.Signer(cert, key, [world[c][0] for c in chain])


def openssl(*argv, data=None):
    assert OPENSSL, "openssl is required by this test (independent referee)"
    return subprocess.run([OPENSSL] + list(argv), input=data, capture_output=True, check=False)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def codes(findings):
    return [f.code for f in findings]
