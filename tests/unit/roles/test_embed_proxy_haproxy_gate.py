# -*- coding: utf-8 -*-
"""The HAProxy rule's gate (issue 16) changes no verdict.

The role's HAProxy rule first tests one cheap regular expression on the raw path
(``<name>_cand``: a blocked path as it stands, or "%", "//" or "/." somewhere) and only then
decodes the path for the ``..`` refusal and the blocked-path regexes. The same rules without the
gate - the form the role rendered before issue 16 - are the reference. Both run side by side in
one real HAProxy (Debian's), on plain HTTP in front of a backend that answers 200, and get the
same corpus of raw paths: the traps of the other tests plus seeded random strings of encoded and
plain dots, slashes, percent signs and the blocked paths' own pieces. Every path must get the same
answer (400, the rule's status, or forwarded) from both.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import socket
import subprocess

import pytest

from embed_proxy_harness import read_pid, render, wait_pid_gone, wait_port

EXTRA = ["/Extra.Page(1)", "/dir/", "/a+b", "/.well-known/x", "/t/Site/home"]
CONFIGS = {
    # name -> role options: the default query handling with a body; only an empty query, no body
    "main": dict(embed_proxy_extra_paths=EXTRA, embed_proxy_body="blocked by the rule"),
    "noquery": dict(embed_proxy_extra_paths=EXTRA, embed_proxy_block_with_query=False,
                    embed_proxy_status=404, embed_proxy_exempt_networks=["10.0.0.0/8"],
                    embed_proxy_exempt_headers=[{"name": "X-Trustops-Internal", "value": "corp"}]),
}
PIECES = ["/", "/", "//", ".", "..", "./", "../", "%2e", "%2E", "%2f", "%2F", "%2e%2e", "%25", "%",
          "%zz", "%45", "%2B", "%28", "a", "b", "x", "dir", "Extra.Page(1)", "Extra", ".Page(1)", "+",
          "a+b", ";x", "%3B", ".well-known", "t", "Site", "home", "views", "Book"]
HAND_PICKED = [
    "/", "//", "/./", "/.", "/%2e/", "/%2E", "///", "/a/../", "/..", "/%2F", "/%2f/", "/%2e%2e/",
    "/views/../views/Book", "/views//Book", "/views/Book/Sheet", "/trusted/T/views/Book/Sheet",
    "/wg/saml/SSO/index.html", "/vizportal/api/web/v1/getSessionInfo", "/Extra.Page(1)",
    "//Extra.Page(1)", "/./Extra.Page(1)", "/%45xtra.Page%281%29", "/Extra.Page(1)/.", "/ExtraXPage(1)",
    "/dir/", "/dir", "/dir/.", "/dir//", "/dir/./", "/a+b", "/a%2Bb", "/a%2bb", "/a%20b", "/.well-known/x",
    "/%2ewell-known/x", "/./.well-known/x", "/t/Site/home", "/t//Site/./home", "/t/Site/home/",
    "/;x", "/%", "/%zz", "/.%2e/", "/%2e./x",
]


def corpus():
    """The hand-picked paths without a query, with an empty one and with one; then 1,200 random
    paths, each with one of four query forms."""
    rnd = random.Random(16)
    out = [path + query for query in ("", "?", "?a=b") for path in HAND_PICKED]
    for i in range(1200):
        path = "/" + "".join(rnd.choice(PIECES) for dummy in range(rnd.randint(0, 6)))
        out.append(path + ("", "?", "?a=b", "?:embed=y&x=%2F")[i % 4])
    return out


def ungated(rules, name):
    """The rules as the role rendered them before issue 16: no gate ACL, no gate in conditions."""
    out = [line.replace(f" {name}_cand ", " ") for line in rules.splitlines()
           if not line.strip().startswith((f"acl {name}_cand ", "#"))]
    text = "\n".join(out) + "\n"
    assert "_cand" not in text and text != rules
    return text


def free_ports(count):
    socks = [socket.socket() for dummy in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture(scope="module")
def haproxy(tmp_path_factory):
    work = tmp_path_factory.mktemp("embed_proxy_gate")
    ports = free_ports(2 * len(CONFIGS))
    frontends = {}
    cfg = ("global\n    pidfile %s/haproxy.pid\n\ndefaults\n    mode http\n    timeout connect 2s\n"
           "    timeout client 10s\n    timeout server 10s\n\nbackend upstream\n"
           "    http-request return status 200 content-type text/plain string forwarded\n" % work)
    for config, options in CONFIGS.items():
        rules = render("haproxy_rules.j2", **dict(options, embed_proxy_server="haproxy", embed_proxy_name="t"))
        assert "acl t_cand path -m reg " in rules
        for form, text in (("gated", rules), ("reference", ungated(rules, "t"))):
            port = ports.pop()
            frontends[(config, form)] = port
            cfg += "\nfrontend %s_%s\n    bind 127.0.0.1:%d\n%s    default_backend upstream\n" % (config, form, port, text)
    path = os.path.join(work, "haproxy.cfg")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(cfg)
    check = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    subprocess.run(["haproxy", "-D", "-f", path], capture_output=True, timeout=60, check=True)
    pid = read_pid(os.path.join(work, "haproxy.pid"))
    try:
        for port in frontends.values():
            wait_port(port)
        yield frontends
    finally:
        os.kill(pid, 15)
        wait_pid_gone(pid)


def answers(port, targets):
    """(status, body) for each target, over keep-alive connections (reopened when HAProxy closes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    try:
        for target in targets:
            conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", "tableau.example.test")
            conn.endheaders()
            resp = conn.getresponse()
            out.append((resp.status, resp.read()))
    finally:
        conn.close()
    return out


@pytest.mark.parametrize("config", list(CONFIGS))
def test_gate_changes_no_verdict(haproxy, config):
    targets = corpus()
    gated = answers(haproxy[(config, "gated")], targets)
    reference = answers(haproxy[(config, "reference")], targets)
    differ = [(t, g[0], r[0]) for t, g, r in zip(targets, gated, reference, strict=True) if g != r]
    assert not differ, differ[:20]
    # the corpus reaches every outcome, so the comparison is not vacuous
    statuses = {g[0] for g in gated}
    assert {200, 400, 403 if config == "main" else 404} <= statuses, statuses
    blocked = [t for t, g in zip(targets, gated, strict=True) if g[0] in (403, 404)]
    assert len(blocked) >= 50 and "/" in blocked and "//Extra.Page(1)" in blocked


def test_gate_lets_plain_paths_through_untested():
    """What the gate is for: an embedded view, SSO and resource paths never match it, so the
    decoded-path regexes are not evaluated for them (HAProxy stops at the first false ACL)."""
    rules = render("haproxy_rules.j2", **dict(CONFIGS["main"], embed_proxy_server="haproxy", embed_proxy_name="t"))
    gate = next(line for line in rules.splitlines() if line.strip().startswith("acl t_cand "))
    regex = gate.split(" -m reg ", 1)[1].strip().strip("'")
    for path in ("/views/Book/Sheet", "/trusted/TICKET/views/Book/Sheet", "/wg/saml/SSO/index.html",
                 "/vizportal/api/web/v1/getSessionInfo", "/javascripts/api/viz_v1.js", "/t/Site/views/B/S"):
        assert not re.search(regex, path), path
    for path in ("/", "/dir/", "/Extra.Page(1)", "//", "/%2e", "/a/../"):
        assert re.search(regex, path), path
    # and each rule's condition starts with the gate
    conditions = [line.split(" if ", 1)[1] for line in rules.splitlines() if line.strip().startswith("http-request")]
    assert conditions and all(c.startswith("t_cand ") for c in conditions), conditions
