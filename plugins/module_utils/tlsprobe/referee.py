# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The referee: one real handshake with Python's ``ssl`` (OpenSSL) and the same trust anchors.

:func:`ssl_handshake` reports whether OpenSSL accepts the connection (``verify_error`` and
``verify_code`` when it does not), the negotiated version and cipher, the leaf, and the peer chain
where this Python exposes it (how a TLS 1.3-only server's chain is read).  No Ansible imports.
"""

from __future__ import annotations

import ssl

from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.wire import Endpoint, connect

__all__ = ["CHAIN_VERIFY_CODES", "HandshakeResult", "ssl_handshake"]

#: OpenSSL verify codes that mean "no chain to a trust anchor could be built".
CHAIN_VERIFY_CODES = frozenset((2, 18, 19, 20, 21))


def _chain_from_ssl(tls: ssl.SSLSocket) -> list[bytes] | None:
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


class HandshakeResult:
    """Outcome of one ``ssl`` handshake."""

    def __init__(self) -> None:
        self.ok = False
        self.verify_error: str | None = None
        self.verify_code: int | None = None
        self.error: str | None = None
        self.version: str | None = None
        self.cipher: str | None = None
        self.leaf: bytes | None = None
        self.chain: list[bytes] | None = None


def ssl_handshake(endpoint: Endpoint, server_hostname: str | None, cafile: str | None = None,
                  capath: str | None = None, verify: bool = True, check_hostname: bool = True,
                  timeout: float = 10.0, want_chain: bool = False, cadata: str | None = None) -> HandshakeResult:
    """One real handshake with Python's ``ssl``.

    With ``verify`` it is the referee: ``ssl.create_default_context(cafile=.., capath=..,
    cadata=..)`` (``cadata``: PEM text of further anchors) with ``check_hostname`` against
    ``server_hostname``.  A certificate rejection is returned
    (``verify_error``/``verify_code``), any other TLS failure too (``error``); only connection
    failures raise.
    """
    result = HandshakeResult()
    if verify:
        ctx = ssl.create_default_context(cafile=cafile, capath=capath, cadata=cadata)
        ctx.check_hostname = bool(check_hostname and server_hostname)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    sock = connect(endpoint, timeout)
    tls: ssl.SSLSocket | None = None
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
        result.error = f"TLS handshake failed ({exc.reason or exc.strerror or exc})"
    except TimeoutError:
        result.error = f"TLS handshake timed out after {timeout:g}s"
    except ConnectionResetError:
        result.error = "the server reset the connection during the TLS handshake"
    except OSError as exc:
        result.error = f"TLS handshake failed ({exc.strerror or exc})"
    finally:
        (tls or sock).close()
    return result
