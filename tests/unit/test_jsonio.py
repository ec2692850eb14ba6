"""The strict JSON reader every outside document goes through."""

from __future__ import annotations

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
