# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TSM simulator's HTTPS API: a test-only stand-in for the TSM API on port 8850.

A real HTTPS server on 127.0.0.1 (``http.server`` + ``ssl``, Python standard library only), with its own
self-signed certificate made by ``openssl`` when it starts, backed by the same state file as the
simulator's command line (``simulator.py``): a change made through one is seen through the other,
and both hold the same lock. Started and stopped with ``tsm _sim api start [--port N]`` and
``tsm _sim api stop``; ``$TSM_SIM_HOME/api/api.json`` then says where it listens (``url``, ``port``,
``cafile``: the certificate to trust, ``pid``).

Files (in ``$TSM_SIM_HOME``): ``api.log``, one JSON line per request (method, path, query, headers, body,
status, the equivalent CLI command): the request as received, with exactly two things masked, the
``password`` of the login body (where the vendor's page puts it) and the values of secret keys and
fields (known secrets, and names with password, passphrase or secret); a password anywhere else would
show. Uploaded files are
logged by size and SHA-256. Counters: ``api`` in ``counters.json`` (requests, logins, logouts, reads,
writes, uploads, applies, job polls, failures, requests per endpoint); applies, restarts and writes
also count in the shared counters, as through the CLI.

Where each behaviour comes from
-------------------------------
help.tableau.com/v0.0/api/tsm_api/en-us/index.htm ("Tableau Services Manager API", the prerelease
0.5 alpha TSM API)
  * Endpoints are ``https://<server>:<port>/api/<version>/<endpoint>``, e.g.
    ``https://your-server:8850/api/0.5/login``; path, query and JSON body parameters; the login body is
    ``{"authentication": {"name": "<user_name>", "password": "<password>"}}``.
help.tableau.com/v0.0/api/tsm_api/en-us/docs/authentication.htm
  * HTTPS only; "By default, TSM uses a self-signed SSL certificate" (here: made at start).
  * Sign in with a POST to ``/login`` with the content-type header ``application/json``
    (the page's example uses ``/api/1.0/login``: both ``0.5`` and ``1.0`` are served, alike).
  * The account is an OS account on the server (Linux: ``tsmadmin`` group; Windows: an administrator),
    not a Tableau Server user: here the account of ``tsm _sim init --account=USER:PASS`` (or
    ``--require-login``).
help.tableau.com/v0.0/api/tsm_api/en-us/docs/tsm-reference.htm ("TSM API Reference", Async jobs)
  * ``GET /asyncJobs`` (query ``status``: Succeeded, Failed, Created, Running) -> 200
    ``{"asyncJobs": [...]}``; ``GET /asyncJobs/<jobId>`` -> 200 ``{"asyncJob": {...}}`` with the fields
    of the page's example: ``id``, ``status``, ``progress``, ``jobType``, ``createdAt``, ``updatedAt``,
    ``completedAt``, ``statusMessage``, ``statusMessageData``, ``jobTimeout``, ``worker`` and
    ``detailedProgress`` (``progressNotes``: ``step``, ``message``, ``messageData``, ``timestamp``,
    ``status``; ``doneSteps``, ``totalSteps``). A job is Created, then Running, then Succeeded or Failed.
The project's notes (/work/shared/notes/tsm.md, "TSM REST API")
  * ``POST /login`` answers 204 with the session cookie ``AUTH_COOKIE``; ``POST /logout``; ``GET /status``.

Unconfirmed (the simulator's choices; the client keeps each in one table, ``ENDPOINTS`` in
``plugins/module_utils/tsm/api.py``, so a check against a real server changes one place)
  * The status code and body of a failed login (here 401), and of every error (here
    ``{"error": {"statusCode": N, "message": "..."}}``); how long a session lasts (here: until logout).
  * ``GET /configurations/current``: the applied configuration, the document ``tsm settings export``
    writes (``configKeys``, ``configEntities``), applied values only.
  * ``PATCH /configurations/requestedChanges[?forceKeys=true]`` with ``{"configKeys": {...},
    "configEntities": {...}}`` stages pending changes all or nothing, as ``tsm settings import``
    (unknown keys need ``forceKeys``) -> 204.
  * ``GET /pendingChanges`` -> ``{"pendingChanges": {"restartRequired": bool, "changes": [{"section",
    "name", "value", "restartRequired"}]}}`` (secret values masked); ``DELETE /pendingChanges`` discards.
  * ``POST /pendingChanges/apply[?ignoreWarnings=true&deploymentsTimeoutSeconds=N]`` -> 202
    ``{"asyncJob": {...}}`` (job type ``DeployPendingChangesJob``); steps ``ValidatePendingChanges``,
    ``StopServer`` and ``StartServer`` (when a change needs a restart and the server runs),
    ``DeployConfiguration``. The apply prompt of the CLI has no API counterpart.
  * ``POST /fileUploads?fileName=NAME`` (raw bytes) -> 201 ``{"fileUpload": {"path": ...}}``: how the
    API receives the certificate, key, metadata, CA and CRL files that entities point to.
  * ``GET /status`` -> ``{"clusterStatus": {"rollupStatus": "Running"|"Stopped", "nodes": [...]}}``.

Failure injection: ``TSM_SIM_FAIL`` of the server process and ``tsm _sim fail SPEC`` (read on every
request), with the CLI's command names: ``login``, ``logout``, ``settings.export``
(configurations/current), ``settings.import`` (requestedChanges), ``pending-changes.list``,
``pending-changes.discard``, ``pending-changes.apply``, ``files.upload``, ``status``. ``exit=N``: the
request fails (HTTP 500) before changing anything; for ``pending-changes.apply`` the job fails at
``DeployConfiguration`` instead, nothing applied. ``hang=S``: the request (or the apply job's deploy
step) takes S seconds longer. ``timeout``: the apply job fails with a timeout, nothing applied.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

try:
    import simulator as sim  # pylint: disable=import-error  # run as a script: this directory is on sys.path
except ImportError:  # imported by the test harness (tests/support on sys.path)
    from tsm_sim import simulator as sim  # pylint: disable=import-error

VERSIONS = ("0.5", "1.0")
COOKIE = "AUTH_COOKIE"
JOB_TYPE = "DeployPendingChangesJob"
STEP_SECONDS_ENV = "TSM_SIM_API_STEP_SECONDS"  # how long each apply job step takes (default 0.1)
API_DIR = "api"
INFO = "api.json"
LOG = "api.log"

# (method, endpoint pattern, the CLI command it corresponds to, kind of request for the counters, label)
ROUTES = (
    ("POST", r"login", "login", "login", "/login"),
    ("POST", r"logout", "logout", "logout", "/logout"),
    ("GET", r"status", "status", "read", "/status"),
    ("GET", r"configurations/current", "settings.export", "read", "/configurations/current"),
    ("PATCH", r"configurations/requestedChanges", "settings.import", "write", "/configurations/requestedChanges"),
    ("GET", r"pendingChanges", "pending-changes.list", "read", "/pendingChanges"),
    ("DELETE", r"pendingChanges", "pending-changes.discard", "write", "/pendingChanges"),
    ("POST", r"pendingChanges/apply", "pending-changes.apply", "write", "/pendingChanges/apply"),
    ("GET", r"asyncJobs", "jobs.list", "poll", "/asyncJobs"),
    ("GET", r"asyncJobs/(?P<job>[^/]+)", "jobs.get", "poll", "/asyncJobs/<jobId>"),
    ("POST", r"fileUploads", "files.upload", "upload", "/fileUploads"),
)


class JobGone(Exception):
    """The job's server state was initialised again (``tsm _sim init``): the job stops."""


class ApiError(Exception):
    """An HTTP error answer: status and message."""

    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status
        self.message = message


def now_ms():
    return int(time.time() * 1000)


_SECRET_NAME = re.compile(r"password|passphrase|secret", re.I)


def _secret_field(entity, field):
    return (entity, field) in sim.SECRET_FIELDS or bool(_SECRET_NAME.search(field))


def _secret_key(key):
    """A key whose value the request log masks: the known secret keys, and any key named like a password,
    passphrase or secret ("Passwords and secrets that you enter during TSM configuration are encrypted after
    you save them", cli_pending-changes.htm; which keys a real server treats so is its own list)."""
    return key in sim.SECRET_KEYS or bool(_SECRET_NAME.search(key))


def masked_body(route, raw, content_type):
    """What the request log keeps of a body: the request as sent, but the login password and secret
    configuration values masked; uploads by size and digest."""
    if not raw:
        return None
    if route and route[2] == "files.upload":
        return {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    try:
        doc = json.loads(raw.decode("utf-8"))
    except ValueError:
        return raw.decode("utf-8", "replace")
    if route and route[2] == "login" and isinstance(doc, dict) and isinstance(doc.get("authentication"), dict) \
            and "password" in doc["authentication"]:
        doc["authentication"]["password"] = sim.MASK
    if isinstance(doc, dict):
        for key in list((doc.get("configKeys") or {}) if isinstance(doc.get("configKeys"), dict) else ()):
            if _secret_key(key) and doc["configKeys"][key] not in (None, ""):
                doc["configKeys"][key] = sim.MASK
        entities = doc.get("configEntities") if isinstance(doc.get("configEntities"), dict) else {}
        for name, body in entities.items():
            if isinstance(body, dict):
                for field in body:
                    if _secret_field(name, field) and body[field] not in (None, ""):
                        body[field] = sim.MASK
    return doc


class Api:
    """The API's behaviour on the simulator's state, without HTTP: :meth:`handle` answers one request."""

    def __init__(self, home):
        self.home = home
        self.store = sim.Store(home)
        self.log_path = os.path.join(home, LOG)
        self.step_seconds = float(os.environ.get(STEP_SECONDS_ENV) or 0.1)
        self.threads = []

    # ---- plumbing
    @staticmethod
    def route(method, endpoint):
        """(route, match) for a method and endpoint; ApiError 404/405."""
        allowed = []
        for route in ROUTES:
            match = re.fullmatch(route[1], endpoint)
            if match:
                if route[0] == method:
                    return route, match
                allowed.append(route[0])
        if allowed:
            raise ApiError(405, f"{method} is not allowed on /{endpoint} (allowed: {', '.join(sorted(allowed))})")
        raise ApiError(404, f"no such endpoint: /{endpoint}")

    def count(self, key, endpoint=None, amount=1):
        counters = self.store.counters()
        api = counters.setdefault("api", sim.fresh_api_counters())
        api[key] = api.get(key, 0) + amount
        if endpoint:
            api["endpoints"][endpoint] = api["endpoints"].get(endpoint, 0) + 1
        if key in ("writes", "failures"):
            counters[key] = counters.get(key, 0) + amount
        self.store.save_counters(counters)

    def log(self, record):
        with open(self.log_path, "a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    @staticmethod
    def session_key(token):
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def session_user(self, state, headers):
        cookies = {}
        for part in (headers.get("Cookie") or "").split(";"):
            name, _sep, value = part.strip().partition("=")
            if name:
                cookies[name] = value
        token = cookies.get(COOKIE)
        if not token:
            return None
        session = state.get("api_sessions", {}).get(self.session_key(token))
        return session["user"] if session else None

    # ---- one request
    def handle(self, method, path, query, headers, raw):
        """(status, JSON body or None, extra headers) for one request; logs and counts it."""
        started = time.time()
        route = None
        status, body, extra, user = 500, None, {}, None
        try:
            match = re.fullmatch(r"/api/(?P<version>[0-9.]+)/(?P<endpoint>.+?)/?", path)
            if not match or match.group("version") not in VERSIONS:
                raise ApiError(404, "no such API version or path: {} (served: {})".format(
                    path, ", ".join(f"/api/{v}/" for v in VERSIONS)))
            route, found = self.route(method, match.group("endpoint"))
            mode = sim.injected(route[2], self.home)
            if mode and mode.startswith("hang=") and route[2] != "pending-changes.apply":
                time.sleep(float(mode.split("=", 1)[1]))
                mode = None
            params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            with self.store.locked():
                self.count("requests", f"{method} {route[4]}")
                if mode and route[2] != "pending-changes.apply":
                    raise ApiError(500, "An error occurred on the server while running {} /{} (injected by {}).".format(
                        method, match.group("endpoint"), sim.FAIL_ENV))
                state = self.store.load()
                state.setdefault("api_sessions", {})
                state.setdefault("jobs", {})
                if route[2] == "login":
                    status, body, extra, user = self.login(state, raw)
                else:
                    user = self.session_user(state, headers)
                    if user is None:
                        raise ApiError(401, "not signed in: POST /login first (the session cookie "
                                            f"{COOKIE} is missing or no longer valid)")
                    status, body, extra = self.dispatch(route, found, state, headers, params, raw, mode)
        except ApiError as exc:
            status, body, extra = exc.status, {"error": {"statusCode": exc.status, "message": exc.message}}, {}
            with self.store.locked():
                self.count("failures")
        except sim.SimError as exc:
            status, body, extra = 400, {"error": {"statusCode": 400, "message": exc.message.strip()}}, {}
            with self.store.locked():
                self.count("failures")
        shown_headers = dict((k, v) for k, v in headers.items() if k.lower() != "cookie")
        if headers.get("Cookie"):
            shown_headers["Cookie"] = f"{COOKIE}=(session)" if COOKIE in headers.get("Cookie") else "(other)"
        self.log({"time": started, "seconds": round(time.time() - started, 3), "method": method, "path": path,
                  "query": query, "headers": shown_headers, "user": user, "status": status,
                  "command": route[2] if route else None,
                  "body": masked_body(route, raw, headers.get("Content-Type"))})
        return status, body, extra

    def dispatch(self, route, found, state, headers, params, raw, mode):
        kind = route[3]
        command = route[2]
        if kind == "read":
            self.count("reads")
        elif kind == "poll":
            self.count("job_polls")
        server = sim.Server(self.store, state, None, None)
        if command == "logout":
            state["api_sessions"].pop(self.session_key(_cookie(headers)), None)
            self.store.save(state)
            self.count("logouts")
            return 204, None, {"Set-Cookie": f"{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly"}
        if command == "status":
            running = state["status"] == "running"
            rollup = "Running" if running else "Stopped"
            services = [{"serviceName": name, "instances": [{"instanceId": "0", "processStatus": rollup}]}
                        for name in ("gateway", "vizqlserver", "tabadmincontroller")]
            return 200, {"clusterStatus": {"rollupStatus": rollup, "nodes": [
                {"nodeId": "node1", "rollupStatus": rollup, "services": services}]}}, {}
        if command == "settings.export":
            return 200, server.exported(), {}
        if command == "settings.import":
            doc = _json_body(raw)
            server.import_doc(doc, force_keys=_true(params.get("forceKeys")), source="The request body")
            self.store.save(state)
            self.count("writes")
            return 204, None, {}
        if command == "pending-changes.list":
            changes = [{"section": section, "name": name,
                        "value": sim.MASK if _is_secret(name) and value not in (None, "") else value,
                        "restartRequired": restart}
                       for section, name, value, restart in server.pending_items()]
            return 200, {"pendingChanges": {"restartRequired": any(c["restartRequired"] for c in changes),
                                            "changes": changes}}, {}
        if command == "pending-changes.discard":
            if server.has_pending():
                state["pending"] = {"configKeys": {}, "configEntities": {}}
                self.store.save(state)
                self.count("writes")
            return 204, None, {}
        if command == "pending-changes.apply":
            return self.start_apply(state, server, params, mode)
        if command == "jobs.list":
            wanted = params.get("status")
            jobs = [j for _i, j in sorted(state["jobs"].items(), key=lambda item: int(item[0]))
                    if not wanted or j["status"] == wanted]
            return 200, {"asyncJobs": jobs}, {}
        if command == "jobs.get":
            job = state["jobs"].get(found.group("job"))
            if job is None:
                raise ApiError(404, "no such job: {}".format(found.group("job")))
            return 200, {"asyncJob": job}, {}
        if command == "files.upload":
            return self.upload(params, raw)
        raise ApiError(404, f"not implemented: {command}")  # pragma: no cover - every route is handled

    # ---- endpoints with more to do
    def login(self, state, raw):
        doc = _json_body(raw)
        auth = doc.get("authentication") if isinstance(doc, dict) else None
        if not isinstance(auth, dict) or not isinstance(auth.get("name"), str) or not isinstance(auth.get("password"), str):
            raise ApiError(400, 'the body must be {"authentication": {"name": "<user_name>", "password": "<password>"}}')
        account = state.get("auth", {})
        if not account.get("username"):
            raise ApiError(401, "no TSM account on this simulated server (tsm _sim init --account=USER:PASS)")
        digest = hashlib.sha256(auth["password"].encode("utf-8")).hexdigest()
        if auth["name"] != account.get("username") or digest != account.get("password_sha256"):
            raise ApiError(401, f"Authentication failed: wrong user name or password for {auth['name']}")
        token = secrets.token_urlsafe(24)
        state["api_sessions"][self.session_key(token)] = {"user": auth["name"], "created": now_ms()}
        self.store.save(state)
        self.count("logins")
        return 204, None, {"Set-Cookie": f"{COOKIE}={token}; Path=/; Secure; HttpOnly"}, auth["name"]

    def upload(self, params, raw):
        name = params.get("fileName") or ""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}", name):
            raise ApiError(400, "fileName: give a plain file name (letters, digits, '.', '_', '-')")
        directory = os.path.join(self.store.files_dir, "uploads")
        os.makedirs(directory, 0o755, exist_ok=True)
        target = os.path.join(directory, name)
        with open(target + ".part", "wb") as handle:
            handle.write(raw)
        os.chmod(target + ".part", 0o600)
        os.rename(target + ".part", target)
        self.count("uploads")
        return 201, {"fileUpload": {"path": target, "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}}, {}

    def start_apply(self, state, server, params, mode):
        state["job"] = state.get("job", 0) + 1
        job_id = str(state["job"])
        timeout = int(params.get("deploymentsTimeoutSeconds") or 1800)
        restart = server.needs_restart() and state["status"] == "running"
        steps = ["ValidatePendingChanges"] + (["StopServer"] if restart else []) + ["DeployConfiguration"] + (
            ["StartServer"] if restart else [])
        if not server.has_pending():
            steps = []
        stamp = now_ms()
        job = {"id": int(job_id), "status": "Created", "progress": 0, "jobType": JOB_TYPE, "createdAt": stamp,
               "updatedAt": stamp, "completedAt": None, "statusMessage": "", "statusMessageData": [],
               "jobTimeout": timeout, "worker": "node1",
               "detailedProgress": {"progressNotes": [], "doneSteps": 0, "totalSteps": len(steps)}}
        if not steps:
            job.update(status="Succeeded", progress=100, completedAt=stamp,
                       statusMessage="There are no pending changes to apply.")
        state["jobs"][job_id] = job
        self.store.save(state)
        self.count("writes")
        if steps:
            worker = threading.Thread(target=self.run_job, daemon=True, args=(
                job_id, state.get("epoch"), steps, mode, _true(params.get("ignoreWarnings"))))
            worker.start()
            self.threads.append(worker)
        return 202, {"asyncJob": job}, {}

    # ---- the apply job (a thread of the server process)
    def _job_update(self, job_id, epoch, note=None, **fields):
        with self.store.locked():
            state = self.store.load()
            if state.get("epoch") != epoch or job_id not in state.get("jobs", {}):
                raise JobGone(job_id)  # the simulated server was initialised again under the job
            job = state["jobs"][job_id]
            if note:
                note = dict({"messageData": [], "timestamp": now_ms()}, **note)
                job["detailedProgress"]["progressNotes"].append(note)
                if note["status"] == "Succeeded":
                    job["detailedProgress"]["doneSteps"] += 1
                total = job["detailedProgress"]["totalSteps"] or 1
                job["progress"] = int(100 * job["detailedProgress"]["doneSteps"] / total)
            job.update(fields)
            job["updatedAt"] = now_ms()
            self.store.save(state)
            return state, job

    def run_job(self, job_id, epoch, steps, mode, ignore_warnings):
        try:
            self._run_job(job_id, epoch, steps, mode, ignore_warnings)
        except JobGone:
            pass

    def _run_job(self, job_id, epoch, steps, mode, _ignore_warnings):
        messages = {"ValidatePendingChanges": "Validating the pending changes.",
                    "StopServer": "Stopping Tableau Server.", "DeployConfiguration": "Deploying the configuration.",
                    "StartServer": "Starting Tableau Server."}
        self._job_update(job_id, epoch, status="Running")
        for step in steps:
            self._job_update(job_id, epoch, {"step": step, "message": messages[step], "status": "Running"})
            delay = self.step_seconds
            if step == "DeployConfiguration" and mode and mode.startswith("hang="):
                delay += float(mode.split("=", 1)[1])
            time.sleep(delay)
            failure = None
            with self.store.locked():
                state = self.store.load()
                if state.get("epoch") != epoch:
                    return
                server = sim.Server(self.store, state, None, None)
                if step == "ValidatePendingChanges":
                    errors = server.validate()
                    if errors:
                        failure = "The pending changes cannot be applied: {}. Nothing was applied.".format("; ".join(errors))
                elif step == "DeployConfiguration":
                    if mode == "timeout":
                        failure = "The job timed out after {} seconds (injected by {}). Nothing was applied.".format(
                            state["jobs"][job_id]["jobTimeout"], sim.FAIL_ENV)
                    elif mode and not mode.startswith("hang="):
                        failure = ("An error occurred on the server while deploying the configuration (injected by "
                                   f"{sim.FAIL_ENV}). Nothing was applied.")
                    else:
                        server.apply_all()
                        self.store.save(state)
                        counters = self.store.counters()
                        counters["api"]["applies"] = counters["api"].get("applies", 0) + 1
                        self.store.save_counters(counters)
            if failure:
                with self.store.locked():
                    self.count("failures")
                self._job_update(job_id, epoch, {"step": step, "message": failure, "status": "Failed"}, status="Failed",
                                 statusMessage=failure, completedAt=now_ms())
                return
            self._job_update(job_id, epoch, {"step": step, "message": messages[step], "status": "Succeeded"})
        self._job_update(job_id, epoch, status="Succeeded", progress=100, completedAt=now_ms(),
                         statusMessage="This job completed successfully.")


def _cookie(headers):
    for part in (headers.get("Cookie") or "").split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return ""


def _true(value):
    return str(value or "").lower() in ("true", "1", "yes")


def _is_secret(name):
    return name in sim.SECRET_KEYS or tuple(name.split(".", 1)) in sim.SECRET_FIELDS


def _json_body(raw):
    try:
        return json.loads((raw or b"{}").decode("utf-8"))
    except ValueError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}")


# ------------------------------------------------------------------------------ HTTPS

class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "TSM-simulator/1"
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.request.settimeout(60)
        self.request.do_handshake()
        http.server.BaseHTTPRequestHandler.setup(self)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin  # api.log has every request
        pass

    def _answer(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body, extra = self.server.api.handle(method, parsed.path, parsed.query, self.headers, raw)
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        self._answer("GET")

    def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
        self._answer("POST")

    def do_PATCH(self):  # noqa: N802  pylint: disable=invalid-name
        self._answer("PATCH")

    def do_PUT(self):  # noqa: N802  pylint: disable=invalid-name
        self._answer("PUT")

    def do_DELETE(self):  # noqa: N802  pylint: disable=invalid-name
        self._answer("DELETE")


class HttpsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, api, context):
        http.server.ThreadingHTTPServer.__init__(self, address, Handler)
        self.api = api
        self.context = context

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):  # a client that refuses our certificate: not our error
        pass


def make_certificate(directory):
    """A fresh self-signed certificate for 127.0.0.1 and localhost (as TSM's default one), by openssl."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    proc = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=tsm-simulator",
                           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                          stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if proc.returncode != 0:
        raise sim.SimError("openssl could not make the API certificate: " + proc.stderr.decode("utf-8", "replace"))
    os.chmod(key, 0o600)
    return cert, key


def serve(home, port=0):
    """Serve the API of the simulated server in ``home`` until SIGTERM; writes api/api.json when ready."""
    directory = os.path.join(home, API_DIR)
    os.makedirs(directory, 0o755, exist_ok=True)
    cert, key = make_certificate(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = HttpsServer(("127.0.0.1", port), Api(home), context)
    real_port = httpd.server_address[1]
    info = {"url": f"https://127.0.0.1:{real_port}", "port": real_port, "pid": os.getpid(), "cafile": cert,
            "versions": list(VERSIONS)}
    sim._atomic_write(os.path.join(directory, INFO), json.dumps(info, indent=2) + "\n")  # pylint: disable=protected-access

    def stop(_signum, _frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        try:
            os.unlink(os.path.join(directory, INFO))
        except OSError:
            pass


def read_info(home):
    try:
        with open(os.path.join(home, API_DIR, INFO)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _alive(pid):
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that exited (a zombie answers kill 0)
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def start(home, port=0, wait=30.0, python=None):
    """Start the API server in the background (a new session, output in api/server.log); returns its info."""
    info = read_info(home)
    if info and _alive(info["pid"]):
        return info
    directory = os.path.join(home, API_DIR)
    os.makedirs(directory, 0o755, exist_ok=True)
    env = dict(os.environ, TSM_SIM_HOME=home)
    with open(os.path.join(directory, "server.log"), "ab") as log:
        proc = subprocess.Popen([python or sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "simulator.py"),
                                 "_sim", "api", "serve", "--port", str(port)], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, env=env, start_new_session=True, close_fds=True)
    deadline = time.time() + wait
    while time.time() < deadline:
        info = read_info(home)
        if info and info.get("pid") == proc.pid:
            return info
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise sim.SimError("the API server did not start; see {}".format(os.path.join(directory, "server.log")))


def stop_server(home, wait=10.0):
    """Stop the API server of ``home`` (by the pid it wrote); True when one was running."""
    info = read_info(home)
    if not info or not _alive(info["pid"]):
        return False
    os.kill(info["pid"], signal.SIGTERM)
    deadline = time.time() + wait
    while time.time() < deadline and _alive(info["pid"]):
        time.sleep(0.05)
    return True


def api_admin(home, argv, out, err):
    """``tsm _sim api start [--port N] | stop | serve [--port N] | show``."""
    command = argv[0] if argv else "show"
    port = 0
    if "--port" in argv[1:]:
        port = int(argv[argv.index("--port") + 1])
    try:
        if command == "serve":
            serve(home, port)
            return 0
        if command == "start":
            info = start(home, port)
            out.write(json.dumps(info) + "\n")
            return 0
        if command == "stop":
            out.write("stopped\n" if stop_server(home) else "not running\n")
            return 0
        if command == "show":
            out.write(json.dumps(read_info(home)) + "\n")
            return 0
    except sim.SimError as exc:
        err.write(exc.message + "\n")
        return 1
    err.write("usage: tsm _sim api start [--port N] | stop | serve [--port N] | show\n")
    return 2
