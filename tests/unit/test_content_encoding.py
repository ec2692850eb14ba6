"""A registry answer sent with a ``Content-Encoding``: its ``Content-Length`` counts the bytes
sent, the size limit bounds what they decode to, and a body that does not decode is broken
content (exit 3, never an internal error)."""

from __future__ import annotations

import gzip
import hashlib
import socket
import zlib

import pytest

from slsalint.sources.limits import Limits
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import BadContent, RegistryClient
from tests.unit.test_http1 import Script, read_request, run

MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
    b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'
    + b"a" * 64
    + b'","size":2},"layers":['
    + b" " * 4000
    + b"]}"
)


def _serving(body: bytes) -> object:
    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            while request := read_request(conn):
                seen.append(request)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                    b"Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                    b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
                )

        return script

    return run(make)


def test_a_gzip_encoded_manifest_is_read_and_verified_decoded() -> None:
    digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    for url, seen in _serving(gzip.compress(MANIFEST)):  # type: ignore[attr-defined]
        ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
        with RegistryClient(retries=0) as client:
            fetched = client.get_manifest(ref, digest, len(MANIFEST))
        assert (fetched.digest, fetched.data) == (digest, MANIFEST)
        assert b"accept-encoding: gzip" in seen[0].lower()


def test_the_size_limit_bounds_what_an_encoded_body_decodes_to() -> None:
    for url, _ in _serving(gzip.compress(MANIFEST)):  # type: ignore[attr-defined]
        ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
        limits = Limits().with_values({"manifest_size": 1000})
        with (
            RegistryClient(limits=limits, retries=0) as client,
            pytest.raises(BadContent, match="body over the 1000-byte limit"),
        ):
            client.get_manifest(ref, "1")


def test_a_body_that_does_not_decode_is_broken_content() -> None:
    garbled = bytearray(gzip.compress(MANIFEST))
    garbled[12:20] = b"\xff" * 8
    for url, _ in _serving(bytes(garbled)):  # type: ignore[attr-defined]
        ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
        with (
            RegistryClient(retries=0) as client,
            pytest.raises(BadContent, match="is not valid 'gzip' content"),
        ):
            client.get_manifest(ref, "1")


def _answer(url: str, limits: Limits | None = None) -> str:
    ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
    with RegistryClient(limits=limits, retries=0) as client:
        try:
            return client.get_manifest(ref, "1").digest
        except BadContent as exc:
            return str(exc)


def _encoded(body: bytes, encoding: bytes) -> object:
    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            while read_request(conn):
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Encoding: %b\r\nContent-Length: %d\r\n\r\n%b"
                    % (encoding, len(body), body)
                )

        return script

    return run(make)


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (gzip.compress(gzip.compress(MANIFEST)), b"gzip, gzip", "unsupported Content-Encoding 'gzip, gzip'"),
        (MANIFEST, b"br", "unsupported Content-Encoding 'br'"),
        (MANIFEST, b"x-foo", "unsupported Content-Encoding 'x-foo'"),
        (gzip.compress(MANIFEST) + b"trailing", b"gzip", "is not valid 'gzip' content"),
        (gzip.compress(MANIFEST)[:-8], b"gzip", "is not valid 'gzip' content"),  # cut short
        (gzip.compress(b"\0" * 50_000_000), b"gzip", "body over the 4194304-byte limit"),  # 50 KB -> 50 MB
    ],
)
def test_encodings_past_one_gzip_or_deflate_and_bombs_are_refused(
    body: bytes, encoding: bytes, message: str
) -> None:
    for url, _ in _encoded(body, encoding):  # type: ignore[attr-defined]
        assert message in _answer(url)


def test_deflate_and_identity_are_read() -> None:
    digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    for body, encoding in ((zlib.compress(MANIFEST), b"deflate"), (MANIFEST, b"identity")):
        for url, _ in _encoded(body, encoding):  # type: ignore[attr-defined]
            assert _answer(url) == digest


def test_a_tiny_encoded_body_is_not_refused_for_its_encoding_overhead() -> None:
    tiny = b"{}"
    for url, _ in _encoded(gzip.compress(tiny), b"gzip"):  # type: ignore[attr-defined]
        ref = parse_reference(f"{url.removeprefix('http://')}/app:1")
        with RegistryClient(retries=0) as client:
            assert client.get_blob(ref, "sha256:" + hashlib.sha256(tiny).hexdigest(), 2) == tiny
