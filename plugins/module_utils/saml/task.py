# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAML check tasks, whole and without Ansible: options, reading, checking, ending.

``saml_metadata_check`` and ``saml_response_check`` run on the controller (the ``saml`` role
delegates them to localhost).  Each is one option spec here (``METADATA``, ``RESPONSE``: the
keyword arguments of ``AnsibleModule``) and one function from validated parameters to a
:class:`~..findings.Outcome` (:func:`run_metadata`, :func:`run_response`).  Both paths call
them: the module's ``main()`` (on any host) and the collection's action plugin of the same name,
which runs the function in the controller's worker when the module would run there anyway
(``plugins/plugin_utils/in_process.py``).  So a task says the same thing whichever path ran it.

``base_dir``: the directory a relative path option means.  A module runs in the playbook's
directory (Ansible's local connection starts it there); the worker does not, so the action
passes that directory.

Each ``run_*`` imports its check where it runs: the metadata module does not load the response
check (and signxml), nor the other way round.
"""

from __future__ import annotations

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Outcome, TrustopsError, conclude
from ansible_collections.trustops.tableau.plugins.module_utils.saml.rules import (
    POLICY_ARGUMENT_SPEC,
    Policy,
    xml_cap,
)
from ansible_collections.trustops.tableau.plugins.module_utils.xml import HAS_LXML, LXML_IMPORT_ERROR


def _missing(library: str, exception: str | None = None) -> Outcome:
    """The failure of a task whose library is missing: Ansible's own wording, as modules say it."""
    from ansible.module_utils.basic import missing_required_lib  # only on this rare path
    return Outcome.error(missing_required_lib(library), exception)


# --------------------------------------------------------------------------- saml_metadata_check

METADATA = dict(
    argument_spec=dict(
        src=dict(type="path"),
        content=dict(type="str"),
        entity_id=dict(type="str"),
        trusted_signer_src=dict(type="path"),
        trusted_signer_content=dict(type="str"),
        sp_src=dict(type="path"),
        sp_content=dict(type="str"),
        server_host=dict(type="str"),
        scope=dict(type="str", choices=["server", "site"], default="server"),
        site_alias=dict(type="str"),
        acs_url=dict(type="str"),
        slo_url=dict(type="str"),
        return_url=dict(type="str"),
        max_bytes=dict(type="int", default=reader.MAX_XML),
        **POLICY_ARGUMENT_SPEC,
    ),
    mutually_exclusive=[["src", "content"], ["sp_src", "sp_content"],
                        ["trusted_signer_src", "trusted_signer_content"]],
    required_one_of=[["src", "content", "sp_src", "sp_content", "acs_url", "slo_url", "return_url"]],
    required_if=[["scope", "site", ["site_alias"]]],
)


def run_metadata(p: dict, base_dir: str | None = None) -> Outcome:
    """``saml_metadata_check`` on validated parameters ``p``."""
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.metadata import check_configuration
    try:
        policy = Policy.from_params(p)
        cap = xml_cap(p["max_bytes"])
        idp_data, idp_source = reader.read_pair(p, "src", "content", cap, base_dir)
        sp_data, sp_source = reader.read_pair(p, "sp_src", "sp_content", cap, base_dir)
        signer_data, signer_source = reader.read_pair(p, "trusted_signer_src", "trusted_signer_content",
                                                      reader.MAX_CERTIFICATE, base_dir)
    except TrustopsError as exc:
        return Outcome.error(str(exc))
    if (idp_data is not None or sp_data is not None) and not HAS_LXML:
        return _missing("lxml", LXML_IMPORT_ERROR)
    if signer_data is not None and idp_data is None:
        return Outcome.error("a trusted signer verifies the IdP metadata: give src or content too")
    try:
        findings, facts = check_configuration(
            idp_data, idp_source, sp_data, sp_source, signer_data, signer_source, entity_id=p["entity_id"],
            server_host=p["server_host"], scope=p["scope"], site_alias=p["site_alias"], acs_url=p["acs_url"],
            slo_url=p["slo_url"], return_url=p["return_url"], policy=policy, max_bytes=cap)
    except ImportError as exc:
        return _missing(str(exc.name or exc))
    except TrustopsError as exc:
        return Outcome.error(str(exc))
    return conclude(findings, facts, "SAML metadata", p["fail_on"])


# --------------------------------------------------------------------------- saml_response_check

RESPONSE = dict(
    argument_spec=dict(
        src=dict(type="path"),
        content=dict(type="str"),
        idp_metadata_src=dict(type="path"),
        idp_metadata_content=dict(type="str"),
        idp_cert_src=dict(type="path"),
        idp_cert_content=dict(type="str"),
        username_attribute=dict(type="str", default="username"),
        acs_url=dict(type="str"),
        sp_entity_id=dict(type="str"),
        authcontexts=dict(type="list", elements="str"),
        scope=dict(type="str", choices=["server", "site"], default="server"),
        max_bytes=dict(type="int", default=reader.MAX_XML),
        **POLICY_ARGUMENT_SPEC,
    ),
    mutually_exclusive=[["src", "content"], ["idp_metadata_src", "idp_metadata_content"],
                        ["idp_cert_src", "idp_cert_content"]],
    required_one_of=[["src", "content"]],
)


def run_response(p: dict, base_dir: str | None = None) -> Outcome:
    """``saml_response_check`` on validated parameters ``p``."""
    from ansible_collections.trustops.tableau.plugins.module_utils.certs import load_certificates
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.response import HAS_SIGNXML, check_response
    if not HAS_LXML:
        return _missing("lxml", LXML_IMPORT_ERROR)
    if not p["username_attribute"].strip():
        return Outcome.error("username_attribute must not be empty")
    try:
        policy = Policy.from_params(p)
        cap = xml_cap(p["max_bytes"])
        data, source = reader.read_pair(p, "src", "content", cap, base_dir)
        metadata, metadata_source = reader.read_pair(p, "idp_metadata_src", "idp_metadata_content", cap, base_dir)
        cert_data, cert_source = reader.read_pair(p, "idp_cert_src", "idp_cert_content",
                                                  reader.MAX_CERTIFICATE, base_dir)
        idp_certs = load_certificates(cert_data, cert_source) if cert_data is not None else None
        report = check_response(
            data, source, idp_metadata=metadata, idp_certs=idp_certs, username_attribute=p["username_attribute"],
            acs_url=p["acs_url"], sp_entity_id=p["sp_entity_id"], authcontexts=p["authcontexts"],
            scope=p["scope"], policy=policy, max_bytes=cap,
            metadata_source=metadata_source or "<idp metadata>")
    except TrustopsError as exc:
        return Outcome.error(str(exc))
    warnings = []
    if not HAS_SIGNXML and (metadata is not None or cert_data is not None):
        warnings.append("signxml is not installed where the module runs: the signature was not verified")
    return conclude(report.findings, report.as_dict(), "SAML response", p["fail_on"], warnings=warnings)
