# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report of a real run in a real browser: Debian's chromium, headless, driven by selenium.

The driver is Debian's ``chromium-driver`` through an explicit Service (selenium never downloads a
driver or a browser: ``SE_OFFLINE``); the page is opened from ``file://``. The screenshots are kept
in ``.build/artifacts/``.
"""

from __future__ import annotations

# pytest fixtures are passed by the name they are defined with
# pylint: disable=redefined-outer-name

import os
import tempfile
from urllib.parse import unquote, urlparse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from readiness_runs import main_run  # noqa: F401  pylint: disable=unused-import
from readiness_runs import ROOT, XSS_TEXT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(ROOT, ".build", "artifacts")


@pytest.fixture
def browser(tmp_path):
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=str(tmp_path))
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1400,1100", "--user-data-dir=" + profile):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def visible_findings(driver):
    return [row for row in driver.find_elements(By.CSS_SELECTOR, "tr.finding") if row.is_displayed()]


def test_report_in_headless_chromium(main_run, browser):
    report = main_run.report()
    findings = report["findings"]
    browser.get("file://" + main_run.html)
    assert browser.title == "Tableau readiness report"

    # counts and findings as in the JSON
    summary = report["summary"]["findings"]
    assert browser.find_element(By.ID, "total-error").text.startswith("%d error" % summary["error"])
    assert browser.find_element(By.ID, "total-warning").text.startswith("%d warning" % summary["warning"])
    assert len(visible_findings(browser)) == len(findings)
    assert browser.find_element(By.ID, "shown").text == "%d of %d findings shown" % (len(findings), len(findings))
    host_rows = {row.get_attribute("data-host"): row.text for row in browser.find_elements(By.CSS_SELECTOR, "tr.host")}
    assert sorted(host_rows) == sorted(h["name"] for h in report["hosts"])
    assert "not ready" in host_rows["tab-weak"] and "unreachable" in host_rows["tab-gone"]
    page_text = browser.find_element(By.TAG_NAME, "body").text
    for finding in findings:
        assert finding["message"] in page_text and finding["remedy"] in page_text
    # the <script> inside a module message is shown as text and never ran
    assert XSS_TEXT in page_text
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    # nothing was loaded: no network or file resource at all
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    # the catalogue links point at the docs pages of this collection
    for link in browser.find_elements(By.CSS_SELECTOR, "tr.finding a"):
        url = urlparse(link.get_attribute("href"))
        assert url.scheme == "file" and os.path.isfile(unquote(url.path)), url
        assert url.fragment == link.text.lower()
    os.makedirs(ARTIFACTS, exist_ok=True)
    assert browser.save_screenshot(os.path.join(ARTIFACTS, "readiness.png"))
    with open(os.path.join(ARTIFACTS, "readiness.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"

    host, severity, code = (Select(browser.find_element(By.ID, name)) for name in ("f-host", "f-severity", "f-code"))
    # host filter: only that host's findings, and only its changes and failed tasks
    host.select_by_value("tab-weak")
    rows = visible_findings(browser)
    assert len(rows) == sum(1 for f in findings if f["host"] == "tab-weak") > 0
    assert {row.get_attribute("data-host") for row in rows} == {"tab-weak"}
    changes = [d.get_attribute("data-host") for d in browser.find_elements(By.CSS_SELECTOR, "div.host-changes") if d.is_displayed()]
    assert changes == ["tab-weak"]
    assert not [r for r in browser.find_elements(By.CSS_SELECTOR, "tr.failed-task") if r.is_displayed()]
    # plus severity
    severity.select_by_value("warning")
    rows = visible_findings(browser)
    assert len(rows) == sum(1 for f in findings if f["host"] == "tab-weak" and f["severity"] == "warning") > 0
    browser.save_screenshot(os.path.join(ARTIFACTS, "readiness-filtered.png"))
    # severity alone
    host.select_by_value("")
    rows = visible_findings(browser)
    assert len(rows) == sum(1 for f in findings if f["severity"] == "warning")
    assert {row.get_attribute("data-severity") for row in rows} == {"warning"}
    # code alone
    severity.select_by_value("")
    code.select_by_value("SSL-007")
    rows = visible_findings(browser)
    assert len(rows) == sum(1 for f in findings if f["code"] == "SSL-007") == 2
    assert {row.get_attribute("data-host") for row in rows} == {"tab-ambiguous"}
    # a combination that matches nothing says so
    host.select_by_value("tab-good")
    assert visible_findings(browser) == []
    assert browser.find_element(By.ID, "no-match").is_displayed()
    assert browser.find_element(By.ID, "shown").text == "0 of %d findings shown" % len(findings)
    # and the reset button shows everything again
    browser.find_element(By.ID, "f-reset").click()
    assert len(visible_findings(browser)) == len(findings)
    assert not browser.find_element(By.ID, "no-match").is_displayed()

    # no console errors (a CSP violation or a script error would be SEVERE)
    logs = browser.get_log("browser")
    assert [entry for entry in logs if entry["level"] == "SEVERE"] == []
