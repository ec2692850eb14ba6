"""``explain``: where every attestation of an image lives, and the known reasons a tool reports
"missing attestation".

:func:`explain` reads the image like ``check`` does (all sources, all platforms), then builds a tree
(index -> platform manifests -> attestation manifests -> layers -> statements; cosign tags;
referrers) and runs a catalogue of diagnoses over it. Each diagnosis carries the evidence that
triggered it and a one-line fix. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slsalint.errors import NotAnImage
from slsalint.model import Attestation, ProvenanceMode, Target
from slsalint.sources.oci import Collected, ManifestNode


@dataclass(frozen=True)
class DiagnosisKind:
    id: str
    name: str
    title: str
    fix: str
    severity: str = "problem"
    """``problem`` (a reason tools report missing or failing attestations) or ``info``."""


CATALOGUE: tuple[DiagnosisKind, ...] = (
    DiagnosisKind(
        "D01",
        "provenance-mode-min",
        "BuildKit provenance is mode=min: Docker Scout's supply-chain policy wants mode=max",
        "build with `--provenance=mode=max` (docker/build-push-action: `provenance: mode=max`)",
    ),
    DiagnosisKind(
        "D02",
        "no-attestation-manifests",
        "the image carries no attestation manifests",
        "push with `docker buildx build --push` (not `load: true` / the docker exporter, not "
        "`--provenance=false`), and merge per-platform images with `docker buildx imagetools create`, "
        "not `docker manifest create`, which drops attestations",
    ),
    DiagnosisKind(
        "D03",
        "platforms-partly-attested",
        "only some platforms are attested",
        "build every platform in one `docker buildx build --platform ...` with provenance, or merge the "
        "per-platform builds with `docker buildx imagetools create`",
    ),
    DiagnosisKind(
        "D04",
        "index-platform-digest-mismatch",
        "the attestations name another level of the image than the digest being checked",
        "check (and verify) the digest the attestations name",
    ),
    DiagnosisKind(
        "D05",
        "not-an-image",
        "the reference is a signature, attestation or referrer artifact, not an image",
        "check the image it belongs to",
    ),
    DiagnosisKind(
        "D06",
        "oci-artifact-attestations",
        "attestation manifests use the newer OCI-artifact form, which some registries and Docker Scout "
        "do not show",
        "push with `--output type=image,oci-artifact=false` (or `oci-artifact=false` in the "
        "build-push-action `outputs`) to get the classic form",
        severity="info",
    ),
    DiagnosisKind(
        "D07",
        "no-referrers",
        "the registry has no referrers API and no sha256-<hex> fallback tag",
        "signatures and attestations pushed as OCI referrers are not stored here; push them with a client "
        "that writes the fallback tag, or use cosign's `.att`/`.sig` tags",
        severity="info",
    ),
    DiagnosisKind(
        "D08",
        "evidence-in-other-repository",
        "signatures or attestations are kept in another repository",
        "point verifiers at it: `COSIGN_REPOSITORY=<repo>` for cosign, `--attestation-repository <repo>` "
        "for slsalint",
    ),
    DiagnosisKind(
        "D09",
        "sbom-missing",
        "provenance is present but no SBOM next to it (Docker Scout wants both)",
        "build with `--sbom=true` (docker/build-push-action: `sbom: true`)",
    ),
    DiagnosisKind(
        "D10",
        "subject-names-another-digest",
        "an attestation found for the image names another digest: the image was rebuilt or retagged",
        "attest the digest that is published, or check the digest the attestation names",
    ),
    DiagnosisKind(
        "D11",
        "evidence-unreadable",
        "some evidence could not be read (bad digest, malformed JSON or envelope, fetch failure)",
        "re-push the evidence; a persistent mismatch means corruption or tampering",
    ),
)
KINDS = {k.id: k for k in CATALOGUE}
DIAGNOSIS_FOR_RULE: dict[str, tuple[str, ...]] = {
    "SL101": ("D02", "D04", "D05", "D08", "D10"),
    "SL102": ("D09",),
    "SL103": ("D10",),
    "SL105": ("D11",),
    "SL106": ("D03",),
    "SL302": ("D01",),
}
"""Which diagnoses of ``slsalint explain`` can explain a check finding (shown with the finding)."""


GITHUB_STORE_HINT = (
    "provenance made by actions/attest-build-provenance without `push-to-registry: true` lives only in "
    "GitHub's attestation store: read it with --github-attestations OWNER/REPO"
)


def explain_hint(rule_id: str, *, github_read: bool = False) -> str | None:
    """The pointer to ``slsalint explain`` added to a finding's remediation (SL101 also names
    GitHub's attestation store when it was not asked)."""
    ids = DIAGNOSIS_FOR_RULE.get(rule_id)
    if not ids:
        return None
    names = ", ".join(f"{i} {KINDS[i].name}" for i in ids)
    hint = f"`slsalint explain` shows why ({names})"
    if rule_id == "SL101" and not github_read:
        hint += f"; {GITHUB_STORE_HINT}"
    return hint


@dataclass
class Diagnosis:
    kind: DiagnosisKind
    evidence: list[str]
    fix: str

    @property
    def id(self) -> str:
        return self.kind.id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.kind.id,
            "name": self.kind.name,
            "title": self.kind.title,
            "severity": self.kind.severity,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }


@dataclass
class Explanation:
    reference: str
    tree: dict[str, Any]
    diagnoses: list[Diagnosis] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(d.kind.severity == "problem" for d in self.diagnoses) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "version": "slsalint.explain/v1",
            "exitCode": self.exit_code,
            "reference": self.reference,
            "tree": self.tree,
            "diagnoses": [d.to_json() for d in self.diagnoses],
        }


def _statement(att: Attestation) -> dict[str, Any]:
    view = att.provenance
    return {
        "predicateType": att.predicate_type,
        "envelope": att.envelope,
        "subjects": sorted(att.subject_digests()),
        "mode": view.mode.value if view and view.is_buildkit else None,
        "builder": view.builder_id if view else None,
        "flavor": view.flavor if view else None,
        "signature": _signature(att.verification),
    }


def _signature(verification: Any) -> dict[str, Any] | None:
    if verification is None:
        return None
    identity = verification.identity
    return {
        "verified": bool(verification.verified),
        "signer": identity.describe() if identity is not None else None,
        "problem": None if verification.verified else verification.message,
    }


def _node_json(node: ManifestNode, statements: dict[tuple[str, str], list[Attestation]]) -> dict[str, Any]:
    layers = []
    for layer in node.layers:
        found = statements.get((node.location, layer.digest), [])
        layers.append(
            {
                "mediaType": layer.media_type,
                "digest": layer.digest,
                "size": layer.size,
                "predicateType": layer.predicate_type,
                "statements": [_statement(a) for a in found],
            }
        )
    out: dict[str, Any] = {
        "kind": node.kind,
        "digest": node.digest,
        "size": node.size,
        "mediaType": node.media_type,
        "location": node.location,
        "storedFor": node.stored_for,
        "layers": layers,
    }
    if node.form:
        out["form"] = node.form
    if node.tag:
        out["tag"] = node.tag
    if node.artifact_type:
        out["artifactType"] = node.artifact_type
    return out


def build_tree(collected: Collected, target: Target) -> dict[str, Any]:
    statements: dict[tuple[str, str], list[Attestation]] = {}
    seen: set[int] = set()
    everything = [a for p in target.platforms for a in p.attestations] + target.unmatched
    for att in everything:
        if id(att) in seen:
            continue
        seen.add(id(att))
        location = att.source.location.rsplit(":", 1)[0] if att.source.kind == "file" else att.source.location
        statements.setdefault((location, att.source.digest or ""), []).append(att)
    platform_digests = {p.digest for p in target.platforms}
    platforms = []
    for platform in target.platforms:
        nodes = [n for n in collected.nodes if n.stored_for == platform.digest]
        platforms.append(
            {
                "platform": str(platform.platform) if platform.platform else None,
                "digest": platform.digest,
                "evidence": [_node_json(n, statements) for n in nodes],
            }
        )
    index_nodes = [n for n in collected.nodes if n.stored_for == target.index_digest and target.index_digest]
    other = [
        n
        for n in collected.nodes
        if n.stored_for not in platform_digests and n.stored_for != target.index_digest
    ]
    tree = {
        "reference": target.reference,
        "digest": target.index_digest or (target.platforms[0].digest if target.platforms else None),
        "mediaType": collected.image_media_type,
        "size": collected.image_size,
        "kind": "index" if collected.is_index else "manifest",
        "platforms": platforms,
        "indexEvidence": [_node_json(n, statements) for n in index_nodes],
        "otherEvidence": [_node_json(n, statements) for n in other],
        "referrers": {"api": collected.referrers_api, "fallbackTags": list(collected.fallback_tags)},
        "problems": [{"source": str(p.source), "message": p.message} for p in target.problems],
    }
    from slsalint.vsa.explain import annotate

    annotate(tree, collected)  # VSAs: verifier, result, age (additive keys on their layers)
    return tree


def diagnose(
    collected: Collected,
    target: Target,
    *,
    image_repository: str | None = None,
    parents: Callable[[str], list[str]] | None = None,
    github_read: bool = False,
) -> list[Diagnosis]:
    """Run the catalogue over one image. ``parents(digest)`` names indexes listing a manifest;
    ``github_read`` says whether GitHub's attestations API was asked (it counts as a source)."""
    out: list[Diagnosis] = []

    def add(kind: str, evidence: list[str], fix: str | None = None) -> None:
        out.append(Diagnosis(KINDS[kind], evidence, fix or KINDS[kind].fix))

    with_provenance = [p for p in target.platforms if any(a.is_provenance for a in p.attestations)]
    attestation_nodes = [n for n in collected.nodes if n.kind == "buildkit-attestation-manifest"]

    # D01 mode=min
    mins = []
    for platform in target.platforms:
        for att in platform.attestations:
            view = att.provenance
            if view and view.is_buildkit and view.mode is ProvenanceMode.MIN:
                mins.append(f"{platform.label}: {att.predicate_type} from {att.source} has no buildConfig")
    if mins:
        add("D01", mins)

    # D02 no attestation manifests at all, and no provenance from elsewhere
    if not attestation_nodes and not with_provenance and target.platforms:
        if collected.is_index:
            evidence = [
                f"index {target.index_digest} lists {len(target.platforms)} platform manifest(s) and no "
                "attestation manifest (vnd.docker.reference.type=attestation-manifest)"
            ]
        else:
            evidence = [f"manifest {target.platforms[0].digest} is a single image with no attestations found"]
        if not (parents and not collected.is_index and parents(target.platforms[0].digest)):
            fix = KINDS["D02"].fix if github_read else f"{KINDS['D02'].fix}; {GITHUB_STORE_HINT}"
            add("D02", evidence, fix)

    # D03 some platforms attested, others not
    if collected.is_index and len(target.platforms) > 1:
        attested = [p for p in target.platforms if p.attestations]
        bare = [p for p in target.platforms if not p.attestations]
        if attested and bare:
            add(
                "D03",
                [
                    f"attested: {', '.join(p.label for p in attested)}",
                    f"not attested: {', '.join(p.label for p in bare)}",
                ],
            )

    # D04 index vs platform digests
    if not collected.is_index and not with_provenance and parents is not None and target.platforms:
        found = parents(target.platforms[0].digest)
        if found:
            add(
                "D04",
                [f"{target.platforms[0].digest} is a platform manifest of index {d}" for d in found],
                f"check the index the attestations belong to: {found[0]}",
            )
    if collected.is_index and target.index_digest:
        platform_only = [
            n
            for n in collected.nodes
            if n.kind in ("cosign-att", "referrer") and n.stored_for != target.index_digest
        ]
        index_level = [n for n in collected.nodes if n.stored_for == target.index_digest]
        if platform_only and not index_level:
            add(
                "D04",
                [f"{n.kind} {n.digest} is attached to platform {n.stored_for}" for n in platform_only]
                + [f"nothing is attached to the index digest {target.index_digest}"],
                "verify the platform digests (`cosign verify-attestation REPO@<platform digest>`), "
                "or attest the index digest the tag points to",
            )

    # D06 newer artifact form
    artifacts = [n for n in attestation_nodes if n.form == "artifact"]
    if artifacts:
        add("D06", [f"attestation manifest {n.digest} (artifactType {n.artifact_type})" for n in artifacts])

    # D07 no referrers API and no fallback tag
    if collected.referrers_api is False and not collected.fallback_tags:
        add("D07", ["GET /v2/<name>/referrers/<digest> answered 404 and no sha256-<hex> tag exists"])

    # D08 evidence in another repository
    if image_repository:
        elsewhere = sorted(
            {
                n.location.rsplit(":", 1)[0]
                for n in collected.nodes
                if n.kind.startswith("cosign") and not n.location.startswith(image_repository + ":")
            }
        )
        if elsewhere:
            add(
                "D08",
                [f"cosign tags found in {repo}" for repo in elsewhere],
                f"point verifiers at it: COSIGN_REPOSITORY={elsewhere[0]} (cosign), "
                f"--attestation-repository {elsewhere[0]} (slsalint)",
            )

    # D09 SBOM missing next to provenance
    no_sbom = [p for p in with_provenance if not any(a.is_sbom for a in p.attestations)]
    if no_sbom:
        add("D09", [f"{p.label}: provenance but no SPDX or CycloneDX attestation" for p in no_sbom])

    # D10 subject names another digest
    if target.unmatched:
        add(
            "D10",
            [
                f"{a.predicate_type} from {a.source} names "
                + (", ".join(sorted(a.subject_digests())) or "no digest")
                for a in target.unmatched
            ],
        )

    # D11 unreadable evidence
    if target.problems:
        add("D11", [f"{p.source}: {p.message}" for p in target.problems])
    return out


def not_an_image(reference: str, error: NotAnImage) -> Explanation:
    """The explanation for a reference to a ``.sig``/``.att`` tag or a referrer artifact."""
    fix = f"check the image it belongs to: {error.image}" if error.image else KINDS["D05"].fix
    diagnosis = Diagnosis(KINDS["D05"], [f"{reference} is {error.what}"], fix)
    tree = {"reference": reference, "kind": "artifact", "what": error.what, "image": error.image}
    return Explanation(reference, tree, [diagnosis])
