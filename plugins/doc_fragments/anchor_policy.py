# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The trust-anchor policy options of trust_anchor and win_trust_anchor (findings ANCHOR-NNN)."""

    DOCUMENTATION = r"""
options:
  allow_leaf:
    description:
      - Accept a certificate that is not a CA (no C(basicConstraints CA:TRUE)), typically a
        self-signed Tableau Server certificate. It is then trusted for itself only.
      - Finding C(ANCHOR-001) becomes a warning instead of an error.
    type: bool
    default: false
  allow_expired:
    description:
      - Accept an expired or a not yet valid certificate, for example to stage a CA before its
        validity starts.
      - Findings C(ANCHOR-002) (expired) and C(ANCHOR-003) (not yet valid) become warnings
        instead of errors.
    type: bool
    default: false
  blocklisted_digests:
    description:
      - Signature digests that are refused (finding C(ANCHOR-008), an error), in the spirit of
        Tableau Server's C(blocklisted_digest_algorithms) keys. Names as C(sha1), C(md5),
        C(sha256); case, C(-) and C(_) are ignored, an unknown name fails the task.
      - A self-signed root is exempt and gets finding C(ANCHOR-009) (info) instead, because
        the signature of a trust anchor on itself is never checked when trust is established
        (RFC 5280 section 6.1.1; Microsoft's SHA-1 deprecation also excludes roots).
      - Set to V([]) to accept any digest.
    type: list
    elements: str
    default: [sha1]
  min_rsa_key_size:
    description:
      - Smallest RSA (and DSA) key size in bits that is accepted (finding C(ANCHOR-005), an
        error), the default of Tableau Server's C(min_allowed.rsa_key_size) keys.
      - OpenSSL at its default security level (Debian, RHEL) refuses CA keys under 2048 bits
        anyway. V(0) checks nothing.
    type: int
    default: 2048
  min_ec_key_size:
    description:
      - Smallest elliptic curve size in bits that is accepted (finding C(ANCHOR-006), an error),
        the default of Tableau Server's C(min_allowed.elliptic_curve_size) keys. V(0) checks
        nothing.
    type: int
    default: 256
notes:
  - "The trust-anchor policy findings C(ANCHOR-001) to C(ANCHOR-009) are the same for every
    trust store; see R(the finding catalogue,ansible_collections.trustops.tableau.docsite.catalogue.anchor). C(ANCHOR-004) (an intermediate
    CA) is a warning, C(ANCHOR-007) (an Ed25519/Ed448 key) a warning."
"""
