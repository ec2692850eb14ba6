"""Command-line interface: the only layer that prints or exits.

Exit codes (SPEC §8): 0 clean, 1 policy violations, 2 usage or configuration error, 3 operational
error, 4 internal error.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import typer

from slsalint import __version__
from slsalint.cli._common import STATE, fail
from slsalint.errors import SlsalintError

SUBCOMMANDS: dict[str, tuple[str, str, bool]] = {
    "check": ("slsalint.cli.check", "check", False),
    "fetch": ("slsalint.cli.fetch", "fetch", False),
    "explain": ("slsalint.cli.explain", "explain", False),
    "verify-vsa": ("slsalint.cli.vsa", "verify_vsa", False),
    "init": ("slsalint.cli.init", "init", False),
    "rules": ("slsalint.cli.rules", "app", True),
    "packs": ("slsalint.cli.packs", "app", True),
    "exceptions": ("slsalint.cli.exceptions", "app", True),
    "components": ("slsalint.cli.components", "app", True),
    "report": ("slsalint.cli.report", "app", True),
}
"""Subcommand -> (module, attribute, whether it is a group of commands), in help order."""


def build_app(only: str | None = None) -> typer.Typer:
    """The command-line application; with ``only``, holding just that subcommand (a run that
    names its subcommand neither imports nor builds the others; what it does and prints is the
    same)."""
    app = typer.Typer(
        name="slsalint",
        help="Lint SLSA provenance of container images and in-toto attestations, and explain what is wrong.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    for name, (module, attribute, group) in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        target = getattr(importlib.import_module(module), attribute)
        if group:
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole application, built when asked for
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slsalint {__version__}")
        raise typer.Exit(0)


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
    args = sys.argv[1:] if argv is None else argv
    only = args[0] if args and args[0] in SUBCOMMANDS else None
    try:
        code = build_app(only)(args=args, prog_name="slsalint", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except SlsalintError as exc:
        if STATE.debug and exc.exit_code == 4 and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__)
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
