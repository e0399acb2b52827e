# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TsmClient (cli transport) against the TSM simulator, the output parsers, values and key plans."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import sys
import time

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils.tsm import apply as tsm_apply
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import client as tsm_client
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import common as tsm_common
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import plans as tsm_plans
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import settings as tsm_settings
from ansible_collections.trustops.tableau.plugins.module_utils.tsm import transport as tsm_transport

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "support"))
from tsm_sim.harness import SimServer  # noqa: E402  pylint: disable=wrong-import-position

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
    with pytest.raises(tsm_common.TsmError, match="api .* not implemented"):
        tsm_client.connect(transport="api")


def test_run_as_another_user(tmp_path):
    """tsm_user: tsm runs as that user (runuser as root); the export file exchange still works."""
    assert os.geteuid() == 0, "this test needs root (as the CI and scripts/test run) to switch users"
    nobody = pwd.getpwnam("nobody")
    base = "/tmp/trustops-tsm-user-test-%d" % os.getpid()
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
