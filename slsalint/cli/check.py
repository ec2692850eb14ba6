"""``slsalint check``: lint the provenance of an image or of attestation files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import typer

from slsalint.cli._common import (
    DEFAULT_GITHUB_API_URL,
    AnnotationsOption,
    AttestationRepositoryOption,
    CertificateIdentityOption,
    CertificateIdentityRegexpOption,
    CertificateOidcIssuerOption,
    CertificateOidcIssuerRegexpOption,
    DisableOption,
    EnableOption,
    ExceptionsOption,
    FailOnOption,
    GitHubApiUrlOption,
    GitHubAttestationsOption,
    InsecureRegistryOption,
    KeyOption,
    NoCacheOption,
    OfflineOption,
    PackOption,
    PolicyOption,
    Progress,
    RegoOption,
    RegoTimeoutOption,
    TrustedRootOption,
    github_settings,
    load_policy_flags,
    parse_fail_on,
    parse_outputs,
    use_color,
    write_output,
)
from slsalint.cli.vsa import (
    AcceptVsaOption,
    CheckVsaFlags,
    VerifierIdOption,
    VsaKeyIdOption,
    VsaKeyOption,
    VsaMaxAgeOption,
    VsaOption,
    VsaPolicyUriOption,
    VsaPushCosignOption,
    VsaPushOption,
)
from slsalint.errors import ConfigError
from slsalint.model import Platform


def check(
    targets: list[str] | None = typer.Argument(
        None,
        metavar="[TARGET]...",
        help="Images to check (one report for all): REGISTRY/REPO:TAG, REPO@sha256:HEX, "
        "oci:PATH[:TAG|@sha256:HEX]. Omit with --attestation, or with --subject/--artifact and "
        "--github-attestations.",
    ),
    attestation: list[Path] = typer.Option(
        [],
        "--attestation",
        "-a",
        help="Attestation file: DSSE envelope, .intoto.jsonl, Sigstore bundle or raw statement (repeatable).",
    ),
    subject: str | None = typer.Option(
        None,
        "--subject",
        help="Digest (sha256:HEX) the --attestation files (and GitHub attestations) must name.",
    ),
    artifact: Path | None = typer.Option(
        None,
        "--artifact",
        help="Artifact file whose sha256 the --attestation files (and GitHub attestations) must name.",
    ),
    platform: list[str] = typer.Option(
        [], "--platform", help="Only check this platform of an index: os/arch[/variant] (repeatable)."
    ),
    policy: PolicyOption = None,
    exceptions: ExceptionsOption = None,
    pack: PackOption = [],  # noqa: B006 (typer copies the default)
    enable: EnableOption = [],  # noqa: B006
    disable: DisableOption = [],  # noqa: B006
    rego: RegoOption = [],  # noqa: B006
    rego_timeout: RegoTimeoutOption = 10.0,
    fmt: list[str] = typer.Option(
        [],
        "--format",
        "-f",
        help="text, json, sarif, junit or markdown; FORMAT=PATH writes to a file (repeatable).",
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: FailOnOption = None,
    sarif_anchor: str | None = typer.Option(
        None, "--sarif-anchor", help="Repository file SARIF results point to (default: the policy file)."
    ),
    offline: OfflineOption = False,
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006 (typer copies the default)
    attestation_repository: AttestationRepositoryOption = None,
    no_cache: NoCacheOption = False,
    github_attestations: GitHubAttestationsOption = [],  # noqa: B006
    github_api_url: GitHubApiUrlOption = DEFAULT_GITHUB_API_URL,
    certificate_identity: CertificateIdentityOption = None,
    certificate_identity_regexp: CertificateIdentityRegexpOption = None,
    certificate_oidc_issuer: CertificateOidcIssuerOption = None,
    certificate_oidc_issuer_regexp: CertificateOidcIssuerRegexpOption = None,
    key: KeyOption = [],  # noqa: B006
    annotations: AnnotationsOption = [],  # noqa: B006
    trusted_root: TrustedRootOption = None,
    no_color: bool = typer.Option(False, "--no-color", help="No colour in text output."),
    vsa: VsaOption = None,
    vsa_key: VsaKeyOption = None,
    vsa_key_id: VsaKeyIdOption = None,
    verifier_id: VerifierIdOption = None,
    vsa_policy_uri: VsaPolicyUriOption = None,
    vsa_push: VsaPushOption = False,
    vsa_push_cosign: VsaPushCosignOption = False,
    accept_vsa: AcceptVsaOption = [],  # noqa: B006
    vsa_max_age: VsaMaxAgeOption = None,
) -> None:
    """Check provenance against the policy; exit 1 when a finding at or above --fail-on remains."""
    from slsalint.engine import LintOptions, LintRequest, lint
    from slsalint.report import render

    outputs = parse_outputs(fmt, output)
    github = github_settings(github_attestations, github_api_url)
    targets = list(dict.fromkeys(targets or []))  # each image once, in the order given
    if not targets and not attestation and not (github is not None and (subject or artifact)):
        raise ConfigError(
            "nothing to check: give a TARGET (oci:PATH), --attestation FILE, or --subject/--artifact "
            "with --github-attestations"
        )
    if targets and attestation:
        raise ConfigError("give either a TARGET or --attestation files, not both")
    if (subject or artifact) and targets:
        raise ConfigError(
            "--subject and --artifact go with --attestation or --github-attestations, not a TARGET"
        )
    if (subject or artifact) and not attestation and github is None:
        raise ConfigError("--subject and --artifact go with --attestation")
    if subject and artifact:
        raise ConfigError("give either --subject or --artifact, not both")
    if artifact is not None:
        from slsalint.sources.files import artifact_digest

        subject = artifact_digest(artifact)
    vsa_flags = CheckVsaFlags(
        vsa,
        vsa_key,
        vsa_key_id,
        verifier_id,
        vsa_policy_uri,
        vsa_push,
        vsa_push_cosign,
        accept_vsa,
        vsa_max_age,
    )
    vsa_flags.validate(targets=targets, subject=subject)
    try:
        platforms = [Platform.parse(p) for p in platform]
    except ValueError as exc:
        raise ConfigError(f"--platform: {exc}") from None
    if platforms and not targets:
        raise ConfigError("--platform applies to an image TARGET, not to --attestation files or --subject")
    level = parse_fail_on(fail_on)
    from slsalint.engine import RegistrySettings
    from slsalint.sources.registry import insecure_hosts

    registry = RegistrySettings(
        offline=offline,
        insecure=insecure_hosts(insecure_registry),
        use_cache=not no_cache,
        attestation_repository=attestation_repository,
        github=github,
    )
    # Validated before anything is read or checked: a bad policy or exceptions file is exit 2.
    flags = load_policy_flags(
        policy,
        exceptions,
        certificate_identity=certificate_identity,
        certificate_identity_regexp=certificate_identity_regexp,
        certificate_oidc_issuer=certificate_oidc_issuer,
        certificate_oidc_issuer_regexp=certificate_oidc_issuer_regexp,
        key=key,
        annotations=annotations,
        trusted_root=trusted_root,
    )
    if targets:
        requests = [LintRequest(target=target, platforms=platforms) for target in targets]
    else:
        requests = [LintRequest(target=None, attestations=list(attestation), subject=subject)]
    label = targets[0] if len(targets) == 1 else f"{len(targets)} images" if targets else None
    options = LintOptions(
        policy=flags.policy,
        packs=pack or None,
        enable=enable,
        disable=disable,
        fail_on=level,
        sarif_anchor=sarif_anchor,
        registry=registry,
        exceptions=flags.exceptions,
        signing=flags.signing,
        rego=list(rego),
        rego_timeout=rego_timeout,
    )
    vsa_settings = None
    if vsa_flags.wanted:
        from slsalint.vsa.policy_digest import policy_digest

        digest = policy_digest(options)
        options.accept_vsa = vsa_flags.acceptance(options, digest)
        vsa_settings = vsa_flags.settings(options, digest)
    with Progress(label or subject or "attestations") as progress:
        registry.progress = progress.update
        report = lint(requests, options)
    from slsalint.cli import vsa as vsa_cli

    vsa_cli.notes(options.accept_vsa)
    width = shutil.get_terminal_size((100, 24)).columns
    for out in outputs:
        if out.path is None:
            color = out.fmt == "text" and not no_color and use_color(sys.stdout)
            text = render(report, out.fmt, color=color, width=width)
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        else:
            write_output(out.path, render(report, out.fmt, color=False, width=100))
    sys.stdout.flush()
    if vsa_settings is not None:
        resources = targets or [str(artifact) if artifact is not None else str(subject)]
        vsa_cli.produce(report, resources, vsa_settings, options)
    raise typer.Exit(report.exit_code)
