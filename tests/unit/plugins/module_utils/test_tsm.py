# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TsmClient (cli and api transports) against the TSM simulator, the output parsers, values and key plans."""

from __future__ import annotations

import ast
import os
import pwd
import re
import shutil
import stat
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import _tsm_module
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import api as tsm_api
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import apply as tsm_apply
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import client as tsm_client
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import common as tsm_common
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import info as tsm_info
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import inputs as tsm_inputs
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import plans as tsm_plans
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import rules as tsm_rules
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import settings as tsm_settings
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import transport as tsm_transport

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import API_PASSWORD, API_USER, SimServer, make_crl, write  # noqa: E402  pylint: disable=wrong-import-position
import seed_text  # noqa: E402  pylint: disable=wrong-import-position

RSA = "wgserver.saml.min_allowed.rsa_key_size"
AUTHCTX = "wgserver.saml.authcontexts"


@pytest.fixture
def sim(tmp_path):
    return SimServer(tmp_path / "server")


@pytest.fixture
def client(sim):
    return tsm_client.connect(tsm_path=sim.tsm, request_timeout=60)


# ----------------------------------------------------------------------------- parsers

def test_parse_pending_simulator_format():
    text = ("Pending changes:\n  configKeys:\n    gateway.public.host: tableau.example.test\n"
            "    wgserver.session.idle_limit: 60 (does not require a restart)\n  configEntities:\n"
            "    samlSettings.enabled: true\nThese pending changes require a server restart.\n")
    pending = tsm_settings.parse_pending(text)
    assert [(c.section, c.name, c.value, c.restart) for c in pending.changes] == [
        ("configKeys", "gateway.public.host", "tableau.example.test", True),
        ("configKeys", "wgserver.session.idle_limit", "60", False),
        ("configEntities", "samlSettings.enabled", "true", True)]
    assert pending.restart_required and pending.value("samlSettings.enabled") == "true"
    assert pending.value("samlSettings.returnUrl") is tsm_common.UNSET


@pytest.mark.parametrize("text", ["", "\n\n", "There are no pending changes.\n", "No pending changes\n"])
def test_parse_pending_empty(text):
    pending = tsm_settings.parse_pending(text)
    assert not pending and not pending.restart_required


def test_parse_pending_variants():
    text = ("Pending config changes:\n    wgserver.unrestricted_ticket=true\n    gateway.trusted: 10.0.0.1, 10.0.0.2\n"
            "The pending changes do not require a server restart.\n")
    pending = tsm_settings.parse_pending(text)
    assert [(c.name, c.value) for c in pending.changes] == [("wgserver.unrestricted_ticket", "true"),
                                                            ("gateway.trusted", "10.0.0.1, 10.0.0.2")]
    assert not pending.restart_required and not any(c.restart for c in pending.changes)
    noted = tsm_settings.parse_pending("Pending changes:\nNote: these changes do not require a restart.\n  a.b: 1\n")
    assert [c.name for c in noted.changes] == ["a.b"] and not noted.restart_required
    topo = tsm_settings.parse_pending("Pending topology changes:\n  node2.gateway: 1\n")
    assert topo.changes[0].section == "topology" and topo.restart_required


def test_parse_pending_refuses_what_it_cannot_read():
    with pytest.raises(tsm_common.TsmError, match="cannot read the output of tsm pending-changes list"):
        tsm_settings.parse_pending("Something unexpected happened\n")


def test_parse_get_and_status():
    assert tsm_settings.parse_get("2048\n", "", 0) == "2048"
    assert tsm_settings.parse_get("Unknown key: foo\n", "", 0) is tsm_common.UNSET
    assert tsm_settings.parse_get("", "Unknown key: foo", 1) is tsm_common.UNSET
    assert tsm_settings.parse_get("null\n", "", 0) is None
    assert tsm_settings.parse_get("note: something\nvalue\n", "", 0) == "value"
    assert tsm_settings.parse_status("Status: RUNNING\n") == "running"
    assert tsm_settings.parse_status("\nStatus: STOPPED\nnode1: ...\n") == "stopped"
    with pytest.raises(tsm_common.TsmError):
        tsm_settings.parse_status("garbage")


def test_values_compare_as_tsm_stores_them():
    assert tsm_settings.same_value("2048", 2048) and tsm_settings.same_value(2048, "2048") and not tsm_settings.same_value("2048", 3072)
    assert tsm_settings.same_value("true", True) and tsm_settings.same_value(False, "False") and not tsm_settings.same_value("true", False)
    assert tsm_settings.same_value("10.0.0.1, 10.0.0.2", ["10.0.0.1", "10.0.0.2"])
    assert not tsm_settings.same_value("10.0.0.2,10.0.0.1", ["10.0.0.1", "10.0.0.2"])
    assert tsm_settings.same_value(["b", "a"], ["a", "b"], ordered=False)
    assert not tsm_settings.same_value(tsm_common.UNSET, "x") and tsm_settings.same_value(None, "") and not tsm_settings.same_value(None, "x")
    assert tsm_settings.same_value("Mixed", "Mixed") and not tsm_settings.same_value("Mixed", "mixed")
    assert tsm_settings.tsm_text(True) == "true" and tsm_settings.tsm_text(["a", "b"], ", ") == "a, b" and tsm_settings.tsm_text(7) == "7"


def test_settings_rejects_non_objects():
    with pytest.raises(tsm_common.TsmError):
        tsm_settings.Settings([])
    with pytest.raises(tsm_common.TsmError):
        tsm_settings.Settings({"configKeys": []})
    settings = tsm_settings.Settings({"configKeys": {"a": None}, "configEntities": {"x": {"f": 1}}})
    assert settings.key("a") is None and settings.key("b") is tsm_common.UNSET
    assert settings.field("x", "f") == 1 and settings.field("x", "g") is tsm_common.UNSET and settings.field("y", "f") is tsm_common.UNSET


# ------------------------------------------------------------------------ client, cli

def test_read_calls(client, sim):
    settings = client.export_settings()
    assert settings.key(RSA) == 2048 and settings.key(AUTHCTX) is tsm_common.UNSET
    assert client.get(RSA) == "2048" and client.get(AUTHCTX) is tsm_common.UNSET
    assert client.get_many([RSA, "wgserver.domain.fqdn"]) == {RSA: "2048", "wgserver.domain.fqdn": None}
    assert client.status() == "running" and "simulated" in client.version()
    assert len(client.calls) == 7 and not client.writes
    assert [c["command"] for c in sim.calls()] == ["settings.export"] + ["configuration.get"] * 4 + ["status", "version"]


def test_import_file_is_private_and_removed(client, sim, tmp_path, monkeypatch):
    monkeypatch.setattr(tsm_transport.tempfile, "tempdir", str(tmp_path / "work"))
    os.makedirs(str(tmp_path / "work"))
    seen = {}
    real_run = client.cli.run

    def spy(args, timeout=None, stdin=None):
        if args[:2] == ["settings", "import"]:
            path = args[3]
            seen["mode"] = stat.S_IMODE(os.stat(path).st_mode)
            seen["dir_mode"] = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
        return real_run(args, timeout=timeout, stdin=stdin)

    monkeypatch.setattr(client.cli, "run", spy)
    client.import_settings(config_keys={RSA: 3072})
    assert seen == {"mode": 0o600, "dir_mode": 0o700}
    assert os.listdir(str(tmp_path / "work")) == []
    assert sim.pending()["configKeys"] == {RSA: "3072"}


def test_failed_call_raises_with_command_exit_code_and_stderr(client, sim):
    with pytest.raises(tsm_common.TsmError) as info:
        client.import_settings(config_keys={AUTHCTX: "urn:x"})
    err = info.value
    assert err.rc == 1 and f"Unknown keys: {AUTHCTX}" in err.stderr
    assert "settings import --import-config-file" in err.command and "--force-keys" not in err.command
    assert "failed (exit 1)" in str(err) and AUTHCTX in str(err)
    assert client.import_settings(config_keys={AUTHCTX: "urn:x"}, force_keys=True).rc == 0


def test_password_is_masked_everywhere(sim):
    sim.init("--require-login=admin:Hunter2-pw")
    good = tsm_client.connect(tsm_path=sim.tsm, username="admin", password="Hunter2-pw")
    assert good.status() == "running"
    # one sign-in (the password on the prompt, not argv), then the session: no credentials on the call
    assert [c.command.split(" ", 1)[1] for c in good.calls] == ["login --username admin", "status"]
    good.logout()
    assert not sim.state()["auth"]["session"]
    bad = tsm_client.connect(tsm_path=sim.tsm, username="admin", password="wrong-Secret")
    with pytest.raises(tsm_common.TsmError) as info:
        bad.status()
    assert "Authentication failed" in str(info.value)
    assert "wrong-Secret" not in str(info.value) and "wrong-Secret" not in info.value.command
    assert all("Hunter2-pw" not in " ".join(c["argv"]) for c in sim.calls())
    assert sim.argv_log() and all("Hunter2-pw" not in arg for argv in sim.argv_log() for arg in argv)


def test_timeout_stops_tsm_and_changes_nothing(sim):
    sim.run("configuration", "set", "-k", RSA, "-v", "3072")
    before = sim.state_bytes()
    slow = tsm_client.connect(tsm_path=sim.tsm, request_timeout=1,
                              environ=dict(os.environ, TSM_SIM_FAIL="pending-changes.apply:hang=30"))
    started = time.monotonic()
    with pytest.raises(tsm_common.TsmError, match="did not finish within 1 s"):
        slow.apply()
    assert time.monotonic() - started < 15
    assert sim.state_bytes() == before and sim.counters()["applies"] == 0


def test_a_client_that_forgets_ignore_prompt_fails(client, sim):
    """Without --ignore-prompt a restart-requiring apply waits for an answer; stdin is closed: it fails."""
    client.set_key(RSA, 3072)
    with pytest.raises(tsm_common.TsmError) as info:
        client.apply(ignore_prompt=False)
    assert "end of input" in str(info.value) and "--ignore-prompt" not in info.value.command
    assert sim.applied()["configKeys"][RSA] == 2048 and sim.counters()["restarts"] == 0
    client.apply()
    assert sim.applied()["configKeys"][RSA] == "3072" and sim.counters()["restarts"] == 1


def test_secret_set_key_is_masked(client, sim):
    client.set_key("wgserver.saml.key.passphrase", "pp-Secret", force=True, secret=True)
    # a secret key goes through settings import (a 0600 file), never on a command line
    assert client.calls[-1].command.split(" ", 1)[1].startswith("settings import --import-config-file")
    assert all("pp-Secret" not in arg for argv in sim.argv_log() for arg in argv)
    assert sim.pending()["configKeys"]["wgserver.saml.key.passphrase"].startswith("ENC(")


def test_finding_tsm(tmp_path, sim, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(tsm_common.TsmError, match="tsm not found on the PATH"):
        tsm_client.connect().status()
    with pytest.raises(tsm_common.TsmError, match="no such file"):
        tsm_client.connect(tsm_path=str(tmp_path / "nope")).status()
    os.makedirs(str(tmp_path / "bin"))
    link = tmp_path / "bin" / "tsm"
    link.symlink_to(sim.tsm)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + "/usr/bin:/bin")
    assert tsm_client.connect().status() == "running"
    assert tsm_client.connect(tsm_path=str(tmp_path / "bin")).status() == "running"
    with pytest.raises(tsm_common.TsmError, match="transport api needs tsm_url"):
        tsm_client.connect(transport="api")
    with pytest.raises(tsm_common.TsmError, match="unknown transport 'ssh'"):
        tsm_client.connect(transport="ssh")


def test_run_as_another_user(tmp_path):
    """tsm_user: tsm runs as that user (runuser as root); the export file exchange still works."""
    assert os.geteuid() == 0, "this test needs root (as the CI and scripts/test run) to switch users"
    nobody = pwd.getpwnam("nobody")
    base = f"/tmp/trustops-tsm-user-test-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    try:
        os.chmod(base, 0o755)
        server = SimServer(os.path.join(base, "server"))
        for dirpath, _dirs, files in os.walk(base):
            os.chown(dirpath, nobody.pw_uid, nobody.pw_gid)
            for name in files:
                os.chown(os.path.join(dirpath, name), nobody.pw_uid, nobody.pw_gid)
        # the venv python may sit in a directory nobody cannot read: use the system one
        with open(server.tsm) as handle:
            text = handle.read()
        with open(server.tsm, "w") as handle:
            handle.write(text.replace(f"TSM_SIM_PYTHON='{sys.executable}'", "TSM_SIM_PYTHON='/usr/bin/python3'"))
        as_nobody = tsm_client.connect(tsm_path=server.tsm, tsm_user="nobody")
        assert as_nobody.export_settings().key(RSA) == 2048
        as_nobody.import_settings(config_keys={RSA: 4096})
        assert as_nobody.calls[0].argv[0] == server.tsm
        assert [c["user"] for c in server.calls()] == ["nobody", "nobody"]
        assert server.pending()["configKeys"] == {RSA: "4096"}
        with pytest.raises(tsm_common.TsmError, match="no such user"):
            tsm_client.connect(tsm_path=server.tsm, tsm_user="no-such-user-here").status()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- applying

def test_apply_pending_only_when_something_is_pending(client, sim):
    outcome = tsm_apply.apply_pending(client)
    assert outcome == {"applied": False, "pending": [], "restart_required": False, "restarted": False,
                       "server_status": None}
    assert len(client.calls) == 1 and sim.counters()["applies"] == 0
    client.set_key(RSA, 3072)
    outcome = tsm_apply.apply_pending(client)
    assert outcome["applied"] and outcome["restarted"] and outcome["server_status"] == "running"
    expected = [["pending-changes", "list"], ["status"], ["pending-changes", "apply"], ["pending-changes", "list"]]
    assert [c.argv[1:3] for c in client.calls[-4:]] == expected
    assert "--ignore-prompt" in client.calls[-2].argv
    assert (sim.counters()["applies"], sim.counters()["restarts"]) == (1, 1)


def test_apply_pending_on_a_stopped_server_does_not_restart(client, sim):
    sim.run("stop")
    client.set_key(RSA, 3072)
    outcome = tsm_apply.apply_pending(client)
    assert outcome["applied"] and outcome["restart_required"] and not outcome["restarted"]
    assert outcome["server_status"] == "stopped" and sim.counters()["restarts"] == 0


def test_apply_pending_refuses_a_restart_when_not_allowed(client, sim):
    client.set_key(RSA, 3072)
    with pytest.raises(tsm_common.TsmError, match="allow_restart is false"):
        tsm_apply.apply_pending(client, allow_restart=False)
    assert sim.counters()["applies"] == 0
    client.discard()
    client.set_key("wgserver.session.idle_limit", 60)
    outcome = tsm_apply.apply_pending(client, allow_restart=False)
    assert outcome["applied"] and not outcome["restart_required"] and outcome["server_status"] is None


def test_apply_pending_check_mode_applies_nothing(client, sim):
    client.set_key(RSA, 3072)
    outcome = tsm_apply.apply_pending(client, check_mode=True)
    assert outcome["applied"] and outcome["restarted"]
    assert sim.counters()["applies"] == 0 and sim.pending()["configKeys"] == {RSA: "3072"}


# ------------------------------------------------------------------------- key plans

def test_plan_config_stages_only_differences_and_forces_only_new_keys(client, sim):
    settings = client.export_settings()
    keys = {RSA: 2048, "gateway.public.host": "tableau.example.test", AUTHCTX: ["urn:a", "urn:b"], "x.y": None}
    refused = tsm_plans.plan_config(settings, keys)
    assert [f.code for f in refused.findings] == ["TSM-050"] and refused.findings[0].data["keys"] == [AUTHCTX]
    plan = tsm_plans.plan_config(settings, keys, force_keys=True)
    assert [c["name"] for c in plan.changes] == ["gateway.public.host", AUTHCTX]
    assert [(s.kwargs["config_keys"], s.kwargs.get("force_keys", False)) for s in plan.steps] == [
        ({"gateway.public.host": "tableau.example.test"}, False), ({AUTHCTX: "urn:a,urn:b"}, True)]
    tsm_plans.execute(client, plan)
    client.apply()
    again = tsm_plans.plan_config(client.export_settings(), keys, force_keys=True)
    assert not again.changed and again.changes == []
    assert "gateway.public.host: tableau.example.test" in again.diff()["before"]


def test_execute_reports_what_was_staged_before_a_failure(client, sim):
    plan = tsm_plans.Plan("test")
    plan.steps.append(tsm_plans.Step("set_key", "set rsa", key=RSA, value=3072))
    plan.steps.append(tsm_plans.Step("set_key", "set unknown", key="no.such.key", value=1))
    with pytest.raises(tsm_common.TsmError) as info:
        tsm_plans.execute(client, plan)
    assert "Staged before the failure (pending, not applied): set rsa" in str(info.value)
    assert sim.pending()["configKeys"] == {RSA: "3072"}


# ------------------------------------------------------------------------- the rule registry

PLUGINS = Path(tsm_rules.__file__).parents[2]
#: Every file of the TSM area: the cores, the module bridge, the modules and the doc fragment.
TSM_CODE = (sorted(Path(tsm_rules.__file__).parent.glob("*.py")) + [PLUGINS / "module_utils" / "_tsm_module.py"]
            + sorted((PLUGINS / "modules").glob("tsm_*.py")) + [PLUGINS / "doc_fragments" / "tsm.py"])
DOCS = PLUGINS.parent / "docs" / "tsm.md"
NOT_VENDOR = seed_text.NOT_VENDOR


def _settings(keys=None, **entities):
    return tsm_settings.Settings({"configKeys": keys or {}, "configEntities": entities})


def test_every_tsm_code_is_made_from_its_registered_rule(tmp_path, pki):
    """Real inputs that make every TSM finding: the set of codes made is the set registered, and each
    finding's severity, message and remedy are its rule's templates filled from the finding's data."""
    inter = pki.intermediate(pki.root(cn="Server Root"), cn="Server Intermediate")
    leaf = pki.leaf(inter)
    other, clients = pki.root(cn="Other Root"), pki.root(cn="Client CA")
    cert = write(tmp_path / "server.crt", leaf.pem)
    encrypted = write(tmp_path / "server-enc.key", leaf.key_pem("pkcs8", b"Ssl-Pass-1"))
    wrong = write(tmp_path / "wrong.key", other.key_pem("pkcs1"))
    chain = write(tmp_path / "chain.crt", inter.pem)
    foreign_crl = write(tmp_path / "other.crl", make_crl(other, [7]))
    saml_on = _settings(samlSettings={"enabled": "true"})
    mutual_on = _settings(mutualSSLSettings={"clientCertRequired": "true", "sslEnabled": "true"})

    made = {
        "config": tsm_plans.plan_config(_settings(), {"never.set.key": "1"}).findings,
        "saml": tsm_plans.plan_saml(mutual_on, {"enabled": True, "ignore_domain_in_username": True}).findings,
        "mutual": tsm_plans.plan_mutual_ssl(saml_on, {"enabled": True, "fallback_to_basic": True}).findings,
        "trusted": tsm_plans.plan_trusted_auth(_settings(), {"token_length": 5, "unrestricted_tickets": True}).findings,
        "ssl off": tsm_plans.plan_external_ssl(mutual_on, {"enabled": False}).findings,
        "ssl key": tsm_plans.check_external_ssl_inputs({"cert_file": cert, "key_file": encrypted}),
        "ssl pair": tsm_plans.check_external_ssl_inputs({"cert_file": cert, "key_file": wrong, "chain_file": chain}),
        "crl": tsm_inputs.load_crl_input("revocation_file", foreign_crl, [clients.cert])[1],
    }
    assert {name: [f.code for f in found] for name, found in made.items()} == {
        "config": ["TSM-050"], "saml": ["TSM-004", "TSM-005", "TSM-001"],
        "mutual": ["TSM-012", "TSM-001", "TSM-010", "TSM-011"], "trusted": ["TSM-021", "TSM-020"],
        "ssl off": ["TSM-034"], "ssl key": ["TSM-033", "TSM-031", "TSM-030"], "ssl pair": ["TSM-032"],
        "crl": ["TSM-013"]}
    found = [f for findings in made.values() for f in findings]
    assert {f.code for f in found} == set(tsm_rules.RULES)
    for item in found:
        rule = tsm_rules.REGISTRY.rule(item.code)
        assert item.severity == rule.severity, item
        assert item.message == rule.message.format(**item.data) and item.remedy == rule.remedy.format(**item.data)
    by_code = {f.code: f for f in found}
    assert by_code["TSM-032"].message == f"{wrong} does not match the certificate {cert}"
    assert "is not issued and signed by the client CA (CN=Client CA," in by_code["TSM-013"].message
    assert by_code["TSM-050"].data["keys"] == ["never.set.key"] and by_code["TSM-021"].data["token_length"] == 5


def test_the_registry_and_its_retired_codes():
    assert tsm_rules.REGISTRY.prefix == "TSM" and tsm_rules.RULES is tsm_rules.REGISTRY.rules
    assert list(tsm_rules.RULES) == sorted(tsm_rules.RULES)  # registration order is code order
    assert not set(tsm_rules.RETIRED) & set(tsm_rules.RULES)
    assert tsm_rules.ALIASES == {"SAML-051": "TSM-002", "SAML-052": "TSM-003", "SAML-053": "TSM-003",
                                 "SAML-019": "TSM-006", "SAML-014": "TSM-007", "SAML-018": "TSM-008"}
    assert set(tsm_rules.CONFIGURE_ONLY) <= set(tsm_rules.RULES)
    titles = [rule.title for rule in tsm_rules.REGISTRY]
    assert len(set(titles)) == len(titles) and all(t and len(t) <= 60 and t[0].isupper() for t in titles)
    with pytest.raises(ValueError, match="not a TSM rule"):
        tsm_rules.register(tsm_rules.Rule("SAML-999", "error", "m", "r"))


@pytest.mark.parametrize("code", sorted(tsm_rules.RULES))
def test_every_rule_has_a_seed_sentence_or_says_it_is_not_a_vendor_rule(code):
    rule = tsm_rules.RULES[code]
    assert rule.message and rule.remedy and rule.title and rule.seed, code
    assert rule.seed.startswith(NOT_VENDOR) or NOT_VENDOR not in rule.seed
    if rule.seed.startswith(NOT_VENDOR):
        assert len(rule.seed) > len(NOT_VENDOR) + 40, code  # says what it protects


@seed_text.needs_articles("00*.txt")
@pytest.mark.parametrize("code", sorted(tsm_rules.RULES))
def test_seed_sentences_are_verbatim(code):
    seed = tsm_rules.RULES[code].seed
    if seed.startswith(NOT_VENDOR):
        return
    assert any(seed_text.folded(seed) in article for article in seed_text.articles("00*.txt")), code


def test_findings_are_made_only_through_the_registry():
    """No ``Finding(...)`` anywhere in the TSM area, and every TSM code written in it is registered or retired."""
    calls = {}
    for path in TSM_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls[path.name] = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and
                            "Finding" in (getattr(node.func, "id", None), getattr(node.func, "attr", None))]
        for code in re.findall(r"TSM-\d{3}", path.read_text(encoding="utf-8")):
            assert code in tsm_rules.RULES or code in tsm_rules.RETIRED, (path.name, code)
    assert len(calls) >= 17 and {name: lines for name, lines in calls.items() if lines} == {}


def test_docs_list_every_code_and_every_retired_code():
    text = DOCS.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(TSM-\d{3})` \|", text, re.M))
    assert rows == set(tsm_rules.RULES) | set(tsm_rules.RETIRED)
    assert "## Where the rules live" in text


# ------------------------------------------------------------------------- the module side, as data

def test_desired_state_from_module_parameters():
    params = {"state": "configured", "ca_cert": "/x.crt", "fallback_to_basic": None, "validate_key": True}
    assert _tsm_module.desired(params, params, skip=["validate_key"]) == {
        "ca_cert": "/x.crt", "fallback_to_basic": None, "enabled": None}
    assert _tsm_module.desired(dict(params, state="disabled"), ["ca_cert"])["enabled"] is False
    assert _tsm_module.desired({"token_length": 9}, ["token_length"]) == {"token_length": 9}


def test_policy_options_are_unmanaged_by_default_with_deprecated_aliases():
    spec = _tsm_module.policy_options()
    assert set(spec) == {"blocklisted_digests", "min_rsa_key_size", "min_ec_key_size"}
    assert all("default" not in option for option in spec.values())
    assert [a["name"] for a in spec["blocklisted_digests"]["deprecated_aliases"]] == ["blocklisted_digest_algorithms"]


def test_info_masks_secret_keys_and_names_unknown_ones():
    settings = _settings({"wgserver.saml.key.passphrase": "ENC(abc)", "custom.api_secret": "s3cr3t",
                          "gateway.public.host": "tableau.example.test", "wgserver.unrestricted_ticket": "false"},
                         samlSettings={"enabled": "true", "maxAuthenticationAge": "7200"})
    keys = tsm_info.describe_keys(settings, ["custom.api_secret", "gateway.public.host", "no.such.key"])
    assert keys["keys"]["wgserver.saml.key.passphrase"] == "********" and keys["keys"]["custom.api_secret"] == "********"
    assert keys["keys"]["gateway.public.host"] == "tableau.example.test" and keys["keys"]["no.such.key"] is None
    assert keys["masked_keys"] == ["wgserver.saml.key.passphrase", "custom.api_secret"]
    assert "no.such.key" in keys["unknown_keys"] and "s3cr3t" not in repr(keys)
    described = tsm_info.describe_settings(settings)
    assert described["saml"]["enabled"] is True and described["saml"]["max_auth_age"] == 7200
    assert described["saml_keys"]["key_passphrase_set"] is True and described["trusted_auth"]["unrestricted_tickets"] is False
    assert described["mutual_ssl"]["enabled"] is None and described["external_ssl"]["passphrase_set"] is False


def test_pending_diff_lists_what_is_pending():
    diff = tsm_apply.pending_diff([{"name": "a.b", "value": "1"}, {"name": "c.d", "value": "********"}])
    assert diff["before"] == "a.b: 1\nc.d: ********\n" and diff["after"] == ""
    assert tsm_apply.apply_staged(None, False) == {}
    assert tsm_apply.apply_staged(None, True, check_mode=True) == {"applied": True}


# ------------------------------------------------------------------------- inputs through the shared cores

def test_utf16_files_are_decoded_by_the_certificate_core(tmp_path, pki):
    """Windows PowerShell 5 writes UTF-16 with a byte order mark; the TSM inputs decode nothing
    themselves: certs (the one decoder) reads the certificate and the CRL."""
    ca = pki.root(cn="UTF-16 Client CA")
    crl_path = write(tmp_path / "clients.crl", make_crl(ca, [5]).decode("ascii").encode("utf-16"))
    ca_path = write(tmp_path / "clients.crt", ca.pem.decode("ascii").encode("utf-16"))
    assert open(crl_path, "rb").read()[:2] in (b"\xff\xfe", b"\xfe\xff")
    crls, findings = tsm_inputs.load_crl_input("revocation_file", crl_path, [ca.cert])
    assert len(crls) == 1 and findings == [] and crls[0].issuer == ca.cert.subject
    found, ca_findings = tsm_inputs.load_client_ca_input("ca_cert", ca_path)
    assert [c.subject for c in found] == [ca.cert.subject] and ca_findings == []
    broken = write(tmp_path / "broken.crl", b"\xff\xfe\x00\xd8")  # a lone surrogate: not UTF-16 text
    with pytest.raises(tsm_common.InputRefused, match="revocation_file .*broken.crl.*UTF-16"):
        tsm_inputs.load_crl_input("revocation_file", broken)


def _expand(codes):
    """``SAML-020``, ``021``, ``024``...``027`` -> every code named."""
    out = []
    for part in re.findall(r"`(?:SAML-)?(\d{3})`(?:\.\.\.`(\d{3})`)?", codes):
        first, last = int(part[0]), int(part[1] or part[0])
        out.extend(f"SAML-{n:03d}" for n in range(first, last + 1))
    return out


def test_the_docs_name_the_metadata_cores_structure_codes():
    """tsm_saml keeps no list of its own: what the docs call "not usable metadata" is saml.metadata.STRUCTURE_CODES."""
    from ansible_collections.trustops.tableau.plugins.module_utils.saml.metadata import STRUCTURE_CODES
    row = next(line for line in DOCS.read_text(encoding="utf-8").splitlines()
               if line.startswith("| `tsm_saml` | `idp_metadata_file` |"))
    named = re.search(r"STRUCTURE_CODES`: ([^)]*)\)", row).group(1)
    assert _expand(named) == list(STRUCTURE_CODES)
    source = "".join(path.read_text(encoding="utf-8") for path in TSM_CODE)
    assert not re.search(r"[\"']SAML-02\d[\"']", source)  # no list of metadata codes of its own


# ---------------------------------------------------------------------- transport api (issue 15)

@pytest.fixture
def api_sim(sim):
    sim.start_api()
    yield sim
    sim.stop_api()


def api_client(sim, **options):
    connection = dict(transport="api", tsm_url=sim.api_info["url"], ca_path=sim.api_info["cafile"],
                      username=API_USER, password=API_PASSWORD, request_timeout=60)
    connection.update(options)
    return tsm_client.connect(**connection)


@pytest.mark.parametrize("url,base", [
    ("https://tableau.example.com", ("https://tableau.example.com:8850", "/api/0.5")),
    ("https://tableau.example.com:9850/", ("https://tableau.example.com:9850", "/api/0.5")),
    ("https://10.0.0.5:8850/api/1.0", ("https://10.0.0.5:8850", "/api/1.0")),
    ("https://[2001:db8::5]/api/0.5/", ("https://[2001:db8::5]:8850", "/api/0.5")),
])
def test_api_base_url(url, base):
    assert tsm_transport.api_base(url) == base


@pytest.mark.parametrize("url,words", [
    ("http://tableau.example.com:8850", "must start with https://"), ("tableau.example.com", "must start with https://"),
    ("https://admin:pw@tableau.example.com", "must not hold a user name or password"),
    ("https://tableau.example.com/tsm", "the path must be /api/<version>"),
    ("https://tableau.example.com:8850/api/0.5?x=1", "no query"), ("https://:8850", "no host name"),
])
def test_api_base_url_refused(url, words):
    with pytest.raises(tsm_common.TsmError, match=re.escape(words)):
        tsm_transport.api_base(url)


def test_the_options_of_the_other_transport_are_refused(sim):
    with pytest.raises(tsm_common.TsmError, match="tsm_path belongs to transport cli"):
        tsm_client.connect(transport="api", tsm_url="https://t.example.test", username="u", password="p",
                           tsm_path=sim.tsm)
    with pytest.raises(tsm_common.TsmError, match="tsm_user, password_on_command_line belong to transport cli"):
        tsm_client.connect(transport="api", tsm_url="https://t.example.test", username="u", password="p",
                           tsm_user="tableau", password_on_command_line=True)
    with pytest.raises(tsm_common.TsmError, match="needs username and password"):
        tsm_client.connect(transport="api", tsm_url="https://t.example.test", username="u")
    with pytest.raises(tsm_common.TsmError, match="ca_path is given but validate_certs is false"):
        tsm_client.connect(transport="api", tsm_url="https://t.example.test", username="u", password="p",
                           ca_path="/etc/ssl/x.pem", validate_certs=False)
    with pytest.raises(tsm_common.TsmError, match="tsm_url, ca_path, validate_certs belong to transport api"):
        tsm_client.connect(tsm_path=sim.tsm, tsm_url="https://t.example.test", ca_path="/x", validate_certs=False)


def test_api_certificate_is_verified_and_skipping_it_is_explicit_and_warned(api_sim, tmp_path):
    untrusted = api_client(api_sim, ca_path=None)
    with pytest.raises(tsm_common.TsmError, match="certificate is not trusted") as caught:
        untrusted.export_settings()
    assert "give ca_path" in str(caught.value) and api_sim.api_counters()["logins"] == 0, "not even the sign-in"
    other_ca = write(tmp_path / "other-ca.pem", open("/etc/ssl/certs/ca-certificates.crt", "rb").read()[:4000])
    with pytest.raises(tsm_common.TsmError, match="not trusted|not a PEM"):
        api_client(api_sim, ca_path=other_ca).export_settings()
    with pytest.raises(tsm_common.TsmError, match="no such readable file"):
        api_client(api_sim, ca_path=str(tmp_path / "missing.pem")).export_settings()
    wrong_host = api_client(api_sim, tsm_url=api_sim.api_info["url"].replace("127.0.0.1", "localhost.localdomain"))
    with pytest.raises(tsm_common.TsmError, match="not trusted|cannot reach"):
        wrong_host.export_settings()  # the certificate names 127.0.0.1 and localhost only
    trusted = api_client(api_sim)
    assert trusted.export_settings().key(RSA) == 2048 and trusted.warnings == []
    blind = api_client(api_sim, ca_path=None, validate_certs=False)
    assert blind.export_settings().key(RSA) == 2048
    assert len(blind.warnings) == 1 and "validate_certs is false" in blind.warnings[0] and "ca_path" in blind.warnings[0]


def test_api_signs_in_once_and_again_only_when_the_session_ended(api_sim):
    client = api_client(api_sim)
    client.export_settings()
    client.pending()
    client.status()
    assert api_sim.api_counters()["logins"] == 1 and client.session
    assert [c.command for c in client.calls] == ["POST /api/0.5/login", "GET /api/0.5/configurations/current",
                                                 "GET /api/0.5/pendingChanges", "GET /api/0.5/status"]
    state = api_sim.state()
    state["api_sessions"] = {}  # the server forgot the session (expired, restarted)
    with open(os.path.join(api_sim.home, "state.json"), "w") as handle:
        import json
        json.dump(state, handle)
    assert client.status() == "running"
    assert api_sim.api_counters()["logins"] == 2 and [c.rc for c in client.calls[-3:]] == [401, 0, 0]
    client.logout()
    assert not client.session and api_sim.state()["api_sessions"] == {}
    assert all(API_PASSWORD not in c.command and API_PASSWORD not in c.stderr for c in client.calls)


def test_api_failed_request_raises_with_request_status_and_message(api_sim):
    client = api_client(api_sim)
    with pytest.raises(tsm_common.TsmError) as caught:
        client.import_settings(config_keys={AUTHCTX: "urn:x"})
    assert caught.value.rc == 400 and caught.value.command == "PATCH /api/0.5/configurations/requestedChanges"
    assert "failed (HTTP 400): Unknown keys: " + AUTHCTX in str(caught.value)
    assert client.writes == [], "a failed staging request is not a write"
    client.import_settings(config_keys={AUTHCTX: "urn:x"}, force_keys=True)
    assert client.calls[-1].command.endswith("requestedChanges?forceKeys=true") and len(client.writes) == 1


def test_api_apply_follows_the_job_and_reports_a_failed_one(api_sim):
    client = api_client(api_sim)
    client.set_key(RSA, 3072)
    assert tsm_apply.apply_pending(client)["applied"] and api_sim.applied()["configKeys"][RSA] == "3072"
    polls = [c.command for c in client.calls if "/asyncJobs/" in c.command]
    assert polls and set(polls) == {"GET /api/0.5/asyncJobs/1"}
    client.set_key(RSA, 4096)
    api_sim.fail("pending-changes.apply:timeout")
    with pytest.raises(tsm_common.TsmError) as caught:
        tsm_apply.apply_pending(client)
    message = str(caught.value)
    assert "TSM job 2 (DeployPendingChangesJob) failed at step DeployConfiguration" in message
    assert "The job timed out after 60 seconds" in message and "tsm_info" in message, "request_timeout went to the job"
    assert api_sim.pending()["configKeys"] == {RSA: "4096"} and api_sim.counters()["applies"] == 1


def test_api_files_are_uploaded_under_their_content_and_compared_by_it(api_sim, tmp_path, pki):
    root = pki.root(cn="Upload Root")
    pem = write(tmp_path / "ca.pem", root.pem)
    der = write(tmp_path / "ca.der", root.der)
    assert tsm_api.read_local(pem, "cert") is not None
    assert tsm_api.read_local(pem, "cert") == tsm_api.read_local(der, "cert"), "the same certificate"
    assert tsm_api.read_local(str(tmp_path / "missing.pem"), "cert") is None
    client = api_client(api_sim)
    client.mutual_ssl_configure({"ca_cert": pem})
    recorded = api_sim.pending()["configEntities"]["mutualSSLSettings"]["caCertFile"]
    assert tsm_api.read_server(recorded, "cert") == tsm_api.read_local(der, "cert")
    assert tsm_api.read_server(r"C:\Tableau\tsm\trustops-0123456789abcdef01234567-ca.pem") == \
        "trustops:0123456789abcdef01234567", "a Windows path"
    assert tsm_api.read_server("/var/opt/tableau/ca.pem") is None, "a file this collection did not upload"
    assert [c.command for c in client.calls][-2:] == [
        "POST /api/0.5/fileUploads?fileName=trustops-{}-ca.pem".format(tsm_api.content_tag(pem, "cert")),
        "PATCH /api/0.5/configurations/requestedChanges"]
