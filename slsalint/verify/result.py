"""What verification concluded, as plain values (findings are made from these by the checks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from slsalint.verify.identity import SignerIdentity

SIGNATURE_INVALID = "SL202"
"""A signature, certificate chain, log proof/SET or log-entry binding does not verify."""
SIGNER_MISMATCH = "SL203"
TLOG_MISSING = "SL204"
"""Keyless signature without transparency-log proof or trusted timestamp (also: the proof would
need an online Rekor lookup, which offline verification never makes)."""
IMAGE_SIGNATURE_MISSING = "SL205"
ANNOTATION_MISMATCH = "SL206"
ENVELOPE_INVALID = "SL105"
"""The bundle or envelope is malformed (unknown media type, missing verification material)."""
SUBJECT_MISMATCH = "SL103"
"""A verified DSSE statement does not name the artifact it was checked for."""

Method = Literal["sigstore-bundle", "cosign-legacy", "key", "none"]


@dataclass(frozen=True)
class VerificationProblem:
    rule_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one signature (a bundle, a cosign layer, a keyed envelope).

    ``verified`` is True only when there are no problems: the signature, the certificate chain,
    the transparency-log evidence and its binding to this envelope all check out. ``identity`` is
    filled in whenever the signer could be read, even on failure (messages name the signer).
    """

    verified: bool
    method: Method
    identity: SignerIdentity | None = None
    log_index: int | None = None
    integrated_time: datetime | None = None
    """When the log integrated the entry (or the trusted timestamp), in UTC."""
    problems: tuple[VerificationProblem, ...] = ()
    payload_type: str | None = None
    payload: bytes | None = None
    """The signed payload (DSSE) or message, once its signature verified."""
    signed_digest: str | None = None
    """For message signatures: ``sha256:HEX`` of the signed artifact."""
    subject_digests: frozenset[str] = frozenset()
    """For DSSE in-toto payloads: ``sha256:HEX`` digests of the statement's subjects."""
    log_id: str | None = None
    """Hex log id of the transparency log holding the entry."""
    timestamp_source: str | None = None
    """``tlog`` (integrated time under a SET or checkpoint) or ``tsa`` (RFC 3161 timestamp)."""
    signer_verified: bool = False
    """The signature verified with the signing certificate's (or key's) public key and the
    certificate chains to a certificate authority of the trusted root: the identity is the one that
    really signed, even when other checks failed (no transparency-log evidence, a log entry that
    does not match). Always true when ``verified``."""
    via: str | None = None
    """How a signature made over something else vouches for this evidence: set when an image
    signature over an index digest authenticates the attestation manifests the index lists by
    digest (the signer is the image signer)."""

    def __post_init__(self) -> None:
        if self.verified and not self.signer_verified:
            object.__setattr__(self, "signer_verified", True)

    @property
    def signer_known(self) -> bool:
        """Whether ``identity`` is the authenticated signer (``verified`` or ``signer_verified``)."""
        return self.identity is not None and (self.verified or self.signer_verified)

    @property
    def message(self) -> str:
        """One line: what was verified, or the first problem."""
        who = self.identity.describe() if self.identity is not None else "unknown signer"
        if self.verified:
            where = f", log index {self.log_index}" if self.log_index is not None else ""
            return f"signature verified ({self.method}): {who}{where}"
        if not self.problems:
            return f"signature not verified ({self.method}): {who}"
        extra = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{self.problems[0].message}{extra}"

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(p.rule_id for p in self.problems)

    @classmethod
    def failed(
        cls, method: Method, rule_id: str, message: str, *, identity: SignerIdentity | None = None
    ) -> Verification:
        return cls(
            verified=False,
            method=method,
            identity=identity,
            problems=(VerificationProblem(rule_id, message),),
        )
