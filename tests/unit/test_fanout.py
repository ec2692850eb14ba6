"""The fan-out thread (``slsalint.sources.fanout``) against loopback servers: requests go out at
once, kept-alive connections carry the next ones, and every fault, limit or timeout is an answer
of None (the request thread then asks itself). Over HTTPS it verifies with the client's context."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slsalint.sources.fanout import Answer, FanOut
from slsalint.sources.network import no_tls
from tests.support.tls import server_pki
from tests.unit.test_http1 import CONNECTIONS, Script, answers, read_request, replying, run, silent

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


SLOTS: dict[int, tuple[int, dict[str, threading.BoundedSemaphore]]] = {}
"""id(fan-out) -> (slots per host, each host's semaphore): what ``all_slots_free`` looks at."""


def all_slots_free(fanout: FanOut) -> bool:
    """Whether every per-host slot the fan-out took is back (waiting briefly for its thread)."""
    count, semaphores = SLOTS[id(fanout)]
    deadline = time.monotonic() + 5
    while True:
        taken = []
        for semaphore in semaphores.values():
            while semaphore.acquire(blocking=False):
                taken.append(semaphore)
        for semaphore in taken:
            semaphore.release()
        if len(taken) == count * len(semaphores) or time.monotonic() > deadline:
            return len(taken) == count * len(semaphores)
        time.sleep(0.02)


def _fanout(
    *,
    read_timeout: float = 5.0,
    total_timeout: float = 10.0,
    max_held: int = 1 << 26,
    slots: int = 256,
    context: ssl.SSLContext | None = None,
) -> FanOut:
    semaphores: dict[str, threading.BoundedSemaphore] = {}

    def slot(netloc: str) -> threading.BoundedSemaphore:
        return semaphores.setdefault(netloc, threading.BoundedSemaphore(slots))

    out = FanOut(
        lambda scheme: context or no_tls(),
        slot,
        connect_timeout=5.0,
        read_timeout=read_timeout,
        total_timeout=total_timeout,
        max_held=max_held,
    )
    SLOTS[id(out)] = (slots, semaphores)
    return out


@pytest.fixture
def fanout() -> Iterator[FanOut]:
    out = _fanout()
    yield out
    out.close()


def _get(url: str, path: str = "/x") -> bytes:
    host = url.split("//", 1)[1]
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def test_answers_come_back_and_a_connection_carries_the_next_request(fanout: FanOut) -> None:
    for url, seen in run(answers(OK, OK, OK)):
        for _ in range(3):  # one after another: the first connection is free each time
            item = fanout.send(url + "/x", {}, _get(url), 100)
            assert item is not None
            assert item.answer(10) == (200, [(b"Content-Length", b"5")], b"hello")
        assert len(seen) == 3
    assert CONNECTIONS == [1]


def test_requests_at_once_go_out_together_on_their_own_connections(fanout: FanOut) -> None:
    arrived: list[float] = []
    release = threading.Event()

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            read_request(conn)
            arrived.append(time.monotonic())
            release.wait(10)  # nobody is answered until all have arrived
            conn.sendall(OK)
            conn.recv(1)

        return script

    for url, _ in run(make):
        items = [fanout.send(url + f"/{n}", {}, _get(url, f"/{n}"), 100) for n in range(20)]
        deadline = time.monotonic() + 10
        while len(arrived) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(arrived) == 20
        release.set()
        assert all(item is not None and item.answer(10) is not None for item in items)


def test_the_per_host_limit_holds_the_rest_back(fanout: FanOut) -> None:
    limited = _fanout(slots=2)
    try:
        for url, seen in run(answers(OK, OK, OK, OK)):
            items = [limited.send(url + f"/{n}", {}, _get(url, f"/{n}"), 100) for n in range(6)]
            assert all(item is not None and item.answer(10) is not None for item in items)
            assert len(seen) == 6
        assert CONNECTIONS == [2]
    finally:
        limited.close()


def test_a_kept_alive_connection_the_server_closed_is_replaced_once(fanout: FanOut) -> None:
    closed = threading.Semaphore(0)

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            seen.append(read_request(conn))
            conn.sendall(OK)  # and closes, without saying so
            conn.close()
            closed.release()

        return script

    for url, seen in run(make):
        first = fanout.send(url + "/a", {}, _get(url, "/a"), 100)
        assert first is not None and first.answer(10) is not None
        assert closed.acquire(timeout=10)
        time.sleep(0.05)  # the close reaches the client
        second = fanout.send(url + "/b", {}, _get(url, "/b"), 100)
        assert second is not None and second.answer(10) is not None
        assert len(seen) == 2
    assert CONNECTIONS == [2]


BIG = 200 * 1024


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG + b"x" * BIG,  # over limit + head room
        b"",  # closed without a word
    ],
    ids=["over-the-limit", "closed-at-once"],
)
def test_a_fault_is_no_answer(fanout: FanOut, reply: bytes) -> None:
    for url, _ in run(replying(reply)):
        item = fanout.send(url + "/x", {}, _get(url), 100)
        assert item is not None
        assert item.answer(10) is None
        assert all_slots_free(fanout)  # every fault gives its host's slot back


def test_a_silent_server_is_no_answer_at_the_read_timeout() -> None:
    quick = _fanout(read_timeout=0.3)
    try:
        for url, _ in run(silent()):
            started = time.monotonic()
            item = quick.send(url + "/x", {}, _get(url), 100)
            assert item is not None and item.answer(10) is None
            assert time.monotonic() - started < 5
            assert all_slots_free(quick)
    finally:
        quick.close()


def test_nobody_listening_is_no_answer(fanout: FanOut) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    item = fanout.send(f"http://127.0.0.1:{port}/x", {}, b"GET /x HTTP/1.1\r\n\r\n", 100)
    assert item is not None and item.answer(10) is None
    assert all_slots_free(fanout)


def test_past_the_bytes_it_may_hold_nothing_more_is_sent_ahead() -> None:
    small = _fanout(max_held=300 * 1024)
    try:
        for url, seen in run(answers(OK, OK)):
            first = small.send(url + "/a", {}, _get(url, "/a"), 100 * 1024)
            second = small.send(url + "/b", {}, _get(url, "/b"), 100 * 1024)
            assert first is not None
            assert second is None  # 2 x (100 KiB + the head room) is over 300 KiB
            assert first.answer(10) is not None
            third = small.send(url + "/c", {}, _get(url, "/c"), 100 * 1024)
            assert third is not None and third.answer(10) is not None  # taken: room again
            assert len(seen) == 2
    finally:
        small.close()


def test_closed_answers_nothing_more(fanout: FanOut) -> None:
    for url, _ in run(answers(OK)):
        fanout.close()
        assert fanout.send(url + "/x", {}, _get(url), 100) is None


def test_follow_sends_what_an_answer_names_before_the_answer_is_given(fanout: FanOut) -> None:
    followed: list[object] = []
    for url, seen in run(answers(OK, OK)):

        def follow(answer: Answer, url: str = url) -> None:
            assert answer == (200, [(b"Content-Length", b"5")], b"hello")  # parsed already
            followed.append(fanout.send(url + "/next", {}, _get(url, "/next"), 100))

        item = fanout.send(url + "/x", {}, _get(url), 100, follow)
        assert item is not None and item.answer(10) is not None
        assert len(followed) == 1  # already sent when the first answer was given
        nxt = followed[0]
        assert nxt is not None and nxt.answer(10) is not None  # type: ignore[attr-defined]
        assert [r.split(b" ")[1] for r in seen] == [b"/x", b"/next"]


def test_https_is_verified_with_the_clients_context(tmp_path: Path) -> None:
    pki = server_pki(tmp_path / "pki", ("127.0.0.1",))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.certificate, pki.key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def serve(raw: socket.socket) -> None:
        try:
            with server_context.wrap_socket(raw, server_side=True) as conn:
                while read_request(conn):
                    conn.sendall(OK)
        except (OSError, ssl.SSLError):
            pass

    def accept() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(raw,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    trusting = ssl.create_default_context(cafile=str(pki.ca))
    url = f"https://127.0.0.1:{port}/x"
    message = f"GET /x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    good, bad = _fanout(context=trusting), _fanout(context=ssl.create_default_context())
    try:
        answered = [good.send(url, {}, message, 100) for _ in range(3)]
        assert all(a is not None and a.answer(10) is not None for a in answered)
        refused = bad.send(url, {}, message, 100)
        assert refused is not None and refused.answer(10) is None  # unknown CA: no answer
    finally:
        good.close()
        bad.close()
        listener.close()


def test_a_request_sent_ahead_is_the_bytes_the_transport_would_write() -> None:
    """The client builds the header block once per origin and headers (``_message``): every
    request after the first is byte for byte what httpx and ``http1`` would write for it."""
    from slsalint.sources.http1 import message_of
    from slsalint.sources.registry import RegistryClient

    with RegistryClient() as client:
        for number in range(3):
            for headers in ({}, {"Accept": "application/json", "Authorization": "Bearer abc"}):
                path = f"/v2/team/app/blobs/sha256:{number:064x}"
                url = f"http://127.0.0.1:5000{path}"
                built = message_of(client._http.build_request("GET", url, headers=headers))
                assert client._message("http", "127.0.0.1:5000", path, url, headers) == built
        odd = "/v2/team/app/manifests/a b"  # encoded by httpx: built whole, never from the block
        url = f"http://127.0.0.1:5000{odd}"
        built = message_of(client._http.build_request("GET", url, headers={}))
        assert client._message("http", "127.0.0.1:5000", odd, url, {}) == built
        assert b"a%20b" in built


def test_an_oversized_answer_gives_its_slot_back_for_the_next_request() -> None:
    """With one slot per host: an answer past its limit, then a request that needs the slot."""
    one = _fanout(slots=1)
    big = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG + b"x" * BIG
    try:
        for url, _ in run(answers(big, OK, OK)):
            for _ in range(3):
                first = one.send(url + "/big", {}, _get(url, "/big"), 100)
                assert first is not None and first.answer(10) is None
            for url2, _ in run(answers(OK)):
                item = one.send(url2 + "/x", {}, _get(url2), 100)
                assert item is not None and item.answer(10) is not None
        assert all_slots_free(one)
    finally:
        one.close()


def test_closing_with_requests_in_flight_gives_every_slot_back() -> None:
    fanout = _fanout(slots=4)
    for url, _ in run(silent()):
        items = [fanout.send(url + f"/{n}", {}, _get(url, f"/{n}"), 100) for n in range(4)]
        time.sleep(0.2)  # on the wire
        fanout.close()
        assert all(item is not None and item.answer(5) is None for item in items)
        assert all_slots_free(fanout)


def test_bytes_after_an_answer_are_no_answer_and_end_the_connection(fanout: FanOut) -> None:
    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            while read_request(conn):  # the first connection adds bytes after each answer
                conn.sendall(OK + (b"JUNK" if number == 0 else b""))

        return script

    for url, _ in run(make):
        first = fanout.send(url + "/a", {}, _get(url, "/a"), 100)
        assert first is not None and first.answer(10) is None  # the parser refuses them
        second = fanout.send(url + "/b", {}, _get(url, "/b"), 100)
        assert second is not None and second.answer(10) == (200, [(b"Content-Length", b"5")], b"hello")
    assert CONNECTIONS == [2]  # not the connection the junk came on


def test_an_answer_is_taken_only_for_the_very_request(fanout: FanOut) -> None:
    for url, _ in run(answers(OK)):
        item = fanout.send(url + "/x", {"Accept": "a"}, _get(url), 100)
        assert item is not None
        assert item.matches("GET", url + "/x", {"Accept": "a"})
        assert not item.matches("GET", url + "/x", {"Accept": "b"})
        assert not item.matches("GET", url + "/x", {"Accept": "a", "Authorization": "Bearer t"})
        assert not item.matches("GET", url + "/x", {})
        assert not item.matches("HEAD", url + "/x", {"Accept": "a"})
        assert not item.matches("GET", url + "/y", {"Accept": "a"})
        assert item.answer(10) is not None
