"""A wide index's manifests and blobs are sent ahead by the client's fan-out thread
(``slsalint.sources.fanout``) and each request thread takes its answer as its own: on the real
registry, through the test proxy (which logs every request and injects faults), the collection is
the same as without the fan-out, every request is asked once, and a fault in an answer sent ahead
is judged as it is when the request thread asks itself."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.registry_roundtrips import build_image
from slsalint.engine import LintOptions, LintRequest, RegistrySettings, lint
from slsalint.errors import OperationalError
from slsalint.policy import Policy
from slsalint.sources.fanout import FanOut
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import RegistryClient
from slsalint.sources.remote import RemoteCollector
from tests.support.proxy import Fault, proxy
from tests.support.registry import Registry


@pytest.fixture(scope="module")
def wide_layout(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of 12 platforms, each with a BuildKit attestation manifest (provenance and SBOM
    layers), and a cosign ``.att`` on the index, pushed as fan/wide."""
    layout = tmp_path_factory.mktemp("wide") / "layout"
    build_image(layout, 12)
    registry.push_layout(layout, "fan/wide")
    return layout


@pytest.fixture(scope="module")
def wide(wide_layout: Path) -> str:
    return "fan/wide"


def _blob(layout: Path, digest: str) -> Any:
    return json.loads((layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes())


def _digests(layout: Path) -> tuple[str, str]:
    """A platform manifest's digest and its provenance layer's, as the index lists them."""
    top = json.loads((layout / "index.json").read_bytes())["manifests"][0]["digest"]
    entries = _blob(layout, top)["manifests"]
    platform = next(e for e in entries if (e.get("platform") or {}).get("os") not in (None, "unknown"))
    attestation = next(
        e
        for e in entries
        if (e.get("annotations") or {}).get("vnd.docker.reference.digest") == platform["digest"]
    )
    return platform["digest"], _blob(layout, attestation["digest"])["layers"][0]["digest"]


def _collect(host: str, repository: str, *, fanout: bool) -> tuple[Any, RegistryClient]:
    client = RegistryClient(fanout=fanout)
    with client:
        collected, snapshot = RemoteCollector(client).collect(f"{host}/{repository}:v1.0.0")
    return (collected, snapshot), client


def _shape(result: Any) -> tuple[Any, ...]:
    collected, snapshot = result
    return (
        collected.reference,
        sorted(str(p) for p in collected.problems),
        sorted(repr(e) for e in collected.evidence),
        sorted(repr(e) for e in collected.signatures),
        sorted(snapshot.manifests),
        sorted(snapshot.blobs),
    )


def test_sent_ahead_and_taken_as_the_clients_own(registry: Registry, wide: str) -> None:
    with proxy(registry.base) as (host, state):
        plain, plain_client = _collect(host, wide, fanout=False)
        plain_paths = Counter(path for _, path, _ in state.log)
        state.log.clear()
        ahead, client = _collect(host, wide, fanout=True)
        paths = Counter(path for _, path, _ in state.log)
    assert _shape(ahead) == _shape(plain)
    assert paths == plain_paths
    assert max(paths.values()) == 1  # nothing asked twice
    assert client.stats.requests == plain_client.stats.requests
    assert plain_client.stats.ahead == 0
    # Every platform manifest, attestation manifest and attestation layer (12 + 12 + 24).
    by_digest = [p for p in paths if "/manifests/sha256:" in p or "/blobs/sha256:" in p]
    assert client.stats.ahead >= 48
    assert client.stats.ahead <= len(by_digest)


@pytest.mark.parametrize(
    ("what", "kind", "status"),
    [
        ("blob", "corrupt", 500),
        ("blob", "truncate", 500),
        ("blob", "status", 503),
        ("blob", "status", 404),
        ("manifest", "status", 500),
        ("manifest", "corrupt", 500),
        ("manifest", "short-length", 7),
    ],
    ids=[
        "corrupt-blob",
        "cut-blob",
        "503-blob",
        "404-blob",
        "500-manifest",
        "corrupt-manifest",
        "short-manifest",
    ],
)
def test_a_fault_in_an_answer_sent_ahead_is_judged_as_without_it(
    registry: Registry,
    wide: str,
    wide_layout: Path,
    what: str,
    kind: str,
    status: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same fault (once, on the request for one platform manifest or one provenance layer)
    with and without the fan-out: the same exit code, findings and number of times it is asked."""
    platform, layer = _digests(wide_layout)
    match = f"/manifests/{platform}" if what == "manifest" else f"/blobs/{layer}"
    sent_ahead: list[str] = []
    original = FanOut.send

    def recorded(self: FanOut, url: str, *args: Any, **kwargs: Any) -> Any:
        sent_ahead.append(url)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(FanOut, "send", recorded)
    outcomes = []
    for fanout in (False, True):
        with proxy(registry.base, faults=[Fault(match, kind, status=status)]) as (host, state):
            settings = RegistrySettings(use_cache=False, fanout=fanout)
            try:
                report = lint(
                    [LintRequest(target=f"{host}/{wide}:v1.0.0")],
                    LintOptions(policy=Policy(packs=["docker-scout"]), registry=settings),
                )
                verdict: tuple[Any, ...] = (
                    report.exit_code,
                    sorted((f.rule_id, _unhosted(f.message, host)) for f in report.findings),
                )
            except OperationalError as exc:  # exit 3
                verdict = (3, _unhosted(str(exc), host))
            asked = [path for _, path, _ in state.log if path.endswith(match)]
        outcomes.append((*verdict, len(asked)))
    assert outcomes[0] == outcomes[1]
    assert [url for url in sent_ahead if url.endswith(match)]  # the faulted answer was one sent ahead
    if kind == "corrupt" or status == 404:
        assert outcomes[1][0] != 0  # a wrong answer, or none, never passes
    else:
        assert outcomes[1][-1] == 2  # a failed or cut transfer is asked again, once


def _unhosted(message: str, host: str) -> str:
    return message.replace(host, "HOST")


def test_a_token_registry_gets_the_token_on_requests_sent_ahead(registry: Registry, wide: str) -> None:
    with proxy(registry.base, token="t0ken") as (host, state):
        result, client = _collect(host, wide, fanout=True)
        asked = Counter(path for _, path, _ in state.log)
        authorized = [headers.get("Authorization") for _, path, headers in state.log if "/blobs/" in path]
    collected, _ = result
    assert not collected.problems
    assert client.stats.ahead >= 48
    assert authorized and set(authorized) == {"Bearer t0ken"}
    # Asked twice (challenged, then with the token): only what was sent before the token was known.
    assert len([path for path, count in asked.items() if count > 1]) <= 3


def test_a_cached_digest_is_not_sent_for(registry: Registry, wide: str, tmp_path: Path) -> None:
    settings = RegistrySettings(use_cache=True, cache_dir=tmp_path / "cache")
    options = LintOptions(policy=Policy(packs=["docker-scout"]), registry=settings)
    with proxy(registry.base) as (host, state):
        assert lint([LintRequest(target=f"{host}/{wide}:v1.0.0")], options).exit_code == 0
        state.log.clear()
        ref = parse_reference(f"{host}/{wide}:v1.0.0")
        digest = lint([LintRequest(target=str(ref))], options)
        again = [path for _, path, _ in state.log]
    assert digest.exit_code == 0
    assert not [path for path in again if "/blobs/" in path]


def _digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def test_nothing_is_sent_ahead_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = parse_reference("127.0.0.1:5999/fan/x:v1")
    with RegistryClient() as direct:
        assert direct.prefetch(ref, "blob", _digest(1), 10) is not None
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # loopback is proxied unless NO_PROXY
    with RegistryClient() as proxied:
        assert proxied.prefetch(ref, "blob", _digest(1), 10) is None
        assert proxied.prefetch(ref, "manifest", _digest(2), 10) is None


def test_large_content_and_too_much_held_are_not_sent_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    from slsalint.sources import registry as module

    ref = parse_reference("127.0.0.1:5999/fan/x:v1")
    with RegistryClient() as client:
        assert client.prefetch(ref, "blob", _digest(3), module.PREFETCH_ITEM + 1) is None
        assert client.prefetch(ref, "blob", _digest(4), module.PREFETCH_ITEM) is not None
        assert client.prefetch(ref, "blob", _digest(4), module.PREFETCH_ITEM) is not None  # the same one
    monkeypatch.setattr(module, "PREFETCH_HELD", 300 * 1024)
    with RegistryClient() as small:
        assert small.prefetch(ref, "blob", _digest(5), 100 * 1024) is not None
        assert small.prefetch(ref, "blob", _digest(6), 100 * 1024) is None  # over what may be held


def test_an_answer_sent_ahead_is_not_taken_for_other_headers(registry: Registry, wide_layout: Path) -> None:
    _, layer = _digests(wide_layout)
    size = (wide_layout / "blobs" / "sha256" / layer.split(":")[1]).stat().st_size
    ref = parse_reference(f"{registry.host}/fan/wide:v1.0.0")
    url = f"{registry.base}/v2/fan/wide/blobs/{layer}"
    with RegistryClient() as client:
        item = client.prefetch(ref, "blob", layer, size)
        assert item is not None
        arrived = threading.Event()
        item.when_done(arrived.set)
        assert arrived.wait(10)
        assert client._present("GET", url, {"Authorization": "Bearer other"}) is None
        assert client._present("HEAD", url, {}) is None
        assert client._present("GET", url + "x", {}) is None
        assert client._presends[url] == [item]  # still there for the request it is
        taken = client._present("GET", url, {})
        assert (
            taken is not None
            and taken.status_code == 200
            and taken.read() == (wide_layout / "blobs" / "sha256" / layer.split(":")[1]).read_bytes()
        )
        assert url not in client._presends  # taken once
