# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the molecule scenario's SAML fixtures into the directory given as the argument.

Real parts only: IdP and SP metadata from pysaml2 (signed by xmlsec1) and keys checked by
openssl, through the unit tests' fixture module.  Writes good/, bad/, hostile/ and one
``<case>-vars.yml`` (JSON, which is YAML) per case with the role's variables.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "tests", "support"))

import saml_idp_fixtures as fx  # noqa: E402  pylint: disable=wrong-import-position,import-error

HOST = fx.SERVER_HOST


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def main(base):
    good, bad, hostile = (os.path.join(base, d) for d in ("good", "bad", "hostile"))
    for directory in (good, bad, hostile):
        os.makedirs(directory, exist_ok=True)
    sp_key = fx.key("rsa", 2048, "molecule-sp")
    sp_cert = fx.self_signed(sp_key, HOST)
    idp = fx.Idp(good, name="molecule-idp")
    common = {"saml_server_host": HOST, "saml_acs_url": f"https://{HOST}/wg/saml/SSO/index.html"}

    good_vars = dict(common, saml_sp_cert_src=write(os.path.join(good, "saml.crt"), fx.pem(sp_cert)),
                     saml_sp_key_src=write(os.path.join(good, "saml.key"), fx.key_file(sp_key, "pkcs1")),
                     saml_idp_metadata_src=write(os.path.join(good, "idp.xml"), idp.metadata(sign="sha256")),
                     saml_idp_metadata_signer_src=write(os.path.join(good, "signer.crt"), fx.pem(idp.cert)),
                     saml_sp_metadata_src=write(os.path.join(good, "sp.xml"), fx.sp_metadata(good)))

    weak_key = fx.key("rsa", 1024, "molecule-weak")
    weak_cert = fx.self_signed(weak_key, HOST)
    weak_idp = fx.Idp(bad, kind="rsa", size=1024, name="molecule-weak-idp")
    other_key = fx.key("rsa", 2048, "molecule-other")
    bad_vars = dict(common, saml_sp_cert_src=write(os.path.join(bad, "saml.crt"), fx.pem(weak_cert) + fx.pem(sp_cert)),
                    saml_sp_key_src=write(os.path.join(bad, "saml.key"), fx.key_file(other_key, "pkcs8")),
                    saml_sp_key_passphrase="Molecule-Secret-31",
                    saml_idp_metadata_src=write(os.path.join(bad, "idp.xml"), weak_idp.metadata(sso=("soap",), slo=())),
                    saml_acs_url=f"https://{HOST}/wg/saml/sso/index.html",
                    saml_return_url=f"https://{HOST}/")

    xxe = (b'<?xml version="1.0"?><!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&x;"/>')
    hostile_vars = dict(good_vars, saml_idp_metadata_src=write(os.path.join(hostile, "idp.xml"), xxe))
    hostile_vars.pop("saml_idp_metadata_signer_src")

    for case, variables in (("good", good_vars), ("bad", bad_vars), ("hostile", hostile_vars)):
        write(os.path.join(base, f"{case}-vars.yml"), json.dumps(variables, indent=2).encode("utf-8"))


if __name__ == "__main__":
    main(sys.argv[1])
