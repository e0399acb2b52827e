# -*- coding: utf-8 -*-
"""Throughput of the mutual SSL identity audit at 10k and 100k certificates, beside its floor, the
old full path and the naive path, in the same run.

Generates N client certificates across 3 AD domains (default 100,000; one Ed25519 CA key and
one client key reused; cached as one PEM bundle in the temp directory, so later runs start at
once), then on ONE core (the process is pinned with sched_setaffinity), at 10,000 and N
certificates, in alternating rounds (the machine may be shared: each path is measured once per
round, the best round counts, the spread is printed):

* audit     - identity.audit() as modules run it (fast=True): load each PEM, read names, SAN and
              extensions with the fast DER reader (identity_fast; anything it does not recognise
              goes the full way), map (ad, cn mapping, the collision-heavy case), every
              per-certificate check, collision detection, the result dicts and findings;
* full      - the same audit with fast=False: every certificate read through cryptography's
              objects (subject/issuer Name, cert.extensions), the path before the fast reader;
* floor     - the issue's floor: cryptography load of the PEM, the subject CNs, the SAN UPN
              otherNames, nothing else (no mapping, no checks, no results): how fast this
              machine is right now;
* core      - parse + map + collision detection alone, with the fast reader (identity's loader,
              extract_fast(), map_identity(), the certificates grouped by mapped user);
* naive     - one ``openssl x509 -noout -text`` subprocess per certificate, its text parsed for
              the CN, UPN and e-mail, the same name mapping and a dict for collisions; run on a
              sample (default 500) and EXTRAPOLATED to N, which the output says.

Every audit starts cold: the fast reader's caches (learnt extensions, RDNs, issuer texts) are
emptied before each run, as in a fresh module process.

The goal (issue 16): >= 50,000 certificates per second on one core for the whole audit; the
output says whether it is met, and by how much it is missed otherwise.

Usage: PYTHONPATH=<collections root> python bench/identity_audit.py [N] [SAMPLE] [ROUNDS]
"""

from __future__ import annotations

import datetime
import gc
import os
import resource
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import identity
from ansible_collections.trustops.tableau.plugins.module_utils import identity_fast

DOMAINS = ("example.org", "example.com", "corp.example.net")
UPN = x509.ObjectIdentifier(identity.UPN_OID)
CACHE_VERSION = "v2"
GOAL = 50000  # certificates per second on one core, the whole audit (issue 16)


def _utf8(text):
    raw = text.encode("utf-8")
    return b"\x0c" + bytes([len(raw)]) + raw  # names here are < 128 bytes


def generate(count, path):
    """count certificates, the domains taking turns: user<(i // 3) % (count/3)> in domain i % 3, so
    every user part exists in every domain (a collision under cn mapping) and any prefix of the
    list has all three domains; 1 in 10 UPNs has no domain, 1 in 10 is domain/user."""
    ca_key = ed25519.Ed25519PrivateKey.generate()
    key = ed25519.Ed25519PrivateKey.generate()
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Client CA")])
    per_domain = max(1, count // len(DOMAINS))
    with open(path + ".tmp", "wb") as out:
        for i in range(count):
            user = "user%d" % ((i // len(DOMAINS)) % per_domain)
            domain = DOMAINS[i % len(DOMAINS)]
            shape = i % 10
            upn = user if shape == 0 else (f"{domain}/{user}" if shape == 1 else f"{user}@{domain}")
            cert = (x509.CertificateBuilder()
                    .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bench"),
                                             x509.NameAttribute(NameOID.COMMON_NAME, user)]))
                    .issuer_name(ca_name).public_key(key.public_key()).serial_number(i + 1)
                    .not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=3650))
                    .add_extension(x509.SubjectAlternativeName([x509.OtherName(UPN, _utf8(upn)),
                                                                x509.RFC822Name(f"{user}@{domain}")]), False)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
                    .sign(ca_key, None))
            out.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(path + ".tmp", path)


def load_items(count):
    cache_dir = os.path.join(tempfile.gettempdir(), "trustops-bench-identity")
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, "%s-%d.pem" % (CACHE_VERSION, count))
    if not os.path.exists(path):
        t0 = time.perf_counter()
        generate(count, path)
        print("generated %d certificates in %.1f s -> %s" % (count, time.perf_counter() - t0, path))
    else:
        print(f"cached certificates: {path}")
    with open(path, "rb") as handle:
        data = handle.read()
    end = b"-----END CERTIFICATE-----\n"
    blocks = [block + end for block in data.split(end) if block.strip()]
    return [("c%d.pem" % i, block) for i, block in enumerate(blocks)]


def cold():
    """Empty the fast reader's caches: every audit run starts as a fresh module process would."""
    identity_fast.forget()
    identity._ISSUERS.clear()  # pylint: disable=protected-access


def run_audit(items, fast):
    """(CPU seconds, wall seconds, counts) of one identity.audit(); the result is dropped after it
    was built and timed so that runs do not pile up in memory."""
    cold()
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    result = identity.audit(items, "ad", mapping="cn", default_domain=DOMAINS[0], fast=fast)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    counts = dict(result.counts)
    del result
    return cpu, wall, counts


def core(items):
    """(CPU seconds, wall seconds, collisions) for parse + map + collision detection alone."""
    cold()
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    groups = {}
    for source, pem in items:
        for cert, der in identity._load_der(pem, source):  # pylint: disable=protected-access
            ident = identity.extract(cert, source) if der is None else identity.extract_fast(cert, der, source)
            mapped = identity.map_identity(ident, "cn", "ad", DOMAINS[0])
            if mapped.key is not None:
                groups.setdefault(mapped.key, []).append(identity.origin_domain(ident, mapped)[0])
    collisions = sum(1 for claimed in groups.values() if len(set(claimed) - {None}) > 1)
    return time.process_time() - c0, time.perf_counter() - t0, collisions


def floor(items):
    """(CPU seconds, wall seconds, UPNs read): the issue's floor, cryptography load + CN + SAN UPN."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    upns = 0
    for _source, pem in items:
        cert = x509.load_pem_x509_certificate(pem)
        [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]  # pylint: disable=expression-not-assigned
        try:
            san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        except x509.ExtensionNotFound:
            continue
        upns += sum(1 for name in san.get_values_for_type(x509.OtherName) if name.type_id == UPN)
    return time.process_time() - c0, time.perf_counter() - t0, upns


_UPN_TEXT = re.compile(r"othername: ?UPN::?([^,\n]*)")
_EMAIL_TEXT = re.compile(r"email:([^,\n]*)")
_SUBJECT_CN = re.compile(r"^\s*Subject:.*?CN ?= ?([^,\n]+)", re.M)


def naive(items, openssl):
    """The shell-script way: openssl x509 -text per certificate, regexes, a dict."""
    t0 = time.perf_counter()
    users = {}
    for _source, pem in items:
        text = subprocess.run([openssl, "x509", "-noout", "-text", "-nameopt", "utf8,sep_comma_plus_space"],
                              input=pem, capture_output=True, check=True).stdout.decode("utf-8", "replace")
        cn = _SUBJECT_CN.search(text)
        upns = _UPN_TEXT.findall(text)
        emails = _EMAIL_TEXT.findall(text)
        value = cn.group(1).strip() if cn else None
        if value is None:
            continue
        if "@" in value:
            user, domain = value.split("@", 1)
        elif "/" in value:
            domain, user = value.split("/", 1)
        else:
            user, domain = value, DOMAINS[0]
        claimed = upns[0].split("@")[-1] if upns and "@" in upns[0] else (emails[0].split("@")[-1] if emails else None)
        users.setdefault((user.lower(), domain.lower()), set()).add(claimed)
    collisions = sum(1 for claims in users.values() if len(claims - {None}) > 1)
    return time.perf_counter() - t0, collisions


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        print("pinned to CPU %d (one core); openssl children inherit it" % cpu)
    items = load_items(count)
    print("python %s, cryptography %s, %d CPUs, load average %s (a shared machine: CPU seconds are the"
          " measure, wall clock is shown)" % (sys.version.split()[0], __import__("cryptography").__version__,
                                              os.cpu_count(), " ".join(f"{x:.2f}" for x in os.getloadavg())))
    sizes = sorted({s for s in (10000, count) if s <= count})
    paths = ("audit", "full", "floor", "core")
    runs = {(path, size): [] for path in paths for size in sizes}
    for size in sizes:
        for number in range(rounds if size <= 10000 else max(1, rounds - 1)):
            # alternating: each path once per round, so a burst of load hits all of them alike
            for path in paths:
                if path == "audit":
                    cpu, wall, counts = run_audit(items[:size], True)
                    extra = counts["collisions"]
                elif path == "full":
                    cpu, wall, counts = run_audit(items[:size], False)
                    extra = counts["collisions"]
                elif path == "floor":
                    cpu, wall, extra = floor(items[:size])
                else:
                    cpu, wall, extra = core(items[:size])
                runs[(path, size)].append((cpu, wall, extra))
            print("  round %d at %d: %s  (load %.2f)" % (number + 1, size, "  ".join(
                "%s %.0f/s" % (path, size / runs[(path, size)][-1][0]) for path in paths), os.getloadavg()[0]))
    print()
    columns = ("per CPU second, best round (median)", "certs", "rounds", "CPU s", "certs/s", "us/cert", "x floor",
               "collisions")
    print("%-44s %8s %6s %9s %10s %9s %8s %10s" % columns)
    labels = {"audit": "identity.audit (new, fast reader)", "full": "identity.audit fast=False (old full path)",
              "floor": "floor: cryptography load + CN + SAN UPN", "core": "core: parse + map + collisions (new)"}
    best = {}
    for size in sizes:
        floor_cpu = min(r[0] for r in runs[("floor", size)])
        for path in paths:
            cpus = [r[0] for r in runs[(path, size)]]
            best[(path, size)] = min(cpus)
            print("%-44s %8d %6d %9.2f %10.0f %9.1f %8.2f %10s" % (
                labels[path], size, len(cpus), min(cpus), size / min(cpus), min(cpus) / size * 1e6,
                min(cpus) / floor_cpu, runs[(path, size)][0][2] if path in ("audit", "full", "core") else ""))
            if len(cpus) > 1:
                median = statistics.median(cpus)
                print("%-44s %8s %6s %9.2f %10.0f" % ("", "", "median", median, size / median))
    small, large = sizes[0], sizes[-1]
    print("CPU time per certificate, %d / %d: audit %.2f, full %.2f (1.00 = linear)" % (
        large, small, (best[("audit", large)] / large) / (best[("audit", small)] / small),
        (best[("full", large)] / large) / (best[("full", small)] / small)))
    print("peak RSS %.0f MB (all certificates' PEM text plus one audit result with every certificate and finding)"
          % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))

    openssl = shutil.which("openssl")
    rate = None
    if openssl is None:
        print("\nnaive baseline: openssl not found, not measured")
    else:
        naive_items = items[:: max(1, count // sample)][:sample]
        elapsed, _collisions = naive(naive_items, openssl)
        rate = len(naive_items) / elapsed
        print()
        print("%-46s %8s %10s %10s" % ("naive openssl x509 -text (wall clock)", "certs", "seconds", "certs/s"))
        print("%-46s %8d %10.2f %10.0f" % ("measured on a sample", len(naive_items), elapsed, rate))
        for size in sizes:
            print("%-46s %8d %10.0f %10.0f" % ("EXTRAPOLATED from the sample", size, size / rate, rate))

    floor_rate = large / best[("floor", large)]

    def verdict(rate_):
        if rate_ >= GOAL:
            return "MET"
        return f"NOT met: missed by {1 - rate_ / GOAL:.0%} (needs {GOAL / rate_:.2f}x)"

    print()
    print(f"goal (issue 16): >= {GOAL:,} certificates per second on one core, including mapping and collision detection")
    for path, what in (("core", "core (parse + map + collision detection), the issue's measure"),
                       ("audit", "whole audit (also every check, the findings and the result dicts)")):
        rate_ = large / best[(path, large)]
        ratio = best[(path, large)] / best[("floor", large)]
        print(f"  {what} at {large:,}: {rate_:,.0f} per CPU second: {verdict(rate_)}")
        print(f"    {ratio:.2f}x the floor's time; at the floor speeds the issue quotes, 63k/s (loaded) and 101k/s"
              f" (quieter): {63000 / ratio:,.0f}/s and {101000 / ratio:,.0f}/s")
    print(f"  floor on this machine now: {floor_rate:,.0f}/s; the whole audit is"
          f" {best[('full', large)] / best[('audit', large)]:.2f}x faster than the old full path")
    if rate:
        wall_rate = large / min(r[1] for r in runs[("audit", large)])
        print(f"  by wall clock, the audit ({wall_rate:,.0f}/s) against the naive openssl path ({rate:,.1f}/s, extrapolated):"
              f" {wall_rate / rate:,.0f}x")
    print("load average now {}".format(" ".join(f"{x:.2f}" for x in os.getloadavg())))


if __name__ == "__main__":
    main()
