"""Components and exceptions for images read from the real CNCF distribution registry: globs match
the normalized registry name, the ref is derived from the tag, exceptions waive per component."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.exceptions.conftest import POLICY, days, run, write_image
from tests.support.registry import Registry

pytestmark = pytest.mark.registry

EXCEPTIONS = """\
version: 1
exceptions:
  - rule: SL302
    component: fleet-agent
    platforms: [linux/arm64]
    reason: arm64 still built by the legacy pipeline
    owner: release-team@example.com
    expires: {expires}
"""


@pytest.fixture
def pushed(registry: Registry, tmp_path: Path) -> Path:
    images = tmp_path / "layouts"
    for name in ("fleet-agent", "fleet-controller"):
        write_image(images, name)
        registry.push_layout(images / name, f"rancher/{name}")
    work = tmp_path / "release"
    work.mkdir()
    (work / "slsalint.yaml").write_text(POLICY)
    (work / "slsalint-exceptions.yaml").write_text(EXCEPTIONS.format(expires=days(30)))
    return work


def check(work: Path, reference: str) -> tuple[int, dict[str, object]]:
    result = run("check", reference, "--format", "json", "--no-cache", cwd=work)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def summary(report: dict[str, object]) -> object:
    return report["summary"]


def test_registry_images_are_matched_by_component_and_waived(registry: Registry, pushed: Path) -> None:
    code, report = check(pushed, registry.ref("rancher/fleet-agent", "v0.12.0"))
    assert code == 0
    assert summary(report) == {"error": 0, "warning": 0, "note": 0, "waived": 1, "targets": 1}
    code, report = check(pushed, registry.ref("rancher/fleet-controller", "v0.12.0"))
    assert code == 1
    assert summary(report) == {"error": 1, "warning": 0, "note": 0, "waived": 0, "targets": 1}


def test_registry_digest_only_reference_cannot_derive_the_ref(registry: Registry, pushed: Path) -> None:
    tags = registry.push_layout(pushed.parent / "layouts" / "fleet-agent", "rancher/fleet-agent")
    code, report = check(pushed, registry.ref("rancher/fleet-agent", digest=tags["v0.12.0"]))
    assert code == 1
    targets = report["targets"]
    assert isinstance(targets, list)
    messages = [f["message"] for f in targets[0]["findings"] if f["ruleId"] == "SL402"]
    assert len(messages) == 1 and "carries no tag to derive it from" in messages[0]
    code, report = check(pushed, registry.ref("rancher/fleet-agent", "v0.12.0", tags["v0.12.0"]))
    assert code == 0
