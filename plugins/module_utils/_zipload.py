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
zip: it gives ``zipimport``'s own loader a spec whose location is already known (the path
``zipimport`` itself would give), so the loader compiles the file once, in ``exec_module``.
Anything else (tests, an exploded AnsiballZ, other packages) goes to the usual finders unchanged.
"""

from __future__ import annotations

import sys
import zipimport
from importlib.machinery import ModuleSpec, PathFinder

_PACKAGE = "ansible_collections.trustops.tableau."


class OneCompileFinder:
    """A meta path finder: this collection's modules inside a zip, with one compile each."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):  # pylint: disable=unused-argument
        """The spec ``zipimport`` would give, without its compile; None when this finder does not answer."""
        if not path or not fullname.startswith(_PACKAGE):
            return None
        parent, _dot, name = fullname.rpartition(".")
        if not isinstance(getattr(sys.modules.get(parent), "__loader__", None), zipimport.zipimporter):
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
            spec = ModuleSpec(fullname, importer, origin=f"{base}/__init__.py" if package else f"{base}.py",
                              is_package=package)
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
