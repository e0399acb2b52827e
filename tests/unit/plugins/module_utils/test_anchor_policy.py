# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared trust-anchor policy (module_utils/anchor_policy.py): one failing and one passing
input for every ANCHOR-NNN code, the options, and ``openssl verify`` as the referee for the
severities that matter (weak keys and SHA-1 signatures).

Certificates come from the ``pki`` fixture; SHA-1 signed ones from openssl (cryptography no
longer signs with SHA-1); Ed25519/Ed448 ones are built here (the fixture signs with a digest).
"""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x448
from cryptography.x509.oid import NameOID
from pki_factory import make_key

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy as ap
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

REPO_ROOT = Path(__file__).resolve().parents[4]
DEBIAN_PYTHON = "/usr/bin/python3"
NOW = datetime.datetime.now(datetime.timezone.utc)


def codes(findings):
    """{code: severity}; also asserts a code is reported at most once."""
    out = {}
    for f in findings:
        assert f.code not in out, f"{f.code} reported twice"
        out[f.code] = f.severity
    return out


def openssl(*args, data=None, check=True):
    proc = subprocess.run(["openssl"] + [str(a) for a in args], input=data, capture_output=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def load(path):
    return certs.load_certificate(Path(path).read_bytes(), str(path))


# --------------------------------------------------------------------------- certificates

@pytest.fixture(scope="module")
def cas(pki):
    root = pki.root(cn="Policy Root")
    return {
        "root": root,
        "intermediate": pki.intermediate(root, cn="Policy Intermediate"),
        "leaf": pki.leaf(root, cn="tableau.example.test"),
        "selfsigned": pki.self_signed_leaf(),
        "expired": pki.root(cn="Expired Root", days=-1, start_days=-400),
        "future": pki.root(cn="Future Root", start_days=5, days=400),
        "rsa1024": pki.root(cn="RSA 1024 Root", key=make_key("rsa", 1024, fresh=True)),
        "dsa1024": pki.root(cn="DSA 1024 Root", key=make_key("dsa", 1024, fresh=True)),
        "p256": pki.root(cn="P-256 Root", key=make_key("ec", 256, fresh=True)),
        "p384": pki.root(cn="P-384 Root", key=make_key("ec", 384, fresh=True)),
    }


def _eddsa_root(kind):
    key = {"Ed25519": ed25519.Ed25519PrivateKey, "Ed448": ed448.Ed448PrivateKey}[kind].generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{kind} Root")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, None))


@pytest.fixture(scope="module")
def sha1_pki(tmp_path_factory):
    """By openssl: a SHA-1 self-signed root, a SHA-1 signed intermediate, a SHA-256 leaf under
    each, all RSA 2048 (file paths)."""
    d = tmp_path_factory.mktemp("sha1")
    (d / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    openssl("req", "-x509", "-sha1", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "root.key",
            "-out", d / "root.pem", "-days", "30", "-subj", "/O=trustops test/CN=SHA1 Root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "int.key",
            "-out", d / "int.csr", "-subj", "/O=trustops test/CN=SHA1 Intermediate")
    openssl("x509", "-req", "-sha1", "-in", d / "int.csr", "-CA", d / "root.pem", "-CAkey", d / "root.key",
            "-set_serial", "4660", "-out", d / "int.pem", "-days", "30", "-extfile", d / "ca.ext")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "leaf.key",
            "-out", d / "leaf.csr", "-subj", "/CN=leaf.example.test")
    for issuer, out in (("int", "leaf-int.pem"), ("root", "leaf-root.pem")):
        openssl("x509", "-req", "-sha256", "-in", d / "leaf.csr", "-CA", d / (f"{issuer}.pem"),
                "-CAkey", d / (f"{issuer}.key"), "-set_serial", "7", "-out", d / out, "-days", "10")
    return d


# --------------------------------------------------------------------------- one code at a time

def test_a_clean_root_has_no_findings(cas):
    assert ap.check_anchor(cas["root"].cert) == []
    assert ap.check_anchor(cas["p384"].cert) == []


def test_001_not_a_ca(cas):
    refused = ap.check_anchor(cas["leaf"].cert)
    assert codes(refused) == {"ANCHOR-001": "error"}
    assert refused[0].message == "CN=tableau.example.test,O=trustops test is not a CA certificate " \
                                 "(no basicConstraints CA:TRUE)"
    assert "allow_leaf=true" in refused[0].remedy
    allowed = ap.check_anchor(cas["selfsigned"].cert, allow_leaf=True)
    assert codes(allowed) == {"ANCHOR-001": "warning"}
    assert "not a CA" in allowed[0].message and "this one certificate only" in allowed[0].message
    assert allowed[0].data == {"subject": "CN=selfsigned.example.test,O=trustops test", "allow_leaf": True,
                               "self_signed": True}
    # passing: a CA, with or without allow_leaf
    assert "ANCHOR-001" not in codes(ap.check_anchor(cas["intermediate"].cert))
    assert ap.check_anchor(cas["root"].cert, allow_leaf=True) == []


def test_002_expired(cas):
    refused = ap.check_anchor(cas["expired"].cert)
    assert codes(refused) == {"ANCHOR-002": "error"}
    assert "expired on {}".format(certs.not_after(cas["expired"].cert).isoformat()) in refused[0].message
    assert "allow_expired=true" in refused[0].remedy
    assert codes(ap.check_anchor(cas["expired"].cert, allow_expired=True)) == {"ANCHOR-002": "warning"}
    # passing: the same certificate judged while it was valid (the clock is an argument)
    assert ap.check_anchor(cas["expired"].cert, now=NOW - datetime.timedelta(days=200)) == []


def test_003_not_yet_valid(cas):
    refused = ap.check_anchor(cas["future"].cert)
    assert codes(refused) == {"ANCHOR-003": "error"}
    assert "is not valid before {}".format(certs.not_before(cas["future"].cert).isoformat()) in refused[0].message
    assert codes(ap.check_anchor(cas["future"].cert, allow_expired=True)) == {"ANCHOR-003": "warning"}
    assert ap.check_anchor(cas["future"].cert, now=NOW + datetime.timedelta(days=10)) == []


def test_004_intermediate(cas):
    found = ap.check_anchor(cas["intermediate"].cert)
    assert codes(found) == {"ANCHOR-004": "warning"}
    assert "issued by CN=Policy Root,O=trustops test" in found[0].message
    assert found[0].data["issuer"] == "CN=Policy Root,O=trustops test"
    # passing: the self-signed root; and a leaf issued by a CA is a leaf (001), not an intermediate
    assert ap.check_anchor(cas["root"].cert) == []
    assert "ANCHOR-004" not in codes(ap.check_anchor(cas["leaf"].cert, allow_leaf=True))


def test_005_small_rsa_and_dsa_keys(cas):
    found = ap.check_anchor(cas["rsa1024"].cert)
    assert codes(found) == {"ANCHOR-005": "error"}
    assert "1024-bit RSA key; the minimum is 2048" in found[0].message and "OpenSSL" in found[0].message
    assert codes(ap.check_anchor(cas["dsa1024"].cert)) == {"ANCHOR-005": "error"}
    # the threshold is the option, both ways
    assert ap.check_anchor(cas["rsa1024"].cert, min_rsa_key_size=1024) == []
    assert ap.check_anchor(cas["dsa1024"].cert, min_rsa_key_size=1024) == []
    strict = ap.check_anchor(cas["root"].cert, min_rsa_key_size=3072)
    assert codes(strict) == {"ANCHOR-005": "error"}
    assert "2048-bit RSA key; the minimum is 3072" in strict[0].message and "OpenSSL" not in strict[0].message
    assert ap.check_anchor(cas["root"].cert) == []
    # RSA size does not judge an EC key
    assert ap.check_anchor(cas["p256"].cert, min_rsa_key_size=4096) == []


def test_006_small_ec_keys(cas):
    found = ap.check_anchor(cas["p256"].cert, min_ec_key_size=384)
    assert codes(found) == {"ANCHOR-006": "error"}
    assert "256-bit EC key (secp256r1); the minimum is 384" in found[0].message
    assert found[0].data["curve"] == "secp256r1"
    assert ap.check_anchor(cas["p256"].cert) == []
    assert ap.check_anchor(cas["p384"].cert, min_ec_key_size=384) == []
    assert ap.check_anchor(cas["root"].cert, min_ec_key_size=521) == []


@pytest.mark.parametrize("kind", ["Ed25519", "Ed448"])
def test_007_eddsa_keys(kind, cas):
    found = ap.check_anchor(_eddsa_root(kind))
    assert codes(found) == {"ANCHOR-007": "warning"}
    assert f"has an {kind} key" in found[0].message
    # passing: ECDSA and RSA keys
    assert "ANCHOR-007" not in codes(ap.check_anchor(cas["p256"].cert))
    # no size option judges an EdDSA key
    assert codes(ap.check_anchor(_eddsa_root(kind), min_ec_key_size=521, min_rsa_key_size=8192)) == {
        "ANCHOR-007": "warning"}


def test_008_blocklisted_digest_on_an_issued_certificate(sha1_pki, cas):
    inter = load(sha1_pki / "int.pem")
    found = ap.check_anchor(inter)
    assert codes(found) == {"ANCHOR-004": "warning", "ANCHOR-008": "error"}
    by_code = {f.code: f for f in found}
    assert "is signed with blocklisted digest SHA1" in by_code["ANCHOR-008"].message
    assert by_code["ANCHOR-008"].data["digest"] == "sha1"
    # the blocklist is the option: empty accepts it, spellings are normalised
    assert codes(ap.check_anchor(inter, blocklisted_digests=[])) == {"ANCHOR-004": "warning"}
    for spelling in (["SHA-1"], ["sha_1"], [" Sha1 "], "sha1", ["md5", "SHA1"]):
        assert "ANCHOR-008" in codes(ap.check_anchor(inter, blocklisted_digests=spelling)), spelling
    # any digest can be blocklisted; a SHA-256 intermediate passes by default
    assert codes(ap.check_anchor(cas["intermediate"].cert, blocklisted_digests=["sha256"]))["ANCHOR-008"] == "error"
    assert "ANCHOR-008" not in codes(ap.check_anchor(cas["intermediate"].cert))


def test_009_blocklisted_digest_on_a_self_signed_root(sha1_pki, cas):
    root = load(sha1_pki / "root.pem")
    found = ap.check_anchor(root)
    assert codes(found) == {"ANCHOR-009": "info"}
    assert "self-signed with SHA1" in found[0].message and "RFC 5280 6.1.1" in found[0].message
    assert ap.check_anchor(root, blocklisted_digests=[]) == []
    # passing: a SHA-256 root, even with SHA-256 not blocklisted... and blocklisted it is info
    assert ap.check_anchor(cas["root"].cert) == []
    assert codes(ap.check_anchor(cas["root"].cert, blocklisted_digests=["sha256"])) == {"ANCHOR-009": "info"}


@pytest.mark.parametrize("policy", ["warning", "error"])
def test_009_self_signed_digest_policy_refuses_for_platforms_that_do(sha1_pki, cas, policy):
    """A caller whose platform refuses SHA-1 roots (mobile: iOS 13) raises ANCHOR-009, nothing else."""
    root = load(sha1_pki / "root.pem")
    found = ap.check_anchor(root, self_signed_digest_policy=policy)
    assert codes(found) == {"ANCHOR-009": policy}
    assert "self-signed with blocklisted digest SHA1" in found[0].message
    assert f"self_signed_digest_policy={policy}" in found[0].message
    assert found[0].data["digest"] == "sha1" and found[0].data["self_signed_digest_policy"] == policy
    assert "remove sha1 from blocklisted_digests" in found[0].remedy
    # still only what is blocklisted: an empty list or a SHA-256 root gives nothing
    assert ap.check_anchor(root, blocklisted_digests=[], self_signed_digest_policy=policy) == []
    assert ap.check_anchor(cas["root"].cert, self_signed_digest_policy=policy) == []
    # an issued certificate is judged by ANCHOR-008 whatever the policy for roots
    inter = load(sha1_pki / "int.pem")
    assert codes(ap.check_anchor(inter, self_signed_digest_policy=policy)) == codes(ap.check_anchor(inter))
    # the default is the RFC 5280 view
    assert codes(ap.check_anchor(root, self_signed_digest_policy="info")) == codes(ap.check_anchor(root)) == {
        "ANCHOR-009": "info"}


def test_every_problem_in_one_pass_in_code_order(tmp_path):
    """A 1024-bit leaf, SHA-1 signed by a CA, judged after it expired: all errors at once."""
    d = tmp_path
    openssl("req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", d / "l.key", "-out", d / "l.csr",
            "-subj", "/CN=bad.example.test")
    openssl("req", "-x509", "-sha256", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "ca.key",
            "-out", d / "ca.pem", "-days", "5", "-subj", "/CN=Throwaway CA")
    openssl("x509", "-req", "-sha1", "-in", d / "l.csr", "-CA", d / "ca.pem", "-CAkey", d / "ca.key",
            "-set_serial", "7", "-out", d / "l.pem", "-days", "30")
    later = NOW + datetime.timedelta(days=365)
    found = ap.check_anchor(load(d / "l.pem"), now=later)
    assert [(f.code, f.severity) for f in found] == [
        ("ANCHOR-001", "error"), ("ANCHOR-002", "error"), ("ANCHOR-005", "error"), ("ANCHOR-008", "error")]
    # the allow_* options relax only their own codes
    relaxed = ap.check_anchor(load(d / "l.pem"), allow_leaf=True, allow_expired=True, now=later)
    assert codes(relaxed) == {"ANCHOR-001": "warning", "ANCHOR-002": "warning",
                              "ANCHOR-005": "error", "ANCHOR-008": "error"}


# --------------------------------------------------------------------------- options

@pytest.mark.parametrize("kw,needle", [
    ({"blocklisted_digests": ["shaa1"]}, "blocklisted_digests: unknown digest 'shaa1'"),
    ({"blocklisted_digests": ["sha1", ""]}, "unknown digest ''"),
    ({"min_rsa_key_size": -1}, "min_rsa_key_size: -1 is negative"),
    ({"min_ec_key_size": "big"}, "min_ec_key_size: 'big' is not a number of bits"),
    ({"self_signed_digest_policy": "fatal"}, "self_signed_digest_policy: 'fatal' is not one of info, warning, error"),
    ({"self_signed_digest_policy": None}, "self_signed_digest_policy: None is not one of"),
])
def test_meaningless_options_are_errors_not_silence(cas, kw, needle):
    with pytest.raises(ap.AnchorPolicyError, match=re.escape(needle)) as exc:
        ap.check_anchor(cas["root"].cert, **kw)
    assert isinstance(exc.value, TrustopsError)


def test_zero_sizes_and_none_blocklist_check_nothing(cas, sha1_pki):
    assert ap.check_anchor(cas["rsa1024"].cert, min_rsa_key_size=0) == []
    assert ap.check_anchor(cas["p256"].cert, min_ec_key_size=0) == []
    assert codes(ap.check_anchor(load(sha1_pki / "int.pem"), blocklisted_digests=None)) == {"ANCHOR-004": "warning"}


def test_defaults_are_one_source():
    """check_anchor's defaults, the argument spec and the doc fragment agree."""
    sig = inspect.signature(ap.check_anchor).parameters
    spec = ap.option_spec()
    # self_signed_digest_policy is a caller's fixed difference (mobile), not a module option
    assert set(spec) == set(sig) - {"cert", "now", "self_signed_digest_policy"}
    assert sig["self_signed_digest_policy"].default == "info"
    for name, option in spec.items():
        default = sig[name].default
        assert option["default"] == (list(default) if isinstance(default, tuple) else default), name
    assert ap.options_from({}) == {name: option["default"] for name, option in spec.items()}
    assert ap.options_from({"min_rsa_key_size": 1024, "allow_leaf": None})["min_rsa_key_size"] == 1024
    spec["blocklisted_digests"]["default"].append("md5")
    assert ap.option_spec()["blocklisted_digests"]["default"] == ["sha1"], "option_spec must return a copy"

    tree = ast.parse((REPO_ROOT / "plugins" / "doc_fragments" / "anchor_policy.py").read_text())
    text = [n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
            and any(getattr(t, "id", None) == "DOCUMENTATION" for t in n.targets)][0]
    documented = yaml.safe_load(text)["options"]
    assert set(documented) == set(ap.option_spec())
    for name, option in ap.option_spec().items():
        assert documented[name]["type"] == option["type"], name
        assert documented[name]["default"] == option["default"], name
        assert documented[name].get("elements") == option.get("elements"), name


def test_codes_are_documented_once():
    source = Path(ap.__file__).read_text()
    used = set(re.findall(r'add\("(ANCHOR-\d{3})"', source))
    assert used == set(ap.CODES) == set(ap.REGISTRY.rules)
    policy_doc = (REPO_ROOT / "docs" / "anchor_policy.md").read_text()
    table = set(re.findall(r"^\| (ANCHOR-\d{3}) \|", policy_doc, re.M))
    assert table == set(ap.CODES)
    for page in ("trust_anchor.md", "win_trust_anchor.md"):
        text = (REPO_ROOT / "docs" / page).read_text()
        assert "(anchor_policy.md)" in text, f"{page} does not link the policy page"
        assert not re.search(r"^\| ANCHOR-\d{3} \|", text, re.M), f"{page} documents codes a second time"
        assert not re.search(r"^\| WINTRUST-\d{3} \|", text, re.M), page


# --------------------------------------------------------------------------- the trust store's cases
# The cases of the trust store tests (trust_anchor refuses with these verdicts), kept with the policy.

def test_findings_root_is_clean(cas):
    assert ap.check_anchor(cas["root"].cert) == []


def test_findings_leaf(cas, pki):
    assert codes(ap.check_anchor(cas["leaf"].cert)) == {"ANCHOR-001": "error"}
    assert codes(ap.check_anchor(cas["leaf"].cert, allow_leaf=True)) == {"ANCHOR-001": "warning"}
    selfsigned = pki.self_signed_leaf()
    assert "not a CA" in ap.check_anchor(selfsigned.cert)[0].message


def test_findings_validity(pki):
    expired = pki.root(cn="Old Root", days=-2, start_days=-30)
    future = pki.root(cn="Future Root", days=60, start_days=5)
    assert codes(ap.check_anchor(expired.cert)) == {"ANCHOR-002": "error"}
    assert "expired" in ap.check_anchor(expired.cert)[0].message
    assert codes(ap.check_anchor(expired.cert, allow_expired=True)) == {"ANCHOR-002": "warning"}
    assert codes(ap.check_anchor(future.cert)) == {"ANCHOR-003": "error"}
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10)
    assert ap.check_anchor(future.cert, now=later) == []


def test_findings_intermediate_and_weak_key(pki, cas):
    inter = pki.intermediate(cas["root"])
    assert codes(ap.check_anchor(inter.cert)) == {"ANCHOR-004": "warning"}
    weak = pki.root(cn="Weak Root", key=make_key("rsa", 1024, fresh=True))
    assert codes(ap.check_anchor(weak.cert)) == {"ANCHOR-005": "error"}
    assert ap.check_anchor(weak.cert, min_rsa_key_size=1024) == []


# --------------------------------------------------------------------------- openssl as referee

def verify(tmp_path, anchor_pem, leaf_pem, untrusted_pem=None, partial=False):
    """openssl verify at security level 2 (Debian's default for TLS) with ONLY ``anchor`` trusted."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in (("anchor", anchor_pem), ("leaf", leaf_pem), ("untrusted", untrusted_pem)):
        if data is not None:
            files[name] = tmp_path / (f"{name}.pem")
            files[name].write_bytes(data)
    argv = ["verify", "-auth_level", "2", "-no-CApath", "-no-CAstore", "-CAfile", files["anchor"]]
    if "untrusted" in files:
        argv += ["-untrusted", files["untrusted"]]
    if partial:
        argv.append("-partial_chain")
    proc = openssl(*(argv + [files["leaf"]]), check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")


def test_referee_weak_ca_key_is_refused_by_openssl(pki, cas, tmp_path):
    """ANCHOR-005 is an error because OpenSSL refuses a chain to a 1024-bit anchor."""
    weak_leaf = pki.leaf(cas["rsa1024"], cn="weak.example.test", dns=("weak.example.test",))
    ok, out = verify(tmp_path / "weak", cas["rsa1024"].pem, weak_leaf.pem)
    assert not ok and "CA certificate key too weak" in out, out
    assert ap.check_anchor(cas["rsa1024"].cert)[0].severity == "error"
    good_leaf = pki.leaf(cas["root"], cn="good.example.test", dns=("good.example.test",))
    ok, out = verify(tmp_path / "good", cas["root"].pem, good_leaf.pem)
    assert ok, out
    assert ap.check_anchor(cas["root"].cert) == []


def test_referee_sha1_root_yes_sha1_intermediate_no(sha1_pki, tmp_path):
    """ANCHOR-009 (info) vs ANCHOR-008 (error), as OpenSSL at level 2 decides."""
    root, inter = (sha1_pki / "root.pem").read_bytes(), (sha1_pki / "int.pem").read_bytes()
    # a SHA-1 self-signed anchor: its own signature is not checked
    ok, out = verify(tmp_path / "root", root, (sha1_pki / "leaf-root.pem").read_bytes())
    assert ok, out
    assert [f.severity for f in ap.check_anchor(load(sha1_pki / "root.pem"))] == ["info"]
    # a SHA-1 signed intermediate below that root: refused
    ok, out = verify(tmp_path / "int", root, (sha1_pki / "leaf-int.pem").read_bytes(), untrusted_pem=inter)
    assert not ok and "CA signature digest algorithm too weak" in out, out
    assert "error" in [f.severity for f in ap.check_anchor(load(sha1_pki / "int.pem"))]
    # the intermediate itself as the only anchor works only for clients that take partial chains
    # (why ANCHOR-004 warns), and then its SHA-1 signature is not checked either
    ok, out = verify(tmp_path / "p1", inter, (sha1_pki / "leaf-int.pem").read_bytes())
    assert not ok and "unable to get issuer certificate" in out, out
    ok, out = verify(tmp_path / "p2", inter, (sha1_pki / "leaf-int.pem").read_bytes(), partial=True)
    assert ok, out


def test_referee_self_signed_leaf_is_its_own_anchor(pki, tmp_path):
    """allow_leaf makes sense: OpenSSL trusts a self-signed server certificate found in the store."""
    leaf = pki.self_signed_leaf()
    ok, out = verify(tmp_path, leaf.pem, leaf.pem)
    assert ok, out
    assert codes(ap.check_anchor(leaf.cert, allow_leaf=True)) == {"ANCHOR-001": "warning"}


def test_referee_expired_anchor_is_refused(pki, cas, tmp_path):
    leaf = pki.leaf(cas["expired"], cn="old.example.test", dns=("old.example.test",), start_days=-300, days=30)
    ok, out = verify(tmp_path, cas["expired"].pem, leaf.pem)
    assert not ok and "expired" in out, out
    assert codes(ap.check_anchor(cas["expired"].cert)) == {"ANCHOR-002": "error"}


# --------------------------------------------------------------------------- Debian 12's Python

_DEBIAN_SCRIPT = r"""
import json, sys
from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy, certs
out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        cert = certs.load_certificate(handle.read(), path)
    out[path] = [[f.code, f.severity, f.message] for f in anchor_policy.check_anchor(cert)]
print(json.dumps(out))
"""


def test_same_verdicts_under_debian_python_and_cryptography_38(cas, sha1_pki, tmp_path):
    """trust_anchor runs this policy on the managed host: Debian 12 has cryptography 38."""
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip(f"no {DEBIAN_PYTHON} on this machine (the client_trust scenario runs the module there)")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import cryptography; print(cryptography.__version__)"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"{DEBIAN_PYTHON} has no cryptography (the client_trust scenario runs the module there)")
    paths = []
    for name in ("root", "intermediate", "leaf", "expired", "future", "rsa1024", "dsa1024", "p256"):
        paths.append(tmp_path / (f"{name}.pem"))
        paths[-1].write_bytes(cas[name].pem)
    for name in ("root.pem", "int.pem"):
        paths.append(sha1_pki / name)
    paths.append(tmp_path / "ed25519.pem")
    paths[-1].write_bytes(_eddsa_root("Ed25519").public_bytes(serialization.Encoding.PEM))
    collections = tmp_path / "collections" / "ansible_collections" / "trustops"
    collections.mkdir(parents=True)
    (collections / "tableau").symlink_to(REPO_ROOT)
    proc = subprocess.run([DEBIAN_PYTHON, "-c", _DEBIAN_SCRIPT] + [str(p) for p in paths], capture_output=True,
                          text=True, check=False, env={"PYTHONPATH": str(tmp_path / "collections"), "PATH": "/usr/bin"})
    assert proc.returncode == 0, proc.stderr
    there = json.loads(proc.stdout)
    here = {str(p): [[f.code, f.severity, f.message] for f in ap.check_anchor(load(p))] for p in paths}
    assert there == here
    assert probe.stdout.strip() != "" and sum(1 for v in here.values() if v) >= 9


def _x448_root():
    """A CA certificate for an X448 public key (key agreement only), signed with Ed25519."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "X448 Root")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(x448.X448PrivateKey.generate().public_key()).serial_number(3)
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ed25519.Ed25519PrivateKey.generate(), None))


def test_a_key_type_the_policy_cannot_size_is_reported_not_passed():
    """An X448 public key (key agreement only) cannot be sized by the policy: ANCHOR-010, a warning."""
    found = {f.code: f for f in ap.check_anchor(_x448_root(), now=NOW)}
    assert found["ANCHOR-010"].severity == "warning"
    assert "X448" in found["ANCHOR-010"].message and found["ANCHOR-010"].remedy


# --------------------------------------------------------------------------- the rule registry

#: template fields that word a message for an option (allow_leaf, the policy for roots) and so
#: are kept out of ``data``, which holds facts only
WORDING = {"leaf_note", "openssl_note", "advised_bits", "digest_name", "policy_note"}


def test_every_finding_comes_from_its_registered_rule(cas, sha1_pki, tmp_path):
    """Every code, run on the real certificates of this file with the options that change a
    finding's wording: each finding is its registered rule (severity as the rule or the option
    says, templates filled), its data are facts, and every registered code is reachable."""
    inputs = [c.cert for c in cas.values()] + [load(sha1_pki / n) for n in ("root.pem", "int.pem")]
    inputs += [_eddsa_root("Ed25519"), _eddsa_root("Ed448"), _x448_root()]
    options = [{}, {"allow_leaf": True, "allow_expired": True}, {"min_rsa_key_size": 3072, "min_ec_key_size": 384},
               {"self_signed_digest_policy": "error"}, {"blocklisted_digests": ["sha256"]}]
    seen = {}
    for cert in inputs:
        for kw in options:
            for f in ap.check_anchor(cert, **kw):
                rule = ap.REGISTRY.rule(f.code)
                seen.setdefault(f.code, set()).add(f.severity)
                assert f.severity in (rule.severity, "warning", "error"), f
                assert "{" not in f.message and "{" not in f.remedy, f
                assert f.remedy and f.data["subject"] in f.message, f
                assert not WORDING & set(f.data), f"{f.code}: prose in data {sorted(WORDING & set(f.data))}"
                # the message is the rule's template with the finding's own facts (and wording) filled in
                head = rule.message.split("{subject}")[1].split("{")[0]
                assert head in f.message, (rule.message, f.message)
    assert set(seen) == set(ap.REGISTRY.rules), f"codes not reached: {sorted(set(ap.REGISTRY.rules) - set(seen))}"
    # the options move only the codes that name them
    assert seen["ANCHOR-001"] == {"error", "warning"} and seen["ANCHOR-002"] == {"error", "warning"}
    assert seen["ANCHOR-009"] == {"info", "error"} and seen["ANCHOR-008"] == {"error"}


def test_the_registry_holds_the_text_once():
    """Rules with a seed sentence of seeds 000/001, a title and a remedy; no Finding(...) literal."""
    assert (ap.REGISTRY.prefix, ap.REGISTRY.topic, ap.REGISTRY.seeds) == ("ANCHOR", "Client trust", "seeds 000 and 001")
    assert ap.RULES is ap.REGISTRY.rules and len(ap.REGISTRY) == 10
    for rule in ap.REGISTRY:
        assert rule.title and rule.remedy and rule.seed, rule
        assert rule.tsm_key is None, "a client's trust store has no TSM key"
        assert not rule.seed.startswith("Not a vendor rule"), rule
        assert re.search(r"certificate|Certificate", rule.seed), rule.seed
    tree = ast.parse(Path(ap.__file__).read_text())
    calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert "Finding" not in calls, "findings are made through REGISTRY, not Finding(...)"
