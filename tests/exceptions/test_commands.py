"""The release manager's commands: ``exceptions add|renew|list|audit`` and ``components show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.exceptions.conftest import Workspace, days, run

COMMENTED = """\
# Exceptions for the fleet images. Reviewed by the release team every sprint.
version: 1
exceptions:
  # arm64 is still built by the legacy pipeline
  - rule: SL302
    component: fleet-agent
    platforms: [linux/arm64]   # amd64 is fine
    reason: "arm64 still built by the legacy pipeline"
    owner: release-team@example.com
    ticket: FLEET-1234
    expires: {expires}
  # keep this one last
  - rule: SL404
    component: "*/rancher/fleet-controller"
    reason: 'vendored tarball, see FLEET-77'
    owner: fleet-maintainers@example.com
    expires: {expires}
# end of file
"""


def add_args(**over: str) -> list[str]:
    values = {
        "--rule": "SL302",
        "--component": "fleet-controller",
        "--reason": "arm64 still built by the legacy pipeline",
        "--owner": "release-team@example.com",
        "--expires": days(30),
    }
    values.update(over)
    out = []
    for key, value in values.items():
        out += [key, value]
    return out


# --- add -----------------------------------------------------------------------------------------


def test_add_keeps_comments_order_and_quoting(workspace: Workspace) -> None:
    original = COMMENTED.format(expires=days(40))
    workspace.exceptions.write_text(original)
    result = workspace.run(
        "exceptions",
        "add",
        "slsalint-exceptions.yaml",
        *add_args(),
        "--platform",
        "linux/arm64",
        "--ticket",
        "FLEET-1300",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"added exception #3 to slsalint-exceptions.yaml: SL302 for fleet-controller on linux/arm64, "
        f"expires {days(30)}"
    )
    text = workspace.exceptions.read_text()
    new_entry = (
        "  - rule: SL302\n"
        "    component: fleet-controller\n"
        "    platforms: [linux/arm64]\n"
        "    reason: arm64 still built by the legacy pipeline\n"
        "    owner: release-team@example.com\n"
        "    ticket: FLEET-1300\n"
        f"    expires: {days(30)}\n"
    )
    # Everything that was there is still there, byte for byte (comments, end-of-line comments,
    # quotes, flow lists); the new entry comes after the last one, before the closing comment.
    assert text == original.replace("# end of file\n", new_entry + "# end of file\n")


def test_added_exception_takes_effect(workspace: Workspace) -> None:
    workspace.exceptions.write_text(COMMENTED.format(expires=days(40)))
    assert workspace.run("check", workspace.controller.reference).returncode == 1
    args = add_args(**{"--rule": "provenance-mode-min"})
    result = workspace.run(
        "exceptions", "add", "slsalint-exceptions.yaml", *args, "--platform", "linux/arm64"
    )
    assert result.returncode == 0, result.stderr
    assert (
        "rule: SL302\n    component: fleet-controller" in workspace.exceptions.read_text()
    )  # the id is written
    result = workspace.run("check", workspace.controller.reference, "--format", "json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["summary"]["waived"] == 1


def test_add_creates_the_file(workspace: Workspace) -> None:
    result = workspace.run("exceptions", "add", "slsalint-exceptions.yaml", *add_args(), "--ticket", "T-1")
    assert result.returncode == 0, result.stderr
    text = workspace.exceptions.read_text()
    assert text.startswith("# slsalint exceptions: reviewed, time-limited waivers of findings.\n")
    assert "version: 1\nexceptions:\n  - rule: SL302\n    component: fleet-controller\n" in text
    listed = workspace.run("exceptions", "list", "slsalint-exceptions.yaml", "--format", "json")
    assert [e["component"] for e in json.loads(listed.stdout)["exceptions"]] == ["fleet-controller"]


def test_add_follows_the_files_indentation(workspace: Workspace) -> None:
    workspace.exceptions.write_text(
        f"version: 1\nexceptions:\n- rule: SL302\n  component: fleet-agent\n  reason: r\n  owner: o\n"
        f"  expires: {days(10)}\n"
    )
    result = workspace.run("exceptions", "add", "slsalint-exceptions.yaml", *add_args())
    assert result.returncode == 0, result.stderr
    assert workspace.exceptions.read_text().endswith(
        "- rule: SL302\n  component: fleet-controller\n  reason: arm64 still built by the legacy pipeline\n"
        f"  owner: release-team@example.com\n  expires: {days(30)}\n"
    )


@pytest.mark.parametrize(
    ("over", "extra", "message"),
    [
        ({"--expires": "2026-02-30"}, [], "--expires: '2026-02-30' is not a real date"),
        ({"--expires": days(-1)}, [], f"--expires {days(-1)}: the date has passed"),
        ({"--expires": days(181)}, [], f"--expires {days(181)}: beyond the 180-day horizon"),
        ({"--rule": "SL777"}, [], "--rule SL777: unknown rule 'SL777'"),
        ({"--rule": "SL902"}, [], "cannot be waived"),
        ({"--component": "fleet-contoller"}, [], "--component fleet-contoller: unknown component"),
        ({"--reason": "   "}, [], "--reason: must not be blank"),
        ({}, ["--platform", "arm64"], "--platform: invalid platform 'arm64'"),
        ({}, ["--digest", "sha256:1234"], "--digest sha256:1234: expected sha256: followed by 64"),
    ],
)
def test_add_refuses_invalid_input(
    workspace: Workspace, over: dict[str, str], extra: list[str], message: str
) -> None:
    original = COMMENTED.format(expires=days(40))
    workspace.exceptions.write_text(original)
    result = workspace.run("exceptions", "add", "slsalint-exceptions.yaml", *add_args(**over), *extra)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr, result.stderr
    assert workspace.exceptions.read_text() == original


def test_add_refuses_a_duplicate(workspace: Workspace) -> None:
    original = COMMENTED.format(expires=days(40))
    workspace.exceptions.write_text(original)
    result = workspace.run(
        "exceptions",
        "add",
        "slsalint-exceptions.yaml",
        *add_args(**{"--component": "fleet-agent", "--rule": "provenance-mode-min"}),
        "--platform",
        "linux/arm64",
    )
    assert result.returncode == 2
    assert (
        "slsalint-exceptions.yaml:5: exception #1 (SL302 for fleet-agent on linux/arm64) already exists"
        in (result.stderr)
    )
    assert workspace.exceptions.read_text() == original


def test_add_refuses_to_edit_a_malformed_file(workspace: Workspace) -> None:
    workspace.exceptions.write_text("version: 1\nexceptions:\n  - rule: SL302\n")
    result = workspace.run("exceptions", "add", "slsalint-exceptions.yaml", *add_args())
    assert result.returncode == 2
    assert (
        "slsalint-exceptions.yaml:3: exception #1 (SL302): 'component' is a required property"
        in result.stderr
    )


# --- renew ---------------------------------------------------------------------------------------


def test_renew_changes_only_the_expiry(workspace: Workspace) -> None:
    original = COMMENTED.format(expires=days(3))
    workspace.exceptions.write_text(original)
    result = workspace.run(
        "exceptions", "renew", "slsalint-exceptions.yaml", "--rule", "SL302", "--component", "fleet-agent",
        "--expires", days(90),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "renewed exception #1 (SL302 for fleet-agent on linux/arm64) in slsalint-exceptions.yaml:5: "
        f"expires {days(3)} -> {days(90)}"
    )
    expected = original.replace(f"    expires: {days(3)}\n  # keep", f"    expires: {days(90)}\n  # keep", 1)
    assert workspace.exceptions.read_text() == expected


def test_renew_can_update_reason_and_ticket(workspace: Workspace) -> None:
    workspace.exceptions.write_text(COMMENTED.format(expires=days(3)))
    result = workspace.run(
        "exceptions", "renew", "slsalint-exceptions.yaml", "--rule", "SL404",
        "--component", "*/rancher/fleet-controller", "--expires", days(20), "--reason", "still vendored",
        "--ticket", "FLEET-78",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [_, second] = json.loads(
        workspace.run("exceptions", "list", "slsalint-exceptions.yaml", "--format", "json").stdout
    )["exceptions"]
    assert (second["reason"], second["ticket"], second["expires"]) == ("still vendored", "FLEET-78", days(20))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "SL301", "--component", "fleet-agent"], "no exception for SL301 on fleet-agent"),
        (["--rule", "SL302", "--component", "fleet-agent", "--platform", "linux/amd64"], "no exception"),
        (
            ["--rule", "SL302", "--component", "fleet-controller"],
            "no exception for SL302 on fleet-controller",
        ),
    ],
)
def test_renew_without_a_match_is_exit_2(workspace: Workspace, args: list[str], message: str) -> None:
    workspace.exceptions.write_text(COMMENTED.format(expires=days(3)))
    result = workspace.run("exceptions", "renew", "slsalint-exceptions.yaml", *args, "--expires", days(30))
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_renew_an_ambiguous_exception_is_exit_2(workspace: Workspace) -> None:
    workspace.write_exceptions(
        f"  - {{rule: SL302, component: fleet-agent, platforms: [linux/arm64], reason: r, owner: o, "
        f"expires: {days(3)}}}\n"
        f"  - {{rule: SL302, component: fleet-agent, platforms: [linux/amd64], reason: r, owner: o, "
        f"expires: {days(3)}}}\n"
    )
    base = [
        "exceptions",
        "renew",
        "slsalint-exceptions.yaml",
        "--rule",
        "SL302",
        "--component",
        "fleet-agent",
    ]
    result = workspace.run(*base, "--expires", days(30))
    assert result.returncode == 2
    assert "2 exceptions match SL302 on fleet-agent" in result.stderr and "--platform" in result.stderr
    result = workspace.run(*base, "--expires", days(30), "--platform", "linux/amd64")
    assert result.returncode == 0, result.stderr
    assert f"linux/amd64], reason: r, owner: o, expires: {days(30)}" in workspace.exceptions.read_text()


def test_renew_refuses_an_expiry_beyond_the_horizon(workspace: Workspace) -> None:
    original = COMMENTED.format(expires=days(3))
    workspace.exceptions.write_text(original)
    result = workspace.run(
        "exceptions", "renew", "slsalint-exceptions.yaml", "--rule", "SL302", "--component", "fleet-agent",
        "--expires", days(200),
    )  # fmt: skip
    assert result.returncode == 2 and "beyond the 180-day horizon" in result.stderr
    assert workspace.exceptions.read_text() == original


# --- list and audit ------------------------------------------------------------------------------


def statuses_file(ws: Workspace) -> Path:
    return ws.write_exceptions(
        f"  - {{rule: SL302, component: fleet-agent, reason: r, owner: a@example.com, expires: {days(60)}}}\n"
        f"  - {{rule: SL404, component: fleet-agent, reason: r, owner: b@example.com, expires: {days(7)}}}\n"
        f"  - {{rule: SL403, component: fleet-agent, reason: r, owner: c@example.com, expires: {days(-1)}}}\n"
    )


def test_list_shows_active_expiring_and_expired(workspace: Workspace) -> None:
    statuses_file(workspace)
    result = workspace.run("exceptions", "list", "slsalint-exceptions.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["exceptions"]
    assert [(r["rule"], r["status"], r["daysLeft"], r["line"]) for r in rows] == [
        ("SL302", "active", 60, 3),
        ("SL404", "expiring", 7, 4),
        ("SL403", "expired", -1, 5),
    ]
    text = workspace.run("exceptions", "list", "slsalint-exceptions.yaml")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == [
        "#",
        "rule",
        "component",
        "platforms",
        "owner",
        "expires",
        "days",
        "left",
        "status",
        "line",
    ]
    assert lines[1].split()[-2:] == ["active", "3"]
    assert lines[2].split()[-2:] == ["expiring", "4"]
    assert lines[3].split()[-2:] == ["expired", "5"]


def test_list_as_of_a_later_date(workspace: Workspace) -> None:
    statuses_file(workspace)
    result = workspace.run(
        "exceptions", "list", "slsalint-exceptions.yaml", "--format", "json", "--as-of", days(8)
    )
    assert [r["status"] for r in json.loads(result.stdout)["exceptions"]] == ["active", "expired", "expired"]


def test_audit_exit_codes(workspace: Workspace) -> None:
    audit = ["exceptions", "audit", "slsalint-exceptions.yaml"]
    workspace.write_exceptions(
        f"  - {{rule: SL302, component: fleet-agent, reason: r, owner: a@example.com, expires: {days(60)}}}\n"
        f"  - {{rule: SL404, component: fleet-agent, reason: r, owner: b@example.com, expires: {days(7)}}}\n"
    )
    result = workspace.run(*audit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "slsalint-exceptions.yaml:4: warning: #2 SL404 for fleet-agent (owner b@example.com) "
        f"expires {days(7)}" in result.stdout
    )
    assert "2 exceptions, 0 expired or beyond the horizon, 1 expiring within 14 days" in result.stdout

    statuses_file(workspace)
    result = workspace.run(*audit)
    assert result.returncode == 1
    assert (
        "slsalint-exceptions.yaml:5: error: #3 SL403 for fleet-agent (owner c@example.com) "
        f"expired on {days(-1)}" in result.stdout
    )
    assert "(as of " in result.stdout and "exit 1)" in result.stdout

    workspace.write_exceptions(
        "  - {rule: SL302, component: fleet-agent, reason: r, owner: a@example.com, "
        f"expires: {days(200)}}}\n"
    )
    result = workspace.run(*audit)
    assert result.returncode == 1
    assert "beyond the 180-day horizon" in result.stdout
    assert workspace.run(*audit, "--horizon-days", "365").returncode == 0

    workspace.write_exceptions(
        "  - {rule: SL302, component: fleet-agent, reason: r, owner: a, expires: 2026-02-29}\n"
    )
    result = workspace.run(*audit)
    assert result.returncode == 2
    assert (
        "slsalint-exceptions.yaml:3: exception #1 (SL302 for fleet-agent): "
        "expires: '2026-02-29' is not a real date" in result.stderr
    )


def test_audit_uses_the_policys_horizon_and_components(workspace: Workspace) -> None:
    policy = workspace.path / "slsalint.yaml"
    policy.write_text(policy.read_text() + "exceptions-horizon-days: 30\n")
    workspace.write_exceptions(
        f"  - {{rule: SL302, component: fleet-agent, reason: r, owner: a@example.com, expires: {days(45)}}}\n"
    )
    result = workspace.run("exceptions", "audit", "slsalint-exceptions.yaml", "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert (document["horizonDays"], document["exitCode"]) == (30, 1)
    assert document["exceptions"][0]["status"] == "beyond-horizon"

    workspace.write_exceptions(
        f"  - {{rule: SL302, component: fleet-agnet, reason: r, owner: a@example.com, expires: {days(5)}}}\n"
    )
    result = workspace.run("exceptions", "audit", "slsalint-exceptions.yaml")
    assert result.returncode == 2 and "unknown component 'fleet-agnet'" in result.stderr


def test_audit_as_of_a_release_date(workspace: Workspace) -> None:
    workspace.write_exceptions(
        f"  - {{rule: SL302, component: fleet-agent, reason: r, owner: a@example.com, expires: {days(20)}}}\n"
    )
    audit = ["exceptions", "audit", "slsalint-exceptions.yaml"]
    assert workspace.run(*audit).returncode == 0
    assert workspace.run(*audit, "--as-of", days(21)).returncode == 1


# --- components show -----------------------------------------------------------------------------

RKE2_POLICY = """\
version: 1
components:
  rke2-kubernetes:
    images: ["*/rancher/hardened-kubernetes"]
    source: https://github.com/rancher/rke2
    ref: "refs/tags/{tag}"
    tag-transforms:
      - {regex: {pattern: '-build[0-9]+$', replace: ''}}
      - {replace-suffix: {from: "-rke2r1", to: "+rke2r1"}}
  fleet-agent:
    images: ["*/rancher/fleet-agent"]
    source: https://github.com/rancher/fleet
    ref: "refs/tags/{tag}"
    tag-transforms: [strip-v, add-v]
"""


def test_components_show_prints_the_derived_expectations(tmp_path: Path) -> None:
    (tmp_path / "slsalint.yaml").write_text(RKE2_POLICY)
    result = run(
        "components", "show", "rancher/hardened-kubernetes:v1.30.4-rke2r1-build20240815", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "image        rancher/hardened-kubernetes:v1.30.4-rke2r1-build20240815",
        "name         docker.io/rancher/hardened-kubernetes",
        "tag          v1.30.4-rke2r1-build20240815",
        "component    rke2-kubernetes (matched */rancher/hardened-kubernetes)",
        "source       https://github.com/rancher/rke2 (SL401)",
        "ref template refs/tags/{tag}",
        "transform    regex '-build[0-9]+$' -> ''  => v1.30.4-rke2r1",
        "transform    replace-suffix '-rke2r1' -> '+rke2r1'  => v1.30.4+rke2r1",
        "expected ref refs/tags/v1.30.4+rke2r1 (SL402)",
        "signers      (none for this component)",
    ]


def test_components_show_json_and_no_match(tmp_path: Path) -> None:
    (tmp_path / "slsalint.yaml").write_text(RKE2_POLICY)
    result = run("components", "show", "ghcr.io/rancher/fleet-agent:0.12.0", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["component"]["name"] == "fleet-agent"
    assert doc["component"]["expectedRef"] == "refs/tags/v0.12.0"
    assert [s["result"] for s in doc["component"]["tagTransforms"]] == ["0.12.0", "v0.12.0"]

    result = run("components", "show", "quay.io/other/image:1.0", cwd=tmp_path)
    assert result.returncode == 0
    assert "no component of slsalint.yaml matches quay.io/other/image" in result.stdout

    result = run(
        "components", "show", "rancher/fleet-agent@sha256:" + "a" * 64, "--format", "json", cwd=tmp_path
    )
    doc = json.loads(result.stdout)
    assert doc["component"]["expectedRef"] is None
    assert "carries no tag" in doc["component"]["refProblem"]


def test_components_show_lists_the_exceptions_for_the_component(workspace: Workspace) -> None:
    workspace.exceptions.write_text(COMMENTED.format(expires=days(40)))
    result = workspace.run("components", "show", workspace.agent.reference)
    assert result.returncode == 0, result.stderr
    assert "component    fleet-agent (matched */rancher/fleet-agent)" in result.stdout
    assert "expected ref refs/tags/v0.12.0 (SL402)" in result.stdout
    assert "exceptions   1 in slsalint-exceptions.yaml:" in result.stdout
    assert f"#1 SL302 on linux/arm64 expires {days(40)} (active)" in result.stdout


def test_components_show_needs_a_policy_and_refuses_overlapping_components(tmp_path: Path) -> None:
    result = run("components", "show", "rancher/fleet-agent:v1", cwd=tmp_path)
    assert result.returncode == 2 and "no policy" in result.stderr
    (tmp_path / "slsalint.yaml").write_text(RKE2_POLICY + '  everything:\n    images: ["*/rancher/*"]\n')
    result = run("components", "show", "rancher/fleet-agent:v1", cwd=tmp_path)
    assert result.returncode == 2
    assert "matches several components: fleet-agent (*/rancher/fleet-agent), everything (*/rancher/*)" in (
        result.stderr
    )


def test_rules_list_shows_the_exception_rules(tmp_path: Path) -> None:
    result = run("rules", "list", "--json", cwd=tmp_path)
    rules = {r["id"]: r for r in json.loads(result.stdout)}
    assert (rules["SL901"]["name"], rules["SL901"]["level"]) == ("exception-expired", "error")
    assert (rules["SL902"]["name"], rules["SL902"]["level"]) == ("exception-unused", "note")
    assert (rules["SL903"]["name"], rules["SL903"]["level"]) == ("exception-expiring", "warning")
