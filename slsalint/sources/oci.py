"""OCI vocabulary shared by the layout reader and the registry client: media types, descriptors,
digests, and how BuildKit and cosign store attestations next to an image."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from slsalint.model import EvidenceSource, OrphanedAttestation, Platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})

BUILDKIT_ATTESTATION_ARTIFACT = "application/vnd.docker.attestation.manifest.v1+json"
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
PREDICATE_TYPE_ANNOTATION = "in-toto.io/predicate-type"
REF_NAME = "org.opencontainers.image.ref.name"
OCI_ANNOTATION_PREFIX = "org.opencontainers.image."
COSIGN_KIND = "kind"
COSIGN_ATTS_KIND = "dev.cosignproject.cosign/atts"
COSIGN_SIGS_KIND = "dev.cosignproject.cosign/sigs"
COSIGN_IMAGE_KINDS = frozenset({"dev.cosignproject.cosign/imageIndex", "dev.cosignproject.cosign/image"})
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

GITHUB_KIND = "github-attestations"
"""Evidence source kind of bundles read from GitHub's attestations API."""
EVIDENCE_SOURCE_ANNOTATION = "dev.slsalint.evidence.source"
"""Set on the referrer manifests ``slsalint fetch`` writes for GitHub bundles (value: the source
kind), so the layout reader files their layers under that source again."""
EVIDENCE_LOCATION_ANNOTATION = "dev.slsalint.evidence.location"
"""The location the evidence was read from (the API listing), kept for identical findings offline."""

IN_TOTO_LAYER = "application/vnd.in-toto+json"
DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
BUNDLE_LAYER_PREFIXES = ("application/vnd.dev.sigstore.bundle",)

_DIGEST = re.compile(r"\A(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})\Z")
_COSIGN_TAG = re.compile(r"\Asha256-([0-9a-f]{64})(\.att|\.sig|\.sbom)?\Z")


def is_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    if algorithm == "sha512":
        return "sha512:" + hashlib.sha512(data).hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_digest(data: bytes, digest: str, *, what: str) -> None:
    """Raise ValueError (one line) unless ``data`` hashes to ``digest``."""
    algorithm, _, _ = digest.partition(":")
    if algorithm not in ("sha256", "sha512") or not is_digest(digest):
        raise ValueError(f"{what}: unsupported or malformed digest {digest!r}")
    actual = digest_of(data, algorithm)
    if actual != digest:
        raise ValueError(f"{what}: digest mismatch: expected {digest}, content hashes to {actual}")


def cosign_tag_digest(tag: str) -> tuple[str, str] | None:
    """``sha256-HEX.att`` -> (``sha256:HEX``, ``.att``); ``sha256-HEX`` -> (digest, ``""``)."""
    match = _COSIGN_TAG.match(tag)
    if not match:
        return None
    return f"sha256:{match.group(1)}", match.group(2) or ""


def is_evidence_layer(media_type: str) -> bool:
    return media_type in (IN_TOTO_LAYER, DSSE_LAYER) or media_type.startswith(BUNDLE_LAYER_PREFIXES)


def layer_predicate(annotations: dict[str, str]) -> str | None:
    """The predicate type a layer's annotations announce (BuildKit's or cosign's key), if any."""
    return annotations.get(PREDICATE_TYPE_ANNOTATION) or annotations.get("predicateType") or None


def layer_needed(annotations: dict[str, str], *, want_sbom: bool) -> bool:
    """Whether an evidence layer is read: layers announcing a predicate other than SLSA provenance
    (SBOMs, vulnerability reports) only when ``want_sbom``."""
    predicate = layer_predicate(annotations)
    return want_sbom or not predicate or predicate.startswith("https://slsa.dev/provenance/")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    artifact_type: str | None = None

    @classmethod
    def parse(cls, value: Any, *, what: str) -> Descriptor:
        if not isinstance(value, dict):
            raise ValueError(f"{what}: descriptor is not an object")
        media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
        if not isinstance(digest, str) or not is_digest(digest):
            raise ValueError(f"{what}: descriptor has a missing or malformed digest {digest!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{what}: descriptor {digest} has no valid size")
        annotations = value.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise ValueError(f"{what}: descriptor {digest} has malformed annotations")
        artifact_type = value.get("artifactType")
        return cls(
            media_type=media_type if isinstance(media_type, str) else "",
            digest=digest,
            size=size,
            annotations={str(k): str(v) for k, v in annotations.items()},
            platform=Platform.from_descriptor(value.get("platform")),
            artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        )

    @property
    def is_attestation_manifest(self) -> bool:
        return (
            self.annotations.get(REFERENCE_TYPE) == "attestation-manifest"
            or self.artifact_type == BUILDKIT_ATTESTATION_ARTIFACT
        )

    @property
    def is_unknown_platform(self) -> bool:
        return self.platform is not None and self.platform.os == "unknown"


def descriptors(document: dict[str, Any], key: str, *, what: str) -> list[Descriptor]:
    items = document.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError(f"{what}: '{key}' is not a list")
    return [Descriptor.parse(item, what=what) for item in items]


@dataclass
class RawEvidence:
    """Bytes that should hold attestations, with where they were found and for which digest."""

    source: EvidenceSource
    data: bytes
    media_type: str | None
    name: str
    stored_for: str | None = None
    """The digest the storage location ties this evidence to (the platform manifest a BuildKit
    attestation manifest references, the digest in a cosign tag, a referrer's subject)."""
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerNode:
    media_type: str
    digest: str
    size: int
    predicate_type: str | None


@dataclass(frozen=True)
class ManifestNode:
    """One evidence-holding manifest found next to the image, for ``explain``."""

    kind: str
    """``buildkit-attestation-manifest``, ``cosign-att``, ``cosign-sig`` or ``referrer``."""
    digest: str
    media_type: str
    size: int
    stored_for: str | None
    location: str
    artifact_type: str | None = None
    form: str | None = None
    """For BuildKit attestation manifests: ``classic`` or ``artifact`` (OCI artifact with subject)."""
    tag: str | None = None
    layers: tuple[LayerNode, ...] = ()


def manifest_node(
    kind: str,
    descriptor: Descriptor,
    manifest: dict[str, Any],
    stored_for: str | None,
    location: str,
    tag: str | None = None,
) -> ManifestNode:
    """Describe an evidence manifest (never raises on malformed layers: they are skipped)."""
    layers = []
    for item in manifest.get("layers") or []:
        try:
            layer = Descriptor.parse(item, what=location)
        except ValueError:
            continue
        layers.append(
            LayerNode(layer.media_type, layer.digest, layer.size, layer_predicate(layer.annotations))
        )
    artifact_type = manifest.get("artifactType")
    artifact = artifact_type if isinstance(artifact_type, str) else descriptor.artifact_type
    form = None
    if kind == "buildkit-attestation-manifest":
        form = "artifact" if artifact == BUILDKIT_ATTESTATION_ARTIFACT or "subject" in manifest else "classic"
    if tag is None and kind in ("cosign-att", "cosign-sig"):
        tail = location.rsplit("/", 1)[-1]
        if ":" in tail and "@" not in tail:
            tag = tail.split(":", 1)[1]
    return ManifestNode(
        kind=kind,
        digest=descriptor.digest,
        media_type=descriptor.media_type or str(manifest.get("mediaType") or ""),
        size=descriptor.size,
        stored_for=stored_for,
        location=location,
        artifact_type=artifact,
        form=form,
        tag=tag,
        layers=tuple(layers),
    )


@dataclass
class Collected:
    """What a source found for one target, before decoding."""

    reference: str
    kind: str
    index_digest: str | None
    platforms: list[tuple[str, Platform | None]]
    evidence: list[RawEvidence] = field(default_factory=list)
    problems: list[tuple[EvidenceSource, str, str | None]] = field(default_factory=list)
    """(source, message, stored-for digest) for evidence that could not be read."""
    is_index: bool = False
    signatures: list[RawEvidence] = field(default_factory=list)
    """Image signatures (cosign ``.sig`` layers, Sigstore bundles over the image): kept for
    signature verification, never decoded as attestations."""
    excluded_digests: set[str] = field(default_factory=set)
    nodes: list[ManifestNode] = field(default_factory=list)
    """Every evidence manifest found (for ``explain``)."""
    referrers_api: bool | None = None
    """Whether the registry answered the referrers API (None: not asked, e.g. a layout)."""
    fallback_tags: list[str] = field(default_factory=list)
    image_size: int = 0
    image_media_type: str = ""
    repository: str = ""
    """Where the image's manifests live: ``REGISTRY/REPO`` or ``oci:PATH``."""
    orphaned: list[OrphanedAttestation] = field(default_factory=list)
    """Attestation manifests the index lists for digests it does not list (see ``read_index``)."""
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    """``org.opencontainers.image.*`` annotations by the digest that carries them."""

    def location_of(self, digest: str) -> str:
        """The location of a manifest next to the image: ``REGISTRY/REPO@DIGEST`` or
        ``oci:PATH@DIGEST``, one digest, a reference other tools resolve as it is printed."""
        base = self.repository or self.reference.split("@", 1)[0]
        return f"{base}@{digest}"

    def add_layer(
        self, source: EvidenceSource, layer: Descriptor, data: bytes, stored_for: str | None, kind: str
    ) -> None:
        """File an evidence layer: image signatures apart from attestations."""
        evidence = RawEvidence(
            source=source,
            data=data,
            media_type=layer.media_type,
            name=f"layer {layer.digest}",
            stored_for=stored_for,
            annotations=layer.annotations,
        )
        if kind == "cosign-sig" or is_signature_bundle(layer, data):
            self.signatures.append(evidence)
        else:
            self.evidence.append(evidence)

    """Platform digests left out by ``--platform``: evidence naming them is ignored, not reported."""


def read_index(
    collected: Collected,
    document: dict[str, Any],
    digest: str,
    where: str,
    platforms: list[Platform] | None,
) -> list[tuple[Descriptor, str | None]]:
    """Record an image index's platforms in ``collected``; return its attestation manifests with
    the digest each one names (``vnd.docker.reference.digest``, or None for the subject form).

    Raises OperationalError for a malformed index and ConfigError when ``platforms`` matches none.
    """
    from slsalint.errors import ConfigError, OperationalError

    collected.is_index = True
    collected.index_digest = digest
    try:
        children = descriptors(document, "manifests", what=f"{where} index {digest}")
    except ValueError as exc:
        raise OperationalError(f"{where}: {exc}") from None
    record_annotations(collected, digest, document.get("annotations"))
    listed = {child.digest for child in children}
    attestations: list[tuple[Descriptor, str | None]] = []
    for position, child in enumerate(children):
        if child.is_attestation_manifest:
            names = child.annotations.get(REFERENCE_DIGEST)
            attestations.append((child, names))
            source = EvidenceSource(
                "buildkit-attestation-manifest", collected.location_of(child.digest), child.digest
            )
            if names is not None and not is_digest(names):
                collected.problems.append(
                    (source, f"attestation manifest has a malformed {REFERENCE_DIGEST} {names[:80]!r}", None)
                )
            elif names is not None and names not in listed:
                # Kept, not dropped: the platform manifest it was made for was rewritten.
                collected.orphaned.append(
                    OrphanedAttestation(
                        source=source,
                        names=names,
                        position=position,
                        size=child.size,
                        media_type=child.media_type,
                        artifact_type=child.artifact_type,
                    )
                )
        elif child.media_type in INDEX_TYPES or (child.is_unknown_platform and not child.annotations):
            continue
        elif platforms and not (child.platform and any(child.platform.matches(p) for p in platforms)):
            collected.excluded_digests.add(child.digest)
        else:
            collected.platforms.append((child.digest, child.platform))
            record_annotations(collected, child.digest, child.annotations)
    if platforms and not collected.platforms:
        wanted = ", ".join(str(p) for p in platforms)
        raise ConfigError(f"{where}: the index has no platform matching {wanted}")
    return attestations


def record_annotations(collected: Collected, digest: str, annotations: Any) -> None:
    """Keep the ``org.opencontainers.image.*`` annotations of a manifest or descriptor (string
    values only, anything else in the object is ignored)."""
    if not isinstance(annotations, dict):
        return
    kept = {
        str(k): v
        for k, v in annotations.items()
        if isinstance(k, str) and k.startswith(OCI_ANNOTATION_PREFIX) and isinstance(v, str) and k != REF_NAME
    }
    if kept:
        collected.annotations.setdefault(digest, {}).update(kept)


def is_signature_bundle(layer: Descriptor, data: bytes) -> bool:
    """A Sigstore bundle over the image (message signature or cosign/sign DSSE), not an attestation."""
    if not layer.media_type.startswith("application/vnd.dev.sigstore.bundle"):
        return False
    try:
        bundle = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(bundle, dict):
        return False
    if "messageSignature" in bundle:
        return True
    envelope = bundle.get("dsseEnvelope")
    if isinstance(envelope, dict) and isinstance(envelope.get("payload"), str):
        try:
            statement = json.loads(base64.b64decode(envelope["payload"]))
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(statement, dict) and statement.get("predicateType") == COSIGN_SIGN_PREDICATE
    return False
