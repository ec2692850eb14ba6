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
import itertools
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
        self._names = itertools.count()

    def _path(self, digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return self.root / "blobs" / algorithm / hexpart[:2] / hexpart

    def has(self, digest: str) -> bool:
        """Whether an entry for ``digest`` is there (not read or verified: ``get`` does that)."""
        if not is_digest(digest):
            return False
        with self._lock:
            if digest in self._pending:
                return True
        return self._path(digest).is_file()

    def get(self, digest: str) -> bytes | None:
        if not is_digest(digest):
            return None
        with self._lock:
            pending = self._pending.get(digest)
        if pending is not None:
            return pending
        path = self._path(digest)
        try:
            data = fileio.read_bytes(path, limit=self.max_entry)
        except fileio.FileReadError:
            return None  # missing, not a regular file, or too large: a miss (and never overwritten)
        if digest_of(data, digest.split(":")[0]) != digest:
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
        try:
            os.lstat(path)
            return
        except FileNotFoundError:
            pass
        except OSError:
            return
        tmp = path.parent / f".tmp{os.getpid()}-{next(self._names)}-{os.urandom(8).hex()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileNotFoundError:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(tmp, flags, 0o600)
            except OSError:
                return
        except OSError:
            return  # not ours to remove: only a file this call created is
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            tmp.replace(path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
