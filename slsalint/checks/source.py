"""Was it built from the expected source, at a recorded commit, from pinned inputs?

SL401-SL403 judge the image, not each statement: for every checked platform they gather what every
piece of evidence records about the source (:class:`slsalint.provenance.SourceClaim`) and decide
from the strongest evidence that records the value: verified signer certificates (GitHub and
GitLab OIDC claims), then signed provenance, then unsigned provenance, then OCI annotations.
Evidence that records nothing is no mismatch when stronger evidence vouches; the finding names the
evidence that was used. One finding per platform at most.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from slsalint.checks.base import STRING_LIST, Check, CheckContext, options_schema
from slsalint.model import Finding, Level, PlatformTarget
from slsalint.provenance import (
    TIER_ANNOTATION,
    TIER_CERTIFICATE,
    SourceClaim,
    annotation_claim,
    certificate_claim,
    normalize_repository,
    provenance_claim,
)

FIELD_WORDS = {"repository": "source repository", "ref": "source ref", "commit": "source commit"}


def _allowed(ctx: CheckContext, verification: Any) -> bool:
    """A verified signature whose signer the policy allows (any signer when none is configured)."""
    if verification is None or not verification.verified:
        return False
    signers = list(ctx.target.signing.signers) if ctx.target.signing is not None else []
    if not signers or verification.identity is None:
        return True
    from slsalint.verify import match

    return match(verification.identity, signers)[0]


def _certificate(verification: Any, where: str, source: str) -> SourceClaim | None:
    identity = verification.identity
    if identity is None or not identity.keyless:
        return None
    return certificate_claim(
        identity.subject, identity.issuer, dict(identity.github), where=where, source=source
    )


def source_claims(ctx: CheckContext, platform: PlatformTarget) -> list[SourceClaim]:
    """What every piece of evidence of ``platform`` records about its source, strongest first."""
    claims: list[SourceClaim] = []
    certificates: set[bytes] = set()

    def add_certificate(verification: Any, where: str, source: str) -> None:
        claim = _certificate(verification, where, source)
        if claim is None:
            return
        der: bytes = verification.identity.certificate_der
        if der not in certificates:  # the same signature may vouch for several statements
            certificates.add(der)
            claims.append(claim)

    target = ctx.target
    for signature in target.image_signatures:
        if signature.stored_for not in (platform.digest, target.index_digest):
            continue
        if any(p.rule_id in ("SL205", "SL105") for p in signature.problems):
            continue
        if _allowed(ctx, signature.verification):
            add_certificate(signature.verification, str(signature.source), str(signature.source))
    for attestation in platform.attestations:
        signed = _allowed(ctx, attestation.verification)
        if signed:
            add_certificate(attestation.verification, str(attestation.source), str(attestation.source))
        if attestation.provenance is not None:
            view = attestation.provenance
            claims.append(provenance_claim(view, signed=signed, source=str(attestation.source)))
    for digest, what in ((target.index_digest, "the index"), (platform.digest, "the manifest")):
        annotations = target.annotations.get(digest or "")
        if annotations:
            claim = annotation_claim(annotations, where=f"{what} {digest}")
            if claim is not None:
                claims.append(claim)
    if len(claims) > 1:
        claims.sort(key=lambda c: c.tier)
    return claims


@dataclass
class Judgement:
    """How the evidence of one platform stands on one field (repository, ref or commit)."""

    name: str
    claims: list[SourceClaim]
    deciding: list[SourceClaim] = field(default_factory=list)
    """The claims of the strongest tier that records the field."""
    wrong: list[SourceClaim] = field(default_factory=list)
    """Deciding claims whose value is not an expected one."""

    @property
    def missing(self) -> bool:
        return not self.deciding

    def actual(self) -> Any:
        values = sorted({str(c.value(self.name)) for c in (self.wrong or self.deciding)})
        return values[0] if len(values) == 1 else values or None

    def used(self) -> SourceClaim | None:
        chosen = self.wrong or self.deciding or self.claims
        return chosen[0] if chosen else None


def judge(claims: list[SourceClaim], name: str, accepts: Callable[[SourceClaim], bool] | None) -> Judgement:
    """Decide from the strongest tier that records ``name``; ``accepts`` says whether a claim's
    value is expected (None: only presence is judged)."""
    result = Judgement(name, claims)
    recorded = [c for c in claims if c.value(name)]
    if not recorded:
        return result
    tier = min(c.tier for c in recorded)
    result.deciding = [c for c in recorded if c.tier == tier]
    if accepts is not None:
        result.wrong = [c for c in result.deciding if not accepts(c)]
    return result


def _substantial(claim: SourceClaim) -> bool:
    """Provenance, or a certificate recording something about the source (annotations alone are
    not judged: without provenance SL101 is the finding)."""
    if claim.tier == TIER_ANNOTATION:
        return False
    if claim.tier == TIER_CERTIFICATE:
        return bool(claim.repository or claim.ref or claim.commit)
    return True


def _examined(judgement: Judgement) -> str:
    listed = [c.evidence for c in judgement.claims if c.tier < TIER_ANNOTATION] or [
        c.evidence for c in judgement.claims
    ]
    return "; ".join(listed)


_VIEW_FIELDS = {"repository": "source_repository", "ref": "source_ref", "commit": "source_commit"}


def _recorded_unsigned(ctx: CheckContext, platform: PlatformTarget, name: str) -> bool:
    """Whether provenance of ``platform`` records ``name`` while nothing of the target is signed:
    the claims of ``source_claims`` are then that provenance (and annotations), and the field is
    recorded, known without building them."""
    if ctx.target.image_signatures:
        return False
    field_name = _VIEW_FIELDS[name]
    recorded = False
    for attestation in platform.attestations:
        if attestation.verification is not None:
            return False
        view = attestation.provenance
        if view is not None and getattr(view, field_name):
            recorded = True
    return recorded


def _judgements(
    ctx: CheckContext,
    name: str,
    accepts: Callable[[SourceClaim], bool] | None,
    *,
    missing_only: bool = False,
) -> Iterator[tuple[PlatformTarget, Judgement]]:
    """The judgement of every platform that has evidence about its source to judge
    (``missing_only``: only of those where nothing may record ``name``)."""
    for platform in ctx.target.platforms:
        if missing_only and _recorded_unsigned(ctx, platform, name):
            continue
        claims = source_claims(ctx, platform)
        if not any(_substantial(c) for c in claims):
            continue  # no provenance and no certificate claims: SL101 reports the missing provenance
        yield platform, judge(claims, name, accepts)


def _mismatch(
    ctx: CheckContext,
    platform: PlatformTarget,
    judgement: Judgement,
    *,
    expected: list[str],
    whose: str,
    remediation: str,
    expected_words: str,
) -> Finding | None:
    words = FIELD_WORDS[judgement.name]
    if judgement.missing:
        message = f"no evidence records a {words}{whose}: examined {_examined(judgement)}"
    elif judgement.wrong:
        parts = [f"{c.value(judgement.name)!r} from {c.describe(judgement.name)}" for c in judgement.wrong]
        verb = "is" if len(parts) == 1 else "are"
        message = f"{words} {'; '.join(parts)} {verb} not {expected_words}{whose}"
    else:
        return None
    used = judgement.used()
    finding = ctx.finding(
        message,
        platform=platform,
        pointer=used.pointer if used is not None else None,
        expected=expected,
        actual=judgement.actual() if not judgement.missing else None,
        remediation=remediation,
    )
    finding.source = used.source if used is not None else None
    return finding


class SourceRepositoryMismatch(Check):
    """The image must have been built from the expected source repository.

    **What it checks.** The source repository of each checked platform against the
    ``repositories`` option, judged from the strongest evidence that records one: the claims of a
    verified signer certificate (``source-repository-uri``, set by GitHub and GitLab; the older
    ``github-workflow-repository``), then signed provenance (slsa-github-generator,
    ``actions/attest-build-provenance``, ``cosign attest``), then unsigned provenance (BuildKit
    ``configSource.uri`` or VCS metadata, ``externalParameters.workflow.repository``), then the OCI
    annotation ``org.opencontainers.image.source``. Every piece of that strongest evidence must name
    an expected repository; weaker evidence does not decide, and evidence that records no
    repository is no mismatch when stronger evidence names one. When nothing records a repository
    the platform fails. Certificates and signed provenance count only when their signature verified
    and, when signers are configured, the signer is one of them. One finding per platform, naming
    the evidence that was used. Comparison ignores the scheme, ``git+``, a ``.git`` suffix and the
    ref: ``https://github.com/o/r.git#abc`` equals ``github.com/o/r``. Globs are allowed. Inactive
    until ``repositories`` is set; for an image that belongs to a component of the policy's
    ``components`` map with a ``source``, that source replaces the option. Platforms with neither
    provenance nor a certificate are left to SL101.

    **Why it matters.** An image built from a fork or another repository can carry perfectly valid
    provenance; only comparing the source with what you expect catches it (slsa-verifier's
    ``--source-uri``). The signer certificate says what the signing workflow ran on; unsigned
    provenance says what whoever pushed it wrote.

    **How to fix.** Publish images built from the expected repository, or correct the option (or
    the component's ``source``).

    **Options.** ``repositories``: list of repository URIs or globs.

    **Passing example.** ``repositories: [github.com/slsa-framework/example-package]`` and
    ``configSource.uri: git+https://github.com/slsa-framework/example-package@refs/heads/main``;
    or BuildKit provenance from a local context (no repository) and an image signature whose
    certificate has ``source-repository-uri: https://github.com/slsa-framework/example-package``.

    **Failing example.** The same option and ``...example-packageA``; or a verified certificate
    whose ``source-repository-uri`` names a fork, whatever the unsigned provenance says.
    """

    id = "SL401"
    name = "source-repository-mismatch"
    level = Level.ERROR
    summary = "Source repo in provenance/certificate is not the expected one"
    remediation = "publish images built from the expected repository, or correct the repositories option"
    security_severity = 8.0
    options_schema = options_schema({"repositories": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        expected: list[str] = ctx.options.get("repositories") or []
        component = ctx.expectation.component if ctx.expectation is not None else None
        remediation = self.remediation
        if component is not None and component.source:
            expected = [component.source]
            remediation = (
                f"publish {component.name} images built from {component.source}, or correct "
                f"components.{component.name}.source in the policy"
            )
        if not expected:
            return
        wanted = [normalize_repository(e) for e in expected]
        whose = f" of component {component.name}" if component is not None and component.source else ""

        def accepts(claim: SourceClaim) -> bool:
            actual = normalize_repository(claim.repository or "")
            return any(fnmatchcase(actual, pattern) for pattern in wanted)

        for platform, judgement in _judgements(ctx, "repository", accepts):
            finding = _mismatch(
                ctx,
                platform,
                judgement,
                expected=expected,
                whose=whose,
                remediation=remediation,
                expected_words="the expected one",
            )
            if finding is not None:
                yield finding


class SourceRefMismatch(Check):
    """The image must have been built from the expected branch or tag.

    **What it checks.** The source ref of each checked platform against the ``refs`` option
    (exact refs or globs such as ``refs/tags/v*``), judged from the strongest evidence that records
    one: the claims of a verified signer certificate (``source-repository-ref``, set by GitHub and
    GitLab; the older ``github-workflow-ref``), then signed provenance (the workflow ref of
    ``actions/attest-build-provenance`` and slsa-github-generator), then unsigned provenance
    (BuildKit's ``github_ref``, a ``configSource`` ref), then the OCI annotation
    ``org.opencontainers.image.version`` (a tag or branch name: ``v1.2.3`` stands for
    ``refs/tags/v1.2.3`` or ``refs/heads/v1.2.3``). Every piece of that strongest evidence must
    record an expected ref; weaker evidence does not decide. BuildKit provenance records no ref
    outside GitHub Actions: that is no mismatch when a certificate or signed provenance records
    the expected ref, and a finding when nothing does. Certificates and signed provenance count
    only when their signature verified and, when signers are configured, the signer is one of
    them. One finding per platform, naming the evidence that was used and the build trigger a
    certificate records. Inactive until ``refs`` is set. For an image that belongs to a component
    of the policy's ``components`` map with a ``ref``, the ref derived from the image tag replaces
    the option: ``ref: "refs/tags/{tag}"`` with ``tag-transforms`` such as ``strip-v`` or
    ``{replace-suffix: {from: "-rke2r1", to: "+rke2r1"}}`` (image ``v1.30.4-rke2r1`` expects
    ``refs/tags/v1.30.4+rke2r1``). A ``{tag}`` template and an image checked without a tag (by
    digest only) is a finding: the expected ref cannot be derived.

    **Why it matters.** Release images should come from release tags or protected branches, not
    from a feature branch that happened to run the same workflow.

    **How to fix.** Release from the expected ref, or correct the option (or the component's
    ``ref`` and ``tag-transforms``); check images by tag (``IMAGE:TAG@DIGEST`` pins both). For
    BuildKit images, sign the image or its provenance from the release workflow (``cosign sign``,
    ``actions/attest-build-provenance``) so a certificate records the ref.

    **Options.** ``refs``: list of refs or globs (``refs/heads/main``, ``refs/tags/v*``).

    **Passing example.** ``refs: [refs/heads/main]`` and ``workflow.ref: refs/heads/main``; or
    ``components.fleet-agent.ref: "refs/tags/{tag}"``, image ``rancher/fleet-agent:v0.12.0`` with
    BuildKit provenance (no ref) and an image signature whose certificate records
    ``source-repository-ref: refs/tags/v0.12.0``.

    **Failing example.** ``refs: [refs/heads/main]`` and ``workflow.ref: refs/heads/master``; the
    same Fleet image retagged ``v0.12.1`` (the certificate records ``refs/tags/v0.12.0``).
    """

    id = "SL402"
    name = "source-ref-mismatch"
    level = Level.ERROR
    summary = "Tag/branch/ref differs from what the policy or component map expects"
    remediation = "release from the expected ref, or correct the refs option"
    security_severity = 6.5
    options_schema = options_schema({"refs": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        expected: list[str] = ctx.options.get("refs") or []
        remediation = self.remediation
        whose = ""
        exp = ctx.expectation
        if exp is not None and exp.component.ref is not None:
            name = exp.component.name
            whose = f" of component {name}"
            remediation = (
                f"release {name} from the expected ref, or correct components.{name}.ref / tag-transforms "
                "in the policy"
            )
            problem = exp.ref_problem
            if problem is not None:
                if any(True for _ in _judgements(ctx, "ref", None)):
                    yield ctx.finding(
                        problem,
                        expected=exp.component.ref,
                        remediation="check the image by tag (IMAGE:TAG, or IMAGE:TAG@DIGEST to pin both)",
                    )
                return
            expected = [exp.ref] if exp.ref is not None else []
        if not expected:
            return

        def accepts(claim: SourceClaim) -> bool:
            return any(fnmatchcase(ref, pattern) for ref in claim.refs() for pattern in expected)

        for platform, judgement in _judgements(ctx, "ref", accepts):
            finding = _mismatch(
                ctx,
                platform,
                judgement,
                expected=expected,
                whose=whose,
                remediation=remediation,
                expected_words="an expected ref",
            )
            if finding is not None:
                yield finding


class SourceCommitMissing(Check):
    """The image should record the exact source commit it was built from.

    **What it checks.** A VCS commit (40 or 64 hex characters) for each checked platform, from any
    evidence, strongest first: a verified signer certificate (``source-repository-digest``, the
    older ``github-workflow-sha``), signed provenance, unsigned provenance (the ``configSource``
    digest ``sha1``/``gitCommit``, BuildKit VCS metadata, a git dependency in
    ``resolvedDependencies``), the OCI annotation ``org.opencontainers.image.revision``. BuildKit
    provenance of a build without VCS information is no finding when other evidence records the
    commit. One finding per platform, listing the evidence examined. Platforms with neither
    provenance nor a certificate are left to SL101.

    **Why it matters.** Without a commit the provenance cannot be tied to reviewed source; a branch
    name moves, a commit does not.

    **How to fix.** Build from a git context (``docker buildx build https://github.com/o/r.git#ref``
    or in CI with a checkout, where BuildKit records ``vcs:source``/``vcs:revision``), use a
    builder that records the commit, or sign the image from CI (the certificate records it).

    **Passing example.** ``configSource.digest.sha1: 4d329c75e7ec1725f7c9ce917a8799d408d06be3``.

    **Failing example.** A local ``docker buildx build .`` with no VCS information and no signature.
    """

    id = "SL403"
    name = "source-commit-missing"
    level = Level.WARNING
    summary = "No VCS commit recorded for the source"
    remediation = "build from a git context or in CI so the builder records the source commit"
    security_severity = 4.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform, judgement in _judgements(ctx, "commit", None, missing_only=True):
            if not judgement.missing:
                continue
            used = judgement.used()
            finding = ctx.finding(
                f"no evidence records a source commit: examined {_examined(judgement)}",
                platform=platform,
                pointer=used.pointer if used is not None else None,
                expected="a 40- or 64-hex-digit commit",
                actual=None,
                remediation=self.remediation,
            )
            finding.source = used.source if used is not None else None
            yield finding


class MaterialUnpinned(Check):
    """Every material / resolved dependency should be pinned by digest.

    **What it checks.** Each entry of ``materials`` (v0.1/v0.2) or
    ``buildDefinition.resolvedDependencies`` (v1) has a non-empty ``digest``. Materials whose URI
    matches a glob in the ``ignore`` option are skipped.

    **Why it matters.** A material without a digest is a moving target: the provenance cannot say
    which base image or dependency the build actually used.

    **How to fix.** Pin base images by digest (``FROM golang:1.21@sha256:...``) and make the builder
    record digests (BuildKit does for images it resolves).

    **Options.** ``ignore``: list of material URI globs to skip.

    **Passing example.** ``{"uri": "pkg:docker/golang@1.21", "digest": {"sha256": "4746..."}}``.

    **Failing example.** ``{"uri": "https://example.com/tool.tar.gz"}``.
    """

    id = "SL404"
    name = "material-unpinned"
    level = Level.WARNING
    summary = "A material / resolved dependency has no digest"
    remediation = "pin the dependency by digest so the provenance records exactly what was used"
    security_severity = 4.0
    options_schema = options_schema({"ignore": STRING_LIST})

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        ignore: list[str] = ctx.options.get("ignore") or []
        for platform, attestation, view in ctx.provenance():
            for material in view.materials:
                if any(material.digest.values()):
                    continue
                if ignore and any(fnmatchcase(material.uri, pattern) for pattern in ignore):
                    continue
                yield ctx.finding(
                    f"material {material.uri or '(no uri)'!r} has no digest",
                    platform=platform,
                    attestation=attestation,
                    pointer=material.pointer,
                    expected="a digest",
                    actual=material.digest or None,
                    remediation=self.remediation,
                )
