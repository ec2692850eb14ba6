"""Fuzz the strict JSON reader: it returns bounded, finite JSON or raises JSONError, nothing else."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint import jsonio


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        value = jsonio.loads(data)
    except jsonio.JSONError as exc:
        assert "\n" not in str(exc)
        return
    assert _finite(value)
    assert not jsonio.depth_exceeds(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**63), 10**63) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=60,
)


@given(json_values)
def test_round_trip_or_refusal(value: Any) -> None:
    text = json.dumps(value)  # Python writes NaN/Infinity for non-finite floats: those must be refused
    try:
        parsed = jsonio.loads(text)
    except jsonio.JSONError:
        assert not _finite(value) or jsonio.depth_exceeds(value)
        return
    assert _finite(value)
    assert parsed == value
