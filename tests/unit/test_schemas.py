"""Schemas for in-toto statements, SLSA provenance and DSSE envelopes, and the validation module.

Real documents from the corpus (tests/assets/corpus) must validate; broken ones must fail with the
JSON pointer of the offending value and a recognisable message.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import re
import subprocess
import sys
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from slsalint import schemas
from slsalint.schemas import (
    SchemaError,
    load_schema,
    schema_path,
    statement_errors,
    validate,
    validate_with,
)

OWN_SCHEMAS = [
    "in-toto-statement-v0.1",
    "in-toto-statement-v1",
    "slsa-provenance-v0.1",
    "slsa-provenance-v0.2",
    "slsa-provenance-v1",
    "dsse-envelope",
]
IN_TOTO = "application/vnd.in-toto+json"
DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
SHA = "a" * 64
COMMIT = "4d329c75e7ec1725f7c9ce917a8799d408d06be3"


# ------------------------------------------------------------------------------ sample documents


def v02_statement() -> dict[str, Any]:
    """A BuildKit-shaped in-toto v0.1 statement with an SLSA v0.2 predicate (mode=max)."""
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/example/app@v1?platform=linux%2Famd64", "digest": {"sha256": SHA}}],
        "predicate": {
            "builder": {"id": "https://github.com/example/app/actions/runs/1"},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [
                {"uri": "pkg:docker/golang@1.21?platform=linux%2Famd64", "digest": {"sha256": "b" * 64}},
                {"uri": f"https://github.com/example/app.git#{COMMIT}", "digest": {"sha1": COMMIT}},
            ],
            "invocation": {
                "configSource": {
                    "uri": f"https://github.com/example/app.git#{COMMIT}",
                    "digest": {"sha1": COMMIT},
                    "entryPoint": "Dockerfile",
                },
                "parameters": {"frontend": "dockerfile.v0", "args": {"build-arg:VERSION": "1.2.3"}},
                "environment": {"platform": "linux/amd64"},
            },
            "buildConfig": {"llbDefinition": [{"id": "step0", "op": {"Op": {"source": {}}}}]},
            "metadata": {
                "buildInvocationID": "i2zs9o1wwh74vxm7k1kobli75",
                "buildStartedOn": "2025-02-25T21:57:06.800879795Z",
                "buildFinishedOn": "2025-02-25T21:57:29.66049539Z",
                "completeness": {"parameters": True, "environment": True, "materials": False},
                "reproducible": False,
                "https://mobyproject.org/buildkit@v1#metadata": {},
            },
        },
    }


def v1_statement() -> dict[str, Any]:
    """A GitHub-shaped in-toto v1 statement with an SLSA v1 predicate."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [{"name": "app.tar.gz", "digest": {"sha256": SHA, "sha512": "c" * 128}}],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/heads/main",
                        "repository": "https://github.com/example/app",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "internalParameters": {"github": {"event_name": "push"}},
                "resolvedDependencies": [
                    {
                        "uri": "git+https://github.com/example/app@refs/heads/main",
                        "digest": {"gitCommit": COMMIT},
                    }
                ],
            },
            "runDetails": {
                "builder": {"id": "https://github.com/actions/runner/github-hosted"},
                "metadata": {
                    "invocationId": "https://github.com/example/app/actions/runs/1/attempts/1",
                    "startedOn": "2025-10-30T10:19:52Z",
                },
                "byproducts": [{"name": "log.txt", "mediaType": "text/plain", "content": "aGk="}],
            },
        },
    }


def v01_provenance_statement() -> dict[str, Any]:
    """The example from the SLSA provenance v0.1 specification."""
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "_", "digest": {"sha256": SHA}}],
        "predicateType": "https://slsa.dev/provenance/v0.1",
        "predicate": {
            "builder": {"id": "mailto:person@example.com"},
            "recipe": {
                "type": "https://example.com/Makefile",
                "definedInMaterial": 0,
                "entryPoint": "src:foo",
                "arguments": {"CFLAGS": "-O3"},
            },
            "metadata": {"buildStartedOn": "2021-06-01T12:00:00Z", "completeness": {"arguments": True}},
            "materials": [{"uri": "https://example.com/example-1.2.3.tar.gz", "digest": {"sha256": SHA}}],
        },
    }


def envelope(statement: dict[str, Any]) -> dict[str, Any]:
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    return {"payloadType": IN_TOTO, "payload": payload, "signatures": [{"keyid": "", "sig": "MEUCIQ=="}]}


def pointers(errors: list[SchemaError]) -> list[str]:
    return [e.pointer for e in errors]


def only_error(errors: list[SchemaError]) -> SchemaError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# ------------------------------------------------------------------------------ module API


def test_schema_path_maps_names_to_the_repository_schemas_directory() -> None:
    path = schema_path("slsa-provenance-v0.2")
    assert path == Path(schemas.__file__).resolve().parent.parent / "schemas" / "slsa-provenance-v0.2.json"
    assert path.is_file()


@pytest.mark.parametrize("name", ["../pyproject", "schemas/x", "", "Upper", "a/../b"])
def test_schema_path_rejects_names_that_are_not_plain_schema_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        schema_path(name)


def test_load_schema_is_cached_and_unknown_names_fail() -> None:
    assert load_schema("dsse-envelope") is load_schema("dsse-envelope")
    with pytest.raises(FileNotFoundError, match=r"^no schema named 'no-such-schema' \(.*no such file\)$"):
        load_schema("no-such-schema")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"type": "object", "maximum": NaN}', r"shipped schema \S+/broken.json: NaN is not a JSON number$"),
        (b'{"a": ' * 70 + b"1" + b"}" * 70, r"nested more than 64 levels deep$"),
        (b"[]", r"broken.json: a JSON Schema must be an object$"),
        (None, r"shipped schema \S+/broken.json: is a FIFO, not a regular file$"),
    ],
)
def test_schemas_are_read_strictly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, message: str
) -> None:
    import os

    path = tmp_path / "broken.json"
    if content is None:
        os.mkfifo(path)
    else:
        path.write_bytes(content)
    monkeypatch.setattr(schemas, "SCHEMAS_DIR", tmp_path)
    load_schema.cache_clear()
    try:
        with pytest.raises(ValueError, match=message):
            load_schema("broken")
    finally:
        load_schema.cache_clear()


@pytest.mark.parametrize("name", OWN_SCHEMAS)
def test_each_schema_is_valid_draft_2020_12_with_id_title_and_description(name: str) -> None:
    from jsonschema.validators import Draft202012Validator

    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://slsalint.dev/schemas/{name}.json"
    assert schema["title"]
    version = re.search(r"v(\d+(?:\.\d+)?)$", name)
    expected = version.group(1) if version else "0.1.0"  # DSSE: envelope 0.1.0
    assert expected in schema["title"] + schema["description"]


def test_schema_error_str_uses_slash_for_the_root() -> None:
    assert str(SchemaError("", "'builder' is a required property")) == "/: 'builder' is a required property"
    assert str(SchemaError("/predicate/builder", "x")) == "/predicate/builder: x"


def test_the_reference_validator_is_never_imported() -> None:
    # Importing jsonschema with the format-nongpl extra costs most of a second (it builds an IRI
    # grammar): validating, valid or not, must not pay for it.
    code = f"""
import sys
from slsalint.schemas import statement_errors, validate
statement = {v02_statement()!r}
assert statement_errors(statement) == []
assert validate("policy", {POLICY!r}) == []
del statement["predicate"]["builder"]
assert statement_errors(statement)
assert validate("policy", {{"version": 2}})
assert "jsonschema" not in sys.modules
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------ valid documents


@pytest.mark.parametrize("make", [v02_statement, v1_statement, v01_provenance_statement])
def test_sample_statements_validate(make: Any) -> None:
    assert statement_errors(make()) == []


def test_empty_builder_id_is_not_a_schema_error() -> None:
    # BuildKit mode=min writes builder.id "" (rule SL303 reports it, not the schema).
    statement = v02_statement()
    statement["predicate"]["builder"]["id"] = ""
    assert statement_errors(statement) == []
    statement = v1_statement()
    statement["predicate"]["runDetails"]["builder"]["id"] = ""
    assert statement_errors(statement) == []


def test_v02_builder_id_has_no_uri_format_but_v1_has() -> None:
    statement = v02_statement()
    statement["predicate"]["builder"]["id"] = "my builder"
    assert statement_errors(statement) == []
    statement = v1_statement()
    statement["predicate"]["runDetails"]["builder"]["id"] = "my builder"
    error = only_error(statement_errors(statement))
    assert error.pointer == "/predicate/runDetails/builder/id"
    assert error.message == "'my builder' is not a 'uri'"


def test_unknown_fields_and_nulls_in_optional_fields_are_allowed() -> None:
    statement = v02_statement()
    statement["x-extension"] = {"anything": [1, 2]}
    statement["predicate"]["https://example.com/ext"] = True
    statement["predicate"]["invocation"]["parameters"] = None
    statement["predicate"]["metadata"]["buildFinishedOn"] = None
    statement["predicate"]["materials"][0]["digest"] = {}
    statement["predicate"]["materials"].append({"uri": "https://example.com/no-digest"})
    assert statement_errors(statement) == []
    statement = v1_statement()
    statement["predicate"]["buildDefinition"]["resolvedDependencies"] = None
    statement["predicate"]["runDetails"]["metadata"] = {"invocationID": "x", "finishedOn": None}
    del statement["predicate"]["buildDefinition"]["externalParameters"]
    assert statement_errors(statement) == []


def test_opaque_objects_are_not_descended_into() -> None:
    statement = v02_statement()
    statement["predicate"]["buildConfig"] = {"buildStartedOn": "not-a-date", "builder": {}, "materials": 3}
    statement["predicate"]["invocation"]["environment"] = {"metadata": {"buildStartedOn": 1}}
    assert statement_errors(statement) == []


def test_custom_digest_algorithms_accept_any_string() -> None:
    statement = v1_statement()
    statement["subject"][0]["digest"] = {"somecoolhash": "AbC+/=", "sha256": SHA}
    assert statement_errors(statement) == []


def test_other_predicate_types_get_no_predicate_validation() -> None:
    statement = v1_statement()
    statement["predicateType"] = "https://spdx.dev/Document"
    statement["predicate"] = {"builder": 1, "spdxVersion": "SPDX-2.3"}
    assert statement_errors(statement) == []


def test_a_subject_without_name_is_fine_in_v1() -> None:
    statement = v1_statement()
    statement["subject"] = [{"digest": {"sha256": SHA}}]
    assert statement_errors(statement) == []


def test_dsse_envelope_with_empty_or_missing_keyid_and_extra_fields_validates() -> None:
    env = envelope(v02_statement())
    assert validate("dsse-envelope", env) == []
    del env["signatures"][0]["keyid"]
    env["signatures"][0]["cert"] = "-----BEGIN CERTIFICATE-----\n..."
    env["signatures"].append({"keyid": "abc", "sig": "YWJj-_"})  # URL-safe base64 is allowed
    assert validate("dsse-envelope", env) == []


# ------------------------------------------------------------------------------ invalid documents


def test_missing_builder_id_in_v02() -> None:
    statement = v02_statement()
    del statement["predicate"]["builder"]["id"]
    error = only_error(statement_errors(statement))
    assert error == SchemaError("/predicate/builder", "'id' is a required property")
    assert str(error) == "/predicate/builder: 'id' is a required property"


def test_bad_date_time_in_build_started_on() -> None:
    statement = v02_statement()
    statement["predicate"]["metadata"]["buildStartedOn"] = "not-a-date"
    error = only_error(statement_errors(statement))
    assert error.pointer == "/predicate/metadata/buildStartedOn"
    assert error.message == "'not-a-date' is not a 'date-time'"


def test_bad_date_time_in_v1_started_on() -> None:
    statement = v1_statement()
    statement["predicate"]["runDetails"]["metadata"]["startedOn"] = "2025-13-40T00:00:00Z"
    error = only_error(statement_errors(statement))
    assert error.pointer == "/predicate/runDetails/metadata/startedOn"
    assert "is not a 'date-time'" in error.message


@pytest.mark.parametrize("make", [v02_statement, v1_statement])
def test_subject_without_digest(make: Any) -> None:
    statement = make()
    del statement["subject"][0]["digest"]
    error = only_error(statement_errors(statement))
    assert error == SchemaError("/subject/0", "'digest' is a required property")


def test_subject_with_empty_digest() -> None:
    statement = v1_statement()
    statement["subject"][0]["digest"] = {}
    error = only_error(statement_errors(statement))
    assert error.pointer == "/subject/0/digest"
    assert "should be non-empty" in error.message or "does not have enough properties" in error.message


def test_v01_subject_requires_a_name() -> None:
    statement = v02_statement()
    del statement["subject"][0]["name"]
    assert only_error(statement_errors(statement)) == SchemaError(
        "/subject/0", "'name' is a required property"
    )


def test_empty_subject_list() -> None:
    statement = v1_statement()
    statement["subject"] = []
    error = only_error(statement_errors(statement))
    assert error.pointer == "/subject"


def test_digest_values_must_be_lowercase_hex_of_the_right_length() -> None:
    statement = v02_statement()
    statement["subject"][0]["digest"]["sha256"] = SHA.upper()
    statement["predicate"]["materials"][1]["digest"]["sha1"] = COMMIT[:-1]
    errors = statement_errors(statement)
    assert pointers(errors) == ["/predicate/materials/1/digest/sha1", "/subject/0/digest/sha256"]
    assert all("does not match" in e.message for e in errors)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "https://in-toto.io/Statement/v2",
            "'https://in-toto.io/Statement/v2' is not a known in-toto Statement type",
        ),
        (1, "1 is not a known in-toto Statement type"),
        (None, "None is not a known in-toto Statement type"),
    ],
)
def test_unknown_statement_type_is_one_error_at_type(value: Any, message: str) -> None:
    statement = v02_statement()
    statement["_type"] = value
    statement["subject"] = "not checked either"
    error = only_error(statement_errors(statement))
    assert error.pointer == "/_type"
    assert error.message.startswith(message)
    assert "https://in-toto.io/Statement/v1" in error.message


def test_missing_statement_type_is_one_error_at_type() -> None:
    statement = v1_statement()
    del statement["_type"]
    error = only_error(statement_errors(statement))
    assert error.pointer == "/_type"
    assert error.message.startswith("'_type' is a required property")


def test_statement_that_is_not_an_object() -> None:
    assert statement_errors(["x"]) == [SchemaError("", "['x'] is not of type 'object'")]


def test_v1_missing_build_definition() -> None:
    statement = v1_statement()
    del statement["predicate"]["buildDefinition"]
    assert only_error(statement_errors(statement)) == SchemaError(
        "/predicate", "'buildDefinition' is a required property"
    )


def test_v1_missing_builder_and_build_type() -> None:
    statement = v1_statement()
    del statement["predicate"]["runDetails"]["builder"]
    del statement["predicate"]["buildDefinition"]["buildType"]
    assert statement_errors(statement) == [
        SchemaError("/predicate/buildDefinition", "'buildType' is a required property"),
        SchemaError("/predicate/runDetails", "'builder' is a required property"),
    ]


def test_missing_predicate_is_treated_as_empty_for_slsa() -> None:
    statement = v02_statement()
    del statement["predicate"]
    assert statement_errors(statement) == [
        SchemaError("/predicate", "'buildType' is a required property"),
        SchemaError("/predicate", "'builder' is a required property"),
    ]


def test_predicate_of_the_wrong_type_is_reported_once() -> None:
    statement = v02_statement()
    statement["predicate"] = ["x"]
    assert statement_errors(statement) == [SchemaError("/predicate", "['x'] is not of type 'object', 'null'")]


def test_wrong_types() -> None:
    statement = v02_statement()
    statement["subject"][0]["name"] = 7
    statement["predicate"]["builder"]["id"] = 42
    statement["predicate"]["materials"] = {"uri": "x"}
    statement["predicate"]["metadata"]["completeness"]["parameters"] = "yes"
    statement["predicate"]["metadata"]["reproducible"] = 0
    statement["predicate"]["invocation"]["configSource"]["uri"] = "not a uri"
    assert [str(e) for e in statement_errors(statement)] == [
        "/predicate/builder/id: 42 is not of type 'string'",
        "/predicate/invocation/configSource/uri: 'not a uri' is not a 'uri'",
        "/predicate/materials: {'uri': 'x'} is not of type 'array', 'null'",
        "/predicate/metadata/completeness/parameters: 'yes' is not of type 'boolean', 'null'",
        "/predicate/metadata/reproducible: 0 is not of type 'boolean', 'null'",
        "/subject/0/name: 7 is not of type 'string'",
    ]


def test_v1_resource_descriptor_needs_one_identifying_field() -> None:
    statement = v1_statement()
    statement["predicate"]["buildDefinition"]["resolvedDependencies"].append({"mediaType": "text/plain"})
    error = only_error(statement_errors(statement))
    assert error.pointer == "/predicate/buildDefinition/resolvedDependencies/1"
    assert error.message == "at least one of 'uri', 'digest', 'content' or 'name' is required"


def test_v01_recipe_type_is_required_when_recipe_is_present() -> None:
    statement = v01_provenance_statement()
    del statement["predicate"]["recipe"]["type"]
    statement["predicate"]["recipe"]["definedInMaterial"] = -1
    assert [str(e) for e in statement_errors(statement)] == [
        "/predicate/recipe: 'type' is a required property",
        "/predicate/recipe/definedInMaterial: -1 is less than the minimum of 0",
    ]


def test_dsse_envelope_errors() -> None:
    env = {"payload": "not base64!", "payloadType": IN_TOTO, "signatures": [{"keyid": 1}]}
    assert [str(e) for e in validate("dsse-envelope", env)] == [
        "/payload: 'not base64!' does not match '^[A-Za-z0-9+/_-]*={0,2}$'",
        "/signatures/0: 'sig' is a required property",
        "/signatures/0/keyid: 1 is not of type 'string'",
    ]
    assert pointers(validate("dsse-envelope", {"payload": "", "payloadType": "x", "signatures": []})) == [
        "/signatures"
    ]
    assert validate("dsse-envelope", {}) == [
        SchemaError("", "'payload' is a required property"),
        SchemaError("", "'payloadType' is a required property"),
        SchemaError("", "'signatures' is a required property"),
    ]


def test_pointers_escape_slash_and_tilde_and_sort_indexes_numerically() -> None:
    statement = v02_statement()
    subject = statement["subject"][0]
    statement["subject"] = [copy.deepcopy(subject) for _ in range(12)]
    statement["subject"][10]["digest"]["alg/with~chars"] = 1
    statement["subject"][2]["digest"]["sha256"] = "x"
    assert pointers(statement_errors(statement)) == [
        "/subject/2/digest/sha256",
        "/subject/10/digest/alg~1with~0chars",
    ]


def test_messages_are_one_short_line() -> None:
    statement = v02_statement()
    statement["subject"] = {"name": "x" * 500, "more": "y\nz" * 100}
    statement["predicate"]["buildConfig"] = "line one\nline two" * 50
    for error in statement_errors(statement):
        assert "\n" not in error.message
        assert len(error.message) < 200, error.message


def test_validate_returns_sorted_unique_errors() -> None:
    errors = validate("slsa-provenance-v0.2", {"materials": [{"uri": 1}, {"uri": 1}], "metadata": 3})
    assert [str(e) for e in errors] == [
        "/: 'buildType' is a required property",
        "/: 'builder' is a required property",
        "/materials/0/uri: 1 is not of type 'string', 'null'",
        "/materials/1/uri: 1 is not of type 'string', 'null'",
        "/metadata: 3 is not of type 'object', 'null'",
    ]


# ------------------------------------------------------------------------------ agreement with jsonschema
# The compiled validator (jsonschema-rs) must judge every document as the reference implementation
# (jsonschema with the format-nongpl checkers) judges it, with the same pointers and messages.


POLICY: dict[str, Any] = {
    "version": 1,
    "packs": ["recommended", "docker-scout"],
    "fail-on": "warning",
    "rules": {"SL302": {"level": "error"}, "builder-untrusted": {"allowed-builders": ["https://ci/*"]}},
    "signers": [
        {"issuer": "https://token.actions.githubusercontent.com", "identity-regexp": "^https://github.com/"},
        {"key": "keys/cosign.pub"},
    ],
    "components": {"app": {"images": ["*/example/app"], "source": "https://github.com/example/app"}},
    "exceptions": "slsalint-exceptions.yaml",
    "rego": ["policies/"],
}
PACK: dict[str, Any] = {
    "name": "recommended",
    "version": "1.0.0",
    "description": "Provenance present",
    "rules": {"SL101": {}, "SL302": {"level": "warning"}},
}

_MUTANTS: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -1,
    1.5,
    "",
    "x",
    "not a uri",
    "not-a-date",
    "2025-02-25T21:57:06Z",
    "https://example.com/x",
    "recommended",
    "error",
    "SL101",
    ["a", "a"],
    ["a", 1],
    SHA,
    SHA.upper(),
    [],
    [{}],
    {},
    {"sha256": "zz"},
]


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    out = [prefix]
    if depth > 6:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key), depth + 1))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            out.extend(_paths(item, (*prefix, index), depth + 1))
    return out


def _mutate(document: Any, rng: random.Random) -> Any:
    mutated = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(mutated))
        if not path:
            return rng.choice(_MUTANTS)
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_MUTANTS))
        if not isinstance(mutated, dict | list):
            break
    return mutated


def _reference_errors(name: str, document: Any) -> list[SchemaError]:
    """What jsonschema itself reports, with slsalint's pointer and message conventions."""
    from jsonschema.validators import validator_for

    schema = load_schema(name)
    validator = validator_for(schema)(schema, format_checker=validator_for(schema).FORMAT_CHECKER)
    found = {}
    for error in validator.iter_errors(document):
        path = tuple(error.absolute_path)
        if error.validator in ("anyOf", "oneOf"):
            alternatives: list[Any] = list(error.validator_value)  # type: ignore[arg-type]
            if all(isinstance(s, dict) and set(s) == {"required"} for s in alternatives):
                names = [repr(n) for s in alternatives for n in s["required"]]
                message = f"at least one of {', '.join(names[:-1])} or {names[-1]} is required"
            else:
                which = "any" if error.validator == "anyOf" else "exactly one"
                shown = schemas._short_repr(error.instance)
                message = f"{shown} is not valid under {which} of the given schemas"
        else:
            message = error.message
            value = repr(error.instance)
            if len(value) > 80 and message.startswith(value):
                message = schemas._short_repr(error.instance) + message[len(value) :]
        message = " ".join(message.split())
        found[(schemas._path_key(path), message)] = SchemaError(schemas._pointer(path), message)
    return [found[key] for key in sorted(found)]


def _agrees_with_reference(name: str, documents: list[Any], rounds: int) -> int:
    """Validate ``documents`` and ``rounds`` mutations of each both ways; return how many of the
    candidates were invalid (a test whose mutations never break anything would prove nothing)."""
    rng = random.Random(f"slsalint-{name}")
    invalid = 0
    for document in documents:
        for candidate in [document, *(_mutate(document, rng) for _ in range(rounds))]:
            expected = _reference_errors(name, candidate)
            assert validate(name, candidate) == expected, (name, json.dumps(candidate, default=str)[:2000])
            invalid += bool(expected)
    return invalid


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("in-toto-statement-v0.1", v02_statement),
        ("in-toto-statement-v1", v1_statement),
        ("slsa-provenance-v0.1", lambda: v01_provenance_statement()["predicate"]),
        ("slsa-provenance-v0.2", lambda: v02_statement()["predicate"]),
        ("slsa-provenance-v1", lambda: v1_statement()["predicate"]),
        ("dsse-envelope", lambda: envelope(v1_statement())),
        ("policy", lambda: copy.deepcopy(POLICY)),
        ("pack", lambda: copy.deepcopy(PACK)),
    ],
)
def test_errors_match_the_reference_validator(name: str, make: Any) -> None:
    assert _agrees_with_reference(name, [make()], rounds=400) > 100


def test_errors_match_the_reference_validator_on_corpus_mutations(corpus: Path) -> None:
    found = _corpus_documents(corpus)
    by_schema: dict[str, list[Any]] = {name: [] for name in OWN_SCHEMAS}
    for _, statement in found.statements:
        by_schema[schemas.STATEMENT_SCHEMAS[statement["_type"]]].append(statement)
        predicate_schema = schemas.PREDICATE_SCHEMAS.get(statement["predicateType"])
        if predicate_schema and isinstance(statement.get("predicate"), dict):
            by_schema[predicate_schema].append(statement["predicate"])
    by_schema["dsse-envelope"] = [env for _, env in found.envelopes]
    documents = invalid = 0
    for name, candidates in by_schema.items():
        unique = list({json.dumps(d, sort_keys=True): d for d in candidates}.values())
        documents += len(unique)
        broken = _agrees_with_reference(name, unique, rounds=8)
        assert broken > 0 or not unique, name
        invalid += broken
    assert documents >= 60
    assert invalid > documents * 2


@pytest.mark.parametrize(
    "name",
    [
        *OWN_SCHEMAS,
        "policy",
        "pack",
        "exceptions",
        "report-v1",
        "rego-input-v1",
        "vsa-v1",
    ],
)
def test_every_shipped_schema_compiles(name: str) -> None:
    assert schemas._compiled(name).is_valid(None) in (True, False)


def test_a_schema_is_never_fetched_from_the_network() -> None:
    with pytest.raises(ValueError, match="Retrieval is disabled"):
        validate_with({"$ref": "https://example.com/schema.json"}, {})


def test_values_json_cannot_hold_are_errors_wherever_they_are() -> None:
    import datetime

    schema = {"type": "object", "properties": {"a": {"type": ["string", "null"]}}}
    assert validate_with(schema, {"a": "x"}) == []
    assert validate_with(schema, {"a": datetime.date(2030, 1, 2)}) == [
        SchemaError("/a", "datetime.date(2030, 1, 2) is not a JSON value")
    ]
    assert validate_with(schema, {"a": float("nan")}) == [SchemaError("/a", "nan is not a JSON number")]
    assert validate_with(schema, {1: "x"}) == [SchemaError("", "key 1 is not a string")]


def test_yaml_subclasses_are_read_as_json() -> None:
    class Text(str):
        pass

    class Number(int):
        pass

    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    assert validate_with(schema, {"a": Text("x"), "b": Number(3)}) == []
    assert validate_with(schema, {"a": Number(3)}) == [SchemaError("/a", "3 is not of type 'string'")]


def test_pattern_dollar_does_not_match_before_a_trailing_newline() -> None:
    # ECMA-262, as JSON Schema specifies (Python's re.search would accept the newline).
    statement = v02_statement()
    statement["subject"][0]["digest"]["sha256"] = SHA + "\n"
    assert pointers(statement_errors(statement)) == ["/subject/0/digest/sha256"]


def test_formats_are_judged_as_the_schemas_judge_them() -> None:
    assert schemas.is_format("uri", "https://ci.example.com/gate")
    assert not schemas.is_format("uri", "not a uri")
    assert not schemas.is_format("uri", "relative/path")
    assert schemas.is_format("date-time", "2025-02-25T21:57:06Z")
    assert not schemas.is_format("date-time", "2025-13-40T00:00:00Z")
    with pytest.raises(ValueError):
        schemas.is_format("no-such-format", "x")


def test_rule_options_schemas_are_compiled_once() -> None:
    schema = {"type": "object", "properties": {"allow": {"type": "array"}}, "additionalProperties": False}
    assert validate_with(schema, {"allow": []}) == []
    before = schemas._compiled_text.cache_info().hits
    assert validate_with(dict(schema), {"deny": 1}) == [
        SchemaError("", "Additional properties are not allowed ('deny' was unexpected)")
    ]
    assert schemas._compiled_text.cache_info().hits == before + 1


def test_statement_errors_is_faster_than_parsing_the_json(corpus: Path) -> None:
    raw = (corpus / "buildkit" / "example-package-v1.9.0.provenance-v02-max.intoto.json").read_bytes()
    document = json.loads(raw)
    assert statement_errors(document) == []
    parse = min(timeit.repeat(lambda: json.loads(raw), number=200, repeat=5))
    check = min(timeit.repeat(lambda: statement_errors(document), number=200, repeat=5))
    # Typically ~0.25x; the bound leaves room for noisy machines while catching a return to
    # walking the document with jsonschema (~7x).
    assert check < 2 * parse, f"statement_errors {check / parse:.2f}x json.loads"


# ------------------------------------------------------------------------------ real documents


@dataclass
class CorpusDocuments:
    statements: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    envelopes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _expected_schema_failures(corpus: Path) -> set[str]:
    """Files whose SOURCES.md entry says they are expected to FAIL schema validation."""
    failures: set[str] = set()
    for sources in corpus.glob("*/SOURCES.md"):
        for section in re.split(r"^## ", sources.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
            title = re.match(r"`([^`]+)`", section)
            expected = re.search(r"^- expected:(.*)$", section, flags=re.MULTILINE)
            if title and expected and re.search(r"\bFAIL\b.*\bschema\b", expected.group(1), re.IGNORECASE):
                failures.add(f"{sources.parent.name}/{title.group(1)}")
    return failures


def _load_documents(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def _dsse_of(document: Any) -> dict[str, Any] | None:
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("dsseEnvelope"), dict):  # Sigstore bundle
        return document["dsseEnvelope"]  # type: ignore[no-any-return]
    if "payloadType" in document and "signatures" in document:  # bare DSSE envelope
        return document
    return None


def _decode_payload(env: dict[str, Any]) -> Any:
    payload = str(env["payload"]).translate(str.maketrans("-_", "+/"))
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True))


def _add_envelope(found: CorpusDocuments, label: str, env: dict[str, Any]) -> None:
    found.envelopes.append((label, env))
    if env.get("payloadType") != IN_TOTO:
        found.skipped.append(f"{label}: payloadType {env.get('payloadType')!r} is not an in-toto statement")
        return
    try:
        statement = _decode_payload(env)
    except (binascii.Error, ValueError) as exc:
        found.skipped.append(f"{label}: payload does not decode ({exc})")
        return
    found.statements.append((f"{label} (payload)", statement))


def _layout_documents(corpus: Path, found: CorpusDocuments) -> None:
    for layout in sorted((corpus / "oci-layouts").glob("*/")):
        blobs = layout / "blobs" / "sha256"
        for blob in sorted(blobs.iterdir()):
            try:
                manifest = json.loads(blob.read_bytes())
            except (UnicodeDecodeError, ValueError):
                continue
            if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), list):
                continue
            for layer in manifest["layers"]:
                media_type = layer.get("mediaType")
                if media_type not in (IN_TOTO, DSSE_LAYER):
                    continue
                target = blobs / str(layer["digest"]).removeprefix("sha256:")
                label = f"oci-layouts/{layout.name}/blobs/sha256/{target.name}"
                content = json.loads(target.read_bytes())
                if media_type == IN_TOTO:
                    found.statements.append((label, content))
                else:
                    _add_envelope(found, label, content)


def _corpus_documents(corpus: Path) -> CorpusDocuments:
    found = CorpusDocuments()
    excluded = _expected_schema_failures(corpus)
    for path in sorted((corpus / "buildkit").glob("*.intoto.json")):
        found.statements.append((f"buildkit/{path.name}", json.loads(path.read_bytes())))
    _layout_documents(corpus, found)
    found.statements.append(
        (
            "sigstore-conformance/statement.json",
            json.loads((corpus / "sigstore-conformance/statement.json").read_bytes()),
        )
    )
    bundle_files = [
        *sorted((corpus / "github-attestations").glob("*.json*")),
        *sorted((corpus / "slsa-github-generator").glob("*.json*")),
        *sorted((corpus / "sigstore-conformance").glob("*/bundle.sigstore.json")),
        *sorted((corpus / "sigstore-bundles").glob("*bundle*.json")),
        *sorted((corpus / "cosign-v3-referrers").glob("*.sigstore.json")),
    ]
    for path in bundle_files:
        relative = path.relative_to(corpus).as_posix()
        if relative in excluded:
            found.skipped.append(f"{relative}: expected to fail schema validation (SOURCES.md)")
            continue
        for number, document in enumerate(_load_documents(path), start=1):
            env = _dsse_of(document)
            if env is not None:
                _add_envelope(found, f"{relative}:{number}", env)
    return found


def test_sources_md_names_the_expected_schema_failures(corpus: Path) -> None:
    excluded = _expected_schema_failures(corpus)
    assert excluded, "no SOURCES.md entry says 'FAIL schema validation' any more: review the exclusions"
    for relative in excluded:
        assert (corpus / relative).is_file(), relative


def test_every_real_statement_validates(corpus: Path) -> None:
    found = _corpus_documents(corpus)
    labels = [label for label, _ in found.statements]
    # The collection must really reach every kind of source, or this test would prove nothing.
    assert sum(label.startswith("buildkit/") for label in labels) >= 4
    assert sum(label.startswith("oci-layouts/") and "(payload)" not in label for label in labels) >= 2
    assert sum(label.startswith("oci-layouts/") and "(payload)" in label for label in labels) >= 2
    assert "sigstore-conformance/statement.json" in labels
    assert sum(label.startswith("github-attestations/") for label in labels) >= 8
    assert sum(label.startswith("slsa-github-generator/") for label in labels) >= 10
    types = {(s.get("_type"), s.get("predicateType")) for _, s in found.statements}
    assert {
        ("https://in-toto.io/Statement/v0.1", "https://slsa.dev/provenance/v0.2"),
        ("https://in-toto.io/Statement/v0.1", "https://slsa.dev/provenance/v1"),
        ("https://in-toto.io/Statement/v1", "https://slsa.dev/provenance/v1"),
    } <= types

    failures = {label: [str(e) for e in statement_errors(s)] for label, s in found.statements}
    assert {label: errors for label, errors in failures.items() if errors} == {}


def test_every_real_dsse_envelope_validates(corpus: Path) -> None:
    found = _corpus_documents(corpus)
    assert len(found.envelopes) >= 30
    assert any("keyid" not in env["signatures"][0] for _, env in found.envelopes)
    assert any(env["signatures"][0].get("keyid") == "" for _, env in found.envelopes)
    failures = {label: [str(e) for e in validate("dsse-envelope", env)] for label, env in found.envelopes}
    assert {label: errors for label, errors in failures.items() if errors} == {}


@pytest.mark.parametrize(
    "relative",
    [
        "buildkit/history-record.moby-buildkit.predicate-v02-max.json",
        "buildkit/history-record.test-docker-action.predicate-v02-max.json",
        "sigstore-bundles/sigstore-python.release-v3.2.0.slsa-predicate-v0.2.json",
    ],
)
def test_real_bare_v02_predicates_validate(corpus: Path, relative: str) -> None:
    predicate = json.loads((corpus / relative).read_bytes())
    assert validate("slsa-provenance-v0.2", predicate) == []


def test_buildkit_min_statement_with_empty_builder_id_validates(corpus: Path) -> None:
    path = corpus / "buildkit" / "example-package-v2.1.0.provenance-v02-min.intoto.json"
    statement = json.loads(path.read_bytes())
    assert statement["predicate"]["builder"]["id"] == ""
    assert statement_errors(statement) == []


def test_buildx_metadata_predicate_is_not_an_attestation_and_lacks_builder(corpus: Path) -> None:
    metadata = json.loads((corpus / "buildkit" / "buildx-metadata-file.build.json").read_bytes())
    errors = validate("slsa-provenance-v0.2", metadata["buildx.build.provenance"])
    assert errors == [SchemaError("", "'builder' is a required property")]
