"""A token service's token is sent back as a header: one that could not be (non-ASCII text) or
that would end the header block early (CR, LF, spaces) is refused with a one-line error, never
sent and never echoed."""

from __future__ import annotations

import json
import socket

import pytest

from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import RegistryClient, RegistryError
from tests.unit.test_http1 import Script, read_request, run


def _challenge(port: int, extra: bytes = b"") -> bytes:
    """A 401 naming the token service at ``/token`` of the same loopback server."""
    realm = f'Bearer realm="http://127.0.0.1:{port}/token",service="s"'.encode()
    return (
        b"HTTP/1.1 401 Unauthorized\r\n"
        + extra
        + b"WWW-Authenticate: "
        + realm
        + b"\r\nContent-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize("token", ["t\u00f6k", "abc\r\nX-Injected: 1", "two words", ""])
def test_a_token_that_cannot_be_sent_back_is_refused(token: str) -> None:
    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            while request := read_request(conn):
                seen.append(request)
                port = conn.getsockname()[1]
                if request.startswith(b"GET /token"):
                    body = json.dumps({"token": token}).encode()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
                else:
                    conn.sendall(_challenge(port))

        return script

    for url, seen in run(make):
        ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
        with RegistryClient(retries=0) as client, pytest.raises(RegistryError) as caught:
            client.get_manifest(ref, "1")
        message = str(caught.value)
        assert message.endswith(("returned a malformed token", "returned no token")), message
        if token:
            assert token not in message
        assert not any(b"Authorization" in request for request in seen)  # never sent


def test_cookies_set_by_a_token_service_or_registry_are_never_sent_back() -> None:
    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            while request := read_request(conn):
                seen.append(request)
                port = conn.getsockname()[1]
                if request.startswith(b"GET /token"):
                    body = b'{"token": "t0ken"}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\n"
                        b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
                    )
                elif b"Bearer t0ken" not in request:
                    conn.sendall(_challenge(port, b"Set-Cookie: lb=1; Path=/\r\n"))
                else:
                    conn.sendall(
                        b"HTTP/1.1 404 Not Found\r\nSet-Cookie: lb=2; Path=/\r\nContent-Length: 0\r\n\r\n"
                    )

        return script

    for url, seen in run(make):
        ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
        with RegistryClient(retries=0) as client:
            for _ in range(2):
                with pytest.raises(RegistryError, match="not found"):
                    client.get_manifest(ref, "1")
        assert len(seen) >= 4
        assert not any(b"\r\ncookie:" in request.lower() for request in seen)
