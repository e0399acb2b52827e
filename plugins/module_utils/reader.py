# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one input reader: every file option of every module, action plugin and core reads here.

``read_input(path=..., content=..., option=..., max_bytes=...)`` returns the bytes of a file or of
an inline value, or raises :class:`InputError` naming the option and the path. The size cap is
enforced *before* reading (``fstat`` of the opened file) and again while reading (a file that
grows, ``/proc`` files that report size 0), so a 50 MB file costs nothing but the refusal.
Directories, FIFOs, sockets and devices are refused without being read (a FIFO would block).

The caps, one per kind of input (docs/inputs.md lists which option has which cap):
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Any

from ansible_collections.trustops.tableau.plugins.module_utils.findings import TrustopsError

KIB = 1024
MIB = 1024 * KIB

#: A certificate or a certificate chain (PEM, DER or PKCS#7): a chain of ten 4096-bit
#: certificates is under 20 KiB.
MAX_CERTIFICATE = 1 * MIB
#: A CA bundle (trust store bundles, tls_probe ``ca_path``): Debian's whole system bundle is ~220 KiB.
MAX_BUNDLE = 4 * MIB
#: A private key: a 16384-bit RSA key in PEM is ~13 KiB.
MAX_KEY = 64 * KIB
#: SAML metadata and SAML responses (XML).
MAX_XML = 2000000
#: A certificate revocation list (large CAs publish CRLs of several MiB).
MAX_CRL = 16 * MIB
#: Tables: known-user lists (CSV/JSON), exported settings.
MAX_TABLE = 16 * MIB
#: Anything else small and textual.
MAX_TEXT = 1 * MIB

_CHUNK = 64 * KIB


class InputError(TrustopsError):
    """A file or inline value that cannot be used at all: missing, empty, too large, not a file."""

    def __init__(self, message: str, option: str | None = None, source: str | None = None) -> None:
        TrustopsError.__init__(self, message)
        self.option = option
        self.source = source


def _label(option: str, source: str | None) -> str:
    if source and source != option:
        return f"{option} {source}"
    return option


def _check_size(size: int, option: str, source: str | None, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise InputError(f"{_label(option, source)}: {size} bytes, more than the limit of {max_bytes} bytes for this "
                         "input; give the right file (limits: docs/inputs.md)", option, source)


def _as_bytes(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, bytearray):
        return bytes(content)
    return str(content).encode("utf-8")


def _open_checked(path: str, option: str, max_bytes: int | None, base_dir: str | None = None) -> int:
    """An fd of the regular file ``path`` whose size is within ``max_bytes``; InputError otherwise.

    A relative ``path`` is opened relative to ``base_dir`` when one is given (see :func:`read_input`).
    """
    where = os.path.join(base_dir, path) if base_dir and not os.path.isabs(path) else path
    try:
        # sockets cannot be opened at all (ENXIO): say what the path is before trying
        if stat.S_ISSOCK(os.stat(where).st_mode):
            raise InputError(f"{_label(option, path)}: is not a regular file (a device, FIFO or socket); give a file", option, path)
    except OSError:
        pass  # os.open below reports it
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise InputError(f"{_label(option, path)}: is a directory, not a file", option, path)
        raise InputError(f"{_label(option, path)}: cannot read it ({exc.strerror or exc})", option, path)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{_label(option, path)}: is a directory, not a file", option, path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{_label(option, path)}: is not a regular file (a device, FIFO or socket); give a file", option, path)
        _check_size(info.st_size, option, path, max_bytes)
    except InputError:
        os.close(fd)
        raise
    return fd


def input_size(path: str | os.PathLike[str], option: str = "input", max_bytes: int | None = MAX_TEXT) -> int:
    """The size of the file ``path``, refused (InputError) as :func:`read_input` would refuse it,
    without reading it.

    For readers that must read by other means (Ansible's loader, which decrypts vault files).
    """
    fd = _open_checked(os.fspath(path), option, max_bytes)
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def refuse_oversize(size: int, option: str = "input", source: str | None = None,
                    max_bytes: int | None = MAX_TEXT) -> None:
    """Raise InputError, with the reader's message, when ``size`` is above ``max_bytes``."""
    _check_size(size, option, source, max_bytes)


def read_pair(params: dict, src_option: str, content_option: str, max_bytes: int | None = MAX_TEXT,
              base_dir: str | None = None) -> tuple[Any, str | None]:
    """(data, source) of a ``<x>_src``/``<x>_content`` option pair of ``params``; (None, None) when
    neither is set; raises InputError.

    A file gives its bytes and ``source`` ``"<src_option> <path>"`` (messages about the content
    then say which option and file it was); inline text is checked the same way (cap, not empty)
    and stays text, with ``source`` ``<content_option>``.
    """
    if params.get(src_option) is not None:
        path = params[src_option]
        return (read_input(path=path, option=src_option, max_bytes=max_bytes, base_dir=base_dir),
                f"{src_option} {path}")
    if params.get(content_option) is not None:
        read_input(content=params[content_option], option=content_option, max_bytes=max_bytes)
        return params[content_option], content_option
    return None, None


#: The names of :func:`input_size` and :func:`refuse_oversize` before 0.1.0 (a ``check_*`` name
#: in this collection returns findings; these raise).
check_file = input_size
check_size = refuse_oversize


def read_input(path: str | os.PathLike[str] | None = None, content: Any = None, option: str = "input",
               max_bytes: int | None = MAX_TEXT, allow_empty: bool = False, base_dir: str | None = None) -> bytes:
    """The bytes of ``content`` (inline) or of the regular file ``path``; raises InputError.

    Exactly one of ``path`` and ``content`` should be given; ``content`` wins when both are.
    ``max_bytes=None`` means no cap (only for callers that cap by other means).

    ``base_dir``: the directory a relative ``path`` means, for a caller whose working directory
    is not the one the path was given for (a check run in the controller's worker, whose module
    would run in the playbook's directory).  Messages name ``path`` as given.
    """
    if content is not None:
        data = _as_bytes(content)
        _check_size(len(data), option, None, max_bytes)
        if not data.strip() and not allow_empty:
            raise InputError(f"{option}: the value is empty; give the {option} itself", option, None)
        return data
    if path is None or path == "":
        raise InputError(f"{option}: no path given", option, None)
    path = os.fspath(path)
    fd = _open_checked(path, option, max_bytes, base_dir)
    try:
        limit = None if max_bytes is None else max_bytes + 1
        parts = []
        total = 0
        while True:
            want = _CHUNK if limit is None else min(_CHUNK, limit - total)
            if want <= 0:
                break
            try:
                chunk = os.read(fd, want)
            except OSError as exc:
                raise InputError(f"{_label(option, path)}: cannot read it ({exc.strerror or exc})",
                                 option, path)
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        data = b"".join(parts)
    finally:
        os.close(fd)
    _check_size(len(data), option, path, max_bytes)
    if not data.strip() and not allow_empty:
        raise InputError(f"{_label(option, path)}: the file is empty; give the {option} file itself",
                         option, path)
    return data
