"""The first requests of ``slsalint check IMAGE`` are sent before httpx loads
(``slsalint.sources.presend``); the registry client takes each answer as that of the request it
would have sent, and judges it as its own. On the real registry, through the test proxy (which logs
every request with its headers)."""

from __future__ import annotations

import re
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from slsalint.sources import presend
from slsalint.sources.limits import Limits
from slsalint.sources.mediatypes import MANIFEST_ACCEPT
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import BadContent, RegistryClient, RegistryError
from tests.support.images import AMD64, ARM64, build
from tests.support.proxy import Fault, proxy
from tests.support.registry import Registry
from tests.unit.test_http1 import Script, read_request, run


@pytest.fixture
def pushed(registry: Registry, tmp_path: Path) -> str:
    layout, _, _ = build(tmp_path, attest={AMD64: None, ARM64: None}, att_for_index=True)
    registry.push_layout(layout, "pre/app")
    return "pre/app"


def _plain_fetch(host: str, repo: str) -> tuple[str, bytes, frozenset[str] | None]:
    ref = parse_reference(f"{host}/{repo}:v1.0.0")
    with RegistryClient() as client:
        fetched = client.get_manifest(ref, "v1.0.0")
        return fetched.digest, fetched.data, client.tag_list(ref)


def test_the_client_takes_the_present_answers_as_its_own(registry: Registry, pushed: str) -> None:
    with proxy(registry.base) as (host, state):
        expected = _plain_fetch(host, pushed)
        state.log.clear()
        sent = presend.start(f"{host}/{pushed}:v1.0.0", None)
        assert [p.url for p in sent] == [
            f"http://{host}/v2/{pushed}/manifests/v1.0.0",
            f"http://{host}/v2/{pushed}/tags/list",
        ]
        ref = parse_reference(f"{host}/{pushed}:v1.0.0")
        with RegistryClient() as client:
            client.adopt_presends(sent)
            fetched = client.get_manifest(ref, "v1.0.0")
            listed = client.tag_list(ref)
            assert client.stats.requests == 2  # counted as the client's own
        assert (fetched.digest, fetched.data, listed) == expected
        # Each asked once: by the early connection, with the headers the client would send.
        log = [(path, headers) for _, path, headers in state.log]
        assert sorted(path for path, _ in log) == [
            f"/v2/{pushed}/manifests/v1.0.0",
            f"/v2/{pushed}/tags/list",
        ]
        manifest_headers = next({k.lower(): v for k, v in h.items()} for p, h in log if "/manifests/" in p)
        assert manifest_headers["accept"] == MANIFEST_ACCEPT
        assert manifest_headers["user-agent"] == "slsalint"


def test_a_token_challenge_to_the_early_request_is_answered_as_always(
    registry: Registry, pushed: str
) -> None:
    with proxy(registry.base, token="t0ken") as (host, state):
        expected = _plain_fetch(host, pushed)
        plain = state.requests()
        state.log.clear()
        ref = parse_reference(f"{host}/{pushed}:v1.0.0")
        with RegistryClient() as client:
            client.adopt_presends(presend.start(str(ref), None))
            fetched = client.get_manifest(ref, "v1.0.0")
            listed = client.tag_list(ref)
        assert (fetched.digest, fetched.data, listed) == expected
        # As a client that sent both at once itself: each sent anonymously (401), then with the token.
        sent = Counter(state.requests())
        assert sent - Counter(plain) == Counter({f"/v2/{pushed}/tags/list": 1})
        assert sent[f"/v2/{pushed}/manifests/v1.0.0"] == 2
        tokens = [path for path in sent.elements() if path.startswith("/token")]
        assert len(tokens) == 1 == len([path for path in plain if path.startswith("/token")])


def test_a_broken_early_answer_is_asked_again_by_the_client(registry: Registry, pushed: str) -> None:
    with proxy(registry.base) as (host, state):
        expected = _plain_fetch(host, pushed)
        state.log.clear()
        state.faults.append(Fault(match="/manifests/v1.0.0", kind="truncate"))
        ref = parse_reference(f"{host}/{pushed}:v1.0.0")
        with RegistryClient() as client:
            client.adopt_presends(presend.start(str(ref), None))
            fetched = client.get_manifest(ref, "v1.0.0")
        assert (fetched.digest, fetched.data) == expected[:2]
        assert state.requests("/manifests/v1.0.0") == [f"/v2/{pushed}/manifests/v1.0.0"] * 2


def test_the_client_judges_an_early_answer_by_its_own_limits(registry: Registry, pushed: str) -> None:
    with proxy(registry.base) as (host, _state):
        ref = parse_reference(f"{host}/{pushed}:v1.0.0")
        limits = Limits().with_values({"manifest_size": 100})
        messages = []
        for early in (False, True):
            with RegistryClient(limits=limits) as client:
                if early:
                    client.adopt_presends(presend.start(str(ref), None))
                with pytest.raises(BadContent) as caught:
                    client.get_manifest(ref, "v1.0.0")
                messages.append(str(caught.value))
        assert messages[0] == messages[1]
        assert "over the 100-byte limit" in messages[0]


def test_an_early_request_the_client_would_not_send_is_not_used(registry: Registry, pushed: str) -> None:
    with proxy(registry.base) as (host, state):
        ref = parse_reference(f"{host}/{pushed}:v1.0.0")
        url = f"http://{host}/v2/{pushed}/manifests/v1.0.0"
        other = presend.Presend(
            url,
            {"Accept": "application/vnd.oci.image.manifest.v1+json"},  # not the client's Accept
            limit=1 << 20,
            connect_timeout=5,
            read_timeout=5,
            total_timeout=5,
        )
        other.answer(10)
        state.log.clear()
        with RegistryClient() as client:
            client.adopt_presends([other])
            assert client.get_manifest(ref, "v1.0.0").media_type.endswith("index.v1+json")
        assert state.requests() == [f"/v2/{pushed}/manifests/v1.0.0"]  # the client's own


@pytest.mark.parametrize(
    "variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"]
)
def test_nothing_is_sent_early_when_the_environment_could_route_it_elsewhere(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert presend.usable({})
    assert not presend.usable({variable: "x"})
    monkeypatch.setenv(variable, "http://127.0.0.1:9")
    assert presend.start("127.0.0.1:9/app:1", None) == []


@pytest.mark.parametrize("text", ["127.0.0.1:9/app@sha256:" + "a" * 64, "Not A Reference", ""])
def test_nothing_is_sent_early_by_digest_or_for_what_is_not_a_reference(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (*presend.PROXY_VARIABLES, *presend.TRUST_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    assert presend.start(text, None) == []


def test_an_early_request_nobody_answers_gives_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry not listening: the early request ends with no answer, at once, and the
    client's own request then says what is wrong."""
    for name in (*presend.PROXY_VARIABLES, *presend.TRUST_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    sent = presend.start("127.0.0.1:9/app:1", "127.0.0.1:9/sigs")
    assert [p.url for p in sent] == [
        "http://127.0.0.1:9/v2/app/manifests/1",
        "http://127.0.0.1:9/v2/sigs/tags/list",
    ]
    assert [p.answer(10) for p in sent] == [None, None]


MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
    b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'
    + b"a" * 64
    + b'","size":2},"layers":[]}'
)


def _answering(reply: Callable[[int], bytes]) -> Callable[[list[bytes]], Script]:
    """A loopback server answering the n-th request it is sent with ``reply(n)``, then closing."""
    count = [0]

    def make(seen: list[bytes]) -> Script:
        def script(conn: socket.socket, number: int) -> None:
            request = read_request(conn)
            seen.append(request)
            count[0] += 1
            conn.sendall(reply(count[0]))

        return script

    return make


def _fetch_with_presend(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    for name in (*presend.PROXY_VARIABLES, *presend.TRUST_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    host = url.removeprefix("http://")
    ref = parse_reference(f"{host}/app:1")
    (early, _tags) = presend.start(str(ref), None)
    with RegistryClient(retries=0) as client:
        client.adopt_presends([early])
        try:
            return client.get_manifest(ref, "1").digest, 0
        except RegistryError as exc:
            return str(exc), 1


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Note: caf\xe9\r\n",  # a byte past ASCII in a header value
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\n",  # a 1xx first
    ],
)
def test_an_early_answer_the_transport_accepts_is_used(head: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = head + b"Content-Length: %d\r\n\r\n%b" % (len(MANIFEST), MANIFEST)
    for url, seen in run(_answering(lambda n: answer)):
        digest, failed = _fetch_with_presend(url, monkeypatch)
        assert (digest.startswith("sha256:"), failed) == (True, 0)
        assert len([r for r in seen if b"/manifests/1 " in r]) == 1  # the early one, used


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 209\r\n\r\n" + MANIFEST, "Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nBogus\r\nDocker-Content-Digest: sha256:" + b"0" * 64 + b"\r\n\r\n",
            "header field",
        ),
        (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "Server disconnected"),  # bare LF
    ],
)
def test_an_early_answer_the_transport_refuses_is_asked_again_and_refused(
    broken: bytes, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not taken as it came (``http.client`` would have taken the first length, or dropped the
    headers after a bad line): the client asks itself, and refuses what it gets the same way."""
    for url, seen in run(_answering(lambda n: broken)):
        error, failed = _fetch_with_presend(url, monkeypatch)
        assert failed == 1
        assert re.search(message, error), error
        assert len([r for r in seen if b"/manifests/1 " in r]) == 2  # early, then the client's own
