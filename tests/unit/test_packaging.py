"""A wheel of slsalint works outside the source tree: the bundled packs (built-in and Rego) and the
JSON Schemas are installed inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "--quiet", "--no-input", "--disable-pip-version-check", "--no-index"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """slsalint built as a wheel, offline, with the setuptools of this environment."""
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp / "dist"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp,
    )
    assert build.returncode == 0, build.stderr
    [built] = (tmp / "dist").glob("slsalint-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """The wheel installed into a directory of its own."""
    tmp = wheel.parent.parent
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(tmp / "site"),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    return tmp / "site"


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=site.parent, env=env
    )


def test_the_wheel_runs_from_its_own_files(installed: Path) -> None:
    where = run(
        installed, "-c", "import slsalint.resources as r; print(r.__file__, r.RULES_DIR, r.SCHEMAS_DIR)"
    )
    module, rules, schemas = where.stdout.split()
    assert all(Path(p).is_relative_to(installed) for p in (module, rules, schemas)), where.stdout
    assert Path(schemas, "report-v1.json").is_file() and Path(rules, "recommended", "pack.yaml").is_file()


def test_the_installed_tool_checks_an_image_with_every_pack(installed: Path) -> None:
    demo = f"oci:{ROOT / 'examples' / 'demo-image'}"
    result = run(installed, "-m", "slsalint", "check", demo, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert {f["ruleId"] for t in json.loads(result.stdout)["targets"] for f in t["findings"]} == {"SL404"}
    packs = run(installed, "-m", "slsalint", "packs", "list")
    assert packs.returncode == 0
    for name in (
        "recommended",
        "docker-scout",
        "slsa-build-l2",
        "slsa-build-l3",
        "github-actions",
        "platform-team",
    ):
        assert name in packs.stdout
    rego = run(installed, "-m", "slsalint", "check", demo, "--pack", "platform-team", "--format", "json")
    assert rego.returncode in (0, 1), rego.stderr
    assert "PLT001" in {r["id"] for r in json.loads(rego.stdout)["rules"]}
    assert "SL904" not in {f["ruleId"] for t in json.loads(rego.stdout)["targets"] for f in t["findings"]}


def test_the_wheel_holds_the_package_its_data_and_its_metadata(wheel: Path) -> None:
    import zipfile
    from email.parser import Parser

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    assert "slsalint/py.typed" in names
    assert "slsalint/_schemas/report-v1.json" in names
    assert "slsalint/_rules/recommended/pack.yaml" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[:5]
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/", "examples/")) for n in names)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.11"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert urls["Source"] == "https://github.com/slsalint/slsalint"
    requires = metadata.get_all("Requires-Dist") or []
    sigstore = next(r for r in requires if r.startswith("sigstore"))
    assert "<5" in sigstore, sigstore  # a new major version of the verifier is a deliberate upgrade
    assert "Typing :: Typed" in (metadata.get_all("Classifier") or [])


def test_python_dash_m_runs_the_cli(installed: Path) -> None:
    result = run(installed, "-m", "slsalint", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("slsalint ")
