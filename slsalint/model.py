"""Core values that flow through the pipeline: targets, evidence, attestations, findings, reports.

Everything here is plain data. Nothing in this module performs I/O.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

JSON = Any
"""A decoded JSON value (dict, list, str, int, float, bool or None)."""


class Level(enum.StrEnum):
    """Severity of a finding, ordered from most to least severe (``off`` disables a rule)."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    OFF = "off"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    def at_least(self, other: Level) -> bool:
        """True when this level is as severe as ``other`` or more."""
        return self.rank >= other.rank


_LEVEL_RANK = {Level.ERROR: 3, Level.WARNING: 2, Level.NOTE: 1, Level.OFF: 0}


class ProvenanceMode(enum.StrEnum):
    MIN = "min"
    MAX = "max"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]``; raises ValueError on anything else."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_descriptor(cls, value: JSON) -> Platform | None:
        if not isinstance(value, dict):
            return None
        os_, arch = value.get("os"), value.get("architecture")
        if not isinstance(os_, str) or not isinstance(arch, str):
            return None
        variant = value.get("variant")
        return cls(os_, arch, variant if isinstance(variant, str) and variant else None)

    def matches(self, wanted: Platform) -> bool:
        """``linux/arm64`` matches ``linux/arm64/v8``; an explicit variant must be equal."""
        if (self.os, self.architecture) != (wanted.os, wanted.architecture):
            return False
        return wanted.variant is None or wanted.variant == self.variant


@dataclass(frozen=True)
class EvidenceSource:
    """Where one piece of evidence came from; shown with every finding."""

    kind: str
    """One of: ``file``, ``buildkit-attestation-manifest``, ``cosign-att``, ``cosign-sig``,
    ``referrer``, ``github-attestations``."""
    location: str
    """A file path, a layout path with a digest, or a registry reference."""
    digest: str | None = None
    """Digest of the manifest or blob that carried the evidence, when there is one."""

    def __str__(self) -> str:
        return f"{self.kind} {self.location}"


@dataclass(frozen=True)
class Subject:
    name: str
    digest: dict[str, str]

    def sha256(self) -> str | None:
        value = self.digest.get("sha256")
        return f"sha256:{value.lower()}" if value else None


@dataclass(frozen=True)
class Material:
    uri: str
    digest: dict[str, str]
    pointer: str
    """JSON pointer of the material inside the statement."""


@dataclass(frozen=True)
class ProvenanceView:
    """One normalized view over the provenance formats slsalint understands."""

    predicate_type: str
    slsa_version: str
    """``0.1``, ``0.2`` or ``1``."""
    flavor: str
    """``buildkit``, ``github-actions`` (actions/attest-build-provenance), ``slsa-github-generator``
    or ``generic``."""
    builder_id: str | None
    builder_pointer: str
    build_type: str | None
    source_repository: str | None
    source_ref: str | None
    source_commit: str | None
    source_pointer: str | None
    materials: tuple[Material, ...]
    build_args: dict[str, str]
    build_args_pointer: str | None
    mode: ProvenanceMode

    @property
    def is_buildkit(self) -> bool:
        return self.flavor == "buildkit"


@dataclass
class Attestation:
    """One in-toto statement, decoded from one envelope, with where it came from."""

    source: EvidenceSource
    envelope: str
    """``statement`` (raw), ``dsse`` or ``bundle``."""
    statement: dict[str, JSON]
    payload: bytes
    predicate_type: str
    subjects: tuple[Subject, ...]
    schema_errors: tuple[str, ...] = ()
    provenance: ProvenanceView | None = None
    applies_to_index: bool = False
    """Set when the statement names the index digest (it then applies to every platform)."""
    stored_for: str | None = None
    """The digest the evidence was stored for (BuildKit reference digest, cosign tag, referrer
    subject), when its storage says so."""
    container: dict[str, Any] | None = None
    """The DSSE envelope or Sigstore bundle the statement came in (None for raw statements)."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Annotations of the layer that held it (cosign certificate, chain and Rekor bundle)."""
    raw: bytes | None = None
    """The exact bytes of the layer, kept for cosign layers whose log entry hashes them."""
    verification: Any = None
    """``slsalint.verify.Verification`` of the signature that carried it (None: unsigned)."""

    @property
    def signed(self) -> bool:
        return self.verification is not None

    @property
    def is_provenance(self) -> bool:
        return self.predicate_type in PROVENANCE_PREDICATES

    @property
    def is_sbom(self) -> bool:
        return self.predicate_type in SBOM_PREDICATES or self.predicate_type.startswith(
            ("https://spdx.dev/Document", "https://cyclonedx.org/bom")
        )

    def subject_digests(self) -> set[str]:
        return {d for s in self.subjects if (d := s.sha256())}


PROVENANCE_PREDICATES = frozenset(
    {
        "https://slsa.dev/provenance/v0.1",
        "https://slsa.dev/provenance/v0.2",
        "https://slsa.dev/provenance/v1",
    }
)
SBOM_PREDICATES = frozenset(
    {
        "https://spdx.dev/Document",
        "https://spdx.dev/Document/v2.3",
        "https://cyclonedx.org/bom",
        "https://cyclonedx.org/bom/v1.4",
        "https://cyclonedx.org/bom/v1.5",
        "https://cyclonedx.org/bom/v1.6",
    }
)


@dataclass(frozen=True)
class Problem:
    """Evidence that could not be decoded (becomes an SL105 finding)."""

    source: EvidenceSource
    message: str
    platform: Platform | None = None


@dataclass
class PlatformTarget:
    """One image manifest (or one artifact) under check."""

    digest: str
    platform: Platform | None
    attestations: list[Attestation] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.platform) if self.platform else "-"


@dataclass
class Target:
    """Everything known about one checked image or artifact."""

    reference: str
    """What the user named (``oci:DIR:TAG``, a file list, a registry reference)."""
    kind: str
    """``image`` (an index or manifest) or ``artifact`` (files with a subject)."""
    index_digest: str | None
    platforms: list[PlatformTarget]
    unmatched: list[Attestation] = field(default_factory=list)
    """Attestations found for this target whose subjects name none of its digests."""
    problems: list[Problem] = field(default_factory=list)
    is_index: bool = False
    signing: Any = None
    """``slsalint.signing.SigningSettings`` in force for this target (signers, annotations)."""
    image_signatures: list[Any] = field(default_factory=list)
    """``slsalint.signing.ImageSignature`` for every image signature found (cosign .sig, bundles)."""

    def all_digests(self) -> set[str]:
        digests = {p.digest for p in self.platforms}
        if self.index_digest:
            digests.add(self.index_digest)
        return digests


@dataclass(frozen=True)
class Waiver:
    reason: str
    owner: str
    expires: str
    ticket: str | None = None


@dataclass
class Finding:
    rule_id: str
    rule_name: str
    level: Level
    message: str
    image: str
    platform: str | None = None
    digest: str | None = None
    source: str | None = None
    pointer: str | None = None
    expected: JSON = None
    actual: JSON = None
    remediation: str | None = None
    waiver: Waiver | None = None

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    def fingerprint(self) -> str:
        """Stable across runs: depends on what the finding is about, not its wording."""
        material = "\x1f".join(
            [
                self.rule_id,
                self.image,
                self.platform or "",
                self.digest or "",
                self.source or "",
                self.pointer or "",
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RuleMeta:
    id: str
    name: str
    level: Level
    summary: str
    doc: str
    options_schema: dict[str, JSON] = field(default_factory=dict)
    security_severity: float = 5.0
    help_uri: str = ""


@dataclass
class TargetResult:
    target: Target
    findings: list[Finding]
    vsa: Any = None
    """``slsalint.vsa.accept.AcceptedVsa`` when the image passed by a trusted VSA (``check
    --accept-vsa``) instead of being evaluated; None for a normal check."""


@dataclass
class Report:
    tool_version: str
    results: list[TargetResult]
    rules: list[RuleMeta]
    fail_on: Level = Level.ERROR
    policy_path: str | None = None
    sarif_anchor: str | None = None
    packs: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def failing(self) -> list[Finding]:
        return [f for f in self.findings if not f.waived and f.level.at_least(self.fail_on)]

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "note": 0, "waived": 0}
        for f in self.findings:
            if f.waived:
                out["waived"] += 1
            else:
                out[f.level.value] += 1
        return out

    @property
    def exit_code(self) -> int:
        return 1 if self.failing() else 0
