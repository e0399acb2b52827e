# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller files for roles, read under the collection's size caps (docs/inputs.md)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: input_file
author:
  - trustops maintainers (@trustops)
short_description: Read a controller file under the collection's size cap for its kind
version_added: 0.1.0
description:
  - Returns the text of each file, like M(ansible.builtin.file) with its defaults (vault-encrypted
    files are decrypted, trailing whitespace is stripped), but refuses a missing path, a directory,
    a FIFO, a device, an empty file and a file above the cap of its O(kind) B(before reading it).
  - The caps are the ones every module of the collection uses (one reader,
    C(plugins/module_utils/reader.py)); R(input size caps,ansible_collections.trustops.tableau.docsite.inputs) lists them.
  - The roles of trustops.tableau read every controller file through this lookup.
options:
  _terms:
    description: Paths of the files, searched like M(ansible.builtin.file) (role C(files/), playbook dir).
    required: true
    type: list
    elements: path
  kind:
    description:
      - Which cap applies. V(certificate) 1 MiB, V(bundle) 4 MiB, V(key) 64 KiB, V(xml) 2,000,000 bytes,
        V(crl) 16 MiB, V(table) 16 MiB, V(text) 1 MiB.
      - A vault-encrypted file may be up to five times the cap plus 4 KiB on disk (vault encodes in hex
        twice); its decrypted content must be within the cap.
    type: str
    default: text
    choices: [certificate, bundle, key, xml, crl, table, text]
  option:
    description: The name used in messages (for a role, the role variable that named the file).
    type: str
    default: input
"""

EXAMPLES = r"""
- name: Name a staged file after its content, read under the certificate cap
  ansible.builtin.set_fact:
    staged_cert: "sp-{{ (lookup('trustops.tableau.input_file', saml_sp_cert_src, kind='certificate',
                        option='saml_sp_cert_src') | ansible.builtin.hash('sha256'))[:16] }}.crt"
"""

RETURN = r"""
_raw:
  description: The text of each file, trailing whitespace stripped (as M(ansible.builtin.file) returns it).
  type: list
  elements: str
"""

from ansible.errors import AnsibleError  # noqa: E402
from ansible.module_utils.common.text.converters import to_bytes  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402

from ansible_collections.trustops.tableau.plugins.module_utils import reader  # noqa: E402

CAPS = {
    "certificate": reader.MAX_CERTIFICATE,
    "bundle": reader.MAX_BUNDLE,
    "key": reader.MAX_KEY,
    "xml": reader.MAX_XML,
    "crl": reader.MAX_CRL,
    "table": reader.MAX_TABLE,
    "text": reader.MAX_TEXT,
}

#: vault's format hex-encodes twice (4x) in 80-column lines after a one-line header
VAULT_FACTOR = 5
VAULT_SLACK = 4096
VAULT_HEADER = b"$ANSIBLE_VAULT"


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        kind = self.get_option("kind")
        option = self.get_option("option")
        if kind not in CAPS:
            raise AnsibleError("input_file: kind must be one of {}, not {!r}".format(", ".join(sorted(CAPS)), kind))
        cap = CAPS[kind]
        ret = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "files", term, ignore_missing=True)
            if not path:
                raise AnsibleError(f"{option} {term}: cannot read it (not found on the controller; give the path of the file)")
            try:
                reader.check_file(path, option, None)  # a regular file, else refused unread
                with open(path, "rb") as handle:
                    vaulted = handle.read(len(VAULT_HEADER)) == VAULT_HEADER
                reader.check_file(path, option, cap * VAULT_FACTOR + VAULT_SLACK if vaulted else cap)
                contents = self._loader.get_text_file_contents(path)
                reader.check_size(len(to_bytes(contents, errors="surrogate_or_strict")), option, path, cap)
            except reader.InputError as exc:
                raise AnsibleError(str(exc))
            contents = contents.rstrip()
            if not contents:
                raise AnsibleError(f"{option} {path}: the file is empty; give the {option} file itself")
            ret.append(contents)
        return ret
