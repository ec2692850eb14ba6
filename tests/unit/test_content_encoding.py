"""A registry answer sent with a ``Content-Encoding``: its ``Content-Length`` counts the bytes
sent, the size limit bounds what they decode to, and a body that does not decode is broken
content (exit 3, never an internal error)."""

from __future__ import annotations

import gzip
import hashlib
import socket

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
