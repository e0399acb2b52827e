# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mobile core: profiles against Apple's schema, Android files, CMS signing with openssl as referee.

Every certificate is made here with cryptography (conftest ``pki`` plus a small builder for the
odd ones).  ``openssl cms``/``openssl smime`` verify what we sign and sign what we read, so the
CMS code is checked against an independent implementation in both directions.  Debian 12's
``/usr/bin/python3`` (cryptography 38) must give byte-identical unsigned profiles.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import plistlib
import pwd
import re
import shutil
import string
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1, anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    android,
    apple,
    checks,
    cms,
    diff,
    identifiers,
    inputs,
    signing,
    writer,
)
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import rules as mobile_rules

OPENSSL = shutil.which("openssl")
DEBIAN_PYTHON = "/usr/bin/python3"
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(inputs.__file__), "..", "..", "..", "..", "..", ".."))
IDENT = "com.example.tableau.ca-trust"

# --------------------------------------------------------------------------- Apple's schema, as data
# From apple/device-management (branch release), mdm/profiles/TopLevel.yaml,
# mdm/profiles/CommonPayloadKeys.yaml, mdm/profiles/com.apple.security.root.yaml and
# mdm/profiles/com.apple.security.pkcs1.yaml: key -> (plist type, presence, rangelist or None).
# Types are the schema's <string>/<integer>/<boolean>/<data>/<array>/<dictionary>/<date>/<real>.
TOP_LEVEL = {
    "PayloadIdentifier": ("string", "required", None),
    "PayloadUUID": ("string", "required", None),
    "PayloadType": ("string", "required", ["Configuration"]),
    "PayloadVersion": ("integer", "required", [1]),
    "PayloadContent": ("array", "required", None),
    "IsEncrypted": ("boolean", "optional", None),
    "EncryptedPayloadContent": ("data", "optional", None),
    "PayloadDescription": ("string", "optional", None),
    "PayloadDisplayName": ("string", "optional", None),
    "HasRemovalPasscode": ("boolean", "optional", None),
    "PayloadOrganization": ("string", "optional", None),
    "PayloadRemovalDisallowed": ("boolean", "optional", None),
    "PayloadScope": ("string", "optional", ["System", "User"]),
    "RemovalDate": ("date", "optional", None),
    "DurationUntilRemoval": ("real", "optional", None),
    "PayloadExpirationDate": ("date", "optional", None),
    "TargetDeviceType": ("integer", "optional", [0, 1, 2, 3, 4, 5]),
    "ConsentText": ("dictionary", "optional", None),  # subkeys: BCP 47 language or 'default' -> <string>
}
COMMON_PAYLOAD = {
    "PayloadIdentifier": ("string", "required", None),
    "PayloadUUID": ("string", "required", None),
    "PayloadType": ("string", "required", None),
    "PayloadVersion": ("integer", "required", [1]),
    "PayloadDescription": ("string", "optional", None),
    "PayloadDisplayName": ("string", "optional", None),
    "PayloadOrganization": ("string", "optional", None),
}
CERT_PAYLOAD = {  # identical key lists in com.apple.security.root.yaml and com.apple.security.pkcs1.yaml
    "PayloadCertificateFileName": ("string", "optional", None),
    "PayloadContent": ("data", "required", None),
}
PLIST_TYPES = {"string": str, "integer": int, "boolean": bool, "data": bytes, "array": list,
               "dictionary": dict, "date": datetime.datetime, "real": float}
UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")


def check_keys(item, table, where):
    """Every key known with its schema type (bool is not an integer here), required keys present."""
    problems = []
    for key, value in item.items():
        if key not in table:
            problems.append(f"{where}: {key} is not a key of the schema")
            continue
        kind, _presence, allowed = table[key]
        pytype = PLIST_TYPES[kind]
        ok = isinstance(value, pytype) and not (kind == "integer" and isinstance(value, bool))
        if not ok:
            problems.append(f"{where}: {key} is {type(value).__name__}, the schema says <{kind}>")
        if allowed is not None and value not in allowed:
            problems.append(f"{where}: {key}={value!r} not in {allowed!r}")
    for key, (_kind, presence, _allowed) in table.items():
        if presence == "required" and key not in item:
            problems.append(f"{where}: required key {key} missing")
    return problems


def identity_problems(profile):
    """Apple's identity rules for a whole profile (TopLevel.yaml, CommonPayloadKeys.yaml): every
    PayloadUUID "globally unique" (so never twice in one profile, top level included), each an
    RFC 4122 UUID string; every payload's PayloadIdentifier "unique within the profile" (and not
    the profile's own)."""
    problems = []
    items = [("TopLevel", profile)] + [(f"PayloadContent[{i}]", p)
                                       for i, p in enumerate(profile.get("PayloadContent") or [])
                                       if isinstance(p, dict)]
    seen = {}
    for where, item in items:
        value = item.get("PayloadUUID")
        if not isinstance(value, str):
            continue
        try:
            uuid.UUID(value)
        except ValueError:
            problems.append(f"{where}: PayloadUUID {value!r} is not a UUID")
        key = value.upper()
        if key in seen:
            problems.append(f"{where}: PayloadUUID {value} is also the PayloadUUID of {seen[key]}")
        seen.setdefault(key, where)
    idents = {}
    for where, item in items:
        value = item.get("PayloadIdentifier")
        if not isinstance(value, str):
            continue
        if value in idents:
            problems.append(f"{where}: PayloadIdentifier {value} is also the PayloadIdentifier of {idents[value]}")
        idents.setdefault(value, where)
    return problems


def schema_problems(profile):
    problems = check_keys(profile, TOP_LEVEL, "TopLevel") + identity_problems(profile)
    consent = profile.get("ConsentText")
    for lang, text in (consent.items() if isinstance(consent, dict) else ()):
        if not isinstance(text, str) or not re.match(r"^(default|[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*)$", lang):
            problems.append(f"ConsentText: {lang!r} -> {text!r}")
    for index, payload in enumerate(profile.get("PayloadContent", [])):
        table = dict(COMMON_PAYLOAD)
        table.update(CERT_PAYLOAD)  # the payload's own PayloadContent (data) overrides nothing common
        where = f"PayloadContent[{index}] ({payload.get('PayloadType')})"
        if payload.get("PayloadType") not in ("com.apple.security.root", "com.apple.security.pkcs1"):
            problems.append(f"{where}: unexpected payload type")
        problems += check_keys(payload, table, where)
    return problems


# --------------------------------------------------------------------------- certificates

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


@pytest.fixture(scope="module")
def world():
    """root -> intermediate -> profile signer (emailProtection), plus a second root and its signer."""
    root = build("Mobile Test Root CA", key_usage=["key_cert_sign"])
    inter = build("Mobile Test Issuing CA", root, key_usage=["key_cert_sign"])
    signer = build(
        "Profile Signer", inter, ca=False, key_usage=["digital_signature"], eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION]
    )
    other_root = build("Other Root CA", key_usage=["key_cert_sign"])
    ec_signer = build(
        "EC Profile Signer",
        other_root,
        ca=False,
        key=ec.generate_private_key(ec.SECP256R1()),
        key_usage=["digital_signature"],
    )
    return {"root": root, "inter": inter, "signer": signer, "other_root": other_root, "ec_signer": ec_signer}


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


# --------------------------------------------------------------------------- the profile


def test_profile_matches_apples_schema(world):
    cas = cas_of(world["root"], world["inter"], include_intermediates=True)
    data = apple.build_profile(
        spec(organization="Example Corp", consent_text={"default": "Agree?", "de": "OK?"}, removal_disallowed=True), cas
    )
    profile = plistlib.loads(data)
    assert schema_problems(profile) == []
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    assert profile["PayloadIdentifier"] == IDENT and profile["PayloadRemovalDisallowed"] is True
    assert profile["ConsentText"] == {"default": "Agree?", "de": "OK?"}
    assert profile["PayloadOrganization"] == "Example Corp"
    types = [p["PayloadType"] for p in profile["PayloadContent"]]
    assert types == ["com.apple.security.root", "com.apple.security.pkcs1"]
    for payload, issued in zip(profile["PayloadContent"], (world["root"], world["inter"]), strict=True):
        der = issued[0].public_bytes(serialization.Encoding.DER)
        assert payload["PayloadContent"] == der
        assert certs.fingerprint(x509.load_der_x509_certificate(payload["PayloadContent"])) == certs.fingerprint(
            issued[0]
        )
        assert payload["PayloadCertificateFileName"].endswith(".cer")
        assert payload["PayloadIdentifier"].startswith(IDENT + ".ca.")
        assert UUID_RE.match(payload["PayloadUUID"])
    assert UUID_RE.match(profile["PayloadUUID"])
    ids = [p["PayloadIdentifier"] for p in profile["PayloadContent"]] + [IDENT]
    assert len(set(ids)) == len(ids), "payload identifiers must be unique within the profile"


def test_schema_check_catches_what_it_should():
    """The table check itself can fail: a pymobileconfig-style key, a wrong type, a missing key."""
    bad = {
        "PayloadType": "Configuration",
        "PayloadVersion": True,
        "PayloadIdentifier": "x.y",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.security.root",
                "PayloadVersion": 1,
                "PayloadIdentifier": "x.y.z",
                "PayloadUUID": "U",
                "PayloadCertificateData": b"...",
            }
        ],
        "ConsentText": "plain string",
    }
    problems = schema_problems(bad)
    assert any("PayloadUUID missing" in p and p.startswith("TopLevel") for p in problems)
    assert any("PayloadVersion is bool" in p for p in problems)
    assert any("ConsentText is str" in p for p in problems)
    assert any("PayloadCertificateData is not a key" in p for p in problems)
    assert any("required key PayloadContent missing" in p for p in problems)


def test_optional_keys_are_omitted_not_empty(world):
    profile = plistlib.loads(apple.build_profile(spec(), cas_of(world["root"])))
    assert "ConsentText" not in profile and "PayloadOrganization" not in profile
    assert "PayloadOrganization" not in profile["PayloadContent"][0]
    assert profile["PayloadDisplayName"] == apple.DEFAULT_DISPLAY_NAME
    assert profile["PayloadRemovalDisallowed"] is False
    assert schema_problems(profile) == []


def test_uuids_are_uuid5_of_identifier_role_and_sha256(world):
    cas = cas_of(world["root"], world["other_root"])
    profile = plistlib.loads(apple.build_profile(spec(), cas))
    namespace = uuid.uuid5(uuid.NAMESPACE_DNS, "mobile.trustops.tableau")
    digests = [
        hashlib.sha256(c[0].public_bytes(serialization.Encoding.DER)).hexdigest()
        for c in (world["root"], world["other_root"])
    ]
    onc = json.loads(android.build_onc(IDENT, cas))
    for payload, entry, digest in zip(profile["PayloadContent"], onc["Certificates"], digests, strict=True):
        assert payload["PayloadUUID"] == str(uuid.uuid5(namespace, f"{IDENT}/payload/{digest}")).upper()
        assert payload["PayloadIdentifier"] == f"{IDENT}.ca.{digest[:16]}"
        assert entry["GUID"] == "{{{}}}".format(uuid.uuid5(namespace, f"{IDENT}/onc/{digest}"))
    assert (
        profile["PayloadUUID"] == str(uuid.uuid5(namespace, "{}/profile/{}".format(IDENT, ",".join(digests)))).upper()
    )
    other = plistlib.loads(apple.build_profile(apple.ProfileSpec("com.example.other"), cas))
    assert {p["PayloadUUID"] for p in other["PayloadContent"]}.isdisjoint(
        {p["PayloadUUID"] for p in profile["PayloadContent"]}
    )


def test_one_ca_profile_has_distinct_stable_uuids(world):
    """Issue 11: one CA gave the profile, its only payload and the ONC certificate the same UUID."""
    cas = cas_of(world["root"])
    data = apple.build_profile(spec(), cas)
    profile = plistlib.loads(data)
    assert schema_problems(profile) == []
    (payload,) = profile["PayloadContent"]
    onc_guid = json.loads(android.build_onc(IDENT, cas))["Certificates"][0]["GUID"]
    values = [profile["PayloadUUID"], payload["PayloadUUID"], onc_guid.strip("{}").upper()]
    assert len(set(values)) == 3, values
    # stable across runs: a second build (fresh objects, same inputs) gives the same values and bytes
    again = cas_of(world["root"])
    assert apple.build_profile(spec(), again) == data
    assert json.loads(android.build_onc(IDENT, again))["Certificates"][0]["GUID"] == onc_guid
    facts = writer.cert_facts(again[0], IDENT)
    assert facts["payload_uuid"] == payload["PayloadUUID"] and facts["onc_guid"] == onc_guid
    assert identifiers.profile_uuid(IDENT, [again[0].sha256]) == profile["PayloadUUID"]


def test_many_ca_profiles_pass_apples_identity_rules(world):
    cas = cas_of(world["root"], world["inter"], world["other_root"], include_intermediates=True)
    for count in range(1, len(cas) + 1):
        profile = plistlib.loads(apple.build_profile(spec(organization="Example"), cas[:count]))
        assert schema_problems(profile) == [], count
        uuids = [profile["PayloadUUID"]] + [p["PayloadUUID"] for p in profile["PayloadContent"]]
        guids = [
            e["GUID"].strip("{}").upper() for e in json.loads(android.build_onc(IDENT, cas[:count]))["Certificates"]
        ]
        assert len(set(uuids + guids)) == len(uuids) + len(guids)


def test_identity_checker_catches_duplicates(world):
    """The checker itself fails on the profile issue 11 describes, and on repeated identifiers."""
    profile = plistlib.loads(apple.build_profile(spec(), cas_of(world["root"])))
    profile["PayloadContent"][0]["PayloadUUID"] = profile["PayloadUUID"].lower()
    problems = schema_problems(profile)
    assert problems == [
        "PayloadContent[0]: PayloadUUID {} is also the PayloadUUID of TopLevel".format(profile["PayloadUUID"].lower())
    ]
    two = plistlib.loads(apple.build_profile(spec(), cas_of(world["root"], world["other_root"])))
    two["PayloadContent"][1]["PayloadIdentifier"] = two["PayloadContent"][0]["PayloadIdentifier"]
    two["PayloadContent"][0]["PayloadUUID"] = "not-a-uuid"
    problems = schema_problems(two)
    assert any("PayloadContent[1]: PayloadIdentifier" in p and "PayloadContent[0]" in p for p in problems)
    assert any("'not-a-uuid' is not a UUID" in p for p in problems)


def test_same_inputs_give_identical_bytes_and_a_new_ca_changes_them(world):
    one = apple.build_profile(spec(consent_text="Agree"), cas_of(world["root"]))
    assert one == apple.build_profile(spec(consent_text="Agree"), cas_of(world["root"]))
    assert one != apple.build_profile(spec(consent_text="Agree"), cas_of(world["other_root"]))
    onc = android.build_onc(IDENT, cas_of(world["root"]))
    assert onc == android.build_onc(IDENT, cas_of(world["root"]))


def test_debian_python_and_cryptography_38_give_the_same_bytes_and_sign(world, tmp_path):
    """Module code runs on Debian 12 targets: same profile bytes there, and a signature openssl accepts."""
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"no {DEBIAN_PYTHON} on this machine")
    root = write(tmp_path, "root.pem", pem(world["root"][0]))
    signer = write(tmp_path, "signer.pem", pem(world["signer"][0]))
    key = write(tmp_path, "signer.key", key_pem(world["signer"][1]))
    inter = write(tmp_path, "inter.pem", pem(world["inter"][0]))
    script = (
        "import sys, cryptography\n"
        "from ansible_collections.trustops.tableau.plugins.module_utils.mobile import apple, inputs, signing\n"
        "cas, _d = inputs.load_cas([(open({!r},'rb').read(), 'root')])\n"
        "s = apple.ProfileSpec({!r}, consent_text='Agree', organization='Example')\n"
        "plist = apple.build_profile(s, cas)\n"
        "signer = signing.load_signer(open({!r},'rb').read(), open({!r},'rb').read(), None, [(open({!r},'rb').read(), 'i')])\n"
        "open({!r},'wb').write(plist); open({!r},'wb').write(signing.sign_profile(plist, signer))\n"
        "print(cryptography.__version__)\n"
    ).format(root, IDENT, signer, key, inter, str(tmp_path / "deb.plist"), str(tmp_path / "deb.mobileconfig"))
    proc = subprocess.run(
        [DEBIAN_PYTHON, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=COLLECTIONS),
    )
    if proc.returncode != 0 and "No module named 'cryptography'" in proc.stderr:
        pytest.skip(f"{DEBIAN_PYTHON} has no cryptography")
    assert proc.returncode == 0, proc.stderr
    cas, _d = inputs.load_cas([(pem(world["root"][0]), "root")])
    ours = apple.build_profile(apple.ProfileSpec(IDENT, consent_text="Agree", organization="Example"), cas)
    assert (tmp_path / "deb.plist").read_bytes() == ours
    res = openssl("cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "deb.mobileconfig"), "-CAfile", root)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ours
    # and what Debian signed counts as current here: no re-sign on the controller's newer cryptography
    current, why = signing.signed_profile_current((tmp_path / "deb.mobileconfig").read_bytes(), ours, signer_of(world))
    assert current, why


def test_intermediates_are_left_out_unless_asked(world):
    cas, _d = inputs.load_cas([(pem(world["root"][0]) + pem(world["inter"][0]), "bundle.pem")])
    assert [c.role for c in cas] == ["root", "intermediate"]
    assert [c.role for c in checks.selected(cas, False)] == ["root"]
    findings = checks.ca_findings(cas, include_intermediates=False)
    assert [(f.code, f.severity) for f in findings] == [("MOBILE-008", "warning")]
    assert "include_intermediates" in findings[0].message
    findings = checks.ca_findings(cas, include_intermediates=True)
    assert [(f.code, f.severity) for f in findings] == [("MOBILE-008", "info")]


# --------------------------------------------------------------------------- Android


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
    """A CN full of dashes must not put '--' into an XML comment."""
    odd = build("CA -- with -- dashes --", key_usage=["key_cert_sign"])
    data = android.build_network_security_config("com.example--x.y", cas_of(odd))
    etree.fromstring(data)


# --------------------------------------------------------------------------- policy


def codes(findings):
    return [f.code for f in findings]


def ed25519_root(cn):
    """A self-signed Ed25519 CA (EdDSA signs without a separate digest, so build() cannot)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )


def test_policy_refuses_leaf_expired_sha1_weak_and_warns(world, pki, tmp_path):
    """The trust-anchor decisions come from the shared policy (ANCHOR-NNN), the rest is mobile's own."""
    leaf = pki.leaf(pki.root())
    cases = {
        "leaf": (leaf.cert, ["ANCHOR-001"]),
        "expired": (build("Old Root", days=-1, start_days=-30)[0], ["ANCHOR-002"]),
        "future": (build("Future Root", days=90, start_days=10)[0], ["ANCHOR-003"]),
        # mobile's one difference: a SHA-1 self-signed root is refused (the shared default: info)
        "sha1": (openssl_sha1(tmp_path, "SHA1 Root")[0], ["ANCHOR-009"]),
        "weak": (
            build("Weak Root", key=rsa.generate_private_key(public_exponent=65537, key_size=1024))[0],
            ["ANCHOR-005"],
        ),
        "soon": (build("Short Root", days=10)[0], ["MOBILE-006"]),
        "nocn": (build("x", with_cn=False)[0], ["MOBILE-007"]),
        "eddsa": (ed25519_root("Ed25519 Root"), ["ANCHOR-007"]),
    }
    for name, (cert, expected) in cases.items():
        cas, _d = inputs.load_cas([(pem(cert), name)])
        found = checks.ca_findings(cas)
        assert codes(found) == expected, (name, found)
        assert all(name in f.message for f in found)
        assert all(f.data["sha256"] == certs.fingerprint(cert) for f in found)
        assert all(f.data["subject"] == cert.subject.rfc4514_string() for f in found)
    severities = {
        f.code: f.severity
        for name in cases
        for f in checks.ca_findings(inputs.load_cas([(pem(cases[name][0]), name)])[0])
    }
    assert severities == {
        "ANCHOR-001": "error",
        "ANCHOR-002": "error",
        "ANCHOR-003": "error",
        "ANCHOR-009": "error",
        "ANCHOR-005": "error",
        "MOBILE-006": "warning",
        "MOBILE-007": "warning",
        "ANCHOR-007": "warning",
    }
    # the device consequences are said, and no remedy names an option this module does not have
    by_name = {
        name: checks.ca_findings(inputs.load_cas([(pem(cert), name)])[0])[0] for name, (cert, _e) in cases.items()
    }
    assert "Certificate Trust Settings" in by_name["leaf"].message
    assert "iOS 13" in by_name["weak"].message and "iOS 13" in by_name["sha1"].message
    assert by_name["sha1"].data["self_signed_digest_policy"] == "error"
    for finding in by_name.values():
        assert "allow_leaf" not in finding.remedy and "allow_expired" not in finding.remedy, finding


def sub(path, name):
    (path / name).mkdir(exist_ok=True)
    return path / name


def test_ca_decisions_are_the_shared_policy(world, pki, tmp_path):
    """For every CA, mobile's ANCHOR findings are exactly check_anchor's with self_signed_digest_policy=error
    (minus ANCHOR-004, which MOBILE-008 replaces): one implementation, not a copy."""
    certs_to_judge = [
        pki.leaf(pki.root()).cert,
        build("Old Root", days=-1, start_days=-30)[0],
        openssl_sha1(tmp_path, "SHA1 Root")[0],
        openssl_sha1(sub(tmp_path, "i"), "SHA1 Inter", issuer=world["root"])[0],
        build("Weak Root", key=rsa.generate_private_key(public_exponent=65537, key_size=1024))[0],
        build("P-192 Root", key=ec.generate_private_key(ec.SECP192R1()))[0],
        world["root"][0],
        world["inter"][0],
    ]
    for cert in certs_to_judge:
        for kw in ({}, {"blocklisted_digests": []}, {"min_rsa_key_size": 4096, "min_ec_key_size": 384}):
            cas = inputs.load_cas([(pem(cert), "c")])[0]
            ours = [
                (f.code, f.severity)
                for f in checks.ca_findings(cas, include_intermediates=True, **kw)
                if f.code.startswith("ANCHOR-")
            ]
            judged = anchor_policy.check_anchor(cert, self_signed_digest_policy="error", **kw)
            shared = [(f.code, f.severity) for f in judged if f.code != "ANCHOR-004"]
            assert ours == shared, (cert.subject, kw)
    # the SHA-1 intermediate is ANCHOR-008 (issued with SHA-1) next to MOBILE-008, never ANCHOR-004
    inter = inputs.load_cas([(pem(openssl_sha1(sub(tmp_path, "j"), "SHA1 Inter", issuer=world["root"])[0]), "i")])[0]
    assert codes(checks.ca_findings(inter)) == ["ANCHOR-008", "MOBILE-008"]


def test_policy_options_move_the_thresholds(tmp_path):
    sha1 = inputs.load_cas([(pem(openssl_sha1(tmp_path, "SHA1 Root")[0]), "s")])[0]
    assert codes(checks.ca_findings(sha1, blocklisted_digests=[])) == []
    assert codes(checks.ca_findings(sha1, blocklisted_digests=["SHA-1"])) == ["ANCHOR-009"]
    ok = inputs.load_cas([(pem(build("Root")[0]), "r")])[0]
    assert codes(checks.ca_findings(ok, min_rsa_key_size=3072)) == ["ANCHOR-005"]
    assert codes(checks.ca_findings(ok, expiry_warning_days=400)) == ["MOBILE-006"]
    small_ec = inputs.load_cas([(pem(build("P-192 Root", key=ec.generate_private_key(ec.SECP192R1()))[0]), "e")])[0]
    found = checks.ca_findings(small_ec)
    assert codes(found) == ["ANCHOR-006"] and "192-bit EC key (secp192r1)" in found[0].message
    assert found[0].severity == "error"
    assert codes(checks.ca_findings(small_ec, min_ec_key_size=192)) == []
    p256 = inputs.load_cas([(pem(build("P-256 Root", key=ec.generate_private_key(ec.SECP256R1()))[0]), "e")])[0]
    assert codes(checks.ca_findings(p256)) == []
    with pytest.raises(anchor_policy.AnchorPolicyError, match="unknown digest 'shaa1'"):
        checks.ca_findings(ok, blocklisted_digests=["shaa1"])
    with pytest.raises(anchor_policy.AnchorPolicyError, match="min_rsa_key_size: -1 is negative"):
        checks.ca_findings(ok, min_rsa_key_size=-1)
    with pytest.raises(anchor_policy.AnchorPolicyError, match="unknown digest 'shaa1'"):
        checks.ca_findings([], blocklisted_digests=["shaa1"])
    with pytest.raises(inputs.MobileError, match="expiry_warning_days must be a number of days"):
        checks.ca_findings(ok, expiry_warning_days=-1)
    assert codes(checks.ca_findings(sha1, blocklisted_digests=["SHA_1", "md5"])) == ["ANCHOR-009"]


def test_duplicates_are_installed_once(world):
    cas, dups = inputs.load_cas([(pem(world["root"][0]), "a.pem"), (pem(world["root"][0]), "b.pem")])
    assert len(cas) == 1 and len(dups) == 1
    found = checks.ca_findings(cas, dups)
    assert codes(found) == ["MOBILE-009"] and "b.pem" in found[0].message


def test_garbage_and_keys_are_clear_errors(world):
    with pytest.raises(certs.CertificateError, match="not PEM or DER"):
        inputs.load_cas([(b"hello, not a certificate", "garbage.pem")])
    with pytest.raises(certs.CertificateError, match="private key"):
        inputs.load_cas([(key_pem(world["root"][1]), "root.key")])
    with pytest.raises(inputs.MobileError, match="no CA certificate given"):
        inputs.load_cas([])


def test_inputs_are_validated():
    for bad in ("tableau", "com..example", "com.example/../x", "com.exa mple", ".com.example", ""):
        with pytest.raises(inputs.MobileError, match="reverse-DNS"):
            inputs.valid_identifier(bad)
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(inputs.MobileError, match="plain file name"):
            inputs.valid_basename(bad)
    with pytest.raises(inputs.MobileError, match="control character U\\+0007"):
        apple.ProfileSpec(IDENT, display_name="bell\x07")
    with pytest.raises(inputs.MobileError, match="BCP 47"):
        inputs.consent_dict({"english please": "x"})
    with pytest.raises(inputs.MobileError, match="non-empty"):
        inputs.consent_dict({"en": "  "})
    assert inputs.consent_dict("Agree") == {"default": "Agree"}
    assert inputs.consent_dict({"pt-BR": "Sim", "default": "Yes"}) == {"pt-BR": "Sim", "default": "Yes"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(min_size=1, max_size=40), min_size=3, max_size=3))
def test_any_text_either_round_trips_or_is_refused(texts):
    """plistlib must read back exactly what we wrote, for any Unicode a user can type."""
    cert_cas = _ROOT_FOR_PROPERTY
    try:
        s = apple.ProfileSpec(IDENT, display_name=texts[0], organization=texts[1], consent_text=texts[2])
    except inputs.MobileError as exc:
        assert "control character" in str(exc) or "non-empty" in str(exc)
        assert any(inputs._XML_BAD.search(t) for t in texts) or not texts[2].strip()
        return
    data = apple.build_profile(s, cert_cas)
    assert data == apple.build_profile(s, cert_cas)
    back = plistlib.loads(data)
    lf = [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]  # XML reads CR back as LF
    assert back["PayloadDisplayName"] == lf[0]
    assert back["PayloadOrganization"] == lf[1]
    assert back["ConsentText"] == {"default": lf[2]}
    assert schema_problems(back) == []


_ROOT_FOR_PROPERTY = checks.selected(inputs.load_cas([(pem(build("Property Root")[0]), "p")])[0], False)


# --------------------------------------------------------------------------- signing, openssl as referee


def test_signed_profile_verifies_with_openssl_and_one_byte_breaks_it(world, tmp_path):
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signed = signing.sign_profile(plist, signer_of(world))
    root = write(tmp_path, "root.pem", pem(world["root"][0]))
    good = write(tmp_path, "good.mobileconfig", signed)
    res = openssl("cms", "-verify", "-inform", "DER", "-in", good, "-CAfile", root)
    assert res.returncode == 0 and b"Verification successful" in res.stderr, res.stderr
    assert res.stdout == plist
    res = openssl("smime", "-verify", "-inform", "DER", "-in", good, "-CAfile", root)
    assert res.returncode == 0 and res.stdout == plist
    # the chain is in the file: the signer and the intermediate, never the root
    listed = openssl("pkcs7", "-inform", "DER", "-in", good, "-print_certs", "-noout").stdout.decode()
    assert "subject=O = trustops mobile test, CN = Profile Signer" in listed
    assert "subject=O = trustops mobile test, CN = Mobile Test Issuing CA" in listed
    assert "CN = Mobile Test Root CA\n\nissuer" not in listed and listed.count("subject=") == 2
    # not verified against an unrelated root
    other = write(tmp_path, "other.pem", pem(world["other_root"][0]))
    assert openssl("cms", "-verify", "-inform", "DER", "-in", good, "-CAfile", other).returncode != 0
    # one byte of the property list changed: openssl and our reader both refuse it
    at = signed.index(b"<string>Configuration</string>") + len(b"<string>C")
    tampered = signed[:at] + b"K" + signed[at + 1 :]
    bad = write(tmp_path, "bad.mobileconfig", tampered)
    res = openssl("cms", "-verify", "-inform", "DER", "-in", bad, "-CAfile", root)
    assert res.returncode != 0 and b"Verification failure" in res.stderr
    got = cms.read_signed(tampered)
    assert not got.valid and "modified after signing" in got.problem
    # one byte of the signature changed
    tampered = signed[:-5] + bytes([signed[-5] ^ 0x01]) + signed[-4:]
    res = openssl(
        "cms", "-verify", "-inform", "DER", "-in", write(tmp_path, "sig.mobileconfig", tampered), "-CAfile", root
    )
    assert res.returncode != 0
    assert "does not verify" in cms.read_signed(tampered).problem


def test_cms_reader_is_the_one_der_reader(world):
    """read_signed walks the SignedData with _asn1 (the one DER reader): a broken file's problem is the
    DER reader's own words, saying what is wrong and at which offset; the reader never raises."""
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signed = signing.sign_profile(plist, signer_of(world))
    assert cms.read_signed(signed).valid
    for broken in (
        signed + b"\x00\x00",  # trailing bytes after the ContentInfo
        b"\x30\x80" + signed[4:] + b"\x00\x00",  # BER indefinite length
        signed[: len(signed) // 2],
    ):  # truncated
        with pytest.raises(_asn1.DerError) as raised:
            _asn1.whole(broken, _asn1.SEQUENCE, what="CMS ContentInfo")
        expected = str(raised.value)
        got = cms.read_signed(broken)
        assert got.content is None and not got.valid
        assert got.problem == expected, got.problem
        assert "offset" in expected or "trailing byte" in expected, expected
    # a multi-byte tag inside the SignedData is refused by the one reader, not misread as a length
    at = signed.index(b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01")  # id-data in encapContentInfo
    odd = signed[:at] + b"\x1f" + signed[at + 1 :]
    got = cms.read_signed(odd)
    assert not got.valid and "multi-byte tag 0x1f" in got.problem, got.problem


def test_ec_signer_verifies_too(world, tmp_path):
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signed = signing.sign_profile(plist, signer_of(world, "ec_signer", chain=()))
    res = openssl(
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        write(tmp_path, "ec.mobileconfig", signed),
        "-CAfile",
        write(tmp_path, "other.pem", pem(world["other_root"][0])),
    )
    assert res.returncode == 0 and res.stdout == plist, res.stderr
    got = cms.read_signed(signed)
    assert got.valid and got.digest == "sha256" and got.content == plist


@pytest.mark.parametrize("flags", [[], ["-noattr"], ["-nosmimecap"], ["-keyid"]])
def test_reader_accepts_what_openssl_signs(world, tmp_path, flags):
    """Our CMS reader against an independent producer, with and without signed attributes."""
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    src = write(tmp_path, "p.plist", plist)
    out = str(tmp_path / "p.mobileconfig")
    res = openssl(
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-md",
        "sha256",
        "-in",
        src,
        "-outform",
        "DER",
        "-out",
        out,
        "-signer",
        write(tmp_path, "s.pem", pem(world["signer"][0])),
        "-inkey",
        write(tmp_path, "s.key", key_pem(world["signer"][1])),
        "-certfile",
        write(tmp_path, "i.pem", pem(world["inter"][0])),
        *flags,
    )
    assert res.returncode == 0, res.stderr
    with open(out, "rb") as handle:
        signed = handle.read()
    got = cms.read_signed(signed)
    assert got.valid, got.problem
    assert got.content == plist and got.signer == world["signer"][0]
    assert signing.signed_profile_current(signed, plist, signer_of(world)) == (True, None)


def test_a_carried_certificate_with_unreadable_extensions_is_a_problem_not_a_crash(world, pki, tmp_path):
    """openssl signs with a key-identifier signer id and carries a certificate whose extensions
    cryptography refuses (basicConstraints twice): the reader says so (it never raises), and the
    module re-signs instead of failing."""
    from identity_pki import with_extra_extension

    key = ec.generate_private_key(ec.SECP256R1())
    twice = with_extra_extension(pki.root(cn="Twice Constrained", key=key).cert, key, b"\x55\x1d\x13",
                                 b"\x30\x03\x01\x01\xff")
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    out = str(tmp_path / "p.mobileconfig")
    res = openssl("cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-keyid", "-in",
                  write(tmp_path, "p.plist", plist), "-outform", "DER", "-out", out,
                  "-signer", write(tmp_path, "s.pem", pem(world["signer"][0])),
                  "-inkey", write(tmp_path, "s.key", key_pem(world["signer"][1])),
                  "-certfile", write(tmp_path, "t.pem", pem(twice)))
    assert res.returncode == 0, res.stderr
    with open(out, "rb") as handle:
        signed = handle.read()
    got = cms.read_signed(signed)
    assert not got.valid and got.content == plist
    assert got.problem.startswith("certificate CN=Twice Constrained") and "unreadable extensions" in got.problem
    current, reason = signing.signed_profile_current(signed, plist, signer_of(world))
    assert current is False and reason.startswith("the existing signature is invalid (certificate CN=Twice")


def test_resign_decisions(world):
    cas = cas_of(world["root"])
    plist = apple.build_profile(spec(), cas)
    signer = signer_of(world)
    signed = signing.sign_profile(plist, signer)
    assert signing.signed_profile_current(signed, plist, signer) == (True, None)
    # a second signature differs byte-wise (signing time) but is just as current: no churn
    assert signing.signed_profile_current(signing.sign_profile(plist, signer), plist, signer) == (True, None)
    changed = apple.build_profile(spec(display_name="New name"), cas)
    assert signing.signed_profile_current(signed, changed, signer) == (False, "the profile content changed")
    assert signing.signed_profile_current(signed, plist, signer_of(world, "ec_signer", ())) == (
        False,
        "the signer changed",
    )
    assert signing.signed_profile_current(signed, plist, signer_of(world, chain=())) == (
        False,
        "the signer chain changed",
    )
    at = signed.index(b"<string>Configuration</string>") + 9
    current, why = signing.signed_profile_current(signed[:at] + b"X" + signed[at + 1 :], plist, signer)
    assert not current and why.startswith("the profile content changed")
    current, why = signing.signed_profile_current(plist, plist, signer)
    assert not current and "not a signed profile" in why
    current, why = signing.signed_profile_current(b"\x30\x03\x02\x01\x01", plist, signer)
    assert not current and "not a signed profile" in why
    for junk in (b"", b"\x30", b"\x30\x80\x00\x00", os.urandom(64)):
        assert not cms.read_signed(junk).valid


def test_signature_by_a_tampered_but_consistent_file_is_caught(world):
    """Content swapped together with the messageDigest attribute: only the signature check catches it."""
    plist = apple.build_profile(spec(), cas_of(world["root"]))
    signer = signer_of(world)
    signed = signing.sign_profile(plist, signer)
    old_digest = hashlib.sha256(plist).digest()
    other = plist.replace(b"Configuration", b"Configuratiom")
    forged = signed.replace(plist, other).replace(old_digest, hashlib.sha256(other).digest())
    assert forged != signed
    got = cms.read_signed(forged)
    assert got.content == other and not got.valid and "does not verify" in got.problem
    assert signing.signed_profile_current(forged, other, signer)[0] is False


# --------------------------------------------------------------------------- signer input and policy


def test_signer_errors_are_clear(world, pki):
    cert, key = world["signer"]
    with pytest.raises(certs.CertificateError, match="wrong passphrase"):
        signing.load_signer(pem(cert), key_pem(key, b"right"), "wrong")
    with pytest.raises(inputs.MobileError, match="encrypted; give signer_key_passphrase"):
        signing.load_signer(pem(cert), key_pem(key, b"right"))
    signer = signing.load_signer(pem(cert), key_pem(key, b"right"), "right", [(pem(world["inter"][0]), "c")])
    assert signer.chain == [world["inter"][0]]
    with pytest.raises(inputs.MobileError, match="does not belong to signer_cert"):
        signing.load_signer(pem(cert), key_pem(world["root"][1]))
    with pytest.raises(inputs.MobileError, match="DSA key cannot sign"):
        dsa_key = dsa.generate_private_key(key_size=2048)
        signing.load_signer(pem(build("DSA signer", key=dsa_key, ca=False)[0]), key_pem(dsa_key))
    with pytest.raises(certs.CertificateError, match="not PEM or DER"):
        signing.load_signer(b"garbage", key_pem(key))


def test_signer_findings(world, tmp_path):
    cas = cas_of(world["root"])
    assert codes(checks.signer_findings(signer_of(world), cas)) == ["MOBILE-012"]
    other = cas_of(world["other_root"])
    # the chain up to the root is included: nothing to say
    assert codes(checks.signer_findings(signer_of(world, chain=("inter", "root")), other)) == []
    # the usual case (root left out) and a missing intermediate both name where the chain stops
    found = checks.signer_findings(signer_of(world), other)
    assert codes(found) == ["MOBILE-013"] and found[0].severity == "info"
    assert (
        "ends at CN=Mobile Test Issuing CA" in found[0].message and "issuer CN=Mobile Test Root CA" in found[0].message
    )
    found = checks.signer_findings(signer_of(world, chain=()), other)
    assert codes(found) == ["MOBILE-013"] and "issuer CN=Mobile Test Issuing CA" in found[0].message
    # a stray certificate in the chain
    assert codes(checks.signer_findings(signer_of(world, chain=("inter", "root", "other_root")), other)) == [
        "MOBILE-011"
    ]
    full = [world["inter"][0], world["root"][0]]

    def judged(cert_key):
        return checks.signer_findings(signing.Signer(*cert_key, chain=full), other)

    expired = build(
        "Expired signer", world["inter"], ca=False, days=-1, start_days=-10, key_usage=["digital_signature"]
    )
    assert codes(judged(expired)) == ["MOBILE-010"]
    no_sig = build("Encipher only", world["inter"], ca=False, key_usage=["key_encipherment"])
    assert codes(judged(no_sig)) == ["MOBILE-016"]
    server = build(
        "TLS server", world["inter"], ca=False, key_usage=["digital_signature"], eku=[ExtendedKeyUsageOID.SERVER_AUTH]
    )
    found = judged(server)
    assert codes(found) == ["MOBILE-017"] and found[0].severity == "warning"
    weak = build(
        "Weak signer",
        world["inter"],
        ca=False,
        key_usage=["digital_signature"],
        key=rsa.generate_private_key(public_exponent=65537, key_size=1024),
    )
    assert codes(judged(weak)) == ["MOBILE-015"]
    sha1 = openssl_sha1(tmp_path, "SHA-1 signer", issuer=world["inter"], ca=False)
    assert codes(judged(sha1)) == ["MOBILE-014"]
    assert codes(checks.signer_findings(signing.Signer(*sha1, chain=full), other, blocklisted_digests=[])) == []


SIGNER_KEYS = [("rsa", 1024), ("rsa", 2048), ("ec", 192), ("ec", 256), ("ec", 384)]


@pytest.mark.parametrize("min_rsa,min_ec", [(2048, 256), (3072, 384), (0, 0)])
def test_signer_key_decisions_are_the_shared_policy(world, pki, min_rsa, min_ec):
    """MOBILE-015 is the shared policy's key rule (ANCHOR-005/006) applied to the signer, with the
    threshold it was judged by; no second copy of the rule decides differently."""
    other = cas_of(world["other_root"])
    full = [world["inter"][0], world["root"][0]]
    for kind, size in SIGNER_KEYS:
        from conftest import make_key  # the suite's key cache: real keys, made once

        cert, key = build(
            f"{kind}-{size} signer",
            world["inter"],
            ca=False,
            key_usage=["digital_signature"],
            key=make_key(kind, size),
        )
        shared = [
            f
            for f in anchor_policy.check_anchor(cert, allow_leaf=True, min_rsa_key_size=min_rsa, min_ec_key_size=min_ec)
            if f.code in ("ANCHOR-005", "ANCHOR-006")
        ]
        found = [
            f
            for f in checks.signer_findings(
                signing.Signer(cert, key, full), other, min_rsa_key_size=min_rsa, min_ec_key_size=min_ec
            )
            if f.code == "MOBILE-015"
        ]
        assert len(found) == len(shared), (kind, size, min_rsa, min_ec)
        for mine, theirs in zip(found, shared, strict=True):
            assert mine.severity == theirs.severity == "error"
            threshold = "min_rsa_key_size" if kind == "rsa" else "min_ec_key_size"
            assert mine.data[threshold] == theirs.data[threshold] == (min_rsa if kind == "rsa" else min_ec)
            assert f"({threshold})" in mine.message and mine.message.startswith("signer CN=")


# --------------------------------------------------------------------------- the MOBILE registry

CHECKOUT = Path(mobile_rules.__file__).resolve().parents[3]  # the repository root is the collection root
SEED_000 = sorted((CHECKOUT.parent / "shared" / "seeds").glob("000_*.txt"))  # shared/ beside the checkout


def emitted_findings(world, tmp_path):
    """Every finding the mobile core gives for real inputs that reach every MOBILE rule: CAs
    (soon expiring, no CN, intermediate with and without include_intermediates, given twice) and
    signers (the usual chain, no chain, a stray chain certificate, expired, no digitalSignature,
    serverAuth only, weak RSA and EC keys, SHA-1 made by openssl)."""
    found = []
    for cert in (build("Short Root", days=10)[0], build("x", with_cn=False)[0], world["inter"][0]):
        cas, dups = inputs.load_cas([(pem(cert), "a.pem"), (pem(cert), "b.pem")])
        for include in (False, True):
            found += checks.ca_findings(cas, dups, include_intermediates=include)
    cas, other = cas_of(world["root"]), cas_of(world["other_root"])
    full = [world["inter"][0], world["root"][0]]
    signers = [signer_of(world), signer_of(world, chain=()), signer_of(world, chain=("inter", "root", "other_root"))]
    odd = [
        build("Expired signer", world["inter"], ca=False, days=-1, start_days=-10, key_usage=["digital_signature"]),
        build("Encipher only", world["inter"], ca=False, key_usage=["key_encipherment"]),
        build("TLS server", world["inter"], ca=False, key_usage=["digital_signature"],
              eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        build("Weak RSA signer", world["inter"], ca=False, key_usage=["digital_signature"],
              key=rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        build("P-192 signer", world["inter"], ca=False, key_usage=["digital_signature"],
              key=ec.generate_private_key(ec.SECP192R1())),
        openssl_sha1(tmp_path, "SHA-1 signer", issuer=world["inter"], ca=False),
    ]
    signers += [signing.Signer(cert, key, full) for cert, key in odd]
    for signer in signers:
        for judged_cas in (cas, other):
            found += checks.signer_findings(signer, judged_cas)
    return found


def test_every_mobile_code_emitted_is_registered_and_every_rule_is_reached(world, tmp_path):
    found = [f for f in emitted_findings(world, tmp_path) if f.code.startswith("MOBILE-")]
    assert {f.code for f in found} == set(mobile_rules.RULES)  # no stray code, no unreachable rule
    for f in found:
        rule = mobile_rules.RULES[f.code]
        # MOBILE-008 is info when the intermediate is installed on purpose; every other code keeps its severity
        assert f.severity == rule.severity or (f.code, f.severity) == ("MOBILE-008", "info"), f
        assert "{" not in f.message and "}" not in f.message and f.remedy, f
        # the template's fixed words are in the message: the text comes from the registry
        fixed = [text.strip() for text, *_rest in string.Formatter().parse(rule.message) if len(text.strip()) > 8]
        assert fixed and all(part in f.message for part in fixed), (f.code, fixed, f.message)
        # wording choices stay out of data; the certificate's facts are in it
        assert not mobile_rules.WORDING_FIELDS.intersection(f.data), f.data
        if f.code != "MOBILE-009":
            assert f.data["subject"] in f.message and len(f.data["sha256"]) == 95
    by_code = {f.code: f for f in found}
    assert by_code["MOBILE-014"].data["digest"] == "sha1" and " SHA1," in by_code["MOBILE-014"].message
    weak = [f for f in found if f.code == "MOBILE-015"]
    assert {f.data["key_type"] for f in weak} == {"RSA", "EC"}
    assert all(("iOS 13" in f.message) == (f.data["key_type"] == "RSA") for f in weak)


def test_mobile_registry_rules_are_complete():
    assert mobile_rules.REGISTRY.prefix == "MOBILE" and mobile_rules.REGISTRY.seeds == "seed 000"
    assert sorted(mobile_rules.RULES) == [f"MOBILE-{n:03d}" for n in range(6, 18)]
    for code, rule in mobile_rules.RULES.items():
        assert rule.code == code and rule.title and rule.message and rule.remedy and rule.seed, code
        assert rule.tsm_key is None  # no TSM key relaxes a device-side rule
        names = {name for _t, name, _s, _c in string.Formatter().parse(rule.message + rule.remedy) if name}
        made = mobile_rules.finding(code, **{name: f"<{name}>" for name in names})
        assert made.code == code and "{" not in made.message + made.remedy


@pytest.mark.skipif(not SEED_000, reason="shared/seeds is not beside this checkout")
def test_mobile_seed_sentences_are_seed_000_verbatim():
    seed = " ".join(SEED_000[0].read_text(encoding="utf-8").split())
    for code, rule in mobile_rules.RULES.items():
        if rule.seed.startswith("Not a vendor rule:"):
            continue
        assert " ".join(rule.seed.split()) in seed, code


def test_docs_table_has_every_mobile_rule_with_its_severity():
    text = (CHECKOUT / "docs" / "mobile.md").read_text(encoding="utf-8")
    for code, rule in mobile_rules.RULES.items():
        rows = [line for line in text.splitlines() if line.startswith(f"| {code} |")]
        assert len(rows) == 1, code
        assert rows[0].split("|")[2].strip().startswith(rule.severity), rows[0]


# --------------------------------------------------------------------------- plan and write


def listing(path):
    return {name: (path / name).read_bytes() for name in sorted(os.listdir(path))}


def test_plan_write_converge(world, tmp_path):
    dest = tmp_path / "out"
    signer = signer_of(world)
    arts = writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"])
    writer.plan(str(dest), arts, signer)
    assert [a.action for a in arts] == ["create"] * 4 and arts[0].resign
    writer.finalize(arts, signer)
    written = writer.write(str(dest), arts)
    assert sorted(os.path.basename(p) for p in written) == sorted(os.listdir(dest))
    assert all(oct(os.stat(p).st_mode & 0o777) == "0o644" for p in written)
    before = listing(dest)
    again = writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"]), signer)
    assert [a.action for a in again] == ["keep"] * 4 and not any(a.resign for a in again)
    assert writer.write(str(dest), again) == [] and listing(dest) == before
    # signing switched off: the profile is rewritten unsigned, with the reason
    unsigned = writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"]))
    assert unsigned[0].action == "update" and unsigned[0].reason == "the profile was signed; signing is off now"


def test_write_is_all_or_nothing(world, tmp_path):
    dest = tmp_path / "out"
    first = writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"])
    writer.write(str(dest), writer.plan(str(dest), first))
    before = listing(dest)
    two = cas_of(world["root"], world["other_root"])
    arts = writer.plan(str(dest), writer.build_artifacts(spec(display_name="v2"), two, ["ios", "android"]))
    assert [a.action for a in arts] == ["update", "keep", "create", "update", "update"]
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        os.replace(src, dst)

    with pytest.raises(writer.WriteError, match="No space left on device.*restored the previous files"):
        writer.write(str(dest), arts, move=flaky)
    assert len(calls) == 3
    assert listing(dest) == before, "the previous files are back and nothing half-written stays"


NOBODY = pwd.getpwnam("nobody")
PAST_NS = 1500000000 * 10**9  # 2017-07-14: an mtime no write of this test can produce by accident


def file_state(path):
    """What a rollback must give back: bytes, type and permission bits, owner, group, mtime."""
    st = os.stat(path)
    with open(path, "rb") as handle:
        data = handle.read()
    return {"data": data, "mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "mtime_ns": st.st_mtime_ns}


def as_nobody_0600(path):
    assert os.geteuid() == 0, "this test gives files to nobody, which needs root (the test machines run as root)"
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    os.chmod(path, 0o600)
    os.utime(path, ns=(PAST_NS, PAST_NS))


def test_rollback_restores_content_mode_owner_and_mtime(world, tmp_path):
    """Issue 11: a later rename fails; the files already moved must come back as they were
    (0600, nobody, old mtime), not just with their old bytes (they came back 0644/root)."""
    dest = tmp_path / "out"
    writer.write(
        str(dest), writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"]))
    )
    os.unlink(str(dest / android.NSC_FILE))
    for name in os.listdir(dest):
        as_nobody_0600(str(dest / name))
    before = {name: file_state(str(dest / name)) for name in sorted(os.listdir(dest))}
    two = cas_of(world["root"], world["other_root"])
    arts = writer.plan(str(dest), writer.build_artifacts(spec(display_name="v2"), two, ["ios", "android"]))
    assert [a.action for a in arts] == ["update", "keep", "create", "update", "create"]
    # a real failing rename: the last target becomes a directory after the plan was made
    os.mkdir(str(dest / android.NSC_FILE))
    with pytest.raises(writer.WriteError, match="restored the previous files"):
        writer.write(str(dest), arts)
    after = {name: file_state(str(dest / name)) for name in sorted(os.listdir(dest)) if name != android.NSC_FILE}
    assert after == before, "profile and ONC were moved, then must be back byte for byte with mode, owner, mtime"
    assert sorted(os.listdir(dest)) == sorted(list(before) + [android.NSC_FILE]), "no new or temporary file stays"


def test_update_keeps_mode_and_owner_of_the_existing_file(world, tmp_path):
    """The documented 'an existing file keeps its mode', whatever move function writes it."""
    dest = tmp_path / "out"
    writer.write(str(dest), writer.plan(str(dest), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"])))
    (profile,) = os.listdir(dest)
    as_nobody_0600(str(dest / profile))
    arts = writer.plan(str(dest), writer.build_artifacts(spec(display_name="v2"), cas_of(world["root"]), ["ios"]))
    assert [a.action for a in arts] == ["update"]
    writer.write(str(dest), arts)
    state = file_state(str(dest / profile))
    assert (state["mode"], state["uid"], state["gid"]) == (oct(0o100600), NOBODY.pw_uid, NOBODY.pw_gid)
    assert state["data"] == arts[0].data and state["mtime_ns"] != PAST_NS
    new = tmp_path / "new"
    arts = writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"])
    written = writer.write(str(new), writer.plan(str(new), arts))
    assert oct(os.stat(written[0]).st_mode) == oct(0o100644), "a new file is 0644"


def test_bad_input_leaves_no_partial_files(world, tmp_path):
    dest = tmp_path / "new"
    with pytest.raises(inputs.MobileError, match="exists and is not a directory"):
        writer.plan(str(write(tmp_path, "afile", b"x")), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios"]))
    with pytest.raises(inputs.MobileError, match="no CA certificate left"):
        writer.build_artifacts(spec(), [], ["ios"])
    with pytest.raises(inputs.MobileError, match="not one of"):
        writer.build_artifacts(spec(), cas_of(world["root"]), ["windows"])
    assert not dest.exists()


RENAMED = "Renamed profile (v2)"


def test_diff_shows_plist_and_never_key_material(world, tmp_path):
    signer = signer_of(world)
    arts = writer.plan(str(tmp_path), writer.build_artifacts(spec(), cas_of(world["root"]), ["ios", "android"]), signer)
    entries = diff.diff_entries(arts, signer)
    assert len(entries) == 4 and all(e["before"] == "" for e in entries)
    assert entries[0]["after"].startswith("# CMS SignedData, signer CN=Profile Signer,O=trustops mobile test")
    assert "<key>PayloadType</key>" in entries[0]["after"]
    assert entries[1]["after"].startswith("DER certificate CN=Mobile Test Root CA,O=trustops mobile test")
    text = json.dumps(entries)
    assert "PRIVATE KEY" not in text
    writer.write(str(tmp_path), writer.finalize(arts, signer))
    arts = writer.plan(
        str(tmp_path), writer.build_artifacts(spec(display_name=RENAMED), cas_of(world["root"]), ["ios"]), signer
    )
    entry = diff.diff_entries(arts, signer)[0]
    assert "signature valid" in entry["before"] and "Tableau Server certificate authorities" in entry["before"]
    # the whole plist element: spaces and parentheses never occur in base64 <data>, so this
    # cannot be matched by chance inside certificate or signature bytes
    renamed = f"<string>{RENAMED}</string>"
    assert renamed in entry["after"] and renamed not in entry["before"]


def test_cert_facts(world):
    ca = cas_of(world["root"])[0]
    facts = writer.cert_facts(ca, IDENT)
    assert facts["sha256"] == certs.fingerprint(world["root"][0]) and facts["role"] == "root"
    assert facts["common_name"] == "Mobile Test Root CA"
    assert facts["payload_type"] == "com.apple.security.root"
    assert facts["android_file"] == f"mobile-test-root-ca-{ca.sha256[:16]}.crt"
    assert facts["onc_guid"].strip("{}").upper() != facts["payload_uuid"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
