"""The YAML reader every configuration file goes through: strict, bounded, one-line errors."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from slsalint import yamlio
from slsalint.errors import ConfigError, OperationalError


def _laughs() -> str:
    """The billion-laughs document: nine levels of nine aliases each (9**9 values expanded)."""
    names = "abcdefghi"
    lines = ["version: 1", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


LAUGHS = _laughs()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LAUGHS, r"^p.yaml:\d+: invalid YAML: more than 100000 values once aliases are expanded$"),
        (
            "a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(101)),
            r"^p.yaml:102: invalid YAML: more than 100 aliases$",
        ),
        ("a: " + "[" * 300 + "]" * 300, r"^p.yaml:1: invalid YAML: nested more than 64 levels deep$"),
        ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 80)), r"nested more than 64 levels deep$"),
        (
            "a: &a " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30,
            r"^p.yaml:2: invalid YAML: alias \*a nests the document more than 64 levels deep$",
        ),
        ("a: &a [*a]\n", r"^p.yaml:1: invalid YAML: alias \*a refers to a collection that contains it$"),
        ("a: *nope\n", r"^p.yaml:1: invalid YAML: alias \*nope names no anchor defined before it$"),
        ("a: &x 1\nb: &x 2\n", r"^p.yaml:2: invalid YAML: anchor &x is defined twice$"),
        ("? [a, b]\n: 1\n", r"^p.yaml:1: invalid YAML: a sequence is used as a mapping key"),
        ("a:\n  ? {k: v}\n  : 1\n", r"^p.yaml:2: invalid YAML: a mapping is used as a mapping key"),
        (
            "a: &m {k: v}\nb:\n  *m : 1\n",
            r"^p.yaml:3: invalid YAML: alias \*m to a collection is used as a mapping key",
        ),
        ("version: 1\nversion: 2\n", r'^p.yaml:2: invalid YAML: found duplicate key "version"'),
        ("a: .nan\n", r"^p.yaml:1: invalid YAML: .nan is not a finite number$"),
        ("a: -.inf\n", r"-.inf is not a finite number$"),
        ("a: !!float nan\n", r"nan is not a finite number$"),
        ("a: 1e999\n", r"^p.yaml:1: invalid YAML: number 1e999 is out of range$"),
        ("a: " + "9" * 5000 + "\n", r"^p.yaml:1: invalid YAML: integer of 5000 digits is too long$"),
        ("a: !!int '" + "9" * 70 + "'\n", r"integer of 70 digits is too long$"),
        ("a: 0x" + "f" * 70 + "\n", r"integer of 70 digits is too long$"),
        (
            "a: !!python/object:os.system x\n",
            r"^p.yaml:1: invalid YAML: unsupported YAML tag !!python/object:os.system$",
        ),
        ("a: !!binary aGk=\n", r"unsupported YAML tag !!binary$"),
        ("a: !!set {x, y}\n", r"unsupported YAML tag !!set$"),
        ("a: !custom x\n", r"unsupported YAML tag !custom$"),
        ('a: "\\ud800"\n', r"^p.yaml:1: invalid YAML: a string holds a lone UTF-16 surrogate"),
        ("%YAML 1.1\n---\na: yes\n", r"^p.yaml:2: invalid YAML: %YAML 1.1: only YAML 1.2 is read$"),
        ("a: [1\n", r"^p.yaml:2: invalid YAML: expected ',' or ']', but got '<stream end>'$"),
        ("a: 1\n---\nb: 2\n", r"^p.yaml:2: invalid YAML: but found another document"),
        (
            "a: 1\nb: \x00\n",
            r"^p.yaml:2: invalid YAML: unacceptable character #x0000: special characters are not allowed$",
        ),
        ("a: !!timestamp 2026-13-01\n", None),
        ("a: !!str 12\n", None),
    ],
)
def test_refused(text: str, message: str | None) -> None:
    if message is None:  # an explicit timestamp or string is plain text: the caller judges it
        value = yamlio.loads(text, "p.yaml")["a"]
        assert type(value) is str and value in ("2026-13-01", "12")
        return
    yaml = yamlio.round_trip()
    with pytest.raises(ConfigError, match=message) as caught:
        yamlio.loads(text, "p.yaml", yaml=yaml)
    assert "\n" not in str(caught.value)
    guard = yaml.parser.guard
    if guard is not None:  # the refusal came while parsing: nothing deeper than the bound was read
        assert len(guard.stack) <= yamlio.MAX_DEPTH + 1


def test_bombs_stop_at_the_first_event_past_the_bound() -> None:
    yaml = yamlio.round_trip()
    with pytest.raises(ConfigError, match="nested more than 64 levels deep"):
        yamlio.loads("a: " + "[" * 200_000 + "]" * 200_000, "p.yaml", yaml=yaml)
    assert len(yaml.parser.guard.stack) == yamlio.MAX_DEPTH + 1  # ruamel alone takes minutes on this
    with pytest.raises(ConfigError, match=r"^p.yaml:(\d+): invalid YAML: more than 100000 values") as caught:
        yamlio.loads(LAUGHS, "p.yaml")
    line = int(str(caught.value).split(":")[1])
    assert line < LAUGHS.count("\n")  # refused at the alias that crossed the bound, not at the end


def test_ordinary_documents_load_with_lines_and_text_dates() -> None:
    text = (
        "\ufeffversion: 1\n"
        "defaults: &d {level: warning}\n"
        "rules:\n  SL302: *d\n  SL303:\n    <<: *d\n    allowed: [a, b]\n"
        "expires: 2026-12-31\nbad: 2026-13-01\nn: 0x1F\nf: 1.5e3\ns: '1e999'\nbig: '" + "9" * 80 + "'\n"
    )
    document = yamlio.loads(text, "p.yaml")
    assert yamlio.plain(document) == {
        "version": 1,
        "defaults": {"level": "warning"},
        "rules": {"SL302": {"level": "warning"}, "SL303": {"level": "warning", "allowed": ["a", "b"]}},
        "expires": "2026-12-31",
        "bad": "2026-13-01",
        "n": 31,
        "f": 1500.0,
        "s": "1e999",
        "big": "9" * 80,
    }
    assert document.lc.key("rules") == (2, 0)


def test_limits_are_exact() -> None:
    assert yamlio.loads("a: " + "[" * 63 + "]" * 63, "p.yaml") is not None  # 64 levels with the mapping
    assert yamlio.loads("a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(100)), "p.yaml")
    assert yamlio.loads("a: " + "9" * 64, "p.yaml") == {"a": int("9" * 64)}


def test_one_guard_per_document() -> None:
    yaml = yamlio.round_trip()
    text = "a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(60))
    for _ in range(3):  # aliases of earlier documents do not count against later ones
        assert yamlio.loads(text, "p.yaml", yaml=yaml)


def test_round_trip_for_editing_keeps_dates_and_still_guards() -> None:
    yaml = yamlio.round_trip(dates_as_text=False)
    document = yamlio.loads("expires: 2026-12-31\n", "e.yaml", yaml=yaml)
    assert str(document["expires"]) == "2026-12-31" and not isinstance(document["expires"], str)
    with pytest.raises(ConfigError, match=r"^e.yaml: invalid YAML: month must be in 1..12$"):
        yamlio.loads("expires: 2026-13-01\n", "e.yaml", yaml=yamlio.round_trip(dates_as_text=False))
    with pytest.raises(ConfigError, match="more than 100000 values"):
        yamlio.loads(LAUGHS, "e.yaml", yaml=yamlio.round_trip(dates_as_text=False))


def test_files_are_read_regular_bounded_and_utf8(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"policy.yaml: is a FIFO, not a regular file$"):
        yamlio.load(fifo)
    with pytest.raises(ConfigError, match=r"^/dev/zero: is a character device, not a regular file$"):
        yamlio.load(Path("/dev/zero"))
    with pytest.raises(ConfigError, match=r"nope.yaml: no such policy file$"):
        yamlio.load(tmp_path / "nope.yaml", what="policy file")
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * yamlio.MAX_BYTES)
    with pytest.raises(ConfigError, match=r"big.yaml: is 1 MiB, larger than the limit of 1 MiB$"):
        yamlio.load(big)
    utf16 = tmp_path / "u16.yaml"
    utf16.write_bytes("version: 1\n".encode("utf-16"))
    with pytest.raises(ConfigError, match=r"u16.yaml: is not UTF-8 text \(byte 0\)$"):
        yamlio.load(utf16)
    with pytest.raises(OperationalError, match=r"^/proc/self/mem: read failed: Input/output error$"):
        yamlio.load(Path("/proc/self/mem"))
