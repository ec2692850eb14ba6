"""Writing OCI image layout directories (the format ``oci:PATH`` reads).

Used by ``slsalint fetch`` to snapshot evidence for offline checks, and by the test and demo
builders. Output is deterministic: the same calls produce the same bytes, so layouts can be
committed and their digests compared. Blobs are written atomically (temporary file, then rename)
and each blob is stored under its sha256 digest.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from slsalint import fileio
from slsalint.model import Platform
from slsalint.sources.oci import OCI_INDEX, REF_NAME, digest_of

LAYOUT_VERSION = "1.0.0"


def json_bytes(obj: Any) -> bytes:
    """Serialize a manifest, index or config deterministically (2-space indent, no trailing newline).

    Key order is the insertion order of ``obj``, so callers control it (descriptors follow the OCI
    order: mediaType, artifactType, digest, size, annotations, platform).
    """
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")


def platform_dict(platform: Platform) -> dict[str, str]:
    """The ``platform`` object of an OCI descriptor (or the matching fields of an image config)."""
    out = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        out["variant"] = platform.variant
    return out


class LayoutWriter:
    """Build an OCI image layout in ``path``: blobs, then index.json entries, then ``write_index``.

    Creating the writer writes the ``oci-layout`` marker and ``blobs/sha256/``; blobs already in the
    directory are kept (and reused when their content is intact). ``write_index`` replaces
    ``index.json`` with exactly the entries added through this writer.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blobs = path / "blobs" / "sha256"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.entries: list[dict[str, Any]] = []
        self._write_file(path / "oci-layout", json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode())

    @staticmethod
    def json_bytes(obj: Any) -> bytes:
        """See the module-level :func:`json_bytes`."""
        return json_bytes(obj)

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return self.path / "blobs" / algorithm / hexpart

    def add_blob(self, data: bytes) -> str:
        """Store ``data`` as a blob and return its digest (``sha256:HEX``). Idempotent."""
        digest = digest_of(data)
        target = self.blob_path(digest)
        try:
            if digest_of(fileio.read_bytes(target, limit=len(data))) == digest:
                return digest
        except fileio.FileReadError:
            pass  # missing, not a regular file, or not this content: (re)written below
        self._write_file(target, data)
        return digest

    def descriptor(
        self,
        data: bytes,
        media_type: str,
        *,
        annotations: dict[str, str] | None = None,
        platform: Platform | None = None,
        artifact_type: str | None = None,
    ) -> dict[str, Any]:
        """Store ``data`` and return the OCI descriptor that points at it."""
        digest = self.add_blob(data)
        out: dict[str, Any] = {"mediaType": media_type}
        if artifact_type:
            out["artifactType"] = artifact_type
        out["digest"] = digest
        out["size"] = len(data)
        if annotations:
            out["annotations"] = dict(annotations)
        if platform is not None:
            out["platform"] = platform_dict(platform)
        return out

    def add_entry(
        self,
        descriptor: dict[str, Any],
        *,
        ref_name: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Add an entry to the top-level ``index.json`` (``ref_name`` becomes the tag).

        Returns the entry. Adding an identical entry twice keeps one.
        """
        entry = dict(descriptor)
        merged: dict[str, str] = dict(entry.get("annotations") or {})
        if annotations:
            merged.update(annotations)
        if ref_name is not None:
            merged[REF_NAME] = ref_name
        if merged:
            entry["annotations"] = merged
        else:
            entry.pop("annotations", None)
        if entry not in self.entries:
            self.entries.append(entry)
        return entry

    def index_document(self) -> dict[str, Any]:
        return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(self.entries)}

    def write_index(self) -> Path:
        """Write ``index.json`` with every entry added so far; returns its path."""
        target = self.path / "index.json"
        self._write_file(target, json_bytes(self.index_document()))
        return target

    @staticmethod
    def _write_file(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            staged = Path(tmp)
            staged.chmod(0o644)  # mkstemp creates 0600; blobs are ordinary readable files
            staged.replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
