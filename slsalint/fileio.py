"""The one reader for files named from outside: evidence, policies, exceptions, keys, trust roots,
Rego sources, layout blobs, cache entries.

Only regular files are read (a FIFO, a device such as ``/dev/zero``, a socket or a directory is
refused without blocking on it), and never more than a bound: a file larger than ``limit`` is
refused rather than read in part. Every failure is a ``FileReadError`` (an ``OSError``) whose
``str()`` is one line naming the file and the problem; callers map it to their exit code (a file
the user named that cannot be used is a configuration error, a fault while reading evidence is
operational).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

DEFAULT_LIMIT = 64 * 1024 * 1024
"""Largest file read by default (bytes)."""


class FileReadError(OSError):
    """A file could not be read; ``str()`` is one line naming it."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem

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


def read_bytes(path: str | os.PathLike[str], *, limit: int = DEFAULT_LIMIT) -> bytes:
    """The whole content of the regular file ``path``, at most ``limit`` bytes."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        raise FileReadError(path, "no such file") from None
    except OSError as exc:
        raise FileReadError(path, exc.strerror or "cannot be examined") from None
    if not stat.S_ISREG(mode):
        raise FileReadError(path, f"is {_kind(mode)}, not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileReadError(path, "no such file") from None
    except PermissionError:
        raise FileReadError(path, "permission denied") from None
    except OSError as exc:
        raise FileReadError(
            path, exc.strerror or errno.errorcode.get(exc.errno or 0, "cannot open")
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileReadError(path, f"is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise FileReadError(path, f"is {_size(info.st_size)}, larger than the limit of {_size(limit)}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileReadError(path, f"grew past the limit of {_size(limit)} while being read")
        return b"".join(chunks)
    except FileReadError:
        raise
    except OSError as exc:
        raise FileReadError(path, f"read failed: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], *, limit: int = DEFAULT_LIMIT) -> str:
    """Like ``read_bytes``, decoded as UTF-8 (a file that is not UTF-8 is a ``FileReadError``)."""
    data = read_bytes(path, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileReadError(path, f"is not UTF-8 text (byte {exc.start})") from None


def is_regular(path: Path) -> bool:
    """True for a regular file (following symlinks); never blocks."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False
