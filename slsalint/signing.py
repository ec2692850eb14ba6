"""The signature stage of the pipeline: verify every signed piece of evidence of a target.

Attestations decoded from Sigstore bundles, cosign ``.att`` layers (certificate, chain and Rekor
bundle annotations) and keyed DSSE envelopes get a ``Verification``; image signatures (cosign
``.sig`` layers, Sigstore bundles over the image) are verified and checked against the image digest
and the required annotations. Rules SL201-SL206 read the results. Verification is offline: the
trust comes from ``--trusted-root`` or the production root embedded in the sigstore package.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
    root: TrustRoot | None = None
    """The trusted root read from ``trusted_root`` up front (``settings_from_flags``), if any."""

    @property
    def required(self) -> bool:
        """Signatures are required as soon as any signer is configured."""
        return bool(self.signers)

    def keys(self) -> list[Any]:
        return [p.loaded_key() for p in self.signers if p.key is not None]


IMAGE = "image"
ARTIFACT = "artifact"
EVIDENCE = "evidence"


@dataclass
class ImageSignature:
    """One signature found for the target (not carried by an attestation), verified and checked
    against the target's digests."""

    source: EvidenceSource
    stored_for: str | None
    verification: Verification
    problems: list[VerificationProblem]
    """SL205/SL206/SL105 problems from comparing the signed payload with the image."""
    role: str = IMAGE
    """``image``: a signature over the image (cosign ``.sig``, a Sigstore bundle referrer);
    ``artifact``: a message-signature bundle over the checked artifact (``--attestation`` with
    ``--artifact``/``--subject``); ``evidence``: the signature of evidence that could not be read as
    an attestation (its SL105 stands; a signature that does not verify is SL202 as well)."""
    vouches_for: list[str] = field(default_factory=list)
    """Attestation manifests this signature authenticates: it signs the index digest, and the
    index lists them by digest."""

    @property
    def counts(self) -> bool:
        """Verified, and about this image or artifact (no SL205 problem): satisfies SL205."""
        return (
            self.role != EVIDENCE
            and self.verification.verified
            and not any(p.rule_id == "SL205" for p in self.problems)
        )


class _Trust:
    """Loads the trust root on first use only: images with nothing signed never pay for it."""

    def __init__(self, settings: SigningSettings) -> None:
        self.path = settings.trusted_root
        self._root: TrustRoot | None = settings.root

    def get(self) -> TrustRoot:
        if self._root is None:
            from slsalint.verify import TrustRoot

            self._root = TrustRoot.from_file(self.path) if self.path else _production_root()
        return self._root


@functools.cache
def _production_root() -> TrustRoot:
    from slsalint.verify import TrustRoot

    return TrustRoot.production()


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
    trust = _Trust(settings)
    keys = settings.keys()
    unreadable = {problem.source for problem in target.problems}
    attestations = _unique([a for p in target.platforms for a in p.attestations] + target.unmatched)
    for attestation in attestations:
        attestation.verification = verify_attestation(attestation, trust, keys)
    digests = target.all_digests()
    by_manifest: dict[str, list[Attestation]] = {}
    for attestation in attestations:
        manifest = _attestation_manifest(attestation, collected)
        if manifest is not None:
            by_manifest.setdefault(manifest, []).append(attestation)
    role = ARTIFACT if target.kind == "artifact" else IMAGE
    for evidence in collected.signatures:
        if evidence.stored_for in by_manifest:
            _sign_attestation_manifest(evidence, by_manifest[evidence.stored_for], trust, keys)
            continue
        signature = _verify_image_signature(evidence, trust, keys, digests, settings.annotations, role)
        if signature is not None:
            target.image_signatures.append(signature)
    target.image_signatures.extend(_verify_unreadable(unreadable, collected, trust, keys))
    _vouch_for_index_attestations(target, collected, by_manifest, settings)
    _report_malformed(target, attestations)


def _report_malformed(target: Target, attestations: list[Attestation]) -> None:
    """A signature container found malformed while verifying (a bundle field of the wrong type,
    a certificate with a malformed extension) is malformed evidence: SL105, like evidence that
    does not decode, never a signature that merely fails to verify."""
    from slsalint.model import Problem

    platform_of = {p.digest: p.platform for p in target.platforms}
    seen: set[tuple[EvidenceSource, str]] = set()
    found: list[tuple[EvidenceSource, str, str | None]] = [
        (a.source, p.message, _platform_digest(a, target))
        for a in attestations
        if a.verification is not None and a.verification.via is None
        for p in a.verification.problems
        if p.rule_id == "SL105"
    ]
    found += [
        (s.source, p.message, s.stored_for)
        for s in target.image_signatures
        if s.role != EVIDENCE
        for p in [*s.verification.problems, *s.problems]
        if p.rule_id == "SL105"
    ]
    for source, message, digest in found:
        if (source, message) not in seen:
            seen.add((source, message))
            target.problems.append(Problem(source, f"signature: {message}", platform_of.get(digest or "")))


def _platform_digest(attestation: Attestation, target: Target) -> str | None:
    """The platform digest an attestation belongs to, when it belongs to exactly one."""
    holders = [p.digest for p in target.platforms if any(a is attestation for a in p.attestations)]
    return holders[0] if len(holders) == 1 else None


def _unique(attestations: list[Attestation]) -> list[Attestation]:
    seen: set[int] = set()
    out = []
    for attestation in attestations:
        if id(attestation) not in seen:
            seen.add(id(attestation))
            out.append(attestation)
    return out


def _attestation_manifest(attestation: Attestation, collected: Collected) -> str | None:
    """The digest of the BuildKit attestation manifest whose layer holds ``attestation``."""
    if attestation.source.kind != "buildkit-attestation-manifest":
        return None
    for node in collected.nodes:
        if (
            node.kind == "buildkit-attestation-manifest"
            and node.location == attestation.source.location
            and any(layer.digest == attestation.source.digest for layer in node.layers)
        ):
            return node.digest
    return None


def _vouch_for_index_attestations(
    target: Target,
    collected: Collected,
    by_manifest: dict[str, list[Attestation]],
    settings: SigningSettings,
) -> None:
    """An image signature over the index digest signs the index, and the index lists its
    attestation manifests by digest, each of which lists its layers by digest: every statement in
    them is authenticated by that signature, so it counts as signed by the image signer
    (``Verification.via`` says so). Statements with a signature of their own keep it."""
    index = target.index_digest
    if not index or not collected.index_manifests:
        return
    vouching = [
        s for s in target.image_signatures if s.role == IMAGE and s.counts and _signed_digest(s) == index
    ]
    if not vouching:
        return
    chosen = vouching[0]
    if settings.signers:
        from slsalint.verify import match

        allowed = [
            s
            for s in vouching
            if s.verification.identity is not None and match(s.verification.identity, settings.signers)[0]
        ]
        chosen = allowed[0] if allowed else chosen
    for manifest, attestations in sorted(by_manifest.items()):
        if manifest not in collected.index_manifests:
            continue
        chosen.vouches_for.append(manifest)
        via = (
            f"image signature over index {index} ({chosen.source}), which lists attestation "
            f"manifest {manifest} by digest"
        )
        for attestation in attestations:
            if attestation.verification is not None:
                continue  # its own signature is judged on its own (SL202 when it does not verify)
            attestation.verification = replace(
                chosen.verification,
                via=via,
                payload=None,
                payload_type=None,
                subject_digests=frozenset(),
            )


def _signed_digest(signature: ImageSignature) -> str | None:
    """The image digest an image signature is about (its storage place, once it names it)."""
    return signature.verification.signed_digest or signature.stored_for


def _verify_image_signature(
    evidence: RawEvidence,
    trust: _Trust,
    keys: list[Any],
    digests: set[str],
    annotations: dict[str, str],
    role: str,
) -> ImageSignature | None:
    from slsalint.verify import (
        VerificationProblem,
        check_image_signature,
        verify_bundle,
        verify_cosign_layer,
    )

    what = "artifact" if role == ARTIFACT else "image"
    wanted = {d for d in digests if d}
    if evidence.media_type == SIMPLE_SIGNING:
        verification = verify_cosign_layer(
            evidence.data, evidence.annotations, trust.get(), kind="sig", keys=keys
        )
        payload: bytes | None = evidence.data
    elif evidence.media_type is None or evidence.media_type.startswith("application/vnd.dev.sigstore.bundle"):
        stored = evidence.stored_for or None
        verification = verify_bundle(evidence.data, trust.get(), artifact_digest=stored, keys=keys)
        payload = verification.payload
    else:
        return None
    problems: list[VerificationProblem] = []
    if verification.verified and not wanted:
        problems = [
            VerificationProblem(
                "SL205",
                f"signature covers {verification.signed_digest or 'an unnamed digest'}, but no {what} "
                "digest was given to check it against (--artifact FILE or --subject sha256:HEX)",
            )
        ]
    elif verification.verified and payload is not None:
        # The digest the signature is stored for (the .sig tag, the referrer subject) is the one
        # its payload must name.
        stored = evidence.stored_for if evidence.stored_for in wanted else min(wanted)
        problems = check_image_signature(payload, stored, annotations)
    elif verification.verified and verification.signed_digest and verification.signed_digest not in wanted:
        problems = [
            VerificationProblem("SL205", f"signature covers {verification.signed_digest}, not this {what}")
        ]
    elif verification.verified and annotations:
        problems = [
            VerificationProblem(
                "SL206",
                "a message signature carries no annotations, and annotations "
                f"({', '.join(f'{k}={v}' for k, v in sorted(annotations.items()))}) are required",
            )
        ]
    return ImageSignature(evidence.source, evidence.stored_for, verification, problems, role=role)


def _verify_unreadable(
    failed: set[EvidenceSource], collected: Collected, trust: _Trust, keys: list[Any]
) -> list[ImageSignature]:
    """Signatures of evidence that could not be read as attestations (an envelope whose payload
    is not an in-toto statement, a bundle of the wrong shape): the SL105 stands, and a signature
    that does not verify is reported too (SL202), since "broken" and "forged" are both true."""
    out: list[ImageSignature] = []
    for evidence in collected.evidence:
        if evidence.source not in failed:
            continue
        for document in _signed_documents(evidence.data):
            verification = _verify_container(document, evidence, trust, keys)
            if verification is not None and any(p.rule_id == "SL202" for p in verification.problems):
                out.append(
                    ImageSignature(evidence.source, evidence.stored_for, verification, [], role=EVIDENCE)
                )
    return out


MAX_UNREADABLE_DOCUMENTS = 64
"""Most documents of one unreadable file whose signatures are checked."""


def _signed_documents(data: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a document or of JSON Lines that carry a signature."""
    from slsalint import jsonio

    try:
        documents = [jsonio.loads(data)]
    except jsonio.JSONError:
        documents = []
        for line in data.splitlines()[:MAX_UNREADABLE_DOCUMENTS]:
            if line.strip():
                try:
                    documents.append(jsonio.loads(line))
                except jsonio.JSONError:
                    continue
    return [
        d
        for d in documents
        if isinstance(d, dict) and ("verificationMaterial" in d or isinstance(d.get("signatures"), list))
    ]


def _verify_container(
    document: dict[str, Any], evidence: RawEvidence, trust: _Trust, keys: list[Any]
) -> Verification | None:
    from slsalint.verify import (
        verify_bundle,
        verify_cosign_layer,
        verify_dsse_with_keys,
        verify_legacy_dsse,
    )

    if "verificationMaterial" in document:
        return verify_bundle(document, trust.get(), keys=keys)
    annotations = evidence.annotations
    if annotations.get(COSIGN_CERTIFICATE) or annotations.get(COSIGN_BUNDLE):
        return verify_cosign_layer(evidence.data, annotations, trust.get(), kind="att", keys=keys)
    if keys:
        return verify_dsse_with_keys(document, keys)
    signatures = document.get("signatures") or []
    if any(isinstance(s, dict) and s.get("cert") for s in signatures):
        return verify_legacy_dsse(document, trust.get())
    return None


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
        if not path.exists():
            raise ConfigError(f"--key {path}: no such file")
        signers.append(with_loaded_key(SignerPolicy(key=path, name=f"--key {path}"), "--key "))
    required = parse_annotations(annotations)
    chosen = signers or list(policy_signers)
    for policy in chosen:
        for name, value in policy.annotations.items():
            required.setdefault(name, value)
    return SigningSettings(
        signers=chosen, annotations=required, trusted_root=trusted_root, root=load_trusted_root(trusted_root)
    )


def load_trusted_root(path: Path | None) -> TrustRoot | None:
    """Read ``--trusted-root FILE`` up front, before anything is fetched: a file that cannot be
    read (missing, a directory, a FIFO, too large) is a usage error (exit 2); one that can be read
    but is malformed or holds nothing usable is an unusable trust root (exit 3, SPEC §8). Either
    way the message is one line naming the file and, for a malformed root, the field."""
    if path is None:
        return None
    from slsalint import fileio
    from slsalint.errors import ConfigError
    from slsalint.verify import TrustRoot
    from slsalint.verify.trust import MAX_TRUSTED_ROOT_BYTES

    try:
        data = fileio.read_bytes(path, limit=MAX_TRUSTED_ROOT_BYTES)
    except fileio.FileReadError as exc:
        raise ConfigError(f"--trusted-root {exc}") from None
    return TrustRoot.from_json(data, source=str(path))


def _sign_attestation_manifest(
    evidence: RawEvidence, attestations: list[Attestation], trust: _Trust, keys: list[Any]
) -> None:
    """A Sigstore bundle whose subject is a BuildKit attestation manifest (as Docker's GitHub builder
    pushes it) signs every statement in that manifest: they count as signed provenance."""
    from slsalint.verify import Verification, verify_bundle

    verification = verify_bundle(evidence.data, trust.get(), artifact_digest=evidence.stored_for, keys=keys)
    if verification.verified and evidence.stored_for not in verification.subject_digests:
        verification = Verification.failed(
            verification.method,
            "SL202",
            f"bundle stored as the signature of attestation manifest {evidence.stored_for} "
            "signs another digest",
            identity=verification.identity,
        )
    for attestation in attestations:
        if attestation.verification is None:
            attestation.verification = verification
