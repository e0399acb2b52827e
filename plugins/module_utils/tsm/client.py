# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM client: :class:`TsmClient` is the interface the plans and modules use (read: status,
get, export_settings, pending; write: set_key, import_settings, apply, discard, the
``authentication`` and ``security`` commands); :class:`CliClient` implements it over
:class:`~.transport.CliTransport`, :class:`~.api.ApiClient` over the TSM API. Every call is recorded
(:attr:`TsmClient.calls`) with its command line (or HTTP request line), secrets masked; every failed
call raises :class:`TsmError`. :func:`connect` makes the client of a transport from the connection
options every tsm_* module shares (:data:`CONNECTION_ARGSPEC`).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import (
    DEFAULT_TIMEOUT, UNSET, Call, TsmError, _tail, valid_argument, valid_host, is_secret_key)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.inputs import file_digest
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.settings import (
    Pending, Settings, parse_get, parse_pending, parse_status, tsm_text)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.transport import TRANSPORTS, ApiTransport, CliTransport


# --------------------------------------------------------------------------------- client

class TsmClient:
    """What the modules need from TSM, whatever the transport."""

    transport: str | None = None

    def __init__(self) -> None:
        self.calls: list[Call] = []
        #: what the task should warn about (a connection option that weakens security)
        self.warnings: list[str] = []

    # How a file compares with the server's: read_local(path, kind) for a file the module was given,
    # read_server(path, kind) for the path the server recorded (the plans' ``read``/``read_server``).
    # Over the CLI both are the file's content fingerprint on the node (tsm.inputs.file_digest).
    @staticmethod
    def read_local(path: str, kind: str = "bytes") -> str | None:
        return file_digest(path, kind)

    @staticmethod
    def read_server(path: str, kind: str = "bytes") -> str | None:
        return file_digest(path, kind)

    @property
    def writes(self) -> list[Call]:
        """The calls that changed something: state-changing calls that succeeded."""
        return [c for c in self.calls if c.writes and c.rc == 0]

    # read
    def version(self) -> str:
        raise NotImplementedError

    def status(self) -> str:
        raise NotImplementedError

    def get(self, key: str) -> Any:
        raise NotImplementedError

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        return dict((key, self.get(key)) for key in keys)

    def export_settings(self) -> Settings:
        raise NotImplementedError

    def pending(self) -> Pending:
        raise NotImplementedError

    # write
    def set_key(self, key: str, value: Any, force: bool = False, secret: bool = False) -> Call | None:
        raise NotImplementedError

    def import_settings(self, config_keys: Mapping[str, Any] | None = None, entities: Mapping[str, Any] | None = None,
                        force_keys: bool = False, secret_keys: Iterable[str] = ()) -> Call | None:
        raise NotImplementedError

    def apply(self, ignore_warnings: bool = False, ignore_prompt: bool = True) -> Call:
        raise NotImplementedError

    def discard(self) -> Call:
        raise NotImplementedError

    def saml_configure(self, options: Mapping[str, Any]) -> Call:
        raise NotImplementedError

    def saml_map_assertions(self, user_name: str | None = None, domain: str | None = None) -> Call:
        raise NotImplementedError

    def saml_enable(self, enabled: bool) -> Call:
        raise NotImplementedError

    def mutual_ssl_configure(self, options: Mapping[str, Any]) -> Call:
        raise NotImplementedError

    def mutual_ssl_enable(self, enabled: bool) -> Call:
        raise NotImplementedError

    def trusted_configure(self, hosts: list[str] | None = None, token_length: int | None = None) -> Call:
        raise NotImplementedError

    def external_ssl_enable(self, cert_file: str, key_file: str, chain_file: str | None = None,
                            passphrase: str | None = None, protocols: str | None = None) -> Call:
        raise NotImplementedError

    def external_ssl_disable(self) -> Call:
        raise NotImplementedError


# CLI flags of the configure commands, by option name (long forms, as documented).
SAML_FLAGS = {
    "idp_entity_id": "--idp-entity-id", "return_url": "--idp-return-url", "idp_metadata_file": "--idp-metadata",
    "cert_file": "--cert-file", "key_file": "--key-file", "max_auth_age": "--max-auth-age",
    "desktop_access": "--desktop-access", "mobile_access": "--mobile-access", "signout": "--signout",
    "signout_url": "--signout-url",
}
MUTUAL_SSL_FLAGS = {
    "ca_cert": "--ca-cert", "fallback_to_basic": "--fallback-to-basic", "user_name_mapping": "--user-name-mapping",
    "revocation_file": "--revocation-file",
}
_ENABLE_DISABLE = ("desktop_access", "mobile_access", "signout")


class CliClient(TsmClient):
    """TsmClient over the ``tsm`` executable."""

    transport = "cli"

    def __init__(self, transport: CliTransport) -> None:
        TsmClient.__init__(self)
        self.cli = transport
        self.session = False

    def run(self, args: list, writes: bool = False, check: bool = True, timeout: int | None = None,
            stdin: bytes | None = None) -> Call:
        if self.cli.password and not self.session and args[:1] not in (["login"], ["logout"]):
            self.login()
        shown, rc, out, err, seconds = self.cli.run(args, timeout=timeout, stdin=stdin)
        call = Call(shown, rc, out, err, seconds, writes)
        self.calls.append(call)
        if check and rc != 0:
            raise TsmError("{} failed (exit {}): {}".format(call.command, rc, _tail(err or out) or "no output"),
                           command=call.command, rc=rc, stdout=out, stderr=err)
        return call

    # session
    def login(self) -> None:
        """``tsm login --username U``, the password on the prompt (standard input), once per task."""
        args, stdin = self.cli.login_args()
        self.run(args, stdin=stdin)
        self.session = True

    def logout(self) -> None:
        """End the session this client opened (best effort; a failure is recorded, not raised)."""
        if self.session:
            self.session = False
            self.run(["logout"], check=False)

    # read
    def version(self) -> str:
        return self.run(["version"]).stdout.strip()

    def status(self) -> str:
        return parse_status(self.run(["status"]).stdout)

    def get(self, key: str) -> Any:
        call = self.run(["configuration", "get", "--key", key], check=False)
        value = parse_get(call.stdout, call.stderr, call.rc)
        if value is UNSET:
            return UNSET
        if call.rc != 0:
            raise TsmError(f"{call.command} failed (exit {call.rc}): {_tail(call.stderr or call.stdout)}",
                           command=call.command, rc=call.rc, stdout=call.stdout, stderr=call.stderr)
        return value

    def export_settings(self) -> Settings:
        with self.cli.workdir() as work:
            path = os.path.join(work, "settings.json")
            call = self.run(["settings", "export", "--output-config-file", path])
            try:
                doc = json.loads(reader.read_input(path=path, option="settings export", max_bytes=reader.MAX_TABLE)
                                 .decode("utf-8"))
            except reader.InputError as exc:
                raise TsmError(f"{call.command} succeeded but wrote no usable file ({exc})",
                               command=call.command, rc=call.rc, stdout=call.stdout, stderr=call.stderr)
            except ValueError as exc:
                raise TsmError(f"{call.command} wrote a file that is not JSON ({exc})", command=call.command,
                               rc=call.rc)
        return Settings(doc)

    def pending(self) -> Pending:
        call = self.run(["pending-changes", "list"])
        try:
            return parse_pending(call.stdout)
        except TsmError as exc:
            exc.command = call.command
            raise

    # write
    def set_key(self, key: str, value: Any, force: bool = False, secret: bool = False) -> Call | None:
        """``configuration set``; a secret key goes through ``settings import`` (a 0600 file), never argv."""
        if secret or is_secret_key(key):
            return self.import_settings(config_keys={key: value}, force_keys=force, secret_keys=(key,))
        args = ["configuration", "set", "--key", valid_argument("key", key), "--value",
                valid_argument(key, tsm_text(value))]
        if force:
            args.append("--force-keys")
        return self.run(args, writes=True)

    def import_settings(self, config_keys: Mapping[str, Any] | None = None, entities: Mapping[str, Any] | None = None,
                        force_keys: bool = False, secret_keys: Iterable[str] = ()) -> Call | None:
        doc: dict[str, Any] = {}
        if config_keys:
            doc["configKeys"] = dict((k, tsm_text(v)) for k, v in config_keys.items())
        if entities:
            doc["configEntities"] = entities
        if not doc:
            return None
        with self.cli.workdir() as work:
            path = os.path.join(work, "import.json")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(doc, handle, indent=2, sort_keys=True)
            self.cli.give(path)
            args = ["settings", "import", "--import-config-file", path]
            if force_keys:
                args.append("--force-keys")
            return self.run(args, writes=True)

    def apply(self, ignore_warnings: bool = False, ignore_prompt: bool = True) -> Call:
        args = ["pending-changes", "apply"]
        if ignore_prompt:
            args.append("--ignore-prompt")
        if ignore_warnings:
            args.append("--ignore-warnings")
        args += ["--request-timeout", str(self.cli.timeout)]
        return self.run(args, writes=True, timeout=self.cli.timeout)

    def discard(self) -> Call:
        return self.run(["pending-changes", "discard"], writes=True)

    def saml_configure(self, options: Mapping[str, Any]) -> Call:
        args = ["authentication", "saml", "configure"]
        for name in sorted(options, key=list(SAML_FLAGS).index):
            value = options[name]
            if name in _ENABLE_DISABLE:
                value = "enable" if value else "disable"
            args += [SAML_FLAGS[name], valid_argument(name, value)]
        return self.run(args, writes=True)

    def saml_map_assertions(self, user_name: str | None = None, domain: str | None = None) -> Call:
        args = ["authentication", "saml", "map-assertions"]
        if user_name is not None:
            args += ["--user-name", valid_argument("user_name_attribute", user_name)]
        if domain is not None:
            args += ["--domain", valid_argument("domain_attribute", domain)]
        return self.run(args, writes=True)

    def saml_enable(self, enabled: bool) -> Call:
        return self.run(["authentication", "saml", "enable" if enabled else "disable"], writes=True)

    def mutual_ssl_configure(self, options: Mapping[str, Any]) -> Call:
        args = ["authentication", "mutual-ssl", "configure"]
        for name in sorted(options, key=list(MUTUAL_SSL_FLAGS).index):
            value = options[name]
            if name == "fallback_to_basic":
                value = "true" if value else "false"
            args += [MUTUAL_SSL_FLAGS[name], valid_argument(name, value)]
        return self.run(args, writes=True)

    def mutual_ssl_enable(self, enabled: bool) -> Call:
        return self.run(["authentication", "mutual-ssl", "enable" if enabled else "disable"], writes=True)

    def trusted_configure(self, hosts: list[str] | None = None, token_length: int | None = None) -> Call:
        args = ["authentication", "trusted", "configure"]
        if hosts:
            # the documented form is -th "host1", "host2": one argument per host, comma-terminated
            args.append("--hosts")
            hosts = [valid_host("trusted_hosts", h) for h in hosts]
            args += [f"{h}," for h in hosts[:-1]] + [hosts[-1]]
        if token_length is not None:
            args += ["--token-length", str(token_length)]
        return self.run(args, writes=True)

    def external_ssl_enable(self, cert_file: str, key_file: str, chain_file: str | None = None,
                            passphrase: str | None = None, protocols: str | None = None) -> Call:
        """``security external-ssl enable`` without ``--passphrase``; the passphrase follows in a 0600 import.

        The vendor's entity page (entity_mutual_ssl.htm) documents ``mutualSSLSettings.keyPassphrase``
        ("encrypted at rest"), so the passphrase is staged with ``settings import`` after the enable
        call and never appears on a command line.
        """
        args = ["security", "external-ssl", "enable", "--cert-file", valid_argument("cert_file", cert_file),
                "--key-file", valid_argument("key_file", key_file)]
        if chain_file:
            args += ["--chain-file", valid_argument("chain_file", chain_file)]
        if protocols:
            args += ["--protocols", valid_argument("protocols", protocols)]
        call = self.run(args, writes=True)
        if passphrase:
            self.import_settings(entities={"mutualSSLSettings": {"_type": "mutualSSLSettingsType",
                                                                 "keyPassphrase": str(passphrase)}})
        return call

    def external_ssl_disable(self) -> Call:
        return self.run(["security", "external-ssl", "disable"], writes=True)


def connect(transport: str = "cli", tsm_path: str | None = None, tsm_user: str | None = None,
            username: str | None = None, password: str | None = None, request_timeout: int = DEFAULT_TIMEOUT,
            environ: Mapping[str, str] | None = None, password_on_command_line: bool = False,
            tsm_url: str | None = None, validate_certs: bool = True, ca_path: str | None = None) -> TsmClient:
    """A TsmClient for the transport: ``cli`` (the tsm executable on this host) or ``api`` (the TSM API at
    ``tsm_url``). Options of the other transport are refused rather than ignored."""
    if transport == "cli":
        given = [name for name, value in (("tsm_url", tsm_url), ("ca_path", ca_path)) if value]
        if validate_certs is False:
            given.append("validate_certs")
        if given:
            raise TsmError("{} belong{} to transport api; with transport cli, remove {}".format(
                ", ".join(given), "s" if len(given) == 1 else "", "it" if len(given) == 1 else "them"))
        if password and not username:
            raise TsmError("password is given without username; give both, or neither (tsm_user in the tsmadmin "
                           "group needs no password)")
        return CliClient(CliTransport(tsm_path=tsm_path, tsm_user=tsm_user, username=username, password=password,
                                      timeout=request_timeout, environ=environ,
                                      password_on_command_line=password_on_command_line))
    if transport == "api":
        given = [name for name, value in (("tsm_path", tsm_path), ("tsm_user", tsm_user),
                                          ("password_on_command_line", password_on_command_line)) if value]
        if given:
            raise TsmError("{} belong{} to transport cli (the tsm command on the node); with transport api, remove {}".format(
                ", ".join(given), "s" if len(given) == 1 else "", "it" if len(given) == 1 else "them"))
        if not tsm_url:
            raise TsmError("transport api needs tsm_url, the TSM API of the Tableau Server (https://<server>:8850)")
        if not username or not password:
            raise TsmError("transport api needs username and password: an account on the Tableau Server computer "
                           "(Linux: in the tsmadmin group; Windows: a local administrator)")
        if ca_path and validate_certs is False:
            raise TsmError("ca_path is given but validate_certs is false: give one (ca_path verifies the server "
                           "with that certificate; validate_certs: false verifies nothing)")
        from ansible_collections.trustops.tableau.plugins.module_utils.tsm.api import ApiClient  # pylint: disable=import-outside-toplevel
        return ApiClient(ApiTransport(tsm_url, validate_certs=validate_certs is not False, ca_path=ca_path,
                                      timeout=request_timeout), username=username, password=password)
    raise TsmError("unknown transport {!r} (supported: {})".format(transport, ", ".join(TRANSPORTS)))


# Connection options shared by every tsm_* module (plugins/doc_fragments/tsm.py documents them).
CONNECTION_ARGSPEC: dict[str, dict[str, Any]] = dict(
    transport=dict(type="str", default="cli", choices=list(TRANSPORTS)),
    tsm_path=dict(type="path"),
    tsm_user=dict(type="str"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    password_on_command_line=dict(type="bool", default=False, no_log=False),
    request_timeout=dict(type="int", default=DEFAULT_TIMEOUT),
    tsm_url=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
)


def argument_spec(**options: dict) -> dict:
    """The connection options (:data:`CONNECTION_ARGSPEC`, doc fragment trustops.tableau.tsm) and ``options``."""
    spec = dict((k, dict(v)) for k, v in CONNECTION_ARGSPEC.items())
    spec.update(options)
    return spec


def client_from_params(params: Mapping[str, Any]) -> TsmClient:
    """A client for the connection options of a module's parameters (checked first)."""
    if params.get("request_timeout") is not None and params["request_timeout"] < 1:
        raise TsmError("request_timeout must be at least 1 second")
    if params.get("username") is not None:
        valid_argument("username", params["username"])
    connection: dict[str, Any] = {k: params.get(k) for k in CONNECTION_ARGSPEC}
    return connect(**connection)
