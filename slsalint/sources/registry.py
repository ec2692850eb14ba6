"""A small OCI distribution client on httpx.

What it does and why:

- token auth from ``WWW-Authenticate`` (anonymous or with credentials, one scope per repository),
  and basic auth. Credentials go only to the registry host, and to a token service on another host
  only when it is the registry's known token service (Docker Hub's ``auth.docker.io``, ...) or the
  user's credentials file names that host; an identity (refresh) token is sent in a POST form body
  (the distribution token spec's OAuth2 form), never in a URL;
- the full ``Accept`` list (OCI and Docker manifests and indexes: registries answer 404, not 406,
  when index types are missing);
- bounded time: every request has an overall deadline (body included: a server that drips one
  byte a second hits it), retries after 429, 5xx and broken connections stop when the request's
  retry budget or the run's ``--timeout`` would be passed, honouring ``Retry-After`` within them;
- redirects (blob storage) followed by hand, never forwarding ``Authorization`` to another host;
  malformed ``Location`` and ``Link`` URLs are answers that cannot be used, not crashes;
- every manifest and blob checked against its digest and its descriptor's size; sizes bounded
  while streaming; every JSON answer parsed strictly (``slsalint.jsonio``) and shape-checked;
- plain HTTP only for loopback hosts or hosts named with ``--insecure-registry``;
- an optional content-addressed cache so digests already seen cost no request.

Errors: ``RegistryError`` (exit 3) when the registry gave no usable answer (unreachable, timeout,
refused, retries exhausted, a transfer cut short); its subclass ``BadContent`` when bytes arrived
and are broken (digest or size mismatch, malformed JSON, over a size limit), which the collectors
report as SL105 for evidence; ``NotFound`` for 404.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import httpx

from slsalint import jsonio
from slsalint.errors import ConfigError, OperationalError
from slsalint.sources.cache import BlobCache
from slsalint.sources.credentials import Credential, lookup, names_host
from slsalint.sources.deadline import Budget, deadline, earliest, remaining
from slsalint.sources.fanout import FanOut, Follow, Prefetch
from slsalint.sources.http1 import message_of, read_whole
from slsalint.sources.limits import Limits
from slsalint.sources.mediatypes import MANIFEST_ACCEPT
from slsalint.sources.network import NetworkTransport, ProxySettings
from slsalint.sources.network import transport as network_transport
from slsalint.sources.oci import (
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Document,
    DocumentError,
    digest_of,
    is_digest,
    parse_document,
    truncation_hint,
)
from slsalint.sources.pool import RequestPool
from slsalint.sources.presend import Presend
from slsalint.sources.reference import DOCKER_HUB, ImageRef, api_base, is_loopback, redact

ENCODING_OVERHEAD = 1024
"""Bytes an encoded (gzip) body may have beyond the size limit of what it decodes to."""
DEFAULT_MAX_MANIFEST = Limits().manifest_size
DEFAULT_MAX_BLOB = Limits().blob_size
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TOKEN = re.compile(r"[\x21-\x7e]+")
"""A bearer token as it may be sent back: visible ASCII (RFC 6750's b64token, loosely)."""
MAX_TOKEN = 64 * 1024
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
KNOWN_TOKEN_SERVICES: dict[str, frozenset[str]] = {
    DOCKER_HUB: frozenset({"auth.docker.io"}),
    "registry.gitlab.com": frozenset({"gitlab.com"}),
    "registry.redhat.io": frozenset({"sso.redhat.com"}),
}
"""Token services on another host than their registry that get the registry's credentials."""


class RegistryError(OperationalError):
    """The registry could not give an honest answer (exit 3). Messages never carry credentials."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class BadContent(RegistryError):
    """Bytes arrived and are broken: digest or size mismatch, malformed JSON, over a size limit."""


class NotFound(RegistryError):
    """404: the manifest, blob, tag or API does not exist."""


@dataclass(frozen=True)
class Fetched:
    digest: str
    media_type: str
    data: bytes

    def document(self, what: str | None = None) -> Document:
        """The manifest or index, shape-checked; raises DocumentError (one line)."""
        return parse_document(self.data, what=what or self.digest)

    def json(self) -> dict[str, Any]:
        """The raw JSON object (strict, bounded parsing), for code that rewrites the document;
        raises ValueError (one line). Readers use ``document()``, which checks the shape."""
        try:
            return jsonio.load_object(self.data)
        except jsonio.JSONError as exc:
            raise ValueError(f"{self.digest}: {exc}") from None


@dataclass
class ClientStats:
    requests: int = 0
    blob_requests: int = 0
    manifest_requests: int = 0
    cache_hits: int = 0
    ahead: int = 0
    """Requests whose answer was taken from one sent ahead (``presend``, ``prefetch``)."""
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
        return float(value[:12])
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return default
    return max(0.0, when.timestamp() - time.time())


class RetryClock:
    """How long one request may still take with its retries: its retry budget, cut short by the
    run's ``--timeout``; each attempt also ends at the per-request deadline."""

    def __init__(self, limits: Limits, budget: Budget | None) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.budget = budget
        self.ends = earliest(self.started + limits.retry_timeout, budget.ends if budget else None)

    def attempt_ends(self) -> float | None:
        return earliest(time.monotonic() + self.limits.request_timeout, self.ends)

    def can_wait(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` leaves time for another attempt."""
        return self.ends is None or time.monotonic() + seconds + 0.05 < self.ends

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def why(self) -> str:
        """What ran out, for messages."""
        if self.budget is not None and self.budget.expired:
            return f"the run's --timeout of {self.budget.seconds:g} s is used up"
        return f"gave up after {self.elapsed:.0f} s (--limit retry-timeout={self.limits.retry_timeout:g})"

    def gave_up(self, attempt: int, retries: int, wait: float, max_wait: float) -> str:
        """Why no further attempt is made, for messages."""
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        if attempt > retries:
            return f"gave up after {tries} in {self.elapsed:.0f} s (--limit retries={retries})"
        if wait > max_wait:
            return f"gave up after {tries}: waits over {max_wait:g} s are not made"
        if (
            self.budget is not None
            and self.budget.ends is not None
            and time.monotonic() + wait >= self.budget.ends
        ):
            return (
                f"gave up after {tries}: waiting would pass the run's --timeout of {self.budget.seconds:g} s"
            )
        return (
            f"gave up after {tries} in {self.elapsed:.0f} s: waiting would pass the retry budget "
            f"(--limit retry-timeout={self.limits.retry_timeout:g})"
        )


class HttpClientBase:
    """What the registry and GitHub clients share: an httpx client closed with them, capped
    exponential backoff between retries, and the run's time budget."""

    _http: httpx.Client
    backoff: float
    max_retry_wait: float
    limits: Limits
    budget: Budget | None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * (2 ** (attempt - 1)), self.max_retry_wait))

    def _clock(self) -> RetryClock:
        return RetryClock(self.limits, self.budget)

    def _timeout(self) -> httpx.Timeout:
        limits = self.limits
        return httpx.Timeout(
            limits.read_timeout,
            connect=limits.connect_timeout,
            read=limits.read_timeout,
            write=limits.read_timeout,
            pool=limits.request_timeout,
        )


def read_limited(
    response: httpx.Response,
    limit: int,
    what: str,
    error: Callable[[str], Exception],
    *,
    expected_size: int | None = None,
) -> None:
    """Read a streamed 2xx body into ``response``: at most ``limit`` bytes (else ``error``).

    A body shorter than its Content-Length is a truncated transfer, and a Content-Length other than
    the descriptor's size (``expected_size``; of a body sent without a Content-Encoding) a broken
    one: both raise ``httpx.RemoteProtocolError`` (retried like any broken connection). A body
    sent with a Content-Encoding is decoded here, at most ``limit`` bytes of it whatever it
    expands to, and only ``gzip`` or ``deflate`` once: other codings, layered codings, a body that
    does not decode or has bytes after its end are ``error``."""
    raw = response.headers.get("content-length")
    declared = int(raw) if raw and raw.isdigit() and len(raw) < 20 else None
    codings = [
        c.strip().lower()
        for c in response.headers.get("content-encoding", "").split(",")
        if c.strip().lower() not in ("", "identity")
    ]
    if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
        raise error(f"{what}: unsupported Content-Encoding {', '.join(codings)[:60]!r}")
    decoder = None
    if codings:
        decoder = zlib.decompressobj(zlib.MAX_WBITS | (16 if "gzip" in codings[0] else 0))
    # The bytes sent: the limit, with room for an encoding's own overhead on a tiny body.
    sent_limit = limit if decoder is None else limit + ENCODING_OVERHEAD
    if declared is not None and declared > sent_limit:
        raise error(f"{what}: {declared} bytes, over the {limit}-byte limit")
    if declared is not None and expected_size is not None and declared != expected_size and decoder is None:
        kind = "short" if declared < expected_size else "long"
        raise httpx.RemoteProtocolError(
            f"{kind} Content-Length: the answer announces {declared} bytes, "
            f"the descriptor says {expected_size}"
        )
    chunks: list[bytes] = []
    sent = 0
    total = 0
    if response.is_stream_consumed:  # read already, and decoded, by whoever made it (a test transport)
        pieces: Iterable[bytes] = [response.content]
        decoder = None
        sent_limit = limit
    else:
        pieces = response.iter_raw()
    for piece in pieces:
        sent += len(piece)
        if sent > sent_limit:
            raise error(f"{what}: body over the {limit}-byte limit")
        if decoder is not None:
            try:
                piece = decoder.decompress(piece, limit + 1 - total)
            except zlib.error:
                raise error(f"{what}: the body is not valid {codings[0]!r} content") from None
            if decoder.unconsumed_tail:
                raise error(f"{what}: body over the {limit}-byte limit")
        total += len(piece)
        if total > limit:
            raise error(f"{what}: body over the {limit}-byte limit")
        chunks.append(piece)
        left = remaining()
        if left is not None and left <= 0:  # also when a transport other than ours carries it
            raise httpx.ReadTimeout("the request's deadline passed while the body was arriving")
    if decoder is not None and (not decoder.eof or decoder.unused_data):
        raise error(f"{what}: the body is not valid {codings[0]!r} content")
    body = b"".join(chunks)
    if declared is not None and declared != sent:
        raise httpx.RemoteProtocolError(f"truncated body: {sent} of the {declared} bytes announced arrived")
    response._content = body


def checked_url(base: str, link: str, what: str) -> str:
    """``link`` resolved against ``base``; a malformed URL (``http://[bad``) is BadContent."""
    try:
        url = urljoin(base, link)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
        httpx.URL(url)
    except (ValueError, TypeError, httpx.InvalidURL):
        raise BadContent(f"{what}: malformed URL {link[:120]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadContent(f"{what}: unusable URL {link[:120]!r}")
    return url


def host_of(netloc: str) -> str:
    """The host name (lower case) of ``host[:port]``."""
    return (urlsplit(f"//{netloc}").hostname or netloc).lower()


_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._~:/-]*")
JUDGE_THREADS = 4
"""Threads that judge answers sent for ahead and already in (``RegistryClient.judges``)."""
PREFETCH_ITEM = 4 * 1024 * 1024
"""The largest answer sent for ahead (larger content is asked for by its request thread)."""
PREFETCH_HELD = 64 * 1024 * 1024
"""Bytes of answers sent for ahead and not taken yet, at most; past that nothing more is."""


class RegistryClient(HttpClientBase):
    """One client per run; thread-safe (fetches run concurrently)."""

    def __init__(
        self,
        *,
        insecure: frozenset[str] = frozenset(),
        limits: Limits | None = None,
        budget: Budget | None = None,
        retries: int | None = None,
        backoff: float = 0.25,
        max_retry_wait: float = 30.0,
        cache: BlobCache | None = None,
        credentials: Callable[[str], Credential | None] = lookup,
        trusted_host: Callable[[str], bool] = names_host,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int], None] | None = None,
        registry_ca: tuple[bytes, ...] = (),
        fanout: bool = True,
    ) -> None:
        limits = limits or Limits()
        if retries is not None:
            limits = limits.with_values({"retries": retries})
        self.limits = limits
        self.budget = budget
        self.insecure = insecure
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self.max_manifest = limits.manifest_size
        self.max_blob = limits.blob_size
        self.cache = cache
        self.stats = ClientStats(progress=progress)
        self._credentials = credentials
        self._trusted_host = trusted_host
        self._sleep = sleep
        self._tokens: dict[tuple[str, str], str] = {}
        self._basic: dict[str, Credential] = {}
        self._withheld: set[str] = set()
        self._creds_cache: dict[str, Credential | None] = {}
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._executor: RequestPool | None = None
        self._judges: RequestPool | None = None
        self._early: dict[tuple[str, str, str], Future[Any]] = {}
        self._batch = threading.local()
        self._header_blocks: dict[tuple[str, str, tuple[tuple[str, str], ...]], bytes] = {}
        self._presends: dict[str, list[Presend | Prefetch]] = {}
        """Requests sent ahead (``presend`` before this client loaded, ``prefetch`` by its fan-out
        thread), by URL: each answers, once, the request it is."""
        self.referrers_api: dict[str, bool] = {}
        """Registry host -> whether it answers the OCI referrers API (from its first answer)."""
        # No cap on the pool itself: each host's requests in flight are bounded (``_slot``).
        pool = httpx.Limits(max_connections=None, max_keepalive_connections=limits.connections)
        if transport is None:
            # Proxies and trust from the environment (and --registry-ca), checked now. Loading the
            # CA bundle costs ~20 ms: a run that only talks plain HTTP (a loopback or
            # --insecure-registry host) never pays it, HTTPS pays it on its first request.
            transport = network_transport(pool, extra_ca=registry_ca)
        self.proxies = transport.proxies if isinstance(transport, NetworkTransport) else ProxySettings()
        self._transport = transport
        # Only on the client's own network transport (a transport given, as tests give, sees every
        # request itself); direct routes only (``prefetch``).
        self._fanout = (
            FanOut(
                transport.tls_context,
                self._slot,
                connect_timeout=limits.connect_timeout,
                read_timeout=limits.read_timeout,
                total_timeout=limits.request_timeout,
                max_held=PREFETCH_HELD,
            )
            if fanout and isinstance(transport, NetworkTransport)
            else None
        )
        self._http = httpx.Client(
            timeout=self._timeout(),
            follow_redirects=False,
            limits=pool,
            transport=transport,
            trust_env=False,
            headers={"User-Agent": "slsalint"},
            cookies=_no_cookies(),
        )

    @property
    def retries(self) -> int:
        return self.limits.retries

    def judges(self) -> RequestPool:
        """The few threads that judge answers already in (``fanout``): judging is interpreter
        work, so more threads than this would only take turns, and each one started costs."""
        with self._lock:
            if self._judges is None:
                self._judges = RequestPool(JUDGE_THREADS)
            return self._judges

    def executor(self) -> RequestPool:
        """The client's request threads, shared by every image a run reads at once: a wide index
        gets as many requests in flight as ``limits.connections`` allows, and many images
        together no more."""
        with self._lock:
            if self._executor is None:
                self._executor = RequestPool(self.limits.connections)
            return self._executor

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            judges, self._judges = self._judges, None
        for pool in (executor, judges):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if self._fanout is not None:
            self._fanout.close()
        with self._lock:
            presends, self._presends = self._presends, {}
        for waiting in presends.values():
            for presend in waiting:
                presend.close()
        self.flush_cache()
        super().close()

    def flush_cache(self) -> None:
        """Wait until what was fetched by digest is written to the cache."""
        if self.cache is not None:
            self.cache.flush()

    def note_referrers_api(self, host: str, answers: bool) -> None:
        """Remember whether ``host`` answers the referrers API (the OCI distribution spec: a
        registry that has it never answers 404 there), so later images ask it one way only."""
        with self._lock:
            self.referrers_api.setdefault(host, answers)

    def _slot(self, netloc: str) -> threading.BoundedSemaphore:
        """What bounds the requests in flight to one host (``limits.connections``)."""
        with self._lock:
            slot = self._slots.get(netloc)
            if slot is None:
                slot = self._slots[netloc] = threading.BoundedSemaphore(self.limits.connections)
            return slot

    # -- URLs and auth -----------------------------------------------------------------------

    def base_url(self, ref: ImageRef) -> str:
        return api_base(ref, self.insecure)

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

    def realm_gets_credentials(self, ref: ImageRef, realm_netloc: str) -> bool:
        """Credentials of ``ref``'s registry go to a token service on the registry's own host, on its
        known token service, or on a host the user's credentials file names."""
        realm = host_of(realm_netloc)
        if realm in (host_of(ref.api_host), host_of(ref.registry)):
            return True
        if realm in KNOWN_TOKEN_SERVICES.get(ref.registry, frozenset()):
            return True
        return self._trusted_host(realm) or self._trusted_host(realm_netloc)

    def _authenticate(self, ref: ImageRef, scope: str, challenge: str, clock: RetryClock) -> None:
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
            raise RegistryError(f"{ref.name}: unsupported authentication challenge {scheme[:40]!r}")
        try:
            realm = checked_url(self.base_url(ref), params["realm"], f"{ref.name}: token realm")
        except BadContent as exc:
            raise RegistryError(str(exc)) from None  # no token, no answer at all: exit 3
        realm_parts = urlsplit(realm)
        if realm_parts.username is not None or realm_parts.password is not None:
            raise RegistryError(f"{ref.name}: refusing a token realm that carries credentials")
        if realm_parts.scheme == "http" and not (
            is_loopback(realm_parts.netloc) or realm_parts.netloc in self.insecure
        ):
            raise RegistryError(f"{ref.name}: refusing plain-HTTP token realm {realm_parts.netloc}")
        if credential is not None and not self.realm_gets_credentials(ref, realm_parts.netloc):
            with self._lock:
                self._withheld.add(ref.registry)
            credential = None
        form: dict[str, str] = {}
        if params.get("service"):
            form["service"] = params["service"]
        form["scope"] = params.get("scope") or scope
        method, auth = "GET", None
        if credential is not None and credential.is_identity_token:
            # The distribution token spec's OAuth2 form: the refresh token goes in a POST body.
            method = "POST"
            form.update(grant_type="refresh_token", client_id="slsalint", refresh_token=credential.secret)
        elif credential is not None:
            auth = httpx.BasicAuth(credential.username or "", credential.secret)
        where = f"{ref.name}: token service {realm_parts.hostname}"
        try:
            with deadline(clock.attempt_ends()):
                if method == "POST":
                    request = self._http.build_request("POST", realm, data=form)
                else:
                    request = self._http.build_request("GET", realm, params=form)
                if auth is not None:
                    request.headers["Authorization"] = auth._auth_header
                response = self._http.send(request, stream=True)
                try:
                    if response.status_code == 200:
                        read_limited(response, self.max_manifest, where, BadContent)
                finally:
                    response.close()
        except httpx.TimeoutException:
            raise RegistryError(f"{where}{self.proxies.via(realm)}: timed out") from None
        except httpx.TransportError as exc:
            raise RegistryError(
                f"{where}{self.proxies.via(realm)}: unreachable: {transport_reason(exc)}" + tls_hint(exc)
            ) from None
        self.stats.count("token")
        if response.status_code in (401, 403):
            who = "with the configured credentials" if credential else "anonymously"
            raise RegistryError(
                f"{ref.name}: token service refused access {who} (HTTP {response.status_code})"
                + self._withheld_hint(ref, realm_parts.hostname or "")
            )
        if response.status_code != 200:
            raise RegistryError(f"{ref.name}: token service answered HTTP {response.status_code}")
        try:
            body = jsonio.load_object(response.content)
        except jsonio.JSONError:
            body = {}
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{ref.name}: token service returned no token")
        if len(token) > MAX_TOKEN or not _TOKEN.fullmatch(token):
            # Sent back as a header: a token with spaces, controls or non-ASCII text (RFC 6750
            # allows none) could not be, or would end the header block early. Never echoed.
            raise RegistryError(f"{ref.name}: token service returned a malformed token")
        with self._lock:
            self._tokens[(ref.api_host, scope)] = token

    def _withheld_hint(self, ref: ImageRef, realm_host: str) -> str:
        with self._lock:
            withheld = ref.registry in self._withheld
        if not withheld:
            return ""
        return (
            f"; the credentials for {ref.registry} were not sent to {realm_host}, another host (name "
            f"{realm_host} in your credentials file to allow it)"
        )

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
        expected_size: int | None = None,
    ) -> httpx.Response:
        """GET a registry URL with auth, retries and redirects; a 2xx body is read up to ``limit``
        (and must be ``expected_size`` bytes when given). Everything ends at the retry budget."""
        url = f"{self.base_url(ref)}{path}"
        if params:
            url = str(httpx.URL(url, params=params))
        scope = f"repository:{ref.repository}:pull"
        authed_once = False
        attempt = 0
        clock = self._clock()
        origin = urlsplit(url).netloc
        host = ref.api_host
        while True:
            attempt += 1
            if clock.ends is not None and time.monotonic() >= clock.ends:
                raise RegistryError(f"{ref.name}: no answer from {host} for {path}: {clock.why()}")
            try:
                with deadline(clock.attempt_ends()):
                    response = self._follow(
                        ref, url, origin, scope, method, headers, limit, expected_size, kind
                    )
            except httpx.TimeoutException:
                wait = self._backoff(attempt)
                if attempt <= self.retries and clock.can_wait(wait):
                    self._sleep(wait)
                    continue
                raise RegistryError(
                    f"{ref.name}: timed out talking to {host}{self.proxies.via(url)} for {path}; "
                    f"{clock.gave_up(attempt, self.retries, wait, self.max_retry_wait)}"
                ) from None
            except httpx.TransportError as exc:
                # A refused connection is retried once; a broken transfer as often as a 5xx.
                tries = min(self.retries, 1) if isinstance(exc, httpx.ConnectError) else self.retries
                wait = self._backoff(attempt)
                if attempt <= tries and clock.can_wait(wait):
                    self._sleep(wait)
                    continue
                if isinstance(exc, httpx.ConnectError):
                    raise RegistryError(
                        f"{ref.name}: cannot reach {host}{self.proxies.via(url)}: {transport_reason(exc)}"
                        + tls_hint(exc)
                    ) from None
                raise RegistryError(
                    f"{ref.name}: transfer of {path} from {host}{self.proxies.via(url)} failed: "
                    f"{transport_reason(exc)}; "
                    f"{clock.gave_up(attempt, tries, wait, self.max_retry_wait)}"
                ) from None
            status = response.status_code
            if status == 401 and not authed_once and "www-authenticate" in response.headers:
                authed_once = True
                self._authenticate(ref, scope, response.headers["www-authenticate"], clock)
                attempt -= 1
                continue
            if status in RETRY_STATUSES:
                wait = min(retry_after(response.headers.get("retry-after"), self._backoff(attempt)), 86400.0)
                if attempt <= self.retries and wait <= self.max_retry_wait and clock.can_wait(wait):
                    self._sleep(wait)
                    continue
                what = "rate limited by" if status == 429 else f"HTTP {status} from"
                asks = f", which asks to wait {wait:.0f} s" if "retry-after" in response.headers else ""
                raise RegistryError(
                    f"{ref.name}: {what} {host} for {path}{asks}; "
                    f"{clock.gave_up(attempt, self.retries, wait, self.max_retry_wait)}"
                )
            if status in (401, 403):
                raise RegistryError(
                    f"{ref.name}: access refused by {host} (HTTP {status})"
                    + ("" if self._credential(ref.registry) else "; no credentials configured for it")
                    + self._withheld_hint(ref, "the token service")
                )
            if status == 404:
                raise NotFound(f"{ref.name}: {path.rsplit('/', 1)[-1]} not found (HTTP 404)")
            if not 200 <= status < 300:
                raise RegistryError(f"{ref.name}: {host} answered HTTP {status} for {path}")
            return response

    def _follow(
        self,
        ref: ImageRef,
        url: str,
        origin: str,
        scope: str,
        method: str,
        headers: dict[str, str] | None,
        limit: int,
        expected_size: int | None,
        kind: str,
    ) -> httpx.Response:
        """One attempt: the request and its redirects (Authorization only on the registry host)."""
        current = url
        for _hop in range(6):
            send_headers = dict(headers or {})
            if urlsplit(current).netloc == origin:
                send_headers.update(self._auth_header(ref, scope))
            self.stats.count(kind)
            response = self._send(method, current, send_headers, limit, expected_size)
            if response.status_code not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                return response
            current = checked_url(current, response.headers["location"], f"{ref.name}: redirect")
            target = urlsplit(current)
            if target.scheme == "http" and not (is_loopback(target.netloc) or target.netloc in self.insecure):
                raise RegistryError(f"{ref.name}: refusing redirect to plain HTTP {target.hostname}")
        raise RegistryError(f"{ref.name}: too many redirects for {urlsplit(url).path}")

    def _send(
        self, method: str, url: str, headers: dict[str, str], limit: int, expected_size: int | None
    ) -> httpx.Response:
        # An answer sent ahead is waited for holding no slot of the host: the request it is may
        # itself be waiting for one.
        response = self._present(method, url, headers) if self._presends else None
        if response is not None:
            return self._read_body(response, method, url, limit, expected_size)
        with self._slot(urlsplit(url).netloc):
            return self._send_now(method, url, headers, limit, expected_size)

    def _send_now(
        self, method: str, url: str, headers: dict[str, str], limit: int, expected_size: int | None
    ) -> httpx.Response:
        request = self._http.build_request(method, url, headers=headers)
        # Straight to the transport: redirects and authentication are this client's own
        # (``_follow``, ``request``) and it keeps no cookies (``_no_cookies``), so
        # httpx.Client.send's machinery around it is not needed.
        response = self._transport.handle_request(request)
        response.request = request
        return self._read_body(response, method, url, limit, expected_size)

    @staticmethod
    def _read_body(
        response: httpx.Response, method: str, url: str, limit: int, expected_size: int | None
    ) -> httpx.Response:
        try:
            # Only a 2xx body is read: redirects, errors and HEAD are judged by status and headers.
            if 200 <= response.status_code < 300 and method != "HEAD":
                read_limited(response, limit, urlsplit(url).path, BadContent, expected_size=expected_size)
            return response
        finally:
            response.close()

    def adopt_presends(self, presends: list[Presend]) -> None:
        """Requests sent before this client loaded (``slsalint.sources.presend``): each is used,
        once, for the request it is, in place of sending it again."""
        with self._lock:
            for presend in presends:
                self._presends.setdefault(presend.url, []).append(presend)

    def prefetch(
        self, ref: ImageRef, what: str, digest: str, size: int | None, follow: Follow | None = None
    ) -> Prefetch | None:
        """Have the fan-out thread send now the GET that ``get_manifest(ref, digest, size)``
        (``what`` "manifest") or ``get_blob(ref, digest, size)`` ("blob") is about to make, so
        that a round's requests leave together (``slsalint.sources.fanout``); the call itself
        then takes the answer and judges it as its own. Nothing is sent ahead for content the
        cache holds, on a proxied route, over ``PREFETCH_ITEM`` bytes, or twice (the one sent
        is returned again). None: nothing is sent ahead, the call sends its request itself."""
        fanout = self._fanout
        if fanout is None or not is_digest(digest) or (self.cache is not None and self.cache.has(digest)):
            return None
        if what == "manifest":
            path, headers, limit = f"/manifests/{digest}", {"Accept": MANIFEST_ACCEPT}, self.max_manifest
        else:
            path, headers, limit = f"/blobs/{digest}", {}, self.max_blob
        if size is not None:
            limit = min(limit, size)
        if limit > PREFETCH_ITEM:
            return None
        url = f"{self.base_url(ref)}{path}"
        parts = urlsplit(url)
        if self.proxies.proxy_for(parts.scheme, parts.hostname or "", parts.port) is not None:
            return None
        # The headers of _follow's first hop: this client's own request, Authorization included.
        headers.update(self._auth_header(ref, f"repository:{ref.repository}:pull"))
        with self._lock:
            for sent in self._presends.get(url, ()):
                if isinstance(sent, Prefetch) and sent.matches("GET", url, headers):
                    return sent
        message = self._message(parts.scheme, parts.netloc, parts.path, url, headers)
        if message is None:
            return None
        item = fanout.send(url, headers, message, limit, follow, wake=not getattr(self._batch, "on", False))
        if item is not None:
            with self._lock:
                self._presends.setdefault(url, []).append(item)
        return item

    @contextmanager
    def prefetch_batch(self) -> Iterator[None]:
        """The requests this thread sends ahead inside leave together, at the end: the fan-out
        thread is woken once, not for each (when it is, it takes the interpreter)."""
        self._batch.on = True
        try:
            yield
        finally:
            self._batch.on = False
            if self._fanout is not None:
                self._fanout.wake()

    def _message(
        self, scheme: str, netloc: str, path: str, url: str, headers: dict[str, str]
    ) -> bytes | None:
        """The bytes of ``GET url`` as this client's transport writes them. The header block
        depends only on the origin and ``headers``: it is built by httpx once for each, and the
        request line put before it (for a path of characters no URL encodes; any other is built
        whole)."""
        key = (scheme, netloc, tuple(sorted(headers.items())))
        with self._lock:
            block = self._header_blocks.get(key)
        if block is None or not _PLAIN_PATH.fullmatch(path):
            try:
                message = message_of(self._http.build_request("GET", url, headers=headers))
            except (httpx.HTTPError, ValueError):
                return None
            line, _, block = message.partition(b"\r\n")
            if _PLAIN_PATH.fullmatch(path) and line == b"GET " + path.encode("ascii") + b" HTTP/1.1":
                with self._lock:
                    if len(self._header_blocks) < 64:
                        self._header_blocks[key] = block
            return message
        return b"GET " + path.encode("ascii") + b" HTTP/1.1\r\n" + block

    def _present(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response | None:
        """The answer of the request sent ahead that is this one, as if this client had sent it;
        None when there is none (not sent ahead, a fault, or not in before the deadline)."""
        with self._lock:
            waiting = self._presends.get(url)
            found = next((p for p in waiting if p.matches(method, url, headers)), None) if waiting else None
            if found is None or waiting is None:
                return None
            waiting.remove(found)
            if not waiting:
                del self._presends[url]
        if isinstance(found, Prefetch):
            answer = found.answer(remaining())  # parsed by the fan-out thread, with read_whole
            if answer is None:
                return None
            status, answer_headers, body = answer
        else:
            data = found.answer(remaining())
            if data is None:
                return None
            try:
                # Parsed as this client's own transport parses an answer; anything it would
                # refuse is asked again (and judged then).
                status, answer_headers, body = read_whole(data, method)
            except httpx.TransportError:
                return None
        request = self._http.build_request(method, url, headers=headers)
        with self.stats.lock:
            self.stats.ahead += 1
        return httpx.Response(
            status,
            headers=answer_headers,
            stream=httpx.ByteStream(body),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    # -- API -----------------------------------------------------------------------------------

    def start_manifest(self, ref: ImageRef, reference: str) -> None:
        """Start reading a manifest now, while the run still loads what only later steps need;
        the next ``get_manifest(ref, reference)`` takes its answer (or raises its error)."""
        self._start(
            (ref.api_host, ref.repository, reference), partial(self._get_manifest, ref, reference, None)
        )

    def start_tag_list(self, ref: ImageRef) -> None:
        """Start reading the repository's tag list now; the next ``tag_list(ref)`` takes it."""
        self._start((ref.api_host, ref.repository, "/tags/list"), partial(self._tag_list, ref))

    def _start(self, key: tuple[str, str, str], call: Callable[[], Any]) -> None:
        """Run ``call`` on a thread of its own that nothing waits for (a run that ends before
        asking for its answer, on a configuration error, does not wait for its deadline)."""
        future: Future[Any] = Future()
        with self._lock:
            if key in self._early:
                return
            self._early[key] = future

        def run() -> None:
            future.set_running_or_notify_cancel()
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the caller, as raised
                future.set_exception(exc)

        threading.Thread(target=run, name="slsalint-registry-early", daemon=True).start()

    def _early_answer(self, key: tuple[str, str, str]) -> Future[Any] | None:
        if not self._early:
            return None
        with self._lock:
            return self._early.pop(key, None)

    def get_manifest(self, ref: ImageRef, reference: str, size: int | None = None) -> Fetched:
        """A manifest or index by tag or digest, verified against its digest (and ``size``, the
        descriptor's, when given)."""
        if size is None:
            early = self._early_answer((ref.api_host, ref.repository, reference))
            if early is not None:
                fetched: Fetched = early.result()
                return fetched
        return self._get_manifest(ref, reference, size)

    def _get_manifest(self, ref: ImageRef, reference: str, size: int | None) -> Fetched:
        by_digest = is_digest(reference)
        if by_digest and self.cache is not None:
            cached = self.cache.get(reference)
            if cached is not None and (size is None or len(cached) == size):
                self.stats.cache_hits += 1
                return Fetched(reference, _media_type(cached, ""), cached)
        if size is not None and size > self.max_manifest:
            raise BadContent(
                f"{ref.name}@{reference}: manifest is {size} bytes, over the {self.max_manifest}-byte "
                "limit (--limit manifest-size)"
            )
        response = self.request(
            ref,
            f"/manifests/{reference}",
            kind="manifest",
            headers={"Accept": MANIFEST_ACCEPT},
            limit=self.max_manifest,
            expected_size=size,
        )
        data = response.content
        header_digest = response.headers.get("docker-content-digest")
        if by_digest:
            actual = digest_of(data, reference.split(":")[0])
            if actual != reference:
                raise BadContent(
                    f"{ref.name}@{reference}: manifest digest mismatch: content hashes to {actual}"
                    f"{truncation_hint(data)}"
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
                raise BadContent(
                    f"{ref.name}:{reference}: manifest digest mismatch: registry says {header_digest}, "
                    f"content hashes to {digest}{truncation_hint(data)}"
                )
        if size is not None and len(data) != size:
            raise BadContent(f"{ref.name}@{digest}: manifest is {len(data)} bytes, descriptor says {size}")
        media_type = _media_type(data, response.headers.get("content-type", ""))
        if self.cache is not None:
            self.cache.put(digest, data)
        return Fetched(digest, media_type, data)

    def get_blob(self, ref: ImageRef, digest: str, size: int | None = None) -> bytes:
        if not is_digest(digest):
            raise BadContent(f"{ref.name}: malformed blob digest {digest[:100]!r}")
        if size is not None and size > self.max_blob:
            raise BadContent(
                f"{ref.name}: blob {digest} is {size} bytes, over the {self.max_blob}-byte limit "
                "(--limit blob-size)"
            )
        if self.cache is not None:
            cached = self.cache.get(digest)
            if cached is not None and (size is None or len(cached) == size):
                self.stats.cache_hits += 1
                return cached
        limit = self.max_blob if size is None else min(self.max_blob, size)
        response = self.request(ref, f"/blobs/{digest}", kind="blob", limit=limit, expected_size=size)
        data = response.content
        actual = digest_of(data, digest.split(":")[0])
        if actual != digest:
            raise BadContent(f"{ref.name}: blob {digest} digest mismatch: content hashes to {actual}")
        if size is not None and len(data) != size:
            raise BadContent(f"{ref.name}: blob {digest} is {len(data)} bytes, descriptor says {size}")
        if self.cache is not None:
            self.cache.put(digest, data)
        return data

    def list_tags(self, ref: ImageRef, limit: int = 100) -> list[str]:
        """Up to ``limit`` tags of the repository (first page only)."""
        response = self.request(
            ref, "/tags/list", kind="tags", limit=self.max_manifest, params={"n": str(limit)}
        )
        try:
            tags = jsonio.load_object(response.content).get("tags") or []
        except jsonio.JSONError as exc:
            raise BadContent(f"{ref.name}: malformed tag list: {exc}") from None
        if not isinstance(tags, list):
            raise BadContent(f"{ref.name}: malformed tag list: 'tags' is not a list")
        return [t for t in tags if isinstance(t, str)][:limit]

    def tag_list(self, ref: ImageRef) -> frozenset[str] | None:
        """Every tag of the repository when the registry lists them all in one answer; None when
        it pages them (a ``Link`` to a next page): the caller then asks for each tag it needs,
        which takes one round trip where following pages would take one per page."""
        early = self._early_answer((ref.api_host, ref.repository, "/tags/list"))
        if early is not None:
            tags: frozenset[str] | None = early.result()
            return tags
        return self._tag_list(ref)

    def _tag_list(self, ref: ImageRef) -> frozenset[str] | None:
        response = self.request(ref, "/tags/list", kind="tags", limit=self.max_manifest)
        if next_link(response.headers.get("link")):
            return None
        try:
            document = jsonio.load_object(response.content)
        except jsonio.JSONError as exc:
            raise BadContent(f"{ref.name}: malformed tag list: {exc}") from None
        tags = document.get("tags")
        if tags is None:
            return frozenset()
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadContent(f"{ref.name}: malformed tag list: 'tags' is not a list of names")
        return frozenset(tags)

    def tag_exists(self, ref: ImageRef, tag: str) -> Fetched | None:
        """The manifest behind ``tag``, or None when the tag does not exist."""
        try:
            return self.get_manifest(ref, tag)
        except NotFound:
            return None

    def referrers(
        self, ref: ImageRef, digest: str, artifact_type: str | None = None
    ) -> list[Descriptor] | None:
        """The referrers of ``digest`` (all pages), or None when the registry has no referrers API."""
        params = {"artifactType": artifact_type} if artifact_type else None
        path = f"/referrers/{digest}"
        base = self.base_url(ref)
        out: list[Descriptor] = []
        pages = 0
        what = f"{ref.name}: referrers of {digest}"
        while True:
            pages += 1
            if pages > self.limits.referrer_pages:
                raise BadContent(
                    f"{what}: more than {self.limits.referrer_pages} pages (--limit referrer-pages)"
                )
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
                document = parse_document(response.content, what=f"{what}: the referrers answer")
            except DocumentError as exc:
                raise BadContent(str(exc)) from None
            if not document.is_index:
                raise BadContent(f"{what}: the referrers answer is not an image index")
            filtered = "artifactType" in response.headers.get("oci-filters-applied", "")
            for item in document.manifests:
                if artifact_type and not filtered and item.artifact_type != artifact_type:
                    continue
                out.append(item)
            if len(out) > self.limits.referrers:
                raise BadContent(f"{what}: more than {self.limits.referrers} referrers (--limit referrers)")
            link = next_link(response.headers.get("link"))
            if not link:
                return out
            current = f"{base}{path}"
            target = urlsplit(checked_url(current, link, f"{what}: Link header"))
            if target.netloc != urlsplit(base).netloc or not target.path.startswith(
                f"/v2/{ref.repository}/referrers/"
            ):
                raise BadContent(f"{what}: the Link header points elsewhere ({link[:120]!r})")
            path = target.path.split(f"/v2/{ref.repository}", 1)[-1]
            params = dict(httpx.QueryParams(target.query)) or None


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (RFC 8288), or None."""
    if not header:
        return None
    for part in header[:8192].split(","):
        match = re.match(r'\s*<([^>]*)>\s*;(?:[^,]*;)?\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


def _media_type(data: bytes, header: str) -> str:
    try:
        document = jsonio.load_object(data)
    except jsonio.JSONError:
        document = {}
    if isinstance(document.get("mediaType"), str):
        return str(document["mediaType"])
    header = header.split(";")[0].strip()
    if header:
        return header
    if "manifests" in document:
        return OCI_INDEX
    return OCI_MANIFEST


def _no_cookies() -> CookieJar:
    """A cookie jar that keeps none: registries and token services are sent no cookies, as
    docker, skopeo and cosign send none."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def transport_reason(exc: Exception) -> str:
    """One short line saying why a transfer failed."""
    text = str(exc).strip() or type(exc).__name__
    return redact(text.splitlines()[0][:200])


def tls_hint(exc: Exception) -> str:
    """What to do about a certificate no trusted CA signed, for messages (empty otherwise)."""
    if "CERTIFICATE_VERIFY_FAILED" not in str(exc):
        return ""
    return " (a registry with a private CA: --registry-ca FILE or SSL_CERT_FILE)"


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
    clock = client._clock()  # the same time bounds as reads: request deadline, retry budget, --timeout
    while True:
        attempt += 1
        send = dict(headers or {})
        if urlsplit(url).netloc == origin:
            send.update(client._auth_header(ref, scope))
        client.stats.count("push")
        try:
            with deadline(clock.attempt_ends()):
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
            if attempt <= client.retries and clock.can_wait(client._backoff(attempt)):
                client._sleep(client._backoff(attempt))
                continue
            raise RegistryError(
                f"{ref.name}: timed out pushing to {ref.api_host}{client.proxies.via(url)}"
            ) from None
        except httpx.TransportError as exc:
            if attempt <= client.retries and clock.can_wait(client._backoff(attempt)):
                client._sleep(client._backoff(attempt))
                continue
            raise RegistryError(
                f"{ref.name}: cannot reach {ref.api_host}{client.proxies.via(url)}: {transport_reason(exc)}"
                + tls_hint(exc)
            ) from None
        status = response.status_code
        if status == 401 and not authed and "www-authenticate" in response.headers:
            authed = True
            client._authenticate(ref, scope, response.headers["www-authenticate"], clock)
            attempt -= 1
            continue
        if status in RETRY_STATUSES and attempt <= client.retries:
            wait = min(retry_after(response.headers.get("retry-after"), client._backoff(attempt)), 86400.0)
            if clock.can_wait(min(wait, client.max_retry_wait)):
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
        errors = jsonio.load_object(response.content).get("errors") or []
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
