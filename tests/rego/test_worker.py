"""The regopy worker process: evaluation, the engine's defects, crashes, hangs and garbage."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from slsalint.errors import ConfigError
from slsalint.rego import (
    EngineFailure,
    EngineModule,
    RegopyWorker,
    RegoSource,
    load_rules,
    open_engine,
)
from tests.rego.conftest import write_rego

RULES = """\
package acme

import rego.v1

# METADATA
# custom:
#   id: ACME001
deny contains msg if {
	startswith(input.ref, "quay.io/")
	msg := concat("", ["no quay: ", input.ref])
}

# METADATA
# custom:
#   id: ACME002
warn contains {"msg": "flagged", "pointer": "/flag"} if input.flag

# METADATA
# custom:
#   id: ACME003
deny contains msg if {
	input.broken
	name := concat("/", ["a", input.ref])
	msg := sprintf("checked %s", [name])
}
"""


def engine_for(tmp_path: Path, text: str = RULES, *, timeout: float = 10.0) -> RegopyWorker:
    write_rego(tmp_path / "rules", "acme.rego", text)
    ruleset = load_rules([RegoSource(tmp_path / "rules")])
    engine, broken = open_engine(ruleset.modules, ruleset.rules, timeout=timeout)
    assert broken is None
    return engine


def doc(**values: object) -> str:
    return json.dumps(values)


def test_evaluates_a_batch_in_one_worker(tmp_path: Path) -> None:
    with engine_for(tmp_path) as engine:
        assert engine.mode == "bundle"
        rows = engine.evaluate([doc(ref="quay.io/x", flag=True), doc(ref="docker.io/x")])
        pid = engine._proc.pid if engine._proc else None
        again = engine.evaluate([doc(ref="quay.io/y")])
        assert engine._proc is not None and engine._proc.pid == pid, "one worker per run"
    assert [o.values for o in rows[0]] == [
        ["no quay: quay.io/x"],
        [{"msg": "flagged", "pointer": "/flag"}],
        [],
    ]
    assert [o.values for o in rows[1]] == [[], [], []]
    assert again[0][0].values == ["no quay: quay.io/y"]
    assert engine.restarts == 0


def test_invalid_json_from_a_string_builtin_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """sprintf over a concat() result embeds raw quotes: the engine's output is not JSON."""
    with engine_for(tmp_path) as engine:
        rows = engine.evaluate([doc(ref="x", broken=True), doc(ref="quay.io/z")])
    assert rows[0][2].values is None
    assert rows[0][2].error and "not valid JSON" in rows[0][2].error
    # the worker survives and goes on
    assert rows[1][0].values == ["no quay: quay.io/z"] and rows[1][2].values == []


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("crash", "the Rego engine crashed (killed by SIGSEGV)"),
        ("abort", "the Rego engine crashed (killed by SIGABRT)"),
        ("hang", "did not finish within 1s"),
        ("garbage", "not JSON"),
    ],
)
def test_a_failing_engine_is_an_error_for_that_rule_and_the_batch_goes_on(
    tmp_path: Path, fault: Callable[[str], None], kind: str, expected: str
) -> None:
    fault(f"{kind}:ACME002")
    started = time.monotonic()
    with engine_for(tmp_path, timeout=1.0) as engine:
        rows = engine.evaluate([doc(ref="quay.io/a", flag=True), doc(ref="quay.io/b", flag=True)])
    assert time.monotonic() - started < 30
    for row in rows:
        assert row[0].values and row[0].values[0].startswith("no quay: quay.io/")
        assert row[1].values is None and row[1].error and expected in row[1].error
        assert row[2].values == []
    assert engine.restarts >= 1
    if kind != "garbage":  # a rule that crashed or hung the engine is not retried in this run
        assert (
            rows[1][1].error
            and "not evaluated: the Rego engine failed on this rule earlier" in rows[1][1].error
        )
        assert engine.restarts == 1


def test_engine_that_cannot_start_is_a_failure_not_a_pass(tmp_path: Path) -> None:
    dead = RegopyWorker(command=[sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(EngineFailure, match="did not start"):
        dead.load([EngineModule("m.rego", "package m\n")], [])
    noisy = RegopyWorker(command=[sys.executable, "-c", "print('hello there')"])
    with pytest.raises(EngineFailure, match="not JSON"):
        noisy.load([EngineModule("m.rego", "package m\n")], [])
    refusing = RegopyWorker(
        command=[sys.executable, "-c", 'print(\'{"op": "hello", "ok": false, "error": "no"}\')']
    )
    with pytest.raises(EngineFailure, match="unavailable: no"):
        refusing.load([EngineModule("m.rego", "package m\n")], [])


def test_unusable_engine_marks_every_rule_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("slsalint.rego.worker_command", lambda: [sys.executable, "-c", "pass"])
    write_rego(tmp_path, "acme.rego", RULES)
    ruleset = load_rules([RegoSource(tmp_path)])
    engine, broken = open_engine(ruleset.modules, ruleset.rules)
    engine.close()
    assert broken is not None and "did not start" in broken


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            RULES.replace('msg := concat("", ["no quay: ", input.ref])', 'msg := "x" +* 3'),
            r"acme\.rego:10:13: Rego syntax error: Invalid arithmetic operator",
        ),
        (
            RULES.replace("import rego.v1\n", "import rego.v1\n\nloop if again\n\nagain if loop\n").replace(
                "startswith(input.ref", "loop\n\tstartswith(input.ref"
            ),
            r"acme\.rego:\d+: Rego rule ACME001 \(`deny`\) does not compile: Recursion detected",
        ),
    ],
)
def test_modules_the_engine_rejects_are_load_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        engine_for(tmp_path, text)
