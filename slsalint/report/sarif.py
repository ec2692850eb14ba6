"""SARIF 2.1.0 for code-scanning uploads (GitHub, GitLab, Azure DevOps).

Findings are about images, not source lines, so each result gets one physical location in the
repository (``--sarif-anchor``, default the policy file; code scanning rejects results without
one) and logical locations naming the image reference, the platform and the digest.
``partialFingerprints["slsalint/v1"]`` keeps alerts stable between runs; waived findings are kept
and carry an ``external`` suppression with the waiver as justification.
"""

from __future__ import annotations

from typing import Any

from slsalint.model import Finding, Level, Report, RuleMeta
from slsalint.report._common import (
    INFORMATION_URI,
    TOOL_NAME,
    all_rules,
    anchor_uri,
    dump_json,
    reference_without_digest,
    show_value,
    waiver_text,
)

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "slsalint/v1"
DEFAULT_ANCHOR = "slsalint.yaml"

__all__ = ["DEFAULT_ANCHOR", "FINGERPRINT_KEY", "document", "render"]


def render(report: Report, **_: Any) -> str:
    """Render ``report`` as a SARIF 2.1.0 log (pretty-printed JSON)."""
    return dump_json(document(report))


def document(report: Report) -> dict[str, Any]:
    """The SARIF log as plain JSON data."""
    rules = all_rules(report)
    index = {r.id: i for i, r in enumerate(rules)}
    anchor = anchor_uri(report.sarif_anchor or report.policy_path or DEFAULT_ANCHOR)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(r) for r in rules],
            }
        },
        "automationDetails": {"id": f"{TOOL_NAME}/"},
        "invocations": [{"executionSuccessful": True, "exitCode": report.exit_code}],
        "results": [_result(f, index[f.rule_id], anchor) for f in report.findings],
        "properties": {
            "failOn": report.fail_on.value,
            "packs": list(report.packs),
            "targets": [r.target.reference for r in report.results],
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _sarif_level(level: Level) -> str:
    return "none" if level is Level.OFF else level.value


def _first_paragraph(text: str) -> str:
    return text.strip().split("\n\n", 1)[0].replace("\n", " ").strip()


def _rule(rule: RuleMeta) -> dict[str, Any]:
    doc = rule.doc.strip() or rule.summary
    out: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": _first_paragraph(doc) or rule.summary or rule.name},
        "help": {"text": doc, "markdown": doc},
    }
    if rule.help_uri:
        out["helpUri"] = rule.help_uri
    out["defaultConfiguration"] = {"level": _sarif_level(rule.level)}
    out["properties"] = {
        "security-severity": f"{rule.security_severity:.1f}",
        "tags": ["security", "supply-chain"],
    }
    return out


def _message(f: Finding) -> str:
    lines = [f.message]
    if f.expected is not None:
        lines.append(f"Expected: {show_value(f.expected)}")
    if f.actual is not None:
        lines.append(f"Actual: {show_value(f.actual)}")
    if f.remediation:
        lines.append(f"Fix: {f.remediation}")
    if f.waiver is not None:
        lines.append(f"Waived: {waiver_text(f)}")
    return "\n".join(lines)


def _logical_locations(f: Finding) -> list[dict[str, Any]]:
    base = reference_without_digest(f.image)
    out: list[dict[str, Any]] = [{"name": f.image, "fullyQualifiedName": f.image, "kind": "resource"}]
    if f.platform:
        out.append({"name": f.platform, "fullyQualifiedName": f"{base}#{f.platform}", "kind": "resource"})
    if f.digest:
        out.append({"name": f.digest, "fullyQualifiedName": f"{base}@{f.digest}", "kind": "resource"})
    return out


def _result(f: Finding, rule_index: int, anchor: str) -> dict[str, Any]:
    properties = {
        "image": f.image,
        "platform": f.platform,
        "digest": f.digest,
        "source": f.source,
        "pointer": f.pointer,
        "expected": f.expected,
        "actual": f.actual,
    }
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _sarif_level(f.level),
        "message": {"text": _message(f)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": anchor},
                    "region": {"startLine": 1},
                },
                "logicalLocations": _logical_locations(f),
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint()},
    }
    if f.waiver is not None:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": waiver_text(f)}]
    out["properties"] = {k: v for k, v in properties.items() if v is not None}
    return out
