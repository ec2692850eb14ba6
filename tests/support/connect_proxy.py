"""A loopback HTTP proxy: ``CONNECT`` tunnels and plain-HTTP forwarding (absolute-URI requests),
with an optional ``Proxy-Authorization`` check and a hosts table (its own name resolution, so a
test can name a TLS registry by a name its certificate carries). It records every request it was
sent (method, target, headers) and only ever connects to loopback addresses. Listens on
127.0.0.1 only."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Seen:
    """One request the proxy was sent, as it arrived."""

    method: str
    target: str
    headers: dict[str, str]
    """Header names in lower case."""
    answered: int
    """The status the proxy answered (200 for an established tunnel)."""


@dataclass
class ConnectProxyState:
    credentials: tuple[str, str] | None = None
    """When set, every request needs ``Proxy-Authorization: Basic`` with these (else 407)."""
    hosts: dict[str, str] = field(default_factory=dict)
    """Host name -> loopback address the proxy connects to for it."""
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connects(self) -> list[str]:
        """Targets (``host:port``) of the ``CONNECT`` tunnels it opened."""
        with self.lock:
            return [s.target for s in self.seen if s.method == "CONNECT" and s.answered == 200]

    def forwarded(self) -> list[str]:
        """Absolute URIs of the plain-HTTP requests it forwarded."""
        with self.lock:
            return [s.target for s in self.seen if s.method != "CONNECT"]

    def all(self) -> list[Seen]:
        with self.lock:
            return list(self.seen)


def _read_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > _MAX_HEAD:
            return None
    return data


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(60)
        head = _read_head(client)
        if head is None:
            return
        header_block, _, rest = head.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            self._answer(client, 400, "Bad Request")
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        state = self.server.state
        status = self._authorize(headers)
        if status == 200:
            if method == "CONNECT":
                status = self._tunnel(client, target)
            else:
                status = self._forward(client, method, target, headers, rest)
        with state.lock:
            state.seen.append(Seen(method, target, headers, status))
        if status == 407:
            self._answer(
                client, 407, "Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="test"\r\n'
            )
        elif status not in (200, 0):
            self._answer(client, status, "Bad Gateway" if status == 502 else "Forbidden")

    def _authorize(self, headers: dict[str, str]) -> int:
        credentials = self.server.state.credentials
        if credentials is None:
            return 200
        expected = "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        return 200 if headers.get("proxy-authorization") == expected else 407

    def _address(self, host: str, port: int) -> tuple[str, int] | None:
        address = self.server.state.hosts.get(host.lower(), host)
        try:
            if not ipaddress.ip_address(address).is_loopback:
                return None
        except ValueError:
            return None  # no name resolution beyond the hosts table: nothing but loopback
        return address, port

    def _connect(self, host: str, port: int) -> socket.socket | None:
        address = self._address(host.strip("[]"), port)
        if address is None:
            return None
        try:
            return socket.create_connection(address, timeout=10)
        except OSError:
            return None

    def _tunnel(self, client: socket.socket, target: str) -> int:
        host, _, port = target.rpartition(":")
        if not port.isdigit():
            return 400
        upstream = self._connect(host, int(port))
        if upstream is None:
            return 502
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        client.settimeout(None)
        upstream.settimeout(None)
        self.server.track(upstream)
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join(timeout=60)
        upstream.close()
        return 200

    def _forward(
        self, client: socket.socket, method: str, target: str, headers: dict[str, str], rest: bytes
    ) -> int:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            return 400
        upstream = self._connect(parts.hostname, parts.port or 80)
        if upstream is None:
            return 502
        length = int(headers.get("content-length", "0") or 0)
        body = rest
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        sent = [f"{method} {path} HTTP/1.1"]
        sent += [
            f"{name}: {value}"
            for name, value in headers.items()
            if not name.startswith("proxy-") and name != "connection"
        ]
        sent.append("Connection: close")
        upstream.sendall(("\r\n".join(sent) + "\r\n\r\n").encode("latin-1") + body)
        _pipe(upstream, client)
        upstream.close()
        return 0  # the upstream's answer was passed on

    @staticmethod
    def _answer(client: socket.socket, status: int, reason: str, extra: str = "") -> None:
        with contextlib.suppress(OSError):
            head = f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
            client.sendall(head.encode())


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ConnectProxyState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self._open: list[socket.socket] = []
        self._open_lock = threading.Lock()

    def track(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.append(sock)

    def close_tunnels(self) -> None:
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.close()


@contextmanager
def connect_proxy(
    *, credentials: tuple[str, str] | None = None, hosts: dict[str, str] | None = None
) -> Iterator[tuple[str, ConnectProxyState]]:
    """Start the proxy; yields its ``127.0.0.1:PORT`` and its state."""
    state = ConnectProxyState(credentials=credentials, hosts=dict(hosts or {}))
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.close_tunnels()
        server.server_close()
