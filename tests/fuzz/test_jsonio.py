"""Fuzz the strict JSON reader: it returns bounded, finite JSON or raises JSONError, nothing else."""

from __future__ import annotations

import json
import math
import re
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


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


deep_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=200,
)


@given(deep_values, st.integers(1, 12), st.booleans())
def test_depth_bound_matches_a_plain_recursive_count(value: Any, limit: int, tracked: bool) -> None:
    # Parsed back from text, so the containers are built (and tracked) as the reader builds them.
    parsed = json.loads(json.dumps(value))
    previous = jsonio._TRACKED_PARENTS
    jsonio._TRACKED_PARENTS = tracked
    try:
        assert jsonio.depth_exceeds(parsed, limit) is (_depth(parsed) > limit)
        assert jsonio._too_deep(parsed, limit, parsed=True) is (_depth(parsed) > limit)
    finally:
        jsonio._TRACKED_PARENTS = previous


escape_dense = st.lists(st.sampled_from(list(b"\\\\ud8D04fx")).map(lambda c: bytes([c])), max_size=120)


@given(escape_dense.map(b"".join))
def test_escape_matches_says_what_a_regex_search_says(data: bytes) -> None:
    # Texts dense in backslashes, so both the per-backslash look and the search after it run.
    for pattern in (jsonio._SURROGATE_ESCAPE, re.compile(rb"\\u00[4-7][0-9a-fA-F]")):
        assert jsonio.escape_matches(data, pattern) is (pattern.search(data) is not None)
