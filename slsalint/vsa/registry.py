"""VSAs in a registry: attaching them to an image and finding them again.

Pushed as an OCI 1.1 referrer of the image's digest (the index, or the single manifest): an image
manifest with ``artifactType: application/vnd.dsse.envelope.v1+json``, the empty config, one DSSE
layer annotated ``in-toto.io/predicate-type: https://slsa.dev/verification_summary/v1`` and
``subject`` = the image. A registry that indexes subjects answers the PUT with ``OCI-Subject``;
without it the referrer is added to the ``sha256-HEX`` fallback tag (an OCI index), as the OCI
distribution spec asks of clients. Optionally also in cosign's form: a layer of the
``sha256-HEX.att`` manifest (``predicateType`` and an empty ``dev.cosignproject.cosign/signature``
annotation), appended to the layers already there.

Finding them reads the referrers API (or the fallback tag) and the ``.att`` tag of the digest, and
keeps DSSE layers whose predicate annotation is the VSA type (or absent). Every read goes through
the registry client (auth, retries, digest checks, size bounds); a failure raises RegistryError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slsalint.model import EvidenceSource
from slsalint.sources.oci import DSSE_LAYER, OCI_INDEX, OCI_MANIFEST, Descriptor
from slsalint.sources.reference import ImageRef
from slsalint.sources.registry import RegistryClient, RegistryError, push_blob, push_manifest
from slsalint.vsa.predicate import PREDICATE_TYPE
from slsalint.vsa.verify import MAX_CANDIDATES, Candidate

ARTIFACT_TYPE = DSSE_LAYER
EMPTY_CONFIG = b"{}"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
PREDICATE_ANNOTATION = "in-toto.io/predicate-type"
COSIGN_PREDICATE_ANNOTATION = "predicateType"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MAX_VSA_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class PushResult:
    referrer: str
    """Digest of the referrer manifest."""
    fallback_tag: str | None
    """The fallback tag updated (None: the registry indexed the subject itself)."""
    cosign_tag: str | None = None


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def _descriptor(media_type: str, digest: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def push_vsa(
    client: RegistryClient,
    ref: ImageRef,
    subject: Descriptor,
    envelope: bytes,
    *,
    cosign: bool = False,
    created: str | None = None,
) -> PushResult:
    """Attach one DSSE-enveloped VSA to ``subject`` in ``ref``'s repository (module doc)."""
    layer_digest = push_blob(client, ref, envelope)
    config_digest = push_blob(client, ref, EMPTY_CONFIG)
    annotations = {PREDICATE_ANNOTATION: PREDICATE_TYPE}
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": _descriptor(EMPTY_CONFIG_TYPE, config_digest, len(EMPTY_CONFIG)),
        "layers": [_descriptor(DSSE_LAYER, layer_digest, len(envelope), annotations=annotations)],
        "subject": _descriptor(subject.media_type or OCI_MANIFEST, subject.digest, subject.size),
    }
    if created:
        manifest["annotations"] = {"org.opencontainers.image.created": created}
    data = _json(manifest)
    pushed = push_manifest(client, ref, data, OCI_MANIFEST)
    fallback = None
    if pushed.subject != subject.digest:
        fallback = subject.digest.replace(":", "-")
        entry = _descriptor(
            OCI_MANIFEST, pushed.digest, len(data), artifactType=ARTIFACT_TYPE, annotations=annotations
        )
        _add_to_fallback(client, ref, fallback, entry)
    cosign_tag = None
    if cosign:
        cosign_tag = subject.digest.replace(":", "-") + ".att"
        _add_to_cosign(client, ref, cosign_tag, layer_digest, len(envelope))
    return PushResult(pushed.digest, fallback, cosign_tag)


def _add_to_fallback(client: RegistryClient, ref: ImageRef, tag: str, entry: dict[str, Any]) -> None:
    existing = client.tag_exists(ref, tag)
    manifests: list[Any] = []
    if existing is not None:
        try:
            document = existing.json()
        except ValueError as exc:
            raise RegistryError(f"{ref.name}:{tag}: referrers fallback tag is not an index: {exc}") from None
        listed = document.get("manifests")
        manifests = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    if any(m.get("digest") == entry["digest"] for m in manifests):
        return
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*manifests, entry]}
    push_manifest(client, ref, _json(index), OCI_INDEX, tag)


def _add_to_cosign(client: RegistryClient, ref: ImageRef, tag: str, digest: str, size: int) -> None:
    existing = client.tag_exists(ref, tag)
    layers: list[dict[str, Any]] = []
    if existing is not None:
        try:
            document = existing.json()
        except ValueError as exc:
            raise RegistryError(f"{ref.name}:{tag}: cosign attestation manifest: {exc}") from None
        listed = document.get("layers")
        layers = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    if any(layer.get("digest") == digest for layer in layers):
        return
    annotations = {COSIGN_SIGNATURE_ANNOTATION: "", COSIGN_PREDICATE_ANNOTATION: PREDICATE_TYPE}
    layers.append(_descriptor(DSSE_LAYER, digest, size, annotations=annotations))
    config = {
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [str(layer.get("digest")) for layer in layers]},
        "config": {},
    }
    config_bytes = _json(config)
    config_digest = push_blob(client, ref, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(COSIGN_CONFIG_TYPE, config_digest, len(config_bytes)),
        "layers": layers,
    }
    push_manifest(client, ref, _json(manifest), OCI_MANIFEST, tag)


def _is_vsa_layer(layer: Descriptor) -> bool:
    if layer.media_type != DSSE_LAYER:
        return False
    predicate = layer.annotations.get(PREDICATE_ANNOTATION) or layer.annotations.get(
        COSIGN_PREDICATE_ANNOTATION
    )
    return predicate in (None, PREDICATE_TYPE)


def find_vsas(client: RegistryClient, ref: ImageRef, digest: str) -> list[Candidate]:
    """Every DSSE layer that may hold a VSA for ``digest`` (module doc); raises RegistryError."""
    from slsalint.sources.oci import descriptors

    manifests: list[tuple[str, str]] = []  # (manifest digest or tag, location)
    listing = client.referrers(ref, digest)
    if listing is None:
        fallback = client.tag_exists(ref, digest.replace(":", "-"))
        if fallback is not None:
            try:
                listing = list(fallback.document(what=f"{ref.name}: referrers fallback tag").manifests)
            except ValueError as exc:
                raise RegistryError(str(exc)) from None
        else:
            listing = []
    for item in listing:
        if item.artifact_type not in (None, ARTIFACT_TYPE):
            continue
        manifests.append((item.digest, f"{ref.name}@{item.digest}"))
    tag = digest.replace(":", "-") + ".att"
    out: list[Candidate] = []
    jobs: list[tuple[Descriptor, str]] = []
    cosign = client.tag_exists(ref, tag)
    fetched = [(client.get_manifest(ref, d), location) for d, location in manifests[:MAX_CANDIDATES]]
    if cosign is not None:
        fetched.append((cosign, f"{ref.name}:{tag}"))
    for manifest, location in fetched:
        try:
            document = manifest.json()
            layers = descriptors(document, "layers", what=location)
        except ValueError as exc:
            raise RegistryError(f"{location}: {exc}") from None
        jobs += [(layer, location) for layer in layers if _is_vsa_layer(layer)]
    for layer, location in jobs[:MAX_CANDIDATES]:
        if layer.size > MAX_VSA_BYTES:
            raise RegistryError(f"{location}: VSA layer {layer.digest} is {layer.size} bytes, over the limit")
        data = client.get_blob(ref, layer.digest, layer.size)
        kind = "cosign-att" if location.endswith(".att") else "referrer"
        out.append(Candidate(EvidenceSource(kind, location, layer.digest), data))
    return out
