# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mobile rule registry: :data:`REGISTRY` and the ``MOBILE-NNN`` codes (seed 000).

Seed 000 ("Connecting Tableau Mobile to Tableau Server Using SSL") says that Tableau Mobile
refuses a server whose certificate chains to a CA the device does not trust, and that the way out
is to make the devices trust the internal CA, by hand or through Apple Configurator or an MDM.
Every check of the files this collection makes for that (:mod:`.checks`) is a :class:`Rule` here
with its message and remedy templates and the seed sentence it enforces; the checks make their
findings only through :func:`finding`, so a code's text lives here once and the finding
catalogue is generated from :data:`REGISTRY`.

Whether a CA may become a trust anchor at all is the shared trust-anchor policy
(``anchor_policy``, codes ``ANCHOR-NNN``); ``MOBILE-001`` to ``MOBILE-005`` were its copy and are
retired (docs/mobile.md).  Pure Python, no Ansible imports.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Registry, Rule

#: The mobile rules, ``MOBILE-006`` and up.
REGISTRY = Registry("MOBILE", "Mobile", "seed 000")
RULES = REGISTRY.rules
register = REGISTRY.register
finding = REGISTRY.finding

#: Retired mobile codes -> the trust-anchor codes that report the rule now (docs/mobile.md, "Codes
#: that moved"); the finding catalogue lists them so an old report still finds its code.
RETIRED = {
    "MOBILE-001": ("ANCHOR-001",),
    "MOBILE-002": ("ANCHOR-002",),
    "MOBILE-003": ("ANCHOR-003",),
    "MOBILE-004": ("ANCHOR-008", "ANCHOR-009"),
    "MOBILE-005": ("ANCHOR-005", "ANCHOR-006"),
}

#: Template fields that only choose wording (a variant of a message or remedy); they are not facts
#: and are left out of a finding's ``data`` (:func:`.checks._finding`).
WORDING_FIELDS = frozenset(("outcome", "advice", "key_detail", "ios_note"))

# --------------------------------------------------------------------------- seed 000, verbatim

_S_UNTRUSTED = ("When a server uses an SSL certificate issued by an untrusted CA, Tableau Mobile cannot "
                "verify the certificate, so the app prevents you from connecting to the server.")
_S_INTERNAL_CA = ("Configure your mobile devices to trust that internal Certificate Authority. (This step "
                  "isn't necessary if your IT department manages your mobile devices.)")
_S_MDM = ("Use tools such as the Apple Configurator utility or a Mobile Device Management system to "
          "configure all devices to trust the certificate.")
_S_BY_HAND = ("Ask the Tableau Server administrator to email the certificate as an attachment to mobile "
              "users. Then have the users open the attachment and follow prompts to install it manually.")

# --------------------------------------------------------------------------- wording variants

#: MOBILE-008 without ``include_intermediates``: the intermediate is left out (a warning).
INTERMEDIATE_LEFT_OUT = {
    "outcome": " (not self-signed) and is left out; only root CAs are installed unless "
               "include_intermediates is set",
    "advice": "Give the root CA at the top of the chain, or set include_intermediates to install the "
              "intermediate too; ",
}
#: MOBILE-008 with ``include_intermediates``: the intermediate is installed as a chain certificate (info).
INTERMEDIATE_INSTALLED = {
    "outcome": ": the profile carries it as com.apple.security.pkcs1 (a chain certificate); on Android a "
               "user-installed CA is an anchor whatever its place in the chain",
    "advice": "",
}
#: MOBILE-015's note for RSA/DSA signer keys under 2048 bits.
IOS_RSA_NOTE = "; iOS 13+ and macOS 10.15+ refuse RSA keys shorter than 2048 bits in a TLS chain"

# --------------------------------------------------------------------------- the rules

register(
    # the CAs to distribute
    Rule("MOBILE-006", "warning", "{subject} ({source}) expires in {days_left} days ({not_after})",
         "Plan the CA rotation: profiles and Android files must be redistributed with the new CA",
         seed=_S_UNTRUSTED, title="CA expires soon"),
    Rule("MOBILE-007", "warning", "{subject} ({source}) has no common name (CN); iOS reportedly lists a "
         "root under Certificate Trust Settings only when it has one",
         "Reissue the CA with a CN, or check on a device that it appears under Certificate Trust Settings",
         seed=_S_INTERNAL_CA, title="CA without a common name"),
    Rule("MOBILE-008", "warning", "{subject} ({source}) is an intermediate CA{outcome}",
         "{advice}Tableau Server should still send its intermediates (Android does not fetch them)",
         seed=_S_INTERNAL_CA, title="Intermediate CA given"),
    Rule("MOBILE-009", "info", "{source}: certificate SHA-256 {sha256} was given more than once; it is "
         "installed once", "Nothing to do (the certificate is installed once); give each CA once to drop this note",
         seed="Not a vendor rule: a CA given twice (in src and content, or in two files) is installed "
              "once, so a profile never carries two payloads of one certificate.",
         title="Duplicate CA"),
    # the profile signer
    Rule("MOBILE-010", "error", "signer {subject} is not valid now ({not_before} to {not_after}): iOS "
         "shows the profile as Not Verified", "Sign with a currently valid certificate",
         seed=_S_MDM, title="Signer not valid now"),
    Rule("MOBILE-011", "warning", "signer chain certificate {subject} is not on the signer's path; it is "
         "included in the signature but helps nothing",
         "Give only the intermediates between the signer and its root",
         seed="Not a vendor rule: a signer_chain certificate that is not on the signer's path is carried "
              "in every signature and helps no device build the chain.",
         title="Signer chain certificate off the path"),
    Rule("MOBILE-012", "warning", "signer {subject} chains to {issuer}, a CA this very profile installs: a "
         "manually installed profile shows Not Verified until that CA is trusted (MDM-installed profiles "
         "are not affected)",
         "Sign with an identity from a CA devices already trust (a public CA or your MDM's), or accept Not "
         "Verified for manual installs",
         seed=_S_BY_HAND, title="Signer chains to the CA the profile installs"),
    Rule("MOBILE-013", "info", "signer {subject}: the included chain ends at {chain_top}; devices show "
         "Verified only when they trust its issuer {issuer}",
         "Include every intermediate in signer_chain", seed=_S_MDM, title="Signer chain stops below a root"),
    Rule("MOBILE-014", "error", "signer {subject} is signed with {digest}, which is blocklisted "
         "(blocklisted_digests)", "Use a signing certificate with a SHA-256 signature",
         seed=_S_MDM, title="Signer signed with a blocklisted digest"),
    Rule("MOBILE-015", "error", "signer {subject} has a {key_size}-bit {key_type} key{key_detail}; the "
         "minimum is {minimum} ({option}){ios_note}",
         "Sign with a certificate whose key is RSA of at least {rsa_minimum} bits or EC P-256/P-384",
         seed=_S_MDM, title="Signer key too small"),
    Rule("MOBILE-016", "error", "signer {subject} has a keyUsage without digitalSignature; CMS verifiers "
         "(openssl, iOS) reject signatures made with it",
         "Use a certificate whose keyUsage includes digitalSignature",
         seed=_S_MDM, title="Signer keyUsage without digitalSignature"),
    Rule("MOBILE-017", "warning", "signer {subject} has an extendedKeyUsage without emailProtection or "
         "codeSigning; openssl cms -verify refuses it by default and devices may too",
         "Sign with a certificate for emailProtection or codeSigning",
         seed=_S_MDM, title="Signer extendedKeyUsage not for signing"),
)
