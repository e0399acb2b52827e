# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness report of a real run against what the modules returned (Ansible's own JSON record)."""

from __future__ import annotations

# pytest fixtures are passed by the name they are defined with
# pylint: disable=redefined-outer-name

import html
import json
import os
import re
from collections import Counter

import jsonschema
from junitparser import Error, Failure, JUnitXml, Skipped

from readiness_runs import main_run  # noqa: F401  pylint: disable=unused-import
from readiness_runs import MAIN_HOSTS, PASSPHRASE, ROOT, SECRET, XSS_TEXT

SEVERITIES = ("error", "warning", "info")
OURS = "trustops.tableau."


def ran(record):
    """(host, task name) -> the result Ansible recorded, for every task that was not skipped."""
    out = {}
    for play in record["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if not result.get("skipped"):
                    out[(host, task["task"]["name"])] = result
    return out


def all_results(record):
    """(host, task name, result) of every task of the run, skipped ones included."""
    return [(host, task["task"]["name"], result) for play in record["plays"] for task in play["tasks"]
            for host, result in task["hosts"].items()]


def module_findings(result):
    """(code, severity, message) of every finding a result holds, loop items included."""
    found = [(f["code"], f["severity"], f["message"]) for f in result.get("findings") or []]
    for item in result.get("results") or []:
        if isinstance(item, dict) and not item.get("skipped"):
            found.extend((f["code"], f["severity"], f["message"]) for f in item.get("findings") or [])
    return found


def test_run_writes_the_three_files_and_nothing_else(main_run):
    assert main_run.rc in (2, 4), main_run.stderr[-3000:]
    assert sorted(os.listdir(main_run.out)) == ["readiness.html", "readiness.json", "readiness.junit.xml"]


def test_json_is_valid_against_the_documented_schema(main_run):
    with open(os.path.join(ROOT, "docs", "readiness.schema.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    report = main_run.report()
    errors = ["{}: {}".format("/".join(str(p) for p in e.absolute_path), e.message) for e in validator.iter_errors(report)]
    assert errors == []
    assert report["schema_version"].startswith("1.")
    assert report["files"] == {"html": main_run.html, "json": main_run.json, "junit": main_run.junit}


def test_findings_per_host_are_those_the_modules_returned(main_run):
    report = main_run.report()
    results = ran(main_run.ansible_record())
    for host in MAIN_HOSTS:
        expected = sorted(f for (name, task), result in results.items() if name == host for f in module_findings(result))
        got = sorted((f["code"], f["severity"], f["message"]) for f in report["findings"] if f["host"] == host)
        assert got == expected, host
        row = [h for h in report["hosts"] if h["name"] == host][0]
        assert row["findings"] == {s: sum(1 for f in expected if f[1] == s) for s in SEVERITIES}, host
        assert row["checks"] == sum(1 for (name, task), result in results.items()
                                    if name == host and result["action"].startswith(OURS)), host
    # the deliberate findings are there: SHA-1 and 1024-bit SAML certificate, ambiguous client names
    codes = Counter((f["host"], f["code"]) for f in report["findings"])
    assert codes[("tab-weak", "SAML-005")] == 1 and codes[("tab-weak", "SAML-006")] == 1
    assert codes[("tab-fail", "SAML-005")] == 1
    assert codes[("tab-ambiguous", "SSL-007")] == 2
    total = Counter(f["severity"] for f in report["findings"])
    assert report["summary"]["findings"] == {"error": total["error"], "warning": total["warning"], "info": total["info"],
                                             "total": len(report["findings"])}
    assert total["error"] >= 8 and total["warning"] >= 2


def test_loop_results_keep_their_item_label(main_run):
    report = main_run.report()
    items = sorted(f["item"] for f in report["findings"] if f["host"] == "tab-ambiguous")
    assert items == ["batch-1", "batch-2"]


def test_task_status_verdicts_and_changes(main_run):
    report = main_run.report()
    record = ran(main_run.ansible_record())
    tasks = {(t["host"], t["task"]): t for t in report["tasks"]}
    # a check that failed on its findings
    failed = tasks[("tab-fail", "SAML SP certificate and key (fails on errors)")]
    module = record[("tab-fail", "SAML SP certificate and key (fails on errors)")]
    assert module["failed"] is True
    assert (failed["status"], failed["check"], failed["message"]) == ("failed", True, module["msg"])
    # the host that cannot be reached
    gone = tasks[("tab-gone", "Stage the server settings")]
    assert record[("tab-gone", "Stage the server settings")]["unreachable"] is True
    assert gone["status"] == "unreachable" and gone["message"]
    verdicts = {h["name"]: h["verdict"] for h in report["hosts"]}
    assert verdicts == {"tab-ambiguous": "not_ready", "tab-fail": "not_ready", "tab-gone": "unreachable",
                        "tab-good": "ready", "tab-weak": "not_ready"}
    assert report["summary"]["verdict"] == "not_ready"
    # what changed: exactly the tasks Ansible recorded as changed, per host
    changed = sorted((host, task) for (host, task), result in record.items() if result.get("changed"))
    assert sorted((c["host"], c["task"]) for c in report["changes"]) == changed
    assert changed == [("tab-good", "Stage the server settings"), ("tab-good", "Use a token"),
                       ("tab-weak", "Stage the server settings")]
    assert tasks[("tab-good", "Use a token")]["no_log"] is True
    stats = {h["name"]: h["stats"] for h in report["hosts"]}
    assert stats["tab-fail"]["failures"] == 1 and stats["tab-gone"]["unreachable"] == 1
    assert stats["tab-good"]["changed"] == 2


def test_topics_and_catalogue_links(main_run):
    report = main_run.report()
    for finding in report["findings"]:
        family = finding["code"].split("-")[0]
        assert finding["topic"] == {"SAML": "saml", "SSL": "mutual_ssl"}[family]
        page = "catalogue.md"
        link = finding["catalogue"]
        assert link.endswith("{}#{}".format(page, finding["code"].lower()))
        # the default base is the relative path from the report to this collection's docs
        target = os.path.normpath(os.path.join(main_run.out, link.split("#")[0]))
        assert target == os.path.join(ROOT, "docs", page) and os.path.isfile(target)
        # the anchor is the code's heading in the catalogue
        with open(target, encoding="utf-8") as handle:
            assert "\n### {}\n".format(finding["code"]) in handle.read()
    topics = {t["id"]: t for t in report["topics"]}
    for topic_id in ("saml", "mutual_ssl"):
        own = [f for f in report["findings"] if f["topic"] == topic_id]
        assert topics[topic_id]["findings"] == {s: sum(1 for f in own if f["severity"] == s) for s in SEVERITIES}
    assert topics["client_trust"]["seeds"] == ["000", "001"] and topics["embedded"]["seeds"] == ["003"]
    assert topics["saml"]["hosts"] == ["tab-fail", "tab-weak"]


def test_junit_as_read_by_junitparser(main_run):
    report = main_run.report()
    xml = JUnitXml.fromfile(main_run.junit)
    suites = {suite.name: suite for suite in xml}
    assert sorted(suites) == sorted(MAIN_HOSTS)
    record = main_run.ansible_record()
    totals = Counter()
    for host in MAIN_HOSTS:
        mine = [(task, result) for name, task, result in all_results(record) if name == host]
        cases = [(task, result) for task, result in mine
                 if result["action"].startswith(OURS) or result.get("failed") or result.get("unreachable")]
        errors = sum(1 for task, result in cases for f in module_findings(result) if f[1] == "error")
        failed_without_errors = sum(1 for task, result in cases if result.get("failed")
                                    and not any(f[1] == "error" for f in module_findings(result)))
        suite = list(suites[host])
        assert len(suite) == len(cases), host
        results = [r for case in suite for r in case.result]
        failures = [r for r in results if isinstance(r, Failure)]
        assert len(failures) == errors + failed_without_errors, host
        assert sum(1 for r in results if isinstance(r, Error)) == sum(1 for t, r in cases if r.get("unreachable"))
        assert sum(1 for r in results if isinstance(r, Skipped)) == sum(1 for t, r in cases if r.get("skipped"))
        assert suites[host].tests == len(cases)
        assert suites[host].failures == sum(1 for case in suite if any(isinstance(r, Failure) for r in case.result))
        totals["tests"] += len(cases)
        # each error finding is a failure whose type is its code; warnings are in system-out
        expected_codes = sorted(f[0] for t, r in cases for f in module_findings(r) if f[1] == "error")
        assert sorted(f.type for f in failures if f.type != "task-failed") == expected_codes
        warnings = [f for t, r in cases for f in module_findings(r) if f[1] == "warning"]
        out = "\n".join(case.system_out or "" for case in suite)
        for code, severity, message in warnings:
            assert f"{severity} {code}: {message}" in out
    assert xml.tests == totals["tests"]
    gone = list(suites["tab-gone"])
    assert [type(r) for case in gone for r in case.result].count(Error) == 1
    assert report["summary"]["unreachable_tasks"] == 1


def test_html_renders_messages_as_text(main_run):
    with open(main_run.html, encoding="utf-8") as handle:
        page = handle.read()
    # the module messages carry a path with <script> in it: escaped, never markup
    assert html.escape(XSS_TEXT) in page
    assert XSS_TEXT not in page
    assert len(re.findall(r"<script", page, re.I)) == 1
    # self-contained: no external resource of any kind, a CSP that forbids them
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert csp and html.unescape(csp.group(1)).startswith("default-src 'none'; ")
    assert not re.search(r"\bsrc\s*=", page)
    assert "url(" not in page and "@import" not in page
    assert not re.search(r"<link(?![^>]*href=\"data:)", page)


def test_no_secret_or_module_argument_in_any_report_file(main_run):
    secrets = [PASSPHRASE, SECRET]
    for name in ("good-sp.key", "good-sp-enc.key", "weak-sp.key"):
        with open(os.path.join(main_run.pki, name), encoding="ascii") as handle:
            lines = [line for line in handle.read().splitlines() if line and not line.startswith("-----")]
        secrets.extend(lines[1:3])
    for path in (main_run.html, main_run.json, main_run.junit):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for secret in secrets:
            assert secret not in text, (path, secret[:8])
        assert "invocation" not in text and "key_content" not in text
    # the secrets were really in play: Ansible's own record has the token task and the passphrase task
    assert ("tab-good", "Use a token") in ran(main_run.ansible_record())
