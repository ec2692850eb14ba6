"""``slsalint check``: lint the provenance of an image or of attestation files."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from slsalint.cli._common import (
    DEFAULT_GITHUB_API_URL,
    STATE,
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
    ImageNameOption,
    InsecureRegistryOption,
    KeyOption,
    LimitOption,
    NoCacheOption,
    OfflineOption,
    Output,
    PackOption,
    PolicyFlags,
    PolicyOption,
    Progress,
    RegistryCaOption,
    RegoOption,
    RegoTimeoutOption,
    TimeoutOption,
    TrustedRootOption,
    existing_size,
    github_settings,
    info,
    insecure_hosts_option,
    load_policy_flags,
    network_limits,
    parse_fail_on,
    parse_outputs,
    read_images_text,
    registry_ca_option,
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
from slsalint.model import Platform, Report, RunError

if TYPE_CHECKING:
    from slsalint.report import ReportOptions


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
        metavar="FILE",
        help="Attestation file: DSSE envelope, .intoto.jsonl, Sigstore bundle or raw statement (repeatable).",
    ),
    subject: str | None = typer.Option(
        None,
        "--subject",
        metavar="DIGEST",
        help="Digest (sha256:HEX) the --attestation files (and GitHub attestations) must name.",
    ),
    artifact: Path | None = typer.Option(
        None,
        "--artifact",
        metavar="FILE",
        help="Artifact file whose sha256 the --attestation files (and GitHub attestations) must name.",
    ),
    platform: list[str] = typer.Option(
        [],
        "--platform",
        metavar="OS/ARCH",
        help="Only check this platform of an index: os/arch[/variant] (repeatable).",
    ),
    policy: PolicyOption = None,
    exceptions: ExceptionsOption = None,
    pack: PackOption = [],  # noqa: B006 (typer copies the default)
    enable: EnableOption = [],  # noqa: B006
    disable: DisableOption = [],  # noqa: B006
    rego: RegoOption = [],  # noqa: B006
    rego_timeout: RegoTimeoutOption = 10.0,
    rego_isolation: str = typer.Option(
        "in-process",
        "--rego-isolation",
        metavar="in-process|worker",
        help="Where the Rego engine runs: in-process (default) or worker (a child process that is "
        "stopped and restarted when a rule times out, which then gets SL904 while the run goes on).",
    ),
    fmt: list[str] = typer.Option(
        [],
        "--format",
        "-f",
        metavar="FORMAT[=FILE]",
        help="text, json, sarif, junit or markdown; FORMAT=PATH writes to a file (repeatable).",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report to this file."
    ),
    fail_on: FailOnOption = None,
    sarif_anchor: str | None = typer.Option(
        None,
        "--sarif-anchor",
        metavar="FILE",
        help="Repository file SARIF results without a configuration line point to "
        "(default: the policy file).",
    ),
    sarif_category: str | None = typer.Option(
        None,
        "--sarif-category",
        metavar="CATEGORY",
        help="SARIF automationDetails.id: the code-scanning category of this run (default: from the "
        "checked components or repositories and --platform).",
    ),
    sarif_root: Path | None = typer.Option(
        None,
        "--sarif-root",
        metavar="DIR",
        help="Directory SARIF file locations are relative to (%SRCROOT%; default: the git top level).",
    ),
    docs_url: str | None = typer.Option(
        None,
        "--docs-url",
        metavar="URL",
        envvar="SLSALINT_DOCS_URL",
        help="Base URL of the rule documentation linked from reports (default: the project's docs).",
    ),
    offline: OfflineOption = False,
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006 (typer copies the default)
    registry_ca: RegistryCaOption = [],  # noqa: B006
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
        metavar="N",
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
    """Check provenance against the policy; exit 1 when a finding at or above --fail-on remains.

    Every requested report is written, also when the run stops with exit 2 or 3 (then it says why).

    Examples:

    \b
      slsalint check oci:examples/demo-image
      slsalint check ghcr.io/org/app:1.2.3 --policy slsalint.yaml
      slsalint check ghcr.io/org/app:1.2.3 --format text --format sarif=slsalint.sarif
      slsalint check ghcr.io/org/app@sha256:HEX --platform linux/amd64 --fail-on warning
      slsalint check --attestation app.intoto.jsonl --artifact app.tar.gz
      slsalint check --images images.txt --jobs 8 --shard 0/4 --format json=shard-0.json
      slsalint --quiet check oci:examples/demo-image --enable SL404 --disable SL302
    """

    from slsalint.report.sarif import category_for

    outputs = parse_outputs(fmt, output)  # the destinations are known (and writable) before anything runs
    if sarif_category is None:  # the same for a run that passes, fails or stops
        sarif_category = category_for(list(targets or []), platform, [str(a) for a in attestation])
    options = _report_options(sarif_category, sarif_root, docs_url)
    if any(o.fmt == "sarif" for o in outputs):
        _check_anchor(sarif_anchor, policy, sarif_root)
    settings: dict[str, str | None] = {"policy": str(policy) if policy is not None else None}
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
    try:
        with stop_reports(
            outputs,
            options,
            policy=settings["policy"],
            sarif_anchor=sarif_anchor,
            no_color=no_color,
            in_process_rego=rego_isolation == "in-process",
        ):
            report, after = _run(
                targets=targets,
                attestation=attestation,
                subject=subject,
                artifact=artifact,
                platform=platform,
                policy=policy,
                exceptions=exceptions,
                pack=pack,
                enable=enable,
                disable=disable,
                rego=rego,
                rego_timeout=rego_timeout,
                rego_isolation=rego_isolation,
                fail_on=fail_on,
                sarif_anchor=sarif_anchor,
                offline=offline,
                insecure_registry=insecure_registry,
                registry_ca=registry_ca,
                attestation_repository=attestation_repository,
                no_cache=no_cache,
                github_attestations=github_attestations,
                github_api_url=github_api_url,
                timeout=timeout,
                limit=limit,
                image_name=image_name,
                certificate_identity=certificate_identity,
                certificate_identity_regexp=certificate_identity_regexp,
                certificate_oidc_issuer=certificate_oidc_issuer,
                certificate_oidc_issuer_regexp=certificate_oidc_issuer_regexp,
                key=key,
                annotations=annotations,
                trusted_root=trusted_root,
                vsa_flags=vsa_flags,
                images=images,
                jobs=jobs,
                shard=shard,
            )
    except typer.Exit:
        raise
    except Exception as exc:
        write_reports(
            outputs, failed_report(exc, settings["policy"], sarif_anchor), options, no_color=no_color
        )
        raise
    write_reports(outputs, report, options, no_color=no_color)
    if after is not None:
        after()  # VSAs are produced from the report once it is written
    raise typer.Exit(report.exit_code)


def _report_options(category: str | None, root: Path | None, docs_url: str | None) -> ReportOptions:
    from slsalint.report import ReportOptions

    if category is not None and not category.strip():
        raise ConfigError("--sarif-category: must not be empty")
    if root is not None and not root.is_dir():
        raise ConfigError(f"--sarif-root {root}: not a directory")
    if docs_url is not None and not docs_url.startswith(("https://", "http://")):
        raise ConfigError(f"--docs-url {docs_url}: expected an http(s) URL")
    return ReportOptions(sarif_category=category, sarif_root=root, docs_url=docs_url)


def _check_anchor(anchor: str | None, policy: Path | None, root: Path | None) -> None:
    """SARIF results need a file inside the repository: the anchor (or the policy file) must be
    below the SARIF root, else exit 2 before anything runs."""
    from slsalint.policy import DEFAULT_POLICY
    from slsalint.report.sarif import DEFAULT_ANCHOR, relative_uri, source_root

    chosen = anchor or (str(policy) if policy is not None else None) or str(DEFAULT_POLICY) or DEFAULT_ANCHOR
    top = source_root(root)
    if relative_uri(chosen, top) is None:
        flag = "--sarif-anchor" if anchor else "--policy"
        raise ConfigError(
            f"{flag} {chosen}: outside the SARIF root {top}; code scanning needs a file of the "
            "repository: give --sarif-anchor FILE inside it, or --sarif-root"
        )


def failed_report(exc: BaseException, policy_path: str | None, sarif_anchor: str | None) -> Report:
    """The report of a run that stopped before judging: no results, the error and its exit code."""
    from slsalint import __version__
    from slsalint.errors import SlsalintError

    if isinstance(exc, SlsalintError):
        code = exc.exit_code
        kind = {2: "configuration", 3: "operational"}.get(code, "internal")
        message = str(exc)
    else:
        code, kind = 4, "internal"
        message = f"internal error: {type(exc).__name__}: {exc}"
    message = " ".join(message.split()) or type(exc).__name__
    return Report(
        tool_version=__version__,
        results=[],
        rules=[],
        policy_path=policy_path,
        sarif_anchor=sarif_anchor or policy_path,
        error=RunError(message=message, exit_code=code, kind=kind),
    )


def write_reports(outputs: list[Output], report: Report, options: ReportOptions, *, no_color: bool) -> None:
    """Write every requested report. On a stopped run the text report on standard output is left
    out (the one-line error on stderr says it); every other destination gets its report."""
    for out, text in rendered_reports(outputs, report, options, no_color=no_color):
        if out.path is None:
            sys.stdout.write(text)
            continue
        write_output(out.path, text, append=out.appends)
        info(f"wrote the {out.fmt} report to {out.path}")
    sys.stdout.flush()


def rendered_reports(
    outputs: list[Output], report: Report, options: ReportOptions, *, no_color: bool
) -> list[tuple[Output, str]]:
    """Each requested report as written: ``(destination, text)``."""
    from dataclasses import replace

    from slsalint.report import render

    width = shutil.get_terminal_size((100, 24)).columns
    out_texts: list[tuple[Output, str]] = []
    for out in outputs:
        if out.path is None:
            if report.error is not None and out.fmt == "text":
                continue
            color = out.fmt == "text" and not no_color and use_color(sys.stdout)
            shown = replace(options, quiet=STATE.quiet)  # --quiet: the text report on stdout only
            text = render(report, out.fmt, color=color, width=width, options=shown)
            out_texts.append((out, text if text.endswith("\n") else text + "\n"))
            continue
        local = options
        if out.appends:
            from slsalint.report.markdown import MARGIN, STEP_SUMMARY_LIMIT

            budget = STEP_SUMMARY_LIMIT - MARGIN - existing_size(out.path)
            local = replace(options, markdown_budget=budget)
        text = render(report, out.fmt, color=False, width=100, options=local)
        if out.appends:
            text = "\n" + text if existing_size(out.path) else text
        out_texts.append((out, text))
    return out_texts


@contextlib.contextmanager
def stop_reports(
    outputs: list[Output],
    options: ReportOptions,
    *,
    policy: str | None,
    sarif_anchor: str | None,
    no_color: bool,
    in_process_rego: bool,
) -> Iterator[None]:
    """While the run goes on, the reports of a run the in-process Rego engine's watchdog has to
    stop (exit 3) wait with the watchdog, which writes them before it ends the run: a stopped run
    writes every requested report, whatever stopped it."""
    if not in_process_rego or not outputs:
        yield
        return
    import tempfile

    from slsalint.errors import OperationalError
    from slsalint.rego import watchdog

    stopped = failed_report(OperationalError(watchdog.STOP_MESSAGE), policy, sarif_anchor)
    texts = rendered_reports(outputs, stopped, options, no_color=no_color)
    if not texts:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="slsalint-stop-") as directory:
        watchdog.prepare_stop_reports(
            [(out.path, text.encode("utf-8"), out.appends) for out, text in texts], Path(directory)
        )
        try:
            yield
        finally:
            watchdog.clear_stop_reports()


def describe_inputs(flags: PolicyFlags, packs: list[str]) -> None:
    """``--verbose``: the policy, packs, components and exceptions the run judges with."""
    if not STATE.verbose:
        return
    policy = flags.policy
    where = str(policy.path) if policy.path is not None else "none (built-in defaults)"
    chosen = ", ".join(packs or policy.packs) or "none"
    info(f"policy {where}: packs {chosen}, {len(policy.components.components)} components")
    if flags.exceptions is not None:
        info(f"exceptions {flags.exceptions.path}: {len(flags.exceptions.entries)} entries")


def verbose_targets(target: Callable[[int, int, str], None]) -> Callable[[int, int, str], None]:
    """The progress line's target callback, which with ``--verbose`` also logs each target read."""
    if not STATE.verbose:
        return target

    def both(number: int, count: int, reference: str) -> None:
        info(f"reading {number}/{count} {reference}")
        target(number, count, reference)

    return both


def describe_results(report: Report, requests: int) -> None:
    """``--verbose``: per target what was found where, then the totals."""
    if not STATE.verbose:
        return
    for result in report.results:
        target = result.target
        attestations = [a for p in target.platforms for a in p.attestations]
        kinds = sorted({a.source.kind for a in attestations})
        found = f" from {', '.join(kinds)}" if kinds else ""
        info(
            f"{target.reference}: {len(target.platforms)} platform(s), {len(attestations)} "
            f"attestation(s){found}, {len(result.findings)} finding(s)"
        )
    rules = len(report.rules)
    info(f"judged {len(report.results)} target(s) with {rules} rules; {requests} registry requests")


def _run(
    *,
    targets: list[str] | None,
    attestation: list[Path],
    subject: str | None,
    artifact: Path | None,
    platform: list[str],
    policy: Path | None,
    exceptions: Path | None,
    pack: list[str],
    enable: list[str],
    disable: list[str],
    rego: list[Path],
    rego_timeout: float,
    rego_isolation: str,
    fail_on: str | None,
    sarif_anchor: str | None,
    offline: bool,
    insecure_registry: list[str],
    registry_ca: list[Path],
    attestation_repository: str | None,
    no_cache: bool,
    github_attestations: list[str],
    github_api_url: str,
    timeout: float | None,
    limit: list[str],
    image_name: str | None,
    certificate_identity: str | None,
    certificate_identity_regexp: str | None,
    certificate_oidc_issuer: str | None,
    certificate_oidc_issuer_regexp: str | None,
    key: list[Path],
    annotations: list[str],
    trusted_root: Path | None,
    vsa_flags: CheckVsaFlags,
    images: Path | None,
    jobs: int | None,
    shard: str | None,
) -> tuple[Report, Callable[[], None] | None]:
    """Everything ``check`` does between parsing its report destinations and writing them; also
    returns what is left to do once the reports are written (producing VSAs), if anything."""
    from slsalint.engine import LintOptions, LintRequest, lint

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
    vsa_flags.validate(targets=named, subject=subject)
    try:
        platforms = [Platform.parse(p) for p in platform]
    except ValueError as exc:
        raise ConfigError(f"--platform: {exc}") from None
    if platforms and not targets and shard is None:
        raise ConfigError("--platform applies to an image TARGET, not to --attestation files or --subject")
    level = parse_fail_on(fail_on)
    if image_name is not None and (len(targets) != 1 or not targets[0].startswith("oci:")):
        raise ConfigError("--image-name names the image of one oci: layout TARGET")
    from slsalint.engine import RegistrySettings

    run_timeout, limits = network_limits(timeout, limit)
    registry = RegistrySettings(
        offline=offline,
        insecure=insecure_hosts_option(insecure_registry),
        registry_ca=registry_ca_option(registry_ca),
        use_cache=not no_cache,
        attestation_repository=attestation_repository,
        github=github,
        timeout=run_timeout,
        limits=limits,
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
    describe_inputs(flags, pack)
    if targets or shard is not None:
        requests = [
            LintRequest(target=target, platforms=platforms, image_name=image_name) for target in targets
        ]
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
        registry.progress_target = verbose_targets(progress.target)
        report = lint(requests, options, jobs=jobs)
    describe_results(report, progress.requests)
    from slsalint.cli import vsa as vsa_cli

    vsa_cli.notes(options.accept_vsa)
    if vsa_settings is None or not (targets or shard is None):  # an empty shard attests nothing
        return report, None
    resources = targets or [str(artifact) if artifact is not None else str(subject)]
    settings_for_vsa = vsa_settings
    return report, lambda: vsa_cli.produce(report, resources, settings_for_vsa, options)
