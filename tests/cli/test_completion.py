"""Shell completion: `--install-completion` / `--show-completion` and what the shell gets back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def complete(words: str, cword: int) -> list[str]:
    env = {
        **os.environ,
        "_SLSALINT_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    result = subprocess.run(
        [sys.executable, "-c", "from slsalint.cli import main; main()"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_commands_and_options_complete() -> None:
    assert complete("slsalint ch", 1) == ["check"]
    assert "--format" in complete("slsalint check --fo", 2)
    assert {"list", "show"} <= set(complete("slsalint rules ", 2))


def test_show_completion_prints_a_bash_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env={**os.environ, "SHELL": "/bin/bash"},
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "complete -o default -F _slsalint_completion slsalint" in result.stdout
