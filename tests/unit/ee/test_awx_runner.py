# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml run the way AWX runs it: through ansible-runner, with the readiness callback.

The job is an AWX-style private data dir (project/site.yml imports trustops.tableau.site,
inventory/hosts.yml, env/envvars with ANSIBLE_CALLBACKS_ENABLED=trustops.tableau.readiness), run
twice with ``ansible_runner.run``. The hosts are those of awx_world.py: one per group of the site
playbook (two Tableau Server nodes: SAML on one, mutual SSL on the other), each with its own state on
this machine. The assertions read what AWX reads: the job events, the status and rc, the stdout and
the job's artifact directory, where the readiness report lands (AWX_ISOLATED_DATA_DIR).
"""

from __future__ import annotations

import glob
import json
import os
import time
import xml.etree.ElementTree as ET

import ansible_runner
import pytest
from awx_world import STORE_DIRS, World

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
COLLECTIONS = os.path.abspath(os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
                              or os.path.join(ROOT, ".build", "collections"))
HOSTS = sorted(("mdm-artifacts", "tsm-saml", "tsm-mssl", "proxy-nginx", "client-1"))
RESULTS = ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")
# A task of each host's role that must have run (ok) on it, by host.
MUST_RUN = {
    "mdm-artifacts": ["Produce the mobile trust files on the artifact host",
                      "Write the per-platform install guide next to the files"],
    "tsm-saml": ["Check the SAML certificate and key", "Check the IdP metadata, the SP metadata and the SAML URLs",
                 "Configure server-wide SAML with TSM (only what differs)"],
    # the audit runs for the node that gets mutual SSL, whatever the group's first node is
    "tsm-mssl": ["Predict the Tableau user of every client certificate and look for ambiguity",
                 "Configure mutual SSL with TSM (only what differs)"],
    "proxy-nginx": ["Install the rule; the server checks the new file before it replaces the previous one"],
    "client-1": ["Trust the CA certificates in the system trust store (Linux, macOS)",
                 "Probe each Tableau Server as Tableau Desktop and Mobile see it"],
}
HANDLERS = {"tsm-saml": "Apply pending TSM changes", "tsm-mssl": "Apply pending TSM changes",
            "proxy-nginx": "Reload the reverse proxy (embed_proxy)"}


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path, COLLECTIONS)
    try:
        yield made
    finally:
        made.stop()


def run_job(world, ident):
    """One job, as AWX starts it; returns the runner, its artifact directory and its events."""
    runner = ansible_runner.run(private_data_dir=world.private_data_dir, playbook="site.yml",
                                inventory=os.path.join(world.private_data_dir, "inventory", "hosts.yml"),
                                ident=ident, quiet=True, settings={"job_timeout": 280})
    artifacts = os.path.join(world.private_data_dir, "artifacts", ident)
    stdout = runner.stdout.read()
    assert (runner.status, runner.rc) == ("successful", 0), stdout[-8000:]
    return runner, artifacts, stdout


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def events_on_disk(artifacts):
    """The job events as ansible-runner stored them (AWX reads these), in order."""
    events = [json.loads(read(path)) for path in glob.glob(os.path.join(artifacts, "job_events", "*.json"))]
    return sorted(events, key=lambda e: e["counter"])


def results_by_host_task(events):
    """{(host, task): [result event names]} of the per-host task results."""
    results = {}
    for event in events:
        if event["event"] in RESULTS:
            data = event["event_data"]
            results.setdefault((data["host"], data["task"]), []).append(event["event"])
    return results


def changed_results(events):
    return sorted({(e["event_data"]["host"], e["event_data"]["task"]) for e in events
                   if e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed")})


def recap(events):
    stats = [e["event_data"] for e in events if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1, stats
    return stats[0]


def test_site_playbook_under_ansible_runner_converges_then_changes_nothing(world):
    started = time.monotonic()
    runner, artifacts, stdout = run_job(world, "converge")

    # -- the artifacts AWX keeps: status, rc, stdout, one JSON file per job event
    assert read(os.path.join(artifacts, "status")).strip() == "successful"
    assert read(os.path.join(artifacts, "rc")).strip() == "0"
    assert "PLAY RECAP" in read(os.path.join(artifacts, "stdout")) and "PLAY RECAP" in stdout
    events = events_on_disk(artifacts)
    assert [e["counter"] for e in events] == [e["counter"] for e in runner.events] != []
    stats = recap(events)
    assert sorted(stats["ok"]) == HOSTS and not stats["failures"] and not stats["dark"], stats
    assert sorted(stats["changed"]) == HOSTS, stats

    # a result event per host and task; the tasks of each host's role ran (ok) on it; nothing failed
    results = results_by_host_task(events)
    assert not [key for key, names in results.items() if {"runner_on_failed", "runner_on_unreachable"} & set(names)]
    assert {host for host, _task in results} == set(HOSTS)
    for host, tasks in MUST_RUN.items():
        for task in tasks:
            assert results.get((host, task)) == ["runner_on_ok"], (host, task, results.get((host, task)))
    changed = changed_results(events)
    for host, handler in HANDLERS.items():
        assert (host, handler) in changed, (host, handler, changed)
    findings = [f for e in events if e["event"] == "runner_on_ok" and e["event_data"]["host"] == "tsm-saml"
                for f in e["event_data"]["res"].get("findings", [])]
    assert [f["code"] for f in findings] == ["SAML-009"], findings

    # -- the readiness report, in the job's artifact directory
    for name in ("readiness.html", "readiness.json", "readiness.junit.xml"):
        assert os.path.getsize(os.path.join(artifacts, name)) > 0, name
    report = json.loads(read(os.path.join(artifacts, "readiness.json")))
    assert report["files"]["json"] == os.path.join(artifacts, "readiness.json")
    assert [h["name"] for h in report["hosts"]] == HOSTS
    by_host = {h["name"]: h for h in report["hosts"]}
    for host in HOSTS:
        assert by_host[host]["failed_tasks"] == 0 and by_host[host]["changed_tasks"] >= 1, by_host[host]
        assert by_host[host]["stats"]["ok"] == stats["ok"][host], (host, by_host[host]["stats"], stats["ok"])
    assert by_host["tsm-saml"]["findings"]["warning"] == 1
    assert [(f["host"], f["code"]) for f in report["findings"]] == [("tsm-saml", "SAML-009")]
    suites = ET.parse(os.path.join(artifacts, "readiness.junit.xml")).getroot()
    assert sorted(suite.get("name") for suite in suites.iter("testsuite")) == HOSTS

    # -- each host's real state
    assert len(glob.glob(os.path.join(world.mobile_dir, "*.mobileconfig"))) == 1
    assert os.path.exists(os.path.join(world.mobile_dir, "INSTALL.md"))
    for name, sim in world.sims.items():
        assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 1), (name, sim.counters())
    assert world.sims["tsm-saml"].applied()["configEntities"]["samlSettings"]["enabled"]
    assert world.sims["tsm-mssl"].applied()["configEntities"]["mutualSSLSettings"]["clientCertRequired"]
    for store in world.stores.values():
        assert "awx-test-root.crt" in os.listdir(os.path.join(store, "local"))
        with open(world.pki["root.crt"], encoding="ascii") as ca, \
                open(os.path.join(store, "certs", "ca-certificates.crt"), encoding="ascii") as bundle:
            assert ca.read().strip() in bundle.read()
    assert "awx-test-root.crt" not in os.listdir(STORE_DIRS["local"])  # this machine's store is untouched
    deadline = time.monotonic() + 10
    while world.https_status("/")[0] != 403 and time.monotonic() < deadline:
        time.sleep(0.1)  # the reload is a signal to nginx's master
    assert world.https_status("/")[0] == 403
    status, body = world.https_status("/views/Sales/Overview?:embed=y")
    assert status == 200 and json.loads(body)["path"] == "/views/Sales/Overview"
    converge_seconds = time.monotonic() - started

    # -- the second job changes nothing on any host, as its events and its report say
    calls = {name: len(sim.calls()) for name, sim in world.sims.items()}
    runner, artifacts, stdout = run_job(world, "rerun")
    events = events_on_disk(artifacts)
    assert changed_results(events) == [], changed_results(events)
    stats = recap(events)
    assert stats["changed"] == {} and sorted(stats["ok"]) == HOSTS, stats
    assert not [e for e in events if e["event"] == "playbook_on_handler_task_start"]
    for name, sim in world.sims.items():
        assert [c["command"] for c in sim.calls()[calls[name]:]] == ["settings.export"], name
        assert sim.counters()["applies"] == 1, name
    report = json.loads(read(os.path.join(artifacts, "readiness.json")))
    assert [(h["name"], h["changed_tasks"]) for h in report["hosts"]] == [(h, 0) for h in HOSTS]
    assert os.path.getsize(os.path.join(artifacts, "readiness.html")) > 0
    print(f"ansible-runner jobs: converge {converge_seconds:.1f} s, both {time.monotonic() - started:.1f} s")
