# -*- coding: utf-8 -*-
"""The fast reader of the mutual SSL audit must give what the full ``cryptography`` path gives.

``fast_path_agrees`` is an autouse fixture: a test module that imports it has every certificate
its tests send through :mod:`identity` read both ways, field by field, and every audit run both
ways (``fast=True`` and ``fast=False``), every certificate result and every finding compared.
test_identity.py, test_identity_der.py, test_identity_rules.py and test_identity_mtls.py import it,
so every certificate the identity tests generate is checked; test_identity_fast.py adds the
hypothesis corpus and malformed DER.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from ansible_collections.trustops.tableau.plugins.module_utils import identity
from ansible_collections.trustops.tableau.plugins.module_utils import identity_fast

SLOTS = [slot for slot in identity.CertIdentity.__slots__ if slot != "cert"]
CHECKED = {"certificates": 0, "fast": 0, "audits": 0}  # what the fixture compared (tests assert on it)


def ident_fields(ident):
    """Every field of a CertIdentity but the certificate object, for comparison."""
    return {slot: getattr(ident, slot, None) for slot in SLOTS}


def fast_fields(cert, der=None, source="<input>", digest=None):
    """The fast reader's CertIdentity fields for ``cert`` (after it learnt the certificate's
    extensions), or None when the fast reader leaves the certificate to the full path."""
    der = der if der is not None else cert.public_bytes(Encoding.DER)
    identity._learn(cert, der)  # pylint: disable=protected-access
    fields = identity_fast.read(der)
    if fields is None:
        return None
    return ident_fields(identity._fast_identity(cert, der, fields, source, digest))  # pylint: disable=protected-access


def assert_same_identity(cert, der=None, source="<input>"):
    """The fast reader and the full path agree on ``cert``; True when the fast reader read it."""
    full = ident_fields(_REAL["extract"](cert, source))
    fast = fast_fields(cert, der, source)
    CHECKED["certificates"] += 1
    if fast is None:
        return False
    CHECKED["fast"] += 1
    assert fast == full, "fast reader and cryptography disagree on {}".format(full["subject"])
    return True


def audits_agree(items, *args, **kwargs):
    """audit() both ways on the same items and the same clock; the fast result, after asserting
    the two are identical (every certificate field, every finding)."""
    items = list(items)
    kwargs.setdefault("now", datetime.datetime.now(datetime.timezone.utc))
    kwargs.pop("fast", None)
    fast = _REAL["audit"](items, *args, fast=True, **kwargs)
    full = _REAL["audit"](items, *args, fast=False, **kwargs)
    assert fast.as_dict() == full.as_dict()
    assert [(f.code, f.severity, f.message, f.remedy, f.data) for f in fast.findings] == \
        [(f.code, f.severity, f.message, f.remedy, f.data) for f in full.findings]
    CHECKED["audits"] += 1
    return fast


_REAL = {"audit": identity.audit, "extract": identity.extract, "extract_fast": identity.extract_fast}


@pytest.fixture(autouse=True)
def fast_path_agrees(monkeypatch):
    """Every identity.extract/extract_fast/audit call of the test is checked against the other path."""

    def extract(cert, source="<input>", digest=None):
        got = _REAL["extract"](cert, source, digest)
        assert_same_identity(cert, source=source)
        return got

    def extract_fast(cert, der, source="<input>", digest=None):
        got = _REAL["extract_fast"](cert, der, source, digest)
        assert ident_fields(got) == ident_fields(_REAL["extract"](cert, source, digest))
        assert_same_identity(cert, der, source)
        return got

    monkeypatch.setattr(identity, "extract", extract)
    monkeypatch.setattr(identity, "extract_fast", extract_fast)
    monkeypatch.setattr(identity, "audit", audits_agree)
    yield
