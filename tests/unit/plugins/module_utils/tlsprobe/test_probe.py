# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tlsprobe.probe against REAL TLS servers: the wire reader, the ssl referee (tlsprobe.referee,
which has no test file of its own: its verdicts are the ``verified``/``verify_*`` fields asserted
here) and the analysis together, as the tls_probe module runs them.

Certificates come from the ``pki`` fixture (and ``openssl x509 -req`` for a SHA-1 intermediate,
which cryptography no longer signs).
"""

from __future__ import annotations

import socket
import struct
import subprocess
import types

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from pki_factory import make_key

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe import anchors as tlsprobe_anchors
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.anchors import load_anchors
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.probe import probe
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.wire import TlsProbeError

from .servers import HOST, OPENSSL, OpenSSLServer, TcpServer, by_code, codes, serve, write

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is the test referee")


# --------------------------------------------------------------------------- probing real servers

def test_complete_chain_trusted_with_ca_file(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert r["findings"] == [] and r["ok"] is True
    assert r["verified"] is True and r["verify_error"] is None
    assert r["trusted"] is True and r["chain_complete"] is True
    assert r["name_matched"] is True and r["matched_via"] == "san" and r["names"] == [HOST]
    assert r["chain_source"] == "tls12-reader"
    assert [c["sha256"] for c in r["served_chain"]] == [
        pki3["leaf"].cert.fingerprint(hashes.SHA256()).hex(":").upper(),
        pki3["inter"].cert.fingerprint(hashes.SHA256()).hex(":").upper()]
    assert r["anchor"]["subject"] == "CN=Probe Root CA,O=trustops test"
    assert r["tls_version"] in ("TLSv1.2", "TLSv1.3") and r["cipher"]
    assert r["tls12"]["version"] == "TLSv1.2"
    assert r["trust_store"] == {"path": str(root), "count": 1, "skipped": 0, "ca_content": 0}


def test_private_root_untrusted_by_the_system_store(files, pki3):
    with serve(files, pki3["leaf"], [pki3["inter"], pki3["root"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1")
    assert codes(r) == ["TLS-001"]
    assert "Probe Root CA" in by_code(r, "TLS-001")["message"]
    assert "trustops.tableau.win_trust_anchor" in by_code(r, "TLS-001")["remedy"]
    assert r["trusted"] is False and r["chain_complete"] is True and r["verified"] is False
    assert r["verify_code"] == 19  # self-signed certificate in certificate chain
    assert r["trust_store"]["count"] > 10  # the real system bundle of this host


def test_private_root_not_served_untrusted_by_the_system_store(files, pki3):
    """The usual case: leaf + intermediate served, the private root not installed."""
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1")
    assert codes(r) == ["TLS-001"] and r["chain_complete"] is True and r["trusted"] is False
    f = r["findings"][0]
    assert f["data"]["missing_issuer"] == "CN=Probe Root CA,O=trustops test"
    assert "ends at CN=Probe Intermediate CA" in f["message"] and "must send it too" in f["message"]
    assert r["verified"] is False and r["verify_code"] == 20 and r["name_matched"] is True


def test_self_signed_server_certificate(files, pki):
    own = pki.self_signed_leaf(cn=HOST, dns=(HOST,))
    with serve(files, own) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1")
    assert codes(r) == ["TLS-001"] and "self-signed" in r["findings"][0]["message"]
    assert r["verify_code"] == 18 and r["ok"] is False


def test_missing_intermediate(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-002"]
    f = by_code(r, "TLS-002")
    assert f["data"]["missing_issuer"] == "CN=Probe Intermediate CA,O=trustops test"
    assert "--chain-file" in f["remedy"] and "Android" in f["remedy"]
    assert r["chain_complete"] is False and r["trusted"] is False
    assert r["verified"] is False and r["verify_code"] == 20
    assert len(r["served_chain"]) == 1


def test_missing_intermediate_trusted_only_through_the_anchor_file(files, pki3):
    bundle = files.cert("bundle.pem", pki3["inter"], pki3["root"])
    with serve(files, pki3["leaf"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(bundle))
    assert codes(r) == ["TLS-002"]
    assert "trusted here only because" in r["findings"][0]["message"]
    assert r["trusted"] is True and r["chain_complete"] is False and r["verified"] is True


@pytest.mark.parametrize("host, code, fqdn", [
    ("tableau", "TLS-003", HOST),
    ("TABLEAU", "TLS-003", HOST),
    ("reports.example.test", "TLS-003", None),
    ("tableau.example.test.", None, None),
    ("Tableau.Example.Test", None, None),
])
def test_name_the_user_types(files, pki3, host, code, fqdn):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(host, srv.port, address="127.0.0.1", ca_file=str(root))
    assert r["names"] == [HOST]
    if code is None:
        assert r["findings"] == [] and r["verified"] is True
        return
    assert codes(r) == [code] and r["name_matched"] is False and r["matched_via"] is None
    assert r["verified"] is False and "Hostname mismatch" in r["verify_error"]
    assert r["trusted"] is True  # only the name is wrong
    f = r["findings"][0]
    assert HOST in f["message"]
    assert f["data"]["fqdn"] == fqdn and f["data"]["short_name"] is bool(fqdn)
    if fqdn:
        assert f["message"].endswith(f"is a short name and the certificate is issued to {HOST}. Use the FQDN {fqdn}")


def test_wildcard_certificate(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], cn="*.example.test", dns=("*.example.test",))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        ok = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        deep = probe("a.tableau.example.test", srv.port, address="127.0.0.1", ca_file=str(root))
        short = probe("tableau", srv.port, address="127.0.0.1", ca_file=str(root))
    assert ok["findings"] == [] and ok["verified"] is True and ok["matched_via"] == "san"
    assert codes(deep) == ["TLS-003"] and deep["verified"] is False
    assert codes(short) == ["TLS-003"]  # no name starts with "tableau.": no FQDN to suggest


def test_ip_address_host(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), ips=("127.0.0.1",))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe("127.0.0.1", srv.port, ca_file=str(root))
    assert r["findings"] == [] and r["verified"] is True and r["server_name"] == "127.0.0.1"


def test_sni_selects_the_certificate(files, pki3, pki):
    """s_server answers SNI tableau.example.test with cert2 and anything else with its default."""
    # both issued by the root itself: s_server has no chain option for its second certificate
    default = pki.leaf(pki3["root"], cn="default.example.test", dns=("default.example.test",))
    named = pki.leaf(pki3["root"], cn=HOST, dns=(HOST,))
    root = files.cert("root.pem", pki3["root"])
    cert2 = files.cert("c2.pem", named)
    key2 = files.key("c2.key", named)
    args = ["-servername", HOST, "-cert2", str(cert2), "-key2", str(key2)]
    with serve(files, default, args=args) as srv:
        with_sni = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        no_sni = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), server_name="")
    assert with_sni["findings"] == [] and with_sni["names"] == [HOST]
    assert with_sni["verify_hostname_checked"] is True
    assert no_sni["server_name"] is None and no_sni["names"] == ["default.example.test"]
    assert codes(no_sni) == ["TLS-003"]
    assert no_sni["verify_hostname_checked"] is False and no_sni["verified"] is True


def make_sha1_intermediate(files, root):
    """An intermediate signed with SHA-1 by ``openssl x509 -req`` (cryptography refuses SHA-1)."""
    root_pem = files.cert("sha1-root.pem", root)
    root_key = files.key("sha1-root.key", root)
    ext = files.dir / "ca.ext"
    ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                   "subjectKeyIdentifier=hash\n")
    key = files.dir / "sha1-inter.key"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(key)], check=True, capture_output=True)
    csr = subprocess.run([OPENSSL, "req", "-new", "-key", str(key), "-subj",
                          "/O=trustops test/CN=SHA1 Intermediate CA"], check=True, capture_output=True).stdout
    pem = subprocess.run([OPENSSL, "x509", "-req", "-sha1", "-days", "365", "-set_serial", "4242",
                          "-CA", str(root_pem), "-CAkey", str(root_key), "-extfile", str(ext)],
                         input=csr, check=True, capture_output=True).stdout
    issued = types.SimpleNamespace(cert=x509.load_pem_x509_certificate(pem),
                                   key=serialization.load_pem_private_key(key.read_bytes(), None))
    assert issued.cert.signature_hash_algorithm.name == "sha1"
    return issued, pem


def test_sha1_intermediate(files, pki3, pki):
    inter, inter_pem = make_sha1_intermediate(files, pki3["root"])
    leaf = pki.leaf(inter, dns=(HOST,))
    root = files.cert("root.pem", pki3["root"])
    chain = write(files.dir / "sha1-chain.pem", inter_pem)
    with OpenSSLServer(files.dir, files.cert("l.pem", leaf), files.key("l.key", leaf), chain,
                       args=["-cipher", "DEFAULT@SECLEVEL=0"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        allowed = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), blocklisted_digests=[])
    assert codes(r) == ["TLS-005"]
    f = r["findings"][0]
    assert f["data"]["subject"] == "CN=SHA1 Intermediate CA,O=trustops test" and f["data"]["position"] == 1
    assert r["trusted"] is True and r["chain_complete"] is True
    # the referee (OpenSSL at the host's security level) refuses SHA-1 CA signatures as well
    assert r["verified"] is False and "too weak" in r["verify_error"]
    # without the blocklist nothing of ours explains OpenSSL's refusal: TLS-017 says so
    assert codes(allowed) == ["TLS-017"] and "too weak" in allowed["findings"][0]["message"]
    assert allowed["ok"] is False


def test_expired_server_certificate(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), start_days=-30, days=-2)
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-006"] and r["findings"][0]["data"]["role"] == "leaf"
    assert r["served_chain"][0]["expired"] is True
    assert r["verified"] is False and r["verify_code"] == 10


def test_expiring_soon_is_a_warning(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), days=10)
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        relaxed = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), min_days_left=5)
    assert codes(r) == ["TLS-008"] and r["ok"] is True and r["findings"][0]["severity"] == "warning"
    assert r["findings"][0]["data"]["days_left"] in (9, 10)
    assert relaxed["findings"] == []


def test_tls13_only_server_chain_through_the_ssl_module(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"]], args=["-tls1_3"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        leaf_only = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), use_chain_api=False)
    assert r["tls12"] is None and r["tls_version"] == "TLSv1.3"
    if r["chain_source"] == "ssl-peer-chain":  # Python 3.10+ (all supported targets)
        assert codes(r) == ["TLS-014"] and len(r["served_chain"]) == 2 and r["chain_complete"] is True
    assert "protocol_version" in by_code(r, "TLS-014")["message"]
    assert leaf_only["chain_source"] == "leaf-only" and len(leaf_only["served_chain"]) == 1
    assert codes(leaf_only) == ["TLS-013", "TLS-014"] and leaf_only["ok"] is True
    assert leaf_only["chain_complete"] is None
    assert leaf_only["trusted"] is True  # decided by OpenSSL, which got the whole chain


def test_tls13_only_server_missing_intermediate_leaf_only(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], args=["-tls1_3"]) as srv:
        full = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
        leaf_only = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root), use_chain_api=False)
    assert codes(full) == ["TLS-002", "TLS-014"] and full["chain_complete"] is False
    assert leaf_only["trusted"] is False and leaf_only["chain_complete"] is None
    assert codes(leaf_only) == ["TLS-001", "TLS-013", "TLS-014"]
    assert "unable to get local issuer certificate" in leaf_only["findings"][0]["message"]


def test_chain_served_out_of_order_with_extras(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["root"], pki3["other"], pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-010", "TLS-012"]
    assert by_code(r, "TLS-010")["data"]["path"] == [0, 3, 1]
    extra = by_code(r, "TLS-012")["data"]["extra"]
    assert [(e["position"], e["kind"]) for e in extra] == [(2, "not on the chain")]
    assert "Unrelated Root CA" in extra[0]["subject"]
    assert r["ok"] is True and r["trusted"] is True and r["verified"] is True


def test_duplicate_certificate_is_an_extra(files, pki3):
    root = files.cert("root.pem", pki3["root"])
    with serve(files, pki3["leaf"], [pki3["inter"], pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-012"]
    assert r["findings"][0]["data"]["extra"][0]["kind"] == "duplicate"


def test_ec_server_certificate_and_ecdsa_suites(files, pki3, pki):
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("ec", 256))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]], args=["-no_tls1_3"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert r["findings"] == [] and r["verified"] is True
    assert r["tls12"]["cipher"].startswith("ECDHE-ECDSA-") and r["tls_version"] == "TLSv1.2"


def test_issuer_that_is_not_a_ca(files, pki3, pki):
    not_ca = pki.leaf(pki3["root"], cn="Not A CA", dns=())
    leaf = pki.leaf(not_ca, dns=(HOST,))
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [not_ca]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert codes(r) == ["TLS-018"] and r["findings"][0]["data"]["position"] == 1
    assert r["verified"] is False and r["verify_code"] == 79  # invalid CA certificate
    assert r["trusted"] is True and r["chain_complete"] is True


def test_leaf_that_is_a_ca(files, pki3, pki):
    leaf = pki.intermediate(pki3["inter"], cn=HOST, dns=[HOST])
    root = files.cert("root.pem", pki3["root"])
    with serve(files, leaf, [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(root))
    assert "TLS-011" in codes(r)


# --------------------------------------------------------------------------- connection failures

def test_closed_port_is_a_clear_error():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = holder.getsockname()[1]
    try:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, port, address="127.0.0.1", ca_file=None)
    finally:
        holder.close()
    assert str(err.value) == (f"{HOST}:{port} (connecting to 127.0.0.1): connection refused "
                              f"(nothing listens on port {port})")


def test_unresolvable_name_is_a_clear_error():
    with pytest.raises(TlsProbeError) as err:
        probe("tableau.nonexistent.invalid", 443)
    assert str(err.value).startswith("tableau.nonexistent.invalid:443: cannot resolve")


def http_400(conn, _stop):
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def ssh_banner(conn, _stop):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    conn.recv(4096)


def close_at_once(conn, _stop):
    # abortive close (SO_LINGER 0): a reset, whether or not the ClientHello has arrived yet
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_then_close(conn, _stop):
    conn.recv(4096)
    conn.close()  # an orderly close (FIN) without a word


def silent(conn, stop):
    conn.recv(4096)
    stop.wait(30)


@pytest.mark.parametrize("handler, text", [
    (http_400, "not a TLS service: it answered 'HTTP/1.1 400 Bad Request"),
    (ssh_banner, "not a TLS service: it answered 'SSH-2.0-OpenSSH_9.2p1"),
    # the reset reaches the client during connect() or during the handshake, as timing has it
    (close_at_once, "the server reset the connection"),
    (read_then_close, "TLS handshake failed: the server closed the connection without answering "
                      "the TLS ClientHello; ssl:"),
])
def test_non_tls_services_are_clear_errors(handler, text):
    with TcpServer(handler) as srv:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, srv.port, address="127.0.0.1")
    assert str(err.value).startswith(f"{HOST}:{srv.port} (connecting to 127.0.0.1): ")
    assert text in str(err.value)


def test_silent_service_times_out_with_a_clear_error():
    with TcpServer(silent) as srv:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, srv.port, address="127.0.0.1", timeout=0.5)
    assert "no answer to the TLS ClientHello within 0.5s" in str(err.value)


def test_server_without_common_cipher_is_reported(files, pki, pki3):
    """A DSA-only server shares no suite with us or with OpenSSL's defaults: a clear error."""
    leaf = pki.leaf(pki3["inter"], dns=(HOST,), key=make_key("dsa", 2048))
    with serve(files, leaf, [pki3["inter"]], args=["-cipher", "DEFAULT@SECLEVEL=0", "-no_tls1_3"]) as srv:
        with pytest.raises(TlsProbeError) as err:
            probe(HOST, srv.port, address="127.0.0.1")
    assert "handshake_failure" in str(err.value) and "ssl:" in str(err.value)


def test_bad_server_name_is_an_input_error():
    with pytest.raises(TrustopsError):
        probe(HOST, 443, server_name="a" * 300)


# --------------------------------------------------------------------------- ca_content: the CA about to be installed

def test_ca_content_gives_the_verdict_once_the_ca_is_installed(files, pki3):
    """The system store does not trust the private root (TLS-001); with the root as ca_content the
    same server is trusted by the analysis and by the referee, the system store still counted."""
    root_pem = pki3["root"].pem.decode("ascii")
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        before = probe(HOST, srv.port, address="127.0.0.1")
        after = probe(HOST, srv.port, address="127.0.0.1", ca_content=root_pem)
    assert codes(before) == ["TLS-001"] and before["verified"] is False
    assert after["findings"] == [] and after["ok"] is True
    assert after["verified"] is True and after["trusted"] is True and after["chain_complete"] is True
    assert after["anchor"]["subject"] == "CN=Probe Root CA,O=trustops test"
    system = before["trust_store"]
    assert system["ca_content"] == 0 and system["count"] > 10
    assert after["trust_store"] == dict(system, count=system["count"] + 1, ca_content=1)


def test_ca_content_adds_to_ca_file(files, pki3):
    other = files.cert("other.pem", pki3["other"])
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        unrelated = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(other),
                          ca_content=pki3["other"].pem.decode("ascii"))
        both = probe(HOST, srv.port, address="127.0.0.1", ca_file=str(other), ca_content=pki3["root"].pem)
    assert codes(unrelated) == ["TLS-001"] and unrelated["verified"] is False
    assert unrelated["trust_store"] == {"path": str(other), "count": 1, "skipped": 0, "ca_content": 1}  # same CA once
    assert both["findings"] == [] and both["verified"] is True
    assert both["trust_store"] == {"path": str(other), "count": 2, "skipped": 0, "ca_content": 1}


def test_ca_content_intermediate_is_trusted_by_the_referee_too(files, pki3):
    """A leaf-only server, the intermediate and root given as ca_content: OpenSSL builds the chain
    from cadata (verified), and the analysis still says the server omits its intermediate (TLS-002)."""
    with serve(files, pki3["leaf"]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_content=(pki3["inter"].pem + pki3["root"].pem).decode())
    assert codes(r) == ["TLS-002"] and "trusted here only because" in r["findings"][0]["message"]
    assert r["verified"] is True and r["trusted"] is True and r["chain_complete"] is False
    assert r["trust_store"]["ca_content"] == 2


def test_ca_content_alone_on_a_host_without_a_system_store(files, pki3, monkeypatch, tmp_path):
    monkeypatch.setattr(tlsprobe_anchors, "system_store_candidates",
                        lambda: ([str(tmp_path / "no-bundle.pem")], [str(tmp_path / "no-dir")]))
    with pytest.raises(TrustopsError) as err:
        load_anchors()
    assert "no system trust store found" in str(err.value) and "give ca_file or ca_content" in str(err.value)
    with serve(files, pki3["leaf"], [pki3["inter"]]) as srv:
        r = probe(HOST, srv.port, address="127.0.0.1", ca_content=pki3["root"].pem)
    assert r["findings"] == [] and r["verified"] is True
    assert r["trust_store"] == {"path": None, "count": 1, "skipped": 0, "ca_content": 1}
