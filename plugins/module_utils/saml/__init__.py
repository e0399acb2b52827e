# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tableau Server's SAML requirements (seed 002) as rules, and the checks that apply them.

One layer per module; import the submodule you need:

``rules``
    :data:`~.rules.REGISTRY` (every ``SAML-NNN`` :class:`~.rules.Rule`; the finding catalogue is
    generated from it), :class:`~.rules.Seed` (the seed 002 sentences, verbatim),
    :func:`~.rules.finding`, the ``SAML-0NN`` rules (``CONFIGURATION_RULES``), ``Policy`` (the
    collection's one key-size/digest policy), ``SamlError``.
``common``
    small helpers shared by the checks (clock, certificate facts).
``sp``
    the SP certificate and key (``SAML-001``...``SAML-019``), the key-table remedies.
``metadata``
    IdP and SP metadata and the metadata signature (``SAML-020``...``SAML-046``, ``SAML-056``,
    ``SAML-057``, ``SAML-059``).
``urls``
    the host, the ACS/logout URLs and the return URL (``SAML-050``...``SAML-058``).
``response``
    SAML Responses and Assertions (``SAML-1NN``, ``RESPONSE_RULES``, registered into the same
    registry when the module is imported).

The entry points every path calls (the check modules and the TSM modules alike), with stable
names and signatures.  Each takes bytes (or text) and a ``source`` label, never a path: callers
read files through ``reader.read_input`` (modules: ``_module.read_input``) and pass the label the
reader returns, so one size cap and one error text hold for every input.

``sp.check_keypair(cert_data, key_data, passphrase=None, scope="server", policy=None,
cert_source="<certificate>", key_source="<key>", cert_filename=None, key_filename=None, now=None,
expiry_warn_days=30) -> (findings, facts)``
    The SP certificate and key against seed 002: one PEM certificate (``SAML-001``..``009``) and
    the key-format support table (``SAML-010``..``019``: ``SAML-014`` a password-protected PKCS#1
    key, ``SAML-016`` a PKCS#8 key with no or an empty password, ``SAML-017`` a password on site
    SAML, ``SAML-018`` a wrong or missing passphrase, ``SAML-019`` key and certificate differ).
    ``cert_filename``/``key_filename``: the file names TSM is given (``.crt``/``.key`` rules).
    ``facts``: ``{"certificate": {...} or None, "key": {...} or None, "scope": scope}``.

``urls.check_return_url(url) -> [findings]``
    The return URL (``tsm authentication saml configure --idp-return-url``): ``SAML-051``
    (trailing slash), ``SAML-052`` (loopback), ``SAML-053`` (not an absolute http(s) URL).

``metadata.check_idp_metadata(data, source="<idp metadata>", policy=None, trusted_signers=None,
entity_id=None, now=None, max_bytes=DEFAULT_MAX_BYTES) -> (findings, facts)``
    IdP metadata (``SAML-020``..``SAML-046``); broken or hostile XML raises ``XmlError``.
    :data:`~.metadata.STRUCTURE_CODES` are the codes that mean "not IdP metadata Tableau Server
    can use at all".

Every ``check_*`` returns its findings, never None: a list (``check_return_url``) or a tuple with
the findings first (``(findings, facts)``; ``check_sp_certificate`` adds the certificate read;
``check_response`` returns a ``ResponseReport`` that unpacks as ``(findings, facts)``).  Findings are
:class:`findings.Finding` objects made only through the registry; input that cannot be checked at
all raises a ``TrustopsError`` subclass (``SamlError``, ``XmlError``, ``PolicyError``).

Pure Python, no Ansible imports.
"""

from __future__ import annotations
