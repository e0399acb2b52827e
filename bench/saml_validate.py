# -*- coding: utf-8 -*-
"""SAML validation throughput: our checks next to the naive path, in the same run, on one core.

Inputs are generated at start in a temporary directory by a real IdP implementation: pysaml2's
IdP (``saml2.server.Server``, signing with Debian's xmlsec1) writes N signed Responses
(RSA-2048, RSA-SHA256, assertion signed) and M signed IdP metadata files (each IdP with its own
entityID; keys are reused across IdPs to keep the set-up short).  One response in ten and one
metadata file in ten is tampered with after signing (a changed letter) so that every path has
to tell good from bad; the run checks that all paths agree.

Timed paths (files/second, wall clock, the process pinned to one CPU; child processes inherit
the pinning):

* responses, ours      - ``saml.response.check_response`` with the IdP certificate: decoding,
                         hardened parse, signature verification (signxml) bound to the covered
                         element, every SAML-1NN rule, the facts
* responses, ours+md   - the same with the IdP metadata parsed again for every response
* responses, naive     - one ``xmlsec1 --verify`` process per file, then the same attribute
                         extraction (username and its xsi:type) with lxml
* metadata, ours       - ``saml.metadata.check_idp_metadata`` with the trusted signer (part A's checks)
* metadata, naive      - one ``xmlsec1 --verify`` per file, then lxml extraction of entityID,
                         SSO bindings and signing certificates

Each path runs REPEAT times (default 3) over the same files; the table shows the best and the
median run.

Usage: python bench/saml_validate.py [N_RESPONSES] [N_METADATA] [REPEAT]   (defaults 200, 60, 3)
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def _collection_path(workdir):
    """Make ``ansible_collections.trustops.tableau`` importable from this checkout."""
    try:
        import ansible_collections.trustops.tableau.plugins.module_utils.saml.response  # noqa: F401
        return
    except ImportError:
        pass
    base = os.path.join(workdir, "collections")
    os.makedirs(os.path.join(base, "ansible_collections", "trustops"))
    os.symlink(REPO, os.path.join(base, "ansible_collections", "trustops", "tableau"))
    sys.path.insert(0, base)
    for name in list(sys.modules):
        if name.startswith("ansible_collections"):
            del sys.modules[name]


def _pin_one_core():
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return "pinned to CPU %d (of %d)" % (cpu, os.cpu_count())
    return "not pinned (no sched_setaffinity)"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions():
    import cryptography
    import lxml.etree
    import signxml
    xmlsec = subprocess.run([shutil.which("xmlsec1"), "--version"], capture_output=True, text=True,
                            check=False).stdout.strip()
    try:
        from importlib.metadata import version
        pysaml2 = version("pysaml2")
        signxml_version = version("signxml")
    except Exception:  # pylint: disable=broad-except
        pysaml2 = signxml_version = getattr(signxml, "__version__", "?")
    libxml2 = ".".join(map(str, lxml.etree.LIBXML_VERSION))
    return (f"python {platform.python_version()}, lxml {lxml.etree.__version__} (libxml2 {libxml2}), signxml "
            f"{signxml_version}, cryptography {cryptography.__version__}, {xmlsec}, pysaml2 {pysaml2}")


def make_inputs(workdir, n_responses, n_metadata):
    sys.path.insert(0, os.path.join(REPO, "tests", "support"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import saml_response_fixtures as fx
        from saml2.metadata import create_metadata_string
        from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
    idp = fx.Idp(os.path.join(workdir, "idp"))
    responses = []
    for i in range(n_responses):
        data = idp.response(username="user%04d@example.test" % i, groups=("Sales",))
        good = i % 10 != 9
        if not good:
            data = data.replace(b">user%04d@" % i, b">usex%04d@" % i, 1)
        path = os.path.join(workdir, "response-%04d.xml" % i)
        with open(path, "wb") as handle:
            handle.write(data)
        responses.append((path, good))
    metadata = []
    keys = [fx.signing_key("rsa", 2048)] + [fx.signing_key("rsa", 3072)]
    for i in range(n_metadata):
        key = keys[i % len(keys)]
        cert = fx.self_signed(key, cn="idp%d.example.test" % i, serial=100 + i)
        one = fx.Idp(os.path.join(workdir, "md-idp-%d" % i), key=key, cert=cert,
                     entity_id="https://idp%d.example.test/idp" % i)
        data = create_metadata_string(None, config=one.config, sign=True, sign_alg=SIG_RSA_SHA256,
                                      digest_alg=DIGEST_SHA256)
        data = data if isinstance(data, bytes) else data.encode("utf-8")
        good = i % 10 != 9
        if not good:
            data = data.replace(b"/sso/HTTP-POST", b"/sso/HTTP-PAST", 1)
        path = os.path.join(workdir, "metadata-%04d.xml" % i)
        with open(path, "wb") as handle:
            handle.write(data)
        cert_path = os.path.join(workdir, "metadata-%04d.crt" % i)
        with open(cert_path, "wb") as handle:
            handle.write(fx.pem(cert))
        metadata.append((path, cert_path, good))
    return idp, responses, metadata


# --------------------------------------------------------------------------- the paths

def ours_responses(responses, cert, metadata_bytes=None):
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.response import check_response
    verdicts = []
    for path, _good in responses:
        with open(path, "rb") as handle:
            data = handle.read()
        if metadata_bytes is None:
            report = check_response(data, path, idp_certs=[cert])
        else:
            report = check_response(data, path, idp_metadata=metadata_bytes)
        verdicts.append(report.facts["signature_verified"] and report.facts["username"] is not None)
    return verdicts


def _lxml_username(path):
    from lxml import etree
    root = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
    value = root.find("saml:Assertion/saml:AttributeStatement/saml:Attribute[@Name='username']/saml:AttributeValue",
                      ns)
    if value is None:
        return None, None
    return value.text, value.get("{http://www.w3.org/2001/XMLSchema-instance}type")


def naive_responses(responses, cert_file):
    verdicts = []
    for path, _good in responses:
        proc = subprocess.run([shutil.which("xmlsec1"), "--verify", "--pubkey-cert-pem", cert_file, "--id-attr:ID",
                               "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        username, _type = _lxml_username(path)
        verdicts.append(proc.returncode == 0 and username is not None)
    return verdicts


def ours_metadata(metadata):
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.metadata import check_idp_metadata
    verdicts = []
    for path, cert_path, _good in metadata:
        with open(path, "rb") as handle:
            data = handle.read()
        with open(cert_path, "rb") as handle:
            signer = handle.read()
        _findings, facts = check_idp_metadata(data, path, trusted_signers=[signer])
        verdicts.append(bool(facts.get("signature_verified")))
    return verdicts


def naive_metadata(metadata):
    from lxml import etree
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    verdicts = []
    for path, cert_path, _good in metadata:
        proc = subprocess.run([shutil.which("xmlsec1"), "--verify", "--pubkey-cert-pem", cert_path, "--id-attr:ID",
                               md + ":EntityDescriptor", path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        root = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        descriptor = root.find(f"{{{md}}}IDPSSODescriptor")
        facts = {
            "entity_id": root.get("entityID"),
            "bindings": [s.get("Binding") for s in descriptor.findall(f"{{{md}}}SingleSignOnService")],
            "certs": [c.text for c in descriptor.iter("{http://www.w3.org/2000/09/xmldsig#}X509Certificate")],
        }
        verdicts.append(proc.returncode == 0 and bool(facts["entity_id"]) and bool(facts["certs"]))
    return verdicts


def timed(repeat, func, *args):
    """(best seconds, median seconds, result of the last run)."""
    times, result = [], None
    for _run in range(repeat):
        start = time.perf_counter()
        result = func(*args)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2], result


def main(argv):
    n_responses = int(argv[1]) if len(argv) > 1 else 200
    n_metadata = int(argv[2]) if len(argv) > 2 else 60
    repeat = int(argv[3]) if len(argv) > 3 else 3
    if shutil.which("xmlsec1") is None:
        sys.exit("xmlsec1 is required (Debian package xmlsec1)")
    workdir = tempfile.mkdtemp(prefix="saml-bench-")
    try:
        _collection_path(workdir)
        start = time.perf_counter()
        idp, responses, metadata = make_inputs(workdir, n_responses, n_metadata)
        pinning = _pin_one_core()
        print(f"machine: {_cpu_model()}; {platform.platform()}; {pinning}")
        print(f"software: {_versions()}")
        print("inputs: %d responses (%d tampered), %d metadata files (%d tampered), made by pysaml2+xmlsec1 in "
              "%.1f s in %s" % (len(responses), sum(1 for r in responses if not r[1]), len(metadata),
                                sum(1 for m in metadata if not m[2]), time.perf_counter() - start, workdir))
        metadata_bytes = idp.metadata()
        ours_responses(responses[:5], idp.cert)  # warm imports and schema caches
        ours_metadata(metadata[:2])
        rows = []
        expected_r = [good for _p, good in responses]
        expected_m = [good for _p, _c, good in metadata]
        runs = [
            ("responses", "ours: check_response, IdP certificate", ours_responses, (responses, idp.cert), expected_r),
            ("responses", "ours: check_response, metadata parsed per file", ours_responses,
             (responses, idp.cert, metadata_bytes), expected_r),
            ("responses", "naive: xmlsec1 --verify per file + lxml", naive_responses,
             (responses, idp.cert_file), expected_r),
            ("metadata", "ours: check_idp_metadata, trusted signer", ours_metadata, (metadata,), expected_m),
            ("metadata", "naive: xmlsec1 --verify per file + lxml", naive_metadata, (metadata,), expected_m),
        ]
        for kind, name, func, args, expected in runs:
            best, median, verdicts = timed(repeat, func, *args)
            agree = sum(1 for v, e in zip(verdicts, expected, strict=False) if bool(v) == e)
            rows.append((kind, name, len(verdicts), best, median, agree))
        naive = {kind: count / best for kind, name, count, best, _m, _a in rows if name.startswith("naive")}
        print("timing: best and median of %d runs over the same files, one core" % repeat)
        print()
        print("%-10s %-48s %6s %9s %9s %10s %9s %14s" % ("input", "path", "files", "best s", "median s", "files/s",
                                                         "x naive", "right verdicts"))
        for kind, name, count, best, median, agree in rows:
            rate = count / best
            print("%-10s %-48s %6d %9.3f %9.3f %10.1f %9.2f %9d/%d" % (kind, name, count, best, median, rate,
                                                                       rate / naive[kind], agree, count))
        wrong = [r for r in rows if r[5] != r[2]]
        if wrong:
            print("\nWRONG VERDICTS: {}".format(", ".join(f"{r[0]}/{r[1]}" for r in wrong)))
            return 1
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
