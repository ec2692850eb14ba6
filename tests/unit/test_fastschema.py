"""The compiled fast path never accepts a document jsonschema rejects."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from slsalint.fastschema import compile_schema
from slsalint.schemas import load_schema

SCHEMAS = [
    "in-toto-statement-v0.1",
    "in-toto-statement-v1",
    "slsa-provenance-v0.1",
    "slsa-provenance-v0.2",
    "slsa-provenance-v1",
    "dsse-envelope",
    "policy",
    "pack",
]
# report-v1 is validated in the report tests; its documents are built by slsalint itself.
REPLACEMENTS: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "not a uri",
    "2025-13-45T99:00:00Z",
    [],
    {},
    ["x"],
    {"a": 1},
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _mutate(document: Any, rng: random.Random) -> Any:
    mutant = copy.deepcopy(document)
    paths = [p for p in _paths(mutant) if p]
    if not paths:
        return rng.choice(REPLACEMENTS)
    path = rng.choice(paths)
    parent = mutant
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
    elif isinstance(parent, dict) and rng.random() < 0.2:
        parent[f"extra{rng.randint(0, 9)}"] = rng.choice(REPLACEMENTS)
    else:
        parent[path[-1]] = rng.choice(REPLACEMENTS)
    return mutant


def _validator(name: str) -> Any:
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _samples(corpus: Path, name: str) -> list[Any]:
    statements = [
        json.loads((corpus / "buildkit" / f).read_bytes())
        for f in (
            "example-package-v1.9.0.provenance-v02-max.intoto.json",
            "example-package-v2.1.0.provenance-v02-min.intoto.json",
            "github-builder-test.provenance-v1-max.local-exporter.intoto.json",
        )
    ]
    if name.startswith("in-toto"):
        return statements
    if name.startswith("slsa-provenance"):
        return [s["predicate"] for s in statements]
    if name == "dsse-envelope":
        return [
            json.loads(
                (
                    corpus / "github-attestations/sigstore-js-2.1.0.npm-provenance.bundle-v0.3.json"
                ).read_bytes()
            )["dsseEnvelope"]
        ]
    if name == "policy":
        return [
            {
                "version": 1,
                "packs": ["recommended"],
                "rules": {"SL301": {"level": "error", "allowed-builders": ["x"]}},
            }
        ]
    return [{"name": "p", "version": "1", "description": "d", "rules": {"SL101": {}}}]


@pytest.mark.parametrize("name", SCHEMAS)
def test_fast_path_is_never_more_lenient(corpus: Path, name: str) -> None:
    validator = _validator(name)
    fast = compile_schema(load_schema(name), validator.format_checker)
    rng = random.Random(name)
    accepted = rejected = 0
    for sample in _samples(corpus, name):
        assert fast(sample) == validator.is_valid(sample) or not fast(sample)
        for _ in range(300):
            mutant = _mutate(sample, rng)
            if fast(mutant):
                accepted += 1
                assert validator.is_valid(mutant), (name, mutant if len(json.dumps(mutant)) < 2000 else "...")
            else:
                rejected += 1
    assert rejected > 0


def test_real_statements_take_the_fast_path(corpus: Path) -> None:
    validator = _validator("slsa-provenance-v0.2")
    fast = compile_schema(load_schema("slsa-provenance-v0.2"), validator.format_checker)
    predicate = json.loads(
        (corpus / "buildkit/example-package-v1.9.0.provenance-v02-max.intoto.json").read_bytes()
    )
    assert fast(predicate["predicate"]) is True


def test_unsupported_keywords_defer_to_jsonschema() -> None:
    checker = jsonschema.FormatChecker()
    fast = compile_schema({"type": "object", "not": {"required": ["a"]}}, checker)
    assert fast({}) is False
