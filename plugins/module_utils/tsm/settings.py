# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What tsm prints, read: ``configuration get``, ``status``, ``pending-changes list`` and the
``settings export`` JSON (:class:`Settings`), and how desired values compare with the server's
(TSM stores text).

Pure Python, no Ansible imports.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.tsm.common import MASK, UNSET, TsmError, _tail, is_encrypted_value, is_secret_key


# ------------------------------------------------------------------------------- parsers

def parse_get(stdout: str, stderr: str, rc: int | None) -> Any:
    """The value `configuration get` printed: a string, None for "Null", UNSET for "Unknown key"."""
    text = f"{stdout}\n{stderr}"
    if re.search(r"unknown key", text, re.I):
        return UNSET
    if rc != 0:
        return None  # the caller raises
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if not lines:
        return ""
    value = lines[-1]
    return None if value.lower() == "null" else value


def parse_status(text: str) -> str:
    """running | stopped | degraded | ... (lower case) from `tsm status`."""
    match = re.search(r"^\s*Status:\s*([A-Za-z_]+)", text, re.M)
    if not match:
        raise TsmError(f"cannot read the server status from tsm status output: {_tail(text, 300)!r}")
    return match.group(1).lower()


class Change:
    """One pending change: section (configKeys|configEntities|topology), name, value, restart."""

    __slots__ = ("section", "name", "value", "restart")

    def __init__(self, section: str, name: str, value: Any, restart: bool = True) -> None:
        self.section = section
        self.name = name
        self.value = value
        self.restart = restart

    def as_dict(self) -> dict:
        value = show(self.value, True) if is_secret_key(self.name) or is_encrypted_value(self.value) else self.value
        return {"section": self.section, "name": self.name, "value": value, "restart": self.restart}

    def __repr__(self) -> str:
        return f"Change({self.section}, {self.name}={self.value!r}, restart={self.restart})"


class Pending:
    """Parsed `pending-changes list`."""

    def __init__(self, changes: list[Change], restart_required: bool, text: str = "") -> None:
        self.changes = changes
        self.restart_required = restart_required
        self.text = text

    def __bool__(self) -> bool:
        return bool(self.changes)

    def value(self, name: str) -> Any:
        """The pending value of an entity field or key (``samlSettings.enabled``), or UNSET."""
        for change in reversed(self.changes):
            if change.name == name:
                return change.value
        return UNSET

    def as_list(self) -> list[dict]:
        return [c.as_dict() for c in self.changes]


_HEADERS = ("pending changes", "pending config changes", "pending configuration changes", "configkeys",
            "configentities", "topology", "pending topology changes", "config", "configuration")
_NO_RESTART = re.compile(r"\s*\((?:does not require a (?:server )?restart|no restart required|dynamic)\)\s*$", re.I)
_ITEM = re.compile(r"^\s*([A-Za-z_][\w\-\[\]]*(?:\.[\w\-\[\]]+)+)\s*[:=]\s?(.*?)\s*$")


def parse_pending(text: str | None) -> Pending:
    """Structured changes from `tsm pending-changes list`; raises TsmError on text it cannot read.

    Understood: a header ("Pending changes:"), section lines (``configKeys:``,
    ``configEntities:``, topology), items ``name: value`` (an item marked "(does not require a
    restart)" needs none), a closing sentence saying whether the changes require a restart, and
    "There are no pending changes." (or nothing at all) for an empty list.
    """
    lines = [line.rstrip() for line in (text or "").splitlines()]
    content = [line for line in lines if line.strip()]
    if not content:
        return Pending([], False, text or "")
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
        raise TsmError(f"cannot read the output of tsm pending-changes list: {_tail(text, 500)!r}")
    if summary_restart is False:
        for change in changes:
            change.restart = False
    restart_required = any(c.restart for c in changes) if summary_restart is None else (
        bool(summary_restart) and bool(changes))
    return Pending(changes, restart_required, text or "")


class Settings:
    """`settings export` JSON: configKeys and configEntities (the applied configuration)."""

    def __init__(self, doc: Any) -> None:
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

    def key(self, name: str) -> Any:
        return self.keys[name] if name in self.keys else UNSET

    def has_entity(self, name: str) -> bool:
        return isinstance(self.entities.get(name), dict)

    def field(self, entity: str, name: str) -> Any:
        body = self.entities.get(entity)
        if not isinstance(body, dict) or name not in body:
            return UNSET
        return body[name]


# ------------------------------------------------------------------------ value handling

_INT = re.compile(r"^[+-]?\d+$")


def tsm_text(value: Any, separator: str = ",") -> str | None:
    """A desired value as TSM stores it (strings; booleans lower case; lists joined)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return separator.join(tsm_text(v) or "" for v in value)
    return str(value)


def _canon(value: Any) -> Any:
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


def _items(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    text = "" if value is None else str(value)
    return [_canon(p.strip()) for p in text.split(",") if p.strip()]


def same_value(current: Any, desired: Any, as_list: bool = False, ordered: bool = True) -> bool:
    """Whether the server's value already is the desired one (TSM stores text)."""
    if current is UNSET:
        return False
    if as_list or isinstance(desired, (list, tuple)):
        a, b = _items(current), _items(desired)
        return a == b if ordered else sorted(a) == sorted(b)
    if current is None:
        return desired is None or desired == ""
    return _canon(current) == _canon(desired)


def show(value: Any, secret: bool = False) -> str:
    """A value for people (changes, --diff): secrets and encrypted values as ``********``."""
    if secret or is_encrypted_value(value):
        return MASK if value not in (None, "", UNSET) else "(not set)"
    if value is UNSET:
        return "(not set)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[{}]".format(", ".join(str(v) for v in value))
    return str(value)


def secret_values(keys: dict | None) -> list[str]:
    """The values of the secret keys (:func:`is_secret_key`) of a ``{key: value}`` dict, as text."""
    out: list[str] = []
    for key, value in (keys or {}).items():
        if is_secret_key(key) and value is not None:
            out.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
            out.append(str(value) if isinstance(value, dict) else tsm_text(value) or "")
    return out
