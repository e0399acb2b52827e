# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardened XML parser: hostile documents are refused fast and nothing is read.

"Nothing read" is proved, not assumed: the XXE targets are a named pipe (FIFO) whose writer
blocks until somebody opens the pipe for reading, and a loopback socket that would hold any
connection attempt in its accept queue.  After parsing, the writer must still be blocked (no
marker file) and the queue must be empty.  The same documents are also fed to the lxml parser directly
(bypassing the DOCTYPE pre-scan), so the parser settings are a second line of defence.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ansible_collections.trustops.tableau.plugins.module_utils import xml as hx
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError


# The writer runs in its own process: a thread would need this process's GIL to reach its
# blocking open(), and a parser that holds the GIL while it blocks opening the FIFO for reading
# would then deadlock the test run instead of failing it.
_WRITER = (
    "import sys\n"
    "handle = open(sys.argv[1], 'wb')  # blocks until a reader opens the FIFO\n"
    "open(sys.argv[2], 'wb').close()  # the marker: somebody opened the pipe for reading\n"
    "handle.write(b'TOPSECRET')\n"
    "handle.close()\n"
)


class Fifo:
    """A named pipe whose writer process blocks in open() until a reader opens the pipe.

    The writer creates a marker file before it writes, so a reader that got the content (it
    reads to end of file, which comes only when the writer closes) always finds the marker.
    """

    def __init__(self, path):
        self.path = str(path)
        self.marker = self.path + ".opened"
        os.mkfifo(self.path)
        self.proc = subprocess.Popen([sys.executable, "-c", _WRITER, self.path, self.marker])

    def was_read(self):
        return os.path.exists(self.marker)

    def release(self):
        """Open the reading end ourselves (without blocking) so the writer process ends."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.proc.wait(10)
        finally:
            os.close(fd)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)


class Listener:
    """A loopback TCP listener; connection attempts wait in its accept queue."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def pending(self):
        readable, _w, _x = select.select([self.sock], [], [], 0)
        return bool(readable)

    def close(self):
        self.sock.close()


@pytest.fixture
def fifo(tmp_path):
    pipe = Fifo(tmp_path / "secret")
    yield pipe
    pipe.release()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def _control_connection_is_seen(listener):
    """The listener does see a real connection (so 'no pending connection' means something)."""
    client = socket.create_connection(("127.0.0.1", listener.port), timeout=5)
    try:
        assert listener.pending()
        conn, _addr = listener.sock.accept()
        conn.close()
    finally:
        client.close()
    assert not listener.pending()


def hostile(fifo_path, port):
    return {
        "xxe-file": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://%s">]><r>&x;</r>'
                    % fifo_path.encode(),
        "xxe-parameter": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file://'
                         + fifo_path.encode() + b'"> %p;]><r/>',
        "xxe-http": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:%d/x">]><r>&x;</r>'
                    % port,
        "external-dtd": b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:%d/evil.dtd"><r/>' % port,
        "external-dtd-public": b'<!DOCTYPE r PUBLIC "-//E//DTD E//EN" "http://127.0.0.1:%d/p.dtd"><r/>' % port,
        "xinclude": None,  # not a DTD attack; see test_xinclude_is_not_processed
    }


def billion_laughs(levels=10):
    lines = ['<!ENTITY lol0 "lol">']
    for i in range(1, levels):
        lines.append(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">')
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(lines)}]><lolz>&lol{levels - 1};</lolz>'.encode()


@pytest.mark.parametrize("name", ["xxe-file", "xxe-parameter", "xxe-http", "external-dtd", "external-dtd-public"])
def test_hostile_documents_are_refused_and_nothing_is_read(name, fifo, listener):
    doc = hostile(fifo.path, listener.port)[name]
    start = time.monotonic()
    with pytest.raises(hx.XmlError) as err:
        hx.parse_xml(doc, source="idp.xml")
    assert time.monotonic() - start < 0.5
    assert "idp.xml" in str(err.value) and "DOCTYPE" in str(err.value)
    assert isinstance(err.value, TrustopsError)
    assert not fifo.was_read()
    assert not listener.pending()
    _control_connection_is_seen(listener)


@pytest.mark.parametrize("name", ["xxe-file", "xxe-parameter", "xxe-http", "external-dtd", "external-dtd-public"])
def test_parser_settings_alone_read_nothing(name, fifo, listener):
    """Second line of defence: the lxml parser itself (no pre-scan) expands and fetches nothing."""
    doc = hostile(fifo.path, listener.port)[name]
    try:
        root = etree.fromstring(doc, parser=hx._parser())
    except etree.XMLSyntaxError:
        root = None  # refusing is fine too; what matters is that nothing was read
    if root is not None:
        assert b"TOPSECRET" not in etree.tostring(root)
        assert root.getroottree().docinfo.doctype  # ... and parse_xml refuses it after the parse
    assert not fifo.was_read()
    assert not listener.pending()


def test_control_fifo_detects_a_reader(fifo):
    """The FIFO proof is able to fail: a parser that loads external entities does read it."""
    unsafe = etree.XMLParser(resolve_entities=True, no_network=True, load_dtd=True)
    doc = hostile(fifo.path, 1)["xxe-file"]
    root = etree.fromstring(doc, parser=unsafe)
    assert fifo.was_read()
    assert root.text == "TOPSECRET"


def test_billion_laughs_is_refused_fast():
    doc = billion_laughs()
    start = time.monotonic()
    with pytest.raises(hx.XmlError, match="DOCTYPE"):
        hx.parse_xml(doc)
    assert time.monotonic() - start < 0.2


def test_billion_laughs_with_the_parser_alone_is_not_expanded():
    try:
        root = etree.fromstring(billion_laughs(), parser=hx._parser())
    except etree.XMLSyntaxError as exc:  # libxml2's own amplification guard
        assert "entity" in str(exc).lower() or "amplification" in str(exc).lower()
        return
    assert len(etree.tostring(root)) < 10000


@pytest.mark.parametrize("doc", [
    b'<!doctype r><r/>',
    b'<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE r><r/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16"),
    '<!DOCTYPE r><r/>'.encode("utf-16-le"),
    b'\xef\xbb\xbf<!DOCTYPE r><r/>',
    '<!ENTITY x "y"><r/>',
])
def test_every_doctype_spelling_and_encoding_is_refused(doc):
    with pytest.raises(hx.XmlError, match="DOCTYPE|ENTITY"):
        hx.parse_xml(doc)


def test_size_limit_is_checked_before_parsing():
    # malformed and hostile, but too big: the size is what is reported, at once
    doc = billion_laughs() + b" " * 2000000
    start = time.monotonic()
    with pytest.raises(hx.XmlError, match="more than the limit of 2000000 bytes"):
        hx.parse_xml(doc, source="big.xml")
    assert time.monotonic() - start < 0.2
    with pytest.raises(hx.XmlError, match="more than the limit of 100"):
        hx.parse_xml(b"<r>" + b"a" * 200 + b"</r>", max_bytes=100)
    assert hx.parse_xml(b"<r>" + b"a" * 200 + b"</r>", max_bytes=None).tag == "r"


@pytest.mark.parametrize("declared", ["ISO-8859-1", "windows-1252", "US-ASCII", "EBCDIC-US"])
def test_other_declared_encodings_are_reported(declared):
    doc = (f'<?xml version="1.0" encoding="{declared}"?><r/>').encode("ascii")
    with pytest.raises(hx.XmlError, match="UTF-8"):
        hx.parse_xml(doc, source="idp.xml")
    with pytest.raises(hx.XmlError, match="UTF-8"):
        hx.parse_xml(doc.decode("ascii"), source="idp.xml")


def test_unknown_encoding_name_is_reported():
    with pytest.raises(hx.XmlError, match="unknown encoding 'no-such-codec'"):
        hx.parse_xml(b'<?xml version="1.0" encoding="no-such-codec"?><r/>')


def test_utf32_is_refused():
    with pytest.raises(hx.XmlError, match="utf-32"):
        hx.parse_xml("<r/>".encode("utf-32"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_utf8_and_utf16_documents_are_read(encoding):
    decl = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
    text = '<?xml version="1.0" encoding="{}"?><md:E xmlns:md="{}" a="é€">Zoë</md:E>'.format(decl, hx.NS["md"])
    root = hx.parse_xml(text.encode(encoding))
    assert root.tag == "{{{}}}E".format(hx.NS["md"])
    assert root.text == "Zoë" and root.get("a") == "é€"
    assert hx.sniff_encoding(text.encode(encoding)) in ("utf-8", "utf-16-le", "utf-16-be")


def test_text_input_with_a_utf16_declaration_is_read():
    root = hx.parse_xml('<?xml version="1.0" encoding="UTF-16"?><r>ü</r>')
    assert root.text == "ü"


def test_invalid_utf8_names_the_byte():
    with pytest.raises(hx.XmlError, match="not valid UTF-8 at byte 3"):
        hx.parse_xml(b"<r>\xff</r>", source="x.xml")


@pytest.mark.parametrize("doc,match", [
    (b"", "empty input"),
    (b"   \n", "empty input"),
    (b"<r><b></r>", "not well-formed"),
    (b"not xml at all", "not well-formed"),
    (b"<r/><r/>", "not well-formed"),
    (b"<a:r/>", "not well-formed"),
])
def test_malformed_documents(doc, match):
    with pytest.raises(hx.XmlError, match=match):
        hx.parse_xml(doc, source="m.xml")


def test_wrong_type():
    with pytest.raises(hx.XmlError, match="expected bytes or text"):
        hx.parse_xml(42)


def test_comments_are_kept_for_signature_canonicalisation():
    root = hx.parse_xml(b"<r><!-- c --><a/></r>")
    assert isinstance(root[0], etree._Comment)


def test_xinclude_is_not_processed(fifo):
    doc = (f'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{fifo.path}" parse="text"/></r>').encode()
    root = hx.parse_xml(doc)
    assert b"TOPSECRET" not in etree.tostring(root)
    assert not fifo.was_read()


def test_qname_uses_known_prefixes():
    root = hx.parse_xml(b'<x:EntityDescriptor xmlns:x="urn:oasis:names:tc:SAML:2.0:metadata"/>')
    assert hx.qname(root) == "md:EntityDescriptor"
    assert hx.qname(hx.parse_xml(b"<plain/>")) == "plain"
    assert hx.qname(hx.parse_xml(b'<o xmlns="urn:other"/>')) == "{urn:other}o"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_an_element_or_xml_error(data):
    try:
        root = hx.parse_xml(data)
    except hx.XmlError as exc:
        assert str(exc).startswith("<input>: ")
    else:
        assert root.getroottree().docinfo.doctype == ""


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_an_element_or_xml_error(text):
    try:
        root = hx.parse_xml("<r>" + text)
    except hx.XmlError as exc:
        assert str(exc).startswith("<input>: "), str(exc)
    else:
        assert root.tag == "r" and root.getroottree().docinfo.doctype == ""
