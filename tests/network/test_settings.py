"""Which proxy a URL goes through (the variables, their precedence, every ``NO_PROXY`` form), what
a proxy URL may be, and what a CA file must hold: the documented value or the one-line error."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from slsalint.errors import ConfigError, OperationalError
from slsalint.sources.network import (
    ProxySettings,
    Trust,
    parse_proxy,
    pem_certificates,
    read_ca_file,
)
from slsalint.sources.reference import parse_repository
from tests.support.tls import server_pki


def settings(**env: str) -> ProxySettings:
    return ProxySettings.from_environment(env)


def via(env: dict[str, str], url: str) -> str | None:
    proxy = ProxySettings.from_environment(env).proxy_for_url(url)
    return None if proxy is None else f"{proxy.variable}={proxy.netloc}"


def test_scheme_variables_and_all_proxy_fallback() -> None:
    env = {"HTTPS_PROXY": "http://s:1", "HTTP_PROXY": "http://p:2", "ALL_PROXY": "http://a:3"}
    assert via(env, "https://ghcr.io/v2/") == "HTTPS_PROXY=s:1"
    assert via(env, "http://127.0.0.1:5000/v2/") == "HTTP_PROXY=p:2"
    assert via({"ALL_PROXY": "a:3"}, "https://ghcr.io/") == "ALL_PROXY=a:3"
    assert via({"all_proxy": "a:3"}, "http://ghcr.io/") == "all_proxy=a:3"
    assert via({"HTTPS_PROXY": "s:1"}, "http://ghcr.io/") is None
    assert via({}, "https://ghcr.io/") is None
    assert via({"HTTPS_PROXY": "  "}, "https://ghcr.io/") is None  # empty is unset


def test_lower_case_wins_and_cgi_requests_ignore_http_proxy() -> None:
    assert via({"https_proxy": "l:1", "HTTPS_PROXY": "u:2"}, "https://x.io/") == "https_proxy=l:1"
    assert via({"HTTPS_PROXY": "s:1", "no_proxy": "x.io", "NO_PROXY": "y.io"}, "https://x.io/") is None
    assert (
        via({"HTTPS_PROXY": "s:1", "no_proxy": "x.io", "NO_PROXY": "y.io"}, "https://y.io/")
        == "HTTPS_PROXY=s:1"
    )
    cgi = {"HTTP_PROXY": "evil:1", "REQUEST_METHOD": "GET"}
    assert via(cgi, "http://x.io/") is None
    assert via({**cgi, "http_proxy": "good:2"}, "http://x.io/") == "http_proxy=good:2"


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypassed"),
    [
        ("*", "https://anything.example/", True),
        ("example.com", "https://example.com/", True),
        ("example.com", "https://registry.example.com/", True),
        ("example.com", "https://notexample.com/", False),
        (".example.com", "https://example.com/", True),
        (".example.com", "https://a.b.example.com/", True),
        ("*.example.com", "https://a.example.com/", True),
        ("EXAMPLE.com.", "https://Example.COM/", True),
        ("example.com:5000", "https://example.com:5000/", True),
        ("example.com:5000", "https://example.com/", False),
        ("example.com:443", "https://example.com/", True),  # the scheme's default port
        ("10.0.0.0/8", "https://10.1.2.3:5000/", True),
        ("10.0.0.0/8", "https://11.1.2.3/", False),
        ("192.168.1.7", "http://192.168.1.7:80/", True),
        ("::1", "http://[::1]:5000/", True),
        ("[::1]:5000", "http://[::1]:5000/", True),
        ("[::1]:5000", "http://[::1]:5001/", False),
        ("fd00::/8", "https://[fd00::1]/", True),
        ("127.0.0.1", "http://localhost:5000/", False),  # no name is resolved to match an address
        ("localhost", "http://127.0.0.1:5000/", False),
        ("", "http://127.0.0.1:5000/", False),  # loopback is proxied unless listed
        ("a.io, b.io ,c.io", "https://b.io/", True),
        ("a.io b.io", "https://b.io/", True),
        (",,", "https://b.io/", False),
        ("/", "https://b.io/", False),
    ],
)
def test_no_proxy_forms(no_proxy: str, url: str, bypassed: bool) -> None:
    env = {"HTTPS_PROXY": "http://proxy:3128", "HTTP_PROXY": "http://proxy:3128", "NO_PROXY": no_proxy}
    assert (via(env, url) is None) is bypassed


def test_proxy_url_forms() -> None:
    proxy = parse_proxy("proxy.corp:3128", "HTTPS_PROXY")
    assert (proxy.scheme, proxy.host, proxy.port) == ("http", "proxy.corp", 3128)
    assert parse_proxy("http://proxy.corp", "X").port == 80
    assert parse_proxy("https://proxy.corp", "X").port == 443
    assert parse_proxy("http://[::1]:8080/", "X").netloc == "[::1]:8080"
    secret = parse_proxy("http://us%40r:p%3Ass@proxy:3128", "HTTPS_PROXY")
    assert (secret.username, secret.password) == ("us@r", "p:ss")
    assert secret.shown == "http://***@proxy:3128" and str(secret) == secret.shown
    assert "p:ss" not in repr(secret)
    [(name, value)] = secret.connect_headers()
    assert name == b"Proxy-Authorization"
    assert base64.b64decode(value.removeprefix(b"Basic ")) == b"us@r:p:ss"
    assert parse_proxy("http://proxy:3128", "X").connect_headers() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://u:SECRET@[bad", r"^HTTPS_PROXY='http://\*\*\*@\[bad': not a proxy URL"),
        ("http://proxy:notaport", r"^HTTPS_PROXY='http://proxy:notaport': not a proxy URL"),
        ("http://proxy:99999", r"^HTTPS_PROXY='http://proxy:99999': not a proxy URL"),
        ("socks5://u:SECRET@proxy:1080", r"SOCKS proxies are not supported"),
        ("ftp://proxy:21", r"unsupported proxy scheme 'ftp'"),
        ("http://", r"not a proxy URL \(no host\)"),
        ("http://proxy:3128/path", r"names a host and port only"),
        ("http://proxy:3128?x=1", r"names a host and port only"),
        ("http://pro xy:3128", r"white space"),
    ],
)
def test_unusable_proxy_urls_name_the_variable(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        settings(HTTPS_PROXY=value)
    assert "SECRET" not in str(caught.value) and "\n" not in str(caught.value)


def test_an_unused_variable_is_not_judged() -> None:
    # Only the variable a scheme would use is read: ALL_PROXY is shadowed by both scheme variables.
    assert settings(HTTPS_PROXY="p:1", HTTP_PROXY="p:2", ALL_PROXY="socks5://x:1").any


# -- CA files -------------------------------------------------------------------------------------


def test_pem_certificates(tmp_path: Path) -> None:
    pki = server_pki(tmp_path, ("registry.test",))
    ca = pki.ca.read_bytes()
    assert len(pem_certificates(ca, "f")) == 1
    bundle = b"# a comment\n" + ca + b"\nmore text\n" + pki.certificate.read_bytes()
    assert len(pem_certificates(bundle, "f")) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"not a PEM certificate file \(no -----BEGIN CERTIFICATE----- block\)"),
        (b"hello\n", r"no -----BEGIN CERTIFICATE----- block"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n", r"a PEM block is not closed"),
        (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", r"block 1 is not valid base64"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", r"block 1 is not an X.509"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n", r"begins as CERTIFICATE and ends"),
    ],
)
def test_not_pem_certificates(content: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"^--registry-ca f: .*{message}"):
        pem_certificates(content, "--registry-ca f")


def test_a_private_key_is_refused(tmp_path: Path) -> None:
    pki = server_pki(tmp_path, ("registry.test",))
    with pytest.raises(ConfigError, match=r"block 2 is a PRIVATE KEY, not a CERTIFICATE"):
        pem_certificates(pki.ca.read_bytes() + pki.key.read_bytes(), "f")


def test_ca_files_are_read_as_regular_bounded_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=rf"^--registry-ca {tmp_path}: .*directory"):
        read_ca_file(tmp_path, "--registry-ca")
    with pytest.raises(ConfigError, match=r"^--registry-ca .*missing.pem: "):
        read_ca_file(tmp_path / "missing.pem", "--registry-ca")
    large = tmp_path / "large.pem"
    large.write_bytes(b"x" * (8 * 1024 * 1024 + 1))
    with pytest.raises(ConfigError, match="larger than the limit"):
        read_ca_file(large, "--registry-ca")
    assert not issubclass(ConfigError, OperationalError)


def test_trust_from_the_environment(tmp_path: Path) -> None:
    pki = server_pki(tmp_path / "pki", ("registry.test",))
    trust = Trust.from_environment(env={"SSL_CERT_FILE": str(pki.ca), "SSL_CERT_DIR": str(tmp_path)})
    assert trust.replace is not None and len(trust.replace) == 1 and trust.directory == str(tmp_path)
    assert Trust.from_environment(env={}).replace is None
    with pytest.raises(ConfigError, match=rf"^SSL_CERT_FILE {pki.key}: PEM block 1 is a PRIVATE KEY"):
        Trust.from_environment(env={"SSL_CERT_FILE": str(pki.key)})
    with pytest.raises(ConfigError, match=rf"^SSL_CERT_DIR {pki.ca}: not a directory"):
        Trust.from_environment(env={"SSL_CERT_DIR": str(pki.ca)})
    with pytest.raises(ConfigError, match=r"^SSL_CERT_DIR .*nowhere: "):
        Trust.from_environment(env={"SSL_CERT_DIR": str(tmp_path / "nowhere")})
    context = Trust.from_environment([], env={"SSL_CERT_FILE": str(pki.ca)}).context()
    assert len(context.get_ca_certs()) == 1  # replaced, not added to the bundled store


# -- the attestation repository -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "image_registry", "expected"),
    [
        ("127.0.0.1:5000/sigs/store", "ghcr.io", "127.0.0.1:5000/sigs/store"),
        ("ghcr.io/org/sigs", "127.0.0.1:5000", "ghcr.io/org/sigs"),
        ("localhost/sigs", "ghcr.io", "localhost/sigs"),
        ("sigs/store", "127.0.0.1:5000", "127.0.0.1:5000/sigs/store"),
        ("store", "docker.io", "docker.io/library/store"),
        ("docker.io/store", "ghcr.io", "docker.io/library/store"),
        ("index.docker.io/org/sigs", "ghcr.io", "docker.io/org/sigs"),
    ],
)
def test_attestation_repository_keeps_its_registry(value: str, image_registry: str, expected: str) -> None:
    assert parse_repository(value).on(image_registry).name == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ghcr.io/org/sigs:v1", "names a repository, not a tag or digest"),
        ("ghcr.io/org/sigs@sha256:" + "0" * 64, "names a repository, not a tag or digest"),
        ("Org/Sigs", "malformed repository"),
        ("https://ghcr.io/org/sigs", r"expected \[REGISTRY/\]REPOSITORY"),
        ("user:pw@ghcr.io/org/sigs", r"expected \[REGISTRY/\]REPOSITORY"),
        ("", r"expected \[REGISTRY/\]REPOSITORY"),
        ("ghcr.io/", "malformed repository"),
    ],
)
def test_bad_attestation_repositories(value: str, message: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^--attestation-repository \(COSIGN_REPOSITORY\) .*{message}"
    ) as e:
        parse_repository(value)
    assert "pw" not in str(e.value)


def test_certificates_openssl_refuses_stop_the_run_when_first_needed() -> None:
    """Blocks shaped like certificates are parsed by OpenSSL only when an HTTPS connection needs
    them (a run on plain-HTTP registries does not pay for a system bundle); what it refuses then
    is a configuration error naming where the certificates came from."""
    shaped = bytes.fromhex("3006300030000300")  # SEQUENCE { SEQUENCE {}, SEQUENCE {}, BIT STRING }
    assert pem_certificates(
        b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(shaped) + b"\n-----END CERTIFICATE-----\n", "f"
    ) == [shaped]
    with pytest.raises(ConfigError, match=r"^SSL_CERT_FILE: certificate 1 is not an X.509 certificate$"):
        Trust(replace=(shaped,)).context()
    with pytest.raises(ConfigError, match=r"^--registry-ca: certificate 1 is not an X.509 certificate$"):
        Trust(extra=(shaped,)).context()
