"""Multi-platform test images as OCI layouts, ready to push to a registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from slsalint.model import Platform
from slsalint.sources.layout_writer import LayoutWriter
from tests.support import buildkit as bk

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")


def build(
    tmp_path: Path,
    *,
    attest: dict[Platform, list[dict[str, Any]] | None],
    form: str = "classic",
    statement: Callable[[str], dict[str, Any]] | None = None,
    att_for_index: bool = False,
    name: str = "layout",
) -> tuple[Path, dict[str, Any], dict[Platform, dict[str, Any]]]:
    """A layout with an index over the given platforms; ``attest[p]`` = extra statements (None = no
    attestation manifest for p). Each attested platform gets a mode=max provenance by default."""
    writer = LayoutWriter(tmp_path / name)
    manifests = []
    descriptors: dict[Platform, dict[str, Any]] = {}
    for platform in attest:
        descriptor = bk.add_platform_image(writer, platform, seed=str(platform))
        descriptors[platform] = descriptor
        manifests.append(descriptor)
    for platform, extra in attest.items():
        if extra is None:
            continue
        digest = descriptors[platform]["digest"]
        statements = [statement(digest) if statement else bk.buildkit_v02_statement(digest), *extra]
        manifests.append(bk.add_attestation_manifest(writer, descriptors[platform], statements, form=form))
    index = bk.add_index(writer, manifests, ref_name="v1.0.0")
    if att_for_index:
        envelope = bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))
        bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    writer.write_index()
    return tmp_path / name, index, descriptors


def add_cosign_signature(writer: LayoutWriter, image_digest: str) -> str:
    """A cosign ``.sig`` manifest (simple-signing payload) tagged ``sha256-HEX.sig``; returns the tag."""
    import json

    payload = json.dumps({"critical": {"image": {"docker-manifest-digest": image_digest}}}).encode()
    layer = writer.descriptor(payload, "application/vnd.dev.cosign.simplesigning.v1+json")
    config = writer.descriptor(b"{}", "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    }
    sig = writer.descriptor(writer.json_bytes(manifest), "application/vnd.oci.image.manifest.v1+json")
    tag = image_digest.replace(":", "-") + ".sig"
    writer.add_entry(sig, ref_name=tag)
    return tag
