# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAML checks' action plugins: in the controller's worker they say exactly what the module says.

``saml_metadata_check`` and ``saml_response_check`` run in the worker when their module would run
in that same Python (plugins/plugin_utils/in_process.py).  Each test runs one real playbook
twice with real ``ansible-playbook``, on this venv's ansible-core and on the oldest supported
one (the packaging stage's venv, when it exists): once as the user runs it, once with
``trustops_tableau_in_process=false`` (the module, as Ansible always ran it).  The registered
results, the ``[WARNING]``/``[ERROR]``/``fatal`` lines and the whole ``-vvv`` output (less the
lines that say how a module was started) must be identical, and ``-vvv`` must show which path
ran every task (else the comparison would prove nothing).

Inputs are real: metadata and responses from pysaml2, signed by xmlsec1.  The playbook lives in
one directory and is started from another that holds a decoy under the same relative name, so a
relative path read from the wrong directory gives another verdict.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from module_runner import _environment

import saml_idp_fixtures as mdfx  # noqa: E402  pylint: disable=wrong-import-position
import saml_response_fixtures as rfx  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.trustops.tableau.plugins.modules import saml_metadata_check, saml_response_check
from ansible_collections.trustops.tableau.plugins.module_utils.saml import task

pytestmark = pytest.mark.skipif(mdfx.XMLSEC1 is None, reason="xmlsec1 (Debian package) signs the fixtures")

ROOT = Path(__file__).resolve().parents[4]
HOST = mdfx.SERVER_HOST
IN_WORKER = "runs in the controller's worker"
AS_MODULE = "runs as a module"
METADATA = "trustops.tableau.saml_metadata_check"
RESPONSE = "trustops.tableau.saml_response_check"


def cores():
    """(label, python) of each ansible-core to compare on: this venv's, and the packaging venv's (2.17)."""
    found = [("venv", sys.executable)]
    for python in sorted(glob.glob(str(ROOT / ".build" / "package" / "venv-*" / "bin" / "python"))):
        if os.path.exists(Path(python).with_name("ansible-playbook")):
            found.append((Path(python).parents[1].name, python))
    return found


CORES = cores()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The playbook's directory (``play``) with its files, and the directory it is started from
    (``launch``) with decoys under the same relative names."""
    base = tmp_path_factory.mktemp("saml_in_process")
    play, launch = base / "play", base / "launch"
    for d in (play / "files", launch / "files", play / "files" / "adir"):
        d.mkdir(parents=True, exist_ok=True)
    idp = mdfx.idp(base, name="parity-idp")
    other = mdfx.idp(base, name="other-idp")
    (play / "files" / "idp.xml").write_bytes(idp.metadata(sign="sha256"))
    (play / "files" / "soap.xml").write_bytes(idp.metadata(sso=("soap",), slo=()))
    (play / "files" / "noslo.xml").write_bytes(idp.metadata(slo=()))
    (play / "files" / "signer.crt").write_bytes(mdfx.pem(idp.cert))
    (play / "files" / "other.crt").write_bytes(mdfx.pem(other.cert))
    (play / "files" / "sp.xml").write_bytes(mdfx.sp_metadata(base))
    (play / "files" / "sp-bad.xml").write_bytes(mdfx.sp_metadata(base, acs_url=f"https://{HOST}/wg/saml/SSO/Index.html"))
    (play / "files" / "xxe.xml").write_bytes(b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM '
                                             b'"file:///etc/hostname">]><m>&x;</m>')
    (play / "files" / "empty.xml").write_bytes(b"")
    # the decoys: where the worker's own directory would find them
    (launch / "files" / "idp.xml").write_bytes(idp.metadata(sso=("soap",), slo=()))
    (launch / "files" / "signer.crt").write_bytes(mdfx.pem(other.cert))

    rid = rfx.Idp(base / "response-idp")
    good = rid.response(groups=("Sales",))
    (play / "files" / "good.xml").write_bytes(good)
    (play / "files" / "trace.txt").write_text(rfx.form_value(good, urlencode=True))
    (play / "files" / "metadata.xml").write_bytes(rid.metadata())
    (play / "files" / "idp-response.crt").write_bytes(rid.cert_pem)
    (play / "files" / "anytype.xml").write_bytes(rid.response(username_type="xs:anyType", sign_alg="sha1",
                                                              digest_alg="sha1"))
    (play / "files" / "wrapped.xml").write_bytes(rfx.xsw_assertion_sibling(rid.response()))
    (launch / "files" / "good.xml").write_bytes(rid.response(username_type="xs:anyType"))
    return {"play": play, "launch": launch, "good": good.decode()}


def metadata_cases(site):
    signed = {"src": "files/idp.xml", "trusted_signer_src": "files/signer.crt", "sp_src": "files/sp.xml",
              "server_host": HOST, "return_url": f"https://{HOST}"}
    failing = {"src": "files/soap.xml", "sp_src": "files/sp-bad.xml", "server_host": HOST,
               "acs_url": f"https://{HOST}/wg/saml/sso/index.html", "return_url": "https://localhost/"}
    return [
        {"args": signed},
        {"args": dict(signed, src=str(site["play"] / "files" / "idp.xml"))},
        {"args": failing},
        {"args": dict(failing, fail_on="never")},
        {"args": {"src": "files/noslo.xml", "fail_on": "warning"}},
        {"args": {"src": "files/noslo.xml"}},
        {"args": dict(signed, trusted_signer_src="files/other.crt")},
        {"args": {"content": (site["play"] / "files" / "idp.xml").read_text(), "server_host": HOST}},
        {"args": {"src": "files/xxe.xml"}},
        {"args": {"src": "files/nope.xml"}},
        {"args": {"src": "files/adir"}},
        {"args": {"src": "files/empty.xml"}},
        {"args": {"src": "files/idp.xml", "max_bytes": 99999999999}},
        {"args": {"src": "files/idp.xml", "max_bytes": 100}},
        {"args": {"sp_src": "files/sp.xml", "trusted_signer_src": "files/signer.crt"}},
        {"args": {"src": "files/idp.xml", "bogus": 1}},
        {"args": {"src": "files/idp.xml", "content": "<x/>"}},
        {"args": {"entity_id": "x"}},
        {"args": {"src": "files/idp.xml", "scope": "site"}},
        {"args": {"src": "files/idp.xml", "max_bytes": "many"}},
        {"args": {"src": "files/idp.xml", "min_rsa_key_size": 4096, "blocklisted_digests": ["SHA256"]}},
        {"args": signed, "check_mode": True, "diff": True},
        {"args": failing, "no_log": True},
    ]


def response_cases(site):
    good = {"src": "files/good.xml", "idp_metadata_src": "files/metadata.xml", "acs_url": rfx.ACS_URL,
            "sp_entity_id": rfx.SP_ENTITY_ID}
    return [
        {"args": good},
        {"args": dict(good, src="files/trace.txt")},
        {"args": {"src": "files/good.xml", "idp_cert_src": "files/idp-response.crt"}},
        {"args": {"content": site["good"], "idp_cert_src": "files/idp-response.crt", "authcontexts": ["x"]}},
        {"args": dict(good, src="files/anytype.xml")},
        {"args": dict(good, src="files/anytype.xml", fail_on="never")},
        {"args": dict(good, src="files/wrapped.xml")},
        {"args": dict(good, username_attribute="  ")},
        {"args": dict(good, idp_metadata_src="files/nope.xml")},
        {"args": dict(good, bogus=True)},
        {"args": {"idp_cert_src": "files/idp-response.crt"}},
        {"args": good, "check_mode": True, "no_log": True},
    ]


def playbook(cases):
    tasks = []
    for number, case in enumerate(cases):
        item = {"name": f"case {number}", case["module"]: case["args"], "register": f"r{number}",
                "ignore_errors": True}
        item.update({k: case[k] for k in ("check_mode", "diff", "no_log") if k in case})
        tasks.append(item)
    tasks.append({"name": "results", "ansible.builtin.copy": {
        "dest": "{{ results_file }}", "mode": "0600",
        "content": "{{ [" + ", ".join(f"r{n}" for n in range(len(cases))) + "] | to_json }}"}})
    return yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False)


def run(site, python, name, play_text, in_process, options=(), inventory=None):
    """(results, output) of ansible-playbook -vvv run from ``launch`` on ``play/<name>.yml``."""
    play, launch = site["play"], site["launch"]
    (play / f"{name}.yml").write_text(play_text)
    results = launch / f"{name}-{in_process}.json"
    home, temp = launch / "ansible_home", launch / "ansible_tmp"
    home.mkdir(exist_ok=True)
    temp.mkdir(exist_ok=True)
    env = _environment(str(home), str(temp), {"TMPDIR": str(temp), "ANSIBLE_DEPRECATION_WARNINGS": "0",
                                              "ANSIBLE_KEEP_REMOTE_FILES": "0", "ANSIBLE_FORCE_COLOR": None})
    argv = [str(Path(python).with_name("ansible-playbook")), "-vvv", str(play / f"{name}.yml"),
            "-e", f"trustops_tableau_in_process={in_process}", "-e", f"results_file={results}"]
    if inventory:
        argv += ["-i", inventory]
    argv += list(options)
    proc = subprocess.run(argv, env=env, cwd=launch, capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    assert results.exists(), out[-4000:]
    return json.loads(results.read_text()), out


_HOW = re.compile(r"^(<[^>]*> (EXEC|PUT|ESTABLISH|trustops\.tableau\.saml_\w+: runs )|Using module file|"
                  r"Loading collection|PLAY RECAP|localhost +: ok=)", re.M)


def comparable(out: str) -> str:
    """The output of the checks (up to the task that saves the results), less the lines that say
    how a module was started."""
    out = out.split("TASK [results]", 1)[0]
    return "\n".join(line for line in out.splitlines() if not _HOW.match(line) and "AnsiballZ" not in line)


def both_paths(site, python, name, cases):
    text = playbook(cases)
    mine, mine_out = run(site, python, name, text, True)
    theirs, theirs_out = run(site, python, name, text, False)
    assert mine_out.count(IN_WORKER) == len(cases), mine_out[-3000:]
    assert AS_MODULE not in mine_out
    assert theirs_out.count(f"{AS_MODULE}: trustops_tableau_in_process is false") == len(cases)
    return mine, theirs, mine_out, theirs_out


def assert_same(cases, mine, theirs, mine_out, theirs_out):
    for number, (case, a, b) in enumerate(zip(cases, mine, theirs, strict=True)):
        assert a == b, f"case {number} {case}: registered results differ"
    assert comparable(mine_out) == comparable(theirs_out)


@pytest.mark.parametrize("label,python", CORES, ids=[c[0] for c in CORES])
def test_metadata_check_in_the_worker_says_what_the_module_says(site, label, python):  # pylint: disable=unused-argument
    cases = [dict(c, module=METADATA) for c in metadata_cases(site)]
    mine, theirs, mine_out, theirs_out = both_paths(site, python, "metadata", cases)
    assert_same(cases, mine, theirs, mine_out, theirs_out)
    # the cases are what they say (else equality would prove little)
    assert mine[0]["ok"] is True and mine[0]["idp"]["signature_verified"] is True
    assert mine[2]["failed"] is True and "SAML-050" in mine[2]["msg"]
    assert mine[3].get("failed") is not True and "[WARNING]: SAML-050 (error)" in mine_out
    assert mine[6]["failed"] is True and mine[6]["idp"]["signature_verified"] is False
    assert "DOCTYPE" in mine[8]["msg"] and "src files/nope.xml: cannot read it" in mine[9]["msg"]
    assert "is a directory" in mine[10]["msg"] and "is empty" in mine[11]["msg"]
    assert mine[15]["msg"].startswith(f"Unsupported parameters for ({METADATA}) module: bogus")
    assert "mutually exclusive" in mine[16]["msg"] and "one of the following is required" in mine[17]["msg"]
    assert "site_alias" in mine[18]["msg"] and "max_bytes" in mine[19]["msg"]
    assert mine[21]["ok"] is True and mine[22]["failed"] is True
    assert mine_out.count("the output has been hidden") == 1
    assert mine_out.count("Task failed: Module failed:") == theirs_out.count("Task failed: Module failed:")


@pytest.mark.parametrize("label,python", CORES, ids=[c[0] for c in CORES])
def test_response_check_in_the_worker_says_what_the_module_says(site, label, python):  # pylint: disable=unused-argument
    cases = [dict(c, module=RESPONSE) for c in response_cases(site)]
    mine, theirs, mine_out, theirs_out = both_paths(site, python, "response", cases)
    assert_same(cases, mine, theirs, mine_out, theirs_out)
    assert mine[0]["ok"] is True and mine[0]["signature_verified"] is True and mine[0]["username"]
    assert mine[1]["input_format"] == "form" and mine[3]["signature_verified"] is True
    assert mine[4]["failed"] is True and mine[5].get("failed") is not True
    assert mine[6]["failed"] is True
    assert mine[7]["msg"] == "username_attribute must not be empty"
    assert "idp_metadata_src files/nope.xml" in mine[8]["msg"] and "bogus" in mine[9]["msg"]
    assert "one of the following is required" in mine[10]["msg"] and mine[11]["ok"] is True
    assert mine_out.count("the output has been hidden") == 1


def test_relative_paths_mean_the_playbook_directory(site):
    """The decoys in the launch directory would give other verdicts: a soap-only IdP, another signer."""
    cases = [{"module": METADATA, "args": {"src": "files/idp.xml", "trusted_signer_src": "files/signer.crt"}},
             {"module": RESPONSE, "args": {"src": "files/good.xml", "idp_cert_src": "files/idp-response.crt"}}]
    mine, _out = run(site, sys.executable, "relative", playbook(cases), True)
    assert mine[0]["ok"] is True and mine[0]["idp"]["signature_verified"] is True
    assert mine[0]["bindings"] == ["HTTP-POST", "HTTP-Redirect"]
    assert mine[1].get("failed") is not True and mine[1]["signature_verified"] is True


# --------------------------------------------------------------------------- which path runs

def _reasons(out):
    return re.findall(r"trustops\.tableau\.saml_metadata_check: (runs [^\n]*)", out)


def _routing_play(hosts, **task_keys):
    item = {"name": "the check", METADATA: {"src": "files/noslo.xml"}, "register": "r0", "ignore_errors": True}
    item.update(task_keys)
    return yaml.safe_dump([{"hosts": hosts, "gather_facts": False, "tasks": [item, {
        "name": "results", "ansible.builtin.copy": {"dest": "{{ results_file }}", "mode": "0600",
                                                    "content": "{{ [r0] | to_json }}"},
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}}]}], sort_keys=False)


@pytest.mark.parametrize("what,task_keys,inventory,expected", [
    ("implicit localhost", {}, None, IN_WORKER),
    ("environment", {"environment": {"X_TRUSTOPS": "1"}}, None, f"{AS_MODULE}: environment is set"),
    ("become", {"become": True, "become_method": "ansible.builtin.su"}, None, f"{AS_MODULE}: become"),
    ("async", {"async": 60, "poll": 1}, None, f"{AS_MODULE}: async"),
    ("inventory localhost, interpreter discovered", {}, {"localhost": {"ansible_connection": "local"}},
     f"{AS_MODULE}: its interpreter is to be discovered"),
    ("inventory localhost, this python", {}, {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}, IN_WORKER),
    ("another python", {"vars": {"ansible_python_interpreter": "/usr/bin/python3"}}, None,
     f"{AS_MODULE}: interpreter /usr/bin/python3 is not the controller's"),
    ("delegated to localhost", {"delegate_to": "localhost"}, {"node": {
        "ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}}, IN_WORKER),
    ("ssh connection", {
        "vars": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                 "ansible_ssh_common_args": "-o ConnectTimeout=2"},
        "ignore_unreachable": True}, None, f"{AS_MODULE}: connection ssh"),
])
def test_the_worker_runs_the_check_only_where_the_module_would_run_in_this_python(
        site, tmp_path, what, task_keys, inventory, expected):  # pylint: disable=unused-argument
    if "become" in task_keys and os.geteuid() != 0:
        pytest.skip("su to root without a password needs root")
    hosts = None
    if inventory:
        hosts = tmp_path / "hosts.json"
        hosts.write_text(json.dumps({"all": {"hosts": inventory}}))
    name = re.sub(r"\W+", "_", what)
    results, out = run(site, sys.executable, name, _routing_play("all" if hosts else "localhost", **task_keys), True,
                       inventory=str(hosts) if hosts else None)
    reasons = _reasons(out)
    assert reasons and all(r.startswith(expected) for r in reasons), (reasons, out[-3000:])
    if "ssh" not in what and "discovered" not in what:  # the module or the worker ran the check: same verdict
        assert results[0].get("failed") is not True and any(f["code"] == "SAML-004" or f["severity"] == "warning"
                                                            for f in results[0]["findings"]), results[0]


# --------------------------------------------------------------------------- the shared parts

@pytest.mark.parametrize("spec", [task.METADATA, task.RESPONSE], ids=["metadata", "response"])
def test_the_specs_have_no_aliases_or_deprecations(spec):
    """The worker validates with ArgumentSpecValidator, which keeps alias and deprecation warnings
    to itself: a spec that gains one must also make the action say them."""
    for name, option in spec["argument_spec"].items():
        assert not option.get("aliases") and not option.get("deprecated_aliases"), name
        assert "removed_in_version" not in option and "removed_at_date" not in option, name


def test_the_modules_use_the_shared_specs():
    """One spec per check: the module's AnsibleModule gets task.METADATA/RESPONSE itself."""
    for module, spec in ((saml_metadata_check, "METADATA"), (saml_response_check, "RESPONSE")):
        text = Path(module.__file__).read_text()
        assert f"AnsibleModule(supports_check_mode=True, **{spec})" in text
        assert "argument_spec=" not in text.split("def main", 1)[1]
