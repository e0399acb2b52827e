# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM simulator: a test-only stand-in for Tableau Services Manager's ``tsm`` command line.

Tableau Server cannot run here, so this program plays ``tsm`` for the collection's tests, the
molecule scenario ``tsm`` and ``bench/tsm_calls.py``. It is a referee, not a helper: it follows
the vendor's documentation wherever the documentation says something, and it is deliberately
strict where a real server would punish a sloppy caller (re-staging unchanged values creates
pending changes; a pending change that needs a restart restarts the server when applied).

Run it through the wrapper ``tests/support/tsm`` (a ``/bin/sh`` script that starts this file
with ``python3``, or ``$TSM_SIM_PYTHON``). Python standard library only, Python 3.6+.

The same simulated server also speaks the TSM API over HTTPS (``api.py`` next to this file, started
with ``tsm _sim api start``): both work on one state file under one lock, so a change made through
one is seen through the other. ``api.py``'s header lists the vendor pages behind the API and what is
unconfirmed there.

Environment
-----------
``TSM_SIM_HOME``  directory of the simulated server (default ``~/.tsm-sim``). It holds
                  ``state.json`` (the configuration: applied, pending, server status),
                  ``counters.json`` (invocations per command, applies, restarts),
                  ``calls.log`` (one JSON line per invocation: masked argv, user, rc),
                  ``argv.log`` (one JSON line per invocation: the argv exactly as ``ps`` shows it,
                  unmasked on purpose, so tests can prove no secret was on a command line),
                  ``files/`` (copies of the certificate, key, metadata files TSM was given).
``TSM_SIM_FAIL``  failure injection, a comma-separated list of ``COMMAND[:MODE]``. COMMAND is
                  the command path joined with dots (``pending-changes.apply``,
                  ``settings.import``, ``authentication.saml.configure``) or ``*``. MODE is
                  ``exit=N`` (default ``exit=1``: fail before changing anything),
                  ``hang=S`` (sleep S seconds, then carry on: a caller's timeout kills it
                  before it changes anything), or ``timeout`` (TSM's own request timeout:
                  exit 1 with a timeout message, nothing applied). Simulator-only commands
                  (``tsm _sim ...``) are never failed. ``tsm _sim fail SPEC`` writes the same
                  specification to the file ``fail`` of the simulated server, which the CLI and the
                  running API read on every call (``tsm _sim fail`` clears it).

Where each behaviour comes from (help.tableau.com, "tsm" command-line reference pages; the
2020.x-2024.x copies agree on everything used here)
----------------------------------------------------------------------------------------
cli_configuration_tsm.htm
  * ``configuration get -k KEY`` prints the value only. A key the server does not know gets
    an "Unknown key" response (here: ``Unknown key: KEY`` on stderr, exit 1). A key with a
    code-derived default answers "Null" (here: ``null``).
  * ``configuration set -k KEY -v VALUE [-d] [-frc/--force-keys]``: keys are case-sensitive;
    setting a key the configuration does not contain fails with "Unknown key" unless
    ``--force-keys``; ``-d`` resets to the default; without ``-v`` recent versions prompt for
    the value. "Until you [apply], the new value will not be used by Tableau or show in the
    results of a ``tsm configuration get`` command."
  * ``configuration list-dynamic-keys``: keys applied without a restart.
cli_settings_tsm.htm
  * ``settings export -f/--output-config-file FILE``; ``settings import -f/--import-config-file
    FILE [-frc/--force-keys] [--config-only] [--topology-only]``. JSON with ``configKeys`` and
    ``configEntities``; entity options are case-sensitive. SAML certificate/key/IdP metadata
    files and mutual-SSL CA/revocation files are not carried by export/import (the entities
    hold paths; TSM copies the files it is given).
  * The notes file of this project also lists ``-of``; it is accepted as an alias.
cli_pending-changes.htm
  * ``pending-changes list [--config-only|--topology-only]``: changes that need no restart are
    listed as such; if none needs one a message says so; if any needs one, applying the whole
    list restarts the server.
  * ``pending-changes apply [-iw/--ignore-warnings] [--ignore-prompt] [--request-timeout N]``:
    "If the pending changes require a server restart, the pending-changes apply command will
    display a prompt ... This prompt displays even if the server is stopped, but in that case
    there is no restart. You can suppress the prompt using the --ignore-prompt option, but this
    does not change the restart behavior. If the changes do not require a restart, the changes
    are applied without a prompt." Here the prompt reads one line from standard input; end of
    input (a script without a terminal) cancels the apply with exit 1, nothing applied.
  * ``pending-changes discard [--config-only|--topology-only]``.
cli_authentication_tsm.htm, entity_saml.htm, saml_requ.htm (seed 002)
  * ``authentication saml configure -e -r -i -cf -kf -a -d -m -so -su`` (long forms too); the
    first configuration needs entity id, return URL, metadata, certificate and key; later calls
    take any subset. ``saml enable|disable``, ``saml map-assertions --user-name --domain``.
  * The key passphrase is the configuration key ``wgserver.saml.key.passphrase``; secrets are
    stored encrypted (here: exported and read back as ``ENC(...)``, different on every set).
  * "Tableau Server does not support mutual SSL (two-way SSL) and SAML together": here enabling
    one while the other is enabled (applied or pending) fails, and so does an apply that would
    enable both. The exact vendor behaviour is unconfirmed; this is the strict reading.
  * Keys ``wgserver.saml.blocklisted_digest_algorithms`` (default ``SHA1``),
    ``wgserver.saml.min_allowed.rsa_key_size`` (2048), ``...elliptic_curve_size`` (256) exist
    with defaults; ``wgserver.saml.authcontexts`` and
    ``wgserver.ignore_domain_in_username_for_matching`` are not in a fresh configuration (they
    need ``--force-keys`` the first time): the simulator's choice, consistent with the
    "Unknown key" section.
  * The simulator accepts any file content for the SAML key (a public report says TSM accepted
    an unsupported key format): validation is the caller's job.
cli_authentication_tsm.htm, entity_mutual_ssl.htm, ssl_mutual_mapping_username.htm (seed 004)
  * ``authentication mutual-ssl configure -cf/--ca-cert -fb/--fallback-to-basic true|false
    -m/--user-name-mapping upn|ldap|cn -rf/--revocation-file``; ``mutual-ssl enable|disable``;
    "Before you enable mutual SSL, you must enable and configure SSL for external
    communication". The ``mutualSSLSettings`` entity holds both external SSL and mutual SSL
    (``sslEnabled``, ``clientCertRequired``, ``caCertFile``, ``certFileName``, ``keyFileName``,
    ``keyPassphrase``, ``chainFile``, ``revocationFile``, ``fallbackToPassword``, ...).
    ``userNameMapping`` is the simulator's field for ``-m`` (unconfirmed).
cli_authentication_tsm.htm, entity_trusted_auth.htm (seed 003)
  * ``authentication trusted configure -th "host1", "host2" -t N`` (token length 9..255);
    entity ``trustedAuthenticationSettings`` (``trustedHosts`` list, ``tokenLength``); the key
    ``wgserver.unrestricted_ticket`` (default ``false``).
cli_security_tsm.htm
  * ``security external-ssl enable --cert-file --key-file [--chain-file] [--passphrase]
    [--protocols]``, ``external-ssl disable``, ``external-ssl list``. Without ``--passphrase`` the
    enable call leaves ``keyPassphrase`` as it is (unconfirmed: the page does not say).
entity_mutual_ssl.htm
  * ``keyPassphrase``: "Optional. Passphrase for the certificate file. The passphrase you enter
    will be encrypted at rest." Here ``settings import`` of the entity with only ``_type`` and
    ``keyPassphrase`` stages it (stored as ``ENC(...)``); that a partial entity import is accepted
    by a real server is unconfirmed.
cli_login.htm (help.tableau.com/current/server-linux/en-us/cli_login.htm)
  * ``tsm login [global options]``: "-p, --password: Required, along with -u or --username if no
    session is active"; "-u: ... If you do not include this option, the command is run using
    credentials you signed in with" - a session lets later commands run without credentials.
  * Unconfirmed (the page documents only ``-p``): ``tsm login -u USER`` without ``-p`` prompting
    for the password on standard input. The simulator reads one line from standard input then
    (end of input: exit 1, "No password given"), as interactive CLIs do; the session is kept in
    the state file until ``tsm logout``. How long a real session lasts is unconfirmed.
Exit codes: non-zero on any failure (values unconfirmed: 1 for errors, 2 for usage errors).
Unconfirmed wording: the texts printed by ``pending-changes list/apply`` and most messages are
the simulator's own, written to be parseable the way TSM's prose is (see docs/tsm.md).

Which changes need a restart: every entity change (authentication and SSL) and every key not
in ``dynamic_keys`` (``configuration list-dynamic-keys``; version-specific on a real server,
a short simulator list here).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import sys
import tempfile
import time

HOME_ENV = "TSM_SIM_HOME"
FAIL_ENV = "TSM_SIM_FAIL"
MASK = "********"

# Keys a fresh simulated server has (values as `settings export` shows them).
DEFAULT_KEYS = {
    "gateway.public.host": "localhost",
    "gateway.public.port": 80,
    "wgserver.saml.blocklisted_digest_algorithms": "SHA1",
    "wgserver.saml.min_allowed.rsa_key_size": 2048,
    "wgserver.saml.min_allowed.elliptic_curve_size": 256,
    "wgserver.unrestricted_ticket": False,
    "wgserver.session.idle_limit": 240,
    "wgserver.domain.fqdn": None,
}
# Keys applied without a restart (simulator choice; `configuration list-dynamic-keys`).
DYNAMIC_KEYS = ["wgserver.session.idle_limit", "wgserver.unrestricted_ticket"]
SECRET_KEYS = ("wgserver.saml.key.passphrase",)

ENTITY_TYPES = {
    "samlSettings": "samlSettingsType",
    "mutualSSLSettings": "mutualSSLSettingsType",
    "trustedAuthenticationSettings": "trustedAuthenticationSettingsType",
}
DEFAULT_ENTITIES = {
    "samlSettings": {
        "enabled": False, "returnUrl": "", "entityId": "", "certFile": "", "keyFile": "",
        "idpMetadataFile": "", "idpUsernameAttribute": "username", "idpDomainAttribute": "",
        "desktopAccessEnabled": True, "appAccessEnabled": True, "logoutEnabled": True,
        "logoutRedirectUrl": "", "maxAuthenticationAge": 7200,
    },
    "mutualSSLSettings": {
        "sslEnabled": False, "proxyLogin": False, "clientCertRequired": False, "caCertFile": "",
        "certFileName": "", "keyFileName": "", "keyPassphrase": "", "chainFile": "",
        "revocationFile": "", "redirect": True, "fallbackToPassword": False, "protocols": "",
        "cipherSuite": "", "forceHttpsForPublicEmbed": False, "userNameMapping": "upn",
    },
    "trustedAuthenticationSettings": {
        "trustedHosts": [], "tokenLength": 24,
    },
}
SECRET_FIELDS = {("mutualSSLSettings", "keyPassphrase")}
FILE_FIELDS = {
    ("samlSettings", "certFile"), ("samlSettings", "keyFile"), ("samlSettings", "idpMetadataFile"),
    ("mutualSSLSettings", "caCertFile"), ("mutualSSLSettings", "certFileName"),
    ("mutualSSLSettings", "keyFileName"), ("mutualSSLSettings", "chainFile"),
    ("mutualSSLSettings", "revocationFile"),
}
SAML_FIRST_TIME = (("entityId", "--idp-entity-id"), ("returnUrl", "--idp-return-url"),
                   ("idpMetadataFile", "--idp-metadata"), ("certFile", "--cert-file"),
                   ("keyFile", "--key-file"))
# Commands that only read: never counted as writes.
READ_COMMANDS = ("status", "version", "configuration.get", "configuration.list-dynamic-keys",
                 "settings.export", "pending-changes.list", "security.external-ssl.list",
                 "authentication.list")
SECRET_OPTIONS = ("-p", "--password", "--passphrase")


class SimError(Exception):
    """A failed command: message for stderr and the exit code."""

    def __init__(self, message, rc=1):
        Exception.__init__(self, message)
        self.message = message
        self.rc = rc


class UsageError(SimError):
    def __init__(self, message):
        SimError.__init__(self, message, 2)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message}")


# ------------------------------------------------------------------------------ state

def home_dir():
    home = os.environ.get(HOME_ENV) or os.path.join(os.path.expanduser("~"), ".tsm-sim")
    return os.path.abspath(home)


def fresh_state():
    return {
        "format": 1,
        "status": "running",
        "version": "2024.2.0 (simulated)",
        "dynamic_keys": list(DYNAMIC_KEYS),
        "auth": {"require_login": False, "username": None, "password_sha256": None, "session": False},
        "applied": {"configKeys": copy.deepcopy(DEFAULT_KEYS), "configEntities": copy.deepcopy(DEFAULT_ENTITIES)},
        "pending": {"configKeys": {}, "configEntities": {}},
        "job": 0,
        "jobs": {},
        "api_sessions": {},
        "epoch": base64.b16encode(os.urandom(8)).decode("ascii").lower(),  # a new one on every init
    }


def fresh_counters():
    return {"invocations": 0, "commands": {}, "writes": 0, "applies": 0, "restarts": 0, "failures": 0,
            "prompts": 0, "api": fresh_api_counters()}


def fresh_api_counters():
    """The HTTPS API's own counters (``api`` in counters.json): every request, sign-ins and sign-outs,
    reads (configuration, pending changes, status), writes (staging, discard, apply), file uploads,
    applies, job polls and failed requests, and requests per endpoint."""
    return {"requests": 0, "logins": 0, "logouts": 0, "reads": 0, "writes": 0, "uploads": 0, "applies": 0,
            "job_polls": 0, "failures": 0, "endpoints": {}}


def _atomic_write(path, text, mode=0o644):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Store:
    """The simulated server's files; every command runs holding an exclusive lock."""

    def __init__(self, home):
        self.home = home
        self.state_path = os.path.join(home, "state.json")
        self.counters_path = os.path.join(home, "counters.json")
        self.log_path = os.path.join(home, "calls.log")
        self.files_dir = os.path.join(home, "files")
        self._lock = None

    @contextlib.contextmanager
    def locked(self):
        if not os.path.isdir(self.home):
            os.makedirs(self.home, 0o755)
        with open(os.path.join(self.home, ".lock"), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read(self, path, default):
        try:
            with open(path) as handle:
                return json.load(handle)
        except FileNotFoundError:
            return default()
        except ValueError as exc:
            raise SimError(f"simulator state {path} is damaged: {exc}", 70)

    def load(self):
        return self._read(self.state_path, fresh_state)

    def save(self, state):
        _atomic_write(self.state_path, json.dumps(state, indent=2, sort_keys=True) + "\n")

    def counters(self):
        return self._read(self.counters_path, fresh_counters)

    def save_counters(self, counters):
        _atomic_write(self.counters_path, json.dumps(counters, indent=2, sort_keys=True) + "\n")

    def log(self, record):
        with open(self.log_path, "a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    def log_argv(self, argv):
        """The command line exactly as other local users see it in ``ps`` (unmasked, on purpose)."""
        with open(os.path.join(self.home, "argv.log"), "a") as handle:
            handle.write(json.dumps({"argv": list(argv), "pid": os.getpid()}) + "\n")

    def keep_file(self, entity, field, path):
        """Copy a file TSM was given into the store (as the Client File Service would)."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise SimError(f"Cannot read the file '{path}': {exc.strerror or exc}")
        digest = hashlib.sha256(data).hexdigest()
        directory = os.path.join(self.files_dir, entity)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        target = os.path.join(directory, f"{field}-{digest[:16]}-{os.path.basename(path)}")
        if not os.path.exists(target):
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o600)
            os.rename(tmp, target)
        return target


def encrypt(value):
    """An opaque token for a secret: like TSM, never the same twice, never the value."""
    salt = os.urandom(8)
    digest = hashlib.sha256(salt + str(value).encode("utf-8")).digest()
    return "ENC({})".format(base64.b64encode(salt + digest[:16]).decode("ascii"))


def render(value):
    """A value as `configuration get` prints it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(render(v) for v in value)
    return str(value)


def _user():
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def mask_argv(argv):
    out = []
    hide = False
    secret_key = False
    for arg in argv:
        if hide:
            out.append(MASK)
            hide = False
            continue
        if arg in SECRET_OPTIONS or (secret_key and arg in ("-v", "--value")):
            hide = True
        elif arg.startswith("--password=") or arg.startswith("--passphrase="):
            arg = arg.split("=", 1)[0] + "=" + MASK
        if arg in SECRET_KEYS:
            secret_key = True
        out.append(arg)
    return out


# --------------------------------------------------------------------------- the server

class Server:
    """Commands on a loaded state. Methods return stdout text or raise SimError."""

    def __init__(self, store, state, out, stdin):
        self.store = store
        self.state = state
        self.out = out
        self.stdin = stdin
        self.changed = False

    # ---- views
    def applied_keys(self):
        return self.state["applied"]["configKeys"]

    def pending_keys(self):
        return self.state["pending"]["configKeys"]

    def entity(self, name, pending=True):
        merged = copy.deepcopy(self.state["applied"]["configEntities"].get(name, {}))
        if pending:
            merged.update(self.state["pending"]["configEntities"].get(name, {}))
        return merged

    def key_known(self, key):
        return key in self.applied_keys() or key in self.pending_keys()

    def stage_key(self, key, value):
        if key in SECRET_KEYS and value not in (None, ""):
            value = encrypt(value)
        self.pending_keys()[key] = value
        self.changed = True

    def stage_fields(self, entity, fields):
        pending = self.state["pending"]["configEntities"].setdefault(entity, {})
        for field, value in fields.items():
            if (entity, field) in SECRET_FIELDS and value not in (None, ""):
                value = encrypt(value)
            pending[field] = value
        self.changed = True

    def has_pending(self):
        return bool(self.pending_keys()) or any(self.state["pending"]["configEntities"].values())

    def pending_items(self):
        """[(section, name, value, needs_restart)] in a stable order."""
        items = []
        dynamic = set(self.state.get("dynamic_keys", DYNAMIC_KEYS))
        for key in sorted(self.pending_keys()):
            value = self.pending_keys()[key]
            items.append(("configKeys", key, value, key not in dynamic))
        for name in sorted(self.state["pending"]["configEntities"]):
            for field, value in sorted(self.state["pending"]["configEntities"][name].items()):
                items.append(("configEntities", f"{name}.{field}", value, True))
        return items

    # ---- configuration
    def configuration_get(self, args):
        keys = self.applied_keys()
        if args.key not in keys:
            raise SimError(f"Unknown key: {args.key}")
        return render(keys[args.key]) + "\n"

    def configuration_set(self, args):
        if args.value is None and not args.default:
            self.out.write(f"Enter a value for {args.key}: ")
            self.out.flush()
            line = self.stdin.readline()
            if not line:
                raise SimError(f"\nNo value was entered for {args.key}.")
            args.value = line.rstrip("\n")
        if not self.key_known(args.key) and not args.force_keys:
            raise SimError(f"Unknown key: {args.key}. Check its spelling and capitalization; to add a key that is not in "
                           "the configuration, use --force-keys.")
        if args.default:
            value = DEFAULT_KEYS.get(args.key)
        else:
            value = args.value
        self.stage_key(args.key, value)
        return (f"Starting update of configuration key {args.key}.\nConfiguration key {args.key} staged. Apply it with "
                "'tsm pending-changes apply'.\n")

    def configuration_list_dynamic_keys(self, _args):
        return "".join(f"{key}\n" for key in sorted(self.state.get("dynamic_keys", DYNAMIC_KEYS)))

    # ---- settings
    def exported(self):
        entities = {}
        for name, fields in self.state["applied"]["configEntities"].items():
            item = {"_type": ENTITY_TYPES[name]}
            item.update(fields)
            entities[name] = item
        return {"configEntities": entities, "configKeys": copy.deepcopy(self.applied_keys())}

    def settings_export(self, args):
        try:
            with open(args.output_config_file, "w") as handle:
                json.dump(self.exported(), handle, indent=2, sort_keys=True)
                handle.write("\n")
        except OSError as exc:
            raise SimError(f"Cannot write the file '{args.output_config_file}': {exc.strerror or exc}")
        return f"Exported the current configuration to {args.output_config_file}\n"

    def settings_import(self, args):
        path = args.import_config_file
        try:
            with open(path) as handle:
                doc = json.load(handle)
        except OSError as exc:
            raise SimError(f"Cannot read the file '{path}': {exc.strerror or exc}")
        except ValueError as exc:
            raise SimError(f"The file '{path}' is not valid JSON: {exc}")
        keys, entities = self.import_doc(doc, args.force_keys, args.config_only, f"The file '{path}'")
        return "Imported %d configuration key(s) and %d entit%s from %s. Apply them with 'tsm pending-changes apply'.\n" % (
            keys, entities, "y" if entities == 1 else "ies", path)

    def import_doc(self, doc, force_keys=False, config_only=False, source="The document"):
        """Stage ``{"configKeys": ..., "configEntities": ...}`` all or nothing (settings import, and the
        API's requestedChanges); returns (number of keys, number of entities). Raises SimError."""
        if not isinstance(doc, dict):
            raise SimError(f"{source} must hold a JSON object with configKeys and/or configEntities")
        unknown_sections = sorted(set(doc) - {"configKeys", "configEntities"})
        if unknown_sections and not config_only:
            raise SimError("{} holds sections the simulator does not support: {} (topology import is "
                           "not simulated; use --config-only)".format(source, ", ".join(unknown_sections)))
        keys = doc.get("configKeys") or {}
        entities = doc.get("configEntities") or {}
        if not isinstance(keys, dict) or not isinstance(entities, dict):
            raise SimError(f"configKeys and configEntities must be JSON objects in {source}")
        unknown = sorted(k for k in keys if not self.key_known(k))
        if unknown and not force_keys:
            raise SimError("Unknown keys: {}. To add keys that are not in the configuration, use --force-keys. "
                           "Nothing was imported.".format(", ".join(unknown)))
        staged_entities = {}
        for name, body in sorted(entities.items()):
            if name not in ENTITY_TYPES:
                raise SimError("Unknown entity '{}' (entities are case-sensitive: {}). Nothing was imported.".format(name, ", ".join(sorted(ENTITY_TYPES))))
            if not isinstance(body, dict):
                raise SimError(f"Entity '{name}' must be a JSON object. Nothing was imported.")
            if body.get("_type") != ENTITY_TYPES[name]:
                raise SimError(f"Entity '{name}' needs \"_type\": \"{ENTITY_TYPES[name]}\". Nothing was imported.")
            fields = dict((k, v) for k, v in body.items() if k != "_type")
            bad = sorted(set(fields) - set(DEFAULT_ENTITIES[name]))
            if bad:
                raise SimError("Unknown option(s) for entity '{}': {} (options are case-sensitive). Nothing was "
                               "imported.".format(name, ", ".join(bad)))
            for field, value in list(fields.items()):
                if (name, field) in FILE_FIELDS and value:
                    fields[field] = self.store.keep_file(name, field, value)
            staged_entities[name] = fields
        self.check_entities(staged_entities)
        if "mutualSSLSettings" in staged_entities and staged_entities["mutualSSLSettings"].get("sslEnabled") is False:
            if self.entity("mutualSSLSettings").get("clientCertRequired") and \
                    staged_entities["mutualSSLSettings"].get("clientCertRequired") is not False:
                raise SimError("Disable mutual SSL before disabling external SSL. Nothing was imported.")
        for key, value in keys.items():
            self.stage_key(key, value)
        for name, fields in staged_entities.items():
            self.stage_fields(name, fields)
        return len(keys), len(staged_entities)

    # ---- pending changes
    def pending_changes_list(self, args):
        if args.topology_only or not self.has_pending():
            return "There are no pending changes.\n"
        lines = ["Pending changes:"]
        items = self.pending_items()
        for section in ("configKeys", "configEntities"):
            chosen = [i for i in items if i[0] == section]
            if not chosen:
                continue
            lines.append(f"  {section}:")
            for _section, name, value, restart in chosen:
                shown = MASK if (name in SECRET_KEYS or tuple(name.split(".", 1)) in SECRET_FIELDS) else render(value)
                lines.append("    {}: {}{}".format(name, shown, "" if restart else " (does not require a restart)"))
        if any(i[3] for i in items):
            lines.append("These pending changes require a server restart.")
        else:
            lines.append("The pending changes do not require a server restart.")
        return "\n".join(lines) + "\n"

    def validate(self):
        """Errors an apply would hit in the merged (applied + pending) configuration."""
        errors = []
        saml = self.entity("samlSettings")
        mssl = self.entity("mutualSSLSettings")
        if saml.get("enabled"):
            missing = [opt for field, opt in SAML_FIRST_TIME if not saml.get(field)]
            if missing:
                errors.append("SAML is enabled but not configured (missing {})".format(", ".join(missing)))
        if saml.get("enabled") and mssl.get("clientCertRequired"):
            errors.append("SAML and mutual SSL cannot be enabled together")
        if mssl.get("clientCertRequired") and not mssl.get("sslEnabled"):
            errors.append("mutual SSL needs external SSL enabled")
        if mssl.get("clientCertRequired") and not mssl.get("caCertFile"):
            errors.append("mutual SSL needs a CA certificate file (--ca-cert)")
        if mssl.get("sslEnabled") and not (mssl.get("certFileName") and mssl.get("keyFileName")):
            errors.append("external SSL needs a certificate and a key file")
        return errors

    def check_entities(self, staged):
        """Refuse an import that enables SAML and mutual SSL together."""
        saml = self.entity("samlSettings")
        saml.update(staged.get("samlSettings", {}))
        mssl = self.entity("mutualSSLSettings")
        mssl.update(staged.get("mutualSSLSettings", {}))
        if saml.get("enabled") and mssl.get("clientCertRequired"):
            raise SimError("SAML and mutual SSL cannot be enabled together. Nothing was imported.")

    def pending_changes_apply(self, args):
        if not self.has_pending():
            return "There are no pending changes to apply.\n"
        errors = self.validate()
        if errors:
            raise SimError("The pending changes cannot be applied: {}. Nothing was applied.".format("; ".join(errors)))
        items = self.pending_items()
        restart = any(i[3] for i in items)
        text = []
        if restart and not args.ignore_prompt:
            counters = self.store.counters()
            counters["prompts"] = counters.get("prompts", 0) + 1
            self.store.save_counters(counters)
            self.out.write("This operation will perform a server restart. Are you sure you wish to continue?\n(y/n): ")
            self.out.flush()
            answer = self.stdin.readline()
            if not answer:
                raise SimError("\nNo answer: end of input while waiting for confirmation. The pending changes were "
                               "not applied (use --ignore-prompt in scripts).")
            if answer.strip().lower() not in ("y", "yes"):
                raise SimError("Cancelled. The pending changes were not applied.")
        self.state["job"] = self.state.get("job", 0) + 1
        text.append("Job id is '%d', timeout is %d minutes." % (self.state["job"], (args.request_timeout or 1800) // 60))
        restarted = self.apply_all()
        if restarted:
            text.append("Stopping Tableau Server...")
            text.append("Starting Tableau Server...")
        text.append("Successfully deployed nodes with updated configuration and topology version.")
        if restart and not restarted:
            text.append("Tableau Server is stopped; no restart was needed.")
        return "\n".join(text) + "\n"

    def needs_restart(self):
        return any(i[3] for i in self.pending_items())

    def apply_all(self):
        """Make the pending changes the applied configuration (as a whole), count the apply and the
        restart; returns whether the server restarted (a change needs it and the server runs)."""
        restart = self.needs_restart()
        for key, value in self.pending_keys().items():
            self.applied_keys()[key] = value
        for name, fields in self.state["pending"]["configEntities"].items():
            self.state["applied"]["configEntities"].setdefault(name, {}).update(fields)
        self.state["pending"] = {"configKeys": {}, "configEntities": {}}
        self.changed = True
        restarted = restart and self.state["status"] == "running"
        counters = self.store.counters()
        counters["applies"] += 1
        if restarted:
            counters["restarts"] += 1
        self.store.save_counters(counters)
        return restarted

    def pending_changes_discard(self, args):
        if args.topology_only or not self.has_pending():
            return "There are no pending changes to discard.\n"
        self.state["pending"] = {"configKeys": {}, "configEntities": {}}
        self.changed = True
        return "Discarded the pending changes.\n"

    # ---- authentication
    def saml_configure(self, args):
        saml = self.entity("samlSettings")
        given = {
            "entityId": args.idp_entity_id, "returnUrl": args.idp_return_url,
            "idpMetadataFile": args.idp_metadata, "certFile": args.cert_file, "keyFile": args.key_file,
        }
        missing = [opt for field, opt in SAML_FIRST_TIME if not saml.get(field) and not given[field]]
        if missing:
            raise SimError("The first SAML configuration needs these options: {}".format(", ".join(missing)))
        fields = {}
        for field, value in given.items():
            if value is None:
                continue
            if (("samlSettings", field) in FILE_FIELDS):
                value = self.store.keep_file("samlSettings", field, value)
            fields[field] = value
        if args.max_auth_age is not None:
            fields["maxAuthenticationAge"] = args.max_auth_age
        for attr, field in (("desktop_access", "desktopAccessEnabled"), ("mobile_access", "appAccessEnabled"),
                            ("signout", "logoutEnabled")):
            value = getattr(args, attr)
            if value is not None:
                fields[field] = value == "enable"
        if args.signout_url is not None:
            fields["logoutRedirectUrl"] = args.signout_url
        if not fields:
            raise SimError("Nothing to configure: give at least one option")
        self.stage_fields("samlSettings", fields)
        return "SAML configuration staged. Apply it with 'tsm pending-changes apply'.\n"

    def saml_enable(self, _args):
        saml = self.entity("samlSettings")
        missing = [opt for field, opt in SAML_FIRST_TIME if not saml.get(field)]
        if missing:
            raise SimError("SAML is not configured; run 'tsm authentication saml configure' first (missing {})".format(", ".join(missing)))
        if self.entity("mutualSSLSettings").get("clientCertRequired"):
            raise SimError("SAML cannot be enabled while mutual SSL is enabled: Tableau Server does not support "
                           "mutual SSL and SAML together")
        self.stage_fields("samlSettings", {"enabled": True})
        return "SAML enabled (pending). Apply it with 'tsm pending-changes apply'.\n"

    def saml_disable(self, _args):
        self.stage_fields("samlSettings", {"enabled": False})
        return "SAML disabled (pending). Apply it with 'tsm pending-changes apply'.\n"

    def saml_map_assertions(self, args):
        if args.email or args.display_name:
            raise SimError("--email and --display-name are not implemented")
        fields = {}
        if args.user_name is not None:
            fields["idpUsernameAttribute"] = args.user_name
        if args.domain is not None:
            fields["idpDomainAttribute"] = args.domain
        if not fields:
            raise SimError("Nothing to map: give --user-name and/or --domain")
        self.stage_fields("samlSettings", fields)
        return "SAML assertion mapping staged.\n"

    def mutual_ssl_configure(self, args):
        fields = {}
        if args.ca_cert is not None:
            fields["caCertFile"] = self.store.keep_file("mutualSSLSettings", "caCertFile", args.ca_cert)
        if args.revocation_file is not None:
            if not args.revocation_file.lower().endswith((".pem", ".der", ".crl")):
                raise SimError(f"The revocation file must be a .pem or .der file: {args.revocation_file}")
            fields["revocationFile"] = self.store.keep_file("mutualSSLSettings", "revocationFile", args.revocation_file)
        if args.fallback_to_basic is not None:
            fields["fallbackToPassword"] = args.fallback_to_basic == "true"
        if args.user_name_mapping is not None:
            fields["userNameMapping"] = args.user_name_mapping
        if not fields:
            raise SimError("Nothing to configure: give at least one option")
        self.stage_fields("mutualSSLSettings", fields)
        return "Mutual SSL configuration staged.\n"

    def mutual_ssl_enable(self, _args):
        mssl = self.entity("mutualSSLSettings")
        if not mssl.get("sslEnabled"):
            raise SimError("Enable and configure SSL for external communication before enabling mutual SSL "
                           "('tsm security external-ssl enable')")
        if not mssl.get("caCertFile"):
            raise SimError("Mutual SSL is not configured: run 'tsm authentication mutual-ssl configure --ca-cert' first")
        if self.entity("samlSettings").get("enabled"):
            raise SimError("Mutual SSL cannot be enabled while SAML is enabled: Tableau Server does not support "
                           "mutual SSL and SAML together")
        self.stage_fields("mutualSSLSettings", {"clientCertRequired": True})
        return "Mutual SSL enabled (pending).\n"

    def mutual_ssl_disable(self, _args):
        self.stage_fields("mutualSSLSettings", {"clientCertRequired": False})
        return "Mutual SSL disabled (pending).\n"

    def trusted_configure(self, args):
        fields = {}
        if args.hosts is not None:
            text = " ".join(args.hosts)
            hosts = [h.strip().strip("\"'").strip() for h in text.split(",")]
            hosts = [h for h in hosts if h]
            if not hosts:
                raise SimError("No trusted hosts given")
            fields["trustedHosts"] = hosts
        if args.token_length is not None:
            if not 9 <= args.token_length <= 255:
                raise SimError("The token length must be between 9 and 255: %d" % args.token_length)
            fields["tokenLength"] = args.token_length
        if not fields:
            raise SimError("Nothing to configure: give -th and/or -t")
        self.stage_fields("trustedAuthenticationSettings", fields)
        return "Trusted authentication configuration staged.\n"

    def external_ssl_enable(self, args):
        fields = {"sslEnabled": True,
                  "certFileName": self.store.keep_file("mutualSSLSettings", "certFileName", args.cert_file),
                  "keyFileName": self.store.keep_file("mutualSSLSettings", "keyFileName", args.key_file)}
        if args.chain_file is not None:
            fields["chainFile"] = self.store.keep_file("mutualSSLSettings", "chainFile", args.chain_file)
        if args.passphrase is not None:
            fields["keyPassphrase"] = args.passphrase
        if args.protocols is not None:
            fields["protocols"] = args.protocols
        self.stage_fields("mutualSSLSettings", fields)
        return "External SSL enabled (pending).\n"

    def external_ssl_disable(self, _args):
        if self.entity("mutualSSLSettings").get("clientCertRequired"):
            raise SimError("Disable mutual SSL before disabling external SSL")
        self.stage_fields("mutualSSLSettings", {"sslEnabled": False})
        return "External SSL disabled (pending).\n"

    def external_ssl_list(self, _args):
        mssl = self.entity("mutualSSLSettings", pending=False)
        lines = ["enabled: {}".format(render(mssl.get("sslEnabled")))]
        for field in ("certFileName", "keyFileName", "chainFile", "protocols"):
            lines.append("{}: {}".format(field, mssl.get(field) or ""))
        return "\n".join(lines) + "\n"

    # ---- misc
    def status(self, args):
        text = "Status: {}\n".format(self.state["status"].upper())
        if args.verbose:
            text += "\nnode1: localhost\n    Tableau Server Gateway 'node1' is %s.\n" % (
                "running" if self.state["status"] == "running" else "stopped")
        return text

    def start(self, _args):
        self.state["status"] = "running"
        self.changed = True
        return "Starting service...\nTableau Server is running.\n"

    def stop(self, _args):
        self.state["status"] = "stopped"
        self.changed = True
        return "Stopping service...\nTableau Server is stopped.\n"

    def version(self, _args):
        return "Tableau Server version: {}\n".format(self.state.get("version"))

    def login(self, args):
        auth = self.state["auth"]
        if auth.get("require_login"):
            password = args.password
            if password is None:
                self.out.write("Password: ")
                self.out.flush()
                line = self.stdin.readline()
                if not line:
                    raise SimError("\nNo password given: end of input at the password prompt.")
                password = line.rstrip("\n")
            if not args.username:
                raise SimError("tsm login needs -u/--username when no session is active")
            digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
            if args.username != auth.get("username") or digest != auth.get("password_sha256"):
                raise SimError(f"Authentication failed: wrong user name or password for {args.username}")
        auth["session"] = True
        self.changed = True
        return "Successfully authenticated.\n"

    def logout(self, _args):
        self.state["auth"]["session"] = False
        self.changed = True
        return "Logged out.\n"


# ------------------------------------------------------------------------------ the CLI

def _global(parser, request_timeout=False):
    parser.add_argument("-u", "--username")
    parser.add_argument("-p", "--password")
    parser.add_argument("-s", "--server")
    parser.add_argument("--trust-admin-controller-cert", action="store_true")
    if request_timeout:
        parser.add_argument("--request-timeout", type=int, default=1800)


def _leaf(subparsers, name, handler, request_timeout=False):
    parser = subparsers.add_parser(name)
    _global(parser, request_timeout)
    parser.set_defaults(handler=handler)
    return parser


def build_parser():
    parser = Parser(prog="tsm", add_help=False)
    top = parser.add_subparsers(dest="area", parser_class=Parser)

    p = _leaf(top, "status", "status")
    p.add_argument("-v", "--verbose", action="store_true")
    _leaf(top, "start", "start", True)
    _leaf(top, "stop", "stop", True)
    _leaf(top, "version", "version")
    _leaf(top, "login", "login")
    _leaf(top, "logout", "logout")

    conf = top.add_parser("configuration").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(conf, "get", "configuration_get")
    p.add_argument("-k", "--key", required=True)
    p = _leaf(conf, "set", "configuration_set")
    p.add_argument("-k", "--key", required=True)
    p.add_argument("-v", "--value")
    p.add_argument("-d", "--default", action="store_true")
    p.add_argument("-frc", "--force-keys", action="store_true")
    _leaf(conf, "list-dynamic-keys", "configuration_list_dynamic_keys")

    sett = top.add_parser("settings").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(sett, "export", "settings_export")
    p.add_argument("-f", "-of", "--output-config-file", required=True)
    p = _leaf(sett, "import", "settings_import")
    p.add_argument("-f", "--import-config-file", required=True)
    p.add_argument("-frc", "--force-keys", action="store_true")
    p.add_argument("--config-only", action="store_true")
    p.add_argument("--topology-only", action="store_true")

    pend = top.add_parser("pending-changes").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(pend, "list", "pending_changes_list")
    p.add_argument("--config-only", action="store_true")
    p.add_argument("--topology-only", action="store_true")
    p = _leaf(pend, "apply", "pending_changes_apply", True)
    p.add_argument("-iw", "--ignore-warnings", action="store_true")
    p.add_argument("--ignore-prompt", action="store_true")
    p = _leaf(pend, "discard", "pending_changes_discard")
    p.add_argument("--config-only", action="store_true")
    p.add_argument("--topology-only", action="store_true")

    auth = top.add_parser("authentication").add_subparsers(dest="kind", parser_class=Parser)
    saml = auth.add_parser("saml").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(saml, "configure", "saml_configure")
    p.add_argument("-e", "--idp-entity-id")
    p.add_argument("-r", "--idp-return-url")
    p.add_argument("-i", "--idp-metadata")
    p.add_argument("-cf", "--cert-file")
    p.add_argument("-kf", "--key-file")
    p.add_argument("-a", "--max-auth-age", type=int)
    p.add_argument("-d", "--desktop-access", choices=["enable", "disable"])
    p.add_argument("-m", "--mobile-access", choices=["enable", "disable"])
    p.add_argument("-so", "--signout", choices=["enable", "disable"])
    p.add_argument("-su", "--signout-url")
    _leaf(saml, "enable", "saml_enable")
    _leaf(saml, "disable", "saml_disable")
    p = _leaf(saml, "map-assertions", "saml_map_assertions")
    p.add_argument("-r", "--user-name")
    p.add_argument("-o", "--domain")
    p.add_argument("--email")
    p.add_argument("--display-name")

    mssl = auth.add_parser("mutual-ssl").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(mssl, "configure", "mutual_ssl_configure")
    p.add_argument("-cf", "--ca-cert")
    p.add_argument("-fb", "--fallback-to-basic", choices=["true", "false"])
    p.add_argument("-m", "--user-name-mapping", choices=["upn", "ldap", "cn"])
    p.add_argument("-rf", "--revocation-file")
    _leaf(mssl, "enable", "mutual_ssl_enable")
    _leaf(mssl, "disable", "mutual_ssl_disable")

    trusted = auth.add_parser("trusted").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(trusted, "configure", "trusted_configure")
    p.add_argument("-th", "--hosts", nargs="+")
    p.add_argument("-t", "--token-length", type=int)

    sec = top.add_parser("security").add_subparsers(dest="kind", parser_class=Parser)
    ext = sec.add_parser("external-ssl").add_subparsers(dest="command", parser_class=Parser)
    p = _leaf(ext, "enable", "external_ssl_enable")
    p.add_argument("-c", "--cert-file", required=True)
    p.add_argument("-k", "--key-file", required=True)
    p.add_argument("--chain-file")
    p.add_argument("--passphrase")
    p.add_argument("--protocols")
    _leaf(ext, "disable", "external_ssl_disable")
    _leaf(ext, "list", "external_ssl_list")
    return parser


def command_name(argv):
    """The command path, e.g. pending-changes.apply (options and values left out)."""
    words = []
    for arg in argv:
        if arg.startswith("-"):
            break
        words.append(arg)
    return ".".join(words[:3]) if words[:1] in (["authentication"], ["security"]) else ".".join(words[:2])


FAIL_FILE = "fail"


def fail_spec(home=None):
    """The failure injection in force: ``$TSM_SIM_FAIL``, then the file ``fail`` of the simulated
    server (``tsm _sim fail SPEC``), which reaches a running API server too."""
    specs = [os.environ.get(FAIL_ENV, "").strip()]
    try:
        with open(os.path.join(home or home_dir(), FAIL_FILE)) as handle:
            specs.append(handle.read().strip())
    except OSError:
        pass
    return ",".join(s for s in specs if s)


def injected(name, home=None):
    """The failure mode injected for this command, or None."""
    spec = fail_spec(home)
    if not spec:
        return None
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        target, _sep, mode = item.partition(":")
        if target.strip() in (name, "*"):
            return mode.strip() or "exit=1"
    return None


def _check_login(state, args):
    auth = state.get("auth", {})
    if not auth.get("require_login") or auth.get("session"):
        return
    if not args.username or args.password is None:
        raise SimError("You are not signed in. Sign in with 'tsm login -u <user>' or pass -u and -p.")
    digest = hashlib.sha256(args.password.encode("utf-8")).hexdigest()
    if args.username != auth.get("username") or digest != auth.get("password_sha256"):
        raise SimError(f"Authentication failed: wrong user name or password for {args.username}")


def run(argv, out, err, stdin):
    """Run one tsm command; returns the exit code."""
    if argv[:1] == ["_sim"]:
        return sim_admin(argv[1:], out, err)
    store = Store(home_dir())
    name = command_name(argv)
    rc = 0
    started = time.time()
    with store.locked():
        store.log_argv(argv)
        counters = store.counters()
        counters["invocations"] += 1
        counters["commands"][name] = counters["commands"].get(name, 0) + 1
        store.save_counters(counters)
        try:
            mode = injected(name)
            if mode and mode.startswith("hang="):
                time.sleep(float(mode.split("=", 1)[1]))
                mode = None
            try:
                args = build_parser().parse_args(argv)
            except SystemExit:  # pragma: no cover - argparse exits only for --help
                raise UsageError("usage error")
            if not getattr(args, "handler", None):
                raise UsageError("tsm: error: incomplete command: {} (see the tsm command reference)".format(" ".join(argv)))
            if mode == "timeout":
                raise SimError("The request timed out after {} seconds waiting for the job to finish "
                               "(injected by {}).".format(getattr(args, "request_timeout", 1800), FAIL_ENV))
            if mode:
                code = int(mode.split("=", 1)[1]) if mode.startswith("exit=") else 1
                raise SimError("An error occurred on the server while running '{}' (injected by {}).".format(" ".join(mask_argv(argv)), FAIL_ENV), code)
            state = store.load()
            if args.handler not in ("login",):
                _check_login(state, args)
            server = Server(store, state, out, stdin)
            text = getattr(server, args.handler)(args)
            if server.changed:
                store.save(state)
                if name not in READ_COMMANDS and args.handler not in ("start", "stop", "login", "logout"):
                    counters = store.counters()
                    counters["writes"] += 1
                    store.save_counters(counters)
            out.write(text)
        except SimError as exc:
            rc = exc.rc
            err.write(exc.message.rstrip("\n") + "\n")
            counters = store.counters()
            counters["failures"] += 1
            store.save_counters(counters)
        store.log({"argv": mask_argv(argv), "command": name, "rc": rc, "user": _user(),
                   "seconds": round(time.time() - started, 3), "time": started})
    return rc


# ------------------------------------------------------------------ simulator administration

def init_home(home, options=()):
    """A fresh simulated server in ``home`` (also ``tsm _sim init``). Raises UsageError on a bad option."""
    store = Store(home)
    with store.locked():
        if os.path.isdir(store.files_dir):
            shutil.rmtree(store.files_dir)
        state = fresh_state()
        for option in options:
            if option == "--stopped":
                state["status"] = "stopped"
            elif option.startswith(("--require-login=", "--account=")):
                user, _sep, password = option.split("=", 1)[1].partition(":")
                state["auth"] = {"require_login": option.startswith("--require-login="), "username": user,
                                 "session": False,
                                 "password_sha256": hashlib.sha256(password.encode("utf-8")).hexdigest()}
            elif option.startswith("--key="):
                key, _sep, value = option.split("=", 1)[1].partition("=")
                state["applied"]["configKeys"][key] = json.loads(value)
            else:
                raise UsageError(f"_sim init: unknown option {option}")
        store.save(state)
        store.save_counters(fresh_counters())
        for path in (store.log_path, os.path.join(store.home, "argv.log"), os.path.join(store.home, "api.log")):
            with open(path, "w"):
                pass
        if os.path.exists(os.path.join(store.home, FAIL_FILE)):
            os.unlink(os.path.join(store.home, FAIL_FILE))
        os.chmod(store.home, 0o755)
    return store


def sim_admin(argv, out, err):
    """``tsm _sim init|show|counters|reset-counters|set-status``: not counted, never failed."""
    command = argv[0] if argv else "show"
    if command == "init":
        try:
            store = init_home(home_dir(), argv[1:])
        except UsageError as exc:
            err.write(exc.message + "\n")
            return 2
        out.write(f"initialised {store.home}\n")
        return 0
    if command == "api":
        from api import api_admin  # pylint: disable=import-outside-toplevel  # the HTTPS API, only when asked
        return api_admin(home_dir(), argv[1:], out, err)
    if command == "fail":
        path = os.path.join(home_dir(), FAIL_FILE)
        if len(argv) > 1:
            _atomic_write(path, ",".join(argv[1:]) + "\n")
        elif os.path.exists(path):
            os.unlink(path)
        return 0
    store = Store(home_dir())
    with store.locked():
        if command == "show":
            out.write(json.dumps(store.load(), indent=2, sort_keys=True) + "\n")
            return 0
        if command == "counters":
            out.write(json.dumps(store.counters(), indent=2, sort_keys=True) + "\n")
            return 0
        if command == "reset-counters":
            store.save_counters(fresh_counters())
            for path in (store.log_path, os.path.join(store.home, "argv.log"), os.path.join(store.home, "api.log")):
                with open(path, "w"):
                    pass
            return 0
        if command == "set-status" and len(argv) == 2 and argv[1] in ("running", "stopped"):
            state = store.load()
            state["status"] = argv[1]
            store.save(state)
            return 0
    err.write("usage: tsm _sim init [--stopped] [--require-login=USER:PASS] [--account=USER:PASS] [--key=KEY=JSON] | "
              "show | counters | reset-counters | set-status running|stopped | fail [SPEC] | "
              "api start [--port N]|stop|serve\n")
    return 2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv, sys.stdout, sys.stderr, sys.stdin)
    except SimError as exc:
        sys.stderr.write(exc.message + "\n")
        return exc.rc


if __name__ == "__main__":
    sys.exit(main())
