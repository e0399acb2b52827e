# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""certs.load_crls / certs.crl_signed_by against CRLs made by the real ``openssl ca -gencrl``.

Every CRL here comes from an openssl CA directory (``openssl req -x509``, ``openssl ca
-revoke``, ``openssl ca -gencrl``) and is converted with ``openssl crl``; ``openssl crl -text``
is the referee of what each CRL says.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

OPENSSL = shutil.which("openssl")

CONFIG = """\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {dir}
database = $dir/index.txt
crlnumber = $dir/crlnumber
serial = $dir/serial
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 7
default_days = 30
policy = policy_any
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""


def openssl(*args, data=None):
    assert OPENSSL, "the openssl command makes and referees the CRLs of these tests; install it"
    proc = subprocess.run([OPENSSL] + [str(a) for a in args], input=data, capture_output=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("openssl {} failed: {}".format(" ".join(map(str, args)), proc.stderr.decode()))
    return proc.stdout


class OpensslCA:
    """An ``openssl ca`` directory: a self-signed CA, revocations, CRLs."""

    def __init__(self, directory, cn, key_args=("-newkey", "rsa:2048"), reuse_key=None):
        self.dir = directory
        directory.mkdir()
        (directory / "index.txt").write_text("")
        (directory / "crlnumber").write_text("1000\n")
        (directory / "serial").write_text("01\n")
        self.config = directory / "ca.cnf"
        self.config.write_text(CONFIG.format(dir=directory))
        key = ("-key", reuse_key) if reuse_key else tuple(key_args) + ("-nodes", "-keyout", directory / "ca.key")
        if reuse_key:
            shutil.copy(reuse_key, directory / "ca.key")
        openssl("req", "-config", self.config, "-x509", "-new", *key, "-subj", f"/CN={cn}",
                "-days", "30", "-extensions", "v3_ca", "-out", directory / "ca.pem")
        self.key = directory / "ca.key"
        self.cert = certs.load_certificate((directory / "ca.pem").read_bytes())

    def revoke(self, name):
        """A leaf issued by this CA (openssl ca), then revoked; returns its serial number."""
        key_args = ("-newkey", "rsa:2048", "-nodes", "-keyout", self.dir / (name + ".key"))
        openssl("req", "-config", self.config, "-new", *key_args, "-subj", f"/CN={name}", "-out", self.dir / (name + ".csr"))
        openssl("ca", "-config", self.config, "-batch", "-notext", "-in", self.dir / (name + ".csr"),
                "-out", self.dir / (name + ".pem"))
        openssl("ca", "-config", self.config, "-revoke", self.dir / (name + ".pem"))
        return certs.load_certificate((self.dir / (name + ".pem")).read_bytes()).serial_number

    def gencrl(self, outform="PEM"):
        pem = openssl("ca", "-config", self.config, "-gencrl")
        if outform == "PEM":
            return pem
        return openssl("crl", "-inform", "PEM", "-outform", outform, data=pem)


def referee_serials(crl_pem):
    """The revoked serial numbers as ``openssl crl -text`` prints them."""
    text = openssl("crl", "-noout", "-text", data=crl_pem).decode()
    return sorted(int(s, 16) for s in re.findall(r"Serial Number: ([0-9A-Fa-f]+)", text))


@pytest.fixture(scope="module")
def cas(tmp_path_factory):
    base = tmp_path_factory.mktemp("crl")
    clients = OpensslCA(base / "clients", "Client CA")
    revoked = [clients.revoke("alice"), clients.revoke("bob")]
    other = OpensslCA(base / "other", "Other CA")
    other_revoked = [other.revoke("carol")]
    # the same subject as the client CA, another key: a CRL that only claims the name
    impostor = OpensslCA(base / "impostor", "Client CA")
    impostor.revoke("mallory")
    ed = OpensslCA(base / "ed", "Ed25519 CA", key_args=("-newkey", "ed25519"))
    ed.revoke("dave")
    return {"clients": clients, "revoked": revoked, "other": other, "other_revoked": other_revoked,
            "impostor": impostor, "ed": ed}


def serials(crl):
    return sorted(r.serial_number for r in crl)


# =========================================================================== loading

def test_pem_crl_from_openssl_ca_gencrl(cas):
    pem = cas["clients"].gencrl()
    crls = certs.load_crls(pem, "revocation_file /etc/clients.crl")
    assert len(crls) == 1
    assert crls[0].issuer == cas["clients"].cert.subject
    assert serials(crls[0]) == referee_serials(pem) == sorted(cas["revoked"])


def test_der_crl_from_openssl_crl_outform_der(cas):
    der = cas["clients"].gencrl("DER")
    assert der[:1] == b"\x30"
    crls = certs.load_crls(der)
    assert len(crls) == 1 and serials(crls[0]) == sorted(cas["revoked"])
    assert crls[0].public_bytes(serialization.Encoding.DER) == der


def test_several_pem_crls_in_file_order(cas):
    first, second = cas["other"].gencrl(), cas["clients"].gencrl()
    crls = certs.load_crls(first + second)
    assert [c.issuer for c in crls] == [cas["other"].cert.subject, cas["clients"].cert.subject]
    assert serials(crls[0]) == referee_serials(first) and serials(crls[1]) == referee_serials(second)


def test_text_around_the_block_crlf_and_utf16(cas):
    text = openssl("crl", "-text", data=cas["clients"].gencrl())  # a page of text, then the block
    assert len(certs.load_crls(text)) == 1
    assert len(certs.load_crls(text.replace(b"\n", b"\r\n"))) == 1
    utf16 = text.decode("ascii").encode("utf-16")  # with a byte order mark, as PowerShell writes
    assert serials(certs.load_crls(utf16)[0]) == sorted(cas["revoked"])
    assert len(certs.load_crls(text.decode("ascii"))) == 1  # text as well as bytes


def test_other_blocks_beside_the_crl_are_ignored(cas):
    pem = (cas["clients"].dir / "ca.pem").read_bytes() + cas["clients"].gencrl()
    crls = certs.load_crls(pem)
    assert len(crls) == 1 and crls[0].issuer == cas["clients"].cert.subject


# =========================================================================== refused, naming the source

def _refused(data, *words):
    with pytest.raises(CertificateError) as info:
        certs.load_crls(data, "revocation_file /srv/x.crl")
    message = str(info.value)
    assert message.startswith("revocation_file /srv/x.crl: "), message
    for word in words:
        assert word in message, message
    assert isinstance(info.value, TrustopsError)
    return message


def test_empty_input(cas):
    _refused(b"", "empty")
    _refused(b" \n\n", "empty")


def test_certificate_instead_of_crl(cas):
    _refused((cas["clients"].dir / "ca.pem").read_bytes(), "not a certificate revocation list", "CERTIFICATE",
             "expected X509 CRL")
    der = openssl("x509", "-outform", "DER", "-in", cas["clients"].dir / "ca.pem")
    _refused(der, "not a certificate revocation list", "DER certificate")


def test_private_key_instead_of_crl_names_the_label_not_the_key(cas):
    key = (cas["clients"].dir / "alice.key").read_bytes()
    message = _refused(key, "not a certificate revocation list", "PRIVATE KEY")
    body = b"".join(key.split(b"\n")[1:3]).decode()
    assert body[:40] not in message


def test_random_bytes_and_damaged_blocks(cas):
    _refused(b"\x30\x82\x01\x00" + bytes(range(256)), "not a certificate revocation list")
    _refused(b"hello, not a CRL", "not a certificate revocation list")
    pem = cas["clients"].gencrl()
    lines = pem.split(b"\n")
    damaged = b"\n".join(lines[:3] + [b"AAAA" + lines[3][4:]] + lines[4:])
    _refused(damaged, "damaged certificate revocation list")
    _refused(pem[: len(pem) // 2], "truncated")
    # a complete CRL and a cut-off second one: the cut-off revocations would be lost silently
    _refused(pem + cas["other"].gencrl()[:200], "truncated")


def test_der_crl_with_trailing_bytes_is_refused(cas):
    _refused(cas["clients"].gencrl("DER") + b"\x00\x00", "not a certificate revocation list")


def test_pkcs12_instead_of_crl(cas, tmp_path):
    d = cas["clients"].dir
    p12 = openssl("pkcs12", "-export", "-in", d / "alice.pem", "-inkey", d / "alice.key", "-passout", "pass:x")
    _refused(p12, "PKCS#12")


# =========================================================================== crl_signed_by

def test_signed_by_its_issuer_only(cas):
    crl = certs.load_crls(cas["clients"].gencrl())[0]
    assert certs.crl_signed_by(crl, cas["clients"].cert)
    assert not certs.crl_signed_by(crl, cas["other"].cert)


def test_same_issuer_name_other_key_is_not_signed_by(cas):
    forged = certs.load_crls(cas["impostor"].gencrl())[0]
    assert forged.issuer == cas["clients"].cert.subject
    assert not certs.crl_signed_by(forged, cas["clients"].cert)
    assert certs.crl_signed_by(forged, cas["impostor"].cert)


def test_ed25519_issuer(cas):
    crl = certs.load_crls(cas["ed"].gencrl("DER"))[0]
    assert certs.crl_signed_by(crl, cas["ed"].cert)
    assert not certs.crl_signed_by(crl, cas["clients"].cert)


def test_same_key_other_name_is_not_issued_by(cas, tmp_path):
    """A CA certificate re-issued under another name with the same key: the signature verifies,
    but the CRL does not name it as issuer, so it does not speak for it."""
    renamed = OpensslCA(tmp_path / "renamed", "Renamed CA", reuse_key=cas["clients"].key)
    crl = certs.load_crls(cas["clients"].gencrl())[0]
    assert crl.is_signature_valid(renamed.cert.public_key())
    assert not certs.crl_signed_by(crl, renamed.cert)
