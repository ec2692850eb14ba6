"""The on-disk cache: content is written by the cache's own thread while the caller goes on, read
from memory until it is on disk, and ``flush`` waits for it; nothing else is ever written."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from slsalint.sources.cache import BlobCache


def _entry(n: int) -> tuple[str, bytes]:
    data = f"blob {n}".encode() * 40
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def _path(root: Path, digest: str) -> Path:
    hexpart = digest.split(":")[1]
    return root / "blobs" / "sha256" / hexpart[:2] / hexpart


def test_what_is_put_is_read_back_before_and_after_it_is_written(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    digest, data = _entry(1)
    cache.put(digest, data)
    assert cache.get(digest) == data  # from memory or disk, whichever it is in now
    cache.flush()
    path = _path(tmp_path, digest)
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0  # private to the user, as before
    assert BlobCache(tmp_path).get(digest) == data  # a later run reads it from disk


def test_content_that_is_not_what_its_digest_says_is_not_kept(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, max_entry=1000)
    digest, data = _entry(2)
    cache.put(digest, data + b"!")
    cache.put("sha256:" + "0" * 63, data)  # not a digest
    big = b"x" * 1001
    cache.put("sha256:" + hashlib.sha256(big).hexdigest(), big)  # over the entry limit
    cache.flush()
    assert cache.get(digest) is None
    assert not (tmp_path / "blobs").exists()


def test_many_threads_putting_at_once_get_every_entry_written_once(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    entries = [_entry(n) for n in range(400)]

    def put(part: list[tuple[str, bytes]]) -> None:
        for digest, data in part:
            cache.put(digest, data)
            cache.put(digest, data)  # twice: written once

    threads = [threading.Thread(target=put, args=(entries[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cache.flush()
    for digest, data in entries:
        assert _path(tmp_path, digest).read_bytes() == data
    files = [name for _, _, names in os.walk(tmp_path) for name in names]
    assert len(files) == len(entries)  # no temporary file left behind


def test_a_fifo_planted_at_an_entry_is_left_alone_and_is_a_miss(tmp_path: Path) -> None:
    digest, data = _entry(3)
    path = _path(tmp_path, digest)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    cache = BlobCache(tmp_path)
    cache.put(digest, data)
    cache.flush()  # does not open the FIFO (it would block) nor replace it
    assert stat.S_ISFIFO(path.lstat().st_mode)
    assert cache.get(digest) is None


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "not-a-directory"
    root.write_text("a file where the cache should be")
    cache = BlobCache(root)
    digest, data = _entry(4)
    cache.put(digest, data)
    cache.flush()
    assert cache.get(digest) is None
    assert root.read_text() == "a file where the cache should be"


def test_without_a_thread_to_write_on_the_entry_is_written_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    cache = BlobCache(tmp_path)
    digest, data = _entry(5)
    cache.put(digest, data)
    assert _path(tmp_path, digest).read_bytes() == data
    cache.flush()


def test_a_writer_that_fails_unexpectedly_never_leaves_flush_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = BlobCache(tmp_path)

    def broken(path: Path, data: bytes) -> None:
        raise MemoryError

    monkeypatch.setattr(cache, "_write", broken)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # the writer thread's error
    for n in range(6, 9):
        digest, data = _entry(n)
        cache.put(digest, data)
    done = threading.Event()

    def flush() -> None:
        cache.flush()
        done.set()

    threading.Thread(target=flush, daemon=True).start()
    assert done.wait(10)
    assert cache.get(_entry(6)[0]) is None  # dropped, not half-kept


def test_an_entry_cut_short_is_a_miss_and_is_written_again(tmp_path: Path) -> None:
    """Entries are written in place (no temporary file): one a crash cut short, or that another
    run is still writing, hashes to something else, so it is a miss, removed, and put again."""
    digest, data = _entry(11)
    path = _path(tmp_path, digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(data[: len(data) // 2])
    cache = BlobCache(tmp_path)
    assert cache.get(digest) is None
    assert not path.exists()
    cache.put(digest, data)
    cache.flush()
    assert path.read_bytes() == data
    assert BlobCache(tmp_path).get(digest) == data


def test_entries_of_earlier_runs_and_of_this_one_are_found(tmp_path: Path) -> None:
    """The entry directories are listed once: entries an earlier run wrote are read, a digest
    whose directory is not there is a miss, and an entry this cache writes in a new directory is
    found afterwards (by this cache and by the next)."""
    old_digest, old_data = _entry(21)
    earlier = BlobCache(tmp_path)
    earlier.put(old_digest, old_data)
    earlier.flush()
    cache = BlobCache(tmp_path)
    assert cache.has(old_digest) and cache.get(old_digest) == old_data
    new = next(
        (d, data) for d, data in (_entry(n) for n in range(22, 200)) if d.split(":")[1][:2] != old_digest[7:9]
    )
    assert not cache.has(new[0]) and cache.get(new[0]) is None
    cache.put(*new)
    cache.flush()
    assert cache.has(new[0]) and cache.get(new[0]) == new[1]
    assert BlobCache(tmp_path).get(new[0]) == new[1]


def test_a_write_that_fails_part_way_leaves_no_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest, data = _entry(31)
    real_write = os.write
    calls = [0]

    def failing(fd: int, chunk: Any) -> int:
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(chunk)[:10])  # a part, then the disk is full

    monkeypatch.setattr(os, "write", failing)
    cache = BlobCache(tmp_path)
    cache.put(digest, data)
    cache.flush()
    monkeypatch.setattr(os, "write", real_write)
    assert not _path(tmp_path, digest).exists()  # the part written is no entry
    assert BlobCache(tmp_path).get(digest) is None


def test_a_symlink_at_an_entry_is_a_miss_and_never_written_through(tmp_path: Path) -> None:
    """A symlink planted at an entry: read, it hashes to something else (a miss, and removed
    from the cache); the file it names is never written, and the entry put is a file of its own."""
    digest, data = _entry(32)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"not yours")
    path = _path(tmp_path / "cache", digest)
    path.parent.mkdir(parents=True)
    path.symlink_to(elsewhere)
    cache = BlobCache(tmp_path / "cache")
    assert cache.get(digest) is None
    cache.put(digest, data)
    cache.flush()
    assert elsewhere.read_bytes() == b"not yours"
    assert not path.is_symlink() and path.read_bytes() == data


def test_a_symlink_planted_before_a_write_is_not_followed(tmp_path: Path) -> None:
    digest, data = _entry(33)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"not yours")
    cache = BlobCache(tmp_path / "cache")
    path = _path(tmp_path / "cache", digest)
    path.parent.mkdir(parents=True)
    path.symlink_to(elsewhere)  # after the miss was seen, before the write
    cache.put(digest, data)
    cache.flush()
    assert path.is_symlink() and elsewhere.read_bytes() == b"not yours"  # O_EXCL: left alone
