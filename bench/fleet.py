# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's modules over an SSH fleet, next to Ansible's own modules in the same run.

``python bench/fleet.py modules`` (the default): for each --forks value (default 10 and 25) a fresh
fleet of --hosts hosts (default 50; tests/support/fleet, host names ``bench01``...) gets the inputs
of the modules (a test PKI, SAML files, client certificates, the TSM simulator), then one
playbook runs twice: the *first converge* (one pass of every task, on fresh hosts) and the
*converged re-run* (--rounds passes, default 2; every task must report ``changed=false`` on every
host). In each pass our modules alternate with ``ansible.builtin.stat`` and
``ansible.builtin.copy`` tasks (the builtin of the same kind: a check reads like ``stat``, a module
that keeps a file converged works like ``copy``; ``tsm_info`` reads what an administrator reads by
hand with ``ansible.builtin.shell``: ``tsm settings export`` and ``tsm pending-changes list``, the
two tsm calls the module makes), so load drift on a shared machine hits both.

A callback in this file records, per host and task, the time from the worker's start to its
result. Printed: the playbook's wall time (and per host), per task kind the median and quartiles of
the per-host task time, the task's wall time over all hosts, and the ratio ours / builtin of the
same kind, paired per host and pass (median [q1, q3]) against the goals (issue 14: <= 1.5x,
issue 16: <= 1.25x). Then, on one host, why: the SSH round trips of each task (``-vvv``,
pipelining off and on), the AnsiballZ payload each task ships, and each module's run on the host
alone (wall time and ``PYTHONPROFILEIMPORTTIME``: import time of cryptography, of ansible's
module_utils and of the collection's module_utils).

``python bench/fleet.py fixture``: the fleet fixture's own costs (``up``/``down`` time, memory per
host, ``ansible -m ping``/``setup`` over --ansible-hosts hosts, plain ``ssh host true`` round trips).

Run as root from the repository root with the venv's Python; the collection must be importable
(``ANSIBLE_COLLECTIONS_PATH=.build/collections`` as for the tests; default: that path).
The SAML checks need lxml and signxml, which the fleet hosts do not have: they run on the
controller (``delegate_to: localhost``, as the saml role runs them) next to a delegated ``stat``.

Usage: python bench/fleet.py [modules] [--hosts 50] [--forks 10,25] [--rounds 2] [--pipelining]
                             [--ssh-option KexAlgorithms=curve25519-sha256] [--no-host-costs]
                             [--json FILE] [--keep DIR]
       python bench/fleet.py fixture [--hosts 20,50] [--ansible-hosts 20] [--forks 10,20] [--cold]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import socketserver
import ssl
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
sys.path.insert(0, os.path.join(REPO, ".build", "collections"))  # the test PKI helpers import the collection

from tests.support.fleet import Fleet  # noqa: E402  pylint: disable=wrong-import-position,import-error
from tests.support.fleet.image import ensure_image  # noqa: E402  pylint: disable=wrong-import-position,import-error

BIN = os.path.dirname(sys.executable)
PREFIX = "bench"          # host names bench01...: apart from the test fleets (fleet01...)
SRV = "/srv/bench"        # the inputs on every host
TLS_PORT = 8443           # the TLS server the hosts probe, on the fleet's bridge address
GOALS = (("issue 14", 1.5), ("issue 16", 1.25))

# ------------------------------------------------------------------ the tasks of one pass
# (label, kind, task body). kind: "ours" tasks name their builtin in BUILTIN_OF; builtins
# carry their own label. Builtins alternate with ours through the pass.
SAML_SERVER = "tableau.example.test"


def pass_tasks(controller_dir):
    """The tasks of one pass: (label, module, args, extra task keys)."""
    c = controller_dir
    local = {"delegate_to": "localhost", "become": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}}
    as_module = dict(local, vars=dict(local["vars"], trustops_tableau_in_process=False))
    rows = [
        ("stat", "ansible.builtin.stat", {"path": f"{SRV}/ca.pem"}, {}),
        ("trust_anchor", "trustops.tableau.trust_anchor", {"src": f"{SRV}/ca.pem", "name": "bench-root-ca"}, {}),
        ("copy", "ansible.builtin.copy", {"content": "bench copy 1\n", "dest": f"{SRV}/copy-1.txt", "mode": "0644"}, {}),
        ("tls_probe", "trustops.tableau.tls_probe",
         {"host": "fleet-controller", "port": TLS_PORT, "ca_file": f"{SRV}/ca.pem"}, {}),
        ("mobile_trust_profile", "trustops.tableau.mobile_trust_profile",
         {"src": [f"{SRV}/ca.pem"], "identifier": "com.example.bench.ca-trust", "organization": "Bench",
          "dest": f"{SRV}/mdm-unsigned"}, {}),
        ("stat", "ansible.builtin.stat", {"path": f"{SRV}/ca.pem"}, {}),
        ("mobile_trust_profile signed", "trustops.tableau.mobile_trust_profile",
         {"src": [f"{SRV}/ca.pem"], "identifier": "com.example.bench.ca-trust-signed", "organization": "Bench",
          "dest": f"{SRV}/mdm-signed", "signer_cert_src": f"{SRV}/signer.crt",
          "signer_key_src": f"{SRV}/signer.key"}, {}),
        ("saml_keypair_check", "trustops.tableau.saml_keypair_check",
         {"cert_src": f"{SRV}/sp.crt", "key_src": f"{SRV}/sp.key", "fail_on": "never"}, {}),
        ("copy", "ansible.builtin.copy", {"content": "bench copy 2\n", "dest": f"{SRV}/copy-2.txt", "mode": "0644"}, {}),
        ("client_cert_identity", "trustops.tableau.client_cert_identity",
         {"certs": [f"{SRV}/clients/*.pem"], "identity_store": "ad", "mapping": "upn",
          "default_domain": "example.test", "client_ca": f"{SRV}/clients-ca.pem", "fail_on": "never"}, {}),
        ("tsm_info", "trustops.tableau.tsm_info", {"keys": ["gateway.public.host"], "tsm_path": f"{SRV}/bin/tsm"}, {}),
        ("tsm read", "ansible.builtin.shell",
         {"cmd": f"{SRV}/bin/tsm settings export --output-config-file {SRV}/tsm-export.json && "
                 f"{SRV}/bin/tsm pending-changes list"}, {"changed_when": False}),
        ("stat", "ansible.builtin.stat", {"path": f"{SRV}/ca.pem"}, {}),
        ("tsm_config", "trustops.tableau.tsm_config",
         {"keys": {"gateway.public.host": SAML_SERVER}, "apply": True, "tsm_path": f"{SRV}/bin/tsm"}, {}),
        ("stat delegated", "ansible.builtin.stat", {"path": f"{c}/idp-metadata.xml"}, local),
        ("saml_metadata_check", "trustops.tableau.saml_metadata_check",
         {"src": f"{c}/idp-metadata.xml", "server_host": SAML_SERVER, "fail_on": "never"}, local),
        ("saml_response_check", "trustops.tableau.saml_response_check",
         {"src": f"{c}/response.xml", "idp_metadata_src": f"{c}/idp-metadata.xml",
          "acs_url": f"https://{SAML_SERVER}/wg/saml/SSO/index.html", "sp_entity_id": f"https://{SAML_SERVER}",
          "fail_on": "never"}, local),
        ("stat delegated", "ansible.builtin.stat", {"path": f"{c}/idp-metadata.xml"}, local),
    ]
    # the same SAML checks as modules (the naive way): a Python started per task, as before the
    # action plugins that run them in the controller's worker
    naive = [(f"{label} as module", module, args, as_module) for label, module, args, _keys in rows
             if f"{label} as module" in NAIVE_OF]
    return rows + naive + [("stat delegated", "ansible.builtin.stat", {"path": f"{c}/idp-metadata.xml"}, local)]


BUILTINS = ("stat", "copy", "stat delegated", "tsm read")
BUILTIN_OF = {  # ours -> the builtin of the same kind
    "trust_anchor": "copy", "mobile_trust_profile": "copy", "mobile_trust_profile signed": "copy",
    "tsm_config": "copy", "tls_probe": "stat", "saml_keypair_check": "stat", "client_cert_identity": "stat",
    "tsm_info": "tsm read", "saml_metadata_check": "stat delegated", "saml_response_check": "stat delegated",
}
#: The naive way of some of ours, in the same run: printed with their ratios, not held to the goals.
NAIVE_OF = {"saml_metadata_check as module": "stat delegated", "saml_response_check as module": "stat delegated"}
COMPARED = dict(BUILTIN_OF, **NAIVE_OF)


def playbook_yaml(controller_dir, rounds, only=None):
    """The benchmark playbook: ``rounds`` passes; task names ``pN LABEL``, tags = the label."""
    tasks = []
    for r in range(1, rounds + 1):
        for label, module, args, extra in pass_tasks(controller_dir):
            if only and label not in only:
                continue
            task = {"name": f"p{r} {label}", module: args, "tags": [label.replace(" ", "_")]}
            task.update(extra)
            tasks.append(task)
    play = [{"name": "trustops modules next to builtins", "hosts": "all", "gather_facts": False,
             "become": True, "tasks": tasks}]
    return json.dumps(play, indent=1)  # JSON is YAML


# ------------------------------------------------------------------ the timing callback
CALLBACK = r'''
from __future__ import annotations
import json, os, time
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """bench/fleet.py: per host and task, worker start -> result (JSON lines)."""
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._out = open(os.environ["BENCH_TIMING_FILE"], "a", encoding="utf-8")
        self._starts = {}

    def _emit(self, **record):
        self._out.write(json.dumps(record) + "\n")
        self._out.flush()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit(ev="task", task=task.get_name(), t=time.time())

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), task._uuid)] = time.time()

    def _result(self, result, status):
        now = time.time()
        host, task = result._host.get_name(), result._task
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        start = self._starts.pop((host, task._uuid), None)
        self._emit(ev="result", task=task.get_name(), host=host, status=status, changed=bool(data.get("changed")),
                   start=start, end=now, msg=str(data.get("msg", ""))[:300] if status != "ok" else "")

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        self._emit(ev="end", t=time.time())
'''


# ------------------------------------------------------------------ inputs
def make_inputs(work):
    """The controller-side inputs (PKI, SAML files) and the tree every host gets (a tar)."""
    import saml_response_fixtures as saml_fx  # pylint: disable=import-outside-toplevel,import-error
    from identity_pki import ClientPKI  # pylint: disable=import-outside-toplevel,import-error
    from pki_factory import PKI  # pylint: disable=import-outside-toplevel,import-error

    pki = PKI()
    root = pki.root(cn="Bench Root CA")
    server = pki.leaf(root, cn="fleet-controller", dns=("fleet-controller",))
    signing_ca = pki.root(cn="Bench Signing CA")  # not a CA the profiles install (MOBILE-012)
    signer = pki.leaf(signing_ca, cn="Bench Profile Signer", dns=(), eku_server=False)
    sp = pki.leaf(root, cn=SAML_SERVER, dns=(SAML_SERVER,))
    cpki = ClientPKI()
    clients_ca = cpki.ca("Bench Client CA")
    clients = [cpki.client(clients_ca, cn=f"user{i}", upns=[f"user{i}@example.test"]) for i in range(10)]

    controller = os.path.join(work, "controller")
    os.makedirs(controller, exist_ok=True)
    for name, data in (("server.crt", server.pem + root.pem), ("server.key", server.key_pem())):
        with open(os.path.join(controller, name), "wb") as handle:
            handle.write(data)
    idp = saml_fx.Idp(os.path.join(work, "idp"), entity_id="https://idp.example.test/idp",
                      sp_entity_id=f"https://{SAML_SERVER}", acs_url=f"https://{SAML_SERVER}/wg/saml/SSO/index.html")
    with open(os.path.join(controller, "idp-metadata.xml"), "wb") as handle:
        handle.write(idp.metadata())

    files = {
        "ca.pem": root.pem, "signer.crt": signer.pem, "signer.key": signer.key_pem("pkcs1"),
        "sp.crt": sp.pem, "sp.key": sp.key_pem("pkcs1"), "clients-ca.pem": clients_ca.pem,
        "tsm_sim/simulator.py": open(os.path.join(REPO, "tests/support/tsm_sim/simulator.py"), "rb").read(),
        "tsm_sim/api.py": open(os.path.join(REPO, "tests/support/tsm_sim/api.py"), "rb").read(),
        "bin/tsm": (f"#!/bin/sh\nTSM_SIM_HOME={SRV}/tsm-home\nTSM_SIM_PYTHON=/usr/bin/python3\n"
                    f"export TSM_SIM_HOME TSM_SIM_PYTHON\nexec /usr/bin/python3 {SRV}/tsm_sim/simulator.py \"$@\"\n").encode(),
    }
    for i, client in enumerate(clients):
        files[f"clients/user{i}.pem"] = client.pem
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{SRV.lstrip('/')}/{rel}")
            info.size = len(data)
            info.mode = 0o755 if rel == "bin/tsm" else (0o600 if rel.endswith(".key") else 0o644)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return controller, buf.getvalue(), idp


def fresh_response(idp, controller):
    """A SAML response signed now (responses expire within minutes)."""
    with open(os.path.join(controller, "response.xml"), "wb") as handle:
        handle.write(idp.response(username="alice@example.test"))


def install_inputs(fleet, tarball):
    """Every host gets the tree and a fresh simulated TSM, over plain ssh as root (not measured)."""
    def one(host):
        proc = subprocess.run(fleet.ssh_argv(host, f"tar -x -C / -f - && {SRV}/bin/tsm _sim init >/dev/null",
                                             user="root"),
                              input=tarball, capture_output=True, check=False, timeout=120)
        return host.name, proc.returncode, proc.stderr.decode(errors="replace")[-300:]

    with ThreadPoolExecutor(max_workers=10) as pool:
        for name, rc, err in pool.map(one, fleet.hosts):
            if rc:
                raise RuntimeError(f"{name}: installing the inputs failed ({rc}): {err}")


# ------------------------------------------------------------------ the TLS server the hosts probe
class _TLSHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            conn = self.server.context.wrap_socket(self.request, server_side=True)
            conn.settimeout(5)
            try:
                conn.recv(1024)
            except (OSError, ssl.SSLError):
                pass
            conn.close()
        except (OSError, ssl.SSLError):
            pass


class TLSServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, controller):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(os.path.join(controller, "server.crt"), os.path.join(controller, "server.key"))
        super().__init__(address, _TLSHandler)


# ------------------------------------------------------------------ running the playbook
def ansible_env(work, forks, pipelining, extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_FORKS": str(forks), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_PIPELINING": "1" if pipelining else "0",
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(work, "callback"),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
        "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_SYSTEM_WARNINGS": "0",
    })
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".build", "collections"))
    # the playbook runs from the work directory: a relative collections path would find nothing
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        os.path.abspath(part) for part in env["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep) if part)
    env.update(extra or {})
    return env


def run_playbook(work, fleet, rounds, forks, pipelining, tag, controller, extra_args=(), extra_env=None, only=None):
    """Run the benchmark playbook; return (wall seconds, records, stdout)."""
    book = os.path.join(work, f"bench-{rounds}.yml")
    with open(book, "w", encoding="utf-8") as handle:
        handle.write(playbook_yaml(controller, rounds, only))
    timing = os.path.join(work, f"timing-{tag}.jsonl")
    if os.path.exists(timing):
        os.unlink(timing)
    env = ansible_env(work, forks, pipelining, dict(extra_env or {}, BENCH_TIMING_FILE=timing))
    cpu_before, busy_before = children_cpu(), machine_busy()
    started = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(fleet.inventory), book, *extra_args],
                          capture_output=True, text=True, check=False, env=env, cwd=work, timeout=7200)
    wall = time.monotonic() - started
    proc.cpu = {"controller_s": children_cpu() - cpu_before, "machine_busy_s": machine_busy() - busy_before}
    with open(os.path.join(work, f"out-{tag}.txt"), "w", encoding="utf-8") as handle:
        handle.write(proc.stdout + proc.stderr)
    records = []
    if os.path.exists(timing):
        with open(timing, encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
    return wall, records, proc


def children_cpu():
    """CPU seconds of this process's reaped children: ansible-playbook, its workers, ssh clients."""
    usage = os.times()
    return usage.children_user + usage.children_system


def machine_busy():
    """Busy CPU seconds of the whole machine (every process, the hosts' too) from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def label_of(task_name):
    """'p2 mobile_trust_profile signed' -> (2, 'mobile_trust_profile signed')."""
    head, label = task_name.split(" ", 1)
    return int(head[1:]), label


def quartiles(values):
    values = sorted(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[1], q[2]


def fmt_q(values, scale=1000.0, unit="ms"):
    q1, med, q3 = quartiles(values)
    return f"{med * scale:7.0f} [{q1 * scale:.0f}, {q3 * scale:.0f}] {unit}"


def analyse(records, hosts):
    """Per label: per-host task times, task wall times, paired ratios against the builtin of its kind."""
    results = [r for r in records if r["ev"] == "result"]
    bad = [r for r in results if r["status"] != "ok"]
    per_label = {}
    for r in results:
        if r["start"] is None:
            continue
        label = label_of(r["task"])[1]
        per_label.setdefault(label, []).append(r["end"] - r["start"])
    task_walls = {}
    by_task = {}
    for r in results:
        by_task.setdefault(r["task"], []).append(r)
    starts = {r["task"]: r["t"] for r in records if r["ev"] == "task"}
    for task, rs in by_task.items():
        label = label_of(task)[1]
        t0 = starts.get(task, min(x["start"] or x["end"] for x in rs))
        task_walls.setdefault(label, []).append(max(x["end"] for x in rs) - t0)
    # paired: (host, pass) -> label -> [durations]
    cell = {}
    for r in results:
        if r["start"] is None:
            continue
        rnd, label = label_of(r["task"])
        cell.setdefault((r["host"], rnd), {}).setdefault(label, []).append(r["end"] - r["start"])
    ratios = {}
    for labels in cell.values():
        for label, builtin in COMPARED.items():
            for comparator in (builtin, "stat"):
                if label in labels and comparator in labels:
                    base = statistics.median(labels[comparator])
                    ratios.setdefault((label, comparator), []).append(statistics.median(labels[label]) / base)
    per_host = {}
    for r in results:
        if r["start"] is not None:
            per_host[r["host"]] = per_host.get(r["host"], 0.0) + (r["end"] - r["start"])
    changed = sorted({(r["host"], r["task"]) for r in results if r["changed"]})
    return {"per_label": per_label, "task_walls": task_walls, "ratios": ratios, "bad": bad,
            "changed": changed, "per_host": per_host, "hosts_seen": len({r["host"] for r in results}),
            "hosts": hosts}


def print_run(title, wall, a, rounds, converged, cpu):
    n = a["hosts"]
    tasks = sum(len(v) for v in a["per_label"].values())
    print(f"\n-- {title}: {wall:.1f} s wall for {n} hosts ({wall / n:.2f} s per host), {rounds} pass(es); "
          f"{a['hosts_seen']} hosts answered")
    print(f"   CPU: controller (ansible-playbook, workers, ssh) {cpu['controller_s']:.0f} s, whole machine "
          f"{cpu['machine_busy_s']:.0f} s busy (hosts and other jobs included); "
          f"{cpu['controller_s'] / max(tasks, 1) * 1000:.0f} ms controller CPU per host and task")
    if a["bad"]:
        print(f"   NOT OK: {len(a['bad'])} results, e.g. {a['bad'][0]['host']} {a['bad'][0]['task']}: "
              f"{a['bad'][0]['status']} {a['bad'][0]['msg']}")
    if converged:
        what = f" (e.g. {a['changed'][:3]})" if a["changed"] else " (converged: nothing changed on any host)"
        print(f"   changed results: {len(a['changed'])}{what}")
    else:
        kinds = sorted({label_of(change[1])[1] for change in a["changed"]})
        print(f"   changed results: {len(a['changed'])} ({', '.join(kinds)})")
    hosts = list(a["per_host"].values())
    if hosts:
        q1, med, q3 = quartiles(hosts)
        print(f"   per host, sum of its task times: median {med:.1f} s [{q1:.1f}, {q3:.1f}], max {max(hosts):.1f} s")
    print(f"   {'task':<29} {'per host: median [q1, q3]':>29} {'task wall, all hosts':>21}  {'ratio paired per host and pass':<40}")
    order = list(BUILTINS) + list(COMPARED)
    for label in order:
        if label not in a["per_label"]:
            continue
        walls = a["task_walls"].get(label, [])
        line = f"   {label:<29} {fmt_q(a['per_label'][label]):>29} {statistics.median(walls):18.1f} s"
        if label in COMPARED:
            parts = []
            for comparator in dict.fromkeys((COMPARED[label], "stat")):
                values = a["ratios"].get((label, comparator))
                if values:
                    q1, med, q3 = quartiles(values)
                    parts.append(f"/{comparator} {med:.2f}x [{q1:.2f}, {q3:.2f}]")
            line += "  " + "  ".join(parts)
        print(line)


def goal_lines(a, only=None):
    """Where the goals are met on the paired median (ratio to the builtin of the same kind). A module
    without a paired figure (it did not run, or its builtin did not) is named as not measured, and no
    goal is said to be met by every module then."""
    lines = []
    wanted = [label for label in BUILTIN_OF if only is None or label in only]
    missing = [label for label in wanted if not a["ratios"].get((label, BUILTIN_OF[label]))]
    for name, goal in GOALS:
        over = []
        for label in wanted:
            values = a["ratios"].get((label, BUILTIN_OF[label]))
            if values and statistics.median(values) > goal:
                over.append(f"{label} {statistics.median(values):.2f}x")
        verdict = "NOT met by " + ", ".join(over) if over else "met by every module measured"
        if missing:
            verdict += "; NOT MEASURED: " + ", ".join(missing)
        elif not over:
            verdict = "met by every module"
        lines.append(f"   goal {name} <= {goal}x of the builtin of the same kind: {verdict}")
    return lines


# ------------------------------------------------------------------ one host: round trips, payloads, imports
SSH_EXEC = re.compile(r"^<[^>]+> (SSH: EXEC|EXEC) ")
PUT = re.compile(r"^<[^>]+> PUT (\S+) TO (\S+)")
TASK = re.compile(r"^TASK \[p\d+ (.+?)\]")


def trace_tasks(output):
    """-vvv output -> {label: {"execs": n, "puts": [remote paths]}} (first pass only)."""
    out, label = {}, None
    index = {}
    for line in output.splitlines():
        m = TASK.match(line)
        if m:
            name = m.group(1)
            index[name] = index.get(name, 0) + 1
            label = name if index[name] == 1 else None
            if label:
                out.setdefault(label, {"execs": 0, "puts": []})
            continue
        if label is None:
            continue
        if SSH_EXEC.match(line):
            out[label]["execs"] += 1
        m = PUT.match(line)
        if m:
            out[label]["puts"].append(m.group(2))
    return out


HOST_PROBE = r'''
import json, os, subprocess, sys, time
files, reps = sys.argv[2:], int(sys.argv[1])
count_file = os.environ.get("COUNT_FILE")
def lines():
    try:
        with open(count_file, "rb") as handle:
            return sum(1 for _ in handle)
    except (OSError, TypeError):
        return 0
out = {}
for f in files:
    walls, imports = [], []
    before = lines()
    for i in range(reps):
        t = time.monotonic()
        subprocess.run([sys.executable, f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.monotonic() - t)
    counted = (lines() - before) / reps
    for i in range(max(1, reps // 2)):
        env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
        p = subprocess.run([sys.executable, f], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        imports.append(p.stderr)
    out[f] = {"walls": walls, "imports": imports, "size": os.path.getsize(f), "counted": counted}
print(json.dumps(out))
'''


def import_split(stderr):
    """Sum of import 'self' times (us) by origin: cryptography, ansible, trustops, the rest."""
    split = {"cryptography": 0, "ansible": 0, "trustops": 0, "other": 0}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            rest = line.split(":", 1)[1]
            self_us, name = rest.split("|", 2)[0::2]
            self_us = int(self_us)
        except ValueError:
            continue
        name = name.strip()
        if name.startswith(("cryptography", "_cffi_backend", "cffi")):
            split["cryptography"] += self_us
        elif name.startswith("ansible_collections.trustops"):
            split["trustops"] += self_us
        elif name.startswith("ansible"):
            split["ansible"] += self_us
        else:
            split["other"] += self_us
    return split


B64 = re.compile(rb"['\"]([A-Za-z0-9+/=]{2000,})['\"]")


def payload_contents(path):
    """(files in the AnsiballZ zip, of them the collection's, uncompressed bytes) of a kept module file."""
    import base64  # pylint: disable=import-outside-toplevel
    import zipfile  # pylint: disable=import-outside-toplevel

    try:
        with open(path, "rb") as handle:
            match = max(B64.findall(handle.read()), key=len, default=None)
        if match is None:
            return None
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(match))) as archive:
            infos = archive.infolist()
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    ours = [i for i in infos if i.filename.startswith("ansible_collections/trustops/")]
    return len(infos), len(ours), sum(i.file_size for i in infos)


def host_costs(work, fleet, controller, forks, only=None):
    """On the first host: round trips per task (pipelining off/on), payloads, the module run alone."""
    host = fleet.hosts[0]
    print(f"\n== One host ({host.name}): why a task costs what it costs")
    traces = {}
    for pipelining in (False, True):
        extra_env = {} if pipelining else {"ANSIBLE_KEEP_REMOTE_FILES": "1"}
        proc = run_playbook(work, fleet, 1, forks, pipelining, f"trace-{int(pipelining)}", controller,
                            ("-vvv", "-l", host.name), extra_env, only)[2]
        traces[pipelining] = trace_tasks(proc.stdout)
    # the module files kept on the host (pipelining off) and on the controller (delegated tasks)
    upper = fleet.upper(host.name)
    probes, local_files = {}, {}
    for label, trace in traces[False].items():
        for remote in trace["puts"]:
            if not os.path.basename(remote).startswith("AnsiballZ_"):
                continue
            if "delegated" in label or COMPARED.get(label) == "stat delegated":
                local_files.setdefault(label, []).append(remote)
            else:
                probes.setdefault(label, []).append(remote)
    reps = 6
    remote_paths = sorted({p for paths in probes.values() for p in paths})
    contents = {p: payload_contents(str(upper) + p) for p in remote_paths}
    contents.update({p: payload_contents(p) for paths in local_files.values() for p in paths})
    measured = {}
    if remote_paths:
        missing = [p for p in remote_paths if not os.path.exists(str(upper) + p)]
        if missing:
            print(f"   (module files not found in {host.name}'s layer: {missing[:2]})")
        proc = subprocess.run(fleet.ssh_argv(host, f"COUNT_FILE={SRV}/tsm-home/calls.log", "python3", "-", str(reps),
                                             *remote_paths, user="root"),
                              input=HOST_PROBE, capture_output=True, text=True, check=False, timeout=900)
        if proc.returncode == 0:
            measured.update(json.loads(proc.stdout))
        else:
            print(f"   module runs on the host failed: {proc.stderr[-500:]}")
    local_paths = sorted({p for paths in local_files.values() for p in paths if os.path.exists(p)})
    if local_paths:
        proc = subprocess.run([sys.executable, "-", str(reps), *local_paths], input=HOST_PROBE, capture_output=True,
                              text=True, check=False, timeout=900)
        if proc.returncode == 0:
            measured.update(json.loads(proc.stdout))
        for path in local_paths:  # the kept temporary directories of the delegated tasks
            if os.path.basename(os.path.dirname(path)).startswith("ansible-tmp-"):
                shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    print(f"   {'task':<29} {'ssh/exec calls':>14} {'payload':>12} {'module run alone':>17} "
          f"{'imports: all':>12} {'crypto':>7} {'ansible':>7} {'ours':>6}")
    print(f"   {'':<29} {'pipe off / on':>14} {'KiB':>12} {'median ms':>17} {'ms':>12} {'ms':>7} {'ms':>7} {'ms':>6}   module zip")
    table = {}
    order = list(BUILTINS) + list(COMPARED)
    for label in order:
        if label not in traces[False]:
            continue
        files = probes.get(label) or local_files.get(label) or []
        size = wall = tsm_calls = 0.0
        split = {"cryptography": 0, "ansible": 0, "trustops": 0, "other": 0}
        for f in files:
            m = measured.get(f)
            if not m:
                continue
            size += m["size"]
            tsm_calls += m.get("counted", 0)
            wall += statistics.median(m["walls"])
            splits = [import_split(s) for s in m["imports"]]
            for key in split:
                split[key] += statistics.median([s[key] for s in splits])
        total = sum(split.values())
        zipped = [contents.get(f) for f in files if contents.get(f)]
        row = {"execs_off": traces[False][label]["execs"], "execs_on": traces[True].get(label, {}).get("execs"),
               "modules": [os.path.basename(f) for f in files], "payload_bytes": int(size), "run_s": wall,
               "imports_us": split, "zip_files": sum(z[0] for z in zipped), "zip_ours": sum(z[1] for z in zipped),
               "zip_unpacked_bytes": sum(z[2] for z in zipped), "tsm_calls": tsm_calls}
        table[label] = row
        print(f"   {label:<29} {row['execs_off']:>6} / {str(row['execs_on']):<5} {size / 1024:>12.1f} {wall * 1000:>17.0f} "
              f"{total / 1000:>12.0f} {split['cryptography'] / 1000:>7.0f} {split['ansible'] / 1000:>7.0f} "
              f"{split['trustops'] / 1000:>6.0f}   {row['zip_files']:>3} files ({row['zip_ours']} ours), "
              f"{row['zip_unpacked_bytes'] / 1024:.0f} KiB unpacked"
              + (f", {tsm_calls:.0f} tsm calls" if tsm_calls else "")
              + ("   (" + " + ".join(row["modules"]) + ")" if len(files) > 1 else ""))
    return table


# ------------------------------------------------------------------ modules: the main benchmark
def modules_main(args):
    work = args.keep or tempfile.mkdtemp(prefix="bench-fleet-modules-", dir="/var/tmp")
    os.makedirs(os.path.join(work, "callback"), exist_ok=True)
    with open(os.path.join(work, "callback", "bench_timing.py"), "w", encoding="utf-8") as handle:
        handle.write(CALLBACK)
    ssh_options = dict(option.split("=", 1) for option in args.ssh_option)
    only = set(args.only.split(",")) if args.only else None
    report = {"hosts": args.hosts, "rounds": args.rounds, "pipelining": args.pipelining, "ssh_options": ssh_options,
              "runs": []}
    failures = []
    try:
        controller, tarball, idp = make_inputs(work)
        print(f"modules over {args.hosts} hosts; forks {args.forks}; {args.rounds} converged passes; pipelining "
              f"{'on' if args.pipelining else 'off'}; ssh options {ssh_options or 'default'}; "
              f"load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} CPUs")
        for index, forks in enumerate(int(x) for x in args.forks.split(",")):
            directory = os.path.join(work, f"fleet-forks{forks}")
            started = time.monotonic()
            fleet = Fleet.up(args.hosts, directory, prefix=PREFIX, ssh_options=ssh_options)
            server = None
            try:
                up_s = time.monotonic() - started
                started = time.monotonic()
                install_inputs(fleet, tarball)
                server = TLSServer((fleet.gateway, TLS_PORT), controller)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                print(f"\n== forks {forks}: fleet {fleet.bridge} up in {up_s:.1f} s, inputs installed in "
                      f"{time.monotonic() - started:.1f} s; load average {os.getloadavg()[0]:.1f}")
                run = {"forks": forks}
                for title, rounds, converged in (("first converge", 1, False),
                                                 ("converged re-run", args.rounds, True)):
                    fresh_response(idp, controller)
                    wall, records, proc = run_playbook(work, fleet, rounds, forks, args.pipelining,
                                                       f"f{forks}-{'rerun' if converged else 'first'}", controller,
                                                       only=only)
                    a = analyse(records, args.hosts)
                    print_run(title, wall, a, rounds, converged, proc.cpu)
                    if converged:
                        for line in goal_lines(a, only):
                            print(line)
                    problems = ([f"ansible-playbook exit {proc.returncode}"] if proc.returncode != 0 else []) \
                        + ([f"{a['hosts_seen']} of {args.hosts} hosts answered"] if a["hosts_seen"] < args.hosts else []) \
                        + ([f"{len(a['bad'])} results not ok"] if a["bad"] else []) \
                        + ([f"{len(a['changed'])} changed results in the converged re-run"] if converged and a["changed"] else [])
                    if problems:
                        failures.append(f"forks {forks}, {title}: " + "; ".join(problems))
                        print(f"   NOT A VALID MEASUREMENT: {'; '.join(problems)}")
                        print(proc.stdout[-2000:] + proc.stderr[-2000:])
                    run["rerun" if converged else "first"] = {
                        "wall_s": wall, "load_after": os.getloadavg()[0], "changed": len(a["changed"]),
                        "cpu": proc.cpu,
                        "not_ok": len(a["bad"]),
                        "per_label": {k: list(quartiles(v)) for k, v in a["per_label"].items()},
                        "task_wall_median": {k: statistics.median(v) for k, v in a["task_walls"].items()},
                        "ratios": {f"{k[0]}/{k[1]}": list(quartiles(v)) for k, v in a["ratios"].items()},
                        "per_host_sum": list(quartiles(list(a["per_host"].values()))) if a["per_host"] else None,
                    }
                if index == 0 and not args.no_host_costs:
                    fresh_response(idp, controller)
                    run["host_costs"] = host_costs(work, fleet, controller, forks, only)
                report["runs"].append(run)
            finally:
                if server is not None:
                    server.shutdown()
                    server.server_close()
                started = time.monotonic()
                fleet.down()
                print(f"   fleet down in {time.monotonic() - started:.1f} s, nothing left")
        report["failures"] = failures
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=1)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        sys.exit("bench/fleet.py: the figures above are not a valid measurement: " + " | ".join(failures))


# ------------------------------------------------------------------ fixture: the fleet's own costs
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
    fleet = Fleet.up(n, directory, cache=cache, ssh_options=ssh_options, prefix=PREFIX)
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


def fixture_main(args):
    base = args.keep or tempfile.mkdtemp(prefix="bench-fleet-", dir="/var/tmp")
    ssh_options = dict(option.split("=", 1) for option in args.ssh_option)
    try:
        if not args.cold:
            started = time.monotonic()
            image = ensure_image()
            print(f"warm cache: image {image} found in {time.monotonic() - started:.3f} s")
        for n in (int(x) for x in args.hosts.split(",")):
            # cold: each size starts from an empty cache (debootstrap and its downloads included)
            cache = os.path.join(base, f"cold-cache-{n}") if args.cold else None
            bench_size(n, base, cache, args.ansible_hosts, [int(x) for x in args.forks.split(",")], ssh_options)
            if cache:
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what")
    mod = sub.add_parser("modules", help="the collection's modules next to builtins (default)")
    mod.add_argument("--hosts", type=int, default=50, help="fleet size (default 50)")
    mod.add_argument("--forks", default="10,25", help="comma-separated fork counts, a fresh fleet each (default 10,25)")
    mod.add_argument("--rounds", type=int, default=2, help="passes of the converged re-run (default 2)")
    mod.add_argument("--pipelining", action="store_true", help="ANSIBLE_PIPELINING on (default: Ansible's default, off)")
    mod.add_argument("--no-host-costs", action="store_true", help="skip the one-host round trip/payload/import part")
    mod.add_argument("--json", help="also write the figures to this JSON file")
    mod.add_argument("--only", metavar="LABEL,...", help="only these tasks, e.g. stat,copy,trust_anchor "
                     "(labels as printed; for a quick look at a few modules)")
    fix = sub.add_parser("fixture", help="the fleet fixture's own costs (up/down, memory, ping/setup)")
    fix.add_argument("--hosts", default="20,50")
    fix.add_argument("--ansible-hosts", type=int, default=20)
    fix.add_argument("--forks", default="10,20")
    fix.add_argument("--cold", action="store_true", help="make the image in a fresh cache first")
    for p in (mod, fix):
        p.add_argument("--ssh-option", action="append", default=None, metavar="NAME=VALUE",
                       help="extra ssh client option (repeatable); default KexAlgorithms=curve25519-sha256 "
                            "for modules, none for fixture; 'none' for none")
        p.add_argument("--keep", help="work directory (kept); default a temporary one, removed")
    argv = sys.argv[1:]
    if not argv or argv[0] not in ("modules", "fixture", "-h", "--help"):
        argv = ["modules", *argv]
    args = parser.parse_args(argv)
    # A node or a controller does not set PYTHONDONTWRITEBYTECODE (a test shell may): with it the
    # collection's bytecode cache (module_utils/_zipload.py) is not written, unlike on a fleet.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.ssh_option is None:
        args.ssh_option = ["KexAlgorithms=curve25519-sha256"] if args.what == "modules" else []
    args.ssh_option = [o for o in args.ssh_option if o != "none"]
    if os.geteuid() != 0:
        sys.exit("bench/fleet.py runs as root (namespaces, mounts, links)")
    (modules_main if args.what == "modules" else fixture_main)(args)


if __name__ == "__main__":
    main()
