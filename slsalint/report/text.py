"""Text report for people: image → platform → findings, then one summary line.

Every string that comes from evidence, policy or a registry is untrusted. It is passed through
:func:`sanitize` (terminal control characters become visible escapes) and only ever placed in
``rich.text.Text`` objects, which are never parsed for console markup.

Lines are laid out here rather than by rich: prose wraps at ``width`` with a hanging indent, but a
single long word (a digest, a reference) is never split, so it can be copied from the terminal.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING, Any

from slsalint.model import Attestation, Finding, Level, Report, TargetResult
from slsalint.report._common import platform_groups, sanitize, show_value, summary_line, waiver_text

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["render", "sanitize"]

_LEVEL_STYLE = {
    Level.ERROR: "bold red",
    Level.WARNING: "yellow",
    Level.NOTE: "cyan",
    Level.OFF: "dim",
}
_BADGE_WIDTH = 8
_PLATFORM_INDENT = 2
_FINDING_INDENT = 4
_DETAIL_INDENT = _FINDING_INDENT + _BADGE_WIDTH


def render(report: Report, *, color: bool = False, width: int = 100, **_: Any) -> str:
    """Render ``report`` as text; ANSI colour only when ``color`` is true."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
    )
    for line in _Layout(width).document(report):
        console.print(line, soft_wrap=True)
    return "\n".join(line.rstrip(" ") for line in buffer.getvalue().split("\n"))


class _Layout:
    def __init__(self, width: int) -> None:
        self.width = max(width, 40)
        self.lines: list[Text] = []

    def block(self, first: Text, value: str, *, indent: int, style: str = "") -> None:
        """Append ``value`` after ``first``, wrapped, continuation lines indented by ``indent``.

        ``value`` must already be sanitized; its own newlines start new (indented) lines.
        """
        from rich.text import Text

        current = first
        for number, paragraph in enumerate(value.split("\n")):
            if number:
                self.lines.append(current)
                current = Text(" " * indent, style=first.style)
            placeholder = "\0" * current.cell_len
            wrapped = textwrap.wrap(
                paragraph,
                width=self.width,
                initial_indent=placeholder,
                subsequent_indent=" " * indent,
                break_long_words=False,
                break_on_hyphens=False,
                expand_tabs=False,
            )
            if not wrapped:
                continue
            current.append(wrapped[0][len(placeholder) :], style=style)
            for cont in wrapped[1:]:
                self.lines.append(current)
                current = Text(" " * indent, style=first.style)
                current.append(cont[indent:], style=style)
        self.lines.append(current)

    def document(self, report: Report) -> list[Text]:
        from rich.text import Text

        header = Text.assemble(("slsalint", "bold"), f" {sanitize(report.tool_version)}")
        details = [f"fail-on {report.fail_on.value}"]
        if report.policy_path:
            details.append(f"policy {sanitize(report.policy_path)}")
        if report.packs:
            details.append("packs " + ", ".join(sanitize(p) for p in report.packs))
        header.append(" — " + " · ".join(details), style="dim")
        self.lines.append(header)
        for result in report.results:
            self.lines.append(Text(""))
            self.target(result)
        self.lines.append(Text(""))
        self.lines.append(Text(summary_line(report), style="bold red" if report.exit_code else "bold green"))
        return self.lines

    def target(self, result: TargetResult) -> None:
        from rich.text import Text

        target = result.target
        title = Text()
        title.append(f"{sanitize(target.kind)} ", style="bold")
        title.append(sanitize(target.reference), style="bold underline")
        if target.index_digest:
            title.append(f"  index {sanitize(target.index_digest)}", style="dim")
        self.lines.append(title)
        if result.vsa is not None:
            line = Text(" " * _PLATFORM_INDENT)
            line.append(sanitize(result.vsa.describe()), style="green")
            self.lines.append(line)

        platforms = {p.label: p for p in target.platforms}
        for label, digest, findings in platform_groups(result):
            line = Text(" " * _PLATFORM_INDENT)
            if label is None:
                line.append("image-wide", style="bold magenta")
            else:
                line.append("platform ", style="bold")
                line.append(sanitize(label), style="bold magenta")
            if digest:
                line.append(f"  {sanitize(digest)}", style="dim")
            self.lines.append(line)
            pt = platforms.get(label) if label is not None else None
            if pt is not None:
                self.evidence(pt.attestations)
            if not findings:
                self.lines.append(Text.assemble(" " * _FINDING_INDENT, ("no findings", "green")))
            for finding in findings:
                self.finding(finding)

    def evidence(self, attestations: list[Attestation]) -> None:
        from rich.text import Text

        indent = _FINDING_INDENT
        if not attestations:
            self.lines.append(Text(" " * indent + "evidence: no attestations found", style="dim"))
            return
        for att in attestations:
            what = sanitize(att.predicate_type)
            prov = att.provenance
            if prov is not None:
                what = f"provenance {sanitize(prov.flavor)} SLSA v{sanitize(prov.slsa_version)}"
                if prov.is_buildkit:
                    what += f" mode={prov.mode.value}"
                if prov.builder_id:
                    what += f" builder {sanitize(prov.builder_id)}"
            elif att.is_sbom:
                what = f"sbom {what}"
            value = f"{what} ({sanitize(att.envelope)}) from {sanitize(str(att.source))}"
            self.block(Text(" " * indent + "evidence: ", style="dim"), value, indent=indent + 2)

    def finding(self, finding: Finding) -> None:
        from rich.text import Text

        waived = finding.waived
        dim = "dim" if waived else ""
        head = Text(" " * _FINDING_INDENT, style=dim)
        if waived:
            head.append("waived".ljust(_BADGE_WIDTH), style="italic")
        else:
            head.append(finding.level.value.ljust(_BADGE_WIDTH), style=_LEVEL_STYLE[finding.level])
        head.append(sanitize(finding.rule_id), style="bold")
        head.append(f" {sanitize(finding.rule_name)}")
        if waived:
            head.append(f" ({finding.level.value})")
        head.append(": ")
        self.block(head, sanitize(finding.message), indent=_DETAIL_INDENT)

        fields: list[tuple[str, str]] = []
        if finding.waiver is not None:
            fields.append(("waived", waiver_text(finding)))
        if finding.source:
            fields.append(("source", finding.source))
        if finding.pointer:
            fields.append(("pointer", finding.pointer))
        if finding.expected is not None:
            fields.append(("expected", show_value(finding.expected)))
        if finding.actual is not None:
            fields.append(("actual", show_value(finding.actual)))
        if finding.remediation:
            fields.append(("fix", finding.remediation))
        for name, value in fields:
            label = Text(" " * _DETAIL_INDENT, style=dim)
            label.append(f"{name}: ", style="bold" if name == "fix" and not waived else "dim")
            self.block(label, sanitize(value), indent=_DETAIL_INDENT + 2)
