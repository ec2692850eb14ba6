"""A small fleet on the real registry: images of several repositories, some clean, some failing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import Platform
from tests.support.images import AMD64, ARM64, build
from tests.support.registry import Registry, running_registry

FLEET_SIZE = 9


@dataclass(frozen=True)
class Fleet:
    registry: Registry
    references: list[str]
    """``HOST/fleet/appN:v1.0.0``, in list order."""
    failing: set[str]
    """The references with an error finding (a platform without provenance)."""


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (make test installs the Debian package)")
    root = tmp_path_factory.mktemp("fleet")
    (root / "registry-data").mkdir()
    with running_registry(root / "registry-data") as registry:
        references: list[str] = []
        failing: set[str] = set()
        for n in range(FLEET_SIZE):
            # Every third image lacks provenance on arm64 (SL101, an error).
            attest: dict[Platform, list[dict[str, Any]] | None] = {
                AMD64: [],
                ARM64: None if n % 3 == 1 else [],
            }
            layout, _, _ = build(root, attest=attest, name=f"layout{n}")
            registry.push_layout(layout, f"fleet/app{n}")
            reference = registry.ref(f"fleet/app{n}", "v1.0.0")
            references.append(reference)
            if attest[ARM64] is None:
                failing.add(reference)
        yield Fleet(registry, references, failing)


def write_list(path: Path, references: list[str]) -> Path:
    lines = ["# the fleet, one image per line", ""]
    lines += [f"{ref}   # image {n}" if n % 2 else ref for n, ref in enumerate(references)]
    path.write_text("\n".join(lines) + "\n")
    return path
