"""``slsalint packs list|test``: the bundled rule packs, and running a Rego pack's tests."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from slsalint.cli._common import STATE, info, note, text_or_json

app = typer.Typer(
    help="""List rule packs and run Rego pack tests.

    Examples:

    \b
      slsalint packs list
      slsalint packs list --format json
      slsalint packs test policy/rego
    """,
    no_args_is_help=True,
)


@app.command("list")
def list_packs(
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json."),
    json_out: bool = typer.Option(False, "--json", hidden=True, help="The same as --format json."),
) -> None:
    """List the bundled packs: name, version, built-in rules, Rego files, description.

    JSON: a list of {name, version, description, rules, rego}.

    Examples:

    \b
      slsalint packs list
      slsalint packs list --format json
    """
    import json

    fmt = text_or_json(fmt, json_alias=json_out)
    from slsalint.policy import available_packs, load_pack
    from slsalint.rego import display_path

    packs = [load_pack(name) for name in available_packs()]
    if fmt == "json":
        data = [
            {
                "name": p.name,
                "version": p.version,
                "description": p.description,
                "rules": sorted(p.rules),
                "rego": [display_path(r) for r in p.rego],
            }
            for p in packs
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("pack", "version", "built-in rules", "rego", "description"):
        table.add_column(column)
    for p in packs:
        rego = ", ".join(r.name for r in p.rego) or "-"
        table.add_row(p.name, p.version, ", ".join(sorted(p.rules)) or "-", rego, p.description)
    Console(highlight=False).print(table)


@app.command("test")
def test_pack(
    directory: Path = typer.Argument(
        ..., metavar="DIR", help="Pack directory: its *.rego modules and *_test.rego tests."
    ),
    timeout: float = typer.Option(
        10.0, "--timeout", metavar="SECONDS", min=0.1, help="Seconds each test may take."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print failures and the summary only (as slsalint --quiet does)."
    ),
    isolation: str = typer.Option(
        "in-process",
        "--isolation",
        metavar="in-process|worker",
        help="Where the Rego engine runs: in-process (default) or worker.",
    ),
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json."),
) -> None:
    """Run the test_* rules of every *_test.rego file under DIRECTORY (like `opa test`).

    Tests give themselves input with `with input as {...}`, as for `opa test` and conftest. A test
    passes when it evaluates to true; undefined or false fails it; an error fails it too. Exit 0
    when every test passes, 1 when any fails, 2 when a module does not load.

    JSON: {directory, tests: [{file, line, name, status, seconds, detail}], passed, failed,
    errors, seconds, exitCode}.

    Examples:

    \b
      slsalint packs test policy/rego
      slsalint packs test policy/rego --quiet --timeout 30
      slsalint packs test policy/rego --format json
    """
    import json

    from slsalint.rego import display_path, run_pack_tests

    fmt = text_or_json(fmt)
    quiet = quiet or STATE.quiet
    started = time.perf_counter()
    results = run_pack_tests(directory, timeout=timeout, isolation=isolation)
    info(f"ran {len(results)} tests under {directory}")
    if any(r.deprecated_input for r in results):
        note(
            "note: `custom.input` in a test's # METADATA is deprecated (OPA does not know it); "
            "give tests their input with `with input as {...}` (docs/rego.md)"
        )
    passed = sum(1 for r in results if r.status == "pass")
    failed = sum(1 for r in results if r.status == "fail")
    errors = sum(1 for r in results if r.status == "error")
    code = 1 if failed or errors else 0
    if fmt == "json":
        document = {
            "directory": str(directory),
            "tests": [
                {
                    "file": display_path(r.path),
                    "line": r.line,
                    "name": r.name,
                    "status": r.status,
                    "seconds": round(r.seconds, 6),
                    "detail": " ".join(r.detail.split()),
                }
                for r in results
            ],
            "passed": passed,
            "failed": failed,
            "errors": errors,
            "seconds": round(time.perf_counter() - started, 6),
            "exitCode": code,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        raise typer.Exit(code)
    out = sys.stdout
    current: Path | None = None
    for result in results:
        if quiet and result.status == "pass":
            continue
        if result.path != current:
            current = result.path
            out.write(f"{display_path(result.path)}\n")
        label = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}[result.status]
        line = f"  {label:<5} {result.name} ({result.seconds * 1000:.0f} ms)"
        if result.status != "pass":
            detail = " ".join(result.detail.split())
            line += f"\n        {display_path(result.path)}:{result.line}: {detail or 'failed'}"
        out.write(line + "\n")
    summary = f"{passed} passed, {failed} failed"
    if errors:
        summary += f", {errors} error{'s' if errors != 1 else ''}"
    out.write(f"{summary} in {time.perf_counter() - started:.2f}s\n")
    out.flush()
    raise typer.Exit(code)
