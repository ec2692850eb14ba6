"""Helpers shared by the report renderers (no I/O, no heavy imports)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from slsalint.model import JSON, Finding, Report, RuleMeta, TargetResult

TOOL_NAME = "slsalint"
INFORMATION_URI = "https://github.com/slsalint/slsalint"

# C0 controls except TAB and LF, DEL, C1 controls, and the Unicode bidirectional overrides and
# isolates (which can make text display differently from what it is, "trojan source"), and lone
# surrogates (which JSON input can carry but no output encoding can write).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def sanitize(s: str) -> str:
    """Make untrusted text safe to show on a terminal or embed in a document.

    Terminal control characters (ESC and every other C0 control except newline and tab, DEL, the C1
    controls), Unicode bidirectional overrides and lone surrogates are replaced by a visible escape
    such as ``\\x1b`` or ``\\u202e``; everything else is returned unchanged.
    """
    return _UNSAFE.sub(_escape_char, s)


def show_value(value: JSON) -> str:
    """Render an expected/actual value for people: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=json_default)


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: sets become sorted lists, anything else its string form."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def dump_json(document: Any) -> str:
    """Pretty JSON (2-space indent, key order kept) that is safe to print on a terminal.

    Non-ASCII text stays readable; DEL, C1 controls, line/paragraph separators and bidirectional
    overrides and lone surrogates are written as ``\\uXXXX`` escapes (C0 controls are always escaped
    by ``json``), so the text also always encodes as UTF-8.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False, default=json_default)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"


def all_rules(report: Report) -> list[RuleMeta]:
    """Every rule that ran, plus a minimal entry for any rule that reported without being listed."""
    rules = list(report.rules)
    known = {r.id for r in rules}
    for finding in report.findings:
        if finding.rule_id not in known:
            known.add(finding.rule_id)
            rules.append(
                RuleMeta(
                    id=finding.rule_id,
                    name=finding.rule_name,
                    level=finding.level,
                    summary=finding.rule_name,
                    doc="",
                )
            )
    return rules


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Active findings first, most severe first, then by rule id (stable otherwise)."""
    return sorted(findings, key=lambda f: (f.waived, -f.level.rank, f.rule_id))


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def platform_groups(result: TargetResult) -> list[tuple[str | None, str | None, list[Finding]]]:
    """Group a target's findings as ``(platform label, digest, findings)``.

    Image-wide findings (no platform) come first when there are any, then every checked platform in
    target order (with an empty list when clean), then platforms only named by findings.
    """
    groups: list[tuple[str | None, str | None, list[Finding]]] = []
    by_platform: dict[str | None, list[Finding]] = {}
    for finding in result.findings:
        by_platform.setdefault(finding.platform, []).append(finding)
    if None in by_platform:
        groups.append((None, result.target.index_digest, sort_findings(by_platform.pop(None))))
    for pt in result.target.platforms:
        groups.append((pt.label, pt.digest, sort_findings(by_platform.pop(pt.label, []))))
    for label, findings in by_platform.items():
        groups.append((label, findings[0].digest, sort_findings(findings)))
    return groups


def summary_line(report: Report) -> str:
    """``2 errors, 1 warning, 0 notes, 1 waived — 2 targets checked, 3 platforms (exit 1)``."""
    c = report.counts()
    platforms = sum(len(r.target.platforms) for r in report.results)
    return (
        f"{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, "
        f"{plural(c['note'], 'note')}, {c['waived']} waived — "
        f"{plural(len(report.results), 'target')} checked, {plural(platforms, 'platform')} "
        f"(exit {report.exit_code})"
    )


def waiver_text(finding: Finding) -> str:
    """``<reason> (owner: X, ticket: Y, expires: Z)``; empty for an unwaived finding."""
    w = finding.waiver
    if w is None:
        return ""
    parts = [f"owner: {w.owner}"]
    if w.ticket:
        parts.append(f"ticket: {w.ticket}")
    parts.append(f"expires: {w.expires}")
    return f"{w.reason} ({', '.join(parts)})"


def is_failing(report: Report, finding: Finding) -> bool:
    """True when the finding alone would make the run exit 1 (same test as ``Report.failing``)."""
    return not finding.waived and finding.level.at_least(report.fail_on)


_DIGEST_SUFFIX = re.compile(r"@[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f=_-]+$")


def reference_without_digest(reference: str) -> str:
    """``repo:tag@sha256:…`` → ``repo:tag`` so a platform digest can be appended."""
    return _DIGEST_SUFFIX.sub("", reference)


def anchor_uri(path: str) -> str:
    """A file path as a SARIF ``artifactLocation.uri`` (relative paths stay relative)."""
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    if re.match(r"^[A-Za-z]:/", p):
        return "file:///" + quote(p, safe="/:")
    if p.startswith("/"):
        return "file://" + quote(p, safe="/")
    return quote(p, safe="/") or "slsalint.yaml"
