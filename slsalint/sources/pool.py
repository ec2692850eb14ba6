"""The threads a registry client's requests run on.

Like ``concurrent.futures.ThreadPoolExecutor`` (a thread is added only when no idle one can take
the work, up to ``max_workers``), with one difference that matters on a wide index: submitting
never waits for a new thread to begin running. ``ThreadPoolExecutor`` waits for each thread it
starts to take the interpreter lock and signal that it runs; while earlier requests' threads hold
that lock, each start costs milliseconds, and the requests of one round of a 64-platform index
went out over more than a round trip. Here a new thread is started and the next request queued
at once; the threads pick up the queue as they come up.
"""

from __future__ import annotations

import _thread
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class RequestPool:
    """Threads started as work arrives (never more than ``max_workers``), kept until shutdown."""

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max = max_workers
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._ended = threading.Condition(self._lock)
        self._threads = 0
        self._idle = 0
        self._busy = 0
        self._queued = 0
        self._closed = False

    @property
    def threads(self) -> int:
        """Threads started and not ended."""
        with self._lock:
            return self._threads

    def prestart(self, count: int) -> None:
        """Have at least ``count`` threads (never more than ``max_workers``) waiting for work:
        started while the first answer is awaited, they are ready when its dependents go out."""
        with self._lock:
            if self._closed:
                return
            extra = max(0, min(count, self._max) - self._threads)
            self._threads += extra
            self._idle += extra
            for _ in range(extra):
                _thread.start_new_thread(self._work, ())

    def submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit requests after the pool was shut down")
            self._queue.put((future, func, args))
            self._queued += 1
            if self._idle:
                self._idle -= 1  # one thread waiting (or about to) takes it
            elif self._threads < self._max:
                self._threads += 1
                _thread.start_new_thread(self._work, ())
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                with self._lock:
                    self._threads -= 1
                    self._ended.notify_all()
                return
            future, func, args = item
            del item
            with self._lock:
                self._queued -= 1
                self._busy += 1
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = func(*args)
                    except BaseException as exc:  # handed to whoever waits on the future
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
                        del result
            finally:
                del future, func, args
                with self._lock:
                    self._busy -= 1
                    self._idle += 1
                    self._ended.notify_all()

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        """No new work; queued work cancelled when ``cancel_futures``; with ``wait``, returns once
        no work is left queued or running (the work running ends at its own deadline). Idle
        threads end on their own, without being waited for."""
        with self._lock:
            if self._closed:
                threads = 0
            else:
                self._closed = True
                threads = self._threads
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
                    with self._lock:
                        self._queued -= 1
        for _ in range(threads):
            self._queue.put(None)
        if wait:
            with self._lock:
                while self._busy or (self._queued and self._threads):
                    self._ended.wait()
