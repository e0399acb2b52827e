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

Usage: PYTHONPATH=<collections root> python bench/proxy_overhead.py [--rounds N] [--requests N]
       [--concurrency N]
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
    """One private instance of ``server`` serving the rendered site on ``port``; its pid."""
    d = os.path.join(work, "%s-%d" % (server, port))
    os.makedirs(os.path.join(d, "tmp"))
    text = site(render, server, port, options, crt, key)
    if server == "nginx":
        write(os.path.join(d, "nginx.conf"),
              f"pid {d}/nginx.pid;\nerror_log {d}/error.log;\nworker_processes 1;\nevents {{ worker_connections 1024; }}\n"
              f"http {{\n access_log off;\n client_body_temp_path {d}/tmp;\n proxy_temp_path {d}/tmp;\n{text}}}\n")
        subprocess.run(["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d], check=True)
        pidfile = os.path.join(d, "nginx.pid")
    elif server == "apache":
        mods = ["mpm_event", "authz_core", "alias", "proxy", "proxy_http", "headers", "ssl"]
        conf = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n" for m in mods)
        conf += (f"ServerRoot {d}\nServerName localhost\nPidFile {d}/apache2.pid\nMutex file:{d} default\n"
                 f"ErrorLog {d}/error.log\nDefaultRuntimeDir {d}\nUser www-data\nGroup www-data\n"
                 f"MaxKeepAliveRequests 0\nStartServers 1\nServerLimit 1\nThreadsPerChild 32\nMaxRequestWorkers 32\n{text}")
        write(os.path.join(d, "apache2.conf"), conf)
        subprocess.run(["apache2", "-k", "start", "-f", os.path.join(d, "apache2.conf"), "-d", d], check=True)
        pidfile = os.path.join(d, "apache2.pid")
    else:
        write(os.path.join(d, "global.cfg"), "global\n    nbthread 1\n")
        write(os.path.join(d, "site.cfg"), text)
        pidfile = os.path.join(d, "haproxy.pid")
        subprocess.run(["haproxy", "-D", "-p", pidfile, "-f", os.path.join(d, "global.cfg"),
                        "-f", os.path.join(d, "site.cfg")], check=True)
    pid = read_pid(pidfile)
    wait_port(port)
    return pid


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


def ab(port, requests, concurrency, path=TARGET):
    out = subprocess.run(["ab", "-q", "-k", "-c", str(concurrency), "-n", str(requests),
                          "https://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return rps, failed, int(non2xx.group(1)) if non2xx else 0


def check_rule(port_with, port_without):
    """The rule is really there (and only there): ab sees non-2xx answers for / only with it."""
    blocked = ab(port_with, 50, 1, "/")[2]
    passed = ab(port_without, 50, 1, "/")[2]
    if blocked != 50 or passed != 0:
        raise RuntimeError("rule check failed on %d/%d: %d/%d non-2xx" % (port_with, port_without, blocked, passed))


def summary(values):
    q = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):+.1f}% [{q[0]:+.1f}, {q[2]:+.1f}]"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per server (each: both variants)")
    parser.add_argument("--requests", type=int, default=5000, help="requests per ab run")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    for tool in ("nginx", "apache2", "haproxy", "ab"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (Debian packages nginx-light, apache2, haproxy, apache2-utils)")

    work = tempfile.mkdtemp(prefix="trustops-bench-proxy-")
    pids = []
    try:
        crt, key = make_pki(work)
        render = renderer()
        pids.append(start_upstream(work))
        proxies = {}
        for server, (p_with, p_without) in PORTS.items():
            for port, options in ((p_with, RULE), (p_without, NO_RULE)):
                proxies[port] = start_proxy(work, render, server, port, options, crt, key)
                pids.append(proxies[port])
        wait_port(UPSTREAM)
        print("embed_proxy rule overhead: %d rounds x %d keep-alive HTTPS requests (ab -c %d) per variant,"
              " GET %s -> upstream nginx 200" % (args.rounds, args.requests, args.concurrency, TARGET))
        print("each variant is its own server process (one nginx worker / one Apache child / one HAProxy thread);"
              " CPUs: %d, shared by the client, the proxies and the upstream; load average %.1f\n"
              % (os.cpu_count(), os.getloadavg()[0]))
        print("%-8s %10s %10s %18s | %9s %9s %18s" % (
            "server", "rule r/s", "none r/s", "r/s overhead", "rule CPU", "none CPU", "CPU overhead"))
        print("%-8s %10s %10s %18s | %9s %9s %18s" % ("", "median", "median", "median [p25, p75]",
                                                      "us/req", "us/req", "median [p25, p75]"))
        for server, (p_with, p_without) in PORTS.items():
            check_rule(p_with, p_without)
            ab(p_with, args.requests, args.concurrency)      # warm-up, not counted
            ab(p_without, args.requests, args.concurrency)
            runs = {p_with: [], p_without: []}
            cpu = {p_with: [], p_without: []}
            for rnd in range(args.rounds):
                order = (p_with, p_without) if rnd % 2 == 0 else (p_without, p_with)
                for port in order:
                    before = cpu_ns(proxies[port])
                    rps, failed, non2xx = ab(port, args.requests, args.concurrency)
                    used = cpu_ns(proxies[port]) - before
                    if failed or non2xx:
                        raise RuntimeError("%s:%d: %d failed, %d non-2xx" % (server, port, failed, non2xx))
                    runs[port].append(rps)
                    cpu[port].append(used / 1e3 / args.requests)
            # paired: each round's two runs are back to back, so slow changes of the machine's load
            # cancel out in their ratio
            rps_over = [(n - w) / n * 100.0 for w, n in zip(runs[p_with], runs[p_without], strict=False)]
            cpu_over = [(w - n) / n * 100.0 for w, n in zip(cpu[p_with], cpu[p_without], strict=False)]
            print("%-8s %10.0f %10.0f %18s | %9.2f %9.2f %18s" % (
                server, statistics.median(runs[p_with]), statistics.median(runs[p_without]), summary(rps_over),
                statistics.median(cpu[p_with]), statistics.median(cpu[p_without]), summary(cpu_over)))
        print("\nr/s overhead = (none - rule) / none; CPU overhead = (rule - none) / none, CPU time of the proxy's"
              " processes per request;\nboth per round (the two variants run back to back, order alternating),"
              " then the median and quartiles over the rounds. Target: < 2%.")
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
