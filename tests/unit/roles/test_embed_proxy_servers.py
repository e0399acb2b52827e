# -*- coding: utf-8 -*-
"""The embed_proxy role's templates, served by the real Debian nginx, Apache httpd and HAProxy.

One private instance of each server runs the rendered configurations on loopback (ports
19040-19055, or 19060-19075 in a second pytest-xdist worker) in front of the echo upstream (tests/support/echo_upstream.py), and every test
sends real HTTP(S) requests and compares what the three servers do. The point is agreement:
the same options must block and pass the same requests on all three.
"""

from __future__ import annotations

import fcntl
import http.client
import os
import string

import pytest

from embed_proxy_harness import Echo, Server, render, request, tls_context, upstream_saw

SERVERS = ("nginx", "apache", "haproxy")


def _slot():
    """Two port blocks in this area's range, so that two pytest-xdist workers can each run this
    module; more workers share them one after the other (see the lock in ``stack``)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]
    return int(worker) % 2 if worker.isdigit() else 0


SLOT = _slot()
ECHO_PORT = 19040 + 20 * SLOT    # 19040-19055 or 19060-19075
HOST = "tableau.example.test"

BODY = 'Tableau Server UI blocked: use the portal "https://portal.example.test/" - 100% $HOME \\o/ \'ok\''
EXEMPT_HEADER = {"name": "X-Trustops-Internal", "value": "corp-lan.1(a)"}
RULE = dict(embed_proxy_body=BODY, embed_proxy_exempt_networks=["127.0.0.2/32", "2001:db8::/32"],
            embed_proxy_exempt_headers=[EXEMPT_HEADER],
            embed_proxy_extra_paths=["/Extra.Page(1)", "/dir/"])
REDIRECT = "https://portal.example.test/embed/go?from=tableau&x=%3A%2F&y=a+b"

# site-mode variants: name -> (port offset, options)
VARIANTS = {
    "main": (1, RULE),
    "noquery": (2, dict(RULE, embed_proxy_block_with_query=False, embed_proxy_status=404, embed_proxy_body="")),
    "redirect": (3, dict(RULE, embed_proxy_status=302, embed_proxy_body="", embed_proxy_redirect=REDIRECT)),
}
MULTI_OFFSET = 4      # many snippet instances on one port: bodies and statuses
SNIPPET_OFFSET = 5    # the main rule as a snippet in the user's own server block / vhost / frontend
BASE = {"nginx": ECHO_PORT, "apache": ECHO_PORT + 5, "haproxy": ECHO_PORT + 10}

# Bodies that stress each configuration language: every printable ASCII character first (Apache
# reads a leading "/" or "scheme:" as a URL, "\t" "\n" "\0".. as escapes), then known traps.
BODIES = [c + " then text" for c in string.printable[:95]] + [
    "%{HTTP_HOST} and %{REQUEST_URI}", "$1 $host ${host} $$", "ends with a backslash\\",
    "ends with a quote'", "\"double\" 'single' `back`", "  leading and trailing spaces  ",
    "\\n is not a newline, \\t not a tab", "http://looks.like/a/url", "/looks/like/a/path",
    "note: a scheme-like start", "# not a comment ; { } < > & | ^ ~", "%% %s %d %",
]
STATUSES = [400, 403, 404, 405, 410, 429, 451, 500, 503]
REDIRECTS = [301, 302, 303, 307, 308]


def multi_instances():
    """(name, options, path, expected status, expected body or Location) for the shared port."""
    out = []
    for i, body in enumerate(BODIES):
        out.append(("b%d" % i, dict(embed_proxy_block_root=False, embed_proxy_extra_paths=["/b%d" % i],
                                    embed_proxy_body=body), "/b%d" % i, 403, body))
    for status in STATUSES:
        out.append(("s%d" % status, dict(embed_proxy_block_root=False, embed_proxy_extra_paths=["/s%d" % status],
                                         embed_proxy_status=status, embed_proxy_body="status %d" % status),
                    "/s%d" % status, status, "status %d" % status))
    for status in REDIRECTS:
        url = "https://portal.example.test/r%d?q=%%20x" % status
        out.append(("r%d" % status, dict(embed_proxy_block_root=False, embed_proxy_extra_paths=["/r%d" % status],
                                         embed_proxy_status=status, embed_proxy_redirect=url),
                    "/r%d" % status, status, url))
    return out


def site_options(server, name, options, port, pki_dir):
    opts = dict(options, embed_proxy_server=server, embed_proxy_mode="site", embed_proxy_name="v_" + name,
                embed_proxy_listen_address="127.0.0.1", embed_proxy_listen_port=port,
                embed_proxy_server_name=HOST, embed_proxy_upstream_host="127.0.0.1",
                embed_proxy_upstream_port=ECHO_PORT, embed_proxy_haproxy_global=[],
                embed_proxy_tls_certificate=os.path.join(pki_dir, "fullchain.pem"))
    if server != "haproxy":  # HAProxy finds fullchain.pem.key by itself
        opts["embed_proxy_tls_key"] = os.path.join(pki_dir, "leaf.key")
    return opts


def haproxy_insert(cfg, frontend, name, block):
    """What ansible.builtin.blockinfile does with insertafter='^frontend <name>'."""
    lines = cfg.splitlines()
    at = lines.index(f"frontend {frontend}") + 1
    marker = "    # %s trustops.tableau.embed_proxy " + name
    lines[at:at] = [marker % "BEGIN"] + block.rstrip("\n").splitlines() + [marker % "END"]
    return "\n".join(lines) + "\n"


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def build(server, work, pki_dir):
    """Render every variant for one server into a private instance; return the Server."""
    srv = Server(server, work)
    base = BASE[server]
    conf_d = os.path.join(work, "conf.d")
    snip_d = os.path.join(work, "snippets")
    os.makedirs(snip_d, exist_ok=True)
    ports = []
    for name, (offset, options) in VARIANTS.items():
        tpl = {"nginx": "nginx_site.conf.j2", "apache": "apache_site.conf.j2", "haproxy": "haproxy_site.cfg.j2"}
        ext = "cfg" if server == "haproxy" else "conf"  # HAProxy reads *.cfg from a directory
        write(os.path.join(conf_d, f"v_{name}.{ext}"),
              render(tpl[server], **site_options(server, name, options, base + offset, pki_dir)))
        ports.append(base + offset)
    multi = [(inst[0], dict(inst[1], embed_proxy_server=server, embed_proxy_name="m_" + inst[0]))
             for inst in multi_instances()]
    main_snippet = dict(RULE, embed_proxy_server=server, embed_proxy_name="snip")
    groups = [(base + MULTI_OFFSET, multi), (base + SNIPPET_OFFSET, [("snip", main_snippet)])]
    ports += [base + MULTI_OFFSET, base + SNIPPET_OFFSET]
    body = ""
    for port, instances in groups:
        if server == "nginx":
            includes = ""
            for opts in [inst[1] for inst in instances]:
                write(os.path.join(conf_d, "{}.conf".format(opts["embed_proxy_name"])), render("nginx_http.conf.j2", **opts))
                path = os.path.join(snip_d, "{}.conf".format(opts["embed_proxy_name"]))
                write(path, render("nginx_server.conf.j2", **opts))
                includes += f"    include {path};\n"
            body += ("  server {\n    listen 127.0.0.1:%d;\n%s    location / {\n"
                     "      proxy_pass http://127.0.0.1:%d;\n      proxy_set_header Host $http_host;\n"
                     "    }\n  }\n" % (port, includes, ECHO_PORT))
        elif server == "apache":
            includes = ""
            for opts in [inst[1] for inst in instances]:
                path = os.path.join(snip_d, "{}.conf".format(opts["embed_proxy_name"]))
                write(path, render("apache_snippet.conf.j2", **opts))
                includes += f"    Include {path}\n"
            body += ("Listen 127.0.0.1:%d\n<VirtualHost 127.0.0.1:%d>\n%s"
                     "    ProxyPass / http://127.0.0.1:%d/\n    ProxyPreserveHost On\n</VirtualHost>\n"
                     % (port, port, includes, ECHO_PORT))
        else:
            fe = "fe_%d" % port
            cfg = ("defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n"
                   "    timeout server 30s\n\nfrontend %s\n    bind 127.0.0.1:%d\n    default_backend be_%d\n\n"
                   "backend be_%d\n    server echo 127.0.0.1:%d\n" % (fe, port, port, port, ECHO_PORT))
            for opts in [inst[1] for inst in instances]:
                cfg = haproxy_insert(cfg, fe, opts["embed_proxy_name"], render("haproxy_rules.j2", **opts))
            write(os.path.join(conf_d, "user_%d.cfg" % port), cfg)
    srv.write_main(body)
    return srv, ports


@pytest.fixture(scope="module")
def stack(tmp_path_factory, pki):
    with open("/tmp/trustops-embed-proxy-ports-%d.lock" % SLOT, "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _stack(tmp_path_factory, pki)


def _stack(tmp_path_factory, pki):
    root = tmp_path_factory.mktemp("embed_proxy")
    pki_dir = str(root / "pki")
    os.makedirs(pki_dir)
    ca = pki.root(cn="embed_proxy test root")
    leaf = pki.leaf(ca, cn=HOST, dns=(HOST,), ips=("127.0.0.1",))
    write(os.path.join(pki_dir, "root.pem"), ca.pem.decode())
    write(os.path.join(pki_dir, "fullchain.pem"), leaf.pem.decode())
    for name in ("leaf.key", "fullchain.pem.key"):
        write(os.path.join(pki_dir, name), leaf.key_pem("pkcs8").decode())
    echo = Echo(ECHO_PORT)
    servers = {}
    try:
        for kind in SERVERS:
            srv, ports = build(kind, str(root / kind), pki_dir)
            result = srv.check()
            assert result.returncode == 0, f"{kind} rejected the rendered configuration:\n{result.stdout}{result.stderr}"
            srv.start(ports)
            servers[kind] = srv
        yield {"servers": servers, "tls": tls_context(os.path.join(pki_dir, "root.pem")), "pki": pki_dir,
               "root": str(root)}
    finally:
        for srv in servers.values():
            srv.stop()
        echo.stop()


def site(stack, server, variant, target, **kw):
    return request(BASE[server] + VARIANTS[variant][0], target, tls=stack["tls"], **kw)


# ----------------------------------------------------------------------------- the table
TABLE = [
    # (what, method, target, headers, source, expected status, "blocked" | "upstream")
    ("the UI at /", "GET", "/", None, None, 403, "blocked"),
    ("/ with a query", "GET", "/?a=b", None, None, 403, "blocked"),
    ("an embedded view", "GET", "/views/Book/Sheet?:embed=y", None, None, 200, "upstream"),
    ("a trusted ticket redemption", "GET", "/trusted/TICKET/views/Book/Sheet", None, None, 200, "upstream"),
    ("the SAML assertion consumer", "POST", "/wg/saml/SSO/index.html", None, None, 200, "upstream"),
    ("the session API", "GET", "/vizportal/api/web/v1/getSessionInfo", None, None, 200, "upstream"),
    ("/ from the exempt network", "GET", "/", None, "127.0.0.2", 200, "upstream"),
    ("/ with the exempt header", "GET", "/", {"X-Trustops-Internal": "corp-lan.1(a)"}, None, 200, "upstream"),
    ("/ with the exempt header name in lower case", "GET", "/", {"x-trustops-internal": "corp-lan.1(a)"}, None,
     200, "upstream"),
    ("/ with the exempt header in the wrong case", "GET", "/", {"X-Trustops-Internal": "CORP-LAN.1(a)"}, None,
     403, "blocked"),
    ("/ with another header value", "GET", "/", {"X-Trustops-Internal": "corp-lan.1(b)"}, None, 403, "blocked"),
    ("an extra path", "GET", "/Extra.Page(1)", None, None, 403, "blocked"),
    ("an extra path with a query", "GET", "/Extra.Page(1)?x=1", None, None, 403, "blocked"),
    ("an extra path in other case", "GET", "/extra.page(1)", None, None, 200, "upstream"),
    ("an extra path with . as a literal", "GET", "/ExtraXPage(1)", None, None, 200, "upstream"),
    ("an extra path with a trailing slash added", "GET", "/Extra.Page(1)/", None, None, 200, "upstream"),
    ("an extra path with a trailing slash", "GET", "/dir/", None, None, 403, "blocked"),
    ("an extra path without its trailing slash", "GET", "/dir", None, None, 200, "upstream"),
    ("an extra path from the exempt network", "GET", "/Extra.Page(1)", None, "127.0.0.2", 200, "upstream"),
    ("a HEAD of the UI", "HEAD", "/", None, None, 403, "blocked"),
    ("a POST to the UI", "POST", "/", None, None, 403, "blocked"),
]
SAML_FORM = "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=%2Fviews%2FBook%2FSheet"


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("mode", ["site", "snippet"])
@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_request_table(stack, server, mode, row):
    what, method, target, headers, source, status, outcome = row
    body = SAML_FORM if method == "POST" else None
    if mode == "site":
        got_status, got_headers, got_body = site(stack, server, "main", target, method=method, headers=headers,
                                                 body=body, source=source)
    else:
        got_status, got_headers, got_body = request(BASE[server] + SNIPPET_OFFSET, target, method=method,
                                                    headers=headers, body=body, source=source)
    assert got_status == status, f"{server} {what}: {got_status} {got_body[:200]!r}"
    if outcome == "blocked":
        assert got_headers.get("content-type", "").startswith("text/html"), got_headers
        assert "x-echo-upstream" not in got_headers
        if method != "HEAD":
            assert got_body.decode("ascii") == BODY
    else:
        assert got_headers.get("x-echo-upstream") == "1"
        seen = upstream_saw(got_body)
        assert seen["method"] == method
        assert seen["path"] == target.split("?")[0]
        assert seen["target"] == target
        if body is not None:
            assert seen["body_length"] == len(body)


@pytest.mark.parametrize("server", SERVERS)
def test_site_forwarding_headers(stack, server):
    """SSL off-loading (seed 002): Tableau must see https, the client and the host it asked for,
    whatever the client claims itself."""
    port = BASE[server] + VARIANTS["main"][0]
    claims = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}
    status, dummy, body = site(stack, server, "main", "/views/Book/Sheet?:embed=y", headers=claims,
                               host="%s:%d" % (HOST, port))
    assert status == 200
    seen = upstream_saw(body)["header_map"]
    assert seen["x-forwarded-proto"] == ["https"]
    assert seen["host"] == ["%s:%d" % (HOST, port)]
    assert seen["x-forwarded-host"] == ["%s:%d" % (HOST, port)]
    assert "127.0.0.1" in ", ".join(seen["x-forwarded-for"]).replace(" ", "").split(",")


# ------------------------------------------------------------------- normalised paths and queries
# (target, nginx, apache, haproxy): the servers agree except where their own URL handling
# differs before any rule runs (documented in docs/embed_proxy.md).
NORMALISED = [
    ("//", 403, 403, 403),
    ("/./", 403, 403, 403),
    ("/.", 403, 403, 403),
    ("/%2e/", 403, 403, 403),
    ("/%2E", 403, 403, 403),
    ("///?a=b", 403, 403, 403),
    ("/a/../", 403, 403, 400),       # HAProxy refuses ".." segments (browsers never send them)
    ("/..", 400, 400, 400),
    ("/%2F", 403, 404, 403),         # Apache refuses encoded slashes (AllowEncodedSlashes Off)
    ("//Extra.Page(1)", 403, 403, 403),
    ("/./Extra.Page(1)", 403, 403, 403),
    ("/%45xtra.Page%281%29", 403, 403, 403),
    ("/Extra.Page(1)/.", 200, 200, 200),
    ("/dir/.", 403, 403, 403),
    ("/dir//", 403, 403, 403),
    ("/views/../views/Book", 200, 200, 400),
    ("/views//Book", 200, 200, 200),
]


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("row", NORMALISED, ids=[r[0] for r in NORMALISED])
def test_normalised_paths(stack, server, row):
    target = row[0]
    expected = row[1 + SERVERS.index(server)]
    status, dummy, body = site(stack, server, "main", target)
    assert status == expected, f"{server} {target} -> {status} {body[:120]!r}"
    if expected == 403:
        assert body.decode("ascii") == BODY


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("target,status", [("/", 404), ("/?", 404), ("/?a=b", 200), ("/?:embed=y", 200),
                                           ("/Extra.Page(1)?x", 200), ("/Extra.Page(1)", 404)])
def test_query_does_not_count(stack, server, target, status):
    """embed_proxy_block_with_query=false: only an empty query string is blocked."""
    got, headers, body = site(stack, server, "noquery", target)
    assert got == status, (server, target, body[:120])
    if status == 200:
        assert upstream_saw(body)["target"] == target


@pytest.mark.parametrize("server", SERVERS)
def test_redirect(stack, server):
    status, headers, dummy = site(stack, server, "redirect", "/?a=b")
    assert status == 302
    assert headers["location"] == REDIRECT
    status, dummy, body = site(stack, server, "redirect", "/views/Book/Sheet")
    assert status == 200 and upstream_saw(body)["target"] == "/views/Book/Sheet"


@pytest.mark.parametrize("server", SERVERS)
def test_bodies_statuses_and_redirects_are_exact(stack, server):
    """~110 role instances on one port: each body comes back byte for byte, each status and
    redirect target as configured, and neighbouring rules do not interfere."""
    wrong = []
    for name, _dummy, path, status, expected in multi_instances():
        got, headers, body = request(BASE[server] + MULTI_OFFSET, path)
        if name.startswith("r"):
            actual = headers.get("location")
        else:
            actual = body.decode("latin-1")
        if got != status or actual != expected:
            wrong.append((name, status, expected, got, actual))
    assert not wrong, "{} answered differently:\n{}".format(server, "\n".join(repr(w) for w in wrong))
    got, dummy, body = request(BASE[server] + MULTI_OFFSET, "/")
    assert got == 200 and upstream_saw(body)["target"] == "/"


@pytest.mark.parametrize("server", SERVERS)
def test_repeated_exempt_header(stack, server):
    """Documented difference: with the header sent twice, nginx and HAProxy read the first
    occurrence, Apache all of them joined (docs/embed_proxy.md says: send it once)."""
    good, other = EXEMPT_HEADER["value"], "other"
    expected = {"nginx": (200, 403), "apache": (403, 403), "haproxy": (200, 403)}[server]
    got = []
    for first, second in ((good, other), (other, good)):
        conn = http.client.HTTPConnection("127.0.0.1", BASE[server] + SNIPPET_OFFSET, timeout=10)
        try:
            conn.putrequest("GET", "/", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", HOST)
            conn.putheader(EXEMPT_HEADER["name"], first)
            conn.putheader(EXEMPT_HEADER["name"], second)
            conn.endheaders()
            resp = conn.getresponse()
            resp.read()
            got.append(resp.status)
        finally:
            conn.close()
    assert tuple(got) == expected
