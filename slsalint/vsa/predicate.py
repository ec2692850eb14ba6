"""SLSA Verification Summary Attestations (``https://slsa.dev/verification_summary/v1``) as in-toto
Statement v1 documents: built and parsed with the ``in-toto-attestation`` package's Statement v1,
ResourceDescriptor and VSA v1 types, and validated against ``schemas/vsa-v1.json``.

Where ``in-toto-attestation`` (0.9.x) and the SLSA specification disagree, the specification wins
and the difference is filled in by hand: its VSA v1 proto declares ``verifiedLevels`` as one string
(the spec: an array of strings, in-toto/attestation#425) and has no ``verifier.version`` (spec 1.1).
Both fields are validated by the JSON Schema instead of the proto; every other field goes through
the proto in both directions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_VERSION = "1.0"
PASSED = "PASSED"
FAILED = "FAILED"
_LEVEL = re.compile(r"\ASLSA_([A-Z0-9]+)_LEVEL_([0-9]+)\Z")
_SPEC_ONLY = ("verifiedLevels",)
"""Predicate fields the proto of in-toto-attestation gets wrong or lacks (see the module doc)."""


class VsaFormatError(ValueError):
    """A statement that is not a well-formed VSA; ``pointer`` says where (JSON pointer)."""

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.pointer = pointer


@dataclass(frozen=True)
class SubjectEntry:
    name: str
    digest: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InputAttestation:
    uri: str
    digest: dict[str, str]


@dataclass(frozen=True)
class Vsa:
    """A parsed VSA: the statement and its fields as values."""

    statement: dict[str, Any]
    subjects: tuple[SubjectEntry, ...]
    verifier_id: str
    verifier_version: dict[str, str]
    time_verified: dt.datetime | None
    resource_uri: str
    policy_uri: str
    policy_digest: dict[str, str]
    input_attestations: tuple[InputAttestation, ...]
    result: str
    levels: tuple[str, ...]
    slsa_version: str | None

    def subject_digests(self) -> set[str]:
        """``ALG:VALUE`` for every digest of every subject (``sha256:HEX``...)."""
        return {f"{alg}:{value}" for s in self.subjects for alg, value in s.digest.items()}

    @property
    def passed(self) -> bool:
        return self.result == PASSED


def _proto() -> tuple[Any, Any, Any, Any]:
    """The in-toto-attestation types (imported on first use: protobuf is slow to import)."""
    from google.protobuf import json_format
    from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
    from in_toto_attestation.v1 import resource_descriptor, statement

    return json_format, vsa_pb2, resource_descriptor, statement


def rfc3339(when: dt.datetime) -> str:
    """UTC, second precision, ``Z`` suffix (what the spec's Timestamp type asks for)."""
    return when.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_statement(
    *,
    subjects: Sequence[SubjectEntry],
    verifier_id: str,
    verifier_version: Mapping[str, str],
    time_verified: dt.datetime,
    resource_uri: str,
    policy_uri: str,
    policy_digest: Mapping[str, str],
    input_attestations: Sequence[InputAttestation],
    result: str,
    levels: Sequence[str],
) -> dict[str, Any]:
    """The VSA statement as a JSON document; raises VsaFormatError if the types reject it."""
    json_format, vsa_pb2, resource_descriptor, statement = _proto()
    summary = vsa_pb2.VerificationSummary()
    summary.verifier.id = verifier_id
    summary.time_verified.FromDatetime(time_verified.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None))
    summary.resource_uri = resource_uri
    summary.policy.uri = policy_uri
    summary.policy.digest.update(dict(policy_digest))
    for item in input_attestations:
        entry = summary.input_attestations.add()
        entry.uri = item.uri
        entry.digest.update(dict(item.digest))
    summary.verification_result = result
    summary.slsa_version = SLSA_VERSION
    predicate: dict[str, Any] = json_format.MessageToDict(summary)
    # The spec's shapes for the two fields the proto gets wrong (module doc).
    predicate["verifier"]["version"] = dict(verifier_version)
    predicate["verifiedLevels"] = list(levels)
    if not input_attestations:
        predicate["inputAttestations"] = []
    descriptors = [
        resource_descriptor.ResourceDescriptor(
            name=s.name, digest=dict(s.digest), annotations=dict(s.annotations) or None
        ).pb
        for s in subjects
    ]
    built = statement.Statement(descriptors, PREDICATE_TYPE, predicate)
    try:
        built.validate()
    except ValueError as exc:
        raise VsaFormatError(f"VSA statement: {exc}") from None
    document: dict[str, Any] = json_format.MessageToDict(built.pb)
    document["predicate"] = predicate  # a Struct turns nothing here into floats, but keep the exact dict
    parse_statement(document, strict=True)  # what is written must read back
    return document


def parse_statement(statement: Mapping[str, Any], *, strict: bool = False) -> Vsa:
    """Check a decoded statement is a VSA v1 and return its fields.

    Validated three ways: the JSON Schemas (statement v1 + ``vsa-v1``), in-toto-attestation's
    Statement v1 (``validate()``) and its VSA v1 predicate type. ``strict`` refuses fields the
    types do not know (used for what slsalint writes); otherwise unknown fields are ignored, as the
    in-toto parsing rules require. Raises VsaFormatError (one line, with a JSON pointer)."""
    from slsalint.schemas import statement_errors

    if statement.get("_type") != STATEMENT_TYPE:
        raise VsaFormatError(f"_type is {statement.get('_type')!r}, expected {STATEMENT_TYPE!r}", "/_type")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise VsaFormatError(
            f"predicateType is {statement.get('predicateType')!r}, expected {PREDICATE_TYPE!r}",
            "/predicateType",
        )
    errors = statement_errors(dict(statement))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise VsaFormatError(f"{first.pointer or '/'}: {first.message}{more}", first.pointer)
    json_format, vsa_pb2, _, statement_mod = _proto()
    from in_toto_attestation.v1 import statement_pb2

    message = statement_pb2.Statement()
    try:
        json_format.ParseDict(dict(statement), message, ignore_unknown_fields=not strict)
        statement_mod.Statement.copy_from_pb(message).validate()
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise VsaFormatError(f"not an in-toto Statement v1: {_one_line(exc)}") from None
    predicate = dict(statement["predicate"])
    for name in _SPEC_ONLY:
        predicate.pop(name, None)
    verifier = predicate.get("verifier")
    if isinstance(verifier, dict):
        predicate["verifier"] = {k: v for k, v in verifier.items() if k != "version"}
    summary = vsa_pb2.VerificationSummary()
    try:
        json_format.ParseDict(predicate, summary, ignore_unknown_fields=not strict)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise VsaFormatError(f"not a VSA v1 predicate: {_one_line(exc)}", "/predicate") from None
    raw = statement["predicate"]
    time_verified = None
    if summary.HasField("time_verified"):
        time_verified = summary.time_verified.ToDatetime(tzinfo=dt.UTC)
    subjects = tuple(
        SubjectEntry(
            name=str(s.get("name") or ""),
            digest={str(k): str(v) for k, v in (s.get("digest") or {}).items()},
            annotations={str(k): str(v) for k, v in (s.get("annotations") or {}).items()},
        )
        for s in statement["subject"]
    )
    version = raw.get("verifier", {}).get("version") or {}
    return Vsa(
        statement=dict(statement),
        subjects=subjects,
        verifier_id=summary.verifier.id,
        verifier_version={str(k): str(v) for k, v in version.items()},
        time_verified=time_verified,
        resource_uri=summary.resource_uri,
        policy_uri=summary.policy.uri,
        policy_digest=dict(summary.policy.digest),
        input_attestations=tuple(
            InputAttestation(uri=i.uri, digest=dict(i.digest)) for i in summary.input_attestations
        ),
        result=summary.verification_result,
        levels=tuple(str(level) for level in raw.get("verifiedLevels") or []),
        slsa_version=summary.slsa_version or None,
    )


def slsa_levels(levels: Sequence[str]) -> dict[str, int]:
    """``SLSA_BUILD_LEVEL_3`` -> {"BUILD": 3}: the highest level per SLSA track; other values
    (``FAILED``, custom properties) are skipped. ValueError for a malformed ``SLSA_`` value (as
    slsa-verifier refuses ``SLSA_BUILD_LEVEL_UNEVALUATED`` or ``SLSA_BUILD_3``)."""
    out: dict[str, int] = {}
    for level in levels:
        if not level.startswith("SLSA_"):
            continue
        match = _LEVEL.match(level)
        if match is None:
            raise ValueError(f"invalid SLSA level {level!r} (expected SLSA_<TRACK>_LEVEL_<N>)")
        track, number = match.group(1), int(match.group(2))
        out[track] = max(out.get(track, number), number)
    return out


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
