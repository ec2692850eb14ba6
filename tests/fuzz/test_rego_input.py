"""Fuzz the Rego input document and its evaluation: arbitrary statements (what an attestation author
controls) become input documents of the documented shape, the engine reads each of them back
unchanged, and the platform-team pack gives only its own findings or SL904, never a crash, never a
multi-line message."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slsalint.engine import build_target
from slsalint.policy import Policy
from slsalint.rego import RegoOptions, open_rego
from slsalint.rego.protocol import EngineModule
from slsalint.rego.regorus_engine import RegorusEngine
from slsalint.rego.runtime import RegoRuntime
from slsalint.rego_input import INPUT_SCHEMA, input_document
from slsalint.schemas import validate
from slsalint.sources.files import collect_files

SUBJECT = "sha256:" + "ab" * 32
PREDICATE_TYPES = [
    "https://slsa.dev/provenance/v0.2",
    "https://slsa.dev/provenance/v1",
    "https://spdx.dev/Document",
    "https://example.com/anything",
]
ECHO = "package fuzz.echo\n\nvalue := input\n"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=24)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=40,
)
materials = st.lists(
    st.fixed_dictionaries(
        {
            "uri": st.one_of(
                st.text(max_size=30),
                st.builds(lambda s: f"pkg:docker/{s}", st.text(max_size=30)),
                st.sampled_from(["pkg:docker/golang@1.22", "pkg:docker/evil.example.com/x@1", "pkg:docker/"]),
            ),
            "digest": st.one_of(st.just({"sha256": "cd" * 32}), json_values),
        }
    ),
    max_size=4,
)
predicates = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "builder": st.one_of(st.just({"id": "https://github.com/docker/buildx"}), json_values),
            "buildType": st.one_of(st.just("https://mobyproject.org/buildkit@v1"), st.text(max_size=20)),
            "materials": st.one_of(materials, json_values),
            "invocation": st.one_of(
                st.fixed_dictionaries(
                    {"parameters": st.dictionaries(st.text(max_size=12), json_values, max_size=4)}
                ),
                json_values,
            ),
        }
    ),
)
statements = st.fixed_dictionaries(
    {
        "_type": st.sampled_from(["https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1"]),
        "subject": st.just([{"name": "app", "digest": {"sha256": SUBJECT.split(":")[1]}}]),
        "predicateType": st.sampled_from(PREDICATE_TYPES),
        "predicate": predicates,
    }
)


@pytest.fixture(scope="module")
def runtime() -> Iterator[RegoRuntime]:
    opened, _, _ = open_rego(RegoOptions(policy=Policy(), packs=["platform-team"]))
    assert opened is not None
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def echo() -> RegorusEngine:
    engine = RegorusEngine()
    engine.load([EngineModule("echo.rego", ECHO)])
    return engine


def as_doubles(value: Any) -> Any:
    """``value`` with every number as a double: JSON numbers are doubles to Rego, and the engine
    may write a large double as an integer literal (5.190595108247962e16 as 51905951082479620)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [as_doubles(v) for v in value]
    return {k: as_doubles(v) for k, v in value.items()}


def target_of(statement: dict[str, Any]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "statement.json"
        path.write_text(json.dumps(statement), encoding="utf-8")
        return build_target(collect_files([path], subject=SUBJECT))


@given(statements)
def test_input_documents_have_the_documented_shape_and_reach_the_engine_unchanged(
    runtime: RegoRuntime, echo: RegorusEngine, statement: dict[str, Any]
) -> None:
    target = target_of(statement)
    for platform in target.platforms:
        for attestation in platform.attestations:
            document = input_document(target, platform, attestation)
            assert validate(INPUT_SCHEMA, document) == []
            text = json.dumps(document, separators=(",", ":"))
            (outcome,) = echo.evaluate(text, ["data.fuzz.echo.value"])
            assert outcome.error is None, outcome.error
            assert outcome.defined and as_doubles(outcome.value) == as_doubles(json.loads(text))
    for finding in runtime.findings(target):
        assert finding.rule_id in {"PLT001", "PLT002", "PLT003"}, finding.message
        assert finding.message.strip() and "\n" not in finding.message


@given(json_values)
def test_any_json_value_as_input_gives_values_or_one_line_errors(runtime: RegoRuntime, value: Any) -> None:
    """Whatever the document holds, each rule gives a set of results or a one-line error."""
    outcomes = runtime.engine.evaluate(json.dumps(value), [r.query for r in runtime.rules])
    for outcome in outcomes:
        if outcome.error is not None:
            assert "\n" not in outcome.error and outcome.error.strip()
        else:
            assert outcome.defined and isinstance(outcome.value, list)
