"""Command-line interface: the only layer that prints or exits.

Exit codes (SPEC §8): 0 clean, 1 policy violations, 2 usage or configuration error, 3 operational
error, 4 internal error.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

# httpx's package imports its own command line (``httpx._main``: click, rich, pygments; about
# 60 ms) when it can, and falls back to a stub ``httpx.main`` when that import fails. The slsalint
# command never runs httpx's command line: when httpx is not loaded yet, mark that module absent
# so a check's first registry request is not waiting for it. Only the command does this; a
# program using slsalint as a library keeps httpx as it is.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from slsalint import __version__
from slsalint.cli._common import STATE, fail
from slsalint.errors import ConfigError, SlsalintError

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


ROOT_HELP = """Lint SLSA provenance of container images and in-toto attestations, and explain what is wrong.

Global options go before the command: slsalint --quiet check IMAGE.

Examples:

\b
  slsalint check oci:examples/demo-image
  slsalint check ghcr.io/org/app:1.2.3 --format sarif=slsalint.sarif
  slsalint explain ghcr.io/org/app:1.2.3
  slsalint --quiet check oci:examples/demo-image
  slsalint --verbose check oci:examples/demo-image --format json=report.json
  slsalint rules list --format json
"""


def build_app(only: str | None = None) -> typer.Typer:
    """The command-line application; with ``only``, holding just that subcommand (a run that
    names its subcommand neither imports nor builds the others; what it does and prints is the
    same)."""
    app = typer.Typer(
        name="slsalint",
        help=ROOT_HELP,
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
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        help="Only what fails: no progress line, no notes or warnings on stderr; a text report shows "
        "only the failing findings and its summary line (reports written to files are unchanged).",
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Say on stderr what is read from where, with counts and timings (stdout is unchanged).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for internal errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """slsalint: SLSA provenance linter and policy engine."""
    if quiet and verbose:
        raise ConfigError("--quiet and --verbose cannot be used together")
    STATE.debug = debug or bool(os.environ.get("SLSALINT_DEBUG"))
    STATE.quiet = quiet
    STATE.verbose = verbose


INPUT_OPTIONS = frozenset(
    {"-a", "--attestation", "-p", "--policy", "--exceptions", "--rego", "--key", "--trusted-root"}
    | {"--artifact", "--vsa-key", "--accept-vsa", "--public-key-path", "--attestation-path"}
)
"""Options whose value names an input, for the internal-error message."""


def _value_options() -> set[str]:
    """Every option of every command that takes a value (so its value is not read as a target)."""
    import typer.main

    found: set[str] = set()
    pending = [typer.main.get_command(build_app(None))]
    while pending:
        command = pending.pop()
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and not getattr(param, "is_flag", False):
                found.update(param.opts)
                found.update(param.secondary_opts)
        pending.extend(getattr(command, "commands", {}).values())
    return found


def _command_and_inputs(argv: Sequence[str]) -> tuple[str, list[str]]:
    """``("check", ["oci:x", "--policy p.yaml"])`` from the arguments, for the internal-error
    message (best effort: it must never fail itself)."""
    words: list[str] = []
    inputs: list[str] = []
    groups = {"rules", "packs", "exceptions", "components"}
    try:
        takes_value = _value_options() | INPUT_OPTIONS
    except Exception:  # the message must be made whatever happened
        takes_value = set(INPUT_OPTIONS)
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        option, eq, value = arg.partition("=")
        if arg.startswith("-") and arg != "-":
            takes = option in takes_value and not eq
            if option in INPUT_OPTIONS:
                given = value if eq else (args[i + 1] if i + 1 < len(args) else "")
                inputs.append(f"{option} {given}")
            i += 2 if takes else 1
            continue
        if not words or (words[-1] in groups and len(words) == 1):
            words.append(arg)
        else:
            inputs.append(arg)
        i += 1
    return " ".join(words), inputs


_PLAIN = {
    RecursionError: "the input is nested too deeply to process",
    MemoryError: "it ran out of memory",
    UnicodeError: "text that cannot be encoded or decoded",
    KeyError: "a value it expected is missing",
    IndexError: "a list is shorter than it expected",
    TypeError: "a value has an unexpected type",
    AttributeError: "a value has an unexpected type",
}


def _problem(exc: BaseException) -> str:
    """What went wrong, in words (not the interpreter's message), with where it happened."""
    problem = next((text for kind, text in _PLAIN.items() if isinstance(exc, kind)), None)
    if problem is None:
        detail = " ".join(str(exc).split())[:160]
        if isinstance(exc, OSError) and exc.strerror:
            detail = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
        problem = f"an unexpected failure ({detail})" if detail else "an unexpected failure"
    package = Path(__file__).resolve().parents[1]
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            relative = Path(frame.filename).resolve().relative_to(package)
        except ValueError:
            continue  # not slsalint's own code (the standard library, a dependency)
        where = f" at {package.name}/{relative.as_posix()}:{frame.lineno}"
        break
    return f"{problem} ({type(exc).__name__}{where})"


def internal_error_message(exc: BaseException, argv: Sequence[str]) -> str:
    """The one line shown for a bug: the command, the inputs it was given, what went wrong."""
    try:
        command, inputs = _command_and_inputs(argv)
    except Exception:  # pragma: no cover - the message must be made whatever argv holds
        command, inputs = "", []
    shown = ", ".join(inputs[:6]) + (f" and {len(inputs) - 6} more" if len(inputs) > 6 else "")
    running = f"`slsalint {command}`" if command else "slsalint"
    on = f" on {shown}" if shown else ""
    return (
        f"internal error while running {running}{on}: {_problem(exc)}. This is a bug; please report "
        "it with the command you ran" + ("" if STATE.debug else " and the output of --debug")
    )


GLOBAL_OPTIONS = ("--quiet", "-q", "--verbose", "-v", "--debug")
"""Options of the root command only: given after a command, they are explained, not guessed at."""

_TYPE_WORDS = (
    (re.compile(r"is not a valid (?:integer|int)(?: range)?"), "is not a whole number"),
    (re.compile(r"is not a valid float(?: range)?"), "is not a number"),
)


def usage_message(exc: BaseException, argv: Sequence[str] = ()) -> str:
    """The one line for a command line that does not parse: what is wrong, the closest option or
    command (did you mean ...?), and where the help is."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command", None)
    path = getattr(ctx, "command_path", "")
    if not path:  # some errors carry no context: the command is the one the arguments name
        try:
            path = " ".join(["slsalint", *_command_and_inputs(argv)[0].split()[:2]])
        except Exception:  # the message must be made whatever argv holds
            path = "slsalint"
    see = f"; see `{path} --help`"
    option = getattr(exc, "option_name", None)
    if isinstance(option, str) and command is not None:
        flag = option.split("=", 1)[0]
        if flag in GLOBAL_OPTIONS and getattr(ctx, "parent", None) is not None:
            rest = path.split(" ", 1)[1] if " " in path else ""
            return (
                f"{flag} is an option of slsalint itself: put it before the command "
                f"(slsalint {flag} {rest} ...)"
            )
        from slsalint.suggest import option_hint

        options = [o for param in command.params for o in (*param.opts, *param.secondary_opts)]
        return f"no such option {flag}{option_hint(flag, options)}{see}"
    text = " ".join(str(getattr(exc, "format_message", lambda: str(exc))()).split()).rstrip(".")
    unknown = re.match(r"No such command '([^']*)'", text)
    if unknown is not None and command is not None:
        from slsalint.suggest import did_you_mean

        name = unknown.group(1)
        return f"no such command {name!r}{did_you_mean(name, getattr(command, 'commands', {}))}{see}"
    for pattern, words in _TYPE_WORDS:
        text = pattern.sub(words, text)
    return (text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text) + see


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
        code = getattr(exc, "exit_code", 2)
        fail(usage_message(exc, args), code if isinstance(code, int) and code != 1 else 2)
    except Exception as exc:
        if STATE.debug:
            traceback.print_exc()
        fail(internal_error_message(exc, sys.argv[1:] if argv is None else argv), 4)


__all__ = ["app", "internal_error_message", "main"]
