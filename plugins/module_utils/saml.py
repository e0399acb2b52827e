# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tableau Server's SAML requirements as data, and the checks that apply them.

Every checkable sentence of Tableau's "SAML Requirements" page is a :class:`Rule` with a code
(``SAML-0NN`` for the SP certificate, SP key, IdP/SP metadata and URLs; ``SAML-1NN`` for
assertions and responses, registered by ``saml_response``), a severity, a message template,
a remedy and, where Tableau has one, the TSM configuration key that relaxes it.  Checks return
:class:`Finding` lists; broken input (unreadable files, malformed XML) raises
:class:`TrustopsError` subclasses.

Pure Python, no Ansible imports.
"""

from __future__ import annotations


from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    Finding,
    TrustopsError,
)


class SamlError(TrustopsError):
    """SAML input that cannot be checked at all (as opposed to a policy finding)."""


class Rule(object):
    """One requirement: ``code``, default ``severity``, ``message`` and ``remedy`` templates
    (``str.format`` with named fields), the relaxing ``tsm_key`` (or None) and the ``seed``
    sentence of Tableau's documentation it comes from."""

    __slots__ = ("code", "severity", "message", "remedy", "tsm_key", "seed")

    def __init__(self, code, severity, message, remedy, tsm_key=None, seed=""):
        Finding(code, severity, message)  # validates the severity
        self.code = code
        self.severity = severity
        self.message = message
        self.remedy = remedy
        self.tsm_key = tsm_key
        self.seed = seed

    def finding(self, severity=None, data=None, **fmt):
        """A Finding of this rule; ``fmt`` fills the templates and is kept in ``data``."""
        values = dict(fmt)
        message = self.message.format(**values)
        remedy = self.remedy.format(**values)
        if self.tsm_key and "TSM key" not in remedy:
            remedy = "%s (TSM key %s relaxes this rule)" % (remedy, self.tsm_key) if remedy else \
                "TSM key %s relaxes this rule" % self.tsm_key
        payload = {}
        for key, value in values.items():
            if isinstance(value, (str, int, float, bool, type(None))):
                payload[key] = value
            elif isinstance(value, (list, tuple)):
                payload[key] = [v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
                                for v in value]
            else:
                payload[key] = str(value)
        payload.update(data or {})
        if self.tsm_key:
            payload.setdefault("tsm_key", self.tsm_key)
        return Finding(self.code, severity or self.severity, message, remedy, payload)

    def as_dict(self):
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "remedy": self.remedy, "tsm_key": self.tsm_key, "seed": self.seed}

    def __repr__(self):
        return "Rule(%s, %s)" % (self.code, self.severity)


RULES = {}


def register(*rules):
    """Add rules to :data:`RULES`; a code registered twice is a programming error."""
    for rule in rules:
        if rule.code in RULES and RULES[rule.code] is not rule:
            raise ValueError("rule %s registered twice" % rule.code)
        RULES[rule.code] = rule
    return rules


def finding(code, severity=None, data=None, **fmt):
    """The Finding of rule ``code`` (see :data:`RULES`) with its templates filled from ``fmt``."""
    return RULES[code].finding(severity=severity, data=data, **fmt)


def normalise_digest(name):
    """``SHA-1``, ``sha1``, ``RSA-SHA1`` and XML-DSig URIs ending ``#sha1`` all give ``sha1``."""
    text = str(name).strip().lower()
    for sep in ("#", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
    for prefix in ("rsa-", "ecdsa-", "dsa-", "hmac-"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.replace("-", "").replace("_", "")


class Policy(object):
    """The thresholds Tableau Server enforces, with the vendor defaults (the TSM keys)."""

    __slots__ = ("blocklisted_digests", "min_rsa_key_size", "min_ec_key_size")

    def __init__(self, blocklisted_digests=("sha1",), min_rsa_key_size=2048, min_ec_key_size=256):
        self.blocklisted_digests = tuple(sorted({normalise_digest(d) for d in blocklisted_digests or ()}))
        self.min_rsa_key_size = int(min_rsa_key_size)
        self.min_ec_key_size = int(min_ec_key_size)

    def digest_blocked(self, name):
        return name is not None and normalise_digest(name) in self.blocklisted_digests

    @classmethod
    def from_params(cls, params):
        return cls(params.get("blocklisted_digests", ("sha1",)), params.get("min_rsa_key_size", 2048),
                   params.get("min_ec_key_size", 256))


#: argument_spec entries matching doc fragment trustops.tableau.saml_policy
POLICY_ARGUMENT_SPEC = {
    "blocklisted_digests": {"type": "list", "elements": "str", "default": ["sha1"]},
    "min_rsa_key_size": {"type": "int", "default": 2048},
    "min_ec_key_size": {"type": "int", "default": 256},
    "fail_on": {"type": "str", "choices": ["error", "warning", "never"], "default": "error"},
}
