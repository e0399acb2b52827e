# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inputs of the mobile artifacts: CA certificates, texts, names, domains.

Broken input raises :class:`MobileError` (a TrustopsError) naming the option it came from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


class MobileError(TrustopsError):
    """Broken input for the mobile artifacts (not policy)."""


_IDENTIFIER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_BASENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LANGUAGE = re.compile(r"^(?:default|[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                     r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# XML 1.0 allows TAB, LF, CR and everything from U+0020 except surrogates and U+FFFE/U+FFFF.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- inputs

def valid_identifier(identifier: object) -> str:
    """A reverse-DNS profile identifier (at least two labels, letters/digits/hyphens)."""
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier or ""):
        raise MobileError(f"identifier {identifier!r} is not a reverse-DNS name such as com.example.tableau.ca-trust "
                          "(labels of letters, digits and hyphens, separated by dots)")
    return identifier


def valid_basename(name: object) -> str:
    """A file base name for the profile and ONC files: no directory, no leading dot."""
    if not isinstance(name, str) or not _BASENAME.match(name) or ".." in name:
        raise MobileError(f"name {name!r} must be a plain file name (letters, digits, '.', '_', '-'; no "
                          "directory, no leading dot)")
    return name


def normalize_text(value: object, what: str) -> str | None:
    """A text shown to users: must survive XML (no control characters).  CR and CRLF become LF,
    as every XML parser (plistlib included) would read them back."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MobileError(f"{what} must be text, not {type(value).__name__}")
    return _xml_text(value, what)


def _xml_text(value: str, what: str) -> str:
    """``value`` with CR and CRLF as LF; a character XML cannot carry raises MobileError."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _XML_BAD.search(value)
    if bad:
        raise MobileError(f"{what} holds the control character U+{ord(bad.group(0)):04X}, which a property list cannot carry")
    return value


def consent_dict(value: object) -> dict[str, str] | None:
    """ConsentText is a dictionary (BCP 47 language or ``default`` -> text); a string is the default."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        value = {"default": value}
    if not isinstance(value, dict):
        raise MobileError(f"consent_text must be a text or a dictionary of language -> text, not {type(value).__name__}")
    out = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            raise MobileError(f"consent_text: {lang!r} is not a BCP 47 language tag (en, de, pt-BR) or 'default'")
        if not isinstance(text, str) or not text.strip():
            raise MobileError(f"consent_text[{lang}] must be a non-empty text")
        out[lang] = _xml_text(text, f"consent_text[{lang}]")
    return out


def normalize_domains(domains: Iterable[object] | None) -> list[str]:
    """Host or domain names for ``<domain-config>``: lower case, without a trailing dot."""
    out = []
    for domain in domains or []:
        if not isinstance(domain, str) or not _DOMAIN.match(domain.rstrip(".")):
            raise MobileError(f"android_domains: {domain!r} is not a host or domain name")
        out.append(domain.rstrip(".").lower())
    return out


#: The names of the validators before issue 12 (``check_*`` now always means "returns findings").
check_identifier = valid_identifier
check_basename = valid_basename
check_text = normalize_text
check_domains = normalize_domains


class CA:
    """One certificate authority to install: the certificate and what is derived from it."""

    __slots__ = ("cert", "source", "der", "sha256", "role")

    def __init__(self, cert: x509.Certificate, source: str, role: str) -> None:
        self.cert = cert
        self.source = source
        self.der = certs.to_der(cert)
        self.sha256 = hashlib.sha256(self.der).hexdigest()
        self.role = role  # root | intermediate


def _slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")[:40].strip("-")


def cert_basename(cert: x509.Certificate, sha256hex: str) -> str:
    """``<slug of CN>-<first 16 hex of SHA-256>``: readable, unique, stable."""
    names = certs.common_names(cert)
    return "{}-{}".format(_slug(names[0] if names else "") or "ca", sha256hex[:16])


def raw_resource_name(basename: str) -> str:
    """An Android resource name (lower-case letters, digits, underscores; starts with a letter)."""
    name = re.sub(r"[^a-z0-9_]", "_", basename.lower())
    return name if name[:1].isalpha() else "ca_" + name


def named_error(exc: Exception, option: str | None, source: str) -> Exception:
    """A loader's error (``<source>: what is wrong``) naming the option first, as the shared reader
    does (``<option> <path>: ...``); unchanged when the source already is the option."""
    if names_option(option, source):
        return exc
    return MobileError(f"{option} {exc}")


def names_option(option: str | None, source: str) -> bool:
    """True when ``source`` already names ``option`` (``option`` itself, or ``"<option> <path>"``
    as the shared reader labels a file)."""
    return not option or option == source or str(source).startswith(option + " ")


def load_certificates(data: bytes | str, source: str, option: str | None = None) -> list[x509.Certificate]:
    """:func:`certs.load_certificates`, its error naming ``option`` first (:func:`named_error`)."""
    try:
        return certs.load_certificates(data, source)
    except certs.CertificateError as exc:
        raise named_error(exc, option, source)


def load_cas(blobs: Sequence[tuple]) -> tuple[list[CA], list[tuple[str, str]]]:
    """Certificates from (data, source) or (data, source, option) tuples, in order, duplicates dropped.

    ``option`` (the module option the data came from) is named in the error for broken input.
    Returns (cas, duplicates) where duplicates lists (source, sha256) of dropped repeats.
    """
    cas, seen, duplicates = [], set(), []
    if not blobs:
        raise MobileError("no CA certificate given: set src or content")
    for blob in blobs:
        data, source = blob[0], blob[1]
        for cert in load_certificates(data, source, blob[2] if len(blob) > 2 else None):
            der = certs.to_der(cert)
            digest = hashlib.sha256(der).hexdigest()
            if digest in seen:
                duplicates.append((source, digest))
                continue
            seen.add(digest)
            role = "root" if certs.is_self_signed(cert) else "intermediate"
            cas.append(CA(cert, source, role))
    return cas, duplicates


def source_label(option: str | None, source: str) -> str:
    """``source`` as messages name it: ``"<option> <source>"`` unless it already names the option."""
    return source if names_option(option, source) else f"{option} {source}"


#: The certificate extension reader is :func:`certs.extension` (an unreadable extension section
#: raises certs.CertificateError, a TrustopsError); this name is kept for callers of earlier builds.
extension = certs.extension
