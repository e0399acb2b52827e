# -*- coding: utf-8 -*-
"""Throughput of the mutual SSL identity audit, next to the naive path, in the same run.

Generates N client certificates across 3 AD domains (default 100,000; one Ed25519 CA key and
one client key reused; cached as one PEM bundle in the temp directory, so later runs start at
once), then on ONE core (the process is pinned with sched_setaffinity):

* core      - parse + map + collision detection, the issue's measure: identity's loader,
              extract() and map_identity() per certificate, then the certificates grouped by
              mapped user and each group's claimed domains compared (origin_domain());
* audit     - identity.audit(): load each PEM, extract UPN/CN/e-mail, map (ad, cn mapping, the
              collision-heavy case), every per-certificate check, collision detection;
              at 10k, 50k and N certificates, to show the time per certificate stays flat
              (linear), with the collision pass timed on its own;
* floor     - the least any cryptography-based reader does: load the PEM, read the subject
              CNs and its RFC 4514 string, the subjectAltName and the SHA-256 (no mapping, no
              checks, no results), on the same certificates: how fast this machine is right now;
* naive     - one ``openssl x509 -noout -text`` subprocess per certificate, its text parsed for
              the CN, UPN and e-mail, the same name mapping and a dict for collisions; run on a
              sample (default 500) and EXTRAPOLATED to N, which the output says.

Usage: PYTHONPATH=<collections root> python bench/identity_audit.py [N] [SAMPLE]
"""

from __future__ import annotations

import datetime
import os
import resource
import re
import shutil
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ansible_collections.trustops.tableau.plugins.module_utils import identity

DOMAINS = ("example.org", "example.com", "corp.example.net")
UPN = x509.ObjectIdentifier(identity.UPN_OID)
CACHE_VERSION = "v2"


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


def run_audit(items):
    """(wall seconds, CPU seconds of this process, counts, timings); the result itself is dropped
    (after it was built and timed) so that runs do not pile up in memory."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = identity.audit(items, "ad", mapping="cn", default_domain=DOMAINS[0])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, dict(result.counts), dict(result.timings)


def core(items):
    """(CPU seconds, collisions) for parse + map + collision detection alone."""
    c0 = time.process_time()
    groups = {}
    for source, pem in items:
        for cert in identity._load(pem, source):  # pylint: disable=protected-access
            ident = identity.extract(cert, source)
            mapped = identity.map_identity(ident, "cn", "ad", DOMAINS[0])
            if mapped.key is not None:
                groups.setdefault(mapped.key, []).append(identity.origin_domain(ident, mapped)[0])
    collisions = sum(1 for claimed in groups.values() if len(set(claimed) - {None}) > 1)
    return time.process_time() - c0, collisions


def floor(items):
    """CPU seconds of the bare cryptography reads every audit needs."""
    c0 = time.process_time()
    for _source, pem in items:
        cert = x509.load_pem_x509_certificate(pem)
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cert.subject.rfc4514_string()
        try:
            list(cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value)
        except x509.ExtensionNotFound:
            pass
        cert.fingerprint(hashes.SHA256())
    return time.process_time() - c0


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
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        print("pinned to CPU %d (one core); openssl children inherit it" % cpu)
    items = load_items(count)
    print("python %s, cryptography %s, %d CPUs, load average %s (a shared machine makes wall clock slower"
          " than CPU time)" % (sys.version.split()[0], __import__("cryptography").__version__, os.cpu_count(),
                               " ".join(f"{x:.2f}" for x in os.getloadavg())))
    print()
    print("%-30s %8s %9s %9s %10s %9s %11s"
          % ("audit (ad, mapping cn)", "certs", "wall s", "CPU s", "certs/CPUs", "CPUus/c", "collisions"))
    sizes = sorted({s for s in (10000, 50000, count) if s <= count})
    best = {}
    for size in sizes:
        # best of 3 (of 1 at the largest size) by CPU time: the machine may be shared, the minimum is
        # the cost; certs/s and us/cert are per CPU second
        runs = [run_audit(items[:size]) for _repeat in range(3 if size < count else 1)]
        wall, cpu, counts, timings = min(runs, key=lambda r: r[1])
        best[size] = (wall, cpu, timings)
        print("%-30s %8d %9.2f %9.2f %10.0f %9.1f %11d"
              % ("identity.audit", size, wall, cpu, size / cpu, cpu / size * 1e6, counts["collisions"]))
    for size in sizes:
        cpu, collisions = min((core(items[:size]) for _repeat in range(3 if size < count else 1)),
                              key=lambda r: r[0])
        print("%-30s %8d %9s %9.2f %10.0f %9.1f %11d"
              % ("core: parse+map+collisions", size, "", cpu, size / cpu, cpu / size * 1e6, collisions))
        best[size] += (cpu,)
    print()
    print("%-30s %8s %9s %14s" % ("collision pass alone", "certs", "seconds", "ns/cert"))
    for size in sizes:
        timing = best[size][2]["collisions"]
        print("%-30s %8d %9.4f %14.0f" % ("group + evaluate by user", size, timing, timing / size * 1e9))
    floor_cpu = min(floor(items[:10000]) for _repeat in range(3)) / min(10000, count)
    print("%-30s %8d %9s %9.2f %10.0f %9.1f" % ("floor: cryptography reads only", min(10000, count), "",
                                                floor_cpu * min(10000, count), 1 / floor_cpu, floor_cpu * 1e6))
    flat = [best[s][1] / s for s in sizes]
    print("CPU time per certificate, largest / smallest size: %.2f (1.00 = linear)" % (flat[-1] / flat[0]))
    print("peak RSS %.0f MB (all certificates' PEM text plus one audit result with every certificate and finding)"
          % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))

    openssl = shutil.which("openssl")
    if openssl is None:
        print("\nnaive baseline: openssl not found, not measured")
        return
    naive_items = items[:: max(1, count // sample)][:sample]
    elapsed, _collisions = naive(naive_items, openssl)
    rate = len(naive_items) / elapsed
    ours = count / best[count][0]
    ours_cpu = count / best[count][1]
    core_cpu = count / best[count][3]
    print()
    print("%-38s %8s %10s %10s" % ("same run, side by side (wall clock)", "certs", "seconds", "certs/s"))
    print("%-38s %8d %10.2f %10.0f" % ("identity.audit (measured)", count, best[count][0], ours))
    print("%-38s %8d %10.2f %10.0f" % ("naive openssl x509 -text (measured)", len(naive_items), elapsed, rate))
    print("%-38s %8d %10.0f %10.0f" % ("naive, EXTRAPOLATED from the sample", count, count / rate, rate))
    print("load average now {}".format(" ".join(f"{x:.2f}" for x in os.getloadavg())))
    print("speed-up %.0fx (whole audit, wall clock); goal >= 20,000 certs/s on one core:" % (ours / rate))
    print("  parse + map + collision detection: {:.0f} certs per CPU second ({})".format(core_cpu, "met" if core_cpu >= 20000 else "NOT met"))
    print("  whole audit (every check, per-certificate results, findings): {:.0f} per CPU second ({}),"
          " {:.0f} by wall clock ({})".format(ours_cpu, "met" if ours_cpu >= 20000 else "NOT met", ours,
                                              "met" if ours >= 20000 else "NOT met"))
    print("  the whole audit costs %.2fx the bare cryptography reads (floor) on this machine now"
          % ((best[count][1] / count) / floor_cpu))


if __name__ == "__main__":
    main()
