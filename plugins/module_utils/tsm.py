# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TSM client: one interface to Tableau Services Manager, and the plans the tsm_* modules execute.

Pure Python, no Ansible imports. Three layers:

* :class:`TsmClient` is the interface (read: status, get, export_settings, pending; write:
  set_key, import_settings, apply, discard, the ``authentication`` and ``security`` commands).
  :class:`CliClient` implements it with the ``tsm`` executable (transport ``cli``); a client for
  the TSM REST API on port 8850 (transport ``api``) can implement the same methods later.
  Every call is recorded (:attr:`TsmClient.calls`) with its command line, secrets masked.
  Every failed call raises :class:`TsmError` with the command (masked), exit code and stderr.
* Parsers for what ``tsm`` prints (:func:`parse_pending`, :func:`parse_status`,
  :func:`parse_get`) and for ``settings export`` JSON (:class:`Settings`).
* Planners (:func:`plan_config`, :func:`plan_saml`, :func:`plan_mutual_ssl`,
  :func:`plan_trusted_auth`, :func:`plan_external_ssl`) compare the desired state with what the
  server reports and return a :class:`Plan`: the steps to stage (only what differs), the diff,
  and the policy findings (``TSM-NNN``). :func:`execute` runs a plan. Nothing here applies
  pending changes on its own; :func:`apply_pending` does, only when something is pending.

Reading state costs one call (``settings export``), which shows the *applied* configuration:
values staged but not applied (for example after a failed apply) are seen as different and are
staged again, so the next run finishes the job.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, TrustopsError

MASK = "********"
DEFAULT_TIMEOUT = 1800
TRANSPORTS = ("cli",)
# Where Tableau Server for Linux installs tsm when it is not on the PATH of a non-login shell.
TSM_GLOBS = ("/opt/tableau/tableau_server/packages/customer-bin.*/tsm",)
_SBIN = ("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin")


class _Unset(object):
    """A key the server does not have ("Unknown key")."""

    def __repr__(self):
        return "UNSET"

    def __bool__(self):
        return False


UNSET = _Unset()


class TsmError(TrustopsError):
    """A tsm call failed, or its output could not be understood."""

    def __init__(self, message, command=None, rc=None, stdout="", stderr=""):
        TrustopsError.__init__(self, message)
        self.command = command
        self.rc = rc
        self.stdout = stdout or ""
        self.stderr = stderr or ""


class Secret(object):
    """An argument that must never be shown (password, passphrase)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = "" if value is None else str(value)

    def __str__(self):
        return MASK

    __repr__ = __str__


def masked(argv):
    return [str(a) for a in argv]


def _plain(argv):
    return [a.value if isinstance(a, Secret) else str(a) for a in argv]


def _quote(argv):
    out = []
    for arg in argv:
        out.append(arg if re.match(r"^[\w@%+=:,./*-]+$", arg) else "'%s'" % arg.replace("'", "'\"'\"'"))
    return " ".join(out)


class Call(object):
    """One tsm invocation: the masked command line, exit code, output and duration."""

    __slots__ = ("argv", "rc", "stdout", "stderr", "seconds", "writes")

    def __init__(self, argv, rc, stdout, stderr, seconds, writes):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.writes = writes

    @property
    def command(self):
        return _quote(self.argv)

    def as_dict(self):
        return {"command": self.command, "rc": self.rc, "seconds": round(self.seconds, 3), "writes": self.writes}


def _tail(text, limit=1500):
    text = (text or "").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


# ------------------------------------------------------------------- secrets and input rules

# Configuration keys and entity fields whose values are secrets. TSM stores them encrypted
# (``ENC(...)``) and its pending-changes list masks them; the vendor pages name
# wgserver.saml.key.passphrase (saml_requ.htm) and mutualSSLSettings.keyPassphrase
# (entity_mutual_ssl.htm: "encrypted at rest"). Any other key whose name says it holds a
# password, passphrase, secret, credential or key material is treated the same way.
KNOWN_SECRET_KEYS = ("wgserver.saml.key.passphrase", "mutualSSLSettings.keyPassphrase")
_SECRET_WORDS = ("password", "passphrase", "passwd", "secret", "credential", "privatekey", "apikey", "accesskey")


def is_secret_key(name):
    """The one rule: whether a TSM configuration key or ``entity.field`` holds a secret."""
    if name in KNOWN_SECRET_KEYS:
        return True
    flat = re.sub(r"[._\-\[\]]", "", str(name or "")).lower()
    return any(word in flat for word in _SECRET_WORDS)


def is_encrypted_value(value):
    """A value TSM stored encrypted (``ENC(...)``): never returned, never comparable."""
    return isinstance(value, str) and value.strip().startswith("ENC(")


class InputRefused(TrustopsError):
    """A value or file that must not reach tsm; the message names the option and what to do."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_argument(option, value):
    """A value that goes on tsm's command line as one argument: refused when tsm could misread it.

    ``tsm`` reads an argument starting with ``-`` as its next option (``--hosts -t``); the vendor
    pages document no ``--option=value`` form nor a ``--`` terminator, so such values are refused.
    Control characters (newlines) are refused too.
    """
    text = "" if value is None else str(value)
    if text.startswith("-"):
        raise InputRefused("%s: %r starts with '-', which tsm would read as an option; give the value itself "
                           "(nothing was staged)" % (option, text))
    if _CONTROL.search(text):
        raise InputRefused("%s: %r holds a newline or another control character; give a single-line value "
                           "(nothing was staged)" % (option, text))
    return text


def check_item(option, value):
    """One item of a list that TSM stores joined with commas: no separators, whitespace or leading '-'."""
    text = check_argument(option, value)
    if not text.strip():
        raise InputRefused("%s: an empty item; remove it (nothing was staged)" % option)
    if re.search(r"[,;\s]", text):
        raise InputRefused("%s: %r holds a comma, semicolon or whitespace; TSM stores the list joined with "
                           "commas and would split it, so it would never match what you gave; give each value "
                           "as its own list item (nothing was staged)" % (option, text))
    return text


_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def check_host(option, value):
    """A host name (RFC 1123) or an IPv4/IPv6 address, as one list item."""
    text = check_item(option, value)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InputRefused("%s: %r is neither a host name (letters, digits, '-' and dots) nor an IP address "
                           "(nothing was staged)" % (option, text))
    return text


_KEY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-\[\]]*$")


def check_config_value(key, value):
    """A tsm_config key and its value; raises InputRefused for what TSM would store as something else.

    Scalars (text, numbers, booleans) are staged as text; a list of scalars is joined with commas
    (each item checked by :func:`check_item`). A dict, or a list holding lists or dicts, has no
    form in TSM's configuration keys and is refused (it would be staged as Python text).
    """
    if not _KEY_NAME.match(str(key)):
        raise InputRefused("keys: %r is not a TSM configuration key name (letters, digits, '.', '_', '-'); "
                           "nothing was staged" % (key,))
    if isinstance(value, dict):
        raise InputRefused("keys.%s: a dictionary has no form in a TSM configuration key (it would be staged as "
                           "Python text); give a string, number, boolean or a list of them (nothing was staged)" % key)
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (dict, list, tuple)):
                raise InputRefused("keys.%s: a list item that is itself a list or dictionary has no form in a TSM "
                                   "configuration key; give a list of strings or numbers (nothing was staged)" % key)
            if not isinstance(item, bool):
                check_item("keys.%s" % key, item)
        return value
    if isinstance(value, str) and _CONTROL.search(value):
        raise InputRefused("keys.%s: the value holds a newline or another control character; give a single-line "
                           "value (nothing was staged)" % key)
    return value


# ----------------------------------------------------------------------------- transport

class CliTransport(object):
    """Runs ``tsm`` (optionally as another OS user), standard input closed, with a timeout."""

    def __init__(self, tsm_path=None, tsm_user=None, username=None, password=None, timeout=DEFAULT_TIMEOUT,
                 environ=None, password_on_command_line=False):
        self.tsm_path = tsm_path
        self.tsm_user = tsm_user or None
        self.username = username or None
        self.password = password if password not in (None, "") else None
        self.password_on_command_line = bool(password_on_command_line)
        self.timeout = int(timeout or DEFAULT_TIMEOUT)
        self.environ = environ
        self._executable = None
        self._prefix = None
        self._run_as = None

    def executable(self):
        if self._executable:
            return self._executable
        if self.tsm_path:
            path = self.tsm_path
            if os.path.isdir(path):
                path = os.path.join(path, "tsm")
            if not os.path.isfile(path):
                raise TsmError("tsm_path %s: no such file on the managed host" % self.tsm_path)
            if not os.access(path, os.X_OK):
                raise TsmError("tsm_path %s: not executable" % path)
        else:
            path = shutil.which("tsm")
            if not path:
                found = sorted(p for pattern in TSM_GLOBS for p in glob.glob(pattern) if os.access(p, os.X_OK))
                path = found[-1] if found else None
            if not path:
                raise TsmError("tsm not found on the PATH nor in %s; set tsm_path" % ", ".join(TSM_GLOBS))
        self._executable = path
        return path

    def run_as(self):
        """(name, uid, gid) of tsm_user when tsm must run as another user, else None."""
        if self._run_as is not None or not self.tsm_user:
            return self._run_as or None
        check_argument("tsm_user", self.tsm_user)
        try:
            entry = pwd.getpwnam(self.tsm_user)
        except KeyError:
            raise TsmError("tsm_user %s: no such user on the managed host" % self.tsm_user)
        if entry.pw_uid == os.geteuid():
            self._run_as = False
            return None
        self._run_as = (entry.pw_name, entry.pw_uid, entry.pw_gid)
        return self._run_as

    def prefix(self):
        if self._prefix is not None:
            return self._prefix
        who = self.run_as()
        if not who:
            self._prefix = []
        elif os.geteuid() == 0:
            runuser = shutil.which("runuser", path=os.pathsep.join(_SBIN))
            if not runuser:
                raise TsmError("tsm_user %s: runuser (util-linux) not found; cannot run tsm as another user" % who[0])
            self._prefix = [runuser, "-u", check_argument("tsm_user", who[0]), "--"]
        else:
            sudo = shutil.which("sudo", path=os.pathsep.join(_SBIN))
            if not sudo:
                raise TsmError("tsm_user %s: running tsm as another user needs root (become) or sudo" % who[0])
            self._prefix = [sudo, "-n", "-u", check_argument("tsm_user", who[0]), "--"]
        return self._prefix

    def global_options(self):
        """Options every call carries: only ``--username`` when no password is given.

        With a password the module signs in once (:meth:`login`) and later calls use the session
        TSM keeps for the OS user (cli_login.htm: "If you do not include this option, the
        command is run using credentials you signed in with"), so no call carries the password.
        """
        if self.username and not self.password:
            return ["--username", check_argument("username", self.username)]
        return []

    def login_args(self):
        """``tsm login`` arguments and its standard input: the password goes to the prompt, not argv."""
        args = ["login", "--username", check_argument("username", self.username)]
        if self.password_on_command_line:
            return args + ["--password", Secret(self.password)], None
        return args, (self.password + "\n").encode("utf-8")

    @contextlib.contextmanager
    def workdir(self):
        """A private directory for files exchanged with tsm, owned by the user tsm runs as."""
        path = tempfile.mkdtemp(prefix="trustops-tsm-")
        try:
            who = self.run_as()
            if who:
                try:
                    os.chown(path, who[1], who[2])
                except OSError as exc:
                    raise TsmError("cannot hand the work directory %s to tsm_user %s (%s); run the task with become"
                                   % (path, who[0], exc))
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def give(self, path):
        """Make a file we wrote readable by the user tsm runs as (mode stays 0600)."""
        who = self.run_as()
        if who:
            os.chown(path, who[1], who[2])

    def run(self, args, timeout=None, stdin=None):
        """(argv_masked, rc, stdout, stderr, seconds). Raises TsmError on timeout or exec failure.

        ``stdin`` (bytes) is written to tsm's standard input (the login prompt); otherwise it is closed.
        """
        argv = self.prefix() + [self.executable()] + list(args) + (self.global_options() if args[:1] != ["login"] else [])
        shown = masked(argv[len(self.prefix()):])
        env = dict(os.environ if self.environ is None else self.environ)
        env.update(LC_ALL="C", LANG="C")
        limit = timeout or self.timeout
        started = time.time()
        try:
            proc = subprocess.Popen(_plain(argv), stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        except OSError as exc:
            raise TsmError("cannot run %s: %s" % (_quote(shown), exc), command=_quote(shown))
        try:
            out, err = proc.communicate(input=stdin, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, err = proc.communicate()
            raise TsmError("%s did not finish within %d s (request_timeout) and was stopped; if it was applying "
                           "changes, TSM may still finish the job: check 'tsm pending-changes list' and run the task "
                           "again" % (_quote(shown), limit), command=_quote(shown), rc=None,
                           stdout=out.decode("utf-8", "replace"), stderr=err.decode("utf-8", "replace"))
        return (shown, proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                time.time() - started)


def _kill(proc):
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ------------------------------------------------------------------------------- parsers

def parse_get(stdout, stderr, rc):
    """The value `configuration get` printed: a string, None for "Null", UNSET for "Unknown key"."""
    text = "%s\n%s" % (stdout, stderr)
    if re.search(r"unknown key", text, re.I):
        return UNSET
    if rc != 0:
        return None  # the caller raises
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if not lines:
        return ""
    value = lines[-1]
    return None if value.lower() == "null" else value


def parse_status(text):
    """running | stopped | degraded | ... (lower case) from `tsm status`."""
    match = re.search(r"^\s*Status:\s*([A-Za-z_]+)", text, re.M)
    if not match:
        raise TsmError("cannot read the server status from tsm status output: %r" % _tail(text, 300))
    return match.group(1).lower()


class Change(object):
    """One pending change: section (configKeys|configEntities|topology), name, value, restart."""

    __slots__ = ("section", "name", "value", "restart")

    def __init__(self, section, name, value, restart=True):
        self.section = section
        self.name = name
        self.value = value
        self.restart = restart

    def as_dict(self):
        value = show(self.value, True) if is_secret_key(self.name) or is_encrypted_value(self.value) else self.value
        return {"section": self.section, "name": self.name, "value": value, "restart": self.restart}

    def __repr__(self):
        return "Change(%s, %s=%r, restart=%s)" % (self.section, self.name, self.value, self.restart)


class Pending(object):
    """Parsed `pending-changes list`."""

    def __init__(self, changes, restart_required, text=""):
        self.changes = changes
        self.restart_required = restart_required
        self.text = text

    def __bool__(self):
        return bool(self.changes)

    def value(self, name):
        """The pending value of an entity field or key (``samlSettings.enabled``), or UNSET."""
        for change in reversed(self.changes):
            if change.name == name:
                return change.value
        return UNSET

    def as_list(self):
        return [c.as_dict() for c in self.changes]


_HEADERS = ("pending changes", "pending config changes", "pending configuration changes", "configkeys",
            "configentities", "topology", "pending topology changes", "config", "configuration")
_NO_RESTART = re.compile(r"\s*\((?:does not require a (?:server )?restart|no restart required|dynamic)\)\s*$", re.I)
_ITEM = re.compile(r"^\s*([A-Za-z_][\w\-\[\]]*(?:\.[\w\-\[\]]+)+)\s*[:=]\s?(.*?)\s*$")


def parse_pending(text):
    """Structured changes from `tsm pending-changes list`; raises TsmError on text it cannot read.

    Understood: a header ("Pending changes:"), section lines (``configKeys:``,
    ``configEntities:``, topology), items ``name: value`` (an item marked "(does not require a
    restart)" needs none), a closing sentence saying whether the changes require a restart, and
    "There are no pending changes." (or nothing at all) for an empty list.
    """
    lines = [line.rstrip() for line in (text or "").splitlines()]
    content = [line for line in lines if line.strip()]
    if not content:
        return Pending([], False, text)
    changes = []
    section = "configKeys"
    summary_restart = None
    understood = False
    for line in content:
        stripped = line.strip()
        low = stripped.lower().rstrip(".")
        if re.search(r"\bno pending changes\b|there are no (?:pending )?changes", low):
            understood = True
            continue
        header = low.rstrip(":").strip()
        if header in _HEADERS and (stripped.endswith(":") or ":" not in stripped):
            understood = True
            if "entit" in header:
                section = "configEntities"
            elif "topology" in header:
                section = "topology"
            elif "key" in header or "config" in header:
                section = "configKeys"
            continue
        match = _ITEM.match(line)
        if match:
            value = match.group(2)
            restart = True
            marker = _NO_RESTART.search(value)
            if marker:
                value = value[:marker.start()]
                restart = False
            changes.append(Change(section, match.group(1), value, restart))
            understood = True
            continue
        if re.search(r"do(?:es)? not require a (?:server )?restart|no restart (?:is )?(?:required|needed)", low):
            summary_restart = False
            understood = True
            continue
        if re.search(r"requires? a (?:server )?restart|will (?:require|cause|trigger) a (?:server )?restart", low):
            summary_restart = True
            understood = True
            continue
    if not understood:
        raise TsmError("cannot read the output of tsm pending-changes list: %r" % _tail(text, 500))
    if summary_restart is False:
        for change in changes:
            change.restart = False
    restart_required = any(c.restart for c in changes) if summary_restart is None else (
        bool(summary_restart) and bool(changes))
    return Pending(changes, restart_required, text)


class Settings(object):
    """`settings export` JSON: configKeys and configEntities (the applied configuration)."""

    def __init__(self, doc):
        if not isinstance(doc, dict):
            raise TsmError("settings export did not produce a JSON object")
        keys = doc.get("configKeys", {})
        entities = doc.get("configEntities", {})
        keys = {} if keys is None else keys
        entities = {} if entities is None else entities
        if not isinstance(keys, dict) or not isinstance(entities, dict):
            raise TsmError("settings export: configKeys and configEntities must be JSON objects")
        self.keys = keys
        self.entities = entities

    def key(self, name):
        return self.keys[name] if name in self.keys else UNSET

    def has_entity(self, name):
        return isinstance(self.entities.get(name), dict)

    def field(self, entity, name):
        body = self.entities.get(entity)
        if not isinstance(body, dict) or name not in body:
            return UNSET
        return body[name]


# ------------------------------------------------------------------------ value handling

_INT = re.compile(r"^[+-]?\d+$")


def tsm_text(value, separator=","):
    """A desired value as TSM stores it (strings; booleans lower case; lists joined)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return separator.join(tsm_text(v) for v in value)
    return str(value)


def _canon(value):
    if value is None or value is UNSET:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.lower() in ("true", "false"):
        return text.lower()
    if _INT.match(text.strip()):
        return str(int(text.strip()))
    return text


def _items(value):
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    text = "" if value is None else str(value)
    return [_canon(p.strip()) for p in text.split(",") if p.strip()]


def same_value(current, desired, as_list=False, ordered=True):
    """Whether the server's value already is the desired one (TSM stores text)."""
    if current is UNSET:
        return False
    if as_list or isinstance(desired, (list, tuple)):
        a, b = _items(current), _items(desired)
        return a == b if ordered else sorted(a) == sorted(b)
    if current is None:
        return desired is None or desired == ""
    return _canon(current) == _canon(desired)


def show(value, secret=False):
    if secret or is_encrypted_value(value):
        return MASK if value not in (None, "", UNSET) else "(not set)"
    if value is UNSET:
        return "(not set)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(str(v) for v in value)
    return str(value)


# The size cap of each kind of file a tsm_* module reads (docs/inputs.md lists them).
FILE_CAPS = {"cert": reader.MAX_CERTIFICATE, "key": reader.MAX_KEY, "metadata": reader.MAX_XML,
             "crl": reader.MAX_CRL, "file": reader.MAX_CRL}


def file_digest(path, kind="bytes"):
    """A content fingerprint of a file on this host, or None when it cannot be read.

    ``cert``: the SHA-256 fingerprints of the certificates it holds, in order (PEM/DER/PKCS#7
    wrappings of the same certificates compare equal); other files: SHA-256 of the bytes.
    Read through the shared reader with the cap of the kind.
    """
    try:
        data = reader.read_input(path=path, option="file", max_bytes=FILE_CAPS.get(kind, reader.MAX_CRL))
    except (reader.InputError, TypeError):
        return None
    if kind == "cert":
        try:
            from ansible_collections.trustops.tableau.plugins.module_utils import certs
            found = certs.load_certificates(data, path)
            return "cert:" + ",".join(certs.fingerprint(c, "sha256", sep="") for c in found)
        except Exception:  # not a certificate file: compare bytes
            pass
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------- file inputs (checked before staging)

def read_file_input(option, path, kind):
    """The bytes of a file option, through the shared reader with the cap of its kind."""
    check_argument(option, path)
    return reader.read_input(path=path, option=option, max_bytes=FILE_CAPS[kind])


def _refuse(option, path, exc):
    text = str(exc)
    label = "%s %s" % (option, path)
    if not text.startswith(label):
        text = "%s: %s" % (label, text)
    return InputRefused(text)


def load_certificate_input(option, path, exactly_one=False):
    """The certificates of a certificate file option (PEM, DER, PKCS#7); InputRefused when it holds none."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    data = read_file_input(option, path, "cert")
    try:
        found = certs.load_certificates(data, "%s %s" % (option, path))
    except certs.CertificateError as exc:
        raise _refuse(option, path, exc)
    if exactly_one and len(found) != 1:
        raise InputRefused("%s %s: holds %d certificates; give the one certificate only" % (option, path, len(found)))
    return found


def load_key_input(option, path, passphrase=None, verify=True):
    """The KeyInfo of a private-key file option; a wrong passphrase (when ``verify``) is refused."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    data = read_file_input(option, path, "key")
    try:
        return certs.inspect_private_key(data, passphrase if verify else None, "%s %s" % (option, path))
    except certs.CertificateError as exc:
        raise _refuse(option, path, exc)


# Metadata findings that mean "this is not IdP metadata Tableau Server can use at all"; the policy
# rules (signing keys, digests, SLO) belong to trustops.tableau.saml_metadata_check.
METADATA_STRUCTURE_CODES = ("SAML-020", "SAML-021", "SAML-022", "SAML-024", "SAML-025", "SAML-026", "SAML-027")


def load_metadata_input(option, path):
    """IdP metadata through the hardened parser and the metadata core of saml.py; InputRefused if unusable."""
    data = read_file_input(option, path, "metadata")
    from ansible_collections.trustops.tableau.plugins.module_utils import xml as xmlcore
    if not xmlcore.HAS_LXML:
        raise InputRefused("%s %s: checking IdP metadata needs the Python library lxml on the node (Debian: "
                           "python3-lxml); nothing was staged" % (option, path))
    from ansible_collections.trustops.tableau.plugins.module_utils import saml
    try:
        findings, facts = saml.check_idp_metadata(data, "%s %s" % (option, path), max_bytes=reader.MAX_XML)
    except TrustopsError as exc:
        raise _refuse(option, path, exc)
    broken = [f for f in findings if f.code in METADATA_STRUCTURE_CODES]
    if broken:
        raise InputRefused("%s %s: not usable IdP metadata: %s" % (option, path, "; ".join(
            "%s %s" % (f.code, f.message) for f in broken)))
    return facts


def load_client_ca_input(option, path):
    """(certificates, findings) of a client CA file: certificates only, each judged as a trust anchor.

    A private key, a PKCS#12 archive or garbage is refused (InputRefused); a leaf certificate, an
    expired CA or a weak key are ``ANCHOR-NNN`` findings from the shared trust-anchor policy.
    """
    from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
    found = load_certificate_input(option, path)
    findings = []
    for cert in found:
        for item in anchor_policy.check_anchor(cert):
            item.message = "%s %s: %s" % (option, path, item.message)
            findings.append(item)
    return found, findings


def load_crl_input(option, path, issuers=()):
    """(crl, findings) of a revocation list file (PEM or DER), parsed with cryptography.

    ``issuers``: the client CA certificates; when given, the CRL must be issued and signed by one
    of them (finding TSM-013 otherwise).
    """
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    from cryptography import x509
    data = read_file_input(option, path, "crl")
    label = "%s %s" % (option, path)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeError:
            raise InputRefused("%s: not a certificate revocation list (bad UTF-16 text)" % label)
    if b"-----BEGIN" in data:
        blocks = certs.pem_blocks(data, label)
        crls = [block for name, block in blocks if name == b"X509 CRL"]
        if not crls:
            found = ", ".join(name.decode("ascii", "replace") for name, _block in blocks) or "a BEGIN line without END"
            raise InputRefused("%s: not a certificate revocation list (PEM holds %s; expected X509 CRL)" % (label, found))
        try:
            crl = x509.load_pem_x509_crl(crls[0])
        except ValueError as exc:
            raise InputRefused("%s: damaged certificate revocation list (%s)" % (label, str(exc).splitlines()[0][:200]))
    else:
        try:
            crl = x509.load_der_x509_crl(data)
        except ValueError:
            raise InputRefused("%s: not a certificate revocation list (neither a PEM X509 CRL nor DER)" % label)
    findings = []
    if issuers and not any(crl.issuer == ca.subject and _crl_signed_by(crl, ca) for ca in issuers):
        findings.append(Finding("TSM-013", "error", "%s is not issued and signed by the client CA (%s)" % (
            label, "; ".join(ca.subject.rfc4514_string() for ca in issuers)),
            "give the revocation list that the client CA publishes", {"crl_issuer": crl.issuer.rfc4514_string()}))
    return crl, findings


def _crl_signed_by(crl, ca):
    try:
        return crl.is_signature_valid(ca.public_key())
    except Exception:  # an unsupported key type: cannot tell, so not verified
        return False


# --------------------------------------------------------------------------------- client

class TsmClient(object):
    """What the modules need from TSM, whatever the transport."""

    transport = None

    def __init__(self):
        self.calls = []

    @property
    def writes(self):
        """The calls that changed something: state-changing calls that succeeded."""
        return [c for c in self.calls if c.writes and c.rc == 0]

    # read
    def version(self):
        raise NotImplementedError

    def status(self):
        raise NotImplementedError

    def get(self, key):
        raise NotImplementedError

    def get_many(self, keys):
        return dict((key, self.get(key)) for key in keys)

    def export_settings(self):
        raise NotImplementedError

    def pending(self):
        raise NotImplementedError

    # write
    def set_key(self, key, value, force=False, secret=False):
        raise NotImplementedError

    def import_settings(self, config_keys=None, entities=None, force_keys=False, secret_keys=()):
        raise NotImplementedError

    def apply(self, ignore_warnings=False, ignore_prompt=True):
        raise NotImplementedError

    def discard(self):
        raise NotImplementedError

    def saml_configure(self, options):
        raise NotImplementedError

    def saml_map_assertions(self, user_name=None, domain=None):
        raise NotImplementedError

    def saml_enable(self, enabled):
        raise NotImplementedError

    def mutual_ssl_configure(self, options):
        raise NotImplementedError

    def mutual_ssl_enable(self, enabled):
        raise NotImplementedError

    def trusted_configure(self, hosts=None, token_length=None):
        raise NotImplementedError

    def external_ssl_enable(self, cert_file, key_file, chain_file=None, passphrase=None, protocols=None):
        raise NotImplementedError

    def external_ssl_disable(self):
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

    def __init__(self, transport):
        TsmClient.__init__(self)
        self.cli = transport
        self.session = False

    def run(self, args, writes=False, check=True, timeout=None, stdin=None):
        if self.cli.password and not self.session and args[:1] not in (["login"], ["logout"]):
            self.login()
        shown, rc, out, err, seconds = self.cli.run(args, timeout=timeout, stdin=stdin)
        call = Call(shown, rc, out, err, seconds, writes)
        self.calls.append(call)
        if check and rc != 0:
            raise TsmError("%s failed (exit %s): %s" % (call.command, rc, _tail(err or out) or "no output"),
                           command=call.command, rc=rc, stdout=out, stderr=err)
        return call

    # session
    def login(self):
        """``tsm login --username U``, the password on the prompt (standard input), once per task."""
        args, stdin = self.cli.login_args()
        self.run(args, stdin=stdin)
        self.session = True

    def logout(self):
        """End the session this client opened (best effort; a failure is recorded, not raised)."""
        if self.session:
            self.session = False
            self.run(["logout"], check=False)

    # read
    def version(self):
        return self.run(["version"]).stdout.strip()

    def status(self):
        return parse_status(self.run(["status"]).stdout)

    def get(self, key):
        call = self.run(["configuration", "get", "--key", key], check=False)
        value = parse_get(call.stdout, call.stderr, call.rc)
        if value is UNSET:
            return UNSET
        if call.rc != 0:
            raise TsmError("%s failed (exit %s): %s" % (call.command, call.rc, _tail(call.stderr or call.stdout)),
                           command=call.command, rc=call.rc, stdout=call.stdout, stderr=call.stderr)
        return value

    def export_settings(self):
        with self.cli.workdir() as work:
            path = os.path.join(work, "settings.json")
            call = self.run(["settings", "export", "--output-config-file", path])
            try:
                doc = json.loads(reader.read_input(path=path, option="settings export", max_bytes=reader.MAX_TABLE)
                                 .decode("utf-8"))
            except reader.InputError as exc:
                raise TsmError("%s succeeded but wrote no usable file (%s)" % (call.command, exc),
                               command=call.command, rc=call.rc, stdout=call.stdout, stderr=call.stderr)
            except ValueError as exc:
                raise TsmError("%s wrote a file that is not JSON (%s)" % (call.command, exc), command=call.command,
                               rc=call.rc)
        return Settings(doc)

    def pending(self):
        call = self.run(["pending-changes", "list"])
        try:
            return parse_pending(call.stdout)
        except TsmError as exc:
            exc.command = call.command
            raise

    # write
    def set_key(self, key, value, force=False, secret=False):
        """``configuration set``; a secret key goes through ``settings import`` (a 0600 file), never argv."""
        if secret or is_secret_key(key):
            return self.import_settings(config_keys={key: value}, force_keys=force, secret_keys=(key,))
        args = ["configuration", "set", "--key", check_argument("key", key), "--value",
                check_argument(key, tsm_text(value))]
        if force:
            args.append("--force-keys")
        return self.run(args, writes=True)

    def import_settings(self, config_keys=None, entities=None, force_keys=False, secret_keys=()):
        doc = {}
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

    def apply(self, ignore_warnings=False, ignore_prompt=True):
        args = ["pending-changes", "apply"]
        if ignore_prompt:
            args.append("--ignore-prompt")
        if ignore_warnings:
            args.append("--ignore-warnings")
        args += ["--request-timeout", str(self.cli.timeout)]
        return self.run(args, writes=True, timeout=self.cli.timeout)

    def discard(self):
        return self.run(["pending-changes", "discard"], writes=True)

    def saml_configure(self, options):
        args = ["authentication", "saml", "configure"]
        for name in sorted(options, key=list(SAML_FLAGS).index):
            value = options[name]
            if name in _ENABLE_DISABLE:
                value = "enable" if value else "disable"
            args += [SAML_FLAGS[name], check_argument(name, value)]
        return self.run(args, writes=True)

    def saml_map_assertions(self, user_name=None, domain=None):
        args = ["authentication", "saml", "map-assertions"]
        if user_name is not None:
            args += ["--user-name", check_argument("user_name_attribute", user_name)]
        if domain is not None:
            args += ["--domain", check_argument("domain_attribute", domain)]
        return self.run(args, writes=True)

    def saml_enable(self, enabled):
        return self.run(["authentication", "saml", "enable" if enabled else "disable"], writes=True)

    def mutual_ssl_configure(self, options):
        args = ["authentication", "mutual-ssl", "configure"]
        for name in sorted(options, key=list(MUTUAL_SSL_FLAGS).index):
            value = options[name]
            if name == "fallback_to_basic":
                value = "true" if value else "false"
            args += [MUTUAL_SSL_FLAGS[name], check_argument(name, value)]
        return self.run(args, writes=True)

    def mutual_ssl_enable(self, enabled):
        return self.run(["authentication", "mutual-ssl", "enable" if enabled else "disable"], writes=True)

    def trusted_configure(self, hosts=None, token_length=None):
        args = ["authentication", "trusted", "configure"]
        if hosts:
            # the documented form is -th "host1", "host2": one argument per host, comma-terminated
            args.append("--hosts")
            hosts = [check_host("trusted_hosts", h) for h in hosts]
            args += ["%s," % h for h in hosts[:-1]] + [hosts[-1]]
        if token_length is not None:
            args += ["--token-length", str(token_length)]
        return self.run(args, writes=True)

    def external_ssl_enable(self, cert_file, key_file, chain_file=None, passphrase=None, protocols=None):
        """``security external-ssl enable`` without ``--passphrase``; the passphrase follows in a 0600 import.

        The vendor's entity page (entity_mutual_ssl.htm) documents ``mutualSSLSettings.keyPassphrase``
        ("encrypted at rest"), so the passphrase is staged with ``settings import`` after the enable
        call and never appears on a command line.
        """
        args = ["security", "external-ssl", "enable", "--cert-file", check_argument("cert_file", cert_file),
                "--key-file", check_argument("key_file", key_file)]
        if chain_file:
            args += ["--chain-file", check_argument("chain_file", chain_file)]
        if protocols:
            args += ["--protocols", check_argument("protocols", protocols)]
        call = self.run(args, writes=True)
        if passphrase:
            self.import_settings(entities={"mutualSSLSettings": {"_type": "mutualSSLSettingsType",
                                                                 "keyPassphrase": str(passphrase)}})
        return call

    def external_ssl_disable(self):
        return self.run(["security", "external-ssl", "disable"], writes=True)


def connect(transport="cli", tsm_path=None, tsm_user=None, username=None, password=None,
            request_timeout=DEFAULT_TIMEOUT, environ=None, password_on_command_line=False):
    """A TsmClient for the transport (``cli``; ``api`` is not implemented yet)."""
    if transport == "cli":
        if password and not username:
            raise TsmError("password is given without username; give both, or neither (tsm_user in the tsmadmin "
                           "group needs no password)")
        return CliClient(CliTransport(tsm_path=tsm_path, tsm_user=tsm_user, username=username, password=password,
                                      timeout=request_timeout, environ=environ,
                                      password_on_command_line=password_on_command_line))
    if transport == "api":
        raise TsmError("transport api (TSM REST API on port 8850) is not implemented yet; use transport cli")
    raise TsmError("unknown transport %r (supported: %s)" % (transport, ", ".join(TRANSPORTS)))


# Connection options shared by every tsm_* module (plugins/doc_fragments/tsm.py documents them).
CONNECTION_ARGSPEC = dict(
    transport=dict(type="str", default="cli", choices=list(TRANSPORTS)),
    tsm_path=dict(type="path"),
    tsm_user=dict(type="str"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    password_on_command_line=dict(type="bool", default=False),
    request_timeout=dict(type="int", default=DEFAULT_TIMEOUT),
)


def argument_spec(**options):
    spec = dict((k, dict(v)) for k, v in CONNECTION_ARGSPEC.items())
    spec.update(options)
    return spec


def client_from_params(params):
    if params.get("request_timeout") is not None and params["request_timeout"] < 1:
        raise TsmError("request_timeout must be at least 1 second")
    if params.get("username") is not None:
        check_argument("username", params["username"])
    return connect(**dict((k, params.get(k)) for k in CONNECTION_ARGSPEC))


# ---------------------------------------------------------------------------------- plans

class Step(object):
    """One staging call: a client method name, its arguments, and a line for the reader."""

    __slots__ = ("op", "kwargs", "label")

    def __init__(self, op, label, **kwargs):
        self.op = op
        self.kwargs = kwargs
        self.label = label


class Plan(object):
    """What a module will stage: steps, the before/after view for --diff, findings, warnings."""

    def __init__(self, title):
        self.title = title
        self.steps = []
        self.before = []
        self.after = []
        self.changes = []
        self.findings = []
        self.warnings = []
        self.needs_pending = False
        self.secret_values = set()
        self.masked_keys = set()

    def secret(self, name, *values):
        """Record that ``name`` holds a secret: its values are masked in the whole result."""
        self.masked_keys.add(name)
        for value in values:
            if value not in (None, "", UNSET) and not isinstance(value, bool):
                self.secret_values.add(str(value))

    @property
    def changed(self):
        return bool(self.steps)

    def differ(self, name, before, after, secret=False):
        self.changes.append({"name": name, "before": show(before, secret), "after": show(after, secret)})

    def view(self, name, before, after, secret=False):
        self.before.append("%s: %s" % (name, show(before, secret)))
        self.after.append("%s: %s" % (name, show(after, secret)))

    def diff(self):
        return {"before_header": "%s (applied)" % self.title, "after_header": "%s (after apply)" % self.title,
                "before": "\n".join(self.before) + ("\n" if self.before else ""),
                "after": "\n".join(self.after) + ("\n" if self.after else "")}

    def add(self, finding):
        self.findings.append(finding)


def execute(client, plan, done=None):
    """Run the plan's steps in order; returns the labels of the steps that ran.

    ``done`` (a list) is filled as steps succeed, so a caller that reports it on failure says
    exactly what was staged. A failure's message names the step that failed, the steps staged
    before it and the steps not staged.
    """
    done = [] if done is None else done
    for index, step in enumerate(plan.steps):
        try:
            getattr(client, step.op)(**step.kwargs)
        except TsmError as exc:
            rest = [s.label for s in plan.steps[index + 1:]]
            exc.args = ("%s. Failed step: %s. Staged before the failure (pending, not applied): %s. Not staged: %s%s" % (
                exc.args[0], step.label, "; ".join(done) or "nothing", "; ".join([step.label] + rest),
                "; 'tsm pending-changes discard' drops what was staged, running the task again completes it"
                if done else ""),)
            raise
        done.append(step.label)
    return done


def key_steps(plan, settings, desired, force_keys=True, secret_keys=(), separators=None, only_if_unset=(),
              update_secrets=False):
    """Compare configuration keys, record the diff, and add at most two `settings import` steps.

    Keys the server already has go in one import without --force-keys; keys it does not have
    (never set) go in a second import with --force-keys, and only when ``force_keys``; otherwise
    they are reported as errors by the caller through the returned list. Secret keys
    (:func:`is_secret_key`, or ``secret_keys``) are masked everywhere; the server stores them
    encrypted (``ENC(...)``), so they are staged only when the server has no value (or a plain
    one that differs), unless ``update_secrets``. ``only_if_unset`` keys are staged only when the
    server has no value.
    """
    separators = separators or {}
    existing, new, refused = {}, {}, []
    for key in sorted(desired):
        value = desired[key]
        if value is None:
            continue
        secret = key in secret_keys or is_secret_key(key)
        current = settings.key(key)
        if secret:
            plan.secret(key, value, current)
        if key in only_if_unset:
            changed = current in (UNSET, None, "")
        elif secret and not update_secrets and is_encrypted_value(current):
            changed = False
        else:
            changed = update_secrets and secret or not same_value(current, value)
        text = tsm_text(value, separators.get(key, ","))
        plan.view(key, current, text, secret)
        if not changed:
            continue
        plan.differ(key, current, text, secret)
        if current is UNSET:
            if force_keys:
                new[key] = text
            else:
                refused.append(key)
        else:
            existing[key] = text
    if existing:
        plan.steps.append(Step("import_settings", "settings import (%s)" % ", ".join(sorted(existing)),
                               config_keys=existing, secret_keys=tuple(sorted(plan.masked_keys))))
    if new:
        plan.steps.append(Step("import_settings", "settings import --force-keys (%s)" % ", ".join(sorted(new)),
                               config_keys=new, force_keys=True, secret_keys=tuple(sorted(plan.masked_keys))))
    return refused


def plan_config(settings, keys, force_keys=False, update_secrets=False):
    """tsm_config: stage only the keys whose value differs (one import; new keys in a second).

    Every key and value is checked first (:func:`check_config_value`): a refusal stages nothing.
    """
    for key in sorted(keys):
        if keys[key] is not None:
            check_config_value(key, keys[key])
    plan = Plan("TSM configuration keys")
    refused = key_steps(plan, settings, keys, force_keys=force_keys, update_secrets=update_secrets)
    if refused:
        plan.add(Finding("TSM-050", "error", "the server has no key %s (tsm configuration get answers Unknown key)"
                         % ", ".join(refused),
                         "check the spelling and capitalization (keys are case-sensitive); to add a key that was "
                         "never set, use force_keys: true", {"keys": refused}))
    return plan


# ---- SAML

# option -> (samlSettings field, kind); kinds: str, int, bool, cert, file
SAML_FIELDS = {
    "idp_entity_id": ("entityId", "str"), "return_url": ("returnUrl", "str"),
    "idp_metadata_file": ("idpMetadataFile", "file"), "cert_file": ("certFile", "cert"),
    "key_file": ("keyFile", "file"), "max_auth_age": ("maxAuthenticationAge", "int"),
    "desktop_access": ("desktopAccessEnabled", "bool"), "mobile_access": ("appAccessEnabled", "bool"),
    "signout": ("logoutEnabled", "bool"), "signout_url": ("logoutRedirectUrl", "str"),
}
SAML_ASSERTIONS = {"user_name_attribute": "idpUsernameAttribute", "domain_attribute": "idpDomainAttribute"}
SAML_FIRST_TIME = ("idp_entity_id", "return_url", "idp_metadata_file", "cert_file", "key_file")
SAML_KEYS = {
    "key_passphrase": "wgserver.saml.key.passphrase",
    "blocklisted_digest_algorithms": "wgserver.saml.blocklisted_digest_algorithms",
    "min_rsa_key_size": "wgserver.saml.min_allowed.rsa_key_size",
    "min_ec_size": "wgserver.saml.min_allowed.elliptic_curve_size",
    "authcontexts": "wgserver.saml.authcontexts",
    "ignore_domain_in_username": "wgserver.ignore_domain_in_username_for_matching",
}
IGNORE_DOMAIN_WARNING = (
    "wgserver.ignore_domain_in_username_for_matching=true makes Tableau Server match the IdP user name without its "
    "domain: if the IdP serves several domains and two people share the part before the @ (alice@example.com and "
    "alice@tableau.com), one can be signed in as the other")
IGNORE_DOMAIN_REMEDY = (
    "verify that user names are unique across every domain the IdP serves before ignoring the domain; the key only "
    "works in legacy identity mode or on deployments not migrated to the Identity Service, and all user names in "
    "Tableau Server must then have a domain name (seed 002, saml_requ.htm)")


def _compare_file(plan, name, field_label, current_path, desired_path, kind, read=file_digest):
    """Whether the server's file (its recorded path) holds what desired_path holds."""
    want = read(desired_path, kind)
    if want is None:
        raise TrustopsError("%s %s: no such file or not readable on the managed host" % (name, desired_path))
    if current_path in (UNSET, None, ""):
        plan.view(field_label, "(not set)", "%s %s" % (desired_path, want))
        return False
    have = read(current_path, kind)
    if have is None:
        plan.view(field_label, "%s (not readable here)" % current_path, "%s %s" % (desired_path, want))
        return False
    shown = desired_path if have != want else current_path
    plan.view(field_label, "%s %s" % (current_path, have), "%s %s" % (shown, want))
    return have == want


def _compare_fields(plan, settings, entity, fields, desired, read=file_digest):
    """Options (of ``fields``: option -> (field, kind)) whose server value differs."""
    differing = {}
    entity_known = settings.has_entity(entity)
    for option in fields:
        value = desired.get(option)
        if value is None:
            continue
        field, kind = fields[option]
        label = "%s.%s" % (entity, field)
        current = settings.field(entity, field)
        if current is UNSET and entity_known:
            plan.warnings.append("the server's %s entity has no field %s: %s is staged on every run"
                                 % (entity, field, option))
        if kind in ("cert", "file"):
            if not _compare_file(plan, option, label, current, value, kind, read):
                differing[option] = value
                plan.differ(label, current, value)
            continue
        ok = same_value(current, value)
        plan.view(label, current, value)
        if not ok:
            differing[option] = value
            plan.differ(label, current, value)
    return differing


def _effective(settings, pending, entity, field):
    """The value the server will have after apply: pending if staged, else applied."""
    if pending is not None:
        value = pending.value("%s.%s" % (entity, field))
        if value is not UNSET:
            return value
    return settings.field(entity, field)


def _true(value):
    return _canon(value) == "true"


def saml_findings(desired, current_enabled):
    """Policy findings on the desired SAML configuration (no server access)."""
    findings = []
    url = desired.get("return_url")
    if url:
        if url.endswith("/"):
            findings.append(Finding("TSM-002", "error", "return_url %s ends with a slash" % url,
                                    "give the return URL without a trailing slash, exactly as configured in the IdP "
                                    "(SAML URLs are case-sensitive)", {"return_url": url}))
        host = re.sub(r"^[a-z]+://", "", url.lower()).split("/")[0].split(":")[0]
        if not re.match(r"^https?://", url.lower()) or host in ("localhost", "127.0.0.1", "::1", "[::1]"):
            findings.append(Finding("TSM-003", "error", "return_url %s is not an http(s) URL of the server's public "
                                    "name (http://localhost does not work)" % url,
                                    "use the URL users type to reach Tableau Server, e.g. https://tableau.example.com",
                                    {"return_url": url}))
    if desired.get("ignore_domain_in_username"):
        findings.append(Finding("TSM-004", "warning", IGNORE_DOMAIN_WARNING, IGNORE_DOMAIN_REMEDY,
                                {"key": SAML_KEYS["ignore_domain_in_username"]}))
    return findings


def saml_key_findings(cert, key_info, key_path, cert_path, passphrase):
    """TSM-006..008 on a loaded certificate and KeyInfo (see :func:`check_saml_inputs`)."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    findings = []
    info = key_info
    if info.encrypted and info.format == "pkcs1":
        findings.append(Finding("TSM-007", "error", "%s is an encrypted PKCS#1 key: Tableau Server does not support "
                                "password-protected PKCS#1 keys for SAML" % key_path,
                                "convert it to encrypted PKCS#8 (openssl pkcs8 -topk8 -v2 aes256) or remove the "
                                "passphrase", {"format": info.format}))
    elif info.encrypted and not passphrase:
        findings.append(Finding("TSM-008", "error", "%s is encrypted and no key_passphrase was given" % key_path,
                                "set key_passphrase; it is stored as wgserver.saml.key.passphrase",
                                {"format": info.format}))
    if info.key is not None and cert is not None and not certs.key_matches_cert(info.key, cert):
        findings.append(Finding("TSM-006", "error", "%s does not match the certificate %s" % (key_path, cert_path),
                                "give the private key of the SP certificate", {}))
    return findings


# Options of each module that go on tsm's command line as free text (checked by check_argument).
SAML_ARGUMENTS = ("idp_entity_id", "return_url", "signout_url", "user_name_attribute", "domain_attribute")
SAML_LIST_KEYS = ("blocklisted_digest_algorithms", "authcontexts")


def check_saml_inputs(desired, check_key=True):
    """Every value and file of tsm_saml, before anything is staged; returns the policy findings.

    Free-text options: :func:`check_argument`; list keys: :func:`check_item`; ``idp_metadata_file``:
    the hardened parser and the metadata core; ``cert_file``: one certificate; ``key_file``: a
    private key (the passphrase is verified when ``check_key``). Broken input raises InputRefused.
    """
    for option in SAML_ARGUMENTS:
        if desired.get(option) is not None:
            check_argument(option, desired[option])
    for option in SAML_LIST_KEYS:
        for item in desired.get(option) or ():
            check_item(option, item)
    if desired.get("idp_metadata_file"):
        load_metadata_input("idp_metadata_file", desired["idp_metadata_file"])
    cert = None
    if desired.get("cert_file"):
        cert = load_certificate_input("cert_file", desired["cert_file"], exactly_one=True)[0]
    findings = []
    if desired.get("key_file"):
        info = load_key_input("key_file", desired["key_file"], desired.get("key_passphrase"), verify=check_key)
        if check_key:
            findings.extend(saml_key_findings(cert, info, desired["key_file"], desired.get("cert_file"),
                                              desired.get("key_passphrase")))
    return findings


def plan_saml(settings, desired, pending_reader=None, read=file_digest, check_key=True):
    """tsm_saml: configure/map-assertions/keys/enable, only what differs from the applied state.

    ``desired``: option name -> value (None = not managed) for SAML_FIELDS, SAML_ASSERTIONS,
    SAML_KEYS and ``enabled``. ``pending_reader()`` returns the Pending list; it is called only
    when SAML is being enabled (to refuse enabling it next to a pending mutual SSL enable).
    """
    key_findings = check_saml_inputs(desired, check_key=check_key)
    plan = Plan("SAML")
    enabled = desired.get("enabled")
    current_enabled = settings.field("samlSettings", "enabled")
    plan.findings.extend(saml_findings(desired, current_enabled))
    configured = all(settings.field("samlSettings", SAML_FIELDS[o][0]) not in (UNSET, None, "") for o in SAML_FIRST_TIME)

    differing = _compare_fields(plan, settings, "samlSettings", SAML_FIELDS, desired, read)
    if not configured:
        missing = [o for o in SAML_FIRST_TIME if desired.get(o) in (None, "")]
        if missing and (differing or enabled):
            plan.add(Finding("TSM-005", "error", "SAML is not configured on the server yet and the first configuration "
                             "needs %s" % ", ".join(SAML_FIRST_TIME),
                             "give %s" % ", ".join(missing), {"missing": missing}))
    plan.findings.extend(key_findings)
    if differing:
        plan.steps.append(Step("saml_configure", "authentication saml configure (%s)" % ", ".join(sorted(differing)),
                               options=differing))

    assertions = {}
    for option, field in SAML_ASSERTIONS.items():
        value = desired.get(option)
        if value is None:
            continue
        current = settings.field("samlSettings", field)
        plan.view("samlSettings.%s" % field, current, value)
        if not same_value(current, value):
            assertions[option] = value
            plan.differ("samlSettings.%s" % field, current, value)
    if assertions:
        plan.steps.append(Step("saml_map_assertions", "authentication saml map-assertions (%s)" % ", ".join(
            sorted(assertions)), user_name=assertions.get("user_name_attribute"),
            domain=assertions.get("domain_attribute")))

    keys = dict((SAML_KEYS[o], desired.get(o)) for o in SAML_KEYS if desired.get(o) is not None)
    passphrase_key = SAML_KEYS["key_passphrase"]
    # the passphrase is stored encrypted: staged when the server has none, and again with a new key file
    key_steps(plan, settings, keys, force_keys=True, secret_keys=(passphrase_key,),
              update_secrets="key_file" in differing)

    if enabled is not None:
        plan.view("samlSettings.enabled", current_enabled, bool(enabled))
        if not same_value(current_enabled, bool(enabled)):
            plan.differ("samlSettings.enabled", current_enabled, bool(enabled))
            if enabled:
                pending = pending_reader() if pending_reader else None
                if _true(_effective(settings, pending, "mutualSSLSettings", "clientCertRequired")):
                    plan.add(Finding("TSM-001", "error", "refusing to enable SAML: mutual SSL is enabled (or pending) "
                                     "on this server, and Tableau Server does not support mutual SSL and SAML "
                                     "together", "disable mutual SSL first (tsm_mutual_ssl state: disabled), or "
                                     "configure mutual SSL at the IdP instead (seed 002)", {}))
            plan.steps.append(Step("saml_enable", "authentication saml %s" % ("enable" if enabled else "disable"),
                                   enabled=bool(enabled)))
    return plan


# ---- mutual SSL

MUTUAL_SSL_FIELDS = {
    "ca_cert": ("caCertFile", "cert"), "revocation_file": ("revocationFile", "file"),
    "fallback_to_basic": ("fallbackToPassword", "bool"), "user_name_mapping": ("userNameMapping", "str"),
}


def plan_mutual_ssl(settings, desired, pending_reader=None, read=file_digest):
    """tsm_mutual_ssl: configure (only differing options) and enable/disable; refuses SAML + mutual SSL.

    ``ca_cert`` must hold CA certificates that pass the shared trust-anchor policy (ANCHOR-NNN
    findings); ``revocation_file`` must be a CRL (PEM or DER), issued by that CA when both are given.
    """
    plan = Plan("mutual SSL")
    cas = []
    if desired.get("ca_cert"):
        cas, ca_findings = load_client_ca_input("ca_cert", desired["ca_cert"])
        plan.findings.extend(ca_findings)
    if desired.get("revocation_file"):
        _crl, crl_findings = load_crl_input("revocation_file", desired["revocation_file"], cas)
        plan.findings.extend(crl_findings)
    differing = _compare_fields(plan, settings, "mutualSSLSettings", MUTUAL_SSL_FIELDS, desired, read)
    if differing:
        plan.steps.append(Step("mutual_ssl_configure", "authentication mutual-ssl configure (%s)" % ", ".join(
            sorted(differing)), options=differing))
    if desired.get("fallback_to_basic"):
        plan.add(Finding("TSM-012", "warning", "fallback_to_basic: users without a client certificate can sign in with "
                         "a user name and password", "leave fallback_to_basic false unless some clients cannot present "
                         "certificates", {}))
    enabled = desired.get("enabled")
    if enabled is None:
        return plan
    current = settings.field("mutualSSLSettings", "clientCertRequired")
    plan.view("mutualSSLSettings.clientCertRequired", current, bool(enabled))
    if same_value(current, bool(enabled)):
        return plan
    plan.differ("mutualSSLSettings.clientCertRequired", current, bool(enabled))
    if enabled:
        pending = pending_reader() if pending_reader else None
        if _true(_effective(settings, pending, "samlSettings", "enabled")):
            plan.add(Finding("TSM-001", "error", "refusing to enable mutual SSL: SAML is enabled (or pending) on this "
                             "server, and Tableau Server does not support mutual SSL and SAML together",
                             "disable SAML first (tsm_saml state: disabled), or configure mutual SSL at the IdP "
                             "instead (seed 002)", {}))
        if not _true(_effective(settings, pending, "mutualSSLSettings", "sslEnabled")):
            plan.add(Finding("TSM-010", "error", "mutual SSL needs SSL for external traffic, which is not enabled (nor "
                             "pending)", "enable it first with trustops.tableau.tsm_external_ssl", {}))
        ca_now = settings.field("mutualSSLSettings", "caCertFile")
        if not desired.get("ca_cert") and ca_now in (UNSET, None, ""):
            plan.add(Finding("TSM-011", "error", "mutual SSL has no CA certificate configured", "give ca_cert", {}))
    plan.steps.append(Step("mutual_ssl_enable", "authentication mutual-ssl %s" % ("enable" if enabled else "disable"),
                           enabled=bool(enabled)))
    return plan


# ---- trusted authentication

def plan_trusted_auth(settings, desired):
    """tsm_trusted_auth: trusted hosts and token length (one configure call), unrestricted tickets key."""
    plan = Plan("trusted authentication")
    hosts = desired.get("trusted_hosts")
    length = desired.get("token_length")
    options = {}
    if hosts is not None:
        if not hosts or any(not str(h).strip() for h in hosts):
            raise TrustopsError("trusted_hosts: give at least one host name or IP address, no empty entries")
        hosts = [check_host("trusted_hosts", h) for h in hosts]
        current = settings.field("trustedAuthenticationSettings", "trustedHosts")
        plan.view("trustedAuthenticationSettings.trustedHosts", current, list(hosts))
        if not same_value(current, list(hosts), as_list=True, ordered=False):
            options["hosts"] = [str(h).strip() for h in hosts]
            plan.differ("trustedAuthenticationSettings.trustedHosts", current, list(hosts))
    if length is not None:
        if not 9 <= int(length) <= 255:
            plan.add(Finding("TSM-021", "error", "token_length %s is outside 9..255" % length,
                             "choose a length from 9 to 255 (default 24)", {"token_length": length}))
        current = settings.field("trustedAuthenticationSettings", "tokenLength")
        plan.view("trustedAuthenticationSettings.tokenLength", current, length)
        if not same_value(current, length):
            options["token_length"] = int(length)
            plan.differ("trustedAuthenticationSettings.tokenLength", current, length)
    if options:
        plan.steps.append(Step("trusted_configure", "authentication trusted configure (%s)" % ", ".join(sorted(options)),
                               **options))
    unrestricted = desired.get("unrestricted_tickets")
    if unrestricted is not None:
        key_steps(plan, settings, {"wgserver.unrestricted_ticket": bool(unrestricted)})
        if unrestricted:
            plan.add(Finding("TSM-020", "warning", "unrestricted trusted tickets start a full Tableau Server session: "
                             "the user can reach the whole server UI, not only the embedded views",
                             "keep tickets restricted, or block the URI / at the reverse proxy so embedded views "
                             "work and the UI does not (seed 003)", {}))
    return plan


# ---- external SSL

EXTERNAL_SSL_FIELDS = {
    "cert_file": ("certFileName", "cert"), "key_file": ("keyFileName", "file"),
    "chain_file": ("chainFile", "cert"), "protocols": ("protocols", "str"),
}


def external_ssl_findings(cert, key_info, cert_path, key_path, chain_path, passphrase):
    """TSM-030..033 on the loaded server certificate and KeyInfo (see :func:`check_external_ssl_inputs`)."""
    from ansible_collections.trustops.tableau.plugins.module_utils import certs
    findings = []
    info = key_info
    if info.encrypted and not passphrase:
        findings.append(Finding("TSM-033", "error", "%s is encrypted and no passphrase was given" % key_path,
                                "set passphrase", {}))
    if info.encrypted:
        findings.append(Finding("TSM-031", "info", "%s is passphrase-protected: this key cannot also be used for "
                                "SAML" % key_path, "use a separate SAML key, or an unencrypted key for both", {}))
    if info.key is not None and not certs.key_matches_cert(info.key, cert):
        findings.append(Finding("TSM-032", "error", "%s does not match the certificate %s" % (key_path, cert_path),
                                "give the private key of the server certificate", {}))
    if not chain_path and not certs.is_self_signed(cert):
        findings.append(Finding("TSM-030", "warning", "no chain_file: clients that do not fetch intermediate "
                                "certificates (Tableau Mobile on Android) cannot build the chain to the root",
                                "give the intermediate CA certificates as chain_file (PEM, .crt)", {}))
    return findings


def check_external_ssl_inputs(desired, check_key=True):
    """cert_file, key_file, chain_file and protocols of tsm_external_ssl, before anything is staged."""
    if desired.get("protocols") is not None:
        check_argument("protocols", desired["protocols"])
    cert = load_certificate_input("cert_file", desired["cert_file"])[0]
    if desired.get("chain_file"):
        load_certificate_input("chain_file", desired["chain_file"])
    info = load_key_input("key_file", desired["key_file"], desired.get("passphrase"), verify=check_key)
    if not check_key:
        return []
    return external_ssl_findings(cert, info, desired["cert_file"], desired["key_file"], desired.get("chain_file"),
                                 desired.get("passphrase"))


def plan_external_ssl(settings, desired, read=file_digest, check_key=True):
    """tsm_external_ssl: enable (all files in one call when any differs) or disable."""
    plan = Plan("external SSL")
    enabled = desired.get("enabled", True)
    current = settings.field("mutualSSLSettings", "sslEnabled")
    if not enabled:
        plan.view("mutualSSLSettings.sslEnabled", current, False)
        if _true(current):
            plan.differ("mutualSSLSettings.sslEnabled", current, False)
            if _true(settings.field("mutualSSLSettings", "clientCertRequired")):
                plan.add(Finding("TSM-034", "error", "mutual SSL is enabled: external SSL cannot be disabled under it",
                                 "disable mutual SSL first (tsm_mutual_ssl state: disabled)", {}))
            plan.steps.append(Step("external_ssl_disable", "security external-ssl disable"))
        return plan
    if not desired.get("cert_file") or not desired.get("key_file"):
        raise TrustopsError("enabled: true needs cert_file and key_file")
    plan.findings.extend(check_external_ssl_inputs(desired, check_key=check_key))
    if desired.get("passphrase"):
        plan.secret("mutualSSLSettings.keyPassphrase", desired["passphrase"])
    differing = _compare_fields(plan, settings, "mutualSSLSettings", EXTERNAL_SSL_FIELDS, desired, read)
    plan.view("mutualSSLSettings.sslEnabled", current, True)
    if not _true(current):
        plan.differ("mutualSSLSettings.sslEnabled", current, True)
    if differing or not _true(current):
        plan.steps.append(Step("external_ssl_enable", "security external-ssl enable (%s)" % ", ".join(
            sorted(differing) or ["enable"]), cert_file=desired["cert_file"], key_file=desired["key_file"],
            chain_file=desired.get("chain_file"), passphrase=desired.get("passphrase"),
            protocols=desired.get("protocols")))
    return plan


# ---------------------------------------------------------------------------- apply

def apply_pending(client, ignore_warnings=False, allow_restart=True, check_mode=False, result=None):
    """Apply pending changes only if there are some; says whether the server restarted.

    Returns a dict (``result``, filled as it goes, so a failure still reports what was pending):
    applied, pending (list), restart_required, restarted, server_status.
    ``--ignore-prompt`` is always passed: it only suppresses the question (the restart happens
    anyway, as documented); without it tsm would wait for an answer on standard input.
    """
    pending = client.pending()
    result = {} if result is None else result
    result.update(applied=False, pending=pending.as_list(), restart_required=pending.restart_required,
                  restarted=False, server_status=None)
    if not pending:
        return result
    if pending.restart_required:
        result["server_status"] = client.status()
        if not allow_restart and result["server_status"] == "running":
            raise TsmError("the pending changes need a restart of the running server and allow_restart is false; "
                           "nothing was applied (%d change(s) pending)" % len(pending.changes))
    if check_mode:
        result["applied"] = True
        result["restarted"] = pending.restart_required and result["server_status"] == "running"
        return result
    client.apply(ignore_warnings=ignore_warnings, ignore_prompt=True)
    after = client.pending()
    if after:
        raise TsmError("tsm pending-changes apply succeeded but %d change(s) are still pending: %s" % (
            len(after.changes), ", ".join(c.name for c in after.changes)))
    result["applied"] = True
    result["restarted"] = pending.restart_required and result["server_status"] == "running"
    return result


def calls_summary(client):
    """tsm_calls / commands return values."""
    if client is None:
        return {"tsm_calls": 0, "commands": []}
    return {"tsm_calls": len(client.calls), "commands": [c.command for c in client.calls]}


# ------------------------------------------------------------------- module glue (duck-typed)

class PolicyRefusal(TrustopsError):
    """A finding of severity error: the module changes nothing."""


def stage(module, client, plan, result):
    """Report a plan (changes, diff, findings, warnings) and stage it unless check mode.

    ``module`` is an AnsibleModule (only params, check_mode, _diff and warn are used). Error
    findings refuse the whole plan before any call that changes something.
    """
    mask(module, plan.secret_values)
    result["findings"] = [f.as_dict() for f in plan.findings]
    result["changes"] = list(plan.changes)
    result["staged"] = []
    result["masked_keys"] = sorted(plan.masked_keys)
    for warning in plan.warnings:
        module.warn(warning)
    for finding in plan.findings:
        if finding.severity == "warning":
            module.warn("%s: %s" % (finding.code, finding.message))
    if getattr(module, "_diff", False):
        result["diff"] = plan.diff()
    errors = [f for f in plan.findings if f.severity == "error"]
    if errors:
        raise PolicyRefusal("refusing to change %s: %s" % (plan.title, "; ".join(
            "%s %s" % (f.code, f.message) for f in errors)))
    result["changed"] = plan.changed
    if plan.changed and not module.check_mode:
        execute(client, plan, result["staged"])
    return result


def secret_values(keys):
    """The values of the secret keys (:func:`is_secret_key`) of a ``{key: value}`` dict, as text."""
    out = []
    for key, value in (keys or {}).items():
        if is_secret_key(key) and value is not None:
            out.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
            out.append(tsm_text(value) if not isinstance(value, dict) else str(value))
    return out


def mask(module, values):
    """Mask secret values in the module's whole result, ``invocation`` included (no_log_values)."""
    for value in values or ():
        if value not in (None, "") and hasattr(module, "no_log_values"):
            module.no_log_values.add(str(value))


def run_module(module, body, result=None):
    """Run body(client, result); turn errors into fail_json with the command, exit code and stderr."""
    import traceback
    result = {} if result is None else result
    result.setdefault("changed", False)
    client = None
    failure = None
    try:
        client = client_from_params(module.params)
        body(client, result)
    except TsmError as exc:
        failure = dict(msg=str(exc), rc=exc.rc, cmd=exc.command, stdout=exc.stdout, stderr=exc.stderr)
    except TrustopsError as exc:
        wrote = bool(client and client.writes)
        failure = dict(msg="%s; %s" % (exc, "nothing was changed" if not wrote
                                       else "see staged and commands for what was staged"))
    except Exception as exc:  # pragma: no cover - a bug; report it without a raw traceback
        failure = dict(msg="unexpected error: %s" % exc, exception=traceback.format_exc())
    finally:
        if client is not None and getattr(client, "session", False):
            try:
                client.logout()
            except TsmError:
                pass
    result.update(calls_summary(client))
    if failure is not None:
        # changed only when a state-changing call really succeeded (a failed import stages nothing)
        result["changed"] = bool(client and client.writes)
        module.fail_json(**dict(result, **failure))
    module.exit_json(**result)


def _public(option, kind, value):
    if kind == "bool":
        return None if value in (UNSET, None) else _true(value)
    if kind == "int":
        return None if value in (UNSET, None, "") else (int(value) if _INT.match(str(value)) else value)
    return None if value is UNSET else value


def describe_settings(settings):
    """The authentication state by module option names (for tsm_info); secrets only as set/not set."""
    saml = {"enabled": _public("enabled", "bool", settings.field("samlSettings", "enabled"))}
    for option, (field, kind) in SAML_FIELDS.items():
        saml[option] = _public(option, kind, settings.field("samlSettings", field))
    for option, field in SAML_ASSERTIONS.items():
        saml[option] = _public(option, "str", settings.field("samlSettings", field))
    saml_keys = {}
    for option, key in SAML_KEYS.items():
        value = settings.key(key)
        if option == "key_passphrase":
            saml_keys["key_passphrase_set"] = value not in (UNSET, None, "")
        else:
            saml_keys[option] = None if value is UNSET else value
    mutual = {"enabled": _public("enabled", "bool", settings.field("mutualSSLSettings", "clientCertRequired"))}
    for option, (field, kind) in MUTUAL_SSL_FIELDS.items():
        mutual[option] = _public(option, kind, settings.field("mutualSSLSettings", field))
    external = {"enabled": _public("enabled", "bool", settings.field("mutualSSLSettings", "sslEnabled"))}
    for option, (field, kind) in EXTERNAL_SSL_FIELDS.items():
        external[option] = _public(option, kind, settings.field("mutualSSLSettings", field))
    passphrase = settings.field("mutualSSLSettings", "keyPassphrase")
    external["passphrase_set"] = passphrase not in (UNSET, None, "")
    hosts = settings.field("trustedAuthenticationSettings", "trustedHosts")
    trusted = {"trusted_hosts": None if hosts is UNSET else hosts,
               "token_length": _public("token_length", "int", settings.field("trustedAuthenticationSettings",
                                                                             "tokenLength")),
               "unrestricted_tickets": _public("u", "bool", settings.key("wgserver.unrestricted_ticket"))}
    return {"saml": saml, "saml_keys": saml_keys, "mutual_ssl": mutual, "external_ssl": external,
            "trusted_auth": trusted}


MANAGED_KEYS = tuple(SAML_KEYS.values()) + ("wgserver.unrestricted_ticket",)
SECRET_KEYS = (SAML_KEYS["key_passphrase"],)
