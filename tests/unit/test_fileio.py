"""The reader for files named from outside: regular files only, bounded, one-line errors."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from slsalint import fileio


def test_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'{"a": 1}')
    assert fileio.read_bytes(path) == b'{"a": 1}'
    assert fileio.read_text(path) == '{"a": 1}'
    link = tmp_path / "link.json"
    link.symlink_to(path)
    assert fileio.read_bytes(link) == b'{"a": 1}'


def test_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(fileio.FileReadError, match=r"pipe: is a FIFO, not a regular file"):
        fileio.read_bytes(fifo)


def test_refuses_devices_directories_and_sockets(tmp_path: Path) -> None:
    with pytest.raises(fileio.FileReadError, match=r"^/dev/zero: is a character device, not a regular file$"):
        fileio.read_bytes("/dev/zero")
    with pytest.raises(fileio.FileReadError, match="is a directory, not a regular file"):
        fileio.read_bytes(tmp_path)
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(fileio.FileReadError, match="is a socket"):
            fileio.read_bytes(path)


def test_missing_unreadable_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(fileio.FileReadError, match=r"nope: no such file$"):
        fileio.read_bytes(tmp_path / "nope")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(fileio.FileReadError, match=r"big: is 2 KiB, larger than the limit of 1 KiB"):
        fileio.read_bytes(big, limit=1024)
    assert fileio.read_bytes(big, limit=2048) == b"x" * 2048


def test_text_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"caf\xe9")
    with pytest.raises(fileio.FileReadError, match=r"latin1.yaml: is not UTF-8 text \(byte 3\)"):
        fileio.read_text(path)


def test_reasons_tell_a_wrong_name_from_an_io_fault(tmp_path: Path) -> None:
    cases = {
        tmp_path / "nope": "missing",
        tmp_path / "file" / "below": "missing",  # ENOTDIR: a name through a file
        Path("/dev/zero"): "not-regular",
        Path("/proc/self/mem"): "fault",  # a regular file whose read fails with EIO
    }
    (tmp_path / "file").write_text("x")
    for path, reason in cases.items():
        with pytest.raises(fileio.FileReadError) as caught:
            fileio.read_bytes(path)
        assert caught.value.reason == reason, (path, caught.value)
        assert caught.value.fault is (reason == "fault")
        assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))
    big = tmp_path / "big"
    big.write_bytes(b"x" * 10)
    with pytest.raises(fileio.FileReadError) as caught:
        fileio.read_bytes(big, limit=5)
    assert caught.value.reason == "too-large" and not caught.value.fault
    (tmp_path / "latin1").write_bytes(b"\xe9")
    with pytest.raises(fileio.FileReadError) as caught:
        fileio.read_text(tmp_path / "latin1")
    assert caught.value.reason == "not-text"


def test_open_regular_streams_and_refuses_what_read_bytes_refuses(tmp_path: Path) -> None:
    path = tmp_path / "artifact.bin"
    path.write_bytes(b"a" * (3 << 20))
    with fileio.open_regular(path) as handle:
        chunks = list(fileio.read_chunks(handle, path))
    assert b"".join(chunks) == b"a" * (3 << 20) and len(chunks) == 3
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for bad in (fifo, Path("/dev/zero"), tmp_path):
        with pytest.raises(fileio.FileReadError, match="not a regular file"), fileio.open_regular(bad):
            pass
