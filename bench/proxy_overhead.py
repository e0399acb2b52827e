# -*- coding: utf-8 -*-
"""What the embed_proxy rule costs: requests per second through each proxy with and without it.

For nginx, Apache httpd and HAProxy (Debian's, started privately on loopback ports 19080-19099)
the role's site template is rendered twice in the same server process: once with the rule (block
/ and one extra path, an exempt network and an exempt header, as in the molecule scenario) and
once without any rule (the naive baseline: the same TLS reverse proxy, nothing blocked). ``ab``
(ApacheBench, from apache2-utils) then sends keep-alive HTTPS requests for an embedded view, which
every proxy evaluates against the rule and forwards, to a fast upstream (nginx answering 200), so
the proxy is what is measured. Runs alternate (with, without, without, with, ...) and the figures
are medians over the rounds; the spread shows how noisy this machine is.

``--haproxy-variants`` compares rule forms in one HAProxy process; with ``--copies N`` (N > 1) it also
prints each form's overhead divided by N (one copy's cost, with a tenth of the noise at N = 10)
against the 2% target; ``--pin`` keeps the proxies on CPU 1 and ab and the upstream on CPU 0.

Usage: PYTHONPATH=<collections root> python bench/proxy_overhead.py [--rounds N] [--requests N]
       [--concurrency N] [--servers nginx,apache,haproxy] [--pin]
       [--haproxy-variants [--forms role,before,...] [--copies N]]
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import jinja2
import yaml
from ansible.plugins.filter.core import FilterModule
from ansible.plugins.test.core import TestModule
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "roles", "embed_proxy")
HOST = "tableau.example.test"
UPSTREAM = 19080
PORTS = {"nginx": (19081, 19082), "apache": (19083, 19084), "haproxy": (19085, 19086)}
TARGET = "/views/Book/Sheet?:embed=y"
RULE = {
    "embed_proxy_body": "The Tableau Server UI is not available here.",
    "embed_proxy_exempt_networks": ["10.0.0.0/8", "192.168.0.0/16"],
    "embed_proxy_exempt_headers": [{"name": "X-Trustops-Internal", "value": "corp-lan"}],
    "embed_proxy_extra_paths": ["/blocked/exact"],
}
NO_RULE = {"embed_proxy_block_root": False, "embed_proxy_extra_paths": []}

# --haproxy-variants: forms of the same rule (RULE's options) measured side by side in one HAProxy
# process. "{n}" is the ACL prefix; "role" is what the role's templates render now. The embedded
# view the benchmark requests is forwarded by every form, so what is measured is what each form
# costs a request that passes - nearly every request a Tableau proxy sees.
_BODY = "'The Tableau Server UI is not available here.'"
_EXEMPT = ["acl {n}_exempt_net src 10.0.0.0/8 192.168.0.0/16",
           "acl {n}_exempt_h0 req.fhdr(X-Trustops-Internal,1) -m str 'corp-lan'"]
_DOTDOT = "http-request deny deny_status 400 if { path,url_dec -m reg '(^|/)\\.\\.(/|$)' }"
_RE_ROOT = "'^/(?:/|\\./)*\\.?$'"
_RE_EXTRA = "'^/(?:/|\\./)*blocked/(?:/|\\./)*exact$'"
_RETURN = "http-request return status 403 content-type text/html string " + _BODY + " if "
HAPROXY_VARIANTS = {
    # the form the role rendered before issue 16: a regex per blocked path on the decoded path,
    # and the ".." refusal, each with its own path fetch, url_dec and pattern match
    "before": ["# the role's form before issue 16", _DOTDOT,
               "acl {n}_path path,url_dec -m reg " + _RE_ROOT,
               "acl {n}_path path,url_dec -m reg " + _RE_EXTRA, *_EXEMPT,
               _RETURN + "{n}_path !{n}_exempt_net !{n}_exempt_h0"],
    # the seed's rule taken literally: exact match on the raw path, no normalisation, no ".."
    "exact": ["acl {n}_path path / /blocked/exact", *_EXEMPT,
              _RETURN + "{n}_path !{n}_exempt_net !{n}_exempt_h0"],
    "exact-bare": [_RETURN + "{ path / /blocked/exact }"],
    # one piece of "before" at a time
    "dotdot-only": [_DOTDOT],
    "regex-only": ["acl {n}_path path,url_dec -m reg " + _RE_ROOT,
                   "acl {n}_path path,url_dec -m reg " + _RE_EXTRA, *_EXEMPT,
                   _RETURN + "{n}_path !{n}_exempt_net !{n}_exempt_h0"],
    "regex-raw": [_DOTDOT.replace("path,url_dec", "path"),
                  "acl {n}_path path -m reg " + _RE_ROOT,
                  "acl {n}_path path -m reg " + _RE_EXTRA, *_EXEMPT,
                  _RETURN + "{n}_path !{n}_exempt_net !{n}_exempt_h0"],
    "one-regex": [_DOTDOT, "acl {n}_path path,url_dec -m reg '^/(?:/|\\./)*(?:\\.?|blocked/(?:/|\\./)*exact)$'",
                  *_EXEMPT, _RETURN + "{n}_path !{n}_exempt_net !{n}_exempt_h0"],
    # order: the exemptions first, so their fetches run on every request
    "exempt-first": [_DOTDOT, "acl {n}_path path,url_dec -m reg " + _RE_ROOT,
                     "acl {n}_path path,url_dec -m reg " + _RE_EXTRA, *_EXEMPT,
                     _RETURN + "!{n}_exempt_h0 !{n}_exempt_net {n}_path"],
    # the action: deny (HAProxy's own 403 page) instead of return with a body
    "deny": [_DOTDOT, "acl {n}_path path,url_dec -m reg " + _RE_ROOT,
             "acl {n}_path path,url_dec -m reg " + _RE_EXTRA, *_EXEMPT,
             "http-request deny deny_status 403 if {n}_path !{n}_exempt_net !{n}_exempt_h0"],
    # a gate on the raw path: only a path that is a blocked path as it stands, or that has "%",
    # "//" or "/." in it, can decode and normalise to a blocked path or hold a ".." segment
    "gate-sub": ["acl {n}_odd path -m sub % // /.",
                 "acl {n}_exact path / /blocked/exact",
                 "http-request deny deny_status 400 if {n}_odd { path,url_dec -m reg '(^|/)\\.\\.(/|$)' }",
                 "acl {n}_path path,url_dec -m reg " + _RE_ROOT,
                 "acl {n}_path path,url_dec -m reg " + _RE_EXTRA, *_EXEMPT,
                 _RETURN + "{n}_exact !{n}_exempt_net !{n}_exempt_h0 || {n}_odd {n}_path !{n}_exempt_net !{n}_exempt_h0"],
    # the cost of an http-request rule with nothing to fetch
    "rule-false": [_RETURN + "FALSE"],
    # ".." answered like a blocked path (403 unless exempt) instead of 400: one rule, one gate
    "merged-403": ["acl {n}_cand path -m reg '%|//|/\\.|^/$|^/blocked/exact$'",
                   "acl {n}_path path,url_dec -m reg " + _RE_ROOT,
                   "acl {n}_path path,url_dec -m reg " + _RE_EXTRA,
                   "acl {n}_path path,url_dec -m reg '(^|/)\\.\\.(/|$)'", *_EXEMPT,
                   _RETURN + "{n}_cand {n}_path !{n}_exempt_net !{n}_exempt_h0"],
    "gate-reg": ["acl {n}_cand path -m reg '%|//|/\\.|^/$|^/blocked/exact$'",
                 "http-request deny deny_status 400 if {n}_cand { path,url_dec -m reg '(^|/)\\.\\.(/|$)' }",
                 "acl {n}_path path,url_dec -m reg " + _RE_ROOT,
                 "acl {n}_path path,url_dec -m reg " + _RE_EXTRA, *_EXEMPT,
                 _RETURN + "{n}_cand {n}_path !{n}_exempt_net !{n}_exempt_h0"],
}


def renderer():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")), trim_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters.update({k: v for k, v in FilterModule().filters().items() if k not in env.filters})
    env.tests.update({k: v for k, v in TestModule().tests().items() if k not in env.tests})
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)

    def render(template, **variables):
        context = dict(defaults)
        context.update(variables)
        return env.get_template(template).render(**context)
    return render


def make_pki(work):
    """A self-signed EC certificate for the proxies (the client does not verify: ab -k)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    crt = os.path.join(work, "proxy.crt")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with open(crt, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    for path in (os.path.join(work, "proxy.key"), crt + ".key"):
        with open(path, "wb") as handle:
            handle.write(key_pem)
    return crt, os.path.join(work, "proxy.key")


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def site(render, server, port, options, crt, key):
    tpl = {"nginx": "nginx_site.conf.j2", "apache": "apache_site.conf.j2", "haproxy": "haproxy_site.cfg.j2"}[server]
    variables = dict(options, embed_proxy_server=server, embed_proxy_mode="site",
                     embed_proxy_name="bench_%d" % port, embed_proxy_listen_address="127.0.0.1",
                     embed_proxy_listen_port=port, embed_proxy_server_name=HOST,
                     embed_proxy_upstream_host="127.0.0.1", embed_proxy_upstream_port=UPSTREAM,
                     embed_proxy_tls_certificate=crt, embed_proxy_haproxy_global=[])
    if server != "haproxy":
        variables["embed_proxy_tls_key"] = key
    return render(tpl, **variables)


def free_ports(count):
    """``count`` loopback ports that nothing listens on now (the kernel's choice)."""
    socks = [socket.socket() for dummy in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def wait_port(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nothing listens on port %d" % port)
            time.sleep(0.02)


def wait_gone(pid, timeout=20.0):
    """Until ``pid`` has exited (a zombie waiting for init to reap it counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.02)


def read_pid(path, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, encoding="ascii") as handle:
                text = handle.read().strip()
            if text:
                return int(text.split()[0])
        time.sleep(0.02)
    raise RuntimeError(f"no pid in {path}")


def start_upstream(work):
    ngx = os.path.join(work, "upstream")
    os.makedirs(os.path.join(ngx, "tmp"))
    write(os.path.join(ngx, "nginx.conf"),
          "pid %s/nginx.pid;\nerror_log %s/error.log;\nworker_processes 1;\nevents { worker_connections 1024; }\n"
          "http {\n access_log off;\n client_body_temp_path %s/tmp;\n"
          " server { listen 127.0.0.1:%d; keepalive_requests 100000; location / { return 200 \"ok\"; } }\n}\n"
          % (ngx, ngx, ngx, UPSTREAM))
    subprocess.run(["nginx", "-c", os.path.join(ngx, "nginx.conf"), "-p", ngx], check=True)
    return read_pid(os.path.join(ngx, "nginx.pid"))


def start_proxy(work, render, server, port, options, crt, key):
    """One private instance of nginx or Apache serving the rendered site on ``port``; its pid."""
    d = os.path.join(work, "%s-%d" % (server, port))
    os.makedirs(os.path.join(d, "tmp"))
    text = site(render, server, port, options, crt, key)
    if server == "nginx":
        write(os.path.join(d, "nginx.conf"),
              f"pid {d}/nginx.pid;\nerror_log {d}/error.log;\nworker_processes 1;\nevents {{ worker_connections 1024; }}\n"
              f"http {{\n access_log off;\n client_body_temp_path {d}/tmp;\n proxy_temp_path {d}/tmp;\n{text}}}\n")
        subprocess.run(["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d], check=True)
        pidfile = os.path.join(d, "nginx.pid")
    else:
        mods = ["mpm_event", "authz_core", "alias", "proxy", "proxy_http", "headers", "ssl"]
        conf = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n" for m in mods)
        conf += (f"ServerRoot {d}\nServerName localhost\nPidFile {d}/apache2.pid\nMutex file:{d} default\n"
                 f"ErrorLog {d}/error.log\nDefaultRuntimeDir {d}\nUser www-data\nGroup www-data\n"
                 f"MaxKeepAliveRequests 0\nStartServers 1\nServerLimit 1\nThreadsPerChild 32\nMaxRequestWorkers 32\n{text}")
        write(os.path.join(d, "apache2.conf"), conf)
        subprocess.run(["apache2", "-k", "start", "-f", os.path.join(d, "apache2.conf"), "-d", d], check=True)
        pidfile = os.path.join(d, "apache2.pid")
    pid = read_pid(pidfile)
    wait_port(port)
    return pid


def haproxy_rule(render, form, name, copies=1):
    """The frontend lines of one rule form (``copies`` times, each with its own ACL names):
    "none", "role" (what the role's templates render) or a HAPROXY_VARIANTS name."""
    out = []
    for i in range(copies if form != "none" else 0):
        n = "%s_c%d" % (name, i)
        if form == "role":
            out.append(render("haproxy_rules.j2", **dict(RULE, embed_proxy_server="haproxy", embed_proxy_name=n)))
        else:
            out.append("".join("    %s\n" % line.replace("{n}", n) for line in HAPROXY_VARIANTS[form]))
    return "".join(out)


def start_haproxy(work, render, frontends, crt, key, copies=1):
    """ONE HAProxy process (one thread) with a frontend per (port, form): every form runs in the
    same process, memory layout and TLS context, so the CPU the process spends while one port is
    loaded (nothing else is) is that form's. Returns the pid."""
    d = os.path.join(work, "haproxy")
    os.makedirs(d)
    text = "global\n    nbthread 1\n"
    anchor = "    http-request set-header X-Forwarded-Proto https\n"
    for port, form in frontends:
        cfg = site(render, "haproxy", port, NO_RULE, crt, key)
        if anchor not in cfg:
            raise RuntimeError("the HAProxy site template has no X-Forwarded-Proto line to put the rule after")
        text += cfg.replace(anchor, anchor + haproxy_rule(render, form, "bench_%d" % port, copies), 1)
    write(os.path.join(d, "haproxy.cfg"), text)
    pidfile = os.path.join(d, "haproxy.pid")
    subprocess.run(["haproxy", "-D", "-p", pidfile, "-f", os.path.join(d, "haproxy.cfg")], check=True)
    pid = read_pid(pidfile)
    for port in dict(frontends):
        wait_port(port)
    return pid


def pin(pid, cpus):
    """Bind every thread of ``pid`` and of its child processes to ``cpus``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            if int(entry) in (pid,) or ppid == pid:
                for task in os.listdir(f"/proc/{entry}/task"):
                    os.sched_setaffinity(int(task), cpus)
        except (FileNotFoundError, ProcessLookupError):
            continue


def cpu_ns(pid):
    """CPU time (ns, from the scheduler: /proc/*/task/*/schedstat) of ``pid``, its threads and its
    child processes, threads included. Nanosecond resolution, unlike utime/stime ticks."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            if int(entry) != pid and ppid != pid:
                continue
            for task in os.listdir(f"/proc/{entry}/task"):
                with open(f"/proc/{entry}/task/{task}/schedstat", encoding="ascii") as handle:
                    total += int(handle.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


AB_CPUS = []   # --pin: the CPUs ab runs on


def ab(port, requests, concurrency, path=TARGET):
    out = subprocess.run(["ab", "-q", "-k", "-c", str(concurrency), "-n", str(requests),
                          "https://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, timeout=600, check=True,
                         preexec_fn=(lambda: os.sched_setaffinity(0, AB_CPUS)) if AB_CPUS else None).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return rps, failed, int(non2xx.group(1)) if non2xx else 0


def check_rule(ports_with, ports_without):
    """The rule is really there (and only there): ab sees non-2xx answers for / only with it."""
    for port in ports_with + ports_without:
        got = ab(port, 50, 1, "/")[2]
        if got != (50 if port in ports_with else 0):
            raise RuntimeError("rule check failed on port %d: %d/50 non-2xx for /" % (port, got))


def summary(values):
    if len(values) < 2:
        return f"{values[0]:+.1f}% (1 round)"
    q = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):+.1f}% [{q[0]:+.1f}, {q[2]:+.1f}]"


def measure(label, pids, args):
    """Rounds of one ab run per port (``pids``: port -> pid of the process serving it), in an
    order that rotates every round and reverses every other one. Returns (r/s, CPU us/request)
    lists per port, one value per round."""
    ports = list(pids)
    for port in ports:                                      # warm-up, not counted
        ab(port, args.requests, args.concurrency)
    rps = {port: [] for port in ports}
    cpu = {port: [] for port in ports}
    for rnd in range(args.rounds):
        order = ports[rnd % len(ports):] + ports[:rnd % len(ports)]
        for port in (order if rnd % 2 == 0 else order[::-1]):
            before = cpu_ns(pids[port])
            got, failed, non2xx = ab(port, args.requests, args.concurrency)
            used = cpu_ns(pids[port]) - before
            if failed or non2xx:
                raise RuntimeError("%s:%d: %d failed, %d non-2xx" % (label, port, failed, non2xx))
            rps[port].append(got)
            cpu[port].append(used / 1e3 / args.requests)
    return rps, cpu


def overheads(rps, cpu, port, base):
    """Per round: r/s overhead (base - port) / base and CPU overhead (port - base) / base, in %."""
    return ([(n - w) / n * 100.0 for w, n in zip(rps[port], rps[base], strict=True)],
            [(w - n) / n * 100.0 for w, n in zip(cpu[port], cpu[base], strict=True)])


HEAD = "%-14s %10s %10s %20s | %9s %9s %20s"


def compare_servers(args, work, render, crt, key, pids):
    """The role's rule against no rule on each server (the default run)."""
    print(HEAD % ("server", "rule r/s", "none r/s", "r/s overhead", "rule CPU", "none CPU", "CPU overhead"))
    print(HEAD % ("", "median", "median", "median [p25, p75]", "us/req", "us/req", "median [p25, p75]"))
    for server in args.servers:
        p_with, p_without = PORTS[server]
        if server == "haproxy":
            pid = start_haproxy(work, render, [(p_with, "role"), (p_without, "none")], crt, key)
            pids.append(pid)
            served = {p_with: pid, p_without: pid}
        else:
            served = {p_with: start_proxy(work, render, server, p_with, RULE, crt, key),
                      p_without: start_proxy(work, render, server, p_without, NO_RULE, crt, key)}
            pids.extend(served.values())
        if args.pin:
            for pid in set(served.values()):
                pin(pid, {1})
        check_rule([p_with], [p_without])
        rps, cpu = measure(server, served, args)
        rps_over, cpu_over = overheads(rps, cpu, p_with, p_without)
        print(HEAD % (server, "%.0f" % statistics.median(rps[p_with]), "%.0f" % statistics.median(rps[p_without]),
                      summary(rps_over), "%.2f" % statistics.median(cpu[p_with]),
                      "%.2f" % statistics.median(cpu[p_without]), summary(cpu_over)))


def compare_haproxy_forms(args, work, render, crt, key, pids):
    """Every HAProxy rule form (and a second rule-less frontend: the noise floor) against the
    rule-less frontend, all in one HAProxy process, each round running every frontend once."""
    forms = ["none", "none-again"] + (args.forms.split(",") if args.forms else ["role"] + list(HAPROXY_VARIANTS))
    frontends = list(zip(free_ports(len(forms)), forms, strict=True))
    pid = start_haproxy(work, render, [(port, "none" if form == "none-again" else form)
                                       for port, form in frontends], crt, key, args.copies)
    pids.append(pid)
    if args.pin:
        pin(pid, {1})
    passing = ("none", "none-again", "dotdot-only", "rule-false")     # forms that do not block /
    check_rule([port for port, form in frontends if form not in passing],
               [port for port, form in frontends if form in passing])
    rps, cpu = measure("haproxy", dict.fromkeys(dict(frontends), pid), args)
    base = frontends[0][0]
    note = "" if args.copies == 1 else "; 'per copy' = CPU overhead / copies"
    print("%d cop%s of each form per frontend%s" % (args.copies, "y" if args.copies == 1 else "ies", note))
    print(HEAD % ("form", "r/s", "", "r/s overhead", "CPU", "per copy", "CPU overhead"))
    print(HEAD % ("", "median", "", "median [p25, p75]", "us/req", "us/req", "median [p25, p75]"))
    per_copy = {}
    for port, form in frontends:
        rps_over, cpu_over = overheads(rps, cpu, port, base)
        extra = (statistics.median(cpu[port]) - statistics.median(cpu[base])) / args.copies
        print(HEAD % (form, "%.0f" % statistics.median(rps[port]), "", summary(rps_over),
                      "%.2f" % statistics.median(cpu[port]), "%+.3f" % extra, summary(cpu_over)))
        per_copy[form] = [value / args.copies for value in cpu_over]
    if args.copies > 1 and args.rounds > 1:
        # N copies of a form cost N times one copy (every copy's ACLs run for every request that
        # passes); the noise of the run does not grow with N, so dividing by N resolves one copy.
        print("\nCPU overhead of ONE copy (each round's overhead / %d), against the target (< 2%%, both quartiles):" % args.copies)
        for form, values in per_copy.items():
            if form == "none":
                continue
            upper = statistics.quantiles(values, n=4)[2]
            verdict = "(noise floor)" if form == "none-again" else ("met" if upper < 2.0 else "NOT met")
            print("  %-14s %s  %s" % (form, summary(values), verdict))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds (each: one run of every variant)")
    parser.add_argument("--requests", type=int, default=5000, help="requests per ab run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--servers", default="nginx,apache,haproxy", help="comma-separated subset")
    parser.add_argument("--haproxy-variants", action="store_true",
                        help="compare the HAProxy rule forms of HAPROXY_VARIANTS instead (one HAProxy process)")
    parser.add_argument("--copies", type=int, default=1,
                        help="with --haproxy-variants: each form this many times per frontend (magnifies its cost)")
    parser.add_argument("--forms", default="",
                        help="with --haproxy-variants: only these forms (comma-separated: role and HAPROXY_VARIANTS names)")
    parser.add_argument("--pin", action="store_true", help="proxies on CPU 1, ab and the upstream on CPU 0")
    args = parser.parse_args(argv)
    args.servers = ["haproxy"] if args.haproxy_variants else args.servers.split(",")
    for tool in [{"apache": "apache2"}.get(s, s) for s in args.servers] + ["nginx", "ab"]:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (Debian packages nginx-light, apache2, haproxy, apache2-utils)")
    if args.pin:
        AB_CPUS[:] = [0]

    work = tempfile.mkdtemp(prefix="trustops-bench-proxy-")
    pids = []
    try:
        crt, key = make_pki(work)
        render = renderer()
        pids.append(start_upstream(work))
        if args.pin:
            pin(pids[0], {0})
        wait_port(UPSTREAM)
        print("embed_proxy rule overhead: %d rounds x %d keep-alive HTTPS requests (ab -c %d) per variant,"
              " GET %s -> upstream nginx 200" % (args.rounds, args.requests, args.concurrency, TARGET))
        print("nginx and Apache: each variant its own server process (one worker / one child); HAProxy: one process,"
              " one thread, a frontend per variant; CPUs: %d%s; load average %.1f\n"
              % (os.cpu_count(), " (proxies pinned to CPU 1, ab and upstream to CPU 0)" if args.pin
                 else ", shared by the client, the proxies and the upstream", os.getloadavg()[0]))
        if args.haproxy_variants:
            compare_haproxy_forms(args, work, render, crt, key, pids)
        else:
            compare_servers(args, work, render, crt, key, pids)
        print("\nr/s overhead = (none - rule) / none; CPU overhead = (rule - none) / none, CPU time of the proxy's"
              " processes per request;\nboth per round (each round runs every variant once, order rotating),"
              " then the median and quartiles over the rounds. Target: < 2%%. Load average at the end: %.1f"
              % os.getloadavg()[0])
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            wait_gone(pid)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
