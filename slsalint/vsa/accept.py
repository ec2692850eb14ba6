"""``check --accept-vsa KEY --vsa-max-age DURATION``: trust a fresh VSA instead of re-evaluating.

For a registry image, the reference is resolved once (to the index or manifest digest and the
platform digests the check would judge), then the VSAs attached to that digest are read. One is
accepted when all of this holds, and the image is then reported as passed by it, with its details:

- a DSSE signature verifies with one of the ``--accept-vsa`` keys (key ids are hints here);
- it is a well-formed VSA v1 (schema and in-toto-attestation types) with ``verificationResult``
  PASSED;
- its subjects include the resolved digest and every platform digest the check would judge;
- its ``resourceUri`` is the reference exactly as given to this check (the verdict depends on the
  name: components, expected tags);
- its ``policy.digest.sha256`` is the digest of the policy in force now;
- ``verifier.id`` is ``--verifier-id`` when given;
- ``timeVerified`` is at most ``--vsa-max-age`` old (and not in the future);
- no exception of the exceptions file in force changed state (active, expiring, expired) between
  the day of the VSA and today.

Anything else - no VSA, stale, FAILED, another policy or subject, a bad signature, a registry
error while looking - means a normal check of the image: never a pass. Why a VSA was not used is
kept in :attr:`VsaAcceptance.notes` for the command line to show. OCI layouts and attestation
files are always checked in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slsalint.model import PlatformTarget, Target, TargetResult
from slsalint.verify.keys import LoadedKey

if TYPE_CHECKING:
    from slsalint.engine import LintRequest
    from slsalint.exceptions import ExceptionsFile
    from slsalint.sources.registry import RegistryClient
    from slsalint.vsa.predicate import Vsa


@dataclass(frozen=True)
class AcceptedVsa:
    """The VSA an image passed by (shown in the reports)."""

    location: str
    digest: str
    """Digest of the DSSE envelope blob."""
    verifier_id: str
    time_verified: dt.datetime
    age: dt.timedelta
    policy_digest: str
    keyid: str
    result: str
    levels: tuple[str, ...]

    def describe(self) -> str:
        from slsalint.vsa.verify import format_age

        levels = ", ".join(self.levels) or "no SLSA level"
        return (
            f"passed by VSA from {self.verifier_id} ({self.result}, {levels}), verified "
            f"{self.time_verified.isoformat()} ({format_age(self.age)} ago), policy {self.policy_digest}, "
            f"key {self.keyid}, {self.location}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "verifier": self.verifier_id,
            "timeVerified": self.time_verified.isoformat(),
            "ageSeconds": int(self.age.total_seconds()),
            "verificationResult": self.result,
            "verifiedLevels": list(self.levels),
            "policyDigest": self.policy_digest,
            "keyId": self.keyid,
            "location": self.location,
            "digest": self.digest,
        }


@dataclass
class VsaAcceptance:
    keys: list[LoadedKey]
    max_age: dt.timedelta
    policy_digest: str
    verifier_id: str | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    warning_days: int = 14
    notes: list[tuple[str, str]] = field(default_factory=list)
    """(reference, why no VSA was used) for every image checked in full."""


def _exception_states(exceptions: ExceptionsFile | None, day: dt.date, warning_days: int) -> list[str]:
    if exceptions is None:
        return []
    out = []
    for entry in exceptions.entries:
        if entry.expires < day:
            out.append("expired")
        elif (entry.expires - day).days <= warning_days:
            out.append("expiring")
        else:
            out.append("active")
    return out


def try_accept(
    acceptance: VsaAcceptance,
    request: LintRequest,
    client: RegistryClient,
    exceptions: ExceptionsFile | None,
) -> tuple[TargetResult | None, str]:
    """(the passed-by-VSA result or None, the reference to check otherwise: pinned to the digest
    resolved here, so the tag is resolved once). Registry errors resolving the image propagate
    as in a normal check; errors while looking for VSAs mean a normal check."""
    from slsalint.errors import ConfigError
    from slsalint.sources.oci import Collected, IndexWalk
    from slsalint.sources.reference import parse_reference
    from slsalint.sources.registry import RegistryError
    from slsalint.sources.remote import RemoteCollector
    from slsalint.vsa.registry import find_vsas
    from slsalint.vsa.verify import Expectations, judge

    assert request.target is not None
    ref = parse_reference(request.target)
    image = RemoteCollector(client).resolve(ref)
    pinned = ref.with_digest(image.digest)
    try:
        document = image.document(what=str(pinned))
    except ValueError:
        return None, str(pinned)  # the full check reports it
    collected = Collected(reference=str(pinned), kind="image", index_digest=None, platforms=[])
    try:
        if document.is_index:
            # The index's own platforms (nested indexes are left to the full check).
            walk = IndexWalk(
                collected,
                str(pinned),
                request.platforms or None,
                max_depth=client.limits.index_depth,
                max_entries=client.limits.index_entries,
            )
            walk.start(document, image.digest)
            walk.finish()
        else:
            collected.platforms.append((image.digest, None))
    except ConfigError:
        raise
    except Exception:
        return None, str(pinned)
    wanted = sorted({d for d, _ in collected.platforms} | {image.digest})
    note = acceptance.notes.append
    try:
        candidates = find_vsas(client, pinned, image.digest)
    except RegistryError as exc:
        note((request.target, f"could not read its VSAs ({exc})"))
        return None, str(pinned)
    expect = Expectations(
        subject_digests=wanted,
        verifier_id=acceptance.verifier_id,
        resource_uri=request.target,
        keys=acceptance.keys,
        max_age=acceptance.max_age,
        policy_digest=acceptance.policy_digest,
        now=acceptance.now,
        key_id_is_hint=True,
    )
    reasons: list[str] = []
    best: tuple[Vsa, str, str, str] | None = None
    for candidate in candidates:
        judgement = judge(candidate, expect)
        if not judgement.is_vsa:
            continue
        if not judgement.ok or judgement.vsa is None:
            reasons += [f"{rule} {message}" for rule, message, *_ in judgement.problems]
            continue
        vsa = judgement.vsa
        assert vsa.time_verified is not None  # max_age demands it
        days = acceptance.warning_days
        then, today = vsa.time_verified.date(), acceptance.now.date()
        if _exception_states(exceptions, then, days) != _exception_states(exceptions, today, days):
            reasons.append("an exception changed state (expiring or expired) since the VSA was made")
            continue
        if best is None or vsa.time_verified > (best[0].time_verified or vsa.time_verified):
            best = (vsa, candidate.source.location, candidate.source.digest or "", judgement.keyid or "")
    if best is None:
        why = "; ".join(dict.fromkeys(reasons)) if reasons else "it carries no VSA"
        note((request.target, why))
        return None, str(pinned)
    vsa, location, blob, keyid = best
    assert vsa.time_verified is not None
    target = Target(
        reference=str(pinned),
        kind="image",
        index_digest=collected.index_digest,
        platforms=[PlatformTarget(digest=d, platform=p) for d, p in collected.platforms],
        is_index=collected.is_index,
    )
    accepted = AcceptedVsa(
        location=location,
        digest=blob,
        verifier_id=vsa.verifier_id,
        time_verified=vsa.time_verified,
        age=acceptance.now - vsa.time_verified,
        policy_digest="sha256:" + vsa.policy_digest.get("sha256", ""),
        keyid=keyid,
        result=vsa.result,
        levels=vsa.levels,
    )
    return TargetResult(target=target, findings=[], vsa=accepted), str(pinned)
