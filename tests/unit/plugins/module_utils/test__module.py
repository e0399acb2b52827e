# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_module, the one bridge from findings and file options to AnsibleModule: show, fail, finish,
read_file and read_input, with a module object that records what it is asked to do.

The files are real files in a temporary directory, read by the collection's one reader.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import _module, reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding, failure_message, short_summary


class Exited(Exception):
    """exit_json/fail_json end the module (AnsibleModule raises SystemExit); so does the recorder."""


class Recorder:
    """What a module was asked: warnings, and the one exit_json or fail_json with its result."""

    def __init__(self, **params):
        self.params = params
        self.warnings = []
        self.ended = None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        self.ended = ("exit", result)
        raise Exited()

    def fail_json(self, **result):
        self.ended = ("fail", result)
        raise Exited()


def ended(module, call, *args, **kwargs):
    with pytest.raises(Exited):
        call(module, *args, **kwargs)
    return module.ended


INFO = Finding("T-001", "info", "for the record", "nothing")
WARN = Finding("T-002", "warning", "expires in 20 days", "renew it")
ERR = Finding("T-003", "error", "the key is 1024 bits", "reissue it with 2048 bits")


# --------------------------------------------------------------------------- show

def test_show_warns_each_finding_below_fail_on_and_says_whether_one_fails():
    module = Recorder()
    assert _module.show(module, [INFO, WARN, ERR], "error") is True
    assert module.warnings == ["T-001 (info): for the record", "T-002 (warning): expires in 20 days"]
    module = Recorder()
    assert _module.show(module, [INFO, WARN], "error") is False
    assert len(module.warnings) == 2 and module.ended is None  # show never ends the module


def test_show_with_never_warns_everything_and_nothing_fails():
    module = Recorder()
    assert _module.show(module, [ERR, WARN]) is False
    assert module.warnings == ["T-003 (error): the key is 1024 bits", "T-002 (warning): expires in 20 days"]


def test_show_warns_at_most_ten_and_counts_the_rest():
    module = Recorder()
    many = [Finding(f"T-{n:03d}", "warning", f"finding {n}\nsecond line") for n in range(14)]
    assert _module.show(module, many, "error") is False
    assert len(module.warnings) == 11 and module.warnings[0] == "T-000 (warning): finding 0 second line"
    assert module.warnings[-1].startswith("and 4 more findings")


def test_show_without_findings_says_nothing():
    module = Recorder()
    assert _module.show(module, [], "warning") is False and module.warnings == []


# --------------------------------------------------------------------------- finish and fail

def test_finish_exits_with_every_finding_and_a_bounded_summary():
    module = Recorder()
    kind, result = ended(module, _module.finish, [INFO, WARN], {"subject": "CN=x"}, "check", "error", changed=True)
    assert kind == "exit"
    assert result["subject"] == "CN=x" and result["changed"] is True and result["ok"] is True
    assert result["findings"] == [INFO.as_dict(), WARN.as_dict()]
    assert result["msg"] == short_summary([INFO, WARN])
    assert module.warnings == ["T-001 (info): for the record", "T-002 (warning): expires in 20 days"]
    json.dumps(result)  # a module result is JSON


def test_finish_fails_with_code_message_and_remedy_and_keeps_the_result():
    module = Recorder()
    kind, result = ended(module, _module.finish, [WARN, ERR], {"subject": "CN=x"}, "check", "error")
    assert kind == "fail"
    assert result["msg"] == failure_message("check", [WARN, ERR], "error")
    assert "error T-003: the key is 1024 bits Remedy: reissue it with 2048 bits" in result["msg"]
    assert result["ok"] is False and result["changed"] is False and result["subject"] == "CN=x"
    assert [f["code"] for f in result["findings"]] == ["T-002", "T-003"]
    assert module.warnings == ["T-002 (warning): expires in 20 days"]  # the failing one is in msg only


def test_finish_fail_on_warning_fails_on_a_warning_and_ok_still_means_no_error():
    module = Recorder()
    kind, result = ended(module, _module.finish, [INFO, WARN], {}, "check", "warning")
    assert kind == "fail" and result["ok"] is True and "warning T-002: " in result["msg"]
    assert module.warnings == ["T-001 (info): for the record"]


def test_finish_never_passes_with_errors_and_says_so_in_warnings():
    module = Recorder()
    kind, result = ended(module, _module.finish, [ERR], {}, "check", "never")
    assert kind == "exit" and result["ok"] is False
    assert module.warnings == ["T-003 (error): the key is 1024 bits"]


def test_a_failure_of_many_findings_of_one_code_stays_one_entry():
    module = Recorder()
    same = [Finding("T-010", "error", f"certs[{n}]: the CN 'u{n}' has no domain", "qualify the names")
            for n in range(300)]
    kind, result = ended(module, _module.finish, same, {}, "audit", "error")
    assert kind == "fail" and result["msg"].count("Remedy:") == 1
    assert "error T-010 x300, e.g.: certs[0]: the CN 'u0' has no domain Remedy: qualify the names" in result["msg"]
    assert len(result["msg"]) < 400 and len(result["findings"]) == 300


def test_fail_appends_a_note_to_the_failure_message():
    module = Recorder()
    kind, result = ended(module, _module.fail, [ERR], {"changed": False}, "refusing", "error", "; nothing was written")
    assert kind == "fail" and result["changed"] is False
    assert result["msg"] == failure_message("refusing", [ERR], "error") + "; nothing was written"


# --------------------------------------------------------------------------- read_file and read_input

def test_read_file_returns_the_bytes(tmp_path):
    (tmp_path / "ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    assert _module.read_file(Recorder(), str(tmp_path / "ca.pem"), "src") == b"-----BEGIN CERTIFICATE-----\n"


@pytest.mark.parametrize("make,words", [
    (lambda d: d / "missing.pem", "No such file"),
    (lambda d: d, "is a directory, not a file"),
    (lambda d: (d / "empty.pem").write_bytes(b"") and None or d / "empty.pem", "empty"),
])
def test_read_file_fails_the_module_with_the_readers_message(tmp_path, make, words):
    path = str(make(tmp_path))
    module = Recorder()
    kind, result = ended(module, _module.read_file, path, "src")
    assert kind == "fail" and result["msg"].startswith(f"src {path}: ") and words in result["msg"], result


def test_read_file_enforces_the_cap(tmp_path):
    (tmp_path / "big.pem").write_bytes(b"x" * 101)
    kind, result = ended(Recorder(), _module.read_file, str(tmp_path / "big.pem"), "src", 100)
    assert kind == "fail" and "101 bytes, more than the limit of 100 bytes" in result["msg"], result


def test_read_input_from_a_file_names_the_option_and_the_path(tmp_path):
    (tmp_path / "key.pem").write_bytes(b"KEY")
    module = Recorder(key_src=str(tmp_path / "key.pem"), key_content=None)
    assert _module.read_input(module, "key_src", "key_content") == (b"KEY", f"key_src {tmp_path / 'key.pem'}")


def test_read_input_from_content_keeps_the_text():
    module = Recorder(key_src=None, key_content="-----BEGIN PRIVATE KEY-----")
    assert _module.read_input(module, "key_src", "key_content") == ("-----BEGIN PRIVATE KEY-----", "key_content")


def test_read_input_of_neither_is_none():
    assert _module.read_input(Recorder(key_src=None, key_content=None), "key_src", "key_content") == (None, None)


def test_read_input_checks_content_with_the_same_reader_and_cap():
    module = Recorder(key_src=None, key_content="")
    kind, result = ended(module, _module.read_input, "key_src", "key_content")
    assert kind == "fail" and result["msg"].startswith("key_content")
    module = Recorder(key_src=None, key_content="y" * (reader.MAX_TEXT + 1))
    kind, result = ended(module, _module.read_input, "key_src", "key_content")
    assert kind == "fail" and f"more than the limit of {reader.MAX_TEXT} bytes" in result["msg"], result
