"""OCI image layout directories: ``oci:PATH``, ``oci:PATH:TAG``, ``oci:PATH@sha256:HEX``.

Reads what ``skopeo copy``, ``buildx --output type=oci``, ``cosign save`` and ``slsalint fetch``
write. Every blob is checked against its digest and declared size. Layer blobs of the image itself
are never read (layouts saved without them are fine); attestation blobs must be present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slsalint.errors import ConfigError, OperationalError
from slsalint.model import EvidenceSource, Platform
from slsalint.sources.oci import (
    COSIGN_ATTS_KIND,
    COSIGN_IMAGE_KINDS,
    COSIGN_KIND,
    COSIGN_SIGS_KIND,
    EVIDENCE_LOCATION_ANNOTATION,
    EVIDENCE_SOURCE_ANNOTATION,
    GITHUB_KIND,
    INDEX_TYPES,
    REF_NAME,
    SIMPLE_SIGNING,
    Collected,
    Descriptor,
    cosign_tag_digest,
    descriptors,
    is_digest,
    is_evidence_layer,
    layer_needed,
    manifest_node,
    read_index,
    record_annotations,
    verify_digest,
)

DEFAULT_MAX_BLOB = 64 * 1024 * 1024


@dataclass(frozen=True)
class LayoutRef:
    path: Path
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        if self.digest:
            return f"oci:{self.path}@{self.digest}"
        if self.tag:
            return f"oci:{self.path}:{self.tag}"
        return f"oci:{self.path}"


def parse_layout_ref(text: str) -> LayoutRef:
    """Parse ``oci:PATH[:TAG|@DIGEST]``. Raises ConfigError for malformed references."""
    if not text.startswith("oci:"):
        raise ConfigError(f"{text}: not an OCI layout reference (expected oci:PATH)")
    rest = text[4:]
    if not rest:
        raise ConfigError(f"{text}: missing layout path")
    if "@" in rest:
        path, _, digest = rest.rpartition("@")
        if not is_digest(digest):
            raise ConfigError(f"{text}: malformed digest {digest!r} (expected sha256:<64 hex>)")
        return LayoutRef(Path(path), digest=digest)
    if Path(rest).is_dir():
        return LayoutRef(Path(rest))
    path, sep, tag = rest.rpartition(":")
    if sep and path and "/" not in tag and tag:
        return LayoutRef(Path(path), tag=tag)
    return LayoutRef(Path(rest))


class OciLayout:
    """Read access to one layout directory, with digest and size checks on every blob."""

    def __init__(self, path: Path, *, max_blob: int = DEFAULT_MAX_BLOB) -> None:
        self.path = path
        self.max_blob = max_blob
        if not path.is_dir():
            raise ConfigError(f"oci:{path}: no such directory")
        marker = path / "oci-layout"
        if not marker.is_file():
            raise OperationalError(f"oci:{path}: not an OCI image layout (no oci-layout file)")
        try:
            version = json.loads(marker.read_bytes()).get("imageLayoutVersion")
        except (ValueError, AttributeError):
            version = None
        if not isinstance(version, str):
            raise OperationalError(f"oci:{path}: oci-layout file is malformed")
        index_path = path / "index.json"
        if not index_path.is_file():
            raise OperationalError(f"oci:{path}: truncated layout: index.json is missing")
        try:
            self.index = json.loads(index_path.read_bytes())
            if not isinstance(self.index, dict):
                raise ValueError("not an object")
            self.entries = descriptors(self.index, "manifests", what=f"oci:{path}/index.json")
        except ValueError as exc:
            raise OperationalError(f"oci:{path}: index.json is malformed: {exc}") from None

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return self.path / "blobs" / algorithm / hexpart

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str, size: int | None = None) -> bytes:
        """Read and verify a blob. Raises ValueError with a one-line message."""
        if not is_digest(digest):
            raise ValueError(f"malformed digest {digest!r}")
        blob = self.blob_path(digest)
        if not blob.is_file():
            raise ValueError(f"blob {digest} is missing from the layout (truncated layout)")
        actual_size = blob.stat().st_size
        if actual_size > self.max_blob:
            raise ValueError(f"blob {digest} is {actual_size} bytes, over the {self.max_blob}-byte limit")
        if size is not None and actual_size != size:
            raise ValueError(f"blob {digest} is {actual_size} bytes but its descriptor says {size}")
        data = blob.read_bytes()
        verify_digest(data, digest, what=f"blob {digest}")
        return data

    def read_json(self, digest: str, size: int | None = None) -> dict[str, Any]:
        data = self.read_blob(digest, size)
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"blob {digest} is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise ValueError(f"blob {digest} is not a JSON object")
        return document


def _is_side_entry(entry: Descriptor) -> bool:
    """Entries of index.json that hold evidence rather than an image."""
    if entry.annotations.get(COSIGN_KIND) in (COSIGN_ATTS_KIND, COSIGN_SIGS_KIND):
        return True
    ref = entry.annotations.get(REF_NAME, "")
    return cosign_tag_digest(ref) is not None or entry.artifact_type is not None


def _select_image(layout: OciLayout, ref: LayoutRef) -> Descriptor:
    where = str(ref)
    if ref.digest:
        for entry in layout.entries:
            if entry.digest == ref.digest:
                return entry
        if not layout.has_blob(ref.digest):
            raise ConfigError(f"{where}: no manifest with digest {ref.digest} in the layout")
        try:
            document = layout.read_json(ref.digest)
        except ValueError as exc:
            raise OperationalError(f"{where}: {exc}") from None
        media_type = document.get("mediaType")
        return Descriptor(
            media_type=media_type if isinstance(media_type, str) else "",
            digest=ref.digest,
            size=layout.blob_path(ref.digest).stat().st_size,
        )
    if ref.tag:
        matches = [e for e in layout.entries if e.annotations.get(REF_NAME) == ref.tag]
        if not matches:
            tags = sorted({t for e in layout.entries if (t := e.annotations.get(REF_NAME))})
            known = f" (tags: {', '.join(tags)})" if tags else " (the layout has no tags)"
            raise ConfigError(f"{where}: no image tagged {ref.tag!r}{known}")
        return matches[0]
    candidates: dict[str, Descriptor] = {}
    marked = [e for e in layout.entries if e.annotations.get(COSIGN_KIND) in COSIGN_IMAGE_KINDS]
    for entry in marked or layout.entries:
        if _is_side_entry(entry):
            continue
        if entry.annotations.get(COSIGN_KIND) in COSIGN_IMAGE_KINDS or entry.media_type:
            candidates.setdefault(entry.digest, entry)
    if not candidates:
        raise ConfigError(f"{where}: the layout holds no image")
    if len(candidates) > 1:
        names = [e.annotations.get(REF_NAME) or e.digest for e in candidates.values()]
        raise ConfigError(
            f"{where}: the layout holds {len(candidates)} images ({', '.join(names)}); "
            "name one with oci:PATH:TAG or oci:PATH@DIGEST"
        )
    return next(iter(candidates.values()))


def collect_layout(
    text: str, *, platforms: list[Platform] | None = None, want_sbom: bool = True
) -> Collected:
    """Read the image named by ``text`` and every piece of evidence the layout holds for it."""
    ref = parse_layout_ref(text)
    layout = OciLayout(ref.path)
    image = _select_image(layout, ref)
    where = str(ref)
    try:
        document = layout.read_json(image.digest, image.size if image.size else None)
    except ValueError as exc:
        raise OperationalError(f"{where}: cannot read the image: {exc}") from None
    media_type = document.get("mediaType") or image.media_type
    collected = Collected(
        reference=where, kind="image", index_digest=None, platforms=[], repository=f"oci:{layout.path}"
    )
    collected.image_size = layout.blob_path(image.digest).stat().st_size
    collected.image_media_type = str(media_type)
    attestation_manifests: list[tuple[Descriptor, str | None]] = []

    if media_type in INDEX_TYPES or "manifests" in document:
        attestation_manifests = read_index(collected, document, image.digest, where, platforms)
    else:
        collected.platforms.append((image.digest, _manifest_platform(layout, document)))
        record_annotations(collected, image.digest, document.get("annotations"))

    checked = {d for d, _ in collected.platforms}
    wanted_for = checked | ({image.digest} if collected.is_index else set())

    # BuildKit attestation manifests (both forms).
    for descriptor, stored_for in attestation_manifests:
        _read_attestation_manifest(
            layout, where, descriptor, stored_for, wanted_for, collected, want_sbom=want_sbom
        )

    # Entries of index.json that hold evidence: cosign .att tags and referrers (manifests with a subject).
    for entry in layout.entries:
        if entry.digest == image.digest:
            continue
        kind = entry.annotations.get(COSIGN_KIND)
        tag = cosign_tag_digest(entry.annotations.get(REF_NAME, ""))
        if kind == COSIGN_SIGS_KIND or (tag and tag[1] == ".sig"):
            stored_for = tag[0] if tag else image.digest
            if stored_for in wanted_for:
                _read_manifest_layers(
                    layout, where, entry, stored_for, collected, kind="cosign-sig", want_sbom=False
                )
            continue
        if kind == COSIGN_ATTS_KIND or (tag and tag[1] == ".att"):
            stored_for = tag[0] if tag else image.digest
            if stored_for not in wanted_for:
                continue
            _read_manifest_layers(
                layout, where, entry, stored_for, collected, kind="cosign-att", want_sbom=want_sbom
            )
            continue
        if entry.media_type in INDEX_TYPES:
            continue
        try:
            manifest = layout.read_json(entry.digest, entry.size)
        except ValueError as exc:
            source = EvidenceSource("referrer", collected.location_of(entry.digest), entry.digest)
            collected.problems.append((source, str(exc), None))
            continue
        subject = manifest.get("subject")
        # Referrers of the image, and signatures over its attestation manifests.
        signed = {d.digest for d, _ in attestation_manifests}
        if isinstance(subject, dict) and subject.get("digest") in wanted_for | signed:
            # Bundles `slsalint fetch` copied from GitHub's attestations API keep their source.
            annotations = manifest.get("annotations")
            from_github = (
                isinstance(annotations, dict) and annotations.get(EVIDENCE_SOURCE_ANNOTATION) == GITHUB_KIND
            )
            location = (
                annotations.get(EVIDENCE_LOCATION_ANNOTATION) if isinstance(annotations, dict) else None
            )
            _read_manifest_layers(
                layout,
                where,
                entry,
                str(subject["digest"]),
                collected,
                kind=GITHUB_KIND if from_github else "referrer",
                want_sbom=want_sbom,
                manifest=manifest,
                location=str(location) if from_github and isinstance(location, str) and location else None,
            )
    return collected


def _manifest_platform(layout: OciLayout, manifest: dict[str, Any]) -> Platform | None:
    config = manifest.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
        return None
    if config.get("mediaType") not in (
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    ):
        return None
    try:
        document = layout.read_json(config["digest"], config.get("size"))
    except ValueError:
        return None
    platform = Platform.from_descriptor(document)
    return platform if platform and platform.os and platform.architecture else None


def _read_attestation_manifest(
    layout: OciLayout,
    where: str,
    descriptor: Descriptor,
    stored_for: str | None,
    wanted_for: set[str],
    collected: Collected,
    *,
    want_sbom: bool,
) -> None:
    source = EvidenceSource(
        "buildkit-attestation-manifest", collected.location_of(descriptor.digest), descriptor.digest
    )
    try:
        manifest = layout.read_json(descriptor.digest, descriptor.size)
    except ValueError as exc:
        if stored_for is None or stored_for in wanted_for:
            collected.problems.append((source, f"attestation manifest: {exc}", stored_for))
        return
    subject = manifest.get("subject")
    if stored_for is None and isinstance(subject, dict) and isinstance(subject.get("digest"), str):
        stored_for = subject["digest"]
    if stored_for is None:
        collected.problems.append(
            (source, "attestation manifest names no image (no vnd.docker.reference.digest or subject)", None)
        )
        return
    if stored_for not in wanted_for:
        return
    _read_manifest_layers(
        layout,
        where,
        descriptor,
        stored_for,
        collected,
        kind="buildkit-attestation-manifest",
        want_sbom=want_sbom,
        manifest=manifest,
    )


def _read_manifest_layers(
    layout: OciLayout,
    where: str,
    descriptor: Descriptor,
    stored_for: str,
    collected: Collected,
    *,
    kind: str,
    want_sbom: bool,
    manifest: dict[str, Any] | None = None,
    location: str | None = None,
) -> None:
    location = location or collected.location_of(descriptor.digest)
    manifest_source = EvidenceSource(kind, location, descriptor.digest)
    if manifest is None:
        try:
            manifest = layout.read_json(descriptor.digest, descriptor.size)
        except ValueError as exc:
            collected.problems.append((manifest_source, f"{kind} manifest: {exc}", stored_for))
            return
    tag = descriptor.annotations.get(REF_NAME)
    collected.nodes.append(manifest_node(kind, descriptor, manifest, stored_for, location, tag))
    try:
        layers = descriptors(manifest, "layers", what=f"manifest {descriptor.digest}")
    except ValueError as exc:
        collected.problems.append((manifest_source, str(exc), stored_for))
        return
    for layer in layers:
        if kind == "cosign-sig":
            if layer.media_type != SIMPLE_SIGNING:
                continue
        elif not is_evidence_layer(layer.media_type):
            continue
        if not layer_needed(layer.annotations, want_sbom=want_sbom):
            continue
        source = EvidenceSource(kind, location, layer.digest)
        try:
            data = layout.read_blob(layer.digest, layer.size)
        except ValueError as exc:
            collected.problems.append((source, f"attestation layer: {exc}", stored_for))
            continue
        collected.add_layer(source, layer, data, stored_for, kind)
