"""A lean HTTP/1.1 transport for direct registry connections (no proxy).

httpx's own transport (httpcore and h11) costs about 0.3 ms of interpreter time per request on top
of the socket calls; a wide index or a fleet sends thousands of requests from threads that share one
interpreter, so that cost is what bounds them. This transport does what the registry client needs
and nothing more: one request at a time on a connection, kept alive between requests of the thread
that owns the transport (each thread has its own, ``network.NetworkTransport``), message framing by
``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the connection, and the answer's
body streamed to the caller, which bounds it (``registry.read_limited``).

Every connect, TLS handshake, write and read waits at most until the calling thread's deadline
(``deadline.deadline``), as with ``deadline.DeadlineTransport``. Failures are httpx's exceptions, with
the messages httpcore gives: ``ConnectError``/``ConnectTimeout``, ``ReadTimeout``/``WriteTimeout``,
``ReadError``/``WriteError``, and ``RemoteProtocolError`` for a malformed or cut-off answer. A
request on a kept-alive connection that the server had closed meanwhile is sent again once on a new
connection when nothing of an answer arrived (GET and HEAD only: both are safe to repeat).
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpx

from slsalint.sources.deadline import bound

MAX_HEAD = 64 * 1024
"""The longest status line and header block accepted."""
MAX_HEADERS = 256
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(rb"[\r\n\x00]")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_STATUS = re.compile(rb"[1-5][0-9][0-9]")
_LENGTH = re.compile(rb"[0-9]{1,19}")
MAX_INFORMATIONAL = 16
"""Informational (1xx) answers skipped before the final one."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default): a connection a middlebox dropped without
a word is not waited on for a read timeout."""
_READ = 64 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})


class _Closed(Exception):
    """The connection ended before any byte of an answer (a kept-alive one the server closed)."""


class _Reset(httpx.ReadError):
    """The server reset the connection."""


class _Connection:
    __slots__ = ("buffer", "idle_since", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        """Bytes received and not yet parsed (consumed from the front: ``del`` there is O(1))."""
        self.idle_since = 0.0

    def dropped(self) -> bool:
        """Whether an idle connection is not to be used again: idle too long, or closed by the
        server (readable: EOF or stray bytes)."""
        if self.buffer or time.monotonic() - self.idle_since > KEEPALIVE_EXPIRY:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def recv(self, timeout: float | None) -> bytes:
        self.sock.settimeout(bound(timeout, httpx.ReadTimeout))
        try:
            return self.sock.recv(_READ)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out") from None
        except ConnectionResetError as exc:
            raise _Reset(str(exc) or type(exc).__name__) from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None


class _Received(_Connection):
    """An answer received whole (the server closed the connection after it)."""

    def __init__(self, data: bytes) -> None:
        self.buffer = bytearray()
        self.idle_since = 0.0
        self._data = memoryview(data)

    def close(self) -> None:
        pass

    def recv(self, timeout: float | None) -> bytes:
        """The next piece, as if it came from the socket (bounded by the request's deadline)."""
        bound(timeout, httpx.ReadTimeout)
        piece, self._data = bytes(self._data[:_READ]), self._data[_READ:]
        return piece


def read_whole(data: bytes, method: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of an answer received whole (``presend``), parsed and framed as
    one read from a connection is; RemoteProtocolError when it is malformed, cut off or followed
    by anything."""
    connection = _Received(data)
    try:
        status, _, version, headers = _final_head(connection, None)
    except _Closed:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from None
    body = b"".join(_Body(None, connection, ("", "", 0), method, status, version, headers, None))
    if connection.buffer:
        raise httpx.RemoteProtocolError("bytes after the end of the answer")
    return status, headers, body


class Http1Transport(httpx.BaseTransport):
    """Direct HTTP/1.1 (and HTTPS, verified against ``ssl_context``) for one thread's requests."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._context = ssl_context
        self._idle: dict[tuple[str, str, int], _Connection] = {}
        self._lock = threading.Lock()  # close() may come from another thread
        self._closed = False

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            self._closed = True
        for connection in idle.values():
            connection.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        # The name as httpx encoded it (IDNA 2008, as in the Host header): the socket and TLS
        # layers would encode a decoded name again by other rules, maybe to another host.
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, host, port)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        message = message_of(request)
        with self._lock:
            connection = self._idle.pop(key, None)
        if connection is not None and connection.dropped():
            connection.close()
            connection = None
        if connection is not None:
            try:
                return self._exchange(connection, key, request, message, timeouts)
            except _Closed:
                connection.close()
                if request.method not in ("GET", "HEAD"):
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    ) from None
        connection = self._connect(scheme, host, port, timeouts)
        try:
            return self._exchange(connection, key, request, message, timeouts)
        except _Closed:
            connection.close()
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from None

    def _connect(self, scheme: str, host: str, port: int, timeouts: dict[str, float | None]) -> _Connection:
        connect = timeouts.get("connect")
        wait = bound(connect, httpx.ConnectTimeout)
        try:
            sock = socket.create_connection((host, port), timeout=wait)
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out") from None
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name the resolver cannot encode
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock.settimeout(bound(connect, httpx.ConnectTimeout))
                sock = self._context.wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            sock.close()
            raise httpx.ConnectTimeout("timed out") from None
        except (OSError, ssl.SSLError, UnicodeError) as exc:
            sock.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _exchange(
        self,
        connection: _Connection,
        key: tuple[str, str, int],
        request: httpx.Request,
        message: bytes,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        sock = connection.sock
        try:
            sock.settimeout(bound(timeouts.get("write"), httpx.WriteTimeout))
            sock.sendall(message)
        except TimeoutError:
            connection.close()
            raise httpx.WriteTimeout("timed out") from None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError | ConnectionResetError):
                raise _Closed from None
            connection.close()
            raise httpx.WriteError(str(exc) or type(exc).__name__) from None
        except BaseException:
            connection.close()
            raise
        read = timeouts.get("read")
        try:
            status, reason, version, headers = _final_head(connection, read)
            stream = _Body(self, connection, key, request.method, status, version, headers, read)
        except BaseException:
            connection.close()
            raise
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            request=request,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    def _keep(self, key: tuple[str, str, int], connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            previous = self._idle.pop(key, None)
            kept = not self._closed
            if kept:
                self._idle[key] = connection
        if previous is not None:
            previous.close()
        if not kept:
            connection.close()


def message_of(request: httpx.Request) -> bytes:
    """The request line, headers and body, as sent."""
    url = request.url
    target = url.raw_path or b"/"
    lines = [request.method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    for name, value in request.headers.raw:
        # As h11 refuses them: a name that is not a token, a value holding CR, LF or NUL (a
        # token from a token service, say), which would end the header block early.
        if not _TOKEN.fullmatch(name):
            raise httpx.LocalProtocolError("Illegal header name")
        if _UNSAFE_VALUE.search(value):
            raise httpx.LocalProtocolError("Illegal header value")
        lines.append(name + b": " + value)
    body = request.read()
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        body = (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    elif body and "content-length" not in request.headers:
        lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _read_head(
    connection: _Connection, timeout: float | None
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    data = connection.buffer
    start = 0
    while True:
        end = data.find(b"\r\n\r\n", start, MAX_HEAD + 4)
        if end >= 0:
            break
        if len(data) > MAX_HEAD:
            raise httpx.RemoteProtocolError("the answer's header block is too long")
        start = max(0, len(data) - 3)
        try:
            chunk = connection.recv(timeout)
        except _Reset:
            if not data:
                raise _Closed from None
            raise
        if not chunk:
            if not data:
                raise _Closed
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        data += chunk
    head = bytes(data[:end])
    del data[: end + 4]
    if len(head) > MAX_HEAD:
        raise httpx.RemoteProtocolError("the answer's header block is too long")
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if (
        version not in (b"HTTP/1.1", b"HTTP/1.0")
        or not _STATUS.fullmatch(code)
        or _UNSAFE_VALUE.search(reason)
    ):
        raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise httpx.RemoteProtocolError("the answer has too many header fields")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
            raise httpx.RemoteProtocolError(f"malformed header field {line[:80]!r}")
        headers.append((name, value.strip(b" \t")))
    return int(code), reason, version, headers


def _final_head(
    connection: _Connection, timeout: float | None
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    """The answer's head, past informational (1xx) ones; 101 (an upgrade nobody asked for) is a
    protocol error."""
    for _ in range(MAX_INFORMATIONAL + 1):
        status, reason, version, headers = _read_head(connection, timeout)
        if status == 101:
            raise httpx.RemoteProtocolError("the server switched protocols, which nobody asked for")
        if status >= 200:
            return status, reason, version, headers
    raise httpx.RemoteProtocolError(f"more than {MAX_INFORMATIONAL} informational answers")


class _Body(httpx.SyncByteStream):
    """An answer's body as it arrives; the connection is kept for the next request once the whole
    body was read and both sides allow it, closed otherwise."""

    def __init__(
        self,
        transport: Http1Transport | None,
        connection: _Connection,
        key: tuple[str, str, int],
        method: str,
        status: int,
        version: bytes,
        headers: list[tuple[bytes, bytes]],
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._connection: _Connection | None = connection
        self._key = key
        self._timeout = timeout
        values: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(value)
        tokens = {t.strip().lower() for v in values.get(b"connection", []) for t in v.split(b",")}
        self._reuse = b"close" not in tokens and (version == b"HTTP/1.1" or b"keep-alive" in tokens)
        self._chunked = False
        self._length: int | None = None
        encodings = [t.strip().lower() for v in values.get(b"transfer-encoding", []) for t in v.split(b",")]
        if method == "HEAD" or status in _NO_BODY_STATUSES:
            self._length = 0
        elif encodings:
            # Only chunked (as h11): any other transfer coding cannot be framed here.
            if encodings != [b"chunked"]:
                connection.close()
                raise httpx.RemoteProtocolError("unsupported Transfer-Encoding")
            self._chunked = True
            if b"content-length" in values:
                self._reuse = False  # both framings named: not trusted for the next answer
        elif b"content-length" in values:
            lengths = {v.strip() for v in values[b"content-length"]}
            if len(lengths) != 1 or not _LENGTH.fullmatch(next(iter(lengths))):
                connection.close()
                raise httpx.RemoteProtocolError("malformed Content-Length")
            self._length = int(next(iter(lengths)))
        else:
            self._reuse = False  # the body ends when the connection does

    def __iter__(self) -> Iterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        try:
            if self._chunked:
                yield from self._chunks(connection)
            elif self._length is not None:
                yield from self._counted(connection, self._length)
            else:
                yield from self._until_close(connection)
        except BaseException:
            self.close()
            raise
        self._done()

    def _counted(self, connection: _Connection, length: int) -> Iterator[bytes]:
        left = length
        buffer = connection.buffer
        data = bytes(buffer[:left])
        del buffer[:left]
        while True:
            if data:
                left -= len(data)
                yield data
            if not left:
                return
            data = connection.recv(self._timeout)
            if not data:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    f"received {length - left} bytes, expected {length}"
                )
            if len(data) > left:
                buffer += data[left:]
                data = data[:left]

    def _until_close(self, connection: _Connection) -> Iterator[bytes]:
        data = bytes(connection.buffer)
        connection.buffer.clear()
        while True:
            if data:
                yield data
            data = connection.recv(self._timeout)
            if not data:
                return

    def _line(self, connection: _Connection) -> bytes:
        data = connection.buffer
        while True:
            end = data.find(b"\r\n", 0, MAX_HEAD + 2)
            if end >= 0:
                line = bytes(data[:end])
                del data[: end + 2]
                return line
            if len(data) > MAX_HEAD:
                raise httpx.RemoteProtocolError("a chunk line is too long")
            chunk = connection.recv(self._timeout)
            if not chunk:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body: incomplete chunked read"
                )
            data += chunk

    def _chunks(self, connection: _Connection) -> Iterator[bytes]:
        while True:
            line = self._line(connection)
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise httpx.RemoteProtocolError(f"malformed chunk size {line[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                while self._line(connection):  # trailer fields, up to the empty line
                    pass
                return
            yield from self._counted(connection, size)
            if self._line(connection):
                raise httpx.RemoteProtocolError("a chunk is not followed by CRLF")

    def _done(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._transport is not None and self._reuse and not connection.buffer:
            self._transport._keep(self._key, connection)
        else:
            connection.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
