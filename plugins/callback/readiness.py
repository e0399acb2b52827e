# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness report: the findings of every task on every host, as HTML, JSON and JUnit XML."""

from __future__ import annotations

DOCUMENTATION = r"""
name: readiness
type: aggregate
short_description: Readiness report of a run, the findings of every host as HTML, JSON and JUnit XML
version_added: 0.1.0
author:
  - trustops maintainers (@trustops)
description:
  - Collects, while a playbook runs, the findings (code, severity, message, remedy) that the modules of
    this collection return, on every host and inside loop results, and which tasks failed, were
    unreachable or changed something.
  - At the end of the run it writes three files into O(output_dir), each one atomically (a temporary
    file renamed over the previous report), named after O(basename)
    C(.html) (one self-contained page, no network resource, works when opened from a file),
    C(.json) (the same data, schema C(docs/readiness.schema.json), C(schema_version) 1.x) and
    C(.junit.xml) (JUnit XML for CI servers, one test case per check per host, a failure per error
    finding and per failed task), and prints a summary table, hosts by severities, at the end of the
    console output.
  - Findings are grouped by the topic of the vendor article they come from, by their code family
    (C(ANCHOR)/C(TLS) client trust, C(MOBILE) mobile, C(SAML) SAML, C(TSM) TSM, C(SSL) mutual SSL)
    and, for the tasks of the C(embed_proxy) role, embedded access.
  - Only findings, task names and actions, host names, play names and task status are kept (and the
    failure message of a failed or unreachable task). Module arguments (C(invocation)), diffs and other
    return values are never stored; a task with C(no_log) contributes its status only.
  - Enable it with C(callbacks_enabled = trustops.tableau.readiness) in the C([defaults]) section of
    C(ansible.cfg) or with C(ANSIBLE_CALLBACKS_ENABLED=trustops.tableau.readiness); ansible-runner,
    AWX and Automation Platform honour both. See R(the readiness report guide,ansible_collections.trustops.tableau.docsite.readiness).
options:
  output_dir:
    description:
      - The directory the report files are written to; created when missing.
      - Default is the ansible-runner artifact directory of the job when the run happens under
        ansible-runner, AWX or Automation Platform (ansible-runner exports it to the run as
        E(AWX_ISOLATED_DATA_DIR)), otherwise C(readiness) in the current working directory.
      - When the directory cannot be created or written, the report goes to a new temporary directory
        and a warning names both.
    type: path
    env:
      - name: TRUSTOPS_READINESS_DIR
    ini:
      - section: trustops_readiness
        key: output_dir
  basename:
    description:
      - The name of the report files without extension; C(.html), C(.json) and C(.junit.xml) are added.
      - A plain file name; a name with a C(/), an empty name or one starting with C(.) is refused with a
        warning and V(readiness) is used.
    type: str
    default: readiness
    env:
      - name: TRUSTOPS_READINESS_NAME
    ini:
      - section: trustops_readiness
        key: basename
  catalogue_url:
    description:
      - Where the finding catalogue is, as a URL or a path relative to the report; either the directory that
        holds C(catalogue.md) or the catalogue page itself (a name ending in C(.md) or C(.html)). Each finding
        links to its entry, C(<catalogue_url>/catalogue.md#<code in lower case>) (for example
        C(catalogue.md#saml-016)) or C(<catalogue_url>#<code in lower case>) for a page.
      - Default is the relative path from O(output_dir) to the C(docs) directory of this collection, so the
        links work when the report is opened on the machine that made it. Set it to a published copy of
        the docs for reports that are sent elsewhere, for example the page of the site C(scripts/docs) builds,
        C(https://docs.example.org/trustops/guide/catalogue.html).
    type: str
    env:
      - name: TRUSTOPS_READINESS_CATALOGUE_URL
    ini:
      - section: trustops_readiness
        key: catalogue_url
  console:
    description: Print the summary table (hosts by severities and the paths of the report files) at the end of the run.
    type: bool
    default: true
    env:
      - name: TRUSTOPS_READINESS_CONSOLE
    ini:
      - section: trustops_readiness
        key: console
"""

import base64
import datetime
import hashlib
import html
import json
import os
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote

from ansible import context
from ansible.plugins.callback import CallbackBase

try:
    from ansible.release import __version__ as ANSIBLE_VERSION
except ImportError:  # pragma: no cover - every ansible-core has it
    ANSIBLE_VERSION = None

#: The version of the JSON document (docs/readiness.schema.json). Minor: fields added; major: changed.
SCHEMA_VERSION = "1.0"
GENERATOR = "trustops.tableau.readiness"
COLLECTION = "trustops.tableau."
SEVERITIES = ("error", "warning", "info")
#: Where the report goes by default under ansible-runner / AWX / Automation Platform.
RUNNER_ARTIFACT_ENV = "AWX_ISOLATED_DATA_DIR"
DEFAULT_DIR = "readiness"
DEFAULT_BASENAME = "readiness"
#: Longest failure message kept for a failed or unreachable task, in characters.
MAX_MESSAGE = 2000
MAX_LABEL = 120
#: Hosts listed in the console table; the report has them all.
CONSOLE_HOSTS = 20

# The one table of topics: which seed article a finding or task belongs to.
#   families: finding code families (the part before "-NNN");
#   modules: actions of this collection (short names); roles: roles of this collection;
#   role_first: the role decides before the code family (tasks of embed_proxy are embedded access).
TOPICS = (
    dict(id="client_trust", title="Client trust", seeds=("000", "001"), families=("ANCHOR", "TLS"),
         modules=("trust_anchor", "win_trust_anchor", "tls_probe"), roles=("client_trust",), role_first=False),
    dict(id="mobile", title="Mobile", seeds=("000",), families=("MOBILE",),
         modules=("mobile_trust_profile",), roles=("mobile_trust",), role_first=False),
    dict(id="saml", title="SAML", seeds=("002",), families=("SAML",),
         modules=("saml_keypair_check", "saml_metadata_check", "saml_response_check"), roles=("saml",), role_first=False),
    dict(id="tsm", title="TSM", seeds=("002", "004"), families=("TSM",),
         modules=("tsm_config", "tsm_saml", "tsm_mutual_ssl", "tsm_trusted_auth", "tsm_external_ssl",
                  "tsm_pending_changes", "tsm_info"), roles=("tsm_apply",), role_first=False),
    dict(id="mutual_ssl", title="Mutual SSL", seeds=("004",), families=("SSL",),
         modules=("client_cert_identity",), roles=("mutual_ssl",), role_first=False),
    dict(id="embedded", title="Embedded access", seeds=("003",), families=("EMBED", "PROXY"),
         modules=(), roles=("embed_proxy",), role_first=True),
    dict(id="other", title="Other", seeds=(), families=(), modules=(), roles=(), role_first=False),
)

# The finding catalogue (docs/catalogue.md, generated from the rules by scripts/docs): one page, one
# anchor per code (the code in lower case). The families it holds (catalogue.AREAS, in its order).
CATALOGUE_PAGE = "catalogue.md"
CATALOGUE_FAMILIES = ("SAML", "TSM", "TLS", "MOBILE", "ANCHOR", "SSL")

_CODE = re.compile(r"^([A-Z][A-Z0-9]*)-([0-9]+)$")


def _short(name):
    """``trustops.tableau.saml`` -> ``saml``; other names unchanged."""
    name = name or ""
    return name[len(COLLECTION):] if name.startswith(COLLECTION) else name


def topic_of(code=None, role=None, action=None):
    """The topic id of a finding (``code``) or a task (no code) from its role and action: one rule."""
    role = _short(role)
    action = _short(action) if (action or "").startswith(COLLECTION) else None
    match = _CODE.match(code or "")
    family = match.group(1) if match else None
    for topic in TOPICS:
        if topic["role_first"] and role in topic["roles"]:
            return topic["id"]
    for topic in TOPICS:
        if family and family in topic["families"]:
            return topic["id"]
    for topic in TOPICS:
        if action and action in topic["modules"]:
            return topic["id"]
    for topic in TOPICS:
        if role in topic["roles"]:
            return topic["id"]
    return "other"


def catalogue_page(code):
    """The page of the finding catalogue documenting ``code`` (``catalogue.md``), or None for a code of
    a family the catalogue does not hold."""
    match = _CODE.match(code or "")
    if not match or match.group(1) not in CATALOGUE_FAMILIES:
        return None
    return CATALOGUE_PAGE


def catalogue_link(base, code):
    """The link to ``code``'s entry in the catalogue, or None when the catalogue does not hold it.

    ``base`` is the directory of the catalogue page (``<base>/catalogue.md#saml-016``) or the page
    itself, as a published site names it (``.../guide/catalogue.html`` -> ``...catalogue.html#saml-016``)."""
    page = catalogue_page(code)
    if page is None:
        return None
    anchor = code.lower()
    base = base or ""
    if base.rsplit("/", 1)[-1].endswith((".md", ".html", ".htm")):
        return f"{base}#{anchor}"
    if base and not base.endswith("/"):
        base += "/"
    return f"{base}{page}#{anchor}"


def _text(value, limit=None):
    """A value as a one-line-safe string, cut at ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    return text


def _json_safe(value):
    """A deep copy of ``value`` with only JSON types (other objects as their text)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _counts(findings):
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding["severity"]] += 1
    return counts


class Collector:
    """What the run produced, kept as plain data: tasks (with status) and their findings."""

    def __init__(self):
        self.tasks = []
        self.findings = []
        self.hosts = []
        self.playbooks = []
        self.started = _now()
        self._starts = {}

    def saw_host(self, host):
        if host not in self.hosts:
            self.hosts.append(host)

    def task_started(self, host, task_uuid):
        self._starts[(host, task_uuid)] = time.monotonic()

    def record(self, host, task, play, result, status, ignored=False):
        """Record one task result of ``host``; ``status`` ok|changed|failed|unreachable|skipped."""
        self.saw_host(host)
        action = _text(getattr(task, "resolved_action", None) or task.action)
        role_obj = getattr(task, "_role", None)
        role = role_obj.get_name() if role_obj is not None else None
        censored = bool(result.get("_ansible_no_log") or "censored" in result)
        findings = []
        has_findings_key = False
        if not censored:
            has_findings_key = isinstance(result.get("findings"), list)
            findings.extend(self._findings_of(result, None))
            loop = result.get("results")
            if isinstance(loop, list):
                for index, item in enumerate(loop):
                    if not isinstance(item, dict) or item.get("_ansible_no_log") or "censored" in item:
                        continue
                    has_findings_key = has_findings_key or isinstance(item.get("findings"), list)
                    findings.extend(self._findings_of(item, self._item_label(item, index)))
        is_check = action.startswith(COLLECTION) or has_findings_key
        if status not in ("ok", "changed", "failed", "unreachable", "skipped"):
            status = "ok"
        changed = status == "changed" or (bool(result.get("changed")) and status != "skipped")
        start = self._starts.pop((host, getattr(task, "_uuid", None)), None)
        if not is_check and status in ("ok", "skipped") and not changed:
            return
        record = dict(
            id=len(self.tasks) + 1, host=host, play=_text(play), task=_text(task.get_name()), action=action,
            role=role, topic=topic_of(None, role, action), status=status, ignored=bool(ignored),
            changed=bool(changed), check=bool(is_check), no_log=censored,
            duration=round(time.monotonic() - start, 3) if start is not None else None,
            message=None)
        if status in ("failed", "unreachable"):
            record["message"] = None if censored else self._failure_message(result)
        self.tasks.append(record)
        for finding in findings:
            finding.update(task_id=record["id"], host=host, task=record["task"], action=action,
                           topic=topic_of(finding["code"], role, action))
            self.findings.append(finding)

    @staticmethod
    def _item_label(item, index):
        label = item.get("_ansible_item_label", item.get("item"))
        if isinstance(label, (str, int, float)) and not isinstance(label, bool):
            return _text(label, MAX_LABEL)
        return f"item {index + 1}"

    @staticmethod
    def _failure_message(result):
        msg = result.get("msg")
        if not msg and isinstance(result.get("results"), list):
            for item in result["results"]:
                if isinstance(item, dict) and item.get("failed") and item.get("msg") and "censored" not in item:
                    msg = item["msg"]
                    break
        return _text(msg, MAX_MESSAGE) or None

    @staticmethod
    def _findings_of(result, item):
        out = []
        for raw in result.get("findings") or []:
            if not isinstance(raw, dict):
                continue
            severity = raw.get("severity")
            out.append(dict(
                code=_text(raw.get("code")) or "UNKNOWN",
                severity=severity if severity in SEVERITIES else "warning",
                message=_text(raw.get("message")),
                remedy=_text(raw.get("remedy")),
                data=_json_safe(raw.get("data")) if isinstance(raw.get("data"), dict) else {},
                item=item))
        return out


def build_report(collector, stats, catalogue_base, check_mode, files):
    """The report as one JSON-ready dict (docs/readiness.schema.json)."""
    hosts = sorted(set(collector.hosts) | set(getattr(stats, "processed", {}) or {}))
    findings = sorted(collector.findings, key=lambda f: (SEVERITIES.index(f["severity"]), f["host"], f["code"], f["task_id"]))
    for number, finding in enumerate(findings, 1):
        finding["id"] = number
        finding["catalogue"] = catalogue_link(catalogue_base, finding["code"])
    host_rows = []
    for host in hosts:
        own = [f for f in findings if f["host"] == host]
        tasks = [t for t in collector.tasks if t["host"] == host]
        summary = stats.summarize(host) if stats is not None and host in (getattr(stats, "processed", {}) or {}) else {}
        counts = _counts(own)
        failed = [t for t in tasks if t["status"] == "failed" and (t["check"] or not t["ignored"])]
        unreachable = [t for t in tasks if t["status"] == "unreachable"] or summary.get("unreachable")
        if unreachable:
            verdict = "unreachable"
        elif counts["error"] or failed:
            verdict = "not_ready"
        elif counts["warning"]:
            verdict = "warnings"
        elif not [t for t in tasks if t["check"] and t["status"] != "skipped"]:
            verdict = "unchecked"
        else:
            verdict = "ready"
        host_rows.append(dict(
            name=host, verdict=verdict, findings=counts,
            checks=len([t for t in tasks if t["check"] and t["status"] != "skipped"]),
            failed_tasks=len([t for t in tasks if t["status"] == "failed"]),
            changed_tasks=len([t for t in tasks if t["changed"]]),
            stats={key: int(summary.get(key, 0)) for key in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")}))
    topics = []
    for topic in TOPICS:
        own = [f for f in findings if f["topic"] == topic["id"]]
        tasks = [t for t in collector.tasks if t["topic"] == topic["id"]]
        if topic["id"] == "other" and not own and not tasks:
            continue
        topics.append(dict(id=topic["id"], title=topic["title"], seeds=list(topic["seeds"]), findings=_counts(own),
                           hosts=sorted({f["host"] for f in own}),
                           checks=len([t for t in tasks if t["check"] and t["status"] != "skipped"]),
                           failed_tasks=len([t for t in tasks if t["status"] == "failed"])))
    verdicts = [row["verdict"] for row in host_rows]
    overall = "ready" if "ready" in verdicts or not verdicts else "unchecked"
    for verdict in ("not_ready", "unreachable", "warnings"):
        if verdict in verdicts:
            overall = verdict
            break
    return dict(
        schema_version=SCHEMA_VERSION,
        generator=dict(name=GENERATOR, ansible_core=ANSIBLE_VERSION),
        started=collector.started, finished=_now(), playbooks=list(collector.playbooks), check_mode=bool(check_mode),
        catalogue_url=catalogue_base, files=dict(files),
        summary=dict(verdict=overall, hosts=len(host_rows),
                     checks=len([t for t in collector.tasks if t["check"] and t["status"] != "skipped"]),
                     findings=dict(_counts(findings), total=len(findings)),
                     failed_tasks=len([t for t in collector.tasks if t["status"] == "failed"]),
                     unreachable_tasks=len([t for t in collector.tasks if t["status"] == "unreachable"]),
                     changed_tasks=len([t for t in collector.tasks if t["changed"]])),
        hosts=host_rows, topics=topics, tasks=list(collector.tasks), findings=findings,
        changes=[dict(host=t["host"], play=t["play"], task=t["task"], action=t["action"], topic=t["topic"], task_id=t["id"])
                 for t in collector.tasks if t["changed"]])


# ---------------------------------------------------------------------------------------------- JUnit
def render_junit(report):
    """JUnit XML: a test suite per host, a test case per check (and per failed task) of that host."""
    root = ET.Element("testsuites", name="trustops.tableau readiness")
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    by_task = {}
    for finding in report["findings"]:
        by_task.setdefault(finding["task_id"], []).append(finding)
    for host in report["hosts"]:
        suite = ET.SubElement(root, "testsuite", name=host["name"], hostname=host["name"], timestamp=report["finished"])
        counts = dict(tests=0, failures=0, errors=0, skipped=0)
        elapsed = 0.0
        for task in report["tasks"]:
            if task["host"] != host["name"] or not (task["check"] or task["status"] in ("failed", "unreachable")):
                continue
            case = ET.SubElement(suite, "testcase", classname="{}{}".format(COLLECTION, task["topic"]),
                                 name="{}: {}".format(task["play"], task["task"]) if task["play"] else task["task"])
            if task["duration"] is not None:
                case.set("time", "{:.3f}".format(task["duration"]))
                elapsed += task["duration"]
            counts["tests"] += 1
            own = by_task.get(task["id"], [])
            errors = [f for f in own if f["severity"] == "error"]
            if task["status"] == "unreachable":
                ET.SubElement(case, "error", type="unreachable", message=task["message"] or "host unreachable")
                counts["errors"] += 1
            elif task["status"] == "skipped":
                ET.SubElement(case, "skipped", message="skipped")
                counts["skipped"] += 1
            for finding in errors:
                node = ET.SubElement(case, "failure", type=finding["code"], message="{}: {}".format(finding["code"], finding["message"]))
                node.text = _finding_text(finding)
            if task["status"] == "failed" and not errors:
                node = ET.SubElement(case, "failure", type="task-failed",
                                     message=task["message"] or ("task failed (output hidden by no_log)" if task["no_log"] else "task failed"))
                node.text = "{} failed on {}{}".format(task["action"], task["host"], " (ignored)" if task["ignored"] else "")
            if errors or task["status"] == "failed":
                counts["failures"] += 1
            rest = [f for f in own if f["severity"] != "error"]
            if rest:
                ET.SubElement(case, "system-out").text = "\n\n".join(_finding_text(f) for f in rest)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{elapsed:.3f}")
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _finding_text(finding):
    lines = ["{} {}: {}".format(finding["severity"], finding["code"], finding["message"])]
    if finding["item"]:
        lines.append("item: {}".format(finding["item"]))
    if finding["remedy"]:
        lines.append("remedy: {}".format(finding["remedy"]))
    if finding["catalogue"]:
        lines.append("catalogue: {}".format(finding["catalogue"]))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- HTML
_CSS = """
:root{--error:#b42318;--error-bg:#fde8e7;--warning:#8a5300;--warning-bg:#fff4d6;--info:#1d4f91;--info-bg:#e6f0fb;
--ok:#196c2e;--ok-bg:#e3f5e8;--line:#d0d5dd;--muted:#5d6673}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1c2330;background:#f6f7f9}
header{background:#1f2a44;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:20px}
header p{margin:0;color:#c9d2e3}
header a{color:#a9cbff}
main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 8px}
h3{font-size:14px;margin:8px 0 4px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.nowrap{white-space:nowrap}
.sev{display:inline-block;padding:1px 7px;border-radius:10px;font-weight:600;font-size:12px}
.sev-error{color:var(--error);background:var(--error-bg)}
.sev-warning{color:var(--warning);background:var(--warning-bg)}
.sev-info{color:var(--info);background:var(--info-bg)}
.v-ready{color:var(--ok);background:var(--ok-bg)}
.v-warnings{color:var(--warning);background:var(--warning-bg)}
.v-not_ready,.v-unreachable{color:var(--error);background:var(--error-bg)}
.v-unchecked{color:var(--muted);background:#eceef2}
td.c-error{color:var(--error);font-weight:600}
td.c-warning{color:var(--warning);font-weight:600}
td.c-info{color:var(--info);font-weight:600}
td.zero{color:var(--muted)}
tr.finding.error td:first-child{border-left:4px solid var(--error)}
tr.finding.warning td:first-child{border-left:4px solid #d99a00}
tr.finding.info td:first-child{border-left:4px solid var(--info)}
.remedy{color:#24452d}
.muted{color:var(--muted)}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
.filters{display:flex;gap:16px;flex-wrap:wrap;align-items:end;margin:0 0 10px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
.filters select{font-size:14px;padding:3px 6px;min-width:150px}
button{font-size:13px;padding:4px 10px}
#shown{margin-left:auto;color:var(--muted)}
[hidden]{display:none !important}
ul{margin:4px 0 8px;padding-left:20px}
"""

_JS = """
(function () {
  "use strict";
  var host = document.getElementById("f-host");
  var sev = document.getElementById("f-severity");
  var code = document.getElementById("f-code");
  var shown = document.getElementById("shown");
  var empty = document.getElementById("no-match");
  function apply() {
    var h = host.value, s = sev.value, c = code.value, total = 0, visible = 0;
    document.querySelectorAll("tr.finding").forEach(function (row) {
      var ok = (!h || row.dataset.host === h) && (!s || row.dataset.severity === s) && (!c || row.dataset.code === c);
      row.hidden = !ok;
      total += 1;
      if (ok) { visible += 1; }
    });
    document.querySelectorAll("[data-host-row]").forEach(function (el) {
      el.hidden = Boolean(h) && el.dataset.host !== h;
    });
    shown.textContent = visible + " of " + total + " findings shown";
    if (empty) { empty.hidden = visible !== 0 || total === 0; }
  }
  [host, sev, code].forEach(function (el) { el.addEventListener("change", apply); });
  document.getElementById("f-reset").addEventListener("click", function () {
    host.value = ""; sev.value = ""; code.value = ""; apply();
  });
  apply();
}());
"""

_VERDICTS = {"ready": "ready", "warnings": "ready with warnings", "not_ready": "not ready", "unreachable": "unreachable",
             "unchecked": "nothing checked"}


def _e(value):
    return html.escape(_text(value), quote=True)


def _csp_hash(text):
    return "'sha256-{}'".format(base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii"))


def _count_cells(counts):
    return "".join(f'<td class="num {"c-" + sev if counts[sev] else "zero"}">{counts[sev]}</td>' for sev in SEVERITIES)


def render_html(report):
    """One self-contained page: inline CSS and JS only, a CSP that forbids every network load."""
    out = []
    add = out.append
    summary = report["summary"]
    csp = (f"default-src 'none'; style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}; img-src data:; base-uri 'none'; form-action 'none'")
    add('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    add(f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">\n')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    add('<meta name="generator" content="{} {}">\n'.format(_e(GENERATOR), _e(report["schema_version"])))
    add('<link rel="icon" href="data:,">\n<title>Tableau readiness report</title>\n')
    add(f"<style>{_CSS}</style>\n</head>\n<body>\n")
    files = report["files"]
    add(
        '<header><h1>Tableau readiness report</h1><p id="run">{} &middot; {} &middot; finished {}{} &middot; '
        '<a class="file" href="{}">JSON</a> &middot; <a class="file" href="{}">JUnit XML</a></p></header>\n'.format(
            _e(", ".join(report["playbooks"]) or "ad-hoc run"),
            _e(f"{summary['hosts']} host{'' if summary['hosts'] == 1 else 's'}"),
            _e(report["finished"]),
            " &middot; <strong>check mode: changes are what would change</strong>" if report["check_mode"] else "",
            _e(quote(os.path.basename(files.get("json", "")))),
            _e(quote(os.path.basename(files.get("junit", "")))),
        )
    )
    add("<main>\n")
    # Overall
    counts = summary["findings"]
    add(
        '<section id="overall"><h2>Overall: <span class="sev v-%s" id="verdict">%s</span></h2><p>'
        '<span class="sev sev-error" id="total-error">%d error%s</span> '
        '<span class="sev sev-warning" id="total-warning">%d warning%s</span> '
        '<span class="sev sev-info" id="total-info">%d info</span> '
        "in %d check%s; %d failed task%s, %d unreachable, %d changed task%s.</p></section>\n"
        % (
            _e(summary["verdict"]),
            _e(_VERDICTS[summary["verdict"]]),
            counts["error"],
            "" if counts["error"] == 1 else "s",
            counts["warning"],
            "" if counts["warning"] == 1 else "s",
            counts["info"],
            summary["checks"],
            "" if summary["checks"] == 1 else "s",
            summary["failed_tasks"],
            "" if summary["failed_tasks"] == 1 else "s",
            summary["unreachable_tasks"],
            summary["changed_tasks"],
            "" if summary["changed_tasks"] == 1 else "s",
        )
    )
    # Per host
    add(
        '<section id="hosts"><h2>Hosts</h2><table><thead><tr><th>Host</th><th>Verdict</th>'
        '<th class="num">Errors</th><th class="num">Warnings</th><th class="num">Info</th><th class="num">Checks</th>'
        '<th class="num">Failed tasks</th><th class="num">Changed tasks</th></tr></thead><tbody>\n'
    )
    for host in report["hosts"]:
        add(
            '<tr class="host" data-host-row="1" data-host="%s"><td>%s</td><td><span class="sev v-%s">%s</span></td>%s'
            '<td class="num">%d</td><td class="num">%d</td><td class="num">%d</td></tr>\n'
            % (
                _e(host["name"]),
                _e(host["name"]),
                _e(host["verdict"]),
                _e(_VERDICTS[host["verdict"]]),
                _count_cells(host["findings"]),
                host["checks"],
                host["failed_tasks"],
                host["changed_tasks"],
            )
        )
    add("</tbody></table></section>\n")
    # Per topic
    add(
        '<section id="topics"><h2>By topic</h2><table><thead><tr><th>Topic</th><th>Seed articles</th>'
        '<th class="num">Errors</th><th class="num">Warnings</th><th class="num">Info</th><th class="num">Checks</th>'
        "<th>Hosts with findings</th></tr></thead><tbody>\n"
    )
    for topic in report["topics"]:
        add(
            '<tr class="topic" data-topic="%s"><td>%s</td><td>%s</td>%s<td class="num">%d</td><td>%s</td></tr>\n'
            % (
                _e(topic["id"]),
                _e(topic["title"]),
                _e(", ".join(topic["seeds"]) or "-"),
                _count_cells(topic["findings"]),
                topic["checks"],
                _e(", ".join(topic["hosts"]) or "-"),
            )
        )
    add("</tbody></table></section>\n")
    # Findings with filters
    findings = report["findings"]
    hosts = [h["name"] for h in report["hosts"]]
    codes = sorted({f["code"] for f in findings})
    add('<section id="findings"><h2>Findings</h2><div class="filters">')
    add(
        '<label>Host<select id="f-host"><option value="">all hosts</option>{}</select></label>'.format(
            "".join(f'<option value="{_e(h)}">{_e(h)}</option>' for h in hosts)
        )
    )
    add(
        '<label>Severity<select id="f-severity"><option value="">all severities</option>{}</select></label>'.format(
            "".join(f'<option value="{s}">{s}</option>' for s in SEVERITIES)
        )
    )
    add(
        '<label>Code<select id="f-code"><option value="">all codes</option>{}</select></label>'.format(
            "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in codes)
        )
    )
    add(
        '<button type="button" id="f-reset">Show all</button><span id="shown">%d of %d findings shown</span></div>\n'
        % (len(findings), len(findings))
    )
    add(
        "<table><thead><tr><th>Severity</th><th>Host</th><th>Topic</th><th>Code</th><th>Finding and remedy</th>"
        "<th>Task</th></tr></thead><tbody>\n"
    )
    titles = {t["id"]: t["title"] for t in TOPICS}
    for finding in findings:
        code_html = _e(finding["code"])
        if finding["catalogue"]:
            code_html = '<a href="{}">{}</a>'.format(_e(finding["catalogue"]), code_html)
        add(
            '<tr class="finding {}" data-host="{}" data-severity="{}" data-code="{}"><td><span class="sev sev-{}">{}</span></td>'
            '<td class="nowrap">{}</td><td class="nowrap">{}</td><td class="nowrap"><code>{}</code></td>'
            '<td><div class="message">{}</div>{}</td><td>{}{}</td></tr>\n'.format(
                _e(finding["severity"]),
                _e(finding["host"]),
                _e(finding["severity"]),
                _e(finding["code"]),
                _e(finding["severity"]),
                _e(finding["severity"]),
                _e(finding["host"]),
                _e(titles.get(finding["topic"], finding["topic"])),
                code_html,
                _e(finding["message"]),
                '<div class="remedy"><strong>Remedy:</strong> {}</div>'.format(_e(finding["remedy"]))
                if finding["remedy"]
                else "",
                _e(finding["task"]),
                '<div class="muted">{}</div>'.format(_e(finding["item"])) if finding["item"] else "",
            )
        )
    add('<tr id="no-match" hidden><td colspan="6" class="muted">No finding matches the filters.</td></tr>\n')
    if not findings:
        add('<tr><td colspan="6" class="muted">No findings.</td></tr>\n')
    add("</tbody></table></section>\n")
    # Failed and unreachable tasks
    failed = [t for t in report["tasks"] if t["status"] in ("failed", "unreachable")]
    add('<section id="failed"><h2>Failed and unreachable tasks</h2>')
    if failed:
        add(
            "<table><thead><tr><th>Host</th><th>Task</th><th>Action</th><th>Status</th><th>Message</th></tr></thead><tbody>\n"
        )
        for task in failed:
            add(
                '<tr class="failed-task" data-host-row="1" data-host="{}"><td>{}</td><td>{}</td><td><code>{}</code></td>'
                "<td>{}</td><td>{}</td></tr>\n".format(
                    _e(task["host"]),
                    _e(task["host"]),
                    _e(task["task"]),
                    _e(task["action"]),
                    _e(task["status"] + (" (ignored)" if task["ignored"] else "")),
                    _e(task["message"] or ("output hidden by no_log" if task["no_log"] else "")),
                )
            )
        add("</tbody></table>")
    else:
        add('<p class="muted">None.</p>')
    add("</section>\n")
    # What changed
    add(
        '<section id="changes"><h2>%s</h2>'
        % ("What would change (check mode)" if report["check_mode"] else "What changed in the run")
    )
    if report["changes"]:
        for host in hosts:
            own = [c for c in report["changes"] if c["host"] == host]
            if not own:
                continue
            add(
                '<div class="host-changes" data-host-row="1" data-host="{}"><h3>{}</h3><ul>{}</ul></div>\n'.format(
                    _e(host),
                    _e(host),
                    "".join(
                        '<li class="change">{} <code>{}</code></li>'.format(_e(c["task"]), _e(c["action"])) for c in own
                    ),
                )
            )
    else:
        add('<p class="muted">Nothing changed.</p>')
    add("</section>\n")
    add(
        '<p class="muted">Generated by {} (schema {}). Finding codes link to the finding catalogue.</p>\n'.format(
            _e(GENERATOR), _e(report["schema_version"])
        )
    )
    add(f"</main>\n<script>{_JS}</script>\n</body>\n</html>\n")
    return "".join(out).encode("utf-8")


def render_json(report):
    return (json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------- files
def write_atomic(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    directory = os.path.dirname(path) or "."
    handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def default_output_dir(environ=None):
    """The ansible-runner artifact directory of the job when there is one, else ./readiness."""
    environ = os.environ if environ is None else environ
    artifacts = environ.get(RUNNER_ARTIFACT_ENV)
    if artifacts:
        return artifacts
    return os.path.join(os.getcwd(), DEFAULT_DIR)


def collection_docs_dir():
    """The docs directory of this collection (where the finding catalogue pages are)."""
    here = os.path.dirname(os.path.realpath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "docs"))


def relative_catalogue(output_dir):
    rel = os.path.relpath(collection_docs_dir(), os.path.realpath(output_dir))
    return "/".join(quote(part) for part in rel.split(os.sep)) + "/"


class CallbackModule(CallbackBase):
    """Collects findings during the run and writes the readiness report at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "trustops.tableau.readiness"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._collector = Collector()
        self._play = None

    # -- events ------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        name = getattr(playbook, "_file_name", None)
        if name:
            self._collector.playbooks.append(os.path.basename(name))

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_start(self, host, task):
        self._collector.task_started(host.get_name(), getattr(task, "_uuid", None))

    def _record(self, result, status, ignored=False):
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        self._collector.record(result._host.get_name(), result._task, self._play, data, status, ignored)

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", ignored=ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_async_ok(self, result):
        self.v2_runner_on_ok(result)

    def v2_runner_on_async_failed(self, result):
        self.v2_runner_on_failed(result)

    # -- the end -----------------------------------------------------------------------------
    def _settings(self):
        basename = self.get_option("basename")
        if not basename or "/" in basename or os.sep in basename or basename.startswith(".") or "\0" in basename:
            self._display.warning(
                f"trustops.tableau.readiness: basename {basename!r} (TRUSTOPS_READINESS_NAME or [trustops_readiness] basename) "
                f"must be a plain file name without '/' and not start with '.'; writing the report as {DEFAULT_BASENAME!r} instead"
            )
            basename = DEFAULT_BASENAME
        return self.get_option("output_dir") or default_output_dir(), basename

    def _prepare_dir(self, wanted):
        try:
            os.makedirs(wanted, exist_ok=True)
            if not os.access(wanted, os.W_OK | os.X_OK):
                raise OSError("not writable")
            return wanted
        except OSError as exc:
            fallback = tempfile.mkdtemp(prefix="trustops-readiness-")
            self._display.warning(
                f"trustops.tableau.readiness: cannot write the report to {wanted} ({exc.strerror or exc}); it is in {fallback} instead. "
                "Give a writable directory with TRUSTOPS_READINESS_DIR or [trustops_readiness] output_dir"
            )
            return fallback

    def v2_playbook_on_stats(self, stats):
        wanted, basename = self._settings()
        directory = os.path.abspath(self._prepare_dir(wanted))
        files = dict(
            html=os.path.join(directory, basename + ".html"),
            json=os.path.join(directory, basename + ".json"),
            junit=os.path.join(directory, basename + ".junit.xml"),
        )
        catalogue = self.get_option("catalogue_url") or relative_catalogue(directory)
        report = build_report(self._collector, stats, catalogue, context.CLIARGS.get("check", False), files)
        written = []
        for kind, render in (("json", render_json), ("junit", render_junit), ("html", render_html)):
            try:
                write_atomic(files[kind], render(report))
                written.append(files[kind])
            except OSError as exc:
                self._display.warning(
                    f"trustops.tableau.readiness: could not write {files[kind]}: {exc.strerror or exc}; the previous file, if any, is unchanged"
                )
        if self.get_option("console"):
            self._console(report, written)

    def _console(self, report, written):
        self._display.banner("TRUSTOPS READINESS")
        hosts = report["hosts"]
        width = max([len("host"), len("total")] + [len(h["name"]) for h in hosts[:CONSOLE_HOSTS]])
        head = "%-*s  %-19s %6s %8s %5s %7s %8s" % (
            width,
            "host",
            "verdict",
            "error",
            "warning",
            "info",
            "failed",
            "changed",
        )
        self._display.display(head)
        for host in hosts[:CONSOLE_HOSTS]:
            counts = host["findings"]
            line = "%-*s  %-19s %6d %8d %5d %7d %8d" % (
                width,
                host["name"],
                _VERDICTS[host["verdict"]],
                counts["error"],
                counts["warning"],
                counts["info"],
                host["failed_tasks"],
                host["changed_tasks"],
            )
            color = None
            if host["verdict"] in ("not_ready", "unreachable"):
                color = "red"
            elif host["verdict"] == "warnings":
                color = "yellow"
            self._display.display(line, color=color)
        if len(hosts) > CONSOLE_HOSTS:
            self._display.display(
                f"... and {len(hosts) - CONSOLE_HOSTS} more hosts (all of them are in the report)"
            )
        total = report["summary"]["findings"]
        self._display.display(
            "%-*s  %-19s %6d %8d %5d %7d %8d"
            % (
                width,
                "total",
                _VERDICTS[report["summary"]["verdict"]],
                total["error"],
                total["warning"],
                total["info"],
                report["summary"]["failed_tasks"],
                report["summary"]["changed_tasks"],
            )
        )
        for number, path in enumerate(written):
            self._display.display("{} {}".format("report:" if number == 0 else "       ", path))
        self._display.display("")
