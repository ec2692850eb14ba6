"""The benchmarks' raw asyncio latency proxy (``tests.support.latency_proxy``) in front of the real
registry: pushes and pulls go through it, every answer leaves one latency after its request
arrived, and its log says what ``tests.support.proxy`` would say for the same requests."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from benchmarks.registry_roundtrips import Timing, build_image
from tests.support import latency_proxy, proxy
from tests.support.registry import Registry

LATENCY = 0.03
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _skopeo(*args: str) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed (make test installs the Debian package)")
    done = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _blobs(layout: Path) -> set[str]:
    return {p.name for p in (layout / "blobs" / "sha256").iterdir()}


def _all_late_enough(timings: list[Timing]) -> None:
    assert timings
    early = [
        (path, answered - arrived) for path, arrived, answered, _ in timings if answered - arrived < LATENCY
    ]
    assert not early, early


def test_push_then_pull_through_the_proxy(registry: Registry, tmp_path: Path) -> None:
    source = tmp_path / "source"
    index = build_image(source, 2)
    with latency_proxy.proxy_process(registry.base, latency=LATENCY) as (host, log):
        # skopeo pushes blobs (POST, then PATCH/PUT with bodies) and manifests (PUT) through it.
        _skopeo(
            "copy", "--all", "--dest-tls-verify=false", f"oci:{source}:v1.0.0", f"docker://{host}/lp/push:v1"
        )
        pushed = log.timings()
        destination = tmp_path / "pulled"
        _skopeo(
            "copy", "--all", "--src-tls-verify=false", f"docker://{host}/lp/push:v1", f"oci:{destination}:v1"
        )
        timings = log.timings()
        manifests = log("/manifests/")
    # The upload URLs the registry answered (Location) named the proxy: the uploads came back here.
    assert any(path.startswith("/v2/lp/push/blobs/uploads/") and len(path) > 30 for path, _, _, _ in pushed)
    _all_late_enough(timings)
    # What was pulled through the proxy is what the registry holds (asked directly).
    with httpx.Client(base_url=registry.base, timeout=30) as direct:
        stored = direct.head("/v2/lp/push/manifests/v1", headers={"Accept": INDEX})
    pulled = json.loads((destination / "index.json").read_text())["manifests"]
    assert [m["digest"] for m in pulled] == [stored.headers["docker-content-digest"]]
    for blob in (destination / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    # Every layer and config pushed came back (skopeo may re-encode the manifests it pushes).
    assert len(_blobs(destination) & _blobs(source)) > 2
    assert index.startswith("sha256:")
    assert "/v2/lp/push/manifests/v1" in manifests


def _requests(host: str, index: str, blob: str) -> list[tuple[int, bytes]]:
    """One fixed sequence of requests on one connection; (status, body) of each."""
    out = []
    with httpx.Client(base_url=f"http://{host}", timeout=30) as client:
        for method, path, accept in [
            ("GET", "/v2/", None),
            ("GET", "/v2/lp/same/manifests/v1.0.0", INDEX),
            ("HEAD", "/v2/lp/same/manifests/v1.0.0", INDEX),
            ("GET", f"/v2/lp/same/manifests/{index}", INDEX),
            ("GET", f"/v2/lp/same/blobs/{blob}", None),
            ("HEAD", f"/v2/lp/same/blobs/{blob}", None),
            ("GET", "/v2/lp/same/manifests/missing", INDEX),
            ("GET", "/v2/lp/same/tags/list", None),
            ("GET", "/v2/lp/same/blobs/sha256:" + "0" * 64, None),
        ]:
            response = client.request(method, path, headers={"Accept": accept} if accept else {})
            out.append((response.status_code, response.content))
    return out


def test_the_log_is_what_the_thread_proxy_logs(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    index = build_image(layout, 2)
    registry.push_layout(layout, "lp/same")
    manifest = json.loads((layout / "blobs" / "sha256" / index.split(":")[1]).read_bytes())
    child = json.loads(
        (layout / "blobs" / "sha256" / manifest["manifests"][0]["digest"].split(":")[1]).read_bytes()
    )
    blob = child["config"]["digest"]
    logs = {}
    answers = {}
    for module in (proxy, latency_proxy):
        with module.proxy_process(registry.base, latency=LATENCY) as (host, log):
            answers[module.__name__] = _requests(host, index, blob)
            timings = log.timings()
            logs[module.__name__] = ([(p, named) for p, _, _, named in timings], log(), log("/blobs/"))
            _all_late_enough(timings)
    # Same statuses and bodies (a HEAD answer has none), same paths, same digests named.
    assert answers["tests.support.latency_proxy"] == answers["tests.support.proxy"]
    assert logs["tests.support.latency_proxy"] == logs["tests.support.proxy"]
    named = dict(logs["tests.support.proxy"][0][:5])
    assert index in named["/v2/lp/same/manifests/v1.0.0"]  # Docker-Content-Digest
    assert manifest["manifests"][0]["digest"] in named[f"/v2/lp/same/manifests/{index}"]  # the body


def test_a_pull_logs_what_the_thread_proxy_logs(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    build_image(layout, 3)
    registry.push_layout(layout, "lp/pull")
    seen = {}
    for module in (proxy, latency_proxy):
        with module.proxy_process(registry.base, latency=LATENCY) as (host, log):
            destination = tmp_path / module.__name__
            _skopeo(
                "copy",
                "--all",
                "--src-tls-verify=false",
                f"docker://{host}/lp/pull:v1.0.0",
                f"oci:{destination}:x",
            )
            seen[module.__name__] = sorted((p, named) for p, _, _, named in log.timings())
    assert seen["tests.support.latency_proxy"] == seen["tests.support.proxy"]
    assert any(named for _, named in seen["tests.support.proxy"])


def test_chunked_answers_keep_the_connection(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    tags = build_image(layout, 1)
    registry.push_layout(layout, "lp/tags")
    data = (layout / "blobs" / "sha256" / tags.split(":")[1]).read_bytes()
    for n in range(120):  # a tag list longer than the registry sends with a Content-Length
        registry.push_manifest("lp/tags", data, INDEX, f"tag-{n:03d}-" + "x" * 100)
    with latency_proxy.proxy_process(registry.base, latency=LATENCY) as (host, log):
        with socket.create_connection(tuple(host.split(":"))) as sock:  # type: ignore[arg-type]
            request = f"GET /v2/lp/tags/tags/list HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            sock.sendall(request + request.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n"))
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk  # both answers, then the proxy closes (the second asked it to)
        timings = log.timings()
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert b"transfer-encoding: chunked" in raw.lower()
    assert raw.endswith(b"0\r\n\r\n")
    assert [p for p, _, _, _ in timings] == ["/v2/lp/tags/tags/list"] * 2
    _all_late_enough(timings)


def test_many_connections_at_once(registry: Registry, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    index = build_image(layout, 1)
    registry.push_layout(layout, "lp/many")

    def fetch(host: str) -> tuple[int, str]:
        with httpx.Client(base_url=f"http://{host}", timeout=60) as client:
            response = client.get("/v2/lp/many/manifests/v1.0.0", headers={"Accept": INDEX})
            return response.status_code, response.headers["docker-content-digest"]

    with latency_proxy.proxy_process(registry.base, latency=LATENCY) as (host, log):
        with ThreadPoolExecutor(max_workers=200) as pool:
            results = list(pool.map(fetch, [host] * 300))
        # A client gone mid-request does not stop the proxy.
        with socket.create_connection(tuple(host.split(":"))) as sock:  # type: ignore[arg-type]
            head = f"PUT /v2/lp/many/blobs/uploads/x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 9\r\n\r\n"
            sock.sendall(head.encode() + b"abc")
        assert fetch(host) == (200, index)
        timings = log.timings()
    assert results == [(200, index)] * 300
    assert len(timings) == 302
    _all_late_enough([t for t in timings if "/uploads/" not in t[0]])


def test_a_tls_handshake_is_refused_at_once(registry: Registry) -> None:
    # Clients with "tls-verify=false" try https first and fall back to http when refused.
    with latency_proxy.proxy_process(registry.base, latency=LATENCY) as (host, log):
        with socket.create_connection(tuple(host.split(":")), timeout=5) as sock:  # type: ignore[arg-type]
            sock.sendall(bytes.fromhex("160301020001"))  # the start of a TLS ClientHello
            answer = sock.recv(4096)
            assert sock.recv(4096) == b""  # then closed
        assert log() == []
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_replay_answers_repeated_requests_without_the_registry(registry: Registry, tmp_path: Path) -> None:
    """``replay``: the second identical GET is answered from the recording, byte for byte and still
    one latency late, with the registry no longer holding the manifest; a request that differs
    (another Accept, a PUT) is forwarded."""
    source = tmp_path / "source"
    build_image(source, 1)
    registry.push_layout(source, "lp/replay")
    recording = tmp_path / "answers.json"
    accept = {"Accept": INDEX}
    with latency_proxy.proxy_process(registry.base, latency=LATENCY, replay=recording) as (host, log):
        with httpx.Client(base_url=f"http://{host}") as client:
            first = client.get("/v2/lp/replay/manifests/v1.0.0", headers=accept)
            assert first.status_code == 200
            digest = first.headers["docker-content-digest"]
            assert client.get(f"/v2/lp/replay/manifests/{digest}", headers=accept).status_code == 200
        log.timings()  # written to the recording at each log read
    registry.delete_manifest("lp/replay", digest)
    with httpx.Client(base_url=registry.base) as direct:
        assert direct.get(f"/v2/lp/replay/manifests/{digest}", headers=accept).status_code == 404
    with latency_proxy.proxy_process(registry.base, latency=LATENCY, replay=recording) as (host, log):
        with httpx.Client(base_url=f"http://{host}") as client:
            again = client.get(f"/v2/lp/replay/manifests/{digest}", headers=accept)
            other = client.get(f"/v2/lp/replay/manifests/{digest}", headers={"Accept": MANIFEST})
            put = client.put("/v2/lp/replay/manifests/x", content=b"{}", headers={"Content-Type": MANIFEST})
        timings = log.timings()
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["docker-content-digest"] == digest
    assert other.status_code == 404  # not recorded: the registry was asked, and has it no more
    assert put.status_code >= 400
    _all_late_enough(timings)
    assert timings[0][3] == tuple(sorted({digest} | set(_named(first.content))))


def _named(body: bytes) -> set[str]:
    return {match.decode() for match in latency_proxy.DIGEST.findall(body)}


def test_replay_in_memory_serves_the_second_request(registry: Registry, tmp_path: Path) -> None:
    source = tmp_path / "source"
    build_image(source, 1)
    registry.push_layout(source, "lp/memory")
    with latency_proxy.proxy_process(registry.base, latency=LATENCY, replay=True) as (host, log):
        with httpx.Client(base_url=f"http://{host}") as client:
            first = client.get("/v2/lp/memory/manifests/v1.0.0", headers={"Accept": INDEX})
            digest = first.headers["docker-content-digest"]
            registry.delete_manifest("lp/memory", digest)
            second = client.get("/v2/lp/memory/manifests/v1.0.0", headers={"Accept": INDEX})
        _all_late_enough(log.timings())
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
