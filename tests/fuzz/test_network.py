"""Fuzz what the network settings read from outside: proxy URLs and ``NO_PROXY`` lists from the
environment, PEM CA files, attestation repository names. Each gives its documented value or its
documented one-line error (never with the credentials of a proxy URL in it)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slsalint.errors import ConfigError
from slsalint.sources.network import ProxySettings, parse_proxy, pem_certificates
from slsalint.sources.reference import parse_repository

URLISH = st.lists(
    st.sampled_from([*"abcdefxyz019.:/@[]%-_ *?#", "http://", "https://", "socks5://", "::"]), max_size=20
).map("".join)
HOSTS = st.sampled_from(
    ["example.com", "a.example.com", "notexample.com", "127.0.0.1", "10.1.2.3", "::1", "fd00::1", "localhost"]
)
PEM_PARTS = st.lists(
    st.sampled_from(
        [
            b"-----BEGIN CERTIFICATE-----\n",
            b"-----END CERTIFICATE-----\n",
            b"-----BEGIN PRIVATE KEY-----\n",
            b"-----END PRIVATE KEY-----\n",
            b"MIIB\n",
            b"AAAA\n",
            b"!!\n",
            b"# comment\n",
            b"\x00\xff",
        ]
    ),
    max_size=8,
)


@given(URLISH, st.sampled_from(["user:SECRETPW@", ""]))
def test_proxy_urls(text: str, userinfo: str) -> None:
    value = text.replace("://", f"://{userinfo}", 1) if "://" in text else f"{userinfo}{text}"
    try:
        proxy = parse_proxy(value, "HTTPS_PROXY")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("HTTPS_PROXY=") and "\n" not in message
        assert "SECRETPW" not in message
        return
    assert proxy.scheme in ("http", "https") and proxy.host and 0 <= proxy.port <= 65535
    assert "SECRETPW" not in proxy.shown + repr(proxy)


@given(
    st.lists(
        st.lists(st.sampled_from([*"abcx.*:/0123456789[]", "::1"]), max_size=12).map("".join), max_size=5
    ),
    HOSTS,
    st.integers(1, 65535),
    st.sampled_from(["http", "https"]),
)
def test_no_proxy_lists(entries: list[str], host: str, port: int, scheme: str) -> None:
    settings = ProxySettings.from_environment(
        {"HTTPS_PROXY": "proxy:1", "HTTP_PROXY": "proxy:1", "NO_PROXY": ",".join(entries)}
    )
    chosen = settings.proxy_for(scheme, host, port)
    assert chosen is None or chosen.host == "proxy"
    if "*" in entries:
        assert chosen is None
    if host in entries:
        assert chosen is None
    if ":" in host and f"[{host}]:{port}" in entries:
        assert chosen is None
    if f"{host}:{port}" in entries and ":" not in host:
        assert chosen is None
    if not entries or all(e.strip() == "" for e in entries):
        assert chosen is not None


@given(PEM_PARTS)
def test_pem_files(parts: list[bytes]) -> None:
    try:
        certificates = pem_certificates(b"".join(parts), "--registry-ca f")
    except ConfigError as exc:
        assert str(exc).startswith("--registry-ca f: ") and "\n" not in str(exc)
        return
    assert certificates and all(isinstance(c, bytes) for c in certificates)


@given(URLISH)
def test_attestation_repositories(text: str) -> None:
    try:
        repository = parse_repository(text)
    except ConfigError as exc:
        assert str(exc).startswith("--attestation-repository (COSIGN_REPOSITORY) ") and "\n" not in str(exc)
        return
    ref = repository.on("127.0.0.1:5000")
    assert ref.tag is None and ref.digest is None and ref.repository
