# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS probe: what Tableau Desktop and Tableau Mobile will say about a server's certificate.

One layer per module, each usable on its own (import the one you need; this package re-exports
nothing, so a module's AnsiballZ payload carries only what it uses):

* :mod:`.wire`: a minimal TLS 1.2 handshake *reader* (:func:`~.wire.client_hello`,
  :class:`~.wire.HandshakeReader`, :func:`~.wire.read_served_chain`) that sends a ClientHello and
  reads the server's records up to its Certificate message, so the chain is seen exactly as the
  server sends it (order, extras, omissions); the connection errors (:class:`~.wire.TlsProbeError`
  and its kinds).  It never completes a handshake and needs no cryptography of its own;
* :mod:`.referee`: :func:`~.referee.ssl_handshake`, a real handshake with Python's ``ssl``
  (OpenSSL) and the same trust anchors, which reports ``verified`` and OpenSSL's verify message,
  the negotiated version and cipher, and the leaf (and the chain where Python exposes it);
* :mod:`.anchors`: :func:`~.anchors.load_anchors`, the trust anchors of ``ca_file`` or of the
  target's system store, plus those of ``ca_content``;
* :mod:`.analysis`: :func:`~.analysis.analyze`, pure functions over certificates that turn a
  served chain, the host name the user types and the trust anchors into findings ``TLS-0NN``;
  key sizes and digests are judged by the one policy, :class:`policy.Policy`;
* :mod:`.rules`: :data:`~.rules.REGISTRY`, the ``TLS-0NN`` rules (message and remedy templates,
  the seed sentence, a title); every finding of the analysis and the probe is made through it;
* :mod:`.probe`: :func:`~.probe.probe` ties them together.

Connection problems (DNS, refused, timeout, not TLS, closed) raise ``TlsProbeError`` with the
host, port and reason; policy problems are findings.  Nothing here shells out to openssl.
"""
