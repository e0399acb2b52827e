# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one result type of every check: a Finding with a code, a severity and a remedy.

Pure Python, no Ansible imports: modules turn lists of findings into results.
"""

from __future__ import annotations

from typing import Any

import operator
import string
from collections.abc import Callable, Iterable

SEVERITIES = ("info", "warning", "error")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class TrustopsError(Exception):
    """Broken input (not policy): what was wrong and where. Modules turn it into fail_json."""


class Finding:
    """One result of a check. ``code`` is ``AREA-NNN``; ``severity`` is info|warning|error."""

    __slots__ = ("code", "severity", "message", "remedy", "data")

    def __init__(self, code, severity, message, remedy="", data=None):
        if severity not in _RANK:
            raise ValueError(f"unknown severity {severity!r}")
        self.code = code
        self.severity = severity
        self.message = message
        self.remedy = remedy
        self.data = dict(data or {})

    def as_dict(self):
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "remedy": self.remedy,
            "data": dict(self.data),
        }

    def __repr__(self):
        return f"Finding({self.code}, {self.severity}, {self.message!r})"


class Rule:
    """One vendor requirement: ``code``, default ``severity``, ``message`` and ``remedy`` templates
    (``str.format`` with named fields), the ``seed`` sentence of the vendor article it comes from,
    the relaxing TSM configuration key ``tsm_key`` (or None) and a short ``title`` for the
    finding catalogue.  A check makes its findings only through :meth:`finding` (or its area's
    :meth:`Registry.finding`), so a code's text lives in one place and the catalogue
    (docs/catalogue.md, built by ``scripts/docs``) is generated from it."""

    __slots__ = ("code", "severity", "message", "remedy", "tsm_key", "seed", "title", "_filled")

    def __init__(self, code: str, severity: str, message: str, remedy: str,
                 tsm_key: str | None = None, seed: str = "", title: str = "") -> None:
        Finding(code, severity, message)  # validates the severity
        self.code = code
        self.severity = severity
        self.message = message
        self.remedy = remedy
        self.tsm_key = tsm_key
        self.seed = seed
        self.title = title
        self._filled = self._templates()

    def _templates(self) -> tuple[str, str, Callable[[dict], str], Callable[[dict], str]]:
        """(message, remedy, the function that fills the message, the remedy's), made when the
        templates are set or changed (:func:`_filler`: audits make a finding per certificate)."""
        made = self._filled = (self.message, self.remedy, _filler(self.message), _filler(self.remedy))
        return made

    def finding(self, severity: Any = None, data: Any = None, **fmt: Any) -> Finding:
        """A Finding of this rule; ``fmt`` fills the templates and is kept in ``data``."""
        made = self._filled
        if made[0] is not self.message or made[1] is not self.remedy:
            made = self._templates()
        message = made[2](fmt)
        remedy = made[3](fmt)
        if self.tsm_key and "TSM key" not in remedy:
            relax = f"TSM key {self.tsm_key} relaxes this rule"
            remedy = f"{remedy} ({relax})" if remedy else relax
        payload = fmt  # the keyword arguments: a dict of this call's own
        if not _SCALARS.issuperset(map(type, fmt.values())):
            for key, value in fmt.items():
                payload[key] = _plain(value)
        if data:
            payload.update(data)
        if self.tsm_key:
            payload.setdefault("tsm_key", self.tsm_key)
        if severity is None:
            severity = self.severity  # checked when the rule was made
        elif severity not in _RANK:
            raise ValueError(f"unknown severity {severity!r}")
        # payload is this call's own dict: the Finding keeps it rather than a copy
        found = Finding.__new__(Finding)
        found.code, found.severity, found.message, found.remedy, found.data = (self.code, severity, message, remedy,
                                                                               payload)
        return found

    def as_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "remedy": self.remedy, "tsm_key": self.tsm_key, "seed": self.seed,
                "title": self.title}

    def __repr__(self) -> str:
        return f"Rule({self.code}, {self.severity})"


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _filler(template: str) -> Callable[[dict], str]:
    """The function that fills ``template`` (``str.format`` with named fields) from a dict, as
    ``template.format_map`` does, but cheaper where it can: the text itself when there is no field;
    when every field is plain (``{name}``, ``{name!r}``, ``{name!s}``), ``%`` on the values picked
    by one ``operator.itemgetter`` (3-4 times faster than ``str.format``: audits make a finding per
    certificate); else ``template.format_map``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return template.format_map  # raises the same ValueError when used
    out, names = [], []
    for literal, name, spec, conversion in parsed:
        out.append(literal.replace("%", "%%"))
        if name is None:
            continue
        if spec or not name.isidentifier() or conversion not in (None, "r", "s"):
            return template.format_map
        out.append("%r" if conversion == "r" else "%s")
        names.append(name)
    text = "".join(out)
    if not names:
        text = text.replace("%%", "%")
        return lambda _fmt: text
    pick = operator.itemgetter(*names)
    if len(names) == 1:
        return lambda fmt: text % (pick(fmt),)
    return lambda fmt: text % pick(fmt)


def _plain(value):
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for v in value]
    return str(value)


class Registry:
    """The rules of one area (``prefix`` such as ``SAML``), in registration order.

    ``topic`` names the seed topic of the readiness report and the catalogue section; ``seeds``
    the vendor articles the rules come from.  Registering a code twice, or a code of another
    prefix, is a programming error."""

    def __init__(self, prefix: str, topic: str, seeds: str = "") -> None:
        self.prefix = prefix
        self.topic = topic
        self.seeds = seeds
        self.rules: dict[str, Rule] = {}

    def register(self, *rules: Rule) -> tuple:
        for rule in rules:
            if not rule.code.startswith(self.prefix + "-"):
                raise ValueError(f"rule {rule.code} is not a {self.prefix} rule")
            if rule.code in self.rules and self.rules[rule.code] is not rule:
                raise ValueError(f"rule {rule.code} registered twice")
            self.rules[rule.code] = rule
        return rules

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    def finding(self, code: str, severity: Any = None, data: Any = None, **fmt: Any) -> Finding:
        """The Finding of rule ``code`` with its templates filled from ``fmt``."""
        return self.rules[code].finding(severity=severity, data=data, **fmt)

    def __iter__(self):
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)


def worst(findings: Iterable[Finding]) -> str | None:
    """The highest severity among findings, or None when there are none."""
    ranks = [_RANK[f.severity] for f in findings]
    return SEVERITIES[max(ranks)] if ranks else None


def fails(findings: Iterable[Finding], fail_on: str = "error") -> bool:
    """True when a finding reaches the ``fail_on`` threshold (error|warning|never)."""
    if fail_on == "never":
        return False
    if fail_on not in _RANK:
        raise ValueError(f"fail_on must be error, warning or never, not {fail_on!r}")
    return any(_RANK[f.severity] >= _RANK[fail_on] for f in findings)


def summary(findings: Iterable[Finding]) -> str:
    """A one-line text naming the codes, for module messages."""
    findings = list(findings)
    if not findings:
        return "no findings"
    return "; ".join(f"{f.severity} {f.code}: {f.message}" for f in findings)


def from_dicts(items: Iterable[dict]) -> list[Finding]:
    """Findings again from a task result's ``findings`` (the dicts :meth:`Finding.as_dict` gives)."""
    return [Finding(d["code"], d["severity"], d.get("message", ""), d.get("remedy", ""), d.get("data"))
            for d in items]


# --------------------------------------------------------------------------- findings for people
#: At most this many failing codes are spelled out (message and remedy) in a failure message;
#: at most this many findings become warnings of one task; the rest are counted (every finding
#: stays in the result's ``findings`` and the readiness report).
SHOWN = 5
WARNED = 10
#: A message or remedy is cut to this many characters in a task's message or warning.
LINE = 200


def one_line(text: object, limit: int = LINE) -> str:
    """``text`` on one line (whitespace runs become one space), cut to ``limit`` characters with '...'."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[:limit - 3].rstrip() + "..."


def failing(findings: Iterable[Finding], fail_on: str = "error") -> tuple[list[Finding], list[Finding]]:
    """(the findings that fail the task at ``fail_on``, the others), each in their order."""
    findings = list(findings)
    if fail_on == "never":
        return [], findings
    if fail_on not in _RANK:
        raise ValueError(f"fail_on must be error, warning or never, not {fail_on!r}")
    threshold = _RANK[fail_on]
    return ([f for f in findings if _RANK[f.severity] >= threshold],
            [f for f in findings if _RANK[f.severity] < threshold])


def _by_code(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """``{"severity CODE": [findings]}`` in the order each (severity, code) first appears."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f"{f.severity} {f.code}", []).append(f)
    return groups


def _counted(key: str, count: int) -> str:
    return key if count == 1 else f"{key} x{count}"


def code_counts(findings: Iterable[Finding]) -> str:
    """``error SSL-010 x3, error SSL-007`` : each (severity, code) once, with its count, in order."""
    items = [_counted(key, len(group)) for key, group in _by_code(findings).items()]
    if len(items) > WARNED:
        items = items[:WARNED] + [f"{len(items) - WARNED} other codes"]
    return ", ".join(items)


def short_summary(findings: Iterable[Finding], limit: int = WARNED) -> str:
    """:func:`summary` of the first ``limit`` findings, the rest counted by code: bounded for big audits."""
    findings = list(findings)
    text = summary(findings[:limit])
    if len(findings) > limit:
        text += f"; and {len(findings) - limit} more: {code_counts(findings[limit:])}"
    return text


def _more(count: int, what: str) -> str:
    return (f"and {count} more {what} (every finding, with its remedy, is in the task result's 'findings' and in "
            "the readiness report)")


def warning_lines(findings: Iterable[Finding], limit: int = WARNED) -> list[str]:
    """One line per finding, ``CODE (severity): message``, for findings that do not fail their task.

    A plain ``ansible-playbook`` run shows these as warnings, so no finding goes unseen; above
    ``limit`` the rest are counted in one last line.
    """
    findings = list(findings)
    lines = [f"{f.code} ({f.severity}): {one_line(f.message)}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(_more(len(findings) - limit, "findings"))
    return lines


def failure_message(label: str, findings: Iterable[Finding], fail_on: str = "error", limit: int = SHOWN) -> str:
    """The message of a task that fails on its findings: for each failing code (the first ``limit``
    codes; the rest counted) its count, the message of its first finding and its remedy, then the
    codes of the other findings.

    One entry per code, not per finding, so the message names every failing code with its remedy
    and does not grow with the number of certificates, hosts or files that repeat a code.
    """
    bad, other = failing(findings, fail_on)
    groups = list(_by_code(bad).items())
    parts = []
    for key, group in groups[:limit]:
        first = group[0]
        parts.append("{}: {} Remedy: {}".format(
            _counted(key, len(group)) + (", e.g." if len(group) > 1 else ""), one_line(first.message),
            one_line(first.remedy or "see the finding catalogue")))
    if len(groups) > limit:
        rest = [f for _key, group in groups[limit:] for f in group]
        parts.append(_more(len(rest), f"failing findings: {code_counts(rest)}"))
    text = f"{label}: {len(bad)} finding(s) at or above fail_on={fail_on}: {' | '.join(parts)}"
    if other:
        text += f" | also: {code_counts(other)}"
    return text


class Outcome:
    """How a check task ends, without Ansible: ``failed``, ``msg``, the returned values ``out``,
    the ``warnings`` a person must see, and for a missing library the ``exception`` text.

    A module ends with it through ``_module.end`` (``module.warn`` each warning, then
    ``fail_json``/``exit_json``); the in-process action of a check returns the same values as
    its result, so both paths say the same thing.
    """

    __slots__ = ("failed", "msg", "out", "warnings", "exception")

    def __init__(self, failed: bool, msg: str, out: dict | None = None, warnings: Iterable[str] = (),
                 exception: str | None = None) -> None:
        self.failed = failed
        self.msg = msg
        self.out = dict(out or {})
        self.warnings = list(warnings)
        self.exception = exception

    @classmethod
    def error(cls, msg: str, exception: str | None = None, warnings: Iterable[str] = ()) -> Outcome:
        """A task that cannot check at all (broken input, a missing library): nothing but the message."""
        return cls(True, msg, None, warnings, exception)

    def __repr__(self) -> str:
        return f"Outcome(failed={self.failed!r}, msg={self.msg!r}, warnings={len(self.warnings)})"


def conclude(findings: Iterable[Finding], out: dict, label: str, fail_on: str = "error", changed: bool = False,
             warnings: Iterable[str] = ()) -> Outcome:
    """The end of a check: ``out`` plus every finding and ``ok``; failed when a finding reaches
    ``fail_on``, with :func:`failure_message` (each failing code, its message and remedy); else
    :func:`short_summary`.  Findings that do not fail the task become warning lines
    (:func:`warning_lines`) after ``warnings``, so a plain run shows them.
    """
    findings = list(findings)
    out = dict(out, changed=changed, findings=[f.as_dict() for f in findings], ok=worst(findings) != "error")
    bad, other = failing(findings, fail_on)
    lines = list(warnings) + warning_lines(other)
    if bad:
        return Outcome(True, failure_message(label, findings, fail_on), out, lines)
    return Outcome(False, short_summary(findings), out, lines)
