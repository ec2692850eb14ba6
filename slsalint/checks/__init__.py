"""The explicit, sorted registry of built-in checks and the rule catalogue."""

from __future__ import annotations

import inspect

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
    return [c.meta() for c in CHECKS] + [RULE_ERROR]


def find_check(key: str) -> type[Check] | None:
    """Look a check up by id (``SL302``) or name (``provenance-mode-min``)."""
    for check in CHECKS:
        if key.upper() == check.id or key.lower() == check.name:
            return check
    return None


__all__ = ["CHECKS", "RULE_ERROR", "Check", "CheckContext", "builtin_rules", "find_check"]
