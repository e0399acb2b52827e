# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tlsprobe.wire: our ClientHello (read back by an independent little parser) and the TLS 1.2
handshake reader, on a real ``openssl s_server`` flight and on crafted and generated records.
"""

from __future__ import annotations

import random
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.wire import (
    HandshakeReader,
    NotTlsError,
    TlsAlertError,
    TlsProbeError,
    client_hello,
)

from .servers import HOST, OPENSSL, Files, serve

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is the test referee")


# --------------------------------------------------------------------------- ClientHello

def parse_client_hello(record):
    """An independent little parser of our ClientHello: returns (suites, {ext type: data})."""
    assert record[0] == 22 and record[1:3] == b"\x03\x01"
    assert int.from_bytes(record[3:5], "big") == len(record) - 5
    hs = record[5:]
    assert hs[0] == 1 and int.from_bytes(hs[1:4], "big") == len(hs) - 4
    body = hs[4:]
    assert body[0:2] == b"\x03\x03"
    pos = 2 + 32
    pos += 1 + body[pos]
    n = int.from_bytes(body[pos:pos + 2], "big")
    suites = [int.from_bytes(body[pos + 2 + i:pos + 4 + i], "big") for i in range(0, n, 2)]
    pos += 2 + n
    pos += 1 + body[pos]
    ext_len = int.from_bytes(body[pos:pos + 2], "big")
    pos += 2
    assert pos + ext_len == len(body)
    exts = {}
    while pos < len(body):
        etype = int.from_bytes(body[pos:pos + 2], "big")
        elen = int.from_bytes(body[pos + 2:pos + 4], "big")
        exts[etype] = body[pos + 4:pos + 4 + elen]
        pos += 4 + elen
    return suites, exts


def test_client_hello_carries_sni_and_the_usual_extensions():
    suites, exts = parse_client_hello(client_hello("Tableau.Example.Test."))
    assert 0xC02F in suites and 0x002F in suites
    sni = exts[0]
    assert sni[2] == 0 and sni[5:] == b"Tableau.Example.Test"
    assert set(exts) >= {0x000A, 0x000B, 0x000D, 0xFF01}


@pytest.mark.parametrize("name", [None, "", "127.0.0.1", "::1"])
def test_client_hello_sends_no_sni_for_none_or_ip_literals(name):
    _suites, exts = parse_client_hello(client_hello(name))
    assert 0 not in exts


def test_client_hello_encodes_idn_as_a_label():
    _suites, exts = parse_client_hello(client_hello(u"b\u00fccher.example"))
    assert exts[0][5:] == b"xn--bcher-kva.example"


# --------------------------------------------------------------------------- the reader, offline

def capture_flight(port, server_name):
    """The server's real bytes up to its Certificate message, as received."""
    reader = HandshakeReader()
    got = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(client_hello(server_name))
        while not reader.done:
            data = sock.recv(65536)
            assert data, "server closed early"
            got += data
            reader.feed(data)
    return bytes(got), reader


@pytest.fixture(scope="module")
def flight(pki3, tmp_path_factory):
    """A real server flight whose Certificate spans several records (-max_send_frag 512)."""
    files = Files(tmp_path_factory.mktemp("flight"))
    with serve(files, pki3["leaf"], [pki3["inter"]], args=["-max_send_frag", "512"]) as srv:
        data, reader = capture_flight(srv.port, HOST)
    return data, reader


def test_reader_reads_certificate_split_over_records(flight, pki3):
    _data, reader = flight
    assert reader.certificates == [pki3["leaf"].der, pki3["inter"].der]
    assert reader.messages[:1] == [2] and reader.messages[-1] == 11
    assert reader.records > len(reader.messages)  # handshake messages really were split
    assert reader.tls_version == "TLSv1.2" and reader.cipher.startswith("ECDHE-RSA-")


@pytest.mark.parametrize("seed", range(5))
def test_reader_same_result_for_any_split_of_the_reads(flight, seed):
    data, whole = flight
    rng = random.Random(seed)
    reader = HandshakeReader()
    pos = 0
    while pos < len(data):
        step = 1 if seed == 0 else rng.randint(1, 700)
        reader.feed(data[pos:pos + step])
        pos += step
    assert reader.done and reader.certificates == whole.certificates


def test_reader_stops_at_certificate_and_ignores_what_follows(flight):
    data, whole = flight
    reader = HandshakeReader()
    assert reader.feed(data + b"\x16\x03\x03\x00\x04\x0e\x00\x00\x00") is True
    assert reader.certificates == whole.certificates


def record(ctype, body, version=b"\x03\x03"):
    return bytes([ctype]) + version + len(body).to_bytes(2, "big") + body


def server_hello(suite=0xC02F):
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
    return b"\x02" + len(body).to_bytes(3, "big") + body


def certificate_msg(*ders):
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    body = len(entries).to_bytes(3, "big") + entries
    return b"\x0b" + len(body).to_bytes(3, "big") + body


def test_reader_fatal_alert_is_reported_by_name():
    with pytest.raises(TlsAlertError) as err:
        HandshakeReader().feed(record(21, b"\x02\x28"))
    assert err.value.name == "handshake_failure" and "handshake_failure (40)" in str(err.value)


def test_reader_warning_alert_is_recorded_and_reading_goes_on(pki3):
    data = record(21, b"\x01\x70") + record(22, server_hello() + certificate_msg(pki3["leaf"].der))
    reader = HandshakeReader()
    assert reader.feed(data)
    assert reader.warnings == ["unrecognized_name"] and reader.certificates == [pki3["leaf"].der]


@pytest.mark.parametrize("answer, shown", [
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    (b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-OpenSSH_9.2p1"),
    (b"\x16\x02\x00", "0x160200"),
])
def test_reader_recognises_non_tls_answers(answer, shown):
    with pytest.raises(NotTlsError) as err:
        HandshakeReader().feed(answer)
    assert "not a TLS service" in str(err.value) and shown in str(err.value)


@pytest.mark.parametrize("data, text", [
    (record(22, certificate_msg(b"\x30\x00")), "before ServerHello"),
    (record(22, server_hello() + b"\x0e\x00\x00\x00"), "without sending a certificate"),
    (record(22, server_hello() + b"\x0b\x00\x00\x04\x00\x00\x09\x00"), "does not match"),
    (record(22, server_hello() + b"\x0b\x00\x00\x06\x00\x00\x03\x00\x00\x00"), "bad certificate entry"),
    (record(20, b"\x01"), "ChangeCipherSpec"),
    (record(22, b""), "empty handshake record"),
    (b"\x16\x03\x03\x50\x00", "not a TLS service"),
])
def test_reader_rejects_malformed_flights(data, text):
    with pytest.raises(TlsProbeError) as err:
        HandshakeReader().feed(data)
    assert text in str(err.value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_reader_never_fails_other_than_with_probe_errors(data, chunk):
    reader = HandshakeReader(max_bytes=4096)
    try:
        for pos in range(0, len(data), chunk):
            reader.feed(data[pos:pos + chunk])
    except TlsProbeError as exc:
        assert str(exc), "a probe error says what was wrong"
    else:
        # no error: done with a Certificate message, or still waiting with every byte taken in
        assert reader.done == (reader.certificates is not None)
        assert reader.done or (reader.total == len(data) and reader.certificates is None)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_reader_handles_any_record_and_message_split(data):
    ders = [bytes([0x30, 0x03, 0x02, 0x01, n]) for n in range(data.draw(st.integers(1, 4)))]
    stream = server_hello() + certificate_msg(*ders)
    # split the handshake stream into records of arbitrary sizes, then the bytes into reads
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=8))))
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)], strict=True)]
    wire = b"".join(record(22, p) for p in pieces)
    reads = sorted(set(data.draw(st.lists(st.integers(1, len(wire) - 1), max_size=8))))
    reader = HandshakeReader()
    for a, b in zip([0] + reads, reads + [len(wire)], strict=True):
        reader.feed(wire[a:b])
    assert reader.done and reader.certificates == ders
