"""Report renderers: one module per output format, all with the same interface.

Each module exposes ``render(report: Report, **kw) -> str``; :func:`render` picks one by name.
Renderers only build strings: writing files and choosing the exit code belong to the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from slsalint.model import Report

FORMATS = ("text", "json", "sarif", "junit", "markdown")
"""Output formats accepted by ``--format``."""


@dataclass(frozen=True)
class ReportOptions:
    """How the reports of one run are written (``check`` flags)."""

    sarif_category: str | None = None
    """``automationDetails.id`` of the SARIF run (``--sarif-category``); None: from the targets."""
    sarif_root: Path | None = None
    """Directory SARIF URIs are relative to (``%SRCROOT%``, ``--sarif-root``); None: the git top
    level of the working directory, else the working directory."""
    docs_url: str | None = None
    """Base URL of the rule documentation (``--docs-url``); None: the project's docs."""
    markdown_budget: int | None = None
    """Bytes the Markdown report may take (None: GitHub's step-summary limit less what the file
    already holds)."""
    quiet: bool = False
    """The text report shows only the findings that fail the run and the summary line
    (``slsalint --quiet`` on a terminal report); the other formats are unchanged."""


class Renderer(Protocol):
    def __call__(self, report: Report, **kw: Any) -> str: ...


def _renderer(fmt: str) -> Renderer:
    # Imported on demand: `rich` (text) is only loaded when text output is asked for.
    if fmt == "text":
        from slsalint.report import text

        return text.render
    if fmt == "json":
        from slsalint.report import json_report

        return json_report.render
    if fmt == "sarif":
        from slsalint.report import sarif

        return sarif.render
    if fmt == "junit":
        from slsalint.report import junit

        return junit.render
    if fmt == "markdown":
        from slsalint.report import markdown

        return markdown.render
    raise ValueError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")


def render(
    report: Report,
    fmt: str,
    *,
    color: bool = False,
    width: int = 100,
    options: ReportOptions | None = None,
) -> str:
    """Render ``report`` in format ``fmt`` (one of :data:`FORMATS`).

    ``color`` and ``width`` only affect the ``text`` format. Raises ValueError for an unknown format.
    """
    return _renderer(fmt)(report, color=color, width=width, options=options or ReportOptions())


__all__ = ["FORMATS", "Renderer", "ReportOptions", "render"]
