# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mutual SSL rule table (``identity.REGISTRY``, SSL-0NN): complete rules, every code the audit
emits is a registered rule whose templates made its text, docs/mutual_ssl.md documents each one
with its seed sentence, and an audit of nothing says so (SSL-021).

The certificates are real (issued by a test CA with ``cryptography``); one set of audits together
emits every registered code.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.trustops.tableau.plugins.module_utils import identity
from ansible_collections.trustops.tableau.plugins.module_utils.findings import Finding

from identity_pki import ClientPKI, tlv, with_extra_extension, utf8, upn_other_name_der
from identity_equivalence import fast_path_agrees  # noqa: F401  pylint: disable=unused-import  # autouse: fast == full

DOCS = Path(identity.__file__).parents[2] / "docs" / "mutual_ssl.md"
CODES = sorted(identity.RULES)


def fields(template):
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    """Audits of real certificates and files that together emit every SSL code."""
    d = tmp_path_factory.mktemp("rules")
    p = ClientPKI()
    ca, other_ca = p.ca(), p.ca(cn="Impostor CA")
    good = p.client(ca, cn="jdoe", upns=["jdoe@example.org"])
    made = {
        "jdoe_org.pem": good,
        "jdoe_com.pem": p.client(ca, cn="jdoe", upns=["jdoe@example.com"]),
        "two_cns.pem": p.client(ca, cn=["a", "b"]),
        "no_cn.pem": p.client(ca, cn=None, upns=["x@example.org"]),
        "backslash.pem": p.client(ca, cn="EXAMPLE\\bob"),
        "bad_upn.pem": p.client(ca, cn="eve@example.org", upn_values=[tlv(0x16, b"eve@example.org")]),
        "expired.pem": p.client(ca, cn="old@example.org", start_days=-30, days=-1),
        "future.pem": p.client(ca, cn="new@example.org", start_days=2),
        "impostor.pem": p.client(other_ca, cn="imp@example.org"),
        "server_only.pem": p.client(ca, cn="srv@example.org", eku=(ExtendedKeyUsageOID.SERVER_AUTH,)),
        "disagree.pem": p.client(ca, cn="pat@example.org", upns=["patricia@example.org"]),
    }
    for name, client in made.items():
        (d / name).write_bytes(client.pem)
    broken = with_extra_extension(good.cert, ca.key, b"\x55\x1d\x11",
                                  tlv(0x30, upn_other_name_der(utf8("dup@example.org"))))
    from cryptography.hazmat.primitives import serialization
    (d / "broken.pem").write_bytes(broken.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(good.key_pem)
    every = [str(d / "*.pem"), str(d / "missing.pem"), str(d / "none-*.pem")]
    return {
        "two domains, cn": identity.audit_inputs(every, "ad", mapping="cn", default_domain="example.org",
                                                 domains=["example.org", "example.com"],
                                                 known_users=["jdoe@example.org"], client_ca=ca.pem.decode()),
        "no default domain": identity.audit_inputs([str(d / "backslash.pem"), str(d / "two_cns.pem"),
                                                    str(d / "jdoe_org.pem")], "ad", mapping="cn"),
        "one domain": identity.audit_inputs([str(d / "jdoe_org.pem")], "ad", mapping="cn",
                                            default_domain="example.org"),
        "ldap": identity.audit_inputs([str(d / "jdoe_org.pem")], "ad"),
        "ldap, local store": identity.audit_inputs([str(d / "jdoe_org.pem")], "local", mapping="ldap"),
        "nothing": identity.audit_inputs([str(d / "none-*.pem")], "ad", mapping="upn"),
    }


def emitted(audits):
    return [(name, f) for name, result in audits.items() for f in result.findings]


@pytest.mark.parametrize("code", CODES)
def test_rule_is_complete_and_formats(code):
    rule = identity.RULES[code]
    assert rule.code == code and rule.severity in ("info", "warning", "error")
    assert rule.message and rule.remedy and rule.seed and rule.title
    assert rule.tsm_key is None
    values = {name: f"V{name}" for name in fields(rule.message) | fields(rule.remedy)}
    found = identity.finding(code, **values)
    assert isinstance(found, Finding) and found.code == code and found.severity == rule.severity
    assert "{" not in found.message and "{" not in found.remedy


def test_codes_are_ssl_001_to_021_in_one_registry():
    assert CODES == [f"SSL-{n:03d}" for n in range(1, 22)]
    assert identity.REGISTRY.prefix == "SSL" and identity.finding == identity.REGISTRY.finding


def test_the_audits_emit_every_registered_code(audits):
    assert sorted({f.code for _name, f in emitted(audits)}) == CODES


def test_every_finding_text_is_its_rule_filled_from_its_data(audits):
    """The text lives once: each message and remedy is the rule's template filled with the
    finding's data (per-certificate messages with the certificate's source in front)."""
    for name, f in emitted(audits):
        rule = identity.RULES[f.code]
        text = rule.message.format_map(f.data)
        assert f.message in (text, "{}: {}".format(f.data.get("source"), text)), (name, f.code, f.message)
        assert f.remedy == rule.remedy.format_map(f.data), (name, f.code, f.remedy)
        if f.code not in ("SSL-002", "SSL-011"):  # their severity depends on the mapping / the evidence
            assert f.severity == rule.severity, (name, f)


def test_severity_variants_are_the_documented_ones(audits):
    variants = {(f.code, f.severity) for _name, f in emitted(audits) if f.code in ("SSL-002", "SSL-011")}
    assert ("SSL-002", "warning") in variants and ("SSL-011", "error") in variants


def test_an_audit_of_nothing_is_a_warning_not_a_silent_pass(audits):
    result = audits["nothing"]
    assert [(f.code, f.severity) for f in result.findings] == [("SSL-020", "warning"), ("SSL-021", "warning")]
    nothing = result.findings[-1]
    assert nothing.message == "nothing was audited: none of the 1 input(s) of certs held a client certificate"
    assert "client certificates" in nothing.remedy and result.counts["certificates"] == 0


def test_an_audit_of_one_certificate_has_no_ssl_021(audits):
    assert "SSL-021" not in [f.code for f in audits["one domain"].findings]


@pytest.mark.parametrize("code", CODES)
def test_docs_document_every_rule_with_its_seed_sentence(code):
    rule = identity.RULES[code]
    rows = [line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {code} |")]
    assert len(rows) == 1, f"docs/mutual_ssl.md must have one table row for {code}"
    cells = [c.strip() for c in rows[0].strip("|").split(" | ")]
    assert cells[1].startswith(rule.severity)
    seed = rule.seed.replace("\u2019", "'").replace("\u2013", "-")
    if seed.startswith("Not a vendor rule:"):
        assert "Not a vendor rule" in cells[3]
    else:
        assert re.sub(r"\s+", " ", seed.split(". ")[0])[:60] in cells[3], (code, cells[3])
