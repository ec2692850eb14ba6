"""Rancher-shaped test images and a release manager's working directory.

``rancher(tmp_path)`` writes two OCI layouts, ``rancher/fleet-agent`` and ``rancher/fleet-controller``,
each tagged ``v0.12.0`` with two platforms: linux/amd64 has BuildKit provenance in mode=max,
linux/arm64 in mode=min (an SL302 finding, the legacy pipeline). Both record the source
``https://github.com/rancher/fleet`` at ``refs/tags/v0.12.0``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from tests.support import buildkit as bk

ROOT = Path(__file__).resolve().parents[2]
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
FLEET = "https://github.com/rancher/fleet"

POLICY = """\
version: 1
packs: [recommended]
components:
  fleet-agent:
    images: ["*/rancher/fleet-agent"]
    source: https://github.com/rancher/fleet
    ref: "refs/tags/{tag}"
  fleet-controller:
    images: ["*/rancher/fleet-controller"]
    source: https://github.com/rancher/fleet
    ref: "refs/tags/{tag}"
exceptions: slsalint-exceptions.yaml
"""


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def days(n: int) -> str:
    """The date ``n`` days from today (UTC), as written in an exceptions file."""
    return (today() + dt.timedelta(days=n)).isoformat()


@dataclass
class Image:
    reference: str
    index_digest: str
    platform_digests: dict[Platform, str]


def write_image(
    root: Path,
    name: str,
    *,
    tag: str = "v0.12.0",
    source_uri: str = f"{FLEET}.git#refs/tags/v0.12.0",
    min_platforms: tuple[Platform, ...] = (ARM64,),
    annotations: dict[str, str] | None = None,
) -> Image:
    """A two-platform image in the layout ``root/name``; ``min_platforms`` get mode=min provenance."""
    path = root / name
    w = LayoutWriter(path)
    images: dict[Platform, dict[str, Any]] = {}
    attestations = []
    for platform in (AMD64, ARM64):
        image = bk.add_platform_image(w, platform, seed=f"{name}-{platform}")
        purl = f"pkg:docker/{name}@{tag}?platform={str(platform).replace('/', '%2F')}"
        statement = bk.buildkit_v02_statement(
            image["digest"],
            name=purl,
            mode="min" if platform in min_platforms else "max",
            source_uri=source_uri,
        )
        attestations.append(bk.add_attestation_manifest(w, image, [statement]))
        images[platform] = image
    index = bk.add_index(w, [*images.values(), *attestations], ref_name=tag, annotations=annotations)
    w.write_index()
    return Image(
        reference=f"oci:{path}:{tag}",
        index_digest=index["digest"],
        platform_digests={p: d["digest"] for p, d in images.items()},
    )


@dataclass
class Workspace:
    """A release manager's directory: policy, exceptions file and the two fleet images."""

    path: Path
    agent: Image
    controller: Image

    @property
    def exceptions(self) -> Path:
        return self.path / "slsalint-exceptions.yaml"

    def write_exceptions(self, entries: str) -> Path:
        self.exceptions.write_text("version: 1\nexceptions:\n" + entries, encoding="utf-8")
        return self.exceptions

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(*args, cwd=self.path)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``slsalint ARGS`` as a user runs it (a real process, no colour)."""
    return subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(cwd), "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "images" / "rancher"
    agent = write_image(root, "fleet-agent")
    controller = write_image(root, "fleet-controller")
    work = tmp_path / "release"
    work.mkdir()
    (work / "slsalint.yaml").write_text(POLICY, encoding="utf-8")
    return Workspace(work, agent, controller)
