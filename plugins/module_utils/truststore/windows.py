# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows ``LocalMachine\\Root``: what ``win_trust_anchor`` decides on the controller, as pure functions.

Everything up to the hand-off to ``ansible.windows.win_certificate_store`` is a pure function of
the task arguments and the certificate bytes (:func:`plan`): read the certificate, validate it
with the trust-anchor policy shared with ``trust_anchor`` (module_utils/anchor_policy.py, findings
``ANCHOR-NNN``), compute the Windows thumbprint, convert to DER, and build the delegated module's
arguments (:func:`store_module_args`).  The action plugin only moves the DER file to the target
and runs the Windows module.  No PowerShell is written here.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    Finding,
    TrustopsError,
    fails,
    failure_message,
)

#: The module the Windows work is delegated to, and the store it manages.
STORE_MODULE = "ansible.windows.win_certificate_store"
STORE_NAME = "Root"
STORE_LOCATION = "LocalMachine"
STORE_TYPE = "system"
STORE_LABEL = f"{STORE_LOCATION}\\{STORE_NAME}"

_THUMBPRINT_SEPARATORS = re.compile(r"[\s:\-]")
_THUMBPRINT = re.compile(r"^[0-9A-F]{40}$")


def normalize_thumbprint(value: object) -> str:
    """A SHA-1 thumbprint as Windows shows it: 40 upper-case hex digits.

    Accepts the forms people copy from tools: with spaces (certmgr), colons (openssl) or
    dashes, any case, and the invisible U+200E mark the Windows certificate dialog prepends.
    """
    if not isinstance(value, str):
        raise TrustopsError(f"thumbprint must be a string, got {type(value).__name__}")
    text = _THUMBPRINT_SEPARATORS.sub("", value.replace("\u200e", "")).upper()
    if not _THUMBPRINT.match(text):
        raise TrustopsError(
            f"thumbprint {value!r} is not a SHA-1 thumbprint (40 hex digits, optionally separated by "
            "spaces or colons)")
    return text


def store_module_args(state: str, path: str | None = None, thumbprint: str | None = None) -> dict[str, str]:
    """Arguments for ansible.windows.win_certificate_store: LocalMachine\\Root only.

    ``present`` imports the file at ``path`` (the module detects DER itself; its ``file_type``
    option is only read for ``state=exported``).  ``absent`` removes by ``thumbprint``.
    """
    args = {"state": state, "store_name": STORE_NAME, "store_location": STORE_LOCATION,
            "store_type": STORE_TYPE}
    if state == "present":
        if not path:
            raise TrustopsError("state=present needs the remote path of the certificate")
        args["path"] = path
    elif state == "absent":
        if not thumbprint:
            raise TrustopsError("state=absent needs a thumbprint")
        args["thumbprint"] = normalize_thumbprint(thumbprint)
    else:
        raise TrustopsError(f"state must be present or absent, not {state!r}")
    return args


def plan(params: dict[str, Any], data: bytes | str | None = None, source: str = "<content>",
         now: datetime.datetime | None = None) -> dict[str, Any]:
    """Everything decided before touching the target, from validated task args.

    ``params`` are the task arguments after argument-spec validation; ``data`` the
    certificate bytes/text read from ``src`` or ``content`` (None when only ``thumbprint``
    is given).  Returns a dict: ``state``, ``thumbprint``, ``facts`` (sha256, subject,
    not_after; None without a certificate), ``findings`` (list of Finding), ``der`` (bytes to
    transfer for state=present, else None) and ``failed``/``msg`` when policy refuses the
    certificate.  Broken input raises TrustopsError (CertificateError) naming ``source``.
    """
    state = params.get("state") or "present"
    result: dict[str, Any] = {"state": state, "thumbprint": None, "findings": [], "der": None, "failed": False,
                              "msg": "", "facts": {"sha256": None, "subject": None, "not_after": None}}
    if data is None:
        if state != "absent" or not params.get("thumbprint"):
            raise TrustopsError(f"a certificate (src or content) is needed for state={state}")
        result["thumbprint"] = normalize_thumbprint(params["thumbprint"])
        return result

    cert = certs.load_certificate(data, source)
    result["thumbprint"] = certs.thumbprint(cert)
    result["facts"] = {
        "sha256": certs.fingerprint(cert, "sha256"),
        "subject": certs.subject_text(cert),
        "not_after": certs.not_after(cert).isoformat(),
    }
    if state == "absent":
        # Removing must always be possible: an expired, SHA-1 or leaf anchor is exactly what
        # one wants to remove, so no policy applies.
        return result

    findings: list[Finding] = anchor_policy.check_anchor(cert, now=now, **anchor_policy.options_from(params))
    result["findings"] = findings
    if fails(findings, "error"):
        result["failed"] = True
        result["msg"] = failure_message(f"{source}: refused as a Windows trust anchor", findings, "error")
        return result
    result["der"] = certs.to_der(cert)
    return result


def diff_for(state: str, thumbprint: str, changed: bool, subject: str | None = None) -> dict[str, str]:
    """Before/after presence of the thumbprint in LocalMachine\\Root.

    win_certificate_store is idempotent by thumbprint, so ``changed`` tells the presence
    before: present+changed means it was absent, absent+changed means it was present.
    """
    if state == "present":
        before, after = (not changed), True
    else:
        before, after = bool(changed), False
    header = f"{STORE_LABEL}\\{thumbprint}"
    label = f" ({subject})" if subject else ""

    def line(present: bool) -> str:
        return (f"present{label}\n") if present else "absent\n"

    return {"before_header": header, "after_header": header,
            "before": line(before), "after": line(after)}


def task_result(decided: dict[str, Any]) -> dict[str, Any]:
    """The task's result before the target is touched: facts, findings, and the refusal if any."""
    result = {
        "changed": False,
        "thumbprint": decided["thumbprint"],
        "sha256": decided["facts"]["sha256"],
        "subject": decided["facts"]["subject"],
        "not_after": decided["facts"]["not_after"],
        "store": STORE_LABEL,
        "findings": [f.as_dict() for f in decided["findings"]],
    }
    if decided["failed"]:
        result.update(failed=True, msg=decided["msg"])
    return result


def conclude(decided: dict[str, Any], result: dict[str, Any], store_result: dict[str, Any],
             diff: bool = False) -> dict[str, Any]:
    """``result`` completed from what ``win_certificate_store`` returned (``store_result``).

    Its failure is the task's failure, with its result attached; a thumbprint other than the one
    validated on the controller is a failure (the file on the target is not that certificate).
    """
    result = dict(result)
    if store_result.get("failed"):
        result.update(
            failed=True,
            msg="{} failed for {}: {}".format(STORE_MODULE, STORE_LABEL, store_result.get("msg", "no message")),
            store_result=store_result)
        return result

    reported = [normalize_thumbprint(t) for t in store_result.get("thumbprints") or []
                if isinstance(t, str) and t.strip()]
    if reported and reported != [decided["thumbprint"]]:
        result.update(
            failed=True, changed=bool(store_result.get("changed")),
            msg="{} reported thumbprints {}, expected {}: the file on the target is not "
                "the certificate validated on the controller".format(
                    STORE_MODULE, ", ".join(reported), decided["thumbprint"]))
        return result

    result["changed"] = bool(store_result.get("changed"))
    for key in ("warnings", "deprecations"):
        if store_result.get(key):
            result[key] = store_result[key]
    if diff:
        result["diff"] = diff_for(decided["state"], decided["thumbprint"], result["changed"],
                                  decided["facts"]["subject"])
    return result
