# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_zipload.py: the collection's files compiled once when imported from a zip (issue 16).

A zip laid out as Ansible's AnsiballZ payload (the collection's module_utils and modules, empty
``__init__.py`` for the namespace levels) is imported in a fresh interpreter (this venv's, and
Debian 12's /usr/bin/python3 when it is there) with ``compile`` counted per file: with the finder,
each of our files is compiled once; the modules get the same ``__file__``, ``__path__``, loader and
source as zipimport gives them on its own; a missing name still fails the usual way; and outside a zip
the finder leaves imports to the usual finders.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import _zipload

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(_zipload.__file__), "..", ".."))
PACKAGE = "ansible_collections.trustops.tableau.plugins"
PYTHONS = [sys.executable] + (["/usr/bin/python3"] if os.path.exists("/usr/bin/python3") else [])
#: other CPython versions on this machine (pyenv's) that ansible-core's module code supports (3.8 on),
#: for the TSM modules (no cryptography needed)
OTHER_PYTHONS = sorted(path for path in glob.glob("/root/.pyenv/versions/3.*/bin/python3")
                       if int(path.split("/versions/3.")[1].split(".")[0]) >= 8)
#: modules imported in the probe (their closures cover most of module_utils)
MODULES = ("client_cert_identity", "tls_probe", "saml_keypair_check", "tsm_info", "mobile_trust_profile")

PROBE = r"""
import builtins, collections, importlib, json, os, sys, types
sys.path.insert(0, sys.argv[1])
if os.environ.get("PROBE_ANSIBLE_ARGS"):  # the task's arguments, as AnsiballZ hands them to basic
    from ansible.module_utils import basic
    basic._ANSIBLE_ARGS = os.environ["PROBE_ANSIBLE_ARGS"].encode()
finder = sys.argv[2] == "finder"
counts = collections.Counter()
real_compile = builtins.compile
def counting(source, filename, *args, **kwargs):
    counts[filename] += 1
    return real_compile(source, filename, *args, **kwargs)
builtins.compile = counting
if finder:
    importlib.import_module("ansible_collections.trustops.tableau.plugins.module_utils._zipload")
else:  # the modules import _zipload first: a stand-in keeps zipimport on its own
    sys.modules["ansible_collections.trustops.tableau.plugins.module_utils._zipload"] = types.ModuleType("_zipload")
for name in sys.argv[3].split(","):
    importlib.import_module("ansible_collections.trustops.tableau.plugins.modules." + name)
ours = {name: module for name, module in sys.modules.items()
        if name.startswith("ansible_collections.trustops.tableau.plugins.module_utils") and not name.endswith("._zipload")}
facts = {name: {"file": getattr(module, "__file__", None), "path": list(getattr(module, "__path__", []) or []),
                "importer": type(getattr(module.__loader__, "importer", module.__loader__)).__name__,
                "origin": module.__spec__.origin, "source": len(module.__loader__.get_source(name) or ""),
                "code_files": sorted({value.__code__.co_filename for value in vars(module).values()
                                      if isinstance(value, types.FunctionType) and value.__module__ == name})}
         for name, module in ours.items()}
loaders = sorted({type(module.__loader__).__name__ for name, module in ours.items()
                  if not name.endswith(".module_utils")})  # imported before the finder
try:
    importlib.import_module("ansible_collections.trustops.tableau.plugins.module_utils.no_such_file")
    missing = "imported"
except ModuleNotFoundError as exc:
    missing = exc.name
compiled = {filename.split(".zip/", 1)[1]: n for filename, n in counts.items() if ".zip/ansible_collections/" in filename}
print(json.dumps({"compiled": compiled, "facts": facts, "missing": missing, "loaders": loaders}))
"""


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """The collection's module_utils and modules in a zip with AnsiballZ's layout."""
    path = tmp_path_factory.mktemp("zipload") / "payload.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for level in ("ansible_collections", "ansible_collections/trustops", "ansible_collections/trustops/tableau",
                      "ansible_collections/trustops/tableau/plugins",
                      "ansible_collections/trustops/tableau/plugins/module_utils",
                      "ansible_collections/trustops/tableau/plugins/modules"):
            archive.writestr(f"{level}/__init__.py", "")
        for folder in ("module_utils", "modules"):
            for top, _dirs, files in os.walk(os.path.join(COLLECTION, "plugins", folder)):
                for name in files:
                    if name.endswith(".py") and not (folder == "modules" and name == "__init__.py"):
                        full = os.path.join(top, name)
                        archive.write(full, "ansible_collections/trustops/tableau/" + os.path.relpath(full, COLLECTION))
    ansible_dir = os.path.dirname(__import__("ansible").__file__)
    return str(path), os.path.dirname(ansible_dir)


def _probe(python, payload, mode, modules=MODULES, cache="off", **extra):
    """Import ``modules`` from the zip in a fresh ``python``; ``cache`` is TRUSTOPS_TABLEAU_BYTECODE_CACHE
    (off by default: these tests count compiles)."""
    zip_path, ansible_parent = payload
    env = dict(os.environ, PYTHONPATH=ansible_parent, PYTHONDONTWRITEBYTECODE="1", TRUSTOPS_TABLEAU_BYTECODE_CACHE=cache)
    if cache != "off":
        del env["PYTHONDONTWRITEBYTECODE"]
    env.update(extra)
    if python != sys.executable:  # another python: its own libraries, only ansible from the venv
        env["PYTHONPATH"] = _ansible_only(ansible_parent, os.path.dirname(zip_path))
    proc = subprocess.run([python, "-c", PROBE, zip_path, mode, ",".join(modules)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _ansible_only(ansible_parent, base):
    """A directory holding only the ansible package (Debian's python must not see the venv's cryptography)."""
    folder = os.path.join(base, "ansible-only")
    if not os.path.isdir(folder):
        os.makedirs(folder)
        os.symlink(os.path.join(ansible_parent, "ansible"), os.path.join(folder, "ansible"))
    return folder


@pytest.mark.parametrize("python", PYTHONS)
def test_each_file_is_compiled_once_with_what_zipimport_gives(python, payload):
    plain = _probe(python, payload, "plain")
    fast = _probe(python, payload, "finder")

    assert set(fast["facts"]) == set(plain["facts"])  # the same modules were imported
    assert len(fast["facts"]) > 15
    ours = {name for name in fast["compiled"] if "/plugins/module_utils/" in name and not name.endswith("/_zipload.py")}
    assert ours == {name for name in plain["compiled"] if "/plugins/module_utils/" in name}
    # zipimport alone compiles our files more than once; with the finder each file once, except the
    # package's empty __init__.py, imported before the finder is in place.
    before_finder = {"ansible_collections/trustops/tableau/plugins/module_utils/__init__.py"}
    assert {name: n for name, n in fast["compiled"].items() if name in ours - before_finder and n != 1} == {}
    assert sum(plain["compiled"][name] for name in ours) > sum(fast["compiled"][name] for name in ours)

    for name, facts in fast["facts"].items():
        assert facts == plain["facts"][name], name
        assert facts["importer"] == "zipimporter"
        assert ".zip/ansible_collections/" in facts["file"]
        assert facts["code_files"] in ([], [facts["file"]])
    assert fast["loaders"] == ["ZipSourceLoader"] and plain["loaders"] == ["zipimporter"]
    packages = {name for name, facts in fast["facts"].items() if facts["path"]}
    assert f"{PACKAGE}.module_utils.tsm" in packages and f"{PACKAGE}.module_utils" in packages
    assert fast["missing"] == plain["missing"] == f"{PACKAGE}.module_utils.no_such_file"


@pytest.mark.parametrize("python", [p for p in OTHER_PYTHONS if os.path.realpath(p) not in map(os.path.realpath, PYTHONS)])
def test_other_python_versions(python, payload):
    """zipimport compiles twice from 3.8 to 3.13; the finder makes it once on each (TSM modules only:
    these interpreters have no cryptography)."""
    plain = _probe(python, payload, "plain", ("tsm_info", "tsm_config"))
    fast = _probe(python, payload, "finder", ("tsm_info", "tsm_config"))
    ours = {name for name in fast["compiled"] if "/plugins/module_utils/" in name and not name.endswith(("/_zipload.py", "/module_utils/__init__.py"))}
    assert len(ours) > 10
    assert {fast["compiled"][name] for name in ours} == {1}
    assert fast["facts"] == plain["facts"]


def test_outside_a_zip_the_usual_finders_answer():
    code = ("import importlib, sys\n"
            "importlib.import_module('ansible_collections.trustops.tableau.plugins.module_utils._zipload')\n"
            "module = importlib.import_module('ansible_collections.trustops.tableau.plugins.module_utils.findings')\n"
            "from importlib.machinery import PathFinder\n"
            "ours = [i for i, finder in enumerate(sys.meta_path) if type(finder).__name__ == 'OneCompileFinder']\n"
            "print(type(module.__loader__).__name__, module.__file__, ours == [sys.meta_path.index(PathFinder) - 1])\n")
    collections_root = os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION)))
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=collections_root),
                          capture_output=True, text=True, timeout=60, check=True)
    loader, path, first = proc.stdout.split()
    assert loader == "SourceFileLoader"
    assert os.path.isfile(path)
    assert first == "True"  # once, just before the path finder


def test_install_is_idempotent():
    before = list(sys.meta_path)
    _zipload.install()
    _zipload.install()
    assert sys.meta_path == before
    assert sum(isinstance(finder, _zipload.OneCompileFinder) for finder in sys.meta_path) == 1


def test_every_python_module_imports_it_before_the_rest_of_the_collection():
    import ast  # pylint: disable=import-outside-toplevel

    folder = os.path.join(COLLECTION, "plugins", "modules")
    checked = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py") or name == "__init__.py":
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        ours = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("ansible_collections.trustops.tableau")]
        if not ours:
            continue  # win_trust_anchor.py: documentation only (the module is PowerShell)
        first = min(ours, key=lambda node: node.lineno)
        assert (first.module, [alias.name for alias in first.names]) == (
            "ansible_collections.trustops.tableau.plugins.module_utils", ["_zipload"]), name
        checked += 1
    assert checked >= 14


# --------------------------------------------------------------------------- the bytecode cache

TAG_OF = {}


def _tag(python):
    if python not in TAG_OF:
        TAG_OF[python] = subprocess.run([python, "-c", "import sys; print(sys.implementation.cache_tag)"],
                                        capture_output=True, text=True, check=True).stdout.strip()
    return TAG_OF[python]


def _copy(payload, folder, change=None):
    """The payload zip at another path (another run's temporary directory); ``change`` = (file, text
    appended) changes one source."""
    zip_path, ansible_parent = payload
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "ansible_moved_payload.zip"
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if change and item.filename.endswith(change[0]):
                data += change[1].encode()
            out.writestr(item.filename, data)
    return str(target), ansible_parent


def _ours(run):
    """How many times each of our files (not the __init__ imported before the finder) was compiled."""
    return {name: n for name, n in run["compiled"].items() if "/plugins/module_utils/" in name
            and not name.endswith(("/_zipload.py", "/module_utils/__init__.py"))}


@pytest.mark.parametrize("python", PYTHONS)
def test_the_next_run_loads_the_cache_instead_of_compiling(python, payload, tmp_path):
    cache = tmp_path / "cache"
    first = _probe(python, payload, "finder", cache=str(cache))
    compiled = _ours(first)
    assert len(compiled) > 15 and set(compiled.values()) == {1}
    entries = {path.name: path for path in (cache / _tag(python)).iterdir()}
    assert {name for name in entries if ".module_utils." in name} == {
        name + ".pyc" for name in first["facts"] if not name.endswith((".module_utils", "._zipload"))}
    assert f"{PACKAGE}.modules.tls_probe.pyc" in entries
    assert oct(cache.stat().st_mode & 0o777) == oct((cache / _tag(python)).stat().st_mode & 0o777) == "0o700"
    assert {oct(path.stat().st_mode & 0o777) for path in entries.values()} == {"0o600"}

    moved = _copy(payload, tmp_path / "run2")  # the next task: the same sources in another temporary path
    second = _probe(python, moved, "finder", cache=str(cache))
    assert _ours(second) == {}
    plain = _probe(python, moved, "plain")
    assert second["facts"] == plain["facts"]  # file, origin, source and the code's file name are this run's
    assert any(facts["code_files"] for facts in second["facts"].values())


@pytest.mark.parametrize("python", PYTHONS)
def test_a_changed_source_is_compiled_again_and_replaces_its_entry(python, payload, tmp_path):
    cache = tmp_path / "cache"
    _probe(python, payload, "finder", cache=str(cache))
    changed = _copy(payload, tmp_path / "run2", change=("module_utils/findings.py", "\nCHANGED_BY_THE_TEST = 1\n"))
    second = _probe(python, changed, "finder", cache=str(cache))
    assert list(_ours(second)) == ["ansible_collections/trustops/tableau/plugins/module_utils/findings.py"]
    third = _probe(python, _copy(changed, tmp_path / "run3"), "finder", cache=str(cache))
    assert _ours(third) == {}
    back = _probe(python, payload, "finder", cache=str(cache))  # the original source: compiled again
    assert list(_ours(back)) == ["ansible_collections/trustops/tableau/plugins/module_utils/findings.py"]


def test_entries_that_are_damaged_or_not_private_are_not_used(payload, tmp_path):
    python = sys.executable
    cache = tmp_path / "cache"
    _probe(python, payload, "finder", cache=str(cache))
    folder = cache / _tag(python)
    prefix = "ansible_collections.trustops.tableau.plugins.module_utils."
    (folder / f"{prefix}findings.pyc").write_bytes((folder / f"{prefix}findings.pyc").read_bytes()[:40])  # cut
    garbage = folder / f"{prefix}certs.pyc"
    garbage.write_bytes(garbage.read_bytes()[:16] + b"\x00garbage")  # the right header, no code
    writable = folder / f"{prefix}reader.pyc"
    writable.chmod(0o666)  # others could have written it
    linked = folder / f"{prefix}policy.pyc"
    elsewhere = tmp_path / "policy.pyc"
    elsewhere.write_bytes(linked.read_bytes())
    linked.unlink()
    linked.symlink_to(elsewhere)  # a symbolic link is not followed
    run = _probe(python, payload, "finder", cache=str(cache))
    assert sorted(name.rsplit("/", 1)[1] for name in _ours(run)) == ["certs.py", "findings.py", "policy.py", "reader.py"]
    assert set(_ours(run).values()) == {1}
    assert not linked.is_symlink() and linked.stat().st_mode & 0o777 == 0o600  # replaced by a real entry

    folder.chmod(0o755)  # a directory others may read is not this user's private cache: not used at all
    cache.chmod(0o755)
    run = _probe(python, payload, "finder", cache=str(cache))
    assert len(_ours(run)) > 15 and set(_ours(run).values()) == {1}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory to another user")
def test_a_directory_of_another_user_is_not_used(payload, tmp_path):
    python = sys.executable
    cache = tmp_path / "cache"
    _probe(python, payload, "finder", cache=str(cache))
    os.chown(cache / _tag(python), 65534, 65534)
    run = _probe(python, payload, "finder", cache=str(cache))
    assert len(_ours(run)) > 15 and set(_ours(run).values()) == {1}


def test_off_and_pythondontwritebytecode(payload, tmp_path):
    python = sys.executable
    cache = tmp_path / "cache"
    _probe(python, payload, "finder", cache="off")
    _probe(python, payload, "finder", cache=str(cache), PYTHONDONTWRITEBYTECODE="1")
    assert not cache.exists()  # nothing written
    _probe(python, payload, "finder", cache=str(cache))
    before = {path.name: path.stat().st_mtime_ns for path in (cache / _tag(python)).iterdir()}
    changed = _copy(payload, tmp_path / "run2", change=("module_utils/findings.py", "\n"))
    run = _probe(python, changed, "finder", cache=str(cache), PYTHONDONTWRITEBYTECODE="1")
    assert list(_ours(run)) == ["ansible_collections/trustops/tableau/plugins/module_utils/findings.py"]  # read, not written
    assert {path.name: path.stat().st_mtime_ns for path in (cache / _tag(python)).iterdir()} == before
    relative = _probe(python, payload, "finder", cache="relative/path")
    assert len(_ours(relative)) > 15  # a relative path is refused: compiled as without a cache


def test_the_default_place_is_the_effective_users_home(tmp_path):
    """Without the variable the cache is ~/.cache/trustops.tableau/<tag> of the effective user
    (from the password database: a HOME of another user, as sudo may leave it, is not used)."""
    import pwd  # pylint: disable=import-outside-toplevel

    home = pwd.getpwuid(os.geteuid()).pw_dir
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from ansible_collections.trustops.tableau.plugins.module_utils import _zipload; print(_zipload.default_base())")
    collections_root = os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION)))
    env = dict(os.environ, HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code, collections_root], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == os.path.join(home, ".cache", "trustops.tableau") and not out.startswith(str(tmp_path))


def test_check_mode_reads_the_cache_and_writes_nothing(payload, tmp_path):
    python = sys.executable
    cache = tmp_path / "cache"
    check = json.dumps({"ANSIBLE_MODULE_ARGS": {"certs": [], "_ansible_check_mode": True}})
    normal = json.dumps({"ANSIBLE_MODULE_ARGS": {"certs": [], "_ansible_check_mode": False}})
    run = _probe(python, payload, "finder", cache=str(cache), PROBE_ANSIBLE_ARGS=check)
    assert len(_ours(run)) > 15 and not cache.exists()  # compiled, nothing written
    _probe(python, payload, "finder", cache=str(cache), PROBE_ANSIBLE_ARGS=normal)
    before = {path.name: path.stat().st_mtime_ns for path in (cache / _tag(python)).iterdir()}
    assert len(before) > 15
    changed = _copy(payload, tmp_path / "run2", change=("module_utils/findings.py", "\n"))
    run = _probe(python, changed, "finder", cache=str(cache), PROBE_ANSIBLE_ARGS=check)
    assert list(_ours(run)) == ["ansible_collections/trustops/tableau/plugins/module_utils/findings.py"]  # the rest read
    assert {path.name: path.stat().st_mtime_ns for path in (cache / _tag(python)).iterdir()} == before


def test_through_ansible_playbook(tmp_path):
    """The whole chain: ansible-playbook runs a module from its AnsiballZ zip on localhost; in check
    mode nothing is written, the next run writes the cache, the run after that compiles none of our
    files (their entries are not rewritten)."""
    sys.path.insert(0, os.path.join(COLLECTION, "tests", "support"))
    from module_runner import PLAYBOOK, run_playbook  # pylint: disable=import-outside-toplevel,import-error

    if not os.path.exists(PLAYBOOK):
        pytest.skip("needs ansible-playbook")
    cache = tmp_path / "cache"
    play = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
            "    - trustops.tableau.client_cert_identity:\n"
            "        certs: ['" + str(tmp_path) + "/nowhere-*.pem']\n        identity_store: local\n        mapping: cn\n")
    env = {"TRUSTOPS_TABLEAU_BYTECODE_CACHE": str(cache), "PYTHONDONTWRITEBYTECODE": None}
    code, out = run_playbook(tmp_path / "check", play, options=("--check",), env=env)
    assert code == 0, out
    assert not cache.exists()
    code, out = run_playbook(tmp_path / "first", play, env=env)
    assert code == 0, out
    entries = {path.name: path.stat().st_mtime_ns for path in (cache / sys.implementation.cache_tag).iterdir()}
    assert f"{PACKAGE}.module_utils.identity.pyc" in entries and len(entries) >= 5
    code, out = run_playbook(tmp_path / "second", play, env=env)
    assert code == 0, out
    assert {path.name: path.stat().st_mtime_ns for path in (cache / sys.implementation.cache_tag).iterdir()} == entries
