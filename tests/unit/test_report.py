"""Report renderers: what a user, a CI system or code scanning sees in each format."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for

from slsalint.model import (
    Attestation,
    EvidenceSource,
    Finding,
    Level,
    Platform,
    PlatformTarget,
    ProvenanceMode,
    ProvenanceView,
    Report,
    RuleMeta,
    Subject,
    Target,
    TargetResult,
    Waiver,
)
from slsalint.report import FORMATS, render
from slsalint.report.text import sanitize

REPO = Path(__file__).resolve().parents[2]
REPORT_SCHEMA = REPO / "schemas" / "report-v1.json"

INDEX = "sha256:" + "1" * 64
AMD64 = "sha256:" + "a" * 64
ARM64 = "sha256:" + "b" * 64
CLEAN = "sha256:" + "c" * 64
IMAGE = "ghcr.io/acme/app:v1.2.0"
CLEAN_IMAGE = "oci:build/layout:v2"
EVIL_BUILDER = "[bold red]x[/]\x1b[31m"
SOURCE = f"buildkit-attestation-manifest {IMAGE}@{INDEX}"


def _rules() -> list[RuleMeta]:
    def rule(rid: str, name: str, level: Level, severity: float) -> RuleMeta:
        return RuleMeta(
            id=rid,
            name=name,
            level=level,
            summary=f"{name.replace('-', ' ')} summary",
            doc=f"What: {name} checks something.\n\nWhy: supply chain.\n\nFix: do the right thing.",
            security_severity=severity,
            help_uri=f"https://slsalint.dev/rules/{rid}",
        )

    return [
        rule("SL101", "provenance-missing", Level.ERROR, 7.5),
        rule("SL102", "sbom-missing", Level.ERROR, 5.0),
        rule("SL301", "builder-untrusted", Level.ERROR, 8.1),
        rule("SL302", "provenance-mode-min", Level.WARNING, 4.0),
        rule("SL501", "secret-in-build-args", Level.OFF, 9.0),
    ]


def _findings() -> list[Finding]:
    return [
        Finding(
            rule_id="SL301",
            rule_name="builder-untrusted",
            level=Level.ERROR,
            message=f"builder {EVIL_BUILDER!s} is not in the allowed list",
            image=IMAGE,
            platform="linux/amd64",
            digest=AMD64,
            source=SOURCE,
            pointer="/predicate/builder/id",
            expected=["https://github.com/acme/*"],
            actual=EVIL_BUILDER,
            remediation="build with an allowed builder or add it to SL301 allowed-builders",
        ),
        Finding(
            rule_id="SL302",
            rule_name="provenance-mode-min",
            level=Level.WARNING,
            message="mode=min | no <script>alert(1)</script> llbDefinition\nsecond line",
            image=IMAGE,
            platform="linux/arm64",
            digest=ARM64,
            source=SOURCE,
            pointer="/predicate/buildConfig",
            expected="max",
            actual="min",
            remediation="build with --provenance=mode=max",
        ),
        Finding(
            rule_id="SL102",
            rule_name="sbom-missing",
            level=Level.ERROR,
            message="no SBOM attestation for linux/arm64",
            image=IMAGE,
            platform="linux/arm64",
            digest=ARM64,
            remediation="build with --sbom=true",
            waiver=Waiver(
                reason="arm64 built by the legacy pipeline",
                owner="release-team@example.com",
                expires="2026-12-31",
                ticket="FLEET-1234",
            ),
        ),
    ]


def _attestation() -> Attestation:
    return Attestation(
        source=EvidenceSource("buildkit-attestation-manifest", f"{IMAGE}@{INDEX}", "sha256:" + "d" * 64),
        envelope="statement",
        statement={},
        payload=b"{}",
        predicate_type="https://slsa.dev/provenance/v0.2",
        subjects=(Subject("pkg:docker/acme/app@v1.2.0", {"sha256": "a" * 64}),),
        provenance=ProvenanceView(
            predicate_type="https://slsa.dev/provenance/v0.2",
            slsa_version="0.2",
            flavor="buildkit",
            builder_id=EVIL_BUILDER,
            builder_pointer="/predicate/builder/id",
            build_type="https://mobyproject.org/buildkit@v1",
            source_repository="https://github.com/acme/app",
            source_ref="refs/tags/v1.2.0",
            source_commit="0" * 40,
            source_pointer="/predicate/invocation/configSource",
            materials=(),
            build_args={},
            build_args_pointer=None,
            mode=ProvenanceMode.MAX,
        ),
    )


def make_report(**changes: Any) -> Report:
    image = Target(
        reference=IMAGE,
        kind="image",
        index_digest=INDEX,
        platforms=[
            PlatformTarget(AMD64, Platform("linux", "amd64"), [_attestation()]),
            PlatformTarget(ARM64, Platform("linux", "arm64")),
        ],
        is_index=True,
    )
    clean = Target(
        reference=CLEAN_IMAGE,
        kind="image",
        index_digest=CLEAN,
        platforms=[PlatformTarget(CLEAN, Platform("linux", "amd64"))],
    )
    report = Report(
        tool_version="0.1.0",
        results=[TargetResult(image, _findings()), TargetResult(clean, [])],
        rules=_rules(),
        policy_path="slsalint.yaml",
        packs=["recommended"],
    )
    return dataclasses.replace(report, **changes)


def passing_report() -> Report:
    report = make_report()
    report.results[0].findings = [f for f in report.results[0].findings if f.rule_id != "SL301"]
    return report


def validate(instance: Any, schema: dict[str, Any]) -> list[str]:
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


# --- dispatch ---------------------------------------------------------------------------------


def test_every_format_renders_and_unknown_format_is_refused() -> None:
    report = make_report()
    outputs = {fmt: render(report, fmt) for fmt in FORMATS}
    assert set(outputs) == {"text", "json", "sarif", "junit", "markdown"}
    assert all(out.strip() for out in outputs.values())
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        render(report, "yaml")


def test_rich_is_only_imported_for_text_output() -> None:
    code = (
        "import sys\n"
        "from slsalint.report import render\n"
        "from tests.unit.test_report import make_report\n"
        "for fmt in ('json', 'sarif', 'junit', 'markdown'):\n"
        "    render(make_report(), fmt)\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- SARIF ------------------------------------------------------------------------------------


@pytest.fixture
def sarif_schema(corpus: Path) -> dict[str, Any]:
    path = corpus / "schemas" / "sarif" / "sarif-schema-2.1.0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def sarif_of(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(report, "sarif"))
    return doc


def test_sarif_validates_against_official_schema(sarif_schema: dict[str, Any]) -> None:
    assert sarif_schema["$schema"].startswith("http://json-schema.org/draft-04/")
    for report in (make_report(), passing_report(), make_report(policy_path=None)):
        assert validate(sarif_of(report), sarif_schema) == []


def test_sarif_schema_check_catches_a_broken_log(sarif_schema: dict[str, Any]) -> None:
    doc = sarif_of(make_report())
    doc["runs"][0]["results"][0]["level"] = "fatal"
    del doc["runs"][0]["tool"]["driver"]["name"]
    assert len(validate(doc, sarif_schema)) == 2


def test_sarif_lists_every_rule_with_help_and_severity() -> None:
    driver = sarif_of(make_report())["runs"][0]["tool"]["driver"]
    assert driver["name"] == "slsalint"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"] == "https://github.com/slsalint/slsalint"
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == ["SL101", "SL102", "SL301", "SL302", "SL501"]
    sl301 = rules["SL301"]
    assert sl301["name"] == "builder-untrusted"
    assert sl301["shortDescription"]["text"] == "builder untrusted summary"
    assert sl301["fullDescription"]["text"] == "What: builder-untrusted checks something."
    assert "Fix: do the right thing." in sl301["help"]["text"]
    assert sl301["help"]["markdown"] == sl301["help"]["text"]
    assert sl301["helpUri"] == "https://slsalint.dev/rules/SL301"
    assert sl301["defaultConfiguration"] == {"level": "error"}
    assert sl301["properties"] == {"security-severity": "8.1", "tags": ["security", "supply-chain"]}
    assert rules["SL101"]["properties"]["security-severity"] == "7.5"
    assert rules["SL102"]["properties"]["security-severity"] == "5.0"
    assert rules["SL302"]["defaultConfiguration"] == {"level": "warning"}
    assert rules["SL501"]["defaultConfiguration"] == {"level": "none"}


def test_sarif_results_locations_and_suppressions() -> None:
    run = sarif_of(make_report(sarif_anchor=".github/workflows/release.yml"))["runs"][0]
    assert run["automationDetails"] == {"id": "slsalint/build/layout+ghcr.io/acme/app/"}
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"SL301", "SL302", "SL102"}
    for rid, res in results.items():
        assert rule_ids[res["ruleIndex"]] == rid
        (location,) = res["locations"]
        assert location["physicalLocation"] == {
            "artifactLocation": {"uri": ".github/workflows/release.yml", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 1},
        }

    sl301 = results["SL301"]
    assert sl301["level"] == "error"
    text = sl301["message"]["text"]
    assert "is not in the allowed list (image ghcr.io/acme/app:v1.2.0, platform linux/amd64)" in text
    assert 'Expected: ["https://github.com/acme/*"]' in text
    assert f"Actual: {sanitize(EVIL_BUILDER)}" in text
    assert "Fix: build with an allowed builder" in text
    names = [(loc["kind"], loc["fullyQualifiedName"]) for loc in sl301["locations"][0]["logicalLocations"]]
    assert names == [
        ("resource", IMAGE),
        ("resource", f"{IMAGE}#linux/amd64"),
        ("resource", f"{IMAGE}@{AMD64}"),
    ]
    assert sl301["properties"]["source"] == SOURCE
    assert sl301["properties"]["pointer"] == "/predicate/builder/id"
    assert sl301["properties"]["expected"] == ["https://github.com/acme/*"]
    assert sl301["properties"]["actual"] == EVIL_BUILDER
    assert sl301["properties"]["platform"] == "linux/amd64"
    assert sl301["properties"]["digest"] == AMD64
    assert "suppressions" not in sl301
    assert results["SL302"]["level"] == "warning"

    assert results["SL102"]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "arm64 built by the legacy pipeline "
            "(owner: release-team@example.com, ticket: FLEET-1234, expires: 2026-12-31)",
        }
    ]


def test_sarif_platform_digest_replaces_a_digest_in_the_reference() -> None:
    report = make_report()
    report.results[0].findings[0].image = f"ghcr.io/acme/app@{INDEX}"
    result = sarif_of(report)["runs"][0]["results"][0]
    names = [loc["fullyQualifiedName"] for loc in result["locations"][0]["logicalLocations"]]
    assert names == [
        f"ghcr.io/acme/app@{INDEX}",
        "ghcr.io/acme/app#linux/amd64",
        f"ghcr.io/acme/app@{AMD64}",
    ]


def test_sarif_anchor_falls_back_to_policy_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "ci").mkdir()
    monkeypatch.chdir(tmp_path / "ci")

    def location(report: Report) -> dict[str, Any] | None:
        loc = sarif_of(report)["runs"][0]["results"][0]["locations"][0]
        value: dict[str, Any] | None = loc.get("physicalLocation")
        return value

    def uri(report: Report) -> str:
        loc = location(report)
        assert loc is not None
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        value: str = loc["artifactLocation"]["uri"]
        return value

    # Relative to the git top level, not to the working directory; never with ../
    assert uri(make_report(policy_path="./slsalint policy.yaml")) == "ci/slsalint%20policy.yaml"
    assert uri(make_report(policy_path=None)) == "ci/slsalint.yaml"
    assert uri(make_report(sarif_anchor=str(tmp_path / "Dockerfile"))) == "Dockerfile"
    outside = sarif_of(make_report(sarif_anchor="/elsewhere/Dockerfile"))["runs"][0]
    assert "physicalLocation" not in outside["results"][0]["locations"][0]
    (note,) = outside["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "anchor-outside-root"
    assert outside["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def test_sarif_fingerprints_are_stable_and_ignore_wording() -> None:
    def fingerprints(report: Report) -> list[str]:
        return [r["partialFingerprints"]["slsalint/v1"] for r in sarif_of(report)["runs"][0]["results"]]

    report = make_report()
    first = fingerprints(report)
    assert first == [f.fingerprint() for f in report.findings]
    assert all(re.fullmatch(r"[0-9a-f]{32}", fp) for fp in first)
    assert len(set(first)) == 3
    assert fingerprints(make_report()) == first
    reworded = make_report()  # findings with a pointer or values are identified by them, not by wording
    for f in reworded.results[0].findings[:2]:
        f.message = "new wording"
    assert fingerprints(reworded) == first
    rebuilt = make_report()  # a rebuild: every digest differs, nothing else
    rebuilt.results[0].findings[0].digest = "sha256:" + "e" * 64
    rebuilt.results[0].findings[0].image = f"ghcr.io/acme/app:v1.2.0@sha256:{'f' * 64}"
    assert fingerprints(rebuilt) == first
    other = make_report()  # a different finding: another builder
    other.results[0].findings[0].actual = "https://github.com/evil/*"
    assert fingerprints(other)[0] != first[0]


# --- JSON -------------------------------------------------------------------------------------


@pytest.fixture
def report_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    return schema


def json_of(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(report, "json"))
    return doc


def test_json_schema_metadata(report_schema: dict[str, Any]) -> None:
    assert report_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert report_schema["$id"] == "https://slsalint.dev/schemas/report-v1.json"
    assert report_schema["title"]
    assert report_schema["description"]


def test_json_validates_against_report_schema(report_schema: dict[str, Any]) -> None:
    for report in (make_report(), passing_report(), make_report(fail_on=Level.WARNING)):
        assert validate(json_of(report), report_schema) == []


def test_json_schema_rejects_a_wrong_document(report_schema: dict[str, Any]) -> None:
    doc = json_of(make_report())
    del doc["exitCode"]
    doc["targets"][0]["findings"][2]["waiver"] = None  # waived but no waiver
    doc["targets"][0]["platforms"][0]["digest"] = "not a digest"
    assert len(validate(doc, report_schema)) == 3


def test_json_document_content_and_key_order() -> None:
    out = render(make_report(), "json")
    assert out.startswith('{\n  "version": "slsalint.report/v1",\n  "tool": {')
    doc = json.loads(out)
    assert list(doc) == ["version", "tool", "failOn", "exitCode", "error", "summary", "rules", "targets"]
    assert doc["tool"] == {"name": "slsalint", "version": "0.1.0"}
    assert doc["failOn"] == "error"
    assert doc["exitCode"] == 1
    assert doc["summary"] == {"error": 1, "warning": 1, "note": 0, "waived": 1, "targets": 2}
    assert doc["rules"][2] == {
        "id": "SL301",
        "name": "builder-untrusted",
        "level": "error",
        "summary": "builder untrusted summary",
        "helpUri": "https://slsalint.dev/rules/SL301",
    }
    image, clean = doc["targets"]
    assert list(image) == ["reference", "kind", "indexDigest", "platforms", "signatures", "findings"]
    assert (image["reference"], image["indexDigest"]) == (IMAGE, INDEX)
    amd64 = image["platforms"][0]
    assert (amd64["platform"], amd64["digest"]) == ("linux/amd64", AMD64)
    (att,) = amd64["attestations"]
    assert att["source"]["kind"] == "buildkit-attestation-manifest"
    assert att["subjects"] == [{"name": "pkg:docker/acme/app@v1.2.0", "digest": {"sha256": "a" * 64}}]
    assert att["provenance"]["builderId"] == EVIL_BUILDER
    assert att["provenance"]["mode"] == "max"
    assert image["platforms"][1]["attestations"] == []
    first = image["findings"][0]
    assert list(first) == [
        "ruleId",
        "ruleName",
        "level",
        "message",
        "image",
        "platform",
        "digest",
        "source",
        "pointer",
        "expected",
        "actual",
        "remediation",
        "location",
        "fingerprint",
        "waived",
        "waiver",
    ]
    assert first["expected"] == ["https://github.com/acme/*"]
    assert first["fingerprint"] == make_report().findings[0].fingerprint()
    waived = image["findings"][2]
    assert waived["waived"] is True
    assert waived["waiver"] == {
        "reason": "arm64 built by the legacy pipeline",
        "owner": "release-team@example.com",
        "expires": "2026-12-31",
        "ticket": "FLEET-1234",
    }
    assert clean["findings"] == []
    assert json_of(passing_report())["exitCode"] == 0


def test_json_escapes_terminal_controls() -> None:
    out = render(make_report(), "json")
    assert "\x1b" not in out
    assert "\\u001b[31m" in out
    report = make_report()
    report.results[0].findings[0].message = "csi \x9b2J and bidi \u202e"
    out = render(report, "json")
    assert "\x9b" not in out
    assert "\u202e" not in out
    assert json.loads(out)["targets"][0]["findings"][0]["message"] == "csi \x9b2J and bidi \u202e"
    report.results[0].findings[0].message = "lone \udc80 surrogate"
    out = render(report, "json")
    out.encode("utf-8")
    assert json.loads(out)["targets"][0]["findings"][0]["message"] == "lone \udc80 surrogate"
    render(report, "sarif").encode("utf-8")
    render(report, "text").encode("utf-8")
    render(report, "markdown").encode("utf-8")
    render(report, "junit").encode("utf-8")


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("nul\x00", "nul\\x00"),
        ("cr\rover", "cr\\x0dover"),
        ("del\x7f", "del\\x7f"),
        ("csi\x9b", "csi\\x9b"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("keeps\nnew\tlines and ünïcode", "keeps\nnew\tlines and ünïcode"),
    ],
)
def test_sanitize(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


def test_text_groups_findings_and_ends_with_summary() -> None:
    out = render(make_report(), "text", width=200)
    lines = out.splitlines()
    assert lines[-1] == "1 error, 1 warning, 0 notes, 1 waived — 2 targets checked, 3 platforms (exit 1)"
    order = [
        out.index(f"image {IMAGE}"),
        out.index(f"platform linux/amd64  sha256:{'a' * 12}"),
        out.index("error   SL301 builder-untrusted"),
        out.index(f"platform linux/arm64  sha256:{'b' * 12}"),
        out.index("warning SL302 provenance-mode-min"),
        out.index("waived  SL102 sbom-missing"),
        out.index(f"image {CLEAN_IMAGE}"),
    ]
    assert order == sorted(order)
    assert f"source: buildkit-attestation-manifest {IMAGE}@sha256:{'1' * 12}" in out
    assert AMD64 not in out  # digests are shown short
    assert "pointer: /predicate/builder/id" in out
    assert 'expected: ["https://github.com/acme/*"]' in out
    assert "actual: min" in out
    assert "fix: build with --provenance=mode=max" in out
    assert (
        "waived: arm64 built by the legacy pipeline "
        "(owner: release-team@example.com, ticket: FLEET-1234, expires: 2026-12-31)"
    ) in out
    clean_part = out[out.index(f"image {CLEAN_IMAGE}") :]
    assert "no findings" in clean_part
    assert out.count("no findings") == 1
    assert "\x1b" not in out


def test_text_summary_for_a_passing_run() -> None:
    out = render(passing_report(), "text")
    assert out.splitlines()[-1].endswith("2 targets checked, 3 platforms (exit 0)")
    assert out.splitlines()[-1].startswith("0 errors, 1 warning, 0 notes, 1 waived")


@pytest.mark.parametrize("color", [False, True])
def test_text_shows_untrusted_markup_and_controls_literally(color: bool) -> None:
    out = render(make_report(), "text", color=color, width=200)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)  # drop the renderer's own colour codes
    assert "\x1b" not in plain
    assert "builder [bold red]x[/]\\x1b[31m is not in the allowed list" in plain
    assert "actual: [bold red]x[/]\\x1b[31m" in plain
    assert "builder [bold red]x[/]\\x1b[31m (statement)" in plain
    if color:
        assert out != plain
    else:
        assert out == plain


# --- JUnit ------------------------------------------------------------------------------------


def junit_of(report: Report) -> ET.Element:
    out = render(report, "junit")
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(out)


def test_junit_parses_and_counts() -> None:
    root = junit_of(make_report())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("12", "1", "0")
    image, clean = root.findall("testsuite")
    assert image.get("name") == IMAGE
    assert (image.get("tests"), image.get("failures"), image.get("skipped")) == ("8", "1", "1")
    cases = {(c.get("classname") or "", c.get("name") or ""): c for c in image.findall("testcase")}
    amd64, arm64 = "ghcr_io/acme/app:v1_2_0.linux/amd64", "ghcr_io/acme/app:v1_2_0.linux/arm64"
    assert all(c.get("time") == "0.000" for c in image.findall("testcase"))
    assert not any(name.startswith("SL501") for _, name in cases)  # off: did not run
    sl301 = next(c for (cls, name), c in cases.items() if cls == amd64 and name.startswith("SL301"))
    failure = sl301.find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert failure.get("message") == "builder [bold red]x[/]\\x1b[31m is not in the allowed list"
    assert "fix: build with an allowed builder" in (failure.text or "")
    warning = next(c for (cls, name), c in cases.items() if cls == arm64 and "SL302" in name)
    assert warning.get("name", "").startswith("[warning] SL302 provenance-mode-min: ")  # visible
    assert warning.find("failure") is None
    assert "mode=min | no <script>" in (warning.findtext("system-out") or "")
    waived = next(c for (cls, name), c in cases.items() if cls == arm64 and name.startswith("SL102"))
    skipped = waived.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "waived until 2026-12-31 by release-team@example.com, ticket FLEET-1234: "
        "arm64 built by the legacy pipeline"
    )
    assert cases[(arm64, "SL101 provenance-missing")].find("*") is None
    assert (clean.get("tests"), clean.get("failures"), clean.get("skipped")) == ("4", "0", "0")
    assert [c.get("name") for c in clean.findall("testcase")] == [
        "SL101 provenance-missing",
        "SL102 sbom-missing",
        "SL301 builder-untrusted",
        "SL302 provenance-mode-min",
    ]


def test_junit_fail_on_warning_turns_warnings_into_failures() -> None:
    root = junit_of(make_report(fail_on=Level.WARNING))
    assert root.get("failures") == "2"
    (failure,) = [
        c
        for c in root.iter("testcase")
        if (c.get("name") or "").startswith("SL302 ") and c.find("*") is not None
    ]
    assert failure.find("failure") is not None
    assert junit_of(passing_report()).get("failures") == "0"


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_verdict_counts_and_waivers() -> None:
    out = render(make_report(), "markdown")
    assert out.startswith("## ❌ slsalint")
    assert "| 1 | 1 | 0 | 1 | 2 | error | 1 |" in out
    assert "| Level | Rule | Platform | Message | Fix |" in out
    assert "No findings." in out
    assert "### Overview" in out
    assert out.index("### Overview") < out.index("### Details")
    waived_row = next(line for line in out.splitlines() if line.startswith("| SL102") and "legacy" in line)
    for text in ("arm64 built by the legacy pipeline", "release-team\\@example.com", "2026-12-31"):
        assert text in waived_row
    assert render(passing_report(), "markdown").startswith("## ✅ slsalint")


def test_markdown_escapes_pipes_newlines_and_html() -> None:
    out = render(make_report(), "markdown")
    row = next(line for line in out.splitlines() if "SL302" in line and "mode=min" in line)
    unescaped_pipes = len(re.findall(r"(?<!\\)\|", row))
    assert unescaped_pipes == 6  # five columns
    assert "mode=min \\| no" in row
    assert "<script>" not in out
    assert "&lt;script&gt;" in row
    assert "<br>second line" in row
    assert "\x1b" not in out
    assert "\\[bold red\\]x\\[/\\]\\\\x1b\\[31m" in out
    assert "\\-" not in out and "\\." not in out  # no backslash noise for harmless punctuation


def test_markdown_neutralises_links_and_code() -> None:
    report = make_report()
    report.results[0].findings[0].message = "see [here](https://evil.example) ![x](y) `code` **b**"
    row = next(line for line in render(report, "markdown").splitlines() if "SL301" in line and "here" in line)
    assert "[here](" not in row
    assert "![x]" not in row
    assert "**" not in row
    assert "https\\://evil" in row  # no autolink
    assert "`code`" in row  # backticked text stays a code span (nothing inside is interpreted)
