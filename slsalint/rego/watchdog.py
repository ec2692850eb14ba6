"""A deadline for engine calls that cannot be interrupted.

The in-process engine (a Rust library) holds the interpreter lock while it evaluates, so nothing in
slsalint's own process can stop a rule that runs too long. The watchdog is a tiny helper process
started once per run: before each engine call slsalint writes a deadline into memory it shares with
the helper (no system call per rule), and clears it afterwards. When a deadline passes, the helper
prints one line naming what did not finish and ends slsalint with exit status 3 (operational: the
run could not judge the image), so a hostile input can never hang a pipeline. Before it does, it
writes the reports of a stopped run that ``prepare_stop_reports`` left with it (so exit 3 still
writes every requested report, as any other stopped run does). The helper dies with slsalint (its
pipe closes; on Linux also PR_SET_PDEATHSIG).

``--rego-isolation worker`` runs the engine in a worker process instead, where a rule that runs too
long is stopped and reported as an SL904 finding while the run goes on.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_SLOT = struct.Struct("<dq")
"""(deadline on the monotonic clock, 0 when disarmed; label number)."""

# The helper runs with -I -S (no site, no slsalint import): everything it needs is here.
_HELPER = r"""
import ctypes, json, mmap, os, select, signal, struct, sys, time
parent, fd, manifest = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def write_reports():
    # The stopped run's reports: each to its file (atomically, or appended) or to stdout.
    if not manifest:
        return
    try:
        with open(manifest, encoding="utf-8") as handle:
            entries = json.load(handle)
    except (OSError, ValueError):
        return
    for entry in entries:
        try:
            with open(entry["content"], "rb") as handle:
                data = handle.read()
            dest = entry["path"]
            if dest is None:
                os.write(1, data)
            elif entry["append"] or not entry["replace"]:
                with open(dest, "ab" if entry["append"] else "wb") as out:
                    out.write(data)
            else:
                tmp = dest + ".stopped.tmp"
                with open(tmp, "wb") as out:
                    out.write(data)
                os.replace(tmp, dest)
        except (OSError, KeyError, TypeError):
            continue


try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != parent:
    sys.exit(0)
slot = struct.Struct("<dq")
shared = mmap.mmap(fd, slot.size)
labels = {}
pending = b""
stdin = sys.stdin.buffer.raw
while True:
    ready, _, _ = select.select([stdin], [], [], 0.05)
    if ready:
        chunk = os.read(stdin.fileno(), 65536)
        if not chunk:
            sys.exit(0)
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            number, _, text = line.decode("utf-8", "replace").partition(" ")
            labels[int(number)] = text
    deadline, label = slot.unpack_from(shared, 0)
    if deadline and time.monotonic() > deadline:
        again, label = slot.unpack_from(shared, 0)
        if again != deadline:
            continue
        what = labels.get(label, "a Rego evaluation did not finish in time")
        message = (
            f"slsalint: error: {what}; the in-process Rego "
            "engine cannot be interrupted, so the run was stopped (exit 3); "
            "--rego-isolation worker reports it as SL904 and goes on\n"
        )
        os.write(2, message.encode("utf-8", "replace"))
        write_reports()
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(parent, sig)
            except OSError:
                sys.exit(0)
            for _ in range(40):
                time.sleep(0.05)
                if os.getppid() != parent:
                    sys.exit(0)
        sys.exit(0)
"""


class Watchdog:
    """Bounds in-process engine calls to ``timeout`` seconds each (see the module docstring)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._labels: dict[tuple[str, int], int] = {}
        self._file: IO[bytes] | None = None
        self._shared: mmap.mmap | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._previous_quit: int | None = None

    def start(self) -> None:
        if self._proc is not None:
            return
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - shared with the helper while it runs
        self._file.write(b"\0" * _SLOT.size)
        self._file.flush()
        self._shared = mmap.mmap(self._file.fileno(), _SLOT.size)
        fd = self._file.fileno()
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _HELPER, str(os.getpid()), str(fd), _STOP_MANIFEST[0]],
            stdin=subprocess.PIPE,
            pass_fds=(fd,),
            close_fds=True,
        )
        self._previous_quit = _exit_on_sigquit()

    @contextlib.contextmanager
    def guard(self, label: str, *, calls: int = 1) -> Iterator[None]:
        """The engine call inside this block has ``timeout`` seconds per call it stands for."""
        shared = self._shared
        if shared is None:
            yield
            return
        seconds = self.timeout * max(1, calls)
        key = (label, calls)
        number = self._labels.get(key)
        if number is None:
            number = self._labels[key] = len(self._labels) + 1
            each = f" ({self.timeout:g}s each)" if calls > 1 else ""
            text = " ".join(f"{label} did not finish within {seconds:g}s{each}".split())
            proc = self._proc
            if proc is not None and proc.stdin is not None:
                proc.stdin.write(f"{number} {text}\n".encode())
                proc.stdin.flush()
        _SLOT.pack_into(shared, 0, time.monotonic() + seconds, number)
        try:
            yield
        finally:
            _SLOT.pack_into(shared, 0, 0.0, 0)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if self._shared is not None:
            _SLOT.pack_into(self._shared, 0, 0.0, 0)
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _restore_sigquit(self._previous_quit)
        self._previous_quit = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        if self._file is not None:
            self._file.close()
            self._file = None


_STOP_MANIFEST = [""]
"""The manifest of the stopped run's reports the helper writes when it stops the run ("" none)."""

STOP_MESSAGE = (
    "a Rego evaluation did not finish within --rego-timeout; the in-process Rego engine cannot be "
    "interrupted, so the run was stopped (exit 3); --rego-isolation worker reports it as SL904 and "
    "goes on"
)
"""The error the prepared reports of such a stopped run give (stderr names the rule as well)."""


def prepare_stop_reports(reports: list[tuple[Path | None, bytes, bool]], directory: Path) -> None:
    """Leave the reports of a run the watchdog stops with it: ``(path or None for stdout, content,
    append)`` each, written into ``directory`` (which the caller removes when the run ends). A
    destination that is not a regular file (a FIFO, ``/dev/stdout``) is written to, never replaced."""
    entries = []
    for number, (path, content, append) in enumerate(reports):
        stored = directory / f"report-{number}"
        stored.write_bytes(content)
        replace = path is not None and (path.is_file() or not path.exists())
        entries.append(
            {
                "path": None if path is None else os.path.realpath(path),
                "content": str(stored),
                "append": append,
                "replace": replace and not append,
            }
        )
    manifest = directory / "stop-reports.json"
    manifest.write_text(json.dumps(entries), encoding="utf-8")
    _STOP_MANIFEST[0] = str(manifest)


def clear_stop_reports() -> None:
    _STOP_MANIFEST[0] = ""


def _libc() -> object | None:
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return libc


def _exit_on_sigquit() -> int | None:
    """Make SIGQUIT end this process at once with status 3 (``_exit(SIGQUIT)``): the watchdog's way
    to stop a run whose engine cannot be interrupted with the exit code of an operational failure.
    Returns the previous handler (to restore), or None when that is not possible here."""
    import ctypes

    if int(signal.SIGQUIT) != 3:  # _exit(SIGQUIT) is exit status 3 only where SIGQUIT is 3
        return None
    libc = _libc()
    if libc is None:
        return None
    address = ctypes.cast(libc._exit, ctypes.c_void_p).value  # type: ignore[attr-defined]
    previous = libc.signal(signal.SIGQUIT, address)  # type: ignore[attr-defined]
    return int(previous or 0)


def _restore_sigquit(previous: int | None) -> None:
    if previous is None:
        return
    libc = _libc()
    if libc is not None:
        libc.signal(signal.SIGQUIT, previous or None)  # type: ignore[attr-defined]
