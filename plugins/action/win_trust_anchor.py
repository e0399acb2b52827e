# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for trustops.tableau.win_trust_anchor (documented in plugins/modules/).

Everything up to the hand-off to ``ansible.windows.win_certificate_store`` happens on the
controller and is a pure function of the task arguments and the certificate bytes
(:func:`plan`): read the certificate, validate it with the trust-anchor policy shared with
``trust_anchor`` (module_utils/anchor_policy.py, findings ``ANCHOR-NNN``), compute the Windows
thumbprint, convert to DER, and build the delegated module's arguments.  :meth:`ActionModule.run` only moves the DER
file to the target's temp directory, runs the Windows module, and always removes the temp
directory again.  No PowerShell is written here.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import (
    TrustopsError,
    fails,
    summary,
)

display = Display()

#: The module the Windows work is delegated to, and the store it manages.
STORE_MODULE = "ansible.windows.win_certificate_store"
STORE_NAME = "Root"
STORE_LOCATION = "LocalMachine"
STORE_TYPE = "system"
STORE_LABEL = "%s\\%s" % (STORE_LOCATION, STORE_NAME)


ARGUMENT_SPEC = dict(
    src=dict(type="path"),
    content=dict(type="str"),
    thumbprint=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    **anchor_policy.option_spec()
)
MUTUALLY_EXCLUSIVE = [["src", "content", "thumbprint"]]
REQUIRED_IF = [
    ["state", "present", ["src", "content"], True],
    ["state", "absent", ["src", "content", "thumbprint"], True],
]

_THUMBPRINT_SEPARATORS = re.compile(r"[\s:\-]")
_THUMBPRINT = re.compile(r"^[0-9A-F]{40}$")


# --------------------------------------------------------------------------- pure functions

def normalize_thumbprint(value):
    """A SHA-1 thumbprint as Windows shows it: 40 upper-case hex digits.

    Accepts the forms people copy from tools: with spaces (certmgr), colons (openssl) or
    dashes, any case, and the invisible U+200E mark the Windows certificate dialog prepends.
    """
    if not isinstance(value, str):
        raise TrustopsError("thumbprint must be a string, got %s" % type(value).__name__)
    text = _THUMBPRINT_SEPARATORS.sub("", value.replace("\u200e", "")).upper()
    if not _THUMBPRINT.match(text):
        raise TrustopsError(
            "thumbprint %r is not a SHA-1 thumbprint (40 hex digits, optionally separated by "
            "spaces or colons)" % (value,))
    return text


def store_module_args(state, path=None, thumbprint=None):
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
        raise TrustopsError("state must be present or absent, not %r" % (state,))
    return args


def plan(params, data=None, source="<content>", now=None):
    """Everything decided before touching the target, from validated task args.

    ``params`` are the task arguments after argument-spec validation; ``data`` the
    certificate bytes/text read from ``src`` or ``content`` (None when only ``thumbprint``
    is given).  Returns a dict: ``state``, ``thumbprint``, ``facts`` (sha256, subject,
    not_after; None without a certificate), ``findings`` (list of Finding), ``der`` (bytes to
    transfer for state=present, else None) and ``failed``/``msg`` when policy refuses the
    certificate.  Broken input raises TrustopsError (CertificateError) naming ``source``.
    """
    state = params.get("state") or "present"
    result = {"state": state, "thumbprint": None, "findings": [], "der": None, "failed": False,
              "msg": "", "facts": {"sha256": None, "subject": None, "not_after": None}}
    if data is None:
        if state != "absent" or not params.get("thumbprint"):
            raise TrustopsError("a certificate (src or content) is needed for state=%s" % state)
        result["thumbprint"] = normalize_thumbprint(params["thumbprint"])
        return result

    cert = certs.load_certificate(data, source)
    result["thumbprint"] = certs.thumbprint(cert)
    result["facts"] = {
        "sha256": certs.fingerprint(cert, "sha256"),
        "subject": cert.subject.rfc4514_string(),
        "not_after": certs.not_after(cert).isoformat(),
    }
    if state == "absent":
        # Removing must always be possible: an expired, SHA-1 or leaf anchor is exactly what
        # one wants to remove, so no policy applies.
        return result

    findings = anchor_policy.check_anchor(cert, now=now, **anchor_policy.options_from(params))
    result["findings"] = findings
    if fails(findings, "error"):
        result["failed"] = True
        result["msg"] = "%s: refused as a Windows trust anchor: %s" % (
            source, summary([f for f in findings if f.severity == "error"]))
        return result
    result["der"] = certs.to_der(cert)
    return result


def diff_for(state, thumbprint, changed, subject=None):
    """Before/after presence of the thumbprint in LocalMachine\\Root.

    win_certificate_store is idempotent by thumbprint, so ``changed`` tells the presence
    before: present+changed means it was absent, absent+changed means it was present.
    """
    if state == "present":
        before, after = (not changed), True
    else:
        before, after = bool(changed), False
    header = "%s\\%s" % (STORE_LABEL, thumbprint)
    label = " (%s)" % subject if subject else ""

    def line(present):
        return ("present%s\n" % label) if present else "absent\n"

    return {"before_header": header, "after_header": header,
            "before": line(before), "after": line(after)}


# --------------------------------------------------------------------------- the action

class ActionModule(ActionBase):

    # False on purpose: with True, ActionBase.run() creates the remote temp dir (a connection)
    # before the certificate is validated.  run() makes it itself, after validation.
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _read_src(self, src):
        """(bytes, source label) of ``src`` on the controller (role/playbook files/ search path;
        vault ok), through the collection's one reader with the certificate cap."""
        try:
            found = self._find_needle("files", src)
        except AnsibleError as exc:
            raise AnsibleActionFail("src %s: %s" % (src, to_native(exc.message).splitlines()[0])) from None
        try:
            real = self._loader.get_real_file(found, decrypt=True)
        except AnsibleError as exc:
            # not a regular file (a directory, a socket, ...): the reader says which, naming src once
            try:
                reader.read_input(path=found, option="src", max_bytes=reader.MAX_CERTIFICATE)
            except reader.InputError as why:
                raise AnsibleActionFail(to_native(why)) from None
            raise AnsibleActionFail("src %s: %s" % (found, to_native(exc.message).splitlines()[0])) from None
        try:
            return reader.read_input(path=real, option="src", max_bytes=reader.MAX_CERTIFICATE), "src %s" % found
        except reader.InputError as exc:
            # a vaulted file is read from a decrypted temporary copy: name the file the user gave
            raise AnsibleActionFail(to_native(exc).replace(real, found)) from None
        finally:
            self._loader.cleanup_tmp_file(real)

    def _cleanup_tmpdir(self):
        """Remove the temp dir (and the DER file in it); never mask the task's own outcome."""
        tmpdir = self._connection._shell.tmpdir
        if tmpdir is None:
            return
        try:
            self._remove_tmp_path(tmpdir)
        except Exception as exc:  # a broken connection must not hide the original error
            display.warning("win_trust_anchor: could not remove the temporary directory %s on the "
                            "target: %s" % (tmpdir, to_native(exc)))

    def run(self, tmp=None, task_vars=None):
        super(ActionModule, self).run(tmp, task_vars)
        del tmp  # unused, see ActionBase.run
        task_vars = task_vars or {}

        if not certs.HAS_CRYPTOGRAPHY:
            raise AnsibleActionFail(
                "the Python library cryptography is required on the controller for %s"
                % self._task.action)

        _vr, params = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
            required_if=REQUIRED_IF)

        data, source = None, "content"
        try:
            if params.get("src"):
                data, source = self._read_src(params["src"])
            elif params.get("content") is not None:
                data = reader.read_input(content=to_text(params["content"], errors="surrogate_or_strict"),
                                         option="content", max_bytes=reader.MAX_CERTIFICATE)
            decided = plan(params, data, source)
        except TrustopsError as exc:
            raise AnsibleActionFail(to_native(exc))

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

        had_tmpdir = self._connection._shell.tmpdir is not None
        try:
            if decided["state"] == "present":
                tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
                remote_path = self._connection._shell.join_path(
                    tmpdir, "trust-anchor-%s.cer" % decided["thumbprint"])
                self._transfer_data(remote_path, decided["der"])
                self._fixup_perms2([tmpdir, remote_path], execute=False)
                module_args = store_module_args("present", path=remote_path)
            else:
                module_args = store_module_args("absent", thumbprint=decided["thumbprint"])
            module_result = self._execute_module(
                module_name=STORE_MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            if not had_tmpdir:
                self._cleanup_tmpdir()

        if module_result.get("failed"):
            result.update(
                failed=True,
                msg="%s failed for %s: %s" % (STORE_MODULE, STORE_LABEL,
                                              module_result.get("msg", "no message")),
                store_result=module_result)
            return result

        reported = [normalize_thumbprint(t) for t in module_result.get("thumbprints") or []
                    if isinstance(t, str) and t.strip()]
        if reported and reported != [decided["thumbprint"]]:
            result.update(
                failed=True, changed=bool(module_result.get("changed")),
                msg="%s reported thumbprints %s, expected %s: the file on the target is not "
                    "the certificate validated on the controller" % (
                        STORE_MODULE, ", ".join(reported), decided["thumbprint"]))
            return result

        result["changed"] = bool(module_result.get("changed"))
        for key in ("warnings", "deprecations"):
            if module_result.get(key):
                result[key] = module_result[key]
        if self._task.diff:
            result["diff"] = diff_for(decided["state"], decided["thumbprint"], result["changed"],
                                      decided["facts"]["subject"])
        return result
