"""A loopback proxy in front of the real registry, adding what the CNCF registry 2.8 lacks or what
tests need to provoke: token auth (own or on another host, GET or the OAuth2 POST form), the OCI
referrers API, documents the registry would refuse to store (served by digest or tag), faults (429
and 5xx storms, stalls, bodies dripped a byte at a time, truncated, short Content-Length or altered
bodies, redirects, extra headers such as a bad ``Link``) and latency. Listens on 127.0.0.1 only."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_DIGEST = re.compile(rb"sha256:[0-9a-f]{64}")


@dataclass
class Fault:
    """Applied to requests whose path contains ``match`` (and method equals ``method`` if set)."""

    match: str
    kind: str
    """``status`` (answer ``status`` with ``headers``), ``delay`` (sleep ``seconds`` then forward),
    ``drip`` (forward, sending the body one byte every ``seconds``), ``truncate`` (announce the full
    length, send half), ``short-length`` (announce ``status`` bytes fewer than the body has and send
    it all), ``corrupt`` (flip a byte of the body), ``redirect`` (307 to ``location``), ``headers``
    (forward, adding ``headers`` to the answer)."""
    times: int = 1
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    location: str = ""
    method: str | None = None


@dataclass(frozen=True)
class TokenRequest:
    """One request to the token endpoint, as it arrived."""

    method: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    authorization: str | None


@dataclass
class ProxyState:
    upstream: str
    latency: float = 0.0
    token: str | None = None
    """When set, /v2/ requests need ``Authorization: Bearer <token>``."""
    users: dict[str, str] = field(default_factory=dict)
    """Basic credentials the token endpoint accepts; empty = anonymous tokens allowed."""
    refresh_tokens: set[str] = field(default_factory=set)
    """Identity (refresh) tokens the token endpoint accepts in an OAuth2 POST form."""
    realm: str | None = None
    """The token realm the challenge names (default: this proxy's ``/token``)."""
    referrers_api: bool = False
    filters_applied: bool = True
    page_size: int = 0
    documents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """``/manifests/<ref>`` and ``/blobs/<digest>`` (and ``tags/list`` for every repository's tag
    list) answered from here (body, media type) instead of the registry: documents a real
    registry refuses to store or answers another way."""
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    in_flight: dict[int, str] = field(default_factory=dict)
    """Paths being answered right now, by request id."""
    overlaps: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    """Each request's path, with the paths other requests were being answered for as it arrived."""
    timings: list[tuple[str, float, float, tuple[str, ...]]] = field(default_factory=list)
    """Each request's path, when it arrived and when its answer was sent (``time.monotonic``), and
    the digests the answer made known (in its body or ``Docker-Content-Digest``)."""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    token_log: list[TokenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, contains: str = "") -> list[str]:
        with self.lock:
            return [path for _, path, _ in self.log if contains in path]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid delayed-ACK stalls
    revealed: tuple[str, ...] = ()
    """Digests the answer being sent names (see ``ProxyState.timings``)."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def send_response(self, code: int, message: str | None = None) -> None:
        """The answer starts: the request is no longer in flight (the client may send its next
        one as soon as it has read this answer, before this handler has finished writing it)."""
        state = self.server.state
        with state.lock:
            state.in_flight.pop(id(self), None)
        super().send_response(code, message)

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if 200 <= status < 300:
            named = " ".join(v for k, v in (headers or {}).items() if k.lower() == "docker-content-digest")
            known = {m.decode() for m in _DIGEST.findall(body + b" " + named.encode())}
            self.revealed = tuple(sorted(known))

    def _handle(self, method: str) -> None:
        state = self.server.state
        arrived = time.monotonic()
        self.revealed = ()
        key = id(self)  # one handler per connection answers one request at a time
        with state.lock:
            state.overlaps.append((self.path, tuple(state.in_flight.values())))
            state.in_flight[key] = self.path
        try:
            self._respond(method)
        finally:
            answered = time.monotonic()
            with state.lock:
                state.in_flight.pop(key, None)
                state.timings.append((self.path, arrived, answered, self.revealed))

    def _respond(self, method: str) -> None:
        state = self.server.state
        path = self.path
        length = int(self.headers.get("Content-Length") or 0)
        request_body = self.rfile.read(length) if length else b""
        with state.lock:
            state.log.append((method, path, dict(self.headers.items())))
        if state.latency:
            time.sleep(state.latency)
        parts = urlsplit(path)
        if parts.path == "/token":
            form = parse_qs(request_body.decode("utf-8", "replace")) if method == "POST" else {}
            self._token(parse_qs(parts.query), method=method, form=form)
            return
        fault = self._fault(method, path)
        if fault is not None and fault.kind == "status":
            self._send(
                fault.status,
                b'{"errors":[{"code":"FAULT"}]}',
                {"Content-Type": "application/json", **fault.headers},
            )
            return
        if fault is not None and fault.kind == "redirect":
            self._send(307, b"", {"Location": fault.location})
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        if (
            state.token is not None
            and parts.path.startswith("/v2/")
            and self.headers.get("Authorization") != f"Bearer {state.token}"
        ):
            host = self.headers.get("Host", "")
            realm = state.realm or f"http://{host}/token"
            self._send(
                401,
                b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                {
                    "Content-Type": "application/json",
                    "WWW-Authenticate": f'Bearer realm="{realm}",service="test-registry"',
                },
            )
            return
        if state.referrers_api and "/referrers/" in parts.path:
            self._referrers(parts.path, parse_qs(parts.query), fault)
            return
        served = self._document(parts.path)
        if served is not None:
            body, media_type = served
            self._answer(fault, 200, body, {"Content-Type": media_type})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() == "content-type" and request_body}
        accept = self.headers.get_all("Accept") or []  # clients may send several Accept lines
        if accept:
            headers["Accept"] = ", ".join(accept)
        try:
            response = self.server.upstream.request(
                method, state.upstream + path, headers=headers, content=request_body or None
            )
        except (httpx.HTTPError, RuntimeError):
            # The proxy is shutting down (a stalled request woke up after its test ended).
            self.close_connection = True
            return
        out_headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "docker-content-digest", "location", "link", "www-authenticate")
        }
        location = out_headers.get("Location") or out_headers.get("location")
        if location and location.startswith(state.upstream):
            # upload URLs name the registry's own address: point them back at the proxy
            key = "Location" if "Location" in out_headers else "location"
            out_headers[key] = f"http://{self.headers.get('Host', '')}{location[len(state.upstream) :]}"
        self._answer(fault, response.status_code, response.content, out_headers)

    def _document(self, path: str) -> tuple[bytes, str] | None:
        documents = self.server.state.documents
        if path.endswith("/tags/list"):
            return documents.get("tags/list")
        for marker in ("/manifests/", "/blobs/"):
            if marker in path:
                return documents.get(path.rsplit(marker, 1)[1])
        return None

    def _answer(self, fault: Fault | None, status: int, body: bytes, out_headers: dict[str, str]) -> None:
        """Send an answer, applying the body faults."""
        if fault is not None and fault.kind == "headers":
            out_headers = {**out_headers, **fault.headers}
        if fault is not None and fault.kind in ("truncate", "short-length", "drip") and body:
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            announced = len(body) - fault.status if fault.kind == "short-length" else len(body)
            self.send_header("Content-Length", str(announced))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                if fault.kind == "truncate":
                    self.wfile.write(body[: len(body) // 2])
                elif fault.kind == "short-length":
                    self.wfile.write(body)
                else:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(fault.seconds)
                self.wfile.flush()
            except OSError:
                pass  # the client gave up (that is what a drip tests)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "corrupt" and body:
            body = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
        self._send(status, body, out_headers)

    def _fault(self, method: str, path: str) -> Fault | None:
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if (
                    fault.times > 0
                    and fault.match in path
                    and (fault.method is None or fault.method == method)
                ):
                    fault.times -= 1
                    return fault
        return None

    def _token(
        self, query: dict[str, list[str]], *, method: str = "GET", form: dict[str, list[str]] | None = None
    ) -> None:
        state = self.server.state
        form = form or {}
        auth = self.headers.get("Authorization")
        with state.lock:
            state.token_requests.append(query)
            state.token_log.append(TokenRequest(method, query, form, auth))
        if state.users or state.refresh_tokens:
            ok = False
            if auth and auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                ok = state.users.get(user) == password
            if method == "POST" and (form.get("grant_type") or [""])[0] == "refresh_token":
                ok = (form.get("refresh_token") or [""])[0] in state.refresh_tokens
            if not ok:
                self._send(401, b'{"errors":[{"code":"DENIED"}]}', {"Content-Type": "application/json"})
                return
        key = "access_token" if method == "POST" else "token"
        body = json.dumps({key: state.token, "expires_in": 300}).encode()
        self._send(200, body, {"Content-Type": "application/json"})

    def _referrers(self, path: str, query: dict[str, list[str]], fault: Fault | None) -> None:
        state = self.server.state
        name, _, digest = path[len("/v2/") :].partition("/referrers/")
        artifact_type = (query.get("artifactType") or [""])[0]
        items = referrers_of(self.server.upstream, state.upstream, name, digest)
        headers = {"Content-Type": OCI_INDEX}
        if artifact_type and state.filters_applied:
            items = [i for i in items if i.get("artifactType") == artifact_type]
            headers["OCI-Filters-Applied"] = "artifactType"
        start = int((query.get("n_start") or ["0"])[0])
        if state.page_size:
            page = items[start : start + state.page_size]
            if start + state.page_size < len(items):
                headers["Link"] = (
                    f'</v2/{name}/referrers/{digest}?n_start={start + state.page_size}>; rel="next"'
                )
            items = page
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": items}).encode()
        served = self.server.state.documents.get(f"referrers/{digest}")
        if served is not None:
            body, headers["Content-Type"] = served
        self._answer(fault, 200, body, headers)


def referrers_of(client: httpx.Client, upstream: str, name: str, digest: str) -> list[dict[str, Any]]:
    """Compute referrers by walking the repository's tags and the manifests they reach, like a
    registry with subject indexing would (enough for tests)."""
    found: dict[str, dict[str, Any]] = {}
    accept = ", ".join([OCI_INDEX, "application/vnd.oci.image.manifest.v1+json"])
    tags = client.get(f"{upstream}/v2/{name}/tags/list").json().get("tags") or []
    seen: set[str] = set()
    queue = [("tag", t) for t in tags]
    while queue:
        _, reference = queue.pop()
        response = client.get(f"{upstream}/v2/{name}/manifests/{reference}", headers={"Accept": accept})
        if response.status_code != 200:
            continue
        manifest_digest = response.headers.get("docker-content-digest", reference)
        if manifest_digest in seen:
            continue
        seen.add(manifest_digest)
        document = response.json()
        for child in document.get("manifests") or []:
            queue.append(("digest", child["digest"]))
        subject = document.get("subject") or {}
        if subject.get("digest") == digest:
            entry: dict[str, Any] = {
                "mediaType": document.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
                "digest": manifest_digest,
                "size": len(response.content),
            }
            artifact_type = document.get("artifactType") or (document.get("config") or {}).get("mediaType")
            if artifact_type:
                entry["artifactType"] = artifact_type
            if document.get("annotations"):
                entry["annotations"] = document["annotations"]
            found[manifest_digest] = entry
    return sorted(found.values(), key=lambda e: str(e["digest"]))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default 5 drops concurrent SYNs, costing a 1 s retransmit

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its kept-alive connections (at the end of a run) is not an error.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)

    def __init__(self, state: ProxyState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        # As many requests upstream as clients send: the proxy adds latency, never a connection cap.
        self.upstream = httpx.Client(
            timeout=30, limits=httpx.Limits(max_connections=None, max_keepalive_connections=256)
        )


@contextmanager
def proxy(upstream: str, **options: Any) -> Iterator[tuple[str, ProxyState]]:
    """Run a proxy to ``upstream``; yields (host:port, state)."""
    state = ProxyState(upstream=upstream, **options)
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        server.upstream.close()


Hook = Callable[[ProxyState], None]


class RequestLog(Protocol):
    def __call__(self, contains: str = "") -> list[str]: ...

    def timings(self) -> list[tuple[str, float, float, tuple[str, ...]]]: ...


class _ProcessLog:
    """The request log of a proxy running in another process (see ``proxy_process``)."""

    def __init__(self, process: subprocess.Popen[str], log: str) -> None:
        self._process = process
        self._log = log

    def _dump(self) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("dump\n")
        self._process.stdin.flush()
        self._process.stdout.readline()
        with open(self._log, encoding="utf-8") as handle:
            document: dict[str, Any] = json.load(handle)
        return document

    def __call__(self, contains: str = "") -> list[str]:
        return [str(path) for path in self._dump()["paths"] if contains in path]

    def timings(self) -> list[tuple[str, float, float, tuple[str, ...]]]:
        return [(str(p), float(a), float(b), tuple(r)) for p, a, b, r in self._dump()["timings"]]


@contextmanager
def proxy_process(upstream: str, *, latency: float = 0.0) -> Iterator[tuple[str, RequestLog]]:
    """The proxy in its own process, so that its CPU time is not taken from the measured process
    (as a remote registry's is not). Yields (host:port, requests) where ``requests(contains)``
    lists the request paths seen so far that contain ``contains``, and ``requests.timings()``
    each request's path with when it arrived and when its answer was sent (``time.monotonic``,
    comparable across processes on one machine)."""
    with module_process("tests.support.proxy", upstream, latency) as running:
        yield running


@contextmanager
def module_process(
    module: str, upstream: str, latency: float, *extra: str
) -> Iterator[tuple[str, RequestLog]]:
    """``python -m MODULE UPSTREAM LATENCY LOGFILE [EXTRA...]``: a proxy that prints its host:port,
    writes its log on each ``dump`` line and ends when stdin closes (this one's and the latency
    proxy's)."""
    with tempfile.TemporaryDirectory() as tmp:
        log = f"{tmp}/requests.json"
        command = [sys.executable, "-m", module, upstream, str(latency), log, *extra]
        root = str(Path(__file__).resolve().parents[2])
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root, env={**os.environ}
        )
        assert process.stdin is not None and process.stdout is not None
        host = process.stdout.readline().strip()
        try:
            if not host:
                raise RuntimeError(f"{module} did not start (exit {process.wait(timeout=30)})")
            yield host, _ProcessLog(process, log)
        finally:
            process.stdin.close()
            process.wait(timeout=30)


def _serve(upstream: str, latency: float, log: str) -> None:
    """``python -m tests.support.proxy UPSTREAM LATENCY LOGFILE``: serve until stdin closes;
    each ``dump`` line on stdin writes the request paths and timings to LOGFILE and answers ``ok``."""
    with proxy(upstream, latency=latency) as (host, state):
        print(host, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "dump":
                with state.lock:
                    document = {"paths": [p for _, p, _ in state.log], "timings": list(state.timings)}
                with open(log, "w", encoding="utf-8") as handle:
                    json.dump(document, handle)
                print("ok", flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1], float(sys.argv[2]), sys.argv[3])
