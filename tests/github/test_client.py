"""The attestations API client on its own: URLs, headers, redirects, pagination and limits
(an in-process transport; the end-to-end tests use the fake server)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from slsalint.errors import ConfigError
from slsalint.sources.github import (
    GitHubClient,
    GitHubError,
    GitHubSettings,
    Owner,
    parse_api_url,
    parse_owner,
    read_github,
    token_from_env,
)
from slsalint.sources.oci import Collected

DIGEST = "sha256:" + "ab" * 32
BUNDLE = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}}


def client(handler: Any, token: str | None = "tok", **kw: Any) -> GitHubClient:
    settings = GitHubSettings(
        owners=(Owner("acme", "app"),), api_url="https://ghe.example/api/v3", token=token
    )
    return GitHubClient(settings, transport=httpx.MockTransport(handler), sleep=lambda _: None, **kw)


def listing(*items: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json={"attestations": list(items)}, headers=headers or {})


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("acme", Owner("acme")),
        ("acme/app", Owner("acme", "app")),
        ("https://github.com/acme/app.git", Owner("acme", "app")),
        ("my-org/repo.name_1", Owner("my-org", "repo.name_1")),
    ],
)
def test_parse_owner(text: str, owner: Owner) -> None:
    assert parse_owner(text) == owner


@pytest.mark.parametrize("text", ["", "a/b/c", "-acme", "acme/..", "acme/a b", "ac me"])
def test_parse_owner_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="--github-attestations"):
        parse_owner(text)


def test_owner_paths() -> None:
    assert Owner("acme", "app").paths() == ["repos/acme/app"]
    assert Owner("acme").paths() == ["orgs/acme", "users/acme"]


def test_api_url_rules() -> None:
    assert parse_api_url("https://ghe.example/api/v3/") == "https://ghe.example/api/v3"
    assert parse_api_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    for bad in ("http://ghe.example", "ftp://x", "api.github.com", "https://x/?q=1"):
        with pytest.raises(ConfigError, match="--github-api-url"):
            parse_api_url(bad)


def test_token_from_env() -> None:
    assert token_from_env({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}) == "a"
    assert token_from_env({"GH_TOKEN": "b"}) == "b"
    assert token_from_env({"GITHUB_TOKEN": " "}) is None
    assert token_from_env({}) is None


def test_settings_repr_hides_the_token() -> None:
    assert "hidden" not in repr(GitHubSettings(owners=(), token="hidden"))


def test_request_shape_and_ghes_prefix() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return listing({"bundle": BUNDLE, "repository_id": 1})

    items = client(handler).list_attestations(Owner("acme", "app"), DIGEST)
    assert len(items) == 1 and items[0].bundle == BUNDLE
    (request,) = seen
    assert str(request.url) == f"https://ghe.example/api/v3/repos/acme/app/attestations/{DIGEST}?per_page=100"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert items[0].location == f"ghe.example/api/v3/repos/acme/app/attestations/{DIGEST}"


def test_redirect_to_another_host_drops_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "ghe.example":
            return httpx.Response(307, headers={"Location": "https://storage.example/blob"})
        return httpx.Response(200, content=b"body")

    assert client(handler).get_bundle_url("https://ghe.example/bundle", "b") == b"body"
    assert "authorization" in seen[0].headers and "authorization" not in seen[1].headers


def test_plain_http_bundle_url_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x")

    with pytest.raises(GitHubError, match="refusing http URL"):
        client(handler).get_bundle_url("http://storage.example/blob", "bundle")


def test_next_page_on_another_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return listing(headers={"Link": '<https://evil.example/next>; rel="next"'})

    with pytest.raises(GitHubError, match="another host"):
        client(handler).list_attestations(Owner("acme", "app"), DIGEST)


def test_pages_are_followed_and_bounded() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return listing(
            {"bundle": BUNDLE},
            headers={"Link": f'<https://ghe.example/api/v3/x?page={len(calls) + 1}>; rel="next"'},
        )

    with pytest.raises(GitHubError, match="more than 50 pages"):
        client(handler).list_attestations(Owner("acme", "app"), DIGEST)
    assert len(calls) == 50


def test_listing_body_over_the_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return listing({"bundle": BUNDLE}, {"bundle": BUNDLE})

    with pytest.raises(GitHubError, match="limit"):
        client(handler, max_listing=50).list_attestations(Owner("acme", "app"), DIGEST)


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"attestations": {}}', b'{"attestations": [1]}', b"<html>"],
)
def test_malformed_listing(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    with pytest.raises(GitHubError, match="GitHub attestations of"):
        client(handler).list_attestations(Owner("acme", "app"), DIGEST)


def test_rate_limit_waits_then_succeeds() -> None:
    waits: list[float] = []
    answers = [httpx.Response(429, headers={"Retry-After": "2"}), listing()]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    settings = GitHubSettings(owners=(), api_url="https://ghe.example", token=None)
    github = GitHubClient(settings, transport=httpx.MockTransport(handler), sleep=waits.append)
    assert github.list_attestations(Owner("acme", "app"), DIGEST) == []
    assert waits == [2.0]


def test_rate_limit_far_away_fails_at_once_with_a_hint() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(403, headers={"Retry-After": "3600"})

    with pytest.raises(GitHubError, match=r"rate limited.*set GITHUB_TOKEN"):
        client(handler, token=None).list_attestations(Owner("acme", "app"), DIGEST)
    assert calls == 1


def test_duplicate_bundles_are_filed_once() -> None:
    bundle = {**BUNDLE, "dsseEnvelope": {"payload": "e30=", "payloadType": "x", "signatures": []}}

    def handler(request: httpx.Request) -> httpx.Response:
        return listing({"bundle": bundle}, {"bundle": json.loads(json.dumps(bundle))})

    settings = GitHubSettings(owners=(Owner("acme", "app"), Owner("acme")), api_url="https://ghe.example")
    collected = Collected(reference="r", kind="artifact", index_digest=None, platforms=[(DIGEST, None)])
    github = GitHubClient(settings, transport=httpx.MockTransport(handler))
    found = read_github(settings, collected, client=github)
    assert len(found) == 1 and len(collected.evidence) == 1 and len(collected.nodes) == 1
    assert collected.evidence[0].source.kind == "github-attestations"
    assert collected.evidence[0].stored_for == DIGEST
