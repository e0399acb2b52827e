# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS probe core: what Tableau Desktop and Tableau Mobile will say about a server's certificate.

Three parts, each usable on its own:

* a minimal TLS 1.2 handshake *reader* (:func:`client_hello`, :class:`HandshakeReader`,
  :func:`read_served_chain`) that sends a ClientHello and reads the server's records up to its
  Certificate message, so the chain is seen exactly as the server sends it (order, extras,
  omissions).  It never completes a handshake and needs no cryptography of its own;
* a *referee* (:func:`ssl_handshake`): a real handshake with Python's ``ssl`` (OpenSSL) and the
  same trust anchors, which reports ``verified`` and OpenSSL's verify message, the negotiated
  version and cipher, and the leaf (and the chain where Python exposes it) when the server
  refuses TLS 1.2;
* the *analysis* (:func:`analyze`): pure functions over certificates that turn a served chain,
  the host name the user types and the trust anchors into :class:`Finding` objects ``TLS-0NN``.

:func:`probe` ties them together.  Connection problems (DNS, refused, timeout, not TLS, closed)
raise :class:`TlsProbeError` with the host, port and reason; policy problems are findings.
Nothing here shells out to openssl.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import socket
import ssl
import struct
import time
import traceback
import warnings

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy, reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    Finding,
    TrustopsError,
)
from ansible_collections.trustops.tableau.plugins.module_utils.certs import (
    HAS_CRYPTOGRAPHY,
    CertificateError,
    build_chain,
    common_names,
    days_left,
    describe,
    fingerprint,
    is_ca,
    is_expired,
    is_not_yet_valid,
    is_self_signed,
    issued_by,
    load_certificates,
    match_hostname,
    not_after,
    not_before,
    pem_blocks,
    public_key_info,
    signature_hash,
)

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
except ImportError:  # pragma: no cover - certs.HAS_CRYPTOGRAPHY reports it
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

__all__ = [
    "HAS_CRYPTOGRAPHY", "TlsProbeError", "NotTlsError", "TlsAlertError", "TlsHandshakeError",
    "client_hello", "HandshakeReader", "read_served_chain", "ssl_handshake", "load_anchors",
    "analyze", "probe", "SYSTEM_BUNDLES",
]

# ----------------------------------------------------------------------------- constants

#: Bundle files tried, after ``ssl.get_default_verify_paths()``, for the target's system store.
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, Fedora, Rocky, Amazon Linux
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL (the file behind the link)
    "/etc/ssl/ca-bundle.pem",  # SUSE
    "/etc/ssl/cert.pem",  # macOS, FreeBSD
)

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

#: OpenSSL verify codes that mean "no chain to a trust anchor could be built".
CHAIN_VERIFY_CODES = frozenset((2, 18, 19, 20, 21))

#: Apple's TLS server certificate rules (iOS 13 / macOS 10.15) apply to certificates issued
#: on or after this date: EKU with id-kp-serverAuth, validity of 825 days or fewer.
APPLE_RULES_FROM = datetime.datetime(2019, 7, 1, tzinfo=datetime.timezone.utc)
APPLE_MAX_VALIDITY_DAYS = 825

DESKTOP_UNTRUSTED = ('Tableau Desktop: "Internet communication error: The certificate authority is '
                     'invalid or incorrect" / "Invalid certificate error"')
MOBILE_UNTRUSTED = ('Tableau Mobile: "the certificate provided by the server is untrusted" '
                    '(the app offers only http or the web browser)')
SYMPTOM = DESKTOP_UNTRUSTED + "; " + MOBILE_UNTRUSTED

REMEDY_INSTALL_CA = (
    "Install the issuing root CA as a trust anchor on every client: "
    "trustops.tableau.trust_anchor (Linux/macOS), trustops.tableau.win_trust_anchor (Windows "
    "LocalMachine\\Root, what Tableau Desktop uses) and trustops.tableau.mobile_trust_profile "
    "(iOS/Android); or use a certificate from a CA the devices already trust.")
REMEDY_CHAIN_FILE = (
    "Serve the full chain: tsm security external-ssl enable --cert-file <server.crt> "
    "--key-file <server.key> --chain-file <intermediates.crt>, then tsm pending-changes apply. "
    "Tableau Mobile on Android does not fetch missing intermediate certificates.")


# ----------------------------------------------------------------------------- errors

class TlsProbeError(TrustopsError):
    """The probe could not get a certificate: DNS, refused, timeout, not TLS, closed, refused TLS.

    ``str()`` names the endpoint; ``reason`` is the same text without it.
    """

    def __init__(self, message, reason=None):
        super(TlsProbeError, self).__init__(message)
        self.reason = reason or message


class NotTlsError(TlsProbeError):
    """The service answered with something that is not a TLS record."""


class TlsAlertError(TlsProbeError):
    """The server answered the ClientHello with a fatal alert."""

    def __init__(self, message, description=None, reason=None):
        super(TlsAlertError, self).__init__(message, reason)
        self.description = description
        self.name = ALERTS.get(description, "alert %s" % description)


class TlsHandshakeError(TlsProbeError):
    """The handshake broke off: closed, reset, malformed or unexpected records."""


class _ConnectError(TlsProbeError):
    """No TCP connection (DNS, refused, unreachable, connect timeout)."""


class _ReadTimeout(TlsProbeError):
    """Connected, but no (complete) TLS answer in time."""


# ----------------------------------------------------------------------------- ClientHello

def _u8(n):
    return struct.pack(">B", n)


def _u16(n):
    return struct.pack(">H", n)


def _u24(n):
    return struct.pack(">I", n)[1:]


def _vec16(data):
    return _u16(len(data)) + data


def _sni_bytes(server_name):
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
            raise TrustopsError("server_name %r cannot be sent as SNI (%s)" % (server_name, exc))
    if not encoded or len(encoded) > 255:
        raise TrustopsError("server_name %r is not a valid DNS name for SNI" % (server_name,))
    return encoded


def client_hello(server_name=None, random=None):
    """A TLS 1.2 ClientHello record (bytes) with SNI, groups, point formats, signature algorithms."""
    rnd = random if random is not None else os.urandom(32)
    if len(rnd) != 32:
        raise ValueError("random must be 32 bytes")
    exts = b""
    sni = _sni_bytes(server_name)
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

def _printable(data, limit=60):
    """A short, safe rendering of what a non-TLS service sent."""
    text = bytes(data[:limit]).decode("latin-1")
    shown = "".join(ch if 32 <= ord(ch) < 127 else "." for ch in text)
    if sum(1 for ch in text if 32 <= ord(ch) < 127 or ch in "\r\n\t") >= max(1, len(text) * 3 // 4):
        return repr(shown.strip())
    return "0x" + bytes(data[:16]).hex()


class HandshakeReader(object):
    """Incremental parser of a server's first flight, up to and including its Certificate.

    Feed it bytes as they arrive (any split: records across reads, handshake messages across
    records); :meth:`feed` returns True once the Certificate message is complete.  Then
    ``certificates`` holds the DER certificates in served order, ``server_version`` and
    ``cipher_suite`` what the ServerHello chose.  Fatal alerts raise :class:`TlsAlertError`,
    non-TLS bytes :class:`NotTlsError`, malformed or unexpected data :class:`TlsHandshakeError`.
    """

    def __init__(self, max_bytes=MAX_READ):
        self.max_bytes = max_bytes
        self.total = 0
        self.records = 0
        self.server_version = None
        self.cipher_suite = None
        self.certificates = None
        self.warnings = []
        self.messages = []
        self.done = False
        self._buf = bytearray()
        self._hs = bytearray()
        self._alert = bytearray()

    @property
    def tls_version(self):
        return VERSIONS.get(self.server_version, None if self.server_version is None
                            else "0x%04X" % self.server_version)

    @property
    def cipher(self):
        if self.cipher_suite is None:
            return None
        return CIPHER_NAMES.get(self.cipher_suite, "0x%04X" % self.cipher_suite)

    def feed(self, data):
        if self.done:
            return True
        self.total += len(data)
        if self.total > self.max_bytes:
            raise TlsHandshakeError("the server sent more than %d bytes without a Certificate message"
                                    % self.max_bytes)
        self._buf += data
        while self._buf and not self.done:
            if self._buf[0] not in (CONTENT_CCS, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPDATA):
                raise NotTlsError("not a TLS service: it answered %s" % _printable(self._buf))
            if len(self._buf) >= 2 and self._buf[1] != 3:
                raise NotTlsError("not a TLS service: it answered %s" % _printable(self._buf))
            if len(self._buf) < 5:
                break
            ctype = self._buf[0]
            length = struct.unpack(">H", bytes(self._buf[3:5]))[0]
            if length > MAX_RECORD:
                if self.records == 0:
                    raise NotTlsError("not a TLS service: it answered %s" % _printable(self._buf))
                raise TlsHandshakeError("record of %d bytes exceeds the TLS limit" % length)
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

    def _on_alert(self, body):
        self._alert += body
        while len(self._alert) >= 2:
            level, desc = self._alert[0], self._alert[1]
            del self._alert[:2]
            name = ALERTS.get(desc, "alert %d" % desc)
            if level == 1 and desc != 0:
                self.warnings.append(name)
                continue
            if desc == 0:
                raise TlsHandshakeError("the server closed the connection (close_notify) during the handshake")
            raise TlsAlertError("the server refused the TLS 1.2 handshake with alert %s (%d)" % (name, desc), desc)

    def _on_handshake(self):
        while len(self._hs) >= 4 and not self.done:
            mtype = self._hs[0]
            mlen = int.from_bytes(bytes(self._hs[1:4]), "big")
            if mlen > MAX_HANDSHAKE:
                raise TlsHandshakeError("handshake message of %d bytes is too large" % mlen)
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
                raise TlsHandshakeError("handshake message type %d before ServerHello" % mtype)
            elif mtype == HS_CERTIFICATE:
                self.certificates = self._certificate(msg)
                self.done = True
            elif mtype == HS_SERVER_HELLO_DONE:
                raise TlsHandshakeError("the server finished its hello without sending a certificate")
            elif mtype in (HS_SERVER_KEY_EXCHANGE, HS_CERTIFICATE_REQUEST, HS_CERTIFICATE_STATUS):
                continue  # not before Certificate in a full handshake, harmless if they were
            else:
                raise TlsHandshakeError("unexpected handshake message type %d" % mtype)

    def _server_hello(self, msg):
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
            raise TlsHandshakeError("the server chose unsupported version 0x%04X" % version)

    @staticmethod
    def _certificate(msg):
        if len(msg) < 3:
            raise TlsHandshakeError("truncated Certificate message")
        total = int.from_bytes(msg[0:3], "big")
        if total != len(msg) - 3:
            raise TlsHandshakeError("Certificate message length %d does not match its list of %d bytes"
                                    % (len(msg) - 3, total))
        pos, certs = 3, []
        while pos < len(msg):
            if pos + 3 > len(msg):
                raise TlsHandshakeError("truncated certificate entry")
            clen = int.from_bytes(msg[pos:pos + 3], "big")
            pos += 3
            if clen == 0 or pos + clen > len(msg):
                raise TlsHandshakeError("bad certificate entry length %d" % clen)
            certs.append(msg[pos:pos + clen])
            pos += clen
        return certs


# ----------------------------------------------------------------------------- network

class Endpoint(object):
    """Where to connect and how to name it in messages."""

    def __init__(self, host, port, address=None):
        self.host = host
        self.port = port
        self.address = address or None

    @property
    def target(self):
        return self.address or self.host

    def __str__(self):
        if self.address and self.address != self.host:
            return "%s:%d (connecting to %s)" % (self.host, self.port, self.address)
        return "%s:%d" % (self.host, self.port)


def _connect(endpoint, timeout):
    try:
        return socket.create_connection((endpoint.target, endpoint.port), timeout=timeout)
    except socket.gaierror as exc:
        raise _ConnectError("%s: cannot resolve %s (%s)" % (endpoint, endpoint.target, exc.strerror or exc))
    except socket.timeout:
        raise _ConnectError("%s: connection timed out after %gs" % (endpoint, timeout))
    except ConnectionRefusedError:
        raise _ConnectError("%s: connection refused (nothing listens on port %d)" % (endpoint, endpoint.port))
    except ConnectionResetError:
        raise _ConnectError("%s: the server reset the connection as soon as it was opened" % endpoint)
    except OSError as exc:
        raise _ConnectError("%s: cannot connect (%s)" % (endpoint, exc.strerror or exc))


def read_served_chain(endpoint, server_name, timeout=10.0):
    """Send a TLS 1.2 ClientHello to ``endpoint`` and return the :class:`HandshakeReader` once
    the server's Certificate message is in.  Never completes the handshake."""
    sock = _connect(endpoint, timeout)
    reader = HandshakeReader()
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(client_hello(server_name))
        while not reader.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                if reader.total == 0:
                    raise TlsHandshakeError("the server closed the connection without answering the "
                                            "TLS ClientHello")
                raise TlsHandshakeError("the server closed the connection in the middle of its "
                                        "handshake (after %d bytes)" % reader.total)
            reader.feed(data)
    except TlsProbeError as exc:
        exc.reason = str(exc)
        exc.args = ("%s: %s" % (endpoint, exc.reason),)
        raise
    except socket.timeout:
        if reader.total == 0:
            reason = "no answer to the TLS ClientHello within %gs (not a TLS service?)" % timeout
        else:
            reason = "the TLS handshake stalled after %d bytes (timeout %gs)" % (reader.total, timeout)
        raise _ReadTimeout("%s: %s" % (endpoint, reason), reason)
    except OSError as exc:  # ConnectionResetError and friends
        if isinstance(exc, ConnectionResetError):
            reason = "the server reset the connection during the TLS handshake"
        else:
            reason = "TLS handshake failed (%s)" % (exc.strerror or exc)
        raise TlsHandshakeError("%s: %s" % (endpoint, reason), reason)
    finally:
        sock.close()
    return reader


def _chain_from_ssl(tls):
    """The unverified peer chain as DER, leaf first, when this Python exposes it, else None."""
    try:
        getter = getattr(tls, "get_unverified_chain", None)  # Python 3.13+: list of DER bytes
        if getter is not None:
            chain = getter()
            return [bytes(c) for c in chain] if chain else None
        sslobj = getattr(tls, "_sslobj", None)  # Python 3.10-3.12: private, _ssl.Certificate
        getter = getattr(sslobj, "get_unverified_chain", None)
        if getter is not None:
            import _ssl
            chain = getter()
            return [c.public_bytes(_ssl.ENCODING_DER) for c in chain] if chain else None
    except Exception:  # a private API: any surprise means "not available"
        return None
    return None


class HandshakeResult(object):
    """Outcome of one ``ssl`` handshake."""

    def __init__(self):
        self.ok = False
        self.verify_error = None
        self.verify_code = None
        self.error = None
        self.version = None
        self.cipher = None
        self.leaf = None
        self.chain = None


def ssl_handshake(endpoint, server_hostname, cafile=None, capath=None, verify=True,
                  check_hostname=True, timeout=10.0, want_chain=False):
    """One real handshake with Python's ``ssl``.

    With ``verify`` it is the referee: ``ssl.create_default_context(cafile=..)`` with
    ``check_hostname`` against ``server_hostname``.  A certificate rejection is returned
    (``verify_error``/``verify_code``), any other TLS failure too (``error``); only connection
    failures raise.
    """
    result = HandshakeResult()
    if verify:
        ctx = ssl.create_default_context(cafile=cafile, capath=capath)
        ctx.check_hostname = bool(check_hostname and server_hostname)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    sock = _connect(endpoint, timeout)
    tls = None
    try:
        sock.settimeout(timeout)
        tls = ctx.wrap_socket(sock, server_hostname=server_hostname or None,
                              do_handshake_on_connect=False)
        tls.do_handshake()
        result.ok = True
        result.version = tls.version()
        cipher = tls.cipher()
        result.cipher = cipher[0] if cipher else None
        result.leaf = tls.getpeercert(binary_form=True)
        if want_chain:
            result.chain = _chain_from_ssl(tls)
    except ssl.SSLCertVerificationError as exc:
        result.verify_code = getattr(exc, "verify_code", None)
        result.verify_error = getattr(exc, "verify_message", None) or str(exc)
    except ssl.SSLError as exc:
        result.error = "TLS handshake failed (%s)" % (exc.reason or exc.strerror or exc)
    except socket.timeout:
        result.error = "TLS handshake timed out after %gs" % timeout
    except ConnectionResetError:
        result.error = "the server reset the connection during the TLS handshake"
    except OSError as exc:
        result.error = "TLS handshake failed (%s)" % (exc.strerror or exc)
    finally:
        (tls or sock).close()
    return result


# ----------------------------------------------------------------------------- anchors

class TrustStore(object):
    """Trust anchors and where they came from (``cafile`` or ``capath`` for the referee)."""

    def __init__(self, anchors, path, cafile=None, capath=None, skipped=0):
        self.anchors = anchors
        self.path = path
        self.cafile = cafile
        self.capath = capath
        self.skipped = skipped

    def as_dict(self):
        return {"path": self.path, "count": len(self.anchors), "skipped": self.skipped}


def _tolerant_load(data, source):
    """Every parseable certificate of a system bundle; unparseable entries are counted, not fatal."""
    anchors, skipped = [], 0
    with warnings.catch_warnings():
        # a few roots in distribution bundles have non-positive serials: cryptography warns
        warnings.simplefilter("ignore")
        for label, block in pem_blocks(data):
            if label not in (b"CERTIFICATE", b"X509 CERTIFICATE"):
                continue
            try:
                anchors.extend(load_certificates(block, source))
            except CertificateError:
                skipped += 1
    return anchors, skipped


def system_store_candidates():
    paths = ssl.get_default_verify_paths()
    files = [paths.cafile, paths.openssl_cafile] + list(SYSTEM_BUNDLES)
    dirs = [paths.capath, paths.openssl_capath]
    return [f for f in files if f], [d for d in dirs if d]


def load_anchors(ca_file=None):
    """Trust anchors from ``ca_file`` (strict) or the system store of this host (tolerant).

    The system store is the first existing bundle among ``ssl.get_default_verify_paths()``
    and :data:`SYSTEM_BUNDLES`, else the hashed certificate directory.  Raises TrustopsError
    when ``ca_file`` is unreadable or holds no certificate, or when no system store is found.
    """
    if ca_file:
        data = reader.read_input(path=ca_file, option="ca_file", max_bytes=reader.MAX_BUNDLE)
        anchors = load_certificates(data, "ca_file %s" % ca_file)
        return TrustStore(anchors, ca_file, cafile=ca_file)
    files, dirs = system_store_candidates()
    for path in files:
        if os.path.isfile(path):
            data = reader.read_input(path=path, option="system trust store", max_bytes=reader.MAX_BUNDLE)
            anchors, skipped = _tolerant_load(data, path)
            if anchors:
                return TrustStore(anchors, path, cafile=path, skipped=skipped)
    for directory in dirs:
        if not os.path.isdir(directory):
            continue
        anchors, skipped = [], 0
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            if not os.path.isfile(full) or not re.search(r"(\.pem|\.crt|\.[0-9]+)$", name):
                continue
            try:
                found, bad = _tolerant_load(reader.read_input(path=full, option="system trust store",
                                                              max_bytes=reader.MAX_BUNDLE), full)
            except reader.InputError:
                skipped += 1
                continue
            anchors.extend(found)
            skipped += bad
        if anchors:
            return TrustStore(_unique(anchors), directory, capath=directory, skipped=skipped)
    raise TrustopsError("no system trust store found on this host (looked at %s); give ca_file"
                        % ", ".join(files + dirs))


def _unique(certs):
    seen, out = set(), []
    for c in certs:
        fp = fingerprint(c, "sha256")
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out


# ----------------------------------------------------------------------------- analysis

def _subj(cert):
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return "<unreadable subject>"


def _ref(cert, position=None):
    ref = {"subject": _subj(cert), "sha256": fingerprint(cert, "sha256")}
    if position is not None:
        ref["position"] = position
    return ref


def _served_path(served):
    """Indices of served certificates that chain from served[0] upwards, following issuers."""
    path = [0]
    current = served[0]
    for _step in range(len(served)):
        if is_self_signed(current):
            break
        nxt = None
        for i, cand in enumerate(served):
            if i not in path and issued_by(current, cand):
                nxt = i
                break
        if nxt is None:
            break
        path.append(nxt)
        current = served[nxt]
    return path


def _eku(cert):
    """The ExtendedKeyUsage OIDs, or None when the extension is absent."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    except x509.ExtensionNotFound:
        return None
    except Exception:
        return None
    return list(ext.value)


def _short_name_fqdn(host, names):
    """For a dot-less host name, the certificate name that is ``host.<domain>`` (seed 001)."""
    if not host or "." in host.rstrip("."):
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    prefix = host.rstrip(".").lower() + "."
    for name in names:
        if name.lower().startswith(prefix):
            return name
    return None


def analyze(served, host, anchors, now=None, min_days_left=30, min_rsa_key_size=2048,
            blocklisted_digests=("sha1",), chain_known=True):
    """Check a served chain (``served``: cryptography certificates, leaf first, as sent).

    ``anchors`` are the trust anchors of the client (certificates).  ``chain_known`` False
    means only the leaf could be read (completeness then is ``None``).  Returns a dict with
    ``findings`` (list of :class:`Finding`), ``chain_complete`` (bool or None), ``trusted``
    (bool, or None when it cannot be told from the leaf alone), ``anchor`` (certificate or
    None), ``name_matched``, ``matched_via``, ``names``, ``path`` (served indices on the chain).
    """
    if not served:
        raise TrustopsError("the server sent no certificate")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    blocked = anchor_policy.blocklist(blocklisted_digests or ())
    min_rsa_key_size = anchor_policy.size_option("min_rsa_key_size", min_rsa_key_size)
    findings = []
    leaf = served[0]
    path_idx = _served_path(served)
    path = [served[i] for i in path_idx]
    top = path[-1]

    # --- trust and completeness
    chain, anchor = build_chain(leaf, served, anchors)
    trusted = anchor is not None
    if is_self_signed(top):
        complete = True
    elif any(issued_by(top, a) and is_self_signed(a) for a in anchors):
        complete = True
    elif anchor is None and top is not leaf and is_ca(top):
        # The server sends its intermediate(s); the issuer of the last one is unknown here.
        # Taken as the root these clients lack (TLS-001); a further missing intermediate cannot
        # be told apart without that certificate, so the message names both.
        complete = True
    else:
        complete = False
    if not chain_known and not complete:
        # Only the leaf is known and it does not reach an anchor by itself: the server may or
        # may not send the intermediates.  The caller asks OpenSSL whether a chain was built.
        complete = None
        if not trusted:
            trusted = None

    if trusted is False and complete:
        if top is leaf:
            msg = "the server's certificate %s is self-signed and not among the trust anchors" % _subj(leaf)
            data = dict(_ref(top))
        elif is_self_signed(top):
            msg = "the served chain ends at the root %s, which is not among the trust anchors" % _subj(top)
            data = dict(_ref(top))
        else:
            root = top.issuer.rfc4514_string()
            msg = ("the certificate is not trusted: the served chain ends at %s, issued by %s, which is not "
                   "among the trust anchors (if %s is itself an intermediate CA, the server must send it too)"
                   % (_subj(top), root, root))
            data = dict(_ref(top), missing_issuer=root)
        data["symptom"] = SYMPTOM
        findings.append(Finding("TLS-001", "error", msg, REMEDY_INSTALL_CA, data))
    if complete is False:
        missing = top.issuer.rfc4514_string()
        if trusted:
            msg = ("the served chain is incomplete: %s is issued by %s, which the server does not send; "
                   "it is trusted here only because the trust anchors hold that intermediate CA"
                   % (_subj(top), _subj(anchor) if anchor is not None else missing))
        else:
            msg = ("the served chain does not reach a trust anchor: the server sends only its own "
                   "certificate, issued by %s, which is not a trust anchor. Either the server omits the "
                   "intermediate CA certificate(s), or %s is a root CA these clients do not trust"
                   % (missing, missing))
        remedy = REMEDY_CHAIN_FILE + (" If the issuer is a private root CA: " + REMEDY_INSTALL_CA
                                      if not trusted else "")
        findings.append(Finding("TLS-002", "error", msg, remedy,
                                dict(_ref(top), missing_issuer=missing, symptom=SYMPTOM)))

    # --- host name
    hm = match_hostname(leaf, host)
    if hm.matched and hm.via == "cn-legacy":
        findings.append(Finding(
            "TLS-004", "error",
            "%s matches only the legacy subject CN %s; the certificate has no subjectAltName, which "
            "Apple platforms (Tableau Mobile on iOS), Chrome and Android require" % (host, ", ".join(hm.names)),
            "Reissue the certificate with a subjectAltName DNS entry for every name users type "
            "(e.g. DNS:%s)." % host, dict(names=list(hm.names), symptom=SYMPTOM)))
    elif not hm.matched:
        fqdn = _short_name_fqdn(host, hm.names)
        issued_to = ", ".join(hm.names) if hm.names else "(no names)"
        if fqdn:  # seed 001: a short name where the certificate holds the FQDN
            findings.append(Finding(
                "TLS-003", "error",
                "the certificate is not issued to %s: %s is a short name and the certificate is issued "
                "to %s. Use the FQDN %s" % (host, host, issued_to, fqdn),
                "Sign in to Tableau Server as https://%s (the name in the certificate's \"Issued to\"), "
                "not the short name; or reissue the certificate with a SAN for %s." % (fqdn, host),
                dict(names=list(hm.names), fqdn=fqdn, short_name=True, symptom=SYMPTOM)))
        else:
            findings.append(Finding(
                "TLS-003", "error",
                "the certificate is not issued to %s; it is issued to %s" % (host, issued_to),
                "Connect with one of the names the certificate is issued to, or reissue it with a "
                "subjectAltName for %s (and every other name users type)." % host,
                dict(names=list(hm.names), fqdn=None, short_name=False, symptom=SYMPTOM)))

    # --- per-certificate checks on the chain the clients build (served path, plus the anchor)
    checked = [(served[i], i) for i in path_idx]
    if anchor is not None and fingerprint(anchor, "sha256") not in [fingerprint(c, "sha256") for c, _pos in checked]:
        checked.append((anchor, None))
    for cert, pos in checked:
        is_root = is_self_signed(cert) and cert is not leaf
        where = "trust anchor" if pos is None else ("leaf" if pos == 0 else "served #%d" % pos)
        ref = dict(_ref(cert, pos), role=where)
        if not is_root:
            digest = signature_hash(cert)
            if digest and anchor_policy.normalize_digest(digest) in blocked:
                findings.append(Finding(
                    "TLS-005", "error",
                    "%s (%s) is signed with %s, a blocklisted digest" % (_subj(cert), where, digest.upper()),
                    "Reissue it signed with SHA-256 or stronger (Tableau's default "
                    "wgserver.saml.blocklisted_digest_algorithms lists SHA1; modern clients reject "
                    "SHA-1 signatures).", dict(ref, digest=digest, symptom=SYMPTOM)))
        if is_root and pos is not None:
            continue  # a served root is never used from the wire; the anchor copy counts
        if is_expired(cert, now):
            findings.append(Finding(
                "TLS-006", "error",
                "%s (%s) expired on %s" % (_subj(cert), where, not_after(cert).date().isoformat()),
                "Renew it and install the new certificate (tsm security external-ssl enable ...) "
                "or trust anchor.", dict(ref, not_after=not_after(cert).isoformat(), symptom=SYMPTOM)))
        elif is_not_yet_valid(cert, now):
            findings.append(Finding(
                "TLS-007", "error",
                "%s (%s) is not valid before %s" % (_subj(cert), where, not_before(cert).isoformat()),
                "Check the clock of the server and the clients, or wait until the certificate is valid.",
                dict(ref, not_before=not_before(cert).isoformat(), symptom=SYMPTOM)))
        elif days_left(cert, now) < min_days_left:
            findings.append(Finding(
                "TLS-008", "warning",
                "%s (%s) expires in %d days (on %s), under min_days_left %d"
                % (_subj(cert), where, days_left(cert, now), not_after(cert).date().isoformat(), min_days_left),
                "Renew it before it expires.",
                dict(ref, days_left=days_left(cert, now), not_after=not_after(cert).isoformat())))
        key_type, key_size, _curve = public_key_info(cert.public_key())
        weak = None
        if key_type == "RSA" and key_size is not None and key_size < min_rsa_key_size:
            weak = "RSA %d bits, under min_rsa_key_size %d" % (key_size, min_rsa_key_size)
        elif key_type == "EC" and key_size is not None and key_size < 256:
            weak = "EC %d bits, under 256" % key_size
        elif key_type == "DSA":
            weak = "DSA, which TLS clients no longer accept"
        if weak:
            findings.append(Finding(
                "TLS-009", "error", "%s (%s) has a weak key: %s" % (_subj(cert), where, weak),
                "Reissue it with an RSA key of at least %d bits or an EC P-256/P-384 key." % min_rsa_key_size,
                dict(ref, key_type=key_type, key_size=key_size, symptom=SYMPTOM)))

    # --- issuers must be CAs (basicConstraints CA:TRUE); self-signed v1 roots are accepted
    for pos in path_idx[1:]:
        cert = served[pos]
        if not is_ca(cert) and not is_self_signed(cert):
            findings.append(Finding(
                "TLS-018", "error",
                "%s (served #%d) issues %s but is not a CA certificate (basicConstraints CA:TRUE missing)"
                % (_subj(cert), pos, _subj(served[path_idx[path_idx.index(pos) - 1]])),
                "Reissue the intermediate with basicConstraints critical CA:TRUE and keyUsage keyCertSign, "
                "then reissue the server certificate from it.",
                dict(_ref(cert, pos), symptom=SYMPTOM)))

    # --- leaf profile (Apple's rules for TLS server certificates, iOS 13+)
    if is_ca(leaf):
        findings.append(Finding(
            "TLS-011", "warning",
            "the server's certificate %s is a CA certificate (basicConstraints CA:TRUE)" % _subj(leaf),
            "Issue the server an end-entity certificate (CA:FALSE) from the CA; do not serve the CA "
            "certificate itself.", _ref(leaf, 0)))
    eku = _eku(leaf)
    if eku is not None and ExtendedKeyUsageOID.SERVER_AUTH not in eku:
        findings.append(Finding(
            "TLS-015", "error",
            "the server's certificate %s has an ExtendedKeyUsage without serverAuth" % _subj(leaf),
            "Reissue it with extendedKeyUsage = serverAuth (TLS Web Server Authentication).",
            dict(_ref(leaf, 0), symptom=SYMPTOM)))
    elif eku is None and not_before(leaf) >= APPLE_RULES_FROM and not is_self_signed(leaf):
        findings.append(Finding(
            "TLS-015", "error",
            "the server's certificate %s has no ExtendedKeyUsage; iOS 13+/macOS 10.15+ require "
            "serverAuth in certificates issued after 2019-07-01" % _subj(leaf),
            "Reissue it with extendedKeyUsage = serverAuth.",
            dict(_ref(leaf, 0), symptom=MOBILE_UNTRUSTED)))
    validity = (not_after(leaf) - not_before(leaf)).days
    if not_before(leaf) >= APPLE_RULES_FROM and validity > APPLE_MAX_VALIDITY_DAYS:
        findings.append(Finding(
            "TLS-016", "error",
            "the server's certificate %s is valid for %d days; iOS 13+/macOS 10.15+ reject TLS server "
            "certificates valid for more than %d days" % (_subj(leaf), validity, APPLE_MAX_VALIDITY_DAYS),
            "Reissue it with a validity of %d days or fewer (398 for publicly trusted CAs)."
            % APPLE_MAX_VALIDITY_DAYS, dict(_ref(leaf, 0), validity_days=validity, symptom=MOBILE_UNTRUSTED)))

    # --- what the server sends besides the chain
    if chain_known:
        if path_idx != list(range(len(path_idx))):
            findings.append(Finding(
                "TLS-010", "warning",
                "the served chain is out of order: the certificates chain in the served order %s"
                % " -> ".join("#%d" % i for i in path_idx),
                "Order the chain file leaf's issuer first, then its issuer, up to (optionally) the "
                "root; TLS 1.2 requires each certificate to certify the one before it.",
                {"path": list(path_idx)}))
        on_path = set(fingerprint(served[i], "sha256") for i in path_idx)
        extras = [(i, c) for i, c in enumerate(served) if i not in path_idx]
        if extras:
            described = []
            for i, c in extras:
                kind = "duplicate" if fingerprint(c, "sha256") in on_path else "not on the chain"
                described.append(dict(_ref(c, i), kind=kind))
            findings.append(Finding(
                "TLS-012", "warning",
                "the server sends %d certificate(s) that are not part of its chain: %s"
                % (len(extras), "; ".join("#%d %s (%s)" % (d["position"], d["subject"], d["kind"])
                                          for d in described)),
                "Remove unrelated and duplicate certificates from the chain file.",
                {"extra": described}))
    elif complete is None:
        findings.append(Finding(
            "TLS-013", "warning",
            "only the server's certificate could be read (the server refuses TLS 1.2 and this "
            "Python cannot show a TLS 1.3 peer chain): whether it serves its intermediates is unknown",
            "Run the probe with Python 3.10+ on the target, or check the chain file given to "
            "tsm security external-ssl enable --chain-file.", {}))

    names = list(hm.names)
    return {
        "findings": findings,
        "chain_complete": complete,
        "trusted": trusted,
        "anchor": anchor,
        "chain": chain,
        "name_matched": bool(hm.matched),
        "matched_via": hm.via,
        "names": names,
        "path": path_idx,
        "common_names": common_names(leaf),
    }


# ----------------------------------------------------------------------------- the probe

def _parse_served(ders, endpoint):
    certs = []
    for i, der in enumerate(ders):
        try:
            certs.extend(load_certificates(bytes(der), "%s: served certificate #%d" % (endpoint, i)))
        except CertificateError as exc:
            raise TlsProbeError(str(exc))
    return certs


def probe(host, port=443, address=None, server_name=None, ca_file=None, timeout=10.0,
          min_days_left=30, min_rsa_key_size=2048, blocklisted_digests=("sha1",), now=None,
          use_chain_api=True):
    """Connect, read the served chain, run the referee and the analysis; return a result dict.

    ``server_name`` None means "the host"; "" disables SNI.  ``use_chain_api`` False forbids
    reading a TLS 1.3 chain through Python's (private before 3.13) chain API, as on Pythons
    without it.  Raises :class:`TlsProbeError` when no certificate can be obtained at all,
    TrustopsError for unusable ``ca_file``/arguments.
    """
    if not HAS_CRYPTOGRAPHY:
        raise TrustopsError("the cryptography Python library is required")
    if not host:
        raise TrustopsError("host must not be empty")
    if not 0 < int(port) < 65536:
        raise TrustopsError("port must be 1-65535, not %s" % port)
    if timeout is None or timeout <= 0:
        raise TrustopsError("timeout must be positive")
    endpoint = Endpoint(host, int(port), address)
    sni = host if server_name is None else server_name
    _sni_bytes(sni)  # validate early: a bad server_name is an input error
    # the policy options, through the one parser, before anything connects
    anchor_policy.blocklist(blocklisted_digests or ())
    anchor_policy.size_option("min_rsa_key_size", min_rsa_key_size)
    store = load_anchors(ca_file)

    reader, reader_error = None, None
    try:
        reader = read_served_chain(endpoint, sni, timeout)
    except (_ConnectError, _ReadTimeout, NotTlsError):
        raise
    except TlsProbeError as exc:  # alert, closed, reset, malformed: let ssl try
        reader_error = exc

    # The referee: real OpenSSL, same anchors, checks the host name when SNI is the host.
    ip_host = _is_ip(host)
    hostname_check = bool(sni) and sni.rstrip(".").lower() == host.rstrip(".").lower()
    # clients match names without the root's trailing dot (OpenSSL's X509_check_host does not)
    ref_name = host.rstrip(".") if hostname_check else (sni.rstrip(".") or None)
    if not sni and ip_host:
        ref_name, hostname_check = host, True  # IP literals never go into SNI anyway
    need_chain = reader is None and use_chain_api
    ref = ssl_handshake(endpoint, ref_name, cafile=store.cafile, capath=store.capath, verify=True,
                        check_hostname=hostname_check, timeout=timeout, want_chain=need_chain)
    plain = ref
    if not ref.ok and (ref.verify_error is not None or reader is None):
        plain = ssl_handshake(endpoint, sni or None, verify=False, timeout=timeout, want_chain=need_chain)
        if not plain.ok and reader is None:
            why = [reader_error.reason] if reader_error is not None else []
            why.append("ssl: %s" % (plain.error or ref.error))
            raise TlsProbeError("%s: TLS handshake failed: %s" % (endpoint, "; ".join(why)))

    if reader is not None:
        ders, chain_source, chain_known = reader.certificates, "tls12-reader", True
    elif plain.chain:
        ders, chain_source, chain_known = plain.chain, "ssl-peer-chain", True
    else:
        ders, chain_source, chain_known = [plain.leaf], "leaf-only", False
    if not ders or not ders[0]:
        raise TlsProbeError("%s: the server sent an empty certificate list" % endpoint)
    served = _parse_served(ders, endpoint)

    result = analyze(served, host, store.anchors, now=now, min_days_left=min_days_left,
                     min_rsa_key_size=min_rsa_key_size, blocklisted_digests=blocklisted_digests,
                     chain_known=chain_known)
    findings = result["findings"]
    if result["trusted"] is None:  # leaf only: let OpenSSL's chain building decide
        result["trusted"] = bool(ref.ok or (ref.verify_code is not None
                                            and ref.verify_code not in CHAIN_VERIFY_CODES))
        if not result["trusted"]:
            findings.insert(0, Finding(
                "TLS-001", "error",
                "the certificate is not trusted: %s" % (ref.verify_error or ref.error),
                REMEDY_INSTALL_CA + " " + REMEDY_CHAIN_FILE, {"symptom": SYMPTOM}))
    if reader is None and reader_error is not None:
        if plain.version == "TLSv1.3":
            message = ("the server does not accept a TLS 1.2 handshake (%s); the certificate was read over "
                       "TLSv1.3" % reader_error.reason)
            remedy = ("Nothing to do for current clients; devices without TLS 1.3 (Android 9 and older) "
                      "cannot connect.")
        else:
            message = ("the server refused the probe's TLS 1.2 ClientHello (%s) but accepted OpenSSL's; "
                       "the certificate was read over %s" % (reader_error.reason, plain.version))
            remedy = ("Check the server's cipher suites: it accepts none of the common ECDHE/DHE/RSA "
                      "AES-GCM, ChaCha20 or AES-CBC suites.")
        findings.append(Finding("TLS-014", "info", message, remedy, {"tls_version": plain.version}))
    verify_error = None
    if not ref.ok:
        verify_error = ref.verify_error or ref.error
        if not any(f.severity == "error" for f in findings):
            findings.append(Finding(
                "TLS-017", "error",
                "OpenSSL rejects the connection although no check above explains it: %s" % verify_error,
                "Clients built on the same TLS libraries will refuse it too: fix what OpenSSL names "
                "(e.g. a protocol version or an algorithm the client policy forbids).",
                {"verify_code": ref.verify_code, "symptom": SYMPTOM}))

    anchor = result["anchor"]
    tls_version = (ref.version or plain.version or (reader.tls_version if reader else None))
    cipher = (ref.cipher or plain.cipher or (reader.cipher if reader else None))
    return ProbeResult({
        "host": host,
        "port": endpoint.port,
        "address": endpoint.target,
        "server_name": sni or None,
        "findings": [f.as_dict() for f in findings],
        "ok": not any(f.severity == "error" for f in findings),
        "verified": bool(ref.ok),
        "verify_error": verify_error,
        "verify_code": ref.verify_code,
        "verify_hostname_checked": hostname_check,
        "served_chain": [describe(c, now) for c in served],
        "chain_source": chain_source,
        "chain_complete": result["chain_complete"],
        "trusted": result["trusted"],
        "name_matched": result["name_matched"],
        "matched_via": result["matched_via"],
        "names": result["names"],
        "tls_version": tls_version,
        "cipher": cipher,
        "tls12": ({"version": reader.tls_version, "cipher": reader.cipher} if reader else None),
        "anchor": ({"subject": _subj(anchor), "sha256": fingerprint(anchor, "sha256")}
                   if anchor is not None else None),
        "trust_store": store.as_dict(),
    }, findings)


class ProbeResult(dict):
    """The JSON-friendly result of :func:`probe`; ``finding_objects`` holds the Findings."""

    def __init__(self, data, findings):
        super(ProbeResult, self).__init__(data)
        self.finding_objects = list(findings)


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False
