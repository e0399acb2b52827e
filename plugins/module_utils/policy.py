# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one key-size and digest policy of the collection.

Tableau Server enforces the same three thresholds wherever it takes a certificate (SAML,
external SSL, mutual SSL, OpenID): ``*.blocklisted_digest_algorithms`` (default SHA-1),
``*.min_allowed.rsa_key_size`` (default 2048) and ``*.min_allowed.elliptic_curve_size``
(default 256).  Every module that has a policy takes them under ONE set of option names,
documented once in the doc fragment ``trustops.tableau.policy``:

``blocklisted_digests``  list of digest names (``sha1``, ``SHA-256``, ... ; an unknown name fails)
``min_rsa_key_size``     bits (RSA and DSA); 0 checks nothing
``min_ec_key_size``      bits (the curve size); 0 checks nothing

and reads them through :class:`Policy`, whose methods are the rules:
:meth:`Policy.digest_blocked` ("is this signature digest refused") and :meth:`Policy.key_verdict`
("is this public key too small, or of a type the policy cannot size").  The findings each area
reports (ANCHOR-005, SAML-005, TLS-011, ...) are the area's words for these verdicts.

Pure Python, no Ansible imports.  Broken options raise :class:`PolicyError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

#: The defaults of Tableau Server's own certificate keys.
DEFAULT_BLOCKLISTED_DIGESTS = ("sha1",)
DEFAULT_MIN_RSA_KEY_SIZE = 2048
DEFAULT_MIN_EC_KEY_SIZE = 256

#: Digest names as :func:`normalize_digest` spells them (cryptography's names without '-').
KNOWN_DIGESTS = frozenset((
    "md2", "md4", "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512224", "sha512256",
    "sha3224", "sha3256", "sha3384", "sha3512", "shake128", "shake256", "blake2b", "blake2s", "sm3",
    "ripemd160"))

#: Key types whose size the policy checks, and the option that bounds each.
SIZED_KEY_TYPES = {"RSA": "min_rsa_key_size", "DSA": "min_rsa_key_size", "EC": "min_ec_key_size"}
#: Key types with a fixed strength: nothing to size (their own findings, if any, are the caller's).
FIXED_KEY_TYPES = frozenset(("Ed25519", "Ed448"))

#: Option names of earlier releases, kept as documented aliases for one release (tsm_saml).
ALIASES = {
    "blocklisted_digests": ["blocklisted_digest_algorithms"],
    "min_ec_key_size": ["min_ec_size"],
}


class PolicyError(TrustopsError):
    """A policy option that cannot mean anything (an unknown digest, a negative size)."""


def normalize_digest(name: object) -> str:
    """``SHA-1``, ``sha_256``, `` SHA256 `` -> ``sha1``, ``sha256``: case, '-', '_' and spaces ignored."""
    return "".join(str(name).split()).lower().replace("-", "").replace("_", "")


_DIGEST_RE = re.compile(r"sha3[-_]?(?:224|256|384|512)|sha[-_]?(?:224|256|384|512|1)|md5|ripemd160")


def digest_of_algorithm(name: object) -> str:
    """The digest of a name or an algorithm identifier/URI, normalised: ``RSA-SHA1``,
    ``http://www.w3.org/2000/09/xmldsig#rsa-sha1`` and ``sha1WithRSAEncryption`` give ``sha1``;
    ``...xmldsig-more#ecdsa-sha256`` gives ``sha256``; a plain name is normalised as it is."""
    text = str(name).strip().lower()
    match = _DIGEST_RE.search(text)
    if match:
        text = match.group(0)
    return normalize_digest(text)


def blocklist(names: str | bytes | Iterable[Any] | None, option: str = "blocklisted_digests") -> frozenset[str]:
    """The frozenset of normalised digest names; an unknown name raises PolicyError.

    An unknown name is refused rather than ignored: a typo (``shaa1``) would otherwise switch
    the check off without a word.
    """
    if names is None:
        return frozenset()
    if isinstance(names, (str, bytes)):
        names = [names]
    blocked = set()
    for name in names:
        digest = normalize_digest(name)
        if digest not in KNOWN_DIGESTS:
            raise PolicyError("{}: unknown digest {!r} (known: {})".format(option, name, ", ".join(sorted(KNOWN_DIGESTS))))
        blocked.add(digest)
    return frozenset(blocked)


def size_option(name: str, value: Any) -> int:
    """A key-size option as an int of bits, 0 or more; anything else raises PolicyError."""
    if isinstance(value, bool):
        raise PolicyError(f"{name}: {value!r} is not a number of bits")
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise PolicyError(f"{name}: {value!r} is not a number of bits")
    if size < 0:
        raise PolicyError(f"{name}: {size} is negative; give a number of bits (0 checks nothing)")
    return size


class KeyVerdict:
    """What the policy says of a public key: ``ok``, ``too_small`` (with ``minimum`` and the
    ``option`` that sets it) or ``unsized`` (a key type the policy has no size rule for)."""

    __slots__ = ("status", "key_type", "key_size", "minimum", "option")

    def __init__(self, status: str, key_type: str | None, key_size: int | None, minimum: int | None = None,
                 option: str | None = None) -> None:
        self.status, self.key_type, self.key_size = status, key_type, key_size
        self.minimum, self.option = minimum, option

    @property
    def too_small(self) -> bool:
        return self.status == "too_small"

    def __repr__(self) -> str:
        return f"KeyVerdict({self.status}, {self.key_type}, {self.key_size}, minimum={self.minimum})"


class Policy:
    """The thresholds Tableau Server enforces, with the vendor defaults (the TSM keys)."""

    __slots__ = ("blocklisted_digests", "min_rsa_key_size", "min_ec_key_size")

    def __init__(self, blocklisted_digests: str | Iterable[Any] | None = DEFAULT_BLOCKLISTED_DIGESTS,
                 min_rsa_key_size: Any = DEFAULT_MIN_RSA_KEY_SIZE, min_ec_key_size: Any = DEFAULT_MIN_EC_KEY_SIZE) -> None:
        self.blocklisted_digests = tuple(sorted(blocklist(blocklisted_digests)))
        self.min_rsa_key_size = size_option("min_rsa_key_size", min_rsa_key_size)
        self.min_ec_key_size = size_option("min_ec_key_size", min_ec_key_size)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Policy:
        """The policy of validated module parameters; a missing or None option takes its default."""
        def get(name: str, default: Any) -> Any:
            value = params.get(name)
            return default if value is None else value
        return cls(get("blocklisted_digests", DEFAULT_BLOCKLISTED_DIGESTS),
                   get("min_rsa_key_size", DEFAULT_MIN_RSA_KEY_SIZE),
                   get("min_ec_key_size", DEFAULT_MIN_EC_KEY_SIZE))

    def as_dict(self) -> dict[str, Any]:
        return {"blocklisted_digests": list(self.blocklisted_digests), "min_rsa_key_size": self.min_rsa_key_size,
                "min_ec_key_size": self.min_ec_key_size}

    # --- the rules
    def digest_blocked(self, name: str | None) -> bool:
        """True when the digest of ``name`` (a digest name or a signature algorithm) is blocklisted."""
        return name is not None and digest_of_algorithm(name) in self.blocklisted_digests

    def minimum_for(self, key_type: str | None) -> tuple[int | None, str | None]:
        """``(minimum bits, option name)`` for a sized key type, else ``(None, None)``."""
        option = SIZED_KEY_TYPES.get(key_type or "")
        if option is None:
            return None, None
        return getattr(self, option), option

    def key_verdict(self, key_type: str | None, key_size: int | None) -> KeyVerdict:
        """The one rule "is this public key strong enough": a :class:`KeyVerdict`.

        RSA and DSA are bounded by ``min_rsa_key_size``, EC by ``min_ec_key_size`` (the curve
        size); Ed25519/Ed448 have a fixed strength (``ok``); any other type (X25519, X448, an
        unknown algorithm) is ``unsized``: callers report it rather than pass it in silence.
        """
        if key_type in FIXED_KEY_TYPES:
            return KeyVerdict("ok", key_type, key_size)
        minimum, option = self.minimum_for(key_type)
        if option is None or minimum is None or key_size is None:
            return KeyVerdict("unsized", key_type, key_size)
        if key_size < minimum:
            return KeyVerdict("too_small", key_type, key_size, minimum, option)
        return KeyVerdict("ok", key_type, key_size, minimum, option)


def argument_spec(aliases: bool = False) -> dict[str, dict[str, Any]]:
    """The policy options as an argument spec (a fresh dict), matching doc fragment trustops.tableau.policy.

    ``aliases=True`` adds the option names of earlier releases (:data:`ALIASES`), for the modules
    that had them.  The size options say ``no_log=False``: they hold bits, not secrets (Ansible
    warns about any option whose name contains ``key`` unless it is told).
    """
    spec: dict[str, dict[str, Any]] = {
        "blocklisted_digests": {"type": "list", "elements": "str", "default": list(DEFAULT_BLOCKLISTED_DIGESTS)},
        "min_rsa_key_size": {"type": "int", "default": DEFAULT_MIN_RSA_KEY_SIZE, "no_log": False},
        "min_ec_key_size": {"type": "int", "default": DEFAULT_MIN_EC_KEY_SIZE, "no_log": False},
    }
    if aliases:
        for name, old in ALIASES.items():
            spec[name]["aliases"] = list(old)
    return spec
