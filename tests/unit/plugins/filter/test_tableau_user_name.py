# -*- coding: utf-8 -*-
"""The tableau_user_name filter: directly, and in a real template rendered by ansible."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.trustops.tableau.plugins.filter.tableau_user_name import FilterModule, tableau_user_name
from ansible_collections.trustops.tableau.plugins.module_utils import identity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "module_utils"))
from identity_pki import ClientPKI, tlv  # noqa: E402  pylint: disable=wrong-import-position

ANSIBLE = str(Path(sys.executable).with_name("ansible"))
COLLECTIONS = str(Path(identity.__file__).parents[5])


@pytest.fixture(scope="module")
def certs():
    p = ClientPKI()
    ca = p.ca()
    return {
        "upn": p.client(ca, cn="John Smith", upns=["jsmith@Example.ORG"]),
        "slash": p.client(ca, cn="x", upns=["example.com/jsmith"]),
        "plain": p.client(ca, cn="jsmith", upns=["jsmith"]),
        "ia5": p.client(ca, cn="jsmith", upn_values=[tlv(0x16, b"jsmith@example.org")]),
        "two": p.client(ca, cn=["a", "b"]),
        "cn_only": p.client(ca, cn="Jürgen"),
    }


def test_registered_under_its_name():
    assert FilterModule().filters() == {"tableau_user_name": tableau_user_name}


def test_ad_names(certs):
    def pem(name):
        return certs[name].pem.decode()

    assert tableau_user_name(pem("upn"), mapping="upn", default_domain="example.net") == "jsmith@example.org"
    assert tableau_user_name(pem("slash"), mapping="upn", default_domain="example.net") == "jsmith@example.com"
    assert tableau_user_name(pem("plain"), mapping="upn", default_domain="example.net") == "jsmith@example.net"
    assert tableau_user_name(pem("upn"), mapping="cn", default_domain="example.net") == "John Smith@example.net"
    assert tableau_user_name(pem("plain"), mapping="upn", identity_store="ad") == "jsmith"
    assert tableau_user_name(certs["upn"].der, mapping="upn", default_domain="x.org") == "jsmith@example.org"


def test_local_names_are_taken_as_they_are(certs):
    assert tableau_user_name(certs["upn"].pem.decode()) == "jsmith@Example.ORG"
    assert tableau_user_name(certs["cn_only"].pem.decode(), mapping="cn") == "Jürgen"


@pytest.mark.parametrize("name, kwargs, message", [
    ("upn", {"mapping": "ldap", "default_domain": "example.org"}, "Active Directory maps the certificate"),
    ("upn", {"default_domain": "example.org"}, "Active Directory maps the certificate"),
    ("cn_only", {"mapping": "upn"}, "has no UPN"),
    ("ia5", {"mapping": "upn"}, "is a IA5String, not a UTF8String"),
    ("two", {"mapping": "cn"}, "2 different CNs (a, b)"),
    ("upn", {"mapping": "kerberos"}, "mapping must be ldap, upn or cn"),
    ("upn", {"identity_store": "ldap"}, "identity_store must be ad or local"),
])
def test_failures_say_why(certs, name, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        tableau_user_name(certs[name].pem.decode(), **kwargs)


def test_not_a_certificate(certs):
    with pytest.raises(AnsibleFilterError, match="holds a private key"):
        tableau_user_name(certs["upn"].key_pem.decode(), mapping="upn")
    with pytest.raises(AnsibleFilterError, match="expected exactly one certificate, found 2"):
        tableau_user_name((certs["upn"].pem + certs["slash"].pem).decode(), mapping="upn")
    with pytest.raises(AnsibleFilterError, match="expects a certificate as PEM text, not list"):
        tableau_user_name([certs["upn"].pem.decode()])


@pytest.mark.skipif(not os.path.exists(ANSIBLE), reason="needs the ansible CLI")
def test_in_a_real_template(certs, tmp_path):
    (tmp_path / "upn.pem").write_bytes(certs["upn"].pem)
    (tmp_path / "plain.pem").write_bytes(certs["plain"].pem)
    expr = ("{{{{ [lookup('ansible.builtin.file', '{}') | trustops.tableau.tableau_user_name(mapping='upn', "
            "default_domain='example.net'), lookup('ansible.builtin.file', '{}') | "
            "trustops.tableau.tableau_user_name(mapping='upn', default_domain='example.net')] }}}}".format(tmp_path / "upn.pem", tmp_path / "plain.pem"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run([ANSIBLE, "localhost", "-m", "ansible.builtin.debug", "-a",
                           json.dumps({"msg": expr}), "-e", f"ansible_python_interpreter={sys.executable}"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r"^localhost \| SUCCESS => (\{.*\})\s*$", proc.stdout, re.S | re.M)
    assert match, proc.stdout + proc.stderr
    assert json.loads(match.group(1))["msg"] == ["jsmith@example.org", "jsmith@example.net"]
    # a failing filter fails the task with the filter's message
    bad = "{{ lookup('ansible.builtin.file', '%s') | trustops.tableau.tableau_user_name(mapping='cn') }}" % (
        tmp_path / "upn.pem")
    (tmp_path / "key.pem").write_bytes(certs["upn"].key_pem)
    bad = bad.replace(str(tmp_path / "upn.pem"), str(tmp_path / "key.pem"))
    proc = subprocess.run([ANSIBLE, "localhost", "-m", "ansible.builtin.debug", "-a", json.dumps({"msg": bad}),
                           "-e", f"ansible_python_interpreter={sys.executable}"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and "holds a private key" in proc.stdout + proc.stderr
