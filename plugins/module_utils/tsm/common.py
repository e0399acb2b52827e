# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TSM basics shared by every layer: the error type, UNSET, masked arguments and recorded calls,
and the one rule for what is secret and what may reach tsm's command line.

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

MASK = "********"
DEFAULT_TIMEOUT = 1800


class _Unset:
    """A key the server does not have ("Unknown key")."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = _Unset()


class TsmError(TrustopsError):
    """A tsm call failed, or its output could not be understood."""

    def __init__(self, message: str, command: str | None = None, rc: int | None = None, stdout: str = "",
                 stderr: str = "") -> None:
        TrustopsError.__init__(self, message)
        self.command = command
        self.rc = rc
        self.stdout = stdout or ""
        self.stderr = stderr or ""


class Secret:
    """An argument that must never be shown (password, passphrase)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = "" if value is None else str(value)

    def __str__(self) -> str:
        return MASK

    __repr__ = __str__


def masked(argv: list) -> list[str]:
    """The command line as shown: every :class:`Secret` as ``********``."""
    return [str(a) for a in argv]


def _plain(argv: list) -> list[str]:
    return [a.value if isinstance(a, Secret) else str(a) for a in argv]


def _quote(argv: list[str]) -> str:
    out = []
    for arg in argv:
        out.append(arg if re.match(r"^[\w@%+=:,./*-]+$", arg) else "'{}'".format(arg.replace("'", "'\"'\"'")))
    return " ".join(out)


class Call:
    """One tsm invocation: the masked command line, exit code, output and duration."""

    __slots__ = ("argv", "rc", "stdout", "stderr", "seconds", "writes")

    def __init__(self, argv: list[str], rc: int | None, stdout: str, stderr: str, seconds: float, writes: bool) -> None:
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.writes = writes

    @property
    def command(self) -> str:
        return _quote(self.argv)

    def as_dict(self) -> dict:
        return {"command": self.command, "rc": self.rc, "seconds": round(self.seconds, 3), "writes": self.writes}


def _tail(text: str | None, limit: int = 1500) -> str:
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


def is_secret_key(name: Any) -> bool:
    """The one rule: whether a TSM configuration key or ``entity.field`` holds a secret."""
    if name in KNOWN_SECRET_KEYS:
        return True
    flat = re.sub(r"[._\-\[\]]", "", str(name or "")).lower()
    return any(word in flat for word in _SECRET_WORDS)


def is_encrypted_value(value: Any) -> bool:
    """A value TSM stored encrypted (``ENC(...)``): never returned, never comparable."""
    return isinstance(value, str) and value.strip().startswith("ENC(")


class InputRefused(TrustopsError):
    """A value or file that must not reach tsm; the message names the option and what to do."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def valid_argument(option: str, value: Any) -> str:
    """A value that goes on tsm's command line as one argument: refused when tsm could misread it.

    ``tsm`` reads an argument starting with ``-`` as its next option (``--hosts -t``); the vendor
    pages document no ``--option=value`` form nor a ``--`` terminator, so such values are refused.
    Control characters (newlines) are refused too.
    """
    text = "" if value is None else str(value)
    if text.startswith("-"):
        raise InputRefused(f"{option}: {text!r} starts with '-', which tsm would read as an option; give the value itself "
                           "(nothing was staged)")
    if _CONTROL.search(text):
        raise InputRefused(f"{option}: {text!r} holds a newline or another control character; give a single-line value "
                           "(nothing was staged)")
    return text


def valid_item(option: str, value: Any) -> str:
    """One item of a list that TSM stores joined with commas: no separators, whitespace or leading '-'."""
    text = valid_argument(option, value)
    if not text.strip():
        raise InputRefused(f"{option}: an empty item; remove it (nothing was staged)")
    if re.search(r"[,;\s]", text):
        raise InputRefused(f"{option}: {text!r} holds a comma, semicolon or whitespace; TSM stores the list joined with "
                           "commas and would split it, so it would never match what you gave; give each value "
                           "as its own list item (nothing was staged)")
    return text


_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def valid_host(option: str, value: Any) -> str:
    """A host name (RFC 1123) or an IPv4/IPv6 address, as one list item."""
    text = valid_item(option, value)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InputRefused(f"{option}: {text!r} is neither a host name (letters, digits, '-' and dots) nor an IP address "
                           "(nothing was staged)")
    return text


_KEY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-\[\]]*$")


def valid_config_value(key: str, value: Any) -> Any:
    """A tsm_config key and its value; raises InputRefused for what TSM would store as something else.

    Scalars (text, numbers, booleans) are staged as text; a list of scalars is joined with commas
    (each item checked by :func:`valid_item`). A dict, or a list holding lists or dicts, has no
    form in TSM's configuration keys and is refused (it would be staged as Python text).
    """
    if not _KEY_NAME.match(str(key)):
        raise InputRefused(f"keys: {key!r} is not a TSM configuration key name (letters, digits, '.', '_', '-'); "
                           "nothing was staged")
    if isinstance(value, dict):
        raise InputRefused(f"keys.{key}: a dictionary has no form in a TSM configuration key (it would be staged as "
                           "Python text); give a string, number, boolean or a list of them (nothing was staged)")
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (dict, list, tuple)):
                raise InputRefused(f"keys.{key}: a list item that is itself a list or dictionary has no form in a TSM "
                                   "configuration key; give a list of strings or numbers (nothing was staged)")
            if not isinstance(item, bool):
                valid_item(f"keys.{key}", item)
        return value
    if isinstance(value, str) and _CONTROL.search(value):
        raise InputRefused(f"keys.{key}: the value holds a newline or another control character; give a single-line "
                           "value (nothing was staged)")
    return value
