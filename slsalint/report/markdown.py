"""GitHub-flavoured Markdown, sized for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

Layout: a verdict heading and the tally, an overview table per image and one per rule, then the
details of every image (active findings, then waived ones folded). GitHub refuses a step summary
over 1 MiB, and ``--format markdown=PATH`` appends to PATH (as ``$GITHUB_STEP_SUMMARY`` expects),
so the report is given a byte budget (1 MiB less what the file already holds, less a margin):
the overview comes first, and details past the budget are left out with a note saying how many
and where the complete report is. A run that stopped (exit 2 or 3) writes an error block.

Untrusted text (messages, references, builder ids, waiver fields) can neither break a table nor
inject links, images, mentions or HTML: it is sanitized of control characters, ``<``, ``>`` and
``&`` become entities, and only the Markdown characters that could start a construct are
backslash-escaped (`` ` * _ [ ] | ~ @ \\ `` and the ``:`` of ``scheme://``); newlines become
``<br>``. Digests are shortened and commands in fix texts are shown as code spans.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slsalint.model import Finding, Level, Report, TargetResult
from slsalint.report._common import (
    clip,
    platform_groups,
    plural,
    sanitize,
    short_digest,
    shorten_digests,
    summary_line,
)

if TYPE_CHECKING:
    from slsalint.report import ReportOptions

__all__ = ["STEP_SUMMARY_LIMIT", "code", "escape", "render"]

STEP_SUMMARY_LIMIT = 1024 * 1024
"""GitHub's limit for one step's summary (bytes)."""
MARGIN = 4096
"""Bytes kept free below the budget (what other steps' tools may still append)."""

_LEVEL_BADGE = {
    Level.ERROR: "🔴 error",
    Level.WARNING: "🟠 warning",
    Level.NOTE: "🔵 note",
    Level.OFF: "off",
}
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_SPECIAL = re.compile(r"[\\`*\[\]|~@]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|file|www)(:|\.)")
_HTML_RE = re.compile("[&<>]")


def escape(text: str, *, table: bool = True) -> str:
    """Escape untrusted ``text`` so it renders literally, on one line when ``table`` is true."""
    text = sanitize(text)
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _AUTOLINK.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    text = _HTML_RE.sub(lambda m: _ENTITIES[m.group(0)], text)
    if table:
        text = text.replace("\r\n", "\n").replace("\n", "<br>").replace("\t", " ")
    return text


def code(text: str) -> str:
    """``text`` as a code span that nothing inside can close, on one line, safe in a table."""
    text = " ".join(sanitize(text).split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def prose(text: str) -> str:
    """Untrusted text with its `backticked` parts as code spans and digests shortened."""
    parts = shorten_digests(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans
        return escape(shorten_digests(text))
    return "".join(code(p) if i % 2 else escape(p) for i, p in enumerate(parts) if p or not i % 2)


def render(report: Report, *, options: ReportOptions | None = None, **_: Any) -> str:
    """Render ``report`` as a Markdown summary within the budget of ``options.markdown_budget``."""
    budget = STEP_SUMMARY_LIMIT - MARGIN
    if options is not None and options.markdown_budget is not None:
        budget = options.markdown_budget
    out = _Budget(budget)
    head = _head(report)
    out.add(head)
    if report.error is None:
        out.add(_overview(report), keep=True)
        _details(report, out)
    return out.text()


class _Budget:
    """Lines with a byte budget; what does not fit is counted, not written."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 0)
        self.lines: list[str] = []
        self.size = 0
        self.left_out = 0

    def fits(self, lines: list[str], reserve: int = 600) -> bool:
        size = sum(len(line.encode("utf-8")) + 1 for line in lines)
        return self.size + size + reserve <= self.limit

    def add(self, lines: list[str], *, keep: bool = False) -> bool:
        if not keep and not self.fits(lines):
            return False
        if keep and not self.fits(lines):
            # The overview alone is over budget: keep as many rows as fit.
            kept: list[str] = []
            for line in lines:
                if not self.fits([*kept, line]):
                    break
                kept.append(line)
            lines = [*kept, "", "_Overview truncated to stay within the step-summary size limit._", ""]
        self.lines.extend(lines)
        self.size += sum(len(line.encode("utf-8")) + 1 for line in lines)
        return True

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _head(report: Report) -> list[str]:
    if report.error is not None:
        return [
            f"## ⚠️ slsalint: could not check (exit {report.error.exit_code})",
            "",
            f"> **{escape(report.error.kind.capitalize(), table=False)} error:** "
            f"{prose(report.error.message)}",
            ">",
            "> No target was judged, so the gate fails. Fix the cause and run the check again.",
            "",
        ]
    counts = report.counts()
    failed = bool(report.exit_code)
    verdict = "❌ slsalint: policy violations" if failed else "✅ slsalint: passed"
    return [
        f"## {verdict}",
        "",
        escape(summary_line(report), table=False),
        "",
        "| errors | warnings | notes | waived | targets | fail on | exit code |",
        "|---:|---:|---:|---:|---:|:--|---:|",
        f"| {counts['error']} | {counts['warning']} | {counts['note']} | {counts['waived']} "
        f"| {len(report.results)} | {report.fail_on.value} | {report.exit_code} |",
        "",
    ]


def _tally(findings: list[Finding]) -> tuple[int, int, int, int]:
    e = w = n = waived = 0
    for f in findings:
        if f.waived:
            waived += 1
        elif f.level is Level.ERROR:
            e += 1
        elif f.level is Level.WARNING:
            w += 1
        elif f.level is Level.NOTE:
            n += 1
    return e, w, n, waived


def _overview(report: Report) -> list[str]:
    if not report.results:
        return []
    out = [
        "### Overview",
        "",
        "| Image | Platforms | Errors | Warnings | Notes | Waived |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for result in report.results:
        target = result.target
        platforms = ", ".join(p.label for p in target.platforms if p.platform) or (
            "artifact" if target.kind != "image" else "-"
        )
        e, w, n, waived = _tally(result.findings)
        out.append(f"| {code(target.reference)} | {escape(platforms)} | {e} | {w} | {n} | {waived} |")
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    if by_rule:
        out.extend(["", "| Rule | Level | Findings | Waived | Images |", "|---|---|---:|---:|---:|"])
        for rule_id, findings in sorted(by_rule.items(), key=lambda kv: (-kv[1][0].level.rank, kv[0])):
            active = [f for f in findings if not f.waived]
            images = len({f.image for f in findings})
            level = _LEVEL_BADGE[max((f.level for f in findings), key=lambda lv: lv.rank)]
            out.append(
                f"| {escape(rule_id)} {escape(findings[0].rule_name)} | {level} | {len(active)} "
                f"| {len(findings) - len(active)} | {images} |"
            )
    out.append("")
    return out


def _details(report: Report, out: _Budget) -> None:
    if not report.results:
        return
    out.add(["### Details", ""])
    total = len(report.findings)
    shown = 0
    for result in report.results:
        header, rows, folded, waived = _target(result)
        if not out.add(header):
            break
        for row in rows:
            if not out.add([row]):
                break
            shown += 1
        if folded and out.add(folded):
            shown += waived
        out.add([""])
    left = total - shown
    if left > 0:
        out.lines.extend(
            [
                "",
                f"_{plural(left, 'finding')} left out to stay under GitHub's 1 MiB step-summary limit: "
                "the JSON or SARIF report has every finding._",
                "",
            ]
        )


def _message_cell(f: Finding) -> str:
    parts = [prose(clip(f.message, 1000))]
    if f.pointer:
        parts.append(f"at {code(f.pointer)}")
    if f.source:
        parts.append(f"source: {code(shorten_digests(f.source))}")
    return "<br>".join(parts)


def _target(result: TargetResult) -> tuple[list[str], list[str], list[str], int]:
    target = result.target
    title = f"#### {escape(target.kind, table=False)} {code(target.reference)}"
    if target.index_digest:
        title += f" · index {code(short_digest(target.index_digest))}"
    header = [title, ""]
    if result.vsa is not None:
        header.extend([prose(result.vsa.describe()), ""])
    groups = platform_groups(result)
    active = [(label, f) for label, _d, findings in groups for f in findings if not f.waived]
    waived = [(label, f) for label, _d, findings in groups for f in findings if f.waived]
    rows: list[str] = []
    if active:
        header.append("| Level | Rule | Platform | Message | Fix |")
        header.append("|---|---|---|---|---|")
        for label, f in active:
            rule = f"{escape(f.rule_id)} {escape(f.rule_name)}"
            platform = escape(label) if label else ("artifact" if target.kind != "image" else "image")
            fix = prose(clip(f.remediation, 1000)) if f.remediation else ""
            rows.append(f"| {_LEVEL_BADGE[f.level]} | {rule} | {platform} | {_message_cell(f)} | {fix} |")
    else:
        header.append("No active findings." if waived else "No findings.")
    folded: list[str] = []
    if waived:
        folded.extend(["", f"<details><summary>{plural(len(waived), 'waived finding')}</summary>", ""])
        folded.append("| Rule | Platform | Level | Message | Reason | Owner | Ticket | Expires |")
        folded.append("|---|---|---|---|---|---|---|---|")
        for label, f in waived:
            w = f.waiver
            assert w is not None
            folded.append(
                f"| {escape(f.rule_id)} {escape(f.rule_name)} | {escape(label) if label else 'image'} "
                f"| {f.level.value} | {prose(clip(f.message, 1000))} | {escape(w.reason)} "
                f"| {escape(w.owner)} "
                f"| {escape(w.ticket) if w.ticket else ''} | {escape(w.expires)} |"
            )
        folded.extend(["", "</details>"])
    return header, rows, folded, len(waived)
