"""Text report for people: image → platform → findings, then one summary line.

Every string that comes from evidence, policy or a registry is untrusted: it is passed through
:func:`sanitize` (terminal control characters become visible escapes) before it is laid out, and
colour is added here as plain SGR sequences around text that is already safe, so nothing from
outside is ever interpreted as markup.

Lines are laid out here: prose wraps at ``width`` with a hanging indent, but a single long word
(a reference) is never split, so it can be copied from the terminal. Digests are shown short
(``sha256:0123456789ab``, as ``docker images`` does; ``--format json`` has them in full), and
values are bounded, so an attestation with 200,000 subjects renders in time linear in the report
and of readable size.
"""

from __future__ import annotations

import textwrap
from typing import Any

from slsalint.model import Attestation, Finding, Level, Report, TargetResult
from slsalint.report._common import (
    clip,
    platform_groups,
    sanitize,
    short_digest,
    shorten_digests,
    show_value,
    summary_line,
    waiver_text,
)

__all__ = ["render", "sanitize"]


def signer_text(verification: Any) -> str:
    """``SUBJECT (issuer ISSUER), log index N, integrated TIME`` for a verified signature."""
    identity = verification.identity
    text = identity.describe() if identity is not None else "an unknown signer"
    if verification.log_index is not None:
        text += f", log index {verification.log_index}"
    if verification.integrated_time is not None:
        text += f", integrated {verification.integrated_time.isoformat()}"
    return text


_SGR = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "underline": "4",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
}
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


def render(report: Report, *, color: bool = False, width: int = 100, options: Any = None, **_: Any) -> str:
    """Render ``report`` as text; ANSI colour only when ``color`` is true. With ``options.quiet``
    only the findings that fail the run (under their image and platform) and the summary line."""
    layout = _Layout(width, color)
    if options is not None and getattr(options, "quiet", False):
        return "\n".join(layout.failing(report)) + "\n"
    return "\n".join(layout.document(report)) + "\n"


def _safe(text: str) -> str:
    """Untrusted text as shown: sanitized, digests shortened, bounded."""
    return sanitize(clip(shorten_digests(text)))


class _Layout:
    def __init__(self, width: int, color: bool) -> None:
        self.width = max(width, 40)
        self.color = color
        self.lines: list[str] = []

    def s(self, text: str, style: str = "") -> str:
        """``text`` (already safe) in ``style`` (space-separated names of :data:`_SGR`)."""
        if not self.color or not style or not text:
            return text
        codes = ";".join(_SGR[name] for name in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"

    def block(self, first: str, first_width: int, value: str, *, indent: int, style: str = "") -> None:
        """Append ``value`` after ``first`` (``first_width`` columns), wrapped, continuation lines
        indented by ``indent``. ``value`` must already be safe; its newlines start new lines."""
        current, used = first, first_width
        for number, paragraph in enumerate(value.split("\n")):
            if number:
                self.lines.append(current.rstrip())
                current, used = " " * indent, indent
            if used + len(paragraph) <= self.width and "\t" not in paragraph:
                current += self.s(paragraph.strip(" "), style)  # fits: nothing to wrap
                continue
            placeholder = "\0" * used
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
            current += self.s(wrapped[0][len(placeholder) :], style)
            for cont in wrapped[1:]:
                self.lines.append(current.rstrip())
                current = " " * indent + self.s(cont[indent:], style)
        self.lines.append(current.rstrip())

    def document(self, report: Report) -> list[str]:
        details = [f"fail-on {report.fail_on.value}"]
        if report.policy_path:
            details.append(f"policy {sanitize(report.policy_path)}")
        if report.packs:
            details.append("packs " + ", ".join(sanitize(p) for p in report.packs))
        self.lines.append(
            self.s("slsalint", "bold")
            + f" {sanitize(report.tool_version)}"
            + self.s(" — " + " · ".join(details), "dim")
        )
        if report.error is not None:
            self.lines.append("")
            head = self.s(f"error (exit {report.error.exit_code}): ", "bold red")
            self.block(
                head, len(f"error (exit {report.error.exit_code}): "), _safe(report.error.message), indent=2
            )
            self.lines.append("")
            self.lines.append(self.s("no target was judged: the check fails", "bold red"))
            return self.lines
        for result in report.results:
            self.lines.append("")
            self.target(result)
        self.lines.append("")
        self.lines.append(self.s(summary_line(report), "bold red" if report.exit_code else "bold green"))
        return self.lines

    def failing(self, report: Report) -> list[str]:
        """``--quiet``: each failing finding under its target and platform, then the summary."""
        if report.error is not None:
            head = f"error (exit {report.error.exit_code}): "
            self.block(self.s(head, "bold red"), len(head), _safe(report.error.message), indent=2)
            return self.lines
        fails = {id(f) for f in report.failing()}
        for result in report.results:
            groups = [
                (label, [f for f in group if id(f) in fails]) for label, _, group in platform_groups(result)
            ]
            if not any(group for _, group in groups):
                continue
            self.lines.append(self.s(sanitize(shorten_digests(result.target.reference)), "bold underline"))
            for label, group in groups:
                if not group:
                    continue
                if result.target.kind == "image":
                    name = "image-wide" if label is None else f"platform {sanitize(label)}"
                    self.lines.append(" " * _PLATFORM_INDENT + self.s(name, "bold magenta"))
                for finding in group:
                    self.finding(finding)
            self.lines.append("")
        self.lines.append(self.s(summary_line(report), "bold red" if report.exit_code else "bold green"))
        return self.lines

    def target(self, result: TargetResult) -> None:
        target = result.target
        reference = sanitize(shorten_digests(target.reference))
        kind = sanitize(target.kind)
        title = self.s(reference, "bold underline")
        if not reference.startswith(f"{kind} "):
            title = self.s(f"{kind} ", "bold") + title
        if target.index_digest:
            title += self.s(f"  index {short_digest(target.index_digest)}", "dim")
        self.lines.append(title)
        self.signatures(target.image_signatures)
        if result.vsa is not None:
            self.lines.append(" " * _PLATFORM_INDENT + self.s(_safe(result.vsa.describe()), "green"))
        if target.kind != "image":
            self.artifact(result)
            return
        platforms = {p.label: p for p in target.platforms}
        for label, digest, findings in platform_groups(result):
            if label is None:
                line = " " * _PLATFORM_INDENT + self.s("image-wide", "bold magenta")
            else:
                line = (
                    " " * _PLATFORM_INDENT
                    + self.s("platform ", "bold")
                    + self.s(sanitize(label), "bold magenta")
                )
            if digest:
                line += self.s(f"  {short_digest(digest)}", "dim")
            self.lines.append(line)
            pt = platforms.get(label) if label is not None else None
            if pt is not None:
                self.evidence(pt.attestations)
            self.findings(findings)

    def artifact(self, result: TargetResult) -> None:
        """Attestation files: one group, the evidence that was read and every finding."""
        target = result.target
        attestations = [a for p in target.platforms for a in p.attestations]
        if attestations or not target.unmatched:
            self.evidence(attestations)
        for att in target.unmatched:
            self.evidence_line(att, "names another subject: ")
        findings = [f for _label, _d, group in platform_groups(result) for f in group]
        self.findings(findings)

    def findings(self, findings: list[Finding]) -> None:
        if not findings:
            self.lines.append(" " * _FINDING_INDENT + self.s("no findings", "green"))
        for finding in findings:
            self.finding(finding)

    def evidence(self, attestations: list[Attestation]) -> None:
        if not attestations:
            self.lines.append(self.s(" " * _FINDING_INDENT + "evidence: no attestations found", "dim"))
            return
        for att in attestations:
            self.evidence_line(att)

    def evidence_line(self, att: Attestation, prefix: str = "") -> None:
        what = sanitize(att.predicate_type)
        prov = att.provenance
        if prov is not None:
            what = f"provenance {sanitize(prov.flavor)} SLSA v{sanitize(prov.slsa_version)}"
            if prov.is_buildkit:
                what += f" mode={prov.mode.value}"
            if prov.builder_id:
                what += f" builder {sanitize(clip(prov.builder_id, 300))}"
        elif att.is_sbom:
            what = f"sbom {what}"
        value = f"{prefix}{what} ({sanitize(att.envelope)}) from {_safe(str(att.source))}"
        verification = att.verification
        if verification is not None and verification.verified:
            how = " through the image signature over the index" if verification.via else ""
            value += f", signed{how} by {_safe(signer_text(verification))}"
        elif verification is not None:
            value += ", signature NOT verified"
        label = " " * _FINDING_INDENT + "evidence: "
        self.block(self.s(label, "dim"), len(label), value, indent=_FINDING_INDENT + 2)

    def signatures(self, signatures: list[Any]) -> None:
        """Image and artifact signatures: who signed, the log index and integrated time."""
        for signature in signatures:
            if signature.role == "evidence":
                continue  # reported by SL202 with the evidence it belongs to
            verification = signature.verification
            what = "artifact signature" if signature.role == "artifact" else "image signature"
            if verification.verified:
                value = f"{what} by {signer_text(verification)}"
                if signature.vouches_for:
                    count = len(signature.vouches_for)
                    value += f", vouches for {count} attestation manifest(s) the index lists"
            else:
                value = f"{what} NOT verified: {verification.message}"
            value += f" ({signature.source})"
            label = " " * _PLATFORM_INDENT + "signature: "
            self.block(self.s(label, "dim"), len(label), _safe(value), indent=_PLATFORM_INDENT + 2)

    def finding(self, finding: Finding) -> None:
        waived = finding.waived
        dim = "dim" if waived else ""
        head = " " * _FINDING_INDENT
        if waived:
            badge = self.s("waived".ljust(_BADGE_WIDTH), "italic dim")
        else:
            badge = self.s(finding.level.value.ljust(_BADGE_WIDTH), _LEVEL_STYLE[finding.level])
        rule = sanitize(finding.rule_id)
        name = f" {sanitize(finding.rule_name)}" + (f" ({finding.level.value})" if waived else "") + ": "
        head += badge + self.s(rule, "bold " + dim if dim else "bold") + self.s(name, dim)
        width = _FINDING_INDENT + _BADGE_WIDTH + len(rule) + len(name)
        self.block(head, width, _safe(finding.message), indent=_DETAIL_INDENT, style=dim)

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
        for field_name, value in fields:
            label = f"{field_name}: "
            styled = " " * _DETAIL_INDENT + self.s(
                label, "bold" if field_name == "fix" and not waived else "dim"
            )
            self.block(
                styled, _DETAIL_INDENT + len(label), _safe(value), indent=_DETAIL_INDENT + 2, style=dim
            )
