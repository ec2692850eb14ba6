"""A compiled fast path for the JSON Schema subset slsalint's own schemas use.

``compile_schema`` turns a schema into nested closures that answer one question quickly: is this
document certainly valid? It is conservative: any keyword it does not implement makes it answer
"not certain", and a ``False`` answer only means "ask jsonschema". jsonschema stays the source of
truth for every error message and for every document this fast path does not accept, so the fast
path can make validation faster but never make an invalid document pass (tests compare both on
real and mutated documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_SUPPORTED = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$ref",
        "title",
        "description",
        "type",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "const",
        "enum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "pattern",
        "format",
        "anyOf",
        "allOf",
        "uniqueItems",
        "propertyNames",
        "maximum",
        "if",
        "then",
        "else",
        "examples",
        "default",
        "$comment",
    }
)
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


class Unsupported(Exception):
    """The schema uses something the fast path does not implement."""


def _never(_: Any) -> bool:
    return False


def compile_schema(schema: dict[str, Any], format_checker: Any) -> Check:
    """A predicate that returns True only for documents certainly valid against ``schema``.

    ``format_checker`` is a ``jsonschema.FormatChecker``: formats are checked exactly as
    jsonschema checks them. Falls back to "never certain" for schemas it cannot compile.
    """
    try:
        return _Compiler(schema, format_checker).compile(schema)
    except Unsupported:
        return _never


class _Compiler:
    def __init__(self, root: dict[str, Any], format_checker: Any) -> None:
        self.root = root
        self.formats = format_checker
        self.refs: dict[str, Check] = {}

    def resolve(self, ref: str) -> Check:
        if not ref.startswith("#/"):
            raise Unsupported(ref)
        if ref in self.refs:
            return self.refs[ref]
        node: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise Unsupported(ref)
            node = node[part]
        holder: list[Check] = []
        self.refs[ref] = lambda v: holder[0](v)  # recursion-safe placeholder
        holder.append(self.compile(node))
        self.refs[ref] = holder[0]
        return holder[0]

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda _: True
        if not isinstance(schema, dict):
            raise Unsupported("boolean or malformed schema")
        unknown = set(schema) - _SUPPORTED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self.resolve(schema["$ref"]))
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            checks.append(_any_of([_TYPES[k] for k in kinds]))
        if "const" in schema:
            checks.append(_one_of([schema["const"]]))
        if "enum" in schema:
            checks.append(_one_of(list(schema["enum"])))
        if "required" in schema:
            checks.append(_required(list(schema["required"])))
        if "properties" in schema or "additionalProperties" in schema:
            checks.append(self._object(schema))
        if "propertyNames" in schema:
            checks.append(_keys(self.compile(schema["propertyNames"])))
        if "minProperties" in schema:
            checks.append(_min_len(dict, int(schema["minProperties"])))
        if "items" in schema:
            checks.append(_each(self.compile(schema["items"])))
        if "minItems" in schema:
            checks.append(_min_len(list, int(schema["minItems"])))
        if schema.get("uniqueItems"):
            checks.append(_unique)
        if "minLength" in schema:
            checks.append(_min_len(str, int(schema["minLength"])))
        if "minimum" in schema:
            checks.append(_minimum(schema["minimum"]))
        if "pattern" in schema:
            checks.append(_pattern(re.compile(schema["pattern"])))
        if "format" in schema:
            fmt = schema["format"]
            if fmt not in self.formats.checkers:
                raise Unsupported(f"format {fmt}")
            checks.append(_format(self.formats, fmt))
        if "maximum" in schema:
            checks.append(_maximum(schema["maximum"]))
        if "if" in schema:
            checks.append(
                _conditional(
                    self.compile(schema["if"]),
                    self.compile(schema.get("then", True)),
                    self.compile(schema.get("else", True)),
                )
            )
        if "anyOf" in schema:
            checks.append(_any_of([self.compile(s) for s in schema["anyOf"]]))
        if "allOf" in schema:
            checks.append(_all_of([self.compile(s) for s in schema["allOf"]]))
        if not checks:
            return lambda _: True
        return checks[0] if len(checks) == 1 else _all_of(checks)

    def _object(self, schema: dict[str, Any]) -> Check:
        props = {k: self.compile(s) for k, s in (schema.get("properties") or {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_check: Check | None
        if extra is True:
            extra_check = None
        elif extra is False:
            extra_check = _never
        else:
            extra_check = self.compile(extra)

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                test = props.get(key)
                if test is not None:
                    if not test(item):
                        return False
                elif extra_check is not None and not extra_check(item):
                    return False
            return True

        return check


def _unique(value: Any) -> bool:
    if not isinstance(value, list):
        return True
    seen: list[Any] = []
    for item in value:
        if any(item == s and type(item) is type(s) for s in seen):
            return False
        seen.append(item)
    return True


def _any_of(tests: list[Check]) -> Check:
    return lambda v: any(t(v) for t in tests)


def _all_of(tests: list[Check]) -> Check:
    frozen = tuple(tests)
    return lambda v: all(t(v) for t in frozen)


def _one_of(options: list[Any]) -> Check:
    """JSON equality, conservatively: 1 and 1.0 (or True and 1) count as different."""
    return lambda v: any(v == o and type(v) is type(o) for o in options)


def _required(keys: list[str]) -> Check:
    return lambda v: not isinstance(v, dict) or all(k in v for k in keys)


def _keys(test: Check) -> Check:
    return lambda v: not isinstance(v, dict) or all(test(k) for k in v)


def _each(test: Check) -> Check:
    return lambda v: not isinstance(v, list) or all(test(x) for x in v)


def _min_len(kind: type[str] | type[list[Any]] | type[dict[str, Any]], least: int) -> Check:
    def check(value: Any) -> bool:
        return not isinstance(value, kind) or len(value) >= least

    return check


def _minimum(low: Any) -> Check:
    return lambda v: not isinstance(v, (int, float)) or isinstance(v, bool) or v >= low


def _pattern(regex: re.Pattern[str]) -> Check:
    return lambda v: not isinstance(v, str) or regex.search(v) is not None


def _format(checker: Any, fmt: str) -> Check:
    return lambda v: bool(checker.conforms(v, fmt))


def _maximum(high: Any) -> Check:
    return lambda v: not isinstance(v, (int, float)) or isinstance(v, bool) or v <= high


def _conditional(condition: Check, then: Check, otherwise: Check) -> Check:
    """``if``/``then``/``else``. The fast ``if`` may answer False when unsure, so a False answer
    requires both branches to hold: whichever applies really, it has been checked."""

    def check(value: Any) -> bool:
        if condition(value):
            return then(value)
        return then(value) and otherwise(value)

    return check
