"""JSON Schema validation for in-toto statements, SLSA predicates, DSSE envelopes and config files.

The schemas live in ``schemas/`` at the top of the repository, installed as ``slsalint/_schemas``
(``schemas/SOURCES.md`` names the specification each one follows). Every schema is loaded and
compiled once per process. Errors carry an RFC 6901 JSON pointer into the validated document and a
one-line message.

Speed: ``jsonschema`` is exact and explains failures well, but costs several microseconds per keyword
(and close to a second to import with the ``format-nongpl`` extra, which builds an IRI grammar), while
statements are validated on the hot path. So each draft 2020-12 schema is also compiled into a tree of
small closures (the subset of keywords the shipped schemas use; see ``_FastCompiler``) that only
answers "valid or not", using the same format libraries ``jsonschema`` uses. ``jsonschema`` is
imported and run only for documents that predicate rejects, to say why. A schema using a keyword
outside that subset is validated by ``jsonschema`` alone.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.resources import SCHEMAS_DIR

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

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MAX_VALUE_REPR = 80

Check = Callable[[Any], bool]
_PathKey = tuple[tuple[int, int | str], ...]


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
    path = schema_path(name)
    with path.open(encoding="utf-8") as handle:
        schema = json.load(handle)
    if not isinstance(schema, dict):
        raise ValueError(f"{path}: a JSON Schema must be an object")
    return schema


def validate(name: str, document: Any) -> list[SchemaError]:
    """Validate ``document`` against schema ``name``: errors sorted by pointer, without duplicates."""
    return _errors(name, document, ())


def statement_errors(statement: Any) -> list[SchemaError]:
    """Validate an in-toto statement and, for SLSA provenance, its predicate.

    The statement schema is chosen by ``_type`` (v0.1 or v1); an unknown or missing ``_type`` is
    one error at ``/_type``. The predicate schema is chosen by ``predicateType`` (SLSA provenance
    v0.1, v0.2, v1); its errors have pointers under ``/predicate``.
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


_DRAFT_2020_12 = (
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2020-12/schema#",
)


@functools.cache
def _fast(name: str) -> Check | None:
    """The compiled predicate for schema ``name``, or None when it cannot be compiled exactly."""
    schema = load_schema(name)
    if schema.get("$schema") not in _DRAFT_2020_12:
        return None
    return _FastCompiler(schema).compile_root()


@functools.cache
def _validator(name: str) -> Validator:
    from jsonschema.validators import validator_for

    schema = load_schema(name)
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(name: str, document: Any, prefix: tuple[str, ...]) -> list[SchemaError]:
    fast = _fast(name)
    if fast is not None and fast(document):
        return []
    validator = _validator(name)
    if fast is None and validator.is_valid(document):
        return []
    return _collect(validator.iter_errors(document), prefix)


def _type_message(statement: dict[str, Any]) -> str:
    known = " or ".join(repr(t) for t in STATEMENT_SCHEMAS)
    if "_type" not in statement:
        return f"'_type' is a required property (expected {known})"
    return f"{_short_repr(statement['_type'])} is not a known in-toto Statement type (expected {known})"


def _collect(errors: Iterable[ValidationError], prefix: tuple[str, ...]) -> list[SchemaError]:
    found: dict[tuple[_PathKey, str], SchemaError] = {}
    for error in errors:
        path = (*prefix, *error.absolute_path)
        message = _message(error)
        key = (_path_key(path), message)
        if key not in found:
            found[key] = SchemaError(_pointer(path), message)
    return [found[key] for key in sorted(found)]


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


def _message(error: ValidationError) -> str:
    keyword = error.validator
    if keyword in ("anyOf", "oneOf"):
        alternatives = error.validator_value
        if isinstance(alternatives, list) and all(
            isinstance(s, dict) and set(s) == {"required"} for s in alternatives
        ):
            names = [repr(n) for s in alternatives for n in s["required"]]
            listed = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
            return f"at least one of {listed} is required"
        which = "any" if keyword == "anyOf" else "exactly one"
        return f"{_short_repr(error.instance)} is not valid under {which} of the given schemas"
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


# ---------------------------------------------------------------------------------------------------
# Fast path. The compiled predicate must never accept a document jsonschema rejects (it decides
# validity on its own); rejecting one that jsonschema accepts only costs time, because the errors
# then come from jsonschema (and there are none). Anything not implemented exactly raises
# _Unsupported, and the whole schema falls back to jsonschema.

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
    }
)
_KEYWORDS = frozenset(
    {
        "type",
        "const",
        "enum",
        "$ref",
        "format",
        "required",
        "properties",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "anyOf",
        "allOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "propertyNames",
        "uniqueItems",
    }
)
_KNOWN = _KEYWORDS | _ANNOTATIONS


class _Unsupported(Exception):
    """The schema uses something the fast compiler does not implement."""


def _is_integer(value: Any) -> bool:
    # Draft 2020-12: 1.0 is an integer; booleans are never numbers.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SCALARS: dict[str, Check] = {
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}
_CONTAINERS: dict[str, type] = {"object": dict, "array": list, "string": str}


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for c in checks:  # noqa: SIM110 - a plain loop is faster than all() over a generator
            if not c(value):
                return False
        return True

    return check


def _any(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for c in checks:  # noqa: SIM110 - a plain loop is faster than any() over a generator
            if c(value):
                return True
        return False

    return check


def _typed(kind: type, then: Check | None) -> Check:
    """``isinstance(value, kind)``, and then the checks that apply to that kind."""
    if then is None:
        return lambda v: isinstance(v, kind)
    return lambda v: isinstance(v, kind) and then(v)


def _guarded(kind: type, then: Check) -> Check:
    """The checks that apply to ``kind`` for values of that kind; true for anything else."""
    return lambda v: not isinstance(v, kind) or then(v)


def _size(limit: Any, *, at_least: bool) -> Check:
    if not _is_integer(limit):
        raise _Unsupported
    if at_least:
        return lambda v: len(v) >= limit
    return lambda v: len(v) <= limit


def _nonempty_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _Unsupported
    return value


class _FastCompiler:
    """Compiles a draft 2020-12 schema (a subset of keywords, local ``$ref`` only) into a predicate."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}
        self.formats: dict[str, Check] = {}

    def compile_root(self) -> Check | None:
        try:
            return self.compile(self.root, is_root=True)
        except (_Unsupported, re.error):
            return None

    def compile(self, schema: Any, *, is_root: bool = False) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict) or ("$id" in schema and not is_root):
            raise _Unsupported
        if not _KNOWN.issuperset(schema):
            raise _Unsupported

        by_kind: dict[str, list[Check]] = {"object": [], "array": [], "string": []}
        if "required" in schema:
            by_kind["object"].append(self._required(schema["required"]))
        if "properties" in schema or "additionalProperties" in schema:
            by_kind["object"].append(self._properties(schema))
        if "propertyNames" in schema:
            by_kind["object"].append(self._property_names(schema["propertyNames"]))
        if "minProperties" in schema:
            by_kind["object"].append(_size(schema["minProperties"], at_least=True))
        if "maxProperties" in schema:
            by_kind["object"].append(_size(schema["maxProperties"], at_least=False))
        if "items" in schema:
            by_kind["array"].append(self._items(schema["items"]))
        if "minItems" in schema:
            by_kind["array"].append(_size(schema["minItems"], at_least=True))
        if "maxItems" in schema:
            by_kind["array"].append(_size(schema["maxItems"], at_least=False))
        if schema.get("uniqueItems", False) is not False:
            by_kind["array"].append(self._unique(schema["uniqueItems"]))
        if "minLength" in schema:
            by_kind["string"].append(_size(schema["minLength"], at_least=True))
        if "maxLength" in schema:
            by_kind["string"].append(_size(schema["maxLength"], at_least=False))
        if "pattern" in schema:
            if not isinstance(schema["pattern"], str):
                raise _Unsupported
            search = re.compile(schema["pattern"]).search
            by_kind["string"].append(lambda v: search(v) is not None)

        other: list[Check] = []
        if "const" in schema:
            other.append(self._const([schema["const"]]))
        if "enum" in schema:
            other.append(self._const(schema["enum"]))
        if "$ref" in schema:
            other.append(self._ref(schema["$ref"]))
        if "format" in schema:
            other.append(self._format(schema["format"]))
        for keyword in ("minimum", "maximum"):
            if keyword in schema:
                other.append(self._bound(keyword, schema[keyword]))
        if "anyOf" in schema:
            other.append(_any([self.compile(s) for s in _nonempty_list(schema["anyOf"])]))
        if "allOf" in schema:
            other.append(_all([self.compile(s) for s in _nonempty_list(schema["allOf"])]))
        if "oneOf" in schema:
            options = [self.compile(s) for s in _nonempty_list(schema["oneOf"])]
            other.append(lambda v: sum(1 for o in options if o(v)) == 1)
        if "not" in schema:
            negated = self.compile(schema["not"])
            other.append(lambda v: not negated(v))
        if "if" in schema:
            other.append(self._conditional(schema))

        specific = {kind: _all(checks) for kind, checks in by_kind.items() if checks}
        if "type" in schema:
            other.insert(0, self._type(schema["type"], specific))
        else:
            other[:0] = [_guarded(_CONTAINERS[kind], check) for kind, check in specific.items()]
        return _all(other)

    @staticmethod
    def _type(declared: Any, specific: dict[str, Check]) -> Check:
        """The ``type`` check merged with the checks that only apply to the declared types."""
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or not names:
            raise _Unsupported
        tests: list[Check] = []
        for name in names:
            if name in _CONTAINERS:
                tests.append(_typed(_CONTAINERS[name], specific.get(name)))
            elif name in _SCALARS:
                tests.append(_SCALARS[name])
            else:
                raise _Unsupported
        if len(tests) == 2 and "null" in names:
            test = tests[1 - names.index("null")]
            return lambda v: v is None or test(v)
        return _any(tests)

    @staticmethod
    def _const(values: Any) -> Check:
        # jsonschema's equality: strings by value, 1 == 1.0, booleans only equal booleans. Arrays and
        # objects are not supported here.
        if not isinstance(values, list):
            raise _Unsupported
        strings: set[str] = set()
        numbers: set[int | float] = set()
        singletons: list[bool | None] = []
        for value in values:
            if isinstance(value, str):
                strings.add(value)
            elif value is None or isinstance(value, bool):
                singletons.append(value)
            elif _is_number(value):
                numbers.add(value)
            else:
                raise _Unsupported
        if not numbers and not singletons:
            allowed = frozenset(strings)
            return lambda v: isinstance(v, str) and v in allowed

        def check(value: Any) -> bool:
            if isinstance(value, str):
                return value in strings
            if value is None or isinstance(value, bool):
                return any(value is s for s in singletons)
            return _is_number(value) and value in numbers

        return check

    @staticmethod
    def _unique(flag: Any) -> Check:
        if flag is not True:
            raise _Unsupported
        # Exact for strings; anything else is reported as "maybe not unique" so that jsonschema,
        # with its own equality rules, decides.
        return lambda v: all(isinstance(x, str) for x in v) and len(set(v)) == len(v)

    def _property_names(self, schema: Any) -> Check:
        name = self.compile(schema)
        return lambda v: all(name(key) for key in v)

    @staticmethod
    def _required(names: Any) -> Check:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _Unsupported
        if len(names) == 1:
            only = names[0]
            return lambda v: only in v

        def check(value: dict[str, Any]) -> bool:
            for name in names:  # noqa: SIM110 - a plain loop is faster than all() over a generator
                if name not in value:
                    return False
            return True

        return check

    def _properties(self, schema: dict[str, Any]) -> Check:
        declared = schema.get("properties", {})
        if not isinstance(declared, dict):
            raise _Unsupported
        properties = {key: self.compile(sub) for key, sub in declared.items()}
        extra = schema.get("additionalProperties", True)
        if extra is True:
            size = len(properties)

            def check(value: dict[str, Any]) -> bool:
                # Walk whichever side is smaller: plain loops, faster than all() over a generator.
                if len(value) < size:
                    for key, item in value.items():
                        test = properties.get(key)
                        if test is not None and not test(item):
                            return False
                    return True
                for key, test in properties.items():  # noqa: SIM110
                    if key in value and not test(value[key]):
                        return False
                return True

            return check
        other = self.compile(extra)

        def check_every(value: dict[str, Any]) -> bool:
            for key, item in value.items():  # noqa: SIM110 - faster than all() here
                if not properties.get(key, other)(item):
                    return False
            return True

        return check_every

    def _items(self, schema: Any) -> Check:
        item = self.compile(schema)

        def check(value: list[Any]) -> bool:
            for element in value:  # noqa: SIM110 - a plain loop is faster than all() over a generator
                if not item(element):
                    return False
            return True

        return check

    def _ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise _Unsupported
        if ref not in self.refs:
            target: Any = self.root
            for token in ref[1:].split("/")[1:]:
                token = token.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or token not in target:
                    raise _Unsupported
                target = target[token]
            compiled: list[Check] = []
            self.refs[ref] = lambda v: compiled[0](v)  # stands in while a recursive schema compiles
            compiled.append(self.compile(target, is_root=target is self.root))
            self.refs[ref] = compiled[0]
        return self.refs[ref]

    def _format(self, name: Any) -> Check:
        if not isinstance(name, str):
            raise _Unsupported
        if name not in self.formats:
            test = _format_test(name)
            # The same values (predicate types, build types, builder ids, repository URIs) recur
            # across statements and an RFC 3986 check costs microseconds: remember recent results.
            cached = functools.lru_cache(maxsize=4096)(test)
            self.formats[name] = lambda v: not isinstance(v, str) or cached(v)
        return self.formats[name]

    @staticmethod
    def _bound(keyword: str, limit: Any) -> Check:
        if not _is_number(limit):
            raise _Unsupported
        if keyword == "minimum":
            return lambda v: not _is_number(v) or v >= limit
        return lambda v: not _is_number(v) or v <= limit

    def _conditional(self, schema: dict[str, Any]) -> Check:
        condition = self.compile(schema["if"])
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)


def _format_test(name: str) -> Callable[[str], bool]:
    """The check ``jsonschema``'s draft 2020-12 format checker runs for ``name``, for strings.

    Only the formats the shipped schemas use, and only with the libraries the ``format-nongpl``
    extra installs; any other set-up is left to ``jsonschema`` (``_Unsupported``).
    """
    if name in ("uri", "uri-reference"):
        if importlib.util.find_spec("rfc3987") is not None:  # jsonschema would prefer it
            raise _Unsupported
        validate_rfc3986 = _optional("rfc3986_validator", "validate_rfc3986")
        rule = "URI" if name == "uri" else "URI_reference"
        return lambda v: bool(validate_rfc3986(v, rule=rule))
    if name == "date-time":
        validate_rfc3339 = _optional("rfc3339_validator", "validate_rfc3339")
        return lambda v: bool(validate_rfc3339(v.upper()))
    raise _Unsupported


def _optional(module: str, attribute: str) -> Any:
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        raise _Unsupported from None
