# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM client over the TSM API (``transport: api``): :class:`ApiClient` implements
:class:`~.client.TsmClient` with HTTPS requests (:class:`~.transport.ApiTransport`), so every plan,
finding and idempotence rule is the CLI's.

* Signs in once per module run (``POST /login``, the password only in that request's body), keeps the
  session cookie, signs out at the end.
* Reads the applied configuration in one request (the ``settings export`` document) and the pending
  changes in another; stages keys and entities with one request per step (``requestedChanges``, the
  ``settings import`` document); applies with ``pendingChanges/apply`` and follows the async job it
  returns to its end, within ``request_timeout``, failing with the job's status message and failed step.
* Files (certificates, keys, IdP metadata, CA, CRL) are read on the host the module runs on, checked
  there by the same cores as for the CLI, and uploaded under a name made from their content
  (``trustops-<24 hex>-<name>``), so a file compares with the one the server has by that name: the
  server's files cannot be read from here.

Every endpoint is in :data:`ENDPOINTS`; docs/tsm.md says which come from the vendor's pages and which
are unconfirmed (the simulator's choice, tests/support/tsm_sim/api.py).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.client import TsmClient
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import Call, TsmError, _tail
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.inputs import FILE_CAPS, file_digest
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.plans import (
    EXTERNAL_SSL_FIELDS, MUTUAL_SSL_FIELDS, SAML_ASSERTIONS, SAML_FIELDS)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.settings import (
    Change, Pending, Settings, tsm_text)
from ansible_collections.trustops.tableau.plugins.module_utils.tsm.transport import ApiTransport

#: operation -> (HTTP method, endpoint under /api/<version>). Confirmed by the vendor's pages: login
#: (authentication.htm, index.htm) and asyncJobs (tsm-reference.htm); logout and status from the
#: project's notes; the others are the simulator's choice (docs/tsm.md, "The TSM API").
ENDPOINTS = {
    "login": ("POST", "/login"),
    "logout": ("POST", "/logout"),
    "status": ("GET", "/status"),
    "read": ("GET", "/configurations/current"),
    "stage": ("PATCH", "/configurations/requestedChanges"),
    "pending": ("GET", "/pendingChanges"),
    "discard": ("DELETE", "/pendingChanges"),
    "apply": ("POST", "/pendingChanges/apply"),
    "job": ("GET", "/asyncJobs/{job}"),
    "upload": ("POST", "/fileUploads"),
}
#: The ``_type`` of each configuration entity (entity_saml.htm, entity_mutual_ssl.htm, entity_trusted_auth.htm).
ENTITY_TYPES = {"samlSettings": "samlSettingsType", "mutualSSLSettings": "mutualSSLSettingsType",
                "trustedAuthenticationSettings": "trustedAuthenticationSettingsType"}
#: Async job states (tsm-reference.htm: Succeeded, Failed, Created, Running); Cancelled: a cancelled job.
JOB_SUCCEEDED = ("Succeeded",)
JOB_FAILED = ("Failed", "Cancelled")
_TAG = re.compile(r"(?:^|[-_.])trustops-([0-9a-f]{24})-")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class ApiCall(Call):
    """One HTTP request: ``METHOD /api/<version>/<endpoint>?query`` (never a body), status in ``stdout``."""

    __slots__ = ()

    @property
    def command(self) -> str:
        return " ".join(self.argv)


def content_tag(path: str, kind: str) -> str | None:
    """24 hex of the SHA-256 of a local file's fingerprint (:func:`~.inputs.file_digest`: certificates by
    their SHA-256 fingerprints, other files by their bytes), or None when it cannot be read."""
    digest = file_digest(path, kind)
    return None if digest is None else hashlib.sha256(digest.encode("ascii")).hexdigest()[:24]


def read_local(path: str, kind: str = "bytes") -> str | None:
    """What a file the module was given compares by (the content tag its upload is named after)."""
    tag = content_tag(path, kind)
    return None if tag is None else f"trustops:{tag}"


def read_server(path: Any, kind: str = "bytes") -> str | None:  # pylint: disable=unused-argument
    """What a file the server has compares by: the content tag in the name it was uploaded under (TSM may
    put its own prefix before it), or None (a file not uploaded by this collection differs until the next
    run uploads it)."""
    name = re.split(r"[/\\]", str(path or ""))[-1]  # a Windows server records C:\ paths
    match = _TAG.search(name)
    return f"trustops:{match.group(1)}" if match else None


class ApiClient(TsmClient):
    """TsmClient over the TSM API."""

    transport = "api"

    def __init__(self, api: ApiTransport, username: str, password: str) -> None:
        TsmClient.__init__(self)
        self.api = api
        self.username = username
        self.password = password
        self.session = False
        self.warnings: list[str] = []
        if not api.validate_certs:
            self.warnings.append(
                f"validate_certs is false: the certificate of the TSM API at {api.origin} is not verified, so "
                "anyone on the network path can pose as the server and read the TSM password; give ca_path "
                "(TSM's self-signed certificate, or the CA that issued it) instead")
        self.read_local = read_local  # type: ignore[method-assign]  # files are read where the module runs
        self.read_server = read_server  # type: ignore[method-assign]

    # ---- requests
    def call(self, op: str, writes: bool = False, query: Mapping[str, str] | None = None, body: Any = None,
             data: bytes | None = None, content_type: str | None = None, expect: Iterable[int] = (200, 204),
             check: bool = True, timeout: int | None = None, **path_args: Any) -> tuple[ApiCall, Any]:
        """One request (signing in first when needed; once more if the session ended); returns the recorded
        call and the JSON answer (None when empty). Raises TsmError on an unexpected status when ``check``."""
        if op not in ("login", "logout") and not self.session:
            self.login()
        method, path = ENDPOINTS[op]
        path = path.format(**path_args)
        send = dict(query=query, body=body, data=data, content_type=content_type, timeout=timeout)
        status, _headers, payload, seconds = self.api.request(method, path, **send)
        if status == 401 and op not in ("login", "logout") and self.session:
            self.record(method, path, query, status, payload, seconds, writes, ok=False)
            self.session = False
            self.login()
            status, _headers, payload, seconds = self.api.request(method, path, **send)
        ok = status in tuple(expect)
        call = self.record(method, path, query, status, payload, seconds, writes, ok)
        answer = None
        if payload:
            try:
                answer = json.loads(payload.decode("utf-8"))
            except ValueError:
                if ok and check:
                    raise TsmError(f"{call.command} answered HTTP {status} with a body that is not JSON: "
                                   f"{_tail(payload.decode('utf-8', 'replace'), 300)!r}", command=call.command, rc=status)
        if check and not ok:
            raise TsmError(f"{call.command} failed (HTTP {status}): {_message(answer, payload)}", command=call.command,
                           rc=status, stdout=payload.decode("utf-8", "replace"))
        return call, answer

    def record(self, method: str, path: str, query: Mapping[str, str] | None, status: int, payload: bytes,
               seconds: float, writes: bool, ok: bool) -> ApiCall:
        call = ApiCall([method, self.api.shown(path, query)], 0 if ok else status,
                       f"HTTP {status}", "" if ok else _tail(payload.decode("utf-8", "replace"), 1500), seconds, writes)
        self.calls.append(call)
        return call

    # ---- session
    def login(self) -> None:
        """``POST /login`` with ``{"authentication": {"name", "password"}}``: the one request that carries the
        password (in its body), once per module run."""
        call, answer = self.call("login", body={"authentication": {"name": self.username, "password": self.password}},
                                 check=False)
        if call.rc != 0:
            raise TsmError(f"signing in to the TSM API as {self.username} failed ({call.stdout}): {_message(answer)}; "
                           "check username and password: an account on the Tableau Server computer (Linux: in the "
                           "tsmadmin group; Windows: a local administrator), not a Tableau Server user",
                           command=call.command, rc=None)
        if not self.api.cookies:
            raise TsmError(f"{call.command} succeeded but set no session cookie; cannot keep a TSM session",
                           command=call.command)
        self.session = True

    def logout(self) -> None:
        """End the session (best effort: a failure is recorded, not raised)."""
        if self.session:
            self.session = False
            try:
                self.call("logout", check=False)
            except TsmError:
                pass
            self.api.cookies.clear()

    # ---- read
    def version(self) -> str:
        raise TsmError("the TSM version is not read through the TSM API by this collection")

    def status(self) -> str:
        call, answer = self.call("status")
        try:
            return str(answer["clusterStatus"]["rollupStatus"]).lower()
        except (KeyError, TypeError):
            raise TsmError(f"{call.command}: cannot read clusterStatus.rollupStatus from {_tail(json.dumps(answer), 300)}",
                           command=call.command)

    def get(self, key: str) -> Any:
        return self.export_settings().key(key)

    def export_settings(self) -> Settings:
        call, answer = self.call("read")
        if not isinstance(answer, dict):
            raise TsmError(f"{call.command} did not answer with the configuration (a JSON object)", command=call.command)
        return Settings(answer)

    def pending(self) -> Pending:
        call, answer = self.call("pending")
        body = answer.get("pendingChanges") if isinstance(answer, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("changes", []), list):
            raise TsmError(f"{call.command}: cannot read the pending changes from {_tail(json.dumps(answer), 300)}",
                           command=call.command)
        changes = []
        for item in body.get("changes", []):
            changes.append(Change(str(item.get("section") or "configKeys"), str(item["name"]), _text(item.get("value")),
                                  bool(item.get("restartRequired", True))))
        restart = body.get("restartRequired")
        restart = any(c.restart for c in changes) if restart is None else bool(restart) and bool(changes)
        return Pending(changes, restart, json.dumps(answer, sort_keys=True))

    # ---- write
    def stage(self, config_keys: Mapping[str, Any] | None = None, entities: Mapping[str, Any] | None = None,
              force_keys: bool = False) -> Call | None:
        """One ``requestedChanges`` request: keys (as TSM stores them: text) and entity fields."""
        doc: dict[str, Any] = {}
        if config_keys:
            doc["configKeys"] = dict((k, tsm_text(v)) for k, v in config_keys.items())
        if entities:
            doc["configEntities"] = dict((name, dict({"_type": ENTITY_TYPES[name]}, **fields))
                                         for name, fields in entities.items())
        if not doc:
            return None
        return self.call("stage", writes=True, body=doc, query={"forceKeys": "true"} if force_keys else None)[0]

    def set_key(self, key: str, value: Any, force: bool = False, secret: bool = False) -> Call | None:
        return self.stage(config_keys={key: value}, force_keys=force)

    def import_settings(self, config_keys: Mapping[str, Any] | None = None, entities: Mapping[str, Any] | None = None,
                        force_keys: bool = False, secret_keys: Iterable[str] = ()) -> Call | None:
        bare = None
        if entities:
            bare = dict((name, dict((k, v) for k, v in body.items() if k != "_type")) for name, body in entities.items())
        return self.stage(config_keys=config_keys, entities=bare, force_keys=force_keys)

    def apply(self, ignore_warnings: bool = False, ignore_prompt: bool = True) -> Call:
        """``pendingChanges/apply``, then the async job it returns, followed to its end (the API asks no
        question, so ``ignore_prompt`` has nothing to do)."""
        query = {"ignoreWarnings": "true" if ignore_warnings else "false",
                 "deploymentsTimeoutSeconds": str(self.api.timeout)}
        call, answer = self.call("apply", writes=True, query=query, expect=(200, 202, 204))
        job = answer.get("asyncJob") if isinstance(answer, dict) else None
        if job:
            self.follow(job, call)
        return call

    def follow(self, job: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
        """Poll ``asyncJobs/<id>`` until the job Succeeded (returned), Failed or was Cancelled (TsmError with its
        status message and failed step), or ``request_timeout`` passed (TsmError: TSM may still finish it)."""
        started = time.time()
        pause = 0.1
        while True:
            status = job.get("status")
            if status in JOB_SUCCEEDED:
                return job
            if status in JOB_FAILED:
                step = _step(job, failed=True)
                raise TsmError("TSM job {} ({}) {} at step {}: {} The pending changes stay pending unless TSM says "
                               "otherwise: see trustops.tableau.tsm_info, then run the task again.".format(
                                   job.get("id"), job.get("jobType"), status.lower(), step or "(none reported)",
                                   _sentence(job.get("statusMessage") or "no status message")),
                               command=call.command, rc=None, stdout=json.dumps(job, sort_keys=True))
            if time.time() - started > self.api.timeout:
                raise TsmError("TSM job {} ({}) did not finish within {} s (request_timeout); it is {} at step {}. TSM "
                               "may still finish it in the background: check {} {}, then run the task again.".format(
                                   job.get("id"), job.get("jobType"), self.api.timeout, status, _step(job) or "(none)",
                                   ENDPOINTS["job"][0], self.api.shown(ENDPOINTS["job"][1].format(job=job.get("id")))),
                               command=call.command, rc=None)
            time.sleep(pause)
            pause = min(pause * 1.5, 5.0)
            _call, answer = self.call("job", job=job.get("id"))
            job = answer.get("asyncJob") if isinstance(answer, dict) else None
            if not isinstance(job, dict):
                raise TsmError(f"{_call.command}: no asyncJob in the answer", command=_call.command)

    def discard(self) -> Call:
        return self.call("discard", writes=True)[0]

    def upload(self, option: str, path: str, kind: str) -> str:
        """Upload a local file under its content name; returns the path the server gives it."""
        tag = content_tag(path, kind)
        if tag is None:
            raise TsmError(f"{option} {path}: no such file or not readable on the host the module runs on")
        data = reader.read_input(path=path, option=option, max_bytes=FILE_CAPS[kind])
        name = "trustops-{}-{}".format(tag, _SAFE.sub("_", os.path.basename(path))[-80:] or "file")
        call, answer = self.call("upload", query={"fileName": name}, data=data, content_type="application/octet-stream",
                                 expect=(200, 201))
        try:
            return str(answer["fileUpload"]["path"])
        except (KeyError, TypeError):
            raise TsmError(f"{call.command}: the answer names no fileUpload.path", command=call.command)

    def _entity(self, entity: str, fields: Mapping[str, tuple], options: Mapping[str, Any]) -> dict:
        """Entity fields for ``options`` (option -> value) by ``fields`` (option -> (field, kind)); files uploaded."""
        out = {}
        for option, value in options.items():
            field, kind = fields[option]
            if kind in ("cert", "file"):
                value = self.upload(option, value, kind)
            elif kind == "bool":
                value = bool(value)
            elif kind == "int":
                value = int(value)
            out[field] = value
        return out

    def saml_configure(self, options: Mapping[str, Any]) -> Call:
        return self.stage(entities={"samlSettings": self._entity("samlSettings", SAML_FIELDS, options)})

    def saml_map_assertions(self, user_name: str | None = None, domain: str | None = None) -> Call:
        fields = {}
        if user_name is not None:
            fields[SAML_ASSERTIONS["user_name_attribute"]] = user_name
        if domain is not None:
            fields[SAML_ASSERTIONS["domain_attribute"]] = domain
        return self.stage(entities={"samlSettings": fields})

    def saml_enable(self, enabled: bool) -> Call:
        return self.stage(entities={"samlSettings": {"enabled": bool(enabled)}})

    def mutual_ssl_configure(self, options: Mapping[str, Any]) -> Call:
        return self.stage(entities={"mutualSSLSettings": self._entity("mutualSSLSettings", MUTUAL_SSL_FIELDS, options)})

    def mutual_ssl_enable(self, enabled: bool) -> Call:
        return self.stage(entities={"mutualSSLSettings": {"clientCertRequired": bool(enabled)}})

    def trusted_configure(self, hosts: list[str] | None = None, token_length: int | None = None) -> Call:
        fields: dict[str, Any] = {}
        if hosts:
            fields["trustedHosts"] = [str(h) for h in hosts]
        if token_length is not None:
            fields["tokenLength"] = int(token_length)
        return self.stage(entities={"trustedAuthenticationSettings": fields})

    def external_ssl_enable(self, cert_file: str, key_file: str, chain_file: str | None = None,
                            passphrase: str | None = None, protocols: str | None = None) -> Call:
        """One request: the files (uploaded), ``sslEnabled`` and, when given, the passphrase
        (``keyPassphrase``, entity_mutual_ssl.htm: "encrypted at rest") and protocols."""
        options: dict[str, Any] = {"cert_file": cert_file, "key_file": key_file}
        if chain_file:
            options["chain_file"] = chain_file
        if protocols:
            options["protocols"] = protocols
        fields = self._entity("mutualSSLSettings", EXTERNAL_SSL_FIELDS, options)
        fields["sslEnabled"] = True
        if passphrase:
            fields["keyPassphrase"] = str(passphrase)
        return self.stage(entities={"mutualSSLSettings": fields})

    def external_ssl_disable(self) -> Call:
        return self.stage(entities={"mutualSSLSettings": {"sslEnabled": False}})


def _text(value: Any) -> Any:
    """A pending value as the CLI shows it (text), so both transports report the same."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(_text(v)) for v in value)
    return value if isinstance(value, str) else str(value)


def _message(answer: Any, payload: bytes = b"") -> str:
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if answer.get("message"):
            return str(answer["message"])
    text = payload.decode("utf-8", "replace") if payload else ""
    return _tail(text, 500) or "no message"


def _step(job: Mapping[str, Any], failed: bool = False) -> str | None:
    notes = (job.get("detailedProgress") or {}).get("progressNotes") or []
    chosen = [n for n in notes if n.get("status") in JOB_FAILED] if failed else []
    chosen = chosen or notes
    return chosen[-1].get("step") if chosen else None


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else text + "."
