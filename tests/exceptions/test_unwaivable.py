""" "Could not judge" is never waived: SL105 (envelope-invalid) and SL904 (rule-error).

No exceptions file, no ``exceptions add``, no wildcard, no programmatically built entry and no
policy level can make evidence that could not be read, or a rule that could not be evaluated, pass.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from slsalint.exceptions import ExceptionEntry, ExceptionsFile, apply_exceptions
from slsalint.model import Finding, Level, PlatformTarget, Report, Target, TargetResult
from tests.exceptions.conftest import Workspace, days, run

DAY = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("SL105", r"SL105 \(envelope-invalid\) means evidence that could not be read .*never waivable"),
        ("envelope-invalid", r"SL105 \(envelope-invalid\) means evidence that could not be read"),
        ("sl105", r"SL105 \(envelope-invalid\)"),
        ("SL904", r"SL904 \(rule-error\) means a rule that could not be evaluated .*never waivable"),
        ("rule-error", r"SL904 \(rule-error\) means a rule that could not be evaluated"),
        ("'*'", r"rule '\*' is a wildcard; .*SL105 and SL904, which are never waivable"),
        ("'SL9*'", r"rule 'SL9\*' is a wildcard"),
        ("'SL10?'", r"rule 'SL10\?' is a wildcard"),
        ("'SL[19]0[45]'", r"rule 'SL\[19\]0\[45\]' is a wildcard"),
        ("all", r"rule 'all' is a wildcard"),
    ],
)
def test_check_refuses_an_exceptions_file_naming_them(workspace: Workspace, rule: str, message: str) -> None:
    workspace.write_exceptions(
        "  - rule: SL302\n    component: fleet-agent\n    reason: r\n    owner: o\n"
        f"    expires: {days(30)}\n"
        f"  - rule: {rule}\n    component: '*'\n    reason: r\n    owner: o\n    expires: {days(30)}\n"
    )
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("slsalint: error: slsalint-exceptions.yaml:8: exception #2 ("), line
    assert re.search(message, line), line
    for command in ("list", "audit"):
        listed = workspace.run("exceptions", command, "slsalint-exceptions.yaml")
        assert listed.returncode == 2, listed.stdout
        assert "slsalint-exceptions.yaml:8: exception #2" in listed.stderr


@pytest.mark.parametrize("rule", ["SL105", "envelope-invalid", "SL904", "rule-error", "*", "SL1*", "SL90?"])
def test_exceptions_add_refuses_them_and_leaves_the_file_alone(workspace: Workspace, rule: str) -> None:
    entry = f"{{rule: SL302, component: '*', reason: r, owner: o, expires: {days(9)}}}"
    original = f"version: 1\nexceptions:\n  - {entry}\n"
    workspace.exceptions.write_text(original)
    result = workspace.run(
        "exceptions", "add", "slsalint-exceptions.yaml", "--rule", rule, "--component", "*/rancher/*",
        "--reason", "r", "--owner", "o", "--expires", days(30),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(f"slsalint: error: --rule {rule}: "), result.stderr
    assert "never waivable" in result.stderr
    assert workspace.exceptions.read_text() == original
    missing = workspace.path / "new.yaml"
    result = workspace.run(
        "exceptions", "add", str(missing), "--rule", rule, "--component", "x/y",
        "--reason", "r", "--owner", "o", "--expires", days(30),
    )  # fmt: skip
    assert result.returncode == 2 and not missing.exists()
    renew = workspace.run(
        "exceptions", "renew", "slsalint-exceptions.yaml", "--rule", rule, "--component", "*",
        "--expires", days(30),
    )  # fmt: skip
    assert renew.returncode == 2 and "never waivable" in renew.stderr


def test_an_entry_naming_them_cannot_be_built() -> None:
    for rule in ("SL105", "SL904", "sl904", "SL901"):
        with pytest.raises(ValueError, match=r"never waivable|cannot be waived"):
            ExceptionEntry(index=0, line=None, rule=rule, component="*", reason="r", owner="o", expires=DAY)


class _CatchAll(ExceptionEntry):
    """An entry that claims every image and every finding (as a programmatic caller might build)."""

    def covers(self, target: Target, image: object, component: str | None) -> bool:
        return True

    def matches(self, finding: Finding, target: Target) -> bool:
        return True


def _finding(rule_id: str, name: str) -> Finding:
    return Finding(
        rule_id=rule_id, rule_name=name, level=Level.ERROR, message=f"{name} happened", image="x/y"
    )


def test_apply_exceptions_never_waives_them_even_for_a_catch_all_entry() -> None:
    target = Target(reference="x/y", kind="image", index_digest=None, platforms=[PlatformTarget("", None)])
    findings = [
        _finding("SL105", "envelope-invalid"),
        _finding("SL904", "rule-error"),
        _finding("SL302", "provenance-mode-min"),
    ]
    result = TargetResult(target=target, findings=list(findings))
    entry = _CatchAll(index=0, line=3, rule="SL302", component="*", reason="r", owner="o", expires=DAY)
    apply_exceptions([(result, None)], ExceptionsFile(Path("e.yaml"), (entry,)), today=DAY)
    waived = {f.rule_id: f.waived for f in result.findings if f.rule_id in ("SL105", "SL904", "SL302")}
    assert waived == {"SL105": False, "SL904": False, "SL302": True}
    report = Report(tool_version="t", results=[result], rules=[], fail_on=Level.ERROR)
    assert report.exit_code == 1
    assert {f.rule_id for f in report.failing()} >= {"SL105", "SL904"}


def test_a_real_broken_attestation_stays_failing_next_to_valid_exceptions(
    workspace: Workspace, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.intoto.jsonl"
    broken.write_text('{"payloadType": "application/vnd.in-toto+json", "payload": NaN, "signatures": []}\n')
    workspace.write_exceptions(
        f"  - {{rule: SL101, component: '*', reason: r, owner: o, expires: {days(30)}}}\n"
    )
    result = workspace.run("check", "--attestation", str(broken), "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["targets"][0]["findings"]
    sl105 = [f for f in findings if f["ruleId"] == "SL105"]
    assert sl105 and not any(f.get("waiver") for f in sl105)
    assert "NaN is not a JSON number" in sl105[0]["message"]


@pytest.mark.parametrize(
    ("policy_rules", "message"),
    [
        ("SL105: {level: warning}", r"slsalint.yaml:3: SL105 \(envelope-invalid\) is always an error"),
        (
            "envelope-invalid: {level: 'off'}",
            r"slsalint.yaml:3: SL105 \(envelope-invalid\) is always an error",
        ),
        ("SL904: {level: note}", r"slsalint.yaml:3: SL904 \(rule-error\) cannot be configured"),
    ],
)
def test_the_policy_cannot_lower_them(tmp_path: Path, policy_rules: str, message: str) -> None:
    (tmp_path / "slsalint.yaml").write_text(f"version: 1\nrules:\n  {policy_rules}\n")
    (tmp_path / "a.json").write_text("{}")
    result = run("check", "--attestation", "a.json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert re.search(message, result.stderr), result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            "SL105",
            "--disable SL105: SL105 (envelope-invalid) is always an error and cannot be lowered or disabled",
        ),
        ("envelope-invalid", "--disable envelope-invalid: SL105 (envelope-invalid) is always an error"),
        ("SL904", "--disable SL904: SL904 (rule-error) cannot be disabled"),
        ("rule-error", "--disable rule-error: SL904 (rule-error) cannot be disabled"),
    ],
)
def test_disable_refuses_them(tmp_path: Path, flag: str, message: str) -> None:
    (tmp_path / "a.json").write_text("{}")
    result = run("check", "--attestation", "a.json", "--disable", flag, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(f"slsalint: error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1


def test_values_with_line_breaks_stay_on_one_line_in_messages(tmp_path: Path) -> None:
    from slsalint.errors import ConfigError
    from slsalint.exceptions import load_exceptions

    path = tmp_path / "e.yaml"
    path.write_text(
        "version: 1\nexceptions:\n  - rule: SL302\n    component: '\n\n*/o/app'\n"
        "    reason: r\n    owner: o\n    expires: 2026-03-20\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_exceptions(path, today=DAY)
    message = str(caught.value)
    assert "\n" not in message, message
    assert "exception #1 (SL302 for '\\n*/o/app')" in message, message
