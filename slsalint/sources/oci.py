"""OCI vocabulary shared by the layout reader and the registry client: media types, descriptors,
digests, and how BuildKit and cosign store attestations next to an image."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from slsalint import jsonio
from slsalint.model import EvidenceSource, OrphanedAttestation, Platform
from slsalint.sources.mediatypes import DOCKER_LIST as DOCKER_LIST
from slsalint.sources.mediatypes import DOCKER_MANIFEST as DOCKER_MANIFEST
from slsalint.sources.mediatypes import OCI_INDEX as OCI_INDEX
from slsalint.sources.mediatypes import OCI_MANIFEST as OCI_MANIFEST

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
SIGNATURE_LAYER_TYPES = frozenset({SIMPLE_SIGNING, DSSE_LAYER})
"""Layers of a cosign ``.sig`` manifest read as image signatures (and Sigstore bundles)."""
SNAPSHOT_REFERENCE_ANNOTATION = "dev.slsalint.snapshot.reference"
"""Set by ``slsalint fetch`` on the image's ``index.json`` entry: the pinned reference it was
fetched from, so an offline check judges the snapshot as that image."""

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


# --- documents, shape-checked -------------------------------------------------------------------
#
# Every manifest, index and descriptor read from a registry, a layout or a referrers answer goes
# through ``parse_document`` / ``Descriptor.parse`` before anything looks at it: wrong JSON types,
# deep nesting or an unknown media type are one-line ``DocumentError``s, never a crash later.


class DocumentError(ValueError):
    """An OCI document or descriptor of the wrong shape; ``str()`` is one line."""


def _string(value: Any, what: str, field_name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DocumentError(f"{what}: '{field_name}' is {type_name(value)}, not a string")
    return value


def _annotations(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DocumentError(f"{what}: 'annotations' is {type_name(value)}, not an object")
    for key, item in value.items():
        if not isinstance(item, str):
            raise DocumentError(f"{what}: annotation {key[:80]!r} is {type_name(item)}, not a string")
    return dict(value)


def _platform(value: Any, what: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DocumentError(f"{what}: 'platform' is {type_name(value)}, not an object")
    for key in ("os", "architecture", "variant"):
        _string(value.get(key), what, f"platform.{key}")
    return Platform.from_descriptor(value)


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
        """A descriptor object; raises DocumentError (a ValueError) for any field of the wrong type."""
        if not isinstance(value, dict):
            raise DocumentError(f"{what}: descriptor is {type_name(value)}, not an object")
        digest, size = value.get("digest"), value.get("size")
        if not isinstance(digest, str) or not is_digest(digest):
            shown = (
                digest[:100] if isinstance(digest, str) else digest if digest is None else type_name(digest)
            )
            raise DocumentError(f"{what}: descriptor has a missing or malformed digest {shown!r}")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**53:
            raise DocumentError(f"{what}: descriptor {digest} has no valid size")
        where = f"{what}: descriptor {digest}"
        return cls(
            media_type=_string(value.get("mediaType"), where, "mediaType") or "",
            digest=digest,
            size=size,
            annotations=_annotations(value.get("annotations"), where),
            platform=_platform(value.get("platform"), where),
            artifact_type=_string(value.get("artifactType"), where, "artifactType"),
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
        raise DocumentError(f"{what}: '{key}' is {type_name(items)}, not a list")
    return [Descriptor.parse(item, what=what) for item in items]


@dataclass(frozen=True)
class Document:
    """An image manifest, an artifact manifest or an image index, every field used type-checked."""

    media_type: str
    """The document's ``mediaType`` (or, when it has none, what its fields say it is)."""
    is_index: bool
    artifact_type: str | None = None
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def layer_types(self) -> frozenset[str]:
        return frozenset(layer.media_type for layer in self.layers)


def parse_document(data: bytes, *, what: str) -> Document:
    """Parse a manifest or index (strict, bounded JSON; see ``slsalint.jsonio``).

    Raises DocumentError (one line, starting with ``what``) for anything of the wrong shape."""
    try:
        value = jsonio.load_object(data)
    except jsonio.JSONError as exc:
        raise DocumentError(f"{what}: {exc}{_short_body_hint(data, exc)}") from None
    return document_of(value, what=what)


def _short_body_hint(data: bytes, error: jsonio.JSONError) -> str:
    return truncation_hint(data) if "not valid JSON" in str(error) else ""


def truncation_hint(data: bytes) -> str:
    """`` (the N-byte body ends in the middle of the document: cut short?)`` when ``data`` is JSON
    that stops at its very end (a body cut by a short Content-Length), else ``""``."""
    if not data.strip() or len(data) > 1 << 24:
        return ""
    try:
        json.loads(data)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(data.rstrip()):
            return f" (the {len(data)}-byte body ends in the middle of the document: cut short?)"
    except (ValueError, RecursionError):
        return ""
    return ""


def document_of(value: dict[str, Any], *, what: str) -> Document:
    schema = value.get("schemaVersion")
    if schema is not None and (isinstance(schema, bool) or schema != 2):
        shown = schema if isinstance(schema, int) else type_name(schema)
        raise DocumentError(f"{what}: schemaVersion {shown} is not supported (expected 2)")
    media_type = _string(value.get("mediaType"), what, "mediaType")
    if media_type is not None and media_type not in INDEX_TYPES | MANIFEST_TYPES:
        raise DocumentError(f"{what}: unsupported media type {media_type[:100]!r}")
    if media_type is None:
        if "manifests" in value:
            media_type = OCI_INDEX
        elif "layers" in value or "config" in value:
            media_type = OCI_MANIFEST
        else:
            raise DocumentError(
                f"{what}: neither a manifest nor an index (no mediaType, layers or manifests)"
            )
    is_index = media_type in INDEX_TYPES
    if is_index and not isinstance(value.get("manifests"), list):
        shown = type_name(value["manifests"]) if "manifests" in value else "missing"
        raise DocumentError(f"{what}: the index's 'manifests' is {shown}, not a list")
    for key in ("layers", "manifests"):
        if key in value and value[key] is not None and not isinstance(value[key], list):
            raise DocumentError(f"{what}: '{key}' is {type_name(value[key])}, not a list")
    config = value.get("config")
    subject = value.get("subject")
    return Document(
        media_type=media_type,
        is_index=is_index,
        artifact_type=_string(value.get("artifactType"), what, "artifactType"),
        config=None if config is None else Descriptor.parse(config, what=f"{what} config"),
        layers=tuple(descriptors(value, "layers", what=f"{what} layer")) if not is_index else (),
        manifests=tuple(descriptors(value, "manifests", what=what)) if is_index else (),
        subject=None if subject is None else Descriptor.parse(subject, what=f"{what} subject"),
        annotations=_annotations(value.get("annotations"), what),
    )


def type_name(value: Any) -> str:
    """``an object``, ``a list``, ``a string``, ... for messages."""
    name = jsonio.type_name(value)
    return {"object": "an object", "array": "a list", "null": "null"}.get(name, f"a {name}")


def location(base: str, digest: str) -> str:
    """Where a manifest stored by digest next to ``base`` (a reference or ``oci:DIR``) is found:
    ``BASE@DIGEST`` with one digest (a digest ``base`` already names is replaced), a reference other
    tools resolve as it is printed."""
    return f"{base.split('@', 1)[0]}@{digest}"


def wanted_layers(document: Document, kind: str, *, want_sbom: bool) -> list[Descriptor]:
    """The layers of an evidence manifest worth reading: attestations (SBOMs only when a rule wants
    them) or, for cosign ``.sig`` manifests, image signatures."""
    out = []
    for layer in document.layers:
        if kind == "cosign-sig":
            if layer.media_type not in SIGNATURE_LAYER_TYPES and not layer.media_type.startswith(
                BUNDLE_LAYER_PREFIXES
            ):
                continue
        elif not is_evidence_layer(layer.media_type):
            continue
        if layer_needed(layer.annotations, want_sbom=want_sbom):
            out.append(layer)
    return out


def referrer_kind(document: Document, listed: Descriptor | None = None) -> str:
    """The evidence kind of a referrer: BuildKit attestation manifests pushed as OCI artifacts are
    filed as such, everything else as ``referrer``."""
    artifact = document.artifact_type or (listed.artifact_type if listed else None)
    return "buildkit-attestation-manifest" if artifact == BUILDKIT_ATTESTATION_ARTIFACT else "referrer"


# --- what a manifest is when it is not an image --------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    """A manifest that holds evidence about an image instead of being one."""

    what: str
    """``a BuildKit attestation manifest``, ``a cosign signature artifact``, ..."""
    image: str | None
    """The digest of the image it is about, when the manifest itself says."""
    layer: Descriptor | None = None
    """A small layer that names the image, to read when ``image`` is None."""


def artifact_of(document: Document, tag: str | None = None) -> Artifact | None:
    """What ``document`` is when it is a signature, attestation or referrer artifact, else None.

    Known by the tag it was read from (``sha256-HEX.sig``/``.att``), its layers (simple-signing or
    DSSE layers: cosign; only in-toto layers: a BuildKit attestation manifest) or its
    ``artifactType`` with a ``subject`` (an OCI 1.1 referrer)."""
    if document.is_index:
        return None
    tag_info = cosign_tag_digest(tag or "")
    types = document.layer_types
    image = tag_info[0] if tag_info else document.subject.digest if document.subject else None
    namer = next(
        (
            layer
            for layer in sorted(document.layers, key=lambda d: d.size)
            if layer.media_type in (SIMPLE_SIGNING, DSSE_LAYER, IN_TOTO_LAYER)
            and layer.size <= MAX_HINT_LAYER
        ),
        None,
    )
    if SIMPLE_SIGNING in types or (tag_info is not None and tag_info[1] == ".sig"):
        return Artifact("a cosign signature artifact", image, namer)
    if DSSE_LAYER in types or (tag_info is not None and tag_info[1] == ".att"):
        return Artifact("a cosign attestation artifact", image, namer)
    if document.artifact_type == BUILDKIT_ATTESTATION_ARTIFACT or (types and types <= {IN_TOTO_LAYER}):
        return Artifact("a BuildKit attestation manifest", image, namer)
    if document.subject is not None and (document.artifact_type or document.config is None):
        return Artifact(f"a referrer artifact ({document.artifact_type or 'no artifactType'})", image)
    if document.subject is not None and document.config is not None:
        config_type = document.config.media_type
        if config_type not in IMAGE_CONFIG_TYPES:
            return Artifact(f"a referrer artifact ({config_type or 'no artifactType'})", image)
    return None


MAX_HINT_LAYER = 1024 * 1024
"""Largest layer read to find out which image a signature or attestation names."""
IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)


def image_named_by(data: bytes) -> str | None:
    """The image digest a simple-signing payload, an in-toto statement or a DSSE envelope names."""
    try:
        document = jsonio.load_object(data)
        if isinstance(document.get("payload"), str):  # a DSSE envelope
            document = jsonio.load_object(base64.b64decode(document["payload"], validate=True))
    except (ValueError, TypeError):
        return None
    critical = document.get("critical")
    if isinstance(critical, dict):
        image = critical.get("image")
        digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
        return digest if isinstance(digest, str) and is_digest(digest) else None
    subjects = document.get("subject")
    for subject in subjects if isinstance(subjects, list) else []:
        digests = subject.get("digest") if isinstance(subject, dict) else None
        value = digests.get("sha256") if isinstance(digests, dict) else None
        if isinstance(value, str) and is_digest(f"sha256:{value.lower()}"):
            return f"sha256:{value.lower()}"
    return None


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
    manifest: Document,
    stored_for: str | None,
    location: str,
    tag: str | None = None,
) -> ManifestNode:
    """Describe an evidence manifest for ``explain``."""
    layers = tuple(
        LayerNode(
            layer.media_type,
            layer.digest,
            layer.size,
            layer_predicate(layer.annotations),
        )
        for layer in manifest.layers
    )
    artifact = manifest.artifact_type or descriptor.artifact_type
    form = None
    if kind == "buildkit-attestation-manifest":
        form = (
            "artifact"
            if artifact == BUILDKIT_ATTESTATION_ARTIFACT or manifest.subject is not None
            else "classic"
        )
    if tag is None and kind in ("cosign-att", "cosign-sig"):
        tail = location.rsplit("/", 1)[-1]
        if ":" in tail and "@" not in tail:
            tag = tail.split(":", 1)[1]
    return ManifestNode(
        kind=kind,
        digest=descriptor.digest,
        media_type=descriptor.media_type or manifest.media_type,
        size=descriptor.size,
        stored_for=stored_for,
        location=location,
        artifact_type=artifact,
        form=form,
        tag=tag,
        layers=layers,
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
    """Platform digests left out by ``--platform``: evidence naming them is ignored, not reported."""
    nested_indexes: dict[str, list[str]] = field(default_factory=dict)
    """Indexes listed by the image index (at any depth) -> the digests they list that are checked
    platforms or nested indexes: evidence naming a nested index applies to the platforms below it."""
    nodes: list[ManifestNode] = field(default_factory=list)
    """Every evidence manifest found (for ``explain``)."""
    referrers_api: bool | None = None
    """Whether the registry answered the referrers API (None: not asked, e.g. a layout)."""
    fallback_tags: list[str] = field(default_factory=list)
    image_size: int = 0
    image_media_type: str = ""
    index_manifests: set[str] = field(default_factory=set)
    """Digests of every manifest the image index (or an index nested in it) lists: an image
    signature over the index digest vouches for the attestation manifests among them."""
    repository: str = ""
    """Where the image's manifests live: ``REGISTRY/REPO`` or ``oci:PATH``."""
    orphaned: list[OrphanedAttestation] = field(default_factory=list)
    """Attestation manifests the index lists for digests it does not list (see ``read_index``)."""
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    """``org.opencontainers.image.*`` annotations by the digest that carries them."""

    def location_of(self, digest: str) -> str:
        """The location of a manifest next to the image: ``REGISTRY/REPO@DIGEST`` or
        ``oci:PATH@DIGEST``, one digest, a reference other tools resolve as it is printed."""
        return location(self.repository or self.reference, digest)

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

    def platforms_below(self, digest: str) -> set[str]:
        """The checked platform digests an index digest (the image's or a nested one) covers."""
        checked = {d for d, _ in self.platforms}
        if digest == self.index_digest:
            return checked
        out: set[str] = set()
        queue, seen = [digest], set()
        while queue:
            current = queue.pop()
            if current in seen:
                continue
            seen.add(current)
            for child in self.nested_indexes.get(current, []):
                if child in checked:
                    out.add(child)
                else:
                    queue.append(child)
        return out


class IndexWalk:
    """Reads an image index, and the indexes nested in it, into a ``Collected``.

    ``add`` files the children of one index: platform manifests go to ``collected.platforms`` (and
    to ``manifests``, to be read and checked by the caller), attestation manifests to
    ``attestations`` (with the digest each names: ``vnd.docker.reference.digest``, or None for the
    subject form), nested indexes to ``pending`` for the caller to read and ``add`` in turn, at most
    ``max_depth`` levels down. ``finish`` refuses an index that leaves nothing to judge.
    Errors: OperationalError for a malformed or degenerate index, ConfigError when ``platforms``
    (``--platform``) matches none."""

    def __init__(
        self,
        collected: Collected,
        where: str,
        platforms: list[Platform] | None,
        *,
        max_depth: int,
        max_entries: int,
    ) -> None:
        self.collected = collected
        self.where = where
        self.platforms = platforms
        self.max_depth = max_depth
        self.max_entries = max_entries
        self.attestations: list[tuple[Descriptor, str | None]] = []
        self.manifests: list[Descriptor] = []
        self.pending: list[tuple[Descriptor, int]] = []
        self._seen: set[str] = set()
        self._entries = 0
        self._skipped: dict[str, int] = {}

    def start(self, document: Document, digest: str) -> None:
        self.collected.is_index = True
        self.collected.index_digest = digest
        self._seen.add(digest)
        self.add(document, digest, 0)

    def add(self, document: Document, digest: str, depth: int) -> None:
        from slsalint.errors import OperationalError

        if not document.is_index:
            raise OperationalError(f"{self.where}: {digest} is listed as an index but is a manifest")
        if depth:
            self.collected.nested_indexes[digest] = []
        # Every manifest an index reached from the image's index lists by digest (nested indexes
        # are themselves listed by digest): an image signature over that index vouches for them.
        self.collected.index_manifests.update(child.digest for child in document.manifests)
        self._entries += len(document.manifests)
        if self._entries > self.max_entries:
            raise OperationalError(
                f"{self.where}: the index lists more than {self.max_entries} manifests "
                "(--limit index-entries)"
            )
        record_annotations(self.collected, digest, document.annotations)
        listed = {child.digest for child in document.manifests}
        for position, child in enumerate(document.manifests):
            if child.is_attestation_manifest:
                names = child.annotations.get(REFERENCE_DIGEST)
                self.attestations.append((child, names))
                self._skip("attestation manifest")
                self._check_names(child, names, listed, position)
            elif child.media_type in INDEX_TYPES:
                if child.digest in self._seen:
                    continue
                self._seen.add(child.digest)
                if depth + 1 > self.max_depth:
                    raise OperationalError(
                        f"{self.where}: image indexes nested more than {self.max_depth} levels deep "
                        f"(index {child.digest}; --limit index-depth)"
                    )
                if depth:
                    self.collected.nested_indexes[digest].append(child.digest)
                self.pending.append((child, depth + 1))
                self._skip("nested index")
            elif child.is_unknown_platform and not child.annotations:
                self._skip("unknown/unknown manifest")
            elif self.platforms and not (
                child.platform and any(child.platform.matches(p) for p in self.platforms)
            ):
                self.collected.excluded_digests.add(child.digest)
            else:
                if depth:
                    self.collected.nested_indexes[digest].append(child.digest)
                if child.digest not in {d for d, _ in self.collected.platforms}:
                    self.collected.platforms.append((child.digest, child.platform))
                    self.manifests.append(child)
                record_annotations(self.collected, child.digest, child.annotations)

    def _check_names(self, child: Descriptor, names: str | None, listed: set[str], position: int) -> None:
        """An attestation manifest must name a digest its index lists: a malformed name is a
        problem; one naming a manifest the index no longer lists (the platform manifest was
        rewritten: recompressed, mutated, converted) is kept as orphaned, never dropped."""
        if names is None:
            return
        source = EvidenceSource(
            "buildkit-attestation-manifest", self.collected.location_of(child.digest), child.digest
        )
        if not is_digest(names):
            self.collected.problems.append(
                (source, f"attestation manifest has a malformed {REFERENCE_DIGEST} {names[:80]!r}", None)
            )
        elif names not in listed:
            self.collected.orphaned.append(
                OrphanedAttestation(
                    source=source,
                    names=names,
                    position=position,
                    size=child.size,
                    media_type=child.media_type,
                    artifact_type=child.artifact_type,
                )
            )

    def _skip(self, what: str) -> None:
        self._skipped[what] = self._skipped.get(what, 0) + 1

    def next_pending(self) -> list[tuple[Descriptor, int]]:
        out, self.pending = self.pending, []
        return out

    def finish(self) -> None:
        from slsalint.errors import ConfigError, OperationalError

        if self.collected.platforms:
            return
        if self.platforms and self.collected.excluded_digests:
            wanted = ", ".join(str(p) for p in self.platforms)
            raise ConfigError(f"{self.where}: the index has no platform matching {wanted}")
        listed = ", ".join(f"{n} {what if n == 1 else _PLURAL[what]}" for what, n in self._skipped.items())
        why = f"it lists only {listed}" if listed else "its manifests list is empty"
        raise OperationalError(
            f"{self.where}: the index {self.collected.index_digest} lists no platform image to check "
            f"({why}); nothing can be judged"
        )


_PLURAL = {
    "attestation manifest": "attestation manifests",
    "nested index": "nested indexes",
    "unknown/unknown manifest": "unknown/unknown manifests",
}


def check_platform_manifest(descriptor: Descriptor, data: bytes, *, what: str) -> Document:
    """A platform manifest listed by the index: it must be an image manifest of the listed size.

    Raises DocumentError (the caller's digest check comes first)."""
    if len(data) != descriptor.size:
        raise DocumentError(f"{what}: {len(data)} bytes, the index says {descriptor.size}")
    document = parse_document(data, what=what)
    if document.is_index:
        raise DocumentError(f"{what}: is an image index, but the index lists it as a platform manifest")
    return document


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
    return is_signature_document(data)


_ESCAPED_LETTER = re.compile(rb"\\u00[4-7][0-9a-fA-F]")
"""A JSON ``\\u`` escape of an ASCII letter (how a key could be spelled without its letters)."""


def is_signature_document(data: bytes) -> bool:
    """Whether ``data`` is a Sigstore bundle that signs an artifact or image rather than carrying
    an attestation: a message signature (``cosign sign-blob --bundle``, ``sigstore sign``) or a
    cosign v3 ``sign`` statement (predicate ``https://sigstore.dev/cosign/sign/v1``)."""
    if b"verificationMaterial" not in data and not jsonio.escape_matches(data, _ESCAPED_LETTER):
        return False  # no bundle key, not even spelled with \u escapes of letters: no parse
    try:
        bundle = jsonio.load_object(data)
    except jsonio.JSONError:
        return False
    if "verificationMaterial" not in bundle:
        return False
    if "messageSignature" in bundle:
        return True
    envelope = bundle.get("dsseEnvelope")
    if isinstance(envelope, dict) and isinstance(envelope.get("payload"), str):
        try:
            statement = jsonio.loads(base64.b64decode(envelope["payload"]))
        except ValueError:
            return False
        return isinstance(statement, dict) and statement.get("predicateType") == COSIGN_SIGN_PREDICATE
    return False
