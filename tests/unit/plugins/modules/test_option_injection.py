# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permanent option-injection class (issue 11): free-text options that reach a command line.

Every free-text option that becomes an argument of a command the collection runs (the ``tsm``
options of the tsm_* modules and the connection options, ``tsm_config`` key names and values,
``trust_anchor`` ``name``, which becomes a path handed to ``update-ca-certificates``) gets values
that start with ``-`` (``-t``, ``--force-keys``), hold a newline, hold a comma inside one list
item, or hold shell metacharacters. Each must be refused with a message naming the option (and
nothing staged: the TSM simulator's state and write calls unchanged), or passed so that the
command cannot misread it. The referee is the command's own recorded argv (the simulator logs
every call; trust_anchor returns the argv it ran): no injected value ever stands as an argument
right after an option, where ``tsm`` would read it as its next option, and no shell ever ran
(a canary file that the shell values would create never appears).
"""

from __future__ import annotations

import os
import re

import pytest
from cryptography.hazmat.primitives import serialization
from module_runner import run_module
from tsm_sim.harness import SimServer, idp_metadata, write

from ansible_collections.trustops.tableau.plugins.module_utils.truststore import layouts
from ansible_collections.trustops.tableau.plugins.modules import (
    trust_anchor,
    tsm_config,
    tsm_external_ssl,
    tsm_info,
    tsm_saml,
    tsm_trusted_auth,
)

URL = "https://tableau.example.test"

#: The hostile values; ``{canary}`` is replaced by a path that only a shell would create.
DASH = ["-t", "--force-keys"]
NEWLINE = ["tableau.example.test\n--force-keys", "a\nb"]
COMMA = ["a.example.test,b.example.test"]
SHELL = ["x;touch {canary}", "$(touch {canary})", "`touch {canary}`", "x|touch {canary}", "x && touch {canary}"]


@pytest.fixture(scope="module")
def files(tmp_path_factory, pki):
    d = tmp_path_factory.mktemp("injection")
    root = pki.root(cn="Injection Root")
    sp = pki.leaf(root, cn="tableau.example.test")
    return {
        "root": root,
        "cert": write(d / "sp.crt", sp.pem),
        "key": write(d / "sp.key", sp.key_pem("pkcs1")),  # server-wide SAML's unencrypted key format (seed 002)
        "chain": write(d / "chain.crt", root.pem),
        "idp": write(d / "idp.xml", idp_metadata("injection")),
    }


def _saml_base(f):
    return {"idp_entity_id": URL, "return_url": URL, "idp_metadata_file": f["idp"], "cert_file": f["cert"],
            "key_file": f["key"], "user_name_attribute": "username"}


#: (module, option, how the value is given, base args). ``how``: scalar, item (one list item),
#: key (a dict key), value (a dict value). Commas are only hostile where items are joined.
OPTIONS = [
    ("tsm_saml", "idp_entity_id", "scalar", _saml_base),
    ("tsm_saml", "return_url", "scalar", _saml_base),
    ("tsm_saml", "signout_url", "scalar", _saml_base),
    ("tsm_saml", "user_name_attribute", "scalar", _saml_base),
    ("tsm_saml", "domain_attribute", "scalar", _saml_base),
    ("tsm_saml", "authcontexts", "item", _saml_base),
    ("tsm_saml", "blocklisted_digests", "item", _saml_base),
    ("tsm_trusted_auth", "trusted_hosts", "item", lambda f: {"trusted_hosts": ["tableau.example.test"]}),
    ("tsm_external_ssl", "protocols", "scalar", lambda f: {"cert_file": f["cert"], "key_file": f["key"], "chain_file": f["chain"]}),
    ("tsm_config", "keys", "key", lambda f: {"keys": {}}),
    ("tsm_config", "keys", "value", lambda f: {"keys": {}}),
    ("tsm_info", "username", "scalar", lambda f: {"password": "Tsm-Admin-Pass-1"}),
    ("tsm_info", "tsm_user", "scalar", lambda f: {}),
    ("trust_anchor", "name", "scalar", None),
]
MAINS = {"tsm_saml": tsm_saml.main, "tsm_trusted_auth": tsm_trusted_auth.main, "tsm_external_ssl": tsm_external_ssl.main,
         "tsm_config": tsm_config.main, "tsm_info": tsm_info.main}


def _values(how):
    values = [("dash", v) for v in DASH] + [("newline", v) for v in NEWLINE] + [("shell", v) for v in SHELL]
    if how == "item":
        values += [("comma", v) for v in COMMA]
    return values


ROWS = [(m, o, how, base, kind, value) for m, o, how, base in OPTIONS for kind, value in _values(how)]


def row_id(row):
    return "{}.{}({})-{}-{}".format(row[0], row[1], row[2], row[4], re.sub(r"\W+", "_", row[5])[:24])


def _put(args, option, how, value):
    args = dict(args)
    if how == "scalar":
        args[option] = value
    elif how == "item":
        args[option] = list(args.get(option) or []) + [value]
        if option == "trusted_hosts":
            args[option] = [value]
    elif how == "key":
        args[option] = {value: "1"}
    else:
        args[option] = {"gateway.public.host": value}
    return args


# --------------------------------------------------------------------------- the referee, one place

def misread(argv, value):
    """Where the command line lets ``value`` be misread: as an argument right after an option
    (tsm would read ``--hosts -t`` as two options), or split over several arguments."""
    found = []
    for index, arg in enumerate(argv):
        if arg == value and value.startswith("-") and index > 0 and argv[index - 1].startswith("-"):
            found.append(f"{argv[index - 1]} {arg}")
    return found


def judge(option, value, result, argvs, canary, unchanged):
    problems = []
    if os.path.exists(canary):
        problems.append("a shell ran the value (the canary file exists)")
    for argv in argvs:
        for where in misread(argv, value):
            problems.append(f"tsm would read an option in: ... {where} ...")
    msg = result.get("msg") or ""
    if "Traceback" in msg or "Exception" in msg:
        problems.append(f"traceback in msg: {msg[:300]!r}")
    if result.get("failed"):
        if re.search(rf"(?<![\w.]){re.escape(option)}(?![\w])", msg) is None and repr(value) not in msg:
            problems.append(f"refused without naming {option}: {msg[:300]!r}")
        if not unchanged:
            problems.append("refused, but something was staged or written")
    elif "\n" in value or ("," in value and option in ("trusted_hosts", "authcontexts", "blocklisted_digests")):
        problems.append(f"accepted {value!r} (newlines and commas inside one item must be refused)")
    return problems


#: A plain value for the option of a row whose base arguments are incomplete without it.
PLAIN = {"username": "tsmadmin"}


@pytest.mark.parametrize("row", [r for r in OPTIONS if r[0] != "trust_anchor"], ids=lambda r: "{}.{}".format(*r[:2]))
def test_the_base_arguments_alone_are_accepted(row, files, tmp_path):
    """The control of the rows below: without a hostile value each row's base arguments pass, so a
    refusal there is the hostile value's, not a refused base (an unencrypted PKCS#8 SP key is SAML-016)."""
    module, option, _how, base = row
    sim = SimServer(tmp_path / "server")
    args = dict(base(files), tsm_path=sim.tsm)
    if option in PLAIN:
        args[option] = PLAIN[option]
    result = run_module(MAINS[module], args)
    assert not result.get("failed"), "{}: {}".format(module, result.get("msg"))


@pytest.mark.parametrize("row", [r for r in ROWS if r[0] != "trust_anchor"], ids=row_id)
def test_tsm_option_injection_is_refused_or_harmless(row, files, tmp_path):
    module, option, how, base, _kind, value = row
    canary = str(tmp_path / "canary")
    value = value.format(canary=canary)
    sim = SimServer(tmp_path / "server")
    state = sim.state_bytes()
    args = _put(dict(base(files), tsm_path=sim.tsm), option, how, value)
    result = run_module(MAINS[module], args)
    calls = sim.calls() if os.path.exists(os.path.join(sim.home, "calls.log")) else []
    writes = [c for c in calls if c["command"] not in ("status", "version", "configuration.get", "settings.export",
                                                       "pending-changes.list", "security.external-ssl.list",
                                                       "configuration.list-dynamic-keys")]
    problems = judge(option, value, result, [c["argv"] for c in calls], canary,
                     sim.state_bytes() == state and not writes)
    assert not problems, "{} {}={!r}: {}".format(module, option, value, "; ".join(problems))


@pytest.mark.parametrize("row", [r for r in ROWS if r[0] == "trust_anchor"], ids=row_id)
def test_trust_anchor_name_injection_is_refused(row, files, tmp_path, monkeypatch):
    """``name`` becomes a file name that update-ca-certificates reads: refused unless plain."""
    import shutil

    _module, option, _how, _base, _kind, value = row
    canary = str(tmp_path / "canary")
    value = value.format(canary=canary)
    update = shutil.which("update-ca-certificates", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert update, "update-ca-certificates (Debian package ca-certificates) runs the store of this test"
    lay = layouts.layout("debian", str(tmp_path / "root"))
    os.makedirs(lay.anchors_dir)
    os.makedirs(lay.etccertsdir)
    write(lay.certsconf, b"", 0o644)
    monkeypatch.setattr(trust_anchor, "_layout", lambda store: lay)
    monkeypatch.setenv("PATH", os.path.dirname(update) + ":" + os.environ.get("PATH", ""))
    before = sorted(os.listdir(lay.anchors_dir))
    pem = files["root"].cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    result = run_module(trust_anchor.main, {"content": pem, "platform": "debian", option: value})
    argvs = [result["cmd"]["argv"]] if result.get("cmd") else []
    problems = judge(option, value, result, argvs, canary, sorted(os.listdir(lay.anchors_dir)) == before)
    if not result.get("failed"):
        problems.append(f"accepted name {value!r}")
    assert not problems, "trust_anchor name={!r}: {}".format(value, "; ".join(problems))
