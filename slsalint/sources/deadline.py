"""Deadlines that bound a request in all, not only each read.

A read timeout alone never fires on a server that sends one byte a second. Here every connect,
TLS handshake, read and write of a socket waits at most until the deadline of the request running
in the calling thread (set with :func:`deadline`), so a request ends at its deadline whatever the
server does. Requests run synchronously in their thread (the collectors use thread pools), which
is what makes a thread-local deadline exact.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_current = threading.local()


class Budget:
    """A point in time work must end by (None: never); shared by every request of a run."""

    def __init__(self, seconds: float | None, *, what: str = "--timeout") -> None:
        self.seconds = seconds
        self.what = what
        self.ends = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        return None if self.ends is None else self.ends - time.monotonic()

    @property
    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0


def earliest(*ends: float | None) -> float | None:
    """The earliest of several monotonic deadlines (None: no deadline)."""
    present = [e for e in ends if e is not None]
    return min(present) if present else None


@contextmanager
def deadline(ends: float | None) -> Iterator[None]:
    """Bound every socket operation of this thread until ``ends`` (``time.monotonic()`` value)."""
    previous = getattr(_current, "ends", None)
    _current.ends = earliest(previous, ends)
    try:
        yield
    finally:
        _current.ends = previous


def remaining() -> float | None:
    """Seconds left before this thread's deadline (None: no deadline)."""
    ends = getattr(_current, "ends", None)
    return None if ends is None else ends - time.monotonic()


def bound(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to what is left before this thread's deadline; ``error`` when none is left."""
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, bound(timeout, httpcore.ConnectTimeout))
        return _Stream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, bound(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _Stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - no registry is reached over a unix socket
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own HTTP/1.1 transport, on sockets bounded by the calling thread's deadline; with
    ``proxy`` (a :class:`slsalint.sources.network.Proxy`), every connection is a ``CONNECT`` tunnel
    through it, on the same bounded sockets."""

    def __init__(
        self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits, proxy: Any = None
    ) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        super().__init__(verify=context, limits=limits)
        if proxy is not None:
            from slsalint.sources.network import tunnel_pool

            self._pool = tunnel_pool(proxy, context, limits, _Backend())
            return
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )
