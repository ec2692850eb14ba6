"""The input document Rego rules see: one per (platform, attestation) of a checked image.

The document is versioned (``version: slsalint.rego-input/v1``) and described by the JSON Schema
``schemas/rego-input-v1.json``; docs/rego.md explains each field. A change that removes or renames
a field gets a new version; adding fields does not.
"""

from __future__ import annotations

from typing import Any

from slsalint.model import Attestation, PlatformTarget, ProvenanceView, Target

INPUT_VERSION = "slsalint.rego-input/v1"
INPUT_SCHEMA = "rego-input-v1"


def provenance_document(view: ProvenanceView | None) -> dict[str, Any] | None:
    """The normalized provenance view as JSON (camelCase, like the JSON report)."""
    if view is None:
        return None
    return {
        "predicateType": view.predicate_type,
        "slsaVersion": view.slsa_version,
        "flavor": view.flavor,
        "builderId": view.builder_id,
        "buildType": view.build_type,
        "mode": view.mode.value,
        "sourceRepository": view.source_repository,
        "sourceRef": view.source_ref,
        "sourceCommit": view.source_commit,
        "materials": [{"uri": m.uri, "digest": dict(m.digest), "pointer": m.pointer} for m in view.materials],
        "buildArgs": dict(view.build_args),
        "pointers": {
            "builder": view.builder_pointer,
            "source": view.source_pointer,
            "buildArgs": view.build_args_pointer,
        },
    }


def verification_document(attestation: Attestation) -> dict[str, Any]:
    """What is known about the attestation's signature.

    ``signed`` says whether the evidence came in a signature-bearing container (a DSSE envelope
    with at least one signature, or a Sigstore bundle). ``verified`` and ``signer`` come from
    signature verification when it ran for this attestation; otherwise ``verified`` is false and
    ``signer`` null, so a rule that needs a verified signer never passes by accident.
    """
    container = getattr(attestation, "container", None)
    if isinstance(container, dict) and attestation.envelope == "dsse":
        signed = bool(container.get("signatures"))
    else:
        signed = attestation.envelope in ("dsse", "bundle")
    out: dict[str, Any] = {"signed": signed, "verified": False, "method": None, "signer": None}
    verification = getattr(attestation, "verification", None)
    if verification is not None:
        out["verified"] = bool(getattr(verification, "verified", False))
        method = getattr(verification, "method", None)
        out["method"] = method if isinstance(method, str) else None
        identity = getattr(verification, "identity", None)
        if identity is not None:
            out["signer"] = {
                "identity": _str_or_none(getattr(identity, "subject", None)),
                "issuer": _str_or_none(getattr(identity, "issuer", None)),
                "keyFingerprint": _str_or_none(getattr(identity, "key_fingerprint", None)),
            }
    return out


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def input_document(target: Target, platform: PlatformTarget, attestation: Attestation) -> dict[str, Any]:
    """The input document for one attestation as it applies to one platform of a target."""
    source = attestation.source
    return {
        "version": INPUT_VERSION,
        "statement": attestation.statement,
        "provenance": provenance_document(attestation.provenance),
        "image": {
            "reference": target.reference,
            "kind": target.kind,
            "digest": platform.digest or None,
            "indexDigest": target.index_digest,
            "platform": str(platform.platform) if platform.platform else None,
        },
        "verification": verification_document(attestation),
        "source": {
            "kind": source.kind,
            "location": source.location,
            "digest": source.digest,
            "envelope": attestation.envelope,
            "appliesToIndex": attestation.applies_to_index,
            "storedFor": attestation.stored_for,
        },
        "schemaErrors": list(attestation.schema_errors),
    }


__all__ = ["INPUT_SCHEMA", "INPUT_VERSION", "input_document", "provenance_document", "verification_document"]
