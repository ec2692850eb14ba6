"""Command-line interface: the only layer that prints or exits.

Exit codes (SPEC §8): 0 clean, 1 policy violations, 2 usage or configuration error, 3 operational
error, 4 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from slsalint import __version__
from slsalint.cli import check as check_cmd
from slsalint.cli import components as components_cmd
from slsalint.cli import exceptions as exceptions_cmd
from slsalint.cli import explain as explain_cmd
from slsalint.cli import fetch as fetch_cmd
from slsalint.cli import packs as packs_cmd
from slsalint.cli import report as report_cmd
from slsalint.cli import rules as rules_cmd
from slsalint.cli._common import STATE, fail
from slsalint.errors import SlsalintError

app = typer.Typer(
    name="slsalint",
    help="Lint SLSA provenance of container images and in-toto attestations, and explain what is wrong.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("check")(check_cmd.check)
app.command("fetch")(fetch_cmd.fetch)
app.command("explain")(explain_cmd.explain)
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(packs_cmd.app, name="packs")
app.add_typer(exceptions_cmd.app, name="exceptions")
app.add_typer(components_cmd.app, name="components")
app.add_typer(report_cmd.app, name="report")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slsalint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for internal errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """slsalint: SLSA provenance linter and policy engine."""
    STATE.debug = debug or bool(os.environ.get("SLSALINT_DEBUG"))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps every failure to its exit code with a one-line message."""
    try:
        code = app(args=argv, prog_name="slsalint", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except SlsalintError as exc:
        fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        fail("aborted", 130)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"slsalint: error: {exc}\n")
        code = getattr(exc, "exit_code", 2)
        sys.exit(code if isinstance(code, int) and code != 1 else 2)
    except Exception as exc:
        if STATE.debug:
            traceback.print_exc()
        fail(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug; please report it with the "
            "command you ran" + ("" if STATE.debug else " and the output of --debug"),
            4,
        )


__all__ = ["app", "main"]
