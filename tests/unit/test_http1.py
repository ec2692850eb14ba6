"""The registry client's HTTP/1.1 transport (``slsalint.sources.http1``) against a loopback server
that answers with scripted bytes: framing, keep-alive, kept-alive connections the server closed,
malformed and cut-off answers, timeouts and the request deadline."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import httpx
import pytest

from slsalint.sources import http1
from slsalint.sources.deadline import deadline
from slsalint.sources.http1 import MAX_HEAD, Http1Transport
from slsalint.sources.network import no_tls

Script = Callable[[socket.socket, int], None]
"""Serves one connection (the socket, its number from 0)."""


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
            while len(rest) < length:
                rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest


@contextmanager
def server(script: Script) -> Iterator[tuple[str, list[int]]]:
    """A loopback server running ``script`` for each connection; yields its base URL and the
    number of connections it accepted so far (a one-item list)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = [0]
    threads: list[threading.Thread] = []

    def accept() -> None:
        number = 0
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return

            def serve(conn: socket.socket = conn, number: int = number) -> None:
                with conn, suppress(OSError):
                    script(conn, number)

            accepted[0] = number + 1  # counted before it is served
            thread = threading.Thread(target=serve, daemon=True)
            thread.start()
            threads.append(thread)
            number += 1

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        listener.close()


def get(transport: Http1Transport, url: str, method: str = "GET", **timeout: float) -> tuple[int, bytes]:
    request = httpx.Request(
        method, url, extensions={"timeout": {"connect": 5.0, "read": 5.0, "write": 5.0, **timeout}}
    )
    response = transport.handle_request(request)
    try:
        body = b"".join(response.stream)  # type: ignore[arg-type]
    finally:
        response.close()
    return response.status_code, body


def answers(*replies: bytes, keep_open: bool = True) -> Callable[[list[bytes]], Script]:
    """A script answering the requests of a connection with ``replies`` in turn."""

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            for reply in replies:
                request = read_request(conn)
                if not request:
                    return
                seen.append(request)
                conn.sendall(reply)
            if keep_open:
                conn.recv(1)  # until the client closes

        return script

    return make


def replying(reply: bytes) -> Callable[[list[bytes]], Script]:
    """A script answering each connection's first request with ``reply``, then closing it."""

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            read_request(conn)
            conn.sendall(reply)

        return script

    return make


def silent() -> Callable[[list[bytes]], Script]:
    """A script that reads each connection's first request and never answers it."""

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            read_request(conn)
            conn.recv(1)  # until the client gives up

        return script

    return make


def run(make: Callable[[list[bytes]], Script]) -> Iterator[tuple[str, list[bytes]]]:
    seen: list[bytes] = []
    with server(make(seen)) as (url, accepted):
        yield url, seen
        CONNECTIONS[:] = accepted


CONNECTIONS: list[int] = []
"""How many connections the last ``run`` server accepted."""


def idle_closed_by_server(transport: Http1Transport, url: str) -> None:
    """Wait until the server's close of the transport's idle connection to ``url`` has reached it
    (under load the FIN can be delivered after the server thread went on)."""
    port = int(url.rsplit(":", 1)[1])
    connection = transport._idle[("http", "127.0.0.1", port)]
    readable, _, _ = select.select([connection.sock], [], [], 10)
    assert readable


@pytest.fixture
def transport() -> Iterator[Http1Transport]:
    t = Http1Transport(no_tls())
    yield t
    t.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
CLOSED = threading.Semaphore(0)
"""Released by scripts that close a connection after answering."""


def test_a_kept_alive_connection_carries_the_next_request(transport: Http1Transport) -> None:
    for url, seen in run(answers(OK, OK, b"HTTP/1.1 204 No Content\r\n\r\n")):
        assert get(transport, f"{url}/v2/a") == (200, b"hello")
        assert get(transport, f"{url}/v2/b?n=1") == (200, b"hello")
        assert get(transport, f"{url}/v2/c") == (204, b"")
        assert [r.split(b"\r\n")[0] for r in seen] == [
            b"GET /v2/a HTTP/1.1",
            b"GET /v2/b?n=1 HTTP/1.1",
            b"GET /v2/c HTTP/1.1",
        ]
        assert b"\r\nHost: 127.0.0.1:" in seen[0]
    assert CONNECTIONS == [1]


def test_chunked_answers_with_extensions_and_trailers(transport: Http1Transport) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    for url, seen in run(answers(chunked, OK)):
        assert get(transport, url) == (200, b"hello world")
        assert get(transport, url) == (200, b"hello")  # the same connection: framing was exact
        assert len(seen) == 2
    assert CONNECTIONS == [1]


def test_a_body_ending_with_the_connection_is_read_to_its_end_and_not_reused(
    transport: Http1Transport,
) -> None:
    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            seen.append(read_request(conn))
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nall of it")

        return script

    for url, seen in run(make):
        assert get(transport, url) == (200, b"all of it")
        assert get(transport, url) == (200, b"all of it")
        assert len(seen) == 2
    assert CONNECTIONS == [2]


def test_connection_close_and_http_1_0_are_not_reused(transport: Http1Transport) -> None:
    for reply in (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ):

        def make(seen: list[bytes], reply: bytes = reply) -> Script:
            def script(conn: socket.socket, number: int) -> None:
                read_request(conn)
                conn.sendall(reply)
                conn.recv(1)

            return script

        for url, _ in run(make):
            assert get(transport, url) == (200, b"ok")
            assert get(transport, url) == (200, b"ok")
        assert CONNECTIONS == [2]


def test_a_kept_alive_connection_the_server_closed_is_replaced(transport: Http1Transport) -> None:
    for method in ("GET", "POST"):

        def make(seen: list[bytes]) -> Script:
            def script(conn: socket.socket, number: int) -> None:
                read_request(conn)
                conn.sendall(OK)  # and closes, without saying so
                conn.close()
                CLOSED.release()

            return script

        for url, _ in run(make):
            assert get(transport, url, method) == (200, b"hello")
            assert CLOSED.acquire(timeout=10)
            idle_closed_by_server(transport, url)
            assert get(transport, url, method) == (200, b"hello")
        assert CONNECTIONS == [2]


def test_head_answers_have_no_body_whatever_they_announce(transport: Http1Transport) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    for url, seen in run(answers(head, OK)):
        assert get(transport, url, "HEAD") == (200, b"")
        assert get(transport, url) == (200, b"hello")
        assert len(seen) == 2
    assert CONNECTIONS == [1]


def test_informational_answers_are_skipped(transport: Http1Transport) -> None:
    for url, _ in run(answers(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)):
        assert get(transport, url) == (200, b"hello")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
            "peer closed connection without sending complete message body: received 4 bytes, expected 10",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            "peer closed connection without sending complete message body",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", "not followed by CRLF"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", "malformed Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed Content-Length"),
        (b"HTTP/2 200\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header field"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", "malformed header field"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * MAX_HEAD + b"\r\n\r\n", "header block is too long"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "Server disconnected without sending a response"),
        (b"", "Server disconnected without sending a response"),
    ],
)
def test_malformed_and_cut_off_answers_are_protocol_errors(
    transport: Http1Transport, reply: bytes, message: str
) -> None:
    for url, _ in run(replying(reply)):
        with pytest.raises(httpx.RemoteProtocolError, match=message):
            get(transport, url)


def test_a_silent_server_is_a_read_timeout(transport: Http1Transport) -> None:
    for url, _ in run(silent()):
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            get(transport, url, read=0.2)
        assert time.monotonic() - started < 2


def test_a_dripping_answer_ends_at_the_request_deadline(transport: Http1Transport) -> None:
    """A byte every 50 ms never trips the read timeout; the deadline ends it."""

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            read_request(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                conn.sendall(b"x")
                time.sleep(0.05)

        return script

    for url, _ in run(make):
        started = time.monotonic()
        with deadline(started + 0.4), pytest.raises(httpx.ReadTimeout):
            get(transport, url, read=5.0)
        assert time.monotonic() - started < 2


def test_nobody_listening_is_a_connect_error(transport: Http1Transport) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(httpx.ConnectError, match=r"[Cc]onnection refused"):
        get(transport, f"http://127.0.0.1:{port}/v2/")


def test_a_request_body_is_sent_with_its_length(transport: Http1Transport) -> None:
    for url, seen in run(answers(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")):
        request = httpx.Request("PUT", f"{url}/v2/x/manifests/1", content=b'{"a": 1}')
        response = transport.handle_request(request)
        response.close()
        assert response.status_code == 201
        assert seen[0].endswith(b'\r\n\r\n{"a": 1}')
        assert b"\r\nContent-Length: 8\r\n" in seen[0]


def test_an_idle_connection_past_its_expiry_is_not_used(
    transport: Http1Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http1, "KEEPALIVE_EXPIRY", 0.05)
    for url, _ in run(answers(OK, OK)):
        assert get(transport, url) == (200, b"hello")
        time.sleep(0.1)
        assert get(transport, url) == (200, b"hello")
    assert CONNECTIONS == [2]


def test_a_streamed_request_body_is_sent_chunked(transport: Http1Transport) -> None:
    received: list[bytes] = []

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            data = b""
            while not data.endswith(b"0\r\n\r\n"):
                data += conn.recv(65536)
            received.append(data)
            conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            conn.recv(1)

        return script

    for url, _ in run(make):
        request = httpx.Request("PATCH", url, content=iter([b"abc", b"de"]))
        response = transport.handle_request(request)
        response.close()
        assert response.status_code == 202
    assert b"\r\nTransfer-Encoding: chunked\r\n" in received[0]
    assert received[0].endswith(b"\r\n\r\n5\r\nabcde\r\n0\r\n\r\n")


def test_a_get_cut_off_before_any_answer_is_sent_again_and_a_post_is_not(
    transport: Http1Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server closes a kept-alive connection just as the next request goes out (the check for
    a closed connection saw nothing yet): a GET is sent again on a new connection, a POST fails."""
    monkeypatch.setattr(http1._Connection, "dropped", lambda self: False)

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            read_request(conn)
            conn.sendall(OK)  # and closes
            conn.close()
            CLOSED.release()

        return script

    for url, _ in run(make):
        assert get(transport, url) == (200, b"hello")
        assert CLOSED.acquire(timeout=10)
        assert get(transport, url) == (200, b"hello")
        assert CLOSED.acquire(timeout=10)
        with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending a response"):
            get(transport, url, "POST")
    assert CONNECTIONS == [2]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "switched protocols"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok",
            "unsupported Transfer",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: notchunked\r\n\r\n0\r\n\r\n", "unsupported Transfer"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", "unsupported Transfer"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
            "malformed chunk size",
        ),
        (b"HTTP/1.1 200 OK\r\nCont ent-Length: 2\r\n\r\nok", "malformed header field"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\nX: 1\r\n\r\nok", "malformed header field"),
        (b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 2\r\n\r\nok", "malformed header field"),
    ],
)
def test_framing_h11_refused_is_refused(transport: Http1Transport, reply: bytes, message: str) -> None:
    for url, _ in run(replying(reply)):
        with pytest.raises(httpx.RemoteProtocolError, match=message):
            get(transport, url)


def test_an_answer_naming_both_framings_is_read_chunked_and_its_connection_not_reused(
    transport: Http1Transport,
) -> None:
    both = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    for url, _ in run(answers(both, OK)):
        assert get(transport, url) == (200, b"ok")
    assert CONNECTIONS == [1]
    assert transport._idle == {}


def test_early_hints_are_skipped(transport: Http1Transport) -> None:
    for url, _ in run(answers(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK)):
        assert get(transport, url) == (200, b"hello")


def test_a_header_value_that_would_end_the_header_block_is_never_sent(transport: Http1Transport) -> None:
    for url, seen in run(answers(OK)):
        token = "abc\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x"
        request = httpx.Request("GET", url, headers={"Authorization": f"Bearer {token}"})
        with pytest.raises(httpx.LocalProtocolError, match=r"^Illegal header value$"):
            transport.handle_request(request)
        assert seen == []


def test_the_connection_goes_to_the_name_as_encoded_in_the_url(
    transport: Http1Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``xn--fa-hia.de`` is ``faß.de``, which Python's own IDNA 2003 codec would send to
    ``fass.de``; the socket is given the ASCII name httpx put in the URL and the Host header."""
    dialled: list[tuple[str, int]] = []

    def refuse(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        dialled.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    for host in ("xn--fa-hia.de", "xn--1-zhc.com"):
        with pytest.raises(httpx.ConnectError, match="Connection refused"):
            get(transport, f"https://{host}/v2/")
    assert dialled == [("xn--fa-hia.de", 443), ("xn--1-zhc.com", 443)]


def test_an_answer_received_whole_is_parsed_as_one_from_a_connection() -> None:
    assert http1.read_whole(OK, "GET") == (200, [(b"Content-Length", b"5")], b"hello")
    assert http1.read_whole(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n", "GET") == (
        404,
        [],
        b"",
    )
    for broken, message in (
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 209\r\n\r\nhello", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", "received 5 bytes, expected 9"),
        (OK + b"HTTP/1.1 200 OK\r\n", "bytes after the end"),
        (b"HTTP/1.1 200 OK\r\nBogus\r\nContent-Length: 5\r\n\r\nhello", "malformed header field"),
        (b"", "Server disconnected"),
    ):
        with pytest.raises(httpx.RemoteProtocolError, match=message):
            http1.read_whole(broken, "GET")


def test_an_answer_of_many_tiny_chunks_is_parsed_in_linear_time() -> None:
    """200,000 one-byte chunks (1.2 MB): each is taken from the front of the buffer without
    copying the rest (re-slicing it per chunk would copy terabytes; this ends at once)."""
    body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\nx\r\n" * 200_000 + b"0\r\n\r\n"
    started = time.monotonic()
    assert http1.read_whole(body, "GET")[2] == b"x" * 200_000
    assert time.monotonic() - started < 60  # does not hang (not a speed target)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", "malformed Content-Length"),
        (b"HTTP/1.1 099 Odd\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" * 17 + OK, "more than 16 informational answers"),
    ],
)
def test_what_would_not_be_an_answer_is_a_protocol_error_live_and_whole(
    transport: Http1Transport, reply: bytes, message: str
) -> None:
    for url, _ in run(replying(reply)):
        with pytest.raises(httpx.RemoteProtocolError, match=message):
            get(transport, url)
    with pytest.raises(httpx.RemoteProtocolError, match=message):
        http1.read_whole(reply, "GET")


@pytest.mark.parametrize("host", ["a..b", "a" * 64 + ".example"])
def test_a_name_the_resolver_cannot_encode_is_a_connect_error(transport: Http1Transport, host: str) -> None:
    with pytest.raises(httpx.ConnectError):
        get(transport, f"http://{host}/v2/")
