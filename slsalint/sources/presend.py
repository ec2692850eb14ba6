"""The first requests of ``slsalint check IMAGE``, sent before the HTTP client has loaded.

Loading httpx and the registry client takes longer than a registry round trip on a fast network.
``slsalint._start`` therefore sends the image's manifest request and the side repository's tag-list
request on connections of their own, with the standard library only, and hands them to the registry
client once it is loaded. The client uses an answer only for the request it would have sent itself
(same method, URL and headers) and judges it as one of its own: status, authentication challenge,
redirect, size limit, digest. Anything that does not fit, or any fault, and the client sends the
request itself, so what is read and judged is the same either way.

Nothing is sent early when an environment variable could route or verify the request differently
(a proxy variable, ``SSL_CERT_FILE`` or ``SSL_CERT_DIR``): the client's own transport applies them.
This module imports nothing of slsalint's but the reference parser and the limits.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

PROXY_VARIABLES = (
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
_CHUNK = 64 * 1024
HEAD_ROOM = 128 * 1024
"""Bytes read beyond the body limit: the header block and chunk framing (``http1`` bounds them)."""
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,19})[ \t]*\r\n", re.IGNORECASE)


def usable(env: Mapping[str, str] | None = None) -> bool:
    """Whether requests may be sent before the client loads: no proxy and no trust variable set."""
    env = os.environ if env is None else env
    return not any(env.get(name, "").strip() for name in (*PROXY_VARIABLES, *TRUST_VARIABLES))


class Presend:
    """One GET sent now on a connection of its own (``Connection: close``); ``answer`` waits for
    the bytes that came back, None on any fault. They are parsed by the client, with the parser
    of its own transport (``http1.read_whole``), when it takes them."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        limit: int,
        connect_timeout: float,
        read_timeout: float,
        total_timeout: float,
    ) -> None:
        self.url = url
        self.headers = dict(headers)
        self._limit = limit + HEAD_ROOM
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ends = time.monotonic() + total_timeout
        self._answer: bytes | None = None
        self._done = threading.Event()
        self._sock: socket.socket | None = None
        self._cancelled = False
        threading.Thread(target=self._run, name="slsalint-presend", daemon=True).start()

    def matches(self, method: str, url: str, headers: Mapping[str, str]) -> bool:
        """Whether this is the request the client is about to send."""
        return method == "GET" and url == self.url and dict(headers) == self.headers

    def answer(self, timeout: float | None) -> bytes | None:
        """The answer's bytes, waiting at most ``timeout`` seconds for them; None if there are none
        (a fault, more than the limit, or not in time)."""
        if not self._done.wait(timeout):
            self.close()
            return None
        return self._answer

    def close(self) -> None:
        """Give up on the answer: the connection is shut down, which wakes the thread reading it
        (that thread closes it; an answer not yet in is never used)."""
        self._cancelled = True
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        try:
            self._answer = self._exchange()
        except Exception:  # the client sends the request itself
            self._answer = None
        finally:
            sock = self._sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
            if self._cancelled:
                self._answer = None
            self._done.set()

    def _exchange(self) -> bytes | None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        sock = socket.create_connection((parts.hostname, port), timeout=self._connect_timeout)
        self._sock = sock
        if self._cancelled:
            return None
        if https:
            import ssl

            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            self._sock = sock
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "User-Agent: slsalint"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines += ["Accept-Encoding: identity", "Connection: close", "", ""]
        sock.settimeout(self._read_timeout)
        sock.sendall("\r\n".join(lines).encode("ascii"))
        data = bytearray()
        while not answer_complete(data):
            if time.monotonic() >= self._ends or len(data) > self._limit or self._cancelled:
                return None
            chunk = sock.recv(_CHUNK)
            if not chunk:
                break
            data += chunk
        return bytes(data)


def answer_complete(data: bytearray) -> bool:
    """Whether ``data`` evidently holds a whole final answer: framed by one ``Content-Length``, a
    ``204``/``304``, or chunked and ending with the last chunk (else the server closing the
    connection ends it). Only when to stop reading: the client's parser judges it. Shared with
    ``fanout``, which reads answers whole too."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or not data.startswith(b"HTTP/1.") or data[9:10] == b"1":
        return False  # no head yet, or an informational one first: wait for the close
    head = bytes(data[: end + 2]).lower()
    if head[9:12] in (b"204", b"304"):
        return True
    if b"\r\ntransfer-encoding:" in head:
        return data.endswith(b"\r\n0\r\n\r\n")
    lengths = _LENGTH.findall(head)
    return len(lengths) == 1 and len(data) >= end + 4 + int(lengths[0])


def reusable(data: bytearray) -> bool:
    """Whether the connection that brought ``data`` (a whole answer by ``answer_complete``) may
    carry the next request: HTTP/1.1, not closed by the server, framed by exactly one
    ``Content-Length`` and followed by nothing."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or not data.startswith(b"HTTP/1.1 "):
        return False
    head = bytes(data[: end + 2]).lower()
    if b"\r\nconnection:" in head and b"close" in head.split(b"\r\nconnection:", 1)[1].split(b"\r\n", 1)[0]:
        return False
    if b"\r\ntransfer-encoding:" in head:
        return False
    lengths = _LENGTH.findall(head)
    return len(lengths) == 1 and len(data) == end + 4 + int(lengths[0])


def start(text: str, side_repository: str | None) -> list[Presend]:
    """Send the manifest request of the image ``text`` names by tag, and the tag-list request of
    the repository its side tags live in (``side_repository``, cosign's ``COSIGN_REPOSITORY``);
    nothing when ``text`` is not a registry reference by tag, or the environment could send the
    requests elsewhere (``usable``)."""
    if not usable():
        return []
    from slsalint.errors import ConfigError
    from slsalint.sources.limits import Limits
    from slsalint.sources.mediatypes import MANIFEST_ACCEPT
    from slsalint.sources.reference import api_base, parse_reference, parse_repository

    try:
        ref = parse_reference(text)
        side = parse_repository(side_repository).on(ref.registry) if side_repository else ref
    except (ConfigError, ValueError):
        return []
    if ref.digest is not None:
        return []  # the cache may hold it
    limits = Limits()
    limit = limits.manifest_size
    timeouts = {
        "connect_timeout": limits.connect_timeout,
        "read_timeout": limits.read_timeout,
        "total_timeout": limits.request_timeout,
    }
    manifest = f"{api_base(ref)}/manifests/{ref.tag or 'latest'}"
    return [
        Presend(manifest, {"Accept": MANIFEST_ACCEPT}, limit=limit, **timeouts),
        Presend(f"{api_base(side)}/tags/list", {}, limit=limit, **timeouts),
    ]
