"""Who built it and how much did the builder record?"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from slsalint.checks.base import STRING_LIST, Check, CheckContext, options_schema
from slsalint.model import Finding, Level, ProvenanceMode


class BuilderUntrusted(Check):
    """The builder that produced the provenance must be one you trust.

    **What it checks.** ``builder.id`` (SLSA v0.2) or ``runDetails.builder.id`` (SLSA v1) of every
    provenance statement against the ``allowed-builders`` option: exact values or globs where ``*``
    matches any run of characters (including ``/``) and ``?`` one character. The rule is inactive
    until ``allowed-builders`` is set.

    **Why it matters.** Provenance is only as good as its builder. Anyone can write a statement
    claiming any source; what makes it meaningful is that a trusted builder, such as a specific
    reusable workflow at a release tag, produced it.

    **How to fix.** Build with an allowed builder, or add the builder to ``allowed-builders`` after
    reviewing it.

    **Options.** ``allowed-builders``: list of builder ids or globs.

    **Passing example.** ``allowed-builders:
    ["https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v*"]``
    and a statement built by ``...generator_container_slsa3.yml@refs/tags/v2.1.0``.

    **Failing example.** The same option and a statement built by ``.../not-trusted.yml``.
    """

    id = "SL301"
    name = "builder-untrusted"
    level = Level.ERROR
    summary = "builder.id not in the allowed list (globs allowed)"
    remediation = "build with an allowed builder, or review it and add it to allowed-builders"
    security_severity = 8.0
    options_schema = options_schema({"allowed-builders": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        allowed: list[str] = ctx.options.get("allowed-builders") or []
        if not allowed:
            return
        for platform, attestation, view in ctx.provenance():
            builder = view.builder_id or ""
            if builder and any(fnmatchcase(builder, pattern) for pattern in allowed):
                continue
            yield ctx.finding(
                f"builder {builder!r} is not in allowed-builders" if builder else "builder id is empty",
                platform=platform,
                attestation=attestation,
                pointer=view.builder_pointer,
                expected=allowed,
                actual=builder,
                remediation=self.remediation,
            )


class ProvenanceModeMin(Check):
    """BuildKit provenance must be generated in ``mode=max``.

    **What it checks.** For BuildKit provenance (SLSA v0.2 ``buildType
    https://mobyproject.org/buildkit@v1`` or BuildKit SLSA v1), whether the build definition was
    recorded: ``predicate.buildConfig`` (v0.2) or ``buildDefinition.internalParameters.buildConfig``
    (v1), holding the LLB definition. ``mode=min`` omits it, together with build arguments and
    source mapping. Other builders' provenance is not judged by this rule.

    **Why it matters.** ``mode=min`` records little more than the base images: no build steps, no
    build arguments. Docker Scout's supply-chain policy and many reviewers require ``mode=max``;
    projects such as Microcks had to switch before Scout saw their attestations as complete.

    **How to fix.** ``docker buildx build --provenance=mode=max``, or ``provenance: mode=max`` in
    ``docker/build-push-action`` (its default is ``mode=min`` for private repositories). Do not pass
    secrets as build arguments: ``mode=max`` records them (see SL501); use ``--secret``.

    **Passing example.** A v0.2 predicate with ``buildConfig.llbDefinition``.

    **Failing example.** A v0.2 predicate with ``invocation.parameters: {frontend: dockerfile.v0}``
    and no ``buildConfig``.
    """

    id = "SL302"
    name = "provenance-mode-min"
    level = Level.ERROR
    summary = "BuildKit provenance is mode=min (no buildConfig.llbDefinition) where max is required"
    remediation = "build with --provenance=mode=max (provenance: mode=max in docker/build-push-action)"
    security_severity = 5.5

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform, attestation, view in ctx.provenance():
            if view.is_buildkit and view.mode is ProvenanceMode.MIN:
                pointer = (
                    "/predicate/buildConfig"
                    if view.slsa_version != "1"
                    else "/predicate/buildDefinition/internalParameters/buildConfig"
                )
                yield ctx.finding(
                    "BuildKit provenance was generated with mode=min: no build definition recorded",
                    platform=platform,
                    attestation=attestation,
                    pointer=pointer,
                    expected="mode=max",
                    actual="mode=min",
                    remediation=self.remediation,
                )


class BuilderIdEmpty(Check):
    """Provenance must say which builder produced it.

    **What it checks.** That ``builder.id`` (v0.1/v0.2) or ``runDetails.builder.id`` (v1) is present
    and not empty. BuildKit writes an empty id when it cannot tell its environment (for example
    ``mode=min`` outside a recognised CI).

    **Why it matters.** The builder id is what a verifier trusts; a statement without one makes no
    claim about who built the artifact, so no builder policy can hold.

    **How to fix.** Build in CI with provenance ``mode=max`` (BuildKit then records the run URL), or
    use a generator that records its workflow identity.

    **Passing example.** ``"builder": {"id": "https://github.com/org/repo/actions/runs/1"}``.

    **Failing example.** ``"builder": {"id": ""}``.
    """

    id = "SL303"
    name = "builder-id-empty"
    level = Level.WARNING
    summary = "builder.id missing or empty"
    remediation = "build in CI with provenance mode=max, or with a generator that records its identity"
    security_severity = 4.5

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform, attestation, view in ctx.provenance():
            if not (view.builder_id or "").strip():
                yield ctx.finding(
                    "builder id is missing" if view.builder_id is None else "builder id is empty",
                    platform=platform,
                    attestation=attestation,
                    pointer=view.builder_pointer,
                    expected="a non-empty builder id",
                    actual=view.builder_id,
                    remediation=self.remediation,
                )
