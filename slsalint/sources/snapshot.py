"""``slsalint fetch``: snapshot an image's evidence into a self-contained OCI layout.

The layout holds the index (or manifest), the platform manifests and their configs, BuildKit
attestation manifests, cosign ``.att``/``.sig`` manifests (tagged ``sha256-HEX.att``/``.sig``),
referrer manifests and every evidence blob, so ``slsalint check oci:DIR --offline`` gives the same
findings as the online check. Image layer blobs are not copied: no check reads them.

Bundles read from GitHub's attestations API (``--github-attestations``) are stored as referrer
artifacts of the digest they were listed for: an OCI manifest with the bundle's media type as
``artifactType``, ``subject`` = the attested manifest's descriptor and the bundle as its single layer,
annotated so the layout reader files them under the ``github-attestations`` source again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.errors import ConfigError, OperationalError
from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from slsalint.sources.oci import (
    COSIGN_KIND,
    EVIDENCE_LOCATION_ANNOTATION,
    EVIDENCE_SOURCE_ANNOTATION,
    GITHUB_KIND,
    INDEX_TYPES,
    OCI_MANIFEST,
    PREDICATE_TYPE_ANNOTATION,
    SNAPSHOT_REFERENCE_ANNOTATION,
    Descriptor,
    DocumentError,
)
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import BadContent, Fetched, NotFound, RegistryClient
from slsalint.sources.remote import RemoteCollector

if TYPE_CHECKING:
    from slsalint.sources.github import GitHubBundle, GitHubSettings

IMAGE_INDEX_KIND = "dev.cosignproject.cosign/imageIndex"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
IMAGE_KIND = "dev.cosignproject.cosign/image"


@dataclass(frozen=True)
class FetchResult:
    reference: str
    digest: str
    path: Path
    manifests: int
    blobs: int


def fetch(
    client: RegistryClient,
    text: str,
    out: Path,
    *,
    platforms: list[Platform] | None = None,
    attestation_repository: str | None = None,
    github: GitHubSettings | None = None,
    image_name: str | None = None,
) -> FetchResult:
    """Read every piece of evidence for ``text`` and write it to the layout ``out``.

    The image's ``index.json`` entry records the pinned reference it was fetched from (or
    ``image_name``, pinned to the same digest), and every evidence entry where it was found, so an
    offline check judges the snapshot as the same image with the same sources.

    Any source that fails makes the whole fetch fail (exit 3): a snapshot missing evidence would
    make a later offline check disagree with the registry.
    """
    collector = RemoteCollector(client, attestation_repository=attestation_repository)
    collected, snap = collector.collect(text, platforms=platforms, want_sbom=True)
    assert snap.image is not None
    ref = parse_reference(text)
    pinned = ref.with_digest(snap.image.digest)
    named = pinned
    if image_name is not None:
        named = parse_reference(image_name)
        if named.digest and named.digest != snap.image.digest:
            raise ConfigError(
                f"--image-name {named}: names digest {named.digest}, but {text} is {snap.image.digest}"
            )
        named = named.with_digest(snap.image.digest)
    recorded = str(named)
    bundles: list[GitHubBundle] = []
    if github is not None and github.owners:
        from slsalint.sources.github import read_github

        bundles = read_github(github, collected, budget=client.budget, limits=client.limits)
    if collected.problems:
        source, message, _ = collected.problems[0]
        more = f" (and {len(collected.problems) - 1} more)" if len(collected.problems) > 1 else ""
        raise OperationalError(f"{text}: cannot snapshot {source}: {message}{more}")
    writer = LayoutWriter(out)
    manifests = 0
    blobs = 0

    def put_manifest(fetched: Fetched) -> None:
        nonlocal manifests, blobs
        writer.add_blob(fetched.data)
        manifests += 1
        try:
            config = fetched.document().config
        except DocumentError:
            return
        if config is not None:
            data = _config_blob(client, pinned, config)
            if data is not None:
                writer.add_blob(data)
                blobs += 1

    put_manifest(snap.image)
    attested: dict[str, Fetched] = {snap.image.digest: snap.image}
    for digest in snap.platform_manifests:
        attested[digest] = snap.manifests[digest]
    # Platforms left out by --platform stay out: the index still names them, and the offline
    # check, given the same --platform, never opens them.
    for stored in snap.manifests.values():
        put_manifest(stored)
    for data in snap.blobs.values():
        writer.add_blob(data)
        blobs += 1

    kind = IMAGE_INDEX_KIND if snap.image.media_type in INDEX_TYPES else IMAGE_KIND
    image_entry: dict[str, Any] = {
        "mediaType": snap.image.media_type,
        "digest": snap.image.digest,
        "size": len(snap.image.data),
    }
    writer.add_entry(
        image_entry,
        ref_name=ref.tag if not ref.digest else None,
        annotations={COSIGN_KIND: kind, SNAPSHOT_REFERENCE_ANNOTATION: recorded},
    )

    def evidence_entry(digest: str, fetched: Fetched, *, ref_name: str | None = None) -> None:
        entry: dict[str, Any] = {"mediaType": fetched.media_type, "digest": digest, "size": len(fetched.data)}
        try:
            artifact_type = fetched.document().artifact_type
        except DocumentError:
            artifact_type = None
        if artifact_type is not None and ref_name is None:
            entry["artifactType"] = artifact_type
        where = snap.locations.get(digest)
        if where is not None and where.startswith(ref.name) and named.name != ref.name:
            where = named.name + where[len(ref.name) :]  # as if read from the image named
        writer.add_entry(
            entry,
            ref_name=ref_name,
            annotations={EVIDENCE_LOCATION_ANNOTATION: where} if where else None,
        )

    tagged = set()
    for tag, digest in sorted(snap.tags.items()):
        side = snap.manifests.get(digest)
        if side is None:
            continue
        tagged.add(digest)
        evidence_entry(digest, side, ref_name=tag)
    # Referrers (from the API or a fallback tag's index) are entries too, so the layout reader
    # finds them; each keeps the location it was read from.
    listed = {d for items in snap.referrers.values() for d in items}
    for digest in sorted(listed - tagged):
        referrer = snap.manifests.get(digest)
        if referrer is not None:
            evidence_entry(digest, referrer)
    for bundle in bundles:
        _put_github_bundle(writer, bundle, attested[bundle.subject])
        manifests += 1
        blobs += 1
    writer.write_index()
    return FetchResult(recorded, snap.image.digest, out, manifests, blobs)


def _put_github_bundle(writer: LayoutWriter, bundle: GitHubBundle, subject: Fetched) -> None:
    """Store one GitHub bundle as a referrer artifact of the manifest it attests."""
    annotations = {PREDICATE_TYPE_ANNOTATION: bundle.predicate_type} if bundle.predicate_type else None
    layer = writer.descriptor(bundle.data, bundle.media_type, annotations=annotations)
    config = writer.descriptor(b"{}", OCI_EMPTY)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": bundle.media_type,
        "config": config,
        "layers": [layer],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.data)},
        "annotations": {
            EVIDENCE_SOURCE_ANNOTATION: GITHUB_KIND,
            EVIDENCE_LOCATION_ANNOTATION: bundle.location,
        },
    }
    entry = writer.descriptor(writer.json_bytes(manifest), OCI_MANIFEST, artifact_type=bundle.media_type)
    writer.add_entry(entry)


def _config_blob(client: RegistryClient, ref: Any, config: Descriptor) -> bytes | None:
    """The config blob a manifest names (small ones only); missing or broken ones are left out,
    a fault while reading is exit 3."""
    if config.size > 1024 * 1024:
        return None
    try:
        return client.get_blob(ref, config.digest, config.size)
    except (BadContent, NotFound):
        return None
