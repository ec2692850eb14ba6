"""The strict JSON reader every outside document goes through."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from slsalint import jsonio


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "NaN is not a JSON number"),
        ('{"a": [1, Infinity]}', "Infinity is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ("1e999", "out of range"),
        ("-1e400", "out of range"),
        ("1" * 5000, "5000 digits is too long"),
        ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels"),
        ('{"a":' * 65 + "1" + "}" * 65, "nested more than 64 levels"),
        ('{"a": 1', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(jsonio.JSONError, match=message):
        jsonio.loads(text)


def test_depth_limit_is_exact() -> None:
    assert jsonio.loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(jsonio.JSONError):
        jsonio.loads("[" * 65 + "]" * 65)


def test_duplicate_keys_refused_only_when_asked() -> None:
    assert jsonio.loads('{"a": 1, "a": 2}') == {"a": 2}
    with pytest.raises(jsonio.JSONError, match="duplicate JSON key 'a'"):
        jsonio.loads('{"a": 1, "a": 2}', unique_keys=True)


def test_ordinary_values_are_unchanged() -> None:
    text = '{"n": -12, "f": 1.5, "e": 1e3, "s": "x", "b": true, "z": null, "l": [1, {"k": []}]}'
    assert jsonio.loads(text) == {
        "n": -12,
        "f": 1.5,
        "e": 1000.0,
        "s": "x",
        "b": True,
        "z": None,
        "l": [1, {"k": []}],
    }


def test_load_object_names_the_type() -> None:
    with pytest.raises(jsonio.JSONError, match="not a JSON object \\(an array\\)"):
        jsonio.load_object("[]")


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize("tracked", [True, False])
@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("{}", 1),
        ("[[], {}, [1, {}]]", 3),
        ('{"a":' * 63 + "{}" + "}" * 63, 64),  # a leaf object (untracked by CPython) at the limit
        ('{"a":' * 64 + "{}" + "}" * 64, 65),
        ('[{"a": [' * 21 + '{"b": 1}' + "]}]" * 21, 64),
        ('[{"a": [' * 21 + '{"b": {}}' + "]}]" * 21, 65),
        ('[{"x": 1, "y": [2, {"z": []}]}, "s", [[[{}]]]]', 5),
        ('{"a": [' + ", ".join(["{}"] * 200) + "]}", 3),
    ],
)
def test_depth_bound_is_exact_for_every_shape(
    monkeypatch: pytest.MonkeyPatch, tracked: bool, text: str, depth: int
) -> None:
    monkeypatch.setattr(jsonio, "_TRACKED_PARENTS", tracked)
    value = json.loads(text)
    assert _depth(value) == depth
    for limit in (depth - 1, depth, depth + 1):
        if limit >= 1:
            assert jsonio.depth_exceeds(value, limit) is (depth > limit), limit
            assert jsonio._too_deep(value, limit, parsed=True) is (depth > limit), limit
    if depth > jsonio.MAX_DEPTH:
        with pytest.raises(jsonio.JSONError, match="nested more than 64 levels"):
            jsonio.loads(text)
    else:
        assert jsonio.loads(text) == value


def test_depth_of_values_that_are_not_json_counts_only_arrays_and_objects() -> None:
    # A tuple is not a JSON array: it is not a level, and what it holds is not looked into.
    assert jsonio.depth_exceeds([([[[]]],)], 1) is False
    assert jsonio.depth_exceeds([([[[]]],), [[]]], 2) is True


@pytest.mark.parametrize("offset", range(5))
@pytest.mark.parametrize("sign", ["", "-"])
def test_integer_length_is_judged_wherever_the_literal_sits(offset: int, sign: str) -> None:
    # Integers are only checked one by one where the text may hold a long one: the first look
    # samples every 4th byte, so a long literal must be found at every alignment.
    pad = '"' + "x" * offset + '"'
    assert jsonio.loads(f"[{pad}, {sign}{'7' * 64}]")[1] == int(sign + "7" * 64)
    with pytest.raises(jsonio.JSONError, match="integer of 65 digits is too long"):
        jsonio.loads(f"[{pad}, {sign}{'7' * 65}]")
    digits_in_text = '"' + "1" * 200 + '"'  # a long run of digits inside a string is just text
    assert jsonio.loads(f"[{pad}, {digits_in_text}, 5]")[2] == 5


def test_str_input_is_read_like_bytes() -> None:
    with pytest.raises(jsonio.JSONError, match="integer of 70 digits"):
        jsonio.loads("[" + "9" * 70 + "]")
    assert jsonio.loads('{"é": 1}') == {"é": 1}


def test_a_str_holding_a_surrogate_itself_is_refused() -> None:
    # A str can hold a surrogate code point outright (not as a \u escape): not text either.
    with pytest.raises(jsonio.JSONError, match="a string holds a lone UTF-16 surrogate"):
        jsonio.loads('["\ud800"]')
    with pytest.raises(jsonio.JSONError, match="a string holds a lone UTF-16 surrogate"):
        jsonio.loads('["\\ud800"]')
    assert jsonio.loads('["\\ud83d\\ude00"]') == ["\U0001f600"]


@pytest.mark.parametrize("digits", [19, 20, 21, 40, 64])
@pytest.mark.parametrize("sign", ["", "-"])
def test_integers_past_64_bits_stay_exact_integers(digits: int, sign: str) -> None:
    literal = sign + "9" * digits
    top = jsonio.loads(literal.encode())
    in_array = jsonio.loads(f"[\n  {literal}\n]".encode())[0]
    in_object = jsonio.loads(f'{{"k": {literal}}}'.encode())["k"]
    for number in (top, in_array, in_object):
        assert type(number) is int and number == int(literal)


INTERNAL_JSON = {
    ("slsalint/schemas.py", "validate_with"): "a schema value slsalint itself wrote to text",
    ("slsalint/schemas.py", "_compiled_text"): "the same text, compiled",
    ("slsalint/rego/worker.py", "main"): "requests from the parent process on the worker's stdin",
    ("slsalint/sources/oci.py", "truncation_hint"): "a document already refused, for its message",
}
"""The only places that parse JSON without ``slsalint.jsonio``: none reads an outside document."""


def test_outside_json_is_read_only_by_the_strict_reader() -> None:
    # A verifier that parsed a signed payload with json.loads accepted NaN and duplicate keys and
    # crashed on deep nesting: every other json.load(s) call is a document from outside.
    root = Path(__file__).resolve().parents[2]
    found: dict[tuple[str, str], int] = {}
    for path in sorted((root / "slsalint").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name == "slsalint/jsonio.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"load", "loads"}
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "json"
                ):
                    found[name, function.name] = found.get((name, function.name), 0) + 1
    assert set(found) == set(INTERNAL_JSON), sorted(set(found) ^ set(INTERNAL_JSON))


def test_keys_are_read_by_their_text_not_by_a_hash() -> None:
    # Pairs of keys with one 64-bit xxh3 hash: a parser that caches keys by that hash alone (as
    # orjson does from 3.10.6) reads the second as the first, within one document and across
    # documents; slsalint's reader must read each key as written.
    assert jsonio.loads(b'{"aarg": 1, "%D{2*oo+": 2}') == {"aarg": 1, "%D{2*oo+": 2}
    forged = b'{"\\u0209\\u0004p\\u02be\\u001d\\u0000": "evil"}'
    assert jsonio.loads(b'{"payload": "X"}') == {"payload": "X"}
    assert jsonio.loads(forged) == {"\u0209\u0004p\u02be\u001d\u0000": "evil"}
