# shellcheck shell=bash
# Shared setup for scripts/demo and scripts/test. Source it; do not run it.
#
# After `tt_setup` the caller has:
#   TT_ROOT                   the repository (= collection) root
#   TT_VENV                   $TT_ROOT/.venv, first on PATH, VIRTUAL_ENV exported
#   ANSIBLE_COLLECTIONS_PATH  $TT_ROOT/.build/collections, where
#                             ansible_collections/trustops/tableau -> $TT_ROOT
# Python code that imports `ansible_collections.trustops.tableau...` directly (unit tests)
# needs PYTHONPATH=$ANSIBLE_COLLECTIONS_PATH; scripts/test sets it for the units stage only.
# The collections shipped by the `ansible` package (community.general, community.crypto,
# ansible.windows, ...) are found by ansible-core in the venv's site-packages.

TT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TT_VENV="$TT_ROOT/.venv"
TT_BUILD="$TT_ROOT/.build"
TT_PYTHON=${TT_PYTHON:-python3.11}
export TT_ROOT TT_VENV TT_BUILD

tt_log() { printf '==> %s\n' "$*" >&2; }
tt_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with microseconds (bash >= 5).
tt_now() { printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
# tt_elapsed START -> seconds since START, one decimal.
tt_elapsed() { awk -v a="$1" -v b="$(tt_now)" 'BEGIN { printf "%.1f", b - a }'; }

# Serialise setup between concurrent runs in the same checkout (several developers or a
# developer and CI share one .venv). The lock is released when the caller's shell exits
# or tt_unlock is called.
tt_lock() {
    mkdir -p "$TT_BUILD"
    exec 9>"$TT_BUILD/.setup.lock"
    if ! flock -w 1800 9; then tt_die "could not lock $TT_BUILD/.setup.lock"; fi
}
tt_unlock() { exec 9>&-; }

# Debian packages some stages need. Installed only when missing, never upgraded.
# Services are not started by the install (tests start their own on their own ports).
tt_apt_ensure() {
    local missing=() pkg status sudo=() policy_created=0
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        tt_log "not a Debian system; please install: ${missing[*]}"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            tt_log "not root and no sudo; please install: ${missing[*]}"
            return 0
        fi
    fi
    tt_log "apt-get install ${missing[*]}"
    # Keep maintainer scripts from starting daemons (nginx and apache2 both want port 80).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
        policy_created=1
    fi
    local rc=0
    {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends "${missing[@]}" >/dev/null
    } || rc=$?
    if [ "$policy_created" -eq 1 ]; then "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; fi
    [ "$rc" -eq 0 ] || tt_die "apt-get install ${missing[*]} failed (rc=$rc)"
}

# tt_bindep_packages PROFILE... -> the platform:dpkg packages of bindep.txt (one per line) whose
# profiles include one of PROFILE..., plus the runtime ones (no profile). bindep.txt is the one
# list of system packages: ansible-builder reads it too (meta/execution-environment.yml).
tt_bindep_packages() {
    awk -v want="$*" '
        BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) wanted[w[i]] = 1 }
        /^[[:space:]]*(#|$)/ { next }
        {
            name = $1; spec = ""
            if (match($0, /\[[^]]*\]/)) spec = substr($0, RSTART + 1, RLENGTH - 2)
            k = split(spec, t, " "); platforms = 0; dpkg = 0; profiles = 0; hit = 0
            for (i = 1; i <= k; i++) {
                if (t[i] ~ /^platform:/) { platforms++; if (t[i] == "platform:dpkg") dpkg = 1 }
                else { profiles++; if (t[i] in wanted) hit = 1 }
            }
            if ((platforms == 0 || dpkg) && (profiles == 0 || hit)) print name
        }' "$TT_ROOT/bindep.txt"
}

# The fingerprint of what .venv must contain: both requirement files and the interpreter.
tt_requirements_hash() {
    {
        cat "$TT_ROOT/requirements-dev.txt" "$TT_ROOT/requirements.txt"
        "$TT_VENV/bin/python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

# Create or reuse .venv; (re)install requirements-dev.txt only when it changed.
tt_venv() {
    local stamp="$TT_VENV/.requirements.sha256" want t0
    t0=$(tt_now)
    if [ ! -x "$TT_VENV/bin/python" ] || ! "$TT_VENV/bin/python" -c '' 2>/dev/null; then
        command -v "$TT_PYTHON" >/dev/null 2>&1 ||
            tt_die "$TT_PYTHON not found (set TT_PYTHON to a Python 3.11 interpreter)"
        tt_log "creating $TT_VENV with $TT_PYTHON"
        rm -rf "$TT_VENV"
        "$TT_PYTHON" -m venv "$TT_VENV"
    fi
    want=$(tt_requirements_hash)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        tt_log "installing requirements-dev.txt into .venv (takes a minute on a new machine)"
        rm -f "$stamp"
        "$TT_VENV/bin/python" -m pip install --disable-pip-version-check -q \
            -r "$TT_ROOT/requirements-dev.txt"
        printf '%s\n' "$want" >"$stamp"
        tt_log "venv ready in $(tt_elapsed "$t0")s"
    fi
    export VIRTUAL_ENV="$TT_VENV"
    export PATH="$TT_VENV/bin:$PATH"
}

# Make the checkout importable as trustops.tableau without installing it.
tt_collection_path() {
    local ns="$TT_BUILD/collections/ansible_collections/trustops"
    mkdir -p "$ns"
    if [ "$(readlink "$ns/tableau" 2>/dev/null)" != "$TT_ROOT" ]; then
        rm -rf "$ns/tableau"
        ln -s "$TT_ROOT" "$ns/tableau"
    fi
    export ANSIBLE_COLLECTIONS_PATH="$TT_BUILD/collections"
}

# Everything both entry points need: the venv and the collection path.
tt_setup() {
    tt_lock
    tt_venv
    tt_collection_path
    tt_unlock
}
