# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire: a TLS 1.2 ClientHello, the reader of the server's first flight, the connection.

:func:`client_hello` builds the record, :class:`HandshakeReader` parses what the server sends up
to its Certificate message (any split of records and messages), :func:`read_served_chain` does
both over a socket.  The connection errors live here too: :class:`TlsProbeError` and its kinds.
Pure Python (``socket``, ``struct``), no cryptography, no Ansible imports.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

__all__ = [
    "TlsProbeError", "NotTlsError", "TlsAlertError", "TlsHandshakeError", "ConnectError", "ReadTimeoutError",
    "client_hello", "sni_bytes", "HandshakeReader", "Endpoint", "connect", "read_served_chain",
]

# ----------------------------------------------------------------------------- constants

CONTENT_CCS, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPDATA = 20, 21, 22, 23
HS_HELLO_REQUEST, HS_SERVER_HELLO, HS_CERTIFICATE = 0, 2, 11
HS_SERVER_KEY_EXCHANGE, HS_CERTIFICATE_REQUEST, HS_SERVER_HELLO_DONE = 12, 13, 14
HS_CERTIFICATE_STATUS = 22
MAX_RECORD = 16384 + 2048  # TLSCiphertext limit (RFC 5246 6.2.3)
MAX_HANDSHAKE = 1 << 20  # no sane certificate chain is larger than 1 MiB
MAX_READ = 2 << 20

#: TLS versions by wire value.
VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2",
            0x0304: "TLSv1.3"}

#: Cipher suites the reader offers (IANA value: OpenSSL name), modern first, then the legacy
#: RSA-kx/CBC suites old Tableau Server (Apache httpd) configurations may still be limited to.
CIPHER_SUITES = (
    (0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256"), (0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"),
    (0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384"), (0xC030, "ECDHE-RSA-AES256-GCM-SHA384"),
    (0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305"), (0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305"),
    (0xC023, "ECDHE-ECDSA-AES128-SHA256"), (0xC027, "ECDHE-RSA-AES128-SHA256"),
    (0xC024, "ECDHE-ECDSA-AES256-SHA384"), (0xC028, "ECDHE-RSA-AES256-SHA384"),
    (0xC009, "ECDHE-ECDSA-AES128-SHA"), (0xC013, "ECDHE-RSA-AES128-SHA"),
    (0xC00A, "ECDHE-ECDSA-AES256-SHA"), (0xC014, "ECDHE-RSA-AES256-SHA"),
    (0x009E, "DHE-RSA-AES128-GCM-SHA256"), (0x009F, "DHE-RSA-AES256-GCM-SHA384"),
    (0x0067, "DHE-RSA-AES128-SHA256"), (0x006B, "DHE-RSA-AES256-SHA256"),
    (0x0033, "DHE-RSA-AES128-SHA"), (0x0039, "DHE-RSA-AES256-SHA"),
    (0x009C, "AES128-GCM-SHA256"), (0x009D, "AES256-GCM-SHA384"),
    (0x003C, "AES128-SHA256"), (0x003D, "AES256-SHA256"),
    (0x002F, "AES128-SHA"), (0x0035, "AES256-SHA"), (0x000A, "DES-CBC3-SHA"),
)
CIPHER_NAMES = dict(CIPHER_SUITES)

#: supported_groups: x25519, secp256r1, secp384r1, secp521r1, x448, ffdhe2048, ffdhe3072.
GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101)
#: signature_algorithms: ECDSA and RSA-PSS/PKCS#1 with SHA-2, Ed25519/Ed448, then SHA-1 last
#: so that servers holding only a legacy certificate still show it to us.
SIGNATURE_ALGORITHMS = (0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806,
                        0x0809, 0x080A, 0x080B, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201)

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
    22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure",
    41: "no_certificate", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
    110: "unsupported_extension", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 115: "unknown_psk_identity",
    116: "certificate_required", 120: "no_application_protocol",
}


# ----------------------------------------------------------------------------- errors

class TlsProbeError(TrustopsError):
    """The probe could not get a certificate: DNS, refused, timeout, not TLS, closed, refused TLS.

    ``str()`` names the endpoint; ``reason`` is the same text without it.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class NotTlsError(TlsProbeError):
    """The service answered with something that is not a TLS record."""


class TlsAlertError(TlsProbeError):
    """The server answered the ClientHello with a fatal alert."""

    def __init__(self, message: str, description: int | None = None, reason: str | None = None) -> None:
        super().__init__(message, reason)
        self.description = description
        self.name = ALERTS.get(description, f"alert {description}") if description is not None else "alert"


class TlsHandshakeError(TlsProbeError):
    """The handshake broke off: closed, reset, malformed or unexpected records."""


class ConnectError(TlsProbeError):
    """No TCP connection (DNS, refused, unreachable, connect timeout)."""


class ReadTimeoutError(TlsProbeError):
    """Connected, but no (complete) TLS answer in time."""


# ----------------------------------------------------------------------------- ClientHello

def _u8(n: int) -> bytes:
    return struct.pack(">B", n)


def _u16(n: int) -> bytes:
    return struct.pack(">H", n)


def _u24(n: int) -> bytes:
    return struct.pack(">I", n)[1:]


def _vec16(data: bytes) -> bytes:
    return _u16(len(data)) + data


def sni_bytes(server_name: str | None) -> bytes | None:
    """The SNI host_name as ASCII (IDNA for Unicode), or None for none/IP literals (RFC 6066)."""
    if not server_name:
        return None
    name = server_name.rstrip(".")
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    try:
        encoded = name.encode("ascii")
    except UnicodeEncodeError:
        try:
            encoded = name.encode("idna")
        except UnicodeError as exc:
            raise TrustopsError(f"server_name {server_name!r} cannot be sent as SNI ({exc})")
    if not encoded or len(encoded) > 255:
        raise TrustopsError(f"server_name {server_name!r} is not a valid DNS name for SNI")
    return encoded


def client_hello(server_name: str | None = None, random: bytes | None = None) -> bytes:
    """A TLS 1.2 ClientHello record (bytes) with SNI, groups, point formats, signature algorithms."""
    rnd = random if random is not None else os.urandom(32)
    if len(rnd) != 32:
        raise ValueError("random must be 32 bytes")
    exts = b""
    sni = sni_bytes(server_name)
    if sni:
        entry = _u8(0) + _vec16(sni)
        exts += _u16(0x0000) + _vec16(_vec16(entry))
    exts += _u16(0x000A) + _vec16(_vec16(b"".join(_u16(g) for g in GROUPS)))
    exts += _u16(0x000B) + _vec16(_u8(1) + _u8(0))
    exts += _u16(0x000D) + _vec16(_vec16(b"".join(_u16(s) for s in SIGNATURE_ALGORITHMS)))
    exts += _u16(0x0017) + _vec16(b"")  # extended_master_secret
    exts += _u16(0xFF01) + _vec16(_u8(0))  # renegotiation_info (initial handshake)
    suites = b"".join(_u16(code) for code, _name in CIPHER_SUITES)
    body = (_u16(0x0303) + rnd + _u8(0) + _vec16(suites) + _u8(1) + _u8(0) + _vec16(exts))
    handshake = _u8(1) + _u24(len(body)) + body
    return _u8(CONTENT_HANDSHAKE) + _u16(0x0301) + _vec16(handshake)


# ----------------------------------------------------------------------------- the reader

def _printable(data: bytes | bytearray, limit: int = 60) -> str:
    """A short, safe rendering of what a non-TLS service sent."""
    text = bytes(data[:limit]).decode("latin-1")
    shown = "".join(ch if 32 <= ord(ch) < 127 else "." for ch in text)
    if sum(1 for ch in text if 32 <= ord(ch) < 127 or ch in "\r\n\t") >= max(1, len(text) * 3 // 4):
        return repr(shown.strip())
    return "0x" + bytes(data[:16]).hex()


class HandshakeReader:
    """Incremental parser of a server's first flight, up to and including its Certificate.

    Feed it bytes as they arrive (any split: records across reads, handshake messages across
    records); :meth:`feed` returns True once the Certificate message is complete.  Then
    ``certificates`` holds the DER certificates in served order, ``server_version`` and
    ``cipher_suite`` what the ServerHello chose.  Fatal alerts raise :class:`TlsAlertError`,
    non-TLS bytes :class:`NotTlsError`, malformed or unexpected data :class:`TlsHandshakeError`.
    """

    def __init__(self, max_bytes: int = MAX_READ) -> None:
        self.max_bytes = max_bytes
        self.total = 0
        self.records = 0
        self.server_version: int | None = None
        self.cipher_suite: int | None = None
        self.certificates: list[bytes] | None = None
        self.warnings: list[str] = []
        self.messages: list[int] = []
        self.done = False
        self._buf = bytearray()
        self._hs = bytearray()
        self._alert = bytearray()

    @property
    def tls_version(self) -> str | None:
        if self.server_version is None:
            return None
        return VERSIONS.get(self.server_version, f"0x{self.server_version:04X}")

    @property
    def cipher(self) -> str | None:
        if self.cipher_suite is None:
            return None
        return CIPHER_NAMES.get(self.cipher_suite, f"0x{self.cipher_suite:04X}")

    def feed(self, data: bytes) -> bool:
        if self.done:
            return True
        self.total += len(data)
        if self.total > self.max_bytes:
            raise TlsHandshakeError(f"the server sent more than {self.max_bytes} bytes without a Certificate message")
        self._buf += data
        while self._buf and not self.done:
            if self._buf[0] not in (CONTENT_CCS, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPDATA):
                raise NotTlsError(f"not a TLS service: it answered {_printable(self._buf)}")
            if len(self._buf) >= 2 and self._buf[1] != 3:
                raise NotTlsError(f"not a TLS service: it answered {_printable(self._buf)}")
            if len(self._buf) < 5:
                break
            ctype = self._buf[0]
            length = struct.unpack(">H", bytes(self._buf[3:5]))[0]
            if length > MAX_RECORD:
                if self.records == 0:
                    raise NotTlsError(f"not a TLS service: it answered {_printable(self._buf)}")
                raise TlsHandshakeError(f"record of {length} bytes exceeds the TLS limit")
            if len(self._buf) < 5 + length:
                break
            body = bytes(self._buf[5:5 + length])
            del self._buf[:5 + length]
            self.records += 1
            if ctype == CONTENT_ALERT:
                self._on_alert(body)
            elif ctype == CONTENT_HANDSHAKE:
                if not body:
                    raise TlsHandshakeError("empty handshake record")
                self._hs += body
                self._on_handshake()
            elif ctype == CONTENT_CCS:
                raise TlsHandshakeError("unexpected ChangeCipherSpec before the server's Certificate")
            else:
                raise TlsHandshakeError("unexpected application data before the server's Certificate")
        return self.done

    def _on_alert(self, body: bytes) -> None:
        self._alert += body
        while len(self._alert) >= 2:
            level, desc = self._alert[0], self._alert[1]
            del self._alert[:2]
            name = ALERTS.get(desc, f"alert {desc}")
            if level == 1 and desc != 0:
                self.warnings.append(name)
                continue
            if desc == 0:
                raise TlsHandshakeError("the server closed the connection (close_notify) during the handshake")
            raise TlsAlertError(f"the server refused the TLS 1.2 handshake with alert {name} ({desc})", desc)

    def _on_handshake(self) -> None:
        while len(self._hs) >= 4 and not self.done:
            mtype = self._hs[0]
            mlen = int.from_bytes(bytes(self._hs[1:4]), "big")
            if mlen > MAX_HANDSHAKE:
                raise TlsHandshakeError(f"handshake message of {mlen} bytes is too large")
            if len(self._hs) < 4 + mlen:
                return
            msg = bytes(self._hs[4:4 + mlen])
            del self._hs[:4 + mlen]
            self.messages.append(mtype)
            if mtype == HS_HELLO_REQUEST:
                continue
            if mtype == HS_SERVER_HELLO:
                self._server_hello(msg)
            elif self.server_version is None:
                raise TlsHandshakeError(f"handshake message type {mtype} before ServerHello")
            elif mtype == HS_CERTIFICATE:
                self.certificates = self._certificate(msg)
                self.done = True
            elif mtype == HS_SERVER_HELLO_DONE:
                raise TlsHandshakeError("the server finished its hello without sending a certificate")
            elif mtype in (HS_SERVER_KEY_EXCHANGE, HS_CERTIFICATE_REQUEST, HS_CERTIFICATE_STATUS):
                continue  # not before Certificate in a full handshake, harmless if they were
            else:
                raise TlsHandshakeError(f"unexpected handshake message type {mtype}")

    def _server_hello(self, msg: bytes) -> None:
        if self.server_version is not None:
            raise TlsHandshakeError("second ServerHello")
        if len(msg) < 38:
            raise TlsHandshakeError("truncated ServerHello")
        version = struct.unpack(">H", msg[0:2])[0]
        sid_len = msg[34]
        pos = 35 + sid_len
        if len(msg) < pos + 3:
            raise TlsHandshakeError("truncated ServerHello")
        self.server_version = version
        self.cipher_suite = struct.unpack(">H", msg[pos:pos + 2])[0]
        if version < 0x0300 or version > 0x0303:
            raise TlsHandshakeError(f"the server chose unsupported version 0x{version:04X}")

    @staticmethod
    def _certificate(msg: bytes) -> list[bytes]:
        if len(msg) < 3:
            raise TlsHandshakeError("truncated Certificate message")
        total = int.from_bytes(msg[0:3], "big")
        if total != len(msg) - 3:
            raise TlsHandshakeError(f"Certificate message length {len(msg) - 3} does not match its list of "
                                    f"{total} bytes")
        pos, certs = 3, []
        while pos < len(msg):
            if pos + 3 > len(msg):
                raise TlsHandshakeError("truncated certificate entry")
            clen = int.from_bytes(msg[pos:pos + 3], "big")
            pos += 3
            if clen == 0 or pos + clen > len(msg):
                raise TlsHandshakeError(f"bad certificate entry length {clen}")
            certs.append(msg[pos:pos + clen])
            pos += clen
        return certs


# ----------------------------------------------------------------------------- network

class Endpoint:
    """Where to connect and how to name it in messages."""

    def __init__(self, host: str, port: int, address: str | None = None) -> None:
        self.host = host
        self.port = port
        self.address = address or None

    @property
    def target(self) -> str:
        return self.address or self.host

    def __str__(self) -> str:
        if self.address and self.address != self.host:
            return f"{self.host}:{self.port} (connecting to {self.address})"
        return f"{self.host}:{self.port}"


def connect(endpoint: Endpoint, timeout: float) -> socket.socket:
    """A TCP connection to ``endpoint``; ConnectError names the endpoint and the reason."""
    try:
        return socket.create_connection((endpoint.target, endpoint.port), timeout=timeout)
    except socket.gaierror as exc:
        raise ConnectError(f"{endpoint}: cannot resolve {endpoint.target} ({exc.strerror or exc})")
    except TimeoutError:
        raise ConnectError(f"{endpoint}: connection timed out after {timeout:g}s")
    except ConnectionRefusedError:
        raise ConnectError(f"{endpoint}: connection refused (nothing listens on port {endpoint.port})")
    except ConnectionResetError:
        raise ConnectError(f"{endpoint}: the server reset the connection as soon as it was opened")
    except OSError as exc:
        raise ConnectError(f"{endpoint}: cannot connect ({exc.strerror or exc})")


def read_served_chain(endpoint: Endpoint, server_name: str | None, timeout: float = 10.0) -> HandshakeReader:
    """Send a TLS 1.2 ClientHello to ``endpoint`` and return the :class:`HandshakeReader` once
    the server's Certificate message is in.  Never completes the handshake."""
    sock = connect(endpoint, timeout)
    reader = HandshakeReader()
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(client_hello(server_name))
        while not reader.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError()
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                if reader.total == 0:
                    raise TlsHandshakeError("the server closed the connection without answering the "
                                            "TLS ClientHello")
                raise TlsHandshakeError("the server closed the connection in the middle of its "
                                        f"handshake (after {reader.total} bytes)")
            reader.feed(data)
    except TlsProbeError as exc:
        exc.reason = str(exc)
        exc.args = (f"{endpoint}: {exc.reason}",)
        raise
    except TimeoutError:
        if reader.total == 0:
            reason = f"no answer to the TLS ClientHello within {timeout:g}s (not a TLS service?)"
        else:
            reason = f"the TLS handshake stalled after {reader.total} bytes (timeout {timeout:g}s)"
        raise ReadTimeoutError(f"{endpoint}: {reason}", reason)
    except OSError as exc:  # ConnectionResetError and friends
        if isinstance(exc, ConnectionResetError):
            reason = "the server reset the connection during the TLS handshake"
        else:
            reason = f"TLS handshake failed ({exc.strerror or exc})"
        raise TlsHandshakeError(f"{endpoint}: {reason}", reason)
    finally:
        sock.close()
    return reader
