"""Every piece of evidence a registry holds for an image, read concurrently and merged.

Sources (SPEC §3): BuildKit attestation manifests in the index (classic and artifact forms), cosign
``sha256-HEX.att`` tags (optionally in another repository), OCI referrers (API with the
``sha256-HEX`` fallback tag), and Sigstore bundle referrers. A source that fails is reported as a
problem of the target, never skipped silently. The reference is resolved to a digest once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from slsalint.errors import ConfigError, NotAnImage, OperationalError
from slsalint.model import EvidenceSource, Platform
from slsalint.sources.oci import (
    BUILDKIT_ATTESTATION_ARTIFACT,
    INDEX_TYPES,
    SIMPLE_SIGNING,
    Collected,
    Descriptor,
    cosign_tag_digest,
    descriptors,
    is_evidence_layer,
    layer_needed,
    manifest_node,
    read_index,
    record_annotations,
)
from slsalint.sources.reference import ImageRef, parse_reference
from slsalint.sources.registry import Fetched, NotFound, RegistryClient, RegistryError

T = TypeVar("T")

COSIGN_LAYER_TYPES = frozenset({SIMPLE_SIGNING, "application/vnd.dsse.envelope.v1+json"})


@dataclass
class Snapshot:
    """Every manifest and blob read, so ``slsalint fetch`` can write them to a layout."""

    image: Fetched | None = None
    manifests: dict[str, Fetched] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    """Side tags (``sha256-HEX.att``, ``.sig``, fallback referrers tags) -> manifest digest."""
    referrers: dict[str, list[str]] = field(default_factory=dict)
    """Subject digest -> referrer manifest digests."""


class RemoteCollector:
    def __init__(
        self,
        client: RegistryClient,
        *,
        attestation_repository: str | None = None,
        workers: int = 32,
    ) -> None:
        self.client = client
        self.attestation_repository = attestation_repository
        self.workers = workers

    def resolve(self, ref: ImageRef) -> Fetched:
        """The manifest the reference names, fetched once (tags resolve to a digest here)."""
        try:
            return self.client.get_manifest(ref, ref.digest or ref.tag or "latest")
        except NotFound:
            what = f"digest {ref.digest}" if ref.digest else f"tag {ref.tag!r}"
            raise ConfigError(f"{ref}: {what} not found in {ref.name}") from None

    def collect(
        self, text: str, *, platforms: list[Platform] | None = None, want_sbom: bool = True
    ) -> tuple[Collected, Snapshot]:
        ref = parse_reference(text)
        snapshot = Snapshot()
        image = self.resolve(ref)
        snapshot.image = image
        pinned = ref.with_digest(image.digest)
        collected = Collected(
            reference=str(pinned), kind="image", index_digest=None, platforms=[], repository=pinned.name
        )
        collected.image_size = len(image.data)
        collected.image_media_type = image.media_type
        try:
            document = image.json()
        except ValueError as exc:
            raise OperationalError(f"{ref}: {exc}") from None
        _reject_signature_artifact(ref, image, document)

        attestation_descs: list[tuple[Descriptor, str | None]] = []
        if image.media_type in INDEX_TYPES or "manifests" in document:
            attestation_descs = read_index(collected, document, image.digest, str(pinned), platforms)
        else:
            collected.platforms.append((image.digest, self._platform_of(pinned, document)))
            record_annotations(collected, image.digest, document.get("annotations"))

        checked = [d for d, _ in collected.platforms]
        subjects = ([image.digest] if collected.is_index else []) + checked
        wanted_for = set(subjects)
        seen_manifests: set[str] = {d.digest for d, _ in attestation_descs}
        side_repo = ref.with_repository(self.attestation_repository) if self.attestation_repository else ref
        side_repo_name = (
            parse_reference(self.attestation_repository).repository if self.attestation_repository else None
        )
        if side_repo_name:
            side_repo = ImageRef(ref.registry, side_repo_name)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            # Round 2: attestation manifests, cosign tags, referrers - all at once.
            att_jobs = [(d, s) for d, s in attestation_descs if s is None or s in wanted_for]
            tag_jobs = [(digest, suffix) for digest in subjects for suffix in (".att", ".sig")]
            att_futures = [
                pool.submit(self._safe, partial(self.client.get_manifest, pinned, d.digest))
                for d, _ in att_jobs
            ]
            tag_futures = [
                pool.submit(
                    self._safe, partial(self.client.tag_exists, side_repo, digest.replace(":", "-") + suffix)
                )
                for digest, suffix in tag_jobs
            ]
            # Referrers of the image digests and of the attestation manifests (Sigstore bundles
            # signing them); the API and the sha256-HEX fallback tag are asked at once.
            ref_subjects = subjects + [d.digest for d, _ in att_jobs]
            api_futures = [
                pool.submit(self._safe, partial(self.client.referrers, pinned, digest))
                for digest in ref_subjects
            ]
            fallback_futures = [
                pool.submit(self._safe, partial(self.client.tag_exists, pinned, digest.replace(":", "-")))
                for digest in ref_subjects
            ]
            att_results = [f.result() for f in att_futures]
            tag_results = [f.result() for f in tag_futures]
            ref_results = [
                self._combine_referrers(pinned, digest, api.result(), fallback.result())
                for digest, api, fallback in zip(ref_subjects, api_futures, fallback_futures, strict=True)
            ]

            layer_jobs: list[tuple[ImageRef, Descriptor, Descriptor, str, str, str]] = []
            # (repo, manifest descriptor, layer, stored_for, kind, location)
            signed_targets: list[str] = []
            for (descriptor, stored_for), result in zip(att_jobs, att_results, strict=True):
                location = collected.location_of(descriptor.digest)
                source = EvidenceSource("buildkit-attestation-manifest", location, descriptor.digest)
                if isinstance(result, Exception):
                    collected.problems.append((source, f"attestation manifest: {result}", stored_for))
                    continue
                snapshot.manifests[descriptor.digest] = result
                manifest = self._json(result, collected, source, stored_for)
                if manifest is None:
                    continue
                subject = manifest.get("subject")
                if (
                    stored_for is None
                    and isinstance(subject, dict)
                    and isinstance(subject.get("digest"), str)
                ):
                    stored_for = subject["digest"]
                if stored_for is None:
                    collected.problems.append(
                        (
                            source,
                            "attestation manifest names no image (no vnd.docker.reference.digest or subject)",
                            None,
                        )
                    )
                    continue
                if stored_for not in wanted_for:
                    continue
                signed_targets.append(descriptor.digest)
                layer_jobs += self._layers(
                    pinned,
                    descriptor,
                    manifest,
                    stored_for,
                    "buildkit-attestation-manifest",
                    collected,
                    source,
                    want_sbom,
                )

            for (digest, suffix), tag_result in zip(tag_jobs, tag_results, strict=True):
                tag = digest.replace(":", "-") + suffix
                kind = "cosign-att" if suffix == ".att" else "cosign-sig"
                source = EvidenceSource(kind, f"{side_repo.name}:{tag}")
                if isinstance(tag_result, Exception):
                    collected.problems.append((source, f"cosign {suffix} tag: {tag_result}", digest))
                    continue
                if tag_result is None:
                    continue
                snapshot.tags[tag] = tag_result.digest
                snapshot.manifests[tag_result.digest] = tag_result
                manifest = self._json(tag_result, collected, source, digest)
                if manifest is None:
                    continue
                descriptor = Descriptor(tag_result.media_type, tag_result.digest, len(tag_result.data))
                source = EvidenceSource(kind, f"{side_repo.name}:{tag}", tag_result.digest)
                if suffix == ".sig":
                    layer_jobs += self._layers(
                        side_repo,
                        descriptor,
                        manifest,
                        digest,
                        kind,
                        collected,
                        source,
                        True,
                        signatures=True,
                    )
                    continue
                layer_jobs += self._layers(
                    side_repo, descriptor, manifest, digest, kind, collected, source, want_sbom
                )

            referrer_jobs: list[tuple[str, dict[str, Any]]] = []
            for digest, ref_result in zip(ref_subjects, ref_results, strict=True):
                source = EvidenceSource("referrer", collected.location_of(digest))
                if isinstance(ref_result, Exception):
                    collected.problems.append((source, f"referrers: {ref_result}", digest))
                    continue
                listing, fallback, api = ref_result
                if digest in wanted_for:
                    collected.referrers_api = api
                if fallback is not None and digest in wanted_for:
                    collected.fallback_tags.append(digest.replace(":", "-"))
                    snapshot.tags[digest.replace(":", "-")] = fallback.digest
                    snapshot.manifests[fallback.digest] = fallback
                snapshot.referrers[digest] = [str(item.get("digest")) for item in listing]
                for item in listing:
                    item_digest = item.get("digest")
                    if not isinstance(item_digest, str) or item_digest in seen_manifests:
                        continue
                    seen_manifests.add(item_digest)
                    referrer_jobs.append((digest, item))

            # Round 3: referrer manifests, referrers of attestation manifests (signed provenance).
            ref_manifests = [
                f.result()
                for f in [
                    pool.submit(self._safe, partial(self.client.get_manifest, pinned, str(item["digest"])))
                    for _, item in referrer_jobs
                ]
            ]
            for (digest, item), result in zip(referrer_jobs, ref_manifests, strict=True):
                item_digest = str(item["digest"])
                source = EvidenceSource("referrer", collected.location_of(item_digest), item_digest)
                if isinstance(result, Exception):
                    collected.problems.append((source, f"referrer manifest: {result}", digest))
                    continue
                snapshot.manifests[item_digest] = result
                manifest = self._json(result, collected, source, digest)
                if manifest is None:
                    continue
                artifact_type = manifest.get("artifactType") or item.get("artifactType")
                descriptor = Descriptor(
                    result.media_type,
                    item_digest,
                    len(result.data),
                    artifact_type=artifact_type if isinstance(artifact_type, str) else None,
                )
                kind = (
                    "buildkit-attestation-manifest"
                    if artifact_type == BUILDKIT_ATTESTATION_ARTIFACT
                    else "referrer"
                )
                if kind == "buildkit-attestation-manifest":
                    signed_targets.append(item_digest)
                layer_jobs += self._layers(
                    pinned, descriptor, manifest, digest, kind, collected, source, want_sbom
                )

            # Round 4: every evidence layer at once.
            blob_futures = [
                pool.submit(self._safe, partial(self.client.get_blob, repo, layer.digest, layer.size))
                for repo, _, layer, _, _, _ in layer_jobs
            ]
            blobs = [f.result() for f in blob_futures]
            for (_, _desc, layer, stored_for, kind, location), blob in zip(layer_jobs, blobs, strict=True):
                source = EvidenceSource(kind, location, layer.digest)
                if isinstance(blob, Exception):
                    collected.problems.append((source, f"attestation layer: {blob}", stored_for))
                    continue
                snapshot.blobs[layer.digest] = blob
                collected.add_layer(source, layer, blob, stored_for, kind)
        return collected, snapshot

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _safe(func: Callable[[], T]) -> T | Exception:
        try:
            return func()
        except RegistryError as exc:
            return exc

    @staticmethod
    def _combine_referrers(
        ref: ImageRef,
        digest: str,
        api: list[dict[str, Any]] | Exception | None,
        fallback: Fetched | Exception | None,
    ) -> tuple[list[dict[str, Any]], Fetched | None, bool] | Exception:
        """(referrer descriptors, the fallback tag's index if it was used, whether the API answered)."""
        if isinstance(api, Exception):
            return api
        if api is not None:
            return api, None, True
        if isinstance(fallback, Exception):
            return fallback
        if fallback is None:
            return [], None, False
        try:
            document = fallback.json()
            items = document.get("manifests") or []
        except ValueError as exc:
            return RegistryError(f"{ref.name}: referrers fallback tag {digest.replace(':', '-')}: {exc}")
        return [i for i in items if isinstance(i, dict)], fallback, False

    def _platform_of(self, ref: ImageRef, manifest: dict[str, Any]) -> Platform | None:
        """The platform of a single-manifest image, from its config (as the layout reader does)."""
        config = manifest.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            return None
        if config.get("mediaType") not in (
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.container.image.v1+json",
        ):
            return None
        size = config.get("size")
        try:
            data = self.client.get_blob(ref, config["digest"], size if isinstance(size, int) else None)
            document = json.loads(data)
        except (RegistryError, ValueError, UnicodeDecodeError):
            return None
        platform = Platform.from_descriptor(document)
        return platform if platform and platform.os and platform.architecture else None

    @staticmethod
    def _json(
        fetched: Fetched, collected: Collected, source: EvidenceSource, stored_for: str | None
    ) -> dict[str, Any] | None:
        try:
            return fetched.json()
        except ValueError as exc:
            collected.problems.append((source, f"manifest {exc}", stored_for))
            return None

    @staticmethod
    def _layers(
        repo: ImageRef,
        descriptor: Descriptor,
        manifest: dict[str, Any],
        stored_for: str,
        kind: str,
        collected: Collected,
        source: EvidenceSource,
        want_sbom: bool,
        *,
        signatures: bool = False,
    ) -> list[tuple[ImageRef, Descriptor, Descriptor, str, str, str]]:
        collected.nodes.append(manifest_node(kind, descriptor, manifest, stored_for, source.location))
        try:
            layers = descriptors(manifest, "layers", what=f"manifest {descriptor.digest}")
        except ValueError as exc:
            collected.problems.append((source, str(exc), stored_for))
            return []
        location = source.location
        jobs = []
        for layer in layers:
            if signatures:
                if layer.media_type not in COSIGN_LAYER_TYPES and not layer.media_type.startswith(
                    "application/vnd.dev.sigstore.bundle"
                ):
                    continue
            elif not is_evidence_layer(layer.media_type):
                continue
            if not layer_needed(layer.annotations, want_sbom=want_sbom):
                continue
            jobs.append((repo, descriptor, layer, stored_for, kind, location))
        return jobs


def _reject_signature_artifact(ref: ImageRef, image: Fetched, document: dict[str, Any]) -> None:
    """A ``.sig``/``.att`` tag or a referrer artifact is not an image: say which image to check."""
    tag_info = cosign_tag_digest(ref.tag or "")
    raw_layers = document.get("layers")
    layers: list[Any] = raw_layers if isinstance(raw_layers, list) else []
    layer_types = {layer.get("mediaType") for layer in layers if isinstance(layer, dict)}
    subject = document.get("subject") if isinstance(document.get("subject"), dict) else None
    artifact_type = document.get("artifactType")
    is_cosign = bool(layer_types & COSIGN_LAYER_TYPES) or (
        tag_info is not None and tag_info[1] in (".sig", ".att")
    )
    is_referrer = subject is not None and isinstance(artifact_type, str)
    if not (is_cosign or is_referrer):
        return
    if tag_info is not None:
        target = tag_info[0]
    elif subject is not None and isinstance(subject.get("digest"), str):
        target = subject["digest"]
    else:
        target = None
    signature = SIMPLE_SIGNING in layer_types or bool(tag_info and tag_info[1] == ".sig")
    if is_cosign:
        what = f"a cosign {'signature' if signature else 'attestation'} artifact"
    else:
        what = f"a referrer artifact ({artifact_type})"
    belongs_to = f"{ref.name}@{target}" if target else None
    hint = f"; check the image it belongs to: {belongs_to}" if belongs_to else ""
    raise NotAnImage(f"{ref}: is {what}, not an image{hint}", what=what, image=belongs_to)
