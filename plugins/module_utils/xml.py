# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardened XML parser every SAML check uses.

SAML metadata and responses come from outside (an IdP export, a browser trace).  They are read
with an lxml parser that never loads a DTD, never expands an entity and never touches the
network, and any document that carries a DOCTYPE at all is refused before lxml sees it: SAML
(metadata, protocol and assertion schemas) has no use for one, and XXE, "billion laughs" and
external DTD URLs all need one.  The size limit is checked before parsing.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import codecs
import re
import traceback
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

LXML_IMPORT_ERROR: str | None
try:
    from lxml import etree
except ImportError:  # pragma: no cover - reported by modules via missing_required_lib
    HAS_LXML = False
    LXML_IMPORT_ERROR = traceback.format_exc()
    etree = None
else:
    HAS_LXML = True
    LXML_IMPORT_ERROR = None


NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}

#: the one cap for XML documents (SAML metadata and responses), the shared reader's
DEFAULT_MAX_BYTES = reader.MAX_XML

#: declared encodings accepted (lower case, as normalised by :func:`codecs.lookup`)
ACCEPTED_ENCODINGS = ("utf-8", "utf-16", "utf-16-le", "utf-16-be")


class XmlError(TrustopsError):
    """Input that is not acceptable XML: malformed, too large, with a DTD, odd encoding."""


_DECL = re.compile(r"""^\s*<\?xml\s[^>]*?encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\1""")
_DECL_BYTES = re.compile(br"""^\s*<\?xml\s[^>]*?encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\1""")
_DECL_ENCODING_ATTR = re.compile(r"""(<\?xml\s[^>]*?)\s+encoding\s*=\s*(["'])[A-Za-z0-9._-]+\2""")
_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


if etree is not None:
    class _RefuseAll(etree.Resolver):
        """Answers every external entity/DTD request with nothing, so libxml2 never opens a
        file or URL itself (it does for external parameter entities in some parser modes,
        e.g. with ``collect_ids=False``, whatever ``resolve_entities`` says)."""

        def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
            return self.resolve_string("", context)


def _parser() -> Any:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )
    parser.resolvers.add(_RefuseAll())
    return parser


def _canonical_encoding(name: str, source: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise XmlError(f"{source}: declares the unknown encoding {name!r}; SAML documents must be UTF-8 "
                       "(or UTF-16)")


def sniff_encoding(data: bytes, source: str = "<input>") -> str:
    """The encoding a byte document is in, from its byte order mark, its first bytes or its
    XML declaration: ``utf-8`` (the default), ``utf-16-le``, ``utf-16-be``, or the canonical
    name of whatever the declaration names (which :func:`parse_xml` then refuses)."""
    if data[:3] == codecs.BOM_UTF8:
        return "utf-8"
    if data[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        return "utf-32"
    if data[:2] in (codecs.BOM_UTF16_LE, b"<\x00"):
        return "utf-16-le"
    if data[:2] in (codecs.BOM_UTF16_BE, b"\x00<"):
        return "utf-16-be"
    match = _DECL_BYTES.match(data[:200])
    if match:
        return _canonical_encoding(match.group(2).decode("ascii"), source)
    return "utf-8"


def _text(data: Any, source: str) -> tuple[str, str]:
    """(text, encoding) of the input; bytes are decoded by their sniffed encoding."""
    if isinstance(data, str):
        match = _DECL.match(data[:200])
        if match:
            declared = _canonical_encoding(match.group(2), source)
            if declared not in ACCEPTED_ENCODINGS:
                raise XmlError(f"{source}: declares encoding {match.group(2)!r}; SAML documents must be UTF-8 (or "
                               "UTF-16)")
        return data, "utf-8"
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise XmlError(f"{source}: expected bytes or text, got {type(data).__name__}")
    encoding = sniff_encoding(data, source)
    if encoding not in ACCEPTED_ENCODINGS:
        raise XmlError(f"{source}: is encoded as {encoding}; SAML documents must be UTF-8 (or UTF-16)")
    codec = "utf-8-sig" if encoding == "utf-8" else ("utf-16" if data[:2] in (
        codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else encoding)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise XmlError(f"{source}: not valid {encoding.upper()} at byte {exc.start} ({exc.reason}); save the "
                       "document as UTF-8")
    return text, encoding


def parse_xml(data: bytes | bytearray | memoryview | str, source: str = "<input>",
              max_bytes: int | None = DEFAULT_MAX_BYTES) -> Any:
    """Parse an untrusted XML document and return its root element.

    Refused with :class:`XmlError` (naming ``source``): more than ``max_bytes`` (checked before
    anything is parsed), empty input, a declared or detected encoding other than UTF-8/UTF-16,
    bytes invalid in that encoding, any DOCTYPE or markup declaration (DTDs, entities: XXE and
    entity-expansion attacks), and anything that is not well-formed.  Nothing is ever read
    from disk or network while parsing.
    """
    if etree is None:  # pragma: no cover
        raise XmlError(f"{source}: the python lxml library is required to read XML")
    if not isinstance(data, (str, bytes, bytearray, memoryview)):
        raise XmlError(f"{source}: expected bytes or text, got {type(data).__name__}")
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if max_bytes is not None and size > max_bytes:
        raise XmlError(f"{source}: {size} bytes is more than the limit of {max_bytes} bytes for an XML document")
    text, encoding = _text(data, source)
    if not text.strip():
        raise XmlError(f"{source}: empty input, expected an XML document")
    forbidden = _FORBIDDEN.search(text)
    if forbidden:
        line = text.count("\n", 0, forbidden.start()) + 1
        raise XmlError(f"{source}: contains a <!{forbidden.group(1).upper()} declaration at line {line}; DTDs and "
                       "entity declarations are refused in SAML documents (they enable XXE and "
                       "entity-expansion attacks and SAML never needs them)")
    # lxml takes bytes with their declaration; re-encode as UTF-8 and drop the encoding
    # pseudo-attribute so that a UTF-16 declaration does not contradict the bytes.
    payload = _DECL_ENCODING_ATTR.sub(r"\1", text.lstrip("\ufeff"), count=1).encode("utf-8", "surrogatepass")
    try:
        root = etree.fromstring(payload, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"{source}: not well-formed XML ({_short(exc)})")
    except ValueError as exc:
        raise XmlError(f"{source}: not acceptable XML ({_short(exc)})")
    if root is None:
        raise XmlError(f"{source}: no XML root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlError(f"{source}: contains a DOCTYPE; DTDs are refused in SAML documents")
    return root


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def qname(element: Any) -> str:
    """``prefix:local`` style name for messages: the NS key when the namespace is known."""
    tag = etree.QName(element)
    for prefix, uri in NS.items():
        if uri == tag.namespace:
            return f"{prefix}:{tag.localname}"
    return tag.localname if tag.namespace is None else f"{{{tag.namespace}}}{tag.localname}"
