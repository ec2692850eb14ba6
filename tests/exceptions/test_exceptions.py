"""The exceptions file as a library: loading, expiry with an injected date, and applying to findings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from slsalint.components import ComponentMap
from slsalint.engine import LintOptions, LintRequest, lint
from slsalint.errors import ConfigError
from slsalint.exceptions import Status, load_exceptions
from slsalint.model import Report
from slsalint.policy import load_policy
from tests.exceptions.conftest import POLICY, Workspace

DAY = dt.date(2026, 3, 1)


def write(tmp_path: Path, entries: str) -> Path:
    path = tmp_path / "exceptions.yaml"
    path.write_text("version: 1\nexceptions:\n" + entries, encoding="utf-8")
    return path


def test_statuses_with_an_injected_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  - {rule: SL302, component: a/b, reason: r, owner: o, expires: 2026-04-30}\n"
        "  - {rule: SL302, component: a/c, reason: r, owner: o, expires: 2026-03-15}\n"
        "  - {rule: SL302, component: a/d, reason: r, owner: o, expires: 2026-03-01}\n"
        "  - {rule: SL302, component: a/e, reason: r, owner: o, expires: 2026-02-28}\n"
        "  - {rule: SL302, component: a/f, reason: r, owner: o, expires: 2026-12-31}\n",
    )
    exceptions = load_exceptions(path, today=DAY, horizon_days=None)
    statuses = [e.status(DAY, warning_days=14, horizon_days=180) for e in exceptions.entries]
    assert statuses == [
        Status.ACTIVE,
        Status.EXPIRING,
        Status.EXPIRING,
        Status.EXPIRED,
        Status.BEYOND_HORIZON,
    ]
    assert [e.line for e in exceptions.entries] == [3, 4, 5, 6, 7]
    message = (
        r"exceptions\.yaml:7: exception #5 \(SL302 for a/f\): expires 2026-12-31 "
        r"is beyond the 180-day horizon \(latest allowed today: 2026-08-28\)"
    )
    with pytest.raises(ConfigError, match=message):
        load_exceptions(path, today=DAY)
    assert len(load_exceptions(path, today=DAY, horizon_days=320).entries) == 5


def test_entries_are_typed_and_rules_normalized(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  - rule: provenance-mode-min\n    component: fleet-agent\n    platforms: [linux/arm64/v8]\n"
        "    digest: sha256:" + "a" * 64 + "\n    reason: ' legacy '\n    owner: rm@example.com\n"
        "    ticket: T-1\n    expires: '2026-03-20'\n"
        "  - {rule: acme001, component: '*/x', reason: r, owner: o, expires: 2026-03-02}\n",
    )
    first, second = load_exceptions(path, today=DAY).entries
    assert (first.rule, first.reason, first.ticket, first.expires) == (
        "SL302",
        "legacy",
        "T-1",
        dt.date(2026, 3, 20),
    )
    assert [str(p) for p in first.platforms] == ["linux/arm64/v8"] and first.names_component
    assert first.label == "#1 (SL302 for fleet-agent on linux/arm64/v8 at sha256:aaaaaaaaaaaa…)"
    assert (second.rule, second.names_component) == ("ACME001", False)
    assert first.waiver().expires == "2026-03-20"


def test_component_names_are_checked_against_the_policy(tmp_path: Path) -> None:
    path = write(tmp_path, "  - {rule: SL302, component: fleet, reason: r, owner: o, expires: 2026-03-02}\n")
    assert load_exceptions(path, today=DAY).entries[0].component == "fleet"
    with pytest.raises(ConfigError, match="unknown component 'fleet' \\(policy components: none defined\\)"):
        load_exceptions(path, today=DAY, components=ComponentMap())


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("version: 1\nexceptions:\n  - rule: SL302\n   component: x\n")
    with pytest.raises(ConfigError, match=r"e.yaml:4: invalid YAML"):
        load_exceptions(path)
    path.write_text("- 1\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_exceptions(path)
    path.write_text("version: 2\nexceptions: []\n")
    with pytest.raises(ConfigError, match=r"e\.yaml:1: /version: 1 was expected"):
        load_exceptions(path)


def test_the_exceptions_schema_errors_match_the_reference_validator() -> None:
    from tests.unit.test_schemas import _agrees_with_reference

    document: dict[str, Any] = {
        "version": 1,
        "exceptions": [
            {
                "rule": "SL302",
                "component": "fleet-agent",
                "platforms": ["linux/arm64"],
                "digest": "sha256:" + "0" * 64,
                "reason": "legacy",
                "owner": "rm@example.com",
                "ticket": "T-1",
                "expires": "2026-12-31",
            }
        ],
    }
    assert _agrees_with_reference("exceptions", [document], rounds=300) > 50


def test_the_exceptions_schema_is_documented() -> None:
    from tests.exceptions.conftest import ROOT

    schema = json.loads((ROOT / "schemas" / "exceptions.json").read_text())
    assert schema["$id"] == "https://slsalint.dev/schemas/exceptions.json"
    item = schema["$defs"]["exception"]
    assert item["required"] == ["rule", "component", "reason", "owner", "expires"]
    assert all(p.get("description") or p.get("$ref") for p in item["properties"].values())


# --- applying through the engine, with an injected date --------------------------------------------


def run_lint(ws: Workspace, image: str, today: dt.date) -> Report:
    policy = load_policy(ws.path / "slsalint.yaml")
    return lint([LintRequest(target=image)], LintOptions(policy=policy, today=today))


def seen(report: Report) -> list[tuple[str, str | None, bool]]:
    return sorted(((f.rule_id, f.platform or "-", f.waived) for f in report.findings), key=str)


def test_expiry_is_judged_against_the_injected_date(workspace: Workspace) -> None:
    assert POLICY  # the workspace policy names slsalint-exceptions.yaml
    workspace.write_exceptions(
        "  - {rule: SL302, component: fleet-agent, platforms: [linux/arm64], reason: legacy, owner: o, "
        "expires: 2026-03-20}\n"
    )
    image = workspace.agent.reference
    assert seen(run_lint(workspace, image, dt.date(2026, 3, 1))) == [("SL302", "linux/arm64", True)]
    report = run_lint(workspace, image, dt.date(2026, 3, 20))
    assert seen(report) == [("SL302", "linux/arm64", True), ("SL903", "-", False)]
    assert report.exit_code == 0
    report = run_lint(workspace, image, dt.date(2026, 3, 21))
    assert seen(report) == [("SL302", "linux/arm64", False), ("SL901", "-", False)]
    assert report.exit_code == 1
    [sl901] = [f for f in report.findings if f.rule_id == "SL901"]
    assert sl901.expected == "expires on or after 2026-03-21" and sl901.actual == "2026-03-20"


def test_an_active_exception_wins_over_an_expired_one(workspace: Workspace) -> None:
    workspace.write_exceptions(
        "  - {rule: SL302, component: fleet-agent, reason: old, owner: o, expires: 2026-02-01}\n"
        "  - {rule: SL302, component: '*/rancher/fleet-agent', reason: new, owner: o, expires: 2026-06-01}\n"
    )
    report = run_lint(workspace, workspace.agent.reference, dt.date(2026, 3, 1))
    assert seen(report) == [("SL302", "linux/arm64", True)]
    [finding] = report.findings
    assert finding.waiver is not None and finding.waiver.reason == "new"


def test_exception_findings_use_the_checked_image(workspace: Workspace) -> None:
    workspace.write_exceptions(
        "  - {rule: SL404, component: fleet-agent, reason: r, owner: o, expires: 2026-03-10}\n"
    )
    report = run_lint(workspace, workspace.agent.reference, dt.date(2026, 3, 1))
    [unused] = [f for f in report.findings if f.rule_id == "SL902"]
    assert unused.image == workspace.agent.reference
    assert unused.digest == workspace.agent.index_digest
    assert unused.pointer == "/exceptions/0"
    assert unused.source == f"exceptions {workspace.exceptions}:3"
    assert [r.id for r in report.rules][-4:] == ["SL901", "SL902", "SL903", "SL904"]
