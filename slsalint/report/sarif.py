"""SARIF 2.1.0 for code-scanning uploads (GitHub, GitLab, Azure DevOps).

What GitHub code scanning (``github/codeql-action/upload-sarif``) needs, and how it is met:

- Alerts are matched across runs by ``partialFingerprints``. The upload action only computes
  ``primaryLocationLineHash`` from the located line's text when the result has none, which would
  merge every finding located on the same policy line; so each result carries its own, built by
  :meth:`~slsalint.model.Finding.fingerprint` from what the finding is about (rule, component or
  repository, platform, evidence kind, detail) and never from digests or the reference as typed.
  ``slsalint/v1`` carries the same value for other consumers.
- ``automationDetails.id`` is the analysis category (``--sarif-category``, default derived from the
  checked repositories or components and ``--platform``): it takes precedence over the upload
  action's ``category`` input, so matrix jobs and several uploads in one workflow do not replace
  each other's alerts.
- Each result is located where a user can act (see :mod:`slsalint.report.locate`), as a URI
  relative to ``%SRCROOT%`` (``--sarif-root``, default the git top level), never with ``../``; a
  configuration file outside the root falls back to ``--sarif-anchor`` and then to no physical
  location (logical locations name the image, platform and digest in every case).
- Messages name the image and platform, are sanitized like every other report, and no two results
  of a run share the same text.
- Limits of code scanning: at most 25,000 results a run (failing findings first; a notification
  says how many were left out), 20 tags a rule, values in properties bounded.
- A run that stopped (exit 2 or 3) is written too, with ``executionSuccessful: false`` and the
  reason as a ``toolExecutionNotification``, and no results: code scanning records the failed
  analysis without closing the alerts of the category.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from slsalint.model import Finding, Level, Report, RuleMeta
from slsalint.report._common import (
    INFORMATION_URI,
    TOOL_NAME,
    all_rules,
    bounded,
    help_uri,
    portable,
    reference_without_digest,
    sanitize,
    short_digest,
    shorten_digests,
    show_value,
    sort_findings,
    waiver_text,
)

if TYPE_CHECKING:
    from slsalint.report import ReportOptions

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "slsalint/v1"
GITHUB_FINGERPRINT_KEY = "primaryLocationLineHash"
DEFAULT_ANCHOR = "slsalint.yaml"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000
"""Results code scanning accepts in one run."""
MAX_TAGS = 20
MAX_CATEGORY = 100

__all__ = [
    "DEFAULT_ANCHOR",
    "FINGERPRINT_KEY",
    "GITHUB_FINGERPRINT_KEY",
    "MAX_RESULTS",
    "category_for",
    "default_category",
    "document",
    "relative_uri",
    "render",
    "source_root",
]


def render(report: Report, *, options: ReportOptions | None = None, **_: Any) -> str:
    """Render ``report`` as a SARIF 2.1.0 log (pretty-printed JSON)."""
    from slsalint.report._common import dump_json

    return dump_json(document(report, options))


def source_root(given: Path | None = None) -> Path:
    """``given``, else the git top level of the working directory, else the working directory."""
    if given is not None:
        return Path(os.path.abspath(given))  # noqa: PTH100 - absolute without resolving symlinks
    cwd = Path.cwd()
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return cwd


def category_for(targets: list[str], platforms: list[str], attestations: Sequence[str] = ()) -> str:
    """The default code-scanning category of a run: ``slsalint/<repositories>[/<platforms>]``.

    Made from the targets as requested (each image's repository without tag or digest, normalized
    like a Docker reference: ``alpine`` is ``docker.io/library/alpine``; a layout's path; the file
    names of ``--attestation`` files) and the ``--platform`` selection, so it is the same for a run
    that passes, fails or stops with exit 2 or 3, stays the same across rebuilds and tags, and
    differs between the jobs of a matrix that check different images or platforms."""
    names = sorted({_repository(t) for t in targets})
    if not names and attestations:
        names = ["files:" + ",".join(sorted({Path(a).name for a in attestations}))]
    value = "+".join(names) or "run"
    if platforms:
        value += "/" + "+".join(sorted(set(platforms)))
    if len(value) > MAX_CATEGORY:
        value = f"{value[:60]}…{hashlib.sha256(value.encode()).hexdigest()[:12]}"
    return f"{TOOL_NAME}/{value}"


def _repository(reference: str) -> str:
    from slsalint.errors import ConfigError
    from slsalint.model import mask_digests, repository_of

    if reference.startswith("oci:"):
        return os.path.normpath(repository_of(reference).removeprefix("oci:"))
    from slsalint.sources.reference import parse_reference

    try:
        return parse_reference(reference).name
    except ConfigError:
        return mask_digests(repository_of(reference))


def default_category(report: Report) -> str:
    """The category when none was given: from the checked targets (see :func:`category_for`)."""
    return category_for([r.target.reference for r in report.results], report.platform_filter)


def document(report: Report, options: ReportOptions | None = None) -> dict[str, Any]:
    """The SARIF log as plain JSON data."""
    from slsalint.report import ReportOptions

    options = options or ReportOptions()
    root = source_root(options.sarif_root)
    rules = all_rules(report)
    index = {r.id: i for i, r in enumerate(rules)}
    notifications: list[dict[str, Any]] = []
    anchor = relative_uri(report.sarif_anchor or report.policy_path or DEFAULT_ANCHOR, root)
    if anchor is None:
        notifications.append(
            _notification(
                "warning",
                f"--sarif-anchor {sanitize(report.sarif_anchor or report.policy_path or DEFAULT_ANCHOR)} "
                f"is outside the SARIF root {sanitize(str(root))}: results without a configuration line "
                "carry no physical location (set --sarif-root)",
                "anchor-outside-root",
            )
        )
    findings = sort_findings(report.findings)
    failing_first = sorted(findings, key=lambda f: (f.waived, not f.level.at_least(report.fail_on)))
    kept = failing_first[:MAX_RESULTS]
    if len(failing_first) > MAX_RESULTS:
        notifications.append(
            _notification(
                "warning",
                f"{len(failing_first) - MAX_RESULTS:,} of {len(failing_first):,} results left out: code "
                f"scanning accepts {MAX_RESULTS:,} per run (failing findings were kept first; the JSON "
                "report has every finding)",
                "results-truncated",
            )
        )
    results = []
    seen_texts: set[str] = set()
    for finding in kept:
        results.append(_result(finding, index[finding.rule_id], anchor, root, seen_texts))
    invocation: dict[str, Any] = {
        "executionSuccessful": report.error is None,
        "exitCode": report.exit_code,
    }
    if report.error is not None:
        notifications.insert(
            0,
            _notification(
                "error",
                f"slsalint could not judge the targets (exit {report.error.exit_code}): "
                f"{sanitize(report.error.message)}",
                f"{report.error.kind}-error",
            ),
        )
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(r, options.docs_url) for r in rules],
            }
        },
        "automationDetails": {"id": _category(options.sarif_category or default_category(report))},
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "failOn": report.fail_on.value,
            "packs": list(report.packs),
            "targets": [r.target.reference for r in report.results],
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _category(value: str) -> str:
    """Code scanning appends a '/' to a category that lacks one; written the same way here."""
    value = sanitize(value).strip()
    return value if value.endswith("/") else value + "/"


def _notification(level: str, text: str, descriptor: str) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}, "descriptor": {"id": descriptor}}


def relative_uri(path: str, root: Path) -> str | None:
    """``path`` as a URI relative to ``root`` (percent-encoded, '/' separated), or None when it is
    not below ``root``."""
    absolute = Path(os.path.abspath(path))  # noqa: PTH100 - symlinks are kept as the user named them
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        try:
            relative = absolute.resolve().relative_to(root.resolve())
        except ValueError:
            return None
    text = relative.as_posix()
    if not text or text == "." or text.startswith("../"):
        return None
    return quote(text, safe="/")


def _sarif_level(level: Level) -> str:
    return "none" if level is Level.OFF else level.value


def _first_paragraph(text: str) -> str:
    return text.strip().split("\n\n", 1)[0].replace("\n", " ").strip()


def _rule(rule: RuleMeta, docs_url: str | None) -> dict[str, Any]:
    doc = sanitize(portable(rule.doc.strip() or rule.summary))
    summary = sanitize(portable(rule.summary or rule.name))
    out: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": _first_paragraph(doc) or summary},
        "help": {"text": doc, "markdown": doc},
    }
    uri = help_uri(rule, docs_url)
    if uri:
        out["helpUri"] = uri
    out["defaultConfiguration"] = {"level": _sarif_level(rule.level)}
    out["properties"] = {
        "security-severity": f"{rule.security_severity:.1f}",
        "tags": ["security", "supply-chain"][:MAX_TAGS],
    }
    return out


def _where(f: Finding) -> str:
    image = shorten_digests(f.image)
    parts = [f"image {image}"]
    if f.platform:
        parts.append(f"platform {f.platform}")
    elif f.digest and f.digest not in f.image:
        parts.append(f"digest {short_digest(f.digest)}")
    return ", ".join(parts)


def _message(f: Finding, seen: set[str]) -> str:
    lines = [f"{f.message} ({_where(f)})"]
    if f.expected is not None:
        lines.append(f"Expected: {show_value(f.expected)}")
    if f.actual is not None:
        lines.append(f"Actual: {show_value(f.actual)}")
    if f.remediation:
        lines.append(f"Fix: {f.remediation}")
    if f.waiver is not None:
        lines.append(f"Waived: {waiver_text(f)}")
    text = sanitize(portable("\n".join(lines)))
    if text in seen:
        extra = f.pointer or (f.source and shorten_digests(f.source)) or ""
        base = f"{text}\nAt: {sanitize(extra)}" if extra else text
        text, number = base, 2
        while text in seen:
            text = f"{base} (#{number})"
            number += 1
    seen.add(text)
    return text


def _logical_locations(f: Finding) -> list[dict[str, Any]]:
    base = reference_without_digest(f.image)
    out: list[dict[str, Any]] = [
        {"name": sanitize(f.image), "fullyQualifiedName": sanitize(f.image), "kind": "resource"}
    ]
    if f.platform:
        out.append(
            {
                "name": sanitize(f.platform),
                "fullyQualifiedName": sanitize(f"{base}#{f.platform}"),
                "kind": "resource",
            }
        )
    if f.digest:
        out.append(
            {
                "name": sanitize(f.digest),
                "fullyQualifiedName": sanitize(f"{base}@{f.digest}"),
                "kind": "resource",
            }
        )
    return out


_LINE = re.compile(r"^[1-9][0-9]*$")


def _physical(f: Finding, anchor: str | None, root: Path) -> dict[str, Any] | None:
    if f.config is not None:
        uri = relative_uri(f.config.path, root)
        if uri is not None and _LINE.match(str(f.config.line)):
            return {
                "artifactLocation": {"uri": uri, "uriBaseId": SRCROOT},
                "region": {"startLine": f.config.line},
            }
    if anchor is None:
        return None
    return {"artifactLocation": {"uri": anchor, "uriBaseId": SRCROOT}, "region": {"startLine": 1}}


def _result(f: Finding, rule_index: int, anchor: str | None, root: Path, seen: set[str]) -> dict[str, Any]:
    fingerprint = f.fingerprint()
    location: dict[str, Any] = {}
    physical = _physical(f, anchor, root)
    if physical is not None:
        location["physicalLocation"] = physical
    location["logicalLocations"] = _logical_locations(f)
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _sarif_level(f.level),
        "message": {"text": _message(f, seen)},
        "locations": [location],
        "partialFingerprints": {GITHUB_FINGERPRINT_KEY: f"{fingerprint}:1", FINGERPRINT_KEY: fingerprint},
    }
    if f.waiver is not None:
        out["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": sanitize(waiver_text(f))}
        ]
    properties = {
        "image": f.image,
        "platform": f.platform,
        "digest": f.digest,
        "source": f.source,
        "pointer": f.pointer,
        "expected": bounded(f.expected),
        "actual": bounded(f.actual),
        "configuration": f"{f.config.what} ({f.config.path}:{f.config.line})" if f.config else None,
    }
    out["properties"] = {k: v for k, v in properties.items() if v is not None}
    return out
