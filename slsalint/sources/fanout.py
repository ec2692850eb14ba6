"""The requests of a fan-out (a wide index's manifests and blobs) sent at once from one thread.

A request thread sends its request, waits and reads the answer; with a hundred threads sharing one
interpreter, each waits for the others' turn before its request leaves, and the requests of one
round of a 64-platform index went out over several round trips. Here the client hands the
requests it is about to make (``RegistryClient.prefetch``) to one thread that writes them on
non-blocking connections of its own (kept alive, at most the client's per-host limit in flight,
HTTPS verified with the client's TLS context) and collects the answers' bytes as they arrive.

The request threads still make every request; one that finds its request here (same method, URL
and headers, as with ``presend``) takes the answer's bytes instead of sending it again and judges
them as its own: parsed by its transport's parser (``http1.read_whole``), then status, challenge,
redirect, size limit and digest. A fault, a timeout, a malformed or oversized answer is an
answer of None, and the thread sends the request itself. So what is read and judged is the same
either way; only when it was asked changes.

A request may name what to ask next when its answer arrives (``follow``: the layers of an
attestation manifest), so a round's requests leave as its answers come, not after a request thread
has judged them. Such a guess is used only if the client then makes that very request; the bytes
held for answers not taken are bounded (``max_held``), and past that nothing more is sent ahead.
"""

from __future__ import annotations

import collections
import contextlib
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from slsalint.sources.http1 import KEEPALIVE_EXPIRY, read_whole
from slsalint.sources.presend import HEAD_ROOM, answer_complete, reusable

_CHUNK = 64 * 1024
HANDOVER_WAIT = 0.01
"""Seconds an answer read may wait for the others ready to be read before it is handed over."""
_SLOT_WAIT = 0.01
"""How often a request waiting for a free slot of its host looks again."""

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
"""Status, header fields and body of an answer, as ``http1.read_whole`` parses it."""
Follow = Callable[[Answer], None]


class Prefetch:
    """One GET the fan-out thread sends; ``answer`` waits for the bytes that came back (None on
    any fault). Taken by the client as a ``presend.Presend`` is."""

    __slots__ = (
        "_answer",
        "_callbacks",
        "_done",
        "_lock",
        "_owner",
        "cancelled",
        "ends",
        "follow",
        "headers",
        "limit",
        "message",
        "origin",
        "retried",
        "size",
        "url",
    )

    def __init__(
        self,
        owner: FanOut,
        url: str,
        headers: Mapping[str, str],
        message: bytes,
        limit: int,
        ends: float,
        follow: Follow | None,
    ) -> None:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        self._owner = owner
        self.url = url
        self.headers = dict(headers)
        self.message = message
        self.limit = limit + HEAD_ROOM
        self.ends = ends
        self.follow = follow
        self.origin = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80), parts.netloc)
        self.retried = False
        self.cancelled = False
        self._answer: Answer | None = None
        self.size = 0
        """Bytes received for the answer (counted as held until it is taken)."""
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def when_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the answer (or None) is in: on the fan-out thread then, or now
        when it already is."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback()

    @property
    def answered_ok(self) -> bool:
        """Whether a well-formed ``200`` answer is in (parsed already: judging it needs no
        network)."""
        answer = self._answer
        return self._done.is_set() and answer is not None and answer[0] == 200

    def matches(self, method: str, url: str, headers: Mapping[str, str]) -> bool:
        """Whether this is the request the client is about to send."""
        return method == "GET" and url == self.url and dict(headers) == self.headers

    def answer(self, timeout: float | None) -> Answer | None:
        """The answer, parsed as the client's transport parses one (``http1.read_whole``),
        waiting at most ``timeout`` seconds; None if there is none (a fault, a limit, a timeout,
        or bytes that parser refuses)."""
        if not self._done.wait(timeout):
            self.close()
            return None
        with self._lock:
            answer, self._answer = self._answer, None
            size, self.size = self.size, 0
        self._owner.released(size)
        return answer

    def close(self) -> None:
        """Not wanted any more: dropped if not sent yet, its connection closed if under way."""
        self.cancelled = True
        if not self._done.is_set():
            self._owner.wake()

    def finish(self, answer: Answer | None, size: int = 0) -> None:
        """The answer is in (None: there is none); ``size`` bytes of it are held until taken."""
        with self._lock:
            if self._done.is_set():
                return
            if self.cancelled:
                answer = None
            if answer is None:
                self._owner.released(size)
                size = 0
            self._answer = answer
            self.size = size
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            with contextlib.suppress(Exception):  # the callers' own: never the fan-out's fault
                callback()


_CONNECTING, _HANDSHAKE, _SENDING, _READING = range(4)


class _Conn:
    __slots__ = (
        "data",
        "events",
        "idle_since",
        "item",
        "origin",
        "out",
        "phase_ends",
        "reused",
        "slot",
        "sock",
        "state",
    )

    def __init__(self, sock: socket.socket, origin: tuple[str, str, int, str]) -> None:
        self.sock = sock
        self.origin = origin
        self.state = _CONNECTING
        self.item: Prefetch | None = None
        self.out = memoryview(b"")
        self.data = bytearray()
        self.phase_ends = 0.0
        self.reused = False
        self.idle_since = 0.0
        self.slot: threading.BoundedSemaphore | None = None
        """The per-host slot its request in flight holds (released once, by ``_free``)."""
        self.events = 0
        """What the selector watches it for."""


class FanOut:
    """One thread sending the GETs handed to it, for one registry client."""

    def __init__(
        self,
        context: Callable[[str], ssl.SSLContext],
        slot: Callable[[str], threading.BoundedSemaphore],
        *,
        connect_timeout: float,
        read_timeout: float,
        total_timeout: float,
        max_held: int,
    ) -> None:
        self._context = context
        self._slot = slot
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._total_timeout = total_timeout
        self._max_held = max_held
        self._lock = threading.Lock()
        self._new: collections.deque[Prefetch] = collections.deque()
        self._held = 0
        """Bytes received and not taken yet (or sent for and not received)."""
        self._closed = False
        self._thread: threading.Thread | None = None
        self._ident: int | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._addresses: dict[tuple[str, int], tuple[int, tuple[object, ...]]] = {}
        self._finished: list[tuple[Prefetch, Answer | None, int, float]] = []
        # The fan-out thread's own (touched by nothing else):
        self._selector: selectors.BaseSelector  # made when the thread starts
        self._waiting: dict[tuple[str, str, int, str], collections.deque[Prefetch]] = {}
        """Requests by origin, not on a connection yet."""
        self._idle: dict[tuple[str, str, int, str], list[_Conn]] = {}
        """Kept-alive connections by origin, free for the next request."""
        self._busy: set[_Conn] = set()
        """Connections carrying a request (each holding a slot of its host)."""
        """Answers read in this round of the loop, handed over at its end (the thread's own)."""

    # -- the callers' side --------------------------------------------------------------------

    def send(
        self,
        url: str,
        headers: Mapping[str, str],
        message: bytes,
        limit: int,
        follow: Follow | None = None,
        *,
        wake: bool = True,
    ) -> Prefetch | None:
        """Send ``message`` (the request's bytes) for ``url`` now (``wake`` False: at the next
        ``wake``, with the others of a batch); None when nothing more may be held (``max_held``)
        or the fan-out is closed: the caller sends it itself."""
        item = Prefetch(self, url, headers, message, limit, time.monotonic() + self._total_timeout, follow)
        if item.origin[0] not in ("http", "https") or self._address(item.origin[1], item.origin[2]) is None:
            return None  # resolved here, on the caller's thread: the fan-out thread never waits on it
        with self._lock:
            if self._closed or self._held + item.limit > self._max_held:
                return None
            self._held += item.limit
            self._new.append(item)
            if self._thread is None:
                try:
                    self._start()
                except (OSError, RuntimeError):
                    self._new.pop()
                    self._held -= item.limit
                    self._closed = True
                    return None
        if wake:
            self.wake()
        return item

    def released(self, size: int) -> None:
        """An answer of ``size`` bytes was taken: that much more may be held."""
        with self._lock:
            self._held = max(0, self._held - size)

    def wake(self) -> None:
        sock = self._wake_w
        if sock is not None and threading.get_ident() != self._ident:  # it looks on its own
            with contextlib.suppress(OSError):
                sock.send(b"\0")

    def close(self) -> None:
        """Stop: every answer not in is None, every connection closed."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self.wake()
        if thread is not None:
            thread.join(timeout=5)
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def _start(self) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        thread = threading.Thread(target=self._run, name="slsalint-fanout", daemon=True)
        thread.start()
        self._thread = thread

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._wake_r is not None
        self._ident = threading.get_ident()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        quiet = True
        """The last look found nothing to read or write."""
        try:
            while True:
                with self._lock:
                    closed = self._closed
                if closed:
                    return
                self._take_new()
                now = time.monotonic()
                starved = self._dispatch(now)
                # Answers are handed over once nothing more is ready to be read or sent (or the
                # first has waited HANDOVER_WAIT): the request threads they wake would otherwise
                # hold the interpreter while the requests the answers named wait to go out.
                if self._finished and (quiet or now - self._finished[0][3] >= HANDOVER_WAIT):
                    finished, self._finished = self._finished, []
                    for item, answer, size, _ in finished:
                        item.finish(answer, size)
                if self._new or (self._finished and not quiet):
                    timeout = 0.0
                else:
                    timeout = self._timeout(now, starved)
                    if self._finished:
                        timeout = min(timeout, HANDOVER_WAIT)
                events = self._selector.select(timeout)
                quiet = not events
                for key, mask in events:
                    if key.data is None:
                        with contextlib.suppress(OSError):
                            while self._wake_r.recv(4096):
                                pass
                        continue
                    conn: _Conn = key.data
                    self._step(conn, mask)
                self._expire(time.monotonic())
        except Exception:  # noqa: S110 - each request thread is given None and asks itself
            pass
        finally:
            with self._lock:
                self._closed = True
                left = list(self._new)
                self._new.clear()
            for queue in self._waiting.values():
                left.extend(queue)
            for conn in list(self._busy):
                if conn.item is not None:
                    left.append(conn.item)
                self._end(conn)
            for conns in self._idle.values():
                for conn in conns:
                    self._drop(conn)
            for item, answer, size, _ in self._finished:
                item.finish(answer, size)
            self._finished = []
            for item in left:
                item.finish(None)
            self._selector.close()

    def _take_new(self) -> None:
        with self._lock:
            new = list(self._new)
            self._new.clear()
        for item in new:
            self._waiting.setdefault(item.origin, collections.deque()).append(item)

    def _timeout(
        self,
        now: float,
        starved: bool,
    ) -> float:
        ends = [conn.phase_ends for conn in self._busy]
        ends += [c.idle_since + KEEPALIVE_EXPIRY for conns in self._idle.values() for c in conns]
        ends += [queue[0].ends for queue in self._waiting.values() if queue]
        soonest = min(ends, default=now + 1.0) - now
        if starved:
            soonest = min(soonest, _SLOT_WAIT)
        return max(0.0, min(soonest, 1.0))

    def _dispatch(
        self,
        now: float,
    ) -> bool:
        """Put waiting requests on connections; True when one waits for a free slot."""
        starved = False
        for origin, queue in self._waiting.items():
            while queue:
                item = queue[0]
                if item.cancelled or now >= item.ends:
                    queue.popleft()
                    self._fail(item)
                    continue
                slot = self._slot(origin[3])
                if not slot.acquire(blocking=False):
                    starved = True
                    break
                queue.popleft()
                conns = self._idle.get(origin)
                conn = conns.pop() if conns else None
                if conn is None:
                    conn = self._open(origin, now)
                    if conn is None:
                        slot.release()
                        self._fail(item)
                        continue
                    conn.events = selectors.EVENT_WRITE
                    self._selector.register(conn.sock, conn.events, conn)
                else:
                    conn.state = _SENDING
                    conn.reused = True
                conn.slot = slot
                conn.item = item
                conn.out = memoryview(item.message)
                conn.data = bytearray()
                self._busy.add(conn)
                if conn.state != _CONNECTING:
                    conn.phase_ends = min(item.ends, now + self._read_timeout)
                    self._step(conn, selectors.EVENT_WRITE)  # now
        return starved

    def _open(self, origin: tuple[str, str, int, str], now: float) -> _Conn | None:
        scheme, host, port, _ = origin
        if scheme not in ("http", "https") or not host:
            return None
        address = self._address(host, port)
        if address is None:
            return None
        family, sockaddr = address
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            return None
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect_ex(sockaddr)
        except (OSError, UnicodeError):
            sock.close()
            return None
        conn = _Conn(sock, origin)
        conn.phase_ends = now + self._connect_timeout
        return conn

    def _address(self, host: str, port: int) -> tuple[int, tuple[object, ...]] | None:
        """The first address of ``host`` (resolved once; a failure is not remembered). Only the
        first is tried: when it cannot be reached the request thread asks, trying them all."""
        key = (host, port)
        with self._lock:
            known = self._addresses.get(key)
        if known is None:
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError):
                return None
            if not found:
                return None
            known = (found[0][0], tuple(found[0][4]))
            with self._lock:
                self._addresses[key] = known
        return known

    def _watch(self, conn: _Conn, events: int) -> None:
        if conn.events != events:
            self._selector.modify(conn.sock, events, conn)
            conn.events = events

    def _step(
        self,
        conn: _Conn,
        mask: int,
    ) -> None:
        item = conn.item
        if item is None:  # an idle connection readable: the server closed it (or sent junk)
            conns = self._idle.get(conn.origin, [])
            if conn in conns:
                conns.remove(conn)
            self._drop(conn)
            return
        try:
            if conn.state == _CONNECTING:
                error = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, "connect failed")
                if conn.origin[0] == "https":
                    self._selector.unregister(conn.sock)
                    conn.sock = self._context("https").wrap_socket(
                        conn.sock, server_hostname=conn.origin[1], do_handshake_on_connect=False
                    )
                    conn.events = selectors.EVENT_WRITE
                    self._selector.register(conn.sock, conn.events, conn)
                    conn.state = _HANDSHAKE
                else:
                    conn.state = _SENDING
            if conn.state == _HANDSHAKE:
                assert isinstance(conn.sock, ssl.SSLSocket)
                conn.sock.do_handshake()
                conn.state = _SENDING
                conn.phase_ends = min(item.ends, time.monotonic() + self._read_timeout)
            if conn.state == _SENDING:
                while conn.out:
                    sent = conn.sock.send(conn.out)
                    conn.out = conn.out[sent:]
                conn.state = _READING
                conn.phase_ends = min(item.ends, time.monotonic() + self._read_timeout)
                self._watch(conn, selectors.EVENT_READ)
                return
            if conn.state == _READING:
                self._read(conn, item)
        except ssl.SSLWantReadError:
            self._watch(conn, selectors.EVENT_READ)
        except ssl.SSLWantWriteError:
            self._watch(conn, selectors.EVENT_WRITE)
        except BlockingIOError:
            if conn.state in (_CONNECTING, _SENDING):
                self._watch(conn, selectors.EVENT_WRITE)
        except (OSError, ValueError):
            self._lost(conn)

    def _read(
        self,
        conn: _Conn,
        item: Prefetch,
    ) -> None:
        while True:
            try:
                chunk = conn.sock.recv(_CHUNK)
            except (ssl.SSLWantReadError, BlockingIOError):
                self._watch(conn, selectors.EVENT_READ)  # after a want-write, reading again
                return
            if not chunk:
                if not conn.data:
                    self._lost(conn)
                    return
                # Ended by the server: the bytes so far are the answer (the parser judges them).
                self._done(conn, item, keep=False)
                return
            conn.data += chunk
            conn.phase_ends = min(item.ends, time.monotonic() + self._read_timeout)
            if len(conn.data) > item.limit:
                self._end(conn)
                self._fail(item)
                return
            if answer_complete(conn.data):
                keep = reusable(conn.data)
                self._done(conn, item, keep=keep)
                if keep:
                    conn.idle_since = time.monotonic()
                    self._watch(conn, selectors.EVENT_READ)
                    self._idle.setdefault(conn.origin, []).append(conn)
                if item.follow is not None and self._new:
                    # What the answer named goes out now, on this very connection if it may.
                    self._take_new()
                    self._dispatch(time.monotonic())
                return
            if isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending():
                continue

    def _done(self, conn: _Conn, item: Prefetch, *, keep: bool) -> None:
        """A whole answer read: parsed here, as the client's transport parses one (refused:
        no answer); the connection ends unless ``keep``."""
        data = bytes(conn.data)
        conn.data = bytearray()
        if keep:
            self._free(conn)
        else:
            self._end(conn)
        try:
            answer: Answer | None = read_whole(data, "GET")
        except Exception:  # httpx's protocol errors: the request thread asks, and judges, itself
            answer = None
        with self._lock:
            self._held = max(0, self._held - item.limit + len(data))
        if answer is not None and item.follow is not None and not item.cancelled:
            # Before the answer is given: what it names is on its way (and known to the client)
            # before the request thread judging it asks for the same.
            with contextlib.suppress(Exception):  # a guess only: the client judges what it reads
                item.follow(answer)
        self._finished.append((item, answer, len(data), time.monotonic()))

    def _lost(
        self,
        conn: _Conn,
    ) -> None:
        """The connection failed under ``conn.item``: a kept-alive one the server had closed
        before any byte of an answer is tried once more on a new one; else the answer is None."""
        item = conn.item
        reused = conn.reused and not conn.data
        self._end(conn)
        if item is None:
            return
        if reused and not item.retried:
            item.retried = True
            self._waiting.setdefault(item.origin, collections.deque()).appendleft(item)
            return
        self._fail(item)

    def _expire(
        self,
        now: float,
    ) -> None:
        ended = [c for c in self._busy if now >= c.phase_ends or (c.item is not None and c.item.cancelled)]
        for conn in ended:
            item = conn.item
            self._end(conn)
            if item is not None:
                self._fail(item)
        for conns in self._idle.values():
            for conn in [c for c in conns if now >= c.idle_since + KEEPALIVE_EXPIRY]:
                conns.remove(conn)
                self._drop(conn)

    def _fail(self, item: Prefetch) -> None:
        with self._lock:
            self._held = max(0, self._held - item.limit)
        item.finish(None)

    def _free(self, conn: _Conn) -> None:
        """The connection's request is over: off the busy set, its slot given back (once)."""
        self._busy.discard(conn)
        conn.item = None
        slot, conn.slot = conn.slot, None
        if slot is not None:
            slot.release()

    def _end(self, conn: _Conn) -> None:
        """``_free``, and the connection closed."""
        self._free(conn)
        self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(conn.sock)
        with contextlib.suppress(OSError):
            conn.sock.close()
