"""Helpers for the Rego tests: modules on disk, OCI layouts with chosen provenance, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from tests.conftest import CORPUS
from tests.support import buildkit as bk

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules" / "platform-team"
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
UNTRUSTED_GOLANG = "pkg:docker/evil.example.com/mirror/golang@1.22?digest=sha256:{hex}&platform=linux%2Famd64"

ORG001_MODULE = """\
# METADATA
# title: Base images from the company registry
# description: Base images must come from registry.example.com.
# custom:
#   id: ORG001
package org.images

import rego.v1

deny contains msg if {
	some material in input.provenance.materials
	startswith(material.uri, "pkg:docker/")
	not startswith(material.uri, "pkg:docker/registry.example.com/")
	msg := concat("", ["base image ", material.uri, " is not from registry.example.com"])
}
"""


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``slsalint ARGS`` in a subprocess, as a user runs it."""
    environment = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(ROOT)}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=180,
        env=environment,
    )


def write_rego(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def image_layout(
    path: Path,
    *,
    materials: list[dict[str, Any]] | None = None,
    args: dict[str, str] | None = None,
    platforms: tuple[Platform, ...] = (AMD64,),
) -> str:
    """An OCI layout with one image (per platform) and BuildKit mode=max provenance; ``oci:`` ref."""
    w = LayoutWriter(path)
    entries = []
    for platform in platforms:
        image = bk.add_platform_image(w, platform, seed=f"rego-{platform}")
        name = f"pkg:docker/example.com/demo/app@v1.0.0?platform={str(platform).replace('/', '%2F')}"
        statement = bk.buildkit_v02_statement(image["digest"], name=name, materials=materials, args=args)
        entries += [image, bk.add_attestation_manifest(w, image, [statement])]
    bk.add_index(w, entries, ref_name="v1.0.0")
    w.write_index()
    return f"oci:{path}"


def untrusted_materials() -> list[dict[str, Any]]:
    hexpart = bk.fake_hex("untrusted")
    return [{"uri": UNTRUSTED_GOLANG.format(hex=hexpart), "digest": {"sha256": hexpart}}]


def findings(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    report = json.loads(result.stdout)
    return [f for t in report["targets"] for f in t["findings"]]


@pytest.fixture
def sarif_schema() -> dict[str, Any]:
    path = CORPUS / "schemas" / "sarif" / "sarif-schema-2.1.0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@pytest.fixture
def fault(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the worker's test-only fault injection for in-process engines."""

    def set_fault(value: str) -> None:
        monkeypatch.setenv("SLSALINT_REGO_WORKER_FAULT", value)

    monkeypatch.delenv("SLSALINT_REGO_WORKER_FAULT", raising=False)
    assert "SLSALINT_REGO_WORKER_FAULT" not in os.environ
    return set_fault
