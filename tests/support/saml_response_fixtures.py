# -*- coding: utf-8 -*-
"""Real SAML IdP output for the response tests: pysaml2's IdP (``saml2.server.Server``) with
Debian's ``xmlsec1`` as its signing backend.

Nothing here is a hand-written SAML document: metadata comes from pysaml2's metadata writer,
responses from ``Server.create_authn_response`` and signatures from xmlsec1 through pysaml2's
security context.  The only edits made to a response *before* it is signed go through a hook
on the IdP's assertion object (pysaml2's own ``AttributeValue.set_type``/``clear_type``), the way
an IdP's attribute configuration would type a value.  Edits *after* signing (tampering,
signature wrapping, re-encoding) are the attacks and damages the checks must catch.

pysaml2 7.5 refuses to sign with ECDSA in ``Server``/``Entity.sign`` (its allowed list,
``saml2.xmldsig.SIG_ALLOWED_ALG``, holds RSA methods only); for EC keys the response built by
``Server`` is signed with the same pysaml2 primitives ``Entity.sign`` uses
(``pre_signature_part`` + ``signed_instance_factory``, i.e. xmlsec1), which accept ECDSA.
"""

from __future__ import annotations

import base64
import copy
import datetime
import os
import shutil
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pysaml2 imports deprecated cipher modes of cryptography
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, xmldsig
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
    from saml2.server import Server
    from saml2.sigver import pre_signature_part, signed_instance_factory

XMLSEC1 = shutil.which("xmlsec1")

SP_ENTITY_ID = "https://tableau.example.test"
ACS_URL = "https://tableau.example.test/wg/saml/SSO/index.html"
IDP_ENTITY_ID = "https://idp.example.test/idp"
PPT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
X509_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
GROUPS = "https://tableau.com/groups"
BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {"saml": SAML, "samlp": SAMLP, "ds": DS}

_RSA_SIG = {"sha1": xmldsig.SIG_RSA_SHA1, "sha256": xmldsig.SIG_RSA_SHA256,
            "sha384": xmldsig.SIG_RSA_SHA384, "sha512": xmldsig.SIG_RSA_SHA512}
_EC_SIG = {"sha1": xmldsig.SIG_ECDSA_SHA1, "sha256": xmldsig.SIG_ECDSA_SHA256,
           "sha384": xmldsig.SIG_ECDSA_SHA384, "sha512": xmldsig.SIG_ECDSA_SHA512}
_DIGEST = {"sha1": xmldsig.DIGEST_SHA1, "sha256": xmldsig.DIGEST_SHA256,
           "sha384": xmldsig.DIGEST_SHA384, "sha512": xmldsig.DIGEST_SHA512}
_KEYS = {}


def signing_key(kind="rsa", size=2048):
    """A private key, cached per (kind, size) for speed."""
    if (kind, size) not in _KEYS:
        if kind == "rsa":
            _KEYS[(kind, size)] = rsa.generate_private_key(public_exponent=65537, key_size=size)
        elif kind == "ec":
            curve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 192: ec.SECP192R1()}[size]
            _KEYS[(kind, size)] = ec.generate_private_key(curve)
        else:
            raise ValueError(kind)
    return _KEYS[(kind, size)]


def self_signed(key, cn="idp.example.test", days=365, start_days=-1, serial=1):
    """A self-signed certificate for ``key``, as IdPs publish in their metadata."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now + datetime.timedelta(days=start_days))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def sp_metadata(acs_url=ACS_URL, entity_id=SP_ENTITY_ID, enc_cert=None):
    """The SP metadata the IdP is configured with (as Tableau's export-metadata shape)."""
    key_descriptor = ""
    if enc_cert is not None:
        body = base64.b64encode(enc_cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
        key_descriptor = (
            f'<md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data>'
            f'<ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
            '</md:KeyDescriptor>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
        '<md:SPSSODescriptor AuthnRequestsSigned="true" '
        f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key_descriptor}'
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{acs_url}" index="0" isDefault="true"/>'
        '</md:SPSSODescriptor></md:EntityDescriptor>\n')


class _HookedServer(Server):
    """pysaml2's IdP with one hook on the assertion it builds, before it is signed."""

    edit = None

    def setup_assertion(self, *args, **kwargs):  # pylint: disable=arguments-differ
        assertion = super().setup_assertion(*args, **kwargs)
        if self.edit is not None:
            self.edit(assertion)
        return assertion


class Idp:
    """One pysaml2 IdP with its own key and certificate, in ``workdir``."""

    def __init__(self, workdir, kind="rsa", size=2048, entity_id=IDP_ENTITY_ID, sp_entity_id=SP_ENTITY_ID,
                 acs_url=ACS_URL, sso_bindings=(BINDING_HTTP_POST, BINDING_HTTP_REDIRECT), slo=True,
                 sp_enc_cert=None, key=None, cert=None):
        if XMLSEC1 is None:
            raise RuntimeError("xmlsec1 is required (Debian package xmlsec1)")
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.kind = kind
        self.key = key if key is not None else signing_key(kind, size)
        self.cert = cert if cert is not None else self_signed(self.key)
        self.entity_id = entity_id
        self.sp_entity_id = sp_entity_id
        self.acs_url = acs_url
        self.key_file = os.path.join(self.workdir, "idp.key")
        self.cert_file = os.path.join(self.workdir, "idp.crt")
        with open(self.key_file, "wb") as handle:
            handle.write(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
        with open(self.cert_file, "wb") as handle:
            handle.write(pem(self.cert))
        sp_file = os.path.join(self.workdir, "sp.xml")
        with open(sp_file, "w") as handle:
            handle.write(sp_metadata(acs_url, sp_entity_id, sp_enc_cert))
        base = entity_id.rsplit("/", 1)[0]
        endpoints = {"single_sign_on_service": [(base + "/sso/" + b.rsplit(":", 1)[1], b) for b in sso_bindings]}
        if slo:
            endpoints["single_logout_service"] = [(base + "/slo", BINDING_HTTP_POST)]
        conf = {
            "entityid": entity_id,
            "service": {"idp": {
                "endpoints": endpoints,
                "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None,
                                       "name_form": BASIC}},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            }},
            "key_file": self.key_file,
            "cert_file": self.cert_file,
            "encryption_keypairs": [{"key_file": self.key_file, "cert_file": self.cert_file}],
            "metadata": {"local": [sp_file]},
            "xmlsec_binary": XMLSEC1,
        }
        self.config = IdPConfig()
        self.config.load(conf)
        self.server = _HookedServer(config=self.config)

    @property
    def cert_pem(self):
        return pem(self.cert)

    def metadata(self):
        """The IdP metadata, as pysaml2 exports it (bytes, UTF-8)."""
        data = create_metadata_string(None, config=self.config, sign=False)
        return data if isinstance(data, bytes) else data.encode("utf-8")

    def response(self, username="alice@example.test", username_type="xs:string", username_attribute="username",
                 groups=(), attributes=None, sign="assertion", sign_alg="sha256", digest_alg="sha256",
                 authn_class=PPT, name_id="alice@example.test", destination=None, encrypt_cert=None,
                 in_response_to="id-request-1", edit_assertion=None):
        """A Response from this IdP, as bytes.

        ``username=None`` leaves the attribute out; ``username_type`` is the xsi:type of its
        value (``None``: no xsi:type at all); ``sign`` is assertion|response|both|none;
        ``encrypt_cert`` (a certificate) makes pysaml2 encrypt the assertion for it;
        ``edit_assertion`` is called with pysaml2's Assertion object before it is signed (what
        an IdP's configuration would change: confirmations, conditions, issuer).
        """
        identity = {}
        if username is not None:
            identity[username_attribute] = [username]
        if groups:
            identity[GROUPS] = list(groups)
        identity.update(attributes or {})

        def edit(assertion):
            for statement in assertion.attribute_statement or []:
                for attribute in statement.attribute:
                    if attribute.name != username_attribute:
                        continue
                    for value in attribute.attribute_value:
                        if username_type is None:
                            value.clear_type()
                        else:
                            value.set_type(username_type)
            if edit_assertion is not None:
                edit_assertion(assertion)

        self.server.edit = edit
        table = _EC_SIG if self.kind == "ec" else _RSA_SIG
        destination = destination or self.acs_url
        kwargs = dict(
            identity=identity, in_response_to=in_response_to, destination=destination,
            sp_entity_id=self.sp_entity_id, name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
            authn={"class_ref": authn_class, "authn_auth": self.entity_id},
            sign_alg=table[sign_alg], digest_alg=_DIGEST[digest_alg])
        if encrypt_cert is not None:
            kwargs.update(encrypt_assertion=True, encrypt_assertion_self_contained=True,
                          encrypt_cert_assertion=pem(encrypt_cert).decode("ascii"))
        if self.kind == "rsa":
            out = self.server.create_authn_response(
                sign_response=sign in ("response", "both"), sign_assertion=sign in ("assertion", "both"), **kwargs)
            return _bytes(out)
        # EC: pysaml2's Server refuses ECDSA (RSA-only allow list); sign its response with the
        # same primitives Entity.sign uses (xmlsec1 underneath).
        response = self.server.create_authn_response(sign_response=False, sign_assertion=False, **kwargs)
        to_sign = []
        if sign in ("assertion", "both"):
            assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
            assertion.signature = pre_signature_part(assertion.id, self.server.sec.my_cert, 1,
                                                     sign_alg=table[sign_alg], digest_alg=_DIGEST[digest_alg])
            to_sign.append((class_name(assertion), assertion.id))
        if sign in ("response", "both"):
            response.signature = pre_signature_part(response.id, self.server.sec.my_cert, 1,
                                                    sign_alg=table[sign_alg], digest_alg=_DIGEST[digest_alg])
            to_sign.append((class_name(response), response.id))
        if not to_sign:
            return _bytes(response)
        return _bytes(signed_instance_factory(response, self.server.sec, to_sign))

    def error_response(self, status, message, sign=True):
        """A failed-status Response (no assertion), e.g. ``samlp.STATUS_AUTHN_FAILED``."""
        out = self.server.create_error_response("id-request-1", self.acs_url, (status, message), sign=sign,
                                                sign_alg=_RSA_SIG["sha256"], digest_alg=_DIGEST["sha256"])
        return _bytes(out)


def _bytes(out):
    text = out if isinstance(out, (str, bytes)) else str(out)
    return text.encode("utf-8") if isinstance(text, str) else text


# ------------------------------------------------------------------ damage done after signing

def _tree(data):
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))


def _out(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def tamper(data, old, new):
    """Change bytes of a signed document (e.g. one letter of the user name)."""
    if data.count(old) != 1:
        raise AssertionError(f"expected exactly one {old!r} in the response")
    return data.replace(old, new)


def _set_username(assertion, username, attribute="username"):
    values = assertion.xpath(".//saml:Attribute[@Name=$n]/saml:AttributeValue", namespaces=NSMAP, n=attribute)
    if not values:
        raise AssertionError(f"no {attribute} attribute to rewrite")
    for value in values:
        value.text = username
    name_id = assertion.find("saml:Subject/saml:NameID", NSMAP)
    if name_id is not None:
        name_id.text = username


def _evil_copy(assertion, username, same_id=False):
    evil = copy.deepcopy(assertion)
    for signature in evil.findall("ds:Signature", NSMAP):
        evil.remove(signature)
    if not same_id:
        evil.set("ID", "_evil" + assertion.get("ID").lstrip("_i"))
    _set_username(evil, username)
    return evil


def xsw_assertion_sibling(data, username="mallory@example.test", same_id=False):
    """XSW on a signed assertion: an unsigned evil assertion inserted *before* the signed one,
    where a naive reader (first Assertion of the Response) looks."""
    root = _tree(data)
    signed = root.find("saml:Assertion", NSMAP)
    root.insert(list(root).index(signed), _evil_copy(signed, username, same_id))
    return _out(root)


def xsw_assertion_moved(data, username="mallory@example.test"):
    """XSW on a signed assertion: the signed assertion moved into samlp:Extensions of the
    Response and an evil unsigned assertion put in its place."""
    root = _tree(data)
    signed = root.find("saml:Assertion", NSMAP)
    evil = _evil_copy(signed, username)
    index = list(root).index(signed)
    root.remove(signed)
    root.insert(index, evil)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    extensions.append(signed)
    issuer = root.find("saml:Issuer", NSMAP)
    root.insert(list(root).index(issuer) + 1 if issuer is not None else 0, extensions)
    return _out(root)


def xsw_response_wrapped(data, username="mallory@example.test"):
    """XSW on a signed Response (XSW1 style): a new evil Response whose ds:Signature is the
    original one, with the whole original signed Response tucked into that signature's
    ds:Object, so the reference still resolves and verifies."""
    original = _tree(data)
    evil = copy.deepcopy(original)
    evil.set("ID", "_evilresponse")
    signature = evil.find("ds:Signature", NSMAP)
    if signature is None:
        raise AssertionError("the response is not signed at the Response level")
    for node in evil.iter(f"{{{DS}}}Signature"):
        if node is not signature:
            node.getparent().remove(node)
    for assertion in evil.findall("saml:Assertion", NSMAP):
        _set_username(assertion, username)
    obj = etree.SubElement(signature, f"{{{DS}}}Object")
    original_copy = copy.deepcopy(original)
    original_copy.remove(original_copy.find("ds:Signature", NSMAP))  # it is the outer one now
    obj.append(original_copy)
    return _out(evil)


def reencode(data, encoding, declare=True):
    """The same document in another character encoding (the signature stays valid: XML-DSig
    canonicalises characters, not bytes)."""
    root = _tree(data)
    if declare:
        return etree.tostring(root, xml_declaration=True, encoding=encoding)
    return etree.tostring(root, encoding=encoding)


def form_value(data, urlencode=False):
    """The SAMLResponse value of an HTTP-POST form as a browser trace shows it."""
    value = base64.b64encode(data).decode("ascii")
    if urlencode:
        from urllib.parse import quote_plus
        return "SAMLResponse={}&RelayState={}".format(quote_plus(value), quote_plus("/views/home"))
    return value
