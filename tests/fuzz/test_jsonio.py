"""Fuzz the strict JSON reader: it returns bounded, finite JSON or raises JSONError, nothing else."""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path
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


# The two readers (see the module documentation of slsalint.jsonio): whatever ``loads`` returns or
# refuses, the careful reader (the standard library's decoder with every check) returns or refuses
# too, value for value and type for type, with the same message.

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SEEDS = sorted(
    path.read_bytes()
    for path in ASSETS.rglob("*.json")
    if path.is_file() and not path.is_symlink() and path.stat().st_size <= 16_384
)
"""Real documents (attestations, bundles, manifests, indexes, trust roots) to mutate."""

NEAR_JSON = (
    b' \t\n\r{}[],:"\\/-+.eE0123456789abcdefnrtuINaly'
    b"\x0b\x0c\x00\x01\x1f\x7f\xc3\xa9\xed\xa0\x80\xef\xbb\xbf\xf0\x9f"
)
"""Bytes a mutation inserts: JSON's own, near misses (other white space, control bytes), the
letters of literals and escapes, and pieces of UTF-8 (valid, a surrogate, a byte order mark)."""


def _careful(data: bytes) -> tuple[str, Any]:
    try:
        value = jsonio._read_carefully(data, None, False, unique_keys=False, max_depth=jsonio.MAX_DEPTH)
    except jsonio.JSONError as exc:
        return "error", str(exc)
    return "value", value


def _read(data: bytes) -> tuple[str, Any]:
    try:
        return "value", jsonio.loads(data)
    except jsonio.JSONError as exc:
        return "error", str(exc)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``1 == 1.0`` is not enough; ``-0.0`` is not
    ``0.0``), objects in the same key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return bool(a == b)


def _agree(data: bytes) -> None:
    fast, careful = _read(data), _careful(data)
    assert fast[0] == careful[0], (data[:200], fast, careful)
    if fast[0] == "error":
        assert fast[1] == careful[1]
    else:
        assert _same(fast[1], careful[1]), data[:200]


def test_the_seeds_are_real_documents() -> None:
    assert len(SEEDS) >= 100
    assert sum(_careful(seed)[0] == "value" for seed in SEEDS) >= 100


@given(st.binary(max_size=2048))
def test_the_readers_agree_on_arbitrary_bytes(data: bytes) -> None:
    _agree(data)


@given(json_values)
def test_the_readers_agree_on_written_values(value: Any) -> None:
    _agree(json.dumps(value).encode())
    _agree(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))


mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]), st.integers(0), st.sampled_from(list(NEAR_JSON))
)


@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=4))
def test_the_readers_agree_on_mutated_real_documents(seed: bytes, edits: list[tuple[str, int, int]]) -> None:
    data = bytearray(seed)
    for op, at, byte in edits:
        at %= len(data) + 1
        if op == "insert":
            data[at:at] = bytes([byte])
        elif op == "delete":
            del data[at : at + 1]
        elif at < len(data):
            data[at] = byte
    _agree(bytes(data))


numbers = st.one_of(
    st.integers(-(10**70), 10**70).map(str),
    st.integers(-(2**64) - 2, 2**64 + 2).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,4})?\Z"),
)


NUMBER_FRAMES = ("[{}]", '{{"k": {}}}', "{}", ' [ "s1234567890123456789012", {} ] ')
"""Where the numbers sit: in an array, as an object's values, alone at the top, and beside digits
inside a string; ``{}`` is filled with the numbers, separated by commas."""


@given(st.lists(numbers, min_size=1, max_size=6), st.sampled_from(NUMBER_FRAMES))
def test_the_readers_agree_on_numbers(literals: list[str], frame: str) -> None:
    # Integers either side of 64 bits (which orjson alone would read as floats), long fractions
    # and exponents.
    if frame == "{}":
        body = literals[0]
    elif frame.startswith("{{"):
        frame, body = "{{{}}}", ", ".join(f'"k{i}": {n}' for i, n in enumerate(literals))
    else:
        body = ", ".join(literals)
    _agree(frame.format(body).encode())


wide_dense = st.lists(st.sampled_from(list(b'0123456789-[,: \t\r\n"a.e')), max_size=200).map(bytes)
_WIDE_LITERAL = re.compile(rb"(?:\A|[-\[,: \t\r\n])[0-9]{19}")


@given(wide_dense)
def test_the_wide_integer_look_says_what_a_regex_search_says(data: bytes) -> None:
    assert jsonio._may_hold_wide_integer(data) is (_WIDE_LITERAL.search(data) is not None)
