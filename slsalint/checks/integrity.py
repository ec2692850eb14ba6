"""Is the evidence well formed: decodable envelopes and schema-valid statements?"""

from __future__ import annotations

from collections.abc import Iterator

from slsalint.checks.base import Check, CheckContext
from slsalint.model import Attestation, Finding, Level, PlatformTarget


class SchemaInvalid(Check):
    """Statements and SLSA predicates must validate against their JSON Schemas.

    **What it checks.** The in-toto Statement (v0.1 or v1) and, for SLSA provenance v0.1, v0.2 and
    v1, the predicate, against the schemas shipped in ``schemas/`` (with format checking: URIs and
    RFC 3339 timestamps). Each error names the JSON pointer of the offending value.

    **Why it matters.** Consumers parse these documents with strict tools; a document that does not
    follow the specification is read differently by different tools, or not at all.

    **How to fix.** Fix the generator that wrote the statement; the message names the field.

    **Passing example.** ``"buildStartedOn": "2025-02-25T21:57:06Z"``.

    **Failing example.** ``"buildStartedOn": "yesterday"`` (``/predicate/metadata/buildStartedOn``).
    """

    id = "SL104"
    name = "schema-invalid"
    level = Level.ERROR
    summary = "Statement or predicate fails its JSON Schema (message carries the JSON path)"
    remediation = "fix the attestation generator so the document follows the in-toto/SLSA specification"
    security_severity = 5.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for attestation in _unique_attestations(ctx):
            if not attestation.schema_errors:
                continue
            platform = _single_platform(ctx, attestation)
            for error in attestation.schema_errors:
                pointer, _, message = error.partition(": ")
                yield ctx.finding(
                    f"{attestation.predicate_type or 'statement'}: {error}",
                    platform=platform,
                    attestation=attestation,
                    pointer=pointer if pointer != "/" else "",
                    actual=message,
                    remediation=self.remediation,
                )


def _unique_attestations(ctx: CheckContext) -> Iterator[Attestation]:
    seen: set[int] = set()
    groups = [p.attestations for p in ctx.target.platforms] + [ctx.target.unmatched]
    for group in groups:
        for attestation in group:
            if id(attestation) not in seen:
                seen.add(id(attestation))
                yield attestation


def _single_platform(ctx: CheckContext, attestation: Attestation) -> PlatformTarget | None:
    holders = [p for p in ctx.target.platforms if any(a is attestation for a in p.attestations)]
    return holders[0] if len(holders) == 1 else None


class EnvelopeInvalid(Check):
    """Evidence must decode: JSON, base64, DSSE, bundle, media types and digests of fetched bytes.

    **What it checks.** Every piece of evidence read for the target: that blobs match their
    digests and declared sizes, that envelopes are well-formed DSSE or Sigstore bundles with an
    in-toto statement payload, that base64 decodes, and that signed payloads have no duplicate JSON
    keys.

    **Why it matters.** Malformed evidence is either corruption or tampering; either way it cannot
    count as provenance, and silently skipping it would hide the problem.

    **How to fix.** Re-push or re-download the evidence; if it persists, the producer is writing
    malformed envelopes.

    **Passing example.** A DSSE envelope whose ``payload`` is base64 of an in-toto statement.

    **Failing example.** A layer whose bytes hash to another digest than its descriptor says.
    """

    id = "SL105"
    name = "envelope-invalid"
    level = Level.ERROR
    summary = "Malformed JSON, base64, DSSE, bundle, media type, or digest of fetched bytes"
    remediation = "re-push or re-download the evidence; check the tool that produced it"
    security_severity = 6.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        by_platform = {p.platform: p for p in ctx.target.platforms}
        for problem in ctx.target.problems:
            platform = by_platform.get(problem.platform) if problem.platform else None
            finding = ctx.finding(problem.message, platform=platform, remediation=self.remediation)
            finding.source = str(problem.source)
            if problem.source.digest and not platform:
                finding.digest = problem.source.digest
            yield finding
