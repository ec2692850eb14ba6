"""The manifest media types a registry is asked for (kept free of imports: the first request of
``slsalint check IMAGE`` is sent before the rest of the registry client loads)."""

from __future__ import annotations

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

MANIFEST_ACCEPT = ", ".join(
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_LIST,
        DOCKER_MANIFEST,
        "application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5",
    ]
)
"""The ``Accept`` header of every manifest request: registries answer 404, not 406, to a manifest
whose type was not asked for."""
