"""A lightweight loopback latency proxy for the benchmarks: raw HTTP/1.1 bytes forwarded by asyncio
protocol callbacks on one thread, in its own process; each answer is held until ``latency``
seconds after its request arrived (one network round trip).

``tests.support.proxy`` (a thread per connection, each request parsed and sent again through
httpx) costs about as much CPU per request as the client it measures; on a small machine it
saturates, and its answers then leave tens of milliseconds later than the latency asked for. This
one parses only the framing (request and status lines, ``Content-Length``, ``Transfer-Encoding:
chunked``, ``Connection``) and writes the bytes it read, with no task or future per request. It
adds latency and nothing else (no auth, faults or served documents: ``tests.support.proxy`` has
those).

What it logs means what ``tests.support.proxy.proxy_process`` logs: each request's path (the
request target as sent), when it arrived (its head read, before any body), when its answer was
sent (the last byte handed to the kernel), and for a 2xx answer the digests it named
(``sha256:<hex>`` in its body, decoded if gzip/deflate, or in ``Docker-Content-Digest``). Times
are ``time.monotonic``, comparable across processes on one machine.

Each request is forwarded at once over a kept-alive upstream connection (idle ones are shared);
its answer is read as it comes and held until arrival + latency (past ``HOLD_BYTES`` the
registry is paused until then), then written, the rest streamed through. The ``Host`` header
passes through, so the registry's absolute URLs (upload locations) name the proxy. A registry
that closes or breaks off gets a ``502`` to the client if nothing was sent yet, else the client
connection is closed. Listens on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import resource
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tests.support.proxy import RequestLog

DIGEST = re.compile(rb"sha256:[0-9a-f]{64}")
"""What an answer "names" (the pattern ``tests.support.proxy`` uses)."""
HOLD_BYTES = 1 << 20
"""Answer bytes held before the deadline; past that the registry connection is paused."""
_TAIL = 70  # a digest is 71 bytes: keep the last 70 of each piece, for one cut across two pieces
_LIMIT = 1 << 16  # the longest request or answer head, or chunk-size line
_IDLE = 512  # idle upstream connections kept
_BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

Timing = tuple[str, float, float, tuple[str, ...]]


class _BadMessage(ValueError):
    """Framing that cannot be followed."""


class _Named:
    """The digests an answer names, fed its body piece by piece."""

    __slots__ = ("found", "inflate", "tail")

    def __init__(self, encoding: bytes) -> None:
        self.found: set[bytes] = set()
        self.tail = b""
        self.inflate = (
            zlib.decompressobj(32 + zlib.MAX_WBITS) if encoding.strip() in (b"gzip", b"deflate") else None
        )

    def feed(self, data: bytes) -> None:
        if self.inflate is not None:
            try:
                data = self.inflate.decompress(data)
            except zlib.error:
                self.inflate = None
                return
        window = self.tail + data if self.tail else data
        if b"sha256:" in window:
            self.found.update(DIGEST.findall(window))
        self.tail = window[-_TAIL:]

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(d.decode() for d in self.found))


_LENGTH, _CHUNKED, _UNTIL_CLOSE = 0, 1, 2
_SIZE, _DATA, _DATA_END, _TRAILER = 0, 1, 2, 3


class _Body:
    """Where one message body ends, fed its bytes as they come (the caller forwards them)."""

    __slots__ = ("done", "line", "mode", "named", "remaining", "state")

    def __init__(self, mode: int, length: int = 0, named: _Named | None = None) -> None:
        self.mode = mode
        self.remaining = length
        self.named = named
        self.state = _SIZE
        self.line = b""
        self.done = mode == _LENGTH and length == 0

    def feed(self, data: bytes) -> int:
        """How many bytes of ``data`` belong to the body (the rest is the next message's)."""
        if self.mode == _LENGTH:
            if len(data) >= self.remaining:
                taken, self.remaining, self.done = self.remaining, 0, True
                if self.named is not None:
                    self.named.feed(data[:taken])
                return taken
            self.remaining -= len(data)
            if self.named is not None:
                self.named.feed(data)
            return len(data)
        if self.mode == _UNTIL_CLOSE:
            if self.named is not None:
                self.named.feed(data)
            return len(data)
        pos, end = 0, len(data)
        while pos < end and not self.done:
            if self.state == _DATA:
                taken = min(end - pos, self.remaining)
                if self.named is not None:
                    self.named.feed(data[pos : pos + taken])
                pos += taken
                self.remaining -= taken
                if not self.remaining:
                    self.state = _DATA_END
                continue
            newline = data.find(b"\n", pos)
            if newline < 0:
                self.line += data[pos:]
                if len(self.line) > _LIMIT:
                    raise _BadMessage("chunk line too long")
                return end
            line = self.line + data[pos : newline + 1] if self.line else data[pos : newline + 1]
            self.line = b""
            pos = newline + 1
            if self.state == _SIZE:
                try:
                    self.remaining = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise _BadMessage("bad chunk size") from None
                self.state = _DATA if self.remaining else _TRAILER
            elif self.state == _DATA_END:
                if line.strip():
                    raise _BadMessage("chunk not followed by CRLF")
                self.state = _SIZE
            elif not line.strip():  # the empty line after the trailer fields
                self.done = True
        return pos


def _headers(lines: list[bytes]) -> dict[bytes, bytes]:
    """Header name (lower case) -> value; repeated headers joined with ``,``."""
    out: dict[bytes, bytes] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        value = value.strip()
        out[key] = out[key] + b"," + value if key in out else value
    return out


def _replay_key(method: bytes, target: bytes, lines: list[bytes]) -> bytes | None:
    """What makes two requests the same for a recorded answer: the method, the target and every
    header but ``Host`` (the proxy's own port); None for a request that is never replayed (one
    that may change something or carries a body)."""
    if method not in (b"GET", b"HEAD"):
        return None
    fields = []
    for line in lines:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key in (b"content-length", b"transfer-encoding"):
            return None
        if key != b"host":
            fields.append(key + b":" + value.strip())
    return b"\n".join([method + b" " + target, *sorted(fields)])


def _closes(version: bytes, headers: dict[bytes, bytes]) -> bool:
    connection = headers.get(b"connection")
    if connection is None:
        return version == b"HTTP/1.0"
    tokens = {t.strip() for t in connection.lower().split(b",")}
    return b"close" in tokens or (version == b"HTTP/1.0" and b"keep-alive" not in tokens)


def _framing(headers: dict[bytes, bytes], named: _Named | None, *, default: int) -> _Body | None:
    """The body a message's headers announce (None: none)."""
    if headers.get(b"transfer-encoding", b"").lower().rstrip().endswith(b"chunked"):
        return _Body(_CHUNKED, named=named)
    length = headers.get(b"content-length")
    if length is not None:
        try:
            count = int(length.split(b",")[0])
        except ValueError:
            raise _BadMessage("bad Content-Length") from None
        if count < 0:
            raise _BadMessage("bad Content-Length")
        return _Body(_LENGTH, count, named) if count else None
    return _Body(_UNTIL_CLOSE, named=named) if default == _UNTIL_CLOSE else None


class _Exchange:
    """One request and its answer."""

    __slots__ = (
        "answer_done",
        "arrived",
        "client",
        "closes",
        "deadline",
        "finished",
        "head",
        "key",
        "method",
        "names",
        "path",
        "pending",
        "pending_size",
        "proxy",
        "queued",
        "recording",
        "released",
        "request_body",
        "retried",
        "sent",
        "timer",
        "upstream",
    )

    def __init__(self, proxy: LatencyProxy, client: _Client, head: bytes, arrived: float) -> None:
        self.proxy = proxy
        self.client = client
        self.arrived = arrived
        lines = head[:-4].split(b"\r\n")
        method, _, rest = lines[0].partition(b" ")
        target, _, version = rest.partition(b" ")
        self.method = method
        self.path = target.decode("iso-8859-1")
        proxy.paths.append(self.path)
        headers = _headers(lines[1:])
        self.closes = _closes(version.strip(), headers)
        self.names: tuple[str, ...] = ()
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.sent = False
        """Answer bytes went to the client (or are held for it)."""
        self.answer_done = False
        self.finished = False
        self.retried = False
        self.upstream: _Upstream | None = None
        self.head = head
        self.queued = [head]
        """Request bytes waiting for the upstream connection."""
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = arrived + proxy.latency
        delay = self.deadline - time.monotonic()
        self.released = delay <= 0
        if not self.released:
            self.timer = proxy.loop.call_at(proxy.loop.time() + delay, self._deadline)
        self.request_body = _framing(headers, None, default=_LENGTH)
        self.key = _replay_key(method, target, lines[1:]) if proxy.replays is not None else None
        self.recording: list[bytes] | None = None
        replayed = proxy.replays.get(self.key) if self.key is not None and proxy.replays is not None else None
        if replayed is not None:
            # An answer recorded earlier: no registry is asked (its CPU is not this machine's,
            # as a remote registry's is not). Given once the client has this exchange.
            self.names = replayed[0]
            proxy.loop.call_soon(self._replay, replayed[1])
            return
        if self.key is not None:
            self.recording = []
        proxy.attach(self)

    def _replay(self, data: bytes) -> None:
        if self.finished:
            return
        self.answer(data)
        self.done(keep=True)

    # request side
    def to_upstream(self, data: bytes) -> None:
        if self.upstream is not None:
            self.upstream.transport.write(data)
        elif not self.answer_done:
            self.queued.append(data)

    def connected(self, upstream: _Upstream) -> None:
        self.upstream = upstream
        upstream.start(self)
        upstream.transport.write(b"".join(self.queued))
        self.queued = []

    # answer side
    def interim(self, head: bytes) -> None:
        self.client.transport.write(head)  # 100 Continue: not the answer, not held

    def answer(self, data: bytes) -> None:
        if not data:
            return
        self.sent = True
        if self.recording is not None:
            self.recording.append(data)
        if self.released:
            self.client.transport.write(data)
            return
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size > HOLD_BYTES and self.upstream is not None:
            self.upstream.transport.pause_reading()

    def done(self, *, keep: bool) -> None:
        """The whole answer was read; ``keep``: the upstream connection may be used again."""
        self.answer_done = True
        recording, self.recording = self.recording, None
        if recording is not None and keep and not self.closes and self.key is not None:
            data = b"".join(recording)
            if len(data) <= HOLD_BYTES and self.proxy.replays is not None:
                self.proxy.replays.setdefault(self.key, (self.names, data))
        upstream, self.upstream = self.upstream, None
        self.queued = []
        if upstream is not None:
            if keep and (self.request_body is None or self.request_body.done):
                self.proxy.release_upstream(upstream)
            else:
                # The registry ends its connection (said so in the answer the client gets), or
                # the rest of the request body cannot be sent anywhere now: the client's ends too.
                self.closes = True
                upstream.stop()
        if self.released:
            self._finish()

    def upstream_lost(self, *, reused: bool, answered: bool) -> None:
        """The upstream connection ended before the answer was complete."""
        self.upstream = None
        if not answered and not self.retried and reused and self.request_body is None:
            # A kept-alive connection the registry had closed: once more on a new one.
            self.retried = True
            self.queued = [self.head]
            self.proxy.attach(self, fresh=True)
            return
        self.recording = None
        if not self.sent:
            self.answer(_BAD_GATEWAY)
        self.closes = True
        self.done(keep=False)

    def _deadline(self) -> None:
        late = self.deadline - time.monotonic()
        if late > 0:  # a timer may run a hair early
            self.timer = self.proxy.loop.call_at(self.proxy.loop.time() + late, self._deadline)
            return
        self.timer = None
        self.released = True
        if self.pending:
            self.client.transport.write(b"".join(self.pending) if len(self.pending) > 1 else self.pending[0])
            self.pending = []
        if self.upstream is not None:
            self.upstream.transport.resume_reading()
        if self.answer_done:
            self._finish()

    def _finish(self) -> None:
        if self.finished:
            return
        transport = self.client.transport
        if transport.get_write_buffer_size() and not transport.is_closing():
            # Answered means handed to the kernel: look again shortly.
            self.proxy.loop.call_later(0.0002, self._finish)
            return
        self.finished = True
        self.proxy.timings.append((self.path, self.arrived, time.monotonic(), self.names))
        self.client.exchange_done(self, close=self.closes)

    def abort(self) -> None:
        """The client connection ended."""
        if self.timer is not None:
            self.timer.cancel()
        if self.upstream is not None:
            self.upstream.stop()
            self.upstream = None
        if not self.finished:
            self.finished = True
            self.proxy.timings.append((self.path, self.arrived, time.monotonic(), self.names))


class _Client(asyncio.Protocol):
    """One client connection: requests one after another."""

    def __init__(self, proxy: LatencyProxy) -> None:
        self.proxy = proxy
        self.buffer = b""
        self.exchange: _Exchange | None = None
        self.eof = False
        self.closed = False
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proxy.clients.add(self)

    def data_received(self, data: bytes) -> None:
        self.buffer = self.buffer + data if self.buffer else data
        self._advance()

    def _advance(self) -> None:
        while not self.closed and self.buffer:
            exchange = self.exchange
            if exchange is None:
                first = self.buffer.lstrip(b"\r\n")[:1]
                if first and not first.isalpha():
                    # Not HTTP (a TLS handshake from a client trying https first): refuse now, as
                    # the thread proxy does, rather than wait for a head that never comes.
                    self._refuse(_BAD_REQUEST)
                    return
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > _LIMIT:
                        self._refuse(_TOO_LARGE)
                    return
                head, self.buffer = self.buffer[: end + 4], self.buffer[end + 4 :]
                head = head.lstrip(b"\r\n")
                if not head:
                    continue
                try:
                    self.exchange = _Exchange(self.proxy, self, head, time.monotonic())
                except _BadMessage:
                    self._refuse(_BAD_REQUEST)
                    return
                continue
            body = exchange.request_body
            if body is None or body.done:
                if len(self.buffer) > _LIMIT:
                    self.transport.pause_reading()  # a client sending ahead: wait for the answer
                return
            try:
                taken = body.feed(self.buffer)
            except _BadMessage:
                self._refuse(_BAD_REQUEST)
                return
            part, self.buffer = self.buffer[:taken], self.buffer[taken:]
            exchange.to_upstream(part)

    def _refuse(self, answer: bytes) -> None:
        self.transport.write(answer)
        self.transport.close()
        self.closed = True

    def exchange_done(self, exchange: _Exchange, *, close: bool) -> None:
        self.exchange = None
        if close or (self.eof and not self.buffer):
            self.transport.close()
            self.closed = True
            return
        self.transport.resume_reading()
        self._advance()
        if self.eof and self.exchange is None and not self.closed:
            self.transport.close()
            self.closed = True

    def eof_received(self) -> bool:
        self.eof = True
        # No request under way, or one cut short: close. Half-closed after a whole request: its
        # answer still goes out.
        exchange = self.exchange
        return exchange is not None and (exchange.request_body is None or exchange.request_body.done)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.proxy.clients.discard(self)
        if self.exchange is not None:
            self.exchange.abort()
            self.exchange = None

    def pause_writing(self) -> None:
        if self.exchange is not None and self.exchange.upstream is not None:
            self.exchange.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.exchange is not None and self.exchange.upstream is not None:
            self.exchange.upstream.transport.resume_reading()


class _Upstream(asyncio.Protocol):
    """One connection to the registry: answers one after another, each to its exchange."""

    def __init__(self, proxy: LatencyProxy) -> None:
        self.proxy = proxy
        self.exchange: _Exchange | None = None
        self.buffer = b""
        self.body: _Body | None = None
        self.reading_body = False
        self.answered = False
        self.reused = False
        self.closed = False
        self.keep = True
        self.named: _Named | None = None
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def start(self, exchange: _Exchange) -> None:
        self.exchange = exchange
        self.buffer = b""
        self.body = None
        self.reading_body = False
        self.answered = False

    def stop(self) -> None:
        self.exchange = None
        self.closed = True
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            self.stop()  # bytes nobody asked for
            self.proxy.forget(self)
            return
        self.answered = True
        try:
            while data and self.exchange is exchange:
                if not self.reading_body:
                    data = self._head(exchange, data)
                    continue
                body = self.body
                if body is None:
                    self._done(exchange, data)
                    return
                taken = body.feed(data)
                exchange.answer(data[:taken] if taken < len(data) else data)
                data = data[taken:]
                if body.done:
                    self._done(exchange, data)
                    return
        except _BadMessage:
            self.transport.close()  # connection_lost tells the exchange

    def _head(self, exchange: _Exchange, data: bytes) -> bytes:
        """Read an answer's head from ``data``; returns what follows it."""
        buffer = self.buffer + data if self.buffer else data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _LIMIT:
                raise _BadMessage("answer head too long")
            self.buffer = buffer
            return b""
        self.buffer = b""
        head, rest = buffer[: end + 4], buffer[end + 4 :]
        lines = head[:-4].split(b"\r\n")
        version, _, status_text = lines[0].partition(b" ")
        try:
            status = int(status_text[:3])
        except ValueError:
            raise _BadMessage("bad status line") from None
        if 100 <= status < 200 and status != 101:
            exchange.interim(head)
            return rest
        headers = _headers(lines[1:])
        named = None
        if 200 <= status < 300:
            named = _Named(headers.get(b"content-encoding", b""))
            for line in lines[1:]:
                if line[:21].lower() == b"docker-content-digest":
                    named.found.update(DIGEST.findall(line))
        self.keep = not _closes(version, headers)
        if exchange.method == b"HEAD" or status in (204, 304):
            self.body = None
        else:
            self.body = _framing(headers, named, default=_UNTIL_CLOSE)
        self.named = named
        self.reading_body = True
        exchange.answer(head)
        if self.body is None:
            self._done(exchange, rest)
            return b""
        return rest

    def _done(self, exchange: _Exchange, rest: bytes) -> None:
        if self.named is not None:
            exchange.names = self.named.names()
        keep = self.keep and not rest and (self.body is None or self.body.mode != _UNTIL_CLOSE)
        self.exchange = None
        self.reused = True
        exchange.done(keep=keep)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.proxy.forget(self)
        exchange, self.exchange = self.exchange, None
        if exchange is None:
            return
        body = self.body
        if self.reading_body and body is not None and body.mode == _UNTIL_CLOSE:
            if self.named is not None:
                exchange.names = self.named.names()
            exchange.closes = True
            exchange.done(keep=False)
            return
        exchange.upstream_lost(reused=self.reused, answered=self.answered)


class LatencyProxy:
    """Forwards to ``upstream`` (``http://host:port``), each answer held ``latency`` seconds."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        upstream: str,
        latency: float,
        replays: dict[bytes, tuple[tuple[str, ...], bytes]] | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{upstream}: the latency proxy forwards to an http:// registry")
        self.loop = loop
        self.address = (parts.hostname, parts.port or 80)
        self.latency = latency
        self.paths: list[str] = []
        self.timings: list[Timing] = []
        self.clients: set[_Client] = set()
        self.idle: list[_Upstream] = []
        self.connecting: set[asyncio.Task[None]] = set()
        self.replays = replays
        """Recorded answers, served instead of the registry's (None: every request is forwarded);
        each answer forwarded is added, for the requests after it."""

    async def start(self) -> asyncio.Server:
        return await self.loop.create_server(lambda: _Client(self), "127.0.0.1", 0, backlog=1024)

    def attach(self, exchange: _Exchange, *, fresh: bool = False) -> None:
        """Give ``exchange`` an upstream connection: an idle one, else a new one."""
        while self.idle and not fresh:
            upstream = self.idle.pop()
            if not upstream.closed:
                exchange.connected(upstream)
                return
        task = self.loop.create_task(self._connect(exchange))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)

    async def _connect(self, exchange: _Exchange) -> None:
        try:
            _, upstream = await self.loop.create_connection(lambda: _Upstream(self), *self.address)
        except OSError:
            exchange.upstream_lost(reused=False, answered=False)
            return
        if exchange.finished or exchange.answer_done:
            self.release_upstream(upstream)
            return
        exchange.connected(upstream)

    def release_upstream(self, upstream: _Upstream) -> None:
        if upstream.closed:
            return
        if len(self.idle) >= _IDLE:
            upstream.stop()
            return
        self.idle.append(upstream)

    def forget(self, upstream: _Upstream) -> None:
        with contextlib.suppress(ValueError):
            self.idle.remove(upstream)

    def close_all(self) -> None:
        for task in list(self.connecting):
            task.cancel()
        for client in list(self.clients):
            client.transport.abort()
        for upstream in list(self.idle):
            upstream.transport.abort()


def _load_replays(path: str) -> dict[bytes, tuple[tuple[str, ...], bytes]]:
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    except FileNotFoundError:
        return {}
    return {
        base64.b64decode(key): (tuple(names), base64.b64decode(data)) for key, (names, data) in stored.items()
    }


def _save_replays(path: str, replays: dict[bytes, tuple[tuple[str, ...], bytes]]) -> None:
    stored = {
        base64.b64encode(key).decode(): [list(names), base64.b64encode(data).decode()]
        for key, (names, data) in replays.items()
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(stored, handle)


async def _serve(upstream: str, latency: float, log: str, replay_file: str | None = None) -> None:
    loop = asyncio.get_running_loop()
    replays = None if replay_file is None else {} if replay_file == "-" else _load_replays(replay_file)
    proxy = LatencyProxy(loop, upstream, latency, replays)
    server = await proxy.start()
    print(f"127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    done = loop.create_future()
    buffered = b""
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)

    def on_stdin() -> None:
        nonlocal buffered
        try:
            data = os.read(stdin, 65536)
        except BlockingIOError:
            return
        if not data:
            loop.remove_reader(stdin)
            if not done.done():
                done.set_result(None)
            return
        buffered += data
        while b"\n" in buffered:
            line, _, buffered = buffered.partition(b"\n")
            if line.strip() == b"dump":
                with open(log, "w", encoding="utf-8") as handle:
                    json.dump({"paths": proxy.paths, "timings": proxy.timings}, handle)
                if replay_file and replay_file != "-" and proxy.replays is not None:
                    _save_replays(replay_file, proxy.replays)
                print("ok", flush=True)

    loop.add_reader(stdin, on_stdin)
    await done
    server.close()
    proxy.close_all()


@contextmanager
def proxy_process(
    upstream: str, *, latency: float = 0.0, replay: Path | bool = False
) -> Iterator[tuple[str, RequestLog]]:
    """The proxy in its own process, as ``tests.support.proxy.proxy_process`` (same arguments,
    same yielded ``(host:port, requests)``): ``requests(contains)`` lists the request paths seen
    so far that contain ``contains``, ``requests.timings()`` each request's path, when it arrived,
    when its answer was sent and the digests a 2xx answer named.

    ``replay``: answer a GET or HEAD identical (method, target, headers but ``Host``) to one
    answered before from the recorded answer, the registry not asked: the registry's CPU is then
    off this machine, as a remote registry's is. The first of each is forwarded and its whole
    kept-alive answer (up to ``HOLD_BYTES``) recorded. ``True``: recorded for this process only;
    a file: read from it at start and written to it at each log read, for the next process."""
    from tests.support.proxy import module_process

    extra = [] if replay is False else ["-"] if replay is True else [str(replay)]
    with module_process("tests.support.latency_proxy", upstream, latency, *extra) as running:
        yield running


def main(argv: list[str]) -> None:
    """``python -m tests.support.latency_proxy UPSTREAM LATENCY LOGFILE [REPLAYFILE|-]``: serve
    until stdin closes; each ``dump`` line on stdin writes the request paths and timings to LOGFILE
    (and the recorded answers to REPLAYFILE) and answers ``ok``. ``-``: answers are recorded and
    replayed in memory only."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # two descriptors per connection
    asyncio.run(_serve(argv[0], float(argv[1]), argv[2], argv[3] if len(argv) > 3 else None))


if __name__ == "__main__":
    main(sys.argv[1:])
