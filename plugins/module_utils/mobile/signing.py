# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signing identity and the CMS SignedData it makes (cryptography's PKCS#7 builder).

:func:`signed_profile_current` reads an existing signed profile back (:mod:`.cms`) and says whether
signing again would give the same content, signer and chain, so a converged run re-signs nothing.
Deciding that needs the signer's certificate and chain, never its private key: given a key
*reader* (a callable), :func:`load_signer` reads and checks the key only when a profile is
actually signed (:meth:`Signer.load_key`), so a converged run neither reads nor decrypts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.cms import read_signed
from ansible_collections.trustops.tableau.plugins.module_utils.mobile.inputs import (
    MobileError,
    load_certificates,
    named_error,
    source_label,
)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:  # pragma: no cover - modules report it through certs.HAS_CRYPTOGRAPHY
    pass


class Signer:
    """The identity that signs profiles: certificate, private key, chain (no root needed).

    The key is either given or loaded on first use (:meth:`load_key`) by the callable ``key_loader``
    (which also checks it); the certificate and the chain are all that deciding whether to sign needs.
    """

    __slots__ = ("cert", "chain", "sha256", "_key", "_key_loader")

    def __init__(self, cert: x509.Certificate, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
                 chain: Iterable[x509.Certificate] = (),
                 key_loader: Callable[[], rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] | None = None) -> None:
        if key is None and key_loader is None:
            raise ValueError("a Signer needs its key or a key_loader")
        self.cert = cert
        self._key = key
        self._key_loader = key_loader
        self.chain = [c for c in chain if certs.to_der(c) != certs.to_der(cert)]
        self.sha256 = hashlib.sha256(certs.to_der(cert)).hexdigest()

    @property
    def key_loaded(self) -> bool:
        """Whether the private key has been read (and checked) yet."""
        return self._key is not None

    def load_key(self) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        """The private key, read and checked on the first call (MobileError/CertificateError/InputError
        when it cannot be: unreadable, wrong passphrase, not the certificate's key, a type that cannot sign)."""
        if self._key is None:
            loader = self._key_loader
            if loader is None:  # unreachable: __init__ requires the key or a loader
                raise ValueError("a Signer needs its key or a key_loader")
            self._key = loader()
            self._key_loader = None
        return self._key

    @property
    def key(self) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        """The private key (:meth:`load_key`)."""
        return self.load_key()

    def chain_ders(self) -> list[bytes]:
        """The DER of every chain certificate, in order."""
        return [certs.to_der(c) for c in self.chain]


def load_signer(cert_data: bytes | str, key_data: bytes | str | Callable[[], bytes | str],
                passphrase: str | bytes | None = None, chain_blobs: Sequence[tuple] = (), cert_source: str = "signer_cert",
                key_source: str = "signer_key", cert_option: str | None = None,
                key_option: str | None = None) -> Signer:
    """Load and check the signing identity.  Wrong passphrase, a key that does not match the
    certificate, or a key type the PKCS#7 builder cannot use raise MobileError (or CertificateError).

    ``key_data`` is the key (bytes or text), checked now, or a callable that returns it: then the
    key is read and checked (the same checks, the same errors) only when :meth:`Signer.load_key` is
    first called, i.e. when a profile is signed.  ``chain_blobs`` are (data, source) or
    (data, source, option) tuples; ``cert_option`` and ``key_option`` name the module options in
    errors.  The passphrase is never part of a message.
    """
    try:
        cert = certs.load_certificate(cert_data, cert_source)
    except certs.CertificateError as exc:
        raise named_error(exc, cert_option, cert_source)
    chain: list[x509.Certificate] = []
    for blob in chain_blobs:
        chain.extend(load_certificates(blob[0], blob[1], blob[2] if len(blob) > 2 else None))

    def loader() -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        data = key_data() if callable(key_data) else key_data
        return _signing_key(cert, data, passphrase, key_source, key_option, cert_source, cert_option)

    if callable(key_data):
        return Signer(cert, chain=chain, key_loader=loader)
    return Signer(cert, loader(), chain)


def _signing_key(cert: x509.Certificate, key_data: bytes | str, passphrase: str | bytes | None, key_source: str,
                 key_option: str | None, cert_source: str,
                 cert_option: str | None) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The one check of a signing key: it loads (with the passphrase when encrypted), it is RSA or
    EC, and it is the private key of ``cert``."""
    try:
        info = certs.inspect_private_key(key_data, passphrase, key_source)
    except certs.CertificateError as exc:
        raise named_error(exc, key_option, key_source)
    key_label = source_label(key_option, key_source)
    if info.key is None:
        raise MobileError(f"{key_label}: the private key is encrypted; give signer_key_passphrase")
    if not isinstance(info.key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise MobileError(f"{key_label}: a {info.key_type} key cannot sign profiles here (RSA and EC keys can)")
    if not certs.key_matches_cert(info.key, cert):
        raise MobileError(f"{key_label} does not belong to {source_label(cert_option, cert_source)} ({certs.subject_text(cert)}): the public keys differ")
    return info.key


def sign_profile(plist: bytes, signer: Signer) -> bytes:
    """CMS SignedData, DER, content attached, SHA-256, signer certificate and chain included.
    Loads the signer's key if it is not loaded yet."""
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.serialization import pkcs7  # pylint: disable=import-outside-toplevel

    builder = pkcs7.PKCS7SignatureBuilder().set_data(plist).add_signer(signer.cert, signer.load_key(), hashes.SHA256())
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def signed_profile_current(existing: bytes, plist: bytes, signer: Signer) -> tuple[bool, str | None]:
    """(True, None) when the existing signed profile already is what signing plist would give:
    same content, same signer certificate, same chain, SHA-256, valid signature.  Else
    (False, reason)."""
    got = read_signed(existing)
    if got.content is None:
        return False, f"the existing file is not a signed profile ({got.problem})"
    if got.content != plist:
        return False, "the profile content changed"
    if got.signer is None:  # the reader could not name it: the problem says why
        return False, f"the existing signature is invalid ({got.problem})"
    if certs.to_der(got.signer) != certs.to_der(signer.cert):
        return False, "the signer changed"
    carried = sorted(certs.to_der(c) for c in got.certificates if certs.to_der(c) != certs.to_der(signer.cert))
    if carried != sorted(signer.chain_ders()):
        return False, "the signer chain changed"
    if not got.valid:
        return False, f"the existing signature is invalid ({got.problem})"
    if got.digest != "sha256":
        return False, f"the existing signature uses {got.digest}"
    return True, None
