"""A CI gate run over several multi-platform images, as a repository would have it.

``gate(root, build=...)`` lays out a repository (``.git``, ``slsalint.yaml``, an exceptions file,
OCI layouts under ``images/``) and runs ``slsalint check`` on every image at once with every report
format, the way the GitHub Action and the GitLab template run it. ``build`` changes every digest
(image configs, layers, hence manifests, indexes and statement subjects) and nothing else, like a
rebuild of the same source.

The images: ``ghcr.io/acme/app`` (linux/amd64 + linux/arm64, each provenance with three unpinned
materials and the wrong source repository: SL404 three times per platform, SL401), and
``ghcr.io/acme/worker`` (arm64 without attestations: SL101, SL106; amd64 with mode=min provenance:
SL302), plus the real ``example-package`` layout of the corpus. The exceptions file waives SL101 on
worker arm64 (expiring soon: SL903) and holds one entry that matches nothing (SL902).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from tests.faults.catalogue import Outcome, run
from tests.support import buildkit as bk

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
CORPUS_LAYOUT = Path(__file__).resolve().parents[1] / "assets" / "corpus" / "oci-layouts"

POLICY = """\
# The gate of the acme repository.
version: 1
packs:
  - recommended
rules:
  SL302: {level: error}
  SL404: {level: error}
components:
  app:
    images: ["ghcr.io/acme/app"]
    source: https://github.com/acme/app
  worker:
    images: ["ghcr.io/acme/worker"]
exceptions: slsalint-exceptions.yaml
"""

EXCEPTIONS = """\
version: 1
exceptions:
  - rule: SL101
    component: worker
    platforms: [linux/arm64]
    reason: arm64 is built by the legacy pipeline
    owner: release-team@example.com
    ticket: ACME-1234
    expires: {soon}
  - rule: SL501
    component: app
    reason: a build argument that looked like a secret was removed
    owner: security@example.com
    expires: {later}
"""

TARGETS = ("oci:images/app", "oci:images/worker", "oci:images/example-package")
FORMATS = ("json", "sarif", "junit", "markdown")


@dataclass
class Gate:
    root: Path
    outcome: Outcome
    reports: dict[str, Path]

    def json(self, fmt: str = "json") -> Any:
        return json.loads(self.reports[fmt].read_text(encoding="utf-8"))

    @property
    def sarif(self) -> dict[str, Any]:
        doc: dict[str, Any] = self.json("sarif")
        return doc


def _unpinned(platform: Platform) -> list[dict[str, Any]]:
    quoted = str(platform).replace("/", "%2F")
    return [
        {"uri": f"pkg:docker/golang@1.22?platform={quoted}", "digest": {}},
        {"uri": f"pkg:docker/alpine@3.20?platform={quoted}", "digest": {}},
        {"uri": "https://github.com/acme/tools.git"},
    ]


def _image(root: Path, name: str, build: str, platforms: dict[Platform, dict[str, Any] | None]) -> None:
    writer = LayoutWriter(root / "images" / name)
    manifests = []
    for platform, options in platforms.items():
        descriptor = bk.add_platform_image(writer, platform, seed=f"{name}|{platform}|build {build}")
        manifests.append(descriptor)
        if options is None:
            continue
        statement = bk.buildkit_v02_statement(descriptor["digest"], **options)
        manifests.append(bk.add_attestation_manifest(writer, descriptor, [statement]))
    bk.add_index(
        writer,
        manifests,
        ref_name="v1.2.0",
        annotations={"io.containerd.image.name": f"ghcr.io/acme/{name}:v1.2.0"},
    )
    writer.write_index()


def lay_out(root: Path, *, build: str = "1", today: dt.date | None = None, policy: str = POLICY) -> None:
    """The repository of the module docstring under ``root``."""
    today = today or dt.datetime.now(dt.UTC).date()
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "slsalint.yaml").write_text(policy, encoding="utf-8")
    (root / "slsalint-exceptions.yaml").write_text(
        EXCEPTIONS.format(soon=today + dt.timedelta(days=5), later=today + dt.timedelta(days=90)),
        encoding="utf-8",
    )
    _image(
        root,
        "app",
        build,
        {
            AMD64: {"materials": _unpinned(AMD64), "source_uri": "https://github.com/evil/app"},
            ARM64: {"materials": _unpinned(ARM64), "source_uri": "https://github.com/evil/app"},
        },
    )
    _image(root, "worker", build, {AMD64: {"mode": "min"}, ARM64: None})
    example = root / "images" / "example-package"
    if not example.exists():
        shutil.copytree(CORPUS_LAYOUT / "example-package-v2.1.0-buildkit-min", example)


def gate(
    root: Path,
    *,
    build: str = "1",
    extra: tuple[str, ...] = (),
    targets: tuple[str, ...] = TARGETS,
    env: dict[str, str] | None = None,
    policy: str = POLICY,
) -> Gate:
    """Lay out the repository and run the gate with every report format (reports under out/)."""
    lay_out(root, build=build, policy=policy)
    out = root / "out"
    reports = {fmt: out / f"slsalint.{fmt}" for fmt in FORMATS}
    args: list[str] = ["check", *targets]
    for fmt, path in reports.items():
        args += ["--format", f"{fmt}={path}"]
    outcome = run(*args, *extra, cwd=root, env=env)
    return Gate(root, outcome, reports)
