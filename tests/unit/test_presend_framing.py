"""When an early request (``slsalint.sources.presend``) or the fan-out stops reading: as soon as the bytes
evidently hold a whole answer, else when the server closes the connection as it was asked; and
that giving up on it wakes the thread reading it."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from slsalint.sources import presend


@pytest.mark.parametrize(
    ("data", "complete"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok", False),
        (b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nWww-Authenticate: Bearer x\r\n\r\n", True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", True),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", True),  # alike
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: 1\r\nContent-Length: 5\r\n\r\nok", False),
        (b"HTTP/1.1 200 OK\r\n\r\nuntil the connection ends", False),
        (b"HTTP/1.1 200 OK\r\nContent-Le", False),
    ],
)
def test_when_an_early_answer_is_whole(data: bytes, complete: bool) -> None:
    assert presend.answer_complete(bytearray(data)) is complete


@pytest.mark.parametrize(
    ("data", "reusable"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK", False),  # bytes after it
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", False),
        (b"HTTP/1.1 200 OK\r\nconnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok", False),
        (b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\n\r\nuntil the connection ends", False),
        (b"HTTP/1.1 204 No Content\r\n\r\n", False),  # no length: not kept (a new one is cheap)
    ],
)
def test_when_the_connection_of_a_whole_answer_carries_the_next(data: bytes, reusable: bool) -> None:
    """The fan-out keeps a connection only when nothing about the answer's end is in doubt."""
    assert presend.reusable(bytearray(data)) is reusable


def test_giving_up_on_an_early_request_ends_its_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    try:
        early = presend.Presend(
            f"http://127.0.0.1:{listener.getsockname()[1]}/v2/app/tags/list",
            {},
            limit=1 << 20,
            connect_timeout=5,
            read_timeout=30,
            total_timeout=60,
        )
        started = time.monotonic()
        assert early.answer(0.3) is None  # the server never answers
        assert early._done.wait(5)  # the reading thread was woken, not left for its 30 s
        assert time.monotonic() - started < 5
        assert early.answer(0) is None  # and what it read is never used
    finally:
        listener.close()
        for conn in held:
            conn.close()
