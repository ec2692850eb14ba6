"""Verifying VSAs the way ``slsa-verifier verify-vsa`` does, as findings (SL601-SL609, SL104, SL105).

For each candidate (a line of ``--attestation-path``, or a VSA attached to the image):

1. decode the DSSE envelope (payload type ``application/vnd.in-toto+json``; SL105 otherwise) and
   peek at the statement: candidates that are not VSAs are not judged;
2. verify the signature (SL602): the public key's id is ``--public-key-id`` or go-securesystemslib's
   ``SHA256:`` fingerprint; a signature naming another non-empty key id is not tried. An
   unverified VSA is not judged further;
3. validate the statement and predicate (JSON Schema, in-toto-attestation types; SL104);
4. every expected subject digest is a subject (SL603); ``verifier.id`` (SL604) and
   ``resourceUri`` (SL605) equal the expected values; ``verificationResult`` is PASSED (SL606);
   every ``--verified-level`` is met (SL607: SLSA track levels by the highest level of the track,
   other values exactly); with ``--max-age`` the VSA is fresh (SL608); with ``--policy-digest`` it
   is for that policy (SL609).

The subject passes when one candidate has no finding; otherwise the findings of every candidate
are reported. No candidate that is a VSA at all is SL601.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slsalint.model import EvidenceSource, Finding, Level
from slsalint.verify.keys import LoadedKey, verify_signature
from slsalint.vsa.predicate import PREDICATE_TYPE, Vsa, VsaFormatError, parse_statement, slsa_levels

CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Candidate:
    """Bytes that may hold a VSA (a DSSE envelope), and where they came from."""

    source: EvidenceSource
    data: bytes


@dataclass
class Expectations:
    subject_digests: list[str]
    verifier_id: str | None
    resource_uri: str | None
    keys: list[LoadedKey]
    key_id: str | None = None
    levels: list[str] = field(default_factory=list)
    max_age: dt.timedelta | None = None
    policy_digest: str | None = None
    key_id_is_hint: bool = False
    """True: try every key on every signature whatever its keyid (cosign's reading); False:
    slsa-verifier's, a signature naming another key id is skipped."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class Judgement:
    """What one candidate is: not a VSA (``vsa`` None, no findings), or a VSA and its findings."""

    candidate: Candidate
    is_vsa: bool
    vsa: Vsa | None = None
    problems: list[tuple[str, str, str | None, Any, Any]] = field(default_factory=list)
    """(rule id, message, JSON pointer, expected, actual)."""
    keyid: str | None = None

    @property
    def ok(self) -> bool:
        return self.is_vsa and self.vsa is not None and not self.problems


def key_id_of(key: LoadedKey, explicit: str | None) -> str:
    from slsalint.vsa.keys import ssh_key_id

    return explicit if explicit else ssh_key_id(key.key)


def _decode(candidate: Candidate) -> tuple[Any, bytes, dict[str, Any]] | str:
    """(parsed envelope, payload, statement) or the SL105 problem."""
    from slsalint import jsonio
    from slsalint.envelopes import IN_TOTO_PAYLOAD_TYPE
    from slsalint.verify.dsse import DsseEnvelope, EnvelopeError

    try:
        document = jsonio.load_object(candidate.data, unique_keys=True)
    except jsonio.JSONError as exc:
        return f"not a JSON object: {exc}"
    try:
        envelope = DsseEnvelope.parse(document)
    except EnvelopeError as exc:
        return str(exc)
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        return f"DSSE payloadType is {envelope.payload_type!r}, expected {IN_TOTO_PAYLOAD_TYPE!r}"
    try:
        statement = jsonio.load_object(envelope.payload, unique_keys=True)
    except jsonio.JSONError as exc:
        return f"DSSE payload is not a JSON object: {exc}"
    return envelope, envelope.payload, statement


def check_signature(
    envelope: Any, keys: Sequence[LoadedKey], key_id: str | None, *, hint: bool = False
) -> tuple[str | None, str]:
    """(the key id that verified, or None; why not)."""
    tried = []
    for key in keys:
        wanted = key_id_of(key, key_id)
        for signature in envelope.signatures:
            if signature.keyid and signature.keyid != wanted and not hint:
                tried.append(f"signature keyid {signature.keyid!r} is not {wanted!r}")
                continue
            if verify_signature(key.key, signature.sig, envelope.pae):
                return wanted, ""
            tried.append(f"signature does not verify with {key.source or key.fingerprint}")
    if not keys:
        return None, "no public key to verify with"
    return None, "; ".join(dict.fromkeys(tried)) or "no signature"


def judge(candidate: Candidate, expect: Expectations) -> Judgement:
    decoded = _decode(candidate)
    if isinstance(decoded, str):
        return Judgement(candidate, True, problems=[("SL105", f"VSA envelope: {decoded}", None, None, None)])
    envelope, _payload, statement = decoded
    if statement.get("predicateType") != PREDICATE_TYPE:
        return Judgement(candidate, False)
    out = Judgement(candidate, True)
    keyid, why = check_signature(envelope, expect.keys, expect.key_id, hint=expect.key_id_is_hint)
    if keyid is None:
        out.problems.append(("SL602", f"VSA signature does not verify: {why}", None, None, None))
        return out
    out.keyid = keyid
    try:
        vsa = parse_statement(statement)
    except VsaFormatError as exc:
        out.problems.append(("SL104", f"VSA statement: {exc}", exc.pointer or None, None, None))
        return out
    out.vsa = vsa
    out.problems.extend(match(vsa, expect))
    return out


def match(vsa: Vsa, expect: Expectations) -> list[tuple[str, str, str | None, Any, Any]]:
    """Steps 4 onwards of the module doc, for a VSA whose signature verified."""
    problems: list[tuple[str, str, str | None, Any, Any]] = []
    have = vsa.subject_digests()
    missing = [d for d in expect.subject_digests if d not in have]
    if not vsa.subjects or missing:
        problems.append(
            (
                "SL603",
                f"the VSA's subjects do not include {', '.join(missing) or 'any digest'}",
                "/subject",
                list(expect.subject_digests),
                sorted(have),
            )
        )
    if expect.verifier_id is not None and vsa.verifier_id != expect.verifier_id:
        problems.append(
            (
                "SL604",
                f"verifier.id is {vsa.verifier_id!r}, expected {expect.verifier_id!r}",
                "/predicate/verifier/id",
                expect.verifier_id,
                vsa.verifier_id,
            )
        )
    if expect.resource_uri is not None and vsa.resource_uri != expect.resource_uri:
        problems.append(
            (
                "SL605",
                f"resourceUri is {vsa.resource_uri!r}, expected {expect.resource_uri!r}",
                "/predicate/resourceUri",
                expect.resource_uri,
                vsa.resource_uri,
            )
        )
    if not vsa.passed:
        problems.append(
            (
                "SL606",
                f"verificationResult is {vsa.result!r}, not 'PASSED'",
                "/predicate/verificationResult",
                "PASSED",
                vsa.result,
            )
        )
    problems.extend(_levels(vsa, expect.levels))
    if expect.max_age is not None:
        problems.extend(_age(vsa, expect.max_age, expect.now))
    if expect.policy_digest is not None:
        actual = vsa.policy_digest.get("sha256")
        wanted = expect.policy_digest.removeprefix("sha256:")
        if actual != wanted:
            problems.append(
                (
                    "SL609",
                    f"policy digest is {'sha256:' + actual if actual else 'missing'}, "
                    f"expected sha256:{wanted}",
                    "/predicate/policy/digest",
                    f"sha256:{wanted}",
                    f"sha256:{actual}" if actual else None,
                )
            )
    return problems


def _levels(vsa: Vsa, wanted: Sequence[str]) -> list[tuple[str, str, str | None, Any, Any]]:
    pointer = "/predicate/verifiedLevels"
    try:
        want = slsa_levels(wanted)
    except ValueError as exc:
        return [("SL607", f"--verified-level: {exc}", None, list(wanted), list(vsa.levels))]
    try:
        got = slsa_levels(vsa.levels)
    except ValueError as exc:
        return [("SL607", f"verifiedLevels: {exc}", pointer, list(wanted), list(vsa.levels))]
    out = []
    for track, level in sorted(want.items()):
        if track not in got:
            out.append(("SL607", f"no SLSA {track} level claimed (expected at least {level})", pointer))
        elif got[track] < level:
            out.append(
                ("SL607", f"SLSA {track} level {got[track]} claimed, expected at least {level}", pointer)
            )
    for value in wanted:
        if not value.startswith("SLSA_") and value not in vsa.levels:
            out.append(("SL607", f"verified level {value!r} not claimed", pointer))
    return [(r, m, p, list(wanted), list(vsa.levels)) for r, m, p in out]


def _age(vsa: Vsa, max_age: dt.timedelta, now: dt.datetime) -> list[tuple[str, str, str | None, Any, Any]]:
    pointer = "/predicate/timeVerified"
    when = vsa.time_verified
    if when is None:
        return [("SL608", "the VSA has no timeVerified, so its age is unknown", pointer, None, None)]
    if when > now + CLOCK_SKEW:
        return [
            ("SL608", f"timeVerified {when.isoformat()} is in the future", pointer, None, when.isoformat())
        ]
    age = now - when
    if age > max_age:
        return [
            (
                "SL608",
                f"verified {format_age(age)} ago ({when.isoformat()}), older than {format_age(max_age)}",
                pointer,
                f"at most {format_age(max_age)} old",
                when.isoformat(),
            )
        ]
    return []


def format_age(age: dt.timedelta) -> str:
    seconds = int(max(age.total_seconds(), 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    return "".join(parts) or f"{seconds}s"


def findings(judgements: Sequence[Judgement], *, image: str, digest: str | None) -> list[Finding]:
    """The findings of a verify-vsa run: none when one VSA passes; SL601 when no VSA was found."""
    from slsalint.checks import builtin_rules

    names = {m.id: m.name for m in builtin_rules()}
    vsas = [j for j in judgements if j.is_vsa]
    if any(j.ok for j in vsas):
        return []
    if not vsas:
        return [
            Finding(
                rule_id="SL601",
                rule_name=names["SL601"],
                level=Level.ERROR,
                message=f"no Verification Summary Attestation found for {image}",
                image=image,
                digest=digest,
                expected=PREDICATE_TYPE,
                actual=None,
                remediation="produce one with "
                "`slsalint check IMAGE --vsa FILE --vsa-key KEY --verifier-id URI`",
            )
        ]
    out = []
    for judgement in vsas:
        for rule_id, message, pointer, expected, actual in judgement.problems:
            out.append(
                Finding(
                    rule_id=rule_id,
                    rule_name=names[rule_id],
                    level=Level.ERROR,
                    message=message,
                    image=image,
                    digest=digest,
                    source=str(judgement.candidate.source),
                    pointer=pointer,
                    expected=expected,
                    actual=actual,
                    remediation=_REMEDIATION.get(rule_id),
                )
            )
    return out


_REMEDIATION = {
    "SL104": "the VSA is malformed: produce it again",
    "SL105": "the VSA's bytes are broken: produce it again",
    "SL602": "verify with the verifier's public key (and --public-key-id when the VSA names one)",
    "SL603": "verify the digest the VSA was made for, or check this image to get a VSA for it",
    "SL604": "verify with the verifier id the producer uses (check --verifier-id)",
    "SL605": "verify with the reference the image was checked as",
    "SL606": "fix what the check reported and produce a new VSA",
    "SL607": "check with the pack of the level you need (e.g. --pack slsa-build-l3)",
    "SL608": "check the image again to get a fresh VSA",
    "SL609": "check the image with the current policy to get a VSA for it",
}


def split_lines(data: bytes) -> list[bytes]:
    """The envelopes of an ``.intoto.jsonl`` file: the whole file when it is one JSON document
    (a pretty-printed envelope), else one per non-empty line."""
    from slsalint import jsonio

    try:
        jsonio.loads(data)
        return [data]
    except jsonio.JSONError:
        return [line for line in data.splitlines() if line.strip()]
