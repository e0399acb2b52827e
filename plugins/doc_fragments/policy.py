# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The one key-size and digest policy (plugins/module_utils/policy.py), for every module that has one."""

    DOCUMENTATION = r"""
options:
  blocklisted_digests:
    description:
      - Signature digest algorithms that are refused (V(sha1), V(md5), ...); case, C(-), C(_) and
        spaces are ignored (V(SHA-1) is V(sha1)).
      - An unknown name (a typo such as V(shaone)) fails the task with a message listing the known
        names; it is never dropped, which would switch the check off.
      - Mirrors Tableau Server's C(*.blocklisted_digest_algorithms) keys (for SAML
        C(wgserver.saml.blocklisted_digest_algorithms)), whose default refuses SHA-1. Set the same
        value here as on the server. V([]) accepts any digest.
    type: list
    elements: str
    default: [sha1]
  min_rsa_key_size:
    description:
      - Smallest accepted RSA (and DSA) key size in bits.
      - Mirrors Tableau Server's C(*.min_allowed.rsa_key_size) keys (default 2048). V(0) checks
        nothing; a negative size fails the task.
    type: int
    default: 2048
  min_ec_key_size:
    description:
      - Smallest accepted elliptic curve size in bits.
      - Mirrors Tableau Server's C(*.min_allowed.elliptic_curve_size) keys (default 256). V(0)
        checks nothing; a negative size fails the task.
    type: int
    default: 256
notes:
  - "The policy options have the same names, defaults and meaning in every module of the collection;
    the finding each module reports for them is listed in the module's own documentation."
"""
