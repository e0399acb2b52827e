# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Policy options shared by the SAML check modules; defaults are Tableau Server's."""

    DOCUMENTATION = r"""
options:
  blocklisted_digests:
    description:
      - Signature digest algorithms that are refused (V(sha1), V(md5), ...); case, C(-), C(_) and
        spaces are ignored (V(SHA-1) is V(sha1)).
      - An unknown name (a typo such as V(shaone)) fails the task with a message listing the
        known names; it is never dropped, which would switch the check off. The names are read
        by the same policy as M(trustops.tableau.trust_anchor)'s.
      - Mirrors the TSM key C(wgserver.saml.blocklisted_digest_algorithms); Tableau Server's
        default refuses SHA-1. Set the same value here as on the server.
    type: list
    elements: str
    default: [sha1]
  min_rsa_key_size:
    description:
      - Smallest accepted RSA key size in bits, for the SP certificate and the IdP signing
        certificate.
      - Mirrors the TSM key C(wgserver.saml.min_allowed.rsa_key_size) (default 2048). A negative
        size fails the task.
    type: int
    default: 2048
  min_ec_key_size:
    description:
      - Smallest accepted elliptic curve size in bits for the IdP signing certificate
        (M(trustops.tableau.saml_metadata_check) C(SAML-035),
        M(trustops.tableau.saml_response_check) C(SAML-127)).
      - In M(trustops.tableau.saml_keypair_check) an EC SP certificate or key is refused whatever
        its size (C(SAML-007), C(SAML-012)); their messages then also say whether the curve is
        below this size.
      - Mirrors the TSM key C(wgserver.saml.min_allowed.elliptic_curve_size) (default 256).
    type: int
    default: 256
  fail_on:
    description:
      - The task fails when a finding of this severity or worse exists. V(error) fails only on
        error findings, V(warning) also on warnings, V(never) never fails on findings.
      - Findings are always returned in full, whatever this option says.
      - Broken input (an unreadable file, malformed XML, a DOCTYPE) always fails the task.
    type: str
    choices: [error, warning, never]
    default: error
"""
