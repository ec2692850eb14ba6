"""Fuzz targets for what people type: "did you mean" over any word and any choices, and any
mistyped option or command of any command, which is one line on stderr and exit 2."""

from __future__ import annotations

import typer.main
from hypothesis import given
from hypothesis import strategies as st

from slsalint.cli import SUBCOMMANDS, build_app
from slsalint.suggest import closest, did_you_mean, option_hint, rule_hint, unknown
from tests.fuzz.cli import run_cli

WORDS = st.text(st.characters(codec="utf-8"), max_size=40)


def _commands() -> dict[tuple[str, ...], set[str]]:
    """Every command path -> the options it knows."""
    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command: object, path: tuple[str, ...]) -> None:
        params = getattr(command, "params", [])
        found[path] = {o for p in params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(build_app(None)), ())
    return found


COMMANDS = _commands()
PATHS = sorted(path for path in COMMANDS if path)


@given(WORDS, st.lists(WORDS, max_size=12), st.integers(min_value=1, max_value=4))
def test_closest_returns_only_choices(word: str, choices: list[str], limit: int) -> None:
    hits = closest(word, choices, limit=limit)
    assert len(hits) <= limit and len(set(hits)) == len(hits)
    assert set(hits) <= set(choices)
    hint = did_you_mean(word, choices)
    assert hint == "" or (hint.startswith(" (did you mean ") and hint.endswith("?)"))
    line = unknown("thing", word, choices)
    assert line.startswith(f"unknown thing {word!r}")


@given(WORDS)
def test_rule_and_option_hints_name_real_rules_and_options(word: str) -> None:
    from slsalint.checks import builtin_rules

    names = {n for meta in builtin_rules() for n in (meta.id, meta.name)}
    hint = rule_hint(word)
    if hint:
        suggested = hint.removeprefix(" (did you mean ").removesuffix("?)").split(" or ")
        assert set(suggested) <= names
    options = COMMANDS[("check",)]
    hint = option_hint("--" + word, options)
    if hint:
        suggested = hint.removeprefix(" (did you mean ").removesuffix("?)").split(" or ")
        assert set(suggested) <= options


@given(st.sampled_from(PATHS), st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20))
def test_an_unknown_option_is_one_line_and_exit_2(path: tuple[str, ...], word: str) -> None:
    flag = "--" + word.lstrip("-").split("=", 1)[0]
    if flag in COMMANDS[path] or flag == "--":
        return  # a real option: not a usage error of this kind
    code, err = run_cli([*path, flag])
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("slsalint: error: "), err
    assert "Traceback" not in err


@given(st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12))
def test_an_unknown_command_is_one_line_and_exit_2(word: str) -> None:
    if word in SUBCOMMANDS:
        return
    code, err = run_cli([word])
    assert code == 2
    assert err.startswith(f"slsalint: error: no such command {word!r}") and err.count("\n") == 1
