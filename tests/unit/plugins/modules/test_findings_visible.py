# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13: a plain ``ansible-playbook`` run shows every finding.

One real playbook run (the default stdout callback, no readiness report) on localhost, asserting on
the console as a person reads it:

* findings that do not fail their task are ``[WARNING]`` lines (code, severity, one-line message):
  ``tls_probe`` against a real TLS server (``openssl s_server``) that serves its leaf without the
  intermediate, probed by a short name (TLS-002, TLS-003; ``fail_on: never``), ``client_cert_identity``
  with no certificate at all (SSL-020, SSL-021), ``mobile_trust_profile`` given an intermediate
  (MOBILE-008), ``trust_anchor`` in check mode with an Ed25519 root (ANCHOR-007);
* a mutual SSL ambiguity (CN mapping, Active Directory, two domains) fails with each failing code,
  its message and ``Remedy:``, and the message does not grow with the number of certificates (3 and
  30); the ``mutual_ssl`` role stops the play on one short line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "module_utils"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "roles"))
from identity_pki import ClientPKI, ed25519_root  # noqa: E402  pylint: disable=wrong-import-position,import-error
from playbook_runner import PLAYBOOK, run_playbook  # noqa: E402  pylint: disable=wrong-import-position,import-error
# the TLS servers of the tls_probe tests: one serves its whole chain, one only its leaf
from test_tls_probe import site  # noqa: E402,F401  pylint: disable=wrong-import-position,import-error,unused-import

#: The longest failure line a person should have to read, whatever the number of certificates.
SHORT = 1500

pytestmark = pytest.mark.skipif(not Path(PLAYBOOK).exists(), reason="needs ansible-playbook")

PLAY = r"""
- name: Findings that do not fail their task are warnings
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe a server that leaves out its intermediate, by its short name
      trustops.tableau.tls_probe:
        host: tableau
        address: 127.0.0.1
        port: "{{ tls_port }}"
        ca_file: "{{ tls_dir }}/root.pem"
        fail_on: never

    - name: Audit client certificates that are not there
      trustops.tableau.client_cert_identity:
        certs: ["{{ work }}/nowhere-*.pem"]
        identity_store: ad
        mapping: upn

    - name: Mobile trust files for a root and an intermediate
      trustops.tableau.mobile_trust_profile:
        src: ["{{ tls_dir }}/root.pem", "{{ tls_dir }}/inter.pem"]
        identifier: test.trustops.visible
        dest: "{{ work }}/mobile"

    - name: Trust an Ed25519 root (check mode; the store is only read)
      trustops.tableau.trust_anchor:
        content: "{{ lookup('ansible.builtin.file', work + '/ed25519-root.pem') }}"
        platform: debian
      check_mode: true

    - name: Mutual SSL audit, 3 certificates in two domains
      trustops.tableau.client_cert_identity:
        certs: ["{{ work }}/three/*.pem"]
        identity_store: ad
        mapping: cn
        default_domain: east.example.org
        domains: [east.example.org, west.example.org]
      ignore_errors: true

    - name: Mutual SSL audit, 30 certificates in two domains
      trustops.tableau.client_cert_identity:
        certs: ["{{ work }}/thirty/*.pem"]
        identity_store: ad
        mapping: cn
        default_domain: east.example.org
        domains: [east.example.org, west.example.org]
      ignore_errors: true

- name: The mutual_ssl role on the same 30 certificates
  hosts: localhost
  gather_facts: false
  roles:
    - role: trustops.tableau.mutual_ssl
      vars:
        mutual_ssl_client_certs: ["{{ work }}/thirty/*.pem"]
        mutual_ssl_identity_store: ad
        mutual_ssl_mapping: cn
        mutual_ssl_default_domain: east.example.org
        mutual_ssl_domains: [east.example.org, west.example.org]
"""


def _clients(directory, count):
    """``count`` client certificates under CN mapping: the users take turns between two domains,
    each user in both (CN ``userN`` without a domain, UPN ``userN@<domain>``)."""
    p = ClientPKI()
    ca = p.ca()
    directory.mkdir()
    for n in range(count):
        domain = ("east.example.org", "west.example.org")[n % 2]
        user = f"user{n // 2}"
        (directory / f"{n:02d}.pem").write_bytes(p.client(ca, cn=user, upns=[f"{user}@{domain}"]).pem)


@pytest.fixture(scope="module")
def console(site, tmp_path_factory):  # pylint: disable=redefined-outer-name
    """The console output (stdout + stderr) and exit code of the one run."""
    work = tmp_path_factory.mktemp("visible")
    (work / "ed25519-root.pem").write_bytes(ed25519_root("Visible Ed25519 Root"))
    _clients(work / "three", 3)
    _clients(work / "thirty", 30)
    return run_playbook(work / "run", PLAY, {"work": str(work), "tls_dir": str(site["dir"]),
                                             "tls_port": site["ports"]["leaf_only"]},
                        env={"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}, timeout=300)


def warnings(out):
    """The text of each ``[WARNING]:`` line of the run (one line each: findings are one line)."""
    return [m.group(1) for m in re.finditer(r"^\[WARNING\]: (.*)$", out, re.M)]


def failures(out):
    """(task name, failure line, result) for each failed task, in order."""
    found = []
    task = None
    for line in out.splitlines():
        heading = re.match(r"^TASK \[(.*)\] \**$", line)
        if heading:
            task = heading.group(1)
        if line.startswith("fatal: "):
            found.append((task, line, json.loads(line.split(" => ", 1)[1])))
    return found


def warned(out, code, severity):
    return [w for w in warnings(out) if w.startswith(f"{code} ({severity}): ")]


def test_the_run_ends_failed_on_the_role_only(console):
    rc, out = console
    assert rc != 0, out
    names = [task for task, _line, _result in failures(out)]
    assert names == ["Mutual SSL audit, 3 certificates in two domains",
                     "Mutual SSL audit, 30 certificates in two domains",
                     "trustops.tableau.mutual_ssl : Stop the play before any server change when the audit fails"], out


def test_tls_probe_findings_are_warnings(console):
    _rc, out = console
    chain = warned(out, "TLS-002", "error")
    name = warned(out, "TLS-003", "error")
    assert chain and "incomplete" in chain[0], warnings(out)
    assert name and "not issued to tableau" in name[0], warnings(out)


def test_an_audit_of_no_certificate_is_a_warning(console):
    _rc, out = console
    assert warned(out, "SSL-020", "warning"), warnings(out)
    nothing = warned(out, "SSL-021", "warning")
    assert nothing and "nothing was audited" in nothing[0], warnings(out)


def test_mobile_and_trust_anchor_warnings(console):
    _rc, out = console
    intermediate = warned(out, "MOBILE-008", "warning")
    assert intermediate and "Module Intermediate CA" in intermediate[0], warnings(out)
    assert warned(out, "ANCHOR-007", "warning"), warnings(out)


@pytest.mark.parametrize("count", [3, 30])
def test_an_ambiguity_failure_names_each_code_with_its_remedy_and_stays_short(console, count):
    _rc, out = console
    task, _line, result = [f for f in failures(out) if f[0].startswith(f"Mutual SSL audit, {count} ")][0]
    msg = result["msg"]
    assert len(msg.encode()) < SHORT, (len(msg), msg)
    failing = {(f["severity"], f["code"]) for f in result["findings"] if f["severity"] == "error"}
    assert {code for _s, code in failing} == {"SSL-007", "SSL-010", "SSL-011"}, failing
    for severity, code in failing:
        remedy = [f["remedy"] for f in result["findings"] if f["code"] == code][0]
        assert re.search(f"{severity} {code}( x\\d+, e\\.g\\.)?: [^|]+ Remedy: {re.escape(remedy[:40])}", msg), (code, msg)
    assert "also: info SSL-018" in msg and len(result["certificates"]) == count


def test_the_failure_does_not_grow_with_the_number_of_certificates(console):
    _rc, out = console
    msgs = {task: result["msg"] for task, _line, result in failures(out)}
    three = msgs["Mutual SSL audit, 3 certificates in two domains"]
    thirty = msgs["Mutual SSL audit, 30 certificates in two domains"]
    assert "error SSL-007 x30, e.g.: " in thirty and "error SSL-007 x3, e.g.: " in three
    assert abs(len(thirty) - len(three)) < 60, (three, thirty)


def test_the_role_stops_the_play_on_one_short_line(console):
    _rc, out = console
    _task, line, result = failures(out)[-1]
    assert len(line.encode()) < SHORT, (len(line), line)
    for code in ("SSL-007", "SSL-010", "SSL-011"):
        assert re.search(f"error {code} x\\d+, e\\.g\\.: [^|]+ Remedy: ", result["msg"]), (code, line)
    assert "certificates" not in result and "findings" not in result
