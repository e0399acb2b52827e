# -*- coding: utf-8 -*-
"""embed_proxy: the servers' own checkers reject broken renders, the in-place check keeps the
previous file, and the role's input patterns accept exactly what the templates can carry.

The in-place check is the shell script of roles/embed_proxy/vars/main.yml run as the role runs
it (``sh -c SCRIPT trustops-check CANDIDATE DEST CHECK...``) against real nginx and apache2.
"""

from __future__ import annotations

import os
import re
import string
import subprocess

import pytest

from embed_proxy_harness import Server, render, role_vars

HOST = "tableau.example.test"


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory, pki):
    d = tmp_path_factory.mktemp("embed_proxy_pki")
    ca = pki.root(cn="embed_proxy check root")
    leaf = pki.leaf(ca, cn=HOST, dns=(HOST,))
    write(str(d / "fullchain.pem"), leaf.pem.decode())
    write(str(d / "leaf.key"), leaf.key_pem("pkcs8").decode())
    write(str(d / "fullchain.pem.key"), leaf.key_pem("pkcs8").decode())
    return str(d)


def site_vars(server, tls_dir, **over):
    opts = dict(embed_proxy_server=server, embed_proxy_mode="site", embed_proxy_name="chk",
                embed_proxy_listen_address="127.0.0.1", embed_proxy_listen_port=19070,
                embed_proxy_server_name=HOST, embed_proxy_upstream_host="127.0.0.1",
                embed_proxy_upstream_port=19071, embed_proxy_haproxy_global=[],
                embed_proxy_tls_certificate=os.path.join(tls_dir, "fullchain.pem"))
    if server != "haproxy":
        opts["embed_proxy_tls_key"] = os.path.join(tls_dir, "leaf.key")
    opts.update(over)
    return opts


SITE_TEMPLATE = {"nginx": "nginx_site.conf.j2", "apache": "apache_site.conf.j2", "haproxy": "haproxy_site.cfg.j2"}
BAD_LINE = {"nginx": "trustops_not_a_directive on;", "apache": "TrustopsNotADirective on",
            "haproxy": "trustops-not-a-keyword"}


def check_site(server, workdir, options):
    srv = Server(server, workdir)
    name = "site.cfg" if server == "haproxy" else "site.conf"
    write(os.path.join(workdir, "conf.d", name), render(SITE_TEMPLATE[server], **options))
    srv.write_main()
    return srv.check()


@pytest.mark.parametrize("server", ["nginx", "apache", "haproxy"])
def test_checkers_accept_the_rendered_site(server, tmp_path, tls_files):
    result = check_site(server, str(tmp_path), site_vars(server, tls_files, embed_proxy_exempt_networks=[
        "10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"]))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("server", ["nginx", "apache", "haproxy"])
@pytest.mark.parametrize("broken,needle", [
    ({"embed_proxy_exempt_networks": ["10.0.0.0/33"]},
     {"nginx": "10.0.0.0/33", "apache": "subnet", "haproxy": "10.0.0.0/33"}),
    ({"embed_proxy_site_extra_config": ["BAD"]}, {"nginx": "trustops_not_a_directive",
                                                  "apache": "TrustopsNotADirective",
                                                  "haproxy": "trustops-not-a-keyword"}),
    ({"embed_proxy_tls_certificate": "/nonexistent/trustops.pem", "embed_proxy_tls_key": ""},
     {"nginx": "/nonexistent/trustops.pem", "apache": "/nonexistent/trustops.pem",
      "haproxy": "/nonexistent/trustops.pem"}),
], ids=["bad-network", "bad-directive", "missing-certificate"])
def test_checkers_reject_broken_variables(server, broken, needle, tmp_path, tls_files):
    """A broken variable that the role's patterns let through is caught by the server itself."""
    if broken.get("embed_proxy_site_extra_config") == ["BAD"]:
        broken = {"embed_proxy_site_extra_config": [BAD_LINE[server]]}
    result = check_site(server, str(tmp_path), site_vars(server, tls_files, **broken))
    assert result.returncode != 0
    assert needle[server] in result.stdout + result.stderr


# ------------------------------------------------------------------------- the in-place check
SWAP = role_vars()["_embed_proxy_swap_script"]


def swap(candidate, dest, check):
    return subprocess.run(["/bin/sh", "-c", SWAP, "trustops-check", candidate, dest] + check,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(params=["nginx", "apache"])
def live(request, tmp_path, tls_files):
    """A server configuration whose conf.d/site.conf is the live file the role manages."""
    server = request.param
    work = str(tmp_path / "srv")
    srv = Server(server, work)
    srv.write_main()
    dest = os.path.join(work, "conf.d", "site.conf")
    good = render(SITE_TEMPLATE[server], **site_vars(server, tls_files, embed_proxy_body="old"))
    write(dest, good)
    assert srv.check().returncode == 0
    cand_dir = tmp_path / "ansible-tmp"  # where Ansible puts the rendered file it validates
    cand_dir.mkdir()
    return {"server": server, "srv": srv, "dest": dest, "good": good, "cand": str(cand_dir / "source"),
            "tls": tls_files}


def leftovers(live_case):
    return sorted(n for n in os.listdir(os.path.dirname(live_case["dest"])) if n != "site.conf")


def test_in_place_check_installs_a_valid_candidate(live):
    new = render(SITE_TEMPLATE[live["server"]], **site_vars(live["server"], live["tls"], embed_proxy_body="new"))
    write(live["cand"], new)
    result = swap(live["cand"], live["dest"], live["srv"].check_command())
    assert result.returncode == 0, result.stderr
    assert read(live["dest"]) == new
    assert leftovers(live) == []


def test_in_place_check_keeps_the_previous_file(live):
    server = live["server"]
    before = os.stat(live["dest"])
    options = site_vars(server, live["tls"], embed_proxy_body="new", embed_proxy_site_extra_config=[BAD_LINE[server]])
    broken = render(SITE_TEMPLATE[server], **options)
    write(live["cand"], broken)
    result = swap(live["cand"], live["dest"], live["srv"].check_command())
    assert result.returncode != 0
    assert BAD_LINE[server].split()[0] in result.stderr + result.stdout     # the server's own words
    assert "is as it was" in result.stderr
    assert read(live["dest"]) == live["good"]
    after = os.stat(live["dest"])
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
    assert leftovers(live) == []
    assert live["srv"].check().returncode == 0


def test_in_place_check_removes_a_new_file_that_fails(live):
    server = live["server"]
    os.unlink(live["dest"])
    options = site_vars(server, live["tls"], embed_proxy_site_extra_config=[BAD_LINE[server]])
    write(live["cand"], render(SITE_TEMPLATE[server], **options))
    result = swap(live["cand"], live["dest"], live["srv"].check_command())
    assert result.returncode != 0
    assert not os.path.exists(live["dest"])
    assert leftovers(live) == []


def test_in_place_check_reports_a_missing_checker(live):
    write(live["cand"], "# anything\n")
    result = swap(live["cand"], live["dest"], ["/nonexistent/trustops-checker"])
    assert result.returncode != 0
    assert read(live["dest"]) == live["good"]


# ------------------------------------------------------------------------ the role's patterns
RE = {k: re.compile(v) for k, v in role_vars()["_embed_proxy_re"].items()}


def accepted(kind, value):
    return RE[kind].match(value) is not None   # Ansible's "match" test is re.match


def test_patterns_accept_what_the_server_tests_use():
    from test_embed_proxy_servers import BODIES, REDIRECT, RULE, multi_instances
    for body in BODIES + [RULE["embed_proxy_body"]]:
        assert accepted("body", body), body
    for path in RULE["embed_proxy_extra_paths"]:
        assert accepted("path", path)
    assert accepted("redirect", REDIRECT)
    for instance in multi_instances():
        opts = instance[1]
        if opts.get("embed_proxy_redirect"):
            assert accepted("redirect", opts["embed_proxy_redirect"])
    for net in RULE["embed_proxy_exempt_networks"]:
        assert accepted("network", net)
    for h in RULE["embed_proxy_exempt_headers"]:
        assert accepted("header_name", h["name"]) and accepted("header_value", h["value"])


@pytest.mark.parametrize("kind,value", [
    ("path", "views/Book"), ("path", "/a b"), ("path", '/a"b'), ("path", "/a$b"), ("path", "/a%20b"),
    ("path", "/a?b"), ("path", "/a#b"), ("path", "/a'b"), ("path", "/a\\b"), ("path", "/a\nb"),
    ("body", "line\nbreak"), ("body", "caf\u00e9"), ("body", "tab\there"),
    ("redirect", "/relative"), ("redirect", "https://h.example/a%20b"), ("redirect", "https://h.example/$x"),
    ("redirect", "https://h.example/a b"), ("redirect", "javascript:alert(1)"), ("redirect", "https://h.example/#x"),
    ("network", "10.0.0.0/8; evil"), ("network", "example.com"), ("network", "10.0.0.0/8 1"),
    ("header_name", "X Bad"), ("header_name", "X_Under"), ("header_value", ""), ("header_value", "a b"),
    ("header_value", "a'b"), ("header_value", "a$b"), ("name", "Bad-Name"), ("name", "9lives"),
    ("host", "a b"), ("host", "tableau;evil"), ("listen_address", "::1"), ("frontend", "fe name"),
])
def test_patterns_refuse_what_a_template_cannot_carry(kind, value):
    assert not accepted(kind, value)


def test_every_printable_ascii_body_is_accepted():
    assert accepted("body", string.printable[:95])
