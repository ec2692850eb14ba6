"""The registry client's request threads (``slsalint.sources.pool.RequestPool``)."""

from __future__ import annotations

import threading
import time

import pytest

from slsalint.sources.pool import RequestPool


def test_results_errors_and_the_thread_bound() -> None:
    pool = RequestPool(4)
    running = 0
    most = 0
    lock = threading.Lock()
    gate = threading.Event()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(5)
        with lock:
            running -= 1
        if n == 7:
            raise ValueError("seven")
        return n * n

    futures = [pool.submit(work, n) for n in range(20)]
    time.sleep(0.2)
    assert pool.threads == 4 and most == 4  # never more than max_workers, and all of them used
    gate.set()
    assert [f.result(5) for n, f in enumerate(futures) if n != 7] == [n * n for n in range(20) if n != 7]
    with pytest.raises(ValueError, match="seven"):
        futures[7].result(5)
    pool.shutdown()
    _ends(pool)


def _ends(pool: RequestPool) -> None:
    """Idle threads end on their own once the pool is shut down (not waited for)."""
    for _ in range(100):
        if pool.threads == 0:
            return
        time.sleep(0.01)
    raise AssertionError(f"{pool.threads} threads still running")


def test_idle_threads_are_reused_and_prestarted_ones_wait() -> None:
    pool = RequestPool(64)
    pool.prestart(8)
    assert pool.threads == 8
    for _ in range(5):
        assert pool.submit(lambda: threading.get_ident()).result(5)
        time.sleep(0.01)
    assert pool.threads == 8  # idle threads took the work: none added
    pool.prestart(100)
    assert pool.threads == 64
    pool.shutdown()
    _ends(pool)


def test_shutdown_cancels_what_has_not_started() -> None:
    pool = RequestPool(1)
    gate = threading.Event()
    first = pool.submit(gate.wait, 5)
    queued = [pool.submit(lambda: 1) for _ in range(5)]
    time.sleep(0.05)
    stopper = threading.Thread(target=lambda: pool.shutdown(cancel_futures=True))
    stopper.start()
    time.sleep(0.05)
    gate.set()
    stopper.join(5)
    assert first.result(5) is True
    assert all(f.cancelled() for f in queued)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: 1)
    with pytest.raises(ValueError):
        RequestPool(0)


def test_shutdown_waits_for_running_and_queued_work_not_for_idle_threads() -> None:
    pool = RequestPool(2)
    pool.prestart(2)
    done: list[int] = []

    def slow(n: int) -> None:
        time.sleep(0.1)
        done.append(n)

    for n in range(4):
        pool.submit(slow, n)
    pool.shutdown()  # two rounds of 0.1 s: everything submitted has run when it returns
    assert sorted(done) == [0, 1, 2, 3]
    _ends(pool)
