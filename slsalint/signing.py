"""The signature stage of the pipeline: verify every signed piece of evidence of a target.

Attestations decoded from Sigstore bundles, cosign ``.att`` layers (certificate, chain and Rekor
bundle annotations) and keyed DSSE envelopes get a ``Verification``; image signatures (cosign
``.sig`` layers, Sigstore bundles over the image) are verified and checked against the image digest
and the required annotations. Rules SL201-SL206 read the results. Verification is offline: the
trust comes from ``--trusted-root`` or the production root embedded in the sigstore package.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slsalint.model import Attestation, EvidenceSource, Target

if TYPE_CHECKING:
    from slsalint.sources.oci import Collected, RawEvidence
    from slsalint.verify import SignerPolicy, TrustRoot, Verification, VerificationProblem

COSIGN_CERTIFICATE = "dev.sigstore.cosign/certificate"
COSIGN_BUNDLE = "dev.sigstore.cosign/bundle"
COSIGN_SIGNATURE = "dev.cosignproject.cosign/signature"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"


@dataclass
class SigningSettings:
    """Who may sign, what image signatures must carry, and which trust root to use."""

    signers: list[SignerPolicy] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    trusted_root: Path | None = None

    @property
    def required(self) -> bool:
        """Signatures are required as soon as any signer is configured."""
        return bool(self.signers)

    def keys(self) -> list[Any]:
        return [p.loaded_key() for p in self.signers if p.key is not None]


@dataclass
class ImageSignature:
    """One image signature found for the target, verified and checked against its digest."""

    source: EvidenceSource
    stored_for: str | None
    verification: Verification
    problems: list[VerificationProblem]
    """SL205/SL206/SL105 problems from comparing the signed payload with the image."""


class _Trust:
    """Loads the trust root on first use only: images with nothing signed never pay for it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._root: TrustRoot | None = None

    def get(self) -> TrustRoot:
        if self._root is None:
            from slsalint.verify import TrustRoot

            self._root = TrustRoot.from_file(self.path) if self.path else TrustRoot.production()
        return self._root


def verify_attestation(attestation: Attestation, trust: _Trust, keys: list[Any]) -> Verification | None:
    """Verify the signature that carried ``attestation``; None when it was not signed."""
    from slsalint.verify import (
        verify_bundle,
        verify_cosign_layer,
        verify_dsse_with_keys,
        verify_legacy_dsse,
    )

    container = attestation.container
    if attestation.envelope == "bundle" and container is not None:
        return verify_bundle(container, trust.get(), keys=keys)
    if attestation.envelope != "dsse" or container is None:
        return None
    annotations = attestation.annotations
    if annotations.get(COSIGN_CERTIFICATE) or annotations.get(COSIGN_BUNDLE):
        return verify_cosign_layer(attestation.raw or b"", annotations, trust.get(), kind="att", keys=keys)
    if keys:
        return verify_dsse_with_keys(container, keys)
    signatures = container.get("signatures") or []
    if any(isinstance(s, dict) and s.get("cert") for s in signatures):
        return verify_legacy_dsse(container, trust.get())
    from slsalint.verify import Verification

    return Verification.failed(
        "key",
        "SL204",
        "DSSE envelope carries no certificate or transparency-log evidence; give --key to verify it",
    )


def verify_target(target: Target, collected: Collected, settings: SigningSettings) -> None:
    """Fill in ``Attestation.verification`` and ``Target.image_signatures``."""
    trust = _Trust(settings.trusted_root)
    keys = settings.keys()
    seen: set[int] = set()
    for attestation in [a for p in target.platforms for a in p.attestations] + target.unmatched:
        if id(attestation) in seen:
            continue
        seen.add(id(attestation))
        attestation.verification = verify_attestation(attestation, trust, keys)
    digests = target.all_digests()
    by_manifest: dict[str, list[Attestation]] = {}
    for attestation in [a for p in target.platforms for a in p.attestations] + target.unmatched:
        if attestation.source.kind == "buildkit-attestation-manifest" and "@" in attestation.source.location:
            by_manifest.setdefault(attestation.source.location.rsplit("@", 1)[1], []).append(attestation)
    for evidence in collected.signatures:
        if evidence.stored_for in by_manifest:
            _sign_attestation_manifest(evidence, by_manifest[evidence.stored_for], trust, keys)
            continue
        signature = _verify_image_signature(evidence, trust, keys, digests, settings.annotations)
        if signature is not None:
            target.image_signatures.append(signature)


def _verify_image_signature(
    evidence: RawEvidence,
    trust: _Trust,
    keys: list[Any],
    digests: set[str],
    annotations: dict[str, str],
) -> ImageSignature | None:
    from slsalint.verify import (
        VerificationProblem,
        check_image_signature,
        verify_bundle,
        verify_cosign_layer,
    )

    if evidence.media_type == SIMPLE_SIGNING:
        verification = verify_cosign_layer(
            evidence.data, evidence.annotations, trust.get(), kind="sig", keys=keys
        )
        payload: bytes | None = evidence.data
    elif evidence.media_type and evidence.media_type.startswith("application/vnd.dev.sigstore.bundle"):
        try:
            bundle = json.loads(evidence.data)
        except (ValueError, UnicodeDecodeError):
            return None
        verification = verify_bundle(bundle, trust.get(), artifact_digest=evidence.stored_for, keys=keys)
        payload = verification.payload
    else:
        return None
    problems: list[VerificationProblem] = []
    if verification.verified and payload is not None:
        # The digest the signature is stored for (the .sig tag, the referrer subject) is the one
        # its payload must name.
        stored = evidence.stored_for if evidence.stored_for in digests else min(digests, default="")
        problems = check_image_signature(payload, stored or "", annotations)
    elif verification.verified and verification.signed_digest and verification.signed_digest not in digests:
        problems = [
            VerificationProblem("SL205", f"signature covers {verification.signed_digest}, not this image")
        ]
    return ImageSignature(evidence.source, evidence.stored_for, verification, problems)


def with_loaded_key(signer: SignerPolicy, prefix: str) -> SignerPolicy:
    """``signer`` with its key file (if any) loaded now: a key that is missing or unusable is a
    configuration error (exit 2, the message starting with ``prefix``) even in a run where
    nothing signed is found."""
    from slsalint.errors import ConfigError
    from slsalint.verify.errors import KeyLoadError

    if signer.key is not None:
        try:
            signer.loaded_key()
        except KeyLoadError as exc:
            raise ConfigError(f"{prefix}{exc}") from None
    return signer


def settings_from_flags(
    *,
    identity: str | None = None,
    identity_regexp: str | None = None,
    issuer: str | None = None,
    issuer_regexp: str | None = None,
    keys: Sequence[Path] = (),
    annotations: Sequence[str] = (),
    trusted_root: Path | None = None,
    policy_signers: Sequence[Any] = (),
) -> SigningSettings:
    """cosign-style flags -> settings. Flags replace the policy's signers; annotations add to the
    signers' own. A trusted root that cannot be read is an operational error (exit 3)."""
    from slsalint.errors import ConfigError

    if not (identity or identity_regexp or issuer or issuer_regexp or keys or annotations or policy_signers):
        # Nothing to parse: the verify package (and cryptography) stays unimported until a
        # signature has to be checked.
        if trusted_root is not None and not trusted_root.is_file():
            raise ConfigError(f"--trusted-root {trusted_root}: no such file")
        return SigningSettings(signers=[], annotations={}, trusted_root=trusted_root)
    from slsalint.verify import SignerPolicy, parse_annotations

    signers: list[SignerPolicy] = []
    if identity or identity_regexp or issuer or issuer_regexp:
        signers.append(
            SignerPolicy(
                identity=identity,
                identity_regexp=identity_regexp,
                issuer=issuer,
                issuer_regexp=issuer_regexp,
                name="--certificate-identity/--certificate-oidc-issuer",
            )
        )
    for path in keys:
        if not path.is_file():
            raise ConfigError(f"--key {path}: no such file")
        signers.append(with_loaded_key(SignerPolicy(key=path, name=f"--key {path}"), "--key "))
    required = parse_annotations(annotations)
    chosen = signers or list(policy_signers)
    for policy in chosen:
        for name, value in policy.annotations.items():
            required.setdefault(name, value)
    if trusted_root is not None and not trusted_root.is_file():
        raise ConfigError(f"--trusted-root {trusted_root}: no such file")
    return SigningSettings(signers=chosen, annotations=required, trusted_root=trusted_root)


def _sign_attestation_manifest(
    evidence: RawEvidence, attestations: list[Attestation], trust: _Trust, keys: list[Any]
) -> None:
    """A Sigstore bundle whose subject is a BuildKit attestation manifest (as Docker's GitHub builder
    pushes it) signs every statement in that manifest: they count as signed provenance."""
    from slsalint.verify import verify_bundle

    try:
        bundle = json.loads(evidence.data)
    except (ValueError, UnicodeDecodeError):
        return
    verification = verify_bundle(bundle, trust.get(), artifact_digest=evidence.stored_for, keys=keys)
    if verification.verified and evidence.stored_for not in verification.subject_digests:
        from slsalint.verify import Verification

        verification = Verification.failed(
            verification.method,
            "SL202",
            f"bundle stored as the signature of attestation manifest {evidence.stored_for} "
            "signs another digest",
            identity=verification.identity,
        )
    for attestation in attestations:
        if attestation.verification is None or not attestation.verification.verified:
            attestation.verification = verification
