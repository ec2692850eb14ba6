"""JUnit XML for CI test-report views (Jenkins, GitLab, Azure DevOps, GitHub test reporters).

``testsuites`` holds one ``testsuite`` per checked target. Inside it, every rule that ran is one
test case per platform, named ``"<ruleId> <platform>"``: it passes when the rule reported nothing
there, and otherwise there is one test case per finding. An unwaived finding at or above
``--fail-on`` is a ``<failure>``; one below it passes with the details in ``<system-out>``; a waived
finding is ``<skipped>``. A target without any finding also gets a passing ``all rules`` case.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from slsalint.model import Finding, Level, Report, TargetResult
from slsalint.report._common import (
    TOOL_NAME,
    all_rules,
    is_failing,
    platform_groups,
    sanitize,
    show_value,
    waiver_text,
)

__all__ = ["render"]

IMAGE_WIDE = "image"
"""Platform part of a test case name for findings about the whole image or index."""

# Code points XML 1.0 cannot carry at all (after sanitize() has escaped the C0/C1 controls).
_XML_INVALID = re.compile("[\ufffe\uffff]")


def _x(s: str) -> str:
    """Untrusted text made safe for an XML 1.0 document (ElementTree escapes the markup)."""
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group(0)):04x}", sanitize(s))


def render(report: Report, **_: Any) -> str:
    """Render ``report`` as a JUnit XML document (UTF-8 declaration, indented)."""
    root = ET.Element("testsuites", {"name": TOOL_NAME})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for result in report.results:
        suite = _suite(report, result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(report: Report, result: TargetResult) -> ET.Element:
    target = result.target
    suite = ET.Element("testsuite", {"name": _x(target.reference)})
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "kind", "value": _x(target.kind)})
    if target.index_digest:
        ET.SubElement(props, "property", {"name": "indexDigest", "value": _x(target.index_digest)})
    ET.SubElement(props, "property", {"name": "failOn", "value": report.fail_on.value})

    rules = [r for r in all_rules(report) if r.level is not Level.OFF]
    cases: list[ET.Element] = []
    for label, _digest, findings in platform_groups(result):
        platform = label or IMAGE_WIDE
        by_rule: dict[str, list[Finding]] = {}
        for finding in findings:
            by_rule.setdefault(finding.rule_id, []).append(finding)
        if label is not None:
            for rule in rules:
                if rule.id not in by_rule:
                    cases.append(_case(target.reference, f"{rule.id} {platform}"))
        for rule_id, rule_findings in sorted(by_rule.items()):
            for finding in rule_findings:
                cases.append(_finding_case(report, target.reference, f"{rule_id} {platform}", finding))
    if not result.findings:
        cases.append(_case(target.reference, "all rules"))

    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    return suite


def _case(classname: str, name: str) -> ET.Element:
    return ET.Element("testcase", {"classname": _x(classname), "name": _x(name)})


def _details(finding: Finding) -> str:
    lines = [f"{finding.level.value} {finding.rule_id} {finding.rule_name}: {finding.message}"]
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
    if finding.waiver is not None:
        lines.append(f"waived: {waiver_text(finding)}")
    return _x("\n".join(lines))


def _finding_case(report: Report, classname: str, name: str, finding: Finding) -> ET.Element:
    case = _case(classname, name)
    if finding.waiver is not None:
        ET.SubElement(case, "skipped", {"message": _x(f"waived: {finding.waiver.reason}")})
        ET.SubElement(case, "system-out").text = _details(finding)
    elif is_failing(report, finding):
        failure = ET.SubElement(
            case, "failure", {"message": _x(finding.message), "type": finding.level.value}
        )
        failure.text = _details(finding)
    else:
        ET.SubElement(case, "system-out").text = _details(finding)
    return case
