"""Content-addressed on-disk cache of manifests and blobs fetched by digest.

Only content named by a digest is cached (tags and referrers listings move and are always asked
again), and every read is checked against its digest, so a corrupted cache entry is dropped rather
than trusted. Location: ``$XDG_CACHE_HOME/slsalint`` (default ``~/.cache/slsalint``); ``--no-cache``
turns it off. Entries are read like any file from outside (``slsalint.fileio``): only regular files,
never more than the blob size limit, so a FIFO or a device planted in the cache is a miss, not a hang.
"""

from __future__ import annotations

import os
import tempfile
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

    def _path(self, digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return self.root / "blobs" / algorithm / hexpart[:2] / hexpart

    def get(self, digest: str) -> bytes | None:
        if not is_digest(digest):
            return None
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
        """Store verified content; a cache that cannot be written is silently skipped."""
        if not is_digest(digest) or digest_of(data, digest.split(":")[0]) != digest:
            return
        path = self._path(digest)
        if path.exists() or path.is_symlink():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        except OSError:
            return
