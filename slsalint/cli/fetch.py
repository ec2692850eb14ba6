"""``slsalint fetch``: snapshot every piece of evidence for an image into an OCI layout."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from slsalint.cli._common import (
    DEFAULT_GITHUB_API_URL,
    AttestationRepositoryOption,
    GitHubApiUrlOption,
    GitHubAttestationsOption,
    InsecureRegistryOption,
    NoCacheOption,
    Progress,
    github_settings,
)
from slsalint.errors import ConfigError
from slsalint.model import Platform


def fetch(
    reference: str = typer.Argument(..., help="Image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:HEX."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory to write the OCI layout to."),
    platform: list[str] = typer.Option([], "--platform", help="Only this platform (repeatable)."),
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006 (typer copies the default)
    attestation_repository: AttestationRepositoryOption = None,
    no_cache: NoCacheOption = False,
    github_attestations: GitHubAttestationsOption = [],  # noqa: B006
    github_api_url: GitHubApiUrlOption = DEFAULT_GITHUB_API_URL,
) -> None:
    """Write a self-contained OCI layout that `slsalint check oci:DIR --offline` can re-check."""
    from slsalint.engine import RegistrySettings, open_client
    from slsalint.sources.registry import insecure_hosts
    from slsalint.sources.snapshot import fetch as do_fetch

    if reference.startswith("oci:"):
        raise ConfigError(f"{reference}: fetch reads from a registry; an OCI layout is already offline")
    try:
        platforms = [Platform.parse(p) for p in platform]
    except ValueError as exc:
        raise ConfigError(f"--platform: {exc}") from None
    github = github_settings(github_attestations, github_api_url)
    if output.exists() and not output.is_dir():
        raise ConfigError(f"{output}: exists and is not a directory")
    if output.is_dir() and any(output.iterdir()):
        raise ConfigError(f"{output}: exists and is not empty; fetch writes a new snapshot directory")
    progress = Progress(reference)
    settings = RegistrySettings(
        insecure=insecure_hosts(insecure_registry), use_cache=not no_cache, progress=progress.update
    )
    with progress, open_client(settings) as client:
        result = do_fetch(
            client,
            reference,
            output,
            platforms=platforms or None,
            attestation_repository=attestation_repository,
            github=github,
        )
    sys.stdout.write(
        f"wrote {result.reference} to oci:{result.path} "
        f"({result.manifests} manifests, {result.blobs} blobs)\n"
        f"re-check offline with: slsalint check oci:{result.path} --offline\n"
    )
