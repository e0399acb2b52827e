# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.android: the DER certificate, the ONC file and network_security_config.xml.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from cryptography import x509
from lxml import etree

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    android,
    identifiers,
    inputs,
    writer,
)

from .helpers import IDENT, build, cas_of, openssl, spec


def test_android_der_and_onc_hold_the_same_certificate(world):
    cas = cas_of(world["root"], world["inter"], include_intermediates=True)
    arts = writer.build_artifacts(spec(), cas, ["android"])
    ders = [a for a in arts if a.kind == "der"]
    assert [a.name for a in ders] == [
        f"mobile-test-root-ca-{cas[0].sha256[:16]}.crt",
        f"mobile-test-issuing-ca-{cas[1].sha256[:16]}.crt",
    ]
    for art, issued in zip(ders, (world["root"], world["inter"]), strict=True):
        assert certs.fingerprint(x509.load_der_x509_certificate(art.data)) == certs.fingerprint(issued[0])
        # openssl reads it as DER too (what Android's installer gets)
        res = openssl("x509", "-inform", "DER", "-noout", "-fingerprint", "-sha256", data=art.data)
        assert res.returncode == 0 and certs.fingerprint(issued[0]).encode() in res.stdout
    onc = json.loads([a for a in arts if a.kind == "onc"][0].data)
    assert onc["Type"] == "UnencryptedConfiguration" and onc["NetworkConfigurations"] == []
    entries = onc["Certificates"]
    assert [e["Type"] for e in entries] == ["Authority", "Authority"]
    assert entries[0]["TrustBits"] == ["Web"] and "TrustBits" not in entries[1]
    for entry, ca in zip(entries, cas, strict=True):
        decoded = x509.load_der_x509_certificate(base64.b64decode(entry["X509"], validate=True))
        assert decoded == ca.cert
        assert entry["GUID"] == identifiers.onc_guid(IDENT, ca.sha256)
    assert not any(a.kind == "profile" for a in arts)


def test_network_security_config_is_valid_xml_with_user_anchors(world):
    cas = cas_of(world["root"])
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    doc = etree.fromstring(android.build_network_security_config(IDENT, cas), parser)
    assert doc.tag == "network-security-config"
    anchors = doc.find("base-config/trust-anchors")
    assert [c.get("src") for c in anchors.findall("certificates")] == ["system", "user"]
    raw = inputs.raw_resource_name(inputs.cert_basename(cas[0].cert, cas[0].sha256))
    assert re.match(r"^[a-z][a-z0-9_]*$", raw)
    assert f'<certificates src="@raw/{raw}"/>' in "".join(c.text for c in anchors.xpath("comment()"))
    doc = etree.fromstring(android.build_network_security_config(IDENT, cas, ["Tableau.Example.com."]), parser)
    assert doc.find("base-config") is None
    assert [d.text for d in doc.findall("domain-config/domain")] == ["tableau.example.com"]
    assert [c.get("src") for c in doc.findall("domain-config/trust-anchors/certificates")] == ["system", "user"]
    with pytest.raises(inputs.MobileError, match="not a host or domain name"):
        android.build_network_security_config(IDENT, cas, ["bad name/with slash"])


def test_comment_text_never_breaks_the_xml(world):
    """Dashes in the CN or the identifier (a valid reverse-DNS name may hold runs of them) never put
    '--' into an XML comment: the file parses, and its comments still name the identifier."""
    odd = build("CA -- with --- dashes --", key_usage=["key_cert_sign"])
    for identifier, shown in (("com.example--x.y", "com.example- -x.y"), ("com.example---x.y", "com.example- - -x.y"),
                              ("com.example----x.y", "com.example- - - -x.y")):
        assert inputs.valid_identifier(identifier) == identifier
        doc = etree.fromstring(android.build_network_security_config(identifier, cas_of(odd)))
        comments = [c.text for c in doc.itersiblings(preceding=True)] + [c.text for c in doc.iter(etree.Comment)]
        assert len(comments) == 3 and [text for text in comments if "--" in text] == [], comments
        assert f" for {shown}. " in comments[0], comments[0]
        assert doc.find("base-config/trust-anchors/certificates[@src='user']") is not None
