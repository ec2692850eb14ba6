"""Fault rows for how registries and GitHub are reached: unusable proxy URLs (exit 2 naming the
variable, credentials hidden), a proxy that is down or refuses (exit 3 naming it), CA files that
are not PEM certificates (exit 2 naming the file or variable), bad attestation repositories."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support.tls import server_pki

IMAGE = "127.0.0.1:9/net/app:v1"
"""A loopback registry reference: every row fails before (or instead of) reaching it."""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _env(**values: str) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    def make(tmp: Path) -> tuple[list[str], dict[str, str]]:
        return ["check", IMAGE, "--no-cache"], values

    return make


def _ca(
    write: Callable[[Path], Path], *, variable: str | None = None, command: str = "check"
) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    def make(tmp: Path) -> tuple[list[str], dict[str, str]]:
        path = write(tmp)
        if variable:
            return [command, IMAGE, "--no-cache"], {variable: str(path)}
        args = {
            "check": ["check", IMAGE],
            "explain": ["explain", IMAGE],
            "fetch": ["fetch", IMAGE, "-o", str(tmp / "out")],
        }[command]
        return [*args, "--registry-ca", str(path)], {}

    return make


def _text(content: bytes) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        path = tmp / "ca.pem"
        path.write_bytes(content)
        return path

    return write


def _key(tmp: Path) -> Path:
    return server_pki(tmp / "pki", ("registry.test",)).key


def _directory(tmp: Path) -> Path:
    return tmp


def _missing(tmp: Path) -> Path:
    return tmp / "missing.pem"


ROWS: list[tuple[Fault, Callable[[Path], tuple[list[str], dict[str, str]]]]] = [
    (
        Fault(
            "proxy-url-bad-ipv6",
            2,
            stderr=r"^slsalint: error: HTTP_PROXY='http://\*\*\*@\[bad': not a proxy URL",
        ),
        _env(HTTP_PROXY="http://user:s3cret@[bad"),
    ),
    (
        Fault("proxy-url-bad-port", 2, stderr=r"HTTP_PROXY='http://proxy:port': not a proxy URL"),
        _env(HTTP_PROXY="http://proxy:port"),
    ),
    (
        Fault("proxy-url-socks", 2, stderr=r"ALL_PROXY='socks5://\*\*\*@proxy:1080': SOCKS proxies are not"),
        _env(ALL_PROXY="socks5://u:s3cret@proxy:1080"),
    ),
    (
        Fault("proxy-url-path", 2, stderr=r"http_proxy='http://proxy:3128/x': a proxy URL names a host"),
        _env(http_proxy="http://proxy:3128/x"),
    ),
    (
        Fault("proxy-url-scheme", 2, stderr=r"HTTP_PROXY='ftp://proxy': unsupported proxy scheme 'ftp'"),
        _env(HTTP_PROXY="ftp://proxy"),
    ),
    (
        Fault(
            "proxy-down",
            3,
            stderr=r"cannot reach 127\.0\.0\.1:9 through proxy http://\*\*\*@127\.0\.0\.1:\d+ "
            r"\(HTTP_PROXY\): proxy unreachable",
        ),
        _env(HTTP_PROXY=f"http://user:s3cret@127.0.0.1:{_closed_port()}"),
    ),
    (
        Fault("registry-ca-not-pem", 2, stderr=r"--registry-ca .*ca\.pem: not a PEM certificate file"),
        _ca(_text(b"hello\n")),
    ),
    (
        Fault("registry-ca-broken-block", 2, stderr=r"--registry-ca .*ca\.pem: PEM block 1 is not an X\.509"),
        _ca(_text(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")),
    ),
    (
        Fault(
            "registry-ca-private-key",
            2,
            stderr=r"--registry-ca .*server-key\.pem: PEM block 1 is a PRIVATE KEY",
        ),
        _ca(_key),
    ),
    (Fault("registry-ca-directory", 2, stderr=r"--registry-ca .*: is a directory"), _ca(_directory)),
    (Fault("registry-ca-missing", 2, stderr=r"--registry-ca .*missing\.pem: no such file"), _ca(_missing)),
    (
        Fault("registry-ca-explain", 2, stderr=r"--registry-ca .*ca\.pem: not a PEM certificate file"),
        _ca(_text(b"x"), command="explain"),
    ),
    (
        Fault("registry-ca-fetch", 2, stderr=r"--registry-ca .*ca\.pem: not a PEM certificate file"),
        _ca(_text(b"x"), command="fetch"),
    ),
    (
        Fault("ssl-cert-file-not-pem", 2, stderr=r"SSL_CERT_FILE .*ca\.pem: not a PEM certificate file"),
        _ca(_text(b"x"), variable="SSL_CERT_FILE"),
    ),
    (
        Fault("ssl-cert-dir-not-a-directory", 2, stderr=r"SSL_CERT_DIR .*ca\.pem: not a directory"),
        _ca(_text(b"x"), variable="SSL_CERT_DIR"),
    ),
    (
        Fault(
            "attestation-repository-tag",
            2,
            stderr=r"--attestation-repository .*names a repository, not a tag",
        ),
        lambda tmp: (["check", IMAGE, "--attestation-repository", "127.0.0.1:9/sigs:v1"], {}),
    ),
    (
        Fault("cosign-repository-digest", 2, stderr=r"\(COSIGN_REPOSITORY\) .*names a repository, not a tag"),
        _env(COSIGN_REPOSITORY="127.0.0.1:9/sigs@sha256:" + "0" * 64),
    ),
]


@pytest.mark.parametrize(("fault", "make"), ROWS, ids=ids([f for f, _ in ROWS]))
def test_network_faults(
    fault: Fault, make: Callable[[Path], tuple[list[str], dict[str, str]]], tmp_path: Path
) -> None:
    args, env = make(tmp_path)
    outcome = run(*args, env=env)
    assert_fault(fault, outcome)
    assert "s3cret" not in outcome.stderr + outcome.stdout
