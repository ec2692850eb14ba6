"""``slsalint explain``: where every attestation of an image lives, and why a tool may say "missing"."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

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
    PackOption,
    PolicyOption,
    Progress,
    RegistryCaOption,
    RegoOption,
    RegoTimeoutOption,
    TimeoutOption,
    TrustedRootOption,
    check_destination,
    github_settings,
    info,
    insecure_hosts_option,
    load_policy_flags,
    network_limits,
    parse_fail_on,
    registry_ca_option,
    use_color,
    write_output,
)
from slsalint.errors import ConfigError
from slsalint.model import Platform


def explain(
    reference: str = typer.Argument(..., help="Image: REGISTRY/REPO:TAG, REPO@sha256:HEX or oci:PATH[:TAG]."),
    platform: list[str] = typer.Option(
        [], "--platform", metavar="OS/ARCH", help="Only this platform (repeatable)."
    ),
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file."),
    policy: PolicyOption = None,
    exceptions: ExceptionsOption = None,
    pack: PackOption = [],  # noqa: B006 (typer copies the default)
    enable: EnableOption = [],  # noqa: B006
    disable: DisableOption = [],  # noqa: B006
    rego: RegoOption = [],  # noqa: B006
    rego_timeout: RegoTimeoutOption = 10.0,
    fail_on: FailOnOption = None,
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006
    registry_ca: RegistryCaOption = [],  # noqa: B006
    attestation_repository: AttestationRepositoryOption = None,
    no_cache: NoCacheOption = False,
    offline: OfflineOption = False,
    github_attestations: GitHubAttestationsOption = [],  # noqa: B006
    github_api_url: GitHubApiUrlOption = DEFAULT_GITHUB_API_URL,
    certificate_identity: CertificateIdentityOption = None,
    certificate_identity_regexp: CertificateIdentityRegexpOption = None,
    certificate_oidc_issuer: CertificateOidcIssuerOption = None,
    certificate_oidc_issuer_regexp: CertificateOidcIssuerRegexpOption = None,
    key: KeyOption = [],  # noqa: B006
    annotations: AnnotationsOption = [],  # noqa: B006
    trusted_root: TrustedRootOption = None,
    timeout: TimeoutOption = None,
    limit: LimitOption = [],  # noqa: B006
    image_name: ImageNameOption = None,
) -> None:
    """Show the evidence tree of an image and diagnose "missing attestation" reports.

    The image is checked exactly as `slsalint check` checks it, with the same policy, packs,
    signers and exceptions: the exit code is check's (0 clean, 1 violations, 2/3 as for check),
    and each diagnosis says whether it fails the check.

    Examples:

    \b
      slsalint explain oci:examples/demo-image
      slsalint explain ghcr.io/org/app:1.2.3 --policy slsalint.yaml
      slsalint explain ghcr.io/org/app:1.2.3 --platform linux/arm64 --format json -o explain.json
      slsalint explain ghcr.io/org/app:1.2.3 --github-attestations org/app
    """
    from slsalint.engine import LintOptions, LintRequest, RegistrySettings
    from slsalint.engine import explain as run_explain

    if fmt not in ("text", "json"):
        raise ConfigError(f"--format {fmt}: expected text or json")
    if output is not None:
        check_destination(output)  # an unwritable -o is exit 2 before anything is read
    try:
        platforms = [Platform.parse(p) for p in platform]
    except ValueError as exc:
        raise ConfigError(f"--platform: {exc}") from None
    level = parse_fail_on(fail_on)
    github = github_settings(github_attestations, github_api_url)
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

    if image_name is not None and not reference.startswith("oci:"):
        raise ConfigError("--image-name names the image of an oci: layout REFERENCE")
    run_timeout, limits = network_limits(timeout, limit)
    progress = Progress(reference)
    settings = RegistrySettings(
        timeout=run_timeout,
        limits=limits,
        offline=offline,
        github=github,
        insecure=insecure_hosts_option(insecure_registry),
        registry_ca=registry_ca_option(registry_ca),
        use_cache=not no_cache,
        attestation_repository=attestation_repository,
        progress=progress.update,
    )
    options = LintOptions(
        policy=flags.policy,
        packs=pack or None,
        enable=enable,
        disable=disable,
        fail_on=level,
        registry=settings,
        exceptions=flags.exceptions,
        signing=flags.signing,
        rego=list(rego),
        rego_timeout=rego_timeout,
    )
    from slsalint.cli.check import describe_inputs

    describe_inputs(flags, pack)
    info(f"reading {reference}")
    with progress:
        result = run_explain(
            LintRequest(target=reference, platforms=platforms, image_name=image_name), options
        )
    diagnoses = result.to_json()["diagnoses"]
    info(f"{len(diagnoses)} diagnoses; {progress.requests} registry requests")
    if fmt == "json":
        text = json.dumps(result.to_json(), indent=2) + "\n"
    else:
        stream = sys.stdout if output is None else None
        color = stream is not None and use_color(stream)
        width = shutil.get_terminal_size((100, 24)).columns if output is None else 100
        quiet = STATE.quiet and output is None  # a file gets the whole explanation
        text = render_text(result.to_json(), color=color, width=width, quiet=quiet)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_output(output, text)
    raise typer.Exit(result.exit_code)


def _short(digest: str | None) -> str:
    if not digest:
        return "-"
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}"


def render_text(document: dict[str, Any], *, color: bool, width: int, quiet: bool = False) -> str:
    """The explanation for people: a tree, then the diagnoses with their fixes. ``quiet``: only
    the diagnoses and findings that fail the check, and its verdict."""
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    from slsalint.report.text import sanitize

    def t(value: Any, style: str = "") -> Text:
        return Text(sanitize(str(value)), style=style)

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        width=width,
        markup=False,
        highlight=False,
        emoji=False,
    )
    tree_doc = document["tree"]
    if tree_doc.get("kind") == "artifact":
        root = Tree(t(f"{tree_doc['reference']}: {tree_doc['what']}", "bold"))
    else:
        root = Tree(
            Text.assemble(
                t(tree_doc["reference"], "bold"),
                t(f"  {tree_doc['kind']} {_short(tree_doc.get('digest'))} {tree_doc.get('size', 0)} B"),
            )
        )
        for platform in tree_doc.get("platforms", []):
            branch = root.add(
                Text.assemble(
                    t(platform.get("platform") or "image", "bold cyan"), t(f"  {_short(platform['digest'])}")
                )
            )
            if not platform["evidence"]:
                branch.add(t("no attestations", "red"))
            for node in platform["evidence"]:
                _add_node(branch, node, t)
        if tree_doc.get("indexEvidence"):
            branch = root.add(t("attached to the index digest", "bold cyan"))
            for node in tree_doc["indexEvidence"]:
                _add_node(branch, node, t)
        if tree_doc.get("otherEvidence"):
            branch = root.add(t("attached to other digests", "bold yellow"))
            for node in tree_doc["otherEvidence"]:
                _add_node(branch, node, t)
        if tree_doc.get("orphanedAttestations"):
            branch = root.add(t("orphaned: listed for manifests this index does not list", "bold red"))
            for orphan in tree_doc["orphanedAttestations"]:
                form = " (artifact form)" if orphan.get("artifactType") else ""
                size = f"{orphan['size']} B"
                where = f"  {_short(orphan['digest'])} {size}  names {_short(orphan['names'])}"
                branch.add(Text.assemble(t(f"{orphan['kind']}{form}", "bold"), t(where)))
        referrers = tree_doc.get("referrers") or {}
        if referrers.get("api") is not None:
            api = "referrers API available" if referrers["api"] else "no referrers API"
            tags = referrers.get("fallbackTags") or []
            root.add(t(f"{api}; fallback tags: {', '.join(tags) if tags else 'none'}", "dim"))
    diagnoses = document["diagnoses"]
    if quiet:
        diagnoses = [d for d in diagnoses if d.get("failing", d["severity"] == "problem")]
    else:
        console.print(root)
    if not diagnoses and not quiet:
        console.print(t("\nno known cause of a missing-attestation report applies", "green"))
    for diagnosis in diagnoses:
        failing = diagnosis.get("failing", diagnosis["severity"] == "problem")
        style = "bold red" if failing else "bold yellow"
        console.print()
        console.print(
            Text.assemble(t(f"{diagnosis['id']} {diagnosis['name']}: ", style), t(diagnosis["title"]))
        )
        for line in diagnosis["evidence"]:
            console.print(Text.assemble(t("  evidence: ", "dim"), t(line)))
        console.print(Text.assemble(t("  fix: ", "bold"), t(diagnosis["fix"])))
        if diagnosis.get("verdict"):
            console.print(Text.assemble(t("  policy: ", "dim"), t(diagnosis["verdict"], style)))
    check = document.get("check")
    if check is not None:
        _render_check(console, check, t, quiet=quiet)
    return buffer.getvalue().lstrip("\n") if quiet else buffer.getvalue()


def _signer_line(signature: dict[str, Any]) -> str:
    """Who made an image signature (a ``.sig`` layer or a bundle over the image)."""
    if not signature["verified"]:
        return f"image signature NOT verified: {signature['problem']}"
    line = f"image signature by {signature['signer']}"
    if signature.get("logIndex") is not None:
        line += f", log index {signature['logIndex']}"
    if signature.get("integratedTime"):
        line += f", integrated {signature['integratedTime']}"
    return line


def _render_check(console: Any, check: dict[str, Any], t: Any, *, quiet: bool = False) -> None:
    """The verdict of ``check`` under the same policy, with the findings that decide it."""
    from rich.text import Text

    counts = check["counts"]
    failing = [f for f in check["findings"] if f["failing"]]
    packs = ", ".join(check["packs"]) or "none"
    verdict = f"FAIL ({len(failing)} finding(s) at or above {check['failOn']})" if failing else "PASS"
    tally = ", ".join(f"{counts[k]} {k}" for k in ("error", "warning", "note", "waived") if counts.get(k))
    console.print()
    console.print(
        Text.assemble(
            t("check under this policy: ", "bold"),
            t(verdict, "bold red" if failing else "bold green"),
            t(f"  (packs: {packs}{'; ' + tally if tally else ''})", "dim"),
        )
    )
    for finding in check["findings"]:
        if quiet and not finding["failing"]:
            continue
        where = f" {finding['platform']}" if finding.get("platform") else ""
        state = "waived" if finding["waived"] else finding["level"]
        style = "red" if finding["failing"] else "dim"
        console.print(
            Text.assemble(t(f"  {finding['ruleId']} {state}{where}: ", style), t(finding["message"]))
        )


def _add_node(branch: Any, node: dict[str, Any], t: Any) -> None:
    from rich.text import Text

    label = node["kind"]
    if node.get("form"):
        label += f" ({node['form']} form)"
    if node.get("tag"):
        label += f" tag {node['tag']}"
    if node["kind"] == "github-attestations":
        label += f" {node['location']}"
    sub = branch.add(Text.assemble(t(label, "bold"), t(f"  {_short(node['digest'])} {node['size']} B")))
    if node.get("artifactType"):
        sub.add(t(f"artifactType {node['artifactType']}", "dim"))
    for layer in node["layers"]:
        what = layer.get("predicateType") or layer["mediaType"]
        leaf = sub.add(t(f"{what}  {_short(layer['digest'])} {layer['size']} B"))
        signed = layer.get("signature")
        if signed:
            leaf.add(t(_signer_line(signed), "dim"))
        if layer.get("vsa"):
            from slsalint.vsa.explain import describe

            leaf.add(t(describe(layer["vsa"]), "dim"))
        for statement in layer["statements"]:
            details = [
                statement["predicateType"],
                f"subject {', '.join(_short(s) for s in statement['subjects'])}",
            ]
            if statement.get("mode"):
                details.append(f"mode={statement['mode']}")
            if statement.get("builder") is not None:
                details.append(f"builder {statement['builder'] or '(empty)'}")
            signature = statement.get("signature")
            if signature:
                state = "signed by" if signature["verified"] else "signature NOT verified:"
                if signature["verified"] and signature.get("via"):
                    state = "signed (through the image signature over the index) by"
                details.append(
                    f"{state} {signature['signer'] if signature['verified'] else signature['problem']}"
                )
            else:
                details.append("unsigned")
            leaf.add(t("; ".join(details), "dim"))
