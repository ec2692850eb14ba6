"""Real parts on loopback for the network tests: two plain-HTTP registries and a TLS registry
(the real ``docker-registry``, its certificate signed by a generated test CA), the loopback
``CONNECT`` proxy, and the GitHub API fake and PKI of ``tests/github``.

A registry on a loopback address is always spoken to in plain HTTP, so the TLS registry is named
``registry.test`` (a reserved name, RFC 6761) in references: the loopback proxy resolves it to
127.0.0.1 through its hosts table, and the registry's certificate carries that name."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.github.conftest import api, pki, trusted_root  # noqa: F401 (fixtures used here)
from tests.support.registry import Registry, running_registry
from tests.support.tls import ServerPKI, server_pki

TLS_NAME = "registry.test"


def _need_registry() -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (make test installs the Debian package)")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    _need_registry()
    with running_registry(tmp_path_factory.mktemp("registry")) as started:
        yield started


@pytest.fixture(scope="session")
def side_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A second registry: where an attestation repository on another registry lives."""
    _need_registry()
    with running_registry(tmp_path_factory.mktemp("side-registry")) as started:
        yield started


@pytest.fixture(scope="session")
def tls_pki(tmp_path_factory: pytest.TempPathFactory) -> ServerPKI:
    return server_pki(tmp_path_factory.mktemp("tls-pki"), (TLS_NAME, "127.0.0.1"))


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory, tls_pki: ServerPKI) -> Iterator[Registry]:
    """The real registry serving HTTPS only, with a certificate of the test CA."""
    _need_registry()
    files = (tls_pki.ca, tls_pki.certificate, tls_pki.key)
    with running_registry(tmp_path_factory.mktemp("tls-registry"), tls=files) as started:
        yield started


def tls_ref(registry: Registry, repository: str, tag: str) -> str:
    """A reference to the TLS registry by its certificate's name (reached through the proxy)."""
    port = registry.host.rsplit(":", 1)[1]
    return f"{TLS_NAME}:{port}/{repository}:{tag}"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
