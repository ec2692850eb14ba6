"""``slsalint fetch``: snapshot every piece of evidence for an image into an OCI layout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from slsalint.cli._common import (
    DEFAULT_GITHUB_API_URL,
    STATE,
    AttestationRepositoryOption,
    GitHubApiUrlOption,
    GitHubAttestationsOption,
    ImageNameOption,
    InsecureRegistryOption,
    LimitOption,
    NoCacheOption,
    Progress,
    RegistryCaOption,
    TimeoutOption,
    github_settings,
    info,
    network_limits,
    registry_ca_option,
    text_or_json,
)
from slsalint.errors import ConfigError
from slsalint.model import Platform


def fetch(
    reference: str = typer.Argument(
        ..., metavar="IMAGE", help="Image: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:HEX."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="DIR", help="Directory to write the OCI layout to."
    ),
    platform: list[str] = typer.Option(
        [], "--platform", metavar="OS/ARCH", help="Only this platform (repeatable)."
    ),
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006 (typer copies the default)
    registry_ca: RegistryCaOption = [],  # noqa: B006
    attestation_repository: AttestationRepositoryOption = None,
    no_cache: NoCacheOption = False,
    github_attestations: GitHubAttestationsOption = [],  # noqa: B006
    github_api_url: GitHubApiUrlOption = DEFAULT_GITHUB_API_URL,
    timeout: TimeoutOption = None,
    limit: LimitOption = [],  # noqa: B006
    image_name: ImageNameOption = None,
    fmt: str = typer.Option(
        "text", "--format", "-f", metavar="text|json", help="text or json (what was written)."
    ),
) -> None:
    """Write a self-contained OCI layout that `slsalint check oci:DIR --offline` can re-check.

    The layout records the reference it was fetched from (or --image-name REF), so the offline
    check judges it as the same image.

    JSON (--format json): {reference, digest, layout, manifests, blobs}.

    Examples:

    \b
      slsalint fetch ghcr.io/org/app:1.2.3 --output snapshot
      slsalint fetch ghcr.io/org/app:1.2.3 -o snapshot --platform linux/amd64 --format json
      slsalint check oci:snapshot --offline
    """
    from slsalint.engine import RegistrySettings, open_client
    from slsalint.sources.registry import insecure_hosts
    from slsalint.sources.snapshot import fetch as do_fetch

    fmt = text_or_json(fmt)
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
    if image_name is not None:
        from slsalint.sources.reference import parse_reference

        parse_reference(image_name)  # a malformed name is exit 2 before anything is read
    run_timeout, limits = network_limits(timeout, limit)
    progress = Progress(reference)
    settings = RegistrySettings(
        insecure=insecure_hosts(insecure_registry),
        registry_ca=registry_ca_option(registry_ca),
        use_cache=not no_cache,
        progress=progress.update,
        timeout=run_timeout,
        limits=limits,
    )
    with progress, open_client(settings) as client:
        result = do_fetch(
            client,
            reference,
            output,
            platforms=platforms or None,
            attestation_repository=attestation_repository,
            github=github,
            image_name=image_name,
        )
    info(f"{progress.requests} registry requests")
    if fmt == "json":
        document = {
            "reference": result.reference,
            "digest": result.digest,
            "layout": f"oci:{result.path}",
            "manifests": result.manifests,
            "blobs": result.blobs,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    sys.stdout.write(
        f"wrote {result.reference} to oci:{result.path} "
        f"({result.manifests} manifests, {result.blobs} blobs)\n"
    )
    if not STATE.quiet:
        sys.stdout.write(f"re-check offline with: slsalint check oci:{result.path} --offline\n")
