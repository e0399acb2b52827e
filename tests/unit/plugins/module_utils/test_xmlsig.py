# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one XML-signature verifier (module_utils/xmlsig.py), on real signatures: IdP metadata
signed by Debian's ``xmlsec1`` (through pysaml2, as the SAML tests make it) and documents signed
by ``signxml``'s signer.  Each verdict is asserted: valid (and bound to the element it covers),
tampered, wrong key (no key, or a foreign signer carried in KeyInfo), wrapping; and
``x509_certificate`` on DER and PEM ``ds:X509Certificate`` text.
"""

from __future__ import annotations

import base64
import copy

import pytest
import saml_idp_fixtures as fx
from signxml import XMLSigner, methods

from ansible_collections.trustops.tableau.plugins.module_utils import certs, xmlsig
from ansible_collections.trustops.tableau.plugins.module_utils.xml import etree, parse_xml

DS = xmlsig.DS


def signature_of(root):
    """The document's one ds:Signature element (wherever it sits)."""
    found = root.findall(f".//{{{DS}}}Signature")
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def signer(pki):
    return pki.root(cn="XML Signer")


@pytest.fixture(scope="module")
def stranger(pki):
    make_key = type(pki).root.__globals__["make_key"]  # tests/unit/conftest.py's, whatever 'conftest' names
    return pki.root(cn="Stranger", key=make_key("rsa", 2048, fresh=True))  # a key of its own, not the cached one


@pytest.fixture(scope="module")
def signed_item(signer):
    """``<Envelope>`` whose ``<Item ID="_item1">`` carries an enveloped RSA-SHA256 signature
    made by signxml, with the signer's certificate in KeyInfo; ``<Note>`` is outside it."""
    root = etree.fromstring(b'<Envelope xmlns="urn:test"><Item ID="_item1"><Name>alice</Name></Item>'
                            b'<Note>outside</Note></Envelope>')
    item = root[0]
    signed = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
        item, key=signer.key_pem(), cert=signer.pem.decode("ascii"), reference_uri="#_item1", id_attribute="ID")
    root.replace(item, signed)
    return etree.tostring(root)


@pytest.fixture(scope="module")
def metadata_idp(tmp_path_factory):
    return fx.idp(tmp_path_factory.mktemp("xmlsig"), name="xmlsig")


# --------------------------------------------------------------------------- valid

def test_xmlsec1_signature_is_valid_and_bound_to_the_signed_root(metadata_idp):
    """An independent signer (xmlsec1): the verdict, the signer, and the element proven signed."""
    root = parse_xml(metadata_idp.metadata(sign="sha256"))
    node = signature_of(root)
    check = xmlsig.verify_signature(root, node, [metadata_idp.cert])
    assert (check.valid, check.problem, check.trusted) == (True, None, True)
    assert check.signer == metadata_idp.cert
    assert check.covers == root.get("ID") and check.covers
    assert check.covered is root
    # our emulation of the enveloped-signature transform gives the bytes xmlsec1 signed
    assert xmlsig.c14n_without(root, node) == xmlsig.c14n(check.signed_xml)
    assert xmlsig.references(node) == ["#" + root.get("ID")]


def test_signxml_signature_covers_its_element_not_the_document(signed_item, signer):
    root = parse_xml(signed_item)
    check = xmlsig.verify_signature(root, signature_of(root), [signer.cert])
    assert check.valid and check.trusted and check.covers == "_item1"
    assert check.covered is root[0] and check.covered is not root
    # what is outside the signed element is not covered: changing it keeps the verdict
    moved = parse_xml(signed_item.replace(b"outside", b"changed"))
    assert xmlsig.verify_signature(moved, signature_of(moved), [signer.cert]).covered is moved[0]


def test_the_candidate_that_verifies_is_the_signer(signed_item, signer, stranger):
    root = parse_xml(signed_item)
    check = xmlsig.verify_signature(root, signature_of(root), [stranger.cert, signer.cert])
    assert check.valid and check.signer == signer.cert and check.trusted


def test_an_expired_signing_certificate_is_trusted_for_its_key(tmp_path):
    """The key of a configured or trusted certificate verifies after the certificate expired
    (its dates are the caller's policy, reported under its own code)."""
    idp = fx.Idp(tmp_path, name="expired", days=-1, start_days=-30)
    assert certs.is_expired(idp.cert)
    root = parse_xml(idp.metadata(sign="sha256"))
    check = xmlsig.verify_signature(root, signature_of(root), [idp.cert])
    assert check.valid and check.problem is None and check.covered is root


# --------------------------------------------------------------------------- not valid

def test_tampered_content_is_a_digest_mismatch(metadata_idp, signed_item, signer):
    root = parse_xml(metadata_idp.metadata(sign="sha256").replace(b"https://idp.example.test/", b"https://evil.test/"))
    check = xmlsig.verify_signature(root, signature_of(root), [metadata_idp.cert])
    assert (check.valid, check.problem) == (False, xmlsig.TAMPERED)
    assert check.reason == "digest mismatch: the signed content was changed after signing"
    assert check.covered is None
    item = parse_xml(signed_item.replace(b"alice", b"mallory"))
    assert xmlsig.verify_signature(item, signature_of(item), [signer.cert]).problem == xmlsig.TAMPERED


def test_a_changed_signature_value_does_not_verify(signed_item, signer):
    root = parse_xml(signed_item)
    value = root.find(f".//{{{DS}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode("ascii")
    check = xmlsig.verify_signature(root, signature_of(root), [signer.cert])
    assert (check.valid, check.problem) == (False, xmlsig.INVALID)
    assert check.reason == "the signature value does not verify with the certificate's key"


def test_wrong_key_without_and_with_the_carried_certificate(metadata_idp, stranger):
    root = parse_xml(metadata_idp.metadata(sign="sha256"))
    node = signature_of(root)
    alone = xmlsig.verify_signature(root, node, [stranger.cert])
    assert (alone.valid, alone.problem) == (False, xmlsig.INVALID)
    assert alone.reason == "the signature value does not verify with the certificate's key"
    # the certificate the signature carries verifies it: a foreign signer, not a changed document
    carried, _encoding = xmlsig.x509_certificate(node.find(f".//{{{DS}}}X509Certificate").text)
    assert carried == metadata_idp.cert
    foreign = xmlsig.verify_signature(root, node, [stranger.cert], embedded=[carried])
    assert (foreign.valid, foreign.problem, foreign.trusted) == (False, xmlsig.FOREIGN_SIGNER, False)
    assert foreign.signer == carried and certs.fingerprint(carried) in foreign.reason
    # no candidate at all: valid only as far as its own certificate goes, and never trusted
    own = xmlsig.verify_signature(root, node, [], embedded=[carried])
    assert (own.valid, own.trusted, own.covered) == (True, False, root)
    assert own.reason == "verified only with the certificate the signature carries"
    nothing = xmlsig.verify_signature(root, node, [])
    assert (nothing.valid, nothing.problem) == (False, xmlsig.INVALID)
    assert nothing.reason == "no trusted certificate given and the signature carries none"


@pytest.mark.parametrize("where", ["before", "after", "inside"])
def test_wrapping_a_second_element_with_the_signed_id(signed_item, signer, where):
    """Signature wrapping: an unsigned copy carrying the signed ID, placed before or after the
    signed element, or inside it; the signature still verifies over the original, so only the
    uniqueness of the ID tells which element a reader would take."""
    root = parse_xml(signed_item)
    evil = copy.deepcopy(root[0])
    evil.remove(signature_of(evil))
    evil[0].text = "mallory"
    if where == "before":
        root.insert(0, evil)
    elif where == "after":
        root.append(evil)
    else:
        root[0].append(evil)
    check = xmlsig.verify_signature(root, signature_of(root), [signer.cert])
    assert (check.valid, check.problem, check.covered) == (False, xmlsig.WRAPPING, None)
    assert "signed ID" in check.reason
    # control: the same document without the copy verifies
    clean = parse_xml(signed_item)
    assert xmlsig.verify_signature(clean, signature_of(clean), [signer.cert]).valid


# --------------------------------------------------------------------------- ds:X509Certificate

def test_x509_certificate_text_der_pem_and_damage(signer):
    der_text = base64.encodebytes(signer.der).decode("ascii")  # line-wrapped, as signers write it
    assert xmlsig.x509_certificate(der_text) == (signer.cert, xmlsig.DER)
    pem_text = base64.b64encode(signer.pem).decode("ascii")  # base64 of PEM: read, but reported
    assert xmlsig.x509_certificate(pem_text) == (signer.cert, xmlsig.PEM)
    with pytest.raises(xmlsig.X509CertificateError, match="^X509Certificate: not base64$"):
        xmlsig.x509_certificate("not base64!")
    with pytest.raises(xmlsig.X509CertificateError, match="^signer: empty$"):
        xmlsig.x509_certificate("  \n", what="signer")
    with pytest.raises(xmlsig.X509CertificateError):
        xmlsig.x509_certificate(base64.b64encode(b"\x30\x03\x02\x01\x00").decode("ascii"))
