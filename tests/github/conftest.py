"""Fixtures for the GitHub attestations source: the real local registry (as in tests/registry), a
fake attestations API and a second host for ``bundle_url`` bodies, a generated Sigstore-like PKI,
and helpers that run the CLI as a user does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.github.fake import Running, serve
from tests.support.pki import TestPKI
from tests.support.registry import Registry, running_registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (make test installs the Debian package)")
    with running_registry(tmp_path_factory.mktemp("registry")) as started:
        yield started


@pytest.fixture
def api() -> Iterator[Running]:
    with serve() as running:
        yield running


@pytest.fixture
def storage() -> Iterator[Running]:
    """Another host (another port) serving ``bundle_url`` bodies."""
    with serve() as running:
        yield running


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI("github-attestations")


@pytest.fixture(scope="session")
def trusted_root(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.write_trusted_root(tmp_path_factory.mktemp("root"))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any GitHub token or API URL of the machine running the tests."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "COSIGN_REPOSITORY")
    }
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env if env is not None else clean_env(),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def check_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """``slsalint check ... --format json``: (exit code, report); the report is ``{"stderr": ...}``
    for exit codes 2 and above."""
    result = run("check", *args, "--format", "json", "--no-cache", env=env)
    if result.returncode >= 2:
        return result.returncode, {"stderr": result.stderr}
    return result.returncode, json.loads(result.stdout)


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for t in report["targets"] for f in t["findings"] if not f["waived"]]


def rule_ids(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return sorted((f["ruleId"], f.get("platform")) for f in findings(report))
