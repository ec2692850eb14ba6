"""slsalint's Rego engine against real OPA 1.20.2 (the oracle venv ``make test`` creates).

Three suites, each compared answer by answer with OPA:

- the probe modules in ``tests/rego/probes/`` (one rule ``result`` each, the input in a leading
  ``# input:`` comment): the outcome (a value, undefined, or an error) must be OPA's, except the
  divergences listed in docs/rego.md, which are pinned here one by one;
- every bundled Rego pack over its ``testdata/*.input.json``: every rule's value;
- every pack test (the bundled packs' and a user pack written as for conftest): pass, fail or error.

The tally is printed at the end of the run (tests/rego/conftest.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from slsalint.policy import available_packs, load_pack
from slsalint.rego import load_rules, run_pack_tests
from slsalint.rego.protocol import EngineModule, Outcome
from slsalint.rego.regorus_engine import RegorusEngine
from slsalint.rego.selection import pack_sources
from tests.rego.conftest import ROOT, Oracle, tally

PROBES = sorted((Path(__file__).parent / "probes").glob("*.rego"))
USER_PACK = Path(__file__).parent / "user_pack"
REGO_PACKS = [name for name in available_packs() if load_pack(name).rego]
DOCS = (ROOT / "docs" / "rego.md").read_text(encoding="utf-8")

ERROR: tuple[Any, ...] = ("error",)
UNDEFINED: tuple[Any, ...] = ("undefined",)


def value(v: Any) -> tuple[Any, ...]:
    return ("value", v)


# Where slsalint (regorus) and OPA answer differently: (slsalint, OPA). Each is listed in
# docs/rego.md ("Where the engine differs from OPA"); a change in either engine fails its test.
DIVERGENCES: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    "sprintf_missing_arg": (ERROR, value("one and %!s(MISSING)")),
    "sprintf_number_as_s": (value("1.5"), value("%!s(float64=1.5)")),
    "sprintf_verbs": (
        value(["a", "42", '[1, "a"]', "ff", "3.14", "ab|", "5s|", ""]),
        value(["a", "42", '[1, "a"]', "ff", "3.14", "   ab|", "ab   |", "%!t(string=true)"]),
    ),
    "with_builtin_mock": (ERROR, UNDEFINED),
    "net_cidr_intersects": (ERROR, value([True, False])),
    "time_add_date": (value([2024, 2, 29]), value([2024, 3, 2])),
    "semver_is_valid": (value([True, False, False]), value([True, True, False])),
    "glob_quote_meta": (value("\\*.a?[b]"), value("\\*.a\\?\\[b\\]")),
    "json_match_schema": (value([True, None]), value([True, []])),
    "substring_unicode": (value(["éllo", 5, "STRASSE"]), value(["éllo", 5, "STRAßE"])),
    "uuid_parse": (value({"variant": "NCS", "version": 0}), value({"variant": "Reserved", "version": 0})),
    "yaml_roundtrip": (value([{"a": 1, "b": ["x", "y"]}, False]), value([{"a": 1, "b": ["x", True]}, False])),
}


def probe_input(text: str) -> tuple[bool, Any]:
    match = re.match(r"# input: (.*)\n", text)
    return (True, json.loads(match.group(1))) if match else (False, None)


def classify(outcome: Outcome) -> tuple[Any, ...]:
    if outcome.error is not None:
        return ERROR
    return value(outcome.value) if outcome.defined else UNDEFINED


def classify_opa(answer: dict[str, Any]) -> tuple[Any, ...]:
    if answer.get("error"):
        return ERROR
    return value(answer["value"]) if answer["defined"] else UNDEFINED


def slsalint_answers(
    modules: list[tuple[str, str]], document: str | None, queries: list[str]
) -> list[Outcome]:
    engine = RegorusEngine()
    try:
        engine.load([EngineModule(name, source) for name, source in modules])
    except Exception as exc:  # a module regorus rejects: every query is an error
        return [Outcome(error=str(exc)) for _ in queries]
    return engine.evaluate(document, queries)


def opa_answers(opa: Oracle, modules: list[tuple[str, str]], queries: list[dict[str, Any]]) -> list[Any]:
    answer = opa.ask(modules, queries)
    if "load_error" in answer:
        return [ERROR for _ in queries]
    return [classify_opa(a) for a in answer["results"]]


def test_there_are_enough_probes_covering_what_the_issue_lists() -> None:
    assert len(PROBES) >= 60
    names = " ".join(p.stem for p in PROBES)
    for topic in (
        "every", "some", "else", "partial_set", "partial_object", "function", "with_input", "with_data",
        "sprintf", "glob", "regex", "time", "json", "base64", "semver", "strings", "units", "net_cidr",
        "undefined", "error_",
    ):  # fmt: skip
        assert topic in names, topic


@pytest.mark.parametrize("path", PROBES, ids=[p.stem for p in PROBES])
def test_probe_agrees_with_opa(opa: Oracle, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    has_input, document = probe_input(text)
    query = f"data.probe.{path.stem}.result"
    modules = [(str(path), text)]
    (ours,) = slsalint_answers(modules, json.dumps(document) if has_input else None, [query])
    case: dict[str, Any] = {"query": query, **({"input": document} if has_input else {})}
    (theirs,) = opa_answers(opa, modules, [case])
    mine = classify(ours)
    if path.stem in DIVERGENCES:
        tally("probes", False)
        tally("documented divergences", True)
        assert (mine, theirs) == DIVERGENCES[path.stem], f"{path.stem}: the documented divergence changed"
        assert f"`{path.stem}`" in DOCS, f"{path.stem} is not listed in docs/rego.md"
        return
    tally("probes", mine == theirs)
    assert mine == theirs, f"{path.stem}: slsalint {mine} ({ours.error}), OPA {theirs}"


def test_every_divergence_has_a_probe() -> None:
    assert set(DIVERGENCES) <= {p.stem for p in PROBES}


def test_strict_builtin_errors_are_errors_in_both() -> None:
    """The built-in errors attestation authors can provoke are errors (SL904 in a check), never a
    silent undefined: 1/0, to_number("lots"), "a"+1, a bad regex, json.unmarshal("{")."""
    for name in ("error_divide_by_zero", "to_number_error", "error_plus_string", "regex_invalid_error"):
        assert name not in DIVERGENCES
    assert "json_unmarshal_error" not in DIVERGENCES
    assert DIVERGENCES["sprintf_missing_arg"][0] == ERROR  # stricter than OPA on purpose


def sortable(v: Any) -> Any:
    """Set results as JSON arrays, compared without regard to order."""
    if isinstance(v, list):
        return sorted(json.dumps(item, sort_keys=True) for item in v)
    return v


@pytest.mark.parametrize("pack", REGO_PACKS)
def test_bundled_pack_agrees_with_opa_on_its_testdata(opa: Oracle, pack: str) -> None:
    ruleset = load_rules(pack_sources([pack]))
    modules = [(str(m.path), m.compiled) for m in ruleset.modules]
    queries = [r.query for r in ruleset.rules]
    cases = sorted((load_pack(pack).path.parent / "testdata").glob("*.input.json"))
    assert cases
    for path in cases:
        text = path.read_text(encoding="utf-8")
        ours = [classify(o) for o in slsalint_answers(modules, text, queries)]
        theirs = opa_answers(opa, modules, [{"query": q, "input": json.loads(text)} for q in queries])
        for rule, mine, other in zip(ruleset.rules, ours, theirs, strict=True):
            agreed = mine[0] == other[0] == "value" and sortable(mine[1]) == sortable(other[1])
            tally("pack testdata", agreed)
            assert agreed, f"{pack}/{path.name}: {rule.id}: slsalint {mine}, OPA {other}"


def pack_directories() -> list[Path]:
    return [*(load_pack(p).path.parent for p in REGO_PACKS), USER_PACK]


@pytest.mark.parametrize("directory", pack_directories(), ids=lambda p: p.name)
def test_pack_tests_pass_unchanged_under_opa(opa: Oracle, directory: Path) -> None:
    results = run_pack_tests(directory)
    assert results and all(not r.deprecated_input for r in results), "pack tests use `with input as`"
    files = sorted(p for p in directory.rglob("*.rego") if "testdata" not in p.parts)
    modules = [(str(p), p.read_text(encoding="utf-8")) for p in files]
    packages = {
        str(p): re.search(r"^package\s+(\S+)", text, re.M)
        for p, text in zip(files, [m[1] for m in modules], strict=True)
    }
    queries = []
    for result in results:
        match = packages[str(result.path)]
        assert match is not None
        queries.append({"query": f"data.{match.group(1)}.{result.name}"})
    answer = opa.ask(modules, queries)
    assert "load_error" not in answer, answer
    for result, other in zip(results, answer["results"], strict=True):
        opa_status = "error" if other["error"] else ("pass" if other["value"] is True else "fail")
        tally("pack tests", result.status == opa_status == "pass")
        assert (result.name, result.status) == (result.name, opa_status)
        assert result.status == "pass", f"{result.name}: {result.detail}"
