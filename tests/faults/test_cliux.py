# ruff: noqa: E501 (one catalogue row per line reads best)
"""Catalogue rows for the command line people type: mistyped names, options, values and the
global options in the wrong place (one line each, exit 2, with the closest name when there is one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.catalogue import ROOT, Fault, assert_fault, ids, run

DEMO = str(ROOT / "examples" / "demo-image")
TARGET = f"oci:{DEMO}"

ROWS: list[tuple[Fault, list[str]]] = [
    (Fault("enable-typo", 2, r"^slsalint: error: --enable SL2O1: unknown rule \(did you mean SL201\?\)"),
     ["check", TARGET, "--enable", "SL2O1"]),
    (Fault("disable-name-typo", 2, r"--disable provenance-mod-min: unknown rule \(did you mean provenance-mode-min\?\)"),
     ["check", TARGET, "--disable", "provenance-mod-min"]),
    (Fault("rules-show-typo", 2, r"^slsalint: error: unknown rule 'SL21' \(did you mean SL201\?\)"),
     ["rules", "show", "SL21"]),
    (Fault("pack-typo", 2, r"^slsalint: error: unknown pack 'slsa-buld' \(did you mean slsa-build-l2 or slsa-build-l3\?\)"),
     ["check", TARGET, "--pack", "slsa-buld"]),
    (Fault("explain-pack-typo", 2, r"unknown pack 'recomended' \(did you mean recommended\?\)"),
     ["explain", TARGET, "--pack", "recomended"]),
    (Fault("option-typo", 2, r"^slsalint: error: no such option --polcy \(did you mean --policy\?\); see `slsalint check --help`$"),
     ["check", TARGET, "--polcy", "p.yaml"]),
    (Fault("option-unknown", 2, r"^slsalint: error: no such option --frobnicate; see `slsalint explain --help`$"),
     ["explain", TARGET, "--frobnicate"]),
    (Fault("command-typo", 2, r"^slsalint: error: no such command 'explian' \(did you mean explain\?\); see `slsalint --help`$"),
     ["explian", TARGET]),
    (Fault("subcommand-typo", 2, r"^slsalint: error: no such command 'shwo' \(did you mean show\?\); see `slsalint components --help`$"),
     ["components", "shwo", "x"]),
    (Fault("global-option-after-command", 2, r"^slsalint: error: --verbose is an option of slsalint itself"),
     ["check", TARGET, "--verbose"]),
    (Fault("quiet-and-verbose", 2, r"^slsalint: error: --quiet and --verbose cannot be used together$"),
     ["-q", "-v", "rules", "list"]),
    (Fault("format-typo", 2, r"^slsalint: error: --format jsn: expected text or json \(did you mean json\?\)$"),
     ["packs", "list", "--format", "jsn"]),
    (Fault("report-format-typo", 2, r"^slsalint: error: --format sarf: unknown format \(did you mean sarif\?\)"),
     ["check", TARGET, "--format", "sarf"]),
    (Fault("value-not-a-number", 2, r"^slsalint: error: invalid value for '--jobs' / '-j': 'x' is not a whole number; see"),
     ["check", TARGET, "--jobs", "x"]),
    (Fault("option-without-value", 2, r"^slsalint: error: option '--rego' requires an argument; see `slsalint rules list --help`$"),
     ["rules", "list", "--rego"]),
    (Fault("missing-argument", 2, r"^slsalint: error: missing argument 'FILE'; see `slsalint exceptions list --help`$"),
     ["exceptions", "list"]),
    (Fault("exceptions-file-not-created-yet", 2, r"no such exceptions file; create it with `slsalint exceptions add nope\.yaml --rule RULE"),
     ["exceptions", "audit", "nope.yaml"]),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "args"), ROWS, ids=ids([f for f, _ in ROWS]))
def test_cli_fault(fault: Fault, args: list[str], tmp_path: Path) -> None:
    outcome = run(*args, cwd=tmp_path)
    assert_fault(fault, outcome)
    assert len(outcome.stderr.splitlines()) == 1, outcome.stderr
