# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What tsm_info reports: the applied authentication state by the option names of the tsm_* modules
(:func:`describe_settings`), configuration keys with secrets masked (:func:`describe_keys`), and the
pending changes and server status (:func:`read_info`, the module's one core call).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import (
    MASK, UNSET, is_encrypted_value, is_secret_key)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.plans import (
    EXTERNAL_SSL_FIELDS, MUTUAL_SSL_FIELDS, SAML_ASSERTIONS, SAML_FIELDS, SAML_KEYS, _true)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.settings import _INT, Settings

#: The configuration keys the tsm_* modules manage; tsm_info always reports them.
MANAGED_KEYS = tuple(SAML_KEYS.values()) + ("wgserver.unrestricted_ticket",)


def _public(kind: str, value: Any) -> Any:
    if kind == "bool":
        return None if value in (UNSET, None) else _true(value)
    if kind == "int":
        return None if value in (UNSET, None, "") else (int(value) if _INT.match(str(value)) else value)
    return None if value is UNSET else value


def _entity(settings: Settings, entity: str, fields: dict, enabled_field: str) -> dict:
    out = {"enabled": _public("bool", settings.field(entity, enabled_field))}
    for option, (field, kind) in fields.items():
        out[option] = _public(kind, settings.field(entity, field))
    return out


def describe_settings(settings: Settings) -> dict:
    """The authentication state by module option names; secrets only as set/not set."""
    saml = _entity(settings, "samlSettings", SAML_FIELDS, "enabled")
    for option, field in SAML_ASSERTIONS.items():
        saml[option] = _public("str", settings.field("samlSettings", field))
    saml_keys: dict[str, Any] = {}
    for option, key in SAML_KEYS.items():
        value = settings.key(key)
        if option == "key_passphrase":
            saml_keys["key_passphrase_set"] = value not in (UNSET, None, "")
        else:
            saml_keys[option] = None if value is UNSET else value
    mutual = _entity(settings, "mutualSSLSettings", MUTUAL_SSL_FIELDS, "clientCertRequired")
    external = _entity(settings, "mutualSSLSettings", EXTERNAL_SSL_FIELDS, "sslEnabled")
    external["passphrase_set"] = settings.field("mutualSSLSettings", "keyPassphrase") not in (UNSET, None, "")
    hosts = settings.field("trustedAuthenticationSettings", "trustedHosts")
    trusted = {"trusted_hosts": None if hosts is UNSET else hosts,
               "token_length": _public("int", settings.field("trustedAuthenticationSettings", "tokenLength")),
               "unrestricted_tickets": _public("bool", settings.key("wgserver.unrestricted_ticket"))}
    return {"saml": saml, "saml_keys": saml_keys, "mutual_ssl": mutual, "external_ssl": external,
            "trusted_auth": trusted}


def describe_keys(settings: Settings, keys: Iterable[str] = ()) -> dict:
    """``keys`` (value or None), ``unknown_keys`` and ``masked_keys`` of the managed keys and ``keys``:
    a secret key (:func:`is_secret_key`) or an encrypted value is shown as ``********`` when set."""
    wanted = list(MANAGED_KEYS) + [k for k in keys if k not in MANAGED_KEYS]
    values: dict[str, Any] = {}
    unknown, masked = [], []
    for key in wanted:
        value = settings.key(key)
        if value is UNSET:
            unknown.append(key)
            values[key] = None
        elif is_secret_key(key) or is_encrypted_value(value):
            values[key] = MASK if value not in (None, "") else value
            masked.append(key)
        else:
            values[key] = value
    return {"keys": values, "unknown_keys": unknown, "masked_keys": masked}


def read_info(client: Any, keys: Iterable[str] = (), pending: bool = True, status: bool = False,
              result: dict | None = None) -> dict:
    """tsm_info: one ``settings export`` (:func:`describe_settings`, :func:`describe_keys`), the pending
    changes (``pending``: one ``pending-changes list``) and the server status (``status``: ``tsm status``).
    Fills ``result`` as it goes (a failed call still returns what was read) and returns it."""
    result = {} if result is None else result
    settings = client.export_settings()
    result.update(describe_settings(settings))
    result.update(describe_keys(settings, keys))
    if pending:
        changes = client.pending()
        result.update(pending=changes.as_list(), restart_required=changes.restart_required)
    if status:
        result["server_status"] = client.status()
    return result
