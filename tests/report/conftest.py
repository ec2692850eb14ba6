"""Fixtures for the report tests: one gate run shared by a module, and the real validators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.report.scenario import Gate, gate

ROOT = Path(__file__).resolve().parents[2]
CI_ASSETS = ROOT / "tests" / "assets" / "ci"
MULTITOOL = ROOT / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    """The gate run of tests/report/scenario.py (exit 1: it has violations)."""
    result = gate(tmp_path_factory.mktemp("fleet") / "repo")
    assert result.outcome.code == 1, result.outcome.stderr
    return result


@pytest.fixture(scope="session")
def multitool() -> Path:
    """The SARIF Multitool binary that `make test` installs from npm (package.json)."""
    if not MULTITOOL.is_file():
        pytest.fail(f"{MULTITOOL} is missing: run `make node-tools` (npm install of package.json)")
    return MULTITOOL


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    path = ROOT / "tests" / "assets" / "corpus" / "schemas" / "sarif" / "sarif-schema-2.1.0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema
