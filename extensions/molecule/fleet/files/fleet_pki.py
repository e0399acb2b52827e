# -*- coding: utf-8 -*-
"""The fleet scenario's PKI, made by the openssl command (the independent referee) in DIR.

    python fleet_pki.py DIR        (PYTHONPATH: tests/support, for the IdP metadata)

- root.crt -> intermediate.crt -> server.crt (tableau.example.test): the reverse proxies serve
  fullchain.crt (server + intermediate); the clients trust root.crt (converge).
- root2.crt -> server2.crt (tableau.example.test): Tableau Server's own certificate (external SSL
  on the mutual-SSL nodes, served there by openssl s_server); the clients get root2.crt in the
  side_effect rollout.
- saml-sp.crt/.key (RSA 2048, PKCS#1), idp-metadata.xml (a real signing certificate), client-ca.crt
  and alice.crt (mutual SSL).
Nothing is made twice: an existing DIR/done keeps the files.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tsm_sim.harness import idp_metadata

SERVER = "tableau.example.test"
CA = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
LEAF = ("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        f"subjectAltName=DNS:{SERVER}\nauthorityKeyIdentifier=keyid\n")


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)}: {proc.stderr.strip()}")


def issue(pki, name, subject, issuer, extensions, rsa=False):
    key, csr, crt, ext = (os.path.join(pki, name + s) for s in (".key", ".csr", ".crt", ".ext"))
    if rsa:  # the SAML SP key: RSA 2048, PKCS#1 (what Tableau Server takes for server-wide SAML)
        run(["openssl", "genrsa", "-traditional", "-out", key, "2048"])
    else:
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
    run(["openssl", "req", "-new", "-key", key, "-subj", subject, "-out", csr])
    with open(ext, "w", encoding="ascii") as handle:
        handle.write(extensions)
    sign = (["-signkey", key] if issuer is None else
            ["-CA", os.path.join(pki, issuer + ".crt"), "-CAkey", os.path.join(pki, issuer + ".key"), "-CAcreateserial"])
    run(["openssl", "x509", "-req", "-in", csr, "-out", crt, "-days", "60", "-sha256", "-extfile", ext, *sign])


def main(pki):
    if os.path.exists(os.path.join(pki, "done")):
        return
    os.makedirs(pki, exist_ok=True)
    issue(pki, "root", "/O=Fleet Test/CN=Fleet Test Root CA", None, CA)
    issue(pki, "intermediate", "/O=Fleet Test/CN=Fleet Test Issuing CA", "root",
          CA.replace("CA:TRUE", "CA:TRUE,pathlen:0") + "authorityKeyIdentifier=keyid\n")
    issue(pki, "server", f"/O=Fleet Test/CN={SERVER}", "intermediate", LEAF)
    issue(pki, "root2", "/O=Fleet Test/CN=Fleet Test Root CA 2", None, CA)
    issue(pki, "server2", f"/O=Fleet Test/CN={SERVER}", "root2", LEAF)
    issue(pki, "saml-sp", f"/O=Fleet Test/CN={SERVER}", None,
          "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n", rsa=True)
    issue(pki, "client-ca", "/O=Fleet Test/CN=Fleet Test Client CA", None, CA)
    issue(pki, "alice", "/O=Fleet Test/CN=alice", "client-ca",
          "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    with open(os.path.join(pki, "fullchain.crt"), "w", encoding="ascii") as out:
        for name in ("server", "intermediate"):
            with open(os.path.join(pki, name + ".crt"), encoding="ascii") as handle:
                out.write(handle.read())
    with open(os.path.join(pki, "idp-metadata.xml"), "wb") as handle:
        handle.write(idp_metadata("fleet"))
    for name in os.listdir(pki):
        os.chmod(os.path.join(pki, name), 0o600 if name.endswith(".key") else 0o644)
    with open(os.path.join(pki, "done"), "w", encoding="ascii") as handle:
        handle.write("ok\n")


if __name__ == "__main__":
    main(sys.argv[1])
