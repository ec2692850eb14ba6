"""Local attestation files given with ``--attestation FILE`` (and ``--subject`` / ``--artifact``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from slsalint.errors import ConfigError
from slsalint.model import EvidenceSource
from slsalint.sources.oci import Collected, RawEvidence, is_digest, is_signature_document

DEFAULT_MAX_FILE = 64 * 1024 * 1024


def artifact_digest(path: Path) -> str:
    """sha256 of a local artifact, streamed."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ConfigError(f"--artifact {path}: cannot read: {exc.strerror or exc}") from None
    return f"sha256:{digest.hexdigest()}"


def collect_files(
    paths: list[Path], *, subject: str | None = None, max_size: int = DEFAULT_MAX_FILE
) -> Collected:
    """Read attestation files; the target is the subject digest (or, without one, the files)."""
    if subject is not None:
        subject = subject.strip().lower()
        if not is_digest(subject):
            raise ConfigError(f"--subject {subject}: expected sha256:<64 hex digits>")
    reference = f"artifact {subject}" if subject else ", ".join(str(p) for p in paths)
    collected = Collected(
        reference=reference, kind="artifact", index_digest=None, platforms=[(subject or "", None)]
    )
    for path in paths:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ConfigError(f"--attestation {path}: no such file") from None
        except OSError as exc:
            raise ConfigError(f"--attestation {path}: cannot read: {exc.strerror or exc}") from None
        if path.is_dir():
            raise ConfigError(f"--attestation {path}: is a directory (use oci:{path} for an OCI layout)")
        source = EvidenceSource("file", str(path))
        if size > max_size:
            collected.problems.append((source, f"{path}: {size} bytes, over the {max_size}-byte limit", None))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"--attestation {path}: cannot read: {exc.strerror or exc}") from None
        if is_signature_document(data):
            # A bundle that signs the artifact itself is a signature to verify, not an attestation.
            collected.signatures.append(
                RawEvidence(source=source, data=data, media_type=None, name=str(path), stored_for=subject)
            )
            continue
        collected.evidence.append(RawEvidence(source=source, data=data, media_type=None, name=str(path)))
    return collected
