"""Write examples/demo-image/: a small, deterministic OCI image layout to try slsalint on.

    python examples/build_demo.py            # rewrites examples/demo-image/
    slsalint check oci:examples/demo-image

The layout holds a two-platform image index tagged ``v1.0.0`` (linux/amd64 and linux/arm64), each
platform with a BuildKit attestation manifest carrying mode=max SLSA v0.2 provenance and an SPDX
SBOM. The arm64 provenance records one downloaded tarball without a digest, so the check shows one
warning (SL404 material-unpinned) and still passes. Running the script twice gives the same bytes.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slsalint.model import Platform  # noqa: E402
from slsalint.sources.layout_writer import LayoutWriter  # noqa: E402
from tests.support import buildkit as bk  # noqa: E402

OUTPUT = ROOT / "examples" / "demo-image"
IMAGE = "example.com/demo/app"
TAG = "v1.0.0"
PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64"))
UNPINNED_DOWNLOAD = {"uri": "https://example.com/downloads/tool-1.2.tar.gz"}


def purl(platform: Platform) -> str:
    return f"pkg:docker/{IMAGE}@{TAG}?platform={str(platform).replace('/', '%2F')}"


def build(output: Path = OUTPUT) -> dict[str, object]:
    """Write the demo layout into ``output`` (replacing it); return the image index descriptor."""
    if output.exists():
        shutil.rmtree(output)
    writer = LayoutWriter(output)
    images = [bk.add_platform_image(writer, platform, seed=f"{IMAGE}:{TAG}") for platform in PLATFORMS]
    attestations = []
    for platform, image in zip(PLATFORMS, images, strict=True):
        name = purl(platform)
        materials = bk.buildkit_materials(str(platform))
        if platform.architecture == "arm64":
            materials.append(dict(UNPINNED_DOWNLOAD))
        provenance = bk.buildkit_v02_statement(image["digest"], name=name, mode="max", materials=materials)
        sbom = bk.spdx_statement(image["digest"], name=name)
        attestations.append(bk.add_attestation_manifest(writer, image, [provenance, sbom]))
    index = bk.add_index(writer, [*images, *attestations], ref_name=TAG)
    writer.write_index()
    return index


def main() -> int:
    index = build()
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {IMAGE}:{TAG} index {index['digest']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
