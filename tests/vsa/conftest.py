"""Fixtures for the VSA tests: the real registry, signing keys in files, a pushed image."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from slsalint.model import Platform
from tests.support import pki
from tests.support.images import AMD64, ARM64, build
from tests.support.registry import Registry, running_registry

VERIFIER = "https://ci.example.com/slsalint-gate"


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (make test installs the Debian package)")
    with running_registry(tmp_path_factory.mktemp("vsa-registry")) as started:
        yield started


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path


def write_pair(directory: Path, kind: pki.KeyKind, seed: str) -> KeyPair:
    key = pki.signing_key(kind, seed)
    private = directory / f"{seed}-{kind}.key"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = directory / f"{seed}-{kind}.pub"
    public.write_bytes(pki.public_pem(key))
    return KeyPair(private, public)


@pytest.fixture
def keys(tmp_path: Path) -> KeyPair:
    return write_pair(tmp_path, "p256", "vsa-signer")


@pytest.fixture
def other_keys(tmp_path: Path) -> KeyPair:
    return write_pair(tmp_path, "p256", "someone-else")


@dataclass(frozen=True)
class Image:
    ref: str
    index: str
    platforms: list[str]


def push_image(registry: Registry, tmp_path: Path, repository: str, *, single: bool = False) -> Image:
    """A two-platform index with BuildKit provenance (``single``: linux/amd64 only, another digest)."""
    attest: dict[Platform, list[dict[str, Any]] | None] = {AMD64: []} if single else {AMD64: [], ARM64: []}
    layout, index, descriptors = build(tmp_path, attest=attest, name=repository.replace("/", "-"))
    registry.push_layout(layout, repository)
    return Image(
        registry.ref(repository, "v1.0.0"), index["digest"], [d["digest"] for d in descriptors.values()]
    )
