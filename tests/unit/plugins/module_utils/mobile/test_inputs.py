# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mobile.inputs: CA files and profile options, refused with clear errors or taken as given.
"""

from __future__ import annotations

import plistlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.trustops.tableau.plugins.module_utils import certs
from ansible_collections.trustops.tableau.plugins.module_utils.mobile import (
    apple,
    checks,
    inputs,
)

from .apple_schema import schema_problems
from .helpers import IDENT, build, key_pem, pem


def test_garbage_and_keys_are_clear_errors(world):
    with pytest.raises(certs.CertificateError, match="not PEM or DER"):
        inputs.load_cas([(b"hello, not a certificate", "garbage.pem")])
    with pytest.raises(certs.CertificateError, match="private key"):
        inputs.load_cas([(key_pem(world["root"][1]), "root.key")])
    with pytest.raises(inputs.MobileError, match="no CA certificate given"):
        inputs.load_cas([])


def test_inputs_are_validated():
    for bad in ("tableau", "com..example", "com.example/../x", "com.exa mple", ".com.example", ""):
        with pytest.raises(inputs.MobileError, match="reverse-DNS"):
            inputs.valid_identifier(bad)
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(inputs.MobileError, match="plain file name"):
            inputs.valid_basename(bad)
    with pytest.raises(inputs.MobileError, match="control character U\\+0007"):
        apple.ProfileSpec(IDENT, display_name="bell\x07")
    with pytest.raises(inputs.MobileError, match="BCP 47"):
        inputs.consent_dict({"english please": "x"})
    with pytest.raises(inputs.MobileError, match="non-empty"):
        inputs.consent_dict({"en": "  "})
    assert inputs.consent_dict("Agree") == {"default": "Agree"}
    assert inputs.consent_dict({"pt-BR": "Sim", "default": "Yes"}) == {"pt-BR": "Sim", "default": "Yes"}


_ROOT_FOR_PROPERTY = checks.selected(inputs.load_cas([(pem(build("Property Root")[0]), "p")])[0], False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(min_size=1, max_size=40), min_size=3, max_size=3))
def test_any_text_either_round_trips_or_is_refused(texts):
    """plistlib must read back exactly what we wrote, for any Unicode a user can type."""
    cert_cas = _ROOT_FOR_PROPERTY
    try:
        s = apple.ProfileSpec(IDENT, display_name=texts[0], organization=texts[1], consent_text=texts[2])
    except inputs.MobileError as exc:
        assert "control character" in str(exc) or "non-empty" in str(exc)
        assert any(inputs._XML_BAD.search(t) for t in texts) or not texts[2].strip()
        return
    data = apple.build_profile(s, cert_cas)
    assert data == apple.build_profile(s, cert_cas)
    back = plistlib.loads(data)
    lf = [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]  # XML reads CR back as LF
    assert back["PayloadDisplayName"] == lf[0]
    assert back["PayloadOrganization"] == lf[1]
    assert back["ConsentText"] == {"default": lf[2]}
    assert schema_problems(back) == []
