"""``slsalint packs test DIR``: the ``test_*`` rules of a pack, run the way ``opa test`` runs them.

Every ``*.rego`` and ``*_test.rego`` under DIR (hidden directories aside) is loaded into one engine;
each ``test_*`` rule of a test file is evaluated as the query ``data.PACKAGE.test_NAME`` with no
input (tests give themselves input with ``with input as {...}``, like for OPA and conftest). A test
passes when it is true; false or undefined fails it; an error is an ERROR. The same files pass
unchanged under ``opa test`` (the test-suite checks that against real OPA).

``custom.input`` in a test's ``# METADATA`` (a file or an inline mapping used as the input) still
works for existing packs, but is deprecated: OPA does not know it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from slsalint.errors import ConfigError
from slsalint.rego.modules import RegoModule, RegoRuleSet, RegoSource, load_rules, parse_module, read_module
from slsalint.rego.protocol import DEFAULT_TIMEOUT
from slsalint.rego.runtime import clean, open_engine
from slsalint.rego.scanner import display_path


@dataclass(frozen=True)
class TestResult:
    path: Path
    name: str
    line: int
    status: Literal["pass", "fail", "error"]
    detail: str
    seconds: float
    deprecated_input: bool = False
    """The test took its input from ``custom.input`` (deprecated)."""


def test_files(directory: Path) -> list[Path]:
    return sorted(
        f
        for f in directory.rglob("*_test.rego")
        if f.is_file() and not any(part.startswith(".") for part in f.relative_to(directory).parts)
    )


def run_pack_tests(
    directory: Path, *, timeout: float = DEFAULT_TIMEOUT, isolation: str = "in-process"
) -> list[TestResult]:
    """Run the ``test_*`` rules of every ``*_test.rego`` under ``directory`` (see the module
    docstring). Raises ConfigError when there is no test or a module does not load."""
    if not directory.is_dir():
        raise ConfigError(f"{display_path(directory)}: no such directory")
    files = test_files(directory)
    if not files:
        raise ConfigError(f"{display_path(directory)}: no *_test.rego files")
    try:
        ruleset = load_rules([RegoSource(directory, origin="packs test")])
    except ConfigError as exc:
        if "no Rego modules" not in str(exc):
            raise
        ruleset = RegoRuleSet()
    test_modules: list[RegoModule] = [parse_module(path, read_module(path, "packs test")) for path in files]
    if not any(module.tests for module in test_modules):
        raise ConfigError(f"{display_path(directory)}: no test_* rules in the *_test.rego files")
    modules = [*ruleset.modules, *test_modules]
    opened = open_engine(modules, [], timeout=timeout, isolation=isolation, compiled=False)
    results: list[TestResult] = []
    try:
        for module in test_modules:
            for test in module.tests:
                if opened.broken is not None:
                    results.append(TestResult(module.path, test.name, test.line, "error", opened.broken, 0.0))
                    continue
                started = time.perf_counter()
                (outcome,) = opened.engine.evaluate(test.input, [test.query])
                seconds = time.perf_counter() - started
                deprecated = test.input is not None
                if outcome.error is not None:
                    status: Literal["pass", "fail", "error"] = "error"
                    detail = clean(outcome.error, ruleset.rules)
                elif not outcome.defined:
                    status, detail = "fail", "undefined"
                elif outcome.value is True:
                    status, detail = "pass", ""
                else:
                    import json

                    status, detail = "fail", json.dumps(outcome.value)[:200]
                results.append(
                    TestResult(module.path, test.name, test.line, status, detail, seconds, deprecated)
                )
    finally:
        opened.close()
    return results
