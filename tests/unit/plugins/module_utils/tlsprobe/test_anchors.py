# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tlsprobe.anchors: the trust anchors a probe verifies against (ca_file, ca_content, the system store).
"""

from __future__ import annotations

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.certs import CertificateError
from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError
from ansible_collections.trustops.tableau.plugins.module_utils.tlsprobe.anchors import load_anchors

from .servers import write


def test_ca_file_errors_are_clear(tmp_path, pki3):
    with pytest.raises(TrustopsError) as err:
        load_anchors(str(tmp_path / "missing.pem"))
    assert "missing.pem: cannot read" in str(err.value)
    keyfile = write(tmp_path / "key.pem", pki3["leaf"].key_pem())
    with pytest.raises(CertificateError) as err:
        load_anchors(str(keyfile))
    assert "holds a private key" in str(err.value)


def test_system_store_is_found():
    store = load_anchors(None)
    assert store.cafile and len(store.anchors) > 10


def test_ca_content_errors_name_the_option(pki3):
    with pytest.raises(reader.InputError) as err:
        load_anchors(ca_content=" \n")
    assert str(err.value) == "ca_content: the value is empty; give the ca_content itself"
    with pytest.raises(CertificateError) as err:
        load_anchors(ca_content=pki3["leaf"].key_pem().decode())
    assert str(err.value).startswith("ca_content: holds a private key")
    with pytest.raises(reader.InputError) as err:
        load_anchors(ca_content="x" * (reader.MAX_BUNDLE + 1))
    assert str(err.value).startswith("ca_content: ") and f"limit of {reader.MAX_BUNDLE} bytes" in str(err.value)
    with pytest.raises(CertificateError) as err:
        load_anchors(ca_content="-----BEGIN CERTIFICATE-----\nAAAA\n")
    assert str(err.value).startswith("ca_content: truncated or damaged PEM")
