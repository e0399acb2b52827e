# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SSH test fleet's own costs: bring-up time, memory per host, Ansible over N hosts.

For each fleet size (default 20 and 50): the wall time of ``up`` (image, network, layers, start
until every sshd greets) and of ``down``, the memory of each host's processes (PSS/RSS from
/proc/<pid>/smaps_rollup, and the machine's MemAvailable before and after ``up``), the disk of
its own layer. On the fleet of --ansible-hosts hosts (default 20): ``ansible -m
ansible.builtin.ping`` and ``ansible -m ansible.builtin.setup`` over all hosts with each of
--forks (default 10 and 20), wall time. The naive baseline, in the same run: the same number of
plain ``ssh host true`` round trips (sequential and 20 at a time), the floor any SSH tool pays.

``--cold``: each size starts from an empty image cache, so its ``up`` includes debootstrap.

Usage (repository root, as root): python bench/fleet.py [--hosts 20,50] [--cold] [--forks 10,20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.support.fleet import Fleet  # noqa: E402  pylint: disable=wrong-import-position,import-error
from tests.support.fleet.image import ensure_image  # noqa: E402  pylint: disable=wrong-import-position,import-error

BIN = os.path.dirname(sys.executable)


def mem_available_kib():
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def timed(argv, env=None):
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, cwd=REPO)
    return time.monotonic() - started, proc


def ansible_run(fleet, module, forks):
    env = dict(os.environ, ANSIBLE_FORKS=str(forks), ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    seconds, proc = timed([os.path.join(BIN, "ansible"), "all", "-i", str(fleet.inventory), "-m", module, "-o"], env)
    ok = sum(1 for line in proc.stdout.splitlines() if " | SUCCESS " in line)
    return seconds, ok, proc


def ssh_round_trips(fleet, parallel):
    def one(host):
        return subprocess.run(fleet.ssh_argv(host, "true"), capture_output=True, check=False).returncode == 0

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        ok = sum(pool.map(one, fleet.hosts))
    return time.monotonic() - started, ok


def bench_size(n, base, cache, ansible_hosts, forks_list, ssh_options):
    directory = os.path.join(base, f"fleet{n}")
    avail_before = mem_available_kib()
    started = time.monotonic()
    fleet = Fleet.up(n, directory, cache=cache, ssh_options=ssh_options)
    up_s = time.monotonic() - started
    try:
        time.sleep(1)
        avail_after = mem_available_kib()
        memory = fleet.memory()
        pss = [m["pss_kib"] for m in memory.values()]
        rss = [m["rss_kib"] for m in memory.values()]
        procs = [m["processes"] for m in memory.values()]
        upper = [m["upper_kib"] for m in memory.values()]
        print(f"\n== {n} hosts" + (f" (ssh options {ssh_options})" if ssh_options else ""))
        print(f"up: {up_s:.2f} s wall ({json.dumps(fleet.state['timings'])}); {up_s / n * 1000:.0f} ms per host")
        print(f"memory per host: PSS avg {sum(pss) / n / 1024:.2f} MiB (max {max(pss) / 1024:.2f}), "
              f"RSS avg {sum(rss) / n / 1024:.2f} MiB, {sum(procs) / n:.1f} processes; "
              f"MemAvailable drop {(avail_before - avail_after) / n / 1024:.2f} MiB per host "
              f"({(avail_before - avail_after) / 1024:.0f} MiB in all, includes page cache)")
        print(f"own layer per host after up: {sum(upper) / n:.0f} KiB")
        if n == ansible_hosts:
            for parallel in (1, 20):
                seconds, ok = ssh_round_trips(fleet, parallel)
                print(f"baseline ssh host true, {parallel:>2} at a time: {seconds:6.2f} s wall, {ok}/{n} ok")
            for module in ("ansible.builtin.ping", "ansible.builtin.setup"):
                for forks in forks_list:
                    # first run opens the ControlMaster connections; the second reuses them
                    for label in ("first", "again"):
                        seconds, ok, proc = ansible_run(fleet, module, forks)
                        print(f"ansible -m {module:<21} forks {forks:>2} ({label}): {seconds:6.2f} s wall, {ok}/{n} ok")
                        if ok != n:
                            print(proc.stdout[-1500:] + proc.stderr[-1500:])
                    # the next fork count starts without persistent connections again
                    fleet_close_masters(fleet)
            after_ansible = fleet.memory()
            print(f"own layer per host after ansible: {sum(m['upper_kib'] for m in after_ansible.values()) / n:.0f} KiB")
    finally:
        started = time.monotonic()
        fleet.down()
        print(f"down: {time.monotonic() - started:.2f} s wall, nothing left")


def fleet_close_masters(fleet):
    from tests.support.fleet.fleet import _stop_control_masters  # pylint: disable=import-outside-toplevel

    _stop_control_masters(fleet.state["control_dir"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="20,50")
    parser.add_argument("--ansible-hosts", type=int, default=20)
    parser.add_argument("--forks", default="10,20")
    parser.add_argument("--cold", action="store_true", help="make the image in a fresh cache first")
    parser.add_argument("--ssh-option", action="append", default=[], metavar="NAME=VALUE",
                        help="extra ssh client option, e.g. KexAlgorithms=curve25519-sha256")
    parser.add_argument("--keep", help="work directory (kept); default a temporary one, removed")
    args = parser.parse_args()
    base = args.keep or tempfile.mkdtemp(prefix="bench-fleet-", dir="/var/tmp")
    try:
        if not args.cold:
            started = time.monotonic()
            image = ensure_image()
            print(f"warm cache: image {image} found in {time.monotonic() - started:.3f} s")
        for n in (int(x) for x in args.hosts.split(",")):
            # cold: each size starts from an empty cache (debootstrap and its downloads included)
            cache = os.path.join(base, f"cold-cache-{n}") if args.cold else None
            bench_size(n, base, cache, args.ansible_hosts, [int(x) for x in args.forks.split(",")],
                       dict(option.split("=", 1) for option in args.ssh_option))
            if cache:
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
