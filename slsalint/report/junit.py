"""JUnit XML for CI test-report views (GitLab, Jenkins, Azure DevOps, GitHub test reporters).

Valid against the Jenkins xUnit plugin's ``junit-10.xsd`` and, suite by suite, Maven Surefire's
report schema (every test case has a ``time``). The layout:

- ``testsuites`` holds one ``testsuite`` per checked target, named by its reference without the
  digest (so a rebuild keeps the names; a digest is added only to tell two targets apart);
- test case ``classname`` is ``<image>.<platform>`` with every other dot replaced by ``_``: Jenkins
  splits a class name at its last dot into package (the image) and class (the platform), and would
  otherwise split inside ``ghcr.io`` or ``v1.2.0``; findings about the whole image use ``image``;
- every rule that ran is one passing test case per platform (``SL101 provenance-missing``) when it
  reported nothing there; otherwise one case per finding, named ``<id> <name>: <message>`` with
  digests masked, so names stay the same across rebuilds;
- no two test cases of a suite share classname and name (GitLab keys cases by suite, classname and
  name and drops duplicates): a repeated name gets `` (2)``, `` (3)``, ...;
- an unwaived finding at or above ``--fail-on`` is a ``<failure>``; a waived finding is
  ``<skipped>`` whose message names the owner, ticket and expiry; a finding below ``--fail-on``
  (a warning under the default) passes, but its name starts with its level (``[warning]``) and
  its details are in ``<system-out>`` so the report shows it;
- a run that stopped (exit 2 or 3) is one suite with one test case holding an ``<error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from slsalint.model import Finding, Level, Report, TargetResult, mask_digests
from slsalint.report._common import (
    TOOL_NAME,
    all_rules,
    clip,
    is_failing,
    platform_groups,
    reference_without_digest,
    sanitize,
    short_digest,
    show_value,
    waiver_text,
)

__all__ = ["render"]

IMAGE_WIDE = "image"
"""Platform part of a class name for findings about the whole image or index."""
ZERO_TIME = "0.000"
MAX_NAME = 200

# Code points XML 1.0 cannot carry at all (after sanitize() has escaped the C0/C1 controls).
_XML_INVALID = re.compile("[\ufffe\uffff]")


def _x(s: str) -> str:
    """Untrusted text made safe for an XML 1.0 document (ElementTree escapes the markup)."""
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group(0)):04x}", sanitize(s))


def render(report: Report, **_: Any) -> str:
    """Render ``report`` as a JUnit XML document (UTF-8 declaration, indented)."""
    root = ET.Element("testsuites", {"name": TOOL_NAME})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    suites = [_error_suite(report)] if report.error is not None else []
    names: set[str] = set()
    for result in report.results:
        suites.append(_suite(report, result, names))
    for suite in suites:
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.set("time", ZERO_TIME)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite_element(name: str) -> ET.Element:
    return ET.Element("testsuite", {"name": _x(name)})


def _finish(suite: ET.Element, cases: list[ET.Element]) -> ET.Element:
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", ZERO_TIME)
    return suite


def _error_suite(report: Report) -> ET.Element:
    assert report.error is not None
    suite = _suite_element(TOOL_NAME)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "exitCode", "value": str(report.error.exit_code)})
    case = ET.Element(
        "testcase", {"name": "slsalint check", "classname": f"{TOOL_NAME}.run", "time": ZERO_TIME}
    )
    error = ET.SubElement(
        case, "error", {"message": _x(report.error.message), "type": f"{report.error.kind}-error"}
    )
    error.text = _x(
        f"slsalint stopped before judging the targets (exit {report.error.exit_code}): {report.error.message}"
    )
    return _finish(suite, [case])


def _no_dots(text: str) -> str:
    return text.replace(".", "_")


def _suite_name(result: TargetResult, taken: set[str]) -> str:
    target = result.target
    name = reference_without_digest(target.reference) or target.reference
    if target.kind != "image":
        name = mask_digests(name)
    if name in taken:
        first = target.platforms[0].digest if target.platforms else None
        name = f"{name}@{short_digest(target.index_digest or first)}"
    number = 2
    base = name
    while name in taken:
        name = f"{base} ({number})"
        number += 1
    taken.add(name)
    return name


def _suite(report: Report, result: TargetResult, taken: set[str]) -> ET.Element:
    target = result.target
    suite_name = _suite_name(result, taken)
    suite = _suite_element(suite_name)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "reference", "value": _x(target.reference)})
    ET.SubElement(props, "property", {"name": "kind", "value": _x(target.kind)})
    if target.index_digest:
        ET.SubElement(props, "property", {"name": "indexDigest", "value": _x(target.index_digest)})
    ET.SubElement(props, "property", {"name": "failOn", "value": report.fail_on.value})

    package = _no_dots(suite_name)
    rules = [r for r in all_rules(report) if r.level is not Level.OFF]
    cases: list[ET.Element] = []
    used: set[tuple[str, str]] = set()

    def unique(classname: str, name: str) -> str:
        name = clip(name, MAX_NAME)
        candidate, number = name, 2
        while (classname, candidate) in used:
            candidate = f"{name} ({number})"
            number += 1
        used.add((classname, candidate))
        return candidate

    for label, _digest, findings in platform_groups(result):
        part = IMAGE_WIDE if label is None else ("artifact" if target.kind != "image" else label)
        classname = f"{package}.{_no_dots(part)}"
        by_rule: dict[str, list[Finding]] = {}
        for finding in findings:
            by_rule.setdefault(finding.rule_id, []).append(finding)
        if label is not None:
            for rule in rules:
                if rule.id not in by_rule:
                    cases.append(_case(classname, unique(classname, f"{rule.id} {rule.name}")))
        for _rule_id, rule_findings in sorted(by_rule.items()):
            for finding in rule_findings:
                name = unique(classname, _case_name(report, finding))
                cases.append(_finding_case(report, classname, name, finding))
    if not cases:
        cases.append(_case(f"{package}.{IMAGE_WIDE}", "all rules"))
    return _finish(suite, cases)


def _case_name(report: Report, finding: Finding) -> str:
    message = " ".join(mask_digests(finding.message).split())
    prefix = "" if finding.waived or is_failing(report, finding) else f"[{finding.level.value}] "
    return f"{prefix}{finding.rule_id} {finding.rule_name}: {message}"


def _case(classname: str, name: str) -> ET.Element:
    return ET.Element("testcase", {"name": _x(name), "classname": _x(classname), "time": ZERO_TIME})


def _details(finding: Finding) -> str:
    lines = [f"{finding.level.value} {finding.rule_id} {finding.rule_name}: {finding.message}"]
    lines.append(f"image: {finding.image}")
    if finding.platform:
        lines.append(f"platform: {finding.platform}")
    if finding.digest:
        lines.append(f"digest: {finding.digest}")
    if finding.source:
        lines.append(f"source: {finding.source}")
    if finding.pointer:
        lines.append(f"pointer: {finding.pointer}")
    if finding.expected is not None:
        lines.append(f"expected: {show_value(finding.expected)}")
    if finding.actual is not None:
        lines.append(f"actual: {show_value(finding.actual)}")
    if finding.remediation:
        lines.append(f"fix: {finding.remediation}")
    if finding.config is not None:
        lines.append(f"configured at: {finding.config.path}:{finding.config.line} ({finding.config.what})")
    if finding.waiver is not None:
        lines.append(f"waived: {waiver_text(finding)}")
    return _x("\n".join(lines))


def _waiver_message(finding: Finding) -> str:
    w = finding.waiver
    assert w is not None
    ticket = f", ticket {w.ticket}" if w.ticket else ""
    return f"waived until {w.expires} by {w.owner}{ticket}: {w.reason}"


def _finding_case(report: Report, classname: str, name: str, finding: Finding) -> ET.Element:
    case = _case(classname, name)
    if finding.waiver is not None:
        ET.SubElement(case, "skipped", {"message": _x(_waiver_message(finding))})
        ET.SubElement(case, "system-out").text = _details(finding)
    elif is_failing(report, finding):
        failure = ET.SubElement(
            case, "failure", {"message": _x(clip(finding.message, 1000)), "type": finding.level.value}
        )
        failure.text = _details(finding)
    else:
        ET.SubElement(case, "system-out").text = _details(finding)
    return case
