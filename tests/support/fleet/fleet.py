# -*- coding: utf-8 -*-
"""N real Linux hosts on this machine, reached over SSH: the test fleet.

Each host is made of kernel namespaces and Debian's own programs, nothing simulated:

* **root filesystem**: an overlayfs whose lower layer is the cached Debian image (image.py) and
  whose upper layer is the host's own directory ``<dir>/hosts/<name>/upper``; it is mounted
  inside the host's private mount namespace only, so the machine's mount table does not change;
* **network identity**: a network namespace with one veth link to the fleet's bridge
  ``tfleet<K>`` in the root namespace; the bridge has 10.231.K.1/24, host i has 10.231.K.(10+i);
  IPv6 is off on every link of the fleet, so no other address exists (loopback aside);
* **hostname**: a UTS namespace; **processes**: a PID namespace whose init is Debian's sshd, so
  stopping a host (``unshare --kill-child``) ends every process it ran and frees its mounts;
* **SSH**: an ed25519 host key per host (in a per-fleet known_hosts), a per-fleet ed25519 client
  key authorised for root and for ``trustops`` (password-less sudo: the ``become`` path).

The fleet's state is written to ``<dir>/fleet.json`` before each resource is made, so ``down``
(in this process or another: ``python -m tests.support.fleet down --dir D``) removes whatever
exists, even after an interrupted ``up``, and then checks that nothing is left.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from . import image as _image
from .leftovers import fleet_leftovers, netns_inode, processes_in_netns, proc_start_time

NETWORK = "10.231"  # the fleet's private range 10.231.0.0/16: one /24 per fleet
MAX_HOSTS = 240
REGISTRY = Path("/run/trustops-fleet")
STATE = "fleet.json"
INVENTORY = "inventory.yml"

# Runs as the init of the host's new mount/UTS/IPC/PID namespaces, inside its network namespace,
# with the machine's /bin/sh; ends by becoming the host's sshd (PID 1 of the host).
HOST_INIT = r"""
# trustops test fleet: the init of one host (tests/support/fleet/fleet.py writes this file)
set -eu
lower=$1 upper=$2 work=$3 root=$4 addr=$5 name=$6
for conf in all default lo eth0; do echo 1 > "/proc/sys/net/ipv6/conf/$conf/disable_ipv6"; done
ip link set lo up
ip addr replace "$addr" dev eth0  # replace: a restarted host (start_host) finds it there
ip link set eth0 up
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o mode=0755,size=256k,nosuid tmpfs "$root/dev"
cd "$root/dev"
mknod -m 0666 null c 1 3; mknod -m 0666 zero c 1 5; mknod -m 0666 full c 1 7
mknod -m 0666 random c 1 8; mknod -m 0666 urandom c 1 9; mknod -m 0666 tty c 5 0
mkdir pts shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts pts
mount -t tmpfs -o mode=1777,nosuid,nodev,size=16m tmpfs shm
ln -s pts/ptmx ptmx; ln -s /proc/self/fd fd
ln -s /proc/self/fd/0 stdin; ln -s /proc/self/fd/1 stdout; ln -s /proc/self/fd/2 stderr
cd /
mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m tmpfs "$root/run"
mkdir -m 0755 "$root/run/sshd"; mkdir -m 1777 "$root/run/lock"  # /run/lock: what tmpfiles.d makes at boot
hostname "$name"
exec chroot "$root" /usr/sbin/sshd -D -e
"""


class FleetError(RuntimeError):
    """The fleet could not be brought up or torn down completely (the message says what)."""


@dataclass
class Host:
    """One fleet host: its inventory name, address and the kernel objects that make it."""

    name: str
    address: str
    netns: str
    veth: str
    pid: int | None = None  # the host's `unshare` (root PID namespace); its child is the host's sshd
    start_time: int | None = None  # of that pid, so a reused pid is never signalled
    netns_inode: int | None = None  # the namespace's identity (/proc/<pid>/ns/net -> net:[inode])

    def to_dict(self):
        return asdict(self)


def _ip(args, stdin=None, check=True):
    proc = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise FleetError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def _sysctl_off_ipv6(ifname):
    with open(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "w", encoding="ascii") as handle:
        handle.write("1")


def _write(path: Path, data, mode, uid=0, gid=0):
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
        os.fchown(fd, uid, gid)
    finally:
        os.close(fd)


def _mkdirs_like(upper: Path, lower: Path, rel: str):
    """Create upper/rel with the owner and mode the image gives lower/rel (overlay uses the upper's)."""
    path_u, path_l = upper, lower
    for part in Path(rel).parts:
        path_u, path_l = path_u / part, path_l / part
        if not path_u.exists():
            st = os.stat(path_l)
            os.mkdir(path_u)
            os.chmod(path_u, st.st_mode & 0o7777)
            os.chown(path_u, st.st_uid, st.st_gid)


def _user_ids(lower: Path, user: str):
    for line in (lower / "etc" / "passwd").read_text(encoding="utf-8").splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise FleetError(f"user {user} is not in the image {lower}")


def _ed25519():
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


class Fleet:
    """A running (or stopped) fleet, described by ``<dir>/fleet.json``.

    ``Fleet.up(n, dir)`` brings n hosts up and returns the fleet; ``fleet.down()`` removes
    everything it made. Used as a context manager it is torn down on exit.
    """

    def __init__(self, directory, state):
        self.dir = Path(directory)
        self.state = state
        self._popens = {}

    # ------------------------------------------------------------------ description
    @property
    def index(self) -> int:
        return self.state["index"]

    @property
    def bridge(self) -> str:
        return self.state["bridge"]

    @property
    def gateway(self) -> str:
        return self.state["gateway"]

    @property
    def hosts(self) -> list[Host]:
        return [Host(**h) for h in self.state["hosts"]]

    @property
    def user(self) -> str:
        return self.state["user"]

    @property
    def inventory(self) -> Path:
        return self.dir / INVENTORY

    @property
    def ssh_config(self) -> Path:
        return self.dir / "ssh" / "config"

    def host_dir(self, name) -> Path:
        return self.dir / "hosts" / name

    def upper(self, name) -> Path:
        """The host's own layer: what it wrote, seen from the machine (tests read it here)."""
        return self.host_dir(name) / "upper"

    def ssh_argv(self, host, *command, user=None):
        """argv of ``ssh`` to a host with the fleet's key and known_hosts (BatchMode)."""
        target = host if isinstance(host, str) else host.name
        login = user or self.user
        return ["ssh", "-F", str(self.ssh_config), "-l", login, target, *command]

    @classmethod
    def load(cls, directory) -> Fleet:
        path = Path(directory) / STATE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FleetError(f"{path}: no fleet state (was `up` run with this --dir?)")
        return cls(directory, state)

    def _save(self):
        tmp = self.dir / (STATE + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.dir / STATE)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()

    # ------------------------------------------------------------------ up
    @classmethod
    def up(cls, hosts: int, directory, *, cache=None, prefix="fleet", user=_image.USER, timeout=120.0, log=None,
           ssh_options=None):
        """Bring up ``hosts`` hosts with their state in ``directory``; return the running fleet.

        ``ssh_options`` ({name: value}) are extra client options for the inventory and the
        ssh config, e.g. {"KexAlgorithms": "curve25519-sha256"} (the default key exchange of
        OpenSSH 9, sntrup761x25519, costs about 0.4 s of CPU per connection on a slow machine).
        On any failure everything made so far is removed and FleetError is raised.
        """
        if not 1 <= hosts <= MAX_HOSTS:
            raise FleetError(f"hosts must be 1..{MAX_HOSTS}, not {hosts}")
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", prefix):  # a host name, part of a netns name
            raise FleetError(f"prefix {prefix!r}: 1 to 20 of a-z, 0-9 and '-', starting with a letter")
        directory = Path(directory).resolve()
        if (directory / STATE).exists() and Fleet.load(directory).state.get("status") != "down":
            raise FleetError(f"{directory}: a fleet is already up there; bring it down first")
        directory.mkdir(parents=True, exist_ok=True)
        timings = {}
        started = time.monotonic()
        lower = _image.ensure_image(cache, log=log)
        timings["image_s"] = round(time.monotonic() - started, 3)
        fleet = cls(directory, {"version": 1, "status": "starting", "dir": str(directory), "image": str(lower),
                                "user": user, "hosts": [], "index": None, "bridge": None,
                                "ssh_options": dict(ssh_options or {})})
        try:
            fleet._up(hosts, lower, prefix, timeout, timings)
        except BaseException:
            try:
                fleet.down()
            except FleetError as exc:  # keep the original error; say what the cleanup left
                if log:
                    log(f"cleanup after a failed up: {exc}")
            raise
        timings["total_s"] = round(time.monotonic() - started, 3)
        fleet.state["timings"] = timings
        fleet._save()
        if log:
            log(f"fleet {fleet.bridge}: {hosts} hosts up in {timings['total_s']}s; inventory {fleet.inventory}")
        return fleet

    def _allocate(self):
        REGISTRY.mkdir(mode=0o755, exist_ok=True)
        for index in range(1, 255):
            bridge = f"tfleet{index}"
            # Creating the bridge is the allocation: `ip link add` fails if another fleet holds it
            # (recorded only once it is ours, so a cleanup never removes another fleet's bridge).
            if _ip(["link", "add", bridge, "type", "bridge"], check=False).returncode == 0:
                self.state.update(index=index, bridge=bridge)
                self._save()
                (REGISTRY / f"{bridge}.json").write_text(json.dumps({"dir": str(self.dir)}), encoding="utf-8")
                return index
        raise FleetError("no free fleet index (bridges tfleet1..tfleet254 all exist)")

    def _up(self, count, lower: Path, prefix, timeout, timings):
        t0 = time.monotonic()
        index = self._allocate()
        net = f"{NETWORK}.{index}"
        self.state.update(gateway=f"{net}.1", subnet=f"{net}.0/24")
        width = max(2, len(str(count)))
        hosts = [
            Host(name=f"{prefix}{i:0{width}d}", address=f"{net}.{10 + i}", netns=f"tfleet{index}-{prefix}{i:0{width}d}",
                 veth=f"tf{index}h{i:03d}")
            for i in range(1, count + 1)
        ]
        self.state["hosts"] = [h.to_dict() for h in hosts]
        control = self.dir / "cp"
        if len(str(control)) > 60:  # ssh's ControlPath (dir + 41) must fit a unix socket name
            control = Path(tempfile.mkdtemp(prefix=f"tfleet{index}-cp-", dir="/tmp"))
        control.mkdir(mode=0o700, exist_ok=True)
        self.state["control_dir"] = str(control)
        self._save()

        # network: bridge, then one netns + veth per host (two `ip -batch` runs for all hosts)
        _sysctl_off_ipv6(self.bridge)
        _ip(["addr", "add", f"{self.gateway}/24", "dev", self.bridge])
        _ip(["link", "set", self.bridge, "up"])
        batch = "".join(f"netns add {h.netns}\nlink add {h.veth} type veth peer name eth0 netns {h.netns}\n" for h in hosts)
        _ip(["-batch", "-"], stdin=batch)
        for h in hosts:
            _sysctl_off_ipv6(h.veth)
        for entry in self.state["hosts"]:  # to find its processes even after `ip netns del`
            entry["netns_inode"] = netns_inode(entry["netns"])
        self._save()
        _ip(["-batch", "-"], stdin="".join(f"link set {h.veth} master {self.bridge} up\n" for h in hosts))
        timings["network_s"] = round(time.monotonic() - t0, 3)

        # the SSH identities and each host's own layer
        t1 = time.monotonic()
        ssh_dir = self.dir / "ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        client_private, client_public = _ed25519()
        _write(ssh_dir / "id_ed25519", client_private, 0o600)
        _write(ssh_dir / "id_ed25519.pub", client_public + "\n", 0o644)
        uid, gid = _user_ids(lower, self.user)
        etc_hosts = "127.0.0.1 localhost\n" + f"{self.gateway} fleet-controller\n" + "".join(
            f"{h.address} {h.name}\n" for h in hosts
        )
        known = []
        for h in hosts:
            known.append(self._seed_host(h, lower, client_public, etc_hosts, uid, gid))
        _write(ssh_dir / "known_hosts", "".join(known), 0o644)
        self._write_ssh_config(hosts)
        self.write_inventory()
        timings["layers_s"] = round(time.monotonic() - t1, 3)

        # start every host, then wait for every sshd to greet
        t2 = time.monotonic()
        _write(self.dir / "host-init.sh", HOST_INIT.lstrip(), 0o644)
        for h in hosts:
            self._start(h, lower)
        self.state["status"] = "up"
        self._save()
        self._wait_ready(hosts, timeout)
        timings["start_s"] = round(time.monotonic() - t2, 3)

    def _seed_host(self, h: Host, lower: Path, client_public, etc_hosts, uid, gid):
        hdir = self.host_dir(h.name)
        for sub in ("upper", "work", "root"):
            if (hdir / sub).exists():  # a layer kept by `down --keep-roots`: start afresh
                shutil.rmtree(hdir / sub)
            (hdir / sub).mkdir(parents=True)
        upper = hdir / "upper"
        os.chmod(upper, 0o755)
        for rel in ("etc/ssh/sshd_config.d", f"home/{self.user}/.ssh", "root/.ssh"):
            _mkdirs_like(upper, lower, rel)
        _write(upper / "etc" / "hostname", h.name + "\n", 0o644)
        _write(upper / "etc" / "hosts", etc_hosts, 0o644)
        _write(upper / "etc" / "machine-id", os.urandom(16).hex() + "\n", 0o444)
        host_private, host_public = _ed25519()
        _write(upper / "etc" / "ssh" / "ssh_host_ed25519_key", host_private, 0o600)
        _write(upper / "etc" / "ssh" / "ssh_host_ed25519_key.pub", host_public + "\n", 0o644)
        _write(upper / "etc" / "ssh" / "sshd_config.d" / "trustops-fleet-host.conf",
               f"# {h.name}: listen on its own address only\nListenAddress {h.address}\n", 0o644)
        _write(upper / "home" / self.user / ".ssh" / "authorized_keys", client_public + "\n", 0o600, uid, gid)
        _write(upper / "root" / ".ssh" / "authorized_keys", client_public + "\n", 0o600)
        return f"{h.name},{h.address} {host_public}\n"

    def _write_ssh_config(self, hosts):
        ssh_dir = self.dir / "ssh"
        lines = [f"# trustops test fleet {self.bridge} ({self.dir})"]
        for h in hosts:
            lines += [f"Host {h.name}", f"  HostName {h.address}"]
        lines += [
            "Host *",
            f"  User {self.user}",
            f"  IdentityFile {ssh_dir / 'id_ed25519'}",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {ssh_dir / 'known_hosts'}",
            "  GlobalKnownHostsFile /dev/null",
            "  StrictHostKeyChecking yes",
            "  BatchMode yes",
            "  ConnectTimeout 10",
        ]
        lines += [f"  {name} {value}" for name, value in self.state.get("ssh_options", {}).items()]
        _write(self.ssh_config, "\n".join(lines) + "\n", 0o644)

    def ansible_vars(self) -> dict:
        """Connection variables of every fleet host (Ansible's default `ssh` connection)."""
        ssh_dir = self.dir / "ssh"
        return {
            "ansible_user": self.user,
            "ansible_become_method": "sudo",
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_private_key_file": str(ssh_dir / "id_ed25519"),
            "ansible_ssh_common_args": (
                f"-o UserKnownHostsFile={ssh_dir / 'known_hosts'} -o GlobalKnownHostsFile=/dev/null"
                " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o PasswordAuthentication=no"
                + "".join(f" -o {name}={value}" for name, value in self.state.get("ssh_options", {}).items())
            ),
            "ansible_control_path_dir": self.state["control_dir"],
        }

    def write_inventory(self, path=None, groups: dict | None = None) -> Path:
        """Write a YAML inventory of the fleet: every host under ``groups`` (default: one
        group ``fleet``), addresses as ``ansible_host``, the connection variables under all.vars.
        ``groups`` maps a group name to host names; a host may be in several groups."""
        hosts = self.hosts
        groups = groups or {"fleet": [h.name for h in hosts]}
        by_name = {h.name: h for h in hosts}
        q = json.dumps  # a JSON string is a YAML double-quoted scalar
        lines = [
            "---",
            f"# trustops test fleet {self.bridge}: {len(hosts)} hosts (tests/support/fleet).",
            f"# Remove it with: python -m tests.support.fleet down --dir {self.dir}",
            "all:",
            "  vars:",
        ]
        lines += [f"    {key}: {q(value)}" for key, value in self.ansible_vars().items()]
        lines.append("  children:")
        for group, names in groups.items():
            lines += [f"    {group}:", "      hosts:"]
            for name in names:
                if name not in by_name:
                    raise FleetError(f"group {group}: {name} is not a fleet host")
                lines += [f"        {name}:", f"          ansible_host: {q(by_name[name].address)}"]
        path = Path(path) if path else self.inventory
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _start(self, h: Host, lower: Path):
        hdir = self.host_dir(h.name)
        with open(hdir / "host.log", "ab") as log:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with  # a daemon, stopped by down()
                [
                    "nsenter", f"--net=/run/netns/{h.netns}",
                    "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--propagation", "private",
                    "/bin/sh", str(self.dir / "host-init.sh"),
                    str(lower), str(hdir / "upper"), str(hdir / "work"), str(hdir / "root"), f"{h.address}/24", h.name,
                ],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            )
        self._popens[h.name] = proc
        for entry in self.state["hosts"]:
            if entry["name"] == h.name:
                entry["pid"] = proc.pid
                entry["start_time"] = proc_start_time(proc.pid)

    def _wait_ready(self, hosts, timeout):
        deadline = time.monotonic() + timeout
        pending = list(hosts)
        while pending:
            waiting = []
            for h in pending:
                proc = self._popens.get(h.name)
                if proc is not None and proc.poll() is not None:
                    raise FleetError(f"{h.name} stopped (exit {proc.returncode}) before sshd answered: {self._log_tail(h)}")
                if not _ssh_banner(h.address):
                    waiting.append(h)
            pending = waiting
            if pending:
                if time.monotonic() > deadline:
                    names = ", ".join(h.name for h in pending[:5])
                    raise FleetError(f"{len(pending)} hosts did not answer on port 22 in {timeout}s ({names}): "
                                     f"{self._log_tail(pending[0])}")
                time.sleep(0.05)

    def _log_tail(self, h: Host):
        try:
            return (self.host_dir(h.name) / "host.log").read_text(encoding="utf-8", errors="replace")[-800:]
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------------ one host
    def _host(self, name) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise FleetError(f"{name} is not a host of fleet {self.bridge}")

    def host_running(self, name) -> bool:
        """Whether the host's processes (its unshare and sshd) are alive."""
        h = self._host(name)
        return bool(processes_in_netns(netns_inode(h.netns))) or (
            bool(h.pid) and proc_start_time(h.pid) == h.start_time)

    def stop_host(self, name, timeout=10.0):
        """Stop one host as a power cut would: SIGKILL its sshd (PID 1 of its PID namespace, so the
        kernel ends every process it ran and its mounts go with its mount namespace). Its network
        namespace, link and layer stay, so ``start_host`` boots it again with what it had written."""
        h = self._host(name)
        deadline = time.monotonic() + timeout
        while True:
            alive = processes_in_netns(netns_inode(h.netns))
            if h.pid and proc_start_time(h.pid) == h.start_time and h.pid not in alive:
                alive.append(h.pid)
            if not alive:
                break
            if time.monotonic() > deadline:
                raise FleetError(f"{name}: processes {alive} survive SIGKILL")
            keepers = [pid for pid in alive if pid != h.pid] or alive  # the unshare reaps its child first
            for pid in keepers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc = self._popens.pop(name, None)
            if proc is not None:
                try:
                    proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    self._popens[name] = proc
            time.sleep(0.02)
        for entry in self.state["hosts"]:
            if entry["name"] == name:
                entry["pid"] = entry["start_time"] = None
        self._save()

    def start_host(self, name, timeout=60.0):
        """Boot a stopped host again on its own layer (same address, keys and files)."""
        h = self._host(name)
        if self.host_running(name):
            raise FleetError(f"{name} is running; stop it first")
        if self.state.get("status") != "up":
            raise FleetError(f"fleet {self.bridge} is not up")
        self._start(h, Path(self.state["image"]))
        self._save()
        self._wait_ready([h], timeout)

    def upper_manifest(self, name, ignore=()) -> dict:
        """{path: description} of everything in the host's own layer (what it wrote since ``up``):
        type, mode, owner, and for files size, mtime and SHA-256, for links the target, for
        whiteouts (deletions of image files) the mark. Directory times are left out (a temporary
        file made and removed changes them, and writes nothing), and so is a directory of the image
        that overlayfs copied up unchanged (same mode and owner, not opaque: a file was made in it,
        whatever stays there is listed itself). ``ignore``: fnmatch patterns of paths (relative,
        e.g. ``var/log/nginx/*``) left out of the manifest."""
        root = self.upper(name)
        lower = Path(self.state["image"])
        manifest = {}
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for entry in sorted(dirs + files):
                path = os.path.join(folder, entry)
                rel = os.path.relpath(path, root)
                if any(fnmatch.fnmatchcase(rel, pattern) for pattern in ignore):
                    continue
                st = os.lstat(path)
                desc = f"{stat.S_IFMT(st.st_mode):o} {stat.S_IMODE(st.st_mode):04o} {st.st_uid}:{st.st_gid}"
                if stat.S_ISDIR(st.st_mode) and not _opaque(path):
                    try:
                        image = os.lstat(lower / rel)
                    except OSError:
                        image = None
                    if image is not None and (image.st_mode, image.st_uid, image.st_gid) == (
                            st.st_mode, st.st_uid, st.st_gid):
                        continue  # copied up, not changed
                if stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as handle:
                        digest = hashlib.sha256(handle.read()).hexdigest()
                    desc += f" {st.st_size} {st.st_mtime_ns} {digest}"
                elif stat.S_ISLNK(st.st_mode):
                    desc += " -> " + os.readlink(path)
                elif stat.S_ISCHR(st.st_mode):
                    desc += f" whiteout {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
                manifest[rel] = desc
        return manifest

    # ------------------------------------------------------------------ measuring
    def memory(self) -> dict:
        """Memory of each host's processes (PSS and RSS, KiB, from /proc/<pid>/smaps_rollup),
        found by the host's network namespace, plus its `unshare` (root namespace)."""
        result = {}
        for h in self.hosts:
            pids = set(processes_in_netns(netns_inode(h.netns)))
            if h.pid and proc_start_time(h.pid) == h.start_time:
                pids.add(h.pid)
            pss = rss = 0
            for pid in pids:
                values = _smaps_rollup(pid)
                pss += values.get("Pss", 0)
                rss += values.get("Rss", 0)
            result[h.name] = {"processes": len(pids), "pss_kib": pss, "rss_kib": rss,
                              "upper_kib": _du_kib(self.upper(h.name))}
        return result

    # ------------------------------------------------------------------ down
    def down(self, keep_roots=False, timeout=30.0) -> dict:
        """Stop every host and remove every namespace, link, bridge and mount of the fleet; raise
        FleetError if anything is left afterwards. Idempotent; works on a partial `up`."""
        hosts = self.hosts
        control = self.state.get("control_dir")
        if control and os.path.isdir(control):
            _stop_control_masters(control)
        # stop the hosts: every process of a host is in its network namespace (its unshare,
        # its sshd - PID 1 of its PID namespace - and what sshd started); SIGKILL them until none
        # is left (unshare ignores SIGTERM; killing a PID namespace's init ends the namespace)
        deadline = time.monotonic() + timeout
        inodes = [inode for inode in (h.netns_inode or netns_inode(h.netns) for h in hosts) if inode]
        # first everything but the unshares, which then reap their child and exit by themselves
        # (no zombie sshd left to the machine's init)
        keepers = {h.pid for h in hosts if h.pid}
        for pid in [pid for inode in inodes for pid in processes_in_netns(inode) if pid not in keepers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        settle = time.monotonic() + 2
        while time.monotonic() < settle and any(
            proc_start_time(h.pid) == h.start_time for h in hosts if h.pid and h.name not in self._popens
        ):
            time.sleep(0.02)
        for proc in self._popens.values():
            try:
                proc.wait(timeout=max(0.01, settle - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        while True:
            alive = [pid for inode in inodes for pid in processes_in_netns(inode)]
            alive += [h.pid for h in hosts if h.pid and proc_start_time(h.pid) == h.start_time and h.pid not in alive]
            if not alive:
                break
            if time.monotonic() > deadline:
                raise FleetError(f"fleet {self.bridge}: processes {alive} survive SIGKILL")
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for proc in self._popens.values():
                try:
                    proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.02)
        for proc in self._popens.values():
            proc.wait()
        self._popens.clear()
        # links and namespaces (deleting the root end of a veth deletes both ends)
        batch = "".join(f"link del {h.veth}\n" for h in hosts if _link_exists(h.veth))
        batch += "".join(f"netns del {h.netns}\n" for h in hosts if os.path.exists(f"/run/netns/{h.netns}"))
        if self.bridge and _link_exists(self.bridge):
            batch += f"link del {self.bridge}\n"
        if batch:
            _ip(["-force", "-batch", "-"], stdin=batch, check=False)
        if not keep_roots:
            for h in hosts:
                for sub in ("upper", "work", "root"):
                    path = self.host_dir(h.name) / sub
                    if path.exists() and not os.path.ismount(path):
                        shutil.rmtree(path)
        if control and os.path.isdir(control):
            shutil.rmtree(control, ignore_errors=True)
        if self.bridge:
            try:
                (REGISTRY / f"{self.bridge}.json").unlink()
            except FileNotFoundError:
                pass
        self.state["status"] = "down"
        if self.dir.is_dir():
            self._save()
        left = fleet_leftovers(self.state)
        if any(left.values()):
            raise FleetError(f"fleet {self.bridge}: left behind after down: {left}")
        return left


def _opaque(path):
    """Whether overlayfs marks this upper directory opaque (it replaced the image's directory)."""
    try:
        return os.getxattr(path, "trusted.overlay.opaque") == b"y"
    except OSError:
        return False


def _ssh_banner(address, port=22):
    try:
        with socket.create_connection((address, port), timeout=0.5) as sock:
            sock.settimeout(2)
            return sock.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _link_exists(name):
    return os.path.exists(f"/sys/class/net/{name}")


def _stop_control_masters(control):
    """Ask every SSH ControlMaster of the fleet (Ansible's persistent connections) to exit."""
    for entry in os.scandir(control):
        if stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode):
            subprocess.run(["ssh", "-o", f"ControlPath={entry.path}", "-O", "exit", "fleet"],
                           capture_output=True, check=False, timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        masters = [pid for pid, cmd in _cmdlines() if control in cmd]
        if not masters:
            return
        if time.monotonic() > deadline - 2:
            for pid in masters:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        time.sleep(0.1)


def _cmdlines():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    yield int(entry), handle.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue


def _smaps_rollup(pid):
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 3 and parts[0].endswith(":") and parts[2] == "kB":
                    values[parts[0][:-1]] = int(parts[1])
    except OSError:
        pass
    return values


def _du_kib(path: Path):
    total = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total // 1024


def up(hosts, directory, **kwargs) -> Fleet:
    """Bring a fleet up (see Fleet.up)."""
    return Fleet.up(hosts, directory, **kwargs)


def down(directory, keep_roots=False) -> dict:
    """Bring the fleet described in ``directory`` down (see Fleet.down)."""
    return Fleet.load(directory).down(keep_roots=keep_roots)


def registered() -> list[Path]:
    """Directories of the fleets this machine has up (from /run/trustops-fleet)."""
    found = []
    if REGISTRY.is_dir():
        for entry in sorted(REGISTRY.glob("tfleet*.json")):
            try:
                found.append(Path(json.loads(entry.read_text(encoding="utf-8"))["dir"]))
            except (OSError, ValueError, KeyError):
                continue
    return found
