"""Every command's ``--help``: an Examples section of command lines that parse, and no Python type
names where a value is expected (``<path>``, ``TEXT``, ``Optional[...]``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer._click.core import Command, Context
from typer._click.exceptions import UsageError
from typer.testing import CliRunner

from slsalint.cli import build_app

ROOT = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "xterm"}

TYPE_NAMES = re.compile(
    r"\b(?:TEXT|PATH|INTEGER|FLOAT|BOOLEAN|STR|INT|BOOL|UUID|FILENAME)\b"
    r"|<[a-z][a-z ]*>|<class|Optional\[|List\[|list\[|\bNoneType\b"
)
"""What a value placeholder must not be: a type name (click's ``<path>``, Typer's ``TEXT``)."""
PROSE_TYPE_NAMES = re.compile(r"<[a-z][a-z ]*>|<class|Optional\[|List\[|\bNoneType\b|\b(?:TEXT|INTEGER)\b")
"""What the help text as a whole must not show anywhere (``PATH`` may appear in prose, as in
``oci:PATH``)."""


def _commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(build_app(None))
    found: list[tuple[str, ...]] = []

    def walk(command: Command, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(root, ())
    return found


COMMANDS = _commands()


def _resolve(path: tuple[str, ...]) -> tuple[Command, Context]:
    root = typer.main.get_command(build_app(None))
    ctx = Context(root, info_name="slsalint")
    command: Command = root
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
        ctx = Context(command, info_name=name, parent=ctx)
    return command, ctx


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(build_app(None), [*path, "--help"], env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


def examples(text: str) -> list[str]:
    """The command lines under ``Examples:`` (comments after ``  #`` removed)."""
    _, found, rest = text.partition("Examples:")
    assert found, "no Examples section"
    lines: list[str] = []
    continued = False
    for line in rest.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if continued:  # the line before ended with a backslash, as in a shell
            lines[-1] = lines[-1][:-1] + " " + stripped.split("  #", 1)[0].strip()
        elif line.startswith("    ") and stripped.startswith("slsalint"):
            lines.append(stripped.split("  #", 1)[0].strip())
        else:
            break  # the section ends with the next paragraph or the option list
        continued = lines[-1].endswith("\\")
    return lines


def _invokes(line: str, path: tuple[str, ...]) -> bool:
    words = [w for w in shlex.split(line)[1:] if not w.startswith("-")]
    return tuple(words[: len(path)]) == path


def test_every_command_is_walked() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "check", "explain", "rules list", "exceptions add", "report merge", "init"} <= names
    assert len(COMMANDS) >= 21


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "slsalint")
def test_help_has_examples_and_no_type_names(path: tuple[str, ...]) -> None:
    text = _help(path)
    lines = examples(text)
    assert lines, f"`slsalint {' '.join(path)} --help` has no example command lines"
    assert any(_invokes(line, path) for line in lines), f"no example runs `slsalint {' '.join(path)}`"
    for line in text.splitlines():
        assert len(line) <= 100, f"help line wider than COLUMNS=100: {line!r}"
    hit = PROSE_TYPE_NAMES.search(text)
    assert hit is None, f"type name {hit.group(0)!r} in `slsalint {' '.join(path)} --help`"
    command, ctx = _resolve(path)
    for param in command.params:
        if param.param_type_name == "option":
            record = param.get_help_record(ctx)
            shown = record[0] if record else ""
        else:
            shown = param.make_metavar(ctx)
        hit = TYPE_NAMES.search(shown)
        assert hit is None, f"{param.name} of `slsalint {' '.join(path)}` shows {shown!r}"


def _parses(line: str) -> None:
    """Parse an example as the CLI would (unknown options, missing values, bad choices fail)."""
    words = shlex.split(line)
    assert words[0] == "slsalint"
    root = typer.main.get_command(build_app(None))
    command: Command = root
    args = words[1:]
    parent: Context | None = None
    name = "slsalint"
    while hasattr(command, "commands"):
        split = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
        if split == len(args):
            command.make_context(name, args, parent=parent)  # only the group's own options
            return
        ctx = command.make_context(name, args[: split + 1], parent=parent)
        name = args[split]
        commands: dict[str, Command] = command.commands
        assert name in commands, f"{line}: no command {name!r}"
        parent, command, args = ctx, commands[name], args[split + 1 :]
    with command.make_context(name, args, parent=parent):
        pass


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "slsalint")
def test_examples_are_command_lines_that_parse(path: tuple[str, ...]) -> None:
    for line in examples(_help(path)):
        try:
            _parses(line)
        except UsageError as exc:
            pytest.fail(f"example `{line}` of `slsalint {' '.join(path)} --help`: {exc.format_message()}")


def test_examples_keep_their_line_breaks_in_the_real_program() -> None:
    """The installed entry point (not only the test runner) keeps each example on its own line."""
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "check", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    assert result.returncode == 0, result.stderr
    lines = examples(result.stdout)
    assert "slsalint check oci:examples/demo-image" in lines
    assert len(lines) >= 4


def test_an_offline_example_runs() -> None:
    """The first example of `check` is a real run on the demo image shipped in examples/."""
    first = examples(_help(("check",)))[0]
    result = subprocess.run(
        [sys.executable, "-m", *shlex.split(first)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    assert result.returncode == 0, result.stderr
    assert "1 target checked, 2 platforms (exit 0)" in result.stdout
