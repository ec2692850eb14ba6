"""The one JSON reader for documents from outside (evidence, manifests, registry answers, files).

JSON from outside is read strictly and bounded, whatever carries it:

- ``NaN``, ``Infinity``, ``-Infinity`` and numbers that overflow a double (``1e999``) are refused:
  they are not JSON (RFC 8259) and they compare unequal to themselves, which lets a crafted value
  slip past a policy.
- Nesting is bounded (``MAX_DEPTH``), so no later walk over the value can exhaust the stack.
- Integers are bounded in length (``MAX_INT_DIGITS``).
- Strings (and keys) holding a lone UTF-16 surrogate (``"\\ud800"``) are refused: they are not
  text, and writing them into a report would fail.
- A byte order mark is refused (RFC 8259 forbids sending one).
- Duplicate object keys are refused where asked (every signed payload), so a verifier and a policy
  cannot read two different values from one signed document.

Every failure is a ``JSONError`` (a ``ValueError``) with one line saying what is wrong; callers add
the name of the document.
"""

from __future__ import annotations

import gc
import json
import math
import re
from itertools import compress
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (real attestations, bundles, manifests and
SBOMs stay under 20)."""
MAX_INT_DIGITS = 64
"""Longest integer literal accepted, in digits."""


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""Where a lone surrogate could come from (a valid pair is checked like the rest)."""
_ESCAPES_LOOKED_AT = 16


def escape_matches(data: bytes, pattern: re.Pattern[bytes]) -> bool:
    """Whether ``pattern`` (which starts with a backslash) matches somewhere in ``data``, as
    ``pattern.search(data)`` says; the first backslashes are found with ``bytes.find`` (a memchr)
    and only there is the pattern tried, which is faster than the regex's own scan of the text
    when escapes are rare, as in real documents."""
    at = data.find(b"\\")
    for _ in range(_ESCAPES_LOOKED_AT):
        if at < 0:
            return False
        if pattern.match(data, at):
            return True
        at = data.find(b"\\", at + 1)
    return at >= 0 and pattern.search(data, at) is not None


class JSONError(ValueError):
    """A document is not acceptable JSON; ``str()`` is one line."""


def _constant(name: str) -> Any:
    raise JSONError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONError(f"number {text[:40]} is out of range")
    return value


def _int(text: str) -> int:
    if len(text) <= MAX_INT_DIGITS:  # the common case, decided without counting the sign
        return int(text)
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise JSONError(f"integer of {digits} digits is too long")
    return int(text)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONError(f"duplicate JSON key {key!r}")
            seen.add(key)
    return out


_CONTAINER_TYPES = frozenset({dict, list})
_is_container_type = _CONTAINER_TYPES.__contains__


def _tracking_marks_every_parent() -> bool:
    """Whether the interpreter's garbage collector tracks every list, and every dict holding a
    list or dict, as CPython does: then the containers that have containers inside are found among
    the tracked objects, without a Python-level test per value."""
    probe = json.loads('{"a": {"b": {}}, "c": [[1]], "d": {"e": [{}]}}')
    parents = [probe, probe["a"], probe["c"], probe["c"][0], probe["d"], probe["d"]["e"]]
    return all(gc.is_tracked(p) for p in parents)


_TRACKED_PARENTS = _tracking_marks_every_parent()


def _scalars_list_no_referents() -> bool:
    """Whether the collector lists no children of the scalars the JSON reader makes, as in
    CPython (strings, numbers, booleans and null are not objects it looks into)."""
    scalars = json.loads('["s", "\\u00e9\\ud83d\\ude00", 1, 123456789012345678901234567890, 1.5, true, null]')
    return not gc.get_referents(*scalars)


_SCALARS_UNLISTED = _scalars_list_no_referents()


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests arrays and objects more than ``limit`` levels deep (iterative)."""
    return _too_deep(value, limit, parsed=False)


def _too_deep(value: Any, limit: int, *, parsed: bool) -> bool:
    """``depth_exceeds``. Level by level, the interpreter lists the children of the containers at
    one depth (``gc.get_referents``) and only the containers that hold containers themselves
    (which CPython's collector tracks) are followed, so no Python code runs per scalar or per leaf
    object; the last level is tested by type. ``parsed``: ``value`` was just built by the JSON
    reader, so its only containers are arrays and objects (walked faster, see below)."""
    if type(value) is not dict and type(value) is not list:
        return False
    if limit < 1:
        return True
    level: list[Any] = [value]
    referents = gc.get_referents
    if parsed and _SCALARS_UNLISTED:
        # Arrays and objects are the only objects in it the collector lists children of, so
        # every value one level down is listed (scalars add nothing) without a test per value;
        # the value nests more than ``limit`` levels when a container sits below ``limit`` levels.
        for _ in range(limit):
            level = referents(*level)
            if not level:
                return False
        return any(map(_is_container_type, map(type, level)))
    is_tracked = gc.is_tracked
    for _ in range(limit - 1):
        children = referents(*level)
        if _TRACKED_PARENTS:
            level = list(filter(is_tracked, children))
            if all(map(_is_container_type, map(type, level))):
                if not level:
                    return False
                continue
        # Not CPython's collector, or not a JSON value: test every child by type.
        level = list(compress(children, map(_is_container_type, map(type, children))))
        if not level:
            return False
    return any(map(_is_container_type, map(type, referents(*level))))


_DIGIT_MASK = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
"""Translation table: ASCII digits to ``0``, every other byte to a space."""
_STRIDE = 4
_SAMPLED_RUN = b"0" * ((MAX_INT_DIGITS + 1) // _STRIDE)
_FULL_RUN = b"0" * (MAX_INT_DIGITS + 1)


def _may_hold_long_integer(data: bytes) -> bool:
    """False when ``data`` has no run of more than ``MAX_INT_DIGITS`` digits (so no integer
    literal that long); True when it may. A run of 65 digits covers at least 16 consecutive bytes
    of every 4th byte, so those are looked at first, and the whole text only when they show such
    a streak (hexadecimal digests almost never do)."""
    if _SAMPLED_RUN not in data[::_STRIDE].translate(_DIGIT_MASK):
        return False
    return _FULL_RUN in data.translate(_DIGIT_MASK)


def _decoder(*, checked_integers: bool, unique_keys: bool) -> json.JSONDecoder:
    return json.JSONDecoder(
        parse_constant=_constant,
        parse_float=_float,
        parse_int=_int if checked_integers else None,
        object_pairs_hook=_unique if unique_keys else None,
    )


_DECODERS = {
    (checked, unique): _decoder(checked_integers=checked, unique_keys=unique)
    for checked in (False, True)
    for unique in (False, True)
}
"""Built once: a decoder keeps no state between documents (like ``json.loads``'s own default
decoder, they are shared by every thread). Integers are checked one by one only in documents
that may hold a long one."""


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string or key anywhere in ``value`` is not encodable text (iterative)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif kind is dict:
            pending.extend(item.keys())
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
    return False


def loads(data: bytes | str, *, unique_keys: bool = False, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON document strictly (see the module documentation); raises ``JSONError``."""
    literal_surrogate = False
    if isinstance(data, bytes | bytearray):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"not UTF-8 text (byte {exc.start})") from None
        raw = bytes(data)
    else:
        text = data
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:  # a str holding a surrogate code point itself, not escaped
            raw = data.encode("utf-8", "surrogatepass")
            literal_surrogate = True
    if text.startswith("\ufeff"):
        raise JSONError("starts with a byte order mark (JSON must not)")
    try:
        value = _DECODERS[_may_hold_long_integer(raw), unique_keys].decode(text)
    except JSONError:
        raise
    except json.JSONDecodeError as exc:
        problem = exc.msg.removesuffix(" at")  # "Unterminated string starting at" + the position
        raise JSONError(f"not valid JSON: {problem} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JSONError(f"not acceptable JSON: nested more than {max_depth} levels deep") from None
    except ValueError as exc:  # e.g. an integer past the interpreter's digit limit
        raise JSONError(f"not acceptable JSON: {exc}") from None
    if _too_deep(value, max_depth, parsed=True):
        raise JSONError(f"not acceptable JSON: nested more than {max_depth} levels deep")
    # A lone surrogate comes from a \\u escape (UTF-8 text cannot hold one), or from a str.
    if (literal_surrogate or escape_matches(raw, _SURROGATE_ESCAPE)) and _has_lone_surrogate(value):
        raise JSONError("not acceptable JSON: a string holds a lone UTF-16 surrogate")
    return value


def load_object(data: bytes | str, *, unique_keys: bool = False) -> dict[str, Any]:
    """Like ``loads``, and the document must be a JSON object."""
    value = loads(data, unique_keys=unique_keys)
    if not isinstance(value, dict):
        kind = type_name(value)
        raise JSONError(f"not a JSON object ({'an' if kind[0] in 'aeiou' else 'a'} {kind})")
    return value


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages (``object``, ``array``, ``string``, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"
