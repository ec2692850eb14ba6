"""The explicit, sorted registry of built-in checks and the rule catalogue."""

from __future__ import annotations

import inspect
from dataclasses import replace

from slsalint.checks.base import DOCS_BASE, Check, CheckContext
from slsalint.checks.builder import BuilderIdEmpty, BuilderUntrusted, ProvenanceModeMin
from slsalint.checks.integrity import EnvelopeInvalid, SchemaInvalid
from slsalint.checks.presence import (
    PlatformAttestationMissing,
    ProvenanceMissing,
    SbomMissing,
    SubjectMismatch,
)
from slsalint.checks.secrets import SecretInBuildArgs
from slsalint.checks.signing import (
    ImageSignatureMissing,
    SignatureAnnotationMismatch,
    SignatureInvalid,
    SignatureMissing,
    SignerIdentityMismatch,
    TlogEvidenceMissing,
)
from slsalint.checks.source import (
    MaterialUnpinned,
    SourceCommitMissing,
    SourceRefMismatch,
    SourceRepositoryMismatch,
)
from slsalint.model import Level, RuleMeta

CHECKS: tuple[type[Check], ...] = (
    ProvenanceMissing,
    SbomMissing,
    SubjectMismatch,
    SchemaInvalid,
    EnvelopeInvalid,
    PlatformAttestationMissing,
    SignatureMissing,
    SignatureInvalid,
    SignerIdentityMismatch,
    TlogEvidenceMissing,
    ImageSignatureMissing,
    SignatureAnnotationMismatch,
    BuilderUntrusted,
    ProvenanceModeMin,
    BuilderIdEmpty,
    SourceRepositoryMismatch,
    SourceRefMismatch,
    SourceCommitMissing,
    MaterialUnpinned,
    SecretInBuildArgs,
)
assert [c.id for c in CHECKS] == sorted(c.id for c in CHECKS), "registry must stay sorted by id"

EXCEPTION_EXPIRED = RuleMeta(
    id="SL901",
    name="exception-expired",
    level=Level.ERROR,
    summary="An exception matched but has expired (the finding stays active)",
    doc=inspect.cleandoc(
        """
        An exception in the exceptions file matched a finding, but its `expires` date has passed.

        **What it checks.** Every finding an exception of the exceptions file matches (rule,
        component or image glob, platforms, digest). An exception applies through the end of its
        `expires` day (UTC); after that it waives nothing: the findings it matched stay active and
        this finding names the exception, its line and its expiry.

        **Why it matters.** Exceptions are reviewed, time-limited decisions. An expired one that
        still waived findings would be a permanent hole in the gate that nobody re-reviewed.

        **How to fix.** Fix the finding and remove the exception, or review it again and extend it:
        `slsalint exceptions renew FILE --rule RULE --component COMPONENT --expires YYYY-MM-DD`.
        `slsalint exceptions audit FILE` lists expired exceptions before they break a release.

        **Passing example.** `expires: 2026-12-31` checked on 2026-12-31 (still valid that day).

        **Failing example.** The same exception checked on 2027-01-01 while the image still has the
        finding it waived.
        """
    ),
    options_schema={"type": "object", "additionalProperties": False},
    security_severity=6.0,
    help_uri=f"{DOCS_BASE}/SL901.md",
)

EXCEPTION_UNUSED = RuleMeta(
    id="SL902",
    name="exception-unused",
    level=Level.NOTE,
    summary="An exception matched nothing in this run",
    doc=inspect.cleandoc(
        """
        An exception applies to a checked image but matched none of its findings.

        **What it checks.** Each exception whose scope (component or image glob, digest,
        platforms) covers an image checked in this run must match at least one finding there.
        Exceptions for images that were not checked are out of scope and not reported, so one
        exceptions file can serve many images. Reported once per exception and run.

        **Why it matters.** An exception that waives nothing is stale: the problem was fixed, or the
        rule, component or platform is misspelled. Left in place, it would silently waive the same
        problem if it came back.

        **How to fix.** Remove the exception when the problem is fixed; otherwise correct its
        `rule`, `component`, `platforms` or `digest` (`slsalint components show IMAGE` shows the
        component an image belongs to).

        **Passing example.** An exception for SL302 on `fleet-agent` while the fleet-agent image
        still has an SL302 finding.

        **Failing example.** The same exception after fleet-agent is rebuilt with `mode=max`.
        """
    ),
    options_schema={"type": "object", "additionalProperties": False},
    security_severity=2.0,
    help_uri=f"{DOCS_BASE}/SL902.md",
)

EXCEPTION_EXPIRING = RuleMeta(
    id="SL903",
    name="exception-expiring",
    level=Level.WARNING,
    summary="An exception expires within the warning window (default 14 days)",
    doc=inspect.cleandoc(
        """
        An exception that waived findings in this run expires soon.

        **What it checks.** The `expires` date of each exception that waived at least one finding,
        against the warning window: `exceptions-warning-days` in the policy file, 14 days by
        default. Expiring on the day of the check counts.

        **Why it matters.** When the exception expires, the findings it waives fail the gate; a
        warning ahead of time lets the owner fix the problem or get the exception reviewed before a
        release is blocked.

        **How to fix.** Fix the finding and remove the exception, or review it and extend it with
        `slsalint exceptions renew FILE --rule RULE --component COMPONENT --expires YYYY-MM-DD`.

        **Passing example.** An exception expiring in 60 days.

        **Failing example.** An exception expiring in 5 days that still waives an SL302 finding.
        """
    ),
    options_schema={"type": "object", "additionalProperties": False},
    security_severity=3.0,
    help_uri=f"{DOCS_BASE}/SL903.md",
)

EXCEPTION_RULES = (EXCEPTION_EXPIRED, EXCEPTION_UNUSED, EXCEPTION_EXPIRING)


def exception_rules(levels: dict[str, Level]) -> list[RuleMeta]:
    """SL901-SL903 at the levels the policy's ``rules:`` gives them (``off`` leaves one out)."""
    return [
        replace(meta, level=levels.get(meta.id, meta.level))
        for meta in EXCEPTION_RULES
        if levels.get(meta.id) is not Level.OFF
    ]


"""Findings about the exceptions file itself (added after the checks ran, never waivable)."""

RULE_ERROR = RuleMeta(
    id="SL904",
    name="rule-error",
    level=Level.ERROR,
    summary="A rule or Rego policy failed to evaluate (never silently passes)",
    doc=inspect.cleandoc(
        """
        A rule failed to evaluate; the failure is itself a finding, so a broken rule never passes.

        **What it checks.** Nothing by itself: it is reported when a built-in check raises an
        unexpected error (a bug, please report it) or a policy rule cannot be evaluated.

        **Why it matters.** A gate that skips a rule it could not run fails open.

        **How to fix.** Read the message; report built-in failures with `slsalint --debug` output.

        **Passing example.** Every rule evaluates.

        **Failing example.** A rule raising on an unexpected document shape.
        """
    ),
    options_schema={"type": "object", "additionalProperties": False},
    security_severity=5.0,
    help_uri=f"{DOCS_BASE}/SL904.md",
)


def builtin_rules() -> list[RuleMeta]:
    """Metadata of every built-in rule, sorted by id."""
    from slsalint.checks.vsa import VSA_RULES

    return [c.meta() for c in CHECKS] + [*VSA_RULES, *EXCEPTION_RULES, RULE_ERROR]


def find_check(key: str) -> type[Check] | None:
    """Look a check up by id (``SL302``) or name (``provenance-mode-min``)."""
    for check in CHECKS:
        if key.upper() == check.id or key.lower() == check.name:
            return check
    return None


__all__ = [
    "CHECKS",
    "EXCEPTION_RULES",
    "RULE_ERROR",
    "Check",
    "CheckContext",
    "builtin_rules",
    "exception_rules",
    "find_check",
]
