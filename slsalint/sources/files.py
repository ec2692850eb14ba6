"""Local attestation files given with ``--attestation FILE`` (and ``--subject`` / ``--artifact``).

Files named on the command line are read with ``slsalint.fileio``: a name that cannot be used (no
such file, a directory, a FIFO, a device such as ``/dev/zero``, a socket, no permission) is a
usage error (exit 2) and nothing is read from it; an I/O fault while reading is operational
(exit 3). An attestation file larger than the limit is evidence that cannot be judged: an SL105
finding naming it (exit 1), while the other files are still checked.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from slsalint import fileio
from slsalint.errors import ConfigError, OperationalError
from slsalint.model import EvidenceSource
from slsalint.sources.oci import Collected, RawEvidence, is_digest, is_signature_document

DEFAULT_MAX_FILE = 64 * 1024 * 1024


def _unusable(option: str, path: Path, exc: fileio.FileReadError) -> Exception:
    """The error for a named file that cannot be read (exit 2, or exit 3 for an I/O fault)."""
    message = f"{option} {exc}"
    if exc.reason == "not-regular" and path.is_dir() and option == "--attestation":
        message += f" (use oci:{path} for an OCI layout)"
    return OperationalError(message) if exc.fault else ConfigError(message)


def artifact_digest(path: Path) -> str:
    """sha256 of a local artifact (a regular file), streamed."""
    digest = hashlib.sha256()
    try:
        with fileio.open_regular(path) as handle:
            for chunk in fileio.read_chunks(handle, path):
                digest.update(chunk)
    except fileio.FileReadError as exc:
        raise _unusable("--artifact", path, exc) from None
    return f"sha256:{digest.hexdigest()}"


def collect_files(
    paths: list[Path], *, subject: str | None = None, max_size: int = DEFAULT_MAX_FILE
) -> Collected:
    """Read attestation files; the target is the subject digest (or, without one, the files)."""
    if subject is not None:
        subject = subject.strip().lower()
        if not is_digest(subject):
            raise ConfigError(f"--subject {subject}: expected sha256:<64 hex digits>")
    names = [str(p) for p in paths]
    reference = f"artifact {subject}" if subject else ", ".join(names)
    collected = Collected(reference, "artifact", None, [(subject or "", None)])
    for path, name in zip(paths, names, strict=True):
        source = EvidenceSource("file", name)
        try:
            data = fileio.read_bytes(name, limit=max_size)
        except fileio.FileReadError as exc:
            if exc.reason == "too-large":
                collected.problems.append((source, str(exc), None))
                continue
            raise _unusable("--attestation", path, exc) from None
        if is_signature_document(data):
            # A bundle that signs the artifact itself is a signature to verify, not an attestation.
            collected.signatures.append(
                RawEvidence(source=source, data=data, media_type=None, name=name, stored_for=subject)
            )
            continue
        collected.evidence.append(RawEvidence(source, data, None, name))
    return collected
