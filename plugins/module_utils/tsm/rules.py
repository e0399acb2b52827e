# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM rule registry: :data:`REGISTRY` and the ``TSM-NNN`` codes.

Each finding a ``tsm_*`` module can report about what it is asked to configure (seeds 002 and 004,
and the seed 000/003 sentences that bear on the server's configuration) is a :class:`Rule` here:
code, severity, message and remedy templates (``str.format`` named fields), the seed sentence it
enforces, or a sentence starting with "Not a vendor rule:" for a code that guards this
collection's own tooling, and a short title.  The plans (:mod:`.plans`) and the input checks
(:mod:`.inputs`) make their findings only through :func:`finding`, so a code's text lives here once
and the finding catalogue is generated from :data:`REGISTRY`.

The SAML files and URL that ``tsm_saml`` stages are judged by the SAML core under the SAML codes;
the codes of earlier releases for those rules are :data:`RETIRED` (``data.alias`` carries the old
code for one release, docs/tsm.md lists them).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, Registry, Rule

#: The TSM rules.
REGISTRY = Registry("TSM", "TSM", "seeds 002 and 004")
RULES = REGISTRY.rules
register = REGISTRY.register


def finding(code: str, severity: Any = None, data: Any = None, **fmt: Any) -> Finding:
    """The Finding of TSM rule ``code`` with its templates filled from ``fmt``."""
    return REGISTRY.finding(code, severity=severity, data=data, **fmt)


#: Retired TSM codes -> the codes of the one core rule that now reports them (the SAML core).
RETIRED = {
    "TSM-002": ("SAML-051",),
    "TSM-003": ("SAML-052", "SAML-053"),
    "TSM-006": ("SAML-019",),
    "TSM-007": ("SAML-014",),
    "TSM-008": ("SAML-018",),
}
#: The same, by the code that now reports the rule: the finding's ``data.alias`` (one release).
ALIASES = {new: old for old, news in RETIRED.items() for new in news}
#: Findings only the configure path can report: it sees the server (TSM-001, TSM-005) and options
#: the check modules do not take (TSM-004).
CONFIGURE_ONLY = ("TSM-001", "TSM-004", "TSM-005")

# --------------------------------------------------------------------------- the seeds, verbatim

_S_MUTUAL_SAML = ("Tableau Server does not support mutual SSL (two-way SSL) and SAML together. If you "
                  "want to use mutual SSL, you can configure it on the IdP.")
_S_IGNORE_DOMAIN = ("Important: We do not recommend ignoring the domain name without taking precautions. "
                    "Specifically, verify that user names are unique across the configured domains that "
                    "you've created in your IdP.")
_S_SAML_NEEDS = "To configure Tableau Server for SAML, you need the following:"
_S_MUTUAL = ("When you use mutual (two-way) SSL authentication, the client presents its certificate to "
             "Tableau Server as part of the authentication process.")
_S_UNRESTRICTED = ("Unrestricted: Redeeming the ticket creates a full session to Tableau Server, and the "
                   "user can see the full Tableau Server UI")
_S_CHAIN = "Install the certificate chain file on the SSL tab in the Configure Tableau Server utility."
_S_SITE_PASSWORD = "Password-protected key files are not supported in site-specific SAML deployments."

# --------------------------------------------------------------------------- wording of TSM-001

#: TSM-001 by what the task would enable: SAML next to mutual SSL (tsm_saml), or the reverse.
EXCLUSIVE = {
    "SAML": {"enabling": "SAML", "other": "mutual SSL", "other_module": "tsm_mutual_ssl"},
    "mutual SSL": {"enabling": "mutual SSL", "other": "SAML", "other_module": "tsm_saml"},
}

register(
    Rule("TSM-001", "error",
         "refusing to enable {enabling}: {other} is enabled (or pending) on this server, and Tableau Server "
         "does not support mutual SSL and SAML together",
         "disable {other} first ({other_module} state: disabled), or configure mutual SSL at the IdP instead "
         "(seed 002)",
         seed=_S_MUTUAL_SAML, title="Mutual SSL and SAML together"),
    Rule("TSM-004", "warning",
         "ignore_domain_in_username: Tableau Server matches the IdP user name without its domain, so "
         "alice@example.com can be signed in as alice@tableau.com when the IdP serves both domains",
         "verify that user names are unique across every domain the IdP serves before ignoring the domain; "
         "the key only works in legacy identity mode or on deployments not migrated to the Identity Service, "
         "and all user names in Tableau Server must then have a domain name (seed 002, saml_requ.htm)",
         seed=_S_IGNORE_DOMAIN, title="SAML user names matched without their domain"),
    Rule("TSM-005", "error",
         "SAML is not configured on the server yet and the first configuration needs {first_time}",
         "give {missing_options}",
         seed=_S_SAML_NEEDS, title="First SAML configuration incomplete"),
    Rule("TSM-010", "error",
         "mutual SSL needs SSL for external traffic, which is not enabled (nor pending)",
         "enable it first with trustops.tableau.tsm_external_ssl",
         seed=_S_MUTUAL, title="Mutual SSL without external SSL"),
    Rule("TSM-011", "error",
         "mutual SSL has no CA certificate configured",
         "give ca_cert",
         seed=_S_MUTUAL, title="Mutual SSL without a client CA"),
    Rule("TSM-012", "warning",
         "fallback_to_basic: users without a client certificate can sign in with a user name and password",
         "leave fallback_to_basic false unless some clients cannot present certificates",
         seed="Not a vendor rule: a caution of this collection. With fallback to basic authentication, mutual "
              "SSL no longer guarantees that every session presented a client certificate.",
         title="Mutual SSL falls back to passwords"),
    Rule("TSM-013", "error",
         "{source}{which} is not issued and signed by the client CA ({client_ca})",
         "give the revocation list that the client CA publishes",
         seed="Not a vendor rule: a revocation list that another CA signed revokes none of the client "
              "certificates, so a revoked certificate would still sign in.",
         title="Revocation list not from the client CA"),
    Rule("TSM-020", "warning",
         "unrestricted trusted tickets start a full Tableau Server session: the user can reach the whole "
         "server UI, not only the embedded views",
         "keep tickets restricted, or block the URI / at the reverse proxy so embedded views work and the UI "
         "does not (seed 003)",
         seed=_S_UNRESTRICTED, title="Unrestricted trusted tickets"),
    Rule("TSM-021", "error",
         "token_length {token_length} is outside 9..255",
         "choose a length from 9 to 255 (default 24)",
         seed="Not a vendor rule: tsm authentication trusted configure takes a token length of 9 to 255 "
              "characters; refused before staging so that the apply does not fail.",
         title="Trusted ticket length out of range"),
    Rule("TSM-030", "warning",
         "no chain_file: clients that do not fetch intermediate certificates (Tableau Mobile on Android) "
         "cannot build the chain to the root",
         "give the intermediate CA certificates as chain_file (PEM, .crt)",
         seed=_S_CHAIN, title="External SSL without a chain file"),
    Rule("TSM-031", "info",
         "{key_file} is passphrase-protected: this key cannot also be used for SAML",
         "use a separate SAML key, or an unencrypted key for both",
         seed=_S_SITE_PASSWORD, title="SSL key protected by a passphrase"),
    Rule("TSM-032", "error",
         "{key_file} does not match the certificate {cert_file}",
         "give the private key of the server certificate",
         seed="Not a vendor rule: a private key that does not belong to the server certificate makes every "
              "TLS handshake fail; refused before staging.",
         title="SSL key does not match the certificate"),
    Rule("TSM-033", "error",
         "{key_file} is encrypted and no passphrase was given",
         "set passphrase",
         seed="Not a vendor rule: TSM cannot read an encrypted private key without its passphrase; refused "
              "before staging.",
         title="Encrypted SSL key without a passphrase"),
    Rule("TSM-034", "error",
         "mutual SSL is enabled: external SSL cannot be disabled under it",
         "disable mutual SSL first (tsm_mutual_ssl state: disabled)",
         seed=_S_MUTUAL, title="External SSL disabled under mutual SSL"),
    Rule("TSM-050", "error",
         "the server has no key {key_names} (tsm configuration get answers Unknown key)",
         "check the spelling and capitalization (keys are case-sensitive); to add a key that was never set, "
         "use force_keys: true",
         seed="Not a vendor rule: tsm settings import --force-keys adds a misspelt key as readily as a new "
              "one, so keys the server does not have are refused unless force_keys is set.",
         title="Unknown configuration key"),
)


def aliased(findings: list[Finding]) -> list[Finding]:
    """``findings`` with ``data.alias`` set to the retired TSM code of each finding that has one."""
    for item in findings:
        if item.code in ALIASES:
            item.data.setdefault("alias", ALIASES[item.code])
    return findings
