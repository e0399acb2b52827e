# -*- coding: utf-8 -*-
"""The fleet's base image: a Debian bookworm root made once with debootstrap and cached.

Every fleet host mounts this directory read-only as the lower layer of its own overlayfs, so
the image is made once per package list and never written afterwards. It lives beside the
client_trust scenario's image tarball (``$HOME/.cache/trustops``) and is rebuilt only when the
package list changes (its name carries a digest of the list).

The image is prepared for the fleet: no SSH host keys (each host gets its own), an
unprivileged user ``trustops`` with password-less sudo (the ``become`` path) and an sshd
drop-in that allows public-key logins only and needs no PAM, systemd or DNS.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SUITE = "bookworm"
# Debian's own interpreter and cryptography (the managed-node target of the collection), the
# SSH server, sudo for become, and what the fleet scenario's hosts run: clients (CA store, curl,
# ip), Tableau Server nodes (lxml: tsm_saml parses IdP metadata there; openssl s_server plays the
# node's TLS gateway), reverse proxies (Debian's nginx, Apache and HAProxy, started by the scenario:
# the hosts have no init system, so the packages' own start scripts never run).
PACKAGES = (
    "openssh-server",
    "python3",
    "python3-cryptography",
    "python3-cffi-backend",  # debootstrap does not resolve the virtual cffi API packages cryptography needs
    "python3-lxml",
    "sudo",
    "ca-certificates",
    "curl",
    "iproute2",
    "openssl",
    "nginx",
    "apache2",
    "haproxy",
)
USER = "trustops"
MIRROR = "http://deb.debian.org/debian"
READY = ".trustops-fleet-image"

SSHD_DROPIN = """\
# trustops test fleet: public keys only, no PAM/systemd/DNS (the host runs sshd as its init).
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 64
"""

# Run inside the fresh root (chroot) once, after debootstrap.
PREPARE = f"""\
set -eu
rm -f /etc/ssh/ssh_host_*
useradd --create-home --shell /bin/bash {USER}
usermod --password '*' {USER}
printf '%s\\n' '{USER} ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/trustops-fleet
chmod 0440 /etc/sudoers.d/trustops-fleet
install -d -m 0700 -o {USER} -g {USER} /home/{USER}/.ssh
install -d -m 0700 /root/.ssh
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
rm -f /etc/machine-id /var/lib/dbus/machine-id
"""


class ImageError(RuntimeError):
    """The base image could not be made."""


def default_cache() -> Path:
    """Where images are cached: TRUSTOPS_FLEET_CACHE or the client_trust scenario's cache."""
    env = os.environ.get("TRUSTOPS_FLEET_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("HOME", "/root")) / ".cache" / "trustops"


def image_name(packages=PACKAGES) -> str:
    """The cached image's directory name: suite, variant and a digest of what it holds."""
    key = "\n".join([SUITE, "minbase", *sorted(packages), SSHD_DROPIN, PREPARE])
    return f"fleet-{SUITE}-minbase-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def ensure_image(cache: Path | None = None, packages=PACKAGES, mirror: str | None = None, log=None) -> Path:
    """Return the image directory, making it first when it is not cached.

    Concurrent callers wait on a lock file; the image appears under its final name only when
    complete (built under a temporary name, then renamed), so an interrupted build is redone.
    """
    cache = Path(cache) if cache else default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    final = cache / image_name(packages)
    if (final / READY).is_file():
        return final
    with open(cache / (final.name + ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / READY).is_file():
            return final
        build = cache / (final.name + ".build")
        if build.exists():  # an interrupted build: debootstrap may have left /proc, /sys mounted
            _unmount_under(build)
            shutil.rmtree(build)
        started = time.monotonic()
        debs = cache / "debootstrap-debs"  # downloaded packages, kept for the next build
        debs.mkdir(exist_ok=True)
        # the download cache is shared with the client_trust scenario's debootstrap, which takes
        # the same lock (flock(1) on this file): one debootstrap writes into it at a time
        with open(cache / "debootstrap-debs.lock", "a", encoding="utf-8") as debs_lock:
            fcntl.flock(debs_lock, fcntl.LOCK_EX)
            _seed_debs(cache, debs, log)
            try:
                _build(build, packages, debs, mirror)
            except BaseException:
                if build.exists():
                    _unmount_under(build)
                    shutil.rmtree(build, ignore_errors=True)
                raise
        (build / READY).write_text(
            f"suite={SUITE}\npackages={','.join(packages)}\nseconds={time.monotonic() - started:.1f}\n",
            encoding="utf-8",
        )
        if final.exists():
            shutil.rmtree(final)
        build.rename(final)
        if log:
            log(f"fleet image {final} made in {time.monotonic() - started:.0f}s")
    return final


def _build(build: Path, packages, debs: Path, mirror):
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=" + ",".join(packages),
            f"--cache-dir={debs}",
            SUITE,
            str(build),
            mirror or os.environ.get("TRUSTOPS_DEBIAN_MIRROR", MIRROR),
        ],
        "debootstrap",
    )
    _check_nothing_runs_from(build)
    dropin = build / "etc" / "ssh" / "sshd_config.d" / "trustops-fleet.conf"
    dropin.write_text(SSHD_DROPIN, encoding="utf-8")
    _run(["chroot", str(build), "/bin/sh", "-c", PREPARE], "preparing the image")


def _seed_debs(cache: Path, debs: Path, log=None):
    """Put the packages an image tarball of the client_trust scenario holds (debootstrap leaves
    them in its var/cache/apt/archives) into the shared download cache, so debootstrap downloads
    only what neither has. The client_trust scenario passes the same --cache-dir, so on a clean
    machine each package is downloaded once whichever scenario runs first."""
    have = {entry.name for entry in debs.glob("*.deb")}
    for tarball in sorted(cache.glob("debootstrap-*.tar")):
        listing = subprocess.run(["tar", "-tf", str(tarball)], capture_output=True, text=True, check=False)
        if listing.returncode != 0:
            continue
        wanted = [line for line in listing.stdout.splitlines()
                  if line.endswith(".deb") and "var/cache/apt/archives/" in line and line.rsplit("/", 1)[1] not in have]
        if not wanted:
            continue
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            if subprocess.run(["tar", "-xf", str(tarball), "-C", tmp, *wanted], capture_output=True,
                              check=False).returncode != 0:
                continue
            for member in wanted:
                name = member.rsplit("/", 1)[1]
                os.replace(os.path.join(tmp, member), debs / name)
                have.add(name)
        if log:
            log(f"fleet image: {len(wanted)} packages taken from {tarball.name}")


def _run(argv, what):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise ImageError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc


def _unmount_under(root: Path):
    real = os.path.realpath(root)
    with open("/proc/self/mounts", encoding="utf-8", errors="replace") as handle:
        points = [line.split()[1].replace("\\040", " ") for line in handle]
    for point in sorted((p for p in points if p == real or p.startswith(real + "/")), key=len, reverse=True):
        _run(["umount", "--lazy", point], f"unmounting {point}")


def _check_nothing_runs_from(root: Path):
    """A package's maintainer script must not have left a daemon running in the new root."""
    real = os.path.realpath(root)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            proc_root = os.readlink(f"/proc/{entry}/root")
        except OSError:
            continue
        if proc_root == real or proc_root.startswith(real + "/"):
            raise ImageError(f"process {entry} runs inside the image being built ({real}); stop it and retry")
