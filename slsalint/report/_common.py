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

DOCS_URL = "https://github.com/slsalint/slsalint/blob/main/docs"
"""Default base of the documentation links in reports (``--docs-url`` changes it)."""

# C0 controls except TAB and LF, DEL, C1 controls, the soft hyphen, the Unicode bidirectional
# marks, embeddings, overrides and isolates (which make text display differently from what it is,
# "trojan source"), zero-width and other invisible format characters, line and paragraph
# separators, interlinear annotations, the tag characters (invisible "ASCII smuggling"), and lone
# surrogates (which JSON input can carry but no output encoding can write).
_UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f"
)
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
# A literal backslash is doubled where it could be read as the start of an escape: before x, u, U
# or another backslash, and before a character that is escaped.
_AMBIGUOUS_BACKSLASH = re.compile(f"\\\\(?=[xuU\\\\{_UNSAFE_CLASS}]|$)")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def sanitize(s: str) -> str:
    """Make untrusted text safe to show on a terminal or embed in a document.

    Terminal control characters (ESC and every other C0 control except newline and tab, DEL, the C1
    controls), bidirectional controls, zero-width and other invisible characters, tag characters
    and lone surrogates are replaced by a visible escape such as ``\\x1b``, ``\\u200b`` or
    ``\\U000e0041``. A literal backslash that could be mistaken for the start of such an escape
    (before ``x``, ``u``, ``U``, another backslash, an escaped character or the end) is written
    twice, so ``\\x1b`` always means an escaped ESC and ``\\\\x1b`` the literal text. Every report
    format uses this one function for text that came from outside.
    """
    if not _UNSAFE.search(s) and "\\" not in s:
        return s
    return _UNSAFE.sub(_escape_char, _AMBIGUOUS_BACKSLASH.sub(r"\\\\", s))


_FULL_DIGEST = re.compile(r"\b(sha256|sha384|sha512):([0-9a-f]{12})[0-9a-f]{20,}\b")


def short_digest(digest: str | None) -> str:
    """``sha256:0123456789ab`` (12 hex digits, like ``docker images``); '-' for none."""
    if not digest:
        return "-"
    algorithm, sep, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if sep else digest[:19]


def shorten_digests(text: str) -> str:
    """Every full digest in ``text`` shortened to 12 hex digits (people's formats)."""
    return _FULL_DIGEST.sub(r"\1:\2", text)


MAX_SHOWN_ITEMS = 20
MAX_SHOWN_CHARS = 2000


def bounded(value: JSON, *, items: int = MAX_SHOWN_ITEMS) -> JSON:
    """``value`` with lists and mappings cut to ``items`` entries (a note says how many more), so a
    statement with 200,000 subjects cannot make a report that large. Nested values are bounded too."""
    if isinstance(value, list):
        head = [bounded(v, items=items) for v in value[:items]]
        if len(value) > items:
            head.append(f"… {len(value) - items:,} more")
        return head
    if isinstance(value, dict):
        out = {}
        for index, (k, v) in enumerate(value.items()):
            if index == items:
                out["…"] = f"{len(value) - items:,} more"
                break
            out[k] = bounded(v, items=items)
        return out
    return value


def clip(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters with a note of what was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def show_value(value: JSON) -> str:
    """Render an expected/actual value for people: strings as they are, the rest as compact JSON,
    bounded (:func:`bounded`, :func:`clip`)."""
    if isinstance(value, str):
        return clip(value)
    return clip(json.dumps(bounded(value), ensure_ascii=False, sort_keys=True, default=json_default))


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


def help_uri(rule: RuleMeta, docs_url: str | None) -> str:
    """The rule's documentation link: built-in rules under ``docs_url`` (default :data:`DOCS_URL`);
    other rules keep the link their metadata gives (https only), else none."""
    from slsalint.checks.base import DOCS_BASE

    uri = rule.help_uri or ""
    if uri.startswith(DOCS_BASE + "/"):
        base = (docs_url or DOCS_URL).rstrip("/")
        return f"{base}/rules/{uri[len(DOCS_BASE) + 1 :]}"
    return uri if uri.startswith(("https://", "http://")) else ""


def portable(text: str) -> str:
    """Text that named files of the installed package (bundled packs and schemas, under
    site-packages) names them as in the repository instead (``rules/platform-team/x.rego``)."""
    from slsalint.resources import RULES_DIR, SCHEMAS_DIR

    for directory, name in ((RULES_DIR, "rules"), (SCHEMAS_DIR, "schemas")):
        for form in dict.fromkeys((str(directory), str(directory.resolve()))):
            text = text.replace(form, name)
    return text


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
