"""cosign image signatures: the simple-signing payload of ``.sig`` layers (and the in-toto
statement of cosign v3 ``https://sigstore.dev/cosign/sign/v1`` bundles), the image digest they
sign, and their annotations (``cosign sign -a k=v``; ``cosign verify -a k=v`` requires them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slsalint import jsonio
from slsalint.verify.result import (
    ANNOTATION_MISMATCH,
    ENVELOPE_INVALID,
    IMAGE_SIGNATURE_MISSING,
    VerificationProblem,
)

SIMPLE_SIGNING_TYPE = "cosign container image signature"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"


class PayloadError(ValueError):
    """A payload that is neither a simple-signing document nor a cosign sign statement."""


@dataclass(frozen=True)
class ImageSignaturePayload:
    """What an image signature says: which manifest digest, which reference, which annotations."""

    manifest_digests: frozenset[str]
    """``sha256:HEX`` digests the signature is for (one for simple signing)."""
    docker_reference: str | None
    type: str
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    """The ``optional`` map (simple signing) or subject annotations (cosign v3 statement)."""


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, item in value.items():
        if isinstance(item, str):
            out[str(key)] = item
        elif isinstance(item, bool | int | float):
            out[str(key)] = json.dumps(item)
    return out


def parse_image_signature(payload: bytes) -> ImageSignaturePayload:
    """Parse a simple-signing payload or a cosign v3 sign statement (raises PayloadError)."""
    try:
        document = jsonio.loads(payload, unique_keys=True)
    except jsonio.JSONError as exc:
        raise PayloadError(f"image signature payload: {exc}") from None
    if not isinstance(document, dict):
        raise PayloadError("image signature payload is not a JSON object")
    if "critical" in document:
        critical = document["critical"]
        if not isinstance(critical, dict):
            raise PayloadError("simple-signing 'critical' is not an object")
        image = critical.get("image")
        digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
        if not isinstance(digest, str) or ":" not in digest:
            raise PayloadError("simple-signing payload has no critical.image.docker-manifest-digest")
        identity = critical.get("identity")
        reference = identity.get("docker-reference") if isinstance(identity, dict) else None
        kind = critical.get("type")
        return ImageSignaturePayload(
            manifest_digests=frozenset({digest.lower()}),
            docker_reference=reference if isinstance(reference, str) else None,
            type=kind if isinstance(kind, str) else "",
            annotations=_string_map(document.get("optional")),
        )
    if document.get("predicateType") == COSIGN_SIGN_PREDICATE:
        digests: set[str] = set()
        annotations: dict[str, str] = {}
        subjects = document.get("subject")
        for subject in subjects if isinstance(subjects, list) else []:
            if not isinstance(subject, dict):
                continue
            digest_map = subject.get("digest")
            if isinstance(digest_map, dict):
                digests.update(f"{alg}:{v.lower()}" for alg, v in digest_map.items() if isinstance(v, str))
            annotations.update(_string_map(subject.get("annotations")))
        annotations.update(_string_map(document.get("predicate")))
        if not digests:
            raise PayloadError("cosign sign statement names no subject digest")
        return ImageSignaturePayload(
            manifest_digests=frozenset(digests),
            docker_reference=None,
            type=COSIGN_SIGN_PREDICATE,
            annotations=annotations,
        )
    raise PayloadError("payload is neither a cosign simple-signing document nor a cosign sign statement")


def check_image_signature(
    payload: bytes | ImageSignaturePayload,
    image_digest: str,
    required_annotations: Mapping[str, str] | None = None,
) -> list[VerificationProblem]:
    """Problems of a *verified* image signature for ``image_digest``.

    SL205 when it signs another manifest (the signature does not count for this image), SL206
    for each required annotation that is absent or has another value, SL105 when the payload is
    not an image signature at all.
    """
    try:
        parsed = payload if isinstance(payload, ImageSignaturePayload) else parse_image_signature(payload)
    except PayloadError as exc:
        return [VerificationProblem(ENVELOPE_INVALID, str(exc))]
    wanted = image_digest.lower()
    if wanted not in parsed.manifest_digests:
        signed = ", ".join(sorted(parsed.manifest_digests))
        return [
            VerificationProblem(IMAGE_SIGNATURE_MISSING, f"image signature is for {signed}, not {wanted}")
        ]
    problems = []
    for key, value in sorted((required_annotations or {}).items()):
        actual = parsed.annotations.get(key)
        if actual is None:
            problems.append(
                VerificationProblem(
                    ANNOTATION_MISMATCH, f"signature annotation {key!r} is missing (want {value!r})"
                )
            )
        elif actual != value:
            problems.append(
                VerificationProblem(
                    ANNOTATION_MISMATCH, f"signature annotation {key}={actual!r}, want {value!r}"
                )
            )
    return problems


def manifest_digest(payload: bytes) -> str:
    """The ``docker-manifest-digest`` of a simple-signing payload (raises PayloadError)."""
    parsed = parse_image_signature(payload)
    return sorted(parsed.manifest_digests)[0]
