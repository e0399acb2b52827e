# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the TSM client reaches ``tsm``: :class:`CliTransport` runs the executable on the node
(optionally as another OS user), standard input closed, with a timeout. The ``api`` transport
(TSM REST API on port 8850) can implement the same interface later.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import DEFAULT_TIMEOUT, Secret, TsmError, _plain, _quote, valid_argument, masked

TRANSPORTS = ("cli",)
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
