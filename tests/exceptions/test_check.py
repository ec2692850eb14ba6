"""``slsalint check`` with an exceptions file, as a release manager and a CI gate see it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.exceptions.conftest import Workspace, days

FLEET_AGENT_ARM64 = """\
  # arm64 is still built by the legacy pipeline (mode=min); tracked in FLEET-1234
  - rule: SL302
    component: fleet-agent
    platforms: [linux/arm64]
    reason: arm64 still built by the legacy pipeline
    owner: release-team@example.com
    ticket: FLEET-1234
    expires: {expires}
"""


def findings(report: dict[str, Any]) -> list[tuple[str, str | None, bool]]:
    """(rule id, platform, waived) of every finding, sorted."""
    return sorted((f["ruleId"], f["platform"], f["waived"]) for t in report["targets"] for f in t["findings"])


def check_json(ws: Workspace, image: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = ws.run("check", image, "--format", "json", *extra)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_an_exception_for_fleet_agent_waives_its_finding_and_not_fleet_controllers(
    workspace: Workspace,
) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))

    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 0
    assert findings(report) == [("SL302", "linux/arm64", True)]
    [waived] = [f for t in report["targets"] for f in t["findings"]]
    assert waived["level"] == "error"  # the finding keeps its level, it is only waived
    assert waived["waiver"] == {
        "reason": "arm64 still built by the legacy pipeline",
        "owner": "release-team@example.com",
        "expires": days(60),
        "ticket": "FLEET-1234",
    }
    assert report["summary"]["waived"] == 1 and report["summary"]["error"] == 0

    code, report, _ = check_json(workspace, workspace.controller.reference)
    assert code == 1
    assert findings(report) == [("SL302", "linux/arm64", False)]
    assert report["summary"] == {"error": 1, "warning": 0, "note": 0, "waived": 0, "targets": 1}


def test_waived_findings_stay_visible_in_text(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "waived  SL302 provenance-mode-min (error)" in result.stdout
    assert (
        "waived: arm64 still built by the legacy pipeline (owner: release-team@example.com" in result.stdout
    )
    assert "0 errors, 0 warnings, 0 notes, 1 waived" in result.stdout


def test_the_exception_is_scoped_to_its_platform(workspace: Workspace, tmp_path: Path) -> None:
    from tests.exceptions.conftest import AMD64, ARM64, write_image

    both = write_image(tmp_path / "both" / "rancher", "fleet-agent", min_platforms=(AMD64, ARM64))
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))
    code, report, _ = check_json(workspace, both.reference)
    assert code == 1
    assert findings(report) == [("SL302", "linux/amd64", False), ("SL302", "linux/arm64", True)]


def test_matching_by_rule_name_and_image_glob_and_digest(workspace: Workspace) -> None:
    workspace.write_exceptions(
        f"""\
  - rule: provenance-mode-min
    component: "*/rancher/fleet-*"
    digest: {workspace.controller.index_digest}
    reason: pinned to this build only
    owner: release-team@example.com
    expires: {days(30)}
"""
    )
    code, report, _ = check_json(workspace, workspace.controller.reference)
    assert code == 0
    assert findings(report) == [("SL302", "linux/arm64", True)]
    # The same exception does not cover another image (another digest): out of scope, no SL902.
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 1
    assert findings(report) == [("SL302", "linux/arm64", False)]


def test_a_platform_digest_pins_the_exception_to_that_manifest(workspace: Workspace) -> None:
    from tests.exceptions.conftest import ARM64

    workspace.write_exceptions(
        f"""\
  - rule: SL302
    component: fleet-agent
    digest: {workspace.agent.platform_digests[ARM64]}
    reason: this arm64 manifest only
    owner: release-team@example.com
    expires: {days(30)}
"""
    )
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert (code, findings(report)) == (0, [("SL302", "linux/arm64", True)])


def test_expired_exception_leaves_the_finding_active_and_adds_sl901(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(-3)))
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 1
    assert findings(report) == [("SL302", "linux/arm64", False), ("SL901", None, False)]
    [sl901] = [f for t in report["targets"] for f in t["findings"] if f["ruleId"] == "SL901"]
    assert sl901["level"] == "error"
    assert f"expired on {days(-3)}" in sl901["message"]
    assert "SL302 for fleet-agent on linux/arm64" in sl901["message"]
    assert sl901["source"] == "exceptions slsalint-exceptions.yaml:4"
    assert "slsalint exceptions renew" in sl901["remediation"]
    assert "SL901" in {r["id"] for r in report["rules"]}


def test_the_last_day_still_counts(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(0)))
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 0
    assert findings(report) == [("SL302", "linux/arm64", True), ("SL903", None, False)]


def test_unused_exception_adds_sl902_and_does_not_fail(workspace: Workspace) -> None:
    workspace.write_exceptions(
        FLEET_AGENT_ARM64.format(expires=days(60))
        + f"""\
  - rule: SL404
    component: fleet-agent
    reason: materials were unpinned in 0.11
    owner: release-team@example.com
    expires: {days(60)}
"""
    )
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 0
    assert findings(report) == [("SL302", "linux/arm64", True), ("SL902", None, False)]
    [sl902] = [f for t in report["targets"] for f in t["findings"] if f["ruleId"] == "SL902"]
    assert sl902["level"] == "note"
    assert "#2 (SL404 for fleet-agent)" in sl902["message"] and "matched no finding" in sl902["message"]
    # Exceptions for images that were not checked are out of scope: no SL902 for fleet-agent's
    # exceptions when fleet-controller is checked.
    code, report, _ = check_json(workspace, workspace.controller.reference)
    assert "SL902" not in {rule for rule, _, _ in findings(report)}


def test_expiring_exception_adds_sl903_warning(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(5)))
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 0
    assert findings(report) == [("SL302", "linux/arm64", True), ("SL903", None, False)]
    [sl903] = [f for t in report["targets"] for f in t["findings"] if f["ruleId"] == "SL903"]
    assert sl903["level"] == "warning" and "expires in 5 days" in sl903["message"]
    assert workspace.run("check", workspace.agent.reference, "--fail-on", "warning").returncode == 1


def test_the_warning_window_is_configurable(workspace: Workspace) -> None:
    policy = workspace.path / "slsalint.yaml"
    policy.write_text(policy.read_text() + "exceptions-warning-days: 3\n")
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(5)))
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert (code, findings(report)) == (0, [("SL302", "linux/arm64", True)])


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        (
            "2026-02-30",
            "slsalint-exceptions.yaml:10: exception #1 (SL302 for fleet-agent): expires: '2026-02-30' "
            "is not a real date",
        ),
        ("2026-13-01", "is not a real date"),
        ("31/12/2026", "expires must be a date YYYY-MM-DD, got '31/12/2026'"),
        ("2026-12-31T10:00:00Z", "expires must be a date YYYY-MM-DD"),
    ],
)
def test_an_impossible_date_is_a_configuration_error(
    workspace: Workspace, expires: str, message: str
) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=expires))
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert message in result.stderr


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "  - {rule: SL302, component: fleet-agent, reason: r, expires: EXPIRES}\n",
            "slsalint-exceptions.yaml:3: exception #1 (SL302 for fleet-agent): "
            "'owner' is a required property",
        ),
        (
            "  - {rule: SL302, component: fleet-agent, reason: '  ', owner: o, expires: EXPIRES}\n",
            "exception #1 (SL302 for fleet-agent): reason must not be blank",
        ),
        (
            "  - {rule: SL302, component: fleet-agent, reason: r, owner: o, expires: EXPIRES, until: x}\n",
            "Additional properties are not allowed ('until' was unexpected)",
        ),
        (
            "  - {rule: SL999, component: fleet-agent, reason: r, owner: o, expires: EXPIRES}\n",
            "exception #1 (SL999 for fleet-agent): unknown rule 'SL999'",
        ),
        (
            "  - {rule: SL901, component: fleet-agent, reason: r, owner: o, expires: EXPIRES}\n",
            "SL901 (exception-expired) reports on exceptions and cannot be waived",
        ),
        (
            "  - {rule: SL302, component: fleet-agnet, reason: r, owner: o, expires: EXPIRES}\n",
            "unknown component 'fleet-agnet' (did you mean fleet-agent?) (policy components: fleet-agent, "
            "fleet-controller)",
        ),
        (
            "  - {rule: SL302, component: fleet-agent, platforms: [arm64], reason: r, owner: o,"
            " expires: EXPIRES}\n",
            "platform 'arm64' is not os/arch[/variant]",
        ),
        (
            "  - {rule: SL302, component: fleet-agent, digest: sha256:abc, reason: r, owner: o,"
            " expires: EXPIRES}\n",
            "digest must be sha256: followed by 64 lowercase hex digits",
        ),
        (
            "  - {rule: SL302, component: fleet-agent, reason: r, owner: o, expires: EXPIRES}\n"
            "  - {rule: provenance-mode-min, component: fleet-agent, reason: s, owner: o,"
            " expires: EXPIRES}\n",
            "slsalint-exceptions.yaml:4: exception #2 (provenance-mode-min for fleet-agent): same rule, "
            "component, platforms and digest as exception #1 (line 3)",
        ),
    ],
)
def test_a_malformed_entry_is_exit_2_naming_the_entry(workspace: Workspace, entry: str, message: str) -> None:
    workspace.write_exceptions(entry.replace("EXPIRES", days(30)))
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr, result.stderr


def test_an_expiry_beyond_the_horizon_is_exit_2(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(181)))
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2
    assert (
        f"exception #1 (SL302 for fleet-agent): expires {days(181)} is beyond the 180-day horizon"
        in result.stderr
    )
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(180)))
    assert workspace.run("check", workspace.agent.reference).returncode == 0


def test_the_horizon_is_configurable(workspace: Workspace) -> None:
    policy = workspace.path / "slsalint.yaml"
    policy.write_text(policy.read_text() + "exceptions-horizon-days: 30\n")
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(45)))
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2 and "beyond the 30-day horizon" in result.stderr


def test_missing_or_empty_exceptions_file_is_exit_2(workspace: Workspace) -> None:
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2
    assert "slsalint-exceptions.yaml: no such exceptions file" in result.stderr
    workspace.exceptions.write_text("")
    result = workspace.run("check", workspace.agent.reference)
    assert result.returncode == 2 and "empty exceptions file" in result.stderr


def test_the_exceptions_file_is_validated_before_anything_is_read(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires="2026-02-30"))
    # Reading this registry would fail with exit 3 (nothing listens on port 9); exit 2 shows the
    # exceptions file was refused first.
    result = workspace.run("check", "127.0.0.1:9/rancher/fleet-agent:v0.12.0", "--no-cache")
    assert result.returncode == 2, result.stderr
    assert "slsalint-exceptions.yaml:10" in result.stderr


def test_exceptions_flag_overrides_the_policy(workspace: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "other-exceptions.yaml"
    other.write_text("version: 1\nexceptions:\n" + FLEET_AGENT_ARM64.format(expires=days(60)))
    # The policy's own file does not exist: it is not read when --exceptions names another.
    code, report, _ = check_json(workspace, workspace.agent.reference, "--exceptions", str(other))
    assert (code, findings(report)) == (0, [("SL302", "linux/arm64", True)])


def test_the_policy_names_its_exceptions_file_relative_to_itself(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))
    result = workspace.run(
        "check", workspace.agent.reference, "--policy", str(workspace.path / "slsalint.yaml")
    )
    assert result.returncode == 0, result.stderr
    elsewhere = workspace.path.parent
    from tests.exceptions.conftest import run

    result = run("check", workspace.agent.reference, "--policy", "release/slsalint.yaml", cwd=elsewhere)
    assert result.returncode == 0, result.stderr


def test_component_names_need_a_policy_that_defines_them(workspace: Workspace, tmp_path: Path) -> None:
    exceptions = workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))
    from tests.exceptions.conftest import run

    result = run("check", workspace.agent.reference, "--exceptions", str(exceptions), cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown component 'fleet-agent' (policy components: none defined)" in result.stderr


# --- report formats ------------------------------------------------------------------------------


def test_sarif_suppressions_validate_against_the_official_schema(workspace: Workspace, corpus: Path) -> None:
    import jsonschema

    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(5)))
    result = workspace.run("check", workspace.agent.reference, "--format", "sarif")
    assert result.returncode == 0, result.stderr
    sarif = json.loads(result.stdout)
    schema = json.loads((corpus / "schemas" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(sarif)] == []

    run = sarif["runs"][0]
    [waived] = [r for r in run["results"] if r["ruleId"] == "SL302"]
    assert waived["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "arm64 still built by the legacy pipeline (owner: release-team@example.com, "
            f"ticket: FLEET-1234, expires: {days(5)})",
        }
    ]
    [expiring] = [r for r in run["results"] if r["ruleId"] == "SL903"]
    assert "suppressions" not in expiring and expiring["level"] == "warning"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"SL901", "SL902", "SL903"} <= set(rules)
    assert rules["SL901"]["helpUri"].endswith("docs/rules/SL901.md")
    assert rules["SL902"]["defaultConfiguration"] == {"level": "note"}


def test_expired_exception_sarif_is_valid_and_unsuppressed(workspace: Workspace, corpus: Path) -> None:
    import jsonschema

    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(-1)))
    result = workspace.run("check", workspace.agent.reference, "--format", "sarif")
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    schema = json.loads((corpus / "schemas" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert sorted((r["ruleId"], r["level"], "suppressions" in r) for r in results) == [
        ("SL302", "error", False),
        ("SL901", "error", False),
    ]


def test_junit_reports_waived_findings_as_skipped(workspace: Workspace) -> None:
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))
    result = workspace.run("check", workspace.agent.reference, "--format", "junit")
    assert result.returncode == 0
    root = ET.fromstring(result.stdout)
    [case] = [
        c
        for c in root.iter("testcase")
        if (c.get("classname") or "").endswith(".linux/arm64") and (c.get("name") or "").startswith("SL302 ")
    ]
    skipped = case.find("skipped")
    assert skipped is not None
    message = skipped.get("message") or ""
    assert message.startswith("waived until ") and "arm64 still built by the legacy pipeline" in message
    assert root.get("failures") == "0"
    assert sum(1 for _ in root.iter("skipped")) == 1


def test_json_report_with_exceptions_validates_against_its_schema(workspace: Workspace) -> None:
    import jsonschema

    from tests.exceptions.conftest import ROOT

    workspace.write_exceptions(
        FLEET_AGENT_ARM64.format(expires=days(-2))
        + f"  - {{rule: SL404, component: fleet-agent, reason: r, owner: o, expires: {days(3)}}}\n"
    )
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert code == 1
    schema = json.loads((ROOT / "schemas" / "report-v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    assert findings(report) == [
        ("SL302", "linux/arm64", False),
        ("SL901", None, False),
        ("SL902", None, False),
    ]


def test_policy_rules_set_the_levels_of_the_exception_notes(workspace: Workspace) -> None:
    # A team that wants stale waivers cleaned up makes SL902 an error; one that finds SL903 noisy
    # turns it off. The waived finding itself is unaffected.
    policy = workspace.path / "slsalint.yaml"
    base = policy.read_text()
    workspace.write_exceptions(
        FLEET_AGENT_ARM64.format(expires=days(5))
        + f"""\
  - rule: SL404
    component: fleet-agent
    reason: materials were unpinned in 0.11
    owner: release-team@example.com
    expires: {days(60)}
"""
    )
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert (code, findings(report)) == (
        0,
        [("SL302", "linux/arm64", True), ("SL902", None, False), ("SL903", None, False)],
    )
    policy.write_text(base + "rules:\n  exception-unused: {level: error}\n  SL903: {level: off}\n")
    code, report, _ = check_json(workspace, workspace.agent.reference)
    assert (code, findings(report)) == (1, [("SL302", "linux/arm64", True), ("SL902", None, False)])
    [sl902] = [f for t in report["targets"] for f in t["findings"] if f["ruleId"] == "SL902"]
    assert sl902["level"] == "error"
    levels = {r["id"]: r["level"] for r in report["rules"]}
    assert levels["SL902"] == "error" and "SL903" not in levels


def test_a_release_checked_in_one_run(workspace: Workspace) -> None:
    # Every image of the product in one report: the fleet-agent exception waives its finding only,
    # fleet-controller's stays active, and the run fails on it.
    workspace.write_exceptions(FLEET_AGENT_ARM64.format(expires=days(60)))
    code, report, _ = check_json(workspace, workspace.agent.reference, workspace.controller.reference)
    assert code == 1
    by_image = {
        t["reference"]: sorted((f["ruleId"], f["platform"], f["waived"]) for f in t["findings"])
        for t in report["targets"]
    }
    assert by_image == {
        workspace.agent.reference: [("SL302", "linux/arm64", True)],
        workspace.controller.reference: [("SL302", "linux/arm64", False)],
    }
    assert report["summary"] == {"error": 1, "warning": 0, "note": 0, "waived": 1, "targets": 2}
