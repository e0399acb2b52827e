# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inputs of the demo (playbooks/demo.yml), made with the Python libraries, not with openssl.

    python trustops_demo.py pki DIR    the demo PKI, made once and kept while it is valid
    python trustops_demo.py saml DIR   a demo IdP (pysaml2 + xmlsec1): its metadata and a fresh signed response

Prints one JSON object: what was written and the SHA-256 fingerprints of the certificates.
Private keys are written 0600 and never printed. Each file is written atomically.

The PKI (``cryptography``): a root CA -> intermediate CA -> Tableau Server certificate for
tableau.demo.test, a profile signer for the mobile profile, a SAML SP certificate and key
(PKCS#1 RSA 2048, seed 002) and client certificates for mutual SSL (seed 004), two of which
(alice in east.example.com and alice in west.example.com, both with CN=alice) are the one
deliberate cross-domain ambiguity of the demo.

The IdP (``saml`` command) is pysaml2's own IdP with Debian's xmlsec1 as its signing backend,
the same library the unit tests use: its metadata (signed) and a response for the demo SP,
signed at the assertion, valid for 15 minutes from now, so it is made again on every run.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

FQDN = "tableau.demo.test"
SP_ENTITY_ID = "https://" + FQDN
ACS_URL = SP_ENTITY_ID + "/wg/saml/SSO/index.html"
SLO_URL = SP_ENTITY_ID + "/wg/saml/SingleLogout/index.html"
IDP_ENTITY_ID = "https://idp.demo.test/idp"
UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
#: Renew the PKI when a certificate has fewer days left than this.
RENEW_DAYS = 30
#: name -> (subject CN, issuer, kind, UPN, days)
CERTS = {
    "root": ("trustops Demo Root CA", None, "ca", None, 3650),
    "intermediate": ("trustops Demo Intermediate CA", "root", "ca", None, 1825),
    "leaf": (FQDN, "intermediate", "server", None, 397),
    "profile-signer": ("trustops Demo Profile Signer", "intermediate", "signer", None, 397),
    "sp": (FQDN, None, "sp", None, 397),
    "clients/carol-east": ("carol@east.example.com", "intermediate", "client", "carol@east.example.com", 365),
    "clients/dave-west": ("west.example.com/dave", "intermediate", "client", "dave@west.example.com", 365),
    "clients/alice-east": ("alice", "intermediate", "client", "alice@east.example.com", 365),
    "clients/alice-west": ("alice", "intermediate", "client", "alice@west.example.com", 365),
}
#: Files whose private key the demo needs (the others' keys are dropped after signing).
KEEP_KEYS = ("root", "intermediate", "leaf", "profile-signer", "sp")


def write(path, data, mode=0o644):
    """Atomic write: a temporary file in the same directory, renamed over the target."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fingerprint(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load(directory, name):
    try:
        with open(os.path.join(directory, name + ".crt"), "rb") as handle:
            return x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError):
        return None


def usable(directory):
    """True when every certificate is there, readable, and valid for RENEW_DAYS more days."""
    limit = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=RENEW_DAYS)
    for name in CERTS:
        cert = load(directory, name)
        if cert is None or cert.not_valid_after_utc < limit:
            return False
        if name in KEEP_KEYS and not os.path.isfile(os.path.join(directory, name + ".key")):
            return False
    return True


def build(cn, issuer, key, kind, upn, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops demo"),
                         x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    ca = kind == "ca"
    builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    usage = dict(digital_signature=not ca, content_commitment=False, key_encipherment=kind in ("server", "client"),
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                 encipher_only=False, decipher_only=False)
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    eku = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "signer": ExtendedKeyUsageOID.EMAIL_PROTECTION,
           "client": ExtendedKeyUsageOID.CLIENT_AUTH}.get(kind)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    if kind == "server":
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    if upn:
        # the UPN otherName: a UTF8String, as Active Directory certificate templates write it
        value = upn.encode("utf-8")
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.OtherName(UPN, b"\x0c" + bytes([len(value)]) + value)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pki(directory):
    """Make the demo PKI unless a usable one is there; return what was written and the fingerprints."""
    written = []
    if not usable(directory):
        made = {}
        for name, (cn, issuer, kind, upn, days) in CERTS.items():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            cert = build(cn, made.get(issuer), key, kind, upn, days)
            made[name] = (cert, key)
            if name in KEEP_KEYS:
                # the SAML SP key as PKCS#1 (seed 002: no password for PKCS#1); the others PKCS#8
                fmt = serialization.PrivateFormat.TraditionalOpenSSL if name == "sp" else serialization.PrivateFormat.PKCS8
                write(os.path.join(directory, name + ".key"),
                      key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()), 0o600)
        # the certificates last: a run stopped half-way leaves an unusable set, made again next time
        for name, (cert, _key) in made.items():
            write(os.path.join(directory, name + ".crt"), cert.public_bytes(serialization.Encoding.PEM))
            written.append(name + ".crt")
    return {"changed": bool(written), "written": written,
            "sha256": {name: fingerprint(load(directory, name)) for name in CERTS}}


def saml(directory):
    """The demo IdP's signed metadata, the SP metadata and a fresh signed response (pysaml2 + xmlsec1)."""
    xmlsec1 = shutil.which("xmlsec1")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pysaml2 imports deprecated cipher modes of cryptography
            from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig
            from saml2.config import IdPConfig, SPConfig
            from saml2.metadata import create_metadata_string
            from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
            from saml2.server import Server
    except ImportError as exc:
        raise SystemExit(f"the demo IdP needs pysaml2 (pip install pysaml2, see requirements-dev.txt): {exc}")
    if xmlsec1 is None:
        raise SystemExit("the demo IdP needs xmlsec1 to sign (Debian: apt-get install xmlsec1)")
    work = os.path.join(directory, "saml")
    os.makedirs(work, mode=0o700, exist_ok=True)
    idp_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp_cert = build("idp.demo.test", None, idp_key, "idp", None, 365)
    idp_key_pem = idp_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    files = {"idp.key": (idp_key_pem, 0o600), "idp.crt": (idp_cert.public_bytes(serialization.Encoding.PEM), 0o644)}
    for name, (data, mode) in files.items():
        write(os.path.join(work, name), data, mode)
    paths = {name: os.path.join(work, name) for name in ("idp.key", "idp.crt", "sp.xml", "idp.xml", "response.xml")}

    def text(data):
        return data if isinstance(data, bytes) else str(data).encode("utf-8")

    # Tableau Server's SP metadata, as pysaml2 writes it for the demo SP certificate and key
    sp_conf = SPConfig().load({
        "entityid": SP_ENTITY_ID, "xmlsec_binary": xmlsec1,
        "key_file": os.path.join(directory, "sp.key"), "cert_file": os.path.join(directory, "sp.crt"),
        "service": {"sp": {"endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)],
                                         "single_logout_service": [(SLO_URL, BINDING_HTTP_POST)]},
                           "authn_requests_signed": True}}})
    write(paths["sp.xml"], text(create_metadata_string(None, config=sp_conf)))
    idp_conf = IdPConfig().load({
        "entityid": IDP_ENTITY_ID, "xmlsec_binary": xmlsec1,
        "key_file": paths["idp.key"], "cert_file": paths["idp.crt"],
        "metadata": {"local": [paths["sp.xml"]]},
        "service": {"idp": {
            "name": "trustops Demo IdP",
            "endpoints": {"single_sign_on_service": [("https://idp.demo.test/sso/post", BINDING_HTTP_POST),
                                                     ("https://idp.demo.test/sso/redirect", BINDING_HTTP_REDIRECT)],
                          "single_logout_service": [("https://idp.demo.test/slo", BINDING_HTTP_POST)]},
            "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None,
                                   "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS]}}})
    write(paths["idp.xml"], text(create_metadata_string(None, config=idp_conf, sign=True, sign_alg=xmldsig.SIG_RSA_SHA256,
                                                        digest_alg=xmldsig.DIGEST_SHA256)))
    server = Server(config=idp_conf)

    def typed(assertion):  # the user name typed xs:string, as Tableau wants it (SAML-1NN)
        for statement in assertion.attribute_statement or []:
            for attribute in statement.attribute:
                for value in attribute.attribute_value:
                    value.set_type("xs:string")
        return assertion

    setup = server.setup_assertion
    server.setup_assertion = lambda *args, **kwargs: typed(setup(*args, **kwargs))
    response = server.create_authn_response(
        identity={"username": ["alice@east.example.com"]}, in_response_to="id-demo-request",
        destination=ACS_URL, sp_entity_id=SP_ENTITY_ID,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text="alice@east.example.com"),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
               "authn_auth": IDP_ENTITY_ID},
        sign_response=False, sign_assertion=True, sign_alg=xmldsig.SIG_RSA_SHA256, digest_alg=xmldsig.DIGEST_SHA256)
    write(paths["response.xml"], text(response))
    return {"changed": True, "written": sorted(os.path.relpath(p, directory) for p in paths.values()),
            "sha256": {"idp": fingerprint(idp_cert)}, "paths": paths,
            "sp_entity_id": SP_ENTITY_ID, "acs_url": ACS_URL, "slo_url": SLO_URL, "idp_entity_id": IDP_ENTITY_ID}


def main(argv):
    commands = {"pki": pki, "saml": saml}
    if len(argv) != 3 or argv[1] not in commands or not os.path.isabs(argv[2]):
        raise SystemExit(f"usage: {os.path.basename(argv[0])} pki|saml ABSOLUTE_DIRECTORY")
    print(json.dumps(commands[argv[1]](argv[2]), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
