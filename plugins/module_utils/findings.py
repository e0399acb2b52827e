# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one result type of every check: a Finding with a code, a severity and a remedy.

Pure Python, no Ansible imports: modules turn lists of findings into results.
"""

from __future__ import annotations

SEVERITIES = ("info", "warning", "error")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class TrustopsError(Exception):
    """Broken input (not policy): what was wrong and where. Modules turn it into fail_json."""


class Finding(object):
    """One result of a check. ``code`` is ``AREA-NNN``; ``severity`` is info|warning|error."""

    __slots__ = ("code", "severity", "message", "remedy", "data")

    def __init__(self, code, severity, message, remedy="", data=None):
        if severity not in _RANK:
            raise ValueError("unknown severity %r" % (severity,))
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
        return "Finding(%s, %s, %r)" % (self.code, self.severity, self.message)


def worst(findings):
    """The highest severity among findings, or None when there are none."""
    ranks = [_RANK[f.severity] for f in findings]
    return SEVERITIES[max(ranks)] if ranks else None


def fails(findings, fail_on="error"):
    """True when a finding reaches the ``fail_on`` threshold (error|warning|never)."""
    if fail_on == "never":
        return False
    if fail_on not in _RANK:
        raise ValueError("fail_on must be error, warning or never, not %r" % (fail_on,))
    return any(_RANK[f.severity] >= _RANK[fail_on] for f in findings)


def summary(findings):
    """A one-line text naming the codes, for module messages."""
    if not findings:
        return "no findings"
    return "; ".join("%s %s: %s" % (f.severity, f.code, f.message) for f in findings)
