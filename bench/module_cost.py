# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one converged task of ours costs a host, next to ansible.builtin.stat and ansible.builtin.copy.

Issue 16 ("lighter modules per host"): every converged task should cost at most 1.25x the builtin task
of the same kind. Measured the Ansible way, on localhost (``connection: local``, pipelining as
configured, default off), for the collection at --before (a git ref, extracted with ``git archive``)
and for this checkout ("after"), in the same run:

* **payload**: the AnsiballZ file Ansible writes for the task (``ANSIBLE_KEEP_REMOTE_FILES``): its
  bytes, and the zip inside it (files, bytes of Python source, of which ours);
* **module run** on the node: the kept AnsiballZ file (the task's own converged arguments in it) run
  --repeats times by each interpreter (Debian 12's /usr/bin/python3 with cryptography 38, and this
  venv's python) under ``python -X importtime``: wall time of the process, and the import time (the
  sum of the top-level imports, those a function makes at run time included; "ours" is the part
  under ansible_collections, compiling our sources from the zip included);
* **task**: ``ansible-playbook`` with every task repeated --repeats times, interleaved (ours, stat,
  copy, ... then again), each task's time from task start to result (a small callback), per
  interpreter; the first round is a warm-up and not counted; a measured task that changes anything
  or fails is reported (converged runs only).

Figures are the median and quartiles [q1, q3] over the repeats; the ratio is median/median against the
builtin of the same kind (read-only checks and TSM reads: stat; tasks that keep files or a store in a
wanted state: copy, which runs two modules, stat then file) and against stat for every task.

The tasks (all converged, real inputs made here): mobile_trust_profile signing with an encrypted
RSA key (the profile exists and is current), trust_anchor state=absent of a CA the system store does
not hold (reads the store, writes nothing), tls_probe against a real TLS server on loopback,
client_cert_identity (cn mapping), saml_keypair_check, tsm_info and tsm_config against the TSM
simulator (tests/support/tsm; its ``tsm`` process is part of the task).

Usage: python bench/module_cost.py [--repeats 15] [--before REF] [--python /usr/bin/python3,venv]
       [--tasks mobile_trust_profile,...] [--json out.json]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))

from pki_factory import PKI, make_key  # noqa: E402  pylint: disable=wrong-import-position,import-error
from tsm_sim.harness import SimServer  # noqa: E402  pylint: disable=wrong-import-position,import-error

BIN = os.path.dirname(sys.executable)
DEBIAN_PYTHON = "/usr/bin/python3"
PASSPHRASE = "bench-Signer-Pass-7"
DEFAULT_BEFORE = "bacfab5"  # main before issue 16's lighter modules

CALLBACK = textwrap.dedent('''
    from __future__ import annotations
    import json, os, time
    from ansible.plugins.callback import CallbackBase

    class CallbackModule(CallbackBase):
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "aggregate"
        CALLBACK_NAME = "module_cost_timer"
        CALLBACK_NEEDS_ENABLED = True

        def __init__(self):
            super().__init__()
            self._start = {}
            self._out = open(os.environ["MODULE_COST_LOG"], "a", encoding="utf-8")

        def v2_playbook_on_task_start(self, task, is_conditional):
            self._start[task._uuid] = time.perf_counter()

        def _done(self, result, status):
            now = time.perf_counter()
            task = getattr(result, "task", None) or result._task
            res = getattr(result, "result", None)
            if res is None:
                res = result._result
            self._out.write(json.dumps({"task": task.get_name(), "seconds": now - self._start.get(task._uuid, now),
                                        "status": status, "changed": bool(res.get("changed")),
                                        "msg": str(res.get("msg", ""))[:300]}) + "\\n")
            self._out.flush()

        def v2_runner_on_ok(self, result):
            self._done(result, "ok")

        def v2_runner_on_failed(self, result, ignore_errors=False):
            self._done(result, "failed")
''')


# ----------------------------------------------------------------------------- inputs

def make_world(base):
    """Real inputs: a CA chain, a TLS server on loopback, a signer with an encrypted key, a client
    certificate, an SP key pair, a TSM simulator."""
    pki = PKI()
    root = pki.root("Bench Root CA")
    inter = pki.intermediate(root, "Bench Issuing CA")
    leaf = pki.leaf(inter, dns=("tableau.bench.test",), ips=("127.0.0.1",))
    signer = pki.leaf(inter, cn="Bench Profile Signer", dns=(), key=make_key("rsa", 2048, fresh=True), eku_server=False)
    client = pki.leaf(inter, cn="alice", dns=())
    sp = pki.self_signed_leaf("sp.bench.test", dns=("sp.bench.test",))
    files = os.path.join(base, "inputs")
    os.makedirs(files)

    def put(name, data):
        path = os.path.join(files, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    world = {
        "root": put("root.pem", root.pem), "inter": put("inter.pem", inter.pem),
        "leaf_chain": put("leaf-chain.pem", leaf.pem + inter.pem), "leaf_key": put("leaf.key", leaf.key_pem()),
        "signer": put("signer.pem", signer.pem),
        "signer_key": put("signer.key", signer.key_pem(passphrase=PASSPHRASE.encode())),
        "client": put("alice.pem", client.pem), "sp_cert": put("sp.crt", sp.pem),
        "sp_key": put("sp.key", sp.key_pem("pkcs1")),
        "copy_src": put("copy-src.txt", b"trustops bench file\n" * 40),
    }
    world["tls_port"] = start_tls_server(world["leaf_chain"], world["leaf_key"])
    sim = SimServer(os.path.join(base, "tsm-sim"))
    world["tsm"] = sim.tsm
    return world


def start_tls_server(chain, key):
    """A TLS server on loopback that completes handshakes (the probe's wire reader and its referee)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve_one(conn):
        try:
            conn.settimeout(10)
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def loop():
        while True:
            conn, _addr = listener.accept()
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return listener.getsockname()[1]


def tasks(world, work):
    """(label, kind, module, args): kind is the builtin it is compared with (stat or copy)."""
    mobile_dest = os.path.join(work, "mobile")
    return [
        ("mobile_trust_profile", "copy", "trustops.tableau.mobile_trust_profile", {
            "src": [world["root"]], "identifier": "test.bench.ca-trust", "dest": mobile_dest,
            "signer_cert_src": world["signer"], "signer_key_src": world["signer_key"],
            "signer_key_passphrase": PASSPHRASE, "signer_chain_src": [world["inter"]]}),
        ("trust_anchor", "copy", "trustops.tableau.trust_anchor", {
            "src": world["root"], "state": "absent", "platform": "debian"}),
        ("tls_probe", "stat", "trustops.tableau.tls_probe", {
            "host": "tableau.bench.test", "address": "127.0.0.1", "port": world["tls_port"], "ca_file": world["root"]}),
        ("client_cert_identity", "stat", "trustops.tableau.client_cert_identity", {
            "certs": [world["client"]], "identity_store": "local", "mapping": "cn"}),
        ("saml_keypair_check", "stat", "trustops.tableau.saml_keypair_check", {
            "cert_src": world["sp_cert"], "key_src": world["sp_key"]}),
        ("tsm_info", "stat", "trustops.tableau.tsm_info", {"tsm_path": world["tsm"]}),
        ("tsm_config", "copy", "trustops.tableau.tsm_config", {
            "tsm_path": world["tsm"], "keys": {"gateway.public.host": "tableau.bench.test"}, "apply": True}),
        ("stat", "builtin", "ansible.builtin.stat", {"path": world["root"]}),
        ("copy", "builtin", "ansible.builtin.copy", {"src": world["copy_src"], "dest": os.path.join(work, "copy.txt"),
                                                     "mode": "0644"}),
    ]


# ----------------------------------------------------------------------------- running ansible

def collection_tree(base, version, ref):
    """ANSIBLE_COLLECTIONS_PATH for ``version``: this checkout ("after"), or ``ref`` extracted."""
    top = os.path.join(base, version)
    target = os.path.join(top, "ansible_collections", "trustops")
    os.makedirs(target)
    if ref is None:
        os.symlink(REPO, os.path.join(target, "tableau"))
    else:
        os.makedirs(os.path.join(target, "tableau"))
        archive = subprocess.run(["git", "-C", REPO, "archive", ref], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", os.path.join(target, "tableau")], input=archive, check=True)
    return top


def playbook(path, steps, python):
    lines = ["- hosts: localhost", "  connection: local", "  gather_facts: false",
             f"  vars: {{ansible_python_interpreter: {python}}}", "  tasks:"]
    for name, module, args in steps:
        lines.append(f"    - name: {json.dumps(name)}")
        lines.append(f"      {module}: {json.dumps(args)}")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def run_playbook(base, collections, book, log=None, extra_env=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_HOME=os.path.join(base, "home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(base, "local-tmp"), ANSIBLE_CALLBACK_PLUGINS=os.path.join(base, "cb"),
               ANSIBLE_CALLBACKS_ENABLED="module_cost_timer", ANSIBLE_RETRY_FILES_ENABLED="0",
               MODULE_COST_LOG=log or os.path.join(base, "discard.log"))
    env.update(extra_env or {})
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", book], capture_output=True,
                          text=True, env=env, cwd=base, check=False, timeout=3600)
    return proc


def read_log(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# ----------------------------------------------------------------------------- payloads

def payloads(base, collections, steps, python):
    """{label: {"files": [AnsiballZ paths], "bytes": n, "zip_files": n, "source": n, "ours": n}}."""
    remote = os.path.join(base, "remote-" + os.path.basename(collections))
    os.makedirs(remote)
    book = playbook(os.path.join(base, "payload-" + os.path.basename(collections) + ".yml"),
                    [(label, module, args) for label, _kind, module, args in steps], python)
    proc = run_playbook(base, collections, book, extra_env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": remote})
    if proc.returncode != 0:
        raise SystemExit(f"the payload run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    dirs = sorted((os.path.join(remote, d) for d in os.listdir(remote)), key=os.path.getmtime)
    by_set = {}
    for folder in dirs:
        names = tuple(sorted(n for n in os.listdir(folder) if n.startswith("AnsiballZ_")))
        by_set.setdefault(names, []).append(folder)
    out = {}
    for label, _kind, module, _args in steps:
        short = module.rsplit(".", 1)[1]
        wanted = ("AnsiballZ_file.py", "AnsiballZ_stat.py") if label == "copy" else (f"AnsiballZ_{short}.py",)
        folder = by_set[wanted].pop(0)
        info = {"files": [os.path.join(folder, n) for n in wanted], "bytes": 0, "zip_files": 0, "source": 0, "ours": 0}
        for path in info["files"]:
            info["bytes"] += os.path.getsize(path)
            with open(path, encoding="utf-8") as handle:
                zipped = re.search(r"zip_data='([A-Za-z0-9+/=]+)'", handle.read()).group(1)
            with zipfile.ZipFile(io.BytesIO(base64.b64decode(zipped))) as archive:
                for item in archive.infolist():
                    info["zip_files"] += 1
                    info["source"] += item.file_size
                    if item.filename.startswith("ansible_collections/trustops/"):
                        info["ours"] += item.file_size
        out[label] = info
    return out


# ----------------------------------------------------------------------------- module runs on the node

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)")


def module_run(python, ansiballz):
    """(wall seconds, import seconds, our import seconds, CPU seconds) of one ``python -X importtime
    AnsiballZ_x.py`` (CPU: user + system of the process and its children, e.g. ``tsm``; unlike wall
    time it does not grow when other work shares the machine)."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([python, "-X", "importtime", ansiballz], capture_output=True, text=True, check=False,
                          cwd=os.path.dirname(ansiballz), timeout=300)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    if out.get("failed") or out.get("changed"):
        raise SystemExit(f"{ansiballz} with {python}: not a converged run: {out.get('msg')}")
    total = ours = 0
    for line in proc.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match and len(match.group(3)) == 1:  # a top-level import (one space of indent)
            total += int(match.group(2))
            if match.group(4).startswith("ansible_collections.trustops"):
                ours += int(match.group(2))
    return wall, total / 1e6, ours / 1e6, cpu


# ----------------------------------------------------------------------------- figures

def q(values):
    """(q1, median, q3) of a list."""
    values = sorted(values)
    if len(values) < 2:
        return (values[0],) * 3
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, med, q3


def ms(values):
    q1, med, q3 = q(values)
    return f"{1000 * med:7.1f} [{1000 * q1:6.1f}, {1000 * q3:6.1f}]"


def prepare(base, version, ref, steps, python):
    """The collection tree of ``version``, every task converged (each runs twice), the payloads kept."""
    collections = collection_tree(base, version, ref)
    book = playbook(os.path.join(base, f"prepare-{version}.yml"),
                    [(label, module, args) for label, _kind, module, args in steps] * 2, python)
    proc = run_playbook(base, collections, book)
    if proc.returncode != 0:
        raise SystemExit(f"{version}: preparing failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return collections, payloads(base, collections, steps, python)


def node_runs(versions, pythons, repeats):
    """{version: {python: {label: [(wall, import, ours)]}}}: the kept AnsiballZ files run in turn
    (round after round, each version, interpreter and task once per round; round 0 is a warm-up)."""
    out = {v: {p: {label: [] for label, *_rest in info["steps"]} for p in pythons} for v, info in versions.items()}
    for number in range(repeats + 1):
        for version, info in versions.items():
            for python in pythons:
                for label, *_rest in info["steps"]:
                    runs = [module_run(python, path) for path in info["payload"][label]["files"]]
                    if number:  # copy runs two modules (stat, then file): a round costs both
                        out[version][python][label].append(tuple(map(sum, zip(*runs, strict=True))))
    return out


def task_runs(base, versions, pythons, repeats, chunks):
    """{version: {python: {label: [seconds]}}}: ansible-playbook runs, versions and interpreters in
    turn, ``chunks`` runs each of repeats/chunks rounds plus one warm-up round (not counted)."""
    out = {v: {p: {} for p in pythons} for v in versions}
    per_chunk = max(1, -(-repeats // chunks))
    for chunk in range(chunks):
        for version, info in versions.items():
            for python in pythons:
                rounds = []
                for number in range(per_chunk + 1):
                    rounds += [(f"{label} #{number}", module, args) for label, _kind, module, args in info["steps"]]
                log = os.path.join(base, f"tasks-{version}-{os.path.basename(python)}-{chunk}.log")
                book = playbook(os.path.join(base, f"tasks-{version}.yml"), rounds, python)
                proc = run_playbook(base, info["collections"], book, log)
                if proc.returncode != 0:
                    raise SystemExit(f"{version} {python}: the task run failed:\n{proc.stdout[-4000:]}")
                for entry in read_log(log):
                    label, number = entry["task"].rsplit(" #", 1)
                    if number == "0":
                        continue
                    if entry["changed"] or entry["status"] != "ok":
                        raise SystemExit(f"{version} {python}: {entry['task']} is not converged: {entry}")
                    out[version][python].setdefault(label, []).append(entry["seconds"])
    return out


def report_payload(versions, steps):
    kinds = {label: kind for label, kind, _module, _args in steps}
    print("\n== payload: the AnsiballZ file(s) of the task, bytes; the zip in it: files, Python source bytes (ours)")
    for label in kinds:
        cells = []
        for version, info in versions.items():
            p = info["payload"][label]
            cells.append(f"{version} {p['bytes']:7d} B, {p['zip_files']:3d} files, {p['source']:7d} B src ({p['ours']:6d} ours)")
        print(f"  {label:22s} " + " | ".join(cells))
    sys.stdout.flush()


def report_node(versions, node, steps, pythons):
    kinds = {label: kind for label, kind, _module, _args in steps}
    for python in pythons:
        print(f"\n== module run on the node (the kept AnsiballZ file), {python}; ms median [q1, q3]; "
              "x the builtin's median CPU")
        print(f"  {'task':22s} {'':6s} {'process CPU':>26s}  {'process wall':>26s}  {'imports (all)':>26s}  "
              f"{'imports (ours)':>26s}")
        for label in kinds:
            for version in versions:
                runs = node[version][python][label]
                line = (f"  {label:22s} {version:6s} {ms([r[3] for r in runs])}  {ms([r[0] for r in runs])}  "
                        f"{ms([r[1] for r in runs])}  {ms([r[2] for r in runs])}")
                if kinds[label] in ("stat", "copy"):
                    cpu = statistics.median([r[3] for r in runs])
                    stat = statistics.median([r[3] for r in node[version][python]["stat"]])
                    same = statistics.median([r[3] for r in node[version][python][kinds[label]]])
                    line += f"  x{cpu / stat:5.2f} stat  x{cpu / same:5.2f} {kinds[label]}"
                print(line)
    sys.stdout.flush()


def report_task(versions, node, task, steps, pythons):
    kinds = {label: kind for label, kind, _module, _args in steps}
    for python in pythons:
        print(f"\n== task time (ansible-playbook, connection local), {python}; ms median [q1, q3]; x the builtin's median")
        for version in versions:
            times = task[version][python]
            builtin = {"stat": statistics.median(times["stat"]), "copy": statistics.median(times["copy"])}
            for label in kinds:
                med = statistics.median(times[label])
                line = f"  {label:22s} {version:6s} {ms(times[label])}  x{med / builtin['stat']:5.2f} stat"
                if kinds[label] in builtin:
                    ratio = med / builtin[kinds[label]]
                    line += f"  x{ratio:5.2f} {kinds[label]:4s} (goal 1.25: {'met' if ratio <= 1.25 else 'MISSED'})"
                print(line)
    last = list(versions)[-1]
    print(f"\n== where the time over the builtin goes ({last}): task ms over the builtin of the same kind; on the "
          "node: process CPU ms over, wall ms over, imports ms over; payload bytes over")
    for python in pythons:
        times, runs = task[last][python], node[last][python]  # the task's interpreters are among the node's
        for label in kinds:
            kind = kinds[label]
            if kind not in ("stat", "copy"):
                continue
            over = 1000 * (statistics.median(times[label]) - statistics.median(times[kind]))
            wall = 1000 * (statistics.median([r[0] for r in runs[label]]) - statistics.median([r[0] for r in runs[kind]]))
            cpu = 1000 * (statistics.median([r[3] for r in runs[label]]) - statistics.median([r[3] for r in runs[kind]]))
            imports = 1000 * (statistics.median([r[1] for r in runs[label]]) - statistics.median([r[1] for r in runs[kind]]))
            payload = versions[last]["payload"][label]["bytes"] - versions[last]["payload"][kind]["bytes"]
            print(f"  {os.path.basename(python):8s} {label:22s} vs {kind:4s} task {over:+7.1f} ms  CPU {cpu:+7.1f} ms  wall {wall:+7.1f} ms"
                  f"  imports {imports:+7.1f} ms  payload {payload:+8d} B")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git ref of the 'before' collection ('' for none)")
    parser.add_argument("--python", default=f"{DEBIAN_PYTHON},venv", help="interpreters on the node (venv: this one)")
    parser.add_argument("--tasks", default="", help="labels to run (default all); stat and copy are always run")
    parser.add_argument("--chunks", type=int, default=3, help="ansible-playbook runs per version and interpreter")
    parser.add_argument("--task-python", default="", help="interpreters for the task times (default: all of --python)")
    parser.add_argument("--json", help="write the raw figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    opts = parser.parse_args()
    # A node or a controller does not set PYTHONDONTWRITEBYTECODE (a test shell may): with it the
    # collection's bytecode cache (module_utils/_zipload.py) is not written, unlike on a fleet.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    pythons = [sys.executable if p == "venv" else p for p in opts.python.split(",") if p]
    pythons = [p for p in pythons if os.path.exists(p)]
    opts.task_python = [sys.executable if p == "venv" else p for p in opts.task_python.split(",") if p]
    base = tempfile.mkdtemp(prefix="module-cost-")
    os.makedirs(os.path.join(base, "cb"))
    with open(os.path.join(base, "cb", "module_cost_timer.py"), "w", encoding="utf-8") as handle:
        handle.write(CALLBACK)
    try:
        world = make_world(base)
        versions = {}
        for version, ref in ([("before", opts.before)] if opts.before else []) + [("after", None)]:
            work = os.path.join(base, "work-" + version)
            os.makedirs(work)
            steps = tasks(world, work)
            if opts.tasks:
                keep = set(opts.tasks.split(",")) | {"stat", "copy"}
                steps = [step for step in steps if step[0] in keep]
            collections, kept = prepare(base, version, ref, steps, pythons[0])
            versions[version] = {"collections": collections, "payload": kept, "steps": steps}
        started = time.monotonic()
        print(f"module_cost: {opts.repeats} repeats, localhost, before={opts.before or '-'} after=working tree; "
              f"cpus={os.cpu_count()} load at start={os.getloadavg()[0]:.2f}")
        report_payload(versions, steps)
        node = node_runs(versions, pythons, opts.repeats)
        report_node(versions, node, steps, pythons)
        print(f"(load {os.getloadavg()[0]:.2f})")
        task_pythons = [p for p in pythons if p in opts.task_python] if opts.task_python else pythons
        task = task_runs(base, versions, task_pythons, opts.repeats, opts.chunks)
        report_task(versions, node, task, steps, task_pythons)
        print(f"(load {os.getloadavg()[0]:.2f}; measured in {time.monotonic() - started:.0f} s)")
        if opts.json:
            with open(opts.json, "w", encoding="utf-8") as handle:
                json.dump({"payload": {v: i["payload"] for v, i in versions.items()}, "node": node, "task": task,
                           "repeats": opts.repeats, "before": opts.before},
                          handle, indent=1, default=str)
    finally:
        if not opts.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"work directory kept: {base}", file=sys.stderr)


if __name__ == "__main__":
    main()
