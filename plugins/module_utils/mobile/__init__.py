# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mobile trust artifacts: iOS/iPadOS/macOS configuration profiles and Android CA files.

One layer per module (import the one you need; this package re-exports nothing, so a module's
AnsiballZ payload carries only what it uses).  Pure Python (``plistlib``, ``json``,
``cryptography``), no Ansible imports:

* :mod:`.inputs`: the certificates and texts given (checked, named by the option they came from);
* :mod:`.checks`: the policy findings on the CAs and the signer (``ANCHOR-NNN`` from the shared
  trust-anchor policy, ``MOBILE-NNN`` of their own; key sizes and digests by :class:`policy.Policy`);
* :mod:`.identifiers`: the one derivation of every UUID, GUID and payload identifier;
* :mod:`.apple`: the configuration profile (plist);
* :mod:`.android`: the ONC file and ``network_security_config.xml``;
* :mod:`.signing`: the signing identity and the CMS SignedData it makes;
* :mod:`.cms`: the reader of an existing signed profile (over the one DER reader, :mod:`_asn1`);
* :mod:`.writer`: which artifacts to produce, keep, create or update, and the atomic write;
* :mod:`.diff`: what ``--diff`` shows.

Everything is deterministic: the same certificates and texts give byte-identical unsigned
artifacts.  A signature carries a signing time, so a new signature is never byte-identical to the
old one: :func:`.signing.signed_profile_current` says whether an existing signed profile's content
and signer are still the wanted ones, so a converged run keeps the file untouched.
"""
