# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SP side of SAML: the certificate and key Tableau Server signs its requests with (seed 002).

Entry point for every path (check module and TSM modules alike): :func:`check_keypair`.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import base64
import datetime
import shlex
from typing import TYPE_CHECKING, Any

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    CertificateError,
    inspect_private_key,
    key_matches_cert,
    load_certificate,
    load_certificates,
    pem_blocks,
    public_key,
    public_key_info,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.common import (
    basename,
    cert_facts,
    cert_subject,
    short_error,
    utcnow,
    validity_state,
)
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import Policy, SamlError, finding

if TYPE_CHECKING:  # cryptography may be missing where only the names are needed
    from cryptography import x509


# --------------------------------------------------------------------------- SP certificate

_CERT_LABEL = b"CERTIFICATE"


def check_sp_certificate(data: bytes | str, source: str = "<input>", policy: Policy | None = None,
                         filename: str | None = None, now: datetime.datetime | None = None,
                         expiry_warn_days: int = 30) -> tuple[list[Finding], dict[str, Any], x509.Certificate | None]:
    """Check the SAML certificate Tableau Server signs its requests with.

    Returns ``(findings, facts, cert)``; ``cert`` is None when no certificate could be read.
    ``filename`` (the path given to TSM) enables the .crt extension rule.
    """
    policy = policy or Policy()
    now = utcnow(now)
    findings = []
    name = filename if (filename and str(source).startswith("<")) else source  # a label beats a placeholder
    if filename is not None and not basename(filename).endswith(".crt"):
        findings.append(finding("SAML-001", source=name))
    try:
        blocks = pem_blocks(data, name)
    except CertificateError as exc:
        findings.append(finding("SAML-002", source=name, detail=short_error(exc)))
        return findings, {}, None
    cert = None
    if not blocks:
        try:
            certs = load_certificates(data, name)
        except CertificateError as exc:
            findings.append(finding("SAML-002", source=name, detail=short_error(exc)))
            return findings, {}, None
        findings.append(finding("SAML-002", source=name,
                                detail=f"DER or PKCS#7 with {len(certs)} certificate(s), not PEM"))
        if len(certs) > 1:
            findings.append(finding("SAML-003", source=name, count=len(certs)))
        cert = certs[0]
    else:
        cert_blocks = [block for label, block in blocks if label == _CERT_LABEL]
        others = sorted({label.decode("ascii", "replace") for label, _block in blocks
                         if label != _CERT_LABEL})
        if others:
            findings.append(finding("SAML-004", source=name, labels=", ".join(others),
                                    where="besides the certificate" if cert_blocks else "and no certificate"))
        if not cert_blocks:
            detail = "no CERTIFICATE block; found {}".format(", ".join(others))
            if any("PKCS7" in o or "PKCS #7" in o or o == "CMS" for o in others):
                detail = "a PKCS#7 bundle, not a PEM certificate"
            findings.append(finding("SAML-002", source=name, detail=detail))
            return findings, {}, None
        if len(cert_blocks) > 1:
            findings.append(finding("SAML-003", source=name, count=len(cert_blocks)))
        try:
            cert = load_certificate(cert_blocks[0], name)
        except CertificateError as exc:
            findings.append(finding("SAML-002", source=name, detail=short_error(exc)))
            return findings, {}, None
    try:
        facts = cert_facts(cert, now)
    except CertificateError as exc:
        findings.append(finding("SAML-002", source=name, detail=short_error(exc)))
        return findings, {}, None
    facts["certificates_in_file"] = max(1, len([b for b in blocks if b[0] == _CERT_LABEL]))
    if policy.digest_blocked(facts["signature_hash"]):
        findings.append(finding("SAML-005", source=name, digest=facts["signature_hash"].upper(),
                                blocklist=", ".join(policy.blocklisted_digests)))
    if facts["key_type"] == "RSA":
        if facts["key_size"] < policy.min_rsa_key_size:
            findings.append(finding("SAML-006", source=name, size=facts["key_size"],
                                    minimum=policy.min_rsa_key_size))
    elif facts["key_type"] != "DSA":
        findings.append(finding("SAML-007", source=name, key_type=facts["key_type"],
                                ec_size=_ec_size(facts["key_type"], facts["key_size"], facts["curve"], policy)))
    state = validity_state(cert, now)
    if state:
        findings.append(finding("SAML-008", source=name, state=state[0], when=state[1]))
    elif facts["days_left"] < expiry_warn_days:
        findings.append(finding("SAML-009", source=name, days=facts["days_left"],
                                when="not after {}".format(facts["not_after"])))
    return findings, facts, cert


# --------------------------------------------------------------------------- SP key

_OID_PBES2 = bytes.fromhex("2a864886f70d01050d")
_OID_PBKDF2 = bytes.fromhex("2a864886f70d01050c")
_PRFS = {bytes.fromhex("2a864886f70d0207"): "SHA1", bytes.fromhex("2a864886f70d0208"): "SHA224",
         bytes.fromhex("2a864886f70d0209"): "SHA256", bytes.fromhex("2a864886f70d020a"): "SHA384",
         bytes.fromhex("2a864886f70d020b"): "SHA512"}
_CIPHERS = {bytes.fromhex("608648016503040102"): ("AES", 16), bytes.fromhex("608648016503040116"): ("AES", 24),
            bytes.fromhex("60864801650304012a"): ("AES", 32), bytes.fromhex("2a864886f70d0307"): ("3DES", 24)}


def pbes2_parameters(der: bytes) -> dict | None:
    """The PBES2 parameters of an EncryptedPrivateKeyInfo (RFC 8018), read with :mod:`_asn1`.

    Returns ``{"salt", "iterations", "prf", "cipher", "key_length", "iv", "ciphertext"}`` for
    PBES2 with PBKDF2 and a cipher we can run (AES-CBC, 3DES-CBC), None for any other scheme;
    raises ``_asn1.DerError`` when the bytes are not well-formed DER of that shape.
    """
    outer_s, outer_e = _asn1.whole(der, _asn1.SEQUENCE, "EncryptedPrivateKeyInfo")
    parts = _asn1.children(der, outer_s, outer_e)
    if len(parts) != 2 or parts[0][0] != _asn1.SEQUENCE or parts[1][0] != _asn1.OCTET_STRING:
        raise _asn1.DerError("EncryptedPrivateKeyInfo: expected SEQUENCE { algorithm, OCTET STRING }")
    (_t, alg_s, alg_e), (_t2, data_s, data_e) = parts
    algorithm = _asn1.children(der, alg_s, alg_e)
    if len(algorithm) < 2 or algorithm[0][0] != _asn1.OID or der[algorithm[0][1]:algorithm[0][2]] != _OID_PBES2:
        return None
    if algorithm[1][0] != _asn1.SEQUENCE:
        raise _asn1.DerError("PBES2-params: expected a SEQUENCE")
    kdf, scheme = _sequences(der, algorithm[1][1], algorithm[1][2], 2, "PBES2-params")
    kdf_parts = _asn1.children(der, kdf[1], kdf[2])
    if len(kdf_parts) < 2 or der[kdf_parts[0][1]:kdf_parts[0][2]] != _OID_PBKDF2 or kdf_parts[1][0] != _asn1.SEQUENCE:
        return None
    params = _asn1.children(der, kdf_parts[1][1], kdf_parts[1][2])
    if len(params) < 2 or params[0][0] != _asn1.OCTET_STRING or params[1][0] != _asn1.INTEGER:
        return None  # a salt that is not an OCTET STRING (PBKDF2's otherSource): not one we run
    prf: str | None = "SHA1"
    for tag, ps, pe in params[2:]:
        if tag == _asn1.SEQUENCE:
            prf_parts = _asn1.children(der, ps, pe)
            prf = _PRFS.get(der[prf_parts[0][1]:prf_parts[0][2]]) if prf_parts else None
            if prf is None:
                return None
    scheme_parts = _asn1.children(der, scheme[1], scheme[2])
    if len(scheme_parts) < 2 or scheme_parts[1][0] != _asn1.OCTET_STRING:
        return None
    cipher = _CIPHERS.get(der[scheme_parts[0][1]:scheme_parts[0][2]])
    if cipher is None:
        return None
    return {"salt": der[params[0][1]:params[0][2]],
            "iterations": int.from_bytes(der[params[1][1]:params[1][2]], "big"),
            "prf": prf, "cipher": cipher[0], "key_length": cipher[1],
            "iv": der[scheme_parts[1][1]:scheme_parts[1][2]],
            "ciphertext": der[data_s:data_e]}


def _sequences(der, start, end, count, what):
    """The first ``count`` elements inside ``der[start:end]``, each a SEQUENCE."""
    found = _asn1.children(der, start, end)[:count]
    if len(found) < count or any(tag != _asn1.SEQUENCE for tag, _s, _e in found):
        raise _asn1.DerError(f"{what}: expected {count} SEQUENCEs")
    return found


def pkcs8_opens_with_empty_password(der: bytes) -> bool | None:
    """True when an encrypted PKCS#8 (PBES2/PBKDF2, AES or 3DES) decrypts with the empty
    password to a private key, False when it does not, None when the scheme is not one we can
    try.  Done by hand because cryptography refuses an empty password outright."""
    opened = _open_pkcs8_with_empty_password(der)
    return opened if opened in (False, None) else True


def _open_pkcs8_with_empty_password(der):
    """The private key of an encrypted PKCS#8 that opens with the empty password, else False
    (it does not, or the bytes are not DER) or None (a scheme we cannot try)."""
    try:
        from cryptography.hazmat.primitives import hashes, padding, serialization
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
        params = pbes2_parameters(der)
        if params is None:
            return None
        key = PBKDF2HMAC(getattr(hashes, params["prf"])(), params["key_length"], params["salt"],
                         params["iterations"]).derive(b"")
        if params["cipher"] == "AES":
            algo = algorithms.AES(key)
        else:
            try:  # cryptography >= 43 keeps 3DES among the "decrepit" ciphers
                from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
            except ImportError:
                TripleDES = algorithms.TripleDES
            algo = TripleDES(key)
        decryptor = Cipher(algo, modes.CBC(params["iv"])).decryptor()
        plain = decryptor.update(params["ciphertext"]) + decryptor.finalize()
        unpadder = padding.PKCS7(algo.block_size).unpadder()
        plain = unpadder.update(plain) + unpadder.finalize()
        return serialization.load_der_private_key(plain, password=None)
    except (ValueError, IndexError, TypeError):  # _asn1.DerError is a ValueError
        return False
    except Exception:  # UnsupportedAlgorithm and friends: we cannot tell
        return None


def _pkcs8_der(data):
    """DER of an ENCRYPTED PRIVATE KEY (PEM or DER input), or None."""
    for label, block in pem_blocks(data):
        if label == b"ENCRYPTED PRIVATE KEY":
            body = b"".join(line for line in block.split(b"\n")[1:-1])
            try:
                return base64.b64decode(body)
            except ValueError:
                return None
    return data if isinstance(data, bytes) and _asn1.starts_sequence(data) else None


# --------------------------------------------------------------------------- key remedies
# The seed's key table, as commands: which form of each key type Tableau Server can use and the
# command that writes it.  RSA: unencrypted PKCS#1, or (server-wide only) encrypted PKCS#8.
# DSA: unencrypted only ("An RSA or DSA private key file"; every password-protected form is
# refused: PKCS#1 with a password, and PKCS#8 with a password must be RSA).  Other key types
# cannot be converted into something Tableau takes: the key (and its certificate) must be
# replaced.  Every command here is run by the tests on a real key of its type, and its output
# is checked again by check_sp_key.

_OUT = "saml.key"
_REPLACE = ("No conversion makes {what} usable: Tableau Server takes RSA (or DSA) SAML keys, so the "
            "key and its certificate must be replaced by an RSA pair of 2048 bits or more, e.g. "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout saml.key -out saml.crt -subj "
            "/CN=<tableau host>, or one issued by your CA")


def _unencrypted_command(key_type, source, fmt=None):
    """The command that writes ``source`` as an unencrypted PKCS#1 (traditional) key, or None."""
    src = shlex.quote(source)
    if fmt == "openssh":
        if key_type == "RSA":  # asks for the old passphrase, then the new one: leave it empty
            return f"cp {src} {_OUT} && chmod 600 {_OUT} && ssh-keygen -p -m PEM -f {_OUT}"
        return None
    if key_type == "RSA":
        return f"openssl rsa -in {src} -traditional -out {_OUT}"
    if key_type == "DSA":
        return f"openssl dsa -in {src} -out {_OUT}"
    return None


def _encrypted_pkcs8_command(key_type, source):
    """The command that writes ``source`` as encrypted PKCS#8 (server-wide SAML), RSA only."""
    if key_type != "RSA":
        return None
    return f"openssl pkcs8 -topk8 -v2 aes-256-cbc -in {shlex.quote(source)} -out {_OUT}"


def key_remedy(code: str, key_type: str | None, source: str, fmt: str | None = None,
               scope: str = "server") -> tuple[str, list[str]]:
    """``(remedy text, commands)`` for a key-table finding (``SAML-012``..``SAML-017``) on a key
    of ``key_type`` (``RSA``, ``DSA``, ``EC``, ..., or None when it could not be read).

    ``commands`` are the exact commands the text gives (they prompt for passphrases); each
    writes ``saml.key`` in a form Tableau Server accepts for ``scope``.  When the key type has
    no such form the text says plainly that the key must be replaced and ``commands`` is empty.
    """
    if key_type is None:  # an encrypted key not opened: say what to do for each usable type
        texts, commands = [], []
        for kind in ("RSA", "DSA"):
            text, cmds = key_remedy(code, kind, source, fmt, scope)
            texts.append("if it is a{} {} key: {}".format("n" if kind == "RSA" else "", kind, text[0].lower() + text[1:]))
            commands.extend(cmds)
        return "; ".join(texts) + "; any other key type must be replaced by an RSA key", commands
    plain = _unencrypted_command(key_type, source, fmt)
    if fmt == "openssh" and plain is None and key_type in ("RSA", "DSA"):
        return (f"Convert the OpenSSH key to a PEM {key_type} key, or replace the pair with RSA (no tested "
                f"command converts an OpenSSH {key_type} key here)"), []
    if plain is None:
        return _REPLACE.format(what=f"a {key_type} key"), []
    pkcs8 = _encrypted_pkcs8_command(key_type, source) if scope == "server" else None
    if code == "SAML-013":
        return (f"Convert it to a PEM PKCS#1 key: {plain} (when ssh-keygen asks for the new passphrase, "
                "leave it empty: a password-protected PKCS#1 key is not supported)"), [plain]
    if key_type == "DSA":
        return (f"Remove the password: {plain}. An unencrypted DSA key is the only DSA form Tableau "
                "Server takes (\"An RSA or DSA private key file\"; a password-protected key must be "
                "RSA PKCS#8). To keep a password, replace the pair with an RSA key"), [plain]
    if code == "SAML-017":
        return f"Remove the password for site SAML (unencrypted PKCS#1): {plain}", [plain]
    if code == "SAML-016":
        first = f"Convert it to an unencrypted PKCS#1 key: {plain}"
        second = f"encrypt it with a non-empty passphrase: {pkcs8}"
    else:
        first = f"Either remove the password: {plain}"
        second = f"convert it to encrypted PKCS#8: {pkcs8}"
    if pkcs8 is None:
        return first, [plain]
    return f"{first}; or, for server-wide SAML, {second}", [plain, pkcs8]


def _key_finding(code, kind, name, fmt, scope, **fmt_args):
    """``name`` is (label, path): the message names the label, the commands the file's path."""
    label, path = name
    text, commands = key_remedy(code, kind, path, fmt, scope)
    return finding(code, source=label, how_to=text, data={"commands": commands}, **fmt_args)


def _ec_size(key_type, size, curve, policy):
    """`` (P-192, 192 bits, below min_ec_key_size 256)`` for an EC key, else ``""``."""
    if key_type != "EC" or size is None:
        return ""
    below = f", below min_ec_key_size {policy.min_ec_key_size} as well" if size < policy.min_ec_key_size else ""
    return f" ({curve or 'unnamed curve'}, {size} bits{below})"


_LABEL_TYPES = {"RSA PRIVATE KEY": "RSA", "DSA PRIVATE KEY": "DSA", "EC PRIVATE KEY": "EC"}


def check_sp_key(data: bytes | str, source: str = "<input>", passphrase: str | None = None, scope: str = "server",
                 filename: str | None = None, cert: x509.Certificate | None = None,
                 policy: Policy | None = None) -> tuple[list[Finding], dict[str, Any]]:
    """Check the SAML private key against the seed's support table.

    Returns ``(findings, facts)``.  ``scope`` is ``server`` (server-wide SAML) or ``site``.
    ``cert`` (a cryptography certificate) enables the key/certificate match rule.  The remedies
    of the key-table findings are commands for the key type at hand (:func:`key_remedy`).
    """
    if scope not in ("server", "site"):
        raise SamlError(f"scope must be server or site, not {scope!r}")
    policy = policy or Policy()
    findings = []
    name = filename if (filename and str(source).startswith("<")) else source  # a label beats a placeholder
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if filename is not None and not basename(filename).endswith(".key"):
        findings.append(finding("SAML-010", source=name))
    try:
        info = inspect_private_key(data, None, name, private=False)
    except CertificateError as exc:
        findings.append(finding("SAML-011", source=name, detail=short_error(exc)))
        return findings, {}
    facts = {"format": info.format, "encrypted": info.encrypted, "key_type": None, "key_size": None,
             "curve": None, "matches_certificate": None, "passphrase_given": bool(passphrase)}
    # open it first (passphrase, or the empty password of PKCS#8) so every remedy knows the key type
    decrypt_error = None
    empty_password = False
    if info.encrypted and passphrase:
        try:
            info = inspect_private_key(data, passphrase, name, private=False)
        except CertificateError as exc:
            decrypt_error = short_error(exc)
    if info.encrypted and info.public is None and info.format == "pkcs8":
        empty_password = _open_pkcs8_with_empty_password(_pkcs8_der(data) or b"")
    if info.public is not None:
        key_type = info.key_type
    elif empty_password not in (False, None):
        key_type = public_key_info(empty_password)[0]
    else:
        key_type = _LABEL_TYPES.get(info.pem_label or "")
    fmt = info.format
    if fmt not in ("pkcs1", "pkcs8"):
        findings.append(_key_finding("SAML-013", key_type, (name, filename or source), fmt, scope, format=fmt.upper()))
    if info.encrypted:
        if fmt == "pkcs1":
            findings.append(_key_finding("SAML-014", key_type, (name, filename or source), fmt, scope, key_type=key_type or "RSA"))
        if scope == "site":
            findings.append(_key_finding("SAML-017", key_type, (name, filename or source), fmt, scope))
        if decrypt_error is not None:
            findings.append(finding("SAML-018", source=name, detail=decrypt_error[len(name) + 2:]
                                    if decrypt_error.startswith(name + ": ") else decrypt_error))
        if empty_password:
            findings.append(_key_finding("SAML-016", key_type, (name, filename or source), fmt, scope,
                                         how="is encrypted with an empty password"))
        elif not passphrase:
            findings.append(finding("SAML-018", source=name,
                                    detail="the key is password protected and no passphrase was given"))
    elif fmt == "pkcs8":
        findings.append(_key_finding("SAML-016", key_type, (name, filename or source), fmt, scope, how="has no password"))
    if info.public is not None:
        facts.update(key_type=info.key_type, key_size=info.key_size, curve=info.curve)
        if info.key_type not in ("RSA", "DSA"):
            findings.append(_key_finding("SAML-012", info.key_type, (name, filename or source), fmt, scope, key_type=info.key_type,
                                         ec_size=_ec_size(info.key_type, info.key_size, info.curve, policy)))
        if info.encrypted and fmt == "pkcs8" and info.key_type != "RSA":
            findings.append(_key_finding("SAML-015", info.key_type, (name, filename or source), fmt, scope, key_type=info.key_type))
        if cert is not None:
            facts["matches_certificate"] = key_matches_cert(info.public, cert)
            if not facts["matches_certificate"]:
                ktype, ksize, _c = public_key_info(public_key(cert))
                findings.append(finding(
                    "SAML-019", source=name, subject=cert_subject(cert),
                    cert_key=f"{ktype} {ksize}", key=f"{info.key_type} {info.key_size}"))
    return findings, facts


def check_keypair(cert_data: bytes | str | None = None, key_data: bytes | str | None = None,
                  passphrase: str | None = None, scope: str = "server", policy: Policy | None = None,
                  cert_source: str = "<certificate>", key_source: str = "<key>", cert_filename: str | None = None,
                  key_filename: str | None = None, now: datetime.datetime | None = None,
                  expiry_warn_days: int = 30) -> tuple[list[Finding], dict]:
    """The SP certificate+key verdict of seed 002: :func:`check_sp_certificate` and :func:`check_sp_key`.

    The one entry point of every path that takes a SAML key pair (``saml_keypair_check``, the TSM
    modules): bytes and ``*_source`` labels in (callers read files through ``reader.read_input``),
    ``*_filename`` the names TSM is given (the ``.crt``/``.key`` rules).  Returns ``(findings,
    facts)``, facts with ``certificate``, ``key`` and ``scope``.  A ``scope`` other than
    ``server``/``site`` raises SamlError.
    """
    if scope not in ("server", "site"):
        raise SamlError(f"scope must be server or site, not {scope!r}")
    findings = []
    facts: dict[str, Any] = {"certificate": None, "key": None, "scope": scope}
    cert = None
    if cert_data is not None:
        cert_findings, cert_facts, cert = check_sp_certificate(
            cert_data, cert_source, policy, cert_filename, now, expiry_warn_days)
        findings.extend(cert_findings)
        facts["certificate"] = cert_facts or None
    if key_data is not None:
        key_findings, key_facts = check_sp_key(key_data, key_source, passphrase, scope,
                                               key_filename, cert, policy)
        findings.extend(key_findings)
        facts["key"] = key_facts or None
    return findings, facts
