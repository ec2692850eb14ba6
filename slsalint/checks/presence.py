"""Is there provenance (and an SBOM) for every checked platform, and does it name the image?"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from slsalint.checks.base import Check, CheckContext
from slsalint.model import Finding, Level


class ProvenanceMissing(Check):
    """Every checked platform (or artifact) must have SLSA provenance from at least one source.

    **What it checks.** For each platform of an image index (or the single image, or the artifact
    named with ``--subject``), at least one attestation with predicate type
    ``https://slsa.dev/provenance/v0.1``, ``v0.2`` or ``v1`` whose subject names the platform
    digest or the index digest, from any evidence source (BuildKit attestation manifests, cosign
    ``.att`` tags, referrers, files).

    **Why it matters.** Without provenance nobody can tell who built the image, from which source,
    with which inputs. Verifiers and Docker Scout report "missing attestation".

    **How to fix.** Build with provenance and push it with the image: ``docker buildx build
    --provenance=mode=max --push`` (``provenance: mode=max`` in ``docker/build-push-action``), or
    attest with ``actions/attest-build-provenance`` / the SLSA generator. Combine platforms with
    ``docker buildx imagetools create``, not ``docker manifest create`` (which drops attestations).

    **Passing example.** An index whose ``linux/amd64`` manifest has an attestation manifest
    (``vnd.docker.reference.type: attestation-manifest``) holding an SLSA v0.2 statement.

    **Failing example.** An index made by ``docker manifest create``: platform manifests only.
    """

    id = "SL101"
    name = "provenance-missing"
    level = Level.ERROR
    summary = "A checked platform (or the artifact) has no SLSA provenance from any source"
    remediation = "build with --provenance=mode=max and push attestations with the image"
    artifact_remediation = (
        "attest the artifact's sha256 digest with its build (slsa-github-generator, "
        "actions/attest-build-provenance) and pass that attestation with --attestation"
    )
    security_severity = 7.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform in ctx.target.platforms:
            if any(a.is_provenance for a in platform.attestations):
                continue
            what = f"platform {platform.label}" if platform.platform else ctx.target.kind
            yield ctx.finding(
                f"no SLSA provenance found for {what}",
                platform=platform,
                expected="an SLSA provenance attestation naming this digest",
                actual=_found(platform.attestations),
                remediation=self.remediation if ctx.target.kind == "image" else self.artifact_remediation,
            )


def _found(attestations: Sequence[object]) -> str:
    return "no attestations" if not attestations else f"{len(attestations)} non-provenance attestation(s)"


class SbomMissing(Check):
    """Every checked platform should carry an SBOM attestation (SPDX or CycloneDX).

    **What it checks.** An in-toto attestation with an SPDX (``https://spdx.dev/Document``) or
    CycloneDX (``https://cyclonedx.org/bom``) predicate for each platform. Enabled by the
    ``docker-scout`` pack: Docker Scout's supply-chain attestation policy wants both provenance and
    an SBOM.

    **Why it matters.** Scanners and policies read the SBOM stored with the image; without it they
    guess from layer contents or report the image as non-compliant.

    **How to fix.** ``docker buildx build --sbom=true`` (``sbom: true`` in build-push-action), or
    attach one with ``cosign attest --type spdxjson``.

    **Passing example.** An attestation manifest with layers for ``https://slsa.dev/provenance/v0.2``
    and ``https://spdx.dev/Document``.

    **Failing example.** An attestation manifest with the provenance layer only.
    """

    id = "SL102"
    name = "sbom-missing"
    level = Level.WARNING
    summary = "A platform has no SBOM attestation (SPDX or CycloneDX)"
    remediation = "build with --sbom=true (sbom: true in docker/build-push-action)"
    artifact_remediation = (
        "generate an SPDX or CycloneDX SBOM attestation for the artifact and pass it with --attestation"
    )
    security_severity = 4.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform in ctx.target.platforms:
            if not any(a.is_sbom for a in platform.attestations):
                what = f"platform {platform.label}" if platform.platform else "the artifact"
                yield ctx.finding(
                    f"no SBOM attestation found for {what}",
                    platform=platform,
                    expected="an SPDX or CycloneDX attestation",
                    actual="none",
                    remediation=self.remediation if ctx.target.kind == "image" else self.artifact_remediation,
                )


class SubjectMismatch(Check):
    """An attestation stored for an image must name one of the image's digests.

    **What it checks.** Every statement found for the image (attached to a platform by a BuildKit
    attestation manifest, a cosign ``.att`` tag, a referrer, or given as a file with ``--subject``)
    must list the platform manifest digest or the index digest among its ``subject`` digests.

    It also fires for every *orphaned* attestation manifest: an index that lists a BuildKit
    attestation manifest whose ``vnd.docker.reference.digest`` names a manifest the index no
    longer lists. That is what a tool rewriting the platform manifests leaves behind (``skopeo
    copy`` recompressing layers, ``crane mutate``, a registry converting media types): the
    platform manifests get new digests, the attestation manifests are copied unchanged and still
    name the old ones, so the provenance vouches for no manifest of this image. The finding points
    at the annotation in the index (``/manifests/N/annotations/vnd.docker.reference.digest``).

    **Why it matters.** A statement naming another digest describes another build: the image was
    rebuilt or retagged, or evidence was copied from elsewhere. Trusting it would vouch for bytes
    it never saw.

    **How to fix.** Re-attest the image that is actually published, or check the digest the
    attestation names (``slsalint explain`` shows both). For orphaned attestation manifests, copy
    images without rewriting them (``skopeo copy --all --preserve-digests``, ``crane copy``,
    ``docker buildx imagetools create``), or re-attest the rewritten image.

    **Passing example.** A BuildKit statement with ``subject[0].digest.sha256`` equal to the
    ``linux/amd64`` manifest digest.

    **Failing example.** A cosign ``.att`` for ``sha256:aaa...`` whose statement names
    ``sha256:bbb...``; an index copied with ``skopeo copy --all --dest-compress-format gzip``,
    whose attestation manifests still name the uncompressed originals.
    """

    id = "SL103"
    name = "subject-mismatch"
    level = Level.ERROR
    summary = "An attestation found for the image names none of its digests"
    remediation = "re-attest the published digest, or check the digest the attestation names"
    security_severity = 7.5

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if not ctx.target.unmatched and not ctx.target.orphaned:
            return
        expected = sorted(ctx.target.all_digests())
        by_digest = {p.digest: p for p in ctx.target.platforms}
        for attestation in ctx.target.unmatched:
            actual = sorted(attestation.subject_digests()) or [
                ":".join(next(iter(s.digest.items()), ("", ""))) for s in attestation.subjects
            ]
            named = ", ".join(actual[:3]) + (f" and {len(actual) - 3:,} more" if len(actual) > 3 else "")
            what = "image" if ctx.target.kind == "image" else "artifact"
            yield ctx.finding(
                f"{attestation.predicate_type} attestation names {named or 'no digest'}, not this {what}",
                platform=by_digest.get(attestation.stored_for or ""),
                attestation=attestation,
                pointer="/subject",
                expected=expected,
                actual=actual,
                remediation=self.remediation,
            )
        for orphan in ctx.target.orphaned:
            finding = ctx.finding(
                f"attestation manifest {orphan.digest} is listed for {orphan.names} "
                "(vnd.docker.reference.digest), a manifest this index no longer lists: the platform "
                "manifests were rewritten after they were attested",
                pointer=orphan.pointer,
                expected=sorted(p.digest for p in ctx.target.platforms),
                actual=orphan.names,
                remediation=ORPHAN_REMEDIATION,
            )
            finding.source = str(orphan.source)
            yield finding


ORPHAN_REMEDIATION = (
    "copy images without rewriting their manifests (skopeo copy --all --preserve-digests, crane copy, "
    "docker buildx imagetools create), or re-attest the rewritten image"
)


class PlatformAttestationMissing(Check):
    """Either all platforms of an index carry attestations, or the gap is worth explaining.

    **What it checks.** For a multi-platform index, whether some platforms have attestations while
    others have none (only platforms selected with ``--platform`` count).

    **Why it matters.** A partial set usually means one platform was built by another job or
    pipeline, or the index was assembled by hand from images built separately. Tools that look at
    one platform say "attested", tools that look at another say "missing".

    **How to fix.** Build all platforms in one ``docker buildx build --platform a,b`` with
    provenance, or merge per-platform builds with ``docker buildx imagetools create``, which keeps
    attestation manifests.

    **Passing example.** ``linux/amd64`` and ``linux/arm64`` both with attestation manifests.

    **Failing example.** ``linux/amd64`` attested, ``linux/arm64`` without attestations.
    """

    id = "SL106"
    name = "platform-attestation-missing"
    level = Level.WARNING
    summary = "Some platforms of an index have attestations and others do not"
    remediation = (
        "build all platforms in one buildx invocation, or merge with docker buildx imagetools create"
    )
    security_severity = 5.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        platforms = ctx.target.platforms
        if not ctx.target.is_index or len(platforms) < 2:
            return
        # A platform whose attestation could not be read has evidence (reported as SL105).
        broken = {problem.platform for problem in ctx.target.problems if problem.platform}
        with_att = [p for p in platforms if p.attestations or p.platform in broken]
        without = [p for p in platforms if not (p.attestations or p.platform in broken)]
        if not with_att or not without:
            return
        attested = ", ".join(p.label for p in with_att)
        for platform in without:
            yield ctx.finding(
                f"platform {platform.label} has no attestations while {attested} do",
                platform=platform,
                expected=[p.label for p in platforms],
                actual=[p.label for p in with_att],
                remediation=self.remediation,
            )
