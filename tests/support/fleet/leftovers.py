# -*- coding: utf-8 -*-
"""What a fleet leaves on the machine: namespaces, links, mounts and processes.

``snapshot()`` lists them machine-wide (tests compare a snapshot before ``up`` with one after
``down``); ``fleet_leftovers(state)`` lists only what belongs to one fleet, from its state.
Everything is read from the kernel (/proc, /sys, /run/netns), not from our own bookkeeping.
"""

from __future__ import annotations

import os

NETNS_DIR = "/run/netns"


def proc_start_time(pid):
    """Start time of a live (non-zombie) process in clock ticks, or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def netns_inode(name):
    """Inode of a named network namespace (what /proc/<pid>/ns/net names), or None."""
    try:
        return os.stat(os.path.join(NETNS_DIR, name)).st_ino
    except OSError:
        return None


def _pids():
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _ns_inode(pid, kind="net"):
    try:
        link = os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None
    return int(link[link.index("[") + 1:-1])


def processes_in_netns(inode):
    """Live processes whose network namespace has this inode."""
    if not inode:
        return []
    return [pid for pid in _pids() if _ns_inode(pid) == inode and proc_start_time(pid) is not None]


def process_table():
    """{pid: (start_time, comm, root, netns inode, cmdline)} of every live process."""
    table = {}
    for pid in _pids():
        start = proc_start_time(pid)
        if start is None:
            continue
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
                comm = handle.read().strip()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            root = os.readlink(f"/proc/{pid}/root")
        except OSError:
            continue
        table[pid] = (start, comm, root, _ns_inode(pid), cmdline)
    return table


def netns_names():
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return set()


def links():
    """Interface names of the root network namespace."""
    return set(os.listdir("/sys/class/net"))


def mounts():
    """Lines of the root mount namespace's mount table (this process's /proc/self/mounts)."""
    with open("/proc/self/mounts", encoding="utf-8", errors="replace") as handle:
        return set(handle.read().splitlines())


def snapshot():
    """Machine-wide: named network namespaces, root-namespace links, mounts, processes."""
    return {"netns": netns_names(), "links": links(), "mounts": mounts(), "processes": process_table()}


def new_since(before, after):
    """What ``after`` has that ``before`` had not (processes by pid and start time)."""
    return {
        "netns": sorted(after["netns"] - before["netns"]),
        "links": sorted(after["links"] - before["links"]),
        "mounts": sorted(after["mounts"] - before["mounts"]),
        "processes": {pid: info for pid, info in after["processes"].items()
                      if before["processes"].get(pid, (None,))[0] != info[0]},
    }


def _self_and_ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def fleet_leftovers(state):
    """Everything of one fleet (its state dict) that still exists: {kind: [what]}."""
    hosts = state.get("hosts", [])
    directory = state.get("dir") or "\0"
    control = state.get("control_dir") or "\0"
    bridge = state.get("bridge")
    names = {h["netns"] for h in hosts}
    inodes = {h.get("netns_inode") for h in hosts} - {None}
    inodes |= {netns_inode(name) for name in names} - {None}
    link_names = {h["veth"] for h in hosts} | ({bridge} if bridge else set())
    processes = []
    mine = _self_and_ancestors()  # e.g. `python -m tests.support.fleet down --dir D` names the dir
    for pid, (_start, comm, root, net, cmdline) in process_table().items():
        ours = net in inodes or root == directory or root.startswith(directory + "/")
        ours = ours or directory in cmdline or control in cmdline
        if ours and pid not in mine:
            processes.append(f"{pid} {comm}: {cmdline[:120]}")
    for h in hosts:
        if h.get("pid") and h.get("start_time") and proc_start_time(h["pid"]) == h["start_time"]:
            processes.append(f"{h['pid']} (the host {h['name']}'s unshare)")
    return {
        "netns": sorted(names & netns_names()),
        "links": sorted(link_names & links()),
        "mounts": sorted(line for line in mounts()
                         if directory in line or control in line or any(f"/run/netns/{n} " in line for n in names)),
        "processes": sorted(set(processes)),
    }
