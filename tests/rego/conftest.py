"""Helpers for the Rego tests: modules on disk, OCI layouts with chosen provenance, the CLI."""

from __future__ import annotations

import json
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


# ---------------------------------------------------------------------------------------------
# Real OPA as the oracle of the conformance tests (tests/rego/test_opa_conformance.py)

OPA_PYTHON = ROOT / ".venv-opa" / "bin" / "python"
ORACLE = Path(__file__).resolve().parent / "opa_oracle.py"
TALLY: dict[str, list[int]] = {}
"""Conformance counts (agreeing, total) by kind, printed at the end of the run."""


class Oracle:
    """Real OPA in the test-only venv, answering queries over a pipe (see opa_oracle.py)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(OPA_PYTHON), str(ORACLE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, modules: list[tuple[str, str]], queries: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"modules": modules, "queries": queries}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the OPA oracle died"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def opa() -> Any:
    if not OPA_PYTHON.exists():
        pytest.fail(
            f"the OPA oracle venv is missing ({OPA_PYTHON}): `make .venv-opa/.installed` creates it "
            "(`make test` does)"
        )
    oracle = Oracle()
    yield oracle
    oracle.close()


def tally(kind: str, agreed: bool) -> None:
    counts = TALLY.setdefault(kind, [0, 0])
    counts[0] += int(agreed)
    counts[1] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY:
        return
    order = ["probes", "documented divergences", "pack testdata", "pack tests"]
    kinds = sorted(TALLY, key=lambda k: (order.index(k) if k in order else len(order), k))
    parts = [f"{kind} {TALLY[kind][0]}/{TALLY[kind][1]}" for kind in kinds]
    terminalreporter.write_line(
        "Rego conformance against OPA 1.20.2 (agreeing/total; divergences: documented and pinned): "
        + ", ".join(parts)
    )
