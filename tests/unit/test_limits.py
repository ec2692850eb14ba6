"""Time and size limits: ``--limit NAME=VALUE`` and ``--timeout``, every one documented with its
default in docs/registries.md, and the per-request deadline that a server dripping bytes hits."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from slsalint.errors import ConfigError
from slsalint.sources.limits import DEFAULT_RUN_TIMEOUT, LIMITS, Limits, MiB, parse_limits, parse_timeout
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import RegistryClient, RegistryError

ROOT = Path(__file__).resolve().parents[2]


def test_parse_limits() -> None:
    limits = parse_limits(["request-timeout=60", "blob-size=128M", "manifest-size=512K", "retries=0"])
    assert limits.request_timeout == 60.0
    assert limits.blob_size == 128 * MiB
    assert limits.manifest_size == 512 * 1024
    assert limits.retries == 0
    assert parse_limits([]) == Limits()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("speed=1", "unknown limit 'speed'"),
        ("blob-size", "expected blob-size=VALUE"),
        ("blob-size=lots", "expected a size such as 512K"),
        ("blob-size=0", "expected a size from 1 byte to 16G"),
        ("request-timeout=-1", "expected seconds"),
        ("request-timeout=nan", "expected seconds"),
        ("index-depth=0", "expected a whole number from 1"),
        ("retries=1.5", "expected a whole number from 0"),
    ],
)
def test_bad_limits_are_usage_errors(item: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_limits([item])


def test_timeout() -> None:
    assert parse_timeout(None) == DEFAULT_RUN_TIMEOUT
    assert parse_timeout(0) is None
    assert parse_timeout(12.5) == 12.5
    with pytest.raises(ConfigError, match="expected seconds"):
        parse_timeout(-1)


def test_defaults_give_up_within_a_minute() -> None:
    limits = Limits()
    assert limits.retry_timeout < 60
    assert limits.request_timeout <= limits.retry_timeout


def test_every_limit_is_documented_with_its_default_and_flag() -> None:
    text = (ROOT / "docs" / "registries.md").read_text(encoding="utf-8")
    defaults = Limits()
    assert {limit.name.replace("-", "_") for limit in LIMITS} == {f.name for f in fields(Limits)}
    for limit in LIMITS:
        value = getattr(defaults, limit.name.replace("-", "_"))
        if limit.kind == "bytes":
            shown = f"{value // MiB}M"
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
        assert re.search(rf"\| `--limit {limit.name}=[A-Z]+` \| {re.escape(shown)} \|", text), limit.name
    assert f"| `--timeout SECONDS` | {DEFAULT_RUN_TIMEOUT:g} |" in text


class _Drip(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"schemaVersion": 2, "manifests": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def dripping() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_dripping_bytes_hits_the_request_deadline(dripping: str) -> None:
    """A byte every half second never trips a 10 s read timeout; the request deadline ends it."""
    limits = Limits(read_timeout=10.0, request_timeout=1.5, retry_timeout=2.5)
    ref = parse_reference(f"{dripping}/app:v1")
    with RegistryClient(limits=limits) as client:
        started = time.monotonic()
        with pytest.raises(RegistryError, match=r"timed out talking to .* for /manifests/v1"):
            client.get_manifest(ref, "v1")
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 4.0, elapsed


def test_the_run_budget_ends_every_request(dripping: str) -> None:
    from slsalint.sources.deadline import Budget

    ref = parse_reference(f"{dripping}/app:v1")
    with RegistryClient(budget=Budget(1.0)) as client:
        started = time.monotonic()
        with pytest.raises(RegistryError, match=r"the run's --timeout of 1 s"):
            client.get_manifest(ref, "v1")
    assert time.monotonic() - started < 3.0
