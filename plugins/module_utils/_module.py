# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin helper the check modules share (the only module_utils file that talks to AnsibleModule).

Reading a ``*_src`` / ``*_content`` option pair, and ending a check with its findings: every
check returns all findings and ``ok``, and fails only when a finding reaches ``fail_on``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    Finding, Outcome, conclude, failing, failure_message, warning_lines)


def read_file(module: Any, path: str, option: str, max_bytes: int = reader.MAX_TEXT) -> bytes | None:
    """The bytes of ``path`` (where the module runs) through the one reader, or fail_json."""
    try:
        return reader.read_input(path=path, option=option, max_bytes=max_bytes)
    except reader.InputError as exc:
        module.fail_json(msg=str(exc))
    return None  # not reached: fail_json exits


def read_input(module: Any, src_option: str, content_option: str,
               max_bytes: int = reader.MAX_TEXT) -> tuple[Any, str | None]:
    """(data, source) from a ``src``/``content`` pair (:func:`reader.read_pair`), or fail_json.

    ``source`` is ``"<src_option> <path>"`` for a file and ``<content_option>`` for inline text.
    """
    try:
        return reader.read_pair(module.params, src_option, content_option, max_bytes)
    except reader.InputError as exc:
        module.fail_json(msg=str(exc))
    return None, None  # not reached: fail_json exits


def show(module: Any, findings: list[Finding], fail_on: str = "never") -> bool:
    """Warn about every finding that does not fail the task (code and one-line message), so that a
    plain run shows it; True when some finding reaches ``fail_on`` (the caller then fails, with
    :func:`fail` or its own message built by ``findings.failure_message``).

    The one path from findings to what a person sees for modules that end their own way (trust
    stores, mobile files); :func:`finish` goes through ``findings.conclude``, which uses the same
    ``failing``/``warning_lines``.
    """
    bad, other = failing(findings, fail_on)
    for line in warning_lines(other):
        module.warn(line)
    return bool(bad)


def fail(module: Any, findings: list[Finding], out: dict, label: str, fail_on: str, note: str = "") -> None:
    """fail_json with ``out`` and the failure message of ``findings`` at ``fail_on`` (each failing
    code with its message and remedy, :func:`findings.failure_message`), ``note`` appended (e.g.
    ``"; nothing was written"``)."""
    module.fail_json(msg=failure_message(label, findings, fail_on) + note, **out)


def end(module: Any, outcome: Outcome) -> None:
    """Exit as ``outcome`` says: each warning through ``module.warn``, then fail_json or exit_json
    with its message and values (and ``exception`` for a missing library)."""
    for line in outcome.warnings:
        module.warn(line)
    if outcome.failed:
        extra = {"exception": outcome.exception} if outcome.exception else {}
        module.fail_json(msg=outcome.msg, **extra, **outcome.out)
    module.exit_json(msg=outcome.msg, **outcome.out)


def finish(module: Any, findings: list[Finding], out: dict, label: str, fail_on: str, changed: bool = False) -> None:
    """Exit with ``out`` plus every finding and ``ok``; fail when a finding reaches ``fail_on``
    (:func:`findings.conclude`, then :func:`end`).

    Findings that do not fail the task are shown as warnings; a failure's message carries each
    failing code's message and remedy (:func:`findings.failure_message`); a success's message is
    :func:`findings.short_summary` (bounded).
    """
    end(module, conclude(findings, out, label, fail_on, changed))
