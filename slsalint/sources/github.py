"""GitHub's artifact attestations API (``--github-attestations OWNER[/REPO]``).

``actions/attest-build-provenance`` stores its Sigstore bundles in GitHub's attestation store; they
reach the registry only with ``push-to-registry: true``. This source asks the API for every checked
digest and files each bundle as evidence of kind ``github-attestations``; the bundles then go
through the same decoding, schema, signature and subject checks as Sigstore bundle referrers.

- ``GET {api}/repos/{owner}/{repo}/attestations/{digest}`` for ``OWNER/REPO``;
  ``GET {api}/orgs/{owner}/attestations/{digest}`` for ``OWNER`` (then ``/users/{owner}/...`` when
  the organization endpoint answers 404: the owner may be a user account);
- ``per_page=100`` and ``Link: <...>; rel="next"`` pagination (same host only);
- a 404 means "no attestations for that digest"; 401/403 are faults, except rate limiting (403/429
  with ``Retry-After`` or ``x-ratelimit-remaining: 0``), which is waited out when the wait is short;
- ``bundle: null`` entries are read from ``bundle_url`` (snappy-compressed bundle JSON), without the
  ``Authorization`` header when that URL is on another host;
- plain HTTP only for loopback hosts; every body is size-bounded.

Network and API faults raise :class:`GitHubError` (exit 3): a fetch that cannot tell which
attestations exist must not pass. A bundle that is malformed (bad snappy, bad JSON) is a problem of
the target (SL105), like any unreadable evidence.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from slsalint import jsonio
from slsalint.errors import ConfigError, OperationalError
from slsalint.model import EvidenceSource
from slsalint.sources.deadline import Budget, deadline
from slsalint.sources.limits import Limits
from slsalint.sources.network import NetworkTransport, ProxySettings
from slsalint.sources.network import transport as network_transport
from slsalint.sources.oci import (
    GITHUB_KIND,
    PREDICATE_TYPE_ANNOTATION,
    Collected,
    Descriptor,
    LayerNode,
    ManifestNode,
    digest_of,
    is_digest,
)
from slsalint.sources.reference import is_loopback, redact
from slsalint.sources.registry import (
    HttpClientBase,
    next_link,
    read_limited,
    retry_after,
    transport_reason,
)
from slsalint.sources.snappy import SnappyError, decompress

DEFAULT_API_URL = "https://api.github.com"
SOURCE_KIND = GITHUB_KIND
DEFAULT_BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
API_VERSION = "2022-11-28"
DEFAULT_MAX_LISTING = 32 * 1024 * 1024
DEFAULT_MAX_BUNDLE = 16 * 1024 * 1024
MAX_PAGES = 50
RETRY_STATUSES = frozenset({500, 502, 503, 504})

_OWNER = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\Z")
_REPO = re.compile(r"\A[A-Za-z0-9._-]{1,100}\Z")


class GitHubError(OperationalError):
    """The attestations API gave no honest answer (exit 3). Messages never carry credentials."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


@dataclass(frozen=True)
class Owner:
    """Where to look: a repository (``OWNER/REPO``) or every repository of an owner (``OWNER``)."""

    owner: str
    repo: str | None = None

    def __str__(self) -> str:
        return f"{self.owner}/{self.repo}" if self.repo else self.owner

    def paths(self) -> list[str]:
        """API paths to ask, in order; the next one is asked only when the previous answers 404."""
        if self.repo:
            return [f"repos/{quote(self.owner)}/{quote(self.repo)}"]
        return [f"orgs/{quote(self.owner)}", f"users/{quote(self.owner)}"]


def parse_owner(text: str) -> Owner:
    """``OWNER`` or ``OWNER/REPO`` (also accepts ``https://github.com/OWNER/REPO``)."""
    value = text.strip()
    for prefix in ("https://github.com/", "http://github.com/", "github.com/"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.rstrip("/")
    parts = value.split("/")
    if len(parts) not in (1, 2) or not _OWNER.match(parts[0]):
        raise ConfigError(f"--github-attestations {text!r}: expected OWNER or OWNER/REPO")
    if len(parts) == 2:
        repo = parts[1].removesuffix(".git")
        if not _REPO.match(repo) or repo in (".", ".."):
            raise ConfigError(f"--github-attestations {text!r}: {parts[1]!r} is not a repository name")
        return Owner(parts[0], repo)
    return Owner(parts[0])


def parse_api_url(text: str) -> str:
    """Validate ``--github-api-url``: HTTPS, or plain HTTP to a loopback host only."""
    value = text.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"--github-api-url {text!r}: expected an http(s) URL such as {DEFAULT_API_URL}")
    if parts.scheme == "http" and not is_loopback(parts.netloc):
        raise ConfigError(f"--github-api-url {text!r}: plain HTTP is allowed only for loopback hosts")
    return value


def token_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """``GITHUB_TOKEN``, else ``GH_TOKEN``; None (anonymous) when neither is set."""
    env = os.environ if env is None else env
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        value = env.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class GitHubSettings:
    """Which owners to ask, where the API is, and the token (never shown in reprs or messages)."""

    owners: tuple[Owner, ...]
    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GitHubBundle:
    """One bundle read from the API, with the digest it was listed for."""

    subject: str
    """The digest the API was asked about."""
    owner: Owner
    data: bytes
    media_type: str
    location: str
    """``HOST/PATH/attestations/DIGEST``: the listing it came from."""
    predicate_type: str | None = None
    repository_id: int | None = None

    @property
    def digest(self) -> str:
        return digest_of(self.data)


@dataclass(frozen=True)
class Listed:
    """One entry of an attestations listing, before its bundle is read."""

    subject: str
    owner: Owner
    location: str
    position: int
    bundle: Any
    bundle_url: str | None
    repository_id: int | None


class GitHubClient(HttpClientBase):
    """A small client for the attestations endpoints; thread-safe."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        limits: Limits | None = None,
        budget: Budget | None = None,
        retries: int | None = None,
        backoff: float = 0.25,
        max_retry_wait: float = 30.0,
        max_listing: int | None = None,
        max_bundle: int | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = parse_api_url(settings.api_url)
        self._origin = urlsplit(self.api_url)
        self._token = settings.token
        self.limits = limits or Limits()
        self.budget = budget
        self.retries = self.limits.retries if retries is None else retries
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self.max_listing = max_listing or self.limits.github_listing_size
        self.max_bundle = max_bundle or self.limits.github_bundle_size
        self._sleep = sleep
        pool = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        if transport is None:
            # HTTPS_PROXY / NO_PROXY and SSL_CERT_FILE / SSL_CERT_DIR, checked now (exit 2).
            transport = network_transport(pool)
        self.proxies = transport.proxies if isinstance(transport, NetworkTransport) else ProxySettings()
        self._http = httpx.Client(
            timeout=self._timeout(),
            follow_redirects=False,
            limits=pool,
            transport=transport,
            trust_env=False,
            headers={"User-Agent": "slsalint"},
        )

    @property
    def host(self) -> str:
        return self._origin.netloc

    # -- requests --------------------------------------------------------------------------------

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == (self._origin.scheme, self._origin.netloc)

    def _headers(self, url: str, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "X-GitHub-Api-Version": API_VERSION}
        if self._token and self._same_origin(url):
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def get(
        self, url: str, *, what: str, limit: int, accept: str = "application/vnd.github+json"
    ) -> httpx.Response:
        """GET with retries, rate-limit handling and redirects (Authorization only on the API host);
        every attempt ends at the request deadline, all of them within the retry budget.

        Returns the response (status 200 or 404); anything else raises GitHubError."""
        attempt = 0
        clock = self._clock()
        while True:
            attempt += 1
            current = url
            try:
                with deadline(clock.attempt_ends()):
                    for _hop in range(6):
                        _check_scheme(current, what)
                        response = self._send(current, self._headers(current, accept), limit, what)
                        if (
                            response.status_code not in (301, 302, 303, 307, 308)
                            or "location" not in response.headers
                        ):
                            break
                        current = _join(current, response.headers["location"], what)
                    else:
                        raise GitHubError(f"{what}: too many redirects")
            except httpx.TimeoutException:
                wait = self._backoff(attempt)
                if attempt <= self.retries and clock.can_wait(wait):
                    self._sleep(wait)
                    continue
                raise GitHubError(
                    f"{what}: timed out talking to {urlsplit(current).netloc}{self.proxies.via(current)}; "
                    f"{clock.gave_up(attempt, self.retries, wait, self.max_retry_wait)}"
                ) from None
            except httpx.TransportError as exc:
                limit_tries = min(self.retries, 1) if isinstance(exc, httpx.ConnectError) else self.retries
                wait = self._backoff(attempt)
                if attempt <= limit_tries and clock.can_wait(wait):
                    self._sleep(wait)
                    continue
                raise GitHubError(
                    f"{what}: cannot reach {urlsplit(current).netloc}{self.proxies.via(current)}: "
                    f"{transport_reason(exc)}"
                ) from None
            status = response.status_code
            host = urlsplit(current).netloc
            if status in (200, 404):
                return response
            limited = self._rate_limit_wait(response)
            if limited is not None:
                if attempt <= self.retries and limited <= self.max_retry_wait and clock.can_wait(limited):
                    self._sleep(limited)
                    continue
                hint = "" if self._token else "; set GITHUB_TOKEN for a higher limit"
                raise GitHubError(
                    f"{what}: rate limited by {host} (HTTP {status}); "
                    f"the limit resets in {int(limited)} s{hint}"
                )
            if status in RETRY_STATUSES:
                wait = min(retry_after(response.headers.get("retry-after"), self._backoff(attempt)), 30.0)
                if attempt <= self.retries and clock.can_wait(wait):
                    self._sleep(wait)
                    continue
            if status in (401, 403):
                who = "with the token from GITHUB_TOKEN/GH_TOKEN" if self._token else "anonymously"
                hint = "" if self._token else "; set GITHUB_TOKEN to a token that can read attestations"
                raise GitHubError(f"{what}: access refused {who} by {host} (HTTP {status}){hint}")
            raise GitHubError(f"{what}: {host} answered HTTP {status}")

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when the answer is a rate limit, else None."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        if "retry-after" in headers:
            return retry_after(headers["retry-after"], 60.0)
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
        if response.status_code == 429:
            return self._backoff(1)
        return None

    def _send(self, url: str, headers: dict[str, str], limit: int, what: str) -> httpx.Response:
        response = self._http.send(self._http.build_request("GET", url, headers=headers), stream=True)
        try:
            if response.status_code == 200:  # other answers are judged by status and headers
                read_limited(response, limit, what, GitHubError)
            return response
        finally:
            response.close()

    # -- API -------------------------------------------------------------------------------------

    def list_attestations(self, owner: Owner, digest: str) -> list[Listed]:
        """Every attestation the API lists for ``digest`` under ``owner`` (all pages); [] on 404."""
        for path in owner.paths():
            url = f"{self.api_url}/{path}/attestations/{digest}?per_page=100"
            location = f"{self.host}{urlsplit(self.api_url).path}/{path}/attestations/{digest}"
            items = self._pages(url, location, owner, digest)
            if items is not None:
                return items
        return []

    def _pages(self, url: str, location: str, owner: Owner, digest: str) -> list[Listed] | None:
        out: list[Listed] = []
        what = f"GitHub attestations of {digest} in {owner}"
        for page in range(1, MAX_PAGES + 1):
            response = self.get(url, what=what, limit=self.max_listing)
            if response.status_code == 404:
                if page == 1:
                    return None
                raise GitHubError(f"{what}: page {page} answered HTTP 404")
            try:
                document = jsonio.load_object(response.content)
            except jsonio.JSONError as exc:
                raise GitHubError(f"{what}: the API answered with malformed JSON: {exc}") from None
            items = document.get("attestations")
            if not isinstance(items, list):
                raise GitHubError(f"{what}: the API answer has no 'attestations' list")
            for item in items:
                if not isinstance(item, dict):
                    raise GitHubError(f"{what}: an entry of the 'attestations' list is not an object")
                bundle_url = item.get("bundle_url")
                repository_id = item.get("repository_id")
                out.append(
                    Listed(
                        subject=digest,
                        owner=owner,
                        location=location,
                        position=len(out),
                        bundle=item.get("bundle"),
                        bundle_url=bundle_url if isinstance(bundle_url, str) and bundle_url else None,
                        repository_id=repository_id if isinstance(repository_id, int) else None,
                    )
                )
            link = next_link(response.headers.get("link"))
            if not link:
                return out
            link = _join(url, link, what)
            if not self._same_origin(link):
                raise GitHubError(f"{what}: the next page is on another host ({urlsplit(link).netloc})")
            url = link
        raise GitHubError(f"{what}: more than {MAX_PAGES} pages")

    def get_bundle_url(self, url: str, what: str) -> bytes:
        """The (compressed) body behind a ``bundle_url``; 404 is a fault here."""
        response = self.get(url, what=what, limit=self.max_bundle, accept="application/x-snappy, */*")
        if response.status_code == 404:
            raise GitHubError(f"{what}: bundle_url answered HTTP 404")
        return response.content


def _join(base: str, link: str, what: str) -> str:
    """A ``Location`` or ``Link`` URL resolved against ``base``; malformed ones are GitHubError."""
    try:
        url = urljoin(base, link)
        urlsplit(url).port  # noqa: B018 - raises ValueError for a malformed host or port
    except ValueError:
        raise GitHubError(f"{what}: malformed URL {link[:120]!r}") from None
    return url


def _check_scheme(url: str, what: str) -> None:
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise GitHubError(f"{what}: malformed URL {url[:200]!r}") from None
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.netloc)):
        return
    raise GitHubError(f"{what}: refusing {parts.scheme or 'a relative'} URL on {parts.netloc or url!r}")


def _predicate_type(bundle: Any) -> str | None:
    """The predicate type a bundle's DSSE payload names (best effort, for display)."""
    try:
        envelope = bundle["dsseEnvelope"]
        statement = jsonio.load_object(base64.b64decode(envelope["payload"]))
        value = statement["predicateType"]
    except (KeyError, TypeError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _media_type(bundle: Any) -> str:
    from slsalint.envelopes import BUNDLE_MEDIA_TYPES

    value = bundle.get("mediaType") if isinstance(bundle, dict) else None
    return value if isinstance(value, str) and value in BUNDLE_MEDIA_TYPES else DEFAULT_BUNDLE_TYPE


def read_github(
    settings: GitHubSettings,
    collected: Collected,
    digests: list[str] | None = None,
    *,
    client: GitHubClient | None = None,
    workers: int = 8,
    budget: Budget | None = None,
    limits: Limits | None = None,
) -> list[GitHubBundle]:
    """Ask the API about every digest of ``collected`` (index, then platforms) under every owner,
    and file the bundles as evidence. Returns the bundles (``slsalint fetch`` stores them).

    Raises GitHubError for network and API faults; malformed bundles become problems (SL105)."""
    if digests is None:
        digests = ([collected.index_digest] if collected.is_index and collected.index_digest else []) + [
            d for d, _ in collected.platforms if d
        ]
    digests = [d for d in dict.fromkeys(digests) if is_digest(d)]
    own = client is None
    active = client or GitHubClient(settings, budget=budget, limits=limits)
    try:
        jobs = [(owner, digest) for owner in settings.owners for digest in digests]
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs) or 1))) as pool:
            listings = [
                pool.submit(_capture, partial(active.list_attestations, owner, digest))
                for owner, digest in jobs
            ]
            listed: list[Listed] = []
            for future in listings:
                result = future.result()
                if isinstance(result, Exception):
                    raise result
                listed += result
            fetched = [
                pool.submit(
                    _capture,
                    partial(
                        active.get_bundle_url,
                        str(item.bundle_url),
                        f"GitHub attestation bundle of {item.subject} in {item.owner}",
                    ),
                )
                if item.bundle is None and item.bundle_url
                else None
                for item in listed
            ]
            bodies = [f.result() if f is not None else None for f in fetched]
    finally:
        if own:
            active.close()
    bundles: list[GitHubBundle] = []
    seen: set[str] = set()
    for item, body in zip(listed, bodies, strict=True):
        if isinstance(body, Exception):
            raise body
        source = EvidenceSource(SOURCE_KIND, item.location)
        if item.bundle is not None:
            document = item.bundle
            data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        elif body is not None:
            try:
                data = decompress(body, max_size=active.max_bundle)
            except SnappyError as exc:
                collected.problems.append(
                    (source, f"attestation {item.position + 1}: bundle_url body: {exc}", item.subject)
                )
                continue
            try:
                document = jsonio.loads(data)
            except jsonio.JSONError:
                document = None
        else:
            collected.problems.append(
                (
                    source,
                    f"attestation {item.position + 1} has neither a bundle nor a bundle_url",
                    item.subject,
                )
            )
            continue
        bundle = GitHubBundle(
            subject=item.subject,
            owner=item.owner,
            data=data,
            media_type=_media_type(document),
            location=item.location,
            predicate_type=_predicate_type(document),
            repository_id=item.repository_id,
        )
        if bundle.digest in seen:
            continue
        seen.add(bundle.digest)
        bundles.append(bundle)
        add_bundle(collected, bundle)
    return bundles


def add_bundle(collected: Collected, bundle: GitHubBundle) -> None:
    """File one bundle as evidence (and as a node of the ``explain`` tree)."""
    annotations = {PREDICATE_TYPE_ANNOTATION: bundle.predicate_type} if bundle.predicate_type else {}
    layer = Descriptor(bundle.media_type, bundle.digest, len(bundle.data), annotations=annotations)
    source = EvidenceSource(SOURCE_KIND, bundle.location, bundle.digest)
    collected.nodes.append(
        ManifestNode(
            kind=SOURCE_KIND,
            digest=bundle.digest,
            media_type=bundle.media_type,
            size=len(bundle.data),
            stored_for=bundle.subject,
            location=bundle.location,
            layers=(LayerNode(bundle.media_type, bundle.digest, len(bundle.data), bundle.predicate_type),),
        )
    )
    collected.add_layer(source, layer, bundle.data, bundle.subject, SOURCE_KIND)


def _capture(func: Callable[[], Any]) -> Any:
    try:
        return func()
    except GitHubError as exc:
        return exc
