"""Content-addressed on-disk cache of manifests and blobs fetched by digest.

Only content named by a digest is cached (tags and referrers listings move and are always asked
again), and every read is checked against its digest, so a corrupted cache entry is dropped rather
than trusted. Location: ``$XDG_CACHE_HOME/slsalint`` (default ``~/.cache/slsalint``); ``--no-cache``
turns it off. Entries are read like any file from outside (``slsalint.fileio``): only regular files,
never more than the blob size limit, so a FIFO or a device planted in the cache is a miss, not a hang.

Content put in the cache is written by a thread of the cache's own while the requests go on (creating
a file costs a few hundred microseconds of system time on some file systems, and each system call
would hand the interpreter to another request thread); until it is on disk it is read from memory.
A registry client waits for the writes when it closes (``flush``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from pathlib import Path

from slsalint import fileio
from slsalint.sources.oci import digest_of, is_digest

DEFAULT_MAX_ENTRY = 64 * 1024 * 1024


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "slsalint"


class BlobCache:
    def __init__(self, root: Path, *, max_entry: int = DEFAULT_MAX_ENTRY) -> None:
        self.root = root
        self.max_entry = max_entry
        self._pending: dict[str, bytes] = {}
        """Content put and not on disk yet (read from here meanwhile)."""
        self._queue: collections.deque[str] = collections.deque()
        self._writing = False
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._prefixes: dict[str, set[str]] = {}
        """Algorithm -> the entry directories (first two hex digits) there are, listed once: a
        digest whose directory is not there is a miss without a system call."""
        self._made: dict[str, set[str]] = {}
        """Algorithm -> the entry directories this cache wrote in (seen whenever it listed)."""

    def _path(self, digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return self.root / "blobs" / algorithm / hexpart[:2] / hexpart

    def _may_hold(self, digest: str) -> bool:
        """Whether the directory of ``digest``'s entry is there (as listed when first asked, plus
        those this cache made since; one made by another run meanwhile is not seen: a miss)."""
        algorithm, _, hexpart = digest.partition(":")
        with self._lock:
            known = self._prefixes.get(algorithm)
            if known is not None:
                return hexpart[:2] in known or hexpart[:2] in self._made.get(algorithm, ())
        try:
            with os.scandir(self.root / "blobs" / algorithm) as entries:
                names = {entry.name for entry in entries if len(entry.name) == 2}
        except OSError:
            names = set()
        with self._lock:
            known = self._prefixes.setdefault(algorithm, names)
            return hexpart[:2] in known or hexpart[:2] in self._made.get(algorithm, ())

    def has(self, digest: str) -> bool:
        """Whether an entry for ``digest`` is there (not read or verified: ``get`` does that)."""
        if not is_digest(digest):
            return False
        with self._lock:
            if digest in self._pending:
                return True
        return self._may_hold(digest) and self._path(digest).is_file()

    def get(self, digest: str) -> bytes | None:
        if not is_digest(digest):
            return None
        with self._lock:
            pending = self._pending.get(digest)
        if pending is not None:
            return pending
        if not self._may_hold(digest):
            return None
        path = self._path(digest)
        try:
            data = fileio.read_bytes(path, limit=self.max_entry)
        except fileio.FileReadError:
            return None  # missing, not a regular file, or too large: a miss (and never overwritten)
        if digest_of(data, digest.split(":")[0]) != digest:
            with contextlib.suppress(OSError):  # a cache this run cannot change: still a miss
                path.unlink(missing_ok=True)
            return None
        return data

    def put(self, digest: str, data: bytes) -> None:
        """Store verified content (content that does not hash to ``digest``, or is over the entry
        limit, is not stored). It is written by a thread of the cache's own, one entry after
        another, while the caller goes on; ``flush`` waits for what was put."""
        if len(data) > self.max_entry or not is_digest(digest):
            return
        if digest_of(data, digest.split(":")[0]) != digest:
            return
        with self._lock:
            if digest in self._pending:
                return
            self._pending[digest] = data
            self._queue.append(digest)
            if self._writing:
                return
            self._writing = True
        try:
            threading.Thread(target=self._write_queued, name="slsalint-cache", daemon=True).start()
        except Exception:  # no thread to be had (a process limit, say): written here, now
            self._write_queued()

    def flush(self) -> None:
        """Wait until everything put is written (or could not be: a cache that cannot be written
        is silently skipped)."""
        with self._lock:
            while self._writing:
                self._written.wait()

    def _write_queued(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._writing = False
                    self._written.notify_all()
                    return
                digest = self._queue.popleft()
                data = self._pending[digest]
            try:
                self._write(self._path(digest), data)
            except BaseException:
                with self._lock:  # what is left is not written: flush() never waits on it
                    self._queue.clear()
                    self._pending.clear()
                    self._writing = False
                    self._written.notify_all()
                raise
            with self._lock:
                del self._pending[digest]

    def _write(self, path: Path, data: bytes) -> None:
        """Create the entry (never over anything there: ``O_EXCL``, ``O_NOFOLLOW``) and write it.
        No temporary file and rename: every read hashes what it reads (``get``), so an entry cut
        short by a crash, or read by another run while it is written, is a miss (and removed),
        never content; and creating one file costs a third of creating and renaming one."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, flags, 0o600)
            except OSError:
                return
        except OSError:
            return  # there already (this run's or another's, or not ours to touch): left alone
        with self._lock:  # there now, whenever the directories are (or were) listed
            self._made.setdefault(path.parent.parent.name, set()).add(path.parent.name)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                path.unlink()  # this call created it: a part written is no entry
        finally:
            os.close(fd)
