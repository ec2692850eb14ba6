"""Fuzz what the source rules read: provenance normalization, certificate claims, OCI annotations
and image indexes. Each returns its documented shape or raises its documented one-line error."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slsalint.errors import ConfigError, OperationalError
from slsalint.model import ProvenanceView
from slsalint.provenance import (
    TIER_ANNOTATION,
    TIER_CERTIFICATE,
    annotation_claim,
    certificate_claim,
    normalize,
    provenance_claim,
)
from slsalint.sources.oci import Collected, DocumentError, IndexWalk, document_of, is_digest

HEX = re.compile(r"\A[0-9a-f]{40}([0-9a-f]{24})?\Z")
DIGESTS = st.sampled_from(["sha256:" + c * 64 for c in "0123abcd"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=40,
)
PREDICATE_TYPES = st.sampled_from(
    [
        "https://slsa.dev/provenance/v0.1",
        "https://slsa.dev/provenance/v0.2",
        "https://slsa.dev/provenance/v1",
        "x",
    ]
)
BUILD_TYPES = st.sampled_from(
    [
        "https://mobyproject.org/buildkit@v1",
        "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
        "https://actions.github.io/buildtypes/workflow/v1",
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
        "https://github.com/slsa-framework/slsa-github-generator/container@v1",
    ]
)


def _optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


@given(PREDICATE_TYPES, BUILD_TYPES, json_values, json_values)
def test_normalize_never_raises(predicate_type: str, build_type: str, body: Any, extra: Any) -> None:
    predicate = body if isinstance(body, dict) else {"x": body}
    predicate["buildType"] = build_type
    predicate["buildDefinition"] = {"buildType": build_type, "externalParameters": extra}
    predicate["invocation"] = {"environment": extra, "configSource": extra, "parameters": extra}
    view = normalize({"predicateType": predicate_type, "predicate": predicate})
    if predicate_type == "x":
        assert view is None
        return
    assert isinstance(view, ProvenanceView)
    for value in (view.source_repository, view.source_ref, view.source_commit, view.builder_id):
        assert _optional_text(value)
    assert view.source_commit is None or HEX.match(view.source_commit)
    claim = provenance_claim(view, signed=False, source="file x")
    assert claim.commit is None or HEX.match(claim.commit)


claim_names = st.sampled_from(
    [
        "source-repository-uri",
        "source-repository-ref",
        "source-repository-digest",
        "build-trigger",
        "github-workflow-repository",
        "github-workflow-ref",
        "github-workflow-sha",
        "github-workflow-trigger",
        "runner-environment",
    ]
)


@given(
    st.dictionaries(claim_names, st.text(max_size=50), max_size=9),
    st.none() | st.text(max_size=40),
    st.sampled_from([None, "https://token.actions.githubusercontent.com", "https://gitlab.com"]),
)
def test_certificate_claims(claims: dict[str, str], subject: str | None, issuer: str | None) -> None:
    claim = certificate_claim(subject, issuer, claims, where="cosign-sig x", source="cosign-sig x")
    assert claim.tier == TIER_CERTIFICATE
    assert claim.commit is None or HEX.match(claim.commit)
    for name in ("repository", "ref", "commit"):
        assert (claim.value(name) is None) == (claim.origin(name) is None)
        assert claim.value(name) != ""
    if claim.ref is not None:
        assert claim.refs() == (claim.ref,)


OCI_KEYS = st.sampled_from(
    ["org.opencontainers.image." + k for k in ("source", "revision", "version", "title")]
)


@given(st.dictionaries(OCI_KEYS, st.text(max_size=50)))
def test_annotation_claims(annotations: dict[str, str]) -> None:
    claim = annotation_claim(annotations, where="the index sha256:x")
    if claim is None:
        return
    assert claim.tier == TIER_ANNOTATION
    assert claim.commit is None or HEX.match(claim.commit)
    assert all(ref.startswith(("refs/tags/", "refs/heads/", "refs/")) for ref in claim.refs())


REFERENCE_KEYS = st.sampled_from(
    ["vnd.docker.reference.type", "vnd.docker.reference.digest", "org.opencontainers.image.source"]
)
REFERENCE_VALUES = st.sampled_from(["attestation-manifest", "sha256:" + "9" * 64, "garbage", ""]) | DIGESTS
PLATFORMS = st.fixed_dictionaries(
    {"os": st.sampled_from(["linux", "unknown"]), "architecture": st.sampled_from(["amd64", "unknown"])}
)
descriptor = st.fixed_dictionaries(
    {
        "mediaType": st.sampled_from(["application/vnd.oci.image.manifest.v1+json", "x"]),
        "digest": DIGESTS,
        "size": st.integers(0, 9),
    },
    optional={
        "annotations": st.dictionaries(REFERENCE_KEYS, REFERENCE_VALUES, max_size=3),
        "platform": PLATFORMS,
    },
)


@given(st.lists(descriptor | json_values, max_size=6), json_values)
def test_index_walk(children: list[Any], annotations: Any) -> None:
    """Any index: a one-line error, or orphaned attestation manifests that name a digest the index
    does not list (located next to the image), and only string annotations kept."""
    collected = Collected(reference="r", kind="image", index_digest=None, platforms=[], repository="reg/repo")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": children,
        "annotations": annotations,
    }
    walk = IndexWalk(collected, "r", None, max_depth=4, max_entries=1000)
    try:
        walk.start(document_of(index, what="r"), "sha256:" + "f" * 64)
        walk.finish()
    except (DocumentError, OperationalError, ConfigError) as exc:
        assert "\n" not in str(exc)
        return
    listed = {c["digest"] for c in children if isinstance(c, dict)}
    for orphan in collected.orphaned:
        assert is_digest(orphan.names) and orphan.names not in listed
        assert orphan.source.location == f"reg/repo@{orphan.digest}"
    assert all(isinstance(v, str) for values in collected.annotations.values() for v in values.values())
    assert len(walk.attestations) >= len(collected.orphaned)
