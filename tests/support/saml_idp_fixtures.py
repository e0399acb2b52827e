# -*- coding: utf-8 -*-
"""Real IdP and SP metadata for the SAML tests, written by pysaml2 and signed by xmlsec1.

Metadata comes from pysaml2's own writer (``saml2.metadata.entity_descriptor`` /
``create_metadata_string`` / ``entities_descriptor``) for a real ``IdPConfig``/``SPConfig``,
with Debian's ``xmlsec1`` as the signing backend: POST, Redirect-only, SOAP-only IdPs, with and
without single logout, RSA 1024/2048 and EC P-256/P-192 signing keys, SHA-256 and SHA-1
signatures.  Shapes pysaml2 cannot produce (several IDPSSODescriptors in one entity) are
derived from its output with lxml and named as such.  Private keys for the SP key tests are
written in every format of the seed's support table, the PKCS#1-with-password ones by
``openssl`` (the referee), which also confirms every file is what its name says.

Other test modules may import this one read-only.
"""

from __future__ import annotations

import copy
import datetime
import os
import shutil
import subprocess
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pysaml2 imports deprecated cipher modes of cryptography
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP, xmldsig
    from saml2.config import Config, IdPConfig, SPConfig
    from saml2.metadata import create_metadata_string, entities_descriptor, entity_descriptor
    from saml2.sigver import security_context

XMLSEC1 = shutil.which("xmlsec1")
OPENSSL = shutil.which("openssl")
BINDING_ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
IDP_ENTITY_ID = "https://idp.example.test/idp"
IDP_BASE = "https://idp.example.test"
SERVER_HOST = "tableau.example.test"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"

_BINDINGS = {"post": BINDING_HTTP_POST, "redirect": BINDING_HTTP_REDIRECT, "soap": BINDING_SOAP,
             "artifact": BINDING_ARTIFACT}
_SIGN = {("rsa", "sha1"): xmldsig.SIG_RSA_SHA1, ("rsa", "sha256"): xmldsig.SIG_RSA_SHA256,
         ("ec", "sha1"): xmldsig.SIG_ECDSA_SHA1, ("ec", "sha256"): xmldsig.SIG_ECDSA_SHA256}
_DIGEST = {"sha1": xmldsig.DIGEST_SHA1, "sha256": xmldsig.DIGEST_SHA256}
_KEYS = {}
_CACHE = {}


def key(kind="rsa", size=2048, name="default"):
    """A private key cached per (kind, size, name)."""
    cache_key = (kind, size, name)
    if cache_key not in _KEYS:
        if kind == "rsa":
            _KEYS[cache_key] = rsa.generate_private_key(public_exponent=65537, key_size=size)
        elif kind == "ec":
            curve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 192: ec.SECP192R1()}[size]
            _KEYS[cache_key] = ec.generate_private_key(curve)
        elif kind == "dsa":
            _KEYS[cache_key] = dsa.generate_private_key(key_size=size)
        else:
            raise ValueError(kind)
    return _KEYS[cache_key]


def self_signed(private_key, cn="idp.example.test", digest="sha256", days=365, start_days=-1):
    """A self-signed certificate, as IdPs publish in their metadata and as `tsm` SP certs are."""
    if digest == "sha1":  # cryptography no longer signs with SHA-1; openssl still does
        return _openssl_sha1_cert(private_key, cn, days)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    algo = {"sha256": hashes.SHA256()}[digest]
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=start_days))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(private_key, algo))


def _openssl_sha1_cert(private_key, cn, days):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "k.pem")
        with open(path, "wb") as handle:
            handle.write(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        out = _openssl("req", "-new", "-x509", "-sha1", "-key", path, "-subj", "/CN=" + cn, "-days", str(days))
    cert = x509.load_pem_x509_certificate(out)
    assert cert.signature_hash_algorithm.name == "sha1"
    return cert


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_pair(workdir, private_key, cert, stem):
    key_path = os.path.join(str(workdir), stem + ".key")
    cert_path = os.path.join(str(workdir), stem + ".crt")
    with open(key_path, "wb") as handle:
        handle.write(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    with open(cert_path, "wb") as handle:
        handle.write(pem(cert))
    return key_path, cert_path


def _idp_config(workdir, entity_id, sso, slo, key_path, cert_path):
    endpoints = {"single_sign_on_service": [(f"{IDP_BASE}/sso/{b}", _BINDINGS[b]) for b in sso]}
    if slo:
        endpoints["single_logout_service"] = [(f"{IDP_BASE}/slo/{b}", _BINDINGS[b]) for b in slo]
    return IdPConfig().load({
        "entityid": entity_id,
        "xmlsec_binary": XMLSEC1,
        "key_file": key_path,
        "cert_file": cert_path,
        "service": {"idp": {"name": "Test IdP", "endpoints": endpoints,
                            "name_id_format": ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"]}},
    })


class Idp:
    """A pysaml2 IdP: its signing key and certificate and the files they are in."""

    def __init__(self, workdir, kind="rsa", size=2048, cert_digest="sha256", name="idp",
                 entity_id=IDP_ENTITY_ID, days=365, start_days=-1):
        self.kind = kind
        self.key = key(kind, size, name)
        self.cert = self_signed(self.key, cn=name + ".example.test", digest=cert_digest, days=days,
                                start_days=start_days)
        self.entity_id = entity_id
        self.key_path, self.cert_path = _write_pair(workdir, self.key, self.cert, f"{name}-{kind}{size}-{cert_digest}")
        self.workdir = str(workdir)

    def config(self, sso=("post", "redirect"), slo=("post",)):
        return _idp_config(self.workdir, self.entity_id, sso, slo, self.key_path, self.cert_path)

    def metadata(self, sso=("post", "redirect"), slo=("post",), sign=None):
        """pysaml2's metadata for this IdP; ``sign`` is None, "sha256" or "sha1" (xmlsec1)."""
        conf = self.config(sso, slo)
        if sign is None:
            text = create_metadata_string(None, config=conf)
        else:
            text = create_metadata_string(None, config=conf, sign=True, sign_alg=_SIGN[(self.kind, sign)],
                                          digest_alg=_DIGEST[sign])
        return text if isinstance(text, bytes) else text.encode("utf-8")


def idp(workdir, kind="rsa", size=2048, cert_digest="sha256", name="idp", **kw):
    """An Idp cached per parameters (its files live in the first workdir it was made in)."""
    cache_key = (kind, size, cert_digest, name, tuple(sorted(kw.items())))
    if cache_key not in _CACHE:
        _CACHE[cache_key] = Idp(workdir, kind, size, cert_digest, name, **kw)
    return _CACHE[cache_key]


def entities_metadata(idps, sign_with=None, name="federation"):
    """An md:EntitiesDescriptor holding the metadata of several IdPs (pysaml2's writer);
    signed by ``sign_with`` (an Idp) with xmlsec1 when given."""
    eds = [entity_descriptor(i.config()) for i in idps]
    conf = Config()
    signer = sign_with or idps[0]
    conf.key_file, conf.cert_file, conf.xmlsec_binary = signer.key_path, signer.cert_path, XMLSEC1
    secc = security_context(conf)
    ident = f"id-{name}"
    entities, xmldoc = entities_descriptor(eds, 0, name, ident, bool(sign_with), secc,
                                           _SIGN[(signer.kind, "sha256")], _DIGEST["sha256"])
    text = xmldoc if sign_with else str(entities)
    return text if isinstance(text, bytes) else text.encode("utf-8")


def duplicate_idp_descriptor(metadata):
    """Derived: the same entity with its IDPSSODescriptor twice (pysaml2 writes one)."""
    root = etree.fromstring(metadata)
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    root.append(copy.deepcopy(descriptor))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sp_metadata(workdir, host=SERVER_HOST, site_alias=None, slo=True, acs_url=None, slo_url=None,
                acs_binding=BINDING_HTTP_POST, sp_key=None):
    """SP metadata as pysaml2's SP writes it for Tableau Server's endpoints.

    ``acs_url`` overrides the (correct) ACS Location, e.g. with a case difference.
    """
    if acs_url is None:
        acs_url = (f"https://{host}/samlservice/public/sp/metadata?alias={site_alias}" if site_alias
                   else f"https://{host}/wg/saml/SSO/index.html")
    if slo_url is None:
        slo_url = f"https://{host}/wg/saml/SingleLogout/index.html"
    private_key = sp_key or key("rsa", 2048, "sp")
    key_path, cert_path = _write_pair(workdir, private_key, self_signed(private_key, host), "sp")
    endpoints = {"assertion_consumer_service": [(acs_url, acs_binding)]}
    if slo:
        endpoints["single_logout_service"] = [(slo_url, BINDING_HTTP_POST)]
    conf = SPConfig().load({
        "entityid": f"https://{host}",
        "xmlsec_binary": XMLSEC1,
        "key_file": key_path,
        "cert_file": cert_path,
        "service": {"sp": {"endpoints": endpoints, "authn_requests_signed": True}},
    })
    text = create_metadata_string(None, config=conf)
    return text if isinstance(text, bytes) else text.encode("utf-8")


# --------------------------------------------------------------------------- SP keys

def _openssl(*args, data=None):
    result = subprocess.run([OPENSSL] + list(args), input=data, capture_output=True, check=False)
    if result.returncode != 0:
        raise AssertionError("openssl {} failed: {}".format(" ".join(args), result.stderr.decode()))
    return result.stdout


def key_file(private_key, fmt, passphrase=None):
    """PEM bytes of ``private_key`` in one of the seed's formats, checked by openssl.

    ``fmt``: ``pkcs8`` (unencrypted, or encrypted with ``passphrase``; ``""`` means an empty
    password, written by openssl), ``pkcs1`` (traditional; encrypted with ``passphrase`` by
    openssl, as cryptography writes no encrypted traditional DSA).
    """
    plain_pkcs8 = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    algo = "rsa" if isinstance(private_key, rsa.RSAPrivateKey) else "dsa"
    if fmt == "pkcs8" and passphrase is None:
        out = plain_pkcs8
        label = b"-----BEGIN PRIVATE KEY-----"
    elif fmt == "pkcs8":
        out = _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:" + passphrase, data=plain_pkcs8)
        label = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
    elif fmt == "pkcs1" and passphrase is None:
        out = _openssl("pkey", "-traditional", data=plain_pkcs8)
        label = b"-----BEGIN %s PRIVATE KEY-----" % algo.upper().encode()
    elif fmt == "pkcs1":
        out = _openssl("pkey", "-traditional", "-aes256", "-passout", "pass:" + passphrase, data=plain_pkcs8)
        label = b"-----BEGIN %s PRIVATE KEY-----" % algo.upper().encode()
    else:
        raise ValueError(fmt)
    # referee: the file has the expected shape and opens with the passphrase
    assert out.startswith(label), out[:60]
    if fmt == "pkcs1" and passphrase:
        assert b"Proc-Type: 4,ENCRYPTED" in out
    opened = _openssl("pkey", "-passin", "pass:" + (passphrase or ""), "-pubout", data=out)
    want = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    assert opened == want
    return out
