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

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (real attestations, bundles, manifests and
SBOMs stay under 20)."""
MAX_INT_DIGITS = 64
"""Longest integer literal accepted, in digits."""


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""Where a lone surrogate could come from (a valid pair is checked like the rest)."""


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
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONError(f"integer of {len(text.lstrip('-'))} digits is too long")
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


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests arrays and objects more than ``limit`` levels deep (iterative)."""
    if type(value) is not dict and type(value) is not list:
        return False
    level = [value]
    for _ in range(limit):
        deeper: list[Any] = []
        keep = deeper.append
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    keep(child)
        if not deeper:
            return False
        level = deeper
    return True


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
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    except UnicodeDecodeError as exc:
        raise JSONError(f"not UTF-8 text (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise JSONError("starts with a byte order mark (JSON must not)")
    try:
        value = json.loads(
            text,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
            object_pairs_hook=_unique if unique_keys else None,
        )
    except JSONError:
        raise
    except json.JSONDecodeError as exc:
        problem = exc.msg.removesuffix(" at")  # "Unterminated string starting at" + the position
        raise JSONError(f"not valid JSON: {problem} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JSONError(f"not acceptable JSON: nested more than {max_depth} levels deep") from None
    except ValueError as exc:  # e.g. an integer past the interpreter's digit limit
        raise JSONError(f"not acceptable JSON: {exc}") from None
    if depth_exceeds(value, max_depth):
        raise JSONError(f"not acceptable JSON: nested more than {max_depth} levels deep")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
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
