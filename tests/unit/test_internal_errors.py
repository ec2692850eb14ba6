"""Internal errors (exit 4) name the command, its inputs and the problem in words, on one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from slsalint.cli import internal_error_message


def _raised(exc_type: type[BaseException], action: object) -> BaseException:
    try:
        action()  # type: ignore[operator]
    except exc_type as exc:
        return exc
    raise AssertionError("nothing raised")


@pytest.mark.parametrize(
    ("exc", "problem"),
    [
        (
            _raised(RecursionError, lambda: json.loads("[" * 100_000)),
            r"the input is nested too deeply to process \(RecursionError\)",
        ),
        (
            _raised(KeyError, lambda: dict[str, str]()["builder"]),
            r"a value it expected is missing \(KeyError\)",
        ),
        (_raised(TypeError, lambda: "a" + 1), r"a value has an unexpected type \(TypeError\)"),  # type: ignore[operator]
        (_raised(UnicodeError, lambda: "\ud800".encode()), r"text that cannot be encoded or decoded"),
        (
            _raised(OSError, lambda: Path("/nonexistent/x").read_bytes()),
            r"an unexpected failure \(/nonexistent/x: No such",
        ),
        (
            ValueError("month must be in 1..12\nsecond line"),
            r"an unexpected failure \(month must be in 1..12 second line\) \(ValueError\)",
        ),
    ],
)
def test_the_problem_is_named_in_words(exc: BaseException, problem: str) -> None:
    argv = ["--debug", "check", "oci:build/app", "-a", "x.json", "--policy=p.yaml", "--format", "json"]
    message = internal_error_message(exc, argv)
    assert message.startswith(
        "internal error while running `slsalint check` on oci:build/app, -a x.json, --policy p.yaml: "
    ), message
    assert re.search(problem, message), message
    assert "\n" not in message and "maximum recursion depth" not in message
    assert message.endswith(
        "This is a bug; please report it with the command you ran and the output of --debug"
    )


def test_the_innermost_slsalint_frame_is_named() -> None:
    from slsalint import jsonio

    exc = _raised(AttributeError, lambda: jsonio.loads(123))  # type: ignore[arg-type]
    message = internal_error_message(exc, ["check", "x"])
    assert re.search(r"\(AttributeError at slsalint/jsonio.py:\d+\)\. This is a bug", message), message


def test_subcommands_and_many_inputs() -> None:
    exc = KeyError("x")
    message = internal_error_message(exc, ["exceptions", "add", "e.yaml", "--rule", "SL302"])
    assert message.startswith("internal error while running `slsalint exceptions add` on e.yaml: ")
    many = internal_error_message(exc, ["check", *[f"oci:d{i}" for i in range(9)]])
    assert "on oci:d0, oci:d1, oci:d2, oci:d3, oci:d4, oci:d5 and 3 more: " in many
    assert internal_error_message(exc, []).startswith("internal error while running slsalint: ")


def test_option_values_are_not_taken_for_inputs() -> None:
    argv = ["check", "--timeout", "30", "--rego-timeout=5", "oci:app", "--vsa-key", "k.pem", "--offline"]
    message = internal_error_message(KeyError("x"), argv)
    assert "on oci:app, --vsa-key k.pem: " in message, message
