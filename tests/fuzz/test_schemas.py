"""Fuzz schema validation: any value gives a sorted list of one-line errors, and never a pass for
what the reference validator (jsonschema) refuses."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint.schemas import SchemaError, statement_errors, validate

_scalars = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=12)
_values = st.recursive(
    _scalars
    | st.sampled_from(["https://in-toto.io/Statement/v1", "https://slsa.dev/provenance/v1", "sha256"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["_type", "subject", "predicateType", "predicate", "digest", "name", "builder", "id", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)


def _checked(errors: list[SchemaError]) -> None:
    assert all(isinstance(e, SchemaError) and "\n" not in e.message and len(e.message) < 400 for e in errors)
    assert len({(e.pointer, e.message) for e in errors}) == len(errors)


@given(_values)
def test_statements(value: Any) -> None:
    _checked(statement_errors(value))


@given(_values, st.sampled_from(["policy", "pack", "exceptions", "dsse-envelope", "slsa-provenance-v1"]))
def test_documents_agree_with_the_reference(value: Any, name: str) -> None:
    from jsonschema.validators import validator_for

    from slsalint.schemas import load_schema

    errors = validate(name, value)
    _checked(errors)
    schema = load_schema(name)
    reference = validator_for(schema)(schema, format_checker=validator_for(schema).FORMAT_CHECKER)
    if not reference.is_valid(value):
        assert errors, value  # never a pass for what must be refused
