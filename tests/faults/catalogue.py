"""The fault catalogue: bad inputs, hostile evidence and broken registries, one row each.

Every row runs slsalint as a user does (a subprocess) and asserts the exit code and the first line
of what it prints on stderr (or, for a finding, the finding id in the JSON report). Rows live in the
``test_*.py`` modules of this directory, grouped by area; each module builds its inputs with the
helpers here and the fixtures of ``tests/support``.

A row never accepts exit 0: the catalogue is the list of ways the gate must not turn green.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Fault:
    """One catalogue row: what is done, and what a user must see."""

    name: str
    """Short id of the case (shown in the test id)."""
    exit_code: int
    """The exit code slsalint must give (never 0)."""
    stderr: str | None = None
    """A regular expression the first line of stderr must match (``re.search``)."""
    finding: str | None = None
    """A rule id that must be among the findings of the JSON report on stdout."""
    message: str | None = None
    """A regular expression the message of that finding must match."""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def first_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[0] if lines else ""

    def findings(self) -> list[dict[str, Any]]:
        try:
            report = json.loads(self.stdout)
        except ValueError:
            return []
        return [f for t in report.get("targets", []) for f in t.get("findings", [])]


def run(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> Outcome:
    """Run ``python -m slsalint ARGS`` with a clean environment (no colour, no user config, a HOME of
    its own so that no cache or credentials of the user or the checkout are used)."""
    home = tempfile.mkdtemp(prefix="slsalint-home-")
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NO_COLOR": "1",
        "HOME": home,
        "PYTHONPATH": str(ROOT),
    }
    base.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "slsalint", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
        env=base,
        input=stdin,
        check=False,
    )
    shutil.rmtree(home, ignore_errors=True)
    return Outcome(result.returncode, result.stdout, result.stderr)


def assert_fault(fault: Fault, outcome: Outcome) -> None:
    """The outcome is what the row says a user must see."""
    assert fault.exit_code != 0, f"{fault.name}: a catalogue row never expects exit 0"
    context = (
        f"{fault.name}: exit {outcome.code}\n"
        f"stderr: {outcome.stderr[-2000:]}\nstdout: {outcome.stdout[-2000:]}"
    )
    assert outcome.code == fault.exit_code, context
    assert "Traceback" not in outcome.stderr, context
    if fault.stderr is not None:
        assert re.search(fault.stderr, outcome.first_line), context
        assert len(outcome.first_line) < 400, f"{fault.name}: the error is not one short line\n{context}"
    if fault.finding is not None:
        hits = [f for f in outcome.findings() if f.get("ruleId") == fault.finding]
        assert hits, context
        if fault.message is not None:
            assert any(re.search(fault.message, str(f.get("message", ""))) for f in hits), context


def ids(faults: Sequence[Fault]) -> list[str]:
    return [f.name for f in faults]
