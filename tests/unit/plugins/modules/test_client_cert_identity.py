# -*- coding: utf-8 -*-
"""client_cert_identity run for real (``ansible localhost -m trustops.tableau.client_cert_identity``),
with the controller's Python and with Debian 12's /usr/bin/python3 (cryptography 38); and the
mutual_ssl role in a real playbook, which must stop the play on ambiguity before a server change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from module_runner import ANSIBLE, run_adhoc, run_playbook, target_pythons

from ansible_collections.trustops.tableau.plugins.module_utils import identity

from identity_pki import ClientPKI, tlv  # noqa: E402  pylint: disable=wrong-import-position

PYTHONS = target_pythons()

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason="needs the ansible CLI")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("client_cert_identity")
    p = ClientPKI()
    ca = p.ca()
    other_ca = p.ca(cn="Another CA")
    made = {
        "upn_only": p.client(ca, cn=None, upns=["jsmith@example.org"]),
        "cn_only": p.client(ca, cn="alee"),
        "both_disagree": p.client(ca, cn="John Smith", upns=["jsmith@example.org"]),
        "no_domain": p.client(ca, cn="bob", upns=["bob"]),
        "jdoe_org": p.client(ca, cn="jdoe", upns=["jdoe@example.org"]),
        "jdoe_com": p.client(ca, cn="jdoe", upns=["jdoe@example.com"]),
    }
    (d / "certs").mkdir()
    for name, client in made.items():
        (d / "certs" / (f"{name}.pem")).write_bytes(client.pem)
    (d / "bad").mkdir()
    (d / "bad" / "key.pem").write_bytes(made["upn_only"].key_pem)
    (d / "bad" / "truncated.der").write_bytes(made["upn_only"].der[:100])
    (d / "bad" / "wrong_type.pem").write_bytes(
        p.client(ca, cn="eve", upn_values=[tlv(0x16, b"eve@example.org")]).pem)
    (d / "ca.pem").write_bytes(ca.pem)
    (d / "other.pem").write_bytes(p.client(other_ca, cn=None, upns=["mallory@example.org"]).pem)
    (d / "users.csv").write_bytes(b"jsmith@example.org,pw,John Smith,Viewer\nexample.org\\alee,pw,Ann,Viewer\n")
    return {"dir": d, "made": made}


def run_module(tmp_path, args, python=None, check=False):
    """``ansible localhost -m trustops.tableau.client_cert_identity``: (status, result, output)."""
    return run_adhoc("client_cert_identity", args, tmp_path, python=python, check=check)


def by_name(result):
    return {Path(c["source"]).stem: c for c in result["certificates"]}


@pytest.mark.parametrize("python", PYTHONS)
def test_cn_mapping_in_two_domains_fails_with_every_finding(site, tmp_path, python):
    status, r, out = run_module(tmp_path, {"certs": [str(site["dir"] / "certs" / "*.pem")], "identity_store": "ad",
                                           "mapping": "cn", "default_domain": "Example.org"}, python=python)
    assert status == "FAILED!", out
    assert "Traceback" not in out and r["ok"] is False and r["changed"] is False
    certs = by_name(r)
    assert sorted(certs) == ["both_disagree", "cn_only", "jdoe_com", "jdoe_org", "no_domain", "upn_only"]
    assert certs["jdoe_com"]["mapped_name"] == certs["jdoe_org"]["mapped_name"] == "jdoe@example.org"
    assert certs["jdoe_com"]["codes"] == ["SSL-007", "SSL-011", "SSL-010"]
    assert certs["upn_only"]["mapped_name"] is None and certs["upn_only"]["codes"] == ["SSL-004"]
    assert certs["both_disagree"]["other_mapping_name"] == "jsmith@example.org"
    assert r["domains_in_play"] == ["example.com", "example.org"] and r["default_domain"] == "example.org"
    assert r["counts"]["collisions"] == 1 and r["counts"]["certificates"] == 6
    assert "error SSL-004" in r["msg"] and "error SSL-010" in r["msg"]
    # every certificate's prediction is the core's, on the same files
    items = identity.read_sources([str(site["dir"] / "certs" / "*.pem")])
    core = identity.audit(items, "ad", "cn", "example.org").as_dict()
    assert core["certificates"] == r["certificates"]


@pytest.mark.parametrize("python", PYTHONS)
def test_upn_mapping_known_users_and_client_ca(site, tmp_path, python):
    d = site["dir"]
    status, r, out = run_module(tmp_path, {
        "certs": [str(d / "certs" / "upn_only.pem"), str(d / "certs" / "jdoe_com.pem"), str(d / "other.pem"),
                  site["made"]["upn_only"].pem.decode()],
        "identity_store": "ad", "mapping": "upn", "default_domain": "example.org",
        "known_users": ["example.com/jdoe"], "known_users_file": str(d / "users.csv"),
        "client_ca": str(d / "ca.pem"), "fail_on": "never"}, python=python)
    assert status == "SUCCESS", out
    codes = sorted((Path(f["data"].get("source", "")).name, f["code"]) for f in r["findings"])
    # jdoe_com's CN would be jdoe@example.org under cn mapping: one audit-wide SSL-018 (info)
    assert codes == [("", "SSL-018"), ("other.pem", "SSL-012"), ("other.pem", "SSL-015")], codes
    assert by_name(r)["upn_only"]["sources"][1] == "certs[4]"
    assert r["ok"] is False and r["mapping"] == "upn"


def test_default_mapping_and_check_mode(site, tmp_path):
    status, r, out = run_module(tmp_path, {"certs": [str(site["dir"] / "certs" / "no_domain.pem")],
                                           "identity_store": "ad", "fail_on": "warning"}, check=True)
    assert status == "SUCCESS", out  # SSL-016 is info
    assert r["mapping"] == "ldap" and [f["code"] for f in r["findings"]] == ["SSL-016"]
    status, r, out = run_module(tmp_path, {"certs": [str(site["dir"] / "certs" / "no_domain.pem")],
                                           "identity_store": "local"})
    assert status == "SUCCESS", out
    assert r["mapping"] == "upn" and r["certificates"][0]["mapped_name"] == "bob" and r["findings"] == []


@pytest.mark.parametrize("python", PYTHONS)
def test_bad_input_is_findings_not_tracebacks(site, tmp_path, python):
    d = site["dir"]
    status, r, out = run_module(tmp_path, {
        "certs": [str(d / "bad" / "*"), str(d / "missing.pem"), str(d / "nothing-*.pem"),
                  str(d / "certs" / "upn_only.pem")],
        "identity_store": "local", "mapping": "upn"}, python=python)
    assert status == "FAILED!" and "Traceback" not in out, out
    found = [(Path(f["data"]["source"]).name, f["code"], f["severity"]) for f in r["findings"]]
    assert found == [("key.pem", "SSL-001", "error"), ("truncated.der", "SSL-001", "error"),
                     ("missing.pem", "SSL-001", "error"), ("nothing-*.pem", "SSL-020", "warning"),
                     ("wrong_type.pem", "SSL-002", "error"), ("wrong_type.pem", "SSL-004", "error")], found
    assert [c["mapped_name"] for c in r["certificates"]] == [None, "jsmith@example.org"]
    # the counters count what their names say: a missing file is as unreadable as a key or truncated DER
    assert r["counts"]["unreadable"] == 3 and r["counts"]["unmatched_patterns"] == 1, r["counts"]


def test_broken_options_fail_with_a_message(site, tmp_path):
    status, r, out = run_module(tmp_path, {"certs": [str(site["dir"] / "certs" / "*.pem")], "identity_store": "ad",
                                           "known_users_file": str(site["dir"] / "nope.csv")})
    assert status == "FAILED!" and "known_users_file" in r["msg"] and "No such file" in r["msg"], out
    status, r, out = run_module(tmp_path, {"certs": [str(site["dir"] / "certs" / "*.pem")], "identity_store": "ad",
                                           "client_ca": str(site["dir"] / "bad" / "key.pem")})
    assert status == "FAILED!" and "holds a private key" in r["msg"], out
    status, r, out = run_module(tmp_path, {"certs": [], "identity_store": "ad"})
    assert status == "FAILED!" and "at least one" in r["msg"], out


# --------------------------------------------------------------------------- the role

PLAY = """
- name: Mutual SSL for the Tableau nodes
  hosts: tableau
  gather_facts: false
  roles:
    - role: trustops.tableau.mutual_ssl
  tasks:
    - name: A server change that must not happen after an ambiguous audit
      ansible.builtin.copy:
        content: "{{ mutual_ssl_audit.mapping }} {{ mutual_ssl_audit.counts.certificates }}\\n"
        dest: "{{ marker_dir }}/{{ inventory_hostname }}"
        mode: "0644"
"""


def run_role(tmp_path, extra):
    """The play on two local nodes; (exit code, output, hosts that got past the role)."""
    (tmp_path / "markers").mkdir(exist_ok=True)
    rc, out = run_playbook(tmp_path, PLAY, dict(extra, marker_dir=str(tmp_path / "markers")),
                           hosts={"tableau": {"hosts": {"node1": {}, "node2": {}}}}, timeout=180)
    return rc, out, sorted(p.name for p in (tmp_path / "markers").iterdir())


def test_role_stops_the_play_on_ambiguity_before_any_change(site, tmp_path):
    rc, out, markers = run_role(tmp_path, {
        "mutual_ssl_client_certs": [str(site["dir"] / "certs" / "jdoe_*.pem")],
        "mutual_ssl_identity_store": "ad", "mutual_ssl_mapping": "cn", "mutual_ssl_default_domain": "example.org"})
    assert rc != 0, out
    assert markers == [], out
    assert "SSL-007" in out and "SSL-010" in out
    # the play stops on one short line: each failing code with its remedy, not the whole result
    fatal = [line for line in out.splitlines() if line.startswith("fatal: ")]
    assert len(fatal) == 1 and len(fatal[0]) < 1500, fatal
    for code in ("SSL-007", "SSL-010", "SSL-011"):
        assert re.search(f"error {code}( x\\d+, e\\.g\\.)?: [^|]* Remedy: ", fatal[0]), (code, fatal[0])
    assert '"certificates"' not in fatal[0]
    assert re.search(r"node1\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", out), out
    assert re.search(r"node2\s*:\s*ok=\d+\s+changed=0", out), out


def test_role_lets_a_clean_audit_through_to_every_host(site, tmp_path):
    rc, out, markers = run_role(tmp_path, {
        "mutual_ssl_client_certs": [str(site["dir"] / "certs" / "jdoe_*.pem"),
                                    str(site["dir"] / "certs" / "upn_only.pem")],
        "mutual_ssl_identity_store": "ad", "mutual_ssl_mapping": "upn", "mutual_ssl_default_domain": "example.org"})
    assert rc == 0, out
    assert markers == ["node1", "node2"]
    assert (tmp_path / "markers" / "node2").read_text() == "upn 3\n"


def test_role_requires_the_identity_store(site, tmp_path):
    rc, out, markers = run_role(tmp_path, {"mutual_ssl_client_certs": [str(site["dir"] / "certs" / "*.pem")]})
    assert rc != 0 and markers == [] and "mutual_ssl_identity_store" in out, out


def test_role_stops_on_broken_options_too(site, tmp_path):
    """The audit task does not fail itself (the next task does, with its message): broken options,
    which give no findings, still stop the play before any change."""
    rc, out, markers = run_role(tmp_path, {
        "mutual_ssl_client_certs": [str(site["dir"] / "certs" / "jdoe_org.pem")], "mutual_ssl_identity_store": "ad",
        "mutual_ssl_mapping": "upn", "mutual_ssl_known_users_file": str(site["dir"] / "nope.csv")})
    assert rc != 0 and markers == [], out
    fatal = [line for line in out.splitlines() if line.startswith("fatal: ")]
    assert len(fatal) == 1 and "known_users_file" in fatal[0] and "nope.csv" in fatal[0], out


def test_role_lets_findings_below_the_threshold_through_as_warnings(site, tmp_path):
    rc, out, markers = run_role(tmp_path, {
        "mutual_ssl_client_certs": [str(site["dir"] / "certs" / "jdoe_org.pem"), str(site["dir"] / "nothing-*.pem")],
        "mutual_ssl_identity_store": "ad", "mutual_ssl_mapping": "upn"})
    assert rc == 0 and markers == ["node1", "node2"], out
    assert re.search(r"\[WARNING\]: SSL-020 \(warning\): ", out), out
