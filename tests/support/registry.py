"""Pushing test content to a registry over the distribution API (monolithic uploads)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}


@dataclass
class Registry:
    host: str
    ca: Path | None = None
    """The CA of a TLS registry (its certificate names 127.0.0.1); None: plain HTTP."""
    pid: int | None = None
    """The registry process (for the benchmarks' CPU accounting)."""

    def cpu_seconds(self) -> float:
        """CPU time the registry process has used so far (user + system; Linux ``/proc``)."""
        if self.pid is None:
            raise RuntimeError("the registry process is not known")
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def base(self) -> str:
        return f"{'https' if self.ca else 'http'}://{self.host}"

    def _client(self) -> httpx.Client:
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=self.ca) if self.ca else True
        return httpx.Client(base_url=self.base, timeout=30, verify=verify, trust_env=False)

    def ref(self, repository: str, tag: str | None = None, digest: str | None = None) -> str:
        out = f"{self.host}/{repository}"
        if tag:
            out += f":{tag}"
        if digest:
            out += f"@{digest}"
        return out

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._client() as client:
            if client.head(f"/v2/{repository}/blobs/{digest}").status_code == 200:
                return digest
            start = client.post(f"/v2/{repository}/blobs/uploads/")
            assert start.status_code == 202, start.text
            location = start.headers["location"]
            # Append the digest by hand: the upload URL carries a _state query that must survive.
            url = location + ("&" if "?" in location else "?") + f"digest={digest}"
            done = client.put(url, content=data, headers={"Content-Type": "application/octet-stream"})
            assert done.status_code == 201, done.text
        return digest

    def push_manifest(
        self, repository: str, data: bytes, media_type: str, reference: str | None = None
    ) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._client() as client:
            response = client.put(
                f"/v2/{repository}/manifests/{reference or digest}",
                content=data,
                headers={"Content-Type": media_type},
            )
            assert response.status_code == 201, (response.status_code, response.text)
        return digest

    def push_layout(self, layout: Path, repository: str) -> dict[str, str]:
        """Push every blob and manifest of an OCI layout; tags from index.json entries' ref names.

        Returns ref name -> digest.
        """
        manifests: dict[str, tuple[bytes, str]] = {}
        for blob in sorted((layout / "blobs" / "sha256").iterdir()):
            data = blob.read_bytes()
            media_type = _manifest_media_type(data)
            if media_type:
                manifests["sha256:" + blob.name] = (data, media_type)
            else:
                self.push_blob(repository, data)
        # Image manifests before the indexes that list them.
        for digest, (data, media_type) in sorted(manifests.items(), key=lambda kv: kv[1][1] in INDEX_TYPES):
            self.push_manifest(repository, data, media_type, digest)
        tags: dict[str, str] = {}
        index = json.loads((layout / "index.json").read_bytes())
        for entry in index.get("manifests", []):
            name = (entry.get("annotations") or {}).get("org.opencontainers.image.ref.name")
            if name and entry["digest"] in manifests:
                data, media_type = manifests[entry["digest"]]
                self.push_manifest(repository, data, media_type, name)
                tags[name] = entry["digest"]
        return tags

    def delete_manifest(self, repository: str, digest: str) -> None:
        with self._client() as client:
            response = client.delete(f"/v2/{repository}/manifests/{digest}")
            assert response.status_code == 202, response.text


def _manifest_media_type(data: bytes) -> str | None:
    try:
        document: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        return None
    media_type = document.get("mediaType")
    if media_type in INDEX_TYPES or media_type in MANIFEST_TYPES:
        return str(media_type)
    if "manifests" in document:
        return "application/vnd.oci.image.index.v1+json"
    if "layers" in document and "config" in document:
        return "application/vnd.oci.image.manifest.v1+json"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_registry(root: Path, *, tls: tuple[Path, Path, Path] | None = None) -> Iterator[Registry]:
    """Start Debian's docker-registry on 127.0.0.1 with storage under ``root``; stop it after.

    ``tls``: (CA, server certificate, server key) PEM files: the registry serves HTTPS only."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed (make test installs the Debian package)")
    port = _free_port()
    config = root / "config.yml"
    config.write_text(
        json.dumps(
            {
                "version": 0.1,
                "log": {"level": "warn", "accesslog": {"disabled": True}},
                "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
                "http": {"addr": f"127.0.0.1:{port}"}
                | ({"tls": {"certificate": str(tls[1]), "key": str(tls[2])}} if tls else {}),
            }
        )
    )
    log_path = root / "registry.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
        try:
            started = Registry(host=f"127.0.0.1:{port}", ca=tls[0] if tls else None, pid=process.pid)
            deadline = time.monotonic() + 20
            while True:
                try:
                    with started._client() as probe:
                        if probe.get("/v2/", timeout=1).status_code == 200:
                            break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"docker-registry did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.05)
            yield started
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
