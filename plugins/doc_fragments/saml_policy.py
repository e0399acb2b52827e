# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by the SAML check modules (the key/digest policy is trustops.tableau.policy)."""

    DOCUMENTATION = r"""
options:
  fail_on:
    description:
      - The task fails when a finding of this severity or worse exists. V(error) fails only on
        error findings, V(warning) also on warnings, V(never) never fails on findings.
      - Findings are always returned in full, whatever this option says.
      - Broken input (an unreadable file, malformed XML, a DOCTYPE) always fails the task.
    type: str
    choices: [error, warning, never]
    default: error
notes:
  - "Policy options for SAML: C(blocklisted_digests) mirrors C(wgserver.saml.blocklisted_digest_algorithms),
    C(min_rsa_key_size) C(wgserver.saml.min_allowed.rsa_key_size) (SP certificate and IdP signing certificate),
    C(min_ec_key_size) C(wgserver.saml.min_allowed.elliptic_curve_size) (IdP signing certificate:
    M(trustops.tableau.saml_metadata_check) C(SAML-035), M(trustops.tableau.saml_response_check) C(SAML-127)).
    In M(trustops.tableau.saml_keypair_check) an EC SP certificate or key is refused whatever its size
    (C(SAML-007), C(SAML-012)); their messages then also say whether the curve is below C(min_ec_key_size)."
"""
