"""A fake GitHub attestations API (and a second host serving ``bundle_url`` bodies), on 127.0.0.1.

No installable server offers GitHub's attestations endpoints, so this small threading HTTP server
answers ``GET /api/v3/{repos/OWNER/REPO|orgs/OWNER|users/OWNER}/attestations/DIGEST`` like GitHub
does: ``{"attestations": [...]}`` pages of ``per_page`` entries (capped by ``page_size``) linked with
``Link: <...>; rel="next"``, 404 when nothing is stored, and whatever faults a test sets.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PREFIX = "/api/v3"
_LISTING = re.compile(r"\A/((?:repos/[^/]+/[^/]+)|(?:orgs/[^/]+)|(?:users/[^/]+))/attestations/([^/]+)\Z")


@dataclass
class Fault:
    """Answer ``status`` (with ``headers`` and ``body``) to the next ``times`` listing requests."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"message":"fault"}'
    times: int = 99


@dataclass
class FakeState:
    attestations: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    """API path (``repos/acme/app``, ``orgs/acme``, ``users/someone``) -> digest -> entries."""
    files: dict[str, bytes] = field(default_factory=dict)
    """Other paths served as they are (``bundle_url`` bodies)."""
    page_size: int = 100
    token: str | None = None
    """When set, listing requests without ``Authorization: Bearer <token>`` get 401."""
    faults: list[Fault] = field(default_factory=list)
    raw_listing: bytes | None = None
    """When set, every listing answers 200 with this body."""
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, digest: str, *entries: dict[str, Any]) -> None:
        self.attestations.setdefault(path, {}).setdefault(digest, []).extend(entries)

    def requests(self, contains: str = "") -> list[tuple[str, dict[str, str]]]:
        with self.lock:
            return [(p, h) for p, h in self.log if contains in p]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.log.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        parts = urlsplit(self.path)
        if parts.path in state.files:
            self._send(200, state.files[parts.path], {"Content-Type": "application/x-snappy"})
            return
        match = _LISTING.match(parts.path.removeprefix(PREFIX)) if parts.path.startswith(PREFIX) else None
        if match is None:
            self._send(404, b'{"message":"Not Found"}', {"Content-Type": "application/json"})
            return
        with state.lock:
            fault = next((f for f in state.faults if f.times > 0), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            self._send(fault.status, fault.body, {"Content-Type": "application/json", **fault.headers})
            return
        if state.token is not None and self.headers.get("Authorization") != f"Bearer {state.token}":
            self._send(401, b'{"message":"Bad credentials"}', {"Content-Type": "application/json"})
            return
        if state.raw_listing is not None:
            self._send(200, state.raw_listing, {"Content-Type": "application/json"})
            return
        entries = state.attestations.get(match.group(1), {}).get(match.group(2))
        if not entries:
            self._send(404, b'{"message":"Not Found"}', {"Content-Type": "application/json"})
            return
        query = parse_qs(parts.query)
        per_page = min(int(query.get("per_page", ["30"])[0]), state.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = entries[(page - 1) * per_page : page * per_page]
        headers = {"Content-Type": "application/json"}
        if page * per_page < len(entries):
            host = self.headers.get("Host", "")
            following = urlencode({"per_page": per_page, "page": page + 1})
            headers["Link"] = (
                f'<http://{host}{parts.path}?{following}>; rel="next", <http://{host}/x>; rel="last"'
            )
        self._send(200, json.dumps({"attestations": chunk}).encode(), headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@dataclass
class Running:
    state: FakeState
    host: str

    @property
    def api_url(self) -> str:
        return f"http://{self.host}{PREFIX}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


@contextmanager
def serve() -> Iterator[Running]:
    state = FakeState()
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Running(state, f"127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
