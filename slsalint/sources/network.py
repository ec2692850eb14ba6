"""How the registry and GitHub clients reach the network: proxies from the environment and the
TLS trust (custom CAs), on the deadline-bounded sockets of :mod:`slsalint.sources.deadline`.

Proxies (the variables curl, pip and Docker read; a lower-case name wins over its upper-case one):

- ``https_proxy`` / ``HTTPS_PROXY`` for ``https://`` URLs, ``http_proxy`` / ``HTTP_PROXY`` for
  ``http://`` URLs (upper-case ``HTTP_PROXY`` is ignored in a CGI request, ``REQUEST_METHOD`` set),
  ``all_proxy`` / ``ALL_PROXY`` for both when the scheme's own variable is not set;
- ``no_proxy`` / ``NO_PROXY``: a comma (or space) separated list of hosts reached directly. ``*``
  matches every host; ``example.com``, ``.example.com`` and ``*.example.com`` match example.com and
  every name under it; ``host:port`` matches that port only; IPv4/IPv6 addresses and CIDR ranges
  (``10.0.0.0/8``) match addresses written as such. No name is resolved to match an address, and
  loopback hosts are *not* bypassed unless listed (as httpx and curl do; Go programs skip the proxy
  for loopback by themselves);
- a proxy URL is ``http://[USER:PASSWORD@]HOST[:PORT]`` (``https://`` for TLS to the proxy; no
  scheme means ``http://``). Its credentials go to the proxy only, as ``Proxy-Authorization`` on
  the ``CONNECT`` request, and are shown as ``***`` in every message.

Every request through a proxy is tunnelled with ``CONNECT`` (plain-HTTP hosts too), so the proxy
sees which host and port are asked for and nothing else: never a path, a header (the registry's
``Authorization`` and tokens) or a body. TLS to an HTTPS registry runs end to end inside the tunnel.

Trust (HTTPS to registries and GitHub): the bundled Mozilla store (certifi); ``SSL_CERT_FILE``
replaces it with the PEM file it names and ``SSL_CERT_DIR`` adds an OpenSSL hashed directory (as
OpenSSL reads these variables); ``--registry-ca FILE`` adds its certificates for registries.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import os
import re
import ssl
import stat
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

from slsalint import fileio
from slsalint.errors import ConfigError, OperationalError
from slsalint.sources.deadline import DeadlineTransport
from slsalint.sources.http1 import Http1Transport
from slsalint.sources.reference import redact

T = TypeVar("T")

MAX_CA_FILE = 8 * 1024 * 1024
"""Largest CA file read (a full public bundle is about 300 KB)."""
MAX_CA_CERTIFICATES = 4096

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]{1,40})-----([^-]*)-----END ([A-Z0-9 ]{1,40})-----", re.DOTALL
)


# -- proxies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proxy:
    """One proxy from the environment; ``str()`` and ``shown`` never carry its credentials."""

    scheme: str
    host: str
    port: int
    variable: str
    """The environment variable it came from (for messages)."""
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def shown(self) -> str:
        """The proxy URL as messages show it: ``http://***@proxy:3128`` when it has credentials."""
        secret = "***@" if self.username is not None or self.password is not None else ""
        return f"{self.scheme}://{secret}{self.netloc}"

    def __str__(self) -> str:
        return self.shown

    def connect_headers(self) -> list[tuple[bytes, bytes]]:
        """``Proxy-Authorization`` for the ``CONNECT`` request (none without credentials)."""
        if self.username is None and self.password is None:
            return []
        pair = f"{self.username or ''}:{self.password or ''}".encode()
        return [(b"Proxy-Authorization", b"Basic " + base64.b64encode(pair))]


def _hide_userinfo(url: str) -> str:
    """``url`` with everything between its scheme and its last ``@`` shown as ``***``."""
    if "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest and "@" not in scheme:
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return f"***@{url.rsplit('@', 1)[1]}"


def parse_proxy(value: str, variable: str) -> Proxy:
    """A proxy URL from ``variable``; ConfigError (exit 2, one line, credentials hidden) when it
    cannot be used."""
    text = value.strip()
    shown = _hide_userinfo(text if "://" in text else f"http://{text}")[:200]
    problem = f"{variable}={shown!r}"
    if any(c.isspace() or ord(c) < 0x20 for c in text):
        raise ConfigError(f"{problem}: not a proxy URL (it contains white space or control characters)")
    url = text if "://" in text else f"http://{text}"
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(f"{problem}: not a proxy URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme.startswith("socks"):
        raise ConfigError(
            f"{problem}: SOCKS proxies are not supported; name an HTTP proxy (http://HOST:PORT)"
        )
    if scheme not in ("http", "https"):
        raise ConfigError(f"{problem}: unsupported proxy scheme {scheme!r} (expected http:// or https://)")
    if not host:
        raise ConfigError(f"{problem}: not a proxy URL (no host)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{problem}: a proxy URL names a host and port only, not a path or query")
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ConfigError(f"{problem}: not a proxy URL ({_hide_userinfo(redact(str(exc)))[:120]})") from None
    return Proxy(
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        variable=variable,
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
    )


@dataclass(frozen=True)
class _Bypass:
    """One ``NO_PROXY`` entry."""

    name: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        assert self.name is not None
        return host == self.name or host.endswith(f".{self.name}")


def _bypass_entry(entry: str) -> _Bypass | None:
    text = entry.strip().lower()
    port: int | None = None
    if text.startswith("["):  # [v6] or [v6]:port
        inside, _, rest = text[1:].partition("]")
        text = inside
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif text.count(":") == 1:
        name, _, tail = text.partition(":")
        if tail.isdigit():
            text, port = name, int(tail)
    try:
        return _Bypass(network=ipaddress.ip_network(text, strict=False), port=port)
    except ValueError:
        pass
    name = text.removeprefix("*").removeprefix(".").rstrip(".")
    if not name or "/" in name:
        return None
    return _Bypass(name=name, port=port)


@dataclass(frozen=True)
class ProxySettings:
    """Which proxy each URL goes through (from the environment)."""

    https: Proxy | None = None
    http: Proxy | None = None
    bypass: tuple[_Bypass, ...] = ()
    bypass_all: bool = False

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ProxySettings:
        """The proxies the environment names; ConfigError (exit 2) naming the variable of an
        unusable proxy URL."""
        env = os.environ if env is None else env

        def first(*names: str) -> tuple[str, str] | None:
            for name in names:
                if name == "HTTP_PROXY" and env.get("REQUEST_METHOD"):
                    continue  # httpoxy: a CGI request's Proxy header arrives as HTTP_PROXY
                value = env.get(name, "").strip()
                if value:
                    return name, value
            return None

        https = first("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
        http = first("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
        no_proxy = first("no_proxy", "NO_PROXY")
        entries = [e for e in re.split(r"[,\s]+", no_proxy[1]) if e] if no_proxy else []
        parsed = tuple(b for b in (_bypass_entry(e) for e in entries) if b is not None)
        return cls(
            https=parse_proxy(https[1], https[0]) if https else None,
            http=parse_proxy(http[1], http[0]) if http else None,
            bypass=parsed,
            bypass_all="*" in entries,
        )

    @property
    def any(self) -> bool:
        return self.https is not None or self.http is not None

    def proxy_for(self, scheme: str, host: str, port: int | None = None) -> Proxy | None:
        """The proxy a request to ``scheme://host:port`` goes through, or None (direct)."""
        proxy = self.https if scheme == "https" else self.http if scheme == "http" else None
        if proxy is None or self.bypass_all:
            return None
        name = host.strip("[]").lower().rstrip(".")
        effective = port if port is not None else (443 if scheme == "https" else 80)
        if any(entry.matches(name, effective) for entry in self.bypass):
            return None
        return proxy

    def proxy_for_url(self, url: str) -> Proxy | None:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            return None
        return self.proxy_for(parts.scheme, parts.hostname or "", port)

    def via(self, url: str) -> str:
        """`` through proxy http://***@proxy:3128`` when ``url`` is reached through a proxy, for
        messages; empty otherwise."""
        proxy = self.proxy_for_url(url)
        return "" if proxy is None else f" through proxy {proxy.shown} ({proxy.variable})"


# -- trust ----------------------------------------------------------------------------------------


def pem_certificates(data: bytes, what: str) -> list[bytes]:
    """The DER certificates of a PEM file; ConfigError naming ``what`` when it holds anything but
    PEM certificates (text around the blocks, such as comments, is allowed). A program checking
    many images in one process reads the same ``SSL_CERT_FILE`` each time: the same bytes are
    parsed once."""
    return list(_pem_certificates(data, what))


@functools.lru_cache(maxsize=8)
def _pem_certificates(data: bytes, what: str) -> tuple[bytes, ...]:
    blocks = list(_PEM_BLOCK.finditer(data))
    ends = [0] + [b.end() for b in blocks]
    starts = [b.start() for b in blocks] + [len(data)]
    leftover = b"".join(data[end:start] for end, start in zip(ends, starts, strict=True))
    if b"-----BEGIN" in leftover or b"-----END" in leftover:
        raise ConfigError(f"{what}: a PEM block is not closed")
    if not blocks:
        raise ConfigError(f"{what}: not a PEM certificate file (no -----BEGIN CERTIFICATE----- block)")
    if len(blocks) > MAX_CA_CERTIFICATES:
        raise ConfigError(f"{what}: more than {MAX_CA_CERTIFICATES} certificates")
    out: list[bytes] = []
    for number, block in enumerate(blocks, 1):
        label, body, end = block.group(1), block.group(2), block.group(3)
        if label != end:
            raise ConfigError(
                f"{what}: PEM block {number} begins as {label.decode()} and ends as {end.decode()}"
            )
        if label != b"CERTIFICATE":
            raise ConfigError(
                f"{what}: PEM block {number} is a {label.decode()}, not a CERTIFICATE "
                "(only CA certificates belong in this file)"
            )
        try:
            der = binascii.a2b_base64(b"".join(body.split()), strict_mode=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{what}: PEM block {number} is not valid base64") from None
        if not der:
            raise ConfigError(f"{what}: PEM block {number} is empty")
        if not _certificate_shaped(der):
            raise ConfigError(f"{what}: PEM block {number} is not an X.509 certificate")
        out.append(der)
    # OpenSSL parses the certificates when the first HTTPS connection needs them (``Trust.context``:
    # ~20 ms for a system bundle, not paid by a run that makes none); what it refuses then stops
    # the run the same way (exit 2 naming the file).
    return tuple(out)


def _der_header(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, where the content starts, content length) of the DER element at ``at``."""
    if at + 2 > len(data):
        return None
    tag, first = data[at], data[at + 1]
    start = at + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            return None
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, length


def _certificate_shaped(der: bytes) -> bool:
    """Whether ``der`` is shaped like an X.509 certificate: one SEQUENCE filling the block whose
    first element (tbsCertificate) is a SEQUENCE, followed by the signature algorithm and value."""
    outer = _der_header(der, 0)
    if outer is None or outer[0] != 0x30 or outer[1] + outer[2] != len(der):
        return False
    inner = _der_header(der, outer[1])
    return inner is not None and inner[0] == 0x30 and inner[1] + inner[2] < len(der)


def read_ca_file(path: str | os.PathLike[str], what: str) -> list[bytes]:
    """The certificates of a PEM CA file named by the user (``what`` names where it was named):
    a regular file, bounded; ConfigError (exit 2) when unusable, OperationalError on an I/O fault."""
    try:
        data = fileio.read_bytes(path, limit=MAX_CA_FILE)
    except fileio.FileReadError as exc:
        error = OperationalError if exc.fault else ConfigError
        raise error(f"{what} {exc}") from None
    return pem_certificates(data, f"{what} {os.fspath(path)}")


@dataclass(frozen=True)
class Trust:
    """The CA certificates HTTPS connections are verified against."""

    replace: tuple[bytes, ...] | None = None
    """DER certificates that replace the bundled store (``SSL_CERT_FILE``)."""
    directory: str | None = None
    """An OpenSSL hashed CA directory (``SSL_CERT_DIR``)."""
    extra: tuple[bytes, ...] = ()
    """DER certificates added to the store (``--registry-ca``)."""

    @classmethod
    def from_environment(cls, extra: Sequence[bytes] = (), env: Mapping[str, str] | None = None) -> Trust:
        """``SSL_CERT_FILE`` and ``SSL_CERT_DIR``, checked now (exit 2 naming the variable)."""
        env = os.environ if env is None else env
        cert_file = env.get("SSL_CERT_FILE", "").strip()
        cert_dir = env.get("SSL_CERT_DIR", "").strip()
        replace = tuple(read_ca_file(cert_file, "SSL_CERT_FILE")) if cert_file else None
        directory: str | None = None
        if cert_dir:
            # OpenSSL reads a list of directories (':'-separated); each must be one.
            for part in cert_dir.split(os.pathsep):
                try:
                    mode = Path(part).stat().st_mode
                except OSError as exc:
                    raise ConfigError(f"SSL_CERT_DIR {part}: {exc.strerror or exc}") from None
                if not stat.S_ISDIR(mode):
                    raise ConfigError(f"SSL_CERT_DIR {part}: not a directory")
            directory = cert_dir
        return cls(replace=replace, directory=directory, extra=tuple(extra))

    def context(self) -> ssl.SSLContext:
        """A verifying TLS client context (loading the bundled store costs ~20 ms: call it late).
        Certificates OpenSSL refuses stop the run here (ConfigError naming where they came from)."""
        if self.replace is not None:
            context = _load(ssl.create_default_context, self.replace, "SSL_CERT_FILE")
        else:
            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
        if self.directory:
            for part in self.directory.split(os.pathsep):
                context.load_verify_locations(capath=part)
        if self.extra:
            _load(context.load_verify_locations, self.extra, "--registry-ca")
        return context


def _load(load: Callable[..., T], certificates: Sequence[bytes], what: str) -> T:
    """``load(cadata=...)`` of the certificates; one ConfigError naming the first one refused."""
    try:
        return load(cadata=b"".join(certificates))
    except (ssl.SSLError, ValueError):
        for number, der in enumerate(certificates, 1):
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=der)
            except (ssl.SSLError, ValueError):
                raise ConfigError(f"{what}: certificate {number} is not an X.509 certificate") from None
        raise ConfigError(f"{what}: the certificates cannot be loaded") from None


# -- transports -----------------------------------------------------------------------------------


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


def no_tls() -> ssl.SSLContext:
    """The TLS context of a plain-HTTP transport: it never does TLS, and were it ever asked to,
    verification with no trusted CA fails closed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class _Tunnel(httpcore.ConnectionInterface):
    """One connection to an origin through an HTTP proxy's ``CONNECT`` tunnel (TLS inside it for
    an https origin); everything after the ``CONNECT`` goes to the origin only."""

    def __init__(
        self,
        proxy: Proxy,
        origin: httpcore.Origin,
        *,
        tls: ssl.SSLContext,
        proxy_tls: ssl.SSLContext | None,
        backend: httpcore.NetworkBackend,
        keepalive_expiry: float | None,
    ) -> None:
        self._proxy = proxy
        self._origin = origin
        self._tls = tls
        self._expiry = keepalive_expiry
        self._connection: httpcore.ConnectionInterface = httpcore.HTTPConnection(
            origin=httpcore.Origin(proxy.scheme.encode(), proxy.host.encode(), proxy.port),
            ssl_context=proxy_tls,
            keepalive_expiry=keepalive_expiry,
            network_backend=backend,
        )
        self._lock = threading.Lock()
        self._open = False
        self._failed = False

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        with self._lock:
            if self._failed:
                raise httpcore.ConnectError("the tunnel through the proxy failed")
            if not self._open:
                try:
                    self._connect(request)
                except BaseException:
                    # Never reused: the socket may sit anywhere between the proxy and the origin.
                    self._failed = True
                    self._connection.close()
                    raise
                self._open = True
        return self._connection.handle_request(request)

    def _connect(self, request: httpcore.Request) -> None:
        host = self._origin.host
        target = b"%b:%d" % (b"[" + host + b"]" if b":" in host else host, self._origin.port)
        connect = httpcore.Request(
            b"CONNECT",
            httpcore.URL(
                scheme=self._proxy.scheme.encode(),
                host=self._proxy.host.encode(),
                port=self._proxy.port,
                target=target,
            ),
            headers=[(b"Host", target), *self._proxy.connect_headers()],
            extensions=request.extensions,
        )
        try:
            response = self._connection.handle_request(connect)
        except httpcore.TimeoutException as exc:
            raise type(exc)(f"the proxy did not answer in time: {exc}") from exc
        except httpcore.NetworkError as exc:
            raise httpcore.ConnectError(f"proxy unreachable: {exc}") from exc
        except httpcore.ProtocolError as exc:
            raise httpcore.ConnectError(f"the proxy's answer to CONNECT is not HTTP: {exc}") from exc
        if not 200 <= response.status < 300:
            reason = response.extensions.get("reason_phrase", b"").decode("ascii", "replace")[:80]
            self._connection.close()
            raise httpcore.ConnectError(
                f"the proxy answered HTTP {response.status} {reason} to CONNECT {target.decode()}"
            )
        stream: httpcore.NetworkStream = response.extensions["network_stream"]
        if self._origin.scheme == b"https":
            timeout = request.extensions.get("timeout", {}).get("connect")
            stream = stream.start_tls(self._tls, server_hostname=host.decode("ascii"), timeout=timeout)
        self._connection = httpcore.HTTP11Connection(
            origin=self._origin, stream=stream, keepalive_expiry=self._expiry
        )

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self._origin

    def close(self) -> None:
        self._connection.close()

    def info(self) -> str:
        return f"tunnel to {self._origin} via {self._proxy.netloc}"

    def is_available(self) -> bool:
        # Like httpcore's HTTP/1.1 connections: not available to another request until it is open.
        return self._open and not self._failed and self._connection.is_available()

    def has_expired(self) -> bool:
        return self._failed or self._connection.has_expired()

    def is_idle(self) -> bool:
        return not self._failed and self._connection.is_idle()

    def is_closed(self) -> bool:
        return self._failed or self._connection.is_closed()


class _TunnelPool(httpcore.ConnectionPool):
    """httpcore's pool (limits, keep-alive) whose connections are ``CONNECT`` tunnels."""

    def __init__(
        self,
        proxy: Proxy,
        *,
        tls: ssl.SSLContext,
        limits: httpx.Limits,
        backend: httpcore.NetworkBackend,
    ) -> None:
        super().__init__(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
        self._through = proxy
        self._tunnel_tls = tls
        self._proxy_tls = httpx.create_ssl_context() if proxy.scheme == "https" else None
        self._backend = backend
        self._expiry = limits.keepalive_expiry

    def create_connection(self, origin: httpcore.Origin) -> httpcore.ConnectionInterface:
        return _Tunnel(
            self._through,
            origin,
            tls=self._tunnel_tls,
            proxy_tls=self._proxy_tls,
            backend=self._backend,
            keepalive_expiry=self._expiry,
        )


def tunnel_pool(
    proxy: Proxy, tls: ssl.SSLContext, limits: httpx.Limits, backend: httpcore.NetworkBackend
) -> httpcore.ConnectionPool:
    return _TunnelPool(proxy, tls=tls, limits=limits, backend=backend)


class NetworkTransport(httpx.BaseTransport):
    """Sends each request directly or through its proxy, HTTPS verified against ``trust``; every
    leg (proxy connection, tunnel, TLS handshake, body) on deadline-bounded sockets. Each of the
    underlying transports is built on its first request.

    Each thread has transports (and so kept-alive connections) of its own: a thread sends one
    request at a time, so it never needs more than one connection per route, and hundreds of
    requests in flight never queue on one connection pool's lock (a shared pool's bookkeeping
    walks every connection under that lock for each request: quadratic in the requests in
    flight on a wide index)."""

    def __init__(self, limits: httpx.Limits, *, trust: Trust, proxies: ProxySettings) -> None:
        self.proxies = proxies
        self._local = threading.local()
        self._routes: list[LazyTransport] = []
        self._lock = threading.Lock()
        self._limits = limits
        self._trust = trust
        self._tls: ssl.SSLContext | None = None
        self._plain: ssl.SSLContext | None = None

    def _context(self, scheme: str) -> ssl.SSLContext:
        """The TLS context of a route, made once and shared by every thread's transports
        (making one costs ~150 us; the verifying one loads the CA store)."""
        with self._lock:
            if scheme != "https":
                if self._plain is None:
                    self._plain = no_tls()
                return self._plain
            if self._tls is None:
                self._tls = self._trust.context()
            return self._tls

    def tls_context(self, scheme: str) -> ssl.SSLContext:
        """The TLS context the direct route of ``scheme`` verifies with (``fanout`` uses it)."""
        return self._context(scheme)

    def _route(self, scheme: str, proxy: Proxy | None) -> LazyTransport:
        key = (scheme, proxy)
        routes: dict[tuple[str, Proxy | None], LazyTransport] | None = getattr(self._local, "routes", None)
        if routes is None:
            routes = self._local.routes = {}
        route = routes.get(key)
        if route is None:

            def build() -> httpx.BaseTransport:
                if proxy is None:
                    return Http1Transport(self._context(scheme))
                return DeadlineTransport(verify=self._context(scheme), limits=self._limits, proxy=proxy)

            route = routes[key] = LazyTransport(build)
            with self._lock:
                self._routes.append(route)
        return route

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        proxy = self.proxies.proxy_for(url.scheme, url.host, url.port)
        return self._route(url.scheme, proxy).handle_request(request)

    def close(self) -> None:
        with self._lock:
            routes, self._routes = self._routes, []
        for route in routes:
            route.close()


def transport(
    limits: httpx.Limits,
    *,
    extra_ca: Sequence[bytes] = (),
    env: Mapping[str, str] | None = None,
) -> NetworkTransport:
    """The transport of a client: proxies and trust from the environment (checked now: exit 2
    naming the variable), plus ``extra_ca`` (DER certificates, ``--registry-ca``)."""
    return NetworkTransport(
        limits,
        trust=Trust.from_environment(extra_ca, env),
        proxies=ProxySettings.from_environment(env),
    )


def read_ca_files(paths: Sequence[Path]) -> tuple[bytes, ...]:
    """The certificates of every ``--registry-ca FILE`` (exit 2 naming a file that is not PEM
    certificates)."""
    out: list[bytes] = []
    for path in paths:
        out += read_ca_file(path, "--registry-ca")
    return tuple(out)
