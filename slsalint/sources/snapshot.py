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

from slsalint.errors import OperationalError
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
    descriptors,
)
from slsalint.sources.reference import parse_reference
from slsalint.sources.registry import Fetched, RegistryClient, RegistryError
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
) -> FetchResult:
    """Read every piece of evidence for ``text`` and write it to the layout ``out``.

    Any source that fails makes the whole fetch fail (exit 3): a snapshot missing evidence would
    make a later offline check disagree with the registry.
    """
    collector = RemoteCollector(client, attestation_repository=attestation_repository)
    collected, snap = collector.collect(text, platforms=platforms, want_sbom=True)
    bundles: list[GitHubBundle] = []
    if github is not None and github.owners:
        from slsalint.sources.github import read_github

        bundles = read_github(github, collected)
    if collected.problems:
        source, message, _ = collected.problems[0]
        more = f" (and {len(collected.problems) - 1} more)" if len(collected.problems) > 1 else ""
        raise OperationalError(f"{text}: cannot snapshot {source}: {message}{more}")
    assert snap.image is not None
    ref = parse_reference(text)
    pinned = ref.with_digest(snap.image.digest)
    writer = LayoutWriter(out)
    manifests = 0
    blobs = 0

    def put_manifest(fetched: Fetched) -> None:
        nonlocal manifests, blobs
        writer.add_blob(fetched.data)
        manifests += 1
        try:
            document = fetched.json()
        except ValueError:
            return
        config = document.get("config")
        if isinstance(config, dict) and isinstance(config.get("digest"), str):
            data = _config_blob(client, pinned, config)
            if data is not None:
                writer.add_blob(data)
                blobs += 1

    put_manifest(snap.image)
    attested: dict[str, Fetched] = {snap.image.digest: snap.image}
    if collected.is_index:
        for digest, _ in collected.platforms:
            try:
                attested[digest] = client.get_manifest(pinned, digest)
                put_manifest(attested[digest])
            except RegistryError as exc:
                raise OperationalError(f"{text}: cannot snapshot platform manifest {digest}: {exc}") from None
        # Platforms left out by --platform stay out, but the index still names them: that is fine,
        # the layout reader never opens a platform manifest of an index.
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
        image_entry, ref_name=ref.tag if not ref.digest else None, annotations={COSIGN_KIND: kind}
    )
    tagged = set()
    for tag, digest in sorted(snap.tags.items()):
        side = snap.manifests.get(digest)
        if side is None:
            continue
        tagged.add(digest)
        writer.add_entry(
            {"mediaType": side.media_type, "digest": digest, "size": len(side.data)}, ref_name=tag
        )
    referrer_digests = {d for items in snap.referrers.values() for d in items}
    for digest in sorted(referrer_digests - tagged):
        referrer = snap.manifests.get(digest)
        if referrer is None:
            continue
        entry: dict[str, Any] = {
            "mediaType": referrer.media_type,
            "digest": digest,
            "size": len(referrer.data),
        }
        try:
            artifact_type = referrer.json().get("artifactType")
        except ValueError:
            artifact_type = None
        if isinstance(artifact_type, str):
            entry["artifactType"] = artifact_type
        writer.add_entry(entry)
    # The fallback referrers index lists manifests too; make sure each listed one is an entry.
    for tag, digest in snap.tags.items():
        if tag.endswith((".att", ".sig")):
            continue
        fallback = snap.manifests.get(digest)
        if fallback is None:
            continue
        try:
            listed = descriptors(fallback.json(), "manifests", what=tag)
        except ValueError:
            continue
        for item in listed:
            if item.digest in snap.manifests and item.digest not in referrer_digests:
                writer.add_entry({"mediaType": item.media_type, "digest": item.digest, "size": item.size})
    for bundle in bundles:
        _put_github_bundle(writer, bundle, attested[bundle.subject])
        manifests += 1
        blobs += 1
    writer.write_index()
    return FetchResult(str(pinned), snap.image.digest, out, manifests, blobs)


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


def _config_blob(client: RegistryClient, ref: Any, config: dict[str, Any]) -> bytes | None:
    data = config.get("data")
    if isinstance(data, str):
        return None  # embedded (OCI empty descriptor); nothing to fetch
    size = config.get("size")
    if isinstance(size, int) and size > 1024 * 1024:
        return None
    try:
        return client.get_blob(ref, str(config["digest"]), size if isinstance(size, int) else None)
    except RegistryError:
        return None
