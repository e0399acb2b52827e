# -*- coding: utf-8 -*-
# Copyright (c) trustops.tableau contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one input reader: caps before reading, clear errors, nothing but regular files."""

from __future__ import annotations

import os
import socket
import tracemalloc

import pytest

from ansible_collections.trustops.tableau.plugins.module_utils import reader
from ansible_collections.trustops.tableau.plugins.module_utils.reader import InputError, read_input


def test_reads_a_file_and_inline_content(tmp_path):
    f = tmp_path / "a.pem"
    f.write_bytes(b"hello")
    assert read_input(path=str(f), option="cert_file", max_bytes=10) == b"hello"
    assert read_input(content="héllo", option="cert_content", max_bytes=10) == "héllo".encode()
    assert read_input(content=b"\x00\x01", option="x", max_bytes=10) == b"\x00\x01"


def test_exactly_the_cap_is_allowed_one_more_byte_is_not(tmp_path):
    f = tmp_path / "a"
    f.write_bytes(b"x" * 100)
    assert len(read_input(path=str(f), option="o", max_bytes=100)) == 100
    f.write_bytes(b"x" * 101)
    with pytest.raises(InputError, match=r"^o .*/a: 101 bytes, more than the limit of 100 bytes"):
        read_input(path=str(f), option="o", max_bytes=100)
    with pytest.raises(InputError, match="101 bytes, more than the limit of 100"):
        read_input(content="x" * 101, option="o", max_bytes=100)


def test_huge_file_is_refused_before_reading(tmp_path):
    f = tmp_path / "huge"
    with open(f, "wb") as h:
        h.truncate(50 * 1024 * 1024)  # 50 MB, sparse
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=f"52428800 bytes, more than the limit of {reader.MAX_KEY}"):
            read_input(path=str(f), option="key_file", max_bytes=reader.MAX_KEY)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, peak


def test_proc_file_reporting_size_zero_is_still_capped():
    # /proc files report st_size 0; the read itself must stop at the cap
    with pytest.raises(InputError, match="more than the limit of 10 bytes"):
        read_input(path="/proc/self/maps", option="o", max_bytes=10)


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t"])
def test_empty_file_and_empty_value(tmp_path, data):
    f = tmp_path / "empty.crt"
    f.write_bytes(data)
    with pytest.raises(InputError, match=r"cert_file .*/empty.crt: the file is empty"):
        read_input(path=str(f), option="cert_file")
    with pytest.raises(InputError, match="cert_content: the value is empty"):
        read_input(content=data, option="cert_content")
    assert read_input(path=str(f), option="o", allow_empty=True) == data


def test_missing_directory_fifo_socket_device(tmp_path):
    with pytest.raises(InputError, match=r"^ca_cert .*/nope: cannot read it \(No such file or directory\)$"):
        read_input(path=str(tmp_path / "nope"), option="ca_cert")
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_input(path=str(tmp_path), option="ca_cert")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # no writer: opening a FIFO for reading would block without O_NONBLOCK
    with pytest.raises(InputError, match="not a regular file"):
        read_input(path=str(fifo), option="ca_cert")
    sock_path = tmp_path / "s"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        with pytest.raises(InputError, match="not a regular file"):
            read_input(path=str(sock_path), option="ca_cert")
    finally:
        sock.close()
    with pytest.raises(InputError, match="not a regular file"):
        read_input(path="/dev/zero", option="ca_cert")


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        # root reads anything; a permission error is produced by a path through a file instead
        with pytest.raises(InputError, match=r"cannot read it \(Not a directory\)"):
            f = tmp_path / "f"
            f.write_bytes(b"x")
            read_input(path=str(f / "child"), option="o")
        return
    f = tmp_path / "f"
    f.write_bytes(b"x")
    f.chmod(0)
    with pytest.raises(InputError, match=r"cannot read it \(Permission denied\)"):
        read_input(path=str(f), option="o")


def test_input_size_refuses_as_read_input_would_without_reading(tmp_path):
    """For readers that read by other means (the input_file lookup, through Ansible's loader)."""
    f = tmp_path / "a.pem"
    f.write_bytes(b"x" * 100)
    assert reader.input_size(f, option="src", max_bytes=100) == 100
    with pytest.raises(InputError, match=r"^src .*/a.pem: 100 bytes, more than the limit of 99 bytes"):
        reader.input_size(str(f), option="src", max_bytes=99)
    huge = tmp_path / "huge"
    with open(huge, "wb") as h:
        h.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match="52428800 bytes"):
        reader.input_size(huge, option="src", max_bytes=reader.MAX_CERTIFICATE)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        reader.input_size(fifo, option="src")
    with pytest.raises(InputError, match="is a directory"):
        reader.input_size(tmp_path, option="src")
    # a size read elsewhere (a decrypted vault file) is judged by the same words
    reader.refuse_oversize(100, option="src", source="/x", max_bytes=100)
    with pytest.raises(InputError, match=r"^src /x: 101 bytes, more than the limit of 100 bytes"):
        reader.refuse_oversize(101, option="src", source="/x", max_bytes=100)
    assert (reader.check_file, reader.check_size) == (reader.input_size, reader.refuse_oversize)


def test_no_path():
    with pytest.raises(InputError, match="o: no path given"):
        read_input(path="", option="o")


def test_caps_are_ordered_and_documented():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, "docs", "inputs.md"), encoding="utf-8") as handle:
        doc = handle.read()
    for name in ("MAX_CERTIFICATE", "MAX_BUNDLE", "MAX_KEY", "MAX_XML", "MAX_CRL", "MAX_TABLE", "MAX_TEXT"):
        value = getattr(reader, name)
        assert name in doc, name
        assert str(value) in doc or f"{value:,}" in doc, (name, value)
    assert reader.MAX_KEY < reader.MAX_CERTIFICATE < reader.MAX_BUNDLE < reader.MAX_CRL
