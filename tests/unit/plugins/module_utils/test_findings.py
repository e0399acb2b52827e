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
        INFO.extra = 1  # pylint: disable=assigning-non-slot


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


# --------------------------------------------------------------------------- findings for people

from ansible_collections.trustops.tableau.plugins.module_utils import findings as fmod  # noqa: E402


def _f(code, severity, message="m", remedy="r"):
    return fmod.Finding(code, severity, message, remedy)


def test_failure_message_carries_code_message_and_remedy_of_each_failing_finding():
    found = [_f("X-001", "error", "the key is weak", "re-issue it with 2048 bits"),
             _f("X-002", "warning", "expires soon", "renew it"), _f("X-003", "info", "fyi", "none")]
    text = fmod.failure_message("label", found, "error")
    assert text.startswith("label: 1 finding(s) at or above fail_on=error: ")
    assert "error X-001: the key is weak Remedy: re-issue it with 2048 bits" in text
    assert text.endswith("| also: warning X-002, info X-003")
    assert "renew it" not in text  # remedies of non-failing findings are in the result, not the line


def test_a_long_failure_is_summarised_with_a_count_and_stays_short():
    found = [_f(f"X-{i:03d}", "error", f"certificate {i} maps to a user of another domain " * 5,
                "give each user one name " * 30) for i in range(200)]
    text = fmod.failure_message("mutual_ssl", found, "error")
    assert "and 195 more failing findings: error X-005, error X-006" in text and "'findings'" in text
    assert len(text) < 4000, len(text)
    assert "\n" not in text


def test_warning_lines_name_code_severity_and_one_line_message_and_count_the_rest():
    found = [_f(f"T-{i:03d}", "warning", "line one\nline two") for i in range(12)]
    lines = fmod.warning_lines(found)
    assert lines[0] == "T-000 (warning): line one line two"
    assert len(lines) == 11 and lines[-1].startswith("and 2 more findings")


def test_failing_splits_by_threshold():
    found = [_f("A-1", "info"), _f("A-2", "warning"), _f("A-3", "error")]
    assert [f.code for f in fmod.failing(found, "warning")[0]] == ["A-2", "A-3"]
    assert fmod.failing(found, "never") == ([], found)
    with pytest.raises(ValueError):
        fmod.failing(found, "sometimes")


def test_one_line_cuts_long_text():
    assert fmod.one_line("a  b\n c") == "a b c"
    cut = fmod.one_line("x" * 500, limit=50)
    assert len(cut) == 50 and cut.endswith("...")


# --------------------------------------------------------------------------- rules fill their templates

@pytest.mark.parametrize("template,values", [
    ("plain text, 100% of it {{braces}}", {}),
    ("{source}: {count} of {total} (50%)", {"source": "a.pem", "count": 3, "total": 4.5}),
    ("the CN {value!r} is {value!s}", {"value": "jsmith"}),
    ("{size:,} bits", {"size": 4096}),
    ("{names[0]} first", {"names": ["x", "y"]}),
    ("{one}", {"one": ("a", "tuple")}),
])
def test_a_rule_fills_its_templates_as_str_format_does(template, values):
    rule = findings.Rule("TEST-010", "warning", template, "remedy: " + template)
    found = rule.finding(**values)
    assert found.message == template.format(**values)
    assert found.remedy == "remedy: " + template.format(**values)


def test_a_rule_missing_a_field_raises_as_str_format_does():
    rule = findings.Rule("TEST-011", "error", "{a} and {b}", "r")
    with pytest.raises(KeyError):
        rule.finding(a=1)


def test_a_rule_follows_a_changed_template_and_keeps_its_own_data():
    rule = findings.Rule("TEST-012", "info", "old {x}", "fix {x}")
    rule.message = "new {x}"
    data = {"where": "here"}
    found = rule.finding(data=data, x=[1, object])
    assert found.message == "new [1, <class 'object'>]" and found.remedy == "fix [1, <class 'object'>]"
    assert found.data == {"x": [1, "<class 'object'>"], "where": "here"}
    found.data["where"] = "elsewhere"
    assert data == {"where": "here"}  # the finding's data is its own
    assert rule.finding(severity="error", x=1).severity == "error"
    with pytest.raises(ValueError, match="unknown severity"):
        rule.finding(severity="fatal", x=1)
