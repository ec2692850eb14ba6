# ruff: noqa: E501
"""Fault catalogue: Rego rules and modules that must never turn the gate green.

Built-in errors an attestation author can provoke are SL904 naming the file, the rule and the error
(never a silently undefined ``deny``); broken, hostile or oversized modules are exit 2 naming the
file; a rule that runs too long is bounded (SL904 in the worker, exit 3 in-process); policies see no
environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.catalogue import Fault, Outcome, assert_fault, run
from tests.rego.conftest import image_layout

HEADER = "package faults\n\nimport rego.v1\n\n# METADATA\n# custom:\n#   id: ORG001\n"


def rule(body: str) -> str:
    """A module with one deny rule ORG001 whose body is ``body`` (line 8 is the rule head)."""
    return HEADER + "deny contains msg if {\n" + body + "\n}\n"


@dataclass(frozen=True)
class Case:
    fault: Fault
    module: str | None = None
    """The text of rules/faults.rego (None: ``prepare`` builds what the row needs)."""
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    prepare: Callable[[Path], list[str]] | None = None
    """Returns the command line (after ``slsalint``) when the row needs more than a module."""


def builtin_error(name: str, body: str, message: str) -> Case:
    return Case(
        Fault(
            name,
            1,
            finding="SL904",
            message=rf"^Rego rule ORG001 \(`deny` in .*faults\.rego:8\) failed to "
            rf"evaluate: .*faults\.rego:\d+:\d+: {message}",
        ),
        rule(body),
    )


def fifo_module(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "rules" / "faults.rego")
    return ["--rego", str(tmp / "rules")]


def device_test_input(tmp: Path) -> list[str]:
    pack = tmp / "pack"
    pack.mkdir()
    (pack / "p.rego").write_text(rule('\tinput.x\n\tmsg := "x"'))
    (pack / "p_test.rego").write_text(
        "package faults_test\n\nimport rego.v1\n\n# METADATA\n# custom:\n#   input: /dev/zero\n"
        "test_x if true\n"
    )
    return ["packs", "test", str(pack)]


CASES = [
    # Issue 10 item 3: every built-in error is SL904 naming file, rule and error.
    builtin_error("divide-by-zero", "\tn := count(input.provenance.materials)\n\tmsg := sprintf(\"%v\", [1 / (n - n)])", "divide by zero"),
    builtin_error("to-number", '\tmsg := sprintf("%v", [to_number("lots")])', "could not parse string as number"),
    builtin_error("string-plus-number", "\tmsg := sprintf(\"%v\", [input.image.kind + 1])", "`add` expects numeric argument"),
    builtin_error("bad-regex", '\tregex.match("(", input.image.kind)\n\tmsg := "x"', "invalid regex"),
    builtin_error("json-unmarshal", '\tmsg := sprintf("%v", [json.unmarshal("{")])', "could not deserialize json"),
    builtin_error("sprintf-arity", '\tmsg := sprintf("%s uses %s", [input.image.kind])', "no argument specified for format verb"),
    Case(
        Fault("deep-output", 1, finding="SL904", message=r"failed to evaluate: the result nests deeper than 64 levels$"),
        rule('\tmsg := {"msg": "x", "actual": json.unmarshal("' + "[" * 90 + "]" * 90 + '")}'),
    ),
    Case(
        Fault("result-not-a-finding", 1, finding="SL904", message=r"a result is neither a string nor an object with a string msg: 42"),
        rule("\tinput.image\n\tmsg := 42"),
    ),
    Case(
        Fault("environment-not-exposed", 1, finding="ORG001", message=r"^runtime: \{\}$"),
        rule('\tmsg := sprintf("runtime: %v", [opa.runtime()])'),
        env=(("SLSALINT_FAULT_SECRET", "hunter2"),),
    ),
    Case(
        Fault("timeout-in-process", 3, stderr=r"^slsalint: error: Rego rule ORG001 \(`deny` in .*\) did not finish within 1s"),
        rule("\tcount([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) < 0\n\tmsg := \"x\""),
        args=("--rego-timeout", "1"),
    ),
    Case(
        Fault("timeout-worker", 1, finding="SL904", message=r"ORG001 .*did not finish within 1s \(the worker was stopped\)"),
        rule("\tcount([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) < 0\n\tmsg := \"x\""),
        args=("--rego-timeout", "1", "--rego-isolation", "worker"),
    ),
    Case(
        Fault("worker-crash", 1, finding="SL904", message=r"the Rego worker crashed \(killed by SIGSEGV\)"),
        rule('\tinput.image\n\tmsg := "x"'),
        args=("--rego-isolation", "worker"),
        env=(("SLSALINT_REGO_WORKER_FAULT", "crash:ORG001"),),
    ),
    Case(
        Fault("worker-garbage", 1, finding="SL904", message=r"not the protocol"),
        rule('\tinput.image\n\tmsg := "x"'),
        args=("--rego-isolation", "worker"),
        env=(("SLSALINT_REGO_WORKER_FAULT", "garbage:ORG001"),),
    ),
    Case(Fault("syntax-error", 2, stderr=r"faults\.rego:\d+:\d+: Rego syntax error: "), rule("\tmsg := (")),
    Case(Fault("unsafe-variable", 2, stderr=r"faults\.rego:8: Rego rule ORG001 \(`deny`\) does not compile: .*unsafe"), rule("\tmsg := y")),
    Case(Fault("missing-builtin", 2, stderr=r"faults\.rego:9: `crypto\.x509\.parse_certificates` is neither defined"), rule('\tcrypto.x509.parse_certificates("")\n\tmsg := "x"')),
    Case(Fault("network-builtin", 2, stderr=r"faults\.rego:9: `http\.send` is not available to slsalint policies"), rule('\thttp.send({"method": "get", "url": "http://127.0.0.1:9"})\n\tmsg := "x"')),
    Case(Fault("nesting-bomb", 2, stderr=r"faults\.rego:9: braces and brackets nest deeper than 12 levels"), rule("\tmsg := " + "[" * 40 + "1" + "]" * 40)),
    Case(Fault("metadata-alias", 2, stderr=r"faults\.rego:\d+: YAML aliases are not accepted in # METADATA"), "# METADATA\n# title: &a x\n# description: *a\n# custom:\n#   id: ORG001\npackage faults\n\ndeny contains 1 if false\n"),
    Case(Fault("metadata-not-a-mapping", 2, stderr=r"faults\.rego:1: # METADATA must be a YAML mapping"), "# METADATA\n# - a\npackage faults\n"),
    Case(Fault("not-utf8", 2, stderr=r"faults\.rego: .*UTF-8"), "package faults\n\nx := \"\udcff\"\n"),
    Case(Fault("fifo-module", 2, stderr=r"faults\.rego: is a FIFO, not a regular file"), None, prepare=fifo_module),
    Case(Fault("device-test-input", 2, stderr=r"custom\.input .*/dev/zero: .*not a regular file"), None, prepare=device_test_input),
    Case(Fault("bad-isolation", 2, stderr=r"--rego-isolation 'thread': expected in-process or worker"), rule('\tinput.image\n\tmsg := "x"'), args=("--rego-isolation", "thread")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.fault.name for c in CASES])
def test_rego_fault(tmp_path: Path, case: Case) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    if case.module is not None:
        data = case.module.encode("utf-8", "surrogateescape")
        (rules / "faults.rego").write_bytes(data)
    target = image_layout(tmp_path / "image")
    if case.prepare is not None:
        args = case.prepare(tmp_path)
        if args[0] != "packs":
            args = ["check", target, *args]
    else:
        args = ["check", target, "--rego", str(rules), *case.args]
    if args[0] == "check":
        args += ["--format", "json"]
    outcome: Outcome = run(*args, env=dict(case.env), timeout=180)
    assert_fault(case.fault, outcome)
    for _, secret in case.env:
        if case.fault.name == "environment-not-exposed":
            assert secret not in outcome.stdout + outcome.stderr
