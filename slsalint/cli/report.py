"""``slsalint report merge``: join the JSON reports of sharded runs into one report."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import typer

from slsalint.cli._common import STATE, info, parse_outputs, read_images_text, use_color, write_output
from slsalint.errors import ConfigError

app = typer.Typer(
    help="""Work with JSON reports (slsalint.report/v1).

    Examples:

    \b
      slsalint report merge shard-0.json shard-1.json --format sarif=slsalint.sarif
    """,
    no_args_is_help=True,
)

MAX_REPORT_BYTES = 512 * 1024 * 1024
"""Largest JSON report read."""


@app.command("merge")
def merge(
    reports: list[Path] = typer.Argument(
        ...,
        metavar="REPORT.json...",
        help="JSON reports (check --format json) of one policy, e.g. one per shard.",
    ),
    fmt: list[str] = typer.Option(
        [],
        "--format",
        "-f",
        metavar="FORMAT[=FILE]",
        help="text, json, sarif, junit or markdown; FORMAT=PATH writes to a file (repeatable).",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the merged report to this file."
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        metavar="LEVEL",
        help="Lowest level that fails the merged report: error, warning or note (default: the reports').",
    ),
    sarif_anchor: str | None = typer.Option(
        None,
        "--sarif-anchor",
        metavar="FILE",
        help="Repository file SARIF results point to (default: slsalint.yaml).",
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour in text output."),
    images: Path | None = typer.Option(
        None,
        "--images",
        metavar="FILE|-",
        help="The image list the shards were cut from (as given to check --images): list the "
        "images in its order, so the merge equals one run over it (default: reference order).",
    ),
) -> None:
    """Merge reports: every image once (in --images order, else by reference); counts and exit
    code recomputed.

    Exits like the run the reports came from: 1 when a merged finding fails --fail-on, else 0.
    Reports of another document version, slsalint version or policy are refused (exit 2).

    Examples:

    \b
      slsalint report merge shard-0.json shard-1.json shard-2.json shard-3.json
      slsalint report merge shard-*.json --images images.txt --format json=report.json
      slsalint report merge shard-*.json --format text --format sarif=slsalint.sarif
    """
    from slsalint.fleet import merge_documents, report_from_document
    from slsalint.model import Level
    from slsalint.report import ReportOptions, render
    from slsalint.report._common import dump_json

    outputs = parse_outputs(fmt, output)
    level: Level | None = None
    if fail_on is not None:
        try:
            level = Level(fail_on.lower())
        except ValueError:
            raise ConfigError(f"--fail-on {fail_on}: expected error, warning or note") from None
        if level is Level.OFF:
            raise ConfigError("--fail-on off: expected error, warning or note")
    order = None
    if images is not None:
        from slsalint.fleet import read_image_list

        order = read_image_list(read_images_text(images), str(images))
    documents = []
    for path in reports:
        document = _read_report(path)
        results = document.get("results")
        info(f"read {path}: {len(results) if isinstance(results, list) else 0} image(s)")
        documents.append((str(path), document))
    merged = merge_documents(documents, order=order)
    report = report_from_document(merged)
    if level is not None:
        report.fail_on = level
    report.sarif_anchor = sarif_anchor
    if level is not None:
        merged = {**merged, "failOn": level.value, "exitCode": report.exit_code}
    width = shutil.get_terminal_size((100, 24)).columns
    for out in outputs:
        if out.fmt == "json":
            # Straight from the documents: nothing a JSON report holds is lost in the merge.
            text = dump_json(merged)
        else:
            color = out.path is None and out.fmt == "text" and not no_color and use_color(sys.stdout)
            options = ReportOptions(quiet=STATE.quiet and out.path is None)
            text = render(
                report, out.fmt, color=color, width=width if out.path is None else 100, options=options
            )
        if out.path is None:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        else:
            write_output(out.path, text)
            info(f"wrote the {out.fmt} report to {out.path}")
    sys.stdout.flush()
    raise typer.Exit(report.exit_code)


def _read_report(path: Path) -> dict[str, object]:
    """One JSON report, strictly read and checked against the report schema (exit 2 otherwise)."""
    from slsalint import fileio, jsonio
    from slsalint.fleet import REPORT_VERSION
    from slsalint.schemas import validate

    try:
        document = jsonio.load_object(fileio.read_bytes(path, limit=MAX_REPORT_BYTES))
    except fileio.FileReadError as exc:
        raise ConfigError(str(exc)) from None
    except jsonio.JSONError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if document.get("version") != REPORT_VERSION:
        raise ConfigError(
            f"{path}: not a {REPORT_VERSION} report (version {document.get('version')!r}); "
            "write reports with `slsalint check --format json`"
        )
    errors = validate("report-v1", document)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}: not a valid {REPORT_VERSION} report: {errors[0]}{more}")
    return document
