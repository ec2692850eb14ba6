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
    GitHubApiUrlOption,
    GitHubAttestationsOption,
    ImageNameOption,
    InsecureRegistryOption,
    KeyOption,
    LimitOption,
    NoCacheOption,
    OfflineOption,
    Progress,
    TimeoutOption,
    TrustedRootOption,
    github_settings,
    insecure_hosts_option,
    network_limits,
    parse_outputs,
    read_images_text,
    use_color,
    warn,
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
from slsalint.model import Level, Platform


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
    policy: Path | None = typer.Option(
        None, "--policy", "-p", help="Policy file (default: ./slsalint.yaml when present)."
    ),
    exceptions: Path | None = typer.Option(
        None,
        "--exceptions",
        help="Exceptions file (instead of the one the policy names): reviewed, time-limited waivers.",
    ),
    pack: list[str] = typer.Option(
        [], "--pack", help="Rule pack to run instead of the policy's (repeatable)."
    ),
    enable: list[str] = typer.Option([], "--enable", help="Enable a rule by id or name (repeatable)."),
    disable: list[str] = typer.Option([], "--disable", help="Disable a rule by id or name (repeatable)."),
    rego: list[Path] = typer.Option(
        [], "--rego", help="Directory (or file) of Rego rules to evaluate as well (repeatable)."
    ),
    rego_timeout: float = typer.Option(
        10.0,
        "--rego-timeout",
        min=0.1,
        help="Seconds one Rego rule may take on one attestation (and each module to compile).",
    ),
    rego_isolation: str = typer.Option(
        "in-process",
        "--rego-isolation",
        help="Where the Rego engine runs: in-process (default) or worker (a child process that is "
        "stopped and restarted when a rule times out, which then gets SL904 while the run goes on).",
    ),
    fmt: list[str] = typer.Option(
        [],
        "--format",
        "-f",
        help="text, json, sarif, junit or markdown; FORMAT=PATH writes to a file (repeatable).",
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Lowest level that fails the run: error (default), warning or note."
    ),
    sarif_anchor: str | None = typer.Option(
        None, "--sarif-anchor", help="Repository file SARIF results point to (default: the policy file)."
    ),
    offline: OfflineOption = False,
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006 (typer copies the default)
    attestation_repository: AttestationRepositoryOption = None,
    no_cache: NoCacheOption = False,
    github_attestations: GitHubAttestationsOption = [],  # noqa: B006
    github_api_url: GitHubApiUrlOption = DEFAULT_GITHUB_API_URL,
    timeout: TimeoutOption = None,
    limit: LimitOption = [],  # noqa: B006
    image_name: ImageNameOption = None,
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
    images: Path | None = typer.Option(
        None,
        "--images",
        metavar="FILE|-",
        help="Also check the images FILE names: one reference per line (# comments), or a Conforma "
        "snapshot (JSON/YAML components[].containerImage); - reads standard input.",
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        max=256,
        help="Images read at once (default: 16 from registries, 4 from layouts; 1 for one image).",
    ),
    shard: str | None = typer.Option(
        None,
        "--shard",
        metavar="K/N",
        help="Only check shard K of N (counted from 0), chosen by image name without digest: "
        "the same on every machine and rerun. Merge the JSON reports with `slsalint report merge`.",
    ),
) -> None:
    """Check provenance against the policy; exit 1 when a finding at or above --fail-on remains."""
    from slsalint.engine import LintOptions, LintRequest, lint
    from slsalint.policy import DEFAULT_POLICY, Policy, load_policy
    from slsalint.report import render

    outputs = parse_outputs(fmt, output)
    github = github_settings(github_attestations, github_api_url)
    targets = list(targets or [])
    if images is not None:
        from slsalint.fleet import read_image_list

        targets += read_image_list(read_images_text(images), str(images))
        if not targets:
            raise ConfigError(f"--images {images}: names no image")
    targets = list(dict.fromkeys(targets))  # each image once, in the order given
    named = list(targets)  # before --shard keeps its part
    if shard is not None:
        from slsalint.fleet import Shard, select_shard

        if not targets:
            raise ConfigError("--shard applies to image TARGETs or --images, not to --attestation files")
        listed = len(targets)
        targets = select_shard(targets, Shard.parse(shard))
        if not targets:
            # Nothing falls into this shard: an empty report (that `report merge` accepts), exit 0.
            warn(f"--shard {shard}: none of the {listed} images falls into this shard")
    from_github = github is not None and bool(subject or artifact)
    if shard is None and not targets and not attestation and not from_github:
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
    vsa_flags.validate(targets=named, subject=subject)
    try:
        platforms = [Platform.parse(p) for p in platform]
    except ValueError as exc:
        raise ConfigError(f"--platform: {exc}") from None
    if platforms and not targets and shard is None:
        raise ConfigError("--platform applies to an image TARGET, not to --attestation files or --subject")
    level: Level | None = None
    if fail_on is not None:
        try:
            level = Level(fail_on.lower())
        except ValueError:
            raise ConfigError(f"--fail-on {fail_on}: expected error, warning or note") from None
        if level is Level.OFF:
            raise ConfigError("--fail-on off: expected error, warning or note")
    if image_name is not None and (len(targets) != 1 or not targets[0].startswith("oci:")):
        raise ConfigError("--image-name names the image of one oci: layout TARGET")
    from slsalint.engine import RegistrySettings

    run_timeout, limits = network_limits(timeout, limit)
    registry = RegistrySettings(
        offline=offline,
        insecure=insecure_hosts_option(insecure_registry),
        use_cache=not no_cache,
        attestation_repository=attestation_repository,
        github=github,
        timeout=run_timeout,
        limits=limits,
    )
    if policy is not None:
        loaded = load_policy(policy)
    elif DEFAULT_POLICY.is_file():
        loaded = load_policy(DEFAULT_POLICY)
    else:
        loaded = Policy()
    from slsalint.exceptions import load_for_policy

    # Validated before anything is read or checked: a bad exceptions file is exit 2, never ignored.
    exceptions_path = exceptions or loaded.exceptions
    waivers = load_for_policy(exceptions_path, loaded) if exceptions_path is not None else None
    from slsalint.signing import settings_from_flags

    signing = settings_from_flags(
        identity=certificate_identity,
        identity_regexp=certificate_identity_regexp,
        issuer=certificate_oidc_issuer,
        issuer_regexp=certificate_oidc_issuer_regexp,
        keys=key,
        annotations=annotations,
        trusted_root=trusted_root,
        policy_signers=loaded.signers,
    )
    if targets or shard is not None:
        requests = [
            LintRequest(target=target, platforms=platforms, image_name=image_name) for target in targets
        ]
    else:
        requests = [LintRequest(target=None, attestations=list(attestation), subject=subject)]
    label = targets[0] if len(targets) == 1 else f"{len(targets)} images" if targets else None
    options = LintOptions(
        policy=loaded,
        packs=pack or None,
        enable=enable,
        disable=disable,
        fail_on=level,
        sarif_anchor=sarif_anchor,
        registry=registry,
        exceptions=waivers,
        signing=signing,
        rego=list(rego),
        rego_timeout=rego_timeout,
        rego_isolation=rego_isolation,
    )
    vsa_settings = None
    if vsa_flags.wanted:
        from slsalint.vsa.policy_digest import policy_digest

        digest = policy_digest(options)
        options.accept_vsa = vsa_flags.acceptance(options, digest)
        vsa_settings = vsa_flags.settings(options, digest)
    with Progress(label or subject or "attestations") as progress:
        registry.progress = progress.update
        report = lint(requests, options, jobs=jobs)
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
    if vsa_settings is not None and (targets or shard is None):  # an empty shard attests nothing
        resources = targets or [str(artifact) if artifact is not None else str(subject)]
        vsa_cli.produce(report, resources, vsa_settings, options)
    raise typer.Exit(report.exit_code)
