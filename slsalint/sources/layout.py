"""OCI image layout directories: ``oci:PATH``, ``oci:PATH:TAG``, ``oci:PATH@sha256:HEX``.

Reads what ``skopeo copy``, ``buildx --output type=oci``, ``cosign save`` and ``slsalint fetch``
write. Files are read with ``slsalint.fileio`` (regular files only, bounded: ``index.json`` by
``--limit index-size``, blobs by ``--limit blob-size``) and every blob is checked against its
digest and declared size. Layer blobs of the image itself are never read (layouts saved without
them are fine); the image's index, nested indexes and platform manifests must be present (else
exit 3), attestation blobs too (else SL105).

A snapshot written by ``slsalint fetch`` records the reference it was fetched from
(``dev.slsalint.snapshot.reference`` on the image's ``index.json`` entry) and where each piece of
evidence was found (``dev.slsalint.evidence.location``): the layout is then judged as that image,
with the same sources, so an offline check gives the findings of the online one. ``--image-name
REF`` names the image of any layout the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slsalint import fileio, jsonio
from slsalint.errors import ConfigError, NotAnImage, OperationalError
from slsalint.model import EvidenceSource, Platform
from slsalint.sources.limits import Limits
from slsalint.sources.oci import (
    COSIGN_ATTS_KIND,
    COSIGN_IMAGE_KINDS,
    COSIGN_KIND,
    COSIGN_SIGS_KIND,
    EVIDENCE_LOCATION_ANNOTATION,
    EVIDENCE_SOURCE_ANNOTATION,
    GITHUB_KIND,
    IMAGE_CONFIG_TYPES,
    INDEX_TYPES,
    REF_NAME,
    SNAPSHOT_REFERENCE_ANNOTATION,
    Collected,
    Descriptor,
    Document,
    DocumentError,
    IndexWalk,
    artifact_of,
    check_platform_manifest,
    cosign_tag_digest,
    image_named_by,
    is_digest,
    manifest_node,
    parse_document,
    record_annotations,
    referrer_kind,
    verify_digest,
    wanted_layers,
)

DEFAULT_MAX_BLOB = Limits().blob_size
MAX_MARKER = 64 * 1024


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
            raise ConfigError(f"{text}: malformed digest {digest[:100]!r} (expected sha256:<64 hex>)")
        return LayoutRef(Path(path), digest=digest)
    if Path(rest).is_dir():
        return LayoutRef(Path(rest))
    path, sep, tag = rest.rpartition(":")
    if sep and path and "/" not in tag and tag:
        return LayoutRef(Path(path), tag=tag)
    return LayoutRef(Path(rest))


class OciLayout:
    """Read access to one layout directory, with digest and size checks on every blob."""

    def __init__(self, path: Path, *, limits: Limits | None = None) -> None:
        self.path = path
        self.limits = limits or Limits()
        self.max_blob = self.limits.blob_size
        where = f"oci:{path}"
        if not path.is_dir():
            raise ConfigError(f"{where}: no such directory")
        marker = path / "oci-layout"
        if not marker.exists():
            raise OperationalError(f"{where}: not an OCI image layout (no oci-layout file)")
        try:
            version = jsonio.load_object(fileio.read_bytes(marker, limit=MAX_MARKER)).get(
                "imageLayoutVersion"
            )
        except fileio.FileReadError as exc:
            raise OperationalError(f"{where}: {exc}") from None
        except ValueError:
            version = None
        if not isinstance(version, str):
            raise OperationalError(f"{where}: oci-layout file is malformed")
        index_path = path / "index.json"
        if not index_path.exists():
            raise OperationalError(f"{where}: truncated layout: index.json is missing")
        try:
            data = fileio.read_bytes(index_path, limit=self.limits.index_size)
        except fileio.FileReadError as exc:
            hint = " (--limit index-size)" if "larger than the limit" in exc.problem else ""
            raise OperationalError(f"{where}: {exc}{hint}") from None
        try:
            self.index = parse_document(data, what="index.json")
            if not self.index.is_index:
                raise DocumentError("index.json: is a manifest, not an index")
        except DocumentError as exc:
            raise OperationalError(f"{where}: {exc}") from None
        self.entries = list(self.index.manifests)

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return self.path / "blobs" / algorithm / hexpart

    def has_blob(self, digest: str) -> bool:
        return fileio.is_regular(self.blob_path(digest))

    def read_blob(self, digest: str, size: int | None = None) -> bytes:
        """Read and verify a blob. Raises ValueError with a one-line message."""
        if not is_digest(digest):
            raise ValueError(f"malformed digest {digest[:100]!r}")
        blob = self.blob_path(digest)
        if not blob.exists() and not blob.is_symlink():
            raise ValueError(f"blob {digest} is missing from the layout (truncated layout)")
        if size is not None and size > self.max_blob:
            raise ValueError(
                f"blob {digest} is {size} bytes, over the {self.max_blob}-byte limit (--limit blob-size)"
            )
        try:
            data = fileio.read_bytes(blob, limit=self.max_blob)
        except fileio.FileReadError as exc:
            if exc.problem.lower().startswith(("permission denied", "read failed")):
                raise OperationalError(f"oci:{self.path}: {exc}") from None  # a fault while reading
            raise ValueError(f"blob {digest}: {exc.problem}") from None  # what the layout holds
        if size is not None and len(data) != size:
            raise ValueError(f"blob {digest} is {len(data)} bytes but its descriptor says {size}")
        verify_digest(data, digest, what=f"blob {digest}")
        return data

    def read_document(self, digest: str, size: int | None = None) -> Document:
        """A manifest or index blob, verified and shape-checked (ValueError, one line)."""
        return parse_document(self.read_blob(digest, size), what=f"blob {digest}")


def _is_side_entry(entry: Descriptor) -> bool:
    """Entries of index.json that hold evidence rather than an image."""
    if entry.annotations.get(COSIGN_KIND) in (COSIGN_ATTS_KIND, COSIGN_SIGS_KIND):
        return True
    ref = entry.annotations.get(REF_NAME, "")
    return cosign_tag_digest(ref) is not None or entry.artifact_type is not None


def _select_image(layout: OciLayout, ref: LayoutRef) -> tuple[Descriptor, bool]:
    """The descriptor of the image the reference names, and whether it is an index.json entry."""
    where = str(ref)
    if ref.digest:
        for entry in layout.entries:
            if entry.digest == ref.digest:
                return entry, True
        if not layout.has_blob(ref.digest):
            raise ConfigError(f"{where}: no manifest with digest {ref.digest} in the layout")
        try:
            document = layout.read_document(ref.digest)
        except ValueError as exc:
            raise OperationalError(f"{where}: {exc}") from None
        size = layout.blob_path(ref.digest).stat().st_size
        return Descriptor(media_type=document.media_type, digest=ref.digest, size=size), False
    if ref.tag:
        matches = [e for e in layout.entries if e.annotations.get(REF_NAME) == ref.tag]
        if not matches:
            tags = sorted({t for e in layout.entries if (t := e.annotations.get(REF_NAME))})
            known = f" (tags: {', '.join(tags[:20])})" if tags else " (the layout has no tags)"
            raise ConfigError(f"{where}: no image tagged {ref.tag!r}{known}")
        return matches[0], True
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
            f"{where}: the layout holds {len(candidates)} images ({', '.join(names[:10])}); "
            "name one with oci:PATH:TAG or oci:PATH@DIGEST"
        )
    return next(iter(candidates.values())), True


def image_name(entry: Descriptor | None, digest: str, override: str | None, where: str) -> str | None:
    """The registry reference a layout image is judged as: ``--image-name``, else the reference
    ``slsalint fetch`` recorded; pinned to the image's digest. None: judged as the layout."""
    from slsalint.sources.reference import parse_reference

    if override is not None:
        ref = parse_reference(override)
        if ref.digest and ref.digest != digest:
            raise ConfigError(
                f"--image-name {ref}: names digest {ref.digest}, but the image of {where} is {digest}"
            )
        return str(ref.with_digest(digest))
    recorded = entry.annotations.get(SNAPSHOT_REFERENCE_ANNOTATION) if entry else None
    if not recorded:
        return None
    try:
        ref = parse_reference(recorded)
    except ConfigError:
        raise OperationalError(
            f"{where}: the snapshot's recorded reference {recorded[:200]!r} is malformed"
        ) from None
    if ref.digest != digest:
        raise OperationalError(
            f"{where}: the snapshot records {recorded[:200]} for another digest than its image {digest}"
        )
    return str(ref)


def collect_layout(
    text: str,
    *,
    platforms: list[Platform] | None = None,
    want_sbom: bool = True,
    image_name_override: str | None = None,
    limits: Limits | None = None,
) -> Collected:
    """Read the image named by ``text`` and every piece of evidence the layout holds for it."""
    ref = parse_layout_ref(text)
    layout = OciLayout(ref.path, limits=limits)
    image, listed = _select_image(layout, ref)
    where = str(ref)
    try:
        document = layout.read_document(image.digest, image.size if listed else None)
    except ValueError as exc:
        raise OperationalError(f"{where}: cannot read the image: {exc}") from None
    _reject_artifact(layout, where, ref, image.digest, document)
    name = image_name(image if listed else None, image.digest, image_name_override, where)
    base = name or where  # evidence locations: as the registry named them for a snapshot
    from slsalint.sources.reference import parse_reference

    collected = Collected(
        reference=base,
        kind="image",
        index_digest=None,
        platforms=[],
        repository=parse_reference(name).name if name else f"oci:{layout.path}",
    )
    collected.image_size = layout.blob_path(image.digest).stat().st_size
    collected.image_media_type = document.media_type
    attestation_manifests: list[tuple[Descriptor, str | None]] = []
    read: set[str] = {image.digest}
    """Manifests already read (the image, its platforms, nested indexes, attestation manifests)."""

    if document.is_index:
        walk = IndexWalk(
            collected,
            where,
            platforms,
            max_depth=layout.limits.index_depth,
            max_entries=layout.limits.index_entries,
        )
        walk.start(document, image.digest)
        while pending := walk.next_pending():
            for descriptor, depth in pending:
                walk.add(_required(layout, where, "nested index", descriptor), descriptor.digest, depth)
                read.add(descriptor.digest)
        walk.finish()
        for descriptor in walk.manifests:
            _required(layout, where, "platform manifest", descriptor)
            read.add(descriptor.digest)
        attestation_manifests = walk.attestations
    else:
        collected.platforms.append((image.digest, _manifest_platform(layout, document)))
        record_annotations(collected, image.digest, document.annotations)

    checked = {d for d, _ in collected.platforms}
    wanted_for = checked | ({image.digest} if collected.is_index else set()) | set(collected.nested_indexes)
    entry_of = {entry.digest: entry for entry in layout.entries}

    def place(descriptor: Descriptor) -> str:
        entry = entry_of.get(descriptor.digest)
        recorded = entry.annotations.get(EVIDENCE_LOCATION_ANNOTATION) if entry else None
        return recorded or collected.location_of(descriptor.digest)

    # BuildKit attestation manifests (both forms).
    signed: set[str] = set()
    for descriptor, stored_for in attestation_manifests:
        if stored_for is not None and stored_for not in wanted_for:
            continue
        read.add(descriptor.digest)
        signed.add(descriptor.digest)
        _read_attestation_manifest(
            layout,
            collected.location_of(descriptor.digest),
            descriptor,
            stored_for,
            wanted_for,
            collected,
            want_sbom,
        )

    # Entries of index.json that hold evidence: cosign tags, referrers (manifests with a subject),
    # and the sha256-HEX fallback indexes listing referrers.
    referrers: list[tuple[Descriptor, str | None]] = []
    for entry in layout.entries:
        if entry.digest in read:
            continue
        kind = entry.annotations.get(COSIGN_KIND)
        tag = cosign_tag_digest(entry.annotations.get(REF_NAME, ""))
        if kind == COSIGN_SIGS_KIND or (tag and tag[1] == ".sig"):
            stored_for = tag[0] if tag else image.digest
            if stored_for in wanted_for:
                read.add(entry.digest)
                _read_manifest_layers(layout, place(entry), entry, stored_for, collected, "cosign-sig", True)
            continue
        if kind == COSIGN_ATTS_KIND or (tag and tag[1] == ".att"):
            stored_for = tag[0] if tag else image.digest
            if stored_for in wanted_for:
                read.add(entry.digest)
                _read_manifest_layers(
                    layout, place(entry), entry, stored_for, collected, "cosign-att", want_sbom
                )
            continue
        if entry.media_type in INDEX_TYPES:
            if tag and tag[1] == "" and tag[0] in wanted_for | signed:
                referrers += _fallback_listing(layout, where, entry, tag[0], collected)
            continue
        referrers.append((entry, None))
    for entry, subject in referrers:
        if entry.digest in read:
            continue
        try:
            manifest = layout.read_document(entry.digest, entry.size)
        except ValueError as exc:
            if subject is not None:
                collected.problems.append(
                    (EvidenceSource("referrer", place(entry), entry.digest), str(exc), subject)
                )
            elif entry.artifact_type is not None:
                collected.problems.append(
                    (EvidenceSource("referrer", place(entry), entry.digest), str(exc), None)
                )
            continue
        about = subject or (manifest.subject.digest if manifest.subject else None)
        if about is None or about not in wanted_for | signed:
            continue
        read.add(entry.digest)
        # Bundles `slsalint fetch` copied from GitHub's attestations API keep their source.
        from_github = manifest.annotations.get(EVIDENCE_SOURCE_ANNOTATION) == GITHUB_KIND
        recorded = manifest.annotations.get(EVIDENCE_LOCATION_ANNOTATION) if from_github else None
        _read_manifest_layers(
            layout,
            recorded or place(entry),
            entry,
            about,
            collected,
            GITHUB_KIND if from_github else referrer_kind(manifest, entry),
            want_sbom,
            manifest=manifest,
        )
    return collected


def _required(layout: OciLayout, where: str, what: str, descriptor: Descriptor) -> Document:
    """A manifest the check cannot do without (platform manifests, nested indexes): else exit 3."""
    platform = f" ({descriptor.platform})" if descriptor.platform else ""
    try:
        data = layout.read_blob(descriptor.digest, descriptor.size)
        if what == "platform manifest":
            return check_platform_manifest(descriptor, data, what=f"{what} {descriptor.digest}")
        return parse_document(data, what=f"{what} {descriptor.digest}")
    except ValueError as exc:
        reason = str(exc).replace(f"blob {descriptor.digest}: ", "").replace(f"blob {descriptor.digest} ", "")
        reason = reason.replace(f"{what} {descriptor.digest}: ", "")
        raise OperationalError(f"{where}: {what} {descriptor.digest}{platform}: {reason}") from None


def _fallback_listing(
    layout: OciLayout, where: str, entry: Descriptor, subject: str, collected: Collected
) -> list[tuple[Descriptor, str | None]]:
    """The referrers a ``sha256-HEX`` fallback index lists (those present in the layout)."""
    try:
        listing = layout.read_document(entry.digest, entry.size)
    except ValueError as exc:
        source = EvidenceSource("referrer", collected.location_of(entry.digest), entry.digest)
        collected.problems.append((source, f"referrers fallback index: {exc}", subject))
        return []
    return [(item, subject) for item in listing.manifests if layout.has_blob(item.digest)]


def _reject_artifact(layout: OciLayout, where: str, ref: LayoutRef, digest: str, document: Document) -> None:
    """A signature, attestation or referrer artifact named as the target is not an image."""
    artifact = artifact_of(document, ref.tag)
    if artifact is None:
        return
    target = artifact.image
    if target is None:
        for entry in layout.entries:
            if entry.media_type not in INDEX_TYPES:
                continue
            try:
                listing = layout.read_document(entry.digest, entry.size)
            except ValueError:
                continue
            if any(child.digest == digest for child in listing.manifests):
                target = entry.digest
                break
    if target is None and artifact.layer is not None:
        try:
            target = image_named_by(layout.read_blob(artifact.layer.digest, artifact.layer.size))
        except ValueError:
            target = None
    belongs_to = f"oci:{layout.path}@{target}" if target else None
    hint = f"; check the image it belongs to: {belongs_to}" if belongs_to else ""
    raise NotAnImage(f"{where}: is {artifact.what}, not an image{hint}", what=artifact.what, image=belongs_to)


def _manifest_platform(layout: OciLayout, manifest: Document) -> Platform | None:
    config = manifest.config
    if config is None or config.media_type not in IMAGE_CONFIG_TYPES:
        return None
    try:
        document = jsonio.load_object(layout.read_blob(config.digest, config.size))
    except ValueError:
        return None
    platform = Platform.from_descriptor(document)
    return platform if platform and platform.os and platform.architecture else None


def _read_attestation_manifest(
    layout: OciLayout,
    place: str,
    descriptor: Descriptor,
    stored_for: str | None,
    wanted_for: set[str],
    collected: Collected,
    want_sbom: bool,
) -> None:
    source = EvidenceSource("buildkit-attestation-manifest", place, descriptor.digest)
    try:
        manifest = layout.read_document(descriptor.digest, descriptor.size)
    except ValueError as exc:
        collected.problems.append((source, f"attestation manifest: {exc}", stored_for))
        return
    if stored_for is None and manifest.subject is not None:
        stored_for = manifest.subject.digest
    if stored_for is None:
        collected.problems.append(
            (source, "attestation manifest names no image (no vnd.docker.reference.digest or subject)", None)
        )
        return
    if stored_for not in wanted_for:
        return
    _read_manifest_layers(
        layout,
        place,
        descriptor,
        stored_for,
        collected,
        "buildkit-attestation-manifest",
        want_sbom,
        manifest=manifest,
    )


def _read_manifest_layers(
    layout: OciLayout,
    place: str,
    descriptor: Descriptor,
    stored_for: str,
    collected: Collected,
    kind: str,
    want_sbom: bool,
    *,
    manifest: Document | None = None,
) -> None:
    manifest_source = EvidenceSource(kind, place, descriptor.digest)
    if manifest is None:
        try:
            manifest = layout.read_document(descriptor.digest, descriptor.size)
        except ValueError as exc:
            collected.problems.append((manifest_source, f"{kind} manifest: {exc}", stored_for))
            return
    tag = descriptor.annotations.get(REF_NAME)
    collected.nodes.append(manifest_node(kind, descriptor, manifest, stored_for, place, tag))
    for layer in wanted_layers(manifest, kind, want_sbom=want_sbom):
        source = EvidenceSource(kind, place, layer.digest)
        try:
            data = layout.read_blob(layer.digest, layer.size)
        except ValueError as exc:
            collected.problems.append((source, f"attestation layer: {exc}", stored_for))
            continue
        collected.add_layer(source, layer, data, stored_for, kind)
