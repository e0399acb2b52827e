# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the Finding type and the severity helpers every check and module relies on."""

from __future__ import annotations

import json

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import findings
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError
from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    SEVERITIES,
    Finding,
    TrustopsError,
    fails,
    summary,
    worst,
)

INFO = Finding("TEST-001", "info", "just so you know")
WARN = Finding("TEST-002", "warning", "should fix", remedy="do X")
ERR = Finding("TEST-003", "error", "must fix", remedy="do Y", data={"path": "/etc/x"})


def test_severities_are_ordered():
    assert SEVERITIES == ("info", "warning", "error")


def test_finding_fields_and_dict():
    assert ERR.as_dict() == {"code": "TEST-003", "severity": "error", "message": "must fix",
                             "remedy": "do Y", "data": {"path": "/etc/x"}}
    assert INFO.remedy == "" and INFO.data == {}
    json.dumps([f.as_dict() for f in (INFO, WARN, ERR)])  # modules return them as JSON


def test_finding_copies_its_data():
    data = {"n": 1}
    f = Finding("TEST-004", "info", "m", data=data)
    data["n"] = 2
    assert f.data == {"n": 1}
    f.as_dict()["data"]["n"] = 3  # a caller editing a returned dict leaves the finding alone
    assert f.data == {"n": 1}


@pytest.mark.parametrize("severity", ["fatal", "ERROR", "", None, "warn"])
def test_unknown_severity_is_refused(severity):
    with pytest.raises(ValueError, match="unknown severity"):
        Finding("TEST-005", severity, "m")


def test_slots_keep_findings_small_and_strict():
    with pytest.raises(AttributeError):
        setattr(INFO, "extra", 1)


def test_repr_names_code_and_severity():
    assert repr(WARN) == "Finding(TEST-002, warning, 'should fix')"


def test_worst():
    assert worst([]) is None
    assert worst([INFO]) == "info"
    assert worst([INFO, WARN]) == "warning"
    assert worst([ERR, INFO, WARN]) == "error"
    assert worst(iter([WARN, INFO])) == "warning"  # any iterable


@pytest.mark.parametrize("fail_on,items,expected", [
    ("error", [], False),
    ("error", [INFO, WARN], False),
    ("error", [INFO, ERR], True),
    ("warning", [INFO], False),
    ("warning", [WARN], True),
    ("warning", [ERR], True),
    ("info", [INFO], True),
    ("never", [ERR, ERR], False),
])
def test_fails(fail_on, items, expected):
    assert fails(items, fail_on) is expected


def test_fails_defaults_to_error():
    assert fails([ERR]) and not fails([WARN])


@pytest.mark.parametrize("fail_on", ["fatal", "", None, "Error"])
def test_fails_refuses_unknown_threshold(fail_on):
    with pytest.raises(ValueError, match="fail_on"):
        fails([ERR], fail_on)


def test_summary():
    assert summary([]) == "no findings"
    text = summary([WARN, ERR])
    assert text == "warning TEST-002: should fix; error TEST-003: must fix"


def test_error_hierarchy():
    assert issubclass(TrustopsError, Exception)
    assert issubclass(CertificateError, TrustopsError)
    assert findings.TrustopsError is TrustopsError
    with pytest.raises(TrustopsError, match="where: what"):
        raise CertificateError("where: what")
