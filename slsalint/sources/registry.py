"""A small OCI distribution client on httpx.

What it does and why:

- token auth from ``WWW-Authenticate`` (anonymous or with credentials, one scope per repository),
  and basic auth; credentials are only sent to the registry host they belong to;
- the full ``Accept`` list (OCI and Docker manifests and indexes: registries answer 404, not 406,
  when index types are missing);
- retries with exponential backoff on 429 and 5xx and on connection faults, honouring
  ``Retry-After``; connect and read timeouts;
- redirects (blob storage) followed by hand, never forwarding ``Authorization`` to another host;
- every manifest and blob checked against its digest; sizes bounded while streaming;
- plain HTTP only for loopback hosts or hosts named with ``--insecure-registry``;
- an optional content-addressed cache so digests already seen cost no request.
"""

from __future__ import annotations

import email.utils
import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import httpx

from slsalint.errors import ConfigError, OperationalError
from slsalint.sources.cache import BlobCache
from slsalint.sources.credentials import Credential, lookup
from slsalint.sources.oci import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    is_digest,
)
from slsalint.sources.reference import ImageRef, is_loopback

MANIFEST_ACCEPT = ", ".join(
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_LIST,
        DOCKER_MANIFEST,
        "application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5",
    ]
)
DEFAULT_MAX_MANIFEST = 4 * 1024 * 1024
DEFAULT_MAX_BLOB = 64 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


class RegistryError(OperationalError):
    """The registry could not give an honest answer (exit 3)."""


class NotFound(RegistryError):
    """404: the manifest, blob, tag or API does not exist."""


@dataclass(frozen=True)
class Fetched:
    digest: str
    media_type: str
    data: bytes

    def json(self) -> dict[str, Any]:
        try:
            document = json.loads(self.data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{self.digest} is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise ValueError(f"{self.digest} is not a JSON object")
        return document


@dataclass
class ClientStats:
    requests: int = 0
    blob_requests: int = 0
    manifest_requests: int = 0
    cache_hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    progress: Callable[[int], None] | None = field(default=None, repr=False)

    def count(self, kind: str) -> None:
        with self.lock:
            self.requests += 1
            if kind == "blob":
                self.blob_requests += 1
            elif kind == "manifest":
                self.manifest_requests += 1
            total = self.requests
        if self.progress is not None:
            self.progress(total)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


def retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class HttpClientBase:
    """What the registry and GitHub clients share: an httpx client closed with them, and capped
    exponential backoff between retries."""

    _http: httpx.Client
    backoff: float
    max_retry_wait: float

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * (2 ** (attempt - 1)), self.max_retry_wait))


class LazyTransport(httpx.BaseTransport):
    """A transport built on its first request (thread-safe)."""

    def __init__(self, factory: Callable[[], httpx.BaseTransport]) -> None:
        self._factory = factory
        self._inner: httpx.BaseTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._inner is None:
                self._inner = self._factory()
            inner = self._inner
        return inner.handle_request(request)

    def close(self) -> None:
        with self._lock:
            if self._inner is not None:
                self._inner.close()


def _no_tls() -> ssl.SSLContext:
    """The TLS context of the plain-HTTP transport: it never does TLS, and were it ever asked to,
    verification with no trusted CA fails closed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def read_limited(response: httpx.Response, limit: int, what: str, error: Callable[[str], Exception]) -> None:
    """Read a streamed response body into ``response`` (at most ``limit`` bytes, else ``error``);
    a 2xx body shorter than its Content-Length is a truncated transfer (RemoteProtocolError)."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise error(f"{what}: {declared} bytes, over the {limit}-byte limit")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise error(f"{what}: body over the {limit}-byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    if declared and declared.isdigit() and int(declared) != len(body) and response.status_code < 300:
        raise httpx.RemoteProtocolError("truncated body")
    response._content = body


class RegistryClient(HttpClientBase):
    """One client per run; thread-safe (fetches run concurrently)."""

    def __init__(
        self,
        *,
        insecure: frozenset[str] = frozenset(),
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.25,
        max_retry_wait: float = 30.0,
        max_manifest: int = DEFAULT_MAX_MANIFEST,
        max_blob: int = DEFAULT_MAX_BLOB,
        cache: BlobCache | None = None,
        credentials: Callable[[str], Credential | None] = lookup,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.insecure = insecure
        self.retries = retries
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self.max_manifest = max_manifest
        self.max_blob = max_blob
        self.cache = cache
        self.stats = ClientStats(progress=progress)
        self._credentials = credentials
        self._sleep = sleep
        self._tokens: dict[tuple[str, str], str] = {}
        self._basic: dict[str, Credential] = {}
        self._creds_cache: dict[str, Credential | None] = {}
        self._lock = threading.Lock()
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        mounts: dict[str, httpx.BaseTransport | None] = {}
        if transport is None:
            # Loading the CA bundle costs ~20 ms: a run that only talks plain HTTP (a loopback or
            # --insecure-registry host) never pays it, HTTPS pays it on its first request.
            transport = LazyTransport(lambda: httpx.HTTPTransport(limits=limits))
            mounts["http://"] = LazyTransport(lambda: httpx.HTTPTransport(limits=limits, verify=_no_tls()))
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            limits=limits,
            transport=transport,
            mounts=mounts,
            headers={"User-Agent": "slsalint"},
        )

    # -- URLs and auth -----------------------------------------------------------------------

    def base_url(self, ref: ImageRef) -> str:
        host = ref.api_host
        scheme = "http" if (is_loopback(host) or host in self.insecure) else "https"
        return f"{scheme}://{host}/v2/{ref.repository}"

    def _credential(self, registry: str) -> Credential | None:
        with self._lock:
            if registry in self._creds_cache:
                return self._creds_cache[registry]
        credential = self._credentials(registry)
        with self._lock:
            self._creds_cache[registry] = credential
        return credential

    def _auth_header(self, ref: ImageRef, scope: str) -> dict[str, str]:
        with self._lock:
            token = self._tokens.get((ref.api_host, scope))
            basic = self._basic.get(ref.api_host)
        if token:
            return {"Authorization": f"Bearer {token}"}
        if basic is not None and basic.username is not None:
            return {"Authorization": httpx.BasicAuth(basic.username, basic.secret)._auth_header}
        return {}

    def _authenticate(self, ref: ImageRef, scope: str, challenge: str) -> None:
        scheme, params = parse_challenge(challenge)
        credential = self._credential(ref.registry)
        if scheme == "basic":
            if credential is None or credential.username is None:
                raise RegistryError(
                    f"{ref.name}: authentication required and no credentials found for {ref.registry}"
                )
            with self._lock:
                self._basic[ref.api_host] = credential
            return
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"{ref.name}: unsupported authentication challenge {scheme!r}")
        realm = params["realm"]
        realm_parts = urlsplit(realm)
        if realm_parts.scheme not in ("https", "http"):
            raise RegistryError(f"{ref.name}: token realm {realm!r} is not an HTTP URL")
        if realm_parts.scheme == "http" and not (
            is_loopback(realm_parts.netloc) or realm_parts.netloc in self.insecure
        ):
            raise RegistryError(f"{ref.name}: refusing plain-HTTP token realm {realm!r}")
        query: list[tuple[str, str | int | float | bool | None]] = []
        if params.get("service"):
            query.append(("service", params["service"]))
        query.append(("scope", params.get("scope") or scope))
        auth: httpx.BasicAuth | None = None
        if credential is not None:
            if credential.is_identity_token:
                query += [("grant_type", "refresh_token"), ("refresh_token", credential.secret)]
            else:
                auth = httpx.BasicAuth(credential.username or "", credential.secret)
        try:
            response = (
                self._http.get(realm, params=query, auth=auth)
                if auth
                else self._http.get(realm, params=query)
            )
        except httpx.TimeoutException:
            raise RegistryError(f"{ref.name}: timed out getting a token from {realm_parts.netloc}") from None
        except httpx.TransportError as exc:
            raise RegistryError(
                f"{ref.name}: cannot reach token service {realm_parts.netloc}: {transport_reason(exc)}"
            ) from None
        self.stats.count("token")
        if response.status_code in (401, 403):
            who = "with the configured credentials" if credential else "anonymously"
            raise RegistryError(
                f"{ref.name}: token service refused access {who} (HTTP {response.status_code})"
            )
        if response.status_code != 200:
            raise RegistryError(f"{ref.name}: token service answered HTTP {response.status_code}")
        try:
            body = response.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{ref.name}: token service returned no token")
        with self._lock:
            self._tokens[(ref.api_host, scope)] = token

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        ref: ImageRef,
        path: str,
        *,
        kind: str,
        headers: dict[str, str] | None = None,
        limit: int,
        method: str = "GET",
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """GET a registry URL with auth, retries and redirects; the body is read up to ``limit``."""
        url = f"{self.base_url(ref)}{path}"
        if params:
            url = str(httpx.URL(url, params=params))
        scope = f"repository:{ref.repository}:pull"
        authed_once = False
        attempt = 0
        origin = urlsplit(url).netloc
        while True:
            attempt += 1
            current = url
            hops = 0
            try:
                while True:
                    send_headers = dict(headers or {})
                    if urlsplit(current).netloc == origin:
                        send_headers.update(self._auth_header(ref, scope))
                    self.stats.count(kind)
                    response = self._send(method, current, send_headers, limit)
                    if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                        hops += 1
                        if hops > 5:
                            raise RegistryError(f"{ref.name}: too many redirects for {path}")
                        current = urljoin(current, response.headers["location"])
                        target = urlsplit(current)
                        if target.scheme == "http" and not (
                            is_loopback(target.netloc) or target.netloc in self.insecure
                        ):
                            raise RegistryError(
                                f"{ref.name}: refusing redirect to plain HTTP {target.netloc}"
                            )
                        continue
                    break
            except httpx.TimeoutException:
                if attempt <= self.retries:
                    self._sleep(self._backoff(attempt))
                    continue
                raise RegistryError(f"{ref.name}: timed out talking to {ref.api_host}") from None
            except httpx.TransportError as exc:
                # A refused connection is retried once; a broken transfer as often as a 5xx.
                if attempt <= (min(self.retries, 1) if isinstance(exc, httpx.ConnectError) else self.retries):
                    self._sleep(self._backoff(attempt))
                    continue
                raise RegistryError(
                    f"{ref.name}: cannot reach {ref.api_host}: {transport_reason(exc)}"
                ) from None
            status = response.status_code
            if status == 401 and not authed_once and "www-authenticate" in response.headers:
                authed_once = True
                self._authenticate(ref, scope, response.headers["www-authenticate"])
                attempt -= 1
                continue
            if status in RETRY_STATUSES and attempt <= self.retries:
                wait = retry_after(response.headers.get("retry-after"), self._backoff(attempt))
                self._sleep(min(wait, self.max_retry_wait))
                continue
            if status in (401, 403):
                raise RegistryError(
                    f"{ref.name}: access refused by {ref.api_host} (HTTP {status})"
                    + ("" if self._credential(ref.registry) else "; no credentials configured for it")
                )
            if status == 404:
                raise NotFound(f"{ref.name}: {path.rsplit('/', 1)[-1]} not found (HTTP 404)")
            if status == 429:
                raise RegistryError(
                    f"{ref.name}: rate limited by {ref.api_host} (HTTP 429), retries exhausted"
                )
            if status >= 400:
                raise RegistryError(f"{ref.name}: {ref.api_host} answered HTTP {status} for {path}")
            return response

    def _send(self, method: str, url: str, headers: dict[str, str], limit: int) -> httpx.Response:
        request = self._http.build_request(method, url, headers=headers)
        response = self._http.send(request, stream=True)
        try:
            if response.status_code in (301, 302, 303, 307, 308) or method == "HEAD":
                response.read()
                return response
            read_limited(response, limit, urlsplit(url).path, RegistryError)
            return response
        finally:
            response.close()

    # -- API -----------------------------------------------------------------------------------

    def get_manifest(self, ref: ImageRef, reference: str) -> Fetched:
        """A manifest or index by tag or digest, verified against its digest."""
        by_digest = is_digest(reference)
        if by_digest and self.cache is not None:
            cached = self.cache.get(reference)
            if cached is not None:
                self.stats.cache_hits += 1
                return Fetched(reference, _media_type(cached, ""), cached)
        response = self.request(
            ref,
            f"/manifests/{reference}",
            kind="manifest",
            headers={"Accept": MANIFEST_ACCEPT},
            limit=self.max_manifest,
        )
        data = response.content
        header_digest = response.headers.get("docker-content-digest")
        if by_digest:
            actual = digest_of(data, reference.split(":")[0])
            if actual != reference:
                raise RegistryError(
                    f"{ref.name}@{reference}: manifest digest mismatch: content hashes to {actual}"
                )
            digest = reference
        else:
            digest = digest_of(data)
            if (
                header_digest
                and is_digest(header_digest)
                and header_digest.startswith("sha256:")
                and header_digest != digest
            ):
                raise RegistryError(
                    f"{ref.name}:{reference}: manifest digest mismatch: registry says {header_digest}, "
                    f"content hashes to {digest}"
                )
        media_type = _media_type(data, response.headers.get("content-type", ""))
        if self.cache is not None:
            self.cache.put(digest, data)
        return Fetched(digest, media_type, data)

    def get_blob(self, ref: ImageRef, digest: str, size: int | None = None) -> bytes:
        if not is_digest(digest):
            raise RegistryError(f"{ref.name}: malformed blob digest {digest!r}")
        if self.cache is not None:
            cached = self.cache.get(digest)
            if cached is not None:
                self.stats.cache_hits += 1
                return cached
        limit = self.max_blob if size is None else min(self.max_blob, size)
        if size is not None and size > self.max_blob:
            raise RegistryError(
                f"{ref.name}: blob {digest} is {size} bytes, over the {self.max_blob}-byte limit"
            )
        response = self.request(ref, f"/blobs/{digest}", kind="blob", limit=limit)
        data = response.content
        actual = digest_of(data, digest.split(":")[0])
        if actual != digest:
            raise RegistryError(f"{ref.name}: blob {digest} digest mismatch: content hashes to {actual}")
        if size is not None and len(data) != size:
            raise RegistryError(f"{ref.name}: blob {digest} is {len(data)} bytes, descriptor says {size}")
        if self.cache is not None:
            self.cache.put(digest, data)
        return data

    def list_tags(self, ref: ImageRef, limit: int = 100) -> list[str]:
        """Up to ``limit`` tags of the repository (first page only)."""
        response = self.request(
            ref, "/tags/list", kind="tags", limit=self.max_manifest, params={"n": str(limit)}
        )
        try:
            tags = json.loads(response.content).get("tags") or []
        except (ValueError, AttributeError, UnicodeDecodeError):
            raise RegistryError(f"{ref.name}: malformed tag list") from None
        return [t for t in tags if isinstance(t, str)][:limit]

    def tag_exists(self, ref: ImageRef, tag: str) -> Fetched | None:
        """The manifest behind ``tag``, or None when the tag does not exist."""
        try:
            return self.get_manifest(ref, tag)
        except NotFound:
            return None

    def referrers(
        self, ref: ImageRef, digest: str, artifact_type: str | None = None
    ) -> list[dict[str, Any]] | None:
        """The referrers of ``digest`` (all pages), or None when the registry has no referrers API."""
        params = {"artifactType": artifact_type} if artifact_type else None
        path = f"/referrers/{digest}"
        out: list[dict[str, Any]] = []
        pages = 0
        while True:
            pages += 1
            if pages > 50:
                raise RegistryError(f"{ref.name}: referrers listing of {digest} has more than 50 pages")
            try:
                response = self.request(
                    ref,
                    path,
                    kind="referrers",
                    headers={"Accept": OCI_INDEX},
                    limit=self.max_manifest,
                    params=params,
                )
            except NotFound:
                if pages == 1:
                    return None
                raise
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            if (
                content_type
                and content_type != OCI_INDEX
                and pages == 1
                and content_type != "application/json"
            ):
                return None
            try:
                document = json.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                raise RegistryError(
                    f"{ref.name}: referrers response for {digest} is not valid JSON"
                ) from None
            manifests = document.get("manifests") if isinstance(document, dict) else None
            if not isinstance(manifests, list):
                raise RegistryError(f"{ref.name}: referrers response for {digest} has no manifests list")
            filtered = "artifactType" in response.headers.get("oci-filters-applied", "")
            for item in manifests:
                if not isinstance(item, dict):
                    continue
                if artifact_type and not filtered and item.get("artifactType") != artifact_type:
                    continue
                out.append(item)
            link = next_link(response.headers.get("link"))
            if not link:
                return out
            parts = urlsplit(link)
            path = parts.path.split(f"/v2/{ref.repository}", 1)[-1]
            params = dict(httpx.QueryParams(parts.query)) or None


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (RFC 8288), or None."""
    if not header:
        return None
    for part in header.split(","):
        match = re.match(r'\s*<([^>]*)>\s*;(?:[^,]*;)?\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


def _media_type(data: bytes, header: str) -> str:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict) and isinstance(document.get("mediaType"), str):
        return str(document["mediaType"])
    header = header.split(";")[0].strip()
    if header:
        return header
    if isinstance(document, dict) and "manifests" in document:
        return OCI_INDEX
    return OCI_MANIFEST


def transport_reason(exc: Exception) -> str:
    """One short line saying why a transfer failed."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def insecure_hosts(values: list[str]) -> frozenset[str]:
    for value in values:
        if not value or "/" in value:
            raise ConfigError(f"--insecure-registry {value!r}: expected a host or host:port")
    return frozenset(values)


# -- pushing ------------------------------------------------------------------------------------
# Additive: the write half of the distribution API (blob upload, manifest PUT) with a push-scoped
# token. Kept apart from ``RegistryClient.request`` (the read path) so the two evolve separately.


@dataclass(frozen=True)
class Pushed:
    """What a manifest PUT answered."""

    digest: str
    subject: str | None
    """The ``OCI-Subject`` header: set when the registry indexed the manifest's subject (it has
    the referrers API); None means the client must maintain the ``sha256-HEX`` fallback tag."""


_WRITE_RESPONSE_LIMIT = 64 * 1024


def _push_scope(ref: ImageRef) -> str:
    return f"repository:{ref.repository}:pull,push"


def _write(
    client: RegistryClient,
    ref: ImageRef,
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    ok: tuple[int, ...],
) -> httpx.Response:
    """One write request with push-scoped auth, retried on 429/5xx and transport faults (callers
    only send requests that are safe to repeat). Authorization goes to the registry host only."""
    scope = _push_scope(ref)
    origin = urlsplit(client.base_url(ref)).netloc
    authed = False
    attempt = 0
    while True:
        attempt += 1
        send = dict(headers or {})
        if urlsplit(url).netloc == origin:
            send.update(client._auth_header(ref, scope))
        client.stats.count("push")
        try:
            request = client._http.build_request(method, url, headers=send, content=body)
            response = client._http.send(request, stream=True)
            try:
                if method == "HEAD":
                    response.read()
                else:
                    read_limited(response, _WRITE_RESPONSE_LIMIT, urlsplit(url).path, RegistryError)
            finally:
                response.close()
        except httpx.TimeoutException:
            if attempt <= client.retries:
                client._sleep(client._backoff(attempt))
                continue
            raise RegistryError(f"{ref.name}: timed out pushing to {ref.api_host}") from None
        except httpx.TransportError as exc:
            if attempt <= client.retries:
                client._sleep(client._backoff(attempt))
                continue
            raise RegistryError(f"{ref.name}: cannot reach {ref.api_host}: {transport_reason(exc)}") from None
        status = response.status_code
        if status == 401 and not authed and "www-authenticate" in response.headers:
            authed = True
            client._authenticate(ref, scope, response.headers["www-authenticate"])
            attempt -= 1
            continue
        if status in RETRY_STATUSES and attempt <= client.retries:
            wait = retry_after(response.headers.get("retry-after"), client._backoff(attempt))
            client._sleep(min(wait, client.max_retry_wait))
            continue
        if status in ok:
            return response
        if status in (401, 403):
            raise RegistryError(
                f"{ref.name}: {ref.api_host} refused to let us push (HTTP {status})"
                + ("" if client._credential(ref.registry) else "; no credentials configured for it")
            )
        if status == 404 and method == "HEAD":
            return response
        raise RegistryError(
            f"{ref.name}: {ref.api_host} answered HTTP {status} to {method} {urlsplit(url).path}"
            + _error_detail(response)
        )


def _error_detail(response: httpx.Response) -> str:
    try:
        errors = json.loads(response.content).get("errors") or []
        first = errors[0]
        return f" ({first.get('code')}: {str(first.get('message'))[:120]})"
    except (ValueError, AttributeError, IndexError, TypeError, UnicodeDecodeError):
        return ""


def blob_exists(client: RegistryClient, ref: ImageRef, digest: str) -> bool:
    response = _write(client, ref, "HEAD", f"{client.base_url(ref)}/blobs/{digest}", ok=(200, 307))
    return response.status_code in (200, 307)


def push_blob(client: RegistryClient, ref: ImageRef, data: bytes) -> str:
    """Upload ``data`` (monolithic: POST, then PUT with the digest) unless the repository has it."""
    digest = digest_of(data)
    if len(data) > client.max_blob:
        raise RegistryError(f"{ref.name}: blob of {len(data)} bytes is over the {client.max_blob}-byte limit")
    if blob_exists(client, ref, digest):
        return digest
    start = _write(client, ref, "POST", f"{client.base_url(ref)}/blobs/uploads/", ok=(202,))
    location = start.headers.get("location")
    if not location:
        raise RegistryError(f"{ref.name}: blob upload started without a Location header")
    target = urljoin(f"{client.base_url(ref)}/blobs/uploads/", location)
    parts = urlsplit(target)
    if parts.scheme == "http" and not (is_loopback(parts.netloc) or parts.netloc in client.insecure):
        raise RegistryError(f"{ref.name}: refusing blob upload to plain HTTP {parts.netloc}")
    url = str(httpx.URL(target).copy_merge_params({"digest": digest}))
    done = _write(
        client,
        ref,
        "PUT",
        url,
        body=data,
        headers={"Content-Type": "application/octet-stream"},
        ok=(201, 204),
    )
    answered = done.headers.get("docker-content-digest")
    if answered and answered != digest:
        raise RegistryError(f"{ref.name}: registry stored blob {digest} as {answered}")
    return digest


def push_manifest(
    client: RegistryClient, ref: ImageRef, data: bytes, media_type: str, reference: str | None = None
) -> Pushed:
    """PUT a manifest by tag or (default) by its digest."""
    digest = digest_of(data)
    if len(data) > client.max_manifest:
        raise RegistryError(f"{ref.name}: manifest of {len(data)} bytes is over the limit")
    response = _write(
        client,
        ref,
        "PUT",
        f"{client.base_url(ref)}/manifests/{reference or digest}",
        body=data,
        headers={"Content-Type": media_type},
        ok=(201, 200),
    )
    answered = response.headers.get("docker-content-digest")
    if answered and answered != digest:
        raise RegistryError(f"{ref.name}: registry stored manifest {digest} as {answered}")
    if client.cache is not None:
        client.cache.put(digest, data)
    return Pushed(digest, response.headers.get("oci-subject"))
