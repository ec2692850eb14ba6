"""``slsalint verify-vsa`` (slsa-verifier's flags and semantics) and the VSA options of ``check``
(``--vsa``, ``--vsa-key``, ``--verifier-id``, ``--vsa-push``, ``--accept-vsa``, ``--vsa-max-age``)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slsalint.cli._common import (
    STATE,
    InsecureRegistryOption,
    NoCacheOption,
    RegistryCaOption,
    note,
    parse_outputs,
    registry_ca_option,
    use_color,
    write_output,
)
from slsalint.errors import ConfigError, OperationalError

if TYPE_CHECKING:
    from slsalint.engine import LintOptions
    from slsalint.model import Report
    from slsalint.verify.keys import LoadedKey
    from slsalint.vsa.accept import VsaAcceptance
    from slsalint.vsa.produce import VsaSettings
    from slsalint.vsa.verify import Candidate

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = dt.timedelta(days=3660)


def parse_duration(text: str, what: str) -> dt.timedelta:
    """``30m``, ``12h``, ``7d``, ``2w``, ``1d12h`` (Go-style ``168h`` too) -> timedelta."""
    value = text.strip().lower()
    pos, seconds = 0, 0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not value or pos != len(value):
        raise ConfigError(f"{what} {text!r}: expected a duration such as 30m, 12h, 7d, 2w or 1d12h")
    if seconds <= 0:
        raise ConfigError(f"{what} {text!r}: the duration must be positive")
    if seconds > MAX_DURATION.total_seconds():
        raise ConfigError(f"{what} {text!r}: longer than ten years")
    return dt.timedelta(seconds=seconds)


def load_public_keys(paths: list[Path], what: str) -> list[LoadedKey]:
    from slsalint import fileio
    from slsalint.verify.errors import KeyLoadError
    from slsalint.verify.keys import load_public_key

    keys = []
    for path in paths:
        try:
            keys.append(load_public_key(fileio.read_bytes(path, limit=1 << 20), source=str(path)))
        except fileio.FileReadError as exc:
            raise ConfigError(f"{what} {exc}") from None
        except KeyLoadError as exc:
            message = str(exc)
            if len(message) > 200:  # cryptography's own detail can be long: keep the line short
                message = message.split(" (", 1)[0]
            raise ConfigError(f"{what} {message}") from None
    return keys


# -- check's options ------------------------------------------------------------------------------

VsaOption = Annotated[
    Path | None,
    typer.Option(
        "--vsa",
        metavar="FILE|DIR",
        help="Write a signed SLSA VSA per checked image to this .intoto.jsonl file (one line per image), "
        "or, when it is a directory, one sha256-HEX.intoto.jsonl per image.",
    ),
]
VsaKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--vsa-key",
        metavar="FILE",
        help="Private key that signs the VSAs (cosign's formats; encrypted keys read COSIGN_PASSWORD).",
    ),
]
VsaKeyIdOption = Annotated[
    str | None,
    typer.Option(
        "--vsa-key-id",
        metavar="ID",
        help="Key id recorded in the DSSE signature (default: the key's SHA256: id).",
    ),
]
VerifierIdOption = Annotated[
    str | None,
    typer.Option("--verifier-id", metavar="URI", help="URI identifying this verifier (required with --vsa)."),
]
VsaPolicyUriOption = Annotated[
    str | None,
    typer.Option(
        "--vsa-policy-uri",
        metavar="URI",
        help="URI of the policy recorded in the VSA (default: file:POLICY).",
    ),
]
VsaPushOption = Annotated[
    bool,
    typer.Option(
        "--vsa-push", help="Attach each VSA to its image as an OCI referrer (fallback tag if needed)."
    ),
]
VsaPushCosignOption = Annotated[
    bool,
    typer.Option("--vsa-push-cosign", help="With --vsa-push: also add it to cosign's sha256-HEX.att tag."),
]
AcceptVsaOption = Annotated[
    list[Path],
    typer.Option(
        "--accept-vsa",
        metavar="FILE",
        help="Public key of a trusted VSA signer (repeatable): an image with a fresh, valid VSA for this "
        "policy passes by it instead of being evaluated.",
    ),
]
VsaMaxAgeOption = Annotated[
    str | None,
    typer.Option(
        "--vsa-max-age",
        metavar="DURATION",
        help="Oldest VSA --accept-vsa trusts (30m, 12h, 7d, 2w; default 7d).",
    ),
]


@dataclass
class CheckVsaFlags:
    vsa: Path | None
    vsa_key: Path | None
    vsa_key_id: str | None
    verifier_id: str | None
    policy_uri: str | None
    push: bool
    push_cosign: bool
    accept: list[Path]
    max_age: str | None

    def validate(self, *, targets: list[str], subject: str | None) -> None:
        """Flag combinations, before anything is read (exit 2)."""
        if self.vsa is None:
            for flag, value in (
                ("--vsa-key", self.vsa_key),
                ("--vsa-key-id", self.vsa_key_id),
                ("--vsa-policy-uri", self.policy_uri),
                ("--vsa-push", self.push or None),
            ):
                if value is not None:
                    raise ConfigError(f"{flag} goes with --vsa PATH")
        else:
            if self.vsa_key is None:
                raise ConfigError("--vsa needs --vsa-key KEY: a VSA is only worth its signature")
            if self.verifier_id is None:
                raise ConfigError("--vsa needs --verifier-id URI (who verified)")
            if not targets and subject is None:
                raise ConfigError("--vsa needs a digest to attest: a TARGET, --subject or --artifact")
        if self.push_cosign and not self.push:
            raise ConfigError("--vsa-push-cosign goes with --vsa-push")
        if self.push and any(t.startswith("oci:") for t in targets):
            raise ConfigError("--vsa-push attaches VSAs in a registry; oci: layouts cannot take them")
        if self.push and not targets:
            raise ConfigError("--vsa-push needs registry images as TARGETs")
        if self.max_age is not None and not self.accept:
            raise ConfigError("--vsa-max-age goes with --accept-vsa KEY")
        if self.verifier_id is not None:
            from slsalint.vsa.produce import check_verifier_id

            self.verifier_id = check_verifier_id(self.verifier_id)

    def acceptance(self, options: LintOptions, digest: str | None) -> VsaAcceptance | None:
        if not self.accept:
            return None
        from slsalint.vsa.accept import VsaAcceptance

        assert digest is not None
        return VsaAcceptance(
            keys=load_public_keys(self.accept, "--accept-vsa"),
            max_age=parse_duration(self.max_age or "7d", "--vsa-max-age"),
            policy_digest=digest,
            verifier_id=self.verifier_id,
            warning_days=options.policy.exceptions_warning_days,
        )

    def settings(self, options: LintOptions, digest: str | None) -> VsaSettings | None:
        if self.vsa is None:
            return None
        from slsalint.vsa.keys import load_signing_key
        from slsalint.vsa.produce import VsaSettings, check_verifier_id, default_policy_uri

        assert self.vsa_key is not None and self.verifier_id is not None and digest is not None
        packs = list(options.packs or options.policy.packs)
        policy_uri = self.policy_uri or default_policy_uri(options.policy.path, packs)
        return VsaSettings(
            path=self.vsa,
            key=load_signing_key(self.vsa_key, key_id=self.vsa_key_id),
            verifier_id=self.verifier_id,
            policy_uri=check_verifier_id(policy_uri, "--vsa-policy-uri"),
            policy_digest=digest,
            push=self.push,
            push_cosign=self.push_cosign,
        )

    @property
    def wanted(self) -> bool:
        return self.vsa is not None or bool(self.accept)


def produce(report: Report, resources: list[str], settings: VsaSettings, options: LintOptions) -> None:
    """Write (and push) the VSAs of a finished check; one line on stderr per image."""
    from slsalint.vsa.produce import make_vsas, write_vsas

    now = dt.datetime.now(dt.UTC)
    produced = make_vsas(report, resources, settings, now=now)
    if not produced:
        return
    written = write_vsas(produced, settings.path)
    pushed: dict[int, str] = {}
    if settings.push:
        from slsalint.engine import open_client
        from slsalint.sources.oci import Descriptor
        from slsalint.sources.reference import parse_reference
        from slsalint.vsa.predicate import rfc3339
        from slsalint.vsa.registry import push_vsa

        with open_client(options.registry) as client:
            for number, item in enumerate(produced):
                ref = parse_reference(item.result.target.reference)
                digest = item.subject_digest
                manifest = client.get_manifest(ref, digest)
                result = push_vsa(
                    client,
                    ref,
                    Descriptor(manifest.media_type, digest, len(manifest.data)),
                    item.line.rstrip(b"\n"),
                    cosign=settings.push_cosign,
                    created=rfc3339(now),
                )
                where = f"pushed as referrer {result.referrer}"
                if result.fallback_tag:
                    where += f" (fallback tag {result.fallback_tag})"
                if result.cosign_tag:
                    where += f" and to {result.cosign_tag}"
                pushed[number] = where
    files = ", ".join(str(p) for p in written)
    for number, item in enumerate(produced):
        verdict = item.statement["predicate"]["verificationResult"]
        levels = ", ".join(item.statement["predicate"]["verifiedLevels"]) or "no SLSA level"
        extra = f"; {pushed[number]}" if number in pushed else ""
        note(f"VSA for {item.resource}: {verdict} ({levels}) in {files}{extra}")


def notes(acceptance: VsaAcceptance | None) -> None:
    if acceptance is None:
        return
    for reference, why in acceptance.notes:
        note(f"{reference}: no VSA accepted, checked in full: {why}")


# -- verify-vsa -----------------------------------------------------------------------------------


def verify_vsa(
    image: str | None = typer.Argument(
        None, metavar="[IMAGE]", help="Registry image whose attached VSAs to verify (or --attestation-path)."
    ),
    subject_digest: list[str] = typer.Option(
        [],
        "--subject-digest",
        metavar="DIGEST",
        help="Digest ALG:VALUE the VSA must name (repeatable; default: the IMAGE's).",
    ),
    attestation_path: Path | None = typer.Option(
        None,
        "--attestation-path",
        metavar="FILE",
        help="VSA file: a DSSE envelope or .intoto.jsonl (one per line).",
    ),
    verifier_id: str | None = typer.Option(
        None, "--verifier-id", metavar="URI", help="Expected verifier.id (required)."
    ),
    resource_uri: str | None = typer.Option(
        None,
        "--resource-uri",
        metavar="URI",
        help="Expected resourceUri (required; default with IMAGE: the IMAGE as given).",
    ),
    verified_level: list[str] = typer.Option(
        [],
        "--verified-level",
        metavar="LEVEL",
        help="Level the VSA must claim, e.g. SLSA_BUILD_LEVEL_2 (repeatable).",
    ),
    public_key_path: Path | None = typer.Option(
        None, "--public-key-path", metavar="FILE", help="PEM public key of the verifier (required)."
    ),
    public_key_id: str | None = typer.Option(
        None,
        "--public-key-id",
        metavar="ID",
        help="Key id of the public key (default: its SHA256: fingerprint).",
    ),
    max_age: str | None = typer.Option(
        None, "--max-age", metavar="DURATION", help="Refuse VSAs older than this (7d, 12h)."
    ),
    policy_digest: str | None = typer.Option(
        None, "--policy-digest", metavar="DIGEST", help="Expected policy digest sha256:HEX (see docs/vsa.md)."
    ),
    fmt: list[str] = typer.Option(
        [], "--format", "-f", metavar="FORMAT[=FILE]", help="text, json, sarif, junit or markdown (=PATH)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report to this file."
    ),
    insecure_registry: InsecureRegistryOption = [],  # noqa: B006 (typer copies the default)
    registry_ca: RegistryCaOption = [],  # noqa: B006
    no_cache: NoCacheOption = False,
    no_color: bool = typer.Option(False, "--no-color", help="No colour in text output."),
) -> None:
    """Verify SLSA Verification Summary Attestations like slsa-verifier verify-vsa.

    Exit 0 when a VSA passes every check, 1 with findings (SL601-SL609, SL104, SL105), 2 for bad
    flags or keys, 3 when the registry could not be read.

    Examples:

    \b
      slsalint verify-vsa ghcr.io/org/app@sha256:HEX --verifier-id https://ci.example.com/slsalint \\
        --public-key-path vsa.pub --verified-level SLSA_BUILD_LEVEL_3
      slsalint verify-vsa --attestation-path vsa.intoto.jsonl --subject-digest sha256:HEX \\
        --resource-uri ghcr.io/org/app --verifier-id https://ci.example.com/slsalint \\
        --public-key-path vsa.pub --format json
    """
    from slsalint import __version__
    from slsalint.checks import builtin_rules
    from slsalint.model import Level, PlatformTarget, Report, Target, TargetResult
    from slsalint.report import render
    from slsalint.vsa.verify import Expectations, findings, judge

    outputs = parse_outputs(fmt, output)
    if (image is None) == (attestation_path is None):
        raise ConfigError("give either an IMAGE or --attestation-path FILE")
    if verifier_id is None:
        raise ConfigError("--verifier-id is required")
    if public_key_path is None:
        raise ConfigError("--public-key-path is required")
    if image is None and resource_uri is None:
        raise ConfigError("--resource-uri is required with --attestation-path")
    if image is None and not subject_digest:
        raise ConfigError("--subject-digest is required with --attestation-path")
    digests = []
    for value in subject_digest:
        algorithm, sep, rest = value.strip().partition(":")
        if not sep or not algorithm or not rest:
            raise ConfigError(f"--subject-digest {value!r}: expected <digest type>:<digest value>")
        digests.append(f"{algorithm}:{rest}")
    if policy_digest is not None and not re.fullmatch(r"sha256:[0-9a-f]{64}", policy_digest):
        raise ConfigError(f"--policy-digest {policy_digest!r}: expected sha256:<64 hex digits>")
    if public_key_id is not None and not public_key_id.strip():
        public_key_id = None
    keys = load_public_keys([public_key_path], "--public-key-path")
    expect = Expectations(
        subject_digests=digests,
        verifier_id=verifier_id,
        resource_uri=resource_uri if resource_uri is not None else image,
        keys=keys,
        key_id=public_key_id,
        levels=list(verified_level),
        max_age=parse_duration(max_age, "--max-age") if max_age is not None else None,
        policy_digest=policy_digest,
    )
    if image is not None:
        candidates, label, top = _image_candidates(
            image, expect, insecure_registry, registry_ca_option(registry_ca), no_cache
        )
    else:
        assert attestation_path is not None
        candidates, label, top = _file_candidates(attestation_path), str(expect.resource_uri), None
    judgements = [judge(c, expect) for c in candidates]
    subject = top or (expect.subject_digests[0] if expect.subject_digests else "")
    found = findings(judgements, image=label, digest=subject or None)
    rule_ids = {"SL104", "SL105"} | {f"SL60{n}" for n in range(1, 10)}
    target = Target(
        reference=label, kind="artifact", index_digest=None, platforms=[PlatformTarget(subject, None)]
    )
    report = Report(
        tool_version=__version__,
        results=[TargetResult(target=target, findings=found)],
        rules=[m for m in builtin_rules() if m.id in rule_ids],
        fail_on=Level.ERROR,
    )
    width = shutil.get_terminal_size((100, 24)).columns
    for out in outputs:
        if out.path is None:
            from slsalint.report import ReportOptions

            color = out.fmt == "text" and not no_color and use_color(sys.stdout)
            text = render(report, out.fmt, color=color, width=width, options=ReportOptions(quiet=STATE.quiet))
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        else:
            write_output(out.path, render(report, out.fmt, color=False, width=100))
    sys.stdout.flush()
    if not STATE.quiet:
        sys.stderr.write(f"Verifying VSA: {'PASSED' if not found else 'FAILED'}\n")
    raise typer.Exit(report.exit_code)


def _file_candidates(path: Path) -> list[Candidate]:
    from slsalint import fileio
    from slsalint.model import EvidenceSource
    from slsalint.vsa.verify import MAX_CANDIDATES, Candidate, split_lines

    try:
        data = fileio.read_bytes(path)
    except fileio.FileReadError as exc:
        if exc.problem.startswith("read failed"):
            raise OperationalError(f"--attestation-path {exc}") from None
        raise ConfigError(f"--attestation-path {exc}") from None
    lines = split_lines(data)
    if len(lines) > MAX_CANDIDATES:
        raise ConfigError(f"--attestation-path {path}: more than {MAX_CANDIDATES} envelopes")
    many = len(lines) > 1
    return [
        Candidate(EvidenceSource("file", f"{path}:{n}" if many else str(path)), line)
        for n, line in enumerate(lines, start=1)
    ]


def _image_candidates(
    image: str, expect: object, insecure: list[str], registry_ca: tuple[bytes, ...], no_cache: bool
) -> tuple[list[Candidate], str, str]:
    from slsalint.engine import RegistrySettings, open_client
    from slsalint.sources.reference import parse_reference
    from slsalint.sources.registry import insecure_hosts
    from slsalint.sources.remote import RemoteCollector
    from slsalint.vsa.registry import find_vsas
    from slsalint.vsa.verify import Expectations

    assert isinstance(expect, Expectations)
    if image.startswith("oci:"):
        raise ConfigError("verify-vsa reads VSAs attached in a registry; for a file give --attestation-path")
    ref = parse_reference(image)
    settings = RegistrySettings(
        insecure=insecure_hosts(insecure), registry_ca=registry_ca, use_cache=not no_cache
    )
    with open_client(settings) as client:
        resolved = RemoteCollector(client).resolve(ref)
        if resolved.digest not in expect.subject_digests:
            expect.subject_digests.insert(0, resolved.digest)
        pinned = ref.with_digest(resolved.digest)
        return list(find_vsas(client, pinned, resolved.digest)), image, resolved.digest
