# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the report goes and how it is configured, in real runs: console table, ansible-runner's
artifact directory, ansible.cfg options, the current directory, bad options; and the topic table."""

from __future__ import annotations

import json
import os
import re

from ansible_collections.trustops.tableau.plugins.callback import readiness

from readiness_runs import ROOT, local, make_pki, run_playbook

PLAY = r"""
- name: Client identities
  hosts: all
  gather_facts: false
  tasks:
    - name: Audit the client certificates
      trustops.tableau.client_cert_identity:
        certs: ["{{ pki }}/alice.crt", "{{ pki }}/bob.crt"]
        identity_store: ad
        mapping: cn
        default_domain: east.example.org
        domains: [east.example.org, west.example.org]
        fail_on: never
      when: inventory_hostname == 'client-a'

    - name: Note the audit
      ansible.builtin.command: "true"
      when: inventory_hostname == 'client-b'
"""


def _hosts(pki):
    return {"client-a": local(pki=pki), "client-b": local(pki=pki)}


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_console_table_and_ansible_runner_artifact_directory(tmp_path):
    pki = make_pki(str(tmp_path / "pki"))
    artifacts = tmp_path / "artifacts" / "job-42"
    rc, stdout, stderr = run_playbook(str(tmp_path / "run"), PLAY, _hosts(pki),
                                      env={"AWX_ISOLATED_DATA_DIR": str(artifacts)})
    assert rc == 0, stderr
    # without output_dir, the report is written to the ansible-runner artifact directory
    assert sorted(os.listdir(artifacts)) == ["readiness.html", "readiness.json", "readiness.junit.xml"]
    report = json.loads(_read(artifacts / "readiness.json"))
    assert not (tmp_path / "run" / "readiness").exists()
    # the summary table is the end of the console output: hosts by severities, then the files
    table = stdout[stdout.index("TRUSTOPS READINESS"):]
    lines = [line for line in table.splitlines()[1:] if line.strip()]
    assert lines[0].split() == ["host", "verdict", "error", "warning", "info", "failed", "changed"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    for host in report["hosts"]:
        counts = host["findings"]
        numbers = [int(n) for n in rows[host["name"]].split()[-5:]]
        assert numbers == [counts["error"], counts["warning"], counts["info"], host["failed_tasks"], host["changed_tasks"]]
    assert report["hosts"][0]["name"] == "client-a" and report["hosts"][0]["findings"]["error"] == 2
    # client-b ran no check at all: not called ready
    assert "not ready" in rows["client-a"] and "nothing checked" in rows["client-b"]
    assert [h["verdict"] for h in report["hosts"]] == ["not_ready", "unchecked"]
    assert rows["total"].split()[-5:] == ["2", "0", str(report["summary"]["findings"]["info"]), "0", "1"]
    paths = [line.split()[-1] for line in lines[4:7]]
    assert lines[4].startswith("report: ")
    assert sorted(paths) == sorted(str(artifacts / name) for name in ("readiness.html", "readiness.json", "readiness.junit.xml"))
    assert len(lines) == 7


def test_options_from_ansible_cfg_and_current_directory(tmp_path):
    pki = make_pki(str(tmp_path / "pki"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\ncallbacks_enabled = trustops.tableau.readiness\n\n"
                      "[trustops_readiness]\nbasename = fleet\ncatalogue_url = https://docs.example.org/trustops\n"
                      "console = false\n", encoding="utf-8")
    # a previous report: one file is replaced, and one path cannot be written (a directory is in the way)
    out = cwd / "readiness"
    out.mkdir()
    (out / "fleet.json").write_text("previous report\n", encoding="utf-8")
    (out / "fleet.junit.xml").mkdir()
    (out / "fleet.junit.xml" / "keep.txt").write_text("kept\n", encoding="utf-8")
    rc, stdout, stderr = run_playbook(str(tmp_path / "run"), PLAY, _hosts(pki), cwd=str(cwd),
                                      env={"ANSIBLE_CONFIG": str(config), "ANSIBLE_CALLBACKS_ENABLED": None})
    assert rc == 0, stderr
    # enabled by ansible.cfg alone; no output_dir: ./readiness of the current directory
    assert sorted(os.listdir(out)) == ["fleet.html", "fleet.json", "fleet.junit.xml"]
    output = re.sub(r"\s+", " ", stdout + stderr)
    assert "could not write %s" % (out / "fleet.junit.xml") in output
    assert (out / "fleet.junit.xml" / "keep.txt").read_text(encoding="utf-8") == "kept\n"
    assert "TRUSTOPS READINESS" not in stdout
    report = json.loads(_read(out / "fleet.json"))
    links = {f["catalogue"] for f in report["findings"]}
    assert links == {"https://docs.example.org/trustops/catalogue.md#ssl-007"}
    assert 'href="https://docs.example.org/trustops/catalogue.md#ssl-007"' in _read(out / "fleet.html")
    assert 'href="fleet.json"' in _read(out / "fleet.html")


def test_bad_name_and_unusable_directory_lose_nothing(tmp_path):
    pki = make_pki(str(tmp_path / "pki"))
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file\n", encoding="utf-8")
    wanted = blocker / "reports"
    rc, stdout, stderr = run_playbook(str(tmp_path / "run"), PLAY, _hosts(pki),
                                      env={"TRUSTOPS_READINESS_DIR": str(wanted), "TRUSTOPS_READINESS_NAME": "../escape"})
    assert rc == 0, stderr
    output = re.sub(r"\s+", " ", stdout + stderr)
    assert "basename '../escape'" in output and "writing the report as 'readiness' instead" in output
    match = re.search(rf"cannot write the report to {re.escape(str(wanted))} \(([^)]*)\); it is in (\S+) instead", output)
    assert match, output[-2000:]
    fallback = match.group(2)
    assert sorted(os.listdir(fallback)) == ["readiness.html", "readiness.json", "readiness.junit.xml"]
    assert not (tmp_path / "escape.html").exists() and not (tmp_path / "run" / "escape.html").exists()
    assert json.loads(_read(os.path.join(fallback, "readiness.json")))["summary"]["findings"]["error"] == 2


def test_topic_and_catalogue_tables():
    topic = readiness.topic_of
    assert topic("ANCHOR-008") == topic("TLS-003") == "client_trust"
    assert topic("MOBILE-012") == "mobile"
    assert topic("SAML-005") == topic("SAML-120") == "saml"
    assert topic("TSM-001") == "tsm"
    assert topic("SSL-007") == "mutual_ssl"
    # tasks of the embed_proxy role are embedded access, whatever their codes
    assert topic(None, "trustops.tableau.embed_proxy", "ansible.builtin.command") == "embedded"
    assert topic("TSM-050", "embed_proxy", "trustops.tableau.tsm_config") == "embedded"
    assert topic("TSM-050", "saml", "trustops.tableau.tsm_config") == "tsm"
    # without a code: the module, then the role
    assert topic(None, None, "trustops.tableau.tls_probe") == "client_trust"
    assert topic(None, "trustops.tableau.mutual_ssl", "ansible.builtin.assert") == "mutual_ssl"
    assert topic("XYZ-001", None, "ansible.builtin.command") == "other"
    # one catalogue page (docs/catalogue.md), one anchor per code; a base naming the page itself is kept
    for code in ("ANCHOR-001", "TLS-013", "MOBILE-006", "SAML-059", "SAML-101", "SSL-015", "TSM-001"):
        assert readiness.catalogue_page(code) == "catalogue.md"
        assert readiness.catalogue_link("https://x.test/docs", code) == f"https://x.test/docs/catalogue.md#{code.lower()}"
        assert readiness.catalogue_link("https://x.test/guide/catalogue.html", code) == \
            f"https://x.test/guide/catalogue.html#{code.lower()}"
    assert readiness.catalogue_page("NOPE-001") is None and readiness.catalogue_page("not a code") is None
    assert os.path.isfile(os.path.join(ROOT, "docs", readiness.CATALOGUE_PAGE))
