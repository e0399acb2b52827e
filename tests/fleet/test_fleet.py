# -*- coding: utf-8 -*-
"""The SSH test fleet (tests/support/fleet), run for real: 3 hosts up, Ansible over SSH with
become, each host's writes stay in its own root, and `down` leaves nothing behind.

Needs root, debootstrap (first run only: the image is cached) and ip/nsenter/unshare.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fleet import Fleet, FleetError
from tests.support.fleet.leftovers import fleet_leftovers, new_since, snapshot

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOSTS = 3
PROOF_DIR = "/etc/trustops-fleet-proof"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the fleet needs root (namespaces, mounts, links)")

PLAYBOOK = f"""\
- name: Each fleet host, over ssh, with and without become
  hosts: fleet
  gather_facts: true
  gather_subset: [min, network]
  tasks:
    - name: The host answers
      ansible.builtin.ping:

    - name: Who we are without become
      ansible.builtin.command: id -un
      register: plain_user
      changed_when: false

    - name: Who we are with become
      ansible.builtin.command: id -un
      become: true
      register: as_root
      changed_when: false

    - name: Without become the login user cannot write under /etc
      ansible.builtin.copy:
        dest: /etc/trustops-fleet-nobecome
        content: "x"
        mode: "0644"
      register: plain_write
      ignore_errors: true

    - name: With become, the proof directory
      ansible.builtin.file:
        path: {PROOF_DIR}
        state: directory
        mode: "0755"
      become: true

    - name: With become, this host's proof file
      ansible.builtin.copy:
        dest: "{PROOF_DIR}/{{{{ inventory_hostname }}}}"
        content: "{{{{ inventory_hostname }}}} {{{{ ansible_facts.eth0.ipv4.address }}}}\\n"
        owner: root
        mode: "0600"
      become: true

    - name: What the proof directory holds on this host
      ansible.builtin.find:
        paths: {PROOF_DIR}
      register: proof_files

    - name: Identity, privileges and isolation as seen from inside the host
      ansible.builtin.assert:
        that:
          - ansible_facts.hostname == inventory_hostname
          - ansible_facts.eth0.ipv4.address == ansible_host
          - ansible_facts.default_ipv4 | length == 0  # no default route: only the fleet subnet
          - ansible_facts.all_ipv4_addresses == [ansible_host]
          - plain_user.stdout == "trustops"
          - as_root.stdout == "root"
          - plain_write is failed
          - proof_files.files | map(attribute='path') | list == ["{PROOF_DIR}/" ~ inventory_hostname]
"""


def _env(forks=10):
    env = dict(os.environ)
    env.update(
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
    )
    return env


def _run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    """(fleet, snapshot before up, snapshot while up): a 3-host fleet for this module."""
    before = snapshot()
    fleet = Fleet.up(HOSTS, tmp_path_factory.mktemp("fleet"), prefix="node")
    try:
        during = snapshot()
        yield fleet, before, during
    finally:
        if fleet.state["status"] != "down":
            fleet.down()


def test_hosts_are_distinct_machines_over_ssh(fleet_run):
    fleet = fleet_run[0]
    seen = {}
    for host in fleet.hosts:
        proc = _run(fleet.ssh_argv(host, "hostname; id -un; cat /etc/machine-id; ip -4 -o addr show scope global"))
        assert proc.returncode == 0, proc.stderr
        name, user, machine_id, addresses = proc.stdout.split("\n", 3)
        assert name == host.name
        assert user == "trustops"
        assert re.search(rf"\binet {re.escape(host.address)}/24\b", addresses), addresses
        assert len(addresses.strip().splitlines()) == 1, addresses  # its own address, nothing else
        seen[machine_id] = host.name
    assert len(seen) == HOSTS  # machine ids differ: each host has its own /etc
    assert {h.address for h in fleet.hosts} == {f"10.231.{fleet.index}.{10 + i}" for i in range(1, HOSTS + 1)}


def test_host_keys_are_checked_against_the_fleet_known_hosts(fleet_run):
    fleet = fleet_run[0]
    host = fleet.hosts[0]
    empty = _run(["ssh", "-F", str(fleet.ssh_config), "-o", "UserKnownHostsFile=/dev/null", host.name, "true"])
    assert empty.returncode == 255
    assert "Host key verification failed" in empty.stderr
    # the known_hosts entry of host 2 does not vouch for host 1: each host has its own key
    keys = {line.split()[0]: line.split(None, 1)[1] for line in (fleet.dir / "ssh" / "known_hosts").read_text().splitlines()}
    assert len(set(keys.values())) == HOSTS


def test_ansible_ping_all_hosts(fleet_run):
    fleet = fleet_run[0]
    proc = _run([str(BIN / "ansible"), "all", "-i", str(fleet.inventory), "-m", "ansible.builtin.ping", "-o"],
                env=_env(), cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answered = {m.group(1) for m in re.finditer(r'^(\S+) \| SUCCESS => .*"ping": "pong"', proc.stdout, re.M)}
    assert answered == {h.name for h in fleet.hosts}


def test_become_writes_stay_in_each_hosts_own_root(fleet_run, tmp_path):
    fleet = fleet_run[0]
    playbook = tmp_path / "fleet.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    env = _env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    proc = _run([str(BIN / "ansible-playbook"), "-i", str(fleet.inventory), str(playbook)], env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    stats = json.loads(proc.stdout)["stats"]
    assert set(stats) == {h.name for h in fleet.hosts}
    for name, host_stats in stats.items():
        assert host_stats["unreachable"] == 0 and host_stats["failures"] == 0, (name, host_stats)
        assert host_stats["ignored"] == 1, (name, host_stats)  # the write without become failed
        assert host_stats["changed"] == 2, (name, host_stats)  # the proof directory and file
    # from the machine: each proof is in its host's own layer only, owned by root, and the
    # machine's real root has no proof directory at all
    assert not os.path.exists(PROOF_DIR)
    for host in fleet.hosts:
        proof = fleet.upper(host.name) / PROOF_DIR.lstrip("/")
        assert sorted(p.name for p in proof.iterdir()) == [host.name]
        st = (proof / host.name).stat()
        assert (st.st_uid, st.st_mode & 0o777) == (0, 0o600)
        assert (proof / host.name).read_text() == f"{host.name} {host.address}\n"
        assert not (fleet.upper(host.name) / "etc" / "trustops-fleet-nobecome").exists()
    # over ssh: a host sees its own proof and not the others'
    for host in fleet.hosts:
        listing = _run(fleet.ssh_argv(host, "ls", "-A", PROOF_DIR))
        assert listing.returncode == 0, listing.stderr
        assert listing.stdout.split() == [host.name]


def test_a_stopped_host_is_unreachable_and_starts_again_with_its_layer(fleet_run, tmp_path):
    fleet = fleet_run[0]
    host, other = fleet.hosts[1], fleet.hosts[2]
    cli = [sys.executable, "-m", "tests.support.fleet"]
    before = _run([*cli, "manifest", "--dir", str(fleet.dir)], cwd=REPO)
    assert before.returncode == 0, before.stderr
    (tmp_path / "before.json").write_text(before.stdout)
    wrote = _run(fleet.ssh_argv(host, "sudo sh -c 'echo kept > /var/tmp/stop-proof'"))
    assert wrote.returncode == 0, wrote.stderr
    stop = _run([*cli, "stop", "--dir", str(fleet.dir), "--host", host.name], cwd=REPO)
    assert stop.returncode == 0, stop.stderr
    assert not fleet.host_running(host.name)
    gone = _run(fleet.ssh_argv(host, "true"))
    assert gone.returncode == 255 and "Connection refused" in gone.stderr, gone.stderr
    assert _run(fleet.ssh_argv(other, "true")).returncode == 0  # the others are up
    start = _run([*cli, "start", "--dir", str(fleet.dir), "--host", host.name], cwd=REPO)
    assert start.returncode == 0, start.stderr
    again = _run(fleet.ssh_argv(host, "cat /var/tmp/stop-proof; hostname; ip -4 -o addr show dev eth0"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"kept\n{host.name}\n") and f"inet {host.address}/24" in again.stdout
    # the manifest comparison names what the host wrote, and only that
    compare = _run([*cli, "manifest", "--dir", str(fleet.dir), "--compare", str(tmp_path / "before.json")], cwd=REPO)
    assert compare.returncode == 1, compare.stderr
    differences = json.loads(compare.stdout)["differences"]
    assert list(differences) == [host.name]
    assert [line.split(":")[0] for line in differences[host.name] if "stop-proof" in line] == ["new var/tmp/stop-proof"]
    ignored = _run([*cli, "manifest", "--dir", str(fleet.dir), "--host", other.name, "--compare", str(tmp_path / "before.json")],
                   cwd=REPO)
    assert ignored.returncode == 0 and json.loads(ignored.stdout)["differences"] == {}, ignored.stdout


def test_down_leaves_nothing_behind(fleet_run):
    fleet, before, during = fleet_run
    hosts = fleet.hosts
    # while up, the fleet's kernel objects existed (so the checks below can fail)
    up_now = new_since(before, during)
    assert {h.netns for h in hosts} <= set(up_now["netns"])
    assert {h.veth for h in hosts} | {fleet.bridge} <= set(up_now["links"])
    assert any(str(fleet.dir) in info[2] for info in up_now["processes"].values())  # sshd chrooted in a host
    assert any(info[1] == "sshd" and info[3] == h.netns_inode for info in up_now["processes"].values() for h in hosts)
    left = fleet.down()
    assert not any(left.values()), left
    after = snapshot()
    gone = new_since(before, after)
    ours = re.compile(rf"^(tfleet{fleet.index}\b|tfleet{fleet.index}-|tf{fleet.index}h)")
    assert [n for n in gone["netns"] if ours.match(n)] == []
    assert [n for n in gone["links"] if ours.match(n)] == []
    assert [m for m in gone["mounts"] if str(fleet.dir) in m or "/run/netns/tfleet" in m or "overlay" in m] == []
    inodes = {h.netns_inode for h in hosts}
    assert [(pid, info) for pid, info in gone["processes"].items()
            if info[3] in inodes or str(fleet.dir) in info[2] or str(fleet.dir) in info[4]
            or info[1] in ("sshd", "unshare", "nsenter")] == []
    assert not any(fleet_leftovers(fleet.state).values())
    # the hosts' layers are gone too; the state says down
    assert not any(fleet.upper(h.name).exists() for h in hosts)
    assert Fleet.load(fleet.dir).state["status"] == "down"


def test_command_line_up_and_down(tmp_path):
    directory = tmp_path / "cli-fleet"
    cli = [sys.executable, "-m", "tests.support.fleet"]
    proc = _run([*cli, "up", "--hosts", "2", "--dir", str(directory), "--prefix", "cli",
                 "--ssh-option", "KexAlgorithms=curve25519-sha256"], cwd=REPO)
    try:
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert sorted(out["hosts"]) == ["cli01", "cli02"]
        inventory = Path(out["inventory"]).read_text()
        for name, address in out["hosts"].items():
            assert f'{name}:\n          ansible_host: "{address}"' in inventory
        assert "-o KexAlgorithms=curve25519-sha256" in inventory
        fleet = Fleet.load(directory)
        echo = _run(["ssh", "-v", *fleet.ssh_argv("cli02", "cat /etc/hostname")[1:]])
        assert (echo.returncode, echo.stdout) == (0, "cli02\n"), echo.stderr
        assert "kex: algorithm: curve25519-sha256" in echo.stderr  # the option reached ssh
        status = _run([*cli, "status", "--dir", str(directory)], cwd=REPO)
        memory = json.loads(status.stdout)["memory"]
        assert all(m["processes"] >= 2 and m["pss_kib"] > 0 for m in memory.values()), memory
    finally:
        down = _run([*cli, "down", "--dir", str(directory)], cwd=REPO)
    assert down.returncode == 0, down.stderr
    assert not any(fleet_leftovers(Fleet.load(directory).state).values())
    assert not any(n.startswith(f"tfleet{out['bridge'][6:]}-") for n in os.listdir("/run/netns"))


def test_a_failed_up_removes_what_it_made(tmp_path):
    directory = tmp_path / "broken"
    with pytest.raises(FleetError, match="user no-such-user is not in the image"):
        Fleet.up(2, directory, user="no-such-user")  # fails after the network is made
    state = Fleet.load(directory).state
    assert state["bridge"] and len(state["hosts"]) == 2  # the bridge and namespaces had been made
    assert all(h["netns_inode"] for h in state["hosts"])
    assert state["status"] == "down"
    assert not any(fleet_leftovers(state).values())
    assert not os.path.exists(f"/sys/class/net/{state['bridge']}")
