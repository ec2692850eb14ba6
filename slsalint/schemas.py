"""JSON Schema validation for in-toto statements, SLSA predicates, DSSE envelopes and config files.

The schemas live in ``schemas/`` at the top of the repository, installed as ``slsalint/_schemas``
(``schemas/SOURCES.md`` names the specification each one follows). Every schema is compiled once
per process by ``jsonschema-rs`` (a compiled draft 2020-12 validator: statements are validated on
the hot path, a few microseconds each). Validation never touches the network: a ``$ref`` that is
not inside the schema itself fails when the schema is compiled.

Errors carry an RFC 6901 JSON pointer into the validated document and a one-line message, worded
as the ``jsonschema`` reference implementation words it (``'id' is a required property``, ``42 is
not of type 'string'``), with Python reprs of the offending values shortened to one short line.

Two deliberate differences from ``jsonschema``: ``pattern`` follows ECMA-262 as the specification
says, so ``$`` does not match before a trailing newline (``"abc\\n"`` does not match ``^[a-c]*$``);
and a value that is not JSON (a YAML date, ``.nan``) is an error wherever it appears.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.resources import SCHEMAS_DIR

if TYPE_CHECKING:
    import jsonschema_rs

__all__ = [
    "PREDICATE_SCHEMAS",
    "STATEMENT_SCHEMAS",
    "SchemaError",
    "is_format",
    "load_schema",
    "schema_path",
    "statement_errors",
    "validate",
    "validate_with",
]


STATEMENT_SCHEMAS: dict[str, str] = {
    "https://in-toto.io/Statement/v0.1": "in-toto-statement-v0.1",
    "https://in-toto.io/Statement/v1": "in-toto-statement-v1",
}
"""Statement ``_type`` -> schema name."""

PREDICATE_SCHEMAS: dict[str, str] = {
    "https://slsa.dev/provenance/v0.1": "slsa-provenance-v0.1",
    "https://slsa.dev/provenance/v0.2": "slsa-provenance-v0.2",
    "https://slsa.dev/provenance/v1": "slsa-provenance-v1",
    "https://slsa.dev/verification_summary/v1": "vsa-v1",
}
"""``predicateType`` -> predicate schema name (other predicate types have no predicate schema)."""

SCHEMA_LIMIT = 8 * 1024 * 1024
"""Largest schema file read (the shipped ones are a few KiB)."""
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MAX_VALUE_REPR = 80

_PathKey = tuple[tuple[int, int | str], ...]
_Path = tuple[int | str, ...]


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where (JSON pointer into the validated document) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def schema_path(name: str) -> Path:
    """The file of schema ``name``: ``slsa-provenance-v0.2`` -> ``schemas/slsa-provenance-v0.2.json``."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"invalid schema name: {name!r}")
    return SCHEMAS_DIR / f"{name}.json"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (cached: callers must not modify it)."""
    from slsalint import fileio, jsonio

    path = schema_path(name)
    try:
        schema = jsonio.loads(fileio.read_bytes(path, limit=SCHEMA_LIMIT))
    except fileio.FileReadError as exc:
        if exc.reason == "missing":
            raise FileNotFoundError(f"no schema named {name!r} ({exc})") from None
        raise ValueError(f"shipped schema {exc}") from None
    except jsonio.JSONError as exc:
        raise ValueError(f"shipped schema {path}: {exc}") from None
    if not isinstance(schema, dict):
        raise ValueError(f"{path}: a JSON Schema must be an object")
    return schema


def validate(name: str, document: Any) -> list[SchemaError]:
    """Validate ``document`` against schema ``name``: errors sorted by pointer, without duplicates.

    ``document`` may come from YAML: mapping and string subclasses are read as JSON objects and
    strings, and any value JSON cannot hold is an error at its pointer."""
    return _checked(load_schema(name), _compiled(name), document, ())


def validate_with(schema: Mapping[str, Any], document: Any) -> list[SchemaError]:
    """Like ``validate``, against a schema given as a value (a rule's options schema); the
    compiled form is kept per distinct schema."""
    text = json.dumps(schema, sort_keys=True)
    return _checked(json.loads(text), _compiled_text(text), document, ())


def is_format(name: str, value: str) -> bool:
    """Whether ``value`` is a valid JSON Schema ``format`` ``name`` (``uri``, ``date-time``...),
    judged as the schemas judge it."""
    return _compiled_text(json.dumps({"format": name})).is_valid(value)


def statement_errors(statement: Any) -> list[SchemaError]:
    """Validate an in-toto statement and, for SLSA provenance, its predicate.

    The statement schema is chosen by ``_type`` (v0.1 or v1); an unknown or missing ``_type`` is
    one error at ``/_type``. The predicate schema is chosen by ``predicateType`` (SLSA provenance
    v0.1, v0.2, v1); its errors have pointers under ``/predicate``. ``statement`` is a value read
    by ``slsalint.jsonio`` (plain JSON types).
    """
    if not isinstance(statement, dict):
        return [SchemaError("", f"{_short_repr(statement)} is not of type 'object'")]
    statement_type = statement.get("_type")
    name = STATEMENT_SCHEMAS.get(statement_type) if isinstance(statement_type, str) else None
    if name is None:
        return [SchemaError("/_type", _type_message(statement))]

    errors = _errors(name, statement, ())
    predicate_type = statement.get("predicateType")
    predicate_schema = PREDICATE_SCHEMAS.get(predicate_type) if isinstance(predicate_type, str) else None
    if predicate_schema is None:
        return errors
    predicate = statement.get("predicate")
    if predicate is None:
        predicate = {}  # unset is the same as set-but-empty
    elif not isinstance(predicate, dict):
        return errors  # the statement schema reports the wrong type
    predicate_errors = _errors(predicate_schema, predicate, ("predicate",))
    if not predicate_errors:
        return errors
    if not errors:
        return predicate_errors
    unique = {(e.pointer, e.message): e for e in [*errors, *predicate_errors]}
    return sorted(unique.values(), key=lambda e: (_pointer_key(e.pointer), e.message))


# ---------------------------------------------------------------------------------------------------
# Compilation


def _compile(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    import jsonschema_rs

    # The linear-time regex engine: a pattern in a schema can never take exponential time.
    return jsonschema_rs.validator_for(
        schema,
        validate_formats=True,
        ignore_unknown_formats=False,
        pattern_options=jsonschema_rs.RegexOptions(),
        offline=True,
    )


@functools.cache
def _compiled(name: str) -> jsonschema_rs.Validator:
    return _compile(load_schema(name))


@functools.lru_cache(maxsize=256)
def _compiled_text(text: str) -> jsonschema_rs.Validator:
    return _compile(json.loads(text))


def _errors(name: str, document: Any, prefix: _Path) -> list[SchemaError]:
    """The errors of a value read by ``slsalint.jsonio`` (plain JSON types)."""
    validator = _compiled(name)
    try:
        if validator.is_valid(document):
            return []
    except ValueError:  # a type jsonschema-rs cannot read: not what jsonio returns, but be exact
        return _checked(load_schema(name), validator, document, prefix)
    return _collect(load_schema(name), validator, document, document, prefix, [])


def _checked(
    schema: dict[str, Any], validator: jsonschema_rs.Validator, document: Any, prefix: _Path
) -> list[SchemaError]:
    problems: list[tuple[_Path, str]] = []
    plain = _json_value(document, (), problems)
    if not problems and validator.is_valid(plain):
        return []
    return _collect(schema, validator, plain, document, prefix, problems)


def _json_value(value: Any, path: _Path, problems: list[tuple[_Path, str]]) -> Any:
    """``value`` as plain JSON types; what JSON cannot hold is noted in ``problems`` and read as
    null (so the schema still judges everything around it)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):  # a bool subclass
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append((path, f"{_short_repr(value)} is not a JSON number"))
            return None
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append((path, f"key {_short_repr(key)} is not a string"))
                continue
            out[str(key)] = _json_value(item, (*path, str(key)), problems)
        return out
    if isinstance(value, list | tuple):
        return [_json_value(item, (*path, index), problems) for index, item in enumerate(value)]
    problems.append((path, f"{_short_repr(value)} is not a JSON value"))
    return None


# ---------------------------------------------------------------------------------------------------
# Errors: pointers and messages


def _collect(
    schema: dict[str, Any],
    validator: jsonschema_rs.Validator,
    plain: Any,
    document: Any,
    prefix: _Path,
    problems: list[tuple[_Path, str]],
) -> list[SchemaError]:
    found: dict[tuple[_PathKey, str], SchemaError] = {}
    described = [_describe(schema, error, document) for error in validator.iter_errors(plain)]
    for path, message in [*problems, *described]:
        full = (*prefix, *path)
        key = (_path_key(full), message)
        if key not in found:
            found[key] = SchemaError(_pointer(full), " ".join(message.split()))
    return [found[key] for key in sorted(found)]


def _describe(
    schema: dict[str, Any], error: jsonschema_rs.ValidationError, document: Any
) -> tuple[_Path, str]:
    """(instance path, message) of one error, the message worded as ``jsonschema`` words it."""
    import jsonschema_rs

    path: _Path = tuple(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        # The name of a property failed a keyword: reported at the object, about the name.
        inner = kind.error
        return path, _message(schema, inner, inner.instance)
    return path, _message(schema, error, _at(document, path))


_SIZE_WORDS = {
    "minLength": (1, "should be non-empty", "is too short"),
    "minItems": (1, "should be non-empty", "is too short"),
    "minProperties": (1, "should be non-empty", "does not have enough properties"),
    "maxLength": (0, "is expected to be empty", "is too long"),
    "maxItems": (0, "is expected to be empty", "is too long"),
    "maxProperties": (0, "is expected to be empty", "has too many properties"),
}
_BOUND_WORDS = {
    "minimum": "is less than the minimum of",
    "maximum": "is greater than the maximum of",
    "exclusiveMinimum": "is less than or equal to the minimum of",
    "exclusiveMaximum": "is greater than or equal to the maximum of",
}


def _message(schema: dict[str, Any], error: jsonschema_rs.ValidationError, instance: Any) -> str:
    from jsonschema_rs import ValidationErrorKind as Kind

    kind = error.kind
    location = tuple(error.schema_path)
    keyword = location[-1] if location else ""
    value = _at(schema, location)
    shown = _short_repr(instance)
    if isinstance(kind, Kind.Type):
        types = [value] if isinstance(value, str) else value if isinstance(value, list) else kind.types
        return f"{shown} is not of type {', '.join(repr(t) for t in types)}"
    if isinstance(kind, Kind.Required):
        if keyword == "dependentRequired" and isinstance(value, dict) and isinstance(instance, dict):
            for present, needs in value.items():
                if present in instance and kind.property in needs:
                    return f"{kind.property!r} is a dependency of {present!r}"
        return f"{kind.property!r} is a required property"
    if isinstance(kind, Kind.AdditionalProperties):
        extras = sorted(kind.unexpected, key=str)
        verb = "was" if len(extras) == 1 else "were"
        listed = ", ".join(repr(e) for e in extras)
        return f"Additional properties are not allowed ({listed} {verb} unexpected)"
    if isinstance(kind, Kind.AnyOf):
        return _alternatives_message(value, instance, "any")
    if isinstance(kind, Kind.OneOfNotValid | Kind.OneOfMultipleValid):
        return _alternatives_message(value, instance, "exactly one")
    if isinstance(keyword, str) and keyword in _SIZE_WORDS and isinstance(value, int):
        limit, at_limit, otherwise = _SIZE_WORDS[keyword]
        return f"{shown} {at_limit if value == limit else otherwise}"
    if isinstance(keyword, str) and keyword in _BOUND_WORDS:
        return f"{shown} {_BOUND_WORDS[keyword]} {value!r}"
    if isinstance(kind, Kind.Constant):
        return f"{value!r} was expected"
    if isinstance(kind, Kind.Enum):
        return f"{shown} is not one of {value!r}"
    if isinstance(kind, Kind.Format):
        return f"{shown} is not a {value!r}"
    if isinstance(kind, Kind.Pattern):
        return f"{shown} does not match {value!r}"
    if isinstance(kind, Kind.UniqueItems):
        return f"{shown} has non-unique elements"
    if isinstance(kind, Kind.Not):
        return f"{shown} should not be valid under {value!r}"
    if isinstance(kind, Kind.FalseSchema):
        return f"False schema does not allow {shown}"
    if isinstance(kind, Kind.MultipleOf):
        return f"{shown} is not a multiple of {value}"
    if isinstance(kind, Kind.Contains):
        return f"{shown} does not contain items matching the given schema"
    return error.message


def _alternatives_message(alternatives: Any, instance: Any, which: str) -> str:
    if (
        isinstance(alternatives, list)
        and alternatives
        and all(isinstance(s, dict) and set(s) == {"required"} for s in alternatives)
    ):
        names = [repr(n) for s in alternatives for n in s["required"]]
        listed = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        return f"at least one of {listed} is required"
    return f"{_short_repr(instance)} is not valid under {which} of the given schemas"


def _at(value: Any, path: Iterable[int | str]) -> Any:
    """The value at ``path`` inside ``value`` (None where the path leads nowhere)."""
    for part in path:
        if isinstance(value, Mapping):
            if part not in value:
                return None
        elif not (isinstance(value, list | tuple) and isinstance(part, int) and 0 <= part < len(value)):
            return None
        value = value[part]
    return value


def _type_message(statement: dict[str, Any]) -> str:
    known = " or ".join(repr(t) for t in STATEMENT_SCHEMAS)
    if "_type" not in statement:
        return f"'_type' is a required property (expected {known})"
    return f"{_short_repr(statement['_type'])} is not a known in-toto Statement type (expected {known})"


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _path_key(path: Iterable[Any]) -> _PathKey:
    # Array indexes sort numerically; at one depth under one parent the parts are all of one kind.
    return tuple((0, part) if isinstance(part, int) else (1, str(part)) for part in path)


def _pointer_key(pointer: str) -> _PathKey:
    parts = pointer.split("/")[1:]
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.replace("~1", "/").replace("~0", "~"))
        for part in parts
    )


def _short_repr(value: Any) -> str:
    text = repr(value)
    if len(text) <= _MAX_VALUE_REPR:
        return text
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return text[: _MAX_VALUE_REPR - 3] + "..."
