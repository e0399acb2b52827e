# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the TSM client reaches TSM: :class:`CliTransport` runs the ``tsm`` executable on the node
(optionally as another OS user), standard input closed, with a timeout; :class:`ApiTransport` sends
HTTPS requests to the TSM API (port 8850) from wherever the module runs, verifying the server's
certificate, keeping the session cookie, following no redirect.

Pure Python, no Ansible imports (the API transport uses the standard library's ``urllib`` and ``ssl``,
imported when it is used: a task on the CLI transport does not pay for them).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - annotations only; the API transport imports ssl where it is used
    import ssl

from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import DEFAULT_TIMEOUT, Secret, TsmError, _plain, _quote, valid_argument, masked

TRANSPORTS = ("cli", "api")
# Where Tableau Server for Linux installs tsm when it is not on the PATH of a non-login shell.
TSM_GLOBS = ("/opt/tableau/tableau_server/packages/customer-bin.*/tsm",)
_SBIN = ("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin")


# ----------------------------------------------------------------------------- transport

class CliTransport:
    """Runs ``tsm`` (optionally as another OS user), standard input closed, with a timeout."""

    def __init__(self, tsm_path: str | None = None, tsm_user: str | None = None, username: str | None = None,
                 password: str | None = None, timeout: int = DEFAULT_TIMEOUT, environ: Mapping[str, str] | None = None,
                 password_on_command_line: bool = False) -> None:
        self.tsm_path = tsm_path
        self.tsm_user = tsm_user or None
        self.username = username or None
        self.password = password if password not in (None, "") else None
        self.password_on_command_line = bool(password_on_command_line)
        self.timeout = int(timeout or DEFAULT_TIMEOUT)
        self.environ = environ
        self._executable: str | None = None
        self._prefix: list[str] | None = None
        self._run_as: tuple[str, int, int] | bool | None = None  # False: tsm_user is the module's user

    def executable(self) -> str:
        """The ``tsm`` to run: ``tsm_path``, else ``tsm`` on the PATH, else the newest installed one."""
        if self._executable:
            return self._executable
        path: str | None
        if self.tsm_path:
            path = self.tsm_path
            if os.path.isdir(path):
                path = os.path.join(path, "tsm")
            if not os.path.isfile(path):
                raise TsmError(f"tsm_path {self.tsm_path}: no such file on the managed host")
            if not os.access(path, os.X_OK):
                raise TsmError(f"tsm_path {path}: not executable")
        else:
            path = shutil.which("tsm")
            if not path:
                found = sorted(p for pattern in TSM_GLOBS for p in glob.glob(pattern) if os.access(p, os.X_OK))
                path = found[-1] if found else None
            if not path:
                raise TsmError("tsm not found on the PATH nor in {}; set tsm_path".format(", ".join(TSM_GLOBS)))
        self._executable = path
        return path

    def run_as(self) -> tuple[str, int, int] | None:
        """(name, uid, gid) of tsm_user when tsm must run as another user, else None."""
        if self._run_as is not None or not self.tsm_user:
            return self._run_as if isinstance(self._run_as, tuple) else None
        valid_argument("tsm_user", self.tsm_user)
        try:
            entry = pwd.getpwnam(self.tsm_user)
        except KeyError:
            raise TsmError(f"tsm_user {self.tsm_user}: no such user on the managed host")
        if entry.pw_uid == os.geteuid():
            self._run_as = False
            return None
        self._run_as = (entry.pw_name, entry.pw_uid, entry.pw_gid)
        return self._run_as

    def prefix(self) -> list[str]:
        """``runuser -u USER --`` (as root) or ``sudo -n -u USER --`` when tsm runs as ``tsm_user``."""
        if self._prefix is not None:
            return self._prefix
        who = self.run_as()
        if not who:
            self._prefix = []
        elif os.geteuid() == 0:
            runuser = shutil.which("runuser", path=os.pathsep.join(_SBIN))
            if not runuser:
                raise TsmError(f"tsm_user {who[0]}: runuser (util-linux) not found; cannot run tsm as another user")
            self._prefix = [runuser, "-u", valid_argument("tsm_user", who[0]), "--"]
        else:
            sudo = shutil.which("sudo", path=os.pathsep.join(_SBIN))
            if not sudo:
                raise TsmError(f"tsm_user {who[0]}: running tsm as another user needs root (become) or sudo")
            self._prefix = [sudo, "-n", "-u", valid_argument("tsm_user", who[0]), "--"]
        return self._prefix

    def global_options(self) -> list[str]:
        """Options every call carries: only ``--username`` when no password is given.

        With a password the module signs in once (:meth:`login`) and later calls use the session
        TSM keeps for the OS user (cli_login.htm: "If you do not include this option, the
        command is run using credentials you signed in with"), so no call carries the password.
        """
        if self.username and not self.password:
            return ["--username", valid_argument("username", self.username)]
        return []

    def login_args(self) -> tuple[list, bytes | None]:
        """``tsm login`` arguments and its standard input: the password goes to the prompt, not argv."""
        args = ["login", "--username", valid_argument("username", self.username)]
        if self.password_on_command_line:
            return args + ["--password", Secret(self.password)], None
        return args, ((self.password or "") + "\n").encode("utf-8")

    @contextlib.contextmanager
    def workdir(self) -> Iterator[str]:
        """A private directory for files exchanged with tsm, owned by the user tsm runs as."""
        path = tempfile.mkdtemp(prefix="trustops-tsm-")
        try:
            who = self.run_as()
            if who:
                try:
                    os.chown(path, who[1], who[2])
                except OSError as exc:
                    raise TsmError(f"cannot hand the work directory {path} to tsm_user {who[0]} ({exc}); run the task with become")
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def give(self, path: str) -> None:
        """Make a file we wrote readable by the user tsm runs as (mode stays 0600)."""
        who = self.run_as()
        if who:
            os.chown(path, who[1], who[2])

    def run(self, args: list, timeout: int | None = None,
            stdin: bytes | None = None) -> tuple[list[str], int, str, str, float]:
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
            raise TsmError(f"cannot run {_quote(shown)}: {exc}", command=_quote(shown))
        try:
            out, err = proc.communicate(input=stdin, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, err = proc.communicate()
            raise TsmError(f"{_quote(shown)} did not finish within {limit} s (request_timeout) and was stopped; if it "
                           "was applying changes, TSM may still finish the job: check 'tsm pending-changes list' and "
                           "run the task again", command=_quote(shown), rc=None,
                           stdout=out.decode("utf-8", "replace"), stderr=err.decode("utf-8", "replace"))
        return (shown, proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                time.time() - started)


def _kill(proc: Any) -> None:
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


# ----------------------------------------------------------------------------- API transport

#: The TSM API's port and the version of its endpoints when ``tsm_url`` names none (the vendor's
#: reference: ``https://<server>:8850/api/0.5/<endpoint>``).
API_PORT = 8850
API_VERSION = "0.5"
_API_PATH = re.compile(r"^/api/[0-9]+(?:\.[0-9]+)*$")


def api_base(url: str) -> tuple[str, str]:
    """(``https://host:port``, ``/api/<version>``) of a ``tsm_url``; TsmError for what cannot be meant.

    Only https (the password travels in the sign-in request); no user or password in the URL; the
    port defaults to 8850 and the path to ``/api/0.5`` (give ``https://host:8850/api/1.0`` for another).
    """
    text = str(url or "").strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme != "https":
        raise TsmError(f"tsm_url {text!r}: must start with https:// (the TSM API is HTTPS only, and the password is "
                       "sent to it)")
    if parts.username is not None or parts.password is not None:
        raise TsmError("tsm_url: must not hold a user name or password; give username and password")
    if not parts.hostname:
        raise TsmError(f"tsm_url {text!r}: no host name")
    if parts.query or parts.fragment:
        raise TsmError(f"tsm_url {text!r}: no query or fragment, only https://host[:port][/api/<version>]")
    try:
        port = parts.port or API_PORT
    except ValueError as exc:
        raise TsmError(f"tsm_url {text!r}: {exc}")
    path = parts.path.rstrip("/") or "/api/" + API_VERSION
    if not _API_PATH.match(path):
        raise TsmError(f"tsm_url {text!r}: the path must be /api/<version> (for example /api/0.5) or nothing")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"https://{host}:{port}", path


def _no_redirect() -> Any:
    """A redirect handler that follows none: a redirect is an answer, not an instruction, so the session
    cookie never goes elsewhere."""
    import urllib.request  # pylint: disable=import-outside-toplevel

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # pylint: disable=too-many-arguments
            return None

    return NoRedirect()


class ApiTransport:
    """HTTPS requests to the TSM API: one base URL, certificate verification, the session cookie.

    ``validate_certs`` true (the default) verifies the server's certificate and host name, against
    ``ca_path`` when given (TSM's self-signed certificate, or the CA that issued TSM's certificate), else
    against the trust store of the host the module runs on. False skips verification (the caller warns).
    """

    def __init__(self, url: str, validate_certs: bool = True, ca_path: str | None = None,
                 timeout: int = DEFAULT_TIMEOUT) -> None:
        self.origin, self.prefix = api_base(url)
        self.validate_certs = bool(validate_certs)
        self.ca_path = ca_path or None
        self.timeout = int(timeout or DEFAULT_TIMEOUT)
        self.cookies: dict[str, str] = {}
        self._opener: Any = None

    def context(self) -> ssl.SSLContext:
        import ssl  # pylint: disable=import-outside-toplevel,redefined-outer-name

        if not self.validate_certs:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if self.ca_path:
            if not os.path.isfile(self.ca_path) or not os.access(self.ca_path, os.R_OK):
                raise TsmError(f"ca_path {self.ca_path}: no such readable file on the host the module runs on")
            try:
                return ssl.create_default_context(cafile=self.ca_path)
            except (ssl.SSLError, ValueError) as exc:
                raise TsmError(f"ca_path {self.ca_path}: not a PEM certificate file ({exc})")
        return ssl.create_default_context()

    def opener(self) -> Any:
        if self._opener is None:
            import urllib.request  # pylint: disable=import-outside-toplevel

            self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.context()), _no_redirect())
        return self._opener

    def shown(self, path: str, query: Mapping[str, str] | None = None) -> str:
        """The request target as recorded and shown: the path and query (never a body)."""
        return self.prefix + path + ("?" + urllib.parse.urlencode(sorted(query.items())) if query else "")

    def request(self, method: str, path: str, query: Mapping[str, str] | None = None, body: Any = None,
                data: bytes | None = None, content_type: str | None = None,
                timeout: int | None = None) -> tuple[int, dict, bytes, float]:
        """(HTTP status, headers (lower-case names), body bytes, seconds) of one request; HTTP errors are
        answers; TsmError when there is no answer (certificate, connection, timeout)."""
        import ssl  # pylint: disable=import-outside-toplevel,redefined-outer-name
        import urllib.error  # pylint: disable=import-outside-toplevel
        import urllib.request  # pylint: disable=import-outside-toplevel

        target = self.shown(path, query)
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in sorted(self.cookies.items()))
        request = urllib.request.Request(self.origin + target, data=data, method=method, headers=headers)
        started = time.time()
        limit = timeout or self.timeout
        try:
            response = self.opener().open(request, timeout=limit)
            status, reply, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, reply, payload = exc.code, exc.headers, exc.read()
        except urllib.error.URLError as exc:
            raise TsmError(self._unreachable(method, target, exc.reason, limit), command=f"{method} {target}")
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            raise TsmError(self._unreachable(method, target, exc, limit), command=f"{method} {target}")
        self._keep_cookies(reply.get_all("Set-Cookie") or [])
        return status, dict((k.lower(), v) for k, v in reply.items()), payload, time.time() - started

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            pair = line.split(";", 1)[0]
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                continue
            if value.strip() and "max-age=0" not in line.lower().replace(" ", ""):
                self.cookies[name] = value.strip()
            else:
                self.cookies.pop(name, None)

    def _unreachable(self, method: str, target: str, reason: Any, limit: int) -> str:
        import ssl  # pylint: disable=import-outside-toplevel,redefined-outer-name

        where = f"{method} {self.origin}{target}"
        if isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(reason):
            detail = getattr(reason, "verify_message", None) or str(reason)
            return (f"{where}: the TSM server's certificate is not trusted ({detail}). TSM uses a self-signed "
                    "certificate by default: give ca_path (that certificate, or the CA that issued TSM's certificate, "
                    "in PEM); validate_certs: false skips the check and lets anyone on the path read the password")
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"{where}: no answer within {limit} s (request_timeout)"
        return f"{where}: cannot reach the TSM API ({reason}); check tsm_url and that port {self.origin.rsplit(':', 1)[-1]} " \
               "is open from the host the module runs on"
