"""Fixtures for the verification tests: an offline, home-less sandbox and a generated PKI."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slsalint.verify.trust import TrustRoot
from tests.support.pki import Leaf, TestPKI, statement

DIGEST_HEX = "ab" * 32
DIGEST = f"sha256:{DIGEST_HEX}"


class NetworkUsed(AssertionError):
    pass


@pytest.fixture(autouse=True)
def offline_sandbox(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every verification test runs with the network cut and an empty home directory; the test
    fails if anything connects or writes a cache (sigstore's TUF cache lives under the home)."""
    home = tmp_path_factory.mktemp("home")
    for variable in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(variable, str(home / variable.lower()) if variable != "HOME" else str(home))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield home
    written = [str(p.relative_to(home)) for p in home.rglob("*")]
    assert written == [], f"verification wrote to the home directory: {written}"


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="session")
def other_pki() -> TestPKI:
    """An unrelated CA and log: what an attacker controls."""
    return TestPKI(seed="attacker")


@pytest.fixture(scope="session")
def trust(pki: TestPKI) -> TrustRoot:
    return TrustRoot.from_json(json.dumps(pki.trusted_root()).encode(), source="test root")


@pytest.fixture(scope="session")
def leaf(pki: TestPKI) -> Leaf:
    return pki.leaf()


@pytest.fixture(scope="session")
def payload() -> bytes:
    return json.dumps(statement(DIGEST_HEX)).encode()
