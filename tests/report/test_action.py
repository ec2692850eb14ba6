"""The composite GitHub Action (action.yml): valid metadata, and its steps run locally.

The steps run as the runner runs them: each ``run:`` script with ``bash --noprofile --norc -eo
pipefail``, its ``env:`` expressions evaluated from the inputs and the outputs of earlier steps,
with ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_PATH`` and ``RUNNER_TEMP`` as files and
directories of the test. ``uses:`` steps (setup-python, upload-sarif) are not run: their
conditions and inputs are evaluated and checked. The install step is skipped with
``install: 'false'`` (it would install from the network); the slsalint of this checkout is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from tests.report.conftest import CI_ASSETS, ROOT
from tests.report.scenario import lay_out
from tests.support import images

ACTION = ROOT / "action.yml"
CODEQL_ACTION_MAJOR = "v4"
"""github/codeql-action's current major version (package.json 4.36.3 at the commit in
tests/assets/ci/SOURCES.md)."""
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    doc: dict[str, Any] = YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))
    return doc


@dataclass
class Runner:
    """Just enough of the Actions runner for a composite action of `run:` and `uses:` steps."""

    workspace: Path
    inputs: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    used: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    failed: tuple[str, int, str] | None = None

    def value(self, expression: str) -> str:
        expression = expression.strip()
        if m := re.fullmatch(r"inputs\.([A-Za-z0-9_-]+)", expression):
            return self.inputs[m.group(1)]
        if m := re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", expression):
            return self.outputs.get(m.group(1), {}).get(m.group(2), "")
        if expression == "github.action_path":
            return str(ROOT)
        if expression == "github.token":
            return "test-token"
        if expression == "runner.temp":
            return str(self.workspace / "runner-temp")
        if m := re.fullmatch(r"'([^']*)'", expression):
            return m.group(1)
        raise AssertionError(f"action.yml uses an expression the test runner does not know: {expression}")

    def condition(self, text: str | None) -> bool:
        if text is None:
            return True
        inner = _EXPRESSION.fullmatch(text.strip())
        expression = inner.group(1) if inner else text
        result = True
        for term in expression.split("&&"):
            term = term.strip()
            if term in ("!cancelled()", "always()", "success()"):
                continue
            m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", term)
            assert m, f"unknown condition {term!r}"
            left, right = self.value(m.group(1)), self.value(m.group(3))
            result = result and ((left == right) if m.group(2) == "==" else (left != right))
        return result

    def expand(self, text: str) -> str:
        return _EXPRESSION.sub(lambda m: self.value(m.group(1)), text)

    def run(self, action: dict[str, Any]) -> None:
        temp = self.workspace / "runner-temp"
        temp.mkdir(exist_ok=True)
        summary = self.workspace / "step-summary.md"
        path_file = self.workspace / "github-path"
        for number, step in enumerate(action["runs"]["steps"]):
            step_id = step.get("id", f"step{number}")
            if not self.condition(step.get("if")):
                continue
            if "uses" in step:
                self.used.append(
                    (step["uses"], {k: self.expand(str(v)) for k, v in step.get("with", {}).items()})
                )
                continue
            output = self.workspace / f"output-{number}"
            output.write_text("", encoding="utf-8")
            env = {
                "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "HOME": str(self.workspace),
                "NO_COLOR": "1",
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_PATH": str(path_file),
                "GITHUB_WORKSPACE": str(self.workspace),
                "RUNNER_TEMP": str(temp),
            }
            env.update({k: self.expand(str(v)) for k, v in step.get("env", {}).items()})
            script = self.workspace / f"step-{number}.sh"
            script.write_text(step["run"], encoding="utf-8")
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            self.ran.append(step.get("name", step_id))
            self.codes[step.get("name", step_id)] = result.returncode
            values = {}
            for line in output.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition("=")
                values[key] = value
            self.outputs[step_id] = values
            if result.returncode != 0:
                self.failed = (step.get("name", step_id), result.returncode, result.stdout + result.stderr)
                return


def defaults(action: dict[str, Any], **given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in given.items()})
    return values


def test_action_metadata_validates_against_the_schema() -> None:
    schema = json.loads((CI_ASSETS / "github-action.schema.json").read_text(encoding="utf-8"))
    action = load_action()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(action)]
    assert errors == []
    assert action["runs"]["using"] == "composite"


def test_the_schema_rejects_a_broken_action() -> None:
    schema = json.loads((CI_ASSETS / "github-action.schema.json").read_text(encoding="utf-8"))
    action = load_action()
    action["runs"]["steps"][2].pop("shell")  # a composite run step needs its shell
    assert list(Draft7Validator(schema).iter_errors(action))


def test_scripts_take_inputs_through_the_environment_only() -> None:
    """No ${{ }} inside a script (an input could inject shell code); every script parses."""
    for step in load_action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            subprocess.run(["bash", "-n"], input=step["run"], text=True, check=True)
    uses = [step["uses"] for step in load_action()["runs"]["steps"] if "uses" in step]
    assert f"github/codeql-action/upload-sarif@{CODEQL_ACTION_MAJOR}" in uses


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    lay_out(root)
    return root


def test_steps_gate_a_fleet_upload_sarif_and_write_the_summary(repo: Path) -> None:
    action = load_action()
    summary = repo / "step-summary.md"
    summary.write_text("## Build\n\npushed\n", encoding="utf-8")
    runner = Runner(
        repo,
        defaults(
            action, targets="oci:images/app\noci:images/worker oci:images/example-package", install="false"
        ),
    )
    runner.run(action)
    assert runner.ran == ["slsalint check", "Gate on the exit code"]
    assert runner.codes["slsalint check"] == 0  # the check step records the code and lets upload run
    assert runner.codes["Gate on the exit code"] == 1  # the job fails on violations
    check = runner.outputs["check"]
    assert check["exit-code"] == "1"
    assert check["category"] == "slsalint/images/app+images/example-package+images/worker/"
    ((uses, with_),) = runner.used
    assert uses == "github/codeql-action/upload-sarif@v4"
    assert with_ == {"sarif_file": check["sarif-file"], "category": check["category"]}
    sarif = json.loads(Path(check["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["runs"][0]["automationDetails"]["id"] == check["category"]
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.as_uri() + "/"
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Build\n\npushed\n")  # appended, as GitHub expects
    assert "## ❌ slsalint: policy violations" in text


def test_a_configuration_error_still_uploads_and_fails_the_job(repo: Path) -> None:
    action = load_action()
    runner = Runner(repo, defaults(action, targets="oci:images/app", policy="missing.yaml", install="false"))
    runner.run(action)
    assert runner.outputs["check"]["exit-code"] == "2"
    assert runner.codes["Gate on the exit code"] == 2
    ((_, with_),) = runner.used  # the failed analysis is uploaded: code scanning shows why
    sarif = json.loads(Path(with_["sarif_file"]).read_text(encoding="utf-8"))
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert "could not check (exit 2)" in (repo / "step-summary.md").read_text(encoding="utf-8")


def test_a_clean_image_passes_and_inputs_become_flags(repo: Path) -> None:
    images.build(repo / "images", attest={images.AMD64: [], images.ARM64: []}, name="clean")
    (repo / "slsalint.yaml").write_text("version: 1\npacks: [recommended]\n", encoding="utf-8")
    action = load_action()
    runner = Runner(
        repo,
        defaults(
            action,
            targets="oci:images/clean",
            platforms="linux/amd64",
            sarif_category="provenance/clean",
            upload_sarif="false",
            junit_file=str(repo / "out" / "junit.xml"),
            args="--pack\nrecommended",
            install="false",
        ),
    )
    runner.run(action)
    assert runner.outputs["check"]["exit-code"] == "0", runner.outputs
    assert runner.codes["Gate on the exit code"] == 0
    assert runner.used == []  # upload-sarif: false
    assert runner.outputs["check"]["category"] == "provenance/clean/"
    assert (repo / "out" / "junit.xml").is_file()
    assert "✅ slsalint: passed" in (repo / "step-summary.md").read_text(encoding="utf-8")


def test_no_target_is_a_configuration_error(repo: Path) -> None:
    action = load_action()
    runner = Runner(repo, defaults(action, targets="  \n", install="false"))
    runner.run(action)
    assert runner.outputs["check"]["exit-code"] == "2"
    assert runner.codes["Gate on the exit code"] == 2
