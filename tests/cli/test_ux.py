"""What people type first: ``--format json`` on every listing, "did you mean" for rules, packs,
components and flags, the missing exceptions file, and ``--quiet`` / ``--verbose``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slsalint.exceptions import utc_today

ROOT = Path(__file__).resolve().parents[2]
DEMO = "oci:examples/demo-image"
"""The example image shipped in examples/ (`make demo`): two platforms, one SL404 warning."""
PLATFORM_TEAM = ROOT / "rules" / "platform-team"
"""A bundled Rego pack with *_test.rego tests."""

POLICY = """\
version: 1
packs: [recommended]
components:
  fleet-agent:
    images: ["*/rancher/fleet-agent"]
    source: https://github.com/rancher/fleet
    ref: "refs/tags/{tag}"
  fleet-controller:
    images: ["*/rancher/fleet-controller"]
exceptions: waivers/slsalint-exceptions.yaml
"""


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(cwd), "PYTHONPATH": str(ROOT)},
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def expires(days: int = 30) -> str:
    import datetime as dt

    return (utc_today() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A release manager's directory: a policy with two components naming a not-yet-created
    exceptions file under waivers/."""
    (tmp_path / "slsalint.yaml").write_text(POLICY)
    return tmp_path


# --- --format json --------------------------------------------------------------------------------


RULE_KEYS = frozenset({"id", "name", "level", "summary", "packs", "helpUri", "source"})


def test_rules_list_format_json_and_the_old_json_flag() -> None:
    listed = as_json(run("rules", "list", "--format", "json"))
    assert {frozenset(entry) for entry in listed} == {RULE_KEYS}
    assert {"SL302", "SL404", "PLT001"} <= {entry["id"] for entry in listed}
    assert as_json(run("rules", "list", "--json")) == listed  # the older spelling still works
    assert "--json" not in run("rules", "list", "--help").stdout  # ... but is not advertised
    planned = as_json(run("rules", "list", "--pack", "slsa-build-l3", "-f", "json"))
    assert {frozenset(entry) for entry in planned} == {RULE_KEYS | {"options"}}
    text = run("rules", "list")
    assert text.returncode == 0 and text.stdout.lstrip().startswith("id")


def test_rules_show_format_json() -> None:
    shown = as_json(run("rules", "show", "provenance-mode-min", "--format", "json"))
    assert [entry["id"] for entry in shown] == ["SL302"]
    assert set(shown[0]) == RULE_KEYS | {"doc", "optionsSchema"}
    assert "mode=max" in shown[0]["doc"]


def test_packs_list_format_json() -> None:
    packs = as_json(run("packs", "list", "--format", "json"))
    assert as_json(run("packs", "list", "--json")) == packs
    assert {frozenset(p) for p in packs} == {frozenset({"name", "version", "description", "rules", "rego"})}
    assert "slsa-build-l3" in {p["name"] for p in packs}


def test_packs_test_format_json() -> None:
    result = run("packs", "test", str(PLATFORM_TEAM), "--format", "json")
    document = as_json(result)
    assert result.returncode == 0
    assert set(document) == {"directory", "tests", "passed", "failed", "errors", "seconds", "exitCode"}
    assert document["passed"] == len(document["tests"]) > 0 and document["exitCode"] == 0
    keys = {"file", "line", "name", "status", "seconds", "detail"}
    assert {frozenset(t) for t in document["tests"]} == {frozenset(keys)}


def test_components_show_format_json(release: Path) -> None:
    (release / "waivers").mkdir()
    (release / "waivers" / "slsalint-exceptions.yaml").write_text("version: 1\nexceptions: []\n")
    shown = as_json(
        run("components", "show", "ghcr.io/rancher/fleet-agent:v0.12.0", "-f", "json", cwd=release)
    )
    assert shown["component"]["name"] == "fleet-agent"
    assert shown["component"]["expectedRef"] == "refs/tags/v0.12.0"


def test_exceptions_add_creates_the_file_and_its_directory(release: Path) -> None:
    """The policy names waivers/slsalint-exceptions.yaml, which does not exist yet: check says
    how to create it, and that very command creates it (directory included)."""
    result = run("check", DEMO.replace("examples", str(ROOT / "examples")), cwd=release)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "slsalint: error: waivers/slsalint-exceptions.yaml: no such exceptions file (named by "
        "slsalint.yaml); create it with `slsalint exceptions add waivers/slsalint-exceptions.yaml "
        "--rule RULE --component COMPONENT --reason REASON --owner OWNER --expires YYYY-MM-DD`"
    ]
    added = run(
        "exceptions",
        "add",
        "waivers/slsalint-exceptions.yaml",
        "--rule",
        "SL302",
        "--component",
        "fleet-agent",
        "--reason",
        "legacy arm64 pipeline",
        "--owner",
        "release@example.com",
        "--expires",
        expires(),
        cwd=release,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added exception #1 to waivers/slsalint-exceptions.yaml: SL302")
    assert (release / "waivers" / "slsalint-exceptions.yaml").is_file()
    listed = as_json(run("exceptions", "list", "waivers/slsalint-exceptions.yaml", "-f", "json", cwd=release))
    assert set(listed) == {"file", "asOf", "exceptions"}
    assert [(e["rule"], e["component"], e["status"]) for e in listed["exceptions"]] == [
        ("SL302", "fleet-agent", "active")
    ]
    rechecked = run("check", f"oci:{ROOT / 'examples' / 'demo-image'}", cwd=release)
    assert rechecked.returncode == 0, rechecked.stderr  # the file now exists and loads


def test_exceptions_add_and_renew_format_json(release: Path) -> None:
    file = "waivers/e.yaml"
    added = as_json(
        run(
            "exceptions",
            "add",
            file,
            "--rule",
            "material-unpinned",
            "--component",
            "fleet-agent",
            "--reason",
            "vendored",
            "--owner",
            "ops",
            "--expires",
            expires(10),
            "-f",
            "json",
            cwd=release,
        )
    )
    assert added["action"] == "added" and added["file"] == file
    assert added["exception"]["rule"] == "SL404" and added["exception"]["expires"] == expires(10)
    renewed = as_json(
        run(
            "exceptions",
            "renew",
            file,
            "--rule",
            "SL404",
            "--component",
            "fleet-agent",
            "--expires",
            expires(40),
            "--format",
            "json",
            cwd=release,
        )
    )
    assert renewed["action"] == "renewed" and renewed["exception"]["expires"] == expires(40)
    assert set(renewed["exception"]) == set(added["exception"])


def test_a_listing_names_the_format_it_does_not_know() -> None:
    result = run("rules", "list", "--format", "jsno")
    assert result.returncode == 2
    assert result.stderr == "slsalint: error: --format jsno: expected text or json (did you mean json?)\n"


# --- did you mean ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["check", DEMO, "--enable", "SL2O1"],
            "slsalint: error: --enable SL2O1: unknown rule (did you mean SL201?) (see `slsalint rules list`)",
        ),
        (
            ["check", DEMO, "--disable", "provenance-mod-min"],
            "slsalint: error: --disable provenance-mod-min: unknown rule (did you mean provenance-mode-min?) "
            "(see `slsalint rules list`)",
        ),
        (
            ["rules", "show", "SL21"],
            "slsalint: error: unknown rule 'SL21' (did you mean SL201?) (see `slsalint rules list`)",
        ),
        (
            ["check", DEMO, "--pack", "slsa-buld"],
            "slsalint: error: unknown pack 'slsa-buld' (did you mean slsa-build-l2 or slsa-build-l3?); "
            "available: docker-scout, github-actions, platform-team, recommended, slsa-build-l2, "
            "slsa-build-l3",
        ),
        (
            ["check", DEMO, "--polcy", "slsalint.yaml"],
            "slsalint: error: no such option --polcy (did you mean --policy?); see `slsalint check --help`",
        ),
        (
            ["check", DEMO, "--format=sarf"],
            "slsalint: error: --format sarf: unknown format (did you mean sarif?) "
            "(expected one of text, json, sarif, junit, markdown)",
        ),
        (
            ["exceptions", "list", "x.yaml", "--as-off", "2026-01-01"],
            "slsalint: error: no such option --as-off (did you mean --as-of?); "
            "see `slsalint exceptions list --help`",
        ),
        (
            ["chek", DEMO],
            "slsalint: error: no such command 'chek' (did you mean check?); see `slsalint --help`",
        ),
        (
            ["rules", "lst"],
            "slsalint: error: no such command 'lst' (did you mean list?); see `slsalint rules --help`",
        ),
        (
            ["check", DEMO, "--quiet"],
            "slsalint: error: --quiet is an option of slsalint itself: put it before the command "
            "(slsalint --quiet check ...)",
        ),
        (
            ["check", DEMO, "--jobs", "many"],
            "slsalint: error: invalid value for '--jobs' / '-j': 'many' is not a whole number; "
            "see `slsalint check --help`",
        ),
    ],
)
def test_did_you_mean_is_one_line_and_exit_2(args: list[str], line: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_did_you_mean_in_policy_and_exceptions_files(release: Path) -> None:
    demo = f"oci:{ROOT / 'examples' / 'demo-image'}"
    (release / "slsalint.yaml").write_text("version: 1\nrules:\n  SL3O2:\n    level: warning\n")
    result = run("check", demo, cwd=release)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("slsalint: error: slsalint.yaml:2: /rules: 'SL3O2' does not match")
    assert result.stderr.endswith(" (did you mean SL302?)\n")
    (release / "slsalint.yaml").write_text("version: 1\nrules:\n  provenance-mode-mn:\n    level: warning\n")
    result = run("check", demo, cwd=release)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "slsalint: error: slsalint.yaml:3: unknown rule 'provenance-mode-mn' (did you mean "
        "provenance-mode-min?): neither a built-in rule nor a Rego rule loaded in this run (see "
        "`slsalint rules list`, with --rego DIR for your own rules)"
    ]
    (release / "slsalint.yaml").write_text(POLICY.replace("waivers/slsalint-exceptions.yaml", "e.yaml"))
    entry = "  - {{rule: {rule}, component: {component}, reason: r, owner: o, expires: {date}}}\n"
    (release / "e.yaml").write_text(
        "version: 1\nexceptions:\n" + entry.format(rule="SL302", component="fleet-agnt", date=expires())
    )
    result = run("check", demo, cwd=release)
    assert result.returncode == 2
    assert "unknown component 'fleet-agnt' (did you mean fleet-agent?)" in result.stderr
    (release / "e.yaml").write_text(
        "version: 1\nexceptions:\n"
        + entry.format(rule="provenance-mode-mn", component="fleet-agent", date=expires())
    )
    result = run("check", demo, cwd=release)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "unknown rule name 'provenance-mode-mn' (did you mean provenance-mode-min?)" in result.stderr
    added = run(
        "exceptions",
        "add",
        "e.yaml",
        "--rule",
        "SL302",
        "--component",
        "fleet-contoller",
        "--reason",
        "r",
        "--owner",
        "o",
        "--expires",
        expires(),
        cwd=release,
    )
    assert added.returncode == 2
    assert "--component fleet-contoller: unknown component (did you mean fleet-controller?)" in added.stderr


def test_components_show_suggests_the_closest_component(release: Path) -> None:
    (release / "slsalint.yaml").write_text(
        POLICY.replace("exceptions: waivers/slsalint-exceptions.yaml\n", "")
    )
    result = run("components", "show", "ghcr.io/rancher/fleet-agnt:v0.12.0", cwd=release)
    assert result.returncode == 0, result.stderr
    assert "no component of slsalint.yaml matches ghcr.io/rancher/fleet-agnt (did you mean fleet-agent?)" in (
        result.stdout
    )
    shown = as_json(
        run("components", "show", "ghcr.io/rancher/fleet-agnt:v0.12.0", "-f", "json", cwd=release)
    )
    assert shown["component"] is None and shown["didYouMean"] == ["fleet-agent"]
    far = as_json(run("components", "show", "docker.io/library/nginx:1", "-f", "json", cwd=release))
    assert far["didYouMean"] == []


# --- --quiet and --verbose ------------------------------------------------------------------------


def test_quiet_and_verbose_on_the_demo_image(tmp_path: Path) -> None:
    normal = run("check", DEMO)
    assert normal.returncode == 0, normal.stderr
    assert normal.stdout.startswith("slsalint ")  # the header
    assert "evidence: provenance buildkit" in normal.stdout and "warning SL404" in normal.stdout
    summary = "0 errors, 1 warning, 0 notes, 0 waived — 1 target checked, 2 platforms (exit 0)"
    assert normal.stdout.rstrip().endswith(summary)

    quiet = run("--quiet", "check", DEMO)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout == summary + "\n"  # nothing fails: only the verdict

    failing = run(
        "-q", "check", DEMO, "--fail-on", "warning", "-f", "text", "-f", f"text={tmp_path / 'r.txt'}"
    )
    assert failing.returncode == 1 and failing.stderr == ""
    lines = failing.stdout.splitlines()
    assert lines[:3] == [
        "oci:examples/demo-image",
        "  platform linux/arm64",
        "    warning SL404 material-unpinned: material 'https://example.com/downloads/tool-1.2.tar.gz' "
        "has no",
    ]
    assert "evidence:" not in failing.stdout and "linux/amd64" not in failing.stdout
    assert lines[-1] == summary.replace("(exit 0)", "(exit 1)")
    written = (tmp_path / "r.txt").read_text()  # a report written to a file is the whole report
    assert written.startswith("slsalint ") and "evidence: provenance buildkit" in written

    verbose = run("--verbose", "check", DEMO, "-f", "text", "-f", f"json={tmp_path / 'r.json'}")
    assert verbose.returncode == 0
    assert verbose.stdout == normal.stdout  # stdout does not change
    said = verbose.stderr.splitlines()
    assert all(line.startswith("slsalint: [") and "s] " in line for line in said), said
    text = "\n".join(said)
    assert "policy none (built-in defaults): packs recommended, 0 components" in text
    assert "reading 1/1 oci:examples/demo-image" in text
    assert (
        "oci:examples/demo-image: 2 platform(s), 2 attestation(s) from buildkit-attestation-manifest, "
        "1 finding(s)"
    ) in text
    assert f"wrote the json report to {tmp_path / 'r.json'}" in text
    assert json.loads((tmp_path / "r.json").read_text())["exitCode"] == 0
    assert normal.stderr == ""


def test_quiet_explain_shows_only_what_fails() -> None:
    normal = run("explain", DEMO)
    assert "linux/arm64" in normal.stdout and "attestation-manifest" in normal.stdout
    quiet = run("-q", "explain", DEMO, "--fail-on", "warning")
    assert quiet.returncode == 1 and quiet.stderr == ""
    assert quiet.stdout.splitlines() == [
        "check under this policy: FAIL (1 finding(s) at or above warning)  (packs: recommended; 1 warning)",
        "  SL404 warning linux/arm64: material 'https://example.com/downloads/tool-1.2.tar.gz' has no digest",
    ]


def test_quiet_silences_notes_and_warnings_but_not_errors(tmp_path: Path) -> None:
    images = tmp_path / "images.txt"
    images.write_text("oci:examples/demo-image\n")
    empty_shard = ["check", "--images", str(images), "--shard", "1/2", "-f", "json"]
    warned = run(*empty_shard)
    assert warned.returncode == 0
    assert warned.stderr == "slsalint: warning: --shard 1/2: none of the 1 images falls into this shard\n"
    assert run("--quiet", *empty_shard).stderr == ""
    error = run("--quiet", "check", "oci:/nonexistent/layout")
    assert error.returncode == 2 and len(error.stderr.splitlines()) == 1
    assert error.stderr.startswith("slsalint: error: ")


def test_quiet_and_verbose_together_is_a_usage_error() -> None:
    result = run("--quiet", "--verbose", "check", DEMO)
    assert result.returncode == 2
    assert result.stderr == "slsalint: error: --quiet and --verbose cannot be used together\n"
    assert result.stdout == ""
