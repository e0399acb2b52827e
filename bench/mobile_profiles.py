# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Profiles per second for N CAs (default 1,000), one profile per CA, against the naive path.

Measured in the same run, on the same certificates and the same signer (RSA 2048, with its
issuing CA in the chain):

* unsigned  - apple.build_profile(): the property list
* signed    - build_profile() + signing.sign_profile() (CMS SignedData, DER, chain included)
* converged - signing.signed_profile_current() on the existing signed file: what a converged run
              pays instead of re-signing (parse the CMS, check digest and signature)
* naive     - the same property list written to a file and signed by an ``openssl smime -sign``
              subprocess per profile (what a shell loop or a template + command task does)

Every signed output of both paths is checked with ``openssl cms -verify`` on a sample, so the
two paths are known to produce equivalent, valid files.

Usage: PYTHONPATH=<collections root> python bench/mobile_profiles.py [N]
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils.mobile import apple, inputs, signing

OPENSSL = shutil.which("openssl")
IDENT = "com.example.bench.ca-trust"


def issue(cn, key, issuer=None, ca=True, eku=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustops bench"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer[0].subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=800))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def rate(count, seconds):
    return count / seconds if seconds > 0 else float("inf")


def main(count):
    if not OPENSSL:
        sys.exit("openssl is needed for the naive baseline")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    t0 = time.perf_counter()
    cas = [inputs.CA(issue(f"Bench Root CA {i:04d}", ca_key)[0], "bench", "root") for i in range(count)]
    made = time.perf_counter() - t0
    root = issue("Bench Signer Root", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    inter = issue("Bench Signer Issuing CA", rsa.generate_private_key(public_exponent=65537, key_size=2048), root)
    signer_pair = issue("Bench Profile Signer", rsa.generate_private_key(public_exponent=65537, key_size=2048),
                        inter, ca=False, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    signer = signing.Signer(signer_pair[0], signer_pair[1], [inter[0]])
    spec = apple.ProfileSpec(IDENT, organization="Bench Corp", consent_text="Install?")

    t0 = time.perf_counter()
    plists = [apple.build_profile(spec, [ca]) for ca in cas]
    unsigned = time.perf_counter() - t0

    t0 = time.perf_counter()
    signed = [signing.sign_profile(apple.build_profile(spec, [ca]), signer) for ca in cas]
    signed_t = time.perf_counter() - t0

    t0 = time.perf_counter()
    current = [signing.signed_profile_current(s, p, signer)[0] for s, p in zip(signed, plists, strict=True)]
    converged = time.perf_counter() - t0
    assert all(current), "a freshly signed profile must count as current"

    work = tempfile.mkdtemp(prefix="trustops-bench-mobile-")
    try:
        for name, data in (("signer.pem", pem(signer_pair[0])), ("signer.key", pem(signer_pair[1])),
                           ("inter.pem", pem(inter[0])), ("root.pem", pem(root[0]))):
            with open(os.path.join(work, name), "wb") as handle:
                handle.write(data)
        naive_out = []
        t0 = time.perf_counter()
        for index, ca in enumerate(cas):
            src = os.path.join(work, f"p{index}.plist")
            out = os.path.join(work, f"p{index}.mobileconfig")
            with open(src, "wb") as handle:
                handle.write(apple.build_profile(spec, [ca]))
            subprocess.run([OPENSSL, "smime", "-sign", "-binary", "-nodetach", "-md", "sha256", "-outform", "DER",
                            "-in", src, "-out", out, "-signer", os.path.join(work, "signer.pem"),
                            "-inkey", os.path.join(work, "signer.key"),
                            "-certfile", os.path.join(work, "inter.pem")], check=True, capture_output=True)
            naive_out.append(out)
        naive = time.perf_counter() - t0

        # both paths make valid, equivalent files: openssl verifies a sample of each and gets the same plist
        for index in sorted({0, count // 2, count - 1}):
            ours = os.path.join(work, f"ours{index}.mobileconfig")
            with open(ours, "wb") as handle:
                handle.write(signed[index])
            for path in (ours, naive_out[index]):
                res = subprocess.run([OPENSSL, "cms", "-verify", "-inform", "DER", "-in", path, "-CAfile",
                                      os.path.join(work, "root.pem")], capture_output=True, check=False)
                assert res.returncode == 0 and res.stdout == plists[index], res.stderr
            with open(naive_out[index], "rb") as handle:
                assert signing.signed_profile_current(handle.read(), plists[index], signer)[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    size = sum(len(s) for s in signed) / count
    openssl_version = subprocess.run([OPENSSL, "version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"mobile profiles: {count} CAs, one profile each (certificates made in {made:.2f} s); "
          f"Python {sys.version.split()[0]}, {openssl_version}")
    print(f"  {'path':<44} {'seconds':>9} {'profiles/s':>14}")
    rows = [("unsigned  build_profile", unsigned),
            ("signed    build_profile + sign_profile", signed_t),
            ("converged signed_profile_current (no re-sign)", converged),
            ("naive     openssl smime -sign per profile", naive)]
    for label, seconds in rows:
        print(f"  {label:<44} {seconds:9.3f} {rate(count, seconds):14.1f}")
    print(f"  signed in-process vs naive subprocess: {naive / signed_t:.1f}x faster; converged check vs re-signing: {signed_t / converged:.1f}x faster")
    print(f"  average signed profile: {size:.0f} bytes (signer + issuing CA included)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
