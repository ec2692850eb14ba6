"""GitHub-flavoured Markdown, sized for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

Untrusted text (messages, references, builder ids, waiver fields) can neither break a table nor
inject links, images or HTML: it is sanitized of control characters, HTML-escaped, and Markdown
punctuation is backslash-escaped; newlines become ``<br>`` inside tables.
"""

from __future__ import annotations

import re
from typing import Any

from slsalint.model import Finding, Level, Report, TargetResult
from slsalint.report._common import (
    platform_groups,
    plural,
    sanitize,
    show_value,
    summary_line,
)

__all__ = ["escape", "render"]

_LEVEL_BADGE = {
    Level.ERROR: "🔴 error",
    Level.WARNING: "🟠 warning",
    Level.NOTE: "🔵 note",
    Level.OFF: "off",
}
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "`": "&#96;", "|": "&#124;"}
_HTML_RE = re.compile('[&<>"`|]')
# Characters that start Markdown constructs (emphasis, links, images, headings, lists, strikethrough).
_MD_RE = re.compile(r"([\\*_\[\]()!#~+\-=.{}:@])")


def escape(text: str, *, table: bool = True) -> str:
    """Escape untrusted ``text`` so it renders literally, on one line when ``table`` is true."""
    text = _MD_RE.sub(r"\\\1", sanitize(text))
    # After the Markdown pass, so the '#' of the entities written here stays unescaped.
    text = _HTML_RE.sub(lambda m: _HTML[m.group(0)], text)
    if table:
        text = text.replace("\r\n", "\n").replace("\n", "<br>").replace("\t", " ")
    return text


def render(report: Report, **_: Any) -> str:
    """Render ``report`` as a Markdown summary."""
    counts = report.counts()
    failed = bool(report.exit_code)
    verdict = "❌ slsalint: policy violations" if failed else "✅ slsalint: passed"
    out = [f"## {verdict}", ""]
    out.append(escape(summary_line(report), table=False))
    out.append("")
    out.append("| errors | warnings | notes | waived | targets | fail on | exit code |")
    out.append("|---:|---:|---:|---:|---:|:--|---:|")
    out.append(
        f"| {counts['error']} | {counts['warning']} | {counts['note']} | {counts['waived']} "
        f"| {len(report.results)} | {report.fail_on.value} | {report.exit_code} |"
    )
    for result in report.results:
        out.append("")
        out.extend(_target(result))
    return "\n".join(out) + "\n"


def _message_cell(f: Finding) -> str:
    parts = [escape(f.message)]
    if f.expected is not None:
        parts.append(f"expected: {escape(show_value(f.expected))}")
    if f.actual is not None:
        parts.append(f"actual: {escape(show_value(f.actual))}")
    if f.source:
        parts.append(f"source: {escape(f.source)}")
    return "<br>".join(parts)


def _target(result: TargetResult) -> list[str]:
    target = result.target
    heading = f"### {escape(target.kind, table=False)} {escape(target.reference, table=False)}"
    out = [heading, ""]
    if target.index_digest:
        out.extend([f"index digest: {escape(target.index_digest, table=False)}", ""])
    if result.vsa is not None:
        out.extend([escape(result.vsa.describe(), table=False), ""])
    groups = platform_groups(result)
    active = [(label, f) for label, _d, findings in groups for f in findings if not f.waived]
    waived = [(label, f) for label, _d, findings in groups for f in findings if f.waived]
    platforms = [p.label for p in target.platforms]
    if platforms:
        out.extend([f"platforms: {escape(', '.join(platforms), table=False)}", ""])
    if active:
        out.append("| Level | Rule | Platform | Message | Fix |")
        out.append("|---|---|---|---|---|")
        for label, f in active:
            rule = f"{escape(f.rule_id)} {escape(f.rule_name)}"
            platform = escape(label) if label else "image"
            fix = escape(f.remediation) if f.remediation else ""
            out.append(f"| {_LEVEL_BADGE[f.level]} | {rule} | {platform} | {_message_cell(f)} | {fix} |")
    else:
        out.append("No active findings." if waived else "No findings.")
    if waived:
        out.extend(["", f"<details><summary>{plural(len(waived), 'waived finding')}</summary>", ""])
        out.append("| Rule | Platform | Level | Message | Reason | Owner | Ticket | Expires |")
        out.append("|---|---|---|---|---|---|---|---|")
        for label, f in waived:
            w = f.waiver
            assert w is not None
            out.append(
                f"| {escape(f.rule_id)} {escape(f.rule_name)} | {escape(label) if label else 'image'} "
                f"| {f.level.value} | {escape(f.message)} | {escape(w.reason)} | {escape(w.owner)} "
                f"| {escape(w.ticket) if w.ticket else ''} | {escape(w.expires)} |"
            )
        out.extend(["", "</details>"])
    return out
