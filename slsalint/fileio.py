"""The one reader for files named from outside: evidence, policies, exceptions, keys, trust roots,
Rego sources, layout blobs, cache entries.

Only regular files are read (a FIFO, a device such as ``/dev/zero``, a socket or a directory is
refused without blocking on it), and never more than a bound: a file larger than ``limit`` is
refused rather than read in part. Every failure is a ``FileReadError`` (an ``OSError``) whose
``str()`` is one line naming the file and the problem; callers map it to their exit code (a file
the user named that cannot be used is a configuration error, a fault while reading evidence is
operational: ``FileReadError.fault`` is true for those).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

DEFAULT_LIMIT = 64 * 1024 * 1024
"""Largest file read by default (bytes)."""


USER_ERRORS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ELOOP, errno.ENAMETOOLONG, errno.EISDIR}
)
"""``errno`` values that say the name is wrong (not a fault of the machine)."""


class FileReadError(OSError):
    """A file could not be read; ``str()`` is one line naming it.

    ``reason`` says why: ``missing``, ``not-regular``, ``permission``, ``too-large``, ``not-text``
    (the name or the file is not usable: a configuration error), or ``fault`` (an I/O error while
    opening or reading a usable file: operational, worth retrying)."""

    def __init__(self, path: str | os.PathLike[str], problem: str, *, reason: str = "fault") -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem
        self.reason = reason

    @property
    def fault(self) -> bool:
        """True for an I/O fault (exit 3 for evidence and configuration alike)."""
        return self.reason == "fault"

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(value: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value} bytes"


def _os_error(path: str | os.PathLike[str], exc: OSError, doing: str) -> FileReadError:
    if isinstance(exc, FileNotFoundError):
        return FileReadError(path, "no such file", reason="missing")
    if isinstance(exc, PermissionError):
        return FileReadError(path, "permission denied", reason="permission")
    text = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or f"cannot {doing}"
    if exc.errno in USER_ERRORS:
        return FileReadError(path, text[0].lower() + text[1:], reason="missing")
    return FileReadError(path, f"{doing} failed: {text}", reason="fault")


def _open_fd(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file ``path`` opened for reading without blocking, and its
    status: a FIFO, device or directory (named so, or swapped in between the two looks) raises
    ``FileReadError`` before a byte is read."""
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 (no Path object per read: the hot path)
    except OSError as exc:
        raise _os_error(path, exc, "examine") from None
    if not stat.S_ISREG(mode):
        raise FileReadError(path, f"is {_kind(mode)}, not a regular file", reason="not-regular")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _os_error(path, exc, "open") from None
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise _os_error(path, exc, "examine") from None
    if not stat.S_ISREG(info.st_mode):  # replaced between the two looks
        os.close(fd)
        raise FileReadError(path, f"is {_kind(info.st_mode)}, not a regular file", reason="not-regular")
    return fd, info


@contextmanager
def open_regular(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """The regular file ``path`` opened for reading (unbuffered), never blocking on a FIFO or
    device: anything else raises ``FileReadError`` before a byte is read. For files read in a
    stream (an artifact to hash); ``read_bytes`` reads a whole file with a bound."""
    fd, _ = _open_fd(path)
    try:
        handle = os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_chunks(handle: BinaryIO, path: str | os.PathLike[str], size: int = 1 << 20) -> Iterator[bytes]:
    """The content of a file from ``open_regular`` in chunks; an I/O error is a ``fault``."""
    while True:
        try:
            chunk = handle.read(size)
        except OSError as exc:
            raise FileReadError(path, f"read failed: {exc.strerror or exc}") from None
        if not chunk:
            return
        yield chunk


def read_bytes(path: str | os.PathLike[str], *, limit: int = DEFAULT_LIMIT) -> bytes:
    """The whole content of the regular file ``path``, at most ``limit`` bytes.

    The same checks as ``open_regular`` (a regular file before and after opening, never blocking),
    on the file descriptor directly: this is the path every attestation, manifest and blob takes."""
    fd, info = _open_fd(path)
    try:
        if info.st_size > limit:
            raise FileReadError(
                path, f"is {_size(info.st_size)}, larger than the limit of {_size(limit)}", reason="too-large"
            )
        chunks: list[bytes] = []
        total = 0
        # One read of the announced size (plus one byte, to see the end), then to the end: a file
        # that grows while it is read is bounded all the same.
        want = min(info.st_size + 1, limit + 1)
        while True:
            try:
                chunk = os.read(fd, max(1, min(want, 1 << 20)))
            except OSError as exc:
                raise FileReadError(path, f"read failed: {exc.strerror or exc}") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileReadError(
                    path, f"grew past the limit of {_size(limit)} while being read", reason="too-large"
                )
            want = limit + 1 - total
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], *, limit: int = DEFAULT_LIMIT) -> str:
    """Like ``read_bytes``, decoded as UTF-8 (a file that is not UTF-8 is a ``FileReadError``)."""
    data = read_bytes(path, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileReadError(path, f"is not UTF-8 text (byte {exc.start})", reason="not-text") from None


def is_regular(path: Path) -> bool:
    """True for a regular file (following symlinks); never blocks."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False
