# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the certificate core, with real certificates and real openssl as referee.

Certificates and keys are generated in the tests (the ``pki`` fixture); wherever a second
opinion exists, the ``openssl`` command line gives it: fingerprints, PKCS#7 bundles, legacy
encrypted keys, SHA-1 and RSA-PSS signatures, chain verification.
"""

from __future__ import annotations

import datetime
import itertools
import shutil
import subprocess
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtensionOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import _asn1, certs
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

OPENSSL = shutil.which("openssl")
PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
PKCS8, TRAD = serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL
NOENC = serialization.NoEncryption()


def openssl(*args, data=None, check=True):
    """Run the openssl referee; returns the CompletedProcess (stdout as bytes)."""
    assert OPENSSL, "the openssl command is the referee of these tests; install it"
    proc = subprocess.run([OPENSSL] + [str(a) for a in args], input=data, capture_output=True,
                          check=False, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError("openssl {} failed: {}".format(" ".join(map(str, args)), proc.stderr.decode()))
    return proc


def fps(certificates):
    return [c.fingerprint(hashes.SHA256()) for c in certificates]


def write(path, data):
    path.write_bytes(data)
    return str(path)


SHA256 = hashes.SHA256()


def self_signed(key, cn, digest=SHA256, ca=True, subject_key=None, issuer_name=None, bc=True):
    """A certificate for ``subject_key`` (default ``key``) with issuer ``issuer_name`` signed by ``key``
    with ``digest`` (None for Ed25519/Ed448)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key((subject_key or key).public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30)))
    if bc:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    return builder.sign(key, digest)


@pytest.fixture(scope="module")
def trio(chain):
    return chain["root"], chain["intermediate"], chain["leaf"]


# =========================================================================== loading

class TestLoading:

    def test_single_pem(self, trio):
        _root, _inter, leaf = trio
        assert certs.load_certificates(leaf.pem) == [leaf.cert]
        assert certs.load_certificate(leaf.pem) == leaf.cert
        assert certs.load_certificate(leaf.pem.decode("ascii")) == leaf.cert  # text works too

    @pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
    def test_many_pem_in_any_order_keep_their_order(self, trio, order):
        items = [trio[i] for i in order]
        loaded = certs.load_certificates(b"".join(i.pem for i in items))
        assert fps(loaded) == fps(i.cert for i in items)

    def test_crlf_line_endings(self, trio):
        bundle = b"".join(i.pem for i in trio).replace(b"\n", b"\r\n")
        assert fps(certs.load_certificates(bundle)) == fps(i.cert for i in trio)

    def test_cr_only_and_indented_and_bom(self, trio):
        _root, _inter, leaf = trio
        text = leaf.pem.decode("ascii")
        variants = {
            "cr": text.replace("\n", "\r"),
            "yaml-indented": "".join("    " + line + "\n" for line in text.splitlines()),
            "trailing-blanks": "".join(line + "  \t\n" for line in text.splitlines()),
            "utf8-bom": "\ufeff" + text,
        }
        for name, variant in variants.items():
            assert certs.load_certificates(variant, source=name) == [leaf.cert], name
            assert certs.load_certificates(variant.encode("utf-8"), source=name) == [leaf.cert], name

    @pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
    def test_utf16_with_bom_as_windows_powershell_writes(self, trio, encoding):
        _root, _inter, leaf = trio
        text = leaf.pem.decode("ascii").replace("\n", "\r\n")
        data = text.encode(encoding)
        if encoding != "utf-16":  # explicit-endian codecs write no BOM; PowerShell does
            data = "\ufeff".encode(encoding) + data
        assert certs.load_certificates(data) == [leaf.cert]
        # the one decoder, public for the other readers (tsm inputs); the old private name stays
        assert certs.input_bytes(data) == text.encode("ascii")
        assert certs._to_bytes is certs.input_bytes

    def test_broken_utf16_is_a_clear_error(self):
        with pytest.raises(CertificateError, match=r"bad\.txt: .*UTF-16"):
            certs.load_certificates(b"\xff\xfe\x00\xd8", source="bad.txt")  # a lone high surrogate

    def test_openssl_text_output_around_the_block(self, trio, tmp_path):
        """``openssl x509 -text`` output: a page of text, then the PEM block."""
        _root, _inter, leaf = trio
        out = openssl("x509", "-in", write(tmp_path / "leaf.pem", leaf.pem), "-text").stdout
        assert out.index(b"Certificate:") < out.index(b"-----BEGIN CERTIFICATE-----")
        assert certs.load_certificates(out + b"\nsome trailing words\n") == [leaf.cert]

    def test_openssl_pkcs12_bag_attributes(self, trio, tmp_path):
        """``openssl pkcs12 -nokeys`` prints 'Bag Attributes' before every certificate."""
        _root, inter, leaf = trio
        p12 = tmp_path / "x.p12"
        openssl("pkcs12", "-export", "-in", write(tmp_path / "l.pem", leaf.pem),
                "-inkey", write(tmp_path / "l.key", leaf.key_pem()),
                "-certfile", write(tmp_path / "i.pem", inter.pem), "-passout", "pass:pw", "-out", p12)
        out = openssl("pkcs12", "-in", p12, "-nokeys", "-passin", "pass:pw").stdout
        assert b"Bag Attributes" in out
        assert set(fps(certs.load_certificates(out))) == set(fps([leaf.cert, inter.cert]))

    def test_der(self, trio):
        root, _inter, leaf = trio
        assert certs.load_certificates(leaf.der) == [leaf.cert]
        assert certs.load_certificate(root.der) == root.cert

    def test_x509_certificate_label(self, trio):
        _root, _inter, leaf = trio
        old = leaf.pem.replace(b"BEGIN CERTIFICATE", b"BEGIN X509 CERTIFICATE")
        old = old.replace(b"END CERTIFICATE", b"END X509 CERTIFICATE")
        assert certs.load_certificates(old) == [leaf.cert]

    @pytest.mark.parametrize("encoding", [PEM, DER])
    def test_pkcs7_from_cryptography(self, trio, encoding):
        """cryptography writes the SET sorted (DER); we return the file's order, as openssl does."""
        root, inter, leaf = trio
        bundle = pkcs7.serialize_certificates([leaf.cert, inter.cert, root.cert], encoding)
        loaded = certs.load_certificates(bundle, source="c.p7b")
        assert sorted(fps(loaded)) == sorted(fps([leaf.cert, inter.cert, root.cert]))
        inform = "PEM" if encoding == PEM else "DER"
        printed = openssl("pkcs7", "-inform", inform, "-print_certs", data=bundle).stdout
        assert fps(loaded) == fps(certs.load_certificates(printed))

    @pytest.mark.parametrize("outform", ["PEM", "DER"])
    def test_pkcs7_from_openssl_crl2pkcs7(self, trio, tmp_path, outform):
        root, inter, leaf = trio
        bundle = write(tmp_path / "bundle.pem", leaf.pem + inter.pem + root.pem)
        p7 = openssl("crl2pkcs7", "-nocrl", "-certfile", bundle, "-outform", outform).stdout
        assert p7.startswith(b"-----BEGIN PKCS7-----") == (outform == "PEM")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # cryptography warns on openssl's unsorted SET: not us
            loaded = certs.load_certificates(p7, source="bundle.p7b")
        assert fps(loaded) == fps([leaf.cert, inter.cert, root.cert])  # the file's order

    @pytest.mark.parametrize("label", [b"PKCS #7 SIGNED DATA", b"CMS"])
    def test_pkcs7_other_labels(self, trio, label):
        _root, inter, leaf = trio
        bundle = pkcs7.serialize_certificates([leaf.cert, inter.cert], PEM)
        relabelled = bundle.replace(b"PKCS7", label)
        assert fps(certs.load_certificates(relabelled)) == fps(certs.load_certificates(bundle))
        assert sorted(fps(certs.load_certificates(relabelled))) == sorted(fps([leaf.cert, inter.cert]))

    def test_pkcs7_ber_indefinite_length(self, trio):
        """BER (indefinite lengths) is left to cryptography's parser."""
        _root, inter, leaf = trio
        der = pkcs7.serialize_certificates([leaf.cert, inter.cert], DER)
        _tag, start, _end = _asn1.tlv(der, 0)
        ber = b"\x30\x80" + der[start:] + b"\x00\x00"
        assert certs._pkcs7_der_certificates(ber) is None
        assert sorted(fps(certs.load_certificates(ber))) == sorted(fps([leaf.cert, inter.cert]))

    def test_pkcs7_damaged(self, trio):
        _root, inter, leaf = trio
        pem = pkcs7.serialize_certificates([leaf.cert, inter.cert], PEM)
        with pytest.raises(CertificateError, match=r"^p\.p7b: PKCS#7 block is not valid base64"):
            certs.load_certificates(pem.replace(b"\n", b"\n!", 1), source="p.p7b")
        lines = pem.split(b"\n")
        del lines[3]
        with pytest.raises(CertificateError, match=r"^p\.p7b: not a valid PKCS#7 bundle"):
            certs.load_certificates(b"\n".join(lines), source="p.p7b")

    def test_empty_pkcs7(self):
        empty = openssl("crl2pkcs7", "-nocrl").stdout
        with pytest.raises(CertificateError, match=r"^empty\.p7b: .*PKCS#7"):
            certs.load_certificates(empty, source="empty.p7b")

    def test_cert_and_key_bundle_returns_the_certs(self, trio):
        _root, inter, leaf = trio
        mixed = leaf.key_pem() + leaf.pem + leaf.key_pem("pkcs1") + inter.pem
        assert fps(certs.load_certificates(mixed)) == fps([leaf.cert, inter.cert])

    @pytest.mark.parametrize("fmt,passphrase", [("pkcs8", None), ("pkcs1", None), ("pkcs8", b"pw"),
                                                ("pkcs1", b"pw")])
    def test_only_a_key_says_so(self, trio, fmt, passphrase):
        _root, _inter, leaf = trio
        with pytest.raises(CertificateError, match=r"^server\.key: holds a private key"):
            certs.load_certificates(leaf.key_pem(fmt, passphrase), source="server.key")

    @pytest.mark.parametrize("fmt", [PKCS8, TRAD])
    def test_only_a_der_key_says_so(self, trio, fmt):
        _root, _inter, leaf = trio
        with pytest.raises(CertificateError, match=r"^server\.der: holds a DER private key"):
            certs.load_certificates(leaf.key.private_bytes(DER, fmt, NOENC), source="server.der")

    def test_pkcs12_says_so(self, trio, tmp_path):
        _root, inter, leaf = trio
        ours = pkcs12.serialize_key_and_certificates(b"tab", leaf.key, leaf.cert, [inter.cert],
                                                     serialization.BestAvailableEncryption(b"pw"))
        theirs = tmp_path / "x.pfx"
        openssl("pkcs12", "-export", "-in", write(tmp_path / "l.pem", leaf.pem),
                "-inkey", write(tmp_path / "l.key", leaf.key_pem()), "-passout", "pass:pw", "-out", theirs)
        # BER with indefinite lengths, as some Java and Windows tools write it
        ber = b"\x30\x80" + ours[ours.index(b"\x02\x01\x03"):] + b"\x00\x00"
        for data in (ours, theirs.read_bytes(), ber):
            with pytest.raises(CertificateError, match=r"^tab\.pfx: is a PKCS#12 archive.*-nokeys"):
                certs.load_certificates(data, source="tab.pfx")
            with pytest.raises(CertificateError, match=r"^tab\.pfx: is a PKCS#12 archive.*-nocerts"):
                certs.inspect_private_key(data, source="tab.pfx")

    def test_pkcs12_remedy_names_the_file_not_the_option(self, trio, tmp_path):
        """Issue 11 (bad-file class): with a source label such as ``src /path`` the remedy's command
        must name the file alone, and it must work: openssl extracts the certificates with it."""
        _root, _inter, leaf = trio
        p12 = tmp_path / "dir with space" / "x.pfx"
        p12.parent.mkdir()
        openssl("pkcs12", "-export", "-in", write(tmp_path / "l.pem", leaf.pem),
                "-inkey", write(tmp_path / "l.key", leaf.key_pem()), "-passout", "pass:pw", "-out", p12)
        with pytest.raises(CertificateError) as info:
            certs.load_certificates(p12.read_bytes(), source=f"src {p12}")
        message = str(info.value)
        assert message.count(str(p12)) == 2, message     # the source, and the file in the command
        command = message[message.index("openssl pkcs12"):]
        assert "-in src " not in command, command
        import shlex
        argv = shlex.split(command)
        assert argv[:2] == ["openssl", "pkcs12"] and argv[argv.index("-in") + 1] == str(p12)
        out = openssl(*(argv[1:] + ["-passin", "pass:pw"])).stdout
        assert certs.load_certificates(out) == [leaf.cert]
        with pytest.raises(CertificateError, match=r"openssl pkcs12 -in FILE -nokeys"):
            certs.load_certificates(p12.read_bytes(), source="trusted signer")

    @pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", ""])
    def test_empty(self, data):
        with pytest.raises(CertificateError, match=r"^a\.pem: empty input"):
            certs.load_certificates(data, source="a.pem")

    @pytest.mark.parametrize("data,why", [
        (b"hello world", "not PEM or DER"),
        ("Zertifikat fehlt \u00fc", "not PEM or DER"),
        (b"\x30\x03\x02\x01\x00", "neither an X.509 certificate nor PKCS#7"),
        (b"\x30\x82\xff\xff garbage", "neither an X.509 certificate nor PKCS#7"),
        (b"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n", "no certificate in PEM blocks"),
        (b"-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n",
         r"found: CERTIFICATE REQUEST"),
    ])
    def test_garbage(self, data, why):
        with pytest.raises(CertificateError, match=r"^g\.pem: .*" + why):
            certs.load_certificates(data, source="g.pem")

    def test_truncated_pem(self, trio):
        root, inter, leaf = trio
        cut = leaf.pem[:len(leaf.pem) // 2]
        with pytest.raises(CertificateError, match=r"^t\.pem: truncated or damaged PEM"):
            certs.load_certificates(cut, source="t.pem")
        # a bundle cut inside its last certificate is an error, not silently one certificate short
        bundle = leaf.pem + inter.pem + root.pem
        with pytest.raises(CertificateError, match=r"^t\.pem: truncated or damaged PEM: 3 BEGIN lines but 2"):
            certs.load_certificates(bundle[:-100], source="t.pem")
        # the END line damaged
        with pytest.raises(CertificateError, match=r"^t\.pem: truncated or damaged PEM"):
            certs.load_certificates(leaf.pem.replace(b"END CERTIFICATE", b"END CERTIFICAT"), source="t.pem")

    def test_base64_damage_names_the_certificate(self, trio):
        _root, inter, leaf = trio
        lines = inter.pem.split(b"\n")
        lines[3] = b"!" + lines[3][1:]
        with pytest.raises(CertificateError, match=r"^b\.pem: certificate #2 is not valid PEM/X\.509"):
            certs.load_certificates(leaf.pem + b"\n".join(lines), source="b.pem")
        # numbered by certificate block, whatever a PKCS#7 block before it held
        p7 = pkcs7.serialize_certificates([leaf.cert, inter.cert], PEM)
        with pytest.raises(CertificateError, match=r"^b\.pem: certificate #2 is not valid PEM/X\.509"):
            certs.load_certificates(p7 + leaf.pem + b"\n".join(lines), source="b.pem")
        lines = inter.pem.split(b"\n")
        del lines[5]  # a whole line missing: valid base64, broken DER
        with pytest.raises(CertificateError, match=r"^b\.pem: certificate #1 is not valid PEM/X\.509"):
            certs.load_certificates(b"\n".join(lines), source="b.pem")

    def test_damaged_certificate_message_keeps_the_library_reason_whole(self, trio):
        """Issue 11: the library's reason is not cut mid-word, the source is named once, and the
        message says what to do."""
        import base64

        _root, _inter, leaf = trio
        der = leaf.der
        damaged, reason = None, ""
        for index in range(len(der)):       # find a damage whose library message is long
            candidate = bytearray(der)
            candidate[index] ^= 0x80
            try:
                x509.load_der_x509_certificate(bytes(candidate))
            except Exception as exc:        # the library's own words, whatever its version
                text = str(exc).strip().splitlines()[0]
                if len(text) > len(reason):
                    damaged, reason = bytes(candidate), text
        assert len(reason) > 200, reason    # longer than the old 200-character cut
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(damaged) + b"-----END CERTIFICATE-----\n"
        with pytest.raises(CertificateError) as info:
            certs.load_certificates(pem, source="src /srv/pki/ca.pem")
        message = str(info.value)
        assert message.count("/srv/pki/ca.pem") == 1, message
        assert reason in message, message
        assert "openssl x509 -in" in message and "export" in message, message

    def test_library_reason_is_summarised_at_a_word_boundary(self):
        words = [f"word{n}" for n in range(400)]
        text = certs._short(ValueError(" ".join(words)))
        assert text.endswith(" ...") and len(text) < len(" ".join(words))
        assert text[:-4].split(" ") == words[:len(text[:-4].split(" "))]
        assert certs._short(ValueError("short reason\nsecond line")) == "short reason"

    def test_trusted_certificate_label_is_refused_clearly(self, trio, tmp_path):
        """OpenSSL's -trustout form carries trust settings we would silently drop."""
        _root, _inter, leaf = trio
        trusted = openssl("x509", "-in", write(tmp_path / "l.pem", leaf.pem), "-trustout",
                          "-addtrust", "serverAuth").stdout
        assert b"-----BEGIN TRUSTED CERTIFICATE-----" in trusted
        with pytest.raises(CertificateError, match=r"^tr\.pem: OpenSSL 'TRUSTED CERTIFICATE'.*openssl x509"):
            certs.load_certificates(trusted, source="tr.pem")

    def test_load_certificate_wants_exactly_one(self, trio):
        root, inter, leaf = trio
        with pytest.raises(CertificateError, match=r"^two\.pem: expected exactly one certificate, found 2"):
            certs.load_certificate(leaf.pem + inter.pem, source="two.pem")
        assert certs.load_certificate(root.pem) == root.cert

    @pytest.mark.parametrize("value", [None, 12, ["a"], {"pem": "x"}])
    def test_wrong_type(self, value):
        with pytest.raises(CertificateError, match=r"^w\.pem: expected bytes or text"):
            certs.load_certificates(value, source="w.pem")

    def test_bytearray_and_memoryview(self, trio):
        _root, _inter, leaf = trio
        assert certs.load_certificates(bytearray(leaf.der)) == [leaf.cert]
        assert certs.load_certificates(memoryview(leaf.pem)) == [leaf.cert]

    def test_errors_are_trustops_errors(self):
        with pytest.raises(TrustopsError):
            certs.load_certificates(b"nope")

    def test_pem_blocks_is_tolerant(self, trio):
        """pem_blocks (used by tolerant loaders) returns complete blocks and skips a cut one."""
        root, _inter, leaf = trio
        blocks = certs.pem_blocks("junk\r\n" + leaf.pem.decode() + root.pem.decode()[:200])
        assert [label for label, _block in blocks] == [b"CERTIFICATE"]
        assert x509.load_pem_x509_certificate(blocks[0][1]) == leaf.cert


# =========================================================================== fingerprints

class TestFingerprints:

    @pytest.mark.parametrize("which", ["root", "intermediate", "leaf"])
    def test_match_openssl(self, chain, which, tmp_path):
        cert = chain[which]
        path = write(tmp_path / "c.der", chain[which].der)
        for algo, expect in (("sha1", certs.fingerprint(cert.cert, "sha1")),
                             ("sha256", certs.fingerprint(cert.cert, "sha256"))):
            out = openssl("x509", "-inform", "DER", "-in", path, "-noout", "-fingerprint", "-" + algo)
            assert out.stdout.decode().strip().split("=", 1)[1] == expect
        assert certs.thumbprint(cert.cert) == certs.fingerprint(cert.cert, "sha1").replace(":", "")
        assert len(certs.thumbprint(cert.cert)) == 40 and certs.thumbprint(cert.cert).isupper()

    def test_default_and_separator(self, trio):
        leaf = trio[2].cert
        assert certs.fingerprint(leaf) == certs.fingerprint(leaf, "sha256")
        assert len(certs.fingerprint(leaf)) == 32 * 3 - 1
        assert certs.fingerprint(leaf, "sha256", sep="") == leaf.fingerprint(hashes.SHA256()).hex().upper()
        assert certs.fingerprint(leaf, "sha512", sep="") == leaf.fingerprint(hashes.SHA512()).hex().upper()

    def test_unknown_algorithm(self, trio):
        with pytest.raises(ValueError, match="md5"):
            certs.fingerprint(trio[2].cert, "md5")

    def test_der_pem_roundtrip(self, trio):
        leaf = trio[2]
        assert certs.to_der(leaf.cert) == leaf.der
        assert certs.to_pem(leaf.cert) == leaf.pem


# =========================================================================== CA / issuer

@pytest.fixture(scope="module")
def legacy(tmp_path_factory, chain):
    """SHA-1 and RSA-PSS signed certificates, made by openssl (cryptography refuses to sign SHA-1)."""
    d = tmp_path_factory.mktemp("legacy")
    key = write(d / "ca.key", chain["root"].key_pem())
    leaf_key = write(d / "leaf.key", chain["leaf"].key_pem())
    out = {}
    openssl("req", "-x509", "-new", "-key", key, "-sha1", "-days", "30", "-subj", "/CN=Legacy SHA1 Root",
            "-out", d / "sha1.pem")
    out["sha1_root"] = certs.load_certificate((d / "sha1.pem").read_bytes())
    openssl("req", "-new", "-key", leaf_key, "-subj", "/CN=legacy.example.test", "-out", d / "leaf.csr")
    openssl("x509", "-req", "-in", d / "leaf.csr", "-CA", d / "sha1.pem", "-CAkey", key, "-sha1",
            "-set_serial", "7", "-days", "10", "-out", d / "sha1leaf.pem")
    out["sha1_leaf"] = certs.load_certificate((d / "sha1leaf.pem").read_bytes())
    openssl("req", "-x509", "-new", "-key", key, "-sha256", "-sigopt", "rsa_padding_mode:pss",
            "-sigopt", "rsa_pss_saltlen:32", "-days", "30", "-subj", "/CN=PSS Root", "-out", d / "pss.pem")
    out["pss_root"] = certs.load_certificate((d / "pss.pem").read_bytes())
    openssl("x509", "-req", "-in", d / "leaf.csr", "-CA", d / "pss.pem", "-CAkey", key, "-sha384",
            "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1", "-set_serial", "8",
            "-days", "10", "-out", d / "pssleaf.pem")
    out["pss_leaf"] = certs.load_certificate((d / "pssleaf.pem").read_bytes())
    return out


class TestIssuer:

    def test_ca_flags(self, chain, pki):
        assert certs.is_ca(chain["root"].cert) and certs.is_ca(chain["intermediate"].cert)
        assert not certs.is_ca(chain["leaf"].cert)
        assert not certs.is_ca(pki.self_signed_leaf().cert)
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        assert not certs.is_ca(self_signed(key, "no basicConstraints", bc=False))
        assert not certs.is_ca(self_signed(key, "CA:FALSE", ca=False))

    def test_self_signed(self, chain, pki):
        assert certs.is_self_signed(chain["root"].cert)
        assert not certs.is_self_signed(chain["intermediate"].cert)
        assert not certs.is_self_signed(chain["leaf"].cert)
        assert certs.is_self_signed(pki.self_signed_leaf().cert)

    def test_issued_by(self, chain):
        root, inter, leaf = chain["root"].cert, chain["intermediate"].cert, chain["leaf"].cert
        assert certs.issued_by(inter, root) and certs.issued_by(leaf, inter)
        assert not certs.issued_by(root, inter)
        assert not certs.issued_by(leaf, root)
        assert not certs.issued_by(inter, leaf)

    def test_same_name_other_key_is_not_the_issuer(self, chain, pki):
        """A re-generated root with the same name must not pass as the issuer."""
        impostor = pki.root(cn="Test Root CA")
        assert impostor.cert.subject == chain["root"].cert.subject
        assert certs.is_self_signed(impostor.cert)
        assert not certs.issued_by(chain["intermediate"].cert, impostor.cert)
        assert not certs._verify_signature_by_hand(chain["intermediate"].cert, impostor.cert)

    def test_subject_equals_issuer_but_signed_by_another_key(self):
        key, other = (rsa.generate_private_key(public_exponent=65537, key_size=1024) for _i in range(2))
        cert = self_signed(other, "Looks Self Signed", subject_key=key)
        assert cert.subject == cert.issuer
        assert not certs.is_self_signed(cert)

    def test_sha1_root_is_still_self_signed(self, legacy, chain):
        assert certs.signature_hash(legacy["sha1_root"]) == "sha1"
        assert certs.is_self_signed(legacy["sha1_root"])
        assert certs.is_ca(legacy["sha1_root"])
        assert certs.issued_by(legacy["sha1_leaf"], legacy["sha1_root"])
        assert certs.signature_hash(legacy["sha1_leaf"]) == "sha1"
        # same name, other key: still refused on the SHA-1 (by-hand) path
        assert not certs.issued_by(legacy["sha1_leaf"], self_signed(chain["leaf"].key, "Legacy SHA1 Root"))

    def test_rsa_pss(self, legacy, chain):
        assert certs.signature_hash(legacy["pss_root"]) == "sha256"
        assert certs.signature_hash(legacy["pss_leaf"]) == "sha384"
        assert certs.is_self_signed(legacy["pss_root"])
        assert certs.issued_by(legacy["pss_leaf"], legacy["pss_root"])
        assert not certs.issued_by(legacy["pss_leaf"], legacy["sha1_root"])
        # the DER reading used where cryptography < 41 exposes no PSS parameters
        assert certs._pss_parameters(legacy["pss_root"]) == ("sha256", "sha256", 32)
        assert certs._pss_parameters(legacy["pss_leaf"]) == ("sha384", "sha384", 48)
        assert certs._pss_parameters(legacy["sha1_root"]) is None
        assert certs._pss_parameters(chain["root"].cert) is None

    @pytest.mark.parametrize("kind", ["rsa", "ec256", "ec384", "dsa", "ed25519", "sha512"])
    def test_signature_verification_per_key_type(self, kind):
        """The public path and the by-hand path (cryptography < 40, SHA-1) agree, both ways."""
        make = {"rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
                "sha512": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
                "ec256": lambda: ec.generate_private_key(ec.SECP256R1()),
                "ec384": lambda: ec.generate_private_key(ec.SECP384R1()),
                "dsa": lambda: dsa.generate_private_key(key_size=1024),
                "ed25519": ed25519.Ed25519PrivateKey.generate}[kind]
        digest = {"ed25519": None, "sha512": hashes.SHA512(), "ec384": hashes.SHA384()}.get(kind, hashes.SHA256())
        ca_key, other_key, leaf_key = make(), make(), ec.generate_private_key(ec.SECP256R1())
        ca = self_signed(ca_key, "CA " + kind, digest=digest)
        twin = self_signed(other_key, "CA " + kind, digest=digest)  # same name, other key
        child = self_signed(ca_key, "child", digest=digest, subject_key=leaf_key, issuer_name=ca.subject,
                            ca=False)
        assert certs.is_self_signed(ca) and certs._verify_signature_by_hand(ca, ca)
        assert certs.issued_by(child, ca) and certs._verify_signature_by_hand(child, ca)
        assert not certs.issued_by(child, twin) and not certs._verify_signature_by_hand(child, twin)
        expected = {"ed25519": None, "sha512": "sha512", "ec384": "sha384"}.get(kind, "sha256")
        assert certs.signature_hash(child) == expected

    def test_public_key_info(self):
        cases = [
            (rsa.generate_private_key(public_exponent=65537, key_size=1024), ("RSA", 1024, None)),
            (ec.generate_private_key(ec.SECP384R1()), ("EC", 384, "secp384r1")),
            (dsa.generate_private_key(key_size=1024), ("DSA", 1024, None)),
            (ed25519.Ed25519PrivateKey.generate(), ("Ed25519", 256, None)),
        ]
        for key, expected in cases:
            assert certs.public_key_info(key) == expected
            assert certs.public_key_info(key.public_key()) == expected


# =========================================================================== host names

@pytest.fixture(scope="module")
def named(pki):
    root = pki.root(cn="Names Root")

    def leaf(cn="tableau.example.test", dns=(), ips=(), **kw):
        return pki.leaf(root, cn=cn, dns=dns, ips=ips, **kw).cert

    return leaf


class TestHostnames:

    def test_exact_case_and_trailing_dot(self, named):
        cert = named(dns=("tableau.example.test",))
        for host in ("tableau.example.test", "TABLEAU.Example.Test", "tableau.example.test."):
            m = certs.match_hostname(cert, host)
            assert (m.matched, m.via, m.legacy_cn_only) == (True, "san", False), host
        assert certs.match_hostname(named(dns=("Tableau.Example.Test.",)), "tableau.example.test").matched
        assert not certs.match_hostname(cert, "tableau.example.tes").matched
        assert not certs.match_hostname(cert, "xtableau.example.test").matched
        assert not certs.match_hostname(cert, "").matched

    def test_wildcard_is_one_leftmost_label(self, named):
        cert = named(cn="wild", dns=("*.example.test",))
        assert certs.match_hostname(cert, "a.example.test").matched
        assert certs.match_hostname(cert, "TABLEAU.EXAMPLE.TEST").matched
        for host in ("a.b.example.test", "example.test", ".example.test", "a.example.test.evil"):
            assert not certs.match_hostname(cert, host).matched, host

    @pytest.mark.parametrize("pattern,host", [
        ("*.test", "example.test"),  # two-label wildcard: public-suffix-ish, refused
        ("*", "localhost"),
        ("f*.example.test", "foo.example.test"),  # partial wildcards: refused as by browsers
        ("*o.example.test", "foo.example.test"),
        ("*.*.example.test", "a.b.example.test"),
        ("a.*.example.test", "a.b.example.test"),
    ])
    def test_refused_wildcards(self, named, pattern, host):
        assert not certs.match_hostname(named(cn="w", dns=(pattern,)), host).matched

    def test_ip_san_versus_dns(self, named):
        cert = named(dns=("10.1.2.3", "tableau.example.test"), ips=("10.9.8.7", "2001:db8::1"))
        m = certs.match_hostname(cert, "10.9.8.7")
        assert (m.matched, m.via) == (True, "san")
        assert certs.match_hostname(cert, "2001:0db8:0:0:0:0:0:1").matched  # same address, other spelling
        assert not certs.match_hostname(cert, "10.1.2.3").matched  # an IP in a DNS SAN does not count
        assert not certs.match_hostname(cert, "10.9.8.8").matched
        assert "10.9.8.7" in m.names and "tableau.example.test" in m.names

    def test_cn_fallback_only_without_san(self, named):
        cert = named(cn="tableau.example.test", dns=())
        m = certs.match_hostname(cert, "Tableau.example.test")
        assert (m.matched, m.via, m.legacy_cn_only) == (True, "cn-legacy", True)
        assert m.names == ["tableau.example.test"]
        miss = certs.match_hostname(cert, "other.example.test")
        assert (miss.matched, miss.via, miss.legacy_cn_only) == (False, None, True)
        wild = named(cn="*.example.test", dns=())
        assert certs.match_hostname(wild, "a.example.test").via == "cn-legacy"
        assert not certs.match_hostname(wild, "a.b.example.test").matched

    def test_no_cn_fallback_for_ip_hosts(self, named):
        assert not certs.match_hostname(named(cn="10.1.1.1", dns=()), "10.1.1.1").matched

    def test_san_present_cn_ignored(self, named):
        """As Chrome and Apple: with a SAN, a CN that names the host is not a match."""
        cert = named(cn="tableau.example.test", dns=("other.example.test",))
        m = certs.match_hostname(cert, "tableau.example.test")
        assert (m.matched, m.via, m.legacy_cn_only) == (False, None, False)
        assert m.names == ["other.example.test"]
        ip_only = named(cn="tableau.example.test", ips=("10.0.0.5",))
        assert not certs.match_hostname(ip_only, "tableau.example.test").matched

    def test_short_name_versus_fqdn(self, named):
        """Seed 001: users typed the short name; the certificate names the FQDN."""
        cert = named(cn="tableau.corp.example.test", dns=("tableau.corp.example.test",))
        m = certs.match_hostname(cert, "tableau")
        assert not m.matched and m.names == ["tableau.corp.example.test"]
        both = named(cn="tableau.corp.example.test", dns=("tableau.corp.example.test", "tableau"))
        assert certs.match_hostname(both, "tableau").matched
        assert certs.match_hostname(both, "tableau.corp.example.test").matched

    def test_as_dict(self, named):
        d = certs.match_hostname(named(dns=("a.example.test",)), "a.example.test").as_dict()
        assert d == {"matched": True, "via": "san", "names": ["a.example.test"], "legacy_cn_only": False}

    def test_no_names_at_all(self):
        key = ec.generate_private_key(ec.SECP256R1())
        org = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "no names")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(org).issuer_name(org).public_key(key.public_key())
                .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        m = certs.match_hostname(cert, "tableau.example.test")
        assert (m.matched, m.names, m.legacy_cn_only) == (False, [], False)
        assert certs.san_names(cert) == ([], []) and certs.common_names(cert) == []


# =========================================================================== chains

@pytest.fixture(scope="module")
def two_pkis(pki):
    a_root = pki.root(cn="A Root")
    a_inter = pki.intermediate(a_root, cn="A Inter")
    a_leaf = pki.leaf(a_inter, cn="a.example.test", dns=("a.example.test",))
    b_root = pki.root(cn="B Root")
    b_inter = pki.intermediate(b_root, cn="B Inter")
    b_leaf = pki.leaf(b_inter, cn="b.example.test", dns=("b.example.test",))
    return [c.cert for c in (a_leaf, a_inter, a_root)], [c.cert for c in (b_leaf, b_inter, b_root)]


class TestChains:

    @pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
    def test_order_from_shuffled_pile(self, trio, order):
        pile = [trio[i].cert for i in order]
        assert certs.order_chain(pile) == [[trio[2].cert, trio[1].cert, trio[0].cert]]

    def test_duplicates_dropped(self, trio):
        root, inter, leaf = (i.cert for i in trio)
        again = certs.load_certificate(certs.to_pem(leaf))  # equal, not identical
        assert certs.order_chain([leaf, inter, again, root, inter, root]) == [[leaf, inter, root]]

    def test_two_independent_chains(self, two_pkis):
        a, b = two_pkis
        pile = [b[2], a[0], b[0], a[2], a[1], b[1]]
        chains = certs.order_chain(pile)
        assert sorted(fps(c) for c in chains) == sorted([fps(a), fps(b)])

    def test_missing_intermediate_stops_at_leaf(self, trio):
        root, _inter, leaf = (i.cert for i in trio)
        assert certs.order_chain([root, leaf]) == [[root], [leaf]]
        assert certs.order_chain([leaf]) == [[leaf]]
        assert certs.order_chain([]) == []

    def test_two_leaves_one_intermediate(self, pki, trio):
        root, inter, leaf = trio
        other = pki.leaf(inter, cn="other.example.test", dns=("other.example.test",)).cert
        chains = certs.order_chain([root.cert, other, inter.cert, leaf.cert])
        assert chains == [[other, inter.cert, root.cert], [leaf.cert, inter.cert, root.cert]]

    def test_cross_signed_cycle_terminates(self):
        ka, kb = (ec.generate_private_key(ec.SECP256R1()) for _i in range(2))
        name_a = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cross A")])
        name_b = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cross B")])
        a_by_b = self_signed(kb, "Cross A", subject_key=ka, issuer_name=name_b)
        b_by_a = self_signed(ka, "Cross B", subject_key=kb, issuer_name=name_a)
        assert a_by_b.subject == name_a and certs.issued_by(a_by_b, b_by_a) and certs.issued_by(b_by_a, a_by_b)
        assert certs.order_chain([a_by_b, b_by_a]) == [[a_by_b, b_by_a]]
        chain, anchor = certs.build_chain(a_by_b, [b_by_a])
        assert chain == [a_by_b, b_by_a] and anchor is None

    def test_build_chain_with_anchors(self, trio, pki):
        root, inter, leaf = (i.cert for i in trio)
        assert certs.build_chain(leaf, [inter, root], [root]) == ([leaf, inter], root)
        assert certs.build_chain(leaf, [root, inter], []) == ([leaf, inter, root], None)
        assert certs.build_chain(leaf, [inter], [inter]) == ([leaf], inter)  # the intermediate as anchor
        assert certs.build_chain(leaf, [], [inter, root]) == ([leaf], inter)
        assert certs.build_chain(leaf, [], [root]) == ([leaf], None)  # intermediate missing
        assert certs.build_chain(leaf, [inter], [leaf]) == ([leaf], leaf)  # the leaf itself pinned
        impostor = pki.root(cn="Test Root CA").cert
        assert certs.build_chain(leaf, [inter, root], [impostor]) == ([leaf, inter, root], None)
        assert certs.build_chain(root, [], [root]) == ([root], root)

    @pytest.mark.parametrize("scenario", ["root-anchor", "inter-anchor", "missing-inter", "impostor-root",
                                          "no-anchor", "other-pki"])
    def test_build_chain_agrees_with_openssl_verify(self, trio, two_pkis, pki, tmp_path, scenario):
        root, inter, leaf = (i.cert for i in trio)
        impostor = pki.root(cn="Test Root CA").cert if scenario == "impostor-root" else None
        anchors, untrusted = {
            "root-anchor": ([root], [inter]),
            "inter-anchor": ([inter], []),
            "missing-inter": ([root], []),
            "impostor-root": ([impostor], [inter]),
            "no-anchor": ([], [inter, root]),
            "other-pki": ([two_pkis[0][2]], [inter, two_pkis[0][1]]),
        }[scenario]
        _chain, anchor = certs.build_chain(leaf, untrusted, anchors)
        args = ["verify", "-partial_chain", "-no-CApath", "-no-CAstore", "-CAfile",
                write(tmp_path / "ca.pem", b"".join(certs.to_pem(c) for c in anchors) or b"\n")]
        if untrusted:
            args += ["-untrusted", write(tmp_path / "un.pem", b"".join(certs.to_pem(c) for c in untrusted))]
        proc = openssl(*(args + [write(tmp_path / "leaf.pem", certs.to_pem(leaf))]), check=False)
        assert (anchor is not None) == (proc.returncode == 0), (scenario, proc.stdout, proc.stderr)
        assert (anchor is not None) == (scenario in ("root-anchor", "inter-anchor"))


# =========================================================================== private keys

@pytest.fixture(scope="module")
def keys():
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "dsa": dsa.generate_private_key(key_size=2048)}


class TestKeys:

    @pytest.mark.parametrize("kind,fmt,label,expect", [
        ("rsa", TRAD, "RSA PRIVATE KEY", ("pkcs1", "RSA", 2048, None)),
        ("rsa", PKCS8, "PRIVATE KEY", ("pkcs8", "RSA", 2048, None)),
        ("ec", TRAD, "EC PRIVATE KEY", ("sec1", "EC", 256, "secp256r1")),
        ("ec", PKCS8, "PRIVATE KEY", ("pkcs8", "EC", 256, "secp256r1")),
        ("dsa", TRAD, "DSA PRIVATE KEY", ("pkcs1", "DSA", 2048, None)),
        ("dsa", PKCS8, "PRIVATE KEY", ("pkcs8", "DSA", 2048, None)),
    ])
    def test_pem_formats(self, keys, kind, fmt, label, expect):
        data = keys[kind].private_bytes(PEM, fmt, NOENC)
        assert data.startswith(b"-----BEGIN %s-----" % label.encode())
        info = certs.inspect_private_key(data, source="k.pem")
        assert (info.format, info.key_type, info.key_size, info.curve) == expect
        assert info.encrypted is False and info.pem_label == label
        assert info.key.private_numbers() == keys[kind].private_numbers()
        assert set(info.as_dict()) == {"format", "encrypted", "key_type", "key_size", "curve", "pem_label"}

    @pytest.mark.parametrize("kind,fmt,expect", [
        ("rsa", TRAD, "pkcs1"), ("rsa", PKCS8, "pkcs8"), ("ec", TRAD, "sec1"), ("ec", PKCS8, "pkcs8"),
        ("dsa", TRAD, "pkcs1"), ("dsa", PKCS8, "pkcs8"),
    ])
    def test_der_formats(self, keys, kind, fmt, expect):
        info = certs.inspect_private_key(keys[kind].private_bytes(DER, fmt, NOENC), source="k.der")
        assert (info.format, info.encrypted, info.pem_label) == (expect, False, None)
        assert info.key.private_numbers() == keys[kind].private_numbers()

    @pytest.mark.parametrize("encoding", [PEM, DER])
    def test_encrypted_pkcs8(self, keys, encoding):
        data = keys["rsa"].private_bytes(encoding, PKCS8, serialization.BestAvailableEncryption(b"s3cret"))
        bare = certs.inspect_private_key(data, source="e.key")
        assert (bare.format, bare.encrypted, bare.key, bare.key_type) == ("pkcs8", True, None, None)
        loaded = certs.inspect_private_key(data, passphrase="s3cret", source="e.key")  # text passphrase
        assert (loaded.key_type, loaded.key_size) == ("RSA", 2048)
        assert certs.inspect_private_key(data, passphrase=b"s3cret").key.private_numbers() == \
            keys["rsa"].private_numbers()
        with pytest.raises(CertificateError, match=r"^e\.key: .*passphrase"):
            certs.inspect_private_key(data, passphrase=b"wrong", source="e.key")

    @pytest.mark.parametrize("cipher", ["-aes256", "-des3"])
    def test_encrypted_pkcs1_from_openssl(self, keys, tmp_path, cipher):
        plain = write(tmp_path / "plain.pem", keys["rsa"].private_bytes(PEM, TRAD, NOENC))
        data = openssl("rsa", "-in", plain, cipher, "-traditional", "-passout", "pass:s3cret").stdout
        assert b"-----BEGIN RSA PRIVATE KEY-----" in data and b"Proc-Type: 4,ENCRYPTED" in data
        bare = certs.inspect_private_key(data, source="legacy.key")
        assert (bare.format, bare.encrypted, bare.key) == ("pkcs1", True, None)
        info = certs.inspect_private_key(data, passphrase="s3cret", source="legacy.key")
        assert info.key.private_numbers() == keys["rsa"].private_numbers()
        with pytest.raises(CertificateError, match=r"^legacy\.key: .*passphrase"):
            certs.inspect_private_key(data, passphrase="nope", source="legacy.key")

    def test_encrypted_pkcs1_from_cryptography(self, keys):
        data = keys["ec"].private_bytes(PEM, TRAD, serialization.BestAvailableEncryption(b"pw"))
        assert (certs.inspect_private_key(data).format, certs.inspect_private_key(data).encrypted) == ("sec1", True)
        assert certs.inspect_private_key(data, b"pw").curve == "secp256r1"

    def test_genrsa_and_ecparam_output(self, tmp_path):
        """What admins paste: `openssl genrsa -aes256` (PKCS#8 in OpenSSL 3) and `ecparam -genkey`."""
        gen = openssl("genrsa", "-aes256", "-passout", "pass:pw", "1024").stdout
        info = certs.inspect_private_key(gen, passphrase="pw")
        assert (info.format, info.encrypted, info.key_size) == ("pkcs8", True, 1024)
        ecp = openssl("ecparam", "-genkey", "-name", "prime256v1").stdout
        assert b"BEGIN EC PARAMETERS" in ecp
        info = certs.inspect_private_key(ecp)
        assert (info.format, info.key_type, info.curve) == ("sec1", "EC", "secp256r1")

    def test_passphrase_for_an_unencrypted_key_is_ignored(self, keys):
        info = certs.inspect_private_key(keys["ec"].private_bytes(PEM, PKCS8, NOENC), passphrase="unused")
        assert info.key is not None and info.encrypted is False

    def test_openssh_format(self):
        key = ed25519.Ed25519PrivateKey.generate()
        data = key.private_bytes(PEM, serialization.PrivateFormat.OpenSSH, NOENC)
        info = certs.inspect_private_key(data)
        assert (info.format, info.encrypted, info.key_type) == ("openssh", False, "Ed25519")

    def test_encrypted_openssh_from_ssh_keygen(self, tmp_path):
        """ssh-keygen as referee: the cipher name, not a literal 'bcrypt' in base64, tells."""
        keygen = shutil.which("ssh-keygen")
        assert keygen, "ssh-keygen (openssh-client) is the referee of this test"
        for name, secret in (("enc", "s3cret"), ("plain", "")):
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", secret, "-C", "t", "-f", str(tmp_path / name)],
                           check=True, timeout=60)
        plain = certs.inspect_private_key((tmp_path / "plain").read_bytes(), source="id_plain")
        assert (plain.format, plain.encrypted, plain.key_type) == ("openssh", False, "Ed25519")
        data = (tmp_path / "enc").read_bytes()
        bare = certs.inspect_private_key(data, source="id_enc")
        assert (bare.format, bare.encrypted, bare.key) == ("openssh", True, None)
        try:
            import bcrypt  # noqa: F401 pylint: disable=unused-import
        except ImportError:  # cryptography needs it to decrypt OpenSSH keys: a clear error then
            with pytest.raises(CertificateError, match=r"^id_enc: unsupported .*bcrypt"):
                certs.inspect_private_key(data, passphrase="s3cret", source="id_enc")
        else:
            assert certs.inspect_private_key(data, passphrase="s3cret", source="id_enc").key_type == "Ed25519"
            with pytest.raises(CertificateError, match=r"^id_enc: "):
                certs.inspect_private_key(data, passphrase="wrong", source="id_enc")

    @pytest.mark.parametrize("kind,size", [("rsa", 1024), ("rsa", 3072), ("ec", 384), ("ec", 521)])
    def test_sizes(self, kind, size):
        key = (rsa.generate_private_key(public_exponent=65537, key_size=size) if kind == "rsa"
               else ec.generate_private_key({384: ec.SECP384R1(), 521: ec.SECP521R1()}[size]))
        info = certs.inspect_private_key(key.private_bytes(PEM, PKCS8, NOENC))
        assert info.key_size == size

    def test_key_matches_cert(self, trio, keys):
        _root, _inter, leaf = trio
        info = certs.inspect_private_key(leaf.key_pem())
        assert certs.key_matches_cert(info.key, leaf.cert)
        assert not certs.key_matches_cert(keys["rsa"], leaf.cert)
        assert not certs.key_matches_cert(keys["ec"], leaf.cert)

    def test_not_a_key(self, trio, keys):
        root, _inter, leaf = trio
        with pytest.raises(CertificateError, match=r"^c\.pem: no private key in PEM blocks \(found: CERTIFICATE\)"):
            certs.inspect_private_key(leaf.pem, source="c.pem")
        with pytest.raises(CertificateError, match=r"^c\.der: holds a DER certificate, not a private key"):
            certs.inspect_private_key(leaf.der, source="c.der")
        two = keys["rsa"].private_bytes(PEM, PKCS8, NOENC) + keys["ec"].private_bytes(PEM, TRAD, NOENC)
        with pytest.raises(CertificateError, match=r"^two\.pem: holds 2 private keys"):
            certs.inspect_private_key(two, source="two.pem")
        for data, why in ((b"", "empty input"), (b"junk", "not a PEM or DER private key"),
                          (b"\x30\x03\x02\x01\x00", "not a PEM or DER private key"),
                          (leaf.key_pem()[:300], "truncated or damaged PEM")):
            with pytest.raises(CertificateError, match=r"^x\.key: " + why):
                certs.inspect_private_key(data, source="x.key")

    def test_cert_and_key_bundle_yields_the_key(self, trio):
        _root, inter, leaf = trio
        info = certs.inspect_private_key(leaf.pem + inter.pem + leaf.key_pem("pkcs1"))
        assert info.format == "pkcs1" and certs.key_matches_cert(info.key, leaf.cert)

    def test_damaged_key_body(self, keys):
        lines = keys["rsa"].private_bytes(PEM, TRAD, NOENC).split(b"\n")
        del lines[4]
        with pytest.raises(CertificateError, match=r"^d\.key: damaged private key"):
            certs.inspect_private_key(b"\n".join(lines), source="d.key")


# =========================================================================== describe

class TestDescribe:

    def test_facts_match_openssl(self, trio, tmp_path):
        _root, _inter, leaf = trio
        d = certs.describe(leaf.cert)
        path = write(tmp_path / "l.pem", leaf.pem)
        serial = openssl("x509", "-in", path, "-noout", "-serial").stdout.decode().strip().split("=")[1]
        assert int(d["serial_number"], 16) == int(serial, 16)
        sha1 = openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha1").stdout.decode()
        assert d["sha1"] == sha1.strip().split("=")[1] and d["thumbprint"] == d["sha1"].replace(":", "")
        assert d["subject"] == "CN=tableau.example.test,O=trustops test"
        assert d["issuer"] == "CN=Test Intermediate CA,O=trustops test"
        assert (d["is_ca"], d["self_signed"], d["key_type"], d["key_size"]) == (False, False, "RSA", 2048)
        assert d["dns_names"] == ["tableau.example.test", "*.apps.example.test"]
        assert d["ip_addresses"] == ["127.0.0.1"] and d["common_names"] == ["tableau.example.test"]
        assert d["signature_hash"] == "sha256" and d["expired"] is False and d["not_yet_valid"] is False
        import json
        json.dumps(d)  # JSON-friendly, as modules return it

    def test_days_left_expired_not_yet_valid(self, pki, trio):
        root = trio[0]
        now = pki.now.replace(microsecond=0)  # the factory's clock; X.509 times have whole seconds
        valid = pki.leaf(root, days=30, start_days=-1).cert
        expired = pki.leaf(root, days=-2, start_days=-30).cert
        future = pki.leaf(root, days=40, start_days=10).cert
        d = certs.describe(valid, now=now)
        assert (d["expired"], d["not_yet_valid"], d["days_left"]) == (False, False, 30)
        d = certs.describe(expired, now=now)
        assert (d["expired"], d["not_yet_valid"], d["days_left"]) == (True, False, -2)
        d = certs.describe(future, now=now)
        assert (d["expired"], d["not_yet_valid"], d["days_left"]) == (False, True, 40)
        assert certs.is_not_yet_valid(future, now) and not certs.is_not_yet_valid(valid, now)
        # evaluated at another moment
        later = now + datetime.timedelta(days=31)
        assert certs.is_expired(valid, later) and certs.days_left(valid, later) == -1
        assert certs.days_left(valid, now + datetime.timedelta(days=29, hours=23)) == 0
        assert certs.not_before(valid).tzinfo is not None and certs.not_after(valid).tzinfo is not None

    def test_ec_and_self_signed(self, pki):
        cert = pki.self_signed_leaf(key=ec.generate_private_key(ec.SECP384R1())).cert
        d = certs.describe(cert)
        assert (d["key_type"], d["key_size"], d["curve"], d["self_signed"], d["is_ca"]) == \
            ("EC", 384, "secp384r1", True, False)


# =========================================================================== broken structure

class TestDamagedStructure:
    """Certificates that load but whose lazily parsed parts are damaged: CertificateError only."""

    def _flip_der(self, der, needle, replacement):
        assert der.count(needle) >= 1
        return der.replace(needle, replacement, 1)

    def test_unknown_public_key_algorithm(self, trio):
        leaf = trio[2]
        rsa_oid = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
        der = self._flip_der(leaf.der, rsa_oid, rsa_oid[:-1] + b"\x71")
        cert = certs.load_certificate(der, source="odd.der")
        with pytest.raises(CertificateError, match="public key"):
            certs.describe(cert)
        with pytest.raises(CertificateError, match="public key"):
            certs.key_matches_cert(leaf.key, cert)
        assert not certs.issued_by(cert, cert)

    def test_extension_values_absent_and_unreadable(self, chain, pki):
        from identity_pki import with_extra_extension
        root, leaf = chain["root"].cert, chain["leaf"].cert
        assert certs.extension(root, ExtensionOID.BASIC_CONSTRAINTS).ca is True
        assert "tableau.example.test" in \
            certs.extension(leaf, ExtensionOID.SUBJECT_ALTERNATIVE_NAME).get_values_for_type(x509.DNSName)
        assert certs.extension(root, ExtensionOID.SUBJECT_ALTERNATIVE_NAME) is None
        # a second basicConstraints (which builders refuse): the certificate loads, its extensions do not
        key = ec.generate_private_key(ec.SECP256R1())
        ca = pki.root(cn="Twice Constrained", key=key)
        twice = with_extra_extension(ca.cert, key, b"\x55\x1d\x13", b"\x30\x03\x01\x01\xff")
        for func in (lambda c: certs.extension(c, ExtensionOID.BASIC_CONSTRAINTS), certs.is_ca, certs.san_names):
            with pytest.raises(CertificateError, match=r"^certificate CN=Twice Constrained.*: unreadable extensions"):
                func(twice)

    def test_unreadable_issuer_name(self, trio):
        leaf = trio[2]
        # the issuer's CN is a UTF8String "Test Intermediate CA"; tagged INTEGER instead, the
        # certificate loads and its issuer fails only when read (ValueError in cryptography 50,
        # KeyError in 38)
        needle = b"\x0c\x14Test Intermediate CA"
        cert = certs.load_certificate(self._flip_der(leaf.der, needle, b"\x02" + needle[1:]), source="odd.der")
        for func in (certs.describe, certs.is_self_signed, lambda c: certs.order_chain([c]),
                     lambda c: certs.issued_by(c, trio[1].cert)):
            with pytest.raises(CertificateError, match="unreadable"):
                func(cert)
        # the message helpers never raise: the damaged name is named as such, the other one read
        assert certs.issuer_text(cert) == "<unreadable issuer>"
        assert certs.issuer_text(cert, "?") == "?"
        assert certs.subject_text(cert) == certs.subject_text(leaf.cert)
