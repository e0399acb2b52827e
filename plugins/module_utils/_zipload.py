# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile each of this collection's files once when a module runs from Ansible's zip.

Ansible runs a module on the host from a zip of Python sources (AnsiballZ), so every file a task
imports is compiled on every run. CPython's ``zipimport`` compiles such a file twice: its
``find_spec`` builds the spec through ``get_filename``, which compiles the source only to learn the
file's path, and ``exec_module`` then compiles it again (CPython 3.8 to 3.13). For the
collection's own files that second compile was about half of their import time on the host
(``bench/module_cost.py``; issue 16).

Every module imports this file before the rest of the collection. It puts a finder before the
path finder that answers only for this collection's names whose parent package came from a
zip: it gives a spec whose location is already known (the path ``zipimport`` itself would give)
and whose loader (:class:`ZipSourceLoader`) reads the file through ``zipimport`` and compiles it
once, in ``exec_module``.
Anything else (tests, an exploded AnsiballZ, other packages) goes to the usual finders unchanged.

The compiled code is then kept the way CPython keeps ``__pycache__`` for installed packages, in a
private cache of the user the module runs as (``~/.cache/trustops.tableau/<cache tag>/``, the
home directory of the effective user, not ``$HOME``): the next task that imports the same source
loads it instead of compiling it (issue 16: 14 to 30 ms per task on a fleet host). An entry is
used only when it is the compile of the very same source (CPython's magic number and the source's
hash in its header) and when the directory and the file belong to that user, nobody else may
enter the directory (0700) nor write the file; anything else is compiled as before.
``TRUSTOPS_TABLEAU_BYTECODE_CACHE`` (the task's ``environment:``) set to ``off`` disables the
cache, set to an absolute path moves it; ``PYTHONDONTWRITEBYTECODE`` stops writes, as it does for
CPython's own cache, and so does check mode (the cache is read, nothing is written). The task's
own module file is run by Ansible before this file is imported, so it is compiled by ``zipimport``
as before.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import zipimport
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import MAGIC_NUMBER, source_hash

_PACKAGE = "ansible_collections.trustops.tableau."
CACHE_ENV = "TRUSTOPS_TABLEAU_BYTECODE_CACHE"
_OFF = ("off", "0", "no", "false")
_UNSET = object()
_cache_dir: object = _UNSET  # the cache directory once decided: a path, or None (no cache)
_writes: bool | None = None  # whether entries may be written, once decided


def _private(st: os.stat_result, directory: bool) -> bool:
    """The entry is a directory of the effective user that nobody else may use (no group or other
    permission at all), or a regular file of that user that nobody else may write."""
    kind = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    return kind and st.st_uid == os.geteuid() and not st.st_mode & (0o077 if directory else 0o022)


def default_base() -> str | None:
    """``~/.cache/trustops.tableau`` of the effective user, from the password database (under
    ``become`` the environment's HOME may still be another user's); None without one."""
    try:
        import pwd  # pylint: disable=import-outside-toplevel
        home = pwd.getpwuid(os.geteuid()).pw_dir
    except (ImportError, KeyError):
        return None
    if not home or not os.path.isabs(home):
        return None
    return os.path.join(home, ".cache", "trustops.tableau")


def writes_allowed() -> bool:
    """Whether the cache may be written: not under ``PYTHONDONTWRITEBYTECODE`` (``-B``), and not in a
    task run in check mode (``--check`` changes nothing on the node; the cache is still read).
    Under Ansible the task's arguments are in ``ansible.module_utils.basic._ANSIBLE_ARGS`` before
    the module's first line runs."""
    global _writes  # pylint: disable=global-statement
    if _writes is None:
        _writes = not sys.dont_write_bytecode and not _check_mode()
    return _writes


def _check_mode() -> bool:
    raw = getattr(sys.modules.get("ansible.module_utils.basic"), "_ANSIBLE_ARGS", None)
    if not raw or b"_ansible_check_mode" not in (raw if isinstance(raw, bytes) else str(raw).encode()):
        return False
    try:
        import json  # pylint: disable=import-outside-toplevel
        args = json.loads(raw).get("ANSIBLE_MODULE_ARGS", {})
    except (ValueError, AttributeError):
        return True  # arguments that cannot be read: write nothing
    return bool(args.get("_ansible_check_mode"))


def cache_dir() -> str | None:
    """The bytecode cache directory of this interpreter and user, created private when missing;
    None when there is none to use (disabled, no home, not private, not writable)."""
    global _cache_dir  # pylint: disable=global-statement
    if _cache_dir is not _UNSET:
        return _cache_dir  # type: ignore[return-value]
    _cache_dir = None
    setting = os.environ.get(CACHE_ENV, "").strip()
    tag = sys.implementation.cache_tag
    if setting.lower() in _OFF or not tag:
        return None
    if setting and setting.lower() != "on":
        base = setting if os.path.isabs(setting) else None
    else:
        base = default_base()
    if base is None:
        return None
    path = os.path.join(base, tag)
    try:
        if not os.path.isdir(path):
            if not writes_allowed():
                return None
            os.makedirs(base, mode=0o700, exist_ok=True)  # the mode is that of base, not of its parents
            os.makedirs(path, mode=0o700, exist_ok=True)
        if not (_private(os.lstat(base), True) and _private(os.lstat(path), True)):
            return None
    except OSError:
        return None
    _cache_dir = path
    return path


def _entry(directory: str, fullname: str) -> str:
    optimize = sys.flags.optimize
    return os.path.join(directory, f"{fullname}.opt-{optimize}.pyc" if optimize else f"{fullname}.pyc")


def _read_cached(path: str, header: bytes):
    """The code in the cache entry when it was compiled from the source of this header, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not _private(os.fstat(fd), False):
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    if data[:len(header)] != header:
        return None
    try:
        return marshal.loads(data[len(header):])
    except (EOFError, ValueError, TypeError):
        return None


def _write_cached(path: str, header: bytes, code) -> None:
    """Write the entry atomically (a private temporary file renamed over it); errors are ignored."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + marshal.dumps(code))
        os.replace(temporary, path)
    except (OSError, ValueError):
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _code(importer: zipimport.zipimporter, fullname: str, origin: str):
    """The code of one of our files in the zip: from the cache when it holds this source's compile,
    else compiled (once) and, when allowed, written to the cache."""
    source = importer.get_data(origin)
    directory = cache_dir()
    if directory is None:
        return compile(source, origin, "exec", dont_inherit=True)
    header = MAGIC_NUMBER + source_hash(source)
    path = _entry(directory, fullname)
    code = _read_cached(path, header)
    if code is not None:
        import _imp  # pylint: disable=import-outside-toplevel
        # the zip's path of this run (not in the typeshed stubs of _imp)
        _imp._fix_co_filename(code, origin)  # type: ignore[attr-defined]  # pylint: disable=protected-access
        return code
    code = compile(source, origin, "exec", dont_inherit=True)
    if writes_allowed():
        _write_cached(path, header, code)
    return code


class ZipSourceLoader:
    """zipimport's loader for one of our files, with the code compiled once or taken from the cache.

    Everything but ``exec_module`` (``get_source`` for tracebacks, ``is_package``, ``get_data``...)
    is zipimport's own."""

    def __init__(self, importer: zipimport.zipimporter, fullname: str, origin: str) -> None:
        self.importer = importer
        self.fullname = fullname
        self.origin = origin

    def __getattr__(self, name):
        return getattr(self.importer, name)

    @staticmethod
    def create_module(spec):  # pylint: disable=unused-argument
        return None

    def get_code(self, fullname: str):
        """The module's code (runpy runs the task's module as ``__main__`` with it)."""
        if fullname != self.fullname:
            return self.importer.get_code(fullname)
        return _code(self.importer, fullname, self.origin)

    def exec_module(self, module) -> None:
        exec(self.get_code(module.__spec__.name), module.__dict__)  # pylint: disable=exec-used


class OneCompileFinder:
    """A meta path finder: this collection's modules inside a zip, with one compile each."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):  # pylint: disable=unused-argument
        """The spec ``zipimport`` would give, without its compile; None when this finder does not answer."""
        if not path or not fullname.startswith(_PACKAGE):
            return None
        parent, _dot, name = fullname.rpartition(".")
        if not isinstance(getattr(sys.modules.get(parent), "__loader__", None), (zipimport.zipimporter, ZipSourceLoader)):
            return None
        for entry in path:
            importer = sys.path_importer_cache.get(entry)
            if importer is None:
                try:
                    importer = zipimport.zipimporter(entry)
                except zipimport.ZipImportError:
                    continue
                sys.path_importer_cache[entry] = importer
            if not isinstance(importer, zipimport.zipimporter):
                continue
            try:
                package = importer.is_package(fullname)
            except zipimport.ZipImportError:
                continue  # not in this entry (or a namespace portion): the usual finders decide
            base = f"{entry}/{name}"
            origin = f"{base}/__init__.py" if package else f"{base}.py"
            spec = ModuleSpec(fullname, ZipSourceLoader(importer, fullname, origin), origin=origin, is_package=package)
            spec.has_location = True
            if package:
                spec.submodule_search_locations.append(base)
            return spec
        return None


def install() -> None:
    """Put the finder in ``sys.meta_path`` just before the path finder (once).

    Only the path finder would answer for these names (through ``zipimport``); the finders before it
    (built-in and frozen modules, and whatever a test harness put first) keep their place.
    """
    if any(isinstance(finder, OneCompileFinder) for finder in sys.meta_path):
        return
    position = next((index for index, finder in enumerate(sys.meta_path) if finder is PathFinder), len(sys.meta_path))
    sys.meta_path.insert(position, OneCompileFinder())


install()
