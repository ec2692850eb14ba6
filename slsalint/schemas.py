"""JSON Schema validation for in-toto statements, SLSA predicates, DSSE envelopes and config files.

The schemas live in ``schemas/`` at the top of the repository (see ``schemas/SOURCES.md`` for the
specification each one follows). Every schema is loaded and compiled once per process; a document is
first checked with the fast ``is_valid`` path and errors are collected only when it fails. Errors
carry an RFC 6901 JSON pointer into the validated document and a one-line message.

``jsonschema`` is imported lazily so that importing this module (and ``slsalint --help``) stays cheap.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = [
    "PREDICATE_SCHEMAS",
    "STATEMENT_SCHEMAS",
    "SchemaError",
    "load_schema",
    "schema_path",
    "statement_errors",
    "validate",
]

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"

STATEMENT_SCHEMAS: dict[str, str] = {
    "https://in-toto.io/Statement/v0.1": "in-toto-statement-v0.1",
    "https://in-toto.io/Statement/v1": "in-toto-statement-v1",
}
"""Statement ``_type`` -> schema name."""

PREDICATE_SCHEMAS: dict[str, str] = {
    "https://slsa.dev/provenance/v0.1": "slsa-provenance-v0.1",
    "https://slsa.dev/provenance/v0.2": "slsa-provenance-v0.2",
    "https://slsa.dev/provenance/v1": "slsa-provenance-v1",
}
"""``predicateType`` -> predicate schema name (other predicate types have no predicate schema)."""

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MAX_VALUE_REPR = 80


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where (JSON pointer into the validated document) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def schema_path(name: str) -> Path:
    """The file of schema ``name`` (e.g. ``slsa-provenance-v0.2`` -> ``schemas/slsa-provenance-v0.2.json``)."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"invalid schema name: {name!r}")
    return SCHEMAS_DIR / f"{name}.json"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (cached; callers must not modify it)."""
    with schema_path(name).open(encoding="utf-8") as handle:
        schema = json.load(handle)
    if not isinstance(schema, dict):
        raise ValueError(f"{schema_path(name)}: a JSON Schema must be an object")
    return schema


@functools.cache
def _validator(name: str) -> Validator:
    from jsonschema.validators import validator_for

    schema = load_schema(name)
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(name: str, document: Any) -> list[SchemaError]:
    """Validate ``document`` against schema ``name``; errors sorted by pointer, without duplicates."""
    validator = _validator(name)
    if validator.is_valid(document):
        return []
    return _collect(validator.iter_errors(document), prefix=())


def statement_errors(statement: Any) -> list[SchemaError]:
    """Validate an in-toto statement and, for SLSA provenance, its predicate.

    The statement schema is chosen by ``_type`` (v0.1 or v1); an unknown or missing ``_type`` is
    one error at ``/_type``. The predicate schema is chosen by ``predicateType``; its errors are
    reported with pointers under ``/predicate``.
    """
    if not isinstance(statement, dict):
        return [SchemaError("", f"{_short_repr(statement)} is not of type 'object'")]
    statement_type = statement.get("_type")
    name = STATEMENT_SCHEMAS.get(statement_type) if isinstance(statement_type, str) else None
    if name is None:
        return [SchemaError("/_type", _type_message(statement))]

    errors = validate(name, statement)
    predicate_type = statement.get("predicateType")
    predicate_schema = PREDICATE_SCHEMAS.get(predicate_type) if isinstance(predicate_type, str) else None
    if predicate_schema is None:
        return errors
    predicate = statement.get("predicate")
    if predicate is None:
        predicate = {}  # unset is the same as set-but-empty
    elif not isinstance(predicate, dict):
        return errors  # the statement schema already reports the type
    validator = _validator(predicate_schema)
    if validator.is_valid(predicate):
        return errors
    predicate_errors = _collect(validator.iter_errors(predicate), prefix=("predicate",))
    if not errors:
        return predicate_errors
    return _sorted_unique([*errors, *predicate_errors])


def _type_message(statement: dict[str, Any]) -> str:
    known = " or ".join(repr(t) for t in STATEMENT_SCHEMAS)
    if "_type" not in statement:
        return f"'_type' is a required property (expected {known})"
    return f"{_short_repr(statement['_type'])} is not a known in-toto Statement type (expected {known})"


def _collect(errors: Any, *, prefix: tuple[str, ...]) -> list[SchemaError]:
    found: dict[tuple[tuple[tuple[int, int | str], ...], str], SchemaError] = {}
    for error in errors:
        path = (*prefix, *error.absolute_path)
        message = _message(error)
        key = (_sort_key(path), message)
        if key not in found:
            found[key] = SchemaError(_pointer(path), message)
    return [found[key] for key in sorted(found)]


def _sorted_unique(errors: list[SchemaError]) -> list[SchemaError]:
    unique = {(e.pointer, e.message): e for e in errors}
    return sorted(unique.values(), key=lambda e: (_pointer_key(e.pointer), e.message))


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _sort_key(path: tuple[Any, ...]) -> tuple[tuple[int, int | str], ...]:
    # Array indexes sort numerically; object keys after indexes at the same depth (never mixed).
    return tuple((0, part) if isinstance(part, int) else (1, str(part)) for part in path)


def _pointer_key(pointer: str) -> tuple[tuple[int, int | str], ...]:
    parts = pointer.split("/")[1:]
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.replace("~1", "/").replace("~0", "~"))
        for part in parts
    )


def _message(error: ValidationError) -> str:
    validator = error.validator
    if validator in ("anyOf", "oneOf"):
        alternatives = error.validator_value
        if isinstance(alternatives, list) and all(
            isinstance(s, dict) and set(s) == {"required"} for s in alternatives
        ):
            names = [repr(n) for s in alternatives for n in s["required"]]
            return f"at least one of {', '.join(names[:-1])} or {names[-1]} is required"
        return f"is not valid under {'any' if validator == 'anyOf' else 'exactly one'} of the given schemas"
    message = error.message
    value = repr(error.instance)
    if len(value) > _MAX_VALUE_REPR and message.startswith(value):
        message = _short_repr(error.instance) + message[len(value) :]
    return " ".join(message.split())


def _short_repr(value: Any) -> str:
    text = repr(value)
    if len(text) <= _MAX_VALUE_REPR:
        return text
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return text[: _MAX_VALUE_REPR - 3] + "..."
