"""Is the evidence signed, by whom, and does the image carry the signature the policy asks for?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slsalint.checks.base import Check, CheckContext, options_schema
from slsalint.model import Attestation, Finding, Level, PlatformTarget

_IMAGE_ROLES = ("image", "artifact")
"""Roles of ``Target.image_signatures`` that sign the image or artifact itself (``evidence``:
the signature of evidence that could not be read as an attestation)."""


def _settings(ctx: CheckContext) -> Any:
    return ctx.target.signing


def _required(ctx: CheckContext) -> bool:
    settings = _settings(ctx)
    return bool(settings is not None and settings.required)


def _attestations(ctx: CheckContext) -> Iterator[tuple[PlatformTarget | None, Attestation]]:
    """Every attestation of the target once, with its platform when it belongs to exactly one."""
    seen: dict[int, list[PlatformTarget]] = {}
    order: list[Attestation] = []
    for platform in ctx.target.platforms:
        for attestation in platform.attestations:
            if id(attestation) not in seen:
                seen[id(attestation)] = []
                order.append(attestation)
            seen[id(attestation)].append(platform)
    for attestation in order:
        holders = seen[id(attestation)]
        yield (holders[0] if len(holders) == 1 else None), attestation


def _own_verification(attestation: Attestation) -> Any:
    """The verification of the attestation's own signature (None when it is unsigned, or signed
    only through the image signature over the index: that signature's findings are its own)."""
    verification = attestation.verification
    if verification is None or verification.via is not None:
        return None
    return verification


def _image_signatures(ctx: CheckContext) -> list[Any]:
    return [s for s in ctx.target.image_signatures if s.role in _IMAGE_ROLES]


def _signature_finding(ctx: CheckContext, signature: Any, message: str, **fields: Any) -> Finding:
    finding = ctx.finding(message, **fields)
    finding.source = str(signature.source)
    return finding


def _what(signature: Any) -> str:
    return {"artifact": "artifact signature", "evidence": "signature of unreadable evidence"}.get(
        signature.role, "image signature"
    )


class SignatureMissing(Check):
    """When signers are configured, every platform's provenance must be signed.

    **What it checks.** For each checked platform, that at least one SLSA provenance attestation came
    with a signature: a Sigstore bundle, a cosign ``.att`` layer with its certificate and Rekor
    bundle, or a DSSE envelope verified with ``--key``. Inactive until a signer is configured
    (``signers:`` in the policy, ``--certificate-identity``/``--certificate-oidc-issuer`` or
    ``--key``).

    BuildKit's own attestation manifests hold unsigned statements. They count as signed when a
    Sigstore bundle over the attestation manifest is found, and when the image itself is signed:
    an image signature over the **index digest** (``cosign sign IMAGE@INDEX-DIGEST``, as Microcks
    and GitLab pipelines do) signs the index, the index lists each attestation manifest by digest
    and each attestation manifest lists its layers by digest, so every statement the index lists is
    authenticated by that signature and counts as signed by the image signer. The report says so
    (``via`` in the JSON verification record, and in the text evidence line); the image signature
    itself is judged by SL202-SL206. A signature over a platform manifest vouches for nothing else:
    a platform manifest does not list its attestations.

    With the option ``require-signers: true`` (set by the ``slsa-build-l2``, ``slsa-build-l3`` and
    ``github-actions`` packs) a run in which no signer is configured for an image is itself a
    finding: signed provenance means nothing until you say whose signature you expect. With
    ``require-attestation-signatures: true`` an image signature over the index does not count: the
    provenance itself must be signed (``cosign attest``, a bundle over the attestation manifest).

    **Why it matters.** Unsigned provenance can be written by anyone who can push to the registry.

    **How to fix.** Sign the provenance (``cosign attest --type slsaprovenance``,
    ``actions/attest-build-provenance``, the SLSA generator's container workflow), or sign the
    image by its index digest (``cosign sign IMAGE@sha256:...``) so the signature covers the
    attestation manifests the index lists.

    **Passing example.** A cosign ``.att`` tag with a DSSE layer and certificate annotations; or
    BuildKit provenance in the index and a ``cosign sign`` signature over the index digest.

    **Failing example.** Only BuildKit attestation manifests, no image signature, and ``signers:``
    in the policy.

    **Options.** ``require-signers``: when true, no configured signer is a finding.
    ``require-attestation-signatures``: when true, only signatures on the attestations themselves
    count, not an image signature over the index.
    """

    id = "SL201"
    name = "signature-missing"
    level = Level.ERROR
    summary = "Policy requires signed provenance and none is signed"
    remediation = (
        "sign the provenance (cosign attest, actions/attest-build-provenance, SLSA generator), or sign "
        "the image by its index digest (cosign sign IMAGE@sha256:...)"
    )
    security_severity = 7.5
    options_schema = options_schema(
        {"require-signers": {"type": "boolean"}, "require-attestation-signatures": {"type": "boolean"}}
    )

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if not _required(ctx):
            if ctx.options.get("require-signers"):
                yield ctx.finding(
                    f"no signer is configured for {ctx.target.reference}, so its provenance cannot be "
                    "checked for a signature from the expected builder",
                    expected="at least one signer (identity and issuer, or a key)",
                    actual="none",
                    remediation="name the expected signer: signers: in the policy (or the image's "
                    "component), --certificate-identity[-regexp] with --certificate-oidc-issuer, or --key",
                )
            return
        own_only = bool(ctx.options.get("require-attestation-signatures"))
        for platform in ctx.target.platforms:
            provenance = [a for a in platform.attestations if a.is_provenance]
            if not provenance:
                continue
            signed = [a for a in provenance if a.signed and not (own_only and a.verification.via)]
            if signed:
                continue
            vouched = [a for a in provenance if a.signed]
            actual = f"{len(provenance)} unsigned provenance attestation(s)"
            remediation = self.remediation
            if vouched:
                actual = (
                    f"{len(vouched)} provenance attestation(s) signed only through the image signature "
                    "over the index (require-attestation-signatures is set)"
                )
                remediation = (
                    "sign the provenance itself (cosign attest, or a bundle over the attestation manifest)"
                )
            yield ctx.finding(
                f"no signed provenance for {platform.label if platform.platform else ctx.target.kind}",
                platform=platform,
                expected="provenance signed by a configured signer",
                actual=actual,
                remediation=remediation,
            )


class SignatureInvalid(Check):
    """Every signature found must verify.

    **What it checks.** The signature over each signed attestation, image or artifact signature
    and signed piece of evidence: DSSE signature over PAE (or the message signature over the
    artifact digest), certificate chain to a Fulcio CA of the trusted root (``certificate chain does
    not lead to <root>`` when it does not), certificate validity at the signing time, the
    certificate's embedded SCT (signed by a CT log of the trusted root), the transparency-log proof
    (SET, inclusion proof with a signed checkpoint, Rekor v2 checkpoints), RFC 3161 timestamps, the
    validity windows (``validFor``) of the trusted root's CA, transparency-log, CT-log and timestamp
    authority keys at the signing time, and that the log entry records this very envelope and
    certificate. Verification is offline against ``--trusted-root`` or the production root shipped
    with the sigstore package. Runs whether or not signers are configured: a signature that does
    not verify is a sign of tampering or corruption.

    Every true cause is reported: a signature that does not verify is SL202 even when the envelope's
    payload is not an in-toto statement (that is SL105 as well), and when a bundle has several
    problems (no log evidence and a certificate from another CA) each has its finding. A signature
    container that is malformed (a bundle field of the wrong JSON type, a certificate with a
    malformed extension) is SL105, not SL202: it was never a signature that could verify.

    **Why it matters.** A signature that does not verify proves nothing, and an altered payload
    under an old signature is exactly what an attacker would push.

    **How to fix.** Re-sign the evidence; check that the trusted root matches the Sigstore instance
    that signed it (staging vs production, a private instance) and lists its CT logs (``ctlogs``).

    **Passing example.** A Sigstore bundle whose DSSE signature and inclusion proof verify.

    **Failing example.** A bundle whose payload was edited after signing.
    """

    id = "SL202"
    name = "signature-invalid"
    level = Level.ERROR
    summary = "A signature does not verify (DSSE PAE, certificate chain, tlog proof/SET)"
    remediation = "re-sign the evidence, and check the trusted root matches the signing instance"
    security_severity = 9.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        for platform, attestation in _attestations(ctx):
            verification = _own_verification(attestation)
            if verification is None:
                continue
            for problem in verification.problems:
                if problem.rule_id == "SL202":  # a malformed container is SL105 (target problems)
                    yield ctx.finding(
                        f"signature of {attestation.predicate_type} does not verify: {problem.message}",
                        platform=platform,
                        attestation=attestation,
                        remediation=self.remediation,
                    )
        for signature in ctx.target.image_signatures:
            for problem in signature.verification.problems:
                if problem.rule_id == "SL202":
                    yield _signature_finding(
                        ctx,
                        signature,
                        f"{_what(signature)} does not verify: {problem.message}",
                        remediation=self.remediation,
                    )


class SignerIdentityMismatch(Check):
    """Signatures must come from a configured signer.

    **What it checks.** The identity of every signature whose signer is established (certificate
    SAN and OIDC issuer, GitHub workflow claims, or the public key) against the configured signers,
    with cosign's semantics: ``identity``/``issuer`` compare exactly, ``identity-regexp``/
    ``issuer-regexp`` match anywhere in the value unless anchored. Several signers are
    alternatives. Inactive until a signer is configured.

    The signer is established when the signature verifies with the certificate's key and the
    certificate chains to the trusted root, even if other checks fail: a signature by the wrong
    workflow is reported as such also when it has no transparency-log evidence (SL204) or its log
    entry does not match (SL202). The finding names the signer once (in ``actual``) and the
    constraints it failed (in the message and ``expected``). Provenance that counts as signed
    through an image signature over the index is judged through that image signature.

    **Why it matters.** Anyone can get a valid Sigstore certificate; only the identity says whether
    your release workflow signed.

    **How to fix.** Sign from the expected workflow, or add the signer to the policy after review.

    **Passing example.** ``--certificate-identity-regexp '^https://github\\.com/microcks/'`` and a
    certificate for ``https://github.com/microcks/microcks/.github/workflows/build-verify.yml@refs/heads/master``.

    **Failing example.** The same policy and a certificate issued to another repository (a fork).
    """

    id = "SL203"
    name = "signer-identity-mismatch"
    level = Level.ERROR
    summary = "Certificate identity / OIDC issuer / key is not the expected one"
    remediation = "sign from the expected workflow, or review and add the signer to the policy"
    security_severity = 8.5

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if not _required(ctx):
            return
        from slsalint.verify import match

        policies = _settings(ctx).signers
        expected = [p.describe() for p in policies]
        for platform, attestation in _attestations(ctx):
            verification = _own_verification(attestation)
            if verification is None or not verification.signer_known:
                continue
            ok, reason = match(verification.identity, policies)
            if not ok:
                yield ctx.finding(
                    f"the signer of {attestation.predicate_type} {reason}",
                    platform=platform,
                    attestation=attestation,
                    expected=expected,
                    actual=verification.identity.describe(),
                    remediation=self.remediation,
                )
        for signature in _image_signatures(ctx):
            verification = signature.verification
            if not verification.signer_known:
                continue
            ok, reason = match(verification.identity, policies)
            if not ok:
                vouches = (
                    f" (it also stands for the {len(signature.vouches_for)} attestation manifest(s) the "
                    "index lists)"
                    if signature.vouches_for
                    else ""
                )
                yield _signature_finding(
                    ctx,
                    signature,
                    f"the signer of the {_what(signature)}{vouches} {reason}",
                    expected=expected,
                    actual=verification.identity.describe(),
                    remediation=self.remediation,
                )


class TlogEvidenceMissing(Check):
    """A keyless signature needs transparency-log proof or a trusted timestamp.

    **What it checks.** That every keyless (certificate-based) signature, on an attestation or on
    the image or artifact, comes with a Rekor SET or inclusion proof, or an RFC 3161 timestamp from
    a trusted authority, establishing that it was made while the short-lived certificate was valid.
    Signatures whose log entry can only be found online (old slsa-github-generator
    ``.intoto.jsonl`` files, keyless cosign signatures without the Rekor bundle annotation) fail
    closed here. Inactive until a signer is configured. A certificate that does not chain to the
    trusted root is SL202, not this rule.

    **Why it matters.** Fulcio certificates live ten minutes; without a trusted time the signature
    could have been made with a leaked key long after.

    **How to fix.** Sign with transparency-log upload (cosign's default), or re-attest with a
    generator that writes Sigstore bundles.

    **Passing example.** A bundle with an inclusion proof and checkpoint.

    **Failing example.** A DSSE envelope with a certificate and no log entry.
    """

    id = "SL204"
    name = "tlog-evidence-missing"
    level = Level.ERROR
    summary = "Keyless signature without transparency-log proof or trusted timestamp"
    remediation = "sign with transparency-log upload, or re-attest with a tool that writes Sigstore bundles"
    security_severity = 7.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        if not _required(ctx):
            return
        for platform, attestation in _attestations(ctx):
            verification = _own_verification(attestation)
            if verification is None:
                continue
            for problem in verification.problems:
                if problem.rule_id == "SL204":
                    yield ctx.finding(
                        f"{attestation.predicate_type}: {problem.message}",
                        platform=platform,
                        attestation=attestation,
                        remediation=self.remediation,
                    )
        for signature in ctx.target.image_signatures:
            for problem in signature.verification.problems:
                if problem.rule_id == "SL204":
                    yield _signature_finding(
                        ctx, signature, f"{_what(signature)}: {problem.message}", remediation=self.remediation
                    )


class ImageSignatureMissing(Check):
    """When required, the image (or artifact) itself must carry a verified signature for its digest.

    **What it checks.** For an image: a cosign ``.sig`` signature or a Sigstore bundle over the
    image whose signed ``docker-manifest-digest`` (or subject, or message digest) is the index
    digest or a platform digest of the checked image, and that verifies. For an artifact
    (``--attestation`` with ``--artifact FILE`` or ``--subject sha256:HEX``): a message-signature
    bundle (``cosign sign-blob --bundle``, ``sigstore sign``) over the artifact digest, verified
    like ``cosign verify-blob --bundle`` (certificate chain, SCT, Rekor SET and inclusion proof or
    Rekor v2 checkpoint, timestamps, key validity windows). Off in the built-in packs: enable it
    (``--enable SL205`` or ``rules: {SL205: {}}``); who signed is judged by SL203 once a signer is
    configured.

    **Why it matters.** ``cosign verify IMAGE`` is what many deployment gates run; an image with
    attestations but no image signature fails them.

    **How to fix.** ``cosign sign IMAGE@DIGEST`` from the release workflow; for files,
    ``cosign sign-blob --bundle FILE.sigstore.json FILE``.

    **Passing example.** A ``sha256-HEX.sig`` tag whose payload names ``sha256:HEX``.

    **Failing example.** A signature copied from another image (its payload names another digest).
    """

    id = "SL205"
    name = "image-signature-missing"
    level = Level.ERROR
    summary = "Policy requires an image signature (cosign .sig or bundle) and none verifies"
    remediation = "sign the image digest from the release workflow (cosign sign IMAGE@DIGEST)"
    security_severity = 7.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        signatures = _image_signatures(ctx)
        if any(s.counts for s in signatures):
            return
        artifact = ctx.target.kind == "artifact"
        wrong = [s for s in signatures if _has(s.problems, "SL205")]
        message = f"no verified {'artifact' if artifact else 'image'} signature for this {ctx.target.kind}"
        if wrong:
            message += "; " + "; ".join(p.message for s in wrong for p in s.problems if p.rule_id == "SL205")
        yield ctx.finding(
            message,
            expected=sorted(d for d in ctx.target.all_digests() if d),
            actual=f"{len(signatures)} signature(s) found",
            remediation="sign the artifact (cosign sign-blob --bundle FILE.sigstore.json FILE)"
            if artifact
            else self.remediation,
        )


def _has(problems: list[Any], rule_id: str) -> bool:
    return any(p.rule_id == rule_id for p in problems)


class SignatureAnnotationMismatch(Check):
    """Required image-signature annotations must be present with the right values.

    **What it checks.** The ``optional`` annotations of verified image signatures (``cosign sign -a
    tag=v1.2``) against ``--annotations k=v`` and the signers' ``annotations``. At least one verified
    signature must carry all of them. Inactive until annotations are required. A message-signature
    bundle carries no annotations, so it never satisfies a required one.

    **Why it matters.** GitLab and other pipelines bind a signature to a tag or pipeline with
    annotations; a signature without them may belong to another release of the same digest.

    **How to fix.** Sign with the annotations: ``cosign sign -a tag=$IMAGE_TAG IMAGE@DIGEST``.

    **Passing example.** ``--annotations tag=v1.2`` and a signature payload with
    ``"optional": {"tag": "v1.2"}``.

    **Failing example.** The same flag and ``"optional": {"tag": "v1.1"}``.
    """

    id = "SL206"
    name = "signature-annotation-mismatch"
    level = Level.ERROR
    summary = "Required signature annotations (e.g. tag=v1.2) are absent or differ"
    remediation = "sign with the required annotations (cosign sign -a key=value)"
    security_severity = 6.0

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        settings = _settings(ctx)
        required = dict(settings.annotations) if settings is not None else {}
        if not required:
            return
        verified = [s for s in _image_signatures(ctx) if s.verification.verified]
        if any(not _has(s.problems, "SL206") and not _has(s.problems, "SL205") for s in verified):
            return
        details = [p.message for s in verified for p in s.problems if p.rule_id == "SL206"]
        yield ctx.finding(
            "no verified image signature carries the required annotations"
            + (": " + "; ".join(details) if details else " (no verified image signature found)"),
            expected=required,
            actual=details or None,
            remediation=self.remediation,
        )
