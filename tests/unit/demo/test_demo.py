# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main job, run for real: ``./scripts/demo`` into a temporary directory, then its report.

Everything is what a new user runs: the script, the collection's modules and roles, the demo
inputs made by playbooks/files/trustops_demo.py (cryptography; pysaml2 + xmlsec1 for the IdP),
a TLS server on loopback, nginx / apache2 / haproxy as the proxies' own checkers where installed,
the TSM simulator, and the readiness report opened in Debian's headless chromium (the browser
fixture of tests/unit/plugins/callback, imported, not copied).
"""

from __future__ import annotations

# pytest fixtures are passed by the name they are defined with
# pylint: disable=redefined-outer-name

import json
import os
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from selenium.webdriver.common.by import By

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "plugins", "callback"))
from test_readiness_browser import ARTIFACTS, browser, visible_findings  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position

DEMO = os.path.join(ROOT, "scripts", "demo")
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
#: The embed_proxy demo's servers: (binary, rendered file under DIR/proxy, the checker's argv).
PROXIES = {
    "nginx": ("nginx", "nginx/conf.d/embed_demo.conf",
              lambda binary, d: [binary, "-t", "-q", "-e", d + "/nginx/error.log", "-c", d + "/nginx/nginx.conf", "-p", d + "/nginx"]),
    "apache": ("apache2", "apache/conf.d/embed_demo.conf",
               lambda binary, d: [binary, "-t", "-f", d + "/apache/apache2.conf", "-d", d + "/apache"]),
    "haproxy": ("haproxy", "haproxy/haproxy.cfg", lambda binary, d: [binary, "-c", "-f", d + "/haproxy/haproxy.cfg"]),
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_env(tmp):
    """A clean environment: nothing of the caller's Ansible or report settings, files under tmp."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "TRUSTOPS_")) and key != "AWX_ISOLATED_DATA_DIR"}
    for name in ("ansible_home", "ansible_tmp"):
        os.makedirs(os.path.join(tmp, name), exist_ok=True)
    env.update(TRUSTOPS_DEMO_DIR=os.path.join(tmp, "demo"), TRUSTOPS_DEMO_PORT=str(free_port()), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=os.path.join(tmp, "ansible_home"), ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "ansible_tmp"))
    return env


class DemoRun:
    def __init__(self, tmp):
        self.tmp = tmp
        self.dir = os.path.join(tmp, "demo")
        self.report_dir = os.path.join(self.dir, "report")
        proc = subprocess.run([DEMO], env=demo_env(tmp), cwd=ROOT, capture_output=True, text=True, timeout=1200,
                              check=False)
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.files = {kind: os.path.join(self.report_dir, "readiness." + ext)
                      for kind, ext in (("html", "html"), ("json", "json"), ("junit", "junit.xml"))}

    def report(self):
        with open(self.files["json"], encoding="utf-8") as handle:
            return json.load(handle)

    def tasks(self, action):
        return [task for task in self.report()["tasks"] if task["action"] == "trustops.tableau." + action]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return DemoRun(str(tmp_path_factory.mktemp("demo-run")))


def test_demo_succeeds_and_ends_with_the_report_paths(demo):
    assert demo.rc == 0, demo.stdout[-6000:] + demo.stderr[-3000:]
    assert "Traceback" not in demo.stdout + demo.stderr
    last = demo.stdout.rstrip("\n").splitlines()[-4:]
    assert last == ["readiness report (open the HTML in a browser):",
                    "  HTML   " + demo.files["html"], "  JSON   " + demo.files["json"], "  JUnit  " + demo.files["junit"]]
    for path in demo.files.values():
        assert os.path.getsize(path) > 0, path
    report = demo.report()
    assert report["files"] == demo.files
    assert report["playbooks"] == ["demo.yml"]
    suites = ET.parse(demo.files["junit"]).getroot()
    assert suites.tag == "testsuites" and [s.get("name") for s in suites] == ["localhost"]
    # the second TSM run changed nothing (the demo asserts it too)
    assert "second run: 0 applies, 0 restarts" in demo.stdout


def test_saml_checks_ran_on_the_demo_idp(demo):
    report = demo.report()
    for action in ("saml_keypair_check", "saml_metadata_check", "saml_response_check"):
        tasks = demo.tasks(action)
        assert [(t["status"], t["topic"], t["host"]) for t in tasks] == [("ok", "saml", "localhost")], action
    assert [f for f in report["findings"] if f["code"].startswith("SAML-") and f["severity"] == "error"] == []
    assert "response for alice@east.example.com: signature_verified=True ok=True" in demo.stdout
    saml_topic = [t for t in report["topics"] if t["id"] == "saml"]
    assert saml_topic[0]["checks"] == 3
    # the IdP's files were made by pysaml2 in this run, the response for the demo SP
    with open(os.path.join(demo.dir, "saml", "response.xml"), "rb") as handle:
        response = handle.read()
    assert b"https://tableau.demo.test/wg/saml/SSO/index.html" in response and b"SignatureValue" in response


def test_mutual_ssl_ambiguity_is_a_finding_not_a_failure(demo):
    report = demo.report()
    [task] = demo.tasks("client_cert_identity")
    assert task["status"] == "ok"
    collisions = [f for f in report["findings"] if f["code"] == "SSL-010"]
    assert len(collisions) == 1
    [collision] = collisions
    assert collision["severity"] == "error" and collision["host"] == "localhost" and collision["topic"] == "mutual_ssl"
    assert "east.example.com" in collision["message"] and "west.example.com" in collision["message"]
    assert "alice@east.example.com" in collision["message"]
    assert report["summary"]["verdict"] == "not_ready" and demo.rc == 0


def test_proxy_rules_rendered_and_checked_by_each_installed_server(demo):
    proxy_dir = os.path.join(demo.dir, "proxy")
    for server, (binary, rel, check) in PROXIES.items():
        path = os.path.join(proxy_dir, rel)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert "trustops.tableau.embed_proxy" in text and "403" in text, server
        installed = shutil.which(binary, path=SBIN_PATH)
        if installed:
            assert f"{server}: {path}, checked by {installed}" in demo.stdout
            # the same checker, run here, accepts what the demo left in place
            proc = subprocess.run(check(installed, proxy_dir), capture_output=True, text=True, timeout=120, check=False)
            assert proc.returncode == 0, (server, proc.stdout, proc.stderr)
        else:
            assert f"{server}: {path}, NOT checked (not installed)" in demo.stdout
    embedded = [t for t in demo.report()["tasks"] if t["topic"] == "embedded"]
    assert embedded and all(t["status"] in ("ok", "changed") for t in embedded)


def test_no_secret_in_the_report(demo):
    keys = []
    for name in ("root", "intermediate", "leaf", "profile-signer", "sp"):
        with open(os.path.join(demo.dir, name + ".key"), encoding="ascii") as handle:
            keys.append(handle.read().splitlines()[3])  # a line of base64 key material
    for path in demo.files.values():
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert "PRIVATE KEY" not in text
        assert not [line for line in keys if line in text], path


def test_report_in_headless_chromium(demo, browser):
    report = demo.report()
    total = len(report["findings"])
    assert total == report["summary"]["findings"]["total"] > 0
    browser.get("file://" + demo.files["html"])
    assert browser.title == "Tableau readiness report"
    assert browser.find_element(By.ID, "shown").text == "%d of %d findings shown" % (total, total)
    assert len(visible_findings(browser)) == total
    summary = report["summary"]["findings"]
    assert browser.find_element(By.ID, "total-error").text.startswith("%d error" % summary["error"])
    assert browser.find_element(By.ID, "total-warning").text.startswith("%d warning" % summary["warning"])
    codes = sorted(row.get_attribute("data-code") for row in visible_findings(browser))
    assert codes == sorted(f["code"] for f in report["findings"])
    assert "SSL-010" in codes
    os.makedirs(ARTIFACTS, exist_ok=True)
    assert browser.save_screenshot(os.path.join(ARTIFACTS, "readiness-demo.png"))
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_missing_checker_is_said_and_the_rule_still_rendered(tmp_path):
    """haproxy under a name that is not installed: rendered, NOT checked, said so, no failure."""
    env = demo_env(str(tmp_path))
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    missing = {"nginx": "nginx", "apache": "apache2", "haproxy": "trustops-no-such-haproxy"}
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", "-c", "local", os.path.join(ROOT, "playbooks", "demo", "embed_proxy.yml"),
                           "-e", json.dumps({"demo_proxy_binaries": missing})],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    path = os.path.join(env["TRUSTOPS_DEMO_DIR"], "proxy", "haproxy", "haproxy.cfg")
    assert "haproxy is not installed here: its rule is rendered but NOT checked (install trustops-no-such-haproxy to check it)" in proc.stdout
    assert f"haproxy: {path}, NOT checked (not installed)" in proc.stdout
    with open(path, encoding="utf-8") as handle:
        assert "403" in handle.read()
