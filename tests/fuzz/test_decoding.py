"""Fuzz the decoding of attestation containers: DSSE envelopes, Sigstore bundles (as documents),
JSON Lines and raw statements, then the statement through the engine and every built-in check.

Each target asserts the fail-closed contract: ``decode_document`` returns in-toto statements of a
supported type or raises ``DecodeError`` with one line naming the document; nothing non-finite,
too deep or with duplicate signed keys is ever accepted; and no built-in check crashes (an SL904
finding) or raises on whatever statement decoding lets through.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint import jsonio
from slsalint.checks import CHECKS
from slsalint.engine import build_target, run_checks, verify_signatures
from slsalint.envelopes import (
    BUNDLE_MEDIA_TYPES,
    DSSE_MEDIA_TYPE,
    IN_TOTO_MEDIA_TYPE,
    IN_TOTO_PAYLOAD_TYPE,
    STATEMENT_TYPES,
    DecodeError,
    decode_document,
)
from slsalint.model import EvidenceSource, Level
from slsalint.policy import PlannedRule
from slsalint.signing import SigningSettings
from slsalint.sources.oci import Collected, RawEvidence
from tests.fuzz.cli import run_cli

DIGEST = "sha256:" + "ab" * 32
NAMES = ["att.json", "att.intoto.jsonl", "bundle.sigstore.json", "statement"]
MEDIA_TYPES = [None, IN_TOTO_MEDIA_TYPE, DSSE_MEDIA_TYPE, *BUNDLE_MEDIA_TYPES]


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


scalars = (
    st.integers(55, 70).map(_nested)  # around the nesting limit, with the statement's own levels
    | st.none()
    | st.booleans()
    | st.integers(-(10**70), 10**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "sha256", DIGEST, "https://slsa.dev/provenance/v1", "\ud800"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=40,
)
predicate_types = st.sampled_from(
    [
        "https://slsa.dev/provenance/v0.2",
        "https://slsa.dev/provenance/v1",
        "https://slsa.dev/provenance/v0.1",
        "https://spdx.dev/Document",
        "https://example.com/other",
    ]
)


def _finite(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if (
            isinstance(item, int)
            and not isinstance(item, bool)
            and len(str(abs(item))) > jsonio.MAX_INT_DIGITS
        ):
            return False
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _acceptable(value: Any) -> bool:
    """What the strict reader may accept: finite, short integers, encodable text, bounded depth."""
    return _finite(value) and not jsonio.depth_exceeds(value)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    """In-toto statements, mostly well-shaped, with any value anywhere."""
    statement: dict[str, Any] = {
        "_type": draw(st.sampled_from([*sorted(STATEMENT_TYPES), "https://in-toto.io/Statement/v2"])),
        "subject": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "name": st.text(max_size=8),
                        "digest": st.fixed_dictionaries({"sha256": st.just("ab" * 32)}),
                    }
                ),
                max_size=2,
            )
            | json_values
        ),
        "predicateType": draw(predicate_types | json_values),
        "predicate": draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "builder": st.fixed_dictionaries({}, optional={"id": json_values}) | json_values,
                    "buildType": json_values,
                    "invocation": json_values,
                    "metadata": json_values,
                    "materials": json_values,
                    "buildDefinition": json_values,
                    "runDetails": json_values,
                },
            )
            | json_values
        ),
    }
    for key in draw(st.lists(st.sampled_from(sorted(statement)), max_size=2, unique=True)):
        del statement[key]
    return statement


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@st.composite
def documents(draw: st.DrawFn) -> tuple[bytes, Any, Any]:
    """(bytes, the outer value, the statement inside) for a raw statement, DSSE envelope or bundle."""
    generated = draw(statements())
    statement: dict[str, Any] | None = generated
    payload = json.dumps(generated).encode()
    duplicate = bool(generated) and draw(st.booleans())
    if duplicate:
        key = draw(st.sampled_from(sorted(generated)))
        payload = payload[:-1] + f', "{key}": 1}}'.encode()  # a duplicate key in the signed payload
        statement = None
    envelope: dict[str, Any] = {
        "payloadType": draw(st.just(IN_TOTO_PAYLOAD_TYPE) | json_values),
        "payload": draw(st.just(_b64(payload)) | json_values),
        "signatures": draw(
            st.lists(st.fixed_dictionaries({"sig": st.just(_b64(b"s")) | json_values}), max_size=2)
            | json_values
        ),
    }
    kind = draw(st.sampled_from(["statement", "dsse", "bundle"]))
    if kind == "statement":
        outer: Any = json.loads(json.dumps(statement)) if statement is not None else {"_type": None}
        inner = statement
    elif kind == "dsse":
        outer, inner = envelope, statement
    else:
        outer = {
            "mediaType": draw(st.sampled_from(sorted(BUNDLE_MEDIA_TYPES)) | json_values),
            "verificationMaterial": draw(st.just({}) | json_values),
            "dsseEnvelope": envelope,
        }
        inner = statement
    return json.dumps(outer).encode(), outer, inner


def _check_decoded(decoded: list[Any]) -> None:
    assert decoded, "an accepted document yields at least one statement"
    for item in decoded:
        assert isinstance(item.statement, dict)
        assert item.statement.get("_type") in STATEMENT_TYPES
        assert _acceptable(item.statement)
        if item.envelope in ("dsse", "bundle"):
            assert jsonio.loads(item.payload, unique_keys=True) == item.statement


def _refusal(exc: DecodeError, name: str) -> None:
    message = str(exc)
    assert "\n" not in message and message.startswith(name), message


@given(st.binary(max_size=2048), st.sampled_from(NAMES), st.sampled_from(MEDIA_TYPES))
def test_arbitrary_bytes(data: bytes, name: str, media_type: str | None) -> None:
    try:
        decoded = decode_document(data, name=name, media_type=media_type)
    except DecodeError as exc:
        _refusal(exc, name)
        return
    _check_decoded(decoded)


@given(documents(), st.sampled_from(NAMES))
def test_documents(document: tuple[bytes, Any, Any], name: str) -> None:
    data, outer, inner = document
    try:
        decoded = decode_document(data, name=name)
    except DecodeError as exc:
        _refusal(exc, name)
        return
    _check_decoded(decoded)
    assert _acceptable(outer), "a non-finite, too long or too deep value was accepted"
    [item] = decoded
    if item.envelope == "statement":
        assert item.statement == outer
    else:
        assert inner is not None, "a signed payload with a duplicate key was accepted"
        assert _acceptable(inner), "a non-finite, too long or too deep signed value was accepted"
        assert item.statement == inner


@given(
    st.lists(
        documents() | st.sampled_from([b"", b"   ", b"{", b"NaN", b"[]"]).map(lambda b: (b, None, None)),
        max_size=5,
    )
)
def test_json_lines(lines: list[tuple[bytes, Any, Any]]) -> None:
    data = b"\n".join(line for line, _, _ in lines)
    try:
        decoded = decode_document(data, name="x.intoto.jsonl")
    except DecodeError as exc:
        _refusal(exc, "x.intoto.jsonl")
        return
    assert len(decoded) == sum(1 for line, _, _ in lines if line.strip()), "a line was skipped"
    _check_decoded(decoded)


PLANNED = [
    PlannedRule(check, check.level if check.level is not Level.OFF else Level.ERROR, {}) for check in CHECKS
]


@given(documents(), st.booleans())
def test_whatever_decodes_is_checked_without_crashing(
    document: tuple[bytes, Any, Any], subject: bool
) -> None:
    """The statement goes through the engine (binding, schema, provenance view) and every built-in
    check: a check that raises would be an SL904 finding, a bug."""
    data, _, _ = document
    collected = Collected(
        reference="fuzz", kind="artifact", index_digest=None, platforms=[(DIGEST if subject else "", None)]
    )
    collected.evidence.append(
        RawEvidence(source=EvidenceSource("file", "f.json"), data=data, media_type=None, name="f.json")
    )
    target = build_target(collected)
    verify_signatures(target, collected, SigningSettings())
    findings = run_checks(target, PLANNED)
    crashed = [f.message for f in findings if f.rule_id == "SL904"]
    assert not crashed, crashed
    if target.problems:
        assert any(f.rule_id == "SL105" for f in findings), "a problem was not reported"
    for finding in findings:
        json.dumps(finding.message)
        finding.message.encode("utf-8")


@given(
    documents() | st.binary(max_size=512).map(lambda b: (b, None, None)),
    st.sampled_from(NAMES),
    st.booleans(),
)
def test_the_cli_judges_every_attestation(document: tuple[bytes, Any, Any], name: str, subject: bool) -> None:
    """``slsalint check --attestation FILE`` on any bytes: exit 0 or 1 with a report, never an
    internal error; broken bytes are never a pass."""
    import tempfile
    from pathlib import Path

    data, _, _ = document
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        extra = ["--subject", DIGEST] if subject else []
        code, stderr = run_cli(["check", "--attestation", str(path), "--format", "json", *extra])
    assert code in (0, 1), stderr
    try:
        decode_document(data, name=name)
    except DecodeError:
        assert code == 1, "an attestation that does not decode passed the gate"
