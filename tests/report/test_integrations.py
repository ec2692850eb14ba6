"""The GitLab CI component and the pre-commit hooks: valid, and their commands run locally."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from tests.report.conftest import CI_ASSETS, ROOT
from tests.report.scenario import lay_out

TEMPLATE = ROOT / "templates" / "slsalint.gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
_INPUT = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")
PATH = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"


def _template() -> tuple[dict[str, Any], str]:
    text = TEMPLATE.read_text(encoding="utf-8")
    header, _, body = text.partition("\n---\n")
    spec: dict[str, Any] = YAML(typ="safe").load(header)
    return spec, body


def interpolate(body: str, spec: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """GitLab's ``$[[ inputs.NAME ]]`` interpolation: given values, else defaults; a missing
    input without default is an error, as in GitLab."""
    inputs = spec["spec"]["inputs"]

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in inputs, f"unknown input {name}"
        if name in given:
            return given[name]
        assert "default" in inputs[name], f"input {name} is required"
        return str(inputs[name]["default"])

    job: dict[str, Any] = YAML(typ="safe").load(_INPUT.sub(value, body))
    return job


def run_job(job: dict[str, Any], workspace: Path) -> subprocess.CompletedProcess[str]:
    """The job's before_script and script lines, as GitLab's shell executor runs them."""
    ((_name, spec),) = job.items()
    script = "\n".join([*spec.get("before_script", []), *spec["script"]])
    env = {"PATH": PATH, "HOME": str(workspace), "NO_COLOR": "1", "CI": "true", **spec["variables"]}
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_template_has_spec_inputs_and_a_junit_artifact() -> None:
    spec, body = _template()
    inputs = spec["spec"]["inputs"]
    assert "default" not in inputs["targets"]  # required
    job = interpolate(body, spec, {"targets": "registry.example.com/app:v1"})
    ((name, definition),) = job.items()
    assert name == "slsalint"
    assert definition["artifacts"]["when"] == "always"  # the report of a failing gate is kept
    assert definition["artifacts"]["reports"]["junit"] == "slsalint-junit.xml"
    assert "$[[" not in json.dumps(job)
    for line in definition["script"] + definition["before_script"]:
        assert "$[[" not in line  # inputs reach scripts through variables only


def test_template_job_runs_and_writes_a_valid_junit_report(tmp_path: Path) -> None:
    lay_out(tmp_path)
    spec, body = _template()
    job = interpolate(
        body,
        spec,
        {"targets": "oci:images/app oci:images/worker", "install": "none", "args": "--pack recommended"},
    )
    result = run_job(job, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # violations fail the job
    report = tmp_path / "slsalint-junit.xml"
    xmlschema.XMLSchema10(str(CI_ASSETS / "junit-10.xsd")).validate(str(report))
    root = ET.parse(report).getroot()
    keys = [
        (s.get("name"), c.get("classname"), c.get("name"))
        for s in root.iter("testsuite")
        for c in s.iter("testcase")
    ]
    assert len(keys) == len(set(keys))
    assert int(root.get("failures", "0")) > 0
    assert (tmp_path / "slsalint.json").is_file() and (tmp_path / "slsalint.sarif").is_file()


def test_template_with_signature_requirements_fails_closed(tmp_path: Path) -> None:
    """The docs/ci.md example: cosign identity and a required tag= annotation. The unsigned test
    images fail (SL205/SL206), and the report says so."""
    lay_out(tmp_path)
    spec, body = _template()
    job = interpolate(
        body,
        spec,
        {
            "targets": "oci:images/app",
            "install": "none",
            "certificate-identity": "https://gitlab.com/acme/app//.gitlab-ci.yml@refs/tags/v1.2.0",
            "certificate-oidc-issuer": "https://gitlab.com",
            "annotations": "tag=v1.2.0",
            "args": "--enable image-signature-missing",
        },
    )
    result = run_job(job, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    ids = {
        f["ruleId"]
        for t in json.loads((tmp_path / "slsalint.json").read_text())["targets"]
        for f in t["findings"]
    }
    assert "SL205" in ids


def test_template_without_targets_is_a_configuration_error(tmp_path: Path) -> None:
    spec, body = _template()
    result = run_job(interpolate(body, spec, {"targets": " ", "install": "none"}), tmp_path)
    assert result.returncode == 2
    assert "names no image" in result.stderr


def _hooks() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = YAML(typ="safe").load(HOOKS.read_text(encoding="utf-8"))
    return hooks


def test_pre_commit_hooks_validate_against_the_schema() -> None:
    schema = json.loads((CI_ASSETS / "pre-commit-hooks.schema.json").read_text(encoding="utf-8"))
    errors = [e.message for e in Draft7Validator(schema).iter_errors(_hooks())]
    assert errors == []
    assert [h["id"] for h in _hooks()] == [
        "slsalint-policy",
        "slsalint-exceptions",
        "slsalint-exceptions-audit",
    ]


def _run_hook(hook_id: str, files: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A hook as pre-commit runs it: its entry split like a command line, the files appended."""
    import shlex

    (hook,) = [h for h in _hooks() if h["id"] == hook_id]
    for name in files:
        assert re.search(hook["files"], name), f"{hook_id} would not be given {name}"
    return subprocess.run(
        [*shlex.split(hook["entry"]), *files],
        cwd=cwd,
        env={"PATH": PATH, "HOME": str(cwd), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("hook", "content", "code", "message"),
    [
        ("slsalint-policy", "version: 1\npacks: [recommended]\n", 0, None),
        ("slsalint-policy", "version: 1\npacks: [nope]\n", 2, r"slsalint\.yaml:2: unknown pack 'nope'"),
        ("slsalint-exceptions", "version: 1\nexceptions: []\n", 0, None),
        (
            "slsalint-exceptions",
            "version: 1\nexceptions:\n  - {rule: SL302, component: '*/x', owner: o, expires: 2030-01-01}\n",
            2,
            r"slsalint-exceptions\.yaml:3: exception #1 .*reason",
        ),
        (
            "slsalint-exceptions-audit",
            "version: 1\nexceptions:\n"
            "  - {rule: SL302, component: '*/x', reason: r, owner: o, expires: 2020-01-01}\n",
            1,
            r"expired on 2020-01-01",
        ),
    ],
)
def test_pre_commit_hooks_run(
    tmp_path: Path, hook: str, content: str, code: int, message: str | None
) -> None:
    name = "slsalint.yaml" if hook == "slsalint-policy" else "slsalint-exceptions.yaml"
    (tmp_path / "sub").mkdir()
    for where in (tmp_path / name, tmp_path / "sub" / name):
        where.write_text(content, encoding="utf-8")
    result = _run_hook(hook, [name, f"sub/{name}"], tmp_path)
    assert result.returncode == code, result.stdout + result.stderr
    if message is not None:
        assert re.search(message, result.stdout + result.stderr), result.stdout + result.stderr


def _doc_blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_ci_docs_workflows_use_the_shipped_inputs() -> None:
    """The workflow files of docs/ci.md parse and name only inputs the action, the component and
    the hooks define (and every required one)."""
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))
    spec, _ = _template()
    hook_ids = {h["id"] for h in _hooks()}
    seen = {"action": 0, "component": 0, "hooks": 0, "upload": 0}
    for block in _doc_blocks("yaml"):
        doc = YAML(typ="safe").load(block)
        if isinstance(doc, dict) and "jobs" in doc:
            for job in doc["jobs"].values():
                for step in job["steps"]:
                    uses = step.get("uses", "")
                    if uses.startswith("slsalint/slsalint@"):
                        given = set(step.get("with", {}))
                        assert given <= set(action["inputs"]), given - set(action["inputs"])
                        required = {k for k, v in action["inputs"].items() if v.get("required")}
                        assert required <= given
                        seen["action"] += 1
                    if uses.startswith("github/codeql-action/upload-sarif@"):
                        assert uses.endswith("@v4")
                        seen["upload"] += 1
        if isinstance(doc, dict) and "include" in doc:
            (include,) = doc["include"]
            assert include["remote"].endswith("/templates/slsalint.gitlab-ci.yml")
            assert set(include["inputs"]) <= set(spec["spec"]["inputs"])
            seen["component"] += 1
        if isinstance(doc, dict) and "repos" in doc:
            (repo,) = doc["repos"]
            assert {h["id"] for h in repo["hooks"]} <= hook_ids
            seen["hooks"] += 1
        if isinstance(doc, list):  # a list of steps
            for step in doc:
                if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@"):
                    assert step["uses"].endswith("@v4")
                    seen["upload"] += 1
    assert seen == {"action": 1, "component": 1, "hooks": 1, "upload": 1}
