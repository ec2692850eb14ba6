"""JUnit as GitLab and Jenkins ingest it: the Jenkins xUnit plugin's junit-10.xsd and Maven
Surefire's report schema (xmlschema), GitLab's key rule, Jenkins' class-name split."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import xmlschema

from tests.report.conftest import CI_ASSETS
from tests.report.scenario import Gate, gate


@pytest.fixture(scope="module")
def junit10() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(CI_ASSETS / "junit-10.xsd"))


@pytest.fixture(scope="module")
def surefire() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(CI_ASSETS / "surefire-test-report.xsd"))


def validate_both(path: Path, junit10: xmlschema.XMLSchema10, surefire: xmlschema.XMLSchema10) -> ET.Element:
    junit10.validate(str(path))  # raises XMLSchemaValidationError naming the element and the rule
    root = ET.parse(path).getroot()
    for suite in root.findall("testsuite"):  # Surefire writes one <testsuite> document per suite
        surefire.validate(ET.tostring(suite, encoding="unicode"))
    return root


def test_the_validators_reject_what_jenkins_rejects(
    junit10: xmlschema.XMLSchema10, surefire: xmlschema.XMLSchema10
) -> None:
    """A case without time (Surefire) and a skipped count on testsuites (xUnit) fail: the schemas
    in use are the strict ones."""
    assert not surefire.is_valid(
        '<testsuite name="s" tests="1" errors="0" skipped="0" failures="0"><testcase name="c"/></testsuite>'
    )
    assert not junit10.is_valid(
        '<testsuites skipped="1"><testsuite name="s" tests="0" failures="0" errors="0"/></testsuites>'
    )


def test_fleet_report_is_valid_for_jenkins_and_surefire(
    fleet: Gate, junit10: xmlschema.XMLSchema10, surefire: xmlschema.XMLSchema10
) -> None:
    root = validate_both(fleet.reports["junit"], junit10, surefire)
    assert all(case.get("time") is not None for case in root.iter("testcase"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "oci:images/app",
        "oci:images/worker",
        "oci:images/example-package",
    ]
    total = sum(int(s.get("tests", "0")) for s in suites)
    assert root.get("tests") == str(total) == str(len(list(root.iter("testcase"))))


def test_gitlab_key_rule_every_failure_shows(fleet: Gate) -> None:
    """GitLab keys test cases by suite, classname and name and drops duplicates: none may repeat,
    so every failing finding of the JSON report is a distinct failing test case."""
    root = ET.parse(fleet.reports["junit"]).getroot()
    keys = Counter(
        (suite.get("name"), case.get("classname"), case.get("name"))
        for suite in root.findall("testsuite")
        for case in suite.findall("testcase")
    )
    assert [k for k, n in keys.items() if n > 1] == []
    failing = [
        f for t in fleet.json()["targets"] for f in t["findings"] if not f["waived"] and f["level"] == "error"
    ]
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert len(failures) == len(failing) >= 10  # six SL404 alone (three per platform of app)
    assert root.get("failures") == str(len(failing))


def test_jenkins_splits_class_names_only_between_image_and_platform(fleet: Gate) -> None:
    root = ET.parse(fleet.reports["junit"]).getroot()
    for suite in root.findall("testsuite"):
        for case in suite.findall("testcase"):
            classname = case.get("classname") or ""
            package, _, cls = classname.rpartition(".")
            assert "." not in package, classname  # no split inside ghcr.io or v1.2.0
            assert cls in ("linux/amd64", "linux/arm64", "image"), classname


def test_waivers_and_warnings_are_visible(fleet: Gate) -> None:
    root = ET.parse(fleet.reports["junit"]).getroot()
    (skipped,) = list(root.iter("skipped"))
    message = skipped.get("message") or ""
    assert message == (
        f"waived until {_expiry(fleet)} by release-team@example.com, ticket ACME-1234: "
        "arm64 is built by the legacy pipeline"
    )
    warnings = [c for c in root.iter("testcase") if (c.get("name") or "").startswith("[warning] ")]
    assert {(c.get("name") or "").split(":")[0] for c in warnings} >= {
        "[warning] SL106 platform-attestation-missing",
        "[warning] SL303 builder-id-empty",
    }
    assert all(c.findtext("system-out") for c in warnings)


def _expiry(fleet: Gate) -> str:
    text = (fleet.root / "slsalint-exceptions.yaml").read_text(encoding="utf-8")
    return text.split("expires: ", 1)[1].split("\n", 1)[0]


def test_names_do_not_change_with_a_rebuild(tmp_path: Path) -> None:
    def keys(g: Gate) -> set[tuple[str | None, str | None, str | None]]:
        root = ET.parse(g.reports["junit"]).getroot()
        return {
            (s.get("name"), c.get("classname"), c.get("name"))
            for s in root.iter("testsuite")
            for c in s.iter("testcase")
        }

    assert keys(gate(tmp_path / "a", build="1")) == keys(gate(tmp_path / "b", build="2"))


@pytest.mark.parametrize("args", [("--policy", "missing.yaml"), ("--platform", "bad")])
def test_a_stopped_run_writes_a_junit_error(
    tmp_path: Path, args: tuple[str, ...], junit10: xmlschema.XMLSchema10, surefire: xmlschema.XMLSchema10
) -> None:
    stopped = gate(tmp_path / "repo", extra=args)
    assert stopped.outcome.code == 2
    root = validate_both(stopped.reports["junit"], junit10, surefire)
    (error,) = list(root.iter("error"))
    assert error.get("type") == "configuration-error"
    assert stopped.outcome.first_line.removeprefix("slsalint: error: ") == error.get("message")
    assert root.get("errors") == "1" and root.get("failures") == "0"
