"""The library surface: `from slsalint import ...` as a program uses it, and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import slsalint
from slsalint import (
    ConfigError,
    Finding,
    Level,
    LintOptions,
    LintRequest,
    Platform,
    Report,
    lint,
    load_exceptions,
    load_policy,
    render,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_exported_name_resolves() -> None:
    for name in slsalint.__all__:
        assert getattr(slsalint, name) is not None, name
    assert set(slsalint.__all__) <= set(dir(slsalint))
    assert set(slsalint.__all__) == {"__version__", *slsalint._EXPORTS}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr(slsalint, "nope")  # noqa: B009


def test_import_is_cheap() -> None:
    """`import slsalint` loads none of the pipeline (the CLI's start-up depends on it)."""
    code = "import sys, slsalint; print(sorted(m for m in sys.modules if m.startswith('slsalint')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.replace("'", '"')) == ["slsalint"]


def test_lint_a_layout_with_the_public_names(corpus: Path) -> None:
    layout = corpus / "oci-layouts" / "example-package-v2.1.0-buildkit-min"
    report = lint([LintRequest(target=f"oci:{layout}")], LintOptions())
    assert isinstance(report, Report)
    findings: list[Finding] = report.findings
    assert "SL302" in {f.rule_id for f in findings}  # mode=min provenance
    assert report.exit_code == 1
    assert all(isinstance(f.level, Level) for f in findings)
    document = json.loads(render(report, "json"))
    assert document["exitCode"] == 1


def test_policy_and_platform_selection(tmp_path: Path, corpus: Path) -> None:
    policy_file = tmp_path / "slsalint.yaml"
    policy_file.write_text("version: 1\npacks: [recommended]\nrules:\n  SL302: {level: off}\n")
    layout = corpus / "oci-layouts" / "example-package-v2.1.0-buildkit-min"
    report = lint(
        [LintRequest(target=f"oci:{layout}", platforms=[Platform.parse("linux/amd64")])],
        LintOptions(policy=load_policy(policy_file)),
    )
    assert "SL302" not in {f.rule_id for f in report.findings}
    assert [str(p.platform) for r in report.results for p in r.target.platforms] == ["linux/amd64"]


def test_bad_input_raises_the_documented_errors(tmp_path: Path) -> None:
    bad = tmp_path / "slsalint.yaml"
    bad.write_text("version: 7\n")
    with pytest.raises(ConfigError):
        load_policy(bad)
    with pytest.raises(ConfigError):
        load_exceptions(tmp_path / "missing-exceptions.yaml")
