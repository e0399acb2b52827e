# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files a tsm_* module hands to TSM, read through the shared reader and checked by the
cores before anything is staged (certificates, keys, IdP metadata, client CA, CRL).

Pure Python, no Ansible imports. Broken input raises :class:`InputRefused`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import InputRefused, valid_argument
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.rules import finding

# The size cap of each kind of file a tsm_* module reads (docs/inputs.md lists them).
FILE_CAPS = {"cert": reader.MAX_CERTIFICATE, "key": reader.MAX_KEY, "metadata": reader.MAX_XML,
             "crl": reader.MAX_CRL, "file": reader.MAX_CRL}


def file_digest(path: str, kind: str = "bytes") -> str | None:
    """A content fingerprint of a file on this host, or None when it cannot be read.

    ``cert``: the SHA-256 fingerprints of the certificates it holds, in order (PEM/DER/PKCS#7
    wrappings of the same certificates compare equal); other files: SHA-256 of the bytes.
    Read through the shared reader with the cap of the kind.
    """
    try:
        data = reader.read_input(path=path, option="file", max_bytes=FILE_CAPS.get(kind, reader.MAX_CRL))
    except (reader.InputError, TypeError):
        return None
    if kind == "cert":
        try:
            from ansible_collections.trustops.tableau.plugins.module_utils import certs
            found = certs.load_certificates(data, path)
            return "cert:" + ",".join(certs.fingerprint(c, "sha256", sep="") for c in found)
        except Exception:  # not a certificate file: compare bytes
            pass
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------- file inputs (checked before staging)

def read_file_input(option: str, path: str, kind: str) -> bytes:
    """The bytes of a file option, through the shared reader with the cap of its kind."""
    valid_argument(option, path)
    return reader.read_input(path=path, option=option, max_bytes=FILE_CAPS[kind])


def _refuse(option: str, path: str, exc: Exception) -> InputRefused:
    text = str(exc)
    label = f"{option} {path}"
    if not text.startswith(label):
        text = f"{label}: {text}"
    return InputRefused(text)


def load_certificate_input(option: str, path: str, exactly_one: bool = False) -> list:
    """The certificates of a certificate file option (PEM, DER, PKCS#7); InputRefused when it holds none."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    data = read_file_input(option, path, "cert")
    try:
        found = certs.load_certificates(data, f"{option} {path}")
    except certs.CertificateError as exc:
        raise _refuse(option, path, exc)
    if exactly_one and len(found) != 1:
        raise InputRefused(f"{option} {path}: holds {len(found)} certificates; give the one certificate only")
    return found


def load_key_input(option: str, path: str, passphrase: str | None = None, verify: bool = True) -> Any:
    """The KeyInfo of a private-key file option (its facts and public half; the private key is not
    loaded when it need not be); a wrong passphrase (when ``verify``) is refused."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    data = read_file_input(option, path, "key")
    try:
        return certs.inspect_private_key(data, passphrase if verify else None, f"{option} {path}", private=False)
    except certs.CertificateError as exc:
        raise _refuse(option, path, exc)


def load_metadata_input(option: str, path: str, policy: Any = None) -> tuple[list[Finding], dict]:
    """(findings, facts) of an IdP metadata file: the hardened parser and ``saml.metadata.check_idp_metadata``,
    the core of trustops.tableau.saml_metadata_check, judged by ``policy`` (the SAML policy being
    configured). XML that cannot be read safely raises InputRefused."""
    data = read_file_input(option, path, "metadata")
    from ansible_collections.trustops.tableau.plugins.module_utils import xml as xmlcore
    if not xmlcore.HAS_LXML:
        raise InputRefused(f"{option} {path}: checking IdP metadata needs the Python library lxml on the node (Debian: "
                           "python3-lxml); nothing was staged")
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.metadata import check_idp_metadata
    try:
        return check_idp_metadata(data, f"{option} {path}", policy=policy, max_bytes=reader.MAX_XML)
    except TrustopsError as exc:
        raise _refuse(option, path, exc)


def load_client_ca_input(option: str, path: str) -> tuple[list, list[Finding]]:
    """(certificates, findings) of a client CA file: certificates only, each judged as a trust anchor.

    A private key, a PKCS#12 archive or garbage is refused (InputRefused); a leaf certificate, an
    expired CA or a weak key are ``ANCHOR-NNN`` findings from the shared trust-anchor policy.
    """
    from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
    found = load_certificate_input(option, path)
    findings = []
    for cert in found:
        for item in anchor_policy.check_anchor(cert):
            item.message = f"{option} {path}: {item.message}"
            findings.append(item)
    return found, findings


def load_crl_input(option: str, path: str, issuers: Sequence = ()) -> tuple[list, list[Finding]]:
    """(crls, findings) of a revocation list file: every CRL it holds (PEM, one or more X509 CRL
    blocks, or one DER CRL), read by ``certs.load_crls``, the one CRL loader of the collection.

    ``issuers``: the client CA certificates; when given, every CRL must be issued and signed by one
    of them (``certs.crl_signed_by``; finding TSM-013 otherwise). A file that holds no CRL, or a
    damaged or cut-off one, raises InputRefused.
    """
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    data = read_file_input(option, path, "crl")
    label = f"{option} {path}"
    try:
        crls = certs.load_crls(data, label)
    except certs.CertificateError as exc:
        raise _refuse(option, path, exc)
    findings = []
    foreign = [(index, crl) for index, crl in enumerate(crls, 1)
               if issuers and not any(certs.crl_signed_by(crl, ca) for ca in issuers)]
    if foreign:
        numbers = ", ".join(f"#{index}" for index, _crl in foreign)
        issuer_names = "; ".join(crl.issuer.rfc4514_string() for _index, crl in foreign)
        which = "" if len(crls) == 1 else f" (CRL {numbers} of {len(crls)}: issuer {issuer_names})"
        findings.append(finding("TSM-013", source=label, which=which,
                                client_ca="; ".join(certs.subject_text(ca) for ca in issuers),
                                data={"crl_issuer": foreign[0][1].issuer.rfc4514_string(),
                                      "crls": [index for index, _crl in foreign]}))
    return crls, findings
