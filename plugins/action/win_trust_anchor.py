# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for trustops.tableau.win_trust_anchor (documented in plugins/modules/).

Glue only.  Everything decided before touching the target is in the trust-store core,
module_utils/truststore/windows.py (:func:`windows.plan`: read the certificate, the trust-anchor
policy shared with ``trust_anchor``, the Windows thumbprint, DER, the delegated module's
arguments).  :meth:`ActionModule.run` validates the task arguments, reads ``src`` on the
controller through the collection's one reader, moves the DER file to the target's temp
directory, runs ``ansible.windows.win_certificate_store``, and always removes the temp directory
again.  No PowerShell is written here.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.trustops.tableau.plugins.module_utils import anchor_policy
from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError, failing, warning_lines
from ansible_collections.trustops.tableau.plugins.module_utils.truststore import windows

display = Display()


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
            raise AnsibleActionFail(f"src {src}: {to_native(exc.message).splitlines()[0]}") from None
        try:
            real = self._loader.get_real_file(found, decrypt=True)
        except AnsibleError as exc:
            # not a regular file (a directory, a socket, ...): the reader says which, naming src once
            try:
                reader.read_input(path=found, option="src", max_bytes=reader.MAX_CERTIFICATE)
            except reader.InputError as why:
                raise AnsibleActionFail(to_native(why)) from None
            raise AnsibleActionFail(f"src {found}: {to_native(exc.message).splitlines()[0]}") from None
        try:
            return reader.read_input(path=real, option="src", max_bytes=reader.MAX_CERTIFICATE), f"src {found}"
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
            display.warning(f"win_trust_anchor: could not remove the temporary directory {tmpdir} on the "
                            f"target: {to_native(exc)}")

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        del tmp  # unused, see ActionBase.run
        task_vars = task_vars or {}

        if not certs.HAS_CRYPTOGRAPHY:
            raise AnsibleActionFail(
                f"the Python library cryptography is required on the controller for {self._task.action}")

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
            decided = windows.plan(params, data, source)
        except TrustopsError as exc:
            raise AnsibleActionFail(to_native(exc))

        result = windows.task_result(decided)
        # findings that do not refuse the certificate are warnings of the task (code, one line each)
        shown = warning_lines(failing(decided["findings"], "error")[1])
        if result.get("failed"):
            return _warned(result, shown)

        had_tmpdir = self._connection._shell.tmpdir is not None
        try:
            if decided["state"] == "present":
                tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
                remote_path = self._connection._shell.join_path(
                    tmpdir, "trust-anchor-{}.cer".format(decided["thumbprint"]))
                self._transfer_data(remote_path, decided["der"])
                self._fixup_perms2([tmpdir, remote_path], execute=False)
                module_args = windows.store_module_args("present", path=remote_path)
            else:
                module_args = windows.store_module_args("absent", thumbprint=decided["thumbprint"])
            module_result = self._execute_module(
                module_name=windows.STORE_MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            if not had_tmpdir:
                self._cleanup_tmpdir()

        return _warned(windows.conclude(decided, result, module_result, diff=self._task.diff), shown)


def _warned(result, lines):
    """``result`` with ``lines`` before its warnings (those of the delegated module follow them)."""
    if lines:
        result["warnings"] = list(lines) + list(result.get("warnings") or [])
    return result
